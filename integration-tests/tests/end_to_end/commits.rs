//! `run --commit` and `--staged`: clean per-job checkouts of a commit of a real repository,
//! artifacts travelling between them, the commit's context, and the `on:` triggers.

use crate::common::{Project, commit_all, eventually, git, init_and_commit, parse_junit};
use nix::sys::signal::{Signal, kill};
use std::path::Path;
use std::time::Duration;

/// A repository whose pipeline prints `file.txt`, committed as "committed" and then
/// changed in the working tree (not committed) to "dirty".
fn repo_with_a_dirty_tree() -> (Project, String) {
    let project = Project::new(
        r#"
services:
  show:
    command: |
      echo "file=[$(cat file.txt)]"
      echo "commit=[$PIPEKIT_COMMIT] branch=[$PIPEKIT_BRANCH] author=[$PIPEKIT_AUTHOR]"
      echo "message=[$PIPEKIT_COMMIT_MESSAGE]"
      echo "tree=[$PIPEKIT_WORKSPACE]"
"#,
    );
    project.write(".gitignore", ".pipekit/\n");
    project.write("file.txt", "committed\n");
    let sha = init_and_commit(project.path(), "the committed state");
    project.write("file.txt", "dirty\n");
    (project, sha)
}

fn status(dir: &Path) -> String {
    git(dir, &["status", "--porcelain=v1", "--untracked-files=all"])
}

#[test]
fn commit_runs_test_the_commit_and_leave_the_working_tree_alone() {
    let (project, sha) = repo_with_a_dirty_tree();
    git(project.path(), &["stash", "list"]);
    let before = status(project.path());

    let finished = project.run_pipeline(&["--commit", "HEAD"]);

    finished.assert_code(0);
    let log = project.log("show");
    assert!(log.contains("file=[committed]"), "log:\n{log}");
    assert!(
        log.contains(&format!(
            "commit=[{sha}] branch=[main] author=[Test <test@example.invalid>]"
        )),
        "log:\n{log}"
    );
    assert!(log.contains("message=[the committed state]"), "log:\n{log}");
    let tree = log
        .lines()
        .find_map(|line| line.strip_prefix("tree=[")?.strip_suffix(']'))
        .expect("the job printed its tree");
    assert!(
        !Path::new(tree).starts_with(project.path()),
        "the job ran in the working tree: {tree}"
    );
    assert!(
        !Path::new(tree).exists(),
        "its checkout was not removed: {tree}"
    );
    assert_eq!(
        status(project.path()),
        before,
        "the working tree or index changed"
    );
    assert_eq!(
        std::fs::read_to_string(project.path().join("file.txt")).expect("read"),
        "dirty\n"
    );

    let run = project.run_json();
    assert_eq!(
        run.commit.as_ref().map(|commit| commit.sha.as_str()),
        Some(sha.as_str())
    );
    assert_eq!(run.commit.as_ref().and_then(|commit| commit.dirty), None);
    let junit = parse_junit(&project.run_dir().join("junit.xml"));
    let properties: Vec<(String, String)> = junit.test_suites[0]
        .properties
        .iter()
        .map(|p| (p.name.to_string(), p.value.to_string()))
        .collect();
    assert!(
        properties.contains(&("pipekit.commit".to_string(), sha.clone())),
        "JUnit properties: {properties:?}"
    );
}

#[test]
fn working_tree_runs_see_the_edits_and_record_that_the_tree_was_dirty() {
    let (project, sha) = repo_with_a_dirty_tree();

    project.run_pipeline(&[]).assert_code(0);

    assert!(
        project.log("show").contains("file=[dirty]"),
        "{}",
        project.log("show")
    );
    let run = project.run_json();
    assert_eq!(
        run.commit.as_ref().map(|commit| commit.sha.as_str()),
        Some(sha.as_str())
    );
    assert_eq!(
        run.commit.as_ref().and_then(|commit| commit.dirty),
        Some(true)
    );
}

#[test]
fn artifacts_travel_from_a_jobs_checkout_to_its_dependents_only() {
    let project = Project::new(
        r#"
services:
  compiler:
    command: mkdir -p build && echo "built from $(cat src.txt)" > build/app
    artifacts: [build/app]
  tester:
    depends_on: [compiler.ExitCode(0)]
    command: test "$(cat build/app)" = "built from source" && echo "tester saw the build"
  bystander:
    command: sleep 1; test ! -e build/app && echo "bystander saw a clean checkout"
"#,
    );
    project.write("src.txt", "source");
    project.write(".gitignore", ".pipekit/\n");
    init_and_commit(project.path(), "first");

    let finished = project.run_pipeline(&["--commit", "main", "--keep-workspace"]);

    finished.assert_code(0);
    assert!(project.log("tester").contains("tester saw the build"));
    assert!(
        project
            .log("bystander")
            .contains("bystander saw a clean checkout")
    );
    assert!(
        !project.path().join("build").exists(),
        "the compiler wrote into the working tree"
    );
    let kept = finished
        .stderr
        .lines()
        .find_map(|line| line.strip_prefix("checkouts kept in "))
        .unwrap_or_else(|| panic!("no kept checkouts named:\n{}", finished.stderr));
    assert!(Path::new(kept).join("jobs").is_dir(), "{kept}");
    std::fs::remove_dir_all(kept).expect("remove the kept checkouts");
}

#[test]
fn staged_runs_test_the_index_not_the_working_tree() {
    let (project, _) = repo_with_a_dirty_tree();
    project.write("file.txt", "staged\n");
    git(project.path(), &["add", "file.txt"]);
    project.write("file.txt", "unstaged\n");

    project.run_pipeline(&["--staged"]).assert_code(0);

    assert!(
        project.log("show").contains("file=[staged]"),
        "{}",
        project.log("show")
    );
    assert_eq!(
        git(project.path(), &["diff", "--cached", "--name-only"]),
        "file.txt",
        "the index changed"
    );
}

#[test]
fn git_problems_are_environment_errors() {
    let outside = Project::new("services:\n  a:\n    command: \"true\"\n");
    let finished = outside.run_pipeline(&["--commit", "HEAD"]);
    finished.assert_code(3);
    assert!(
        finished.stderr.contains("not in a git repository"),
        "{}",
        finished.stderr
    );

    let (project, _) = repo_with_a_dirty_tree();
    let finished = project.run_pipeline(&["--commit", "no-such-branch"]);
    finished.assert_code(3);
    assert!(
        finished
            .stderr
            .contains("unknown revision `no-such-branch`"),
        "{}",
        finished.stderr
    );
    assert!(project.run_dirs().is_empty(), "a run folder was written");
}

/// `on:` triggers decided from a push: the branch, and the files changed since `--before`.
#[test]
fn push_events_run_only_the_pipelines_their_triggers_select() {
    let project = Project::empty();
    // Pipeline files live in `.pipekit/` too: only the run folders are ignored.
    project.write(".gitignore", ".pipekit/runs/\n");
    project.write(
        "pipekit.yml",
        "on:\n  push:\n    branches: [main]\nservices:\n  main-only:\n    command: echo main ran\n",
    );
    project.write(
        ".pipekit/docs.yml",
        "on:\n  push:\n    paths: ['docs/**']\nservices:\n  docs:\n    command: echo docs ran\n",
    );
    project.write("docs/index.md", "one");
    let first = init_and_commit(project.path(), "first");
    project.write("src.txt", "code");
    let second = commit_all(project.path(), "code only");

    let push = |reference: &str| {
        project.run(&[
            "run", "--event", "push", "--ref", reference, "--before", &first, "--commit", &second,
        ])
    };
    let on_main = push("refs/heads/main");
    on_main.assert_code(0);
    assert!(on_main.stderr.contains("main ran"), "{}", on_main.stderr);
    assert!(
        on_main.stderr.contains(".pipekit/docs.yml: not run:"),
        "{}",
        on_main.stderr
    );
    assert!(!on_main.stderr.contains("docs ran"), "{}", on_main.stderr);

    let on_feature = push("refs/heads/feature");
    on_feature.assert_code(0);
    assert!(
        !on_feature.stderr.contains("main ran"),
        "{}",
        on_feature.stderr
    );
    assert!(
        on_feature.stderr.contains("pipekit.yml: not run:"),
        "{}",
        on_feature.stderr
    );

    project.write("docs/index.md", "two");
    let third = commit_all(project.path(), "docs");
    let docs = project.run(&[
        "run",
        "--event",
        "push",
        "--ref",
        "refs/heads/feature",
        "--before",
        &second,
        "--commit",
        &third,
    ]);
    docs.assert_code(0);
    assert!(docs.stderr.contains("docs ran"), "{}", docs.stderr);
}

/// Jobs' checkouts share the export's files through hard links: a job that replaces a
/// tracked file, deletes one or adds one leaves its siblings' checkouts as the commit has
/// them (ARCHITECTURE.md, "Checkouts").
#[test]
fn a_job_replacing_or_deleting_tracked_files_leaves_other_checkouts_clean() {
    let project = Project::new(
        r#"
services:
  vandal:
    command: |
      set -e
      sed -i 's/committed/rewritten by sed/' file.txt
      rm other.txt
      echo new > added.txt
  witness:
    depends_on: [vandal.ExitCode(0)]
    command: |
      set -e
      test "$(cat file.txt)" = committed
      test "$(cat other.txt)" = other
      test ! -e added.txt
      echo "witness saw the commit as it is"
"#,
    );
    project.write(".gitignore", ".pipekit/runs/\n");
    project.write("file.txt", "committed\n");
    project.write("other.txt", "other\n");
    init_and_commit(project.path(), "first");

    let finished = project.run_pipeline(&["--commit", "HEAD"]);

    finished.assert_code(0);
    assert!(
        project
            .log("witness")
            .contains("witness saw the commit as it is"),
        "{}",
        finished.output()
    );
}

/// What a commit's pipeline refers to (`env_file`) comes from the commit too, and the
/// pipeline keeps its own name (not the revision's) in the reports.
#[test]
fn env_files_come_from_the_commit_and_the_pipeline_keeps_its_name() {
    let project = Project::new(
        "services:\n  show:\n    env_file: vars.env\n    command: echo \"foo=[$FOO]\"\n",
    );
    project.write(".gitignore", ".pipekit/runs/\n");
    project.write("vars.env", "FOO=committed\n");
    init_and_commit(project.path(), "first");
    project.write("vars.env", "FOO=dirty\n");

    project.run_pipeline(&["--commit", "HEAD"]).assert_code(0);

    assert!(
        project.log("show").contains("foo=[committed]"),
        "{}",
        project.log("show")
    );
    let junit = parse_junit(&project.run_dir().join("junit.xml"));
    assert_eq!(junit.test_suites[0].name.as_str(), "pipekit");
}

/// `.pipekit/` holds pipeline files as well as run folders: what pipekit-ci writes there
/// must not hide a new pipeline file from `git add`; and an invalid pipeline among several
/// stops them all before any runs.
#[test]
fn pipeline_files_in_dot_pipekit_stay_visible_and_are_all_checked_first() {
    let project = Project::new("services:\n  first:\n    command: echo first ran\n");
    init_and_commit(project.path(), "first");
    project.run_pipeline(&[]).assert_code(0);
    project.write(
        ".pipekit/later.yml",
        "services:\n  later:\n    comand: oops\n",
    );

    let status = git(
        project.path(),
        &["status", "--porcelain", "--untracked-files=all"],
    );
    assert!(
        status.contains("?? .pipekit/later.yml"),
        "git status:\n{status}"
    );
    assert!(!status.contains(".pipekit/runs"), "git status:\n{status}");

    let sha = commit_all(project.path(), "a broken second pipeline");
    let finished = project.run(&[
        "run",
        "--event",
        "push",
        "--ref",
        "refs/heads/main",
        "--commit",
        &sha,
    ]);
    finished.assert_code(2);
    assert!(
        finished.stderr.contains(".pipekit/later.yml:3:5"),
        "{}",
        finished.stderr
    );
    assert!(
        !finished.stderr.contains("first ran"),
        "{}",
        finished.stderr
    );
    assert!(
        !finished.stderr.contains("==> testing"),
        "a checkout was made:\n{}",
        finished.stderr
    );
}

/// Checkouts carry no `.git`, and git in a job must not climb out of one into whatever
/// repository lies above the temporary folder (here: the project itself, through TMPDIR).
#[test]
fn git_in_a_job_stays_inside_its_checkout() {
    let project = Project::new(
        "services:\n  probe:\n    command: git rev-parse --show-toplevel || echo no repository here\n",
    );
    project.write(".gitignore", ".pipekit/runs/\ntmp/\n");
    init_and_commit(project.path(), "first");
    let tmp = project.path().join("tmp");
    std::fs::create_dir(&tmp).expect("mkdir tmp");

    let finished = project.run_with_env(
        &["run", "--commit", "HEAD", "--no-progress"],
        &[("TMPDIR", tmp.to_str().expect("utf-8 path"))],
    );

    finished.assert_code(0);
    let log = project.log("probe");
    assert!(
        log.contains("no repository here"),
        "git found a repository:\n{log}"
    );
}

/// A working-tree run decides `--event` from its pipeline too; flags that only make sense
/// together are refused as invalid input.
#[test]
fn working_tree_events_and_flag_combinations() {
    let project = Project::new(
        "on:\n  push:\n    branches: [main]\nservices:\n  a:\n    command: echo a ran\n",
    );
    project.write(".gitignore", ".pipekit/runs/\n");
    init_and_commit(project.path(), "first");

    let skipped = project.run(&["run", "--event", "push", "--ref", "refs/heads/other"]);
    skipped.assert_code(0);
    assert!(skipped.stderr.contains("not run:"), "{}", skipped.stderr);
    assert!(!skipped.stderr.contains("a ran"), "{}", skipped.stderr);

    for flags in [
        &["run", "--commit", "HEAD", "--keep-running"][..],
        &["run", "--keep-workspace"][..],
        &["run", "--commit", "HEAD", "--staged"][..],
        &["run", "--ref", "refs/heads/main"][..],
    ] {
        let refused = project.run(flags);
        refused.assert_code(2);
        assert!(
            project.run_dirs().is_empty(),
            "{flags:?} wrote a run folder"
        );
    }
}

/// Ctrl-C while the commit is still being exported: nothing runs and the half-made export
/// is removed, not left in the temporary folder.
#[test]
fn an_interrupt_during_the_export_leaves_nothing_in_the_temporary_folder() {
    let project = Project::new("services:\n  never:\n    command: echo ran\n");
    project.write(".gitignore", ".pipekit/\ntmp/\n");
    // Enough files that the export takes far longer than noticing that it began.
    for folder in 0..40 {
        for file in 0..500 {
            project.write(&format!("data/{folder}/{file}.txt"), "x\n");
        }
    }
    init_and_commit(project.path(), "many files");
    let tmp = project.path().join("tmp");
    std::fs::create_dir(&tmp).expect("mkdir tmp");
    let in_tmp = || {
        std::fs::read_dir(&tmp)
            .map(|entries| entries.count())
            .unwrap_or(0)
    };

    let started = project.spawn_with_env(
        &["run", "--commit", "HEAD", "--no-progress"],
        &[("TMPDIR", tmp.to_str().expect("utf-8 path"))],
    );
    assert!(
        eventually(Duration::from_secs(30), || in_tmp() > 0),
        "the export never began"
    );
    kill(started.pid(), Signal::SIGINT).expect("cannot signal pipekit-ci");
    let finished = started.wait(Duration::from_secs(60));

    finished.assert_code(130);
    assert!(
        finished.stderr.contains("while exporting"),
        "the interrupt did not land during the export:\n{}",
        finished.stderr
    );
    assert_eq!(in_tmp(), 0, "the export was left in {}", tmp.display());
    assert!(project.run_dirs().is_empty(), "a run was started");
}

/// A producer's JUnit files inside its artifacts are handed on (moved out of its checkout)
/// and still merged into the run's report.
#[test]
fn junit_files_inside_handed_on_artifacts_are_still_merged() {
    let project = Project::new(
        r#"
services:
  producer:
    command: |
      mkdir -p reports
      echo '<testsuite name="producer-tests" tests="1"><testcase name="works"/></testsuite>' > reports/unit.xml
    artifacts: [reports]
    junit: [reports/*.xml]
  consumer:
    depends_on: [producer.ExitCode(0)]
    command: test -f reports/unit.xml
"#,
    );
    project.write(".gitignore", ".pipekit/\n");
    init_and_commit(project.path(), "first");

    let finished = project.run_pipeline(&["--commit", "HEAD"]);

    finished.assert_code(0);
    let report = parse_junit(&project.run_dir().join("junit.xml"));
    let suites: Vec<&str> = report
        .test_suites
        .iter()
        .map(|suite| suite.name.as_str())
        .collect();
    assert_eq!(
        suites
            .iter()
            .filter(|name| **name == "producer-tests")
            .count(),
        1,
        "suites: {suites:?}"
    );
}
