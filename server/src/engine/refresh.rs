//! The refresh: the states of the tracked tickets read back from the instance, up to 100 per
//! request (`sys_idIN…`), only the fields the rules need. A ticket the answer does not hold
//! is marked missing (it then counts as Closed). Closed, Canceled and missing tickets are
//! not read again: they cannot reach the chosen status any later than they did.

use super::model::TrackedTicket;
use super::store::{Seen, SeenState};
use crate::servicenow::{Record, ServiceNowClient, ServiceNowError};
use serde_json::Value;
use std::collections::HashMap;

pub const BATCH: usize = 100;
const FIELDS: [&str; 5] = ["sys_id", "state", "opened_at", "resolved_at", "closed_at"];

/// Whether a refresh still reads this ticket.
pub fn needs_refresh(ticket: &TrackedTicket) -> bool {
    ticket.missing_since.is_none() && !matches!(ticket.state.as_str(), "7" | "8")
}

/// Reads one batch (at most [`BATCH`] tickets).
pub async fn read_batch(
    client: &ServiceNowClient,
    batch: &[&TrackedTicket],
) -> Result<Vec<Seen>, ServiceNowError> {
    let ids: Vec<&str> = batch.iter().map(|t| t.sys_id.as_str()).collect();
    let page = client
        .list(
            "incident",
            &format!("sys_idIN{}", ids.join(",")),
            &FIELDS,
            BATCH as u32,
            0,
        )
        .await?;
    // An instance that ignores a query part answers with other records: marking the asked
    // ones missing on such an answer would open a new ticket for every one of them.
    let asked: std::collections::HashSet<&str> = ids.iter().copied().collect();
    let foreign = page.records.iter().any(|r| {
        !r.get("sys_id")
            .and_then(Value::as_str)
            .is_some_and(|id| asked.contains(id))
    });
    if foreign || page.total.is_some_and(|total| total > batch.len() as u64) {
        return Err(ServiceNowError::QueryIgnored(format!(
            "a read of {} tickets' states by sys_id",
            batch.len()
        )));
    }
    let mut found: HashMap<String, Record> = page
        .records
        .into_iter()
        .filter_map(|r| Some((r.get("sys_id")?.as_str()?.to_string(), r)))
        .collect();
    Ok(batch
        .iter()
        .map(|t| Seen {
            ticket: t.id,
            found: found.remove(&t.sys_id).map(|r| SeenState {
                state: text(&r, "state").unwrap_or_else(|| t.state.clone()),
                opened_at: date(&r, "opened_at"),
                resolved_at: date(&r, "resolved_at"),
                closed_at: date(&r, "closed_at"),
            }),
        })
        .collect())
}

/// Applies what a refresh saw to the ticket in memory, as the store records it.
pub fn apply(ticket: &mut TrackedTicket, seen: &Seen, now: i64) {
    match &seen.found {
        Some(s) => {
            if s.state != ticket.state {
                ticket.state = s.state.clone();
                ticket.state_seen_at = now;
            }
            if let Some(opened_at) = s.opened_at {
                ticket.opened_at = opened_at;
            }
            ticket.resolved_at = s.resolved_at;
            ticket.closed_at = s.closed_at;
            ticket.missing_since = None;
        }
        None => {
            ticket.missing_since.get_or_insert(now);
        }
    }
}

fn text(record: &Record, field: &str) -> Option<String> {
    record
        .get(field)
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// ServiceNow's `YYYY-MM-DD HH:MM:SS` (UTC) as Unix seconds; empty is `None`.
pub fn date(record: &Record, field: &str) -> Option<i64> {
    let raw = text(record, field)?;
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    time::PrimitiveDateTime::parse(&raw, &format)
        .ok()
        .map(|t| t.assume_utc().unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servicenow_dates_are_read_as_utc() {
        let mut record = Record::new();
        record.insert("resolved_at".into(), "2026-11-26 06:00:00".into());
        record.insert("closed_at".into(), "".into());
        assert_eq!(date(&record, "resolved_at"), Some(1_795_672_800));
        assert_eq!(date(&record, "closed_at"), None);
        assert_eq!(date(&record, "opened_at"), None);
    }
}
