//! The browser's parser of an instance URL, in plain Rust: the `url` crate's international
//! domain names need Unicode tables (ICU4X data) that made up a large part of the site's
//! WebAssembly, for URLs nobody types for a ServiceNow instance.
//!
//! It takes apart the URLs people do type (`https://acme.service-now.com`,
//! `http://localhost:8080`, `https://[::1]:9000/`, with a path, a query or a user name by
//! mistake) exactly as the `url` crate does, and gives up (`None`) on whatever it cannot be
//! sure of: anything but printable ASCII, `%` and `\`, `xn--` labels, numeric hosts other
//! than a plain IPv4 address, `https:` without `//`, a path with `.` segments or characters
//! the standard escapes. The tests below hold it to the `url` crate on generated URLs.

use super::instance_url::{Host, Parts};
use std::net::{Ipv4Addr, Ipv6Addr};

/// The schemes whose host is a domain name (WHATWG "special" schemes but `file`), with the
/// port the standard leaves out of the URL.
const SPECIAL: [(&str, u16); 5] = [
    ("http", 80),
    ("https", 443),
    ("ws", 80),
    ("wss", 443),
    ("ftp", 21),
];

/// Takes `value` (trimmed, not empty) apart as the `url` crate would: `Some(Ok(parts))`,
/// `Some(Err(reason))` in the `url` crate's words, or `None` when only the server can tell.
/// `parts.serialized` is exact only for a URL the rules accept (no credentials, path `/`,
/// no query or fragment), the only case where it is used.
pub(super) fn parts(value: &str) -> Option<Result<Parts, &'static str>> {
    let plain = |b: u8| (0x21..=0x7e).contains(&b) && b != b'%' && b != b'\\';
    if !value.bytes().all(plain) {
        return None;
    }
    let Some((scheme, rest)) = split_scheme(value) else {
        return Some(Err("relative URL without a base"));
    };
    let scheme = scheme.to_ascii_lowercase();
    let Some(&(_, default_port)) = SPECIAL.iter().find(|(name, _)| *name == scheme) else {
        // `mailto:x`, `javascript:x`: no host, which the rules refuse first. `file:` and
        // `scheme://…` have rules of their own.
        if scheme == "file" || rest.starts_with("//") {
            return None;
        }
        return Some(Ok(Parts {
            scheme,
            host: None,
            credentials: false,
            path: String::new(),
            query: false,
            fragment: false,
            serialized: value.to_string(),
        }));
    };
    // `https:acme.example` and `https:///acme.example` are URLs too, rarely meant.
    let after = rest.strip_prefix("//")?;
    if after.starts_with('/') {
        return None;
    }
    let (authority, tail) = after.split_at(after.find(['/', '?', '#']).unwrap_or(after.len()));
    let (credentials, host_port) = match authority.rsplit_once('@') {
        None => (false, authority),
        Some((user, host_port)) if !user.is_empty() && !user.starts_with(':') => (true, host_port),
        Some(_) => return None,
    };
    let (host_text, port_text) = split_port(host_port)?;
    let (host, loopback) = match parse_host(host_text)? {
        Ok(host) => host,
        Err(reason) => return Some(Err(reason)),
    };
    let port = match port_text {
        None | Some("") => None,
        Some(digits) => match parse_port(digits) {
            Some(port) if port == default_port => None,
            Some(port) => Some(port),
            None => return Some(Err("invalid port number")),
        },
    };
    let (before_fragment, fragment) = match tail.split_once('#') {
        Some((before, _)) => (before, true),
        None => (tail, false),
    };
    let (path, query) = match before_fragment.split_once('?') {
        Some((path, _)) => (path, true),
        None => (before_fragment, false),
    };
    let path = if path.is_empty() { "/" } else { path };
    let kept_as_is = |b: u8| b.is_ascii_alphanumeric() || b"-_~/".contains(&b);
    if !path.bytes().all(kept_as_is) {
        return None;
    }
    let port = port.map(|port| format!(":{port}")).unwrap_or_default();
    Some(Ok(Parts {
        serialized: format!("{scheme}://{host}{port}/"),
        scheme,
        host: Some(Host { loopback }),
        credentials,
        path: path.to_string(),
        query,
        fragment,
    }))
}

/// `https://…` into `https` and `//…`; `None` when there is no scheme (a relative URL).
fn split_scheme(value: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = value.split_once(':')?;
    let mut chars = scheme.bytes();
    let starts_with_letter = chars.next().is_some_and(|b| b.is_ascii_alphabetic());
    let scheme_chars = chars.all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    (starts_with_letter && scheme_chars).then_some((scheme, rest))
}

/// `host:port` into the host and what follows its `:`; `None` for brackets out of place.
fn split_port(host_port: &str) -> Option<(&str, Option<&str>)> {
    if host_port.starts_with('[') {
        let close = host_port.find(']')? + 1;
        let (host, after) = host_port.split_at(close);
        return match after {
            "" => Some((host, None)),
            _ => Some((host, Some(after.strip_prefix(':')?))),
        };
    }
    if host_port.contains(['[', ']']) {
        return None;
    }
    Some(match host_port.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (host_port, None),
    })
}

/// The host as the standard writes it and whether it is a loopback one; `None` when only
/// the `url` crate can tell (names it would map or decode, numbers it would read as IPv4).
fn parse_host(text: &str) -> Option<Result<(String, bool), &'static str>> {
    if let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        // Only hex digits and colons: the IPv4-in-IPv6 forms are written differently.
        if !inner.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return None;
        }
        let ip: Ipv6Addr = inner.parse().ok()?;
        if ip.to_ipv4_mapped().is_some() {
            return None;
        }
        return Some(Ok((format!("[{ip}]"), ip.is_loopback())));
    }
    if text.is_empty() {
        return Some(Err("empty host"));
    }
    let name = text.to_ascii_lowercase();
    if name.contains(['<', '>', '^', '|']) {
        return Some(Err("invalid international domain name"));
    }
    let kept_as_is = |b: u8| b.is_ascii_alphanumeric() || b"-._".contains(&b);
    if !name.bytes().all(kept_as_is) || name.split('.').any(|label| label.starts_with("xn--")) {
        return None;
    }
    if ends_in_a_number(&name) {
        // Only the plain dotted form: `127.1` and `0x7f.0.0.1` are read otherwise.
        let ip: Ipv4Addr = name.parse().ok()?;
        return (ip.to_string() == name).then_some(Ok((name, ip.is_loopback())));
    }
    let loopback = name == "localhost";
    Some(Ok((name, loopback)))
}

/// The standard's test for a host to be read as an IPv4 address: its last label (before a
/// final dot) is a number, decimal or `0x…`.
fn ends_in_a_number(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    let last = name.rsplit('.').next().unwrap_or_default();
    let decimal = !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit());
    let hex = last
        .strip_prefix("0x")
        .is_some_and(|digits| digits.bytes().all(|b| b.is_ascii_hexdigit()));
    decimal || hex
}

/// A port of decimal digits, leading zeros allowed; `None` for anything else or above 65535.
fn parse_port(digits: &str) -> Option<u16> {
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let significant = digits.trim_start_matches('0');
    if significant.len() > 5 {
        return None;
    }
    if significant.is_empty() {
        return Some(0);
    }
    significant.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::super::instance_url::{judge, not_a_url, url_parts};
    use super::*;
    use proptest::prelude::*;

    /// What the browser says: `None` when it leaves the URL to the server.
    fn browser(value: &str) -> Option<Result<String, String>> {
        parts(value).map(|parts| judge(parts.map_err(not_a_url)?))
    }

    /// What the server says, with the `url` crate.
    fn server(value: &str) -> Result<String, String> {
        judge(url_parts(value).map_err(not_a_url)?)
    }

    #[test]
    fn the_browser_decides_the_urls_people_type_as_the_server_does() {
        for value in [
            "https://acme.service-now.com",
            "https://acme.service-now.com/",
            "https://ACME.service-now.com/",
            "HTTPS://acme.service-now.com",
            "https://sn.example.org:8443/",
            "https://sn.example.org:443",
            "https://sn.example.org:0443/",
            "https://sn.example.org:",
            "https://sn.example.org:99999",
            "https://sn.example.org:84a3",
            "http://localhost:8080",
            "http://LocalHost:8080/",
            "http://127.0.0.1:9000/",
            "http://127.8.9.10",
            "http://[::1]:9000",
            "http://[0:0:0:0:0:0:0:1]/",
            "https://[2001:DB8::1]",
            "http://acme.service-now.com",
            "http://10.0.0.1",
            "http://localhost.evil.example",
            "https://acme.service-now.com/now/nav",
            "https://acme.service-now.com/api/",
            "https://acme.service-now.com?x=1",
            "https://acme.service-now.com/?",
            "https://acme.service-now.com#top",
            "acme.service-now.com",
            "ftp://acme.service-now.com",
            "javascript:alert(1)",
            "mailto:admin@acme.example",
            "https://",
            "https://:443",
            "https://admin:pw@acme.service-now.com",
            "https://admin@acme.service-now.com",
            "https://acme<.service-now.com",
            "https://acme.service-now.com.",
        ] {
            let decided = browser(value).unwrap_or_else(|| panic!("{value:?} left to the server"));
            assert_eq!(decided, server(value), "{value:?}");
        }
    }

    #[test]
    fn what_the_browser_cannot_be_sure_of_is_left_to_the_server() {
        for value in [
            "https://bücher.example",
            "https://xn--bcher-kva.example",
            "https://acme%2Eservice-now.com",
            "https:\\\\acme.service-now.com",
            "https:acme.service-now.com",
            "https:///acme.service-now.com",
            "http://127.1",
            "http://0x7f.0.0.1",
            "http://[::ffff:127.0.0.1]",
            "https://acme.service-now.com/a/../",
            "https://acme.service-now.com/%7e",
            "file:///etc/passwd",
            "https://acme.service-now.com/a b",
        ] {
            assert_eq!(browser(value), None, "{value:?}");
        }
    }

    /// Mostly `usual`, sometimes one of `others`: the URLs generated are often whole ones.
    fn usually(usual: &'static str, others: Vec<&'static str>) -> BoxedStrategy<&'static str> {
        prop_oneof![3 => Just(usual), 1 => prop::sample::select(others)].boxed()
    }

    /// URL-like strings: the pieces people type, and the ones the standard treats oddly.
    fn url_like() -> impl Strategy<Value = String> {
        let scheme = usually(
            "https",
            vec![
                "HTTPS", "http", "ftp", "ws", "wss", "file", "mailto", "a+b", "1x", "",
            ],
        );
        let separator = usually("://", vec![":", ":/", ":///", "//", ""]);
        let user = usually("", vec!["admin@", "admin:pw@", ":pw@", "@", "a@b@"]);
        let host = prop_oneof![
            "[a-zA-Z0-9._<>^|!~-]{0,12}",
            "(xn--)?[a-zA-Z]{1,5}(\\.[a-z0-9]{1,4}){0,3}\\.?",
            "[0-9]{1,3}(\\.[0-9]{1,4}){0,4}\\.?",
            "0x[0-9a-f]{0,3}(\\.[0-9]{1,3}){0,3}",
            "\\[[0-9a-fA-F:.]{0,16}\\]?",
            "localhost|LOCALHOST|127\\.0\\.0\\.1|\\[::1\\]|\\[0::0:1\\]",
        ];
        let port = usually(
            "",
            vec![
                ":",
                ":443",
                ":80",
                ":21",
                ":8443",
                ":0443",
                ":65535",
                ":65536",
                ":99999",
                ":000000080",
                ":8a",
                ":-1",
            ],
        );
        let path = prop_oneof![
            Just(String::new()),
            Just("/".to_string()),
            "(/[a-zA-Z0-9._~%-]{0,4}){0,3}"
        ];
        let query = usually("", vec!["?", "?x=1", "?a#b"]);
        let fragment = usually("", vec!["#", "#top"]);
        (scheme, separator, user, host, port, path, query, fragment).prop_map(
            |(scheme, separator, user, host, port, path, query, fragment)| {
                format!("{scheme}{separator}{user}{host}{port}{path}{query}{fragment}")
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(10_000))]

        /// Whatever the browser decides, it decides as the server does.
        #[test]
        fn the_browser_never_contradicts_the_server(value in url_like()) {
            let value = value.trim();
            prop_assume!(!value.is_empty());
            if let Some(decided) = browser(value) {
                prop_assert_eq!(decided, server(value), "{:?}", value);
            }
        }
    }
}
