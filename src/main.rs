//! The `mdeauth` binary: parse, run, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = mdeauth::cli::Cli::parse();
    match mdeauth::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("mdeauth: error: {}", e.one_line());
            ExitCode::from(e.exit_code())
        }
    }
}
