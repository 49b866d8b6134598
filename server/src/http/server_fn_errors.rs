//! Server functions whose request cannot be read are refused as such. The server_fn crate
//! answers every error with 500 and the error's text: for fields it cannot decode (a
//! garbled form, `id=abc` for a number) that is the decoder's message, and for a body over
//! axum's size limit (2 MiB) "length limit exceeded". Neither is an internal error, and
//! neither text is for the client. This middleware turns them into 400 ("The request's
//! fields could not be read.") and 413, and 408 for a body that stalled; the log keeps the
//! cause. Errors of the functions themselves keep the status and message they set.

use crate::http::body_timeout::BodyStalled;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

/// The header server_fn puts on its error answers (`server_fn::error::SERVER_FN_ERROR_HEADER`).
const SERVER_FN_ERROR_HEADER: &str = "serverfnerror";

/// The most of an error answer read to tell what it is; server_fn's are short.
const LONGEST_ERROR: usize = 64 * 1024;

/// The middleware.
pub async fn refuse_unreadable_requests(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let stalled = request.extensions().get::<BodyStalled>().cloned();
    let response = next.run(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key(SERVER_FN_ERROR_HEADER)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(text) = axum::body::to_bytes(body, LONGEST_ERROR).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let (status, message) = match String::from_utf8_lossy(&text).split_once('|') {
        Some(("Args" | "MissingArg" | "Deserialization", cause)) => {
            let refusal = if stalled.and_then(|s| s.get()).is_some() {
                (
                    StatusCode::REQUEST_TIMEOUT,
                    "The request's body stopped coming; nothing was done.",
                )
            } else if cause.contains("length limit exceeded") {
                (
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "The request is too large (at most 2 MiB is read); nothing was done.",
                )
            } else {
                (
                    StatusCode::BAD_REQUEST,
                    "The request's fields could not be read.",
                )
            };
            tracing::warn!(
                path,
                cause,
                status = refusal.0.as_u16(),
                "a server function's request was refused"
            );
            refusal
        }
        _ => return Response::from_parts(parts, Body::from(text)),
    };
    parts.status = status;
    parts.headers.remove(header::CONTENT_LENGTH);
    // In server_fn's error encoding, so that a page's script shows the message as it is.
    Response::from_parts(parts, Body::from(format!("ServerError|{message}")))
}
