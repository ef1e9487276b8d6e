//! Planning against real repositories made with libgit2: commits of files, read back from
//! their objects only.

use super::*;
use crate::git::{Revision, SourceRepo};
use git2::{Oid, Repository, Signature};
use std::path::{Path, PathBuf};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A repository whose `main` gets one commit per [`Repo::commit`].
struct Repo {
    dir: tempfile::TempDir,
    repo: Repository,
}

impl Repo {
    fn new() -> Result<Repo, git2::Error> {
        let dir = tempfile::tempdir().map_err(|error| git2::Error::from_str(&error.to_string()))?;
        let repo = Repository::init(dir.path())?;
        repo.set_head("refs/heads/main")?;
        Ok(Repo { dir, repo })
    }

    /// Commits the tree of the parent with `files` written over it (`None`: removed).
    fn commit(&self, files: &[(&str, Option<&[u8]>)]) -> Result<Oid, git2::Error> {
        let mut index = self.repo.index()?;
        for (path, bytes) in files {
            match bytes {
                Some(bytes) => {
                    let full = self.dir.path().join(path);
                    if let Some(parent) = full.parent() {
                        std::fs::create_dir_all(parent)
                            .map_err(|error| git2::Error::from_str(&error.to_string()))?;
                    }
                    std::fs::write(&full, bytes)
                        .map_err(|error| git2::Error::from_str(&error.to_string()))?;
                    index.add_path(Path::new(path))?;
                }
                None => index.remove_path(Path::new(path))?,
            }
        }
        index.write()?;
        let tree = self.repo.find_tree(index.write_tree()?)?;
        let author = Signature::now("Ada", "ada@example.com")?;
        let parent = self
            .repo
            .head()
            .ok()
            .and_then(|head| head.peel_to_commit().ok());
        let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
        self.repo
            .commit(Some("HEAD"), &author, &author, "Change", &tree, &parents)
    }

    fn source(&self) -> Result<SourceRepo, crate::git::GitError> {
        SourceRepo::open(self.dir.path(), false)
    }
}

const PLAIN: &[u8] = b"services:\n  build:\n    command: [\"true\"]\n";

/// Runs on pushes to main, except when only docs changed.
const ON_MAIN_NOT_DOCS: &[u8] = b"on:\n  push:\n    branches: [main]\n    paths_ignore: ['docs/**']\nservices:\n  build:\n    command: [\"true\"]\n";

fn head() -> Revision {
    Revision::Commit("HEAD".to_owned())
}

fn outcomes(plan: &CommitPlan) -> Vec<(PathBuf, &'static str)> {
    plan.files
        .iter()
        .map(|file| {
            let outcome = match &file.outcome {
                FileOutcome::Run(_) => "run",
                FileOutcome::NotTriggered(_) => "not triggered",
                FileOutcome::Unreadable(_) => "unreadable",
                FileOutcome::Invalid { .. } => "invalid",
            };
            (file.path.clone(), outcome)
        })
        .collect()
}

#[test]
fn the_default_file_of_a_folder_is_found_or_its_absence_named() -> TestResult {
    let repo = Repo::new()?;
    let sha = repo.commit(&[("sub/pipekit.yaml", Some(PLAIN)), ("README", Some(b"hi\n"))])?;
    let source = repo.source()?;

    let plan = CommitPlan::read(
        &source,
        &head(),
        None,
        &PipelineChoice::DefaultIn("sub".into()),
    )?;
    assert_eq!(
        outcomes(&plan),
        [(PathBuf::from("sub/pipekit.yaml"), "run")]
    );
    assert_eq!(plan.commit.sha, sha.to_string());
    assert_eq!(plan.commit.branch.as_deref(), Some("main"));
    assert_eq!(plan.shown, "HEAD");

    let none = CommitPlan::read(
        &source,
        &head(),
        None,
        &PipelineChoice::DefaultIn("".into()),
    );
    assert_eq!(
        none.map(drop).map_err(|error| error.to_string()),
        Err("no pipekit.yml or pipekit.yaml in `.` of that commit".to_owned())
    );
    Ok(())
}

#[test]
fn a_named_file_that_is_not_in_the_commit_is_an_error() -> TestResult {
    let repo = Repo::new()?;
    repo.commit(&[("pipekit.yml", Some(PLAIN))])?;
    // In the work tree only: the commit decides.
    std::fs::write(repo.dir.path().join("local.yml"), PLAIN)?;
    let planned = CommitPlan::read(
        &repo.source()?,
        &head(),
        None,
        &PipelineChoice::File("local.yml".into()),
    );
    assert_eq!(
        planned.map(drop).map_err(|error| error.to_string()),
        Err(
            "`local.yml` is not a file in HEAD (the pipeline is read from the commit, not the \
             working tree)"
                .to_owned()
        )
    );
    Ok(())
}

#[test]
fn a_push_plans_every_pipeline_file_and_says_why_each_does_not_run() -> TestResult {
    let repo = Repo::new()?;
    let before = repo.commit(&[
        ("pipekit.yml", Some(ON_MAIN_NOT_DOCS)),
        (".pipekit/always.yml", Some(PLAIN)),
        (
            ".pipekit/broken.yml",
            Some(b"services:\n  build:\n    comand: make\n"),
        ),
        (".pipekit/binary.yml", Some(b"services: \xff\n")),
    ])?;
    // Only docs change: `pipekit.yml` ignores that, the file without `on:` runs.
    repo.commit(&[("docs/guide.md", Some(b"# Guide\n"))])?;
    let push = PushEvent::new("refs/heads/main".into(), Some(before.to_string()));
    let plan = CommitPlan::read(&repo.source()?, &head(), Some(&push), &PipelineChoice::All)?;

    assert_eq!(
        outcomes(&plan),
        [
            (PathBuf::from("pipekit.yml"), "not triggered"),
            (PathBuf::from(".pipekit/always.yml"), "run"),
            (PathBuf::from(".pipekit/binary.yml"), "unreadable"),
            (PathBuf::from(".pipekit/broken.yml"), "invalid"),
        ]
    );
    match &plan.files[0].outcome {
        FileOutcome::NotTriggered(why) => assert!(why.contains("docs/"), "{why}"),
        other => panic!("expected not triggered, got {other:?}"),
    }
    match &plan.files[2].outcome {
        FileOutcome::Unreadable(error) => assert_eq!(
            error.to_string(),
            ".pipekit/binary.yml: not UTF-8 text (invalid byte at offset 10)"
        ),
        other => panic!("expected unreadable, got {other:?}"),
    }
    match &plan.files[3].outcome {
        FileOutcome::Invalid { source, problems } => {
            assert_eq!(source.name, ".pipekit/broken.yml");
            let shown = problems.render(false);
            assert!(shown.contains(".pipekit/broken.yml:3:5"), "{shown}");
        }
        other => panic!("expected invalid, got {other:?}"),
    }
    Ok(())
}

#[test]
fn a_push_of_another_branch_or_a_tag_is_decided_by_each_file() -> TestResult {
    let repo = Repo::new()?;
    repo.commit(&[("pipekit.yml", Some(ON_MAIN_NOT_DOCS))])?;
    let source = repo.source()?;
    let feature = PushEvent::new("refs/heads/feature".into(), None);
    let plan = CommitPlan::read(&source, &head(), Some(&feature), &PipelineChoice::All)?;
    assert_eq!(
        outcomes(&plan),
        [(PathBuf::from("pipekit.yml"), "not triggered")]
    );

    let tag = PushEvent::new("refs/tags/v1".into(), None);
    let plan = CommitPlan::read(&source, &head(), Some(&tag), &PipelineChoice::All)?;
    assert_eq!(plan.commit.branch, None, "a tag push is on no branch");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_cancelled_before_it_starts_leaves_nothing() -> TestResult {
    let repo = Repo::new()?;
    let sha = repo.commit(&[("pipekit.yml", Some(PLAIN)), ("src/a", Some(b"a\n"))])?;
    let source = repo.source()?;
    let tree = source.resolve(&sha.to_string(), None)?.1;
    let into = tempfile::tempdir()?;

    let exported = export(
        &source,
        tree,
        into.path(),
        &crate::session::CancelSignal::never(),
    )?;
    assert_eq!(exported.files, 2);
    drop(exported);

    let (handle, signal) = crate::session::cancel_channel();
    handle.cancel();
    let stopped = export(&source, tree, into.path(), &signal);
    assert!(stopped.is_err(), "a cancelled export stops");
    assert_eq!(
        std::fs::read_dir(into.path())?.count(),
        0,
        "and leaves nothing"
    );
    Ok(())
}
