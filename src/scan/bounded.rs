//! HAR entries held to a size.
//!
//! `log.entries` is read one entry at a time, but each entry is parsed
//! whole: one entry with a 1 GB response body would be held in memory, two
//! or three times over. [`Bounded`] sits between the input and the JSON
//! parser and holds each entry of `{"log":{"entries":[...]}}` up to a size.
//! An entry that grows past it is not parsed: its text, from its start to
//! its end as it streams in, is handed to a callback (scan searches it as
//! text, block by block), and the parser gets a placeholder,
//! `{"_mdeauthLarge":1}`, in its place, so entries keep their numbers.
//! Memory stays flat whatever one entry holds, and nothing is written to
//! disk.

use std::io::{self, Read};

/// The largest entry parsed as JSON, field by field (4 MiB: a capture's
/// scripts and images are smaller; a download or a large report is not).
pub const MAX_ENTRY: usize = 4 << 20;

/// What the parser is handed in place of a large entry: an object of this
/// one member, holding 1 (0 when the input ended inside the entry).
pub const PLACEHOLDER_MEMBER: &str = "_mdeauthLarge";
const PLACEHOLDER: &str = r#"{"_mdeauthLarge":1}"#;
const PLACEHOLDER_CUT: &str = r#"{"_mdeauthLarge":0}"#;

/// How far into a large entry its method and URL are looked for.
const SNIFF: usize = 64 << 10;

/// Bytes read from the input at a time.
const CHUNK: usize = 256 << 10;

/// A large entry, as the callback is told of it.
pub struct Large {
    /// Its 0-based index in `log.entries`.
    pub index: u64,
    /// Its request's method and URL as written, when its first bytes name
    /// them (the rest of it is not parsed).
    pub method: Option<String>,
    pub url: Option<String>,
}

/// What the lexer stopped at.
enum Event {
    /// `log.entries` opened (its `[` was the last byte lexed).
    EntriesOpen,
    /// An entry ended at the last byte lexed, this one: a `,` (another
    /// follows) or what closes `log.entries` (`]`).
    ItemEnd(u8),
}

/// JSON lexer state: enough to find where each entry of `log.entries`
/// starts and ends, without parsing.
#[derive(Default)]
struct Lexer {
    /// Open arrays and objects.
    depth: usize,
    in_string: bool,
    escaped: bool,
    /// The last string begun at depth 1 or 2 (a member name, when an
    /// object or array follows it) as written, escapes and all, up to
    /// [`NAME_BYTES`] (a longer one is none of the names looked for).
    last_name: [Vec<u8>; 2],
    /// Whether the object at depth 2 is `log` (the first one: the parser
    /// reads only that).
    in_log: bool,
    log_seen: bool,
    /// Whether the array at depth 3 is `log.entries` (the first one: the
    /// parser reads only that).
    in_entries: bool,
    entries_seen: bool,
}

impl Lexer {
    /// Lex `data` up to the first event, or all of it: the bytes lexed
    /// (the event's byte included) and the event.
    fn lex(&mut self, data: &[u8]) -> (usize, Option<Event>) {
        let mut i = 0;
        while i < data.len() {
            if self.in_string {
                // Most of a capture is string content: jump from quote to
                // quote; one is escaped when an odd run of backslashes is
                // right before it.
                let from = i;
                if self.escaped {
                    self.escaped = false;
                    i += 1;
                }
                let start = i;
                let backslashes_before = |p: usize| {
                    data[start..p]
                        .iter()
                        .rev()
                        .take_while(|&&c| c == b'\\')
                        .count()
                };
                loop {
                    match memchr::memchr(b'"', &data[i..]) {
                        Some(k) if backslashes_before(i + k) % 2 == 1 => i += k + 1,
                        Some(k) => {
                            self.in_string = false;
                            i += k + 1;
                            break;
                        }
                        None => {
                            // The next read's first byte is escaped after
                            // an odd run of backslashes.
                            i = data.len();
                            self.escaped = backslashes_before(data.len()) % 2 == 1;
                            break;
                        }
                    }
                }
                // (The closing quote is not part of the name.)
                let end = if self.in_string { i } else { i - 1 };
                self.name_bytes(&data[from..end]);
                continue;
            }
            let b = data[i];
            i += 1;
            match b {
                b'"' => {
                    self.in_string = true;
                    if let Some(n) = self.name_slot() {
                        self.last_name[n].clear();
                    }
                }
                b'{' | b'[' => {
                    self.depth += 1;
                    match self.depth {
                        2 => {
                            self.in_log =
                                b == b'{' && !self.log_seen && is_name(&self.last_name[0], "log");
                            self.log_seen |= self.in_log;
                        }
                        3 if b == b'['
                            && self.in_log
                            && !self.entries_seen
                            && is_name(&self.last_name[1], "entries") =>
                        {
                            self.in_entries = true;
                            self.entries_seen = true;
                            return (i, Some(Event::EntriesOpen));
                        }
                        _ => {}
                    }
                }
                b'}' | b']' => {
                    let closes_entries = self.depth == 3 && self.in_entries;
                    self.depth = self.depth.saturating_sub(1);
                    if closes_entries {
                        self.in_entries = false;
                        return (i, Some(Event::ItemEnd(b)));
                    }
                }
                b',' if self.depth == 3 && self.in_entries => {
                    return (i, Some(Event::ItemEnd(b)));
                }
                _ => {}
            }
        }
        (i, None)
    }

    /// Which member-name slot a string begun now goes to (depth 1 or 2).
    fn name_slot(&self) -> Option<usize> {
        matches!(self.depth, 1 | 2).then(|| self.depth - 1)
    }

    fn name_bytes(&mut self, bytes: &[u8]) {
        if let Some(n) = self.name_slot() {
            let name = &mut self.last_name[n];
            let room = (NAME_BYTES + 1).saturating_sub(name.len());
            name.extend_from_slice(&bytes[..bytes.len().min(room)]);
        }
    }
}

/// The longest member name, as written, compared with `log` and `entries`
/// (each letter escaped as `\u0065` is 6 bytes).
const NAME_BYTES: usize = 48;

/// Whether `raw`, a member name as written (without its quotes), is `name`
/// once unescaped, as the parser reads it.
fn is_name(raw: &[u8], name: &str) -> bool {
    if raw.len() > NAME_BYTES {
        return false;
    }
    if !raw.contains(&b'\\') {
        return raw == name.as_bytes();
    }
    let mut quoted = Vec::with_capacity(raw.len() + 2);
    quoted.push(b'"');
    quoted.extend_from_slice(raw);
    quoted.push(b'"');
    serde_json::from_slice::<String>(&quoted).is_ok_and(|s| s == name)
}

/// The input, lexed as it is read.
struct Core<R> {
    inner: R,
    lexer: Lexer,
    /// Read from the input, not lexed yet: `input[input_at..]`.
    input: Vec<u8>,
    input_at: usize,
    eof: bool,
    /// For the parser: `out[out_at..]`.
    out: Vec<u8>,
    out_at: usize,
    /// The entry being read (inside `log.entries`).
    held: Option<Vec<u8>>,
    /// Entries of `log.entries` begun so far.
    entries: u64,
    /// Bytes read at a time.
    chunk: usize,
}

impl<R: Read> Core<R> {
    /// Read more input when all is lexed; false at its end.
    fn refill(&mut self) -> io::Result<bool> {
        if self.input_at < self.input.len() {
            return Ok(true);
        }
        if self.eof {
            return Ok(false);
        }
        self.input.resize(self.chunk, 0);
        self.input_at = 0;
        let n = loop {
            match self.inner.read(&mut self.input) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                r => break r,
            }
        };
        let n = n.inspect_err(|_| self.input.clear())?;
        self.input.truncate(n);
        self.eof = n == 0;
        Ok(n > 0)
    }

    /// After an entry's last byte: the delimiter, and the next entry.
    fn end_item(&mut self, delimiter: u8) {
        self.out.push(delimiter);
        self.held = (delimiter == b',').then(|| {
            self.entries += 1;
            Vec::new()
        });
    }
}

/// Passes a JSON document through, holding each entry of `log.entries` up
/// to `max` bytes and handing a larger one to `large` (see the module).
pub struct Bounded<R, F> {
    core: Core<R>,
    max: usize,
    large: F,
}

impl<R: Read, F: FnMut(&mut dyn Read, Large) -> io::Result<()>> Bounded<R, F> {
    /// `large` is given a reader of the entry's text, from its first byte
    /// to its last, and should read it to its end.
    pub fn new(inner: R, max: usize, large: F) -> Bounded<R, F> {
        Bounded {
            core: Core {
                inner,
                lexer: Lexer::default(),
                input: Vec::new(),
                input_at: 0,
                eof: false,
                out: Vec::new(),
                out_at: 0,
                held: None,
                entries: 0,
                chunk: CHUNK,
            },
            max,
            large,
        }
    }

    /// Lex what was read, up to an event or its end, and route it.
    fn step(&mut self) -> io::Result<()> {
        let c = &mut self.core;
        let data = &c.input[c.input_at..];
        let (n, event) = c.lexer.lex(data);
        let mut body = match event {
            Some(Event::ItemEnd(_)) => &data[..n - 1],
            _ => &data[..n],
        };
        c.input_at += n;
        match &mut c.held {
            Some(held) => {
                // Whitespace before an entry is not held: it is no entry.
                if held.is_empty() {
                    let blank = body.iter().take_while(|b| b.is_ascii_whitespace()).count();
                    c.out.extend_from_slice(&body[..blank]);
                    body = &body[blank..];
                }
                held.extend_from_slice(body);
            }
            None => c.out.extend_from_slice(body),
        }
        // An entry is large when its text is over the limit, whether its
        // end is in this read or a later one.
        let large = c.held.as_ref().is_some_and(|h| h.len() > self.max);
        match event {
            Some(Event::EntriesOpen) => c.held = Some(Vec::new()),
            Some(Event::ItemEnd(delimiter)) if large => self.hand_over(Some(delimiter))?,
            Some(Event::ItemEnd(delimiter)) => {
                if let Some(held) = c.held.take() {
                    c.out.extend_from_slice(&held);
                }
                c.end_item(delimiter);
            }
            None if large => self.hand_over(None)?,
            None => {}
        }
        Ok(())
    }

    /// The held entry is over the limit: hand it, and the rest of it as it
    /// is read (unless `ended`: it ended, with that delimiter), to `large`;
    /// the parser gets the placeholder.
    fn hand_over(&mut self, ended: Option<u8>) -> io::Result<()> {
        let held = self.core.held.take().unwrap_or_default();
        let (method, url) = method_and_url(&held[..held.len().min(SNIFF)]);
        let info = Large {
            index: self.core.entries,
            method,
            url,
        };
        let mut rest = Rest {
            core: &mut self.core,
            held,
            held_at: 0,
            ended,
        };
        (self.large)(&mut rest, info)?;
        // Whatever the callback left unread is skipped.
        let mut sink = [0u8; 8192];
        while rest.read(&mut sink)? > 0 {}
        let ended = rest.ended;
        self.core.out.extend_from_slice(match ended {
            Some(_) => PLACEHOLDER.as_bytes(),
            // The input ended inside it.
            None => PLACEHOLDER_CUT.as_bytes(),
        });
        if let Some(delimiter) = ended {
            self.core.end_item(delimiter);
        }
        Ok(())
    }
}

/// A large entry's text: what was held, then the rest as it is read, to
/// the entry's end (or the input's).
struct Rest<'a, R> {
    core: &'a mut Core<R>,
    held: Vec<u8>,
    held_at: usize,
    /// The entry ended, with this delimiter.
    ended: Option<u8>,
}

impl<R: Read> Read for Rest<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.held_at < self.held.len() {
            let n = buf.len().min(self.held.len() - self.held_at);
            buf[..n].copy_from_slice(&self.held[self.held_at..self.held_at + n]);
            self.held_at += n;
            return Ok(n);
        }
        if self.ended.is_some() || buf.is_empty() || !self.core.refill()? {
            return Ok(0);
        }
        let c = &mut *self.core;
        let data = &c.input[c.input_at..];
        let data = &data[..data.len().min(buf.len())];
        let (n, event) = c.lexer.lex(data);
        let body = match event {
            Some(Event::ItemEnd(delimiter)) => {
                self.ended = Some(delimiter);
                n - 1
            }
            // (An entry holds no `log.entries` of its own.)
            _ => n,
        };
        buf[..body].copy_from_slice(&data[..body]);
        c.input_at += n;
        Ok(body)
    }
}

/// The first value of a member `name` in `text` (JSON, perhaps cut short)
/// that starts with `first`, and the text after it.
fn member_value<'t>(text: &'t [u8], name: &str, first: u8) -> Option<&'t [u8]> {
    let key = format!("\"{name}\"");
    let skip = |s: &[u8]| s.iter().take_while(|c| c.is_ascii_whitespace()).count();
    memchr::memmem::find_iter(text, key.as_bytes()).find_map(|k| {
        let rest = &text[k + key.len()..];
        let colon = skip(rest);
        if rest.get(colon) != Some(&b':') {
            return None;
        }
        let value = &rest[colon + 1..];
        let value = &value[skip(value)..];
        (value.first() == Some(&first)).then_some(value)
    })
}

/// The first string value of a member `name` in `text` (JSON, perhaps cut
/// short), unescaped.
fn first_string(text: &[u8], name: &str) -> Option<String> {
    let value = member_value(text, name, b'"')?;
    serde_json::Deserializer::from_slice(value)
        .into_iter::<String>()
        .next()?
        .ok()
}

/// The request's method and URL in the first bytes of an entry: looked for
/// inside its `request` object only (Chrome writes `_initiator`, whose call
/// stack names script URLs, before it); unknown when that is not in them
/// (a long call stack first), rather than another member's URL.
fn method_and_url(head: &[u8]) -> (Option<String>, Option<String>) {
    match member_value(head, "request", b'{') {
        Some(request) => (
            first_string(request, "method"),
            first_string(request, "url"),
        ),
        None => (None, None),
    }
}

impl<R: Read, F: FnMut(&mut dyn Read, Large) -> io::Result<()>> Read for Bounded<R, F> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let c = &mut self.core;
            if c.out_at < c.out.len() {
                let n = buf.len().min(c.out.len() - c.out_at);
                buf[..n].copy_from_slice(&c.out[c.out_at..c.out_at + n]);
                c.out_at += n;
                return Ok(n);
            }
            c.out.clear();
            c.out_at = 0;
            if !c.refill()? {
                // The document ends (perhaps cut short): the entry read so
                // far goes to the parser as it is.
                match c.held.take() {
                    Some(held) if !held.is_empty() => c.out = held,
                    _ => return Ok(0),
                }
                continue;
            }
            self.step()?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The output, and each large entry's index, text and URL.
    fn pass(doc: &str, max: usize) -> (String, Vec<(u64, String, Option<String>)>) {
        pass_in(doc, max, 7)
    }

    /// [`pass`], reading `chunk` bytes at a time.
    fn pass_in(
        doc: &str,
        max: usize,
        chunk: usize,
    ) -> (String, Vec<(u64, String, Option<String>)>) {
        let mut large = Vec::new();
        let mut out = String::new();
        let mut b = Bounded::new(doc.as_bytes(), max, |r: &mut dyn Read, l: Large| {
            let mut text = String::new();
            r.read_to_string(&mut text)?;
            large.push((l.index, text, l.url));
            Ok(())
        });
        b.core.chunk = chunk;
        b.read_to_string(&mut out).unwrap();
        drop(b);
        (out, large)
    }

    #[test]
    fn small_entries_pass_unchanged() {
        let doc = r#"{"log":{"creator":{"name":"x,]"},"pages":[],"entries":[{"a":"]\",["},{"b":[1,2]} , "s" ]},"x":[[1,[2]]]}"#;
        let (out, large) = pass(doc, 100);
        assert_eq!(out, doc);
        assert!(large.is_empty());
    }

    #[test]
    fn a_large_entry_is_handed_over_and_replaced() {
        let big = format!(
            r#"{{"request":{{"method":"GET","url":"https://a.example/x\/y"}},"response":{{"content":{{"text":"{}, ] \" }}"}}}}}}"#,
            "z".repeat(300)
        );
        let doc = format!(r#"{{"log":{{"entries":[{{"a":1}},{big},{{"b":2}}]}}}}"#);
        let (out, large) = pass(&doc, 100);
        assert_eq!(
            out,
            r#"{"log":{"entries":[{"a":1},{"_mdeauthLarge":1},{"b":2}]}}"#
        );
        assert_eq!(large.len(), 1);
        assert_eq!(large[0].0, 1);
        assert_eq!(large[0].1, big);
        assert_eq!(large[0].2.as_deref(), Some("https://a.example/x/y"));
    }

    #[test]
    fn only_the_first_log_entries_is_held() {
        // Large items of other arrays (pages, a tool's own, a second
        // entries the parser skips) pass through: the parser skips them
        // without holding them.
        let pad = "p".repeat(200);
        let doc = format!(
            r#"{{"log":{{"pages":[{{"t":"{pad}"}}],"entries":[{{"e":"{pad}"}}],"entries":[{{"f":"{pad}"}}]}},"x":{{"entries":[["{pad}"]]}}}}"#
        );
        let (out, large) = pass(&doc, 100);
        assert_eq!(large.len(), 1);
        assert_eq!(large[0].1, format!(r#"{{"e":"{pad}"}}"#));
        assert_eq!(
            out,
            doc.replace(&format!(r#"[{{"e":"{pad}"}}]"#), r#"[{"_mdeauthLarge":1}]"#)
        );
    }

    #[test]
    fn the_names_are_read_as_the_parser_reads_them() {
        let pad = "p".repeat(200);
        let held = |doc: &str| pass(doc, 100).1.len();
        // Escaped letters are the same name.
        assert_eq!(
            held(&format!(
                r#"{{"l\u006fg":{{"entr\u0069es":[{{"e":"{pad}"}}]}}}}"#
            )),
            1
        );
        // A name holding an escaped quote before `entries` is another name.
        assert_eq!(
            held(&format!(r#"{{"log":{{"x\"entries":[{{"e":"{pad}"}}]}}}}"#)),
            0
        );
        // Only the first log, as the parser.
        assert_eq!(
            held(&format!(
                r#"{{"log":{{}},"log":{{"entries":[{{"e":"{pad}"}}]}}}}"#
            )),
            0
        );
        // A name split across reads (7 bytes at a time).
        assert_eq!(
            held(&format!(
                r#"{{   "log"  :  {{ "entries" :  [ {{"e":"{pad}"}} ] }} }}"#
            )),
            1
        );
    }

    #[test]
    fn an_entry_is_large_by_its_size_alone() {
        let pad = "p".repeat(95);
        let doc = format!(r#"{{"log":{{"entries":[{{"e":"{pad}"}},{{"f":1}}]}}}}"#);
        // 104 bytes: large with a limit of 100, whatever the reads.
        for chunk in [1, 7, 64, 1 << 20] {
            assert_eq!(pass_in(&doc, 100, chunk).1.len(), 1, "{chunk}");
            assert_eq!(pass_in(&doc, 104, chunk).1.len(), 0, "{chunk}");
        }
        // Whitespace between entries is no entry, however much of it.
        let blank = " ".repeat(300);
        let doc = format!(r#"{{"log":{{"entries":[{blank}{{"f":1}}{blank}]}}}}"#);
        let (out, large) = pass(&format!(r#"{{"log":{{"entries":[{blank}]}}}}"#), 100);
        assert!(large.is_empty());
        assert_eq!(out, format!(r#"{{"log":{{"entries":[{blank}]}}}}"#));
        let (_, large) = pass(&doc, 100);
        assert_eq!(large.len(), 1, "the trailing blanks count, not the leading");
    }

    #[test]
    fn a_document_cut_inside_a_large_entry_still_hands_it_over() {
        let doc = format!(r#"{{"log":{{"entries":[{{"x":"{}"#, "q".repeat(200));
        let (out, large) = pass(&doc, 100);
        assert_eq!(out, r#"{"log":{"entries":[{"_mdeauthLarge":0}"#);
        assert_eq!(large[0].1, &doc[doc.find('[').unwrap() + 1..]);
    }

    proptest::proptest! {
        /// Whatever the bytes and the limit, the output with each
        /// placeholder put back as the large entry's text is the input.
        #[test]
        fn the_output_with_large_entries_put_back_is_the_input(
            doc in proptest::string::string_regex(r#"(\{"log":\{"entries":\[)?[\[\]{}",\\ax: ]{0,200}"#).unwrap(),
            max in 0usize..40,
            chunk in 1usize..16,
        ) {
            let (out, large) = pass_in(&doc, max, chunk);
            let mut back = String::new();
            let mut rest = out.as_str();
            for (_, text, _) in large {
                let at = rest
                    .find(&PLACEHOLDER[..PLACEHOLDER.len() - 2])
                    .expect("each large entry's placeholder, in order");
                back.push_str(&rest[..at]);
                back.push_str(&text);
                rest = &rest[at + PLACEHOLDER.len()..];
            }
            back.push_str(rest);
            proptest::prop_assert_eq!(back, doc);
        }

        /// On a valid capture the lexer finds the entries the parser
        /// finds: each large one handed over is that entry, whole, and the
        /// parser sees one placeholder in its place.
        #[test]
        fn large_entries_are_the_parsers_entries(
            entries in proptest::collection::vec(
                proptest::string::string_regex(r#"[\\",\]\[{}a\n]{0,12}"#).unwrap(), 0..6),
            max in 0usize..30,
            chunk in 1usize..16,
        ) {
            let values: Vec<serde_json::Value> = entries
                .iter()
                .map(|t| serde_json::json!({"t": t, "a": [t]}))
                .collect();
            let doc = serde_json::json!({"log": {"x": "\\", "entries": values}}).to_string();
            let (out, large) = pass_in(&doc, max, chunk);
            let parsed: serde_json::Value = serde_json::from_str(&out).unwrap();
            let seen = parsed["log"]["entries"].as_array().unwrap();
            proptest::prop_assert_eq!(seen.len(), values.len());
            let mut handed = large.iter();
            for (i, (v, s)) in values.iter().zip(seen).enumerate() {
                if s.get(PLACEHOLDER_MEMBER).is_some() {
                    let (index, text, _) = handed.next().unwrap();
                    proptest::prop_assert_eq!(*index, i as u64);
                    proptest::prop_assert!(text.len() > max);
                    let whole: serde_json::Value = serde_json::from_str(text).unwrap();
                    proptest::prop_assert_eq!(&whole, v);
                } else {
                    proptest::prop_assert_eq!(s, v);
                }
            }
            proptest::prop_assert!(handed.next().is_none());
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
        assert_eq!(method_and_url(br#"{"url":"u"}"#), (None, None));
    }
}
