//! `mdeauth doctor`: run the onboarding as one ordered checklist.
//!
//! Exit codes: 0 every step passed (warnings allowed), 1 a step failed,
//! 2 bad input (unreadable plan, unknown call, bad flag), 3 the network or an
//! endpoint failed during acquisition, discovery or the probe; that failure
//! is also shown as a failed step.

use std::time::Duration;

use crate::applint::{self, AppRegistration, AppSection, Grants, PermissionTable};
use crate::catalog::Call;
use crate::checks;
use crate::cli::{DoctorArgs, Flow, TokenCmdArgs};
use crate::cloud;
use crate::doctor::{self, ChainInput, DoctorSection, StepStatus};
use crate::error::{Error, Result, exit};
use crate::finding::{Finding, Severity};
use crate::http::{Http, HttpOptions};
use crate::input;
use crate::mdeapi::{self, Answer};
use crate::permissions::PermContext;
use crate::plan::{self, Plan};
use crate::report::style::Style;
use crate::report::{self, Format, Report, TokenSection, Verdict};
use crate::resource::ResourceKind;
use crate::token::{Context, Token};
use crate::validate::{self, SignatureStatus, VerifyOptions};

use super::check::{self, Wanted};

pub fn execute(args: &DoctorArgs, format: Format, style: &Style) -> Result<u8> {
    let (report, code) = run(args)?;
    crate::write_stdout(&report::render(&report, format, style))?;
    Ok(code)
}

fn nonempty(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn token_given(args: &DoctorArgs) -> bool {
    args.input.token.is_some()
        || args.input.token_file.is_some()
        || crate::text::env_given("MDEAUTH_TOKEN")
}

pub fn run(args: &DoctorArgs) -> Result<(Report, u8)> {
    let clock = super::clock(&args.time)?;
    super::probe::check_timeout(args.timeout)?;
    // Standard input carries one thing: the token (-) or a secret.
    let stdin_secret = [
        (
            args.credentials.client_secret_stdin,
            "--client-secret-stdin",
        ),
        (args.credentials.password_stdin, "--password-stdin"),
    ]
    .into_iter()
    .find_map(|(on, flag)| on.then_some(flag));
    if let (Some(flag), Some("-")) = (stdin_secret, args.input.token.as_deref()) {
        return Err(Error::input(format!(
            "the token (-) and {flag} both read standard input"
        ))
        .with_hint(
            "give the token as a file (--token-file) or the secret with --client-secret-file / --password-file",
        ));
    }
    if let Some(a) = &args.authority_host {
        crate::http::check_base_url(a, "--authority-host")?;
    }
    if let Some(b) = &args.host.api_base {
        crate::http::check_base_url(b, "--api-base")?;
    }
    let api_cloud = cloud::by_name(args.host.api_cloud.as_deref().unwrap_or("public"))?;
    let mut d = DoctorSection::default();
    let mut report = Report::new("doctor", clock.now);
    let mut env_failure = false;

    // ---- 1. configuration
    let plan = args.plan.as_deref().map(Plan::load).transpose()?;
    let wanted = check::wanted(plan.as_ref(), &args.calls)?;
    // Checked as `token` checks them ({GUID} as PowerShell prints it means
    // the GUID); a value that is neither a GUID nor a domain is bad input.
    let tenant = nonempty(&args.tenant)
        .map(|t| crate::consent::check_tenant(&t))
        .transpose()?
        .or_else(|| plan.as_ref().and_then(|p| p.tenant_id.clone()));
    let client_id = nonempty(&args.client_id)
        .map(|c| crate::consent::check_client_id(&c))
        .transpose()?
        .or_else(|| plan.as_ref().and_then(|p| p.client_id.clone()));
    // The tenant the token's tid must be: a domain name (or common) cannot
    // be compared with tid offline, so then the plan's GUID, if it has one.
    let tenant_id = tenant
        .clone()
        .filter(|t| crate::guid::is_guid(t))
        .or_else(|| {
            plan.as_ref()
                .and_then(|p| p.tenant_id.clone())
                .filter(|t| crate::guid::is_guid(t))
        });
    let context = args.context.or(plan.as_ref().and_then(|p| p.context));
    let given = token_given(args);
    let acquire = acquisition(
        args.flow,
        plan.as_ref(),
        context,
        tenant.is_some(),
        client_id.is_some(),
    )
    .and_then(|flow| match flow {
        // The client-credentials grant needs a credential: said in the
        // checklist, as a missing tenant is.
        Flow::ClientCredentials if !super::token::credential_given(&args.credentials) => Err(
            "no client credential: set AZURE_CLIENT_SECRET, pass --client-secret-file PATH or --client-secret-stdin, or give a certificate with --certificate / AZURE_CLIENT_CERTIFICATE_PATH",
        ),
        flow => Ok(flow),
    });
    {
        let mut bits = Vec::new();
        match &plan {
            Some(p) => bits.push(format!("plan \"{}\"", p.name)),
            None if !args.calls.is_empty() => bits.push("--call".to_string()),
            None => {}
        }
        bits.push(format!("{} call(s)", wanted.len()));
        if let Some(c) = context {
            bits.push(format!("{} context", c.as_str()));
        }
        bits.push(format!("tenant {}", tenant.as_deref().unwrap_or("not set")));
        bits.push(format!(
            "client id {}",
            client_id.as_deref().unwrap_or("not set")
        ));
        let mut problems = Vec::new();
        if wanted.is_empty() {
            problems.push("no calls: give --plan FILE or --call \"METHOD PATH\"");
        }
        if let (false, Err(why)) = (given, acquire) {
            problems.push(why);
        }
        if problems.is_empty() {
            d.push("configuration", StepStatus::Pass, bits.join(", "));
        } else {
            d.push(
                "configuration",
                StepStatus::Fail,
                format!("{}; {}", bits.join(", "), problems.join("; ")),
            );
            for p in &problems {
                report.findings.push(Finding::error(
                    "doctor.configuration",
                    p.split(':').next().unwrap_or(p).to_string(),
                    p.split_once(": ").map(|x| x.1).unwrap_or(""),
                ));
            }
        }
    }

    // ---- 2. token
    let mut token: Option<Token> = None;
    match (given, acquire) {
        (true, _) => {
            let t = super::load_token(&args.input)?;
            d.push(
                "token",
                StepStatus::Pass,
                format!("given ({}, from {})", t.fingerprint(), t.compact.found_in),
            );
            token = Some(t);
        }
        (false, Err(why)) => {
            d.push(
                "token",
                StepStatus::Skip,
                why.split(':').next().unwrap_or(why),
            );
        }
        (false, Ok(flow)) => {
            let targs = token_args(args, flow, tenant.clone(), client_id.clone(), api_cloud);
            match super::token::run(&targs) {
                Ok((rep, Some(raw))) => {
                    let compact = input::normalize(raw.as_bytes())?;
                    let t = Token::decode(compact)?;
                    let via = rep
                        .findings
                        .iter()
                        .find(|f| f.code == "token.flow")
                        .map(|f| f.message.to_string())
                        .unwrap_or_else(|| "acquired".to_string());
                    d.push(
                        "token",
                        StepStatus::Pass,
                        format!("acquired ({}), {via}", t.fingerprint()),
                    );
                    // What the grant itself warns about; the token's own
                    // checks come with the decode step.
                    report.findings.extend(rep.findings.into_iter().filter(|f| {
                        f.code == "token.managed_identity_cache" || f.code == "token.password_grant"
                    }));
                    token = Some(t);
                }
                Ok((rep, None)) => {
                    let why = rep
                        .findings
                        .iter()
                        .find(|f| f.is_error() && f.code != "token.refused")
                        .or_else(|| rep.findings.iter().find(|f| f.is_error()))
                        .map(|f| f.message.to_string())
                        .unwrap_or_else(|| "Azure AD refused the request".to_string());
                    d.push("token", StepStatus::Fail, why);
                    report.findings.extend(rep.findings);
                    report.errors = rep.errors;
                    report.consent = rep.consent;
                }
                Err(e @ Error::Environment { .. }) => {
                    env_failure = true;
                    d.push_unreachable("token", e.to_string());
                    report.findings.push(Finding::warning(
                        "doctor.unreachable",
                        format!("no token, and so nothing after it was checked: {e}"),
                        e.hint().unwrap_or("check the network and retry"),
                    ));
                }
                // A secret file that cannot be read, a secret flag on a
                // terminal: bad input, as `token` says it (exit 2).
                Err(e @ Error::Input { .. }) => return Err(e),
            }
        }
    }

    // ---- 3. decode
    let claims = match &token {
        None => {
            d.push("decode", StepStatus::Skip, "no token");
            None
        }
        Some(t) => match t.require_claims() {
            Err(e) => {
                d.push("decode", StepStatus::Fail, e.one_line());
                report.findings.push(Finding::error(
                    "doctor.decode",
                    e.to_string(),
                    e.hint().unwrap_or(""),
                ));
                None
            }
            Ok(c) => {
                let cls = c.classify();
                let found: Vec<Finding> = checks::header(&t.header)
                    .into_iter()
                    .chain(checks::claims(&t.header, c, &cls, clock))
                    .collect();
                let errors: Vec<&Finding> = found.iter().filter(|f| f.is_error()).collect();
                let sec = TokenSection::new(t, c, clock);
                let mut what = format!(
                    "v{} {} token for {}",
                    sec.version,
                    match cls.context {
                        Context::Application => "app-only",
                        Context::Delegated => "delegated",
                        Context::None => "permission-less",
                    },
                    if cls.resource == ResourceKind::Mde {
                        "the MDE API".to_string()
                    } else {
                        format!("audience {}", c.audience_text())
                    }
                );
                if let Some(p) = sec.expiry_phrase(clock.now) {
                    what.push_str(&format!(", {p}"));
                }
                let status = if !errors.is_empty() {
                    what.push_str(&format!(
                        "; {}",
                        errors.iter().map(|f| f.code).collect::<Vec<_>>().join(", ")
                    ));
                    StepStatus::Fail
                } else if found.iter().any(|f| f.severity == Severity::Warning) {
                    StepStatus::Warn
                } else {
                    StepStatus::Pass
                };
                d.push("decode", status, what);
                report.findings.extend(found);
                report.token = Some(sec);
                Some(c)
            }
        },
    };

    // ---- 4. signature
    match (&token, claims) {
        (_, None) => d.push("signature", StepStatus::Skip, "no decoded token"),
        _ if args.no_verify => d.push("signature", StepStatus::Skip, "--no-verify"),
        (Some(t), Some(_)) => match verify(args, t, tenant_id.clone(), clock) {
            Ok(v) => {
                let ok =
                    v.signature.status == SignatureStatus::Valid && !v.signature.nonce_transformed;
                let src = v.signature.key_source.as_deref().unwrap_or("the key set");
                let key = v
                    .signature
                    .kid
                    .as_deref()
                    .map_or_else(|| "its key".to_string(), |k| format!("key {k}"));
                let detail = match v.signature.status {
                    SignatureStatus::Valid if v.signature.nonce_transformed => format!(
                        "verifies only under Graph's header-nonce rule ({key} from {src}): not an MDE API token"
                    ),
                    SignatureStatus::Valid => format!("valid ({key} from {src})"),
                    SignatureStatus::Invalid => {
                        format!("invalid: it does not verify with {key} from {src}")
                    }
                    SignatureStatus::KeyNotFound => format!("{key} is not in {src}"),
                    SignatureStatus::NotChecked => "not checked".to_string(),
                };
                d.push(
                    "signature",
                    if ok {
                        StepStatus::Pass
                    } else {
                        StepStatus::Fail
                    },
                    detail,
                );
                for f in v.findings {
                    if !report
                        .findings
                        .iter()
                        .any(|g| g.code == f.code && g.message == f.message)
                    {
                        report.findings.push(f);
                    }
                }
                report.signature = Some(v.signature);
            }
            // The keys are out of reach: said as check and scan say it.
            Err(e @ Error::Environment { .. }) => {
                env_failure = true;
                d.push_unreachable("signature", e.one_line());
                report.findings.push(checks::signature_unverified(&e));
            }
            Err(e) => {
                d.push("signature", StepStatus::Fail, e.one_line());
                report.findings.push(Finding::error(
                    "doctor.signature",
                    format!("the signature could not be checked: {e}"),
                    e.hint().unwrap_or("retry, or pass --jwks / --offline"),
                ));
            }
        },
        (None, Some(_)) => unreachable!("claims come from the token"),
    }

    // ---- 5. identity
    let token_ctx = claims.and_then(|c| c.classify().context.perm_context());
    match claims {
        None => d.push("identity", StepStatus::Skip, "no decoded token"),
        Some(c) => {
            let mut bad = Vec::new();
            let mut notes = vec![];
            let cls = c.classify();
            if cls.resource == ResourceKind::Mde {
                notes.push("audience MDE".to_string());
            } else {
                let aud = c.audience_text();
                bad.push(format!("audience {aud} is not the MDE API"));
                report.findings.push(Finding::error(
                    "doctor.audience",
                    format!("the token's audience ({aud}) is not the MDE API"),
                    format!(
                        "request the token for scope {}",
                        crate::consent::mde_scope()
                    ),
                ));
            }
            let multi = plan.as_ref().is_some_and(|p| p.multi_tenant);
            let mut unchecked = false;
            match (&tenant_id, c.tid.as_deref()) {
                (Some(want), Some(got)) if want.eq_ignore_ascii_case(got) => {
                    notes.push("tenant as planned".into())
                }
                (Some(want), got) if !(multi && got.is_some()) => {
                    bad.push(format!(
                        "tenant {} instead of {want}",
                        got.unwrap_or("missing")
                    ));
                    report.findings.push(Finding::error(
                        "doctor.tenant_mismatch",
                        format!(
                            "the token is from tenant {} but the plan's tenant is {want}",
                            got.unwrap_or("(none)")
                        ),
                        format!(
                            "request the token from https://{}/{want}/...",
                            api_cloud.login_host
                        ),
                    ));
                }
                // A multi-tenant app's token comes from its customer's tenant.
                (Some(_), got) => notes.push(format!("tenant {}", got.unwrap_or("missing"))),
                (None, got) => {
                    if let Some(t) = tenant.as_deref().filter(|_| !multi) {
                        // A domain or common: the token's tid is not checked.
                        unchecked = true;
                        notes.push(format!(
                            "tenant {} not checked against {t}",
                            got.unwrap_or("missing")
                        ));
                        report.findings.push(Finding::warning(
                            "doctor.tenant_unchecked",
                            format!(
                                "the tenant is given as {t}, which cannot be compared with the token's tid (a GUID), so the token's tenant was not checked"
                            ),
                            "give the tenant as its Directory (tenant) ID, a GUID (in the plan's tenant_id, --tenant or AZURE_TENANT_ID)",
                        ));
                    }
                }
            }
            match (&client_id, c.app_id()) {
                (Some(want), Some(got)) if want.eq_ignore_ascii_case(got) => {
                    notes.push("app as planned".into())
                }
                (Some(want), got) => {
                    bad.push(format!(
                        "app {} instead of {want}",
                        got.unwrap_or("missing")
                    ));
                    report.findings.push(Finding::error(
                        "doctor.app_mismatch",
                        format!(
                            "the token was issued to app {} but the plan's client id is {want}",
                            got.unwrap_or("(none)")
                        ),
                        "get the token with the planned app, or correct the client id",
                    ));
                }
                _ => {}
            }
            if let (Some(e), Some(t)) = (context, token_ctx)
                && e != t
            {
                bad.push(format!("{} token for a {} plan", t.as_str(), e.as_str()));
            }
            // How the app signed in, against the plan's credential.
            let credential = plan.as_ref().and_then(|p| check::credential_mismatch(p, c));
            let warned = credential.is_some();
            if warned {
                notes.push("signed in otherwise than the plan's credential".into());
            }
            report.findings.extend(credential);
            if bad.is_empty() {
                let status = if unchecked || warned {
                    StepStatus::Warn
                } else {
                    StepStatus::Pass
                };
                d.push("identity", status, notes.join(", "));
            } else {
                d.push("identity", StepStatus::Fail, bad.join("; "));
            }
        }
    }

    // ---- 6. permissions
    // The plan's context (or --context) first, as check judges: a token of the
    // other kind serves none of the calls, and the chain shows what they need.
    let ctx = context.or(token_ctx).unwrap_or(PermContext::Application);
    let rows: Vec<&'static Call> = wanted.iter().map(|w| w.row).collect();
    // Calls that go to another cloud's API (`call.wrong_cloud`, an error):
    // no permission along the chain makes them work, so the chain says so.
    let mut wrong_cloud: Vec<(String, String)> = Vec::new();
    match claims {
        _ if wanted.is_empty() => d.push("permissions", StepStatus::Skip, "no calls planned"),
        None => {
            let shown: Vec<String> = wanted
                .iter()
                .map(|w| crate::report::calls::CallEntry::shown_call(&w.given))
                .collect();
            d.push(
                "permissions",
                StepStatus::Skip,
                format!(
                    "no decoded token: {} planned call(s) not checked ({})",
                    shown.len(),
                    shown.join(", ")
                ),
            );
            report.plan = plan.as_ref().map(crate::report::calls::PlanSection::new);
            // Each planned call is still listed (JSON, human, JUnit), not
            // checked, so a CI system sees the same calls whatever failed.
            report.calls = Some(
                wanted
                    .iter()
                    .map(|w| {
                        crate::report::calls::CallEntry::not_checked(
                            w.row,
                            &w.given,
                            ctx,
                            "not checked: no decoded token",
                        )
                    })
                    .collect(),
            );
        }
        Some(c) => {
            // Identity was checked above; the plan copy without ids keeps
            // `check` from reporting it twice.
            let anon = plan.as_ref().map(|p| Plan {
                tenant_id: None,
                client_id: None,
                credential: None,
                ..p.clone()
            });
            let mut tmp = Report::new("doctor", clock.now);
            // The API host the probe would use: --cloud, --region or
            // --api-base, else the token's own cloud.
            let base = mdeapi::base_url(&args.host.options(), c.classify().cloud).ok();
            let api_host = base.as_deref().and_then(crate::cloud::url_host);
            check::evaluate_at(
                &mut tmp,
                c,
                anon.as_ref(),
                &wanted,
                args.context,
                api_host.as_deref(),
            );
            let denied: Vec<String> = tmp
                .calls
                .iter()
                .flatten()
                .filter(|e| e.denied())
                .map(|e| e.label())
                .collect();
            let total = tmp.calls.as_ref().map_or(0, Vec::len);
            let mut status = if !denied.is_empty() {
                StepStatus::Fail
            } else if tmp.findings.iter().any(|f| f.severity == Severity::Warning) {
                StepStatus::Warn
            } else {
                StepStatus::Pass
            };
            if tmp.findings.iter().any(Finding::is_error) {
                status = StepStatus::Fail;
            }
            let errors: Vec<&str> = tmp
                .findings
                .iter()
                .filter(|f| f.is_error())
                .map(|f| f.code)
                .collect();
            let detail = if denied.is_empty() && !errors.is_empty() {
                format!(
                    "all {total} call(s) allowed by the token's permissions, but: {}",
                    errors.join(", ")
                )
            } else if denied.is_empty() {
                format!("all {total} call(s) allowed by the token")
            } else {
                let also = if errors.is_empty() {
                    String::new()
                } else {
                    format!("; errors: {}", errors.join(", "))
                };
                format!(
                    "{} of {total} call(s) not allowed: {}{also}",
                    denied.len(),
                    denied.join(", ")
                )
            };
            d.push("permissions", status, detail);
            wrong_cloud = check::calls_to_another_cloud(c, &wanted, api_host.as_deref());
            report.findings.extend(tmp.findings);
            report.calls = tmp.calls;
            report.least_privilege = tmp.least_privilege;
            report.plan = plan.as_ref().map(crate::report::calls::PlanSection::new);
        }
    }

    // ---- 7. app registration
    let mut loaded: Option<(AppRegistration, PermissionTable, Option<Grants>)> = None;
    match &args.app {
        None => d.push("app", StepStatus::Skip, "no --app MANIFEST.json given"),
        Some(_) if wanted.is_empty() => d.push("app", StepStatus::Skip, "no calls planned"),
        Some(path) => {
            let app =
                AppRegistration::parse(&super::app::read_json(path)?, &path.display().to_string())?;
            let table = match &args.sp {
                Some(p) => PermissionTable::from_service_principal(
                    &super::app::read_json(p)?,
                    &p.display().to_string(),
                )?,
                None => PermissionTable::built_in(),
            };
            let grants = match &args.grants {
                Some(p) => Some(Grants::parse(
                    &super::app::read_json(p)?,
                    &p.display().to_string(),
                )?),
                None => None,
            };
            let mut intent = plan::lint_intent(
                &rows,
                ctx,
                plan.as_ref()
                    .and_then(|p| p.credential)
                    .and_then(plan::Credential::lint_credential),
                plan.as_ref().map(|p| p.multi_tenant),
                &app.requested_names(&table, ctx.perm_kind()),
            );
            intent.tenant = plan.as_ref().and_then(|p| p.tenant_id.clone());
            let out = applint::lint(
                &app,
                &intent,
                &table,
                grants.as_ref(),
                clock.now,
                args.expiry_days,
                api_cloud,
            );
            let errors = out.findings.iter().filter(|f| f.is_error()).count();
            let warnings = out
                .findings
                .iter()
                .filter(|f| f.severity == Severity::Warning)
                .count();
            let mut detail = format!(
                "{} ({}): {errors} error(s), {warnings} warning(s)",
                app.display_name.as_deref().unwrap_or("app"),
                app.app_id
            );
            let mut fail = errors > 0;
            if let Some(want) = &client_id
                && !want.eq_ignore_ascii_case(&app.app_id)
            {
                fail = true;
                detail.push_str(&format!("; its appId is not the client id {want}"));
                report.findings.push(Finding::error(
                    "doctor.app_not_planned",
                    format!(
                        "the manifest is for app {} but the client id is {want}",
                        app.app_id
                    ),
                    "export the manifest of the app the plan uses",
                ));
            }
            d.push(
                "app",
                if fail {
                    StepStatus::Fail
                } else if warnings > 0 {
                    StepStatus::Warn
                } else {
                    StepStatus::Pass
                },
                detail,
            );
            report.app = Some(AppSection::new(
                &app,
                "manifest",
                &intent,
                &table,
                out.permissions,
                clock.now,
                args.expiry_days,
            ));
            report.findings.extend(out.findings);
            loaded = Some((app, table, grants));
        }
    }

    // ---- the chain: only when something along it is known
    if !wanted.is_empty() && (claims.is_some() || loaded.is_some()) {
        let held: Option<Vec<String>> = claims.map(|c| c.granted(ctx));
        let built_in = PermissionTable::built_in();
        let (app, table, grants) = match &loaded {
            Some((a, t, g)) => (Some(a), t, g.as_ref()),
            None => (None, &built_in, None),
        };
        d.chain = doctor::chain(&ChainInput {
            rows: &rows,
            ctx,
            token: held.as_deref(),
            app,
            table,
            grants,
        });
        for row in d.chain.iter_mut().filter(|r| r.breaks.is_none()) {
            if let Some((_, host)) = wrong_cloud.iter().find(|(call, _)| *call == row.call) {
                row.breaks = Some(format!(
                    "sent to {host}, another cloud's API (see call.wrong_cloud)"
                ));
            }
        }
        // The consent is for the planned tenant, else the token's; but a
        // multi-tenant (partner) app is consented in its customer's tenant,
        // the one the token comes from. The app is the planned one, else
        // the registration's.
        let token_tid = claims.and_then(|c| c.tid.as_deref());
        let multi = plan.as_ref().is_some_and(|p| p.multi_tenant)
            || app.is_some_and(|a| a.is_multi_tenant());
        let consent_tenant = match (tenant.as_deref(), token_tid) {
            (Some(_), Some(customer)) if multi => Some(customer),
            (planned, token) => planned.or(token),
        };
        let consent_client = client_id.as_deref().or(app.map(|a| a.app_id.as_str()));
        // A token of the other context carries none of the plan's
        // permissions: the context is the cause, not consent.
        let context_wrong = report
            .findings
            .iter()
            .any(|f| f.code == "check.context_mismatch");
        report.findings.extend(
            doctor::chain_findings(
                &d.chain,
                consent_client,
                consent_tenant,
                app.is_some_and(|a| !a.is_multi_tenant()),
                api_cloud,
            )
            .into_iter()
            .filter(|f| !(context_wrong && f.code == "doctor.not_in_token")),
        );
    }

    // ---- 8. probe
    // A token that is not the MDE API's, or whose signature or identity
    // failed, is not sent to the API: its answer would say nothing new.
    let blocked = ["decode", "signature", "identity"]
        .into_iter()
        .find(|step| d.has_failed(step));
    match (&token, claims, blocked) {
        _ if !args.probe => d.push("probe", StepStatus::Skip, "pass --probe to call the API"),
        (_, _, Some(step)) => d.push(
            "probe",
            StepStatus::Skip,
            format!("the {step} step failed: the token is not sent to the API until it passes"),
        ),
        (Some(t), Some(c), None) => {
            let (st, detail, env) = probe_calls(args, &wanted, t, c, clock, &mut d, &mut report)?;
            env_failure |= env != ProbeEnv::None;
            if env == ProbeEnv::Only {
                d.push_unreachable("probe", detail);
            } else {
                d.push("probe", st, detail);
            }
        }
        _ => d.push("probe", StepStatus::Skip, "no decoded token"),
    }

    let failed = d.failed();
    let unreachable_only = d.failed_unreachable_only();
    // Nothing to check, or no way to get a token: how doctor was called is
    // wrong (exit 2), though the checklist is still reported.
    let misconfigured = d.has_failed("configuration");
    report.doctor = Some(d);
    let mut report = report.finish();
    if failed {
        // Nothing checked failed, but not everything could be checked.
        report.verdict = if unreachable_only {
            Verdict::Unverified
        } else {
            Verdict::Fail
        };
    }
    // A step that failed on what it checked decides (exit 1, as the verdict
    // says), even when another could not reach a service.
    let code = if misconfigured {
        exit::USAGE
    } else if failed && !unreachable_only {
        exit::FAIL
    } else if env_failure || failed {
        exit::ENVIRONMENT
    } else {
        exit::PASS
    };
    // --strict: a checklist with a warning step, or a warning that names a
    // defect, fails (exit 1), also beside a service out of reach.
    if args.strict {
        let warned = report
            .doctor
            .as_ref()
            .is_some_and(|d| d.steps.iter().any(|s| s.status == StepStatus::Warn));
        report = report.strict(true);
        if warned {
            report.verdict = Verdict::Fail;
        }
        if report.verdict == Verdict::Fail && code != exit::USAGE {
            return Ok((report, exit::FAIL));
        }
    }
    Ok((report, code))
}

/// How doctor gets a token when none is given: `--flow`, else the managed
/// identity for a plan whose credential is one, else client credentials.
/// A delegated app's token must be a user's, and doctor does not start an
/// interactive sign-in unasked. `Err` is the configuration problem
/// ("what is wrong: what to do") when it cannot get one.
fn acquisition(
    flow: Option<Flow>,
    plan: Option<&Plan>,
    context: Option<PermContext>,
    tenant: bool,
    client_id: bool,
) -> std::result::Result<Flow, &'static str> {
    let flow = match (flow, plan.and_then(|p| p.credential), context) {
        (Some(f), _, _) => f,
        (None, Some(plan::Credential::ManagedIdentity), _) => Flow::ManagedIdentity,
        (None, _, Some(PermContext::Delegated)) => {
            return Err(
                "no token given, and a delegated app needs a signed-in user's token: give one (e.g. `mdeauth token --flow device-code --plan FILE --print-token | mdeauth doctor --plan FILE -`), or let doctor sign in with --flow device-code or --flow password",
            );
        }
        (None, _, _) => Flow::ClientCredentials,
    };
    match flow {
        Flow::ManagedIdentity => Ok(flow),
        Flow::DeviceCode if !client_id => Err(
            "no token given, and without a client id none can be acquired with the device-code flow: set client_id in the plan, or pass --client-id or AZURE_CLIENT_ID",
        ),
        Flow::ClientCredentials | Flow::Password if !tenant || !client_id => Err(
            "no token given, and without a tenant and client id none can be acquired: set them in the plan, with --tenant/--client-id or AZURE_TENANT_ID/AZURE_CLIENT_ID",
        ),
        _ => Ok(flow),
    }
}

/// The `token` command's arguments for the acquisition step.
fn token_args(
    args: &DoctorArgs,
    flow: Flow,
    tenant: Option<String>,
    client_id: Option<String>,
    cloud: &cloud::Cloud,
) -> TokenCmdArgs {
    TokenCmdArgs {
        flow,
        tenant,
        client_id,
        mi_object_id: None,
        mi_resource_id: None,
        authority_host: args.authority_host.clone(),
        cloud: cloud.name.to_string(),
        scope: None,
        resource: None,
        v1: false,
        credentials: args.credentials.clone(),
        print_token: false,
        timeout: args.timeout,
        time: args.time.clone(),
        plan: None,
        calls: Vec::new(),
        context: None,
    }
}

/// `tenant`: the tenant id (a GUID) discovery reads keys for.
fn verify(
    args: &DoctorArgs,
    token: &Token,
    tenant: Option<String>,
    clock: checks::Clock,
) -> Result<validate::Verification> {
    if let Some(j) = args.jwks.as_deref().filter(|j| j.contains("://")) {
        crate::http::check_url(j)?;
    }
    // The same key provider `verify` builds; the authority host serves both
    // the token request and discovery, so --jwks may come with it here.
    let keys = crate::cli::KeyArgs {
        jwks: args.jwks.clone(),
        cloud: args.host.api_cloud.clone(),
        authority_host: args.authority_host.clone(),
        app_keys: None,
        timeout: args.timeout,
        offline: args.offline,
        cache_dir: args.cache_dir.clone(),
    };
    let resolver = super::verify::resolver(&keys, tenant)?;
    // Tenant and app are the identity step's; verify only the signature
    // and the standard claims here, so nothing is reported twice.
    validate::verify_token(token, &VerifyOptions::mde_api(clock), &resolver)
}

/// The fix for a 403 to a call that needs one of `required` when the chain
/// (built from the app registration) shows the registration requests one
/// of them: where the chain breaks after that. `None` when no app was
/// given, or the registration requests none of them.
fn requested_fix(chain: &[doctor::ChainRow], required: &[String]) -> Option<String> {
    let row = chain
        .iter()
        .find(|r| r.requested == Some(true) && required.contains(&r.permission))?;
    if row.in_token == Some(true) {
        // The token holds it: the probe's own fix (features, roles) stands.
        return None;
    }
    let next = match (row.granted, row.in_token) {
        (Some(false), _) => {
            "grant admin consent (doctor.not_granted gives the link), then get a new token"
        }
        (Some(true), Some(false)) => {
            "get a new token: it was issued before the consent (doctor.not_in_token)"
        }
        _ => {
            "check that admin consent was granted in this tenant, then get a new token: a token keeps the permissions it was issued with"
        }
    };
    Some(format!(
        "the app registration already requests {}; {next}",
        row.permission
    ))
}

/// `--probe`: one bounded read per planned GET call without placeholders.
fn probe_calls(
    args: &DoctorArgs,
    wanted: &[Wanted],
    token: &Token,
    claims: &crate::token::Claims,
    clock: checks::Clock,
    d: &mut DoctorSection,
    report: &mut Report,
) -> Result<(StepStatus, String, ProbeEnv)> {
    let http = Http::new(HttpOptions {
        timeout: Duration::from_secs(args.timeout),
        ..HttpOptions::default()
    })?;
    let host = args.host.options();
    let base = mdeapi::base_url(&host, claims.classify().cloud)?;
    // Refused: the API said no (4xx). Failed: no usable answer (5xx, a
    // body that is not the API's, no response in time).
    let (mut ok, mut refused, mut failed, mut skipped) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut env = false;
    // Verified against Azure AD's own published keys: not a key set the
    // user gave (--jwks) or a stand-in authority (--authority-host).
    let verified = d.ok("signature") && args.jwks.is_none() && args.authority_host.is_none();
    for w in wanted {
        let call = match mdeapi::parse_call(&w.given) {
            Ok(c) if c.is_read() => c,
            Ok(_) => {
                skipped.push(format!("{} (not a GET)", w.row.label()));
                continue;
            }
            Err(_) => {
                skipped.push(format!("{} (placeholder)", w.row.label()));
                continue;
            }
        };
        let url = mdeapi::url(&call, &base)?;
        match mdeapi::probe(&http, &call, &url, token, clock, None, verified) {
            Ok(p) => {
                match p.answer {
                    Answer::Ok => ok.push(call.label()),
                    Answer::Refused => refused.push(format!(
                        "{} → {}",
                        call.label(),
                        p.section.status.unwrap_or(0)
                    )),
                    Answer::ServerError => {
                        env = true;
                        failed.push(format!(
                            "{} → {}",
                            call.label(),
                            p.section.status.unwrap_or(0)
                        ));
                    }
                }
                let mut findings = p.findings;
                // The registration already asks for the permission: the fix
                // is the chain's (consent, or a newer token), not adding it.
                if let Some(fix) = requested_fix(&d.chain, &p.section.required_roles) {
                    for f in findings.iter_mut().filter(|f| f.code == "probe.forbidden") {
                        f.fix = fix.as_str().into();
                    }
                }
                report.findings.extend(findings);
                d.probes.push(p.section);
            }
            Err(e) => {
                failed.push(format!("{} → {}", call.label(), e.one_line()));
                d.probes
                    .push(mdeapi::ProbeSection::unanswered(&call, &url, token));
                // No answer: said as `probe` says it.
                report
                    .findings
                    .push(if matches!(e, Error::Environment { .. }) {
                        env = true;
                        mdeapi::no_answer(&call, &e)
                    } else {
                        Finding::error(
                            "doctor.probe",
                            format!("{}: {e}", call.label()),
                            e.hint().unwrap_or(""),
                        )
                    });
            }
        }
    }
    let mut parts = Vec::new();
    if !ok.is_empty() {
        parts.push(format!("answered: {}", ok.join(", ")));
    }
    if !refused.is_empty() {
        parts.push(format!("refused: {}", refused.join(", ")));
    }
    if !failed.is_empty() {
        parts.push(format!("failed: {}", failed.join(", ")));
    }
    if !skipped.is_empty() {
        parts.push(format!("not probed: {}", skipped.join(", ")));
    }
    // Calls not probed (writes without --allow-write, paths with a
    // placeholder) are so by design: the detail names them, and the step
    // passes on the answers it got.
    let status = if !refused.is_empty() || !failed.is_empty() {
        StepStatus::Fail
    } else if ok.is_empty() {
        StepStatus::Skip
    } else {
        StepStatus::Pass
    };
    let env = match (env, refused.is_empty()) {
        (false, _) => ProbeEnv::None,
        (true, true) => ProbeEnv::Only,
        (true, false) => ProbeEnv::Some,
    };
    Ok((status, parts.join("; "), env))
}

/// Whether the probe step met a service out of reach (a 5xx, a timeout, no
/// connection): not at all, for some calls while the API refused others,
/// or for every call that did not answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ProbeEnv {
    None,
    Some,
    Only,
}
