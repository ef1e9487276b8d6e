//! The errors the binary shows, each with the spec's exit code.

use std::fmt;
/// A reason `pipekit-ci` stops before or instead of a normal result.
#[derive(Debug)]
pub enum CliError {
    /// The pipeline file or the flags are wrong (exit 2); rendered diagnostics included.
    InvalidInput(String),
    /// The machine is not fit for the run: no Docker, unwritable run folder (exit 3).
    Environment(String),
}

impl CliError {
    pub const FAILED: u8 = 1;
    pub const INVALID_INPUT: u8 = 2;
    pub const ENVIRONMENT: u8 = 3;
    pub const INTERRUPTED: u8 = 130;

    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::InvalidInput(_) => Self::INVALID_INPUT,
            CliError::Environment(_) => Self::ENVIRONMENT,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::InvalidInput(message) | CliError::Environment(message) => {
                // Masked where it was made: a run's errors carry its masker's work.
                let message = message.trim_end();
                if message.starts_with("error") || message.contains('\n') {
                    f.write_str(message)
                } else {
                    write!(f, "error: {message}")
                }
            }
        }
    }
}

impl std::error::Error for CliError {}
