//! A small Microsoft Graph reader: the app registration, its service
//! principal, what has been granted to it, and the WindowsDefenderATP
//! service principal's permission list.
//!
//! Every request goes through [`crate::http::Http`] with an
//! `Authorization: Bearer` header. The token never appears in an error:
//! anything echoed from a response is scrubbed of it first.

use serde_json::Value;

use crate::applint::MDE_APP_ID;
use crate::error::{Error, Result};
use crate::http::{Http, Response};

/// Entries read per list at most: an app's role assignments and grants
/// number a few hundred.
const MAX_ITEMS: usize = 5000;

/// What to do when a list is longer than an app's ever is.
const TOO_MUCH_HINT: &str = "check --graph-endpoint (no app registration has that many); or export the registration and its grants with az and pass them as files (MANIFEST, --grants)";

/// Follow at most this many `@odata.nextLink` pages per list.
const MAX_PAGES: usize = 20;

/// The whole read (every request of one command) may take this many
/// times `--timeout`: each request has the timeout, but a slow endpoint
/// answering each page just in time must not hold the command for 40 of them.
const BUDGET_TIMEOUTS: u32 = 4;

pub struct Graph {
    http: Http,
    /// `https://graph.microsoft.com` (no trailing slash).
    base: String,
    token: String,
    /// When the first request may start; with [`BUDGET_TIMEOUTS`], when the
    /// last may.
    started: std::time::Instant,
    /// Requests sent so far.
    sent: std::cell::Cell<u32>,
}

/// Read a Graph token: a bare token, `Bearer <token>`, or the JSON that
/// `az account get-access-token` prints (`accessToken`) or a token response
/// (`access_token`).
pub fn normalize_token(raw: &str, source: &str) -> Result<String> {
    let t = raw.trim().trim_start_matches('\u{feff}').trim();
    let t = if t.starts_with('{') {
        let v: Value = serde_json::from_str(t).map_err(|_| {
            Error::input(format!("{source} looks like JSON but does not parse"))
                .with_hint("give the token itself, or the output of az account get-access-token")
        })?;
        v.get("accessToken")
            .or_else(|| v.get("access_token"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| {
                Error::input(format!(
                    "{source} is JSON without an \"accessToken\" or \"access_token\" member"
                ))
            })?
    } else {
        t.to_string()
    };
    let t = t
        .strip_prefix("Bearer ")
        .or_else(|| t.strip_prefix("bearer "))
        .unwrap_or(&t)
        .trim()
        .to_string();
    if t.is_empty() {
        return Err(Error::input(format!("{source} is empty")).with_hint(
            "get one with az account get-access-token --resource-type ms-graph --query accessToken -o tsv",
        ));
    }
    if t.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(
            Error::input(format!("{source} holds more than one token-like word"))
                .with_hint("the file must hold just the Graph access token"),
        );
    }
    // A token for another API (the MDE token, most often) is refused here,
    // before Graph answers 401 to it.
    if let Ok(token) = crate::input::normalize(t.as_bytes()).and_then(crate::token::Token::decode)
        && let Ok(c) = &token.claims
        && !c.aud.is_empty()
        && !c
            .aud
            .iter()
            .any(|a| crate::resource::classify(a) == crate::resource::ResourceKind::Graph)
    {
        return Err(Error::input(format!(
            "{source} holds a token for {}, not for Microsoft Graph",
            if c.is_for_mde_api() {
                "the MDE API".to_string()
            } else {
                crate::error::Snippet(&c.audience_text()).to_string()
            }
        ))
        .with_hint(
            "live mode reads the app registration from Graph: get a Graph token with az account get-access-token --resource-type ms-graph --query accessToken -o tsv",
        ));
    }
    Ok(t)
}

impl Graph {
    pub fn new(http: Http, endpoint: &str, token: String) -> Result<Graph> {
        let base = endpoint.trim().trim_end_matches('/').to_string();
        crate::http::check_base_url(&base, "--graph-endpoint")?;
        Ok(Graph {
            http,
            base,
            token,
            started: std::time::Instant::now(),
            sent: std::cell::Cell::new(0),
        })
    }

    /// The application object; exit 3 when this tenant has no such app.
    pub fn application(&self, app_id: &str) -> Result<Value> {
        let path = format!("/v1.0/applications(appId='{app_id}')");
        match self.get(&path, "read the app registration")? {
            Some(v) => Ok(v),
            None => Err(Error::environment(format!(
                "Microsoft Graph has no application with appId {app_id} in this tenant"
            ))
            .with_hint(
                "check the app id, and that the Graph token is for the tenant that owns the app registration (its tid claim) and the right --cloud",
            )),
        }
    }

    /// The app's service principal in this tenant; `None` when it has none
    /// (nobody has consented to it here yet).
    pub fn service_principal(&self, app_id: &str) -> Result<Option<Value>> {
        self.get(
            &format!("/v1.0/servicePrincipals(appId='{app_id}')"),
            "read the app's service principal",
        )
    }

    /// The WindowsDefenderATP service principal with its permission lists;
    /// `None` when MDE is not provisioned in this tenant.
    pub fn mde_service_principal(&self) -> Result<Option<Value>> {
        self.get(
            &format!(
                "/v1.0/servicePrincipals(appId='{MDE_APP_ID}')?$select=id,appId,displayName,appRoles,oauth2PermissionScopes"
            ),
            "read the WindowsDefenderATP service principal",
        )
    }

    /// App-role assignments (application permissions granted) of a service principal.
    pub fn app_role_assignments(&self, sp_id: &str) -> Result<Vec<Value>> {
        self.list(
            &format!("/v1.0/servicePrincipals/{sp_id}/appRoleAssignments"),
            "read the app-role assignments",
        )
    }

    /// OAuth2 permission grants (delegated permissions consented) of a service principal.
    pub fn oauth2_permission_grants(&self, sp_id: &str) -> Result<Vec<Value>> {
        self.list(
            &format!("/v1.0/servicePrincipals/{sp_id}/oauth2PermissionGrants"),
            "read the delegated permission grants",
        )
    }

    fn list(&self, path: &str, what: &str) -> Result<Vec<Value>> {
        let mut url = format!("{}{path}", self.base);
        let mut items = Vec::new();
        for _ in 0..MAX_PAGES {
            let r = self.send(&url)?;
            let mut v = self.check(r, what)?.unwrap_or(Value::Null);
            if let Some(Value::Array(a)) = v.get_mut("value").map(Value::take) {
                items.extend(a);
            }
            if items.len() > MAX_ITEMS {
                return Err(Error::environment(format!(
                    "Microsoft Graph returned more than {MAX_ITEMS} entries to {what}; giving up"
                ))
                .with_hint(TOO_MUCH_HINT));
            }
            match v.get("@odata.nextLink").and_then(Value::as_str) {
                Some(next) if self.same_origin(next) => url = next.to_string(),
                Some(next) => {
                    return Err(Error::environment(format!(
                        "Microsoft Graph sent a next-page link to another host ({}); not sending the token there",
                        crate::cloud::url_host(next).unwrap_or_else(|| "?".to_string())
                    ))
                    .with_hint("check --graph-endpoint and any proxy in between"));
                }
                None => return Ok(items),
            }
        }
        Err(Error::environment(format!(
            "Microsoft Graph returned more than {MAX_PAGES} pages to {what}; giving up"
        ))
        .with_hint(TOO_MUCH_HINT))
    }

    /// True when `url` has the endpoint's scheme, host and port.
    fn same_origin(&self, url: &str) -> bool {
        match (url::Url::parse(&self.base), url::Url::parse(url)) {
            (Ok(a), Ok(b)) => a.origin() == b.origin(),
            _ => false,
        }
    }

    /// GET one object; `Ok(None)` on 404.
    fn get(&self, path: &str, what: &str) -> Result<Option<Value>> {
        let r = self.send(&format!("{}{path}", self.base))?;
        self.check(r, what)
    }

    fn send(&self, url: &str) -> Result<Response> {
        let budget = self.http.options().timeout * BUDGET_TIMEOUTS;
        if self.started.elapsed() > budget {
            return Err(Error::environment(format!(
                "Microsoft Graph took more than {} s to answer {} requests; giving up",
                budget.as_secs(),
                self.sent.get()
            ))
            .with_hint(format!(
                "Graph or the network is slow: retry later, or raise --timeout (reading an app from Graph may take {BUDGET_TIMEOUTS} times it)"
            )));
        }
        self.sent.set(self.sent.get() + 1);
        let auth = format!("Bearer {}", self.token);
        self.http
            .get(
                url,
                &[("Authorization", &auth), ("Accept", "application/json")],
            )
            .map_err(|e| self.scrub_error(e))
    }

    fn check(&self, r: Response, what: &str) -> Result<Option<Value>> {
        let code = self.graph_error(&r);
        let detail = if code.is_empty() {
            String::new()
        } else {
            format!(" ({code})")
        };
        match r.status {
            200..=299 => r.json().map(Some).map_err(|e| self.scrub_error(e)),
            404 => Ok(None),
            401 => Err(Error::environment(format!(
                "Microsoft Graph rejected the token (HTTP 401{}): it is expired, malformed or not for Microsoft Graph",
                code_suffix(&code)
            ))
            .with_hint(
                "get a fresh Graph token: az account get-access-token --resource-type ms-graph --query accessToken -o tsv > graph.token",
            )),
            403 => Err(Error::environment(format!(
                "Microsoft Graph refused to {what} (HTTP 403{}): the token lacks the permission",
                code_suffix(&code)
            ))
            .with_hint(
                "the Graph token needs Application.Read.All (and Directory.Read.All for delegated grants), as an application permission or a delegated one with a directory reader role",
            )),
            429 => Err(Error::environment(format!(
                "Microsoft Graph is throttling requests (HTTP 429) while trying to {what}"
            ))
            .with_hint(crate::http::retry_after_advice(
                r.header("Retry-After"),
                chrono::Utc::now().timestamp(),
            ))),
            s => Err(Error::environment(format!(
                "Microsoft Graph answered HTTP {s}{detail} while trying to {what}"
            ))
            .with_hint(if s >= 500 {
                "the service failed; retry later"
            } else {
                "check --graph-endpoint and --cloud"
            })),
        }
    }

    /// The `error.code` of a Graph error body, scrubbed.
    fn graph_error(&self, r: &Response) -> String {
        let code = serde_json::from_slice::<Value>(&r.body)
            .ok()
            .and_then(|v| {
                v.get("error")
                    .and_then(|e| e.get("code"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .unwrap_or_default();
        let code: String = code
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
            .take(80)
            .collect();
        self.scrub(&code)
    }

    /// `s` without the Graph token, whole or in part (an echo of its
    /// first characters, or of its signature).
    fn scrub(&self, s: &str) -> String {
        let whole = if self.token.len() >= 8 {
            s.replace(&self.token, "[redacted]")
        } else {
            s.to_string()
        };
        crate::redact::scrub_token(&whole, &self.token)
    }

    fn scrub_error(&self, e: Error) -> Error {
        let hint = e.hint().map(|h| self.scrub(h));
        let scrubbed = match &e {
            Error::Input { message, .. } => Error::input(self.scrub(message)),
            Error::Environment { message, .. } => Error::environment(self.scrub(message)),
        };
        match hint {
            Some(h) => scrubbed.with_hint(h),
            None => scrubbed,
        }
    }
}

fn code_suffix(code: &str) -> String {
    if code.is_empty() {
        String::new()
    } else {
        format!(", {code}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_forms() {
        assert_eq!(
            normalize_token(" abc.def.ghi\n", "f").unwrap(),
            "abc.def.ghi"
        );
        assert_eq!(normalize_token("Bearer abc", "f").unwrap(), "abc");
        assert_eq!(
            normalize_token(r#"{"accessToken":"xyz","tokenType":"Bearer"}"#, "f").unwrap(),
            "xyz"
        );
        assert!(normalize_token("", "f").is_err());
        assert!(normalize_token("a b", "f").is_err());
    }
}
