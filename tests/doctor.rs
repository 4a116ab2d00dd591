//! `mdeauth doctor` end to end against a fake Azure AD (token endpoint,
//! discovery, keys) and a fake MDE API; `token --plan`.
mod aad_mock;
mod common;

use std::path::{Path, PathBuf};

use common::mint::{self, TENANT, VALID_AT};
use common::{finding, fixture, mdeauth};
use httpmock::prelude::*;
use serde_json::{Value, json};

const SECRET: &str = "Zq8~DOCTOR-TEST-ONLY-secret.value.9Kp";
/// appId of fixtures/apps/daemon-ok.json.
const DAEMON_APP: &str = "3f6a1b2c-9d8e-4f70-a1b2-c3d4e5f60718";

/// A token for the daemon app holding only Machine.Read.All (Alert.Read.All not consented).
fn daemon_token() -> String {
    let k = common::main_key();
    let mut c = mint::v1_app_claims(&["Machine.Read.All"]);
    c["appid"] = json!(DAEMON_APP);
    mint::sign(&k, &k.v1_header(), &c)
}

fn write_plan(dir: &Path, client_id: &str) -> PathBuf {
    let p = dir.join("plan.toml");
    std::fs::write(
        &p,
        format!(
            r#"name = "Contoso export daemon"
tenant_id = "{TENANT}"
client_id = "{client_id}"
context = "application"
credential = "certificate"
calls = ["GET /api/machines", "GET /api/alerts"]
"#
        ),
    )
    .unwrap();
    p
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", self.stdout, self.stderr))
    }
    fn assert_clean(&self, token: &str) {
        for s in [SECRET, token, "client_secret="] {
            assert!(
                !self.stdout.contains(s),
                "stdout leaks {s}:\n{}",
                self.stdout
            );
            assert!(
                !self.stderr.contains(s),
                "stderr leaks {s}:\n{}",
                self.stderr
            );
        }
    }
}

fn run(mut c: assert_cmd::Command) -> Out {
    let o = c.output().unwrap();
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// `mdeauth --format json doctor --at VALID_AT --no-verify`, to add to.
fn offline_doctor() -> assert_cmd::Command {
    let mut c = mdeauth();
    c.args([
        "--format",
        "json",
        "doctor",
        "--at",
        VALID_AT,
        "--no-verify",
    ]);
    c
}

fn step<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["doctor"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no step {name} in {v:#}"))
}

fn codes(v: &Value) -> Vec<String> {
    aad_mock::codes(v)
}

/// Fake AAD: discovery and keys (aad_mock) plus a token endpoint issuing `token`.
fn token_endpoint<'a>(server: &'a MockServer, token: &str) -> httpmock::Mock<'a> {
    server.mock(|when, then| {
        when.method(POST)
            .path(format!("/{TENANT}/oauth2/v2.0/token"))
            .form_urlencoded_tuple("grant_type", "client_credentials")
            .form_urlencoded_tuple("client_secret", SECRET)
            .form_urlencoded_tuple("client_id", DAEMON_APP);
        then.status(200).json_body(json!({
            "token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
            "access_token": token,
        }));
    })
}

fn doctor(server: &MockServer, cache: &Path, plan: &Path, format: &str) -> assert_cmd::Command {
    let mut c = mdeauth();
    c.env("MDEAUTH_CACHE_DIR", cache)
        .env("AZURE_CLIENT_SECRET", SECRET)
        .args(["--format", format, "doctor", "--at", VALID_AT])
        .args(["--plan", plan.to_str().unwrap()])
        .args(["--authority-host", &server.base_url()])
        .args(["--app", fixture("apps/daemon-ok.json").to_str().unwrap()])
        .args([
            "--grants",
            fixture("apps/grants-daemon-partial.json").to_str().unwrap(),
        ]);
    c
}

#[test]
fn end_to_end_chain_breaks_at_granted() {
    let server = MockServer::start();
    let aad = aad_mock::Aad::start(&server, &aad_mock::jwks_fixture("jwks.json"));
    let token = daemon_token();
    let te = token_endpoint(&server, &token);
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), DAEMON_APP);

    let o = run(doctor(&server, &dir.path().join("cache"), &plan, "json"));
    assert_eq!(o.code, 1, "{}\n{}", o.stdout, o.stderr);
    te.assert_calls(1);
    aad.v1_meta.assert_calls(1);
    aad.v1_keys.assert_calls(1);
    let v = o.json();
    let names: Vec<&str> = v["doctor"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "configuration",
            "token",
            "decode",
            "signature",
            "identity",
            "permissions",
            "app",
            "probe"
        ]
    );
    for (name, status) in [
        ("configuration", "pass"),
        ("token", "pass"),
        ("decode", "pass"),
        ("signature", "pass"),
        // The plan says certificate; the token was got with the secret
        // (appidacr 1): check.credential_mismatch, on this step.
        ("identity", "warn"),
        ("permissions", "fail"),
        ("probe", "skip"),
    ] {
        assert_eq!(
            step(&v, name)["status"],
            status,
            "{name}: {:#}",
            step(&v, name)
        );
    }
    assert!(
        step(&v, "permissions")["detail"]
            .as_str()
            .unwrap()
            .contains("GET /api/alerts"),
        "{:#}",
        step(&v, "permissions")
    );
    let chain = v["doctor"]["chain"].as_array().unwrap();
    assert_eq!(chain.len(), 2, "{chain:#?}");
    assert_eq!(
        chain[0],
        json!({"call": "GET /api/machines", "permission": "Machine.Read.All", "intended": true,
               "requested": true, "granted": true, "in_token": true})
    );
    assert_eq!(chain[1]["call"], "GET /api/alerts");
    assert_eq!(chain[1]["permission"], "Alert.Read.All");
    assert_eq!(chain[1]["requested"], true);
    assert_eq!(chain[1]["granted"], false);
    assert_eq!(chain[1]["in_token"], false);
    assert_eq!(chain[1]["breaks"], "grant admin consent");
    let c = codes(&v);
    assert!(c.contains(&"doctor.not_granted".to_string()), "{c:?}");
    let ng = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "doctor.not_granted")
        .unwrap();
    assert!(
        ng["fix"].as_str().unwrap().contains(&format!(
            "/{TENANT}/oauth2/authorize?prompt=consent&client_id={DAEMON_APP}"
        )),
        "{ng:#}"
    );
    o.assert_clean(&token);

    // Human: checklist, then the chain with the break marked.
    let h = run(doctor(&server, &dir.path().join("cache"), &plan, "human"));
    assert_eq!(h.code, 1);
    assert!(h.stdout.contains("✓ configuration"), "{}", h.stdout);
    assert!(h.stdout.contains("✗ permissions"), "{}", h.stdout);
    assert!(h.stdout.contains("- probe"), "{}", h.stdout);
    let line = h
        .stdout
        .lines()
        .find(|l| l.contains("GET /api/alerts") && l.contains("requested"))
        .unwrap_or_else(|| panic!("no chain line:\n{}", h.stdout));
    assert!(
        line.contains("Alert.Read.All")
            && line.contains("requested ✓")
            && line.contains("granted ✗")
            && line.contains("in token ✗")
            && line.contains("← grant admin consent"),
        "{line}"
    );
    let checklist = h.stdout.find("✓ configuration").unwrap();
    let table = h.stdout.find("Permission chain").unwrap();
    let findings = h.stdout.find("Findings").unwrap();
    assert!(checklist < table && table < findings, "{}", h.stdout);
    h.assert_clean(&token);

    // JUnit: one case per step; the failing step fails.
    let j = run(doctor(&server, &dir.path().join("cache"), &plan, "junit"));
    assert_eq!(j.code, 1);
    assert!(
        j.stdout.contains(r#"classname="mdeauth.doctor.steps""#),
        "{}",
        j.stdout
    );
    assert!(j.stdout.contains(r#"name="permissions""#), "{}", j.stdout);
    j.assert_clean(&token);
}

#[test]
fn everything_passes_with_probe() {
    let server = MockServer::start();
    aad_mock::Aad::start(&server, &aad_mock::jwks_fixture("jwks.json"));
    let k = common::main_key();
    let mut c = mint::v1_app_claims(&["Machine.Read.All", "Alert.Read.All"]);
    c["appid"] = json!(DAEMON_APP);
    let token = mint::sign(&k, &k.v1_header(), &c);
    token_endpoint(&server, &token);
    let api = MockServer::start();
    let machines = api.mock(|when, then| {
        when.method(GET)
            .path("/api/machines")
            .query_param("$top", "1");
        then.status(200).json_body(json!({"value": [{"id": "m1"}]}));
    });
    let alerts = api.mock(|when, then| {
        when.method(GET)
            .path("/api/alerts")
            .query_param("$top", "1");
        then.status(200).json_body(json!({"value": []}));
    });
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), DAEMON_APP);
    let mut cmd = mdeauth();
    cmd.env("MDEAUTH_CACHE_DIR", dir.path().join("cache"))
        .env("AZURE_CLIENT_SECRET", SECRET)
        .args(["--format", "json", "doctor", "--at", VALID_AT, "--probe"])
        .args(["--plan", plan.to_str().unwrap()])
        .args(["--authority-host", &server.base_url()])
        .args(["--api-base", &api.base_url()])
        .args(["--app", fixture("apps/daemon-ok.json").to_str().unwrap()])
        .args([
            "--grants",
            fixture("apps/grants-both.json").to_str().unwrap(),
        ]);
    let o = run(cmd);
    let v = o.json();
    for s in v["doctor"]["steps"].as_array().unwrap() {
        assert!(
            s["status"] == "pass" || s["status"] == "warn",
            "{s:#}\n{:#}",
            v["findings"]
        );
    }
    assert_eq!(o.code, 0, "{}", o.stderr);
    machines.assert_calls(1);
    alerts.assert_calls(1);
    assert_eq!(v["doctor"]["probes"].as_array().unwrap().len(), 2);
    assert!(
        v["doctor"]["chain"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["granted"] == true && r["in_token"] == true)
    );
    o.assert_clean(&token);
}

#[test]
fn a_401_after_a_signature_checked_against_a_stand_in_authority_still_points_at_the_signature() {
    // Keys from --authority-host (or --jwks) are not Azure AD's own: the
    // signature step passing says nothing about what the API will accept.
    // (Keys from Azure AD's discovery lift the blame: a unit test in
    // mdeapi covers that wording.)
    let server = MockServer::start();
    aad_mock::Aad::start(&server, &aad_mock::jwks_fixture("jwks.json"));
    let k = common::main_key();
    let mut c = mint::valid_now(mint::v1_app_claims(&["Machine.Read.All", "Alert.Read.All"]));
    c["appid"] = json!(DAEMON_APP);
    let token = mint::sign(&k, &k.v1_header(), &c);
    let api = MockServer::start();
    api.mock(|when, then| {
        when.method(GET);
        then.status(401).body("");
    });
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), DAEMON_APP);
    let mut cmd = mdeauth();
    cmd.env("MDEAUTH_CACHE_DIR", dir.path().join("cache"))
        .args(["--format", "json", "doctor", "--probe", "-"])
        .args(["--plan", plan.to_str().unwrap()])
        .args(["--authority-host", &server.base_url()])
        .args(["--api-base", &api.base_url()])
        .write_stdin(token.as_str());
    let o = run(cmd);
    let v = o.json();
    assert_eq!(step(&v, "signature")["status"], "pass", "{v:#}");
    assert_eq!(o.code, 1, "{}", o.stderr);
    let f = finding(&v, "probe.unauthorized");
    let msg = f["message"].as_str().unwrap();
    assert!(
        msg.ends_with("the token passes the offline checks, so the likely cause is its signature (not issued by this cloud's Azure AD, or altered) or a tenant without MDE"),
        "{msg}"
    );
    assert!(f["fix"].as_str().unwrap().contains("mdeauth verify"), "{f}");
}

#[test]
fn a_failed_check_beside_keys_out_of_reach_exits_1_as_the_verdict_says() {
    // The token is expired (a real failure); the keys cannot be had.
    let dir = tempfile::tempdir().unwrap();
    let mut c = mdeauth();
    c.args(["--format", "json", "doctor", "--at", VALID_AT, "--offline"])
        .args(["--cache-dir", dir.path().to_str().unwrap()])
        .args(["--call", "GET /api/machines"])
        .arg(fixture("tokens/expired.jwt"));
    let o = run(c);
    let v = o.json();
    assert_eq!(step(&v, "signature")["unreachable"], true, "{v:#}");
    assert_eq!(v["verdict"], "fail", "{v:#}");
    assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
}

#[test]
fn refused_acquisition_fails_the_token_step_and_skips_the_rest() {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(POST).path(format!("/{TENANT}/oauth2/v2.0/token"));
        then.status(401).json_body(json!({
            "error": "invalid_client",
            "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '3f6a1b2c-9d8e-4f70-a1b2-c3d4e5f60718'.\r\nTrace ID: x\r\nCorrelation ID: y\r\nTimestamp: 2026-03-02 09:30:00Z",
            "error_codes": [7000215]
        }));
    });
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), DAEMON_APP);
    let mut cmd = mdeauth();
    cmd.env("MDEAUTH_CACHE_DIR", dir.path().join("cache"))
        .env("AZURE_CLIENT_SECRET", SECRET)
        .args(["--format", "json", "doctor", "--at", VALID_AT])
        .args(["--plan", plan.to_str().unwrap()])
        .args(["--authority-host", &server.base_url()]);
    let o = run(cmd);
    assert_eq!(o.code, 1, "{}\n{}", o.stdout, o.stderr);
    let v = o.json();
    assert_eq!(step(&v, "token")["status"], "fail");
    for s in ["decode", "signature", "identity", "permissions", "probe"] {
        assert_eq!(step(&v, s)["status"], "skip", "{s}");
    }
    assert_eq!(step(&v, "app")["status"], "skip");
    assert!(codes(&v).contains(&"token.refused".to_string()));
    assert_eq!(v["errors"][0]["code"], "AADSTS7000215", "{:#}", v["errors"]);
    o.assert_clean("no-token");

    // Human output carries the explanation the finding points to.
    let mut cmd = mdeauth();
    cmd.env("MDEAUTH_CACHE_DIR", dir.path().join("cache"))
        .env("AZURE_CLIENT_SECRET", SECRET)
        .args(["doctor", "--at", VALID_AT])
        .args(["--plan", plan.to_str().unwrap()])
        .args(["--authority-host", &server.base_url()]);
    let h = run(cmd);
    assert_eq!(h.code, 1);
    assert!(h.stdout.contains("✗ token"), "{}", h.stdout);
    assert!(h.stdout.contains("AADSTS7000215"), "{}", h.stdout);
    assert!(!h.stdout.contains("Permission chain"), "{}", h.stdout);
    h.assert_clean("no-token");
}

#[test]
fn unreachable_authority_is_a_failed_step_with_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), DAEMON_APP);
    let doctor = |format: &str| {
        let mut cmd = mdeauth();
        cmd.env("MDEAUTH_CACHE_DIR", dir.path().join("cache"))
            .env("AZURE_CLIENT_SECRET", SECRET)
            .args([
                "--format",
                format,
                "doctor",
                "--at",
                VALID_AT,
                "--timeout",
                "3",
            ])
            .args(["--plan", plan.to_str().unwrap()])
            .args(["--authority-host", "http://127.0.0.1:1"]);
        cmd
    };
    let o = run(doctor("json"));
    assert_eq!(o.code, 3, "{}\n{}", o.stdout, o.stderr);
    let v = o.json();
    assert_eq!(step(&v, "token")["status"], "fail");
    assert_eq!(step(&v, "token")["unreachable"], true);
    assert_eq!(step(&v, "decode")["status"], "skip");
    // Nothing checked failed: the verdict is unverified, as check's and scan's.
    assert_eq!(v["verdict"], "unverified", "{v:#}");
    // The planned calls are listed all the same, not checked.
    let calls = v["calls"].as_array().expect("calls listed without a token");
    let listed: Vec<&str> = calls.iter().filter_map(|c| c["call"].as_str()).collect();
    assert_eq!(listed, ["GET /api/machines", "GET /api/alerts"], "{v:#}");
    for c in calls {
        assert_eq!(c["outcome"], "not_checked", "{c:#}");
        assert_eq!(c["allowed"], serde_json::Value::Null, "{c:#}");
        assert_eq!(c["reason"], "not checked: no decoded token", "{c:#}");
        assert_eq!(c["context"], "application", "{c:#}");
    }
    assert!(
        calls[0]["accepted"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "Machine.Read.All"),
        "what the call accepts is still shown: {:#}",
        calls[0]
    );
    // The checklist's permissions step names them.
    assert_eq!(
        step(&v, "permissions")["detail"],
        "no decoded token: 2 planned call(s) not checked (GET /api/machines, GET /api/alerts)"
    );
    let human = run(doctor("human")).stdout;
    assert!(
        human.contains("2 planned call(s) not checked (GET /api/machines, GET /api/alerts)"),
        "{human}"
    );
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "doctor.unreachable" && f["severity"] == "warning"),
        "{v:#}"
    );
    o.assert_clean("no-token");
    // JUnit keeps the planned calls' cases, skipped, under the plan's name,
    // so a CI system sees the same cases as on a run that got a token.
    let x = run(doctor("junit")).stdout;
    assert!(
        x.contains(r#"<testsuite name="mdeauth doctor (Contoso export daemon)""#),
        "{x}"
    );
    for call in ["GET /api/machines", "GET /api/alerts"] {
        assert!(
            x.contains(&format!(
                r#"<testcase name="{call}" classname="mdeauth.doctor.calls">"#
            )) && x.contains("<skipped message=\"not checked: no decoded token\"/>"),
            "{call}: {x}"
        );
    }
}

#[test]
fn signing_keys_out_of_reach_make_doctor_unverified_with_a_junit_error() {
    // A given token, an empty cache and --offline: the keys cannot be had.
    let dir = tempfile::tempdir().unwrap();
    let run_as = |format: &str| {
        let mut c = mdeauth();
        c.args(["--format", format, "doctor", "--at", VALID_AT, "--offline"])
            .args(["--cache-dir", dir.path().to_str().unwrap()])
            .args(["--call", "GET /api/machines"])
            .arg(fixture("tokens/app-v1.jwt"));
        run(c)
    };
    let o = run_as("json");
    assert_eq!(o.code, 3, "{}{}", o.stdout, o.stderr);
    let v = o.json();
    assert_eq!(step(&v, "signature")["unreachable"], true, "{v:#}");
    assert_eq!(v["verdict"], "unverified", "{v:#}");
    assert!(
        codes(&v).contains(&"signature.unverified".to_string()),
        "{v:#}"
    );
    let x = run_as("junit").stdout;
    assert!(
        x.contains(r#"<error message=""#) && x.contains(r#"type="doctor.step_unreachable""#),
        "{x}"
    );
    assert!(!x.contains("<failure"), "{x}");
}

#[test]
fn given_token_offline_and_missing_config() {
    // A given token, no tenant/client: configuration passes on calls alone.
    let o = run({
        let mut c = offline_doctor();
        c.args(["--call", "GET /api/machines"])
            .arg("-")
            .write_stdin(common::fixture_text("tokens/app-v1.jwt"));
        c
    });
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    let v = o.json();
    assert_eq!(step(&v, "signature")["status"], "skip");
    assert_eq!(step(&v, "signature")["detail"], "--no-verify");
    // app-v1.jwt holds roles the call does not need: a least-privilege warning.
    assert_eq!(step(&v, "permissions")["status"], "warn");
    assert_eq!(
        step(&v, "permissions")["detail"],
        "all 1 call(s) allowed by the token"
    );
    assert!(codes(&v).contains(&"perm.unused".to_string()));
    assert_eq!(step(&v, "app")["status"], "skip");

    // No calls and nothing to acquire with: configuration fails, the rest is
    // skipped, and the exit code is a usage error's (2), with the report.
    let o = run({
        let mut c = mdeauth();
        c.args(["--format", "json", "doctor", "--at", VALID_AT]);
        c
    });
    assert_eq!(o.code, 2, "{}\n{}", o.stdout, o.stderr);
    let v = o.json();
    assert_eq!(step(&v, "configuration")["status"], "fail");
    assert_eq!(step(&v, "token")["status"], "skip");
    assert!(codes(&v).contains(&"doctor.configuration".to_string()));

    // A plan to acquire for, but no client credential: the same, with the
    // checklist (it used to be only a line on stderr).
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), DAEMON_APP);
    let o = run({
        let mut c = mdeauth();
        c.env_remove("AZURE_CLIENT_SECRET")
            .args(["--format", "json", "doctor", "--at", VALID_AT])
            .args(["--plan", plan.to_str().unwrap()]);
        c
    });
    assert_eq!(o.code, 2, "{}\n{}", o.stdout, o.stderr);
    let v = o.json();
    assert_eq!(step(&v, "configuration")["status"], "fail");
    assert_eq!(step(&v, "token")["detail"], "no client credential");
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "doctor.configuration" && f["message"] == "no client credential"),
        "{v:#}"
    );

    // An unknown call is a usage error.
    let o = run({
        let mut c = mdeauth();
        c.args(["doctor", "--call", "GET /api/alertz"]);
        c
    });
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("did you mean"), "{}", o.stderr);
}

#[test]
fn token_plan_checks_the_acquired_token_like_check() {
    let server = MockServer::start();
    let token = daemon_token();
    token_endpoint(&server, &token);
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), DAEMON_APP);
    let mut cmd = mdeauth();
    cmd.env("AZURE_CLIENT_SECRET", SECRET)
        .env("AZURE_TENANT_ID", TENANT)
        .env("AZURE_CLIENT_ID", DAEMON_APP)
        .env("AZURE_AUTHORITY_HOST", server.base_url())
        .args(["--format", "json", "token", "--at", VALID_AT])
        .args(["--plan", plan.to_str().unwrap()]);
    let o = run(cmd);
    assert_eq!(o.code, 1, "{}\n{}", o.stdout, o.stderr);
    let v = o.json();
    let calls = v["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0]["allowed"], true, "{calls:#?}");
    assert_eq!(calls[1]["allowed"], false);
    assert!(
        calls[1]["reason"]
            .as_str()
            .unwrap()
            .contains("Alert.Read.All")
    );
    assert!(codes(&v).contains(&"token.acquired".to_string()));
    o.assert_clean(&token);

    // A bad call is refused before anything is sent.
    let server2 = MockServer::start();
    let any = server2.mock(|_w, then| {
        then.status(200);
    });
    let mut cmd = mdeauth();
    cmd.env("AZURE_CLIENT_SECRET", SECRET)
        .env("AZURE_TENANT_ID", TENANT)
        .env("AZURE_CLIENT_ID", DAEMON_APP)
        .env("AZURE_AUTHORITY_HOST", server2.base_url())
        .args(["token", "--call", "GET /api/nothing-here"]);
    let o = run(cmd);
    assert_eq!(o.code, 2);
    any.assert_calls(0);
}

#[test]
fn secret_from_file_and_probe_server_error_exit_3() {
    let server = MockServer::start();
    aad_mock::Aad::start(&server, &aad_mock::jwks_fixture("jwks.json"));
    let token = daemon_token();
    let te = token_endpoint(&server, &token);
    let api = MockServer::start();
    let m = api.mock(|when, then| {
        when.method(GET).path("/api/machines");
        then.status(503).json_body(json!({"error": {"code": "ServiceUnavailable", "message": "try later", "target": "corr-503"}}));
    });
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.toml");
    std::fs::write(
        &plan,
        format!(
            "name = \"p\"\ntenant_id = \"{TENANT}\"\nclient_id = \"{DAEMON_APP}\"\ncontext = \"application\"\ncalls = [\"GET /api/machines\", \"GET /api/machines/{{id}}\"]\n"
        ),
    )
    .unwrap();
    let secret_file = dir.path().join("secret.txt");
    std::fs::write(&secret_file, format!("{SECRET}\n")).unwrap();
    for format in ["json", "human", "junit"] {
        let mut cmd = mdeauth();
        cmd.env("MDEAUTH_CACHE_DIR", dir.path().join("cache"))
            .args(["--format", format, "doctor", "--at", VALID_AT, "--probe"])
            .args(["--plan", plan.to_str().unwrap()])
            .args(["--client-secret-file", secret_file.to_str().unwrap()])
            .args(["--authority-host", &server.base_url()])
            .args(["--api-base", &api.base_url()]);
        let o = run(cmd);
        assert_eq!(o.code, 3, "{format}: {}\n{}", o.stdout, o.stderr);
        o.assert_clean(&token);
        if format == "json" {
            let v = o.json();
            assert_eq!(step(&v, "probe")["status"], "fail");
            let d = step(&v, "probe")["detail"].as_str().unwrap();
            assert!(d.contains("failed: GET /api/machines → 503"), "{d}");
            assert!(
                d.contains("not probed: GET /api/machines/{id} (placeholder)"),
                "{d}"
            );
            assert_eq!(v["doctor"]["probes"][0]["correlation_id"], "corr-503");
            assert!(codes(&v).contains(&"probe.server_error".to_string()));
        }
    }
    te.assert_calls(3);
    m.assert_calls(3);
}

#[test]
fn identity_fails_for_another_tenant_and_app() {
    let o = run({
        let mut c = offline_doctor();
        c.args(["--call", "GET /api/machines"])
            .args(["--tenant", mint::OTHER_TENANT, "--client-id", DAEMON_APP])
            .arg("-")
            .write_stdin(common::fixture_text("tokens/app-v1.jwt"));
        c
    });
    assert_eq!(o.code, 1, "{}\n{}", o.stdout, o.stderr);
    let v = o.json();
    assert_eq!(step(&v, "identity")["status"], "fail");
    let c = codes(&v);
    assert!(c.contains(&"doctor.tenant_mismatch".to_string()), "{c:?}");
    assert!(c.contains(&"doctor.app_mismatch".to_string()), "{c:?}");
    // Later steps still run: the permissions are the token's own business.
    assert_eq!(step(&v, "permissions")["status"], "warn");
}

#[test]
fn expiry_days_sets_the_app_lints_window() {
    // fixtures/apps/expiring-secret.json: a secret ending 2026-03-20, 18 days after VALID_AT.
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.toml");
    std::fs::write(
        &plan,
        "name = \"Vulnerability export\"\ncontext = \"application\"\ncalls = [\"GET /api/vulnerabilities\"]\n",
    )
    .unwrap();
    let k = common::main_key();
    let token = mint::sign(
        &k,
        &k.v1_header(),
        &mint::v1_app_claims(&["Vulnerability.Read.All"]),
    );
    let codes_with = |days: &str| {
        let out = mdeauth()
            .args(["--format", "json", "doctor", "--at", VALID_AT])
            .args(["--plan", plan.to_str().unwrap()])
            .args(["--jwks", fixture("keys/jwks.json").to_str().unwrap()])
            .args([
                "--app",
                fixture("apps/expiring-secret.json").to_str().unwrap(),
            ])
            .args(["--expiry-days", days, "-"])
            .write_stdin(token.as_str())
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        codes(&v)
    };
    assert!(codes_with("30").contains(&"app.secret_expiring".to_string()));
    assert!(!codes_with("7").contains(&"app.secret_expiring".to_string()));
}

fn write_delegated_plan(dir: &Path) -> PathBuf {
    let p = dir.join("delegated.toml");
    std::fs::write(
        &p,
        format!(
            r#"name = "Analyst portal"
tenant_id = "{TENANT}"
client_id = "{}"
context = "delegated"
credential = "user"
calls = ["GET /api/alerts"]
"#,
            mint::APP
        ),
    )
    .unwrap();
    p
}

#[test]
fn delegated_plan_without_a_token_is_not_acquired_as_app_only() {
    // Client credentials would give an app-only token, the wrong context:
    // doctor asks for a user's token instead and sends nothing.
    let server = MockServer::start();
    let any = server.mock(|_w, then| {
        then.status(200);
    });
    let dir = tempfile::tempdir().unwrap();
    let plan = write_delegated_plan(dir.path());
    let mut cmd = mdeauth();
    cmd.env("AZURE_CLIENT_SECRET", SECRET)
        .args(["--format", "json", "doctor", "--at", VALID_AT])
        .args(["--plan", plan.to_str().unwrap()])
        .args(["--authority-host", &server.base_url()]);
    let o = run(cmd);
    assert_eq!(o.code, 2, "{}\n{}", o.stdout, o.stderr);
    any.assert_calls(0);
    let v = o.json();
    assert_eq!(step(&v, "configuration")["status"], "fail");
    assert_eq!(
        step(&v, "token")["detail"],
        "no token given, and a delegated app needs a signed-in user's token"
    );
    assert_eq!(step(&v, "token")["status"], "skip");
    let f = common::finding(&v, "doctor.configuration");
    assert_eq!(
        f["message"],
        "no token given, and a delegated app needs a signed-in user's token"
    );
    assert_eq!(
        f["fix"],
        "give one (e.g. `mdeauth token --flow device-code --plan FILE --print-token | mdeauth doctor --plan FILE -`), or let doctor sign in with --flow device-code or --flow password"
    );
    o.assert_clean("no-token");
}

#[test]
fn delegated_plan_signs_in_with_the_device_code_flow_when_asked() {
    let server = MockServer::start();
    aad_mock::Aad::start(&server, &aad_mock::jwks_fixture("jwks.json"));
    let k = common::main_key();
    let token = mint::sign(
        &k,
        &k.v1_header(),
        &mint::v1_delegated_claims("Alert.Read Machine.Read"),
    );
    let start = server.mock(|when, then| {
        when.method(POST)
            .path(format!("/{TENANT}/oauth2/v2.0/devicecode"))
            .form_urlencoded_tuple("client_id", mint::APP)
            .form_urlencoded_tuple("scope", "https://api.securitycenter.microsoft.com/.default");
        then.status(200).json_body(common::devicecode_response());
    });
    let poll = server.mock(|when, then| {
        when.method(POST)
            .path(format!("/{TENANT}/oauth2/v2.0/token"))
            .form_urlencoded_tuple("grant_type", "urn:ietf:params:oauth:grant-type:device_code")
            .form_urlencoded_tuple("device_code", "DC-TEST-ONLY")
            .form_urlencoded_tuple("client_id", mint::APP);
        then.status(200).json_body(json!({
            "token_type": "Bearer", "expires_in": 3599, "access_token": token,
        }));
    });
    let dir = tempfile::tempdir().unwrap();
    let plan = write_delegated_plan(dir.path());
    let mut cmd = mdeauth();
    cmd.env("MDEAUTH_CACHE_DIR", dir.path().join("cache"))
        .env("MDEAUTH_DEVICE_POLL_MS", "2")
        .args(["--format", "json", "doctor", "--at", VALID_AT])
        .args(["--plan", plan.to_str().unwrap()])
        .args(["--flow", "device-code"])
        .args(["--authority-host", &server.base_url()]);
    let o = run(cmd);
    start.assert_calls(1);
    poll.assert_calls(1);
    // The user is told where to sign in (on stderr, so JSON stays clean).
    assert!(
        o.stderr
            .contains("enter the code ABCD-1234 to authenticate."),
        "{}",
        o.stderr
    );
    let v = o.json();
    let detail = step(&v, "token")["detail"].as_str().unwrap();
    assert!(detail.starts_with("acquired (sha256:"), "{detail}");
    assert!(
        detail.ends_with(&format!(
            "), device-code sign-in at {}/{TENANT}/oauth2/v2.0/devicecode",
            server.base_url()
        )),
        "{detail}"
    );
    for s in ["configuration", "token", "signature", "identity"] {
        assert_eq!(step(&v, s)["status"], "pass", "{s}: {:#}", step(&v, s));
    }
    // A delegated token: the user's own MDE role still limits the call.
    assert_eq!(
        step(&v, "decode")["detail"],
        "v1.0 delegated token for the MDE API, expires in 45 min"
    );
    assert_eq!(step(&v, "decode")["status"], "warn");
    assert!(codes(&v).contains(&"context.delegated".to_string()));
    assert_eq!(step(&v, "permissions")["status"], "warn", "{v:#}");
    assert_eq!(
        step(&v, "permissions")["detail"],
        "all 1 call(s) allowed by the token"
    );
    assert!(!codes(&v).contains(&"check.context_mismatch".to_string()));
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    o.assert_clean(&token);
}

#[test]
fn delegated_plan_with_the_password_grant_keeps_its_warning() {
    let server = MockServer::start();
    aad_mock::Aad::start(&server, &aad_mock::jwks_fixture("jwks.json"));
    let k = common::main_key();
    let token = mint::sign(&k, &k.v1_header(), &mint::v1_delegated_claims("Alert.Read"));
    let password = "Pw-DOCTOR-TEST-ONLY-4xZ";
    let grant = server.mock(|when, then| {
        when.method(POST)
            .path(format!("/{TENANT}/oauth2/v2.0/token"))
            .form_urlencoded_tuple("grant_type", "password")
            .form_urlencoded_tuple("client_id", mint::APP)
            .form_urlencoded_tuple("username", "alex@contoso.example")
            .form_urlencoded_tuple("password", password);
        then.status(200).json_body(json!({
            "token_type": "Bearer", "expires_in": 3599, "access_token": token,
        }));
    });
    let dir = tempfile::tempdir().unwrap();
    let plan = write_delegated_plan(dir.path());
    let pw = dir.path().join("pw.txt");
    std::fs::write(&pw, format!("{password}\n")).unwrap();
    let mut cmd = mdeauth();
    cmd.env("MDEAUTH_CACHE_DIR", dir.path().join("cache"))
        .env("AZURE_USERNAME", "alex@contoso.example")
        .args(["--format", "json", "doctor", "--at", VALID_AT])
        .args(["--plan", plan.to_str().unwrap()])
        .args(["--flow", "password"])
        .args(["--password-file", pw.to_str().unwrap()])
        .args(["--authority-host", &server.base_url()]);
    let o = run(cmd);
    grant.assert_calls(1);
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    let v = o.json();
    assert_eq!(
        step(&v, "token")["detail"]
            .as_str()
            .unwrap()
            .split_once("), ")
            .unwrap()
            .1,
        format!(
            "password grant for alex@contoso.example at {}/{TENANT}/oauth2/v2.0/token",
            server.base_url()
        )
    );
    assert_eq!(
        common::finding(&v, "token.password_grant")["severity"],
        "warning"
    );
    o.assert_clean(&token);
    assert!(!o.stdout.contains(password) && !o.stderr.contains(password));
}

/// The `doctor.not_granted` fix for daemon-ok (single-tenant, Alert.Read.All not granted).
fn not_granted_fix(token: Option<&str>) -> String {
    let o = run({
        let mut c = offline_doctor();
        c.args(["--app", fixture("apps/daemon-ok.json").to_str().unwrap()])
            .args([
                "--grants",
                fixture("apps/grants-daemon-partial.json").to_str().unwrap(),
            ])
            .args(["--call", "GET /api/machines", "--call", "GET /api/alerts"]);
        if let Some(t) = token {
            c.arg("-").write_stdin(t);
        }
        c
    });
    let v = o.json();
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "doctor.not_granted")
        .unwrap_or_else(|| panic!("no doctor.not_granted in {v:#}"))["fix"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn not_granted_links_to_the_tenant_for_a_single_tenant_app() {
    // No plan, no --tenant/--client-id: the tenant comes from the token,
    // the app from the registration.
    let fix = not_granted_fix(Some(&daemon_token()));
    assert!(
        fix.contains(&format!(
            "https://login.microsoftonline.com/{TENANT}/oauth2/authorize?prompt=consent&client_id={DAEMON_APP}"
        )),
        "{fix}"
    );
    assert!(!fix.contains("/common/"), "{fix}");
    // The az command first (it needs no redirect URI), and the link's
    // caveat.
    assert!(
        fix.contains(&format!(
            ": az ad app permission admin-consent --id {DAEMON_APP}, or the link https://"
        )),
        "{fix}"
    );
    assert!(
        fix.contains("without one it fails with AADSTS500113"),
        "{fix}"
    );
    // Who can grant: the same list consent-url prints (data/consent.json).
    let consent = mdeauth()
        .args(["--format", "json", "consent-url", "--client-id", DAEMON_APP])
        .output()
        .unwrap();
    let roles = common::json_out(&consent)["consent"]["who_can_grant"]["roles"].clone();
    let roles = roles.as_array().unwrap();
    assert!(roles.len() >= 4);
    for r in roles {
        assert!(fix.contains(r["role"].as_str().unwrap()), "{fix}");
    }
    // No tenant known at all: no /common link for a single-tenant app.
    let fix = not_granted_fix(None);
    assert!(!fix.contains("/common/"), "{fix}");
    assert!(fix.contains("AADSTS50194"), "{fix}");
    assert!(
        fix.contains(&format!(
            "mdeauth consent-url --client-id {DAEMON_APP} --tenant <tenant-id>"
        )),
        "{fix}"
    );
}

#[test]
fn the_api_cloud_named_by_cloud_must_be_the_tokens() {
    // A commercial v2 token, the US Government API picked by --cloud.
    let k = common::main_key();
    let t = mint::sign(
        &k,
        &k.v2_header(),
        &mint::v2_app_claims(&["Machine.Read.All"]),
    );
    let o = run({
        let mut c = offline_doctor();
        c.args(["--call", "GET /api/machines", "--cloud", "gcc-high"])
            .arg("-")
            .write_stdin(t.as_str());
        c
    });
    assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
    let v = o.json();
    assert_eq!(step(&v, "permissions")["status"], "fail");
    assert!(
        step(&v, "permissions")["detail"].as_str().unwrap()
            == "1 of 1 call(s) not allowed: GET /api/machines; errors: call.wrong_cloud",
        "{v}"
    );
    // The permission is in the token, yet the chain breaks: at the host.
    let row = &v["doctor"]["chain"][0];
    assert_eq!(row["in_token"], true, "{v}");
    assert_eq!(
        row["breaks"],
        "sent to api-gov.securitycenter.microsoft.us, another cloud's API (see call.wrong_cloud)",
        "{v}"
    );
    // Only the calls sent to the other cloud break there, each at its host.
    let o = run({
        let mut c = offline_doctor();
        c.args([
            "--call",
            "GET https://api-gov.securitycenter.microsoft.us/api/machines",
            "--call",
            "GET /api/machines/{id}",
        ])
        .arg("-")
        .write_stdin(t.as_str());
        c
    });
    let v = o.json();
    let chain = v["doctor"]["chain"].as_array().unwrap();
    let breaks = |call: &str| {
        chain
            .iter()
            .find(|r| r["call"] == call)
            .unwrap_or_else(|| panic!("{call}: {v}"))["breaks"]
            .clone()
    };
    assert_eq!(
        breaks("GET /api/machines"),
        "sent to api-gov.securitycenter.microsoft.us, another cloud's API (see call.wrong_cloud)",
        "{v}"
    );
    assert_eq!(breaks("GET /api/machines/{id}"), Value::Null, "{v}");
}

#[test]
fn the_chain_is_built_in_the_plans_context_not_the_tokens() {
    // A delegated token for an application plan: the permissions step fails
    // every call, and the chain shows the application permissions the calls
    // need (none in the token), not the token's delegated scopes.
    let o = run({
        let mut c = offline_doctor();
        c.args([
            "--plan",
            fixture("plans/soc-automation.toml").to_str().unwrap(),
        ])
        .arg(fixture("tokens/delegated-v1.jwt"));
        c
    });
    let v: Value = serde_json::from_str(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", o.stdout));
    assert_eq!(
        step(&v, "permissions")["status"],
        "fail",
        "{:#}",
        step(&v, "permissions")
    );
    let chain = v["doctor"]["chain"].as_array().unwrap();
    assert!(!chain.is_empty());
    for row in chain {
        let p = row["permission"].as_str().unwrap();
        assert!(p.ends_with(".All") || p == "Machine.Isolate", "{row}");
        assert_eq!(row["in_token"], false, "{row}");
        assert_eq!(row["breaks"], "not in the token", "{row}");
    }
}

#[test]
fn the_signature_step_says_in_words_why_it_failed() {
    let jwks = fixture("keys/jwks.json");
    let jwks = jwks.to_str().unwrap();
    for (token, status, detail) in [
        ("app-v1", "pass", "valid (key "),
        (
            "graph-nonce",
            "fail",
            "verifies only under Graph's header-nonce rule (key ",
        ),
        (
            "app-v1-rotated-key",
            "fail",
            "key luhVJoTd-jcORnfVWl-SaIban3M is not in ",
        ),
    ] {
        let o = run({
            let mut c = mdeauth();
            c.args([
                "--format", "json", "doctor", "--at", VALID_AT, "--jwks", jwks,
            ])
            .args([
                "--plan",
                fixture("plans/soc-automation.toml").to_str().unwrap(),
            ])
            .arg(fixture(&format!("tokens/{token}.jwt")));
            c
        });
        let v: Value =
            serde_json::from_str(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", o.stdout));
        let s = step(&v, "signature");
        assert_eq!(s["status"], status, "{token}: {s}");
        assert!(
            s["detail"].as_str().unwrap().starts_with(detail),
            "{token}: {s}"
        );
    }
}

#[test]
fn a_token_that_failed_decode_signature_or_identity_is_never_probed() {
    // Given tokens (no acquisition), keys from the fixture key set: a Graph
    // token fails decode and identity, one signed by an unknown key fails
    // the signature; neither is sent to the API.
    let api = MockServer::start();
    let any = api.mock(|when, then| {
        when.any_request();
        then.status(200).json_body(json!({"value": []}));
    });
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), DAEMON_APP);
    for (token, failed) in [
        ("tokens/graph-nonce.jwt", "decode"),
        ("tokens/app-v1-rotated-key.jwt", "signature"),
    ] {
        let mut cmd = mdeauth();
        cmd.env("MDEAUTH_CACHE_DIR", dir.path().join("cache"))
            .args(["--format", "json", "doctor", "--at", VALID_AT, "--probe"])
            .args(["--plan", plan.to_str().unwrap()])
            .args(["--jwks", fixture("keys/jwks.json").to_str().unwrap()])
            .args(["--api-base", &api.base_url()])
            .arg(fixture(token));
        let o = run(cmd);
        let v = o.json();
        assert_eq!(o.code, 1, "{token}: {}", o.stderr);
        let probe = step(&v, "probe");
        assert_eq!(probe["status"], "skip", "{token}: {probe:#}");
        assert_eq!(
            probe["detail"],
            format!("the {failed} step failed: the token is not sent to the API until it passes"),
            "{token}"
        );
    }
    any.assert_calls(0);
}

#[test]
fn a_partner_app_is_sent_to_consent_in_its_customer_s_tenant() {
    // The plan names the partner's home tenant; the token comes from a
    // customer tenant where nobody has consented yet.
    let partner = "d1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e5f6";
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("partner.toml");
    std::fs::write(
        &plan,
        format!(
            "name = \"partner\"\ntenant_id = \"{TENANT}\"\nclient_id = \"{partner}\"\ncontext = \"application\"\nmulti_tenant = true\ncredential = \"certificate\"\ncalls = [\"POST /api/advancedqueries/run\"]\n"
        ),
    )
    .unwrap();
    let grants = dir.path().join("grants.json");
    std::fs::write(&grants, r#"{"value": []}"#).unwrap();
    let mut c = mint::v1_app_claims(&[]);
    c["appid"] = json!(partner);
    c["tid"] = json!(mint::OTHER_TENANT);
    c["iss"] = json!(format!("https://sts.windows.net/{}/", mint::OTHER_TENANT));
    c.as_object_mut().unwrap().remove("roles");
    let k = common::main_key();
    let token = mint::sign(&k, &k.v1_header(), &c);
    let o = run({
        let mut cmd = offline_doctor();
        cmd.args(["--plan", plan.to_str().unwrap()])
            .args([
                "--app",
                fixture("apps/partner-multitenant.json").to_str().unwrap(),
            ])
            .args(["--grants", grants.to_str().unwrap()])
            .arg("-")
            .write_stdin(token.as_str());
        cmd
    });
    let v = o.json();
    let fix = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "doctor.not_granted")
        .unwrap_or_else(|| panic!("{v:#}"))["fix"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        fix.contains(&format!(
            "https://login.microsoftonline.com/{}/",
            mint::OTHER_TENANT
        )),
        "{fix}"
    );
    assert!(!fix.contains(TENANT), "{fix}");
}

#[test]
fn a_403_for_a_permission_the_app_already_requests_asks_for_consent_not_for_adding_it() {
    // The registration requests Machine.Read.All and Alert.Read.All; only
    // Machine.Read.All is consented, and the token holds only that.
    let api = MockServer::start();
    api.mock(|when, then| {
        when.method(GET).path("/api/machines");
        then.status(200).json_body(json!({"value": [{"id": "m1"}]}));
    });
    api.mock(|when, then| {
        when.method(GET).path("/api/alerts");
        then.status(403).json_body(json!({"error": {
            "code": "Forbidden",
            "message": "Missing application roles. API required roles: Alert.Read.All,Alert.ReadWrite.All, application roles: Machine.Read.All.",
            "target": "corr-1"
        }}));
    });
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), DAEMON_APP);
    // doctor --probe with the registration and its grants, for a token of
    // the daemon holding `roles`; the probe.forbidden finding.
    let probe_with = |roles: &[&str]| {
        let mut c = mint::v1_app_claims(roles);
        c["appid"] = json!(DAEMON_APP);
        let k = common::main_key();
        let token = mint::sign(&k, &k.v1_header(), &c);
        let o = run({
            let mut cmd = offline_doctor();
            cmd.arg("--probe")
                .args(["--plan", plan.to_str().unwrap()])
                .args(["--api-base", &api.base_url()])
                .args(["--app", fixture("apps/daemon-ok.json").to_str().unwrap()])
                .args([
                    "--grants",
                    fixture("apps/grants-daemon-partial.json").to_str().unwrap(),
                ])
                .arg("-")
                .write_stdin(token.as_str());
            cmd
        });
        assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
        let v = o.json();
        let forbidden = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"] == "probe.forbidden")
            .unwrap_or_else(|| panic!("{v:#}"))
            .clone();
        (v, forbidden)
    };
    let (v, forbidden) = probe_with(&["Machine.Read.All"]);
    assert_eq!(
        forbidden["fix"],
        "the app registration already requests Alert.Read.All; grant admin consent (doctor.not_granted gives the link), then get a new token",
        "{forbidden:#}"
    );
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "doctor.not_granted"
                && f["message"].as_str().unwrap().starts_with("Alert.Read.All")),
        "{v:#}"
    );
    // The token already holds it: consent is not what is missing, and the
    // probe's own fix stands.
    let (_, forbidden) = probe_with(&["Machine.Read.All", "Alert.Read.All"]);
    let fix = forbidden["fix"].as_str().unwrap().to_string();
    assert!(!fix.contains("already requests"), "{fix}");
}

#[test]
fn an_api_out_of_reach_makes_doctor_probe_unverified_not_failed() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), DAEMON_APP);
    let mut c = mint::v1_app_claims(&["Machine.Read.All", "Alert.Read.All"]);
    c["appid"] = json!(DAEMON_APP);
    let k = common::main_key();
    let token = mint::sign(&k, &k.v1_header(), &c);
    let run_as = |format: &str| {
        let mut cmd = mdeauth();
        cmd.args([
            "--format",
            format,
            "doctor",
            "--at",
            VALID_AT,
            "--no-verify",
        ])
        .args(["--probe", "--timeout", "3"])
        .args(["--plan", plan.to_str().unwrap()])
        .args(["--api-base", "http://127.0.0.1:1"])
        .arg("-")
        .write_stdin(token.as_str());
        run(cmd)
    };
    let o = run_as("json");
    assert_eq!(o.code, 3, "{}{}", o.stdout, o.stderr);
    let v = o.json();
    assert_eq!(step(&v, "probe")["unreachable"], true, "{v:#}");
    assert_eq!(v["verdict"], "unverified", "{v:#}");
    assert!(codes(&v).contains(&"probe.no_answer".to_string()), "{v:#}");
    let x = run_as("junit").stdout;
    assert!(x.contains("<error "), "{x}");
    assert!(!x.contains("<failure"), "{x}");
}

#[test]
fn a_domain_tenant_keeps_the_plans_tenant_check_and_garbage_is_bad_input() {
    // The plan pins another tenant; a domain in --tenant (or
    // AZURE_TENANT_ID, as CI sets it) must not switch the check off.
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("other.toml");
    std::fs::write(
        &plan,
        std::fs::read_to_string(fixture("plans/soc-automation.toml"))
            .unwrap()
            .replace(TENANT, mint::OTHER_TENANT),
    )
    .unwrap();
    let app_v1 = fixture("tokens/app-v1.jwt");
    let with = |extra: &[&str], env: Option<&str>| {
        let mut c = offline_doctor();
        c.args(extra).arg(&app_v1);
        match env {
            Some(t) => c.env("AZURE_TENANT_ID", t),
            None => c.env_remove("AZURE_TENANT_ID"),
        };
        run(c)
    };
    let plan_arg = ["--plan", plan.to_str().unwrap()];
    for (extra, env) in [
        (vec!["--tenant", "contoso.onmicrosoft.com"], None),
        (vec![], Some("contoso.onmicrosoft.com")),
    ] {
        let o = with(&[&plan_arg[..], &extra[..]].concat(), env);
        assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
        let v = o.json();
        assert_eq!(step(&v, "identity")["status"], "fail", "{v:#}");
        assert!(
            codes(&v).contains(&"doctor.tenant_mismatch".to_string()),
            "{v:#}"
        );
    }
    // Neither a GUID nor a domain: bad input.
    let o = with(&[&plan_arg[..], &["--tenant", "garbage"]].concat(), None);
    assert_eq!(o.code, 2, "{}{}", o.stdout, o.stderr);
    assert!(
        o.stderr
            .contains("tenant \"garbage\" is neither a GUID nor a domain name"),
        "{}",
        o.stderr
    );
    // Only a domain known: the tenant is not checked, and doctor says so.
    let o = with(
        &[
            "--call",
            "GET /api/machines",
            "--tenant",
            "contoso.onmicrosoft.com",
        ],
        None,
    );
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    let v = o.json();
    assert_eq!(step(&v, "identity")["status"], "warn", "{v:#}");
    assert!(
        codes(&v).contains(&"doctor.tenant_unchecked".to_string()),
        "{v:#}"
    );
}

#[test]
fn the_token_and_a_secret_cannot_both_come_from_standard_input() {
    let out = mdeauth()
        .args([
            "doctor",
            "--call",
            "GET /api/machines",
            "--client-secret-stdin",
            "-",
        ])
        .write_stdin("TEST-ONLY-secret-on-stdin\n")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("the token (-) and --client-secret-stdin both read standard input"),
        "{err}"
    );
    assert!(!err.contains("TEST-ONLY"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn a_call_the_token_does_not_allow_gets_its_fix_without_the_app_registration() {
    // No --app, no --grants: the chain cannot say where it breaks, so the
    // finding gives every step, in order, with the consent link.
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.toml");
    std::fs::write(
        &plan,
        format!(
            "name = \"soc\"\ntenant_id = \"{TENANT}\"\nclient_id = \"{}\"\ncontext = \"application\"\ncalls = [\"GET /api/machines\", \"POST /api/machines/{{id}}/offboard\"]\n",
            mint::APP
        ),
    )
    .unwrap();
    let o = run({
        let mut c = mdeauth();
        c.args(["--format", "json", "doctor", "--at", VALID_AT])
            .args(["--plan", plan.to_str().unwrap()])
            .args(["--jwks", fixture("keys/jwks.json").to_str().unwrap()])
            .arg(fixture("tokens/app-v1.jwt"));
        c
    });
    assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
    let v = o.json();
    let f = finding(&v, "doctor.not_in_token");
    assert_eq!(
        f["message"],
        "Machine.Offboard is not in the token: the app does not request it, nobody consented, or the token predates the consent (--app and --grants tell which)"
    );
    let fix = f["fix"].as_str().unwrap();
    assert!(
        fix.starts_with("add Machine.Offboard to the app's WindowsDefenderATP API permissions if missing; then admin consent: "),
        "{fix}"
    );
    assert!(
        fix.contains(&format!("https://login.microsoftonline.com/{TENANT}/oauth2/authorize?prompt=consent&client_id={}", mint::APP)),
        "{fix}"
    );
}

#[test]
fn strict_fails_a_checklist_that_passes_with_warnings() {
    // app-v1.jwt holds roles GET /api/machines does not need: the
    // permissions step warns; --strict makes that exit 1.
    let run_with = |strict: bool| {
        let mut c = offline_doctor();
        c.args(["--call", "GET /api/machines"])
            .arg("-")
            .write_stdin(common::fixture_text("tokens/app-v1.jwt"));
        if strict {
            c.arg("--strict");
        }
        run(c)
    };
    assert_eq!(run_with(false).code, 0);
    let o = run_with(true);
    assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
    assert_eq!(o.json()["verdict"], "fail");
}

#[test]
fn a_requested_permission_missing_from_the_token_asks_for_consent_not_to_add_it() {
    // The registration (--app) requests Machine.Read.All (ea8291d3...);
    // without --grants, consent or a newer token is what is left.
    let k = common::main_key();
    let mut c = mint::v1_app_claims(&["Alert.Read.All"]);
    c["appid"] = json!(DAEMON_APP);
    let token = mint::sign(&k, &k.v1_header(), &c);
    let o = run({
        let mut c = offline_doctor();
        c.args(["--call", "GET /api/machines"])
            .args(["--app", fixture("apps/daemon-ok.json").to_str().unwrap()])
            .arg("-")
            .write_stdin(token.as_str());
        c
    });
    let v = o.json();
    let f = finding(&v, "doctor.not_in_token");
    assert_eq!(
        f["message"],
        "Machine.Read.All is requested but not in the token: nobody consented, or the token predates the consent (--grants tells which)"
    );
    assert!(
        f["fix"].as_str().unwrap().starts_with("admin consent: "),
        "{f}"
    );

    // A delegated token on an application plan: the context is the cause,
    // not a missing permission.
    let o = run({
        let mut c = offline_doctor();
        c.args(["--call", "GET /api/machines", "--context", "application"])
            .arg("-")
            .write_stdin(common::fixture_text("tokens/delegated-v1.jwt"));
        c
    });
    let got = codes(&o.json());
    assert!(
        got.contains(&"check.context_mismatch".to_string()),
        "{got:?}"
    );
    assert!(!got.contains(&"doctor.not_in_token".to_string()), "{got:?}");
}

#[test]
fn a_call_not_probed_by_design_leaves_the_probe_step_passing_and_strict_warn_steps_fail_in_junit() {
    // One call probed, one not (a placeholder): not probing it is by
    // design, so the step passes, naming it, and --strict passes too.
    let k = common::main_key();
    let token = mint::sign(
        &k,
        &k.v1_header(),
        &mint::valid_now(mint::v1_app_claims(&["Machine.Read.All"])),
    );
    let api = MockServer::start();
    api.mock(|when, then| {
        when.method(GET).path("/api/machines");
        then.status(200).json_body(json!({"value": [{"id": "m1"}]}));
    });
    let run_with = |strict: bool| {
        let mut c = mdeauth();
        c.args(["--format", "json", "doctor", "--probe", "-"])
            .args([
                "--call",
                "GET /api/machines",
                "--call",
                "GET /api/machines/{id}",
            ])
            .args(["--jwks", fixture("keys/jwks.json").to_str().unwrap()])
            .args(["--api-base", &api.base_url()])
            .write_stdin(token.as_str());
        if strict {
            c.arg("--strict");
        }
        run(c)
    };
    let o = run_with(false);
    let v = o.json();
    let probe = step(&v, "probe");
    assert_eq!(probe["status"], "pass", "{}", o.stdout);
    assert!(
        probe["detail"]
            .as_str()
            .unwrap()
            .contains("not probed: GET /api/machines/{id}"),
        "{probe}"
    );
    assert_eq!(o.code, 0, "{}", o.stdout);
    let o = run_with(true);
    assert_eq!(o.code, 0, "{}", o.stdout);
    assert_eq!(o.json()["verdict"], "pass");
    // A warning step under --strict is a failing JUnit case, so a failed
    // verdict always shows one: the permissions step of a token holding
    // roles no call needs.
    let jwks = fixture("keys/jwks.json");
    let out = mdeauth()
        .args(["--format", "junit", "doctor", "--strict", "-"])
        .args(["--call", "GET /api/machines"])
        .args(["--jwks", jwks.to_str().unwrap()])
        .args(["--at", VALID_AT])
        .write_stdin(common::fixture_text("tokens/app-v1.jwt"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let xml = String::from_utf8_lossy(&out.stdout);
    assert!(xml.contains(r#"type="doctor.step_warned""#), "{xml}");
    assert!(xml.contains(r#"type="perm.unused""#), "{xml}");
}
