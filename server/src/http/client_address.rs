//! Who the client is: the one place that decides it, for the sign-in throttle, the audit
//! log and the logs alike.
//!
//! By default, the socket's peer address. Behind a reverse proxy every request comes from
//! the proxy, so `--trusted-proxy-header` names the header the proxy sets (e.g.
//! `X-Forwarded-For`); then the client is the right-most entry of that header, the one the
//! trusted proxy appended itself. Entries to its left were sent by the client and could say
//! anything. Without the setting the header is ignored: anyone could send it.

use axum::http::{HeaderMap, HeaderName};
use std::net::{IpAddr, SocketAddr};

pub fn client_address(
    headers: &HeaderMap,
    socket: Option<SocketAddr>,
    trusted_proxy_header: Option<&HeaderName>,
) -> Option<IpAddr> {
    trusted_proxy_header
        .and_then(|name| headers.get_all(name).iter().next_back())
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.rsplit(',').next())
        .and_then(|entry| parse_entry(entry.trim()))
        .or_else(|| socket.map(|s| s.ip()))
        // `::ffff:203.0.113.7` (a dual-stack socket's IPv4 client) is `203.0.113.7`.
        .map(|address| address.to_canonical())
}

/// `203.0.113.7`, `2001:db8::1`, or either with a port (`203.0.113.7:4711`, `[2001:db8::1]:4711`).
fn parse_entry(entry: &str) -> Option<IpAddr> {
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", value.parse().unwrap());
        }
        headers
    }

    const SOCKET: &str = "10.0.0.9:50000";

    fn address(values: &[&str], trusted: bool) -> Option<String> {
        let name = HeaderName::from_static("x-forwarded-for");
        client_address(
            &headers(values),
            Some(SOCKET.parse().unwrap()),
            trusted.then_some(&name),
        )
        .map(|a| a.to_string())
    }

    #[test]
    fn without_a_trusted_proxy_the_socket_decides() {
        assert_eq!(
            address(&["198.51.100.7"], false).as_deref(),
            Some("10.0.0.9")
        );
    }

    #[test]
    fn behind_a_trusted_proxy_its_right_most_entry_decides() {
        let found = address(&["1.2.3.4, 198.51.100.7"], true);
        assert_eq!(found.as_deref(), Some("198.51.100.7"));
        let found = address(&["1.2.3.4", "5.6.7.8,2001:db8::1"], true);
        assert_eq!(found.as_deref(), Some("2001:db8::1"));
        let found = address(&["[2001:db8::2]:4711"], true);
        assert_eq!(found.as_deref(), Some("2001:db8::2"));
        let found = address(&["198.51.100.9:4711"], true);
        assert_eq!(found.as_deref(), Some("198.51.100.9"));
        let found = address(&["::ffff:198.51.100.10"], true);
        assert_eq!(found.as_deref(), Some("198.51.100.10"));
    }

    #[test]
    fn a_missing_or_garbled_header_falls_back_to_the_socket() {
        assert_eq!(address(&[], true).as_deref(), Some("10.0.0.9"));
        assert_eq!(
            address(&["1.2.3.4, not-an-ip"], true).as_deref(),
            Some("10.0.0.9")
        );
    }
}
