//! The signal constructor language: `Grep(stdout, "regex")`, `Exists("path")`, `Port(n)`,
//! each optionally followed by `:timeout_seconds`.

use std::ops::Range;
use std::time::Duration;

use crate::cursor::{Cursor, ExpressionError};

use crate::duration;
use crate::pipeline::{SignalKind, Stream};
use crate::suggest;

/// Names every job has without declaring them; not usable as declared names or constructors.
pub(crate) const IMPLICIT_SIGNALS: [&str; 4] = ["ExitCode", "Started", "Exited", "Healthy"];

const CONSTRUCTORS: [&str; 3] = ["Grep", "Exists", "Port"];
const CONSTRUCTOR_FORMS: &str =
    "signal constructors are `Grep(stdout|stderr, \"regex\")`, `Exists(\"path\")` and `Port(n)`";

/// Compiled regexes larger than this are refused (they would slow down every log line).
const REGEX_SIZE_LIMIT: usize = 1 << 20;
/// A readiness regex is a few dozen characters; longer ones are refused before compiling,
/// which for a hostile pattern costs time and memory even when the size limit stops it.
const MAX_REGEX_BYTES: usize = 4 * 1024;

/// A parsed signal expression.
#[derive(Debug, Clone)]
pub(crate) struct SignalExpression {
    pub(crate) kind: SignalKind,
    pub(crate) timeout: Option<Duration>,
}

/// Parses `Constructor(args)[:timeout_seconds]`.
pub(crate) fn parse(expression: &str) -> Result<SignalExpression, ExpressionError> {
    let mut cursor = Cursor::new(expression);
    cursor.skip_whitespace();
    if cursor.at_end() {
        return Err(ExpressionError::new(
            0..expression.len(),
            "the signal expression is empty",
            "expected a constructor",
        )
        .with_hint(CONSTRUCTOR_FORMS));
    }
    let name_range = cursor.identifier();
    let name = cursor.slice(name_range.clone());
    if name.is_empty() {
        return Err(ExpressionError::new(
            cursor.rest_range(),
            "expected a signal constructor",
            "expected a constructor",
        )
        .with_hint(CONSTRUCTOR_FORMS));
    }
    if IMPLICIT_SIGNALS.contains(&name) {
        return Err(ExpressionError::new(
            name_range,
            format!("`{name}` is implicit on every job and is not declared under `signals`"),
            "implicit signal",
        )
        .with_hint(format!(
            "reference it directly in `depends_on`, like `job.{name}`"
        )));
    }
    if !CONSTRUCTORS.contains(&name) {
        let message = match suggest::did_you_mean(name, CONSTRUCTORS) {
            Some(close) => format!("`{name}` is not a signal constructor; did you mean `{close}`?"),
            None => format!("`{name}` is not a signal constructor"),
        };
        return Err(
            ExpressionError::new(name_range, message, "unknown constructor")
                .with_hint(CONSTRUCTOR_FORMS),
        );
    }
    cursor.skip_whitespace();
    cursor.expect('(', &format!("expected `(` after `{name}`"))?;
    let kind = match name {
        "Grep" => grep(&mut cursor)?,
        "Exists" => exists(&mut cursor)?,
        _ => port(&mut cursor)?,
    };
    cursor.skip_whitespace();
    cursor.expect(')', &format!("expected `)` to close `{name}(`"))?;
    cursor.skip_whitespace();
    let timeout = if cursor.eat(':') {
        Some(timeout(&mut cursor)?)
    } else {
        None
    };
    if !cursor.at_end() {
        let rest = cursor.slice(cursor.rest_range()).to_owned();
        return Err(ExpressionError::new(
            cursor.rest_range(),
            format!("unexpected `{rest}` after the signal constructor"),
            "unexpected text",
        )
        .with_hint("a timeout follows the closing parenthesis, like `:30`"));
    }
    Ok(SignalExpression { kind, timeout })
}

fn grep(cursor: &mut Cursor<'_>) -> Result<SignalKind, ExpressionError> {
    cursor.skip_whitespace();
    let stream_range = cursor.identifier();
    let stream = match cursor.slice(stream_range.clone()) {
        "stdout" => Stream::Stdout,
        "stderr" => Stream::Stderr,
        "" => {
            return Err(ExpressionError::new(
                cursor.point(),
                "`Grep` needs a stream first",
                "expected `stdout` or `stderr`",
            )
            .with_hint("write `Grep(stdout, \"regex\")` or `Grep(stderr, \"regex\")`"));
        }
        other => {
            let message = match suggest::did_you_mean(other, ["stdout", "stderr"]) {
                Some(close) => format!("`{other}` is not a stream; did you mean `{close}`?"),
                None => format!("`{other}` is not a stream"),
            };
            return Err(ExpressionError::new(
                stream_range,
                message,
                "expected `stdout` or `stderr`",
            ));
        }
    };
    cursor.skip_whitespace();
    cursor.expect(',', "expected `,` after the stream")?;
    cursor.skip_whitespace();
    let (pattern, pattern_range) = cursor.string("the regex")?;
    if pattern.len() > MAX_REGEX_BYTES {
        return Err(ExpressionError::new(
            pattern_range,
            format!(
                "the regex is {} bytes long, more than the limit of {MAX_REGEX_BYTES}",
                pattern.len()
            ),
            "regex too long",
        )
        .with_hint("match a distinctive part of the line instead of all of it"));
    }
    let regex = regex::RegexBuilder::new(&pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|error| regex_error(&error, pattern_range))?;
    Ok(SignalKind::Grep { stream, regex })
}

fn regex_error(error: &regex::Error, range: Range<usize>) -> ExpressionError {
    match error {
        regex::Error::CompiledTooBig(limit) => ExpressionError::new(
            range,
            format!("the regex is too big: it compiles to more than {limit} bytes"),
            "regex too big",
        )
        .with_hint("use a simpler regex (large repetition counts like `{1000}` multiply its size)"),
        _ => {
            let text = error.to_string();
            // regex-syntax draws the pattern and a caret, then ends with "error: <reason>".
            let reason = text
                .lines()
                .rev()
                .find_map(|line| line.strip_prefix("error: "))
                .unwrap_or_else(|| text.lines().last().unwrap_or_default());
            ExpressionError::new(range, format!("invalid regex: {reason}"), reason)
                .with_hint("the regex uses Rust's `regex` syntax")
        }
    }
}

fn exists(cursor: &mut Cursor<'_>) -> Result<SignalKind, ExpressionError> {
    cursor.skip_whitespace();
    let (path, range) = cursor.string("the path")?;
    if path.is_empty() {
        return Err(ExpressionError::new(
            range,
            "the path of `Exists` is empty",
            "empty path",
        ));
    }
    if path.starts_with(['/', '\\']) || path.get(1..2) == Some(":") {
        return Err(ExpressionError::new(
            range,
            format!("`{path}` is an absolute path"),
            "absolute path",
        )
        .with_hint(
            "`Exists` paths are relative to the shared storage root, like `database/ready`",
        ));
    }
    let mut depth = 0_i64;
    for component in path.split(['/', '\\']) {
        match component {
            ".." => depth -= 1,
            "" | "." => {}
            _ => depth += 1,
        }
        if depth < 0 {
            return Err(ExpressionError::new(
                range,
                format!("`{path}` points outside the shared storage"),
                "escapes the shared storage",
            )
            .with_hint(
                "`Exists` paths are relative to the shared storage root and cannot leave it",
            ));
        }
    }
    Ok(SignalKind::Exists { path })
}

fn port(cursor: &mut Cursor<'_>) -> Result<SignalKind, ExpressionError> {
    cursor.skip_whitespace();
    let range =
        cursor.take_while(|character| character.is_ascii_alphanumeric() || character == '-');
    let text = cursor.slice(range.clone());
    match text.parse::<u32>() {
        Ok(port) if (1..=65_535).contains(&port) => Ok(SignalKind::Port {
            port: u16::try_from(port).unwrap_or(u16::MAX),
        }),
        Ok(_) => Err(ExpressionError::new(
            range,
            format!("port {text} is out of range"),
            "expected 1 to 65535",
        )),
        Err(_) if text.is_empty() => Err(ExpressionError::new(
            cursor.point(),
            "`Port` needs a port number",
            "expected a number",
        )
        .with_hint("write `Port(8080)`")),
        Err(_) => Err(ExpressionError::new(
            range,
            format!("`{text}` is not a port number"),
            "expected 1 to 65535",
        )),
    }
}

fn timeout(cursor: &mut Cursor<'_>) -> Result<Duration, ExpressionError> {
    cursor.skip_whitespace();
    let range = cursor.rest_range();
    let text = cursor.slice(range.clone()).trim_end();
    let range = range.start..range.start + text.len();
    let invalid = |message: &str, label: &str| {
        Err(ExpressionError::new(range.clone(), message, label)
            .with_hint("write the timeout in seconds after the constructor, like `Grep(stdout, \"ready\"):30`"))
    };
    if !duration::is_plain_number(text) {
        return invalid("timeout must be a number of seconds", "not a number");
    }
    let seconds = text.parse::<f64>().unwrap_or(0.0);
    if seconds <= 0.0 {
        return invalid("timeout must be greater than zero", "not a positive number");
    }
    let Ok(timeout) = duration::seconds(seconds) else {
        return invalid("timeout is too long", "too long");
    };
    cursor.skip_to_end();
    Ok(timeout)
}

#[cfg(test)]
mod tests;
