//! The tree built straight from granit-parser's events (the parser serde-saphyr itself
//! reads with, at the same version and limits), for the plain files most pipelines are.
//!
//! It gives up, returning `None`, on anything whose meaning serde-saphyr decides beyond
//! the events: anchors and aliases, tags, merge keys, keys that are not scalars or are
//! empty, keys written twice, directives, several documents or none, deep nesting, very
//! large files, and every error. [`super::saphyr`] then reads the text again, so a file
//! gets the same tree, or the same diagnostic, whichever reader ends up with it.

use std::borrow::Cow;
use std::collections::HashSet;

use granit_parser::{Event, Parser, ScalarStyle, Span, StrInput};

use super::{Node, Place, Spanned, saphyr};

/// Nesting deeper than this is left to serde-saphyr, which enforces [`super::MAX_DEPTH`]
/// with its own count; far above what a pipeline needs.
const DEPTH: usize = super::MAX_DEPTH - 4;

/// Mappings with more keys than this check duplicates with a set instead of a scan.
const SCANNED_KEYS: usize = 16;

/// The tree of `text`, or `None` where serde-saphyr must decide.
pub(super) fn parse(text: &str) -> Option<Spanned<Node>> {
    // serde-saphyr's parser options for our budget (its `Budget::parser_options`), so that
    // the parser accepts and refuses exactly what it does under serde-saphyr.
    let options = granit_parser::options! {
        simple_key_max_lookahead: 1024,
        flow_nesting_limit: super::MAX_DEPTH,
        block_nesting_limit: granit_parser::Options::default()
            .block_nesting_limit
            .max(super::MAX_DEPTH + 1),
    };
    let mut reader = Reader {
        parser: Parser::new_from_str_with_options(text, options),
        nodes: 0,
        items: Vec::new(),
        entries: Vec::new(),
    };
    reader.document()
}

struct Reader<'a> {
    parser: Parser<'a, StrInput<'a>>,
    nodes: usize,
    /// The items and entries of the lists and mappings being read, innermost last: each is
    /// moved into a vector of its exact size once complete (grown by doubling, a fan-in
    /// of 50 kept room for 64, and the tree is most of `validate`'s memory).
    items: Vec<Spanned<Node>>,
    entries: Vec<(Spanned<String>, Spanned<Node>)>,
}

impl<'a> Reader<'a> {
    fn next(&mut self) -> Option<(Event<'a>, Span)> {
        self.parser.next_event()?.ok()
    }

    fn document(&mut self) -> Option<Spanned<Node>> {
        let (Event::StreamStart, _) = self.next()? else {
            return None;
        };
        // A `%YAML` directive changes how scalars are typed.
        let (Event::DocumentStart(_, None), _) = self.next()? else {
            return None;
        };
        let (event, span) = self.next()?;
        let root = self.node(event, span, 0)?;
        let (Event::DocumentEnd, _) = self.next()? else {
            return None;
        };
        let (Event::StreamEnd, _) = self.next()? else {
            return None;
        };
        Some(root)
    }

    fn node(&mut self, event: Event<'a>, span: Span, depth: usize) -> Option<Spanned<Node>> {
        self.nodes += 1;
        if self.nodes > super::MAX_NODES / 2 || depth > DEPTH {
            return None;
        }
        let place = place(&span)?;
        let value = match event {
            Event::Scalar(text, style, 0, None) => scalar(text, style)?,
            Event::SequenceStart(_, 0, None) => {
                let base = self.items.len();
                loop {
                    match self.next()? {
                        (Event::SequenceEnd, _) => break,
                        (event, span) => {
                            let item = self.node(event, span, depth + 1)?;
                            self.items.push(item);
                        }
                    }
                }
                Node::Seq(self.items.drain(base..).collect())
            }
            Event::MappingStart(_, 0, None) => self.mapping(depth)?,
            _ => return None,
        };
        Some(Spanned {
            value,
            referenced: place,
            defined: place,
        })
    }

    fn mapping(&mut self, depth: usize) -> Option<Node> {
        let base = self.entries.len();
        loop {
            let (event, span) = self.next()?;
            let key = match event {
                Event::MappingEnd => break,
                // `<<` is a merge key, which serde-saphyr resolves.
                Event::Scalar(text, style, 0, None)
                    if !(style == ScalarStyle::Plain && text == "<<") =>
                {
                    key_text(scalar(text, style)?)?
                }
                _ => return None,
            };
            let key = Spanned {
                value: key,
                referenced: place(&span)?,
                defined: place(&span)?,
            };
            let (event, span) = self.next()?;
            let value = self.node(event, span, depth + 1)?;
            self.entries.push((key, value));
        }
        if has_duplicate_keys(&self.entries[base..]) {
            return None;
        }
        Some(Node::Map(self.entries.drain(base..).collect()))
    }
}

/// A mapping key as the tree keeps it: its text, numbers and booleans as written by Rust
/// (the serde-saphyr reader does the same). An empty key is an error only serde-saphyr
/// reports.
fn key_text(node: Node) -> Option<String> {
    match node {
        Node::Str(text) => Some(text),
        Node::Int(number) => Some(number.to_string()),
        Node::Float(number) => Some(number.to_string()),
        Node::Bool(flag) => Some(flag.to_string()),
        Node::Null | Node::Seq(_) | Node::Map(_) => None,
    }
}

/// Keys written twice are an error with serde-saphyr's message and position. Equal text is
/// a wider test than serde-saphyr's (which compares values), so nothing it refuses passes.
fn has_duplicate_keys(entries: &[(Spanned<String>, Spanned<Node>)]) -> bool {
    if entries.len() <= SCANNED_KEYS {
        return entries.iter().enumerate().any(|(index, (key, _))| {
            entries[..index]
                .iter()
                .any(|(earlier, _)| earlier.value == key.value)
        });
    }
    let mut seen = HashSet::with_capacity(entries.len());
    !entries
        .iter()
        .all(|(key, _)| seen.insert(key.value.as_str()))
}

/// A scalar typed as serde-saphyr types it with `strict_booleans` (YAML 1.2 core schema).
/// Whatever may be a number is typed by serde-saphyr itself, on its own: its integer and
/// float syntax (signs, radixes, underscores, `.inf`) is its business.
fn scalar(text: Cow<'_, str>, style: ScalarStyle) -> Option<Node> {
    if style != ScalarStyle::Plain {
        return Some(Node::Str(text.into_owned()));
    }
    Some(match &*text {
        "" | "~" | "null" | "Null" | "NULL" => Node::Null,
        "true" | "True" | "TRUE" => Node::Bool(true),
        "false" | "False" | "FALSE" => Node::Bool(false),
        number if may_be_number(number) => return saphyr::plain_scalar(number),
        _ => Node::Str(text.into_owned()),
    })
}

/// Whether serde-saphyr might read a plain scalar as a number: a digit, or a dot and a
/// letter or digit (`.5`, `.inf`), after an optional sign; made only of what numbers are
/// made of. Others (`l0-j0.ExitCode(0)`, `1 2`, `...`) are strings to it.
fn may_be_number(text: &str) -> bool {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text).as_bytes();
    let starts = match unsigned {
        [first, ..] if first.is_ascii_digit() => true,
        [b'.', second, ..] => second.is_ascii_alphanumeric(),
        _ => false,
    };
    starts
        && text.bytes().all(|byte| {
            byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'-' | b'.' | b'_' | b':')
        })
}

/// The bytes a parser span covers, as serde-saphyr records them.
fn place(span: &Span) -> Option<Place> {
    let offset = span.start.byte_offset()?;
    let end = span.end.byte_offset()?;
    Some(Place::bytes(offset, end.saturating_sub(offset)))
}
