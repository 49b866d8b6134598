//! Admin accounts: first-run setup with a one-time token, login with throttling, sessions in
//! SQLite, the command-line password reset, and the audit of all of it.

mod capped_map;
mod clock;
mod password;
pub mod sessions;
mod setup_token;
mod throttle;

pub use clock::{Clock, ManualClock, Sleep, SystemClock};
pub use sessions::SessionPolicy;
pub use throttle::LoginThrottle;

use crate::audit;
use crate::configuration::CookieSecurity;
use crate::database::Readers;
use crate::http::client_address::client_address;
use anyhow::Context;
use app::api::{AUDIT_PAGE_SIZE, AuditLogPage};
use app::auth::{AccountBackend, AccountError, CurrentAdmin, RequestInfo};
use app::forms::{FieldErrors, NewAdmin, check_new_password, parse_username};
use async_trait::async_trait;
use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderMap, HeaderName, header};
use setup_token::SetupToken;
use sqlx::{Row, SqlitePool};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// How accounts, sessions and the audit log behave, from the configuration.
pub struct AuthSettings {
    pub policy: SessionPolicy,
    pub cookies: CookieSecurity,
    pub setup_token_file: PathBuf,
    /// Audit entries older than this are deleted.
    pub audit_kept_seconds: i64,
    /// The header a trusted reverse proxy sets with the client's address, if any.
    pub trusted_proxy_header: Option<HeaderName>,
    /// `--public-url` is https: the browser talks https to the proxy in front, whether or
    /// not the proxy says so with `X-Forwarded-Proto`.
    pub public_url_is_https: bool,
    /// Where sign-ins are counted by outcome.
    pub metrics: crate::metrics::Metrics,
}

pub struct Auth {
    pool: SqlitePool,
    readers: Readers,
    clock: Arc<dyn Clock>,
    policy: SessionPolicy,
    cookies: CookieSecurity,
    throttle: LoginThrottle,
    setup: SetupToken,
    audit_kept_seconds: i64,
    trusted_proxy_header: Option<HeaderName>,
    public_url_is_https: bool,
    metrics: crate::metrics::Metrics,
}

impl Auth {
    /// Loads the account state; while no admin exists, issues a setup token, prints it in the
    /// log and writes it to the setup-token file.
    pub async fn start(
        pool: SqlitePool,
        readers: Readers,
        clock: Arc<dyn Clock>,
        settings: AuthSettings,
    ) -> anyhow::Result<Self> {
        let AuthSettings {
            policy,
            cookies,
            setup_token_file,
            audit_kept_seconds,
            trusted_proxy_header,
            public_url_is_https,
            metrics,
        } = settings;
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
            readers,
            clock,
            policy,
            cookies,
            throttle: LoginThrottle::new(),
            setup,
            audit_kept_seconds,
            trusted_proxy_header,
            public_url_is_https,
            metrics,
        })
    }

    /// A sign-in: the session cookie, or why not.
    async fn check_login(
        &self,
        username: &str,
        password: &str,
        request: &RequestInfo,
    ) -> Result<String, AccountError> {
        // Nothing unchecked is counted, audited or logged (the server function checks too).
        let username = parse_username(username).map_err(|message| {
            let mut errors = FieldErrors::default();
            errors.insert("username", message);
            AccountError::Invalid(errors)
        })?;
        if password.chars().count() > app::forms::MAX_PASSWORD {
            return Err(AccountError::Refused("Wrong user name or password.".into()));
        }
        let row = sqlx::query("SELECT id, username, password_hash FROM admins WHERE username = ?")
            .bind(&username)
            .fetch_optional(&self.pool)
            .await
            .context("Failed to read the admin account")?;
        let stored: Option<String> = row.as_ref().map(|row| row.get("password_hash"));
        // The throttle counts by the database's spelling of a found user name: every
        // spelling SQLite's NOCASE accepts is the same user to it.
        let throttle_name: String = row
            .as_ref()
            .map_or_else(|| username.clone(), |row| row.get("username"));
        let attempt = match self.throttle.begin(
            &throttle_name,
            request.address,
            stored.as_deref().map(fingerprint),
            self.clock.now(),
        ) {
            Ok(attempt) => attempt,
            Err(refused) if refused.why == throttle::Why::UserQueue => {
                let seconds = refused.wait_seconds;
                return Err(AccountError::Throttled(format!(
                    "Too many sign-ins of this user name are waiting to be checked (after \
                     repeated failures they are checked one at a time, slowly). Try again in \
                     {seconds} second{}.",
                    if seconds == 1 { "" } else { "s" }
                )));
            }
            Err(refused) => {
                if refused.first_in_window {
                    self.record(
                        Some(&username),
                        "login.throttled",
                        "refused: too many failed sign-ins from this address",
                        request,
                    )
                    .await?;
                }
                let minutes = (refused.wait_seconds + 59) / 60;
                return Err(AccountError::Throttled(format!(
                    "Too many failed sign-ins from your address. Try again in {minutes} minute{}.",
                    if minutes == 1 { "" } else { "s" }
                )));
            }
        };
        if attempt.delay_seconds > 0 {
            self.clock.sleep_until(attempt.check_at).await;
        }
        let verified = match &stored {
            Some(hash) => password::verify(password.to_string(), hash.clone()).await,
            None => password::spend_a_verification(password.to_string())
                .await
                .map(|()| false),
        };
        let verified = verified.map_err(|busy| AccountError::Throttled(busy.to_string()))?;
        let admin = match row {
            Some(row) if verified => CurrentAdmin {
                id: row.get("id"),
                username: row.get("username"),
            },
            _ => {
                self.record(
                    Some(&username),
                    "login.failed",
                    "wrong user name or password",
                    request,
                )
                .await?;
                let mut message = "Wrong user name or password.".to_string();
                if attempt.delay_seconds > 0 {
                    message.push_str(&format!(
                        " After repeated failures each sign-in of this user name is slowed \
                         down; this one waited {} seconds.",
                        attempt.delay_seconds
                    ));
                }
                return Err(AccountError::Refused(message));
            }
        };
        self.throttle.succeeded(&attempt);
        // A fresh id at every login: a session id planted before login opens nothing.
        if let Some(old) = &request.session_id {
            sessions::delete(&self.pool, old).await?;
        }
        let id = sessions::create(&self.pool, admin.id, self.clock.now()).await?;
        self.record(Some(&admin.username), "login", "signed in", request)
            .await?;
        Ok(sessions::cookie(
            &id,
            self.secure(request),
            self.policy.absolute_seconds,
        ))
    }

    /// What the access guard learns about a request: the client's address (the one place
    /// that decides it, [`client_address`]), whether it came over https, and the session
    /// cookie of the name that fits.
    pub fn request_info(&self, request: &Request) -> RequestInfo {
        let headers = request.headers();
        let socket = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0);
        warn_once_of_a_proxy_misconfiguration(headers, self.trusted_proxy_header.as_ref());
        let mut info = RequestInfo {
            address: client_address(headers, socket, self.trusted_proxy_header.as_ref()),
            https: crate::http::access::came_over_https(request),
            session_id: None,
        };
        let secure = self.secure(&info);
        info.session_id = headers
            .get(header::COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| sessions::from_cookie_header(v, secure));
        info
    }

    pub async fn admin_exists(&self) -> anyhow::Result<bool> {
        admin_exists(&self.pool).await
    }

    /// The admin of the session named by a cookie, if it is alive.
    pub async fn session(&self, session_id: &str) -> anyhow::Result<Option<CurrentAdmin>> {
        sessions::lookup(
            &self.readers,
            &self.pool,
            session_id,
            self.clock.now(),
            self.policy,
        )
        .await
    }

    fn secure(&self, request: &RequestInfo) -> bool {
        secure_cookies(self.cookies, self.public_url_is_https, request.https)
    }

    async fn record(
        &self,
        actor: Option<&str>,
        action: &str,
        detail: &str,
        request: &RequestInfo,
    ) -> anyhow::Result<()> {
        let address = request.address.map(|a| a.to_string());
        let now = self.clock.now();
        audit::record(&self.pool, now, actor, action, detail, address).await?;
        audit::prune(&self.pool, now, self.audit_kept_seconds).await
    }
}

#[async_trait]
impl AccountBackend for Auth {
    async fn admin_exists(&self) -> anyhow::Result<bool> {
        Auth::admin_exists(self).await
    }

    fn setup_token_file(&self) -> String {
        self.setup.file().display().to_string()
    }

    async fn setup_admin(
        &self,
        admin: NewAdmin,
        request: &RequestInfo,
    ) -> Result<(), AccountError> {
        let exists =
            || AccountError::Exists("An admin account exists already; sign in instead.".into());
        if self.admin_exists().await? {
            return Err(exists());
        }
        if !self.setup.matches(&admin.setup_token) {
            let mut errors = FieldErrors::default();
            errors.insert(
                "setup_token",
                "This is not the setup token of this server; copy it from the server log or the setup-token file.",
            );
            return Err(AccountError::Invalid(errors));
        }
        let hash = password::hash(admin.password.clone())
            .await
            .map_err(|error| match error.downcast::<password::Busy>() {
                Ok(busy) => AccountError::Throttled(busy.to_string()),
                Err(error) => AccountError::Internal(error),
            })?;
        // One statement that inserts only while no admin exists: of two setups at once,
        // exactly one creates the account.
        let created = sqlx::query(
            "INSERT INTO admins (username, password_hash, created_at) \
             SELECT ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM admins)",
        )
        .bind(&admin.username)
        .bind(hash)
        .bind(self.clock.now())
        .execute(&self.pool)
        .await
        .context("Failed to create the admin account")?;
        if created.rows_affected() == 0 {
            return Err(exists());
        }
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
        let result = self.check_login(username, password, request).await;
        self.metrics.sign_in(match &result {
            Ok(_) => "succeeded",
            Err(AccountError::Refused(_)) => "refused",
            Err(AccountError::Throttled(_)) => "throttled",
            Err(AccountError::Invalid(_)) => "invalid",
            Err(_) => "error",
        });
        result
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

    async fn audit_log(&self, page: u32) -> anyhow::Result<AuditLogPage> {
        audit::page(&self.pool, page, AUDIT_PAGE_SIZE).await
    }
}

/// Whether cookies get `Secure` and the `__Host-` name. `auto`: when the request came over
/// https, or the public URL is https (a proxy that terminates TLS without sending
/// `X-Forwarded-Proto` still talks https to the browser; HSTS is sent for it too).
fn secure_cookies(cookies: CookieSecurity, public_url_is_https: bool, request_https: bool) -> bool {
    match cookies {
        CookieSecurity::Always => true,
        CookieSecurity::Never => false,
        CookieSecurity::Auto => public_url_is_https || request_https,
    }
}

/// Logs, once per process, a proxy setting that looks wrong: without
/// `--trusted-proxy-header` every client behind a proxy shares the proxy's address for the
/// sign-in throttle; with it, a value that names no address is ignored.
fn warn_once_of_a_proxy_misconfiguration(headers: &HeaderMap, trusted: Option<&HeaderName>) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if let Some(problem) = proxy_misconfiguration(headers, trusted)
        && !WARNED.swap(true, Ordering::Relaxed)
    {
        tracing::warn!("{problem}");
    }
}

/// What looks wrong about the proxy setting, judging by one request's headers.
fn proxy_misconfiguration(headers: &HeaderMap, trusted: Option<&HeaderName>) -> Option<String> {
    match trusted {
        None => ["x-forwarded-for", "forwarded"]
            .into_iter()
            .find(|name| headers.contains_key(*name))
            .map(|name| {
                format!(
                    "a request came with a {name} header, but --trusted-proxy-header \
                     (ITSM_BRIDGE_TRUSTED_PROXY_HEADER) is not set: behind a reverse proxy, \
                     all clients share the proxy's address for the per-address sign-in \
                     limit; set it to the header your proxy sets (e.g. X-Forwarded-For)"
                )
            }),
        Some(name) => {
            let values = headers.get_all(name);
            let present = values.iter().next().is_some();
            (present && client_address(headers, None, Some(name)).is_none()).then(|| {
                format!(
                    "the {name} header named by --trusted-proxy-header holds no address \
                     this server can read (it wants the client's IP address as the \
                     right-most entry, e.g. \"X-Forwarded-For: 203.0.113.7\"; a Forwarded \
                     header's for= syntax is not read): the socket's address is used instead"
                )
            })
        }
    }
}

/// A short fingerprint of a stored password hash: the throttle forgets a user name's
/// failures when it changes (a password reset, from another process).
fn fingerprint(stored: &str) -> u64 {
    let digest = crate::random::sha256(stored.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(first)
}

async fn admin_exists(pool: &SqlitePool) -> anyhow::Result<bool> {
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM admins")
        .fetch_one(pool)
        .await
        .context("Failed to count the admin accounts")?;
    Ok(count > 0)
}

/// `itsm-bridge admin reset-password USER`: sets a new password and ends the user's
/// sessions. A running server sees the new hash at the next sign-in and ends any slow-down
/// of that user name.
pub async fn reset_password(
    pool: &SqlitePool,
    username: &str,
    password: &str,
) -> anyhow::Result<()> {
    check_new_password(password).map_err(|message| anyhow::anyhow!(message))?;
    let hash = password::hash(password.to_string()).await?;
    // One transaction: a stolen session never outlives the reset, whatever fails between.
    let mut tx = pool.begin().await.context("Failed to begin the reset")?;
    let row = sqlx::query("UPDATE admins SET password_hash = ? WHERE username = ? RETURNING id")
        .bind(hash)
        .bind(username.trim())
        .fetch_optional(&mut *tx)
        .await
        .context("Failed to update the password")?;
    let Some(row) = row else {
        anyhow::bail!("There is no admin named {username:?}");
    };
    sessions::delete_all_of(&mut tx, row.get("id")).await?;
    tx.commit().await.context("Failed to commit the reset")?;
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

/// The first admin account, made on the server's machine instead of on `/setup`: for
/// `itsm-bridge demo`, which makes the password and prints it once. Refused when an account
/// exists already.
pub async fn create_first_admin(
    pool: &SqlitePool,
    username: &str,
    password: &str,
    now: i64,
) -> anyhow::Result<()> {
    let username = parse_username(username).map_err(|message| anyhow::anyhow!(message))?;
    check_new_password(password).map_err(|message| anyhow::anyhow!(message))?;
    let hash = password::hash(password.to_string()).await?;
    let created = sqlx::query(
        "INSERT INTO admins (username, password_hash, created_at) \
         SELECT ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM admins)",
    )
    .bind(&username)
    .bind(hash)
    .bind(now)
    .execute(pool)
    .await
    .context("Failed to create the admin account")?;
    if created.rows_affected() == 0 {
        anyhow::bail!("An admin account exists already");
    }
    audit::record(
        pool,
        now,
        Some(&username),
        "setup",
        "created the admin account from the command line",
        None,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// HSTS is sent for an https public URL; the cookie must be as strict for it, also when
    /// the proxy does not say the request came over https.
    #[test]
    fn an_https_public_url_makes_auto_cookies_secure() {
        assert!(secure_cookies(CookieSecurity::Auto, true, false));
        assert!(secure_cookies(CookieSecurity::Auto, false, true));
        assert!(!secure_cookies(CookieSecurity::Auto, false, false));
        assert!(!secure_cookies(CookieSecurity::Never, true, true));
        assert!(secure_cookies(CookieSecurity::Always, false, false));
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        headers
    }

    #[test]
    fn forwarded_headers_without_a_trusted_proxy_are_worth_a_warning() {
        let xff = headers(&[("X-Forwarded-For", "203.0.113.7")]);
        let warning = proxy_misconfiguration(&xff, None).unwrap();
        assert!(warning.contains("--trusted-proxy-header"), "{warning}");
        assert!(warning.contains("share the proxy's address"), "{warning}");
        let forwarded = headers(&[("Forwarded", "for=203.0.113.7")]);
        assert!(proxy_misconfiguration(&forwarded, None).is_some());
        assert_eq!(proxy_misconfiguration(&headers(&[]), None), None);
    }

    #[test]
    fn a_trusted_header_that_names_no_address_is_worth_a_warning() {
        let name = HeaderName::from_static("x-forwarded-for");
        let good = headers(&[("X-Forwarded-For", "1.2.3.4, 203.0.113.7")]);
        assert_eq!(proxy_misconfiguration(&good, Some(&name)), None);
        assert_eq!(proxy_misconfiguration(&headers(&[]), Some(&name)), None);
        let garbled = headers(&[("X-Forwarded-For", "for=203.0.113.7")]);
        let warning = proxy_misconfiguration(&garbled, Some(&name)).unwrap();
        assert!(warning.contains("x-forwarded-for"), "{warning}");
    }
}
