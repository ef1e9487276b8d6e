//! `pipekit-ci`: wires the runner's command line and the service into one binary.
//! Everything it does is a library call.

fn main() -> std::process::ExitCode {
    pipekit_runner::cli::main(pipekit_serve::command::serve)
}
