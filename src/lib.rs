//! mdeauth: decode, verify and check Microsoft Defender for Endpoint API
//! tokens and app registrations.
//!
//! The binary is a thin shell around [`run`]; every command lives in
//! [`commands`] and returns a [`report::Report`] that a renderer prints.

pub mod aad;
pub mod aadsts;
pub mod applint;
pub mod cache;
pub mod catalog;
pub mod checks;
pub mod claims;
pub mod cli;
pub mod cloud;
pub mod commands;
pub mod consent;
pub mod digest;
pub mod discovery;
pub mod doctor;
pub mod error;
pub mod finding;
pub mod graph;
pub mod guid;
pub mod http;
pub mod input;
pub mod jwks;
pub mod mdeapi;
pub mod permissions;
pub mod plan;
pub mod privilege;
pub mod redact;
pub mod report;
pub mod resource;
pub mod scan;
mod tables;
pub mod terminal;
pub mod text;
pub mod timefmt;
pub mod token;
pub mod validate;

use std::io::Write;

use cli::{Cli, Command};
use error::{Error, Result};
use report::style::Style;

/// Run one parsed command line: build the report, print it, return the exit code.
pub fn run(cli: Cli) -> Result<u8> {
    let style = Style::new(cli.color);
    let report = match &cli.command {
        Command::Inspect(a) => commands::inspect::run(a)?,
        Command::Scan(a) => {
            let r = commands::scan::run(a)?;
            let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
            output_done(
                report::scan::render_to(&r, cli.format, &style, &mut out)
                    .and_then(|()| out.flush()),
            )?;
            let code = r.exit_code();
            // The process ends next and the OS takes the memory back: freeing
            // one result per unique token first would only cost time.
            std::mem::forget(r);
            return Ok(code);
        }
        Command::Verify(a) => commands::verify::run(a)?,
        Command::Cache(a) => commands::cache::run(a)?,
        Command::Explain(a) => {
            // Explaining an error is the job succeeding: exit 0 even though
            // the findings describe a failure.
            let r = commands::explain::run(a)?;
            write_stdout(&report::render(&r, cli.format, &style))?;
            return Ok(error::exit::PASS);
        }
        Command::ConsentUrl(a) => {
            if cli.format == report::Format::Junit {
                return Err(error::Error::input(
                    "consent-url prints links, not test results: --format junit does not apply to it",
                )
                .with_hint("use --format human or --format json"));
            }
            commands::consent_url::run(a)?
        }
        Command::Check(a) => commands::check::run(a)?,
        Command::Api(a) => commands::api::run(a)?,
        Command::App(a) => commands::app::run(a)?,
        Command::Token(a) => return commands::token::execute(a, cli.format, &style),
        Command::Probe(a) => return commands::probe::execute(a, cli.format, &style),
        Command::Doctor(a) => return commands::doctor::execute(a, cli.format, &style),
        Command::Completions(a) => {
            if cli.format != report::Format::Human {
                return Err(error::Error::input(
                    "completions prints a shell script: --format does not apply to it",
                )
                .with_hint("leave --format out"));
            }
            // Generated into memory: clap_complete panics when its writer
            // fails, and `| head` must not end in a panic.
            let mut script = Vec::new();
            clap_complete::generate(
                a.shell,
                &mut <Cli as clap::CommandFactory>::command(),
                "mdeauth",
                &mut script,
            );
            output_done(std::io::stdout().lock().write_all(&script))?;
            return Ok(error::exit::PASS);
        }
    };
    write_stdout(&report::render(&report, cli.format, &style))?;
    Ok(report.exit_code())
}

/// Write to stdout; a closed pipe (`| head`) is not an error.
pub fn write_stdout(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    output_done(out.write_all(text.as_bytes()).and_then(|()| out.flush()))
}

/// The outcome of writing the output: a closed pipe is not an error.
fn output_done(res: std::io::Result<()>) -> Result<()> {
    match res {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::environment(format!("cannot write output: {e}"))),
    }
}
