//! Start-up: opens the database, loads the key for secrets, binds the listener (port 0 in
//! tests) and builds the router: health checks, the Leptos pages and server functions, the
//! static site, and the cross-site guard around all of it.

use crate::auth::{Auth, Clock, SessionPolicy, SystemClock};
use crate::configuration::Config;
use crate::connection_test::ServiceNowConnectionTester;
use crate::database;
use crate::http::access;
use crate::http::cross_site::{SiteOrigins, refuse_cross_site};
use crate::http::health;
use crate::http::scans_api::{self, ScansApi};
use crate::http::security_headers::{CspNonce, add_security_headers};
use crate::scan_store::SqliteScanStore;
use crate::secrets::SecretCipher;
use crate::servicenow::ClientSettings;
use crate::settings_store::SqliteSettingsStore;
use anyhow::Context;
use app::auth::SharedAccountBackend;
use app::backend::{SharedConnectionTester, SharedScanStore, SharedSettingsStore};
use app::flash::FlashStore;
use app::{App, shell};
use axum::Router;
use axum::response::Redirect;
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
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

pub struct Application {
    listener: TcpListener,
    router: Router,
    pool: SqlitePool,
}

impl Application {
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    /// As [`build`](Self::build), with the clock that sessions and throttling read.
    pub async fn build_with_clock(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let database_path = config.database_path()?;
        let pool = database::open(&database_path).await?;
        let cipher = SecretCipher::load(config.secret_key.as_ref(), &config.key_file_path()?)?;
        let store = Arc::new(SqliteSettingsStore::new(pool.clone(), Arc::new(cipher)));
        if let Err(error) = store.connection_secrets().await {
            // Start anyway: the administrator can enter the secrets again on the page.
            tracing::warn!(
                error = format!("{error:#}"),
                "the stored ServiceNow secrets are unusable"
            );
        }
        let origins = SiteOrigins::new(config.public_url.as_deref())?;
        let policy = SessionPolicy {
            idle_seconds: i64::from(config.session_idle_minutes) * 60,
            absolute_seconds: i64::from(config.session_max_hours) * 3600,
        };
        let auth = Arc::new(
            Auth::start(
                pool.clone(),
                clock,
                policy,
                config.secure_cookies,
                config.setup_token_path()?,
            )
            .await?,
        );

        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("Failed to listen on {}", config.listen))?;
        let options = LeptosOptions::builder()
            .output_name("itsm-bridge")
            .site_root(config.site_root.to_string_lossy().to_string())
            .site_pkg_dir("pkg")
            .site_addr(listener.local_addr()?)
            .env(Env::PROD)
            .build();
        let scans = Arc::new(ScansApi {
            pool: pool.clone(),
            max_bytes: config.max_scan_bytes,
            keep_per_source: config.scans_kept_per_source,
        });
        let client_settings = ClientSettings {
            timeout: std::time::Duration::from_secs(config.servicenow_timeout_seconds.max(1)),
            max_requests_per_second: config.servicenow_requests_per_second.max(1),
            ca_file: config.servicenow_ca_file.clone(),
            ..ClientSettings::default()
        };
        let tester: SharedConnectionTester = Arc::new(ServiceNowConnectionTester::new(
            store.clone(),
            client_settings,
        ));
        let router = router(options, store, auth, scans, tester, pool.clone(), origins);
        Ok(Self {
            listener,
            router,
            pool,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `shutdown` completes, lets requests under way finish, then closes the
    /// database.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let service = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        let served = axum::serve(self.listener, service)
            .with_graceful_shutdown(shutdown)
            .await;
        self.pool.close().await;
        served
    }
}

/// The app's routes, listed once per process. Listing them renders the app with a
/// process-wide flag set that stops every resource from loading, so a page served by
/// another server of the same process meanwhile (tests start many) would wait forever.
static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();

fn router(
    options: LeptosOptions,
    store: Arc<SqliteSettingsStore>,
    auth: Arc<Auth>,
    scans: Arc<ScansApi>,
    tester: SharedConnectionTester,
    pool: SqlitePool,
    origins: SiteOrigins,
) -> Router {
    let store: SharedSettingsStore = store;
    let accounts: SharedAccountBackend = auth.clone();
    let scan_store: SharedScanStore = Arc::new(SqliteScanStore::new(pool.clone()));
    let flash = Arc::new(FlashStore::new());
    let context = move || {
        provide_context(store.clone());
        provide_context(accounts.clone());
        provide_context(scan_store.clone());
        provide_context(tester.clone());
        provide_context(flash.clone());
        if let Some(nonce) =
            use_context::<Parts>().and_then(|p| p.extensions.get::<CspNonce>().cloned())
        {
            provide_context(Nonce::from_value(nonce.0));
        }
    };
    let routes = ROUTES.get_or_init(|| generate_route_list(App)).clone();
    Router::new()
        .route("/", get(|| async { Redirect::to("/settings/connection") }))
        .route(
            "/api/v1/scans",
            post(scans_api::post_scan).with_state(scans),
        )
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(move || health::readyz(pool.clone())))
        .leptos_routes_with_context(&options, routes, context.clone(), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context(
            context, shell,
        ))
        .with_state(options)
        .layer(axum::middleware::from_fn_with_state(auth, access::guard))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(origins),
            refuse_cross_site,
        ))
        .layer(axum::middleware::from_fn(add_security_headers))
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
    for plain in ["/", "/healthz", "/readyz"] {
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
