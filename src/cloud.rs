//! National and sovereign clouds, from `data/clouds.json`.

use crate::error::{Error, Result};

/// One row of `data/clouds.json` (compiled to a static by `build.rs`).
#[derive(Debug)]
pub struct Cloud {
    /// The name every `--cloud` flag uses: public, gcc, gcc-high, dod, china; fr, de, sg,
    /// germany and us-legacy are known by their issuer hosts only.
    pub name: &'static str,
    pub display: &'static str,
    /// Where users and apps sign in, and where discovery is read.
    pub login_host: &'static str,
    /// Hosts that appear in the `iss` claim of tokens from this cloud.
    pub issuer_hosts: &'static [&'static str],
    /// The `iss` of v1.0 tokens from this cloud, as `{tenantid}` templates.
    pub v1_issuers: &'static [&'static str],
    /// The `iss` of v2.0 tokens from this cloud, as `{tenantid}` templates.
    pub v2_issuers: &'static [&'static str],
    /// The MDE API host; empty where MDE is not offered.
    pub api_host: &'static str,
    /// Microsoft Graph endpoint; empty when unknown.
    pub graph_endpoint: &'static str,
}

static CLOUDS: &[Cloud] = crate::tables::CLOUDS;

/// True when `iss` is `template` with `{tenantid}` replaced by `tid`
/// (compared without building the string: checked for every token).
pub fn fills(template: &str, tid: &str, iss: &str) -> bool {
    match crate::text::split_first(template, "{tenantid}") {
        Some((pre, post)) => {
            iss.len() == pre.len() + tid.len() + post.len()
                && iss.starts_with(pre)
                && iss.ends_with(post)
                && iss.get(pre.len()..pre.len() + tid.len()) == Some(tid)
        }
        None => template == iss,
    }
}

impl Cloud {
    /// True when `iss` is an issuer this cloud writes into tokens of
    /// `version` for the tenant `tid` (see [`Cloud::issuers`]).
    pub fn issues(&self, version: &str, tid: &str, iss: &str) -> bool {
        self.templates(version).any(|t| fills(t, tid, iss))
    }

    /// The issuers this cloud writes into tokens of `version`, filled in
    /// with the tenant `tid`.
    pub fn issuers(&self, version: &str, tid: &str) -> Vec<String> {
        self.templates(version)
            .map(|t| t.replace("{tenantid}", tid))
            .collect()
    }

    /// Its Microsoft Graph endpoint (no trailing slash), when known.
    pub fn graph(&self) -> Option<&'static str> {
        Some(self.graph_endpoint.trim_end_matches('/')).filter(|g| !g.is_empty())
    }

    /// The issuer templates of `version` ("1.0" or "2.0"; any other value:
    /// both).
    fn templates(&self, version: &str) -> impl Iterator<Item = &'static str> {
        let (v1, v2) = match version {
            "1.0" => (self.v1_issuers, &[][..]),
            "2.0" => (&[][..], self.v2_issuers),
            _ => (self.v1_issuers, self.v2_issuers),
        };
        v1.iter().chain(v2).copied()
    }
}

/// The cloud names accepted by `--cloud`.
pub const CLI_NAMES: [&str; 5] = ["public", "gcc", "gcc-high", "dod", "china"];

pub fn all() -> &'static [Cloud] {
    CLOUDS
}

/// Look a cloud up by its `--cloud` name.
pub fn by_name(name: &str) -> Result<&'static Cloud> {
    let n = name.trim();
    CLOUDS
        .iter()
        .find(|c| c.name.eq_ignore_ascii_case(n))
        .ok_or_else(|| {
            Error::input(format!("unknown cloud {name:?}"))
                .with_hint("use one of public, gcc, gcc-high, dod, china")
        })
}

/// The cloud a token issuer host belongs to. GCC signs in on the commercial
/// cloud and DoD on the same hosts as GCC High, so the answer is the
/// sign-in cloud: `public`, `gcc-high` (US Government), `china`, ...
pub fn by_issuer_host(host: &str) -> Option<&'static Cloud> {
    CLOUDS
        .iter()
        .find(|c| c.issuer_hosts.iter().any(|h| h.eq_ignore_ascii_case(host)))
}

/// The cloud whose MDE API is served on `host` (lower-case), if any.
pub fn by_api_host(host: &str) -> Option<&'static Cloud> {
    CLOUDS
        .iter()
        .find(|c| !c.api_host.is_empty() && c.api_host.eq_ignore_ascii_case(host))
}

/// The host part of an https URL, lower-cased.
pub fn url_host(url: &str) -> Option<String> {
    host_of(url).map(str::to_ascii_lowercase)
}

/// The host part of a URL as written (no allocation).
fn host_of(url: &str) -> Option<&str> {
    let rest = crate::text::split_first(url, "://")?.1;
    let host = rest.split(['/', '?', '#']).next()?;
    let host = host.rsplit('@').next()?;
    // Strip a port, but keep IPv6 literals intact.
    let host = if host.starts_with('[') {
        &host[..=host.find(']')?]
    } else {
        host.split(':').next()?
    };
    (!host.is_empty()).then_some(host)
}

/// The cloud whose issuer host an issuer URL names (checked for every token).
pub fn by_issuer_url(issuer: &str) -> Option<&'static Cloud> {
    host_of(issuer).and_then(by_issuer_host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_hosts_map_to_clouds() {
        assert_eq!(by_issuer_host("sts.windows.net").unwrap().name, "public");
        assert_eq!(
            by_issuer_host("login.microsoftonline.us").unwrap().name,
            "gcc-high"
        );
        assert_eq!(
            by_issuer_host("login.partner.microsoftonline.cn")
                .unwrap()
                .name,
            "china"
        );
        assert!(by_issuer_host("evil.example").is_none());
        // MSAL lists these as instances of their own: keys are read there.
        for (host, cloud) in [
            ("login.microsoftonline.de", "germany"),
            ("login.sovcloud-identity.de", "de"),
            ("login-us.microsoftonline.com", "us-legacy"),
        ] {
            let c = by_issuer_host(host).unwrap();
            assert_eq!((c.name, c.login_host), (cloud, host));
        }
        for n in CLI_NAMES {
            by_name(n).unwrap();
        }
        assert_eq!(
            url_host("https://sts.windows.net/abc/").as_deref(),
            Some("sts.windows.net")
        );
        assert_eq!(
            url_host("http://127.0.0.1:8080/x").as_deref(),
            Some("127.0.0.1")
        );
        let public = by_name("public").unwrap();
        assert_eq!(public.issuers("1.0", "t"), ["https://sts.windows.net/t/"]);
        assert_eq!(
            public.issuers("2.0", "t"),
            ["https://login.microsoftonline.com/t/v2.0"]
        );
        assert_eq!(public.issuers("unknown", "t").len(), 2);
        assert!(public.issues("1.0", "t", "https://sts.windows.net/t/"));
        assert!(!public.issues("2.0", "t", "https://sts.windows.net/t/"));
        assert!(!public.issues("1.0", "t", "https://sts.windows.net/u/"));
        assert!(!public.issues("1.0", "t", "https://sts.windows.net/t"));
        assert!(!public.issues("1.0", "t", "https://sts.windows.net/t//"));
        assert!(public.issues("x", "t", "https://login.microsoftonline.com/t/v2.0"));
        assert!(fills("https://h/{tenantid}/", "é", "https://h/é/"));
        assert!(!fills("https://h/{tenantid}/", "é", "https://h/e/"));
        // Same length, a character boundary inside the tenant: no panic.
        assert!(!fills("https://h/{tenantid}/", "ab", "https://h/é/"));
        assert!(!fills("https://h/{tenantid}/", "abc", "https://h/xé/"));
        for c in all() {
            for t in c.v1_issuers.iter().chain(c.v2_issuers) {
                assert!(
                    t.starts_with("https://") && t.contains("/{tenantid}/"),
                    "{t}"
                );
                assert!(by_issuer_url(t).is_some_and(|x| x.name == c.name), "{t}");
            }
        }
    }
}
