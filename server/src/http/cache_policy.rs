//! How long a browser or a proxy may keep each answer (`Cache-Control`).
//!
//! - The site's files whose names carry their content's hash (`cargo leptos build` with
//!   `hash-files`: `/pkg/itsm-bridge.<hash>.wasm`) never change under that name: kept a
//!   year and never asked again (`immutable`). A new release has new names, which the
//!   pages it serves point to.
//! - Other static files (`/favicon.svg`, a site built without hashes) may change under
//!   their name: kept, but asked again each time (`no-cache`; the server answers 304
//!   while they are unchanged).
//! - Everything else — pages, server functions' answers, the API, refusals, a missing
//!   asset — holds settings, tokens shown once or the audit log, which no browser history
//!   or proxy should keep: `no-store`.

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

/// For a file whose name is its content's hash: a year, never revalidated.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// For a static file that may change under its name.
pub const REVALIDATE: &str = "no-cache";
/// For everything else.
pub const NO_STORE: &str = "no-store";

/// The folder of the built site's files (the wasm, its JavaScript, the CSS).
pub const PKG_PREFIX: &str = "/pkg/";

/// The static files the server serves outside `/pkg/` (from `public/`).
pub const STATIC_FILES: &[&str] = &["/favicon.svg"];

/// Sets `Cache-Control` on every answer, by its path and status, and `Vary: Accept-Encoding`
/// on the site's files: each is sent as its brotli or gzip copy, or as it is, by what the
/// browser accepts, so a shared cache must keep one answer per encoding.
pub async fn set_cache_policy(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let mut response = next.run(request).await;
    let policy = policy_for(&path, response.status());
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    if policy != NO_STORE && path.starts_with(PKG_PREFIX) {
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

/// The policy for an answer to `path` with `status`.
pub fn policy_for(path: &str, status: StatusCode) -> &'static str {
    let served_file = status == StatusCode::OK
        || status == StatusCode::PARTIAL_CONTENT
        || status == StatusCode::NOT_MODIFIED;
    if !served_file {
        return NO_STORE;
    }
    match path.strip_prefix(PKG_PREFIX) {
        Some(name) if is_hashed_name(name) => IMMUTABLE,
        Some(_) => REVALIDATE,
        None if STATIC_FILES.contains(&path) => REVALIDATE,
        None => NO_STORE,
    }
}

/// Whether a file name carries a cargo-leptos content hash: one of its dot-separated parts
/// is 22 characters of URL-safe base64 (an MD5 digest), as in
/// `itsm-bridge.Xb3_q0kD9f-2LwMnA1bQzg.wasm`.
pub fn is_hashed_name(name: &str) -> bool {
    let mut parts = name.split('.');
    // The first part is the name itself and the last the extension, never the hash.
    let _stem = parts.next();
    let mut middle: Vec<&str> = parts.collect();
    middle.pop();
    middle.iter().any(|part| {
        part.len() == 22
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && part.bytes().any(|b| b != b'_')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_are_told_from_plain_ones() {
        assert!(is_hashed_name("itsm-bridge.Xb3_q0kD9f-2LwMnA1bQzg.wasm"));
        assert!(is_hashed_name("itsm-bridge.Xb3_q0kD9f-2LwMnA1bQzg.wasm.br"));
        assert!(is_hashed_name("__wasm_split.Xb3_q0kD9f-2LwMnA1bQzg.js"));
        assert!(!is_hashed_name("itsm-bridge.wasm"));
        assert!(!is_hashed_name("itsm-bridge_bg.wasm"));
        // The placeholder cargo-leptos writes before it hashes is not a hash.
        assert!(!is_hashed_name("__wasm_split.______________________.js"));
        assert!(!is_hashed_name("Xb3_q0kD9f-2LwMnA1bQzg.wasm"));
    }

    #[test]
    fn only_a_served_hashed_file_is_kept_a_year() {
        let hashed = "/pkg/itsm-bridge.Xb3_q0kD9f-2LwMnA1bQzg.wasm";
        assert_eq!(policy_for(hashed, StatusCode::OK), IMMUTABLE);
        assert_eq!(policy_for(hashed, StatusCode::NOT_MODIFIED), IMMUTABLE);
        assert_eq!(policy_for(hashed, StatusCode::NOT_FOUND), NO_STORE);
        assert_eq!(
            policy_for("/pkg/itsm-bridge.wasm", StatusCode::OK),
            REVALIDATE
        );
        assert_eq!(policy_for("/favicon.svg", StatusCode::OK), REVALIDATE);
        assert_eq!(policy_for("/settings/connection", StatusCode::OK), NO_STORE);
        assert_eq!(
            policy_for("/api/load_itsm_settings", StatusCode::OK),
            NO_STORE
        );
    }
}
