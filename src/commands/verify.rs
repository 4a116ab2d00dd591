//! `mdeauth verify`: check the signature against Azure AD's published keys
//! and validate the claims, reporting every failure.

use std::time::Duration;

use crate::cache::Cache;
use crate::cli::VerifyArgs;
use crate::discovery::{DiscoverOptions, Fetcher, KeySource, Resolver};
use crate::error::{Error, Result};
use crate::http::{Http, HttpOptions};
use crate::report::{Report, TokenSection};
use crate::validate::{self, VerifyOptions};

pub fn run(args: &VerifyArgs) -> Result<Report> {
    let clock = super::clock(&args.time)?;
    if !(1..=300).contains(&args.timeout) {
        return Err(
            Error::input(format!("--timeout {} is out of range", args.timeout))
                .with_hint("give seconds between 1 and 300 (default 10)"),
        );
    }
    if args.jwks.is_some()
        && (args.authority_host.is_some() || args.cloud.is_some() || args.app_keys)
    {
        return Err(Error::input(
            "--jwks gives the keys directly; it cannot be combined with --cloud, --authority-host or --app-keys",
        )
        .with_hint("use --jwks alone, or discovery options alone"));
    }
    if let Some(a) = &args.authority_host {
        crate::http::check_url(a)?;
    }
    if let Some(j) = args.jwks.as_deref().filter(|j| j.contains("://")) {
        crate::http::check_url(j)?;
    }
    let token = super::load_token(&args.input)?;

    let http = if args.offline {
        None
    } else {
        Some(Http::new(HttpOptions {
            timeout: Duration::from_secs(args.timeout),
            ..HttpOptions::default()
        })?)
    };
    let fetcher = Fetcher {
        http,
        cache: Cache::open(args.cache_dir.as_deref())?,
        now: chrono::Utc::now().timestamp(),
    };
    let source = match &args.jwks {
        Some(j) => KeySource::Jwks(j.clone()),
        None => KeySource::Discover(DiscoverOptions {
            authority: args.authority_host.clone(),
            cloud: args.cloud.clone(),
            app_keys: args.app_keys,
            client_id: args.client_id.clone(),
            tenant: args.tenant.clone(),
        }),
    };
    let resolver = Resolver { fetcher, source };
    let opts = VerifyOptions {
        audiences: args.audience.clone(),
        tenant: args.tenant.clone(),
        client_id: args.client_id.clone(),
        clock,
    };
    let v = validate::verify_token(&token, &opts, &resolver)?;

    let mut report = Report::new("verify", clock.now);
    if let Ok(c) = &token.claims {
        report.token = Some(TokenSection::new(&token, c, clock));
    }
    report.findings = v.findings;
    report.signature = Some(v.signature);
    report.claims_valid = Some(v.claims_valid);
    Ok(report.finish())
}
