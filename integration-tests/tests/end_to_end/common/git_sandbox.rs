//! Real git repositories in a temp dir, driven by the `git` command under a configuration
//! of their own, with `pipekit-ci` run inside them.

use super::binary::binary;
use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// The longest one `git` or `pipekit-ci` invocation may take (a push runs pipelines).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// A temp dir holding repositories, a home of its own (so the machine's git
/// configuration and hooks play no part) and the captured output of each command.
pub struct GitSandbox {
    dir: TempDir,
    outputs: TempDir,
}

/// How a command ended.
#[derive(Debug)]
pub struct Ran {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    what: String,
}

impl Ran {
    #[track_caller]
    pub fn assert_code(&self, expected: i32) {
        assert_eq!(
            self.code,
            Some(expected),
            "`{}` ended with {:?}, expected {expected}\n--- stdout\n{}\n--- stderr\n{}",
            self.what,
            self.code,
            self.stdout,
            self.stderr
        );
    }

    #[track_caller]
    pub fn assert_failed(&self) {
        assert!(
            self.code.is_some_and(|code| code != 0),
            "`{}` was expected to fail but ended with {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.what,
            self.code,
            self.stdout,
            self.stderr
        );
    }

    /// Fails the test unless stderr contains every one of `needles`.
    #[track_caller]
    pub fn assert_stderr_contains(&self, needles: &[&str]) {
        for needle in needles {
            assert!(
                self.stderr.contains(needle),
                "stderr of `{}` lacks {needle:?}:\n{}",
                self.what,
                self.stderr
            );
        }
    }
}

impl GitSandbox {
    pub fn new() -> Self {
        let sandbox = Self {
            dir: tempfile::tempdir().expect("cannot create a temp dir"),
            outputs: tempfile::tempdir().expect("cannot create a temp dir"),
        };
        std::fs::create_dir(sandbox.home()).expect("cannot create the sandbox's home");
        std::fs::write(
            sandbox.home().join(".gitconfig"),
            "[user]\n\tname = Pipekit Test\n\temail = test@pipekit.invalid\n\
             [init]\n\tdefaultBranch = main\n\
             [commit]\n\tgpgSign = false\n\
             [tag]\n\tgpgSign = false\n\
             [advice]\n\tdetachedHead = false\n",
        )
        .expect("cannot write the sandbox's git configuration");
        sandbox
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    fn home(&self) -> PathBuf {
        self.path().join("home")
    }

    /// `git init --bare` of a new repository `name` in the sandbox.
    pub fn init_bare(&self, name: &str) -> PathBuf {
        let path = self.path().join(name);
        self.git(self.path(), &["init", "--quiet", "--bare", name])
            .assert_code(0);
        path
    }

    /// A clone of `bare` named `name`, with `origin` pointing at it.
    pub fn clone_of(&self, bare: &Path, name: &str) -> PathBuf {
        let path = self.path().join(name);
        let source = bare.to_str().expect("sandbox paths are UTF-8");
        self.git(self.path(), &["clone", "--quiet", source, name])
            .assert_code(0);
        path
    }

    /// Writes `contents` to `relative` in `repository`, creating folders.
    pub fn write(&self, repository: &Path, relative: &str, contents: &str) {
        let path = repository.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("cannot create folders");
        }
        std::fs::write(&path, contents).expect("cannot write into the repository");
    }

    /// Writes, stages and commits one file, with hooks off; the new commit's sha.
    pub fn commit_file(
        &self,
        repository: &Path,
        relative: &str,
        contents: &str,
        message: &str,
    ) -> String {
        self.write(repository, relative, contents);
        self.git(repository, &["add", relative]).assert_code(0);
        self.git(
            repository,
            &["-c", "core.hooksPath=", "commit", "--quiet", "-m", message],
        )
        .assert_code(0);
        self.rev_parse(repository, "HEAD")
            .expect("a commit was just made")
    }

    /// The sha `revision` names in `repository`, `None` when it names nothing.
    pub fn rev_parse(&self, repository: &Path, revision: &str) -> Option<String> {
        let ran = self.git(
            repository,
            &[
                "rev-parse",
                "--quiet",
                "--verify",
                &format!("{revision}^{{commit}}"),
            ],
        );
        (ran.code == Some(0)).then(|| ran.stdout.trim().to_string())
    }

    /// Runs `git <args>` in `dir`.
    pub fn git(&self, dir: &Path, args: &[&str]) -> Ran {
        self.run(Command::new("git"), dir, args)
    }

    /// Runs `pipekit-ci <args>` in `dir`, with the sandbox's environment.
    pub fn pipekit(&self, dir: &Path, args: &[&str]) -> Ran {
        self.run(Command::new(binary()), dir, args)
    }

    /// The environment every command gets: the test's own, less git's variables, plus a
    /// home and configuration of the sandbox's.
    fn environment(&self, command: &mut Command) {
        let inherited: Vec<OsString> = std::env::vars_os()
            .map(|(name, _)| name)
            .filter(|name| name.to_string_lossy().starts_with("GIT_"))
            .collect();
        for name in inherited {
            command.env_remove(name);
        }
        command
            .env("HOME", self.home())
            .env("XDG_CONFIG_HOME", self.home().join(".config"))
            .env("GIT_CONFIG_GLOBAL", self.home().join(".gitconfig"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_TERMINAL_PROMPT", "0")
            // Discovery never climbs out of the sandbox into a repository around it.
            .env("GIT_CEILING_DIRECTORIES", self.path());
    }

    fn run(&self, mut command: Command, dir: &Path, args: &[&str]) -> Ran {
        let what = format!(
            "{} {}",
            command.get_program().to_string_lossy(),
            args.join(" ")
        );
        let number = std::fs::read_dir(self.outputs.path())
            .map(|entries| entries.count())
            .unwrap_or_default();
        let stdout_path = self.outputs.path().join(format!("{number}.stdout"));
        let stderr_path = self.outputs.path().join(format!("{number}.stderr"));
        let create = |path: &Path| File::create(path).expect("cannot create an output file");
        self.environment(&mut command);
        let mut child = command
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            // Files, not pipes: a leftover grandchild cannot hang the test.
            .stdout(create(&stdout_path))
            .stderr(create(&stderr_path))
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start `{what}`: {error}"));
        let deadline = Instant::now() + COMMAND_TIMEOUT;
        let status = loop {
            match child.try_wait().expect("cannot wait for a child") {
                Some(status) => break status,
                None if Instant::now() >= deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "`{what}` did not finish within {COMMAND_TIMEOUT:?}; stderr:\n{}",
                        std::fs::read_to_string(&stderr_path).unwrap_or_default()
                    );
                }
                None => std::thread::sleep(Duration::from_millis(20)),
            }
        };
        let read = |path: &Path| std::fs::read_to_string(path).unwrap_or_default();
        Ran {
            code: status.code(),
            stdout: read(&stdout_path),
            stderr: read(&stderr_path),
            what,
        }
    }
}
