//! Finding, reading and validating the pipeline file.

use super::args::ProjectArgs;
use super::error::CliError;
use crate::pipeline_files::DiskFiles;
use pipekit_schema::{MAX_PIPELINE_BYTES, Options, Parsed, Source};
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

/// A validated pipeline and where it came from.
pub struct Loaded {
    pub parsed: Parsed,
    /// The file as the user named it (or the default that was found).
    pub path: PathBuf,
    /// Its directory, absolute.
    pub dir: PathBuf,
}

/// Reads and validates the pipeline file (with its override files, env files and
/// profiles); every problem comes back rendered, exit 2.
pub fn load(project: &ProjectArgs) -> Result<Loaded, CliError> {
    let path = locate(&project.file().cloned())?;
    let source = read_source(&path)?;
    let overrides = project
        .files
        .iter()
        .skip(1)
        .map(|path| read_source(path))
        .collect::<Result<Vec<_>, _>>()?;
    let files = DiskFiles::new(".");
    let options = Options {
        environment: std::env::vars().collect(),
        env_files: (!project.env_files.is_empty()).then(|| {
            project
                .env_files
                .iter()
                .map(|path| path.display().to_string())
                .collect()
        }),
        profiles: project.profiles.clone(),
        overrides,
        files: Some(&files),
    };
    let parsed = pipekit_schema::parse_with(&source, &options)
        .map_err(|diagnostics| CliError::InvalidInput(diagnostics.render(use_color())))?;
    let dir = std::path::absolute(&path)
        .ok()
        .and_then(|absolute| absolute.parent().map(Path::to_path_buf))
        .ok_or_else(|| CliError::Environment(format!("cannot resolve `{}`", path.display())))?;
    Ok(Loaded { parsed, path, dir })
}

fn read_source(path: &Path) -> Result<Source, CliError> {
    let bytes = read_capped(path)?;
    Source::from_bytes(path.display().to_string(), bytes)
        .map_err(|error| CliError::InvalidInput(error.to_string()))
}

/// `pipekit-ci validate`: prints the notes, or every problem, and says how it went.
pub fn validate(project: &ProjectArgs) -> Result<u8, CliError> {
    let loaded = load(project)?;
    let name = loaded.path.display().to_string();
    let color = use_color();
    // Read again only to show notes: most files have none, and this one may be 2 MiB.
    let source_text = if loaded.parsed.notes.is_empty() {
        String::new()
    } else {
        std::fs::read_to_string(&loaded.path).unwrap_or_default()
    };
    for note in &loaded.parsed.notes {
        // A note about a merged-in value is in the file it was written in.
        let file = note.location.map_or(0, |location| location.file);
        match file
            .checked_sub(1)
            .and_then(|at| loaded.parsed.included.get(at))
        {
            Some(other) => err_println!("{}", note.render(&other.name, &other.text, color)),
            None => err_println!("{}", note.render(&name, &source_text, color)),
        }
    }
    let jobs = loaded.parsed.pipeline.jobs.len();
    out_println!(
        "{name}: valid, {jobs} job{}",
        if jobs == 1 { "" } else { "s" }
    );
    Ok(0)
}

pub fn locate(file: &Option<PathBuf>) -> Result<PathBuf, CliError> {
    if let Some(file) = file {
        return Ok(file.clone());
    }
    ["pipekit.yml", "pipekit.yaml"]
        .into_iter()
        .map(PathBuf::from)
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| {
            CliError::InvalidInput(
                "no pipekit.yml or pipekit.yaml in the current directory; name one with -f FILE"
                    .into(),
            )
        })
}

/// Reads at most one byte over the cap, so a huge file is refused without being loaded.
fn read_capped(path: &Path) -> Result<Vec<u8>, CliError> {
    let shown = path.display();
    let file = std::fs::File::open(path)
        .map_err(|error| CliError::InvalidInput(format!("cannot read `{shown}`: {error}")))?;
    let mut bytes = Vec::new();
    file.take(MAX_PIPELINE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| CliError::InvalidInput(format!("cannot read `{shown}`: {error}")))?;
    Ok(bytes)
}

/// Colors only for a person at a terminal who did not opt out.
pub fn use_color() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}
