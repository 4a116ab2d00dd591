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
    /// Lint an app registration against the WindowsDefenderATP permissions a plan needs.
    App(AppArgs),
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

/// The kind of token the plan uses against the MDE API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ContextArg {
    /// App-only tokens (application permissions, `Role`).
    Application,
    /// Tokens for a signed-in user (delegated permissions, `Scope`).
    Delegated,
}

/// How the app authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CredentialArg {
    Secret,
    Certificate,
    /// Username and password (password grant).
    User,
    DeviceCode,
    ManagedIdentity,
    /// Interactive sign-in (authorization code with a redirect URI).
    Interactive,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  mdeauth app app.json --permission Machine.Read.All --context application --credential certificate\n  MDEAUTH_GRAPH_TOKEN=... mdeauth app --app-id <GUID> --permission Alert.Read --context delegated --credential device-code"
)]
pub struct AppArgs {
    /// App registration JSON: the portal's manifest (either format) or `az ad app show` output.
    #[arg(
        value_name = "MANIFEST",
        required_unless_present = "app_id",
        conflicts_with = "app_id"
    )]
    pub manifest: Option<PathBuf>,
    /// Live mode: read the app registration with this appId from Microsoft Graph.
    #[arg(long, value_name = "GUID")]
    pub app_id: Option<String>,
    /// A WindowsDefenderATP permission the app needs (repeat for each).
    #[arg(long = "permission", value_name = "NAME", required = true)]
    pub permissions: Vec<String>,
    /// The kind of token the app uses.
    #[arg(long, value_enum)]
    pub context: ContextArg,
    /// The app serves other tenants (it must be multi-tenant and consented in each).
    #[arg(long)]
    pub multi_tenant: bool,
    /// How the app authenticates.
    #[arg(long, value_enum)]
    pub credential: Option<CredentialArg>,
    /// The tenant's WindowsDefenderATP service principal (`az ad sp show --id fc780465-2017-40d4-a0c5-307022471b92`), to name GUIDs.
    #[arg(long, value_name = "SP.json", conflicts_with = "app_id")]
    pub sp: Option<PathBuf>,
    /// What was granted: app-role assignments and/or OAuth2 permission grants of the app's service principal.
    #[arg(long, value_name = "GRANTS.json", conflicts_with = "app_id")]
    pub grants: Option<PathBuf>,
    /// Warn about secrets and certificates expiring within this many days.
    #[arg(long, value_name = "N", default_value_t = 30)]
    pub expiry_days: i64,
    /// Evaluate expiry as of this RFC 3339 instant instead of now.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Live mode: file holding a Microsoft Graph access token (or set MDEAUTH_GRAPH_TOKEN).
    #[arg(long, value_name = "PATH")]
    pub graph_token_file: Option<PathBuf>,
    /// Live mode: Microsoft Graph base URL (default: the --cloud's Graph endpoint).
    #[arg(long, value_name = "URL")]
    pub graph_endpoint: Option<String>,
    /// Live mode: the cloud whose Microsoft Graph to ask: public (default), gcc, gcc-high, dod, china.
    #[arg(long, value_name = "NAME")]
    pub cloud: Option<String>,
}
