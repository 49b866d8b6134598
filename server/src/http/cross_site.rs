//! Refuses cross-site requests that would change state. Leptos server functions check no
//! origin, so without this any web page could post to them from a signed-in browser.
//!
//! A browser says where a request comes from: `Sec-Fetch-Site` (all current browsers) and
//! `Origin` (on every POST). A state-changing request is refused with 403 when either says
//! it comes from another site. A request with neither comes from a program, not a browser
//! page, and passes (the scanner API authenticates those with tokens).
//!
//! `Origin` is compared whole, scheme included: the site's own origin is the scheme the
//! request came over (https directly or per `X-Forwarded-Proto`, else http) with its Host.
//! `http://itsm.example.com` is another site for `https://itsm.example.com`.
//!
//! This check stands in for a CSRF token crate (`axum_csrf` and the like): a token would have
//! to be put into every form and every server function call, hydrated or not, and kept per
//! session; the browser's own `Sec-Fetch-Site` and `Origin` headers say the same with no
//! state to keep (OWASP lists them as a defence of their own).

use crate::http::access::came_over_https;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// The origins this site answers as, besides the one in the request's own Host header.
#[derive(Clone, Debug, Default)]
pub struct SiteOrigins {
    /// `scheme://host[:port]` of the public URL, when a reverse proxy rewrites Host.
    pub public_origin: Option<String>,
}

impl SiteOrigins {
    pub fn new(public_url: Option<&str>) -> anyhow::Result<Self> {
        let public_origin = match public_url {
            None => None,
            Some(raw) => {
                let origin = crate::configuration::parse_public_url(raw)
                    .map_err(|reason| anyhow::anyhow!("The public URL {reason}"))?;
                Some(origin)
            }
        };
        Ok(Self { public_origin })
    }

    /// Whether the public URL is https: then the site is served over https whatever the
    /// proxy in front says.
    pub fn public_url_is_https(&self) -> bool {
        self.public_origin
            .as_deref()
            .is_some_and(|origin| origin.starts_with("https://"))
    }
}

pub async fn refuse_cross_site(
    State(origins): State<Arc<SiteOrigins>>,
    request: Request,
    next: Next,
) -> Response {
    if changes_state(request.method()) {
        let host = request
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .or_else(|| request.uri().authority().map(|a| a.as_str()));
        let scheme = if came_over_https(&request) {
            "https"
        } else {
            "http"
        };
        let own_origin = host.map(|host| format!("{scheme}://{host}"));
        if let Err(reason) = check(request.headers(), own_origin.as_deref(), &origins) {
            tracing::warn!(method = %request.method(), path = request.uri().path(), reason, "refused a cross-site request");
            return (StatusCode::FORBIDDEN, "Cross-site request refused.").into_response();
        }
    }
    next.run(request).await
}

fn changes_state(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// `own_origin` is `scheme://host[:port]` as this request reached the site.
fn check(
    headers: &HeaderMap,
    own_origin: Option<&str>,
    origins: &SiteOrigins,
) -> Result<(), &'static str> {
    if let Some(site) = headers.get("sec-fetch-site")
        && site.as_bytes() != b"same-origin"
    {
        return Err("Sec-Fetch-Site is not same-origin");
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().map_err(|_| "unreadable Origin")?;
    if origins.public_origin.as_deref() == Some(origin) {
        return Ok(());
    }
    match own_origin {
        Some(own) if own.eq_ignore_ascii_case(origin) => Ok(()),
        _ => Err("Origin differs from the site's own (scheme, host or port)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    const HOST: Option<&str> = Some("http://127.0.0.1:3000");

    #[test]
    fn same_origin_form_posts_pass() {
        let none = SiteOrigins::default();
        assert!(
            check(
                &headers(&[
                    ("origin", "http://127.0.0.1:3000"),
                    ("sec-fetch-site", "same-origin")
                ]),
                HOST,
                &none
            )
            .is_ok()
        );
        assert!(
            check(
                &headers(&[("origin", "http://127.0.0.1:3000")]),
                HOST,
                &none
            )
            .is_ok()
        );
    }

    #[test]
    fn programs_without_browser_headers_pass() {
        assert!(check(&headers(&[]), HOST, &SiteOrigins::default()).is_ok());
    }

    #[test]
    fn another_site_is_refused_by_either_header() {
        let none = SiteOrigins::default();
        assert!(check(&headers(&[("sec-fetch-site", "cross-site")]), HOST, &none).is_err());
        assert!(check(&headers(&[("sec-fetch-site", "same-site")]), HOST, &none).is_err());
        assert!(check(&headers(&[("origin", "https://evil.example")]), HOST, &none).is_err());
        assert!(check(&headers(&[("origin", "null")]), HOST, &none).is_err());
        assert!(
            check(
                &headers(&[("origin", "http://127.0.0.1:3001")]),
                HOST,
                &none
            )
            .is_err()
        );
    }

    #[test]
    fn the_scheme_is_part_of_the_origin() {
        let none = SiteOrigins::default();
        let https_site = Some("https://itsm.example.com");
        let from = |origin: &'static str| headers(&[("origin", origin)]);
        assert!(check(&from("https://itsm.example.com"), https_site, &none).is_ok());
        assert!(check(&from("http://itsm.example.com"), https_site, &none).is_err());
        assert!(check(&from("https://127.0.0.1:3000"), HOST, &none).is_err());
    }

    #[test]
    fn the_public_url_is_accepted_behind_a_proxy() {
        let origins = SiteOrigins::new(Some("https://itsm.example.com/")).unwrap();
        assert!(
            check(
                &headers(&[("origin", "https://itsm.example.com")]),
                Some("http://10.0.0.5:3000"),
                &origins
            )
            .is_ok()
        );
        assert!(
            check(
                &headers(&[("origin", "https://other.example.com")]),
                Some("http://10.0.0.5:3000"),
                &origins
            )
            .is_err()
        );
    }

    /// With a public URL, a browser that reached the server at its own address (an admin on
    /// the server's machine) is still same-origin: its Origin matches the Host it sent, which
    /// no other site can forge. Every other origin is refused.
    #[test]
    fn the_address_the_browser_used_is_accepted_beside_the_public_url() {
        let origins = SiteOrigins::new(Some("https://itsm.example.com")).unwrap();
        let local = Some("http://127.0.0.1:3000");
        assert!(
            check(
                &headers(&[("origin", "http://127.0.0.1:3000")]),
                local,
                &origins
            )
            .is_ok()
        );
        assert!(
            check(
                &headers(&[("origin", "http://127.0.0.1:3001")]),
                local,
                &origins
            )
            .is_err()
        );
        assert!(
            check(
                &headers(&[("origin", "http://itsm.example.com")]),
                local,
                &origins
            )
            .is_err()
        );
    }

    #[test]
    fn a_public_url_that_cannot_be_an_origin_is_refused() {
        for bad in [
            "ftp://itsm.example.com",
            "https://itsm.example.com/itsm",
            "https://user@itsm.example.com",
            "itsm.example.com",
        ] {
            assert!(SiteOrigins::new(Some(bad)).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn reads_are_never_refused() {
        assert!(!changes_state(&Method::GET));
        assert!(!changes_state(&Method::HEAD));
        assert!(changes_state(&Method::POST));
        assert!(changes_state(&Method::DELETE));
    }
}
