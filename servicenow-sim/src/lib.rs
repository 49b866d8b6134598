//! A ServiceNow instance for tests and demos (docs/SERVICENOW.md, "The simulator"): the OAuth
//! token endpoint, the Table API on `incident`, `sys_user`, `sys_user_group` and
//! `sys_choice`, the encoded-query subset, Bearer and Basic auth, scripted faults, a request
//! log, the incidents' journal, an incident's page, and service-desk actions. Plain http, or https with a self-signed certificate that
//! clients trust through a CA file (never by turning verification off).

pub mod instance;
pub mod query;
mod routes;

pub use instance::{
    CLIENT_ID, CLIENT_SECRET, Fault, GROUP_SYS_ID, JournalEntry, LogEntry, USER_NAME,
    USER_PASSWORD, USER_SYS_ID,
};

use instance::Instance;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;

/// The shared state behind the routes and the handle.
pub type Shared = Arc<Mutex<Instance>>;

/// A running simulator, for the tests that drive it.
#[derive(Clone)]
pub struct SimHandle {
    pub address: SocketAddr,
    state: Shared,
}

/// Starts a simulator on `listen` (port 0 for any) in the background, over plain http.
pub async fn start(listen: SocketAddr, token_lifetime_seconds: i64) -> anyhow::Result<SimHandle> {
    let listener = TcpListener::bind(listen).await?;
    let address = listener.local_addr()?;
    let state: Shared = Arc::new(Mutex::new(Instance::seeded(token_lifetime_seconds)));
    let app = routes::router(state.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(SimHandle { address, state })
}

/// Starts a simulator over https with a new self-signed certificate for `localhost` and
/// `127.0.0.1`; returns it with the certificate (PEM) that clients must trust.
pub async fn start_https(
    listen: SocketAddr,
    token_lifetime_seconds: i64,
) -> anyhow::Result<(SimHandle, String)> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()])?;
    let cert_pem = certified.cert.pem();
    let key_pem = certified.key_pair.serialize_pem();
    let tls = axum_server::tls_rustls::RustlsConfig::from_pem(
        cert_pem.clone().into_bytes(),
        key_pem.into_bytes(),
    )
    .await?;
    let listener = std::net::TcpListener::bind(listen)?;
    listener.set_nonblocking(true)?;
    let address = listener.local_addr()?;
    let mut instance = Instance::seeded(token_lifetime_seconds);
    instance.scheme = "https";
    let state: Shared = Arc::new(Mutex::new(instance));
    let app = routes::router(state.clone());
    let server = axum_server::from_tcp_rustls(listener, tls);
    tokio::spawn(async move {
        let _ = server.serve(app.into_make_service()).await;
    });
    Ok((SimHandle { address, state }, cert_pem))
}

impl SimHandle {
    pub fn url(&self) -> String {
        let scheme = self.with(|s| s.scheme);
        format!("{scheme}://{}", self.address)
    }

    fn with<T>(&self, f: impl FnOnce(&mut Instance) -> T) -> T {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut state)
    }

    /// Queues a fault for the next Table API or token request.
    pub fn inject(&self, fault: Fault, times: usize) {
        self.with(|s| (0..times).for_each(|_| s.faults.push_back(fault.clone())));
    }

    /// Queues a fault for the next token requests only; Table API requests pass untouched.
    pub fn inject_token_fault(&self, fault: Fault, times: usize) {
        self.with(|s| (0..times).for_each(|_| s.token_faults.push_back(fault.clone())));
    }

    /// A real per-hour limit on Table API requests.
    pub fn limit_per_hour(&self, limit: u32) {
        self.with(|s| routes::set_hourly_limit(s, limit));
    }

    pub fn revoke_tokens(&self) {
        self.with(|s| {
            s.tokens.clear();
            s.refresh_tokens.clear();
        });
    }

    /// Forgets the refresh tokens only, as when they expire: a refresh grant is refused,
    /// the access tokens still work.
    pub fn expire_refresh_tokens(&self) {
        self.with(|s| s.refresh_tokens.clear());
    }

    /// Every access and refresh token handed out and still known: secrets that a client's
    /// logs must never show.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.with(|s| {
            s.tokens
                .keys()
                .chain(s.refresh_tokens.keys())
                .cloned()
                .collect()
        })
    }

    pub fn log(&self) -> Vec<LogEntry> {
        self.with(|s| s.log.clone())
    }

    /// Forgets the requests seen so far, so that what follows is counted on its own.
    pub fn clear_log(&self) {
        self.with(|s| s.log.clear());
    }

    /// Requests counted by method, path and status, as `GET /_sim/counters` answers:
    /// `{"GET /api/now/table/incident 200": 3}`.
    pub fn counters(&self) -> BTreeMap<String, usize> {
        self.with(|s| s.counters())
    }

    /// Requests seen for `method` and a path starting with `prefix`.
    pub fn count(&self, method: &str, prefix: &str) -> usize {
        self.with(|s| {
            s.log
                .iter()
                .filter(|e| e.method == method && e.path.starts_with(prefix))
                .count()
        })
    }

    /// Every incident, as stored.
    pub fn incidents(&self) -> Vec<query::Record> {
        self.with(|s| s.tables.get("incident").cloned().unwrap_or_default())
    }

    /// The incidents whose `correlation_id` is exactly `id`, in the order they were created.
    pub fn incidents_with_correlation_id(&self, id: &str) -> Vec<query::Record> {
        self.with(|s| {
            s.tables
                .get("incident")
                .map(|rows| {
                    rows.iter()
                        .filter(|r| r.get("correlation_id").map(String::as_str) == Some(id))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default()
        })
    }

    /// The work notes written to an incident, oldest first (the Table API reads them back
    /// empty, as ServiceNow does).
    pub fn work_notes(&self, sys_id: &str) -> Vec<String> {
        self.with(|s| s.work_notes(sys_id))
    }

    /// Every journal entry (work notes and comments of every incident), oldest first.
    pub fn journal(&self) -> Vec<JournalEntry> {
        self.with(|s| s.journal.clone())
    }

    /// The service desk moves an incident to `state` (with a close code when needed).
    pub fn set_state(&self, sys_id: &str, state: &str) -> bool {
        self.with(|s| routes::desk_set_state(s, sys_id, state))
    }

    /// The service desk back-dates an incident's `opened_at` (`YYYY-MM-DD HH:MM:SS`).
    pub fn set_opened_at(&self, sys_id: &str, opened_at: &str) -> bool {
        self.with(|s| match s.incident_mut(sys_id) {
            Some(record) => {
                record.insert("opened_at".into(), opened_at.into());
                true
            }
            None => false,
        })
    }

    /// The service desk back-dates when an incident was resolved (`YYYY-MM-DD HH:MM:SS`).
    pub fn set_resolved_at(&self, sys_id: &str, resolved_at: &str) -> bool {
        self.with(|s| match s.incident_mut(sys_id) {
            Some(record) => {
                record.insert("resolved_at".into(), resolved_at.into());
                true
            }
            None => false,
        })
    }
}
