//! A resource's stored document. Documents of a kilobyte or more are kept lz4-compressed, in
//! memory and on disk: JSON with repeated field names and timestamps packs to about a third,
//! and unpacking one costs about a microsecond per read (documents read again come from a small
//! cache). Smaller ones stay as they are.

use bytes::Bytes;

use super::hot::HotCache;

/// Recently unpacked documents, by their packed bytes.
static UNPACKED: HotCache<Bytes> = HotCache::new(8 * 1024 * 1024);

/// Documents this long or longer are packed.
const PACK_FROM: usize = 1024;
/// Marks a packed document on disk; a JSON document starts with `{`.
const PACKED: u8 = 0x01;

#[derive(Debug, Clone, PartialEq)]
pub struct Body(Bytes);

impl Body {
    /// Keeps `json`, packed when it is long.
    pub fn new(json: Bytes) -> Body {
        if json.len() < PACK_FROM {
            return Body(json);
        }
        let mut packed = Vec::with_capacity(json.len() / 2);
        packed.push(PACKED);
        packed.extend_from_slice(&lz4_flex::compress_prepend_size(&json));
        packed.shrink_to_fit();
        Body(Bytes::from(packed))
    }

    /// As stored on disk (packed or not).
    pub fn from_stored(stored: Bytes) -> Body {
        Body(stored)
    }

    pub fn stored(&self) -> &[u8] {
        &self.0
    }

    /// The document as JSON bytes: shared when it is not packed, unpacked otherwise.
    pub fn json(&self) -> Bytes {
        match self.0.first() {
            Some(&PACKED) => {
                UNPACKED.get_or_make([self.0.as_ptr() as usize, self.0.len()], || self.0.clone(), || unpack(&self.0))
            }
            _ => self.0.clone(),
        }
    }

    /// [`Body::json`] for a read that will not come again soon (it is not kept in the cache).
    pub fn json_once(&self) -> Bytes {
        match self.0.first() {
            Some(&PACKED) => UNPACKED.get([self.0.as_ptr() as usize, self.0.len()]).unwrap_or_else(|| unpack(&self.0)),
            _ => self.0.clone(),
        }
    }

    /// Whether unpacking is needed to read it (then the JSON is made anew on each read).
    pub fn is_packed(&self) -> bool {
        self.0.first() == Some(&PACKED)
    }

    /// The same stored bytes (not only equal ones): an unchanged body.
    pub fn same(&self, other: &Body) -> bool {
        self.0.as_ptr() == other.0.as_ptr() && self.0.len() == other.0.len()
    }
}

fn unpack(packed: &Bytes) -> Bytes {
    match lz4_flex::decompress_size_prepended(&packed[1..]) {
        Ok(json) => Bytes::from(json),
        Err(e) => {
            tracing::error!(error = %e, "a stored document does not unpack");
            Bytes::from_static(b"null")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_documents_are_packed_and_read_back() {
        let long = Bytes::from(format!("{{\"a\":\"{}\"}}", "xyz".repeat(1000)));
        let body = Body::new(long.clone());
        assert!(body.is_packed());
        assert!(body.stored().len() < long.len() / 4);
        assert_eq!(body.json(), long);
        assert_eq!(Body::from_stored(Bytes::copy_from_slice(body.stored())).json(), long);
        let short = Bytes::from_static(b"{\"a\":1}");
        let body = Body::new(short.clone());
        assert!(!body.is_packed());
        assert_eq!(body.json(), short);
    }
}
