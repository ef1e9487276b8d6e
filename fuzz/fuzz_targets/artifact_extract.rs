#![no_main]

#[path = "../checks/artifact_extract.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| checks::check(bytes));
