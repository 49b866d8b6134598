//! `POST /api/v1/scans`: the scanner API. Authenticated by an API token
//! (`Authorization: Bearer …`), which may be limited to one source; the body is streamed
//! into the ingestion path. Uploads are received at once up to a bound, their chunks
//! queued for the one writer; past the bound the answer is 503 with `Retry-After`.
//!
//! Every refusal is logged (`scan refused`) with the client's address, the token's prefix
//! (never more of it), its name once known, `?source=` when given, the status and why; an
//! unknown or revoked token is audited too, once per address and window. The lines an
//! upload writes while it is ingested (`scan stored`) carry the same in their
//! `scan_upload` span.

use crate::audit::RefusalAudit;
use crate::http::body_timeout::{BodyStalled, CutOff};
use crate::http::client_address::client_address;
use crate::http::upload_shares::UploadShares;
use crate::ingest::{self, Format, IngestError, IngestRequest, ScanSummary, ScanWriter, tokens};
use axum::Json;
use axum::body::Body;
use axum::extract::connect_info::ConnectInfo;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Extension, Query, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio_util::io::{StreamReader, SyncIoBridge};
use tracing::Instrument;

/// What a client past the queue's bound is told to wait before trying again.
const RETRY_AFTER_SECONDS: u64 = 30;

/// The challenge of a 401 (RFC 6750): which scheme and realm the API wants.
const CHALLENGE: &str = r#"Bearer realm="itsm-bridge""#;

/// The challenge of a 401 for a token that was sent but is not a live one.
const CHALLENGE_INVALID: &str = r#"Bearer realm="itsm-bridge", error="invalid_token""#;

/// How this server's tokens begin (`itsmb_`), and how much of one the log and the API
/// tokens page show: the prefix and 6 characters, 36 of its 256 random bits.
const TOKEN_START: &str = "itsmb_";
const SHOWN_CHARACTERS: usize = 12;

/// The longest `?source=` or reason written to the log, in characters.
const LOGGED_SOURCE: usize = 200;
const LOGGED_REASON: usize = 1000;

pub struct ScansApi {
    pub writer: Arc<ScanWriter>,
    pub max_bytes: u64,
    pub keep_per_source: u32,
    /// Where an upload sets findings aside on disk: the database's folder.
    pub spill_folder: std::path::PathBuf,
    /// One permit per upload received at once (`--max-queued-scans`).
    pub uploads: Arc<Semaphore>,
    /// Each token's share of those permits, taken first.
    pub shares: UploadShares,
    /// The body read timeout, to say it in a 408.
    pub body_timeout: Duration,
    /// The least average body rate (`--min-body-bytes-per-second`), to say it in a 408.
    pub min_body_bytes_per_second: u64,
    /// The header a trusted reverse proxy sets with the client's address
    /// (`--trusted-proxy-header`): the address the logs and the audit log name.
    pub trusted_proxy_header: Option<HeaderName>,
    /// Unknown or revoked tokens, audited once per address and window.
    pub refused_tokens: RefusalAudit,
    /// Where scans and findings stored and refused are counted.
    pub metrics: crate::metrics::Metrics,
}

#[derive(Debug, Deserialize)]
pub struct ScanQuery {
    format: Option<String>,
    source: Option<String>,
}

/// Who sent an upload, as the log names them.
#[derive(Default)]
struct Sender {
    address: Option<IpAddr>,
    /// What the log may show of the token sent ([`shown_prefix`]); `None` when none was sent.
    token_prefix: Option<String>,
    /// The token's name, once it is known to be live.
    token_name: Option<String>,
    /// `?source=`, when given.
    source: Option<String>,
}

impl Sender {
    fn address(&self) -> String {
        self.address
            .map_or_else(|| "-".to_string(), |a| a.to_string())
    }

    fn token_prefix(&self) -> &str {
        self.token_prefix.as_deref().unwrap_or("none sent")
    }
}

pub async fn post_scan(
    State(api): State<Arc<ScansApi>>,
    query: Result<Query<ScanQuery>, QueryRejection>,
    stalled: Option<Extension<BodyStalled>>,
    connection: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let now = api.writer.now();
    let socket = connection.map(|Extension(ConnectInfo(socket))| socket);
    let mut sender = Sender {
        address: client_address(&headers, socket, api.trusted_proxy_header.as_ref()),
        ..Sender::default()
    };
    let cut_off = stalled.map(|Extension(s)| s);
    match receive(&api, query, cut_off, &headers, body, now, &mut sender).await {
        Ok(summary) => {
            api.metrics.scan_ingested(summary.findings.max(0) as u64);
            (StatusCode::CREATED, Json(summary)).into_response()
        }
        Err(refusal) => {
            let problems = refusal.body["total_problems"].as_u64().unwrap_or(0);
            api.metrics.scan_refused(refusal.status, problems);
            refusal.logged(&sender)
        }
    }
}

/// Checks the token and the request, then ingests the body; a refusal says why.
async fn receive(
    api: &ScansApi,
    query: Result<Query<ScanQuery>, QueryRejection>,
    stalled: Option<BodyStalled>,
    headers: &HeaderMap,
    body: Body,
    now: i64,
    sender: &mut Sender,
) -> Result<ScanSummary, Refusal> {
    let query = query.map(|Query(query)| query);
    if let Ok(ScanQuery {
        source: Some(source),
        ..
    }) = &query
    {
        sender.source = Some(clip(source, LOGGED_SOURCE));
    }
    let Some(token) = bearer_token(headers) else {
        return Err(Refusal::new(
            StatusCode::UNAUTHORIZED,
            "Send an API token: Authorization: Bearer <token>.",
        )
        .with_header(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(CHALLENGE),
        ));
    };
    sender.token_prefix = Some(shown_prefix(token));
    let pool = api.writer.pool();
    let (token_id, allowed_source) = match tokens::verify(pool, token, now).await {
        Ok(Some(live)) => {
            sender.token_name = Some(live.name);
            (live.id, live.source)
        }
        Ok(None) => {
            let detail = format!(
                "scanner API: an unknown or revoked API token ({})",
                sender.token_prefix()
            );
            let audited = api
                .refused_tokens
                .record(
                    now,
                    "token.refused",
                    &detail,
                    sender.address.map(|a| a.to_string()),
                )
                .await
                .unwrap_or_else(|e| {
                    tracing::error!(error = format!("{e:#}"), "could not audit a refused token");
                    false
                });
            return Err(Refusal::new(
                StatusCode::UNAUTHORIZED,
                "This API token is unknown or revoked.",
            )
            .with_header(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(CHALLENGE_INVALID),
            )
            .audited(audited));
        }
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "could not check an API token");
            return Err(Refusal::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "The database does not answer.",
            ));
        }
    };
    let query = query.map_err(|rejection| {
        Refusal::new(
            StatusCode::BAD_REQUEST,
            format!(
                "The query string cannot be read: {}.",
                rejection.body_text()
            ),
        )
    })?;
    let format = query
        .format
        .as_deref()
        .map(str::parse::<Format>)
        .transpose()
        .map_err(|message| Refusal::new(StatusCode::BAD_REQUEST, message))?;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > api.max_bytes) {
        return Err(too_large(api.max_bytes));
    }
    let Some(share) = api.shares.take(token_id) else {
        return Err(try_again_later(&format!(
            "As many scans as this API token may send at once ({}, its share of the queue) \
             are being received; nothing was stored.",
            api.shares.per_token()
        )));
    };
    let Ok(permit) = api.uploads.clone().try_acquire_owned() else {
        return Err(try_again_later(
            "As many scans as this server queues are being received; nothing was stored.",
        ));
    };
    let stream =
        futures_util::TryStreamExt::map_err(body.into_data_stream(), std::io::Error::other);
    let reader = SyncIoBridge::new(StreamReader::new(stream));
    let request = IngestRequest {
        format,
        source: query.source,
        max_bytes: api.max_bytes,
        now,
        keep_per_source: api.keep_per_source,
        spill_folder: api.spill_folder.clone(),
    };
    // What the ingestion logs (`scan stored`) names who sent it.
    let span = tracing::info_span!(
        "scan_upload",
        address = %sender.address(),
        token = sender.token_name.as_deref(),
        token_prefix = sender.token_prefix(),
    );
    // On its own task: a client that hangs up does not cut the ingestion short, which then
    // fails reading and deletes what it wrote.
    let writer = api.writer.clone();
    let ingestion = tokio::spawn(
        async move {
            let _places = (share, permit);
            ingest::ingest_with(&writer, allowed_source.as_deref(), reader, request).await
        }
        .instrument(span),
    );
    let outcome = match ingestion.await {
        Ok(outcome) => outcome,
        Err(e) => Err(IngestError::Internal(anyhow::anyhow!(
            "the ingestion stopped: {e}"
        ))),
    };
    let cut_off = stalled.and_then(|s| s.get());
    outcome.map_err(|error| refusal_of(error, cut_off, api))
}

/// The answer to an ingestion that failed.
fn refusal_of(error: IngestError, cut_off: Option<CutOff>, api: &ScansApi) -> Refusal {
    match error {
        _ if cut_off == Some(CutOff::Stalled) => Refusal::new(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "The body stalled: nothing came for {} s, so the upload was cut off; nothing was stored.",
                api.body_timeout.as_secs()
            ),
        ),
        _ if cut_off == Some(CutOff::TooSlow) => Refusal::new(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "The body came too slowly: less than {} bytes/s on average, so the upload was cut off; nothing was stored.",
                api.min_body_bytes_per_second
            ),
        ),
        IngestError::Invalid { problems, total } => {
            let message = format!("The scan was refused: {total} problem(s); nothing was stored.");
            let reason = IngestError::Invalid {
                problems: problems.clone(),
                total,
            }
            .to_string();
            Refusal {
                body: json!({
                    "error": message,
                    "problems": problems,
                    "total_problems": total,
                }),
                ..Refusal::new(StatusCode::BAD_REQUEST, reason)
            }
        }
        IngestError::TooLarge { limit } => too_large(limit),
        e @ IngestError::UnsupportedFormat(_) => {
            Refusal::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, format!("{e}."))
        }
        e @ IngestError::WrongSource { .. } => refused(StatusCode::FORBIDDEN, &e),
        e @ IngestError::InTheFuture { .. } => refused(StatusCode::BAD_REQUEST, &e),
        e @ IngestError::Older { .. } => refused(StatusCode::CONFLICT, &e),
        IngestError::Internal(e) => Refusal {
            reason: format!("could not store a scan: {e:#}"),
            ..Refusal::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The scan could not be stored; the server log has the details.",
            )
        },
    }
}

/// A refused upload: its answer, and what the log says of it.
struct Refusal {
    status: StatusCode,
    /// The answer's JSON body.
    body: serde_json::Value,
    /// Why, in words, for the log (the answer's message, or more).
    reason: String,
    /// `WWW-Authenticate` of a 401, `Retry-After` of a 503.
    header: Option<(HeaderName, HeaderValue)>,
    /// Whether it was written to the audit log too.
    audited: bool,
}

impl Refusal {
    /// A refusal whose answer is `{"error": message}`.
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            status,
            body: json!({ "error": message }),
            reason: message,
            header: None,
            audited: false,
        }
    }

    fn with_header(mut self, name: HeaderName, value: impl Into<HeaderValue>) -> Self {
        self.header = Some((name, value.into()));
        self
    }

    fn audited(mut self, audited: bool) -> Self {
        self.audited = audited;
        self
    }

    /// Logs the refusal with who sent it, and answers it: a refused token or source is a
    /// warning, a failure of this server an error, any other refusal (a scanner sending
    /// something wrong) information.
    fn logged(self, sender: &Sender) -> Response {
        let reason = clip(&self.reason, LOGGED_REASON);
        macro_rules! refusal_event {
            ($level:expr) => {
                tracing::event!(
                    $level,
                    address = %sender.address(),
                    token = sender.token_name.as_deref(),
                    token_prefix = sender.token_prefix(),
                    source = sender.source.as_deref(),
                    status = self.status.as_u16(),
                    reason = reason.as_str(),
                    audited = self.audited,
                    "scan refused"
                )
            };
        }
        match self.status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                refusal_event!(tracing::Level::WARN)
            }
            StatusCode::INTERNAL_SERVER_ERROR => refusal_event!(tracing::Level::ERROR),
            _ => refusal_event!(tracing::Level::INFO),
        }
        let mut response = (self.status, Json(self.body)).into_response();
        if let Some((name, value)) = self.header {
            response.headers_mut().insert(name, value);
        }
        response
    }
}

/// The token of `Authorization: Bearer <token>` (the scheme in any case, RFC 7235).
pub(crate) fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// What the log may say of a token that was sent: its first characters, as the API tokens
/// page shows them, never the rest; nothing of something that is not shaped like this
/// server's tokens (it may be another system's secret sent here by mistake).
fn shown_prefix(token: &str) -> String {
    if token.starts_with(TOKEN_START) && token.is_ascii() && token.len() > SHOWN_CHARACTERS {
        token[..SHOWN_CHARACTERS].to_string()
    } else {
        "not an itsm-bridge token".to_string()
    }
}

/// The first `most` characters of `text`, marked when cut.
fn clip(text: &str, most: usize) -> String {
    match text.char_indices().nth(most) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// A refusal that says why, and that nothing was stored.
fn refused(status: StatusCode, why: &IngestError) -> Refusal {
    let why = why.to_string();
    let mut chars = why.chars();
    let message: String = chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    Refusal::new(status, format!("{message}. Nothing was stored."))
}

/// A 503 for an upload past its share or the queue's bound: why, and when to try again.
fn try_again_later(why: &str) -> Refusal {
    Refusal::new(
        StatusCode::SERVICE_UNAVAILABLE,
        format!("{why} Try again in {RETRY_AFTER_SECONDS} s."),
    )
    .with_header(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS))
}

fn too_large(limit: u64) -> Refusal {
    Refusal::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("The body is larger than the limit of {limit} bytes; nothing was stored."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn authorization(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, value.parse().unwrap());
        headers
    }

    #[test]
    fn the_bearer_scheme_is_read_in_any_case() {
        assert_eq!(bearer_token(&authorization("Bearer abc")), Some("abc"));
        assert_eq!(bearer_token(&authorization("bearer abc ")), Some("abc"));
        assert_eq!(bearer_token(&authorization("Basic abc")), None);
        assert_eq!(bearer_token(&authorization("Bearer ")), None);
        assert_eq!(bearer_token(&HeaderMap::new()), None);
    }

    #[test]
    fn the_log_shows_a_token_prefix_never_the_rest() {
        let token = "itsmb_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcd";
        assert_eq!(shown_prefix(token), "itsmb_AbCdEf");
        assert_eq!(shown_prefix("itsmb_AbCdEf"), "not an itsm-bridge token");
        assert_eq!(
            shown_prefix("ghp_someoneElsesSecret1234567890"),
            "not an itsm-bridge token"
        );
    }

    #[test]
    fn long_values_are_clipped_for_the_log() {
        assert_eq!(clip("abc", 3), "abc");
        assert_eq!(clip("abcd", 3), "abc…");
        assert_eq!(clip("ééé", 2), "éé…");
    }
}
