//! Why a run could not be made to start, with the spec's exit code.

/// A run that never started its jobs. The texts are masked already: a secret the run knew
/// never shows in them.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The request itself is wrong (exit 2): an unknown job in `only`, say.
    #[error("{0}")]
    InvalidInput(String),
    /// The machine is not fit for the run (exit 3): a missing secret, an unwritable run
    /// folder, an engine that refused.
    #[error("{0}")]
    Environment(String),
    /// A re-run that cannot reuse what it was asked to (exit 2), or whose earlier run
    /// cannot be read (exit 3).
    #[error(transparent)]
    Reuse(#[from] super::reuse::ReuseError),
}

impl SessionError {
    /// The spec's exit code for it.
    pub fn exit_code(&self) -> u8 {
        match self {
            SessionError::InvalidInput(_) => super::outcome::INVALID_INPUT,
            SessionError::Environment(_) => super::outcome::ENVIRONMENT,
            SessionError::Reuse(error) if error.is_invalid_input() => super::outcome::INVALID_INPUT,
            SessionError::Reuse(_) => super::outcome::ENVIRONMENT,
        }
    }
}

/// `failed to write `run.json`: No space left on device (os error 28)`.
/// Every cause down the chain: a reuse's copy error wraps the OS's error twice.
pub(crate) fn with_cause(error: impl std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        text = format!("{text}: {next}");
        cause = next.source();
    }
    text
}
