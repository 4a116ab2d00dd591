//! Human renderer: one screen, most important first, coloured when allowed.

use std::fmt::Write;

use serde_json::Value;

use super::style::Style;
use super::{Report, TokenSection, Verdict};
use crate::claims;
use crate::finding::Severity;
use crate::terminal::{safe, safe_lines};
use crate::token::{AppAuth, Context, Kind};

pub fn render(r: &Report, st: &Style) -> String {
    let mut o = String::new();
    if let Some(d) = &r.doctor {
        // The doctor's checklist stands for every other section; the doubts
        // the docs leave about the planned calls' permissions come with it.
        doctor(&mut o, d, st);
        caveats(&mut o, r, st);
        if let Some(e) = &r.errors {
            errors(&mut o, e, st);
        }
        if let Some(c) = &r.consent {
            consent(&mut o, c, st);
        }
        findings(&mut o, r, st);
        verdict(&mut o, r, st);
        return o;
    }
    if let Some(t) = &r.token {
        // Reports about calls show the token summary without the claim tables.
        token(&mut o, t, r.now, st, r.calls.is_none() && r.probe.is_none());
    }
    if let Some(p) = &r.probe {
        probe(&mut o, p, st);
    }
    calls_section(&mut o, r, st);
    if let Some(s) = &r.signature {
        signature(&mut o, s, r.claims_valid, st);
    }
    if let Some(c) = &r.cache {
        cache(&mut o, c, st);
    }
    if let Some(e) = &r.errors {
        errors(&mut o, e, st);
    }
    if let Some(c) = &r.consent {
        consent(&mut o, c, st);
    }
    if let Some(a) = &r.app {
        // Grants given but not attributable: the legend says so.
        let unattributed = r
            .findings
            .iter()
            .any(|f| f.code == "app.grants_unattributed");
        app(&mut o, a, r.now, unattributed, st);
    }
    findings(&mut o, r, st);
    verdict(&mut o, r, st);
    o
}

/// Shorten a value for one-line display.
pub fn clip(s: &str, max: usize) -> String {
    // The common case, short printable ASCII, is copied as it is.
    if s.len() <= max && s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return s.to_string();
    }
    // Tabs and line breaks become spaces; other unsafe characters escapes.
    let spaced: String = s
        .chars()
        .map(|c| {
            if matches!(c, '\t' | '\n' | '\r') {
                ' '
            } else {
                c
            }
        })
        .collect();
    let s = safe(&spaced);
    if s.chars().count() > max {
        let head: String = s.chars().take(max.saturating_sub(1)).collect();
        format!("{head}…")
    } else {
        s.into_owned()
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
    o.push_str("  ");
    o.push_str(&st.bold(&padded(label, 11)));
    o.push_str("  ");
    o.push_str(value);
    o.push('\n');
}

/// `s` followed by spaces up to `width` characters: what `{:<width}`
/// gives, without the formatting machinery (a report is mostly such rows).
fn padded(s: &str, width: usize) -> String {
    let mut out = String::with_capacity(s.len().max(width));
    push_padded(&mut out, s, width);
    out
}

fn push_padded(o: &mut String, s: &str, width: usize) {
    o.push_str(s);
    let n = if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    };
    o.extend(std::iter::repeat_n(' ', width.saturating_sub(n)));
}

fn token(o: &mut String, t: &TokenSection, now: i64, st: &Style, full: bool) {
    let _ = writeln!(
        o,
        "{} {}  {}",
        st.bold("Token"),
        t.fingerprint,
        st.dim(&format!("(from {})", safe(&t.source)))
    );
    let kind = match t.kind {
        Kind::Access => "access token",
        Kind::Id => "ID token",
    };
    let ctx = match t.context {
        Context::Application => "application context (app-only, permissions in roles)",
        Context::Delegated => "delegated context (signed-in user, permissions in scp)",
        Context::None if !t.roles.is_empty() => {
            "a user's token without delegated permissions (roles but no scp)"
        }
        Context::None => "no permissions (neither roles nor scp)",
    };
    row(o, st, "Kind", &format!("{kind}, v{}, {ctx}", t.version));
    let res_name = t
        .audience
        .iter()
        .find_map(|a| crate::resource::lookup(a))
        .map(|r| r.name)
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
            .map(|c| c.display)
            .unwrap_or("unknown cloud");
        row(o, st, "Issuer", &format!("{} ({cloud})", clip(iss, 70)));
    }
    if let Some(tid) = &t.tenant_id {
        row(o, st, "Tenant", &safe(tid));
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
        row(o, st, "App", &format!("{}{name}{auth}", safe(app)));
    }
    if let Some(u) = &t.user {
        row(o, st, "User", &safe(u));
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
            .map(|l| match l {
                // token.lifetime_negative says why.
                l if l < 0 => format!(
                    ", no lifetime: it expires {} before it is valid",
                    crate::timefmt::span(l)
                ),
                l => format!(", lifetime {}", crate::timefmt::span(l)),
            })
            .unwrap_or_default();
        row(o, st, "Expires", &format!("{exp} ({phrase}{life})"));
    }
    row(o, st, "Evaluated", &st.dim(&t.evaluated_at));
    let list = |v: &[String]| {
        if v.is_empty() {
            "-".to_string()
        } else {
            safe(&v.join(", ")).into_owned()
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
    let time_claim = matches!(k, "iat" | "nbf" | "exp" | "auth_time" | "xms_tcdt");
    let text = match v.as_i64() {
        Some(n) if time_claim => crate::timefmt::rfc3339(n),
        _ => value_text(v),
    };
    o.push_str("  ");
    push_padded(o, &clip(k, 18), 18);
    o.push(' ');
    push_padded(o, &clip(&text, 46), 47);
    o.push(' ');
    o.push_str(&st.dim(meaning.unwrap_or("")));
    o.push('\n');
}

fn signature(
    o: &mut String,
    s: &crate::validate::SignatureSection,
    claims_valid: Option<bool>,
    st: &Style,
) {
    use crate::validate::SignatureStatus as S;
    let _ = writeln!(o, "\n{}", st.bold("Verification"));
    let status = match s.status {
        S::Valid if s.nonce_transformed => {
            st.yellow("valid only under Microsoft's header-nonce rule (Graph-style token)")
        }
        S::Valid => st.green("valid"),
        S::Invalid => st.red("INVALID"),
        S::KeyNotFound => st.red("key not found"),
        S::NotChecked => st.red("not checked"),
    };
    row(o, st, "Signature", &status);
    if let Some(k) = &s.kid {
        row(o, st, "Key", &safe(k));
    }
    if let Some(src) = &s.key_source {
        row(o, st, "Key source", &clip(src, 90));
    }
    if let Some(c) = claims_valid {
        let text = if c {
            st.green("valid")
        } else {
            st.red("INVALID")
        };
        row(o, st, "Claims", &text);
    }
}

fn cache(o: &mut String, c: &crate::cache::CacheSection, st: &Style) {
    let _ = writeln!(o, "{} {}", st.bold("Cache"), c.dir);
    if let Some(n) = c.removed {
        let _ = writeln!(o, "  removed {n} entr{}", if n == 1 { "y" } else { "ies" });
        return;
    }
    if c.entries.is_empty() {
        let _ = writeln!(o, "  (empty)");
    }
    for e in &c.entries {
        let _ = writeln!(o, "  {}", safe(&e.url));
        let _ = writeln!(
            o,
            "    {}",
            st.dim(&format!(
                "fetched {} ({}), {} bytes{}",
                e.fetched_at,
                if e.age_seconds < 0 {
                    // Refetched on next use (only 0..24 h counts as fresh).
                    "dated in the future: the clock was changed; refetched on next use".to_string()
                } else {
                    format!("{} ago", crate::timefmt::span(e.age_seconds))
                },
                e.size,
                if e.key_ids.is_empty() {
                    String::new()
                } else {
                    format!(", keys: {}", safe(&e.key_ids.join(", ")))
                }
            ))
        );
    }
}

fn errors(o: &mut String, errs: &[crate::aadsts::ExplainedError], st: &Style) {
    for (i, e) in errs.iter().enumerate() {
        if i > 0 || !o.is_empty() {
            o.push('\n');
        }
        let _ = writeln!(
            o,
            "{} {}  {}",
            st.bold("Error"),
            st.red(&safe(&e.code)),
            safe(&e.name)
        );
        row(o, st, "Cause", &e.cause);
        if let Some(d) = &e.description {
            row(o, st, "Error text", &clip(d, 300));
        }
        row(o, st, "Fix", &e.fix);
        if let Some(u) = &e.consent_url {
            row(o, st, "Consent", u);
        }
        for (label, v) in [
            ("Trace ID", &e.trace_id),
            ("Correlation", &e.correlation_id),
            ("Timestamp", &e.timestamp),
        ] {
            if let Some(v) = v {
                row(o, st, label, &safe(v));
            }
        }
    }
}

fn consent(o: &mut String, c: &crate::consent::ConsentSection, st: &Style) {
    let _ = writeln!(
        o,
        "{} for app {} ({} cloud)",
        st.bold("Consent links"),
        c.client_id,
        c.cloud
    );
    // With a tenant, its own link first: the /common one fails for a
    // single-tenant app (AADSTS50194), as a daemon's usually is.
    if let Some(t) = &c.urls.authorize_tenant {
        let _ = writeln!(
            o,
            "  On the tenant's own authority (works for single- and multi-tenant apps):\n    {t}"
        );
    }
    let _ = writeln!(
        o,
        "  Documented link (multi-tenant apps only, /common; a single-tenant app gets AADSTS50194):\n    {}",
        c.urls.authorize_common
    );
    let _ = writeln!(
        o,
        "  v2 admin-consent endpoint:\n    {}",
        c.urls.adminconsent_v2
    );
    let _ = writeln!(o, "\n{}", st.bold("Who can grant it"));
    for r in &c.who_can_grant.roles {
        let _ = writeln!(o, "  - {}: {}", r.role, r.can_grant);
    }
    let _ = writeln!(o, "  {}", c.who_can_grant.note);
    let _ = writeln!(
        o,
        "  {}",
        st.dim(&format!("source: {}", c.who_can_grant.source))
    );
}

fn app(o: &mut String, a: &crate::applint::AppSection, now: i64, unattributed: bool, st: &Style) {
    use crate::applint::{Confidence, TableSource};
    let name = a
        .display_name
        .as_deref()
        .map(|n| format!(" \"{}\"", clip(n, 60)))
        .unwrap_or_default();
    let from = match a.source {
        "graph" => "from Microsoft Graph".to_string(),
        _ => format!("from a file, {}", a.shape.describe()),
    };
    let _ = writeln!(
        o,
        "{} {}{name}  {}",
        st.bold("App"),
        safe(&a.app_id),
        st.dim(&format!("({from})"))
    );
    let tenancy = if a.multi_tenant {
        "multi-tenant"
    } else if a.sign_in_audience == "PersonalMicrosoftAccount" {
        "personal Microsoft accounts only"
    } else {
        "single tenant"
    };
    row(
        o,
        st,
        "Audience",
        &format!("{} ({tenancy})", safe(&a.sign_in_audience)),
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
        // A date with its status and how far it is from now.
        let dated = |date: &str, status: &str| {
            let t = crate::applint::manifest::parse_time(date).unwrap_or(now);
            let phrase = format!(
                "{}, {}",
                status.replace('_', " "),
                crate::timefmt::relative(t, now)
            );
            match status {
                "expired" => st.red(&phrase),
                "expiring" | "not_yet_valid" => st.yellow(&phrase),
                _ => st.green(&phrase),
            }
        };
        let when = match (&c.starts, &c.expires) {
            // Not valid yet: the start is what matters now.
            (Some(s), e) if c.status == "not_yet_valid" => format!(
                "valid from {s} ({}), {}",
                dated(s, c.status),
                e.as_ref()
                    .map_or("no end date".to_string(), |e| format!("expires {e}"))
            ),
            (_, Some(e)) => format!("expires {e} ({})", dated(e, c.status)),
            (_, None) => "no end date".to_string(),
        };
        row(
            o,
            st,
            label,
            &format!("{kind} \"{}\", {when}", clip(&c.name, 40)),
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
            safe(p.guid.as_deref().unwrap_or("-")),
        );
    }
    if single_source {
        let _ = writeln!(
            o,
            "  {}",
            st.dim(&format!("* {}", crate::applint::table::SINGLE_SOURCE))
        );
    }
    if unattributed {
        let _ = writeln!(
            o,
            "  {}",
            st.dim("? granted unknown for delegated permissions: see app.grants_unattributed")
        );
    } else if a.permissions.iter().all(|p| p.granted.is_none()) {
        let _ = writeln!(
            o,
            "  {}",
            st.dim("? granted unknown: pass --grants (or use --app-id live mode)")
        );
    }
}

fn probe(o: &mut String, p: &crate::mdeapi::ProbeSection, st: &Style) {
    gap(o);
    let _ = writeln!(o, "{} {} {}", st.bold("Probe"), p.method, safe(&p.url));
    if let Some(s) = p.status {
        let code = p
            .error_code
            .as_deref()
            .map(|c| format!(" ({})", safe(c)))
            .unwrap_or_default();
        row(o, st, "status", &format!("{s}{code}"));
    }
    if let Some(c) = &p.correlation_id {
        row(o, st, "correlation", &safe(c));
    }
    if let Some(r) = &p.retry_after {
        row(o, st, "retry-after", &safe(r));
    }
    if let Some(a) = &p.auth_error {
        row(o, st, "www-authenticate", &safe(a));
    }
    if let Some(n) = p.items {
        let ids = if p.ids.is_empty() {
            String::new()
        } else {
            format!(" (id {})", safe(&p.ids.join(", ")))
        };
        row(o, st, "items", &format!("{n}{ids}"));
    }
    if p.status.is_some_and(|s| s == 403) {
        row(o, st, "required", &p.required_roles.join(", "));
        let held = if p.token_roles.is_empty() {
            "none".to_string()
        } else {
            safe(&p.token_roles.join(", ")).into_owned()
        };
        row(o, st, "token has", &held);
    }
}

fn doctor(o: &mut String, d: &crate::doctor::DoctorSection, st: &Style) {
    use crate::doctor::StepStatus;
    let _ = writeln!(o, "{}", st.bold("Doctor"));
    for s in &d.steps {
        let mark = match s.status {
            StepStatus::Pass => st.green("✓"),
            StepStatus::Fail => st.red("✗"),
            StepStatus::Warn => st.yellow("!"),
            StepStatus::Skip => st.dim("-"),
        };
        let name = format!("{:<13}", s.name);
        let detail = if s.status == StepStatus::Skip {
            st.dim(&format!("skipped: {}", safe(&s.detail)))
        } else {
            safe(&s.detail).into_owned()
        };
        let _ = writeln!(o, "  {mark} {}  {detail}", st.bold(&name));
    }
    if d.chain.is_empty() {
        return;
    }
    let _ = writeln!(
        o,
        "\n{}",
        st.bold("Permission chain (intended → requested → granted → in token)")
    );
    let cw = d
        .chain
        .iter()
        .map(|c| c.call.chars().count())
        .max()
        .unwrap_or(0);
    let pw = d
        .chain
        .iter()
        .map(|c| c.permission.chars().count())
        .max()
        .unwrap_or(0);
    let mark = |v: Option<bool>| match v {
        Some(true) => st.green("✓"),
        Some(false) => st.red("✗"),
        None => st.dim("?"),
    };
    for c in &d.chain {
        let hint = c
            .breaks
            .as_deref()
            .map(|b| format!("  {}", st.yellow(&format!("← {b}"))))
            .unwrap_or_default();
        let _ = writeln!(
            o,
            "  {:<cw$}  {:<pw$}  requested {}  granted {}  in token {}{hint}",
            safe(&c.call),
            safe(&c.permission),
            mark(c.requested),
            mark(c.granted),
            mark(c.in_token),
        );
    }
}

/// The catalogue's caveat on each planned call that has one.
fn caveats(o: &mut String, r: &Report, st: &Style) {
    let Some(calls) = &r.calls else { return };
    let mut first = true;
    for c in calls {
        let Some(text) = &c.caveat else { continue };
        if first {
            let _ = writeln!(o, "\n{}", st.bold("Caveats"));
            first = false;
        }
        let _ = writeln!(o, "  {}  {}", safe(&c.label()), safe(text));
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
        let _ = writeln!(o, "  {mark} {}  {}", st.dim(f.code), safe(&f.message));
        if !f.fix.is_empty() {
            let fix = safe_lines(&f.fix).replace('\n', "\n                   ");
            let _ = writeln!(o, "              {} {}", st.dim("fix:"), fix);
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
        Verdict::Unverified => st.yellow("UNVERIFIED"),
    };
    let _ = writeln!(o, "\n{} {v} ({counts})", st.bold("Verdict:"));
}

/// Plan, calls and least-privilege sections of `check` and `api`.
fn calls_section(o: &mut String, r: &Report, st: &Style) {
    use super::calls::requirement_text;
    if let Some(p) = &r.plan {
        gap(o);
        let _ = writeln!(
            o,
            "{} {} ({})",
            st.bold("Plan"),
            safe(&p.name),
            safe(&p.file)
        );
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
            .map(|c| c.label_with_host().chars().count())
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
            let _ = writeln!(
                o,
                "  {mark} {:<w$}  {}",
                safe(&c.label_with_host()),
                safe(&k.reason)
            );
            if let Some(n) = &k.note {
                let _ = writeln!(o, "    {}", st.dim(n));
            }
            if let Some(c) = &c.caveat {
                let _ = writeln!(o, "    {} {}", st.yellow("caveat:"), safe(c));
            }
            if let Some(f) = &k.fix {
                let _ = writeln!(o, "    {} {}", st.dim("fix:"), safe(f));
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
        if let Some(n) = &c.caveat {
            row(o, st, "Caveat", n);
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
        let mut single_source = false;
        for (i, m) in lp.minimal.iter().enumerate() {
            let label = if i == 0 { "Minimal" } else { "" };
            let mark = if m.confidence == Some("medium") {
                single_source = true;
                " *"
            } else {
                ""
            };
            let _ = writeln!(
                o,
                "  {:<10}  {:<w$}  {:<5}  {}{mark}  {}",
                label,
                m.permission,
                m.kind.as_str(),
                m.id.as_deref().unwrap_or("(id unknown)"),
                st.dim(&clip(&m.calls.join(", "), 80))
            );
            if let Some(c) = &m.caveat {
                let _ = writeln!(o, "  {:<10}  {}", "", st.yellow(&format!("caveat: {c}")));
            }
            if !m.alternatives.is_empty() {
                let _ = writeln!(
                    o,
                    "  {:<10}  {}",
                    "",
                    st.dim(&format!(
                        "or any one of {} instead (equally narrow)",
                        m.alternatives.join(", ")
                    ))
                );
            }
        }
        if single_source {
            let _ = writeln!(
                o,
                "  {:<10}  {}",
                "",
                st.dim(&format!("* {}", crate::applint::table::SINGLE_SOURCE))
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
        if !lp.undecided.is_empty() {
            let _ = writeln!(
                o,
                "  {:<10}  {}",
                "Undecided",
                st.dim(&lp.undecided.join(", "))
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

#[cfg(test)]
mod tests {
    use super::{clip, padded};

    #[test]
    fn padded_matches_the_format_width() {
        for s in [
            "",
            "exp",
            "exactly-eleven",
            "überprüfung",
            "日本語",
            "a\u{301}b",
        ] {
            for w in [0, 3, 11, 18] {
                assert_eq!(padded(s, w), format!("{s:<w$}"), "{s:?} {w}");
            }
        }
    }

    #[test]
    fn clip_keeps_short_text_and_cuts_long_text_by_characters() {
        assert_eq!(clip("Machine.Read.All", 20), "Machine.Read.All");
        assert_eq!(clip("exactly5", 8), "exactly5");
        assert_eq!(clip("a\tb\nc", 10), "a b c");
        assert_eq!(clip("abcdefghij", 5), "abcd…");
        // Counted in characters, not bytes: 5 of these fit.
        assert_eq!(clip("ééééé", 5), "ééééé");
        assert_eq!(clip("éééééé", 5), "éééé…");
    }
}
