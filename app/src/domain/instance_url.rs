//! `InstanceUrl`: the base URL of a ServiceNow instance, such as
//! `https://acme.service-now.com`.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;
use url::{Host, Url};

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
        let url = Url::parse(value).map_err(|e| {
            format!("This is not a valid URL ({e}); write it like https://acme.service-now.com.")
        })?;
        let host = url
            .host()
            .ok_or("The URL needs a host name, e.g. https://acme.service-now.com.")?;
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&host) => {}
            "http" => {
                return Err("Use https://; http:// is allowed only for localhost.".into());
            }
            other => {
                return Err(format!(
                    "Use an https:// URL; '{other}:' is not a web address."
                ));
            }
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(
                "Leave the user name and password out of the URL; they have their own fields."
                    .into(),
            );
        }
        if url.path() != "/" {
            return Err(format!(
                "Give only the instance address, without a path: remove '{}'.",
                url.path()
            ));
        }
        if url.query().is_some() {
            return Err("Give only the instance address, without a query ('?…').".into());
        }
        if url.fragment().is_some() {
            return Err("Give only the instance address, without a fragment ('#…').".into());
        }
        Ok(Self(url.as_str().trim_end_matches('/').to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => IpAddr::V4(*ip).is_loopback(),
        Host::Ipv6(ip) => IpAddr::V6(*ip).is_loopback(),
    }
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
