//! Property tests (proptest) for the JWKS, plan file and app manifest
//! parsers, run in the normal test suite (a few hundred cases each, well
//! under a second). The coverage-guided fuzz targets in `fuzz/` go further.

use std::path::Path;

use mdeauth::applint::manifest::AppRegistration;
use mdeauth::error::Error;
use mdeauth::jwks::KeySet;
use mdeauth::plan::Plan;
use proptest::prelude::*;
use serde_json::{Value, json};

const CASES: u32 = 256;

/// Any JSON value, nested a few levels.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,20}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::btree_map("[a-zA-Z]{1,12}", inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn b64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// One entry of a key set: a usable RSA key, another key type, or junk.
#[derive(Debug, Clone)]
enum KeyEntry {
    Rsa { kid: String, n: Vec<u8> },
    OtherType { kid: String, kty: String },
    Junk(Value),
}

fn key_entry() -> impl Strategy<Value = KeyEntry> {
    prop_oneof![
        // A usable RSA modulus: 2048 to 4152 bits, odd.
        3 => ("[ -~]{1,40}", proptest::collection::vec(any::<u8>(), 256..520))
            .prop_map(|(kid, mut n)| {
                n[0] |= 0x80;
                *n.last_mut().unwrap() |= 1;
                KeyEntry::Rsa { kid, n }
            }),
        1 => ("[ -~]{1,40}", prop_oneof![Just("EC"), Just("oct"), Just("OKP"), Just("rsa")])
            .prop_map(|(kid, kty)| KeyEntry::OtherType { kid, kty: kty.to_string() }),
        1 => any_json().prop_map(KeyEntry::Junk),
    ]
}

impl KeyEntry {
    fn to_json(&self) -> Value {
        match self {
            KeyEntry::Rsa { kid, n } => json!({
                "kty": "RSA", "use": "sig", "kid": kid, "x5t": kid,
                "n": b64url(n), "e": "AQAB",
                "issuer": "https://login.microsoftonline.com/{tenantid}/v2.0",
            }),
            KeyEntry::OtherType { kid, kty } => json!({"kty": kty, "kid": kid}),
            KeyEntry::Junk(v) => v.clone(),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, ..ProptestConfig::default() })]

    /// Arbitrary bytes are a key set or an environment error; never a panic.
    #[test]
    fn jwks_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        match KeySet::parse("prop", &bytes) {
            Ok(set) => { let _ = set.select(None, None); }
            Err(e) => prop_assert!(matches!(e, Error::Environment { .. }), "{:?}", e),
        }
    }

    /// Any JSON document is parsed leniently: without a "keys" array it is
    /// refused; with one, every entry is either kept or skipped with a note.
    #[test]
    fn jwks_any_json_document(doc in any_json()) {
        let has_keys = doc.get("keys").is_some_and(Value::is_array);
        match KeySet::from_value("prop", &doc) {
            Ok(set) => {
                prop_assert!(has_keys);
                let n = doc["keys"].as_array().unwrap().len();
                prop_assert_eq!(set.keys.len() + set.skipped.len(), n);
            }
            Err(_) => prop_assert!(!has_keys),
        }
    }

    /// Well-formed RSA keys are all kept, in order, found by kid and by x5t;
    /// other key types are listed but never offered for RS256.
    #[test]
    fn jwks_keys_are_kept_and_found(entries in proptest::collection::vec(key_entry(), 0..12)) {
        let doc = json!({"keys": entries.iter().map(KeyEntry::to_json).collect::<Vec<_>>()});
        let body = serde_json::to_vec(&doc).unwrap();
        let set = KeySet::parse("prop", &body).unwrap();
        prop_assert_eq!(set.keys.len() + set.skipped.len(), entries.len());
        let rsa: Vec<&String> = entries.iter().filter_map(|e| match e {
            KeyEntry::Rsa { kid, .. } => Some(kid),
            _ => None,
        }).collect();
        let usable: Vec<String> = set.keys.iter().filter(|k| k.rsa.is_some()).map(|k| k.label()).collect();
        prop_assert_eq!(usable.iter().collect::<Vec<_>>(), rsa.clone());
        for kid in &rsa {
            let (found, _) = set.select(Some(kid), None);
            prop_assert!(found.iter().any(|k| k.kid.as_deref() == Some(kid.as_str())));
            let (found, _) = set.select(Some("\u{0}no such kid"), Some(kid));
            prop_assert!(found.iter().any(|k| k.x5t.as_deref() == Some(kid.as_str())));
        }
        for e in &entries {
            if let KeyEntry::OtherType { kid, .. } = e {
                let (found, _) = set.select(Some(kid), None);
                // The same kid may also belong to an RSA key; the other type itself is never usable.
                prop_assert!(found.iter().all(|k| k.rsa.is_some() || k.kty != "RSA"));
            }
        }
        let (any, _) = set.select(None, None);
        prop_assert_eq!(any.len(), rsa.len());
    }
}

// ----- plan files -----

const CALLS: [&str; 8] = [
    "GET /api/machines",
    "GET /api/alerts",
    "POST /api/machines/{id}/isolate",
    "GET /api/machineactions/{id}",
    "GET https://api.security.microsoft.com/api/machines?$top=10",
    "GET /api/vulnerabilities",
    "POST /api/advancedqueries/run",
    "GET /api/indicators",
];

fn toml_str(s: &str) -> String {
    // A TOML basic string: JSON escaping is a subset of TOML's.
    serde_json::to_string(s).unwrap()
}

#[derive(Debug, Clone)]
struct PlanSpec {
    name: String,
    context: Option<&'static str>,
    credential: Option<&'static str>,
    multi_tenant: bool,
    calls: Vec<(usize, Option<String>)>,
    comments: bool,
}

fn plan_spec() -> impl Strategy<Value = PlanSpec> {
    (
        "[^\u{0}-\u{1f}\u{7f}]{1,40}".prop_filter("not blank", |s| !s.trim().is_empty()),
        proptest::option::of(prop_oneof![Just("application"), Just("delegated")]),
        proptest::option::of(prop_oneof![
            Just("secret"),
            Just("certificate"),
            Just("managed_identity"),
            Just("federated"),
            Just("user")
        ]),
        any::<bool>(),
        proptest::collection::vec((0..CALLS.len(), proptest::option::of("[ -~]{0,30}")), 1..10),
        any::<bool>(),
    )
        // A user's sign-in is delegated and a managed identity app-only:
        // the other context is refused (a plan error, tested in plan.rs).
        .prop_filter("credential fits the context", |(_, ctx, cred, ..)| {
            !matches!(
                (*ctx, *cred),
                (Some("delegated"), Some("managed_identity")) | (Some("application"), Some("user"))
            )
        })
        .prop_map(
            |(name, context, credential, multi_tenant, calls, comments)| PlanSpec {
                name,
                context,
                credential,
                multi_tenant,
                calls,
                comments,
            },
        )
}

impl PlanSpec {
    fn render(&self) -> String {
        let mut t = String::new();
        if self.comments {
            t.push_str("# a plan\n\n");
        }
        t.push_str(&format!("name = {}\n", toml_str(&self.name)));
        if let Some(c) = self.context {
            t.push_str(&format!("context = \"{c}\"\n"));
        }
        if let Some(c) = self.credential {
            t.push_str(&format!("credential = \"{c}\"\n"));
        }
        t.push_str(&format!("multi_tenant = {}\n", self.multi_tenant));
        t.push_str("calls = [\n");
        for (i, note) in &self.calls {
            match note {
                None => t.push_str(&format!("  {},\n", toml_str(CALLS[*i]))),
                Some(n) => t.push_str(&format!(
                    "  {{ call = {}, note = {} }},\n",
                    toml_str(CALLS[*i]),
                    toml_str(n)
                )),
            }
            if self.comments {
                t.push_str("  # next\n");
            }
        }
        t.push_str("]\n");
        t
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, ..ProptestConfig::default() })]

    /// Arbitrary text is a plan or an input error naming the file and a line.
    #[test]
    fn plan_text_never_panics(text in "(?s).{0,400}") {
        match Plan::parse(&text, Path::new("p.toml")) {
            Ok(p) => { let _ = p.resolve(); }
            Err(e) => {
                prop_assert!(matches!(e, Error::Input { .. }), "{:?}", e);
                prop_assert!(e.to_string().starts_with("p.toml:"), "{}", e);
            }
        }
    }

    /// Plan-shaped text with random values: no panic, errors carry a line
    /// number inside the file.
    #[test]
    fn plan_like_text_errors_point_into_the_file(
        name in any_json(), ctx in any_json(), calls in any_json(), extra in "[a-z_]{1,12}",
    ) {
        let text = format!(
            "name = {}\ncontext = {}\ncalls = {}\n{extra} = 1\n",
            serde_json::to_string(&name).unwrap(),
            serde_json::to_string(&ctx).unwrap(),
            serde_json::to_string(&calls).unwrap(),
        );
        let lines = text.lines().count();
        if let Err(e) = Plan::parse(&text, Path::new("p.toml")) {
            let msg = e.to_string();
            let line: usize = msg
                .strip_prefix("p.toml:")
                .and_then(|r| r.split(':').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            prop_assert!((1..=lines).contains(&line), "{msg}");
        }
    }

    /// Generated valid plans parse to exactly what was written and resolve.
    #[test]
    fn generated_plans_round_trip(spec in plan_spec()) {
        let text = spec.render();
        let p = Plan::parse(&text, Path::new("p.toml"))
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(&p.name, &spec.name);
        prop_assert_eq!(p.context.map(|c| c.as_str()), spec.context);
        prop_assert_eq!(p.multi_tenant, spec.multi_tenant);
        prop_assert_eq!(p.calls.len(), spec.calls.len());
        for (pc, (i, note)) in p.calls.iter().zip(&spec.calls) {
            prop_assert_eq!(pc.call.as_str(), CALLS[*i]);
            prop_assert_eq!(&pc.note, note);
            prop_assert_eq!(text.lines().nth(pc.line - 1).map(|l| l.contains(&toml_str(CALLS[*i]))), Some(true));
        }
        let resolved = p.resolve().map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert_eq!(resolved.len(), spec.calls.len());
    }
}

// ----- app manifests -----

const MDE: &str = "fc780465-2017-40d4-a0c5-307022471b92";
const GRAPH: &str = "00000003-0000-0000-c000-000000000000";

fn guid() -> impl Strategy<Value = String> {
    "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, ..ProptestConfig::default() })]

    /// Any JSON document is an app registration or an input error.
    #[test]
    fn manifest_any_json_never_panics(doc in any_json()) {
        if let Err(e) = AppRegistration::parse(&doc, "m.json") {
            prop_assert!(matches!(e, Error::Input { .. }), "{e:?}");
        }
    }

    /// Manifest-shaped documents with random member values: no panic.
    #[test]
    fn manifest_like_documents_never_panic(
        app_id in prop_oneof![guid().prop_map(Value::String), any_json()],
        rra in any_json(), creds in any_json(), aud in any_json(), graph_shape in any::<bool>(),
    ) {
        let mut doc = json!({"appId": app_id, "requiredResourceAccess": rra,
                             "passwordCredentials": creds.clone(), "keyCredentials": creds});
        if graph_shape { doc["signInAudience"] = aud } else { doc["availableToOtherTenants"] = aud }
        if let Err(e) = AppRegistration::parse(&doc, "m.json") {
            prop_assert!(matches!(e, Error::Input { .. }), "{e:?}");
        }
    }

    /// Generated registrations (both shapes) report exactly the MDE
    /// permissions they request and the audience they declare.
    #[test]
    fn generated_manifests_round_trip(
        app_id in guid(),
        mde in proptest::collection::btree_set((guid(), any::<bool>()), 0..6),
        graph in proptest::collection::vec(guid(), 0..3),
        multi in any::<bool>(),
        graph_shape in any::<bool>(),
    ) {
        let access = |set: Vec<(String, bool)>| -> Vec<Value> {
            set.into_iter()
                .map(|(id, role)| json!({"id": id, "type": if role { "Role" } else { "Scope" }}))
                .collect()
        };
        let mut rra = vec![json!({"resourceAppId": GRAPH,
            "resourceAccess": access(graph.iter().map(|g| (g.clone(), false)).collect())})];
        if !mde.is_empty() {
            rra.push(json!({"resourceAppId": MDE, "resourceAccess": access(mde.iter().cloned().collect())}));
        }
        let mut doc = json!({"appId": app_id, "displayName": "prop app", "requiredResourceAccess": rra});
        if graph_shape {
            doc["signInAudience"] = json!(if multi { "AzureADMultipleOrgs" } else { "AzureADMyOrg" });
        } else {
            doc["availableToOtherTenants"] = json!(multi);
        }
        let app = AppRegistration::parse(&doc, "m.json")
            .map_err(|e| TestCaseError::fail(format!("{e}\n{doc}")))?;
        prop_assert_eq!(&app.app_id, &app_id);
        prop_assert_eq!(app.is_multi_tenant(), multi);
        prop_assert_eq!(app.lists_mde, !mde.is_empty());
        let mut got: Vec<String> = app.requested.iter().map(|r| r.guid.clone()).collect();
        got.sort();
        let mut want: Vec<String> = mde.iter().map(|(g, _)| g.clone()).collect();
        want.sort();
        prop_assert_eq!(got, want);
    }
}
