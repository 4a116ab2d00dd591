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
    /// Check that a token carries the MDE permissions the app's calls need, and nothing more.
    Check(CheckArgs),
    /// Browse the MDE API permission catalogue, or list the permissions a set of calls needs.
    Api(ApiArgs),
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
pub struct CheckArgs {
    #[command(flatten)]
    pub input: TokenArgs,
    #[command(flatten)]
    pub time: TimeArgs,
    /// Plan file (TOML) naming the app and the MDE calls it makes.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// A call the app makes: "METHOD PATH", path or full URL (repeatable).
    #[arg(long = "call", value_name = "METHOD PATH")]
    pub calls: Vec<String>,
    /// The context the app is meant to use; a token of the other context is an error.
    #[arg(long, value_enum)]
    pub context: Option<crate::plan::PlanContext>,
}

#[derive(Debug, Args)]
pub struct ApiArgs {
    /// Show one call: "METHOD PATH" (path, template or full URL).
    #[arg(value_name = "CALL")]
    pub call: Option<String>,
    /// Plan file: list the minimal permissions its calls need.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// A call to include in the minimal permission set (repeatable).
    #[arg(long = "call", value_name = "METHOD PATH")]
    pub calls: Vec<String>,
    /// Permission context (default: the plan's, else application).
    #[arg(long, value_enum)]
    pub context: Option<crate::plan::PlanContext>,
    /// List only calls whose area contains this text.
    #[arg(long, value_name = "TEXT")]
    pub area: Option<String>,
    /// List only calls whose name, path, area or notes contain this text.
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,
    /// Include legacy calls (removed from the current documentation) in the list.
    #[arg(long)]
    pub legacy: bool,
    /// List the calls that accept this permission.
    #[arg(long, value_name = "NAME")]
    pub permission: Option<String>,
}
