//! Compose's `profiles`: a service that names profiles is in the run only when one of them
//! is active (`--profile`, or `COMPOSE_PROFILES`; `*` activates every profile). The others
//! are out of the run, as with `--only`.

use super::{LeftOut, get, get_mut};
use crate::Options;
use crate::context::Context;
use crate::raw::{Node, Spanned};

/// Removes the services of inactive profiles, and reports a service that needs one.
pub(super) fn apply(
    cx: &mut Context<'_>,
    options: &Options<'_>,
    tree: &mut Spanned<Node>,
) -> LeftOut {
    let mut active: Vec<String> = options.profiles.clone();
    if let Some(listed) = options.environment.get("COMPOSE_PROFILES") {
        active.extend(
            listed
                .split(',')
                .map(str::trim)
                .filter(|name| !name.is_empty())
                .map(str::to_owned),
        );
    }
    let every = active.iter().any(|name| name == "*");
    let Some(Spanned {
        value: Node::Map(services),
        ..
    }) = get_mut(tree, "services")
    else {
        return LeftOut::default();
    };
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    services.retain(|(name, service)| {
        let profiles = profiles_of(service);
        let inactive = !profiles.is_empty()
            && !every
            && !profiles.iter().any(|profile| active.contains(profile));
        if inactive {
            out.push((name.value.clone(), profiles));
        }
        !inactive
    });
    let mut left_out = LeftOut::default();
    for (name, profiles) in &out {
        left_out.jobs.push(name.clone());
        for profile in profiles {
            if !left_out.profiles.contains(profile) {
                left_out.profiles.push(profile.clone());
            }
        }
    }
    if out.is_empty() {
        return left_out;
    }
    for (name, service) in services.iter_mut() {
        let Some(depends_on) = get_mut(service, "depends_on") else {
            continue;
        };
        let needed = |cx: &mut Context<'_>, entry: &Spanned<String>, required: bool| {
            let Some((_, profiles)) = out.iter().find(|(gone, _)| *gone == entry.value) else {
                return false;
            };
            if required {
                let location = cx.at(entry);
                let shown: Vec<String> = profiles.iter().map(|p| format!("`{p}`")).collect();
                cx.error(
                    location,
                    format!(
                        "job `{}` depends on `{}`, which is only in profile {}, not active",
                        name.value,
                        entry.value,
                        shown.join(", ")
                    ),
                )
                .with_label("in an inactive profile")
                .with_hint(format!(
                    "add `--profile {}`, or mark the dependency `required: false`",
                    profiles.first().map_or("", String::as_str)
                ));
            }
            true
        };
        match &mut depends_on.value {
            Node::Seq(items) => items.retain(|item| match &item.value {
                Node::Str(text) => {
                    // Only the job part of a `job.signal` reference names a service.
                    let job = text.split('.').next().unwrap_or(text);
                    let entry = Spanned {
                        value: job.to_owned(),
                        referenced: item.referenced,
                        defined: item.defined,
                    };
                    !needed(cx, &entry, true)
                }
                _ => true,
            }),
            Node::Map(entries) => entries.retain(|(key, value)| {
                let required = !matches!(
                    get(value, "required").map(|required| &required.value),
                    Some(Node::Bool(false))
                );
                !needed(cx, key, required)
            }),
            _ => {}
        }
    }
    left_out
}

/// The profile names a service lists.
fn profiles_of(service: &Spanned<Node>) -> Vec<String> {
    match get(service, "profiles").map(|profiles| &profiles.value) {
        Some(Node::Seq(items)) => items
            .iter()
            .filter_map(|item| match &item.value {
                Node::Str(name) => Some(name.clone()),
                _ => None,
            })
            .collect(),
        Some(Node::Str(name)) => vec![name.clone()],
        _ => Vec::new(),
    }
}
