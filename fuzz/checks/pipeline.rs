//! `pipekit-ci validate`'s path: text -> parsed and validated pipeline -> rendered notes or
//! diagnostics. Must never panic, a refusal always carries at least one error, and both YAML
//! readers build the same tree.
//! Shared by `fuzz/fuzz_targets/pipeline.rs` and the schema's `fuzz_corpus` test.

use pipekit_schema::{MAX_PIPELINE_BYTES, Severity, Source};

pub fn check(bytes: &[u8]) {
    // The CLI refuses oversized and non-UTF-8 files before parsing (runner/src/cli/load.rs).
    if bytes.len() > MAX_PIPELINE_BYTES {
        return;
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    // Where the fast YAML reader takes a file, it reads it as serde-saphyr does.
    if let Err(difference) = pipekit_schema::fuzzing::yaml_readers_agree(text) {
        panic!("the YAML readers disagree on {text:?}: {difference}");
    }
    let source = Source {
        name: "pipekit.yml".to_owned(),
        text: text.to_owned(),
    };
    match pipekit_schema::parse(&source) {
        Ok(parsed) => {
            for note in &parsed.notes {
                assert_ne!(note.severity, Severity::Error, "an error among the notes");
                let _ = note.render(&source.name, &source.text, false);
            }
        }
        Err(diagnostics) => {
            assert!(
                diagnostics
                    .items
                    .iter()
                    .any(|item| item.severity == Severity::Error),
                "refused without an error: {:?}",
                diagnostics.items
            );
            let rendered = diagnostics.render(false);
            assert!(rendered.contains("error:"), "{rendered}");
            let _ = diagnostics.render(true);
        }
    }
}
