//! The state of one analysis: the text, its line index and the findings so far.

use std::ops::Range;

use crate::diagnostic::{Diagnostic, Location, Severity};
use crate::line_index::LineIndex;
use crate::raw::{self, Node, Spanned};

/// Collects diagnostics while the tree is walked, so that every problem is reported at once.
pub(crate) struct Context<'a> {
    pub(crate) index: &'a LineIndex<'a>,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

impl<'a> Context<'a> {
    pub(crate) fn new(index: &'a LineIndex<'a>) -> Self {
        Self {
            index,
            diagnostics: Vec::new(),
        }
    }

    /// Where a value or key is used in the file.
    pub(crate) fn at<T>(&self, spanned: &Spanned<T>) -> Location {
        raw::location_of(self.index, &spanned.referenced)
    }

    /// The location of `range` (bytes of the parsed string `value`) inside the string's
    /// source, when the source spells the string verbatim; else the whole value.
    pub(crate) fn inside(
        &self,
        spanned: &Spanned<Node>,
        value: &str,
        range: Range<usize>,
    ) -> Location {
        let [location] = self.inside_each(spanned, value, [range]);
        location
    }

    /// [`Context::inside`] for several ranges of one string, which is located only once
    /// (a reference has two parts, and a wide fan-in thousands of references).
    pub(crate) fn inside_each<const N: usize>(
        &self,
        spanned: &Spanned<Node>,
        value: &str,
        ranges: [Range<usize>; N],
    ) -> [Location; N] {
        // The bytes of the value, without locating them: only the parts are located.
        let (offset, len) = spanned.referenced.byte_range().unwrap_or_else(|| {
            let whole = self.at(spanned);
            (whole.offset, whole.len)
        });
        let source = self
            .index
            .text()
            .get(offset..offset.saturating_add(len))
            .unwrap_or_default();
        let start = if source == value {
            Some(offset)
        } else if source.len() == value.len() + 2
            && (source.starts_with('"') || source.starts_with('\''))
            && source.get(1..source.len() - 1) == Some(value)
        {
            Some(offset + 1)
        } else {
            None
        };
        // A part past the value's end, or a value not spelled verbatim, is shown as the
        // whole value.
        self.index.locate_each(ranges.map(|range| match start {
            Some(start) if range.start <= value.len() => (
                start + range.start,
                range.len().min(value.len() - range.start),
            ),
            _ => (offset, len),
        }))
    }

    /// The source spelling of a scalar (`1.50`, `yes`), falling back to its parsed value.
    pub(crate) fn scalar_text(&self, spanned: &Spanned<Node>) -> Option<String> {
        let formatted = match &spanned.value {
            Node::Str(text) => return Some(text.clone()),
            Node::Int(number) => number.to_string(),
            Node::Float(number) => number.to_string(),
            Node::Bool(flag) => flag.to_string(),
            Node::Null | Node::Seq(_) | Node::Map(_) => return None,
        };
        // `defined` is the scalar itself even when it arrived through an alias or merge.
        let defined = raw::location_of(self.index, &spanned.defined);
        let source = self
            .index
            .text()
            .get(defined.offset..defined.offset + defined.len)
            .filter(|source| !source.is_empty() && !source.starts_with(['*', '&', '!']));
        Some(source.map_or(formatted, str::to_owned))
    }

    pub(crate) fn error(
        &mut self,
        location: Location,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        self.push(Severity::Error, location, message.into())
    }

    pub(crate) fn warning(
        &mut self,
        location: Location,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        self.push(Severity::Warning, location, message.into())
    }

    pub(crate) fn note(
        &mut self,
        location: Location,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        self.push(Severity::Note, location, message.into())
    }

    /// Reports a value of the wrong type: "`image` in job `web` must be a string, found a list".
    pub(crate) fn wrong_type(&mut self, spanned: &Spanned<Node>, what: &str, expected: &str) {
        let location = self.at(spanned);
        let found = spanned.value.kind();
        self.error(
            location,
            format!("{what} must be {expected}, found {found}"),
        )
        .with_label(format!("expected {expected}"));
    }

    pub(crate) fn push_diagnostic(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    fn push(&mut self, severity: Severity, location: Location, message: String) -> &mut Diagnostic {
        let index = self.diagnostics.len();
        self.diagnostics.push(Diagnostic {
            severity,
            message,
            location: Some(location),
            label: None,
            hint: None,
        });
        &mut self.diagnostics[index]
    }
}
