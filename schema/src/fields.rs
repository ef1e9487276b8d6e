//! Typed readers for field values: strings, lists, `K=V` maps, commands, numbers.
//!
//! Each reader reports a wrong type itself and returns `None` (or an empty value), so that
//! the walk goes on and later problems are found too.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::raw::Spanned;

use crate::context::Context;
use crate::duration;
use crate::pipeline::Command;
use crate::raw::Node;

/// A string; numbers and booleans are taken as written (`3.10` stays `3.10`).
pub(crate) fn string(cx: &mut Context<'_>, node: &Spanned<Node>, what: &str) -> Option<String> {
    let text = match &node.value {
        Node::Seq(_) | Node::Map(_) | Node::Null => None,
        _ => cx.scalar_text(node),
    };
    if text.is_none() {
        cx.wrong_type(node, what, "a string");
    }
    text
}

/// A string or a list of strings.
pub(crate) fn string_list(cx: &mut Context<'_>, node: &Spanned<Node>, what: &str) -> Vec<String> {
    match &node.value {
        Node::Seq(items) => items
            .iter()
            .filter_map(|item| string(cx, item, &format!("an entry of {what}")))
            .collect(),
        Node::Null => Vec::new(),
        _ => string(cx, node, what).into_iter().collect(),
    }
}

/// Compose's `ports`: a list of short-syntax mappings, each checked here so a typo is an
/// error with its line and column, not a failure in the middle of a run.
pub(crate) fn ports(cx: &mut Context<'_>, node: &Spanned<Node>, what: &str) -> Vec<String> {
    let items: Vec<&Spanned<Node>> = match &node.value {
        Node::Seq(items) => items.iter().collect(),
        Node::Null => Vec::new(),
        _ => vec![node],
    };
    let mut ports = Vec::new();
    for item in items {
        let Some(entry) = string(cx, item, &format!("an entry of {what}")) else {
            continue;
        };
        match crate::port::parse_port(&entry) {
            Ok(_) => ports.push(entry),
            Err(message) => {
                let location = cx.at(item);
                cx.error(location, format!("{what}: {message}"))
                    .with_label("not a port mapping");
            }
        }
    }
    ports
}

/// A mapping of names to strings, or Compose's list of `KEY=VALUE` strings.
pub(crate) fn string_map(
    cx: &mut Context<'_>,
    node: &Spanned<Node>,
    what: &str,
) -> BTreeMap<String, String> {
    optional_string_map(cx, node, what, false)
        .into_iter()
        .map(|(key, value)| (key, value.unwrap_or_default()))
        .collect()
}

/// Compose's `environment`: a mapping (a null value, or a list entry without `=`, means
/// "take it from the calling environment").
pub(crate) fn environment(
    cx: &mut Context<'_>,
    node: &Spanned<Node>,
    what: &str,
) -> BTreeMap<String, Option<String>> {
    optional_string_map(cx, node, what, true)
}

fn optional_string_map(
    cx: &mut Context<'_>,
    node: &Spanned<Node>,
    what: &str,
    allow_missing: bool,
) -> BTreeMap<String, Option<String>> {
    let mut map = BTreeMap::new();
    match &node.value {
        Node::Map(entries) => {
            for (key, value) in entries {
                let entry = format!("`{}` in {what}", key.value);
                let value = match &value.value {
                    Node::Null if allow_missing => None,
                    Node::Null => Some(String::new()),
                    _ => match string(cx, value, &entry) {
                        Some(text) => Some(text),
                        None => continue,
                    },
                };
                map.insert(key.value.clone(), value);
            }
        }
        Node::Seq(items) => {
            for item in items {
                let Some(text) = string(cx, item, &format!("an entry of {what}")) else {
                    continue;
                };
                match text.split_once('=') {
                    Some((key, value)) => {
                        map.insert(key.to_owned(), Some(value.to_owned()));
                    }
                    None if allow_missing => {
                        map.insert(text, None);
                    }
                    None => {
                        let location = cx.at(item);
                        cx.error(location, format!("an entry of {what} has no `=`"))
                            .with_label("expected `KEY=VALUE`");
                    }
                }
            }
        }
        Node::Null => {}
        _ => cx.wrong_type(node, what, "a mapping or a list of `KEY=VALUE`"),
    }
    map
}

/// Compose's `command`/`entrypoint`: a string runs under `sh -c`, a list is exec form.
pub(crate) fn command(cx: &mut Context<'_>, node: &Spanned<Node>, what: &str) -> Option<Command> {
    match &node.value {
        Node::Seq(items) => {
            let words: Vec<String> = items
                .iter()
                .filter_map(|item| string(cx, item, &format!("an entry of {what}")))
                .collect();
            if words.is_empty() {
                let location = cx.at(node);
                cx.error(location, format!("{what} is an empty list"))
                    .with_label("nothing to run")
                    .with_hint("leave the field out, or list the program and its arguments");
                return None;
            }
            Some(Command::Exec(words))
        }
        Node::Str(text) if text.trim().is_empty() => {
            let location = cx.at(node);
            cx.error(location, format!("{what} is empty"))
                .with_label("nothing to run");
            None
        }
        _ => string(cx, node, what).map(Command::Shell),
    }
}

/// `true` or `false`.
pub(crate) fn boolean(cx: &mut Context<'_>, node: &Spanned<Node>, what: &str) -> Option<bool> {
    match &node.value {
        Node::Bool(flag) => Some(*flag),
        // YAML 1.1's spellings, which Compose files still use for flags.
        Node::Str(text) if ["yes", "on", "y"].contains(&text.to_ascii_lowercase().as_str()) => {
            Some(true)
        }
        Node::Str(text) if ["no", "off", "n"].contains(&text.to_ascii_lowercase().as_str()) => {
            Some(false)
        }
        _ => {
            cx.wrong_type(node, what, "`true` or `false`");
            None
        }
    }
}

/// A number of seconds greater than zero (a job's `timeout`).
pub(crate) fn positive_seconds(
    cx: &mut Context<'_>,
    node: &Spanned<Node>,
    what: &str,
) -> Option<Duration> {
    let value = match node.value {
        Node::Int(number) => number as f64,
        Node::Float(number) => number,
        _ => {
            let location = cx.at(node);
            cx.error(location, format!("{what} must be a number of seconds"))
                .with_label(format!("found {}", node.value.kind()))
                .with_hint("write seconds as a number, like `timeout: 600`");
            return None;
        }
    };
    if value <= 0.0 || value.is_nan() {
        let location = cx.at(node);
        cx.error(location, format!("{what} must be greater than zero"))
            .with_label("not a positive number of seconds");
        return None;
    }
    match duration::seconds(value) {
        Ok(duration) => Some(duration),
        Err(reason) => {
            let location = cx.at(node);
            cx.error(location, format!("{what} is out of range: {reason}"));
            None
        }
    }
}

/// A Compose duration (`1m30s`, `500ms`) or a number of seconds.
pub(crate) fn compose_duration(
    cx: &mut Context<'_>,
    node: &Spanned<Node>,
    what: &str,
) -> Option<Duration> {
    let parsed = match &node.value {
        Node::Int(number) => duration::seconds(*number as f64),
        Node::Float(number) => duration::seconds(*number),
        Node::Str(text) => duration::parse_compose_duration(text),
        _ => {
            cx.wrong_type(node, what, "a duration like `30s`");
            return None;
        }
    };
    match parsed {
        Ok(duration) => Some(duration),
        Err(reason) => {
            let location = cx.at(node);
            cx.error(
                location,
                format!("{what} is not a valid duration: {reason}"),
            )
            .with_label("expected a duration")
            .with_hint("write durations like `30s`, `1m30s` or `500ms`");
            None
        }
    }
}
