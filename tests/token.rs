//! `mdeauth token`: every flow against fake Entra ID endpoints on 127.0.0.1.
mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::mint::{APP, MDE_AUD, TENANT, TestKey, VALID_AT};
use common::{finding, fixture, fixture_text, json_out, mdeauth};
use httpmock::prelude::*;
use serde_json::{Value, json};

const SECRET: &str = "Zq8~TEST-ONLY-not-a-real-secret.xY3";
const PASSWORD: &str = "TEST-ONLY-p4ssw0rd!";
const SCOPE: &str = "https://api.securitycenter.microsoft.com/.default";

fn token() -> String {
    fixture_text("tokens/app-v1.jwt")
}

fn token_response() -> Value {
    json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token()})
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// No secret, password or assertion in anything the tool printed.
fn assert_no_secrets(out: &std::process::Output) {
    for s in [SECRET, PASSWORD, "client_assertion="] {
        assert!(!stdout(out).contains(s), "stdout leaks {s}");
        assert!(!stderr(out).contains(s), "stderr leaks {s}");
    }
}

/// `mdeauth token` set up for the fake authority, in JSON.
fn cmd(server_base: &str) -> assert_cmd::Command {
    let mut c = mdeauth();
    c.args(["--format", "json", "token", "--at", VALID_AT])
        .env("AZURE_TENANT_ID", TENANT)
        .env("AZURE_CLIENT_ID", APP)
        .env("AZURE_AUTHORITY_HOST", server_base);
    c
}

#[test]
fn client_credentials_v2_with_secret_from_env() {
    let server = MockServer::start();
    let m = server.mock(|when, then| {
        when.method(POST)
            .path(format!("/{TENANT}/oauth2/v2.0/token"))
            .form_urlencoded_tuple("grant_type", "client_credentials")
            .form_urlencoded_tuple("client_id", APP)
            .form_urlencoded_tuple("client_secret", SECRET)
            .form_urlencoded_tuple("scope", SCOPE)
            .form_urlencoded_tuple_missing("resource");
        then.status(200).json_body(token_response());
    });
    let out = with_secret(&server.base_url());
    m.assert_calls(1);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let v = json_out(&out);
    assert_eq!(v["verdict"], "pass");
    assert_eq!(v["token"]["app_id"], APP);
    assert_eq!(v["token"]["tenant_id"], TENANT);
    assert_eq!(
        v["token"]["roles"],
        json!(["Machine.Read.All", "Alert.Read.All", "Machine.Isolate"])
    );
    assert_eq!(
        finding(&v, "token.flow")["message"],
        format!(
            "client credentials with a client secret at {}/{TENANT}/oauth2/v2.0/token",
            server.base_url()
        )
        .as_str()
    );
    assert!(v.get("errors").is_none());
    assert!(
        !stdout(&out).contains(&token()),
        "the full token must not be printed"
    );
    assert_no_secrets(&out);
}

#[test]
fn the_plan_s_tenant_and_client_id_serve_when_none_is_given() {
    // As doctor suggests: `mdeauth token --plan FILE ...` acquires for the
    // plan's app in the plan's tenant; flags and the environment still win.
    let server = MockServer::start();
    let m = server.mock(|when, then| {
        when.method(POST)
            .path(format!("/{TENANT}/oauth2/v2.0/token"))
            .form_urlencoded_tuple("client_id", APP);
        then.status(200).json_body(token_response());
    });
    let plan = common::fixture("plans/soc-automation.toml");
    let out = mdeauth()
        .args(["--format", "json", "token", "--at", VALID_AT])
        .arg("--plan")
        .arg(&plan)
        .env("AZURE_CLIENT_SECRET", SECRET)
        .env("AZURE_AUTHORITY_HOST", server.base_url())
        .output()
        .unwrap();
    m.assert_calls(1);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // The environment still wins over the plan.
    const OTHER_APP: &str = "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f";
    let other = server.mock(|when, then| {
        when.method(POST)
            .path(format!("/{TENANT}/oauth2/v2.0/token"))
            .form_urlencoded_tuple("client_id", OTHER_APP);
        then.status(200).json_body(token_response());
    });
    let out = mdeauth()
        .args(["--format", "json", "token", "--at", VALID_AT])
        .arg("--plan")
        .arg(&plan)
        .env("AZURE_CLIENT_SECRET", SECRET)
        .env("AZURE_CLIENT_ID", OTHER_APP)
        .env("AZURE_AUTHORITY_HOST", server.base_url())
        .output()
        .unwrap();
    other.assert_calls(1);
    m.assert_calls(1);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // A managed identity: only a plan whose credential is one selects it by
    // its client id (as doctor does); another plan's app id is not sent.
    let imds = MockServer::start();
    let by_plan = imds.mock(|when, then| {
        when.method(GET)
            .path("/metadata/identity/oauth2/token")
            .query_param("client_id", APP);
        then.status(200).json_body(json!({
            "access_token": token(), "expires_on": "1772446500", "resource": MDE_AUD, "token_type": "Bearer"
        }));
    });
    let system = imds.mock(|when, then| {
        when.method(GET)
            .path("/metadata/identity/oauth2/token")
            .query_param_missing("client_id");
        then.status(200).json_body(json!({
            "access_token": token(), "expires_on": "1772446500", "resource": MDE_AUD, "token_type": "Bearer"
        }));
    });
    let dir = tempfile::tempdir().unwrap();
    let mi_plan = dir.path().join("mi.toml");
    std::fs::write(
        &mi_plan,
        format!("name = \"mi\"\nclient_id = \"{APP}\"\ncredential = \"managed_identity\"\ncalls = [\"GET /api/machines\"]\n"),
    )
    .unwrap();
    for (p, want) in [(&mi_plan, &by_plan), (&plan, &system)] {
        let out = mdeauth()
            .args(["token", "--flow", "managed-identity", "--at", VALID_AT])
            .arg("--plan")
            .arg(p)
            .env(
                "MDEAUTH_IMDS_ENDPOINT",
                imds.url("/metadata/identity/oauth2/token"),
            )
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        want.assert_calls(1);
    }
}

#[test]
fn client_credentials_v1_resource_form_with_secret_file() {
    let server = MockServer::start();
    let m = server.mock(|when, then| {
        when.method(POST)
            .path(format!("/{TENANT}/oauth2/token"))
            .form_urlencoded_tuple("grant_type", "client_credentials")
            .form_urlencoded_tuple("client_id", APP)
            .form_urlencoded_tuple("client_secret", SECRET)
            .form_urlencoded_tuple("resource", MDE_AUD)
            .form_urlencoded_tuple_missing("scope");
        then.status(200).json_body(token_response());
    });
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("secret.txt");
    // Plain, and as `$secret | Out-File secret.txt` writes it in Windows
    // PowerShell 5.1 (UTF-16LE, a BOM, CRLF): the same secret is sent.
    let files = [
        format!("{SECRET}\n").into_bytes(),
        common::utf16le_bom(&format!("{SECRET}\r\n")),
        // Stray spaces around it, as the environment variable may have too.
        format!("  {SECRET} \t\n").into_bytes(),
    ];
    for (i, bytes) in files.iter().enumerate() {
        std::fs::write(&f, bytes).unwrap();
        let out = cmd(&server.base_url())
            .arg("--v1")
            .arg("--client-secret-file")
            .arg(&f)
            .output()
            .unwrap();
        m.assert_calls(i + 1);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_eq!(json_out(&out)["token"]["version"], "1.0");
        assert_no_secrets(&out);
    }
}

#[test]
fn print_token_writes_only_the_token() {
    let server = MockServer::start();
    let m = server.mock(|when, then| {
        when.method(POST)
            .path(format!("/{TENANT}/oauth2/v2.0/token"))
            .form_urlencoded_tuple("client_secret", SECRET);
        then.status(200).json_body(token_response());
    });
    let out = mdeauth()
        .args([
            "token",
            "--print-token",
            "--at",
            VALID_AT,
            "--client-secret-stdin",
        ])
        .args(["--tenant", TENANT, "--client-id", APP, "--authority-host"])
        .arg(server.base_url())
        .write_stdin(format!("{SECRET}\n"))
        .output()
        .unwrap();
    m.assert_calls(1);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("{}\n", token()));
    // The report went to standard error.
    assert!(stderr(&out).contains("Verdict: PASS"), "{}", stderr(&out));
    assert!(!stderr(&out).contains(&token()));
    assert!(!stderr(&out).contains(SECRET));
    // With stderr closed (the report cannot be written), the token still is.
    let (read_end, write_end) = std::io::pipe().unwrap();
    drop(read_end);
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("mdeauth"));
    c.args(["token", "--print-token", "--at", VALID_AT])
        .args(["--tenant", TENANT, "--client-id", APP, "--authority-host"])
        .arg(server.base_url())
        .env("AZURE_CLIENT_SECRET", SECRET)
        .stderr(write_end);
    let out = c.output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), format!("{}\n", token()));
}

/// The combined key + certificate PEM for the app's TEST-ONLY certificate credential.
fn client_cert_pem(key: &TestKey) -> String {
    let der = key.jwk["x5c"][0].as_str().unwrap();
    let lines: Vec<String> = der
        .as_bytes()
        .chunks(64)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    format!(
        "{}-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        key.pem,
        lines.join("\n")
    )
}

fn app_key() -> TestKey {
    TestKey::from_pem(
        &std::fs::read_to_string(fixture("keys/test-app-key.pem")).unwrap(),
        "app-specific key",
    )
}

#[test]
fn committed_client_certificate_fixture_matches_the_app_key() {
    let expected = client_cert_pem(&app_key());
    let path = fixture("keys/test-client-cert.pem");
    if std::env::var_os("MDEAUTH_WRITE_FIXTURES").is_some() {
        std::fs::write(&path, &expected).unwrap();
    }
    assert_eq!(std::fs::read_to_string(&path).unwrap(), expected);
}

/// A fake server that answers requests with canned responses, in order,
/// and records each request line and body.
struct SeqServer {
    base: String,
    seen: Arc<Mutex<Vec<(String, String)>>>,
    at: Arc<Mutex<Vec<std::time::Instant>>>,
}

fn seq_server(responses: Vec<(u16, Value)>) -> SeqServer {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let at = Arc::new(Mutex::new(Vec::new()));
    let times = at.clone();
    std::thread::spawn(move || {
        for (status, body) in responses {
            let Ok((stream, _)) = listener.accept() else {
                return;
            };
            let mut reader = BufReader::new(stream);
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            times.lock().unwrap().push(std::time::Instant::now());
            let mut len = 0usize;
            loop {
                let mut h = String::new();
                reader.read_line(&mut h).unwrap();
                if h == "\r\n" || h.is_empty() {
                    break;
                }
                let lower = h.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap();
                }
            }
            let mut buf = vec![0u8; len];
            reader.read_exact(&mut buf).unwrap();
            log.lock().unwrap().push((
                request_line.trim().to_string(),
                String::from_utf8(buf).unwrap(),
            ));
            let body = body.to_string();
            let mut stream = reader.into_inner();
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    SeqServer { base, seen, at }
}

fn form(body: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect()
}

fn field(body: &str, k: &str) -> Option<String> {
    form(body).into_iter().find(|(a, _)| a == k).map(|(_, b)| b)
}

#[test]
fn certificate_flow_sends_a_signed_assertion_with_x5t() {
    let key = app_key();
    let server = seq_server(vec![(200, token_response())]);
    let out = cmd(&server.base)
        .env(
            "AZURE_CLIENT_CERTIFICATE_PATH",
            fixture("keys/test-client-cert.pem"),
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let seen = server.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].0,
        format!("POST /{TENANT}/oauth2/v2.0/token HTTP/1.1")
    );
    let body = &seen[0].1;
    assert_eq!(
        field(body, "grant_type").as_deref(),
        Some("client_credentials")
    );
    assert_eq!(field(body, "client_id").as_deref(), Some(APP));
    assert_eq!(field(body, "scope").as_deref(), Some(SCOPE));
    assert_eq!(
        field(body, "client_assertion_type").as_deref(),
        Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    );
    assert!(field(body, "client_secret").is_none());
    let assertion = field(body, "client_assertion").unwrap();
    let parts: Vec<&str> = assertion.split('.').collect();
    assert_eq!(parts.len(), 3);
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header["alg"], "RS256");
    // x5t = base64url(SHA-1(certificate DER)): the same value the JWK helper computes.
    assert_eq!(header["x5t"], key.kid.as_str());
    // The signature verifies with the certificate's public key.
    let dk = jsonwebtoken::DecodingKey::from_rsa_components(
        key.jwk["n"].as_str().unwrap(),
        key.jwk["e"].as_str().unwrap(),
    )
    .unwrap();
    let mut val = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    let aud = format!("{}/{TENANT}/oauth2/v2.0/token", server.base);
    val.set_audience(&[aud.as_str()]);
    val.set_issuer(&[APP]);
    let claims = jsonwebtoken::decode::<Value>(&assertion, &dk, &val)
        .unwrap()
        .claims;
    assert_eq!(claims["sub"], APP);
    let exp = claims["exp"].as_i64().unwrap();
    let nbf = claims["nbf"].as_i64().unwrap();
    assert_eq!(exp - nbf, 600);
    assert_eq!(claims["jti"].as_str().unwrap().len(), 36);
    let v = json_out(&out);
    assert!(
        finding(&v, "token.flow")["message"]
            .as_str()
            .unwrap()
            .starts_with("client credentials with a certificate (signed client assertion) at ")
    );
    assert!(!stdout(&out).contains(&assertion) && !stderr(&out).contains(&assertion));
    // Sanity: the committed fixture's certificate is the one in the JWK.
    assert!(STANDARD.decode(key.jwk["x5c"][0].as_str().unwrap()).is_ok());
}

/// The `CERTIFICATE` block of a test key's PEM pair.
fn cert_block(key: &TestKey) -> String {
    let pem = client_cert_pem(key);
    pem[pem.find("-----BEGIN CERTIFICATE-----").unwrap()..].to_string()
}

#[test]
fn the_certificate_must_be_the_private_keys_own() {
    let dir = tempfile::tempdir().unwrap();
    let (app, other) = (app_key(), common::main_key());
    // Another key's certificate beside the key: Entra would answer
    // AADSTS700027, so nothing is sent.
    let wrong = dir.path().join("mismatch.pem");
    std::fs::write(&wrong, format!("{}{}", app.pem, cert_block(&other))).unwrap();
    let server = seq_server(vec![(200, token_response())]);
    let out = cmd(&server.base)
        .arg("--certificate")
        .arg(&wrong)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("mismatch.pem is not the private key's: its public key is another key's, so Entra would refuse the assertion (AADSTS700027)"),
        "{err}"
    );
    assert!(server.seen.lock().unwrap().is_empty());
    // A chain with the key's own certificate last: that one names it.
    let chain = dir.path().join("chain.pem");
    std::fs::write(
        &chain,
        format!("{}{}{}", app.pem, cert_block(&other), cert_block(&app)),
    )
    .unwrap();
    let server = seq_server(vec![(200, token_response())]);
    let out = cmd(&server.base)
        .arg("--certificate")
        .arg(&chain)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let seen = server.seen.lock().unwrap().clone();
    let assertion = field(&seen[0].1, "client_assertion").unwrap();
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(assertion.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["x5t"], app.kid.as_str());
}

fn aad_error(code: u64, error: &str, text: &str) -> Value {
    json!({
        "error": error,
        "error_description": format!("AADSTS{code}: {text}\r\nTrace ID: 11111111-0000-4000-8000-00000000000a\r\nCorrelation ID: 22222222-0000-4000-8000-00000000000b\r\nTimestamp: 2026-03-02 09:30:00Z"),
        "error_codes": [code],
        "timestamp": "2026-03-02 09:30:00Z",
        "trace_id": "11111111-0000-4000-8000-00000000000a",
        "correlation_id": "22222222-0000-4000-8000-00000000000b",
        "error_uri": format!("https://login.microsoftonline.com/error?code={code}")
    })
}

#[test]
fn refused_requests_are_explained_and_exit_1() {
    let cases = [
        (
            7000215u64,
            401u16,
            "invalid_client",
            "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
            "InvalidClientSecret",
        ),
        (
            700016,
            400,
            "unauthorized_client",
            "Application with identifier '9b0a3d8e-5c2f-4e71-a1b4-6d3e8f2c7a90' was not found in the directory 'Contoso'.",
            "UnauthorizedClient_DoesNotMatchRequest",
        ),
        (
            65001,
            400,
            "invalid_grant",
            "The user or administrator has not consented to use the application with ID '9b0a3d8e-5c2f-4e71-a1b4-6d3e8f2c7a90' named 'Contoso SOC automation (test)'.",
            "DelegationDoesNotExist",
        ),
    ];
    for (code, status, error, text, name) in cases {
        let server = MockServer::start();
        let m = server.mock(|when, then| {
            when.method(POST)
                .path(format!("/{TENANT}/oauth2/v2.0/token"));
            then.status(status).json_body(aad_error(code, error, text));
        });
        let out = with_secret(&server.base_url());
        m.assert_calls(1);
        assert_eq!(out.status.code(), Some(1), "AADSTS{code}: {}", stderr(&out));
        let v = json_out(&out);
        assert_eq!(v["verdict"], "fail");
        assert!(v.get("token").is_none());
        assert_eq!(
            finding(&v, "token.refused")["message"],
            format!(
                "{}/{TENANT}/oauth2/v2.0/token refused the request (HTTP {status})",
                server.base_url()
            )
            .as_str()
        );
        let e = &v["errors"][0];
        assert_eq!(e["code"], format!("AADSTS{code}").as_str());
        assert_eq!(e["name"], name);
        assert_eq!(e["trace_id"], "11111111-0000-4000-8000-00000000000a");
        assert_eq!(e["correlation_id"], "22222222-0000-4000-8000-00000000000b");
        assert_eq!(e["description"], text);
        assert_eq!(finding(&v, "aadsts.known")["severity"], "error");
        // 700016: a multi-tenant app is consented in the target tenant first.
        if code == 65001 || code == 700016 {
            assert_eq!(
                e["consent_url"],
                format!("https://login.microsoftonline.com/{TENANT}/oauth2/authorize?prompt=consent&client_id={APP}&response_type=code&sso_reload=true").as_str()
            );
        } else {
            assert!(e.get("consent_url").is_none());
        }
        assert_no_secrets(&out);
    }
}

#[test]
fn refused_in_human_output_shows_the_consent_link() {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(POST).path(format!("/{TENANT}/oauth2/token"));
        then.status(400).json_body(aad_error(
            65001,
            "invalid_grant",
            "The user or administrator has not consented.",
        ));
    });
    let out = mdeauth()
        .args([
            "token",
            "--v1",
            "--tenant",
            TENANT,
            "--client-id",
            APP,
            "--authority-host",
        ])
        .arg(server.base_url())
        .env("AZURE_CLIENT_SECRET", SECRET)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let s = stdout(&out);
    assert!(
        s.contains("Error AADSTS65001  DelegationDoesNotExist\n"),
        "{s}"
    );
    assert!(s.contains(&format!("  Consent      https://login.microsoftonline.com/{TENANT}/oauth2/authorize?prompt=consent&client_id={APP}&response_type=code&sso_reload=true\n")), "{s}");
    assert_no_secrets(&out);
}

#[test]
fn password_grant_sends_user_credentials_and_warns() {
    let server = MockServer::start();
    let m = server.mock(|when, then| {
        when.method(POST)
            .path(format!("/{TENANT}/oauth2/token"))
            .form_urlencoded_tuple("grant_type", "password")
            .form_urlencoded_tuple("client_id", APP)
            .form_urlencoded_tuple("resource", MDE_AUD)
            .form_urlencoded_tuple("username", "soc@contoso.example")
            .form_urlencoded_tuple("password", PASSWORD)
            .form_urlencoded_tuple_missing("client_secret");
        then.status(200).json_body(token_response());
    });
    let out = cmd(&server.base_url())
        .args(["--flow", "password", "--v1"])
        .env("AZURE_USERNAME", "soc@contoso.example")
        .env("AZURE_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    m.assert_calls(1);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json_out(&out);
    assert_eq!(
        finding(&v, "token.flow")["message"],
        format!(
            "password grant for soc@contoso.example at {}/{TENANT}/oauth2/token",
            server.base_url()
        )
    );
    let f = finding(&v, "token.password_grant");
    assert_eq!(f["severity"], "warning");
    assert_eq!(
        f["message"],
        "the password grant (ROPC) cannot satisfy MFA or Conditional Access prompts, fails for federated accounts, and Microsoft discourages it"
    );
    assert_no_secrets(&out);
}

/// `token` (client credentials, the test secret in the environment) against `base`.
fn with_secret(base: &str) -> std::process::Output {
    cmd(base)
        .env("AZURE_CLIENT_SECRET", SECRET)
        .output()
        .unwrap()
}

/// `token --flow device-code` against `base`, polling every 2 ms.
fn device_code(base: &str) -> std::process::Output {
    cmd(base)
        .args(["--flow", "device-code"])
        .env("MDEAUTH_DEVICE_POLL_MS", "2")
        .output()
        .unwrap()
}

#[test]
fn a_device_code_message_of_megabytes_is_shown_cut_short() {
    let mut dc = common::devicecode_response();
    dc["message"] = json!(format!("Sign in at the page. {}", "x".repeat(200_000)));
    let server = seq_server(vec![(200, dc), (200, token_response())]);
    let out = cmd(&server.base)
        .args(["--flow", "device-code"])
        .env_remove("AZURE_TENANT_ID")
        .env("MDEAUTH_DEVICE_POLL_MS", "2")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("Sign in at the page. xxx"), "{err}");
    assert!(err.contains("x…"), "{err}");
    assert!(err.len() < 5000, "{} bytes on stderr", err.len());
}

#[test]
fn device_code_pending_slow_down_then_success() {
    let server = seq_server(vec![
        (200, common::devicecode_response()),
        (
            400,
            json!({"error": "authorization_pending", "error_description": "AADSTS70016: OAuth 2.0 device flow error. Authorization is pending."}),
        ),
        (
            400,
            json!({"error": "slow_down", "error_description": "slow down"}),
        ),
        (200, token_response()),
    ]);
    let out = cmd(&server.base)
        .args(["--flow", "device-code"])
        .env_remove("AZURE_TENANT_ID")
        .env("MDEAUTH_DEVICE_POLL_MS", "40")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // interval 5 s -> 200 ms per poll; after slow_down 10 s -> 400 ms.
    let at = server.at.lock().unwrap().clone();
    let gap = |i: usize| at[i + 1].duration_since(at[i]).as_millis();
    assert!(
        gap(0) >= 195,
        "first poll waited the interval: {} ms",
        gap(0)
    );
    assert!(gap(1) >= 195, "pending keeps the interval: {} ms", gap(1));
    assert!(gap(2) >= 395, "slow_down adds 5 s: {} ms", gap(2));
    assert!(stderr(&out).contains("enter the code ABCD-1234 to authenticate."));
    let seen = server.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 4);
    assert_eq!(
        seen[0].0,
        "POST /organizations/oauth2/v2.0/devicecode HTTP/1.1"
    );
    assert_eq!(field(&seen[0].1, "client_id").as_deref(), Some(APP));
    assert_eq!(field(&seen[0].1, "scope").as_deref(), Some(SCOPE));
    for (line, body) in &seen[1..] {
        assert_eq!(line, "POST /organizations/oauth2/v2.0/token HTTP/1.1");
        assert_eq!(
            field(body, "grant_type").as_deref(),
            Some("urn:ietf:params:oauth:grant-type:device_code")
        );
        assert_eq!(field(body, "device_code").as_deref(), Some("DC-TEST-ONLY"));
    }
    let v = json_out(&out);
    assert_eq!(v["token"]["app_id"], APP);
    assert_eq!(
        finding(&v, "token.flow")["message"],
        format!(
            "device-code sign-in at {}/organizations/oauth2/v2.0/devicecode",
            server.base
        )
    );
}

#[test]
fn device_code_expired_is_a_clear_error() {
    let server = seq_server(vec![
        (200, common::devicecode_response()),
        (
            400,
            json!({"error": "authorization_pending", "error_description": "pending"}),
        ),
        (
            400,
            json!({"error": "expired_token", "error_description": "AADSTS70020: The provided value for the input parameter 'device_code' is not valid. This device code has expired.", "error_codes": [70020]}),
        ),
    ]);
    let out = device_code(&server.base);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v = json_out(&out);
    assert_eq!(v["errors"][0]["code"], "AADSTS70020");
    assert_eq!(
        finding(&v, "aadsts.unknown")["message"],
        "AADSTS70020 is not in mdeauth's table of codes. OAuth error \"expired_token\": Device code sign-in: the device code expired before the user finished; start again. The error text says: The provided value for the input parameter 'device_code' is not valid. This device code has expired."
    );
    assert_eq!(server.seen.lock().unwrap().len(), 3);
}

#[test]
fn device_code_expiring_while_pending_is_not_called_a_refusal() {
    let mut dc = common::devicecode_response();
    dc["expires_in"] = json!(0);
    let server = seq_server(vec![
        (200, dc),
        (
            400,
            json!({"error": "authorization_pending", "error_description": "pending"}),
        ),
    ]);
    let out = device_code(&server.base);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v = json_out(&out);
    let codes: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .filter_map(|f| f["code"].as_str())
        .collect();
    assert_eq!(codes, ["token.device_code_expired"], "{v:#}");
    assert_eq!(
        finding(&v, "token.device_code_expired")["message"],
        "nobody finished the sign-in within the device code's 0 s: it expired before the first poll was due",
        "{v:#}"
    );
    // No poll with an expired code.
    assert_eq!(server.seen.lock().unwrap().len(), 1);
}

#[test]
fn device_code_polls_stop_when_the_next_would_come_after_expiry() {
    // interval 5 s, expires_in 14 s (20 ms a second): polls at 5 s and
    // 10 s; slow_down at 10 s makes the interval 10 s, and the poll that
    // would follow (20 s) is past the expiry: none is sent early instead.
    let mut dc = common::devicecode_response();
    dc["expires_in"] = json!(14);
    dc["interval"] = json!(5);
    let pending =
        json!({"error": "authorization_pending", "error_description": "AADSTS70016: pending"});
    let slow = json!({"error": "slow_down", "error_description": "slow down"});
    let server = seq_server(vec![
        (200, dc),
        (400, pending.clone()),
        (400, slow),
        (400, pending.clone()),
        (400, pending),
    ]);
    let out = cmd(&server.base)
        .args(["--flow", "device-code"])
        .env_remove("AZURE_TENANT_ID")
        .env("MDEAUTH_DEVICE_POLL_MS", "20")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(server.seen.lock().unwrap().len(), 3, "devicecode + 2 polls");
    let v = json_out(&out);
    let m = finding(&v, "token.device_code_expired")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        m.starts_with("nobody finished the sign-in within the device code's 14 s: "),
        "{m}"
    );
    assert!(m.contains("expires before the next poll is due"), "{m}");
}

#[test]
fn device_code_declined_is_refused() {
    let server = seq_server(vec![
        (200, common::devicecode_response()),
        (
            400,
            json!({"error": "authorization_declined", "error_description": "The end user denied the authorization request."}),
        ),
    ]);
    let out = device_code(&server.base);
    assert_eq!(out.status.code(), Some(1));
    let v = json_out(&out);
    assert_eq!(v["errors"][0]["code"], "authorization_declined");
    assert_eq!(
        finding(&v, "aadsts.oauth_error")["message"],
        "the token endpoint answered OAuth error \"authorization_declined\": Device code sign-in: the user declined the sign-in. The error text says: The end user denied the authorization request."
    );
}

#[test]
fn managed_identity_app_service() {
    let server = MockServer::start();
    let m = server.mock(|when, then| {
        when.method(GET)
            .path("/msi/token")
            .query_param("api-version", "2019-08-01")
            .query_param("resource", MDE_AUD)
            .header("x-identity-header", "TEST-ONLY-identity-header");
        then.status(200).json_body(json!({
            "access_token": token(),
            "expires_on": "1772446500",
            "resource": MDE_AUD,
            "token_type": "Bearer",
            "client_id": APP
        }));
    });
    let out = mdeauth()
        .args([
            "--format",
            "json",
            "token",
            "--flow",
            "managed-identity",
            "--at",
            VALID_AT,
        ])
        .env("IDENTITY_ENDPOINT", server.url("/msi/token"))
        .env("IDENTITY_HEADER", "TEST-ONLY-identity-header")
        .output()
        .unwrap();
    m.assert_calls(1);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json_out(&out);
    assert_eq!(
        finding(&v, "token.flow")["message"],
        "managed identity, from the App Service identity endpoint"
    );
    let f = finding(&v, "token.managed_identity_cache");
    assert_eq!(f["severity"], "info");
    assert_eq!(
        f["message"],
        "token from the App Service identity endpoint; managed-identity tokens are cached for about 24 hours, so permissions granted recently may not show in it yet"
    );
    assert_eq!(v["token"]["app_id"], APP);
    // An IDENTITY_HEADER no HTTP header can carry is a usage error, not a
    // network one, and nothing is sent.
    let out = mdeauth()
        .args(["token", "--flow", "managed-identity", "--at", VALID_AT])
        .env("IDENTITY_ENDPOINT", server.url("/msi/token"))
        .env("IDENTITY_HEADER", "TEST-ONLY-identity\nheader")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "mdeauth: error: IDENTITY_HEADER holds characters an HTTP header cannot carry (a line break or a control character); App Service sets it to a plain string: check how it was exported or copied\n"
    );
    m.assert_calls(1);
}

/// A user-assigned identity's resource id, for the selector tests.
const MI_RESOURCE_ID: &str = "/subscriptions/6f1d3a2b-8c4e-4b7a-9d2f-0e5c7a1b3d4f/resourceGroups/rg-soc/providers/Microsoft.ManagedIdentity/userAssignedIdentities/mde-export";
const MI_OBJECT_ID: &str = "3c1e5a7b-2d4f-4a6c-8e0b-1f3d5b7a9c2e";

#[test]
fn managed_identity_selected_by_resource_id_or_object_id_sends_each_endpoints_own_parameter() {
    // IMDS names the resource id msi_res_id; App Service names it mi_res_id.
    // Both take object_id. Exactly one selector is sent.
    let imds = MockServer::start();
    let by_res = imds.mock(|when, then| {
        when.method(GET)
            .path("/metadata/identity/oauth2/token")
            .query_param("msi_res_id", MI_RESOURCE_ID)
            .query_param_missing("mi_res_id")
            .query_param_missing("client_id")
            .query_param_missing("object_id");
        then.status(200).json_body(json!({
            "access_token": token(), "expires_on": "1772446500", "resource": MDE_AUD, "token_type": "Bearer"
        }));
    });
    let out = mdeauth()
        .args([
            "--format",
            "json",
            "token",
            "--flow",
            "managed-identity",
            "--at",
            VALID_AT,
        ])
        .args(["--mi-resource-id", MI_RESOURCE_ID])
        .env(
            "MDEAUTH_IMDS_ENDPOINT",
            imds.url("/metadata/identity/oauth2/token"),
        )
        .output()
        .unwrap();
    by_res.assert_calls(1);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        finding(&json_out(&out), "token.flow")["message"],
        format!(
            "managed identity (user-assigned, resource id {MI_RESOURCE_ID}), from the Azure instance metadata service (IMDS)"
        )
    );

    let app_service = MockServer::start();
    let by_res = app_service.mock(|when, then| {
        when.method(GET)
            .path("/msi/token")
            .query_param("mi_res_id", MI_RESOURCE_ID)
            .query_param_missing("msi_res_id");
        then.status(200).json_body(json!({
            "access_token": token(), "expires_on": "1772446500", "resource": MDE_AUD, "token_type": "Bearer"
        }));
    });
    let by_object = app_service.mock(|when, then| {
        when.method(GET)
            .path("/msi/token")
            .query_param("object_id", MI_OBJECT_ID)
            .query_param_missing("client_id");
        then.status(200).json_body(json!({
            "access_token": token(), "expires_on": "1772446500", "resource": MDE_AUD, "token_type": "Bearer"
        }));
    });
    for (flag, value) in [
        ("--mi-resource-id", MI_RESOURCE_ID),
        (
            "--mi-object-id",
            &format!("{{{}}}", MI_OBJECT_ID.to_uppercase()),
        ),
    ] {
        let out = mdeauth()
            .args([
                "token",
                "--flow",
                "managed-identity",
                "--at",
                VALID_AT,
                flag,
                value,
            ])
            .env("IDENTITY_ENDPOINT", app_service.url("/msi/token"))
            .env("IDENTITY_HEADER", "TEST-ONLY-identity-header")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{flag}: {}", stderr(&out));
    }
    by_res.assert_calls(1);
    // Braces and letter case are the user's; the GUID is sent bare.
    by_object.assert_calls(1);
}

#[test]
fn managed_identity_selectors_are_checked_before_anything_is_sent() {
    let server = MockServer::start();
    let any = server.mock(|when, then| {
        when.any_request();
        then.status(500);
    });
    let run = |args: &[&str], client_env: Option<&str>| {
        let mut c = mdeauth();
        c.args(["token", "--flow", "managed-identity"])
            .args(args)
            .env(
                "MDEAUTH_IMDS_ENDPOINT",
                server.url("/metadata/identity/oauth2/token"),
            );
        if let Some(id) = client_env {
            c.env("AZURE_CLIENT_ID", id);
        }
        let out = c.output().unwrap();
        (out.status.code(), stderr(&out))
    };
    let (code, err) = run(&["--mi-object-id", MI_OBJECT_ID], Some(APP));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("--mi-object-id and a client id (--client-id or AZURE_CLIENT_ID) both select a user-assigned identity"),
        "{err}"
    );
    let (code, err) = run(&["--mi-object-id", "mde-export"], None);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--mi-object-id is not a GUID"), "{err}");
    for bad in [
        "mde-export",
        "/subscriptions/6f1d3a2b-8c4e-4b7a-9d2f-0e5c7a1b3d4f/resourceGroups/rg-soc/providers/Microsoft.Compute/virtualMachines/vm1",
        "/subscriptions/sub/resourceGroups/rg-soc/providers/Microsoft.ManagedIdentity/userAssignedIdentities/mde-export",
    ] {
        let (code, err) = run(&["--mi-resource-id", bad], None);
        assert_eq!(code, Some(2), "{bad}: {err}");
        assert!(
            err.contains("--mi-resource-id is not a user-assigned identity's resource id"),
            "{err}"
        );
        assert!(err.contains("az identity show"), "{err}");
    }
    let (code, err) = run(
        &[
            "--mi-object-id",
            MI_OBJECT_ID,
            "--mi-resource-id",
            MI_RESOURCE_ID,
        ],
        None,
    );
    assert_eq!(code, Some(2), "{err}");
    any.assert_calls(0);
    // Not the managed-identity flow: the selector has no meaning there.
    let out = mdeauth()
        .args([
            "token",
            "--tenant",
            "contoso.onmicrosoft.com",
            "--client-id",
            APP,
        ])
        .args(["--mi-resource-id", MI_RESOURCE_ID])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(
            "--mi-resource-id selects a managed identity, but the flow is not managed-identity"
        ),
        "{}",
        stderr(&out)
    );
}

#[test]
fn managed_identity_on_app_service_linux_is_not_refused_for_its_http_endpoint() {
    // App Service on Linux and Azure Functions set this very value; nothing
    // answers on it here, so the request fails as a network error (exit 3),
    // not as a bad input (exit 2).
    let out = mdeauth()
        .args(["token", "--flow", "managed-identity", "--timeout", "1"])
        .env("IDENTITY_ENDPOINT", "http://169.254.255.2:8081/msi/token")
        .env("IDENTITY_HEADER", "TEST-ONLY-identity-header")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(!err.contains("refusing plain http"), "{err}");
    assert!(err.contains("169.254.255.2"), "{err}");
    assert!(!err.contains("TEST-ONLY-identity-header"), "{err}");
}

#[test]
fn managed_identity_imds_with_user_assigned_client_id() {
    let server = MockServer::start();
    let m = server.mock(|when, then| {
        when.method(GET)
            .path("/metadata/identity/oauth2/token")
            .query_param("api-version", "2018-02-01")
            .query_param("resource", MDE_AUD)
            .query_param("client_id", APP)
            .header("metadata", "true");
        then.status(200).json_body(json!({
            "access_token": token(),
            "expires_on": "1772446500",
            "resource": MDE_AUD,
            "token_type": "Bearer"
        }));
    });
    let out = mdeauth()
        .args([
            "--format",
            "json",
            "token",
            "--flow",
            "managed-identity",
            "--at",
            VALID_AT,
        ])
        .args(["--client-id", APP])
        .env(
            "MDEAUTH_IMDS_ENDPOINT",
            server.url("/metadata/identity/oauth2/token"),
        )
        .output()
        .unwrap();
    m.assert_calls(1);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json_out(&out);
    assert!(
        finding(&v, "token.managed_identity_cache")["message"]
            .as_str()
            .unwrap()
            .starts_with("token from the Azure instance metadata service (IMDS);")
    );
}

#[test]
fn managed_identity_error_is_explained() {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(GET).path("/metadata/identity/oauth2/token");
        then.status(400).json_body(json!({
            "error": "invalid_resource",
            "error_description": "AADSTS500011: The resource principal named https://api.securitycenter.microsoft.com was not found in the tenant named Contoso."
        }));
    });
    let out = mdeauth()
        .args(["--format", "json", "token", "--flow", "managed-identity"])
        .env(
            "MDEAUTH_IMDS_ENDPOINT",
            server.url("/metadata/identity/oauth2/token"),
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v = json_out(&out);
    assert_eq!(v["errors"][0]["code"], "AADSTS500011");
    assert_eq!(
        v["errors"][0]["name"],
        "InvalidResourceServicePrincipalNotFound"
    );
}

#[test]
fn managed_identity_endpoints_own_errors_say_what_to_do() {
    // App Service: a user-assigned identity that is not the app's.
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(GET).path("/msi/token");
        then.status(400).json_body(
            json!({"statusCode": 400, "message": "Unable to load the proper Managed Identity. TEST-ONLY-identity-header"}),
        );
    });
    let out = mdeauth()
        .args(["token", "--flow", "managed-identity", "--client-id", APP])
        .env("IDENTITY_ENDPOINT", server.url("/msi/token"))
        .env("IDENTITY_HEADER", "TEST-ONLY-identity-header")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("the App Service identity endpoint refused the request (HTTP 400): Unable to load the proper Managed Identity."),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "no user-assigned identity with client id {APP} is assigned to this resource"
        )),
        "{err}"
    );
    assert!(!err.contains("TEST-ONLY-identity-header"), "{err}");
    // IMDS while it is being updated: retry.
    let imds = MockServer::start();
    imds.mock(|when, then| {
        when.method(GET).path("/metadata/identity/oauth2/token");
        then.status(410).body("");
    });
    let out = mdeauth()
        .args(["token", "--flow", "managed-identity"])
        .env(
            "MDEAUTH_IMDS_ENDPOINT",
            imds.url("/metadata/identity/oauth2/token"),
        )
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains(
            "the Azure instance metadata service (IMDS) answered HTTP 410: it is being updated"
        ),
        "{err}"
    );
    assert!(err.contains("retry in a minute"), "{err}");
}

#[test]
fn network_failure_is_exit_3() {
    // Nothing listens on this port: bind and drop to get a free one.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = with_secret(&format!("http://127.0.0.1:{port}"));
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).starts_with("mdeauth: error: cannot connect to http://127.0.0.1:"));
    assert_no_secrets(&out);
}

#[test]
fn server_error_without_error_json_is_exit_3() {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(POST);
        then.status(503).body("<html>down</html>");
    });
    let out = with_secret(&server.base_url());
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn usage_errors_exit_2() {
    // Plain http to a non-loopback authority.
    let out = with_secret("http://login.example.com");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "mdeauth: error: refusing plain http to login.example.com: tokens and keys must travel over https; use https (http is accepted only for loopback test servers)\n"
    );
    // No credential at all.
    let out = cmd("https://login.microsoftonline.com").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).starts_with("mdeauth: error: no client credential given; "));
    // A secret is never accepted as an argument.
    let out = cmd("https://login.microsoftonline.com")
        .args(["--client-secret", SECRET])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = cmd("https://login.microsoftonline.com")
        .args(["--password", PASSWORD])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // Bad client id.
    let out = cmd("https://login.microsoftonline.com")
        .env("AZURE_CLIENT_ID", "my-app")
        .env("AZURE_CLIENT_SECRET", SECRET)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // Missing tenant.
    let out = cmd("https://login.microsoftonline.com")
        .env_remove("AZURE_TENANT_ID")
        .env("AZURE_CLIENT_SECRET", SECRET)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).starts_with("mdeauth: error: no tenant given; "));
    // Certificate file without a certificate.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("key-only.pem");
    std::fs::copy(fixture("keys/test-app-key.pem"), &f).unwrap();
    let out = cmd("https://login.microsoftonline.com")
        .arg("--certificate")
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("holds no certificate"),
        "{}",
        stderr(&out)
    );
}

// ---------- credentials never leave the endpoint, and never show ----------

#[test]
fn a_redirect_to_another_host_never_carries_the_secret() {
    let elsewhere = MockServer::start();
    let stolen = elsewhere.mock(|when, then| {
        when.any_request();
        then.status(200).json_body(token_response());
    });
    let server = MockServer::start();
    let m = server.mock(|when, then| {
        when.method(POST)
            .path(format!("/{TENANT}/oauth2/v2.0/token"));
        then.status(307)
            .header("Location", elsewhere.url("/evil/token"));
    });
    let out = with_secret(&server.base_url());
    m.assert_calls(1);
    stolen.assert_calls(0);
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains("redirect to another host"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_no_secrets(&out);
}

#[test]
fn a_refused_plain_http_redirect_is_named_without_its_query() {
    // A hostile endpoint echoes the secret into the redirect's query.
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(POST)
            .path(format!("/{TENANT}/oauth2/v2.0/token"));
        then.status(302).header(
            "Location",
            format!("http://evil.example/steal?s={SECRET}#{SECRET}"),
        );
    });
    let out = with_secret(&server.base_url());
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("redirect to non-https URL http://evil.example refused"),
        "{err}"
    );
    assert_no_secrets(&out);
}

#[test]
fn a_secret_echoed_with_json_escapes_is_masked() {
    // PHP writes `/` as `\/`; .NET writes `+` as `\u002B`.
    let secret = "Kq7/3xZ+9mN2pL8=";
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(POST).path(format!("/{TENANT}/oauth2/v2.0/token"));
        then.status(401)
            .header("Content-Type", "application/json")
            .body(r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided: Kq7\/3xZ\u002B9mN2pL8= (also as Kq7%2F3xZ%2B9mN2pL8%3D)","error_codes":[7000215]}"#);
    });
    let out = cmd(&server.base_url())
        .env("AZURE_CLIENT_SECRET", secret)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let all = stdout(&out) + &stderr(&out);
    for shown in [secret, r"Kq7\/3xZ", "Kq7%2F3xZ", "9mN2pL8"] {
        assert!(!all.contains(shown), "shows {shown}: {all}");
    }
    assert!(
        all.contains("Invalid client secret provided: [redacted]"),
        "{all}"
    );
    // Percent-encoded with lower-case hex, in a body that is not JSON.
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(POST)
            .path(format!("/{TENANT}/oauth2/v2.0/token"));
        then.status(500).body("bad request: Kq7%2f3xZ%2b9mN2pL8%3d");
    });
    let out = cmd(&server.base_url())
        .env("AZURE_CLIENT_SECRET", secret)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let all = stdout(&out) + &stderr(&out);
    assert!(!all.contains("9mN2pL8"), "{all}");
    assert!(all.contains("bad request: [redacted]"), "{all}");
}

#[test]
fn an_issued_token_is_never_masked_even_when_it_holds_the_secret_text() {
    // A short secret that happens to occur in the token's text must not
    // change the token that was issued.
    let t = token();
    let secret = &t[40..44];
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(POST)
            .path(format!("/{TENANT}/oauth2/v2.0/token"));
        then.status(200).json_body(token_response());
    });
    let out = cmd(&server.base_url())
        .arg("--print-token")
        .env("AZURE_CLIENT_SECRET", secret)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), t);
}

#[test]
fn managed_identity_header_echoed_in_an_error_is_masked() {
    let header = "TEST-ONLY-identity-header-9f8e7d";
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(GET).path("/msi/token");
        then.status(400).json_body(json!({
            "error": "invalid_request",
            "error_description": format!("AADSTS90002: bad request with header {header}"),
        }));
    });
    let out = mdeauth()
        .args(["--format", "json", "token", "--flow", "managed-identity"])
        .env("IDENTITY_ENDPOINT", server.url("/msi/token"))
        .env("IDENTITY_HEADER", header)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let all = stdout(&out) + &stderr(&out);
    assert!(!all.contains(header), "{all}");
    assert!(all.contains("[redacted]"), "{all}");
}

#[test]
fn a_throttled_token_endpoint_says_when_to_retry() {
    for body in [
        "",
        r#"{"error":"temporarily_unavailable","error_description":"AADSTS50196: The server terminated an operation because it encountered a client request loop.\r\nTrace ID: 0f1e2d3c-0000-4000-8000-000000000001\r\nCorrelation ID: 7c3e1d2e-0000-4000-8000-000000000002","error_codes":[50196]}"#,
    ] {
        let server = MockServer::start();
        server.mock(|when, then| {
            when.method(POST)
                .path(format!("/{TENANT}/oauth2/v2.0/token"));
            then.status(429).header("Retry-After", "30").body(body);
        });
        let out = with_secret(&server.base_url());
        assert_eq!(out.status.code(), Some(3), "{body}: {}", stdout(&out));
        let err = stderr(&out);
        assert!(
            err.contains("answered HTTP 429 (too many requests)"),
            "{err}"
        );
        assert!(
            err.contains("the endpoint is throttling requests: retry after 30 s (not before "),
            "{err}"
        );
        assert!(!err.contains("): ;"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        // The JSON's description, its first line: not the raw JSON.
        if !body.is_empty() {
            assert!(
                err.contains("(too many requests): AADSTS50196: The server terminated an operation because it encountered a client request loop.;"),
                "{err}"
            );
            assert!(
                !err.contains("\\r\\n") && !err.contains("error_codes"),
                "{err}"
            );
        }
    }
}

#[test]
fn a_short_secret_never_breaks_the_explanation_of_a_refusal() {
    // Blanking happens inside the JSON strings, never in member names: a
    // secret "error" still leaves a readable AADSTS refusal (exit 1).
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(POST)
            .path(format!("/{TENANT}/oauth2/v2.0/token"));
        then.status(401).json_body(json!({
            "error": "invalid_client",
            "error_description": "AADSTS7000215: Invalid client secret provided: error",
            "error_codes": [7000215]
        }));
    });
    let out = cmd(&server.base_url())
        .env("AZURE_CLIENT_SECRET", "error")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v = json_out(&out);
    assert!(
        v.to_string()
            .contains("Invalid client secret provided: [redacted]"),
        "{v}"
    );
    assert!(v.to_string().contains("AADSTS7000215"), "{v}");
}

#[test]
fn an_oauth_error_sent_with_http_200_is_still_the_refusal_it_names() {
    // A proxy in between turned Azure AD's 400 into a 200: the AADSTS code
    // is what to act on, not "not a token endpoint".
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(POST)
            .path(format!("/{TENANT}/oauth2/v2.0/token"));
        then.status(200).json_body(json!({
            "error": "invalid_client",
            "error_description": format!("AADSTS7000215: Invalid client secret provided: {SECRET}"),
            "error_codes": [7000215]
        }));
    });
    let out = with_secret(&server.base_url());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v = json_out(&out);
    let text = v.to_string();
    assert!(text.contains("AADSTS7000215"), "{v}");
    assert!(!text.contains("not a token endpoint"), "{v}");
    assert!(!text.contains(SECRET), "{v}");
}

#[test]
fn an_access_token_that_is_not_a_jwt_is_the_endpoints_failure() {
    // Nothing the user gave is wrong: exit 3, naming the endpoint.
    for access_token in ["not-a-jwt", "eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln"] {
        let server = MockServer::start();
        server.mock(|when, then| {
            when.method(POST);
            then.status(200)
                .json_body(json!({"token_type": "Bearer", "access_token": access_token}));
        });
        let out = with_secret(&server.base_url());
        assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("/oauth2/v2.0/token answered with an access_token mdeauth cannot read: "),
            "{err}"
        );
        assert!(err.contains("check --authority-host"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

#[test]
fn an_html_page_naming_a_code_is_not_a_refusal() {
    // A proxy's or a sign-in page: exit 3 as any HTML answer, naming the code.
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(POST);
        then.status(400)
            .header("content-type", "text/html")
            .body("<!DOCTYPE html>\n<html><body>\nSign in error AADSTS50126\n</body></html>");
    });
    let out = with_secret(&server.base_url());
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("answered HTTP 400 with an HTML page instead of a JSON error; the page names AADSTS50126; check --authority-host and any proxy in between; `mdeauth explain AADSTS50126` explains the code"),
        "{err}"
    );
    assert!(!stdout(&out).contains("</html>"), "{}", stdout(&out));
}

#[test]
fn a_password_that_looks_escaped_is_blanked_when_echoed_as_sent() {
    // Read through its escapes, "Spring%2024!" is another text: the echo as
    // sent must be found too, in JSON and in plain text.
    for password in ["Spring%2024!", r"Pa\/ss1", "Rock&lt;3x"] {
        for json_body in [true, false] {
            let server = MockServer::start();
            let text = format!("AADSTS50126: Error validating credentials. password={password}");
            server.mock(|when, then| {
                when.method(POST);
                if json_body {
                    then.status(400).json_body(json!({
                        "error": "invalid_grant",
                        "error_description": text,
                        "error_codes": [50126],
                    }));
                } else {
                    then.status(400).body(text.clone());
                }
            });
            let out = cmd(&server.base_url())
                .args(["--flow", "password"])
                .env("AZURE_USERNAME", "soc@contoso.example")
                .env("AZURE_PASSWORD", password)
                .output()
                .unwrap();
            let all = format!("{}{}", stdout(&out), stderr(&out));
            assert!(
                !all.contains(password),
                "{password} json={json_body}: {all}"
            );
            assert!(
                all.contains("[redacted]"),
                "{password} json={json_body}: {all}"
            );
        }
    }
}
