//! Why a run's secrets could not be read.

use std::path::PathBuf;

/// A secret a job needs is missing, unreadable or unsafe to mask; nothing runs.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("secret `{secret}` comes from the environment variable `{variable}`, which is not set")]
    MissingVariable { secret: String, variable: String },
    #[error("secret `{secret}`: the environment variable `{variable}` is not valid UTF-8")]
    VariableNotUnicode { secret: String, variable: String },
    #[error("cannot read the file of secret `{secret}` (`{}`): {source}", path.display())]
    UnreadableFile {
        secret: String,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the file of secret `{secret}` (`{}`) is {problem}", path.display())]
    UnusableFile {
        secret: String,
        path: PathBuf,
        problem: String,
    },
    #[error(
        "secret `{secret}` is {length} characters long; values shorter than {minimum} \
         characters are refused, because they cannot be masked safely in logs and reports \
         (use a longer value)"
    )]
    TooShort {
        secret: String,
        length: usize,
        minimum: usize,
    },
    #[error("cannot prepare the masking of secrets: {0}")]
    Masker(String),
}
