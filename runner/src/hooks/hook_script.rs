//! The `sh` script pipekit-ci installs as a hook.

use super::HookKind;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// The comment that marks a hook as pipekit-ci's: only such a hook is ever replaced or
/// removed.
pub const MARKER: &str = "# installed by pipekit-ci";

/// The hook script for one kind of hook, execing one `pipekit-ci` binary.
pub struct HookScript<'a> {
    pub kind: HookKind,
    /// Absolute path of the binary the hook runs.
    pub executable: &'a Path,
    /// post-receive only: the `pipekit-ci serve` told of each push instead.
    pub server: Option<&'a str>,
}

impl HookScript<'_> {
    /// The script's bytes (the binary's path need not be UTF-8).
    pub fn render(&self) -> Vec<u8> {
        let kind = self.kind.file_name();
        let purpose = match self.kind {
            HookKind::PrePush => {
                "runs the pipelines of each pushed commit; a failure stops the push"
            }
            HookKind::PreCommit => {
                "runs the pipelines on the staged changes; a failure stops the commit"
            }
            HookKind::PostReceive if self.server.is_some() => {
                "tells the pipekit-ci server of each push, which runs the pipelines"
            }
            HookKind::PostReceive => "runs the pipelines of each pushed ref, on the receiving side",
        };
        let server = match self.server {
            Some(url) => {
                let mut quoted = b"--server ".to_vec();
                quoted.extend_from_slice(&shell_quote(url.as_bytes()));
                quoted.push(b' ');
                quoted
            }
            None => Vec::new(),
        };
        let skip = match self.kind.bypass() {
            Some(bypass) => format!(" (or skip the hook: {bypass})"),
            None => String::new(),
        };
        let mut script = Vec::new();
        script.extend_from_slice(
            format!(
                "#!/bin/sh\n\
                 {MARKER} ({kind}): {purpose}.\n\
                 # `pipekit-ci hook uninstall --hook {kind}` removes it and puts back the hook it replaced.\n\
                 pipekit="
            )
            .as_bytes(),
        );
        script.extend_from_slice(&shell_quote(self.executable.as_os_str().as_bytes()));
        script.extend_from_slice(
            format!(
                "\n\
                 if [ ! -x \"$pipekit\" ]; then\n\
                 \x20   echo \"pipekit-ci: $pipekit is missing; install the hook again: \
                 pipekit-ci hook install --hook {kind}{skip}\" >&2\n\
                 \x20   exit 1\n\
                 fi\n\
                 exec \"$pipekit\" hook run "
            )
            .as_bytes(),
        );
        script.extend_from_slice(&server);
        script.extend_from_slice(format!("{kind} \"$@\"\n").as_bytes());
        script
    }

    /// Whether a hook's contents carry pipekit-ci's marker.
    pub fn is_ours(contents: &[u8]) -> bool {
        contents
            .split(|byte| *byte == b'\n')
            .any(|line| line.starts_with(MARKER.as_bytes()))
    }
}

/// `bytes` in single quotes for `sh`; a quote inside becomes `'\''`.
fn shell_quote(bytes: &[u8]) -> Vec<u8> {
    let mut quoted = vec![b'\''];
    for byte in bytes {
        match byte {
            b'\'' => quoted.extend_from_slice(b"'\\''"),
            other => quoted.push(*other),
        }
    }
    quoted.push(b'\'');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn script_execs_the_binary_with_the_hook_arguments() {
        let dir = tempfile::tempdir().expect("tempdir");
        // A fake binary with a quote and a space in its path, which prints its arguments.
        let executable = dir.path().join("it's pipekit-ci");
        std::fs::write(&executable, "#!/bin/sh\nprintf '%s|' \"$@\"\n").expect("write");
        let hook = dir.path().join("pre-push");
        let script = HookScript {
            kind: HookKind::PrePush,
            executable: &executable,
            server: None,
        };
        std::fs::write(&hook, script.render()).expect("write");
        for path in [&executable, &hook] {
            let status = Command::new("chmod").arg("755").arg(path).status();
            assert!(status.is_ok_and(|status| status.success()));
        }

        let output = Command::new(&hook)
            .args(["origin", "file:///x y"])
            .output()
            .expect("run the hook");

        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            "hook|run|pre-push|origin|file:///x y|"
        );
        assert!(HookScript::is_ours(&script.render()));
    }

    #[test]
    fn a_post_receive_for_a_server_passes_it_the_url_quoted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let executable = dir.path().join("pipekit-ci");
        std::fs::write(&executable, "#!/bin/sh\nprintf '%s|' \"$@\"\n").expect("write");
        let status = Command::new("chmod").arg("755").arg(&executable).status();
        assert!(status.is_ok_and(|status| status.success()));
        let script = HookScript {
            kind: HookKind::PostReceive,
            executable: &executable,
            server: Some("http://127.0.0.1:8080/ci'x"),
        };
        let output = Command::new("sh")
            .arg("-c")
            .arg(String::from_utf8_lossy(&script.render()).as_ref())
            .output()
            .expect("run sh");
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            "hook|run|--server|http://127.0.0.1:8080/ci'x|post-receive|"
        );
        assert!(String::from_utf8_lossy(&script.render()).contains("tells the pipekit-ci server"));
        assert!(HookScript::is_ours(&script.render()));
    }

    #[test]
    fn missing_binary_fails_with_how_to_reinstall() {
        let dir = tempfile::tempdir().expect("tempdir");
        let executable = dir.path().join("gone");
        let script = HookScript {
            kind: HookKind::PreCommit,
            executable: &executable,
            server: None,
        };
        let output = Command::new("sh")
            .arg("-c")
            .arg(String::from_utf8_lossy(&script.render()).as_ref())
            .output()
            .expect("run sh");
        assert_eq!(output.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("pipekit-ci hook install --hook pre-commit")
                && stderr.contains("git commit --no-verify"),
            "{stderr}"
        );
        // One line of its own: nothing in the message is run as a command.
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }

    #[test]
    fn only_a_marked_hook_is_ours() {
        let cases: [(&str, bool); 4] = [
            (
                "#!/bin/sh\n# installed by pipekit-ci (pre-push): x\nexec x\n",
                true,
            ),
            ("#!/bin/sh\nexit 0\n", false),
            ("#!/bin/sh\necho '# installed by pipekit-ci'\n", false),
            ("", false),
        ];
        for (contents, ours) in cases {
            assert_eq!(
                HookScript::is_ours(contents.as_bytes()),
                ours,
                "{contents:?}"
            );
        }
    }
}
