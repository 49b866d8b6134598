//! A request body that stops coming is cut off: every request's body is read with an idle
//! timeout (the longest wait for its next bytes), so a stalled client cannot keep a request,
//! and what it holds, for ever. The time only runs while the server is waiting for bytes: a
//! scan waiting its turn for the writer is not cut off. Headers have their own timeout, in
//! the serve loop.
//!
//! A body that trickles (a byte every 50 s, say) never stalls, yet holds its queue place as
//! long as it likes; so once the server has waited longer than the idle timeout in all, the
//! body must also have come at an average of at least `--min-body-bytes-per-second` over that
//! waiting time, or it is cut off the same way.
//!
//! Not tower-http's `TimeoutBody`: it cuts a body that stalls, but has no floor on the
//! average rate, so a trickle would pass.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use futures_util::Stream;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

/// Set (as a request extension) once the request's body was cut off, so a handler can say
/// why its read failed.
#[derive(Clone, Debug, Default)]
pub struct BodyStalled(Arc<AtomicU8>);

/// Why a body was cut off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CutOff {
    /// No bytes came for the idle timeout.
    Stalled,
    /// Bytes came, but slower on average than the minimum rate.
    TooSlow,
}

impl BodyStalled {
    /// Whether, and why, the body was cut off.
    pub fn get(&self) -> Option<CutOff> {
        match self.0.load(Ordering::Relaxed) {
            1 => Some(CutOff::Stalled),
            2 => Some(CutOff::TooSlow),
            _ => None,
        }
    }

    fn set(&self, why: CutOff) {
        let code = match why {
            CutOff::Stalled => 1,
            CutOff::TooSlow => 2,
        };
        self.0.store(code, Ordering::Relaxed);
    }
}

/// How request bodies are limited in time.
#[derive(Clone, Copy, Debug)]
pub struct BodyLimits {
    /// The longest wait for a body's next bytes; also the waiting time after which the
    /// minimum rate applies.
    pub idle_timeout: Duration,
    /// The least average rate, in bytes per second of waiting; 0 turns it off.
    pub min_bytes_per_second: u64,
}

/// The middleware: wraps the body of every request in an [`IdleTimeout`].
pub async fn limit_idle_body(
    State(limits): State<BodyLimits>,
    mut request: Request,
    next: Next,
) -> Response {
    let stalled = BodyStalled::default();
    request.extensions_mut().insert(stalled.clone());
    let request = request.map(|body| {
        Body::from_stream(IdleTimeout {
            inner: body.into_data_stream(),
            timeout: limits.idle_timeout,
            min_bytes_per_second: limits.min_bytes_per_second,
            sleep: None,
            waiting_since: None,
            waited: Duration::ZERO,
            received: 0,
            stalled,
            done: false,
        })
    });
    next.run(request).await
}

/// A stream of body bytes that fails with `TimedOut` when the next bytes do not come
/// within `timeout` of being asked for, or come too slowly on average.
struct IdleTimeout<S> {
    inner: S,
    timeout: Duration,
    min_bytes_per_second: u64,
    /// Armed while the reader waits; disarmed by each piece that arrives.
    sleep: Option<Pin<Box<Sleep>>>,
    /// When the current wait began.
    waiting_since: Option<Instant>,
    /// The time spent waiting for bytes so far (not the time the reader was busy).
    waited: Duration,
    /// Body bytes received so far.
    received: u64,
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
            if let Some(since) = this.waiting_since.take() {
                this.waited += since.elapsed();
            }
            if let Some(Ok(piece)) = &item {
                this.received += piece.len() as u64;
            }
            return Poll::Ready(item.map(|piece| piece.map_err(io::Error::other)));
        }
        if this.sleep.is_none() {
            let now = Instant::now();
            this.waiting_since = Some(now);
            let (wait, _) = this.longest_wait();
            this.sleep = Some(Box::pin(tokio::time::sleep_until(now + wait)));
        }
        let sleep = this.sleep.as_mut().expect("armed above");
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => {
                this.done = true;
                let (_, why) = this.longest_wait();
                this.stalled.set(why);
                let message = match why {
                    CutOff::Stalled => {
                        format!("no body bytes came for {} s", this.timeout.as_secs())
                    }
                    CutOff::TooSlow => format!(
                        "the body came slower than {} bytes/s",
                        this.min_bytes_per_second
                    ),
                };
                Poll::Ready(Some(Err(io::Error::new(io::ErrorKind::TimedOut, message))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S> IdleTimeout<S> {
    /// How long the current wait may last from its start, and why it ends if it does: the
    /// idle timeout, or sooner, the moment the total waiting time passes both the idle
    /// timeout (the grace period) and the time the bytes received so far allow at the
    /// minimum rate.
    fn longest_wait(&self) -> (Duration, CutOff) {
        if self.min_bytes_per_second == 0 {
            return (self.timeout, CutOff::Stalled);
        }
        let allowed =
            Duration::from_secs_f64(self.received as f64 / self.min_bytes_per_second as f64)
                .max(self.timeout);
        let left = allowed.saturating_sub(self.waited);
        if left < self.timeout {
            (left, CutOff::TooSlow)
        } else {
            (self.timeout, CutOff::Stalled)
        }
    }
}
