//! Answers to GETs of a resource, kept by the request target they answer (its path and query as
//! sent), so that a client polling a resource is answered without parsing, routing and
//! presenting its document again. An answer is given again only while it is still the answer:
//! the store holds the same version of the resource, its resource group and parent still stand,
//! the document still holds at the emulator's time, no fault rule is active, and the caller may
//! read the subscription. Anything else takes the full path, which keeps a new answer.

use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap;

use crate::app::App;
use crate::store::{OperationRecord, State, StoredResource};

const SHARDS: usize = 8;
/// Bytes of answers kept at most, over all shards.
const BUDGET: usize = 32 * 1024 * 1024;
/// Answers kept at most per shard, whatever their size.
const MAX_PER_SHARD: usize = 4096;

/// What a kept answer shows, which must still be what the store holds.
pub enum Shows {
    /// A version of a resource, at store key `key`; its group's and parent's keys are its first
    /// `group` and `parent` bytes, and they must still stand.
    Resource { version: Arc<StoredResource>, key: Box<str>, group: Option<usize>, parent: Option<usize> },
    /// A version of a long-running operation's record.
    Operation { version: Arc<OperationRecord> },
}

impl Shows {
    fn is_current(&self, s: &State) -> bool {
        match self {
            Shows::Resource { version, key, group, parent } => {
                let same = s.resource(key).is_some_and(|r| Arc::ptr_eq(r, version));
                let group_stands = group.is_none_or(|len| s.resource(&key[..len]).is_some());
                let parent_stands = parent.is_none_or(|len| s.resource(&key[..len]).is_some_and(|p| !p.deleting));
                same && group_stands && parent_stands
            }
            Shows::Operation { version } => s.operation(&version.id).is_some_and(|o| Arc::ptr_eq(o, version)),
        }
    }
}

/// One kept answer.
pub struct Answer {
    pub shows: Shows,
    /// The subscription as the path names it, for the caller's access.
    pub subscription: Box<str>,
    /// The emulator time span the answer holds for (`until` exclusive; `None`: until a new
    /// version).
    pub from: DateTime<Utc>,
    pub until: Option<DateTime<Utc>>,
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The spec's operationId, for metrics and the journal.
    pub operation: Option<&'static str>,
}

impl Answer {
    fn holds_at(&self, now: DateTime<Utc>) -> bool {
        self.from <= now && self.until.is_none_or(|until| now < until)
    }
}

#[derive(Default)]
struct Shard {
    entries: FxHashMap<Box<str>, Arc<Answer>>,
    bytes: usize,
}

#[derive(Default)]
pub struct Answers {
    shards: [Mutex<Shard>; SHARDS],
}

fn shard_of(target: &str) -> usize {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(target) as usize % SHARDS
}

impl Answers {
    /// The kept answer to a GET of `target` (path and query as sent), if it is still the
    /// answer; with the operationId it answers as. `may_read` says whether the caller may read
    /// a subscription.
    pub fn find(
        &self,
        app: &App,
        target: &str,
        may_read: impl FnOnce(&str) -> bool,
    ) -> Option<(Response, Option<&'static str>)> {
        if app.faults.any_active() {
            return None;
        }
        let answer =
            self.shards[shard_of(target)].lock().unwrap_or_else(|e| e.into_inner()).entries.get(target)?.clone();
        if !answer.holds_at(app.clock.now()) || !may_read(&answer.subscription) {
            return None;
        }
        if !app.store.read(|s| answer.shows.is_current(s)) {
            return None;
        }
        let mut response = Response::new(Body::from(answer.body.clone()));
        *response.status_mut() = answer.status;
        *response.headers_mut() = answer.headers.clone();
        Some((response, answer.operation))
    }

    /// Keeps `answer` as the answer to a GET of `target` (path and query as sent).
    pub fn keep(&self, target: String, answer: Answer) {
        let share = BUDGET / SHARDS;
        let size = answer.body.len() + target.len();
        if size > share {
            return;
        }
        let mut shard = self.shards[shard_of(&target)].lock().unwrap_or_else(|e| e.into_inner());
        while shard.bytes + size > share || shard.entries.len() >= MAX_PER_SHARD {
            // Any answer will do: what is asked again is kept again at its next full answer.
            let Some(victim) = shard.entries.keys().next().cloned() else { break };
            if let Some(old) = shard.entries.remove(&victim) {
                shard.bytes -= old.body.len() + victim.len();
            }
        }
        let target_len = target.len();
        if let Some(old) = shard.entries.insert(target.into_boxed_str(), Arc::new(answer)) {
            shard.bytes -= old.body.len() + target_len;
        }
        shard.bytes += size;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(body: &'static [u8]) -> Answer {
        let resource = StoredResource::new(
            "/subscriptions/s/resourceGroups/g".into(),
            "t".into(),
            &serde_json::json!({}),
            "e".into(),
        );
        Answer {
            shows: Shows::Resource {
                version: Arc::new(resource),
                key: "/subscriptions/s/resourcegroups/g".into(),
                group: None,
                parent: None,
            },
            subscription: "s".into(),
            from: DateTime::<Utc>::MIN_UTC,
            until: None,
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            body: Bytes::from_static(body),
            operation: None,
        }
    }

    fn kept(answers: &Answers) -> (usize, usize) {
        answers.shards.iter().fold((0, 0), |(n, b), s| {
            let s = s.lock().unwrap();
            (n + s.entries.len(), b + s.bytes)
        })
    }

    #[test]
    fn answers_stay_within_their_bounds_and_a_new_one_replaces_the_old() {
        let answers = Answers::default();
        answers.keep("/a?api-version=1".into(), answer(b"first"));
        answers.keep("/a?api-version=1".into(), answer(b"second!"));
        assert_eq!(kept(&answers), (1, "/a?api-version=1".len() + "second!".len()));
        for i in 0..(SHARDS * MAX_PER_SHARD + 500) {
            answers.keep(format!("/r{i}?api-version=1"), answer(b"{}"));
        }
        let (count, bytes) = kept(&answers);
        assert!(count <= SHARDS * MAX_PER_SHARD, "{count}");
        let expected: usize = answers
            .shards
            .iter()
            .map(|s| s.lock().unwrap().entries.iter().map(|(k, a)| k.len() + a.body.len()).sum::<usize>())
            .sum();
        assert_eq!(bytes, expected, "the byte count follows what is kept");
    }
}
