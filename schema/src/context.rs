//! The state of one analysis: the texts, their line indexes and the findings so far.
//!
//! The file parsed and the files it names (override files, includes, extends) share one
//! space of byte offsets: the first file from 0, each file read later after the end of the
//! one before. A value merged in from another file keeps its place, so a finding about it
//! names that file and line.

use std::ops::Range;

use crate::Source;
use crate::diagnostic::{Diagnostic, Location, Severity};
use crate::line_index::LineIndex;
use crate::raw::{self, Node, Place, Spanned};

/// Collects diagnostics while the tree is walked, so that every problem is reported at once.
pub(crate) struct Context<'a> {
    /// The file parsed (file 0, from offset 0).
    pub(crate) index: &'a LineIndex<'a>,
    /// The files read for it, in the order they were read (files 1, 2, …).
    included: Vec<Included>,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

/// A file read for the one parsed, and where its offsets start.
struct Included {
    name: String,
    index: LineIndex<'static>,
    base: usize,
}

/// How many bytes the files a pipeline names may hold together (an include bomb stops
/// here): four times the cap of one file.
const MAX_INCLUDED_BYTES: usize = 4 * crate::MAX_PIPELINE_BYTES;

impl<'a> Context<'a> {
    pub(crate) fn new(index: &'a LineIndex<'a>) -> Self {
        Self {
            index,
            included: Vec::new(),
            diagnostics: Vec::new(),
        }
    }

    /// Parses another file into the shared offset space: its tree, or `None` when it is not
    /// valid YAML (the error is reported at its place in that file).
    pub(crate) fn read_file(&mut self, name: &str, text: String) -> Option<Spanned<Node>> {
        let used: usize = self
            .included
            .iter()
            .map(|file| file.index.text().len())
            .sum();
        if used.saturating_add(text.len()) > MAX_INCLUDED_BYTES {
            self.diagnostics.push(Diagnostic {
                severity: Severity::Error,
                message: format!(
                    "`{name}` is not read: the files this pipeline names hold more than {MAX_INCLUDED_BYTES} bytes together"
                ),
                location: None,
                label: None,
                hint: None,
            });
            return None;
        }
        let base = self
            .included
            .last()
            .map_or(self.index.text().len(), |file| {
                file.base + file.index.text().len()
            })
            + 1;
        let file = self.included.len() + 1;
        let index = LineIndex::new(text);
        let tree = raw::parse(&index);
        let tree = match tree {
            Ok(mut tree) => {
                shift(&mut tree, &index, base);
                Some(tree)
            }
            Err(mut diagnostic) => {
                if let Some(location) = diagnostic.location.as_mut() {
                    location.file = file;
                }
                self.diagnostics.push(*diagnostic);
                None
            }
        };
        self.included.push(Included {
            name: name.to_owned(),
            index,
            base,
        });
        tree
    }

    /// The files read besides the one parsed, for rendering findings in them.
    pub(crate) fn included_sources(&self) -> Vec<Source> {
        self.included
            .iter()
            .map(|file| Source {
                name: file.name.clone(),
                text: file.index.text().to_owned(),
            })
            .collect()
    }

    /// The name of the file a place is in (to resolve relative paths written there).
    pub(crate) fn file_name_of<'s>(&'s self, place: &Place, main: &'s str) -> &'s str {
        match self.file_of(place) {
            (0, _, _) => main,
            (file, _, _) => self
                .included
                .get(file - 1)
                .map_or(main, |included| included.name.as_str()),
        }
    }

    /// The file holding `place`: its number, line index and first offset.
    fn file_of(&self, place: &Place) -> (usize, &LineIndex<'_>, usize) {
        let Some((offset, _)) = place.byte_range() else {
            return (0, self.index, 0);
        };
        let after = self.included.partition_point(|file| file.base <= offset);
        match after.checked_sub(1).and_then(|at| self.included.get(at)) {
            Some(file) => (after, &file.index, file.base),
            None => (0, self.index, 0),
        }
    }

    fn locate_place(&self, place: &Place) -> Location {
        match self.file_of(place) {
            (0, index, _) => raw::location_of(index, place),
            (file, index, base) => {
                let (offset, len) = place.byte_range().unwrap_or_default();
                Location {
                    file,
                    ..index.locate(offset - base, len)
                }
            }
        }
    }

    /// The text of `len` bytes at the shared `offset`.
    fn slice(&self, offset: usize, len: usize) -> &str {
        let (_, index, base) = self.file_of(&Place::bytes(offset, len));
        let start = offset - base;
        index
            .text()
            .get(start..start.saturating_add(len))
            .unwrap_or_default()
    }

    /// Where a value or key is used in the file.
    pub(crate) fn at<T>(&self, spanned: &Spanned<T>) -> Location {
        self.locate_place(&spanned.referenced)
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
        let (file, index, base) = self.file_of(&spanned.referenced);
        let (offset, len) = spanned.referenced.byte_range().unwrap_or_else(|| {
            let whole = self.at(spanned);
            (whole.offset, whole.len)
        });
        let source = self.slice(offset, len);
        let offset = offset - base;
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
        index
            .locate_each(ranges.map(|range| match start {
                Some(start) if range.start <= value.len() => (
                    start + range.start,
                    range.len().min(value.len() - range.start),
                ),
                _ => (offset, len),
            }))
            .map(|location| Location { file, ..location })
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
        let (offset, len) = match spanned.defined.byte_range() {
            Some(range) => range,
            None => {
                let defined = raw::location_of(self.index, &spanned.defined);
                (defined.offset, defined.len)
            }
        };
        let source = Some(self.slice(offset, len))
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

/// Moves every place of a tree parsed on its own to `base` in the shared offset space.
fn shift(tree: &mut Spanned<Node>, index: &LineIndex<'_>, base: usize) {
    let moved = |place: &mut Place| {
        let (offset, len) = place.byte_range().unwrap_or_else(|| match *place {
            Place::LineColumn { line, column } => {
                (index.offset_of(line as usize, column as usize), 0)
            }
            Place::Bytes { .. } => (0, 0),
        });
        *place = Place::bytes(base + offset, len);
    };
    moved(&mut tree.referenced);
    moved(&mut tree.defined);
    match &mut tree.value {
        Node::Seq(items) => {
            for item in items {
                shift(item, index, base);
            }
        }
        Node::Map(entries) => {
            for (key, value) in entries {
                moved(&mut key.referenced);
                moved(&mut key.defined);
                shift(value, index, base);
            }
        }
        _ => {}
    }
}
