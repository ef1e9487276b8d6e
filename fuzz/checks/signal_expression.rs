//! The signal constructor language and `depends_on` references: never a panic, and every
//! range they report slices the input on character boundaries (diagnostics underline it).
//! Shared by `fuzz/fuzz_targets/signal_expression.rs` and the schema's `fuzz_corpus` test.

use pipekit_schema::fuzzing::{depends_on_reference, signal_expression};

pub fn check(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    if let Err(range) = signal_expression(text) {
        assert!(
            text.get(range.clone()).is_some(),
            "signal expression {text:?}: error range {range:?} does not slice the input"
        );
    }
    let ranges = match depends_on_reference(text) {
        Ok(ranges) => ranges.to_vec(),
        Err(range) => vec![range],
    };
    for range in ranges {
        assert!(
            text.get(range.clone()).is_some(),
            "reference {text:?}: range {range:?} does not slice the input"
        );
    }
}
