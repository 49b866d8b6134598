//! What Prometheus scrapes at `GET /metrics`: engine runs by outcome and their duration,
//! tickets opened, noted and resolved, ServiceNow requests by outcome with their latency,
//! rate-limit waits, scans and findings ingested and refused, sign-ins by outcome.
//!
//! One [`Metrics`] per server, built at start-up and handed to what counts (the engine, the
//! ServiceNow client, the scanner API, sign-in): no global registry, so that the servers a
//! test process starts count apart. A part used without a server (`run-once`, tests) gets a
//! set of its own that nobody reads.
//!
//! Every label takes one of a few fixed words (an outcome, an action, a status code): never
//! a URL, an id, a message or a name, which could be unbounded or carry a secret.
//!
//! `/metrics` answers with any live API token (`Authorization: Bearer …`, Prometheus's
//! `authorization` setting); without one, 401 with `WWW-Authenticate: Bearer`.

use crate::ingest::tokens;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};
use sqlx::SqlitePool;
use std::sync::Arc;
use std::time::Duration;

/// Where Prometheus scrapes.
pub const PATH: &str = "/metrics";

/// OpenMetrics text, which Prometheus reads (what `prometheus-client` writes).
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The challenge of a 401 (RFC 6750), as the scanner API says it.
const CHALLENGE: &str = r#"Bearer realm="itsm-bridge""#;

/// A label that is one word of a fixed list.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Action {
    action: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Status {
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WaitedFor {
    by: &'static str,
}

/// The server's counters. Cloning is cheap and every clone counts into the same numbers.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    engine_runs: Family<Outcome, Counter>,
    engine_run_seconds: Histogram,
    tickets: Family<Action, Counter>,
    servicenow_requests: Family<Outcome, Counter>,
    servicenow_request_seconds: Histogram,
    rate_limit_waits: Family<WaitedFor, Counter>,
    scans_ingested: Counter,
    findings_ingested: Counter,
    scans_refused: Family<Status, Counter>,
    scan_problems: Counter,
    sign_ins: Family<Outcome, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("itsm_bridge");
        let engine_runs = Family::<Outcome, Counter>::default();
        registry.register(
            "engine_runs",
            "Engine runs ended, by outcome (succeeded, partial, failed, interrupted)",
            engine_runs.clone(),
        );
        // 0.1 s to about 7 minutes.
        let engine_run_seconds = Histogram::new(exponential_buckets(0.1, 2.0, 13));
        registry.register_with_unit(
            "engine_run_duration",
            "How long engine runs took, from start to end",
            Unit::Seconds,
            engine_run_seconds.clone(),
        );
        let tickets = Family::<Action, Counter>::default();
        registry.register(
            "tickets",
            "Tickets the engine opened, noted (a work note on a change) and resolved, by action",
            tickets.clone(),
        );
        let servicenow_requests = Family::<Outcome, Counter>::default();
        registry.register(
            "servicenow_requests",
            "Requests sent to ServiceNow, token requests included, by outcome (success, \
             unauthorized, rate_limited, client_error, server_error, redirected, timeout, \
             network_error, tls_error)",
            servicenow_requests.clone(),
        );
        // 5 ms to about 80 s (a longer timeout lands in +Inf).
        let servicenow_request_seconds = Histogram::new(exponential_buckets(0.005, 2.0, 15));
        registry.register_with_unit(
            "servicenow_request_duration",
            "How long ServiceNow took to answer a request (until the answer's headers)",
            Unit::Seconds,
            servicenow_request_seconds.clone(),
        );
        let rate_limit_waits = Family::<WaitedFor, Counter>::default();
        registry.register(
            "servicenow_rate_limit_waits",
            "Requests held back by a rate limit: by our own pacing (pacer) or by a 429 \
             whose Retry-After was waited out (instance)",
            rate_limit_waits.clone(),
        );
        let scans_ingested = Counter::default();
        registry.register(
            "scans_ingested",
            "Scans stored through the scanner API",
            scans_ingested.clone(),
        );
        let findings_ingested = Counter::default();
        registry.register(
            "findings_ingested",
            "Findings stored with those scans",
            findings_ingested.clone(),
        );
        let scans_refused = Family::<Status, Counter>::default();
        registry.register(
            "scans_refused",
            "Scans refused by the scanner API (nothing of them stored), by HTTP status",
            scans_refused.clone(),
        );
        let scan_problems = Counter::default();
        registry.register(
            "scan_problems",
            "Problems (unreadable findings for the most part) that refused scans were refused for",
            scan_problems.clone(),
        );
        let sign_ins = Family::<Outcome, Counter>::default();
        registry.register(
            "sign_ins",
            "Sign-ins, by outcome (succeeded, refused, throttled, invalid, error)",
            sign_ins.clone(),
        );
        Metrics {
            registry: Arc::new(registry),
            engine_runs,
            engine_run_seconds,
            tickets,
            servicenow_requests,
            servicenow_request_seconds,
            rate_limit_waits,
            scans_ingested,
            findings_ingested,
            scans_refused,
            scan_problems,
            sign_ins,
        }
    }

    /// The text Prometheus scrapes.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }

    /// An engine run ended: its outcome, how long it took, and the tickets it changed.
    pub fn engine_run_ended(&self, outcome: &'static str, took: Duration, tickets: [u64; 3]) {
        self.engine_runs.get_or_create(&Outcome { outcome }).inc();
        self.engine_run_seconds.observe(took.as_secs_f64());
        for (action, count) in ["opened", "noted", "resolved"].into_iter().zip(tickets) {
            self.tickets.get_or_create(&Action { action }).inc_by(count);
        }
    }

    /// A request to ServiceNow got an answer or failed: `outcome` is one word of the list
    /// above ([`servicenow_outcome`]).
    pub fn servicenow_request(&self, outcome: &'static str, took: Duration) {
        self.servicenow_requests
            .get_or_create(&Outcome { outcome })
            .inc();
        self.servicenow_request_seconds.observe(took.as_secs_f64());
    }

    /// A request to ServiceNow waited for a rate limit: `by` is `pacer` or `instance`.
    pub fn rate_limit_wait(&self, by: &'static str) {
        self.rate_limit_waits.get_or_create(&WaitedFor { by }).inc();
    }

    /// A scan was stored with this many findings.
    pub fn scan_ingested(&self, findings: u64) {
        self.scans_ingested.inc();
        self.findings_ingested.inc_by(findings);
    }

    /// A scan was refused with this status, for this many problems in it (0 when it was
    /// refused for something else than its contents).
    pub fn scan_refused(&self, status: StatusCode, problems: u64) {
        self.scans_refused
            .get_or_create(&Status {
                status: status.as_u16(),
            })
            .inc();
        self.scan_problems.inc_by(problems);
    }

    /// A sign-in ended: `succeeded`, `refused`, `throttled`, `invalid` or `error`.
    pub fn sign_in(&self, outcome: &'static str) {
        self.sign_ins.get_or_create(&Outcome { outcome }).inc();
    }
}

/// The outcome word of a ServiceNow answer's status.
pub fn servicenow_outcome(status: StatusCode) -> &'static str {
    match status.as_u16() {
        200..=299 => "success",
        300..=399 => "redirected",
        401 | 403 => "unauthorized",
        429 => "rate_limited",
        400..=499 => "client_error",
        _ => "server_error",
    }
}

/// What `/metrics` reads: the counters, and the database for the API tokens.
#[derive(Clone)]
pub struct MetricsEndpoint {
    pub metrics: Metrics,
    pub pool: SqlitePool,
    pub clock: Arc<dyn crate::auth::Clock>,
}

/// `GET /metrics`: the counters, for a live API token only.
pub async fn serve(State(endpoint): State<MetricsEndpoint>, headers: HeaderMap) -> Response {
    let Some(token) = crate::http::scans_api::bearer_token(&headers) else {
        return refused("Send an API token: Authorization: Bearer <token>.");
    };
    match tokens::verify(&endpoint.pool, token, endpoint.clock.now()).await {
        Ok(Some(_)) => (
            [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))],
            endpoint.metrics.encode(),
        )
            .into_response(),
        Ok(None) => refused("This API token is unknown or revoked."),
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "could not check an API token");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "The database does not answer.",
            )
                .into_response()
        }
    }
}

/// 401: how to authenticate, and why this request was not enough.
fn refused(why: &str) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(CHALLENGE),
        )],
        format!("{why} Any live API token (the API tokens page) reads the metrics."),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_set_encodes_every_unlabelled_metric() {
        let text = Metrics::new().encode();
        for name in [
            "itsm_bridge_engine_run_duration_seconds",
            "itsm_bridge_servicenow_request_duration_seconds",
            "itsm_bridge_scans_ingested_total",
            "itsm_bridge_findings_ingested_total",
        ] {
            assert!(text.contains(name), "{name} missing from {text}");
        }
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn clones_count_into_the_same_numbers() {
        let metrics = Metrics::new();
        metrics.clone().scan_ingested(3);
        metrics.clone().scan_ingested(2);
        let text = metrics.encode();
        assert!(
            text.contains("itsm_bridge_scans_ingested_total 2\n"),
            "{text}"
        );
        assert!(
            text.contains("itsm_bridge_findings_ingested_total 5\n"),
            "{text}"
        );
    }

    #[test]
    fn answers_are_sorted_into_a_few_outcomes() {
        let outcome = |code| servicenow_outcome(StatusCode::from_u16(code).unwrap());
        assert_eq!(outcome(201), "success");
        assert_eq!(outcome(307), "redirected");
        assert_eq!(outcome(401), "unauthorized");
        assert_eq!(outcome(429), "rate_limited");
        assert_eq!(outcome(404), "client_error");
        assert_eq!(outcome(503), "server_error");
    }
}
