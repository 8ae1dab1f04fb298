//! ARM template expressions: the language inside `"[…]"`. A string value is an expression when
//! it starts with `[` and ends with `]`; `[[` at the start escapes a literal `[`.
//!
//! ```text
//! expression := primary ( "." name | "[" expression "]" )*
//! primary    := 'string' | integer | name ( "." name )? "(" ( expression ( "," expression )* )? ")"
//! ```
//! Strings are single-quoted, a quote doubled inside them; integers may be negative; a name with
//! a dot before its parentheses calls a user-defined function (`namespace.function(…)`).

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    String(String),
    Int(i64),
    /// A function call; `name` as written (functions are matched case-insensitively).
    Call {
        name: String,
        args: Vec<Expr>,
    },
    /// `.name` on a value.
    Member(Box<Expr>, String),
    /// `[index]` on a value.
    Index(Box<Expr>, Box<Expr>),
}

/// Where and why an expression does not parse; `position` counts characters from the start of
/// the expression (after its opening bracket).
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    pub position: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at position {}", self.message, self.position)
    }
}

/// What a template string holds.
#[derive(Debug, Clone, PartialEq)]
pub enum TemplateString {
    /// A plain string (a leading `[[` already unescaped to `[`).
    Literal(String),
    Expression(Expr),
}

/// Reads a string value of a template.
pub fn template_string(value: &str) -> Result<TemplateString, ParseError> {
    if let Some(rest) = value.strip_prefix("[[") {
        return Ok(TemplateString::Literal(format!("[{rest}")));
    }
    match value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
        Some(inner) => parse(inner).map(TemplateString::Expression),
        None => Ok(TemplateString::Literal(value.to_string())),
    }
}

/// Parses an expression (without its brackets).
pub fn parse(text: &str) -> Result<Expr, ParseError> {
    let mut parser = Parser { chars: text.chars().collect(), at: 0 };
    let expr = parser.expression()?;
    parser.skip_spaces();
    if parser.at < parser.chars.len() {
        return Err(parser.error(format!("unexpected '{}'", parser.chars[parser.at])));
    }
    Ok(expr)
}

struct Parser {
    chars: Vec<char>,
    at: usize,
}

impl Parser {
    fn error(&self, message: impl Into<String>) -> ParseError {
        ParseError { position: self.at, message: message.into() }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_spaces();
        if self.peek() == Some(c) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char) -> Result<(), ParseError> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.error(match self.peek() {
                Some(found) => format!("expected '{c}', found '{found}'"),
                None => format!("expected '{c}', found the end of the expression"),
            }))
        }
    }

    fn expression(&mut self) -> Result<Expr, ParseError> {
        let mut expr = self.primary()?;
        loop {
            if self.eat('.') {
                expr = Expr::Member(Box::new(expr), self.name()?);
            } else if self.eat('[') {
                let index = self.expression()?;
                self.expect(']')?;
                expr = Expr::Index(Box::new(expr), Box::new(index));
            } else {
                return Ok(expr);
            }
        }
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        self.skip_spaces();
        match self.peek() {
            Some('\'') => self.string(),
            Some(c) if c.is_ascii_digit() || c == '-' => self.integer(),
            Some(c) if c.is_alphabetic() || c == '_' => self.call(),
            Some(c) => Err(self.error(format!("unexpected '{c}'"))),
            None => Err(self.error("an expression was expected")),
        }
    }

    fn name(&mut self) -> Result<String, ParseError> {
        self.skip_spaces();
        let start = self.at;
        while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            self.at += 1;
        }
        if start == self.at {
            return Err(self.error("a name was expected"));
        }
        Ok(self.chars[start..self.at].iter().collect())
    }

    fn call(&mut self) -> Result<Expr, ParseError> {
        let mut name = self.name()?;
        // `namespace.function(…)`: a dot between two names directly followed by a call.
        let before_dot = self.at;
        if self.peek() == Some('.') {
            self.at += 1;
            match self.name() {
                Ok(member) if self.peek_after_spaces() == Some('(') => name = format!("{name}.{member}"),
                _ => self.at = before_dot,
            }
        }
        self.expect('(')?;
        let mut args = Vec::new();
        if !self.eat(')') {
            loop {
                args.push(self.expression()?);
                if self.eat(')') {
                    break;
                }
                if !self.eat(',') {
                    return Err(self.error(match self.peek() {
                        Some(found) => format!("expected ',' or ')', found '{found}'"),
                        None => "expected ',' or ')', found the end of the expression".into(),
                    }));
                }
            }
        }
        Ok(Expr::Call { name, args })
    }

    fn peek_after_spaces(&mut self) -> Option<char> {
        self.skip_spaces();
        self.peek()
    }

    fn string(&mut self) -> Result<Expr, ParseError> {
        let start = self.at;
        self.at += 1;
        let mut text = String::new();
        loop {
            match self.peek() {
                None => return Err(ParseError { position: start, message: "a string is not closed".into() }),
                Some('\'') if self.chars.get(self.at + 1) == Some(&'\'') => {
                    text.push('\'');
                    self.at += 2;
                }
                Some('\'') => {
                    self.at += 1;
                    return Ok(Expr::String(text));
                }
                Some(c) => {
                    text.push(c);
                    self.at += 1;
                }
            }
        }
    }

    fn integer(&mut self) -> Result<Expr, ParseError> {
        let start = self.at;
        if self.peek() == Some('-') {
            self.at += 1;
        }
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.at += 1;
        }
        let digits: String = self.chars[start..self.at].iter().collect();
        digits
            .parse()
            .map(Expr::Int)
            .map_err(|_| ParseError { position: start, message: format!("'{digits}' is not an integer") })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, args: Vec<Expr>) -> Expr {
        Expr::Call { name: name.into(), args }
    }

    fn s(text: &str) -> Expr {
        Expr::String(text.into())
    }

    #[test]
    fn strings_are_literal_unless_bracketed() {
        assert_eq!(template_string("westus").unwrap(), TemplateString::Literal("westus".into()));
        assert_eq!(
            template_string("[[not an expression]").unwrap(),
            TemplateString::Literal("[not an expression]".into())
        );
        assert_eq!(
            template_string("[parameters('name')]").unwrap(),
            TemplateString::Expression(call("parameters", vec![s("name")]))
        );
    }

    #[test]
    fn calls_members_and_indexes_nest() {
        let parsed =
            parse("reference(resourceId('Microsoft.Network/publicIPAddresses', variables('ip'))).dnsSettings.fqdn")
                .unwrap();
        let inner = call(
            "reference",
            vec![call("resourceId", vec![s("Microsoft.Network/publicIPAddresses"), call("variables", vec![s("ip")])])],
        );
        assert_eq!(parsed, Expr::Member(Box::new(Expr::Member(Box::new(inner), "dnsSettings".into())), "fqdn".into()));
        assert_eq!(
            parse("parameters('zones')[copyIndex()]").unwrap(),
            Expr::Index(Box::new(call("parameters", vec![s("zones")])), Box::new(call("copyIndex", vec![])))
        );
        assert_eq!(parse(" add( 1 , -2 ) ").unwrap(), call("add", vec![Expr::Int(1), Expr::Int(-2)]));
        assert_eq!(parse("contoso.prefixed('a')").unwrap(), call("contoso.prefixed", vec![s("a")]));
        assert_eq!(
            parse("resourceGroup().location").unwrap(),
            Expr::Member(Box::new(call("resourceGroup", vec![])), "location".into())
        );
    }

    #[test]
    fn quotes_double_inside_strings() {
        assert_eq!(parse("concat('it''s', '')").unwrap(), call("concat", vec![s("it's"), s("")]));
    }

    #[test]
    fn errors_say_where() {
        assert_eq!(parse("concat('a', ").unwrap_err().position, 12);
        assert_eq!(parse("concat('a'").unwrap_err().message, "expected ',' or ')', found the end of the expression");
        assert_eq!(parse("concat('a' 'b')").unwrap_err().message, "expected ',' or ')', found '''");
        assert_eq!(parse("'open").unwrap_err(), ParseError { position: 0, message: "a string is not closed".into() });
        assert!(parse("concat('a') extra").unwrap_err().message.contains("unexpected 'e'"));
        assert!(parse("").is_err());
        assert!(parse("99999999999999999999").unwrap_err().message.contains("not an integer"));
    }
}
