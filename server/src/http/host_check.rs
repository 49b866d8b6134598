//! Refuses requests addressed to a name this server does not answer as, when it listens on
//! loopback only (the default). This stops DNS rebinding: a web page at `evil.example` can
//! point its own name at 127.0.0.1, and the browser then treats this site as that page's own
//! origin, free to read its pages and post its forms (the cross-site check sees the same
//! origin on both sides). The browser still says which name it asked for, in `Host`.
//!
//! Listening on loopback, the server answers as `localhost`, a loopback address, and the
//! host of `--public-url` (a reverse proxy on the same machine may pass the public host on).
//! Listening on another address, every name passes: the machine's names are not known here.

use axum::extract::{Request, State};
use axum::http::{StatusCode, header, uri::Authority};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// The names a request may be addressed to.
#[derive(Clone, Debug)]
pub struct HostNames {
    /// Only loopback names (and the public host) are accepted.
    loopback_only: bool,
    /// The host of `--public-url`, lowercase.
    public_host: Option<String>,
}

impl HostNames {
    /// For a server listening on `listen`, with `public_origin` as checked by
    /// [`crate::configuration::parse_public_url`].
    pub fn new(listen: SocketAddr, public_origin: Option<&str>) -> Self {
        let public_host = public_origin
            .and_then(|origin| url::Url::parse(origin).ok())
            .and_then(|url| url.host_str().map(str::to_ascii_lowercase));
        Self {
            loopback_only: listen.ip().is_loopback(),
            public_host,
        }
    }

    /// Whether a request whose `Host` header is `host` is for this server.
    pub fn accepts(&self, host: &str) -> bool {
        if !self.loopback_only {
            return true;
        }
        let Ok(authority) = host.parse::<Authority>() else {
            return false;
        };
        let name = authority.host().to_ascii_lowercase();
        if name == "localhost" || self.public_host.as_deref() == Some(name.as_str()) {
            return true;
        }
        name.trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
    }
}

pub async fn refuse_unknown_host(
    State(names): State<Arc<HostNames>>,
    request: Request,
    next: Next,
) -> Response {
    // HTTP/1.1 requires Host; a request without one comes from a program, not a browser.
    if let Some(host) = request.headers().get(header::HOST) {
        let host = host.to_str().unwrap_or("");
        if !names.accepts(host) {
            tracing::warn!(
                host,
                path = request.uri().path(),
                "refused a request for a name this server does not answer as"
            );
            return (
                StatusCode::MISDIRECTED_REQUEST,
                "This server listens on loopback and answers only as localhost, a loopback \
                 address or its --public-url host. To reach it under another name, set \
                 --public-url to that name.",
            )
                .into_response();
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loopback(public: Option<&str>) -> HostNames {
        HostNames::new("127.0.0.1:3000".parse().unwrap(), public)
    }

    #[test]
    fn on_loopback_only_loopback_names_and_the_public_host_pass() {
        let names = loopback(Some("https://itsm.example.com"));
        for host in [
            "localhost",
            "LOCALHOST:3000",
            "127.0.0.1:3000",
            "127.1.2.3",
            "[::1]:3000",
            "itsm.example.com",
            "ITSM.example.com:443",
        ] {
            assert!(names.accepts(host), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:3000",
            "localhost.evil.example",
            "10.0.0.1:3000",
            "[::2]",
            "",
            "a b",
        ] {
            assert!(!names.accepts(host), "{host}");
        }
    }

    #[test]
    fn without_a_public_url_only_loopback_names_pass() {
        let names = loopback(None);
        assert!(names.accepts("localhost:3000"));
        assert!(!names.accepts("itsm.example.com"));
    }

    #[test]
    fn on_another_address_every_name_passes() {
        let names = HostNames::new("0.0.0.0:3000".parse().unwrap(), None);
        assert!(names.accepts("evil.example"));
        assert!(names.accepts("192.168.1.5:3000"));
    }
}
