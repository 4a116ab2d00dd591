//! GUID syntax, as Azure AD writes tenant, app and object ids.

/// True for the 8-4-4-4-12 hexadecimal form, with or without braces.
pub fn is_guid(s: &str) -> bool {
    let s = s
        .strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .unwrap_or(s);
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn guids() {
        assert!(super::is_guid("fc780465-2017-40d4-a0c5-307022471b92"));
        assert!(super::is_guid("{FC780465-2017-40D4-A0C5-307022471B92}"));
        assert!(!super::is_guid("fc780465-2017-40d4-a0c5-307022471b9"));
        assert!(!super::is_guid("common"));
        assert!(!super::is_guid("zc780465-2017-40d4-a0c5-307022471b92"));
    }
}
