//! `mdeauth explain`: explain an AADSTS code or a token endpoint error offline.

use crate::aadsts::{self, Explanation};
use crate::cli::ExplainArgs;
use crate::consent;
use crate::error::{Error, Result};
use crate::input::Source;
use crate::report::Report;

pub fn run(args: &ExplainArgs) -> Result<Report> {
    let cloud = consent::cli_cloud(&args.cloud)?;
    let client_id = args
        .client_id
        .as_deref()
        .map(consent::check_client_id)
        .transpose()?;
    let tenant = args
        .tenant
        .as_deref()
        .map(consent::check_tenant)
        .transpose()?;
    let given = args.input.trim();
    // A short bare number is an HTTP status or a typo, never an AADSTS code.
    if given.len() < 5 && !given.is_empty() && given.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::input(format!(
            "{given} is not an AADSTS code: they have five or more digits (AADSTS50011, AADSTS700016)"
        ))
        .with_hint(
            "for an HTTP 401 or 403 from the MDE API, run `mdeauth probe` or `mdeauth check` with the token; otherwise paste the whole error text",
        ));
    }
    let x = if let Some(code) = aadsts::parse_code(given) {
        aadsts::explain_code(code)
    } else {
        let text = read_input(&args.input)?;
        let x = aadsts::explain_error_body(&text);
        if x.is_empty() {
            // An MDE API error body ({"error":{"code":"Forbidden",...}}) is
            // explained with the token, by probe.
            let mde_body = [
                "Missing application roles",
                "\"Forbidden\"",
                "\"Unauthorized\"",
                "DisabledFeature",
                "DisallowedOperation",
            ]
            .iter()
            .any(|m| text.contains(m));
            return Err(Error::input(
                "the input holds no AADSTS code and is not a token endpoint error response",
            )
            .with_hint(if mde_body {
                "this looks like an MDE API error (401/403): run `mdeauth probe --call 'METHOD PATH' TOKEN` (or `mdeauth check`) with the token, which reads the API's answer against it"
            } else {
                "give a code such as AADSTS700016, or paste the whole error text or JSON (use - to read standard input)"
            }));
        }
        x
    };
    let mut report = Report::new("explain", chrono::Utc::now().timestamp());
    finish(&mut report, x, client_id, tenant, cloud);
    Ok(report.finish())
}

/// Add the consent link (when a client id is known) and put the explanation
/// into the report: findings plus the `errors` section. Shared with `token`.
pub fn finish(
    report: &mut Report,
    mut x: Explanation,
    client_id: Option<String>,
    tenant: Option<String>,
    cloud: &crate::cloud::Cloud,
) {
    if x.consent_related() {
        let id = client_id.or_else(|| x.client_id.clone());
        let tenant = tenant.or_else(|| {
            x.tenant
                .as_deref()
                .and_then(|t| consent::check_tenant(t).ok())
        });
        if let Some(id) = id.and_then(|i| consent::check_client_id(&i).ok()) {
            let urls = consent::urls(&id, tenant.as_deref(), cloud, None, None);
            let url = urls.authorize_tenant.unwrap_or(urls.authorize_common);
            x.set_consent_url(&url);
        }
    }
    report.findings.extend(x.findings());
    report.errors = Some(x.errors);
}

/// What `explain` reads: an error response or an AADSTS line.
const ERROR_TEXT: crate::input::Holding = crate::input::Holding {
    noun: "error text",
    size_note: "an error response is a few KB at most",
    size_hint: "pass only the error response, or the line with the AADSTS code",
    read_hint: "name the file that holds the error text or JSON, or - for standard input",
};

fn read_input(arg: &str) -> Result<String> {
    // A redirect URL (`https://app/cb?error=...&error_description=AADSTS...`)
    // is text to explain, not a path.
    let is_url = ["https://", "http://"].iter().any(|p| {
        arg.get(..p.len())
            .is_some_and(|h| h.eq_ignore_ascii_case(p))
    });
    let is_text = is_url || arg.contains(char::is_whitespace);
    // An existing file first, whatever its name holds (a space).
    let found = if is_url {
        None
    } else {
        crate::input::named_file(
            arg,
            "a file of error text",
            "name the file that holds the error text or JSON, or paste the text itself",
        )?
    };
    let source = if arg == "-" {
        Source::Stdin
    } else if let Some(path) = found {
        Source::File(path)
    } else if !is_text && (arg.contains('/') || arg.contains('\\')) {
        return Err(Error::input(format!(
            "no such file: {}",
            crate::input::shown_path(std::path::Path::new(arg))
        ))
        .with_hint("give an existing file, the error text itself, or - to read standard input"));
    } else if is_url {
        // Its query decoded (`+` is a space there), a parameter a line, so
        // the description's trace and correlation ids read as in the error
        // text itself.
        let spaced = arg.replace('+', " ").replace('&', "\n");
        Source::Text {
            text: percent_encoding::percent_decode_str(&spaced)
                .decode_utf8_lossy()
                .into_owned(),
            origin: "argument",
        }
    } else {
        Source::Text {
            text: arg.to_string(),
            origin: "argument",
        }
    };
    let raw = source.read_as(&ERROR_TEXT)?;
    crate::text::into_string(raw).map_err(|_| {
        Error::input("the input is neither UTF-8 nor UTF-16 text")
            .with_hint("paste the error text or JSON")
    })
}
