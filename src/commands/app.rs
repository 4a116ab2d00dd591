//! `mdeauth app`: lint an app registration (a manifest file, or live from
//! Microsoft Graph) against the WindowsDefenderATP permissions the plan needs.

use std::path::Path;

use serde_json::Value;

use crate::applint::{
    self, AppRegistration, AppSection, Credential, Grants, Intent, PermissionTable, PlannedCall,
};
use crate::catalog::Call;
use crate::cli::{AppArgs, CredentialArg};
use crate::error::{Error, Result};
use crate::finding::Finding;
use crate::graph::{self, Graph};
use crate::http::{Http, HttpOptions};
use crate::permissions::{PermContext, PermKind};
use crate::plan::{Credential as PlanCredential, Plan};
use crate::privilege;
use crate::report::Report;
use crate::report::calls::PlanSection;
use crate::timefmt;

/// What the lint reads, from files or from Graph.
struct Loaded {
    app: AppRegistration,
    table: PermissionTable,
    grants: Option<Grants>,
    source: &'static str,
    /// Observations about the environment made while loading (live mode).
    notes: Vec<Finding>,
}

pub fn run(args: &AppArgs) -> Result<Report> {
    let at = args.at.as_deref().map(timefmt::parse_at).transpose()?;
    let now = timefmt::now_or(at);
    if !(0..=3650).contains(&args.expiry_days) {
        return Err(Error::input(format!(
            "--expiry-days {} is out of range",
            args.expiry_days
        ))
        .with_hint("give a number of days between 0 and 3650 (default 30)"));
    }
    let plan = args.plan.as_deref().map(Plan::load).transpose()?;
    let wanted = super::check::wanted(plan.as_ref(), &args.calls)?;
    let context = match args.context.or(plan.as_ref().and_then(|p| p.context)) {
        Some(c) => c,
        None => {
            return Err(Error::input("the kind of token the app uses is not given")
                .with_hint(if plan.is_some() {
                    "add context = \"application\" or \"delegated\" to the plan, or pass --context"
                } else {
                    "pass --context application or --context delegated"
                }));
        }
    };
    let credential = match args.credential {
        Some(c) => Some((credential_of(c), "--credential")),
        None => plan
            .as_ref()
            .and_then(|p| p.credential)
            .and_then(PlanCredential::lint_credential)
            .map(|c| (c, "the plan's credential")),
    };
    check_context(context, credential)?;
    let credential = credential.map(|(c, _)| c);
    let cloud = crate::cloud::by_name(args.cloud.as_deref().unwrap_or("public"))?;

    let loaded = match &args.app_id {
        Some(id) => live(args, id, cloud)?,
        None => {
            for (given, flag) in [
                (args.graph_token_file.is_some(), "--graph-token-file"),
                (args.graph_endpoint.is_some(), "--graph-endpoint"),
            ] {
                if given {
                    return Err(Error::input(format!(
                        "{flag} is for live mode and needs --app-id"
                    ))
                    .with_hint("give --app-id GUID instead of a manifest file, or drop the flag"));
                }
            }
            let path = args.manifest.as_deref().ok_or_else(|| {
                Error::input("give an app registration file (MANIFEST) or --app-id for live mode")
            })?;
            offline(args, path)?
        }
    };
    let multi_tenant = args.multi_tenant || plan.as_ref().is_some_and(|p| p.multi_tenant);
    let mut notes = Vec::new();
    let mut intent = if wanted.is_empty() {
        intent(args, context, credential, &loaded.table)?
    } else {
        let rows: Vec<&'static Call> = wanted.iter().map(|w| w.row).collect();
        for row in &rows {
            notes.extend(privilege::call_warnings(row, context));
        }
        // A call listed twice warns once.
        crate::finding::dedupe(&mut notes);
        let held = loaded
            .app
            .requested_names(&loaded.table, context.perm_kind());
        crate::plan::lint_intent(&rows, context, credential, Some(multi_tenant), &held)
    };
    intent.tenant = plan.as_ref().and_then(|p| p.tenant_id.clone());
    if let Some(want) = plan.as_ref().and_then(|p| p.client_id.as_deref())
        && !want.eq_ignore_ascii_case(&loaded.app.app_id)
    {
        notes.push(Finding::error(
            "app.client_mismatch",
            format!(
                "the plan's client_id is {want} but the app registration's appId is {}",
                loaded.app.app_id
            ),
            "lint the app registration the plan describes, or correct client_id in the plan",
        ));
    }
    let out = applint::lint(
        &loaded.app,
        &intent,
        &loaded.table,
        loaded.grants.as_ref(),
        now,
        args.expiry_days,
        cloud,
    );
    let mut report = Report::new("app", now);
    report.app = Some(AppSection::new(
        &loaded.app,
        loaded.source,
        &intent,
        &loaded.table,
        out.permissions,
        now,
        args.expiry_days,
    ));
    report.findings = loaded.notes;
    report.findings.extend(crate::consent::no_mde_api(cloud));
    report.findings.extend(notes);
    report.findings.extend(out.findings);
    report.plan = plan.as_ref().map(PlanSection::new);
    Ok(report.finish().strict(args.strict))
}

fn credential_of(c: CredentialArg) -> Credential {
    match c {
        CredentialArg::Secret => Credential::Secret,
        CredentialArg::Certificate => Credential::Certificate,
        CredentialArg::User => Credential::UserPassword,
        CredentialArg::DeviceCode => Credential::DeviceCode,
        CredentialArg::ManagedIdentity => Credential::ManagedIdentity,
        CredentialArg::Interactive => Credential::Interactive,
        CredentialArg::Federated => Credential::Federated,
    }
}

/// `credential` is the credential and where it came from (`--credential`, the plan).
fn check_context(context: PermContext, credential: Option<(Credential, &str)>) -> Result<()> {
    match credential {
        Some((c, from)) if context == PermContext::Application && c.is_user_flow() => Err(Error::input(
            format!(
                "{from} {} signs a user in and yields delegated tokens, not application ones",
                c.as_str()
            ),
        )
        .with_hint("use --context delegated, or a secret, certificate or managed identity for app-only access")),
        Some((Credential::ManagedIdentity, from)) if context == PermContext::Delegated => {
            Err(Error::input(format!(
                "{from} managed-identity yields app-only tokens, not delegated ones"
            ))
            .with_hint("use --context application"))
        }
        _ => Ok(()),
    }
}

/// Build the intent from `--permission` flags: each one a call of its own.
fn intent(
    args: &AppArgs,
    context: PermContext,
    credential: Option<Credential>,
    table: &PermissionTable,
) -> Result<Intent> {
    let want = context.perm_kind();
    let mut names: Vec<String> = Vec::new();
    for raw in &args.permissions {
        let name = permission_name(raw.trim(), want, context, table)?;
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let multi_tenant = args.multi_tenant.then_some(true);
    Ok(Intent {
        context,
        calls: names
            .iter()
            .map(|n| PlannedCall {
                label: format!("--permission {n}"),
                requirements: vec![vec![n.clone()]],
                row: None,
            })
            .collect(),
        minimal: names,
        multi_tenant,
        credential,
        interactive_consent: multi_tenant == Some(true)
            || credential == Some(Credential::Interactive),
        tenant: None,
    })
}

/// The canonical name of a `--permission` value, or an error that says what to give instead.
fn permission_name(
    raw: &str,
    want: PermKind,
    context: PermContext,
    table: &PermissionTable,
) -> Result<String> {
    if raw.trim().is_empty() {
        return Err(Error::input("--permission is empty").with_hint(
            "give a WindowsDefenderATP permission name as the API docs write it, e.g. Machine.Read.All",
        ));
    }
    // A legacy portal role (secop, readonly) is an app role only users can
    // hold: no app can request it, in either context.
    if let Some(e) = table
        .by_name_ignore_case(raw, PermKind::Role)
        .filter(|e| e.user_only)
    {
        return Err(Error::input(format!(
            "--permission {} is an app role only users can hold, not an application permission: no app can be granted it",
            e.name
        ))
        .with_hint(
            "give the permissions the calls need (`mdeauth api \"METHOD /api/...\"` lists them)",
        ));
    }
    if let Some(e) = table.by_name_ignore_case(raw, want) {
        return Ok(e.name.clone());
    }
    if let Some(e) = table.by_name_ignore_case(raw, want.other()) {
        let alternatives: Vec<String> = table
            .counterparts(&e.name, e.kind)
            .iter()
            .map(|c| c.name.clone())
            .collect();
        let hint = if alternatives.is_empty() {
            format!("use --context {}", context.other().as_str())
        } else {
            format!(
                "in {} context use {} (or --context {})",
                context.as_str(),
                alternatives.join(" or "),
                context.other().as_str()
            )
        };
        return Err(Error::input(format!(
            "--permission {} is {}, but --context is {}",
            e.name,
            e.kind.with_article(),
            context.as_str()
        ))
        .with_hint(hint));
    }
    // The documentation's misspellings (Alerts.ReadWrite.All) name the
    // permission tokens carry; a real name of the other kind was refused
    // above.
    if let Some(e) = crate::catalog::doc_spelling(raw)
        .filter(|s| s.context == context.as_str())
        .and_then(|s| table.by_name(&s.actual, want))
    {
        return Ok(e.name.clone());
    }
    // Names it starts, else the nearest by edit distance (a typo), as `api`.
    let lower = raw.to_ascii_lowercase();
    // Never a name this function refuses (the users-only portal roles).
    let of_kind = || {
        table
            .entries
            .iter()
            .filter(|e| e.kind == want && !e.user_only)
    };
    let mut near: Vec<&str> = of_kind()
        .filter(|e| e.name.to_ascii_lowercase().starts_with(&lower))
        .map(|e| e.name.as_str())
        .collect();
    if near.is_empty() {
        let mut by_distance: Vec<(usize, &str)> = of_kind()
            .map(|e| {
                let d = crate::catalog::levenshtein(&e.name.to_ascii_lowercase(), &lower);
                (d, e.name.as_str())
            })
            .filter(|(d, _)| *d <= 3)
            .collect();
        by_distance.sort();
        near = by_distance.into_iter().take(3).map(|(_, n)| n).collect();
    }
    let hint = if near.is_empty() {
        "give a WindowsDefenderATP permission name as the API docs write it, e.g. Machine.Read.All"
            .to_string()
    } else {
        format!("did you mean {}?", near.join(" or "))
    };
    Err(Error::input(format!(
        "--permission \"{}\" is not a WindowsDefenderATP {}",
        crate::error::Snippet(raw),
        want.describe()
    ))
    .with_hint(hint))
}

fn offline(args: &AppArgs, path: &Path) -> Result<Loaded> {
    let what = path.display().to_string();
    let app = AppRegistration::parse(&read_json(path)?, &what)?;
    let table = match &args.sp {
        Some(p) => {
            PermissionTable::from_service_principal(&read_json(p)?, &p.display().to_string())?
        }
        None => PermissionTable::built_in(),
    };
    let grants = match &args.grants {
        Some(p) => Some(Grants::parse(&read_json(p)?, &p.display().to_string())?),
        None => None,
    };
    Ok(Loaded {
        app,
        table,
        grants,
        source: "manifest",
        notes: Vec::new(),
    })
}

/// Read a JSON file: UTF-8, with the byte-order mark the portal writes or
/// without, or UTF-16 (`az ad app show > app.json` in Windows PowerShell).
pub(crate) fn read_json(path: &Path) -> Result<Value> {
    let text = crate::text::read_file(path).map_err(|e| {
        let shown = crate::input::shown_path(path);
        Error::reading(&e, format!("cannot read {shown}: {e}"), None)
    })?;
    if text.trim().is_empty() {
        return Err(Error::input(format!("{} is empty", path.display())).with_hint(
            "save the JSON again (az ad app show --id <appId> > app.json, or the portal's Manifest page)",
        ));
    }
    serde_json::from_str(&text).map_err(|e| {
        Error::input(format!("{} is not valid JSON ({e})", path.display()))
            .with_hint("give the JSON as exported, unedited")
    })
}

fn graph_token(args: &AppArgs) -> Result<String> {
    if let Some(p) = &args.graph_token_file {
        let raw = crate::text::read_file(p).map_err(|e| {
            Error::reading(
                &e,
                format!(
                    "cannot read the Graph token file {}: {e}",
                    crate::input::shown_path(p)
                ),
                None,
            )
        })?;
        return graph::normalize_token(&raw, &format!("--graph-token-file {}", p.display()));
    }
    match crate::text::env_text("MDEAUTH_GRAPH_TOKEN")? {
        Some(v) if !v.trim().is_empty() => graph::normalize_token(&v, "MDEAUTH_GRAPH_TOKEN"),
        _ => Err(Error::input("live mode (--app-id) needs a Microsoft Graph token")
            .with_hint("pass --graph-token-file PATH or set MDEAUTH_GRAPH_TOKEN (az account get-access-token --resource-type ms-graph --query accessToken -o tsv)")),
    }
}

fn live(args: &AppArgs, app_id: &str, cloud: &crate::cloud::Cloud) -> Result<Loaded> {
    if !crate::guid::is_guid(app_id) {
        return Err(Error::input(format!(
            "--app-id \"{}\" is not a GUID",
            crate::error::Snippet(app_id)
        ))
        .with_hint("give the Application (client) ID from the app's Overview page"));
    }
    let app_id = crate::guid::bare(app_id).to_ascii_lowercase();
    let token = graph_token(args)?;
    let endpoint = match (&args.graph_endpoint, cloud.graph()) {
        (Some(e), _) => e.clone(),
        (None, Some(g)) => g.to_string(),
        (None, None) => {
            return Err(Error::input(format!(
                "no Microsoft Graph endpoint is known for cloud {}",
                cloud.name
            ))
            .with_hint("give it with --graph-endpoint URL"));
        }
    };
    if !(1..=300).contains(&args.timeout) {
        return Err(
            Error::input(format!("--timeout {} is out of range", args.timeout))
                .with_hint("give seconds between 1 and 300 (default 10)"),
        );
    }
    let opts = HttpOptions {
        timeout: std::time::Duration::from_secs(args.timeout),
        ..HttpOptions::default()
    };
    let g = Graph::new(Http::new(opts)?, &endpoint, token)?;

    let doc = g.application(&app_id)?;
    let app =
        AppRegistration::parse(&doc, "the application from Microsoft Graph").map_err(|e| {
            Error::environment(format!(
                "Microsoft Graph returned an unusable application: {e}"
            ))
        })?;
    let mut notes = Vec::new();
    let table = match g.mde_service_principal()? {
        Some(sp) => PermissionTable::from_service_principal(
            &sp,
            "the WindowsDefenderATP service principal from Microsoft Graph",
        )
        .map_err(|e| Error::environment(e.to_string()))?,
        None => {
            notes.push(Finding::warning(
                "app.mde_not_provisioned",
                "WindowsDefenderATP has no service principal in this tenant: MDE is not provisioned here (token requests fail with AADSTS500011); permission names come from the built-in table",
                "check that the tenant has Microsoft Defender for Endpoint and that the Graph token is for the right tenant",
            ));
            PermissionTable::built_in()
        }
    };
    let mut grants = Grants::default();
    match g.service_principal(&app_id)? {
        Some(sp) => {
            let Some(sp_id) = sp.get("id").and_then(Value::as_str) else {
                return Err(Error::environment(
                    "Microsoft Graph returned a service principal without an \"id\"",
                ));
            };
            let what = "a Microsoft Graph grant";
            for item in g.app_role_assignments(sp_id)? {
                grants
                    .add_item(&item, what)
                    .map_err(|e| Error::environment(e.to_string()))?;
            }
            for item in g.oauth2_permission_grants(sp_id)? {
                grants
                    .add_item(&item, what)
                    .map_err(|e| Error::environment(e.to_string()))?;
            }
        }
        None => notes.push(Finding::info(
            "app.no_service_principal",
            "the app has no service principal in this tenant: nobody has consented to it here, so nothing is granted",
            format!("az ad app permission admin-consent --id {app_id}   # creates it and grants the configured permissions"),
        )),
    }
    Ok(Loaded {
        app,
        table,
        grants: Some(grants),
        source: "graph",
        notes,
    })
}
