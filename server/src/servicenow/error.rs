//! What can go wrong talking to ServiceNow, by meaning, each with a message a person can act
//! on. No variant carries a secret.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ServiceNowError {
    #[error(
        "ServiceNow refused the credentials ({0}): check the client ID and secret, the user ID and password, and that the user is active and the OAuth application exists"
    )]
    BadCredentials(String),
    #[error("no such record, or no right to read it: {0}")]
    NotFound(String),
    #[error("ServiceNow's rate limit was reached; it asks to wait {} s", .retry_after.as_secs())]
    RateLimited { retry_after: Duration },
    #[error("ServiceNow answered {status} (server error): {message}")]
    Server { status: u16, message: String },
    #[error("ServiceNow refused the request ({status}): {message}")]
    Refused { status: u16, message: String },
    #[error(
        "the instance answered with something that is not the Table API's JSON ({0}); a sleeping developer instance answers like this: wake it up in the developer portal"
    )]
    NotJson(String),
    #[error(
        "the instance answered a query with records it did not ask for ({0}); it ignores part of the query, often because the user may not read a field: check the user's read access to the incident fields"
    )]
    QueryIgnored(String),
    #[error("ServiceNow did not answer within {} s", .0.as_secs())]
    Timeout(Duration),
    #[error("could not reach the instance: {0}")]
    Network(String),
    #[error(
        "the TLS connection to the instance failed: {0}; check the URL, and for a private CA the CA file setting"
    )]
    Tls(String),
    #[error(
        "the instance answered {status}, a redirect to {location}; itsm-bridge never follows a redirect, since it would carry the credentials wherever it points: set the ServiceNow URL to the instance's own address"
    )]
    Redirected { status: u16, location: String },
    #[error(
        "the instance's answer is too large: {0}; itsm-bridge stops reading rather than hold it all"
    )]
    TooLarge(String),
    /// A record id that is not a sys_id: refused before any request is sent with it (it
    /// would change the path or the query of the request).
    #[error("the sys_id {0:?} is not 32 hexadecimal characters; nothing was sent with it")]
    BadSysId(String),
    /// An answer in the Table API's form that cannot be used (e.g. a sys_id that is not
    /// one): the request may have been carried out.
    #[error("the instance's answer cannot be used: {0}")]
    BadAnswer(String),
}

impl ServiceNowError {
    /// Worth trying again after a pause.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Server { .. } | Self::Network(_) | Self::Timeout(_)
        )
    }

    /// Whether the failure is the instance's (or the way to it) rather than one record's.
    /// After such a failure the next request would most likely fail the same way, so a run
    /// should stop and try again later instead of marking record after record as failed.
    /// Only an answer about the record itself concerns one record: no such record, or a
    /// refusal of this request (400 bad value, 403 ACL or data policy, 404, 409, 422).
    /// A 401 is the session's, a 429 the instance's budget: those concern every record.
    pub fn concerns_instance(&self) -> bool {
        match self {
            Self::NotFound(_) | Self::BadSysId(_) => false,
            Self::Refused { status, .. } => {
                !(400..500).contains(status) || *status == 401 || *status == 429
            }
            Self::BadCredentials(_)
            | Self::RateLimited { .. }
            | Self::Server { .. }
            | Self::NotJson(_)
            | Self::QueryIgnored(_)
            | Self::Timeout(_)
            | Self::Network(_)
            | Self::Tls(_)
            | Self::Redirected { .. }
            | Self::TooLarge(_)
            | Self::BadAnswer(_) => true,
        }
    }

    /// Whether a create or update that failed this way may nevertheless have been carried
    /// out, so that the record must be looked up before the write is sent again (else a
    /// second incident could be opened). True when the request may have been read and
    /// acted on before the answer went missing or went wrong: a timeout or a dropped
    /// connection (we cannot tell whether it dropped before or after the request was
    /// sent), a 5xx (a proxy or a business rule can fail after the insert), and an answer
    /// that is not JSON (something between us and the table answered, perhaps after it).
    /// False when the instance certainly did not act: the credentials or the rate limit
    /// refused the request before it reached the table, the table refused it, there is no
    /// such record, or TLS failed before anything was sent.
    pub fn may_have_reached_instance(&self) -> bool {
        match self {
            Self::Timeout(_)
            | Self::Network(_)
            | Self::Server { .. }
            | Self::NotJson(_)
            | Self::TooLarge(_)
            | Self::BadAnswer(_) => true,
            Self::BadSysId(_)
            | Self::BadCredentials(_)
            | Self::RateLimited { .. }
            | Self::Refused { .. }
            | Self::NotFound(_)
            | Self::QueryIgnored(_)
            | Self::Tls(_)
            | Self::Redirected { .. } => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(status: u16) -> ServiceNowError {
        ServiceNowError::Refused {
            status,
            message: "x".into(),
        }
    }

    fn server(status: u16) -> ServiceNowError {
        ServiceNowError::Server {
            status,
            message: "x".into(),
        }
    }

    fn every_kind() -> Vec<ServiceNowError> {
        vec![
            ServiceNowError::BadCredentials("x".into()),
            ServiceNowError::NotFound("x".into()),
            ServiceNowError::RateLimited {
                retry_after: Duration::from_secs(5),
            },
            server(503),
            refused(403),
            ServiceNowError::NotJson("x".into()),
            ServiceNowError::Timeout(Duration::from_secs(30)),
            ServiceNowError::Network("x".into()),
            ServiceNowError::Tls("x".into()),
            ServiceNowError::Redirected {
                status: 307,
                location: "https://elsewhere.example".into(),
            },
            ServiceNowError::TooLarge("x".into()),
        ]
    }

    #[test]
    fn only_an_answer_about_the_record_itself_concerns_one_record() {
        for status in [400, 403, 404, 409, 422] {
            assert!(!refused(status).concerns_instance(), "{status}");
        }
        assert!(!ServiceNowError::NotFound("x".into()).concerns_instance());
        for status in [401, 429] {
            assert!(refused(status).concerns_instance(), "{status}");
        }
        let instance_wide: Vec<String> = every_kind()
            .into_iter()
            .filter(ServiceNowError::concerns_instance)
            .map(|e| format!("{e:?}"))
            .collect();
        assert_eq!(
            instance_wide.len(),
            9,
            "bad credentials, rate limited, server, not JSON, timeout, network, TLS, redirected, too large: {instance_wide:?}"
        );
    }

    #[test]
    fn a_write_may_have_happened_after_a_timeout_a_dropped_connection_a_5xx_or_a_strange_answer() {
        // A body too large to read came after the instance acted: it may have written.
        let maybe: Vec<ServiceNowError> = every_kind()
            .into_iter()
            .filter(ServiceNowError::may_have_reached_instance)
            .collect();
        assert_eq!(
            maybe,
            [
                server(503),
                ServiceNowError::NotJson("x".into()),
                ServiceNowError::Timeout(Duration::from_secs(30)),
                ServiceNowError::Network("x".into()),
                ServiceNowError::TooLarge("x".into()),
            ]
        );
    }

    #[test]
    fn a_refusal_or_a_failure_before_sending_did_not_write_anything() {
        for error in [
            ServiceNowError::BadCredentials("x".into()),
            ServiceNowError::RateLimited {
                retry_after: Duration::from_secs(5),
            },
            refused(400),
            refused(409),
            ServiceNowError::NotFound("x".into()),
            ServiceNowError::Tls("x".into()),
            ServiceNowError::Redirected {
                status: 307,
                location: "https://elsewhere.example".into(),
            },
        ] {
            assert!(!error.may_have_reached_instance(), "{error:?}");
        }
    }
}
