//! Types that check themselves: a raw form string is parsed once, here, and the value of a
//! type below is proof that it passed. The same code runs in the browser and on the server.

mod civil_date;
mod grouping;
mod incident_state;
mod instance_url;
// The browser's own check of an instance URL (the server and the tests use `url`).
#[cfg(any(test, all(feature = "hydrate", not(feature = "ssr"))))]
mod instance_url_plain;
mod min_severity;
mod severity;
mod sys_id;

pub use civil_date::CivilDate;
pub use grouping::Grouping;
pub use incident_state::{IncidentState, StateChoice};
pub use instance_url::InstanceUrl;
pub use min_severity::MinSeverity;
pub use severity::Severity;
pub use sys_id::SysId;
