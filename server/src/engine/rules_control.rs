//! The engine's rules as the ITSM settings and Exceptions pages see them: the sources seen,
//! the preview of the next run, and the exceptions. Times come from the server's clock.

use super::{exceptions, preview, store};
use crate::auth::Clock;
use crate::settings_store::SqliteSettingsStore;
use app::api::{ExceptionView, PlanPreview};
use app::backend::{EngineRules, SettingsStore};
use app::domain::CivilDate;
use app::forms::{ItsmSettings, NewException};
use async_trait::async_trait;
use sqlx::SqlitePool;
use std::sync::Arc;

pub struct EngineRulesBackend {
    pub pool: SqlitePool,
    pub settings: Arc<SqliteSettingsStore>,
    pub clock: Arc<dyn Clock>,
    /// One preview at a time: each reads a run's whole snapshot (seconds at 100,000
    /// tickets), and several at once would hold the pool's connections that sign-in and
    /// the pages need.
    pub one_preview_at_a_time: tokio::sync::Mutex<()>,
}

#[async_trait]
impl EngineRules for EngineRulesBackend {
    async fn sources_seen(&self) -> anyhow::Result<Vec<String>> {
        store::sources_seen(&self.pool).await
    }

    async fn preview(&self, settings: Option<ItsmSettings>) -> anyhow::Result<PlanPreview> {
        let settings = match settings {
            Some(settings) => settings,
            None => self.settings.itsm_settings().await?,
        };
        let connection = self.settings.connection().await?;
        let instance_url = connection
            .updated_at
            .is_some()
            .then_some(connection.values.instance_url.as_str());
        let _turn = self.one_preview_at_a_time.lock().await;
        preview::preview(&self.pool, instance_url, settings, self.clock.now()).await
    }

    fn today(&self) -> CivilDate {
        CivilDate::of_unix(self.clock.now())
    }

    async fn exceptions(&self) -> anyhow::Result<Vec<ExceptionView>> {
        exceptions::list(&self.pool, self.clock.now()).await
    }

    async fn add_exception(&self, exception: &NewException, by: &str) -> anyhow::Result<i64> {
        exceptions::add(&self.pool, exception, by, self.clock.now()).await
    }

    async fn end_exception(&self, id: i64, by: &str) -> anyhow::Result<Option<ExceptionView>> {
        exceptions::end(&self.pool, id, by, self.clock.now()).await
    }
}
