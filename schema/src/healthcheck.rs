//! Compose's `healthcheck:`, which `condition: service_healthy` waits on.

use std::time::Duration;

use crate::raw::Spanned;

use crate::context::Context;
use crate::fields;
use crate::pipeline::{Command, Healthcheck};
use crate::raw::Node;
use crate::suggest;

/// Between probes. Compose waits 30s; a CI run waits on this, so probe every second.
pub(crate) const DEFAULT_INTERVAL: Duration = Duration::from_secs(1);
/// For one probe, as in Compose.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Failed probes in a row before the job counts as unhealthy, as in Compose.
pub(crate) const DEFAULT_RETRIES: u32 = 3;

const FIELDS: [&str; 7] = [
    "test",
    "interval",
    "timeout",
    "retries",
    "start_period",
    "start_interval",
    "disable",
];

/// Whether the healthcheck is switched off (`disable: true` or `test: ["NONE"]`).
pub(crate) fn is_disabled(node: &Spanned<Node>) -> bool {
    let Node::Map(entries) = &node.value else {
        return false;
    };
    entries
        .iter()
        .any(|(key, value)| match (key.value.as_str(), &value.value) {
            ("disable", Node::Bool(disabled)) => *disabled,
            ("test", Node::Seq(items)) => items
                .first()
                .is_some_and(|first| first.value == Node::Str("NONE".to_owned())),
            _ => false,
        })
}

/// Reads a healthcheck; `None` when it is disabled or invalid (and then reported).
pub(crate) fn read(cx: &mut Context<'_>, node: &Spanned<Node>, what: &str) -> Option<Healthcheck> {
    let Node::Map(entries) = &node.value else {
        cx.wrong_type(node, what, "a mapping with `test`");
        return None;
    };
    if is_disabled(node) {
        return None;
    }
    let mut test = None;
    let mut healthcheck = Healthcheck {
        test: Command::Exec(Vec::new()),
        interval: DEFAULT_INTERVAL,
        timeout: DEFAULT_TIMEOUT,
        retries: DEFAULT_RETRIES,
        start_period: Duration::ZERO,
    };
    let mut valid = true;
    for (key, value) in entries {
        let field = format!("`healthcheck.{}`", key.value);
        let duration = |cx: &mut Context<'_>, slot: &mut Duration| match fields::compose_duration(
            cx, value, &field,
        ) {
            Some(duration) => {
                *slot = duration;
                true
            }
            None => false,
        };
        valid &= match key.value.as_str() {
            "test" => {
                test = read_test(cx, value, &field);
                test.is_some()
            }
            "interval" => duration(cx, &mut healthcheck.interval),
            "timeout" => duration(cx, &mut healthcheck.timeout),
            "start_period" => duration(cx, &mut healthcheck.start_period),
            "retries" => match value.value {
                Node::Int(retries) if retries >= 0 => {
                    healthcheck.retries = u32::try_from(retries).unwrap_or(u32::MAX);
                    true
                }
                Node::Int(_) => {
                    let location = cx.at(value);
                    cx.error(location, format!("{field} must not be negative"))
                        .with_label("negative");
                    false
                }
                _ => {
                    cx.wrong_type(value, &field, "a whole number");
                    false
                }
            },
            "start_interval" | "disable" => true,
            other => {
                let location = cx.at(key);
                let hint = suggest::hint(other, FIELDS);
                let diagnostic = cx
                    .error(location, format!("unknown field `{other}` in {what}"))
                    .with_label("unknown field");
                if let Some(hint) = hint {
                    diagnostic.with_hint(hint);
                }
                false
            }
        };
    }
    let Some(test) = test else {
        if valid {
            let location = cx.at(node);
            cx.error(location, format!("{what} has no `test`"))
                .with_label("no `test`")
                .with_hint("add the probe, like `test: [\"CMD\", \"pg_isready\"]` or `test: curl -f http://localhost`");
        }
        return None;
    };
    healthcheck.test = test;
    valid.then_some(healthcheck)
}

/// `test:` as a string (shell form) or a list starting with `CMD` or `CMD-SHELL`.
fn read_test(cx: &mut Context<'_>, node: &Spanned<Node>, field: &str) -> Option<Command> {
    let Node::Seq(items) = &node.value else {
        return fields::command(cx, node, field);
    };
    let words: Vec<String> = items
        .iter()
        .filter_map(|item| fields::string(cx, item, &format!("an entry of {field}")))
        .collect();
    if words.len() != items.len() {
        return None;
    }
    let (first, rest) = words
        .split_first()
        .map_or(("", &[][..]), |(first, rest)| (first.as_str(), rest));
    let command = match first {
        "CMD" if !rest.is_empty() => Command::Exec(rest.to_vec()),
        "CMD-SHELL" if !rest.is_empty() => Command::Shell(rest.join(" ")),
        "CMD" | "CMD-SHELL" => {
            let location = cx.at(node);
            cx.error(location, format!("{field} has no command after `{first}`"))
                .with_label("nothing to run");
            return None;
        }
        _ => {
            let location = items
                .first()
                .map_or_else(|| cx.at(node), |item| cx.at(item));
            cx.error(location, format!("{field} must start with `CMD`, `CMD-SHELL` or `NONE`"))
                .with_label("expected `CMD`, `CMD-SHELL` or `NONE`")
                .with_hint("write `[\"CMD\", \"program\", \"arg\"]`, `[\"CMD-SHELL\", \"shell command\"]` or a plain string");
            return None;
        }
    };
    Some(command)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::line_index::LineIndex;
    use crate::raw;

    fn read_text(text: &str) -> (Option<Healthcheck>, Vec<String>) {
        let index = LineIndex::new(text);
        let tree = raw::parse(&index).expect("valid YAML");
        let mut cx = Context::new(&index);
        let healthcheck = read(&mut cx, &tree, "`healthcheck`");
        let messages = cx.diagnostics.into_iter().map(|d| d.message).collect();
        (healthcheck, messages)
    }

    #[test]
    fn reads_every_test_form_with_defaults() {
        let cases = [
            ("test: pg_isready", Command::Shell("pg_isready".to_owned())),
            (
                "test: [CMD-SHELL, curl -f localhost]",
                Command::Shell("curl -f localhost".to_owned()),
            ),
            (
                "test: [CMD, pg_isready, -q]",
                Command::Exec(vec!["pg_isready".to_owned(), "-q".to_owned()]),
            ),
        ];
        for (text, expected) in cases {
            let (healthcheck, messages) = read_text(text);
            let healthcheck = healthcheck.unwrap_or_else(|| panic!("{text}: {messages:?}"));
            assert_eq!(healthcheck.test, expected, "{text}");
            assert_eq!(healthcheck.interval, DEFAULT_INTERVAL);
            assert_eq!(healthcheck.timeout, DEFAULT_TIMEOUT);
            assert_eq!(healthcheck.retries, DEFAULT_RETRIES);
            assert_eq!(healthcheck.start_period, Duration::ZERO);
        }
    }

    #[test]
    fn reads_durations_and_retries() {
        let (healthcheck, messages) =
            read_text("test: x\ninterval: 500ms\ntimeout: 1m30s\nstart_period: 5\nretries: 10\n");
        let healthcheck = healthcheck.unwrap_or_else(|| panic!("{messages:?}"));
        assert_eq!(healthcheck.interval, Duration::from_millis(500));
        assert_eq!(healthcheck.timeout, Duration::from_secs(90));
        assert_eq!(healthcheck.start_period, Duration::from_secs(5));
        assert_eq!(healthcheck.retries, 10);
    }

    #[test]
    fn reports_invalid_healthchecks() {
        let cases = [
            ("interval: 1s", "`healthcheck` has no `test`"),
            (
                "test: [RUN, x]",
                "`healthcheck.test` must start with `CMD`, `CMD-SHELL` or `NONE`",
            ),
            (
                "test: x\ninterval: soon",
                "`healthcheck.interval` is not a valid duration: `soon` is not a duration",
            ),
            (
                "test: x\nretries: -1",
                "`healthcheck.retries` must not be negative",
            ),
            (
                "test: x\nintervall: 1s",
                "unknown field `intervall` in `healthcheck`",
            ),
        ];
        for (text, expected) in cases {
            let (healthcheck, messages) = read_text(text);
            assert!(healthcheck.is_none(), "{text}");
            assert_eq!(messages, [expected], "{text}");
        }
    }

    #[test]
    fn none_and_disable_switch_it_off() {
        for text in ["test: [NONE]", "test: x\ndisable: true"] {
            let (healthcheck, messages) = read_text(text);
            assert!(healthcheck.is_none() && messages.is_empty(), "{text}");
        }
    }
}
