//! Admin-consent links for an app registration, for every cloud, and who may
//! grant them (`data/consent.json`).
//!
//! The default link is the one the MDE documentation gives, byte for byte:
//! `https://login.microsoftonline.com/common/oauth2/authorize?prompt=consent&client_id=<id>&response_type=code&sso_reload=true`.

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::cloud::{self, Cloud};
use crate::error::{Error, Result, Snippet};
use crate::finding::Finding;
use crate::guid;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Role {
    pub role: String,
    pub can_grant: String,
}

/// Who can grant the consent, with the source of the statement.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WhoCanGrant {
    pub roles: Vec<Role>,
    pub note: String,
    pub source: String,
}

#[derive(Deserialize)]
struct File {
    scope: String,
    who_can_grant: WhoCanGrant,
}

static DATA: LazyLock<File> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../data/consent.json"))
        .expect("data/consent.json is valid (checked by tests)")
});

/// The MDE scope the v2 admin-consent link asks for.
pub fn mde_scope() -> &'static str {
    &DATA.scope
}

pub fn who_can_grant() -> &'static WhoCanGrant {
    &DATA.who_can_grant
}

/// Who can grant admin consent, in one sentence from the same list
/// `consent-url` prints: "an administrator with one of these roles grants
/// admin consent: A, B, ... or a custom directory role ...".
pub fn granters_sentence() -> String {
    let names: Vec<&str> = who_can_grant()
        .roles
        .iter()
        .map(|r| r.role.as_str())
        .collect();
    let list = match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        Some((last, _)) => last.to_string(),
        None => String::new(),
    };
    format!("an administrator with one of these roles grants admin consent: {list}")
}

/// The three consent links.
#[derive(Debug, Clone, Serialize)]
pub struct ConsentUrls {
    /// The documented multi-tenant link on `/common`.
    pub authorize_common: String,
    /// The same link on the tenant's own authority; only when a tenant is given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorize_tenant: Option<String>,
    /// The v2 admin-consent endpoint (tenant defaults to `organizations`).
    pub adminconsent_v2: String,
}

/// The `consent` section of the JSON report.
#[derive(Debug, Clone, Serialize)]
pub struct ConsentSection {
    pub client_id: String,
    pub cloud: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    pub urls: ConsentUrls,
    pub who_can_grant: WhoCanGrant,
}

/// A value given where an id belongs, for its error message: quoted when
/// it reads as a mistyped id or name, else only its length (a client
/// secret or token set in AZURE_CLIENT_ID or AZURE_TENANT_ID by mistake
/// must not be echoed; Entra's secrets are 40 characters with a `~`).
fn shown_id(t: &str) -> String {
    let id_like = t
        .chars()
        .all(|c| c.is_ascii_hexdigit() || matches!(c, '-' | '{' | '}'));
    if id_like || (t.chars().count() < 30 && !t.contains('~')) {
        format!("{:?}", Snippet(t).to_string())
    } else {
        crate::input::withheld(t, ", perhaps the client secret")
    }
}

/// A client id must be a GUID; braces are dropped.
pub fn check_client_id(id: &str) -> Result<String> {
    let t = id.trim();
    if !guid::is_guid(t) {
        return Err(Error::input(format!(
            "client id {} is not a GUID",
            shown_id(t)
        ))
        .with_hint("give the app registration's Application (client) ID, e.g. 00000000-0000-0000-0000-000000000000"));
    }
    let id = guid::bare(t);
    if let Some(why) = not_a_client(id) {
        return Err(Error::input(format!("client id {id} is {why}"))
            .with_hint("give your app registration's Application (client) ID (Entra ID > App registrations > the app > Overview)"));
    }
    Ok(id.to_string())
}

/// Why an app id cannot be the client that calls the MDE API: it is the
/// API's own app (WindowsDefenderATP), the resource tokens are for.
pub fn not_a_client(id: &str) -> Option<&'static str> {
    id.eq_ignore_ascii_case(crate::resource::MDE_APP_ID).then_some(
        "WindowsDefenderATP's own app id: the API the tokens are for, not the app that calls it",
    )
}

/// A tenant id compared with a token's `tid`: a GUID (braces dropped); a
/// domain name never equals a `tid`.
pub fn check_tenant_id(t: &str) -> Result<String> {
    let t = t.trim();
    if guid::is_guid(t) {
        return Ok(guid::bare(t).to_string());
    }
    Err(Error::input(format!(
        "--tenant {} is not a tenant id: the token's tid is always the Directory (tenant) ID, a GUID",
        shown_id(t)
    ))
    .with_hint("give the tenant's GUID (Entra admin center > Overview, or `az account show --query tenantId`)"))
}

/// A tenant is a GUID, a verified domain (`contoso.onmicrosoft.com`), or
/// `organizations` / `common`. Anything that looks like a GUID must be one.
pub fn check_tenant(t: &str) -> Result<String> {
    let t = t.trim();
    let lower = t.to_ascii_lowercase();
    if lower == "organizations" || lower == "common" {
        return Ok(lower);
    }
    let guid_like = t.len() >= 8
        && t.chars()
            .all(|c| c.is_ascii_hexdigit() || matches!(c, '-' | '{' | '}'));
    if guid_like {
        if guid::is_guid(t) {
            return Ok(guid::bare(t).to_string());
        }
        return Err(Error::input(format!(
            "tenant {:?} looks like a GUID but is not a valid one",
            Snippet(t).to_string()
        ))
        .with_hint("give the Directory (tenant) ID as 8-4-4-4-12 hex digits, or a domain such as contoso.onmicrosoft.com"));
    }
    if is_domain(t) {
        return Ok(lower);
    }
    Err(Error::input(format!(
        "tenant {} is neither a GUID nor a domain name",
        shown_id(t)
    ))
    .with_hint("give the Directory (tenant) ID, a domain such as contoso.onmicrosoft.com, or organizations"))
}

fn is_domain(s: &str) -> bool {
    let labels: Vec<&str> = s.split('.').collect();
    s.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.chars().all(|c| c.is_ascii_alphabetic()))
}

fn enc(v: &str) -> String {
    url::form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

/// Build the consent links. `client_id` and `tenant` must have passed
/// [`check_client_id`] / [`check_tenant`]; `redirect` must be an absolute URL.
pub fn urls(
    client_id: &str,
    tenant: Option<&str>,
    cloud: &Cloud,
    redirect: Option<&str>,
    state: Option<&str>,
) -> ConsentUrls {
    let host = &cloud.login_host;
    let id = enc(client_id);
    // "common" is no tenant of its own: the /common link is already there,
    // and the v2 admin-consent endpoint takes a tenant or organizations.
    let tenant = tenant.filter(|t| !t.eq_ignore_ascii_case("common"));
    let authorize = |t: &str| {
        format!(
            "https://{host}/{t}/oauth2/authorize?prompt=consent&client_id={id}&response_type=code&sso_reload=true",
            t = enc(t)
        )
    };
    // The scope is a fixed, query-safe URL; it is written as the docs give it.
    let mut v2 = format!(
        "https://{host}/{}/v2.0/adminconsent?client_id={id}&scope={}",
        enc(tenant.unwrap_or("organizations")),
        mde_scope()
    );
    if let Some(r) = redirect {
        v2.push_str("&redirect_uri=");
        v2.push_str(&enc(r));
    }
    if let Some(s) = state {
        v2.push_str("&state=");
        v2.push_str(&enc(s));
    }
    ConsentUrls {
        authorize_common: authorize("common"),
        authorize_tenant: tenant.map(authorize),
        adminconsent_v2: v2,
    }
}

/// A warning for a cloud where mdeauth knows of no MDE API: consenting to
/// WindowsDefenderATP permissions there may fail (`consent-url`, `app`).
pub fn no_mde_api(c: &Cloud) -> Option<Finding> {
    c.api_host.is_empty().then(|| {
        Finding::warning(
            "consent.no_mde_api",
            format!(
                "mdeauth knows of no MDE API in {}: the WindowsDefenderATP app and its permissions may not exist there, so consent can fail (AADSTS650052 or AADSTS500011)",
                c.display
            ),
            "check that Defender for Endpoint is offered in this cloud before registering the app",
        )
    })
}

/// Validate a redirect URI: an absolute http(s) URL.
pub fn check_redirect(r: &str) -> Result<String> {
    let u = url::Url::parse(r.trim()).map_err(|e| {
        Error::input(format!(
            "redirect URI {:?} is not a URL ({e})",
            Snippet(r).to_string()
        ))
        .with_hint(
            "give the exact redirect URI registered on the app, e.g. https://localhost/consent",
        )
    })?;
    let hint = "give the exact redirect URI registered on the app, e.g. https://localhost/consent";
    let bad = |why: &str| {
        Err(
            Error::input(format!("redirect URI {:?} {why}", Snippet(r).to_string()))
                .with_hint(hint),
        )
    };
    if !matches!(u.scheme(), "https" | "http") {
        return bad("must be an http(s) URL");
    }
    // `https:host` parses leniently, but is not the URI Entra ID compares.
    if !r.trim().contains("://") {
        return bad("is not an absolute URL (scheme://host/...)");
    }
    // RFC 6749 section 3.1.2: a redirection endpoint has no fragment.
    if u.fragment().is_some() {
        return bad("has a fragment (#...), which a redirect URI must not have");
    }
    // Entra ID accepts plain http only for localhost.
    let local = matches!(u.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    if u.scheme() == "http" && !local {
        return bad("uses plain http, which Entra ID accepts only for localhost; use https");
    }
    Ok(r.trim().to_string())
}

/// A `--cloud` value limited to the five names the CLI accepts.
pub fn cli_cloud(name: &str) -> Result<&'static Cloud> {
    let c = cloud::by_name(name)?;
    if !cloud::CLI_NAMES.contains(&c.name) {
        return Err(Error::input(format!("unknown cloud {name:?}"))
            .with_hint("use one of public, gcc, gcc-high, dod, china"));
    }
    Ok(c)
}

/// The full section, from raw (unchecked) inputs.
pub fn section(
    client_id: &str,
    tenant: Option<&str>,
    cloud_name: &str,
    redirect: Option<&str>,
    state: Option<&str>,
) -> Result<ConsentSection> {
    let id = check_client_id(client_id)?;
    let tenant = tenant.map(check_tenant).transpose()?;
    let cloud = cli_cloud(cloud_name)?;
    let redirect = redirect.map(check_redirect).transpose()?;
    let urls = urls(&id, tenant.as_deref(), cloud, redirect.as_deref(), state);
    Ok(ConsentSection {
        client_id: id,
        cloud: cloud.name.to_string(),
        tenant,
        urls,
        who_can_grant: who_can_grant().clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_link_is_the_documented_one() {
        let c = cli_cloud("public").unwrap();
        let u = urls("00000000-0000-0000-0000-000000000000", None, c, None, None);
        assert_eq!(
            u.authorize_common,
            "https://login.microsoftonline.com/common/oauth2/authorize?prompt=consent&client_id=00000000-0000-0000-0000-000000000000&response_type=code&sso_reload=true"
        );
        assert!(u.authorize_tenant.is_none());
        // --tenant common adds nothing: no second /common link, and the v2
        // endpoint keeps organizations.
        let u = urls(
            "00000000-0000-0000-0000-000000000000",
            Some("common"),
            c,
            None,
            None,
        );
        assert!(u.authorize_tenant.is_none());
        assert!(
            u.adminconsent_v2
                .starts_with("https://login.microsoftonline.com/organizations/v2.0/adminconsent?"),
            "{}",
            u.adminconsent_v2
        );
    }

    #[test]
    fn tenants() {
        assert!(check_tenant("contoso.onmicrosoft.com").is_ok());
        assert!(check_tenant("4d7f7e2c-9a51-4c1b-8b8e-2f6a3c1d0e55").is_ok());
        assert!(check_tenant("4d7f7e2c-9a51-4c1b-8b8e-2f6a3c1d0e5").is_err());
        assert!(check_tenant("{tenant}").is_err());
        assert!(check_tenant("contoso").is_err());
        assert_eq!(check_tenant("Organizations").unwrap(), "organizations");
        assert!(cli_cloud("fr").is_err());
    }
}
