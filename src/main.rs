//! The `mdeauth` binary: parse, run, map the outcome to an exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = mdeauth::cli::Cli::from_env();
    match mdeauth::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            mdeauth::terminal::to_stderr(&format!("mdeauth: error: {}\n", e.one_line()));
            ExitCode::from(e.exit_code())
        }
    }
}
