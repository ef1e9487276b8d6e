//! Compose's secrets: the top-level `secrets:` declarations and a job's `secrets:` list.
//!
//! Schema does no I/O: a declaration only records where the value comes from; the runner
//! reads it when a run starts.

use std::collections::BTreeMap;

use crate::raw::Spanned;

use crate::context::Context;
use crate::diagnostic::Location;
use crate::fields;
use crate::pipeline::SecretSource;
use crate::raw::Node;
use crate::suggest;

const SOURCE_FIELDS: [&str; 2] = ["file", "environment"];
const REFERENCE_FIELDS: [&str; 1] = ["source"];

/// The top-level `secrets:` as read: the valid ones, and every declared name (also those
/// whose source was wrong, so that jobs naming them get no second, misleading error).
#[derive(Debug, Default)]
pub(crate) struct Declarations {
    pub(crate) sources: BTreeMap<String, SecretSource>,
    pub(crate) names: Vec<String>,
}

/// A name in a job's `secrets:` list, where it is written.
#[derive(Debug, Clone)]
pub(crate) struct Reference {
    pub(crate) name: String,
    pub(crate) location: Location,
}

/// Reads the top-level `secrets:` mapping.
pub(crate) fn read_declarations(cx: &mut Context<'_>, node: &Spanned<Node>) -> Declarations {
    let mut declarations = Declarations::default();
    let entries = match &node.value {
        Node::Map(entries) => entries,
        Node::Null => return declarations,
        _ => {
            cx.wrong_type(node, "`secrets`", "a mapping of secret names to sources");
            return declarations;
        }
    };
    for (name, value) in entries {
        declarations.names.push(name.value.clone());
        check_name(cx, name);
        if let Some(source) = read_source(cx, name, value) {
            declarations.sources.insert(name.value.clone(), source);
        }
    }
    declarations
}

/// `{environment: VAR}` or `{file: ./path}`: exactly one.
fn read_source(
    cx: &mut Context<'_>,
    name: &Spanned<String>,
    node: &Spanned<Node>,
) -> Option<SecretSource> {
    let what = format!("secret `{}`", name.value);
    let Node::Map(entries) = &node.value else {
        cx.wrong_type(
            node,
            &what,
            "a mapping like `{environment: VAR}` or `{file: ./path}`",
        );
        return None;
    };
    let mut sources = Vec::new();
    let mut unknown_seen = false;
    for (key, value) in entries {
        let field = format!("`{}` of {what}", key.value);
        match key.value.as_str() {
            "environment" => {
                if let Some(variable) = fields::string(cx, value, &field) {
                    sources.push((key, SecretSource::Environment(variable)));
                }
            }
            "file" => {
                if let Some(path) = fields::string(cx, value, &field) {
                    sources.push((key, SecretSource::File(path)));
                }
            }
            other if other.starts_with("x-") => {}
            other => {
                unknown_seen = true;
                let location = cx.at(key);
                let hint = suggest::hint(other, SOURCE_FIELDS).unwrap_or_else(|| {
                    "a secret comes from `environment: VAR` or `file: ./path`".to_owned()
                });
                cx.error(location, format!("unknown field `{other}` in {what}"))
                    .with_label("unknown field")
                    .with_hint(hint);
            }
        }
    }
    let mut sources = sources.into_iter();
    match (sources.next(), sources.next()) {
        (Some((_, source)), None) => Some(source),
        (None, _) => {
            // A misspelt source already has its error; a wrongly typed one too.
            let tried = entries
                .iter()
                .any(|(key, _)| SOURCE_FIELDS.contains(&key.value.as_str()));
            if !unknown_seen && !tried {
                let location = cx.at(name);
                cx.error(location, format!("{what} has no source"))
                    .with_label("no `environment` or `file`")
                    .with_hint("write `environment: VAR` or `file: ./path`");
            }
            None
        }
        (Some(_), Some((second, _))) => {
            let location = cx.at(second);
            cx.error(location, format!("{what} has two sources"))
                .with_label("second source")
                .with_hint("a secret comes from one place: keep `environment` or `file`");
            None
        }
    }
}

/// A job sees its secret as an environment variable of that name, so the name must be one.
fn check_name(cx: &mut Context<'_>, name: &Spanned<String>) {
    let mut characters = name.value.chars();
    let valid = characters
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && characters.all(|character| character.is_ascii_alphanumeric() || character == '_');
    if valid && (name.value.starts_with("PIPEKIT_") || name.value == "PATH") {
        // The job's own variables (and the tag its processes are found by) must stay its own.
        let location = cx.at(name);
        cx.error(
            location,
            format!("secret name `{}` is reserved", name.value),
        )
        .with_label("reserved name")
        .with_hint("pipekit-ci sets `PIPEKIT_*` itself and programs are found through `PATH`; rename the secret");
    }
    if !valid {
        let location = cx.at(name);
        cx.error(location, format!("invalid secret name `{}`", name.value))
            .with_label("invalid secret name")
            .with_hint(
                "a job sees a secret as an environment variable of its name: start with a letter \
                 or `_`, then letters, digits and `_`",
            );
    }
}

/// A job's `secrets:`: Compose's short form (`[name]`) or long form (`[{source: name}]`).
pub(crate) fn read_references(
    cx: &mut Context<'_>,
    node: &Spanned<Node>,
    job_name: &str,
) -> Vec<Reference> {
    let what = format!("`secrets` in job `{job_name}`");
    let items: Vec<&Spanned<Node>> = match &node.value {
        Node::Seq(items) => items.iter().collect(),
        Node::Null => Vec::new(),
        _ => {
            cx.wrong_type(node, &what, "a list of secret names");
            return Vec::new();
        }
    };
    let mut references: Vec<Reference> = Vec::new();
    for item in items {
        let Some(reference) = read_reference(cx, item, &what) else {
            continue;
        };
        if !references.iter().any(|known| known.name == reference.name) {
            references.push(reference);
        }
    }
    references
}

fn read_reference(cx: &mut Context<'_>, item: &Spanned<Node>, what: &str) -> Option<Reference> {
    let Node::Map(entries) = &item.value else {
        let name = fields::string(cx, item, &format!("an entry of {what}"))?;
        return Some(Reference {
            name,
            location: cx.at(item),
        });
    };
    let mut reference = None;
    for (key, value) in entries {
        match key.value.as_str() {
            "source" => {
                reference = fields::string(cx, value, &format!("`source` in {what}")).map(|name| {
                    Reference {
                        name,
                        location: cx.at(value),
                    }
                });
            }
            other => {
                let location = cx.at(key);
                let hint = suggest::hint(other, REFERENCE_FIELDS).unwrap_or_else(|| {
                    "pipekit-ci reads `source` only; the job sees the secret under its own name"
                        .to_owned()
                });
                cx.error(
                    location,
                    format!("unknown field `{other}` in an entry of {what}"),
                )
                .with_label("unknown field")
                .with_hint(hint);
            }
        }
    }
    if reference.is_none() && !entries.iter().any(|(key, _)| key.value == "source") {
        let location = cx.at(item);
        cx.error(location, format!("an entry of {what} has no `source`"))
            .with_label("no `source`")
            .with_hint("write the secret's name, like `- api_token` or `- source: api_token`");
    }
    reference
}

/// Every name a job lists must be declared at the top level.
pub(crate) fn check_references(
    cx: &mut Context<'_>,
    declared: &Declarations,
    job_name: &str,
    references: &[Reference],
) {
    for reference in references {
        if declared.names.contains(&reference.name) {
            continue;
        }
        let hint = suggest::hint(&reference.name, declared.names.iter().map(String::as_str))
            .unwrap_or_else(|| {
                format!(
                    "declare it at the top level: `secrets: {{{}: {{environment: VAR}}}}`",
                    reference.name
                )
            });
        cx.error(
            reference.location,
            format!(
                "job `{job_name}` uses secret `{}`, which is not declared",
                reference.name
            ),
        )
        .with_label("undeclared secret")
        .with_hint(hint);
    }
}

#[cfg(test)]
mod tests;
