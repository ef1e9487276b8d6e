//! Which paths of a source tree a job's `artifacts:` patterns select.

use std::path::{Component, Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use walkdir::DirEntry;

use super::artifact_error::ArtifactError;

/// Folders that belong to the tooling, never to a build's output.
pub(super) const SKIPPED_NAMES: [&str; 2] = [".git", ".pipekit"];

/// The artifact patterns of one job, and which of them matched something.
pub(super) struct ArtifactSelection {
    patterns: Vec<String>,
    globs: GlobSet,
    /// Per pattern, the leading folders it names literally: nothing elsewhere can match.
    pub(super) literal_prefixes: Vec<PathBuf>,
    matched: Vec<bool>,
}

impl ArtifactSelection {
    pub(super) fn new(patterns: &[String]) -> Result<ArtifactSelection, ArtifactError> {
        let mut builder = GlobSetBuilder::new();
        let mut literal_prefixes = Vec::new();
        for pattern in patterns {
            let normalized = normalize_pattern(pattern)?;
            let glob = GlobBuilder::new(&normalized)
                .literal_separator(true)
                .build()
                .map_err(|source| ArtifactError::InvalidPattern {
                    pattern: pattern.clone(),
                    source,
                })?;
            builder.add(glob);
            literal_prefixes.push(
                Path::new(&normalized)
                    .components()
                    .take_while(|component| !has_glob_syntax(component.as_os_str()))
                    .collect(),
            );
        }
        let globs = builder
            .build()
            .map_err(|source| ArtifactError::InvalidPattern {
                pattern: patterns.join(", "),
                source,
            })?;
        Ok(ArtifactSelection {
            patterns: patterns.to_vec(),
            globs,
            literal_prefixes,
            matched: vec![false; patterns.len()],
        })
    }

    pub(super) fn record_matches(&mut self, relative: &Path) -> bool {
        let indices = self.globs.matches(relative);
        for &index in &indices {
            self.matched[index] = true;
        }
        !indices.is_empty()
    }

    pub(super) fn ensure_every_pattern_matched(&self) -> Result<(), ArtifactError> {
        match self.matched.iter().position(|matched| !matched) {
            Some(index) => Err(ArtifactError::NoMatch {
                pattern: self.patterns[index].clone(),
            }),
            None => Ok(()),
        }
    }
}

/// Prunes the tooling folders and any folder no pattern can reach.
pub(super) fn worth_entering(
    literal_prefixes: &[PathBuf],
    source_tree: &Path,
    entry: &DirEntry,
) -> bool {
    let name = entry.file_name();
    if SKIPPED_NAMES.iter().any(|skipped| name == *skipped) {
        return false;
    }
    if !entry.file_type().is_dir() {
        return true;
    }
    let relative = entry
        .path()
        .strip_prefix(source_tree)
        .unwrap_or(entry.path());
    literal_prefixes
        .iter()
        .any(|prefix| relative.starts_with(prefix) || prefix.starts_with(relative))
}

/// `./dist/` → `dist`; `.` → everything. Absolute patterns and `..` are refused.
fn normalize_pattern(pattern: &str) -> Result<String, ArtifactError> {
    let path = Path::new(pattern);
    let mut parts = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => parts.push(part.to_string_lossy()),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => {
                return Err(ArtifactError::PatternOutsideTree {
                    pattern: pattern.to_owned(),
                });
            }
        }
    }
    if parts.is_empty() {
        return Ok("**".to_owned());
    }
    Ok(parts.join("/"))
}

fn has_glob_syntax(part: &std::ffi::OsStr) -> bool {
    part.as_encoded_bytes()
        .iter()
        .any(|byte| matches!(byte, b'*' | b'?' | b'[' | b']' | b'{' | b'}' | b'\\'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_are_normalized_and_kept_inside() {
        let cases = [
            ("dist", Some("dist")),
            ("./dist/", Some("dist")),
            ("dist//js/*.js", Some("dist/js/*.js")),
            (".", Some("**")),
            ("../x", None),
            ("/etc/passwd", None),
            ("a/../../b", None),
        ];
        for (pattern, expected) in cases {
            let normalized = normalize_pattern(pattern).ok();
            assert_eq!(normalized.as_deref(), expected, "{pattern}");
        }
    }

    #[test]
    fn literal_prefixes_stop_at_the_first_glob() -> Result<(), ArtifactError> {
        let patterns = [
            "dist/js".to_owned(),
            "target/*/release".to_owned(),
            "**/*.xml".to_owned(),
        ];
        let selection = ArtifactSelection::new(&patterns)?;
        let expected: Vec<PathBuf> = ["dist/js", "target", ""]
            .iter()
            .map(PathBuf::from)
            .collect();
        assert_eq!(selection.literal_prefixes, expected);
        Ok(())
    }

    #[test]
    fn globs_do_not_cross_folders_unless_doubled() -> Result<(), ArtifactError> {
        let patterns = ["*.xml".to_owned(), "reports/**/*.xml".to_owned()];
        let mut selection = ArtifactSelection::new(&patterns)?;
        assert!(selection.record_matches(Path::new("top.xml")));
        assert!(selection.record_matches(Path::new("reports/a/b/deep.xml")));
        assert!(!selection.record_matches(Path::new("other/deep.xml")));
        Ok(())
    }
}
