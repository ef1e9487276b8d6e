use pipekit_schema::{Source, Triggers};

use super::*;
use crate::triggers::parse_ref;

/// The `on:` block of a pipeline file holding `on` (empty: no block at all).
fn triggers(on: &str) -> Option<Triggers> {
    let source = Source {
        name: "pipekit.yml".to_owned(),
        text: format!("{on}\nservices: {{a: {{command: x}}}}\n"),
    };
    match pipekit_schema::parse(&source) {
        Ok(parsed) => parsed.pipeline.triggers,
        Err(diagnostics) => panic!("{on}\n{diagnostics}"),
    }
}

/// `(on: block, pushed ref, changed files, expected skip reason or None to run)`.
type Case<'a> = (&'a str, &'a str, Option<&'a [&'a str]>, Option<&'a str>);

fn check(cases: &[Case<'_>]) {
    for (on, reference, changed, expected) in cases {
        let triggers = triggers(on);
        let changed: Option<Vec<String>> =
            changed.map(|files| files.iter().map(|file| (*file).to_owned()).collect());
        let decision = decide(triggers.as_ref(), &parse_ref(reference), changed.as_deref());
        let expected = match expected {
            Some(why) => Decision::Skip((*why).to_owned()),
            None => Decision::Run,
        };
        assert_eq!(
            decision, expected,
            "\non: {on}\nref: {reference}\nchanged: {changed:?}"
        );
    }
}

const MAIN: &str = "refs/heads/main";
const ANY: Option<&[&str]> = Some(&["src/lib.rs"]);

#[test]
fn the_block_and_the_push_event() {
    check(&[
        ("", MAIN, ANY, None),
        ("", "refs/tags/v1", None, None),
        ("", "refs/notes/commits", ANY, None),
        (
            "on: pull_request",
            MAIN,
            ANY,
            Some("the pipeline's `on:` block has no `push` event"),
        ),
        ("on: [pull_request, push]", MAIN, ANY, None),
        ("on: push", "refs/tags/v1", None, None),
        ("on: {push: }", "refs/heads/feature/x", Some(&[]), None),
        ("on: {push: {}}", "refs/notes/commits", ANY, None),
    ]);
}

#[test]
fn branch_filters() {
    let branches = "on: {push: {branches: [main, 'release/**']}}";
    let ignore = "on: {push: {branches-ignore: ['wip/*', 'dependabot/**']}}";
    let negated = "on: {push: {branches: ['release/**', '!release/**-alpha', 'release/1-alpha']}}";
    check(&[
        (branches, MAIN, ANY, None),
        (branches, "refs/heads/release/1.2", ANY, None),
        (branches, "refs/heads/release/a/b", ANY, None),
        (
            branches,
            "refs/heads/feature/x",
            ANY,
            Some("branch `feature/x` matches none of `on.push.branches` (main, release/**)"),
        ),
        (
            branches,
            "refs/heads/mainline",
            ANY,
            Some("branch `mainline` matches none of `on.push.branches` (main, release/**)"),
        ),
        (
            "on: {push: {branches: ['feature/*']}}",
            "refs/heads/feature/a",
            ANY,
            None,
        ),
        (
            "on: {push: {branches: ['feature/*']}}",
            "refs/heads/feature/a/b",
            ANY,
            Some("branch `feature/a/b` matches none of `on.push.branches` (feature/*)"),
        ),
        (ignore, MAIN, ANY, None),
        (ignore, "refs/heads/wip/a/b", ANY, None),
        (
            ignore,
            "refs/heads/wip/try",
            ANY,
            Some("branch `wip/try` matches `wip/*` in `on.push.branches-ignore`"),
        ),
        (
            ignore,
            "refs/heads/dependabot/cargo/serde",
            ANY,
            Some(
                "branch `dependabot/cargo/serde` matches `dependabot/**` in `on.push.branches-ignore`",
            ),
        ),
        (negated, "refs/heads/release/2", ANY, None),
        (
            negated,
            "refs/heads/release/2-alpha",
            ANY,
            Some(
                "branch `release/2-alpha` is excluded by `!release/**-alpha` in `on.push.branches`",
            ),
        ),
        // A positive pattern after the negated one takes it back.
        (negated, "refs/heads/release/1-alpha", ANY, None),
        (
            "on: {push: {branches-ignore: ['release/**', '!release/keep']}}",
            "refs/heads/release/keep",
            ANY,
            None,
        ),
    ]);
}

#[test]
fn a_negated_pattern_needs_a_positive_one_before_it() {
    check(&[
        (
            "on: {push: {branches: ['!main']}}",
            "refs/heads/develop",
            ANY,
            Some("branch `develop` matches none of `on.push.branches` (!main)"),
        ),
        ("on: {push: {branches: ['!main', '**']}}", MAIN, ANY, None),
        (
            "on: {push: {branches: ['**', '!main']}}",
            MAIN,
            ANY,
            Some("branch `main` is excluded by `!main` in `on.push.branches`"),
        ),
    ]);
}

#[test]
fn tag_filters() {
    let tags = "on: {push: {tags: ['v[0-9]+.*']}}";
    check(&[
        (tags, "refs/tags/v1.0", None, None),
        (tags, "refs/tags/v10.2.3", None, None),
        (
            tags,
            "refs/tags/v.1",
            None,
            Some("tag `v.1` matches none of `on.push.tags` (v[0-9]+.*)"),
        ),
        (
            tags,
            "refs/tags/version-1",
            None,
            Some("tag `version-1` matches none of `on.push.tags` (v[0-9]+.*)"),
        ),
        (
            "on: {push: {tags-ignore: ['*-rc*']}}",
            "refs/tags/v2.0-rc1",
            None,
            Some("tag `v2.0-rc1` matches `*-rc*` in `on.push.tags-ignore`"),
        ),
        (
            "on: {push: {tags-ignore: ['*-rc*']}}",
            "refs/tags/v2.0",
            None,
            None,
        ),
        (
            "on: {push: {tags: ['v*', '!v0.*']}}",
            "refs/tags/v0.9",
            None,
            Some("tag `v0.9` is excluded by `!v0.*` in `on.push.tags`"),
        ),
    ]);
}

#[test]
fn filters_for_one_kind_of_ref_skip_the_other_kind() {
    check(&[
        (
            "on: {push: {branches: [main]}}",
            "refs/tags/v1",
            None,
            Some("tag `v1` is not a branch, and `on.push` has branch filters only (`branches`)"),
        ),
        (
            "on: {push: {branches-ignore: [wip]}}",
            "refs/tags/v1",
            None,
            Some(
                "tag `v1` is not a branch, and `on.push` has branch filters only (`branches-ignore`)",
            ),
        ),
        (
            "on: {push: {tags: ['v*']}}",
            MAIN,
            ANY,
            Some("branch `main` is not a tag, and `on.push` has tag filters only (`tags`)"),
        ),
        (
            "on: {push: {tags-ignore: []}}",
            MAIN,
            ANY,
            Some("branch `main` is not a tag, and `on.push` has tag filters only (`tags-ignore`)"),
        ),
        // Both kinds filtered: each kind is judged by its own filter.
        (
            "on: {push: {branches: [main], tags: ['v*']}}",
            MAIN,
            ANY,
            None,
        ),
        (
            "on: {push: {branches: [main], tags: ['v*']}}",
            "refs/tags/v1",
            None,
            None,
        ),
        // Neither kind filtered: any ref passes, paths alone decide.
        (
            "on: {push: {paths: ['src/**']}}",
            "refs/tags/v1",
            None,
            None,
        ),
        (
            "on: {push: {branches: [main]}}",
            "refs/notes/commits",
            ANY,
            Some(
                "ref `refs/notes/commits` is neither a branch (`refs/heads/…`) nor a tag (`refs/tags/…`), and `on.push` filters refs (`branches`)",
            ),
        ),
        (
            "on: {push: {paths: ['src/**']}}",
            "refs/notes/commits",
            ANY,
            None,
        ),
    ]);
}

#[test]
fn path_filters() {
    let paths = "on: {push: {paths: ['src/**', '**/*.md', '!docs/internal/**']}}";
    let ignore = "on: {push: {paths-ignore: ['docs/**', '**/*.md']}}";
    check(&[
        (paths, MAIN, Some(&["src/a/b.rs"]), None),
        (paths, MAIN, Some(&["README.md"]), None),
        (paths, MAIN, Some(&["tests/deep/notes.md"]), None),
        (
            paths,
            MAIN,
            Some(&["docs/internal/plan.md"]),
            Some(
                "the changed file `docs/internal/plan.md` matches none of `on.push.paths` (src/**, **/*.md, !docs/internal/**)",
            ),
        ),
        // At least one changed file selected is enough.
        (
            paths,
            MAIN,
            Some(&["Cargo.toml", "docs/internal/x.md", "src/lib.rs"]),
            None,
        ),
        (
            paths,
            MAIN,
            Some(&["Cargo.toml", "build.rs"]),
            Some(
                "none of the 2 changed files matches `on.push.paths` (src/**, **/*.md, !docs/internal/**)",
            ),
        ),
        (
            ignore,
            MAIN,
            Some(&["docs/guide/intro.txt", "README.md", "src/README.md"]),
            Some("all 3 changed files match `on.push.paths-ignore` (docs/**, **/*.md)"),
        ),
        (
            ignore,
            MAIN,
            Some(&["docs/a.txt"]),
            Some("the changed file `docs/a.txt` matches `on.push.paths-ignore` (docs/**, **/*.md)"),
        ),
        // One file outside the ignored ones is enough to run.
        (ignore, MAIN, Some(&["docs/a.txt", "src/lib.rs"]), None),
        (
            "on: {push: {paths-ignore: ['docs/**', '!docs/api/**']}}",
            MAIN,
            Some(&["docs/api/index.md"]),
            None,
        ),
        (
            paths,
            MAIN,
            Some(&[]),
            Some(
                "the push changes no file, and with `on.push.paths` only changed files can run the pipeline",
            ),
        ),
        (
            ignore,
            MAIN,
            Some(&[]),
            Some(
                "the push changes no file, and with `on.push.paths-ignore` only changed files can run the pipeline",
            ),
        ),
    ]);
}

#[test]
fn unknown_changes_and_tag_pushes_skip_path_filters() {
    let paths = "on: {push: {paths: ['src/**']}}";
    check(&[
        // A new branch: the caller cannot tell what changed.
        (paths, "refs/heads/feature/new", None, None),
        ("on: {push: {paths-ignore: ['**']}}", MAIN, None, None),
        // GitHub does not evaluate path filters for tag pushes.
        (paths, "refs/tags/v1", Some(&["docs/a.md"]), None),
        (
            "on: {push: {tags: ['v*'], paths: ['src/**']}}",
            "refs/tags/v1",
            Some(&[]),
            None,
        ),
    ]);
}

#[test]
fn ref_and_path_filters_must_both_pass() {
    let both = "on: {push: {branches: [main], paths: ['src/**']}}";
    check(&[
        (both, MAIN, Some(&["src/lib.rs"]), None),
        (
            both,
            MAIN,
            Some(&["README.md"]),
            Some("the changed file `README.md` matches none of `on.push.paths` (src/**)"),
        ),
        (
            both,
            "refs/heads/dev",
            Some(&["src/lib.rs"]),
            Some("branch `dev` matches none of `on.push.branches` (main)"),
        ),
    ]);
}
