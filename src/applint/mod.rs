//! The app-registration lint: compare an app registration (and what has been
//! granted to it) with what the plan needs, and say exactly how to fix it.
//!
//! Independent of the command line: [`lint`] takes an [`AppRegistration`],
//! an [`Intent`], a [`PermissionTable`] and optionally the [`Grants`].

pub mod grants;
pub mod intent;
pub mod manifest;
pub mod table;

use std::collections::BTreeSet;

use serde::Serialize;

use crate::cloud::Cloud;
use crate::finding::Finding;
use crate::permissions::{PermContext, PermKind};
use crate::timefmt::{relative, rfc3339};
pub use grants::Grants;
pub use intent::{Credential, Intent, PlannedCall};
pub use manifest::{AppCredential, AppRegistration, CredKind, RedirectUri, Shape};
pub use table::{Confidence, MDE_APP_ID, PermEntry, PermissionTable, TableSource};

/// Default for `--expiry-days`.
pub const DEFAULT_EXPIRY_DAYS: i64 = 30;

/// One WindowsDefenderATP permission: requested, granted, needed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PermissionRow {
    /// `None` for a GUID no table knows.
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub kind: PermKind,
    pub guid: Option<String>,
    /// Listed in `requiredResourceAccess`.
    pub requested: bool,
    /// Assigned or consented; `None` when no grants were given.
    pub granted: Option<bool>,
    /// The plan needs it (in the plan's context).
    pub needed: bool,
    /// `high`, `medium` (GUID from a single source) or `tenant` (from the service principal).
    pub confidence: Option<Confidence>,
}

/// What [`lint`] returns.
#[derive(Debug, Clone)]
pub struct LintOutput {
    pub findings: Vec<Finding>,
    pub permissions: Vec<PermissionRow>,
}

/// The state of a secret or certificate at the evaluation instant.
pub fn credential_status(c: &AppCredential, now: i64, expiry_days: i64) -> &'static str {
    if c.starts.is_some_and(|s| s > now) && c.expires.is_none_or(|e| e > now) {
        return "not_yet_valid";
    }
    match c.expires {
        None => "unknown",
        Some(e) if e <= now => "expired",
        Some(e) if e <= now + expiry_days * 86_400 => "expiring",
        Some(_) => "valid",
    }
}

struct Resolved<'a> {
    guid: &'a str,
    declared: PermKind,
    /// The permission with this GUID and the declared kind.
    entry: Option<&'a PermEntry>,
    /// The permission this GUID belongs to under the other kind (a hand-edited
    /// manifest that writes a Role GUID with `"type": "Scope"`).
    misdeclared: Option<&'a PermEntry>,
}

/// Run every check. `now` is Unix seconds; `expiry_days` is the warning window for credentials.
pub fn lint(
    app: &AppRegistration,
    intent: &Intent,
    table: &PermissionTable,
    grants: Option<&Grants>,
    now: i64,
    expiry_days: i64,
    cloud: &Cloud,
) -> LintOutput {
    let want = intent.context.perm_kind();
    let fx = Fixes {
        app,
        intent,
        table,
        cloud,
    };
    let mut out = Vec::new();

    let resolved: Vec<Resolved> = app
        .requested
        .iter()
        .map(|r| Resolved {
            guid: &r.guid,
            declared: r.kind,
            entry: table.by_guid(&r.guid, r.kind),
            misdeclared: table.by_guid(&r.guid, r.kind.other()),
        })
        .collect();

    // ---- GUIDs nobody knows
    for r in resolved
        .iter()
        .filter(|r| r.entry.is_none() && r.misdeclared.is_none())
    {
        let (msg, fix) = match table.source {
            TableSource::BuiltIn => (
                format!(
                    "WindowsDefenderATP permission {} ({}) is not in the built-in table",
                    r.guid,
                    r.declared.as_str()
                ),
                format!(
                    "name it with the tenant's own list: az ad sp show --id {MDE_APP_ID} > sp.json, then pass --sp sp.json"
                ),
            ),
            TableSource::ServicePrincipal => (
                format!(
                    "WindowsDefenderATP permission {} ({}) does not exist in this tenant's WindowsDefenderATP service principal",
                    r.guid,
                    r.declared.as_str()
                ),
                fx.remove_it(r.guid, r.declared),
            ),
        };
        out.push(Finding::warning("app.unknown_guid", msg, fix));
    }

    // ---- WindowsDefenderATP permissions listed under another API
    for e in &app.elsewhere {
        let found = match e.kind {
            Some(k) => table.by_guid(&e.guid, k),
            None => table
                .by_guid(&e.guid, PermKind::Role)
                .or_else(|| table.by_guid(&e.guid, PermKind::Scope)),
        };
        let Some(p) = found else { continue };
        let under = crate::resource::lookup(&e.resource_app_id)
            .map_or_else(|| "another API".to_string(), |r| r.name.to_string());
        out.push(Finding::warning(
            "app.permission_wrong_api",
            format!(
                "{} is WindowsDefenderATP's {} ({}), but requiredResourceAccess lists it under {under} ({}), where it grants nothing",
                e.guid,
                p.name,
                p.kind.as_str(),
                e.resource_app_id
            ),
            fx.lines(&[
                format!(
                    "move it under WindowsDefenderATP ({MDE_APP_ID}): az ad app permission delete --id {} --api {} --api-permissions {}",
                    app.app_id, e.resource_app_id, e.guid
                ),
                fx.add(&p.name, p.kind),
                fx.consent_line(),
            ]),
        ));
    }

    if !app.lists_mde || app.requested.is_empty() {
        out.push(Finding::error(
            "app.no_mde_permissions",
            format!(
                "{} requests no WindowsDefenderATP permissions at all, so its tokens for the MDE API carry none",
                fx.app_name()
            ),
            "add the permissions the plan needs (see app.permission_missing), then grant admin consent",
        ));
    }

    // ---- needed but not requested (or requested as the wrong type)
    let needed: Vec<&str> = {
        let mut seen = BTreeSet::new();
        intent.mentioned().filter(|n| seen.insert(*n)).collect()
    };
    let satisfied = |name: &str| {
        resolved
            .iter()
            .any(|r| r.entry.is_some_and(|e| e.kind == want && e.name == name))
    };
    // (permission to add, call labels)
    let mut missing: Vec<(String, Vec<String>)> = Vec::new();
    // (index into resolved, permission to add, call labels)
    let mut wrong: Vec<(usize, String, Vec<String>)> = Vec::new();
    for call in &intent.calls {
        for group in &call.requirements {
            if group.is_empty() || group.iter().any(|n| satisfied(n)) {
                continue;
            }
            let pick = group
                .iter()
                .find(|n| intent.minimal.contains(n))
                .unwrap_or(&group[0])
                .clone();
            let evidence: Vec<usize> = resolved
                .iter()
                .enumerate()
                .filter(|(_, r)| {
                    let misdeclared = r.entry.is_none()
                        && r.misdeclared
                            .is_some_and(|e| e.kind == want && group.contains(&e.name));
                    let counterpart = r.entry.is_some_and(|e| {
                        e.kind != want
                            && group
                                .iter()
                                .any(|n| table.counterparts(n, want).contains(&e))
                    });
                    misdeclared || counterpart
                })
                .map(|(i, _)| i)
                .collect();
            if evidence.is_empty() {
                match missing.iter_mut().find(|(n, _)| *n == pick) {
                    Some((_, labels)) => crate::privilege::push_unique(labels, &call.label),
                    None => missing.push((pick, vec![call.label.clone()])),
                }
            } else {
                for i in evidence {
                    match wrong.iter_mut().find(|(j, _, _)| *j == i) {
                        Some((_, _, labels)) => crate::privilege::push_unique(labels, &call.label),
                        None => wrong.push((i, pick.clone(), vec![call.label.clone()])),
                    }
                }
            }
        }
    }
    for (name, labels) in &missing {
        out.push(Finding::error(
            "app.permission_missing",
            format!(
                "{} {name} is not requested (needed by {})",
                want.describe(),
                labels.join(", ")
            ),
            fx.lines(&[fx.add(name, want), fx.consent_line()]),
        ));
    }
    for (i, pick, labels) in &wrong {
        let r = &resolved[*i];
        let (msg, first) = if let Some(e) = r.entry {
            (
                format!(
                    "{} is requested as {}, but the plan runs in {} context: {}; needed is {} as a {} (by {})",
                    e.name,
                    e.kind.with_article(),
                    intent.context.as_str(),
                    context_rule(intent.context),
                    pick,
                    want.as_str(),
                    labels.join(", ")
                ),
                None,
            )
        } else {
            let e = r.misdeclared.expect("evidence has an entry");
            (
                format!(
                    "requiredResourceAccess lists {} ({}) with type {}, but that GUID is the {} {}; as a {} it grants nothing (needed by {})",
                    r.guid,
                    e.name,
                    r.declared.as_str(),
                    e.kind.describe(),
                    e.name,
                    r.declared.as_str(),
                    labels.join(", ")
                ),
                Some(fx.delete(r.guid, r.declared)),
            )
        };
        let mut lines: Vec<String> = first.into_iter().collect();
        lines.push(fx.add(pick, want));
        lines.push(fx.consent_line());
        if let Some(e) = r.entry {
            // The permission of the other kind serves none of the plan's calls.
            lines.push(format!(
                "{}   # {} ({}) serves no {} call",
                fx.delete(r.guid, r.declared),
                e.name,
                e.kind.as_str(),
                intent.context.as_str()
            ));
        }
        out.push(Finding::error(
            "app.permission_wrong_type",
            msg,
            fx.lines(&lines),
        ));
    }

    // `None`: the export cannot say (delegated grants on several resources,
    // none known to be WindowsDefenderATP's).
    let sp = table.sp_object_id.as_deref();
    let other_scopes = app.requests_other_scopes();
    let is_granted = |g: &Grants, e: &PermEntry| -> Option<bool> {
        match e.kind {
            PermKind::Role => Some(g.has_role(&e.guid, sp)),
            PermKind::Scope => g.scope_granted(&e.name, sp, other_scopes),
        }
    };
    // Removing a request leaves a consented permission in the app's tokens:
    // its grant must go too. `None` when the grants say it is not granted.
    let revoke_too = |e: &PermEntry| -> Option<String> {
        match grants.map(|g| is_granted(g, e)) {
            Some(Some(false)) => None,
            Some(Some(true)) => Some(format!(
                "then revoke its grant, which removing the request leaves in the tokens: {}",
                fx.revoke(e, grants, sp)
            )),
            _ => Some(
                "if it was consented, also revoke the grant (Enterprise applications > the app > Permissions): removing the request leaves it in the tokens".to_string(),
            ),
        }
    };

    // ---- roles only users can hold: requested, they grant the app nothing
    for r in &resolved {
        let Some(e) = r.entry.or(r.misdeclared).filter(|e| e.user_only) else {
            continue;
        };
        out.push(Finding::warning(
            "app.permission_user_only",
            format!(
                "requiredResourceAccess lists {} ({}), a WindowsDefenderATP app role only users can hold (a legacy portal role): no app can be granted it, so it is never in the app's tokens",
                e.name, r.guid
            ),
            fx.remove_it(r.guid, r.declared),
        ));
    }

    // ---- least privilege
    let flagged: BTreeSet<usize> = wrong.iter().map(|(i, _, _)| *i).collect();
    // A planned call with no documented permission for the context may need
    // any requested one: as `check` does, say so instead of "remove it".
    let mut undocumented: Vec<String> = Vec::new();
    for c in intent
        .calls
        .iter()
        .filter(|c| c.row.is_some() && c.requirements.is_empty())
    {
        crate::privilege::push_unique(&mut undocumented, &c.label);
    }
    let mut undecided: Vec<&str> = Vec::new();
    for (i, r) in resolved.iter().enumerate() {
        if flagged.contains(&i) || intent.is_empty() {
            continue;
        }
        let Some(e) = r.entry.or(r.misdeclared) else {
            continue;
        };
        if e.user_only {
            continue;
        }
        if r.entry.is_none() {
            // The same GUID may be listed again with its right type.
            let also_right = app
                .requested
                .iter()
                .any(|o| o.kind == e.kind && o.guid.eq_ignore_ascii_case(r.guid));
            out.push(Finding::warning(
                "app.permission_unneeded",
                if also_right {
                    format!(
                        "requiredResourceAccess lists {} ({}) a second time, with type {}, which grants nothing (its {} entry is the one that counts)",
                        r.guid,
                        e.name,
                        r.declared.as_str(),
                        e.kind.as_str()
                    )
                } else {
                    format!(
                        "requiredResourceAccess lists {} ({}) with type {}, which grants nothing, and the plan does not need {} anyway",
                        r.guid,
                        e.name,
                        r.declared.as_str(),
                        e.name
                    )
                },
                fx.remove_it(r.guid, r.declared),
            ));
        } else if e.kind != want {
            out.push(Finding::warning(
                "app.permission_unneeded",
                format!(
                    "{} is {}, but the plan runs in {} context, where it never reaches the token",
                    e.name,
                    e.kind.with_article(),
                    intent.context.as_str()
                ),
                fx.remove_it(r.guid, r.declared),
            ));
        } else if !undocumented.is_empty() && !intent.minimal.contains(&e.name) {
            if !undecided.contains(&e.name.as_str()) {
                undecided.push(&e.name);
            }
        } else if !needed.contains(&e.name.as_str()) {
            let mut lines = vec![fx.remove_it(r.guid, r.declared)];
            lines.extend(revoke_too(e));
            out.push(Finding::warning(
                "app.permission_unneeded",
                format!(
                    "{} is requested but no planned call needs it (least privilege)",
                    e.name
                ),
                fx.lines(&lines),
            ));
        } else if !intent.minimal.is_empty() && !intent.minimal.contains(&e.name) {
            // Accepted by some call's any-of group, but the minimal set does without it.
            let groups = intent.calls.iter().flat_map(|c| &c.requirements);
            let (msg, instead) = match crate::privilege::surplus(&e.name, groups, &intent.minimal) {
                crate::privilege::Surplus::Broader(narrower) => {
                    let caveats = crate::permissions::caveats(want, &narrower);
                    let but = if caveats.is_empty() {
                        String::new()
                    } else {
                        format!(
                            ", but {}; keep {} if the app needs more than that",
                            caveats.join("; "),
                            e.name
                        )
                    };
                    (
                        format!(
                            "{} is broader than the plan needs (least privilege): {} is enough for the planned calls{but}",
                            e.name,
                            narrower.join(", ")
                        ),
                        narrower,
                    )
                }
                crate::privilege::Surplus::Covered(covering) => (
                    format!(
                        "{} is not needed (least privilege): {}, in the plan's minimal set, also serves every planned call that accepts {}{}",
                        e.name,
                        covering.join(", "),
                        e.name,
                        crate::privilege::equals_note(
                            intent.calls.iter().filter_map(|c| c.row),
                            want,
                            &e.name
                        )
                    ),
                    covering,
                ),
            };
            let mut lines: Vec<String> = instead
                .iter()
                .filter(|n| !satisfied(n))
                .map(|n| fx.add(n, want))
                .collect();
            let consent = !lines.is_empty();
            lines.push(fx.delete(r.guid, r.declared));
            if consent {
                lines.push(fx.consent_line());
            }
            lines.extend(revoke_too(e));
            out.push(Finding::warning(
                "app.permission_unneeded",
                msg,
                fx.lines(&lines),
            ));
        }
    }

    if !undecided.is_empty() {
        out.push(crate::privilege::undecided(
            "app.permission_undecided",
            "the plan",
            &undecided.join(", "),
            intent.context,
            &undocumented,
        ));
    }

    // ---- consent actually granted
    if let Some(g) = grants
        && want == PermKind::Scope
        && g.scope_owner(sp, other_scopes) == grants::ScopeOwner::Unknown
    {
        out.push(Finding::warning(
            "app.grants_unattributed",
            if g.scopes_on_several_resources() {
                "the grants export holds delegated grants for several resources and does not say which is WindowsDefenderATP's, so delegated consent was not checked"
            } else {
                "the grants export holds delegated grants on one resource, with only names Microsoft Graph defines too (such as User.Read.All), and does not say it is WindowsDefenderATP's; the app also requests another API's delegated permissions, so delegated consent was not checked"
            },
            if g.scopes_on_several_resources() {
                "give the WindowsDefenderATP service principal with --sp (az ad sp show --id fc780465-2017-40d4-a0c5-307022471b92 > mde-sp.json), or export only its grants (oauth2PermissionGrants?$filter=resourceId eq '<its object id>')"
            } else {
                "give the WindowsDefenderATP service principal with --sp (az ad sp show --id fc780465-2017-40d4-a0c5-307022471b92 > mde-sp.json): its object id says whose the grants are"
            },
        ));
    }
    if let Some(g) = grants {
        for r in &resolved {
            let Some(e) = r.entry else { continue };
            if e.kind == want
                && needed.contains(&e.name.as_str())
                && is_granted(g, e) == Some(false)
            {
                let how = match e.kind {
                    PermKind::Role => "no app-role assignment (admin consent) exists",
                    PermKind::Scope => "no OAuth2 permission grant (user or admin consent) exists",
                };
                out.push(Finding::error(
                    "app.not_granted",
                    format!(
                        "{} is configured but not granted: {how}, so it is not in the tokens",
                        e.name
                    ),
                    fx.lines(&[fx.consent_line()]),
                ));
            }
        }
    }

    // ---- tenancy, public client, redirect URIs
    // Only personal accounts sign in: no organization's tenant, and so no
    // MDE, can use the app (the multi-tenant check below says so too).
    if app.sign_in_audience == "PersonalMicrosoftAccount" && intent.multi_tenant != Some(true) {
        out.push(Finding::error(
            "app.personal_accounts_only",
            "the app's sign-in audience is PersonalMicrosoftAccount: only personal Microsoft accounts sign in, and Defender for Endpoint serves work or school accounts of an organization's tenant",
            fx.lines(&[format!(
                "az ad app update --id {} --sign-in-audience AzureADMyOrg   # or AzureADMultipleOrgs for an app other tenants use",
                app.app_id
            )]),
        ));
    }
    if intent.multi_tenant == Some(true) && !app.is_multi_tenant() {
        out.push(Finding::error(
            "app.not_multi_tenant",
            format!(
                "the plan serves other tenants, but the app's sign-in audience is {} ({})",
                app.sign_in_audience,
                if app.sign_in_audience == "PersonalMicrosoftAccount" {
                    "personal Microsoft accounts only: no organization's tenant can use it"
                } else {
                    "only its own tenant can use it"
                }
            ),
            fx.lines(&[
                format!(
                    "az ad app update --id {} --sign-in-audience AzureADMultipleOrgs",
                    app.app_id
                ),
                format!(
                    "then an admin of each customer tenant consents: {}",
                    fx.consent_link_common()
                ),
            ]),
        ));
    }
    if let Some(c) = intent.credential
        && c.needs_public_client()
        && !app.public_client
    {
        let flow = match c {
            Credential::DeviceCode => "the device-code flow",
            _ => "the username/password (password grant) flow",
        };
        out.push(Finding::error(
            "app.public_client_off",
            format!(
                "the plan signs users in with {flow}, but \"Allow public client flows\" is off, so the token request fails (AADSTS7000218)"
            ),
            format!(
                "az ad app update --id {} --is-fallback-public-client true",
                app.app_id
            ),
        ));
    }
    if intent.interactive_consent && app.redirect_uris.is_empty() {
        let set = if intent.credential == Some(Credential::Interactive) && app.public_client {
            "--public-client-redirect-uris http://localhost"
        } else {
            "--web-redirect-uris https://<your-app>/signin"
        };
        out.push(Finding::error(
            "app.no_redirect_uri",
            "the plan uses an interactive or consent flow, but the app has no redirect URI, so sign-in and consent stop with AADSTS500113 (no reply address registered)",
            fx.lines(&[
                format!("az ad app update --id {} {set}", app.app_id),
                format!("consent link: {}", fx.consent_link()),
            ]),
        ));
    }

    // ---- credentials
    credentials(&mut out, &fx, now, expiry_days);

    // ---- the permission table
    // Needed: in the minimal set, or in a requirement group the minimal set
    // does not cover (then every member of the group would do).
    let is_needed = |name: &str| {
        intent.minimal.iter().any(|m| m == name)
            || intent.calls.iter().flat_map(|c| &c.requirements).any(|g| {
                g.iter().any(|n| n == name) && !g.iter().any(|n| intent.minimal.contains(n))
            })
    };
    let mut rows: Vec<PermissionRow> = Vec::new();
    for r in &resolved {
        let e = r.entry.or(r.misdeclared);
        rows.push(PermissionRow {
            name: e.map(|e| e.name.clone()),
            kind: r.declared,
            guid: Some(r.guid.to_string()),
            requested: true,
            granted: grants.and_then(|g| r.entry.map_or(Some(false), |e| is_granted(g, e))),
            needed: r.declared == want && r.entry.is_some_and(|e| is_needed(&e.name)),
            confidence: e.map(|e| e.confidence),
        });
    }
    // Not requested but needed: the minimal set, and what each unsatisfied group should get.
    let mut wanted: Vec<&str> = intent.minimal.iter().map(String::as_str).collect();
    for name in missing
        .iter()
        .map(|(n, _)| n)
        .chain(wrong.iter().map(|(_, n, _)| n))
    {
        if !wanted.contains(&name.as_str()) {
            wanted.push(name);
        }
    }
    for name in &wanted {
        if rows
            .iter()
            .any(|row| row.kind == want && row.name.as_deref() == Some(name) && row.requested)
        {
            continue;
        }
        let e = table.by_name(name, want);
        rows.push(PermissionRow {
            name: Some(name.to_string()),
            kind: want,
            guid: e.map(|e| e.guid.clone()),
            requested: false,
            granted: grants.and_then(|g| e.map_or(Some(false), |e| is_granted(g, e))),
            needed: true,
            confidence: e.map(|e| e.confidence),
        });
    }
    if let Some(g) = grants {
        for e in &table.entries {
            let listed = rows
                .iter()
                .any(|row| row.kind == e.kind && row.guid.as_deref() == Some(&e.guid));
            // Delegated grants name scopes only; without the resource id a
            // same-named Microsoft Graph scope could match, so skip those.
            let attributable = e.kind == PermKind::Role || sp.or(g.mde_resource_id()).is_some();
            if !listed && attributable && is_granted(g, e) == Some(true) {
                // In every token, and nothing asks for it: least privilege.
                let fix = fx.revoke(e, Some(g), sp);
                out.push(Finding::warning(
                    "app.granted_not_requested",
                    format!(
                        "{} ({}) is granted to the app but not requested by it: it is in its tokens{}",
                        e.name,
                        e.kind.as_str(),
                        if intent.is_empty() {
                            ""
                        } else {
                            ", and the plan does not need it (least privilege)"
                        }
                    ),
                    fix,
                ));
                rows.push(PermissionRow {
                    name: Some(e.name.clone()),
                    kind: e.kind,
                    guid: Some(e.guid.clone()),
                    requested: false,
                    granted: Some(true),
                    needed: false,
                    confidence: Some(e.confidence),
                });
            }
        }
    }
    LintOutput {
        findings: out,
        permissions: rows,
    }
}

fn context_rule(c: PermContext) -> &'static str {
    match c {
        PermContext::Application => {
            "app-only tokens carry only application permissions (roles claim)"
        }
        PermContext::Delegated => "user tokens carry only delegated permissions (scp claim)",
    }
}

fn credentials(out: &mut Vec<Finding>, fx: &Fixes, now: i64, expiry_days: i64) {
    let app = fx.app;
    let intent = fx.intent;
    // The credentials of a kind that work now (not expired, not before
    // their start).
    let working = move |kind: CredKind| {
        app.credentials.iter().filter(move |c| {
            c.kind == kind && !matches!(credential_status(c, now, 0), "expired" | "not_yet_valid")
        })
    };
    let usable = |kind: CredKind| working(kind).count();
    // Signs in without a secret: the plan says so.
    let secretless = matches!(
        intent.credential,
        Some(Credential::Certificate | Credential::ManagedIdentity | Credential::Federated)
    );
    let id = &app.app_id;
    let uses = |c: Credential| intent.credential == Some(c);
    let daemon = intent.context == PermContext::Application;
    // An expiring secret such a plan has no use for may lapse: not when the
    // plan's certificate is missing or expired (the secret is then what
    // still signs in).
    let lapses = daemon
        && secretless
        && !(uses(Credential::Certificate) && usable(CredKind::Certificate) == 0);
    for c in &app.credentials {
        if let Some(end) = &c.unreadable_end {
            out.push(Finding::warning(
                "app.credential_end_unreadable",
                format!(
                    "the end date {:?} of {} {:?} cannot be read, so whether it has expired is not checked",
                    end,
                    if c.kind == CredKind::Secret { "client secret" } else { "certificate" },
                    c.name
                ),
                "export the manifest again unedited (end dates are RFC 3339, e.g. 2026-09-01T00:00:00Z)",
            ));
        }
        if let (Some(start), "not_yet_valid") = (c.starts, credential_status(c, now, expiry_days)) {
            // Entra ID accepts a credential only from its start date.
            let (what, relied_on, add) = match c.kind {
                CredKind::Secret => (
                    "client secret",
                    uses(Credential::Secret) || (daemon && intent.credential.is_none()),
                    format!(
                        "az ad app credential reset --id {id} --append --display-name mdeauth --years 1   # valid now; prints the secret once: store it in your vault"
                    ),
                ),
                CredKind::Certificate => (
                    "certificate",
                    uses(Credential::Certificate),
                    format!(
                        "az ad app credential reset --id {id} --append --cert @daemon-cert.pem"
                    ),
                ),
            };
            // An expired one of the same kind already says the app has none.
            let expired_too = app
                .credentials
                .iter()
                .any(|o| o.kind == c.kind && o.expires.is_some_and(|e| e <= now));
            let severe = relied_on && usable(c.kind) == 0 && !expired_too;
            let msg = format!(
                "{what} {:?} becomes valid only at {} ({})",
                c.name,
                rfc3339(start),
                relative(start, now)
            );
            out.push(if severe {
                Finding::error(
                    "app.credential_not_yet_valid",
                    format!("{msg}, and the app has no {what} that works before then"),
                    fx.lines(&[add]),
                )
            } else {
                Finding::warning(
                    "app.credential_not_yet_valid",
                    format!("{msg}; until then it cannot be used"),
                    "",
                )
            });
            continue;
        }
        let Some(exp) = c.expires else { continue };
        let when = format!("{} ({})", rfc3339(exp), relative(exp, now));
        // Without --cert, az removes the key id as a password credential.
        let delete = match (&c.key_id, c.kind) {
            (Some(k), CredKind::Secret) => {
                format!("az ad app credential delete --id {id} --key-id {k}")
            }
            (Some(k), _) => format!("az ad app credential delete --id {id} --key-id {k} --cert"),
            (None, _) => format!("remove it in the portal (Certificates & secrets) of app {id}"),
        };
        let status = credential_status(c, now, expiry_days);
        match (c.kind, status) {
            (CredKind::Secret, "expired") => {
                // Only an error when the app is left without a working secret it
                // relies on: a daemon with a working certificate does not.
                let relied_on = uses(Credential::Secret)
                    || (daemon
                        && intent.credential.is_none()
                        && usable(CredKind::Certificate) == 0);
                let sole = usable(CredKind::Secret) == 0;
                let msg = format!("client secret {:?} expired {when}", c.name);
                if relied_on && sole {
                    out.push(Finding::error(
                        "app.secret_expired",
                        format!("{msg}, and the app has no other valid secret (AADSTS7000222)"),
                        fx.lines(&[
                            format!(
                                "az ad app credential reset --id {id} --append --display-name mdeauth-renewed --years 1   # prints the new secret once: store it in your vault"
                            ),
                            delete,
                        ]),
                    ));
                } else {
                    out.push(Finding::warning(
                        "app.secret_expired",
                        format!("{msg}; it no longer works"),
                        fx.lines(&[delete]),
                    ));
                }
            }
            // A daemon the plan signs in without a secret has no use for
            // it (app.secret_unused): not renewed, and no warning, unless
            // the certificate the plan names is not there to sign in with.
            (CredKind::Secret, "expiring") if lapses => out.push(Finding::info(
                "app.secret_expiring",
                format!(
                    "client secret {:?} expires {when}; the plan signs in with {}, so let it lapse rather than renew it",
                    c.name,
                    intent.credential.map_or("", Credential::as_str)
                ),
                fx.lines(&[format!("{delete}   # if nothing else uses it")]),
            )),
            // Likewise a certificate, for a managed identity or a federated
            // credential (neither signs with the app's certificates).
            (CredKind::Certificate, "expiring")
                if daemon
                    && matches!(
                        intent.credential,
                        Some(Credential::ManagedIdentity | Credential::Federated)
                    ) =>
            {
                out.push(Finding::info(
                    "app.certificate_expiring",
                    format!(
                        "certificate {:?} expires {when}; the plan signs in with {}, so let it lapse rather than renew it",
                        c.name,
                        intent.credential.map_or("", Credential::as_str)
                    ),
                    fx.lines(&[format!("{delete}   # if nothing else uses it")]),
                ))
            }
            (CredKind::Secret, "expiring") => out.push(Finding::warning(
                "app.secret_expiring",
                format!(
                    "client secret {:?} expires {when}, within {expiry_days} days",
                    c.name
                ),
                fx.lines(&[
                    format!(
                        "az ad app credential reset --id {id} --append --display-name mdeauth-renewed --years 1   # then switch the app to the new secret"
                    ),
                    delete,
                ]),
            )),
            (CredKind::Certificate, "expired") => {
                let severe = uses(Credential::Certificate) && usable(CredKind::Certificate) == 0;
                let f = if severe {
                    Finding::error
                } else {
                    Finding::warning
                };
                out.push(f(
                    "app.certificate_expired",
                    format!("certificate {:?} expired {when}", c.name),
                    fx.lines(&[
                        format!("az ad app credential reset --id {id} --append --cert @new-cert.pem"),
                        delete,
                    ]),
                ));
            }
            (CredKind::Certificate, "expiring") => out.push(Finding::warning(
                "app.certificate_expiring",
                format!(
                    "certificate {:?} expires {when}, within {expiry_days} days",
                    c.name
                ),
                fx.lines(&[
                    format!(
                        "az ad app credential reset --id {id} --append --cert @new-cert.pem   # then switch the app to sign with the new certificate"
                    ),
                    delete,
                ]),
            )),
            _ => {}
        }
    }
    let has_secrets = app.credentials.iter().any(|c| c.kind == CredKind::Secret);
    if uses(Credential::Secret) && !has_secrets {
        out.push(Finding::error(
            "app.secret_missing",
            "the plan authenticates with a client secret, but the app has none",
            format!(
                "az ad app credential reset --id {id} --append --display-name mdeauth --years 1   # prints the secret once: store it in your vault"
            ),
        ));
    }
    // (Expired certificates are reported above as app.certificate_expired.)
    let has_certs = app
        .credentials
        .iter()
        .any(|c| c.kind == CredKind::Certificate);
    if uses(Credential::Certificate) && !has_certs {
        out.push(Finding::error(
            "app.certificate_missing",
            "the plan authenticates with a certificate, but the app has no certificate",
            format!(
                "upload the public certificate: az ad app credential reset --id {id} --append --cert @daemon-cert.pem"
            ),
        ));
    }
    // A daemon signs in with a credential of its own: none listed is worth
    // saying when the plan does not name one (a federated credential or a
    // managed identity is not in the manifest).
    if daemon && intent.credential.is_none() && app.credentials.is_empty() {
        out.push(Finding::warning(
            "app.no_credential",
            "an app-only daemon needs a credential, and the app has no client secret or certificate; a federated credential or a managed identity would not show here",
            fx.lines(&[
                format!(
                    "az ad app credential reset --id {id} --append --cert @daemon-cert.pem   # or say which credential the daemon uses: --credential"
                ),
            ]),
        ));
    }
    let plain_daemon = daemon && !secretless;
    if plain_daemon && usable(CredKind::Secret) > 0 && usable(CredKind::Certificate) == 0 {
        let mut lines = vec![format!(
            "az ad app credential reset --id {id} --append --cert @daemon-cert.pem   # or --create-cert --keyvault <vault> --cert <name>"
        )];
        lines.extend(
            app.credentials
                .iter()
                .filter(|c| c.kind == CredKind::Secret)
                .filter_map(|c| c.key_id.as_ref())
                .map(|k| format!("az ad app credential delete --id {id} --key-id {k}   # once the daemon uses the certificate")),
        );
        // Named in the plan (or --credential secret), it is a choice the
        // lint advises on, not a defect that fails --strict.
        let msg = "an app-only daemon authenticates with a client secret where a certificate would do; secrets leak and expire quietly";
        out.push(if intent.credential == Some(Credential::Secret) {
            Finding::info("app.secret_instead_of_certificate", msg, fx.lines(&lines))
        } else {
            Finding::warning("app.secret_instead_of_certificate", msg, fx.lines(&lines))
        });
    }
    // A daemon the plan signs in without a secret, whose app still holds
    // working ones: each can get the same tokens (least privilege).
    if daemon && secretless && usable(CredKind::Secret) > 0 {
        let lines: Vec<String> = working(CredKind::Secret)
            .map(|c| match &c.key_id {
                Some(k) => format!(
                    "az ad app credential delete --id {id} --key-id {k}   # if nothing else uses it"
                ),
                None => "delete it in the portal (Certificates & secrets) if nothing else uses it"
                    .to_string(),
            })
            .collect();
        out.push(Finding::warning(
            "app.secret_unused",
            format!(
                "the plan signs in with {}, but the app also holds {} working client secret(s), each of which can get the same tokens",
                intent.credential.map_or("", Credential::as_str),
                usable(CredKind::Secret)
            ),
            fx.lines(&lines),
        ));
    }
}

/// Builds the remediation commands.
struct Fixes<'a> {
    app: &'a AppRegistration,
    intent: &'a Intent,
    table: &'a PermissionTable,
    /// Where the app's tenants sign in: the host of consent links.
    cloud: &'a Cloud,
}

impl Fixes<'_> {
    fn app_name(&self) -> String {
        match &self.app.display_name {
            Some(n) => format!("app {n:?} ({})", self.app.app_id),
            None => format!("app {}", self.app.app_id),
        }
    }

    /// `az ad app permission add ... --api-permissions <guid>=Role|Scope`.
    fn add(&self, name: &str, kind: PermKind) -> String {
        match self.table.by_name(name, kind) {
            Some(e) => {
                let note = if e.confidence == Confidence::Medium {
                    format!(
                        "   # {}: confirm with az ad sp show --id {MDE_APP_ID}",
                        table::SINGLE_SOURCE
                    )
                } else {
                    String::new()
                };
                format!(
                    "az ad app permission add --id {} --api {MDE_APP_ID} --api-permissions {}={}{note}",
                    self.app.app_id,
                    e.guid,
                    kind.as_str()
                )
            }
            None => format!(
                "add {} {name} in the portal (API permissions > APIs my organization uses > WindowsDefenderATP): no GUID is known for it",
                kind.describe()
            ),
        }
    }

    /// Whether `az ad app permission delete` may remove `guid`: it removes
    /// every entry with that GUID, Role and Scope alike, so not where the
    /// app lists it as both, or where the GUID names a role and a scope (as
    /// IntegrationConfiguration.ReadWrite's does): the needed entry would go too.
    fn az_may_delete(&self, guid: &str) -> bool {
        let listed_twice = [PermKind::Role, PermKind::Scope].iter().all(|k| {
            self.app
                .requested
                .iter()
                .any(|r| r.kind == *k && r.guid.eq_ignore_ascii_case(guid))
        });
        let names_both = self.table.by_guid(guid, PermKind::Role).is_some()
            && self.table.by_guid(guid, PermKind::Scope).is_some();
        !(listed_twice || names_both)
    }

    /// The line that removes the `kind` entry of `guid`: the az command, or
    /// where to remove it by hand (see [`Fixes::az_may_delete`]).
    fn delete(&self, guid: &str, kind: PermKind) -> String {
        if !self.az_may_delete(guid) {
            return format!(
                "remove the {} entry of {guid} alone, in the portal (API permissions) or in the manifest's requiredResourceAccess (`az ad app permission delete` removes a GUID's Role and Scope entries alike)",
                kind.as_str()
            );
        }
        format!(
            "az ad app permission delete --id {} --api {MDE_APP_ID} --api-permissions {guid}",
            self.app.app_id
        )
    }

    /// [`Fixes::delete`] as a finding's whole fix: "remove it: " before the
    /// az command.
    fn remove_it(&self, guid: &str, kind: PermKind) -> String {
        let line = self.delete(guid, kind);
        if self.az_may_delete(guid) {
            format!("remove it: {line}")
        } else {
            line
        }
    }

    fn consent_line(&self) -> String {
        // The az CLI refuses admin-consent outside the public cloud ("not
        // yet supported on sovereign clouds"): the link does it there. GCC
        // tenants sign in on the public cloud, where az works.
        let own = if self.cloud.login_host == "login.microsoftonline.com" {
            format!(
                "az ad app permission admin-consent --id {}",
                self.app.app_id
            )
        } else {
            format!(
                "admin consent at {} (az ad app permission admin-consent does not work in {})",
                self.consent_link(),
                self.cloud.display
            )
        };
        if self.intent.multi_tenant == Some(true) {
            format!("{own}   # customer tenants: {}", self.consent_link_common())
        } else {
            own
        }
    }

    /// The tenant-independent admin-consent link (`/common/oauth2/authorize`)
    /// in the app's cloud, as `consent-url` prints it: for other tenants.
    fn consent_link_common(&self) -> String {
        crate::consent::urls(&self.app.app_id, None, self.cloud, None, None).authorize_common
    }

    /// The admin-consent link for the app's own use: `/common` for a
    /// multi-tenant app; a single-tenant one fails there (AADSTS50194), so
    /// its home tenant's link (by its publisher domain), or the command
    /// that prints it.
    fn consent_link(&self) -> String {
        if self.app.is_multi_tenant() || self.intent.multi_tenant == Some(true) {
            return self.consent_link_common();
        }
        let home = self
            .intent
            .tenant
            .as_ref()
            .or(self.app.publisher_domain.as_ref());
        match home {
            Some(d) => crate::consent::urls(&self.app.app_id, Some(d), self.cloud, None, None)
                .authorize_tenant
                .unwrap_or_else(|| self.consent_link_common()),
            None => {
                let cloud = if self.cloud.name == "public" {
                    String::new()
                } else {
                    format!(" --cloud {}", self.cloud.name)
                };
                format!(
                    "`mdeauth consent-url --client-id {} --tenant <tenant-id>{cloud}` (the app is single-tenant: the /common link fails with AADSTS50194)",
                    self.app.app_id
                )
            }
        }
    }

    fn lines(&self, lines: &[String]) -> String {
        lines.join("\n")
    }

    /// How to take a granted permission out of the app's tokens: the
    /// app-role assignment's `az rest` DELETE when the export gives its ids,
    /// else where to revoke it.
    fn revoke(&self, e: &PermEntry, grants: Option<&Grants>, sp: Option<&str>) -> String {
        let assignment = grants
            .and_then(|g| g.role_assignment(&e.guid, sp))
            .filter(|_| e.kind == PermKind::Role);
        match (e.kind, assignment, self.cloud.graph()) {
            (
                _,
                Some(grants::RoleAssignment {
                    id: Some(id),
                    principal_id: Some(principal),
                    ..
                }),
                Some(graph),
            ) => format!(
                "az rest --method DELETE --uri {graph}/v1.0/servicePrincipals/{principal}/appRoleAssignments/{id}"
            ),
            (PermKind::Role, _, _) => "remove the assignment in the portal (Enterprise applications > the app > Permissions), or with az rest --method DELETE on the service principal's appRoleAssignments/<id>".to_string(),
            (PermKind::Scope, _, _) => "revoke it in the portal (Enterprise applications > the app > Permissions)".to_string(),
        }
    }
}

/// The `app` section of the JSON report.
#[derive(Debug, Clone, Serialize)]
pub struct AppSection {
    pub app_id: String,
    pub display_name: Option<String>,
    /// `manifest` (a file) or `graph` (fetched live).
    pub source: &'static str,
    pub shape: Shape,
    pub sign_in_audience: String,
    pub multi_tenant: bool,
    pub public_client: bool,
    pub redirect_uris: Vec<RedirectUri>,
    pub credentials: Vec<CredentialRow>,
    /// The plan's context: `application` or `delegated`.
    pub context: &'static str,
    /// Where permission names came from: `built-in` or `service-principal`.
    pub guid_table: TableSource,
    pub permissions: Vec<PermissionRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CredentialRow {
    #[serde(rename = "type")]
    pub kind: CredKind,
    pub name: String,
    pub key_id: Option<String>,
    pub expires: Option<String>,
    /// Its start date, when the export gives one.
    pub starts: Option<String>,
    /// `valid`, `expiring`, `expired`, `not_yet_valid` or `unknown`.
    pub status: &'static str,
}

impl AppSection {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        app: &AppRegistration,
        source: &'static str,
        intent: &Intent,
        table: &PermissionTable,
        permissions: Vec<PermissionRow>,
        now: i64,
        expiry_days: i64,
    ) -> AppSection {
        AppSection {
            app_id: app.app_id.clone(),
            display_name: app.display_name.clone(),
            source,
            shape: app.shape,
            sign_in_audience: app.sign_in_audience.clone(),
            multi_tenant: app.is_multi_tenant(),
            public_client: app.public_client,
            redirect_uris: app.redirect_uris.clone(),
            credentials: app
                .credentials
                .iter()
                .map(|c| CredentialRow {
                    kind: c.kind,
                    name: c.name.clone(),
                    key_id: c.key_id.clone(),
                    expires: c.expires.map(rfc3339),
                    starts: c.starts.map(rfc3339),
                    status: credential_status(c, now, expiry_days),
                })
                .collect(),
            context: intent.context.as_str(),
            guid_table: table.source,
            permissions,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const APP: &str = "3f6a1b2c-9d8e-4f70-a1b2-c3d4e5f60718";

    fn app(requested: &[(&str, &str)]) -> AppRegistration {
        let access: Vec<_> = requested
            .iter()
            .map(|(id, ty)| json!({"id": id, "type": ty}))
            .collect();
        AppRegistration::parse(
            &json!({"appId": APP, "signInAudience": "AzureADMyOrg",
                    "requiredResourceAccess": [{"resourceAppId": MDE_APP_ID, "resourceAccess": access}]}),
            "test",
        )
        .unwrap()
    }

    /// The lint of `a` against [`machines_intent`], built-in table, no grants.
    fn lint_machines(a: &AppRegistration) -> LintOutput {
        lint(
            a,
            &machines_intent(),
            &PermissionTable::built_in(),
            None,
            0,
            30,
            public(),
        )
    }

    fn public() -> &'static Cloud {
        crate::cloud::by_name("public").unwrap()
    }

    /// An intent as the catalogue builds it: any-of groups and a minimal set.
    fn machines_intent() -> Intent {
        Intent {
            context: PermContext::Application,
            calls: vec![PlannedCall {
                label: "GET /api/machines".to_string(),
                requirements: vec![vec![
                    "Machine.Read.All".to_string(),
                    "Machine.ReadWrite.All".to_string(),
                ]],
                row: None,
            }],
            minimal: vec!["Machine.Read.All".to_string()],
            tenant: None,
            multi_tenant: None,
            credential: Some(Credential::Certificate),
            interactive_consent: false,
        }
    }

    fn codes(out: &LintOutput) -> Vec<&'static str> {
        out.findings.iter().map(|f| f.code).collect()
    }

    #[test]
    fn any_of_group_is_satisfied_by_a_broader_permission_but_flagged() {
        let a = app(&[("aa027352-232b-4ed4-b963-a705fc4d6d2c", "Role")]);
        let out = lint_machines(&a);
        // Not missing (the call works), but broader than the minimal set.
        assert_eq!(
            codes(&out),
            ["app.permission_unneeded", "app.certificate_missing"]
        );
        let f = &out.findings[0];
        assert_eq!(
            &*f.message,
            "Machine.ReadWrite.All is broader than the plan needs (least privilege): Machine.Read.All is enough for the planned calls"
        );
        assert_eq!(
            f.fix.lines().collect::<Vec<_>>(),
            [
                format!(
                    "az ad app permission add --id {APP} --api {MDE_APP_ID} --api-permissions ea8291d3-4b9a-44b5-bc3a-6cea3026dc79=Role"
                ),
                format!(
                    "az ad app permission delete --id {APP} --api {MDE_APP_ID} --api-permissions aa027352-232b-4ed4-b963-a705fc4d6d2c"
                ),
                format!("az ad app permission admin-consent --id {APP}"),
                // Without grants, whether it was consented is not known.
                "if it was consented, also revoke the grant (Enterprise applications > the app > Permissions): removing the request leaves it in the tokens".to_string(),
            ]
        );
        let rows: Vec<(Option<&str>, bool, bool)> = out
            .permissions
            .iter()
            .map(|r| (r.name.as_deref(), r.requested, r.needed))
            .collect();
        assert_eq!(
            rows,
            [
                (Some("Machine.ReadWrite.All"), true, false),
                (Some("Machine.Read.All"), false, true)
            ]
        );
    }

    #[test]
    fn missing_any_of_group_suggests_the_minimal_member_and_names_the_call() {
        let a = app(&[]);
        let out = lint_machines(&a);
        let f = out
            .findings
            .iter()
            .find(|f| f.code == "app.permission_missing")
            .unwrap();
        assert!(f.message.contains("Machine.Read.All"), "{}", f.message);
        assert!(
            f.message.contains("needed by GET /api/machines"),
            "{}",
            f.message
        );
        assert!(codes(&out).contains(&"app.no_mde_permissions"));
    }

    #[test]
    fn mde_guids_under_another_api_are_named() {
        // Machine.Read.All's app-role id under Microsoft Graph and under Defender XDR.
        let mut out_codes = Vec::new();
        for resource in [
            "00000003-0000-0000-c000-000000000000",
            "8ee8fdad-f234-4243-8f3b-15c294843740",
        ] {
            let a = AppRegistration::parse(
                &json!({"appId": APP, "signInAudience": "AzureADMyOrg",
                        "requiredResourceAccess": [{"resourceAppId": resource, "resourceAccess": [
                            {"id": "ea8291d3-4b9a-44b5-bc3a-6cea3026dc79", "type": "Role"}]}]}),
                "test",
            )
            .unwrap();
            let out = lint_machines(&a);
            let f = out
                .findings
                .iter()
                .find(|f| f.code == "app.permission_wrong_api")
                .expect("app.permission_wrong_api");
            assert!(
                f.message
                    .contains("is WindowsDefenderATP's Machine.Read.All (Role)"),
                "{}",
                f.message
            );
            assert!(f.message.contains(resource), "{}", f.message);
            assert!(
                f.fix
                    .contains(&format!("--api {resource} --api-permissions ea8291d3")),
                "{}",
                f.fix
            );
            out_codes.push(codes(&out).contains(&"app.no_mde_permissions"));
        }
        assert_eq!(out_codes, [true, true]);
    }

    #[test]
    fn exact_minimal_permission_passes() {
        let a = app(&[("ea8291d3-4b9a-44b5-bc3a-6cea3026dc79", "Role")]);
        let mut intent = machines_intent();
        intent.credential = Some(Credential::ManagedIdentity);
        let out = lint(
            &a,
            &intent,
            &PermissionTable::built_in(),
            None,
            0,
            30,
            public(),
        );
        assert!(out.findings.is_empty(), "{:?}", out.findings);
        assert_eq!(out.permissions.len(), 1, "{:?}", out.permissions);
        assert!(out.permissions[0].needed && out.permissions[0].requested);
    }
}
