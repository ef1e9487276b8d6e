#![no_main]

#[path = "../checks/signal_expression.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| checks::check(bytes));
