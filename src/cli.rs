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
    /// Verify a token's signature against Azure AD's published keys and validate its claims.
    Verify(VerifyArgs),
    /// Show or clear the cache of discovery documents and key sets.
    Cache(CacheArgs),
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
#[command(
    after_help = "Keys come from OpenID discovery for the token's version, tenant (tid) and cloud (issuer host), cached on disk for 24 h (MDEAUTH_CACHE_DIR or --cache-dir overrides the location). Exit 0 only when the signature and the claims are valid."
)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub input: TokenArgs,
    #[command(flatten)]
    pub time: TimeArgs,
    /// Use this key set (a JWKS file or URL) instead of discovery.
    #[arg(long, value_name = "PATH|URL")]
    pub jwks: Option<String>,
    /// Read discovery from this cloud instead of the one the issuer names.
    #[arg(long, value_name = "CLOUD", value_parser = crate::cloud::CLI_NAMES)]
    pub cloud: Option<String>,
    /// Read discovery from this sign-in host (private cloud, test server).
    #[arg(long, value_name = "URL")]
    pub authority_host: Option<String>,
    /// Always use the app-specific signing keys (metadata URL with ?appid=).
    #[arg(long)]
    pub app_keys: bool,
    /// Accepted audience (repeatable); default: the MDE API audiences.
    #[arg(long, value_name = "AUD")]
    pub audience: Vec<String>,
    /// Expected tenant id (tid).
    #[arg(long, value_name = "TENANT_ID")]
    pub tenant: Option<String>,
    /// Expected calling app (appid / azp); also the app for --app-keys.
    #[arg(long, value_name = "APP_ID")]
    pub client_id: Option<String>,
    /// Network timeout per request, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub timeout: u64,
    /// Use only the cache and files; never touch the network.
    #[arg(long)]
    pub offline: bool,
    /// Cache directory (default: MDEAUTH_CACHE_DIR, else the platform cache directory).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CacheArgs {
    #[command(subcommand)]
    pub action: CacheAction,
    /// Cache directory (default: MDEAUTH_CACHE_DIR, else the platform cache directory).
    #[arg(long, global = true, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum CacheAction {
    /// List cached documents: URL, fetch time, age, size, key ids.
    Show,
    /// Remove every cached document.
    Clear,
}
