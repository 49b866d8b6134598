//! The access guard in front of everything: only `/login`, `/setup`, the health checks and
//! the static assets are open. Every other page needs a signed-in admin (else a redirect to
//! the login page that comes back afterwards, or to `/setup` before the first admin
//! exists); every server function needs one too (else 401). The scanner API
//! (`/api/v1/scans`) passes here and authenticates with its own tokens (`scans_api.rs`).
//!
//! The guard decides by the path as sent, so it first refuses any path with a `.` or `..`
//! segment (plainly or percent-encoded): `/pkg/../settings/connection` starts with the
//! open `/pkg/` but names a page. Browsers never send such paths (they resolve them first).

use crate::auth::Auth;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use std::sync::Arc;

/// Paths anyone may reach.
pub const OPEN_PATHS: &[&str] = &[
    "/login",
    "/setup",
    "/healthz",
    "/readyz",
    "/favicon.svg",
    "/api/login",
    "/api/setup_admin",
    "/api/load_login_page",
    "/api/load_setup_page",
    "/api/current_admin",
];

/// Static assets (the wasm, JavaScript and CSS) are open too.
pub const OPEN_PREFIXES: &[&str] = &["/pkg/"];

/// The scanner API authenticates with its own tokens, not sessions.
pub const TOKEN_PREFIX: &str = "/api/v1/";

/// The health checks answer without looking at a session: a monitor sends none, and
/// `/healthz` must answer whatever state the database is in.
pub const HEALTH_PATHS: &[&str] = &["/healthz", "/readyz"];

/// The open pages: they load data too, so they are not served while the database is gone.
pub const OPEN_PAGES: &[&str] = &["/login", "/setup"];

/// Said when the database does not answer.
pub const DATABASE_GONE: &str = "The database does not answer. Try again in a moment; if this \
     lasts, the server's log says why.";

/// Said to a request whose path has a dot segment.
pub const DOT_SEGMENT_REFUSAL: &str =
    "Paths with a dot segment (\".\" or \"..\", plain or percent-encoded) are refused.";

/// Whether `path` is open to anyone. Never a path with a dot segment, whatever it starts with.
pub fn is_open(path: &str) -> bool {
    !has_dot_segment(path)
        && (OPEN_PATHS.contains(&path) || OPEN_PREFIXES.iter().any(|p| path.starts_with(p)))
}

/// Whether a segment of `path` is `.` or `..`, written plainly or with `%2e`/`%2E`.
pub fn has_dot_segment(path: &str) -> bool {
    path.split('/').any(|segment| {
        let decoded = segment.replace("%2e", ".").replace("%2E", ".");
        decoded == "." || decoded == ".."
    })
}

pub async fn guard(State(auth): State<Arc<Auth>>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    if has_dot_segment(&path) {
        return (StatusCode::BAD_REQUEST, DOT_SEGMENT_REFUSAL).into_response();
    }
    // `/metrics` checks its own API token, as the scanner API does; no session is read.
    if HEALTH_PATHS.contains(&path.as_str()) || path == crate::metrics::PATH {
        return next.run(request).await;
    }
    let info = auth.request_info(&request);
    let admin = match &info.session_id {
        Some(id) => match auth.session(id).await {
            Ok(admin) => admin,
            Err(error) => return database_gone(&error, "could not read a session"),
        },
        None => None,
    };
    request.extensions_mut().insert(info);
    if let Some(admin) = admin {
        request.extensions_mut().insert(admin);
        return next.run(request).await;
    }
    if is_open(&path) || path.starts_with(TOKEN_PREFIX) {
        // An open page that cannot load its data would render as an empty shell: say why.
        // `/login` before the admin exists leads to `/setup`, and `/setup` after to `/login`.
        if OPEN_PAGES.contains(&path.as_str()) {
            match auth.admin_exists().await {
                Err(error) => return database_gone(&error, "could not count the admins"),
                Ok(false) if path == "/login" => return Redirect::to("/setup").into_response(),
                Ok(true) if path == "/setup" => return Redirect::to("/login").into_response(),
                Ok(_) => {}
            }
        }
        return next.run(request).await;
    }
    let is_page =
        !path.starts_with("/api/") && matches!(*request.method(), Method::GET | Method::HEAD);
    if !is_page {
        return (StatusCode::UNAUTHORIZED, "Sign in first.").into_response();
    }
    match auth.admin_exists().await {
        Ok(false) => Redirect::to("/setup").into_response(),
        Ok(true) => {
            let back = request
                .uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            Redirect::to(&format!("/login?next={}", encode(back))).into_response()
        }
        Err(error) => database_gone(&error, "could not count the admins"),
    }
}

/// 503 with a reason the reader can act on; the error itself goes to the log only, since
/// it may name files and SQL.
fn database_gone(error: &anyhow::Error, what: &'static str) -> Response {
    tracing::error!(error = format!("{error:#}"), "{what}");
    (StatusCode::SERVICE_UNAVAILABLE, DATABASE_GONE).into_response()
}

/// Whether the request came over https: directly, or through a proxy that says so with
/// `X-Forwarded-Proto: https`. The one place this is decided (cookies, HSTS, origins).
pub fn came_over_https(request: &Request) -> bool {
    let forwarded_https = request
        .headers()
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"));
    forwarded_https || request.uri().scheme_str() == Some("https")
}

fn encode(path: &str) -> String {
    url::form_urlencoded::byte_serialize(path.as_bytes()).collect()
}
