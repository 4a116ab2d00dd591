//! Command-line definitions (clap derive). Parsing only: each command's
//! arguments are validated into options by its module under `commands/`.
// The doc comments here are the `--help` text, where a URL in `<…>` would
// print with its brackets.
#![allow(rustdoc::bare_urls)]

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

impl Cli {
    /// Parse the process's arguments, exiting with clap's message (exit 2,
    /// or 0 for `--help` and `--version`) when they are wrong: what
    /// `Parser::parse` does, except that clap's command definition is not
    /// freed afterwards. The process is about to do one job and exit, and
    /// that teardown was about 3% of a one-token `inspect` or `verify`.
    pub fn from_env() -> Cli {
        use clap::{CommandFactory, FromArgMatches};
        let mut cmd = Cli::command();
        let mut matches = cmd
            .try_get_matches_from_mut(std::env::args_os())
            .unwrap_or_else(|e| usage_exit(e, named(&cmd).as_deref()));
        let cli = Cli::from_arg_matches_mut(&mut matches).unwrap_or_else(|e| {
            let named = named(&cmd);
            usage_exit(e.format(&mut cmd), named.as_deref())
        });
        std::mem::forget(matches);
        std::mem::forget(cmd);
        cli
    }
}

/// The command named on the command line, for pointing a usage error at
/// its --help (looked up only when there is an error).
fn named(cmd: &clap::Command) -> Option<String> {
    std::env::args().skip(1).find(|a| {
        cmd.get_subcommands()
            .any(|c| c.get_name() == a && c.get_name() != "help")
    })
}

/// Print clap's outcome and exit: help and version as clap writes them,
/// a usage error as the one line every other error is (`mdeauth: error:
/// ...`), exit 2.
fn usage_exit(e: clap::Error, command: Option<&str>) -> ! {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        e.exit()
    }
    let line = if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        // `mdeauth` or `mdeauth cache` alone: one line, not the whole help.
        match command {
            Some(c) => format!("`mdeauth {c}` needs a subcommand; see `mdeauth {c} --help`"),
            None => "no command given; see `mdeauth --help` for the commands".to_string(),
        }
    } else if e.kind() == ErrorKind::InvalidUtf8 {
        // A file name in another encoding, or an environment variable
        // behind an option (AZURE_TENANT_ID), that is not UTF-8.
        "an argument, or an environment variable an option reads (AZURE_TENANT_ID, AZURE_CLIENT_ID...), is not valid UTF-8; give it as UTF-8 text (a token file of such a name: --token-file PATH, or standard input with -)".to_string()
    } else {
        let line = usage_line(&e.render().to_string(), command);
        // An extra argument may be a secret or token passed by mistake: a
        // long one that is no flag, no sentence and does not read as a path
        // is not repeated.
        match e.get(clap::error::ContextKind::InvalidArg) {
            Some(clap::error::ContextValue::String(arg))
                if arg.chars().count() >= 20
                    && !arg.starts_with('-')
                    && !arg.contains(' ')
                    && !crate::input::path_like(arg) =>
            {
                line.replace(arg.as_str(), &crate::input::withheld(arg, ""))
            }
            _ => line,
        }
    };
    crate::terminal::to_stderr(&format!("mdeauth: error: {line}\n"));
    std::process::exit(2)
}

/// clap's rendered usage error as one line: the message (with any list of
/// missing arguments), clap's tip, and where to read the usage (the help of
/// `command`, the subcommand named on the command line, when clap's own
/// usage line does not name one).
fn usage_line(rendered: &str, command: Option<&str>) -> String {
    let mut message = String::new();
    let mut tips = Vec::new();
    let mut usage = None;
    for block in rendered.split("\n\n") {
        let text = block.split_whitespace().collect::<Vec<_>>().join(" ");
        if let Some(u) = text.strip_prefix("Usage: ") {
            usage = u
                .split_whitespace()
                .take(2)
                .collect::<Vec<_>>()
                .join(" ")
                .into();
        } else if let Some(t) = text.strip_prefix("tip: ") {
            tips.push(t.to_string());
        } else if message.is_empty() {
            message = text.strip_prefix("error: ").unwrap_or(&text).to_string();
        }
    }
    let help = match (usage, command) {
        (Some(u), _) if u.starts_with("mdeauth ") && u != "mdeauth [OPTIONS]" => {
            format!("{u} --help")
        }
        (_, Some(c)) => format!("mdeauth {c} --help"),
        _ => "mdeauth --help".to_string(),
    };
    tips.push(format!("see `{help}`"));
    format!("{message}; {}", tips.join("; "))
}

/// Each subcommand's arguments are built only when it is the one run
/// (`defer`): building all of them cost about a tenth of a short run.
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// Decode a token offline and explain what it is and what is wrong with it for the MDE API.
    Inspect(InspectArgs),
    /// Find every JWT in logs, text and HAR captures; evaluate each unique token once and summarise.
    Scan(ScanArgs),
    /// Lint an app registration against the WindowsDefenderATP permissions a plan needs.
    App(AppArgs),
    /// Check that a token carries the MDE permissions the app's calls need, and nothing more.
    Check(CheckArgs),
    /// Browse the MDE API permission catalogue, or list the permissions a set of calls needs.
    Api(ApiArgs),
    /// Verify a token's signature against Azure AD's published keys and validate its claims.
    Verify(VerifyArgs),
    /// Show or clear the cache of discovery documents and key sets.
    Cache(CacheArgs),
    /// Explain an AADSTS error code, or a token endpoint error (JSON or pasted text), offline.
    Explain(ExplainArgs),
    /// Print the admin-consent links for an app registration, and who may grant them.
    ConsentUrl(ConsentUrlArgs),
    /// Get a token from Entra ID (client credentials, password, device code or
    /// managed identity) and inspect it; explain the error when it is refused.
    Token(TokenCmdArgs),
    /// Call the MDE API once with the token (bounded read) and explain the answer.
    Probe(ProbeArgs),
    /// Run the whole onboarding as one checklist: configuration, token, signature,
    /// identity, permissions, app registration, and optionally a live API call.
    Doctor(DoctorArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish or powershell) to standard output.
    Completions(CompletionsArgs),
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  mdeauth completions bash > ~/.local/share/bash-completion/completions/mdeauth\n  mdeauth completions zsh > \"${fpath[1]}/_mdeauth\"\n  mdeauth completions fish > ~/.config/fish/completions/mdeauth.fish\n  mdeauth completions powershell >> $PROFILE"
)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

// Where the token comes from. Also read from MDEAUTH_TOKEN when neither is given.
#[derive(Debug, Args, Clone)]
pub struct TokenArgs {
    /// A file holding the token, or - for standard input: a bare JWT, `Bearer <jwt>`,
    /// an `Authorization:` header line, or a JSON token response. The token itself
    /// is refused here (shell history and the process list keep arguments).
    #[arg(value_name = "FILE|-")]
    pub token: Option<String>,
    /// Read the token from this file.
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<PathBuf>,
}

// Time settings for every time-based check. (Flattened argument groups carry
// no doc comment: with deferred subcommands it would replace the command's about.)
#[derive(Debug, Args, Clone)]
pub struct TimeArgs {
    /// Evaluate time-based checks as of this RFC 3339 instant instead of now
    /// (e.g. 2026-03-02T09:30:00Z: "was it valid when that call failed?").
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Allowed clock skew in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = crate::checks::DEFAULT_LEEWAY, allow_negative_numbers = true)]
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
    #[command(flatten)]
    pub keys: KeyArgs,
    /// Accepted audience (repeatable); default: the MDE API audiences.
    #[arg(long, value_name = "AUD")]
    pub audience: Vec<String>,
    /// Expected tenant id (tid).
    #[arg(long, value_name = "TENANT_ID")]
    pub tenant: Option<String>,
    /// Expected calling app (appid / azp); also the app for --app-keys.
    #[arg(long, value_name = "APP_ID")]
    pub client_id: Option<String>,
}

// Where signature keys come from: shared by `verify`, `check` and `scan`.
#[derive(Debug, Args, Clone)]
pub struct KeyArgs {
    /// Use this key set (a JWKS file or URL) instead of discovery.
    #[arg(long, value_name = "PATH|URL")]
    pub jwks: Option<String>,
    /// Read discovery from this cloud instead of the one the issuer names.
    #[arg(long, value_name = "CLOUD", value_parser = crate::cloud::CLI_NAMES, ignore_case = true)]
    pub cloud: Option<String>,
    /// Read discovery from this sign-in host (private cloud, test server).
    #[arg(long, value_name = "URL")]
    pub authority_host: Option<String>,
    /// For a token of your own API whose app registration signs with custom keys (claims
    /// mapping): read that app's key set (metadata URL with ?appid=) instead of the common one.
    /// Never used for MDE API tokens, which Azure AD signs with the common keys only.
    #[arg(long, value_name = "API_APP_ID")]
    pub app_keys: Option<String>,
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

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// An AADSTS code (AADSTS700016 or 700016), error text or JSON, a file holding it,
    /// or - to read it from standard input.
    #[arg(value_name = "CODE|TEXT|FILE|-")]
    pub input: String,
    /// The app's client id, for the consent link of consent-related errors
    /// (otherwise taken from the error text when it names one).
    #[arg(long, value_name = "GUID")]
    pub client_id: Option<String>,
    /// Tenant id or domain for the tenant-specific consent link.
    #[arg(long, value_name = "TENANT")]
    pub tenant: Option<String>,
    /// Cloud for the consent link: public, gcc, gcc-high, dod, china.
    #[arg(long, value_name = "CLOUD", default_value = "public", value_parser = crate::cloud::CLI_NAMES, ignore_case = true)]
    pub cloud: String,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Output: --format human or json (links are not test results: junit is refused)."
)]
pub struct ConsentUrlArgs {
    /// The app registration's Application (client) ID.
    #[arg(long, value_name = "GUID")]
    pub client_id: String,
    /// Tenant id or domain: adds the tenant-specific link and replaces
    /// `organizations` in the v2 link.
    #[arg(long, value_name = "TENANT")]
    pub tenant: Option<String>,
    /// Cloud: public, gcc, gcc-high, dod, china.
    #[arg(long, value_name = "CLOUD", default_value = "public", value_parser = crate::cloud::CLI_NAMES, ignore_case = true)]
    pub cloud: String,
    /// Redirect URI for the v2 admin-consent link (must be registered on the app).
    #[arg(long, value_name = "URL")]
    pub redirect_uri: Option<String>,
    /// Opaque state value echoed back on the redirect (v2 link).
    #[arg(long, value_name = "STATE")]
    pub state: Option<String>,
}

/// How `mdeauth token` gets the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Flow {
    /// App-only: client secret or certificate.
    ClientCredentials,
    /// User context with username and password (ROPC); cannot do MFA.
    Password,
    /// User context: sign in on another device with a code.
    DeviceCode,
    /// Azure managed identity (App Service or the instance metadata service).
    ManagedIdentity,
}

// The app's and the user's secrets, for the grants that need them. Never
// values on the command line: files, standard input or the Azure SDK's
// environment variables. (A plain comment: a doc comment on a flattened
// struct would replace the help's description of every command using it.)
#[derive(Debug, Args, Clone, Default)]
pub struct CredentialArgs {
    /// Read the client secret from this file (otherwise AZURE_CLIENT_SECRET).
    #[arg(long, value_name = "PATH", conflicts_with = "client_secret_stdin")]
    pub client_secret_file: Option<PathBuf>,
    /// Read the client secret from standard input.
    #[arg(long)]
    pub client_secret_stdin: bool,
    /// PEM file with the RSA private key and certificate (AZURE_CLIENT_CERTIFICATE_PATH).
    #[arg(
        long,
        value_name = "PATH",
        env = "AZURE_CLIENT_CERTIFICATE_PATH",
        hide_env_values = true
    )]
    pub certificate: Option<PathBuf>,
    /// User name for --flow password (AZURE_USERNAME).
    #[arg(
        long,
        value_name = "UPN",
        env = "AZURE_USERNAME",
        hide_env_values = true
    )]
    pub username: Option<String>,
    /// Read the password from this file (otherwise AZURE_PASSWORD).
    #[arg(long, value_name = "PATH", conflicts_with = "password_stdin")]
    pub password_file: Option<PathBuf>,
    /// Read the password from standard input.
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, Args)]
pub struct TokenCmdArgs {
    /// The grant to use.
    #[arg(long, value_enum, default_value_t = Flow::ClientCredentials)]
    pub flow: Flow,
    /// Tenant id or domain (AZURE_TENANT_ID; default: the --plan tenant_id).
    #[arg(
        long,
        value_name = "TENANT",
        env = "AZURE_TENANT_ID",
        hide_env_values = true
    )]
    pub tenant: Option<String>,
    /// Application (client) id (AZURE_CLIENT_ID; default: the --plan client_id); for managed identity, selects a user-assigned identity.
    #[arg(
        long,
        value_name = "GUID",
        env = "AZURE_CLIENT_ID",
        hide_env_values = true
    )]
    pub client_id: Option<String>,
    /// For --flow managed-identity: select a user-assigned identity by its object (principal) id.
    #[arg(long, value_name = "GUID", conflicts_with = "mi_resource_id")]
    pub mi_object_id: Option<String>,
    /// For --flow managed-identity: select a user-assigned identity by its resource id
    /// (/subscriptions/.../providers/Microsoft.ManagedIdentity/userAssignedIdentities/NAME).
    #[arg(long, value_name = "ID")]
    pub mi_resource_id: Option<String>,
    /// Authority host, e.g. https://login.microsoftonline.us (AZURE_AUTHORITY_HOST);
    /// defaults to the cloud's sign-in host. http:// only on loopback.
    #[arg(
        long,
        value_name = "URL",
        env = "AZURE_AUTHORITY_HOST",
        hide_env_values = true
    )]
    pub authority_host: Option<String>,
    /// Cloud: public, gcc, gcc-high, dod, china.
    #[arg(long, value_name = "CLOUD", default_value = "public", value_parser = crate::cloud::CLI_NAMES, ignore_case = true)]
    pub cloud: String,
    /// v2 scope (default https://api.securitycenter.microsoft.com/.default).
    #[arg(long, value_name = "SCOPE", conflicts_with = "resource")]
    pub scope: Option<String>,
    /// v1 resource / managed-identity resource (default https://api.securitycenter.microsoft.com).
    #[arg(long, value_name = "URI")]
    pub resource: Option<String>,
    /// Use the v1 endpoint ({authority}/{tenant}/oauth2/token) with resource=, as the MDE samples do.
    #[arg(long)]
    pub v1: bool,
    #[command(flatten)]
    pub credentials: CredentialArgs,
    /// Write only the raw access token to standard output (the report goes to standard error).
    #[arg(long)]
    pub print_token: bool,
    /// Total timeout per HTTP request, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub timeout: u64,
    #[command(flatten)]
    pub time: TimeArgs,
    /// Also check the acquired token against this plan file, as `check` does.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// Also check the acquired token for this call, as `check` does (repeatable).
    #[arg(long = "call", value_name = "METHOD PATH")]
    pub calls: Vec<String>,
    /// The context the app is meant to use (with --plan/--call).
    #[arg(long, value_enum)]
    pub context: Option<crate::permissions::PermContext>,
}

// Where the MDE API is.
#[derive(Debug, Args, Clone, Default)]
pub struct ApiHostArgs {
    /// The cloud whose MDE API to call: public, gcc, gcc-high, dod
    /// (default: the token issuer's cloud, else public).
    #[arg(long = "cloud", value_name = "CLOUD", value_parser = ["public", "gcc", "gcc-high", "dod"])]
    pub api_cloud: Option<String>,
    /// Regional host of the commercial cloud: us, eu, uk, au, swa ({region}.api.security.microsoft.com).
    #[arg(long, value_name = "REGION", value_parser = crate::mdeapi::REGION_NAMES, conflicts_with = "api_base")]
    pub region: Option<String>,
    /// Call this base URL instead (https; http only on loopback).
    #[arg(long, value_name = "URL")]
    pub api_base: Option<String>,
}

impl ApiHostArgs {
    pub fn options(&self) -> crate::mdeapi::HostOptions {
        crate::mdeapi::HostOptions {
            api_base: self.api_base.clone(),
            cloud: self.api_cloud.clone(),
            region: self.region.clone(),
        }
    }
}

#[derive(Debug, Args)]
#[command(
    after_help = "Exit codes: 0 the API answered 2xx; 1 it said no (401, 403, 404, 429, other 4xx); 2 bad input, unknown call, unfilled placeholder, or a write call without --allow-write (nothing is sent); 3 network failure or 5xx."
)]
pub struct ProbeArgs {
    #[command(flatten)]
    pub input: TokenArgs,
    #[command(flatten)]
    pub time: TimeArgs,
    /// The call to make: "METHOD PATH" with concrete ids, e.g. "GET /api/alerts".
    #[arg(long, value_name = "METHOD PATH")]
    pub call: String,
    #[command(flatten)]
    pub host: ApiHostArgs,
    /// Allow calls other than GET (they change data in the tenant).
    #[arg(long)]
    pub allow_write: bool,
    /// JSON request body for a write call (needs --allow-write).
    #[arg(long, value_name = "FILE", requires = "allow_write")]
    pub body: Option<PathBuf>,
    /// Total timeout of the request, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub timeout: u64,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Without a token, doctor gets one: with the client-credentials grant (secret from AZURE_CLIENT_SECRET, --client-secret-file or --client-secret-stdin, or a certificate), from the managed identity when the plan's credential is managed_identity, or with --flow. A delegated plan needs a signed-in user's token: give one, or pass --flow device-code (or --flow password). Exit codes: 0 every step passed; 1 a step failed; 2 bad input; 3 the network or an endpoint failed during acquisition, discovery or the probe (shown as a failed step)."
)]
pub struct DoctorArgs {
    /// Warnings fail too (exit 1; JUnit failures): least privilege and other warnings gate CI.
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub input: TokenArgs,
    #[command(flatten)]
    pub time: TimeArgs,
    /// Plan file (TOML): the app, its tenant and the MDE calls it makes.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// A call the app makes (repeatable), instead of or on top of --plan.
    #[arg(long = "call", value_name = "METHOD PATH")]
    pub calls: Vec<String>,
    /// The context the app is meant to use (default: the plan's).
    #[arg(long, value_enum)]
    pub context: Option<crate::permissions::PermContext>,
    /// App registration JSON (portal manifest or `az ad app show`): lint it and show the chain.
    #[arg(long, value_name = "MANIFEST.json")]
    pub app: Option<PathBuf>,
    /// What was granted to the app's service principal (app-role assignments / OAuth2 grants).
    #[arg(long, value_name = "GRANTS.json", requires = "app")]
    pub grants: Option<PathBuf>,
    /// The tenant's WindowsDefenderATP service principal, to name permission GUIDs.
    #[arg(long, value_name = "SP.json", requires = "app")]
    pub sp: Option<PathBuf>,
    /// App lint: warn about secrets and certificates expiring within N days.
    #[arg(long, value_name = "N", default_value_t = 30, requires = "app")]
    pub expiry_days: i64,
    /// Tenant id or domain (AZURE_TENANT_ID; default: the plan's tenant_id).
    #[arg(
        long,
        value_name = "TENANT",
        env = "AZURE_TENANT_ID",
        hide_env_values = true
    )]
    pub tenant: Option<String>,
    /// Application (client) id (AZURE_CLIENT_ID; default: the plan's client_id).
    #[arg(
        long,
        value_name = "GUID",
        env = "AZURE_CLIENT_ID",
        hide_env_values = true
    )]
    pub client_id: Option<String>,
    /// Sign-in host for the token request and discovery (AZURE_AUTHORITY_HOST). http:// only on loopback.
    #[arg(
        long,
        value_name = "URL",
        env = "AZURE_AUTHORITY_HOST",
        hide_env_values = true
    )]
    pub authority_host: Option<String>,
    /// How to get the token when none is given (default: managed-identity when the plan's
    /// credential is managed_identity, else client-credentials; a delegated plan needs
    /// device-code or password).
    #[arg(long, value_enum)]
    pub flow: Option<Flow>,
    #[command(flatten)]
    pub credentials: CredentialArgs,
    /// Use this key set (a JWKS file or URL) instead of discovery.
    #[arg(long, value_name = "PATH|URL")]
    pub jwks: Option<String>,
    /// Use only the cache and files for keys; never fetch discovery.
    #[arg(long)]
    pub offline: bool,
    /// Cache directory (default: MDEAUTH_CACHE_DIR, else the platform cache directory).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Skip the signature check.
    #[arg(long, conflicts_with_all = ["jwks", "offline", "cache_dir"])]
    pub no_verify: bool,
    /// Also call the MDE API once per planned GET call that has no placeholder.
    #[arg(long)]
    pub probe: bool,
    #[command(flatten)]
    pub host: ApiHostArgs,
    /// Network timeout per request, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub timeout: u64,
}

#[derive(Debug, Args)]
#[command(
    after_help = "The signature is verified as by `mdeauth verify` (discovery or --jwks). When the keys cannot be reached (network, endpoint, empty cache with --offline) the report carries the warning signature.unverified and the permission checks still run; --no-verify skips verification."
)]
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
    pub context: Option<crate::permissions::PermContext>,
    #[command(flatten)]
    pub keys: KeyArgs,
    /// Do not verify the signature (offline checks only; no key discovery).
    #[arg(long, conflicts_with_all = ["jwks", "cloud", "authority_host", "app_keys", "offline", "cache_dir", "timeout"])]
    pub no_verify: bool,
    /// Warnings fail too (exit 1; JUnit failures): least privilege and other warnings gate CI.
    #[arg(long)]
    pub strict: bool,
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
    pub context: Option<crate::permissions::PermContext>,
    /// List only calls whose area contains this text.
    #[arg(long, value_name = "TEXT")]
    pub area: Option<String>,
    /// List only calls whose name, path, area, id or notes contain this text.
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,
    /// Include legacy calls (removed from the current documentation) in the list.
    #[arg(long)]
    pub legacy: bool,
    /// List the calls that accept this permission.
    #[arg(long, value_name = "NAME")]
    pub permission: Option<String>,
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
    /// A federated credential (workload identity federation), which the manifest does not show.
    Federated,
}

#[derive(Debug, Args)]
#[command(
    group = clap::ArgGroup::new("needs").args(["plan", "calls", "permissions"]).required(true).multiple(true),
    after_help = "Examples:\n  mdeauth app app.json --plan plan.toml\n  mdeauth app app.json --call \"GET /api/machines\" --call \"POST /api/machines/{id}/isolate\" --context application --credential certificate\n  mdeauth app app.json --permission Machine.Read.All --context application --credential certificate\n  MDEAUTH_GRAPH_TOKEN=... mdeauth app --app-id <GUID> --permission Alert.Read --context delegated --credential device-code"
)]
pub struct AppArgs {
    /// Warnings fail too (exit 1; JUnit failures): least privilege and other warnings gate CI.
    #[arg(long)]
    pub strict: bool,
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
    /// Plan file (TOML) naming the app and the MDE calls it makes; the permissions
    /// come from the MDE API catalogue.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// A call the app makes: "METHOD PATH", path or full URL (repeatable).
    #[arg(long = "call", value_name = "METHOD PATH")]
    pub calls: Vec<String>,
    /// A WindowsDefenderATP permission the app needs (repeat for each), for ad-hoc
    /// use instead of --plan/--call.
    #[arg(
        long = "permission",
        value_name = "NAME",
        conflicts_with_all = ["plan", "calls"]
    )]
    pub permissions: Vec<String>,
    /// The kind of token the app uses (default: the plan's context).
    #[arg(long, value_enum)]
    pub context: Option<crate::permissions::PermContext>,
    /// The app serves other tenants (it must be multi-tenant and consented in each).
    #[arg(long)]
    pub multi_tenant: bool,
    /// How the app authenticates (default: the plan's credential).
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
    /// The app's cloud: public (default), gcc, gcc-high, dod, china. Sets the sign-in host
    /// of the consent links in fixes and, in live mode, the Microsoft Graph to ask.
    #[arg(long, value_name = "NAME", value_parser = crate::cloud::CLI_NAMES, ignore_case = true)]
    pub cloud: Option<String>,
    /// Live mode: total timeout per Microsoft Graph request, in seconds; no
    /// further request is sent once they have taken 4 times it together.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub timeout: u64,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files or directories to scan (plain text, logs, JSON logs, HAR captures, each possibly gzip-compressed; a directory's files are scanned through its subfolders; a pattern such as logs\*.log is expanded when the shell did not); - or nothing for standard input.
    #[arg(value_name = "FILE")]
    pub files: Vec<std::ffi::OsString>,
    #[command(flatten)]
    pub time: TimeArgs,
    #[command(flatten)]
    pub keys: KeyArgs,
    /// Do not verify signatures (offline checks only; no key discovery).
    #[arg(long, conflicts_with_all = ["jwks", "cloud", "authority_host", "app_keys", "offline", "cache_dir", "timeout"])]
    pub no_verify: bool,
    /// Plan file (TOML): check every token against the calls it lists.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// A call every token must allow: "METHOD PATH" (repeatable).
    #[arg(long = "call", value_name = "METHOD PATH")]
    pub calls: Vec<String>,
    /// The context the tokens are meant to have.
    #[arg(long, value_enum)]
    pub context: Option<crate::permissions::PermContext>,
}

#[cfg(test)]
mod tests {
    use super::usage_line;

    #[test]
    fn usage_errors_become_one_line() {
        let r = "error: unexpected argument '-1' found\n\n  tip: to pass '-1' as a value, use '-- -1'\n\nUsage: mdeauth verify [OPTIONS] [TOKEN]\n\nFor more information, try '--help'.\n";
        assert_eq!(
            usage_line(r, None),
            "unexpected argument '-1' found; to pass '-1' as a value, use '-- -1'; see `mdeauth verify --help`"
        );
        let r = "error: the following required arguments were not provided:\n  <--plan <FILE>|--call <METHOD PATH>>\n\nUsage: mdeauth app <MANIFEST>\n\nFor more information, try '--help'.\n";
        assert_eq!(
            usage_line(r, Some("app")),
            "the following required arguments were not provided: <--plan <FILE>|--call <METHOD PATH>>; see `mdeauth app --help`"
        );
        let r = "error: unrecognized subcommand 'x'\n\nUsage: mdeauth [OPTIONS] <COMMAND>\n\nFor more information, try '--help'.\n";
        assert_eq!(
            usage_line(r, None),
            "unrecognized subcommand 'x'; see `mdeauth --help`"
        );
        // clap writes no usage line for a bad value: the command named is used.
        let r = "error: invalid value 'mars' for '--cloud <CLOUD>'\n  [possible values: public, gcc]\n\nFor more information, try '--help'.\n";
        assert_eq!(
            usage_line(r, Some("consent-url")),
            "invalid value 'mars' for '--cloud <CLOUD>' [possible values: public, gcc]; see `mdeauth consent-url --help`"
        );
    }
}
