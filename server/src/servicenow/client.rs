//! The ServiceNow client: the OAuth password grant with a token cache and refresh, one
//! re-authentication on a 401, typed Table API calls, bounded retries with exponential
//! backoff and jitter for reads, `Retry-After` on 429 (from the Table API or the token
//! endpoint alike), every request paced by the process's one [`Pacer`], and a timeout on
//! every request.
//!
//! What comes back is not trusted further than needed: a redirect is never followed (a 307
//! would re-post the OAuth form, both secrets in it, to any host), an answer is read up to
//! a size limit, a token's stated lifetime is capped, and a list gathers at most so many
//! records.

use super::error::ServiceNowError;
use super::pacer::Pacer;
use super::query::query_value;
use crate::metrics::{Metrics, servicenow_outcome};
use backon::{ExponentialBuilder, Retryable};
use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;
// Tokio's clock, like the pacer's: tests pause and advance it to reach a token's expiry.
use tokio::time::Instant;
use tracing::Instrument;

pub type Record = Map<String, Value>;

/// Where and as whom to connect.
#[derive(Clone)]
pub struct Credentials {
    /// `https://acme.service-now.com`, without a trailing slash.
    pub instance: String,
    pub client_id: String,
    pub client_secret: SecretString,
    pub username: String,
    pub password: SecretString,
}

impl Credentials {
    /// The saved connection's credentials, with its two secrets.
    pub fn from_connection(
        values: &app::forms::ConnectionForm,
        client_secret: SecretString,
        password: SecretString,
    ) -> Self {
        Self {
            instance: values.instance_url.clone(),
            client_id: values.client_id.clone(),
            client_secret,
            username: values.user_id.clone(),
            password,
        }
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("instance", &self.instance)
            .field("client_id", &self.client_id)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug)]
pub struct ClientSettings {
    pub timeout: Duration,
    /// Retries of a read after a server error, a timeout or a network failure.
    pub max_retries: u32,
    pub base_backoff: Duration,
    /// The longest `Retry-After` waited for; a longer one is returned as `RateLimited`.
    /// Also the longest the pacer's hourly budget may hold a request back.
    pub max_retry_after: Duration,
    /// A PEM file of extra CA certificates to trust (a private CA, the simulator's).
    pub ca_file: Option<PathBuf>,
    /// The largest answer read, in bytes; a larger one is refused as `TooLarge`.
    pub max_answer_bytes: usize,
    /// The most records [`ServiceNowClient::list_all`] gathers; more is `TooLarge`.
    pub max_list_records: usize,
    /// Where requests, their latency and rate-limit waits are counted (the server's
    /// `/metrics`; a set of its own by default).
    pub metrics: Metrics,
}

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            max_retries: 3,
            base_backoff: Duration::from_millis(500),
            max_retry_after: Duration::from_secs(60),
            ca_file: None,
            max_answer_bytes: 32 << 20,
            max_list_records: 100_000,
            metrics: Metrics::default(),
        }
    }
}

/// The longest a token is believed to last, whatever the instance says. ServiceNow's default
/// is 30 minutes; a day leaves room for an instance set to more, and keeps an absurd
/// `expires_in` (18446744073709551615) from overflowing the clock.
const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// How long before its expiry a token is replaced: a minute, or half its life if shorter,
/// so that a token of a few seconds is still used once.
const REFRESH_MARGIN: Duration = Duration::from_secs(60);

struct CachedToken {
    access: SecretString,
    refresh: Option<SecretString>,
    /// When a new token is asked for instead.
    renew_at: Instant,
}

pub struct ServiceNowClient {
    http: reqwest::Client,
    credentials: Credentials,
    settings: ClientSettings,
    token: Mutex<Option<CachedToken>>,
    /// Shared with every other client of the process: the instance counts them together.
    pacer: Arc<Pacer>,
}

/// One page of a list.
#[derive(Debug, Clone)]
pub struct Page {
    pub records: Vec<Record>,
    /// `X-Total-Count`: every match, not only this page.
    pub total: Option<u64>,
}

impl ServiceNowClient {
    pub fn new(
        credentials: Credentials,
        settings: ClientSettings,
        pacer: Arc<Pacer>,
    ) -> Result<Self, ServiceNowError> {
        let mut builder = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            // A redirect is answered as an error (see `send`), never followed.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("itsm-bridge/", env!("CARGO_PKG_VERSION")));
        if let Some(path) = &settings.ca_file {
            for certificate in super::read_ca_file(path).map_err(ServiceNowError::Tls)? {
                builder = builder.add_root_certificate(certificate);
            }
        }
        let http = builder
            .build()
            .map_err(|e| ServiceNowError::Tls(e.to_string()))?;
        Ok(Self {
            http,
            credentials,
            settings,
            token: Mutex::new(None),
            pacer,
        })
    }

    /// Asks for an access token (the password grant), whatever is cached.
    pub async fn authenticate(&self) -> Result<(), ServiceNowError> {
        *self.token.lock().await = None;
        self.access_token().await.map(|_| ())
    }

    /// `GET /api/now/table/{table}` with an encoded query.
    pub async fn list(
        &self,
        table: &str,
        query: &str,
        fields: &[&str],
        limit: u32,
        offset: u32,
    ) -> Result<Page, ServiceNowError> {
        let mut params = vec![
            ("sysparm_query".to_string(), query.to_string()),
            ("sysparm_limit".to_string(), limit.to_string()),
            ("sysparm_offset".to_string(), offset.to_string()),
            (
                "sysparm_exclude_reference_link".to_string(),
                "true".to_string(),
            ),
        ];
        if !fields.is_empty() {
            params.push(("sysparm_fields".to_string(), fields.join(",")));
        }
        let path = format!("/api/now/table/{table}");
        let (response, total) = self.call(Method::GET, &path, &params, None).await?;
        let records = match response {
            Value::Array(items) => items
                .into_iter()
                .filter_map(|v| match v {
                    Value::Object(map) => Some(map),
                    _ => None,
                })
                .collect(),
            _ => return Err(ServiceNowError::NotJson("`result` is not a list".into())),
        };
        Ok(Page { records, total })
    }

    /// Every record of a query, page by page, at most `max_list_records` of them: more is
    /// `TooLarge`, said at the first page when the instance counts them, and in any case
    /// before an instance that ignores the offset (full pages without end) fills memory.
    pub async fn list_all(
        &self,
        table: &str,
        query: &str,
        fields: &[&str],
    ) -> Result<Vec<Record>, ServiceNowError> {
        const PAGE: u32 = 1000;
        let most = self.settings.max_list_records;
        let too_many = || {
            ServiceNowError::TooLarge(format!(
                "more than {most} records of {table} match the query"
            ))
        };
        let mut all = Vec::new();
        loop {
            let offset = u32::try_from(all.len()).map_err(|_| too_many())?;
            let page = self.list(table, query, fields, PAGE, offset).await?;
            if page.total.is_some_and(|total| total > most as u64) {
                return Err(too_many());
            }
            let got = page.records.len();
            all.extend(page.records);
            if all.len() > most {
                return Err(too_many());
            }
            let done = page.total.is_some_and(|t| all.len() as u64 >= t);
            if got < PAGE as usize || done {
                return Ok(all);
            }
        }
    }

    pub async fn get(&self, table: &str, sys_id: &str) -> Result<Record, ServiceNowError> {
        check_sys_id(sys_id)?;
        let path = format!("/api/now/table/{table}/{sys_id}");
        let params = [(
            "sysparm_exclude_reference_link".to_string(),
            "true".to_string(),
        )];
        record(self.call(Method::GET, &path, &params, None).await?.0)
    }

    pub async fn create(&self, table: &str, fields: &Record) -> Result<Record, ServiceNowError> {
        let path = format!("/api/now/table/{table}");
        let params = [(
            "sysparm_exclude_reference_link".to_string(),
            "true".to_string(),
        )];
        record(
            self.call(Method::POST, &path, &params, Some(fields))
                .await?
                .0,
        )
    }

    pub async fn patch(
        &self,
        table: &str,
        sys_id: &str,
        fields: &Record,
    ) -> Result<Record, ServiceNowError> {
        check_sys_id(sys_id)?;
        let path = format!("/api/now/table/{table}/{sys_id}");
        let params = [(
            "sysparm_exclude_reference_link".to_string(),
            "true".to_string(),
        )];
        record(
            self.call(Method::PATCH, &path, &params, Some(fields))
                .await?
                .0,
        )
    }

    /// Incidents whose `correlation_id` is exactly `id` (at most 10, with the fields the
    /// engine needs). The instance ignores a query part it does not understand, so the
    /// answer is checked here: one foreign record makes it `QueryIgnored`.
    pub async fn incidents_by_correlation_id(
        &self,
        id: &str,
    ) -> Result<Vec<Record>, ServiceNowError> {
        const FIELDS: [&str; 5] = ["sys_id", "number", "state", "opened_at", "correlation_id"];
        let page = self
            .list(
                "incident",
                &format!("correlation_id={}", query_value(id)),
                &FIELDS,
                10,
                0,
            )
            .await?;
        // An instance that ignored the query answers with other records: say so rather than
        // page through every incident, or believe the ticket is not there.
        if page
            .records
            .iter()
            .any(|r| r.get("correlation_id").and_then(Value::as_str) != Some(id))
        {
            return Err(ServiceNowError::QueryIgnored(format!(
                "a lookup by correlation_id={id}"
            )));
        }
        Ok(page.records)
    }

    /// One Table API call: pacing, auth (one re-authentication on a 401), retries for reads.
    /// The token request on the way is treated like the call itself: its 429 is waited out
    /// and its transient failures retried, even for a write, since nothing was written yet.
    ///
    /// Retries follow backon's exponential backoff: `base_backoff`, doubling, plus a random
    /// part up to the same again, `max_retries` times at most; a 429 waits its `Retry-After`
    /// instead (within `max_retry_after`), and counts as one of those retries.
    async fn call(
        &self,
        method: Method,
        path: &str,
        params: &[(String, String)],
        body: Option<&Record>,
    ) -> Result<(Value, Option<u64>), ServiceNowError> {
        let backoff = ExponentialBuilder::new()
            .with_min_delay(self.settings.base_backoff)
            .with_max_delay(self.settings.base_backoff.saturating_mul(1 << 10))
            .with_jitter()
            .with_max_times(self.settings.max_retries as usize);
        let is_read = method == Method::GET;
        let max_retry_after = self.settings.max_retry_after;
        (|| self.attempt(&method, path, params, body))
            .retry(backoff)
            .sleep(tokio::time::sleep)
            .when(|failure: &Failure| failure.may_be_retried(is_read, max_retry_after))
            .adjust(|failure, backoff| match failure.error {
                // The instance says how long; the retries left still count.
                ServiceNowError::RateLimited { retry_after } => backoff.map(|_| retry_after),
                _ => backoff,
            })
            .notify(|failure, wait| match failure.error {
                ServiceNowError::RateLimited { .. } => {
                    self.settings.metrics.rate_limit_wait("instance");
                    tracing::warn!(
                        path,
                        wait_s = wait.as_secs(),
                        "ServiceNow rate limit: waiting as it asks"
                    )
                }
                ref error => tracing::warn!(
                    path,
                    wait_ms = wait.as_millis() as u64,
                    error = %error,
                    "retrying a ServiceNow read"
                ),
            })
            .await
            .map_err(|failure| failure.error)
    }

    /// One attempt of [`call`](Self::call): a token (from the cache or a new one), the
    /// request, and one more time with a fresh token if the instance refuses this one (it
    /// may have been revoked or have expired early).
    async fn attempt(
        &self,
        method: &Method,
        path: &str,
        params: &[(String, String)],
        body: Option<&Record>,
    ) -> Result<(Value, Option<u64>), Failure> {
        let mut reauthenticated = false;
        loop {
            let token = self
                .access_token()
                .await
                .map_err(|error| Failure { error, sent: false })?;
            let mut request = self
                .http
                .request(
                    method.clone(),
                    format!("{}{path}", self.credentials.instance),
                )
                .query(params)
                .bearer_auth(token.expose_secret())
                .header("Accept", "application/json");
            if let Some(body) = body {
                request = request.json(body);
            }
            let outcome = match self.send(request).await {
                Ok(response) => self.read_answer(response).await,
                Err(error) => Err(error),
            };
            match outcome {
                Err(ServiceNowError::BadCredentials(_)) if !reauthenticated => {
                    reauthenticated = true;
                    *self.token.lock().await = None;
                }
                Err(error) => return Err(Failure { error, sent: true }),
                Ok(answer) => return Ok(answer),
            }
        }
    }

    /// Waits for this request's turn with the process's pacer, then sends. A redirect is an
    /// error: following it would send the credentials (the OAuth form, the bearer token) to
    /// wherever it points.
    ///
    /// Each request has its span, `servicenow_request{method, table, status}`: the table
    /// (or `oauth_token`), never the URL's query nor a header, which carry what was asked
    /// and the credentials. It is counted in the metrics by outcome, with its latency.
    async fn send(&self, request: RequestBuilder) -> Result<Response, ServiceNowError> {
        let request = request.build().map_err(|e| self.transport_error(&e))?;
        let span = tracing::info_span!(
            "servicenow_request",
            method = %request.method(),
            table = table_of(request.url().path()),
            status = tracing::field::Empty,
        );
        self.send_built(request).instrument(span).await
    }

    /// [`send`](Self::send), in its span.
    async fn send_built(&self, request: reqwest::Request) -> Result<Response, ServiceNowError> {
        let waited = self.pacer.wait_turn(self.settings.max_retry_after).await?;
        if !waited.is_zero() {
            self.settings.metrics.rate_limit_wait("pacer");
        }
        let started = Instant::now();
        let sent = self.http.execute(request).await;
        let took = started.elapsed();
        let response = match sent {
            Ok(response) => response,
            Err(error) => {
                let error = self.transport_error(&error);
                let outcome = match error {
                    ServiceNowError::Timeout(_) => "timeout",
                    ServiceNowError::Tls(_) => "tls_error",
                    _ => "network_error",
                };
                self.settings.metrics.servicenow_request(outcome, took);
                tracing::debug!(
                    took_ms = took.as_millis() as u64,
                    outcome,
                    "ServiceNow request failed"
                );
                return Err(error);
            }
        };
        let status = response.status();
        tracing::Span::current().record("status", status.as_u16());
        self.settings
            .metrics
            .servicenow_request(servicenow_outcome(status), took);
        tracing::debug!(took_ms = took.as_millis() as u64, "ServiceNow answered");
        if response.status().is_redirection() {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(snippet)
                .unwrap_or_else(|| "nowhere (no Location header)".into());
            return Err(ServiceNowError::Redirected {
                status: response.status().as_u16(),
                location,
            });
        }
        Ok(response)
    }

    /// The answer's body, read up to `max_answer_bytes`: whatever answers in the instance's
    /// place could otherwise send more than memory holds.
    async fn read_body(&self, mut response: Response) -> Result<String, ServiceNowError> {
        let limit = self.settings.max_answer_bytes;
        let too_large = || ServiceNowError::TooLarge(format!("more than {limit} bytes"));
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.transport_error(&e))?
        {
            if body.len() + chunk.len() > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(String::from_utf8_lossy(&body).into_owned())
    }

    /// Reads a Table API answer: `result` on success, a typed error otherwise.
    async fn read_answer(
        &self,
        response: Response,
    ) -> Result<(Value, Option<u64>), ServiceNowError> {
        let status = response.status();
        let headers = response.headers().clone();
        let text = self.read_body(response).await?;
        table_answer(status, &headers, &text)
    }

    fn transport_error(&self, error: &reqwest::Error) -> ServiceNowError {
        if error.is_timeout() {
            return ServiceNowError::Timeout(self.settings.timeout);
        }
        let text = error_chain(error);
        if text.contains("certificate") || text.contains("tls") || text.contains("TLS") {
            ServiceNowError::Tls(text)
        } else {
            ServiceNowError::Network(text)
        }
    }

    /// The cached access token, refreshed about 60 s before it expires.
    async fn access_token(&self) -> Result<SecretString, ServiceNowError> {
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref()
            && token.renew_at > Instant::now()
        {
            return Ok(token.access.clone());
        }
        let refresh = cached.as_ref().and_then(|t| t.refresh.clone());
        let fresh = match refresh {
            Some(refresh) => match self.token_request(Some(&refresh)).await {
                Ok(token) => token,
                // A refused refresh token (expired, revoked): the password grant instead.
                // Any other failure would hit the password grant just the same.
                Err(ServiceNowError::BadCredentials(_)) => {
                    *cached = None;
                    self.token_request(None).await?
                }
                Err(error) => return Err(error),
            },
            None => self.token_request(None).await?,
        };
        let access = fresh.access.clone();
        *cached = Some(fresh);
        Ok(access)
    }

    /// `POST /oauth_token.do`, form-encoded: the password grant, or the refresh grant.
    async fn token_request(
        &self,
        refresh: Option<&SecretString>,
    ) -> Result<CachedToken, ServiceNowError> {
        let c = &self.credentials;
        let mut form = vec![
            ("client_id", c.client_id.clone()),
            ("client_secret", c.client_secret.expose_secret().to_string()),
        ];
        match refresh {
            Some(token) => {
                form.push(("grant_type", "refresh_token".into()));
                form.push(("refresh_token", token.expose_secret().to_string()));
            }
            None => {
                form.push(("grant_type", "password".into()));
                form.push(("username", c.username.clone()));
                form.push(("password", c.password.expose_secret().to_string()));
            }
        }
        let request = self
            .http
            .post(format!("{}/oauth_token.do", c.instance))
            .header("Accept", "application/json")
            .form(&form);
        let response = self.send(request).await?;
        let status = response.status();
        let headers = response.headers().clone();
        let text = self.read_body(response).await?;
        let json = token_answer(status, &headers, &text)?;
        let access = json
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                ServiceNowError::NotJson("the token answer has no access_token".into())
            })?;
        let lifetime = json
            .get("expires_in")
            .and_then(Value::as_u64)
            .map_or(Duration::from_secs(1799), Duration::from_secs)
            .min(MAX_TOKEN_LIFETIME);
        Ok(CachedToken {
            access: SecretString::from(access.to_string()),
            refresh: json
                .get("refresh_token")
                .and_then(Value::as_str)
                .map(|s| SecretString::from(s.to_string())),
            renew_at: Instant::now() + lifetime - REFRESH_MARGIN.min(lifetime / 2),
        })
    }
}

/// Sorts the token endpoint's answer: the JSON of a grant, or what went wrong. Only a
/// refusal of the request itself means the credentials are wrong; a busy, failing or
/// sleeping instance is reported as such, so nobody goes looking at a secret that is fine.
fn token_answer(
    status: StatusCode,
    headers: &HeaderMap,
    text: &str,
) -> Result<Value, ServiceNowError> {
    if status == StatusCode::TOO_MANY_REQUESTS {
        return Err(rate_limited(headers));
    }
    let json: Option<Value> = serde_json::from_str(text).ok();
    if status.is_server_error() {
        return Err(ServiceNowError::Server {
            status: status.as_u16(),
            message: format!(
                "the token request failed: {}",
                oauth_reason(json.as_ref(), text)
            ),
        });
    }
    let Some(json) = json.filter(Value::is_object) else {
        return Err(ServiceNowError::NotJson(snippet(text)));
    };
    if status.is_success() {
        return Ok(json);
    }
    // 400, 401 and 403 are how the endpoint refuses a client, a user or a grant. Any other
    // answer (a 404 or 405 from something that is not the OAuth endpoint) is reported the
    // same way, with its status, since it too stops every request until the settings change.
    let reason = oauth_reason(Some(&json), text);
    Err(ServiceNowError::BadCredentials(format!(
        "token request answered {status}: {reason}"
    )))
}

/// What a token endpoint's error answer says: OAuth's `error_description`, a ServiceNow
/// error's message, OAuth's `error`, or else the start of the body.
fn oauth_reason(json: Option<&Value>, text: &str) -> String {
    json.and_then(|j| {
        j.get("error_description")
            .or_else(|| j.get("error").and_then(|e| e.get("message")))
            .or_else(|| j.get("error"))
    })
    .and_then(Value::as_str)
    .map(str::to_string)
    .unwrap_or_else(|| snippet(text))
}

/// A 429: `Retry-After` in seconds, or a minute when it says nothing usable.
fn rate_limited(headers: &HeaderMap) -> ServiceNowError {
    let seconds = headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(60);
    ServiceNowError::RateLimited {
        retry_after: Duration::from_secs(seconds),
    }
}

/// Sorts a Table API answer: `result` on success, a typed error otherwise.
fn table_answer(
    status: StatusCode,
    headers: &HeaderMap,
    text: &str,
) -> Result<(Value, Option<u64>), ServiceNowError> {
    let total = headers
        .get("x-total-count")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let json: Option<Value> = serde_json::from_str(text).ok();
    let message = || {
        json.as_ref()
            .and_then(|j| j.get("error"))
            .map(|e| {
                let message = e.get("message").and_then(Value::as_str).unwrap_or("");
                let detail = e.get("detail").and_then(Value::as_str).unwrap_or("");
                format!("{message}: {detail}")
                    .trim_end_matches(": ")
                    .to_string()
            })
            .unwrap_or_else(|| snippet(text))
    };
    match status {
        s if s.is_success() => match json.and_then(|mut j| j.get_mut("result").map(Value::take)) {
            Some(result) => Ok((result, total)),
            None => Err(ServiceNowError::NotJson(snippet(text))),
        },
        StatusCode::UNAUTHORIZED => Err(ServiceNowError::BadCredentials(message())),
        StatusCode::NOT_FOUND => Err(ServiceNowError::NotFound(message())),
        StatusCode::TOO_MANY_REQUESTS => Err(rate_limited(headers)),
        s if s.is_server_error() => Err(ServiceNowError::Server {
            status: s.as_u16(),
            message: message(),
        }),
        s => Err(ServiceNowError::Refused {
            status: s.as_u16(),
            message: message(),
        }),
    }
}

fn record(value: Value) -> Result<Record, ServiceNowError> {
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(ServiceNowError::NotJson("`result` is not a record".into())),
    }
}

fn snippet(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    flat.chars().take(120).collect()
}

/// What a request's span names of its URL: the table of a Table API path, `oauth_token`
/// for the token endpoint, `other` for anything else; never a record's id or the query.
fn table_of(path: &str) -> &str {
    if let Some((_, rest)) = path.split_once("/api/now/table/") {
        rest.split('/').next().unwrap_or("other")
    } else if path.ends_with("/oauth_token.do") {
        "oauth_token"
    } else {
        "other"
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Why an attempt of a call failed, and whether its request reached the instance.
struct Failure {
    error: ServiceNowError,
    /// The request was sent (or may have been): a create or an update sent again could be
    /// made twice. The token request on the way does not count: nothing was written yet.
    sent: bool,
}

impl Failure {
    /// Whether another attempt may follow: a 429 whose wait is within `max_retry_after`
    /// (nothing was done), or a transient failure of a read or of a request never sent.
    /// Refused credentials stay refused: asking again would only add attempts towards the
    /// user's lock-out.
    fn may_be_retried(&self, is_read: bool, max_retry_after: Duration) -> bool {
        match self.error {
            ServiceNowError::RateLimited { retry_after } => retry_after <= max_retry_after,
            ref error => error.is_transient() && (is_read || !self.sent),
        }
    }
}

/// A record id goes into a request's path only when it is a sys_id: 32 hexadecimal
/// characters, nothing that could change the path or add a query.
fn check_sys_id(sys_id: &str) -> Result<(), ServiceNowError> {
    if is_sys_id(sys_id) {
        Ok(())
    } else {
        Err(ServiceNowError::BadSysId(sys_id.to_string()))
    }
}

/// Whether `value` is exactly a sys_id as ServiceNow writes it: 32 hexadecimal characters.
pub fn is_sys_id(value: &str) -> bool {
    value.len() == 32 && value.bytes().all(|b| b.is_ascii_hexdigit())
}
