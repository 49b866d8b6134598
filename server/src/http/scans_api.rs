//! `POST /api/v1/scans`: the scanner API. Authenticated by an API token
//! (`Authorization: Bearer …`), which may be limited to one source; the body is streamed
//! into the ingestion path. Uploads are received at once up to a bound, their chunks
//! queued for the one writer; past the bound the answer is 503 with `Retry-After`.

use crate::http::body_timeout::{BodyStalled, CutOff};
use crate::http::upload_shares::UploadShares;
use crate::ingest::{self, Format, IngestError, IngestRequest, ScanWriter, tokens};
use axum::Json;
use axum::body::Body;
use axum::extract::{Extension, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio_util::io::{StreamReader, SyncIoBridge};

/// What a client past the queue's bound is told to wait before trying again.
const RETRY_AFTER_SECONDS: u64 = 30;

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
}

#[derive(Debug, Deserialize)]
pub struct ScanQuery {
    format: Option<String>,
    source: Option<String>,
}

pub async fn post_scan(
    State(api): State<Arc<ScansApi>>,
    Query(query): Query<ScanQuery>,
    stalled: Option<Extension<BodyStalled>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let now = api.writer.now();
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let Some(token) = token else {
        return error(
            StatusCode::UNAUTHORIZED,
            "Send an API token: Authorization: Bearer <token>.",
        );
    };
    let (token_id, allowed_source) = match tokens::verify(api.writer.pool(), token, now).await {
        Ok(Some(token)) => (token.id, token.source),
        Ok(None) => {
            return error(
                StatusCode::UNAUTHORIZED,
                "This API token is unknown or revoked.",
            );
        }
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "could not check an API token");
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                "The database does not answer.",
            );
        }
    };
    let format = match query
        .format
        .as_deref()
        .map(str::parse::<Format>)
        .transpose()
    {
        Ok(format) => format,
        Err(message) => return error(StatusCode::BAD_REQUEST, &message),
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > api.max_bytes) {
        return too_large(api.max_bytes);
    }
    let Some(share) = api.shares.take(token_id) else {
        return try_again_later(&format!(
            "As many scans as this API token may send at once ({}, its share of the queue) \
             are being received; nothing was stored.",
            api.shares.per_token()
        ));
    };
    let Ok(permit) = api.uploads.clone().try_acquire_owned() else {
        return try_again_later(
            "As many scans as this server queues are being received; nothing was stored.",
        );
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
    // On its own task: a client that hangs up does not cut the ingestion short, which then
    // fails reading and deletes what it wrote.
    let writer = api.writer.clone();
    let ingestion = tokio::spawn(async move {
        let _permit = (share, permit);
        ingest::ingest_with(&writer, allowed_source.as_deref(), reader, request).await
    });
    let outcome = match ingestion.await {
        Ok(outcome) => outcome,
        Err(e) => Err(IngestError::Internal(anyhow::anyhow!(
            "the ingestion stopped: {e}"
        ))),
    };
    let cut_off = stalled.and_then(|Extension(s)| s.get());
    match outcome {
        Ok(summary) => (StatusCode::CREATED, Json(summary)).into_response(),
        Err(_) if cut_off == Some(CutOff::Stalled) => error(
            StatusCode::REQUEST_TIMEOUT,
            &format!(
                "The body stalled: nothing came for {} s, so the upload was cut off; nothing was stored.",
                api.body_timeout.as_secs()
            ),
        ),
        Err(_) if cut_off == Some(CutOff::TooSlow) => error(
            StatusCode::REQUEST_TIMEOUT,
            &format!(
                "The body came too slowly: less than {} bytes/s on average, so the upload was cut off; nothing was stored.",
                api.min_body_bytes_per_second
            ),
        ),
        Err(IngestError::Invalid { problems, total }) => (
            StatusCode::BAD_REQUEST,
            Json(json!({
                "error": format!("The scan was refused: {total} problem(s); nothing was stored."),
                "problems": problems,
                "total_problems": total,
            })),
        )
            .into_response(),
        Err(IngestError::TooLarge { limit }) => too_large(limit),
        Err(e @ IngestError::UnsupportedFormat(_)) => {
            error(StatusCode::UNSUPPORTED_MEDIA_TYPE, &format!("{e}."))
        }
        Err(e @ IngestError::WrongSource { .. }) => refused(StatusCode::FORBIDDEN, &e),
        Err(e @ IngestError::InTheFuture { .. }) => refused(StatusCode::BAD_REQUEST, &e),
        Err(e @ IngestError::Older { .. }) => refused(StatusCode::CONFLICT, &e),
        Err(IngestError::Internal(e)) => {
            tracing::error!(error = format!("{e:#}"), "could not store a scan");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The scan could not be stored; the server log has the details.",
            )
        }
    }
}

/// A refusal that says why, and that nothing was stored.
fn refused(status: StatusCode, why: &IngestError) -> Response {
    let why = why.to_string();
    let mut chars = why.chars();
    let message: String = chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    error(status, &format!("{message}. Nothing was stored."))
}

/// A 503 for an upload past its share or the queue's bound: why, and when to try again.
fn try_again_later(why: &str) -> Response {
    let mut response = error(
        StatusCode::SERVICE_UNAVAILABLE,
        &format!("{why} Try again in {RETRY_AFTER_SECONDS} s."),
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
    response
}

fn too_large(limit: u64) -> Response {
    error(
        StatusCode::PAYLOAD_TOO_LARGE,
        &format!("The body is larger than the limit of {limit} bytes; nothing was stored."),
    )
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}
