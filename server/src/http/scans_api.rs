//! `POST /api/v1/scans`: the scanner API. Authenticated by an API token
//! (`Authorization: Bearer …`); the body is streamed into the ingestion path.

use crate::ingest::{self, Format, IngestError, IngestRequest, tokens};
use axum::Json;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::TryStreamExt;
use serde::Deserialize;
use serde_json::json;
use sqlx::SqlitePool;
use std::sync::Arc;
use tokio_util::io::{StreamReader, SyncIoBridge};

#[derive(Clone)]
pub struct ScansApi {
    pub pool: SqlitePool,
    pub max_bytes: u64,
    pub keep_per_source: u32,
}

#[derive(Debug, Deserialize)]
pub struct ScanQuery {
    format: Option<String>,
    source: Option<String>,
}

pub async fn post_scan(
    State(api): State<Arc<ScansApi>>,
    Query(query): Query<ScanQuery>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let now = crate::timestamps::now_unix();
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
    match tokens::verify(&api.pool, token, now).await {
        Ok(Some(_)) => {}
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
    }
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
    let stream = body.into_data_stream().map_err(std::io::Error::other);
    let reader = SyncIoBridge::new(StreamReader::new(stream));
    let request = IngestRequest {
        format,
        source: query.source,
        max_bytes: api.max_bytes,
        now,
        keep_per_source: api.keep_per_source,
    };
    match ingest::ingest(&api.pool, reader, request).await {
        Ok(summary) => (StatusCode::CREATED, Json(summary)).into_response(),
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
        Err(IngestError::Internal(e)) => {
            tracing::error!(error = format!("{e:#}"), "could not store a scan");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The scan could not be stored; the server log has the details.",
            )
        }
    }
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
