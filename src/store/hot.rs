//! Small caches of bytes made from a stored version (an unpacked document, a rendered view), so
//! that a resource a client reads again and again (polling it) is made once rather than on
//! every read. Bounded in bytes, so that reading every resource once does not keep everything
//! twice.

use rustc_hash::FxHashMap;
use std::sync::{LazyLock, Mutex};

use bytes::Bytes;

/// Shards, so that readers of different resources seldom wait on one lock.
const SHARDS: usize = 8;

/// What an entry is found by: addresses of what it was made from (see [`HotCache::get_or_make`]).
pub type HotKey = [usize; 2];

struct Shard<P> {
    entries: FxHashMap<HotKey, (P, Bytes)>,
    bytes: usize,
}

impl<P> Default for Shard<P> {
    fn default() -> Self {
        Shard { entries: FxHashMap::default(), bytes: 0 }
    }
}

pub struct HotCache<P> {
    shards: LazyLock<[Mutex<Shard<P>>; SHARDS]>,
    /// Bytes kept at most, over all shards.
    budget: usize,
}

impl<P: Clone> HotCache<P> {
    pub const fn new(budget: usize) -> HotCache<P> {
        HotCache { shards: LazyLock::new(Default::default), budget }
    }

    fn shard(&self, key: HotKey) -> &Mutex<Shard<P>> {
        // Allocations are at least 16-byte aligned: the low bits carry nothing.
        &self.shards[(key[0] >> 4) % SHARDS]
    }

    /// What is kept under `key`. The key holds the address of what the bytes were made from,
    /// and the entry holds that thing (`pin`), so the address cannot be reused by another
    /// while the entry lives.
    pub fn get(&self, key: HotKey) -> Option<Bytes> {
        let shard = self.shard(key).lock().unwrap_or_else(|e| e.into_inner());
        shard.entries.get(&key).map(|(_, bytes)| bytes.clone())
    }

    /// What is kept under `key`, with what `read` reads from its pin, if it reads something.
    pub fn get_if<R>(&self, key: HotKey, read: impl FnOnce(&P) -> Option<R>) -> Option<(Bytes, R)> {
        let shard = self.shard(key).lock().unwrap_or_else(|e| e.into_inner());
        let (pin, bytes) = shard.entries.get(&key)?;
        read(pin).map(|r| (bytes.clone(), r))
    }

    pub fn keep(&self, key: HotKey, pin: P, bytes: Bytes) {
        let share = self.budget / SHARDS;
        if bytes.len() > share {
            return;
        }
        let mut shard = self.shard(key).lock().unwrap_or_else(|e| e.into_inner());
        while shard.bytes + bytes.len() > share {
            // Any entry will do: what is read again comes back at its next read.
            let Some(victim) = shard.entries.keys().next().copied() else { break };
            if let Some((_, old)) = shard.entries.remove(&victim) {
                shard.bytes -= old.len();
            }
        }
        let added = bytes.len();
        if let Some((_, old)) = shard.entries.insert(key, (pin, bytes)) {
            shard.bytes -= old.len();
        }
        shard.bytes += added;
    }

    /// The bytes under `key`, or those `make` makes (then kept, with `pin`).
    pub fn get_or_make(&self, key: HotKey, pin: impl FnOnce() -> P, make: impl FnOnce() -> Bytes) -> Bytes {
        if let Some(bytes) = self.get(key) {
            return bytes;
        }
        let bytes = make();
        self.keep(key, pin(), bytes.clone());
        bytes
    }

    #[cfg(test)]
    fn kept_bytes(&self) -> Vec<usize> {
        self.shards.iter().map(|s| s.lock().unwrap().bytes).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_made_once_and_the_cache_stays_within_its_budget() {
        let cache: HotCache<Bytes> = HotCache::new(1 << 20);
        let source = Bytes::from(vec![1u8; 64]);
        let key = [source.as_ptr() as usize, source.len()];
        let mut made = 0;
        for _ in 0..3 {
            let bytes = cache.get_or_make(
                key,
                || source.clone(),
                || {
                    made += 1;
                    Bytes::from_static(b"{}")
                },
            );
            assert_eq!(bytes, Bytes::from_static(b"{}"));
        }
        assert_eq!(made, 1);
        let big = Bytes::from(vec![b' '; 32 * 1024]);
        let sources: Vec<Bytes> = (0..200).map(|i| Bytes::from(vec![i as u8; 32])).collect();
        for s in &sources {
            cache.get_or_make([s.as_ptr() as usize, s.len()], || s.clone(), || big.clone());
        }
        assert!(cache.kept_bytes().iter().all(|b| *b <= (1 << 20) / SHARDS));
        // Too big for a shard: made, not kept.
        let huge = Bytes::from(vec![b' '; 1 << 20]);
        cache.keep([1, 1], source.clone(), huge);
        assert!(cache.get([1, 1]).is_none());
    }
}
