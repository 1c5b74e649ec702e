//! Just enough EDN to read Jepsen operation maps: nil, booleans, integers, strings, keywords, symbols, vectors
//! (lists read as vectors), maps, commas as white space and `;` comments. Anything else is an error that
//! names its line.

use super::FormatError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Edn {
    Nil,
    Bool(bool),
    Int(i64),
    Str(String),
    /// Without the leading colon.
    Keyword(String),
    Symbol(String),
    Vector(Vec<Edn>),
    Map(Vec<(Edn, Edn)>),
}

impl Edn {
    /// The value under keyword `name` in a map.
    pub fn get(&self, name: &str) -> Option<&Edn> {
        let Edn::Map(entries) = self else { return None };
        entries.iter().find(|(key, _)| matches!(key, Edn::Keyword(k) if k == name)).map(|(_, value)| value)
    }
}

impl std::fmt::Display for Edn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Edn::Nil => write!(f, "nil"),
            Edn::Bool(b) => write!(f, "{b}"),
            Edn::Int(n) => write!(f, "{n}"),
            Edn::Str(s) => write!(f, "{s:?}"),
            Edn::Keyword(k) => write!(f, ":{k}"),
            Edn::Symbol(s) => write!(f, "{s}"),
            Edn::Vector(items) => {
                let items: Vec<String> = items.iter().map(Edn::to_string).collect();
                write!(f, "[{}]", items.join(" "))
            }
            Edn::Map(_) => write!(f, "{{…}}"),
        }
    }
}

/// Reads EDN values one after another from a text, tracking the line (1-based).
pub(super) struct Reader<'a> {
    text: &'a str,
    position: usize,
    line: usize,
}

impl<'a> Reader<'a> {
    pub fn new(text: &'a str, line: usize) -> Self {
        Reader { text, position: 0, line }
    }

    pub fn line(&self) -> usize {
        self.line
    }

    pub fn peek(&self) -> Option<char> {
        self.text[self.position..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.position += c.len_utf8();
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn error(&self, message: impl Into<String>) -> FormatError {
        FormatError { line: Some(self.line), message: message.into() }
    }

    /// Skips white space, commas and comments.
    pub fn skip_blank(&mut self) {
        while let Some(c) = self.peek() {
            if c == ';' {
                while self.peek().is_some_and(|c| c != '\n') {
                    self.bump();
                }
            } else if c.is_whitespace() || c == ',' {
                self.bump();
            } else {
                break;
            }
        }
    }

    /// Consumes `expected` (after blanks) if it comes next.
    pub fn eat(&mut self, expected: char) -> bool {
        self.skip_blank();
        if self.peek() == Some(expected) {
            self.bump();
            return true;
        }
        false
    }

    pub fn at_end(&mut self) -> bool {
        self.skip_blank();
        self.peek().is_none()
    }

    pub fn read(&mut self) -> Result<Edn, FormatError> {
        self.skip_blank();
        match self.peek() {
            None => Err(self.error("unexpected end of input")),
            Some('"') => self.read_string(),
            Some('[') => Ok(Edn::Vector(self.read_sequence('[', ']')?)),
            Some('(') => Ok(Edn::Vector(self.read_sequence('(', ')')?)),
            Some('{') => {
                let items = self.read_sequence('{', '}')?;
                if items.len() % 2 != 0 {
                    return Err(self.error("a map needs an even number of forms (key, value, key, value…)"));
                }
                let mut items = items.into_iter();
                let mut entries = Vec::new();
                while let (Some(key), Some(value)) = (items.next(), items.next()) {
                    entries.push((key, value));
                }
                Ok(Edn::Map(entries))
            }
            Some(c @ (']' | ')' | '}')) => Err(self.error(format!("unexpected `{c}`"))),
            Some('#') => Err(self.error("sets and tagged literals (`#…`) are not supported")),
            Some('\\') => Err(self.error("character literals are not supported")),
            Some(_) => self.read_atom(),
        }
    }

    fn read_sequence(&mut self, open: char, close: char) -> Result<Vec<Edn>, FormatError> {
        let start_line = self.line;
        let opened = self.bump();
        debug_assert_eq!(opened, Some(open));
        let mut items = Vec::new();
        loop {
            self.skip_blank();
            match self.peek() {
                None => {
                    return Err(FormatError {
                        line: Some(start_line),
                        message: format!("`{open}` is never closed with `{close}`"),
                    })
                }
                Some(c) if c == close => {
                    self.bump();
                    return Ok(items);
                }
                Some(_) => items.push(self.read()?),
            }
        }
    }

    fn read_string(&mut self) -> Result<Edn, FormatError> {
        let start_line = self.line;
        self.bump();
        let mut text = String::new();
        loop {
            match self.bump() {
                None => return Err(FormatError { line: Some(start_line), message: "a string is never closed".into() }),
                Some('"') => return Ok(Edn::Str(text)),
                Some('\\') => match self.bump() {
                    Some('n') => text.push('\n'),
                    Some('t') => text.push('\t'),
                    Some('r') => text.push('\r'),
                    Some(c @ ('"' | '\\')) => text.push(c),
                    other => {
                        return Err(self.error(format!("unsupported escape `\\{}` in a string", other.unwrap_or(' '))))
                    }
                },
                Some(c) => text.push(c),
            }
        }
    }

    fn read_atom(&mut self) -> Result<Edn, FormatError> {
        let start = self.position;
        while self.peek().is_some_and(|c| !(c.is_whitespace() || ",;\"()[]{}".contains(c))) {
            self.bump();
        }
        let token = &self.text[start..self.position];
        if let Some(name) = token.strip_prefix(':') {
            if name.is_empty() {
                return Err(self.error("a keyword needs a name after `:`"));
            }
            return Ok(Edn::Keyword(name.into()));
        }
        let unsigned = token.strip_prefix(['-', '+']).unwrap_or(token);
        if unsigned.starts_with(|c: char| c.is_ascii_digit()) {
            return token.parse().map(Edn::Int).map_err(|_| self.error(format!("`{token}` is not a supported number")));
        }
        Ok(match token {
            "nil" => Edn::Nil,
            "true" => Edn::Bool(true),
            "false" => Edn::Bool(false),
            _ => Edn::Symbol(token.into()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Edn, FormatError> {
        Reader::new(text, 1).read()
    }

    #[test]
    fn reads_an_operation_map() {
        let map = read(r#"{:process 0, :type :ok, :f :get, :key "k", :value "x \"y\""}"#).unwrap();
        assert_eq!(map.get("process"), Some(&Edn::Int(0)));
        assert_eq!(map.get("type"), Some(&Edn::Keyword("ok".into())));
        assert_eq!(map.get("value"), Some(&Edn::Str("x \"y\"".into())));
        assert_eq!(map.get("missing"), None);
        assert_eq!(read("[1 -4 nil]").unwrap(), Edn::Vector(vec![Edn::Int(1), Edn::Int(-4), Edn::Nil]));
    }

    #[test]
    fn errors_name_the_line() {
        let error = read("{:process 0\n :type}").unwrap_err();
        assert_eq!(error.line, Some(2));
        assert!(error.message.contains("even number"), "{error}");
        assert_eq!(read("\n\n[1 2").unwrap_err().line, Some(3));
        assert!(read("#{1}").unwrap_err().message.contains("not supported"));
        assert!(read("1.5").unwrap_err().message.contains("number"));
    }
}
