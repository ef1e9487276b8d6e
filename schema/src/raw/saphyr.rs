//! The tree read by serde-saphyr, which does all of YAML (anchors, merge keys, duplicate
//! keys, budgets) and says why a text is not valid YAML; this module keeps the spans and
//! turns its errors into [`Diagnostic`]s.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::budget::BudgetBreach;
use serde_saphyr::options::{AliasLimits, Options};

use super::{Node, Place, Spanned, location_of};
use crate::diagnostic::{Diagnostic, Location, Severity};
use crate::line_index::LineIndex;

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any YAML value")
    }

    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }

    fn visit_bool<E>(self, value: bool) -> Result<Node, E> {
        Ok(Node::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Node, E> {
        Ok(Node::Int(value))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Node, E> {
        // Too big for i64: keep it as a number; no field takes integers that large.
        Ok(i64::try_from(value).map_or(Node::Float(value as f64), Node::Int))
    }

    fn visit_i128<E>(self, value: i128) -> Result<Node, E> {
        Ok(i64::try_from(value).map_or(Node::Float(value as f64), Node::Int))
    }

    fn visit_u128<E>(self, value: u128) -> Result<Node, E> {
        Ok(i64::try_from(value).map_or(Node::Float(value as f64), Node::Int))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Node, E> {
        Ok(Node::Float(value))
    }

    fn visit_str<E>(self, value: &str) -> Result<Node, E> {
        Ok(Node::Str(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Node, E> {
        Ok(Node::Str(value))
    }

    fn visit_bytes<E: de::Error>(self, value: &[u8]) -> Result<Node, E> {
        Ok(Node::Str(String::from_utf8_lossy(value).into_owned()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut access: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = access.next_element::<serde_saphyr::Spanned<Node>>()? {
            items.push(spanned(item));
        }
        Ok(Node::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = access.next_key::<serde_saphyr::Spanned<Node>>()? {
            let text = match key.value {
                Node::Str(text) => text,
                Node::Int(number) => number.to_string(),
                Node::Float(number) => number.to_string(),
                Node::Bool(flag) => flag.to_string(),
                Node::Null => return Err(de::Error::custom("a mapping key is empty")),
                Node::Seq(_) | Node::Map(_) => {
                    return Err(de::Error::custom("a mapping key must be a plain string"));
                }
            };
            let key = Spanned {
                value: text,
                referenced: place(&key.referenced),
                defined: place(&key.defined),
            };
            let value = access.next_value::<serde_saphyr::Spanned<Node>>()?;
            entries.push((key, spanned(value)));
        }
        Ok(Node::Map(entries))
    }
}

/// Parses YAML text into a spanned tree, or one diagnostic saying why it is not valid YAML.
pub(super) fn parse(index: &LineIndex<'_>) -> Result<Spanned<Node>, Box<Diagnostic>> {
    let options = options(index.text().len());
    serde_saphyr::from_str_with_options::<serde_saphyr::Spanned<Node>>(index.text(), options)
        .map(spanned)
        .map_err(|error| Box::new(yaml_error(index, &error)))
}

/// A plain scalar as serde-saphyr types it (`8080` an integer, `.5` a number), read on its
/// own; `None` if the text is not one scalar. The event reader asks this for every plain
/// scalar that may be a number, so that both readers type the same text the same way.
pub(super) fn plain_scalar(text: &str) -> Option<Node> {
    match serde_saphyr::from_str_with_options::<Node>(text, options(text.len())) {
        Ok(node @ (Node::Null | Node::Bool(_) | Node::Int(_) | Node::Float(_) | Node::Str(_))) => {
            Some(node)
        }
        Ok(Node::Seq(_) | Node::Map(_)) | Err(_) => None,
    }
}

/// Events aliases may replay in all, per byte of the file, beyond [`MIN_REPLAYED_EVENTS`].
const REPLAYED_EVENTS_PER_BYTE: usize = 4;
/// What any file may replay, however short.
const MIN_REPLAYED_EVENTS: usize = 10_000;
/// Bytes of file per alias before the aliases-per-anchor ratio is checked at all.
const BYTES_PER_ALIAS: usize = 64;

/// The parser's options for a text of `len` bytes. The alias budgets grow with the file: a
/// long Compose file reuses a few anchors very often (sentry self-hosted's 34 KB file has
/// 142 aliases of 10 anchors, past serde-saphyr's fixed "more than ten aliases per anchor
/// once there are 100" rule), while a "billion laughs" file is small and grows
/// exponentially, past any budget linear in its size, within milliseconds.
fn options(len: usize) -> Options {
    let mut alias_limits = AliasLimits::default();
    alias_limits.max_total_replayed_events =
        MIN_REPLAYED_EVENTS.saturating_add(len.saturating_mul(REPLAYED_EVENTS_PER_BYTE));
    alias_limits.max_alias_expansions_per_anchor = 1_000;
    let ratio_from = (len / BYTES_PER_ALIAS).max(100);
    serde_saphyr::options! {
        with_snippet: false,
        // YAML 1.2, as Compose reads it: a job named `n`, `yes` or `on` keeps its name
        // (YAML 1.1 would make it a boolean); `boolean` fields still take `yes`/`no`.
        strict_booleans: true,
        alias_limits: alias_limits,
        // Parsing recurses per nesting level (tens of KiB of stack each in debug builds);
        // pipelines nest about six levels deep, and 24 stays safe on a 2 MiB thread stack.
        budget: serde_saphyr::budget! {
            alias_anchor_min_aliases: ratio_from,
            max_depth: super::MAX_DEPTH,
            flow_nesting_limit: super::MAX_DEPTH,
            max_aliases: 10_000,
            max_anchors: 10_000,
            max_nodes: super::MAX_NODES,
            max_events: 1_000_000,
            max_documents: 1,
        },
    }
}

fn spanned<T>(from: serde_saphyr::Spanned<T>) -> Spanned<T> {
    Spanned {
        value: from.value,
        referenced: place(&from.referenced),
        defined: place(&from.defined),
    }
}

fn place(location: &serde_saphyr::Location) -> Place {
    let span = location.span();
    match (span.byte_offset(), span.byte_len()) {
        (Some(offset), Some(len)) => Place::bytes(to_usize(offset), to_usize(len)),
        _ => Place::line_column(to_usize(location.line()), to_usize(location.column())),
    }
}

fn to_usize(value: u64) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}

fn yaml_error(index: &LineIndex<'_>, error: &serde_saphyr::Error) -> Diagnostic {
    let location = error
        .location()
        .filter(|location| location.line() > 0)
        .map_or_else(
            || index.locate(0, 0),
            |location| location_of(index, &place(&location)),
        );
    if let serde_saphyr::Error::DuplicateMappingKey { key, .. } = error.without_snippet() {
        return duplicate_key(index, key.as_deref(), location);
    }
    if let serde_saphyr::Error::Budget { breach, .. } = error.without_snippet() {
        return budget_error(breach, location);
    }
    let text = error.without_snippet().to_string();
    let message = strip_position(&text);
    let (message, hint) = if message.contains("replay") || message.contains("expansion") {
        return expands_too_much(location);
    } else if message.contains("recursive references") {
        (
            "an alias refers to the anchor it is inside".to_owned(),
            Some("a value cannot contain itself".to_owned()),
        )
    } else if message.contains("recursion limit") || message.contains("nesting") {
        (
            "the YAML is nested too deeply".to_owned(),
            Some("a pipeline needs only a few levels of nesting".to_owned()),
        )
    } else if message.starts_with("multiple YAML documents") {
        (
            "the file holds more than one YAML document".to_owned(),
            Some("remove the `---` separator: a pipeline file is one document".to_owned()),
        )
    } else {
        (format!("invalid YAML: {message}"), None)
    };
    Diagnostic {
        severity: Severity::Error,
        message,
        location: Some(location),
        label: Some("here".to_owned()),
        hint,
    }
}

fn budget_error(breach: &BudgetBreach, location: Location) -> Diagnostic {
    let (message, hint) = match breach {
        BudgetBreach::Depth { .. } => (
            "the YAML is nested too deeply",
            "a pipeline needs only a few levels of nesting",
        ),
        BudgetBreach::Documents { .. } => (
            "the file holds more than one YAML document",
            "remove the `---` separator: a pipeline file is one document",
        ),
        BudgetBreach::Aliases { .. }
        | BudgetBreach::Anchors { .. }
        | BudgetBreach::AliasAnchorRatio { .. }
        | BudgetBreach::RecordedAnchorEvents { .. }
        | BudgetBreach::RecordedAnchorBytes { .. }
        | BudgetBreach::MergeKeys { .. } => return expands_too_much(location),
        _ => (
            "the file holds more YAML than a pipeline needs",
            "a pipeline file is a few hundred lines at most",
        ),
    };
    Diagnostic {
        severity: Severity::Error,
        message: message.to_owned(),
        location: Some(location),
        label: Some("limit reached here".to_owned()),
        hint: Some(hint.to_owned()),
    }
}

fn expands_too_much(location: Location) -> Diagnostic {
    Diagnostic {
        severity: Severity::Error,
        message: "the file expands to more YAML than a pipeline needs".to_owned(),
        location: Some(location),
        label: Some("expansion limit reached here".to_owned()),
        hint: Some("anchors and aliases must not multiply into huge documents".to_owned()),
    }
}

/// serde-saphyr appends " at line L, column C" (and alias sites) to its messages; the
/// rendered diagnostic shows the position anyway.
fn strip_position(message: &str) -> &str {
    let message = message.lines().next().unwrap_or_default();
    message
        .find(" at line ")
        .map_or(message, |at| message.get(..at).unwrap_or(message))
        .trim()
}

fn duplicate_key(index: &LineIndex<'_>, key: Option<&str>, location: Location) -> Diagnostic {
    let first = key.and_then(|key| first_occurrence(index, key, location));
    Diagnostic {
        severity: Severity::Error,
        message: match key {
            Some(key) => format!("duplicate key `{key}`"),
            None => "duplicate key".to_owned(),
        },
        location: Some(location),
        label: Some("defined again here".to_owned()),
        hint: Some(match first {
            Some(line) => format!("first defined on line {line}; remove or rename one of them"),
            None => "remove or rename one of them".to_owned(),
        }),
    }
}

/// The line of an earlier block-style `key:` at the same indentation in the same mapping.
fn first_occurrence(index: &LineIndex<'_>, key: &str, duplicate: Location) -> Option<usize> {
    let indent = duplicate.column.checked_sub(1)?;
    for line in (1..duplicate.line).rev() {
        let text = index.line_text(line)?;
        let trimmed = text.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let this_indent = text.len() - trimmed.len();
        if this_indent < indent {
            return None;
        }
        if this_indent == indent {
            let unquoted = trimmed.trim_start_matches(['"', '\'', '-', ' ']);
            if let Some(rest) = unquoted.strip_prefix(key)
                && rest.trim_start_matches(['"', '\'']).starts_with(':')
            {
                return Some(line);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Result<Spanned<Node>, Box<Diagnostic>> {
        parse(&LineIndex::new(text))
    }

    #[test]
    fn keeps_spans_of_keys_and_values() {
        let tree = parse_text("a:\n  b: \"x\"\n").expect("valid YAML");
        let Node::Map(entries) = &tree.value else {
            panic!("expected a mapping, got {:?}", tree.value);
        };
        let (key, value) = &entries[0];
        assert_eq!(key.value, "a");
        let Node::Map(inner) = &value.value else {
            panic!("expected a mapping");
        };
        let (_, b) = &inner[0];
        let index = LineIndex::new("a:\n  b: \"x\"\n");
        let location = location_of(&index, &b.referenced);
        assert_eq!((location.line, location.column, location.len), (2, 6, 3));
    }

    #[test]
    fn duplicate_keys_name_the_first_occurrence() {
        let error = parse_text("services:\n  c:\n    image: y\n  c:\n    image: z\n")
            .expect_err("duplicate key");
        assert_eq!(error.message, "duplicate key `c`");
        assert_eq!(error.location.map(|l| (l.line, l.column)), Some((4, 3)));
        assert_eq!(
            error.hint.as_deref(),
            Some("first defined on line 2; remove or rename one of them")
        );
    }

    #[test]
    fn syntax_errors_lose_the_position_suffix() {
        let error = parse_text("services: {a: [1, 2}\n").expect_err("bad brackets");
        assert!(!error.message.contains(" at line "), "{}", error.message);
        assert!(
            error.message.starts_with("invalid YAML"),
            "{}",
            error.message
        );
    }

    #[test]
    fn empty_keys_are_errors() {
        let error = parse_text("~: b\n").expect_err("empty key");
        assert!(error.message.contains("key is empty"), "{}", error.message);
    }
}
