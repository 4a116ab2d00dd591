//! Hiding credentials in text a user pasted (an error body, a curl or MSAL
//! trace), where mdeauth does not know the secrets it may hold: they are
//! recognised by shape and by the names they travel under.

use std::borrow::Cow;

/// Parameter and member names whose value is a credential, and whether it
/// is one as a JSON member or `name: value` too (`"code"` names error codes
/// in JSON; only `code=` is an authorization code).
const NAMES: [(&str, bool); 12] = [
    ("access_token", true),
    ("assertion", true),
    ("client_assertion", true),
    ("client_secret", true),
    ("code", false),
    ("device_code", true),
    ("id_token", true),
    ("password", true),
    ("refresh_token", true),
    ("secret", true),
    ("sig", false),
    ("token", true),
];

/// A run of base64url characters this long is a signature, a secret or a
/// token segment, not a word, a GUID (36) or an AADSTS code.
const LONG_RUN: usize = 40;

fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// The end of the value starting at `at`: up to a delimiter of query
/// strings, form bodies, JSON or prose.
fn value_end(b: &[u8], at: usize) -> usize {
    b[at..]
        .iter()
        .position(|c| {
            c.is_ascii_whitespace()
                || matches!(
                    c,
                    b'&' | b'"' | b'\'' | b',' | b';' | b'}' | b')' | b'<' | b'\\'
                )
        })
        .map_or(b.len(), |n| at + n)
}

/// Where the value of a credential named at `start` begins: after `name=`,
/// `name: `, `"name":"` or `"name": "`; `None` when no value follows.
fn value_start(b: &[u8], start: usize, (name, colon): (&str, bool)) -> Option<usize> {
    let head = b.get(start..start + name.len())?;
    if !head.eq_ignore_ascii_case(name.as_bytes()) {
        return None;
    }
    let mut i = start + name.len();
    // A closing quote of a JSON member name.
    if colon && matches!(b.get(i), Some(b'"') | Some(b'\'')) {
        i += 1;
    }
    match b.get(i) {
        Some(b'=') => i += 1,
        Some(b':') if colon => i += 1,
        _ => return None,
    }
    while matches!(b.get(i), Some(b' ') | Some(b'"') | Some(b'\'')) {
        i += 1;
    }
    (i < b.len()).then_some(i)
}

/// `text` with each credential replaced: a JWT-shaped run (`eyJ…` with a
/// dot) by `[token]`; the value after a credential's name (`client_secret=`,
/// `"password": "`, `Bearer `) and any base64url run of 40 characters or
/// more by `[hidden]`. Borrowed when nothing was found.
pub fn hide_credentials(text: &str) -> Cow<'_, str> {
    let b = text.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut i = 0;
    let mut replace = |from: usize, to: usize, with: &str, copied: &mut usize| {
        let o = out.get_or_insert_with(|| String::with_capacity(text.len()));
        o.push_str(&text[*copied..from]);
        o.push_str(with);
        *copied = to;
    };
    while i < b.len() {
        // Only at the start of a word: not inside a longer name or run.
        let word_start = i == 0 || !(is_b64url(b[i - 1]) || b[i - 1] == b'.');
        if !word_start {
            i += 1;
            continue;
        }
        if let Some(v) = NAMES.iter().find_map(|&n| value_start(b, i, n)) {
            let end = value_end(b, v);
            // `[redacted]`: already blanked by who knew the secret.
            if end > v && b[v] != b'[' {
                replace(v, end, "[hidden]", &mut copied);
            }
            i = end.max(i + 1);
            continue;
        }
        if b.len() - i > 7 && b[i..i + 7].eq_ignore_ascii_case(b"bearer ") {
            let v = i + 7;
            let end = value_end(b, v);
            if end > v {
                replace(v, end, "[hidden]", &mut copied);
            }
            i = end.max(i + 1);
            continue;
        }
        if is_b64url(b[i]) {
            // A run of token characters, dots included.
            let end = b[i..]
                .iter()
                .position(|&c| !(is_b64url(c) || c == b'.'))
                .map_or(b.len(), |n| i + n);
            let run = &b[i..end];
            // A sentence's full stop is not part of the run.
            let run_end = i + run.len() - run.iter().rev().take_while(|&&c| c == b'.').count();
            let jwt = run.starts_with(b"eyJ") && run[..run_end - i].contains(&b'.');
            let long = run[..run_end - i]
                .split(|&c| c == b'.')
                .any(|seg| seg.len() >= LONG_RUN);
            if jwt {
                replace(i, run_end, "[token]", &mut copied);
            } else if long {
                replace(i, run_end, "[hidden]", &mut copied);
            }
            i = end;
            continue;
        }
        i += 1;
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut o) => {
            o.push_str(&text[copied..]);
            Cow::Owned(o)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::hide_credentials as hide;

    #[test]
    fn named_values_tokens_and_long_runs_are_hidden() {
        let jwt = "eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJ4In0.c2lnbmF0dXJl";
        assert_eq!(
            hide(&format!("Bearer {jwt} and {jwt}.")),
            "Bearer [hidden] and [token]."
        );
        assert_eq!(
            hide("client_secret=Qz8Q~kP3vLmN7rT2&grant_type=client_credentials"),
            "client_secret=[hidden]&grant_type=client_credentials"
        );
        assert_eq!(hide("client_secret=[redacted]"), "client_secret=[redacted]");
        assert_eq!(
            hide(r#"{"password": "Hunter2!", "username":"a@b.c"}"#),
            r#"{"password": "[hidden]", "username":"a@b.c"}"#
        );
        assert_eq!(
            hide("https://app/cb?code=0.AXyz-abc&state=1#access_token=abc.def"),
            "https://app/cb?code=[hidden]&state=1#access_token=[hidden]"
        );
        let long = "A".repeat(45);
        assert_eq!(hide(&format!("sig {long} end")), "sig [hidden] end");
    }

    #[test]
    fn ordinary_error_text_is_left_alone() {
        for t in [
            "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '3f6a1b2c-9d8e-4f70-a1b2-c3d4e5f60718'.",
            "Trace ID: 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0 Correlation ID: x",
            r#"{"error":"invalid_grant","error_codes":[70000],"error_description":"AADSTS70000: The provided value for the code parameter is not valid."}"#,
            r#"{"error":{"code":"Forbidden","message":"Missing application roles."}}"#,
            "the password is wrong; passwords expire",
        ] {
            assert!(matches!(hide(t), std::borrow::Cow::Borrowed(_)), "{t}");
        }
    }
}
