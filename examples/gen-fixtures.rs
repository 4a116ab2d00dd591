//! Regenerate the TEST-ONLY keys, key sets and tokens under `fixtures/`.
//!
//!     cargo run --example gen-fixtures            # reuse existing keys, re-sign tokens
//!     cargo run --example gen-fixtures -- --new-keys
//!
//! Tokens are deterministic for a given key (RS256 PKCS#1 v1.5 signatures are).

#[path = "../tests/common/mint.rs"]
mod mint;

use std::fs;
use std::path::Path;

use mint::*;
use serde_json::json;

fn key(dir: &Path, file: &str, label: &str, new: bool) -> TestKey {
    let p = dir.join(file);
    if !new && let Ok(pem) = fs::read_to_string(&p) {
        return TestKey::from_pem(&pem, label);
    }
    let k = TestKey::generate(label);
    fs::write(&p, &k.pem).expect("write key");
    k
}

fn write(path: &Path, text: &str) {
    fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    println!("wrote {}", path.display());
}

fn main() {
    let new = std::env::args().any(|a| a == "--new-keys");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let keys = root.join("keys");
    let tokens = root.join("tokens");
    fs::create_dir_all(&keys).unwrap();
    fs::create_dir_all(&tokens).unwrap();

    let main = key(&keys, "test-signing-key.pem", "signing key", new);
    let rotated = key(&keys, "test-rotated-key.pem", "rotated key", new);
    let app_key = key(&keys, "test-app-key.pem", "app-specific key", new);

    let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap() + "\n";
    write(&keys.join("jwks.json"), &pretty(&jwks(&[&main], None)));
    write(
        &keys.join("jwks-v2.json"),
        &pretty(&jwks(
            &[&main],
            Some("https://login.microsoftonline.com/{tenantid}/v2.0"),
        )),
    );
    write(
        &keys.join("jwks-rotated.json"),
        &pretty(&jwks(&[&rotated], None)),
    );
    write(
        &keys.join("jwks-app.json"),
        &pretty(&jwks(&[&app_key], None)),
    );

    let roles = ["Machine.Read.All", "Alert.Read.All", "Machine.Isolate"];
    let app_v1 = sign(&main, &main.v1_header(), &v1_app_claims(&roles));
    let cases: Vec<(&str, String)> = vec![
        ("app-v1.jwt", app_v1.clone()),
        (
            "delegated-v1.jwt",
            sign(
                &main,
                &main.v1_header(),
                &v1_delegated_claims("Machine.Read Alert.ReadWrite AdvancedQuery.Read"),
            ),
        ),
        (
            "app-v2.jwt",
            sign(
                &main,
                &main.v2_header(),
                &v2_app_claims(&["Machine.Read.All", "Vulnerability.Read.All"]),
            ),
        ),
        (
            "app-no-roles.jwt",
            sign(&main, &main.v1_header(), &v1_app_claims(&[])),
        ),
        ("graph-nonce.jwt", {
            let mut c = v1_app_claims(&["User.Read.All"]);
            c["aud"] = json!("https://graph.microsoft.com");
            sign_graph_nonce(&main, "Zq3XfTestOnlyNonce0123456789abcdefghijklmno", &c)
        }),
        ("id-token.jwt", {
            let c = json!({
                "aud": APP,
                "iss": v2_issuer(TENANT),
                "iat": T0, "nbf": T0, "exp": T0 + 3600,
                "name": "Alex Analyst",
                "nonce": "fixture-nonce-1234",
                "oid": USER_OID,
                "preferred_username": "alex@contoso.example",
                "sub": "fixtureSubjectIdToken0000000000000000000",
                "tid": TENANT,
                "ver": "2.0",
            });
            sign(&main, &main.v2_header(), &c)
        }),
        ("expired.jwt", {
            let mut c = v1_app_claims(&roles);
            c["iat"] = json!(T0 - 86_400);
            c["nbf"] = json!(T0 - 86_400);
            c["exp"] = json!(T0 - 86_400 + LIFETIME);
            sign(&main, &main.v1_header(), &c)
        }),
        (
            "app-v1-rotated-key.jwt",
            sign(&rotated, &rotated.v1_header(), &v1_app_claims(&roles)),
        ),
        (
            "app-v1-app-key.jwt",
            sign(&app_key, &app_key.v1_header(), &v1_app_claims(&roles)),
        ),
    ];
    for (name, tok) in &cases {
        write(&tokens.join(name), &format!("{tok}\n"));
    }
    // The shapes people paste: a token endpoint response and `az account get-access-token` output.
    write(
        &tokens.join("token-response.json"),
        &pretty(&json!({
            "token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
            "access_token": app_v1,
        })),
    );
    write(
        &tokens.join("az-get-access-token.json"),
        &pretty(&json!({
            "accessToken": app_v1,
            "expiresOn": "2026-03-02 10:15:00.000000",
            "expires_on": T0 + LIFETIME,
            "subscription": "00000000-0000-0000-0000-000000000000",
            "tenant": TENANT,
            "tokenType": "Bearer",
        })),
    );
}
