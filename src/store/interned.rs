//! Shared copies of the short texts that repeat across hundreds of thousands of operation
//! records (subscriptions, namespaces, locations, api-versions): each distinct text is kept
//! once and every record points at it.

use std::sync::{Arc, LazyLock, Mutex};

use rustc_hash::FxHashSet;
use serde::{Deserialize, Deserializer};

static TEXTS: LazyLock<Mutex<FxHashSet<Arc<str>>>> = LazyLock::new(Mutex::default);

/// The shared copy of `text`.
pub fn interned(text: &str) -> Arc<str> {
    let mut texts = TEXTS.lock().unwrap_or_else(|e| e.into_inner());
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
