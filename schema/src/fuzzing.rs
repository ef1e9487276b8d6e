//! Entry points for the fuzz targets in `fuzz/`: the expression parsers are crate-private,
//! so this exposes them with only the byte ranges the fuzzers check. Not a stable API.

use std::ops::Range;

/// Parses a signal expression (`Grep(stdout, "re"):30`); on failure, the range the error
/// underlines within `text`.
pub fn signal_expression(text: &str) -> Result<(), Range<usize>> {
    crate::signal_expression::parse(text)
        .map(|_| ())
        .map_err(|error| error.range)
}

/// Parses a `depends_on` reference (`db.ready`, `build.ExitCode(0)`); the ranges of the job
/// and of what is awaited, or the range the error underlines.
pub fn depends_on_reference(text: &str) -> Result<[Range<usize>; 2], Range<usize>> {
    crate::depends_on::parse_reference(text)
        .map(|reference| [reference.job_range, reference.wanted_range])
        .map_err(|error| error.range)
}

/// Whether the two YAML readers agree on `text`: where the event reader builds a tree,
/// serde-saphyr must build the same one (spans included). `Err` describes the difference.
pub fn yaml_readers_agree(text: &str) -> Result<(), String> {
    crate::raw::readers_agree(text)
}
