//! The first-run setup form and the login form, with the account rules both sides check.

use super::FieldErrors;
use serde::{Deserialize, Serialize};
use std::fmt;

pub const MIN_PASSWORD: usize = 12;
pub const MAX_PASSWORD: usize = 1024;
pub const MAX_USERNAME: usize = 64;

/// What `/setup` posts: the one-time token from the server log and the new admin account.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SetupForm {
    pub setup_token: String,
    pub username: String,
    pub password: String,
    pub password_confirm: String,
}

/// A setup form that passed validation.
pub struct NewAdmin {
    pub setup_token: String,
    pub username: String,
    pub password: String,
}

impl SetupForm {
    pub fn validate(&self) -> Result<NewAdmin, FieldErrors> {
        let mut errors = FieldErrors::default();
        if self.setup_token.trim().is_empty() {
            errors.insert(
                "setup_token",
                "Enter the setup token that the server printed in its log when it started.",
            );
        }
        let username = errors.check("username", parse_username(&self.username));
        let password = errors.check("password", check_new_password(&self.password));
        if password.is_some() && self.password != self.password_confirm {
            errors.insert("password_confirm", "The two passwords differ.");
        }
        match (username, password) {
            (Some(username), Some(())) if errors.is_empty() => Ok(NewAdmin {
                setup_token: self.setup_token.trim().to_string(),
                username,
                password: self.password.clone(),
            }),
            _ => Err(errors),
        }
    }

    /// The form as it may be shown again: no token, no password, no oversized name.
    pub fn without_secrets(&self) -> Self {
        let username = if self.username.chars().count() <= MAX_USERNAME {
            self.username.clone()
        } else {
            String::new()
        };
        Self {
            username,
            ..Self::default()
        }
    }
}

/// What `/login` posts. `next` is where to go afterwards (a path on this site).
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LoginForm {
    pub username: String,
    pub password: String,
    pub next: String,
}

impl LoginForm {
    /// Checks what can be checked without the database, before anything is counted, logged
    /// or kept: a name that is no valid user name, or an oversized password, cannot sign in.
    pub fn validate(&self) -> Result<(), String> {
        parse_username(&self.username)?;
        if self.password.chars().count() > MAX_PASSWORD {
            return Err(format!("A password has at most {MAX_PASSWORD} characters."));
        }
        Ok(())
    }

    /// The form as it may be shown again: no password, and only values of a bounded size.
    pub fn without_secrets(&self) -> Self {
        let bounded = |value: &str, max: usize| {
            if value.chars().count() <= max {
                value.to_string()
            } else {
                String::new()
            }
        };
        Self {
            username: bounded(&self.username, MAX_USERNAME),
            password: String::new(),
            next: bounded(&self.next, MAX_KEPT_NEXT),
        }
    }
}

/// A user name: 1 to 64 letters, digits, `.`, `_`, `-` or `@`.
pub fn parse_username(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err("Enter a user name.".into());
    }
    if name.chars().count() > MAX_USERNAME {
        return Err(format!("A user name is at most {MAX_USERNAME} characters."));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@')))
    {
        return Err(format!(
            "A user name holds letters, digits, '.', '_', '-' and '@'; '{bad}' is not allowed."
        ));
    }
    Ok(name.to_string())
}

/// A new password: 12 to 1024 characters.
pub fn check_new_password(password: &str) -> Result<(), String> {
    let length = password.chars().count();
    if length < MIN_PASSWORD {
        return Err(format!(
            "A password has at least {MIN_PASSWORD} characters; this one has {length}."
        ));
    }
    if length > MAX_PASSWORD {
        return Err(format!("A password has at most {MAX_PASSWORD} characters."));
    }
    Ok(())
}

/// The longest `next` followed: a path of this site is far shorter.
pub const MAX_NEXT: usize = 2048;
/// The longest `next` a refused sign-in keeps to show again (a longer one is dropped, and
/// the next sign-in goes to the first page): anyone can post the form, so what it keeps is
/// small.
pub const MAX_KEPT_NEXT: usize = 256;

/// Where to go after signing in: a path on this site, never another site.
///
/// Accepted: a path that starts with a single `/` and holds only visible ASCII, without a
/// backslash, both as given and once percent-decoded. Browsers drop tabs and newlines from
/// a URL and read `\` as `/`, so `/\t/evil.example` or `/%5cevil.example` would lead away;
/// a control character would not even make a valid `Location` header. Anything else (and
/// no `next` at all) goes to the Overview, `/`.
pub fn safe_next(next: &str) -> String {
    let next = next.trim();
    let stays = next.len() <= MAX_NEXT
        && is_plain_local_path(next)
        && is_plain_local_path(&percent_decoded(next));
    if stays && !next.starts_with("/login") && !next.starts_with("/setup") {
        next.to_string()
    } else {
        "/".to_string()
    }
}

fn is_plain_local_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && path.chars().all(|c| c.is_ascii_graphic() && c != '\\')
}

/// `%XX` decoded once; anything that is not a valid escape is kept as it is.
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .filter(|hex| hex.iter().all(u8::is_ascii_hexdigit))
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl fmt::Debug for SetupForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SetupForm")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for LoginForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginForm")
            .field("username", &self.username)
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup(password: &str, confirm: &str) -> SetupForm {
        SetupForm {
            setup_token: "token".into(),
            username: "admin".into(),
            password: password.into(),
            password_confirm: confirm.into(),
        }
    }

    #[test]
    fn passwords_have_at_least_12_characters() {
        assert!(
            check_new_password(&"x".repeat(11))
                .unwrap_err()
                .contains("11")
        );
        assert!(check_new_password(&"x".repeat(12)).is_ok());
        assert!(check_new_password(&"é".repeat(12)).is_ok());
        assert!(check_new_password(&"x".repeat(MAX_PASSWORD)).is_ok());
        assert!(check_new_password(&"x".repeat(MAX_PASSWORD + 1)).is_err());
    }

    #[test]
    fn user_names_are_bounded_and_plain() {
        assert_eq!(
            parse_username(" admin.ops@corp "),
            Ok("admin.ops@corp".into())
        );
        assert!(parse_username("").is_err());
        assert!(parse_username(&"a".repeat(MAX_USERNAME)).is_ok());
        assert!(parse_username(&"a".repeat(MAX_USERNAME + 1)).is_err());
        assert!(parse_username("a b").unwrap_err().contains("' '"));
        assert!(parse_username("<script>").is_err());
    }

    #[test]
    fn the_setup_form_needs_a_token_and_matching_passwords() {
        assert!(setup("long enough pw", "long enough pw").validate().is_ok());
        let errors = setup("long enough pw", "other").validate().err().unwrap();
        assert!(errors.get("password_confirm").is_some());
        let errors = SetupForm::default().validate().err().unwrap();
        assert!(errors.get("setup_token").is_some() && errors.get("username").is_some());
        assert!(errors.get("password").is_some());
    }

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next("/settings/itsm?x=1"), "/settings/itsm?x=1");
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil",
            "",
            "/login",
            "javascript:x",
            "/\t/evil.example",
            "/%09/evil.example",
            "/x\ny",
            "/%0a",
            "/%5c%5cevil.example",
            "/%2F/evil.example",
            "/ok/\u{7f}",
        ] {
            assert_eq!(safe_next(bad), "/", "{bad:?}");
        }
        // Surrounding whitespace is trimmed first.
        assert_eq!(safe_next("/\n"), "/");
        assert_eq!(safe_next(" /audit\t"), "/audit");
    }

    #[test]
    fn a_refused_form_keeps_no_oversized_value() {
        let huge = "a".repeat(100_000);
        let login = LoginForm {
            username: huge.clone(),
            password: "secret".into(),
            next: huge.clone(),
        };
        assert_eq!(
            login.validate(),
            Err(format!("A user name is at most {MAX_USERNAME} characters."))
        );
        assert_eq!(login.without_secrets(), LoginForm::default());
        let setup = SetupForm {
            username: huge,
            ..SetupForm::default()
        };
        assert_eq!(setup.without_secrets(), SetupForm::default());
    }

    /// A refused sign-in keeps a `next` of a real path, but not one of 2 KiB (which would make
    /// each flash of an anonymous post 8 KiB).
    #[test]
    fn a_refused_sign_in_keeps_a_short_next_only() {
        let form = |next: String| LoginForm {
            username: "bad name!".into(),
            password: "p".into(),
            next,
        };
        let path = format!("/scans/{}", "1".repeat(MAX_KEPT_NEXT - 7));
        assert_eq!(form(path.clone()).without_secrets().next, path);
        assert_eq!(form(format!("{path}0")).without_secrets().next, "");
        assert_eq!(form("/x".repeat(1000)).without_secrets().next, "");
    }

    #[test]
    fn debug_hides_passwords_and_tokens() {
        let printed = format!("{:?}", setup("secret password", "secret password"));
        assert!(
            !printed.contains("secret") && !printed.contains("token"),
            "{printed}"
        );
    }
}
