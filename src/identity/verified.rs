//! Tokens whose signature strict auth has checked: a client reuses its token for an hour, as
//! every SDK does, so it pays for one ECDSA verification rather than one per request. Expiry and
//! audience are still checked on every request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::token::Claims;

/// Past this many tokens the cache starts over: a bound on memory, not an eviction policy.
const CAPACITY: usize = 4096;

#[derive(Default)]
pub struct VerifiedTokens {
    tokens: Mutex<HashMap<Box<str>, Arc<Claims>>>,
}

impl VerifiedTokens {
    pub fn get(&self, token: &str) -> Option<Arc<Claims>> {
        self.tokens.lock().unwrap_or_else(|e| e.into_inner()).get(token).cloned()
    }

    pub fn insert(&self, token: &str, claims: Arc<Claims>) {
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        if tokens.len() >= CAPACITY {
            tokens.clear();
        }
        tokens.insert(token.into(), claims);
    }
}
