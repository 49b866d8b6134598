//! `SysId`: a ServiceNow record id, exactly 32 hexadecimal characters.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A ServiceNow `sys_id`, stored in lowercase as ServiceNow writes it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SysId(String);

impl SysId {
    pub const LENGTH: usize = 32;

    /// Parses a sys_id typed by a person: surrounding spaces are ignored, upper case is
    /// accepted and stored in lower case.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let value = raw.trim();
        if value.is_empty() {
            return Err("Enter the sys_id: 32 hexadecimal characters (0-9, a-f).".into());
        }
        if let Some(bad) = value.chars().find(|c| !c.is_ascii_hexdigit()) {
            return Err(format!(
                "A sys_id holds only hexadecimal characters (0-9, a-f); '{bad}' is not one."
            ));
        }
        let length = value.len();
        if length != Self::LENGTH {
            return Err(format!(
                "A sys_id is exactly {} hexadecimal characters; this one has {length}.",
                Self::LENGTH
            ));
        }
        Ok(Self(value.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SysId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for SysId {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<SysId> for String {
    fn from(value: SysId) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_exactly_32_hex_characters() {
        let id = SysId::parse("0123456789abcdef0123456789abcdef").unwrap();
        assert_eq!(id.as_str(), "0123456789abcdef0123456789abcdef");
    }

    #[test]
    fn upper_case_and_surrounding_spaces_are_normalised() {
        let id = SysId::parse("  0123456789ABCDEF0123456789ABCDEF ").unwrap();
        assert_eq!(id.as_str(), "0123456789abcdef0123456789abcdef");
    }

    #[test]
    fn one_character_short_or_long_is_refused_with_its_length() {
        let short = SysId::parse(&"a".repeat(31)).unwrap_err();
        assert!(short.contains("31"), "{short}");
        let long = SysId::parse(&"a".repeat(33)).unwrap_err();
        assert!(long.contains("33"), "{long}");
    }

    #[test]
    fn a_non_hex_character_is_named() {
        let err = SysId::parse(&format!("{}g", "a".repeat(31))).unwrap_err();
        assert!(err.contains("'g'"), "{err}");
    }

    #[test]
    fn blank_is_refused() {
        assert!(
            SysId::parse("   ")
                .unwrap_err()
                .starts_with("Enter the sys_id")
        );
    }

    #[test]
    fn a_non_ascii_character_is_refused_not_miscounted() {
        // 31 hex characters plus one two-byte character: 33 bytes, 32 characters.
        let err = SysId::parse(&format!("{}é", "a".repeat(31))).unwrap_err();
        assert!(err.contains("'é'"), "{err}");
    }
}
