//! Test-only token minting, shared by the fixture generator
//! (`cargo run --example gen-fixtures`) and the integration tests.
//! Keys here are TEST ONLY and must never sign anything real.
#![allow(dead_code)]

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};
use sha1::Digest as _;

/// A test signing key with its JWK form.
pub struct TestKey {
    pub pem: String,
    pub kid: String,
    pub encoding: EncodingKey,
    /// Public JWK as AAD publishes it: kty, use, kid, x5t, n, e, x5c; no alg.
    pub jwk: Value,
}

impl TestKey {
    /// Load a PKCS#8 PEM private key and derive its public JWK and self-signed cert.
    pub fn from_pem(pem: &str, label: &str) -> TestKey {
        let kp = rcgen::KeyPair::from_pem(pem).expect("test key PEM");
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        params.distinguished_name.push(
            rcgen::DnType::CommonName,
            format!("mdeauth TEST ONLY {label}"),
        );
        // Fixed validity so regenerated certificates are stable in content.
        params.not_before = rcgen::date_time_ymd(2026, 1, 1);
        params.not_after = rcgen::date_time_ymd(2036, 1, 1);
        params.serial_number = Some(rcgen::SerialNumber::from(label.as_bytes().to_vec()));
        let cert = params.self_signed(&kp).expect("self-signed cert");
        let der = cert.der().to_vec();
        let x5t = URL_SAFE_NO_PAD.encode(sha1::Sha1::digest(&der));
        let encoding = EncodingKey::from_rsa_pem(pem.as_bytes()).expect("encoding key");
        let pub_jwk = jsonwebtoken::jwk::Jwk::from_encoding_key(&encoding, Algorithm::RS256)
            .expect("public jwk");
        let v = serde_json::to_value(&pub_jwk).expect("jwk json");
        let jwk = json!({
            "kty": "RSA",
            "use": "sig",
            "kid": x5t,
            "x5t": x5t,
            "n": v["n"],
            "e": v["e"],
            "x5c": [STANDARD.encode(&der)],
        });
        TestKey {
            pem: pem.to_string(),
            kid: x5t,
            encoding,
            jwk,
        }
    }

    pub fn generate(label: &str) -> TestKey {
        let kp = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).expect("rsa keygen");
        TestKey::from_pem(&kp.serialize_pem(), label)
    }

    /// The AAD v1 header for this key: typ, alg, x5t, kid.
    pub fn v1_header(&self) -> String {
        format!(
            r#"{{"typ":"JWT","alg":"RS256","x5t":"{0}","kid":"{0}"}}"#,
            self.kid
        )
    }

    /// The AAD v2 header for this key: typ, alg, kid.
    pub fn v2_header(&self) -> String {
        format!(r#"{{"typ":"JWT","alg":"RS256","kid":"{}"}}"#, self.kid)
    }
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Sign `header_json.claims` with RS256 and return the compact token.
pub fn sign(key: &TestKey, header_json: &str, claims: &Value) -> String {
    sign_raw(
        key,
        header_json,
        serde_json::to_string(claims).unwrap().as_bytes(),
    )
}

/// Sign an arbitrary payload (not necessarily JSON).
pub fn sign_raw(key: &TestKey, header_json: &str, payload: &[u8]) -> String {
    let input = format!("{}.{}", b64(header_json.as_bytes()), b64(payload));
    let sig = jsonwebtoken::crypto::sign(input.as_bytes(), &key.encoding, Algorithm::RS256)
        .expect("sign");
    format!("{input}.{sig}")
}

/// Sign the way Microsoft Graph does: the signature covers the header with
/// the nonce replaced by base64url(SHA-256(nonce)); the token carries the
/// original nonce.
pub fn sign_graph_nonce(key: &TestKey, nonce: &str, claims: &Value) -> String {
    let header = |n: &str| {
        format!(
            r#"{{"typ":"JWT","nonce":"{n}","alg":"RS256","x5t":"{0}","kid":"{0}"}}"#,
            key.kid
        )
    };
    let hashed = b64(&sha2::Sha256::digest(nonce.as_bytes()));
    let payload = b64(serde_json::to_string(claims).unwrap().as_bytes());
    let signed_input = format!("{}.{}", b64(header(&hashed).as_bytes()), payload);
    let sig = jsonwebtoken::crypto::sign(signed_input.as_bytes(), &key.encoding, Algorithm::RS256)
        .expect("sign");
    format!("{}.{}.{}", b64(header(nonce).as_bytes()), payload, sig)
}

/// A JWKS document holding these keys.
pub fn jwks(keys: &[&TestKey], issuer: Option<&str>) -> Value {
    let keys: Vec<Value> = keys
        .iter()
        .map(|k| {
            let mut j = k.jwk.clone();
            if let Some(i) = issuer {
                j["issuer"] = json!(i);
            }
            j
        })
        .collect();
    json!({ "keys": keys })
}

// ----- The fixture world: one tenant, one app, fixed times. -----

pub const TENANT: &str = "4d7f7e2c-9a51-4c1b-8b8e-2f6a3c1d0e55";
pub const OTHER_TENANT: &str = "0b2d6c4e-1f3a-4e5b-9c7d-8e9f0a1b2c3d";
pub const APP: &str = "9b0a3d8e-5c2f-4e71-a1b4-6d3e8f2c7a90";
pub const APP_OID: &str = "3c1e5a7b-2d4f-4a6c-8e0b-1f3d5b7a9c2e";
pub const USER_OID: &str = "7e9a1c3b-5d2f-4b8a-9c6e-0d1f2a3b4c5d";
pub const MDE_AUD: &str = "https://api.securitycenter.microsoft.com";
pub const MDE_APP_ID: &str = "fc780465-2017-40d4-a0c5-307022471b92";
/// 2026-03-02T09:00:00Z: when the fixture tokens were "issued".
pub const T0: i64 = 1_772_442_000;
/// Fixture tokens live 75 minutes.
pub const LIFETIME: i64 = 4_500;
/// An instant when the fixture tokens (but not expired.jwt) are valid.
pub const VALID_AT: &str = "2026-03-02T09:30:00Z";

pub fn v1_issuer(tid: &str) -> String {
    format!("https://sts.windows.net/{tid}/")
}

pub fn v2_issuer(tid: &str) -> String {
    format!("https://login.microsoftonline.com/{tid}/v2.0")
}

/// `c` made valid now (issued a minute ago, expiring in an hour), for a
/// request that really goes out: the fixtures are valid at VALID_AT only.
#[allow(dead_code)]
pub fn valid_now(mut c: Value) -> Value {
    let now = chrono::Utc::now().timestamp();
    c["iat"] = json!(now - 60);
    c["nbf"] = json!(now - 60);
    c["exp"] = json!(now + 3600);
    c
}

/// Claims of a v1 app-only MDE token.
pub fn v1_app_claims(roles: &[&str]) -> Value {
    let mut c = json!({
        "aud": MDE_AUD,
        "iss": v1_issuer(TENANT),
        "iat": T0,
        "nbf": T0,
        "exp": T0 + LIFETIME,
        "aio": "E2NgYGhs3Vb9TEST0NLYfixture",
        "app_displayname": "Contoso SOC automation (test)",
        "appid": APP,
        "appidacr": "1",
        "idp": v1_issuer(TENANT),
        "idtyp": "app",
        "oid": APP_OID,
        "rh": "0.ATEST-fixture.",
        "sub": APP_OID,
        "tid": TENANT,
        "uti": "fixtureUti0000000000AA",
        "ver": "1.0",
    });
    if !roles.is_empty() {
        c["roles"] = json!(roles);
    }
    c
}

/// Claims of a v1 delegated MDE token.
pub fn v1_delegated_claims(scp: &str) -> Value {
    json!({
        "aud": MDE_AUD,
        "iss": v1_issuer(TENANT),
        "iat": T0,
        "nbf": T0,
        "exp": T0 + LIFETIME,
        "acr": "1",
        "amr": ["pwd", "mfa"],
        "appid": APP,
        "appidacr": "0",
        "family_name": "Analyst",
        "given_name": "Alex",
        "ipaddr": "203.0.113.7",
        "name": "Alex Analyst",
        "oid": USER_OID,
        "scp": scp,
        "sub": "fixtureSubjectDelegated000000000000000000",
        "tid": TENANT,
        "unique_name": "alex@contoso.example",
        "upn": "alex@contoso.example",
        "uti": "fixtureUti0000000000BB",
        "ver": "1.0",
        "wids": ["5d6b6bb7-de71-4623-b4af-96380a352509"],
    })
}

/// Claims of a v2 app-only MDE token (aud is the WindowsDefenderATP app id).
pub fn v2_app_claims(roles: &[&str]) -> Value {
    json!({
        "aud": MDE_APP_ID,
        "iss": v2_issuer(TENANT),
        "iat": T0,
        "nbf": T0,
        "exp": T0 + LIFETIME,
        "aio": "E2NgYGhs3Vb9TEST0NLYfixture2",
        "azp": APP,
        "azpacr": "2",
        "idtyp": "app",
        "oid": APP_OID,
        "rh": "0.ATEST-fixture2.",
        "roles": roles,
        "sub": APP_OID,
        "tid": TENANT,
        "uti": "fixtureUti0000000000CC",
        "ver": "2.0",
    })
}
