//! Reading H-Sphere 2.2's Perl `OpenSRS.conf` as text, never executing it: scalar
//! assignments (`my`/`our`, either quote style, any indentation, with or without a
//! trailing comment) and the `%OPENSRS` hash. Everything else is reported, line by line.

use std::collections::BTreeMap;

use crate::opensrs::Secret;

/// A statement the reader did not use, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub line: usize,
    pub text: String,
    pub why: String,
}

/// What the file says.
#[derive(Debug, Default)]
pub struct LegacyConf {
    /// Scalars by name (`USERNAME`, `PRIVATE_KEY`, `TEST_SERVER`, ...), with their line.
    pub scalars: BTreeMap<String, (String, usize)>,
    /// `%OPENSRS` entries by key, with their line.
    pub opensrs: BTreeMap<String, (String, usize)>,
    /// Statements understood but not needed (other hashes, `use`, `1;`).
    pub ignored: Vec<Note>,
    /// Statements that could not be read.
    pub unreadable: Vec<Note>,
}

impl LegacyConf {
    pub fn scalar(&self, name: &str) -> Option<&str> {
        self.scalars.get(name).map(|(v, _)| v.as_str())
    }

    pub fn entry(&self, key: &str) -> Option<&str> {
        self.opensrs.get(key).map(|(v, _)| v.as_str())
    }

    pub fn private_key(&self) -> Option<Secret> {
        self.scalar("PRIVATE_KEY").map(Secret::new)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Scalar(String),
    Hash(String),
    Array(String),
    Word(String),
    Str(String),
    Punct(&'static str),
}

/// Splits the text into statements (at `;` outside quotes and brackets), dropping comments.
fn statements(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut start_line = 1;
    let mut line = 1;
    let mut quote: Option<char> = None;
    let mut depth = 0i32;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\n' {
            line += 1;
        }
        if c == '\r' {
            continue;
        }
        match quote {
            Some(q) => {
                current.push(c);
                if c == '\\' {
                    if let Some(next) = chars.next() {
                        if next == '\n' {
                            line += 1;
                        }
                        current.push(next);
                    }
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                '#' => {
                    for n in chars.by_ref() {
                        if n == '\n' {
                            line += 1;
                            current.push('\n');
                            break;
                        }
                    }
                }
                '"' | '\'' => {
                    quote = Some(c);
                    current.push(c);
                }
                '(' | '{' | '[' => {
                    depth += 1;
                    current.push(c);
                }
                ')' | '}' | ']' => {
                    depth -= 1;
                    current.push(c);
                }
                ';' if depth <= 0 => {
                    if !current.trim().is_empty() {
                        out.push((start_line, current.trim().to_string()));
                    }
                    current.clear();
                    depth = 0;
                }
                _ => {
                    if current.trim().is_empty() && !c.is_whitespace() {
                        start_line = line;
                        current.clear();
                    }
                    current.push(c);
                }
            },
        }
    }
    if !current.trim().is_empty() {
        out.push((start_line, current.trim().to_string()));
    }
    out
}

fn unescape(body: &str, double: bool) -> String {
    let mut out = String::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some(n @ ('\\' | '\'')) => out.push(n),
            Some(n) if double => out.push(match n {
                'n' => '\n',
                't' => '\t',
                other => other,
            }),
            Some(n) => {
                out.push('\\');
                out.push(n);
            }
            None => out.push('\\'),
        }
    }
    out
}

fn tokens(stmt: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = stmt.chars().collect();
    let mut i = 0;
    let word = |i: &mut usize| {
        let start = *i;
        while *i < chars.len()
            && (chars[*i].is_alphanumeric() || matches!(chars[*i], '_' | ':' | '.' | '-'))
        {
            *i += 1;
        }
        chars[start..*i].iter().collect::<String>()
    };
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '$' | '%' | '@' => {
                i += 1;
                let name = word(&mut i);
                if name.is_empty() {
                    return Err(format!("{c} without a name"));
                }
                out.push(match c {
                    '$' => Token::Scalar(name),
                    '%' => Token::Hash(name),
                    _ => Token::Array(name),
                });
            }
            '"' | '\'' => {
                let start = i + 1;
                let mut j = start;
                while j < chars.len() && chars[j] != c {
                    if chars[j] == '\\' {
                        j += 1;
                    }
                    j += 1;
                }
                if j >= chars.len() {
                    return Err("a quote is not closed".into());
                }
                let body: String = chars[start..j].iter().collect();
                if c == '"'
                    && body
                        .replace("\\$", "")
                        .replace("\\@", "")
                        .contains(['$', '@'])
                {
                    return Err(format!(
                        "\"{body}\" interpolates a variable, which is not evaluated"
                    ));
                }
                out.push(Token::Str(unescape(&body, c == '"')));
                i = j + 1;
            }
            '=' if chars.get(i + 1) == Some(&'>') => {
                out.push(Token::Punct("=>"));
                i += 2;
            }
            '=' | ',' | '(' | ')' | '{' | '}' => {
                out.push(Token::Punct(match c {
                    '=' => "=",
                    ',' => ",",
                    '(' => "(",
                    ')' => ")",
                    '{' => "{",
                    _ => "}",
                }));
                i += 1;
            }
            c if c.is_alphanumeric() || c == '_' || c == '-' => {
                out.push(Token::Word(word(&mut i)));
            }
            other => return Err(format!("unexpected {other:?}")),
        }
    }
    Ok(out)
}

/// A value: a string, a number or bareword, or a scalar assigned earlier.
fn value(t: &Token, conf: &LegacyConf) -> Result<String, String> {
    match t {
        Token::Str(s) | Token::Word(s) => Ok(s.clone()),
        Token::Scalar(name) => conf
            .scalar(name)
            .map(str::to_string)
            .ok_or_else(|| format!("${name} is used before it is set")),
        other => Err(format!("{other:?} is not a plain value")),
    }
}

fn hash_entries(body: &[Token], conf: &LegacyConf) -> Result<Vec<(String, String)>, String> {
    let mut entries = Vec::new();
    for item in body.split(|t| *t == Token::Punct(",")) {
        match item {
            [] => continue,
            [k, Token::Punct("=>"), v] => {
                let key = match k {
                    Token::Word(w) | Token::Str(w) => w.clone(),
                    other => return Err(format!("hash key {other:?} is not a name")),
                };
                entries.push((key, value(v, conf)?));
            }
            other => return Err(format!("cannot read the hash entry {other:?}")),
        }
    }
    Ok(entries)
}

fn excerpt(stmt: &str) -> String {
    let one_line = stmt.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 70 {
        format!("{}…", one_line.chars().take(70).collect::<String>())
    } else {
        one_line
    }
}

/// Reads the file's text. Never fails: what it cannot read is in `unreadable`.
pub fn parse(text: &str) -> LegacyConf {
    let mut conf = LegacyConf::default();
    for (line, stmt) in statements(text) {
        let note = |why: &str| Note {
            line,
            text: excerpt(&stmt),
            why: why.to_string(),
        };
        let toks = match tokens(&stmt) {
            Ok(t) => t,
            Err(why) => {
                conf.unreadable.push(note(&why));
                continue;
            }
        };
        let rest: &[Token] = match toks.first() {
            Some(Token::Word(w)) if matches!(w.as_str(), "my" | "our" | "local") => &toks[1..],
            _ => &toks[..],
        };
        match rest {
            [Token::Scalar(name), Token::Punct("="), v] => match value(v, &conf) {
                Ok(v) => {
                    conf.scalars.insert(name.clone(), (v, line));
                }
                Err(why) => conf.unreadable.push(note(&why)),
            },
            [Token::Hash(name), Token::Punct("="), Token::Punct("("), body @ .., Token::Punct(")")]
                if name == "OPENSRS" =>
            {
                match hash_entries(body, &conf) {
                    Ok(entries) => {
                        for (k, v) in entries {
                            conf.opensrs.insert(k, (v, line));
                        }
                    }
                    Err(why) => conf.unreadable.push(note(&why)),
                }
            }
            [Token::Hash(name) | Token::Array(name), Token::Punct("="), ..] => conf
                .ignored
                .push(note(&format!("{name} is not needed by domreg"))),
            [Token::Word(w), ..]
                if matches!(w.as_str(), "use" | "package" | "require" | "1" | "BEGIN") =>
            {
                conf.ignored.push(note("Perl housekeeping"))
            }
            [Token::Scalar(_), ..] => conf
                .unreadable
                .push(note("not a plain assignment of one value")),
            _ => conf
                .unreadable
                .push(note("not an assignment domreg understands")),
        }
    }
    conf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_ignore_semicolons_and_hashes_in_quotes_and_comments() {
        let s = statements(
            "my $A = \"x;y#z\"; # c; d\nmy $B = 'q\\'s';\r\n%H = (\n a => 'b', # note;\n);\n",
        );
        assert_eq!(s.len(), 3, "{s:?}");
        assert_eq!(s[0], (1, "my $A = \"x;y#z\"".to_string()));
        assert_eq!(s[2].0, 3);
        let c = parse("my $A = \"x;y#z\"; # c; d\nmy $B = 'q\\'s';\n");
        assert_eq!(c.scalar("A"), Some("x;y#z"));
        assert_eq!(c.scalar("B"), Some("q's"));
    }

    #[test]
    fn interpolation_and_broken_quotes_are_reported_not_guessed() {
        let c = parse("my $PATH = \"$HOME/lib\";\nmy $K = \"open;\n");
        assert!(c.scalar("PATH").is_none());
        assert_eq!(c.unreadable.len(), 2, "{:?}", c.unreadable);
        assert!(c.unreadable[0].why.contains("interpolates"));
        assert_eq!(c.unreadable[1].line, 2);
    }
}
