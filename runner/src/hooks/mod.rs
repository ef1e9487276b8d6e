//! Git hooks that run the pipelines: installing them (`pipekit-ci hook install`), removing
//! them, and what they do when git calls them (`pipekit-ci hook run <kind>`).
//!
//! A hook is a small `sh` script that execs this binary. A hook that was there before is
//! kept beside it as `<hook>.pipekit-backup` and runs first, with the same arguments and
//! input.

mod child_supervisor;
mod error;
mod hook_kind;
mod hook_repository;
mod hook_script;
mod installer;
mod planned_run;
mod ref_update;
mod server_notice;

pub use child_supervisor::ChildSupervisor;
pub use error::HookError;
pub use hook_kind::HookKind;
pub use hook_repository::{HookRepository, HooksDirectory};
pub use hook_script::{HookScript, MARKER};
pub use installer::{
    BACKUP_SUFFIX, Change, Installation, Uninstallation, backup_path, install, install_script,
    uninstall,
};
pub use planned_run::PlannedRun;
pub use ref_update::RefUpdate;
pub use server_notice::{NoticeError, ServerUrl, tell_server};
