//! A request body that stops coming is cut off: every request's body is read with an idle
//! timeout (the longest wait for its next bytes), so a stalled client cannot keep a request,
//! and what it holds, for ever. The time only runs while the server is waiting for bytes: a
//! scan waiting its turn for the writer is not cut off. Headers have their own timeout, in
//! the serve loop.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use futures_util::Stream;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::Sleep;

/// Set (as a request extension) once the request's body was cut off for stalling, so a
/// handler can say why its read failed.
#[derive(Clone, Debug, Default)]
pub struct BodyStalled(Arc<AtomicBool>);

impl BodyStalled {
    pub fn get(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// The middleware: wraps the body of every request in an [`IdleTimeout`] of `timeout`.
pub async fn limit_idle_body(
    State(timeout): State<Duration>,
    mut request: Request,
    next: Next,
) -> Response {
    let stalled = BodyStalled::default();
    request.extensions_mut().insert(stalled.clone());
    let request = request.map(|body| {
        Body::from_stream(IdleTimeout {
            inner: body.into_data_stream(),
            timeout,
            sleep: None,
            stalled,
            done: false,
        })
    });
    next.run(request).await
}

/// A stream of body bytes that fails with `TimedOut` when the next bytes do not come
/// within `timeout` of being asked for.
struct IdleTimeout<S> {
    inner: S,
    timeout: Duration,
    /// Armed while the reader waits; disarmed by each piece that arrives.
    sleep: Option<Pin<Box<Sleep>>>,
    stalled: BodyStalled,
    done: bool,
}

impl<S> Stream for IdleTimeout<S>
where
    S: Stream<Item = Result<Bytes, axum::Error>> + Unpin,
{
    type Item = Result<Bytes, io::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        if let Poll::Ready(item) = Pin::new(&mut this.inner).poll_next(cx) {
            this.sleep = None;
            return Poll::Ready(item.map(|piece| piece.map_err(io::Error::other)));
        }
        let timeout = this.timeout;
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => {
                this.done = true;
                this.stalled.0.store(true, Ordering::Relaxed);
                Poll::Ready(Some(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("no body bytes came for {} s", timeout.as_secs()),
                ))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}
