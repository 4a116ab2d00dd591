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
/// separator (`\n`, `\t`, `\r`, `\b`, `\f`): an odd number of backslashes
/// before the letter (`\\n` is a backslash, then the letter n).
fn after_json_escape(hay: &[u8], start: usize) -> bool {
    start >= 2
        && matches!(hay[start - 1], b'n' | b't' | b'r' | b'b' | b'f')
        && escaped(hay, start - 1)
}

/// Whether `hay[at]` follows an odd number of backslashes: the letter of
/// a JSON escape, not a backslash and then the letter.
fn escaped(hay: &[u8], at: usize) -> bool {
    hay[..at].iter().rev().take_while(|&&b| b == b'\\').count() % 2 == 1
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
/// coloured console loggers write around values.
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
    open >= 2 && hay[open - 1] == b'[' && hay[open - 2] == 0x1b
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

    fn jws() -> String {
        format!(
            "{}.{}.c2lnbmF0dXJl",
            b64(r#"{"typ":"JWT","alg":"RS256"}"#),
            b64(r#"{"aud":"x"}"#)
        )
    }

    #[test]
    fn a_token_after_a_json_escape_is_found_but_not_inside_a_word() {
        let t = jws();
        let f = Finder::new();
        for text in [
            format!(r#"{{"msg":"token acquired:\n{t}"}}"#),
            format!(r#"{{"msg":"headers\tBearer\t{t}"}}"#),
            format!(r#"{{"msg":"a\\\r{t}"}}"#),
        ] {
            let found = f.all(text.as_bytes());
            assert_eq!(found.len(), 1, "{text}");
            assert_eq!(found[0].text, t, "{text}");
        }
        // An escaped backslash, then the letter n: `neyJ...` is one word.
        for text in [format!(r#"{{"p":"C:\\n{t}"}}"#), format!("plain n{t}")] {
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
        ] {
            let found = f.all(text.as_bytes());
            assert_eq!(found.len(), 1, "{text}");
            assert_eq!(found[0].text, t, "{text}");
        }
        // An escaped backslash, then `u0022`: one word; so is a word whose
        // letters only look like hex digits.
        for text in [
            format!(r#"{{"p":"C:\\u0022{t}"}}"#),
            format!("xcafe{t}"),
            format!("[32m{t}"),
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
