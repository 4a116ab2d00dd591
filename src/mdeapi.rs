//! A minimal MDE API client for `probe` and `doctor`: build one call's URL on
//! the right host, send it with the token, and explain the answer (200, 401,
//! 403 with the API's own message, 404, 429, 5xx).
//!
//! Nothing here prints the token or the Authorization header, and response
//! data never leaves this module beyond counts and ids.

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::catalog::{self, Call, CallSpec};
use crate::checks::{self, Clock};
use crate::cloud;
use crate::consent;
use crate::error::{Error, Result, Snippet};
use crate::finding::{Finding, Severity};
use crate::http::{self, Http, Response};
use crate::permissions::{PermContext, PermKind};
use crate::resource::ResourceKind;
use crate::token::{Context, Token};

#[derive(Deserialize)]
struct Region {
    name: String,
    host: String,
}

#[derive(Deserialize)]
struct RegionFile {
    regions: Vec<Region>,
}

static REGIONS: LazyLock<Vec<Region>> = LazyLock::new(|| {
    serde_json::from_str::<RegionFile>(include_str!("../data/mde-regions.json"))
        .expect("data/mde-regions.json is valid (checked by tests)")
        .regions
});

/// The `--region` names.
pub const REGION_NAMES: [&str; 5] = ["us", "eu", "uk", "au", "swa"];

/// The regional host for a `--region` name.
pub fn region_host(name: &str) -> Result<&'static str> {
    let n = name.trim().to_ascii_lowercase();
    REGIONS
        .iter()
        .find(|r| r.name == n)
        .map(|r| r.host.as_str())
        .ok_or_else(|| {
            Error::input(format!("unknown region {name:?}"))
                .with_hint(format!("use one of {}", REGION_NAMES.join(", ")))
        })
}

/// Where the call goes: `--api-base`, else `--region` (public cloud only),
/// else the cloud's API host (`--cloud`, else the token issuer's cloud, else public).
#[derive(Debug, Clone, Default)]
pub struct HostOptions {
    pub api_base: Option<String>,
    pub cloud: Option<String>,
    pub region: Option<String>,
}

impl HostOptions {
    pub fn is_default(&self) -> bool {
        self.api_base.is_none() && self.cloud.is_none() && self.region.is_none()
    }
}

/// The base URL (scheme and host, no trailing slash) for the options and token.
pub fn base_url(o: &HostOptions, issuer_cloud: Option<&str>) -> Result<String> {
    if let Some(b) = &o.api_base {
        if o.region.is_some() || o.cloud.is_some() {
            return Err(Error::input(
                "--api-base names the host itself; it cannot be combined with --cloud or --region",
            ));
        }
        let u = http::check_base_url(b, "--api-base")?;
        return Ok(u.as_str().trim_end_matches('/').to_string());
    }
    let cloud_name = o.cloud.as_deref().or(issuer_cloud).unwrap_or("public");
    let c = cloud::by_name(cloud_name)?;
    if let Some(r) = &o.region {
        if c.name != "public" {
            return Err(Error::input(format!(
                "--region applies to the commercial cloud, not {}",
                c.display
            ))
            .with_hint("drop --region; the US Government clouds have one API host each"));
        }
        return Ok(format!("https://{}", region_host(r)?));
    }
    if c.api_host.is_empty() {
        return Err(Error::input(format!(
            "the MDE API is not offered in the {} cloud",
            c.display
        ))
        .with_hint("use --cloud public|gcc|gcc-high|dod, or --api-base URL"));
    }
    Ok(format!("https://{}", c.api_host))
}

/// One call to send: method, the path and query as given, its catalogue row.
#[derive(Debug, Clone)]
pub struct ParsedCall {
    pub method: String,
    /// Path as written (version prefix kept).
    pub path: String,
    /// Query string as written, without `?`.
    pub query: Option<String>,
    /// The host of a full URL, when one was given.
    pub host: Option<String>,
    pub row: &'static Call,
    /// A GET of a collection: the probe adds `$top=1`.
    pub list: bool,
}

impl ParsedCall {
    pub fn is_read(&self) -> bool {
        self.method == "GET"
    }

    pub fn label(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// Parse and match a call; refuse unknown calls, non-MDE hosts and unfilled
/// placeholders (all exit 2).
pub fn parse_call(input: &str) -> Result<ParsedCall> {
    let spec = CallSpec::parse(input)?;
    let row = catalog::find(&spec)?;
    if let Some(h) = &spec.host
        && !catalog::hosts().iter().any(|x| x == h)
    {
        return Err(Error::input(format!(
            "{h} is not an MDE API host; the probe sends the token only to MDE API hosts"
        ))
        .with_hint("give the path alone (e.g. \"GET /api/alerts\") and pick the host with --cloud, --region or --api-base"));
    }
    if let Some(h) = &row.host {
        return Err(Error::input(format!(
            "{} is a legacy call served by {h}, not by the MDE API; the probe does not send it",
            row.label()
        ))
        .with_hint("move to a current call (`mdeauth api --search ...`)"));
    }
    let rest = input
        .trim()
        .split_once(char::is_whitespace)
        .map(|(_, r)| r.trim())
        .unwrap_or("");
    let (path, query) = if rest.contains("://") {
        let u = url::Url::parse(rest)
            .map_err(|e| Error::input(format!("\"{}\" is not a URL ({e})", Snippet(rest))))?;
        (u.path().to_string(), u.query().map(str::to_string))
    } else {
        let no_frag = rest.split('#').next().unwrap_or("");
        let (p, q) = match no_frag.split_once('?') {
            Some((p, q)) => (p, Some(q.to_string())),
            None => (no_frag, None),
        };
        let p = if p.starts_with('/') {
            p.to_string()
        } else if let Some((h, tail)) = p.split_once('/')
            && h.contains('.')
        {
            format!("/{tail}")
        } else {
            format!("/{p}")
        };
        (p, q)
    };
    for seg in &spec.segments {
        if let Some(name) = placeholder(&crate::catalog::percent_decode(seg)) {
            return Err(Error::input(format!(
                "{} still has the placeholder {name} in its path",
                Snippet(input.trim())
            ))
            .with_hint(format!(
                "fill in {name} with a real value (e.g. an id from the matching list call) before probing"
            )));
        }
    }
    if let Some(q) = &query
        && let Some(name) = placeholder(&crate::catalog::percent_decode(q))
    {
        return Err(Error::input(format!(
            "{} still has the placeholder {name} in its query",
            Snippet(input.trim())
        ))
        .with_hint(format!("fill in {name} with a real value before probing")));
    }
    let last = row.path.rsplit('/').next().unwrap_or("");
    let list = spec.method == "GET" && !last.contains('{') && !last.contains('(');
    Ok(ParsedCall {
        method: spec.method.clone(),
        path,
        query,
        host: spec.host.clone(),
        row,
        list,
    })
}

/// `{id}`- or `<id>`-style text left in a segment (the docs write both).
fn placeholder(s: &str) -> Option<String> {
    ['{', '<'].into_iter().find_map(|open_c| {
        let close_c = if open_c == '{' { '}' } else { '>' };
        let open = s.find(open_c)?;
        let close = s[open..].find(close_c)? + open;
        Some(s[open..=close].to_string())
    })
}

/// The full URL: base + path + query, with `$top=1` on list calls.
pub fn url(call: &ParsedCall, base: &str) -> Result<String> {
    let mut parts: Vec<String> = call
        .query
        .as_deref()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .filter(|p| {
            let key = p.split('=').next().unwrap_or("");
            !(call.list && crate::catalog::percent_decode(key).eq_ignore_ascii_case("$top"))
        })
        .map(str::to_string)
        .collect();
    if call.list {
        parts.push("$top=1".to_string());
    }
    let mut s = format!("{}{}", base.trim_end_matches('/'), call.path);
    if !parts.is_empty() {
        s.push('?');
        s.push_str(&parts.join("&"));
    }
    Ok(http::check_url(&s)?.to_string())
}

/// The `probe` section of the JSON report.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeSection {
    pub call: String,
    pub url: String,
    pub method: String,
    /// HTTP status; absent when nothing was sent.
    pub status: Option<u16>,
    /// `error.code` of an error body.
    pub error_code: Option<String>,
    /// `error.target` of an error body (the per-request id support asks for).
    pub correlation_id: Option<String>,
    /// The `Retry-After` header of a 429, as sent.
    pub retry_after: Option<String>,
    /// A 401's `WWW-Authenticate` verdict: its `error` and
    /// `error_description` (`invalid_token: The token is expired`).
    pub auth_error: Option<String>,
    /// Permissions the API (403 message) or else the catalogue says the call accepts.
    pub required_roles: Vec<String>,
    /// The token's roles (application) or scopes (delegated).
    pub token_roles: Vec<String>,
    /// Items in `value` (lists) or 1 (one entity) on success.
    pub items: Option<usize>,
    /// Ids of the returned items (at most 5); no other data is kept.
    pub ids: Vec<String>,
}

/// How the API answered, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// 2xx (exit 0).
    Ok,
    /// The API said no: 4xx (exit 1).
    Refused,
    /// 5xx (exit 3).
    ServerError,
}

/// The result of one probe.
#[derive(Debug, Clone)]
pub struct Probed {
    pub section: ProbeSection,
    pub findings: Vec<Finding>,
    pub answer: Answer,
}

impl ProbeSection {
    /// The section of a call that got no usable answer (no status): what
    /// was sent where, so every outcome has one.
    pub fn unanswered(call: &ParsedCall, url: &str, token: &Token) -> ProbeSection {
        let ctx = token_context(token);
        ProbeSection {
            call: call.label(),
            url: crate::http::shown_url(url).into_owned(),
            method: call.method.clone(),
            status: None,
            error_code: None,
            correlation_id: None,
            retry_after: None,
            auth_error: None,
            required_roles: call.row.accepted(ctx.perm_kind()),
            token_roles: token
                .claims
                .as_ref()
                .map(|c| c.granted(ctx))
                .unwrap_or_default(),
            items: None,
            ids: Vec::new(),
        }
    }
}

/// The context a token's permissions are read in: delegated for a user's
/// token, else application.
fn token_context(token: &Token) -> PermContext {
    match token.claims.as_ref().map(|c| c.classify().context) {
        Ok(Context::Delegated) => PermContext::Delegated,
        _ => PermContext::Application,
    }
}

/// `probe.no_answer`: `call` got no usable answer (`e`: no connection, a
/// timeout, a refused redirect, a cut-off body), for `probe` and `doctor`.
pub fn no_answer(call: &ParsedCall, e: &Error) -> Finding {
    Finding::error(
        "probe.no_answer",
        format!("{}: {e}", call.label()),
        e.hint().unwrap_or(""),
    )
}

/// Send the call with the token and interpret the answer. Errors are
/// transport failures (exit 3). `verified`: the caller has verified the
/// token's signature (doctor), so a 401 is not blamed on it.
pub fn probe(
    http: &Http,
    call: &ParsedCall,
    url: &str,
    token: &Token,
    clock: Clock,
    body: Option<&[u8]>,
    verified: bool,
) -> Result<Probed> {
    let auth = format!("Bearer {}", token.compact.token);
    let headers = [
        ("Authorization", auth.as_str()),
        ("Accept", "application/json"),
    ];
    let resp = if call.method == "GET" {
        http.get(url, &headers)?
    } else {
        http.request(&call.method, url, &headers, body)?
    };
    let sent = Sent {
        at: chrono::Utc::now().timestamp(),
        signature_verified: verified,
    };
    Ok(interpret(call, url, &resp, token, clock, sent))
}

/// When the request went out, and whether the caller verified the token's
/// signature before sending it.
#[derive(Debug, Clone, Copy)]
pub struct Sent {
    pub at: i64,
    pub signature_verified: bool,
}

/// The error object of an MDE error body: `{"error": {code, message, target}}`
/// (or the same members at the top level).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiError {
    pub code: Option<String>,
    pub message: Option<String>,
    pub target: Option<String>,
}

pub use crate::redact::scrub_token;

pub fn parse_error(body: &[u8]) -> ApiError {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return ApiError::default();
    };
    let e = v.get("error").filter(|e| e.is_object()).unwrap_or(&v);
    let s = |k: &str| {
        e.get(k)
            .and_then(Value::as_str)
            .map(|s| s.chars().filter(|c| !c.is_control()).collect::<String>())
            .filter(|s| !s.trim().is_empty())
    };
    let message =
        s("message").or_else(|| v.get("error").and_then(Value::as_str).map(str::to_string));
    let id = |v: Option<String>| v.map(|v| crate::text::clip_chars(&v, crate::text::MAX_ID_CHARS));
    ApiError {
        code: id(s("code")),
        message,
        target: id(s("target")),
    }
}

/// Roles a 403 message names: `(required, held)`.
///
/// Current: `Missing application roles. API required roles: A,B, application roles: C.`
/// Older: `... any of the required application permissions (A, B) to access the resource.`
pub fn roles_in_message(msg: &str) -> (Vec<String>, Vec<String>) {
    let list = |s: &str| -> Vec<String> {
        s.split(',')
            .map(|p| p.trim().trim_end_matches('.').trim().to_string())
            .filter(|p| !p.is_empty() && !p.contains(' '))
            .collect()
    };
    let lower = msg.to_ascii_lowercase();
    if let Some(i) = lower.find("required roles:") {
        let after = &msg[i + "required roles:".len()..];
        let after_lower = after.to_ascii_lowercase();
        return match after_lower.find("application roles:") {
            Some(j) => (
                list(&after[..j]),
                list(&after[j + "application roles:".len()..]),
            ),
            None => (list(after), Vec::new()),
        };
    }
    if let Some(i) = lower.find("required") {
        let after = &msg[i..];
        if let (Some(o), Some(c)) = (after.find('('), after.find(')'))
            && o < c
        {
            return (list(&after[o + 1..c]), Vec::new());
        }
    }
    (Vec::new(), Vec::new())
}

fn status_text(s: u16) -> &'static str {
    match s {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

/// Explain a response.
pub fn interpret(
    call: &ParsedCall,
    url: &str,
    resp: &Response,
    token: &Token,
    clock: Clock,
    sent: Sent,
) -> Probed {
    let claims = token.claims.as_ref().ok();
    let cls = claims.map(|c| c.classify());
    let kind = token_context(token).perm_kind();
    // Whatever the server says is shown without the token it was sent: an
    // API or proxy that echoes the Authorization header must not make the
    // report print the credential.
    let secret = token.compact.token.as_str();
    let mut err = parse_error(&resp.body);
    for t in [&mut err.code, &mut err.message, &mut err.target]
        .into_iter()
        .flatten()
    {
        *t = scrub_token(t, secret);
    }
    let correlation = err.target.clone().or_else(|| {
        ["x-correlation-id", "request-id", "x-ms-request-id"]
            .iter()
            .find_map(|h| {
                resp.header(h).map(|v| {
                    crate::text::clip_chars(&scrub_token(v, secret), crate::text::MAX_ID_CHARS)
                })
            })
    });
    let status = resp.status;
    // The token's own errors, judged at the report's clock.
    let offline = match (claims, &cls) {
        (Some(c), Some(cls)) => offline_errors(token, c, cls, clock),
        _ => Vec::new(),
    };
    let mut section = ProbeSection {
        status: Some(status),
        error_code: err.code.clone(),
        correlation_id: correlation.clone(),
        ..ProbeSection::unanswered(call, url, token)
    };
    let said = format!(
        "{} answered {status} {} to {}{}",
        cloud::url_host(url).unwrap_or_else(|| "the API".into()),
        status_text(status),
        call.label(),
        if resp.cut {
            format!(
                " (its body, over {} KB, was read only that far)",
                resp.body.len() / 1024
            )
        } else {
            String::new()
        }
    );
    let corr = correlation
        .as_deref()
        .map(|c| format!(" (correlation id {c})"))
        .unwrap_or_default();
    let api_msg = err
        .message
        .as_deref()
        .map(|m| format!(": \"{}\"", crate::text::clip_chars(m, 300)))
        .unwrap_or_default();
    let mut findings = Vec::new();
    let answer = match status {
        200..=299 => {
            let v: Option<Value> = serde_json::from_slice(&resp.body).ok();
            let ids = |items: &[Value]| -> Vec<String> {
                items
                    .iter()
                    .filter_map(|i| match i.get("id") {
                        Some(Value::String(s)) => {
                            Some(crate::text::clip_chars(&scrub_token(s, secret), 80))
                        }
                        Some(Value::Number(n)) => Some(n.to_string()),
                        _ => None,
                    })
                    .take(5)
                    .collect()
            };
            let what = match &v {
                Some(Value::Object(o)) if o.get("value").is_some_and(Value::is_array) => {
                    let items = o["value"].as_array().map(Vec::as_slice).unwrap_or(&[]);
                    section.items = Some(items.len());
                    section.ids = ids(items);
                    format!(
                        "{} item(s) in value{}",
                        items.len(),
                        if call.list {
                            " (read bounded with $top=1)"
                        } else {
                            ""
                        }
                    )
                }
                Some(Value::Object(_)) => {
                    let one = v.as_slice();
                    section.items = Some(1);
                    section.ids = ids(one);
                    match section.ids.first() {
                        Some(id) => format!("one object, id {id}"),
                        None => "one object".to_string(),
                    }
                }
                // No content is an answer for a 204, or for an action
                // (POST, PATCH, DELETE); a GET of the MDE API always has a body.
                _ if resp.body.is_empty() && (status == 204 || call.method != "GET") => {
                    "no body".to_string()
                }
                _ => String::new(),
            };
            if what.is_empty() {
                // A 2xx whose body is an HTML page or cut-off JSON did not come
                // whole from the MDE API: a proxy or captive portal answered,
                // or the response was truncated. Never call that a pass.
                let kind = if resp.body.is_empty() {
                    "empty"
                } else if resp.body.trim_ascii_start().starts_with(b"<") {
                    "an HTML page"
                } else if v.is_some() {
                    "JSON but not an object"
                } else {
                    "not a whole JSON document"
                };
                findings.push(Finding::error(
                    "probe.unexpected_body",
                    format!(
                        "{said}, but its {}-byte body is {kind}: something other than the MDE API answered, or the response was cut off{corr}",
                        resp.body.len()
                    ),
                    "check proxies and captive portals between this machine and the API (HTTPS_PROXY, NO_PROXY), and the host (--cloud, --region, --api-base); then retry",
                ));
                Answer::ServerError
            } else {
                findings.push(Finding::info(
                    "probe.ok",
                    format!("{said}: {what}; the token works for this call"),
                    "",
                ));
                Answer::Ok
            }
        }
        401 => {
            // What the API's token validation said, when it says it.
            section.auth_error = resp
                .header("www-authenticate")
                .and_then(bearer_error)
                .map(|e| crate::text::clip_chars(&scrub_token(&e, secret), 300));
            findings.push(unauthorized(
                &said,
                &api_msg,
                &corr,
                section.auth_error.as_deref(),
                url,
                token,
                &offline,
                clock,
                sent,
            ));
            Answer::Refused
        }
        // A token for another API: the API does not count its roles at all,
        // so the audience is the cause, whatever permissions it lists.
        403 if cls
            .as_ref()
            .is_some_and(|c| c.resource != ResourceKind::Mde) =>
        {
            let aud = claims.map(|c| c.audience_text()).unwrap_or_default();
            findings.push(Finding::error(
                "probe.forbidden",
                format!(
                    "{said}{api_msg}{corr}: the token is not for the MDE API (aud {aud}), so the API ignores whatever permissions it carries"
                ),
                format!("request a token for {} and retry", crate::resource::MDE_SCOPE),
            ));
            Answer::Refused
        }
        // An HTML page is a proxy's or a firewall's answer: the MDE API
        // answers in JSON, so nothing about the token's permissions follows.
        403 if err == ApiError::default() && resp.body.trim_ascii_start().starts_with(b"<") => {
            findings.push(Finding::error(
                "probe.forbidden",
                format!(
                    "{said}{corr} with an HTML page, not the MDE API's JSON error: a proxy or web application firewall between this machine and the API probably refused the request"
                ),
                "check the proxies and firewalls on the way (HTTPS_PROXY, NO_PROXY) and the host (--cloud, --region, --api-base); the token's permissions were not judged",
            ));
            Answer::Refused
        }
        403 => {
            findings.extend(forbidden(
                call,
                &mut section,
                &err,
                &said,
                &api_msg,
                &corr,
                token,
                kind,
            ));
            Answer::Refused
        }
        404 => {
            let fix = if call.list {
                "the path or host is wrong: check the call (`mdeauth api`), --cloud and --region"
            } else {
                "check the id (take it from the matching list call) and that it belongs to this tenant, cloud and region"
            };
            findings.push(Finding::error(
                "probe.not_found",
                format!("{said}{api_msg}{corr}"),
                fix,
            ));
            Answer::Refused
        }
        429 => {
            let ra = resp.header("retry-after").map(|s| s.trim().to_string());
            section.retry_after = ra.clone();
            let when = http::retry_after_advice(ra.as_deref(), chrono::Utc::now().timestamp());
            let limit = call
                .row
                .rate_limit
                .as_deref()
                .map(|l| format!(" (documented limit for this call: {l})"))
                .unwrap_or_default();
            findings.push(Finding::error(
                "probe.throttled",
                format!("{said}: the API's rate limit was reached{limit}{corr}"),
                format!("{when}; retrying sooner keeps returning 429 (mdeauth did not retry)"),
            ));
            Answer::Refused
        }
        500..=599 => {
            findings.push(Finding::error(
                "probe.server_error",
                format!("{said}{api_msg}{corr}"),
                if offline.is_empty() {
                    "the service failed, not the token: retry later; if it persists, open a support case quoting the correlation id"
                } else {
                    "the service failed; the token's own errors (below) will fail the call once it answers: fix them, then retry"
                },
            ));
            Answer::ServerError
        }
        _ => {
            let code = err.code.as_deref().unwrap_or("");
            findings.push(Finding::error(
                "probe.rejected",
                format!("{said}{}{api_msg}{corr}", if code.is_empty() { String::new() } else { format!(" ({code})") }),
                "the request itself was refused: check the path, query and body against the call's documentation page",
            ));
            Answer::Refused
        }
    };
    // Whatever the API said, the token's own errors (judged when the
    // request was sent) come along: a throttled or failing service is
    // retried in vain with a token that has expired meanwhile.
    if answer != Answer::Ok {
        findings.extend(offline);
    }
    Probed {
        section,
        findings,
        answer,
    }
}

/// The `error` and `error_description` of a `WWW-Authenticate: Bearer`
/// challenge (RFC 6750 §3), as `error: description`.
fn bearer_error(header: &str) -> Option<String> {
    let lower = header.to_ascii_lowercase();
    let param = |name: &str| -> Option<String> {
        let mut from = 0;
        while let Some(i) = lower[from..].find(name) {
            let at = from + i;
            from = at + name.len();
            // A whole parameter name: at the start or after a separator.
            let before = lower[..at].trim_end();
            if !(before.is_empty() || before.ends_with(',') || before.ends_with("bearer")) {
                continue;
            }
            let rest = header[from..].trim_start();
            let Some(rest) = rest.strip_prefix('=') else {
                continue;
            };
            let rest = rest.trim_start();
            let value = match rest.strip_prefix('"') {
                Some(q) => q.split('"').next().unwrap_or(""),
                None => rest.split([',', ' ']).next().unwrap_or(""),
            };
            let value: String = value.chars().filter(|c| !c.is_control()).collect();
            return Some(value.trim().to_string()).filter(|v| !v.is_empty());
        }
        None
    };
    match (param("error"), param("error_description")) {
        (Some(e), Some(d)) => Some(format!("{e}: {d}")),
        (e, d) => e.or(d),
    }
}

#[allow(clippy::too_many_arguments)]
fn unauthorized(
    said: &str,
    api_msg: &str,
    corr: &str,
    auth_error: Option<&str>,
    url: &str,
    token: &Token,
    offline: &[Finding],
    clock: Clock,
    sent: Sent,
) -> Finding {
    let mut causes: Vec<String> = Vec::new();
    let mut cloud_fix = None;
    if let Ok(c) = &token.claims {
        let cls = c.classify();
        // Another cloud's API never accepts the token, whatever else holds.
        let host = crate::cloud::url_host(url).unwrap_or_default();
        if let Some(f) = checks::host_cloud_mismatch(&cls, c.iss.as_deref(), &host) {
            causes.push(if f.is_error() {
                "wrong cloud: this API accepts only tokens of its own cloud's Azure AD (call.wrong_cloud)".to_string()
            } else {
                "perhaps the wrong cloud: this API accepts only tokens of its own cloud's Azure AD, and the token's issuer suggests another (call.wrong_cloud)".to_string()
            });
            cloud_fix = Some(format!("{}: {}", f.message, f.fix));
        }
        // The token's own errors, as interpret worked them out.
        let offline: Vec<&'static str> = offline.iter().map(|f| f.code).collect();
        // Judged when the request went out, whatever --at the report is at.
        if offline
            .iter()
            .any(|c| *c == "token.expired" || *c == "token.not_yet_valid")
        {
            causes.push("expired (or not yet valid): its exp/nbf is outside the clock".to_string());
        } else if let Some(exp) = c.exp.filter(|e| *e + clock.leeway < sent.at) {
            causes.push(format!(
                "expired when the request was sent: exp {} is before now (the report's other checks are judged at {})",
                crate::timefmt::rfc3339(exp),
                crate::timefmt::rfc3339(clock.now)
            ));
        }
        if cls.resource != ResourceKind::Mde || offline.iter().any(|c| c.starts_with("aud.")) {
            causes.push("wrong audience: it was not issued for the MDE API".to_string());
        }
        if offline.contains(&"token.id_token") {
            causes.push("it is an ID token, not an access token".to_string());
        }
        if offline
            .iter()
            .any(|c| matches!(*c, "issuer.mismatch" | "issuer.tenant_mismatch"))
        {
            causes.push(
                "its issuer is not what Azure AD writes for its tenant (tid) and version: not issued by Azure AD as it stands".to_string(),
            );
        }
        if offline.contains(&"claims.tid_missing") {
            causes.push("it has no tid, which Azure AD tokens always carry".to_string());
        }
        if offline.contains(&"claims.tid_not_guid") {
            causes.push(
                "its tid is not a tenant id as Azure AD writes it (a lower-case GUID)".to_string(),
            );
        }
        if offline
            .iter()
            .any(|c| c.starts_with("header.alg") || *c == "issuer.not_aad")
        {
            causes.push(
                "bad signature: its header or issuer is not what Azure AD produces".to_string(),
            );
        }
    }
    let new_token = "get a new token for https://api.securitycenter.microsoft.com (scope .../.default) from the tenant's Azure AD; `mdeauth token` does it".to_string();
    let (cause, fix) = if let Some(fix) = cloud_fix.filter(|_| causes.len() == 1) {
        (format!("likely cause: {}", causes[0]), fix)
    } else if !causes.is_empty() {
        (format!("likely cause: {}", causes.join("; ")), new_token)
    } else if let Some(why) = auth_error {
        // Nothing offline explains it, but the API said why.
        let lower = why.to_ascii_lowercase();
        let fix = if lower.contains("expired") || lower.contains("lifetime") {
            new_token
        } else if lower.contains("audience") {
            let aud_is_mde = token
                .claims
                .as_ref()
                .is_ok_and(|c| c.classify().resource == ResourceKind::Mde);
            if aud_is_mde {
                // The token is for the MDE API already: the API answering
                // expects another audience (another cloud's or region's).
                "the token's audience is the MDE API's already: check the API host (--cloud, --region, --api-base) is the one for the tenant's cloud and region, and that the tenant has Defender for Endpoint".to_string()
            } else {
                format!(
                    "request the token for {} (the MDE API's audience), then retry",
                    crate::resource::MDE_SCOPE
                )
            }
        } else if lower.contains("signature") || lower.contains("issuer") {
            "run `mdeauth verify` on the token; check that it comes from this cloud's Azure AD (--cloud) and was not altered".to_string()
        } else {
            "fix what the API names, then get a new token; `mdeauth verify` checks the signature and claims".to_string()
        };
        (format!("the API says {why}"), fix)
    } else if sent.signature_verified {
        (
            "the token passes the offline checks and its signature was verified, so the likely cause is a tenant without Defender for Endpoint, or an API host of another cloud or region".to_string(),
            "check that the tenant has Defender for Endpoint, and the host (--cloud, --region, --api-base)".to_string(),
        )
    } else {
        (
            "the token passes the offline checks, so the likely cause is its signature (not issued by this cloud's Azure AD, or altered) or a tenant without MDE".to_string(),
            "run `mdeauth verify` on the token; check that the tenant has Defender for Endpoint and that --cloud matches the tenant".to_string(),
        )
    };
    let api_said = match auth_error {
        Some(e) if api_msg.is_empty() => format!(" (WWW-Authenticate: {e})"),
        _ => String::new(),
    };
    Finding::error(
        "probe.unauthorized",
        format!("{said}{api_msg}{api_said}{corr}: the API did not accept the token; {cause}"),
        fix,
    )
}

/// The token's offline error findings (header and claims), which name
/// the likely cause of a 401, or of a 403 to a token for another API.
fn offline_errors(
    token: &Token,
    c: &crate::token::Claims,
    cls: &crate::token::Classification,
    clock: Clock,
) -> Vec<Finding> {
    checks::header(&token.header)
        .into_iter()
        .chain(checks::claims(&token.header, c, cls, clock))
        .filter(|f| f.severity == Severity::Error)
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn forbidden(
    call: &ParsedCall,
    section: &mut ProbeSection,
    err: &ApiError,
    said: &str,
    api_msg: &str,
    corr: &str,
    token: &Token,
    kind: PermKind,
) -> Vec<Finding> {
    let mut out = Vec::new();
    match err.code.as_deref() {
        Some("DisabledFeature") => {
            out.push(Finding::error(
                "probe.disabled_feature",
                format!("{said}{api_msg}{corr}: a tenant feature this call needs is turned off"),
                "turn the feature on in the Defender portal (Settings > Endpoints > Advanced features), then retry",
            ));
            return out;
        }
        Some("DisallowedOperation") => {
            out.push(Finding::error(
                "probe.disallowed_operation",
                format!("{said}{api_msg}{corr}: the API does not allow this operation here"),
                "the message gives the reason (device state, device-group scope, duplicate action); fix that, not the permissions",
            ));
            return out;
        }
        _ => {}
    }
    let (required, held) = err
        .message
        .as_deref()
        .map(roles_in_message)
        .unwrap_or_default();
    // The roles the API says it saw, when its message says (the current
    // shape names them, possibly none: "application roles: .").
    let api_saw: Option<&Vec<String>> = err
        .message
        .as_deref()
        .filter(|m| m.to_ascii_lowercase().contains("application roles:"))
        .map(|_| &held);
    let catalog = call.row.accepted(kind);
    // The message names application roles ("Missing application roles"),
    // also to a delegated token: then the token's scopes are compared with
    // the catalogue's delegated permissions, and the message's names with
    // its application ones.
    let app_names = kind == PermKind::Scope
        && !required.is_empty()
        && required.iter().all(|r| !catalog.contains(r));
    let named_kind = if app_names { PermKind::Role } else { kind };
    // Judged by the catalogue's delegated permissions when it has some; a
    // call with none keeps the API's names, which no scope can satisfy.
    let by_catalogue = app_names && !catalog.is_empty();
    if !required.is_empty() && !by_catalogue {
        section.required_roles = required.clone();
    }
    let have = &section.token_roles;
    let req = &section.required_roles;
    let what = match kind {
        PermKind::Role => "application permission",
        PermKind::Scope => "delegated permission",
    };
    let holds: Vec<&String> = req.iter().filter(|r| have.contains(r)).collect();
    let detail = if req.is_empty() {
        "the message names no permission".to_string()
    } else if holds.is_empty() {
        format!(
            "the call needs one of {}; the token holds {}",
            req.join(", "),
            if have.is_empty() {
                "none".to_string()
            } else {
                have.join(", ")
            }
        )
    } else {
        let held = holds
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        match kind {
            // Device groups and MDE roles limit users, not applications.
            PermKind::Role => format!(
                "the token claims {held}, which the API accepts: compare the roles the API says it saw, and check that the token was requested after the grant and that the tenant feature is on"
            ),
            PermKind::Scope => format!(
                "the token holds {held}, which the API accepts, so the permission is there: the signed-in user is limited another way (MDE role, device-group scope) or the feature is off"
            ),
        }
    };
    // The least privileged permission that is enough: of the API's list
    // (any one of them), or the catalogue's minimal set for a delegated
    // token (whose names the message does not give).
    let to_add: Vec<String> = if kind == PermKind::Scope || req.is_empty() {
        crate::privilege::minimal(&[call.row], kind)
            .into_iter()
            .map(|n| n.permission)
            .collect()
    } else {
        crate::privilege::least_privileged(req)
            .into_iter()
            .cloned()
            .collect()
    };
    // No scope allows a call the catalogue documents no delegated
    // permission for (to_add is then empty too).
    let mut fix = if kind == PermKind::Scope && catalog.is_empty() {
        format!(
            "{} has no delegated permission: call it with an application token (app context)",
            call.row.label()
        )
    } else if holds.is_empty() && !req.is_empty() {
        format!(
            "add the WindowsDefenderATP {what} {} to the app registration, grant admin consent, then get a new token",
            to_add.join(" and ")
        )
    } else if kind == PermKind::Scope {
        // The MDE role permission the call's documentation names, and where
        // to give it, for the user the token names.
        let rbac = call
            .row
            .rbac
            .as_deref()
            .unwrap_or("the permission its documentation does not state");
        let user = token
            .claims
            .as_ref()
            .ok()
            .and_then(|c| {
                c.upn
                    .as_deref()
                    .or(c.preferred_username.as_deref())
                    .or(c.unique_name.as_deref())
            })
            .map(|u| format!(" ({u})"))
            .unwrap_or_default();
        format!(
            "give the signed-in user{user} an MDE role with {rbac} and access to the device groups involved (Defender portal: Settings > Endpoints > Roles), then retry; the token itself is fine for this call"
        )
    } else if api_saw.is_some_and(|saw| holds.iter().all(|h| !saw.contains(h))) {
        // The API says which roles it counted, and the one the token (the
        // very token sent) claims is not among them: the API lags behind.
        "the API did not count a role the token carries: it can lag behind a recent grant (allow up to an hour, then retry with a new token); if it persists, check the tenant's advanced features in the Defender portal".to_string()
    } else {
        "get a new token (a token keeps the roles it was issued with), and check the tenant's advanced features in the Defender portal".to_string()
    };
    // A consent link only where a permission to consent to was named.
    if holds.is_empty()
        && !to_add.is_empty()
        && let Ok(c) = &token.claims
        && let (Some(app), Some(tid)) = (c.app_id(), c.tid.as_deref())
        && let (Ok(app), Ok(tid)) = (consent::check_client_id(app), consent::check_tenant(tid))
    {
        let cl = c
            .classify()
            .cloud_info()
            .unwrap_or_else(|| cloud::by_name("public").expect("public cloud exists"));
        let u = consent::urls(&app, Some(&tid), cl, None, None);
        if let Some(t) = u.authorize_tenant {
            fix.push_str(&format!(" (admin consent: {t})"));
        }
    }
    out.push(Finding::error(
        "probe.forbidden",
        format!("{said}{api_msg}{corr}: {detail}"),
        fix,
    ));
    // Either way round: a role the API saw that the claim lacks, or one the
    // claim lists that the API did not count.
    // Only names of one kind compare: application roles the message names
    // say nothing about a delegated token's scopes.
    if !held.is_empty()
        && !app_names
        && (held.iter().any(|h| !have.contains(h)) || have.iter().any(|h| !held.contains(h)))
    {
        out.push(Finding::info(
            "probe.roles_differ",
            format!(
                "the API says the token holds {}, but its {} claim lists {}",
                held.join(", "),
                match kind {
                    PermKind::Role => "roles",
                    PermKind::Scope => "scp",
                },
                if have.is_empty() {
                    "none".to_string()
                } else {
                    have.join(", ")
                }
            ),
            "the API can lag behind a recent grant or revocation: allow up to an hour, then retry with a new token",
        ));
    }
    if !required.is_empty() {
        let catalog = call.row.accepted(named_kind);
        let mut a = required.clone();
        let mut b = catalog.clone();
        a.sort();
        b.sort();
        if a != b {
            out.push(Finding::info(
                "probe.catalog_differs",
                format!(
                    "the API accepts {} for {}; the catalogue lists {}",
                    required.join(", "),
                    call.row.label(),
                    if catalog.is_empty() {
                        "none".to_string()
                    } else {
                        catalog.join(", ")
                    }
                ),
                "trust the API's message; report the difference so the catalogue can be corrected",
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture_token(name: &str) -> Token {
        let path = format!("{}/fixtures/tokens/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(path).unwrap();
        Token::decode(crate::input::Compact {
            token: text.trim().to_string(),
            found_in: "test",
            signing_sha256: None,
        })
        .unwrap()
    }

    fn answer_401(call: &str, token: &Token) -> Finding {
        answer_401_sent(call, token, false)
    }

    fn answer_401_sent(call: &str, token: &Token, signature_verified: bool) -> Finding {
        let call = parse_call(call).unwrap();
        let url = format!("https://{}/api/machines", call.host.clone().unwrap());
        let resp = Response {
            url: url.clone(),
            status: 401,
            headers: Default::default(),
            body: br#"{"error":{"code":"Unauthorized","message":"Unauthorized"}}"#.to_vec(),
            cut: false,
        };
        // 2026-03-02T09:30:00Z, inside the fixtures' lifetime.
        let clock = Clock {
            now: 1_772_443_800,
            leeway: 300,
        };
        let sent = Sent {
            at: clock.now,
            signature_verified,
        };
        let p = interpret(&call, &url, &resp, token, clock, sent);
        p.findings
            .into_iter()
            .find(|f| f.code == "probe.unauthorized")
            .unwrap()
    }

    #[test]
    fn a_401_after_azure_ad_s_keys_verified_the_signature_is_not_blamed_on_it() {
        let t = fixture_token("app-v1.jwt");
        let call = "GET https://api.securitycenter.microsoft.com/api/machines";
        let f = answer_401_sent(call, &t, true);
        assert!(
            f.message.ends_with("the token passes the offline checks and its signature was verified, so the likely cause is a tenant without Defender for Endpoint, or an API host of another cloud or region"),
            "{}",
            f.message
        );
        assert!(!f.fix.contains("mdeauth verify"), "{}", f.fix);
        let f = answer_401_sent(call, &t, false);
        assert!(f.fix.contains("mdeauth verify"), "{}", f.fix);
    }

    #[test]
    fn a_401_from_another_clouds_api_blames_the_cloud() {
        // A commercial v2 token sent to the GCC High API.
        let v2 = fixture_token("app-v2.jwt");
        let f = answer_401(
            "GET https://api-gov.securitycenter.microsoft.us/api/machines",
            &v2,
        );
        assert!(
            f.message
                .ends_with("likely cause: wrong cloud: this API accepts only tokens of its own cloud's Azure AD (call.wrong_cloud)"),
            "{}",
            f.message
        );
        assert!(
            f.fix.starts_with("api-gov.securitycenter.microsoft.us is the US Government GCC High or DoD MDE API")
                && f.fix.contains("call the Azure public (commercial) MDE API at https://api.securitycenter.microsoft.com instead"),
            "{}",
            f.fix
        );
        // A v1 token's sts.windows.net issuer only suggests its cloud.
        let v1 = fixture_token("app-v1.jwt");
        let f = answer_401(
            "GET https://api-gov.securitycenter.microsoft.us/api/machines",
            &v1,
        );
        assert!(
            f.message.contains("perhaps the wrong cloud"),
            "{}",
            f.message
        );
        // Its own cloud's API: the usual causes.
        let f = answer_401("GET https://api.security.microsoft.com/api/machines", &v2);
        assert!(!f.message.contains("wrong cloud"), "{}", f.message);
        assert!(
            f.message.contains("passes the offline checks"),
            "{}",
            f.message
        );
    }

    #[test]
    fn current_403_message() {
        let (r, h) = roles_in_message(
            "Missing application roles. API required roles: Machine.Read.All,Machine.ReadWrite.All, application roles: Machine.Isolate.",
        );
        assert_eq!(r, ["Machine.Read.All", "Machine.ReadWrite.All"]);
        assert_eq!(h, ["Machine.Isolate"]);
    }

    #[test]
    fn older_403_message() {
        let (r, h) = roles_in_message(
            "The application does not have any of the required application permissions (Machine.Read.All, Machine.ReadWrite.All) to access the resource.",
        );
        assert_eq!(r, ["Machine.Read.All", "Machine.ReadWrite.All"]);
        assert!(h.is_empty());
    }

    #[test]
    fn regions_and_placeholders() {
        assert_eq!(region_host("EU").unwrap(), "eu.api.security.microsoft.com");
        assert!(region_host("xx").is_err());
        for n in REGION_NAMES {
            region_host(n).unwrap();
        }
        let e = parse_call("GET /api/machines/{id}").unwrap_err();
        assert!(e.to_string().contains("{id}"), "{e}");
        for written in [
            "POST /api/machines/<id>/isolate",
            "POST /api/machines/%3Cid%3E/isolate",
        ] {
            let e = parse_call(written).unwrap_err();
            assert!(e.to_string().contains("placeholder <id>"), "{e}");
        }
        let c = parse_call("GET /api/alerts?$top=50&$filter=x").unwrap();
        assert!(c.list);
        let u = url(&c, "https://api.securitycenter.microsoft.com").unwrap();
        assert!(u.ends_with("/api/alerts?$filter=x&$top=1"), "{u}");
        let one = parse_call("GET /api/machines/abc").unwrap();
        assert!(!one.list);
    }

    #[test]
    fn hosts_per_cloud_region_and_override() {
        let o = HostOptions::default();
        assert_eq!(
            base_url(&o, None).unwrap(),
            "https://api.securitycenter.microsoft.com"
        );
        assert_eq!(
            base_url(&o, Some("gcc-high")).unwrap(),
            "https://api-gov.securitycenter.microsoft.us"
        );
        let gcc = HostOptions {
            cloud: Some("gcc".into()),
            ..HostOptions::default()
        };
        assert_eq!(
            base_url(&gcc, Some("public")).unwrap(),
            "https://api-gcc.securitycenter.microsoft.us"
        );
        let eu = HostOptions {
            region: Some("eu".into()),
            ..HostOptions::default()
        };
        assert_eq!(
            base_url(&eu, None).unwrap(),
            "https://eu.api.security.microsoft.com"
        );
        assert!(base_url(&eu, Some("gcc-high")).is_err());
        let local = HostOptions {
            api_base: Some("http://127.0.0.1:8080/".into()),
            ..HostOptions::default()
        };
        assert_eq!(base_url(&local, None).unwrap(), "http://127.0.0.1:8080");
        let plain = HostOptions {
            api_base: Some("http://mde.example".into()),
            ..HostOptions::default()
        };
        assert!(base_url(&plain, None).is_err());
    }

    #[test]
    fn error_body_shapes() {
        let e = parse_error(br#"{"error":{"code":"Forbidden","message":"m","target":"t-1"}}"#);
        assert_eq!(e.code.as_deref(), Some("Forbidden"));
        assert_eq!(e.target.as_deref(), Some("t-1"));
        let e = parse_error(br#"{"code":"Forbidden","message":"m"}"#);
        assert_eq!(e.message.as_deref(), Some("m"));
        assert_eq!(parse_error(b"<html>"), ApiError::default());
    }
}
