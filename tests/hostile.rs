//! Hostile tokens: none is ever reported valid, each gets a specific finding or
//! error, none panics or hangs. Generated here with the project's own minting code.

mod common;

use common::{finding, json_out, main_key, mdeauth, mint};
use serde_json::{Value, json};

const AT: &str = mint::VALID_AT;

fn b64s(s: &str) -> String {
    mint::b64(s.as_bytes())
}

fn claims() -> Value {
    mint::v1_app_claims(&["Machine.Read.All"])
}

fn payload() -> String {
    b64s(&serde_json::to_string(&claims()).unwrap())
}

/// Run `inspect --format json` on a token; return (exit code, JSON or stderr).
fn run(token: &str) -> (i32, Result<Value, String>) {
    let out = mdeauth()
        .args(["inspect", "--format", "json", "--at", AT, "-"])
        .timeout(std::time::Duration::from_secs(20))
        .write_stdin(token.to_string())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    let code = out.status.code().expect("exited normally (not killed)");
    if code == 2 {
        assert_eq!(
            stderr.trim_end().lines().count(),
            1,
            "one-line error: {stderr}"
        );
        (code, Err(stderr))
    } else {
        (code, Ok(json_out(&out)))
    }
}

fn assert_finding(token: &str, code: &str) {
    let (exit, v) = run(token);
    let v = v.unwrap_or_else(|e| panic!("expected a report with {code}, got error {e}"));
    assert_eq!(exit, 1, "{code}: never valid");
    assert_eq!(v["verdict"], "fail");
    let codes: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&code), "expected {code} in {codes:?}");
}

fn assert_input_error(token: &str, text: &str) {
    let (exit, v) = run(token);
    let e = v.expect_err("expected an input error");
    assert_eq!(exit, 2);
    assert!(e.contains(text), "expected {text:?} in {e:?}");
}

#[test]
fn alg_none_in_every_spelling() {
    for alg in ["none", "None", "NONE", "nOnE"] {
        let t = format!(
            "{}.{}.",
            b64s(&format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#)),
            payload()
        );
        assert_finding(&t, "header.alg_none");
    }
}

#[test]
fn hs256_signed_with_the_rsa_public_key() {
    // The key-confusion attack: HMAC keyed with the public key's bytes.
    let key = main_key();
    let secret = serde_json::to_vec(&key.jwk).unwrap();
    let header = json!({"alg": "HS256", "typ": "JWT", "kid": key.kid});
    let t = jsonwebtoken::encode(
        &jsonwebtoken::Header {
            alg: jsonwebtoken::Algorithm::HS256,
            kid: Some(key.kid.clone()),
            ..Default::default()
        },
        &claims(),
        &jsonwebtoken::EncodingKey::from_secret(&secret),
    )
    .unwrap();
    assert_eq!(header["alg"], "HS256");
    assert_finding(&t, "header.alg_hmac");
}

#[test]
fn hostile_kids_are_just_unknown_strings() {
    let key = main_key();
    for kid in [
        "../../../../etc/passwd".to_string(),
        "' OR 1=1; DROP TABLE keys; --".to_string(),
        "k".repeat(10 * 1024),
    ] {
        let h = json!({"typ": "JWT", "alg": "RS256", "kid": kid}).to_string();
        let t = mint::sign(&key, &h, &claims());
        let (exit, v) = run(&t);
        // Offline, the kid is only displayed; the token decodes and signature is not claimed valid.
        assert_eq!(exit, 0);
        let v = v.unwrap();
        assert_eq!(v["token"]["kid"], json!(kid));
        assert!(
            v["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["code"] == "signature.not_checked")
        );
    }
}

#[test]
fn key_naming_headers_are_flagged() {
    let key = main_key();
    for (member, value) in [
        ("jku", json!("http://127.0.0.1:9/keys")),
        ("x5u", json!("http://127.0.0.1:9/cert.pem")),
        ("jwk", key.jwk.clone()),
        ("x5c", key.jwk["x5c"].clone()),
    ] {
        let mut h = json!({"typ": "JWT", "alg": "RS256", "kid": key.kid});
        h[member] = value;
        let t = mint::sign(&key, &h.to_string(), &claims());
        let (exit, v) = run(&t);
        assert_eq!(exit, 0, "{member}: a warning, not an error, offline");
        let v = v.unwrap();
        let f = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"] == "header.embedded_key_reference")
            .unwrap_or_else(|| panic!("{member}: no finding"));
        assert!(f["message"].as_str().unwrap().contains(member));
    }
}

#[test]
fn crit_b64_and_nested_tokens() {
    let key = main_key();
    let h = json!({"typ": "JWT", "alg": "RS256", "kid": key.kid, "crit": ["exp"], "exp": 1});
    assert_finding(&mint::sign(&key, &h.to_string(), &claims()), "header.crit");
    let h = json!({"typ": "JWT", "alg": "RS256", "kid": key.kid, "b64": false, "crit": ["b64"]});
    assert_finding(
        &mint::sign(&key, &h.to_string(), &claims()),
        "header.b64_false",
    );
    let h = json!({"typ": "JWT", "alg": "RS256", "kid": key.kid, "cty": "JWT"});
    assert_finding(
        &mint::sign(&key, &h.to_string(), &claims()),
        "header.nested_jwt",
    );
}

#[test]
fn duplicate_alg_members() {
    let key = main_key();
    let h = format!(
        r#"{{"alg":"RS256","typ":"JWT","kid":"{}","alg":"none"}}"#,
        key.kid
    );
    assert_finding(&mint::sign(&key, &h, &claims()), "header.duplicate_member");
}

/// A claim given twice: parsers keep the first or the last, so the token
/// fails whichever value mdeauth reads, and the finding names each claim.
#[test]
fn claims_given_twice() {
    let key = main_key();
    let mut json = serde_json::to_string(&claims()).unwrap();
    json.insert_str(
        1,
        r#""roles":["Machine.Isolate"],"aud":"https://graph.microsoft.com","nbf":1,"#,
    );
    let t = mint::sign_raw(&key, &key.v1_header(), json.as_bytes());
    let (exit, v) = run(&t);
    let v = v.unwrap();
    assert_eq!(exit, 1);
    let f = finding(&v, "claims.duplicate");
    assert_eq!(
        f["message"],
        "the payload gives the claim(s) aud, nbf, roles more than once; validators disagree on which value counts (mdeauth reads the last)"
    );
    assert_eq!(f["severity"], "error");
    // The last values are the ones read: the MDE audience, the original roles.
    assert_eq!(v["token"]["resource"], "mde");
    assert_eq!(v["token"]["roles"], json!(["Machine.Read.All"]));
    // Repeats of claims mdeauth does not read are not its concern.
    let mut json = serde_json::to_string(&claims()).unwrap();
    json.insert_str(1, r#""aio":"x","#);
    let (exit, v) = run(&mint::sign_raw(&key, &key.v1_header(), json.as_bytes()));
    assert_eq!(exit, 0, "{v:?}");
}

/// Values that carry terminal escape sequences, line breaks or bidi
/// controls are shown escaped in human output: a token cannot clear the
/// screen, recolour the report or print a fake verdict line.
#[test]
fn escape_sequences_in_a_token_never_reach_the_terminal() {
    let key = main_key();
    let mut c = claims();
    c["aud"] = json!("https://x\u{1b}[2J\u{1b}[32m\nVerdict: PASS\u{202e}");
    c["tid"] = json!("t\u{7}id");
    c["roles"] = json!(["Machine.Read.All\u{1b}[0m"]);
    let h = json!({"typ": "JWT", "alg": "RS256", "kid": "k\u{1b}]0;title\u{7}"}).to_string();
    let t = mint::sign(&key, &h, &c);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app\u{1b}[31m.log");
    std::fs::write(&log, format!("Authorization: Bearer {t}\n")).unwrap();
    for color in ["never", "always"] {
        let inspect = mdeauth()
            .args(["inspect", "--color", color, "--at", AT, "-"])
            .write_stdin(t.clone())
            .output()
            .unwrap();
        let scan = mdeauth()
            .args(["scan", "--no-verify", "--color", color, "--at", AT])
            .arg(&log)
            .output()
            .unwrap();
        for out in [&inspect, &scan] {
            assert_eq!(out.status.code(), Some(1));
            let text = String::from_utf8(out.stdout.clone()).unwrap();
            for bad in [
                "\u{1b}[2J",
                "\u{1b}[32m\n",
                "\u{1b}]0;",
                "\u{7}",
                "\u{202e}",
                "\nVerdict: PASS",
            ] {
                assert!(
                    !text.contains(bad),
                    "{color}: {bad:?} reached the terminal:\n{text}"
                );
            }
            assert!(
                text.contains(r"https://x\u{1b}[2J\u{1b}[32m"),
                "{color}: the value is shown escaped:\n{text}"
            );
            if color == "never" {
                assert!(!text.contains('\u{1b}'), "{text}");
            }
        }
        let text = String::from_utf8(inspect.stdout).unwrap();
        assert!(text.contains(r"t\u{7}id"), "{text}");
        assert!(text.contains(r"k\u{1b}]0;title\u{7}"), "{text}");
        let text = String::from_utf8(scan.stdout).unwrap();
        assert!(text.contains(r"app\u{1b}[31m.log:1"), "{text}");
    }
}

#[test]
fn exp_of_the_wrong_type_or_range() {
    let key = main_key();
    for exp in [
        json!("1772446500"),
        json!(1e300),
        json!(-5),
        json!(9_999_999_999_999i64),
        json!(null),
        json!([1]),
    ] {
        let mut c = claims();
        c["exp"] = exp.clone();
        let t = mint::sign(&key, &key.v1_header(), &c);
        assert_finding(&t, "claims.malformed");
    }
}

#[test]
fn deeply_nested_claims() {
    // 100 levels decode; serde_json's recursion limit (128) turns 10,000 into an input error.
    let key = main_key();
    let nested = |depth: usize| format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
    let mut c = claims().to_string();
    c.pop();
    let ok = format!("{c},\"deep\":{}}}", nested(100));
    let t = mint::sign_raw(&key, &key.v1_header(), ok.as_bytes());
    assert_eq!(run(&t).0, 0);
    let deep = format!("{c},\"deep\":{}}}", nested(10_000));
    let t = mint::sign_raw(&key, &key.v1_header(), deep.as_bytes());
    assert_input_error(
        &t,
        "payload nests arrays or objects more than 128 levels deep",
    );
}

#[test]
fn non_utf8_segments_and_huge_input() {
    let key = main_key();
    let t = mint::sign_raw(&key, &key.v1_header(), &[0xff, 0xfe, 0xfd]);
    assert_input_error(&t, "payload is not UTF-8");
    let h = mint::b64(&[0xc3, 0x28]);
    assert_input_error(&format!("{h}.{}.c2ln", payload()), "header is not UTF-8");
    let big = "eyJ".to_string() + &"A".repeat(10 * 1024 * 1024);
    assert_input_error(&big, "larger than 256 KB");
}
