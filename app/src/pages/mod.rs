//! The pages, one file each, and the small pieces they share.

mod account;
mod audit;
mod connection;
mod exceptions;
mod itsm;
mod not_found;
mod overview;
mod pager;
pub(crate) mod preview;
mod runs;
mod scans;
mod settings_save;
mod tickets;
mod tokens;
mod widgets;

pub use account::{LoginPage, SetupPage};
pub use audit::AuditPage;
pub use connection::ConnectionPage;
pub use exceptions::ExceptionsPage;
pub use itsm::ItsmPage;
pub use not_found::NotFound;
pub use overview::OverviewPage;
#[cfg(feature = "ssr")]
pub use preview::preview_html;
pub use runs::{RunPage, RunsPage};
pub use scans::{ScanPage, ScansPage};
pub use tickets::TicketsPage;
pub use tokens::TokensPage;
