//! `spawn_app`: the real application on port 0 with a fresh database in a temporary folder.

use serde_json::Value;
use server::auth::{Clock, SystemClock};
use server::configuration::Config;
use server::startup::Application;
use std::path::PathBuf;
use std::sync::Arc;
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const GROUP: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
pub const USER: &str = "f9e8d7c6b5a4938271605f4e3d2c1b0a";
pub const CLIENT_SECRET: &str = "client-secret-Zq8v!x";
pub const PASSWORD: &str = "password-Kp3m#w";
pub const ADMIN: &str = "admin";
pub const ADMIN_PASSWORD: &str = "correct horse battery staple";

pub struct TestApp {
    pub address: String,
    pub folder: TempDir,
    pub client: reqwest::Client,
    /// The client's cookies, for requests sent by hand.
    cookies: Arc<reqwest::cookie::Jar>,
    /// The server's own pool, for sabotage: closing it takes the database away from it.
    pool: sqlx::SqlitePool,
    stop: oneshot::Sender<()>,
    server: JoinHandle<std::io::Result<()>>,
}

/// A fresh application with its admin account, and a client signed in as that admin.
pub async fn spawn_app() -> TestApp {
    let app = spawn_app_without_admin().await;
    app.create_admin().await;
    app.sign_in(ADMIN, ADMIN_PASSWORD).await;
    app
}

/// A fresh application on its first run: no admin yet.
pub async fn spawn_app_without_admin() -> TestApp {
    spawn_app_in(tempfile::tempdir().expect("a temporary folder")).await
}

/// Starts the application on the database in `folder` (kept from an earlier run, or new).
pub async fn spawn_app_in(folder: TempDir) -> TestApp {
    spawn_app_with_clock(folder, Arc::new(SystemClock)).await
}

/// Starts the application with the clock its sessions and throttling read.
pub async fn spawn_app_with_clock(folder: TempDir, clock: Arc<dyn Clock>) -> TestApp {
    spawn_app_configured(folder, clock, |_| {}).await
}

/// A fresh application with its admin, signed in, with `adjust` applied to its configuration.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let app = spawn_app_configured(folder, Arc::new(SystemClock), adjust).await;
    app.create_admin().await;
    app.sign_in(ADMIN, ADMIN_PASSWORD).await;
    app
}

pub async fn spawn_app_configured(
    folder: TempDir,
    clock: Arc<dyn Clock>,
    adjust: impl FnOnce(&mut Config),
) -> TestApp {
    let mut config =
        Config::with_database(folder.path().join("itsm-bridge.db").display().to_string());
    config.listen = "127.0.0.1:0".parse().expect("an address");
    config.site_root = folder.path().join("site");
    adjust(&mut config);
    let app = Application::build_with_clock(&config, clock)
        .await
        .expect("the application starts");
    let address = format!("http://{}", app.local_addr());
    let pool = app.pool();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    let cookies = Arc::new(reqwest::cookie::Jar::default());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_provider(cookies.clone())
        .build()
        .expect("an HTTP client");
    TestApp {
        address,
        folder,
        client,
        cookies,
        pool,
        stop,
        server,
    }
}

impl TestApp {
    pub fn setup_token(&self) -> String {
        std::fs::read_to_string(self.folder.path().join("itsm-bridge.setup-token"))
            .expect("a setup-token file")
            .trim()
            .to_string()
    }

    /// Creates the admin account through `/api/setup_admin`, as a script would.
    pub async fn create_admin(&self) {
        let token = self.setup_token();
        let response = self
            .call(
                "setup_admin",
                &[
                    ("form[setup_token]", token.as_str()),
                    ("form[username]", ADMIN),
                    ("form[password]", ADMIN_PASSWORD),
                    ("form[password_confirm]", ADMIN_PASSWORD),
                ],
            )
            .await;
        assert_eq!(
            response.status(),
            200,
            "setup: {}",
            response.text().await.unwrap_or_default()
        );
    }

    /// Signs this app's client in; the session cookie stays in its cookie store.
    pub async fn sign_in(&self, username: &str, password: &str) -> reqwest::Response {
        self.call(
            "login",
            &[
                ("form[username]", username),
                ("form[password]", password),
                ("form[next]", "/"),
            ],
        )
        .await
    }

    /// Stops the server (gracefully, closing the database) and hands back its folder.
    pub async fn stop(self) -> TempDir {
        let _ = self.stop.send(());
        self.server
            .await
            .expect("the server task ends")
            .expect("the server stops cleanly");
        self.folder
    }

    /// Stops the server and starts it again on the same database, signed in again.
    pub async fn restart(self) -> TestApp {
        let app = spawn_app_in(self.stop().await).await;
        app.sign_in(ADMIN, ADMIN_PASSWORD).await;
        app
    }

    /// A second connection to the app's database, for looking and for setting up.
    pub async fn database(&self) -> sqlx::SqlitePool {
        server::database::open(&self.folder.path().join("itsm-bridge.db"))
            .await
            .expect("the database opens")
    }

    /// Takes the database away from the running server, as a lost disk or a closed pool
    /// would: every query it makes from now on fails.
    pub async fn take_database_away(&self) {
        self.pool.close().await;
    }

    /// Sends `GET target` exactly as written (no URL normalisation, which reqwest would do
    /// to `..`), with this client's session cookie when `signed_in`; the status and body.
    pub async fn raw_get(&self, target: &str, signed_in: bool) -> (u16, String) {
        use reqwest::cookie::CookieStore;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let host = self.address.trim_start_matches("http://");
        let mut stream = tokio::net::TcpStream::connect(host)
            .await
            .expect("the server accepts");
        let cookie = if signed_in {
            let url = self.address.parse().expect("the app's URL");
            let jar = self.cookies.cookies(&url);
            jar.map(|c| format!("Cookie: {}\r\n", c.to_str().expect("ASCII cookies")))
                .unwrap_or_default()
        } else {
            String::new()
        };
        let request =
            format!("GET {target} HTTP/1.1\r\nHost: {host}\r\n{cookie}Connection: close\r\n\r\n");
        stream
            .write_all(request.as_bytes())
            .await
            .expect("the request is sent");
        let mut answer = Vec::new();
        stream
            .read_to_end(&mut answer)
            .await
            .expect("the answer is read");
        let answer = String::from_utf8_lossy(&answer).to_string();
        let status = answer
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status line in {answer:?}"));
        let body = answer
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_string())
            .unwrap_or_default();
        (status, body)
    }

    pub async fn api_token(&self) -> String {
        let pool = self.database().await;
        server::ingest::tokens::create(&pool, "test scanner", 0)
            .await
            .expect("a token")
            .1
    }

    /// Posts a scan to the scanner API.
    pub async fn post_scan(
        &self,
        query: &str,
        token: &str,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        self.client
            .post(format!("{}/api/v1/scans{query}", self.address))
            .bearer_auth(token)
            .body(body)
            .send()
            .await
            .expect("the server answers")
    }

    pub fn database_files(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.folder.path())
            .expect("the folder")
            .map(|e| e.expect("an entry").path())
            .filter(|p| p.to_string_lossy().contains("itsm-bridge.db"))
            .collect()
    }

    /// Calls a server function the way a hydrated page does (form-encoded, JSON back).
    pub async fn call(&self, endpoint: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(format!("{}/api/{endpoint}", self.address))
            .form(fields)
            .send()
            .await
            .expect("the server answers")
    }

    pub async fn call_json(&self, endpoint: &str, fields: &[(&str, &str)]) -> Value {
        let response = self.call(endpoint, fields).await;
        assert_eq!(
            response.status(),
            200,
            "{endpoint} answered {}",
            response.status()
        );
        response.json().await.expect("a JSON answer")
    }

    pub async fn save_connection(&self, fields: &[(&str, &str)]) -> Value {
        self.call_json("save_connection_settings", fields).await
    }

    pub async fn load_connection(&self) -> Value {
        self.call_json("load_connection_settings", &[]).await
    }

    pub async fn save_itsm(&self, fields: &[(&str, &str)]) -> Value {
        self.call_json("save_itsm_settings", fields).await
    }

    pub async fn load_itsm(&self) -> Value {
        self.call_json("load_itsm_settings", &[]).await
    }

    pub async fn get_text(&self, path: &str) -> (u16, String) {
        let response = self
            .client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("the server answers");
        let status = response.status().as_u16();
        (status, response.text().await.expect("a body"))
    }
}

/// The `itsm-bridge` binary as a command, without the configuration variables of the shell
/// that runs the tests (`DATABASE_URL`, `LEPTOS_*`, `ITSM_BRIDGE_*`): only its flags count.
pub fn itsm_bridge_command() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_itsm-bridge"));
    for (variable, _) in std::env::vars_os() {
        let name = variable.to_string_lossy();
        if name == "DATABASE_URL" || name.starts_with("LEPTOS_") || name.starts_with("ITSM_BRIDGE_")
        {
            command.env_remove(&variable);
        }
    }
    command
}

/// A file of real scanner output from `tests/fixtures/`, copied unchanged (see the README
/// there).
pub fn fixture(name: &str) -> Vec<u8> {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    std::fs::read(folder.join(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// Runs `itsm-bridge --database-url DATABASE ingest ARGS…` to its end.
pub fn ingest_command(database: &std::path::Path, args: &[&str]) -> std::process::Output {
    itsm_bridge_command()
        .arg("--database-url")
        .arg(database)
        .arg("ingest")
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("itsm-bridge runs")
}

/// Creates and migrates the database at `path`, as the server's first start does: the
/// commands refuse a database that does not exist.
pub async fn create_database(path: &std::path::Path) {
    server::database::open(path)
        .await
        .expect("the database opens")
        .close()
        .await;
}

/// A complete, valid connection form, with `overrides` replacing fields by name.
pub fn connection_form(
    overrides: &[(&'static str, &'static str)],
) -> Vec<(&'static str, &'static str)> {
    let mut fields = vec![
        ("form[instance_url]", "https://acme.service-now.com/"),
        ("form[client_id]", "itsm-bridge-client"),
        ("form[client_secret]", CLIENT_SECRET),
        ("form[group_sys_id]", GROUP),
        ("form[user_sys_id]", USER),
        ("form[user_id]", "svc.itsm"),
        ("form[password]", PASSWORD),
        ("form[duplicate_status]", "7"),
        ("form[duplicate_days]", "30"),
    ];
    for (name, value) in overrides {
        let key = format!("form[{name}]");
        let slot = fields
            .iter_mut()
            .find(|(n, _)| *n == key)
            .unwrap_or_else(|| panic!("no field {name}"));
        slot.1 = value;
    }
    fields
}
