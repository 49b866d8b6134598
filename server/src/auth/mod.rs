//! Admin accounts: first-run setup with a one-time token, login with throttling, sessions in
//! SQLite, the command-line password reset, and the audit of all of it.

mod clock;
mod password;
pub mod sessions;
mod setup_token;
mod throttle;

pub use clock::{Clock, ManualClock, SystemClock};
pub use sessions::SessionPolicy;
pub use throttle::LoginThrottle;

use crate::audit;
use crate::configuration::CookieSecurity;
use anyhow::Context;
use app::api::AuditEntry;
use app::auth::{AccountBackend, AccountError, CurrentAdmin, RequestInfo};
use app::forms::{FieldErrors, NewAdmin, check_new_password};
use async_trait::async_trait;
use setup_token::SetupToken;
use sqlx::{Row, SqlitePool};
use std::path::PathBuf;
use std::sync::Arc;

pub struct Auth {
    pool: SqlitePool,
    clock: Arc<dyn Clock>,
    policy: SessionPolicy,
    cookies: CookieSecurity,
    throttle: LoginThrottle,
    setup: SetupToken,
}

impl Auth {
    /// Loads the account state; while no admin exists, issues a setup token, prints it in the
    /// log and writes it to `setup_token_file`.
    pub async fn start(
        pool: SqlitePool,
        clock: Arc<dyn Clock>,
        policy: SessionPolicy,
        cookies: CookieSecurity,
        setup_token_file: PathBuf,
    ) -> anyhow::Result<Self> {
        let setup = if admin_exists(&pool).await? {
            let _ = std::fs::remove_file(&setup_token_file);
            SetupToken::none(setup_token_file)
        } else {
            let (setup, token) = SetupToken::issue(setup_token_file.clone())?;
            tracing::warn!(
                setup_token = %token,
                file = %setup_token_file.display(),
                "no admin account yet: open /setup and enter this setup token"
            );
            setup
        };
        Ok(Self {
            pool,
            clock,
            policy,
            cookies,
            throttle: LoginThrottle::new(),
            setup,
        })
    }

    pub async fn admin_exists(&self) -> anyhow::Result<bool> {
        admin_exists(&self.pool).await
    }

    /// The admin of the session named by a cookie, if it is alive.
    pub async fn session(&self, session_id: &str) -> anyhow::Result<Option<CurrentAdmin>> {
        sessions::lookup(&self.pool, session_id, self.clock.now(), self.policy).await
    }

    fn secure(&self, request: &RequestInfo) -> bool {
        match self.cookies {
            CookieSecurity::Always => true,
            CookieSecurity::Never => false,
            CookieSecurity::Auto => request.https,
        }
    }

    async fn record(
        &self,
        actor: Option<&str>,
        action: &str,
        detail: &str,
        request: &RequestInfo,
    ) -> anyhow::Result<()> {
        let address = request.address.map(|a| a.to_string());
        audit::record(&self.pool, self.clock.now(), actor, action, detail, address).await
    }
}

#[async_trait]
impl AccountBackend for Auth {
    async fn setup_admin(
        &self,
        admin: NewAdmin,
        request: &RequestInfo,
    ) -> Result<(), AccountError> {
        if self.admin_exists().await? {
            return Err(AccountError::Refused(
                "An admin account exists already; sign in instead.".into(),
            ));
        }
        if !self.setup.matches(&admin.setup_token) {
            let mut errors = FieldErrors::default();
            errors.insert(
                "setup_token",
                "This is not the setup token of this server; copy it from the server log or the setup-token file.",
            );
            return Err(AccountError::Invalid(errors));
        }
        let hash = password::hash_password(&admin.password)?;
        sqlx::query("INSERT INTO admins (username, password_hash, created_at) VALUES (?, ?, ?)")
            .bind(&admin.username)
            .bind(hash)
            .bind(self.clock.now())
            .execute(&self.pool)
            .await
            .context("Failed to create the admin account")?;
        self.setup.consume();
        self.record(
            Some(&admin.username),
            "setup",
            "created the admin account",
            request,
        )
        .await?;
        Ok(())
    }

    async fn login(
        &self,
        username: &str,
        password: &str,
        request: &RequestInfo,
    ) -> Result<String, AccountError> {
        let now = self.clock.now();
        let address = request.address.map(|a| a.to_string()).unwrap_or_default();
        if let Err(wait) = self.throttle.check(username, &address, now) {
            let minutes = (wait + 59) / 60;
            self.record(
                Some(username),
                "login.throttled",
                "refused: too many failures",
                request,
            )
            .await?;
            return Err(AccountError::Refused(format!(
                "Too many failed sign-ins. Try again in {minutes} minute{}.",
                if minutes == 1 { "" } else { "s" }
            )));
        }
        let row = sqlx::query("SELECT id, username, password_hash FROM admins WHERE username = ?")
            .bind(username.trim())
            .fetch_optional(&self.pool)
            .await
            .context("Failed to read the admin account")?;
        let admin = match row {
            Some(row) if password::verify_password(password, row.get("password_hash")) => {
                CurrentAdmin {
                    id: row.get("id"),
                    username: row.get("username"),
                }
            }
            found => {
                if found.is_none() {
                    password::spend_a_verification(password);
                }
                self.throttle.record_failure(username, &address, now);
                self.record(
                    Some(username),
                    "login.failed",
                    "wrong user name or password",
                    request,
                )
                .await?;
                return Err(AccountError::Refused("Wrong user name or password.".into()));
            }
        };
        self.throttle.clear_user(username);
        // A fresh id at every login: a session id planted before login opens nothing.
        if let Some(old) = &request.session_id {
            sessions::delete(&self.pool, old).await?;
        }
        let id = sessions::create(&self.pool, admin.id, now).await?;
        self.record(Some(&admin.username), "login", "signed in", request)
            .await?;
        Ok(sessions::cookie(
            &id,
            self.secure(request),
            self.policy.absolute_seconds,
        ))
    }

    async fn logout(&self, admin: &CurrentAdmin, request: &RequestInfo) -> anyhow::Result<String> {
        if let Some(id) = &request.session_id {
            sessions::delete(&self.pool, id).await?;
        }
        self.record(Some(&admin.username), "logout", "signed out", request)
            .await?;
        Ok(sessions::clearing_cookie(self.secure(request)))
    }

    async fn audit(
        &self,
        actor: Option<&CurrentAdmin>,
        action: &str,
        detail: &str,
        request: &RequestInfo,
    ) -> anyhow::Result<()> {
        self.record(actor.map(|a| a.username.as_str()), action, detail, request)
            .await
    }

    async fn audit_log(&self, limit: u32) -> anyhow::Result<Vec<AuditEntry>> {
        audit::latest(&self.pool, limit).await
    }
}

async fn admin_exists(pool: &SqlitePool) -> anyhow::Result<bool> {
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM admins")
        .fetch_one(pool)
        .await
        .context("Failed to count the admin accounts")?;
    Ok(count > 0)
}

/// `itsm-bridge admin reset-password USER`: sets a new password and ends the user's
/// sessions.
pub async fn reset_password(
    pool: &SqlitePool,
    username: &str,
    password: &str,
) -> anyhow::Result<()> {
    check_new_password(password).map_err(|message| anyhow::anyhow!(message))?;
    let hash = password::hash_password(password)?;
    let row = sqlx::query("UPDATE admins SET password_hash = ? WHERE username = ? RETURNING id")
        .bind(hash)
        .bind(username.trim())
        .fetch_optional(pool)
        .await
        .context("Failed to update the password")?;
    let Some(row) = row else {
        anyhow::bail!("There is no admin named {username:?}");
    };
    sessions::delete_all_of(pool, row.get("id")).await?;
    let now = crate::timestamps::now_unix();
    audit::record(
        pool,
        now,
        Some(username),
        "password.reset",
        "reset from the command line",
        None,
    )
    .await
}
