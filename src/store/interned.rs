//! Shared copies of the short texts that repeat across hundreds of thousands of operation
//! records (subscriptions, namespaces, locations, api-versions): each distinct text is kept
//! once and every record points at it.

use std::sync::{Arc, Mutex};

use rustc_hash::FxHashSet;
use serde::{Deserialize, Deserializer};

static TEXTS: Mutex<Option<FxHashSet<Arc<str>>>> = Mutex::new(None);

/// The shared copy of `text`.
pub fn interned(text: &str) -> Arc<str> {
    let mut texts = TEXTS.lock().unwrap_or_else(|e| e.into_inner());
    let texts = texts.get_or_insert_with(FxHashSet::default);
    if let Some(shared) = texts.get(text) {
        return shared.clone();
    }
    let shared: Arc<str> = text.into();
    texts.insert(shared.clone());
    shared
}

/// Reads a text into its shared copy (for records loaded from disk).
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<str>, D::Error> {
    let text = std::borrow::Cow::<str>::deserialize(d)?;
    Ok(interned(&text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_share_one_copy() {
        let a = interned("eastus");
        let b = interned(&String::from("eastus"));
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &interned("westus")));
    }
}
