//! `mdeauth inspect`: decode and explain a token offline.

use crate::checks;
use crate::cli::InspectArgs;
use crate::error::Result;
use crate::report::{Report, TokenSection};

pub fn run(args: &InspectArgs) -> Result<Report> {
    let clock = super::clock(&args.time)?;
    let token = super::load_token(&args.input)?;
    let claims = token.require_claims()?;
    let cls = claims.classify();
    let mut report = Report::new("inspect", clock.now);
    report.findings.extend(checks::header(&token.header));
    report
        .findings
        .extend(checks::claims(&token.header, claims, &cls, clock));
    report.findings.push(checks::signature_not_checked());
    report.token = Some(TokenSection::new(&token, claims, clock));
    Ok(report.finish())
}
