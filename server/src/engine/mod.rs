//! The ticket engine: turns the failing findings of the latest scans into ServiceNow
//! incidents, exactly once. How it decides is written out in docs/ENGINE.md.
//!
//! - `model`: what the planner reasons about; `status_rule`: the chosen-status rule;
//!   `planner`: the pure function from findings, tickets, rules and time to decisions;
//!   `screen`: which findings count (filters, exceptions), and the one place a run and a
//!   preview decide; `content`: what a ticket and its notes say.
//! - `store` and `run_store`: every SQL statement of the engine (tickets, runs, the lease);
//!   `busy`: short writes retried while the database is busy.
//! - `refresh`: tracked tickets' states read back, 100 per request; `applier`: carries
//!   decisions out and records outcomes; `run`: one run under the lease; `scheduler`: when.
//! - `control` and `ticket_list`: what the Runs and Tickets pages read.
//! - `preview`: what the next run would do, sending nothing, kept by `preview_cache` while
//!   nothing it depends on changes; `exceptions`: the exceptions'
//!   SQL; `rules_control`: both as the ITSM settings and Exceptions pages reach them.
//! - `restored`: the mark a restore from a backup leaves, so that creates are looked up first.

pub mod applier;
pub mod busy;
pub mod content;
pub mod control;
pub mod exceptions;
pub mod model;
pub mod planner;
pub mod preview;
pub mod preview_cache;
pub mod refresh;
pub mod restored;
pub mod rules_control;
pub mod run;
pub mod run_store;
pub mod scheduler;
pub mod screen;
pub mod status_rule;
pub mod store;
pub mod ticket_list;

pub use run::{Engine, EngineSettings, NotStarted, RunReport, StartedRun};
pub use run_store::{Counts, Outcome, Trigger};
