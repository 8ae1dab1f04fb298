//! `{"value":[…],"nextLink":…}` pages with `$top` and an opaque `$skipToken`.

use bytes::Bytes;

use super::request::ArmRequest;
use super::ArmError;

pub const DEFAULT_PAGE_SIZE: usize = 100;
pub const MAX_PAGE_SIZE: usize = 1000;

pub struct PageRequest {
    pub top: usize,
    /// Key of the last item of the previous page.
    pub after: Option<String>,
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<String> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let bytes =
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect::<Option<Vec<u8>>>()?;
    String::from_utf8(bytes).ok()
}

impl PageRequest {
    pub fn parse(top: Option<&str>, skip_token: Option<&str>) -> Result<PageRequest, ArmError> {
        let top = match top {
            None => DEFAULT_PAGE_SIZE,
            Some(t) => match t.parse::<usize>() {
                Ok(n) if n >= 1 => n.min(MAX_PAGE_SIZE),
                _ => {
                    return Err(ArmError::invalid_parameter(
                        "$top",
                        format!("The value '{t}' of $top is not a positive integer."),
                    ))
                }
            },
        };
        let after = match skip_token {
            None => None,
            Some(t) => Some(
                unhex(t).ok_or_else(|| ArmError::invalid_parameter("$skipToken", "The $skipToken is not valid."))?,
            ),
        };
        Ok(PageRequest { top, after })
    }
}

/// Builds one page, as JSON bytes, from items (already JSON) in key order. `link` makes the URL
/// of the next page from a token.
pub fn page<K: AsRef<str>>(
    items: impl Iterator<Item = (K, Bytes)>,
    request: &PageRequest,
    link: impl Fn(&str) -> String,
) -> Bytes {
    let mut out = Vec::with_capacity(4096);
    out.extend_from_slice(b"{\"value\":[");
    let mut last_key: Option<K> = None;
    let mut more = false;
    let unseen = items.filter(|(k, _)| request.after.as_deref().is_none_or(|a| k.as_ref() > a));
    for (count, (key, item)) in unseen.enumerate() {
        if count == request.top {
            more = true;
            break;
        }
        if count > 0 {
            out.push(b',');
        }
        out.extend_from_slice(&item);
        last_key = Some(key);
    }
    out.push(b']');
    if let (true, Some(k)) = (more, last_key) {
        out.extend_from_slice(b",\"nextLink\":");
        out.extend_from_slice(&serde_json::to_vec(&link(&hex(k.as_ref()))).unwrap_or_default());
    }
    out.push(b'}');
    Bytes::from(out)
}

/// The next page's URL: the request's own, its `$top`, `$filter` and `$expand` kept, with the token.
pub fn next_link(req: &ArmRequest, token: &str) -> String {
    let mut url = format!("{}{}?api-version={}", req.base(), req.raw_path(), req.api_version().unwrap_or_default());
    for name in ["$top", "$filter", "$expand"] {
        if let Some(value) = req.query(name) {
            let value: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
            url.push_str(&format!("&%24{}={value}", &name[1..]));
        }
    }
    url.push_str(&format!("&%24skipToken={token}"));
    url
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn pages_follow_tokens_to_the_end() {
        let items: Vec<(String, Bytes)> = (0..5).map(|i| (format!("k{i}"), Bytes::from(i.to_string()))).collect();
        let mut token = None;
        let mut seen = Vec::new();
        loop {
            let req = PageRequest::parse(Some("2"), token.as_deref()).unwrap();
            let p: Value = serde_json::from_slice(&page(items.iter().cloned(), &req, |t| t.to_string())).unwrap();
            seen.extend(p["value"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()));
            match p.get("nextLink") {
                Some(Value::String(t)) => token = Some(t.clone()),
                _ => break,
            }
        }
        assert_eq!(seen, vec![0, 1, 2, 3, 4]);
        assert!(PageRequest::parse(Some("0"), None).is_err());
        assert!(PageRequest::parse(None, Some("zz")).is_err());
    }
}
