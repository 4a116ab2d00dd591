//! `mdeauth inspect`: every input form, every input error, classification and findings.

mod common;

use common::{finding, fixture, fixture_text, json_out, main_key, mdeauth, mint};
use predicates::prelude::*;
use serde_json::json;

const AT: &str = mint::VALID_AT;

fn inspect_json(args: &[&str]) -> (i32, serde_json::Value) {
    inspect_json_at(AT, args)
}

fn inspect_json_at(at: &str, args: &[&str]) -> (i32, serde_json::Value) {
    let out = mdeauth()
        .args(["inspect", "--format", "json", "--at", at])
        .args(args)
        .output()
        .unwrap();
    (out.status.code().unwrap(), json_out(&out))
}

/// `inspect --format json --at AT -` with `token` (its text) on standard input.
fn inspect_token(token: &str) -> (i32, serde_json::Value) {
    inspect_stdin(token.to_string())
}

/// A token (or text holding one) given as the argument is refused: exit 2,
/// one line on stderr that does not repeat it, nothing on stdout.
fn assert_token_argument_refused(out: &std::process::Output, token: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(
        err.starts_with("mdeauth: error: a token is not taken on the command line"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err:?}");
    assert!(!err.contains(token), "the token is repeated: {err}");
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

fn codes(v: &serde_json::Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

// ---------- input forms ----------

#[test]
fn file_path_as_positional_argument() {
    mdeauth()
        .args(["inspect", "--at", AT])
        .arg(fixture("tokens/app-v1.jwt"))
        .assert()
        .code(0)
        .stdout(predicate::str::contains("application context"))
        .stdout(predicate::str::contains(
            "Machine.Read.All, Alert.Read.All, Machine.Isolate",
        ))
        .stdout(predicate::str::contains("expires in 45 min"))
        .stdout(predicate::str::contains("Verdict: PASS"));
}

#[test]
fn token_text_as_argument_is_refused_stdin_file_flag_and_env_give_the_same_token() {
    let tok = fixture_text("tokens/app-v1.jwt");
    let fp = |out: std::process::Output| json_out(&out)["token"]["fingerprint"].clone();
    let base = || {
        let mut c = mdeauth();
        c.args(["inspect", "--format", "json", "--at", AT]);
        c
    };
    // The token itself as the argument: shell history and the process
    // list keep it, so it is refused (and not repeated), as is
    // `Bearer <jwt>` and an Authorization line.
    for arg in [
        tok.clone(),
        format!("Bearer {tok}"),
        format!("Authorization: Bearer {tok}"),
    ] {
        assert_token_argument_refused(&base().arg(&arg).output().unwrap(), &tok);
    }
    let a = fp(base().arg("-").write_stdin(tok.clone()).output().unwrap());
    let b = fp(base().arg(fixture("tokens/app-v1.jwt")).output().unwrap());
    let c = fp(base()
        .arg("--token-file")
        .arg(fixture("tokens/app-v1.jwt"))
        .output()
        .unwrap());
    let d = fp(base().env("MDEAUTH_TOKEN", &tok).output().unwrap());
    assert!(a.as_str().unwrap().starts_with("sha256:"));
    assert_eq!(a, b);
    assert_eq!(a, c);
    assert_eq!(a, d);
}

#[test]
fn pasted_shapes_are_accepted() {
    let tok = fixture_text("tokens/app-v1.jwt");
    let wrapped: String = tok
        .as_bytes()
        .chunks(60)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    let shapes = [
        (format!("Bearer {tok}"), "Bearer value"),
        (format!("bearer   {tok}\n"), "Bearer value"),
        (
            format!("Authorization: Bearer {tok}\r\n"),
            "Authorization header",
        ),
        (
            format!("Authorization: \"Bearer {tok}\""),
            "Authorization header",
        ),
        // Text around the token with no space before it.
        (
            format!("export TOKEN={tok}\n"),
            "the only token in the text",
        ),
        (format!("TOKEN={tok}"), "the only token in the text"),
        (
            format!("https://localhost/#access_token={tok}&token_type=Bearer"),
            "the only token in the text",
        ),
        (
            format!("access_token={tok}&expires_in=3599"),
            "the only token in the text",
        ),
        (format!("  \"{tok}\"  \n"), "input"),
        (format!("'{tok}'"), "input"),
        (format!("\n\n{wrapped}\n"), "input"),
        (
            fixture_text("tokens/token-response.json"),
            "access_token field",
        ),
        (
            fixture_text("tokens/az-get-access-token.json"),
            "accessToken field",
        ),
        // MSAL.PS / MSAL.NET AuthenticationResult as JSON: the access token wins.
        (
            format!(
                "{{\"AccessToken\": \"{tok}\", \"IdToken\": \"{}\", \"TokenType\": \"Bearer\"}}",
                fixture_text("tokens/id-token.jwt").trim()
            ),
            "AccessToken field",
        ),
        // PowerShell: Get-AzAccessToken -ResourceUrl ... | ConvertTo-Json (Az.Accounts before 4).
        (
            format!(
                "{{\r\n  \"Token\": \"{tok}\",\r\n  \"ExpiresOn\": \"2026-03-02T10:45:00+00:00\",\r\n  \"TenantId\": \"4d7f7e2c-9a51-4c1b-8b8e-2f6a3c1d0e55\",\r\n  \"UserId\": \"9b0a3d8e-5c2f-4e71-a1b4-6d3e8f2c7a90\",\r\n  \"Type\": \"Bearer\"\r\n}}"
            ),
            "Token field",
        ),
    ];
    for (shape, source) in shapes {
        let out = mdeauth()
            .args(["inspect", "--format", "json", "--at", AT, "-"])
            .write_stdin(shape.clone())
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "shape {shape:?} stderr {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v = json_out(&out);
        assert_eq!(v["token"]["source"], source, "shape {shape:?}");
        assert_eq!(v["token"]["context"], "application");
    }
}

// ---------- input errors: one line, exit 2 ----------

fn input_error(stdin: impl Into<Vec<u8>>, expect: &str) {
    let out = mdeauth()
        .args(["inspect", "-"])
        .write_stdin(stdin.into())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(err.contains(expect), "expected {expect:?} in {err:?}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err:?}");
    assert!(out.stdout.is_empty());
    assert!(!err.contains("panicked"));
}

#[test]
fn empty_input() {
    input_error("", "the input is empty");
    input_error("   \n\t ", "the input is empty");
    input_error("Bearer   ", "is empty");
}

#[test]
fn encrypted_token_is_named_as_jwe() {
    input_error(
        "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a2V5.aXY.Y2lwaGVy.dGFn",
        "encrypted token (JWE, 5 segments)",
    );
}

#[test]
fn opaque_token_is_rejected() {
    input_error(
        "EwBwA8l6BAAURSN/FHlDW5xN74t6GIjOpaqueRefreshish",
        "not a JWT",
    );
    input_error("a.b.c.d", "4 dot-separated segments");
    // A real token with a fourth part is no token: not its first three.
    let t = fixture_text("tokens/app-v1.jwt");
    input_error(format!("{}.abc", t.trim()), "4 dot-separated segments");
}

#[test]
fn bad_base64url_names_the_segment() {
    input_error(
        "eyJhbGciOiJSUzI1NiJ9.e$$.sig",
        "payload segment is not base64url",
    );
    input_error("e*J.eyJ9.sig", "header segment is not base64url");
    input_error(
        "eyJhbGciOiJSUzI1NiJ9.eyJhIjoxfQ.a",
        "signature segment is not valid base64url",
    );
}

#[test]
fn header_or_payload_not_json() {
    let b = |s: &str| mint::b64(s.as_bytes());
    input_error(
        format!("{}.{}.c2ln", b("not json"), b("{}")),
        "header is not JSON",
    );
    input_error(
        format!("{}.{}.c2ln", b(r#"{"alg":"RS256"}"#), b("plain text")),
        "payload is not JSON",
    );
    input_error(
        format!("{}.{}.c2ln", b(r#"{"alg":"RS256"}"#), b("[1,2]")),
        "payload is JSON but not an object",
    );
}

#[test]
fn oversize_input() {
    input_error(vec![b'a'; 300 * 1024], "larger than 256 KB");
}

#[test]
fn non_utf8_input() {
    input_error(vec![0xc3, 0x28, 0xa0, 0xa1], "neither UTF-8 nor UTF-16");
}

#[test]
fn json_without_a_token_and_error_responses() {
    input_error(
        r#"{"token_type":"Bearer"}"#,
        "no access_token, accessToken or Token field",
    );
    // Az.Accounts 4 and later: Token is a SecureString, which ConvertTo-Json hides.
    input_error(
        r#"{"Token": {"Length": 1712}, "ExpiresOn": "2026-03-02T10:45:00+00:00", "Type": "Bearer"}"#,
        "the JSON field Token is a PowerShell SecureString, which ConvertTo-Json does not reveal; pass the token text instead, e.g. `(Get-AzAccessToken -ResourceUrl https://api.securitycenter.microsoft.com).Token | ConvertFrom-SecureString -AsPlainText` in PowerShell 7",
    );
    // The same SecureString written out as text (`$t > token.txt`).
    input_error(
        "System.Security.SecureString\r\n",
        "the input is the type name of a PowerShell SecureString, not the token's text; pass the token text instead",
    );
    input_error(
        r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215]}"#,
        "error response from the token endpoint AADSTS7000215",
    );
    input_error(r#"{"access_token": "#, "not valid JSON");
}

#[test]
fn missing_token_and_conflicting_sources() {
    mdeauth()
        .arg("inspect")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no token given"));
    mdeauth()
        .args(["inspect", "abc", "--token-file"])
        .arg(fixture("tokens/app-v1.jwt"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "both a token argument and --token-file",
        ));
    mdeauth()
        .args(["inspect", "fixtures/tokens/no-such-file.jwt"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no such token file"));
    // A file name without a directory is still a file name, not a bad token.
    mdeauth()
        .args(["inspect", "token.txt"])
        .assert()
        .code(2)
        .stderr("mdeauth: error: no such token file: token.txt; give an existing file, or - to read the token from standard input\n");
    // A secret pasted where a token belongs is not named back, with or
    // without a slash in it.
    for secret in [
        "Q~8Qabcdefghij.klmnopqrstuvwxyz",
        "q7Z/kD+8mW2xP9Lr3vN0tY4sQ1uE6hJ5gB=",
    ] {
        let out = mdeauth().args(["inspect", secret]).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(!String::from_utf8_lossy(&out.stderr).contains(secret));
    }
    // A redirect URL holding a token is text, not a path: as the argument
    // it is refused as the token itself is (not taken for a missing file,
    // nor repeated); on standard input the token in it is read.
    let tok = fixture_text("tokens/app-v1.jwt");
    let redirect = format!(
        "https://localhost/cb#access_token={}&token_type=Bearer",
        tok.trim()
    );
    let out = mdeauth()
        .args(["inspect", "--format", "json", "--at", AT])
        .arg(&redirect)
        .output()
        .unwrap();
    assert_token_argument_refused(&out, tok.trim());
    let out = mdeauth()
        .args(["inspect", "--format", "json", "--at", AT, "-"])
        .write_stdin(redirect)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        json_out(&out)["token"]["source"],
        "the only token in the text"
    );
    mdeauth()
        .args(["inspect", "--token-file", "/nonexistent/t.jwt"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read token file"));
}

#[test]
fn a_directory_is_named_as_one_and_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let shown = dir.path().display().to_string();
    mdeauth()
        .arg("inspect")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(format!(
            "mdeauth: error: {shown} is a directory, not a token file; name the file that holds the token, or use `mdeauth scan` to search a directory\n"
        ));
    // Opened, then refused by the read: still the user's to fix (exit 2), not the machine's (3).
    mdeauth()
        .args(["inspect", "--token-file"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains(format!("cannot read {shown}:")).and(
                predicate::str::contains(
                    "name the file that holds the token, or - for standard input",
                ),
            ),
        );
}

/// `mdeauth inspect <(az account get-access-token ...)`: the shell passes a
/// pipe's path, which is not a regular file but is read like one.
#[cfg(unix)]
#[test]
fn a_pipe_named_as_the_argument_is_read() {
    let mut cmd = mdeauth();
    cmd.args(["inspect", "--format", "json", "--at", AT]);
    let out = common::run_on_pipe(cmd, fixture_text("tokens/app-v1.jwt"), 0);
    let (code, from_file) = inspect_json(&[fixture("tokens/app-v1.jwt").to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(json_out(&out), from_file);
}

#[test]
fn bad_flags_are_usage_errors() {
    mdeauth()
        .args(["inspect", "--at", "yesterday"])
        .arg(fixture("tokens/app-v1.jwt"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not an RFC 3339 time"));
    mdeauth()
        .args(["inspect", "--leeway", "-5"])
        .arg(fixture("tokens/app-v1.jwt"))
        .assert()
        .code(2);
    mdeauth()
        .args(["inspect", "--format", "yaml"])
        .assert()
        .code(2);
}

// ---------- classification ----------

#[test]
fn v1_application_token() {
    let (code, v) = inspect_json(&[fixture("tokens/app-v1.jwt").to_str().unwrap()]);
    assert_eq!(code, 0);
    let t = &v["token"];
    assert_eq!(t["version"], "1.0");
    assert_eq!(t["kind"], "access");
    assert_eq!(t["context"], "application");
    assert_eq!(t["resource"], "mde");
    assert_eq!(
        t["audience"],
        json!(["https://api.securitycenter.microsoft.com"])
    );
    assert_eq!(
        t["issuer"],
        format!("https://sts.windows.net/{}/", mint::TENANT)
    );
    assert_eq!(t["cloud"], "public");
    assert_eq!(t["tenant_id"], mint::TENANT);
    assert_eq!(t["app_id"], mint::APP);
    assert_eq!(t["app_auth"], "secret");
    assert_eq!(
        t["roles"],
        json!(["Machine.Read.All", "Alert.Read.All", "Machine.Isolate"])
    );
    assert_eq!(t["scopes"], json!([]));
    assert_eq!(t["issued_at"], "2026-03-02T09:00:00Z");
    assert_eq!(t["not_before"], "2026-03-02T09:00:00Z");
    assert_eq!(t["expires_at"], "2026-03-02T10:15:00Z");
    assert_eq!(t["expires_in_seconds"], 2700);
    assert_eq!(v["verdict"], "pass");
    assert_eq!(codes(&v), vec!["signature.not_checked"]);
    let f = &v["findings"][0];
    assert_eq!(f["severity"], "info");
    assert!(f["fix"].as_str().unwrap().contains("mdeauth verify"));
}

#[test]
fn v1_delegated_token_warns_about_the_users_role() {
    let (code, v) = inspect_json(&[fixture("tokens/delegated-v1.jwt").to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(v["token"]["context"], "delegated");
    assert_eq!(
        v["token"]["scopes"],
        json!(["Machine.Read", "Alert.ReadWrite", "AdvancedQuery.Read"])
    );
    assert_eq!(v["token"]["user"], "alex@contoso.example");
    assert_eq!(v["token"]["app_auth"], "public_client");
    assert!(codes(&v).contains(&"context.delegated".to_string()));
}

#[test]
fn v2_token_with_the_app_id_audience_is_mde() {
    let (code, v) = inspect_json(&[fixture("tokens/app-v2.jwt").to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(v["token"]["version"], "2.0");
    assert_eq!(v["token"]["resource"], "mde");
    assert_eq!(v["token"]["app_id"], mint::APP);
    assert_eq!(v["token"]["app_auth"], "certificate");
}

#[test]
fn app_token_without_roles_points_to_consent() {
    let (code, v) = inspect_json(&[fixture("tokens/app-no-roles.jwt").to_str().unwrap()]);
    assert_eq!(code, 1);
    // idtyp=app makes it an application-context token, but it carries no permission.
    assert_eq!(v["token"]["context"], "application");
    assert_eq!(v["token"]["roles"], json!([]));
    assert_eq!(v["verdict"], "fail");
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "perm.none")
        .unwrap();
    assert_eq!(f["severity"], "error");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("neither roles nor scp")
    );
    assert!(f["fix"].as_str().unwrap().contains("admin consent"));
    assert!(f["fix"].as_str().unwrap().contains(mint::APP));
}

#[test]
fn token_with_neither_roles_scp_nor_idtyp_has_context_none() {
    let key = main_key();
    let mut c = mint::v1_app_claims(&[]);
    c.as_object_mut().unwrap().remove("idtyp");
    let tok = mint::sign(&key, &key.v1_header(), &c);
    let (code, v) = inspect_token(&tok);
    assert_eq!(code, 1);
    assert_eq!(v["token"]["context"], "none");
    assert!(codes(&v).contains(&"perm.none".to_string()));
}

#[test]
fn graph_token_with_header_nonce() {
    let (code, v) = inspect_json(&[fixture("tokens/graph-nonce.jwt").to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(v["token"]["resource"], "graph");
    let c = codes(&v);
    assert!(c.contains(&"graph.nonce".to_string()), "{c:?}");
    let aud = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "aud.not_mde")
        .unwrap();
    assert!(aud["message"].as_str().unwrap().contains("Microsoft Graph"));
    assert!(
        aud["fix"]
            .as_str()
            .unwrap()
            .contains("https://api.securitycenter.microsoft.com/.default")
    );
}

#[test]
fn id_token_where_an_access_token_belongs() {
    let (code, v) = inspect_json(&[fixture("tokens/id-token.jwt").to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(v["token"]["kind"], "id");
    assert!(codes(&v).contains(&"token.id_token".to_string()));
    assert!(!codes(&v).contains(&"perm.none".to_string()));
}

#[test]
fn an_id_token_listing_the_users_app_roles_is_still_an_id_token() {
    // Entra ID writes a user's app roles into ID tokens; nonce never
    // appears in an access token.
    let mut c = mint::v2_app_claims(&["Admin"]);
    let o = c.as_object_mut().unwrap();
    o.remove("idtyp");
    o.remove("azp");
    o.remove("azpacr");
    c["aud"] = json!(mint::APP);
    c["nonce"] = json!("n-0S6_WzA2Mj");
    c["preferred_username"] = json!("alex@contoso.example");
    let k = main_key();
    let t = mint::sign(&k, &k.v2_header(), &c);
    let (code, v) = inspect_token(&t);
    assert_eq!(code, 1);
    assert_eq!(v["token"]["kind"], "id");
    assert!(codes(&v).contains(&"token.id_token".to_string()), "{v}");
    // Without a nonce (device code, ROPC, refresh flows) too: it names no
    // app (no appid/azp), as no access token does, and is no app's token.
    c.as_object_mut().unwrap().remove("nonce");
    let t = mint::sign(&k, &k.v2_header(), &c);
    let (code, v) = inspect_token(&t);
    assert_eq!(code, 1);
    assert_eq!(v["token"]["kind"], "id", "{v}");
    assert_eq!(v["token"]["context"], "none", "{v}");
    assert!(codes(&v).contains(&"token.id_token".to_string()), "{v}");
}

#[test]
fn an_app_only_token_with_a_nonce_is_still_an_access_token() {
    // idtyp is an access-token claim: with idtyp=app, a stray nonce or
    // at_hash does not make an MDE app token an ID token.
    for extra in ["nonce", "at_hash"] {
        let mut c = mint::v1_app_claims(&["Machine.Read.All"]);
        c[extra] = json!("x-0S6_WzA2Mj");
        let k = main_key();
        let t = mint::sign(&k, &k.v1_header(), &c);
        let (_, v) = inspect_token(&t);
        assert_eq!(v["token"]["kind"], "access", "{extra}: {v}");
        assert_eq!(v["token"]["context"], "application", "{extra}: {v}");
        assert!(
            !codes(&v).contains(&"token.id_token".to_string()),
            "{extra}: {v}"
        );
    }
}

#[test]
fn a_users_token_with_roles_and_no_scp_is_not_app_only() {
    // The user's app roles of the API, without delegated permissions: an
    // access token for the user, not an application-context token.
    for (k, v) in [
        ("idtyp", json!("user")),
        ("upn", json!("ada@contoso.example")),
    ] {
        let mut c = mint::v1_app_claims(&["Incident.Responder"]);
        let o = c.as_object_mut().unwrap();
        o.remove("idtyp");
        o.insert(k.to_string(), v);
        let key = main_key();
        let t = mint::sign(&key, &key.v1_header(), &c);
        let (code, r) = inspect_token(&t);
        assert_eq!(code, 1, "{k}: {r}");
        assert_eq!(r["token"]["kind"], "access", "{k}: {r}");
        assert_eq!(r["token"]["context"], "none", "{k}: {r}");
        let f = r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"] == "perm.none")
            .unwrap_or_else(|| panic!("{k}: {r}"));
        assert!(
            f["message"].as_str().unwrap().contains(
                "but carries no scp: its roles (Incident.Responder) are the user's own app roles"
            ),
            "{f}"
        );
    }
}

#[test]
fn a_managed_identity_without_roles_is_told_about_app_role_assignments() {
    // No app registration, so no consent page: roles are assigned to its
    // service principal.
    let mut c = mint::v1_app_claims(&[]);
    let o = c.as_object_mut().unwrap();
    o.remove("roles");
    o.insert(
        "xms_mirid".into(),
        json!("/subscriptions/0/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/mi"),
    );
    let key = main_key();
    let t = mint::sign(&key, &key.v1_header(), &c);
    let (code, r) = inspect_token(&t);
    assert_eq!(code, 1, "{r}");
    let f = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "perm.none")
        .unwrap_or_else(|| panic!("{r}"));
    let fix = f["fix"].as_str().unwrap();
    assert!(
        fix.contains("New-MgServicePrincipalAppRoleAssignment"),
        "{fix}"
    );
    assert!(!fix.contains("consent-url"), "{fix}");
}

#[test]
fn the_payload_error_reads_as_one_sentence() {
    let b = |s: &str| mint::b64(s.as_bytes());
    mdeauth()
        .args(["inspect", "-"])
        .write_stdin(format!(
            "{}.{}.c2ln",
            b(r#"{"alg":"RS256"}"#),
            b("plain text")
        ))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "mdeauth: error: cannot read the token's claims: the payload is not JSON",
        ));
}

#[test]
fn expired_token_says_how_long_ago() {
    mdeauth()
        .args(["inspect", "--at", AT])
        .arg(fixture("tokens/expired.jwt"))
        .assert()
        .code(1)
        .stdout(predicate::str::contains("token.expired"))
        .stdout(predicate::str::contains("expired 23 h ago"))
        .stdout(predicate::str::contains("Verdict: FAIL"));
}

#[test]
fn at_answers_was_it_valid_then() {
    // The expired fixture was valid a day before the others.
    let (code, v) = inspect_json_at(
        "2026-03-01T09:30:00Z",
        &[fixture("tokens/expired.jwt").to_str().unwrap()],
    );
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["token"]["evaluated_at"], "2026-03-01T09:30:00Z");
    // And the valid fixture is "not yet valid" before it was issued.
    let (code, v) = inspect_json_at(
        "2026-03-02T08:00:00Z",
        &[fixture("tokens/app-v1.jwt").to_str().unwrap()],
    );
    assert_eq!(code, 1);
    assert!(codes(&v).contains(&"token.not_yet_valid".to_string()));
}

#[test]
fn leeway_is_applied_and_configurable() {
    // 200 s after expiry: inside the default 300 s leeway, outside a 60 s one.
    let tok = fixture("tokens/app-v1.jwt");
    let tok = tok.to_str().unwrap();
    let out = mdeauth()
        .args([
            "inspect",
            "--format",
            "json",
            "--at",
            "2026-03-02T10:18:20Z",
            tok,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let out = mdeauth()
        .args([
            "inspect",
            "--format",
            "json",
            "--leeway",
            "60",
            "--at",
            "2026-03-02T10:18:20Z",
            tok,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(codes(&json_out(&out)).contains(&"token.expired".to_string()));
}

#[test]
fn unusual_lifetime_and_other_audiences() {
    let key = main_key();
    let mut c = mint::v1_app_claims(&["Machine.Read.All"]);
    c["exp"] = json!(mint::T0 + 48 * 3600);
    let tok = mint::sign(&key, &key.v1_header(), &c);
    let (code, v) = inspect_token(&tok);
    assert_eq!(code, 0);
    assert!(codes(&v).contains(&"token.lifetime_unusual".to_string()));

    c = mint::v1_app_claims(&["AdvancedHunting.Read.All"]);
    c["aud"] = json!("https://api.security.microsoft.com");
    let tok = mint::sign(&key, &key.v1_header(), &c);
    let (code, v) = inspect_token(&tok);
    assert_eq!(code, 1);
    assert_eq!(v["token"]["resource"], "m365d");
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "aud.not_mde")
        .unwrap();
    assert!(f["message"].as_str().unwrap().contains("Defender XDR"));

    c = mint::v1_app_claims(&[]);
    c["aud"] = json!("https://management.azure.com/");
    let tok = mint::sign(&key, &key.v1_header(), &c);
    let (_, v) = inspect_token(&tok);
    assert_eq!(v["token"]["resource"], "arm");
}

#[test]
fn a_version_azure_ad_does_not_issue_is_a_warning() {
    let key = main_key();
    let mut c = mint::v1_app_claims(&["Machine.Read.All"]);
    c["ver"] = json!("3.0");
    let (code, v) = inspect_token(&mint::sign(&key, &key.v1_header(), &c));
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["token"]["version"], "1.0", "from the v1 issuer");
    let f = finding(&v, "claims.ver_unknown");
    assert_eq!(f["severity"], "warning");
    assert_eq!(
        f["message"],
        "the ver claim is \"3.0\"; Azure AD access tokens are version 1.0 or 2.0, so the version shown comes from the issuer"
    );
    // The fixture's own 1.0 gives no such warning.
    let (_, v) = inspect_json(&[fixture("tokens/app-v1.jwt").to_str().unwrap()]);
    assert!(!codes(&v).contains(&"claims.ver_unknown".to_string()));
}

#[test]
fn unsigned_and_hmac_tokens_are_errors_even_offline() {
    let c = mint::v1_app_claims(&["Machine.Read.All"]);
    let payload = mint::b64(serde_json::to_string(&c).unwrap().as_bytes());
    for (alg, code) in [("none", "header.alg_none"), ("HS256", "header.alg_hmac")] {
        let tok = format!(
            "{}.{payload}.",
            mint::b64(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#).as_bytes())
        );
        let (exit, v) = inspect_token(&tok);
        assert_eq!(exit, 1, "{alg}");
        assert!(
            codes(&v).contains(&code.to_string()),
            "{alg}: {:?}",
            codes(&v)
        );
    }
}

// ---------- output ----------

#[test]
fn the_token_itself_is_never_printed() {
    let tok = fixture_text("tokens/app-v1.jwt");
    let sig = tok.rsplit('.').next().unwrap().to_string();
    for fmt in ["human", "json"] {
        let out = mdeauth()
            .args(["inspect", "--format", fmt, "--at", AT, "-"])
            .write_stdin(tok.as_str())
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains(&tok), "{fmt}");
        assert!(!all.contains(&sig), "{fmt}: signature printed");
    }
}

#[test]
fn colour_follows_the_flag_and_no_color() {
    let tok = fixture("tokens/expired.jwt");
    let out = mdeauth()
        .args(["inspect", "--at", AT])
        .arg(&tok)
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains('\u{1b}'));
    let out = mdeauth()
        .args(["inspect", "--color", "always", "--at", AT])
        .arg(&tok)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("\u{1b}["));
    let out = mdeauth()
        .env_remove("NO_COLOR")
        .args(["inspect", "--color", "never", "--at", AT])
        .arg(&tok)
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains('\u{1b}'));
}

#[test]
fn an_empty_no_color_does_not_turn_colour_off() {
    // The NO_COLOR convention counts only a non-empty value; FORCE_COLOR
    // stands in for a terminal here.
    let tok = fixture("tokens/app-v1.jwt");
    let run = |no_color: &str| {
        let out = mdeauth()
            .env("NO_COLOR", no_color)
            .env("FORCE_COLOR", "1")
            .args(["inspect", "--at", AT])
            .arg(&tok)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).contains("\u{1b}[")
    };
    assert!(run(""), "an empty NO_COLOR must leave colour on");
    assert!(!run("1"), "NO_COLOR=1 turns colour off");
}

#[test]
fn junit_output_parses_whatever_characters_a_claim_holds() {
    // U+FFFE and U+FFFF are not XML characters; a claim may still carry them.
    let mut c = mint::v1_app_claims(&["Machine.Read.All"]);
    c["aud"] = json!("x\u{FFFE}y\u{FFFF}z");
    let k = main_key();
    let t = mint::sign(&k, &k.v1_header(), &c);
    let out = mdeauth()
        .args(["--format", "junit", "inspect", "--at", AT, "-"])
        .write_stdin(t.as_str())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let xml = String::from_utf8(out.stdout).unwrap();
    let rep = quick_junit::Report::deserialize_from_str(&xml).expect("JUnit XML parses");
    assert!(rep.failures >= 1, "{xml}");
    assert!(xml.contains("x\u{FFFD}y\u{FFFD}z"), "{xml}");
}

#[test]
fn human_output_explains_claims() {
    mdeauth()
        .args(["inspect", "--at", AT])
        .arg(fixture("tokens/delegated-v1.jwt"))
        .assert()
        .code(0)
        .stdout(predicate::str::contains("Delegated permissions (scopes)"))
        .stdout(predicate::str::contains("alex@contoso.example"))
        .stdout(predicate::str::contains(
            "How the client authenticated (v1)",
        ))
        .stdout(predicate::str::contains("context.delegated"));
}

/// `inspect --format json` on `stdin`: exit code and JSON.
fn inspect_stdin(stdin: String) -> (i32, serde_json::Value) {
    let out = mdeauth()
        .args(["inspect", "--format", "json", "--at", AT, "-"])
        .write_stdin(stdin)
        .output()
        .unwrap();
    (out.status.code().unwrap(), json_out(&out))
}

#[test]
fn the_one_token_in_pasted_text_is_inspected() {
    let token = fixture_text("tokens/app-v1.jwt").trim().to_string();
    let (_, alone) = inspect_token(&token);
    // curl -v output, with the token on a request header line.
    let curl = format!(
        "> GET /api/machines HTTP/2\n> Host: api.securitycenter.microsoft.com\n\
         > authorization: Bearer {token}\n> accept: */*\n>\n< HTTP/2 403\n"
    );
    // A few log lines that repeat the same token.
    let log = format!("09:30 GET /api/machines Bearer {token}\n09:31 retry Bearer {token}\n");
    // JSON of another shape: a Postman environment.
    let postman = format!(r#"{{"values":[{{"key":"auth","value":"Bearer {token}"}}]}}"#);
    let dir = tempfile::tempdir().unwrap();
    for (text, source) in [
        (curl, "the only token in the text"),
        (log, "the only token in the text"),
        (postman, "the only token in the JSON"),
    ] {
        // On standard input.
        let (code, v) = inspect_stdin(text.clone());
        assert_eq!(code, 0, "{v}");
        assert_eq!(v["token"]["fingerprint"], alone["token"]["fingerprint"]);
        assert_eq!(v["token"]["source"], source);
        assert_eq!(v["findings"], alone["findings"]);
        // In a file named as the argument: the same.
        let path = dir.path().join("pasted.txt");
        std::fs::write(&path, &text).unwrap();
        let (code, from_file) = inspect_json(&[path.to_str().unwrap()]);
        assert_eq!(code, 0, "{from_file}");
        assert_eq!(from_file, v);
        // As the argument itself: refused, the token not repeated.
        let out = mdeauth()
            .args(["inspect", "--format", "json", "--at", AT])
            .arg(&text)
            .output()
            .unwrap();
        assert_token_argument_refused(&out, &token);
    }
}

#[test]
fn pasted_text_with_several_tokens_asks_for_one() {
    let log = fixture_text("scan/app.log");
    input_error(
        log,
        "mdeauth: error: the text holds 2 different tokens; give one; copy the one you mean, or run `mdeauth scan` on the text to check them all",
    );
    // No whole token in the text: the error says what is wrong with it, as before.
    input_error(
        "Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJ4IjoxfQ and more",
        "this is not a JWT",
    );
}

#[test]
fn a_personal_accounts_token_is_named_as_such() {
    let consumers = "9188040d-6c67-4c5b-b112-36a304b66dad";
    let mut c = mint::v1_delegated_claims("Machine.Read");
    c["tid"] = json!(consumers);
    c["iss"] = json!(format!("https://sts.windows.net/{consumers}/"));
    let key = main_key();
    let t = mint::sign(&key, &key.v1_header(), &c);
    let (code, r) = inspect_token(&t);
    assert_eq!(code, 1, "{r}");
    assert!(codes(&r).contains(&"tenant.consumer".to_string()), "{r}");
    // An organization's token does not get it.
    let t = mint::sign(
        &key,
        &key.v1_header(),
        &mint::v1_delegated_claims("Machine.Read"),
    );
    let (_, r) = inspect_token(&t);
    assert!(!codes(&r).contains(&"tenant.consumer".to_string()), "{r}");
}

#[test]
fn a_token_damaged_inside_is_named_not_cut_short() {
    // A zero-width space (which chat clients insert) or a `+` inside the
    // signature: the error says so; the front part is never inspected.
    let tok = fixture_text("tokens/app-v1.jwt");
    let tok = tok.trim();
    let cut = tok.len() - 20;
    for bad in ['\u{200b}', '+'] {
        let damaged = format!("{}{bad}{}", &tok[..cut], &tok[cut..]);
        input_error(
            damaged,
            "the token's signature segment is not base64url: it contains",
        );
    }
}

#[test]
fn national_cloud_tokens_are_sent_to_their_own_cloud() {
    let k = main_key();
    let gov_iss = format!("https://login.microsoftonline.us/{}/v2.0", mint::TENANT);
    // A GCC High token for Graph: the fix names its own cloud's sign-in
    // host and API identifier, not only the commercial scope.
    let mut c = mint::v2_app_claims(&["Machine.Read.All"]);
    c["iss"] = json!(gov_iss);
    c["aud"] = json!("https://graph.microsoft.us");
    let t = mint::sign(&k, &k.v2_header(), &c);
    let (code, v) = inspect_token(&t);
    assert_eq!(code, 1, "{v}");
    let fix = finding(&v, "aud.not_mde")["fix"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        fix.starts_with(
            "request a token for the MDE API from its own cloud's sign-in host, https://login.microsoftonline.us/<tenant> (`mdeauth token --cloud gcc-high`)"
        ) && fix.contains("https://api-gov.securitycenter.microsoft.us/.default"),
        "{fix}"
    );
    // A commercial token keeps the commercial advice.
    let mut c = mint::v2_app_claims(&["Machine.Read.All"]);
    c["aud"] = json!("https://graph.microsoft.com");
    let t = mint::sign(&k, &k.v2_header(), &c);
    let (_, v) = inspect_token(&t);
    assert!(
        finding(&v, "aud.not_mde")["fix"]
            .as_str()
            .unwrap()
            .starts_with("request a token for the MDE API: scope=https://api.securitycenter.microsoft.com/.default"),
        "{v}"
    );
    // Azure China has no MDE API: a warning, not a silent pass.
    let mut c = mint::v2_app_claims(&["Machine.Read.All"]);
    c["iss"] = json!(format!(
        "https://login.partner.microsoftonline.cn/{}/v2.0",
        mint::TENANT
    ));
    let t = mint::sign(&k, &k.v2_header(), &c);
    let (code, v) = inspect_token(&t);
    assert_eq!(code, 0, "{v}");
    assert_eq!(
        finding(&v, "cloud.no_mde_api")["severity"],
        "warning",
        "{v}"
    );
}

#[test]
fn a_token_that_expires_before_it_is_valid_shows_no_positive_lifetime() {
    let k = main_key();
    let mut c = mint::v1_app_claims(&["Machine.Read.All"]);
    c["nbf"] = json!(1_772_442_000);
    c["iat"] = json!(1_772_442_000);
    c["exp"] = json!(1_772_442_000 - 1000);
    let t = mint::sign(&k, &k.v1_header(), &c);
    let out = mdeauth()
        .args(["inspect", "--at", AT, "-"])
        .env("NO_COLOR", "1")
        .write_stdin(t.as_str())
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("no lifetime: it expires 17 min before it is valid"),
        "{text}"
    );
    assert!(!text.contains("lifetime 17 min"), "{text}");
}

/// A file the system refuses to read is an environment failure (exit 3)
/// whose one line still says what to do.
#[cfg(target_os = "linux")]
#[test]
fn an_unreadable_file_says_what_to_do() {
    // /proc/self/mem fails to read at offset 0 (an I/O error), and
    // /proc/1/mem is refused to other processes: both cannot be read, as root too.
    for path in ["/proc/self/mem", "/proc/1/mem"] {
        let out = mdeauth().args(["inspect", path]).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(3), "{path}: {err}");
        assert_eq!(err.lines().count(), 1, "{path}: {err}");
        assert!(
            err.contains("; check that this user may read the file")
                || err.contains("; retry; if it persists, check the disk or file system"),
            "{path}: {err}"
        );
    }
}

#[test]
fn an_empty_audience_is_a_missing_one() {
    let k = main_key();
    for aud in [json!(""), json!([""]), json!(["  "])] {
        let mut c = mint::v1_app_claims(&["Machine.Read.All"]);
        c["aud"] = aud.clone();
        let t = mint::sign(&k, &k.v1_header(), &c);
        let (code, v) = inspect_token(&t);
        assert_eq!(code, 1, "{aud}: {v}");
        assert_eq!(
            finding(&v, "aud.missing")["message"],
            "the token's aud claim is empty, so no API would accept it",
            "{aud}"
        );
        assert!(!codes(&v).contains(&"aud.not_mde".to_string()), "{v}");
    }
}

#[test]
fn an_issuer_that_does_not_fit_the_tenant_or_the_version_fails_offline() {
    // No keys are needed to see it: inspect and check fail such a token as
    // verify does.
    let key = main_key();
    let mut other_tenant = mint::v1_app_claims(&["Machine.Read.All"]);
    other_tenant["iss"] = json!(mint::v1_issuer(mint::OTHER_TENANT));
    let mut v1_issuer_on_v2 = mint::v2_app_claims(&["Machine.Read.All"]);
    v1_issuer_on_v2["iss"] = json!(mint::v1_issuer(mint::TENANT));
    for (claims, code, says) in [
        (
            other_tenant,
            "issuer.tenant_mismatch",
            format!(
                "the issuer {} does not name the token's tenant {}",
                mint::v1_issuer(mint::OTHER_TENANT),
                mint::TENANT
            ),
        ),
        (
            v1_issuer_on_v2,
            "issuer.mismatch",
            format!(
                "the issuer {} is not what Azure AD writes into a v2.0 token of tenant {}: {}",
                mint::v1_issuer(mint::TENANT),
                mint::TENANT,
                mint::v2_issuer(mint::TENANT)
            ),
        ),
    ] {
        let t = mint::sign(&key, &key.v1_header(), &claims);
        let (exit, r) = inspect_token(&t);
        assert_eq!(exit, 1, "{r}");
        assert_eq!(finding(&r, code)["message"], says, "{r}");
        let out = mdeauth()
            .args(["check", "--format", "json", "--no-verify", "--at", AT])
            .args(["--call", "GET /api/machines", "-"])
            .write_stdin(t.as_str())
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(codes(&json_out(&out)).contains(&code.to_string()));
    }
}

#[test]
fn roles_as_a_single_string_is_malformed_as_scp_as_an_array_is() {
    // Azure AD writes roles as an array, even of one.
    let key = main_key();
    let mut c = mint::v1_app_claims(&[]);
    c["roles"] = json!("Machine.Read.All");
    let t = mint::sign(&key, &key.v1_header(), &c);
    let (exit, r) = inspect_token(&t);
    assert_eq!(exit, 1, "{r}");
    assert_eq!(
        finding(&r, "claims.malformed")["message"],
        "claim(s) with the wrong type or an impossible value: roles"
    );
    // Still read as the one role it names, so the report says what it holds.
    assert_eq!(r["token"]["roles"], json!(["Machine.Read.All"]), "{r}");
}

#[test]
fn issuer_rule_edges_tid_case_malformed_tid_and_sovereign_alias_hosts() {
    let key = main_key();
    let run = |c: &serde_json::Value| inspect_token(&mint::sign(&key, &key.v1_header(), c));
    // tid and issuer both in upper case: not a tid as Azure AD writes it.
    let upper = mint::TENANT.to_ascii_uppercase();
    let mut c = mint::v1_app_claims(&["Machine.Read.All"]);
    c["tid"] = json!(upper);
    c["iss"] = json!(mint::v1_issuer(&upper));
    let (exit, r) = run(&c);
    assert_eq!(exit, 1, "{r}");
    assert!(
        codes(&r).contains(&"claims.tid_not_guid".to_string()),
        "{r}"
    );
    // A tid of the wrong type is malformed, not missing.
    let mut c = mint::v1_app_claims(&["Machine.Read.All"]);
    c["tid"] = json!([mint::TENANT]);
    let (_, r) = run(&c);
    let got = codes(&r);
    assert!(got.contains(&"claims.malformed".to_string()), "{r}");
    assert!(!got.contains(&"claims.tid_missing".to_string()), "{r}");
    // A US Government v2 token on the alias host: Azure AD writes its
    // issuer on login.microsoftonline.us only.
    let mut c = mint::v2_app_claims(&["Machine.Read.All"]);
    c["aud"] = json!("https://api-gov.securitycenter.microsoft.us");
    c["iss"] = json!(format!(
        "https://login.usgovcloudapi.net/{}/v2.0",
        mint::TENANT
    ));
    let (exit, r) = run(&c);
    assert_eq!(exit, 1, "{r}");
    assert_eq!(
        finding(&r, "issuer.mismatch")["message"],
        format!(
            "the issuer https://login.usgovcloudapi.net/{t}/v2.0 is not what Azure AD writes into a v2.0 token of tenant {t}: https://login.microsoftonline.us/{t}/v2.0",
            t = mint::TENANT
        )
    );
    c["iss"] = json!(format!(
        "https://login.microsoftonline.us/{}/v2.0",
        mint::TENANT
    ));
    let (_, r) = run(&c);
    assert!(!codes(&r).iter().any(|c| c.starts_with("issuer.")), "{r}");
}
