//! Printing that survives a closed or broken stdout/stderr (`pipekit-ci run 2>&1 | head -1`).
//!
//! `print!` and `eprint!` panic when a write fails; a reader that went away must not turn a
//! finished run into a crash (exit 101) or keep its reports from being written. What could
//! not be printed is dropped; the run and its exit code go on as if it had been read.

use std::fmt;
use std::io::Write;

/// Writes to stderr, ignoring a closed or broken pipe.
pub fn to_stderr(text: fmt::Arguments<'_>) {
    let _ = std::io::stderr().lock().write_fmt(text);
}

/// Writes to stdout and flushes, ignoring a closed or broken pipe.
pub fn to_stdout(text: fmt::Arguments<'_>) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_fmt(text).and_then(|()| stdout.flush());
}

/// `eprint!` that never panics.
macro_rules! err_print {
    ($($arg:tt)*) => {
        $crate::cli::console_print::to_stderr(format_args!($($arg)*))
    };
}

/// `eprintln!` that never panics.
macro_rules! err_println {
    ($($arg:tt)*) => {
        $crate::cli::console_print::to_stderr(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` that never panics.
macro_rules! out_print {
    ($($arg:tt)*) => {
        $crate::cli::console_print::to_stdout(format_args!($($arg)*))
    };
}

/// `println!` that never panics.
macro_rules! out_println {
    ($($arg:tt)*) => {
        $crate::cli::console_print::to_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}
