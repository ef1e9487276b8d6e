//! The run folder, shared storage, `.env` files and artifacts.

mod artifacts;
mod atomic;
mod env_file;
mod extract;
mod run_folder;

pub use artifacts::{ArtifactError, PackSummary, pack};
pub use atomic::write_atomically;
pub use env_file::{EnvFileError, parse_env, read_env_file};
pub use extract::{ExtractLimits, UnpackSummary, unpack};
pub use run_folder::{RunFolder, StorageError, rfc3339};
