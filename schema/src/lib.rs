//! pipekit-schema: pipeline text in, a validated [`Pipeline`] (or every problem found) out.
//!
//! Pure and synchronous: the only input is the text of the file and the name to show for it.

mod analyze;
mod context;
mod cursor;
mod depends_on;
mod diagnostic;
mod duration;
mod fields;
mod filter_pattern;
#[doc(hidden)]
pub mod fuzzing;
mod graph;
mod healthcheck;
mod interpolate;
mod job;
mod line_index;
mod memory_size;
mod options;
mod pipeline;
mod port;
mod project;
mod raw;
mod resolve;
mod secrets;
mod signal_expression;
mod snippet;
mod source_text;
mod suggest;
mod triggers;

pub use diagnostic::{Diagnostic, Diagnostics, Location, Severity};
pub use filter_pattern::{FilterPattern, FilterPatternError};
pub use options::{FileReader, Options};
pub use pipeline::{
    Awaited, Build, Command, Condition, Healthcheck, Job, JobId, MemoryLimit, Pipeline,
    PushTrigger, SecretSource, Signal, SignalId, SignalKind, Stream, Triggers,
};
pub use port::{PortMapping, parse_port};
pub use source_text::SourceTextError;

/// Larger pipeline files are refused before parsing (GitLab caps `.gitlab-ci.yml` likewise).
pub const MAX_PIPELINE_BYTES: usize = 2 * 1024 * 1024;

/// A pipeline file's text and the name diagnostics show for it (usually its path).
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub text: String,
}

/// A pipeline that validated, with the notes and warnings found on the way.
#[derive(Debug)]
pub struct Parsed {
    pub pipeline: Pipeline,
    /// Non-fatal findings (fields the local executor ignores, and the like).
    pub notes: Vec<Diagnostic>,
    /// The other files read with it (override files, includes, extends), which a note's
    /// [`Location::file`] counts from 1.
    pub included: Vec<Source>,
}

/// Parses and validates a pipeline file on its own (no variables, no other files); on
/// failure returns every problem found.
pub fn parse(source: &Source) -> Result<Parsed, Diagnostics> {
    analyze::analyze(source)
}

/// Parses and validates a pipeline file as Compose reads a project: interpolated from
/// `options`' variables, merged with its override files, includes and extends, profiles
/// applied.
pub fn parse_with(source: &Source, options: &Options<'_>) -> Result<Parsed, Diagnostics> {
    analyze::analyze_with(source, options)
}
