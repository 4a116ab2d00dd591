//! `mdeauth api`: browse the MDE permission catalogue, show one call, look up
//! the calls a permission opens, or list the minimal permissions for a plan.

use crate::catalog::{self, Call, Status};
use crate::cli::ApiArgs;
use crate::error::{Error, Result};
use crate::finding::Finding;
use crate::permissions::{self, PermContext, PermKind};
use crate::plan::Plan;
use crate::privilege;
use crate::report::Report;
use crate::report::calls::{CallEntry, LeastPrivilege, MinimalPermission, PlanSection};

pub fn run(args: &ApiArgs) -> Result<Report> {
    let mut report = Report::new("api", chrono::Utc::now().timestamp());
    let plan = args.plan.as_deref().map(Plan::load).transpose()?;
    let mut calls: Vec<String> = args.call.iter().cloned().collect();
    calls.extend(args.calls.iter().cloned());
    let wanted = super::check::wanted(plan.as_ref(), &calls)?;
    let filtering =
        args.area.is_some() || args.search.is_some() || args.permission.is_some() || args.legacy;
    if wanted.is_empty() {
        if args.context.is_some() {
            return Err(Error::input("--context applies to calls").with_hint(
                "give calls (CALL, --call or --plan) to list the permissions they need",
            ));
        }
        report.calls = Some(list(args, &mut report.findings)?);
        return Ok(report.finish());
    }
    if filtering {
        return Err(Error::input(
            "--area, --search, --permission and --legacy filter the catalogue listing and cannot be combined with calls",
        )
        .with_hint("give either calls (CALL, --call, --plan) or filters"));
    }
    let ctx = args
        .context
        .or(plan.as_ref().and_then(|p| p.context))
        .unwrap_or(PermContext::Application);
    let kind = ctx.perm_kind();
    let rows: Vec<&Call> = wanted.iter().map(|w| w.row).collect();
    for w in &wanted {
        report.findings.extend(privilege::call_warnings(w.row, ctx));
    }
    if ctx == PermContext::Delegated {
        report.findings.push(privilege::user_rbac(&rows));
    }
    let minimal = privilege::minimal(&rows, kind)
        .iter()
        .map(|n| MinimalPermission::new(n, kind, &rows))
        .collect();
    report.least_privilege = Some(LeastPrivilege {
        context: ctx.as_str(),
        resource_app_id: permissions::resource_app().app_id.clone(),
        unused: Vec::new(),
        redundant: Vec::new(),
        undecided: Vec::new(),
        minimal,
    });
    report.calls = Some(
        wanted
            .iter()
            .map(|w| {
                let mut e = CallEntry::new(w.row);
                e.call = Some(crate::report::calls::CallEntry::shown_call(&w.given));
                e
            })
            .collect(),
    );
    if let Some(p) = &plan {
        report.plan = Some(PlanSection::new(p));
    }
    Ok(report.finish())
}

/// The filtered catalogue listing.
fn list(args: &ApiArgs, findings: &mut Vec<Finding>) -> Result<Vec<CallEntry>> {
    let perm = match &args.permission {
        None => None,
        Some(p) => Some(permission(p, findings)?),
    };
    let contains = |hay: &str, needle: &str| hay.to_lowercase().contains(&needle.to_lowercase());
    let rows: Vec<&Call> = catalog::calls()
        .iter()
        .filter(|c| args.legacy || c.status == Status::Current)
        .filter(|c| args.area.as_deref().is_none_or(|a| contains(&c.area, a)))
        .filter(|c| {
            args.search.as_deref().is_none_or(|s| {
                [
                    c.name.as_str(),
                    c.path.as_str(),
                    c.area.as_str(),
                    c.id.as_str(),
                    c.notes.as_deref().unwrap_or(""),
                ]
                .iter()
                .any(|h| contains(h, s))
                    || contains(&c.label(), s)
            })
        })
        .filter(|c| {
            perm.as_deref().is_none_or(|p| {
                c.application
                    .iter()
                    .chain(&c.delegated)
                    .flatten()
                    .any(|x| x == p)
            })
        })
        .collect();
    if rows.is_empty() {
        findings.push(Finding::info(
            "api.no_match",
            "no call in the catalogue matches these filters",
            if args.legacy {
                "loosen --area/--search"
            } else {
                "loosen --area/--search, or add --legacy to include removed calls"
            },
        ));
    }
    Ok(rows.into_iter().map(CallEntry::new).collect())
}

/// Resolve a permission name for `--permission`, saying what it is.
fn permission(name: &str, findings: &mut Vec<Finding>) -> Result<String> {
    let name = name.trim();
    // A documentation misspelling maps to the value tokens carry.
    let documented = catalog::doc_spelling(name);
    let value = match (permissions::canonical(name), documented) {
        (Some(v), _) => v.to_string(),
        (None, Some(s)) => {
            findings.push(Finding::info(
                "api.doc_spelling",
                format!(
                    "{} is how the documentation spells it; tokens carry {}",
                    s.documented, s.actual
                ),
                "",
            ));
            s.actual.clone()
        }
        (None, None) => {
            let mut near: Vec<(usize, &str)> = permissions::all_values()
                .into_iter()
                .map(|v| {
                    (
                        catalog::levenshtein(&v.to_lowercase(), &name.to_lowercase()),
                        v,
                    )
                })
                .collect();
            near.sort();
            let hint = near
                .iter()
                .take(3)
                .map(|(_, v)| *v)
                .collect::<Vec<_>>()
                .join(", ");
            return Err(
                Error::input(format!("{name:?} is not a WindowsDefenderATP permission"))
                    .with_hint(format!("did you mean {hint}?")),
            );
        }
    };
    let mut kinds = Vec::new();
    for (kind, what) in [
        (PermKind::Role, "an application permission (app role"),
        (PermKind::Scope, "a delegated permission (scope"),
    ] {
        if let Some(p) = permissions::get(kind, &value) {
            if p.users_only() {
                kinds.push(format!(
                    "{} (app role {}, \"{}\", allowed member types: {})",
                    p.note.as_deref().unwrap_or(
                        "an app role only users can hold, not an application permission"
                    ),
                    p.id,
                    p.display_name,
                    p.allowed_member_types.join(", ")
                ));
            } else {
                kinds.push(format!("{what} {}, \"{}\")", p.id, p.display_name));
            }
        }
    }
    findings.push(Finding::info(
        "api.permission",
        format!("{value} is {}", kinds.join(" and ")),
        "",
    ));
    Ok(value)
}
