//! libpq `key=value` connection strings, as in `primary_conninfo` and PgBouncer's
//! `[databases]`: read, change a key, write back.

/// The pairs of a connection string, in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Conninfo(pub Vec<(String, String)>);

impl Conninfo {
    /// Parse `host=db1 port=5432 password='it''s'` (values may be single-quoted with `\'` and
    /// `\\` escapes). An unterminated quote or a key without `=` is an error.
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut out = Vec::new();
        let mut chars = s.chars().peekable();
        loop {
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            if chars.peek().is_none() {
                break;
            }
            let mut key = String::new();
            while let Some(&c) = chars.peek() {
                if c == '=' || c.is_whitespace() {
                    break;
                }
                key.push(c);
                chars.next();
            }
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            if chars.next() != Some('=') {
                return Err(format!("'{key}' has no value (expected key=value)"));
            }
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            let mut value = String::new();
            if chars.peek() == Some(&'\'') {
                chars.next();
                let mut closed = false;
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => value.extend(chars.next()),
                        '\'' => {
                            closed = true;
                            break;
                        }
                        c => value.push(c),
                    }
                }
                if !closed {
                    return Err(format!("the value of '{key}' has no closing quote"));
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() {
                        break;
                    }
                    if c == '\\' {
                        chars.next();
                        value.extend(chars.next());
                        continue;
                    }
                    value.push(c);
                    chars.next();
                }
            }
            out.push((key, value));
        }
        Ok(Conninfo(out))
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// Set `key` (replacing its first occurrence, or appending).
    pub fn set(&mut self, key: &str, value: &str) {
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some(kv) => kv.1 = value.to_owned(),
            None => self.0.push((key.to_owned(), value.to_owned())),
        }
    }

    pub fn remove(&mut self, key: &str) {
        self.0.retain(|(k, _)| k != key);
    }
}

impl std::fmt::Display for Conninfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (k, v)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            let plain = !v.is_empty() && !v.chars().any(|c| c.is_whitespace() || c == '\'' || c == '\\');
            if plain {
                write!(f, "{k}={v}")?;
            } else {
                write!(f, "{k}='{}'", v.replace('\\', "\\\\").replace('\'', "\\'"))?;
            }
        }
        Ok(())
    }
}

/// `s` as an SQL string literal.
pub fn sql_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quotes_and_round_trips() {
        let c = Conninfo::parse("user=rep password='a b\\'c' host = 127.0.0.1 port=5433 sslmode=prefer").unwrap();
        assert_eq!(c.get("password"), Some("a b'c"));
        assert_eq!(c.get("host"), Some("127.0.0.1"));
        let back = Conninfo::parse(&c.to_string()).unwrap();
        assert_eq!(back, c);
        let mut c = c;
        c.set("port", "6000");
        c.set("application_name", "node1");
        assert!(c.to_string().contains("port=6000") && c.to_string().ends_with("application_name=node1"));
    }

    #[test]
    fn refuses_broken_strings() {
        assert!(Conninfo::parse("host='db1").is_err());
        assert!(Conninfo::parse("host").is_err());
        assert_eq!(Conninfo::parse("  ").unwrap(), Conninfo::default());
        assert_eq!(sql_literal("it's"), "'it''s'");
    }
}
