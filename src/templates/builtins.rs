//! The template functions that need nothing but their arguments: strings, arrays and objects,
//! logic, comparison, numbers and conversions, as ARM defines them.

use serde_json::{Map, Value};

use super::evaluate::{fail, kind, EvalError};

fn arity(name: &str, args: &[Value], min: usize, max: usize) -> Result<(), EvalError> {
    if args.len() < min || args.len() > max {
        let expected = if min == max { min.to_string() } else { format!("{min} to {max}") };
        return fail(format!("The template function '{name}' takes {expected} arguments, not {}.", args.len()));
    }
    Ok(())
}

fn text<'a>(name: &str, value: &'a Value) -> Result<&'a str, EvalError> {
    value
        .as_str()
        .ok_or_else(|| EvalError(format!("The template function '{name}' expects a string, not {}.", kind(value))))
}

fn integer(name: &str, value: &Value) -> Result<i64, EvalError> {
    value
        .as_i64()
        .ok_or_else(|| EvalError(format!("The template function '{name}' expects an integer, not {}.", kind(value))))
}

fn boolean(name: &str, value: &Value) -> Result<bool, EvalError> {
    value
        .as_bool()
        .ok_or_else(|| EvalError(format!("The template function '{name}' expects a boolean, not {}.", kind(value))))
}

/// `string()` as ARM writes values: JSON for arrays and objects, `True`/`False` for booleans.
pub fn as_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// .NET's composite format as `format()` takes it: `{0}`, `{1}`, … and `{{` / `}}`.
fn composite(name: &str, pattern: &str, args: &[Value]) -> Result<String, EvalError> {
    let mut out = String::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                let spec: String = chars.by_ref().take_while(|c| *c != '}').collect();
                let position = spec.split([':', ',']).next().unwrap_or_default().trim();
                let index: usize =
                    position.parse().map_err(|_| EvalError(format!("The format '{pattern}' is not valid.")))?;
                let arg = args.get(index).ok_or_else(|| {
                    EvalError(format!("The template function '{name}' has no argument {index} for '{pattern}'."))
                })?;
                out.push_str(&as_text(arg));
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

fn compare(name: &str, a: &Value, b: &Value) -> Result<std::cmp::Ordering, EvalError> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => Ok(x.as_i64().cmp(&y.as_i64())),
        (Value::String(x), Value::String(y)) => Ok(x.cmp(y)),
        _ => fail(format!("The template function '{name}' compares two integers or two strings.")),
    }
}

/// What `uriComponent` escapes: everything but RFC 3986's unreserved characters.
const URI_COMPONENT: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

pub(super) fn call(lower: &str, name: &str, args: Vec<Value>) -> Result<Value, EvalError> {
    use std::cmp::Ordering::{Greater, Less};
    let a = &args;
    Ok(match lower {
        "true" | "false" | "null" => {
            arity(name, a, 0, 0)?;
            match lower {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => Value::Null,
            }
        }
        "concat" => {
            if a.iter().all(Value::is_array) && !a.is_empty() {
                Value::Array(a.iter().flat_map(|v| v.as_array().cloned().unwrap_or_default()).collect())
            } else {
                Value::String(a.iter().map(as_text).collect())
            }
        }
        "format" => {
            arity(name, a, 1, usize::MAX)?;
            Value::String(composite(name, text(name, &a[0])?, &a[1..])?)
        }
        "tolower" | "toupper" | "trim" => {
            arity(name, a, 1, 1)?;
            let s = text(name, &a[0])?;
            Value::String(match lower {
                "tolower" => s.to_lowercase(),
                "toupper" => s.to_uppercase(),
                _ => s.trim().to_string(),
            })
        }
        "replace" => {
            arity(name, a, 3, 3)?;
            Value::String(text(name, &a[0])?.replace(text(name, &a[1])?, text(name, &a[2])?))
        }
        "split" => {
            arity(name, a, 2, 2)?;
            let s = text(name, &a[0])?;
            let delimiters: Vec<String> = match &a[1] {
                Value::Array(items) => items.iter().map(as_text).collect(),
                other => vec![text(name, other)?.to_string()],
            };
            let mut parts = vec![s.to_string()];
            for delimiter in delimiters.iter().filter(|d| !d.is_empty()) {
                parts = parts
                    .iter()
                    .flat_map(|p| p.split(delimiter.as_str()).map(str::to_string).collect::<Vec<_>>())
                    .collect();
            }
            Value::Array(parts.into_iter().map(Value::String).collect())
        }
        "substring" => {
            arity(name, a, 2, 3)?;
            let chars: Vec<char> = text(name, &a[0])?.chars().collect();
            let start = integer(name, &a[1])?;
            let length = match a.get(2) {
                Some(l) => integer(name, l)?,
                None => chars.len() as i64 - start,
            };
            if start < 0 || length < 0 || (start + length) as usize > chars.len() {
                return fail(format!(
                    "The index and length parameters must refer to a location within the string: index '{start}', length '{length}'."
                ));
            }
            Value::String(chars[start as usize..(start + length) as usize].iter().collect())
        }
        "startswith" | "endswith" => {
            arity(name, a, 2, 2)?;
            let (s, affix) = (text(name, &a[0])?.to_lowercase(), text(name, &a[1])?.to_lowercase());
            Value::Bool(if lower == "startswith" { s.starts_with(&affix) } else { s.ends_with(&affix) })
        }
        "contains" => {
            arity(name, a, 2, 2)?;
            Value::Bool(match &a[0] {
                Value::String(s) => s.contains(text(name, &a[1])?),
                Value::Array(items) => items.contains(&a[1]),
                Value::Object(o) => o.keys().any(|k| k.eq_ignore_ascii_case(&as_text(&a[1]))),
                other => return fail(format!("The template function 'contains' cannot search {}.", kind(other))),
            })
        }
        "indexof" | "lastindexof" => {
            arity(name, a, 2, 2)?;
            let found = match &a[0] {
                Value::String(s) => {
                    let (s, needle) = (s.to_lowercase(), text(name, &a[1])?.to_lowercase());
                    let at = if lower == "indexof" { s.find(&needle) } else { s.rfind(&needle) };
                    at.map(|byte| s[..byte].chars().count())
                }
                Value::Array(items) if lower == "indexof" => items.iter().position(|i| i == &a[1]),
                Value::Array(items) => items.iter().rposition(|i| i == &a[1]),
                other => return fail(format!("The template function '{name}' cannot search {}.", kind(other))),
            };
            Value::from(found.map_or(-1, |i| i as i64))
        }
        "length" => {
            arity(name, a, 1, 1)?;
            Value::from(match &a[0] {
                Value::String(s) => s.chars().count(),
                Value::Array(items) => items.len(),
                Value::Object(o) => o.len(),
                other => return fail(format!("The template function 'length' cannot measure {}.", kind(other))),
            })
        }
        "empty" => {
            arity(name, a, 1, 1)?;
            Value::Bool(match &a[0] {
                Value::Null => true,
                Value::String(s) => s.is_empty(),
                Value::Array(items) => items.is_empty(),
                Value::Object(o) => o.is_empty(),
                _ => false,
            })
        }
        "first" | "last" => {
            arity(name, a, 1, 1)?;
            match &a[0] {
                Value::String(s) => {
                    let c = if lower == "first" { s.chars().next() } else { s.chars().last() };
                    Value::String(c.map(String::from).unwrap_or_default())
                }
                Value::Array(items) => {
                    (if lower == "first" { items.first() } else { items.last() }).cloned().unwrap_or(Value::Null)
                }
                other => {
                    return fail(format!(
                        "The template function '{name}' expects a string or an array, not {}.",
                        kind(other)
                    ))
                }
            }
        }
        "take" | "skip" => {
            arity(name, a, 2, 2)?;
            let n = integer(name, &a[1])?.max(0) as usize;
            match &a[0] {
                Value::String(s) => Value::String(if lower == "take" {
                    s.chars().take(n).collect()
                } else {
                    s.chars().skip(n).collect()
                }),
                Value::Array(items) => Value::Array(if lower == "take" {
                    items.iter().take(n).cloned().collect()
                } else {
                    items.iter().skip(n).cloned().collect()
                }),
                other => {
                    return fail(format!(
                        "The template function '{name}' expects a string or an array, not {}.",
                        kind(other)
                    ))
                }
            }
        }
        "union" => match a.first() {
            Some(Value::Object(_)) => {
                let mut merged = Map::new();
                for object in a {
                    let Value::Object(o) = object else {
                        return fail("The template function 'union' mixes objects with other values.");
                    };
                    merged.extend(o.clone());
                }
                Value::Object(merged)
            }
            _ => {
                let mut items: Vec<Value> = Vec::new();
                for array in a {
                    let Value::Array(values) = array else {
                        return fail("The template function 'union' mixes arrays with other values.");
                    };
                    for v in values {
                        if !items.contains(v) {
                            items.push(v.clone());
                        }
                    }
                }
                Value::Array(items)
            }
        },
        "intersection" => match a.first() {
            Some(Value::Object(first)) => Value::Object(
                first
                    .iter()
                    .filter(|(k, v)| a[1..].iter().all(|o| o.get(k.as_str()) == Some(v)))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
            Some(Value::Array(first)) => Value::Array(
                first
                    .iter()
                    .filter(|v| a[1..].iter().all(|other| other.as_array().is_some_and(|o| o.contains(v))))
                    .cloned()
                    .collect(),
            ),
            _ => return fail("The template function 'intersection' takes arrays or objects."),
        },
        "createarray" => Value::Array(args),
        "createobject" => {
            if !a.len().is_multiple_of(2) {
                return fail("The template function 'createObject' takes pairs of keys and values.");
            }
            let mut object = Map::new();
            for pair in a.chunks(2) {
                object.insert(text(name, &pair[0])?.to_string(), pair[1].clone());
            }
            Value::Object(object)
        }
        "array" => {
            arity(name, a, 1, 1)?;
            match &a[0] {
                Value::Array(_) => a[0].clone(),
                other => Value::Array(vec![other.clone()]),
            }
        }
        "json" => {
            arity(name, a, 1, 1)?;
            serde_json::from_str(text(name, &a[0])?)
                .map_err(|e| EvalError(format!("The template function 'json' could not parse its argument: {e}.")))?
        }
        "string" => {
            arity(name, a, 1, 1)?;
            Value::String(as_text(&a[0]))
        }
        "int" => {
            arity(name, a, 1, 1)?;
            match &a[0] {
                Value::Number(_) => a[0].clone(),
                Value::String(s) => {
                    Value::from(s.trim().parse::<i64>().map_err(|_| EvalError(format!("'{s}' is not an integer.")))?)
                }
                other => return fail(format!("The template function 'int' cannot convert {}.", kind(other))),
            }
        }
        "bool" => {
            arity(name, a, 1, 1)?;
            match &a[0] {
                Value::Bool(_) => a[0].clone(),
                Value::String(s) if s.eq_ignore_ascii_case("true") => Value::Bool(true),
                Value::String(s) if s.eq_ignore_ascii_case("false") => Value::Bool(false),
                Value::Number(n) => Value::Bool(n.as_i64() != Some(0)),
                other => return fail(format!("The template function 'bool' cannot convert {}.", kind(other))),
            }
        }
        "equals" => {
            arity(name, a, 2, 2)?;
            Value::Bool(a[0] == a[1])
        }
        "not" => {
            arity(name, a, 1, 1)?;
            Value::Bool(!boolean(name, &a[0])?)
        }
        "and" | "or" => {
            arity(name, a, 2, usize::MAX)?;
            let values = a.iter().map(|v| boolean(name, v)).collect::<Result<Vec<_>, _>>()?;
            Value::Bool(if lower == "and" { values.iter().all(|b| *b) } else { values.iter().any(|b| *b) })
        }
        "coalesce" => a.iter().find(|v| !v.is_null()).cloned().unwrap_or(Value::Null),
        "greater" | "greaterorequals" | "less" | "lessorequals" => {
            arity(name, a, 2, 2)?;
            let order = compare(name, &a[0], &a[1])?;
            Value::Bool(match lower {
                "greater" => order == Greater,
                "greaterorequals" => order != Less,
                "less" => order == Less,
                _ => order != Greater,
            })
        }
        "add" | "sub" | "mul" | "div" | "mod" => {
            arity(name, a, 2, 2)?;
            let (x, y) = (integer(name, &a[0])?, integer(name, &a[1])?);
            if matches!(lower, "div" | "mod") && y == 0 {
                return fail(format!("The template function '{name}' cannot divide by zero."));
            }
            let result = match lower {
                "add" => x.checked_add(y),
                "sub" => x.checked_sub(y),
                "mul" => x.checked_mul(y),
                "div" => x.checked_div(y),
                _ => x.checked_rem(y),
            };
            Value::from(result.ok_or_else(|| EvalError(format!("The template function '{name}' overflowed.")))?)
        }
        "min" | "max" => {
            let numbers: Vec<i64> = match a.as_slice() {
                [Value::Array(items)] => items.iter().map(|v| integer(name, v)).collect::<Result<_, _>>()?,
                _ => a.iter().map(|v| integer(name, v)).collect::<Result<_, _>>()?,
            };
            let found = if lower == "min" { numbers.iter().min() } else { numbers.iter().max() };
            Value::from(
                *found
                    .ok_or_else(|| EvalError(format!("The template function '{name}' needs at least one integer.")))?,
            )
        }
        "range" => {
            arity(name, a, 2, 2)?;
            let (start, count) = (integer(name, &a[0])?, integer(name, &a[1])?);
            if !(0..=10_000).contains(&count) {
                return fail("The template function 'range' takes a count from 0 to 10000.");
            }
            Value::Array((start..start + count).map(Value::from).collect())
        }
        "base64" | "base64tostring" => {
            use base64::Engine;
            arity(name, a, 1, 1)?;
            let engine = base64::engine::general_purpose::STANDARD;
            let s = text(name, &a[0])?;
            Value::String(if lower == "base64" {
                engine.encode(s)
            } else {
                let bytes = engine.decode(s).map_err(|_| EvalError(format!("'{s}' is not base64.")))?;
                String::from_utf8(bytes).map_err(|_| EvalError("The decoded text is not UTF-8.".into()))?
            })
        }
        "padleft" => {
            arity(name, a, 2, 3)?;
            let s = as_text(&a[0]);
            let width = integer(name, &a[1])?.max(0) as usize;
            let pad = match a.get(2) {
                Some(p) => text(name, p)?.chars().next().unwrap_or(' '),
                None => ' ',
            };
            let missing = width.saturating_sub(s.chars().count());
            Value::String(std::iter::repeat_n(pad, missing).chain(s.chars()).collect())
        }
        "uri" => {
            // RFC 3986 resolution, as .NET's `Uri` combines them.
            arity(name, a, 2, 2)?;
            let (base, relative) = (text(name, &a[0])?, text(name, &a[1])?);
            let base = url::Url::parse(base).map_err(|_| EvalError(format!("'{base}' is not an absolute URI.")))?;
            let joined = base.join(relative).map_err(|_| EvalError(format!("'{relative}' is not a relative URI.")))?;
            Value::String(joined.to_string())
        }
        "uricomponent" => {
            arity(name, a, 1, 1)?;
            let s = text(name, &a[0])?;
            Value::String(percent_encoding::utf8_percent_encode(s, URI_COMPONENT).to_string())
        }
        "uricomponenttostring" => {
            arity(name, a, 1, 1)?;
            let s = text(name, &a[0])?;
            let decoded = percent_encoding::percent_decode_str(s).decode_utf8();
            Value::String(decoded.map_err(|_| EvalError("The decoded text is not UTF-8.".into()))?.into_owned())
        }
        "uniquestring" | "guid" => {
            arity(name, a, 1, usize::MAX)?;
            let parts = a.iter().map(|v| text(name, v)).collect::<Result<Vec<_>, _>>()?;
            Value::String(if lower == "guid" {
                super::hashes::guid(&parts)
            } else {
                super::hashes::unique_string(&parts)
            })
        }
        _ => return fail(format!("The template function '{name}' is not valid.")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::templates::evaluate::{evaluate, NoScope};
    use crate::templates::expression::parse;
    use serde_json::json;

    fn eval(text: &str) -> Value {
        evaluate(&parse(text).unwrap(), &NoScope).unwrap()
    }

    fn error(text: &str) -> String {
        evaluate(&parse(text).unwrap(), &NoScope).unwrap_err().0
    }

    #[test]
    fn strings() {
        assert_eq!(eval("concat('vm-', string(3), '-', toLower('WEB'))"), json!("vm-3-web"));
        assert_eq!(eval("format('{0}-{1}-{{x}}', 'a', 2)"), json!("a-2-{x}"));
        assert_eq!(eval("substring('azemu', 1, 3)"), json!("zem"));
        assert_eq!(eval("split('a,b;c', createArray(',', ';'))"), json!(["a", "b", "c"]));
        assert_eq!(eval("replace('a-b-c', '-', '')"), json!("abc"));
        assert_eq!(eval("padLeft('7', 3, '0')"), json!("007"));
        assert_eq!(eval("startsWith('Microsoft.Compute', 'microsoft')"), json!(true));
        assert_eq!(eval("indexOf('abcabc', 'C')"), json!(2));
        assert_eq!(eval("base64ToString(base64('azemu'))"), json!("azemu"));
        assert_eq!(eval("string(true())"), json!("True"));
        assert_eq!(eval("uniqueString('hello', 'world')"), json!("a7wkljktk6wne"));
        assert_eq!(eval("guid('a', 'b', 'c')"), json!("a98fa280-e03f-5afa-8d8e-92d0a9c201e8"));
        assert_eq!(eval("string(createObject('a', 1))"), json!("{\"a\":1}"));
        assert_eq!(
            eval("uri('http://contoso.com/resources/', 'nested/azuredeploy.json')"),
            json!("http://contoso.com/resources/nested/azuredeploy.json")
        );
        assert_eq!(
            eval("uri('http://contoso.com/resources/azuredeploy.json', 'nested/x.json')"),
            json!("http://contoso.com/resources/nested/x.json")
        );
        assert_eq!(eval("uriComponent('a b/c?d')"), json!("a%20b%2Fc%3Fd"));
        assert_eq!(eval("uriComponentToString('a%20b%2Fc')"), json!("a b/c"));
    }

    #[test]
    fn arrays_and_objects() {
        assert_eq!(eval("concat(createArray(1, 2), createArray(3))"), json!([1, 2, 3]));
        assert_eq!(eval("union(createArray(1, 2), createArray(2, 3))"), json!([1, 2, 3]));
        assert_eq!(eval("union(createObject('a', 1), createObject('b', 2, 'a', 3))"), json!({"a": 3, "b": 2}));
        assert_eq!(eval("intersection(createArray(1, 2, 3), createArray(3, 2))"), json!([2, 3]));
        assert_eq!(eval("take(skip(range(1, 5), 1), 2)"), json!([2, 3]));
        assert_eq!(eval("length(json('{\"a\":[1,2]}').a)"), json!(2));
        assert_eq!(eval("first(createArray())"), Value::Null);
        assert_eq!(eval("contains(createObject('Key', 1), 'key')"), json!(true));
        assert_eq!(eval("max(createArray(3, 9, 4))"), json!(9));
    }

    #[test]
    fn logic_and_numbers() {
        assert_eq!(eval("if(equals(1, 1), 'yes', 'no')"), json!("yes"));
        assert_eq!(
            eval("if(false(), json('not json'), 'the other branch is never evaluated')"),
            json!("the other branch is never evaluated")
        );
        assert_eq!(eval("and(true(), or(false(), not(false())))"), json!(true));
        assert_eq!(eval("coalesce(null(), null(), 'x')"), json!("x"));
        assert_eq!(eval("add(mul(3, 4), mod(7, 3))"), json!(13));
        assert_eq!(eval("greaterOrEquals('b', 'a')"), json!(true));
        assert_eq!(eval("int('42')"), json!(42));
        assert_eq!(eval("bool('True')"), json!(true));
        assert_eq!(eval("empty('')"), json!(true));
    }

    #[test]
    fn errors_name_the_function() {
        assert!(error("div(1, 0)").contains("divide by zero"));
        assert!(error("nosuch(1)").contains("'nosuch' is not valid"));
        assert!(error("substring('ab', 1, 5)").contains("within the string"));
        assert!(error("toLower(1)").contains("expects a string"));
        assert!(error("createObject('a')").contains("pairs of keys and values"));
    }
}
