//! What a pipeline file is read with besides its own text: Compose's project options.
//!
//! The schema crate reads no files itself; the caller hands it a [`FileReader`] (the disk
//! for the CLI, a commit's tree for the service), so `include`, `extends.file` and `.env`
//! files are read the same way as the pipeline file was.

use std::collections::BTreeMap;

use crate::Source;

/// Reads the other files a pipeline names.
pub trait FileReader {
    /// The text of `path`: the path as written in the pipeline, already joined to the
    /// folder of the file that names it (`pipelines/../base.yml`). `Ok(None)` when there is
    /// no such file; `Err` with a reason when it exists but cannot be read.
    fn read(&self, path: &str) -> Result<Option<String>, String>;
}

/// Compose's project options, as `-f`, `--profile` and `--env-file` give them.
#[derive(Default)]
pub struct Options<'a> {
    /// Variables for `${VAR}` interpolation: pipekit-ci's own environment, which wins over
    /// the `.env` file's (spec section 10).
    pub environment: BTreeMap<String, String>,
    /// `--env-file` paths (relative to the working directory, as given); `None` reads the
    /// `.env` beside the pipeline file when there is one.
    pub env_files: Option<Vec<String>>,
    /// `--profile` names: jobs of other profiles are out of the run.
    pub profiles: Vec<String>,
    /// The files of the second and later `-f`, merged over the first by Compose's rules.
    pub overrides: Vec<Source>,
    /// Reads what `include`, `extends.file` and env files name; without one, naming another
    /// file is an error and no `.env` is read.
    pub files: Option<&'a dyn FileReader>,
}

impl std::fmt::Debug for Options<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("environment", &self.environment.len())
            .field("env_files", &self.env_files)
            .field("profiles", &self.profiles)
            .field("overrides", &self.overrides)
            .field("files", &self.files.is_some())
            .finish()
    }
}
