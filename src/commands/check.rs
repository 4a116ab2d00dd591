//! `mdeauth check`: does this token carry the permissions each planned MDE
//! call needs, and nothing more?

use crate::catalog::{self, Call};
use crate::checks::{self, Clock};
use crate::cli::CheckArgs;
use crate::error::{Error, Result};
use crate::finding::Finding;
use crate::permissions::{self, PermContext, PermKind};
use crate::plan::Plan;
use crate::privilege::{self, Evaluation, Outcome};
use crate::report::calls::{
    CallEntry, LeastPrivilege, MinimalPermission, PlanSection, requirement_text,
};
use crate::report::{Report, TokenSection};
use crate::resource::ResourceKind;
use crate::token::{Claims, Kind, Token};
use crate::validate::{self, Verification, VerifyOptions};

/// A call to check: as given, its note, its catalogue row.
pub struct Wanted {
    pub given: String,
    pub note: Option<String>,
    pub row: &'static Call,
}

/// The calls of `--plan` and `--call`, resolved; unknown calls are input errors.
pub fn wanted(plan: Option<&Plan>, calls: &[String]) -> Result<Vec<Wanted>> {
    let mut out = Vec::new();
    if let Some(p) = plan {
        for (pc, row) in p.resolve()? {
            out.push(Wanted {
                given: pc.call.clone(),
                note: pc.note.clone(),
                row,
            });
        }
    }
    for c in calls {
        let row = catalog::resolve(c)?;
        out.push(Wanted {
            given: c.trim().to_string(),
            note: None,
            row,
        });
    }
    Ok(out)
}

pub fn run(args: &CheckArgs) -> Result<Report> {
    let clock = super::clock(&args.time)?;
    let plan = args.plan.as_deref().map(Plan::load).transpose()?;
    let wanted = wanted(plan.as_ref(), &args.calls)?;
    if wanted.is_empty() {
        return Err(Error::input("no calls to check")
            .with_hint("give --call \"METHOD PATH\" (repeatable) or --plan FILE"));
    }
    if !args.no_verify {
        super::verify::check_key_args(&args.keys)?;
    }
    let token = super::load_token(&args.input)?;
    // The signature and claims as verify checks them, unless --no-verify;
    // keys out of reach are noted, not fatal.
    let verified = if args.no_verify {
        None
    } else {
        match verify(args, plan.as_ref(), &token, clock) {
            Err(e) if !matches!(e, Error::Environment { .. }) => return Err(e),
            v => Some(v),
        }
    };
    let mut report = Report::new("check", clock.now);
    let claims = match (token.require_claims(), verified) {
        (Ok(claims), verified) => {
            let offline = |report: &mut Report| {
                let cls = claims.classify();
                report.findings.extend(checks::header(&token.header));
                report
                    .findings
                    .extend(checks::claims(&token.header, claims, &cls, clock));
            };
            match verified {
                None => {
                    offline(&mut report);
                    report.findings.push(checks::signature_not_checked());
                }
                // verify_token runs the same header and claim checks, plus the signature's.
                Some(Ok(v)) => report.take_verification(v),
                Some(Err(e)) => {
                    offline(&mut report);
                    report.findings.push(checks::signature_unverified(&e));
                }
            }
            claims
        }
        // A signed payload that is not a claims set fails as verify fails it
        // (payload.not_json), and no call can be judged.
        (Err(_), Some(Ok(v))) => {
            report.take_verification(v);
            return Ok(report.finish().strict(args.strict));
        }
        // Without the signature checked (--no-verify, keys out of reach),
        // nothing was learnt beyond the bad payload: bad input (exit 2).
        (Err(unreadable), _) => return Err(unreadable),
    };
    evaluate(&mut report, claims, plan.as_ref(), &wanted, args.context);
    report.token = Some(TokenSection::new(&token, claims, clock));
    crate::finding::dedupe(&mut report.findings);
    Ok(report.finish().strict(args.strict))
}

/// How to take a permission the token holds out of the app's tokens: the
/// request goes, and so must its grant (removing the request alone leaves
/// a consented permission in every new token).
fn remove_fix(p: &str, kind: PermKind) -> String {
    let (where_, how) = match kind {
        PermKind::Role => (
            "application permissions",
            "Enterprise applications > the app > Permissions; `mdeauth app --grants` gives the exact commands",
        ),
        PermKind::Scope => (
            "delegated permissions",
            "Enterprise applications > the app > Permissions, for the users or the tenant",
        ),
    };
    format!(
        "remove {p} from the app's WindowsDefenderATP {where_} (least privilege) and revoke its grant ({how}), then get a new token"
    )
}

/// `check.context_mismatch` when the app is meant to work in one context
/// (`--context` or the plan) and the token is of the other.
pub fn context_mismatch(
    expected: Option<PermContext>,
    token: Option<PermContext>,
) -> Option<Finding> {
    let (e, t) = (expected?, token?);
    (e != t).then(|| {
        Finding::error(
            "check.context_mismatch",
            format!(
                "the app is meant to work in {} context but this is {}",
                e.as_str(),
                token_phrase(t)
            ),
            match e {
                PermContext::Application => "request the token with the client-credentials grant (no user), so it carries application permissions in roles",
                PermContext::Delegated => "request the token on behalf of a signed-in user (authorization code or device code), so it carries delegated permissions in scp",
            },
        )
    })
}

/// `an application token` / `a delegated token`.
fn token_phrase(c: PermContext) -> &'static str {
    match c {
        PermContext::Application => "an application token",
        PermContext::Delegated => "a delegated token",
    }
}

/// A host a call goes to that belongs to another cloud's MDE API than the
/// one the token was signed in on.
struct CloudMismatch {
    host: String,
    /// The finding for that host: an error when the token's cloud is sure,
    /// a warning when only its sts.windows.net issuer says it.
    finding: Finding,
}

/// The host a call goes to: its own when written as a full URL (parsed, with
/// or without https://; never a URL that only appears in its query string),
/// else `api_host` (doctor's `--cloud`/`--region`/`--api-base`), else none.
fn call_host(w: &Wanted, api_host: Option<&str>) -> Option<String> {
    crate::catalog::CallSpec::parse(&w.given)
        .ok()
        .and_then(|c| c.host)
        .or(api_host.map(str::to_ascii_lowercase))
}

/// The calls of `wanted` that go to another cloud's MDE API for sure (a
/// `call.wrong_cloud` error), as (catalogue label, host): doctor marks
/// where its chain breaks with them.
pub fn calls_to_another_cloud(
    claims: &Claims,
    wanted: &[Wanted],
    api_host: Option<&str>,
) -> Vec<(String, String)> {
    let cls = claims.classify();
    let clouds = wrong_cloud(&cls, claims.iss.as_deref(), wanted, api_host);
    wanted
        .iter()
        .filter_map(|w| {
            let host = call_host(w, api_host)?;
            clouds
                .iter()
                .any(|m| m.host == host && m.finding.is_error())
                .then(|| (w.row.label(), host))
        })
        .collect()
}

/// Calls sent to another cloud's MDE API than the one the token was signed
/// in on, one per host.
fn wrong_cloud(
    cls: &crate::token::Classification,
    iss: Option<&str>,
    wanted: &[Wanted],
    api_host: Option<&str>,
) -> Vec<CloudMismatch> {
    let mut out: Vec<CloudMismatch> = Vec::new();
    for w in wanted {
        let Some(host) = call_host(w, api_host) else {
            continue;
        };
        if out.iter().any(|m| m.host == host) {
            continue;
        }
        if let Some(finding) = crate::checks::host_cloud_mismatch(cls, iss, &host) {
            out.push(CloudMismatch { host, finding });
        }
    }
    out
}

/// The plan checks `check` runs on a decoded token, shared with `token --plan`
/// and `doctor`: context, plan identity, per-call permissions, least privilege.
/// Adds findings, `plan`, `calls` and `least_privilege` to the report; header
/// and claim checks are the caller's.
pub fn evaluate(
    report: &mut Report,
    claims: &Claims,
    plan: Option<&Plan>,
    wanted: &[Wanted],
    context: Option<PermContext>,
) {
    evaluate_at(report, claims, plan, wanted, context, None);
}

/// [`evaluate`] for calls sent to `api_host` unless written as full URLs
/// (doctor's `--cloud`, `--region` or `--api-base`).
pub fn evaluate_at(
    report: &mut Report,
    claims: &Claims,
    plan: Option<&Plan>,
    wanted: &[Wanted],
    context: Option<PermContext>,
    api_host: Option<&str>,
) {
    let cls = claims.classify();
    let expected = context.or(plan.and_then(|p| p.context));
    let token_ctx = cls.context.perm_context();
    report
        .findings
        .extend(context_mismatch(expected, token_ctx));
    let clouds = wrong_cloud(&cls, claims.iss.as_deref(), wanted, api_host);
    report
        .findings
        .extend(clouds.iter().map(|m| m.finding.clone()));
    if let Some(p) = plan {
        identity(&mut report.findings, p, claims);
        report.plan = Some(PlanSection::new(p));
    }

    let Judged {
        ctx,
        granted,
        blocker,
    } = judge(claims, &cls, expected);
    let kind = ctx.perm_kind();

    let mut entries = Vec::new();
    for w in wanted {
        let (ev, reason, fix) = match &blocker {
            // The token's own errors say how to fix it.
            Some(why) => {
                let mut ev = privilege::evaluate(w.row, kind, &[]);
                ev.outcome = Outcome::Denied;
                ev.missing_groups = w.row.groups(kind).to_vec();
                (ev, why.clone(), None)
            }
            None => {
                let ev = privilege::evaluate(w.row, kind, &granted);
                let reason = reason(&ev, w.row, ctx);
                let fix = (ev.outcome == Outcome::Denied && !ev.missing_groups.is_empty())
                    .then(|| {
                        format!(
                            "add {} ({} permission of WindowsDefenderATP) to the app registration, grant admin consent, then get a new token: a token keeps the permissions it was issued with",
                            missing_text(&ev.missing_groups),
                            ctx.as_str()
                        )
                    });
                (ev, reason, fix)
            }
        };
        // A call to another cloud's API fails whatever the token holds (a
        // sure mismatch only; the sts.windows.net guess stays a warning).
        let (ev, reason, fix) = match call_host(w, api_host)
            .and_then(|h| clouds.iter().find(|m| m.host == h && m.finding.is_error()))
        {
            Some(m) if blocker.is_none() => {
                let held = match ev.outcome {
                    Outcome::Denied => format!("; and the call {reason}"),
                    _ => format!(" (the permissions would do: {reason})"),
                };
                let mut ev = ev;
                ev.outcome = Outcome::Denied;
                let fix = match fix {
                    Some(f) => format!("{}; and {f}", m.finding.fix),
                    None => m.finding.fix.to_string(),
                };
                (
                    ev,
                    format!("{} does not accept a token from this cloud{held}", m.host),
                    Some(fix),
                )
            }
            _ => (ev, reason, fix),
        };
        report.findings.extend(privilege::call_warnings(w.row, ctx));
        entries.push(CallEntry::checked(
            w.row,
            &w.given,
            ctx.as_str(),
            ev,
            reason,
            w.note.clone(),
            fix,
        ));
    }

    let rows: Vec<&Call> = wanted.iter().map(|w| w.row).collect();
    if ctx == PermContext::Delegated && blocker.is_none() {
        report.findings.push(privilege::user_rbac(&rows));
    }

    let needed = privilege::minimal_holding(&rows, kind, &granted);
    let minimal: Vec<MinimalPermission> = needed
        .iter()
        .map(|n| MinimalPermission::new(n, kind, &rows))
        .collect();
    let (mut unused, mut redundant, mut undecided) = (Vec::new(), Vec::new(), Vec::new());
    // A call with no documented permission may need any of the token's.
    let mut undocumented: Vec<String> = Vec::new();
    for c in rows.iter().filter(|c| c.groups(kind).is_empty()) {
        privilege::push_unique(&mut undocumented, &c.label());
    }
    if blocker.is_none() && !undocumented.is_empty() {
        // The minimal set is needed whatever the undocumented calls need.
        undecided = granted
            .iter()
            .filter(|g| !needed.iter().any(|n| &n.permission == *g))
            .cloned()
            .collect();
    } else if blocker.is_none() {
        let minimal_names: Vec<&str> = needed.iter().map(|n| n.permission.as_str()).collect();
        for g in &granted {
            let accepted = rows
                .iter()
                .any(|c| c.groups(kind).iter().flatten().any(|p| p == g));
            if !accepted {
                unused.push(g.clone());
            } else if !minimal_names.contains(&g.as_str()) {
                redundant.push(g.clone());
            }
        }
    }
    let list = |v: &[&str]| v.join(", ");
    let minimal_text = list(
        &needed
            .iter()
            .map(|n| n.permission.as_str())
            .collect::<Vec<_>>(),
    );
    let (one, where_) = match kind {
        PermKind::Role => ("application permission", "application permissions"),
        PermKind::Scope => ("delegated permission", "delegated permissions"),
    };
    for u in &unused {
        let needs = format!(
            "the token holds {u}, which none of the {} call(s) needs",
            rows.len()
        );
        // A name WindowsDefenderATP does not define (a documentation
        // misspelling, or a permission newer than the catalogue) cannot be
        // removed from the app as such: say what it is instead.
        let (message, fix) = if permissions::get(kind, u).is_some() {
            (needs, remove_fix(u, kind))
        } else {
            (
                format!("{needs} and which is not a WindowsDefenderATP {one} mdeauth knows"),
                format!(
                    "look it up with `mdeauth api --permission {u}` (documentation misspellings map to the real name); if Entra ID issued this token, the permission is newer than mdeauth's catalogue"
                ),
            )
        };
        report
            .findings
            .push(Finding::warning("perm.unused", message, fix));
    }
    let names: Vec<String> = needed.iter().map(|n| n.permission.clone()).collect();
    for r in &redundant {
        let groups = rows.iter().flat_map(|c| c.groups(kind));
        report.findings.push(match privilege::surplus(r, groups, &names) {
            privilege::Surplus::Broader(narrower) => {
                let caveats = permissions::caveats(kind, &narrower);
                let replace = format!("replace the app's {where_} with the minimal set (`mdeauth api --plan ...` lists it with ids)");
                let (but, fix) = if caveats.is_empty() {
                    (String::new(), replace)
                } else {
                    (
                        format!(", but {}", caveats.join("; ")),
                        format!("only if that is all the app needs: {replace}; otherwise keep {r}"),
                    )
                };
                Finding::warning(
                    "perm.not_minimal",
                    format!(
                        "the token holds {r}, which is broader than the calls need: {} is enough (the minimal set is {minimal_text}){but}",
                        narrower.join(", ")
                    ),
                    fix,
                )
            }
            privilege::Surplus::Covered(covering) => {
                let note = privilege::equals_note(rows.iter().copied(), kind, r);
                let remove = remove_fix(r, kind);
                Finding::warning(
                    "perm.redundant",
                    format!(
                        "the token holds {r}, which the calls accept but do not need: {}, in the minimal set, also serves every call that accepts {r}{note}",
                        covering.join(", ")
                    ),
                    if note.is_empty() {
                        remove
                    } else {
                        format!(
                            "if the service turns out to want the permission that matches each action, keep {r} for the actions it covers; otherwise {remove}"
                        )
                    },
                )
            }
        });
    }
    if !undecided.is_empty() {
        report.findings.push(privilege::undecided(
            "perm.undecided",
            "the token",
            &undecided.join(", "),
            ctx,
            &undocumented,
        ));
    }
    report.least_privilege = Some(LeastPrivilege {
        context: ctx.as_str(),
        resource_app_id: permissions::resource_app().app_id.clone(),
        unused,
        redundant,
        undecided,
        minimal,
    });
    report.calls = Some(entries);
}

/// Verify the signature and claims as `verify` does, with the plan's app
/// and tenant for key discovery. Errors are those of key lookup.
fn verify(
    args: &CheckArgs,
    plan: Option<&Plan>,
    token: &Token,
    clock: Clock,
) -> Result<Verification> {
    let resolver = super::verify::resolver(&args.keys, plan.and_then(|p| p.tenant_id.clone()))?;
    // The plan's app and tenant are checked by `identity`.
    validate::verify_token(token, &VerifyOptions::mde_api(clock), &resolver)
}

/// Plan identity against the token: client id and (single-tenant) tenant id.
/// `--context` judges the calls of `--plan`/`--call`: given without them
/// (`token`, `scan`), it would be ignored, so it is refused.
pub fn context_needs_calls(
    context: Option<PermContext>,
    plan: Option<&std::path::Path>,
    calls: &[String],
) -> Result<()> {
    if context.is_some() && plan.is_none() && calls.is_empty() {
        return Err(Error::input(
            "--context is the context the calls of --plan or --call are judged in; without them it would be ignored",
        )
        .with_hint("add --plan FILE or --call 'METHOD PATH', or leave --context out"));
    }
    Ok(())
}

/// The plan's credential against how the token's client signed in
/// (`appidacr` / `azpacr`: 1 a client secret, 2 a certificate or other
/// client assertion, which a federated credential and a managed identity
/// use too). User sign-in flows are not compared: a public client is 0 and a
/// web app signing a user in may use either.
pub fn credential_mismatch(p: &Plan, c: &Claims) -> Option<Finding> {
    use crate::plan::Credential as C;
    // Only an app-only token of the plan's own app says how that app
    // signed in: a user's token, or another app's, is judged elsewhere.
    if c.classify().context != crate::token::Context::Application {
        return None;
    }
    if let (Some(want), Some(got)) = (&p.client_id, c.app_id())
        && !want.eq_ignore_ascii_case(got)
    {
        return None;
    }
    let acr = c.app_acr();
    let (want, said) = match (p.credential, acr) {
        (Some(C::Secret), Some("2")) => (
            "a client secret",
            "a certificate or other client assertion (appidacr/azpacr 2)",
        ),
        (Some(C::Certificate | C::Federated | C::ManagedIdentity), Some("1")) => (
            "a certificate or other client assertion",
            "a client secret (appidacr/azpacr 1)",
        ),
        _ => return None,
    };
    let name = p.credential.map_or("", crate::plan::Credential::as_str);
    let how = match p.credential {
        Some(C::Certificate) => {
            "with the app's certificate: --certificate or AZURE_CLIENT_CERTIFICATE_PATH"
        }
        Some(C::ManagedIdentity) => "from the managed identity: --flow managed-identity",
        Some(C::Federated) => "with the federated credential's assertion",
        _ => "with the client secret",
    };
    Some(Finding::warning(
        "check.credential_mismatch",
        format!(
            "the plan's credential is {name} ({want}), but the token's client signed in with {said}"
        ),
        if acr == Some("1") {
            format!(
                "get the token the way the plan says ({how}), and delete the app's client secrets if nothing else uses them: a secret that can still get tokens is one more to leak"
            )
        } else {
            format!("correct the plan's credential, or get the token {how} as the plan says")
        },
    ))
}

/// The plan's app and tenant against the token's (`check`, `scan --plan`),
/// and its credential against how the token's client signed in.
pub fn identity(out: &mut Vec<Finding>, p: &Plan, c: &Claims) {
    out.extend(credential_mismatch(p, c));
    let (appid, tid) = (c.app_id(), c.tid.as_deref());
    if let Some(want) = &p.client_id {
        match appid {
            Some(got) if got.eq_ignore_ascii_case(want) => {}
            got => out.push(Finding::error(
                "check.client_mismatch",
                format!(
                    "the plan's client_id is {want} but the token was issued to {}",
                    got.unwrap_or("no app (no appid/azp claim)")
                ),
                "get the token with the app the plan describes, or correct client_id in the plan",
            )),
        }
    }
    if let Some(want) = &p.tenant_id {
        match tid {
            Some(got) if got.eq_ignore_ascii_case(want) => {}
            Some(got) if p.multi_tenant => out.push(Finding::info(
                "check.customer_tenant",
                format!("the token is from tenant {got}, not the app's home tenant {want} (the plan says the app serves other tenants)"),
                "",
            )),
            got => out.push(Finding::error(
                "check.tenant_mismatch",
                format!(
                    "the plan's tenant_id is {want} but the token is from {}",
                    got.unwrap_or("no tenant (no tid claim)")
                ),
                format!(
                    "request the token from the plan's tenant (https://login.microsoftonline.com/{want}/oauth2/v2.0/token in the commercial cloud; `mdeauth token --tenant {want}`), or set multi_tenant = true if the app serves other tenants"
                ),
            )),
        }
    }
}

/// How a token's permissions are judged against planned calls: in which
/// context, with which permissions, and why no call can be allowed at all
/// when that is so. Shared by `check` and `scan --plan`.
pub struct Judged {
    pub ctx: PermContext,
    pub granted: Vec<String>,
    /// Why every call fails, whatever it needs.
    pub blocker: Option<String>,
}

/// Judge `claims` for calls meant for the `expected` context (`--context`
/// or the plan's), as `check` does.
pub fn judge(
    claims: &Claims,
    cls: &crate::token::Classification,
    expected: Option<PermContext>,
) -> Judged {
    let token_ctx = cls.context.perm_context();
    // A token no MDE call accepts fails every call for the same reason.
    let blocker = if cls.kind == Kind::Id {
        Some("this is an ID token; MDE accepts only access tokens".to_string())
    } else if cls.resource != ResourceKind::Mde {
        Some(format!(
            "the token's audience ({}) is not the MDE API, which rejects it (401, or 403 in some field reports)",
            claims.audience_text()
        ))
    } else if token_ctx.is_none() {
        Some(if claims.roles.is_empty() {
            "the token carries neither roles nor scp, so MDE answers 403 to every call".to_string()
        } else {
            "the token is a signed-in user's but carries no scp (its roles are the user's, not MDE permissions), so MDE answers 403 to every call".to_string()
        })
    } else if let (Some(e), Some(t)) = (expected, token_ctx)
        && e != t
    {
        // The calls are checked in the context the app is meant to use: a
        // token of the other kind serves none of them (check.context_mismatch).
        Some(format!(
            "this is {}, but the app is meant to work in {} context",
            token_phrase(t),
            e.as_str()
        ))
    } else {
        None
    };
    let ctx = expected.or(token_ctx).unwrap_or(PermContext::Application);
    let granted = claims.granted(ctx);
    let blocker = blocker.or_else(|| {
        granted.is_empty().then(|| {
            "the token carries no roles or scopes (no permission consented), so MDE answers 403 to every call"
                .to_string()
        })
    });
    Judged {
        ctx,
        granted,
        blocker,
    }
}

/// The missing permissions: each group as its one name or "one of A, B",
/// joined with "and".
fn missing_text(groups: &[Vec<String>]) -> String {
    groups
        .iter()
        .map(|g| {
            if g.len() == 1 {
                g[0].clone()
            } else {
                format!("one of {}", g.join(", "))
            }
        })
        .collect::<Vec<_>>()
        .join(" and ")
}

fn reason(ev: &Evaluation, row: &Call, ctx: PermContext) -> String {
    let claim = match ctx {
        PermContext::Application => "roles",
        PermContext::Delegated => "scp",
    };
    match ev.outcome {
        Outcome::Allowed => {
            // Per group the permissions held, any one of which suffices ("or");
            // " + " only between groups, which are all required.
            let groups = row.groups(ctx.perm_kind());
            let many = groups.len() > 1;
            let parts: Vec<String> = groups
                .iter()
                .map(|g| {
                    let held: Vec<&str> = g
                        .iter()
                        .filter(|p| ev.satisfied_by.contains(p))
                        .map(String::as_str)
                        .collect();
                    let s = held.join(" or ");
                    if many && held.len() > 1 {
                        format!("({s})")
                    } else {
                        s
                    }
                })
                .collect();
            format!("allowed by {}", parts.join(" + "))
        }
        Outcome::Undocumented => format!("permissions not documented for {} calls", ctx.as_str()),
        Outcome::Denied => {
            let needs = requirement_text(row.groups(ctx.perm_kind()));
            let missing = missing_text(&ev.missing_groups);
            format!("needs {needs}; {claim} lacks {missing}")
        }
    }
}
