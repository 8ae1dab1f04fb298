//! ARM resource-id grammar:
//! `/subscriptions/{s}[/resourceGroups/{g}](/providers/{ns}/{type}/{name}(/{type}/{name})*)*[/{typeOrAction}]`.
//! Every `/providers/` section but the last is the scope of an extension resource.

use percent_encoding::percent_decode_str;
use smallvec::SmallVec;

use super::error::ArmError;

/// Where a segment lies in the path's text.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Span {
    start: u32,
    end: u32,
}

#[derive(Debug, Clone, PartialEq)]
struct SectionSpans {
    namespace: Span,
    /// The section's `(type, name)` pairs: a range of [`ArmPath::pairs`].
    pairs: (u16, u16),
}

/// A parsed path: its text and where each segment lies in it. Segments are not copied: a path
/// without `%` escapes is parsed without allocating beyond its own text.
#[derive(Debug, Clone, PartialEq)]
pub struct ArmPath {
    raw: String,
    /// The decoded segments, `/`-separated, when the path has `%` escapes (spans point here).
    decoded: Option<String>,
    subscription: Span,
    resource_group: Option<Span>,
    sections: SmallVec<[SectionSpans; 2]>,
    pairs: SmallVec<[(Span, Span); 4]>,
    trailing: Option<Span>,
}

/// One `/providers/{namespace}/{type}/{name}…` section of a path (types and names as the caller
/// spelled them).
#[derive(Clone, Copy)]
pub struct ProviderSection<'a> {
    path: &'a ArmPath,
    spans: &'a SectionSpans,
}

impl<'a> ProviderSection<'a> {
    pub fn namespace(&self) -> &'a str {
        self.path.text_of(self.spans.namespace)
    }

    /// How many `(type, name)` pairs it has.
    pub fn len(&self) -> usize {
        usize::from(self.spans.pairs.1 - self.spans.pairs.0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn pair(&self, index: usize) -> Option<(&'a str, &'a str)> {
        self.pairs().nth(index)
    }

    pub fn pairs(&self) -> impl ExactSizeIterator<Item = (&'a str, &'a str)> + 'a {
        let path = self.path;
        let (from, to) = self.spans.pairs;
        path.pairs[usize::from(from)..usize::from(to)].iter().map(move |(t, n)| (path.text_of(*t), path.text_of(*n)))
    }
}

const PROVIDERS: &str = "providers";

/// Whether a raw segment is the keyword `word` (as decoded, in any casing). An escaped segment
/// is longer than what it decodes to, so one of the keyword's length needs no decoding.
#[inline]
fn is_keyword(raw: &str, word: &str, escaped: bool) -> bool {
    if raw.len() == word.len() {
        return raw.eq_ignore_ascii_case(word);
    }
    escaped && raw.len() > word.len() && raw.contains('%') && decode(raw).is_ok_and(|d| d.eq_ignore_ascii_case(word))
}

/// Whether every empty segment of a path stands where one may: at the start, where SDKs joining
/// a scope that starts with `/` send `//subscriptions/…`, or right after a namespace, where the
/// Azure CLI leaves an empty parent path (`providers/{ns}//{type}/{name}`). Apart from the
/// split, which only notes that there was one: rare, and the split is on every request's path.
#[cold]
fn empty_segments_allowed(trimmed: &str) -> bool {
    let mut seen: SmallVec<[&str; 24]> = SmallVec::new();
    for segment in trimmed.split('/').skip(1) {
        if !segment.is_empty() {
            seen.push(segment);
        } else if !(seen.is_empty() || (seen.len() >= 2 && seen[seen.len() - 2].eq_ignore_ascii_case(PROVIDERS))) {
            return false;
        }
    }
    true
}

/// The segments of a path (after its leading `/`, without trailing ones) found in one pass,
/// and whether any has `%` escapes; `None` when a segment is empty where none may be.
fn split_segments(path: &str) -> Option<(SmallVec<[&str; 24]>, bool)> {
    let trimmed = path.trim_end_matches('/').as_bytes();
    let mut segments = SmallVec::new();
    let (mut escaped, mut empty) = (false, false);
    let mut start = None;
    for (i, &byte) in trimmed.iter().enumerate() {
        match byte {
            b'/' => {
                if let Some(from) = start.replace(i + 1) {
                    if from == i {
                        empty = true;
                    } else {
                        segments.push(&path[from..i]);
                    }
                }
            }
            b'%' => escaped = true,
            _ => {}
        }
    }
    match start {
        Some(from) if from < trimmed.len() => segments.push(&path[from..trimmed.len()]),
        Some(_) => return None,
        None => {}
    }
    if empty && !empty_segments_allowed(&path[..trimmed.len()]) {
        return None;
    }
    Some((segments, escaped))
}

fn decode(segment: &str) -> Result<String, ArmError> {
    let decoded = percent_decode_str(segment)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| ArmError::bad_request("InvalidResourceName", "The request path is not valid UTF-8."))?;
    if decoded.chars().any(char::is_control) {
        return Err(ArmError::bad_request(
            "InvalidResourceName",
            format!("The path segment '{}' contains control characters.", decoded.escape_default()),
        ));
    }
    Ok(decoded)
}

fn bad_path(path: &str) -> ArmError {
    ArmError::not_found(
        "InvalidResourceType",
        format!("The request path '{path}' is not a valid Azure Resource Manager path."),
    )
}

/// Takes segments: where they lie in the path, or, when the path has escapes, decodes them
/// into `decoded`.
struct Segments<'p> {
    path: &'p str,
    decoded: Option<String>,
}

impl Segments<'_> {
    fn take(&mut self, segment: &str) -> Result<Span, ArmError> {
        let span = |start: usize, end: usize| Span { start: start as u32, end: end as u32 };
        match &mut self.decoded {
            None => {
                let start = segment.as_ptr() as usize - self.path.as_ptr() as usize;
                Ok(span(start, start + segment.len()))
            }
            Some(out) => {
                let start = out.len();
                out.push_str(&decode(segment)?);
                let end = out.len();
                out.push('/');
                Ok(span(start, end))
            }
        }
    }
}

/// The spans of a path, before its text is attached.
struct Layout {
    subscription: Span,
    resource_group: Option<Span>,
    sections: SmallVec<[SectionSpans; 2]>,
    pairs: SmallVec<[(Span, Span); 4]>,
    trailing: Option<Span>,
}

fn layout(path: &str, raw: &[&str], segments: &mut Segments) -> Result<Layout, ArmError> {
    let bad = || bad_path(path);
    let escaped = segments.decoded.is_some();
    let is_keyword = |segment: &str, word: &str| is_keyword(segment, word, escaped);
    let mut it = raw.iter().copied().peekable();
    let keyword = |segment: Option<&&str>, word: &str| segment.is_some_and(|s| is_keyword(s, word));
    if !keyword(it.next().as_ref(), "subscriptions") {
        return Err(bad());
    }
    let mut parsed = Layout {
        subscription: segments.take(it.next().ok_or_else(bad)?)?,
        resource_group: None,
        sections: SmallVec::new(),
        pairs: SmallVec::new(),
        trailing: None,
    };
    if keyword(it.peek(), "resourceGroups") {
        let groups = it.next().unwrap_or_default();
        match it.next() {
            Some(name) => parsed.resource_group = Some(segments.take(name)?),
            None => {
                parsed.trailing = Some(segments.take(groups)?);
                return Ok(parsed);
            }
        }
    }
    while let Some(segment) = it.next() {
        let last = it.peek().is_none();
        // `/subscriptions/{s}/providers`: the subscription's resource providers.
        if last && parsed.sections.is_empty() && parsed.resource_group.is_none() && is_keyword(segment, PROVIDERS) {
            parsed.trailing = Some(segments.take(segment)?);
            return Ok(parsed);
        }
        if !is_keyword(segment, PROVIDERS) {
            if last && parsed.sections.is_empty() {
                parsed.trailing = Some(segments.take(segment)?);
                return Ok(parsed);
            }
            return Err(bad());
        }
        // A section is a scope only when it names a resource, with a name for every type.
        if parsed.trailing.is_some() || parsed.sections.last().is_some_and(|s| s.pairs.0 == s.pairs.1) {
            return Err(bad());
        }
        let namespace = segments.take(it.next().ok_or_else(bad)?)?;
        let first = parsed.pairs.len() as u16;
        while it.peek().is_some_and(|s| !is_keyword(s, PROVIDERS)) {
            let type_name = segments.take(it.next().unwrap_or_default())?;
            match it.next() {
                // A type without a name before the next section: no resource id.
                Some(name) if name.len() >= PROVIDERS.len() && is_keyword(name, PROVIDERS) && it.peek().is_some() => {
                    return Err(bad())
                }
                Some(name) => {
                    let name = segments.take(name)?;
                    parsed.pairs.push((type_name, name));
                }
                None => parsed.trailing = Some(type_name),
            }
        }
        parsed.sections.push(SectionSpans { namespace, pairs: (first, parsed.pairs.len() as u16) });
    }
    Ok(parsed)
}

impl ArmPath {
    pub fn parse(path: &str) -> Result<ArmPath, ArmError> {
        let (raw, escaped) = split_segments(path).ok_or_else(|| bad_path(path))?;
        let decoded = escaped.then(|| String::with_capacity(path.len()));
        let mut segments = Segments { path, decoded };
        let layout = layout(path, &raw, &mut segments)?;
        Ok(ArmPath {
            raw: path.to_string(),
            decoded: segments.decoded,
            subscription: layout.subscription,
            resource_group: layout.resource_group,
            sections: layout.sections,
            pairs: layout.pairs,
            trailing: layout.trailing,
        })
    }

    fn text_of(&self, span: Span) -> &str {
        let text = self.decoded.as_deref().unwrap_or(&self.raw);
        &text[span.start as usize..span.end as usize]
    }

    /// The path as the request sent it.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    pub fn subscription(&self) -> &str {
        self.text_of(self.subscription)
    }

    pub fn resource_group(&self) -> Option<&str> {
        self.resource_group.map(|s| self.text_of(s))
    }

    /// An unpaired last segment: a collection type or an action name.
    pub fn trailing(&self) -> Option<&str> {
        self.trailing.map(|s| self.text_of(s))
    }

    /// The section the request targets; `None` for subscription or resource-group paths.
    pub fn target(&self) -> Option<ProviderSection<'_>> {
        self.sections.last().map(|spans| ProviderSection { path: self, spans })
    }

    /// Sections before the last one: the scope an extension resource lives under.
    pub fn scope_sections(&self) -> impl Iterator<Item = ProviderSection<'_>> {
        let scopes = self.sections.len().saturating_sub(1);
        self.sections[..scopes].iter().map(move |spans| ProviderSection { path: self, spans })
    }

    /// The id of the scope the target lives under (caller's casing).
    pub fn scope_id(&self) -> String {
        let mut id = String::with_capacity(192);
        id.push_str("/subscriptions/");
        id.push_str(self.subscription());
        if let Some(rg) = self.resource_group() {
            id.push_str("/resourceGroups/");
            id.push_str(rg);
        }
        for section in self.scope_sections() {
            push_section(&mut id, section, section.len());
        }
        id
    }

    /// The id of the target resource, or of its first `depth` levels.
    pub fn resource_id(&self, depth: usize) -> String {
        let mut id = self.scope_id();
        if let Some(target) = self.target().filter(|_| depth > 0) {
            push_section(&mut id, target, depth);
        }
        id
    }

    /// Lower-case `namespace/type/childType…` of the target (plus a trailing collection type).
    pub fn type_key(&self, include_trailing: bool) -> Option<String> {
        let mut key = self.full_type(include_trailing)?;
        key.make_ascii_lowercase();
        Some(key)
    }

    /// [`ArmPath::type_key`] as the path spells it.
    pub fn full_type(&self, include_trailing: bool) -> Option<String> {
        let target = self.target()?;
        let mut key = String::with_capacity(96);
        key.push_str(target.namespace());
        for (t, _) in target.pairs() {
            key.push('/');
            key.push_str(t);
        }
        if include_trailing {
            if let Some(t) = self.trailing() {
                key.push('/');
                key.push_str(t);
            }
        }
        Some(key)
    }

    pub fn depth(&self) -> usize {
        self.target().map_or(0, |t| t.len())
    }

    pub fn name_at(&self, level: usize) -> Option<&str> {
        self.target()?.pair(level).map(|(_, n)| n)
    }
}

/// `/subscriptions/{s}[/resourcegroups/{g}]/deployments/…`, the short form the Azure CLI uses
/// for deployment operations, written in full (`…/providers/Microsoft.Resources/deployments/…`);
/// `None` for any other path.
pub fn with_deployments_provider(path: &str) -> Option<String> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let at = match segments.get(2) {
        Some(s) if s.eq_ignore_ascii_case("resourcegroups") => 4,
        _ => 2,
    };
    let starts = segments.first().is_some_and(|s| s.eq_ignore_ascii_case("subscriptions"));
    let named = segments.get(at).is_some_and(|s| s.eq_ignore_ascii_case("deployments")) && segments.len() > at + 1;
    if !(starts && named) {
        return None;
    }
    let (scope, rest) = segments.split_at(at);
    Some(format!("/{}/providers/Microsoft.Resources/{}", scope.join("/"), rest.join("/")))
}

fn push_section(id: &mut String, section: ProviderSection, depth: usize) {
    id.push_str("/providers/");
    id.push_str(section.namespace());
    for (t, n) in section.pairs().take(depth) {
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
    fn the_short_form_of_deployment_paths_is_written_in_full() {
        assert_eq!(
            with_deployments_provider("/subscriptions/s/resourcegroups/g/deployments/d/operations").as_deref(),
            Some("/subscriptions/s/resourcegroups/g/providers/Microsoft.Resources/deployments/d/operations")
        );
        assert_eq!(
            with_deployments_provider("/subscriptions/s/deployments/d").as_deref(),
            Some("/subscriptions/s/providers/Microsoft.Resources/deployments/d")
        );
        assert_eq!(with_deployments_provider("/subscriptions/s/resourcegroups/g/things/d"), None);
        assert_eq!(with_deployments_provider("/subscriptions/s/resourcegroups/g/deployments"), None);
    }

    #[test]
    fn parses_extension_resource_under_arc_machine() {
        let p = ArmPath::parse(JOB).unwrap();
        assert_eq!(p.subscription(), "sub1");
        assert_eq!(p.resource_group(), Some("ArcInstance-rg"));
        assert_eq!(
            p.scope_id(),
            "/subscriptions/sub1/resourceGroups/ArcInstance-rg/providers/Microsoft.HybridCompute/machines/Node-1"
        );
        assert_eq!(p.type_key(false).unwrap(), "microsoft.azurestackhci/edgedevices/jobs");
        assert_eq!(p.resource_id(2), JOB);
        assert_eq!(p.name_at(1), Some("collect1"));
        assert_eq!(p.trailing(), None);
    }

    #[test]
    fn trailing_segment_is_collection_or_action() {
        let list = ArmPath::parse(&format!("{}/jobs", &JOB[..JOB.find("/jobs").unwrap()])).unwrap();
        assert_eq!(list.trailing(), Some("jobs"));
        assert_eq!(list.type_key(true).unwrap(), "microsoft.azurestackhci/edgedevices/jobs");
        let groups = ArmPath::parse("/subscriptions/s/resourcegroups").unwrap();
        assert_eq!(groups.trailing(), Some("resourcegroups"));
        assert!(groups.target().is_none());
    }

    #[test]
    fn an_escaped_path_reads_as_its_plain_twin() {
        let escaped = JOB
            .replace("Node-1", "Node%2D1")
            .replace("/providers/Microsoft.AzureStackHCI", "/%70roviders/Microsoft.AzureStackHCI");
        let (p, plain) = (ArmPath::parse(&escaped).unwrap(), ArmPath::parse(JOB).unwrap());
        assert_eq!((p.resource_id(2), p.scope_id()), (plain.resource_id(2), plain.scope_id()));
        assert_eq!(p.type_key(false), plain.type_key(false));
        assert_eq!(p.raw(), escaped);
        let scope = p.scope_sections().next().unwrap();
        assert_eq!((scope.namespace(), scope.pair(0)), ("Microsoft.HybridCompute", Some(("machines", "Node-1"))));
        assert_eq!(p.target().unwrap().pairs().collect::<Vec<_>>(), [("edgeDevices", "default"), ("jobs", "collect1")]);
    }

    #[test]
    fn decodes_percent_encoded_names_and_rejects_garbage() {
        let p = ArmPath::parse("/subscriptions/s/resourceGroups/my%20rg").unwrap();
        assert_eq!(p.resource_group(), Some("my rg"));
        assert!(ArmPath::parse("/foo/bar").is_err());
        assert!(ArmPath::parse("/subscriptions//resourceGroups/x").is_err());
        assert!(ArmPath::parse("/subscriptions/s/resourceGroups/g/providers").is_err());
        assert_eq!(ArmPath::parse("/subscriptions/s/providers").unwrap().trailing(), Some("providers"));
        let provider = ArmPath::parse("/subscriptions/s/providers/Microsoft.Compute").unwrap();
        assert_eq!((provider.target().unwrap().namespace(), provider.depth()), ("Microsoft.Compute", 0));
        assert!(ArmPath::parse("/subscriptions/s/resourceGroups/g/extra/x").is_err());
        assert!(ArmPath::parse("/subscriptions/s/resourceGroups/g/providers/A.B/m/n/extra/providers/C.D/t/x").is_err());
        assert_eq!(
            ArmPath::parse("/subscriptions/s/resourceGroups/my%01rg").unwrap_err().code(),
            "InvalidResourceName"
        );
    }

    #[test]
    fn an_empty_parent_path_after_the_namespace_is_skipped() {
        let cli =
            ArmPath::parse("/subscriptions/s/resourceGroups/g/providers/Microsoft.AzureStackHCI//clusters/c").unwrap();
        assert_eq!(
            cli.resource_id(1),
            "/subscriptions/s/resourceGroups/g/providers/Microsoft.AzureStackHCI/clusters/c"
        );
        assert!(
            ArmPath::parse("/subscriptions/s/resourceGroups/g/providers/Microsoft.AzureStackHCI/clusters//c").is_err()
        );
    }
}
