//! One connection: TLS (or not), HTTP/1.1 or HTTP/2, and a watchdog that closes it when a
//! client is too slow with its headers or leaves it idle too long, or when azemu shuts down.
//!
//! The watchdog reads an [`Activity`] the connection's reads and requests keep up to date: how
//! many requests are in flight, since when the connection has been quiet, and since when it
//! has been receiving a request whose headers are not complete. For HTTP/2 only the connection
//! preface and first request count as headers: afterwards its control frames arrive between
//! requests, and a slow stream is bounded by the idle timeout.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::response::Response;
use hyper::body::{Frame, SizeHint};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{watch, OwnedSemaphorePermit};
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;

use super::limits::ConnectionLimits;
use super::{serve_request, DroppedByFaultRule};
use crate::app::App;
use crate::arm::DropConnection;

/// What the watchdog knows of a connection. Times are milliseconds since `origin`.
struct Activity {
    origin: Instant,
    in_flight: AtomicU32,
    /// When the last request in flight ended.
    quiet_since: AtomicU64,
    /// One more than when the bytes of a request whose headers are incomplete began to arrive;
    /// 0 when none are. A new connection starts awaiting its first request.
    awaiting_since: AtomicU64,
    http2: AtomicBool,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            origin: Instant::now(),
            in_flight: AtomicU32::new(0),
            quiet_since: AtomicU64::new(0),
            awaiting_since: AtomicU64::new(1),
            http2: AtomicBool::new(false),
        }
    }

    fn now(&self) -> u64 {
        self.origin.elapsed().as_millis() as u64
    }

    fn bytes_arrived(&self) {
        let between_requests = self.in_flight.load(Ordering::Relaxed) == 0;
        if between_requests && !self.http2.load(Ordering::Relaxed) && self.awaiting_since.load(Ordering::Relaxed) == 0 {
            self.awaiting_since.store(self.now() + 1, Ordering::Relaxed);
        }
    }

    fn request_started(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.awaiting_since.store(0, Ordering::Relaxed);
        InFlight(self.clone())
    }

    /// When the connection is due to close if nothing changes; `None` while requests run.
    fn due(&self, limits: &ConnectionLimits) -> Option<Instant> {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return None;
        }
        let at = |ms: u64, limit: Duration| self.origin + Duration::from_millis(ms) + limit;
        match self.awaiting_since.load(Ordering::Relaxed) {
            0 => Some(at(self.quiet_since.load(Ordering::Relaxed), limits.idle_timeout)),
            since => Some(at(since - 1, limits.header_timeout)),
        }
    }
}

/// A request in flight, until its answer's body has been sent (or given up).
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.quiet_since.store(self.0.now(), Ordering::Relaxed);
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// An answer's body that keeps its request in flight until it is sent.
pub struct Guarded {
    body: Body,
    _in_flight: InFlight,
}

impl hyper::body::Body for Guarded {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// The connection's stream, telling [`Activity`] when bytes arrive.
struct Tracked<I> {
    io: I,
    activity: Arc<Activity>,
    sniffed: bool,
}

impl<I: AsyncRead + Unpin> AsyncRead for Tracked<I> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = Pin::new(&mut this.io).poll_read(cx, buf);
        let fresh = &buf.filled()[before..];
        if !fresh.is_empty() {
            if !this.sniffed {
                // HTTP/2's preface starts with a method HTTP/1.1 does not have.
                this.sniffed = true;
                this.activity.http2.store(fresh.starts_with(b"PRI "), Ordering::Relaxed);
            }
            this.activity.bytes_arrived();
        }
        result
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Tracked<I> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// Resolves once a shutdown is asked for (never, if nobody can ask any more).
pub async fn shutdown_requested(shutdown: &mut watch::Receiver<bool>) {
    if shutdown.wait_for(|stop| *stop).await.is_err() {
        std::future::pending::<()>().await
    }
}

pub struct Connection {
    pub app: Arc<App>,
    pub limits: Arc<ConnectionLimits>,
    pub shutdown: watch::Receiver<bool>,
    /// Held while the connection lives: it counts against `--max-connections`.
    pub _permit: OwnedSemaphorePermit,
}

impl Connection {
    pub async fn serve(self, stream: TcpStream, acceptor: Option<TlsAcceptor>) {
        let _ = stream.set_nodelay(true);
        let activity = Arc::new(Activity::new());
        match acceptor {
            // The handshake counts against the first request's header time.
            Some(acceptor) => match tokio::time::timeout(self.limits.header_timeout, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => self.drive(tls, activity).await,
                Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!("TLS handshake timed out"),
            },
            None => self.drive(stream, activity).await,
        }
    }

    async fn drive<I>(mut self, io: I, activity: Arc<Activity>)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let app = self.app.clone();
        let requests = activity.clone();
        let service = service_fn(move |request| {
            let app = app.clone();
            let in_flight = requests.request_started();
            async move {
                let response: Response = serve_request(app, request).await;
                // A fault rule asked for no answer: failing the service closes the connection.
                match response.extensions().get::<DropConnection>() {
                    Some(_) => Err(DroppedByFaultRule),
                    None => Ok(response.map(|body| Guarded { body, _in_flight: in_flight })),
                }
            }
        });
        let builder = auto::Builder::new(TokioExecutor::new());
        let tracked = Tracked { io, activity: activity.clone(), sniffed: false };
        let connection = builder.serve_connection(TokioIo::new(tracked), service);
        tokio::pin!(connection);
        // Checked again at least this often while requests run.
        let recheck = self.limits.header_timeout.min(self.limits.idle_timeout);
        loop {
            let due = activity.due(&self.limits);
            if due.is_some_and(|at| at <= Instant::now()) {
                tracing::debug!("closing a slow or idle connection");
                break;
            }
            let wake = due.unwrap_or_else(|| Instant::now() + recheck);
            tokio::select! {
                served = connection.as_mut() => {
                    if let Err(e) = served {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                    return;
                }
                _ = tokio::time::sleep_until(wake) => {}
                _ = shutdown_requested(&mut self.shutdown) => break,
            }
        }
        // Requests in flight finish; an idle or half-sent one ends at once.
        connection.as_mut().graceful_shutdown();
        let _ = tokio::time::timeout(self.limits.shutdown_timeout, connection).await;
    }
}
