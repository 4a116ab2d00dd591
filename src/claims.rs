//! One-line explanations of header members and claims, from `data/claims.json`.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;

#[derive(Deserialize)]
struct File {
    header: BTreeMap<String, String>,
    claims: BTreeMap<String, String>,
}

static TABLE: LazyLock<File> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../data/claims.json"))
        .expect("data/claims.json is valid (checked by tests)")
});

/// What a claim means, if it is one AAD defines.
pub fn claim(name: &str) -> Option<&'static str> {
    TABLE.claims.get(name).map(String::as_str)
}

/// What a header member means.
pub fn header(name: &str) -> Option<&'static str> {
    TABLE.header.get(name).map(String::as_str)
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
