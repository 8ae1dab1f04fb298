//! What a request sees of a stored document: the shape of its api-version, and the fields only
//! `$expand` shows (Compute's `userData`) only when it asks for them.

use bytes::Bytes;
use serde_json::Value;

use super::contract::ResourceTypeSpec;
use super::versions::remove;

/// `doc` as a request at `api_version` with `$expand` = `expand` sees it; untouched (and not
/// parsed) when there is nothing to leave out.
pub fn shown(spec: &ResourceTypeSpec, api_version: Option<&str>, expand: Option<&str>, doc: Bytes) -> Bytes {
    let asked = |name: &str| expand.is_some_and(|e| e.split(',').any(|part| part.trim().eq_ignore_ascii_case(name)));
    let hidden = spec
        .expand_only
        .iter()
        .filter(|(name, pointer)| !asked(name) && mentions(&doc, pointer.rsplit('/').next().unwrap_or_default()))
        .map(|(_, pointer)| *pointer);
    let lacked = api_version.into_iter().flat_map(|v| spec.versions.lacked_by(v)).map(|added| added.pointer);
    let pointers: Vec<&str> = hidden.chain(lacked).collect();
    if pointers.is_empty() {
        return doc;
    }
    let Ok(mut value) = serde_json::from_slice::<Value>(&doc) else { return doc };
    for pointer in pointers {
        remove(&mut value, pointer);
    }
    crate::store::to_bytes(&value)
}

/// Whether the document has a field named `key` anywhere (a cheap test before parsing it).
fn mentions(doc: &[u8], key: &str) -> bool {
    let key = key.as_bytes();
    doc.windows(key.len() + 2).any(|w| w[0] == b'"' && w[w.len() - 1] == b'"' && &w[1..w.len() - 1] == key)
}
