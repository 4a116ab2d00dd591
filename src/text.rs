//! Text as Windows tools write it. Windows PowerShell 5.1 writes UTF-16LE
//! with a byte-order mark from `Out-File`, `>` and `Set-Content -Encoding
//! Unicode`: the MDE documentation's token script saves its token with
//! `Out-File`, and `az ad app show > app.json` run there writes UTF-16 too.
//! Editors and the Azure portal add a UTF-8 byte-order mark. Every token,
//! file and pasted text a user hands `mdeauth` is decoded here, so all of
//! these read as the text they hold; `scan` transcodes a log when it starts
//! with a UTF-16 byte-order mark or its first bytes are plainly UTF-16 text
//! ([`utf16_log`]).

use std::borrow::Cow;
use std::io::{self, Read};
use std::path::Path;

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE};

/// The UTF-16 encoding a stream's byte-order mark names, if it has one.
fn utf16_by_bom(prefix: &[u8]) -> Option<&'static Encoding> {
    match prefix {
        [0xff, 0xfe, ..] => Some(UTF_16LE),
        [0xfe, 0xff, ..] => Some(UTF_16BE),
        _ => None,
    }
}

/// UTF-16 without a byte-order mark: two ASCII characters, each with a zero
/// byte beside it. Used only for short inputs expected to be text (a token,
/// a JSON file), never for logs, where a binary file could start that way.
fn utf16_unmarked(bytes: &[u8]) -> Option<&'static Encoding> {
    let ascii = |b: u8| b != 0 && b.is_ascii();
    match bytes {
        [a, 0, b, 0, ..] if ascii(*a) && ascii(*b) => Some(UTF_16LE),
        [0, a, 0, b, ..] if ascii(*a) && ascii(*b) => Some(UTF_16BE),
        _ => None,
    }
}

/// The UTF-16 encoding of a log whose first bytes (`prefix`, a few
/// hundred) are UTF-16: by its byte-order mark, or, without one, when there
/// are at least 16 code units and nine in ten of them are printable ASCII
/// or whitespace with a zero byte beside it. UTF-8 text has no zero bytes,
/// and binary data is not nine tenths printable characters. Text cut out of
/// a longer UTF-16 file (a log rotated by size, a tail) has no mark, and
/// searched byte for byte it would show no tokens.
pub fn utf16_log(prefix: &[u8]) -> Option<&'static Encoding> {
    if let Some(enc) = utf16_by_bom(prefix) {
        return Some(enc);
    }
    let units = prefix.len() / 2;
    if units < 16 {
        return None;
    }
    let text = |b: u8| matches!(b, b' '..=b'~' | b'\t' | b'\r' | b'\n');
    let share = |low_first: bool| {
        let n = prefix
            .chunks_exact(2)
            .filter(|u| {
                let (lo, hi) = if low_first {
                    (u[0], u[1])
                } else {
                    (u[1], u[0])
                };
                hi == 0 && text(lo)
            })
            .count();
        n * 10 >= units * 9
    };
    if share(true) {
        Some(UTF_16LE)
    } else if share(false) {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// `bytes` as text: UTF-16 (by its byte-order mark, or unmarked as above)
/// or UTF-8, without the byte-order mark either may start with. `None` when
/// the bytes are neither.
pub fn decode(bytes: &[u8]) -> Option<Cow<'_, str>> {
    if let Some(enc) = utf16_by_bom(bytes) {
        return enc.decode_without_bom_handling_and_without_replacement(&bytes[2..]);
    }
    if let Some(enc) = utf16_unmarked(bytes) {
        return enc.decode_without_bom_handling_and_without_replacement(bytes);
    }
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    std::str::from_utf8(bytes).ok().map(Cow::Borrowed)
}

/// What a reader says of bytes [`decode`] refused.
pub const NOT_TEXT: &str = "it is neither UTF-8 nor UTF-16 text";

/// The most [`read_file`] reads: far more than any secret, certificate,
/// plan, manifest or key set, and a bound for `/dev/zero` or an endless pipe.
pub const MAX_FILE: u64 = 16 << 20;

/// An environment variable's text: `None` when it is not set, an error
/// (exit 2) when it is set but not UTF-8, which would otherwise read as
/// "not set". Its value is never repeated: it may be a secret.
pub fn env_text(name: &str) -> crate::error::Result<Option<String>> {
    match std::env::var(name) {
        Ok(v) => Ok(Some(v)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(crate::error::Error::input(format!(
            "{name} is set but is not UTF-8 text"
        ))
        .with_hint(format!("set {name} again from the original value"))),
    }
}

/// Whether an environment variable is set to something: not blank, or
/// not UTF-8 (which [`env_text`] then refuses with its name).
pub fn env_given(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| v.to_str().is_none_or(|s| !s.trim().is_empty()))
}

/// `s` split around the first occurrence of `pat` (`None` when `pat` is
/// empty or absent), like `str::split_once`, but found by its first
/// character rather than with a substring searcher built for each call:
/// the short fixed patterns checked for every token (`://`, `{tenantid}`)
/// are found sooner this way. (std's character search, not the memchr
/// crate's: that one detects CPU features on first use, which costs a
/// single-token command more than it saves.)
pub fn split_first<'a>(s: &'a str, pat: &str) -> Option<(&'a str, &'a str)> {
    let first = pat.chars().next()?;
    s.match_indices(first)
        .find(|(i, _)| s[*i..].starts_with(pat))
        .map(|(i, _)| (&s[..i], &s[i + pat.len()..]))
}

/// `s` cut to `n` characters, with `…` when it was longer.
pub fn clip_chars(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_string(),
    }
}

/// The longest server-given identifier shown (a trace or correlation id,
/// a timestamp, an error target): Azure AD's and the MDE API's are a GUID
/// or a time, well under this.
pub const MAX_ID_CHARS: usize = 100;

/// Read a whole text file, at most [`MAX_FILE`] bytes, through [`decode`].
/// Bytes that are not text give an `InvalidData` error saying so
/// ([`NOT_TEXT`]), as `read_to_string` does for bytes that are not UTF-8.
pub fn read_file(path: &Path) -> io::Result<String> {
    read_file_limited(path, MAX_FILE)
}

/// [`read_file`] with another bound: a longer file (or pipe, or device,
/// whose size is not known beforehand) is an `InvalidData` error.
pub fn read_file_limited(path: &Path, limit: u64) -> io::Result<String> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(limit + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("it is larger than {} KB", limit / 1024),
        ));
    }
    into_string(bytes)
}

/// Read at most `limit` bytes of a stream through [`decode`].
pub fn read_limited(r: impl Read, limit: u64) -> io::Result<String> {
    let mut bytes = Vec::new();
    r.take(limit).read_to_end(&mut bytes)?;
    into_string(bytes)
}

/// Bytes already read, as text through [`decode`] (UTF-8 keeps its buffer).
pub fn into_string(mut bytes: Vec<u8>) -> io::Result<String> {
    let not_text = || io::Error::new(io::ErrorKind::InvalidData, NOT_TEXT);
    let utf8_len = match decode(&bytes) {
        None => return Err(not_text()),
        Some(Cow::Owned(s)) => return Ok(s),
        Some(Cow::Borrowed(s)) => s.len(),
    };
    // UTF-8: keep the buffer, without the mark it may start with.
    bytes.drain(..bytes.len() - utf8_len);
    String::from_utf8(bytes).map_err(|_| not_text())
}

/// A UTF-16 stream in `enc` (from [`utf16_log`]) as UTF-8, transcoded
/// as it is read, without its byte-order mark.
pub fn utf16_reader<R: Read>(enc: &'static Encoding, r: R) -> impl Read {
    encoding_rs_io::DecodeReaderBytesBuilder::new()
        .encoding(Some(enc))
        .strip_bom(true)
        .build(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(s: &str, bom: bool) -> Vec<u8> {
        let mut out = if bom { vec![0xff, 0xfe] } else { Vec::new() };
        for u in s.encode_utf16() {
            out.extend(u.to_le_bytes());
        }
        out
    }

    fn utf16be(s: &str) -> Vec<u8> {
        let mut out = vec![0xfe, 0xff];
        for u in s.encode_utf16() {
            out.extend(u.to_be_bytes());
        }
        out
    }

    #[test]
    fn split_first_is_split_once() {
        for (s, pat) in [
            ("https://sts.windows.net/t/", "://"),
            ("a:/b://c://d", "://"),
            ("no scheme", "://"),
            (
                "https://login.microsoftonline.com/{tenantid}/v2.0",
                "{tenantid}",
            ),
            ("{tenant{tenantid}", "{tenantid}"),
            ("é://x", "://"),
            ("abc", "abc"),
            ("", "x"),
        ] {
            assert_eq!(split_first(s, pat), s.split_once(pat), "{s:?} {pat:?}");
        }
        assert_eq!(split_first("abc", ""), None);
    }

    #[test]
    fn utf16_and_utf8_with_or_without_marks_read_as_their_text() {
        let text = "eyJ0eXAi.x.y\r\n";
        assert_eq!(decode(&utf16le(text, true)).unwrap(), text);
        assert_eq!(decode(&utf16le(text, false)).unwrap(), text);
        assert_eq!(decode(&utf16be(text)).unwrap(), text);
        assert_eq!(decode(b"\xef\xbb\xbf{}").unwrap(), "{}");
        assert_eq!(decode(b"plain").unwrap(), "plain");
        assert_eq!(decode(b"").unwrap(), "");
        // Not text: invalid UTF-8, and UTF-16 with a lone surrogate.
        assert!(decode(b"\xc3\x28").is_none());
        assert!(decode(&[0xff, 0xfe, 0x00, 0xd8]).is_none());
        assert!(decode(&[0xff, 0xfe, 0x41]).is_none(), "odd length");
    }

    #[test]
    fn files_and_streams_decode_or_say_they_are_not_text() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.txt");
        std::fs::write(&p, utf16le("secret\r\n", true)).unwrap();
        assert_eq!(read_file(&p).unwrap(), "secret\r\n");
        std::fs::write(&p, b"\xff\xff\xff").unwrap();
        let e = read_file(&p).unwrap_err();
        assert_eq!(
            (e.kind(), e.to_string()),
            (io::ErrorKind::InvalidData, NOT_TEXT.to_string())
        );
        assert_eq!(read_limited(&b"abcdef"[..], 3).unwrap(), "abc");

        let mut out = String::new();
        let data = utf16le("line 1\nline 2\n", true);
        utf16_reader(utf16_by_bom(&data).unwrap(), &data[..])
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "line 1\nline 2\n");
        assert_eq!(utf16_by_bom(b"A\x00B\x00\xff eyJ"), None);
        assert_eq!(utf16_by_bom(&utf16be("x")), Some(UTF_16BE));
    }

    #[test]
    fn logs_without_a_mark_are_utf16_only_when_their_start_plainly_is() {
        let line = "2026-03-02 09:30:00 Authorization: Bearer eyJ0eXAi\r\n";
        assert_eq!(utf16_log(&utf16le(line, false)), Some(UTF_16LE));
        assert_eq!(utf16_log(&utf16be(line)[2..]), Some(UTF_16BE));
        // A mark is enough, however short the stream.
        assert_eq!(utf16_log(&utf16be("x")), Some(UTF_16BE));
        assert_eq!(utf16_log(&utf16le("x", true)), Some(UTF_16LE));
        // A few characters outside ASCII (a name, a dash) do not change that.
        assert_eq!(
            utf16_log(&utf16le(
                "user Zoë — signed in from Zürich, token follows",
                false
            )),
            Some(UTF_16LE)
        );
        // UTF-8 text, short input, and binary data with zero bytes are not.
        assert_eq!(utf16_log(line.as_bytes()), None);
        assert_eq!(utf16_log(&utf16le("eyJ0eXAi", false)), None, "8 units");
        let counters: Vec<u8> = (0u16..64).flat_map(|i| i.to_le_bytes()).collect();
        assert_eq!(utf16_log(&counters), None);
        let mut half = utf16le(&"x".repeat(20), false);
        half.extend(std::iter::repeat_n(0xab, 40));
        assert_eq!(utf16_log(&half), None, "half text, half binary");
    }
}
