//! The token finder: pure functions from bytes to JWT candidates.
//!
//! Detection is cheap on purpose: look for `eyJ` (base64url of `{"`), extend
//! over base64url characters and dots, count the segments, and decode only
//! the header to confirm it is a JOSE header (`{"` with `alg` or `typ`).
//! Full decoding is left to the engine, once per unique token.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
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

/// Bytes that can be part of a compact token: base64url and `.`.
static TOKEN_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.';
        i += 1;
    }
    t
};

/// Whether a byte can be part of a compact token (base64url or `.`).
#[inline]
pub fn is_token_byte(b: u8) -> bool {
    TOKEN_BYTE[b as usize]
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
            // Only at a token boundary: `xeyJ...` is the inside of something else.
            if start > 0 && is_token_byte(hay[start - 1]) && hay[start - 1] != b'.' {
                pos = start + 3;
                continue;
            }
            let end = start
                + hay[start..]
                    .iter()
                    .position(|b| !is_token_byte(*b))
                    .unwrap_or(hay.len() - start);
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

/// Decide whether a maximal run of token bytes starting with `eyJ` is a token.
fn classify(run: &[u8], offset: usize) -> Option<Candidate<'_>> {
    // The run is ASCII by construction.
    let mut text = std::str::from_utf8(run).ok()?;
    let mut dots = memchr::memchr_iter(b'.', run).count();
    // A sentence may end right after a token: `... eyJa.eyJb.sig.`
    if (dots == 3 || dots == 5) && text.ends_with('.') {
        text = &text[..text.len() - 1];
        dots -= 1;
    }
    let shape = match dots {
        2 => Shape::Signed,
        4 => Shape::Encrypted,
        _ => return None,
    };
    let mut segs = text.split('.');
    let header = segs.next()?;
    let second = segs.next()?;
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

/// Decode a header segment and check it is a JSON object naming `alg` or `typ`.
pub fn is_jose_header(seg: &str) -> bool {
    const MAX: usize = 6 * 1024;
    if seg.len() > MAX * 4 / 3 {
        return false;
    }
    let mut buf = [0u8; MAX];
    let Ok(n) = URL_SAFE_NO_PAD.decode_slice(seg.trim_end_matches('='), &mut buf) else {
        return false;
    };
    let bytes = &buf[..n];
    bytes.starts_with(b"{\"")
        && (memmem::find(bytes, b"\"alg\"").is_some() || memmem::find(bytes, b"\"typ\"").is_some())
}

/// Number of `\n` bytes (a plain loop the compiler vectorises; faster than
/// iterating matches when lines are short).
#[inline]
pub fn count_newlines(b: &[u8]) -> u64 {
    b.iter().filter(|&&c| c == b'\n').count() as u64
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
    fn rejects_non_tokens() {
        // JSON that is not a JOSE header, wrong segment counts, mid-word matches.
        let not_jose = format!("{}.{}.sig", b64(r#"{"name":"x"}"#), b64("{}"));
        let four = format!("{}.a.b.c", b64(r#"{"alg":"RS256"}"#));
        let inside = format!("x{}", jws());
        for s in [
            not_jose,
            four,
            inside,
            "eyJ".to_string(),
            "eyJhbGc".to_string(),
        ] {
            assert!(Finder::new().all(s.as_bytes()).is_empty(), "{s}");
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
