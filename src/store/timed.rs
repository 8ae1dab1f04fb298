//! Bytes made from a stored version at a moment of emulated time (a document rendered from its
//! lifecycle, an operation's status), kept for as long as they hold: until a moment of
//! emulated time, or until the version is replaced. A client polling work in progress is then
//! answered from one rendering per step rather than one per request. Bounded in bytes.

use std::any::Any;
use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};

use super::hot::HotCache;

/// What an entry holds beside its bytes: the version it was made from (so that its address,
/// the key, is not reused while the entry lives) and the span of time the bytes hold for.
#[derive(Clone)]
pub struct Span {
    _version: Arc<dyn Any + Send + Sync>,
    from: DateTime<Utc>,
    /// Exclusive; `None`: until the version is replaced.
    until: Option<DateTime<Utc>>,
}

impl Span {
    fn holds_at(&self, now: DateTime<Utc>) -> bool {
        self.from <= now && self.until.is_none_or(|until| now < until)
    }
}

pub struct TimedCache {
    entries: HotCache<Span>,
}

/// Which of a version's renderings an entry is (its document, one of its views, …): a
/// `'static` name's address, or a small number.
pub type Slot = usize;

impl TimedCache {
    pub const fn new(budget: usize) -> TimedCache {
        TimedCache { entries: HotCache::new(budget) }
    }

    fn key<T>(version: &Arc<T>, slot: Slot) -> [usize; 2] {
        [Arc::as_ptr(version) as *const u8 as usize, slot]
    }

    /// The bytes kept for `slot` of `version`, if they hold at `now`.
    pub fn get<T>(&self, version: &Arc<T>, slot: Slot, now: DateTime<Utc>) -> Option<Bytes> {
        self.get_with_end(version, slot, now).map(|(bytes, _)| bytes)
    }

    /// [`TimedCache::get`], with when the bytes stop holding (`None`: with a new version).
    pub fn get_with_end<T>(
        &self,
        version: &Arc<T>,
        slot: Slot,
        now: DateTime<Utc>,
    ) -> Option<(Bytes, Option<DateTime<Utc>>)> {
        self.entries.get_if(Self::key(version, slot), |span| span.holds_at(now).then_some(span.until))
    }

    /// Keeps `bytes`, made at `made_at`, for `slot` of `version` until `until` (exclusive;
    /// `None`: until the version is replaced).
    pub fn keep<T: Send + Sync + 'static>(
        &self,
        version: &Arc<T>,
        slot: Slot,
        made_at: DateTime<Utc>,
        until: Option<DateTime<Utc>>,
        bytes: Bytes,
    ) {
        if until.is_some_and(|until| until <= made_at) {
            return;
        }
        let span = Span { _version: version.clone(), from: made_at, until };
        self.entries.keep(Self::key(version, slot), span, bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_hold_from_when_they_were_made_until_their_end() {
        let cache = TimedCache::new(1 << 20);
        let version = Arc::new(7u32);
        let t0 = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap().with_timezone(&Utc);
        let later = |s: i64| t0 + chrono::Duration::seconds(s);
        cache.keep(&version, 0, t0, Some(later(5)), Bytes::from_static(b"step 1"));
        assert_eq!(cache.get(&version, 0, later(4)), Some(Bytes::from_static(b"step 1")));
        assert_eq!(cache.get(&version, 0, later(5)), None, "the next step has come");
        assert_eq!(cache.get(&version, 0, later(-1)), None, "made after that moment");
        assert_eq!(cache.get(&version, 1, later(1)), None, "another slot");
        assert_eq!(cache.get(&Arc::new(7u32), 0, later(1)), None, "another version");
        cache.keep(&version, 1, t0, None, Bytes::from_static(b"final"));
        assert_eq!(cache.get(&version, 1, later(1_000_000)), Some(Bytes::from_static(b"final")));
        cache.keep(&version, 2, t0, Some(t0), Bytes::from_static(b"never"));
        assert_eq!(cache.get(&version, 2, t0), None, "holds for no time at all");
    }
}
