//! The accept loop: a bounded number of connections at once, and a loop that backs off instead
//! of spinning when the process runs out of descriptors.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio_rustls::TlsAcceptor;

use super::connection;
use super::limits::ConnectionLimits;
use crate::app::App;

/// The first pause after an accept failed for want of descriptors; it doubles up to the cap, so
/// that a freed descriptor is used within a tenth of a second without the loop spinning.
const FIRST_BACKOFF: Duration = Duration::from_millis(5);
const MAX_BACKOFF: Duration = Duration::from_millis(100);
/// Repeated failures and refusals are logged at most once per interval, with their count.
const LOG_INTERVAL: Duration = Duration::from_secs(5);

/// Counts repeated events and logs them at most once per interval.
pub struct Summarized {
    what: &'static str,
    count: u64,
    last_logged: Option<Instant>,
}

impl Summarized {
    pub const fn new(what: &'static str) -> Summarized {
        Summarized { what, count: 0, last_logged: None }
    }

    /// Counts one; logs the count when the interval since the last line has passed.
    pub fn note(&mut self, detail: &dyn std::fmt::Display) {
        self.count += 1;
        if self.last_logged.is_none_or(|t| t.elapsed() >= LOG_INTERVAL) {
            tracing::warn!(count = self.count, "{}: {detail}", self.what);
            self.count = 0;
            self.last_logged = Some(Instant::now());
        }
    }

    /// Logs what was counted but not yet logged, when the events stopped.
    pub fn settle(&mut self) {
        if self.count > 0 {
            tracing::warn!(count = self.count, "{} (since the last report)", self.what);
            self.count = 0;
        }
        self.last_logged = None;
    }
}

/// Whether an accept failed because descriptors (or kernel memory) ran out: retrying at once
/// fails again until a connection closes.
fn out_of_resources(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM))
}

pub struct Listener {
    pub listener: TcpListener,
    pub acceptor: Option<TlsAcceptor>,
    pub app: Arc<App>,
    pub limits: Arc<ConnectionLimits>,
    /// One permit per connection served; `max_connections` in all.
    pub permits: Arc<Semaphore>,
    pub shutdown: watch::Receiver<bool>,
}

impl Listener {
    /// Accepts until shutdown.
    pub async fn run(mut self) {
        let mut backoff = FIRST_BACKOFF;
        let mut failures = Summarized::new("accept failed");
        let mut refused = Summarized::new("connection refused: --max-connections reached");
        loop {
            let accepted = tokio::select! {
                accepted = self.listener.accept() => accepted,
                _ = connection::shutdown_requested(&mut self.shutdown) => return,
            };
            let stream = match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    failures.note(&e);
                    if out_of_resources(&e) {
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                    }
                    continue;
                }
            };
            backoff = FIRST_BACKOFF;
            failures.settle();
            let Ok(permit) = self.permits.clone().try_acquire_owned() else {
                // Closed at once: the client sees the connection end and can retry later.
                refused.note(&"closing the new connection");
                drop(stream);
                continue;
            };
            refused.settle();
            let served = connection::Connection {
                app: self.app.clone(),
                limits: self.limits.clone(),
                shutdown: self.shutdown.clone(),
                _permit: permit,
            };
            tokio::spawn(served.serve(stream, self.acceptor.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptor_exhaustion_is_told_from_other_failures() {
        assert!(out_of_resources(&std::io::Error::from_raw_os_error(libc::EMFILE)));
        assert!(out_of_resources(&std::io::Error::from_raw_os_error(libc::ENFILE)));
        assert!(!out_of_resources(&std::io::Error::from_raw_os_error(libc::ECONNABORTED)));
    }

    #[test]
    fn a_burst_of_failures_is_counted_not_logged_one_by_one() {
        let mut failures = Summarized::new("accept failed");
        for _ in 0..1000 {
            failures.note(&"EMFILE");
        }
        // The first was logged at once; the rest wait for the interval.
        assert_eq!(failures.count, 999);
        failures.settle();
        assert_eq!((failures.count, failures.last_logged), (0, None));
    }
}
