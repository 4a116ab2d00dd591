//! Compressed inputs: rotated logs are usually gzip files. A gzip input is
//! decompressed as it streams; other compressed or archive formats are
//! named, because searched as text they would yield no token and the scan
//! would wrongly say there was none.

use std::io::{self, Read};

/// What the first bytes of an input say about its encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Text, JSON or HAR as it is.
    Plain,
    /// gzip (RFC 1952, deflate): read through a decoder.
    Gzip,
    /// A format `scan` does not decompress: its name and the command that
    /// turns it into text on standard output.
    Unsupported {
        format: &'static str,
        to_text: &'static str,
    },
}

/// Leading bytes of the formats `scan` does not decompress, with the
/// command that decompresses each to standard output. Every signature is
/// binary, so no text file starts with one.
const UNSUPPORTED: &[(&[u8], &str, &str)] = &[
    (b"\x28\xb5\x2f\xfd", "zstd", "zstdcat"),
    (b"\xfd7zXZ\x00", "xz", "xzcat"),
    (b"PK\x03\x04", "zip", "unzip -p"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip", "7z e -so"),
];

/// Tells gzip and the unsupported formats from plain input by their
/// leading bytes.
pub fn sniff(prefix: &[u8]) -> Encoding {
    // ID1 ID2 and CM = 8 (deflate, the only method RFC 1952 defines).
    if prefix.starts_with(b"\x1f\x8b\x08") {
        return Encoding::Gzip;
    }
    // bzip2: "BZh", the block size 1-9, then the block magic (pi's digits).
    if prefix.len() >= 10
        && prefix.starts_with(b"BZh")
        && (b'1'..=b'9').contains(&prefix[3])
        && prefix[4..10] == *b"\x31\x41\x59\x26\x53\x59"
    {
        return Encoding::Unsupported {
            format: "bzip2",
            to_text: "bzcat",
        };
    }
    UNSUPPORTED
        .iter()
        .find(|(magic, _, _)| prefix.starts_with(magic))
        .map_or(Encoding::Plain, |&(_, format, to_text)| {
            Encoding::Unsupported { format, to_text }
        })
}

/// Ends a decoder's stream where its data goes bad (damaged, or cut short),
/// and keeps that error for a note: the text before it is still scanned,
/// as with a HAR capture cut short. Other errors (a failed read) pass.
pub struct UntilDamaged<R> {
    inner: R,
    damage: Option<io::Error>,
    /// Set when the stream ends early, for the reader of the text: the
    /// last bytes it got may end mid-token.
    cut: std::rc::Rc<std::cell::Cell<bool>>,
}

impl<R> UntilDamaged<R> {
    pub fn new(inner: R, cut: std::rc::Rc<std::cell::Cell<bool>>) -> Self {
        UntilDamaged {
            inner,
            damage: None,
            cut,
        }
    }

    /// Why the stream ended early, if it did.
    pub fn damage(&self) -> Option<&io::Error> {
        self.damage.as_ref()
    }
}

impl<R: Read> Read for UntilDamaged<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.damage.is_some() {
            return Ok(0);
        }
        match self.inner.read(buf) {
            // flate2 reports bad data as InvalidInput or InvalidData, and a
            // stream cut short as UnexpectedEof; a failed read keeps its kind.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::InvalidInput
                        | io::ErrorKind::InvalidData
                        | io::ErrorKind::UnexpectedEof
                ) =>
            {
                self.damage = Some(e);
                self.cut.set(true);
                Ok(0)
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_apart_by_their_first_bytes() {
        assert_eq!(sniff(b"\x1f\x8b\x08\x00rest"), Encoding::Gzip);
        assert_eq!(sniff(b"2026-03-02 INFO ..."), Encoding::Plain);
        assert_eq!(sniff(b""), Encoding::Plain);
        // A text line may start with "BZh1" or "PK"; only the full signature counts.
        assert_eq!(sniff(b"BZh1 is not bzip2"), Encoding::Plain);
        assert_eq!(sniff(b"PK: primary key"), Encoding::Plain);
        // gzip's magic with another method is not gzip.
        assert_eq!(sniff(b"\x1f\x8b\x07"), Encoding::Plain);
        let named = |p: &[u8]| match sniff(p) {
            Encoding::Unsupported { format, .. } => format,
            other => panic!("{other:?}"),
        };
        assert_eq!(named(b"BZh91AY&SY\x00"), "bzip2");
        assert_eq!(named(b"\x28\xb5\x2f\xfd\x00"), "zstd");
        assert_eq!(named(b"\xfd7zXZ\x00\x00"), "xz");
        assert_eq!(named(b"PK\x03\x04\x14\x00"), "zip");
        assert_eq!(named(b"7z\xbc\xaf\x27\x1c\x00"), "7-Zip");
    }
}
