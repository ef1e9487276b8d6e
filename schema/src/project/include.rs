//! Compose's top-level `include:`: other projects' services, networks, volumes, secrets and
//! configs added to this one.
//!
//! Short form `- path.yml`; long form `- {path: a.yml | [a.yml, b.yml], project_directory,
//! env_file}`. An included file is interpolated with its own env file (by default the
//! `.env` of its project directory), its own `include` and `extends` resolved first, and
//! its relative paths made relative to this project. A service defined in both is an
//! error, as in Compose.

use super::{MAX_DEPTH, Project, paths, rebase_service, take};
use crate::Options;
use crate::context::Context;
use crate::fields;
use crate::interpolate::{self, Variables};
use crate::raw::{Node, Spanned};

/// One file to include, and how.
struct Entry {
    /// The `path` value as written, for messages and the file's place.
    path: Spanned<Node>,
    written: String,
    project_directory: Option<String>,
    env_files: Option<Vec<String>>,
}

/// Applies the `include:` of `tree` (whose file is the last of `stack`).
pub(super) fn apply(
    cx: &mut Context<'_>,
    project: &mut Project<'_>,
    tree: &mut Spanned<Node>,
    stack: &mut Vec<String>,
) {
    let Some((_, includes)) = take(tree, "include") else {
        return;
    };
    for entry in entries(cx, &includes) {
        let naming = cx
            .file_name_of(&entry.path.referenced, project.main)
            .to_owned();
        let file = paths::joined(&naming, &entry.written);
        if let Some(start) = stack.iter().position(|seen| *seen == file) {
            let mut cycle: Vec<&str> = stack[start..].iter().map(String::as_str).collect();
            cycle.push(&file);
            let location = cx.at(&entry.path);
            cx.error(location, format!("include cycle: {}", cycle.join(" -> ")))
                .with_label("includes a file that includes this one")
                .with_hint("a file cannot include itself, even through other files");
            continue;
        }
        if stack.len() > MAX_DEPTH {
            let location = cx.at(&entry.path);
            cx.error(
                location,
                format!("`include` nests more than {MAX_DEPTH} files deep"),
            )
            .with_label("too deep");
            continue;
        }
        let Some(mut included) =
            project.read(cx, &file, &entry.written, &entry.path, "cannot include")
        else {
            continue;
        };
        let directory = match &entry.project_directory {
            Some(dir) => paths::joined(&naming, dir),
            None => paths::folder_of(&file),
        };
        let env_files = match &entry.env_files {
            Some(files) => files
                .iter()
                .map(|path| paths::joined(&naming, path))
                .collect(),
            // The project directory's `.env`, when there is one (a missing default is no
            // error, as for the first file).
            None => {
                let default = paths::within(&directory, ".env");
                let exists = project
                    .options
                    .files
                    .is_some_and(|reader| matches!(reader.read(&default), Ok(Some(_))));
                if exists { vec![default] } else { Vec::new() }
            }
        };
        let options = Options {
            environment: project.options.environment.clone(),
            env_files: Some(env_files),
            profiles: Vec::new(),
            overrides: Vec::new(),
            files: project.options.files,
        };
        let variables = Variables::new(cx, &options);
        interpolate::interpolate(cx, &mut included, &variables);
        stack.push(file.clone());
        apply(cx, project, &mut included, stack);
        stack.pop();
        super::extends::apply(cx, project, &mut included, &file);
        add(
            cx,
            tree,
            included,
            &directory,
            &paths::folder_of(project.main),
            &file,
        );
    }
}

/// Adds an included project's top-level sections to `tree`.
fn add(
    cx: &mut Context<'_>,
    tree: &mut Spanned<Node>,
    included: Spanned<Node>,
    from: &str,
    to: &str,
    file: &str,
) {
    let Node::Map(sections) = included.value else {
        return;
    };
    for (key, mut value) in sections {
        let section = key.value.as_str();
        if !matches!(
            section,
            "services" | "networks" | "volumes" | "secrets" | "configs"
        ) {
            continue;
        }
        if section == "services"
            && let Node::Map(services) = &mut value.value
        {
            for (_, service) in services.iter_mut() {
                rebase_service(service, from, to);
            }
        }
        let Node::Map(tree_sections) = &mut tree.value else {
            return;
        };
        let Some((_, existing)) = tree_sections
            .iter_mut()
            .find(|(name, _)| name.value == key.value)
        else {
            tree_sections.push((key, value));
            continue;
        };
        let (Node::Map(existing_entries), Node::Map(added)) = (&mut existing.value, value.value)
        else {
            continue;
        };
        for (name, entry) in added {
            if let Some((first, _)) = existing_entries
                .iter()
                .find(|(seen, _)| seen.value == name.value)
            {
                if section == "services" {
                    let here = cx.at(&name);
                    let first = cx.at(first);
                    cx.error(
                        here,
                        format!(
                            "service `{}` of `{file}` is already defined (line {} of {})",
                            name.value,
                            first.line,
                            if first.file == 0 {
                                "the including file"
                            } else {
                                "another included file"
                            }
                        ),
                    )
                    .with_label("defined twice")
                    .with_hint("rename one of them, or extend the included one with `extends`");
                }
                continue;
            }
            existing_entries.push((name, entry));
        }
    }
}

/// The entries of `include:`, each checked for its shape.
fn entries(cx: &mut Context<'_>, includes: &Spanned<Node>) -> Vec<Entry> {
    let items: Vec<&Spanned<Node>> = match &includes.value {
        Node::Seq(items) => items.iter().collect(),
        Node::Null => Vec::new(),
        _ => {
            cx.wrong_type(includes, "`include`", "a list of files");
            return Vec::new();
        }
    };
    let mut entries = Vec::new();
    for item in items {
        match &item.value {
            Node::Str(path) => entries.push(Entry {
                path: item.clone(),
                written: path.clone(),
                project_directory: None,
                env_files: None,
            }),
            Node::Map(fields_of) => {
                let mut project_directory = None;
                let mut env_files = None;
                let mut paths_of = Vec::new();
                for (key, value) in fields_of {
                    match key.value.as_str() {
                        "path" => match &value.value {
                            Node::Seq(list) => paths_of.extend(list.iter().cloned()),
                            _ => paths_of.push(value.clone()),
                        },
                        "project_directory" => {
                            project_directory =
                                fields::string(cx, value, "`project_directory` in `include`");
                        }
                        "env_file" => {
                            env_files =
                                Some(fields::string_list(cx, value, "`env_file` in `include`"));
                        }
                        other => {
                            let location = cx.at(key);
                            cx.error(location, format!("unknown field `{other}` in `include`"))
                                .with_label("unknown field")
                                .with_hint("`include` entries take `path`, `project_directory` and `env_file`");
                        }
                    }
                }
                if paths_of.is_empty() {
                    let location = cx.at(item);
                    cx.error(location, "an `include` entry without `path`")
                        .with_label("no `path`");
                }
                for path in paths_of {
                    let Some(written) = fields::string(cx, &path, "`path` in `include`") else {
                        continue;
                    };
                    entries.push(Entry {
                        path,
                        written,
                        project_directory: project_directory.clone(),
                        env_files: env_files.clone(),
                    });
                }
            }
            _ => cx.wrong_type(
                item,
                "an entry of `include`",
                "a file path or a mapping with `path`",
            ),
        }
    }
    entries
}
