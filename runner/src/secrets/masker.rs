//! Replaces secret values with `***` in whatever pipekit-ci writes or prints.

use std::borrow::Cow;

use aho_corasick::{AhoCorasick, MatchKind};

use super::error::SecretError;

/// What a secret value becomes.
pub const MASK: &str = "***";

/// Values shorter than this (in characters) are refused: a short value also turns up in
/// ordinary output, so masking it would garble logs and, worse, show where it was. GitLab
/// asks as much of masked variables.
pub const MIN_SECRET_CHARS: usize = 8;

/// Finds every secret value in a text, longest first where two overlap, in one pass.
#[derive(Clone, Default)]
pub struct Masker {
    /// `None` when there is nothing to mask, so a run without secrets pays one branch per line.
    automaton: Option<AhoCorasick>,
    patterns: Vec<String>,
    longest: usize,
}

impl std::fmt::Debug for Masker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The patterns are the secrets themselves.
        f.debug_struct("Masker")
            .field("patterns", &self.patterns.len())
            .finish()
    }
}

impl Masker {
    /// A masker for `values`. A multi-line value is also masked line by line (output arrives
    /// as lines), each line that is long enough to mask safely.
    pub fn new<'a>(values: impl IntoIterator<Item = &'a str>) -> Result<Self, SecretError> {
        let mut patterns: Vec<String> = Vec::new();
        for value in values {
            patterns.push(value.to_owned());
            if value.contains('\n') {
                for line in value.lines() {
                    let line = line.trim_end_matches('\r');
                    if line.chars().count() >= MIN_SECRET_CHARS {
                        patterns.push(line.to_owned());
                    }
                }
            }
        }
        Self::from_patterns(patterns)
    }

    fn from_patterns(mut patterns: Vec<String>) -> Result<Self, SecretError> {
        patterns.retain(|pattern| !pattern.is_empty());
        patterns.sort();
        patterns.dedup();
        if patterns.is_empty() {
            return Ok(Self::default());
        }
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)
            .map_err(|error| SecretError::Masker(error.to_string()))?;
        let longest = patterns.iter().map(String::len).max().unwrap_or(0);
        Ok(Self {
            automaton: Some(automaton),
            patterns,
            longest,
        })
    }

    /// The same secrets, also as XML escapes them (`&amp;`), for the JUnit report: a merged
    /// JUnit file a job wrote holds them escaped.
    pub fn with_xml_escapes(&self) -> Result<Self, SecretError> {
        let mut patterns = self.patterns.clone();
        for pattern in &self.patterns {
            patterns.push(xml_escaped(pattern, true));
            patterns.push(xml_escaped(pattern, false));
        }
        Self::from_patterns(patterns)
    }

    /// The same secrets, also as a JSON string escapes them (`\"`, `\\`, `\n`), to tell
    /// from a serialised line whether any of its strings holds one.
    pub fn with_json_escapes(&self) -> Result<Self, SecretError> {
        let mut patterns = self.patterns.clone();
        for pattern in &self.patterns {
            let quoted = serde_json::to_string(pattern)
                .map_err(|error| SecretError::Masker(error.to_string()))?;
            let escaped = quoted
                .strip_prefix('"')
                .and_then(|rest| rest.strip_suffix('"'))
                .unwrap_or(&quoted);
            patterns.push(escaped.to_owned());
        }
        Self::from_patterns(patterns)
    }

    pub fn is_empty(&self) -> bool {
        self.automaton.is_none()
    }

    /// `text` with every secret replaced by [`MASK`]; borrowed when there was none.
    pub fn mask<'t>(&self, text: &'t str) -> Cow<'t, str> {
        match &self.automaton {
            Some(automaton) if automaton.is_match(text) => {
                let mut masked = String::with_capacity(text.len());
                automaton.replace_all_with(text, &mut masked, |_, _, out| {
                    out.push_str(MASK);
                    true
                });
                Cow::Owned(masked)
            }
            _ => Cow::Borrowed(text),
        }
    }

    /// [`Masker::mask`] for raw output bytes.
    pub fn mask_bytes<'t>(&self, bytes: &'t [u8]) -> Cow<'t, [u8]> {
        match &self.automaton {
            Some(automaton) if automaton.is_match(bytes) => {
                let mut masked = Vec::with_capacity(bytes.len());
                automaton.replace_all_with_bytes(bytes, &mut masked, |_, _, out| {
                    out.extend_from_slice(MASK.as_bytes());
                    true
                });
                Cow::Owned(masked)
            }
            _ => Cow::Borrowed(bytes),
        }
    }

    /// How many bytes past a cut must be seen before cutting, so that a secret starting
    /// before the cut is known whole: the longest secret less one (0 without secrets).
    pub fn lookahead(&self) -> usize {
        self.longest.saturating_sub(1)
    }

    /// Where to cut `buffer` near `limit` so that no secret straddles the cut: `limit`, or
    /// the end of the secret that crosses it. `buffer` should hold `limit + lookahead()`
    /// bytes (or be all there is).
    pub fn safe_cut(&self, buffer: &[u8], limit: usize) -> usize {
        let Some(automaton) = &self.automaton else {
            return limit;
        };
        let window = &buffer[..buffer.len().min(limit + self.lookahead())];
        // Matches in order, without overlaps: the ones before `limit` are those a mask of
        // `buffer[..cut]` will find too.
        for found in automaton.find_iter(window) {
            if found.start() >= limit {
                break;
            }
            if found.end() > limit {
                return found.end();
            }
        }
        limit
    }
}

/// `text` as XML writers escape it: all five special characters (quick-xml's text and
/// attributes), or only `&`, `<` and `>` (what other writers leave quotes as).
fn xml_escaped(text: &str, quotes: bool) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' if quotes => escaped.push_str("&quot;"),
            '\'' if quotes => escaped.push_str("&apos;"),
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests;
