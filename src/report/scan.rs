//! Renderers for `mdeauth scan`: JSON lines, or summary tables then problems.
//! Renderers only render; the engine in `crate::scan` decides everything.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;
use serde_json::json;

use super::human::clip;
use super::style::Style;
use super::{Format, Verdict};
use crate::finding::Finding;
use crate::finding::Severity;
use crate::scan::{Locations, ScanReport, Status, TokenResult};
use crate::terminal::{safe, safe_lines};
use crate::timefmt::rfc3339;
use crate::token::{Context, Fingerprint, Kind};

/// Locations listed per problem in human output (JSON lists all kept ones).
const SHOWN_LOCATIONS: usize = 5;
/// Failing tokens described one by one in human output (more when there
/// are more kinds of error, so each has an example); the error table counts
/// them all, and JSON lists every one.
const SHOWN_PROBLEMS: usize = 20;

/// Render straight to `out`: JSON lines are written one token at a time,
/// so a scan of many tokens never holds its whole output in memory.
/// Generic over the writer, so serde_json's many small writes go straight
/// into the caller's buffered writer rather than through dynamic calls.
pub fn render_to<W: std::io::Write>(
    r: &ScanReport,
    format: Format,
    st: &Style,
    out: &mut W,
) -> std::io::Result<()> {
    match format {
        Format::Json => json_lines_to(r, out),
        Format::Human => out.write_all(human(r, st).as_bytes()),
        Format::Junit => out.write_all(junit(r).as_bytes()),
    }
}

/// One test case per unique token (failure when it fails, with its error
/// codes and first location), for CI gates over many tokens.
/// The findings a failing token is described by: its errors, and the key
/// diagnosis a missing key's fix points to (keys.*, info or warning).
fn described(f: &Finding) -> bool {
    f.is_error() || f.code.starts_with("keys.")
}

pub fn junit(r: &ScanReport) -> String {
    use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};
    // The plan's name tells apart the suites of a pipeline that scans for
    // several apps and merges their reports.
    let mut suite = TestSuite::new(match &r.summary.plan {
        Some(p) => crate::terminal::safe(&format!("mdeauth scan ({})", p.name)).into_owned(),
        None => "mdeauth scan".to_string(),
    });
    for t in &r.tokens {
        let status = match t.status {
            Status::Fail => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(t.codes(Severity::Error).join(", "));
                s.set_type("token.fail");
                // Escaped as for a terminal: CI pages show it, and a bidi
                // override in a captured URL must not reorder the text.
                let where_ = crate::terminal::safe(&t.locations.first().to_string()).into_owned();
                let detail: Vec<String> = t
                    .findings
                    .iter()
                    .filter(|f| described(f))
                    .map(|f| format!("{}: {}", f.code, f.message))
                    .collect();
                s.set_description(
                    crate::terminal::safe_lines(&format!(
                        "first seen at {where_}\n{}",
                        detail.join("\n")
                    ))
                    .into_owned(),
                );
                s
            }
            // Not judged: the test could not run (JUnit's error, not failure).
            _ if t.unverified().is_some() => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
                s.set_message(
                    "the signature was not verified: the signing keys could not be reached",
                );
                s.set_type(crate::checks::SIGNATURE_UNVERIFIED);
                s
            }
            _ => TestCaseStatus::success(),
        };
        let mut case = TestCase::new(format!("token {} ({})", t.fingerprint, t.resource), status);
        case.set_classname("mdeauth.scan.tokens");
        suite.add_test_case(case);
    }
    if suite.test_cases.is_empty() {
        let mut case = TestCase::new("no tokens found", TestCaseStatus::success());
        case.set_classname("mdeauth.scan.tokens");
        suite.add_test_case(case);
    }
    // The notes (inputs skipped, damaged or cut short, tokens left out)
    // in the suite's output, as the human report prints them.
    if !r.summary.notes.is_empty() {
        let notes: Vec<String> = r
            .summary
            .notes
            .iter()
            .map(|n| format!("note: {}", crate::terminal::safe(n)))
            .collect();
        suite.set_system_out(notes.join("\n"));
    }
    super::junit::document(suite)
}

/// One JSON line per unique token (members in name order).
#[derive(Serialize)]
struct TokenLine<'a> {
    app_id: Option<&'a str>,
    audience: &'a [String],
    context: Option<Context>,
    errors: Vec<&'static str>,
    findings: &'a [Finding],
    fingerprint: Fingerprint,
    kind: Option<Kind>,
    locations: &'a Locations,
    locations_truncated: bool,
    occurrences: u64,
    resource: &'a str,
    status: Status,
    tenant_id: Option<&'a str>,
    #[serde(rename = "type")]
    kind_of_line: &'static str,
    /// `pass`, `fail`, `unverified` (nothing failed, but the signing keys
    /// were out of reach), or null for an encrypted token.
    verdict: Option<&'static str>,
    warnings: Vec<&'static str>,
}

/// ` (plan "NAME")` when the scan checked a plan's calls, else nothing.
fn plan_words(s: &crate::scan::Summary) -> String {
    s.plan
        .as_ref()
        .map(|p| format!(" (plan {})", safe(&format!("{:?}", p.name))))
        .unwrap_or_default()
}

/// One object per unique token, then `{"type":"summary",...}`.
fn json_lines_to<W: std::io::Write>(r: &ScanReport, o: &mut W) -> std::io::Result<()> {
    for t in &r.tokens {
        let line = TokenLine {
            app_id: t.app_id.as_deref(),
            audience: &t.audience,
            context: t.context,
            errors: t.codes(Severity::Error),
            findings: &t.findings,
            fingerprint: t.fingerprint,
            kind: t.kind,
            locations: &t.locations,
            locations_truncated: (t.locations.len() as u64) < t.occurrences,
            occurrences: t.occurrences,
            resource: t.resource,
            status: t.status,
            tenant_id: t.tenant_id.as_deref(),
            kind_of_line: "token",
            verdict: match t.status {
                Status::Pass if t.unverified().is_some() => Some("unverified"),
                Status::Pass => Some("pass"),
                Status::Fail => Some("fail"),
                Status::Encrypted => None,
            },
            warnings: t.codes(Severity::Warning),
        };
        serde_json::to_writer(&mut *o, &line)?;
        o.write_all(b"\n")?;
    }
    let s = &r.summary;
    let by_status: BTreeMap<&str, u64> = [Status::Pass, Status::Fail, Status::Encrypted]
        .iter()
        .map(|st| (st.as_str(), r.count(*st)))
        .collect();
    let v = json!({
        "type": "summary",
        "inputs": s.inputs,
        "bytes": s.bytes,
        "occurrences": s.occurrences,
        "unique_tokens": s.unique,
        "by_status": by_status,
        "by_resource": s.by_resource,
        "by_audience": s.by_audience,
        "by_app": s.by_app,
        "by_tenant": s.by_tenant,
        "by_error": s.by_error,
        "evaluator": s.evaluator,
        "plan": s.plan,
        "evaluated_at": rfc3339(s.evaluated_at),
        "notes": s.notes,
        "unverified": s.unverified,
        "verdict": r.verdict(),
    });
    serde_json::to_writer(&mut *o, &v)?;
    o.write_all(b"\n")
}

/// Rows of a summary table in human output: the largest, then one line for
/// the rest (a gateway's log can hold thousands of apps; JSON has them all).
const TABLE_ROWS: usize = 20;

fn table(o: &mut String, st: &Style, title: &str, rows: &BTreeMap<String, u64>) {
    let _ = writeln!(o, "\n{}", st.bold(&format!("{title:<44} tokens")));
    let mut rows: Vec<(&String, &u64)> = rows.iter().collect();
    rows.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (k, n) in rows.iter().take(TABLE_ROWS) {
        let _ = writeln!(o, "  {:<42} {n:>6}", clip(k, 42));
    }
    if rows.len() > TABLE_ROWS {
        let rest = &rows[TABLE_ROWS..];
        let tokens: u64 = rest.iter().map(|(_, n)| **n).sum();
        let label = format!("({} more values; --format json lists all)", rest.len());
        let _ = writeln!(o, "  {} {tokens:>6}", st.dim(&format!("{label:<42}")));
    }
}

/// The failing tokens to describe, in order of first sighting: the first
/// token with each error code (so a rare error is not hidden behind many
/// expired tokens), then the first others, up to [`SHOWN_PROBLEMS`].
fn problems_to_show(r: &ScanReport) -> Vec<&TokenResult> {
    let failing = || {
        r.tokens
            .iter()
            .enumerate()
            .filter(|(_, t)| t.status == Status::Fail)
    };
    let mut pick = std::collections::BTreeSet::new();
    let mut covered = std::collections::HashSet::new();
    for (i, t) in failing() {
        if covered.len() == r.summary.by_error.len() {
            break;
        }
        let mut new_code = false;
        for f in t.findings.iter().filter(|f| f.is_error()) {
            new_code |= covered.insert(f.code);
        }
        if new_code {
            pick.insert(i);
        }
    }
    for (i, _) in failing() {
        if pick.len() >= SHOWN_PROBLEMS {
            break;
        }
        pick.insert(i);
    }
    pick.into_iter().map(|i| &r.tokens[i]).collect()
}

pub fn human(r: &ScanReport, st: &Style) -> String {
    let mut o = String::new();
    let s = &r.summary;
    let size = if s.bytes >= 1 << 20 {
        format!("{:.1} MB", s.bytes as f64 / (1u64 << 20) as f64)
    } else {
        format!("{} bytes", s.bytes)
    };
    let _ = writeln!(o, "{} {} input(s), {size}", st.bold("Scanned"), s.inputs);
    for n in &s.notes {
        let _ = writeln!(o, "  {} {}", st.yellow("note:"), safe(n));
    }
    if r.tokens.is_empty() {
        let _ = writeln!(o, "\nNo tokens found{}.", plan_words(s));
        return o;
    }
    let _ = writeln!(
        o,
        "Found {} token occurrence(s), {} unique token(s)",
        s.occurrences, s.unique
    );
    let _ = writeln!(
        o,
        "Evaluated with {}{} at {}",
        s.evaluator,
        plan_words(s),
        rfc3339(s.evaluated_at)
    );
    let status: BTreeMap<String, u64> = [Status::Pass, Status::Fail, Status::Encrypted]
        .iter()
        .filter(|x| r.count(**x) > 0)
        .map(|x| {
            let label = if *x == Status::Encrypted {
                "encrypted (JWE, not inspectable)".to_string()
            } else {
                x.as_str().to_string()
            };
            (label, r.count(*x))
        })
        .collect();
    table(&mut o, st, "Status", &status);
    table(&mut o, st, "Resource", &s.by_resource);
    table(&mut o, st, "Audience", &s.by_audience);
    table(&mut o, st, "App", &s.by_app);
    table(&mut o, st, "Tenant", &s.by_tenant);

    let failing = r.count(Status::Fail);
    if failing > 0 {
        table(&mut o, st, "Error", &s.by_error);
        let _ = writeln!(o, "\n{}", st.bold("Problems"));
        let shown = problems_to_show(r);
        for &t in &shown {
            let who = t
                .app_id
                .as_deref()
                .map(|a| format!(", app {}", safe(a)))
                .unwrap_or_default();
            let _ = writeln!(
                o,
                "  {} {}  ({}{who}, seen {} time(s))",
                st.red("✗"),
                st.bold(&t.fingerprint.to_string()),
                t.resource,
                t.occurrences
            );
            for f in t.findings.iter().filter(|f| described(f)) {
                let _ = writeln!(o, "      {}  {}", st.dim(f.code), safe(&f.message));
                if !f.fix.is_empty() {
                    let fix = safe_lines(&f.fix).replace('\n', "\n             ");
                    let _ = writeln!(o, "        {} {fix}", st.dim("fix:"));
                }
            }
            for l in t.locations.iter().take(SHOWN_LOCATIONS) {
                // A HAR URL may be long: the JSON keeps it, the screen clips it.
                let _ = writeln!(o, "      {} {}", st.dim("at"), clip(&l.to_string(), 300));
            }
            let more = t.occurrences - t.locations.len().min(SHOWN_LOCATIONS) as u64;
            if more > 0 {
                let _ = writeln!(o, "      {}", st.dim(&format!("and {more} more")));
            }
        }
        let unshown = failing.saturating_sub(shown.len() as u64);
        if unshown > 0 {
            let _ = writeln!(
                o,
                "  {}",
                st.dim(&format!(
                    "and {unshown} more failing token(s): the Error table counts them, and --format json lists every one"
                ))
            );
        }
    }
    let inspected = r.count(Status::Pass) + failing;
    let v = match r.verdict() {
        Verdict::Pass => st.green("PASS"),
        Verdict::Unverified => st.yellow("UNVERIFIED"),
        Verdict::Fail => st.red("FAIL"),
    };
    let unverified = match s.unverified {
        0 => String::new(),
        n => format!("; {n} not signature-verified"),
    };
    let _ = writeln!(
        o,
        "\n{} {v} ({failing} of {inspected} inspectable token(s) fail{unverified})",
        st.bold("Verdict:")
    );
    o
}
