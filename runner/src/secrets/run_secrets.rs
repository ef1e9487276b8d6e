//! Reading a run's secrets once, before anything runs.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::fmt;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::Arc;

use pipekit_schema::{Job, JobId, Pipeline, SecretSource};

use super::error::SecretError;
use super::masker::{MIN_SECRET_CHARS, Masker};

/// Larger secret files are refused (Docker caps a secret at 500 KB).
const MAX_SECRET_FILE_BYTES: u64 = 1024 * 1024;

/// The values of a run's secrets by name, and the masker for all of them.
#[derive(Default)]
pub struct RunSecrets {
    values: BTreeMap<String, String>,
    masker: Arc<Masker>,
}

impl fmt::Debug for RunSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunSecrets")
            .field("names", &self.values.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// One secret handed to a job; `Debug` leaves the value out.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretFile {
    pub name: String,
    pub value: String,
}

impl fmt::Debug for SecretFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretFile")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl RunSecrets {
    /// Reads every declared secret: `environment` from `variable` (pipekit-ci's own
    /// environment), `file` relative to `base_dir`, one trailing newline dropped.
    ///
    /// A secret that a job in scope lists must be there. One that no such job lists is read
    /// when it can be, only to be masked: host jobs inherit pipekit-ci's environment, so its
    /// variable may still be printed. Any value read must be long enough to mask safely.
    pub fn resolve(
        pipeline: &Pipeline,
        in_scope: impl Fn(JobId) -> bool,
        base_dir: &Path,
        variable: impl Fn(&str) -> Option<OsString>,
    ) -> Result<Self, SecretError> {
        if pipeline.secrets.is_empty() {
            return Ok(Self::default());
        }
        let needed: BTreeSet<&str> = pipeline
            .job_ids()
            .filter(|id| in_scope(*id))
            .flat_map(|id| pipeline.job(id).secrets.iter().map(String::as_str))
            .collect();
        let mut values = BTreeMap::new();
        for (name, source) in &pipeline.secrets {
            let read = match source {
                SecretSource::Environment(name_of_variable) => {
                    from_variable(name, name_of_variable, &variable)
                }
                SecretSource::File(path) => from_file(name, &base_dir.join(path)),
            };
            let value = match read {
                Ok(value) => value,
                Err(error) if needed.contains(name.as_str()) => return Err(error),
                Err(_) => continue,
            };
            let length = value.chars().count();
            if length < MIN_SECRET_CHARS {
                return Err(SecretError::TooShort {
                    secret: name.clone(),
                    length,
                    minimum: MIN_SECRET_CHARS,
                });
            }
            values.insert(name.clone(), value);
        }
        let masker = Masker::new(values.values().map(String::as_str))?;
        Ok(Self {
            values,
            masker: Arc::new(masker),
        })
    }

    /// Masks every value read, whichever job gets it.
    pub fn masker(&self) -> &Arc<Masker> {
        &self.masker
    }

    /// The secrets `job` lists, with their values.
    pub fn of_job(&self, job: &Job) -> Vec<SecretFile> {
        job.secrets
            .iter()
            .filter_map(|name| {
                self.values.get(name).map(|value| SecretFile {
                    name: name.clone(),
                    value: value.clone(),
                })
            })
            .collect()
    }
}

fn from_variable(
    secret: &str,
    variable: &str,
    lookup: impl Fn(&str) -> Option<OsString>,
) -> Result<String, SecretError> {
    let value = lookup(variable).ok_or_else(|| SecretError::MissingVariable {
        secret: secret.to_owned(),
        variable: variable.to_owned(),
    })?;
    value
        .into_string()
        .map_err(|_| SecretError::VariableNotUnicode {
            secret: secret.to_owned(),
            variable: variable.to_owned(),
        })
}

fn from_file(secret: &str, path: &Path) -> Result<String, SecretError> {
    let unreadable = |source| SecretError::UnreadableFile {
        secret: secret.to_owned(),
        path: path.to_owned(),
        source,
    };
    let unusable = |problem: &str| SecretError::UnusableFile {
        secret: secret.to_owned(),
        path: path.to_owned(),
        problem: problem.to_owned(),
    };
    // Non-blocking, so a FIFO named as a secret file is refused below instead of hanging
    // the start of the run; regular files read as usual.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits())
        .open(path)
        .map_err(unreadable)?;
    let metadata = file.metadata().map_err(unreadable)?;
    if !metadata.is_file() {
        return Err(unusable("not a regular file"));
    }
    if metadata.len() > MAX_SECRET_FILE_BYTES {
        return Err(unusable(&format!(
            "larger than {MAX_SECRET_FILE_BYTES} bytes"
        )));
    }
    let mut bytes = Vec::new();
    file.take(MAX_SECRET_FILE_BYTES)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    let mut text = String::from_utf8(bytes).map_err(|_| unusable("not valid UTF-8"))?;
    // Editors end files with a newline that is no part of the secret (`echo x > file` too).
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    Ok(text)
}

#[cfg(test)]
mod tests;
