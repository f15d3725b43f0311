//! An emulation of the small part of API Gateway's mapping-template language (VTL) the module's request
//! templates use, following API Gateway's *documented* behaviour rather than any emulator's:
//!
//! - `$input.body` (the raw body), `$input.params('name')` (a path, query string or header parameter);
//! - `$util.escapeJavaScript(s)`: "escapes the characters in a string using JavaScript string rules"; AWS
//!   documents that it turns `'` into `\'` (not valid JSON, hence the module's `.replaceAll("\\'","'")`).
//!   Implemented like Apache Commons Lang 2's `StringEscapeUtils.escapeJavaScript`, which API Gateway's
//!   behaviour matches: `'` `"` `\` `/` get a backslash, control characters become `\b \f \n \r \t` or
//!   `\u00XX`, and every character above U+007F becomes `\uXXXX` per UTF-16 unit (upper-case hex);
//! - `String.replaceAll(regex, replacement)` (Java semantics: the first argument is a regular expression;
//!   only literal characters and backslash-escaped literals are supported here);
//! - Velocity string literals, which take backslashes literally (`"\\'"` is the three characters `\\'`).
//!
//! LocalStack implements `escapeJavaScript` as `json.dumps`, so what it accepts says nothing about AWS;
//! this module is how the suite checks the templates against AWS's documented behaviour. Anything outside
//! this subset (directives, other references) is an error, never silently passed through.

use std::collections::HashMap;

/// What a template can reference.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub body: String,
    pub params: HashMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
enum Val {
    Input,
    Util,
    Str(String),
}

/// Evaluates `template` the way API Gateway would for a request with `context`.
pub fn evaluate(template: &str, context: &Context) -> Result<String, String> {
    let chars: Vec<char> = template.chars().collect();
    let mut parser = Parser {
        chars: &chars,
        pos: 0,
        context,
    };
    let mut out = String::new();
    while let Some(c) = parser.peek() {
        match c {
            '$' if parser
                .peek_at(1)
                .is_some_and(|n| n.is_ascii_alphabetic() || n == '{' || n == '!') =>
            {
                let value = parser.reference()?;
                match value {
                    Val::Str(s) => out.push_str(&s),
                    other => return Err(format!("{other:?} cannot be written out")),
                }
            }
            '#' if parser
                .peek_at(1)
                .is_some_and(|n| n.is_ascii_alphabetic() || n == '#' || n == '*' || n == '{') =>
            {
                return Err(format!(
                    "VTL directive or comment at character {}: not supported by this emulation",
                    parser.pos
                ));
            }
            _ => {
                out.push(c);
                parser.pos += 1;
            }
        }
    }
    Ok(out)
}

struct Parser<'a> {
    chars: &'a [char],
    pos: usize,
    context: &'a Context,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.pos + offset).copied()
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(format!(
                "expected {c:?} at character {}, found {:?}",
                self.pos,
                self.peek()
            ))
        }
    }

    fn identifier(&mut self) -> Result<String, String> {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            self.pos += 1;
        }
        if start == self.pos {
            return Err(format!("expected a name at character {start}"));
        }
        Ok(self.chars[start..self.pos].iter().collect())
    }

    /// `$name(.member | .method(args))*`
    fn reference(&mut self) -> Result<Val, String> {
        self.expect('$')?;
        if matches!(self.peek(), Some('{' | '!')) {
            return Err(format!(
                "formal or quiet reference at character {}: not supported by this emulation",
                self.pos
            ));
        }
        let root = self.identifier()?;
        let mut value = match root.as_str() {
            "input" => Val::Input,
            "util" => Val::Util,
            other => return Err(format!("unknown reference ${other}")),
        };
        while self.peek() == Some('.') && self.peek_at(1).is_some_and(|c| c.is_ascii_alphabetic()) {
            self.pos += 1;
            let member = self.identifier()?;
            if self.peek() == Some('(') {
                let args = self.arguments()?;
                value = call(&value, &member, &args, self.context)?;
            } else {
                value = property(&value, &member, self.context)?;
            }
        }
        Ok(value)
    }

    fn arguments(&mut self) -> Result<Vec<Val>, String> {
        self.expect('(')?;
        let mut args = Vec::new();
        loop {
            self.skip_spaces();
            match self.peek() {
                Some(')') => {
                    self.pos += 1;
                    return Ok(args);
                }
                Some('"' | '\'') => args.push(Val::Str(self.string_literal()?)),
                Some('$') => args.push(self.reference()?),
                other => return Err(format!("unexpected {other:?} in an argument list")),
            }
            self.skip_spaces();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some(')') => {}
                other => return Err(format!("expected ',' or ')', found {other:?}")),
            }
        }
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    /// A Velocity string literal: its text up to the closing quote, backslashes taken literally.
    fn string_literal(&mut self) -> Result<String, String> {
        let quote = self.peek().ok_or("expected a string literal")?;
        self.pos += 1;
        let start = self.pos;
        while self.peek().is_some_and(|c| c != quote) {
            self.pos += 1;
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        self.expect(quote)?;
        if quote == '"' && (text.contains('$') || text.contains('#')) {
            return Err(format!(
                "interpolated string literal {text:?}: not supported by this emulation"
            ));
        }
        Ok(text)
    }
}

fn property(value: &Val, name: &str, context: &Context) -> Result<Val, String> {
    match (value, name) {
        (Val::Input, "body") => Ok(Val::Str(context.body.clone())),
        _ => Err(format!("unknown property {name} of {value:?}")),
    }
}

fn call(value: &Val, name: &str, args: &[Val], context: &Context) -> Result<Val, String> {
    match (value, name, args) {
        (Val::Input, "params", [Val::Str(param)]) => Ok(Val::Str(
            context.params.get(param).cloned().unwrap_or_default(),
        )),
        (Val::Util, "escapeJavaScript", [Val::Str(s)]) => Ok(Val::Str(escape_javascript(s))),
        (Val::Str(s), "replaceAll", [Val::Str(regex), Val::Str(replacement)]) => {
            let pattern = literal_regex(regex)?;
            let replacement = literal_replacement(replacement)?;
            if pattern.is_empty() {
                return Err("replaceAll with an empty pattern".into());
            }
            Ok(Val::Str(s.replace(&pattern, &replacement)))
        }
        _ => Err(format!(
            "unsupported call {name}({args:?}) on {value:?} in this emulation"
        )),
    }
}

/// API Gateway's `$util.escapeJavaScript` (Commons Lang 2 `escapeJavaScript`).
pub fn escape_javascript(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7f => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{:04X}", unit));
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// A Java regular expression made only of literal characters and `\x` escapes of non-alphanumerics,
/// as the literal text it matches.
fn literal_regex(regex: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = regex.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e) if !e.is_ascii_alphanumeric() => out.push(e),
                other => {
                    return Err(format!(
                        "regex escape \\{other:?} in {regex:?}: not supported by this emulation"
                    ))
                }
            },
            '.' | '[' | ']' | '(' | ')' | '{' | '}' | '*' | '+' | '?' | '|' | '^' | '$' => {
                return Err(format!(
                    "regex metacharacter {c:?} in {regex:?}: not supported by this emulation"
                ))
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

/// A Java `replaceAll` replacement: `\x` is a literal x; `$n` group references are not supported.
fn literal_replacement(replacement: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = replacement.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(
                chars
                    .next()
                    .ok_or("a trailing backslash in a replacement")?,
            ),
            '$' => return Err("group references in a replacement: not supported".into()),
            c => out.push(c),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_body(body: &str) -> Context {
        Context {
            body: body.to_string(),
            params: HashMap::new(),
        }
    }

    #[test]
    fn escape_javascript_follows_javascript_string_rules() {
        assert_eq!(escape_javascript("bob's"), "bob\\'s");
        assert_eq!(escape_javascript(r#"a"b\c/d"#), r#"a\"b\\c\/d"#);
        assert_eq!(escape_javascript("\n\t\u{1}"), "\\n\\t\\u0001");
        assert_eq!(escape_javascript("é😀"), "\\u00E9\\uD83D\\uDE00");
    }

    #[test]
    fn velocity_literals_keep_backslashes_and_replace_all_is_a_regex() {
        let out = evaluate(
            r#"$util.escapeJavaScript($input.body).replaceAll("\\'","'")"#,
            &with_body("bob's"),
        )
        .expect("evaluated");
        assert_eq!(out, "bob's");
        let raw = evaluate("$util.escapeJavaScript($input.body)", &with_body("bob's"))
            .expect("evaluated");
        assert_eq!(raw, "bob\\'s");
    }

    #[test]
    fn params_and_plain_text() {
        let mut context = with_body("");
        context.params.insert("id".into(), "x'y".into());
        let out = evaluate(
            "{\"a\": \"p:$util.escapeJavaScript($input.params('id'))\", \"b\": \"$5 a.b\"}",
            &context,
        )
        .expect("evaluated");
        assert_eq!(out, "{\"a\": \"p:x\\'y\", \"b\": \"$5 a.b\"}");
    }

    #[test]
    fn anything_else_is_refused() {
        let context = with_body("x");
        assert!(evaluate("#set($a = 1)", &context).is_err());
        assert!(evaluate("$context.requestId", &context).is_err());
        assert!(evaluate("${input.body}", &context).is_err());
        assert!(evaluate("$input.body.replaceAll(\"a.\", \"b\")", &context).is_err());
    }
}
