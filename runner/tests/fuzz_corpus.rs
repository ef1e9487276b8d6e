//! Replays the fuzzers' seeds and every crash they found through the same checks the fuzz
//! targets in `fuzz/` make, so a fixed crash stays fixed without libFuzzer.

#[path = "../../fuzz/checks/artifact_extract.rs"]
mod artifact_extract;
#[path = "../../fuzz/checks/corpus.rs"]
mod corpus;
#[path = "../../fuzz/checks/env_file.rs"]
mod env_file;

#[test]
fn env_inputs_parse_into_valid_keys_or_locate_their_error() {
    corpus::replay("env_file", env_file::check);
}

#[test]
fn archives_unpack_nothing_outside_the_destination() {
    corpus::replay("artifact_extract", artifact_extract::check);
}
