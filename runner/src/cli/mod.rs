//! The `pipekit-ci` command line: arguments, the commands, console output and exit codes.

#[macro_use]
mod console_print;
mod args;
mod commit_run;
mod console;
mod containers;
mod diagnosis;
mod error;
mod graph;
mod hook_command;
mod interrupts;
mod load;
mod log_limit_option;
mod pipeline_run;
mod push;
mod run_command;
mod run_places;
mod workspace;

pub use args::{ServeAction, ServeArgs, UserAction};
pub use error::CliError;

/// `pipekit-ci serve`, which lives in a crate of its own (it needs the runner); the binary
/// hands it in.
pub type ServeCommand = fn(ServeArgs) -> Result<u8, CliError>;

use clap::Parser;
use std::process::ExitCode;

/// Entry point of the binary: runs the command and turns its result into the spec's
/// exit code.
pub fn main(serve: ServeCommand) -> ExitCode {
    // git2's first use sets SSL_CERT_FILE and SSL_CERT_DIR for its OpenSSL (the service's
    // https mirrors) unless they are set: done now, while this is the only thread, because
    // setting the environment races with another thread reading it.
    let _ = git2::Config::new();
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let code = if error.use_stderr() {
                CliError::INVALID_INPUT
            } else {
                0
            };
            let _ = error.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        args::Command::Run(run) => run_command::run(run),
        args::Command::Validate(validate) => load::validate(&validate),
        args::Command::Graph(graph) => graph::print(&graph),
        args::Command::Down(file) => containers::down(&file.file),
        args::Command::Gc(file) => containers::gc(&file.file),
        args::Command::Hook(hook) => hook_command::hook(hook),
        args::Command::Serve(args) => serve(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            err_println!("{error}");
            ExitCode::from(error.exit_code())
        }
    }
}
