//! What the page benchmarks share: the real server on a fresh database in a temporary
//! folder (no scheduler), an admin set up and signed in, a count read from the environment,
//! the machine's cores, and the time their rows took to write.

use server::auth::SystemClock;
use server::configuration::Config;
use server::startup::Application;
use std::sync::Arc;
use std::time::Instant;

const ADMIN: &str = "admin";
const PASSWORD: &str = "correct horse battery staple";

/// A started server and a client signed in to it as the admin.
pub struct SignedIn {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    /// The server's own pool, to write the benchmark's rows straight into the tables.
    pub pool: sqlx::SqlitePool,
    /// Keeps the session cookie; follows no redirect.
    pub client: reqwest::Client,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    /// Deleted when the benchmark ends.
    _folder: tempfile::TempDir,
}

/// Starts the server and signs in (after the first-run setup).
pub async fn start_and_sign_in() -> SignedIn {
    let folder = tempfile::tempdir().unwrap();
    let mut config =
        Config::with_database(folder.path().join("itsm-bridge.db").display().to_string());
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.site_root = folder.path().join("site");
    config.no_scheduler = true;
    let app = Application::build_with_clock(&config, Arc::new(SystemClock))
        .await
        .unwrap();
    let address = format!("http://{}", app.local_addr());
    let pool = app.pool();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    sign_in(&client, &address, folder.path()).await;
    SignedIn {
        address,
        pool,
        client,
        stop,
        server,
        _folder: folder,
    }
}

impl SignedIn {
    /// Stops the server and waits for it.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.server.await.unwrap().unwrap();
    }
}

async fn sign_in(client: &reqwest::Client, address: &str, folder: &std::path::Path) {
    let token = std::fs::read_to_string(folder.join("itsm-bridge.setup-token")).unwrap();
    let setup = client
        .post(format!("{address}/api/setup_admin"))
        .form(&[
            ("form[setup_token]", token.trim()),
            ("form[username]", ADMIN),
            ("form[password]", PASSWORD),
            ("form[password_confirm]", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(setup.status(), 200);
    let login = client
        .post(format!("{address}/api/login"))
        .form(&[
            ("form[username]", ADMIN),
            ("form[password]", PASSWORD),
            ("form[next]", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
}

/// The positive number in the environment variable `name`, else `default`.
pub fn count_from_env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(default)
}

/// The cores this machine offers (0 if it cannot say), for the benchmark's first line.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(0, |n| n.get())
}

/// Waits for `seed` (rows written straight into the tables), then says how long writing
/// `what` took.
pub async fn seed_timed(what: &str, seed: impl Future<Output = ()>) {
    let started = Instant::now();
    seed.await;
    println!("seeded {what} in {:.1} s", started.elapsed().as_secs_f64());
}
