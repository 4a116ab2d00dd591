//! HAR entries held to a size.
//!
//! `log.entries` is read one entry at a time, but each entry is parsed
//! whole: one entry with a 1 GB response body would be held in memory, two
//! or three times over. [`Bounded`] sits between the input and the JSON
//! parser and holds each item of an array three levels down (each entry of
//! `{"log":{"entries":[...]}}`) up to a size. An item that grows past it is
//! written to an unnamed temporary file instead, and the parser is handed a
//! placeholder, `{"_mdeauthSpooled":N}`, in its place; scan then searches
//! that file as text, block by block, so memory stays flat whatever one
//! entry holds.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, Write};
use std::rc::Rc;

/// The largest entry parsed as JSON, field by field (4 MiB: a capture's
/// scripts and images are smaller; a download or a large report is not).
pub const MAX_ENTRY: usize = 4 << 20;

/// The one member of a placeholder entry.
pub const PLACEHOLDER: &str = "_mdeauthSpooled";

/// How far into a spooled entry its method and URL are looked for.
const SNIFF: usize = 64 << 10;

/// Bytes read from the input at a time.
const CHUNK: usize = 256 << 10;

/// An entry written to a temporary file, rewound, to be searched as text.
pub struct Spooled {
    /// The number its placeholder carries.
    pub id: u64,
    pub file: File,
    /// Its size in bytes.
    pub bytes: u64,
    /// Its request's method and URL as written, when its first bytes name
    /// them (the rest of it is not parsed).
    pub method: Option<String>,
    pub url: Option<String>,
}

/// Spooled entries waiting for their placeholder to be parsed.
pub type Queue = Rc<RefCell<VecDeque<Spooled>>>;

/// The spooled entry of placeholder `id`, taken from `queue` (placeholders
/// the parser skipped, of items that are not entries, are dropped on the
/// way). `None` for a placeholder written into the input itself.
pub fn take(queue: &Queue, id: u64) -> Option<Spooled> {
    let mut q = queue.borrow_mut();
    while q.front().is_some_and(|s| s.id < id) {
        q.pop_front();
    }
    if q.front().is_some_and(|s| s.id == id) {
        q.pop_front()
    } else {
        None
    }
}

/// The item being read: held, written to a file, or none (outside the array).
enum Item {
    None,
    Held(Vec<u8>),
    Spooling {
        to: BufWriter<File>,
        bytes: u64,
        method: Option<String>,
        url: Option<String>,
    },
}

/// Passes a JSON document through, holding each item of an array at the
/// third level up to `max` bytes and spooling a larger one (see the module).
pub struct Bounded<R> {
    inner: R,
    max: usize,
    queue: Queue,
    next_id: u64,
    /// Open arrays and objects.
    depth: usize,
    /// Whether each of the first three levels is an array.
    arrays: [bool; 3],
    in_string: bool,
    escaped: bool,
    item: Item,
    out: Vec<u8>,
    out_at: usize,
    chunk: Vec<u8>,
    eof: bool,
}

impl<R: Read> Bounded<R> {
    pub fn new(inner: R, max: usize, queue: Queue) -> Bounded<R> {
        Bounded {
            inner,
            max,
            queue,
            next_id: 0,
            depth: 0,
            arrays: [false; 3],
            in_string: false,
            escaped: false,
            item: Item::None,
            out: Vec::new(),
            out_at: 0,
            chunk: vec![0; CHUNK],
            eof: false,
        }
    }

    /// Whether the innermost open container is the array whose items are held.
    fn in_items(&self) -> bool {
        self.depth == 3 && self.arrays[2]
    }

    /// Lex `data` and send each byte where it goes: out, or to the item.
    fn feed(&mut self, data: &[u8]) -> io::Result<()> {
        let mut from = 0;
        let mut i = 0;
        while i < data.len() {
            if self.in_string {
                // Most of a capture is string content: jump from escape to
                // escape, to the closing quote.
                if self.escaped {
                    self.escaped = false;
                    i += 1;
                }
                while i < data.len() {
                    match quote_or_backslash(&data[i..]) {
                        None => i = data.len(),
                        Some(k) if data[i + k] == b'"' => {
                            self.in_string = false;
                            i += k + 1;
                            break;
                        }
                        // A backslash and the byte it escapes (perhaps in
                        // the next chunk).
                        Some(k) if i + k + 1 == data.len() => {
                            self.escaped = true;
                            i = data.len();
                        }
                        Some(k) => i += k + 2,
                    }
                }
                continue;
            }
            let b = data[i];
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => {
                    if self.depth < 3 {
                        self.arrays[self.depth] = b == b'[';
                    }
                    self.depth += 1;
                    if self.in_items() && self.depth == 3 && matches!(self.item, Item::None) {
                        // The array opens: what follows it is its first item.
                        self.route(&data[from..=i])?;
                        from = i + 1;
                        self.item = Item::Held(Vec::new());
                    }
                }
                b'}' | b']' => {
                    if self.in_items() {
                        // The array closes: so does its last item.
                        self.route(&data[from..i])?;
                        from = i;
                        self.end_item()?;
                    }
                    self.depth = self.depth.saturating_sub(1);
                }
                b',' if self.in_items() => {
                    self.route(&data[from..i])?;
                    self.end_item()?;
                    self.out.push(b',');
                    from = i + 1;
                    self.item = Item::Held(Vec::new());
                }
                _ => {}
            }
            i += 1;
        }
        self.route(&data[from..])
    }

    fn route(&mut self, bytes: &[u8]) -> io::Result<()> {
        match &mut self.item {
            Item::None => self.out.extend_from_slice(bytes),
            Item::Held(held) => {
                held.extend_from_slice(bytes);
                if held.len() > self.max {
                    let held = std::mem::take(held);
                    self.item = spool(&held)?;
                }
            }
            Item::Spooling { to, bytes: n, .. } => {
                to.write_all(bytes).map_err(spool_error)?;
                *n += bytes.len() as u64;
            }
        }
        Ok(())
    }

    /// The item is complete: send it out, or its placeholder.
    fn end_item(&mut self) -> io::Result<()> {
        match std::mem::replace(&mut self.item, Item::None) {
            Item::None => {}
            Item::Held(held) => self.out.extend_from_slice(&held),
            Item::Spooling {
                to,
                bytes,
                method,
                url,
            } => {
                let mut file = to.into_inner().map_err(|e| spool_error(e.into_error()))?;
                file.rewind().map_err(spool_error)?;
                let id = self.next_id;
                self.next_id += 1;
                self.queue.borrow_mut().push_back(Spooled {
                    id,
                    file,
                    bytes,
                    method,
                    url,
                });
                self.out
                    .extend_from_slice(format!("{{\"{PLACEHOLDER}\":{id}}}").as_bytes());
            }
        }
        Ok(())
    }
}

/// The first `"` or `\\` in `s`: eight bytes at a time for the first few
/// words (most strings of a capture are short: names, header values), then
/// by memchr (bodies).
fn quote_or_backslash(s: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGH: u64 = ONES << 7;
    let zero_byte = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let mut k = 0;
    while k + 8 <= s.len().min(64) {
        let mut word = [0; 8];
        word.copy_from_slice(&s[k..k + 8]);
        let w = u64::from_le_bytes(word);
        let hit =
            zero_byte(w ^ (ONES * u64::from(b'"'))) | zero_byte(w ^ (ONES * u64::from(b'\\')));
        if hit != 0 {
            // The lowest flagged byte is a true match (a borrow only flags
            // bytes above one).
            return Some(k + (hit.trailing_zeros() / 8) as usize);
        }
        k += 8;
    }
    memchr::memchr2(b'"', b'\\', &s[k..]).map(|n| k + n)
}

/// Start spooling an item whose first bytes, `held`, passed the limit.
fn spool(held: &[u8]) -> io::Result<Item> {
    let head = &held[..held.len().min(SNIFF)];
    let file = tempfile::tempfile().map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "a HAR entry over {} MiB is searched from a temporary file, which could not be made ({e}); set TMPDIR to a writable folder",
                MAX_ENTRY >> 20
            ),
        )
    })?;
    let mut to = BufWriter::with_capacity(CHUNK, file);
    to.write_all(held).map_err(spool_error)?;
    let (method, url) = method_and_url(head);
    Ok(Item::Spooling {
        to,
        bytes: held.len() as u64,
        method,
        url,
    })
}

fn spool_error(e: io::Error) -> io::Error {
    io::Error::new(
        e.kind(),
        format!(
            "writing a large HAR entry to a temporary file failed ({e}); free space there, or set TMPDIR to another folder"
        ),
    )
}

/// The text from where each value of a member `name` in `text` (JSON,
/// perhaps cut short) starts, in order.
fn member_value<'t>(text: &'t [u8], name: &str) -> impl Iterator<Item = &'t [u8]> {
    let key = format!("\"{name}\"");
    let skip = |s: &[u8]| s.iter().take_while(|c| c.is_ascii_whitespace()).count();
    let values: Vec<&[u8]> = memchr::memmem::find_iter(text, key.as_bytes())
        .map(|k| &text[k + key.len()..])
        .filter_map(|rest| {
            let colon = skip(rest);
            (rest.get(colon) == Some(&b':')).then(|| {
                let value = &rest[colon + 1..];
                &value[skip(value)..]
            })
        })
        .collect();
    values.into_iter()
}

/// The first string value of a member `name` in `text` (JSON, perhaps cut
/// short), unescaped.
fn first_string(text: &[u8], name: &str) -> Option<String> {
    let value = member_value(text, name).find(|v| v.first() == Some(&b'"'))?;
    let mut escaped = false;
    let close = value[1..].iter().position(|&c| {
        let end = !escaped && c == b'"';
        escaped = !escaped && c == b'\\';
        end
    })?;
    serde_json::from_slice(&value[..close + 2]).ok()
}

/// The request's method and URL in the first bytes of an entry: looked for
/// inside its `request` object when that is there (Chrome writes
/// `_initiator`, whose call stack names script URLs, before it).
fn method_and_url(head: &[u8]) -> (Option<String>, Option<String>) {
    let request = member_value(head, "request")
        .find(|v| v.first() == Some(&b'{'))
        .unwrap_or(head);
    (
        first_string(request, "method"),
        first_string(request, "url"),
    )
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.out_at < self.out.len() {
                let n = buf.len().min(self.out.len() - self.out_at);
                buf[..n].copy_from_slice(&self.out[self.out_at..self.out_at + n]);
                self.out_at += n;
                return Ok(n);
            }
            self.out.clear();
            self.out_at = 0;
            if self.eof {
                return Ok(0);
            }
            let mut chunk = std::mem::take(&mut self.chunk);
            let read = loop {
                match self.inner.read(&mut chunk) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    r => break r,
                }
            };
            let fed = match read {
                // The document ends (perhaps cut short): the item read so
                // far goes to the parser as it is.
                Ok(0) => {
                    self.eof = true;
                    self.end_item()
                }
                Ok(n) => self.feed(&chunk[..n]),
                Err(e) => Err(e),
            };
            self.chunk = chunk;
            fed?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pass(doc: &str, max: usize) -> (String, Vec<(u64, String, Option<String>)>) {
        let queue = Queue::default();
        let mut out = String::new();
        // Small reads, so items and strings straddle chunk edges.
        let mut b = Bounded::new(doc.as_bytes(), max, queue.clone());
        b.chunk = vec![0; 7];
        b.read_to_string(&mut out).unwrap();
        let spooled = queue
            .borrow_mut()
            .drain(..)
            .map(|mut s| {
                let mut text = String::new();
                s.file.read_to_string(&mut text).unwrap();
                assert_eq!(s.bytes, text.len() as u64);
                (s.id, text, s.url)
            })
            .collect();
        (out, spooled)
    }

    #[test]
    fn small_entries_pass_unchanged() {
        let doc = r#"{"log":{"creator":{"name":"x,]"},"pages":[],"entries":[{"a":"]\",["},{"b":[1,2]} , "s" ]},"x":[[1,[2]]]}"#;
        let (out, spooled) = pass(doc, 100);
        assert_eq!(out, doc);
        assert!(spooled.is_empty());
    }

    #[test]
    fn a_large_entry_is_spooled_and_replaced() {
        let big = format!(
            r#"{{"request":{{"method":"GET","url":"https://a.example/x\/y"}},"response":{{"content":{{"text":"{}, ] \" }}"}}}}}}"#,
            "z".repeat(300)
        );
        let doc = format!(r#"{{"log":{{"entries":[{{"a":1}},{big},{{"b":2}}]}}}}"#);
        let (out, spooled) = pass(&doc, 100);
        assert_eq!(
            out,
            r#"{"log":{"entries":[{"a":1},{"_mdeauthSpooled":0},{"b":2}]}}"#
        );
        assert_eq!(spooled.len(), 1);
        assert_eq!(spooled[0].1, big);
        assert_eq!(spooled[0].2.as_deref(), Some("https://a.example/x/y"));
    }

    #[test]
    fn a_document_cut_inside_a_large_entry_still_hands_it_over() {
        let doc = format!(r#"{{"log":{{"entries":[{{"x":"{}"#, "q".repeat(200));
        let (out, spooled) = pass(&doc, 100);
        assert_eq!(out, r#"{"log":{"entries":[{"_mdeauthSpooled":0}"#);
        assert_eq!(spooled[0].1, &doc[doc.find('[').unwrap() + 1..]);
    }

    proptest::proptest! {
        /// Whatever the bytes and the limit, the output with each
        /// placeholder put back as its spooled text is the input.
        #[test]
        fn the_output_with_spooled_items_put_back_is_the_input(
            doc in proptest::string::string_regex(r#"(\{"log":\{"entries":\[)?[\[\]{}",\\ax:]{0,200}"#).unwrap(),
            max in 0usize..40,
        ) {
            let (out, spooled) = pass(&doc, max);
            let mut back = String::new();
            let mut rest = out.as_str();
            for (id, text, _) in spooled {
                let p = format!("{{\"{PLACEHOLDER}\":{id}}}");
                let at = rest.find(&p).expect("each spooled item's placeholder, in order");
                back.push_str(&rest[..at]);
                back.push_str(&text);
                rest = &rest[at + p.len()..];
            }
            back.push_str(rest);
            proptest::prop_assert_eq!(back, doc);
        }
    }

    #[test]
    fn placeholders_are_taken_in_order() {
        let queue = Queue::default();
        for id in 0..3 {
            queue.borrow_mut().push_back(Spooled {
                id,
                file: tempfile::tempfile().unwrap(),
                bytes: 0,
                method: None,
                url: None,
            });
        }
        assert_eq!(take(&queue, 1).map(|s| s.id), Some(1));
        // One written into the input, or already taken: none.
        assert!(take(&queue, 1).is_none());
        assert_eq!(take(&queue, 2).map(|s| s.id), Some(2));
        assert!(queue.borrow().is_empty());
    }

    #[test]
    fn finds_the_first_quote_or_backslash() {
        for (s, want) in [
            (&b""[..], None),
            (b"abc", None),
            (b"abcdefgh\"ij", Some(8)),
            (b"a\\b\"", Some(1)),
            (b"\xa2\xdcz\"", Some(3)),
        ] {
            assert_eq!(
                quote_or_backslash(s),
                want,
                "{}",
                String::from_utf8_lossy(s)
            );
        }
        // Every position, in and past the words read by hand.
        for at in 0..100 {
            for c in [b'"', b'\\'] {
                let mut s = vec![b'x'; 120];
                s[at] = c;
                s[at + 5] = b'"';
                assert_eq!(quote_or_backslash(&s), Some(at));
            }
        }
    }

    #[test]
    fn first_string_reads_a_member_value() {
        let t = br#"{"request" : {"method" :"POST", "url": "https://h/p\"q"}, "url":"x"}"#;
        assert_eq!(first_string(t, "method").as_deref(), Some("POST"));
        assert_eq!(first_string(t, "url").as_deref(), Some("https://h/p\"q"));
        assert_eq!(
            first_string(br#"{"url":12,"url":"b"}"#, "url").as_deref(),
            Some("b")
        );
        assert_eq!(first_string(br#"{"url":"cut"#, "url"), None);
        // Chrome's initiator stack comes before the request.
        let chrome = br#"{"_initiator":{"type":"script","stack":{"callFrames":[{"url":"https://cdn/app.js"}]}},"_resourceType":"request","request":{"method":"GET","url":"https://api/x"}}"#;
        assert_eq!(
            method_and_url(chrome),
            (Some("GET".to_string()), Some("https://api/x".to_string()))
        );
        assert_eq!(method_and_url(br#"{"url":"u"}"#).1.as_deref(), Some("u"));
    }
}
