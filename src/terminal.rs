//! What may reach a terminal: text from a token, a file or a server is
//! shown with its control characters escaped, in human reports and in the
//! one-line error alike.

use std::borrow::Cow;
use std::fmt::Write;

/// Characters that must not reach a terminal as they are: control
/// characters (escape sequences, bell, line breaks) and the invisible ones
/// that reorder or hide text (bidi embeddings, overrides and isolates,
/// zero-width characters, line and paragraph separators, the byte-order
/// mark).
fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{feff}'
        )
}

/// Text that came from a token, a file or a server, ready for human
/// output: each character [`unsafe_char`] names is written as a `\u{..}`
/// escape, so no value can move the cursor, recolour or clear the screen,
/// reorder what follows, or start a line that looks like the report's own.
pub fn safe(s: &str) -> Cow<'_, str> {
    escape(s, false)
}

/// [`safe`], keeping line breaks: for multi-line text the renderer indents
/// line by line (a finding's fix).
pub fn safe_lines(s: &str) -> Cow<'_, str> {
    escape(s, true)
}

fn escape(s: &str, keep_newlines: bool) -> Cow<'_, str> {
    let bad = |c: char| unsafe_char(c) && !(keep_newlines && c == '\n');
    // The common case, printable ASCII, is not copied.
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) || !s.chars().any(bad) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if bad(c) {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Write `text` to standard error, ignoring failure: a closed or full
/// stderr (a CI step that dropped it) must not turn an exit code of 0-3
/// into a panic's 101, nor stop `--print-token` from printing the token.
pub fn to_stderr(text: &str) {
    use std::io::Write as _;
    let mut e = std::io::stderr().lock();
    let _ = e.write_all(text.as_bytes());
    let _ = e.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_line_breaks_and_bidi_controls_are_shown_not_obeyed() {
        assert!(matches!(safe("Machine.Read.All"), Cow::Borrowed(_)));
        assert!(matches!(safe("Défense é"), Cow::Borrowed(_)));
        assert_eq!(
            safe("x\u{1b}[2J\u{1b}[32mVerdict: PASS"),
            "x\\u{1b}[2J\\u{1b}[32mVerdict: PASS"
        );
        assert_eq!(
            safe("a\nVerdict: PASS\r\t\u{7}"),
            "a\\u{a}Verdict: PASS\\u{d}\\u{9}\\u{7}"
        );
        assert_eq!(
            safe("\u{202e}evil\u{2066}\u{200b}\u{feff}\u{9b}"),
            "\\u{202e}evil\\u{2066}\\u{200b}\\u{feff}\\u{9b}"
        );
        assert_eq!(safe_lines("one\ntwo\u{1b}[A"), "one\ntwo\\u{1b}[A");
    }
}
