//! The decision itself: GitHub Actions' rules for `on.push`, applied to one push.
//!
//! The rules, as GitHub documents them:
//! - no `on:` block: every push runs the pipeline; an `on:` block without `push`: none does;
//! - `push` without filters: every push runs it;
//! - branch filters (`branches`, `branches-ignore`) alone: tag pushes do not run it, and
//!   tag filters alone: branch pushes do not; with neither, any ref passes;
//! - in a list, the last pattern that matches decides, and a `!` pattern excludes;
//! - `paths`: runs if at least one changed file is selected; `paths-ignore`: skips if every
//!   changed file is; with path filters, a push that changes no file does not run it;
//! - path filters are not evaluated for tag pushes, and both ref and path filters must pass.

use pipekit_schema::{FilterPattern, PushTrigger, Triggers};

use super::pattern_list::{deciding, describe, selects};
use super::push_ref::PushRef;

/// Whether the push runs the pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Run,
    /// Why not, in one sentence naming the filter: "branch `feature/x` matches none of
    /// `on.push.branches` (main, release/**)".
    Skip(String),
}

/// Decides whether a push of `push` runs a pipeline with these `triggers`.
///
/// `changed`: the files the push changed, relative to the repository root and
/// `/`-separated; `None` when they are unknown (a new branch, without a `before` commit).
/// Path filters are then not applied and the push passes them: GitHub diffs a new branch
/// against what the rest of the repository already has, which a hook cannot know for sure,
/// and running once too often beats silently never running. The deletion of a ref is the
/// caller's to handle; it never gets here.
pub fn decide(triggers: Option<&Triggers>, push: &PushRef, changed: Option<&[String]>) -> Decision {
    let Some(triggers) = triggers else {
        return Decision::Run;
    };
    let Some(filters) = &triggers.push else {
        return Decision::Skip("the pipeline's `on:` block has no `push` event".to_owned());
    };
    let why = ref_filters(filters, push).or_else(|| match push {
        // GitHub does not evaluate path filters for tag pushes.
        PushRef::Tag(_) => None,
        PushRef::Branch(_) | PushRef::Other(_) => path_filters(filters, changed),
    });
    match why {
        Some(why) => Decision::Skip(why),
        None => Decision::Run,
    }
}

/// Why the ref does not pass `branches`/`tags` and their `-ignore`s, if it does not.
fn ref_filters(filters: &PushTrigger, push: &PushRef) -> Option<String> {
    let branch_keys = given_keys(&filters.branches, &filters.branches_ignore, "branches");
    let tag_keys = given_keys(&filters.tags, &filters.tags_ignore, "tags");
    let (name, include, ignore, key) = match push {
        PushRef::Branch(name) => (
            name,
            &filters.branches,
            &filters.branches_ignore,
            "branches",
        ),
        PushRef::Tag(name) => (name, &filters.tags, &filters.tags_ignore, "tags"),
        PushRef::Other(_) => {
            let keys: Vec<String> = branch_keys.into_iter().chain(tag_keys).collect();
            return (!keys.is_empty()).then(|| {
                format!(
                    "{push} is neither a branch (`refs/heads/…`) nor a tag (`refs/tags/…`), and `on.push` filters refs ({})",
                    keys.join(", ")
                )
            });
        }
    };
    if include.is_none() && ignore.is_none() {
        // Filters for the other kind of ref only: GitHub does not run for this kind.
        let (other_kind, other_keys) = match push {
            PushRef::Branch(_) => ("tag", tag_keys),
            _ => ("branch", branch_keys),
        };
        return (!other_keys.is_empty()).then(|| {
            format!(
                "{push} is not a {other_kind}, and `on.push` has {other_kind} filters only ({})",
                other_keys.join(", ")
            )
        });
    }
    if let Some(patterns) = include {
        match deciding(patterns, name) {
            Some(pattern) if !pattern.is_negated() => {}
            Some(pattern) => {
                return Some(format!(
                    "{push} is excluded by `{pattern}` in `on.push.{key}`"
                ));
            }
            None => {
                return Some(format!(
                    "{push} matches none of `on.push.{key}` {}",
                    describe(patterns)
                ));
            }
        }
    }
    if let Some(patterns) = ignore
        && let Some(pattern) = deciding(patterns, name).filter(|pattern| !pattern.is_negated())
    {
        return Some(format!(
            "{push} matches `{pattern}` in `on.push.{key}-ignore`"
        ));
    }
    None
}

/// The filter keys given for one kind of ref, quoted: ["`branches`"].
fn given_keys(
    include: &Option<Vec<FilterPattern>>,
    ignore: &Option<Vec<FilterPattern>>,
    key: &str,
) -> Vec<String> {
    let mut keys = Vec::new();
    if include.is_some() {
        keys.push(format!("`{key}`"));
    }
    if ignore.is_some() {
        keys.push(format!("`{key}-ignore`"));
    }
    keys
}

/// Why the changed files do not pass `paths`/`paths-ignore`, if they do not.
fn path_filters(filters: &PushTrigger, changed: Option<&[String]>) -> Option<String> {
    if filters.paths.is_none() && filters.paths_ignore.is_none() {
        return None;
    }
    let changed = changed?;
    if changed.is_empty() {
        let key = if filters.paths.is_some() {
            "paths"
        } else {
            "paths-ignore"
        };
        return Some(format!(
            "the push changes no file, and with `on.push.{key}` only changed files can run the pipeline"
        ));
    }
    if let Some(patterns) = &filters.paths
        && !changed.iter().any(|path| selects(patterns, path))
    {
        let list = describe(patterns);
        return Some(match changed {
            [only] => format!("the changed file `{only}` matches none of `on.push.paths` {list}"),
            _ => format!(
                "none of the {} changed files matches `on.push.paths` {list}",
                changed.len()
            ),
        });
    }
    if let Some(patterns) = &filters.paths_ignore
        && changed.iter().all(|path| selects(patterns, path))
    {
        let list = describe(patterns);
        return Some(match changed {
            [only] => format!("the changed file `{only}` matches `on.push.paths-ignore` {list}"),
            _ => format!(
                "all {} changed files match `on.push.paths-ignore` {list}",
                changed.len()
            ),
        });
    }
    None
}

#[cfg(test)]
mod tests;
