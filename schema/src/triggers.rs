//! The `on:` block, written as in GitHub Actions; pipekit-ci acts on its `push` event.
//!
//! GitHub's forms are all accepted: `on: push`, `on: [push]`, `on: {push: }` and
//! `on: {push: {branches: [...], paths-ignore: [...]}}`.

use crate::raw::Spanned;

use crate::context::Context;
use crate::diagnostic::Location;
use crate::fields;
use crate::filter_pattern::FilterPattern;
use crate::pipeline::{PushTrigger, Triggers};
use crate::raw::Node;
use crate::suggest;

/// The filters of `on.push`, spelt as in GitHub (`paths_ignore` is accepted too).
const PUSH_FILTERS: [&str; 6] = [
    "branches",
    "branches-ignore",
    "tags",
    "tags-ignore",
    "paths",
    "paths-ignore",
];

/// GitHub Actions' other workflow events: accepted so that a workflow's `on:` can be
/// copied as it is, and ignored.
const OTHER_EVENTS: [&str; 35] = [
    "branch_protection_rule",
    "check_run",
    "check_suite",
    "create",
    "delete",
    "deployment",
    "deployment_status",
    "discussion",
    "discussion_comment",
    "fork",
    "gollum",
    "image_version",
    "issue_comment",
    "issues",
    "label",
    "merge_group",
    "milestone",
    "page_build",
    "project",
    "project_card",
    "project_column",
    "public",
    "pull_request",
    "pull_request_review",
    "pull_request_review_comment",
    "pull_request_target",
    "registry_package",
    "release",
    "repository_dispatch",
    "schedule",
    "status",
    "watch",
    "workflow_call",
    "workflow_dispatch",
    "workflow_run",
];

/// Reads the `on:` block; problems are reported and the rest is still read.
pub(crate) fn read(cx: &mut Context<'_>, key: &Spanned<String>, node: &Spanned<Node>) -> Triggers {
    let mut triggers = Triggers::default();
    match &node.value {
        Node::Map(entries) => {
            for (event, value) in entries {
                let location = cx.at(event);
                read_event(cx, &mut triggers, &event.value, location, Some(value));
            }
        }
        Node::Seq(items) => {
            for item in items {
                if let Some(event) = fields::string(cx, item, "an entry of `on`") {
                    let location = cx.at(item);
                    read_event(cx, &mut triggers, &event, location, None);
                }
            }
        }
        Node::Str(event) => {
            let location = cx.at(node);
            read_event(cx, &mut triggers, event, location, None);
        }
        Node::Null => {
            let location = cx.at(key);
            cx.error(location, "`on` names no event")
                .with_label("no event")
                .with_hint("write `on: push`, or leave `on:` out to run on every push");
        }
        _ => cx.wrong_type(
            node,
            "`on`",
            "an event, a list of events or a mapping of events",
        ),
    }
    triggers
}

fn read_event(
    cx: &mut Context<'_>,
    triggers: &mut Triggers,
    event: &str,
    location: Location,
    value: Option<&Spanned<Node>>,
) {
    if event == "push" {
        triggers.push = Some(value.map(|value| read_push(cx, value)).unwrap_or_default());
    } else if OTHER_EVENTS.contains(&event) {
        cx.note(
            location,
            format!("pipekit-ci runs on push only; `{event}` is ignored"),
        )
        .with_label("ignored");
    } else {
        let hint = suggest::hint(event, std::iter::once("push").chain(OTHER_EVENTS))
            .unwrap_or_else(|| "pipekit-ci acts on `push`".to_owned());
        cx.error(location, format!("unknown event `{event}` in `on`"))
            .with_label("not a GitHub Actions event")
            .with_hint(hint);
    }
}

/// `on.push`: nothing (every push) or a mapping of filters.
fn read_push(cx: &mut Context<'_>, node: &Spanned<Node>) -> PushTrigger {
    let mut push = PushTrigger::default();
    let entries = match &node.value {
        Node::Null => return push,
        Node::Map(entries) => entries,
        _ => {
            cx.wrong_type(
                node,
                "`on.push`",
                "a mapping of filters like `branches` or nothing",
            );
            return push;
        }
    };
    // Where each filter was given, by its dashed name, to report conflicts at the later one.
    let mut given: Vec<(&'static str, &Spanned<String>)> = Vec::new();
    for (key, value) in entries {
        let dashed = key.value.replace('_', "-");
        let Some(filter) = PUSH_FILTERS.into_iter().find(|filter| *filter == dashed) else {
            let location = cx.at(key);
            let hint = suggest::hint(&key.value, PUSH_FILTERS).unwrap_or_else(|| {
                "`on.push` takes `branches`, `branches-ignore`, `tags`, `tags-ignore`, `paths` and `paths-ignore`".to_owned()
            });
            cx.error(
                location,
                format!("unknown filter `{}` in `on.push`", key.value),
            )
            .with_label("unknown filter")
            .with_hint(hint);
            continue;
        };
        if let Some((_, first)) = given.iter().find(|(seen, _)| *seen == filter) {
            let location = cx.at(key);
            let first_line = cx.at(*first).line;
            cx.error(
                location,
                format!(
                    "`on.push` gives `{filter}` twice, as `{}` and `{}`",
                    first.value, key.value
                ),
            )
            .with_label("given again here")
            .with_hint(format!(
                "first given on line {first_line}; keep one of them"
            ));
            continue;
        }
        given.push((filter, key));
        let patterns = read_patterns(cx, key, value, filter);
        let slot = match filter {
            "branches" => &mut push.branches,
            "branches-ignore" => &mut push.branches_ignore,
            "tags" => &mut push.tags,
            "tags-ignore" => &mut push.tags_ignore,
            "paths" => &mut push.paths,
            _ => &mut push.paths_ignore,
        };
        *slot = Some(patterns);
    }
    for (include, ignore) in [
        ("branches", "branches-ignore"),
        ("tags", "tags-ignore"),
        ("paths", "paths-ignore"),
    ] {
        let find = |name: &str| given.iter().find(|(filter, _)| *filter == name);
        if let (Some((_, include_key)), Some((_, ignore_key))) = (find(include), find(ignore)) {
            let (include_at, ignore_at) = (cx.at(*include_key), cx.at(*ignore_key));
            let location = if ignore_at.offset > include_at.offset {
                ignore_at
            } else {
                include_at
            };
            cx.error(
                location,
                format!("`on.push` cannot have both `{include}` and `{ignore}`"),
            )
            .with_label("conflicts with the other")
            .with_hint(format!(
                "keep `{include}` and exclude with `!` patterns in it, or keep only `{ignore}`"
            ));
        }
    }
    push
}

/// One filter's patterns: a string or a list of strings, each a valid pattern.
fn read_patterns(
    cx: &mut Context<'_>,
    key: &Spanned<String>,
    node: &Spanned<Node>,
    filter: &str,
) -> Vec<FilterPattern> {
    let what = format!("`on.push.{filter}`");
    let items: Vec<&Spanned<Node>> = match &node.value {
        Node::Seq(items) => items.iter().collect(),
        Node::Null => Vec::new(),
        Node::Map(_) => {
            cx.wrong_type(node, &what, "a pattern or a list of patterns");
            return Vec::new();
        }
        _ => vec![node],
    };
    let mut patterns = Vec::new();
    let mut valid = true;
    for item in items {
        let Some(text) = fields::string(cx, item, &format!("an entry of {what}")) else {
            valid = false;
            continue;
        };
        match FilterPattern::new(&text) {
            Ok(pattern) => patterns.push(pattern),
            Err(error) => {
                valid = false;
                let location = cx.inside(item, &text, error.range.clone());
                let diagnostic = cx
                    .error(
                        location,
                        format!("invalid pattern `{text}` in {what}: {}", error.message),
                    )
                    .with_label("invalid pattern");
                if let Some(hint) = error.hint {
                    diagnostic.with_hint(hint);
                }
            }
        }
    }
    let includes = !filter.ends_with("-ignore");
    if includes && valid && patterns.iter().all(FilterPattern::is_negated) {
        let location = cx.at(key);
        let message = if patterns.is_empty() {
            format!("{what} is empty, so it matches nothing")
        } else {
            format!("{what} has only `!` patterns, so it matches nothing")
        };
        cx.warning(location, message)
            .with_label("matches nothing")
            .with_hint(format!(
                "a `!` pattern only takes back what an earlier pattern matched; to exclude alone, use `{filter}-ignore`"
            ));
    }
    patterns
}

#[cfg(test)]
mod tests;
