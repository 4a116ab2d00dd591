//! `mdeauth probe` against a fake MDE API on 127.0.0.1.
mod common;

use common::mint::{self, VALID_AT};
use common::{finding, fixture_text, mdeauth};
use httpmock::prelude::*;
use serde_json::{Value, json};

const CORR: &str = "0f1e2d3c-corr-4b5a-9c8d-7e6f5a4b3c2d";

fn app_token() -> String {
    fixture_text("tokens/app-v1.jwt")
}

/// An app token holding only Machine.Isolate (as in the real 403 message).
fn isolate_only() -> String {
    let k = common::main_key();
    mint::sign(
        &k,
        &k.v1_header(),
        &mint::v1_app_claims(&["Machine.Isolate"]),
    )
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

    /// Neither the token nor an Authorization header ever shows.
    fn assert_no_token(&self, token: &str) {
        let (_, _, sig) = split3(token);
        for s in [
            token,
            sig,
            "Bearer ey",
            "Authorization: ",
            "authorization: ",
        ] {
            assert!(
                !self.stdout.contains(s),
                "stdout shows {s}:\n{}",
                self.stdout
            );
            assert!(
                !self.stderr.contains(s),
                "stderr shows {s}:\n{}",
                self.stderr
            );
        }
    }
}

fn split3(t: &str) -> (&str, &str, &str) {
    let mut it = t.splitn(3, '.');
    (it.next().unwrap(), it.next().unwrap(), it.next().unwrap())
}

fn probe(server: &MockServer, token: &str, call: &str, format: &str, extra: &[&str]) -> Out {
    let out = mdeauth()
        .args(["--format", format, "probe", "-", "--at", VALID_AT])
        .args(["--call", call, "--api-base", &server.base_url()])
        .args(extra)
        .write_stdin(token)
        .output()
        .unwrap();
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn codes(v: &Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

/// Probe `call` (a GET) with `token` against an API that answers 403 with
/// the MDE error body carrying `message`: the report and its
/// `probe.forbidden` finding.
fn forbidden_with(message: &str, token: &str, call: &str) -> (Value, Value) {
    let server = MockServer::start();
    let path = call.split_once(' ').unwrap().1.to_string();
    server.mock(|when, then| {
        when.method(GET).path(path);
        then.status(403)
            .json_body(json!({"error": {"code": "Forbidden", "message": message, "target": CORR}}));
    });
    let o = probe(&server, token, call, "json", &[]);
    assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
    let v = o.json();
    let f = finding(&v, "probe.forbidden").clone();
    (v, f)
}

#[test]
fn ok_list_is_bounded_and_shows_only_counts_and_ids() {
    let server = MockServer::start();
    let t = app_token();
    let m = server.mock(|when, then| {
        when.method(GET)
            .path("/api/alerts")
            .query_param("$top", "1")
            .header("authorization", format!("Bearer {t}"));
        then.status(200).json_body(json!({
            "@odata.context": "x",
            "value": [{"id": "da637000000000000000_-1", "title": "SECRET-TITLE", "machineId": "m1"}]
        }));
    });
    let o = probe(&server, &t, "GET /api/alerts", "json", &[]);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    m.assert_calls(1);
    let v = o.json();
    assert_eq!(v["probe"]["status"], 200);
    assert_eq!(v["probe"]["items"], 1);
    assert_eq!(v["probe"]["method"], "GET");
    assert_eq!(v["probe"]["ids"], json!(["da637000000000000000_-1"]));
    assert!(
        v["probe"]["url"]
            .as_str()
            .unwrap()
            .ends_with("/api/alerts?$top=1"),
        "{}",
        v["probe"]["url"]
    );
    assert_eq!(codes(&v), ["probe.ok"]);
    assert!(!o.stdout.contains("SECRET-TITLE"));
    o.assert_no_token(&t);

    let h = probe(&server, &t, "GET /api/alerts", "human", &[]);
    assert_eq!(h.code, 0);
    assert!(h.stdout.contains("1 item(s) in value"), "{}", h.stdout);
    assert!(!h.stdout.contains("SECRET-TITLE"));
    h.assert_no_token(&t);
}

#[test]
fn user_top_is_replaced_and_query_kept() {
    let server = MockServer::start();
    let m = server.mock(|when, then| {
        when.method(GET)
            .path("/api/v1.0/machines")
            .query_param("$top", "1")
            .query_param("$filter", "healthStatus eq 'Active'");
        then.status(200).json_body(json!({"value": []}));
    });
    let o = probe(
        &server,
        &app_token(),
        "GET /api/v1.0/machines?$top=500&$filter=healthStatus eq 'Active'",
        "json",
        &[],
    );
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    m.assert_calls(1);
    assert_eq!(o.json()["probe"]["items"], 0);
}

#[test]
fn a_credential_in_the_calls_query_is_sent_but_not_shown() {
    // The query goes to the API as given; reports show its credential
    // parameters as [redacted] in every format.
    let server = MockServer::start();
    let m = server.mock(|when, then| {
        when.method(GET)
            .path("/api/alerts")
            .query_param("sig", "SASSIG123")
            .query_param("access_token", "SECRETTOK");
        then.status(200).json_body(json!({"value": []}));
    });
    for format in ["human", "json", "junit"] {
        let o = probe(
            &server,
            &app_token(),
            "GET /api/alerts?sig=SASSIG123&access_token=SECRETTOK",
            format,
            &[],
        );
        assert_eq!(o.code, 0, "{format}: {}{}", o.stdout, o.stderr);
        let all = format!("{}{}", o.stdout, o.stderr);
        assert!(
            !all.contains("SASSIG123") && !all.contains("SECRETTOK"),
            "{format}: {all}"
        );
    }
    m.assert_calls(3);
    let o = probe(
        &server,
        &app_token(),
        "GET /api/alerts?sig=SASSIG123&access_token=SECRETTOK",
        "json",
        &[],
    );
    let url = o.json()["probe"]["url"].as_str().unwrap().to_string();
    assert!(
        url.contains("sig=[redacted]&access_token=[redacted]"),
        "{url}"
    );
    // check and api list the call as given, redacted the same way.
    for cmd in [
        &["check", "--no-verify", "--at", VALID_AT, "-"][..],
        &["api"][..],
    ] {
        for format in ["json", "junit"] {
            let out = mdeauth()
                .args(["--format", format])
                .args(cmd)
                .args([
                    "--call",
                    "GET /api/alerts?sig=SASSIG123&access_token=SECRETTOK",
                ])
                .write_stdin(app_token())
                .output()
                .unwrap();
            let all = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(all.contains("sig=[redacted]"), "{cmd:?} {format}: {all}");
            assert!(
                !all.contains("SASSIG123") && !all.contains("SECRETTOK"),
                "{cmd:?} {format}: {all}"
            );
        }
    }
}

#[test]
fn unauthorized_explains_expiry_from_offline_checks() {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(GET).path("/api/alerts");
        then.status(401).json_body(json!({"error": {"code": "Unauthorized", "message": "Authorization has been denied for this request.", "target": CORR}}));
    });
    let t = fixture_text("tokens/expired.jwt");
    let o = probe(&server, &t, "GET /api/alerts", "json", &[]);
    assert_eq!(o.code, 1);
    let v = o.json();
    assert_eq!(v["probe"]["status"], 401);
    assert_eq!(v["probe"]["correlation_id"], CORR);
    let f = finding(&v, "probe.unauthorized");
    let msg = f["message"].as_str().unwrap();
    assert!(msg.contains("likely cause: expired"), "{msg}");
    assert!(msg.contains(CORR), "{msg}");
    assert!(codes(&v).contains(&"token.expired".to_string()));
    o.assert_no_token(&t);
}

/// An app token valid now (the fixtures are valid at VALID_AT only).
fn valid_now() -> String {
    let k = common::main_key();
    let c = mint::valid_now(mint::v1_app_claims(&["Alert.Read.All"]));
    mint::sign(&k, &k.v1_header(), &c)
}

#[test]
fn unauthorized_says_what_www_authenticate_says() {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(GET).path("/api/alerts");
        then.status(401)
            .header(
                "WWW-Authenticate",
                r#"Bearer authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="invalid_token", error_description="The audience 'https://graph.microsoft.com' is invalid""#,
            )
            .body("");
    });
    let t = valid_now();
    let out = mdeauth()
        .args([
            "--format",
            "json",
            "probe",
            "-",
            "--call",
            "GET /api/alerts",
        ])
        .args(["--api-base", &server.base_url()])
        .write_stdin(t.as_str())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["probe"]["auth_error"],
        "invalid_token: The audience 'https://graph.microsoft.com' is invalid"
    );
    let f = finding(&v, "probe.unauthorized");
    let msg = f["message"].as_str().unwrap();
    assert!(
        msg.ends_with("the API did not accept the token; the API says invalid_token: The audience 'https://graph.microsoft.com' is invalid"),
        "{msg}"
    );
    assert!(!msg.contains("signature"), "{msg}");
    // The token's audience is the MDE API's already: asking for the same
    // audience again would loop; the host is what to check.
    assert!(
        f["fix"]
            .as_str()
            .unwrap()
            .starts_with("the token's audience is the MDE API's already: check the API host"),
        "{f}"
    );
    // The human report shows the challenge too.
    let out = mdeauth()
        .args(["probe", "-", "--call", "GET /api/alerts"])
        .args(["--api-base", &server.base_url()])
        .write_stdin(t.as_str())
        .output()
        .unwrap();
    let human = String::from_utf8_lossy(&out.stdout);
    assert!(
        human.contains("www-authenticate")
            && human
                .contains("invalid_token: The audience 'https://graph.microsoft.com' is invalid"),
        "{human}"
    );
}

#[test]
fn unauthorized_judges_expiry_when_the_request_was_sent_not_at_the_report_clock() {
    // Valid at --at, long expired when the request goes out.
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(GET).path("/api/alerts");
        then.status(401)
            .header(
                "WWW-Authenticate",
                r#"Bearer error="invalid_token", error_description="The token is expired""#,
            )
            .body("");
    });
    let o = probe(&server, &app_token(), "GET /api/alerts", "json", &[]);
    assert_eq!(o.code, 1);
    let msg = finding(&o.json(), "probe.unauthorized")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        msg.contains("likely cause: expired when the request was sent: exp 2026-03-02T10:15:00Z is before now (the report's other checks are judged at 2026-03-02T09:30:00Z)"),
        "{msg}"
    );
    assert!(
        msg.contains("(WWW-Authenticate: invalid_token: The token is expired)"),
        "{msg}"
    );
    assert!(!msg.contains("signature"), "{msg}");
}

#[test]
fn throttled_or_failing_api_still_shows_the_token_s_own_errors() {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(GET).path("/api/alerts");
        then.status(429).header("Retry-After", "42").body("");
    });
    server.mock(|when, then| {
        when.method(GET).path("/api/machines");
        then.status(503).body("");
    });
    let t = fixture_text("tokens/expired.jwt");
    let o = probe(&server, &t, "GET /api/alerts", "json", &[]);
    assert_eq!(o.code, 1);
    assert!(
        codes(&o.json()).contains(&"token.expired".to_string()),
        "{}",
        o.stdout
    );
    // The service failed, but the token fails whatever it would answer:
    // exit 1 and verdict fail, not the service's exit 3 (unverified).
    let o = probe(&server, &t, "GET /api/machines", "json", &[]);
    assert_eq!(o.code, 1);
    let v = o.json();
    assert_eq!(v["verdict"], "fail");
    assert!(codes(&v).contains(&"token.expired".to_string()), "{v:#}");
    let f = finding(&v, "probe.server_error");
    assert!(
        f["fix"]
            .as_str()
            .unwrap()
            .starts_with("the service failed; the token's own errors (below)"),
        "{f}"
    );
}

#[test]
fn unauthorized_names_an_issuer_that_does_not_fit_the_tenant() {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(GET).path("/api/alerts");
        then.status(401).body("");
    });
    let k = common::main_key();
    let mut c = mint::v1_app_claims(&["Alert.Read.All"]);
    c["iss"] = json!(mint::v1_issuer(mint::OTHER_TENANT));
    let t = mint::sign(&k, &k.v1_header(), &c);
    let o = probe(&server, &t, "GET /api/alerts", "json", &[]);
    assert_eq!(o.code, 1);
    let v = o.json();
    let msg = finding(&v, "probe.unauthorized")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        msg.contains("its issuer is not what Azure AD writes for its tenant (tid) and version"),
        "{msg}"
    );
    assert!(!msg.contains("passes the offline checks"), "{msg}");
    assert!(codes(&v).contains(&"issuer.tenant_mismatch".to_string()));
}

#[test]
fn unauthorized_wrong_audience() {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(GET).path("/api/alerts");
        then.status(401).body("");
    });
    let k = common::main_key();
    let mut c = mint::v1_app_claims(&["Alert.Read.All"]);
    c["aud"] = json!("https://graph.microsoft.com");
    let t = mint::sign(&k, &k.v1_header(), &c);
    let o = probe(&server, &t, "GET /api/alerts", "json", &[]);
    assert_eq!(o.code, 1);
    let msg = finding(&o.json(), "probe.unauthorized")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(msg.contains("wrong audience"), "{msg}");
}

#[test]
fn forbidden_current_message_compared_with_token_and_catalogue() {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(GET).path("/api/machines");
        then.status(403).json_body(json!({"error": {"code": "Forbidden", "message": "Missing application roles. API required roles: Machine.Read.All,Machine.ReadWrite.All, application roles: Machine.Isolate.", "target": CORR}}));
    });
    let t = isolate_only();
    let o = probe(&server, &t, "GET /api/machines", "json", &[]);
    assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
    let v = o.json();
    assert_eq!(v["probe"]["status"], 403);
    assert_eq!(v["probe"]["error_code"], "Forbidden");
    assert_eq!(
        v["probe"]["required_roles"],
        json!(["Machine.Read.All", "Machine.ReadWrite.All"])
    );
    assert_eq!(v["probe"]["token_roles"], json!(["Machine.Isolate"]));
    let f = finding(&v, "probe.forbidden");
    let msg = f["message"].as_str().unwrap();
    assert!(
        msg.contains(
            "needs one of Machine.Read.All, Machine.ReadWrite.All; the token holds Machine.Isolate"
        ),
        "{msg}"
    );
    let fix = f["fix"].as_str().unwrap();
    assert!(fix.contains("Machine.Read.All"), "{fix}");
    assert!(fix.contains("oauth2/authorize?prompt=consent"), "{fix}");
    // The catalogue agrees with the API here: no difference reported.
    assert!(!codes(&v).contains(&"probe.catalog_differs".to_string()));
    // The API counted the roles the token carries: nothing differs.
    assert!(!codes(&v).contains(&"probe.roles_differ".to_string()));

    let h = probe(&server, &t, "GET /api/machines", "human", &[]);
    assert_eq!(h.code, 1);
    assert!(h.stdout.contains(CORR), "{}", h.stdout);
    assert!(h.stdout.contains("token has"), "{}", h.stdout);
    h.assert_no_token(&t);
}

#[test]
fn forbidden_names_roles_the_api_did_not_count() {
    // The token carries Machine.Read.All, Alert.Read.All and Machine.Isolate;
    // the API's message counts only Alert.Read.All.
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(GET).path("/api/machines");
        then.status(403).json_body(json!({"error": {"code": "Forbidden", "message": "Missing application roles. API required roles: Machine.Read.All,Machine.ReadWrite.All, application roles: Alert.Read.All.", "target": CORR}}));
    });
    let o = probe(&server, &app_token(), "GET /api/machines", "json", &[]);
    assert_eq!(o.code, 1);
    let v = o.json();
    let msg = finding(&v, "probe.roles_differ")["message"]
        .as_str()
        .unwrap();
    assert!(
        msg.contains("the API says the token holds Alert.Read.All, but its roles claim lists"),
        "{msg}"
    );
    // The token probe sent is the one checked: the API lags behind.
    assert_eq!(
        finding(&v, "probe.forbidden")["fix"],
        "the API did not count a role the token carries: it can lag behind a recent grant (allow up to an hour, then retry with a new token); if it persists, check the tenant's advanced features in the Defender portal"
    );
}

#[test]
fn forbidden_older_message() {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(GET).path("/api/machines");
        then.status(403).json_body(json!({"error": {"code": "Forbidden", "message": "The application does not have any of the required application permissions (Machine.Read.All, Machine.ReadWrite.All) to access the resource.", "target": CORR}}));
    });
    let o = probe(&server, &isolate_only(), "GET /api/machines", "json", &[]);
    assert_eq!(o.code, 1);
    let v = o.json();
    assert_eq!(
        v["probe"]["required_roles"],
        json!(["Machine.Read.All", "Machine.ReadWrite.All"])
    );
    assert_eq!(v["probe"]["correlation_id"], CORR);
    assert!(codes(&v).contains(&"probe.forbidden".to_string()));
}

#[test]
fn forbidden_disabled_feature() {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(GET).path("/api/machines");
        then.status(403).json_body(json!({"error": {"code": "DisabledFeature", "message": "Live response is disabled.", "target": CORR}}));
    });
    let o = probe(&server, &app_token(), "GET /api/machines", "json", &[]);
    assert_eq!(o.code, 1);
    assert_eq!(codes(&o.json()), ["probe.disabled_feature"]);
}

#[test]
fn not_found() {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(GET).path("/api/machines/1e5bc9d7e413ddd7902c2932e418702b84d0cc07");
        then.status(404).json_body(json!({"error": {"code": "ResourceNotFound", "message": "Machine 1e5b was not found", "target": CORR}}));
    });
    let o = probe(
        &server,
        &app_token(),
        "GET /api/machines/1e5bc9d7e413ddd7902c2932e418702b84d0cc07",
        "json",
        &[],
    );
    assert_eq!(o.code, 1);
    let v = o.json();
    assert_eq!(v["probe"]["status"], 404);
    assert!(
        v["probe"]["url"].as_str().unwrap().ends_with("cc07"),
        "single entity: no $top"
    );
    assert!(
        finding(&v, "probe.not_found")["message"]
            .as_str()
            .unwrap()
            .contains(CORR)
    );
}

#[test]
fn throttled_says_when_and_does_not_retry() {
    let server = MockServer::start();
    let m = server.mock(|when, then| {
        when.method(GET).path("/api/alerts");
        then.status(429)
            .header("Retry-After", "42")
            .json_body(json!({"error": {"code": "TooManyRequests", "message": "Rate limit is exceeded.", "target": CORR}}));
    });
    let o = probe(&server, &app_token(), "GET /api/alerts", "json", &[]);
    assert_eq!(o.code, 1);
    m.assert_calls(1);
    let v = o.json();
    assert_eq!(v["probe"]["retry_after"], "42");
    let f = finding(&v, "probe.throttled");
    assert!(
        f["fix"].as_str().unwrap().contains("retry after 42 s"),
        "{f}"
    );
    assert!(f["message"].as_str().unwrap().contains("100/min"), "{f}");
}

#[test]
fn server_error_exits_3() {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(GET).path("/api/alerts");
        then.status(500).json_body(json!({"error": {"code": "InternalServerError", "message": "Something went wrong", "target": CORR}}));
    });
    let t = app_token();
    let o = probe(&server, &t, "GET /api/alerts", "json", &[]);
    assert_eq!(o.code, 3);
    let v = o.json();
    assert_eq!(v["probe"]["correlation_id"], CORR);
    assert!(codes(&v).contains(&"probe.server_error".to_string()));
    // The API failed: nothing about the token was learnt. Unverified, and
    // in JUnit an error (a test that could not run), not a failure.
    assert_eq!(v["verdict"], "unverified", "{v}");
    let x = probe(&server, &t, "GET /api/alerts", "junit", &[]);
    assert_eq!(x.code, 3);
    // One case for the call, an error of type probe.no_answer, which tells
    // the API's finding (not a case again).
    assert!(
        x.stdout.contains(r#"type="probe.no_answer""#) && x.stdout.contains("probe.server_error: "),
        "{}",
        x.stdout
    );
    assert!(x.stdout.contains(r#"errors="1""#), "{}", x.stdout);
    assert!(
        x.stdout.contains("<error ") && !x.stdout.contains("<failure"),
        "{}",
        x.stdout
    );
    assert!(
        x.stdout.contains(r#"name="probe GET /api/alerts""#),
        "{}",
        x.stdout
    );
    o.assert_no_token(&t);
}

#[test]
fn write_call_refused_without_sending() {
    let server = MockServer::start();
    let any = server.mock(|_when, then| {
        then.status(200);
    });
    let t = app_token();
    let o = probe(
        &server,
        &t,
        "POST /api/machines/1e5bc9d7e413ddd7902c2932e418702b84d0cc07/isolate",
        "json",
        &[],
    );
    assert_eq!(o.code, 2, "{}{}", o.stdout, o.stderr);
    assert!(o.stderr.contains("--allow-write"), "{}", o.stderr);
    any.assert_calls(0);
    o.assert_no_token(&t);
}

#[test]
fn write_call_sent_with_allow_write() {
    let server = MockServer::start();
    let m = server.mock(|when, then| {
        when.method(POST)
            .path("/api/machines/abc/isolate")
            .json_body(json!({"Comment": "test", "IsolationType": "Full"}));
        then.status(201)
            .json_body(json!({"id": "action-1", "type": "Isolate"}));
    });
    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("body.json");
    std::fs::write(&body, r#"{"Comment": "test", "IsolationType": "Full"}"#).unwrap();
    let o = probe(
        &server,
        &app_token(),
        "POST /api/machines/abc/isolate",
        "json",
        &["--allow-write", "--body", body.to_str().unwrap()],
    );
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    m.assert_calls(1);
    assert_eq!(o.json()["probe"]["ids"], json!(["action-1"]));
}

#[test]
fn placeholders_and_unknown_calls_are_usage_errors() {
    let server = MockServer::start();
    let any = server.mock(|_when, then| {
        then.status(200);
    });
    let o = probe(
        &server,
        &app_token(),
        "GET /api/machines/{id}/alerts",
        "json",
        &[],
    );
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("placeholder {id}"), "{}", o.stderr);
    // The README's and the docs' own <id> form, on a write call allowed to run.
    let o = probe(
        &server,
        &app_token(),
        "POST /api/machines/<id>/isolate",
        "json",
        &["--allow-write"],
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("placeholder <id>"), "{}", o.stderr);
    let o = probe(&server, &app_token(), "GET /api/alertz", "json", &[]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("did you mean"), "{}", o.stderr);
    assert!(o.stderr.contains("GET /api/alerts"), "{}", o.stderr);
    any.assert_calls(0);
}

#[test]
fn non_mde_host_and_plain_http_refused() {
    let o = mdeauth()
        .args([
            "probe",
            "-",
            "--call",
            "GET https://evil.example/api/alerts",
        ])
        .write_stdin(app_token())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let o = mdeauth()
        .args(["probe", "-", "--call", "GET /api/alerts"])
        .args(["--api-base", "http://api.example.com"])
        .write_stdin(app_token())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("plain http"));
    let o = mdeauth()
        .args(["probe", "-", "--call", "GET /api/alerts"])
        .args(["--cloud", "gcc-high", "--region", "eu"])
        .write_stdin(app_token())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--region applies to the commercial cloud")
    );
}

#[test]
fn network_failure_exits_3() {
    let o = mdeauth()
        .args(["probe", "-", "--call", "GET /api/alerts"])
        .args(["--api-base", "http://127.0.0.1:1", "--timeout", "3"])
        .write_stdin(app_token())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3));
    assert!(!String::from_utf8_lossy(&o.stderr).contains(&app_token()));
    // No answer is still an outcome with a probe section: what was sent
    // where, no status; the human report is laid out as for any answer.
    let o = mdeauth()
        .args(["--format", "json", "probe", "-", "--at", VALID_AT])
        .args([
            "--call",
            "GET /api/alerts",
            "--api-base",
            "http://127.0.0.1:1",
        ])
        .write_stdin(app_token())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["probe"]["call"], "GET /api/alerts");
    assert_eq!(v["probe"]["url"], "http://127.0.0.1:1/api/alerts?$top=1");
    assert_eq!(v["probe"]["status"], Value::Null);
    let o = mdeauth()
        .args(["probe", "-", "--at", VALID_AT])
        .args([
            "--call",
            "GET /api/alerts",
            "--api-base",
            "http://127.0.0.1:1",
        ])
        .write_stdin(app_token())
        .output()
        .unwrap();
    let human = String::from_utf8_lossy(&o.stdout);
    assert!(
        human.contains("Probe GET http://127.0.0.1:1/api/alerts?$top=1"),
        "{human}"
    );
    assert!(!human.contains("Claims"), "{human}");
}

#[test]
fn delegated_forbidden_and_junit() {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(GET).path("/api/machines");
        then.status(403).json_body(
            json!({"error": {"code": "Forbidden", "message": "Forbidden", "target": CORR}}),
        );
    });
    // delegated-v1.jwt carries scp; GET /api/machines accepts Machine.Read / Machine.ReadWrite.
    let t = fixture_text("tokens/delegated-v1.jwt");
    let o = probe(&server, &t, "GET /api/machines", "json", &[]);
    assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
    let v = o.json();
    // No roles in the message: the catalogue's delegated permissions are used.
    assert_eq!(
        v["probe"]["required_roles"],
        json!(["Machine.Read", "Machine.ReadWrite"])
    );
    assert!(!v["probe"]["token_roles"].as_array().unwrap().is_empty());
    assert!(codes(&v).contains(&"probe.forbidden".to_string()));
    o.assert_no_token(&t);

    let j = probe(&server, &t, "GET /api/machines", "junit", &[]);
    assert_eq!(j.code, 1);
    // The 403 is told by the call's case, once.
    assert!(
        j.stdout.contains("probe.forbidden: ") && j.stdout.contains(r#"failures="1""#),
        "{}",
        j.stdout
    );
    // The call's own case, named as when it passes.
    assert!(
        j.stdout.contains(
            r#"<testcase name="probe GET /api/machines" classname="mdeauth.probe.calls">"#
        ) && j.stdout.contains(r#"type="probe.fail""#),
        "{}",
        j.stdout
    );
    j.assert_no_token(&t);
}

#[test]
fn an_api_that_echoes_the_token_does_not_make_the_report_show_it() {
    let token = app_token();
    let (_, _, sig) = split3(&token);
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(GET).path("/api/alerts");
        then.status(400)
            .header("x-correlation-id", format!("Bearer {token}"))
            .json_body(json!({"error": {
                "code": format!("InvalidRequest {}", &token[..150]),
                "message": format!("bad request, header was Bearer {token}; signature {sig}"),
                "target": format!("Bearer {token}"),
            }}));
    });
    for format in ["human", "json", "junit"] {
        let o = probe(&server, &token, "GET /api/alerts", format, &[]);
        assert_eq!(o.code, 1, "{format}: {}", o.stderr);
        o.assert_no_token(&token);
        // Not even the first 150 characters, or a run of 16 of them.
        assert!(!o.stdout.contains(&token[..150]), "{format}: {}", o.stdout);
        assert!(!o.stdout.contains(&token[60..76]), "{format}: {}", o.stdout);
        assert!(o.stdout.contains("[token]"), "{format}: {}", o.stdout);
    }
    // The header is scrubbed too when the body names no correlation id.
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(GET).path("/api/alerts");
        then.status(400)
            .header("x-correlation-id", format!("Bearer {token}"))
            .json_body(json!({"error": {"code": "InvalidRequest", "message": "bad"}}));
    });
    let o = probe(&server, &token, "GET /api/alerts", "json", &[]);
    o.assert_no_token(&token);
    assert_eq!(o.json()["probe"]["correlation_id"], "Bearer [token]");
    // A cut echo that ends in an ellipsis: the dots are not part of it.
    for echo in [
        format!("sig {}... bad", &sig[..40]),
        format!("Token rejected: {}...", &token[..token.len() - 30]),
    ] {
        let server = MockServer::start();
        server.mock(|when, then| {
            when.method(GET).path("/api/alerts");
            then.status(400)
                .json_body(json!({"error": {"code": "InvalidRequest", "message": echo}}));
        });
        let o = probe(&server, &token, "GET /api/alerts", "json", &[]);
        o.assert_no_token(&token);
        assert!(!o.stdout.contains(&sig[..40]), "{}", o.stdout);
        assert!(!o.stdout.contains(&token[60..76]), "{}", o.stdout);
        assert!(o.stdout.contains("[token]..."), "{}", o.stdout);
    }
}

#[test]
fn a_redirect_to_another_host_is_refused_not_passed() {
    // The bearer token is not sent across hosts, so the other host's 200
    // would say nothing about the token.
    let elsewhere = MockServer::start();
    let there = elsewhere.mock(|when, then| {
        when.any_request();
        then.status(200)
            .json_body(json!({"value": [{"id": "stolen"}]}));
    });
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(GET).path("/api/alerts");
        then.status(302)
            .header("Location", elsewhere.url("/api/alerts?$top=1"));
    });
    let o = probe(&server, &app_token(), "GET /api/alerts", "human", &[]);
    assert_eq!(o.code, 3, "{}", o.stdout);
    there.assert_calls(0);
    // No answer from the API: a report that says why (exit 3).
    assert!(o.stdout.contains("probe.no_answer"), "{}", o.stdout);
    assert!(
        o.stdout.contains("redirect to another host"),
        "{}",
        o.stdout
    );
    assert!(!o.stdout.contains("probe.ok"), "{}", o.stdout);
}

#[test]
fn an_empty_or_non_object_200_to_a_get_is_not_a_pass() {
    for (body, says) in [
        ("", "body is empty"),
        ("[1,2,3]", "body is JSON but not an object"),
    ] {
        let server = MockServer::start();
        server.mock(|when, then| {
            when.method(GET).path("/api/alerts");
            then.status(200).body(body);
        });
        let o = probe(&server, &app_token(), "GET /api/alerts", "json", &[]);
        assert_eq!(o.code, 3, "{body:?}: {}", o.stdout);
        let f = finding(&o.json(), "probe.unexpected_body").clone();
        assert!(f["message"].as_str().unwrap().contains(says), "{f}");
    }
}

#[test]
fn a_403_html_page_is_a_proxy_s_answer_not_a_permission_verdict() {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(GET).path("/api/alerts");
        then.status(403)
            .header("Content-Type", "text/html")
            .body("<html><body><h1>Access Denied</h1>Request blocked by policy.</body></html>");
    });
    let o = probe(&server, &app_token(), "GET /api/alerts", "json", &[]);
    assert_eq!(o.code, 1);
    let v = o.json();
    let f = finding(&v, "probe.forbidden");
    let msg = f["message"].as_str().unwrap();
    assert!(
        msg.ends_with("with an HTML page, not the MDE API's JSON error: a proxy or web application firewall between this machine and the API probably refused the request"),
        "{msg}"
    );
    assert!(!msg.contains("which the API accepts"), "{msg}");
    assert!(!codes(&v).contains(&"probe.roles_differ".to_string()));
}

#[test]
fn an_oversized_error_body_keeps_its_status() {
    // The status is the answer; the body (3 MB, over the 2 MB cap) only
    // explains it, so it is read as far as the cap.
    let server = MockServer::start();
    let big = format!(
        "{{\"error\":{{\"code\":\"Forbidden\",\"message\":\"{}\"}}}}",
        "x".repeat(3 << 20)
    );
    server.mock(|when, then| {
        when.method(GET).path("/api/alerts");
        then.status(403).body(big.clone());
    });
    let o = probe(&server, &app_token(), "GET /api/alerts", "json", &[]);
    assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
    let v = o.json();
    assert_eq!(v["probe"]["status"], 403);
    let f = finding(&v, "probe.forbidden");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("answered 403 Forbidden to GET /api/alerts (its body, over 2048 KB, was read only that far)"),
        "{f}"
    );
}

#[test]
fn a_retry_after_out_of_range_is_not_repeated_as_advice() {
    // An HTTP date an hour ahead is advice; one years ahead is not; one
    // already past allows a retry now (RFC 9110), with a word on the clock.
    let soon = chrono::Utc::now() + chrono::Duration::hours(1);
    let soon_http = soon.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let soon_said = format!("retry after {}", soon.format("%Y-%m-%dT%H:%M:%SZ"));
    for (value, says) in [
        ("9223372036854775807", "is not a usable delay"),
        ("-5", "is not a usable delay"),
        (soon_http.as_str(), soon_said.as_str()),
        ("Fri, 31 Dec 9999 23:59:59 GMT", "is not a usable delay"),
        (
            "Thu, 01 Jan 1970 00:00:00 GMT",
            "it may be retried now: its Retry-After date 1970-01-01T00:00:00Z has passed",
        ),
    ] {
        let server = MockServer::start();
        server.mock(|when, then| {
            when.method(GET).path("/api/alerts");
            then.status(429).header("Retry-After", value).json_body(
                json!({"error": {"code": "TooManyRequests", "message": "Rate limit is exceeded."}}),
            );
        });
        let o = probe(&server, &app_token(), "GET /api/alerts", "json", &[]);
        assert_eq!(o.code, 1, "{value}: {}", o.stderr);
        let f = finding(&o.json(), "probe.throttled").clone();
        let fix = f["fix"].as_str().unwrap();
        assert!(fix.contains(says), "{value}: {fix}");
        assert!(!fix.contains("not before -"), "{value}: {fix}");
    }
}

#[test]
fn a_403_to_a_token_for_another_api_blames_its_audience() {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(GET).path("/api/machines");
        then.status(403).json_body(json!({"error": {"code": "Forbidden", "message": "Missing application roles. API required roles: Machine.Read.All,Machine.ReadWrite.All, application roles: .", "target": CORR}}));
    });
    let t = fixture_text("tokens/graph-nonce.jwt");
    let o = probe(&server, &t, "GET /api/machines", "json", &[]);
    assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
    let v = o.json();
    let f = finding(&v, "probe.forbidden");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("the token is not for the MDE API (aud https://graph.microsoft.com)"),
        "{f}"
    );
    assert!(
        f["fix"]
            .as_str()
            .unwrap()
            .starts_with("request a token for https://api.securitycenter.microsoft.com/.default"),
        "{f}"
    );
    assert!(
        !f["fix"]
            .as_str()
            .unwrap()
            .contains("add the WindowsDefenderATP"),
        "{f}"
    );
    assert!(codes(&v).contains(&"aud.not_mde".to_string()), "{v:#}");
}

#[test]
fn a_delegated_403_names_the_delegated_permission_not_the_api_s_role() {
    // The API's message names application roles, also to a delegated token.
    // delegated-v1.jwt holds Machine.Read (which GET /api/machines accepts
    // delegated), Alert.ReadWrite and AdvancedQuery.Read.
    let t = fixture_text("tokens/delegated-v1.jwt");
    let (v, f) = forbidden_with(
        "Missing application roles. API required roles: Machine.Read.All,Machine.ReadWrite.All, application roles: Alert.Read.All.",
        &t,
        "GET /api/machines",
    );
    assert!(
        f["message"].as_str().unwrap().ends_with(
            "the token holds Machine.Read, which the API accepts, so the permission is there: the signed-in user is limited another way (MDE role, device-group scope) or the feature is off"
        ),
        "{f}"
    );
    // The user, the MDE role permission the call's documentation names,
    // and where to give it.
    assert_eq!(
        f["fix"],
        "give the signed-in user (alex@contoso.example) an MDE role with View Data (results scoped to device groups) and access to the device groups involved (Defender portal: Settings > Endpoints > Roles), then retry; the token itself is fine for this call"
    );
    // Application names say nothing about a delegated token's scopes, and
    // they match the catalogue's application permissions.
    let c = codes(&v);
    assert!(!c.contains(&"probe.roles_differ".to_string()), "{v:#}");
    assert!(!c.contains(&"probe.catalog_differs".to_string()), "{v:#}");
    assert_eq!(
        v["probe"]["required_roles"],
        json!(["Machine.Read", "Machine.ReadWrite"])
    );
    // A scope the token lacks: the delegated permission, not the API's role.
    let (_, f) = forbidden_with(
        "Missing application roles. API required roles: Vulnerability.Read.All, application roles: .",
        &t,
        "GET /api/vulnerabilities",
    );
    assert!(
        f["fix"].as_str().unwrap().starts_with(
            "add the WindowsDefenderATP delegated permission Vulnerability.Read to the app registration"
        ),
        "{f}"
    );
}

#[test]
fn a_delegated_403_on_a_call_with_no_delegated_permission_says_to_use_an_app_token() {
    // The catalogue documents only an application permission for this call:
    // no scope can allow it, so the API's names stand and the fix is the
    // app context, not an MDE role for the user.
    let (v, f) = forbidden_with(
        "Missing application roles. API required roles: Vulnerability.Read.All, application roles: .",
        &fixture_text("tokens/delegated-v1.jwt"),
        "GET /api/machines/abc123/getmissingkbs",
    );
    assert_eq!(
        v["probe"]["required_roles"],
        json!(["Vulnerability.Read.All"])
    );
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("the call needs one of Vulnerability.Read.All; the token holds "),
        "{f}"
    );
    assert!(
        f["fix"].as_str().unwrap().contains(
            "has no delegated permission: call it with an application token (app context)"
        ),
        "{f}"
    );
    assert!(
        !codes(&v).contains(&"probe.roles_differ".to_string()),
        "{v:#}"
    );
}

#[test]
fn a_delegated_403_without_a_message_on_an_app_only_call_says_to_use_an_app_token() {
    let (_, f) = forbidden_with(
        "Forbidden",
        &fixture_text("tokens/delegated-v1.jwt"),
        "GET /api/machines/abc/getmissingkbs",
    );
    let fix = f["fix"].as_str().unwrap();
    assert!(
        fix.starts_with("GET /api/machines/{machineId}/getmissingkbs has no delegated permission: call it with an application token"),
        "{fix}"
    );
    assert!(!fix.contains("the token itself is fine"), "{fix}");
    assert!(!fix.contains("admin consent"), "{fix}");
}

#[test]
fn a_403_fix_names_the_least_privileged_of_the_roles_the_api_lists() {
    // The API lists ReadWrite first; a read call needs only Read.
    let (_, f) = forbidden_with(
        "The application does not have any of the required application permissions (Alert.ReadWrite.All, Alert.Read.All) to access the resource.",
        &fixture_text("tokens/app-no-roles.jwt"),
        "GET /api/alerts",
    );
    assert!(
        f["fix"].as_str().unwrap().starts_with(
            "add the WindowsDefenderATP application permission Alert.Read.All to the app registration"
        ),
        "{f}"
    );
}
