//! The token finder: pure functions from bytes to JWT candidates.
//!
//! Detection is cheap on purpose: look for `eyJ` (base64url of `{"`), extend
//! over base64url characters and dots, count the segments, and decode only
//! the header to confirm it is a JOSE header (`{"` with `alg` or `typ`).
//! Full decoding is left to the engine, once per unique token.

use base64::Engine;
use memchr::memmem;

/// Longest candidate considered; real tokens are a few KB.
pub const MAX_TOKEN: usize = 64 * 1024;

/// What a candidate looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A compact JWS: `header.payload.signature` (the signature may be empty).
    Signed,
    /// A compact JWE (5 segments): encrypted, not inspectable.
    Encrypted,
}

/// One candidate token in a byte slice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate<'a> {
    /// The token text (ASCII).
    pub text: &'a str,
    pub shape: Shape,
    /// Byte offset of the token in the slice searched.
    pub offset: usize,
}

/// What a search also noticed besides candidates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Skipped {
    /// `eyJ` runs longer than [`MAX_TOKEN`], ignored.
    pub oversize: u64,
    /// Tokens a log cut short (`eyJ….eyJ…...`, `…`) or whose signature it
    /// replaced (`.[REDACTED]`, `.REDACTED`), left out: nothing to verify.
    pub cut: u64,
}

use crate::input::is_token_byte;

/// Length of the run of token bytes at the start of `b`: 32 bytes a step
/// while the whole step is token bytes (a token is a kilobyte or more), then
/// byte by byte.
fn token_run_len(b: &[u8]) -> usize {
    const STEP: usize = 32;
    let mut i = 0;
    while let Some(chunk) = b.get(i..i + STEP) {
        // `fold` rather than `all`: no early exit, so the step vectorises.
        if !chunk.iter().fold(true, |ok, &c| ok & is_token_byte(c)) {
            break;
        }
        i += STEP;
    }
    i + b[i..]
        .iter()
        .position(|c| !is_token_byte(*c))
        .unwrap_or(b.len() - i)
}

/// A reusable searcher (holds the compiled `eyJ` substring finder).
pub struct Finder {
    needle: memmem::Finder<'static>,
    /// Leave out tokens the input cut short or redacted (counted in
    /// [`Skipped::cut`]): `scan` does, as a log's copies are no tokens to
    /// judge; `inspect` does not, as the one token pasted is to be read.
    leave_out_cut: bool,
}

impl Default for Finder {
    fn default() -> Self {
        Finder::new()
    }
}

impl Finder {
    pub fn new() -> Finder {
        Finder {
            needle: memmem::Finder::new(b"eyJ"),
            leave_out_cut: false,
        }
    }

    /// The searcher `scan` uses: tokens cut short or redacted are left out.
    pub fn for_scan() -> Finder {
        Finder {
            leave_out_cut: true,
            ..Finder::new()
        }
    }

    /// Call `f` for every candidate in `hay`, in order. Returns what was skipped.
    pub fn each<'a>(&self, hay: &'a [u8], mut f: impl FnMut(Candidate<'a>)) -> Skipped {
        let mut skipped = Skipped::default();
        let mut pos = 0;
        while pos < hay.len() {
            let Some(rel) = self.needle.find(&hay[pos..]) else {
                break;
            };
            let start = pos + rel;
            // Only at a token boundary: `xeyJ...` is the inside of something
            // else, but `\neyJ...` in a JSON string is a line break before it.
            if start > 0
                && is_token_byte(hay[start - 1])
                && hay[start - 1] != b'.'
                && !after_json_escape(hay, start)
                && !after_code_escape(hay, start)
                && !after_ansi_escape(hay, start)
            {
                pos = start + 3;
                continue;
            }
            let end = start + token_run_len(&hay[start..]);
            pos = end.max(start + 3);
            if end - start > MAX_TOKEN {
                skipped.oversize += 1;
                continue;
            }
            if self.leave_out_cut && cut_or_redacted(&hay[start..end], &hay[end..]) {
                skipped.cut += 1;
                continue;
            }
            if let Some(c) = classify(&hay[start..end], start) {
                f(c);
            }
        }
        skipped
    }

    /// All candidates in `hay`.
    pub fn all<'a>(&self, hay: &'a [u8]) -> Vec<Candidate<'a>> {
        let mut v = Vec::new();
        self.each(hay, |c| v.push(c));
        v
    }
}

/// Whether `hay[start]` follows a JSON string escape that stands for a
/// separator (`\n`, `\t`, `\r`, `\b`, `\f`), escaped once or more: a
/// JSON log wrapped again (Docker's json-file driver, `journalctl -o json`)
/// writes `\\n` for the inner log's `\n`.
fn after_json_escape(hay: &[u8], start: usize) -> bool {
    start >= 2
        && matches!(hay[start - 1], b'n' | b't' | b'r' | b'b' | b'f')
        && escaped(hay, start - 1)
}

/// Whether `hay[at]` follows a backslash: the letter of a JSON escape,
/// written once or escaped again (`\n`, `\\n`, `\\\\n`). A backslash and
/// then a word starting `eyJ` with a JOSE header is no likelier a word.
fn escaped(hay: &[u8], at: usize) -> bool {
    at >= 1 && hay[at - 1] == b'\\'
}

/// Whether `hay[start]` follows an escape that spells a character by its
/// code, which ends the word before it: a JSON `\uXXXX` escape (`\u0022`
/// for a quote, as .NET's serializer writes it; an odd number of
/// backslashes) or URL percent-encoding (`%20`, `%3D`).
fn after_code_escape(hay: &[u8], start: usize) -> bool {
    let hex = |b: &[u8]| b.iter().all(u8::is_ascii_hexdigit);
    let percent = start >= 3 && hay[start - 3] == b'%' && hex(&hay[start - 2..start]);
    // Encoded twice (`%253D` for `=` in a redirect inside a redirect).
    let twice = start >= 5
        && hay[start - 5] == b'%'
        && &hay[start - 4..start - 2] == b"25"
        && hex(&hay[start - 2..start]);
    let unicode = start >= 6
        && hay[start - 5] == b'u'
        && hex(&hay[start - 4..start])
        && escaped(hay, start - 5);
    percent || twice || unicode
}

/// Whether `hay[start]` follows a terminal colour code (`ESC [ 32 m`), as
/// coloured console loggers write around values, also with its ESC
/// JSON-escaped (`\u001b[32m`, a colour code in a JSON log).
fn after_ansi_escape(hay: &[u8], start: usize) -> bool {
    if start < 3 || hay[start - 1] != b'm' {
        return false;
    }
    let params = hay[..start - 1]
        .iter()
        .rev()
        .take_while(|c| c.is_ascii_digit() || **c == b';')
        .count();
    let open = start - 1 - params;
    open >= 2 && hay[open - 1] == b'[' && escape_before(hay, open - 1) > 0
}

/// The length of the ESC that ends at `at` (exclusive): the byte itself
/// (1), JSON's `\u001b` (6), or 0 when there is none.
pub(crate) fn escape_before(hay: &[u8], at: usize) -> usize {
    if at >= 1 && hay[at - 1] == 0x1b {
        1
    } else if at >= 6 && hay[at - 6..at].eq_ignore_ascii_case(b"\\u001b") {
        6
    } else {
        0
    }
}

/// Whether a run of token bytes is a token a log cut short or redacted:
/// followed by an ellipsis (`…`), or by dots that cannot be punctuation
/// after a whole token (`header.payload...` with an algorithm that signs,
/// or a signature too short or long for its algorithm, then `...`), or with
/// a redaction mark where the signature belongs (`header.payload.[REDACTED]`,
/// `.***`, `.<redacted>`, `.REDACTED`, `.xxxx`). `after` is what follows the
/// run.
fn cut_or_redacted(run: &[u8], after: &[u8]) -> bool {
    if after.starts_with("…".as_bytes()) {
        return true;
    }
    let trailing = run.iter().rev().take_while(|&&c| c == b'.').count();
    let body = &run[..run.len() - trailing];
    // The last segment, found from the end: for a whole token followed by
    // a space or a quote (nearly every one) the answer is known from it
    // alone, without decoding anything.
    let Some(last_dot) = memchr::memrchr(b'.', body) else {
        // `header...`: no payload.
        return false;
    };
    let last = &body[last_dot + 1..];
    let redaction_word = || {
        const WORDS: [&str; 7] = [
            "redacted",
            "removed",
            "hidden",
            "masked",
            "sanitized",
            "truncated",
            "omitted",
        ];
        WORDS
            .iter()
            .any(|w| last.eq_ignore_ascii_case(w.as_bytes()))
            || (last.len() >= 3 && last.iter().all(|&c| c == b'x' || c == b'X'))
    };
    if trailing == 0 && !redaction_word() {
        return false;
    }
    let mut parts = body.split(|&c| c == b'.');
    let (Some(header), Some(_payload), sig, None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    match (sig, trailing) {
        // `header.payload.` then a mark where the signature was.
        (None, 1) => matches!(after.first(), Some(b'[' | b'*' | b'<' | b'{' | b'(')),
        // `header.payload...`: an unsigned token then punctuation only
        // when its algorithm is none.
        (None, 2..) => header_alg(header).is_some_and(|a| a != "none"),
        (Some(_), 0) => true,
        // A signature then `...`: cut when its length fits no key of its
        // algorithm.
        (Some(s), 2..) => header_alg(header)
            .as_deref()
            .and_then(signature_lengths)
            .is_some_and(|ok| !ok.contains(&s.len())),
        _ => false,
    }
}

/// The `alg` a header segment names, when it decodes.
fn header_alg(seg: &[u8]) -> Option<String> {
    let bytes = crate::input::b64url().decode(seg).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    v.get("alg")?.as_str().map(str::to_string)
}

/// The base64url lengths a signature of `alg` can have: RSA keys of 1024
/// to 8192 bits in steps of 1024 (and 2048's, Azure AD's), EC and
/// HMAC sizes. `None` for an algorithm not known here.
fn signature_lengths(alg: &str) -> Option<Vec<usize>> {
    let b64 = |bytes: usize| (bytes * 4).div_ceil(3);
    Some(match alg {
        "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512" => {
            (1..=8).map(|k| b64(k * 128)).collect()
        }
        "ES256" | "EdDSA" | "HS512" => vec![b64(64)],
        "ES384" | "HS384" => vec![b64(96), b64(48)],
        "ES512" => vec![b64(132)],
        "HS256" => vec![b64(32)],
        _ => return None,
    })
}

/// Decide whether a maximal run of token bytes starting with `eyJ` is a token.
fn classify(run: &[u8], offset: usize) -> Option<Candidate<'_>> {
    // The run is ASCII by construction.
    let run = std::str::from_utf8(run).ok()?;
    // A sentence may end right after a token, with `.`, `..` or `...`:
    // dots at the end are punctuation, except the one an unsigned token
    // (`header.payload.`) ends with. A JWE never ends with a dot (its last
    // part, the authentication tag, is never empty).
    let trimmed = run.trim_end_matches('.');
    // One pass: the number of dots and where the first five are.
    let mut dots = 0usize;
    let mut first = [0usize; 5];
    for at in memchr::memchr_iter(b'.', trimmed.as_bytes()) {
        if dots < 5 {
            first[dots] = at;
        }
        dots += 1;
    }
    let (text, shape) = match dots {
        1 if trimmed.len() < run.len() => (&run[..trimmed.len() + 1], Shape::Signed),
        2 => (trimmed, Shape::Signed),
        // A JWE (five parts; its header names its content encryption,
        // `enc`), alone or with more after a dot.
        4.. if names_enc(&trimmed[..first[0]]) => {
            let end = if dots == 4 { trimmed.len() } else { first[4] };
            (&trimmed[..end], Shape::Encrypted)
        }
        // A token and then more after a dot (`….json`, `...truncated`,
        // `.Retrying`): the token is the first three parts. Dropping it would
        // hide an expired or forged token; calling it encrypted would too.
        3.. => (&trimmed[..first[2]], Shape::Signed),
        _ => return None,
    };
    if dots == 1 {
        first[1] = trimmed.len();
    }
    let header = &text[..first[0]];
    let second = &text[first[0] + 1..first[1]];
    if header.is_empty() || (shape == Shape::Signed && second.is_empty()) {
        return None;
    }
    if !is_jose_header(header) {
        return None;
    }
    Some(Candidate {
        text,
        shape,
        offset,
    })
}

/// Whether a header segment decodes to JSON naming `enc` (a JWE's).
fn names_enc(seg: &str) -> bool {
    seg.len() <= 6 * 1024
        && crate::input::b64url()
            .decode(seg.trim_end_matches('='))
            .is_ok_and(|b| b.windows(5).any(|w| w == b"\"enc\""))
}

/// Decode a header segment and check it is a JSON object naming `alg` or `typ`.
pub fn is_jose_header(seg: &str) -> bool {
    /// Larger headers are not JOSE headers anyone sends.
    const MAX: usize = 6 * 1024;
    /// Typical AAD headers decode to about 100 bytes: no allocation for those.
    const SMALL: usize = 512;
    let seg = seg.trim_end_matches('=');
    // A plain window compare: headers are short, and building a substring
    // searcher per candidate cost more than the search.
    let is_jose = |bytes: &[u8]| {
        bytes.starts_with(b"{\"") && bytes.windows(5).any(|w| w == b"\"alg\"" || w == b"\"typ\"")
    };
    if seg.len() > MAX * 4 / 3 {
        return false;
    }
    if seg.len() <= SMALL * 4 / 3 {
        let mut buf = [0u8; SMALL];
        return crate::input::b64url()
            .decode_slice(seg, &mut buf)
            .is_ok_and(|n| is_jose(&buf[..n]));
    }
    crate::input::b64url()
        .decode(seg)
        .is_ok_and(|b| is_jose(&b))
}

/// Number of `\n` bytes. Counted per 64-byte chunk into a byte-wide sum
/// (at most 64, so it cannot overflow), which the compiler turns into
/// vector compares and adds: about 11 GB/s here against 2 GB/s for a plain
/// `filter().count()` (whose 64-bit counter defeats the vectoriser), and
/// faster than iterating matches when lines are short.
#[inline]
pub fn count_newlines(b: &[u8]) -> u64 {
    let mut chunks = b.chunks_exact(64);
    let mut n = 0u64;
    for c in &mut chunks {
        n += u64::from(c.iter().fold(0u8, |acc, &x| acc + u8::from(x == b'\n')));
    }
    n + chunks.remainder().iter().filter(|&&c| c == b'\n').count() as u64
}

/// Candidates with their 1-based line numbers, for a whole text in memory
/// (HAR fields, tests). Streaming input uses [`Finder::each`] block by block.
pub fn find_with_lines(text: &[u8]) -> Vec<(u64, Candidate<'_>)> {
    let finder = Finder::new();
    let mut out = Vec::new();
    let mut line = 1u64;
    let mut counted = 0usize;
    finder.each(text, |c| {
        line += count_newlines(&text[counted..c.offset]);
        counted = c.offset;
        out.push((line, c));
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    #[test]
    fn newlines_are_counted_across_chunk_edges() {
        // Every length around the 64-byte chunks, all-newline chunks
        // included (the byte-wide sum reaches 64).
        for len in 0..300 {
            for every in [1, 2, 63, 64, 65, 100] {
                let b: Vec<u8> = (0..len)
                    .map(|i| if i % every == 0 { b'\n' } else { b'x' })
                    .collect();
                let want = b.iter().filter(|&&c| c == b'\n').count() as u64;
                assert_eq!(count_newlines(&b), want, "len {len}, every {every}");
            }
        }
    }

    fn b64(s: &str) -> String {
        URL_SAFE_NO_PAD.encode(s)
    }

    /// A token shaped like Azure AD's: RS256, a 2048-bit key's 342-character
    /// signature (not a valid one).
    fn jws() -> String {
        format!(
            "{}.{}.{}",
            b64(r#"{"typ":"JWT","alg":"RS256"}"#),
            b64(r#"{"aud":"x"}"#),
            &"c2lnbmF0dXJl".repeat(29)[..342]
        )
    }

    #[test]
    fn tokens_a_log_cut_short_or_redacted_are_counted_not_found() {
        let t = jws();
        let (h, rest) = t.split_once('.').unwrap();
        let (p, s) = rest.split_once('.').unwrap();
        let none = b64(r#"{"alg":"none"}"#);
        for text in [
            format!("Bearer {h}.{}...", &p[..8]),
            format!("Bearer {h}.{p}..."),
            format!("token={h}.{p}.{}... (truncated)", &s[..20]),
            format!("token={h}.{p}.[REDACTED]"),
            format!("token={h}.{p}.***"),
            format!("token={h}.{p}.REDACTED end"),
            format!("token={h}.{p}.xxxxxxxx"),
            format!("token={t}… and more"),
        ] {
            let mut found = 0;
            let skipped = Finder::for_scan().each(text.as_bytes(), |_| found += 1);
            assert_eq!((found, skipped.cut), (0, 1), "{text}");
            // The plain finder (inspect's) hands it out, to be read.
            let mut found = 0;
            let skipped = Finder::new().each(text.as_bytes(), |_| found += 1);
            assert_eq!((found, skipped.cut), (1, 0), "{text}");
        }
        // A whole token, or an unsigned one, then an ellipsis or a full stop.
        for text in [
            format!("see {t}..."),
            format!("see {t}."),
            format!("{none}.{p}..."),
            format!("\"{none}.{p}.\""),
        ] {
            let mut found = 0;
            let skipped = Finder::for_scan().each(text.as_bytes(), |_| found += 1);
            assert_eq!((found, skipped.cut), (1, 0), "{text}");
        }
    }

    #[test]
    fn a_token_after_a_json_escape_is_found_but_not_inside_a_word() {
        let t = jws();
        let f = Finder::new();
        for text in [
            format!(r#"{{"msg":"token acquired:\n{t}"}}"#),
            format!(r#"{{"msg":"headers\tBearer\t{t}"}}"#),
            format!(r#"{{"msg":"a\\\r{t}"}}"#),
            // A JSON log inside a JSON log (Docker's json-file driver):
            // the inner `\n` is written `\\n`.
            format!(r#"{{"log":"{{\"msg\":\"acquired token:\\n{t}\"}}\n"}}"#),
        ] {
            let found = f.all(text.as_bytes());
            assert_eq!(found.len(), 1, "{text}");
            assert_eq!(found[0].text, t, "{text}");
        }
        // The letter n with no backslash before it: `neyJ...` is one word.
        for text in [format!("plain n{t}"), format!("/n{t}")] {
            assert!(f.all(text.as_bytes()).is_empty(), "{text}");
        }
    }

    #[test]
    fn finds_token_in_surrounding_text_with_lines() {
        let t = jws();
        let text = format!("first line\nAuthorization: Bearer {t}\n{{\"access_token\":\"{t}\"}}\n");
        let found = find_with_lines(text.as_bytes());
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].0, 2);
        assert_eq!(found[1].0, 3);
        assert_eq!(found[0].1.text, t);
        assert_eq!(found[0].1.shape, Shape::Signed);
    }

    #[test]
    fn trailing_dot_is_punctuation() {
        let t = jws();
        let text = format!("the token was {t}.");
        let found = Finder::new().all(text.as_bytes());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].text, t);
    }

    #[test]
    fn sentence_ending_dots_are_punctuation_not_jwe_segments() {
        let t = jws();
        let unsigned = format!("{}.{}.", b64(r#"{"alg":"none"}"#), b64(r#"{"a":1}"#));
        for (text, want) in [
            (format!("see {t}.. then"), &t),
            (format!("see {t}..."), &t),
            (format!("({t}....)"), &t),
            (format!("{unsigned}.."), &unsigned),
            (format!("{unsigned}..."), &unsigned),
        ] {
            let found = Finder::new().all(text.as_bytes());
            assert_eq!(found.len(), 1, "{text}");
            assert_eq!(found[0].text, *want, "{text}");
            assert_eq!(found[0].shape, Shape::Signed, "{text}");
        }
    }

    #[test]
    fn a_token_after_a_unicode_or_percent_escape_is_found() {
        let t = jws();
        let f = Finder::new();
        for text in [
            format!(r#"{{"m":"{{\u0022access_token\u0022: \u0022{t}\u0022}}"}}"#),
            format!(r#"{{"m":"it\u0027s \u0027{t}\u0027"}}"#),
            format!(r#"{{"m":"Bearer\u0020{t}"}}"#),
            format!("Authorization: Bearer%20{t}"),
            format!("url=/cb%3Faccess_token%3D{t}%26state%3Dx"),
            format!("next=%2Fcb%253Faccess_token%253D{t}%2526state"),
            format!("\x1b[32m{t}\x1b[0m"),
            format!("token: \x1b[1;33m{t}"),
            format!(r"token\u003d{t}"),
            // Escaped again inside a JSON log line (Docker's json-file).
            format!(r#"{{"log":"{{\\u0022token\\u0022:\\u0022{t}\\u0022}}"}}"#),
            // A colour code whose ESC is JSON-escaped.
            format!(r#"{{"log":"token: \u001b[33m{t}\u001b[0m"}}"#),
        ] {
            let found = f.all(text.as_bytes());
            assert_eq!(found.len(), 1, "{text}");
            assert_eq!(found[0].text, t, "{text}");
        }
        // A word whose letters only look like hex digits, and a colour
        // code's tail with no ESC before it, are words.
        for text in [
            format!("xcafe{t}"),
            format!("[32m{t}"),
            format!("u001b[32m{t}"),
        ] {
            assert!(f.all(text.as_bytes()).is_empty(), "{text}");
        }
    }

    #[test]
    fn a_token_with_more_after_a_dot_is_its_first_three_parts() {
        // Not dropped (four or six parts), and not called a JWE (five parts
        // whose header names no `enc`).
        let t = jws();
        for text in [
            format!("{t}...truncated"),
            format!("{t}..x"),
            format!("{t}.Retrying in 5s"),
            format!("/cache/{t}.json"),
            format!("{t}.a.b.c"),
        ] {
            let found = Finder::new().all(text.as_bytes());
            assert_eq!(found.len(), 1, "{text}");
            assert_eq!(found[0].text, t, "{text}");
            assert_eq!(found[0].shape, Shape::Signed, "{text}");
        }
    }

    #[test]
    fn unsigned_token_keeps_its_empty_signature() {
        let t = format!("{}.{}.", b64(r#"{"alg":"none"}"#), b64(r#"{"a":1}"#));
        let found = Finder::new().all(t.as_bytes());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].text, t);
    }

    #[test]
    fn jwe_is_encrypted() {
        let t = format!(
            "{}.a2V5.aXY.Y2lwaGVy.dGFn",
            b64(r#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#)
        );
        let found = Finder::new().all(t.as_bytes());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].shape, Shape::Encrypted);
    }

    #[test]
    fn a_jwe_with_more_after_a_dot_is_its_five_parts() {
        let jwe = format!(
            "{}.a2V5.aXY.Y2lwaGVy.dGFn",
            b64(r#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#)
        );
        let dir = format!(
            "{}..aXY.Y2lwaGVy.dGFn",
            b64(r#"{"alg":"dir","enc":"A256GCM"}"#)
        );
        for (text, want) in [
            (format!("/cache/{jwe}.json"), &jwe),
            (format!("{jwe}...truncated"), &jwe),
            (format!("{dir}.json"), &dir),
        ] {
            let found = Finder::new().all(text.as_bytes());
            assert_eq!(found.len(), 1, "{text}");
            assert_eq!(found[0].text, *want, "{text}");
            assert_eq!(found[0].shape, Shape::Encrypted, "{text}");
        }
    }

    #[test]
    fn rejects_non_tokens() {
        // JSON that is not a JOSE header, wrong segment counts, mid-word matches.
        let not_jose = format!("{}.{}.sig", b64(r#"{"name":"x"}"#), b64("{}"));
        let inside = format!("x{}", jws());
        for s in [not_jose, inside, "eyJ".to_string(), "eyJhbGc".to_string()] {
            assert!(Finder::new().all(s.as_bytes()).is_empty(), "{s}");
        }
    }

    #[test]
    fn run_length_agrees_with_the_byte_table() {
        for b in 0..=255u8 {
            let base64url_or_dot = b.is_ascii_alphanumeric() || b"-_.".contains(&b);
            assert_eq!(is_token_byte(b), base64url_or_dot, "byte {b}");
        }
        let text = format!("{}{}", "aZ09-_.".repeat(20), " tail");
        for cut in 0..text.len() {
            let want = text.as_bytes()[cut..]
                .iter()
                .position(|c| !is_token_byte(*c))
                .unwrap_or(text.len() - cut);
            assert_eq!(token_run_len(&text.as_bytes()[cut..]), want, "at {cut}");
        }
    }

    #[test]
    fn oversize_runs_are_skipped_and_counted() {
        let big = format!("eyJ{}", "A".repeat(MAX_TOKEN + 10));
        let mut n = 0;
        let skipped = Finder::new().each(big.as_bytes(), |_| n += 1);
        assert_eq!(n, 0);
        assert_eq!(skipped.oversize, 1);
    }
}
