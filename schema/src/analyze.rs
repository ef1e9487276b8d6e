//! The whole check: YAML tree -> top-level keys -> jobs -> references -> cycles.
//!
//! Every stage reports into one [`Context`] and carries on, so a single run shows every
//! problem in the file, not only the first.

use std::collections::BTreeMap;

use crate::raw::Spanned;

use crate::context::Context;
use crate::diagnostic::{Diagnostics, Severity};
use crate::fields;
use crate::graph;
use crate::interpolate;
use crate::job::{self, JobDraft};
use crate::line_index::LineIndex;
use crate::pipeline::Pipeline;
use crate::project;
use crate::raw::{self, Node};
use crate::resolve;
use crate::secrets;
use crate::suggest;
use crate::triggers;
use crate::{MAX_PIPELINE_BYTES, Options, Parsed, Source};

const TOP_LEVEL_KEYS: [&str; 6] = ["version", "name", "on", "env", "secrets", "services"];
/// Compose's top-level keys that load but do nothing yet.
const IGNORED_TOP_LEVEL_KEYS: [&str; 3] = ["networks", "volumes", "configs"];

/// Parses and validates `source` on its own, returning every finding on failure.
pub(crate) fn analyze(source: &Source) -> Result<Parsed, Diagnostics> {
    analyze_with(source, &Options::default())
}

/// Parses and validates `source` as a Compose project with `options`.
pub(crate) fn analyze_with(source: &Source, options: &Options<'_>) -> Result<Parsed, Diagnostics> {
    let index = LineIndex::new(&source.text);
    let mut cx = Context::new(&index);
    let pipeline = build(&mut cx, source, options);
    let included = cx.included_sources();
    let mut items = cx.diagnostics;
    items.sort_by_key(|diagnostic| {
        diagnostic.location.map_or((0, 0, 0), |location| {
            (location.file, location.offset, location.len)
        })
    });
    match pipeline {
        Some(pipeline) if !items.iter().any(|item| item.severity == Severity::Error) => {
            Ok(Parsed {
                pipeline,
                notes: items,
                included,
            })
        }
        _ => Err(Diagnostics {
            source_name: source.name.clone(),
            source_text: source.text.clone(),
            items,
            included,
        }),
    }
}

fn build(cx: &mut Context<'_>, source: &Source, options: &Options<'_>) -> Option<Pipeline> {
    if source.text.len() > MAX_PIPELINE_BYTES {
        cx.error(
            cx.index.locate(0, 0),
            format!(
                "the pipeline file is {} bytes, more than the limit of {MAX_PIPELINE_BYTES}",
                source.text.len()
            ),
        )
        .with_label("file too large")
        .with_hint("a pipeline file this large is almost certainly not a pipeline");
        return None;
    }
    let mut tree = match raw::parse(cx.index) {
        Ok(tree) => tree,
        Err(diagnostic) => {
            cx.push_diagnostic(*diagnostic);
            return None;
        }
    };
    // Compose's order: each file is interpolated on its own, then the files are merged.
    let variables = interpolate::Variables::new(cx, options);
    interpolate::interpolate(cx, &mut tree, &variables);
    let (tree, left_out) = project::assemble(cx, tree, source, options, &variables);
    let entries = match &tree.value {
        Node::Map(entries) => entries,
        Node::Null => {
            cx.error(cx.index.locate(0, 0), "the pipeline file is empty")
                .with_label("expected `services:`")
                .with_hint("a pipeline lists its jobs under `services:`");
            return None;
        }
        other => {
            let location = cx.at(&tree);
            cx.error(
                location,
                format!("the pipeline must be a mapping, found {}", other.kind()),
            )
            .with_label("expected a mapping with `services:`")
            .with_hint("a pipeline lists its jobs under `services:`");
            return None;
        }
    };
    let mut pipeline = Pipeline {
        name: file_stem(&source.name),
        env: BTreeMap::new(),
        jobs: Vec::new(),
        triggers: None,
        secrets: BTreeMap::new(),
    };
    let mut services = None;
    let mut declarations = secrets::Declarations::default();
    for (key, value) in entries {
        match key.value.as_str() {
            "version" => check_version(cx, value),
            "name" => {
                if let Some(name) = fields::string(cx, value, "`name`") {
                    pipeline.name = name;
                }
            }
            "env" => {
                pipeline.env = fields::string_map(cx, value, "`env`");
            }
            "on" => pipeline.triggers = Some(triggers::read(cx, key, value)),
            "secrets" => declarations = secrets::read_declarations(cx, value),
            "services" => services = Some((key, value)),
            other if other.starts_with("x-") => {}
            other if IGNORED_TOP_LEVEL_KEYS.contains(&other) => {
                let location = cx.at(key);
                cx.note(
                    location,
                    format!("`{other}` is not used yet and is ignored"),
                )
                .with_label("ignored");
            }
            other => {
                let location = cx.at(key);
                let hint = suggest::hint(
                    other,
                    TOP_LEVEL_KEYS.into_iter().chain(IGNORED_TOP_LEVEL_KEYS),
                )
                .unwrap_or_else(|| {
                    "top-level keys are `version`, `name`, `on`, `env`, `secrets` and `services`"
                        .to_owned()
                });
                cx.error(location, format!("unknown top-level key `{other}`"))
                    .with_label("unknown key")
                    .with_hint(hint);
            }
        }
    }
    let Some((services_key, services)) = services else {
        let location = cx.at(&tree);
        cx.error(location, "the pipeline has no `services:`")
            .with_label("expected `services:`")
            .with_hint("list the jobs under `services:`, as in Compose");
        return None;
    };
    let drafts = read_jobs(cx, services_key, services, &left_out);
    for draft in &drafts {
        secrets::check_references(cx, &declarations, &draft.job.name, &draft.secrets);
    }
    pipeline.secrets = declarations.sources;
    // The tree is read: freed now, its memory holds the graph's edges (new pages cost a
    // page fault each, a tenth of `validate`'s time for a 500-job file).
    drop(tree);
    let edges = resolve::resolve(cx, &drafts);
    for cycle in graph::find_cycles(&edges) {
        let names: Vec<&str> = cycle
            .path
            .iter()
            .filter_map(|index| drafts.get(*index).map(|draft| draft.job.name.as_str()))
            .collect();
        cx.error(
            cycle.closing,
            format!("dependency cycle: {}", names.join(" -> ")),
        )
        .with_label("closes the cycle")
        .with_hint("a job cannot wait, even through other jobs, for itself");
    }
    pipeline.jobs = drafts
        .into_iter()
        .zip(edges)
        .map(|(mut draft, edges)| {
            draft.job.depends_on = edges.into_iter().map(|edge| edge.condition).collect();
            draft.job
        })
        .collect();
    Some(pipeline)
}

fn read_jobs(
    cx: &mut Context<'_>,
    key: &Spanned<String>,
    services: &Spanned<Node>,
    left_out: &project::LeftOut,
) -> Vec<JobDraft> {
    match &services.value {
        Node::Map(entries) if !entries.is_empty() => entries
            .iter()
            .map(|(name, job)| job::read(cx, name, job))
            .collect(),
        // As Compose: a project whose every service is in an inactive profile is valid, and
        // nothing of it runs.
        Node::Map(_) if !left_out.jobs.is_empty() => {
            let location = cx.at(key);
            cx.note(
                location,
                format!(
                    "every job is in a profile that is not active ({}): nothing runs",
                    left_out.profiles.join(", ")
                ),
            )
            .with_label("no active job")
            .with_hint(format!(
                "activate one with `--profile {}`",
                left_out.profiles.first().map_or("NAME", String::as_str)
            ));
            Vec::new()
        }
        Node::Map(_) | Node::Null => {
            let location = cx.at(key);
            cx.error(location, "`services` lists no jobs")
                .with_label("no jobs")
                .with_hint("add at least one job, like `build: {command: make}`");
            Vec::new()
        }
        _ => {
            cx.wrong_type(services, "`services`", "a mapping of job names to jobs");
            Vec::new()
        }
    }
}

/// pipekit's `"1"`, and Compose's `"2"`, `"2.x"`, `"3"`, `"3.x"` (quoted or not).
fn check_version(cx: &mut Context<'_>, value: &Spanned<Node>) {
    let text = match &value.value {
        Node::Str(_) | Node::Int(_) | Node::Float(_) => cx.scalar_text(value).unwrap_or_default(),
        _ => {
            cx.wrong_type(value, "`version`", "a string like \"1\"");
            return;
        }
    };
    let (major, minor) = text.split_once('.').unwrap_or((text.as_str(), "0"));
    let minor_ok = !minor.is_empty() && minor.chars().all(|character| character.is_ascii_digit());
    let supported = match major {
        "1" => minor.chars().all(|character| character == '0') && minor_ok,
        "2" | "3" => minor_ok,
        _ => false,
    };
    if !supported {
        let location = cx.at(value);
        cx.error(location, format!("unsupported version `{text}`"))
            .with_label("unsupported version")
            .with_hint("write `version: \"1\"` (Compose's \"2.x\" and \"3.x\" are accepted too), or leave it out");
    }
}

/// `pipelines/ci.yml` -> `ci`; the default pipeline name.
fn file_stem(path: &str) -> String {
    let file = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let stem = match file.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => file,
    };
    if stem.is_empty() {
        "pipeline".to_owned()
    } else {
        stem.to_owned()
    }
}

#[cfg(test)]
mod tests;
