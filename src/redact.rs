//! Hiding credentials in text a user pasted (an error body, a curl or MSAL
//! trace), where mdeauth does not know the secrets it may hold: they are
//! recognised by shape and by the names they travel under.

use std::borrow::Cow;

/// Names whose value is a credential, letters only: matched whatever the
/// letter case and with `_` or `-` between letters (`client_secret`,
/// `clientSecret`, `AZURE_CLIENT_SECRET`, `--client-secret`). The flag says
/// whether `name: value` counts too, besides `name=value` and a `--name`
/// flag's `--name value`: in prose "token:" or "secret:" is followed by
/// words, and in JSON `"code"` names error codes.
const NAMES: [(&str, bool); 21] = [
    ("accesstoken", true),
    ("accountkey", true),
    ("apikey", true),
    ("assertion", true),
    ("clientassertion", true),
    ("clientcredential", true),
    ("clientsecret", true),
    ("code", false),
    ("devicecode", true),
    ("idtoken", true),
    ("passwd", false),
    ("password", true),
    ("pwd", false),
    ("refreshtoken", true),
    ("secret", false),
    ("sharedaccesskey", true),
    ("sharedaccesssignature", true),
    ("sig", false),
    ("token", false),
    ("usercode", false),
    ("xidentityheader", true),
];

/// Names that may follow `_` or `-` inside a longer name
/// (`AZURE_CLIENT_SECRET`): the others there are part of something else
/// (`error_code`, `status_code`, `x-ms-token-…`).
fn compound(canon: &str) -> bool {
    canon.len() > 8 || canon == "password"
}

/// A run of base64url characters this long is a signature, a secret or a
/// token segment, not a word, a GUID (36) or an AADSTS code.
const LONG_RUN: usize = 40;

/// A run holding `~` this long is an Entra client secret (40 characters,
/// `~` in the first few), not a word.
const SECRET_RUN: usize = 30;

fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// The end of the value starting at `at`: up to a delimiter of query
/// strings, form bodies, JSON or prose.
fn value_end(b: &[u8], at: usize) -> usize {
    b[at..]
        .iter()
        .position(|c| {
            c.is_ascii_whitespace()
                || matches!(
                    c,
                    b'&' | b'"' | b'\'' | b',' | b';' | b'}' | b')' | b'<' | b'\\'
                )
        })
        .map_or(b.len(), |n| at + n)
}

/// The end of `canon` spelt from `start` (any letter case, `_` or `-`
/// allowed between letters), when a name ends there.
fn name_end(b: &[u8], start: usize, canon: &str) -> Option<usize> {
    let mut i = start;
    for (k, want) in canon.bytes().enumerate() {
        if k > 0 && matches!(b.get(i), Some(b'_') | Some(b'-')) {
            i += 1;
        }
        if !b.get(i)?.eq_ignore_ascii_case(&want) {
            return None;
        }
        i += 1;
    }
    // Not the start of a longer name (`codes`, `tokens`).
    (!b.get(i).is_some_and(|c| c.is_ascii_alphanumeric())).then_some(i)
}

/// Where the value of a credential named at `start` begins: after `name=`,
/// `"name": "` (when `colon`), or `--name ` for a flag; `None` when no
/// value follows.
fn value_start(b: &[u8], start: usize, (canon, colon): (&str, bool)) -> Option<usize> {
    let mut i = name_end(b, start, canon)?;
    // A JSON member name (`"secret": "x"`: the name closed by its quote)
    // is no prose word; `"code"` names error codes there.
    let quoted =
        start >= 1 && matches!(b[start - 1], b'"' | b'\'') && b.get(i) == Some(&b[start - 1]);
    let colon = colon || (quoted && canon != "code");
    let dashes = if start >= 2 && &b[start - 2..start] == b"--" {
        2
    } else {
        // A lone `-` after a blank (or first): not `X-Password`.
        usize::from(
            start >= 1
                && b[start - 1] == b'-'
                && (start == 1 || b[start - 2].is_ascii_whitespace()),
        )
    };
    // `--name value`, and PowerShell's `-Password value` for the names
    // that are never words of prose.
    let flag = dashes == 2 || (dashes == 1 && colon && !quoted);
    // A closing quote of a JSON member name (escaped, `\"`, in JSON written
    // into a JSON string), and blanks before its colon (`"password" : "x"`,
    // as Jackson and Format-List write it).
    if colon && b.get(i) == Some(&b'\\') && b.get(i + 1) == Some(&b'"') {
        i += 1;
    }
    if colon && matches!(b.get(i), Some(b'"') | Some(b'\'')) {
        i += 1;
        let j = skip_blanks(b, i);
        if b.get(j) == Some(&b':') {
            i = j;
        }
    }
    // `NAME = value` (PowerShell's `$env:AZURE_PASSWORD = "x"`, code),
    // for the names that are never words of prose.
    if colon && !flag && b.get(i) == Some(&b' ') {
        let j = skip_blanks(b, i);
        if b.get(j) == Some(&b'=') {
            i = j;
        }
    }
    match b.get(i) {
        // `=`, or Ruby's and PHP's `=>`.
        Some(b'=') => i += 1 + usize::from(b.get(i + 1) == Some(&b'>')),
        Some(b':') if colon => i += 1,
        Some(b' ') if flag => {}
        _ => return None,
    }
    let mut opened = false;
    while matches!(b.get(i), Some(b' ' | b'\t' | b'"' | b'\'' | b'\\')) {
        opened |= !matches!(b[i], b' ' | b'\t');
        i += 1;
    }
    if i >= b.len() {
        return None;
    }
    let word = &b[i..value_end(b, i)];
    // JSON's null, true and false are no secrets; nor is the word after a
    // PowerShell parameter named in prose (`the -ClientSecret parameter`),
    // nor the working directory in an environment dump (`PWD=/home/a`).
    let unquoted_word = |w: &[u8]| !opened && !w.is_empty() && w.iter().all(u8::is_ascii_lowercase);
    if (!opened && matches!(word, b"null" | b"true" | b"false"))
        || (dashes == 1 && unquoted_word(word))
        || (canon == "pwd" && matches!(word.first(), Some(b'/' | b'~')))
        // An AADSTS error code, not an authorization code.
        || (canon == "code" && !word.is_empty() && word.iter().all(u8::is_ascii_digit))
    {
        return None;
    }
    Some(i)
}

/// The value of an `Authorization` scheme at `i` (`Bearer x`, `Basic x`).
fn scheme_value(b: &[u8], i: usize) -> Option<usize> {
    let rest = &b[i..];
    if rest.len() > 7
        && rest[..6].eq_ignore_ascii_case(b"bearer")
        && matches!(rest[6], b' ' | b'\t')
    {
        return Some(i + 7);
    }
    if rest.len() > 6 && rest[..6].eq_ignore_ascii_case(b"basic ") {
        // Base64 of user:password, not the word after "basic" in prose.
        let v = &rest[6..value_end(rest, 6)];
        let encoded = v.len() >= 8
            && v.iter()
                .all(|c| c.is_ascii_alphanumeric() || b"+/=".contains(c))
            && v.iter().any(|c| c.is_ascii_digit() || b"+/=".contains(c));
        return encoded.then_some(i + 6);
    }
    None
}

/// When the value at `v` follows a quote, the end of the quoted text
/// (before the closing quote, on the same line): a quoted password may
/// hold spaces.
fn quoted_end(b: &[u8], v: usize) -> Option<usize> {
    let q = *b.get(v.checked_sub(1)?)?;
    if q != b'"' && q != b'\'' {
        return None;
    }
    // Opened by an escaped quote (JSON written into a JSON string: `\"x\"`),
    // the value ends at the next escaped quote; otherwise a quote escaped
    // with a backslash (`"a\"b"`) is inside the value.
    let escaped_open = v >= 2 && b[v - 2] == b'\\';
    let mut at = v;
    loop {
        let n = b[at..].iter().position(|&c| c == q || c == b'\n')?;
        let k = at + n;
        if b[k] == b'\n' {
            return None;
        }
        // An odd number of backslashes escapes it (`\\"` ends the value).
        let escaped = b[v..k].iter().rev().take_while(|c| **c == b'\\').count() % 2 == 1;
        match (escaped_open, escaped) {
            (true, true) => return Some(k - 1),
            (false, false) => return Some(k),
            _ => at = k + 1,
        }
    }
}

/// A URL's `user:password@` at `i` (which starts `://`): the password's
/// start and end.
fn userinfo_password(b: &[u8], i: usize) -> Option<(usize, usize)> {
    if !b[i..].starts_with(b"://") {
        return None;
    }
    let from = i + 3;
    let end = b[from..]
        .iter()
        .position(|c| c.is_ascii_whitespace() || b"/?#\"'<>".contains(c))
        .map_or(b.len(), |n| from + n);
    let at = b[from..end].iter().rposition(|&c| c == b'@')? + from;
    let colon = b[from..at].iter().position(|&c| c == b':')? + from;
    Some((colon + 1, at))
}

/// An XML element named for a credential at `i` (`<password>x</password>`,
/// `<ClientSecret>`): its text's start and end.
fn xml_element(b: &[u8], i: usize) -> Option<(usize, usize)> {
    if b.get(i) != Some(&b'<') {
        return None;
    }
    let end = NAMES
        .iter()
        .filter(|(_, colon)| *colon)
        .find_map(|(n, _)| name_end(b, i + 1, n))?;
    if b.get(end) != Some(&b'>') {
        return None;
    }
    let v = end + 1;
    let n = memchr::memchr2(b'<', b'\n', &b[v..]).unwrap_or(b.len() - v);
    Some((v, v + n))
}

/// `j` moved past blanks (spaces and tabs).
fn skip_blanks(b: &[u8], mut j: usize) -> usize {
    while matches!(b.get(j), Some(b' ' | b'\t')) {
        j += 1;
    }
    j
}

/// Whether `name` (lower case) is spelt at `i`, in any letter case.
fn starts_ci(b: &[u8], i: usize, name: &[u8]) -> bool {
    b.len() >= i + name.len() && b[i..i + name.len()].eq_ignore_ascii_case(name)
}

/// The value at `j`: quoted (to its closing quote on the line) or bare (to
/// [`value_end`]; also after a quote that is never closed), as its start,
/// its end and whether a closing quote ends it.
fn value_at(b: &[u8], j: usize) -> (usize, usize, bool) {
    if matches!(b.get(j), Some(b'"' | b'\'')) {
        return match quoted_end(b, j + 1) {
            Some(end) => (j + 1, end, true),
            None => (j + 1, value_end(b, j + 1), false),
        };
    }
    (j, value_end(b, j), false)
}

/// Calls that take a credential as a positional argument, with the
/// position (from 0) of that argument: Azure Identity's
/// `ClientSecretCredential` (tenant, client, secret), ADAL's
/// `ClientCredential` (client, secret) and MSAL.NET's `WithClientSecret`.
/// `None`: the SDKs order the arguments differently, so every one that is
/// not a GUID is taken for the credential (`UsernamePasswordCredential`:
/// .NET username, password, tenant, client; Python client, username,
/// password; JavaScript tenant, client, username, password).
const CALLS: [(&str, Option<usize>); 4] = [
    ("clientsecretcredential(", Some(2)),
    ("usernamepasswordcredential(", None),
    ("clientcredential(", Some(1)),
    ("withclientsecret(", Some(0)),
];

/// The credential arguments of a call in [`CALLS`] named at `i`: each
/// one's start and end (quotes excluded), and where the search goes on.
/// Keyword arguments are left to the credential names (`client_secret=`).
/// A C# named argument (`clientSecret: "x"`) is judged by its name, not
/// its position: named arguments may come in any order.
fn call_arguments(b: &[u8], i: usize) -> Option<(Vec<(usize, usize)>, usize)> {
    let &(name, pos) = CALLS.iter().find(|(n, _)| starts_ci(b, i, n.as_bytes()))?;
    // A call's arguments fit in a few KB: no further is read, so text of
    // many call names with no delimiter after them stays linear.
    let b = &b[..b.len().min(i + 4096)];
    let mut j = i + name.len();
    let mut found = Vec::new();
    let mut last = None;
    for k in 0.. {
        let (mut v, mut end, mut quoted) = value_at(b, skip_blanks(b, j));
        let mut label = None;
        if !quoted && end > v && b[end - 1] == b':' {
            label = Some(&b[v..end - 1]);
            (v, end, quoted) = value_at(b, skip_blanks(b, end));
        }
        // A keyword argument (`client_secret=x`): the names see to it.
        if !quoted && b[v..end].contains(&b'=') {
            break;
        }
        last = Some(end);
        let secret = match label {
            Some(l) => credential_label(l),
            None => match pos {
                Some(p) => k == p,
                None => !crate::guid::is_guid(&String::from_utf8_lossy(&b[v..end])),
            },
        };
        if secret && end > v {
            found.push((v, end));
        }
        j = skip_blanks(b, end + usize::from(quoted));
        if b.get(j) != Some(&b',') {
            break;
        }
        j += 1;
    }
    if found.is_empty() {
        return None;
    }
    Some((found, last.unwrap_or(j)))
}

/// Whether a named argument's label names a credential (`clientSecret`,
/// `secret`, `password`...), whatever its letter case and separators.
fn credential_label(label: &[u8]) -> bool {
    let canon: String = label
        .iter()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| char::from(c.to_ascii_lowercase()))
        .collect();
    NAMES.iter().any(|(n, _)| *n == canon)
}

/// The line a position is on, and which commands it runs: worked out once
/// per line as the scan moves forward, so long lines stay linear.
#[derive(Default)]
struct Line {
    /// Where the current line starts, and how far the text was searched
    /// for line breaks.
    start: usize,
    searched: usize,
    /// Whether the line runs `az login` / `curl` (`None`: not looked yet).
    az: Option<bool>,
    curl: Option<bool>,
}

impl Line {
    fn at(&mut self, b: &[u8], i: usize) {
        if let Some(n) = memchr::memrchr(b'\n', &b[self.searched..i]) {
            *self = Line {
                start: self.searched + n + 1,
                ..Line::default()
            };
        }
        self.searched = i;
    }

    fn runs(b: &[u8], start: usize, cmd: &[u8], known: &mut Option<bool>) -> bool {
        *known.get_or_insert_with(|| {
            let end = memchr::memchr(b'\n', &b[start..]).map_or(b.len(), |n| start + n);
            b[start..end]
                .windows(cmd.len())
                .any(|w| w.eq_ignore_ascii_case(cmd))
        })
    }
}

/// `-p VALUE` of `az login` and `-u USER:PASSWORD` (or `--user`) of curl,
/// at `i`: the password's start and end. Only on a line that runs that
/// command: elsewhere `-p` is a port or a path as often as a password.
fn short_flag(b: &[u8], i: usize, line: &mut Line) -> Option<(usize, usize)> {
    let rest = &b[i..];
    let (flag, user, cmd): (usize, bool, &[u8]) =
        if rest.starts_with(b"-p ") || rest.starts_with(b"-p=") {
            (3, false, b"az login")
        } else if rest.starts_with(b"-u ") {
            (3, true, b"curl")
        } else if rest.starts_with(b"--user ") {
            (7, true, b"curl")
        } else {
            return None;
        };
    line.at(b, i);
    let known = if user { &mut line.curl } else { &mut line.az };
    if !Line::runs(b, line.start, cmd, known) {
        return None;
    }
    let (v, end, _) = value_at(b, skip_blanks(b, i + flag));
    if user {
        // curl: user:password; the user name is kept.
        let colon = b[v..end].iter().position(|&c| c == b':')?;
        return Some((v + colon + 1, end));
    }
    Some((v, end))
}

/// PowerShell's cmdlet that turns plain text into a secure string.
const SECURE_STRING: &[u8] = b"convertto-securestring";

/// PowerShell's `ConvertTo-SecureString` at `i`: its plain-text string,
/// given by position or as `-String`, whatever switches come before it.
fn secure_string(b: &[u8], i: usize) -> Option<(usize, usize)> {
    if !starts_ci(b, i, SECURE_STRING) {
        return None;
    }
    let mut j = i + SECURE_STRING.len();
    let mut named = false;
    loop {
        j = skip_blanks(b, j);
        if matches!(b.get(j), None | Some(b'\n' | b';' | b'|' | b')')) {
            return None;
        }
        let (v, end, quoted) = value_at(b, j);
        if !quoted && b[j] == b'-' && !named {
            let switch = &b[j..end];
            // `-String x`; `-Key x` and `-SecureKey x` take a value that is
            // not the secret; other switches (-AsPlainText, -Force) none.
            named = switch.eq_ignore_ascii_case(b"-string");
            j = if switch.eq_ignore_ascii_case(b"-key")
                || switch.eq_ignore_ascii_case(b"-securekey")
            {
                value_end(b, skip_blanks(b, end))
            } else {
                end
            };
            continue;
        }
        return (end > v).then_some((v, end));
    }
}

/// A quoted string at `i` piped into `ConvertTo-SecureString`
/// (`'secret' | ConvertTo-SecureString -AsPlainText`): its text.
fn piped_to_secure_string(b: &[u8], i: usize) -> Option<(usize, usize)> {
    // Only at a quote: [`value_at`] would otherwise look for the end of a
    // bare value from every position, quadratic on text with no delimiter.
    if !matches!(b.get(i), Some(b'"' | b'\'')) {
        return None;
    }
    let (v, end, true) = value_at(b, i) else {
        return None;
    };
    let j = skip_blanks(b, end + 1);
    (b.get(j) == Some(&b'|') && starts_ci(b, skip_blanks(b, j + 1), SECURE_STRING))
        .then_some((v, end))
}

/// `text` with each credential replaced where it can be recognised: a
/// JWT-shaped run (`eyJ…` with a dot) by `[token]`; the value after a
/// credential's name (`client_secret=`, `"password": "`, `--password x`,
/// `Bearer `, `Basic `), a run of 30 or more characters holding `~` (an
/// Entra client secret) and a base64url run of 40 or more that is not all
/// hexadecimal (a thumbprint or hash is kept) by `[hidden]`, and so are
/// the credential arguments of the calls in [`CALLS`], `az login -p`,
/// `curl -u user:` (see [`short_flag`]) and the string given to
/// `ConvertTo-SecureString` ([`secure_string`]). A quoted value is hidden to its
/// closing quote, an unquoted one up to its first space. Borrowed when
/// nothing was found.
pub fn hide_credentials(text: &str) -> Cow<'_, str> {
    let b = text.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut i = 0;
    let mut line = Line::default();
    let mut replace = |from: usize, to: usize, with: &str, copied: &mut usize| {
        let o = out.get_or_insert_with(|| String::with_capacity(text.len()));
        o.push_str(&text[*copied..from]);
        o.push_str(with);
        *copied = to;
    };
    while i < b.len() {
        if let Some((v, end)) = userinfo_password(b, i) {
            if end > v && b[v] != b'[' {
                replace(v, end, "[hidden]", &mut copied);
            }
            i = end.max(i + 1);
            continue;
        }
        // Only where a name can start: not inside a word.
        if i > 0 && b[i - 1].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let inside = i > 0 && matches!(b[i - 1], b'_' | b'-') && !(i >= 2 && &b[i - 2..i] == b"--");
        let named = NAMES
            .iter()
            .filter(|(n, _)| !inside || compound(n))
            .find_map(|&n| value_start(b, i, n))
            .or_else(|| scheme_value(b, i));
        if let Some(v) = named {
            let end = quoted_end(b, v).unwrap_or_else(|| value_end(b, v));
            // `[redacted]`: already blanked by who knew the secret.
            if end > v && b[v] != b'[' {
                replace(v, end, "[hidden]", &mut copied);
            }
            i = end.max(i + 1);
            continue;
        }
        if let Some((args, end)) = call_arguments(b, i) {
            for (v, e) in args {
                if e > v && b[v] != b'[' {
                    replace(v, e, "[hidden]", &mut copied);
                }
            }
            i = end.max(i + 1);
            continue;
        }
        if let Some((v, end)) = secure_string(b, i)
            .or_else(|| xml_element(b, i))
            .or_else(|| piped_to_secure_string(b, i))
            .or_else(|| short_flag(b, i, &mut line))
        {
            if end > v && b[v] != b'[' {
                replace(v, end, "[hidden]", &mut copied);
            }
            i = end.max(i + 1);
            continue;
        }
        let word_start = i == 0 || !(is_b64url(b[i - 1]) || b[i - 1] == b'.');
        if word_start && (is_b64url(b[i]) || b[i] == b'~') {
            // A run of token and secret characters, dots and `~` included.
            let end = b[i..]
                .iter()
                .position(|&c| !(is_b64url(c) || c == b'.' || c == b'~'))
                .map_or(b.len(), |n| i + n);
            // A sentence's full stop is not part of the run.
            let run_end = end - b[i..end].iter().rev().take_while(|&&c| c == b'.').count();
            let run = &b[i..run_end];
            let jwt = run.starts_with(b"eyJ") && run.contains(&b'.');
            let secret = run.len() >= SECRET_RUN && run.contains(&b'~');
            // Not a hexadecimal thumbprint or hash, nor a host name or a
            // certificate's name (lower case, words joined by hyphens).
            let words = |seg: &[u8]| {
                !seg.iter().any(u8::is_ascii_uppercase)
                    && seg.iter().filter(|&&c| c == b'-').count() >= 2
            };
            let long = run.split(|&c| c == b'.' || c == b'~').any(|seg| {
                seg.len() >= LONG_RUN && !seg.iter().all(|c| c.is_ascii_hexdigit()) && !words(seg)
            });
            if jwt || secret || long {
                let with = if jwt { "[token]" } else { "[hidden]" };
                replace(i, run_end, with, &mut copied);
                i = end;
                continue;
            }
            // Names may start inside the run (`AZURE_CLIENT_SECRET`, `--password`).
        }
        i += 1;
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut o) => {
            o.push_str(&text[copied..]);
            Cow::Owned(o)
        }
    }
}

/// `text` with the bearer token `token` taken out: every run of token
/// characters (base64url and dots) of 16 or more, dots at its ends aside,
/// that is part of the token, holds it, or holds its signature becomes
/// `[token]`, so neither a whole echo nor a cut one shows the credential.
pub fn scrub_token(text: &str, token: &str) -> String {
    let is_token_char = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.');
    let signature = token.rsplit('.').next().filter(|s| s.len() >= 16);
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let (mut i, mut copied) = (0, 0);
    while i < bytes.len() {
        if !is_token_char(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_token_char(bytes[i]) {
            i += 1;
        }
        // Dots around a run are punctuation (an ellipsis), kept as written.
        let lead = text[start..i].len() - text[start..i].trim_start_matches('.').len();
        let run = text[start + lead..i].trim_end_matches('.');
        if run.len() >= 16
            && (token.contains(run)
                || run.contains(token)
                || signature.is_some_and(|s| run.contains(s)))
        {
            out.push_str(&text[copied..start + lead]);
            out.push_str("[token]");
            copied = start + lead + run.len();
        }
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::hide_credentials as hide;

    #[test]
    fn text_without_delimiters_is_read_once() {
        // Each position used to look for the end of a bare value: 256 KB
        // runs of `$`, `{` or `x=` took half a minute, the 2 MB body cap
        // about half an hour.
        for unit in [
            "$",
            "{",
            "x=",
            "/",
            "-",
            "ClientSecretCredential(",
            "clientcredential(",
        ] {
            let text = unit.repeat((256 << 10) / unit.len());
            assert_eq!(hide(&text), text.as_str(), "{unit}");
        }
    }

    #[test]
    fn named_values_tokens_and_long_runs_are_hidden() {
        let jwt = "eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJ4In0.c2lnbmF0dXJl";
        assert_eq!(
            hide(&format!("Bearer {jwt} and {jwt}.")),
            "Bearer [hidden] and [token]."
        );
        assert_eq!(
            hide("client_secret=Qz8Q~kP3vLmN7rT2&grant_type=client_credentials"),
            "client_secret=[hidden]&grant_type=client_credentials"
        );
        assert_eq!(hide("client_secret=[redacted]"), "client_secret=[redacted]");
        assert_eq!(
            hide(r#"{"password": "Hunter2!", "username":"a@b.c"}"#),
            r#"{"password": "[hidden]", "username":"a@b.c"}"#
        );
        assert_eq!(
            hide("https://app/cb?code=0.AXyz-abc&state=1#access_token=abc.def"),
            "https://app/cb?code=[hidden]&state=1#access_token=[hidden]"
        );
        let long = "Zq9".repeat(15);
        assert_eq!(hide(&format!("sig {long} end")), "sig [hidden] end");
        // Other spellings of the names, flags, schemes and bare secrets.
        assert_eq!(
            hide("AZURE_CLIENT_SECRET=abc clientSecret: def --password hunter2 --client-secret=x"),
            "AZURE_CLIENT_SECRET=[hidden] clientSecret: [hidden] --password [hidden] --client-secret=[hidden]"
        );
        assert_eq!(
            hide("X-IDENTITY-HEADER: HdrS3cret-77 AZURE_PASSWORD=pw1"),
            "X-IDENTITY-HEADER: [hidden] AZURE_PASSWORD=[hidden]"
        );
        assert_eq!(
            hide("Authorization: Basic dXNlcjpwYXNzd29yZA== sent"),
            "Authorization: Basic [hidden] sent"
        );
        assert_eq!(
            hide("Secret used: abC8Q~kP3vLmN7rT2wXy5aBcDeFgHiJkLmNoPqRs."),
            "Secret used: [hidden]."
        );
    }

    #[test]
    fn more_shapes_credentials_travel_in() {
        // Jackson's and Format-List's blank before the colon, any quoted
        // member name but "code", short names, PowerShell parameters, URL
        // user info, connection strings and XML.
        assert_eq!(
            hide(
                r#"body={"username" : "a@b.c", "password" : "Summer2026!Pass", "secret": "s3"} "code": "InvalidAuthenticationToken""#
            ),
            r#"body={"username" : "a@b.c", "password" : "[hidden]", "secret": "[hidden]"} "code": "InvalidAuthenticationToken""#
        );
        assert_eq!(
            hide("pwd=Autumn2026Pass passwd=x2 api_key=k3 apiKey: k4"),
            "pwd=[hidden] passwd=[hidden] api_key=[hidden] apiKey: [hidden]"
        );
        assert_eq!(
            hide("Connect -Password Spring2026Pass -ClientSecret 'a b' -Name x"),
            "Connect -Password [hidden] -ClientSecret '[hidden]' -Name x"
        );
        assert_eq!(
            hide(
                "proxy=http://svc:Winter2026Pass@proxy.contoso.com:8080 and https://host.example/a@b"
            ),
            "proxy=http://svc:[hidden]@proxy.contoso.com:8080 and https://host.example/a@b"
        );
        assert_eq!(
            hide(
                "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=Zm9v+YmFy==;EndpointSuffix=x"
            ),
            "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=[hidden];EndpointSuffix=x"
        );
        assert_eq!(
            hide("<user>a</user><password>hunter 2</password>"),
            "<user>a</user><password>[hidden]</password>"
        );
        // Prose, paths, environment dumps and JSON's literals keep their
        // words.
        for text in [
            "the secret: rotate it; X-Password-Policy: strict; run pwd first",
            "cat: /etc/passwd: No such file",
            "PWD=/home/alice/project",
            "use the -ClientSecret parameter",
            "\"Secret: the value is wrong\"",
            r#"{"token": null, "password": false}"#,
        ] {
            assert_eq!(hide(text), text);
        }
        assert_eq!(hide("Uid=a;Pwd=Secr3t!;"), "Uid=a;Pwd=[hidden];");
        // JSON written into a JSON string, tabs, Ruby's `=>`, an escaped
        // quote inside a quoted value; an error code is no code to hide.
        assert_eq!(
            hide(r#"{"body":"{\"client_secret\":\"S3cr3tValue\",\"a\":1}"}"#),
            r#"{"body":"{\"client_secret\":\"[hidden]\",\"a\":1}"}"#
        );
        assert_eq!(
            hide("client_secret:\tS3cr3t bearer\tT0k3nValue"),
            "client_secret:\t[hidden] bearer\t[hidden]"
        );
        assert_eq!(
            hide(r#"client_secret => "S3cr3t", password="a\"bX""#),
            r#"client_secret => "[hidden]", password="[hidden]""#
        );
        assert_eq!(
            hide("code=50011 and code: 7000215"),
            "code=50011 and code: 7000215"
        );
        // An escaped backslash before a quote does not escape the quote.
        assert_eq!(
            hide(r#"password="abc\\" user="bob visible""#),
            r#"password="[hidden]" user="bob visible""#
        );
    }

    #[test]
    fn commands_calls_and_quoted_values_are_hidden_whole() {
        for (t, want) in [
            (
                r#"az login --service-principal -u 3f6a1b2c -p "pa ss word" --tenant contoso"#,
                r#"az login --service-principal -u 3f6a1b2c -p "[hidden]" --tenant contoso"#,
            ),
            (
                "az login --service-principal -u app -p Qz8Qsecret --tenant t",
                "az login --service-principal -u app -p [hidden] --tenant t",
            ),
            (
                "curl -u admin:hunter2 https://api.example/x",
                "curl -u admin:[hidden] https://api.example/x",
            ),
            (
                "curl --user 'admin:two words' https://api.example/x",
                "curl --user 'admin:[hidden]' https://api.example/x",
            ),
            (
                "$s = ConvertTo-SecureString 'P@ss w0rd' -AsPlainText -Force",
                "$s = ConvertTo-SecureString '[hidden]' -AsPlainText -Force",
            ),
            (
                r#"ConvertTo-SecureString -String "abc" -AsPlainText"#,
                r#"ConvertTo-SecureString -String "[hidden]" -AsPlainText"#,
            ),
            (
                "$s = ConvertTo-SecureString -AsPlainText -Force -String 'P@ss w0rd'",
                "$s = ConvertTo-SecureString -AsPlainText -Force -String '[hidden]'",
            ),
            (
                "'Pa55 word' | ConvertTo-SecureString -AsPlainText -Force",
                "'[hidden]' | ConvertTo-SecureString -AsPlainText -Force",
            ),
            (
                "ConvertTo-SecureString -Key $k 'secret one'",
                "ConvertTo-SecureString -Key $k '[hidden]'",
            ),
            (
                r#"var c = new ClientSecretCredential("tenant", "client", "s3cr3t value");"#,
                r#"var c = new ClientSecretCredential("tenant", "client", "[hidden]");"#,
            ),
            (
                "cred = ClientSecretCredential(tenant_id, client_id, my_secret)",
                "cred = ClientSecretCredential(tenant_id, client_id, [hidden])",
            ),
            (
                r#"new ClientCredential(clientId, "adal secret")"#,
                r#"new ClientCredential(clientId, "[hidden]")"#,
            ),
            (
                r#".WithClientSecret("abc def").Build()"#,
                r#".WithClientSecret("[hidden]").Build()"#,
            ),
            (
                r#"ConfidentialClientApplication(cid, client_credential="x y")"#,
                r#"ConfidentialClientApplication(cid, client_credential="[hidden]")"#,
            ),
            (
                r#"{"password": "correct horse battery", "user": "a"}"#,
                r#"{"password": "[hidden]", "user": "a"}"#,
            ),
            // .NET order (username, password, tenant, client): every
            // argument but the GUIDs, whatever the SDK's order.
            (
                r#"new UsernamePasswordCredential("alex@contoso.com", "Hunter2-Passw0rd!", "4d7f7e2c-9a51-4c1b-8b8e-2f6a3c1d0e55", "9b0a3d8e-5c2f-4e71-a1b4-6d3e8f2c7a90");"#,
                r#"new UsernamePasswordCredential("[hidden]", "[hidden]", "4d7f7e2c-9a51-4c1b-8b8e-2f6a3c1d0e55", "9b0a3d8e-5c2f-4e71-a1b4-6d3e8f2c7a90");"#,
            ),
            (
                r#"UsernamePasswordCredential("contoso.onmicrosoft.com", cid, "alex@contoso.com", "pw one")"#,
                r#"UsernamePasswordCredential("[hidden]", [hidden], "[hidden]", "[hidden]")"#,
            ),
            (
                "az login -u alex@contoso.com -p=Hunter2pw",
                "az login -u alex@contoso.com -p=[hidden]",
            ),
            (
                r#"$env:AZURE_PASSWORD = "Hunter2 pw""#,
                r#"$env:AZURE_PASSWORD = "[hidden]""#,
            ),
            (
                "$clientSecret   =   'abc def'",
                "$clientSecret   =   '[hidden]'",
            ),
            // C# named arguments: judged by name, in any order.
            (
                r#"new ClientSecretCredential(tenant, client, secret: "Abc~def123")"#,
                r#"new ClientSecretCredential(tenant, client, secret: "[hidden]")"#,
            ),
            (
                r#"new ClientSecretCredential(clientSecret: "Abc~def123", tenantId: "contoso", clientId: "myapp")"#,
                r#"new ClientSecretCredential(clientSecret: "[hidden]", tenantId: "contoso", clientId: "myapp")"#,
            ),
        ] {
            assert_eq!(hide(t), want, "{t}");
        }
    }

    #[test]
    fn ordinary_error_text_is_left_alone() {
        for t in [
            "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '3f6a1b2c-9d8e-4f70-a1b2-c3d4e5f60718'.",
            "Trace ID: 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0 Correlation ID: x",
            r#"{"error":"invalid_grant","error_codes":[70000],"error_description":"AADSTS70000: The provided value for the code parameter is not valid."}"#,
            r#"{"error":{"code":"Forbidden","message":"Missing application roles."}}"#,
            "Failed to acquire token: AADSTS7000215: Invalid client secret provided.",
            "Error getting token: AADSTS700016: Application not found. The client secret: see the portal.",
            "Thumbprint of key used by client: '9E1A2B3C4D5E6F708192A3B4C5D6E7F8091A2B3C'",
            "Basic authentication is not supported; error_codes and tokens differ",
            "error_code=7000215 status_code=401 x-ms-token-cache=1",
            "The redirect URI 'https://contoso-security-operations-automation-portal.azurewebsites.net/signin-oidc' does not match",
            "CN=contoso-security-operations-automation-client-cert",
            "the password is wrong; passwords expire",
            "curl: (7) Failed to connect to login.microsoftonline.com port 443",
            "ssh -p 2222 host; az account show -u x",
            "'a' | Write-Output; ConvertTo-SecureString -AsPlainText",
            "ClientSecretCredential(tenant_id=t, client_id=c, client_secret=[redacted])",
            "the error code = AADSTS50126; token = none",
        ] {
            assert!(matches!(hide(t), std::borrow::Cow::Borrowed(_)), "{t}");
        }
    }
}
