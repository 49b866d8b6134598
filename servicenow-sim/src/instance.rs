//! The instance's state: tables of string records, OAuth clients and tokens, the fault
//! plan, and the request log.

use crate::query::Record;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};

pub const GROUP_SYS_ID: &str = "477a05d153013010b846ddeeff7b1225";
pub const USER_SYS_ID: &str = "6816f79cc0a8016401c5a33be04be441";
pub const USER_NAME: &str = "itsm.bridge";
pub const USER_PASSWORD: &str = "sim-password-1";
pub const CLIENT_ID: &str = "sim-client";
pub const CLIENT_SECRET: &str = "sim-client-secret";

/// Reference fields of the incident table and the tables they point to.
pub const INCIDENT_REFERENCES: &[(&str, &str)] = &[
    ("assignment_group", "sys_user_group"),
    ("caller_id", "sys_user"),
    ("assigned_to", "sys_user"),
];

pub const INCIDENT_FIELDS: &[&str] = &[
    "sys_id",
    "number",
    "state",
    "active",
    "short_description",
    "description",
    "correlation_id",
    "correlation_display",
    "assignment_group",
    "caller_id",
    "assigned_to",
    "urgency",
    "impact",
    "priority",
    "opened_at",
    "sys_created_on",
    "sys_updated_on",
    "resolved_at",
    "closed_at",
    "close_code",
    "close_notes",
    "work_notes",
    "comments",
];

/// Journal fields are written by POST/PATCH and read back empty.
pub const JOURNAL_FIELDS: &[&str] = &["work_notes", "comments"];

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// Answer this status (500, 502, 503…) with a ServiceNow error body.
    Status { status: u16 },
    /// 429 with `Retry-After`.
    RateLimited { retry_after: u64 },
    /// Wait this long before answering.
    Delay { millis: u64 },
    /// The sleeping-instance HTML page, with 200.
    Hibernate,
    /// Create the record, then drop the connection without an answer.
    DropAfterCreate,
    /// Answer a list as if every part of its query were invalid (all records).
    IgnoreQuery,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LogEntry {
    pub method: String,
    pub path: String,
    pub status: u16,
}

pub struct Token {
    pub user: String,
    pub expires_at: i64,
}

pub struct HourlyLimit {
    pub limit: u32,
    pub window_start: i64,
    pub used: u32,
}

pub struct Instance {
    /// `http` or `https`, for links and `Location`.
    pub scheme: &'static str,
    pub tables: HashMap<String, Vec<Record>>,
    pub journal: Vec<(String, String, String)>,
    pub next_number: u32,
    pub tokens: HashMap<String, Token>,
    pub refresh_tokens: HashMap<String, String>,
    pub token_lifetime: i64,
    pub faults: VecDeque<Fault>,
    pub hourly: Option<HourlyLimit>,
    pub log: Vec<LogEntry>,
}

pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// ServiceNow's date format, UTC.
pub fn stamp(unix: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_default()
}

pub fn new_sys_id() -> String {
    let mut rng = rand::thread_rng();
    (0..32)
        .map(|_| format!("{:x}", rng.gen_range(0..16u8)))
        .collect()
}

fn row(pairs: &[(&str, &str)]) -> Record {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

impl Instance {
    pub fn seeded(token_lifetime: i64) -> Self {
        let mut tables = HashMap::new();
        tables.insert(
            "sys_user_group".to_string(),
            vec![row(&[
                ("sys_id", GROUP_SYS_ID),
                ("name", "Security Operations"),
                ("active", "true"),
            ])],
        );
        tables.insert(
            "sys_user".to_string(),
            vec![row(&[
                ("sys_id", USER_SYS_ID),
                ("user_name", USER_NAME),
                ("name", "ITSM Bridge"),
                ("active", "true"),
            ])],
        );
        let mut choices = Vec::new();
        for (value, label) in [
            ("1", "New"),
            ("2", "In Progress"),
            ("3", "On Hold"),
            ("6", "Resolved"),
            ("7", "Closed"),
            ("8", "Canceled"),
        ] {
            choices.push(row(&[
                ("sys_id", &new_sys_id()),
                ("name", "incident"),
                ("element", "state"),
                ("value", value),
                ("label", label),
                ("inactive", "false"),
            ]));
        }
        for (value, label) in [
            ("Solved (Permanently)", "Solved (Permanently)"),
            ("Solved (Work Around)", "Solved (Work Around)"),
            (
                "Not Solved (Not Reproducible)",
                "Not Solved (Not Reproducible)",
            ),
            ("Closed/Resolved by Caller", "Closed/Resolved by Caller"),
        ] {
            choices.push(row(&[
                ("sys_id", &new_sys_id()),
                ("name", "incident"),
                ("element", "close_code"),
                ("value", value),
                ("label", label),
                ("inactive", "false"),
            ]));
        }
        tables.insert("sys_choice".to_string(), choices);
        tables.insert("incident".to_string(), Vec::new());
        Self {
            scheme: "http",
            tables,
            journal: Vec::new(),
            next_number: 10001,
            tokens: HashMap::new(),
            refresh_tokens: HashMap::new(),
            token_lifetime,
            faults: VecDeque::new(),
            hourly: None,
            log: Vec::new(),
        }
    }

    /// The fields a table knows, for the encoded query's "ignore an invalid part".
    pub fn fields(&self, table: &str) -> Vec<String> {
        if table == "incident" {
            return INCIDENT_FIELDS.iter().map(|f| f.to_string()).collect();
        }
        let mut fields: Vec<String> = self
            .tables
            .get(table)
            .map(|rows| rows.iter().flat_map(|r| r.keys().cloned()).collect())
            .unwrap_or_default();
        fields.sort();
        fields.dedup();
        fields
    }

    /// Creates an incident from the posted fields (unknown ones ignored).
    pub fn create_incident(
        &mut self,
        fields: &serde_json::Map<String, serde_json::Value>,
    ) -> Record {
        let mut record: Record = INCIDENT_FIELDS
            .iter()
            .map(|f| (f.to_string(), String::new()))
            .collect();
        let now = stamp(now());
        let sys_id = new_sys_id();
        record.insert("sys_id".into(), sys_id.clone());
        record.insert("number".into(), format!("INC{:07}", self.next_number));
        self.next_number += 1;
        for (key, value) in [
            ("state", "1"),
            ("active", "true"),
            ("urgency", "3"),
            ("impact", "3"),
        ] {
            record.insert(key.into(), value.into());
        }
        record.insert("opened_at".into(), now.clone());
        record.insert("sys_created_on".into(), now.clone());
        record.insert("sys_updated_on".into(), now);
        self.apply(&mut record, fields);
        self.tables
            .entry("incident".into())
            .or_default()
            .push(record.clone());
        record
    }

    /// Writes posted fields into a record: strings only, journals to the journal.
    pub fn apply(
        &mut self,
        record: &mut Record,
        fields: &serde_json::Map<String, serde_json::Value>,
    ) {
        let sys_id = record.get("sys_id").cloned().unwrap_or_default();
        for (key, value) in fields {
            if !INCIDENT_FIELDS.contains(&key.as_str()) || key == "sys_id" || key == "number" {
                continue;
            }
            let text = match value {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => String::new(),
                other => other.to_string(),
            };
            if JOURNAL_FIELDS.contains(&key.as_str()) {
                self.journal.push((sys_id.clone(), key.clone(), text));
                continue;
            }
            record.insert(key.clone(), text);
        }
        let now = stamp(now());
        match record.get("state").map(String::as_str) {
            Some("6") if record.get("resolved_at").is_none_or(|v| v.is_empty()) => {
                record.insert("resolved_at".into(), now.clone());
            }
            Some("7") if record.get("closed_at").is_none_or(|v| v.is_empty()) => {
                record.insert("closed_at".into(), now.clone());
            }
            _ => {}
        }
        let active = !matches!(
            record.get("state").map(String::as_str),
            Some("6" | "7" | "8")
        );
        record.insert("active".into(), active.to_string());
        let rank = |k: &str| {
            record
                .get(k)
                .and_then(|v| v.parse::<u32>().ok())
                .unwrap_or(3)
        };
        record.insert(
            "priority".into(),
            (rank("urgency") + rank("impact") - 1).min(5).to_string(),
        );
        record.insert("sys_updated_on".into(), now);
    }

    pub fn incident_mut(&mut self, sys_id: &str) -> Option<&mut Record> {
        self.tables
            .get_mut("incident")?
            .iter_mut()
            .find(|r| r.get("sys_id").map(String::as_str) == Some(sys_id))
    }
}
