//! The plan file: what an app is and which MDE calls it makes (TOML).
//!
//! ```toml
//! name = "Contoso SOC automation"
//! tenant_id = "4d7f7e2c-9a51-4c1b-8b8e-2f6a3c1d0e55"
//! client_id = "9b0a3d8e-5c2f-4e71-a1b4-6d3e8f2c7a90"
//! context = "application"        # or "delegated"
//! multi_tenant = false
//! credential = "certificate"     # secret | certificate | federated | managed_identity | user | password | device_code | interactive
//! calls = [
//!   "GET /api/machines",
//!   { call = "POST /api/machines/{id}/isolate", note = "containment playbook" },
//! ]
//! ```
//!
//! Used by `check` and `api`; the app-registration lint and `doctor` reuse [`Plan`].

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::applint;
use crate::catalog::{self, Call};
use crate::error::{Error, Result};
use crate::permissions::PermContext;
use crate::privilege;

/// How the app proves its identity when it gets a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Credential {
    /// Client secret (client-credentials grant).
    Secret,
    /// Certificate (client assertion signed with the app's key).
    Certificate,
    /// Federated identity credential (workload identity federation).
    Federated,
    /// Azure managed identity.
    #[serde(alias = "managed-identity")]
    ManagedIdentity,
    /// A signed-in user (delegated; public or confidential client), the
    /// sign-in flow not said: the lint leaves the flow unchecked.
    User,
    /// A signed-in user, with the password grant (public client flows).
    Password,
    /// A signed-in user, with the device-code flow (public client flows).
    #[serde(alias = "device-code")]
    DeviceCode,
    /// A signed-in user, interactively (authorization code; a redirect URI).
    Interactive,
}

impl Credential {
    pub fn as_str(self) -> &'static str {
        match self {
            Credential::Secret => "secret",
            Credential::Certificate => "certificate",
            Credential::Federated => "federated",
            Credential::ManagedIdentity => "managed_identity",
            Credential::User => "user",
            Credential::Password => "password",
            Credential::DeviceCode => "device_code",
            Credential::Interactive => "interactive",
        }
    }

    /// The context the credential yields tokens in, when it yields only
    /// one: a user's sign-in is delegated, a managed identity app-only.
    pub fn only_context(self) -> Option<PermContext> {
        match self {
            Credential::User
            | Credential::Password
            | Credential::DeviceCode
            | Credential::Interactive => Some(PermContext::Delegated),
            Credential::ManagedIdentity => Some(PermContext::Application),
            Credential::Secret | Credential::Certificate | Credential::Federated => None,
        }
    }

    /// The app lint's credential. `user` does not say which sign-in flow
    /// (interactive, device code, password): it leaves the flow unchecked;
    /// `password`, `device_code` and `interactive` say it, so "Allow public
    /// client flows" and the redirect URI are checked.
    pub fn lint_credential(self) -> Option<applint::Credential> {
        match self {
            Credential::Secret => Some(applint::Credential::Secret),
            Credential::Certificate => Some(applint::Credential::Certificate),
            Credential::ManagedIdentity => Some(applint::Credential::ManagedIdentity),
            Credential::Password => Some(applint::Credential::UserPassword),
            Credential::DeviceCode => Some(applint::Credential::DeviceCode),
            Credential::Interactive => Some(applint::Credential::Interactive),
            Credential::Federated => Some(applint::Credential::Federated),
            Credential::User => None,
        }
    }
}

/// The app lint's intent for a list of calls: each distinct call's
/// requirement groups in `context`, the catalogue's minimal set, and how
/// the app signs in. An interactive or multi-tenant app needs a consent
/// flow, hence a redirect URI. `held` are the permissions the app already
/// requests: among equally narrow alternatives the minimal set keeps them.
pub fn lint_intent(
    rows: &[&'static Call],
    context: PermContext,
    credential: Option<applint::Credential>,
    multi_tenant: Option<bool>,
    held: &[String],
) -> applint::Intent {
    let kind = context.perm_kind();
    let mut distinct: Vec<&'static Call> = Vec::new();
    for &row in rows {
        if !distinct.iter().any(|r| std::ptr::eq(*r, row)) {
            distinct.push(row);
        }
    }
    applint::Intent {
        context,
        calls: distinct
            .iter()
            .map(|r| applint::PlannedCall {
                label: r.label(),
                requirements: r.groups(kind).to_vec(),
                row: Some(*r),
            })
            .collect(),
        minimal: privilege::minimal_holding(&distinct, kind, held)
            .into_iter()
            .map(|n| n.permission)
            .collect(),
        multi_tenant,
        credential,
        interactive_consent: multi_tenant == Some(true)
            || credential == Some(applint::Credential::Interactive),
        tenant: None,
    }
}

/// One call the app makes, as written in the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanCall {
    /// `METHOD PATH` (path, template or URL).
    pub call: String,
    pub note: Option<String>,
    /// 1-based line in the plan file.
    pub line: usize,
}

/// A parsed plan file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub file: PathBuf,
    pub name: String,
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    pub context: Option<PermContext>,
    pub multi_tenant: bool,
    pub credential: Option<Credential>,
    pub calls: Vec<PlanCall>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    name: String,
    tenant_id: Option<toml::Spanned<String>>,
    client_id: Option<toml::Spanned<String>>,
    context: Option<PermContext>,
    #[serde(default)]
    multi_tenant: bool,
    credential: Option<toml::Spanned<Credential>>,
    calls: toml::Spanned<Vec<toml::Spanned<RawCall>>>,
}

struct RawCall {
    call: String,
    note: Option<String>,
}

impl<'de> Deserialize<'de> for RawCall {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawCall;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string \"METHOD PATH\" or a table { call = \"METHOD PATH\", note = \"...\" }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<RawCall, E> {
                Ok(RawCall {
                    call: v.to_string(),
                    note: None,
                })
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut m: A,
            ) -> std::result::Result<RawCall, A::Error> {
                let mut call = None;
                let mut note = None;
                while let Some(k) = m.next_key::<String>()? {
                    match k.as_str() {
                        "call" => call = Some(m.next_value::<String>()?),
                        "note" => note = Some(m.next_value::<String>()?),
                        other => {
                            return Err(de::Error::unknown_field(other, &["call", "note"]));
                        }
                    }
                }
                let call = call.ok_or_else(|| de::Error::missing_field("call"))?;
                Ok(RawCall { call, note })
            }
        }
        d.deserialize_any(V)
    }
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset.min(text.len()))
        .map_or(1, |s| s.matches('\n').count() + 1)
}

impl Plan {
    /// Read and parse a plan file.
    pub fn load(path: &Path) -> Result<Plan> {
        let text = crate::text::read_file(path).map_err(|e| {
            Error::reading(
                &e,
                format!(
                    "cannot read the plan file {}: {e}",
                    crate::input::shown_path(path)
                ),
                Some("give the path of a TOML plan file (see docs/check.md)"),
            )
        })?;
        Plan::parse(&text, path)
    }

    /// Parse plan text; `file` names it in errors (`FILE:LINE: problem`).
    pub fn parse(text: &str, file: &Path) -> Result<Plan> {
        let at = |line: usize, msg: String| {
            Error::input(format!("{}:{line}: {msg}", file.display()))
                .with_hint("see docs/check.md for the plan file format")
        };
        let raw: Raw = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(1, |s| line_of(text, s.start));
            let msg = e
                .message()
                .lines()
                .next()
                .unwrap_or("invalid TOML")
                .trim()
                .to_string();
            at(line, msg)
        })?;
        if raw.name.trim().is_empty() {
            return Err(at(1, "name is empty".into()));
        }
        let guid = |v: Option<toml::Spanned<String>>, what: &str| -> Result<Option<String>> {
            match v {
                None => Ok(None),
                Some(s) => {
                    let line = line_of(text, s.span().start);
                    let val = s.into_inner();
                    if crate::guid::is_guid(val.trim()) {
                        Ok(Some(crate::guid::bare(&val).to_string()))
                    } else {
                        Err(at(line, format!("{what} {val:?} is not a GUID")))
                    }
                }
            }
        };
        let credential = match raw.credential {
            None => None,
            Some(c) => {
                let line = line_of(text, c.span().start);
                let c = c.into_inner();
                if let (Some(ctx), Some(only)) = (raw.context, c.only_context())
                    && ctx != only
                {
                    return Err(at(
                        line,
                        format!(
                            "credential {} yields {} tokens only, but context is {}: set context = \"{}\", or name {}",
                            c.as_str(),
                            only.as_str(),
                            ctx.as_str(),
                            only.as_str(),
                            match ctx {
                                PermContext::Application =>
                                    "an app's own credential (secret, certificate, federated or managed_identity)",
                                PermContext::Delegated =>
                                    "a user's sign-in (user, password, device_code or interactive)",
                            }
                        ),
                    ));
                }
                Some(c)
            }
        };
        let tenant_id = guid(raw.tenant_id, "tenant_id")?;
        let client_line = raw
            .client_id
            .as_ref()
            .map(|c| line_of(text, c.span().start));
        let client_id = guid(raw.client_id, "client_id")?;
        if let (Some(id), Some(line)) = (&client_id, client_line)
            && let Some(why) = crate::consent::not_a_client(id)
        {
            return Err(at(
                line,
                format!(
                    "client_id {id} is {why}: give your app registration's Application (client) ID"
                ),
            ));
        }
        let calls_line = line_of(text, raw.calls.span().start);
        let mut calls = Vec::new();
        for c in raw.calls.into_inner() {
            let line = line_of(text, c.span().start);
            let c = c.into_inner();
            catalog::CallSpec::parse(&c.call).map_err(|e| at(line, e.one_line()))?;
            calls.push(PlanCall {
                call: c.call.trim().to_string(),
                note: c.note,
                line,
            });
        }
        if calls.is_empty() {
            return Err(at(
                calls_line,
                "calls is empty: list the MDE calls the app makes".into(),
            ));
        }
        Ok(Plan {
            file: file.to_path_buf(),
            name: raw.name,
            tenant_id,
            client_id,
            context: raw.context,
            multi_tenant: raw.multi_tenant,
            credential,
            calls,
        })
    }

    /// Every planned call resolved to its catalogue row; an unknown call is
    /// an input error naming the file and line.
    pub fn resolve(&self) -> Result<Vec<(&PlanCall, &'static Call)>> {
        self.calls
            .iter()
            .map(|c| {
                catalog::resolve(&c.call).map(|row| (c, row)).map_err(|e| {
                    let hint = e.hint().map(str::to_string);
                    let err = Error::input(format!("{}:{}: {e}", self.file.display(), c.line));
                    match hint {
                        Some(h) => err.with_hint(h),
                        None => err,
                    }
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<Plan> {
        Plan::parse(text, Path::new("plan.toml"))
    }

    #[test]
    fn parses_strings_and_tables() {
        let plan = p(r#"
name = "x"
tenant_id = "4d7f7e2c-9a51-4c1b-8b8e-2f6a3c1d0e55"
context = "delegated"
credential = "user"
calls = [
  "GET /api/machines",
  { call = "POST /api/machines/{id}/isolate", note = "containment" },
]
"#)
        .unwrap();
        assert_eq!(plan.context, Some(PermContext::Delegated));
        assert_eq!(plan.credential, Some(Credential::User));
        assert!(!plan.multi_tenant);
        assert_eq!(plan.calls.len(), 2);
        assert_eq!(plan.calls[0].line, 7);
        assert_eq!(plan.calls[1].note.as_deref(), Some("containment"));
        assert_eq!(plan.calls[1].line, 8);
        assert_eq!(plan.resolve().unwrap()[1].1.id, "isolate-machine");
    }

    #[test]
    fn example_plans_load_and_resolve() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/plans");
        let mut n = 0;
        for e in std::fs::read_dir(&dir).unwrap() {
            let path = e.unwrap().path();
            let plan = Plan::load(&path).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
            assert!(
                plan.context.is_some() && plan.credential.is_some(),
                "{}",
                path.display()
            );
            assert_eq!(plan.resolve().unwrap().len(), plan.calls.len());
            n += 1;
        }
        assert!(n >= 3);
        let soc = Plan::load(&dir.join("soc-automation.toml")).unwrap();
        assert_eq!(soc.name, "Contoso SOC automation");
        assert_eq!(
            soc.client_id.as_deref(),
            Some("9b0a3d8e-5c2f-4e71-a1b4-6d3e8f2c7a90")
        );
        assert_eq!(soc.credential, Some(Credential::Certificate));
        assert_eq!(soc.calls[2].note.as_deref(), Some("containment playbook"));
    }

    #[test]
    fn errors_name_file_and_line() {
        let e = p("name = \"x\"\ncontext = \"app\"\ncalls = [\"GET /api/alerts\"]\n").unwrap_err();
        assert!(e.to_string().starts_with("plan.toml:2: "), "{e}");
        let e = p("name = \"x\"\ntenant_id = \"contoso\"\ncalls = [\"GET /api/alerts\"]\n")
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "plan.toml:2: tenant_id \"contoso\" is not a GUID"
        );
        let e = p("name = \"x\"\ncalls = [\n \"GET /api/alerts\",\n \"/api/alerts\",\n]\n")
            .unwrap_err();
        assert!(e.to_string().starts_with("plan.toml:4: "), "{e}");
        let e = p("name = \"x\"\ncalls = []\n").unwrap_err();
        assert!(e.to_string().contains("calls is empty"), "{e}");
        let e = p("name = \"x\"\ntennant = 1\ncalls = [\"GET /api/alerts\"]\n").unwrap_err();
        assert!(
            e.to_string().starts_with("plan.toml:2: unknown field"),
            "{e}"
        );
        let e = p("name = \"x\"\ncalls = [\"GET /api/alerts\"]\n[broken\n").unwrap_err();
        assert!(e.to_string().starts_with("plan.toml:3: "), "{e}");
        let plan =
            p("name = \"x\"\ncalls = [\"GET /api/alerts\", \"GET /api/nothing\"]\n").unwrap();
        let e = plan.resolve().unwrap_err();
        assert!(e.to_string().starts_with("plan.toml:2: "), "{e}");
        assert_eq!(e.exit_code(), 2);
    }

    #[test]
    fn lint_intent_from_rows() {
        let machines = catalog::resolve("GET /api/machines").unwrap();
        let alerts = catalog::resolve("GET /api/alerts").unwrap();
        // A call listed twice is planned once.
        let i = lint_intent(
            &[machines, alerts, machines],
            PermContext::Application,
            None,
            None,
            &[],
        );
        assert_eq!(i.context, PermContext::Application);
        let labels: Vec<&str> = i.calls.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(labels, ["GET /api/machines", "GET /api/alerts"]);
        assert_eq!(i.minimal, ["Alert.Read.All", "Machine.Read.All"]);
        assert_eq!(i.multi_tenant, None);
        assert!(!i.interactive_consent);
        let i = lint_intent(
            &[machines],
            PermContext::Delegated,
            Some(applint::Credential::Interactive),
            Some(false),
            &[],
        );
        assert_eq!(i.minimal, ["Machine.Read"]);
        assert!(i.interactive_consent);
        assert!(
            lint_intent(&[machines], PermContext::Delegated, None, Some(true), &[])
                .interactive_consent
        );
    }

    #[test]
    fn a_credential_of_the_other_context_is_refused_at_its_line() {
        let plan = |ctx: &str, cred: &str| {
            Plan::parse(
                &format!(
                    "name = \"x\"\ncontext = \"{ctx}\"\ncredential = \"{cred}\"\ncalls = [\"GET /api/machines\"]\n"
                ),
                Path::new("p.toml"),
            )
        };
        let e = plan("application", "device_code").unwrap_err().one_line();
        assert!(
            e.starts_with("p.toml:3: credential device_code yields delegated tokens only, but context is application"),
            "{e}"
        );
        let e = plan("delegated", "managed_identity")
            .unwrap_err()
            .one_line();
        assert!(
            e.starts_with("p.toml:3: credential managed_identity yields application tokens only, but context is delegated: set context = \"application\", or name a user's sign-in"),
            "{e}"
        );
        assert_eq!(
            plan("application", "managed-identity").unwrap().credential,
            Some(Credential::ManagedIdentity),
            "the CLI's spelling too"
        );
        for (ctx, cred) in [
            ("application", "secret"),
            ("delegated", "secret"),
            ("delegated", "certificate"),
            ("application", "federated"),
            ("delegated", "interactive"),
        ] {
            assert!(plan(ctx, cred).is_ok(), "{ctx} {cred}");
        }
    }

    #[test]
    fn lint_credential_leaves_user_unchecked() {
        assert_eq!(
            Credential::ManagedIdentity.lint_credential(),
            Some(applint::Credential::ManagedIdentity)
        );
        assert_eq!(Credential::User.lint_credential(), None);
        assert_eq!(
            Credential::Federated.lint_credential(),
            Some(applint::Credential::Federated)
        );
        // The user flows a plan can name are checked as --credential's.
        assert_eq!(
            Credential::DeviceCode.lint_credential(),
            Some(applint::Credential::DeviceCode)
        );
        assert_eq!(
            Credential::Password.lint_credential(),
            Some(applint::Credential::UserPassword)
        );
        assert_eq!(
            Credential::Interactive.lint_credential(),
            Some(applint::Credential::Interactive)
        );
    }
}
