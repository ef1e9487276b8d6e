fn main() -> std::process::ExitCode {
    pipekit_runner::cli::main()
}
