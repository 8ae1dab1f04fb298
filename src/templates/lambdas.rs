//! The functions that take a `lambda(…)`: `filter`, `map`, `reduce`, `sort` and `toObject`.
//! A lambda names its variables as strings and reads them with `lambdaVariables('name')`; its
//! body is evaluated once per element, with the enclosing scope still in reach.

use serde_json::{Map, Value};

use super::evaluate::{evaluate, fail, EvalError, Scope};
use super::expression::Expr;

/// The names of functions that take a lambda (lower-case).
pub const TAKING_LAMBDAS: [&str; 5] = ["filter", "map", "reduce", "sort", "toobject"];

struct Lambda<'a> {
    variables: Vec<String>,
    body: &'a Expr,
}

/// `lambda('a', 'b', body)`, as written (not evaluated).
fn lambda<'a>(function: &str, expr: &'a Expr, arity: usize) -> Result<Lambda<'a>, EvalError> {
    let Expr::Call { name, args } = expr else {
        return fail(format!("The template function '{function}' expects a lambda function."));
    };
    if !name.eq_ignore_ascii_case("lambda") || args.is_empty() {
        return fail(format!("The template function '{function}' expects a lambda function."));
    }
    let (names, body) = args.split_at(args.len() - 1);
    let variables = names
        .iter()
        .map(|n| match n {
            Expr::String(s) => Ok(s.clone()),
            _ => fail("A lambda's variables are named by strings."),
        })
        .collect::<Result<Vec<_>, _>>()?;
    if variables.len() != arity {
        return fail(format!("The lambda of '{function}' takes {arity} variables, not {}.", variables.len()));
    }
    Ok(Lambda { variables, body: &body[0] })
}

/// The enclosing scope with a lambda's variables bound.
struct Bound<'a> {
    names: &'a [String],
    values: Vec<Value>,
    outer: &'a dyn Scope,
}

impl Scope for Bound<'_> {
    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, EvalError>> {
        if name != "lambdavariables" {
            return self.outer.call(name, args);
        }
        let wanted = args.first().and_then(Value::as_str).unwrap_or_default();
        Some(match self.names.iter().position(|n| n == wanted) {
            Some(i) => Ok(self.values[i].clone()),
            None => match self.outer.call(name, args) {
                Some(found) => found,
                None => fail(format!("The lambda variable '{wanted}' is not defined.")),
            },
        })
    }
}

impl Lambda<'_> {
    fn apply(&self, values: Vec<Value>, outer: &dyn Scope) -> Result<Value, EvalError> {
        evaluate(self.body, &Bound { names: &self.variables, values, outer })
    }
}

fn items(function: &str, value: Value) -> Result<Vec<Value>, EvalError> {
    match value {
        Value::Array(items) => Ok(items),
        other => fail(format!("The template function '{function}' expects an array, not {other}.")),
    }
}

/// Calls one of [`TAKING_LAMBDAS`]; `args` are as written.
pub fn call(lower: &str, name: &str, args: &[Expr], scope: &dyn Scope) -> Result<Value, EvalError> {
    match (lower, args) {
        ("filter", [array, f]) => {
            let f = lambda(name, f, 1)?;
            let mut kept = Vec::new();
            for item in items(name, evaluate(array, scope)?)? {
                match f.apply(vec![item.clone()], scope)? {
                    Value::Bool(true) => kept.push(item),
                    Value::Bool(false) => {}
                    other => return fail(format!("The lambda of 'filter' must give a boolean, not {other}.")),
                }
            }
            Ok(Value::Array(kept))
        }
        ("map", [array, f]) => {
            let f = lambda(name, f, 1)?;
            let mapped = items(name, evaluate(array, scope)?)?
                .into_iter()
                .map(|item| f.apply(vec![item], scope))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Value::Array(mapped))
        }
        ("reduce", [array, initial, f]) => {
            let f = lambda(name, f, 2)?;
            let mut accumulated = evaluate(initial, scope)?;
            for item in items(name, evaluate(array, scope)?)? {
                accumulated = f.apply(vec![accumulated, item], scope)?;
            }
            Ok(accumulated)
        }
        ("sort", [array, f]) => {
            let f = lambda(name, f, 2)?;
            let mut sorted = items(name, evaluate(array, scope)?)?;
            // An insertion sort: the lambda may fail, and each comparison must be able to say so.
            for i in 1..sorted.len() {
                let mut j = i;
                while j > 0 {
                    let before = f.apply(vec![sorted[j].clone(), sorted[j - 1].clone()], scope)?;
                    if before != Value::Bool(true) {
                        break;
                    }
                    sorted.swap(j, j - 1);
                    j -= 1;
                }
            }
            Ok(Value::Array(sorted))
        }
        ("toobject", [array, key, rest @ ..]) if rest.len() <= 1 => {
            let key = lambda(name, key, 1)?;
            let value = rest.first().map(|v| lambda(name, v, 1)).transpose()?;
            let mut object = Map::new();
            for item in items(name, evaluate(array, scope)?)? {
                let Value::String(k) = key.apply(vec![item.clone()], scope)? else {
                    return fail("The key lambda of 'toObject' must give a string.");
                };
                let v = match &value {
                    Some(value) => value.apply(vec![item], scope)?,
                    None => item,
                };
                object.insert(k, v);
            }
            Ok(Value::Object(object))
        }
        _ => fail(format!("The template function '{name}' was given {} arguments.", args.len())),
    }
}

#[cfg(test)]
mod tests {
    use crate::templates::evaluate::{evaluate, NoScope};
    use crate::templates::expression::parse;
    use serde_json::json;

    fn eval(text: &str) -> serde_json::Value {
        evaluate(&parse(text).unwrap(), &NoScope).unwrap()
    }

    #[test]
    fn lambdas_filter_map_reduce_sort_and_build_objects() {
        assert_eq!(eval("filter(range(1, 5), lambda('n', greater(lambdaVariables('n'), 3)))"), json!([4, 5]));
        assert_eq!(eval("map(createArray('a', 'b'), lambda('s', toUpper(lambdaVariables('s'))))"), json!(["A", "B"]));
        assert_eq!(
            eval("reduce(range(1, 4), 0, lambda('sum', 'n', add(lambdaVariables('sum'), lambdaVariables('n'))))"),
            json!(10)
        );
        assert_eq!(
            eval("sort(createArray(3, 1, 2), lambda('a', 'b', less(lambdaVariables('a'), lambdaVariables('b'))))"),
            json!([1, 2, 3])
        );
        assert_eq!(
            eval("toObject(createArray('x', 'y'), lambda('k', lambdaVariables('k')), lambda('k', length(lambdaVariables('k'))))"),
            json!({"x": 1, "y": 1})
        );
        // Nested lambdas see the variables of those around them.
        assert_eq!(
            eval("map(range(1, 2), lambda('i', map(range(1, 2), lambda('j', mul(lambdaVariables('i'), lambdaVariables('j'))))))"),
            json!([[1, 2], [2, 4]])
        );
    }

    #[test]
    fn a_misused_lambda_says_so() {
        let error = |text: &str| evaluate(&parse(text).unwrap(), &NoScope).unwrap_err().0;
        assert!(error("filter(range(1, 2), 'x')").contains("expects a lambda"));
        assert!(error("map(range(1, 2), lambda('a', 'b', lambdaVariables('a')))").contains("takes 1 variables, not 2"));
        assert!(error("map(range(1, 2), lambda('a', lambdaVariables('z')))").contains("'z' is not defined"));
        assert!(error("filter('abc', lambda('c', true()))").contains("expects an array"));
    }
}
