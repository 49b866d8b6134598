//! The built site's files: precompressed copies served to browsers that accept them, hashed
//! names kept a year, pages never kept. Each test builds a small site of its own, as
//! `cargo leptos build --release --precompress` with `hash-files` lays it out.

use crate::helpers::*;
use server::configuration::Config;
use server::startup::Application;
use std::path::Path;

const JS_HASH: &str = "jsjsjsjsjsjsjsjsjsjs01";
const WASM_HASH: &str = "wAsM_wAsM-wAsM_wAsM-02";
const CSS_HASH: &str = "cssCSScssCSScssCSSc-03";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// What the files hold: each copy differs, so a test can tell which one was sent.
const WASM: &[u8] = b"\0asm the raw module";
const WASM_BR: &[u8] = b"the brotli copy";
const WASM_GZ: &[u8] = b"the gzip copy";

fn wasm_path() -> String {
    format!("/pkg/itsm-bridge.{WASM_HASH}.wasm")
}

/// A site with hashed names, a precompressed wasm and the hash list, in `root`.
fn build_site(root: &Path) {
    let pkg = root.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    let wasm = pkg.join(format!("itsm-bridge.{WASM_HASH}.wasm"));
    std::fs::write(&wasm, WASM).unwrap();
    std::fs::write(wasm.with_extension("wasm.br"), WASM_BR).unwrap();
    std::fs::write(wasm.with_extension("wasm.gz"), WASM_GZ).unwrap();
    std::fs::write(pkg.join(format!("itsm-bridge.{JS_HASH}.js")), "export {};").unwrap();
    std::fs::write(pkg.join(format!("itsm-bridge.{CSS_HASH}.css")), "body {}").unwrap();
    std::fs::write(
        root.join("hash.txt"),
        format!("js: {JS_HASH}\nwasm: {WASM_HASH}\ncss: {CSS_HASH}\n"),
    )
    .unwrap();
}

async fn app_with_site() -> TestApp {
    let folder = tempfile::tempdir().unwrap();
    build_site(&folder.path().join("site"));
    spawn_app_in(folder).await
}

/// The setup page: open, and its head names the site's files.
async fn get_setup_page(app: &TestApp) -> reqwest::Response {
    app.client
        .get(format!("{}/setup", app.address))
        .send()
        .await
        .unwrap()
}

async fn get_wasm(app: &TestApp, accept_encoding: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(format!("{}{}", app.address, wasm_path()));
    if let Some(encodings) = accept_encoding {
        request = request.header("Accept-Encoding", encodings);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200, "{accept_encoding:?}");
    response
}

#[tokio::test]
async fn the_wasm_comes_precompressed_as_the_browser_accepts() {
    let app = app_with_site().await;

    let brotli = get_wasm(&app, Some("gzip, deflate, br, zstd")).await;
    assert_eq!(brotli.headers()["content-encoding"], "br");
    // A shared cache keeps one answer per encoding, never brotli for a browser without it.
    assert_eq!(brotli.headers()["vary"], "accept-encoding");
    assert_eq!(brotli.headers()["content-type"], "application/wasm");
    assert_eq!(brotli.bytes().await.unwrap(), WASM_BR);

    let gzip = get_wasm(&app, Some("gzip")).await;
    assert_eq!(gzip.headers()["content-encoding"], "gzip");
    assert_eq!(gzip.bytes().await.unwrap(), WASM_GZ);

    let plain = get_wasm(&app, None).await;
    assert!(plain.headers().get("content-encoding").is_none());
    assert_eq!(plain.headers()["vary"], "accept-encoding");
    assert_eq!(plain.bytes().await.unwrap(), WASM);
}

#[tokio::test]
async fn hashed_files_are_kept_a_year_and_pages_never() {
    let app = app_with_site().await;
    for encodings in [Some("br"), Some("gzip"), None] {
        let wasm = get_wasm(&app, encodings).await;
        assert_eq!(wasm.headers()["cache-control"], IMMUTABLE, "{encodings:?}");
    }

    // The page points to the hashed names: a new release's pages load its own files.
    let page = get_setup_page(&app).await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "no-store");
    let html = page.text().await.unwrap();
    for file in [
        wasm_path(),
        format!("/pkg/itsm-bridge.{JS_HASH}.js"),
        format!("/pkg/itsm-bridge.{CSS_HASH}.css"),
    ] {
        assert!(html.contains(&file), "the page does not load {file}");
    }

    // A name that is not there is no file to keep.
    let missing = app
        .client
        .get(format!(
            "{}/pkg/itsm-bridge.AAAAAAAAAAAAAAAAAAAAAA.wasm",
            app.address
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(missing.headers()["cache-control"], "no-store");
}

/// The file names come from the hash list as it was when the server started: it is read
/// once, not on every page (reading it took a fifth or more of a page's CPU time). The
/// page's module script, with the response's nonce, imports the JavaScript, which loads
/// the WebAssembly and hydrates the page.
#[tokio::test]
async fn the_hash_list_is_read_once_when_the_server_starts() {
    let folder = tempfile::tempdir().unwrap();
    let site = folder.path().join("site");
    build_site(&site);
    let app = spawn_app_in(folder).await;
    std::fs::write(
        site.join("hash.txt"),
        "js: changedJS\nwasm: changedWASM\ncss: changedCSS\n",
    )
    .unwrap();

    let page = get_setup_page(&app).await;
    // The script runs under the page's Content-Security-Policy only with its nonce.
    let policy = page.headers()["content-security-policy"].to_str().unwrap();
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce in the policy")
        .to_string();
    let html = page.text().await.unwrap();
    let js = format!("/pkg/itsm-bridge.{JS_HASH}.js");
    let script = format!(
        r#"<script type="module" nonce="{nonce}">import("{js}").then((m) => m.default({{ module_or_path: "{}" }}).then(() => m.hydrate()));</script>"#,
        wasm_path()
    );
    assert!(html.contains(&script), "no hydration script in {html}");
    assert!(html.contains(&format!(r#"<link rel="modulepreload" href="{js}""#)));
    assert!(html.contains(&format!("/pkg/itsm-bridge.{CSS_HASH}.css")));
    assert!(!html.contains("changed"), "{html}");
}

/// A broken hash list stops the start with the file named: every page would load nothing.
#[tokio::test]
async fn a_broken_hash_list_stops_the_start_naming_the_file() {
    let folder = tempfile::tempdir().unwrap();
    let site = folder.path().join("site");
    build_site(&site);
    std::fs::write(site.join("hash.txt"), "js: <script>\n").unwrap();
    let mut config =
        Config::with_database(folder.path().join("itsm-bridge.db").display().to_string());
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.site_root = site;
    let Err(error) = Application::build(&config).await else {
        panic!("started with a broken hash list");
    };
    let error = format!("{error:#}");
    assert!(error.contains("hash.txt"), "{error}");
}
