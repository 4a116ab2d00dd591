//! What has actually been granted to the app's service principal: app-role
//! assignments (application permissions, admin consent) and OAuth2
//! permission grants (delegated permissions).

use serde_json::Value;

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleAssignment {
    /// Lower-case app role GUID.
    pub app_role_id: String,
    /// The assignment's own id (Graph's are base64url text, not GUIDs) and
    /// its principal's object id (a GUID), when the export gives them in
    /// those shapes: they go into a DELETE fix line, so nothing else does.
    pub id: Option<String>,
    pub principal_id: Option<String>,
    /// Object id of the resource service principal, lower-case.
    pub resource_id: Option<String>,
    pub resource_display_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeGrant {
    pub resource_id: Option<String>,
    /// The resource's name when the export gives it (`az` adds it): a
    /// grant named for another API is not WindowsDefenderATP's.
    pub resource_display_name: Option<String>,
    /// `AllPrincipals` (admin consent) or `Principal` (one user).
    pub consent_type: Option<String>,
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants {
    pub roles: Vec<RoleAssignment>,
    pub scopes: Vec<ScopeGrant>,
    /// The distinct principals the entries name (app-role assignments'
    /// `principalId`, grants' `clientId`), lower-case.
    pub principals: Vec<String>,
}

impl Grants {
    /// Read a grants export: a Graph collection `{"value":[...]}` or a bare
    /// array of app-role assignments and/or OAuth2 permission grants (told
    /// apart by their fields), or an object holding either under
    /// `appRoleAssignments` / `oauth2PermissionGrants`.
    pub fn parse(doc: &Value, what: &str) -> Result<Grants> {
        let mut g = Grants::default();
        let keyed = ["appRoleAssignments", "oauth2PermissionGrants"];
        let mut found = false;
        if let Some(o) = doc.as_object()
            && keyed.iter().any(|k| o.contains_key(*k))
        {
            for k in keyed {
                if let Some(v) = o.get(k) {
                    g.add_list(v, what)?;
                    found = true;
                }
            }
        } else {
            g.add_list(doc, what)?;
            found = doc.is_array() || doc.get("value").is_some();
        }
        if !found {
            return Err(not_grants(what));
        }
        // One app's grants: assignments to several principals are another
        // export (a resource's appRoleAssignedTo, a tenant-wide list), and
        // counting them would credit this app with others' permissions.
        if g.principals.len() > 1 {
            return Err(Error::input(format!(
                "{what} holds grants of {} different principals (principalId / clientId): it is not one app's export",
                g.principals.len()
            ))
            .with_hint(grants_hint()));
        }
        Ok(g)
    }

    fn add_list(&mut self, v: &Value, what: &str) -> Result<()> {
        let items = match v {
            Value::Array(a) => a,
            Value::Object(o) => match o.get("value").and_then(Value::as_array) {
                Some(a) => a,
                None => return Err(not_grants(what)),
            },
            _ => return Err(not_grants(what)),
        };
        for item in items {
            self.add_item(item, what)?;
        }
        Ok(())
    }

    /// Add one Graph object: an appRoleAssignment or an oauth2PermissionGrant.
    pub fn add_item(&mut self, item: &Value, what: &str) -> Result<()> {
        let s = |k: &str| item.get(k).and_then(Value::as_str).map(str::to_string);
        let principal = if item.get("appRoleId").is_some() {
            s("principalId")
        } else {
            s("clientId")
        };
        if let Some(p) = principal.filter(|p| !p.trim().is_empty()) {
            let p = p.to_ascii_lowercase();
            if !self.principals.contains(&p) {
                self.principals.push(p);
            }
        }
        if let Some(role) = s("appRoleId") {
            let assignment_id = s("id").filter(|v| {
                (8..=128).contains(&v.len())
                    && v.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            });
            self.roles.push(RoleAssignment {
                app_role_id: role.to_ascii_lowercase(),
                id: assignment_id,
                principal_id: s("principalId")
                    .filter(|v| crate::guid::is_guid(v))
                    .map(|v| v.to_ascii_lowercase()),
                resource_id: s("resourceId").map(|r| r.to_ascii_lowercase()),
                resource_display_name: s("resourceDisplayName"),
            });
        } else if let Some(scope) = s("scope") {
            self.scopes.push(ScopeGrant {
                resource_id: s("resourceId").map(|r| r.to_ascii_lowercase()),
                resource_display_name: s("resourceDisplayName"),
                consent_type: s("consentType"),
                scopes: scope.split_whitespace().map(str::to_string).collect(),
            });
        } else {
            return Err(Error::input(format!(
                "{what}: an entry has neither \"appRoleId\" (app-role assignment) nor \"scope\" (OAuth2 permission grant)"
            ))
            .with_hint(grants_hint()));
        }
        Ok(())
    }

    /// Is this application permission assigned? `resource` is the
    /// WindowsDefenderATP service principal's object id when known.
    pub fn has_role(&self, guid: &str, resource: Option<&str>) -> bool {
        self.role_assignment(guid, resource).is_some()
    }

    /// The assignment of this application permission, if any.
    pub fn role_assignment(&self, guid: &str, resource: Option<&str>) -> Option<&RoleAssignment> {
        self.roles.iter().find(|r| {
            r.app_role_id.eq_ignore_ascii_case(guid)
                && match (resource, &r.resource_id, &r.resource_display_name) {
                    (Some(want), Some(got), _) => want.eq_ignore_ascii_case(got),
                    (_, _, Some(name)) => name == "WindowsDefenderATP",
                    _ => true,
                }
        })
    }

    /// The WindowsDefenderATP service principal's object id as far as the
    /// export says: the resource of its app-role assignments named so.
    pub fn mde_resource_id(&self) -> Option<&str> {
        self.roles
            .iter()
            .filter(|r| r.resource_display_name.as_deref() == Some("WindowsDefenderATP"))
            .find_map(|r| r.resource_id.as_deref())
    }

    /// Whose the export's delegated grants are, as far as it says: the
    /// resource `sp` names (`--sp`) or the export names; else, for grants
    /// all on one resource, the scope names decide. A name WindowsDefenderATP
    /// does not define (Graph's `User.Read`, `openid`) makes that resource
    /// another API's; a name only WindowsDefenderATP defines makes it
    /// WindowsDefenderATP's; names both define (`User.Read.All`) leave it
    /// open when the app also requests another API's delegated permissions
    /// (`other_scopes`), and take it to be WindowsDefenderATP's otherwise.
    pub fn scope_owner<'a>(&'a self, sp: Option<&'a str>, other_scopes: bool) -> ScopeOwner<'a> {
        if let Some(r) = sp.or(self.mde_resource_id()) {
            return ScopeOwner::Resource(r);
        }
        if self.scopes_on_several_resources() {
            return ScopeOwner::Unknown;
        }
        let names = || self.scopes.iter().flat_map(|g| g.scopes.iter());
        let is_mde =
            |n: &str| crate::permissions::get(crate::permissions::PermKind::Scope, n).is_some();
        if names().any(|n| !is_mde(n)) {
            return ScopeOwner::NotInExport;
        }
        let mde_only = names().any(|n| !SHARED_WITH_GRAPH.contains(&n.as_str()));
        if other_scopes && !self.scopes.is_empty() && !mde_only {
            return ScopeOwner::Unknown;
        }
        ScopeOwner::TheOnlyOne
    }

    /// Whether the delegated permission `name` is granted, as far as the
    /// export says (`None`: it cannot say; see [`Grants::scope_owner`]).
    pub fn scope_granted(&self, name: &str, sp: Option<&str>, other_scopes: bool) -> Option<bool> {
        match self.scope_owner(sp, other_scopes) {
            ScopeOwner::Resource(r) => Some(self.has_scope(name, Some(r))),
            ScopeOwner::TheOnlyOne => Some(self.has_scope(name, None)),
            ScopeOwner::NotInExport => Some(false),
            ScopeOwner::Unknown => None,
        }
    }

    /// True when the delegated grants are on more than one resource.
    pub fn scopes_on_several_resources(&self) -> bool {
        let mut ids = self.scopes.iter().filter_map(|g| g.resource_id.as_deref());
        let first = ids.next();
        ids.any(|id| Some(id) != first)
    }

    /// Is this delegated permission granted (by admin or at least one user)?
    pub fn has_scope(&self, name: &str, resource: Option<&str>) -> bool {
        self.scopes.iter().any(|g| {
            g.scopes.iter().any(|s| s == name)
                && g.resource_display_name
                    .as_deref()
                    .is_none_or(|n| n == "WindowsDefenderATP")
                && match (resource, &g.resource_id) {
                    (Some(want), Some(got)) => want.eq_ignore_ascii_case(got),
                    _ => true,
                }
        })
    }
}

/// Delegated permission names Microsoft Graph defines too (aad-facts.md
/// section 7.2): a grant holding only these may be either API's.
const SHARED_WITH_GRAPH: [&str; 1] = ["User.Read.All"];

/// Whose delegated grants an export holds: see [`Grants::scope_owner`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeOwner<'a> {
    /// WindowsDefenderATP's service principal, by its object id.
    Resource(&'a str),
    /// The one resource the grants are on (or none), taken to be it.
    TheOnlyOne,
    /// The grants are another API's: WindowsDefenderATP has none here.
    NotInExport,
    /// The export cannot say.
    Unknown,
}

fn grants_hint() -> String {
    "export them with az rest --uri https://graph.microsoft.com/v1.0/servicePrincipals/<sp-id>/appRoleAssignments \
     (and .../oauth2PermissionGrants for delegated permissions)"
        .to_string()
}

fn not_grants(what: &str) -> Error {
    Error::input(format!(
        "{what} is not a grants export: expected {{\"value\":[...]}}, an array, or \"appRoleAssignments\"/\"oauth2PermissionGrants\""
    ))
    .with_hint(grants_hint())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn both_kinds_detected_by_fields() {
        let g = Grants::parse(
            &json!({"value": [
                {"appRoleId": "EA8291D3-4B9A-44B5-BC3A-6CEA3026DC79", "resourceId": "r1", "resourceDisplayName": "WindowsDefenderATP"},
                {"clientId": "c", "consentType": "AllPrincipals", "resourceId": "r1", "scope": " Machine.Read Alert.Read "}
            ]}),
            "g.json",
        )
        .unwrap();
        assert!(g.has_role("ea8291d3-4b9a-44b5-bc3a-6cea3026dc79", None));
        assert!(g.has_role("ea8291d3-4b9a-44b5-bc3a-6cea3026dc79", Some("R1")));
        assert!(!g.has_role("ea8291d3-4b9a-44b5-bc3a-6cea3026dc79", Some("r2")));
        assert!(g.has_scope("Alert.Read", None));
        assert!(!g.has_scope("Alert.ReadWrite", None));
        assert!(Grants::parse(&json!({"foo": 1}), "g.json").is_err());
        let keyed = Grants::parse(
            &json!({"appRoleAssignments": [], "oauth2PermissionGrants": {"value": []}}),
            "g.json",
        )
        .unwrap();
        assert_eq!(keyed, Grants::default());
    }
}
