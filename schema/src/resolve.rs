//! Turns each job's `depends_on` entries into [`Condition`]s once every job is known.

use crate::context::Context;
use crate::depends_on::{self, Dependency, Wanted};
use crate::diagnostic::Location;
use crate::job::JobDraft;
use crate::pipeline::{Awaited, Condition, JobId, SignalId};
use crate::suggest;
use std::collections::HashMap;

/// A resolved `depends_on` entry and where it is written, for cycle reports.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Edge {
    pub(crate) condition: Condition,
    pub(crate) location: Location,
}

/// Resolves every job's dependencies; returns the edges per job, in `drafts` order.
pub(crate) fn resolve(cx: &mut Context<'_>, drafts: &[JobDraft]) -> Vec<Vec<Edge>> {
    // Wide fan-ins name every job of a layer: look names up, do not scan for them.
    let positions: HashMap<&str, usize> = drafts
        .iter()
        .enumerate()
        .rev()
        .map(|(position, draft)| (draft.job.name.as_str(), position))
        .collect();
    // Per job: the last dependent that named it, so that a fan-in of n entries is checked
    // for repeats in n steps rather than n² / 2.
    let mut named_by = vec![usize::MAX; drafts.len()];
    drafts
        .iter()
        .enumerate()
        .map(|(index, draft)| {
            let mut edges: Vec<Edge> = Vec::with_capacity(draft.dependencies.len());
            for dependency in &draft.dependencies {
                let Some(condition) = resolve_one(cx, drafts, &positions, JobId(index), dependency)
                else {
                    continue;
                };
                let named_before = named_by
                    .get_mut(condition.job.0)
                    .is_some_and(|named| std::mem::replace(named, index) == index);
                if named_before && edges.iter().any(|edge| edge.condition == condition) {
                    let location = dependency.job_location;
                    cx.warning(
                        location,
                        format!("job `{}` lists this dependency twice", draft.job.name),
                    )
                    .with_label("listed again here");
                    continue;
                }
                edges.push(Edge {
                    condition,
                    location: dependency.job_location,
                });
            }
            edges
        })
        .collect()
}

fn resolve_one(
    cx: &mut Context<'_>,
    drafts: &[JobDraft],
    positions: &HashMap<&str, usize>,
    dependent: JobId,
    dependency: &Dependency,
) -> Option<Condition> {
    let name = dependency.job.as_str();
    let Some(&position) = positions.get(name) else {
        let hint = suggest::hint(name, drafts.iter().map(|draft| draft.job.name.as_str()));
        let diagnostic = cx
            .error(dependency.job_location, format!("unknown job `{name}`"))
            .with_label("no such job");
        if let Some(hint) = hint {
            diagnostic.with_hint(hint);
        }
        return None;
    };
    let target = drafts.get(position)?;
    if position == dependent.0 {
        cx.error(
            dependency.job_location,
            format!("job `{name}` depends on itself"),
        )
        .with_label("depends on itself")
        .with_hint("a job cannot wait for its own milestones; remove this entry");
        return None;
    }
    let awaited = match &dependency.wanted {
        Wanted::Started => Awaited::Started,
        Wanted::Exited => Awaited::Exited,
        Wanted::ExitCode(code) => Awaited::ExitCode(*code),
        Wanted::Healthy => {
            if !target.has_healthcheck {
                let message = if dependency.via_condition {
                    format!("`service_healthy` needs a `healthcheck` on job `{name}`")
                } else {
                    format!("`{name}.Healthy` needs a `healthcheck` on job `{name}`")
                };
                cx.error(dependency.wanted_location, message)
                    .with_label("can never hold")
                    .with_hint(format!(
                        "add a `healthcheck:` to job `{name}`, or wait for one of its signals"
                    ));
                return None;
            }
            Awaited::Healthy
        }
        Wanted::Signal(signal) => {
            if let Some(index) = target
                .job
                .signals
                .iter()
                .position(|declared| declared.name == *signal)
            {
                Awaited::Signal(SignalId(index))
            } else {
                if !target.declared_signals.contains(signal) {
                    unknown_signal(cx, target, signal, dependency.wanted_location);
                }
                // A declared but invalid signal has been reported where it is declared.
                return None;
            }
        }
    };
    Some(Condition {
        job: JobId(position),
        awaited,
    })
}

fn unknown_signal(cx: &mut Context<'_>, target: &JobDraft, signal: &str, location: Location) {
    let name = &target.job.name;
    let mut candidates: Vec<&str> = target.declared_signals.iter().map(String::as_str).collect();
    for implicit in depends_on::IMPLICIT_REFERENCES {
        candidates.push(implicit);
    }
    let hint = match suggest::did_you_mean(signal, candidates) {
        Some(close) => format!("did you mean `{name}.{close}`?"),
        None if signal.eq_ignore_ascii_case("exitcode") => {
            format!("did you mean `{name}.ExitCode(0)`?")
        }
        None if target.declared_signals.is_empty() => {
            format!(
                "`{name}` declares no signals; every job has `Started`, `Exited` and `ExitCode(n)`"
            )
        }
        None => format!(
            "`{name}` declares {}; every job also has `Started`, `Exited` and `ExitCode(n)`",
            target
                .declared_signals
                .iter()
                .map(|declared| format!("`{declared}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    cx.error(
        location,
        format!("job `{name}` declares no signal `{signal}`"),
    )
    .with_label("unknown signal")
    .with_hint(hint);
}
