//! `InstanceUrl`: the base URL of a ServiceNow instance, such as
//! `https://acme.service-now.com`.
//!
//! The server decides with the `url` crate (the WHATWG URL standard, as browsers parse).
//! The browser checks with a small hand-written parser instead (`instance_url_plain`): the
//! `url` crate's international domain names bring Unicode tables that were a large part of
//! the site's WebAssembly. Both take a URL apart into the same [`Parts`] and judge them by
//! the same rules ([`judge`]), so they say the same things; a URL the plain parser cannot
//! take apart exactly as `url` would (non-ASCII, percent signs, unusual forms) is left to
//! the server, which checks every save again.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An absolute `https://` URL with a host and nothing after it. `http://` is accepted only
/// for loopback hosts, where the simulator and the tests run. Stored without a trailing `/`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct InstanceUrl(String);

impl InstanceUrl {
    pub const MAX_LENGTH: usize = 2048;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let value = raw.trim();
        if value.is_empty() {
            return Err(
                "Enter the URL of your ServiceNow instance, e.g. https://acme.service-now.com."
                    .into(),
            );
        }
        if value.chars().count() > Self::MAX_LENGTH {
            return Err(format!(
                "A URL is at most {} characters long.",
                Self::MAX_LENGTH
            ));
        }
        check(value).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The server's check (and the native tests'): the `url` crate decides.
#[cfg(any(feature = "ssr", not(feature = "hydrate")))]
fn check(value: &str) -> Result<String, String> {
    judge(url_parts(value).map_err(not_a_url)?)
}

/// The browser's check: the plain parser decides what it can; the rest is left as typed
/// for the server to decide when the form is saved.
#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
fn check(value: &str) -> Result<String, String> {
    match super::instance_url_plain::parts(value) {
        Some(parts) => judge(parts.map_err(not_a_url)?),
        None => Ok(value.trim_end_matches('/').to_string()),
    }
}

/// A URL taken apart as the WHATWG URL standard does, with what the rules need to see.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Parts {
    /// Lowercase, without the `:`.
    pub scheme: String,
    /// `None` for a URL without a host, such as `mailto:` ones.
    pub host: Option<Host>,
    /// A user name or a password is in the URL.
    pub credentials: bool,
    pub path: String,
    pub query: bool,
    pub fragment: bool,
    /// The whole URL as the standard writes it, e.g. `https://acme.service-now.com/`.
    pub serialized: String,
}

/// Only what the rules ask of a host.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Host {
    /// `localhost`, `127.x.x.x` or `[::1]`.
    pub loopback: bool,
}

/// Why a URL could not be parsed, in the `url` crate's words ("empty host", …).
pub(super) fn not_a_url(reason: impl fmt::Display) -> String {
    format!("This is not a valid URL ({reason}); write it like https://acme.service-now.com.")
}

/// The rules, in the order they are told: a host, https (http for loopback only), no
/// credentials, no path, query or fragment. Gives the URL as stored (no trailing `/`).
pub(super) fn judge(parts: Parts) -> Result<String, String> {
    let host = parts
        .host
        .ok_or("The URL needs a host name, e.g. https://acme.service-now.com.")?;
    match parts.scheme.as_str() {
        "https" => {}
        "http" if host.loopback => {}
        "http" => {
            return Err("Use https://; http:// is allowed only for localhost.".into());
        }
        other => {
            return Err(format!(
                "Use an https:// URL; '{other}:' is not a web address."
            ));
        }
    }
    if parts.credentials {
        return Err(
            "Leave the user name and password out of the URL; they have their own fields.".into(),
        );
    }
    if parts.path != "/" {
        return Err(format!(
            "Give only the instance address, without a path: remove '{}'.",
            parts.path
        ));
    }
    if parts.query {
        return Err("Give only the instance address, without a query ('?…').".into());
    }
    if parts.fragment {
        return Err("Give only the instance address, without a fragment ('#…').".into());
    }
    Ok(parts.serialized.trim_end_matches('/').to_string())
}

/// Takes a URL apart with the `url` crate.
#[cfg(any(test, feature = "ssr", not(feature = "hydrate")))]
pub(super) fn url_parts(value: &str) -> Result<Parts, url::ParseError> {
    use std::net::IpAddr;
    let url = url::Url::parse(value)?;
    let host = url.host().map(|host| Host {
        loopback: match host {
            url::Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
            url::Host::Ipv4(ip) => IpAddr::V4(ip).is_loopback(),
            url::Host::Ipv6(ip) => IpAddr::V6(ip).is_loopback(),
        },
    });
    Ok(Parts {
        scheme: url.scheme().to_string(),
        host,
        credentials: !url.username().is_empty() || url.password().is_some(),
        path: url.path().to_string(),
        query: url.query().is_some(),
        fragment: url.fragment().is_some(),
        serialized: url.as_str().to_string(),
    })
}

impl fmt::Display for InstanceUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for InstanceUrl {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<InstanceUrl> for String {
    fn from(value: InstanceUrl) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(raw: &str) -> String {
        InstanceUrl::parse(raw)
            .unwrap_or_else(|e| panic!("{raw:?} was refused: {e}"))
            .0
    }

    fn refused(raw: &str) -> String {
        InstanceUrl::parse(raw).expect_err(&format!("{raw:?} was accepted"))
    }

    #[test]
    fn an_https_instance_is_kept_without_trailing_slash() {
        assert_eq!(
            ok("https://acme.service-now.com"),
            "https://acme.service-now.com"
        );
        assert_eq!(
            ok("https://acme.service-now.com/"),
            "https://acme.service-now.com"
        );
        assert_eq!(
            ok("  https://ACME.service-now.com/ "),
            "https://acme.service-now.com"
        );
    }

    #[test]
    fn a_port_is_kept() {
        assert_eq!(
            ok("https://sn.example.org:8443/"),
            "https://sn.example.org:8443"
        );
    }

    #[test]
    fn http_is_accepted_only_for_loopback_hosts() {
        assert_eq!(ok("http://localhost:8080"), "http://localhost:8080");
        assert_eq!(ok("http://127.0.0.1:9000/"), "http://127.0.0.1:9000");
        assert_eq!(ok("http://127.8.9.10"), "http://127.8.9.10");
        assert_eq!(ok("http://[::1]:9000"), "http://[::1]:9000");
        assert!(refused("http://acme.service-now.com").contains("https://"));
        assert!(refused("http://10.0.0.1").contains("localhost"));
        assert!(refused("http://localhost.evil.example").contains("https://"));
    }

    #[test]
    fn a_path_query_or_fragment_is_refused_with_a_message_naming_it() {
        assert!(refused("https://acme.service-now.com/now/nav").contains("/now/nav"));
        assert!(refused("https://acme.service-now.com/api/").contains("path"));
        assert!(refused("https://acme.service-now.com?x=1").contains("query"));
        assert!(refused("https://acme.service-now.com/?").contains("query"));
        assert!(refused("https://acme.service-now.com#top").contains("fragment"));
    }

    #[test]
    fn other_schemes_relative_urls_and_blank_are_refused() {
        assert!(refused("").starts_with("Enter the URL"));
        assert!(refused("   ").starts_with("Enter the URL"));
        assert!(refused("acme.service-now.com").contains("not a valid URL"));
        assert!(refused("ftp://acme.service-now.com").contains("'ftp:'"));
        assert!(refused("javascript:alert(1)").contains("https"));
        assert!(refused("https://").contains("not a valid URL"));
    }

    #[test]
    fn credentials_in_the_url_are_refused() {
        assert!(refused("https://admin:pw@acme.service-now.com").contains("user name"));
        assert!(refused("https://admin@acme.service-now.com").contains("user name"));
    }

    #[test]
    fn length_is_bounded() {
        let at_limit = format!("https://{}.com", "a".repeat(InstanceUrl::MAX_LENGTH - 12));
        assert_eq!(at_limit.len(), InstanceUrl::MAX_LENGTH);
        // A single DNS label this long is not a valid host, so only the length check matters
        // for the longer one.
        let over = format!("{at_limit}a");
        assert!(refused(&over).contains("at most"));
    }
}
