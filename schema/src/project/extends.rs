//! Compose's `extends`: a service built on another one, of the same file (`extends: base`
//! or `{service: base}`) or of another (`{service: base, file: common.yml}`), merged by
//! Compose's rules with the extending service winning.

use super::{MAX_DEPTH, Project, get, get_mut, merge, paths, rebase_service, services, take};
use crate::context::Context;
use crate::fields;
use crate::interpolate;
use crate::raw::{Node, Spanned};
use crate::suggest;

/// Resolves the `extends` of every service of `tree`, which is the file `file`.
pub(super) fn apply(
    cx: &mut Context<'_>,
    project: &mut Project<'_>,
    tree: &mut Spanned<Node>,
    file: &str,
) {
    if !services(tree)
        .iter()
        .any(|(_, service)| get(service, "extends").is_some())
    {
        return;
    }
    let originals: Vec<(Spanned<String>, Spanned<Node>)> = services(tree).to_vec();
    let Some(Spanned {
        value: Node::Map(entries),
        ..
    }) = get_mut(tree, "services")
    else {
        return;
    };
    for (name, service) in entries.iter_mut() {
        if get(service, "extends").is_none() {
            continue;
        }
        let mut stack = vec![(file.to_owned(), name.value.clone())];
        if let Some(resolved) = resolve(cx, project, &originals, file, service.clone(), &mut stack)
        {
            *service = resolved;
        } else {
            take(service, "extends");
        }
    }
}

/// `service` (of `file`, whose services are `siblings`) with its `extends` applied;
/// `None` when the base cannot be found (reported).
fn resolve(
    cx: &mut Context<'_>,
    project: &mut Project<'_>,
    siblings: &[(Spanned<String>, Spanned<Node>)],
    file: &str,
    mut service: Spanned<Node>,
    stack: &mut Vec<(String, String)>,
) -> Option<Spanned<Node>> {
    let Some((_, extends)) = take(&mut service, "extends") else {
        return Some(service);
    };
    let (base_name, base_file) = target(cx, &extends)?;
    let (base_file, written_file) = match &base_file {
        Some((written, at)) => {
            let naming = cx.file_name_of(&at.referenced, project.main).to_owned();
            (
                paths::joined(&naming, written),
                Some((written.clone(), at.clone())),
            )
        }
        None => (file.to_owned(), None),
    };
    if let Some(start) = stack
        .iter()
        .position(|(seen_file, seen)| *seen_file == base_file && *seen == base_name.0)
    {
        let mut cycle: Vec<&str> = stack[start..]
            .iter()
            .map(|(_, name)| name.as_str())
            .collect();
        cycle.push(&base_name.0);
        let location = cx.at(&base_name.1);
        cx.error(location, format!("`extends` cycle: {}", cycle.join(" -> ")))
            .with_label("extends a service that extends this one")
            .with_hint("a service cannot extend itself, even through other services");
        return None;
    }
    let other_services;
    let base_siblings: &[(Spanned<String>, Spanned<Node>)] = match &written_file {
        None => siblings,
        Some((written, at)) => {
            other_services = services(&load(cx, project, &base_file, written, at)?).to_vec();
            &other_services
        }
    };
    let Some((_, base)) = base_siblings
        .iter()
        .find(|(name, _)| name.value == base_name.0)
    else {
        let location = cx.at(&base_name.1);
        let shown = written_file
            .as_ref()
            .map_or("this file", |(written, _)| written.as_str());
        let hint = suggest::hint(
            &base_name.0,
            base_siblings.iter().map(|(name, _)| name.value.as_str()),
        );
        let diagnostic = cx
            .error(
                location,
                format!("`extends`: no service `{}` in {shown}", base_name.0),
            )
            .with_label("no such service");
        if let Some(hint) = hint {
            diagnostic.with_hint(hint);
        }
        return None;
    };
    if stack.len() >= MAX_DEPTH {
        let location = cx.at(&base_name.1);
        cx.error(
            location,
            format!("`extends` chains more than {MAX_DEPTH} services deep"),
        )
        .with_label("too deep")
        .with_hint("extend a service that extends fewer others");
        return None;
    }
    stack.push((base_file.clone(), base_name.0.clone()));
    let base = resolve(cx, project, base_siblings, &base_file, base.clone(), stack);
    stack.pop();
    let mut merged = base?;
    if base_file != file {
        rebase_service(
            &mut merged,
            &paths::folder_of(&base_file),
            &paths::folder_of(file),
        );
    }
    merge::merge_service(&mut merged, service);
    Some(merged)
}

/// The base service's name and place, and the `file` it is in when another.
#[allow(clippy::type_complexity)]
fn target(
    cx: &mut Context<'_>,
    extends: &Spanned<Node>,
) -> Option<((String, Spanned<Node>), Option<(String, Spanned<Node>)>)> {
    match &extends.value {
        Node::Str(name) => Some(((name.clone(), extends.clone()), None)),
        Node::Map(entries) => {
            let mut service = None;
            let mut file = None;
            for (key, value) in entries {
                match key.value.as_str() {
                    "service" => {
                        service = fields::string(cx, value, "`extends.service`")
                            .map(|name| (name, value.clone()));
                    }
                    "file" => {
                        file = fields::string(cx, value, "`extends.file`")
                            .map(|path| (path, value.clone()));
                    }
                    other => {
                        let location = cx.at(key);
                        cx.error(location, format!("unknown field `{other}` in `extends`"))
                            .with_label("unknown field")
                            .with_hint("`extends` takes `service` and `file`");
                    }
                }
            }
            if service.is_none() {
                let location = cx.at(extends);
                cx.error(location, "`extends` names no `service`")
                    .with_label("no `service`")
                    .with_hint("write `extends: {service: NAME}`, or `extends: NAME`");
            }
            Some((service?, file))
        }
        _ => {
            cx.wrong_type(
                extends,
                "`extends`",
                "a service name or a mapping with `service`",
            );
            None
        }
    }
}

/// The interpolated tree of a file `extends` names, read once.
fn load(
    cx: &mut Context<'_>,
    project: &mut Project<'_>,
    file: &str,
    written: &str,
    at: &Spanned<Node>,
) -> Option<Spanned<Node>> {
    if let Some((_, tree)) = project.extended.iter().find(|(seen, _)| seen == file) {
        return tree.clone();
    }
    let mut tree = project.read(cx, file, written, at, "cannot extend a service of");
    if let Some(tree) = tree.as_mut() {
        interpolate::interpolate(cx, tree, project.variables);
    }
    project.extended.push((file.to_owned(), tree.clone()));
    tree
}
