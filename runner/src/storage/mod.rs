//! The run folder, shared storage, `.env` files and artifacts.

mod artifact_error;
mod artifact_selection;
mod artifact_store;
mod artifact_tree;
mod artifacts;
mod atomic;
mod destination_paths;
mod env_file;
mod extract;
mod reused_files;
mod run_folder;
mod runs_dir;
mod space_reserve;

pub use artifact_error::ArtifactError;
pub use artifact_store::{ArtifactStore, FolderStore};
pub use artifact_tree::{StageSummary, link_staged, stage};
pub use artifacts::{PackSummary, pack, pack_into};
pub use atomic::{write_atomically, write_atomically_unsynced};
pub use env_file::{EnvFileError, parse_env, read_env_file};
pub use extract::{ExtractLimits, UnpackSummary, unpack, unpack_from};
pub use reused_files::{ReusedFilesError, bring_over};
pub use run_folder::{OWNER_FILE, RunFolder, SPACE_RESERVE_FILE, StorageError, rfc3339};
pub use runs_dir::RunsDir;
pub use space_reserve::{REPORT_RESERVE_BYTES, SpaceReserve};
