//! Command-line definitions (clap derive). Parsing only: each command's
//! arguments are validated into options by its module under `commands/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::report::Format;
use crate::report::style::ColorChoice;

#[derive(Debug, Parser)]
#[command(
    name = "mdeauth",
    version,
    about = "Decode, verify and check Microsoft Defender for Endpoint API tokens and app registrations",
    after_help = "Exit codes: 0 pass, 1 the checks found a problem, 2 bad input or usage, 3 environment failure (network, endpoint, file system)."
)]
pub struct Cli {
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// When to colour human output (NO_COLOR is honoured in auto mode).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Decode a token offline and explain what it is and what is wrong with it for the MDE API.
    Inspect(InspectArgs),
    /// Find every JWT in logs, text and HAR captures; evaluate each unique token once and summarise.
    Scan(ScanArgs),
}

/// Where the token comes from. Also read from MDEAUTH_TOKEN when neither is given.
#[derive(Debug, Args, Clone)]
pub struct TokenArgs {
    /// The token, a file holding it, or - for standard input. Accepts a bare JWT,
    /// `Bearer <jwt>`, an `Authorization:` header line, or a JSON token response.
    #[arg(value_name = "TOKEN")]
    pub token: Option<String>,
    /// Read the token from this file.
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<PathBuf>,
}

/// Time settings for every time-based check.
#[derive(Debug, Args, Clone)]
pub struct TimeArgs {
    /// Evaluate time-based checks as of this RFC 3339 instant instead of now
    /// (e.g. 2026-03-02T09:30:00Z: "was it valid when that call failed?").
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Allowed clock skew in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = crate::checks::DEFAULT_LEEWAY)]
    pub leeway: i64,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    #[command(flatten)]
    pub input: TokenArgs,
    #[command(flatten)]
    pub time: TimeArgs,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files to scan (plain text, logs, JSON logs, HAR captures); - or nothing for standard input.
    #[arg(value_name = "FILE")]
    pub files: Vec<String>,
    #[command(flatten)]
    pub time: TimeArgs,
}
