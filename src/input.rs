//! Token input: where the text comes from and how a pasted blob becomes a compact JWS.
//!
//! People paste what they have: a bare JWT, `Bearer <jwt>`, a whole
//! `Authorization: Bearer <jwt>` header line, a token endpoint response
//! (`access_token`), `az account get-access-token` output (`accessToken`),
//! PowerShell's `Get-AzAccessToken | ConvertTo-Json` (`Token`), with quotes,
//! whitespace and line breaks around or inside. Everything else is rejected
//! with an error that says what it was.

use std::io::Read;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::{Error, Result, Snippet};

/// Largest input accepted, in bytes.
pub const MAX_INPUT: usize = 256 * 1024;

/// Where the token text comes from, in the order of precedence the CLI applies.
#[derive(Debug, Clone)]
pub enum Source {
    /// `-`: standard input.
    Stdin,
    /// `--token-file PATH`, or a positional argument naming an existing file.
    File(PathBuf),
    /// `MDEAUTH_TOKEN` holding the token text itself (a token given as an
    /// argument is refused: shell history and the process list keep it).
    Text { text: String, origin: &'static str },
}

impl Source {
    /// Decide the source from the CLI's positional argument, `--token-file` and the environment.
    pub fn resolve(
        positional: Option<&str>,
        token_file: Option<&Path>,
        env: Option<String>,
    ) -> Result<Source> {
        match (positional, token_file) {
            (Some(_), Some(_)) => Err(Error::input(
                "both a token argument and --token-file were given",
            )
            .with_hint("pass the token one way only")),
            (Some("-"), None) => Ok(Source::Stdin),
            (Some(arg), None) => {
                let is_text = arg.trim_start().starts_with('{') || arg.contains(char::is_whitespace);
                // `https://host/cb#access_token=eyJ...`: a token in the text,
                // not a path, even with slashes in it.
                let holds_token = || {
                    crate::scan::find::Finder::new()
                        .all(arg.as_bytes())
                        .iter()
                        .any(|c| c.shape == crate::scan::find::Shape::Signed)
                };
                // An existing file first, whatever its name holds (a space,
                // a brace): the argument is a file or -.
                let found = named_file(
                    arg,
                    "a token file",
                    "name the file that holds the token, or use `mdeauth scan` to search a directory",
                )?;
                if let Some(path) = found {
                    Ok(Source::File(path))
                } else if is_text || holds_token() || looks_like_token(arg) {
                    // The token itself (or text holding it): a bearer
                    // credential is not taken on the command line.
                    Err(Error::input(
                        "a token is not taken on the command line, where shell history and the process list keep it (the argument is not repeated here)",
                    )
                    .with_hint(
                        "give - and paste it (then Ctrl-D; on Windows Ctrl-Z and Enter), or pipe it in; or put it in a file, --token-file PATH or MDEAUTH_TOKEN",
                    ))
                } else {
                    // The argument is named back only when it reads as a
                    // path: a secret pasted here must not be.
                    let what = if path_like(arg) {
                        format!("no such token file: {}", Snippet(arg))
                    } else {
                        "no such token file, and the argument is not a token either (it is not repeated here, in case it is a secret)".to_string()
                    };
                    Err(Error::input(what).with_hint(
                        "give an existing file, or - to read the token from standard input",
                    ))
                }
            }
            (None, Some(p)) => Ok(Source::File(p.to_path_buf())),
            (None, None) => match env {
                Some(t) if !t.trim().is_empty() => Ok(Source::Text {
                    text: t,
                    origin: "MDEAUTH_TOKEN",
                }),
                _ => Err(Error::input("no token given").with_hint(
                    "give - to read it from standard input, a file holding it, --token-file PATH, or set MDEAUTH_TOKEN",
                )),
            },
        }
    }

    /// Read the raw bytes of a token, refusing anything over [`MAX_INPUT`]
    /// without reading it all.
    pub fn read(&self) -> Result<Vec<u8>> {
        self.read_as(&TOKEN)
    }

    /// [`Source::read`] for input that holds `what`, which the errors name.
    pub fn read_as(&self, what: &Holding) -> Result<Vec<u8>> {
        match self {
            Source::Stdin => read_capped(std::io::stdin().lock(), "standard input", what),
            Source::File(p) => {
                let f = std::fs::File::open(p).map_err(|e| {
                    Error::reading(
                        &e,
                        format!("cannot read {} file {}: {e}", what.noun, shown_path(p)),
                        None,
                    )
                })?;
                read_capped(f, &p.display().to_string(), what)
            }
            Source::Text { text, origin } => {
                if text.len() > MAX_INPUT {
                    return Err(too_large(origin, what));
                }
                Ok(text.as_bytes().to_vec())
            }
        }
    }
}

/// What an input holds, for the errors that name it.
pub struct Holding {
    /// "token", "error text".
    pub noun: &'static str,
    /// Why more than [`MAX_INPUT`] cannot be it.
    pub size_note: &'static str,
    /// What to do about too much input.
    pub size_hint: &'static str,
    /// What to give when it cannot be read.
    pub read_hint: &'static str,
}

/// A token (every command but `explain`).
pub const TOKEN: Holding = Holding {
    noun: "token",
    size_note: "a token is a few KB at most",
    size_hint: "pass only the token, or use `mdeauth scan` for logs and captures",
    read_hint: "name the file that holds the token, or - for standard input",
};

/// What an argument names, when it names something to read: a regular
/// file, or a pipe such as `<(az account get-access-token)`. `None` when
/// nothing by that name exists; an error (exit 2) when it is a directory.
pub fn named_file(arg: &str, what: &str, hint: &str) -> Result<Option<PathBuf>> {
    match std::fs::metadata(arg) {
        Ok(meta) if meta.is_dir() => Err(Error::input(format!(
            "{} is a directory, not {what}",
            Snippet(arg)
        ))
        .with_hint(hint)),
        Ok(_) => Ok(Some(PathBuf::from(arg))),
        Err(_) => Ok(None),
    }
}

fn too_large(origin: &str, what: &Holding) -> Error {
    Error::input(format!(
        "input from {origin} is larger than {} KB; {}",
        MAX_INPUT / 1024,
        what.size_note
    ))
    .with_hint(what.size_hint)
}

/// Text that reads as a token of any shape (encrypted, two parts, cut
/// short): `eyJ` at its start or after `Bearer `, with a dot after it.
fn looks_like_token(arg: &str) -> bool {
    let t = arg.trim();
    let t = t
        .get(..7)
        .filter(|p| p.eq_ignore_ascii_case("bearer "))
        .map_or(t, |_| t[7..].trim_start());
    t.starts_with("eyJ") && t.contains('.')
}

/// A word ending in the extension of a file a token is kept in, so naming
/// it back cannot show a secret pasted where a token belongs.
fn file_like(arg: &str) -> bool {
    const EXTENSIONS: [&str; 28] = [
        "txt", "jwt", "json", "log", "token", "har", "out", "b64", "secret", "key", "pem", "env",
        "cfg", "conf", "toml", "jsonl", "ndjson", "gz", "crt", "cer", "pfx", "p12", "xml", "yaml",
        "yml", "csv", "tsv", "zip",
    ];
    arg.rsplit_once('.').is_some_and(|(stem, ext)| {
        !stem.is_empty() && EXTENSIONS.iter().any(|e| e.eq_ignore_ascii_case(ext))
    }) || in_folder_with_extension(arg)
}

/// `dir/name.ext` (any extension of letters and digits, up to six): a
/// relative path. A base64 secret may hold `/` but no `.`, and a token's
/// dots come with no `/`.
fn in_folder_with_extension(arg: &str) -> bool {
    let Some((_, last)) = arg.rsplit_once(['/', '\\']) else {
        return false;
    };
    !arg.contains(char::is_whitespace)
        && last.rsplit_once('.').is_some_and(|(stem, ext)| {
            !stem.is_empty()
                && (1..=6).contains(&ext.len())
                && ext.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

/// A path the user gave, for messages: as written when something is there
/// or it reads as a path, else only its length, so a token or secret
/// pasted where a file's path belongs is never echoed.
pub fn shown_path(p: &Path) -> String {
    let s = p.to_string_lossy();
    let jwt_like = s.starts_with("eyJ") && s.matches('.').count() >= 2;
    if !jwt_like && (p.symlink_metadata().is_ok() || path_like(&s)) {
        s.into_owned()
    } else {
        withheld(&s, " that does not read as a path")
    }
}

/// In place of a value that may be a secret given in the wrong place: its
/// length and `what` it looks like, never the value.
pub fn withheld(value: &str, what: &str) -> String {
    format!(
        "(a {}-character value{what}, not repeated here in case it is a secret)",
        value.chars().count()
    )
}

/// A path as people write one: a token file's name, or a path that starts
/// at the current, parent, root or home directory or a drive.
pub(crate) fn path_like(arg: &str) -> bool {
    file_like(arg)
        || arg.starts_with("./")
        || arg.starts_with("../")
        || arg.starts_with(".\\")
        || arg.starts_with('/')
        || arg.starts_with('~')
        || arg.get(1..3) == Some(":\\")
}

fn read_capped(r: impl Read, origin: &str, what: &Holding) -> Result<Vec<u8>> {
    // Tokens are a few KB: one or two reads, not a doubling series of them.
    let mut buf = Vec::with_capacity(16 * 1024);
    r.take(MAX_INPUT as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| {
            Error::reading(
                &e,
                format!("cannot read {origin}: {e}"),
                Some(what.read_hint),
            )
        })?;
    if buf.len() > MAX_INPUT {
        return Err(too_large(origin, what));
    }
    Ok(buf)
}

/// A compact JWS split into its three base64url segments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compact {
    /// The whole normalised token, `header.payload.signature`.
    pub token: String,
    /// Where in the input the token was found, e.g. `access_token field`.
    pub found_in: &'static str,
    /// SHA-256 of the signing input (`header.payload`) when the code that
    /// found the token already computed it: `scan` hashes each token to
    /// de-duplicate it and gets this on the way ([`crate::digest::sha256_token`]).
    pub signing_sha256: Option<[u8; 32]>,
}

impl Compact {
    /// Header, payload and the rest (empty when missing).
    pub fn parts(&self) -> (&str, &str, &str) {
        let t = self.token.as_str();
        let Some(a) = find_dot(t.as_bytes()) else {
            return (t, "", "");
        };
        let rest = &t[a + 1..];
        match find_dot(rest.as_bytes()) {
            Some(b) => (&t[..a], &rest[..b], &rest[b + 1..]),
            None => (&t[..a], rest, ""),
        }
    }

    /// The signing input: `header.payload` as sent.
    pub fn signing_input(&self) -> &str {
        match self.token.rfind('.') {
            Some(i) => &self.token[..i],
            None => &self.token,
        }
    }
}

/// The first `.`: with the memchr crate's vector search when many tokens
/// are coming (`scan`), else with `core`'s, because the crate's CPU feature
/// detection costs more than the whole search for one token.
fn find_dot(b: &[u8]) -> Option<usize> {
    if many_tokens() {
        memchr::memchr(b'.', b)
    } else {
        b.iter().position(|&c| c == b'.')
    }
}

/// Turn pasted bytes into a compact JWS, or say precisely why not.
pub fn normalize(raw: &[u8]) -> Result<Compact> {
    if raw.len() > MAX_INPUT {
        return Err(too_large("the input", &TOKEN));
    }
    // UTF-16 too: Windows PowerShell's Out-File writes it.
    let decoded = crate::text::decode(raw).ok_or_else(|| {
        Error::input("the input is neither UTF-8 nor UTF-16 text, so it cannot be a token")
            .with_hint("pass the token text, not a binary file")
    })?;
    // A second mark can follow the one decode removed (a BOM'd file's text
    // saved again with a mark).
    let text = decoded.trim_start_matches('\u{feff}').trim();
    if text.is_empty() {
        return Err(Error::input("the input is empty")
            .with_hint("paste the access token, or the JSON response that contains it"));
    }
    let text = strip_quotes(text);

    if text.starts_with('{') {
        return from_json(text);
    }
    // What PowerShell writes for a SecureString sent to a file or a pipe.
    if text.eq_ignore_ascii_case("System.Security.SecureString") {
        return Err(secure_string_error(
            "the input is the type name of a PowerShell SecureString, not the token's text",
        ));
    }

    let mut found_in = "input";
    let mut t = text;
    if let Some(rest) = strip_prefix_ci(t, "authorization:") {
        // Quotes may hold the whole value: Authorization: "Bearer eyJ...".
        t = strip_quotes(rest);
        found_in = "Authorization header";
    }
    if let Some(rest) = strip_prefix_ci(t, "bearer")
        && (rest.is_empty() || rest.starts_with(char::is_whitespace))
    {
        t = rest.trim_start();
        if found_in == "input" {
            found_in = "Bearer value";
        }
    }
    let t = strip_quotes(t.trim());
    // Text that is not just a token (TOKEN=eyJ..., a redirect URL with
    // #access_token=, a form body): its one token. Text with no whole token
    // keeps the error that says what is wrong with it.
    compact(t, found_in)
        .or_else(|e| one_in_text(text, "the only token in the text").unwrap_or(Err(e)))
}

/// Text with a token somewhere in it, as people paste `curl -v` output, an
/// HTTP request, a few log lines or JSON of another shape: its one token
/// (found in `label`), or an error when it holds several. `None` when it
/// holds no whole token (then the caller's own error stands).
fn one_in_text(text: &str, label: &'static str) -> Option<Result<Compact>> {
    use crate::scan::find::{Finder, Shape};
    let found = Finder::new().all(text.as_bytes());
    // A whole token ends where the text around it takes over; one that runs
    // on into a character no token holds (a zero-width space, `+`, `/`) is
    // a damaged token, not one to take the front part of.
    // Nor is one followed by a dot and more token text (`h.p.s.x`): four
    // parts are no compact token, whatever its first three say.
    let ends_whole = |end: usize| {
        let mut rest = text[end..].chars();
        let next = rest.next();
        let runs_on = next == Some('.')
            && rest
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        !runs_on && next.is_none_or(|ch| ch.is_whitespace() || "\"'`&,;:.)]}>|<#?".contains(ch))
    };
    let mut tokens: Vec<&str> = found
        .iter()
        .filter(|c| c.shape == Shape::Signed && ends_whole(c.offset + c.text.len()))
        .map(|c| c.text)
        .collect();
    tokens.sort_unstable();
    tokens.dedup();
    match tokens.as_slice() {
        [] => None,
        [one] => Some(compact(one, label)),
        many => Some(Err(Error::input(format!(
            "the text holds {} different tokens; give one",
            many.len()
        ))
        .with_hint(
            "copy the one you mean, or run `mdeauth scan` on the text to check them all",
        ))),
    }
}

/// Az.Accounts returns the token as a SecureString, which PowerShell writes
/// out without its text.
fn secure_string_error(what: &str) -> Error {
    Error::input(what.to_string())
        .with_hint("pass the token text instead, e.g. `(Get-AzAccessToken -ResourceUrl https://api.securitycenter.microsoft.com).Token | ConvertFrom-SecureString -AsPlainText` in PowerShell 7")
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    if s.len() >= prefix.len()
        && s.is_char_boundary(prefix.len())
        && s[..prefix.len()].eq_ignore_ascii_case(prefix)
    {
        Some(&s[prefix.len()..])
    } else {
        None
    }
}

fn strip_quotes(s: &str) -> &str {
    let s = s.trim();
    for q in ['"', '\'', '`'] {
        if s.len() >= 2 && s.starts_with(q) && s.ends_with(q) {
            return s[1..s.len() - 1].trim();
        }
    }
    s
}

fn from_json(text: &str) -> Result<Compact> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        Error::input(format!(
            "the input starts like JSON but is not valid JSON ({e})"
        ))
        .with_hint("paste the whole token response, or only the token")
    })?;
    let obj = v.as_object().ok_or_else(|| {
        Error::input("the JSON input is not an object with an access_token field")
    })?;
    for (field, label) in [
        ("access_token", "access_token field"),
        ("accessToken", "accessToken field"),
        // MSAL.NET / MSAL.PS AuthenticationResult.
        ("AccessToken", "AccessToken field"),
        ("id_token", "id_token field"),
        ("idToken", "idToken field"),
        ("IdToken", "IdToken field"),
        ("Token", "Token field"),
    ] {
        if let Some(val) = obj.get(field) {
            if field == "Token" && val.is_object() {
                // Az.Accounts returns the token as a SecureString, which
                // ConvertTo-Json writes as an object without the text.
                return Err(secure_string_error(
                    "the JSON field Token is a PowerShell SecureString, which ConvertTo-Json does not reveal",
                ));
            }
            let s = val
                .as_str()
                .ok_or_else(|| Error::input(format!("the JSON field {field} is not a string")))?;
            return compact(strip_quotes(s), label);
        }
    }
    if obj.contains_key("error") || obj.contains_key("error_description") {
        let code = obj
            .get("error_codes")
            .and_then(|c| c.as_array())
            .and_then(|a| a.first())
            .map(|c| format!(" AADSTS{c}"))
            .unwrap_or_default();
        return Err(Error::input(format!(
            "the JSON is an error response from the token endpoint{code}, not a token"
        ))
        .with_hint("run `mdeauth explain -` on it to see the cause and the fix"));
    }
    // JSON of another shape (a Postman environment, a pasted HAR entry)
    // with one token somewhere in it.
    one_in_text(text, "the only token in the JSON").unwrap_or_else(|| {
        Err(
            Error::input("the JSON has no access_token, accessToken or Token field").with_hint(
                "paste the token endpoint's response, `az account get-access-token` output or `Get-AzAccessToken | ConvertTo-Json` output",
            ),
        )
    })
}

/// Whether a byte can be part of a compact token (base64url or `.`).
/// Written as arithmetic so loops over it vectorise: `b | 0x20` folds A-Z
/// onto a-z and maps no other byte into that range.
#[inline(always)]
pub fn is_token_byte(b: u8) -> bool {
    (b | 0x20).wrapping_sub(b'a') < 26
        || b.wrapping_sub(b'0') < 10
        || b == b'-'
        || b == b'_'
        || b == b'.'
}

/// A byte a pasted compact JWS may hold: a token byte or `=` padding.
fn is_jws_byte(b: u8) -> bool {
    is_token_byte(b) || b == b'='
}

fn compact(t: &str, found_in: &'static str) -> Result<Compact> {
    // Tokens copied from terminals and logs are often wrapped: drop all
    // whitespace (Unicode's, as `char::is_whitespace` has it). The usual
    // token has nothing but the base64url alphabet, `=` and dots: it is
    // copied as it is, and its segments need no further character check.
    let clean = t.bytes().all(is_jws_byte);
    let t: String = if clean {
        t.to_string()
    } else {
        t.chars().filter(|c| !c.is_whitespace()).collect()
    };
    if t.is_empty() {
        return Err(Error::input(format!("the {found_in} is empty"))
            .with_hint("paste the access token itself"));
    }
    let segments: Vec<&str> = t.split('.').collect();
    match segments.len() {
        3 => {}
        5 => {
            return Err(Error::input(
                "this is an encrypted token (JWE, 5 segments): only the resource it was issued for can decrypt it, a client cannot read it",
            )
            .with_hint("inspect an access token issued for the MDE API (https://api.securitycenter.microsoft.com/.default); those are signed, not encrypted"));
        }
        1 => {
            return Err(Error::input(format!(
                "this is not a JWT ({} characters with no '.' separators): it looks like an opaque token or a secret, which only its issuer can read",
                t.chars().count()
            ))
            .with_hint("MDE API access tokens are JWTs of the form header.payload.signature; check what you copied"));
        }
        n => {
            return Err(Error::input(format!(
                "this is not a JWT: it has {n} dot-separated segments, a signed JWT has 3"
            ))
            .with_hint("copy the whole token and nothing else"));
        }
    }
    for (seg, name) in segments.iter().zip(["header", "payload", "signature"]) {
        if seg.is_empty() && name != "signature" {
            return Err(Error::input(format!("the token's {name} segment is empty")));
        }
        // `=` pads the end of a segment; inside one it joins other text to
        // the token (`TOKEN=eyJ...`).
        if seg.trim_end_matches('=').contains('=') {
            return Err(Error::input(format!(
                "the token's {name} segment is not base64url: it contains '=' before its end"
            ))
            .with_hint("copy the token itself, without the name or text around it"));
        }
        if clean {
            continue;
        }
        // By bytes (a segment holds no dot): the first byte outside the
        // alphabet starts the character to report, since a multi-byte
        // character's first byte is never ASCII.
        if let Some(bad) = seg
            .bytes()
            .position(|b| !is_jws_byte(b))
            .and_then(|i| seg[i..].chars().next())
        {
            return Err(Error::input(format!(
                "the token's {name} segment is not base64url: it contains {:?}",
                bad
            ))
            .with_hint("copy the token again; it may have been cut or altered"));
        }
    }
    Ok(Compact {
        token: t,
        found_in,
        signing_sha256: None,
    })
}

/// The base64url (no padding) engine for many token segments: the `base64`
/// crate's SIMD engine, which picks AVX2 or NEON at run time and otherwise
/// falls back to the same scalar engine as `URL_SAFE_NO_PAD` (same rules).
pub fn b64url() -> &'static base64::engine::Simd {
    static ENGINE: std::sync::LazyLock<base64::engine::Simd> = std::sync::LazyLock::new(|| {
        base64::engine::Simd::url_safe(base64::engine::general_purpose::NO_PAD)
    });
    &ENGINE
}

/// Whether [`decode_segment`] uses [`b64url`] and [`Compact::parts`]
/// searches with the memchr crate. Their CPU feature detection costs about 50 µs on a VM
/// (each CPUID traps to the hypervisor), more than it saves on one token,
/// so only `scan` turns it on.
static MANY_TOKENS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Decode and split tokens with the vector code from now on (same results).
pub fn expect_many_tokens() {
    MANY_TOKENS.store(true, std::sync::atomic::Ordering::Relaxed);
}

fn many_tokens() -> bool {
    MANY_TOKENS.load(std::sync::atomic::Ordering::Relaxed)
}

/// Decode one base64url segment, naming it in the error.
pub fn decode_segment(seg: &str, name: &str) -> Result<Vec<u8>> {
    let trimmed = seg.trim_end_matches('=');
    let decoded = if many_tokens() {
        b64url().decode(trimmed)
    } else {
        URL_SAFE_NO_PAD.decode(trimmed)
    };
    decoded.map_err(|e| {
        Error::input(format!(
            "the token's {name} segment is not valid base64url ({e})"
        ))
        .with_hint("copy the token again; it may have been cut or altered")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_segment_engines_agree() {
        // Valid, non-canonical trailing bits, bad characters, impossible lengths.
        for seg in [
            "",
            "e",
            "eyJ",
            "eyJh",
            "eyJhbGciOiJSUzI1NiJ9",
            "eyJhbGciOiJSUzI1NiJ9==",
            "eyJB",
            "eyK",
            "ab-_",
            "ab+/",
            "a=bc",
        ] {
            let t = seg.trim_end_matches('=');
            let plain = URL_SAFE_NO_PAD.decode(t).map_err(|e| e.to_string());
            let simd = b64url().decode(t).map_err(|e| e.to_string());
            assert_eq!(plain, simd, "segment {seg:?}");
        }
    }

    #[test]
    fn a_bad_character_is_reported_whole() {
        for (tok, bad) in [
            ("eyJh.eyJé.c2ln", "'é'"),
            ("eyJh.eyJ日.c2ln", "'日'"),
            ("e*J.eyJ9.c2ln", "'*'"),
            ("eyJh.eyJ9.c2l+", "'+'"),
        ] {
            let err = compact(tok, "input").unwrap_err().to_string();
            assert!(err.contains(bad), "{tok}: {err}");
        }
    }

    #[test]
    fn whitespace_of_every_kind_is_dropped_from_a_token() {
        let tok = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.c2ln";
        assert_eq!(compact(tok, "input").unwrap().token, tok);
        // ASCII whitespace including vertical tab, and Unicode spaces.
        for ws in [
            " ", "\t", "\n", "\r\n", "\x0b", "\x0c", "\u{a0}", "\u{2028}", "\u{85}",
        ] {
            let wrapped = format!("{}{ws}{}", &tok[..10], &tok[10..]);
            assert_eq!(
                compact(&wrapped, "input").unwrap().token,
                tok,
                "whitespace {ws:?}"
            );
        }
    }
}
