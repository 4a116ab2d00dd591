//! What the app registration is supposed to do: the boundary between the
//! lint and whoever knows the plan.
//!
//! The `app` command builds an [`Intent`] from `--permission` flags; a plan
//! file or `--call` builds one from the MDE permission catalogue. The lint
//! only ever sees this type.

use crate::permissions::PermContext;

/// One API call the plan makes and the permissions it needs.
#[derive(Debug, Clone)]
pub struct PlannedCall {
    /// How the call is shown in findings, e.g. `GET /api/alerts`.
    pub label: String,
    /// All of these groups must be satisfied; a group is satisfied by any one
    /// of its permission names (the API docs' "one of the following").
    pub requirements: Vec<Vec<String>>,
    /// The catalogue row, for what the documentation says about the call
    /// (`None` for `--permission`).
    pub row: Option<&'static crate::catalog::Call>,
}

/// How the app authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// Client secret (client-credentials or a confidential web app).
    Secret,
    /// Certificate (client assertion).
    Certificate,
    /// Username and password (resource-owner password grant): needs public client flows.
    UserPassword,
    /// Device-code flow: needs public client flows.
    DeviceCode,
    /// An Azure managed identity: no app secret or certificate at all.
    ManagedIdentity,
    /// Interactive sign-in (authorization code): needs a redirect URI.
    Interactive,
    /// A federated credential (workload identity federation): another
    /// identity provider's token is the client assertion; it is kept apart
    /// from the manifest, which has no secret or certificate for it.
    Federated,
}

impl Credential {
    pub fn as_str(self) -> &'static str {
        match self {
            Credential::Secret => "secret",
            Credential::Certificate => "certificate",
            Credential::UserPassword => "user",
            Credential::DeviceCode => "device-code",
            Credential::ManagedIdentity => "managed-identity",
            Credential::Interactive => "interactive",
            Credential::Federated => "federated",
        }
    }

    /// True for flows that yield delegated (user) tokens only.
    pub fn is_user_flow(self) -> bool {
        matches!(
            self,
            Credential::UserPassword | Credential::DeviceCode | Credential::Interactive
        )
    }

    /// True for flows that need "Allow public client flows" on the app.
    pub fn needs_public_client(self) -> bool {
        matches!(self, Credential::UserPassword | Credential::DeviceCode)
    }
}

/// Everything the lint needs to know about the plan.
#[derive(Debug, Clone)]
pub struct Intent {
    pub context: PermContext,
    pub calls: Vec<PlannedCall>,
    /// The minimal permission set for the plan (computed by the catalogue).
    pub minimal: Vec<String>,
    /// The plan serves other tenants (`Some(true)`), only its own (`Some(false)`), or does not say.
    pub multi_tenant: Option<bool>,
    pub credential: Option<Credential>,
    /// The plan uses an interactive or consent flow that needs a redirect URI.
    pub interactive_consent: bool,
    /// The plan's `tenant_id`: a single-tenant app's consent link goes to
    /// it when the manifest names no publisher domain.
    pub tenant: Option<String>,
}

impl Intent {
    /// Every permission name the plan mentions: the minimal set and every
    /// call's requirement groups.
    pub fn mentioned(&self) -> impl Iterator<Item = &str> {
        self.minimal.iter().map(String::as_str).chain(
            self.calls
                .iter()
                .flat_map(|c| c.requirements.iter().flatten().map(String::as_str)),
        )
    }

    /// True when the plan names no permission at all (nothing to compare with).
    pub fn is_empty(&self) -> bool {
        self.mentioned().next().is_none()
    }
}
