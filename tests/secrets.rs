//! Secret hygiene: every command, run with a known access token, a known
//! client secret and a known Microsoft Graph token in its environment or
//! files, never writes any of them to stdout, stderr, JSON, JUnit or the
//! cache. The one exception is `token --print-token`, which prints the token
//! and nothing else.

mod aad_mock;
mod common;

use std::path::Path;

use common::{fixture, main_key, mdeauth, mint};
use httpmock::prelude::*;
use serde_json::{Value, json};

const CLIENT_SECRET: &str = "Qw7~HYGIENE-TEST-client-secret.9zR";
const DAEMON: &str = "3f6a1b2c-9d8e-4f70-a1b2-c3d4e5f60718";

fn access_token() -> String {
    let key = main_key();
    mint::sign(
        &key,
        &key.v1_header(),
        &mint::v1_app_claims(&["Machine.Read.All"]),
    )
}

fn graph_token() -> String {
    let key = main_key();
    let mut c = mint::v1_app_claims(&["Application.Read.All"]);
    c["aud"] = json!("https://graph.microsoft.com");
    c["uti"] = json!("graphHygieneUti000000AA");
    mint::sign(&key, &key.v1_header(), &c)
}

/// The strings that must never appear: the tokens, their signatures (the
/// part that makes a token usable), and the client secret.
fn secrets() -> Vec<(String, String)> {
    let mut out = vec![("client secret".to_string(), CLIENT_SECRET.to_string())];
    for (name, t) in [
        ("access token", access_token()),
        ("Graph token", graph_token()),
    ] {
        let sig = t.rsplit('.').next().unwrap().to_string();
        out.push((format!("{name} signature"), sig));
        out.push((name.to_string(), t));
    }
    out
}

fn assert_clean(what: &str, text: &str) {
    for (name, s) in secrets() {
        assert!(!text.contains(&s), "{what} contains the {name}:\n{text}");
    }
}

/// Every file under `dir`, checked.
fn assert_dir_clean(dir: &Path) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let text = String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned();
        assert_clean(&format!("cache file {}", p.display()), &text);
    }
}

struct World {
    aad: MockServer,
    graph: MockServer,
    mde: MockServer,
    cache: tempfile::TempDir,
    files: tempfile::TempDir,
}

impl World {
    fn new() -> World {
        let aad = MockServer::start();
        aad_mock::Aad::start(&aad, &aad_mock::jwks_fixture("jwks.json"));
        aad.mock(|when, then| {
            when.method(POST)
                .path(format!("/{}/oauth2/v2.0/token", mint::TENANT))
                .form_urlencoded_tuple("client_secret", CLIENT_SECRET);
            then.status(200).json_body(json!({
                "token_type": "Bearer", "expires_in": 3599, "access_token": access_token()
            }));
        });
        let graph = MockServer::start();
        let auth = format!("Bearer {}", graph_token());
        let app: Value =
            serde_json::from_str(&std::fs::read_to_string(fixture("apps/daemon-ok.json")).unwrap())
                .unwrap();
        let sp_mde: Value =
            serde_json::from_str(&std::fs::read_to_string(fixture("apps/sp-mde.json")).unwrap())
                .unwrap();
        let sp_id = "2f3e4d5c-6b7a-4988-9a0b-1c2d3e4f5a6b";
        for (path, body) in [
            (format!("/v1.0/applications(appId='{DAEMON}')"), app),
            (
                format!("/v1.0/servicePrincipals(appId='{}')", mint::MDE_APP_ID),
                sp_mde,
            ),
            (
                format!("/v1.0/servicePrincipals(appId='{DAEMON}')"),
                json!({"id": sp_id, "appId": DAEMON}),
            ),
            (
                format!("/v1.0/servicePrincipals/{sp_id}/appRoleAssignments"),
                json!({"value": []}),
            ),
            (
                format!("/v1.0/servicePrincipals/{sp_id}/oauth2PermissionGrants"),
                json!({"value": []}),
            ),
        ] {
            graph.mock(|when, then| {
                when.method(GET).path(path).header("authorization", &auth);
                then.status(200).json_body(body);
            });
        }
        let mde = MockServer::start();
        let bearer = format!("Bearer {}", access_token());
        mde.mock(|when, then| {
            when.method(GET)
                .path("/api/machines")
                .header("authorization", &bearer);
            then.status(200).json_body(json!({"value": []}));
        });
        let files = tempfile::tempdir().unwrap();
        std::fs::write(
            files.path().join("secret.txt"),
            format!("{CLIENT_SECRET}\n"),
        )
        .unwrap();
        std::fs::write(files.path().join("token.jwt"), access_token()).unwrap();
        std::fs::write(files.path().join("graph.jwt"), graph_token()).unwrap();
        // A log a token leaked into, for scan.
        std::fs::write(
            files.path().join("app.log"),
            format!(
                "09:30 GET /api/machines Authorization: Bearer {}\nclient_secret={CLIENT_SECRET}\n",
                access_token()
            ),
        )
        .unwrap();
        World {
            aad,
            graph,
            mde,
            cache: tempfile::tempdir().unwrap(),
            files,
        }
    }

    fn file(&self, name: &str) -> String {
        self.files.path().join(name).to_string_lossy().into_owned()
    }

    /// Every command line, with a name. Secrets come only from the
    /// environment or files; all of them are in every environment.
    fn commands(&self) -> Vec<(&'static str, Vec<String>)> {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let jwks = fixture("keys/jwks.json").to_string_lossy().into_owned();
        let aad = self.aad.base_url();
        let graph = self.graph.base_url();
        let mde = self.mde.base_url();
        let at = mint::VALID_AT;
        vec![
            ("inspect", s(&["inspect", "--at", at])),
            (
                "inspect --token-file",
                s(&[
                    "inspect",
                    "--at",
                    at,
                    "--token-file",
                    &self.file("token.jwt"),
                ]),
            ),
            ("verify --jwks", s(&["verify", "--at", at, "--jwks", &jwks])),
            (
                "verify discovery",
                s(&["verify", "--at", at, "--authority-host", &aad]),
            ),
            (
                "check",
                s(&["check", "--at", at, "--call", "GET /api/machines"]),
            ),
            ("api", s(&["api", "--call", "GET /api/machines"])),
            ("explain", s(&["explain", "AADSTS700016"])),
            (
                "explain file",
                s(&[
                    "explain",
                    &fixture("errors/aadsts700016.json").to_string_lossy(),
                ]),
            ),
            (
                "consent-url",
                s(&[
                    "consent-url",
                    "--client-id",
                    mint::APP,
                    "--tenant",
                    mint::TENANT,
                ]),
            ),
            (
                "token (AZURE_CLIENT_SECRET)",
                s(&[
                    "token",
                    "--at",
                    at,
                    "--tenant",
                    mint::TENANT,
                    "--client-id",
                    mint::APP,
                    "--authority-host",
                    &aad,
                ]),
            ),
            (
                "token --client-secret-file",
                s(&[
                    "token",
                    "--at",
                    at,
                    "--tenant",
                    mint::TENANT,
                    "--client-id",
                    mint::APP,
                    "--authority-host",
                    &aad,
                    "--client-secret-file",
                    &self.file("secret.txt"),
                ]),
            ),
            (
                "app live (MDEAUTH_GRAPH_TOKEN)",
                s(&[
                    "app",
                    "--at",
                    at,
                    "--app-id",
                    DAEMON,
                    "--graph-endpoint",
                    &graph,
                    "--permission",
                    "Machine.Read.All",
                    "--context",
                    "application",
                ]),
            ),
            (
                "app live (--graph-token-file)",
                s(&[
                    "app",
                    "--at",
                    at,
                    "--app-id",
                    DAEMON,
                    "--graph-endpoint",
                    &graph,
                    "--graph-token-file",
                    &self.file("graph.jwt"),
                    "--permission",
                    "Machine.Read.All",
                    "--context",
                    "application",
                ]),
            ),
            ("cache show", s(&["cache", "show"])),
            (
                "probe",
                s(&[
                    "probe",
                    "--at",
                    at,
                    "--call",
                    "GET /api/machines",
                    "--api-base",
                    &mde,
                ]),
            ),
            (
                "scan",
                s(&["scan", "--at", at, "--jwks", &jwks, &self.file("app.log")]),
            ),
            (
                "doctor (MDEAUTH_TOKEN)",
                s(&[
                    "doctor",
                    "--at",
                    at,
                    "--call",
                    "GET /api/machines",
                    "--jwks",
                    &jwks,
                    "--probe",
                    "--api-base",
                    &mde,
                ]),
            ),
            (
                "doctor (acquires with --client-secret-file)",
                s(&[
                    "doctor",
                    "--at",
                    at,
                    "--call",
                    "GET /api/machines",
                    "--jwks",
                    &jwks,
                    "--tenant",
                    mint::TENANT,
                    "--client-id",
                    mint::APP,
                    "--authority-host",
                    &aad,
                    "--client-secret-file",
                    &self.file("secret.txt"),
                ]),
            ),
        ]
    }

    fn cmd(&self) -> assert_cmd::Command {
        let mut c = mdeauth();
        c.env("MDEAUTH_TOKEN", access_token())
            .env("MDEAUTH_GRAPH_TOKEN", graph_token())
            .env("AZURE_CLIENT_SECRET", CLIENT_SECRET)
            .env("MDEAUTH_CACHE_DIR", self.cache.path());
        c
    }
}

#[test]
fn no_command_shows_a_token_or_secret_in_any_format() {
    let w = World::new();
    for (name, args) in w.commands() {
        for format in ["human", "json", "junit"] {
            // consent-url prints links: junit is refused (tests/consent.rs).
            if name == "consent-url" && format == "junit" {
                continue;
            }
            let out = w
                .cmd()
                .args(["--format", format])
                .args(&args)
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            let ctx = format!("{name} --format {format}");
            // Each command really ran (these all succeed or report findings;
            // check reports UNVERIFIED, exit 3, where no keys can be reached).
            assert!(
                matches!(out.status.code(), Some(0 | 1))
                    || (name == "check" && out.status.code() == Some(3)),
                "{ctx}: exit {:?}: {stderr}",
                out.status.code()
            );
            assert!(!stdout.trim().is_empty(), "{ctx}: no output");
            if format == "json" {
                // One document, or JSON Lines (scan).
                let docs: Vec<Value> = match serde_json::from_str(&stdout) {
                    Ok(v) => vec![v],
                    Err(_) => stdout
                        .lines()
                        .map(|l| {
                            serde_json::from_str(l)
                                .unwrap_or_else(|e| panic!("{ctx}: not JSON ({e}): {l}"))
                        })
                        .collect(),
                };
                for v in docs {
                    assert_clean(&format!("{ctx} JSON"), &v.to_string());
                }
            }
            if format == "junit" {
                assert!(stdout.starts_with("<?xml"), "{ctx}: not JUnit: {stdout}");
            }
            assert_clean(&format!("{ctx} stdout"), &stdout);
            assert_clean(&format!("{ctx} stderr"), &stderr);
        }
    }
    // The cache was written (discovery) and holds no secret.
    let n = std::fs::read_dir(w.cache.path()).unwrap().count();
    assert!(n >= 2, "cache has {n} files");
    assert_dir_clean(w.cache.path());
}

#[test]
fn print_token_prints_the_token_and_only_the_token() {
    let w = World::new();
    for (how, extra) in [
        ("AZURE_CLIENT_SECRET", vec![]),
        (
            "--client-secret-file",
            vec!["--client-secret-file".to_string(), w.file("secret.txt")],
        ),
    ] {
        for format in ["human", "json"] {
            let out = w
                .cmd()
                .args([
                    "--format",
                    format,
                    "token",
                    "--print-token",
                    "--at",
                    mint::VALID_AT,
                ])
                .args(["--tenant", mint::TENANT, "--client-id", mint::APP])
                .args(["--authority-host", &w.aad.base_url()])
                .args(&extra)
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            let ctx = format!("{how} --format {format}");
            assert_eq!(out.status.code(), Some(0), "{ctx}: {stderr}");
            assert_eq!(stdout, format!("{}\n", access_token()), "{ctx}");
            assert_clean(&format!("{ctx} stderr"), &stderr);
            assert!(
                !stderr.trim().is_empty(),
                "{ctx}: the report goes to stderr"
            );
        }
    }
}

#[test]
fn an_answer_echoing_the_request_does_not_echo_the_secret() {
    // The token endpoint (or a misbehaving proxy) echoes the request body
    // back, raw and form-encoded, in a refusal (exit 1) and in a 5xx (exit 3):
    // the secret still does not reach the output.
    let encoded: String = url::form_urlencoded::byte_serialize(CLIENT_SECRET.as_bytes()).collect();
    for (status, exit) in [(401, 1), (500, 3)] {
        let server = MockServer::start();
        server.mock(|when, then| {
            when.method(POST);
            then.status(status).body(json!({
                "error": "invalid_client",
                "error_description": format!("AADSTS7000215: Invalid client secret provided. Request: client_secret={CLIENT_SECRET} (client_secret={encoded})"),
                "error_codes": [7000215],
            }).to_string());
        });
        for format in ["human", "json", "junit"] {
            let out = mdeauth()
                .env("AZURE_CLIENT_SECRET", CLIENT_SECRET)
                .args(["--format", format, "token", "--at", mint::VALID_AT])
                .args(["--tenant", mint::TENANT, "--client-id", mint::APP])
                .args(["--authority-host", &server.base_url()])
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            let ctx = format!("HTTP {status} --format {format}");
            assert_eq!(out.status.code(), Some(exit), "{ctx}: {stderr}");
            assert!(
                format!("{stdout}{stderr}").contains("7000215"),
                "{ctx}: {stdout}{stderr}"
            );
            assert!(
                format!("{stdout}{stderr}").contains("[redacted]"),
                "{ctx}: {stdout}{stderr}"
            );
            for (name, s) in [
                ("secret", CLIENT_SECRET),
                ("encoded secret", encoded.as_str()),
            ] {
                assert!(
                    !stdout.contains(s),
                    "{ctx}: stdout shows the {name}: {stdout}"
                );
                assert!(
                    !stderr.contains(s),
                    "{ctx}: stderr shows the {name}: {stderr}"
                );
            }
        }
    }
}

#[test]
fn a_200_that_is_the_secret_or_token_as_a_json_string_does_not_repeat_it() {
    // A server answering 200 with a JSON string (the secret it was sent, or
    // the token itself) is not a token response: the parser's message
    // quotes the string, and it must not reach the output.
    let token = access_token();
    for body in [CLIENT_SECRET.to_string(), token.clone()] {
        let server = MockServer::start();
        server.mock(|when, then| {
            when.method(POST);
            then.status(200)
                .header("content-type", "application/json")
                .body(serde_json::to_string(&body).unwrap());
        });
        for format in ["human", "json", "junit"] {
            let out = mdeauth()
                .env("AZURE_CLIENT_SECRET", CLIENT_SECRET)
                .args(["--format", format, "token", "--at", mint::VALID_AT])
                .args(["--tenant", mint::TENANT, "--client-id", mint::APP])
                .args(["--authority-host", &server.base_url()])
                .output()
                .unwrap();
            let all = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(out.status.code(), Some(3), "{format}: {all}");
            assert!(all.contains("not repeated here"), "{format}: {all}");
            assert!(!all.contains(&body), "{format}: {all}");
            assert_clean(format, &all);
        }
    }
}

#[test]
fn an_echo_with_escaped_characters_or_a_byte_order_mark_is_still_blanked() {
    // A secret with characters JSON and HTML may escape: echoed in a JSON
    // body behind a byte-order mark, in cut-off JSON, and as an HTML page.
    let secret = "Summer~+2024&Go/x";
    let bodies = [
        format!(
            "\u{feff}{}",
            json!({
                "error": "invalid_client",
                "error_description": "AADSTS7000215: Invalid client secret provided. Secret: Summer~\\u002B2024\\u0026Go\\/x",
                "error_codes": [7000215],
            })
        )
        .replace("\\\\u", "\\u")
        .replace("\\\\/", "\\/"),
        r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Secret: Summer~\u002b2024\u0026Go\/x"#.to_string(),
        r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Secret: Summer~&#43;2024&amp;Go/x","error_codes":[7000215]}"#.to_string(),
        // Percent-encoded as RFC 3986 has it (Python's quote_plus): `~` stays.
        r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Secret: Summer~%2B2024%26Go%2Fx","error_codes":[7000215]}"#.to_string(),
        // An HTML page is not shown at all (exit 3), let alone its echo.
        "<html><body>AADSTS7000215: Invalid client secret provided. Secret: Summer~&#43;2024&amp;Go/x</body></html>".to_string(),
    ];
    for body in bodies {
        let server = MockServer::start();
        server.mock(|when, then| {
            when.method(POST);
            then.status(401).body(body.clone());
        });
        for format in ["human", "json"] {
            let out = mdeauth()
                .env("AZURE_CLIENT_SECRET", secret)
                .args(["--format", format, "token", "--at", mint::VALID_AT])
                .args(["--tenant", mint::TENANT, "--client-id", mint::APP])
                .args(["--authority-host", &server.base_url()])
                .output()
                .unwrap();
            let all = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            let ctx = format!("{body} --format {format}");
            assert!(
                all.contains("[redacted]") || body.starts_with("<html>"),
                "{ctx}: {all}"
            );
            for shown in [
                "Summer~+2024",
                "Summer~\\u002B",
                "Summer~\\u002b",
                "Summer~&#43;",
                "Summer~%2B2024",
                "2024&Go",
                "2024&amp;Go",
            ] {
                assert!(!all.contains(shown), "{ctx}: shows {shown}: {all}");
            }
        }
    }
}

#[test]
fn a_secret_given_where_its_file_path_belongs_is_not_echoed() {
    // The value itself pasted after a --*-file flag: the error says the file
    // cannot be read (exit 2) without repeating the value.
    let token = access_token();
    let graph = graph_token();
    let runs: Vec<Vec<String>> = vec![
        vec!["inspect".into(), "--token-file".into(), token.clone()],
        vec!["verify".into(), "--token-file".into(), token.clone()],
        vec![
            "check".into(),
            "--no-verify".into(),
            "--call".into(),
            "GET /api/machines".into(),
            "--token-file".into(),
            token.clone(),
        ],
        vec![
            "token".into(),
            "--tenant".into(),
            mint::TENANT.into(),
            "--client-id".into(),
            DAEMON.into(),
            "--client-secret-file".into(),
            CLIENT_SECRET.into(),
        ],
        vec![
            "app".into(),
            "--app-id".into(),
            DAEMON.into(),
            "--call".into(),
            "GET /api/machines".into(),
            "--context".into(),
            "application".into(),
            "--graph-token-file".into(),
            graph.clone(),
        ],
        // Where any file belongs: scan's inputs, a manifest, key set,
        // plan, service principal, grants or request body.
        vec!["scan".into(), token.clone()],
        vec!["scan".into(), format!("Authorization: Bearer {token}")],
        vec!["scan".into(), CLIENT_SECRET.into()],
        vec![
            "app".into(),
            token.clone(),
            "--permission".into(),
            "Machine.Read.All".into(),
            "--context".into(),
            "application".into(),
        ],
        vec![
            "verify".into(),
            "--jwks".into(),
            token.clone(),
            fixture("tokens/app-v1.jwt").display().to_string(),
        ],
        vec!["api".into(), "--plan".into(), token.clone()],
        vec![
            "app".into(),
            fixture("apps/daemon-ok.json").display().to_string(),
            "--permission".into(),
            "Machine.Read.All".into(),
            "--context".into(),
            "application".into(),
            "--grants".into(),
            token.clone(),
        ],
        vec![
            "app".into(),
            fixture("apps/daemon-ok.json").display().to_string(),
            "--permission".into(),
            "Machine.Read.All".into(),
            "--context".into(),
            "application".into(),
            "--sp".into(),
            CLIENT_SECRET.into(),
        ],
        vec![
            "probe".into(),
            "--allow-write".into(),
            "--body".into(),
            token.clone(),
            "--call".into(),
            "POST /api/machines/x/isolate".into(),
            fixture("tokens/app-v1.jwt").display().to_string(),
        ],
        vec![
            "explain".into(),
            "aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5o/Q=".into(),
        ],
    ];
    for args in runs {
        let out = mdeauth()
            .env_remove("AZURE_CLIENT_SECRET")
            .args(&args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(2), "{}: {err}", args[0]);
        assert!(
            err.contains("that does not read as a path, not repeated here in case it is a secret)"),
            "{}: {err}",
            args[0]
        );
        assert_clean(&args[0], &err);
        assert!(
            !err.contains("aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5o"),
            "{err}"
        );
        assert_clean(&args[0], &String::from_utf8_lossy(&out.stdout));
    }
    // A token given to --at is not repeated either.
    let out = mdeauth()
        .args(["inspect", "--at", &token, "-"])
        .write_stdin(token.clone())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("not repeated here in case it is a secret"),
        "{err}"
    );
    assert_clean("--at", &err);
}

/// `--*-stdin` on a terminal: refused (the typed secret would show), not a
/// silent wait for end of input. Run under a pseudo-terminal made by
/// util-linux's `script`.
#[cfg(target_os = "linux")]
#[test]
fn a_secret_saved_in_the_wrong_form_is_named_not_sent() {
    // az ad app credential reset's JSON, or a shell assignment, saved as
    // the secret file: exit 2 before anything is sent, the secret not shown.
    let dir = tempfile::tempdir().unwrap();
    for (name, text, says) in [
        (
            "reset.json",
            format!("{{\n  \"appId\": \"{DAEMON}\",\n  \"password\": \"{CLIENT_SECRET}\"\n}}\n"),
            "the client secret given is JSON, not the client secret itself",
        ),
        (
            "secret.env",
            format!("AZURE_CLIENT_SECRET={CLIENT_SECRET}\n"),
            "the client secret given is a shell assignment (AZURE_CLIENT_SECRET=...)",
        ),
    ] {
        let file = dir.path().join(name);
        std::fs::write(&file, text).unwrap();
        let out = mdeauth()
            .env_remove("AZURE_CLIENT_SECRET")
            .args(["token", "--tenant", mint::TENANT, "--client-id", DAEMON])
            .args(["--authority-host", "http://127.0.0.1:9"])
            .arg("--client-secret-file")
            .arg(&file)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains(says), "{name}: {err}");
        assert_clean(name, &err);
    }
    // A password may hold braces or `NAME=`: it is sent (here to a closed
    // port: exit 3), not refused.
    let pw = dir.path().join("pw.txt");
    std::fs::write(&pw, "{Summer2026}pass\n").unwrap();
    let out = mdeauth()
        .env_remove("AZURE_PASSWORD")
        .args([
            "token",
            "--flow",
            "password",
            "--tenant",
            mint::TENANT,
            "--client-id",
            DAEMON,
        ])
        .args([
            "--username",
            "a@contoso.com",
            "--authority-host",
            "http://127.0.0.1:9",
        ])
        .arg("--password-file")
        .arg(&pw)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Set but not UTF-8: named as such, not taken for unset.
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let bad = std::ffi::OsStr::from_bytes(b"\xff\xfesecret");
        let out = mdeauth()
            .env("AZURE_CLIENT_SECRET", bad)
            .args(["token", "--tenant", mint::TENANT, "--client-id", DAEMON])
            .args(["--authority-host", "http://127.0.0.1:9"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "mdeauth: error: AZURE_CLIENT_SECRET is set but is not UTF-8 text; set AZURE_CLIENT_SECRET again from the original value\n"
        );
        let out = mdeauth()
            .env("MDEAUTH_TOKEN", bad)
            .args(["inspect"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(
            String::from_utf8_lossy(&out.stderr)
                .contains("MDEAUTH_TOKEN is set but is not UTF-8 text")
        );
    }
}

#[test]
fn a_graph_answer_echoing_part_of_the_graph_token_does_not_show_it() {
    let token = graph_token();
    let (_, sig) = token.rsplit_once('.').unwrap();
    let graph = MockServer::start();
    graph.mock(|when, then| {
        when.method(GET);
        then.status(401).json_body(json!({"error": {
            "code": &token[..80],
            "message": format!("Access token validation failure for app {}", &sig[..60]),
        }}));
    });
    for format in ["human", "json", "junit"] {
        let out = mdeauth()
            .env("MDEAUTH_GRAPH_TOKEN", &token)
            .args(["--format", format, "app", "--app-id", DAEMON])
            .args([
                "--permission",
                "Machine.Read.All",
                "--context",
                "application",
            ])
            .args(["--graph-endpoint", &graph.base_url()])
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(all.contains("[token]"), "{format}: {all}");
        assert!(
            !all.contains(&token[20..60]) && !all.contains(&sig[..40]),
            "{format}: {all}"
        );
    }
}

#[test]
fn secret_stdin_flags_refuse_a_terminal() {
    if !Path::new("/usr/bin/script").exists() {
        eprintln!("skipped: /usr/bin/script (util-linux) is not installed");
        return;
    }
    let bin = assert_cmd::cargo::cargo_bin("mdeauth");
    for (flag, args) in [
        ("--password-stdin", "--flow password --username a@b.c"),
        ("--client-secret-stdin", ""),
    ] {
        let cmd = format!(
            "{} token --tenant {} --client-id {DAEMON} {args} {flag}",
            bin.display(),
            mint::TENANT
        );
        let out = std::process::Command::new("/usr/bin/script")
            .args(["-qec", &cmd, "/dev/null"])
            .env_remove("AZURE_CLIENT_SECRET")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert_eq!(out.status.code(), Some(2), "{flag}: {text}");
        assert!(
            text.contains(&format!(
                "{flag} reads the {} from a pipe, but standard input is a terminal",
                if flag == "--password-stdin" {
                    "password"
                } else {
                    "client secret"
                }
            )),
            "{flag}: {text}"
        );
    }
}

#[test]
fn a_secret_set_as_the_client_or_tenant_id_is_not_echoed() {
    // The client secret and the client id swapped in the environment.
    for (var, other) in [
        ("AZURE_CLIENT_ID", "--tenant"),
        ("AZURE_TENANT_ID", "--client-id"),
    ] {
        let other_value = if other == "--tenant" {
            mint::TENANT
        } else {
            DAEMON
        };
        let out = mdeauth()
            .env(var, CLIENT_SECRET)
            .env_remove("AZURE_CLIENT_SECRET")
            .args(["token", other, other_value])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(2), "{var}: {err}");
        assert!(
            err.contains("perhaps the client secret, not repeated here in case it is a secret)"),
            "{var}: {err}"
        );
        assert_clean(var, &err);
    }
    // verify's pins say the same.
    let out = mdeauth()
        .args(["verify", "--tenant", CLIENT_SECRET])
        .arg(fixture("tokens/app-v1.jwt"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_clean("verify --tenant", &err);
    // doctor reads the secret as token does: a missing file is bad input.
    let out = mdeauth()
        .args(["doctor", "--call", "GET /api/machines"])
        .args(["--tenant", mint::TENANT, "--client-id", DAEMON])
        .args(["--client-secret-file", "/nonexistent/dir/client.secret"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("/nonexistent/dir/client.secret"), "{err}");
}

#[test]
fn a_secret_given_as_an_extra_argument_is_not_echoed() {
    let out = mdeauth()
        .args(["token", "--tenant", mint::TENANT, CLIENT_SECRET])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("not repeated here in case it is a secret"),
        "{err}"
    );
    assert_clean("extra argument", &err);
    // A short one (a typo) is still named.
    let out = mdeauth().args(["inspect", "a", "b"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(err.contains("unexpected argument 'b'"), "{err}");
}
