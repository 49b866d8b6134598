//! The Tickets page's reads: one page of tickets, newest first (by id), from a cursor,
//! filtered by state class and grouping. Every combination of filters has its index
//! (migration 0010), so a page is an index range read of at most 50 rows plus two probes
//! for "is there a page before / after", however many tickets there are. Keyset paging
//! rather than OFFSET: an offset reads and skips every row before the page, so page 2,000
//! would cost 2,000 times page 1.

use crate::settings_store::SqliteSettingsStore;
use crate::timestamps::format_unix;
use anyhow::Context;
use app::api::{
    Cursor, ReplacedTicket, StateClass, TicketQuery, TicketView, TicketsPage, Tracking,
};
use app::backend::{SettingsStore, TicketList};
use app::domain::{Grouping, IncidentState};
use async_trait::async_trait;
use sqlx::sqlite::SqliteArguments;
use sqlx::{Arguments, Row, SqlitePool};
use std::collections::HashMap;
use std::sync::Arc;

/// A ticket's state class, written exactly as in the indexes of migration 0010 (SQLite
/// uses an expression index only for the same expression).
pub const STATE_CLASS: &str = "(CASE WHEN phase = 'intent' THEN 'unconfirmed' \
          WHEN missing_since IS NOT NULL OR state IN ('7', '8') THEN 'closed' \
          WHEN state = '6' THEN 'resolved' \
          ELSE 'open' END)";

/// Where an incident opens in its instance: ServiceNow's link form. Only a sys_id (32
/// hexadecimal characters) makes a link: anything else could change where it points.
pub fn incident_link(instance_url: &str, sys_id: &str) -> Option<String> {
    crate::servicenow::is_sys_id(sys_id).then(|| {
        format!(
            "{}/nav_to.do?uri=incident.do?sys_id={sys_id}",
            instance_url.trim_end_matches('/')
        )
    })
}

pub struct SqliteTicketList {
    pool: SqlitePool,
    settings: Arc<SqliteSettingsStore>,
}

impl SqliteTicketList {
    pub fn new(pool: SqlitePool, settings: Arc<SqliteSettingsStore>) -> Self {
        Self { pool, settings }
    }
}

/// The filters as SQL: a `WHERE` clause's conditions (joined by AND) and their arguments.
fn filters(query: &TicketQuery) -> (Vec<String>, Vec<&'static str>) {
    let mut conditions = Vec::new();
    let mut values = Vec::new();
    if let Some(grouping) = query.grouping {
        conditions.push("grouping = ?".to_string());
        values.push(grouping.value());
    }
    if let Some(state) = query.state {
        conditions.push(format!("{STATE_CLASS} = ?"));
        values.push(state.value());
    }
    (conditions, values)
}

fn arguments(values: &[&'static str], ids: &[i64]) -> anyhow::Result<SqliteArguments<'static>> {
    let mut arguments = SqliteArguments::default();
    for value in values {
        arguments
            .add(*value)
            .map_err(|e| anyhow::anyhow!("Failed to bind a filter: {e}"))?;
    }
    for id in ids {
        arguments
            .add(*id)
            .map_err(|e| anyhow::anyhow!("Failed to bind a cursor: {e}"))?;
    }
    Ok(arguments)
}

fn where_clause(conditions: &[String], extra: Option<&str>) -> String {
    let all: Vec<&str> = conditions.iter().map(String::as_str).chain(extra).collect();
    if all.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", all.join(" AND "))
    }
}

/// A ticket as read, before it is told how the engine sees it.
struct ListedRow {
    id: i64,
    grouping: String,
    group_key: String,
    generation: i64,
    instance_url: String,
    tracked: bool,
    sys_id: Option<String>,
    number: Option<String>,
    state: Option<String>,
    class: String,
    refreshed_at: Option<i64>,
    opened_at: Option<i64>,
    created_at: i64,
    replaces: Option<i64>,
}

impl SqliteTicketList {
    /// Whether a ticket matching the filters lies beyond `id` in the direction `beyond`.
    async fn exists(&self, query: &TicketQuery, beyond: &str, id: i64) -> anyhow::Result<bool> {
        let (conditions, values) = filters(query);
        let sql = format!(
            "SELECT EXISTS (SELECT 1 FROM engine_tickets {})",
            where_clause(&conditions, Some(beyond))
        );
        let found: bool = sqlx::query_scalar_with(&sql, arguments(&values, &[id])?)
            .fetch_one(&self.pool)
            .await
            .context("Failed to look for another page of tickets")?;
        Ok(found)
    }

    async fn count(&self, query: &TicketQuery) -> anyhow::Result<i64> {
        let (conditions, values) = filters(query);
        let sql = format!(
            "SELECT COUNT(*) FROM engine_tickets {}",
            where_clause(&conditions, None)
        );
        sqlx::query_scalar_with(&sql, arguments(&values, &[])?)
            .fetch_one(&self.pool)
            .await
            .context("Failed to count the tickets")
    }

    async fn page_rows(
        &self,
        query: &TicketQuery,
        per_page: u32,
    ) -> anyhow::Result<Vec<ListedRow>> {
        let (conditions, values) = filters(query);
        let (bound, order, ids) = match query.cursor {
            Cursor::First => (None, "DESC", vec![]),
            Cursor::After(id) => (Some("id < ?"), "DESC", vec![id]),
            Cursor::Before(id) => (Some("id > ?"), "ASC", vec![id]),
        };
        let sql = format!(
            "SELECT id, grouping, group_key, generation, instance_url, tracked, sys_id, number, \
                    state, {STATE_CLASS} AS class, refreshed_at, opened_at, created_at, replaces \
             FROM engine_tickets {} ORDER BY id {order} LIMIT ?",
            where_clause(&conditions, bound)
        );
        let mut ids = ids;
        ids.push(i64::from(per_page));
        let mut rows: Vec<ListedRow> = sqlx::query_with(&sql, arguments(&values, &ids)?)
            .fetch_all(&self.pool)
            .await
            .context("Failed to read a page of tickets")?
            .into_iter()
            .map(|r| ListedRow {
                id: r.get("id"),
                grouping: r.get("grouping"),
                group_key: r.get("group_key"),
                generation: r.get("generation"),
                instance_url: r.get("instance_url"),
                tracked: r.get::<i64, _>("tracked") == 1,
                sys_id: r.get("sys_id"),
                number: r.get("number"),
                state: r.get("state"),
                class: r.get("class"),
                refreshed_at: r.get("refreshed_at"),
                opened_at: r.get("opened_at"),
                created_at: r.get("created_at"),
                replaces: r.get("replaces"),
            })
            .collect();
        if matches!(query.cursor, Cursor::Before(_)) {
            rows.reverse();
        }
        Ok(rows)
    }

    /// For the page's tickets: the failing findings each lists, and the highest severity of
    /// those in the latest scan of their source.
    async fn findings(&self, ids: &[i64]) -> anyhow::Result<HashMap<i64, (i64, Option<i64>)>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let marks = vec!["?"; ids.len()].join(", ");
        let sql = format!(
            "WITH latest AS ( \
               SELECT id, source FROM ( \
                 SELECT id, source, row_number() OVER \
                   (PARTITION BY source ORDER BY scanned_at DESC, id DESC) AS n \
                 FROM scans WHERE completed_at IS NOT NULL) ranked WHERE n = 1) \
             SELECT m.ticket_id, COUNT(*) AS listed, MAX(f.severity) AS severity \
             FROM engine_ticket_members m \
             LEFT JOIN latest ON latest.source = m.source \
             LEFT JOIN findings f ON f.scan_id = latest.id AND f.control_id = m.control_id \
                                  AND f.resource_id = m.resource_id \
             WHERE m.failing = 1 AND m.ticket_id IN ({marks}) GROUP BY m.ticket_id"
        );
        let rows = sqlx::query_with(&sql, arguments(&[], ids)?)
            .fetch_all(&self.pool)
            .await
            .context("Failed to read the tickets' findings")?;
        Ok(rows
            .into_iter()
            .map(|r| (r.get("ticket_id"), (r.get("listed"), r.get("severity"))))
            .collect())
    }

    /// The tickets these replaced, by id.
    async fn replaced(&self, ids: &[i64]) -> anyhow::Result<HashMap<i64, ReplacedTicket>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let marks = vec!["?"; ids.len()].join(", ");
        let sql = format!(
            "SELECT id, number, sys_id, instance_url FROM engine_tickets WHERE id IN ({marks})"
        );
        let rows = sqlx::query_with(&sql, arguments(&[], ids)?)
            .fetch_all(&self.pool)
            .await
            .context("Failed to read the replaced tickets")?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let sys_id: Option<String> = r.get("sys_id");
                let instance_url: String = r.get("instance_url");
                let replaced = ReplacedTicket {
                    number: r.get("number"),
                    link: sys_id.and_then(|s| incident_link(&instance_url, &s)),
                };
                (r.get("id"), replaced)
            })
            .collect())
    }

    /// The instance's labels of its states, as the last Test connection read them.
    async fn state_labels(&self) -> anyhow::Result<HashMap<String, String>> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT value, label FROM instance_states")
                .fetch_all(&self.pool)
                .await
                .context("Failed to read the instance's states")?;
        Ok(rows.into_iter().collect())
    }
}

/// The severity's name as the scans pages show it; "unknown" when no latest scan lists any
/// of the ticket's findings.
fn severity_name(severity: Option<i64>) -> String {
    severity
        .map_or("unknown", app::domain::Severity::name_of_rank)
        .to_string()
}

fn state_label(row: &ListedRow, labels: &HashMap<String, String>) -> String {
    if row.class == StateClass::Unconfirmed.value() {
        return "create not confirmed".to_string();
    }
    let Some(state) = &row.state else {
        return "not read yet".to_string();
    };
    let label = labels
        .get(state)
        .cloned()
        .or_else(|| IncidentState::from_value(state).map(|s| s.label().to_string()))
        .unwrap_or_else(|| format!("state {state}"));
    if row.class == StateClass::Closed.value() && !matches!(state.as_str(), "7" | "8") {
        format!("{label}, then gone from the instance")
    } else {
        label
    }
}

fn class(value: &str) -> StateClass {
    StateClass::parse(value).unwrap_or(StateClass::Open)
}

#[async_trait]
impl TicketList for SqliteTicketList {
    async fn tickets(&self, query: TicketQuery, per_page: u32) -> anyhow::Result<TicketsPage> {
        let connection = self.settings.connection().await?;
        let instance_url = connection
            .updated_at
            .is_some()
            .then(|| connection.values.instance_url.clone());
        let grouping_in_use = self.settings.itsm_settings().await?.grouping;
        let total = self.count(&query).await?;
        let rows = self.page_rows(&query, per_page).await?;
        let (previous, next) = match (rows.first(), rows.last()) {
            (Some(newest), Some(oldest)) => (
                self.exists(&query, "id > ?", newest.id)
                    .await?
                    .then_some(Cursor::Before(newest.id)),
                self.exists(&query, "id < ?", oldest.id)
                    .await?
                    .then_some(Cursor::After(oldest.id)),
            ),
            // A cursor past the end (the list changed since the link was made): back to
            // where there are tickets.
            _ => match query.cursor {
                Cursor::After(id) => (
                    self.exists(&query, "id >= ?", id)
                        .await?
                        .then_some(Cursor::Before(id)),
                    None,
                ),
                Cursor::Before(id) => (
                    None,
                    self.exists(&query, "id <= ?", id)
                        .await?
                        .then_some(Cursor::After(id)),
                ),
                Cursor::First => (None, None),
            },
        };
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let findings = self.findings(&ids).await?;
        let replaced_ids: Vec<i64> = rows.iter().filter_map(|r| r.replaces).collect();
        let replaced = self.replaced(&replaced_ids).await?;
        let labels = self.state_labels().await?;
        let same_instance = |url: &str| {
            instance_url
                .as_deref()
                .is_some_and(|now| now.trim_end_matches('/') == url.trim_end_matches('/'))
        };
        let tickets = rows
            .iter()
            .map(|row| {
                let grouping = Grouping::parse(&row.grouping).unwrap_or_default();
                let tracking = if !row.tracked {
                    Tracking::Replaced
                } else if !same_instance(&row.instance_url) {
                    Tracking::Elsewhere
                } else if grouping != grouping_in_use {
                    Tracking::Frozen
                } else {
                    Tracking::Tracked
                };
                let (listed, severity) = findings.get(&row.id).copied().unwrap_or((0, None));
                TicketView {
                    id: row.id,
                    number: row.number.clone(),
                    link: row
                        .sys_id
                        .as_deref()
                        .and_then(|sys_id| incident_link(&row.instance_url, sys_id)),
                    instance_url: row.instance_url.clone(),
                    state_class: class(&row.class),
                    state: state_label(row, &labels),
                    refreshed_at: row.refreshed_at.map(format_unix),
                    grouping,
                    key: row.group_key.clone(),
                    findings: listed,
                    highest_severity: severity_name(severity),
                    opened_at: format_unix(row.opened_at.unwrap_or(row.created_at)),
                    generation: row.generation,
                    replaces: row.replaces.map(|id| {
                        replaced.get(&id).cloned().unwrap_or(ReplacedTicket {
                            number: None,
                            link: None,
                        })
                    }),
                    tracking,
                }
            })
            .collect();
        Ok(TicketsPage {
            tickets,
            total,
            grouping_in_use,
            instance_url,
            next,
            previous,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::incident_link;

    #[test]
    fn only_a_32_hexadecimal_sys_id_makes_a_link() {
        let good = format!(
            "{:?}",
            incident_link(
                "https://x.service-now.com/",
                "0123456789abcdef0123456789abcdef"
            )
        );
        assert!(
            good.contains(
                "https://x.service-now.com/nav_to.do?uri=incident.do?sys_id=0123456789abcdef0123456789abcdef"
            ),
            "{good}"
        );
        for bad in ["\" onmouseover=\"alert(1)", "abc&sysparm_view=x", ""] {
            let link = format!("{:?}", incident_link("https://x.service-now.com", bad));
            assert!(!link.contains("nav_to"), "{bad}: {link}");
        }
    }
}
