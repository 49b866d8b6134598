//! Start-up: checks the settings, opens the database, loads the key for secrets, starts the
//! sign-in machinery, Test connection, the ticket engine and the scan writer, binds the
//! listener (port 0 in tests) and builds the router: health checks, `/metrics`, the scanner
//! API, the Leptos pages and server functions, the static site, and around all of it the
//! access guard, the cross-site and host checks, the security headers, the cache policy and
//! the body limits. `serve` is the accept loop (its connection caps and timeouts);
//! `run_until_stopped` serves until shutdown, then drains. The commands (`run-once`,
//! `demo`…) build their engine and ServiceNow client here too (`build_engine`,
//! `servicenow_pacer`, `client_settings`), so that they run as the server would.

use crate::auth::{Auth, AuthSettings, Clock, SessionPolicy, SystemClock};
use crate::configuration::Config;
use crate::connection_test::ServiceNowConnectionTester;
use crate::database::{self, Readers};
use crate::engine::control::EngineRuns;
use crate::engine::rules_control::EngineRulesBackend;
use crate::engine::run_store;
use crate::engine::scheduler::run_scheduler;
use crate::engine::{Engine, EngineSettings};
use crate::http::access;
use crate::http::body_timeout::{BodyLimits, limit_idle_body};
use crate::http::cache_policy::set_cache_policy;
use crate::http::connection_io::ConnectionIo;
use crate::http::connection_limits::{ConnectionLimits, TOO_MANY_FROM_CLIENT};
use crate::http::cross_site::{SiteOrigins, refuse_cross_site};
use crate::http::health::{self, DatabaseFile, Readiness};
use crate::http::host_check::{HostNames, refuse_unknown_host};
use crate::http::scans_api::{self, ScansApi};
use crate::http::security_headers::{CspNonce, add_security_headers};
use crate::http::server_fn_errors::refuse_unreadable_requests;
use crate::http::unread_body::close_after_unread_body;
use crate::http::upload_shares::UploadShares;
use crate::ingest::ScanWriter;
use crate::metrics::{Metrics, MetricsEndpoint};
use crate::scan_store::SqliteScanStore;
use crate::secrets::SecretCipher;
use crate::servicenow::{ClientSettings, Pacer};
use crate::settings_store::SqliteSettingsStore;
use anyhow::Context;
use app::auth::SharedAccountBackend;
use app::backend::{
    SharedConnectionTester, SharedEngineControl, SharedEngineRules, SharedOverview,
    SharedScanStore, SharedSettingsStore, SharedTicketList,
};
use app::flash::FlashStore;
use app::site_assets::SiteAssets;
use app::{App, shell};
use axum::Router;
use axum::routing::{get, post};
use http::request::Parts;
use leptos::config::{Env, LeptosOptions};
use leptos::nonce::Nonce;
use leptos::prelude::{provide_context, use_context};
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use sqlx::SqlitePool;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_http::trace::TraceLayer;

/// The connections that the pages' reads (the session, the settings) share: a read holds one
/// for a single round trip to SQLite's thread, so a few serve many requests at once.
const READERS: u32 = 4;

pub struct Application {
    listener: TcpListener,
    router: Router,
    header_timeout: Duration,
    /// How long a write to a client may make no progress (`--body-read-timeout-seconds`).
    write_timeout: Duration,
    /// How long requests under way may take to finish at shutdown.
    drain_deadline: Duration,
    limits: ConnectionLimits,
    pool: SqlitePool,
    /// Closed before the pool: their connections are out of it.
    readers: Readers,
    engine: Arc<Engine>,
    /// Closed with the database: its connection is its own, not the pool's.
    writer: Arc<ScanWriter>,
    settings: Arc<SqliteSettingsStore>,
    scheduler: bool,
    shutdown: watch::Sender<bool>,
}

impl Application {
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    /// As [`build`](Self::build), with the clock that sessions, throttling and the engine read.
    pub async fn build_with_clock(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        // The settings are checked before any file (database, key) is written.
        let database_path = config.database_path()?;
        let origins = SiteOrigins::new(config.public_url.as_deref())?;
        // Every setting in effect, for whoever reads the log; the secret key's type prints
        // only that it is set, never its value.
        tracing::info!(settings = ?config, "starting with these settings");
        if config.trusted_proxy_header.is_some() && !config.listen.ip().is_loopback() {
            // The header is believed from whoever connects: a client that reaches the port
            // directly names any address it likes, past the throttle and into the audit log.
            tracing::warn!(
                listen = %config.listen,
                "--trusted-proxy-header is set and the server listens beyond loopback: make sure \
                 only the reverse proxy can reach this port (a firewall), or listen on loopback"
            );
        }
        let site_root = crate::site::root_to_serve(&config.site_root);
        let pool = database::open(&database_path).await?;
        let readers = Readers::new(pool.clone(), READERS);
        let cipher = SecretCipher::load(config.secret_key.as_ref(), &config.key_file_path()?)?;
        let store = Arc::new(SqliteSettingsStore::new(
            pool.clone(),
            readers.clone(),
            Arc::new(cipher),
        ));
        seal_secrets_to_their_url(&store).await;
        // The server's one set of counters, read at `/metrics`.
        let metrics = Metrics::new();
        if let Err(error) = store.connection_secrets().await {
            // Start anyway: the administrator can enter the secrets again on the page.
            tracing::warn!(
                error = format!("{error:#}"),
                "the stored ServiceNow secrets are unusable"
            );
        }
        let policy = SessionPolicy {
            idle_seconds: i64::from(config.session_idle_minutes) * 60,
            absolute_seconds: i64::from(config.session_max_hours) * 3600,
        };
        let auth_settings = AuthSettings {
            policy,
            cookies: config.secure_cookies,
            setup_token_file: config.setup_token_path()?,
            audit_kept_seconds: i64::from(config.audit_kept_days) * 86_400,
            trusted_proxy_header: config.trusted_proxy_header.clone(),
            public_url_is_https: origins.public_url_is_https(),
            metrics: metrics.clone(),
        };
        let auth = Arc::new(
            Auth::start(pool.clone(), readers.clone(), clock.clone(), auth_settings).await?,
        );

        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("Failed to listen on {}", config.listen))?;
        let hash_file = crate::site::hash_file(&site_root);
        let site_assets = SiteAssets::read(&site_root, OUTPUT_NAME, hash_file.as_deref())?;
        let options = LeptosOptions::builder()
            .output_name(OUTPUT_NAME)
            .site_root(site_root.to_string_lossy().to_string())
            .site_pkg_dir(app::site_assets::PKG_DIR)
            .hash_files(hash_file.is_some())
            .hash_file(hash_file.map_or_else(
                || Arc::from(crate::site::HASH_FILE),
                |file| Arc::from(file.to_string_lossy().as_ref()),
            ))
            .site_addr(listener.local_addr()?)
            .env(Env::PROD)
            .build();
        let pacer = servicenow_pacer(config);
        let tester: SharedConnectionTester = Arc::new(ServiceNowConnectionTester::new(
            store.clone(),
            ClientSettings {
                metrics: metrics.clone(),
                ..client_settings(config)
            },
            pacer.clone(),
            pool.clone(),
            clock.clone(),
        ));
        let (shutdown, shutdown_seen) = watch::channel(false);
        let started_at = clock.now();
        let engine = build_engine_counted(
            config,
            &database_path,
            store.clone(),
            pacer,
            clock.clone(),
            shutdown_seen,
            metrics.clone(),
        )
        .await?;
        // Scans take turns for the database, letting the pages' and the engine's
        // connections go first.
        let writer = ScanWriter::new(pool.clone())
            .with_clock(clock)
            .deferring_to(engine.pool().clone());
        if let Err(error) = writer.remove_abandoned(started_at).await {
            tracing::warn!(
                error = format!("{error:#}"),
                "could not remove the rows of abandoned scans"
            );
        }
        let writer = Arc::new(writer);
        let body_timeout = Duration::from_secs(config.body_read_timeout_seconds);
        let scans = Arc::new(ScansApi {
            writer: writer.clone(),
            max_bytes: config.max_scan_bytes,
            keep_per_source: config.scans_kept_per_source,
            spill_folder: config.database_folder()?,
            uploads: Arc::new(tokio::sync::Semaphore::new(
                config.max_queued_scans as usize,
            )),
            shares: UploadShares::of_queue(config.max_queued_scans as usize),
            body_timeout,
            min_body_bytes_per_second: config.min_body_bytes_per_second,
            trusted_proxy_header: config.trusted_proxy_header.clone(),
            refused_tokens: crate::audit::RefusalAudit::new(
                pool.clone(),
                i64::from(config.audit_kept_days) * 86_400,
            ),
            metrics: metrics.clone(),
        });
        let engine_runs: SharedEngineControl = Arc::new(EngineRuns {
            engine: engine.clone(),
            settings: store.clone(),
            pool: pool.clone(),
        });
        let overview: SharedOverview = Arc::new(crate::overview::SqliteOverview {
            pool: pool.clone(),
            settings: store.clone(),
            clock: engine.clock().clone(),
            failing: Default::default(),
        });
        let tickets: SharedTicketList = Arc::new(
            crate::engine::ticket_list::SqliteTicketList::new(pool.clone(), store.clone()),
        );
        let router = router(
            options,
            store.clone(),
            auth,
            scans,
            Contexts {
                tester,
                engine_runs,
                overview,
                tickets,
                engine_rules: Arc::new(EngineRulesBackend {
                    pool: pool.clone(),
                    settings: store.clone(),
                    clock: engine.clock().clone(),
                    previews: crate::engine::preview_cache::PreviewCache::new(
                        crate::engine::preview::intent_grace(engine.settings().client.timeout),
                    ),
                }),
                metrics: MetricsEndpoint {
                    metrics,
                    pool: pool.clone(),
                    clock: engine.clock().clone(),
                },
                site_assets,
            },
            Readiness {
                pool: pool.clone(),
                file: DatabaseFile::new(database_path.clone()),
            },
            origins,
        )
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(HostNames::new(
                listener.local_addr()?,
                config.public_url.as_deref(),
            )),
            refuse_unknown_host,
        ))
        .layer(axum::middleware::from_fn_with_state(
            BodyLimits {
                idle_timeout: body_timeout,
                min_bytes_per_second: config.min_body_bytes_per_second,
            },
            limit_idle_body,
        ))
        // Outermost: it sees the body as the client sent it.
        .layer(axum::middleware::from_fn(close_after_unread_body));
        Ok(Self {
            listener,
            router,
            header_timeout: Duration::from_secs(config.header_read_timeout_seconds),
            write_timeout: body_timeout,
            drain_deadline: Duration::from_secs(config.shutdown_grace_seconds),
            limits: ConnectionLimits::new(
                config.max_connections as usize,
                config.max_connections_per_client as usize,
            ),
            pool,
            readers,
            engine,
            writer,
            settings: store,
            scheduler: !config.no_scheduler,
            shutdown,
        })
    }

    /// The main pool (the engine has its own). Tests close it to see how the server
    /// answers once its database is gone.
    pub fn pool(&self) -> SqlitePool {
        self.pool.clone()
    }

    /// The settings as the server's pages read and write them.
    pub fn settings(&self) -> Arc<SqliteSettingsStore> {
        self.settings.clone()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `shutdown` completes, lets requests under way finish (for at most
    /// `--shutdown-grace-seconds`), then closes the database.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let scheduler = self.scheduler.then(|| {
            tokio::spawn(run_scheduler(
                self.engine.clone(),
                self.settings.clone(),
                self.shutdown.subscribe(),
            ))
        });
        let signal = self.shutdown.clone();
        let served = serve(
            self.listener,
            self.router,
            Timeouts {
                header: self.header_timeout,
                write: self.write_timeout,
                drain: self.drain_deadline,
            },
            self.limits,
            async move {
                shutdown.await;
                // The one signal reaches the engine: its running step ends, the run is
                // recorded as interrupted.
                signal.send_replace(true);
            },
        )
        .await;
        self.shutdown.send_replace(true);
        if let Some(scheduler) = scheduler {
            let _ = scheduler.await;
        }
        self.engine.wait_idle().await;
        self.engine.pool().close().await;
        self.writer.close().await;
        self.readers.close().await;
        self.pool.close().await;
        served
    }
}

/// The serve loop's timeouts.
struct Timeouts {
    /// For a request's headers, from the moment the connection is served.
    header: Duration,
    /// For a write to the client that makes no progress.
    write: Duration,
    /// For the requests under way at shutdown.
    drain: Duration,
}

/// The serve loop: axum's, plus a timeout on reading each request's headers (a client that
/// opens connections and sends nothing, a single byte, or headers byte by byte, holds
/// nothing for long) and on each write to a client that does not read
/// ([`ConnectionIo`]), and caps on the connections served at once, in all and per client
/// network ([`ConnectionLimits`]), so that file descriptors cannot run out. HTTP/1 only:
/// HTTP/2 (h2c) is not needed behind a proxy, and its protocol detection would read the
/// first bytes with no timeout at all. Each request carries the client's address
/// (`ConnectInfo`), which the access guard and the sign-in throttle read. On `shutdown` it
/// stops accepting and lets the requests under way finish, for at most
/// `--shutdown-grace-seconds`; then their connections are dropped.
async fn serve(
    listener: TcpListener,
    router: Router,
    timeouts: Timeouts,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::extract::ConnectInfo;
    use hyper::server::conn::http1::Builder;
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::server::graceful::GracefulShutdown;
    use hyper_util::service::TowerToHyperService;
    use tower::ServiceExt;

    let mut builder = Builder::new();
    // hyper starts this timer when the connection is served, before its first byte.
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(timeouts.header);
    let graceful = GracefulShutdown::new();
    let drop_connections = tokio_util::sync::CancellationToken::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // Past `--max-connections`, wait for one to end before accepting the next.
        let place = tokio::select! {
            place = limits.place() => place,
            () = &mut shutdown => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, say: wait a little rather than spin.
                    tracing::warn!(%error, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(client) = limits.admit(remote.ip()) else {
            tracing::debug!(client = %remote.ip(), "too many connections from one client");
            // A short answer if the socket takes it at once, never a wait.
            let _ = stream.try_write(TOO_MANY_FROM_CLIENT);
            continue;
        };
        let router = router.clone();
        let service = tower::service_fn(move |mut request: axum::http::Request<_>| {
            request.extensions_mut().insert(ConnectInfo(remote));
            router.clone().oneshot(request.map(axum::body::Body::new))
        });
        let connection = builder.serve_connection(
            TokioIo::new(ConnectionIo::new(stream, timeouts.write)),
            TowerToHyperService::new(service),
        );
        let connection = graceful.watch(connection);
        let drop_now = drop_connections.clone();
        tokio::spawn(async move {
            // Both held until the connection ends.
            let _counted = (place, client);
            tokio::select! {
                ended = connection => if let Err(error) = ended {
                    tracing::debug!(%error, "a connection ended with an error");
                },
                () = drop_now.cancelled() => {}
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(timeouts.drain, graceful.shutdown())
        .await
        .is_err()
    {
        // A client trickling a body must not keep the process from stopping: its
        // connection is dropped, and what its upload wrote is removed (by its own failed
        // read, or by the cleanup at the next start).
        tracing::warn!(
            seconds = timeouts.drain.as_secs(),
            "requests still under way at shutdown were cut off"
        );
        drop_connections.cancel();
    }
    Ok(())
}

/// The ticket engine on its own connections to the database at `path` (already migrated).
/// Runs left "running" by a process that died are marked interrupted here. It counts into
/// metrics of its own, which nobody reads (`run-once`); the server's engine is
/// [`build_engine_counted`].
pub async fn build_engine(
    config: &Config,
    path: &std::path::Path,
    settings: Arc<SqliteSettingsStore>,
    pacer: Arc<Pacer>,
    clock: Arc<dyn Clock>,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<Arc<Engine>> {
    let metrics = Metrics::new();
    build_engine_counted(config, path, settings, pacer, clock, shutdown, metrics).await
}

/// [`build_engine`], counting its runs and its ServiceNow requests into `metrics`.
pub async fn build_engine_counted(
    config: &Config,
    path: &std::path::Path,
    settings: Arc<SqliteSettingsStore>,
    pacer: Arc<Pacer>,
    clock: Arc<dyn Clock>,
    shutdown: watch::Receiver<bool>,
    metrics: Metrics,
) -> anyhow::Result<Arc<Engine>> {
    crate::servicenow::check_ca_file(config.servicenow_ca_file.as_deref())?;
    let pool = database::open_for_engine(path).await?;
    run_store::mark_dead_runs(&pool, clock.now(), clock.now_ms()).await?;
    let settings_for_engine = EngineSettings {
        lease: Duration::from_secs(config.engine_lease_seconds),
        keep_runs: Duration::from_secs(u64::from(config.runs_kept_days) * 86_400),
        client: ClientSettings {
            metrics: metrics.clone(),
            ..client_settings(config)
        },
        metrics,
    };
    Ok(Engine::new(
        pool,
        settings,
        pacer,
        clock,
        settings_for_engine,
        shutdown,
    ))
}

/// The one pacer of the process, from the configured caps. Build it once and hand it to
/// everything that calls ServiceNow: the instance counts all our requests together.
pub fn servicenow_pacer(config: &Config) -> Arc<Pacer> {
    Arc::new(Pacer::new(
        config.servicenow_requests_per_second,
        config.servicenow_requests_per_hour,
    ))
}

/// Seals the secrets an earlier release stored anew, bound to their instance URL. A failure
/// is logged, not fatal: the administrator can enter the secrets again on the page.
pub async fn seal_secrets_to_their_url(store: &SqliteSettingsStore) {
    match store.seal_secrets_to_their_url().await {
        Ok(0) => {}
        Ok(count) => {
            tracing::info!(
                count,
                "sealed the stored ServiceNow secrets to their instance URL"
            )
        }
        Err(error) => tracing::warn!(
            error = format!("{error:#}"),
            "could not seal the stored ServiceNow secrets to their instance URL"
        ),
    }
}

/// The ServiceNow client's settings from the configuration (timeout, CA file).
pub fn client_settings(config: &Config) -> ClientSettings {
    ClientSettings {
        timeout: std::time::Duration::from_secs(config.servicenow_timeout_seconds),
        ca_file: config.servicenow_ca_file.clone(),
        ..ClientSettings::default()
    }
}

/// The app's routes, listed once per process. Listing them renders the app with a
/// process-wide flag set that stops every resource from loading, so a page served by
/// another server of the same process meanwhile (tests start many) would wait forever.
static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();

/// The site's files are named after this (`output-name`, by default the project's name, in
/// `Cargo.toml`'s Leptos settings).
const OUTPUT_NAME: &str = "itsm-bridge";

/// What the server functions and `/metrics` reach besides the stores.
struct Contexts {
    tester: SharedConnectionTester,
    engine_runs: SharedEngineControl,
    overview: SharedOverview,
    tickets: SharedTicketList,
    engine_rules: SharedEngineRules,
    /// What `/metrics` reads (a plain route, not a server function).
    metrics: MetricsEndpoint,
    /// The names of the site's files in every page's head, read once at start.
    site_assets: SiteAssets,
}

fn router(
    options: LeptosOptions,
    store: Arc<SqliteSettingsStore>,
    auth: Arc<Auth>,
    scans: Arc<ScansApi>,
    contexts: Contexts,
    readiness: Readiness,
    origins: SiteOrigins,
) -> Router {
    let Contexts {
        tester,
        engine_runs,
        overview,
        tickets,
        engine_rules,
        metrics,
        site_assets,
    } = contexts;
    let store: SharedSettingsStore = store;
    let accounts: SharedAccountBackend = auth.clone();
    let scan_store: SharedScanStore = Arc::new(SqliteScanStore::new(readiness.pool.clone()));
    let flash = Arc::new(FlashStore::new());
    let context = move || {
        provide_context(store.clone());
        provide_context(accounts.clone());
        provide_context(scan_store.clone());
        provide_context(tester.clone());
        provide_context(engine_runs.clone());
        provide_context(overview.clone());
        provide_context(tickets.clone());
        provide_context(engine_rules.clone());
        provide_context(flash.clone());
        provide_context(site_assets.clone());
        if let Some(nonce) =
            use_context::<Parts>().and_then(|p| p.extensions.get::<CspNonce>().cloned())
        {
            provide_context(Nonce::from_value(nonce.0));
        }
    };
    let routes = ROUTES.get_or_init(|| generate_route_list(App)).clone();
    let origins = Arc::new(origins);
    Router::new()
        .route(
            "/api/v1/scans",
            post(scans_api::post_scan).with_state(scans),
        )
        .nest_service(
            &format!("/{}", app::site_assets::PKG_DIR),
            crate::site::pkg_files(std::path::Path::new(&*options.site_root)),
        )
        .route("/healthz", get(health::healthz))
        .route(
            crate::metrics::PATH,
            get(crate::metrics::serve).with_state(metrics),
        )
        .route("/readyz", get(move || health::readyz(readiness.clone())))
        .leptos_routes_with_context(&options, routes, context.clone(), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context(
            context, shell,
        ))
        .with_state(options)
        .layer(axum::middleware::from_fn(refuse_unreadable_requests))
        .layer(axum::middleware::from_fn_with_state(auth, access::guard))
        .layer(axum::middleware::from_fn_with_state(
            origins.clone(),
            refuse_cross_site,
        ))
        .layer(axum::middleware::from_fn_with_state(
            origins,
            add_security_headers,
        ))
        .layer(axum::middleware::from_fn(set_cache_policy))
        .layer(TraceLayer::new_for_http())
}

/// Every path the router answers, with its method: the pages, the server functions and the
/// plain routes. The access tests walk this list, so a route added later is covered.
pub fn route_paths() -> Vec<(String, axum::http::Method)> {
    use axum::http::Method;
    let pages = ROUTES.get_or_init(|| generate_route_list(App)).clone();
    let mut paths: Vec<(String, Method)> = pages
        .iter()
        .flat_map(|listing| {
            listing
                .methods()
                .map(|m| {
                    let method = match m {
                        leptos_router::Method::Post => Method::POST,
                        leptos_router::Method::Put => Method::PUT,
                        leptos_router::Method::Patch => Method::PATCH,
                        leptos_router::Method::Delete => Method::DELETE,
                        _ => Method::GET,
                    };
                    (listing.path().to_string(), method)
                })
                .collect::<Vec<_>>()
        })
        .collect();
    paths.extend(
        leptos::server_fn::axum::server_fn_paths().map(|(path, method)| (path.to_string(), method)),
    );
    for plain in ["/healthz", "/readyz", crate::metrics::PATH] {
        paths.push((plain.to_string(), Method::GET));
    }
    paths.push(("/api/v1/scans".to_string(), Method::POST));
    paths
}

/// Completes on Ctrl+C or SIGTERM: the one shutdown signal of the process.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
