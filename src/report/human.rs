//! Human renderer: one screen, most important first, coloured when allowed.

use std::fmt::Write;

use serde_json::Value;

use super::style::Style;
use super::{Report, TokenSection, Verdict};
use crate::claims;
use crate::finding::Severity;
use crate::token::{AppAuth, Context, Kind};

pub fn render(r: &Report, st: &Style) -> String {
    let mut o = String::new();
    if let Some(t) = &r.token {
        // Reports about calls show the token summary without the claim tables.
        token(&mut o, t, r.now, st, r.calls.is_none());
    }
    calls_section(&mut o, r, st);
    findings(&mut o, r, st);
    verdict(&mut o, r, st);
    o
}

/// Shorten a value for one-line display.
pub fn clip(s: &str, max: usize) -> String {
    let s: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if s.chars().count() > max {
        let head: String = s.chars().take(max.saturating_sub(1)).collect();
        format!("{head}…")
    } else {
        s
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) if a.iter().all(Value::is_string) => a
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

fn row(o: &mut String, st: &Style, label: &str, value: &str) {
    let _ = writeln!(o, "  {}  {}", st.bold(&format!("{label:<11}")), value);
}

fn token(o: &mut String, t: &TokenSection, now: i64, st: &Style, full: bool) {
    let _ = writeln!(
        o,
        "{} {}  {}",
        st.bold("Token"),
        t.fingerprint,
        st.dim(&format!("(from {})", t.source))
    );
    let kind = match t.kind {
        Kind::Access => "access token",
        Kind::Id => "ID token",
    };
    let ctx = match t.context {
        Context::Application => "application context (app-only, permissions in roles)",
        Context::Delegated => "delegated context (signed-in user, permissions in scp)",
        Context::None => "no permissions (neither roles nor scp)",
    };
    row(o, st, "Kind", &format!("{kind}, v{}, {ctx}", t.version));
    let res_name = t
        .audience
        .iter()
        .find_map(|a| crate::resource::lookup(a))
        .map(|r| r.name.as_str())
        .unwrap_or("not a resource mdeauth knows");
    row(
        o,
        st,
        "Audience",
        &format!(
            "{} ({}: {})",
            clip(&t.audience.join(", "), 70),
            t.resource,
            res_name
        ),
    );
    if let Some(iss) = &t.issuer {
        let cloud = t
            .cloud
            .and_then(|c| crate::cloud::by_name(c).ok())
            .map(|c| c.display.as_str())
            .unwrap_or("unknown cloud");
        row(o, st, "Issuer", &format!("{} ({cloud})", clip(iss, 70)));
    }
    if let Some(tid) = &t.tenant_id {
        row(o, st, "Tenant", tid);
    }
    if let Some(app) = &t.app_id {
        let name = t
            .app_name
            .as_deref()
            .map(|n| format!(" {n:?}"))
            .unwrap_or_default();
        let auth = if t.app_auth == AppAuth::Unknown {
            String::new()
        } else {
            format!(", authenticated with {}", t.app_auth.describe())
        };
        row(o, st, "App", &format!("{app}{name}{auth}"));
    }
    if let Some(u) = &t.user {
        row(o, st, "User", u);
    }
    if let Some(iat) = &t.issued_at {
        row(o, st, "Issued", iat);
    }
    if let Some(nbf) = &t.not_before {
        row(o, st, "Valid from", nbf);
    }
    if let Some(exp) = &t.expires_at {
        let phrase = t.expiry_phrase(now).unwrap_or_default();
        let phrase = if t.expires_in_seconds.is_some_and(|s| s < 0) {
            st.red(&phrase)
        } else {
            st.green(&phrase)
        };
        let life = t
            .lifetime_seconds
            .map(|l| format!(", lifetime {}", crate::timefmt::span(l)))
            .unwrap_or_default();
        row(o, st, "Expires", &format!("{exp} ({phrase}{life})"));
    }
    let _ = writeln!(
        o,
        "  {}  {}",
        st.bold(&format!("{:<11}", "Evaluated")),
        st.dim(&t.evaluated_at)
    );
    let list = |v: &[String]| {
        if v.is_empty() {
            "-".to_string()
        } else {
            v.join(", ")
        }
    };
    row(o, st, "Roles", &list(&t.roles));
    row(o, st, "Scopes", &list(&t.scopes));
    if !full {
        return;
    }

    let _ = writeln!(o, "\n{}", st.bold("Header"));
    for (k, v) in &t.header {
        explained(o, st, k, v, claims::header(k));
    }
    let _ = writeln!(o, "\n{}", st.bold("Claims"));
    for (k, v) in &t.claims {
        explained(o, st, k, v, claims::claim(k));
    }
}

fn explained(o: &mut String, st: &Style, k: &str, v: &Value, meaning: Option<&str>) {
    let text = clip(&value_text(v), 46);
    let _ = writeln!(
        o,
        "  {:<18} {:<47} {}",
        clip(k, 18),
        text,
        st.dim(meaning.unwrap_or(""))
    );
}

pub fn findings(o: &mut String, r: &Report, st: &Style) {
    if r.findings.is_empty() {
        return;
    }
    let _ = writeln!(o, "\n{}", st.bold("Findings"));
    for f in &r.findings {
        let mark = match f.severity {
            Severity::Error => st.red("✗ error  "),
            Severity::Warning => st.yellow("! warning"),
            Severity::Info => st.blue("i info   "),
        };
        let _ = writeln!(o, "  {mark} {}  {}", st.dim(f.code), f.message);
        if !f.fix.is_empty() {
            let _ = writeln!(o, "              {} {}", st.dim("fix:"), f.fix);
        }
    }
}

pub fn verdict(o: &mut String, r: &Report, st: &Style) {
    let denied = match r.calls_denied() {
        0 => String::new(),
        n => format!("{n} call(s) not allowed, "),
    };
    let counts = format!(
        "{denied}{} error(s), {} warning(s)",
        r.count(Severity::Error),
        r.count(Severity::Warning)
    );
    let v = match r.verdict {
        Verdict::Pass => st.green("PASS"),
        Verdict::Fail => st.red("FAIL"),
    };
    let _ = writeln!(o, "\n{} {v} ({counts})", st.bold("Verdict:"));
}

/// Plan, calls and least-privilege sections of `check` and `api`.
fn calls_section(o: &mut String, r: &Report, st: &Style) {
    use super::calls::requirement_text;
    if let Some(p) = &r.plan {
        gap(o);
        let _ = writeln!(o, "{} {} ({})", st.bold("Plan"), p.name, p.file);
        let mut bits = vec![format!("{} call(s)", p.calls)];
        if let Some(c) = p.context {
            bits.push(format!("{c} context"));
        }
        if let Some(c) = p.credential {
            bits.push(format!("credential {c}"));
        }
        if p.multi_tenant {
            bits.push("multi-tenant".into());
        }
        let _ = writeln!(o, "  {}", bits.join(", "));
    }
    let Some(calls) = &r.calls else { return };
    let checked = calls.iter().any(|c| c.check.is_some());
    if checked {
        let ctx = calls
            .iter()
            .find_map(|c| c.check.as_ref().map(|k| k.context))
            .unwrap_or("application");
        let _ = writeln!(o, "\n{}", st.bold(&format!("Calls ({ctx} permissions)")));
        let w = calls
            .iter()
            .map(|c| c.label().chars().count())
            .max()
            .unwrap_or(0)
            .min(64);
        for c in calls {
            let Some(k) = &c.check else { continue };
            let mark = match k.allowed {
                Some(true) => st.green("✓"),
                Some(false) => st.red("✗"),
                None => st.yellow("?"),
            };
            let _ = writeln!(o, "  {mark} {:<w$}  {}", c.label(), k.reason);
            if let Some(n) = &k.note {
                let _ = writeln!(o, "    {}", st.dim(n));
            }
        }
    } else if calls.len() == 1 {
        let c = &calls[0];
        gap(o);
        let _ = writeln!(o, "{}", st.bold(&c.label()));
        row(o, st, "Name", &c.name);
        row(o, st, "Area", &c.area);
        row(o, st, "Status", &format!("{:?}", c.status).to_lowercase());
        if let Some(q) = &c.query {
            row(o, st, "Query", &format!("?{q}"));
        }
        if let Some(h) = &c.host {
            row(o, st, "Host", h);
        }
        row(
            o,
            st,
            "Application",
            &requirement_text(&c.application_requirements),
        );
        row(
            o,
            st,
            "Delegated",
            &requirement_text(&c.delegated_requirements),
        );
        row(
            o,
            st,
            "User RBAC",
            c.rbac.as_deref().unwrap_or("not stated"),
        );
        row(
            o,
            st,
            "Rate limit",
            c.rate_limit.as_deref().unwrap_or("not stated"),
        );
        let date = c
            .doc_date
            .as_deref()
            .map(|d| format!(" ({d})"))
            .unwrap_or_default();
        row(o, st, "Source", &format!("{}{date}", c.source));
        for s in &c.doc_spelling {
            row(
                o,
                st,
                "Spelling",
                &format!(
                    "the docs write {} ({}); tokens carry {}",
                    s.documented, s.context, s.actual
                ),
            );
        }
        if let Some(n) = &c.notes {
            row(o, st, "Notes", n);
        }
    } else {
        let w = calls
            .iter()
            .map(|c| c.label().chars().count())
            .max()
            .unwrap_or(0)
            .min(64);
        gap(o);
        let _ = writeln!(
            o,
            "{}",
            st.bold(&format!("{:<w$}  {}", "CALL", "APPLICATION / DELEGATED"))
        );
        let mut area = "";
        for c in calls {
            if c.area != area {
                area = &c.area;
                let _ = writeln!(o, "{}", st.dim(&format!("# {area}")));
            }
            let legacy = if c.status == crate::catalog::Status::Legacy {
                " (legacy)"
            } else {
                ""
            };
            let _ = writeln!(
                o,
                "{:<w$}  {} / {}{legacy}",
                c.label(),
                requirement_text(&c.application_requirements),
                requirement_text(&c.delegated_requirements)
            );
        }
        let _ = writeln!(o, "{}", st.dim(&format!("{} call(s)", calls.len())));
    }
    if let Some(lp) = &r.least_privilege {
        let _ = writeln!(
            o,
            "\n{}",
            st.bold(&format!(
                "Least privilege ({} permissions of WindowsDefenderATP {})",
                lp.context, lp.resource_app_id
            ))
        );
        if lp.minimal.is_empty() {
            let _ = writeln!(o, "  Minimal     none documented for these calls");
        }
        let w = lp
            .minimal
            .iter()
            .map(|m| m.permission.len())
            .max()
            .unwrap_or(0);
        for (i, m) in lp.minimal.iter().enumerate() {
            let label = if i == 0 { "Minimal" } else { "" };
            let _ = writeln!(
                o,
                "  {:<10}  {:<w$}  {:<5}  {}  {}",
                label,
                m.permission,
                m.kind.as_str(),
                m.id.as_deref().unwrap_or("(id unknown)"),
                st.dim(&clip(&m.calls.join(", "), 80))
            );
        }
        if !lp.unused.is_empty() {
            let _ = writeln!(
                o,
                "  {:<10}  {}",
                "Unused",
                st.yellow(&lp.unused.join(", "))
            );
        }
        if !lp.redundant.is_empty() {
            let _ = writeln!(
                o,
                "  {:<10}  {}",
                "Not needed",
                st.yellow(&lp.redundant.join(", "))
            );
        }
    }
}

/// A blank line between sections (none at the very top).
fn gap(o: &mut String) {
    if !o.is_empty() {
        o.push('\n');
    }
}
