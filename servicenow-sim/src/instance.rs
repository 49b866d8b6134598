//! The instance's state: tables of string records (the incidents indexed by sys_id), the
//! journal, OAuth clients and tokens, the fault plan, and the request log.

use crate::query::{Query, Record};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, VecDeque};

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
    /// Create the record (logged at once), then wait this long before answering: a slow
    /// business rule, as a client that timed out never learns whether its create landed.
    DelayAfterCreate { millis: u64 },
    /// Answer a list as if every part of its query were invalid (all records).
    IgnoreQuery,
    /// Answer `status` (301, 302, 307, 308…) with `Location: {location}{path and query}`,
    /// as a misconfigured proxy or a moved instance would.
    Redirect { status: u16, location: String },
    /// Answer 200 with a JSON body of this many bytes (a `result` list padded with spaces).
    HugeBody { bytes: usize },
    /// The next token answer says `expires_in` is this many seconds.
    ExpiresIn { seconds: u64 },
}

/// One journal entry: a work note or a comment written to an incident.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct JournalEntry {
    pub sys_id: String,
    /// `work_notes` or `comments`.
    pub field: String,
    pub text: String,
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
    /// Where each incident is in `tables["incident"]`, by sys_id: tests hold ten thousand
    /// incidents and update them one by one, which a scan per update makes quadratic.
    incident_index: HashMap<String, usize>,
    /// Oldest first.
    pub journal: Vec<JournalEntry>,
    pub next_number: u32,
    pub tokens: HashMap<String, Token>,
    pub refresh_tokens: HashMap<String, String>,
    pub token_lifetime: i64,
    /// For the next Table API or token request, whichever comes first.
    pub faults: VecDeque<Fault>,
    /// For the next token requests only; taken before `faults`.
    pub token_faults: VecDeque<Fault>,
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
            incident_index: HashMap::new(),
            journal: Vec::new(),
            next_number: 10001,
            tokens: HashMap::new(),
            refresh_tokens: HashMap::new(),
            token_lifetime,
            faults: VecDeque::new(),
            token_faults: VecDeque::new(),
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

    /// Creates and stores an incident from the posted fields (unknown ones ignored).
    pub fn create_incident(
        &mut self,
        fields: &serde_json::Map<String, serde_json::Value>,
    ) -> Record {
        let record = self.new_incident(fields);
        self.insert_incident(record.clone());
        record
    }

    /// An incident built from the posted fields, numbered, its journal entries written, not
    /// yet stored: the caller checks the data policy first.
    pub fn new_incident(&mut self, fields: &serde_json::Map<String, serde_json::Value>) -> Record {
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
        record
    }

    /// Stores a new incident at the end of the table.
    pub fn insert_incident(&mut self, record: Record) {
        let rows = self.tables.entry("incident".into()).or_default();
        let sys_id = record.get("sys_id").cloned().unwrap_or_default();
        self.incident_index.insert(sys_id, rows.len());
        rows.push(record);
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
                self.journal.push(JournalEntry {
                    sys_id: sys_id.clone(),
                    field: key.clone(),
                    text,
                });
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
        let at = self.incident_position(sys_id)?;
        self.tables.get_mut("incident")?.get_mut(at)
    }

    pub fn incident(&mut self, sys_id: &str) -> Option<&Record> {
        let at = self.incident_position(sys_id)?;
        self.tables.get("incident")?.get(at)
    }

    /// A record of any table by sys_id; incidents through the index.
    pub fn record(&mut self, table: &str, sys_id: &str) -> Option<&Record> {
        if table == "incident" {
            return self.incident(sys_id);
        }
        self.tables
            .get(table)?
            .iter()
            .find(|r| r.get("sys_id").map(String::as_str) == Some(sys_id))
    }

    /// The records of `table` that match `query`, in stored order, unsorted; `None` for a
    /// table the instance does not have. A lookup by sys_ids on the incidents goes through
    /// the index instead of trying every record.
    pub fn matching(&mut self, table: &str, query: &Query) -> Option<Vec<Record>> {
        let positions: Option<Vec<usize>> = match query.sys_ids() {
            Some(ids) if table == "incident" => {
                let mut positions: Vec<usize> = ids
                    .into_iter()
                    .filter_map(|id| self.incident_position(id))
                    .collect();
                positions.sort_unstable();
                positions.dedup();
                Some(positions)
            }
            _ => None,
        };
        let rows = self.tables.get(table)?;
        let candidates: Box<dyn Iterator<Item = &Record>> = match positions {
            Some(positions) => Box::new(positions.into_iter().filter_map(|at| rows.get(at))),
            None => Box::new(rows.iter()),
        };
        Some(candidates.filter(|r| query.matches(r)).cloned().collect())
    }

    /// The incident's place in its table. `tables` is public, so the index is checked
    /// against the table and rebuilt when someone changed the table behind its back.
    fn incident_position(&mut self, sys_id: &str) -> Option<usize> {
        let holds = |rows: &[Record], at: usize| {
            rows.get(at)
                .is_some_and(|r| r.get("sys_id").map(String::as_str) == Some(sys_id))
        };
        let rows = self.tables.get("incident")?;
        if self.incident_index.len() == rows.len() {
            match self.incident_index.get(sys_id) {
                Some(&at) if holds(rows, at) => return Some(at),
                None => return None,
                Some(_) => {}
            }
        }
        self.incident_index = rows
            .iter()
            .enumerate()
            .filter_map(|(at, r)| Some((r.get("sys_id")?.clone(), at)))
            .collect();
        self.incident_index
            .get(sys_id)
            .copied()
            .filter(|&at| holds(rows, at))
    }

    /// The work notes of an incident, oldest first.
    pub fn work_notes(&self, sys_id: &str) -> Vec<String> {
        self.journal
            .iter()
            .filter(|e| e.sys_id == sys_id && e.field == "work_notes")
            .map(|e| e.text.clone())
            .collect()
    }

    /// Requests counted by method, path and status: `{"GET /api/now/table/incident 200": 3}`.
    pub fn counters(&self) -> BTreeMap<String, usize> {
        let mut counters = BTreeMap::new();
        for entry in &self.log {
            *counters
                .entry(format!("{} {} {}", entry.method, entry.path, entry.status))
                .or_insert(0) += 1;
        }
        counters
    }
}
