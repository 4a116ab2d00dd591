//! The hostile-token corpus against `verify` (with `--jwks FILE` and with a
//! fake Azure AD) and `check`: none is ever reported valid, each gets its
//! specific finding or a one-line input error, none panics or hangs, and no
//! key URL a token names (jku, x5u) is ever fetched.
//!
//! The corpus is generated here with the project's own minting code; the
//! "attacker" signs with a freshly generated key that is not in any key set.

mod aad_mock;
mod common;

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{fixture, main_key, mdeauth, mint};
use httpmock::prelude::*;
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};

/// What every mode must say about a token.
#[derive(Clone, Debug)]
enum Expect {
    /// A report with exit 1, these finding codes, and a signature status
    /// that is one of the listed ones (never "valid").
    Findings {
        codes: Vec<&'static str>,
        status: &'static [&'static str],
    },
    /// Exit 2 with a one-line error containing this text.
    InputError(&'static str),
}

struct Case {
    name: String,
    token: String,
    expect: Expect,
    /// Findings `check` reports offline (it does not verify signatures);
    /// empty when offline `check` cannot tell (the token is otherwise fine).
    offline_codes: Vec<&'static str>,
    /// What offline `check` says when it differs from `verify`: it needs
    /// claims, so a payload that is not a claims set is bad input there.
    /// With the signature verified, `check` fails such a token as `verify`
    /// does.
    check: Option<Expect>,
}

const NOT_CHECKED: &[&str] = &["not_checked"];
const INVALID: &[&str] = &["invalid"];
const NO_KEY: &[&str] = &["key_not_found"];
/// Signed by the trusted key and the signature is sound; the header or claims fail it.
const GENUINE: &[&str] = &["valid"];

fn finds(codes: &[&'static str], status: &'static [&'static str]) -> Expect {
    Expect::Findings {
        codes: codes.to_vec(),
        status,
    }
}

fn claims() -> Value {
    mint::v1_app_claims(&["Machine.Read.All"])
}

fn b64(bytes: &[u8]) -> String {
    mint::b64(bytes)
}

fn payload() -> String {
    b64(serde_json::to_string(&claims()).unwrap().as_bytes())
}

/// Sign `header.payload` with an arbitrary algorithm of the jsonwebtoken crate.
fn sign_alg(key: &mint::TestKey, header: &str, alg: Algorithm) -> String {
    let input = format!("{}.{}", b64(header.as_bytes()), payload());
    let sig = jsonwebtoken::crypto::sign(input.as_bytes(), &key.encoding, alg).unwrap();
    format!("{input}.{sig}")
}

/// HS256 over `header.payload` with `secret` as the HMAC key.
fn hs256(header: &str, secret: &[u8]) -> String {
    let input = format!("{}.{}", b64(header.as_bytes()), payload());
    let sig = jsonwebtoken::crypto::sign(
        input.as_bytes(),
        &jsonwebtoken::EncodingKey::from_secret(secret),
        Algorithm::HS256,
    )
    .unwrap();
    format!("{input}.{sig}")
}

/// The whole corpus. `evil` is the base URL of a server that must never be contacted.
fn corpus(evil: &str) -> Vec<Case> {
    let key = main_key();
    let attacker = mint::TestKey::generate("attacker");
    let kid = key.kid.clone();
    let mut out = Vec::new();
    let mut add = |name: String, token: String, expect: Expect, offline: &[&'static str]| {
        out.push(Case {
            name,
            token,
            expect,
            offline_codes: offline.to_vec(),
            check: None,
        })
    };

    // alg none in every spelling, with an empty signature and with a real one.
    for alg in ["none", "None", "NONE", "nOnE"] {
        let h = format!(r#"{{"alg":"{alg}","typ":"JWT","kid":"{kid}"}}"#);
        let t = format!("{}.{}.", b64(h.as_bytes()), payload());
        add(
            format!("alg {alg}, empty signature"),
            t,
            finds(
                &["header.alg_none", "signature.alg_not_allowed"],
                NOT_CHECKED,
            ),
            &["header.alg_none"],
        );
        let real = mint::sign(&key, &key.v1_header(), &claims());
        let sig = real.rsplit('.').next().unwrap();
        let t = format!("{}.{}.{sig}", b64(h.as_bytes()), payload());
        add(
            format!("alg {alg}, RS256 signature attached"),
            t,
            finds(
                &["header.alg_none", "signature.alg_not_allowed"],
                NOT_CHECKED,
            ),
            &["header.alg_none"],
        );
    }

    // Key confusion: HS256 keyed with every form of the trusted public key.
    let n = URL_SAFE_NO_PAD
        .decode(key.jwk["n"].as_str().unwrap())
        .unwrap();
    let cert_pem = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        key.jwk["x5c"][0].as_str().unwrap()
    );
    let secrets: Vec<(&str, Vec<u8>)> = vec![
        ("the JWK JSON", serde_json::to_vec(&key.jwk).unwrap()),
        (
            "the JWKS file",
            std::fs::read(fixture("keys/jwks.json")).unwrap(),
        ),
        ("the modulus bytes", n),
        ("the certificate PEM", cert_pem.into_bytes()),
    ];
    for (what, secret) in secrets {
        for alg in ["HS256", "hs256"] {
            let h = format!(r#"{{"alg":"{alg}","typ":"JWT","kid":"{kid}","x5t":"{kid}"}}"#);
            add(
                format!("{alg} keyed with {what}"),
                hs256(&h, &secret),
                finds(
                    &["header.alg_hmac", "signature.alg_not_allowed"],
                    NOT_CHECKED,
                ),
                &["header.alg_hmac"],
            );
        }
    }

    // The right kid, another algorithm: never verified as RS256 or otherwise.
    for (alg, signer) in [
        ("RS384", Algorithm::RS384),
        ("RS512", Algorithm::RS512),
        ("PS256", Algorithm::PS256),
        ("PS512", Algorithm::PS512),
        ("ES256", Algorithm::RS256),
        ("EdDSA", Algorithm::RS256),
    ] {
        let h = format!(r#"{{"alg":"{alg}","typ":"JWT","kid":"{kid}","x5t":"{kid}"}}"#);
        add(
            format!("kid matches, alg {alg}"),
            sign_alg(&key, &h, signer),
            finds(
                &["header.alg_unexpected", "signature.alg_not_allowed"],
                NOT_CHECKED,
            ),
            &["header.alg_unexpected"],
        );
    }
    // No alg at all.
    let h = format!(r#"{{"typ":"JWT","kid":"{kid}"}}"#);
    add(
        "no alg".into(),
        sign_alg(&key, &h, Algorithm::RS256),
        finds(
            &["header.alg_missing", "signature.alg_not_allowed"],
            NOT_CHECKED,
        ),
        &["header.alg_missing"],
    );

    // Hostile kids, correctly signed by the trusted key: just unknown ids.
    for (what, k) in [
        ("path traversal", "../../../../etc/passwd".to_string()),
        ("SQL", "' OR 1=1; DROP TABLE keys; --".to_string()),
        ("10 KB", "k".repeat(10 * 1024)),
        ("NUL and newline", "a\u{0}b\nc".to_string()),
        ("URL", format!("{evil}/kid")),
    ] {
        let h = json!({"typ": "JWT", "alg": "RS256", "kid": k}).to_string();
        add(
            format!("kid {what}"),
            mint::sign(&key, &h, &claims()),
            finds(&["signature.key_not_found"], NO_KEY),
            &[],
        );
    }

    // Key-naming headers pointing at the attacker's server or key; signed
    // by the attacker under the trusted kid, or under the attacker's own kid.
    let naming = [
        ("jku", json!(format!("{evil}/keys"))),
        ("x5u", json!(format!("{evil}/cert.pem"))),
        ("jwk", attacker.jwk.clone()),
        ("x5c", attacker.jwk["x5c"].clone()),
    ];
    for (member, value) in &naming {
        let mut h = json!({"typ": "JWT", "alg": "RS256", "kid": kid, "x5t": kid});
        h[*member] = value.clone();
        add(
            format!("{member} header, attacker-signed under the trusted kid"),
            mint::sign(&attacker, &h.to_string(), &claims()),
            finds(
                &["header.embedded_key_reference", "signature.invalid"],
                INVALID,
            ),
            &[],
        );
        let mut h = json!({"typ": "JWT", "alg": "RS256", "kid": attacker.kid});
        h[*member] = value.clone();
        add(
            format!("{member} header, attacker's own kid"),
            mint::sign(&attacker, &h.to_string(), &claims()),
            finds(
                &["header.embedded_key_reference", "signature.key_not_found"],
                NO_KEY,
            ),
            &[],
        );
    }

    // Critical extensions, unencoded payload, nested token.
    for (name, h, code) in [
        (
            "crit",
            json!({"typ": "JWT", "alg": "RS256", "kid": kid, "crit": ["exp"], "exp": 1}),
            "header.crit",
        ),
        (
            "b64 false",
            json!({"typ": "JWT", "alg": "RS256", "kid": kid, "b64": false, "crit": ["b64"]}),
            "header.b64_false",
        ),
        (
            "cty JWT",
            json!({"typ": "JWT", "alg": "RS256", "kid": kid, "cty": "JWT"}),
            "header.nested_jwt",
        ),
    ] {
        add(
            name.to_string(),
            mint::sign(&key, &h.to_string(), &claims()),
            finds(
                &[code],
                if code == "header.nested_jwt" {
                    GENUINE
                } else {
                    NOT_CHECKED
                },
            ),
            &[code],
        );
    }
    // A nested JWT whose payload really is the inner token.
    let inner = mint::sign(&key, &key.v1_header(), &claims());
    let h = json!({"typ": "JWT", "alg": "RS256", "kid": kid, "cty": "JWT"}).to_string();
    add(
        "cty JWT, payload is a token".into(),
        mint::sign_raw(&key, &h, inner.as_bytes()),
        finds(&["header.nested_jwt", "payload.not_json"], GENUINE),
        &[],
    );

    // Duplicate alg members (RS256 first, none second, and the reverse).
    for h in [
        format!(r#"{{"alg":"RS256","typ":"JWT","kid":"{kid}","alg":"none"}}"#),
        format!(r#"{{"alg":"none","typ":"JWT","kid":"{kid}","alg":"RS256"}}"#),
    ] {
        add(
            format!("duplicate alg {h}"),
            mint::sign(&key, &h, &claims()),
            finds(&["header.duplicate_member"], NOT_CHECKED),
            &["header.duplicate_member"],
        );
    }

    // A claim given twice, correctly signed: the last aud is the MDE API's,
    // and still the token fails.
    let mut dup = serde_json::to_string(&claims()).unwrap();
    dup.insert_str(1, r#""aud":"https://graph.microsoft.com","#);
    add(
        "aud given twice".into(),
        mint::sign_raw(&key, &key.v1_header(), dup.as_bytes()),
        finds(&["claims.duplicate"], GENUINE),
        &["claims.duplicate"],
    );

    // exp of the wrong type or out of range, correctly signed.
    for exp in [
        json!("1772446500"),
        json!(1e300),
        json!(-5),
        json!(9_999_999_999_999i64),
        json!(null),
        json!([1]),
        json!(u64::MAX),
    ] {
        let mut c = claims();
        c["exp"] = exp.clone();
        add(
            format!("exp {exp}"),
            mint::sign(&key, &key.v1_header(), &c),
            finds(&["claims.malformed"], GENUINE),
            &["claims.malformed"],
        );
    }

    // Deeply nested claims: 100 levels decode (signed by the attacker, so
    // invalid), 10,000 levels are an input error.
    let nested = |depth: usize| format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
    let mut c = claims().to_string();
    c.pop();
    let ok = format!("{c},\"deep\":{}}}", nested(100));
    add(
        "claims nested 100 deep, attacker-signed".into(),
        mint::sign_raw(&attacker, &key.v1_header(), ok.as_bytes()),
        finds(&["signature.invalid"], INVALID),
        &[],
    );
    let deep = format!("{c},\"deep\":{}}}", nested(10_000));
    add(
        "claims nested 10,000 deep".into(),
        mint::sign_raw(&key, &key.v1_header(), deep.as_bytes()),
        finds(&["payload.not_json"], GENUINE),
        &[],
    );

    // Tampering: a genuine token with more roles pasted in, or its signature removed.
    let genuine = mint::sign(&key, &key.v1_header(), &claims());
    let parts: Vec<&str> = genuine.split('.').collect();
    let forged = b64(serde_json::to_string(&mint::v1_app_claims(&[
        "Machine.Read.All",
        "Machine.Isolate",
    ]))
    .unwrap()
    .as_bytes());
    add(
        "payload swapped under a genuine signature".into(),
        format!("{}.{forged}.{}", parts[0], parts[2]),
        finds(&["signature.invalid"], INVALID),
        &[],
    );
    add(
        "signature stripped".into(),
        format!("{}.{}.", parts[0], parts[1]),
        finds(&["signature.missing"], NOT_CHECKED),
        &[],
    );

    // Bytes that are not tokens at all.
    add(
        "non-UTF-8 payload".into(),
        mint::sign_raw(&key, &key.v1_header(), &[0xff, 0xfe, 0xfd]),
        finds(&["payload.not_json"], GENUINE),
        &[],
    );
    add(
        "non-UTF-8 header".into(),
        format!("{}.{}.c2ln", b64(&[0xc3, 0x28]), payload()),
        Expect::InputError("header is not UTF-8"),
        &[],
    );
    add(
        "10 MB".into(),
        "eyJ".to_string() + &"A".repeat(10 * 1024 * 1024),
        Expect::InputError("larger than 256 KB"),
        &[],
    );
    for c in &mut out {
        if c.name.starts_with("cty JWT, payload") {
            c.check = Some(Expect::InputError("payload is not JSON"));
        }
        if c.name.contains("10,000") {
            c.check = Some(Expect::InputError("more than 128 levels deep"));
        }
        if c.name == "non-UTF-8 payload" {
            c.check = Some(Expect::InputError("payload is not UTF-8"));
        }
    }
    out
}

/// How one run ended.
struct Outcome {
    code: i32,
    json: Option<Value>,
    stderr: String,
    elapsed: Duration,
}

fn run(mut c: assert_cmd::Command, token: &str) -> Outcome {
    let started = Instant::now();
    let out = c
        .arg("-")
        .write_stdin(token.to_string())
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let code = out.status.code().expect("exited normally (not killed)");
    let json = (!out.stdout.is_empty()).then(|| common::json_out(&out));
    Outcome {
        code,
        json,
        stderr,
        elapsed,
    }
}

/// Assert one outcome against the case's expectation.
fn judge(mode: &str, case: &Case, o: &Outcome, expect: &Expect) {
    if std::env::var_os("HOSTILE_TIMINGS").is_some() {
        eprintln!("timing\t{mode}\t{}\t{:?}", case.name, o.elapsed);
    }
    let ctx = format!("[{mode}] {}", case.name);
    assert!(!o.stderr.contains("panicked"), "{ctx}: panic: {}", o.stderr);
    assert_ne!(o.code, 0, "{ctx}: a hostile token passed");
    // Process start included; the work itself is far quicker.
    assert!(
        o.elapsed < Duration::from_secs(3),
        "{ctx}: took {:?}",
        o.elapsed
    );
    match expect {
        Expect::InputError(text) => {
            assert_eq!(o.code, 2, "{ctx}: stderr {}", o.stderr);
            assert_eq!(
                o.stderr.trim_end().lines().count(),
                1,
                "{ctx}: one-line error: {}",
                o.stderr
            );
            assert!(
                o.stderr.contains(text),
                "{ctx}: want {text:?} in {}",
                o.stderr
            );
        }
        Expect::Findings { codes, status } => {
            let v = o
                .json
                .as_ref()
                .unwrap_or_else(|| panic!("{ctx}: no report, exit {}: {}", o.code, o.stderr));
            assert_eq!(o.code, 1, "{ctx}: {v}");
            assert_eq!(v["verdict"], "fail", "{ctx}");
            let got = aad_mock::codes(v);
            for c in codes {
                assert!(got.iter().any(|g| g == c), "{ctx}: want {c} in {got:?}");
            }
            if let Some(sig) = v.get("signature") {
                let s = sig["status"].as_str().unwrap_or_default();
                assert!(status.contains(&s), "{ctx}: signature {s}, want {status:?}");
            } else {
                panic!("{ctx}: no signature section: {v}");
            }
            if *status == GENUINE {
                // The key really signed it: the failure must come from the checks.
                let claims_bad = codes
                    .iter()
                    .any(|c| c.starts_with("claims.") || c.starts_with("payload."));
                assert_eq!(v["claims_valid"], json!(!claims_bad), "{ctx}");
            }
        }
    }
}

/// A server standing in for the attacker's jku/x5u host; counts every request.
fn evil_server() -> MockServer {
    MockServer::start()
}

fn catch_all(server: &MockServer) -> httpmock::Mock<'_> {
    let attacker = mint::TestKey::generate("attacker-served");
    server.mock(|_when, then| {
        then.status(200).json_body(mint::jwks(&[&attacker], None));
    })
}

#[test]
fn verify_with_a_jwks_file_accepts_none_of_the_corpus() {
    let evil = evil_server();
    let hits = catch_all(&evil);
    let jwks = fixture("keys/jwks.json");
    let cases = corpus(&evil.base_url());
    assert!(cases.len() >= 50, "corpus has {} tokens", cases.len());
    for case in &cases {
        let mut c = mdeauth();
        c.args(["--format", "json", "verify", "--at", mint::VALID_AT])
            .arg("--jwks")
            .arg(&jwks)
            .args(["--offline", "--cache-dir"])
            .arg(std::env::temp_dir().join("mdeauth-hostile-none"));
        let o = run(c, &case.token);
        judge("verify --jwks", case, &o, &case.expect);
    }
    hits.assert_calls(0);
}

#[test]
fn verify_with_discovery_accepts_none_of_the_corpus() {
    let evil = evil_server();
    let hits = catch_all(&evil);
    let server = MockServer::start();
    let aad = aad_mock::Aad::start(&server, &aad_mock::jwks_fixture("jwks.json"));
    // A token without claims (nested JWT) has no issuer: discovery uses the
    // common v2 document.
    server.mock(|when, then| {
        when.method(GET)
            .path("/common/v2.0/.well-known/openid-configuration");
        then.status(200).json_body(json!({
            "issuer": aad_mock::V2_ISSUER_TEMPLATE,
            "jwks_uri": server.url("/common/discovery/v2.0/keys"),
        }));
    });
    server.mock(|when, then| {
        when.method(GET)
            .path("/common/.well-known/openid-configuration");
        then.status(200).json_body(json!({
            "issuer": aad_mock::V1_ISSUER_TEMPLATE,
            "jwks_uri": server.url(aad_mock::V1_KEYS),
        }));
    });
    server.mock(|when, then| {
        when.method(GET).path("/common/discovery/v2.0/keys");
        then.status(200)
            .json_body(aad_mock::jwks_fixture("jwks.json"));
    });
    let cache = tempfile::tempdir().unwrap();
    for case in corpus(&evil.base_url()) {
        let mut c = mdeauth();
        c.env("MDEAUTH_CACHE_DIR", cache.path())
            .args(["--format", "json", "verify", "--at", mint::VALID_AT])
            .args(["--authority-host", &server.base_url(), "--timeout", "2"]);
        let o = run(c, &case.token);
        judge("verify discovery", &case, &o, &case.expect);
    }
    hits.assert_calls(0);
    // Discovery itself was used (the fake AAD is the only key source).
    assert!(aad.v1_keys.calls() >= 1);
}

/// Does `check` verify signatures on this build (`check --jwks`)?
fn check_verifies() -> bool {
    let out = mdeauth().args(["check", "--help"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).contains("--jwks")
}

#[test]
fn check_accepts_none_of_the_corpus() {
    let evil = evil_server();
    let hits = catch_all(&evil);
    let verifies = check_verifies();
    let jwks = fixture("keys/jwks.json");
    for case in corpus(&evil.base_url()) {
        let mut c = mdeauth();
        c.args(["--format", "json", "check", "--at", mint::VALID_AT])
            .args(["--call", "GET /api/machines"]);
        if verifies {
            c.arg("--jwks").arg(&jwks);
        }
        let o = run(c, &case.token);
        if verifies {
            judge("check --jwks", &case, &o, &case.expect);
            continue;
        }
        // Offline check: never claims the signature is valid, reports the
        // header and claim findings, and fails every token it can tell is bad.
        assert!(
            !o.stderr.contains("panicked"),
            "{}: {}",
            case.name,
            o.stderr
        );
        match (case.check.as_ref().unwrap_or(&case.expect), &o.json) {
            (Expect::InputError(text), _) => {
                assert_eq!(o.code, 2, "{}", case.name);
                assert!(o.stderr.contains(text), "{}: {}", case.name, o.stderr);
            }
            (Expect::Findings { .. }, Some(v)) => {
                let got = aad_mock::codes(v);
                assert!(
                    got.iter().any(|g| g == "signature.not_checked"),
                    "{}: {got:?}",
                    case.name
                );
                assert_ne!(v["signature"]["status"], "valid", "{}", case.name);
                for c in &case.offline_codes {
                    assert!(got.iter().any(|g| g == c), "{}: {c} in {got:?}", case.name);
                    assert_eq!(o.code, 1, "{}", case.name);
                }
            }
            (Expect::Findings { .. }, None) => {
                panic!("{}: no report: exit {} {}", case.name, o.code, o.stderr)
            }
        }
    }
    hits.assert_calls(0);
}

#[test]
fn raw_non_utf8_input_is_a_one_line_input_error() {
    let key = main_key();
    let good = mint::sign(&key, &key.v1_header(), &claims());
    let jwks = fixture("keys/jwks.json");
    let mut inputs: Vec<Vec<u8>> = vec![vec![0xff, 0xfe, 0x00, 0x80], b"\xc3\x28".to_vec()];
    let mut spliced = good.clone().into_bytes();
    spliced.insert(20, 0xff);
    inputs.push(spliced);
    for input in inputs {
        for cmd in [
            vec!["verify", "--jwks", jwks.to_str().unwrap(), "-"],
            vec!["check", "--call", "GET /api/machines", "-"],
        ] {
            let out = mdeauth()
                .args(["--format", "json"])
                .args(&cmd)
                .write_stdin(input.clone())
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{cmd:?}: {stderr}");
            assert!(!stderr.contains("panicked"));
            assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
            assert!(out.stdout.is_empty());
        }
    }
}
