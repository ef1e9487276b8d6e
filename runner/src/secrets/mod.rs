//! The values of a run's secrets (Compose's `secrets:`), and their masking in everything
//! pipekit-ci writes.

mod error;
mod masked_json;
mod masker;
mod run_secrets;

pub use error::SecretError;
pub use masked_json::{mask_json_strings, masked_json};
pub use masker::{MASK, MIN_SECRET_CHARS, Masker};
pub use run_secrets::{RunSecrets, SecretFile};
