//! `mdeauth probe`: call the MDE API once with the token and explain the answer.

use std::time::Duration;

use crate::cli::ProbeArgs;
use crate::error::{Error, Result, exit};
use crate::http::{Http, HttpOptions};
use crate::mdeapi::{self, Answer};
use crate::report::style::Style;
use crate::report::{self, Format, Report, TokenSection};

/// Run, print, and return the exit code: 0 on 2xx, 1 when the API said no, 3 on 5xx.
pub fn execute(args: &ProbeArgs, format: Format, style: &Style) -> Result<u8> {
    let (report, code) = run(args)?;
    crate::write_stdout(&report::render(&report, format, style))?;
    Ok(code)
}

/// The exit code for an answer.
pub fn exit_code(a: Answer) -> u8 {
    match a {
        Answer::Ok => exit::PASS,
        Answer::Refused => exit::FAIL,
        Answer::ServerError => exit::ENVIRONMENT,
    }
}

/// Refuse a write call unless allowed; nothing is sent.
pub fn guard_write(call: &mdeapi::ParsedCall, allow_write: bool) -> Result<()> {
    if !call.is_read() && !allow_write {
        return Err(Error::input(format!(
            "{} changes data in the tenant ({}); not sent",
            call.label(),
            call.row.name
        ))
        .with_hint("pass --allow-write if you mean it, or probe a GET call"));
    }
    Ok(())
}

pub fn check_timeout(t: u64) -> Result<()> {
    if !(1..=300).contains(&t) {
        return Err(Error::input(format!("--timeout {t} is out of range"))
            .with_hint("give seconds between 1 and 300 (default 10)"));
    }
    Ok(())
}

pub fn run(args: &ProbeArgs) -> Result<(Report, u8)> {
    let clock = super::clock(&args.time)?;
    check_timeout(args.timeout)?;
    let call = mdeapi::parse_call(&args.call)?;
    guard_write(&call, args.allow_write)?;
    if args.body.is_some() && call.is_read() {
        return Err(Error::input(format!(
            "{} takes no body: --body is sent only with a write call (POST, PATCH, DELETE)",
            call.label()
        ))
        .with_hint("leave --body out, or probe the write call it belongs to"));
    }
    let body = match &args.body {
        Some(p) => {
            // Sent as UTF-8 JSON, whatever encoding the file is in.
            let b = crate::text::read_file(p).map_err(|e| {
                Error::reading(
                    &e,
                    format!(
                        "cannot read the body file {}: {e}",
                        crate::input::shown_path(p)
                    ),
                    None,
                )
            })?;
            serde_json::from_str::<serde_json::Value>(&b).map_err(|e| {
                Error::input(format!("the body file {} is not JSON ({e})", p.display()))
            })?;
            Some(b.into_bytes())
        }
        None => None,
    };
    let token = super::load_token(&args.input)?;
    let claims = token.require_claims()?;
    let cls = claims.classify();
    let host = args.host.options();
    let base = match (&call.host, host.is_default()) {
        (Some(h), true) => format!("https://{h}"),
        _ => mdeapi::base_url(&host, cls.cloud)?,
    };
    let url = mdeapi::url(&call, &base)?;
    let http = Http::new(HttpOptions {
        timeout: Duration::from_secs(args.timeout),
        ..HttpOptions::default()
    })?;
    let mut report = Report::new("probe", clock.now);
    report.token = Some(TokenSection::new(&token, claims, clock));
    let probed = match mdeapi::probe(&http, &call, &url, &token, clock, body.as_deref(), false) {
        Ok(p) => p,
        // No usable answer (timeout, connection, redirect, a cut-off body):
        // still a report, so a CI job that publishes it shows why.
        Err(e @ Error::Environment { .. }) => {
            report.findings.push(mdeapi::no_answer(&call, &e));
            report.probe = Some(mdeapi::ProbeSection::unanswered(&call, &url, &token));
            return Ok((report.finish(), exit::ENVIRONMENT));
        }
        Err(e) => return Err(e),
    };
    report.findings = probed.findings;
    report.probe = Some(probed.section);
    let report = report.finish();
    // The service failed, but the token has errors of its own: it fails
    // (exit 1, as the verdict says), whatever the service would answer.
    let code = match probed.answer {
        Answer::ServerError if report.verdict == crate::report::Verdict::Fail => exit::FAIL,
        a => exit_code(a),
    };
    Ok((report, code))
}
