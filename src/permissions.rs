//! WindowsDefenderATP permission names and ids, from `data/permission-guids.json`:
//! application permissions (app roles, token `roles`) and delegated
//! permissions (OAuth2 scopes, token `scp`).

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

/// Which kind of permission: an application permission (app role, token
/// `roles`) or a delegated permission (OAuth2 scope, token `scp`), as
/// `requiredResourceAccess` writes them (`Role` / `Scope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum PermKind {
    /// Application permission (appRole), granted by admin consent, shows in `roles`.
    Role,
    /// Delegated permission (oauth2PermissionScope), shows in `scp`.
    Scope,
}

impl PermKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PermKind::Role => "Role",
            PermKind::Scope => "Scope",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            PermKind::Role => "application permission (Role)",
            PermKind::Scope => "delegated permission (Scope)",
        }
    }

    /// `an application permission (Role)` / `a delegated permission (Scope)`.
    pub fn with_article(self) -> &'static str {
        match self {
            PermKind::Role => "an application permission (Role)",
            PermKind::Scope => "a delegated permission (Scope)",
        }
    }

    pub fn other(self) -> PermKind {
        match self {
            PermKind::Role => PermKind::Scope,
            PermKind::Scope => PermKind::Role,
        }
    }

    /// `Role` / `Scope`, case-insensitively.
    pub fn parse(s: &str) -> Option<PermKind> {
        if s.eq_ignore_ascii_case("role") {
            Some(PermKind::Role)
        } else if s.eq_ignore_ascii_case("scope") {
            Some(PermKind::Scope)
        } else {
            None
        }
    }
}

/// The permission context an app works in against the MDE API. A token's
/// own context (which may also be neither) is [`crate::token::Context`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum PermContext {
    /// App-only tokens (a daemon): application permissions, token `roles`.
    Application,
    /// Tokens for a signed-in user: delegated permissions, token `scp`.
    Delegated,
}

impl PermContext {
    pub fn as_str(self) -> &'static str {
        match self {
            PermContext::Application => "application",
            PermContext::Delegated => "delegated",
        }
    }

    /// Which kind of permission this context uses.
    pub fn perm_kind(self) -> PermKind {
        match self {
            PermContext::Application => PermKind::Role,
            PermContext::Delegated => PermKind::Scope,
        }
    }

    /// The other context.
    pub fn other(self) -> PermContext {
        match self {
            PermContext::Application => PermContext::Delegated,
            PermContext::Delegated => PermContext::Application,
        }
    }
}

/// One permission the WindowsDefenderATP app defines.
#[derive(Debug, Clone, Deserialize)]
pub struct Permission {
    /// The value tokens carry, e.g. `Machine.Isolate`.
    pub value: String,
    /// The appRole / scope id (the same in every tenant).
    pub id: String,
    #[serde(rename = "displayName")]
    pub display_name: String,
    /// `high` or `medium` (see the data file's sources).
    pub confidence: String,
    /// What the permission does not reach that a broader one does, said
    /// whenever it is suggested in place of the broader one.
    #[serde(default)]
    pub caveat: Option<String>,
    /// Who may hold the app role (`Application`, `User`), as the service
    /// principal's `allowedMemberTypes`; empty means applications.
    #[serde(default, rename = "allowedMemberTypes")]
    pub allowed_member_types: Vec<String>,
    /// What the permission is, when its kind alone would mislead.
    #[serde(default)]
    pub note: Option<String>,
}

impl Permission {
    /// An app role only users can hold (the legacy portal roles `secop`,
    /// `readonly`): not an application permission.
    pub fn users_only(&self) -> bool {
        !self.allowed_member_types.is_empty()
            && !self.allowed_member_types.iter().any(|t| t == "Application")
    }
}

#[derive(Debug, Deserialize)]
pub struct ResourceApp {
    #[serde(rename = "displayName")]
    pub display_name: String,
    #[serde(rename = "appId")]
    pub app_id: String,
}

#[derive(Debug, Deserialize)]
struct File {
    resource_app: ResourceApp,
    application_roles: Vec<Permission>,
    delegated_scopes: Vec<Permission>,
}

static DATA: LazyLock<File> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../data/permission-guids.json"))
        .expect("data/permission-guids.json is valid (checked by tests)")
});

/// The resource application the permissions belong to (WindowsDefenderATP).
pub fn resource_app() -> &'static ResourceApp {
    &DATA.resource_app
}

/// Every application permission (app role).
pub fn roles() -> &'static [Permission] {
    &DATA.application_roles
}

/// Every delegated permission (scope).
pub fn scopes() -> &'static [Permission] {
    &DATA.delegated_scopes
}

/// The permission of this type with exactly this value.
pub fn get(kind: PermKind, value: &str) -> Option<&'static Permission> {
    let list = match kind {
        PermKind::Role => roles(),
        PermKind::Scope => scopes(),
    };
    list.iter().find(|p| p.value == value)
}

/// The caveat of a permission suggested in place of a broader one, as a
/// sentence about it: `Ti.ReadWrite reaches only the indicators ...`.
pub fn caveat(kind: PermKind, value: &str) -> Option<String> {
    get(kind, value)
        .and_then(|p| p.caveat.as_deref())
        .map(|c| format!("{value} {c}"))
}

/// The caveats of these permissions, joined (empty when none has one).
pub fn caveats<'a>(kind: PermKind, values: impl IntoIterator<Item = &'a String>) -> Vec<String> {
    values.into_iter().filter_map(|v| caveat(kind, v)).collect()
}

/// The value as tokens spell it, for a name given in any letter case
/// (`url.read.all` → `Url.Read.All`), looking at roles and scopes.
pub fn canonical(name: &str) -> Option<&'static str> {
    roles()
        .iter()
        .chain(scopes())
        .find(|p| p.value.eq_ignore_ascii_case(name.trim()))
        .map(|p| p.value.as_str())
}

/// Every distinct permission value, roles first.
pub fn all_values() -> Vec<&'static str> {
    let mut out: Vec<&str> = Vec::new();
    for p in roles().iter().chain(scopes()) {
        if !out.contains(&p.value.as_str()) {
            out.push(&p.value);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_file_loads() {
        assert_eq!(resource_app().app_id, crate::resource::MDE_APP_ID);
        assert_eq!(
            get(PermKind::Role, "Machine.Isolate").map(|p| p.id.as_str()),
            Some("7e4e1300-e1b9-4102-88ba-f0cb6e6d5974")
        );
        assert_eq!(
            get(PermKind::Scope, "Machine.Read").map(|p| p.id.as_str()),
            Some("fbd3d33a-b1f5-4573-906c-51b39682fbcf")
        );
        assert!(get(PermKind::Scope, "Machine.Read.All").is_none());
        assert_eq!(canonical("URL.READ.ALL"), Some("Url.Read.All"));
        for p in roles().iter().chain(scopes()) {
            assert!(crate::guid::is_guid(&p.id), "{} id {}", p.value, p.id);
        }
        let secop = get(PermKind::Role, "secop").unwrap();
        assert!(secop.users_only() && secop.note.is_some());
        assert!(!get(PermKind::Role, "Machine.Isolate").unwrap().users_only());
    }
}
