//! The API token form: a name, and the one source the token may send (or any). The browser
//! checks it before sending, the server again before creating the token.

use super::FieldErrors;
use serde::{Deserialize, Serialize};

/// What the create form posts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TokenForm {
    pub name: String,
    /// Blank for a token that may send any source.
    pub source: String,
}

/// A token the form asks for, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewToken {
    pub name: String,
    /// `None`: any source.
    pub source: Option<String>,
}

impl TokenForm {
    /// The longest token name, in characters.
    pub const MAX_NAME: usize = 100;
    /// The longest source name, in characters: the scanner API refuses longer ones, so a
    /// token cannot be limited to one.
    pub const MAX_SOURCE: usize = 200;

    /// Checks both fields; the errors are keyed by the inputs' ids (`token-name`,
    /// `token-source`).
    pub fn validate(&self) -> Result<NewToken, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = self.name.trim();
        if name.is_empty()
            || name.chars().count() > Self::MAX_NAME
            || name.chars().any(char::is_control)
        {
            errors.insert(
                "token-name",
                format!(
                    "Give the token a name of 1 to {} characters, e.g. the scanner that will use it.",
                    Self::MAX_NAME
                ),
            );
        }
        let source = self.source.trim();
        if source.chars().count() > Self::MAX_SOURCE || source.chars().any(char::is_control) {
            errors.insert(
                "token-source",
                format!(
                    "A source is at most {} characters, without control characters; leave it blank for a token that may send any source.",
                    Self::MAX_SOURCE
                ),
            );
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(NewToken {
            name: name.to_string(),
            source: Some(source.to_string()).filter(|s| !s.is_empty()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(name: &str, source: &str) -> TokenForm {
        TokenForm {
            name: name.into(),
            source: source.into(),
        }
    }

    #[test]
    fn a_name_is_needed_and_a_blank_source_means_any() {
        assert_eq!(
            form(" prowler ", " ").validate(),
            Ok(NewToken {
                name: "prowler".into(),
                source: None
            })
        );
        let errors = form("  ", "").validate().unwrap_err();
        assert!(errors.get("token-name").unwrap().contains("1 to 100"));
        assert_eq!(errors.len(), 1);
    }

    #[test]
    fn each_field_at_and_past_its_length_and_with_a_control_character() {
        let name = "é".repeat(TokenForm::MAX_NAME);
        let source = "s".repeat(TokenForm::MAX_SOURCE);
        let ok = form(&name, &source).validate().unwrap();
        assert_eq!(ok.source.as_deref(), Some(source.as_str()));
        let errors = form(&format!("{name}x"), &format!("{source}x"))
            .validate()
            .unwrap_err();
        assert_eq!(
            errors.fields().collect::<Vec<_>>(),
            ["token-name", "token-source"]
        );
        let errors = form("a\u{7}b", "s\nt").validate().unwrap_err();
        assert_eq!(errors.len(), 2);
    }
}
