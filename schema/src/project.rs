//! A Compose project from its files: override files merged over the first, `include`d
//! projects added, `extends` resolved, services of inactive profiles left out.
//!
//! Each stage works on the YAML tree, before any job is read, so that the jobs are read
//! once from the merged tree and a finding about a merged value still names the file and
//! line it was written on (see [`Context::read_file`]).

mod extends;
mod include;
mod merge;
mod paths;
mod profiles;

use crate::context::Context;
use crate::interpolate::{self, Variables};
use crate::raw::{Node, Spanned};
use crate::{Options, Source};

/// How many files deep `include` may nest, and how many services deep `extends` may
/// chain: real projects use two or three; the limit keeps a hostile chain from exhausting
/// the stack or costing a walk of the whole chain per service.
const MAX_DEPTH: usize = 32;

/// The whole project's tree, from the first file's (already interpolated) tree.
pub(crate) fn assemble(
    cx: &mut Context<'_>,
    mut tree: Spanned<Node>,
    source: &Source,
    options: &Options<'_>,
    variables: &Variables,
) -> (Spanned<Node>, LeftOut) {
    for over in &options.overrides {
        let Some(mut over_tree) = cx.read_file(&over.name, over.text.clone()) else {
            continue;
        };
        interpolate::interpolate(cx, &mut over_tree, variables);
        match over_tree.value {
            Node::Map(_) => merge::merge_files(&mut tree, over_tree),
            Node::Null => {}
            _ => cx.wrong_type(&over_tree, "an override file", "a mapping with `services:`"),
        }
    }
    let mut project = Project {
        main: &source.name,
        options,
        variables,
        extended: Vec::new(),
    };
    include::apply(cx, &mut project, &mut tree, &mut vec![source.name.clone()]);
    extends::apply(cx, &mut project, &mut tree, &source.name);
    let left_out = profiles::apply(cx, options, &mut tree);
    (tree, left_out)
}

/// The jobs of inactive profiles, left out of the run.
#[derive(Debug, Default)]
pub(crate) struct LeftOut {
    pub(crate) jobs: Vec<String>,
    /// Their profiles, each once, in file order.
    pub(crate) profiles: Vec<String>,
}

/// What the stages share: the options, and the files `extends` has read so far.
struct Project<'p> {
    /// The first file's name, which paths in the final tree are relative to.
    main: &'p str,
    options: &'p Options<'p>,
    variables: &'p Variables,
    /// Files read for `extends: {file: …}`, by path: their tree once interpolated, `None`
    /// when they could not be read (reported once).
    extended: Vec<(String, Option<Spanned<Node>>)>,
}

impl Project<'_> {
    /// Reads `file` (a joined path) through the options' reader, or reports why not at
    /// `at`, naming what wanted it.
    fn read(
        &self,
        cx: &mut Context<'_>,
        file: &str,
        written: &str,
        at: &Spanned<Node>,
        what: &str,
    ) -> Option<Spanned<Node>> {
        let location = cx.at(at);
        let Some(reader) = self.options.files else {
            cx.error(
                location,
                format!("{what} `{written}`, and this pipeline is read without its folder"),
            )
            .with_label("cannot be read here");
            return None;
        };
        match reader.read(file) {
            Ok(Some(text)) => cx.read_file(file, text),
            Ok(None) => {
                cx.error(
                    location,
                    format!("{what} `{written}`: no such file `{file}`"),
                )
                .with_label("no such file");
                None
            }
            Err(reason) => {
                cx.error(
                    location,
                    format!("{what} `{written}`: cannot read `{file}`: {reason}"),
                )
                .with_label("cannot be read");
                None
            }
        }
    }
}

/// The value of `key` in a mapping node.
fn get<'t>(node: &'t Spanned<Node>, key: &str) -> Option<&'t Spanned<Node>> {
    match &node.value {
        Node::Map(entries) => entries
            .iter()
            .find(|(name, _)| name.value == key)
            .map(|(_, value)| value),
        _ => None,
    }
}

/// The value of `key` in a mapping node, to change it.
fn get_mut<'t>(node: &'t mut Spanned<Node>, key: &str) -> Option<&'t mut Spanned<Node>> {
    match &mut node.value {
        Node::Map(entries) => entries
            .iter_mut()
            .find(|(name, _)| name.value == key)
            .map(|(_, value)| value),
        _ => None,
    }
}

/// Removes `key` from a mapping node and returns its entry.
fn take(node: &mut Spanned<Node>, key: &str) -> Option<(Spanned<String>, Spanned<Node>)> {
    let Node::Map(entries) = &mut node.value else {
        return None;
    };
    let position = entries.iter().position(|(name, _)| name.value == key)?;
    Some(entries.remove(position))
}

/// The services of a project tree, when `services:` is a mapping.
fn services(tree: &Spanned<Node>) -> &[(Spanned<String>, Spanned<Node>)] {
    match get(tree, "services").map(|services| &services.value) {
        Some(Node::Map(entries)) => entries,
        _ => &[],
    }
}

/// Paths in a service written relative to the folder `from`, made relative to `to`
/// (`build` contexts, `env_file`s, bind mount sources): what an `extends`ed or `include`d
/// file writes is relative to its own folder.
fn rebase_service(service: &mut Spanned<Node>, from: &str, to: &str) {
    if from == to {
        return;
    }
    let rebase = |node: &mut Spanned<Node>| {
        if let Node::Str(path) = &mut node.value
            && let Some(moved) = paths::rebased(path, from, to)
        {
            *path = moved;
        }
    };
    if let Some(build) = get_mut(service, "build") {
        match &mut build.value {
            Node::Str(_) => rebase(build),
            Node::Map(entries) => {
                match entries.iter_mut().find(|(key, _)| key.value == "context") {
                    Some((_, context)) => rebase(context),
                    None => {
                        let place = build.referenced;
                        let Node::Map(entries) = &mut build.value else {
                            return;
                        };
                        let mut context = Spanned {
                            value: Node::Str(".".to_owned()),
                            referenced: place,
                            defined: place,
                        };
                        rebase(&mut context);
                        entries.push((
                            Spanned {
                                value: "context".to_owned(),
                                referenced: place,
                                defined: place,
                            },
                            context,
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    if let Some(env_file) = get_mut(service, "env_file") {
        match &mut env_file.value {
            Node::Str(_) => rebase(env_file),
            Node::Seq(items) => {
                for item in items {
                    match get_mut(item, "path") {
                        Some(path) => rebase(path),
                        None => rebase(item),
                    }
                }
            }
            Node::Map(_) => {
                if let Some(path) = get_mut(env_file, "path") {
                    rebase(path);
                }
            }
            _ => {}
        }
    }
    if let Some(Spanned {
        value: Node::Seq(volumes),
        ..
    }) = get_mut(service, "volumes")
    {
        for volume in volumes {
            match &mut volume.value {
                Node::Str(text) if text.starts_with('.') => {
                    let (source, rest) = text.split_once(':').unwrap_or((text.as_str(), ""));
                    if let Some(moved) = paths::rebased(source, from, to) {
                        *text = if rest.is_empty() {
                            moved
                        } else {
                            format!("{moved}:{rest}")
                        };
                    }
                }
                Node::Map(_) => {
                    if let Some(source) = get_mut(volume, "source")
                        && matches!(&source.value, Node::Str(path) if path.starts_with('.'))
                    {
                        rebase(source);
                    }
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests;
