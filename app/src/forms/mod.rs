//! The settings forms: what the browser posts (raw strings), how it is validated (the same
//! code on both sides), and what a save answers.

mod account;
mod connection;
mod exception;
mod field_errors;
mod itsm;
mod token;

pub use account::{
    LoginForm, MAX_PASSWORD, MAX_USERNAME, NewAdmin, SetupForm, check_new_password, parse_username,
    safe_next,
};
pub use connection::{ConnectionForm, ConnectionUpdate, ConnectionView, SecretsStored};
pub use exception::{ExceptionForm, ExceptionKind, NewException, describe_scope};
pub use field_errors::FieldErrors;
pub use itsm::{ItsmForm, ItsmSettings};
pub use token::{NewToken, TokenForm};

use serde::{Deserialize, Serialize};

/// What a save answers the page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum SaveOutcome {
    Saved,
    /// Nothing was saved: each invalid field has its message.
    Invalid(FieldErrors),
}

/// What the page tells the person after a submit: the outcome, or why the save failed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Notice {
    Saved,
    Invalid(FieldErrors),
    Failed(String),
    /// An action that saves no form went through, told in words ("Run 12 started.").
    Done(String),
}

impl Notice {
    pub fn from_result<E: std::fmt::Display>(result: &Result<SaveOutcome, E>) -> Self {
        match result {
            Ok(SaveOutcome::Saved) => Notice::Saved,
            Ok(SaveOutcome::Invalid(errors)) => Notice::Invalid(errors.clone()),
            Err(error) => Notice::Failed(error.to_string()),
        }
    }

    pub fn errors(&self) -> FieldErrors {
        match self {
            Notice::Invalid(errors) => errors.clone(),
            _ => FieldErrors::default(),
        }
    }
}

/// A whole number typed into a text field, within `min..=max`.
pub(crate) fn parse_whole_number(raw: &str, min: u32, max: u32, what: &str) -> Result<u32, String> {
    let message = || format!("Enter a whole number of {what} from {min} to {max}.");
    let value = raw.trim();
    if value.is_empty() || !value.chars().all(|c| c.is_ascii_digit()) {
        return Err(message());
    }
    match value.parse::<u32>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(message()),
    }
}

/// A required one-line text of at most `max` characters, trimmed.
pub(crate) fn parse_required_text(raw: &str, max: usize, what: &str) -> Result<String, String> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(format!("Enter the {what}."));
    }
    let length = value.chars().count();
    if length > max {
        return Err(format!(
            "The {what} is at most {max} characters; this one has {length}."
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(format!("The {what} cannot contain control characters."));
    }
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_at_and_beyond_each_bound() {
        assert_eq!(parse_whole_number("0", 0, 3650, "days"), Ok(0));
        assert_eq!(parse_whole_number("3650", 0, 3650, "days"), Ok(3650));
        assert_eq!(parse_whole_number(" 7 ", 0, 3650, "days"), Ok(7));
        assert!(parse_whole_number("3651", 0, 3650, "days").is_err());
        assert!(parse_whole_number("4", 5, 10, "minutes").is_err());
        assert!(parse_whole_number("-1", 0, 3650, "days").is_err());
        assert!(parse_whole_number("1.5", 0, 3650, "days").is_err());
        assert!(parse_whole_number("1e3", 0, 3650, "days").is_err());
        assert!(parse_whole_number("+3", 0, 3650, "days").is_err());
        assert!(parse_whole_number("", 0, 3650, "days").is_err());
        assert!(parse_whole_number("99999999999999999999", 0, 3650, "days").is_err());
    }

    #[test]
    fn whole_number_message_names_the_range() {
        let err = parse_whole_number("x", 0, 3650, "days").unwrap_err();
        assert_eq!(err, "Enter a whole number of days from 0 to 3650.");
    }

    #[test]
    fn required_text_at_and_beyond_its_length() {
        assert_eq!(
            parse_required_text(" id ", 255, "client ID"),
            Ok("id".into())
        );
        assert!(parse_required_text(&"é".repeat(255), 255, "client ID").is_ok());
        let err = parse_required_text(&"é".repeat(256), 255, "client ID").unwrap_err();
        assert!(err.contains("256"), "{err}");
        assert_eq!(
            parse_required_text("  ", 255, "client ID").unwrap_err(),
            "Enter the client ID."
        );
        assert!(parse_required_text("a\u{0}b", 255, "client ID").is_err());
    }
}
