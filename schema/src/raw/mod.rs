//! The YAML text as a generic tree in which every value knows where it came from.
//!
//! Two readers build the same tree. [`events`] builds it straight from the YAML parser's
//! events, for the files most pipelines are: no anchors, aliases, tags or merge keys, no
//! duplicate keys, not nested deeply. Anything else, and every error, goes to [`saphyr`]:
//! serde-saphyr does all of YAML and says why a text is not valid YAML. The event reader
//! exists for speed (it costs about half of serde-saphyr's deserializer on a 500-job
//! file); a test holds both readers to the same tree over every file of the corpora.

mod events;
mod saphyr;

use crate::diagnostic::{Diagnostic, Location};
use crate::line_index::LineIndex;

/// How deep a pipeline may nest. Parsing recurses per level (tens of KiB of stack each in
/// debug builds); pipelines nest about six levels deep, and 24 stays safe on a 2 MiB
/// thread stack.
const MAX_DEPTH: usize = 24;

/// How many YAML nodes a pipeline file may hold.
const MAX_NODES: usize = 200_000;

/// One YAML value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<Node>>),
    Map(Vec<(Spanned<String>, Spanned<Node>)>),
}

impl Node {
    /// How the value is called in "expected a string, found a list" messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Node::Null => "nothing",
            Node::Bool(_) => "a boolean",
            Node::Int(_) => "an integer",
            Node::Float(_) => "a number",
            Node::Str(_) => "a string",
            Node::Seq(_) => "a list",
            Node::Map(_) => "a mapping",
        }
    }
}

/// A value and where it is in the text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Spanned<T> {
    pub(crate) value: T,
    /// Where it is used: for a value reached through an alias or a merge key, the `*alias`
    /// or `<<` site.
    pub(crate) referenced: Place,
    /// Where it is written.
    pub(crate) defined: Place,
}

/// A place in the text: a byte range, or only a position when the reader knew no bytes.
/// In `u32`s (a pipeline file is far below 4 GiB): every node holds two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    Bytes {
        offset: u32,
        len: u32,
    },
    /// 1-based line and column.
    LineColumn {
        line: u32,
        column: u32,
    },
}

impl Place {
    pub(crate) fn bytes(offset: usize, len: usize) -> Self {
        Place::Bytes {
            offset: narrow(offset),
            len: narrow(len),
        }
    }

    pub(crate) fn line_column(line: usize, column: usize) -> Self {
        Place::LineColumn {
            line: narrow(line),
            column: narrow(column),
        }
    }

    /// The byte range, when it is known.
    pub(crate) fn byte_range(&self) -> Option<(usize, usize)> {
        match *self {
            Place::Bytes { offset, len } => Some((widen(offset), widen(len))),
            Place::LineColumn { .. } => None,
        }
    }
}

fn narrow(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

fn widen(value: u32) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}

/// Parses YAML text into a spanned tree, or one diagnostic saying why it is not valid YAML.
pub(crate) fn parse(index: &LineIndex<'_>) -> Result<Spanned<Node>, Box<Diagnostic>> {
    match events::parse(index.text()) {
        Some(tree) => Ok(tree),
        None => saphyr::parse(index),
    }
}

/// Where a spanned value was used (for merged and aliased values: the `<<` or `*alias` site).
pub(crate) fn location_of(index: &LineIndex<'_>, place: &Place) -> Location {
    match *place {
        Place::Bytes { offset, len } => index.locate(widen(offset), widen(len)),
        Place::LineColumn { line, column } => {
            index.locate(index.offset_of(widen(line), widen(column)), 0)
        }
    }
}

/// Whether both readers give the same tree where the event reader gives one (for the
/// fuzzers and the corpus test). Floats are compared by their printed form, so that
/// `.nan` equals itself.
pub(crate) fn readers_agree(text: &str) -> Result<(), String> {
    let Some(fast) = events::parse(text) else {
        return Ok(());
    };
    match saphyr::parse(&LineIndex::new(text)) {
        Ok(slow) if format!("{fast:?}") == format!("{slow:?}") => Ok(()),
        Ok(slow) => Err(format!("event reader {fast:?}\nserde-saphyr {slow:?}")),
        Err(error) => Err(format!("only serde-saphyr refuses it: {}", error.message)),
    }
}

#[cfg(test)]
mod tests;
