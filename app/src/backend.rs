//! What the server functions need from the backend. `app` declares it, `server` implements
//! it over SQLite and provides it in Leptos context, so a server function stays a few lines.

use crate::forms::{ConnectionUpdate, ConnectionView, ItsmSettings};
use async_trait::async_trait;
use std::sync::Arc;

#[async_trait]
pub trait SettingsStore: Send + Sync + 'static {
    /// The stored connection (defaults when nothing was saved yet), without secrets.
    async fn connection(&self) -> anyhow::Result<ConnectionView>;
    /// Saves the connection; a secret that is `None` keeps the stored one.
    async fn save_connection(&self, update: ConnectionUpdate) -> anyhow::Result<()>;
    /// The stored ITSM settings (defaults when nothing was saved yet).
    async fn itsm_settings(&self) -> anyhow::Result<ItsmSettings>;
    async fn save_itsm_settings(&self, settings: ItsmSettings) -> anyhow::Result<()>;
}

/// The form in which the store is put into Leptos context.
pub type SharedSettingsStore = Arc<dyn SettingsStore>;
