//! Times: RFC 3339 UTC strings and "expires in 41 min" phrases.

use chrono::{DateTime, SecondsFormat, Utc};

use crate::error::{Error, Result};

/// Format a Unix time as RFC 3339 UTC (`2026-03-02T09:00:00Z`).
pub fn rfc3339(unix: i64) -> String {
    DateTime::<Utc>::from_timestamp(unix, 0)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_else(|| unix.to_string())
}

/// Parse the `--at` value: an RFC 3339 time, returned as Unix seconds.
pub fn parse_at(s: &str) -> Result<i64> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.timestamp())
        .map_err(|e| {
            // A time is at most 35 characters; anything longer may be a
            // token or secret given in the wrong place.
            let shown = if s.chars().count() <= 35 {
                format!("{s:?}")
            } else {
                crate::input::withheld(s, "")
            };
            Error::input(format!("--at {shown} is not an RFC 3339 time ({e})"))
                .with_hint("write it like 2026-03-02T09:30:00Z")
        })
}

/// Now, or the `--at` instant.
pub fn now_or(at: Option<i64>) -> i64 {
    at.unwrap_or_else(|| Utc::now().timestamp())
}

/// A duration in words, rounded the way people say it: `41 min`, `3 days`.
pub fn span(secs: i64) -> String {
    let s = secs.unsigned_abs();
    let (n, unit) = if s < 90 {
        (s, "s")
    } else if s < 90 * 60 {
        ((s + 30) / 60, "min")
    } else if s < 36 * 3600 {
        ((s + 1800) / 3600, "h")
    } else if s < 60 * 86400 {
        ((s + 43200) / 86400, "day")
    } else if s < 730 * 86400 {
        ((s + 15 * 86400) / (30 * 86400), "month")
    } else {
        ((s + 182 * 86400) / (365 * 86400), "year")
    };
    match unit {
        "s" | "min" | "h" => format!("{n} {unit}"),
        _ if n == 1 => format!("1 {unit}"),
        _ => format!("{n} {unit}s"),
    }
}

/// `in 41 min` or `3 days ago`, relative to `now`.
pub fn relative(t: i64, now: i64) -> String {
    let d = t - now;
    if d == 0 {
        "now".to_string()
    } else if d > 0 {
        format!("in {}", span(d))
    } else {
        format!("{} ago", span(d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_like_people_say_them() {
        assert_eq!(span(45), "45 s");
        assert_eq!(span(41 * 60), "41 min");
        assert_eq!(span(3 * 86400), "3 days");
        assert_eq!(span(86400), "24 h");
        assert_eq!(relative(60, 0), "in 60 s");
        assert_eq!(relative(100, 0), "in 2 min");
        assert_eq!(relative(0, 3 * 86400 + 5), "3 days ago");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(parse_at("2026-03-02T09:30:00Z").unwrap(), 1772443800);
        assert!(parse_at("yesterday").is_err());
    }
}
