//! The one HTTP client every network call goes through: blocking reqwest on
//! rustls, connect and total timeouts, a response size cap, HTTPS only except
//! on loopback addresses (for local test servers), redirects checked against
//! the same rule, proxies from the environment.

use std::io::Read;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use reqwest::Url;
use reqwest::blocking::Client;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// Default total timeout per request (`--timeout`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default cap on a response body.
pub const DEFAULT_MAX_BYTES: usize = 2 * 1024 * 1024;
const MAX_REDIRECTS: usize = 5;

#[derive(Debug, Clone, Copy)]
pub struct HttpOptions {
    pub timeout: Duration,
    pub max_bytes: usize,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            timeout: DEFAULT_TIMEOUT,
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }
}

/// A response that arrived whole and within the limits; or, for an error
/// status (4xx, 5xx), its status with the first `max_bytes` of an
/// oversized body (`cut`): the status is the answer, the body only explains it.
#[derive(Debug, Clone)]
pub struct Response {
    pub url: String,
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
    /// The body was longer than `max_bytes` and was cut there.
    pub cut: bool,
}

impl Response {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Parse the body as JSON, with errors that say what came back instead.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        parse_json(&self.url, &self.body)
    }
}

/// Parse a JSON body, explaining HTML pages and truncated documents.
pub fn parse_json<T: DeserializeOwned>(url: &str, body: &[u8]) -> Result<T> {
    // A byte-order mark, as some servers write before JSON (files with one are read too).
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let head = String::from_utf8_lossy(&body[..body.len().min(512)]).to_ascii_lowercase();
    let head = head.trim_start();
    if head.starts_with("<!doctype html") || head.starts_with("<html") || head.starts_with('<') {
        return Err(
            Error::environment(format!("{url} returned an HTML page, not JSON")).with_hint(
                "a proxy, captive portal or wrong URL answered; check the address and any proxy",
            ),
        );
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(
            Error::environment(format!("{url} returned an empty body, not JSON"))
                .with_hint("retry; if it persists the endpoint or a proxy is misbehaving"),
        );
    }
    if body.starts_with(&[0x1f, 0x8b]) {
        // mdeauth asks for no encoding, so a compressed answer is not the endpoint's.
        return Err(Error::environment(format!(
            "{url} returned a gzip-compressed body, which mdeauth did not ask for"
        ))
        .with_hint("a proxy or a misconfigured server compressed it; check any proxy between this machine and the endpoint"));
    }
    serde_json::from_slice(body).map_err(|e| {
        let what = if e.is_eof() {
            "truncated JSON"
        } else {
            "invalid JSON"
        };
        Error::environment(format!("{url} returned {what} ({})", json_error_text(&e)))
            .with_hint("retry; if it persists the endpoint or a proxy is misbehaving")
    })
}

/// A JSON error's text without the input it quotes: serde names a value of
/// the wrong type by quoting it (`invalid type: string "..."`), and a
/// server may answer with the very secret or token it was sent.
pub fn json_error_text(e: &serde_json::Error) -> String {
    let text = e.to_string();
    // `invalid type: string "..."`, `invalid value: string "..."`: the
    // quoted value; `unknown variant `...``, `unknown field `...``: the
    // first backquoted name is the input's (the rest are the expected ones).
    let span = match (text.find('"'), text.rfind('"')) {
        (Some(a), Some(b)) if a < b => Some((a, b)),
        _ if text.starts_with("unknown variant") || text.starts_with("unknown field") => text
            .find('`')
            .and_then(|a| text[a + 1..].find('`').map(|n| (a, a + 1 + n))),
        _ => None,
    };
    match span {
        Some((a, b)) => format!(
            "{}(a {}-character value, not repeated here){}",
            &text[..a],
            text[a + 1..b].chars().count(),
            &text[b + 1..]
        ),
        None => text,
    }
}

/// True for 127.0.0.0/8, ::1 and `localhost`.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// The Azure Instance Metadata Service (IMDS) address.
pub const IMDS_ADDRESS: std::net::Ipv4Addr = std::net::Ipv4Addr::new(169, 254, 169, 254);

/// True for exactly `169.254.169.254`, the Azure instance metadata endpoint.
///
/// IMDS is only served over plain http, on this link-local address that is
/// answered by the host the VM runs on and is not routable off it, so the
/// managed-identity flow needs it. Nothing else link-local is allowed.
pub fn is_imds(url: &Url) -> bool {
    matches!(url.host(), Some(url::Host::Ipv4(ip)) if ip == IMDS_ADDRESS)
}

/// True for a link-local IPv4 address (169.254.0.0/16): answered on the
/// machine's own link only. App Service on Linux and Azure Functions set
/// `IDENTITY_ENDPOINT` to `http://169.254.255.2:8081/msi/token`.
pub fn is_link_local(url: &Url) -> bool {
    matches!(url.host(), Some(url::Host::Ipv4(ip)) if ip.is_link_local())
}

/// [`check_url`] for the managed-identity endpoint the platform names in
/// `IDENTITY_ENDPOINT`: plain http is also accepted to a link-local
/// address, where App Service on Linux and Azure Functions serve it.
pub fn check_identity_url(raw: &str) -> Result<Url> {
    match Url::parse(raw.trim()) {
        Ok(url) if url.scheme() == "http" && is_link_local(&url) => Ok(url),
        _ => check_url(raw),
    }
}

/// Parse a URL and enforce the transport rule: https, or http on loopback
/// only (plus the single IMDS address, see [`is_imds`]).
pub fn check_url(raw: &str) -> Result<Url> {
    // Named in errors without a password or key it may carry.
    let shown = shown_url(raw);
    let url = Url::parse(raw.trim()).map_err(|e| {
        Error::input(format!("{shown:?} is not a valid URL ({e})"))
            .with_hint("give a full URL such as https://login.microsoftonline.com")
    })?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) || is_imds(&url) => Ok(url),
        "http" => Err(Error::input(format!(
            "refusing plain http to {}: tokens and keys must travel over https",
            url.host_str().unwrap_or("?")
        ))
        .with_hint("use https (http is accepted only for loopback test servers)")),
        "file" => Err(Error::input(format!("file:// URLs are not fetched: {shown}"))
            .with_hint("where a file is accepted (--jwks), give its path itself; otherwise an https:// URL")),
        other => Err(
            Error::input(format!("unsupported URL scheme {other:?} in {shown}"))
                .with_hint("use an https:// URL"),
        ),
    }
}

/// `url` as text without the `user:password@` before its host, for
/// messages (the text need not parse as a URL).
pub fn without_userinfo(url: &str) -> std::borrow::Cow<'_, str> {
    // `scheme://` or a scheme-relative `//`.
    let host = match url.find("://") {
        Some(scheme) => scheme + 3,
        None if url.starts_with("//") => 2,
        None => return std::borrow::Cow::Borrowed(url),
    };
    let authority_end = url[host..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| host + i);
    match url[host..authority_end].rfind('@') {
        Some(at) => std::borrow::Cow::Owned(format!("{}{}", &url[..host], &url[host + at + 1..])),
        None => std::borrow::Cow::Borrowed(url),
    }
}

/// Query and fragment parameters whose values are credentials (compared
/// without regard to case): a storage SAS's `sig`, an authorization code,
/// tokens, secrets and API keys.
const CREDENTIAL_PARAMS: [&str; 22] = [
    "sig",
    "signature",
    "code",
    "token",
    "access_token",
    "id_token",
    "refresh_token",
    "client_secret",
    "client_assertion",
    "assertion",
    "code_verifier",
    "secret",
    "password",
    "pwd",
    "key",
    "apikey",
    "api_key",
    "api-key",
    "subscription-key",
    "x-amz-signature",
    "x-amz-security-token",
    "x-goog-signature",
];

/// The credentials a URL carries, as sent and percent-decoded: its
/// password and the values of its credential parameters (query and
/// fragment). Values under 16 characters are left out: blanking them in
/// a server's answer would blank ordinary words (`?code=expired`), and a
/// signature, key or token is longer.
fn sent_credentials(url: &str) -> Vec<String> {
    let Ok(u) = reqwest::Url::parse(url) else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    let mut add = |v: &str| {
        let decoded = percent_encoding::percent_decode_str(v)
            .decode_utf8_lossy()
            .into_owned();
        for x in [v.to_string(), decoded] {
            if x.chars().count() >= 16 && !out.contains(&x) {
                out.push(x);
            }
        }
    };
    if let Some(p) = u.password() {
        add(p);
    }
    for part in [u.query(), u.fragment()].into_iter().flatten() {
        for pair in part.split(['&', ';']) {
            if let Some((name, value)) = pair.split_once('=')
                && CREDENTIAL_PARAMS
                    .iter()
                    .any(|c| c.eq_ignore_ascii_case(name))
            {
                add(value);
            }
        }
    }
    out
}

/// `url` as text for messages: without its `user:password@`, and with the
/// value of every credential parameter in its query or fragment (a SAS
/// `sig=`, `access_token=`, `client_secret=`...) shown as `[redacted]`. The
/// request itself still uses the URL as given.
pub fn shown_url(url: &str) -> std::borrow::Cow<'_, str> {
    match without_userinfo(url) {
        std::borrow::Cow::Borrowed(u) => redact_params(u),
        std::borrow::Cow::Owned(u) => std::borrow::Cow::Owned(redact_params(&u).into_owned()),
    }
}

/// `text` (a URL, or a server's answer that echoes one) with the value of
/// every credential parameter (`?sig=`, `&client_secret=`, `#access_token=`,
/// `;key=`) shown as `[redacted]`.
pub fn redact_params(text: &str) -> std::borrow::Cow<'_, str> {
    let b = text.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut i = 0;
    while i < b.len() {
        if !matches!(b[i], b'?' | b'&' | b';' | b'#') {
            i += 1;
            continue;
        }
        let name_start = i + 1;
        let Some(eq) = b[name_start..]
            .iter()
            .position(|&c| !(c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-')))
            .map(|n| name_start + n)
            .filter(|&e| b.get(e) == Some(&b'='))
        else {
            i += 1;
            continue;
        };
        let name = &text[name_start..eq];
        let value_end = b[eq + 1..]
            .iter()
            .position(|c| {
                c.is_ascii_whitespace()
                    || matches!(c, b'&' | b';' | b'#' | b'"' | b'\'' | b'<' | b'>' | b')')
            })
            .map_or(b.len(), |n| eq + 1 + n);
        if value_end > eq + 1
            && CREDENTIAL_PARAMS
                .iter()
                .any(|c| c.eq_ignore_ascii_case(name))
        {
            let o = out.get_or_insert_with(|| String::with_capacity(text.len()));
            o.push_str(&text[copied..=eq]);
            o.push_str("[redacted]");
            copied = value_end;
        }
        i = value_end.max(i + 1);
    }
    match out {
        None => std::borrow::Cow::Borrowed(text),
        Some(mut o) => {
            o.push_str(&text[copied..]);
            std::borrow::Cow::Owned(o)
        }
    }
}

/// A base URL other URLs are built on (`--api-base`, `--authority-host`,
/// the Graph endpoint): as [`check_url`], and with nothing a path is
/// appended to wrongly. A query or fragment would swallow the path, and a
/// `user:password@` becomes an `Authorization: Basic` header that replaces
/// the token mdeauth sends. `what` names the option in the error.
pub fn check_base_url(raw: &str, what: &str) -> Result<Url> {
    let url = check_url(raw)?;
    let shown = || {
        let mut u = url.clone();
        let _ = u.set_password(None);
        let _ = u.set_username("");
        u.set_query(None);
        u.set_fragment(None);
        u.as_str().trim_end_matches('/').to_string()
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::input(format!(
            "{what} holds a user name or password (user:password@): it would replace the credentials mdeauth sends"
        ))
        .with_hint(format!("give it without them: {}", shown())));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::input(format!(
            "{what} has a query or fragment (? or #): paths are appended to it, so it must be a base URL"
        ))
        .with_hint(format!("give scheme, host and any path prefix only: {}", shown())));
    }
    Ok(url)
}

pub struct Http {
    client: Client,
    opts: HttpOptions,
    /// Origins that gave no answer in this run (no connection, or nothing
    /// in time), with why: a scan of many tenants on one silent host waits
    /// out the timeout once, not once per tenant.
    silent: std::sync::Mutex<Vec<(String, String)>>,
}

impl Http {
    pub fn new(opts: HttpOptions) -> Result<Http> {
        // Redirects stay on the origin the request was sent to: a token
        // request carries a client secret or password in its body (a 307
        // resends it), a managed-identity request its X-IDENTITY-HEADER, and
        // a probe its bearer token, which reqwest drops on a cross-host
        // redirect, so the other host's answer would not say whether the
        // token works. Azure AD's and the MDE API's endpoints do not redirect.
        let policy = reqwest::redirect::Policy::custom(|attempt| {
            let same_origin = attempt
                .previous()
                .first()
                .is_some_and(|first| first.origin() == attempt.url().origin());
            if attempt.previous().len() >= MAX_REDIRECTS {
                attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
            } else if attempt.url().scheme() != "https" && !is_loopback(attempt.url()) {
                // Its origin only: a hostile server may echo the request's
                // secret into the path, query, fragment or user name.
                let to = attempt.url().origin().ascii_serialization();
                attempt.error(format!("redirect to non-https URL {to} refused"))
            } else if !same_origin {
                let to = attempt.url().origin().ascii_serialization();
                attempt.error(format!("redirect to another host ({to}) refused"))
            } else {
                attempt.follow()
            }
        });
        let client = Client::builder()
            .connect_timeout(opts.timeout.min(Duration::from_secs(10)))
            .timeout(opts.timeout)
            .redirect(policy)
            .referer(false)
            .user_agent(concat!("mdeauth/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::environment(format!("cannot set up the HTTP client: {e}")))?;
        Ok(Http {
            client,
            opts,
            silent: std::sync::Mutex::new(Vec::new()),
        })
    }

    pub fn options(&self) -> HttpOptions {
        self.opts
    }

    /// GET a URL with optional extra headers.
    pub fn get(&self, url: &str, headers: &[(&str, &str)]) -> Result<Response> {
        self.get_checked(check_url(url)?, headers)
    }

    /// GET a URL already checked by the caller ([`check_identity_url`]).
    pub fn get_checked(&self, u: Url, headers: &[(&str, &str)]) -> Result<Response> {
        let url = u.as_str().to_string();
        let url = url.as_str();
        let mut req = self.client.get(u);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(url, req)
    }

    /// POST an `application/x-www-form-urlencoded` body.
    pub fn post_form(
        &self,
        url: &str,
        form: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Result<Response> {
        let u = check_url(url)?;
        let mut req = self.client.post(u).form(form);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(url, req)
    }

    /// Send any method with optional extra headers and a JSON body (the MDE API probe).
    pub fn request(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        json_body: Option<&[u8]>,
    ) -> Result<Response> {
        let u = check_url(url)?;
        let m = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|_| Error::input(format!("{method:?} is not an HTTP method")))?;
        let mut req = self.client.request(m, u);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = json_body {
            req = req
                .header("Content-Type", "application/json")
                .body(b.to_vec());
        }
        self.send(url, req)
    }

    /// GET and parse JSON from a 2xx response; any other status is an error.
    pub fn get_json<T: DeserializeOwned>(&self, url: &str) -> Result<T> {
        let r = self.get(url, &[])?;
        if !(200..300).contains(&r.status) {
            return Err(status_error(&r));
        }
        r.json()
    }

    fn send(&self, url: &str, req: reqwest::blocking::RequestBuilder) -> Result<Response> {
        let origin = reqwest::Url::parse(url)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default();
        let sent = sent_credentials(url);
        // Messages name the URL without the credentials it may carry.
        let url = &*shown_url(url);
        if let Some((_, why)) = self
            .silent
            .lock()
            .ok()
            .and_then(|s| s.iter().find(|(o, _)| *o == origin).cloned())
        {
            return Err(Error::environment(format!(
                "{url} was not tried: {origin} gave no answer earlier in this run ({why})"
            ))
            .with_hint("check the network and the host, then run again; raise --timeout if it is only slow"));
        }
        let mut r = self.receive(url, req)?;
        // An error answer that quotes a credential of the URL by value
        // ("Signature abc not valid") shows it blanked.
        if r.status >= 400 && !sent.is_empty() {
            let mut text = r.text();
            let mut changed = false;
            for v in &sent {
                if text.contains(v.as_str()) {
                    text = text.replace(v.as_str(), "[redacted]");
                    changed = true;
                }
            }
            if changed {
                r.body = text.into_bytes();
            }
        }
        Ok(r)
    }

    /// `e`, a failure to get an answer from `url`'s origin (no connection,
    /// or no complete response before the timeout, a body that trickles in
    /// too slowly included), remembered so the rest of the run does not
    /// wait on that origin again. Only the reason is kept, not its hint.
    fn no_answer(&self, url: &str, e: Error) -> Error {
        if let (Ok(u), Ok(mut s)) = (reqwest::Url::parse(url), self.silent.lock()) {
            s.push((u.origin().ascii_serialization(), e.to_string()));
        }
        e
    }

    fn receive(&self, url: &str, req: reqwest::blocking::RequestBuilder) -> Result<Response> {
        let started = Instant::now();
        let resp = req.send().map_err(|e| self.transport_error(url, &e))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let final_url = shown_url(resp.url().as_str()).into_owned();
        let error_status = status >= 400;
        if let Some(len) = resp.content_length()
            && len > self.opts.max_bytes as u64
            && !error_status
        {
            return Err(too_big(url, self.opts.max_bytes));
        }
        let mut cut = false;
        let mut body = Vec::new();
        let mut limited = resp.take(self.opts.max_bytes as u64 + 1);
        let mut chunk = [0u8; 16 * 1024];
        loop {
            let n = limited.read(&mut chunk).map_err(|e| {
                if started.elapsed() >= self.opts.timeout || is_timeout_io(&e) {
                    self.no_answer(url, timeout_error(url, self.opts.timeout))
                } else {
                    Error::environment(format!(
                        "the response from {url} was cut off after {} bytes ({})",
                        body.len(),
                        error_chain(&e)
                    ))
                    .with_hint("the connection dropped mid-answer: retry; if it persists, check any proxy between this machine and the endpoint")
                }
            })?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
            if body.len() > self.opts.max_bytes {
                if !error_status {
                    return Err(too_big(url, self.opts.max_bytes));
                }
                body.truncate(self.opts.max_bytes);
                cut = true;
                break;
            }
            if started.elapsed() > self.opts.timeout {
                return Err(self.no_answer(url, timeout_error(url, self.opts.timeout)));
            }
        }
        Ok(Response {
            url: final_url,
            status,
            headers,
            body,
            cut,
        })
    }

    fn transport_error(&self, url: &str, e: &reqwest::Error) -> Error {
        if e.is_timeout() {
            return self.no_answer(url, timeout_error(url, self.opts.timeout));
        }
        let chain = error_chain(e);
        if e.is_redirect() {
            // reqwest's own words repeat the URL; the innermost cause says why.
            let mut why: &dyn std::error::Error = e;
            while let Some(s) = why.source() {
                why = s;
            }
            return Error::environment(format!("{url} redirected: {why}")).with_hint(
                "the server redirected somewhere mdeauth will not follow; check the URL",
            );
        }
        if e.is_connect() {
            let hint = if chain.contains("UnknownIssuer") || chain.contains("certificate") {
                "the server's certificate is not trusted: a TLS-inspecting proxy? Point SSL_CERT_FILE at its CA bundle"
            } else {
                "check the network, proxy settings (HTTPS_PROXY, NO_PROXY) and the host name"
            };
            return self.no_answer(
                url,
                Error::environment(format!("cannot connect to {url}: {chain}")).with_hint(hint),
            );
        }
        Error::environment(format!("request to {url} failed: {chain}"))
            .with_hint("check the network and the URL, then retry")
    }
}

fn is_timeout_io(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
    ) || error_chain(e).contains("timed out")
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = Vec::new();
    let top = e.to_string();
    // reqwest's own top line repeats the URL the message already names.
    if !top.starts_with("error sending request for url") {
        parts.push(top);
    }
    let mut cur = e.source();
    while let Some(s) = cur {
        let t = s.to_string();
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        cur = s.source();
    }
    if parts.is_empty() {
        return e.to_string();
    }
    parts.join(": ")
}

fn timeout_error(url: &str, t: Duration) -> Error {
    Error::environment(format!(
        "no complete response from {url} within {} s",
        t.as_secs_f64()
    ))
    .with_hint("the endpoint is slow or unreachable; retry, or raise --timeout")
}

fn too_big(url: &str, max: usize) -> Error {
    Error::environment(format!(
        "the response from {url} is larger than {} KB; refusing to read more",
        max / 1024
    ))
    .with_hint("the URL probably points at the wrong thing")
}

/// The error for a non-2xx status, with the first line of the body.
pub fn status_error(r: &Response) -> Error {
    let body = r.text();
    // A JSON error body says it in one member: Azure AD's error_description
    // ("AADSTS50196: ...", its first line: trace ids follow), or the
    // `error.message` of Graph and the MDE API. Otherwise the first line.
    let said_by_json = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| {
            let text = |x: &serde_json::Value| x.as_str().map(str::to_string);
            v.get("error_description")
                .and_then(text)
                .or_else(|| v.get("error").and_then(|e| e.get("message")).and_then(text))
                .or_else(|| v.get("error").and_then(text))
        });
    let source = said_by_json.as_deref().unwrap_or(&body);
    let first: String = source
        .lines()
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(160)
        .collect();
    // A server that echoes the request must not show its credentials.
    let first = redact_params(&first);
    let said = if first.trim().is_empty() {
        String::new()
    } else {
        format!(": {first}")
    };
    if r.status == 429 {
        let when = retry_after_advice(r.header("retry-after"), chrono::Utc::now().timestamp());
        return Error::environment(format!(
            "{} answered HTTP 429 (too many requests){said}",
            r.url
        ))
        .with_hint(format!("the endpoint is throttling requests: {when}"));
    }
    let hint = if r.status >= 500 {
        "the service failed; retry later"
    } else if r.status == 404 {
        "check the URL, tenant and cloud"
    } else {
        "check the URL and credentials"
    };
    Error::environment(format!("{} answered HTTP {}{said}", r.url, r.status)).with_hint(hint)
}

/// What a throttled reply's `Retry-After` header says to do, as of `now`:
/// delta-seconds (up to a week) or an HTTP date. Anything else is named as
/// unreadable rather than repeated as advice.
pub fn retry_after_advice(raw: Option<&str>, now: i64) -> String {
    const WEEK: u64 = 7 * 86_400;
    let Some(raw) = raw.map(str::trim) else {
        return "no Retry-After header; wait a minute before retrying".to_string();
    };
    if let Ok(secs) = raw.parse::<u64>()
        && secs <= WEEK
    {
        return format!(
            "retry after {secs} s (not before {})",
            crate::timefmt::rfc3339(now + secs as i64)
        );
    }
    // A date up to a week ahead; one already past allows a retry now
    // (RFC 9110 §10.2.3); a farther one is no advice.
    if let Ok(t) = chrono::DateTime::parse_from_rfc2822(raw) {
        let at = t.timestamp();
        if (now..=now + WEEK as i64).contains(&at) {
            return format!("retry after {}", crate::timefmt::rfc3339(at));
        }
        if at < now {
            return format!(
                "it may be retried now: its Retry-After date {} has passed (if that is far back, check this machine's clock)",
                crate::timefmt::rfc3339(at)
            );
        }
    }
    let shown: String = raw.chars().filter(|c| !c.is_control()).take(40).collect();
    format!(
        "its Retry-After header ({shown:?}) is not a usable delay; wait a minute before retrying"
    )
}

/// An [`Http`] client built on first use: setting up TLS (loading the
/// platform's root certificates) costs several milliseconds, which runs
/// that never touch the network (`--jwks FILE`, a warm cache) should not pay.
pub struct LazyHttp {
    opts: HttpOptions,
    cell: std::sync::OnceLock<std::result::Result<Http, String>>,
}

impl LazyHttp {
    pub fn new(opts: HttpOptions) -> LazyHttp {
        LazyHttp {
            opts,
            cell: std::sync::OnceLock::new(),
        }
    }

    /// The client, building it the first time.
    pub fn get(&self) -> Result<&Http> {
        self.cell
            .get_or_init(|| Http::new(self.opts).map_err(|e| e.one_line()))
            .as_ref()
            .map_err(|e| Error::environment(e.clone()))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn json_errors_do_not_repeat_the_values_they_quote() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct T {
            a: u8,
        }
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        enum E {
            One,
        }
        let e = serde_json::from_str::<T>("\"Qz8Q~secret\"").unwrap_err();
        assert_eq!(
            super::json_error_text(&e),
            "invalid type: string (a 11-character value, not repeated here), expected struct T at line 1 column 13"
        );
        let e = serde_json::from_str::<E>("\"Qz8Q~secret\"").unwrap_err();
        let t = super::json_error_text(&e);
        assert!(
            !t.contains("secret") && t.starts_with("unknown variant (a 11-character value"),
            "{t}"
        );
        let e = serde_json::from_str::<T>("{}").unwrap_err();
        assert_eq!(
            super::json_error_text(&e),
            "missing field `a` at line 1 column 2"
        );
    }

    use super::*;

    #[test]
    fn shown_url_redacts_credential_parameters_only() {
        for (raw, shown) in [
            (
                "https://h/k?sv=1&sig=abc",
                "https://h/k?sv=1&sig=[redacted]",
            ),
            ("https://u:p@h/k?SIG=abc#x", "https://h/k?SIG=[redacted]#x"),
            (
                "https://h/cb#access_token=eyJx&token_type=Bearer",
                "https://h/cb#access_token=[redacted]&token_type=Bearer",
            ),
            (
                "https://h/a?code=1;key=2&keys=3",
                "https://h/a?code=[redacted];key=[redacted]&keys=3",
            ),
            (
                "https://h/api/alerts?$filter=x&$top=1",
                "https://h/api/alerts?$filter=x&$top=1",
            ),
            ("https://h/k?sig=&sig", "https://h/k?sig=&sig"),
            ("https://h/k", "https://h/k"),
        ] {
            assert_eq!(shown_url(raw), shown, "{raw}");
        }
    }
}
