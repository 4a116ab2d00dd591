//! The `mdeauth` binary: parse, run, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc: a scan allocates and frees many small objects on several
/// threads, where glibc's per-thread arenas keep shrinking and regrowing.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
