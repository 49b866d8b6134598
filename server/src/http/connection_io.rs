//! The socket of one connection, as the serve loop hands it to hyper, with two things hyper
//! does not do by itself:
//!
//! - **A write timeout.** hyper waits for ever for a client to take the answer; a client
//!   that asks for the 3 MB WebAssembly and never reads would hold its socket (and the open
//!   file) until shutdown, and a few hundred such clients would exhaust the process's file
//!   descriptors. Here a write that makes no progress for the timeout fails with
//!   `TimedOut`, and hyper ends the connection. (A TCP socket's flush and shutdown never
//!   wait for the client.)
//! - **A lingering close.** When hyper closes a connection whose request body it did not
//!   read (a refusal answered before the body: 401, 413, 503…), closing a socket with
//!   unread bytes makes the kernel send a reset, and a client still sending its body sees
//!   ECONNRESET instead of the answer. So at shutdown the write side is closed first (the
//!   client gets the whole answer and its end), then what the client still sends is read and
//!   thrown away until it closes its side or sends nothing for [`LINGER`], for
//!   [`LINGER_AT_MOST`] in all. (A fixed 2 s was too short for a 32 MiB body on a busy
//!   2-core machine.) The connection keeps its place among the connection limits meanwhile.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// How long a closing connection waits for more of what the client still sends.
pub const LINGER: Duration = Duration::from_secs(2);

/// How long a closing connection reads (and drops) what the client still sends, in all.
pub const LINGER_AT_MOST: Duration = Duration::from_secs(30);

/// How many reads one poll of a lingering close makes before it lets other tasks run.
const READS_PER_POLL: usize = 16;

pub struct ConnectionIo<T> {
    inner: T,
    write_timeout: Duration,
    /// Armed while a write waits for the client; disarmed by any progress.
    write_stall: Option<Pin<Box<Sleep>>>,
    /// Armed once the write side is shut: the end of the lingering close, moved on by what
    /// the client sends, up to `linger_until`.
    linger: Option<Pin<Box<Sleep>>>,
    linger_until: Option<Instant>,
}

impl<T> ConnectionIo<T> {
    pub fn new(inner: T, write_timeout: Duration) -> Self {
        Self {
            inner,
            write_timeout,
            write_stall: None,
            linger: None,
            linger_until: None,
        }
    }
}

impl<T: AsyncWrite + Unpin> ConnectionIo<T> {
    /// Runs a write; while it cannot progress, the stall timer runs.
    fn timed<R>(
        &mut self,
        cx: &mut Context<'_>,
        operation: impl FnOnce(Pin<&mut T>, &mut Context<'_>) -> Poll<io::Result<R>>,
    ) -> Poll<io::Result<R>> {
        match operation(Pin::new(&mut self.inner), cx) {
            Poll::Ready(result) => {
                self.write_stall = None;
                Poll::Ready(result)
            }
            Poll::Pending => {
                let timeout = self.write_timeout;
                let stall = self
                    .write_stall
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                match stall.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!(
                            "the client took nothing of the answer for {} s",
                            timeout.as_secs()
                        ),
                    ))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ConnectionIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncWrite for ConnectionIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut()
            .timed(cx, |inner, cx| inner.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut()
            .timed(cx, |inner, cx| inner.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.linger.is_none() {
            std::task::ready!(Pin::new(&mut this.inner).poll_shutdown(cx))?;
            this.linger = Some(Box::pin(tokio::time::sleep(LINGER)));
            this.linger_until = Some(Instant::now() + LINGER_AT_MOST);
        }
        let mut scratch = [0u8; 8192];
        for _ in 0..READS_PER_POLL {
            let mut buf = ReadBuf::new(&mut scratch);
            match Pin::new(&mut this.inner).poll_read(cx, &mut buf) {
                // The client closed its side (or the connection failed): nothing to wait for.
                Poll::Ready(Ok(())) if buf.filled().is_empty() => return Poll::Ready(Ok(())),
                Poll::Ready(Err(_)) => return Poll::Ready(Ok(())),
                Poll::Ready(Ok(())) => {
                    let more_time = Instant::now() + LINGER;
                    let until = this.linger_until.map_or(more_time, |u| u.min(more_time));
                    if let Some(linger) = this.linger.as_mut() {
                        linger.as_mut().reset(until);
                    }
                }
                Poll::Pending => {
                    let linger = this.linger.as_mut().expect("armed above");
                    return linger.as_mut().poll(cx).map(Ok);
                }
            }
        }
        // A client sending fast: let other tasks run, then read on.
        cx.waker().wake_by_ref();
        let linger = this.linger.as_mut().expect("armed above");
        linger.as_mut().poll(cx).map(Ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const TIMEOUT: Duration = Duration::from_secs(60);

    #[tokio::test(start_paused = true)]
    async fn a_write_the_client_never_takes_fails_after_the_timeout() {
        let (server, _client) = tokio::io::duplex(1024);
        let mut io = ConnectionIo::new(server, TIMEOUT);
        let started = tokio::time::Instant::now();
        let error = io.write_all(&[0u8; 4096]).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed(), TIMEOUT);
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_reader_that_keeps_taking_is_not_cut_off() {
        let (server, mut client) = tokio::io::duplex(1024);
        let mut io = ConnectionIo::new(server, TIMEOUT);
        let reader = tokio::spawn(async move {
            let mut taken = 0;
            let mut piece = [0u8; 512];
            while taken < 8192 {
                // Each read comes well within the timeout, all of them far beyond it.
                tokio::time::sleep(TIMEOUT / 2).await;
                taken += client.read(&mut piece).await.unwrap();
            }
        });
        io.write_all(&[0u8; 8192]).await.unwrap();
        reader.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn closing_reads_what_the_client_still_sends_until_it_closes_or_linger_ends() {
        // The client closes its side: the close ends at once.
        let (server, mut client) = tokio::io::duplex(1024);
        client.write_all(b"rest of a body").await.unwrap();
        drop(client);
        let mut io = ConnectionIo::new(server, TIMEOUT);
        let started = tokio::time::Instant::now();
        io.shutdown().await.unwrap();
        assert_eq!(started.elapsed(), Duration::ZERO);

        // The client keeps its side open: the close ends after the linger time.
        let (server, _client) = tokio::io::duplex(1024);
        let mut io = ConnectionIo::new(server, TIMEOUT);
        io.shutdown().await.unwrap();
        assert_eq!(started.elapsed(), LINGER);
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_that_keeps_sending_is_read_for_linger_at_most_in_all() {
        let (server, mut client) = tokio::io::duplex(1024);
        let sending = tokio::spawn(async move {
            // A piece every second: never silent for the linger time.
            while client.write_all(b"more").await.is_ok() {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        let mut io = ConnectionIo::new(server, TIMEOUT);
        let started = tokio::time::Instant::now();
        io.shutdown().await.unwrap();
        assert_eq!(started.elapsed(), LINGER_AT_MOST);
        drop(io);
        sending.await.unwrap();
    }
}
