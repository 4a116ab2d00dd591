//! A reader that mends lone UTF-16 surrogate escapes in JSON text.
//!
//! Python's `json.dumps` writes `"\udcff"` for a byte it could not decode
//! (mitmproxy's HAR captures carry such strings), and JavaScript's
//! `JSON.stringify` writes a broken UTF-16 pair the same way. serde_json
//! refuses them, and a HAR document would be dropped from its first one on;
//! this reader turns each lone surrogate escape into `\ufffd` (the
//! replacement character) and leaves everything else, pairs included, as it
//! is. It looks at escapes inside strings only, and streams: it holds at
//! most one read's worth of bytes.

use std::io::{self, Read};

/// Bytes asked of the inner reader at a time.
const CHUNK: usize = 64 * 1024;

pub struct MendSurrogates<R> {
    inner: R,
    /// Bytes read and not yet looked at, from `start`.
    buf: Vec<u8>,
    start: usize,
    /// Bytes looked at and not yet handed out, from `out_at`.
    out: Vec<u8>,
    out_at: usize,
    in_string: bool,
    eof: bool,
    /// Lone surrogate escapes replaced so far.
    pub mended: u64,
}

impl<R: Read> MendSurrogates<R> {
    pub fn new(inner: R) -> Self {
        MendSurrogates {
            inner,
            buf: Vec::new(),
            start: 0,
            out: Vec::new(),
            out_at: 0,
            in_string: false,
            eof: false,
            mended: 0,
        }
    }

    /// Move what can be decided from `buf` to `out`; an escape whose end
    /// (or whose pair) is not read yet waits for more, unless at the end.
    fn process(&mut self) {
        let b = &self.buf;
        let mut i = self.start;
        while i < b.len() {
            // Copy up to the next quote (outside a string) or the next
            // quote or backslash (inside one) in one go.
            let next = if self.in_string {
                memchr::memchr2(b'"', b'\\', &b[i..])
            } else {
                memchr::memchr(b'"', &b[i..])
            };
            let Some(n) = next else {
                self.out.extend_from_slice(&b[i..]);
                i = b.len();
                break;
            };
            self.out.extend_from_slice(&b[i..i + n]);
            i += n;
            if b[i] == b'"' {
                self.in_string = !self.in_string;
                self.out.push(b'"');
                i += 1;
                continue;
            }
            // A backslash inside a string: the escape's letter decides.
            let left = b.len() - i;
            if left < 2 && !self.eof {
                break;
            }
            if b.get(i + 1) != Some(&b'u') {
                let n = left.min(2);
                self.out.extend_from_slice(&b[i..i + n]);
                i += n;
                continue;
            }
            if left < 6 && !self.eof {
                break;
            }
            let Some(unit) = hex4(b.get(i + 2..i + 6)) else {
                // Not an escape serde reads: left for its error.
                let n = left.min(6);
                self.out.extend_from_slice(&b[i..i + n]);
                i += n;
                continue;
            };
            let lone = match unit {
                0xD800..=0xDBFF => {
                    if left < 12 && !self.eof {
                        break;
                    }
                    let pair = b.get(i + 6..i + 8) == Some(b"\\u")
                        && hex4(b.get(i + 8..i + 12))
                            .is_some_and(|u| (0xDC00..=0xDFFF).contains(&u));
                    if pair {
                        self.out.extend_from_slice(&b[i..i + 12]);
                        i += 12;
                        continue;
                    }
                    true
                }
                0xDC00..=0xDFFF => true,
                _ => false,
            };
            if lone {
                self.out.extend_from_slice(b"\\ufffd");
                self.mended += 1;
            } else {
                self.out.extend_from_slice(&b[i..i + 6]);
            }
            i += 6;
        }
        self.start = i;
    }
}

/// Four hexadecimal digits as a number.
fn hex4(b: Option<&[u8]>) -> Option<u32> {
    let b = b?;
    let s = std::str::from_utf8(b).ok()?;
    (b.len() == 4 && b.iter().all(u8::is_ascii_hexdigit))
        .then(|| u32::from_str_radix(s, 16).ok())
        .flatten()
}

impl<R: Read> Read for MendSurrogates<R> {
    fn read(&mut self, dst: &mut [u8]) -> io::Result<usize> {
        while self.out_at == self.out.len() {
            self.out.clear();
            self.out_at = 0;
            if self.eof && self.start == self.buf.len() {
                return Ok(0);
            }
            if !self.eof {
                self.buf.drain(..self.start);
                self.start = 0;
                let have = self.buf.len();
                self.buf.resize(have + CHUNK, 0);
                let n = loop {
                    match self.inner.read(&mut self.buf[have..]) {
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        r => break r,
                    }
                };
                let n = match n {
                    Ok(n) => n,
                    Err(e) => {
                        self.buf.truncate(have);
                        return Err(e);
                    }
                };
                self.buf.truncate(have + n);
                if n == 0 {
                    self.eof = true;
                }
            }
            self.process();
        }
        let n = dst.len().min(self.out.len() - self.out_at);
        dst[..n].copy_from_slice(&self.out[self.out_at..self.out_at + n]);
        self.out_at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Read `input` through the mender, `step` bytes at a time from below.
    fn mend(input: &[u8], step: usize) -> (String, u64) {
        struct Trickle<'a>(&'a [u8], usize);
        impl Read for Trickle<'_> {
            fn read(&mut self, dst: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(self.1).min(dst.len());
                dst[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut m = MendSurrogates::new(Trickle(input, step));
        let mut out = String::new();
        m.read_to_string(&mut out).unwrap();
        (out, m.mended)
    }

    #[test]
    fn lone_surrogates_become_the_replacement_character_and_pairs_stay() {
        let input = br#"{"a":"x\udcffy","b":"\ud83d\ude00","c":"\ud800","d":"\\udcff","e":"\uDC00\u0041"} \udcff"#;
        for step in [1, 2, 5, 7, 64, 100_000] {
            let (out, mended) = mend(input, step);
            assert_eq!(
                out,
                r#"{"a":"x\ufffdy","b":"\ud83d\ude00","c":"\ufffd","d":"\\udcff","e":"\ufffd\u0041"} \udcff"#,
                "step {step}"
            );
            assert_eq!(mended, 3, "step {step}");
            let v: serde_json::Value =
                serde_json::from_str(out.split(" \\").next().unwrap()).unwrap();
            assert_eq!(v["a"], "x\u{fffd}y");
            assert_eq!(v["b"], "\u{1f600}");
        }
    }

    #[test]
    fn an_escape_cut_off_at_the_end_is_left_for_the_parser() {
        // A high surrogate with nothing after it is lone; a shorter escape
        // is no escape: the parser says the document is cut short.
        assert_eq!(mend(br#""\ud83d"#, 1).0, r#""\ufffd"#);
        for tail in [r#""\ud8"#, r#""\"#] {
            assert_eq!(mend(tail.as_bytes(), 1).0, tail);
        }
    }
}
