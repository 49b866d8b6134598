//! The connection form (docs/SETTINGS.md, "The connection page").

use super::{FieldErrors, parse_required_text, parse_whole_number};
use crate::domain::{IncidentState, InstanceUrl, StateChoice, SysId};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What the browser posts, field by field, before validation. A missing field reads as
/// blank so that it is reported beside its input rather than as a malformed request.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConnectionForm {
    pub instance_url: String,
    pub client_id: String,
    pub client_secret: String,
    pub group_sys_id: String,
    pub user_sys_id: String,
    pub user_id: String,
    pub password: String,
    pub duplicate_status: String,
    pub duplicate_days: String,
}

/// Which secrets the server already holds: a blank secret field keeps the stored one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretsStored {
    pub client_secret: bool,
    pub password: bool,
    /// The stored secrets do not open with the server's key (it was changed or lost): they
    /// cannot be kept, so both must be entered again.
    #[serde(default)]
    pub unreadable: bool,
}

impl SecretsStored {
    /// Said on the page and by Test connection and the engine when the stored secrets do
    /// not open: what happened and what to do.
    pub const UNREADABLE: &'static str = "The stored client secret and password cannot be \
        read with this server's key (was the key file or ITSM_BRIDGE_SECRET_KEY changed or \
        lost?). Enter both again on the ITSM integrations page and save.";
}

/// A connection that passed validation. A secret left blank is `None`: keep the stored one.
pub struct ConnectionUpdate {
    pub instance_url: InstanceUrl,
    pub client_id: String,
    pub client_secret: Option<SecretString>,
    pub group_sys_id: SysId,
    pub user_sys_id: SysId,
    pub user_id: String,
    pub password: Option<SecretString>,
    /// The value of one of the offered states.
    pub duplicate_status: String,
    pub duplicate_days: u32,
}

/// What the connection page shows: the stored values, and for each secret only whether one
/// is stored.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ConnectionView {
    /// The stored values; the two secret fields are always empty.
    pub values: ConnectionForm,
    pub stored: SecretsStored,
    /// The states offered for the duplicate rule: the instance's own once a connection
    /// test has read them, else the standard ones.
    pub states: Vec<StateChoice>,
    /// When the settings were last saved (UTC, `2026-11-30 06:00:00`), if ever.
    pub updated_at: Option<String>,
}

impl ConnectionView {
    /// What a first visit shows: the defaults, no secret stored, the standard states.
    pub fn nothing_stored() -> Self {
        Self {
            values: ConnectionForm::defaults(),
            states: IncidentState::standard_choices(),
            ..Self::default()
        }
    }
}

impl ConnectionUpdate {
    /// The names of the fields this update changes against what is stored; a secret counts
    /// as changed whenever a new one is given (its value is never compared or named).
    pub fn changed_fields(&self, before: &ConnectionView) -> Vec<&'static str> {
        let old = &before.values;
        let days = self.duplicate_days.to_string();
        [
            (
                "ServiceNow URL",
                self.instance_url.as_str() != old.instance_url,
            ),
            ("Client ID", self.client_id != old.client_id),
            ("Client secret", self.client_secret.is_some()),
            (
                "Group SYS ID",
                self.group_sys_id.as_str() != old.group_sys_id,
            ),
            ("User SYS ID", self.user_sys_id.as_str() != old.user_sys_id),
            ("User ID", self.user_id != old.user_id),
            ("Password", self.password.is_some()),
            (
                "Status before a duplicate ticket",
                self.duplicate_status != old.duplicate_status,
            ),
            ("Days before a new ticket", days != old.duplicate_days),
        ]
        .into_iter()
        .filter_map(|(name, changed)| changed.then_some(name))
        .collect()
    }
}

impl ConnectionForm {
    pub const MAX_CLIENT_ID: usize = 255;
    pub const MAX_USER_ID: usize = 255;
    pub const MAX_SECRET: usize = 1024;
    pub const MAX_DUPLICATE_DAYS: u32 = 3650;

    /// The form a first visit shows.
    pub fn defaults() -> Self {
        Self {
            duplicate_status: IncidentState::default().value().to_string(),
            duplicate_days: "0".to_string(),
            ..Self::default()
        }
    }

    /// Checks every field against what is stored (`current`) and reports every invalid one.
    /// A blank secret keeps the stored one, but only while the URL, the client ID and the
    /// user ID stay as they are: a stored secret is never sent anywhere else than where it
    /// was entered for, so changing any of them asks for both secrets again. The browser
    /// runs this before sending, the server again before saving.
    pub fn validate(&self, current: &ConnectionView) -> Result<ConnectionUpdate, FieldErrors> {
        let mut errors = FieldErrors::default();
        let stored = current.stored;
        let instance_url = errors.check("instance_url", InstanceUrl::parse(&self.instance_url));
        let client_id = errors.check(
            "client_id",
            parse_required_text(&self.client_id, Self::MAX_CLIENT_ID, "client ID"),
        );
        let user_id = errors.check(
            "user_id",
            parse_required_text(&self.user_id, Self::MAX_USER_ID, "ServiceNow user ID"),
        );
        let old = &current.values;
        let moved: Vec<&str> = [
            (
                "ServiceNow URL",
                instance_url
                    .as_ref()
                    .is_some_and(|url| url.as_str() != old.instance_url),
            ),
            (
                "client ID",
                client_id.as_ref().is_some_and(|id| *id != old.client_id),
            ),
            (
                "user ID",
                user_id.as_ref().is_some_and(|id| *id != old.user_id),
            ),
        ]
        .into_iter()
        .filter_map(|(name, changed)| changed.then_some(name))
        .collect();
        let client_secret = errors.check(
            "client_secret",
            parse_secret(
                &self.client_secret,
                stored.client_secret,
                "client secret",
                &moved,
                stored.unreadable,
            ),
        );
        let group_sys_id = errors.check("group_sys_id", SysId::parse(&self.group_sys_id));
        let user_sys_id = errors.check("user_sys_id", SysId::parse(&self.user_sys_id));
        let password = errors.check(
            "password",
            parse_secret(
                &self.password,
                stored.password,
                "password",
                &moved,
                stored.unreadable,
            ),
        );
        let states = &current.states;
        let duplicate_status = errors.check(
            "duplicate_status",
            states
                .iter()
                .find(|s| s.value == self.duplicate_status.trim())
                .map(|s| s.value.clone())
                .ok_or_else(|| "Choose one of the listed states.".to_string()),
        );
        let duplicate_days = errors.check(
            "duplicate_days",
            parse_whole_number(&self.duplicate_days, 0, Self::MAX_DUPLICATE_DAYS, "days"),
        );
        match (
            instance_url,
            client_id,
            client_secret,
            group_sys_id,
            user_sys_id,
            user_id,
            password,
            duplicate_status,
            duplicate_days,
        ) {
            (
                Some(instance_url),
                Some(client_id),
                Some(client_secret),
                Some(group_sys_id),
                Some(user_sys_id),
                Some(user_id),
                Some(password),
                Some(duplicate_status),
                Some(duplicate_days),
            ) if errors.is_empty() => Ok(ConnectionUpdate {
                instance_url,
                client_id,
                client_secret,
                group_sys_id,
                user_sys_id,
                user_id,
                password,
                duplicate_status,
                duplicate_days,
            }),
            _ => Err(errors),
        }
    }

    /// The same form with both secrets blanked, safe to keep or show again.
    pub fn without_secrets(&self) -> Self {
        Self {
            client_secret: String::new(),
            password: String::new(),
            ..self.clone()
        }
    }
}

/// A secret may be blank (keep the stored one) only when one is stored, it can be read
/// (not `unreadable`), and none of the fields it belongs with (`moved`: the URL, client ID,
/// user ID that changed) changed.
fn parse_secret(
    raw: &str,
    stored: bool,
    what: &str,
    moved: &[&str],
    unreadable: bool,
) -> Result<Option<SecretString>, String> {
    if raw.trim().is_empty() {
        if !stored {
            return Err(format!("Enter the {what}; it is required the first time."));
        }
        if unreadable {
            return Err(format!(
                "Enter the {what} again: the stored one cannot be read with this server's key."
            ));
        }
        if !moved.is_empty() {
            return Err(format!(
                "Enter the {what} again: the {} changed, and a stored {what} is only ever sent \
                 to the instance, client and user it was entered for.",
                moved.join(" and ")
            ));
        }
        return Ok(None);
    }
    if raw.chars().count() > ConnectionForm::MAX_SECRET {
        return Err(format!(
            "The {what} is at most {} characters.",
            ConnectionForm::MAX_SECRET
        ));
    }
    Ok(Some(SecretString::from(raw.to_string())))
}

/// Never prints a secret, even when the form is logged or shown in a panic.
impl fmt::Debug for ConnectionForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redact = |s: &str| if s.is_empty() { "" } else { "[redacted]" };
        f.debug_struct("ConnectionForm")
            .field("instance_url", &self.instance_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &redact(&self.client_secret))
            .field("group_sys_id", &self.group_sys_id)
            .field("user_sys_id", &self.user_sys_id)
            .field("user_id", &self.user_id)
            .field("password", &redact(&self.password))
            .field("duplicate_status", &self.duplicate_status)
            .field("duplicate_days", &self.duplicate_days)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    const GROUP: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
    const USER: &str = "f9e8d7c6b5a4938271605f4e3d2c1b0a";

    fn valid() -> ConnectionForm {
        ConnectionForm {
            instance_url: "https://acme.service-now.com/".into(),
            client_id: "itsm-bridge".into(),
            client_secret: "s3cret value".into(),
            group_sys_id: GROUP.into(),
            user_sys_id: USER.into(),
            user_id: "svc.itsm".into(),
            password: "correct horse".into(),
            duplicate_status: "6".into(),
            duplicate_days: "30".into(),
        }
    }

    const BOTH_STORED: SecretsStored = SecretsStored {
        client_secret: true,
        password: true,
        unreadable: false,
    };

    /// `valid()` saved before, with both its secrets.
    fn both_stored() -> ConnectionView {
        ConnectionView {
            values: ConnectionForm {
                instance_url: "https://acme.service-now.com".into(),
                ..valid().without_secrets()
            },
            stored: BOTH_STORED,
            states: IncidentState::standard_choices(),
            updated_at: Some("2026-11-30 06:00:00".into()),
        }
    }

    #[test]
    fn a_valid_form_is_normalised() {
        let update = valid()
            .validate(&ConnectionView::nothing_stored())
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(update.instance_url.as_str(), "https://acme.service-now.com");
        assert_eq!(update.group_sys_id.as_str(), GROUP);
        assert_eq!(update.duplicate_status, "6");
        assert_eq!(update.duplicate_days, 30);
        assert_eq!(
            update
                .client_secret
                .as_ref()
                .map(|s| s.expose_secret().to_string()),
            Some("s3cret value".to_string())
        );
    }

    #[test]
    fn every_invalid_field_gets_its_own_message() {
        let form = ConnectionForm {
            duplicate_status: "4".into(),
            duplicate_days: "3651".into(),
            ..ConnectionForm::default()
        };
        let errors = form
            .validate(&ConnectionView::nothing_stored())
            .err()
            .expect("accepted an empty form");
        let fields: Vec<_> = errors.fields().collect();
        assert_eq!(
            fields,
            [
                "client_id",
                "client_secret",
                "duplicate_days",
                "duplicate_status",
                "group_sys_id",
                "instance_url",
                "password",
                "user_id",
                "user_sys_id"
            ]
        );
    }

    #[test]
    fn one_bad_field_alone_is_enough_to_refuse() {
        let form = ConnectionForm {
            user_sys_id: "not-a-sys-id".into(),
            ..valid()
        };
        let errors = form
            .validate(&ConnectionView::nothing_stored())
            .err()
            .expect("accepted");
        assert_eq!(errors.len(), 1);
        assert!(errors.get("user_sys_id").is_some());
    }

    #[test]
    fn blank_secrets_are_required_first_and_kept_later() {
        let form = ConnectionForm {
            client_secret: String::new(),
            password: "  ".into(),
            ..valid()
        };
        let errors = form
            .validate(&ConnectionView::nothing_stored())
            .err()
            .expect("accepted");
        assert!(
            errors
                .get("client_secret")
                .unwrap()
                .contains("required the first time")
        );
        assert!(
            errors
                .get("password")
                .unwrap()
                .contains("required the first time")
        );

        let update = form
            .validate(&both_stored())
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert!(update.client_secret.is_none());
        assert!(update.password.is_none());
    }

    #[test]
    fn secrets_that_the_key_cannot_read_must_be_entered_again_and_then_save() {
        let mut unreadable = both_stored();
        unreadable.stored.unreadable = true;
        let blank = ConnectionForm {
            client_secret: String::new(),
            password: String::new(),
            ..valid()
        };
        let errors = blank.validate(&unreadable).err().expect("accepted");
        for field in ["client_secret", "password"] {
            assert!(
                errors.get(field).unwrap().contains("cannot be read"),
                "{field}: {errors:?}"
            );
        }
        let update = valid()
            .validate(&unreadable)
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert!(update.client_secret.is_some() && update.password.is_some());
    }

    #[test]
    fn a_new_url_client_id_or_user_id_needs_both_secrets_again_and_says_why() {
        for (form, named) in [
            (
                ConnectionForm {
                    instance_url: "https://elsewhere.example.com".into(),
                    ..valid()
                },
                "the ServiceNow URL changed",
            ),
            (
                ConnectionForm {
                    client_id: "another".into(),
                    ..valid()
                },
                "the client ID changed",
            ),
            (
                ConnectionForm {
                    client_id: "another".into(),
                    user_id: "someone.else".into(),
                    ..valid()
                },
                "the client ID and user ID changed",
            ),
        ] {
            assert!(form.validate(&both_stored()).is_ok(), "{named}");
            let blank = ConnectionForm {
                client_secret: String::new(),
                password: String::new(),
                ..form
            };
            let errors = blank.validate(&both_stored()).err().expect(named);
            assert_eq!(errors.len(), 2, "{named}");
            for field in ["client_secret", "password"] {
                let message = errors.get(field).unwrap();
                assert!(
                    message.contains("again") && message.contains(named),
                    "{message}"
                );
            }
        }
        // The same URL written differently is the same instance.
        let same = ConnectionForm {
            instance_url: " https://ACME.service-now.com/ ".into(),
            client_secret: String::new(),
            password: String::new(),
            ..valid()
        };
        assert!(same.validate(&both_stored()).is_ok());
    }

    #[test]
    fn a_secret_keeps_its_spaces_and_is_bounded() {
        let form = ConnectionForm {
            password: " padded ".into(),
            ..valid()
        };
        let update = form
            .validate(&ConnectionView::nothing_stored())
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(update.password.unwrap().expose_secret(), " padded ");

        let at_limit = ConnectionForm {
            client_secret: "x".repeat(ConnectionForm::MAX_SECRET),
            ..valid()
        };
        assert!(at_limit.validate(&ConnectionView::nothing_stored()).is_ok());
        let over = ConnectionForm {
            client_secret: "x".repeat(ConnectionForm::MAX_SECRET + 1),
            ..valid()
        };
        assert!(over.validate(&both_stored()).is_err());
    }

    #[test]
    fn duplicate_days_boundaries() {
        for (days, ok) in [
            ("0", true),
            ("3650", true),
            ("3651", false),
            ("-1", false),
            ("", false),
        ] {
            let form = ConnectionForm {
                duplicate_days: days.into(),
                ..valid()
            };
            assert_eq!(
                form.validate(&ConnectionView::nothing_stored()).is_ok(),
                ok,
                "days {days:?}"
            );
        }
    }

    #[test]
    fn client_and_user_id_boundaries() {
        let at_limit = ConnectionForm {
            client_id: "c".repeat(255),
            user_id: "u".repeat(255),
            ..valid()
        };
        assert!(at_limit.validate(&ConnectionView::nothing_stored()).is_ok());
        let over = ConnectionForm {
            client_id: "c".repeat(256),
            user_id: "u".repeat(256),
            ..valid()
        };
        let errors = over
            .validate(&ConnectionView::nothing_stored())
            .err()
            .expect("accepted");
        assert!(errors.get("client_id").is_some() && errors.get("user_id").is_some());
    }

    #[test]
    fn debug_output_never_shows_a_secret() {
        let printed = format!("{:?}", valid());
        assert!(!printed.contains("s3cret"), "{printed}");
        assert!(!printed.contains("correct horse"), "{printed}");
        assert!(printed.contains("[redacted]"));
    }

    #[test]
    fn without_secrets_blanks_only_the_secrets() {
        let blank = valid().without_secrets();
        assert!(blank.client_secret.is_empty() && blank.password.is_empty());
        assert_eq!(blank.client_id, "itsm-bridge");
    }

    #[test]
    fn changed_fields_name_what_changed_and_any_new_secret() {
        let stored = both_stored();
        let same = ConnectionForm {
            client_secret: String::new(),
            password: String::new(),
            ..valid()
        };
        assert!(
            same.validate(&both_stored())
                .ok()
                .unwrap()
                .changed_fields(&stored)
                .is_empty()
        );
        let changed = ConnectionForm {
            duplicate_days: "31".into(),
            password: String::new(),
            ..valid()
        };
        assert_eq!(
            changed
                .validate(&both_stored())
                .ok()
                .unwrap()
                .changed_fields(&stored),
            ["Client secret", "Days before a new ticket"]
        );
    }

    #[test]
    fn the_instance_own_states_are_accepted_once_read() {
        let states = vec![StateChoice {
            value: "9".into(),
            label: "Awaiting Vendor".into(),
        }];
        let form = ConnectionForm {
            duplicate_status: "9".into(),
            ..valid()
        };
        let offered = ConnectionView {
            states,
            ..ConnectionView::nothing_stored()
        };
        assert!(form.validate(&offered).is_ok());
        assert!(form.validate(&ConnectionView::nothing_stored()).is_err());
    }

    #[test]
    fn defaults_are_resolved_and_zero_days() {
        let form = ConnectionForm::defaults();
        assert_eq!(form.duplicate_status, "6");
        assert_eq!(form.duplicate_days, "0");
    }
}
