//! Report sections of `check` and `api`: calls, least privilege, plan.

use serde::Serialize;

use crate::catalog::{Call, Spelling, Status};
use crate::permissions::{self, PermKind};
use crate::plan::Plan;
use crate::privilege::{Evaluation, Needed, Outcome};

/// One MDE API call: its catalogue entry and, for `check`, the verdict.
#[derive(Debug, Clone, Serialize)]
pub struct CallEntry {
    /// The call as given (`check` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call: Option<String>,
    pub method: String,
    pub path: String,
    pub name: String,
    pub area: String,
    pub id: String,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// Every accepted application permission (flat).
    pub application_permissions: Vec<String>,
    /// All-of groups of any-of application permissions.
    pub application_requirements: Vec<Vec<String>>,
    pub delegated_permissions: Vec<String>,
    pub delegated_requirements: Vec<Vec<String>>,
    pub rbac: Option<String>,
    pub rate_limit: Option<String>,
    pub source: String,
    pub doc_date: Option<String>,
    pub notes: Option<String>,
    /// Where the documentation leaves the call's permissions in doubt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caveat: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub doc_spelling: Vec<Spelling>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub check: Option<CallCheck>,
}

/// The `check` verdict of one call.
#[derive(Debug, Clone, Serialize)]
pub struct CallCheck {
    /// `application` or `delegated`: the permissions the call was checked against.
    pub context: &'static str,
    /// true when allowed, false when not, null when the documentation names
    /// no permission or the call could not be checked.
    pub allowed: Option<bool>,
    /// `allowed`, `denied`, `undocumented` or `not_checked` (doctor, when no
    /// token could be decoded).
    pub outcome: &'static str,
    /// Why, in one sentence.
    pub reason: String,
    pub satisfied_by: Vec<String>,
    pub accepted: Vec<String>,
    pub missing_groups: Vec<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// For a call not allowed: what to grant, and how the token gets it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl CallEntry {
    pub fn new(c: &Call) -> CallEntry {
        CallEntry {
            call: None,
            method: c.method.clone(),
            path: c.path.clone(),
            name: c.name.clone(),
            area: c.area.clone(),
            id: c.id.clone(),
            status: c.status,
            host: c.host.clone(),
            query: c.query.clone(),
            application_permissions: c.accepted(PermKind::Role),
            application_requirements: c.application.clone(),
            delegated_permissions: c.accepted(PermKind::Scope),
            delegated_requirements: c.delegated.clone(),
            rbac: c.rbac.clone(),
            rate_limit: c.rate_limit.clone(),
            source: c.source.clone(),
            doc_date: c.doc_date.clone(),
            notes: c.notes.clone(),
            caveat: c.caveat.clone(),
            doc_spelling: c.doc_spelling.clone(),
            check: None,
        }
    }

    /// A call as given, for reports: a credential in its query string
    /// (`sig=`, `access_token=`) is shown as `[redacted]`.
    pub fn shown_call(given: &str) -> String {
        crate::http::shown_url(given).into_owned()
    }

    /// The entry with a check verdict.
    pub fn checked(
        c: &Call,
        given: &str,
        context: &'static str,
        ev: Evaluation,
        reason: String,
        note: Option<String>,
        fix: Option<String>,
    ) -> CallEntry {
        let mut e = CallEntry::new(c);
        e.call = Some(CallEntry::shown_call(given));
        e.check = Some(CallCheck {
            context,
            allowed: match ev.outcome {
                Outcome::Allowed => Some(true),
                Outcome::Denied => Some(false),
                Outcome::Undocumented => None,
            },
            outcome: ev.outcome.as_str(),
            reason,
            satisfied_by: ev.satisfied_by,
            accepted: ev.accepted,
            missing_groups: ev.missing_groups,
            note,
            fix,
        });
        e
    }

    /// The entry of a call that could not be checked (`allowed` null,
    /// `outcome` `not_checked`), with why; `accepted` still lists what the
    /// call accepts in `context`.
    pub fn not_checked(
        c: &Call,
        given: &str,
        context: permissions::PermContext,
        why: &str,
    ) -> CallEntry {
        let mut e = CallEntry::new(c);
        e.call = Some(CallEntry::shown_call(given));
        e.check = Some(CallCheck {
            context: context.as_str(),
            allowed: None,
            outcome: "not_checked",
            reason: why.to_string(),
            satisfied_by: Vec::new(),
            accepted: c.accepted(context.perm_kind()),
            missing_groups: Vec::new(),
            note: None,
            fix: None,
        });
        e
    }

    /// `METHOD /path`.
    pub fn label(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// [`CallEntry::label`], with the host when the call as given names one,
    /// so one path checked on two hosts reads as two calls.
    pub fn label_with_host(&self) -> String {
        let host = self
            .call
            .as_deref()
            .and_then(|g| crate::catalog::CallSpec::parse(g).ok())
            .and_then(|s| s.host);
        match host {
            Some(h) => format!("{} on {h}", self.label()),
            None => self.label(),
        }
    }

    /// True when `check` found the call not allowed.
    pub fn denied(&self) -> bool {
        self.check
            .as_ref()
            .is_some_and(|c| c.allowed == Some(false))
    }
}

/// One permission of the minimal set, with its id.
#[derive(Debug, Clone, Serialize)]
pub struct MinimalPermission {
    pub permission: String,
    /// `Role` (application) or `Scope` (delegated), as in requiredResourceAccess.
    #[serde(rename = "type")]
    pub kind: PermKind,
    /// The appRole or scope id; null if the GUID list does not have it.
    pub id: Option<String>,
    pub display_name: Option<String>,
    /// The calls (`METHOD /path`) this permission serves.
    pub calls: Vec<String>,
    /// What it does not reach that a broader permission does (e.g. Ti.ReadWrite: only the app's own indicators).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caveat: Option<String>,
    /// Permissions that would serve the same calls just as narrowly, any one
    /// of them instead of this one (omitted when there are none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alternatives: Vec<String>,
    /// How sure the GUID is: `high`, or `medium` when a single source gives it
    /// (as `app` reports it); null when the GUID list does not have it.
    pub confidence: Option<&'static str>,
}

impl MinimalPermission {
    pub fn new(n: &Needed, kind: PermKind, calls: &[&Call]) -> MinimalPermission {
        let p = permissions::get(kind, &n.permission);
        let mut labels: Vec<String> = Vec::new();
        for &i in &n.calls {
            if let Some(c) = calls.get(i) {
                let l = c.label();
                if !labels.contains(&l) {
                    labels.push(l);
                }
            }
        }
        MinimalPermission {
            permission: n.permission.clone(),
            kind,
            id: p.map(|p| p.id.clone()),
            display_name: p.map(|p| p.display_name.clone()),
            calls: labels,
            caveat: permissions::caveat(kind, &n.permission),
            alternatives: n.alternatives.clone(),
            confidence: p
                .map(|p| crate::applint::table::Confidence::of_data(&p.confidence).as_str()),
        }
    }
}

/// What the calls need, and what the token holds beyond that.
#[derive(Debug, Clone, Serialize)]
pub struct LeastPrivilege {
    /// `application` or `delegated`.
    pub context: &'static str,
    /// The WindowsDefenderATP app id the permissions belong to.
    pub resource_app_id: String,
    /// Token permissions that no call accepts.
    pub unused: Vec<String>,
    /// Token permissions some call accepts but the minimal set does without.
    pub redundant: Vec<String>,
    /// Token permissions that may or may not be needed: some call has no
    /// documented permission in this context, so neither unused nor
    /// redundant can be said.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub undecided: Vec<String>,
    /// The smallest permission set that covers every call.
    pub minimal: Vec<MinimalPermission>,
}

/// The plan file a report was made from.
#[derive(Debug, Clone, Serialize)]
pub struct PlanSection {
    pub file: String,
    pub name: String,
    pub context: Option<&'static str>,
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    pub multi_tenant: bool,
    pub credential: Option<&'static str>,
    pub calls: usize,
}

impl PlanSection {
    pub fn new(p: &Plan) -> PlanSection {
        PlanSection {
            file: p.file.display().to_string(),
            name: p.name.clone(),
            context: p.context.map(|c| c.as_str()),
            tenant_id: p.tenant_id.clone(),
            client_id: p.client_id.clone(),
            multi_tenant: p.multi_tenant,
            credential: p.credential.map(|c| c.as_str()),
            calls: p.calls.len(),
        }
    }
}

/// Permission groups as text: `A | B` within a group, ` + ` between groups.
pub fn requirement_text(groups: &[Vec<String>]) -> String {
    if groups.is_empty() {
        return "not documented".to_string();
    }
    let many = groups.len() > 1;
    groups
        .iter()
        .map(|g| {
            let s = g.join(" | ");
            if many && g.len() > 1 {
                format!("({s})")
            } else {
                s
            }
        })
        .collect::<Vec<_>>()
        .join(" + ")
}
