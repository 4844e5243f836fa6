//! The `pol` command line: see the library, [`pol_cli::main_with`].

fn main() -> std::process::ExitCode {
    pol_cli::main_with(std::env::args_os())
}
