//! Test connection: the steps a person runs from the connection page, each with pass or fail
//! and the reason in words. The incident states it reads are kept for the page to offer.

use crate::auth::Clock;
use crate::servicenow::{ClientSettings, Credentials, Pacer, ServiceNowClient, ServiceNowError};
use crate::settings_store::{SecretsUnreadable, SqliteSettingsStore};
use app::api::ConnectionStep;
use app::backend::ConnectionTester;
use app::domain::StateChoice;
use async_trait::async_trait;
use serde_json::Value;
use sqlx::SqlitePool;
use std::sync::Arc;

pub struct ServiceNowConnectionTester {
    store: Arc<SqliteSettingsStore>,
    settings: ClientSettings,
    pacer: Arc<Pacer>,
    /// Where a test that passed every step is recorded (the overview shows when), and the
    /// clock that dates it.
    pool: SqlitePool,
    clock: Arc<dyn Clock>,
}

impl ServiceNowConnectionTester {
    /// `settings` are the configured ones; a test does not retry, so a failure shows at once.
    /// `pacer` is the process's one: a test's requests count against the same limits as the
    /// engine's.
    pub fn new(
        store: Arc<SqliteSettingsStore>,
        settings: ClientSettings,
        pacer: Arc<Pacer>,
        pool: SqlitePool,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            settings: ClientSettings {
                max_retries: 0,
                ..settings
            },
            pacer,
            pool,
            clock,
        }
    }
}

impl ServiceNowConnectionTester {
    /// Reads and keeps the close codes the instance offers: the engine resolves tickets
    /// with one of them. Says in words what it found; a failure here fails no step, since
    /// the engine falls back to "Solved (Permanently)".
    async fn close_codes(&self, client: &ServiceNowClient) -> String {
        let page = client
            .list(
                "sys_choice",
                "name=incident^element=close_code^inactive=false",
                &["value", "name", "element"],
                100,
                0,
            )
            .await;
        let codes: Vec<String> = match page {
            Ok(page) => page
                .records
                .iter()
                .filter(|r| {
                    r.get("name").and_then(Value::as_str) == Some("incident")
                        && r.get("element").and_then(Value::as_str) == Some("close_code")
                })
                .filter_map(|r| Some(r.get("value")?.as_str()?.to_string()))
                .collect(),
            Err(error) => return format!("The close codes could not be read ({error})."),
        };
        if codes.is_empty() {
            return "The instance lists no close codes; tickets are resolved with \u{201c}Solved (Permanently)\u{201d}.".into();
        }
        if let Err(error) = self.store.save_close_codes(&codes).await {
            tracing::error!(
                error = format!("{error:#}"),
                "failed to keep the close codes"
            );
        }
        format!(
            "Tickets are resolved with the close code \u{201c}{}\u{201d}.",
            crate::engine::content::close_code(&codes)
        )
    }
}

fn step(name: &str, result: Result<String, String>) -> ConnectionStep {
    match result {
        Ok(detail) => ConnectionStep {
            name: name.into(),
            passed: true,
            detail,
        },
        Err(detail) => ConnectionStep {
            name: name.into(),
            passed: false,
            detail,
        },
    }
}

/// The four steps, in order. Every answer lists all four: when the token request fails or
/// cannot even be sent, the other three say they were not run, so the list reads the same
/// whatever stopped it.
const STEPS: [&str; 4] = [
    "Token request",
    "Assignment group",
    "Caller",
    "Incident states",
];

/// The token request failed (or could not be sent) for `reason`: the other steps not run.
fn stopped_at_the_token_request(reason: String) -> Vec<ConnectionStep> {
    let mut steps = vec![step(STEPS[0], Err(reason))];
    for name in &STEPS[1..] {
        steps.push(step(name, Err("Not run: the token request failed.".into())));
    }
    steps
}

fn not_found(what: &str, sys_id: &str, error: ServiceNowError) -> String {
    match error {
        ServiceNowError::NotFound(_) => format!(
            "There is no {what} with sys_id {sys_id}, or the user may not read it: check the {what} SYS ID and the user's roles."
        ),
        other => other.to_string(),
    }
}

#[async_trait]
impl ConnectionTester for ServiceNowConnectionTester {
    async fn test_connection(&self) -> anyhow::Result<Vec<ConnectionStep>> {
        // Read before the credentials: a save in between makes the pass unrecorded, never
        // recorded for values the test did not use.
        let tested = crate::connection_checks::tested_settings(&self.pool).await?;
        let connection = match self.store.connection_for_client().await {
            Ok(connection) => connection,
            Err(error) if error.is::<SecretsUnreadable>() => {
                return Ok(stopped_at_the_token_request(error.to_string()));
            }
            Err(error) => return Err(error),
        };
        let Some((view, client_secret, password)) = connection else {
            return Ok(stopped_at_the_token_request(
                "Not sent. Save the connection settings first; the test uses what is saved.".into(),
            ));
        };
        let values = view.values;
        let credentials = Credentials::from_connection(&values, client_secret, password);
        let client =
            match ServiceNowClient::new(credentials, self.settings.clone(), self.pacer.clone()) {
                Ok(client) => client,
                Err(error) => return Ok(stopped_at_the_token_request(error.to_string())),
            };
        let token = client.authenticate().await.map(|()| {
            format!(
                "Signed in to {} as {} with the OAuth application {}.",
                values.instance_url, values.user_id, values.client_id
            )
        });
        let signed_in = match token {
            Ok(detail) => detail,
            Err(error) => return Ok(stopped_at_the_token_request(error.to_string())),
        };
        let mut steps = vec![step(STEPS[0], Ok(signed_in))];
        let group = client.get("sys_user_group", &values.group_sys_id).await;
        steps.push(step(
            STEPS[1],
            group
                .map(|g| {
                    format!(
                        "Found the group \u{201c}{}\u{201d}.",
                        g.get("name").and_then(Value::as_str).unwrap_or("?")
                    )
                })
                .map_err(|e| not_found("group", &values.group_sys_id, e)),
        ));
        let user = client.get("sys_user", &values.user_sys_id).await;
        steps.push(step(
            STEPS[2],
            user.map(|u| {
                let name = u
                    .get("name")
                    .or_else(|| u.get("user_name"))
                    .and_then(Value::as_str)
                    .unwrap_or("?");
                format!("Found the user \u{201c}{name}\u{201d}.")
            })
            .map_err(|e| not_found("user", &values.user_sys_id, e)),
        ));
        let states = client
            .list(
                "sys_choice",
                "name=incident^element=state^inactive=false",
                &["value", "label", "name", "element"],
                100,
                0,
            )
            .await;
        let states = match states {
            Ok(page) => {
                // Checked again here: an instance ignores a query part it does not understand.
                let choices: Vec<StateChoice> = page
                    .records
                    .iter()
                    .filter(|r| {
                        r.get("name").and_then(Value::as_str) == Some("incident")
                            && r.get("element").and_then(Value::as_str) == Some("state")
                    })
                    .filter_map(|r| {
                        Some(StateChoice {
                            value: r.get("value")?.as_str()?.to_string(),
                            label: r.get("label")?.as_str()?.to_string(),
                        })
                    })
                    .collect();
                if choices.is_empty() {
                    Err("The instance lists no incident states the user may read.".to_string())
                } else {
                    self.store.save_instance_states(&choices).await?;
                    let labels: Vec<&str> = choices.iter().map(|c| c.label.as_str()).collect();
                    let close_codes = self.close_codes(&client).await;
                    Ok(format!(
                        "Read {} states: {}. {close_codes}",
                        choices.len(),
                        labels.join(", ")
                    ))
                }
            }
            Err(error) => Err(error.to_string()),
        };
        steps.push(step(STEPS[3], states));
        // The pass is the answer; failing to note when it happened (shown on the overview)
        // must not turn it into an error.
        if steps.iter().all(|s| s.passed)
            && let Some(tested) = &tested
            && let Err(error) =
                crate::connection_checks::record_pass(&self.pool, tested, self.clock.now()).await
        {
            tracing::warn!(
                error = format!("{error:#}"),
                "Test connection passed, but the time it passed could not be recorded"
            );
        }
        Ok(steps)
    }
}
