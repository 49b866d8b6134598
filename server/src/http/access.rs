//! The access guard in front of everything: only `/login`, `/setup`, the health checks and
//! the static assets are open. Every other page needs a signed-in admin (else a redirect to
//! the login page that comes back afterwards, or to `/setup` before the first admin
//! exists); every server function needs one too (else 401). The scanner API, when it comes,
//! authenticates with its own tokens.

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

pub fn is_open(path: &str) -> bool {
    OPEN_PATHS.contains(&path) || OPEN_PREFIXES.iter().any(|p| path.starts_with(p))
}

pub async fn guard(State(auth): State<Arc<Auth>>, mut request: Request, next: Next) -> Response {
    let info = auth.request_info(&request);
    let path = request.uri().path().to_string();
    let admin = match &info.session_id {
        Some(id) => match auth.session(id).await {
            Ok(admin) => admin,
            Err(error) => {
                tracing::error!(error = format!("{error:#}"), "could not read a session");
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The database does not answer.",
                )
                    .into_response();
            }
        },
        None => None,
    };
    request.extensions_mut().insert(info);
    if let Some(admin) = admin {
        request.extensions_mut().insert(admin);
        return next.run(request).await;
    }
    if is_open(&path) || path.starts_with(TOKEN_PREFIX) {
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
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "could not count the admins");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "The database does not answer.",
            )
                .into_response()
        }
    }
}

fn encode(path: &str) -> String {
    url::form_urlencoded::byte_serialize(path.as_bytes()).collect()
}
