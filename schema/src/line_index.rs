//! Conversions between byte offsets and line/column positions in the pipeline text.

use std::borrow::Cow;

use crate::diagnostic::Location;

/// Where each line of a text starts, to turn byte offsets into [`Location`]s.
#[derive(Debug)]
pub(crate) struct LineIndex<'a> {
    /// Borrowed for the file being parsed, owned for the files it names.
    text: Cow<'a, str>,
    line_starts: Vec<usize>,
    /// Per line: all ASCII, so a column is a byte difference rather than a character count
    /// (a 50-entry flow list on one line is located once per entry).
    ascii_lines: Vec<bool>,
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(text: impl Into<Cow<'a, str>>) -> Self {
        let text = text.into();
        let line_starts: Vec<usize> = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(at, _)| at + 1))
            .collect();
        let ascii_lines = line_starts
            .iter()
            .enumerate()
            .map(|(line, start)| {
                let end = line_starts.get(line + 1).copied().unwrap_or(text.len());
                text.as_bytes()
                    .get(*start..end)
                    .is_some_and(<[u8]>::is_ascii)
            })
            .collect();
        Self {
            text,
            line_starts,
            ascii_lines,
        }
    }

    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// A location for `len` bytes at `offset`, clamped to the text and to character boundaries.
    pub(crate) fn locate(&self, offset: usize, len: usize) -> Location {
        let [location] = self.locate_each([(offset, len)]);
        location
    }

    /// [`LineIndex::locate`] for several `(offset, len)` spans, in order, finding a line
    /// once for all spans on it (the parts of a reference share one).
    pub(crate) fn locate_each<const N: usize>(&self, spans: [(usize, usize); N]) -> [Location; N] {
        // The 1-based line of the previous span, and the offsets where it starts and ends.
        let mut line: Option<(usize, usize, usize)> = None;
        spans.map(|(offset, len)| {
            let offset = self.floor_boundary(offset.min(self.text.len()));
            let end = self.ceil_boundary(offset.saturating_add(len).min(self.text.len()));
            let (number, start) = match line {
                Some((number, start, next)) if (start..next).contains(&offset) => (number, start),
                _ => {
                    let number = self.line_starts.partition_point(|start| *start <= offset);
                    let start = self
                        .line_starts
                        .get(number.saturating_sub(1))
                        .copied()
                        .unwrap_or(0);
                    let next = self.line_starts.get(number).copied().unwrap_or(usize::MAX);
                    line = Some((number, start, next));
                    (number, start)
                }
            };
            let ascii = self
                .ascii_lines
                .get(number.saturating_sub(1))
                .copied()
                .unwrap_or(false);
            let column = if ascii {
                offset.saturating_sub(start)
            } else {
                self.text
                    .get(start..offset)
                    .map_or(0, |before| before.chars().count())
            } + 1;
            Location {
                line: number.max(1),
                column,
                offset,
                len: end - offset,
                file: 0,
            }
        })
    }

    /// The byte offset of a 1-based line and character column (clamped to the text).
    pub(crate) fn offset_of(&self, line: usize, column: usize) -> usize {
        let Some(start) = self.line_starts.get(line.saturating_sub(1)).copied() else {
            return self.text.len();
        };
        let rest = self.text.get(start..).unwrap_or_default();
        let within_line = rest
            .char_indices()
            .take_while(|(_, character)| *character != '\n')
            .nth(column.saturating_sub(1))
            .map_or_else(|| rest.find('\n').unwrap_or(rest.len()), |(at, _)| at);
        start + within_line
    }

    /// The text of the 1-based line `line`, without its line break.
    pub(crate) fn line_text(&self, line: usize) -> Option<&str> {
        let start = *self.line_starts.get(line.checked_sub(1)?)?;
        let rest = self.text.get(start..)?;
        let line_text = rest.split('\n').next().unwrap_or_default();
        Some(line_text.strip_suffix('\r').unwrap_or(line_text))
    }

    fn floor_boundary(&self, mut offset: usize) -> usize {
        while offset > 0 && !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }

    fn ceil_boundary(&self, mut offset: usize) -> usize {
        while offset < self.text.len() && !self.text.is_char_boundary(offset) {
            offset += 1;
        }
        offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_offsets_on_lines_and_columns() {
        let index = LineIndex::new("ab\ncdé\nf");
        let cases = [
            (0, 1, 1, 1),
            (1, 1, 1, 2),
            (3, 1, 2, 1),
            (5, 2, 2, 3),
            (8, 1, 3, 1),
            (9, 0, 3, 2),
            (100, 0, 3, 2),
        ];
        for (offset, len, line, column) in cases {
            let location = index.locate(offset, len);
            assert_eq!(
                (location.line, location.column),
                (line, column),
                "offset {offset}"
            );
        }
    }

    #[test]
    fn finds_offsets_of_positions() {
        let index = LineIndex::new("ab\ncdé\nf");
        assert_eq!(index.offset_of(1, 1), 0);
        assert_eq!(index.offset_of(2, 3), 5);
        assert_eq!(index.offset_of(2, 9), 7);
        assert_eq!(index.offset_of(3, 1), 8);
        assert_eq!(index.offset_of(7, 1), 9);
        assert_eq!(index.line_text(2), Some("cdé"));
    }
}
