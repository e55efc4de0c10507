fn main() -> std::process::ExitCode {
    hts_gateway::cli::main()
}
