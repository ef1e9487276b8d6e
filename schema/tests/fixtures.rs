//! Every file under `fixtures/invalid` fails with located errors (rendered output snapshotted);
//! every file under `fixtures/valid` parses.

use std::path::{Path, PathBuf};

use pipekit_schema::{Severity, Source};

fn fixtures(kind: &str) -> Vec<PathBuf> {
    let directory = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(kind);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&directory)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", directory.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "yml"))
        .collect();
    files.sort();
    files
}

fn source(path: &Path) -> Source {
    let name = path
        .file_name()
        .expect("file name")
        .to_string_lossy()
        .into_owned();
    let text = std::fs::read_to_string(path).expect("fixture is UTF-8");
    Source { name, text }
}

#[test]
fn invalid_fixtures_fail_with_located_errors() {
    let files = fixtures("invalid");
    assert!(files.len() >= 17, "expected the invalid fixtures, found {files:?}");
    for path in files {
        let source = source(&path);
        let diagnostics = match pipekit_schema::parse(&source) {
            Ok(parsed) => panic!("{} parsed: {:?}", source.name, parsed.pipeline),
            Err(diagnostics) => diagnostics,
        };
        assert!(
            diagnostics
                .items
                .iter()
                .any(|item| item.severity == Severity::Error && item.location.is_some()),
            "{}: no located error in {:?}",
            source.name,
            diagnostics.items
        );
        let rendered = diagnostics.render(false);
        let stem = source.name.trim_end_matches(".yml");
        insta::with_settings!({ snapshot_suffix => stem, prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!("invalid", rendered);
        });
    }
}

#[test]
fn valid_fixtures_parse() {
    for path in fixtures("valid") {
        let source = source(&path);
        if let Err(diagnostics) = pipekit_schema::parse(&source) {
            panic!("{}:\n{diagnostics}", source.name);
        }
    }
}
