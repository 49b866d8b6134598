//! The applier: carries a plan out through the ServiceNow client and records every outcome.
//! Never a duplicate: the intent to open a ticket is committed before the create is sent;
//! a create whose outcome is unknown leaves the intent for the next run, which looks the
//! ticket up by `correlation_id` before anything else (see `run.rs`). An error that concerns
//! one record fails that group only; one that concerns the instance ends the run, the rest
//! deferred to the next run.

use super::busy::{DatabaseError, retry_busy};
use super::content::{self, Recipients};
use super::model::{Finding, GroupKey, Rules, TrackedTicket};
use super::planner::{Action, Decision};
use super::run_store::{self, Counts};
use super::store::{self, Opened};
use crate::auth::Clock;
use crate::servicenow::{Record, ServiceNowClient, ServiceNowError};
use serde_json::{Map, Value};
use sqlx::SqlitePool;
use std::collections::HashMap;
use std::sync::Arc;

/// Why a run stopped before its plan was carried out.
#[derive(Debug, thiserror::Error)]
pub enum Stop {
    #[error("{0}")]
    Instance(ServiceNowError),
    #[error(transparent)]
    Database(#[from] DatabaseError),
    #[error("the engine's lease was taken by another process (it had lapsed); this run stopped")]
    LeaseLost,
    #[error("the server is shutting down")]
    Shutdown,
    /// The stored secrets do not open with this key: nothing can be sent until they are
    /// entered again.
    #[error(transparent)]
    Secrets(#[from] crate::settings_store::SecretsUnreadable),
}

/// What the applier needs besides the plan.
pub struct Applier<'a> {
    pub pool: &'a SqlitePool,
    pub client: &'a ServiceNowClient,
    pub clock: &'a Arc<dyn Clock>,
    pub run_id: i64,
    pub holder: &'a str,
    /// How long the lease lasts, in milliseconds: it is extended before every create.
    pub lease_ms: i64,
    pub install_id: &'a str,
    pub instance_url: &'a str,
    pub recipients: &'a Recipients,
    pub rules: &'a Rules,
    pub close_code: String,
    pub findings: &'a [Finding],
    pub tickets: HashMap<i64, &'a TrackedTicket>,
    /// The database was restored from a backup (`restored.rs`): every create is preceded by
    /// a lookup of its correlation_id, since the ticket may have been opened after the backup.
    pub look_up_before_create: bool,
}

/// The most groups set aside that one run lists by name (see [`GroupOutcome::SetAside`]);
/// the run's count has them all.
pub const SET_ASIDE_ROWS: i64 = 100;

/// How one group went.
enum GroupOutcome {
    Done(&'static str, Option<String>, String),
    /// Opened, but the note on the ticket it replaces met an error that ends the run.
    OpenedThenStop(String, String, ServiceNowError),
    Unchanged,
    /// Every failing finding set aside (filters, exceptions) and no ticket: its own row.
    SetAside,
    Failed(String),
}

impl Applier<'_> {
    /// Carries out one decision, counting it. `Err` ends the run.
    pub async fn apply(&self, decision: &Decision, counts: &mut Counts) -> Result<(), Stop> {
        let outcome = match &decision.action {
            Action::Nothing { ticket: None }
                if decision.findings.is_empty() && !decision.set_aside.is_empty() =>
            {
                Ok(GroupOutcome::SetAside)
            }
            Action::Nothing { .. } => Ok(GroupOutcome::Unchanged),
            Action::Open {
                members,
                supersedes,
                note_superseded,
            } => {
                self.open(decision, members, *supersedes, *note_superseded)
                    .await
            }
            Action::Note {
                ticket,
                added,
                gone,
                members,
            } => {
                let added: std::collections::HashSet<&super::model::MemberKey> =
                    added.iter().collect();
                let added: Vec<&Finding> = decision
                    .findings
                    .iter()
                    .map(|&i| &self.findings[i])
                    .filter(|f| added.contains(&f.member_key()))
                    .collect();
                let aside: std::collections::HashSet<super::model::MemberKey> = decision
                    .set_aside
                    .iter()
                    .map(|&i| self.findings[i].member_key())
                    .collect();
                let note = content::change_note(&added, gone, &aside);
                let ticket = self.ticket(*ticket);
                match self.write(ticket, "work_notes", &note).await {
                    Ok(()) => {
                        retry_busy(|| store::record_members(self.pool, ticket.id, members)).await?;
                        Ok(GroupOutcome::Done(
                            "noted",
                            Some(ticket.number.clone()),
                            decision.reason.clone(),
                        ))
                    }
                    Err(error) => self.refused(error),
                }
            }
            Action::Resolve { ticket, scans } => {
                let ticket = self.ticket(*ticket);
                let mut fields = Map::new();
                fields.insert("state".into(), Value::String("6".into()));
                fields.insert("close_code".into(), Value::String(self.close_code.clone()));
                fields.insert(
                    "close_notes".into(),
                    Value::String(content::close_notes(scans)),
                );
                match self.client.patch("incident", &ticket.sys_id, &fields).await {
                    Ok(record)
                        if record
                            .get("state")
                            .and_then(Value::as_str)
                            .is_some_and(|s| s != "6") =>
                    {
                        Ok(GroupOutcome::Failed(format!(
                            "{} stayed in state {} after the resolve: check that the user may write state, close_code and close_notes",
                            ticket.number,
                            record.get("state").and_then(Value::as_str).unwrap_or("?")
                        )))
                    }
                    Ok(_) => {
                        let now = self.clock.now();
                        retry_busy(|| store::record_resolved(self.pool, ticket.id, now)).await?;
                        Ok(GroupOutcome::Done(
                            "resolved",
                            Some(ticket.number.clone()),
                            decision.reason.clone(),
                        ))
                    }
                    Err(error) => self.refused(error),
                }
            }
        }?;
        let mut stop = None;
        let (action, number, detail) = match outcome {
            GroupOutcome::OpenedThenStop(number, detail, error) => {
                counts.opened += 1;
                stop = Some(Stop::Instance(error));
                ("opened", Some(number), detail)
            }
            GroupOutcome::Unchanged => {
                counts.unchanged += 1;
                return Ok(());
            }
            GroupOutcome::SetAside => {
                counts.set_aside += 1;
                // Filters can set aside every group of a large scan, run after run: the
                // first rows say what and why, the count says how many.
                if counts.set_aside > SET_ASIDE_ROWS {
                    return Ok(());
                }
                ("set aside", None, decision.reason.clone())
            }
            GroupOutcome::Done(action, number, detail) => {
                match action {
                    "opened" => counts.opened += 1,
                    "noted" => counts.noted += 1,
                    _ => counts.resolved += 1,
                }
                (action, number, detail)
            }
            GroupOutcome::Failed(error) => {
                counts.failed += 1;
                tracing::warn!(key = %decision.key.id, error, "a group failed; it is retried next run");
                ("failed", None, error)
            }
        };
        let detail = &detail;
        retry_busy(|| {
            run_store::record_group(
                self.pool,
                self.run_id,
                &decision.key,
                action,
                number.as_deref(),
                detail,
            )
        })
        .await?;
        stop.map_or(Ok(()), Err)
    }

    async fn open(
        &self,
        decision: &Decision,
        members: &[super::model::Member],
        supersedes: Option<i64>,
        note_superseded: bool,
    ) -> Result<GroupOutcome, Stop> {
        // Still ours, and extended (even if it lapsed while the database was busy, as long
        // as nobody took it since), or the run stops before the create.
        if !retry_busy(|| {
            run_store::renew_lease(self.pool, self.holder, self.clock.now_ms(), self.lease_ms)
        })
        .await?
        {
            return Err(Stop::LeaseLost);
        }
        let now = self.clock.now();
        let key: &GroupKey = &decision.key;
        let (ticket_id, correlation_id) = retry_busy(|| {
            store::record_intent(
                self.pool,
                key,
                self.install_id,
                self.instance_url,
                members,
                supersedes,
                now,
            )
        })
        .await?;
        let findings: Vec<&Finding> = decision
            .findings
            .iter()
            .map(|&i| &self.findings[i])
            .collect();
        if self.look_up_before_create
            && let Some(outcome) = self.adopt(ticket_id, &correlation_id, decision).await?
        {
            return Ok(outcome);
        }
        let fields =
            content::new_incident(key, &findings, members, &correlation_id, self.recipients);
        let created = match self.client.create("incident", &fields).await {
            Ok(record) => record,
            // A create has no record to be missing: a 404 means a wrong path or a proxy.
            Err(ServiceNowError::NotFound(message)) => {
                retry_busy(|| store::drop_intent(self.pool, ticket_id)).await?;
                return Err(Stop::Instance(ServiceNowError::NotFound(message)));
            }
            Err(error) => {
                if !error.may_have_reached_instance() {
                    retry_busy(|| store::drop_intent(self.pool, ticket_id)).await?;
                } else {
                    tracing::warn!(%correlation_id, error = %error, "the outcome of a create is unknown; the next run looks it up");
                }
                return self.refused(error);
            }
        };
        // An unusable answer leaves the intent: the next run looks the ticket up first.
        let opened = opened_from(&created, self.clock.now())
            .map_err(|why| Stop::Instance(ServiceNowError::BadAnswer(why)))?;
        let now = self.clock.now();
        retry_busy(|| store::record_opened(self.pool, ticket_id, &opened, now)).await?;
        tracing::Span::current().record("number", opened.number.as_str());
        tracing::info!(number = %opened.number, %correlation_id, key = %key.id, "opened a ticket");
        let mut detail = decision.reason.clone();
        if let (Some(old), true) = (supersedes, note_superseded) {
            let old = self.ticket(old);
            let note = content::superseded_note(&opened.number, self.rules.duplicate_days);
            match self.write(old, "work_notes", &note).await {
                Ok(()) => detail.push_str(&format!("; noted on {}", old.number)),
                Err(error) if error.concerns_instance() => {
                    detail.push_str(&format!("; the note on {} failed: {error}", old.number));
                    return Ok(GroupOutcome::OpenedThenStop(opened.number, detail, error));
                }
                Err(error) => {
                    detail.push_str(&format!("; the note on {} failed: {error}", old.number))
                }
            }
        }
        Ok(GroupOutcome::Done("opened", Some(opened.number), detail))
    }

    /// After a restore: the ticket this intent names, when the instance has it already
    /// (opened after the backup was taken), adopted instead of opened again. `Ok(None)`: not
    /// there, open it. A failed lookup drops the intent (nothing was sent) and fails the
    /// group, or the run when it concerns the instance.
    async fn adopt(
        &self,
        ticket_id: i64,
        correlation_id: &str,
        decision: &Decision,
    ) -> Result<Option<GroupOutcome>, Stop> {
        let found = match self
            .client
            .incidents_by_correlation_id(correlation_id)
            .await
        {
            Ok(found) => found,
            Err(error) => {
                retry_busy(|| store::drop_intent(self.pool, ticket_id)).await?;
                return self.refused(error).map(Some);
            }
        };
        let now = self.clock.now();
        let opened = match found.first().map(|r| opened_from(r, now)) {
            None => return Ok(None),
            Some(Ok(opened)) => opened,
            // Not adopted, and not opened either: a second ticket may be the first's twin.
            Some(Err(problem)) => {
                return Ok(Some(GroupOutcome::Failed(format!(
                    "looking its ticket up by correlation_id after a restore: {problem}"
                ))));
            }
        };
        retry_busy(|| store::record_opened(self.pool, ticket_id, &opened, now)).await?;
        tracing::info!(number = %opened.number, %correlation_id, "adopted a ticket opened after the backup the database was restored from");
        let detail = format!(
            "{}; adopted {}, which the instance already had (opened after the backup this \
             database was restored from; found by its correlation_id, not opened again)",
            decision.reason, opened.number
        );
        Ok(Some(GroupOutcome::Done(
            "opened",
            Some(opened.number),
            detail,
        )))
    }

    async fn write(
        &self,
        ticket: &TrackedTicket,
        field: &str,
        text: &str,
    ) -> Result<(), ServiceNowError> {
        let mut fields = Map::new();
        fields.insert(field.into(), Value::String(text.into()));
        self.client
            .patch("incident", &ticket.sys_id, &fields)
            .await
            .map(|_| ())
    }

    /// A record's refusal fails the group; anything about the instance ends the run.
    fn refused(&self, error: ServiceNowError) -> Result<GroupOutcome, Stop> {
        if error.concerns_instance() {
            Err(Stop::Instance(error))
        } else {
            Ok(GroupOutcome::Failed(error.to_string()))
        }
    }

    /// The span of one group's work, `group{key, number}`: the number of its incident when
    /// it has one, recorded by [`open`](Self::open) once the instance gives it.
    pub fn group_span(&self, decision: &Decision) -> tracing::Span {
        // An open's ticket is the one it supersedes: its number is not the group's.
        let number = match decision.action {
            Action::Open { .. } => None,
            _ => decision
                .ticket()
                .and_then(|id| self.tickets.get(&id))
                .map(|ticket| ticket.number.as_str()),
        };
        tracing::info_span!("group", key = %decision.key.id, number)
    }

    fn ticket(&self, id: i64) -> &TrackedTicket {
        self.tickets[&id]
    }
}

/// The sys_id, number, state and opened date of an incident the instance returned, or why
/// the answer cannot be used. The sys_id is checked here, where it is received: it goes into
/// links and request paths later.
pub fn opened_from(record: &Record, now: i64) -> Result<Opened, String> {
    let text = |field: &str| {
        record
            .get(field)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let sys_id = text("sys_id").ok_or("the incident it returned has no sys_id")?;
    if !crate::servicenow::is_sys_id(&sys_id) {
        return Err(format!(
            "the incident it returned has the sys_id {sys_id:?}, which is not 32 hexadecimal characters"
        ));
    }
    Ok(Opened {
        number: text("number").unwrap_or_else(|| sys_id.clone()),
        sys_id,
        state: text("state").unwrap_or_else(|| "1".into()),
        opened_at: super::refresh::date(record, "opened_at")
            .or_else(|| super::refresh::date(record, "sys_created_on"))
            .unwrap_or(now),
    })
}

#[cfg(test)]
mod tests {
    use super::opened_from;
    use serde_json::json;

    fn record(value: serde_json::Value) -> crate::servicenow::Record {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn an_answer_whose_sys_id_is_not_32_hexadecimal_characters_is_an_error_in_words() {
        for bad in [
            "../sys_user/1",
            "0123456789abcdef",
            "zz23456789abcdef0123456789abcdef",
        ] {
            let answer = record(json!({"sys_id": bad, "number": "INC0010001"}));
            let outcome = format!("{:?}", opened_from(&answer, 0));
            assert!(
                outcome.contains("32 hexadecimal characters") && outcome.contains(bad),
                "{bad}: {outcome}"
            );
        }
        let answer =
            record(json!({"sys_id": "0123456789abcdef0123456789abcdef", "number": "INC1"}));
        let outcome = format!("{:?}", opened_from(&answer, 0));
        assert!(
            outcome.contains("\"0123456789abcdef0123456789abcdef\""),
            "{outcome}"
        );
    }
}
