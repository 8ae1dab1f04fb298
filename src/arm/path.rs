//! ARM resource-id grammar:
//! `/subscriptions/{s}[/resourceGroups/{g}](/providers/{ns}/{type}/{name}(/{type}/{name})*)*[/{typeOrAction}]`.
//! Every `/providers/` section but the last is the scope of an extension resource.

use percent_encoding::percent_decode_str;

use super::error::ArmError;

#[derive(Debug, Clone, PartialEq)]
pub struct ProviderSection {
    pub namespace: String,
    /// `(type, name)` pairs, caller's casing.
    pub pairs: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ArmPath {
    pub subscription: String,
    pub resource_group: Option<String>,
    /// Sections before the last one: the scope an extension resource lives under.
    pub scope_sections: Vec<ProviderSection>,
    /// The section the request targets; `None` for subscription or resource-group paths.
    pub target: Option<ProviderSection>,
    /// An unpaired last segment: a collection type or an action name.
    pub trailing: Option<String>,
}

/// Whether a raw segment is the keyword `word` (as decoded, in any casing).
fn is_keyword(raw: &str, word: &str) -> bool {
    raw.eq_ignore_ascii_case(word) || (raw.contains('%') && decode(raw).is_ok_and(|d| d.eq_ignore_ascii_case(word)))
}

fn decode(segment: &str) -> Result<String, ArmError> {
    // Most segments have nothing to decode: copied as they are, without a second scan.
    if !segment.contains('%') {
        return Ok(segment.to_owned());
    }
    percent_decode_str(segment)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| ArmError::bad_request("InvalidResourceName", "The request path is not valid UTF-8."))
}

fn bad_path(path: &str) -> ArmError {
    ArmError::not_found(
        "InvalidResourceType",
        format!("The request path '{path}' is not a valid Azure Resource Manager path."),
    )
}

impl ArmPath {
    pub fn parse(path: &str) -> Result<ArmPath, ArmError> {
        let bad = || bad_path(path);
        let raw = path.trim_end_matches('/');
        if raw.split('/').skip(1).any(str::is_empty) {
            return Err(bad());
        }
        // Segments are decoded as they are taken, so keywords are never copied.
        let mut it = raw.split('/').skip(1).peekable();
        let keyword = |segment: Option<&&str>, word: &str| segment.is_some_and(|s| is_keyword(s, word));
        if !keyword(it.next().as_ref(), "subscriptions") {
            return Err(bad());
        }
        let mut parsed = ArmPath {
            subscription: decode(it.next().ok_or_else(bad)?)?,
            resource_group: None,
            scope_sections: Vec::new(),
            target: None,
            trailing: None,
        };
        if keyword(it.peek(), "resourceGroups") {
            let groups = it.next().unwrap_or_default();
            match it.next() {
                Some(name) => parsed.resource_group = Some(decode(name)?),
                None => {
                    parsed.trailing = Some(decode(groups)?);
                    return Ok(parsed);
                }
            }
        }
        while let Some(segment) = it.next() {
            if !is_keyword(segment, "providers") {
                if it.peek().is_none() && parsed.target.is_none() {
                    parsed.trailing = Some(decode(segment)?);
                    return Ok(parsed);
                }
                return Err(bad());
            }
            let namespace = decode(it.next().ok_or_else(bad)?)?;
            let mut section = ProviderSection { namespace, pairs: Vec::with_capacity(4) };
            while it.peek().is_some_and(|s| !is_keyword(s, "providers")) {
                let type_name = decode(it.next().unwrap_or_default())?;
                match it.next() {
                    Some(name) => section.pairs.push((type_name, decode(name)?)),
                    None => parsed.trailing = Some(type_name),
                }
            }
            if let Some(previous) = parsed.target.replace(section) {
                if previous.pairs.is_empty() {
                    return Err(bad());
                }
                parsed.scope_sections.push(previous);
            }
        }
        Ok(parsed)
    }

    /// The id of the scope the target lives under (caller's casing).
    pub fn scope_id(&self) -> String {
        let mut id = String::with_capacity(192);
        id.push_str("/subscriptions/");
        id.push_str(&self.subscription);
        if let Some(rg) = &self.resource_group {
            id.push_str("/resourceGroups/");
            id.push_str(rg);
        }
        for section in &self.scope_sections {
            push_section(&mut id, section, section.pairs.len());
        }
        id
    }

    /// The id of the target resource, or of its first `depth` levels.
    pub fn resource_id(&self, depth: usize) -> String {
        let mut id = self.scope_id();
        if let Some(target) = self.target.as_ref().filter(|_| depth > 0) {
            push_section(&mut id, target, depth);
        }
        id
    }

    /// Lower-case `namespace/type/childType…` of the target (plus a trailing collection type).
    pub fn type_key(&self, include_trailing: bool) -> Option<String> {
        let target = self.target.as_ref()?;
        let mut key = target.namespace.to_ascii_lowercase();
        for (t, _) in &target.pairs {
            key.push('/');
            key.push_str(&t.to_ascii_lowercase());
        }
        if include_trailing {
            if let Some(t) = &self.trailing {
                key.push('/');
                key.push_str(&t.to_ascii_lowercase());
            }
        }
        Some(key)
    }

    pub fn depth(&self) -> usize {
        self.target.as_ref().map_or(0, |t| t.pairs.len())
    }

    pub fn name_at(&self, level: usize) -> Option<&str> {
        self.target.as_ref()?.pairs.get(level).map(|(_, n)| n.as_str())
    }
}

fn push_section(id: &mut String, section: &ProviderSection, depth: usize) {
    id.push_str("/providers/");
    id.push_str(&section.namespace);
    for (t, n) in section.pairs.iter().take(depth) {
        id.push('/');
        id.push_str(t);
        id.push('/');
        id.push_str(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JOB: &str = "/subscriptions/sub1/resourceGroups/ArcInstance-rg/providers/Microsoft.HybridCompute/machines/Node-1/providers/Microsoft.AzureStackHCI/edgeDevices/default/jobs/collect1";

    #[test]
    fn parses_extension_resource_under_arc_machine() {
        let p = ArmPath::parse(JOB).unwrap();
        assert_eq!(p.subscription, "sub1");
        assert_eq!(p.resource_group.as_deref(), Some("ArcInstance-rg"));
        assert_eq!(
            p.scope_id(),
            "/subscriptions/sub1/resourceGroups/ArcInstance-rg/providers/Microsoft.HybridCompute/machines/Node-1"
        );
        assert_eq!(p.type_key(false).unwrap(), "microsoft.azurestackhci/edgedevices/jobs");
        assert_eq!(p.resource_id(2), JOB);
        assert_eq!(p.name_at(1), Some("collect1"));
        assert_eq!(p.trailing, None);
    }

    #[test]
    fn trailing_segment_is_collection_or_action() {
        let list = ArmPath::parse(&format!("{}/jobs", &JOB[..JOB.find("/jobs").unwrap()])).unwrap();
        assert_eq!(list.trailing.as_deref(), Some("jobs"));
        assert_eq!(list.type_key(true).unwrap(), "microsoft.azurestackhci/edgedevices/jobs");
        let groups = ArmPath::parse("/subscriptions/s/resourcegroups").unwrap();
        assert_eq!(groups.trailing.as_deref(), Some("resourcegroups"));
        assert!(groups.target.is_none());
    }

    #[test]
    fn decodes_percent_encoded_names_and_rejects_garbage() {
        let p = ArmPath::parse("/subscriptions/s/resourceGroups/my%20rg").unwrap();
        assert_eq!(p.resource_group.as_deref(), Some("my rg"));
        assert!(ArmPath::parse("/foo/bar").is_err());
        assert!(ArmPath::parse("/subscriptions//resourceGroups/x").is_err());
        assert!(ArmPath::parse("/subscriptions/s/resourceGroups/g/providers").is_err());
        assert!(ArmPath::parse("/subscriptions/s/resourceGroups/g/extra/x").is_err());
    }
}
