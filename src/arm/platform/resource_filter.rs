//! The `$filter` of ARM's resource list: clauses `resourceType eq '…'`, `name eq '…'`,
//! `location eq '…'`, `resourceGroup eq '…'`, `tagName eq '…'`, `tagValue eq '…'` and
//! `substringof('…', name)`, joined by `and` / `or` (`and` binds first).

use serde_json::Value;

use super::super::ArmError;

#[derive(Debug, Clone, PartialEq)]
enum Clause {
    Eq(Field, String),
    NameContains(String),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Field {
    ResourceType,
    Name,
    Location,
    ResourceGroup,
    TagName,
    TagValue,
}

/// Alternatives (`or`) of conjunctions (`and`).
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceFilter(Vec<Vec<Clause>>);

fn invalid(filter: &str) -> ArmError {
    ArmError::bad_request(
        "InvalidFilterInQueryString",
        format!("Invalid $filter '{filter}' specified in the query string."),
    )
}

/// A quoted OData string (`'it''s'`), and what follows it.
fn quoted(text: &str) -> Option<(String, &str)> {
    let mut rest = text.trim_start().strip_prefix('\'')?;
    let mut value = String::new();
    loop {
        let end = rest.find('\'')?;
        value.push_str(&rest[..end]);
        rest = &rest[end + 1..];
        match rest.strip_prefix('\'') {
            Some(after) => {
                value.push('\'');
                rest = after;
            }
            None => return Some((value, rest)),
        }
    }
}

/// The text split at a keyword (` and `, ` or `) outside quotes, case-insensitively.
fn split_outside_quotes<'a>(text: &'a str, keyword: &str) -> Vec<&'a str> {
    let (lower, mut parts, mut start, mut in_quotes) = (text.to_ascii_lowercase(), Vec::new(), 0, false);
    let mut i = 0;
    while i < text.len() {
        if text.as_bytes()[i] == b'\'' {
            in_quotes = !in_quotes;
        } else if !in_quotes && lower.as_bytes()[i..].starts_with(keyword.as_bytes()) {
            parts.push(&text[start..i]);
            i += keyword.len();
            start = i;
            continue;
        }
        i += 1;
    }
    parts.push(&text[start..]);
    parts
}

fn clause(text: &str, filter: &str) -> Result<Clause, ArmError> {
    let text = text.trim();
    let lower = text.to_ascii_lowercase();
    if let Some(inner) = lower.strip_prefix("substringof(").filter(|_| text.ends_with(')')) {
        let args = &text[text.len() - inner.len()..text.len() - 1];
        let (value, rest) = quoted(args).ok_or_else(|| invalid(filter))?;
        let field = rest.trim_start().strip_prefix(',').map(str::trim).ok_or_else(|| invalid(filter))?;
        return match field.eq_ignore_ascii_case("name") {
            true => Ok(Clause::NameContains(value)),
            false => Err(invalid(filter)),
        };
    }
    let (field, rest) = text.split_once(char::is_whitespace).ok_or_else(|| invalid(filter))?;
    let rest = rest.trim_start();
    let rest =
        rest.get(..2).filter(|op| op.eq_ignore_ascii_case("eq")).map(|_| &rest[2..]).ok_or_else(|| invalid(filter))?;
    let (value, after) = quoted(rest).ok_or_else(|| invalid(filter))?;
    if !after.trim().is_empty() {
        return Err(invalid(filter));
    }
    let field = match field.to_ascii_lowercase().as_str() {
        "resourcetype" => Field::ResourceType,
        "name" => Field::Name,
        "location" => Field::Location,
        "resourcegroup" => Field::ResourceGroup,
        "tagname" => Field::TagName,
        "tagvalue" => Field::TagValue,
        _ => return Err(invalid(filter)),
    };
    Ok(Clause::Eq(field, value))
}

impl ResourceFilter {
    pub fn parse(filter: &str) -> Result<ResourceFilter, ArmError> {
        let alternatives = split_outside_quotes(filter, " or ")
            .into_iter()
            .map(|alt| split_outside_quotes(alt, " and ").into_iter().map(|c| clause(c, filter)).collect())
            .collect::<Result<Vec<Vec<Clause>>, ArmError>>()?;
        for all in &alternatives {
            let has = |f: Field| all.iter().any(|c| matches!(c, Clause::Eq(g, _) if *g == f));
            if has(Field::TagValue) && !has(Field::TagName) {
                return Err(ArmError::bad_request(
                    "InvalidFilterInQueryString",
                    format!("Invalid $filter '{filter}': tagValue needs a tagName in the same condition."),
                ));
            }
        }
        Ok(ResourceFilter(alternatives))
    }

    /// Whether a listed resource (its generic document, and its resource group) is kept.
    pub fn keeps(&self, doc: &Value, group: &str) -> bool {
        self.0.iter().any(|all| {
            let tag_name = all.iter().find_map(|c| match c {
                Clause::Eq(Field::TagName, name) => Some(name.as_str()),
                _ => None,
            });
            all.iter().all(|c| holds(c, doc, group, tag_name))
        })
    }
}

fn holds(clause: &Clause, doc: &Value, group: &str, tag_name: Option<&str>) -> bool {
    let text = |field: &str| doc.get(field).and_then(Value::as_str).unwrap_or_default();
    let tags = || doc.get("tags").and_then(Value::as_object).into_iter().flatten();
    let tag =
        |name: &str| tags().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str().unwrap_or_default());
    match clause {
        Clause::NameContains(part) => text("name").to_lowercase().contains(&part.to_lowercase()),
        Clause::Eq(Field::ResourceType, t) => text("type").eq_ignore_ascii_case(t),
        Clause::Eq(Field::Name, n) => text("name").eq_ignore_ascii_case(n),
        Clause::Eq(Field::Location, l) => {
            let wanted = super::super::regions::find(l).map_or_else(|| l.to_ascii_lowercase(), |r| r.name.to_string());
            text("location") == wanted
        }
        Clause::Eq(Field::ResourceGroup, g) => group.eq_ignore_ascii_case(g),
        Clause::Eq(Field::TagName, name) => tag(name).is_some(),
        Clause::Eq(Field::TagValue, value) => tag_name.and_then(tag).is_some_and(|v| v == value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({"name": "web-Set", "type": "Microsoft.Compute/virtualMachineScaleSets", "location": "westus",
               "tags": {"Env": "prod", "team": "o'neil"}})
    }

    #[test]
    fn filters_keep_what_arm_keeps() {
        let keeps = |f: &str| ResourceFilter::parse(f).unwrap().keeps(&doc(), "rg1");
        assert!(keeps("resourceType eq 'microsoft.compute/virtualmachinescalesets'"));
        assert!(!keeps("resourceType eq 'Microsoft.AzureStackHCI/clusters'"));
        assert!(keeps("name eq 'WEB-SET'"));
        assert!(keeps("substringof('set', name)"));
        assert!(keeps("location eq 'West US'"));
        assert!(keeps("resourceGroup eq 'RG1'"));
        assert!(keeps("tagName eq 'env'"));
        assert!(keeps("tagName eq 'env' and tagValue eq 'prod'"));
        assert!(!keeps("tagName eq 'env' and tagValue eq 'Prod'"));
        assert!(keeps("tagName eq 'team' and tagValue eq 'o''neil'"));
        assert!(keeps("name eq 'other' or resourceType eq 'Microsoft.Compute/virtualMachineScaleSets'"));
        assert!(!keeps("name eq 'other' and resourceType eq 'Microsoft.Compute/virtualMachineScaleSets'"));
    }

    #[test]
    fn malformed_filters_are_refused() {
        for bad in [
            "name eq 'é' or ñ",
            "",
            "name",
            "name eq web",
            "name ne 'x'",
            "color eq 'red'",
            "substringof(name)",
            "tagValue eq 'x'",
        ] {
            assert_eq!(ResourceFilter::parse(bad).unwrap_err().code(), "InvalidFilterInQueryString", "{bad}");
        }
    }
}
