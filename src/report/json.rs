//! JSON renderer: the report as one pretty-printed JSON document.

use super::Report;

pub fn render(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).unwrap_or_else(|e| {
        // Serializing plain data cannot fail; say so in JSON if it ever does.
        format!("{{\"error\":\"cannot serialize report: {e}\"}}")
    });
    s.push('\n');
    s
}
