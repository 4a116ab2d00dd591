//! Permission rules: does a set of granted permissions satisfy a call, and
//! what is the smallest set of permissions a list of calls needs.

use std::collections::BTreeSet;

use crate::catalog::Call;
use crate::permissions::PermKind;

/// The result of one call against the granted permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every group is satisfied.
    Allowed,
    /// At least one group has none of its permissions.
    Denied,
    /// The documentation names no permission for this call in this context.
    Undocumented,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Denied => "denied",
            Outcome::Undocumented => "undocumented",
        }
    }
}

/// Which permissions satisfied a call, or which would.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub outcome: Outcome,
    /// Granted permissions that satisfy a group (all of them, in catalogue order).
    pub satisfied_by: Vec<String>,
    /// Every permission the call accepts in this context.
    pub accepted: Vec<String>,
    /// Groups with none of their permissions granted.
    pub missing_groups: Vec<Vec<String>>,
}

/// Evaluate a call's permission groups for one context against granted names.
pub fn evaluate(call: &Call, kind: PermKind, granted: &[String]) -> Evaluation {
    let groups = call.groups(kind);
    let accepted = call.accepted(kind);
    if groups.is_empty() {
        return Evaluation {
            outcome: Outcome::Undocumented,
            satisfied_by: Vec::new(),
            accepted,
            missing_groups: Vec::new(),
        };
    }
    let mut satisfied_by: Vec<String> = Vec::new();
    let mut missing_groups = Vec::new();
    for g in groups {
        let hits: Vec<&String> = g.iter().filter(|p| granted.contains(p)).collect();
        if hits.is_empty() {
            missing_groups.push(g.clone());
        }
        for h in hits {
            if !satisfied_by.contains(h) {
                satisfied_by.push(h.clone());
            }
        }
    }
    let outcome = if missing_groups.is_empty() {
        Outcome::Allowed
    } else {
        Outcome::Denied
    };
    Evaluation {
        outcome,
        satisfied_by,
        accepted,
        missing_groups,
    }
}

/// A read-only permission: `.Read` in the name and no write.
pub fn is_read(p: &str) -> bool {
    p.contains(".Read") && !p.contains("ReadWrite") && !p.contains(".Write")
}

/// How broad one permission is: does it write or act, is it tenant-wide (`.All`).
fn breadth(p: &str) -> (u8, u8) {
    (u8::from(!is_read(p)), u8::from(p.ends_with(".All")))
}

/// True when `a` is strictly narrower than `b`: no broader on either axis
/// (read vs write or act, own vs tenant-wide `.All`) and narrower on one.
/// Two action permissions (`Machine.Isolate`, `Machine.Scan`) are equals.
pub fn strictly_narrower(a: &str, b: &str) -> bool {
    let (aw, aa) = breadth(a);
    let (bw, ba) = breadth(b);
    aw <= bw && aa <= ba && (aw, aa) != (bw, ba)
}

/// Preference order of one permission: read before anything that writes or
/// acts, narrow before tenant-wide `.All`, then (among equals) one already
/// held, then by name.
fn cost<'a>(p: &'a str, held: &[String]) -> (u8, u8, u8, &'a str) {
    let (w, a) = breadth(p);
    (w, a, u8::from(!held.iter().any(|h| h == p)), p)
}

/// The least privileged of permissions any one of which is enough (the
/// list a 403 names): read before write, narrow before `.All`.
pub fn least_privileged(any_of: &[String]) -> Option<&String> {
    any_of.iter().min_by(|a, b| cost(a, &[]).cmp(&cost(b, &[])))
}

/// One permission of a minimal set and the calls it serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Needed {
    pub permission: String,
    /// Indexes into the calls given to [`minimal`].
    pub calls: Vec<usize>,
    /// Permissions that could take its place in the set and leave it just as
    /// small and narrow (cancelling a machine action accepts any one of
    /// seven action permissions): the choice among them is only an order,
    /// so the reports name them too. In preference order.
    pub alternatives: Vec<String>,
}

/// The smallest set of permissions (of one context) that satisfies every
/// call. Among sets of the same size it prefers fewer write permissions,
/// then fewer tenant-wide `.All` ones, then names in order, so the answer is
/// deterministic. Calls with no documented permission add nothing.
pub fn minimal(calls: &[&Call], kind: PermKind) -> Vec<Needed> {
    minimal_holding(calls, kind, &[])
}

/// [`minimal`] for an app or token that already holds `held`: among sets
/// equally small and narrow it prefers the one with the most permissions
/// already held, so equal alternatives (cancel accepts any of seven action
/// permissions) never become advice to swap one for another.
pub fn minimal_holding(calls: &[&Call], kind: PermKind, held: &[String]) -> Vec<Needed> {
    // Distinct groups, each sorted by preference.
    let mut groups: Vec<Vec<String>> = Vec::new();
    for c in calls {
        for g in c.groups(kind) {
            let mut g = g.clone();
            g.sort_by(|a, b| cost(a, held).cmp(&cost(b, held)));
            g.dedup();
            if !groups.contains(&g) {
                groups.push(g);
            }
        }
    }
    // A group that contains another group is hit whenever the smaller one is.
    let set = |g: &Vec<String>| g.iter().cloned().collect::<BTreeSet<String>>();
    let reduced: Vec<Vec<String>> = groups
        .iter()
        .filter(|g| {
            let gs = set(g);
            !groups
                .iter()
                .any(|o| o != *g && set(o).is_subset(&gs) && o.len() < g.len())
        })
        .cloned()
        .collect();
    let mut best: Option<Vec<String>> = None;
    search(&reduced, held, &mut Vec::new(), &mut best);
    let mut chosen = best.unwrap_or_default();
    chosen.sort_by(|a, b| cost(a, &[]).cmp(&cost(b, &[])));
    let alternatives = |p: &String| -> Vec<String> {
        let rank = |set: &[String]| {
            let k = key(set, held);
            (k.0, k.1, k.2, k.3)
        };
        let mut alts: Vec<String> = Vec::new();
        for q in reduced.iter().flatten() {
            if chosen.contains(q) || alts.contains(q) {
                continue;
            }
            let swapped: Vec<String> = chosen
                .iter()
                .map(|c| if c == p { q.clone() } else { c.clone() })
                .collect();
            let hits_all = reduced
                .iter()
                .all(|g| g.iter().any(|x| swapped.contains(x)));
            if hits_all && rank(&swapped) == rank(&chosen) {
                alts.push(q.clone());
            }
        }
        alts.sort_by(|a, b| cost(a, held).cmp(&cost(b, held)));
        alts
    };
    chosen
        .iter()
        .map(|p| Needed {
            calls: calls
                .iter()
                .enumerate()
                .filter(|(_, c)| c.groups(kind).iter().flatten().any(|x| x == p))
                .map(|(i, _)| i)
                .collect(),
            alternatives: alternatives(p),
            permission: p.clone(),
        })
        .collect()
}

fn key(set: &[String], held: &[String]) -> (usize, usize, usize, usize, Vec<String>) {
    let mut names = set.to_vec();
    names.sort();
    (
        set.len(),
        set.iter().filter(|p| !is_read(p)).count(),
        set.iter().filter(|p| p.ends_with(".All")).count(),
        set.iter().filter(|p| !held.contains(p)).count(),
        names,
    )
}

/// Exact minimum hitting set by branch and bound (the inputs are small: a
/// few dozen groups of one to seven names).
fn search(
    groups: &[Vec<String>],
    held: &[String],
    chosen: &mut Vec<String>,
    best: &mut Option<Vec<String>>,
) {
    if let Some(b) = best
        && chosen.len() > b.len()
    {
        return;
    }
    let open = groups
        .iter()
        .filter(|g| !g.iter().any(|p| chosen.contains(p)))
        .min_by_key(|g| g.len());
    match open {
        None => {
            if best
                .as_ref()
                .is_none_or(|b| key(chosen, held) < key(b, held))
            {
                *best = Some(chosen.clone());
            }
        }
        Some(g) => {
            if let Some(b) = best
                && chosen.len() >= b.len()
            {
                return;
            }
            for p in g {
                chosen.push(p.clone());
                search(groups, held, chosen, best);
                chosen.pop();
            }
        }
    }
}

/// What the documentation says about a call that accepts `p` among equal
/// alternatives (e.g. cancelling a machine action: "any one of the listed
/// action permissions (presumably matching the action type; page does not
/// say)"), as "; the documentation of CALL: ...", or nothing.
pub fn equals_note<'a>(
    rows: impl IntoIterator<Item = &'a Call>,
    kind: PermKind,
    p: &str,
) -> String {
    rows.into_iter()
        .filter(|c| c.groups(kind).iter().flatten().any(|x| x == p))
        .find_map(|c| {
            let note = c.notes.as_deref()?;
            let first = note.split(['|', '.']).next()?.trim();
            first
                .to_ascii_lowercase()
                .contains("any one")
                .then(|| format!("; the documentation of {}: {first}", c.label()))
        })
        .unwrap_or_default()
}

/// Why a permission some call accepts is left out of the minimal set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Surplus {
    /// Every call that accepts it is served by a strictly narrower permission
    /// of the minimal set (these): the permission is broader than needed.
    Broader(Vec<String>),
    /// Permissions of the minimal set (these), needed anyway, serve every
    /// call that accepts it, but not all of them are narrower: it is merely
    /// not needed, never "broader".
    Covered(Vec<String>),
}

/// Classify `p`, a permission outside `minimal` that some of `groups`
/// (the calls' any-of requirement groups) accepts.
pub fn surplus<'a>(
    p: &str,
    groups: impl IntoIterator<Item = &'a Vec<String>>,
    minimal: &[String],
) -> Surplus {
    let (mut narrower, mut covering) = (Vec::<String>::new(), Vec::<String>::new());
    let mut all_narrower = true;
    for g in groups.into_iter().filter(|g| g.iter().any(|x| x == p)) {
        let served: Vec<&String> = g.iter().filter(|x| minimal.contains(x)).collect();
        let narrow: Vec<&String> = served
            .iter()
            .copied()
            .filter(|x| strictly_narrower(x, p))
            .collect();
        all_narrower &= !narrow.is_empty();
        for x in narrow {
            push_unique(&mut narrower, x);
        }
        for x in served {
            push_unique(&mut covering, x);
        }
    }
    if all_narrower && !narrower.is_empty() {
        Surplus::Broader(narrower)
    } else {
        Surplus::Covered(covering)
    }
}

/// The least-privilege verdict held back: `who` (the token, the plan) may
/// need `names`, because `calls` have no documented permission in `ctx`.
pub fn undecided(
    code: &'static str,
    who: &str,
    names: &str,
    ctx: crate::permissions::PermContext,
    calls: &[String],
) -> crate::finding::Finding {
    crate::finding::Finding::info(
        code,
        format!(
            "whether {who} needs {names} could not be decided: the documentation names no {} permission for {}, which may need any of them",
            ctx.as_str(),
            calls.join(", ")
        ),
        "find what the call needs by trying it in a test tenant (`mdeauth probe`: the 403 message names the permissions it requires) before removing any permission",
    )
}

/// Append `s` unless `v` already holds it (lists shown to people keep
/// their first-seen order).
pub fn push_unique(v: &mut Vec<String>, s: &str) {
    if !v.iter().any(|x| x == s) {
        v.push(s.to_string());
    }
}

/// Delegated calls: the signed-in user's MDE role and device-group access
/// also decide, and no token shows them. One warning naming each call's
/// role permission (`check` with a delegated token, `api` for a delegated plan).
pub fn user_rbac(rows: &[&Call]) -> crate::finding::Finding {
    let mut parts: Vec<String> = Vec::new();
    for row in rows {
        let rbac = row
            .rbac
            .as_deref()
            .unwrap_or("not stated in the documentation");
        push_unique(&mut parts, &format!("{}: {rbac}", row.label()));
    }
    crate::finding::Finding::warning(
        "call.user_rbac",
        format!(
            "delegated calls also need the signed-in user's MDE role permission and device-group access, which the token cannot show: {}",
            parts.join("; ")
        ),
        "give the user an MDE role with these permissions and access to the device groups involved (Defender portal: Settings > Endpoints > Roles)",
    )
}

/// The warnings every command working from a list of calls gives about a
/// call itself: no permission documented for the context, or a legacy call.
pub fn call_warnings(
    row: &Call,
    ctx: crate::permissions::PermContext,
) -> Vec<crate::finding::Finding> {
    use crate::finding::Finding;
    let mut out = Vec::new();
    if row.groups(ctx.perm_kind()).is_empty() {
        out.push(Finding::warning(
            "call.permissions_not_documented",
            format!(
                "{}: permissions not documented: the documentation names no {} permission for this call",
                row.label(),
                ctx.as_str()
            ),
            "the minimal set cannot include it; try the call in a test tenant (`mdeauth probe`): the 403 message names the permissions it requires",
        ));
    }
    if row.status == crate::catalog::Status::Legacy {
        out.push(Finding::warning(
            "call.legacy",
            format!(
                "{} ({}) is a legacy call, no longer in the current MDE documentation",
                row.label(),
                row.name
            ),
            "move to a current call (see `mdeauth api --search ...`)",
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::resolve;

    fn names(calls: &[&str], kind: PermKind) -> Vec<String> {
        let cs: Vec<&Call> = calls.iter().map(|c| resolve(c).unwrap()).collect();
        minimal(&cs, kind)
            .into_iter()
            .map(|n| n.permission)
            .collect()
    }

    #[test]
    fn evaluation_rules() {
        let g = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let list = resolve("GET /api/machines").unwrap();
        let e = evaluate(list, PermKind::Role, &g(&["Machine.ReadWrite.All"]));
        assert_eq!(e.outcome, Outcome::Allowed);
        assert_eq!(e.satisfied_by, g(&["Machine.ReadWrite.All"]));
        let sq = resolve("POST /api/machines/x/StopAndQuarantineFile").unwrap();
        let e = evaluate(sq, PermKind::Role, &g(&["Machine.StopAndQuarantine"]));
        assert_eq!(e.outcome, Outcome::Denied);
        assert_eq!(
            e.missing_groups,
            vec![g(&["Machine.Read.All", "Machine.ReadWrite.All"])]
        );
        let e = evaluate(
            sq,
            PermKind::Role,
            &g(&["Machine.StopAndQuarantine", "Machine.Read.All"]),
        );
        assert_eq!(e.outcome, Outcome::Allowed);
        let e = evaluate(sq, PermKind::Scope, &g(&["Machine.StopAndQuarantine"]));
        assert_eq!(e.outcome, Outcome::Allowed);
        let base = resolve("GET /api/baselineProfiles").unwrap();
        assert_eq!(
            evaluate(base, PermKind::Role, &[]).outcome,
            Outcome::Undocumented
        );
    }

    #[test]
    fn minimal_sets() {
        assert_eq!(
            names(&["GET /api/machines", "GET /api/alerts"], PermKind::Role),
            vec!["Alert.Read.All", "Machine.Read.All"]
        );
        // One read-write permission covers the read and the write call.
        assert_eq!(
            names(
                &["GET /api/machines", "POST /api/machines/{id}/tags"],
                PermKind::Role
            ),
            vec!["Machine.ReadWrite.All"]
        );
        assert_eq!(
            names(
                &[
                    "POST /api/machines/{id}/StopAndQuarantineFile",
                    "POST /api/machines/{id}/isolate"
                ],
                PermKind::Role
            ),
            vec![
                "Machine.Read.All",
                "Machine.Isolate",
                "Machine.StopAndQuarantine"
            ]
        );
        // Cancel accepts any action permission: the one already needed covers it.
        assert_eq!(
            names(
                &[
                    "POST /api/machines/{id}/isolate",
                    "POST /api/machineactions/{id}/cancel"
                ],
                PermKind::Role
            ),
            vec!["Machine.Isolate"]
        );
        // Narrow (own IOCs) before tenant-wide.
        assert_eq!(
            names(&["GET /api/indicators"], PermKind::Role),
            vec!["Ti.ReadWrite"]
        );
        assert_eq!(
            names(&["GET /api/machines", "GET /api/alerts"], PermKind::Scope),
            vec!["Alert.Read", "Machine.Read"]
        );
        assert!(names(&["GET /api/baselineProfiles"], PermKind::Role).is_empty());
    }

    #[test]
    fn held_permissions_win_among_equals_only() {
        let g = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let cancel = resolve("POST /api/machineactions/{id}/cancel").unwrap();
        let machines = resolve("GET /api/machines").unwrap();
        let pick = |calls: &[&Call], held: &[&str]| -> Vec<String> {
            minimal_holding(calls, PermKind::Role, &g(held))
                .into_iter()
                .map(|n| n.permission)
                .collect()
        };
        assert_eq!(pick(&[cancel], &[]), ["Machine.CollectForensics"]);
        assert_eq!(pick(&[cancel], &["Machine.Isolate"]), ["Machine.Isolate"]);
        // Holding a broader permission does not make it minimal.
        assert_eq!(
            pick(&[machines], &["Machine.ReadWrite.All"]),
            ["Machine.Read.All"]
        );
        assert!(strictly_narrower(
            "Machine.Read.All",
            "Machine.ReadWrite.All"
        ));
        assert!(strictly_narrower("Ti.ReadWrite", "Ti.ReadWrite.All"));
        assert!(!strictly_narrower(
            "Machine.CollectForensics",
            "Machine.Isolate"
        ));
        assert!(!strictly_narrower(
            "Machine.Isolate",
            "Machine.CollectForensics"
        ));
        let groups = cancel.groups(PermKind::Role);
        assert_eq!(
            surplus("Machine.Isolate", groups, &g(&["Machine.CollectForensics"])),
            Surplus::Covered(g(&["Machine.CollectForensics"]))
        );
        assert_eq!(
            surplus(
                "Machine.ReadWrite.All",
                machines.groups(PermKind::Role),
                &g(&["Machine.Read.All"])
            ),
            Surplus::Broader(g(&["Machine.Read.All"]))
        );
    }
}
