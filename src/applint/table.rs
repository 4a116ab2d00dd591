//! WindowsDefenderATP permission names and GUIDs: the built-in table from
//! `data/permission-guids.json`, or the tenant's own service principal export.

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};

/// The WindowsDefenderATP first-party application id.
pub use crate::resource::MDE_APP_ID;

use crate::permissions::PermKind;

/// How far a GUID can be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// Seen in several independent sources.
    High,
    /// From a single source ("GUID from a single source").
    Medium,
    /// From the tenant's own WindowsDefenderATP service principal.
    Tenant,
}

impl Confidence {
    /// The confidence the GUID file gives (`high ...` or anything else,
    /// which is a single source).
    pub fn of_data(text: &str) -> Confidence {
        if text.starts_with("high") {
            Confidence::High
        } else {
            Confidence::Medium
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::High => "high",
            Confidence::Medium => "medium",
            Confidence::Tenant => "tenant",
        }
    }
}

/// The note shown beside medium-confidence GUIDs.
pub const SINGLE_SOURCE: &str = "GUID from a single source";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermEntry {
    pub name: String,
    /// Lower-case GUID.
    pub guid: String,
    pub kind: PermKind,
    pub confidence: Confidence,
    /// An app role only users can hold (`allowedMemberTypes` without
    /// `Application`: the legacy portal roles such as `secop`): no app can
    /// be granted it.
    pub user_only: bool,
}

/// Where the table came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TableSource {
    BuiltIn,
    ServicePrincipal,
}

#[derive(Debug, Clone)]
pub struct PermissionTable {
    pub entries: Vec<PermEntry>,
    pub source: TableSource,
    /// Object id of the tenant's WindowsDefenderATP service principal, when known.
    pub sp_object_id: Option<String>,
}

#[derive(Deserialize)]
struct BuiltInFile {
    application_roles: Vec<BuiltInEntry>,
    delegated_scopes: Vec<BuiltInEntry>,
}

#[derive(Deserialize)]
struct BuiltInEntry {
    value: String,
    id: String,
    confidence: String,
}

static BUILT_IN: LazyLock<PermissionTable> = LazyLock::new(|| {
    let file: BuiltInFile = serde_json::from_str(include_str!("../../data/permission-guids.json"))
        .expect("data/permission-guids.json is valid (checked by tests)");
    let conv = |e: &BuiltInEntry, kind| PermEntry {
        name: e.value.clone(),
        guid: e.id.to_ascii_lowercase(),
        kind,
        confidence: Confidence::of_data(&e.confidence),
        user_only: crate::permissions::get(kind, &e.value).is_some_and(|p| p.users_only()),
    };
    let mut entries: Vec<PermEntry> = file
        .application_roles
        .iter()
        .map(|e| conv(e, PermKind::Role))
        .collect();
    entries.extend(
        file.delegated_scopes
            .iter()
            .map(|e| conv(e, PermKind::Scope)),
    );
    PermissionTable {
        entries,
        source: TableSource::BuiltIn,
        sp_object_id: None,
    }
});

impl PermissionTable {
    /// The table compiled into the binary.
    pub fn built_in() -> PermissionTable {
        BUILT_IN.clone()
    }

    /// The table from a WindowsDefenderATP service principal document:
    /// `az ad sp show` (Microsoft Graph: `appRoles`, `oauth2PermissionScopes`),
    /// the AAD Graph form (`oauth2Permissions`), or a Graph `{"value":[sp]}` list.
    pub fn from_service_principal(doc: &Value, what: &str) -> Result<PermissionTable> {
        let sp = single_object(doc, what)?;
        if sp.contains_key("requiredResourceAccess") {
            return Err(Error::input(format!(
                "{what} is an app registration, not a service principal export"
            ))
            .with_hint(format!(
                "export the WindowsDefenderATP service principal: az ad sp show --id {MDE_APP_ID}"
            )));
        }
        if let Some(app_id) = sp.get("appId").and_then(Value::as_str)
            && !app_id.eq_ignore_ascii_case(MDE_APP_ID)
        {
            let name = sp
                .get("displayName")
                .and_then(Value::as_str)
                .unwrap_or("another application");
            return Err(Error::input(format!(
                "{what} is the service principal of {name:?} ({app_id}), not WindowsDefenderATP"
            ))
            .with_hint(format!(
                "export the right one: az ad sp show --id {MDE_APP_ID}"
            )));
        }
        let Some(roles) = sp.get("appRoles").and_then(Value::as_array) else {
            return Err(Error::input(format!(
                "{what} is not a service principal export: it has no \"appRoles\" list"
            ))
            .with_hint(format!("export it with: az ad sp show --id {MDE_APP_ID}")));
        };
        let mut entries = Vec::new();
        for r in roles {
            // Roles only users can hold (the legacy portal roles) are kept,
            // marked, so a request for one is named as such.
            if let Some(mut e) = sp_entry(r, PermKind::Role) {
                e.user_only = r
                    .get("allowedMemberTypes")
                    .and_then(Value::as_array)
                    .is_some_and(|t| !t.iter().any(|t| t.as_str() == Some("Application")));
                entries.push(e);
            }
        }
        let scopes = sp
            .get("oauth2PermissionScopes")
            .or_else(|| sp.get("oauth2Permissions"))
            .and_then(Value::as_array);
        for s in scopes.into_iter().flatten() {
            if let Some(e) = sp_entry(s, PermKind::Scope) {
                entries.push(e);
            }
        }
        Ok(PermissionTable {
            entries,
            source: TableSource::ServicePrincipal,
            sp_object_id: sp
                .get("id")
                .or_else(|| sp.get("objectId"))
                .and_then(Value::as_str)
                .map(str::to_ascii_lowercase),
        })
    }

    /// The permission with this GUID and kind.
    pub fn by_guid(&self, guid: &str, kind: PermKind) -> Option<&PermEntry> {
        self.entries
            .iter()
            .find(|e| e.kind == kind && e.guid.eq_ignore_ascii_case(guid))
    }

    /// The permission with this exact name and kind.
    pub fn by_name(&self, name: &str, kind: PermKind) -> Option<&PermEntry> {
        self.entries
            .iter()
            .find(|e| e.kind == kind && e.name == name)
    }

    /// The permission with this name, ignoring case.
    pub fn by_name_ignore_case(&self, name: &str, kind: PermKind) -> Option<&PermEntry> {
        self.entries
            .iter()
            .find(|e| e.kind == kind && e.name.eq_ignore_ascii_case(name))
    }

    /// The permissions of the other kind that correspond to `name`
    /// (`Machine.Read.All` ↔ `Machine.Read`, `File.Read.All` ↔ `File.Read.All`).
    pub fn counterparts(&self, name: &str, kind: PermKind) -> Vec<&PermEntry> {
        let base = base_name(name);
        self.entries
            .iter()
            .filter(|e| e.kind == kind.other() && base_name(&e.name).eq_ignore_ascii_case(base))
            .collect()
    }
}

/// A name without its trailing `.All`.
fn base_name(name: &str) -> &str {
    name.strip_suffix(".All").unwrap_or(name)
}

fn sp_entry(v: &Value, kind: PermKind) -> Option<PermEntry> {
    let id = v.get("id").and_then(Value::as_str)?;
    let name = v.get("value").and_then(Value::as_str)?;
    if !crate::guid::is_guid(id) || name.is_empty() {
        return None;
    }
    Some(PermEntry {
        name: name.to_string(),
        guid: id.to_ascii_lowercase(),
        kind,
        confidence: Confidence::Tenant,
        user_only: false,
    })
}

/// The one object in a document that may be the object itself, a one-element
/// array (`az ... list`) or a Graph collection `{"value":[...]}`.
pub fn single_object<'a>(doc: &'a Value, what: &str) -> Result<&'a serde_json::Map<String, Value>> {
    // A Graph collection: `value` and only OData annotations beside it
    // (`@odata.context`, `@odata.count`, `@odata.nextLink`; the AAD Graph
    // API writes `odata.metadata`, `odata.nextLink`).
    let collection = |o: &serde_json::Map<String, Value>| {
        o.get("value").is_some_and(Value::is_array)
            && o.keys()
                .all(|k| k == "value" || k.strip_prefix('@').unwrap_or(k).starts_with("odata."))
    };
    let list = match doc {
        Value::Array(a) => Some(a),
        Value::Object(o) if collection(o) => o.get("value").and_then(Value::as_array),
        _ => None,
    };
    let item = match list {
        Some(a) if a.len() == 1 => &a[0],
        Some(a) if a.is_empty() => {
            return Err(Error::input(format!("{what} is an empty list"))
                .with_hint("the query matched nothing: check the app or service principal id, and the tenant you are signed in to"));
        }
        Some(a) => {
            return Err(Error::input(format!(
                "{what} is a list of {} objects; give one",
                a.len()
            ))
            .with_hint("narrow the query to one object (az ad app show --id <appId>), or save just that object"));
        }
        None => doc,
    };
    item.as_object().ok_or_else(|| {
        Error::input(format!("{what} is not a JSON object"))
            .with_hint("give the JSON of one app registration (az ad app show --id <appId>) or service principal (az ad sp show --id <appId>)")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_table_loads_and_flags_single_source_guids() {
        let t = PermissionTable::built_in();
        let r = t.by_name("Machine.Read.All", PermKind::Role).unwrap();
        assert_eq!(r.guid, "ea8291d3-4b9a-44b5-bc3a-6cea3026dc79");
        assert_eq!(r.confidence, Confidence::High);
        let s = t.by_name("Machine.Isolate", PermKind::Scope).unwrap();
        assert_eq!(s.confidence, Confidence::Medium);
        assert!(
            t.by_guid("fbd3d33a-b1f5-4573-906c-51b39682fbcf", PermKind::Scope)
                .is_some()
        );
        let c: Vec<_> = t
            .counterparts("Machine.Read.All", PermKind::Role)
            .iter()
            .map(|e| e.name.clone())
            .collect();
        assert_eq!(c, ["Machine.Read"]);
    }

    #[test]
    fn aad_graph_service_principal_shape() {
        let sp = serde_json::json!({
            "objectId": "9D3A1C2B-8E7F-4A6B-B5C4-D3E2F1A0B9C8",
            "appId": MDE_APP_ID,
            "appRoles": [{"allowedMemberTypes": ["Application"], "id": "ea8291d3-4b9a-44b5-bc3a-6cea3026dc79", "value": "Machine.Read.All"},
                         {"allowedMemberTypes": ["User"], "id": "2261fd4a-5f23-4b74-9e4d-f4ac92dc86a2", "value": "secop"}],
            "oauth2Permissions": [{"id": "b2069dc0-9fe9-4e6d-9aca-ccf3dd503819", "value": "Alert.Read", "type": "User"}]
        });
        let t = PermissionTable::from_service_principal(&sp, "sp").unwrap();
        assert_eq!(t.source, TableSource::ServicePrincipal);
        assert_eq!(
            t.sp_object_id.as_deref(),
            Some("9d3a1c2b-8e7f-4a6b-b5c4-d3e2f1a0b9c8")
        );
        assert_eq!(t.entries.len(), 3);
        // Kept to name a request for it, marked: no app can hold it.
        let secop = t
            .by_guid("2261fd4a-5f23-4b74-9e4d-f4ac92dc86a2", PermKind::Role)
            .unwrap();
        assert!(secop.user_only);
        assert!(
            !t.by_name("Machine.Read.All", PermKind::Role)
                .unwrap()
                .user_only
        );
        assert_eq!(
            t.by_guid("b2069dc0-9fe9-4e6d-9aca-ccf3dd503819", PermKind::Scope)
                .unwrap()
                .confidence,
            Confidence::Tenant
        );
        let other = serde_json::json!({"appId": "00000003-0000-0000-c000-000000000000", "displayName": "Microsoft Graph", "appRoles": []});
        let e = PermissionTable::from_service_principal(&other, "sp").unwrap_err();
        assert!(e.to_string().contains("not WindowsDefenderATP"), "{e}");
    }
}
