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
        token(&mut o, t, r.now, st);
    }
    if let Some(a) = &r.app {
        app(&mut o, a, r.now, st);
    }
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

fn token(o: &mut String, t: &TokenSection, now: i64, st: &Style) {
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
    let time_claim = matches!(k, "iat" | "nbf" | "exp" | "auth_time" | "xms_tcdt");
    let text = match v.as_i64() {
        Some(n) if time_claim => crate::timefmt::rfc3339(n),
        _ => value_text(v),
    };
    let text = clip(&text, 46);
    let _ = writeln!(
        o,
        "  {:<18} {:<47} {}",
        clip(k, 18),
        text,
        st.dim(meaning.unwrap_or(""))
    );
}

fn app(o: &mut String, a: &crate::applint::AppSection, now: i64, st: &Style) {
    use crate::applint::{Confidence, TableSource};
    let name = a
        .display_name
        .as_deref()
        .map(|n| format!(" {:?}", clip(n, 60)))
        .unwrap_or_default();
    let from = match a.source {
        "graph" => "from Microsoft Graph".to_string(),
        _ => format!("from a file, {}", a.shape.describe()),
    };
    let _ = writeln!(
        o,
        "{} {}{name}  {}",
        st.bold("App"),
        a.app_id,
        st.dim(&format!("({from})"))
    );
    let tenancy = if a.multi_tenant {
        "multi-tenant"
    } else {
        "single tenant"
    };
    row(
        o,
        st,
        "Audience",
        &format!("{} ({tenancy})", a.sign_in_audience),
    );
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    row(o, st, "Public flow", yes_no(a.public_client));
    let redirects = if a.redirect_uris.is_empty() {
        "-".to_string()
    } else {
        a.redirect_uris
            .iter()
            .map(|r| format!("{} ({})", clip(&r.uri, 60), r.kind))
            .collect::<Vec<_>>()
            .join(", ")
    };
    row(o, st, "Redirects", &redirects);
    if a.credentials.is_empty() {
        row(o, st, "Credentials", "-");
    }
    for (i, c) in a.credentials.iter().enumerate() {
        let label = if i == 0 { "Credentials" } else { "" };
        let kind = match c.kind {
            crate::applint::CredKind::Secret => "secret",
            crate::applint::CredKind::Certificate => "certificate",
        };
        let when = match (&c.expires, c.status) {
            (Some(e), status) => {
                let t = crate::applint::manifest::parse_time(e).unwrap_or(now);
                let phrase = format!("{status}, {}", crate::timefmt::relative(t, now));
                let phrase = match status {
                    "expired" => st.red(&phrase),
                    "expiring" => st.yellow(&phrase),
                    _ => st.green(&phrase),
                };
                format!("expires {e} ({phrase})")
            }
            (None, _) => "no end date".to_string(),
        };
        row(
            o,
            st,
            label,
            &format!("{kind} {:?}, {when}", clip(&c.name, 40)),
        );
    }
    let table = match a.guid_table {
        TableSource::BuiltIn => "names from the built-in GUID table",
        TableSource::ServicePrincipal => "names from the tenant's service principal",
    };
    let _ = writeln!(
        o,
        "\n{}  {}",
        st.bold("WindowsDefenderATP permissions"),
        st.dim(&format!("({} context; {table})", a.context))
    );
    if a.permissions.is_empty() {
        let _ = writeln!(o, "  none requested and none needed");
        return;
    }
    let _ = writeln!(
        o,
        "  {:<36} {:<6} {:<10} {:<8} {:<7} GUID",
        "Permission", "Type", "Requested", "Granted", "Needed"
    );
    let mut single_source = false;
    for p in &a.permissions {
        let granted = match p.granted {
            Some(true) => "yes",
            Some(false) => "no",
            None => "?",
        };
        let mark = if p.confidence == Some(Confidence::Medium) {
            single_source = true;
            " *"
        } else {
            ""
        };
        let _ = writeln!(
            o,
            "  {:<36} {:<6} {:<10} {:<8} {:<7} {}{mark}",
            clip(p.name.as_deref().unwrap_or("(unknown GUID)"), 36),
            p.kind.as_str(),
            yes_no(p.requested),
            granted,
            yes_no(p.needed),
            p.guid.as_deref().unwrap_or("-"),
        );
    }
    if single_source {
        let _ = writeln!(
            o,
            "  {}",
            st.dim(&format!("* {}", crate::applint::table::SINGLE_SOURCE))
        );
    }
    if a.permissions.iter().all(|p| p.granted.is_none()) {
        let _ = writeln!(
            o,
            "  {}",
            st.dim("? granted unknown: pass --grants (or use --app-id live mode)")
        );
    }
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
            let fix = f.fix.replace('\n', "\n                   ");
            let _ = writeln!(o, "              {} {}", st.dim("fix:"), fix);
        }
    }
}

pub fn verdict(o: &mut String, r: &Report, st: &Style) {
    let counts = format!(
        "{} error(s), {} warning(s)",
        r.count(Severity::Error),
        r.count(Severity::Warning)
    );
    let v = match r.verdict {
        Verdict::Pass => st.green("PASS"),
        Verdict::Fail => st.red("FAIL"),
    };
    let _ = writeln!(o, "\n{} {v} ({counts})", st.bold("Verdict:"));
}
