//! AADSTS error codes: look a code up in `data/aadsts.json`, and read a token
//! endpoint's error response (JSON or pasted free text) into explained errors
//! and findings.
//!
//! Microsoft says error codes and texts can change, so the table is for
//! display only: nothing in mdeauth branches on a particular code.

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::finding::Finding;

/// One row of the AADSTS table.
#[derive(Debug, Deserialize)]
pub struct Entry {
    pub code: u64,
    pub name: String,
    pub cause: String,
    pub fix: String,
    /// Granting consent is (part of) the fix: show a consent link.
    pub consent_related: bool,
}

#[derive(Debug, Deserialize)]
struct OAuthError {
    error: String,
    meaning: String,
}

#[derive(Deserialize)]
struct File {
    codes: Vec<Entry>,
    oauth_errors: Vec<OAuthError>,
}

static TABLE: LazyLock<File> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../data/aadsts.json"))
        .expect("data/aadsts.json is valid (checked by tests)")
});

/// Look a code up by its number (`700016` for AADSTS700016).
pub fn lookup(code: u64) -> Option<&'static Entry> {
    TABLE.codes.iter().find(|e| e.code == code)
}

/// What an OAuth `error` value (`invalid_client`, `authorization_pending`, ...) means.
pub fn oauth_meaning(error: &str) -> Option<&'static str> {
    TABLE
        .oauth_errors
        .iter()
        .find(|e| e.error == error)
        .map(|e| e.meaning.as_str())
}

/// Parse `AADSTS700016` (also `AADSTS 700016`, `AADSTS-700016`) or
/// `700016` into the number.
pub fn parse_code(s: &str) -> Option<u64> {
    let t = s.trim();
    // `get`, not indexing: byte 6 may fall inside a multi-byte character.
    let digits = match t.get(..6) {
        Some(p) if t.len() > 6 && p.eq_ignore_ascii_case("aadsts") => {
            t[6..].trim_start_matches([' ', '-', ':', '_'])
        }
        _ => t,
    };
    if digits.is_empty() || digits.len() > 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// One explained error: the `errors` section of the JSON report.
#[derive(Debug, Clone, Serialize)]
pub struct ExplainedError {
    /// `AADSTS65001`, or the OAuth `error` value when the response had no AADSTS code.
    pub code: String,
    pub name: String,
    pub cause: String,
    pub fix: String,
    #[serde(skip)]
    pub consent_related: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consent_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// What the error text itself said about this code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Everything read from an error text.
#[derive(Debug, Clone, Default)]
pub struct Explanation {
    pub errors: Vec<ExplainedError>,
    /// The OAuth `error` field, when the input was an error JSON.
    pub oauth_error: Option<String>,
    /// The input was a token endpoint error JSON (`error` / `error_codes` present).
    pub is_error_json: bool,
    /// A client id the error text names (e.g. "application with identifier '...'").
    pub client_id: Option<String>,
    /// A tenant the error text names ("in the directory '...'").
    pub tenant: Option<String>,
    pub trace_id: Option<String>,
    pub correlation_id: Option<String>,
    pub timestamp: Option<String>,
}

impl Explanation {
    /// Nothing was recognised: no AADSTS code and not an error JSON.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// True when any explained error is about consent.
    pub fn consent_related(&self) -> bool {
        self.errors.iter().any(|e| e.consent_related)
    }

    /// Set the consent link on every consent-related error.
    pub fn set_consent_url(&mut self, url: &str) {
        for e in self.errors.iter_mut().filter(|e| e.consent_related) {
            e.consent_url = Some(url.to_string());
        }
    }

    /// Findings for the report: one per error, then the ids, then consent.
    pub fn findings(&self) -> Vec<Finding> {
        let mut out = Vec::new();
        for e in &self.errors {
            let known = e.code.starts_with("AADSTS") && e.name != UNKNOWN_NAME;
            let said = e
                .description
                .as_deref()
                .map(|d| format!(" The error text says: {d}"))
                .unwrap_or_default();
            if known {
                out.push(Finding::error(
                    "aadsts.known",
                    format!("{} {}: {}{said}", e.code, e.name, e.cause),
                    e.fix.clone(),
                ));
            } else if e.code.starts_with("AADSTS") {
                let said = if said.is_empty() {
                    " The input carries no description of it.".to_string()
                } else {
                    said
                };
                let oauth = self
                    .oauth_error
                    .as_deref()
                    .and_then(|o| oauth_meaning(o).map(|m| format!(" OAuth error \"{o}\": {m}")))
                    .unwrap_or_default();
                out.push(Finding::error(
                    "aadsts.unknown",
                    format!(
                        "{} is not in mdeauth's table of codes.{oauth}{said}",
                        e.code
                    ),
                    e.fix.clone(),
                ));
            } else {
                out.push(Finding::error(
                    "aadsts.oauth_error",
                    format!(
                        "the token endpoint answered OAuth error \"{}\": {}{said}",
                        e.code, e.cause
                    ),
                    e.fix.clone(),
                ));
            }
        }
        let ids: Vec<String> = [
            ("trace ID", &self.trace_id),
            ("correlation ID", &self.correlation_id),
            ("timestamp", &self.timestamp),
        ]
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k} {v}")))
        .collect();
        if !ids.is_empty() {
            out.push(Finding::info(
                "aadsts.trace",
                format!("request identifiers: {}", ids.join(", ")),
                "quote them when searching the Entra sign-in logs or opening a support case",
            ));
        }
        // AADSTS700016 alone: consent helps only a multi-tenant app that has
        // not been consented here; any other app is simply not in this
        // tenant (a wrong client id or tenant), and the link fails the same way.
        let app_not_found_only = self
            .errors
            .iter()
            .filter(|e| e.consent_related)
            .all(|e| e.code == "AADSTS700016");
        if let Some(url) = self.errors.iter().find_map(|e| e.consent_url.as_deref()) {
            out.push(if app_not_found_only {
                Finding::info(
                    "aadsts.consent_url",
                    format!("if the app is multi-tenant (registered in another tenant) and not yet consented here, an administrator of this tenant can grant consent at {url}"),
                    "first check the client id and the tenant: a single-tenant app is found only in its own tenant, and the link cannot help it",
                )
            } else {
                Finding::info(
                    "aadsts.consent_url",
                    format!("an administrator can grant consent at {url}"),
                    "open the link signed in as an administrator who may grant tenant-wide consent (see mdeauth consent-url)",
                )
            });
        } else if self.consent_related() {
            out.push(Finding::info(
                "aadsts.consent_url",
                "where consent is what is missing, an administrator grants it with a consent link, and no client id is known here to build it",
                "pass --client-id, or run mdeauth consent-url --client-id <app id>",
            ));
        }
        out
    }
}

const UNKNOWN_NAME: &str = "unknown";

fn explained(code: u64, description: Option<String>) -> ExplainedError {
    match lookup(code) {
        Some(e) => ExplainedError {
            code: format!("AADSTS{code}"),
            name: e.name.clone(),
            cause: e.cause.clone(),
            fix: e.fix.clone(),
            consent_related: e.consent_related,
            consent_url: None,
            trace_id: None,
            correlation_id: None,
            timestamp: None,
            description,
        },
        None => ExplainedError {
            code: format!("AADSTS{code}"),
            name: UNKNOWN_NAME.to_string(),
            cause: "mdeauth has no entry for this code".to_string(),
            fix: format!(
                "read the error text, and look the code up at https://login.microsoftonline.com/error?code={code}"
            ),
            consent_related: false,
            consent_url: None,
            trace_id: None,
            correlation_id: None,
            timestamp: None,
            description,
        },
    }
}

/// Explain one code given on its own (`AADSTS700016` or `700016`).
pub fn explain_code(code: u64) -> Explanation {
    Explanation {
        errors: vec![explained(code, None)],
        ..Explanation::default()
    }
}

/// Read a token endpoint error response, or any pasted error text, into an
/// [`Explanation`]: every `AADSTS<digits>` code, the OAuth `error`, and the
/// trace and correlation ids. Never fails; check [`Explanation::is_empty`].
/// Credentials the text may hold (a pasted request body or trace) are
/// hidden first, so no part of the explanation can repeat them.
pub fn explain_error_body(text: &str) -> Explanation {
    let hidden = crate::redact::hide_credentials(text);
    let text = hidden.trim_start_matches('\u{feff}').trim();
    let mut x = Explanation::default();
    let json = serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| match v {
            Value::Object(m) => Some(m),
            _ => None,
        });
    let mut description_text = String::new();
    let mut codes: Vec<u64> = Vec::new();
    if let Some(m) = &json {
        let s = |k: &str| {
            m.get(k)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let has_codes = m.get("error_codes").is_some_and(Value::is_array);
        if let Some(err) = s("error") {
            x.oauth_error = Some(err);
            x.is_error_json = true;
        }
        x.is_error_json |= has_codes;
        if let Some(d) = s("error_description") {
            description_text = d;
            x.is_error_json = true;
        }
        x.trace_id = s("trace_id");
        x.correlation_id = s("correlation_id");
        x.timestamp = s("timestamp");
        if let Some(arr) = m.get("error_codes").and_then(Value::as_array) {
            codes.extend(arr.iter().take(MAX_CODES).filter_map(|c| {
                c.as_u64()
                    .or_else(|| c.as_str().and_then(|s| s.parse().ok()))
            }));
        }
    }
    // Free text (or the whole JSON text): every AADSTS code, in order.
    let scan = if x.is_error_json {
        description_text.as_str()
    } else {
        text
    };
    for (code, _) in find_codes(scan) {
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    let haystack = if description_text.is_empty() {
        text
    } else {
        description_text.as_str()
    };
    x.trace_id = x.trace_id.or_else(|| labelled(haystack, "trace id"));
    x.correlation_id = x
        .correlation_id
        .or_else(|| labelled(haystack, "correlation id"));
    x.timestamp = x.timestamp.or_else(|| labelled(haystack, "timestamp"));
    // A server's identifiers, shown as given up to a length no real one has.
    for v in [&mut x.trace_id, &mut x.correlation_id, &mut x.timestamp]
        .into_iter()
        .flatten()
    {
        *v = crate::text::clip_chars(v, crate::text::MAX_ID_CHARS);
    }
    x.client_id = client_id_in(haystack);
    x.tenant = quoted_after(haystack, "directory '");

    let descriptions = find_codes(haystack);
    for code in codes {
        let desc = descriptions
            .iter()
            .find(|(c, _)| *c == code)
            .and_then(|(_, d)| d.clone());
        x.errors.push(explained(code, desc));
    }
    if x.errors.is_empty() && x.is_error_json {
        let err = x.oauth_error.clone().unwrap_or_else(|| "error".to_string());
        let meaning = oauth_meaning(&err)
            .unwrap_or("mdeauth has no explanation for this OAuth error value")
            .to_string();
        x.errors.push(ExplainedError {
            code: err.clone(),
            name: err,
            cause: meaning,
            fix: "read the error description; it names the failing part of the request".to_string(),
            consent_related: false,
            consent_url: None,
            trace_id: None,
            correlation_id: None,
            timestamp: None,
            description: (!description_text.is_empty()).then(|| clip_line(&description_text)),
        });
    }
    for e in &mut x.errors {
        e.trace_id.clone_from(&x.trace_id);
        e.correlation_id.clone_from(&x.correlation_id);
        e.timestamp.clone_from(&x.timestamp);
    }
    x
}

/// Every `AADSTS<digits>` in the text, with the message that follows it
/// (up to the end of the line or the "Trace ID" part).
fn find_codes(text: &str) -> Vec<(u64, Option<String>)> {
    let mut out: Vec<(u64, Option<String>)> = Vec::new();
    let upper = text.to_ascii_uppercase();
    let mut from = 0;
    while let Some(i) = upper[from..].find("AADSTS") {
        // No real error text names this many: more would only cost time.
        if out.len() >= MAX_CODES {
            break;
        }
        let start = from + i + 6;
        let digits: String = text[start..]
            .chars()
            .take_while(char::is_ascii_digit)
            .take(11)
            .collect();
        from = start;
        if digits.is_empty() || digits.len() > 10 {
            continue;
        }
        let Ok(code) = digits.parse::<u64>() else {
            continue;
        };
        // A code already described is not described again.
        if out.iter().any(|(c, d)| *c == code && d.is_some()) {
            continue;
        }
        let rest = &text[start + digits.len()..];
        let desc = rest
            .strip_prefix(':')
            .map(|r| {
                let r = r.trim_start();
                // The message runs to the end of the line, or to "Trace ID"
                // when the ids share the line (searched within the line only,
                // and within its first few KB: a message is shown clipped,
                // and a long line with many codes must not be read again
                // from each).
                let mut window = r.len().min(4096);
                while !r.is_char_boundary(window) {
                    window -= 1;
                }
                let r = &r[..window];
                let line = &r[..r.find(['\n', '\r']).unwrap_or(r.len())];
                let mut end = find_ci(line, "trace id").unwrap_or(line.len());
                // Another code on the same line starts its own message; the
                // words leading into it end at the last full stop before it.
                let upper_line = line.to_ascii_uppercase();
                let next = upper_line
                    .match_indices("AADSTS")
                    .map(|(i, _)| i)
                    .find(|i| {
                        upper_line
                            .as_bytes()
                            .get(i + 6)
                            .is_some_and(u8::is_ascii_digit)
                    });
                if let Some(n) = next.filter(|n| *n < end) {
                    end = line[..n].rfind(". ").map_or(n, |dot| dot + 1);
                }
                clip_line(line[..end].trim_end_matches(['\\', '"', ',']).trim())
            })
            .filter(|d| !d.is_empty());
        if let Some(slot) = out.iter_mut().find(|(c, _)| *c == code) {
            if slot.1.is_none() {
                slot.1 = desc;
            }
        } else {
            out.push((code, desc));
        }
    }
    out
}

fn clip_line(s: &str) -> String {
    let s: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    // At most 300 characters, the ellipsis included.
    let s = s.trim();
    if s.chars().count() > 300 {
        crate::text::clip_chars(s, 299)
    } else {
        s.to_string()
    }
}

/// The most distinct codes one text is read for.
const MAX_CODES: usize = 100;

fn find_ci(hay: &str, needle: &str) -> Option<usize> {
    hay.to_ascii_lowercase().find(needle)
}

/// The value after `Label:` (case-insensitive), up to whitespace or a quote
/// (a timestamp runs to the end of the line: it holds a space).
fn labelled(text: &str, label: &str) -> Option<String> {
    let spaces = label == "timestamp";
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find(label) {
        let after = from + i + label.len();
        from = after;
        let rest = text[after..].trim_start_matches([' ', '"', '_']);
        let Some(rest) = rest.strip_prefix(':') else {
            continue;
        };
        let rest = rest.trim_start_matches([' ', '"']);
        let v: String = rest
            .chars()
            .take_while(|c| {
                !matches!(c, '"' | ',' | '\\' | '}' | '\r' | '\n') && (spaces || !c.is_whitespace())
            })
            .take(64)
            .collect();
        let v = v.trim().to_string();
        if !v.is_empty() {
            return Some(v);
        }
    }
    None
}

/// A GUID that the text names as the application / client id.
fn client_id_in(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    for phrase in [
        "application with identifier",
        "application with id",
        "client_id",
        "client id",
        "app id",
        "appid",
    ] {
        let mut from = 0;
        while let Some(i) = lower[from..].find(phrase) {
            let after = from + i + phrase.len();
            from = after;
            let window: String = text[after..].chars().take(48).collect();
            if let Some(g) = first_guid(&window) {
                return Some(g);
            }
        }
    }
    None
}

fn first_guid(s: &str) -> Option<String> {
    let b = s.as_bytes();
    (0..b.len().saturating_sub(35)).find_map(|i| {
        let cand = s.get(i..i + 36)?;
        let before_ok = i == 0 || !b[i - 1].is_ascii_hexdigit();
        let after_ok = b.get(i + 36).is_none_or(|c| !c.is_ascii_hexdigit());
        (before_ok && after_ok && crate::guid::is_guid(cand)).then(|| cand.to_string())
    })
}

/// The text between `prefix` and the next `'`.
fn quoted_after(text: &str, prefix: &str) -> Option<String> {
    let i = find_ci(text, prefix)?;
    let rest = &text[i + prefix.len()..];
    let end = rest.find('\'')?;
    let v = rest[..end].trim();
    (!v.is_empty() && v.len() <= 256).then(|| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_of_many_codes_is_read_once() {
        // Each code used to read the rest of its line again.
        let text = "AADSTS50011: x ".repeat(17_000);
        let codes = find_codes(&text);
        assert_eq!(codes.len(), 1);
        assert_eq!(codes[0].0, 50011);
    }

    #[test]
    fn a_code_in_free_text_keeps_only_its_own_words() {
        let got = find_codes(
            "first AADSTS7000215: Invalid client secret provided. then later AADSTS50126: Error validating credentials",
        );
        assert_eq!(
            got,
            vec![
                (7000215, Some("Invalid client secret provided.".to_string())),
                (50126, Some("Error validating credentials".to_string())),
            ]
        );
    }

    #[test]
    fn table_loads_and_covers_the_reference() {
        for c in [
            65001, 650056, 650052, 65004, 90094, 700016, 7000215, 7000222, 7000218, 700027, 700024,
            500011, 70011, 1002012, 9001023, 90002, 900023, 90014, 900144, 9002313, 50126, 50076,
            50079, 50034, 50053, 53003, 50105, 50011, 500113, 50194, 90124, 90130, 7000112,
        ] {
            assert!(lookup(c).is_some(), "missing {c}");
        }
        assert!(lookup(65001).unwrap().consent_related);
        // A multi-tenant app not yet consented in the tenant: the consent link helps.
        assert!(lookup(700016).unwrap().consent_related);
        assert!(!lookup(7000215).unwrap().consent_related);
        assert!(oauth_meaning("authorization_pending").is_some());
        let mut codes: Vec<u64> = TABLE.codes.iter().map(|e| e.code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(
            codes.len(),
            TABLE.codes.len(),
            "duplicate code in data/aadsts.json"
        );
        assert!(
            TABLE
                .codes
                .iter()
                .all(|e| !e.cause.is_empty() && !e.fix.is_empty())
        );
    }

    #[test]
    fn codes_parse() {
        assert_eq!(parse_code("AADSTS700016"), Some(700016));
        assert_eq!(parse_code("aadsts65001"), Some(65001));
        assert_eq!(parse_code("700016"), Some(700016));
        assert_eq!(parse_code("AADSTS 700016"), Some(700016));
        assert_eq!(parse_code("aadsts-65001"), Some(65001));
        assert_eq!(parse_code("AADSTS -"), None);
        assert_eq!(parse_code("AADSTS"), None);
        assert_eq!(parse_code("7x"), None);
        // Found by fuzz/run.sh (target aadsts): a multi-byte character across byte 6.
        assert_eq!(parse_code("AADSTé700016"), None);
        assert_eq!(parse_code("AADST\u{fffd}\u{fffd}S700016"), None);
    }

    #[test]
    fn json_body_is_read() {
        let body = r#"{"error":"unauthorized_client","error_description":"AADSTS700016: Application with identifier '11111111-2222-3333-4444-555555555555' was not found in the directory 'contoso.onmicrosoft.com'. This can happen if ...\r\nTrace ID: aaaa\r\nCorrelation ID: bbbb\r\nTimestamp: 2026-03-02 09:30:00Z","error_codes":[700016],"timestamp":"2026-03-02 09:30:00Z","trace_id":"t-1","correlation_id":"c-1"}"#;
        let x = explain_error_body(body);
        assert!(x.is_error_json);
        assert_eq!(x.errors.len(), 1);
        assert_eq!(x.errors[0].code, "AADSTS700016");
        assert_eq!(x.trace_id.as_deref(), Some("t-1"));
        assert_eq!(
            x.client_id.as_deref(),
            Some("11111111-2222-3333-4444-555555555555")
        );
        assert_eq!(x.tenant.as_deref(), Some("contoso.onmicrosoft.com"));
        assert!(
            x.errors[0]
                .description
                .as_deref()
                .unwrap()
                .starts_with("Application with identifier")
        );
    }

    #[test]
    fn free_text_is_scanned() {
        let t = "MsalServiceException: AADSTS7000215: Invalid client secret provided.\nTrace ID: 0a1b\nCorrelation ID: 9f8e\nTimestamp: 2026-03-02 09:30:00Z\nand later aadsts65001 too";
        let x = explain_error_body(t);
        assert!(!x.is_error_json);
        let codes: Vec<_> = x.errors.iter().map(|e| e.code.as_str()).collect();
        assert_eq!(codes, ["AADSTS7000215", "AADSTS65001"]);
        assert_eq!(x.trace_id.as_deref(), Some("0a1b"));
        assert_eq!(x.correlation_id.as_deref(), Some("9f8e"));
        assert_eq!(x.timestamp.as_deref(), Some("2026-03-02 09:30:00Z"));
        assert!(explain_error_body("hello").is_empty());
        // Many codes in a big input stay fast (no rescans of the whole text).
        let big = "AADSTS50126: x Trace ID: y\n".repeat(8000);
        let t = std::time::Instant::now();
        let x = explain_error_body(&big);
        assert_eq!(x.errors.len(), 1);
        assert!(t.elapsed().as_secs() < 5);
    }
}
