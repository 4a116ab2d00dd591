//! JUnit XML renderer for CI systems: one test case per checked call
//! (failure when not allowed, skipped when the documentation names no
//! permission) or per planned call of `api` (passing when its permissions
//! are documented), one per permission an app registration needs (failure when
//! not requested, or not granted when grants are known) and one failing test
//! case per error finding; a report with none of these gets a single passing case.

use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};

use super::Report;
use crate::finding::Finding;

pub fn render(r: &Report) -> String {
    // The plan's name tells apart the suites of a pipeline that checks
    // several apps and merges their reports.
    let mut suite = TestSuite::new(match &r.plan {
        Some(p) => shown(&format!("mdeauth {} ({})", r.command, p.name)),
        None => format!("mdeauth {}", r.command),
    });
    let class = format!("mdeauth.{}", r.command);
    // `api` with a plan or calls: one case per planned call, passing when
    // the documentation names its permissions in the plan's context.
    let planned = r.least_privilege.as_ref().map(|lp| lp.context);
    for c in r.calls.iter().flatten() {
        let Some(check) = &c.check else {
            if let Some(ctx) = planned {
                let documented = match ctx {
                    "delegated" => !c.delegated_requirements.is_empty(),
                    _ => !c.application_requirements.is_empty(),
                };
                let status = if documented {
                    TestCaseStatus::success()
                } else {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(format!(
                        "the documentation names no {ctx} permission for this call"
                    ));
                    s
                };
                let mut case =
                    TestCase::new(shown(&c.call.clone().unwrap_or_else(|| c.label())), status);
                case.set_classname(format!("{class}.calls"));
                suite.add_test_case(case);
            }
            continue;
        };
        let status = match check.allowed {
            Some(true) => TestCaseStatus::success(),
            Some(false) => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(shown(&check.reason));
                s.set_type("call.denied");
                if let Some(f) = &check.fix {
                    s.set_description(shown_lines(&format!("fix: {f}")));
                }
                s
            }
            None => {
                let mut s = TestCaseStatus::skipped();
                s.set_message(shown(&check.reason));
                s
            }
        };
        let name = shown(&c.call.clone().unwrap_or_else(|| c.label()));
        let mut case = TestCase::new(name, status);
        case.set_classname(format!("{class}.calls"));
        suite.add_test_case(case);
    }
    for p in r
        .app
        .iter()
        .flat_map(|a| &a.permissions)
        .filter(|p| p.needed)
    {
        let name = p.name.as_deref().or(p.guid.as_deref()).unwrap_or("?");
        let problem = if !p.requested {
            Some("needed but not requested by the app registration")
        } else if p.granted == Some(false) {
            Some("requested but not granted (no consent)")
        } else {
            None
        };
        let status = match problem {
            None => TestCaseStatus::success(),
            Some(why) => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(why);
                s.set_type("app.permission");
                s
            }
        };
        let mut case = TestCase::new(shown(&format!("{name} ({})", p.kind.as_str())), status);
        case.set_classname(format!("{class}.permissions"));
        suite.add_test_case(case);
    }
    for st in r.doctor.iter().flat_map(|d| &d.steps) {
        use crate::doctor::StepStatus;
        let status = match st.status {
            // --strict fails a checklist with a warning step: so does its case.
            StepStatus::Warn if r.strict => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(shown(&st.detail));
                s.set_type("doctor.step_warned");
                s
            }
            StepStatus::Pass | StepStatus::Warn => TestCaseStatus::success(),
            // A step that could not run is an error, as a test that could not run.
            StepStatus::Fail if st.unreachable => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
                s.set_message(shown(&st.detail));
                s.set_type("doctor.step_unreachable");
                s
            }
            StepStatus::Fail => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(shown(&st.detail));
                s.set_type("doctor.step_failed");
                s
            }
            StepStatus::Skip => {
                let mut s = TestCaseStatus::skipped();
                s.set_message(shown(&st.detail));
                s
            }
        };
        let mut case = TestCase::new(st.name, status);
        case.set_classname(format!("{class}.steps"));
        suite.add_test_case(case);
    }
    // `probe`: one case for the call, under the same name whether it
    // passes or fails, so a CI system's history follows it.
    if let Some(p) = &r.probe {
        let errors: Vec<&str> = r
            .findings
            .iter()
            .filter(|f| f.is_error() && !f.is_unreachable())
            .map(|f| f.code)
            .collect();
        // The API's own findings (probe.*) are told here, not again as
        // cases of their own; the token's errors keep theirs.
        let told: Vec<String> = r
            .findings
            .iter()
            .filter(|f| f.code.starts_with("probe.") && (f.is_error() || f.is_unreachable()))
            .map(|f| {
                let fix = if f.fix.is_empty() {
                    String::new()
                } else {
                    format!(" (fix: {})", f.fix)
                };
                format!("{}: {}{fix}", f.code, f.message)
            })
            .collect();
        let mut status = if !errors.is_empty() {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_message(errors.join(", "));
            s.set_type("probe.fail");
            s
        } else if r.findings.iter().any(Finding::is_unreachable) {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
            s.set_message("the API gave no usable answer");
            s.set_type("probe.no_answer");
            s
        } else {
            TestCaseStatus::success()
        };
        if !told.is_empty() {
            status.set_description(shown_lines(&told.join("\n")));
        }
        let mut case = TestCase::new(shown(&format!("probe {}", p.call)), status);
        case.set_classname(format!("{class}.calls"));
        suite.add_test_case(case);
    }
    let told_by_probe = |f: &&Finding| r.probe.is_some() && f.code.starts_with("probe.");
    for f in r
        .findings
        .iter()
        .filter(|f| f.is_error() && !f.is_unreachable())
        .filter(|f| !told_by_probe(f))
    {
        suite.add_test_case(finding_case(f, &class, NonSuccessKind::Failure));
    }
    // A check that could not run (keys, token endpoint or API out of reach).
    for f in r
        .findings
        .iter()
        .filter(|f| f.is_unreachable())
        .filter(|f| !told_by_probe(f))
    {
        suite.add_test_case(finding_case(f, &class, NonSuccessKind::Error));
    }
    // Warnings (least privilege, expiring credentials): failures under
    // --strict; otherwise listed in the suite's output, so a CI page shows
    // them without failing the build.
    let (failing, listed): (Vec<&Finding>, Vec<&Finding>) = r
        .findings
        .iter()
        .filter(|f| f.severity == crate::finding::Severity::Warning && !f.is_unreachable())
        .partition(|f| r.strict && f.fails_strict());
    for f in failing {
        suite.add_test_case(finding_case(f, &class, NonSuccessKind::Failure));
    }
    {
        // And the key diagnosis (keys.*, info) a missing key's fix points to.
        let key_missing = r
            .findings
            .iter()
            .any(|f| f.code == "signature.key_not_found");
        let keys = r.findings.iter().filter(|f| {
            key_missing
                && f.severity == crate::finding::Severity::Info
                && f.code.starts_with("keys.")
        });
        let lines: Vec<String> = listed
            .into_iter()
            .chain(keys)
            .map(|f| {
                let fix = if f.fix.is_empty() {
                    String::new()
                } else {
                    format!(" (fix: {})", f.fix)
                };
                shown_lines(&format!(
                    "{} {}: {}{fix}",
                    f.severity.label(),
                    f.code,
                    f.message
                ))
            })
            .collect();
        if !lines.is_empty() {
            suite.set_system_out(lines.join("\n"));
        }
    }
    if suite.test_cases.is_empty() {
        let mut case = TestCase::new(format!("mdeauth {}", r.command), TestCaseStatus::success());
        case.set_classname(class);
        suite.add_test_case(case);
    }
    document(suite)
}

/// The XML document of one suite, ending in a newline. quick-junit drops
/// the control characters XML cannot hold; the two other non-characters
/// (U+FFFE, U+FFFF, which a claim or a captured URL may carry) become
/// U+FFFD here, so the output always parses.
pub(crate) fn document(mut suite: TestSuite) -> String {
    unique_names(&mut suite);
    let mut report = quick_junit::Report::new("mdeauth");
    report.add_test_suite(suite);
    let mut out = report.to_string().unwrap_or_else(|e| {
        // Serialising in-memory strings cannot fail; keep the output XML if it ever does.
        format!("<testsuites name=\"mdeauth\" tests=\"0\" failures=\"0\" errors=\"1\"><!-- {e} --></testsuites>")
    });
    if out.contains(['\u{FFFE}', '\u{FFFF}']) {
        out = out.replace(['\u{FFFE}', '\u{FFFF}'], "\u{FFFD}");
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// Text from a token, a file or a server, as the human report shows it:
/// control characters and the invisible ones that hide or reorder text
/// (a NUL, a zero-width space, a bidi override in a claim) as `\u{..}`
/// escapes. Done before quick-junit sees the text, which drops what XML
/// cannot hold (a NUL) and passes the rest on raw to a CI page.
fn shown(s: &str) -> String {
    crate::terminal::safe(s).into_owned()
}

/// [`shown`] keeping line breaks, for a description (a multi-line fix).
fn shown_lines(s: &str) -> String {
    crate::terminal::safe_lines(s).into_owned()
}

/// Make every (class, name) pair unique, as CI systems key results on it
/// and would merge or overwrite repeats (three `app.permission_missing`
/// findings, one call given twice). A repeated finding's name gains the
/// start of its message (a finding exists only when it fails); any other
/// case (a call, a step) keeps a name that does not depend on its outcome,
/// so a CI system's history follows it from pass to fail. A name still
/// repeated gains its ordinal (` #2`). Stable: the report's order is.
fn unique_names(suite: &mut TestSuite) {
    use std::collections::HashMap;
    let key = |c: &TestCase| {
        (
            c.classname.as_ref().map(|x| x.as_str().to_string()),
            c.name.as_str().to_string(),
        )
    };
    let mut count: HashMap<(Option<String>, String), usize> = HashMap::new();
    for c in &suite.test_cases {
        *count.entry(key(c)).or_default() += 1;
    }
    for c in &mut suite.test_cases {
        let finding = c
            .classname
            .as_ref()
            .is_some_and(|x| x.as_str().ends_with(".findings"));
        if count[&key(c)] < 2 || !finding {
            continue;
        }
        let message = match &c.status {
            TestCaseStatus::NonSuccess { message, .. }
            | TestCaseStatus::Skipped { message, .. } => {
                message.as_ref().map(|m| m.as_str().to_string())
            }
            TestCaseStatus::Success { .. } => None,
        };
        if let Some(m) = message {
            let m = crate::report::human::clip(&m, 80);
            c.name = format!("{}: {m}", c.name.as_str()).into();
        }
    }
    let mut seen: HashMap<(Option<String>, String), usize> = HashMap::new();
    for c in &mut suite.test_cases {
        let n = seen.entry(key(c)).or_default();
        *n += 1;
        if *n > 1 {
            c.name = format!("{} #{n}", c.name.as_str()).into();
        }
    }
}

fn finding_case(f: &Finding, class: &str, kind: NonSuccessKind) -> TestCase {
    let mut s = TestCaseStatus::non_success(kind);
    s.set_message(shown(&f.message));
    s.set_type(f.code);
    if !f.fix.is_empty() {
        s.set_description(shown_lines(&format!("fix: {}", f.fix)));
    }
    let mut case = TestCase::new(f.code, s);
    case.set_classname(format!("{class}.findings"));
    case
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Finding;

    #[test]
    fn characters_xml_cannot_hold_never_reach_the_document() {
        let mut suite = TestSuite::new("s");
        let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
        st.set_message("a\u{FFFE}b\u{FFFF}c\u{1b}[2Jd");
        suite.add_test_case(TestCase::new("x\u{FFFF}", st));
        let xml = document(suite);
        assert!(!xml.contains(['\u{FFFE}', '\u{FFFF}', '\u{1b}']), "{xml}");
        assert!(xml.contains("a\u{FFFD}b\u{FFFD}c"), "{xml}");
        quick_junit::Report::deserialize_from_str(&xml).unwrap();
    }

    #[test]
    fn empty_report_has_one_passing_case() {
        let r = Report::new("inspect", 0).finish();
        let xml = render(&r);
        let parsed = quick_junit::Report::deserialize_from_str(&xml).unwrap();
        assert_eq!(parsed.tests, 1);
        assert_eq!(parsed.failures, 0);
    }

    #[test]
    fn error_findings_fail() {
        let mut r = Report::new("inspect", 0);
        r.findings.push(Finding::error(
            "token.expired",
            "expired <now>",
            "get a new one",
        ));
        r.findings.push(Finding::warning("x.y", "warn", ""));
        let xml = render(&r.finish());
        let parsed = quick_junit::Report::deserialize_from_str(&xml).unwrap();
        assert_eq!(parsed.tests, 1);
        assert_eq!(parsed.failures, 1);
        assert!(xml.contains("expired &lt;now&gt;"), "{xml}");
    }
}
