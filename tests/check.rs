//! `mdeauth check`: calls against the token's permissions, plans, least privilege, JUnit.

mod aad_mock;
mod common;

use common::mint::{self, APP, TENANT, VALID_AT};
use common::{finding, fixture, json_out, main_key, mdeauth};
use serde_json::{Value, json};

fn app_token(roles: &[&str]) -> String {
    mint::sign(
        &main_key(),
        &main_key().v1_header(),
        &mint::v1_app_claims(roles),
    )
}

fn delegated_token(scp: &str) -> String {
    mint::sign(
        &main_key(),
        &main_key().v1_header(),
        &mint::v1_delegated_claims(scp),
    )
}

/// The committed test key set, which holds the main signing key.
fn jwks() -> String {
    fixture("keys/jwks.json").to_str().unwrap().to_string()
}

/// Run `check --format json --at VALID_AT --jwks <test keys>` with the token on stdin.
fn check(token: &str, args: &[&str]) -> (i32, Value) {
    let out = mdeauth()
        .args(["check", "--format", "json", "--at", VALID_AT, "-"])
        .args(["--jwks", &jwks()])
        .args(args)
        .write_stdin(token.to_string())
        .output()
        .unwrap();
    let code = out.status.code().unwrap();
    assert!(
        code == 0 || code == 1,
        "exit {code}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (code, json_out(&out))
}

fn codes(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

fn minimal(report: &Value) -> Vec<String> {
    report["least_privilege"]["minimal"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["permission"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn app_token_with_the_right_roles_passes() {
    let t = app_token(&["Machine.Read.All", "Alert.Read.All"]);
    let (code, r) = check(
        &t,
        &[
            "--call",
            "GET /api/machines/1e5bc9d7e413ddd7902c2932e418702b84d0cc07",
            "--call",
            "GET /api/alerts",
        ],
    );
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(r["verdict"], "pass");
    let calls = r["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0]["name"], "Get machine by ID");
    assert_eq!(calls[0]["path"], "/api/machines/{id}");
    assert_eq!(
        calls[0]["call"],
        "GET /api/machines/1e5bc9d7e413ddd7902c2932e418702b84d0cc07"
    );
    assert_eq!(calls[0]["allowed"], true);
    assert_eq!(calls[0]["context"], "application");
    assert_eq!(strings(&calls[0]["satisfied_by"]), ["Machine.Read.All"]);
    assert_eq!(
        strings(&calls[0]["accepted"]),
        ["Machine.Read.All", "Machine.ReadWrite.All"]
    );
    assert_eq!(calls[0]["missing_groups"], json!([]));
    assert_eq!(calls[1]["allowed"], true);
    assert_eq!(r["least_privilege"]["unused"], json!([]));
    assert_eq!(minimal(&r), ["Alert.Read.All", "Machine.Read.All"]);
    assert!(
        r["token"]["fingerprint"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
}

#[test]
fn a_missing_role_fails_the_call_and_says_which_would_do() {
    let t = app_token(&["Machine.Read.All"]);
    let (code, r) = check(&t, &["--call", "POST /api/machines/{id}/isolate"]);
    assert_eq!(code, 1);
    assert_eq!(r["verdict"], "fail");
    let c = &r["calls"][0];
    assert_eq!(c["allowed"], false);
    assert_eq!(c["outcome"], "denied");
    assert_eq!(c["missing_groups"], json!([["Machine.Isolate"]]));
    assert_eq!(c["satisfied_by"], json!([]));
    assert_eq!(
        c["rbac"],
        "Active remediation actions (+ device group access)"
    );
    assert!(
        c["reason"]
            .as_str()
            .unwrap()
            .contains("roles lacks Machine.Isolate"),
        "{c:#}"
    );
    assert_eq!(
        c["fix"],
        "add Machine.Isolate (application permission of WindowsDefenderATP) to the app registration, grant admin consent, then get a new token: a token keeps the permissions it was issued with"
    );
    // Machine.Read.All is not needed by isolate.
    assert_eq!(
        strings(&r["least_privilege"]["unused"]),
        ["Machine.Read.All"]
    );
    assert!(codes(&r).contains(&"perm.unused".to_string()));
}

#[test]
fn read_write_satisfies_a_read_call_but_is_more_than_needed() {
    let t = app_token(&["Machine.ReadWrite.All"]);
    let (code, r) = check(&t, &["--call", "GET /api/machines"]);
    assert_eq!(code, 0);
    assert_eq!(r["calls"][0]["allowed"], true);
    assert_eq!(
        strings(&r["calls"][0]["satisfied_by"]),
        ["Machine.ReadWrite.All"]
    );
    assert_eq!(
        strings(&r["least_privilege"]["redundant"]),
        ["Machine.ReadWrite.All"]
    );
    assert_eq!(minimal(&r), ["Machine.Read.All"]);
    assert!(codes(&r).contains(&"perm.not_minimal".to_string()));
    // Where the docs accept only read-write, read is not enough.
    let t = app_token(&["Machine.Read.All"]);
    let (code, r) = check(&t, &["--call", "GET /api/users/alex/machines"]);
    assert_eq!(code, 1);
    assert_eq!(
        r["calls"][0]["missing_groups"],
        json!([["Machine.ReadWrite.All"]])
    );
}

#[test]
fn stop_and_quarantine_needs_both_groups() {
    let call =
        "POST https://api.securitycenter.microsoft.com/api/machines/1e5b/StopAndQuarantineFile";
    let (code, r) = check(
        &app_token(&["Machine.StopAndQuarantine"]),
        &["--call", call],
    );
    assert_eq!(code, 1);
    let c = &r["calls"][0];
    assert_eq!(c["allowed"], false);
    assert_eq!(strings(&c["satisfied_by"]), ["Machine.StopAndQuarantine"]);
    assert_eq!(
        c["missing_groups"],
        json!([["Machine.Read.All", "Machine.ReadWrite.All"]])
    );
    assert_eq!(
        c["application_requirements"],
        json!([
            ["Machine.StopAndQuarantine"],
            ["Machine.Read.All", "Machine.ReadWrite.All"]
        ])
    );
    let (code, r) = check(
        &app_token(&["Machine.StopAndQuarantine", "Machine.ReadWrite.All"]),
        &["--call", call],
    );
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(
        strings(&r["calls"][0]["satisfied_by"]),
        ["Machine.StopAndQuarantine", "Machine.ReadWrite.All"]
    );
    let (code, _) = check(&app_token(&["Machine.ReadWrite.All"]), &["--call", call]);
    assert_eq!(code, 1);
}

#[test]
fn delegated_tokens_use_scp_and_warn_about_the_users_role() {
    let t = delegated_token("Machine.Read Alert.ReadWrite");
    let (code, r) = check(
        &t,
        &[
            "--call",
            "GET /api/machines",
            "--call",
            "PATCH /api/alerts/da637",
            "--call",
            "POST /api/machines/{id}/isolate",
        ],
    );
    assert_eq!(code, 1);
    let calls = r["calls"].as_array().unwrap();
    assert_eq!(calls[0]["context"], "delegated");
    assert_eq!(calls[0]["allowed"], true);
    assert_eq!(strings(&calls[0]["satisfied_by"]), ["Machine.Read"]);
    assert_eq!(calls[1]["allowed"], true);
    assert_eq!(calls[2]["allowed"], false);
    assert_eq!(calls[2]["missing_groups"], json!([["Machine.Isolate"]]));
    let rbac = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "call.user_rbac")
        .expect("rbac warning");
    assert_eq!(rbac["severity"], "warning");
    assert!(
        rbac["message"]
            .as_str()
            .unwrap()
            .contains("POST /api/machines/{id}/isolate: Active remediation actions"),
        "{rbac}"
    );
    assert_eq!(r["least_privilege"]["context"], "delegated");
    assert_eq!(
        minimal(&r),
        ["Machine.Read", "Alert.ReadWrite", "Machine.Isolate"]
    );
    // An application permission name in scp does not count.
    let t = delegated_token("Machine.Read.All");
    let (code, r) = check(&t, &["--call", "GET /api/machines"]);
    assert_eq!(code, 1);
    assert_eq!(
        r["calls"][0]["missing_groups"],
        json!([["Machine.Read", "Machine.ReadWrite"]])
    );
}

#[test]
fn corrected_names_are_what_tokens_must_carry() {
    let (code, r) = check(
        &app_token(&["Url.Read.All", "Alert.ReadWrite.All"]),
        &[
            "--call",
            "GET /api/domains/contoso.com/stats",
            "--call",
            "PATCH /api/alerts/1",
        ],
    );
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(
        r["calls"][0]["doc_spelling"][0],
        json!({"context": "application", "documented": "URL.Read.All", "actual": "Url.Read.All"})
    );
    // The documentation's spelling in a token satisfies nothing.
    let (code, _) = check(
        &app_token(&["URL.Read.All"]),
        &["--call", "GET /api/domains/contoso.com/stats"],
    );
    assert_eq!(code, 1);
    let (code, r) = check(
        &delegated_token("RemediationTasks.Read"),
        &["--call", "GET /api/remediationTasks/42"],
    );
    assert_eq!(code, 0, "{r:#}");
}

#[test]
fn undocumented_permissions_are_a_warning_not_a_verdict() {
    let (code, r) = check(
        &app_token(&["Machine.Read.All"]),
        &[
            "--call",
            "GET /api/baselineProfiles",
            "--call",
            "GET /api/machines",
        ],
    );
    assert_eq!(code, 0, "{r:#}");
    let c = &r["calls"][0];
    assert_eq!(c["allowed"], Value::Null);
    assert_eq!(c["outcome"], "undocumented");
    assert_eq!(c["application_permissions"], json!([]));
    assert!(codes(&r).contains(&"call.permissions_not_documented".to_string()));
}

#[test]
fn tokens_without_permissions_or_for_another_api_fail_every_call() {
    let token = common::fixture_text("tokens/app-no-roles.jwt");
    let (code, r) = check(
        &token,
        &["--call", "GET /api/machines", "--call", "GET /api/alerts"],
    );
    assert_eq!(code, 1);
    for c in r["calls"].as_array().unwrap() {
        assert_eq!(c["allowed"], false);
        assert!(
            c["reason"]
                .as_str()
                .unwrap()
                .contains("carries no roles or scopes"),
            "{c}"
        );
    }
    // No roles, no scp, no idtyp: context none.
    let mut claims = mint::v1_app_claims(&[]);
    claims.as_object_mut().unwrap().remove("idtyp");
    let none = mint::sign(&main_key(), &main_key().v1_header(), &claims);
    let (code, r) = check(&none, &["--call", "GET /api/machines"]);
    assert_eq!(code, 1);
    assert_eq!(r["token"]["context"], "none");
    assert!(
        r["calls"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("neither roles nor scp"),
        "{r:#}"
    );
    assert!(codes(&r).contains(&"perm.none".to_string()));
    let mut claims = mint::v1_app_claims(&["Machine.Read.All"]);
    claims["aud"] = json!("https://graph.microsoft.com");
    let graph = mint::sign(&main_key(), &main_key().v1_header(), &claims);
    let (code, r) = check(&graph, &["--call", "GET /api/machines"]);
    assert_eq!(code, 1);
    assert_eq!(r["calls"][0]["allowed"], false);
    assert!(
        r["calls"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("https://graph.microsoft.com) is not the MDE API"),
        "{r:#}"
    );
    assert!(codes(&r).contains(&"aud.not_mde".to_string()));
}

#[test]
fn an_expired_token_fails_even_when_the_roles_fit() {
    let mut claims = mint::v1_app_claims(&["Machine.Read.All"]);
    claims["exp"] = json!(mint::T0 + 600);
    claims["nbf"] = json!(mint::T0);
    let t = mint::sign(&main_key(), &main_key().v1_header(), &claims);
    let (code, r) = check(&t, &["--call", "GET /api/machines"]);
    assert_eq!(code, 1);
    assert_eq!(r["calls"][0]["allowed"], true);
    assert!(codes(&r).contains(&"token.expired".to_string()));
}

#[test]
fn full_urls_on_several_hosts() {
    let t = app_token(&["Machine.Read.All"]);
    for url in [
        "GET https://api.security.microsoft.com/api/machines",
        "GET https://eu.api.security.microsoft.com/api/v1.0/machines?$top=5",
        "GET https://api-us.securitycenter.microsoft.com/api/machines",
        // GCC signs in on the commercial cloud, like this token (GCC High and
        // DoD do not: a_call_on_another_clouds_api_host_fails).
        "GET https://api-gcc.securitycenter.microsoft.us/api/machines",
        "GET https://api.securitycenter.windows.com/api/machines",
        "get https://SWA.api.security.microsoft.com/API/Machines/",
    ] {
        let (code, r) = check(&t, &["--call", url]);
        assert_eq!(code, 0, "{url}");
        assert_eq!(r["calls"][0]["name"], "List machines", "{url}");
    }
    let out = mdeauth()
        .args([
            "check",
            "--at",
            VALID_AT,
            "-",
            "--call",
            "GET https://example.org/api/machines",
        ])
        .write_stdin(t)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("example.org is not an MDE API host"));
    // In human output, one path on two hosts reads as two calls.
    let out = mdeauth()
        .args(["check", "--at", VALID_AT, "--jwks", &jwks(), "-"])
        .args([
            "--call",
            "GET https://api.security.microsoft.com/api/machines",
        ])
        .args([
            "--call",
            "GET https://api-gcc.securitycenter.microsoft.us/api/machines",
        ])
        .args(["--call", "GET /api/machines"])
        .write_stdin(app_token(&["Machine.Read.All"]))
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&out.stdout);
    for label in [
        "GET /api/machines on api.security.microsoft.com",
        "GET /api/machines on api-gcc.securitycenter.microsoft.us",
        "GET /api/machines",
    ] {
        let line = format!("  ✓ {label:<56}  allowed by Machine.Read.All\n");
        assert!(s.contains(&line), "{line:?} in\n{s}");
    }
}

#[test]
fn the_example_plan_round_trips() {
    let plan = fixture("plans/soc-automation.toml");
    let t = app_token(&["Machine.Read.All", "Alert.Read.All", "Machine.Isolate"]);
    let (code, r) = check(&t, &["--plan", plan.to_str().unwrap()]);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(r["plan"]["name"], "Contoso SOC automation");
    assert_eq!(r["plan"]["context"], "application");
    assert_eq!(r["plan"]["credential"], "certificate");
    assert_eq!(r["plan"]["multi_tenant"], false);
    assert_eq!(r["plan"]["tenant_id"], TENANT);
    assert_eq!(r["plan"]["client_id"], APP);
    let calls = r["calls"].as_array().unwrap();
    let labels: Vec<String> = calls
        .iter()
        .map(|c| {
            format!(
                "{} {}",
                c["method"].as_str().unwrap(),
                c["path"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        labels,
        [
            "GET /api/machines",
            "GET /api/alerts",
            "POST /api/machines/{id}/isolate",
            "GET /api/machineactions/{id}"
        ]
    );
    assert_eq!(calls[2]["note"], "containment playbook");
    assert!(calls.iter().all(|c| c["allowed"] == true));
    assert_eq!(
        minimal(&r),
        ["Alert.Read.All", "Machine.Read.All", "Machine.Isolate"]
    );
    // The same plan with a token of another tenant and app.
    let mut claims =
        mint::v1_app_claims(&["Machine.Read.All", "Alert.Read.All", "Machine.Isolate"]);
    claims["tid"] = json!(mint::OTHER_TENANT);
    claims["appid"] = json!("11111111-2222-4333-8444-555555555555");
    let other = mint::sign(&main_key(), &main_key().v1_header(), &claims);
    let (code, r) = check(&other, &["--plan", plan.to_str().unwrap()]);
    assert_eq!(code, 1);
    let c = codes(&r);
    assert!(c.contains(&"check.tenant_mismatch".to_string()), "{c:?}");
    assert!(c.contains(&"check.client_mismatch".to_string()), "{c:?}");
    let fix = finding(&r, "check.tenant_mismatch")["fix"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        fix.contains(&format!("`mdeauth token --tenant {}`", mint::TENANT)),
        "the fix names the plan's tenant: {fix}"
    );
}

#[test]
fn the_plans_credential_is_compared_with_how_the_tokens_client_signed_in() {
    // appidacr 1: a client secret; 2: a certificate or other assertion.
    let dir = tempfile::tempdir().unwrap();
    let token = |acr: &str| {
        let mut c = mint::v1_app_claims(&["Machine.Read.All"]);
        c["appidacr"] = json!(acr);
        mint::sign(&main_key(), &main_key().v1_header(), &c)
    };
    let plan = |cred: &str| {
        let p = dir.path().join(format!("{cred}.toml"));
        std::fs::write(
            &p,
            format!("name = \"x\"\ncontext = \"application\"\ncredential = \"{cred}\"\ncalls = [\"GET /api/machines\"]\n"),
        )
        .unwrap();
        p
    };
    for (cred, acr, mismatch) in [
        ("certificate", "1", true),
        ("managed_identity", "1", true),
        ("secret", "2", true),
        ("certificate", "2", false),
        ("secret", "1", false),
        ("federated", "2", false),
    ] {
        let p = plan(cred);
        let (_, r) = check(&token(acr), &["--plan", p.to_str().unwrap()]);
        let found = codes(&r).contains(&"check.credential_mismatch".to_string());
        assert_eq!(found, mismatch, "{cred} with appidacr {acr}: {r}");
    }
    let p = plan("certificate");
    let (_, r) = check(&token("1"), &["--plan", p.to_str().unwrap()]);
    let f = finding(&r, "check.credential_mismatch");
    assert_eq!(f["severity"], "warning");
    assert_eq!(
        f["message"],
        "the plan's credential is certificate (a certificate or other client assertion), but the token's client signed in with a client secret (appidacr/azpacr 1)"
    );
}

#[test]
fn braced_guids_in_a_plan_or_a_pin_are_the_guids() {
    // PowerShell prints [guid] values in braces; the plan loads them, so
    // they must compare equal to the token's tid and appid.
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("braced.toml");
    std::fs::write(
        &plan,
        format!(
            "name = \"braced\"\ntenant_id = \"{{{}}}\"\nclient_id = \"{{{}}}\"\ncalls = [\"GET /api/machines\"]\n",
            TENANT.to_uppercase(),
            APP
        ),
    )
    .unwrap();
    let t = app_token(&["Machine.Read.All"]);
    let (code, r) = check(&t, &["--plan", plan.to_str().unwrap()]);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(r["plan"]["client_id"], APP);
    let c = codes(&r);
    assert!(!c.iter().any(|c| c.ends_with("_mismatch")), "{c:?}");
    // verify's pins too.
    let out = mdeauth()
        .args([
            "verify",
            "--format",
            "json",
            "--at",
            VALID_AT,
            "--jwks",
            &jwks(),
        ])
        .args([
            "--tenant",
            &format!("{{{TENANT}}}"),
            "--client-id",
            &format!("{{{APP}}}"),
            "-",
        ])
        .write_stdin(t)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn plan_context_must_match_the_token() {
    let plan = fixture("plans/analyst-portal.toml");
    let t = app_token(&[
        "Alert.ReadWrite.All",
        "Machine.Read.All",
        "AdvancedQuery.Read.All",
    ]);
    let (code, r) = check(&t, &["--plan", plan.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(codes(&r).contains(&"check.context_mismatch".to_string()));
    let t = delegated_token("Alert.ReadWrite Machine.Read AdvancedQuery.Read");
    let (code, r) = check(&t, &["--plan", plan.to_str().unwrap()]);
    assert_eq!(code, 0, "{r:#}");
    // --context works without a plan.
    let (code, r) = check(
        &t,
        &["--context", "application", "--call", "GET /api/alerts"],
    );
    assert_eq!(code, 1);
    assert!(codes(&r).contains(&"check.context_mismatch".to_string()));
}

#[test]
fn multi_tenant_plans_accept_customer_tenants() {
    let plan = fixture("plans/vulnerability-export.toml");
    let t = app_token(&[
        "Vulnerability.Read.All",
        "Software.Read.All",
        "Machine.Read.All",
        "Machine.Offboard",
    ]);
    let (code, r) = check(&t, &["--plan", plan.to_str().unwrap()]);
    assert_eq!(code, 0, "{r:#}");
    assert!(codes(&r).contains(&"check.customer_tenant".to_string()));
    assert_eq!(
        strings(&r["least_privilege"]["unused"]),
        ["Machine.Offboard"]
    );
    assert_eq!(
        minimal(&r),
        [
            "Machine.Read.All",
            "Software.Read.All",
            "Vulnerability.Read.All"
        ]
    );
}

#[test]
fn unknown_calls_exit_2_with_a_suggestion() {
    let out = mdeauth()
        .args([
            "check",
            "--at",
            VALID_AT,
            "-",
            "--call",
            "POST /api/machines/abc/isolat",
        ])
        .write_stdin(app_token(&["Machine.Isolate"]))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with(
            "mdeauth: error: POST /api/machines/abc/isolat is not a documented MDE API call"
        ),
        "{err}"
    );
    assert!(
        err.contains("did you mean \"POST /api/machines/{id}/isolate\""),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");

    let out = mdeauth()
        .args([
            "check",
            "--at",
            VALID_AT,
            "-",
            "--call",
            "DELETE /api/alerts/1",
        ])
        .write_stdin(app_token(&["Alert.Read.All"]))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/api/alerts/{id} is documented only for GET, PATCH"),
        "{err}"
    );

    let out = mdeauth()
        .args(["check", "--at", VALID_AT, "-"])
        .write_stdin(app_token(&["Alert.Read.All"]))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no calls to check"));
}

#[test]
fn plan_errors_name_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("plan.toml");
    std::fs::write(
        &p,
        "name = \"x\"\ncontext = \"application\"\ncalls = [\n  \"GET /api/alerts\",\n  \"GET /api/alertz/1\",\n]\n",
    )
    .unwrap();
    let out = mdeauth()
        .args([
            "check",
            "--at",
            VALID_AT,
            "-",
            "--plan",
            p.to_str().unwrap(),
        ])
        .write_stdin(app_token(&["Alert.Read.All"]))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with(&format!("mdeauth: error: {}:5: ", p.display())),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1);

    std::fs::write(
        &p,
        "name = \"x\"\ncontext = \"daemon\"\ncalls = [\"GET /api/alerts\"]\n",
    )
    .unwrap();
    let out = mdeauth()
        .args([
            "check",
            "--at",
            VALID_AT,
            "-",
            "--plan",
            p.to_str().unwrap(),
        ])
        .write_stdin(app_token(&["Alert.Read.All"]))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with(&format!("mdeauth: error: {}:2: ", p.display())),
        "{err}"
    );
    assert!(err.contains("daemon"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1);
}

#[test]
fn junit_has_one_case_per_call_and_error_finding() {
    let out = mdeauth()
        .args([
            "check",
            "--format",
            "junit",
            "--at",
            VALID_AT,
            "-",
            "--no-verify",
            "--call",
            "GET /api/machines",
            "--call",
            "POST /api/machines/{id}/isolate",
            "--call",
            "POST /api/machines/{id}/offboard",
            "--call",
            "GET /api/baselineProfiles",
        ])
        .write_stdin(app_token(&["Machine.Read.All"]))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let xml = String::from_utf8(out.stdout).unwrap();
    let rep = quick_junit::Report::deserialize_from_str(&xml).expect("JUnit XML parses");
    assert_eq!(rep.tests, 4, "{xml}");
    assert_eq!(rep.failures, 2, "{xml}");
    assert_eq!(rep.test_suites.len(), 1);
    let names: Vec<&str> = rep.test_suites[0]
        .test_cases
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "GET /api/machines",
            "POST /api/machines/{id}/isolate",
            "POST /api/machines/{id}/offboard",
            "GET /api/baselineProfiles"
        ]
    );
    assert!(xml.contains("failures=\"2\""), "{xml}");
    assert_eq!(rep.test_suites[0].name.as_str(), "mdeauth check");
    // With a plan, the suite carries its name, so merged reports of
    // several apps stay apart.
    let out = mdeauth()
        .args([
            "check",
            "--format",
            "junit",
            "--at",
            VALID_AT,
            "-",
            "--no-verify",
        ])
        .arg("--plan")
        .arg(fixture("plans/export-daemon.toml"))
        .write_stdin(app_token(&["Machine.Read.All", "Alert.Read.All"]))
        .output()
        .unwrap();
    let rep =
        quick_junit::Report::deserialize_from_str(&String::from_utf8(out.stdout).unwrap()).unwrap();
    assert_eq!(
        rep.test_suites[0].name.as_str(),
        "mdeauth check (Contoso MDE export daemon)"
    );

    // An expired token adds a failing case for the error finding.
    let expired = common::fixture_text("tokens/expired.jwt");
    let out = mdeauth()
        .args([
            "check",
            "--format",
            "junit",
            "--at",
            VALID_AT,
            "-",
            "--jwks",
            &jwks(),
            "--call",
            "GET /api/machines",
        ])
        .write_stdin(expired)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let rep =
        quick_junit::Report::deserialize_from_str(&String::from_utf8(out.stdout).unwrap()).unwrap();
    let failing: Vec<&str> = rep.test_suites[0]
        .test_cases
        .iter()
        .filter(|c| !matches!(c.status, quick_junit::TestCaseStatus::Success { .. }))
        .map(|c| c.name.as_str())
        .collect();
    assert!(failing.contains(&"token.expired"), "{failing:?}");
}

#[test]
fn junit_names_a_repeated_call_the_same_whether_it_passes_or_fails() {
    // CI history follows a case by name: it must not change with the outcome.
    let names = |roles: &[&str]| -> Vec<String> {
        let out = mdeauth()
            .args([
                "check",
                "--format",
                "junit",
                "--at",
                VALID_AT,
                "-",
                "--no-verify",
            ])
            .args(["--call", "GET /api/machines", "--call", "GET /api/machines"])
            .write_stdin(app_token(roles))
            .output()
            .unwrap();
        let rep =
            quick_junit::Report::deserialize_from_str(&String::from_utf8(out.stdout).unwrap())
                .unwrap();
        rep.test_suites[0]
            .test_cases
            .iter()
            .filter(|c| {
                c.classname
                    .as_ref()
                    .is_some_and(|k| k.as_str().ends_with(".calls"))
            })
            .map(|c| c.name.as_str().to_string())
            .collect()
    };
    let want = ["GET /api/machines", "GET /api/machines #2"];
    assert_eq!(names(&["Machine.Read.All"]), want);
    assert_eq!(names(&["Alert.Read.All"]), want);
}

#[test]
fn junit_shows_invisible_and_control_characters_of_claims_as_escapes() {
    // A NUL, a zero-width space and a bidi override in aud: escaped as the
    // human report escapes them, never dropped or passed on raw.
    let k = main_key();
    for (raw, escaped) in [
        ('\u{0}', r"\u{0}"),
        ('\u{200b}', r"\u{200b}"),
        ('\u{202e}', r"\u{202e}"),
    ] {
        let mut c = mint::v1_app_claims(&["Machine.Read.All"]);
        c["aud"] = json!(format!("https://api.securitycenter.microsoft.com{raw}"));
        let t = mint::sign(&k, &k.v1_header(), &c);
        let out = mdeauth()
            .args(["inspect", "--format", "junit", "--at", VALID_AT, "-"])
            .write_stdin(t)
            .output()
            .unwrap();
        let xml = String::from_utf8(out.stdout).unwrap();
        assert!(!xml.contains(raw), "{escaped}: {xml}");
        assert!(
            xml.contains(&format!(
                "https://api.securitycenter.microsoft.com{escaped}"
            )),
            "{escaped}: {xml}"
        );
        quick_junit::Report::deserialize_from_str(&xml).unwrap();
    }
}

#[test]
fn junit_for_a_report_without_calls() {
    let out = mdeauth()
        .args(["inspect", "--format", "junit", "--at", VALID_AT, "-"])
        .write_stdin(app_token(&["Machine.Read.All"]))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let rep =
        quick_junit::Report::deserialize_from_str(&String::from_utf8(out.stdout).unwrap()).unwrap();
    assert_eq!((rep.tests, rep.failures), (1, 0));
}

#[test]
fn human_output_lists_calls_and_the_minimal_set() {
    let out = mdeauth()
        .args([
            "check",
            "--at",
            VALID_AT,
            "-",
            "--jwks",
            &jwks(),
            "--call",
            "GET /api/machines",
            "--call",
            "POST /api/machines/{id}/isolate",
        ])
        .write_stdin(app_token(&["Machine.ReadWrite.All"]))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("✓ GET /api/machines"), "{text}");
    assert!(text.contains("✗ POST /api/machines/{id}/isolate"), "{text}");
    assert!(
        text.contains("Machine.Isolate   Role   7e4e1300-e1b9-4102-88ba-f0cb6e6d5974"),
        "{text}"
    );
    assert!(
        text.contains("Verdict: FAIL (1 call(s) not allowed"),
        "{text}"
    );
}

// --- Signature verification (as `verify` does) -------------------------------

/// `check --format json` with the token on stdin and a private cache; any exit code.
fn check_raw(token: &str, cache: &std::path::Path, args: &[&str]) -> (i32, Value, String) {
    let mut c = mdeauth();
    c.env("MDEAUTH_CACHE_DIR", cache)
        .args(["check", "--format", "json", "--at", VALID_AT, "-"])
        .args(args)
        .write_stdin(token.to_string());
    aad_mock::run(c)
}

#[test]
fn jwks_verifies_the_signature_and_reports_each_finding_once() {
    let cache = tempfile::tempdir().unwrap();
    // Machine.Isolate is unused: a warning, so the verdict still passes.
    let t = app_token(&["Machine.Read.All", "Machine.Isolate"]);
    let (code, r, err) = check_raw(
        &t,
        cache.path(),
        &["--jwks", &jwks(), "--call", "GET /api/machines"],
    );
    assert_eq!(code, 0, "{r:#}\n{err}");
    assert_eq!(r["signature"]["status"], "valid");
    assert_eq!(r["signature"]["kid"], main_key().kid);
    assert_eq!(r["signature"]["key_source"], jwks());
    assert_eq!(r["claims_valid"], true);
    let c = codes(&r);
    assert!(!c.contains(&"signature.not_checked".to_string()), "{c:?}");
    assert!(!c.contains(&"signature.unverified".to_string()), "{c:?}");
    assert_eq!(c, ["perm.unused"]);

    // An expired token: the claim finding comes from both the offline checks and
    // validation, and is reported once.
    let expired = common::fixture_text("tokens/expired.jwt");
    let (code, r, _) = check_raw(
        &expired,
        cache.path(),
        &["--jwks", &jwks(), "--call", "GET /api/machines"],
    );
    assert_eq!(code, 1, "{r:#}");
    assert_eq!(r["signature"]["status"], "valid");
    assert_eq!(r["claims_valid"], false);
    let c = codes(&r);
    assert_eq!(
        c.iter().filter(|x| x.as_str() == "token.expired").count(),
        1,
        "{c:?}"
    );
    let mut seen = std::collections::HashSet::new();
    for f in r["findings"].as_array().unwrap() {
        assert!(
            seen.insert((f["code"].to_string(), f["message"].to_string())),
            "duplicate finding {f}"
        );
    }
}

#[test]
fn a_key_not_in_the_set_or_a_bad_signature_fails_the_check() {
    let cache = tempfile::tempdir().unwrap();
    let rotated = common::fixture_text("tokens/app-v1-rotated-key.jwt");
    let (code, r, err) = check_raw(
        &rotated,
        cache.path(),
        &["--jwks", &jwks(), "--call", "GET /api/machines"],
    );
    assert_eq!(code, 1, "{r:#}\n{err}");
    assert_eq!(r["verdict"], "fail");
    assert_eq!(r["signature"]["status"], "key_not_found");
    let f = finding(&r, "signature.key_not_found");
    assert_eq!(f["severity"], "error");
    // The permissions are still evaluated.
    assert_eq!(r["calls"][0]["allowed"], true);

    // Altered payload: the key is found but the signature does not match.
    let t = app_token(&["Machine.Read.All"]);
    let parts: Vec<&str> = t.split('.').collect();
    let forged_claims = mint::v1_app_claims(&["Machine.Read.All", "Machine.Isolate"]);
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        mint::b64(forged_claims.to_string().as_bytes()),
        parts[2]
    );
    let (code, r, _) = check_raw(
        &forged,
        cache.path(),
        &[
            "--jwks",
            &jwks(),
            "--call",
            "POST /api/machines/{id}/isolate",
        ],
    );
    assert_eq!(code, 1, "{r:#}");
    assert_eq!(r["signature"]["status"], "invalid");
    assert_eq!(finding(&r, "signature.invalid")["severity"], "error");
    assert_eq!(r["calls"][0]["allowed"], true);
}

#[test]
fn discovery_finds_the_key_or_fails_when_a_fetched_set_lacks_it() {
    let server = httpmock::MockServer::start();
    let aad = aad_mock::Aad::start(&server, &aad_mock::jwks_fixture("jwks.json"));
    let cache = tempfile::tempdir().unwrap();
    let host = server.base_url();
    let t = app_token(&["Machine.Read.All"]);
    let (code, r, err) = check_raw(
        &t,
        cache.path(),
        &["--authority-host", &host, "--call", "GET /api/machines"],
    );
    assert_eq!(code, 0, "{r:#}\n{err}");
    assert_eq!(r["signature"]["status"], "valid");
    aad.v1_meta.assert_calls(1);
    aad.v1_keys.assert_calls(1);

    // Now cached: --offline verifies without the network.
    let (code, r, _) = check_raw(
        &t,
        cache.path(),
        &[
            "--offline",
            "--authority-host",
            &host,
            "--call",
            "GET /api/machines",
        ],
    );
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(r["signature"]["status"], "valid");
    aad.v1_keys.assert_calls(1);

    // A key set that was fetched and lacks the token's key is an error, not "unverified".
    let rotated = common::fixture_text("tokens/app-v1-rotated-key.jwt");
    let (code, r, _) = check_raw(
        &rotated,
        cache.path(),
        &["--authority-host", &host, "--call", "GET /api/machines"],
    );
    assert_eq!(code, 1, "{r:#}");
    assert_eq!(r["signature"]["status"], "key_not_found");
    assert!(codes(&r).contains(&"signature.key_not_found".to_string()));
    assert!(!codes(&r).contains(&"signature.unverified".to_string()));
    // JUnit lists the keys.* notes the failure's fix points to.
    let out = mdeauth()
        .args(["--format", "junit", "check", "--at", VALID_AT, "-"])
        .args(["--authority-host", &host, "--call", "GET /api/machines"])
        .arg("--cache-dir")
        .arg(cache.path())
        .write_stdin(rotated.clone())
        .output()
        .unwrap();
    let xml = String::from_utf8_lossy(&out.stdout);
    assert!(xml.contains("see the keys.* findings"), "{xml}");
    assert!(
        xml.contains("<system-out>") && xml.contains("info keys."),
        "{xml}"
    );
}

#[test]
fn unreachable_keys_make_an_unverified_verdict_unless_a_call_fails() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let host = format!("http://127.0.0.1:{port}");
    let cache = tempfile::tempdir().unwrap();
    let t = app_token(&["Machine.Read.All"]);

    let (code, r, err) = check_raw(
        &t,
        cache.path(),
        &["--authority-host", &host, "--call", "GET /api/machines"],
    );
    // The calls are allowed, but the signature could not be checked: not a
    // pass (a gate must not pass what it could not check), exit 3.
    assert_eq!(code, 3, "{r:#}\n{err}");
    assert_eq!(r["verdict"], "unverified");
    let f = finding(&r, "signature.unverified");
    assert_eq!(f["severity"], "warning");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains(&format!("127.0.0.1:{port}")),
        "{f}"
    );
    assert!(f["fix"].as_str().unwrap().contains("--jwks"), "{f}");
    assert!(f["fix"].as_str().unwrap().contains("--offline"), "{f}");
    assert_eq!(r["signature"], Value::Null);
    assert_eq!(r["calls"][0]["allowed"], true);

    // Same keys problem, missing permission: exit 1 because of the call only.
    let (code, r, _) = check_raw(
        &t,
        cache.path(),
        &[
            "--authority-host",
            &host,
            "--call",
            "POST /api/machines/{id}/isolate",
        ],
    );
    assert_eq!(code, 1, "{r:#}");
    assert_eq!(r["calls"][0]["allowed"], false);
    assert_eq!(finding(&r, "signature.unverified")["severity"], "warning");

    // --offline with an empty cache is the same kind of environment problem.
    let (code, r, _) = check_raw(
        &t,
        cache.path(),
        &["--offline", "--call", "GET /api/machines"],
    );
    assert_eq!(code, 3, "{r:#}");
    assert!(
        finding(&r, "signature.unverified")["message"]
            .as_str()
            .unwrap()
            .contains("--offline forbids fetching it"),
        "{r:#}"
    );
    // Human and JUnit say it too.
    for (format, says) in [
        ("human", "Verdict: UNVERIFIED (0 error(s), 1 warning(s))"),
        (
            "junit",
            r#"<error message="the signature was not verified because the signing keys could not be reached"#,
        ),
    ] {
        let out = mdeauth()
            .env("MDEAUTH_CACHE_DIR", cache.path())
            .args([
                "check", "--format", format, "--color", "never", "--at", VALID_AT,
            ])
            .args(["--offline", "--call", "GET /api/machines", "-"])
            .write_stdin(t.clone())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(3), "{format}: {text}");
        assert!(text.contains(says), "{format}: {text}");
    }
}

#[test]
fn no_verify_skips_verification() {
    let cache = tempfile::tempdir().unwrap();
    // Signed by a key the default set lacks: --no-verify does not notice.
    let rotated = common::fixture_text("tokens/app-v1-rotated-key.jwt");
    let (code, r, err) = check_raw(
        &rotated,
        cache.path(),
        &["--no-verify", "--call", "GET /api/machines"],
    );
    assert_eq!(code, 0, "{r:#}\n{err}");
    assert_eq!(r["signature"], Value::Null);
    assert_eq!(r["claims_valid"], Value::Null);
    assert_eq!(finding(&r, "signature.not_checked")["severity"], "info");
    assert!(!codes(&r).contains(&"signature.unverified".to_string()));

    let (code, _, err) = check_raw(
        &rotated,
        cache.path(),
        &[
            "--no-verify",
            "--jwks",
            &jwks(),
            "--call",
            "GET /api/machines",
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--no-verify") && err.contains("--jwks"),
        "{err}"
    );
}

#[test]
fn equal_alternatives_are_never_broader() {
    let cancel = ["--call", "POST /api/machineactions/x/cancel"];
    // The held action permission is the minimal set: nothing to swap.
    let (code, r) = check(&app_token(&["Machine.Isolate"]), &cancel);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(minimal(&r), ["Machine.Isolate"]);
    let c = codes(&r);
    assert!(!c.contains(&"perm.not_minimal".to_string()), "{c:?}");
    assert!(!c.contains(&"perm.redundant".to_string()), "{c:?}");
    // Two equal ones: the second is redundant, not broader.
    let (code, r) = check(&app_token(&["Machine.Scan", "Machine.Isolate"]), &cancel);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(minimal(&r), ["Machine.Isolate"]);
    assert!(!codes(&r).contains(&"perm.not_minimal".to_string()));
    let f = finding(&r, "perm.redundant");
    assert_eq!(
        f["message"],
        "the token holds Machine.Scan, which the calls accept but do not need: Machine.Isolate, in the minimal set, also serves every call that accepts Machine.Scan; the documentation of POST /api/machineactions/{machineActionId}/cancel: Any one of the listed action permissions (presumably matching the action type; page does not say)"
    );
    assert!(
        f["fix"]
            .as_str()
            .unwrap()
            .starts_with("if the service turns out to want the permission that matches each action, keep Machine.Scan"),
        "{f}"
    );
    // A strictly narrower replacement is still called broader.
    let (_, r) = check(
        &app_token(&["Machine.ReadWrite.All"]),
        &["--call", "GET /api/machines"],
    );
    assert_eq!(
        finding(&r, "perm.not_minimal")["message"],
        "the token holds Machine.ReadWrite.All, which is broader than the calls need: Machine.Read.All is enough (the minimal set is Machine.Read.All)"
    );
}

#[test]
fn ti_readwrite_all_to_ti_readwrite_says_what_is_lost() {
    let (code, r) = check(
        &app_token(&["Ti.ReadWrite.All"]),
        &["--call", "GET /api/indicators"],
    );
    assert_eq!(code, 0, "{r:#}");
    let f = finding(&r, "perm.not_minimal");
    let msg = f["message"].as_str().unwrap();
    assert!(
        msg.starts_with("the token holds Ti.ReadWrite.All, which is broader than the calls need: Ti.ReadWrite is enough (the minimal set is Ti.ReadWrite), but Ti.ReadWrite reaches only the indicators this app submitted itself"),
        "{msg}"
    );
    let fix = f["fix"].as_str().unwrap();
    assert!(
        fix.starts_with("only if that is all the app needs: "),
        "{fix}"
    );
    assert!(fix.ends_with("; otherwise keep Ti.ReadWrite.All"), "{fix}");
}

#[test]
fn an_undocumented_call_leaves_unused_undecided() {
    // DELETE /api/indicators/{id} documents no delegated permission.
    let t = delegated_token("Ti.ReadWrite Machine.Read");
    let (_, r) = check(
        &t,
        &[
            "--context",
            "delegated",
            "--call",
            "DELETE /api/indicators/4",
        ],
    );
    let c = codes(&r);
    assert!(!c.contains(&"perm.unused".to_string()), "{c:?}");
    assert!(!c.contains(&"perm.not_minimal".to_string()), "{c:?}");
    let f = finding(&r, "perm.undecided");
    assert_eq!(f["severity"], "info");
    assert_eq!(
        f["message"],
        "whether the token needs Ti.ReadWrite, Machine.Read could not be decided: the documentation names no delegated permission for DELETE /api/indicators/{id}, which may need any of them"
    );
    assert_eq!(
        strings(&r["least_privilege"]["undecided"]),
        ["Ti.ReadWrite", "Machine.Read"]
    );
    assert_eq!(
        strings(&r["least_privilege"]["unused"]),
        Vec::<String>::new()
    );
    // A permission the minimal set needs anyway is not undecided.
    let (_, r) = check(
        &t,
        &[
            "--context",
            "delegated",
            "--call",
            "DELETE /api/indicators/4",
            "--call",
            "GET /api/machines/abc",
        ],
    );
    assert_eq!(
        strings(&r["least_privilege"]["undecided"]),
        ["Ti.ReadWrite"]
    );
    // With only documented calls, unused is said as before.
    let (_, r) = check(&t, &["--call", "GET /api/machines"]);
    assert!(codes(&r).contains(&"perm.unused".to_string()));
    assert_eq!(r["least_privilege"]["undecided"], Value::Null);
}

#[test]
fn allowed_by_says_or_for_alternatives_and_plus_for_groups() {
    let (_, r) = check(
        &app_token(&["Machine.Read.All", "Machine.ReadWrite.All"]),
        &["--call", "GET /api/machines"],
    );
    assert_eq!(
        r["calls"][0]["reason"],
        "allowed by Machine.Read.All or Machine.ReadWrite.All"
    );
    let (code, r) = check(
        &app_token(&[
            "Machine.StopAndQuarantine",
            "Machine.Read.All",
            "Machine.ReadWrite.All",
        ]),
        &["--call", "POST /api/machines/1e5b/StopAndQuarantineFile"],
    );
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(
        r["calls"][0]["reason"],
        "allowed by Machine.StopAndQuarantine + (Machine.Read.All or Machine.ReadWrite.All)"
    );
}

#[test]
fn a_token_of_the_other_context_serves_no_call() {
    let (code, r) = check(
        &app_token(&["Machine.Read.All"]),
        &["--context", "delegated", "--call", "GET /api/machines"],
    );
    assert_eq!(code, 1, "{r:#}");
    assert_eq!(
        finding(&r, "check.context_mismatch")["message"],
        "the app is meant to work in delegated context but this is an application token"
    );
    // The call is not marked allowed by a token the app is not meant to use.
    let call = &r["calls"][0];
    assert_eq!(call["allowed"], false, "{call:#}");
    assert_eq!(call["context"], "delegated");
    assert_eq!(
        call["reason"],
        "this is an application token, but the app is meant to work in delegated context"
    );
    assert_eq!(minimal(&r), ["Machine.Read"]);
    assert!(!codes(&r).contains(&"perm.unused".to_string()));
}

#[test]
fn a_call_on_another_clouds_api_host_fails() {
    let run = |token: &str, call: &str| {
        let out = mdeauth()
            .args([
                "--format",
                "json",
                "check",
                "--at",
                VALID_AT,
                "--jwks",
                &jwks(),
            ])
            .arg("-")
            .args(["--call", call])
            .write_stdin(token)
            .output()
            .unwrap();
        (out.status.code(), json_out(&out))
    };
    let k = main_key();
    let v2 = mint::sign(
        &k,
        &k.v2_header(),
        &mint::v2_app_claims(&["Alert.Read.All"]),
    );
    let mut gov = mint::v2_app_claims(&["Alert.Read.All"]);
    gov["iss"] = json!(format!("https://login.microsoftonline.us/{TENANT}/v2.0"));
    let gov = mint::sign(&k, &k.v2_header(), &gov);
    // GCC High / DoD sign in at login.microsoftonline.us; a v2 commercial token fails.
    let (code, v) = run(
        &v2,
        "GET https://api-gov.securitycenter.microsoft.us/api/alerts",
    );
    assert_eq!(code, Some(1), "{v}");
    let f = finding(&v, "call.wrong_cloud");
    assert_eq!(f["severity"], "error");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("accepts tokens signed in at login.microsoftonline.us"),
        "{f}"
    );
    // The call itself is not allowed there, though the token holds its
    // permission: a gate reading calls[].allowed must not pass it.
    let call = &v["calls"][0];
    assert_eq!(call["allowed"], false, "{call}");
    assert_eq!(call["outcome"], "denied", "{call}");
    assert_eq!(
        call["reason"],
        "api-gov.securitycenter.microsoft.us does not accept a token from this cloud (the permissions would do: allowed by Alert.Read.All)"
    );
    assert_eq!(call["fix"], f["fix"], "{call}");
    // A US Government token on either commercial host fails too.
    for host in [
        "api.security.microsoft.com",
        "api.securitycenter.microsoft.com",
    ] {
        let (code, v) = run(&gov, &format!("GET https://{host}/api/alerts"));
        assert_eq!(code, Some(1), "{host}: {v}");
        let f = finding(&v, "call.wrong_cloud");
        assert_eq!(f["severity"], "error");
        // The fix is the API of the token's own cloud: a US Government tenant
        // cannot sign in at the commercial host.
        assert!(
            f["fix"]
                .as_str()
                .unwrap()
                .starts_with("call the US Government GCC High or DoD MDE API at https://api-gov.securitycenter.microsoft.us instead"),
            "{f}"
        );
        // The other host's sign-in is named as what calling it would need,
        // not as where this token came from.
        assert!(
            f["fix"].as_str().unwrap().ends_with(&format!(
                "to call {host} you need a token from login.microsoftonline.com, which only a tenant of that cloud can get"
            )),
            "{f}"
        );
    }
    // A v1 token's sts.windows.net issuer is not known for national clouds: a warning.
    let app_v1 = common::fixture_text("tokens/app-v1.jwt");
    let (code, v) = run(
        &app_v1,
        "GET https://api-gov.securitycenter.microsoft.us/api/alerts",
    );
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(finding(&v, "call.wrong_cloud")["severity"], "warning");
    // Only a warning: the call is judged on its permissions.
    assert_eq!(v["calls"][0]["allowed"], true, "{v}");
    // GCC signs in on the commercial cloud: no finding.
    let (code, v) = run(
        &v2,
        "GET https://api-gcc.securitycenter.microsoft.us/api/alerts",
    );
    assert_eq!(code, Some(0), "{v}");
    assert!(!v.to_string().contains("call.wrong_cloud"));
    // The host without its scheme is the same host.
    let (code, v) = run(&v2, "GET api-gov.securitycenter.microsoft.us/api/alerts");
    assert_eq!(code, Some(1), "{v}");
    assert_eq!(finding(&v, "call.wrong_cloud")["severity"], "error");
    // A national URL inside a query string is not where the call goes.
    let (code, v) = run(
        &v2,
        "GET /api/alerts?$filter=title eq 'https://api-gov.securitycenter.microsoft.us/'",
    );
    assert_eq!(code, Some(0), "{v}");
    assert!(!v.to_string().contains("call.wrong_cloud"), "{v}");
}

#[test]
fn an_unused_name_windowsdefenderatp_does_not_define_is_not_advised_for_removal() {
    let t = app_token(&["Alerts.ReadWrite.All", "Machine.Read.All"]);
    let (code, r) = check(&t, &["--call", "GET /api/machines"]);
    assert_eq!(code, 0, "{r:#}");
    let unused: Vec<&Value> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "perm.unused")
        .collect();
    assert_eq!(unused.len(), 1, "{r:#}");
    assert!(
        unused[0]["message"]
            .as_str()
            .unwrap()
            .ends_with("which is not a WindowsDefenderATP application permission mdeauth knows"),
        "{}",
        unused[0]
    );
    assert!(
        unused[0]["fix"]
            .as_str()
            .unwrap()
            .starts_with("look it up with `mdeauth api --permission Alerts.ReadWrite.All`"),
        "{}",
        unused[0]
    );
}

#[test]
fn a_malformed_audience_is_named_so_in_every_call() {
    let mut c = mint::v1_app_claims(&["Machine.Read.All"]);
    c["aud"] = json!(7.5);
    let t = mint::sign(&main_key(), &main_key().v1_header(), &c);
    let (code, v) = check(&t, &["--call", "GET /api/machines"]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(
        v["calls"][0]["reason"],
        "the token's audience (malformed, not a string or a list of strings) is not the MDE API, which rejects it (401, or 403 in some field reports)",
        "{v}"
    );
}

#[test]
fn a_call_whose_docs_are_in_doubt_says_so_allowed_or_not() {
    // The current page for domain-related alerts lists only the ReadWrite
    // permissions; an earlier revision accepted Alert.Read.All. Denied by
    // the current docs, with the doubt beside it.
    let t = app_token(&["Alert.Read.All"]);
    let (code, v) = check(&t, &["--call", "GET /api/domains/contoso.com/alerts"]);
    assert_eq!(code, 1, "{v}");
    let call = &v["calls"][0];
    assert_eq!(call["allowed"], false, "{v}");
    let caveat = call["caveat"].as_str().unwrap();
    assert!(caveat.contains("earlier revision"), "{caveat}");
    assert!(caveat.contains("Alert.Read.All"), "{caveat}");
    // An ordinary call has none.
    let (_, v) = check(&t, &["--call", "GET /api/alerts"]);
    assert!(v["calls"][0].get("caveat").is_none(), "{v}");
    // Allowed, and still in doubt: which action permission cancels what.
    let t = app_token(&["Machine.Isolate"]);
    let out = mdeauth()
        .args(["check", "--at", VALID_AT, "--jwks", &jwks(), "-"])
        .args(["--call", "POST /api/machineactions/abc/cancel"])
        .write_stdin(t)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let human = String::from_utf8_lossy(&out.stdout);
    assert!(
        human.contains("caveat: the docs accept any one of the action permissions"),
        "{human}"
    );
    // `doctor` shows it after its chain.
    let out = mdeauth()
        .args(["doctor", "--no-verify", "--at", VALID_AT, "-"])
        .args(["--call", "GET /api/users/someone/machines"])
        .write_stdin(app_token(&["Machine.Read.All"]))
        .output()
        .unwrap();
    let human = String::from_utf8_lossy(&out.stdout);
    let after_chain = &human[human.find("Permission chain").unwrap()..];
    assert!(
        after_chain.contains("Caveats\n  GET /api/users/{id}/machines  the current docs list only Machine.ReadWrite.All"),
        "{human}"
    );
    // `api` shows it on the call's page.
    let out = mdeauth()
        .args(["api", "GET /api/users/someone/machines"])
        .output()
        .unwrap();
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(page.contains("Caveat"), "{page}");
    assert!(page.contains("Machine.Read.All / Machine.Read"), "{page}");
}

#[test]
fn a_signed_payload_that_is_not_json_fails_as_verify_fails_it() {
    // A genuine signature over text that is not a claims set: a failing
    // token with a report (exit 1), as verify and scan say; without the
    // signature checked there is nothing to judge (bad input, exit 2).
    let k = main_key();
    let t = mint::sign_raw(&k, &k.v1_header(), b"not a claims set");
    let (code, r) = check(&t, &["--call", "GET /api/machines"]);
    assert_eq!(code, 1, "{r:#}");
    assert_eq!(r["signature"]["status"], "valid", "{r:#}");
    assert!(codes(&r).contains(&"payload.not_json".to_string()), "{r:#}");
    assert_eq!(r["verdict"], "fail");
    let out = mdeauth()
        .args([
            "check",
            "--at",
            VALID_AT,
            "-",
            "--no-verify",
            "--call",
            "GET /api/machines",
        ])
        .write_stdin(t)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

#[test]
fn strict_makes_warnings_fail_and_junit_shows_them_either_way() {
    // app_token holds Machine.Isolate, which GET /api/machines does not
    // need: perm.unused, a warning.
    let run = |strict: bool, format: &str| {
        let mut c = mdeauth();
        c.args([
            "check",
            "--format",
            format,
            "--at",
            VALID_AT,
            "-",
            "--no-verify",
        ])
        .args(["--call", "GET /api/machines"]);
        if strict {
            c.arg("--strict");
        }
        let out = c
            .write_stdin(app_token(&["Machine.Read.All", "Machine.Isolate"]))
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8(out.stdout).unwrap())
    };
    let (code, json) = run(false, "json");
    assert_eq!(code, Some(0));
    assert!(json.contains(r#""verdict": "pass""#), "{json}");
    // Without --strict the JUnit suite passes and lists the warning.
    let (_, xml) = run(false, "junit");
    let rep = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    assert_eq!(rep.failures, 0, "{xml}");
    let out = rep.test_suites[0]
        .system_out
        .as_ref()
        .map(|s| s.as_str().to_string());
    assert!(
        out.as_deref()
            .is_some_and(|o| o.starts_with("warning perm.unused: the token holds Machine.Isolate")),
        "{xml}"
    );
    // --strict: the warning fails the gate, in every format.
    let (code, json) = run(true, "json");
    assert_eq!(code, Some(1), "{json}");
    assert!(json.contains(r#""verdict": "fail""#), "{json}");
    let (code, xml) = run(true, "junit");
    assert_eq!(code, Some(1));
    let rep = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    assert_eq!(rep.failures, 1, "{xml}");
    assert!(xml.contains(r#"type="perm.unused""#), "{xml}");
}

#[test]
fn strict_ignores_advice_and_fails_a_defect_even_when_the_keys_are_out_of_reach() {
    // A delegated token holding exactly what the call needs: its warnings
    // (context.delegated, call.user_rbac) are advice no change removes.
    let out = mdeauth()
        .args([
            "check",
            "--format",
            "json",
            "--at",
            VALID_AT,
            "-",
            "--no-verify",
            "--strict",
        ])
        .args(["--call", "GET /api/alerts"])
        .write_stdin(delegated_token("Alert.Read"))
        .output()
        .unwrap();
    let v = json_out(&out);
    assert!(
        codes(&v).contains(&"context.delegated".to_string()),
        "{v:#}"
    );
    assert_eq!(out.status.code(), Some(0), "{v:#}");
    assert_eq!(v["strict"], true);
    // An unneeded permission while the keys cannot be had (--offline, empty
    // cache): a defect found, exit 1, not the unverified 3.
    let cache = tempfile::tempdir().unwrap();
    let out = mdeauth()
        .args([
            "check",
            "--format",
            "json",
            "--at",
            VALID_AT,
            "-",
            "--strict",
            "--offline",
        ])
        .args(["--cache-dir", cache.path().to_str().unwrap()])
        .args(["--call", "GET /api/machines"])
        .write_stdin(app_token(&["Machine.Read.All", "Machine.Isolate"]))
        .output()
        .unwrap();
    let v = json_out(&out);
    assert!(
        codes(&v).contains(&"signature.unverified".to_string()),
        "{v:#}"
    );
    assert_eq!(out.status.code(), Some(1), "{v:#}");
    assert_eq!(v["verdict"], "fail");
}
