//! An answer given before its request's body was read (a refusal: 401, 413, 503…) says
//! `Connection: close`: the connection cannot carry another request after a body left
//! half-sent, and the client learns it from the answer rather than from a closed socket.
//! What the client still sends is then read and dropped while the connection closes
//! ([`super::connection_io`]), so that it reads the answer instead of a connection reset.

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use futures_util::Stream;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

/// The middleware.
pub async fn close_after_unread_body(request: Request, next: Next) -> Response {
    let read_to_end = Arc::new(AtomicBool::new(false));
    let request = request.map(|body| {
        if body.is_end_stream() {
            read_to_end.store(true, Ordering::Relaxed);
            body
        } else {
            Body::from_stream(ToTheEnd {
                inner: body.into_data_stream(),
                read_to_end: read_to_end.clone(),
            })
        }
    });
    let mut response = next.run(request).await;
    if !read_to_end.load(Ordering::Relaxed) {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// A body stream that notes when it has been read to its end.
struct ToTheEnd<S> {
    inner: S,
    read_to_end: Arc<AtomicBool>,
}

impl<S> Stream for ToTheEnd<S>
where
    S: Stream<Item = Result<Bytes, axum::Error>> + Unpin,
{
    type Item = Result<Bytes, axum::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let next = Pin::new(&mut this.inner).poll_next(cx);
        if let Poll::Ready(None) = next {
            this.read_to_end.store(true, Ordering::Relaxed);
        }
        next
    }
}
