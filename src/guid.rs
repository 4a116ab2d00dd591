//! GUID syntax, as Azure AD writes tenant, app and object ids.

/// True for the 8-4-4-4-12 hexadecimal form, with or without braces.
pub fn is_guid(s: &str) -> bool {
    let s = s
        .strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .unwrap_or(s);
    let mut groups = s.split('-');
    [8, 4, 4, 4, 12].iter().all(|&n| {
        groups
            .next()
            .is_some_and(|g| g.len() == n && g.bytes().all(|c| c.is_ascii_hexdigit()))
    }) && groups.next().is_none()
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
