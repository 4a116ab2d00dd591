//! `mdeauth consent-url`: the admin-consent links for an app, offline.

use crate::cli::ConsentUrlArgs;
use crate::consent;
use crate::error::Result;
use crate::finding::Finding;
use crate::report::Report;

pub fn run(args: &ConsentUrlArgs) -> Result<Report> {
    let section = consent::section(
        &args.client_id,
        args.tenant.as_deref(),
        &args.cloud,
        args.redirect_uri.as_deref(),
        args.state.as_deref(),
    )?;
    let mut report = Report::new("consent-url", chrono::Utc::now().timestamp());
    if args.redirect_uri.is_none() {
        report.findings.push(Finding::info(
            "consent.redirect",
            "the links carry no redirect URI: Entra redirects to a reply URL registered on the app, and fails with AADSTS500113 when the app has none; Microsoft's v2 admin-consent page lists redirect_uri as required",
            "register a redirect URI on the app, and pass it with --redirect-uri (the v2 link should carry it)",
        ));
    }
    if let Ok(c) = crate::cloud::by_name(&args.cloud) {
        report.findings.extend(crate::consent::no_mde_api(c));
    }
    report.consent = Some(section);
    Ok(report.finish())
}
