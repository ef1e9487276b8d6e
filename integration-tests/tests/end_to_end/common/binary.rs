//! Where the `pipekit-ci` binary under test is, brought up to date once per test binary.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The workspace this crate belongs to.
pub fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the integration-tests crate lives inside the workspace")
}

/// `$PIPEKIT_CI`, else `<target>/debug/pipekit-ci`, built once per test binary: `cargo test`
/// does not build another package's binary, and a stale one would test old code.
pub fn binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        if let Some(path) = std::env::var_os("PIPEKIT_CI") {
            let path = PathBuf::from(path);
            assert!(
                path.is_file(),
                "PIPEKIT_CI={} is not a file",
                path.display()
            );
            return path;
        }
        let workspace = workspace_root();
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(|dir| workspace.join(dir))
            .unwrap_or_else(|| workspace.join("target"));
        let path = target.join("debug").join("pipekit-ci");
        {
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let status = Command::new(cargo)
                .args(["build", "-p", "pipekit-ci", "--bin", "pipekit-ci"])
                .current_dir(workspace)
                .status()
                .expect("cannot run cargo to build pipekit-ci");
            assert!(status.success(), "building pipekit-ci failed: {status}");
            assert!(
                path.is_file(),
                "cargo built pipekit-ci, but not at {}",
                path.display()
            );
        }
        path
    })
}
