//! `depends_on`: pipekit's references (`db.ready`, `build.ExitCode(0)`) and Compose's forms,
//! read per job first and resolved against every job once all are known.

use std::ops::Range;

use crate::raw::Spanned;

use crate::context::Context;
use crate::cursor::{Cursor, ExpressionError};
use crate::diagnostic::Location;
use crate::raw::Node;
use crate::suggest;

const REFERENCE_FORMS: &str =
    "write `job`, `job.signal`, `job.ExitCode(0)`, `job.Started`, `job.Exited` or `job.Healthy`";
const CONDITIONS: [&str; 3] = [
    "service_started",
    "service_healthy",
    "service_completed_successfully",
];

/// What a dependency waits for, before the names are checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Wanted {
    Started,
    Exited,
    Healthy,
    ExitCode(i32),
    Signal(String),
}

/// A reference as written: `job` and `wanted` with their byte ranges in the string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reference {
    pub(crate) job: String,
    pub(crate) job_range: Range<usize>,
    pub(crate) wanted: Wanted,
    pub(crate) wanted_range: Range<usize>,
}

/// One `depends_on` entry of a job, located in the file.
#[derive(Debug, Clone)]
pub(crate) struct Dependency {
    pub(crate) job: String,
    pub(crate) job_location: Location,
    pub(crate) wanted: Wanted,
    pub(crate) wanted_location: Location,
    /// Written as Compose's `condition: service_healthy` rather than `job.Healthy`.
    pub(crate) via_condition: bool,
}

/// Parses `job`, `job.signal`, `job.ExitCode(n)`, `job.Started`, `job.Exited`, `job.Healthy`.
pub(crate) fn parse_reference(text: &str) -> Result<Reference, ExpressionError> {
    match parse_plain(text) {
        Some(reference) => Ok(reference),
        None => parse_spelled(text),
    }
}

/// [`parse_spelled`]'s answer for a reference written as most are, without spaces or
/// anything that is not ASCII (`l0-j1.ExitCode(0)`); `None` for any other text. A wide
/// fan-in has tens of thousands of references, and this costs a seventh of the cursor's way.
fn parse_plain(text: &str) -> Option<Reference> {
    if !text.bytes().all(|byte| byte.is_ascii_graphic()) {
        return None;
    }
    let Some((job, rest)) = text.split_once('.') else {
        let job_range = 0..text.len();
        return (!text.is_empty()).then(|| Reference {
            job: text.to_owned(),
            wanted: Wanted::Started,
            wanted_range: job_range.clone(),
            job_range,
        });
    };
    if job.is_empty() {
        return None;
    }
    let wanted = match rest {
        "Started" => Wanted::Started,
        "Exited" => Wanted::Exited,
        "Healthy" => Wanted::Healthy,
        // `ExitCode` alone is an error the cursor explains.
        "ExitCode" => return None,
        _ => match rest
            .strip_prefix("ExitCode(")
            .and_then(|code| code.strip_suffix(')'))
        {
            Some(code)
                if (1..=3).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit()) =>
            {
                Wanted::ExitCode(code.parse().ok().filter(|code| *code <= 255)?)
            }
            Some(_) => return None,
            None if is_identifier(rest) => Wanted::Signal(rest.to_owned()),
            None => return None,
        },
    };
    Some(Reference {
        job: job.to_owned(),
        job_range: 0..job.len(),
        wanted,
        wanted_range: job.len() + 1..text.len(),
    })
}

/// `[A-Za-z_][A-Za-z0-9_-]*`, as [`Cursor::identifier`] reads it.
fn is_identifier(text: &str) -> bool {
    let mut bytes = text.bytes();
    bytes
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == b'_')
        && bytes.all(|byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-')
}

/// The reference read character by character, with an error for every way it can be wrong.
fn parse_spelled(text: &str) -> Result<Reference, ExpressionError> {
    let mut cursor = Cursor::new(text);
    cursor.skip_whitespace();
    let job_range = cursor.take_while(|character| character != '.' && !character.is_whitespace());
    let job = cursor.slice(job_range.clone()).to_owned();
    if job.is_empty() {
        return Err(
            ExpressionError::new(cursor.point(), "expected a job name", "expected a job")
                .with_hint(REFERENCE_FORMS),
        );
    }
    if !cursor.eat('.') {
        cursor.skip_whitespace();
        if !cursor.at_end() {
            return Err(invalid(&cursor, text));
        }
        return Ok(Reference {
            job,
            wanted: Wanted::Started,
            wanted_range: job_range.clone(),
            job_range,
        });
    }
    let wanted_start = cursor.rest_range().start;
    let name_range = cursor.identifier();
    let name = cursor.slice(name_range.clone());
    let wanted = match name {
        "" => {
            return Err(ExpressionError::new(
                cursor.point(),
                format!("expected a signal after `{job}.`"),
                "expected a signal",
            )
            .with_hint(REFERENCE_FORMS));
        }
        "Started" => Wanted::Started,
        "Exited" => Wanted::Exited,
        "Healthy" => Wanted::Healthy,
        "ExitCode" => exit_code(&mut cursor, &job)?,
        _ if cursor.peek() == Some('(') => {
            let hint = match suggest::did_you_mean(name, ["ExitCode"]) {
                Some(close) => format!("did you mean `{job}.{close}(0)`?"),
                None => "declare signals under the job's `signals:` and reference them by name"
                    .to_owned(),
            };
            return Err(ExpressionError::new(
                name_range,
                format!("`{name}(…)` cannot be used in `depends_on`"),
                "not a reference",
            )
            .with_hint(hint));
        }
        _ => Wanted::Signal(name.to_owned()),
    };
    let wanted_range = wanted_start..cursor.rest_range().start;
    cursor.skip_whitespace();
    if !cursor.at_end() {
        return Err(invalid(&cursor, text));
    }
    Ok(Reference {
        job,
        job_range,
        wanted,
        wanted_range,
    })
}

fn invalid(cursor: &Cursor<'_>, text: &str) -> ExpressionError {
    ExpressionError::new(
        cursor.rest_range(),
        format!("`{}` is not a valid reference", text.trim()),
        "unexpected text",
    )
    .with_hint(REFERENCE_FORMS)
}

fn exit_code(cursor: &mut Cursor<'_>, job: &str) -> Result<Wanted, ExpressionError> {
    // Built only for an error: this runs for every reference of a wide fan-in.
    let hint = || format!("write the expected exit code, like `{job}.ExitCode(0)`");
    if !cursor.eat('(') {
        return Err(ExpressionError::new(
            cursor.point(),
            "`ExitCode` needs an exit code",
            "expected `(`",
        )
        .with_hint(hint()));
    }
    cursor.skip_whitespace();
    let range = cursor
        .take_while(|character| character.is_ascii_digit() || character == '-' || character == '+');
    let digits = cursor.slice(range.clone());
    let code = match digits.parse::<i64>() {
        Ok(code @ 0..=255) => i32::try_from(code).unwrap_or_default(),
        Ok(_) => {
            return Err(ExpressionError::new(
                range,
                format!("exit code {digits} is out of range"),
                "expected 0 to 255",
            )
            .with_hint("exit codes are between 0 and 255"));
        }
        Err(_) => {
            return Err(ExpressionError::new(
                if digits.is_empty() {
                    cursor.point()
                } else {
                    range
                },
                "`ExitCode` needs a number",
                "expected 0 to 255",
            )
            .with_hint(hint()));
        }
    };
    cursor.skip_whitespace();
    cursor.expect(')', "expected `)` after the exit code")?;
    Ok(Wanted::ExitCode(code))
}

/// Reads a job's `depends_on` (list of references or Compose's mapping form).
pub(crate) fn read(cx: &mut Context<'_>, node: &Spanned<Node>, job: &str) -> Vec<Dependency> {
    match &node.value {
        Node::Seq(items) => {
            // Sized once: a fan-in of 50 grown by doubling keeps room for 64.
            let mut dependencies = Vec::with_capacity(items.len());
            dependencies.extend(
                items
                    .iter()
                    .filter_map(|item| read_reference(cx, item, job)),
            );
            dependencies
        }
        Node::Map(entries) => entries
            .iter()
            .filter_map(|(name, value)| read_condition(cx, name, value, job))
            .collect(),
        Node::Null => Vec::new(),
        _ => {
            cx.wrong_type(node, &format!("`depends_on` in job `{job}`"), "a list");
            Vec::new()
        }
    }
}

fn read_reference(cx: &mut Context<'_>, item: &Spanned<Node>, job: &str) -> Option<Dependency> {
    let Node::Str(text) = &item.value else {
        cx.wrong_type(
            item,
            &format!("an entry of `depends_on` in job `{job}`"),
            "a string like `db.ready`",
        );
        return None;
    };
    match parse_reference(text) {
        Ok(reference) => {
            let [job_location, wanted_location] =
                cx.inside_each(item, text, [reference.job_range, reference.wanted_range]);
            Some(Dependency {
                job: reference.job,
                job_location,
                wanted: reference.wanted,
                wanted_location,
                via_condition: false,
            })
        }
        Err(error) => {
            let location = cx.inside(item, text, error.range);
            let diagnostic = cx.error(location, error.message).with_label(error.label);
            if let Some(hint) = error.hint {
                diagnostic.with_hint(hint);
            }
            None
        }
    }
}

/// Compose's `depends_on: {db: {condition: service_healthy}}`.
fn read_condition(
    cx: &mut Context<'_>,
    name: &Spanned<String>,
    value: &Spanned<Node>,
    job: &str,
) -> Option<Dependency> {
    let job_location = cx.at(name);
    let mut wanted = Some(Wanted::Started);
    let mut wanted_location = job_location;
    let mut via_condition = false;
    match &value.value {
        Node::Null => {}
        Node::Map(fields) => {
            for (key, field) in fields {
                match key.value.as_str() {
                    "condition" => {
                        wanted_location = cx.at(field);
                        via_condition = true;
                        wanted = condition(cx, field);
                    }
                    "restart" => {}
                    "required" => {
                        if field.value == Node::Bool(false) {
                            let location = cx.at(key);
                            cx.note(
                                location,
                                "`required: false` is not supported; the dependency is required",
                            )
                            .with_label("ignored");
                        }
                    }
                    other => {
                        let location = cx.at(key);
                        let hint = suggest::hint(other, ["condition", "required", "restart"]);
                        let diagnostic = cx
                            .error(
                                location,
                                format!("unknown field `{other}` in `depends_on` of job `{job}`"),
                            )
                            .with_label("unknown field");
                        if let Some(hint) = hint {
                            diagnostic.with_hint(hint);
                        }
                    }
                }
            }
        }
        _ => {
            cx.wrong_type(
                value,
                &format!("`depends_on.{}` in job `{job}`", name.value),
                "a mapping with `condition`",
            );
            return None;
        }
    }
    Some(Dependency {
        job: name.value.clone(),
        job_location,
        wanted: wanted?,
        wanted_location,
        via_condition,
    })
}

fn condition(cx: &mut Context<'_>, field: &Spanned<Node>) -> Option<Wanted> {
    let Node::Str(text) = &field.value else {
        cx.wrong_type(field, "`condition`", "a string like `service_started`");
        return None;
    };
    match text.as_str() {
        "service_started" => Some(Wanted::Started),
        "service_healthy" => Some(Wanted::Healthy),
        "service_completed_successfully" => Some(Wanted::ExitCode(0)),
        other => {
            let location = cx.at(field);
            let hint = suggest::hint(other, CONDITIONS).unwrap_or_else(|| {
                "conditions are `service_started`, `service_healthy` and `service_completed_successfully`".to_owned()
            });
            cx.error(location, format!("unknown condition `{other}`"))
                .with_label("unknown condition")
                .with_hint(hint);
            None
        }
    }
}

/// The implicit names a reference may use bare, for "did you mean" on an unknown signal.
pub(crate) const IMPLICIT_REFERENCES: [&str; 3] = ["Started", "Exited", "Healthy"];

#[cfg(test)]
mod tests;
