//! `mdeauth token`: get a token from Entra ID and inspect it, or explain why
//! it was refused.
//!
//! Inputs follow the Azure SDK's environment variables. Secrets and passwords
//! come from the environment, a file or standard input, never from arguments,
//! and are never printed.

use std::path::Path;
use std::time::Duration;

use crate::aad::{
    self, Aad, ClientCertificate, Credential, Endpoint, ManagedIdentity, Outcome, Target,
};
use crate::aadsts;
use crate::checks;
use crate::cli::{CredentialArgs, Flow, TokenCmdArgs};
use crate::consent;
use crate::error::{Error, Result};
use crate::finding::Finding;
use crate::http::{Http, HttpOptions};
use crate::input;
use crate::plan::Plan;
use crate::report::style::Style;
use crate::report::{self, Format, Report, TokenSection};
use crate::token::Token;

/// Run the command and print its output; returns the exit code.
///
/// With `--print-token` standard output carries only the token (and a
/// newline) and the report goes to standard error.
pub fn execute(args: &TokenCmdArgs, format: Format, style: &Style) -> Result<u8> {
    let (report, token) = run(args)?;
    let text = report::render(&report, format, style);
    if args.print_token {
        crate::terminal::to_stderr(&text);
        if let Some(t) = token {
            crate::write_stdout(&format!("{t}\n"))?;
        }
    } else {
        crate::write_stdout(&text)?;
    }
    Ok(report.exit_code())
}

/// Acquire and inspect. Returns the report and, on success, the raw token.
pub fn run(args: &TokenCmdArgs) -> Result<(Report, Option<String>)> {
    let clock = super::clock(&args.time)?;
    let cloud = consent::cli_cloud(&args.cloud)?;
    if !(1..=300).contains(&args.timeout) {
        return Err(
            Error::input(format!("--timeout {} is out of range", args.timeout))
                .with_hint("give seconds between 1 and 300"),
        );
    }
    let http = Http::new(HttpOptions {
        timeout: Duration::from_secs(args.timeout),
        ..HttpOptions::default()
    })?;
    let aad = Aad::new(http);
    let mut report = Report::new("token", clock.now);
    // --plan / --call: resolved before anything is sent, so a bad call is a usage error.
    super::check::context_needs_calls(args.context, args.plan.as_deref(), &args.calls)?;
    let plan = args.plan.as_deref().map(Plan::load).transpose()?;
    let wanted = super::check::wanted(plan.as_ref(), &args.calls)?;

    // Flags and the environment win; else the plan's app. For a managed
    // identity only a plan whose credential is one: its client id selects
    // that identity, as doctor selects it; another plan's app id would
    // select an identity that does not exist.
    let plan_app = plan.as_ref().filter(|p| {
        args.flow != Flow::ManagedIdentity
            || p.credential == Some(crate::plan::Credential::ManagedIdentity)
    });
    let client_id = args
        .client_id
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .or_else(|| plan_app.and_then(|p| p.client_id.as_deref()))
        .map(consent::check_client_id)
        .transpose()?;
    let plan_tenant = plan_app.and_then(|p| p.tenant_id.clone());
    for (flag, v) in [("--scope", &args.scope), ("--resource", &args.resource)] {
        if v.as_deref().is_some_and(|v| v.trim().is_empty()) {
            return Err(Error::input(format!("{flag} is empty")).with_hint(format!(
                "give {flag} a value such as {} or leave it out for the MDE API",
                if flag == "--scope" {
                    aad::DEFAULT_SCOPE
                } else {
                    "https://api.securitycenter.microsoft.com"
                }
            )));
        }
    }
    let scope = args.scope.clone().unwrap_or_else(|| match &args.resource {
        Some(r) => format!("{}/.default", r.trim_end_matches('/')),
        None => aad::DEFAULT_SCOPE.to_string(),
    });
    let resource = args.resource.clone().unwrap_or_else(|| {
        scope
            .strip_suffix("/.default")
            .unwrap_or(&scope)
            .to_string()
    });
    let target = if args.v1 {
        Target::Resource(resource.clone())
    } else {
        Target::Scope(scope.clone())
    };

    let selector = mi_selector(args, client_id.as_deref())?;
    let mut tenant_used = None;
    let outcome = match args.flow {
        Flow::ManagedIdentity => {
            let mi = managed_identity()?;
            report.findings.push(flow_used(match &selector {
                Some(s) => format!(
                    "managed identity (user-assigned, {}), from the {}",
                    s.describe(),
                    mi.describe()
                ),
                None => format!("managed identity, from the {}", mi.describe()),
            }));
            report.findings.push(Finding::info(
                "token.managed_identity_cache",
                format!(
                    "token from the {}; managed-identity tokens are cached for about 24 hours, so permissions granted recently may not show in it yet",
                    mi.describe()
                ),
                "after granting a new app role to the identity, allow up to 24 hours (or restart the resource) before expecting it in roles",
            ));
            aad.managed_identity(&mi, &resource, selector.as_ref())?
        }
        flow => {
            let client_id = client_id.clone().ok_or_else(|| {
                Error::input("no client id given").with_hint(
                    "pass --client-id, set AZURE_CLIENT_ID, or give a --plan with client_id: the app's Application (client) ID",
                )
            })?;
            let tenant = match args
                .tenant
                .as_deref()
                .filter(|t| !t.trim().is_empty())
                .or(plan_tenant.as_deref())
            {
                Some(t) => consent::check_tenant(t)?,
                None if flow == Flow::DeviceCode => "organizations".to_string(),
                None => {
                    return Err(Error::input("no tenant given").with_hint(
                        "pass --tenant, set AZURE_TENANT_ID, or give a --plan with tenant_id: the Directory (tenant) ID or a verified domain",
                    ));
                }
            };
            tenant_used = Some(tenant.clone());
            let authority = match args
                .authority_host
                .as_deref()
                .filter(|a| !a.trim().is_empty())
            {
                Some(a) => a.to_string(),
                None => format!("https://{}", cloud.login_host),
            };
            let ep = Endpoint::new(&authority, &tenant)?;
            match flow {
                Flow::ClientCredentials => {
                    let cred = credential(&args.credentials)?.ok_or_else(|| {
                        Error::input("no client credential given").with_hint(
                            "set AZURE_CLIENT_SECRET, pass --client-secret-file PATH or --client-secret-stdin, or give a certificate with --certificate / AZURE_CLIENT_CERTIFICATE_PATH",
                        )
                    })?;
                    report.findings.push(flow_used(format!(
                        "client credentials with a {} at {}",
                        cred.describe(),
                        ep.token_url(args.v1)
                    )));
                    aad.client_credentials(&ep, &client_id, &cred, &target, args.v1)?
                }
                Flow::Password => {
                    let username = args
                        .credentials
                        .username
                        .as_deref()
                        .filter(|u| !u.trim().is_empty())
                        .ok_or_else(|| {
                            Error::input("no user name given")
                                .with_hint("pass --username or set AZURE_USERNAME")
                        })?;
                    let password = password(&args.credentials)?;
                    let cred = credential(&args.credentials)?;
                    report.findings.push(flow_used(format!(
                        "password grant for {} at {}",
                        username.trim(),
                        ep.token_url(args.v1)
                    )));
                    report.findings.push(Finding::warning(
                        "token.password_grant",
                        "the password grant (ROPC) cannot satisfy MFA or Conditional Access prompts, fails for federated accounts, and Microsoft discourages it",
                        "use an app-only token (client credentials) for automation, or --flow device-code for a user",
                    ));
                    aad.password(
                        &ep,
                        &client_id,
                        username.trim(),
                        &password,
                        cred.as_ref(),
                        &target,
                        args.v1,
                    )?
                }
                Flow::DeviceCode => {
                    if args.v1 {
                        return Err(Error::input("--v1 does not apply to the device-code flow")
                            .with_hint("the device-code flow uses the v2 endpoints; drop --v1"));
                    }
                    report.findings.push(flow_used(format!(
                        "device-code sign-in at {}",
                        ep.devicecode_url()
                    )));
                    // Read before anything is sent.
                    let poll = aad::Poll {
                        ms_per_second: poll_override()?,
                    };
                    match aad.device_code_start(&ep, &client_id, &scope)? {
                        Err(refused) => refused,
                        Ok(dc) => {
                            // The sign-in host's own words, shown as text.
                            crate::terminal::to_stderr(&format!(
                                "{}\n",
                                crate::terminal::safe(&dc.message)
                            ));
                            aad.device_code_poll(&ep, &client_id, &dc, poll)?
                        }
                    }
                }
                Flow::ManagedIdentity => unreachable!("handled above"),
            }
        }
    };

    match outcome {
        Outcome::Token {
            access_token, url, ..
        } => {
            // What the endpoint sent is not the user's input: a token that
            // cannot be read is the endpoint's failure (exit 3), not a usage error.
            let unreadable = |e: Error| {
                Error::environment(format!(
                    "{} answered with an access_token mdeauth cannot read: {e}",
                    host_of(&url)
                ))
                .with_hint("Azure AD issues JWT access tokens for the MDE API: check --authority-host, and any proxy in between")
            };
            let mut compact = input::normalize(access_token.as_bytes()).map_err(unreadable)?;
            compact.found_in = "the token endpoint's response";
            let token = Token::decode(compact).map_err(unreadable)?;
            let claims = token.require_claims().map_err(unreadable)?;
            let cls = claims.classify();
            report.findings.push(Finding::info(
                "token.acquired",
                format!("{} issued a token ({})", host_of(&url), token.fingerprint()),
                "",
            ));
            report.findings.extend(checks::header(&token.header));
            report
                .findings
                .extend(checks::claims(&token.header, claims, &cls, clock));
            if !wanted.is_empty() {
                super::check::evaluate(&mut report, claims, plan.as_ref(), &wanted, args.context);
            }
            report.token = Some(TokenSection::new(&token, claims, clock));
            Ok((report.finish(), Some(access_token)))
        }
        Outcome::DeviceCodeExpired {
            seconds,
            polls,
            url,
        } => {
            let why = if polls == 0 {
                "it expired before the first poll was due".to_string()
            } else {
                format!(
                    "{} still answered that the sign-in was pending (authorization_pending or slow_down), and the code expires before the next poll is due, so mdeauth stopped polling",
                    host_of(&url)
                )
            };
            report.findings.push(Finding::error(
                "token.device_code_expired",
                format!("nobody finished the sign-in within the device code's {seconds} s: {why}"),
                "run the command again and finish the sign-in at the address shown, with the code shown, before it expires",
            ));
            Ok((report.finish(), None))
        }
        Outcome::Refused { status, body, url } => {
            report.findings.push(Finding::error(
                "token.refused",
                format!("{} refused the request (HTTP {status})", host_of(&url)),
                "see the explanation of the error code in this report; `mdeauth explain` gives the same offline",
            ));
            let x = aadsts::explain_error_body(&body);
            let tenant = tenant_used.filter(|t| t != "organizations" && t != "common");
            super::explain::finish(&mut report, x, client_id, tenant, cloud);
            Ok((report.finish(), None))
        }
    }
}

/// `token.flow`: the grant used and where it was sent (doctor's token step shows it).
fn flow_used(how: String) -> Finding {
    Finding::info("token.flow", how, "")
}

fn host_of(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .map(|u| {
            let mut s = format!("{}://{}", u.scheme(), u.host_str().unwrap_or("?"));
            if let Some(p) = u.port() {
                s.push_str(&format!(":{p}"));
            }
            s.push_str(u.path());
            s
        })
        .unwrap_or_else(|| "the endpoint".to_string())
}

/// Whether a client credential is given at all (not whether it can be
/// read): a secret file or standard input, `AZURE_CLIENT_SECRET`, or a
/// certificate. `doctor` reports its absence as a configuration problem.
pub fn credential_given(args: &CredentialArgs) -> bool {
    args.client_secret_file.is_some()
        || args.client_secret_stdin
        || crate::text::env_given("AZURE_CLIENT_SECRET")
        || args
            .certificate
            .as_deref()
            .is_some_and(|p| !p.as_os_str().is_empty())
}

/// The client credential: a secret (env, file or stdin) or a certificate.
fn credential(args: &CredentialArgs) -> Result<Option<Credential>> {
    // Entra's client secrets never hold spaces: stray ones around a secret
    // are dropped from every source alike (a password keeps its own).
    let secret = if let Some(p) = &args.client_secret_file {
        Some(read_secret_file(p, "client secret")?)
    } else if args.client_secret_stdin {
        Some(read_secret_stdin("client secret")?)
    } else {
        crate::text::env_text("AZURE_CLIENT_SECRET")?
    };
    if let Some(s) = secret.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        return Ok(Some(Credential::Secret(s.to_string())));
    }
    if let Some(p) = args
        .certificate
        .as_deref()
        .filter(|p| !p.as_os_str().is_empty())
    {
        let text = crate::text::read_file(p).map_err(|e| {
            Error::reading(
                &e,
                format!(
                    "cannot read certificate file {}: {e}",
                    crate::input::shown_path(p)
                ),
                Some("check --certificate / AZURE_CLIENT_CERTIFICATE_PATH"),
            )
        })?;
        let c = ClientCertificate::from_pem(&text, &p.display().to_string())?;
        return Ok(Some(Credential::Certificate(c)));
    }
    Ok(None)
}

fn password(args: &CredentialArgs) -> Result<String> {
    if let Some(p) = &args.password_file {
        return read_secret_file(p, "password");
    }
    if args.password_stdin {
        if args.client_secret_stdin {
            return Err(Error::input(
                "--password-stdin and --client-secret-stdin cannot both read standard input",
            )
            .with_hint("give one of them from a file or the environment"));
        }
        return read_secret_stdin("password");
    }
    crate::text::env_text("AZURE_PASSWORD")?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            Error::input("no password given")
                .with_hint("set AZURE_PASSWORD, or pass --password-file PATH or --password-stdin")
        })
}

/// Read a secret from a file: the first line, without its line ending.
fn read_secret_file(p: &Path, what: &str) -> Result<String> {
    let text = crate::text::read_file(p).map_err(|e| {
        Error::reading(
            &e,
            format!(
                "cannot read the {what} file {}: {e}",
                crate::input::shown_path(p)
            ),
            None,
        )
    })?;
    first_line(&text, what)
}

fn read_secret_stdin(what: &str) -> Result<String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        // Typed there it would show on screen, and wait for end of input.
        let (flag, env) = match what {
            "password" => ("password", "AZURE_PASSWORD"),
            _ => ("client-secret", "AZURE_CLIENT_SECRET"),
        };
        return Err(Error::input(format!(
            "--{flag}-stdin reads the {what} from a pipe, but standard input is a terminal, where it would show as you type it"
        ))
        .with_hint(format!(
            "pipe it in (e.g. `printenv SECRET_VAR | mdeauth token ... --{flag}-stdin`), or use --{flag}-file PATH or {env}"
        )));
    }
    let buf = crate::text::read_limited(std::io::stdin().lock(), 64 * 1024).map_err(|e| {
        Error::reading(
            &e,
            format!("cannot read the {what} from standard input: {e}"),
            None,
        )
    })?;
    first_line(&buf, what)
}

fn first_line(text: &str, what: &str) -> Result<String> {
    let line = text.lines().next().unwrap_or("").trim_end_matches('\r');
    if line.trim().is_empty() {
        return Err(Error::input(format!("the {what} is empty"))
            .with_hint(format!("put the {what} on the first line")));
    }
    // What people save by mistake, sent as the secret it is not: the JSON
    // `az ad app credential reset` prints, or a shell assignment. (A
    // password may hold either shape.)
    let t = line.trim();
    if what != "client secret" {
        return Ok(line.to_string());
    }
    if t.starts_with('{') {
        return Err(Error::input(format!(
            "the {what} given is JSON, not the {what} itself (az ad app credential reset prints {{\"appId\", \"password\", \"tenant\"}})"
        ))
        .with_hint(if what == "client secret" {
            "put only the secret in it, e.g. az ad app credential reset ... --query password -o tsv > secret.txt".to_string()
        } else {
            format!("put only the {what} in it")
        }));
    }
    if let Some((name, _)) = t.split_once('=')
        && name.len() >= 3
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        && name.bytes().next().is_some_and(|b| b.is_ascii_uppercase())
    {
        return Err(Error::input(format!(
            "the {what} given is a shell assignment ({name}=...), not the {what} itself"
        ))
        .with_hint(format!(
            "put only the {what}, the text after {name}=, in it"
        )));
    }
    Ok(line.to_string())
}

/// `MDEAUTH_DEVICE_POLL_MS` (tests): each second of the device-code polling
/// interval lasts this many milliseconds.
fn poll_override() -> Result<Option<u64>> {
    match std::env::var("MDEAUTH_DEVICE_POLL_MS") {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse::<u64>()
            .map(|ms| Some(ms.min(1000)))
            .map_err(|_| {
                Error::input(format!(
                    "MDEAUTH_DEVICE_POLL_MS={v:?} is not a number of milliseconds"
                ))
                .with_hint("it shortens the device-code polling for tests: unset it, or give a whole number")
            }),
        _ => Ok(None),
    }
}

/// The user-assigned identity `--flow managed-identity` asks for: by client
/// id, object id or resource id, one at most (the endpoints take one).
/// The last two belong to that flow only.
fn mi_selector(args: &TokenCmdArgs, client_id: Option<&str>) -> Result<Option<aad::MiSelector>> {
    type Parse = fn(&str) -> Result<aad::MiSelector>;
    let (flag, id, parse): (&str, &String, Parse) = match (&args.mi_object_id, &args.mi_resource_id)
    {
        (Some(id), _) => ("--mi-object-id", id, aad::MiSelector::object_id),
        (None, Some(id)) => ("--mi-resource-id", id, aad::MiSelector::resource_id),
        (None, None) => {
            return Ok(match args.flow {
                Flow::ManagedIdentity => {
                    client_id.map(|c| aad::MiSelector::ClientId(c.to_string()))
                }
                _ => None,
            });
        }
    };
    if args.flow != Flow::ManagedIdentity {
        return Err(Error::input(format!(
            "{flag} selects a managed identity, but the flow is not managed-identity"
        ))
        .with_hint(format!("add --flow managed-identity, or leave {flag} out")));
    }
    if client_id.is_some() {
        return Err(Error::input(format!(
            "{flag} and a client id (--client-id or AZURE_CLIENT_ID) both select a user-assigned identity"
        ))
        .with_hint("give one of them: the identity endpoint takes a single selector (unset AZURE_CLIENT_ID if it came from there)"));
    }
    parse(id).map(Some)
}

/// App Service (`IDENTITY_ENDPOINT` + `IDENTITY_HEADER`) or IMDS
/// (`MDEAUTH_IMDS_ENDPOINT` overrides its address, for tests).
fn managed_identity() -> Result<ManagedIdentity> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    match (env("IDENTITY_ENDPOINT"), env("IDENTITY_HEADER")) {
        (Some(_), Some(header))
            if reqwest::header::HeaderValue::from_str(&header).is_err() =>
        {
            // Not repeated: it is the secret App Service checks the caller by.
            Err(Error::input(
                "IDENTITY_HEADER holds characters an HTTP header cannot carry (a line break or a control character)",
            )
            .with_hint("App Service sets it to a plain string: check how it was exported or copied"))
        }
        (Some(endpoint), Some(header)) => Ok(ManagedIdentity::AppService { endpoint, header }),
        (Some(_), None) => Err(Error::input("IDENTITY_ENDPOINT is set but IDENTITY_HEADER is not")
            .with_hint("App Service sets both; unset IDENTITY_ENDPOINT to use the instance metadata service")),
        _ => Ok(ManagedIdentity::Imds {
            endpoint: env("MDEAUTH_IMDS_ENDPOINT").unwrap_or_else(|| aad::IMDS_TOKEN_ENDPOINT.to_string()),
        }),
    }
}
