//! `mdeauth verify`: check the signature against Azure AD's published keys
//! and validate the claims, reporting every failure.

use std::time::Duration;

use crate::cache::Cache;
use crate::cli::{KeyArgs, VerifyArgs};
use crate::discovery::{DiscoverOptions, Fetcher, KeySource, Resolver, StaticKeys};
use crate::error::{Error, Result};
use crate::http::{HttpOptions, LazyHttp};
use crate::report::{Report, TokenSection};
use crate::validate::{self, VerifyOptions};

pub fn run(args: &VerifyArgs) -> Result<Report> {
    let clock = super::clock(&args.time)?;
    check_key_args(&args.keys)?;
    // Microsoft.IdentityModel skips empty audiences; an empty one here is a
    // mistake (an unset variable), not an audience to accept.
    if args.audience.iter().any(|a| a.trim().is_empty()) {
        return Err(Error::input("--audience is empty").with_hint(
            "give the audience your API expects (its App ID URI or app id), or leave --audience out for the MDE API",
        ));
    }
    // Pins compared with tid and appid/azp, which are GUIDs: anything else
    // could never match ({GUID} as PowerShell prints it means the GUID).
    let tenant = args
        .tenant
        .as_deref()
        .map(crate::consent::check_tenant_id)
        .transpose()?;
    let client_id = args
        .client_id
        .as_deref()
        .map(crate::consent::check_client_id)
        .transpose()?;
    let token = super::load_token(&args.input)?;
    let resolver = resolver(&args.keys, tenant.clone())?;
    let opts = VerifyOptions {
        audiences: args.audience.clone(),
        tenant,
        client_id,
        clock,
    };
    let v = validate::verify_token(&token, &opts, &resolver)?;

    let mut report = Report::new("verify", clock.now);
    if let Ok(c) = &token.claims {
        report.token = Some(TokenSection::new(&token, c, clock));
    }
    report.take_verification(v);
    Ok(report.finish())
}

/// Usage checks on the key flags (input errors, exit 2), before any I/O.
pub fn check_key_args(k: &KeyArgs) -> Result<()> {
    if !(1..=300).contains(&k.timeout) {
        return Err(
            Error::input(format!("--timeout {} is out of range", k.timeout))
                .with_hint("give seconds between 1 and 300 (default 10)"),
        );
    }
    if k.jwks.is_some() && (k.authority_host.is_some() || k.cloud.is_some() || k.app_keys.is_some())
    {
        return Err(Error::input(
            "--jwks gives the keys directly; it cannot be combined with --cloud, --authority-host or --app-keys",
        )
        .with_hint("use --jwks alone, or discovery options alone"));
    }
    if let Some(a) = &k.authority_host {
        crate::http::check_base_url(a, "--authority-host")?;
    }
    if let Some(app) = k.app_keys.as_deref()
        && !crate::guid::is_guid(app.trim())
    {
        return Err(Error::input(format!(
            "--app-keys takes the app id (a GUID) of your API's app registration, not {:?}",
            crate::error::Snippet(app).to_string()
        ))
        .with_hint(
            "give the Application (client) ID of the app registration that exposes your API",
        ));
    }
    if let Some(j) = k.jwks.as_deref().filter(|j| j.contains("://")) {
        crate::http::check_url(j)?;
    }
    Ok(())
}

/// The key provider the key flags describe: `--jwks`, else discovery
/// (`tenant` is the tenant when the token has no GUID tid). A `--jwks`
/// file is read here, once however many tokens use it (a pipe such as
/// `--jwks <(...)` can be read only once); a file that cannot be read or
/// parsed is bad input. Otherwise fails only on the environment (HTTP
/// client, cache directory).
pub fn resolver(k: &KeyArgs, tenant: Option<String>) -> Result<Resolver> {
    let http = if k.offline {
        None
    } else {
        Some(LazyHttp::new(HttpOptions {
            timeout: Duration::from_secs(k.timeout),
            ..HttpOptions::default()
        }))
    };
    let fetcher = Fetcher {
        http,
        cache: Cache::open(k.cache_dir.as_deref())?,
        now: chrono::Utc::now().timestamp(),
    };
    let source = match &k.jwks {
        Some(j) if !j.contains("://") => KeySource::Loaded(StaticKeys {
            set: crate::discovery::read_jwks_file(std::path::Path::new(j))?,
            label: j.clone(),
        }),
        Some(j) => KeySource::Jwks(j.clone()),
        None => KeySource::Discover(DiscoverOptions {
            authority: k.authority_host.clone(),
            cloud: k.cloud.clone(),
            app_keys: k.app_keys.clone(),
            tenant,
        }),
    };
    Ok(Resolver { fetcher, source })
}
