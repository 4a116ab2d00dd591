//! One-line explanations of header members and claims, from `data/claims.json`.

use crate::tables::{CLAIM_MEANINGS, HEADER_MEANINGS};

/// The meaning of `name` in a table sorted by name.
fn meaning(table: &'static [(&'static str, &'static str)], name: &str) -> Option<&'static str> {
    table
        .binary_search_by(|(k, _)| (*k).cmp(name))
        .ok()
        .map(|i| table[i].1)
}

/// What a claim means, if it is one AAD defines.
pub fn claim(name: &str) -> Option<&'static str> {
    meaning(CLAIM_MEANINGS, name)
}

/// What a header member means.
pub fn header(name: &str) -> Option<&'static str> {
    meaning(HEADER_MEANINGS, name)
}

#[cfg(test)]
mod tests {
    #[test]
    fn table_loads() {
        assert!(
            super::claim("roles")
                .unwrap()
                .contains("Application permissions")
        );
        assert!(super::header("kid").is_some());
        assert!(super::claim("no-such-claim").is_none());
    }
}
