//! Lexing helpers shared by the signal expression and `depends_on` reference parsers.

use std::ops::Range;

/// A problem inside a short expression string, located by a byte range within it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExpressionError {
    pub(crate) message: String,
    pub(crate) label: String,
    pub(crate) hint: Option<String>,
    pub(crate) range: Range<usize>,
}

impl ExpressionError {
    pub(crate) fn new(range: Range<usize>, message: impl Into<String>, label: &str) -> Self {
        Self {
            message: message.into(),
            label: label.to_owned(),
            hint: None,
            range,
        }
    }

    pub(crate) fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// A byte position in an expression, with small lexing helpers.
pub(crate) struct Cursor<'a> {
    text: &'a str,
    position: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Self { text, position: 0 }
    }

    pub(crate) fn at_end(&self) -> bool {
        self.position >= self.text.len()
    }

    pub(crate) fn slice(&self, range: Range<usize>) -> &'a str {
        self.text.get(range).unwrap_or_default()
    }

    pub(crate) fn rest_range(&self) -> Range<usize> {
        self.position..self.text.len()
    }

    /// An empty range at the current position, widened to the next character if any.
    pub(crate) fn point(&self) -> Range<usize> {
        let width = self.peek().map_or(0, char::len_utf8);
        self.position..self.position + width
    }

    pub(crate) fn skip_to_end(&mut self) {
        self.position = self.text.len();
    }

    pub(crate) fn peek(&self) -> Option<char> {
        self.text.get(self.position..)?.chars().next()
    }

    pub(crate) fn eat(&mut self, expected: char) -> bool {
        if self.peek() == Some(expected) {
            self.position += expected.len_utf8();
            true
        } else {
            false
        }
    }

    pub(crate) fn expect(&mut self, expected: char, message: &str) -> Result<(), ExpressionError> {
        if self.eat(expected) {
            return Ok(());
        }
        let label = match self.peek() {
            Some(found) => format!("found `{found}`"),
            None => "the expression ends here".to_owned(),
        };
        Err(ExpressionError::new(self.point(), message, &label))
    }

    pub(crate) fn skip_whitespace(&mut self) {
        self.take_while(char::is_whitespace);
    }

    pub(crate) fn take_while(&mut self, mut keep: impl FnMut(char) -> bool) -> Range<usize> {
        let start = self.position;
        while let Some(character) = self.peek() {
            if !keep(character) {
                break;
            }
            self.position += character.len_utf8();
        }
        start..self.position
    }

    /// `[A-Za-z_][A-Za-z0-9_-]*`, or an empty range.
    pub(crate) fn identifier(&mut self) -> Range<usize> {
        if !self
            .peek()
            .is_some_and(|character| character.is_ascii_alphabetic() || character == '_')
        {
            return self.position..self.position;
        }
        self.take_while(|character| {
            character.is_ascii_alphanumeric() || character == '_' || character == '-'
        })
    }

    /// A `"…"` or `'…'` string; a backslash escapes the quote or itself and is kept otherwise
    /// (so `"\d+"` reaches the regex as `\d+`).
    pub(crate) fn string(&mut self, what: &str) -> Result<(String, Range<usize>), ExpressionError> {
        let start = self.position;
        let quote = match self.peek() {
            Some(quote @ ('"' | '\'')) => quote,
            _ => {
                return Err(ExpressionError::new(
                    self.point(),
                    format!("expected {what} in quotes"),
                    "expected a quoted string",
                )
                .with_hint(format!("put {what} in double quotes, like `\"ready\"`")));
            }
        };
        self.position += 1;
        let mut value = String::new();
        loop {
            let Some(character) = self.peek() else {
                return Err(ExpressionError::new(
                    start..self.text.len(),
                    format!("{what} has no closing `{quote}`"),
                    "unterminated string",
                ));
            };
            self.position += character.len_utf8();
            match character {
                '\\' => match self.peek() {
                    Some(escaped) if escaped == quote || escaped == '\\' => {
                        value.push(escaped);
                        self.position += escaped.len_utf8();
                    }
                    _ => value.push('\\'),
                },
                _ if character == quote => return Ok((value, start..self.position)),
                _ => value.push(character),
            }
        }
    }
}
