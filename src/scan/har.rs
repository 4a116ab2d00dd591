//! HAR files: stream `log.entries` one entry at a time and hand out the
//! text fields a token can hide in.
//!
//! A HAR capture can be hundreds of MB; only one entry is held in memory at
//! a time (a custom `DeserializeSeed` walks `log.entries` and skips every
//! other member without building it).

use std::borrow::Cow;
use std::fmt;
use std::io::Read;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// Whether the first bytes of an input look like a HAR document: `{`, then
/// `"log"` holding an object. A JSON-lines log whose first member is a
/// string named `log` (Docker's json-file driver, Fluent Bit) is text.
///
/// The object's first member must be one HAR names (`version`, `creator`,
/// `browser`, `pages`, `entries`, `comment`, or a tool's own `_name`): a
/// JSON-lines log whose records start with a `log` object (`{"log":{"level":
/// ...` from Filebeat or Elastic Agent) is text too.
pub fn sniff(prefix: &[u8]) -> bool {
    let mut it = prefix
        .strip_prefix(b"\xef\xbb\xbf")
        .unwrap_or(prefix)
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace());
    let head: Vec<u8> = it.by_ref().take(8).collect();
    if head != b"{\"log\":{" {
        return false;
    }
    let rest: Vec<u8> = it.take(16).collect();
    let Some(name) = rest.strip_prefix(b"\"") else {
        // `}` (an empty log), or the prefix ends here.
        return rest.first().is_none_or(|b| *b == b'}');
    };
    let name = match name.iter().position(|b| *b == b'"') {
        Some(end) => &name[..end],
        // Cut off by the prefix's end: a HAR document as far as it goes.
        None if rest.len() < 16 => return true,
        // Longer than any member HAR names.
        None => name,
    };
    name.starts_with(b"_")
        || [
            &b"version"[..],
            b"creator",
            b"browser",
            b"pages",
            b"entries",
            b"comment",
        ]
        .contains(&name)
}

/// A parse error as a note may show it: the parser's words, with each quoted
/// value cut to `"…"` (a string found where an object was expected is quoted
/// whole, and a HAR string may be a token or a password).
pub fn quiet_error(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    let mut out = String::with_capacity(msg.len().min(200));
    let mut chars = msg.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            out.push(c);
            continue;
        }
        out.push_str("\"…\"");
        while let Some(q) = chars.next() {
            match q {
                '\\' => {
                    chars.next();
                }
                '"' => break,
                _ => {}
            }
        }
    }
    out
}

/// Replace every token in `s` with `<token>`, for display.
/// The longest request URL a location keeps, in characters.
pub const MAX_URL_CHARS: usize = 2048;

///
/// Shown text must hold no token even where the finder does not see one (a
/// token whose dots are written `%2E`, or followed by `.json`): any run of
/// token and URL-escape characters with `eyJ` and at least
/// [`MASK_MIN_AFTER`] more characters after it is replaced whole.
fn redact(s: &str) -> Cow<'_, str> {
    let b = s.as_bytes();
    if memchr::memmem::find(b, b"eyJ").is_none() {
        return Cow::Borrowed(s);
    }
    let in_run = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'%' | b'~');
    let mut out = String::with_capacity(s.len());
    let mut at = 0;
    let mut i = 0;
    while i < b.len() {
        if !in_run(b[i]) {
            i += 1;
            continue;
        }
        let end = b[i..]
            .iter()
            .position(|&c| !in_run(c))
            .map_or(b.len(), |n| i + n);
        let run = &b[i..end];
        // `eyJ` where a token or an encoded one starts (the run's start,
        // after a separator or a percent-escape), not inside a word
        // (`surveyJson`).
        let token_like = memchr::memmem::find_iter(run, b"eyJ").any(|k| {
            let starts =
                k == 0 || !run[k - 1].is_ascii_alphanumeric() || (k >= 3 && run[k - 3] == b'%');
            starts && run.len() - k - 3 >= MASK_MIN_AFTER
        });
        if token_like {
            out.push_str(&s[at..i]);
            out.push_str("<token>");
            at = end;
        }
        i = end;
    }
    if at == 0 {
        return Cow::Borrowed(s);
    }
    out.push_str(&s[at..]);
    Cow::Owned(out)
}

/// Characters after `eyJ` that make a run token-like for [`redact`]: a
/// JOSE header alone is longer (`{"alg":"RS256"}` is 20 characters).
const MASK_MIN_AFTER: usize = 16;

/// A request URL for a location: without query and fragment (which may hold
/// tokens) and user info, tokens in its path replaced by `<token>`, cut
/// after [`MAX_URL_CHARS`].
pub fn shown_url(url: &str) -> String {
    let cut = url.find(['?', '#']).unwrap_or(url.len());
    // Kept as written (renderers escape it for their medium), and cut
    // at a bound: a location is kept per sighting.
    let url = crate::http::without_userinfo(&url[..cut]);
    let url = redact(&url);
    match url.char_indices().nth(MAX_URL_CHARS) {
        Some((end, _)) => format!("{}…", &url[..end]),
        None => url.into_owned(),
    }
}

/// A request method for a location: an HTTP method's letters, else nothing
/// (a location shows no other text from the capture than the URL's path).
pub fn shown_method(method: Option<&str>) -> &str {
    method
        .filter(|m| m.len() <= 16 && m.bytes().all(|b| b.is_ascii_alphabetic()))
        .unwrap_or("")
}

/// One HAR entry, held as JSON while its fields are searched.
pub struct Entry {
    pub index: u64,
    pub value: Value,
}

/// A text field of an entry and where it is.
pub struct Field<'a> {
    /// e.g. `request header Authorization`, `response body`.
    pub part: Cow<'a, str>,
    pub text: Cow<'a, str>,
}

impl Entry {
    pub fn method(&self) -> &str {
        shown_method(
            self.value
                .pointer("/request/method")
                .and_then(Value::as_str),
        )
    }

    /// The request URL as [`shown_url`] gives it.
    pub fn url(&self) -> String {
        shown_url(
            self.value
                .pointer("/request/url")
                .and_then(Value::as_str)
                .unwrap_or(""),
        )
    }

    /// For the placeholder of an entry too large to parse, searched as text
    /// as it was read ([`super::bounded`]): whether it was read whole
    /// (`false`: the input ended inside it).
    pub fn large(&self) -> Option<bool> {
        let o = self.value.as_object().filter(|o| o.len() == 1)?;
        match o.get(super::bounded::PLACEHOLDER_MEMBER)?.as_u64()? {
            1 => Some(true),
            0 => Some(false),
            _ => None,
        }
    }

    /// Every text field a token can be in: URL, headers, bodies, redirect,
    /// then any other string of the entry that holds `eyJ`.
    pub fn fields(&self) -> Vec<Field<'_>> {
        let v = &self.value;
        let s = |p: &str| v.pointer(p).and_then(Value::as_str);
        let mut fields = Named::default();
        fields.add("request URL".into(), s("/request/url"));
        for (side, path) in [
            ("request", "/request/headers"),
            ("response", "/response/headers"),
        ] {
            for h in v
                .pointer(path)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let name = h.get("name").and_then(Value::as_str).unwrap_or("?");
                let value = h.get("value").and_then(Value::as_str);
                // HTTP/2's `:path` pseudo-header repeats the URL's path
                // and query: not counted again.
                if name == ":path"
                    && let (Some(p), Some(url)) = (value, s("/request/url"))
                    && url.split('#').next().unwrap_or(url).ends_with(p)
                {
                    fields.seen.insert(p.as_ptr());
                    continue;
                }
                fields.add(format!("{side} header {}", redact(name)).into(), value);
            }
        }
        let body = s("/request/postData/text").filter(|t| !t.is_empty());
        let body_at = fields.out.len();
        fields.add("request body".into(), body);

        let params = v
            .pointer("/request/postData/params")
            .and_then(Value::as_array);
        // The form body decoded, as browsers write its params (`+` and
        // `%20` are spaces there): made when a param needs it.
        let mut decoded_body: Option<String> = None;
        // A param found only in the decoded body: the body is searched
        // decoded (a token whose dots it writes `%2E` is found there).
        let mut search_decoded = false;
        for p in params.into_iter().flatten() {
            let value = p.get("value").and_then(Value::as_str);
            match (body, value) {
                // Browsers write a form body twice, as text and parsed into
                // params: a param the text already holds is not searched
                // again (a tool may shorten the text and keep the params).
                // (Only a value that may hold a token is compared: the
                // text is searched once per such param, not per param.)
                (Some(text), Some(copy))
                    if memchr::memmem::find(copy.as_bytes(), b"eyJ").is_none()
                        || text.contains(copy) =>
                {
                    fields.seen.insert(copy.as_ptr());
                }
                (Some(text), Some(copy))
                    if decoded_body
                        .get_or_insert_with(|| {
                            percent_encoding::percent_decode_str(&text.replace('+', " "))
                                .decode_utf8_lossy()
                                .into_owned()
                        })
                        .contains(copy) =>
                {
                    search_decoded = true;
                    fields.seen.insert(copy.as_ptr());
                }
                _ => fields.add("request body".into(), value),
            }
        }
        // (The body is the field added at `body_at`.)
        if search_decoded && let Some(decoded) = decoded_body {
            fields.out[body_at].text = Cow::Owned(decoded);
        }
        // The `Location` header's copy is not counted again.
        if let Some(r) = s("/response/redirectURL") {
            let copy = fields
                .out
                .iter()
                .any(|f| f.part.eq_ignore_ascii_case("response header Location") && f.text == r);
            if copy {
                fields.seen.insert(r.as_ptr());
            } else {
                fields.add("response redirectURL".into(), Some(r));
            }
        }
        if let Some(text) = s("/response/content/text") {
            let b64 =
                s("/response/content/encoding").is_some_and(|e| e.eq_ignore_ascii_case("base64"));
            let decoded = b64
                .then(|| {
                    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
                    // Padding is optional here: some tools drop it.
                    STANDARD
                        .decode(&compact)
                        .or_else(|_| STANDARD_NO_PAD.decode(compact.trim_end_matches('=')))
                        .ok()
                })
                .flatten();
            match decoded {
                Some(bytes) => {
                    // Searched decoded; the base64 text itself is done with.
                    fields.seen.insert(text.as_ptr());
                    fields.out.push(Field {
                        part: "response body (base64)".into(),
                        text: Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()),
                    });
                }
                None => fields.add("response body".into(), Some(text)),
            }
        }
        // Any other string of the entry that holds a token (a field of an
        // unexpected type, WebSocket messages, a tool's own members), named
        // by its JSON path.
        let Named { mut out, seen } = fields;
        // HAR's parsed copies (query string, cookies) are searched only for
        // what the URL and headers do not hold: a tool that strips those
        // may keep the copies.
        let mut copies = Vec::new();
        for [side, member] in COPIES {
            // What the copy was parsed from: the URL, or the cookie headers.
            let source = |f: &Field| match member {
                "queryString" => f.part == "request URL",
                _ if side == "request" => f.part.eq_ignore_ascii_case("request header Cookie"),
                _ => f.part.eq_ignore_ascii_case("response header Set-Cookie"),
            };
            // As written and percent-decoded: the query string holds the
            // URL's parameters decoded (`Bearer%20eyJ` is `Bearer eyJ`).
            let named_texts: Vec<Cow<'_, str>> = out
                .iter()
                .filter(|f| source(f))
                .flat_map(|f| {
                    let decoded = percent_encoding::percent_decode_str(&f.text)
                        .decode_utf8_lossy()
                        .into_owned();
                    // A form-encoded space, as some tools decode it.
                    let spaced = decoded.replace('+', " ");
                    [
                        Cow::Borrowed(f.text.as_ref()),
                        Cow::Owned(decoded),
                        Cow::Owned(spaced),
                    ]
                })
                .collect();
            let items = v
                .get(side)
                .and_then(|x| x.get(member))
                .and_then(Value::as_array);
            for item in items.into_iter().flatten() {
                let Some(t) = item.get("value").and_then(Value::as_str) else {
                    continue;
                };
                if memchr::memmem::find(t.as_bytes(), b"eyJ").is_none()
                    || named_texts.iter().any(|n| n.contains(t))
                {
                    continue;
                }
                let name = item.get("name").and_then(Value::as_str).unwrap_or("?");
                let what = if member == "queryString" {
                    "query parameter"
                } else {
                    "cookie"
                };
                copies.push(Field {
                    part: format!("{side} {what} {}", redact(name)).into(),
                    text: Cow::Borrowed(t),
                });
            }
        }
        out.extend(copies);
        other_strings(v, &mut Vec::new(), &seen, &mut out);
        out
    }
}

/// The fields handed out under their HAR names, and the strings they were
/// taken from (by address), which the walk over the rest leaves alone.
#[derive(Default)]
struct Named<'a> {
    out: Vec<Field<'a>>,
    seen: std::collections::HashSet<*const u8>,
}

impl<'a> Named<'a> {
    fn add(&mut self, part: Cow<'static, str>, text: Option<&'a str>) {
        if let Some(t) = text.filter(|t| !t.is_empty()) {
            self.seen.insert(t.as_ptr());
            self.out.push(Field {
                part,
                text: Cow::Borrowed(t),
            });
        }
    }
}

/// HAR's own copies of what the named fields hold: the query string of the
/// request URL and the cookies of the Cookie / Set-Cookie headers (a token
/// there would be counted twice).
const COPIES: [[&str; 2]; 3] = [
    ["request", "queryString"],
    ["request", "cookies"],
    ["response", "cookies"],
];

/// One step of a JSON path inside an entry.
enum Step<'a> {
    Member(&'a str),
    Index(usize),
}

/// Hand out each string under `v` that may hold a token and was not named.
fn other_strings<'a>(
    v: &'a Value,
    path: &mut Vec<Step<'a>>,
    named: &std::collections::HashSet<*const u8>,
    out: &mut Vec<Field<'a>>,
) {
    match v {
        Value::String(t)
            if !named.contains(&t.as_ptr())
                && memchr::memmem::find(t.as_bytes(), b"eyJ").is_some() =>
        {
            out.push(Field {
                part: path_part(path).into(),
                text: Cow::Borrowed(t),
            });
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                path.push(Step::Index(i));
                other_strings(x, path, named, out);
                path.pop();
            }
        }
        Value::Object(o) => {
            for (k, x) in o {
                if let [Step::Member(parent)] = path.as_slice()
                    && COPIES.contains(&[*parent, k.as_str()])
                {
                    continue;
                }
                path.push(Step::Member(k));
                // A tool may key a map by token (a cache, a session list).
                if memchr::memmem::find(k.as_bytes(), b"eyJ").is_some() {
                    out.push(Field {
                        part: format!("{} (its name)", path_part(path)).into(),
                        text: Cow::Borrowed(k),
                    });
                }
                other_strings(x, path, named, out);
                path.pop();
            }
        }
        _ => {}
    }
}

/// A field's name from its JSON path in the entry: `field a.b[2].c`, or
/// `the entry itself` for an entry that is a bare string (not the object
/// HAR says).
fn path_part(path: &[Step<'_>]) -> String {
    let mut part = String::from(if path.is_empty() {
        "the entry itself"
    } else {
        "field "
    });
    for (i, step) in path.iter().enumerate() {
        match step {
            Step::Member(m) => {
                if i > 0 {
                    part.push('.');
                }
                // A member's name may be a token too.
                part.push_str(&redact(m));
            }
            Step::Index(n) => part.push_str(&format!("[{n}]")),
        }
    }
    part
}

/// Stream the entries of a HAR document to `f`, one at a time, in order.
/// Returns the number of entries seen; a JSON error says where parsing
/// stopped (entries before it were already handed out).
pub fn each_entry<R: Read>(
    reader: R,
    mut f: impl FnMut(Entry),
) -> Result<u64, (u64, serde_json::Error)> {
    let mut de = serde_json::Deserializer::from_reader(reader);
    let mut count = 0u64;
    let res = Member {
        name: "log",
        what: "a HAR document (an object with a log member)",
        inner: Member {
            name: "entries",
            what: "the HAR log object",
            inner: Entries {
                f: &mut f,
                count: &mut count,
            },
        },
    }
    .deserialize(&mut de)
    .and_then(|()| de.end());
    match res {
        Ok(()) => Ok(count),
        Err(e) => Err((count, e)),
    }
}

/// Visits an object and hands the value of one member to `inner`, skipping
/// the others: `{"log": {"entries": [...]}}` is two of these around `Entries`.
struct Member<S> {
    name: &'static str,
    what: &'static str,
    inner: S,
}

impl<'de, S: DeserializeSeed<'de, Value = ()>> DeserializeSeed<'de> for Member<S> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, S: DeserializeSeed<'de, Value = ()>> Visitor<'de> for Member<S> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.what)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut inner = Some(self.inner);
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match inner.take() {
                Some(seed) if key == self.name => map.next_value_seed(seed)?,
                other => {
                    inner = other;
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct Entries<'a, F> {
    f: &'a mut F,
    count: &'a mut u64,
}

impl<'de, F: FnMut(Entry)> DeserializeSeed<'de> for Entries<'_, F> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, F: FnMut(Entry)> Visitor<'de> for Entries<'_, F> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the HAR entries array")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(value) = seq.next_element::<Value>()? {
            (self.f)(Entry {
                index: *self.count,
                value,
            });
            *self.count += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_har() {
        assert!(sniff(br#"{"log":{}}"#));
        assert!(sniff(b"\xef\xbb\xbf{\n  \"log\": {"));
        assert!(!sniff(br#"{"access_token":"x"}"#));
        assert!(!sniff(b"2026-03-02 log line"));
        // A quoted value in a parse error is never shown.
        let e = serde_json::from_str::<std::collections::BTreeMap<String, u8>>(
            r#"{"a":"Bearer eyJhbGciOiJub25lIn0.eyJhIjoxfQ.sig \" more"}"#,
        )
        .unwrap_err();
        let quiet = quiet_error(&e);
        assert!(
            quiet.starts_with("invalid type: string \"…\", expected u8"),
            "{quiet}"
        );
        assert!(!quiet.contains("eyJ"), "{quiet}");
        // Docker's json-file log: a "log" member that is a string.
        assert!(!sniff(
            br#"{"log":"GET /x Authorization: Bearer eyJ...\n","stream":"stdout"}"#
        ));
        // Filebeat / Elastic (ECS) JSON lines: a "log" object of other members.
        assert!(!sniff(
            br#"{"log":{"level":"debug","logger":"auth"},"message":"Bearer eyJ"}"#
        ));
        assert!(!sniff(br#"{"log":{"file":{"path":"/var/log/app.log"}}}"#));
        for har in [
            &br#"{"log":{"version":"1.2","creator":{}}}"#[..],
            b"{\n  \"log\": {\n    \"creator\": {",
            br#"{"log":{"entries":[]}}"#,
            br#"{"log":{"_exportedBy":"tool"}}"#,
            // The prefix ends inside the first name.
            br#"{"log":{"vers"#,
        ] {
            assert!(sniff(har), "{}", String::from_utf8_lossy(har));
        }
    }

    #[test]
    fn a_form_body_is_searched_once_and_urls_lose_their_credentials() {
        let har = r#"{"log":{"entries":[
          {"request":{"method":"POST","url":"https://svc:S3cr3t%40x@proxy.example/oauth2/token?x=1",
            "postData":{"mimeType":"application/x-www-form-urlencoded","text":"assertion=eyJT&scope=s",
              "params":[{"name":"assertion","value":"eyJT"},{"name":"scope","value":"s"}]}}},
          {"request":{"method":"POST","url":"https://a.example/","postData":{"params":[{"name":"assertion","value":"P"}]}}},
          {"request":{"method":"POST","url":"https://a.example/","postData":{"text":"[body omitted]","params":[{"name":"assertion","value":"eyJQ"}]}}}
        ]}}"#;
        let mut seen = Vec::new();
        each_entry(har.as_bytes(), |e| {
            let bodies: Vec<String> = e
                .fields()
                .into_iter()
                .filter(|f| f.part.contains("body") || f.part.contains("params"))
                .map(|f| f.text.into_owned())
                .collect();
            seen.push((e.url(), bodies));
        })
        .unwrap();
        assert_eq!(seen[0].0, "https://proxy.example/oauth2/token");
        assert_eq!(seen[0].1, ["assertion=eyJT&scope=s"]);
        // Without the text, the params are the body; so is a param the
        // text does not hold.
        assert_eq!(seen[1].1, ["P"]);
        assert_eq!(seen[2].1, ["[body omitted]", "eyJQ"]);
        assert_eq!(
            crate::http::without_userinfo("https://host/a@b"),
            "https://host/a@b"
        );
        assert_eq!(
            crate::http::without_userinfo("no-scheme@host"),
            "no-scheme@host"
        );
    }

    #[test]
    fn streams_entries_and_their_fields() {
        let har = r#"{"log":{"version":"1.2","pages":[{"id":"p"}],"entries":[
          {"request":{"method":"GET","url":"https://a.example/x?access_token=secret","headers":[{"name":"Authorization","value":"Bearer abc"}]},
           "response":{"content":{"text":"aGVsbG8=","encoding":"base64"}}},
          {"request":{"method":"POST","url":"https://b.example/token","postData":{"text":"grant_type=x"}},"response":{"content":{"text":"{}"}}}
        ]}}"#;
        let mut seen = Vec::new();
        let jwt = "eyJhbGciOiJub25lIn0.eyJhIjoxfQ.";
        let har = har.replace(
            "https://b.example/token",
            &format!("https://b.example/cb/{jwt}/x"),
        );
        let n = each_entry(har.as_bytes(), |e| {
            let fields: Vec<(String, String)> = e
                .fields()
                .into_iter()
                .map(|f| (f.part.into_owned(), f.text.into_owned()))
                .collect();
            seen.push((e.index, e.method().to_string(), e.url(), fields));
        })
        .unwrap();
        assert_eq!(n, 2);
        assert_eq!(seen[0].2, "https://a.example/x");
        assert!(
            seen[0]
                .3
                .contains(&("request header Authorization".into(), "Bearer abc".into()))
        );
        assert!(
            seen[0]
                .3
                .contains(&("response body (base64)".into(), "hello".into()))
        );
        assert_eq!(seen[1].1, "POST");
        assert_eq!(seen[1].2, "https://b.example/cb/<token>/x");
        assert!(
            seen[1]
                .3
                .contains(&("request body".into(), "grant_type=x".into()))
        );
    }

    #[test]
    fn a_method_is_shown_only_when_it_is_one() {
        assert_eq!(shown_method(Some("PATCH")), "PATCH");
        assert_eq!(shown_method(Some("eyJhbGciOiJub25lIn0.eyJhIjoxfQ.")), "");
        assert_eq!(shown_method(Some("GET /x")), "");
        assert_eq!(shown_method(None), "");
    }

    #[test]
    fn truncated_har_reports_entries_before_the_error() {
        let har = r#"{"log":{"entries":[{"request":{"url":"u"}},{"request":"#;
        let mut n = 0;
        let err = each_entry(har.as_bytes(), |_| n += 1).unwrap_err();
        assert_eq!(n, 1);
        assert_eq!(err.0, 1);
    }
}
