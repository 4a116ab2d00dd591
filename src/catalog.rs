//! The MDE API call catalogue (`data/catalog.json`) and call matching:
//! `"GET /api/machines/1e5b..."` or a full URL → the catalogue row it is.

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, Snippet};
use crate::permissions::PermKind;

/// Whether the current documentation still describes a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Current,
    /// Removed from the current docs (WDATP era).
    Legacy,
}

/// Where the documentation spells a permission differently from tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spelling {
    /// `application` or `delegated`.
    pub context: String,
    /// As printed in the documentation.
    pub documented: String,
    /// As tokens carry it (what the catalogue uses).
    pub actual: String,
}

/// One documented API call.
#[derive(Debug, Clone, Deserialize)]
pub struct Call {
    /// Stable slug of the documented name.
    pub id: String,
    pub area: String,
    pub name: String,
    pub method: String,
    /// Path template as documented (host and query string removed).
    pub path: String,
    /// Documented query-string template, if the page puts one in the path.
    pub query: Option<String>,
    /// The host, for the few legacy calls not served by the MDE API hosts.
    pub host: Option<String>,
    /// Application permissions: every group is required, any one name of a group satisfies it.
    pub application: Vec<Vec<String>>,
    /// Delegated permissions, same shape.
    pub delegated: Vec<Vec<String>>,
    /// The MDE RBAC permission a signed-in user needs (delegated calls).
    pub rbac: Option<String>,
    pub rate_limit: Option<String>,
    /// Documentation page the row comes from.
    pub source: String,
    pub doc_date: Option<String>,
    pub status: Status,
    pub notes: Option<String>,
    /// Where the documentation leaves the call's permissions in doubt (an
    /// inconsistency between revisions, an unstated rule): shown beside the
    /// call whether it is allowed or not.
    #[serde(default)]
    pub caveat: Option<String>,
    pub doc_spelling: Vec<Spelling>,
    /// Set when the documented path is a copy of another row's path; matching resolves to that row.
    pub alias_of: Option<String>,
}

impl Call {
    /// `METHOD /path`.
    pub fn label(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// The permission groups for one context.
    pub fn groups(&self, kind: PermKind) -> &[Vec<String>] {
        match kind {
            PermKind::Role => &self.application,
            PermKind::Scope => &self.delegated,
        }
    }

    /// Every accepted name of one context, in catalogue order.
    pub fn accepted(&self, kind: PermKind) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for n in self.groups(kind).iter().flatten() {
            if !out.contains(n) {
                out.push(n.clone());
            }
        }
        out
    }

    /// True when the documentation names no permission at all for this call.
    pub fn undocumented(&self) -> bool {
        self.application.is_empty() && self.delegated.is_empty()
    }
}

#[derive(Debug, Deserialize)]
struct File {
    hosts: Vec<String>,
    calls: Vec<Call>,
}

struct Catalog {
    hosts: Vec<String>,
    calls: Vec<Call>,
    templates: Vec<Vec<Seg>>,
}

static CATALOG: LazyLock<Catalog> = LazyLock::new(|| {
    let f: File = serde_json::from_str(include_str!("../data/catalog.json"))
        .expect("data/catalog.json is valid (checked by tests)");
    let templates = f.calls.iter().map(|c| template(&c.path)).collect();
    Catalog {
        hosts: f.hosts,
        calls: f.calls,
        templates,
    }
});

/// A documentation misspelling of a permission name (`Alerts.ReadWrite.All`),
/// ignoring case, with the value tokens carry.
pub fn doc_spelling(name: &str) -> Option<&'static Spelling> {
    calls()
        .iter()
        .flat_map(|c| &c.doc_spelling)
        .find(|s| s.documented.eq_ignore_ascii_case(name))
}

/// Every call, current and legacy, in catalogue order.
pub fn calls() -> &'static [Call] {
    &CATALOG.calls
}

/// The MDE API hosts full URLs may name.
pub fn hosts() -> &'static [String] {
    &CATALOG.hosts
}

/// The call with this id.
pub fn by_id(id: &str) -> Option<&'static Call> {
    calls().iter().find(|c| c.id == id)
}

/// Calls that accept a permission (in either context), in catalogue order.
pub fn accepting(permission: &str) -> Vec<&'static Call> {
    calls()
        .iter()
        .filter(|c| {
            c.application
                .iter()
                .chain(&c.delegated)
                .flatten()
                .any(|p| p == permission)
        })
        .collect()
}

/// One segment of a path template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    /// A fixed name, lower-cased.
    Literal(String),
    /// An OData function such as `findbyip(ip='{IP}',timestamp={TimeStamp})`: its name, lower-cased.
    Function(String),
    /// `{id}` and friends: any one segment.
    Param,
}

fn template(path: &str) -> Vec<Seg> {
    split(path)
        .into_iter()
        .map(|s| {
            if s.starts_with('{') && s.ends_with('}') {
                Seg::Param
            } else if let Some((name, _)) = s.split_once('(')
                && s.ends_with(')')
            {
                Seg::Function(name.to_ascii_lowercase())
            } else {
                Seg::Literal(s.to_ascii_lowercase())
            }
        })
        .collect()
}

fn split(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

impl Seg {
    /// How specific a match on this segment is: literals beat functions beat placeholders.
    fn rank(&self) -> u8 {
        match self {
            Seg::Literal(_) => 3,
            Seg::Function(_) => 2,
            Seg::Param => 1,
        }
    }

    fn matches(&self, concrete: &str) -> bool {
        let c = concrete.to_ascii_lowercase();
        match self {
            Seg::Literal(l) => c == *l,
            Seg::Function(name) => {
                c == *name
                    || (c.ends_with(')')
                        && c.split_once('(').is_some_and(|(n, _)| n.trim() == name))
            }
            // An OData function call (`findbytag(tag='x')`) is never an id.
            Seg::Param => {
                let call = c.ends_with(')') && c.contains('(');
                !c.is_empty() && !call
            }
        }
    }

    fn text(&self) -> &str {
        match self {
            Seg::Literal(s) | Seg::Function(s) => s,
            Seg::Param => "{}",
        }
    }
}

/// A call as the user wrote it, normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallSpec {
    /// The text as given.
    pub input: String,
    pub method: String,
    /// Host, when a full URL was given (lower-cased).
    pub host: Option<String>,
    /// Decoded path segments, version prefix removed.
    pub segments: Vec<String>,
}

impl CallSpec {
    /// Parse `METHOD PATH` where PATH is a path (`/api/...`, template or
    /// concrete) or a full URL on an MDE API host.
    pub fn parse(input: &str) -> Result<CallSpec> {
        let text = input.trim();
        let usage = || {
            Error::input(format!(
                "\"{}\" is not a call: write METHOD PATH",
                Snippet(text)
            ))
            .with_hint("for example \"GET /api/machines\" or \"POST https://api.security.microsoft.com/api/machines/{id}/isolate\"")
        };
        let (method, rest) = text.split_once(char::is_whitespace).ok_or_else(usage)?;
        let rest = rest.trim();
        if method.is_empty()
            || !method.chars().all(|c| c.is_ascii_alphabetic())
            || rest.is_empty()
            || rest
                .split(['?', '#'])
                .next()
                .unwrap_or("")
                .contains(char::is_whitespace)
        {
            return Err(usage());
        }
        let method = method.to_ascii_uppercase();
        let lower = rest.to_ascii_lowercase();
        let (host, path) = if lower.starts_with("https://") || lower.starts_with("http://") {
            let url = url::Url::parse(rest).map_err(|e| {
                Error::input(format!("\"{}\" is not a URL ({e})", Snippet(rest)))
                    .with_hint("give a path such as /api/machines or a full https:// URL")
            })?;
            let host = url.host_str().unwrap_or("").to_ascii_lowercase();
            (Some(host), url.path().to_string())
        } else if rest.starts_with('/') {
            (None, rest.to_string())
        } else if lower.starts_with("api/") || lower == "api" {
            (None, format!("/{rest}"))
        } else if let Some((h, p)) = rest.split_once('/')
            && h.contains('.')
        {
            (Some(h.to_ascii_lowercase()), format!("/{p}"))
        } else {
            return Err(
                Error::input(format!("\"{}\" is not a path or URL", Snippet(rest)))
                    .with_hint("paths start with /api/, e.g. \"GET /api/alerts\""),
            );
        };
        let path = path.split(['?', '#']).next().unwrap_or("");
        let mut segments: Vec<String> = split(path).iter().map(|s| percent_decode(s)).collect();
        if segments.len() >= 2
            && segments[0].eq_ignore_ascii_case("api")
            && is_version(&segments[1])
        {
            // The API's one version; another is not the documented API.
            if !segments[1].eq_ignore_ascii_case("v1.0") {
                return Err(Error::input(format!(
                    "\"{}\" names API version {}, which is not documented: the MDE API's version is v1.0",
                    Snippet(text),
                    Snippet(&segments[1])
                ))
                .with_hint("write the path as /api/... or /api/v1.0/..."));
            }
            segments.remove(1);
        }
        if segments.is_empty() {
            return Err(
                Error::input(format!("\"{}\" names no API path", Snippet(text)))
                    .with_hint("MDE calls have paths under /api/, e.g. \"GET /api/machines\""),
            );
        }
        Ok(CallSpec {
            input: text.to_string(),
            method,
            host,
            segments,
        })
    }

    /// `METHOD /seg/seg`.
    pub fn display(&self) -> String {
        // A segment that held an encoded slash shows it encoded: it is one
        // segment, not two.
        let segments: Vec<String> = self
            .segments
            .iter()
            .map(|s| s.replace('/', "%2F"))
            .collect();
        format!("{} /{}", self.method, segments.join("/"))
    }
}

fn is_version(s: &str) -> bool {
    let s = s.to_ascii_lowercase();
    s.strip_prefix('v').is_some_and(|v| {
        !v.is_empty()
            && v.split('.')
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    })
}

/// Decode `%xx` escapes; invalid escapes and non-UTF-8 results are kept as written.
pub fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .unwrap_or_else(|_| s.to_string())
}

/// Find the catalogue row for a call given as text.
pub fn resolve(input: &str) -> Result<&'static Call> {
    let spec = CallSpec::parse(input)?;
    find(&spec)
}

/// Find the catalogue row for a parsed call: the method must match, literal
/// segments beat OData functions beat placeholders, left to right.
pub fn find(spec: &CallSpec) -> Result<&'static Call> {
    let cat = &*CATALOG;
    let host_rows: Vec<usize> = match &spec.host {
        None => (0..cat.calls.len()).collect(),
        Some(h) if cat.hosts.iter().any(|x| x == h) => (0..cat.calls.len())
            .filter(|&i| cat.calls[i].host.is_none())
            .collect(),
        Some(h) => {
            let own: Vec<usize> = (0..cat.calls.len())
                .filter(|&i| cat.calls[i].host.as_deref() == Some(h.as_str()))
                .collect();
            let served = own
                .iter()
                .any(|&i| matches(&cat.templates[i], &spec.segments));
            if !served {
                return Err(Error::input(format!(
                    "{h} is not an MDE API host (in \"{}\")",
                    Snippet(&spec.input)
                ))
                .with_hint(format!(
                    "use one of {} (or give just the path)",
                    cat.hosts.join(", ")
                )));
            }
            own
        }
    };
    let path_matches: Vec<usize> = host_rows
        .iter()
        .copied()
        .filter(|&i| matches(&cat.templates[i], &spec.segments))
        .collect();
    // The most specific template the path fits, whatever the method: a
    // literal segment of one call (`/api/alerts/batchUpdate`, POST) is
    // never the id of another (`GET /api/alerts/{id}`), so the call's
    // method must be documented for that template.
    let top = path_matches
        .iter()
        .map(|&i| rank(&cat.templates[i]))
        .max()
        .unwrap_or_default();
    let best = path_matches
        .iter()
        .copied()
        .filter(|&i| cat.calls[i].method == spec.method && rank(&cat.templates[i]) == top)
        .max_by(|&a, &b| {
            rank(&cat.templates[a])
                .cmp(&rank(&cat.templates[b]))
                // Equal templates: the row that is not an alias wins, then the first.
                .then(
                    cat.calls[b]
                        .alias_of
                        .is_some()
                        .cmp(&cat.calls[a].alias_of.is_some()),
                )
                .then(b.cmp(&a))
        });
    if let Some(i) = best {
        let c = &cat.calls[i];
        return Ok(match &c.alias_of {
            Some(target) => by_id(target).unwrap_or(c),
            None => c,
        });
    }
    if !path_matches.is_empty() {
        // Each method with its own path; paths that differ only in a
        // placeholder's name (`{id}`, `{machineId}`) are one path.
        let shape = |p: &str| {
            p.split('/')
                .map(|seg| if seg.starts_with('{') { "{}" } else { seg })
                .collect::<Vec<_>>()
                .join("/")
        };
        let mut methods: Vec<(&str, &str)> = Vec::new();
        let mut paths: Vec<(&str, String)> = Vec::new();
        for &i in &path_matches {
            if rank(&cat.templates[i]) == top {
                let c = &cat.calls[i];
                if !methods.iter().any(|(m, _)| *m == c.method) {
                    methods.push((&c.method, &c.path));
                }
                if !paths.iter().any(|(_, s)| *s == shape(&c.path)) {
                    paths.push((&c.path, shape(&c.path)));
                }
            }
        }
        return Err(Error::input(format!(
            "{} is not a documented MDE call: {} is documented only for {}",
            spec.display(),
            paths.iter().map(|(p, _)| *p).collect::<Vec<_>>().join(", "),
            methods
                .iter()
                .map(|(m, _)| *m)
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .with_hint(format!(
            "use {}",
            methods
                .iter()
                .map(|(m, p)| format!("\"{m} {p}\""))
                .collect::<Vec<_>>()
                .join(" or ")
        )));
    }
    // A call that lives on a host of its own (the legacy Graph preview
    // calls) given on an MDE API host: the host is what is wrong.
    if let Some(h) = &spec.host
        && let Some(c) = cat.calls.iter().enumerate().find_map(|(i, c)| {
            (c.host.is_some()
                && c.method == spec.method
                && matches(&cat.templates[i], &spec.segments))
            .then_some(c)
        })
    {
        let own = c.host.as_deref().unwrap_or_default();
        return Err(Error::input(format!(
            "{} is documented on {own}, not on {h}",
            Snippet(&spec.display())
        ))
        .with_hint(format!(
            "give \"{} https://{own}{}\", or just the path",
            c.method, c.path
        )));
    }
    let near = suggestions(spec, 3);
    let hint = if near.is_empty() {
        "list the known calls with `mdeauth api`".to_string()
    } else {
        format!(
            "did you mean {}? (`mdeauth api` lists every call)",
            near.iter()
                .map(|c| format!("\"{}\"", c.label()))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    Err(Error::input(format!(
        "{} is not a documented MDE API call",
        Snippet(&spec.display())
    ))
    .with_hint(hint))
}

fn matches(t: &[Seg], segs: &[String]) -> bool {
    t.len() == segs.len() && t.iter().zip(segs).all(|(t, s)| t.matches(s))
}

fn rank(t: &[Seg]) -> Vec<u8> {
    t.iter().map(Seg::rank).collect()
}

/// The nearest known calls: per-segment edit distance, missing segments and a
/// different method cost extra; ties keep catalogue order.
pub fn suggestions(spec: &CallSpec, n: usize) -> Vec<&'static Call> {
    let cat = &*CATALOG;
    let mut scored: Vec<(usize, usize)> = cat
        .templates
        .iter()
        .enumerate()
        .filter(|(i, _)| cat.calls[*i].alias_of.is_none())
        .map(|(i, t)| {
            let mut cost = 0;
            for k in 0..t.len().max(spec.segments.len()) {
                cost += match (t.get(k), spec.segments.get(k)) {
                    (Some(seg), Some(s)) if seg.matches(s) => 0,
                    (Some(Seg::Param), Some(_)) => 0,
                    (Some(seg), Some(s)) => {
                        let s = s.to_ascii_lowercase();
                        let s = s.split('(').next().unwrap_or("");
                        let t = seg.text();
                        let common = t.chars().zip(s.chars()).take_while(|(a, b)| a == b).count();
                        if s.len() >= 3 && (t.starts_with(s) || s.starts_with(t)) {
                            1
                        } else if common >= 3 {
                            levenshtein(t, s).min(2)
                        } else {
                            levenshtein(t, s).min(6)
                        }
                    }
                    _ => 4,
                };
            }
            if cat.calls[i].method != spec.method {
                cost += 2;
            }
            (cost, i)
        })
        .collect();
    scored.sort();
    let Some(&(best, _)) = scored.first() else {
        return Vec::new();
    };
    scored
        .into_iter()
        .filter(|&(c, _)| c <= best + 2 && c <= 6)
        .take(n)
        .map(|(_, i)| &cat.calls[i])
        .collect()
}

/// Edit distance between two strings (in characters).
pub fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::permissions;

    fn r(s: &str) -> &'static str {
        resolve(s)
            .map(|c| c.id.as_str())
            .unwrap_or_else(|e| panic!("{s}: {e:?}"))
    }

    #[test]
    fn catalogue_loads_with_every_row() {
        assert_eq!(calls().len(), 121);
        assert_eq!(
            calls()
                .iter()
                .filter(|c| c.status == Status::Legacy)
                .count(),
            6
        );
        let mut ids: Vec<&str> = calls().iter().map(|c| c.id.as_str()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 121, "ids are unique");
        for c in calls() {
            if let Some(a) = &c.alias_of {
                assert!(by_id(a).is_some(), "{} alias_of {a}", c.id);
            }
        }
    }

    #[test]
    fn every_permission_name_exists_in_the_guid_list() {
        for c in calls() {
            for n in c.application.iter().flatten() {
                assert!(
                    permissions::get(PermKind::Role, n).is_some(),
                    "{}: application permission {n} is not a WindowsDefenderATP app role",
                    c.label()
                );
            }
            for n in c.delegated.iter().flatten() {
                assert!(
                    permissions::get(PermKind::Scope, n).is_some(),
                    "{}: delegated permission {n} is not a WindowsDefenderATP scope",
                    c.label()
                );
            }
        }
    }

    #[test]
    fn documented_typos_are_corrected_and_kept() {
        let update = resolve("PATCH /api/alerts/{id}").unwrap();
        assert_eq!(update.application, vec![vec!["Alert.ReadWrite.All"]]);
        assert_eq!(update.doc_spelling[0].documented, "Alerts.ReadWrite.All");
        let stats = resolve("GET /api/domains/contoso.com/stats").unwrap();
        assert_eq!(stats.application, vec![vec!["Url.Read.All"]]);
        assert!(
            stats
                .doc_spelling
                .iter()
                .any(|s| s.documented == "URL.Read.All")
        );
        let scan = resolve("POST /api/DeviceAuthenticatedScanDefinitions").unwrap();
        assert_eq!(scan.delegated, vec![vec!["Machine.ReadWrite"]]);
        let rem = resolve("GET /api/remediationTasks/123").unwrap();
        assert_eq!(rem.delegated, vec![vec!["RemediationTasks.Read"]]);
        let sq = resolve("POST /api/machines/abc/StopAndQuarantineFile").unwrap();
        assert_eq!(sq.application.len(), 2);
    }

    #[test]
    fn every_row_is_found_by_its_own_path() {
        for c in calls() {
            let concrete: String = c
                .path
                .split('/')
                .map(|s| {
                    if s.starts_with('{') && s.ends_with('}') {
                        "1e5bc9d7e413ddd7902c2932e418702b84d0cc07".to_string()
                    } else {
                        s.replace("{IP}", "10.1.2.3")
                            .replace("{TimeStamp}", "2026-03-01T10:00:00Z")
                            .replace("{time}", "2026-03-01T10:00:00Z")
                            .replace("{commandIndex}", "0")
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            let got = resolve(&format!("{} {concrete}", c.method))
                .unwrap_or_else(|e| panic!("{}: {e:?}", c.label()));
            let want = c.alias_of.as_deref().unwrap_or(&c.id);
            assert_eq!(got.id, want, "{} (as {concrete})", c.label());
            // The template itself resolves too.
            let got = resolve(&c.label()).unwrap();
            assert_eq!(got.id, want, "template {}", c.label());
        }
    }

    #[test]
    fn literal_segments_beat_placeholders() {
        assert_eq!(
            r("GET /api/machines/findbytag?tag=x"),
            "find-machines-by-tag"
        );
        assert_eq!(r("GET /api/machines/findbytag"), "find-machines-by-tag");
        assert_eq!(
            r("GET /api/machines/SoftwareInventoryByMachine?pageSize=5"),
            "export-software-inventory-assessment-json"
        );
        assert_eq!(r("GET /api/machines/abc123"), "get-machine-by-id");
        assert_eq!(r("GET /API/MACHINES/ABC123"), "get-machine-by-id");
        assert_eq!(
            r("GET /api/machines/findbyip(ip='10.1.1.1',timestamp=2026-03-01T10:00:00Z)"),
            "find-machines-by-internal-ip"
        );
        assert_eq!(
            r("GET /api/machines/findbyip(ip=%2710.1.1.1%27,timestamp=2026-03-01T10:00:00Z)"),
            "find-machines-by-internal-ip"
        );
        assert_eq!(
            r("GET /api/machineactions/7f1c/GetLiveResponseResultDownloadLink(index=0)"),
            "get-live-response-result-download-link"
        );
        assert_eq!(
            r("POST /api/machines/AddOrRemoveTagForMultipleMachines"),
            "add-or-remove-tag-for-multiple-machines"
        );
        assert_eq!(r("POST /api/alerts/batchUpdate"), "batch-update-alerts");
        assert_eq!(r("PATCH /api/alerts/da637"), "update-alert");
        assert_eq!(r("GET /api/alerts/da637"), "get-alert-by-id");
    }

    #[test]
    fn urls_versions_and_hosts() {
        for u in [
            "GET https://api.security.microsoft.com/api/machines",
            "GET https://eu.api.security.microsoft.com/api/v1.0/machines?$top=10",
            "GET https://api-gcc.securitycenter.microsoft.us/api/machines",
            "get https://API.securitycenter.windows.com/api/machines/",
            "GET /api/machines?$filter=healthStatus eq 'Active'",
            "GET api.securitycenter.microsoft.com/api/machines",
            "GET api/machines",
        ] {
            assert_eq!(r(u), "list-machines", "{u}");
        }
        assert_eq!(
            r("GET https://graph.microsoft.com/testwdatppreview/kbinfo"),
            "get-kb-collection"
        );
        let e = resolve("GET https://example.com/api/machines").unwrap_err();
        assert!(e.to_string().contains("not an MDE API host"), "{e}");
        let e = resolve("GET https://graph.microsoft.com/api/machines").unwrap_err();
        assert!(e.to_string().contains("not an MDE API host"), "{e}");
    }

    #[test]
    fn unknown_calls_suggest_and_name_methods() {
        let e = resolve("POST /api/machines/abc/isolat").unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.one_line().contains("POST /api/machines/{id}/isolate"),
            "{}",
            e.one_line()
        );
        let e = resolve("PUT /api/machines/abc").unwrap_err();
        assert!(e.to_string().contains("only for GET, PATCH"), "{e}");
        let e = resolve("DELETE /api/machines/findbytag").unwrap_err();
        assert!(e.to_string().contains("only for GET"), "{e}");
        assert!(resolve("/api/machines").is_err());
        assert!(resolve("GET").is_err());
        assert!(resolve("GET /").is_err());
    }

    #[test]
    fn a_literal_segment_of_one_call_is_never_another_call_s_id() {
        // Each path is documented for POST only; with another method it
        // must not fall back to the {id} call of that method.
        for (call, path) in [
            ("GET /api/alerts/batchUpdate", "/api/alerts/batchUpdate"),
            ("PATCH /api/alerts/batchUpdate", "/api/alerts/batchUpdate"),
            (
                "GET /api/alerts/CreateAlertByReference",
                "/api/alerts/CreateAlertByReference",
            ),
            (
                "DELETE /api/indicators/BatchDelete",
                "/api/indicators/BatchDelete",
            ),
            ("DELETE /api/indicators/import", "/api/indicators/import"),
            (
                "GET /api/machines/AddOrRemoveTagForMultipleMachines",
                "/api/machines/AddOrRemoveTagForMultipleMachines",
            ),
        ] {
            let e = resolve(call).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{call}");
            assert!(
                e.to_string()
                    .contains(&format!("{path} is documented only for POST")),
                "{call}: {e}"
            );
        }
        // Ids still resolve to the {id} calls.
        assert_eq!(
            resolve("GET /api/alerts/da637472900382838869_1364969609")
                .unwrap()
                .id,
            "get-alert-by-id"
        );
        // An OData function call is not an id either.
        assert!(resolve("GET /api/machines/findbytag(tag='prod')").is_err());
        // Only the API's one version is dropped from the path.
        assert_eq!(
            resolve("GET /api/v1.0/machines").unwrap().path,
            "/api/machines"
        );
        let e = resolve("GET /api/v2.0/machines").unwrap_err();
        assert!(
            e.to_string()
                .contains("names API version v2.0, which is not documented"),
            "{e}"
        );
    }

    #[test]
    fn percent_decoding_is_safe() {
        assert_eq!(percent_decode("a%27b"), "a'b");
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode("%ff"), "%ff");
    }
}
