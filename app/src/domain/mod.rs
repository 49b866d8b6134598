//! Types that check themselves: a raw form string is parsed once, here, and the value of a
//! type below is proof that it passed. The same code runs in the browser and on the server.

mod grouping;
mod incident_state;
mod instance_url;
mod sys_id;

pub use grouping::Grouping;
pub use incident_state::{IncidentState, StateChoice};
pub use instance_url::InstanceUrl;
pub use sys_id::SysId;
