//! `mdeauth verify`: signature and claims against a fake Azure AD on 127.0.0.1.

mod aad_mock;
mod common;

use std::path::Path;
use std::time::Duration;

use aad_mock::{Aad, codes, jwks_fixture, run};
use common::mint::{self, APP, OTHER_TENANT, T0, TENANT};
use common::{finding, fixture, main_key, mdeauth};
use httpmock::prelude::*;
use serde_json::{Value, json};

fn tok(name: &str) -> String {
    fixture(&format!("tokens/{name}")).display().to_string()
}

fn jwks_file(name: &str) -> String {
    fixture(&format!("keys/{name}")).display().to_string()
}

/// Give `c` its token: a file (a fixture's path) as the argument, the
/// token text itself on standard input (`-`), since a token given as an
/// argument is refused.
fn give_token(c: &mut assert_cmd::Command, token: &str) {
    if Path::new(token).is_file() {
        c.arg(token);
    } else {
        c.arg("-").write_stdin(token);
    }
}

/// `mdeauth verify <token> --authority-host <mock> --at VALID_AT --format json`
/// with a private cache directory: aad_mock::verify, but with token text
/// on standard input (a fixture's path stays the argument).
fn verify(server: &MockServer, cache: &Path, token: &str, extra: &[&str]) -> (i32, Value, String) {
    let mut c = mdeauth();
    c.env("MDEAUTH_CACHE_DIR", cache)
        .args(["--format", "json", "verify"]);
    give_token(&mut c, token);
    c.args(["--authority-host", &server.base_url()])
        .args(["--at", mint::VALID_AT])
        .args(extra);
    run(c)
}

/// verify with --jwks FILE (no network), JSON output.
fn verify_file(token: &str, jwks: &str, extra: &[&str]) -> (i32, Value, String) {
    let cache = tempfile::tempdir().unwrap();
    let mut c = mdeauth();
    c.env("MDEAUTH_CACHE_DIR", cache.path())
        .args(["--format", "json", "verify"]);
    give_token(&mut c, token);
    c.args(["--jwks", jwks]).args(extra);
    run(c)
}

/// Verify at VALID_AT against the v2 key set (its keys carry an issuer).
fn verify_v2_set(token: &str) -> (i32, Value, String) {
    verify_file(token, &jwks_file("jwks-v2.json"), &["--at", mint::VALID_AT])
}

fn verify_main(token: &str, extra: &[&str]) -> (i32, Value, String) {
    let mut args = vec!["--at", mint::VALID_AT];
    args.extend_from_slice(extra);
    verify_file(token, &jwks_file("jwks.json"), &args)
}

fn other_key() -> mint::TestKey {
    mint::TestKey::from_pem(
        &common::fixture_text("keys/test-rotated-key.pem"),
        "rotated key",
    )
}

// ---------- discovery ----------

#[test]
fn v1_token_verifies_through_v1_discovery() {
    let server = MockServer::start();
    let aad = Aad::start(&server, &jwks_fixture("jwks.json"));
    let cache = tempfile::tempdir().unwrap();
    let (code, v, err) = verify(&server, cache.path(), &tok("app-v1.jwt"), &[]);
    assert_eq!(code, 0, "{v}\n{err}");
    assert_eq!(v["signature"]["status"], "valid");
    assert_eq!(v["signature"]["kid"], main_key().kid);
    assert_eq!(
        v["signature"]["key_source"],
        server.url("/common/discovery/keys")
    );
    assert_eq!(v["signature"]["nonce_transformed"], false);
    assert_eq!(v["claims_valid"], true);
    assert_eq!(v["verdict"], "pass");
    aad.v1_meta.assert_calls(1);
    aad.v1_keys.assert_calls(1);
    aad.v2_meta.assert_calls(0);
    aad.app_meta.assert_calls(0);
}

#[test]
fn v2_token_uses_v2_metadata_and_the_tenant_key_set() {
    let server = MockServer::start();
    let aad = Aad::start(&server, &jwks_fixture("jwks.json"));
    let cache = tempfile::tempdir().unwrap();
    let (code, v, err) = verify(&server, cache.path(), &tok("app-v2.jwt"), &[]);
    assert_eq!(code, 0, "{v}\n{err}");
    assert_eq!(v["signature"]["status"], "valid");
    assert_eq!(
        v["signature"]["key_source"],
        server.url(aad_mock::v2_keys_path())
    );
    aad.v2_meta.assert_calls(1);
    aad.v2_keys.assert_calls(1);
    aad.v1_meta.assert_calls(0);
}

#[test]
fn app_specific_keys_are_read_only_for_the_api_app_the_caller_names() {
    let server = MockServer::start();
    let aad = Aad::start(&server, &jwks_fixture("jwks.json"));
    let cache = tempfile::tempdir().unwrap();
    // An MDE API token signed with a key only an app publishes: never looked
    // up by the token's appid (whoever controls that app holds the key), and
    // never with --app-keys either: MDE tokens use the common keys only.
    for extra in [vec![], vec!["--app-keys", APP]] {
        let (code, v, err) = verify(&server, cache.path(), &tok("app-v1-app-key.jwt"), &extra);
        assert_eq!(code, 1, "{extra:?}: {v}\n{err}");
        assert_eq!(v["signature"]["status"], "key_not_found");
        assert!(
            finding(&v, "keys.app_specific")["message"]
                .as_str()
                .unwrap()
                .starts_with(
                    "Azure AD signs tokens for the MDE API with the tenant's common keys only"
                ),
            "{v:#}"
        );
    }
    aad.app_meta.assert_calls(0);
    aad.app_keys.assert_calls(0);

    // A token for your own API, signed with its app registration's own key:
    // --app-keys <that app> reads ?appid=<that app>.
    let app_key = mint::TestKey::from_pem(
        &std::fs::read_to_string(fixture("keys/test-app-key.pem")).unwrap(),
        "app key",
    );
    let mut c = mint::v1_app_claims(&["Orders.Read"]);
    c["aud"] = json!("api://contoso-orders");
    let app_kid = jwks_fixture("jwks-app.json")["keys"][0]["kid"]
        .as_str()
        .unwrap()
        .to_string();
    let own = mint::sign(
        &app_key,
        &format!(r#"{{"typ":"JWT","alg":"RS256","kid":"{app_kid}"}}"#),
        &c,
    );
    let own_api = ["--audience", "api://contoso-orders"];
    let (code, v, _) = verify(&server, cache.path(), &own, &own_api);
    assert_eq!(code, 1, "{v}");
    assert!(
        finding(&v, "keys.app_specific")["fix"]
            .as_str()
            .unwrap()
            .contains("--app-keys <that app's id>"),
        "{v:#}"
    );
    let mut args = own_api.to_vec();
    args.extend(["--app-keys", APP]);
    let (code, v, err) = verify(&server, cache.path(), &own, &args);
    assert_eq!(code, 0, "{v:#}\n{err}");
    assert_eq!(
        v["signature"]["key_source"],
        format!("{}?appid={APP}", server.url("/common/discovery/keys"))
    );
    assert!(codes(&v).contains(&"keys.app_specific".to_string()));
    aad.app_meta.assert_calls(1);

    // --app-keys for a token signed with the tenant's common keys: not
    // found, and the finding names --app-keys as the cause.
    let mut c = mint::v1_app_claims(&["Orders.Read"]);
    c["aud"] = json!("api://contoso-orders");
    let k = main_key();
    let common = mint::sign(&k, &k.v1_header(), &c);
    let cache3 = tempfile::tempdir().unwrap();
    let (code, v, _) = verify(&server, cache3.path(), &common, &args);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["signature"]["status"], "key_not_found");
    let f = finding(&v, "keys.app_specific");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .starts_with("--app-keys read only the app-specific key set"),
        "{f}"
    );
    assert!(
        f["fix"].as_str().unwrap().contains("without --app-keys"),
        "{f}"
    );
    // Not a GUID: bad input.
    let (code, _, err) = verify(
        &server,
        cache3.path(),
        &common,
        &["--app-keys", "orders-api"],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--app-keys takes the app id (a GUID)"),
        "{err}"
    );
}

#[test]
fn key_not_found_is_diagnosed_after_a_refetch() {
    let server = MockServer::start();
    let aad = Aad::start(&server, &jwks_fixture("jwks.json"));
    let cache = tempfile::tempdir().unwrap();
    let (code, v, err) = verify(&server, cache.path(), &tok("app-v1-rotated-key.jwt"), &[]);
    assert_eq!(code, 1, "{v}\n{err}");
    assert_eq!(v["signature"]["status"], "key_not_found");
    assert_eq!(v["signature"]["kid"], other_key().kid);
    let c = codes(&v);
    for want in [
        "signature.key_not_found",
        "keys.rotated",
        "keys.wrong_cloud_or_tenant",
        "keys.token_older_than_set",
    ] {
        assert!(c.contains(&want.to_string()), "{want} missing from {c:?}");
    }
    // The app-specific set of the token's app is never read.
    aad.app_keys.assert_calls(0);
    // Claims are still validated and reported separately.
    assert_eq!(v["claims_valid"], true);
}

#[test]
fn a_token_for_another_api_names_app_specific_keys_in_its_fix() {
    let server = MockServer::start();
    let _aad = Aad::start(&server, &jwks_fixture("jwks.json"));
    let cache = tempfile::tempdir().unwrap();
    let mut c = mint::v1_app_claims(&["Machine.Read.All"]);
    c["aud"] = json!("api://contoso-orders");
    let t = mint::sign(&other_key(), &other_key().v1_header(), &c);
    let (code, v, _) = verify(&server, cache.path(), &t, &[]);
    assert_eq!(code, 1);
    let f = finding(&v, "keys.app_specific");
    assert!(
        f["fix"]
            .as_str()
            .unwrap()
            .contains("--app-keys <that app's id>")
    );
}

/// `verify --format json` of `token` at VALID_AT with discovery (no
/// --jwks) and an empty cache of its own.
fn verify_discovering(token: &str) -> (i32, Value, String) {
    let cache = tempfile::tempdir().unwrap();
    let mut cmd = mdeauth();
    cmd.env("MDEAUTH_CACHE_DIR", cache.path())
        .args(["--format", "json", "verify"]);
    give_token(&mut cmd, token);
    cmd.args(["--at", mint::VALID_AT]);
    run(cmd)
}

#[test]
fn non_aad_issuer_is_not_fetched_and_is_explained() {
    let server = MockServer::start();
    let any = server.mock(|_, then| {
        then.status(200).body("{}");
    });
    let mut c = mint::v1_app_claims(&["Machine.Read.All"]);
    c["iss"] = json!(server.url("/evil/"));
    let t = mint::sign(&main_key(), &main_key().v1_header(), &c);
    let (code, v, _) = verify_discovering(&t);
    assert_eq!(code, 1);
    assert_eq!(v["signature"]["status"], "key_not_found");
    let c = codes(&v);
    assert!(c.contains(&"keys.issuer_not_aad".to_string()), "{c:?}");
    // No metadata was read, so the issuer is judged by Azure AD's own forms.
    assert!(c.contains(&"issuer.mismatch".to_string()), "{c:?}");
    assert!(
        finding(&v, "issuer.mismatch")["message"]
            .as_str()
            .unwrap()
            .contains("is not Azure AD"),
        "{v}"
    );
    any.assert_calls(0);
}

#[test]
fn an_issuer_that_is_not_a_string_is_named_as_such_not_as_missing() {
    let mut c = mint::v1_app_claims(&["Machine.Read.All"]);
    c["iss"] = json!(["https://sts.windows.net/x/"]);
    let t = mint::sign(&main_key(), &main_key().v1_header(), &c);
    let (code, v, _) = verify_discovering(&t);
    assert_eq!(code, 1, "{v}");
    assert_eq!(
        finding(&v, "signature.key_not_found")["message"],
        "the token's issuer (iss) is not a string, so mdeauth cannot find its published keys",
        "{v}"
    );
}

#[test]
fn an_audience_that_is_not_a_string_is_named_as_such_not_as_none() {
    let mut c = mint::v1_app_claims(&["Machine.Read.All"]);
    c["aud"] = json!({"api": "mde"});
    let t = mint::sign(&main_key(), &main_key().v1_header(), &c);
    let (code, v, _) = verify_main(&t, &["--audience", "api://mine"]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(
        finding(&v, "aud.mismatch")["message"],
        "the audience (malformed, not a string or a list of strings) is none of the expected api://mine",
        "{v}"
    );
}

// ---------- endpoint failures: exit 3 with a clear message ----------

fn failing_keys(setup: impl FnOnce(httpmock::When, httpmock::Then), extra: &[&str], expect: &str) {
    let server = MockServer::start();
    let _meta = server.mock(|when, then| {
        when.method(GET).path(aad_mock::v1_meta_path());
        then.status(200).json_body(json!({
            "issuer": aad_mock::V1_ISSUER_TEMPLATE,
            "jwks_uri": server.url(aad_mock::V1_KEYS),
        }));
    });
    let _keys = server.mock(|when, then| setup(when.method(GET).path(aad_mock::V1_KEYS), then));
    let cache = tempfile::tempdir().unwrap();
    let (code, v, err) = verify(&server, cache.path(), &tok("app-v1.jwt"), extra);
    assert_eq!(code, 3, "{v}\n{err}");
    assert_eq!(v, Value::Null, "no report on an environment failure");
    assert!(err.starts_with("mdeauth: error: "), "{err}");
    assert!(err.contains(expect), "expected {expect:?} in {err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn http_500_exits_3() {
    failing_keys(
        |_, t| {
            t.status(500).body("boom");
        },
        &[],
        "answered HTTP 500: boom",
    );
}

#[test]
fn timeout_exits_3() {
    failing_keys(
        |_, t| {
            t.status(200)
                .json_body(jwks_fixture("jwks.json"))
                .delay(Duration::from_secs(4));
        },
        &["--timeout", "1"],
        "within 1 s",
    );
}

#[test]
fn html_body_exits_3() {
    failing_keys(
        |_, t| {
            t.status(200)
                .body("<!DOCTYPE html><html><body>Sign in to the proxy</body></html>");
        },
        &[],
        "returned an HTML page, not JSON",
    );
}

#[test]
fn an_empty_or_compressed_key_set_is_named_as_such() {
    failing_keys(
        |_, t| {
            t.status(200).body("");
        },
        &[],
        "returned an empty body, not JSON",
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, jwks_fixture("jwks.json").to_string().as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    failing_keys(
        move |_, t| {
            t.status(200).body(gz);
        },
        &[],
        "returned a gzip-compressed body, which mdeauth did not ask for",
    );
}

#[test]
fn truncated_json_exits_3() {
    let full = jwks_fixture("jwks.json").to_string();
    let cut = full[..full.len() / 2].to_string();
    failing_keys(
        move |_, t| {
            t.status(200).body(cut);
        },
        &[],
        "returned truncated JSON",
    );
}

#[test]
fn oversize_body_exits_3() {
    let big = format!(
        "{{\"keys\":[],\"pad\":\"{}\"}}",
        "a".repeat(3 * 1024 * 1024)
    );
    failing_keys(
        move |_, t| {
            t.status(200).body(big);
        },
        &[],
        "is larger than 2048 KB",
    );
}

#[test]
fn redirect_to_plain_http_exits_3() {
    failing_keys(
        |_, t| {
            t.status(302)
                .header("Location", "http://keys.example.com/common/discovery/keys");
        },
        &[],
        "redirect to non-https URL http://keys.example.com refused",
    );
}

#[test]
fn not_a_key_set_exits_3() {
    failing_keys(
        |_, t| {
            t.status(200).json_body(json!({"value": []}));
        },
        &[],
        "not a key set",
    );
}

#[test]
fn offline_with_an_empty_cache_exits_3() {
    let server = MockServer::start();
    let aad = Aad::start(&server, &jwks_fixture("jwks.json"));
    let cache = tempfile::tempdir().unwrap();
    let (code, _, err) = verify(&server, cache.path(), &tok("app-v1.jwt"), &["--offline"]);
    assert_eq!(code, 3);
    assert!(err.contains("--offline forbids fetching it"), "{err}");
    aad.v1_meta.assert_calls(0);
}

#[test]
fn bad_flags_are_usage_errors() {
    for (args, expect) in [
        (vec!["--timeout", "0"], "--timeout 0 is out of range"),
        (
            vec!["--authority-host", "http://login.example.com"],
            "refusing plain http",
        ),
        (
            vec!["--jwks", "/no/such/jwks.json"],
            "cannot read key set file",
        ),
        (
            vec!["--jwks", "x.json", "--cloud", "china"],
            "cannot be combined",
        ),
        (
            vec!["--jwks", "file:///tmp/jwks.json"],
            "file:// URLs are not fetched: file:///tmp/jwks.json; where a file is accepted (--jwks), give its path itself",
        ),
        (
            vec!["--authority-host", "ftp://login.example.com"],
            "unsupported URL scheme \"ftp\" in ftp://login.example.com; use an https:// URL",
        ),
        (
            vec!["--jwks", "/"],
            "key set file / is a directory; give the JWKS file itself, or an https URL, with --jwks",
        ),
        (
            vec!["--jwks", "Cargo.toml"],
            "key set file Cargo.toml is not valid JSON",
        ),
    ] {
        let mut c = mdeauth();
        c.args(["verify", &tok("app-v1.jwt")]).args(&args);
        let out = c.output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(expect), "{args:?}: {err}");
    }
    let out = mdeauth()
        .args(["verify", &tok("app-v1.jwt"), "--cloud", "mars"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

// ---------- RFC vectors with --jwks FILE ----------

fn rfc(name: &str) -> String {
    fixture(&format!("rfc/{name}")).display().to_string()
}

#[test]
fn a_key_set_served_with_a_byte_order_mark_is_read() {
    let server = MockServer::start();
    let mut body = b"\xEF\xBB\xBF".to_vec();
    body.extend(std::fs::read(fixture("keys/jwks.json")).unwrap());
    server.mock(|when, then| {
        when.method(GET).path("/keys");
        then.status(200)
            .header("Content-Type", "application/json")
            .body(body);
    });
    let (code, v, err) = verify_file(
        &tok("app-v1.jwt"),
        &server.url("/keys"),
        &["--at", mint::VALID_AT],
    );
    assert_eq!(code, 0, "{v}\n{err}");
    assert_eq!(v["signature"]["status"], "valid");
}

#[test]
fn rfc7515_a2_is_accepted_and_its_bit_flips_rejected() {
    // No kid or x5t: every RSA key in the set is tried.
    let jwks = rfc("rfc7515-a2-jwks.json");
    let (code, v, _) = verify_file(
        &rfc("rfc7515-a2.jwt"),
        &jwks,
        &["--at", "2011-03-22T18:40:00Z"],
    );
    assert_eq!(v["signature"]["status"], "valid", "{v}");
    assert_eq!(v["signature"]["key_source"], jwks);
    // Neither the token nor the key has an id: null, as when nothing verified.
    assert_eq!(v["signature"]["kid"], Value::Null, "{v}");
    // The claims are not an MDE token's (iss "joe", no aud): claims invalid, exit 1.
    assert_eq!(v["claims_valid"], false);
    assert_eq!(code, 1);
    assert!(!codes(&v).contains(&"token.expired".to_string()));
    for bad in [
        "rfc7515-a2-sig-flipped.jwt",
        "rfc7515-a2-payload-flipped.jwt",
    ] {
        let (code, v, _) = verify_file(&rfc(bad), &jwks, &[]);
        assert_eq!(code, 1);
        assert_eq!(v["signature"]["status"], "invalid", "{bad}");
        assert!(codes(&v).contains(&"signature.invalid".to_string()));
    }
}

#[test]
fn rfc7520_plain_text_payload_verifies_and_is_reported_as_not_json() {
    let jwks = rfc("rfc7520-4.1-jwks.json");
    let (code, v, _) = verify_file(&rfc("rfc7520-4.1.jwt"), &jwks, &[]);
    assert_eq!(code, 1);
    assert_eq!(v["signature"]["status"], "valid", "{v}");
    assert_eq!(v["signature"]["kid"], "bilbo.baggins@hobbiton.example");
    assert_eq!(v["claims_valid"], false);
    assert_eq!(codes(&v), vec!["payload.not_json"]);
    for bad in [
        "rfc7520-4.1-sig-flipped.jwt",
        "rfc7520-4.1-payload-flipped.jwt",
    ] {
        let (_, v, _) = verify_file(&rfc(bad), &jwks, &[]);
        assert_eq!(v["signature"]["status"], "invalid", "{bad}");
    }
}

/// `verify --jwks` with the key set `set`, written to a file, for
/// `app-v1.jwt`: the exit code, the report, and the file's path as shown.
fn verify_with_set(set: &Value) -> (i32, Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("set.json");
    std::fs::write(&p, set.to_string()).unwrap();
    let (code, v, _) = verify_file(
        &tok("app-v1.jwt"),
        p.to_str().unwrap(),
        &["--at", mint::VALID_AT],
    );
    (code, v, p.display().to_string())
}

#[test]
fn aad_style_jwks_with_extra_members_and_a_broken_key_still_works() {
    let mut set = jwks_fixture("jwks.json");
    set["keys"][0]["cloud_instance_name"] = json!("microsoftonline.com");
    let keys = set["keys"].as_array_mut().unwrap();
    keys.insert(0, json!({"kty": "RSA", "kid": "broken", "n": 12}));
    let (code, v, _) = verify_with_set(&set);
    assert_eq!(code, 0, "{v}");
    assert!(codes(&v).contains(&"keys.skipped".to_string()));
}

#[test]
fn thousands_of_unusable_keys_make_one_short_note() {
    // A hostile set: the real key plus 2,000 unusable ones with long kids
    // (within the 2 MB a key set may have).
    let mut set = jwks_fixture("jwks.json");
    let keys = set["keys"].as_array_mut().unwrap();
    for i in 0..2000 {
        keys.push(json!({"kty": "RSA", "kid": format!("{i}-{}", "k".repeat(500)), "n": "AQAB", "e": "AQAB"}));
    }
    let (code, v, _) = verify_with_set(&set);
    assert_eq!(code, 0, "the real key still verifies");
    let m = finding(&v, "keys.skipped")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(m.contains("2000 unusable key(s) in "), "{m}");
    assert!(m.ends_with("; and 1995 more"), "{m}");
    assert!(m.len() < 3000, "{} bytes", m.len());
    // A kid is shown cut short.
    assert!(m.contains("(kid 0-kkk") && m.contains("…)"), "{m}");
    // The token's own key among them, past the ones kept with a reason:
    // still said to be unusable, not missing.
    let mut set = jwks_fixture("jwks.json");
    let keys = set["keys"].as_array_mut().unwrap();
    let own = keys.remove(0);
    for i in 0..150 {
        keys.push(json!({"kty": "RSA", "kid": format!("junk{i}"), "n": "AQAB", "e": "AQAB"}));
    }
    keys.push(json!({"kty": "RSA", "kid": own["kid"], "n": "AQAB", "e": "AQAB"}));
    let (code, v, _) = verify_with_set(&set);
    assert_eq!(code, 1, "{v}");
    let m = finding(&v, "signature.key_not_found")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(m.contains("but cannot be used: it is one of the"), "{m}");
}

/// [`verify_with_set`] for a set whose key for the token cannot be used:
/// exit 1 with the key not found; the report and the file's path.
fn verify_with_unusable_key(set: &Value) -> (Value, String) {
    let (code, v, shown) = verify_with_set(set);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["signature"]["status"], "key_not_found", "{v}");
    (v, shown)
}

/// A key set that publishes the token's key at 1024 bits: the token is
/// reported as signed by a key that cannot be trusted, not as altered.
#[test]
fn a_key_shorter_than_2048_bits_is_named_as_unusable_not_as_a_bad_signature() {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut set = jwks_fixture("jwks.json");
    let n = URL_SAFE_NO_PAD
        .decode(set["keys"][0]["n"].as_str().unwrap())
        .unwrap();
    set["keys"][0]["n"] = json!(URL_SAFE_NO_PAD.encode(&n[..128]));
    let (v, shown) = verify_with_unusable_key(&set);
    let kid = &main_key().kid;
    assert_eq!(
        finding(&v, "signature.key_not_found")["message"],
        format!(
            "the token's key (kid {kid}) is in {shown} but cannot be used: its RSA modulus is 1024 bits; RS256 keys of 2048 to 8192 bits are trusted (Azure AD's are 2048)"
        )
    );
    assert!(
        finding(&v, "keys.skipped")["message"]
            .as_str()
            .unwrap()
            .contains(&format!(
                "key #1 (kid {kid}) skipped: its RSA modulus is 1024 bits"
            )),
        "{v}"
    );
}

/// The token's kid names an EC key: RS256 cannot use it, and that is what is said.
#[test]
fn a_key_of_another_type_is_named_as_unusable_not_as_a_bad_signature() {
    let kid = main_key().kid;
    let set = json!({"keys": [{"kty": "EC", "use": "sig", "kid": kid, "crv": "P-256",
        "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
        "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]});
    let (v, shown) = verify_with_unusable_key(&set);
    assert_eq!(
        finding(&v, "signature.key_not_found")["message"],
        format!(
            "the token's key (kid {kid}) is in {shown} but cannot be used: its kty is \"EC\"; RS256 needs an RSA key"
        )
    );
    // The fix points to that reason; it is not about the key's size.
    let fix = finding(&v, "signature.key_not_found")["fix"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        fix.starts_with("the reason above says what is wrong with the key:"),
        "{fix}"
    );
}

#[test]
fn x5t_is_the_fallback_when_kid_matches_nothing() {
    let k = main_key();
    let h = format!(
        r#"{{"typ":"JWT","alg":"RS256","x5t":"{}","kid":"unknown-kid"}}"#,
        k.kid
    );
    let t = mint::sign(&k, &h, &mint::v1_app_claims(&["Machine.Read.All"]));
    let (code, v, _) = verify_main(&t, &[]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["signature"]["kid"], k.kid);
}

#[test]
fn a_header_member_that_is_not_text_is_rejected_not_matched_as_text() {
    // RFC 7515: kid is a string. A numeric kid is neither matched as the
    // text "5" nor dropped (which would try every key).
    let k = main_key();
    let claims = mint::v1_app_claims(&["Machine.Read.All"]);
    let numeric = mint::sign(&k, r#"{"typ":"JWT","alg":"RS256","kid":5}"#, &claims);
    let mut set = jwks_fixture("jwks.json");
    set["keys"][0]["kid"] = json!("5");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.json");
    std::fs::write(&path, set.to_string()).unwrap();
    let (code, v, _) = verify_file(&numeric, path.to_str().unwrap(), &["--at", mint::VALID_AT]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["signature"]["status"], "not_checked", "{v}");
    assert_eq!(
        finding(&v, "signature.header_rejected")["message"],
        "the signature was not checked: the header gives kid as something other than text"
    );
    assert_eq!(
        finding(&v, "header.malformed")["message"],
        "the header's kid is not text: RFC 7515 defines it as a JSON string"
    );
    // With an x5t beside it, no key is shown as the token's either: the
    // signature was not checked against any.
    let with_x5t = mint::sign(
        &k,
        &format!(r#"{{"typ":"JWT","alg":"RS256","kid":5,"x5t":"{}"}}"#, k.kid),
        &claims,
    );
    let (code, v, _) = verify_main(&with_x5t, &[]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["signature"]["status"], "not_checked", "{v}");
    assert_eq!(v["signature"]["kid"], Value::Null, "{v}");
    let out = mdeauth()
        .args([
            "verify",
            "--jwks",
            &jwks_file("jwks.json"),
            "--at",
            mint::VALID_AT,
            "-",
        ])
        .write_stdin(with_x5t.clone())
        .output()
        .unwrap();
    let human = String::from_utf8_lossy(&out.stdout);
    assert!(human.contains("not checked"), "{human}");
    assert!(
        !human.lines().any(|l| l.trim_start().starts_with("Key ")),
        "{human}"
    );
    // A numeric alg is not text either; it is not called missing.
    let alg = mint::sign(&k, r#"{"typ":"JWT","alg":256,"kid":"x"}"#, &claims);
    let (code, v, _) = verify_main(&alg, &[]);
    assert_eq!(code, 1, "{v}");
    assert!(
        !codes(&v).contains(&"header.alg_missing".to_string()),
        "{v}"
    );
    assert_eq!(
        finding(&v, "header.malformed")["message"],
        "the header's alg is not text: RFC 7515 defines it as a JSON string"
    );
}

// ---------- Graph's header nonce ----------

#[test]
fn graph_nonce_token_verifies_only_under_the_transform_and_is_not_mde() {
    let (code, v, _) = verify_main(&tok("graph-nonce.jwt"), &[]);
    assert_eq!(code, 1);
    assert_eq!(v["signature"]["status"], "valid");
    assert_eq!(v["signature"]["nonce_transformed"], true);
    assert_eq!(v["claims_valid"], false);
    let c = codes(&v);
    assert!(
        c.contains(&"signature.nonce_transform".to_string()),
        "{c:?}"
    );
    assert!(c.contains(&"aud.not_mde".to_string()), "{c:?}");
    assert!(!c.contains(&"signature.invalid".to_string()), "{c:?}");

    // Altering the nonce breaks it: then it is invalid.
    let t = common::fixture_text("tokens/graph-nonce.jwt");
    let mut parts: Vec<String> = t.split('.').map(str::to_string).collect();
    let header = String::from_utf8(
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &parts[0])
            .unwrap(),
    )
    .unwrap()
    .replace("Zq3XfTestOnly", "Zq3XfTampered");
    parts[0] = mint::b64(header.as_bytes());
    let (_, v, _) = verify_main(&parts.join("."), &[]);
    assert_eq!(v["signature"]["status"], "invalid");
}

// ---------- every rule of section 4 can fail ----------

fn claims() -> Value {
    mint::v1_app_claims(&["Machine.Read.All"])
}

fn signed(c: &Value) -> String {
    mint::sign(&main_key(), &main_key().v1_header(), c)
}

#[test]
fn alg_none_and_hmac_are_never_attempted() {
    let k = main_key();
    for alg in ["none", "HS256"] {
        let h = format!(r#"{{"typ":"JWT","alg":"{alg}","kid":"{}"}}"#, k.kid);
        let t = format!(
            "{}.{}.{}",
            mint::b64(h.as_bytes()),
            mint::b64(claims().to_string().as_bytes()),
            if alg == "none" { "" } else { "c2lnbmF0dXJl" }
        );
        let (code, v, _) = verify_main(&t, &[]);
        assert_eq!(code, 1, "{alg}");
        assert_eq!(v["signature"]["status"], "not_checked", "{alg}");
        assert_eq!(
            v["signature"]["key_source"],
            Value::Null,
            "no keys were even looked up"
        );
        assert!(codes(&v).contains(&"signature.alg_not_allowed".to_string()));
    }
}

#[test]
fn keys_named_by_the_token_itself_are_never_used() {
    // The attacker signs with their own key and points jku/x5u/jwk at it.
    let server = MockServer::start();
    let attacker = other_key();
    let jku = server.mock(|when, then| {
        when.path("/attacker-keys");
        then.status(200).json_body(mint::jwks(&[&attacker], None));
    });
    let h = json!({
        "typ": "JWT", "alg": "RS256", "kid": attacker.kid,
        "jku": server.url("/attacker-keys"),
        "x5u": server.url("/attacker-cert"),
        "jwk": attacker.jwk,
        "x5c": attacker.jwk["x5c"],
    });
    let t = mint::sign(&attacker, &h.to_string(), &claims());
    let (code, v, _) = verify_main(&t, &[]);
    assert_eq!(code, 1);
    assert_eq!(v["signature"]["status"], "key_not_found");
    let c = codes(&v);
    assert!(
        c.contains(&"header.embedded_key_reference".to_string()),
        "{c:?}"
    );
    jku.assert_calls(0);
}

#[test]
fn a_flipped_signature_bit_is_invalid() {
    let t = common::fixture_text("tokens/app-v1.jwt");
    let (head, sig) = t.rsplit_once('.').unwrap();
    let mut raw =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, sig).unwrap();
    raw[10] ^= 1;
    let (code, v, _) = verify_main(&format!("{head}.{}", mint::b64(&raw)), &[]);
    assert_eq!(code, 1);
    assert_eq!(v["signature"]["status"], "invalid");
    assert_eq!(v["claims_valid"], true);
}

#[test]
fn issuer_must_equal_the_metadata_template_with_tid() {
    let server = MockServer::start();
    let _aad = Aad::start(&server, &jwks_fixture("jwks.json"));
    let cache = tempfile::tempdir().unwrap();
    // Another tenant's issuer with this tenant's tid.
    let mut c = claims();
    c["iss"] = json!(mint::v1_issuer(OTHER_TENANT));
    let (code, v, _) = verify(&server, cache.path(), &signed(&c), &[]);
    assert_eq!(code, 1);
    assert_eq!(v["signature"]["status"], "valid");
    assert_eq!(v["claims_valid"], false);
    // The template's form for another tenant: the tenant is the cause, said
    // as offline and --jwks say it.
    assert_eq!(
        finding(&v, "issuer.tenant_mismatch")["message"],
        format!(
            "the issuer {} does not name the token's tenant {TENANT}",
            mint::v1_issuer(OTHER_TENANT)
        )
    );
    assert!(!codes(&v).contains(&"issuer.mismatch".to_string()), "{v}");
    // A v1 token (ver 1.0) carrying a v2-style issuer does not match the v1 template.
    let mut c = claims();
    c["iss"] = json!(mint::v2_issuer(TENANT));
    c["ver"] = json!("1.0");
    let (code, v, _) = verify(&server, cache.path(), &signed(&c), &[]);
    assert_eq!(code, 1);
    assert!(codes(&v).contains(&"issuer.mismatch".to_string()));
}

#[test]
fn a_tenant_s_metadata_decides_its_issuer_over_the_offline_forms() {
    // The offline rule expects https://sts.windows.net/{tid}/ for a v1
    // token of the public cloud; a tenant's own metadata that names another
    // form is what the token is judged by (its forms are not guessed).
    let server = MockServer::start();
    let iss_template = "https://login.microsoftonline.com/{tenantid}/";
    server.mock(|when, then| {
        when.method(GET).path(aad_mock::v1_meta_path());
        then.status(200).json_body(json!({
            "issuer": iss_template,
            "jwks_uri": server.url(aad_mock::V1_KEYS),
        }));
    });
    server.mock(|when, then| {
        when.method(GET).path(aad_mock::V1_KEYS);
        then.status(200).json_body(jwks_fixture("jwks.json"));
    });
    let cache = tempfile::tempdir().unwrap();
    let mut c = claims();
    c["iss"] = json!(iss_template.replace("{tenantid}", TENANT));
    let (code, v, err) = verify(&server, cache.path(), &signed(&c), &[]);
    assert_eq!(code, 0, "{v:#}{err}");
    assert!(!codes(&v).iter().any(|c| c.starts_with("issuer.")), "{v:#}");
    // Offline, the same token's issuer is not the form Azure AD writes.
    let out = mdeauth()
        .args(["inspect", "--format", "json", "--at", mint::VALID_AT, "-"])
        .write_stdin(signed(&c))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn tid_must_be_a_guid() {
    let mut c = claims();
    c["tid"] = json!("contoso.example");
    let (code, v, _) = verify_main(&signed(&c), &[]);
    assert_eq!(code, 1);
    assert!(codes(&v).contains(&"claims.tid_not_guid".to_string()));
    // Without --jwks, a template cannot be filled without a tid.
    let server = MockServer::start();
    let _aad = Aad::start(&server, &jwks_fixture("jwks.json"));
    let cache = tempfile::tempdir().unwrap();
    let mut c = claims();
    c.as_object_mut().unwrap().remove("tid");
    let (code, v, _) = verify(&server, cache.path(), &signed(&c), &["--tenant", TENANT]);
    assert_eq!(code, 1, "{v}");
    assert!(codes(&v).contains(&"claims.tid_missing".to_string()), "{v}");
}

#[test]
fn issuer_must_name_the_tenant_even_with_a_jwks_file() {
    let mut c = claims();
    c["iss"] = json!(mint::v1_issuer(OTHER_TENANT));
    let (code, v, _) = verify_main(&signed(&c), &[]);
    assert_eq!(code, 1);
    assert!(codes(&v).contains(&"issuer.tenant_mismatch".to_string()));
}

/// Verify claims signed by the main key with `--jwks jwks.json`; the codes
/// of the findings.
fn verdict_of(c: &Value, extra: &[&str]) -> (i32, Vec<String>, Value) {
    let (code, v, _) = verify_main(&signed(c), extra);
    (code, codes(&v), v)
}

/// [`verdict_of`] at the instant `at`.
fn verdict_at(c: &Value, at: &str) -> (i32, Vec<String>, Value) {
    let (code, v, _) = verify_file(&signed(c), &jwks_file("jwks.json"), &["--at", at]);
    (code, codes(&v), v)
}

#[test]
fn without_metadata_the_issuer_must_be_exactly_what_azure_ad_writes() {
    // Every form here used to pass with --jwks (only a warning, or nothing).
    let v1 = mint::v1_issuer(TENANT);
    for (iss, ver) in [
        (format!("https://sts.windows.net/{TENANT}"), "1.0"),
        (format!("https://login.windows.net/{TENANT}/"), "1.0"),
        (format!("http://sts.windows.net/{TENANT}/"), "1.0"),
        (format!("https://sts.windows.net:8443/{TENANT}/"), "1.0"),
        (format!("https://sts.windows.net/{TENANT}/evil"), "1.0"),
        (format!("https://sts.windows.net/{TENANT}/?x"), "1.0"),
        (v1.clone(), "2.0"),
        (mint::v2_issuer(TENANT), "1.0"),
    ] {
        let mut c = claims();
        c["iss"] = json!(iss);
        c["ver"] = json!(ver);
        let (code, codes, v) = verdict_of(&c, &[]);
        assert_eq!(code, 1, "{iss} ver {ver}: {v}");
        assert_eq!(codes, vec!["issuer.mismatch"], "{iss} ver {ver}");
        let m = finding(&v, "issuer.mismatch")["message"].as_str().unwrap();
        assert!(
            m.contains(&format!("v{ver} token of tenant {TENANT}")),
            "{m}"
        );
    }
    // A non-Azure AD host, even one written to look like one.
    let mut c = claims();
    c["iss"] = json!(format!("https://sts.windows.net@evil.example/{TENANT}/"));
    let (code, codes, _) = verdict_of(&c, &[]);
    assert_eq!((code, codes), (1, vec!["issuer.mismatch".to_string()]));
    // No tid: the issuer cannot be tied to a tenant.
    let mut c = claims();
    c.as_object_mut().unwrap().remove("tid");
    let (code, codes, _) = verdict_of(&c, &[]);
    assert_eq!((code, codes), (1, vec!["claims.tid_missing".to_string()]));
    // The real forms pass: v1, v2, and a national cloud's v2 issuer.
    let (code, _, v) = verdict_of(&claims(), &[]);
    assert_eq!(code, 0, "{v}");
    let mut c = claims();
    c["iss"] = json!(mint::v2_issuer(TENANT));
    c["ver"] = json!("2.0");
    assert_eq!(verdict_of(&c, &[]).0, 0);
    c["iss"] = json!(format!("https://login.microsoftonline.us/{TENANT}/v2.0"));
    assert_eq!(verdict_of(&c, &[]).0, 0);
}

#[test]
fn a_v1_token_verifies_against_its_tenants_v2_key_set() {
    // The v2 key set's issuer is the v2 issuer; Microsoft.IdentityModel
    // accepts it for a v1 token of the same tenant and cloud.
    let (code, v, _) = verify_v2_set(&tok("app-v1.jwt"));
    assert_eq!(code, 0, "{v}");
    // A v1 token naming another cloud still fails the key's issuer.
    let mut c = claims();
    c["iss"] = json!(format!("https://login.microsoftonline.us/{TENANT}/"));
    let (code, v, _) = verify_v2_set(&signed(&c));
    assert_eq!(code, 1);
    assert!(
        codes(&v).contains(&"key.issuer_mismatch".to_string()),
        "{v}"
    );
}

#[test]
fn one_mde_audience_among_several_is_enough() {
    for aud in [
        json!(["https://graph.microsoft.com", mint::MDE_AUD]),
        json!(["https://api.security.microsoft.com", mint::MDE_APP_ID]),
        json!(["api://contoso", mint::MDE_AUD]),
    ] {
        let mut c = claims();
        c["aud"] = aud.clone();
        let (code, codes, v) = verdict_of(&c, &[]);
        assert_eq!(code, 0, "{aud}: {v}");
        assert!(codes.is_empty(), "{aud}: {codes:?}");
    }
}

#[test]
fn audiences_compare_exactly_apart_from_one_trailing_slash() {
    let mut c = claims();
    c["aud"] = json!(format!("{}/", mint::MDE_AUD));
    assert_eq!(verdict_of(&c, &[]).0, 0);
    for aud in [
        format!("{}//", mint::MDE_AUD),
        format!(" {} ", mint::MDE_AUD),
        mint::MDE_AUD.to_uppercase(),
        mint::MDE_APP_ID.to_uppercase(),
    ] {
        c["aud"] = json!(aud);
        let (code, codes, v) = verdict_of(&c, &[]);
        assert_eq!(code, 1, "{aud}");
        assert_eq!(codes, vec!["aud.not_exact"], "{aud}");
        let m = finding(&v, "aud.not_exact")["message"].as_str().unwrap();
        assert!(m.contains("validators compare audiences exactly"), "{m}");
    }
    // Asked for by --audience exactly as written: accepted.
    let aud = mint::MDE_AUD.to_uppercase();
    c["aud"] = json!(aud);
    assert_eq!(verdict_of(&c, &["--audience", &aud]).0, 0);
}

#[test]
fn lifetime_fails_only_when_nbf_is_after_exp() {
    // nbf == exp: valid at that instant (as Microsoft.IdentityModel), with a warning.
    let mut c = claims();
    c["nbf"] = json!(T0);
    c["exp"] = json!(T0);
    let (code, codes, v) = verdict_at(&c, "2026-03-02T09:00:00Z");
    assert_eq!(code, 0, "{v}");
    assert_eq!(codes, vec!["token.lifetime_unusual"]);
    let m = finding(&v, "token.lifetime_unusual")["message"]
        .as_str()
        .unwrap();
    assert!(m.contains("no later than it was valid from"), "{m}");
    // iat after exp, no nbf: iat is not part of validation.
    let mut c = claims();
    c.as_object_mut().unwrap().remove("nbf");
    c["iat"] = json!(T0 + 1000);
    c["exp"] = json!(T0 + 600);
    let (code, codes, _) = verdict_at(&c, "2026-03-02T09:05:00Z");
    assert_eq!(
        (code, codes),
        (0, vec!["token.lifetime_unusual".to_string()])
    );
    // iat after exp beside a normal nbf..exp: a warning, not a failure.
    let mut c = claims();
    c["iat"] = json!(c["exp"].as_i64().unwrap() + 7200);
    let (code, codes, v) = verdict_at(&c, "2026-03-02T09:05:00Z");
    assert_eq!(
        (code, codes),
        (0, vec!["token.lifetime_unusual".to_string()])
    );
    let m = finding(&v, "token.lifetime_unusual")["message"]
        .as_str()
        .unwrap();
    assert!(m.contains("says it was issued"), "{m}");
    // nbf after exp: never valid.
    let mut c = claims();
    c["nbf"] = json!(T0 + 10);
    c["exp"] = json!(T0);
    let (code, codes, _) = verdict_at(&c, "2026-03-02T09:00:05Z");
    assert_eq!(code, 1);
    assert!(
        codes.contains(&"token.lifetime_negative".to_string()),
        "{codes:?}"
    );
}

#[test]
fn a_header_nonce_that_did_not_matter_is_not_reported() {
    let k = main_key();
    let header = format!(
        r#"{{"typ":"JWT","nonce":"abc123","alg":"RS256","x5t":"{0}","kid":"{0}"}}"#,
        k.kid
    );
    // Signed plainly: it verifies by the standard rules and passes.
    let (code, v, _) = verify_main(&mint::sign(&k, &header, &claims()), &[]);
    assert_eq!(code, 0, "{v}");
    assert!(codes(&v).is_empty(), "{v}");
    // A Graph token signed plainly: only the audience is wrong.
    let mut c = claims();
    c["aud"] = json!("https://graph.microsoft.com");
    let (code, v, _) = verify_main(&mint::sign(&k, &header, &c), &[]);
    assert_eq!(code, 1);
    assert_eq!(codes(&v), vec!["aud.not_mde"]);
    // An MDE token signed under Graph's rule: the fix is about MDE, not Graph.
    let (code, v, _) = verify_main(&mint::sign_graph_nonce(&k, "abc123", &claims()), &[]);
    assert_eq!(code, 1);
    let fix = finding(&v, "signature.nonce_transform")["fix"]
        .as_str()
        .unwrap();
    assert!(fix.starts_with("request a fresh token with scope"), "{fix}");
}

#[test]
fn the_app_is_read_from_the_claim_of_the_tokens_version() {
    // A v2 token names its app in azp; a stray appid does not override it.
    let mut c = mint::v2_app_claims(&["Machine.Read.All"]);
    c["appid"] = json!(mint::MDE_APP_ID);
    let k = main_key();
    let t = mint::sign(&k, &k.v2_header(), &c);
    let (code, v, _) = verify_main(&t, &["--client-id", APP]);
    assert_eq!(code, 0, "{v}");
    // --tenant given a domain name, or nothing, and --client-id that is
    // no GUID: bad input (exit 2), not a token that fails; tid is a GUID.
    for bad in [
        ["--tenant", "contoso.onmicrosoft.com"],
        ["--tenant", ""],
        ["--client-id", "orders-api"],
    ] {
        let (code, v, err) = verify_main(&tok("app-v1.jwt"), &bad);
        assert_eq!(code, 2, "{bad:?}: {v}");
        assert_eq!(v, serde_json::Value::Null, "{bad:?}: no report");
        assert!(
            err.contains(
                "is not a tenant id: the token's tid is always the Directory (tenant) ID, a GUID"
            ) || err.contains("client id \"orders-api\" is not a GUID"),
            "{bad:?}: {err}"
        );
    }
    // A braced GUID is the GUID.
    let (code, v, _) = verify_main(&tok("app-v1.jwt"), &["--tenant", &format!("{{{TENANT}}}")]);
    assert_eq!(code, 0, "{v}");
}

#[test]
fn a_missing_tid_is_reported_once_whichever_rules_need_it() {
    // The offline issuer rule and the v2 key's templated issuer both need
    // tid: one finding, not two.
    let k = main_key();
    let mut c = mint::v2_app_claims(&["Machine.Read.All"]);
    c.as_object_mut().unwrap().remove("tid");
    let (code, v, _) = verify_v2_set(&mint::sign(&k, &k.v2_header(), &c));
    assert_eq!(code, 1, "{v}");
    assert_eq!(
        codes(&v)
            .iter()
            .filter(|c| *c == "claims.tid_missing")
            .count(),
        1,
        "{v}"
    );
}

#[test]
fn a_malformed_tid_is_not_also_missing_and_an_upper_case_issuer_reads_alike_everywhere() {
    let k = main_key();
    // tid of the wrong type, against a v2 key set whose issuer needs tid.
    let mut c = mint::v2_app_claims(&["Machine.Read.All"]);
    c["tid"] = json!([TENANT]);
    let (_, v, _) = verify_v2_set(&mint::sign(&k, &k.v2_header(), &c));
    let got = codes(&v);
    assert!(got.contains(&"claims.malformed".to_string()), "{v}");
    assert!(!got.contains(&"claims.tid_missing".to_string()), "{v}");
    // The issuer's tenant in upper case, tid in lower case: the same words
    // with --jwks and with discovery.
    let mut c = claims();
    c["iss"] = json!(mint::v1_issuer(&TENANT.to_ascii_uppercase()));
    let t = signed(&c);
    let want = format!(
        "the issuer {} and the tid {TENANT} name the same tenant in different letter case: Azure AD writes both in lower case",
        mint::v1_issuer(&TENANT.to_ascii_uppercase())
    );
    let (_, v, _) = verify_main(&t, &[]);
    assert_eq!(
        finding(&v, "issuer.tenant_mismatch")["message"],
        want,
        "{v}"
    );
    let server = MockServer::start();
    let _aad = Aad::start(&server, &jwks_fixture("jwks.json"));
    let cache = tempfile::tempdir().unwrap();
    let (_, v, _) = verify(&server, cache.path(), &t, &[]);
    assert_eq!(
        finding(&v, "issuer.tenant_mismatch")["message"],
        want,
        "{v}"
    );
}

#[test]
fn the_keys_own_issuer_member_is_enforced() {
    let k = main_key();
    let v2 = |c: &Value| mint::sign(&k, &k.v2_header(), c);
    let good = mint::v2_app_claims(&["Machine.Read.All"]);
    // Templated key issuer: any tenant after substitution.
    let (code, v, _) = verify_v2_set(&v2(&good));
    assert_eq!(code, 0, "{v}");
    // A v1 issuer does not satisfy the v2 key's templated issuer.
    let mut c = good.clone();
    c["iss"] = json!(mint::v1_issuer(TENANT));
    let (code, v, _) = verify_v2_set(&v2(&c));
    assert_eq!(code, 1);
    assert!(
        codes(&v).contains(&"key.issuer_mismatch".to_string()),
        "{v}"
    );
    // A fixed key issuer matches only exactly.
    let dir = tempfile::tempdir().unwrap();
    let fixed = mint::jwks(&[&k], Some(&mint::v2_issuer(OTHER_TENANT)));
    let p = dir.path().join("fixed.json");
    std::fs::write(&p, fixed.to_string()).unwrap();
    let (code, v, _) = verify_file(&v2(&good), p.to_str().unwrap(), &["--at", mint::VALID_AT]);
    assert_eq!(code, 1);
    let f = finding(&v, "key.issuer_mismatch");
    assert!(f["message"].as_str().unwrap().contains(OTHER_TENANT));
}

#[test]
fn audience_default_and_override() {
    // Default: the MDE audiences.
    let mut c = claims();
    c["aud"] = json!("api://contoso-internal");
    let (code, v, _) = verify_main(&signed(&c), &[]);
    assert_eq!(code, 1);
    assert!(codes(&v).contains(&"aud.not_mde".to_string()));
    // Overridden and matching: passes.
    let (code, v, _) = verify_main(&signed(&c), &["--audience", "api://contoso-internal"]);
    assert_eq!(code, 0, "{v}");
    // Overridden and not matching: an MDE token fails.
    let (code, v, _) = verify_main(
        &tok("app-v1.jwt"),
        &["--audience", "api://a", "--audience", "api://b"],
    );
    assert_eq!(code, 1);
    let f = &v["findings"][0];
    assert_eq!(f["code"], "aud.mismatch");
    assert!(f["message"].as_str().unwrap().contains("api://a, api://b"));
}

/// A client id that is not the fixtures' app.
const OTHER_APP: &str = "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e";

#[test]
fn tenant_and_client_id_pins() {
    let (code, _, _) = verify_main(
        &tok("app-v1.jwt"),
        &["--tenant", TENANT, "--client-id", APP],
    );
    assert_eq!(code, 0);
    let (code, v, _) = verify_main(&tok("app-v1.jwt"), &["--tenant", OTHER_TENANT]);
    assert_eq!(code, 1);
    assert_eq!(codes(&v), vec!["tenant.mismatch"]);
    let (code, v, _) = verify_main(&tok("app-v2.jwt"), &["--client-id", OTHER_APP]);
    assert_eq!(code, 1);
    assert_eq!(codes(&v), vec!["client.mismatch"]);
}

#[test]
fn lifetime_with_leeway() {
    let jwks = jwks_file("jwks.json");
    let exp = T0 + mint::LIFETIME;
    let at = |secs: i64| {
        chrono::DateTime::from_timestamp(secs, 0)
            .unwrap()
            .to_rfc3339()
    };
    // 100 s after expiry: inside the default 300 s leeway, outside --leeway 0.
    let (code, _, _) = verify_file(&tok("app-v1.jwt"), &jwks, &["--at", &at(exp + 100)]);
    assert_eq!(code, 0);
    let (code, v, _) = verify_file(
        &tok("app-v1.jwt"),
        &jwks,
        &["--at", &at(exp + 100), "--leeway", "0"],
    );
    assert_eq!(code, 1);
    assert_eq!(codes(&v), vec!["token.expired"]);
    assert_eq!(v["signature"]["status"], "valid");
    assert_eq!(v["claims_valid"], false);
    // Not yet valid.
    let (code, v, _) = verify_file(&tok("app-v1.jwt"), &jwks, &["--at", &at(T0 - 400)]);
    assert_eq!(code, 1);
    assert_eq!(codes(&v), vec!["token.not_yet_valid"]);
    // The expired fixture, evaluated now.
    let (code, v, _) = verify_file(&tok("expired.jwt"), &jwks, &[]);
    assert_eq!(code, 1);
    assert!(codes(&v).contains(&"token.expired".to_string()));
}

#[test]
fn every_failure_is_reported_not_just_the_first() {
    let mut c = claims();
    c["aud"] = json!("https://graph.microsoft.com");
    c["iss"] = json!(mint::v1_issuer(OTHER_TENANT));
    let t = signed(&c);
    let (head, _) = t.rsplit_once('.').unwrap();
    let forged = format!("{head}.{}", mint::b64(&[7u8; 256]));
    let (code, v, _) = verify_file(
        &forged,
        &jwks_file("jwks.json"),
        &[
            "--at",
            "2026-03-03T09:00:00Z",
            "--tenant",
            OTHER_TENANT,
            "--client-id",
            OTHER_APP,
        ],
    );
    assert_eq!(code, 1);
    let c = codes(&v);
    for want in [
        "signature.invalid",
        "token.expired",
        "aud.not_mde",
        "issuer.tenant_mismatch",
        "tenant.mismatch",
        "client.mismatch",
    ] {
        assert!(c.contains(&want.to_string()), "{want} missing from {c:?}");
    }
}

#[test]
fn human_output_explains_the_verification() {
    let out = mdeauth()
        .args([
            "verify",
            &tok("app-v1.jwt"),
            "--jwks",
            &jwks_file("jwks.json"),
        ])
        .args(["--at", mint::VALID_AT])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(s.contains("Signature    valid"), "{s}");
    assert!(s.contains("Claims       valid"), "{s}");
    assert!(s.contains("Verdict: PASS"), "{s}");
    assert!(
        !s.contains(&common::fixture_text("tokens/app-v1.jwt")),
        "never print the token"
    );
}

#[test]
fn jwks_url_is_fetched_once_and_cached() {
    let server = MockServer::start();
    let keys = server.mock(|when, then| {
        when.method(GET).path("/my/keys");
        then.status(200).json_body(jwks_fixture("jwks.json"));
    });
    let cache = tempfile::tempdir().unwrap();
    let url = server.url("/my/keys");
    for _ in 0..2 {
        let mut c = mdeauth();
        c.env("MDEAUTH_CACHE_DIR", cache.path())
            .args(["--format", "json", "verify", &tok("app-v1.jwt")])
            .args(["--jwks", &url, "--at", mint::VALID_AT]);
        let (code, v, _) = run(c);
        assert_eq!(code, 0, "{v}");
        assert_eq!(v["signature"]["key_source"], url);
    }
    keys.assert_calls(1);
    // A token whose key is not in the given set: key_not_found, with the set's ids.
    let mut c = mdeauth();
    c.env("MDEAUTH_CACHE_DIR", cache.path())
        .args(["--format", "json", "verify", &tok("app-v1-rotated-key.jwt")])
        .args(["--jwks", &url, "--at", mint::VALID_AT]);
    let (code, v, _) = run(c);
    assert_eq!(code, 1);
    assert_eq!(v["signature"]["status"], "key_not_found");
    let msg = v["findings"][0]["message"].as_str().unwrap();
    assert!(msg.contains(&main_key().kid), "{msg}");
    assert!(codes(&v).contains(&"keys.refresh_rate_limited".to_string()));
}

#[test]
fn a_key_set_url_with_a_sas_signature_is_never_shown_with_it() {
    // A JWKS kept in blob storage behind a SAS: the request carries sig=,
    // every place the URL is named shows it redacted.
    const SIG: &str = "TEST-ONLY-sas-signature-0123456789";
    let server = MockServer::start();
    let keys = server.mock(|when, then| {
        when.method(GET).path("/sas/keys").query_param("sig", SIG);
        then.status(200).json_body(jwks_fixture("jwks.json"));
    });
    // A server that echoes the request in its error, and one that quotes
    // the signature by value.
    let gone = server.mock(|when, then| {
        when.method(GET).path("/sas/gone");
        then.status(403)
            .body(format!("AuthenticationFailed for /sas/gone?sig={SIG}&sv=1"));
    });
    let quoted = server.mock(|when, then| {
        when.method(GET).path("/sas/quoted");
        then.status(403)
            .body(format!("Signature {SIG} not valid for this resource"));
    });
    let cache = tempfile::tempdir().unwrap();
    let url = format!("{}?sv=2024-08-04&sr=b&sig={SIG}", server.url("/sas/keys"));
    let shown = format!(
        "{}?sv=2024-08-04&sr=b&sig=[redacted]",
        server.url("/sas/keys")
    );
    for format in ["json", "human"] {
        let out = mdeauth()
            .env("MDEAUTH_CACHE_DIR", cache.path())
            .args(["--format", format, "verify", &tok("app-v1-rotated-key.jwt")])
            .args(["--jwks", &url, "--at", mint::VALID_AT])
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(1), "{all}");
        assert!(!all.contains(SIG), "{all}");
        assert!(all.contains(&shown), "{all}");
    }
    keys.assert_calls(1);
    let out = mdeauth()
        .env("MDEAUTH_CACHE_DIR", cache.path())
        .args(["--format", "json", "cache", "show"])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(listed.contains("sig=[redacted]"), "{listed}");
    assert!(!listed.contains(SIG), "{listed}");
    // Nor is it written to disk: the cache files record the shown URL.
    for f in walk(cache.path()) {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        assert!(!text.contains(SIG), "{}: {text}", f.display());
    }
    // And the cached copy is still found by its URL (no second fetch).
    let out = mdeauth()
        .env("MDEAUTH_CACHE_DIR", cache.path())
        .args(["--format", "json", "verify", &tok("app-v1.jwt")])
        .args(["--jwks", &url, "--at", mint::VALID_AT])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    keys.assert_calls(1);
    // A refused fetch names the URL the same way.
    let out = mdeauth()
        .env("MDEAUTH_CACHE_DIR", cache.path())
        .args(["verify", &tok("app-v1.jwt"), "--at", mint::VALID_AT])
        .arg("--jwks")
        .arg(format!("{}?sig={SIG}", server.url("/sas/gone")))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    gone.assert_calls(1);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("/sas/gone?sig=[redacted] answered HTTP 403: AuthenticationFailed for /sas/gone?sig=[redacted]&sv=1"),
        "{err}"
    );
    assert!(!err.contains(SIG), "{err}");
    let out = mdeauth()
        .env("MDEAUTH_CACHE_DIR", cache.path())
        .args(["verify", &tok("app-v1.jwt"), "--at", mint::VALID_AT])
        .arg("--jwks")
        .arg(format!("{}?sv=1&sig={SIG}", server.url("/sas/quoted")))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    quoted.assert_calls(1);
    assert!(
        err.contains("answered HTTP 403: Signature [redacted] not valid for this resource"),
        "{err}"
    );
    assert!(!err.contains(SIG), "{err}");
}

/// Every file below `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn metadata_naming_a_plain_http_key_set_exits_3() {
    let server = MockServer::start();
    let _meta = server.mock(|when, then| {
        when.method(GET).path(aad_mock::v1_meta_path());
        then.status(200).json_body(json!({
            "issuer": aad_mock::V1_ISSUER_TEMPLATE,
            "jwks_uri": "http://keys.example.com/common/discovery/keys",
        }));
    });
    let cache = tempfile::tempdir().unwrap();
    let (code, _, err) = verify(&server, cache.path(), &tok("app-v1.jwt"), &[]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("names a key set mdeauth will not fetch"),
        "{err}"
    );
    assert!(err.contains("refusing plain http"), "{err}");
}

#[test]
fn an_mde_token_signed_with_a_header_nonce_is_not_called_graph() {
    let k = main_key();
    let t = mint::sign_graph_nonce(&k, "TestOnlyNonceForAnMdeToken0123456789abcdefg", &claims());
    let (code, v, _) = verify_main(&t, &[]);
    assert_eq!(v["signature"]["status"], "valid");
    assert_eq!(v["signature"]["nonce_transformed"], true);
    assert_eq!(code, 1, "standard validators reject it: {v}");
    assert_eq!(v["claims_valid"], true);
    let f = finding(&v, "signature.nonce_transform");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("MDE API tokens are never signed this way")
    );
    assert!(codes(&v).contains(&"header.nonce_unexpected".to_string()));
}

#[test]
fn key_missing_under_another_cloud_names_both_clouds() {
    // A commercial-cloud token (issuer sts.windows.net) checked with
    // --cloud gcc-high: keys come from login.microsoftonline.us (here a
    // seeded cache and --offline), which does not hold the token's key.
    let cache = tempfile::tempdir().unwrap();
    let store = mdeauth::cache::Cache::open(Some(cache.path())).unwrap();
    let host = "https://login.microsoftonline.us";
    let keys_url = format!("{host}/common/discovery/keys");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    for (url, body) in [
        (
            format!("{host}/{TENANT}/.well-known/openid-configuration"),
            json!({
                "issuer": "https://sts.windows.net/{tenantid}/",
                "jwks_uri": keys_url,
                "id_token_signing_alg_values_supported": ["RS256"],
            }),
        ),
        (keys_url.clone(), jwks_fixture("jwks-rotated.json")),
    ] {
        store
            .put(&mdeauth::cache::Entry {
                url,
                fetched_at: now,
                body: body.to_string(),
            })
            .unwrap();
    }
    let mut c = mdeauth();
    c.env("MDEAUTH_CACHE_DIR", cache.path())
        .args(["--format", "json", "verify", &tok("app-v1.jwt")])
        .args(["--cloud", "gcc-high", "--offline", "--at", mint::VALID_AT]);
    let (code, v, err) = run(c);
    assert_eq!(code, 1, "{v}\n{err}");
    assert_eq!(v["signature"]["status"], "key_not_found");
    assert_eq!(v["signature"]["key_source"], keys_url);
    let f = finding(&v, "keys.wrong_cloud_or_tenant");
    assert_eq!(
        f["message"],
        "--cloud gcc-high reads keys from login.microsoftonline.us, but the token was issued in Azure public (commercial), whose keys are on login.microsoftonline.com",
        "{f}"
    );
    assert!(
        f["fix"]
            .as_str()
            .unwrap()
            .starts_with("leave out --cloud/--authority-host")
    );
}

#[test]
fn a_braced_tid_is_not_a_tenant_id_azure_ad_writes() {
    // Braces are accepted where a user types a GUID (--tenant, plans),
    // never in a token: Azure AD writes tid and the issuer without them.
    let k = main_key();
    let mut c = mint::v1_app_claims(&["Machine.Read.All"]);
    c["tid"] = json!(format!("{{{TENANT}}}"));
    c["iss"] = json!(format!("https://sts.windows.net/{{{TENANT}}}/"));
    let t = mint::sign(&k, &k.v1_header(), &c);
    let (code, v, err) = verify_main(&t, &[]);
    assert_eq!(code, 1, "{v:#}\n{err}");
    assert!(
        finding(&v, "claims.tid_not_guid")["message"]
            .as_str()
            .unwrap()
            .contains("is not a GUID as Azure AD writes it"),
        "{v:#}"
    );
}

#[test]
fn a_braced_tid_is_the_pinned_tenant_in_braces_not_another_tenant() {
    // The key is not found (the set was rotated); the diagnosis must not
    // call the braced form of the --tenant GUID another tenant.
    let server = MockServer::start();
    let _aad = Aad::start(&server, &jwks_fixture("jwks-rotated.json"));
    let k = main_key();
    let mut c = mint::v1_app_claims(&["Machine.Read.All"]);
    c["tid"] = json!(format!("{{{TENANT}}}"));
    c["iss"] = json!(format!("https://sts.windows.net/{{{TENANT}}}/"));
    let t = mint::sign(&k, &k.v1_header(), &c);
    let cache = tempfile::tempdir().unwrap();
    let (code, v, err) = verify(&server, cache.path(), &t, &["--tenant", TENANT]);
    assert_eq!(code, 1, "{v:#}\n{err}");
    assert_eq!(v["signature"]["status"], "key_not_found", "{v:#}");
    let m = finding(&v, "keys.wrong_cloud_or_tenant")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        m.contains(&format!(
            "the token's tenant {{{TENANT}}} is --tenant {TENANT} in braces, which Azure AD never writes"
        )),
        "{m}"
    );
    assert!(!m.contains("is not --tenant"), "{m}");
}

#[test]
fn an_aud_or_iss_of_the_wrong_type_is_malformed_not_missing() {
    let k = main_key();
    for (claim, value) in [
        ("aud", json!(5)),
        ("iss", json!(["https://sts.windows.net/x/"])),
    ] {
        let mut c = mint::v1_app_claims(&["Machine.Read.All"]);
        c[claim] = value;
        let t = mint::sign(&k, &k.v1_header(), &c);
        let (code, v, err) = verify_main(&t, &[]);
        assert_eq!(code, 1, "{claim}: {v:#}\n{err}");
        let codes = codes(&v);
        assert!(
            codes.contains(&"claims.malformed".to_string()),
            "{claim}: {codes:?}"
        );
        assert!(
            finding(&v, "claims.malformed")["message"]
                .as_str()
                .unwrap()
                .contains(claim),
            "{claim}"
        );
        for missing in ["aud.missing", "claims.iss_missing"] {
            assert!(!codes.contains(&missing.to_string()), "{claim}: {codes:?}");
        }
    }
}

#[test]
fn the_tenant_in_other_letter_case_is_named_as_such() {
    let k = main_key();
    let mut c = mint::v1_app_claims(&["Machine.Read.All"]);
    c["iss"] = json!(format!(
        "https://sts.windows.net/{}/",
        TENANT.to_uppercase()
    ));
    let t = mint::sign(&k, &k.v1_header(), &c);
    let (code, v, _) = verify_main(&t, &[]);
    assert_eq!(code, 1, "{v:#}");
    assert!(
        finding(&v, "issuer.tenant_mismatch")["message"]
            .as_str()
            .unwrap()
            .contains("name the same tenant in different letter case"),
        "{v:#}"
    );
}

#[test]
fn a_tenants_fixed_issuer_must_still_name_the_tokens_tid() {
    // The metadata of the tenant the token's tid names gives a fixed
    // issuer. A hostile or broken authority answering with another
    // tenant's issuer, or a tid in upper case, must not let the issuer's
    // tenant differ from tid.
    let k = main_key();
    let server = MockServer::start();
    let upper = TENANT.to_ascii_uppercase();
    for tid in [OTHER_TENANT, upper.as_str()] {
        server.mock(|when, then| {
            when.method(GET)
                .path(format!("/{tid}/.well-known/openid-configuration"));
            then.status(200).json_body(json!({
                "issuer": format!("https://sts.windows.net/{TENANT}/"),
                "jwks_uri": server.url("/common/discovery/keys"),
            }));
        });
    }
    server.mock(|when, then| {
        when.method(GET).path("/common/discovery/keys");
        then.status(200).json_body(jwks_fixture("jwks.json"));
    });
    // Another tenant: one cause, one code (not issuer.mismatch beside it).
    // A tid in upper case is not a tid as Azure AD writes it.
    for (tid, code, message) in [
        (
            OTHER_TENANT.to_string(),
            "issuer.tenant_mismatch",
            format!(
                "the issuer https://sts.windows.net/{TENANT}/ does not name the token's tenant {OTHER_TENANT}"
            ),
        ),
        (
            upper.clone(),
            "claims.tid_not_guid",
            format!(
                "the tid claim \"{upper}\" is not a GUID as Azure AD writes it (8-4-4-4-12 hexadecimal digits in lower case, no braces)"
            ),
        ),
    ] {
        let mut claims = mint::v1_app_claims(&["Machine.Read.All"]);
        claims["tid"] = json!(tid);
        let t = mint::sign(&k, &k.v1_header(), &claims);
        let cache = tempfile::tempdir().unwrap();
        let (exit, v, _) = verify(&server, cache.path(), &t, &[]);
        assert_eq!(exit, 1, "{tid}: {v}");
        assert_eq!(finding(&v, code)["message"], message, "{v}");
        assert!(!codes(&v).contains(&"issuer.mismatch".to_string()), "{v}");
    }
}

#[test]
fn a_failed_refetch_for_an_unknown_key_is_not_a_missing_key() {
    // The cached set (10 minutes old) lacks the token's key and the
    // authority fails when asked again: the key may exist, so the
    // signature is unverified (exit 3), not "key not found" (exit 1).
    let server = MockServer::start();
    let mut aad = Aad::start(&server, &jwks_fixture("jwks.json"));
    let cache = tempfile::tempdir().unwrap();
    let (code, v, _) = verify(&server, cache.path(), &tok("app-v1.jwt"), &[]);
    assert_eq!(code, 0, "{v}");
    aad_mock::age_cache(cache.path(), 600);
    aad.v1_keys.delete();
    server.mock(|when, then| {
        when.method(GET).path(aad_mock::V1_KEYS);
        then.status(503).body("busy");
    });
    let (code, v, err) = verify(&server, cache.path(), &tok("app-v1-rotated-key.jwt"), &[]);
    assert_eq!(code, 3, "{v}\n{err}");
    let all = format!("{v}{err}");
    assert!(!all.contains("signature.key_not_found"), "{all}");
    assert!(
        all.contains("the token's key is not in the cached copy of"),
        "{all}"
    );
    assert!(all.contains("HTTP 503"), "{all}");
}
