//! Security headers on every answer. The Content-Security-Policy allows only this site,
//! plus `'wasm-unsafe-eval'` for the WebAssembly; the inline scripts (the one that starts the
//! WebAssembly, `app/src/site_assets.rs`, and Leptos's with each page's data) carry a nonce
//! made here for each response, so no `'unsafe-inline'`.
//!
//! Over https, `Strict-Transport-Security` tells the browser to come back over https only.
//! How long an answer may be kept (`Cache-Control`) is `cache_policy.rs`'s.
//!
//! A middleware of its own rather than tower-http's `SetResponseHeader`: the policy carries
//! a nonce made for each response, and `Strict-Transport-Security` depends on how the
//! request came.

use crate::http::access::came_over_https;
use crate::http::cross_site::SiteOrigins;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;

/// One year: browsers that saw the site over https keep to https that long.
pub const STRICT_TRANSPORT_SECURITY: &str = "max-age=31536000";

/// This response's nonce, for the page's inline scripts.
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

pub async fn add_security_headers(
    State(origins): State<Arc<SiteOrigins>>,
    mut request: Request,
    next: Next,
) -> Response {
    let over_https = origins.public_url_is_https() || came_over_https(&request);
    let nonce = crate::random::url_safe(16);
    request.extensions_mut().insert(CspNonce(nonce.clone()));
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; \
         base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        headers.insert("content-security-policy", value);
    }
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    if over_https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(STRICT_TRANSPORT_SECURITY),
        );
    }
    response
}
