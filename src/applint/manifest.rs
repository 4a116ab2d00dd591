//! App registrations as the Azure portal's manifest editor, `az ad app show`
//! and Microsoft Graph write them.
//!
//! Two shapes exist. The older AAD Graph manifest (`availableToOtherTenants`,
//! `allowPublicClient`, `replyUrlsWithType`, `endDate`) and the Microsoft
//! Graph one (`signInAudience`, `isFallbackPublicClient`, `web.redirectUris`,
//! `endDateTime`). Unknown members are ignored.

use base64::Engine;
use serde::Serialize;
use serde_json::{Map, Value};

use super::table::{MDE_APP_ID, single_object};
use crate::error::{Error, Result};
use crate::permissions::PermKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Shape {
    /// Portal manifest editor, AAD Graph format.
    AadGraph,
    /// Portal manifest editor (Microsoft Graph format), `az ad app show`, Graph API.
    MicrosoftGraph,
}

impl Shape {
    pub fn describe(self) -> &'static str {
        match self {
            Shape::AadGraph => "AAD Graph format",
            Shape::MicrosoftGraph => "Microsoft Graph format",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RedirectUri {
    /// `web`, `publicClient`, `spa`, or `InstalledClient`/`Web`/... as AAD Graph types them.
    #[serde(rename = "type")]
    pub kind: String,
    pub uri: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CredKind {
    Secret,
    Certificate,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppCredential {
    pub kind: CredKind,
    /// Display name, description or key id: whatever identifies it best.
    pub name: String,
    pub key_id: Option<String>,
    /// Unix seconds; `None` when the export has no (readable) end date.
    pub expires: Option<i64>,
    /// Unix seconds of its start date (`startDateTime`): Entra ID accepts
    /// the credential only from then on.
    pub starts: Option<i64>,
    /// The end date as written, when it is there but cannot be read.
    pub unreadable_end: Option<String>,
}

/// One `requiredResourceAccess` entry for WindowsDefenderATP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requested {
    /// Lower-case GUID.
    pub guid: String,
    pub kind: PermKind,
}

#[derive(Debug, Clone)]
pub struct AppRegistration {
    pub shape: Shape,
    pub app_id: String,
    pub display_name: Option<String>,
    /// `signInAudience`, or the equivalent of AAD Graph's `availableToOtherTenants`.
    pub sign_in_audience: String,
    /// `publisherDomain` (the home tenant's verified domain) when it is a
    /// valid tenant name: a single-tenant app's consent link uses it.
    pub publisher_domain: Option<String>,
    pub public_client: bool,
    pub redirect_uris: Vec<RedirectUri>,
    pub credentials: Vec<AppCredential>,
    /// The WindowsDefenderATP permissions it requests.
    pub requested: Vec<Requested>,
    /// True when `requiredResourceAccess` names WindowsDefenderATP at all.
    pub lists_mde: bool,
    /// Permissions listed under other APIs (Microsoft Graph, Defender XDR,
    /// ...): the lint names any that are WindowsDefenderATP's own GUIDs.
    pub elsewhere: Vec<Elsewhere>,
}

impl AppRegistration {
    /// True when the app requests delegated permissions of another API
    /// (Microsoft Graph's User.Read, say): a grants export on one resource
    /// may then be that API's.
    pub fn requests_other_scopes(&self) -> bool {
        self.elsewhere
            .iter()
            .any(|e| e.kind == Some(PermKind::Scope))
    }
}

/// One `resourceAccess` entry under an API other than WindowsDefenderATP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Elsewhere {
    /// The `resourceAppId` it is listed under (lower-case).
    pub resource_app_id: String,
    /// Lower-case GUID.
    pub guid: String,
    /// `None` when the type is neither Role nor Scope.
    pub kind: Option<PermKind>,
}

impl AppRegistration {
    /// The names of the WindowsDefenderATP permissions of `kind` the
    /// registration requests, as `table` names them.
    pub fn requested_names(
        &self,
        table: &super::PermissionTable,
        kind: crate::permissions::PermKind,
    ) -> Vec<String> {
        self.requested
            .iter()
            .filter(|r| r.kind == kind)
            .filter_map(|r| table.by_guid(&r.guid, kind))
            .map(|e| e.name.clone())
            .collect()
    }

    /// Work and school accounts of any tenant may sign in.
    pub fn is_multi_tenant(&self) -> bool {
        matches!(
            self.sign_in_audience.as_str(),
            "AzureADMultipleOrgs" | "AzureADandPersonalMicrosoftAccount"
        )
    }

    /// Read an app registration document; `what` names it in errors.
    pub fn parse(doc: &Value, what: &str) -> Result<AppRegistration> {
        let o = single_object(doc, what)?;
        if o.contains_key("servicePrincipalType") || o.contains_key("appOwnerOrganizationId") {
            return Err(Error::input(format!(
                "{what} is a service principal, not an app registration"
            ))
            .with_hint("export the app with az ad app show --id <appId> (give a WindowsDefenderATP service principal with --sp)"));
        }
        let Some(app_id) = o.get("appId").and_then(Value::as_str) else {
            if let Some(v) = o.get("appId") {
                return Err(Error::input(format!(
                    "{what} is not an app registration manifest: its \"appId\" is {v}, not the app's id as a string"
                ))
                .with_hint("export it from the portal's Manifest page or with az ad app show --id <appId>"));
            }
            return Err(not_an_app(what, "\"appId\""));
        };
        if !crate::guid::is_guid(app_id) {
            return Err(Error::input(format!(
                "{what}: \"appId\" \"{}\" is not a GUID",
                crate::error::Snippet(app_id)
            )));
        }
        // The portal's AAD Graph manifest (2019 to 2024) has signInAudience
        // too, in place of availableToOtherTenants: tell it by its own
        // members, and Microsoft Graph's by its web / spa / publicClient.
        let has = |keys: &[&str]| keys.iter().any(|k| o.contains_key(*k));
        // Microsoft Graph's web / spa / publicClient are objects (the older
        // AAD Graph manifest's publicClient is a boolean).
        let graph_only = ["web", "spa", "publicClient"]
            .iter()
            .any(|k| o.get(*k).is_some_and(Value::is_object))
            || has(&["isFallbackPublicClient"]);
        let aad_only = has(&[
            "availableToOtherTenants",
            "replyUrlsWithType",
            "replyUrls",
            "allowPublicClient",
            "oauth2AllowImplicitFlow",
            "oauth2Permissions",
        ]);
        let shape = if aad_only && !graph_only {
            Shape::AadGraph
        } else if o.contains_key("signInAudience") {
            Shape::MicrosoftGraph
        } else {
            return Err(not_an_app(
                what,
                "\"signInAudience\" (Microsoft Graph shape) or \"availableToOtherTenants\" (AAD Graph manifest)",
            ));
        };
        let Some(rra) = o.get("requiredResourceAccess") else {
            return Err(not_an_app(what, "\"requiredResourceAccess\""));
        };
        let Some(rra) = rra.as_array() else {
            return Err(Error::input(format!(
                "{what}: \"requiredResourceAccess\" is not a list"
            ))
            .with_hint("give the manifest as exported: requiredResourceAccess is a list of {resourceAppId, resourceAccess}"));
        };
        let (requested, lists_mde, elsewhere) = required_access(rra, what)?;

        let flag = |k: &str| o.get(k).and_then(Value::as_bool).unwrap_or(false);
        let (sign_in_audience, public_client, redirect_uris) = match shape {
            Shape::MicrosoftGraph => (
                o.get("signInAudience")
                    .and_then(Value::as_str)
                    .unwrap_or("AzureADMyOrg")
                    .to_string(),
                flag("isFallbackPublicClient"),
                graph_redirects(o),
            ),
            Shape::AadGraph => (
                match o.get("signInAudience").and_then(Value::as_str) {
                    Some(a) => a.to_string(),
                    None if flag("availableToOtherTenants") => "AzureADMultipleOrgs".to_string(),
                    None => "AzureADMyOrg".to_string(),
                },
                flag("allowPublicClient") || flag("publicClient"),
                aad_redirects(o),
            ),
        };
        let mut credentials = Vec::new();
        for (key, kind) in [
            ("passwordCredentials", CredKind::Secret),
            ("keyCredentials", CredKind::Certificate),
        ] {
            for c in o.get(key).and_then(Value::as_array).into_iter().flatten() {
                if let Some(c) = c.as_object()
                    && let Some(cred) = credential(c, kind)
                {
                    credentials.push(cred);
                }
            }
        }
        Ok(AppRegistration {
            shape,
            app_id: app_id.to_ascii_lowercase(),
            // The AAD Graph manifest calls it name.
            display_name: o
                .get("displayName")
                .or_else(|| o.get("name"))
                .and_then(Value::as_str)
                .map(str::to_string),
            sign_in_audience,
            publisher_domain: o
                .get("publisherDomain")
                .and_then(Value::as_str)
                .and_then(|d| crate::consent::check_tenant(d).ok())
                .filter(|d| d != "common" && d != "organizations"),
            public_client,
            redirect_uris,
            credentials,
            requested,
            lists_mde,
            elsewhere,
        })
    }
}

fn not_an_app(what: &str, missing: &str) -> Error {
    Error::input(format!(
        "{what} is not an app registration manifest: it has no {missing}"
    ))
    .with_hint("export it from the portal's Manifest page or with az ad app show --id <appId>")
}

/// What `requiredResourceAccess` holds: the WindowsDefenderATP permissions,
/// whether it names WindowsDefenderATP at all, and what other APIs list.
type Access = (Vec<Requested>, bool, Vec<Elsewhere>);

fn required_access(rra: &[Value], what: &str) -> Result<Access> {
    let mut out: Vec<Requested> = Vec::new();
    let mut lists_mde = false;
    let mut elsewhere = Vec::new();
    for res in rra {
        let resource = res.get("resourceAppId").and_then(Value::as_str);
        let is_mde = resource.is_some_and(|id| id.eq_ignore_ascii_case(MDE_APP_ID));
        if !is_mde {
            let access = res.get("resourceAccess").and_then(Value::as_array);
            for a in access.into_iter().flatten() {
                let id = a.get("id").and_then(Value::as_str).unwrap_or("");
                // Both go into `az ... --api` fix lines: GUIDs only.
                if crate::guid::is_guid(id) && resource.is_some_and(crate::guid::is_guid) {
                    elsewhere.push(Elsewhere {
                        resource_app_id: resource.unwrap_or("").to_ascii_lowercase(),
                        guid: id.to_ascii_lowercase(),
                        kind: a
                            .get("type")
                            .and_then(Value::as_str)
                            .and_then(PermKind::parse),
                    });
                }
            }
            continue;
        }
        lists_mde = true;
        let access = res.get("resourceAccess").and_then(Value::as_array);
        for a in access.into_iter().flatten() {
            let id = a.get("id").and_then(Value::as_str).unwrap_or("");
            let ty = a.get("type").and_then(Value::as_str).unwrap_or("");
            if !crate::guid::is_guid(id) {
                return Err(Error::input(format!(
                    "{what}: a WindowsDefenderATP resourceAccess \"id\" \"{}\" is not a GUID",
                    crate::error::Snippet(id)
                )));
            }
            let Some(kind) = PermKind::parse(ty) else {
                return Err(Error::input(format!(
                    "{what}: resourceAccess {id} has type \"{}\"; expected \"Role\" or \"Scope\"",
                    crate::error::Snippet(ty)
                )));
            };
            let r = Requested {
                guid: id.to_ascii_lowercase(),
                kind,
            };
            if !out.contains(&r) {
                out.push(r);
            }
        }
    }
    Ok((out, lists_mde, elsewhere))
}

fn strings(v: Option<&Value>) -> impl Iterator<Item = String> + '_ {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .map(str::to_string)
}

fn graph_redirects(o: &Map<String, Value>) -> Vec<RedirectUri> {
    let mut out = Vec::new();
    for kind in ["web", "publicClient", "spa"] {
        for uri in strings(o.get(kind).and_then(|w| w.get("redirectUris"))) {
            out.push(RedirectUri {
                kind: kind.to_string(),
                uri,
            });
        }
    }
    out
}

fn aad_redirects(o: &Map<String, Value>) -> Vec<RedirectUri> {
    let mut out: Vec<RedirectUri> = Vec::new();
    for r in o
        .get("replyUrlsWithType")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(url) = r.get("url").and_then(Value::as_str)
            && !url.trim().is_empty()
        {
            out.push(RedirectUri {
                kind: r
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("Web")
                    .to_string(),
                uri: url.to_string(),
            });
        }
    }
    for uri in strings(o.get("replyUrls")) {
        if !out.iter().any(|r| r.uri == uri) {
            out.push(RedirectUri {
                kind: "Web".to_string(),
                uri,
            });
        }
    }
    out
}

fn credential(c: &Map<String, Value>, kind: CredKind) -> Option<AppCredential> {
    let s = |k: &str| {
        c.get(k)
            .and_then(Value::as_str)
            .filter(|v| !v.trim().is_empty())
    };
    // Only a `Verify` certificate is a client credential: `Sign` ones sign
    // SAML tokens and `Encrypt` ones encrypt tokens for the app.
    if kind == CredKind::Certificate
        && s("usage").is_some_and(|u| !u.eq_ignore_ascii_case("Verify"))
    {
        return None;
    }
    // The id goes into `az ... --key-id` fix lines: a GUID or nothing.
    let key_id = s("keyId")
        .filter(|k| crate::guid::is_guid(k))
        .map(str::to_ascii_lowercase);
    let name = s("displayName")
        .map(str::to_string)
        .or_else(|| {
            // AAD Graph secrets keep their description base64-encoded here.
            s("customKeyIdentifier")
                .filter(|_| kind == CredKind::Secret)
                .and_then(decode_description)
        })
        .or_else(|| key_id.clone())
        .unwrap_or_else(|| "(unnamed)".to_string());
    // A number is no date the exports write: named as unreadable.
    let number = ["endDateTime", "endDate"]
        .iter()
        .find_map(|k| c.get(*k).filter(|v| v.is_number()).map(Value::to_string));
    let end = s("endDateTime")
        .or_else(|| s("endDate"))
        .or(number.as_deref());
    let expires = end.and_then(parse_time);
    let unreadable_end = end
        .filter(|e| expires.is_none() && !e.trim().is_empty())
        .map(str::to_string);
    let starts = s("startDateTime")
        .or_else(|| s("startDate"))
        .and_then(parse_time);
    Some(AppCredential {
        kind,
        name,
        key_id,
        expires,
        starts,
        unreadable_end,
    })
}

/// A base64 description in UTF-8 or UTF-16LE, if it decodes to printable text.
fn decode_description(b64: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let text = if bytes.len() >= 2 && bytes.len() % 2 == 0 && bytes[1] == 0 {
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|p| u16::from_le_bytes([p[0], p[1]]))
            .collect();
        String::from_utf16(&units).ok()?
    } else {
        String::from_utf8(bytes).ok()?
    };
    let printable = !text.is_empty() && text.chars().all(|c| !c.is_control());
    printable.then_some(text)
}

/// RFC 3339, or a date-time without a zone (read as UTC).
pub fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp());
    }
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(t.and_utc().timestamp());
    }
    // A date alone (midnight UTC), and .NET's JSON date `/Date(ms)/` as
    // older exports write it.
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp());
    }
    let ms = s
        .trim_start_matches('\\')
        .strip_prefix("/Date(")?
        .split([')', '+', '-'])
        .next()?
        .parse::<i64>()
        .ok()?;
    Some(ms.div_euclid(1000))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn descriptions_and_times() {
        // "prod" in UTF-16LE, as the portal wrote AAD Graph descriptions.
        assert_eq!(decode_description("cAByAG8AZAA=").as_deref(), Some("prod"));
        assert_eq!(decode_description("cHJvZA==").as_deref(), Some("prod"));
        assert_eq!(parse_time("2026-03-02T09:30:00Z"), Some(1772443800));
        assert_eq!(parse_time("2026-03-02T09:30:00.123"), Some(1772443800));
        assert_eq!(parse_time("soon"), None);
        assert_eq!(parse_time("2026-03-02"), Some(1772409600));
        assert_eq!(parse_time("/Date(1772443800000)/"), Some(1772443800));
        assert_eq!(parse_time("\\/Date(1772443800000)\\/"), Some(1772443800));
    }

    #[test]
    fn neither_shape_is_refused_naming_what_is_missing() {
        let e = AppRegistration::parse(
            &json!({"appId": MDE_APP_ID, "requiredResourceAccess": []}),
            "x.json",
        )
        .unwrap_err();
        assert!(e.to_string().contains("signInAudience"), "{e}");
        let e = AppRegistration::parse(&json!({"displayName": "a"}), "x.json").unwrap_err();
        assert!(e.to_string().contains("\"appId\""), "{e}");
    }
}
