//! How many connections azemu keeps and how long a client may take: the bounds that keep one
//! slow or greedy client from holding what every other client needs.

use std::time::Duration;

/// Descriptors kept back for the store, logs, the listener and the runtime.
const RESERVED_DESCRIPTORS: u64 = 64;
/// The default connection bound on a machine whose descriptor limit is very large: each idle
/// connection costs buffers (tens of KiB with TLS), so "as many as descriptors" is not a bound.
const MAX_DEFAULT_CONNECTIONS: u64 = 16_384;

#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// Connections served at once; more are closed as soon as they are accepted. `None`: from
    /// the descriptor limit ([`default_max_connections`]).
    pub max_connections: Option<usize>,
    /// From a connection's start (TLS handshake included) or an HTTP/1.1 request's first byte to
    /// the end of its headers.
    pub header_timeout: Duration,
    /// For a request's whole body, once its headers are in.
    pub body_timeout: Duration,
    /// A connection with no request in flight is closed after this.
    pub idle_timeout: Duration,
    /// How long a shutdown waits for requests in flight.
    pub shutdown_timeout: Duration,
}

impl Default for ConnectionLimits {
    /// Close to what Azure's front ends allow: headers and body each within a minute or less,
    /// idle keep-alive connections closed after two minutes.
    fn default() -> Self {
        ConnectionLimits {
            max_connections: None,
            header_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(120),
            shutdown_timeout: Duration::from_secs(10),
        }
    }
}

/// Raises the soft descriptor limit to the hard one; returns the limit now in force.
pub fn raise_descriptor_limit() -> u64 {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(e) => {
            tracing::warn!(error = %e, "could not raise the descriptor limit");
            rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(1024, |(soft, _)| soft)
        }
    }
}

/// The connection bound for a descriptor limit: what is left after azemu's own descriptors,
/// at least one, at most [`MAX_DEFAULT_CONNECTIONS`].
pub fn default_max_connections(descriptors: u64) -> usize {
    descriptors.saturating_sub(RESERVED_DESCRIPTORS).clamp(1, MAX_DEFAULT_CONNECTIONS) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_bound_leaves_room_for_azemus_own_descriptors() {
        assert_eq!(default_max_connections(128), 64);
        assert_eq!(default_max_connections(1024), 960);
        assert_eq!(default_max_connections(10), 1);
        assert_eq!(default_max_connections(1 << 20), 16_384);
    }

    #[test]
    fn raising_never_lowers_the_limit() {
        let (before, _) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap();
        assert!(raise_descriptor_limit() >= before);
    }
}
