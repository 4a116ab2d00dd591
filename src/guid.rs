//! GUID syntax, as Azure AD writes tenant, app and object ids.

/// True for the 8-4-4-4-12 hexadecimal form, with or without braces.
pub fn is_guid(s: &str) -> bool {
    let s = s
        .strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .unwrap_or(s);
    is_bare_guid(s)
}

/// A GUID as Azure AD writes it in claims and issuers: no braces.
pub fn is_bare_guid(s: &str) -> bool {
    // 36 characters: groups of 8, 4, 4, 4 and 12 hexadecimal digits with a
    // hyphen between (checked for every token's tid and issuer).
    s.len() == 36
        && s.bytes().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// A GUID as Azure AD writes it in tokens: trimmed, without the braces
/// PowerShell and the registry put around it. Other text comes back trimmed.
pub fn bare(s: &str) -> &str {
    let t = s.trim();
    match t.strip_prefix('{').and_then(|x| x.strip_suffix('}')) {
        Some(inner) if is_guid(inner) => inner,
        _ => t,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn guids() {
        assert!(super::is_guid("fc780465-2017-40d4-a0c5-307022471b92"));
        assert!(super::is_guid("{FC780465-2017-40D4-A0C5-307022471B92}"));
        assert!(!super::is_guid("fc780465-2017-40d4-a0c5-307022471b9"));
        assert!(!super::is_guid("common"));
        assert_eq!(
            super::bare(" {FC780465-2017-40D4-A0C5-307022471B92} "),
            "FC780465-2017-40D4-A0C5-307022471B92"
        );
        assert_eq!(super::bare("{common}"), "{common}");
        assert_eq!(super::bare(" contoso.com "), "contoso.com");
        assert!(!super::is_guid("zc780465-2017-40d4-a0c5-307022471b92"));
    }
}
