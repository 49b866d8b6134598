//! The settings store over SQLite: what the settings pages' server functions read and write.
//! Secrets are sealed by [`SecretCipher`] before they reach the database and never read
//! back for a page: the page only learns whether one is stored. They are sealed to the
//! instance URL, and kept across a save only while the URL, the client ID and the user ID
//! stay the same: a kept secret never goes to another instance, client or user.

use crate::database::Readers;
use crate::secrets::SecretCipher;
use crate::timestamps::{format_unix, now_unix};
use anyhow::Context;
use app::backend::SettingsStore;
use app::domain::{Grouping, IncidentState, MinSeverity, StateChoice};
use app::forms::{ConnectionForm, ConnectionUpdate, ConnectionView, ItsmSettings, SecretsStored};
use async_trait::async_trait;
use secrecy::SecretString;
use sqlx::{Row, SqlitePool};
use std::sync::Arc;

/// The stored secrets do not open with this key for the stored URL: the key was changed or
/// lost. The page, Test connection and the engine all say so in the same words
/// ([`SecretsStored::UNREADABLE`]); what exactly failed goes to the log.
#[derive(Debug, thiserror::Error)]
#[error("{}", SecretsStored::UNREADABLE)]
pub struct SecretsUnreadable;

pub struct SqliteSettingsStore {
    pool: SqlitePool,
    /// The pages' reads of the settings.
    readers: Readers,
    cipher: Arc<SecretCipher>,
}

impl SqliteSettingsStore {
    pub fn new(pool: SqlitePool, readers: Readers, cipher: Arc<SecretCipher>) -> Self {
        Self {
            pool,
            readers,
            cipher,
        }
    }

    /// The states the last connection test read (a JSON array of `[value, label]` pairs, as
    /// the page's query reads them), else the standard ones.
    fn instance_states(listed: &str) -> anyhow::Result<Vec<StateChoice>> {
        let pairs: Vec<(String, String)> =
            serde_json::from_str(listed).context("Failed to read the instance's states")?;
        if pairs.is_empty() {
            return Ok(IncidentState::standard_choices());
        }
        Ok(pairs
            .into_iter()
            .map(|(value, label)| StateChoice { value, label })
            .collect())
    }

    /// Keeps the states an instance listed, replacing the earlier list.
    pub async fn save_instance_states(&self, states: &[StateChoice]) -> anyhow::Result<()> {
        let mut tx = self
            .pool
            .begin()
            .await
            .context("Failed to begin a transaction")?;
        sqlx::query("DELETE FROM instance_states")
            .execute(&mut *tx)
            .await
            .context("Failed to replace the instance's states")?;
        for (position, state) in states.iter().enumerate() {
            sqlx::query(
                "INSERT OR IGNORE INTO instance_states (position, value, label) VALUES (?, ?, ?)",
            )
            .bind(position as i64)
            .bind(&state.value)
            .bind(&state.label)
            .execute(&mut *tx)
            .await
            .context("Failed to store the instance's states")?;
        }
        tx.commit()
            .await
            .context("Failed to store the instance's states")?;
        Ok(())
    }

    /// Keeps the close codes an instance lists (sys_choice), replacing the earlier list.
    pub async fn save_close_codes(&self, codes: &[String]) -> anyhow::Result<()> {
        let mut tx = self
            .pool
            .begin()
            .await
            .context("Failed to begin a transaction")?;
        sqlx::query("DELETE FROM instance_close_codes")
            .execute(&mut *tx)
            .await
            .context("Failed to replace the close codes")?;
        for (position, code) in codes.iter().enumerate() {
            sqlx::query(
                "INSERT INTO instance_close_codes (position, value, label) VALUES (?, ?, ?) \
                 ON CONFLICT (value) DO NOTHING",
            )
            .bind(position as i64)
            .bind(code)
            .bind(code)
            .execute(&mut *tx)
            .await
            .context("Failed to store the close codes")?;
        }
        tx.commit()
            .await
            .context("Failed to store the close codes")?;
        Ok(())
    }

    /// What the ServiceNow client needs: the stored connection with its secrets, if saved.
    pub async fn connection_for_client(
        &self,
    ) -> anyhow::Result<Option<(ConnectionView, SecretString, SecretString)>> {
        let view = self.connection().await?;
        if view.updated_at.is_none() {
            return Ok(None);
        }
        let Some((client_secret, password)) = self.connection_secrets().await? else {
            return Ok(None);
        };
        Ok(Some((view, client_secret, password)))
    }

    /// The stored secrets, decrypted: for the ServiceNow client, never for a page. They open
    /// only for the stored instance URL.
    pub async fn connection_secrets(&self) -> anyhow::Result<Option<(SecretString, SecretString)>> {
        let row = sqlx::query(
            "SELECT instance_url, client_secret, password FROM connection_settings WHERE id = 1",
        )
        .fetch_optional(&self.pool)
        .await
        .context("Failed to read the stored secrets")?;
        let Some(row) = row else { return Ok(None) };
        let url: String = row.get("instance_url");
        let opened = self
            .cipher
            .open("client secret", &url, row.get("client_secret"))
            .and_then(|client_secret| {
                let password = self.cipher.open("password", &url, row.get("password"))?;
                Ok((client_secret, password))
            });
        match opened {
            Ok(secrets) => Ok(Some(secrets)),
            Err(error) => {
                tracing::warn!(
                    error = format!("{error:#}"),
                    "the stored ServiceNow secrets do not open"
                );
                Err(SecretsUnreadable.into())
            }
        }
    }

    /// Whether both stored secrets open with this key for the stored URL (`true` when none
    /// are stored). Opened only to check; nothing of them leaves this function.
    fn secrets_open(&self, url: &str, client_secret: &[u8], password: &[u8]) -> bool {
        self.cipher
            .open("client secret", url, client_secret)
            .is_ok()
            && self.cipher.open("password", url, password).is_ok()
    }

    /// Seals anew, bound to their instance URL, the secrets an earlier release stored bound to
    /// their field's name alone; run at start. Returns how many were sealed anew. A secret
    /// that does not open (another key) is left as it is, to be entered again.
    pub async fn seal_secrets_to_their_url(&self) -> anyhow::Result<usize> {
        let mut transaction = self
            .pool
            .begin()
            .await
            .context("Failed to begin a transaction")?;
        let row = sqlx::query(
            "SELECT instance_url, client_secret, password FROM connection_settings WHERE id = 1",
        )
        .fetch_optional(&mut *transaction)
        .await
        .context("Failed to read the stored secrets")?;
        let Some(row) = row else { return Ok(0) };
        let url: String = row.get("instance_url");
        let mut sealed_anew = 0;
        for (field, column) in [("client secret", "client_secret"), ("password", "password")] {
            let sealed: Vec<u8> = row.get(column);
            if !SecretCipher::is_unbound(&sealed) {
                continue;
            }
            let secret = self.cipher.open_unbound(field, &sealed)?;
            let bound = self.cipher.seal(field, &url, &secret)?;
            // `column` is one of the two names above, never input.
            sqlx::query(&format!(
                "UPDATE connection_settings SET {column} = ? WHERE id = 1"
            ))
            .bind(bound)
            .execute(&mut *transaction)
            .await
            .context("Failed to store the secrets sealed anew")?;
            sealed_anew += 1;
        }
        transaction
            .commit()
            .await
            .context("Failed to store the secrets sealed anew")?;
        Ok(sealed_anew)
    }
}

#[async_trait]
impl SettingsStore for SqliteSettingsStore {
    async fn connection(&self) -> anyhow::Result<ConnectionView> {
        // One query for the settings and the instance's states: each query is a round trip
        // to SQLite's own thread (two thread switches), and this runs for every view of the
        // page. The one-row `(SELECT 1)` keeps a row when nothing was saved yet. An aggregate's
        // own ORDER BY needs SQLite 3.44 or later; sqlx's `sqlite` feature bundles 3.46.
        let query = "SELECT c.id IS NOT NULL AS saved, \
                     c.instance_url, c.client_id, c.group_sys_id, c.user_sys_id, c.user_id, \
                     c.duplicate_status, c.duplicate_days, c.updated_at, \
                     c.client_secret, c.password, \
                     length(c.client_secret) > 0 AS has_client_secret, \
                     length(c.password) > 0 AS has_password, \
                     (SELECT json_group_array(json_array(value, label) ORDER BY position) \
                        FROM instance_states) AS states \
                     FROM (SELECT 1) LEFT JOIN connection_settings c ON c.id = 1";
        let row = self
            .readers
            .read(async |connection| sqlx::query(query).fetch_one(connection).await)
            .await
            .context("Failed to read the connection settings")?;
        let states = Self::instance_states(row.get("states"))?;
        if !row.get::<bool, _>("saved") {
            return Ok(ConnectionView {
                values: ConnectionForm::defaults(),
                states,
                ..ConnectionView::default()
            });
        }
        let duplicate_days: i64 = row.get("duplicate_days");
        let instance_url: String = row.get("instance_url");
        let unreadable =
            !self.secrets_open(&instance_url, row.get("client_secret"), row.get("password"));
        Ok(ConnectionView {
            values: ConnectionForm {
                instance_url,
                client_id: row.get("client_id"),
                group_sys_id: row.get("group_sys_id"),
                user_sys_id: row.get("user_sys_id"),
                user_id: row.get("user_id"),
                duplicate_status: row.get("duplicate_status"),
                duplicate_days: duplicate_days.to_string(),
                client_secret: String::new(),
                password: String::new(),
            },
            stored: SecretsStored {
                client_secret: row.get("has_client_secret"),
                password: row.get("has_password"),
                unreadable,
            },
            states,
            updated_at: Some(row.get("updated_at")),
        })
    }

    async fn save_connection(&self, update: ConnectionUpdate) -> anyhow::Result<()> {
        let saved_at = format_unix(now_unix());
        let url = update.instance_url.as_str();
        let seal = |field: &str, secret: &Option<SecretString>| {
            secret
                .as_ref()
                .map(|s| self.cipher.seal(field, url, s))
                .transpose()
        };
        let client_secret = seal("client secret", &update.client_secret)?;
        let password = seal("password", &update.password)?;
        // An UPDATE where a row exists, since a NULL secret (keep the stored one) would fail
        // the NOT NULL check of an upsert's INSERT half; a first save always has both.
        let mut transaction = self
            .pool
            .begin()
            .await
            .context("Failed to begin a transaction")?;
        // The form asks for both secrets again when these change (`ConnectionForm::validate`);
        // checked here too, in the transaction, so that no caller and no concurrent save can
        // keep a secret for another instance, client or user.
        let identity: Option<(String, String, String)> = sqlx::query_as(
            "SELECT instance_url, client_id, user_id FROM connection_settings WHERE id = 1",
        )
        .fetch_optional(&mut *transaction)
        .await
        .context("Failed to read the connection settings")?;
        let identity_changed = identity.is_some_and(|(old_url, old_client, old_user)| {
            old_url != url || old_client != update.client_id || old_user != update.user_id
        });
        if (client_secret.is_none() || password.is_none()) && identity_changed {
            anyhow::bail!(
                "The ServiceNow URL, client ID or user ID changed: both secrets must be \
                 entered again"
            );
        }
        // Test connection's last pass proved these credentials and this group and user
        // (its second and third steps), not new ones.
        let checked: Option<(String, String)> = sqlx::query_as(
            "SELECT group_sys_id, user_sys_id FROM connection_settings WHERE id = 1",
        )
        .fetch_optional(&mut *transaction)
        .await
        .context("Failed to read the connection settings")?;
        let checked_changed = checked.is_some_and(|(group, user)| {
            group != update.group_sys_id.as_str() || user != update.user_sys_id.as_str()
        });
        if identity_changed || checked_changed || client_secret.is_some() || password.is_some() {
            crate::connection_checks::forget_pass(&mut transaction).await?;
        }
        let updated = sqlx::query(
            "UPDATE connection_settings SET \
                instance_url = ?, client_id = ?, client_secret = COALESCE(?, client_secret), \
                group_sys_id = ?, user_sys_id = ?, user_id = ?, \
                password = COALESCE(?, password), duplicate_status = ?, duplicate_days = ?, \
                updated_at = ? \
             WHERE id = 1",
        )
        .bind(update.instance_url.as_str())
        .bind(&update.client_id)
        .bind(&client_secret)
        .bind(update.group_sys_id.as_str())
        .bind(update.user_sys_id.as_str())
        .bind(&update.user_id)
        .bind(&password)
        .bind(&update.duplicate_status)
        .bind(i64::from(update.duplicate_days))
        .bind(&saved_at)
        .execute(&mut *transaction)
        .await
        .context("Failed to save the connection settings")?;
        if updated.rows_affected() == 0 {
            let (Some(client_secret), Some(password)) = (client_secret, password) else {
                anyhow::bail!("Both secrets are needed the first time the connection is saved");
            };
            sqlx::query(
                "INSERT INTO connection_settings \
                    (id, instance_url, client_id, client_secret, group_sys_id, user_sys_id, \
                     user_id, password, duplicate_status, duplicate_days, updated_at) \
                 VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(update.instance_url.as_str())
            .bind(&update.client_id)
            .bind(client_secret)
            .bind(update.group_sys_id.as_str())
            .bind(update.user_sys_id.as_str())
            .bind(&update.user_id)
            .bind(password)
            .bind(&update.duplicate_status)
            .bind(i64::from(update.duplicate_days))
            .bind(&saved_at)
            .execute(&mut *transaction)
            .await
            .context("Failed to save the connection settings")?;
        }
        transaction
            .commit()
            .await
            .context("Failed to commit the connection settings")?;
        Ok(())
    }

    async fn itsm_settings(&self) -> anyhow::Result<ItsmSettings> {
        self.readers.read(read_itsm_settings).await
    }

    async fn save_itsm_settings(&self, settings: ItsmSettings) -> anyhow::Result<()> {
        let saved_at = format_unix(now_unix());
        let mut transaction = self
            .pool
            .begin()
            .await
            .context("Failed to begin saving the ITSM settings")?;
        sqlx::query(
            "INSERT INTO itsm_settings (id, grouping, scheduler_interval_minutes, auto_resolve, \
                min_severity, all_sources, updated_at) \
             VALUES (1, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET \
                grouping = excluded.grouping, \
                scheduler_interval_minutes = excluded.scheduler_interval_minutes, \
                auto_resolve = excluded.auto_resolve, \
                min_severity = excluded.min_severity, \
                all_sources = excluded.all_sources, \
                updated_at = excluded.updated_at",
        )
        .bind(settings.grouping.value())
        .bind(i64::from(settings.scheduler_interval_minutes))
        .bind(settings.auto_resolve)
        .bind(settings.min_severity.map(|s| s.value()))
        .bind(settings.sources.is_none())
        .bind(&saved_at)
        .execute(&mut *transaction)
        .await
        .context("Failed to save the ITSM settings")?;
        sqlx::query("DELETE FROM itsm_ticket_sources")
            .execute(&mut *transaction)
            .await
            .context("Failed to replace the chosen sources")?;
        for source in settings.sources.iter().flatten() {
            sqlx::query("INSERT INTO itsm_ticket_sources (source) VALUES (?)")
                .bind(source)
                .execute(&mut *transaction)
                .await
                .context("Failed to save a chosen source")?;
        }
        transaction
            .commit()
            .await
            .context("Failed to commit the ITSM settings")?;
        Ok(())
    }
}

/// The stored ITSM settings (defaults when nothing was saved yet), filters included. Takes a
/// connection, so the engine's snapshot reads them inside its transaction.
pub async fn read_itsm_settings(conn: &mut sqlx::SqliteConnection) -> anyhow::Result<ItsmSettings> {
    let row = sqlx::query(
        "SELECT grouping, scheduler_interval_minutes, auto_resolve, min_severity, all_sources \
         FROM itsm_settings WHERE id = 1",
    )
    .fetch_optional(&mut *conn)
    .await
    .context("Failed to read the ITSM settings")?;
    let Some(row) = row else {
        return Ok(ItsmSettings::default());
    };
    let grouping: String = row.get("grouping");
    let interval: i64 = row.get("scheduler_interval_minutes");
    let min_severity: Option<String> = row.get("min_severity");
    let sources = if row.get::<bool, _>("all_sources") {
        None
    } else {
        Some(
            sqlx::query_scalar("SELECT source FROM itsm_ticket_sources ORDER BY source")
                .fetch_all(&mut *conn)
                .await
                .context("Failed to read the chosen sources")?,
        )
    };
    Ok(ItsmSettings {
        grouping: Grouping::parse(&grouping)
            .map_err(|_| anyhow::anyhow!("Unknown grouping {grouping:?} in the database"))?,
        scheduler_interval_minutes: u32::try_from(interval)
            .context("Scheduler interval out of range in the database")?,
        auto_resolve: row.get("auto_resolve"),
        sources,
        min_severity: match min_severity {
            None => None,
            Some(value) => Some(MinSeverity::from_value(&value).ok_or_else(|| {
                anyhow::anyhow!("Unknown lowest severity {value:?} in the database")
            })?),
        },
    })
}
