//! GitHub Actions' filter patterns, the globs of `on.push.branches`, `tags` and `paths`.
//!
//! The dialect is GitHub's, not the shell's: `*` stops at `/`, `**` does not, `?` and `+`
//! repeat the character before them (zero or one, one or more), `[]` holds letters, digits
//! and ranges, `\` escapes, and a leading `!` negates. Glob libraries have no `?`/`+`
//! quantifiers, so a pattern becomes an anchored regex instead.

use std::fmt;
use std::ops::Range;

use regex::{Regex, RegexBuilder};

/// Compiled regexes past this size are refused; no real branch or path pattern comes close.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// One entry of an `on.push` filter: a GitHub Actions glob, negated by a leading `!`.
#[derive(Debug, Clone)]
pub struct FilterPattern {
    text: String,
    negated: bool,
    regex: Regex,
}

/// Why a pattern is not a filter pattern, and which bytes of it are at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FilterPatternError {
    /// Lowercase fragment: "the `[` at byte 3 is never closed".
    pub message: String,
    /// Bytes of the pattern as written (with its `!`).
    pub range: Range<usize>,
    /// What to write instead.
    pub hint: Option<String>,
}

impl FilterPattern {
    /// Parses a pattern as written in the file (`main`, `'!docs/**'`, `v[0-9]+.*`).
    pub fn new(text: &str) -> Result<Self, FilterPatternError> {
        let (negated, glob) = match text.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        if text.is_empty() {
            return Err(error(0..0, "the pattern is empty", None));
        }
        if glob.is_empty() {
            return Err(error(
                0..1,
                "`!` alone negates nothing",
                Some("write the pattern to exclude after the `!`, like `!docs/**`".to_owned()),
            ));
        }
        let offset = usize::from(negated);
        let body = to_regex(glob).map_err(|mut error| {
            error.range = error.range.start + offset..error.range.end + offset;
            error
        })?;
        let regex = RegexBuilder::new(&format!("^(?s:{body})$"))
            .size_limit(REGEX_SIZE_LIMIT)
            .build()
            .map_err(|_| error(0..text.len(), "the pattern is too complex", None))?;
        Ok(Self {
            text: text.to_owned(),
            negated,
            regex,
        })
    }

    /// The pattern as written, with its `!`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the pattern starts with `!`: a match excludes instead of includes.
    pub fn is_negated(&self) -> bool {
        self.negated
    }

    /// Whether `name` (a branch, a tag, or a `/`-separated path) matches, leaving `!` aside.
    pub fn matches(&self, name: &str) -> bool {
        self.regex.is_match(name)
    }
}

impl PartialEq for FilterPattern {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for FilterPattern {}

impl fmt::Display for FilterPattern {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.text)
    }
}

/// What came just before, which decides whether a `?` or `+` has something to repeat.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Previous {
    Nothing,
    /// A character or a `[...]` set: `?` and `+` may follow.
    Repeatable,
    /// `*`, `**` or a `?`/`+` already.
    Unrepeatable,
}

/// Translates a glob (without its `!`) into the body of a regex; error ranges are bytes of
/// `glob`.
pub(crate) fn to_regex(glob: &str) -> Result<String, FilterPatternError> {
    let mut regex = String::with_capacity(glob.len() * 2);
    let mut previous = Previous::Nothing;
    let mut characters = glob.char_indices().peekable();
    while let Some((at, character)) = characters.next() {
        match character {
            '*' => {
                if characters.next_if(|&(_, next)| next == '*').is_some() {
                    // `**/` may also match nothing, so that `**/*.md` finds `README.md`.
                    if characters.next_if(|&(_, next)| next == '/').is_some() {
                        regex.push_str("(?:.+/)?");
                    } else {
                        regex.push_str(".*");
                    }
                } else {
                    regex.push_str("[^/]*");
                }
                previous = Previous::Unrepeatable;
            }
            '?' | '+' => {
                if previous != Previous::Repeatable {
                    let message = match previous {
                        Previous::Nothing => {
                            format!("`{character}` has no character before it to repeat")
                        }
                        _ => format!(
                            "`{character}` follows a wildcard or a repetition, which it cannot repeat"
                        ),
                    };
                    return Err(error(
                        at..at + 1,
                        message,
                        Some(format!(
                            "write `\\{character}` to match a literal `{character}`"
                        )),
                    ));
                }
                regex.push(character);
                previous = Previous::Unrepeatable;
            }
            '[' => {
                let end = character_set(glob, at, &mut regex)?;
                while characters.next_if(|&(next_at, _)| next_at <= end).is_some() {}
                previous = Previous::Repeatable;
            }
            '\\' => {
                let Some((_, escaped)) = characters.next() else {
                    return Err(error(
                        at..at + 1,
                        "the pattern ends with a lone `\\`",
                        Some("write `\\\\` to match a literal backslash".to_owned()),
                    ));
                };
                push_literal(&mut regex, escaped);
                previous = Previous::Repeatable;
            }
            other => {
                push_literal(&mut regex, other);
                previous = Previous::Repeatable;
            }
        }
    }
    Ok(regex)
}

/// Translates the `[...]` set opening at byte `open` of `glob` into `regex`; returns the
/// byte index of its closing `]`.
fn character_set(glob: &str, open: usize, regex: &mut String) -> Result<usize, FilterPatternError> {
    let set_hint = || {
        Some("a `[...]` set holds letters, digits and ranges like `a-z`, `A-Z`, `0-9`".to_owned())
    };
    let Some(close) = glob[open + 1..].find(']').map(|index| open + 1 + index) else {
        return Err(error(
            open..glob.len(),
            "this `[` is never closed by a `]`",
            Some("write `\\[` to match a literal `[`".to_owned()),
        ));
    };
    let inside: Vec<(usize, char)> = glob[open + 1..close]
        .char_indices()
        .map(|(index, character)| (open + 1 + index, character))
        .collect();
    if inside.is_empty() {
        return Err(error(open..close + 1, "the set `[]` is empty", set_hint()));
    }
    regex.push('[');
    let mut index = 0;
    while let Some(&(at, first)) = inside.get(index) {
        let range_end = match (inside.get(index + 1), inside.get(index + 2)) {
            (Some((_, '-')), Some(&(_, last))) => Some(last),
            _ => None,
        };
        if let Some(last) = range_end {
            let end = at + first.len_utf8() + 1 + last.len_utf8();
            let same_kind = [
                char::is_ascii_lowercase,
                char::is_ascii_uppercase,
                char::is_ascii_digit,
            ]
            .iter()
            .any(|kind| kind(&first) && kind(&last));
            if !same_kind || first > last {
                return Err(error(
                    at..end,
                    format!("`{first}-{last}` is not a range GitHub accepts"),
                    Some(
                        "a range runs upwards within `a-z`, `A-Z` or `0-9`, like `0-9` or `a-f`"
                            .to_owned(),
                    ),
                ));
            }
            regex.push(first);
            regex.push('-');
            regex.push(last);
            index += 3;
        } else if first.is_ascii_alphanumeric() {
            regex.push(first);
            index += 1;
        } else {
            return Err(error(
                at..at + first.len_utf8(),
                format!("`{first}` cannot stand in a `[...]` set"),
                set_hint(),
            ));
        }
    }
    regex.push(']');
    Ok(close)
}

fn push_literal(regex: &mut String, character: char) {
    let mut buffer = [0; 4];
    regex.push_str(&regex::escape(character.encode_utf8(&mut buffer)));
}

fn error(
    range: Range<usize>,
    message: impl Into<String>,
    hint: Option<String>,
) -> FilterPatternError {
    FilterPatternError {
        message: message.into(),
        range,
        hint,
    }
}

#[cfg(test)]
mod tests;
