//! `doctor`: the onboarding as one ordered checklist, and the permission
//! chain intended → requested → granted → in the token.
//!
//! The step order is fixed ([`STEPS`]); a step whose prerequisite failed is
//! recorded as skipped with the reason. The command module runs the steps;
//! this module holds the types and the pure parts (intent, chain).

use serde::Serialize;

use crate::applint::{AppRegistration, Grants, PermissionTable};
use crate::catalog::Call;
use crate::consent;
use crate::finding::Finding;
use crate::permissions::{PermContext, PermKind};
use crate::privilege;

/// The steps, in order.
pub const STEPS: [&str; 8] = [
    "configuration",
    "token",
    "decode",
    "signature",
    "identity",
    "permissions",
    "app",
    "probe",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    Pass,
    Fail,
    Warn,
    Skip,
}

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub name: &'static str,
    pub status: StepStatus,
    pub detail: String,
    /// A failed step that could not run because a service was out of reach
    /// (exit 3), not because of what it checks; `true` only then.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unreachable: bool,
}

/// One permission of one planned call along the chain. `None` = not known
/// (no manifest, no grants file).
#[derive(Debug, Clone, Serialize)]
pub struct ChainRow {
    pub call: String,
    pub permission: String,
    pub intended: bool,
    pub requested: Option<bool>,
    pub granted: Option<bool>,
    pub in_token: Option<bool>,
    /// Where the chain breaks and what to do, e.g. `grant admin consent`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breaks: Option<String>,
}

/// The `doctor` section of the JSON report.
#[derive(Debug, Clone, Serialize, Default)]
pub struct DoctorSection {
    pub steps: Vec<Step>,
    pub chain: Vec<ChainRow>,
    /// One entry per API call made by `--probe`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub probes: Vec<crate::mdeapi::ProbeSection>,
}

impl DoctorSection {
    pub fn push(&mut self, name: &'static str, status: StepStatus, detail: impl Into<String>) {
        self.steps.push(Step {
            name,
            status,
            detail: detail.into(),
            unreachable: false,
        });
    }

    /// A step that failed because a service could not be reached.
    pub fn push_unreachable(&mut self, name: &'static str, detail: impl Into<String>) {
        self.push(name, StepStatus::Fail, detail);
        if let Some(s) = self.steps.last_mut() {
            s.unreachable = true;
        }
    }

    pub fn failed(&self) -> bool {
        self.steps.iter().any(|s| s.status == StepStatus::Fail)
    }

    /// True when steps failed and every one of them only because a service
    /// was out of reach: nothing that was checked failed.
    pub fn failed_unreachable_only(&self) -> bool {
        self.failed()
            && self
                .steps
                .iter()
                .filter(|s| s.status == StepStatus::Fail)
                .all(|s| s.unreachable)
    }

    /// True when the named step ran and failed.
    pub fn has_failed(&self, name: &str) -> bool {
        self.steps
            .iter()
            .any(|s| s.name == name && s.status == StepStatus::Fail)
    }

    /// True when the named step ran and did not fail.
    pub fn ok(&self, name: &str) -> bool {
        self.steps
            .iter()
            .any(|s| s.name == name && matches!(s.status, StepStatus::Pass | StepStatus::Warn))
    }
}

/// What the chain is built from.
pub struct ChainInput<'a> {
    pub rows: &'a [&'static Call],
    pub ctx: PermContext,
    /// The token's roles (application) or scopes (delegated), when decoded.
    pub token: Option<&'a [String]>,
    pub app: Option<&'a AppRegistration>,
    pub table: &'a PermissionTable,
    pub grants: Option<&'a Grants>,
}

/// One row per planned call and requirement group. The permission shown is
/// the group member the token holds, else the one the app requests, else the
/// member of the minimal set.
pub fn chain(i: &ChainInput) -> Vec<ChainRow> {
    let kind = i.ctx.perm_kind();
    let minimal: Vec<String> = privilege::minimal_holding(i.rows, kind, i.token.unwrap_or(&[]))
        .into_iter()
        .map(|n| n.permission)
        .collect();
    let requested = |name: &str| -> Option<bool> {
        let app = i.app?;
        Some(match i.table.by_name(name, kind) {
            Some(e) => app
                .requested
                .iter()
                .any(|r| r.kind == kind && r.guid.eq_ignore_ascii_case(&e.guid)),
            None => false,
        })
    };
    let sp = i.table.sp_object_id.as_deref();
    let granted = |name: &str| -> Option<bool> {
        let g = i.grants?;
        match kind {
            PermKind::Role => Some(
                i.table
                    .by_name(name, kind)
                    .is_some_and(|e| g.has_role(&e.guid, sp)),
            ),
            // Unknown when the export cannot say which grant is WindowsDefenderATP's.
            PermKind::Scope => g.scope_granted(
                name,
                sp,
                i.app.is_some_and(AppRegistration::requests_other_scopes),
            ),
        }
    };
    let in_token = |name: &str| i.token.map(|t| t.iter().any(|x| x == name));
    let mut out = Vec::new();
    for r in i.rows {
        for group in r.groups(kind) {
            let Some(first) = group.first() else { continue };
            let pick = group
                .iter()
                .find(|p| in_token(p) == Some(true))
                .or_else(|| group.iter().find(|p| requested(p) == Some(true)))
                .or_else(|| group.iter().find(|p| minimal.contains(p)))
                .unwrap_or(first);
            let (rq, gr, tk) = (requested(pick), granted(pick), in_token(pick));
            let breaks = if rq == Some(false) {
                Some("add it to the app registration".to_string())
            } else if gr == Some(false) {
                Some("grant admin consent".to_string())
            } else if tk == Some(false) && gr == Some(true) {
                Some("get a new token (it predates the consent)".to_string())
            } else if tk == Some(false) {
                Some("not in the token".to_string())
            } else {
                None
            };
            out.push(ChainRow {
                call: r.label(),
                permission: pick.clone(),
                intended: true,
                requested: rq,
                granted: gr,
                in_token: tk,
                breaks,
            });
        }
    }
    out
}

/// Findings with the exact fix for each kind of break in the chain.
/// `tenant` is the tenant the consent is for (the plan's, or the token's);
/// `single_tenant` is true when the app registration says so (`AzureADMyOrg`),
/// for which the `/common` link fails with AADSTS50194.
pub fn chain_findings(
    rows: &[ChainRow],
    client_id: Option<&str>,
    tenant: Option<&str>,
    single_tenant: bool,
    cloud: &crate::cloud::Cloud,
) -> Vec<Finding> {
    let names = |f: &dyn Fn(&ChainRow) -> bool| {
        let mut v: Vec<String> = Vec::new();
        for r in rows.iter().filter(|r| f(r)) {
            if !v.contains(&r.permission) {
                v.push(r.permission.clone());
            }
        }
        v
    };
    let mut out = Vec::new();
    let consent_how = || {
        let who = consent::granters_sentence();
        let t = tenant
            .and_then(|t| consent::check_tenant(t).ok())
            .filter(|t| t != "common" && t != "organizations");
        match client_id.and_then(|c| consent::check_client_id(c).ok()) {
            Some(id) => {
                let u = consent::urls(&id, t.as_deref(), cloud, None, None);
                // The az CLI grants it on the commercial cloud's sign-in
                // host (GCC included) and needs no redirect URI; the link
                // does, or it fails with AADSTS500113.
                let az = (cloud.login_host == "login.microsoftonline.com")
                    .then(|| format!("az ad app permission admin-consent --id {id}"));
                let caveat = "(it returns to a redirect URI registered on the app: without one it fails with AADSTS500113)";
                let offer = |link: &str| match &az {
                    Some(az) => format!("{who}: {az}, or the link {link} {caveat}"),
                    None => format!("{who}; link: {link} {caveat}"),
                };
                match u.authorize_tenant {
                    Some(link) => offer(&link),
                    None if single_tenant => {
                        let cloud_flag = if cloud.name == "public" {
                            String::new()
                        } else {
                            format!(" --cloud {}", cloud.name)
                        };
                        let get = format!(
                            "the app is single-tenant, so the /common link fails (AADSTS50194): get its tenant's link with `mdeauth consent-url --client-id {id} --tenant <tenant-id>{cloud_flag}`"
                        );
                        match &az {
                            Some(az) => format!("{who}: {az}; or {get}"),
                            None => format!("{who}; {get}"),
                        }
                    }
                    None => offer(&u.authorize_common),
                }
            }
            None => format!(
                "{who}, on the app's API permissions page (`mdeauth consent-url --client-id ...` prints the link)"
            ),
        }
    };
    // Missing from the registration: the lint's app.permission_missing carries the az lines.
    let ungranted = names(&|r| r.requested != Some(false) && r.granted == Some(false));
    if !ungranted.is_empty() {
        let consent = consent_how();
        out.push(Finding::error(
            "doctor.not_granted",
            format!(
                "{} {} requested but not granted: nobody gave admin consent",
                ungranted.join(", "),
                if ungranted.len() == 1 { "is" } else { "are" }
            ),
            consent,
        ));
    }
    // Not in the token, grants unknown: without --app nothing says whether
    // the app requests it either, so every step of the way, in order; with
    // --app that requests it, consent or a newer token.
    for (requested, cause, add) in [
        (
            None,
            "not in the token: the app does not request it, nobody consented, or the token predates the consent (--app and --grants tell which)",
            true,
        ),
        (
            Some(true),
            "requested but not in the token: nobody consented, or the token predates the consent (--grants tells which)",
            false,
        ),
    ] {
        let missing = names(&|r| {
            r.in_token == Some(false) && r.granted.is_none() && r.requested == requested
        });
        if missing.is_empty() {
            continue;
        }
        let add = if add {
            format!(
                "add {} to the app's WindowsDefenderATP API permissions if missing; then ",
                missing.join(" and ")
            )
        } else {
            String::new()
        };
        out.push(Finding::error(
            "doctor.not_in_token",
            format!(
                "{} {} {cause}",
                missing.join(", "),
                if missing.len() == 1 { "is" } else { "are" }
            ),
            format!(
                "{add}admin consent: {}; then request a new token for scope {}",
                consent_how(),
                consent::mde_scope()
            ),
        ));
    }
    let stale = names(&|r| r.granted == Some(true) && r.in_token == Some(false));
    if !stale.is_empty() {
        out.push(Finding::error(
            "doctor.not_in_token",
            format!(
                "{} granted but missing from the token: the token was issued before the consent",
                stale.join(", ")
            ),
            format!(
                "request a new token for scope {} (managed identities cache tokens for up to 24 h)",
                consent::mde_scope()
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog;

    fn fixture(rel: &str) -> serde_json::Value {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/apps")
            .join(rel);
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    }

    #[test]
    fn chain_marks_the_first_break() {
        let app = AppRegistration::parse(&fixture("daemon-ok.json"), "daemon-ok").unwrap();
        let grants = Grants::parse(&fixture("grants-both.json"), "grants").unwrap();
        let table = PermissionTable::built_in();
        let rows = [
            catalog::resolve("GET /api/machines").unwrap(),
            catalog::resolve("GET /api/alerts").unwrap(),
            catalog::resolve("POST /api/machines/x/isolate").unwrap(),
        ];
        // Machine.Read.All granted and held; Alert.Read.All granted, not held
        // (token predates consent); Machine.Isolate not even requested.
        let held = vec!["Machine.Read.All".to_string()];
        let c = chain(&ChainInput {
            rows: &rows,
            ctx: PermContext::Application,
            token: Some(&held),
            app: Some(&app),
            table: &table,
            grants: Some(&grants),
        });
        assert_eq!(c.len(), 3);
        assert_eq!(c[0].breaks, None);
        assert_eq!(c[1].permission, "Alert.Read.All");
        assert_eq!(
            c[1].breaks.as_deref(),
            Some("get a new token (it predates the consent)")
        );
        assert_eq!(c[2].permission, "Machine.Isolate");
        assert_eq!(c[2].requested, Some(false));
        assert_eq!(
            c[2].breaks.as_deref(),
            Some("add it to the app registration")
        );
        let f = chain_findings(
            &c,
            Some("3f6a1b2c-9d8e-4f70-a1b2-c3d4e5f60718"),
            None,
            true,
            crate::cloud::by_name("public").unwrap(),
        );
        let codes: Vec<&str> = f.iter().map(|f| f.code).collect();
        assert_eq!(codes, ["doctor.not_in_token"]);
        assert!(f[0].fix.contains(".default"), "{}", f[0].fix);

        // A token holding the broader permission shows that one instead.
        let held = vec!["Machine.ReadWrite.All".to_string()];
        let c = chain(&ChainInput {
            rows: &rows[..1],
            ctx: PermContext::Application,
            token: Some(&held),
            app: None,
            table: &table,
            grants: None,
        });
        assert_eq!(c[0].permission, "Machine.ReadWrite.All");
        assert_eq!(c[0].in_token, Some(true));
        assert_eq!(c[0].requested, None);
    }
}
