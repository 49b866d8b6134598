//! The engine's rules as the ITSM settings and Exceptions pages see them: the sources seen,
//! the preview of the next run, and the exceptions. Times come from the server's clock.

use super::preview_cache::PreviewCache;
use super::{exceptions, store};
use crate::auth::Clock;
use crate::settings_store::{SecretsUnreadable, SqliteSettingsStore};
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
    /// The previews worked out, kept while nothing they depend on changes.
    pub previews: PreviewCache,
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
        let now = self.clock.now();
        let mut preview = self
            .previews
            .preview(&self.pool, instance_url, settings, now)
            .await?;
        // Secrets this key cannot open fail the run before it does anything: the preview
        // says so in the run's words rather than list what the run could not do.
        if preview.connected
            && let Err(error) = self.settings.connection_secrets().await
        {
            let unreadable = error.downcast::<SecretsUnreadable>()?;
            preview.run_would_fail = Some(unreadable.to_string());
            preview.counts.clear();
            preview.rows.clear();
            preview.more = 0;
        }
        Ok(preview)
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
