//! `mdeauth explain`: codes, error JSON, free text, consent links, exit codes.
mod common;

use common::{fixture, fixture_text, json_out, mdeauth};

const APP: &str = "9b0a3d8e-5c2f-4e71-a1b4-6d3e8f2c7a90";

#[test]
fn code_with_prefix_explains_exact_text() {
    let out = mdeauth()
        .args(["explain", "AADSTS700016"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(
        s.starts_with("Error AADSTS700016  UnauthorizedClient_DoesNotMatchRequest\n"),
        "{s}"
    );
    assert!(s.contains(
        "  Cause        No application with this client id exists in the directory (tenant) the request went to.\n"
    ));
    assert!(s.contains(
        "  ✗ error   aadsts.known  AADSTS700016 UnauthorizedClient_DoesNotMatchRequest: "
    ));
    // Not consent-related: no consent link.
    assert!(!s.contains("oauth2/authorize"), "{s}");
}

#[test]
fn a_redirect_url_with_an_error_is_explained_not_taken_for_a_path() {
    // What the browser lands on after a refused sign-in or consent.
    let out = mdeauth()
        .args([
            "--format",
            "json",
            "explain",
            "https://app.contoso.com/cb?error=consent_required&error_description=AADSTS65001%3a+The+user+or+administrator+has+not+consented&state=x",
        ])
        .output()
        .unwrap();
    let v = json_out(&out);
    assert_eq!(v["errors"][0]["code"], "AADSTS65001", "{v}");
    // Its description decoded: the trace and correlation ids and the time
    // read as in the error text, each up to its own parameter's end.
    let out = mdeauth()
        .args(["explain", "https://app.contoso.com/cb?error=invalid_request&error_description=AADSTS50011%3a+The+redirect+URI+does+not+match.%0d%0aTrace+ID%3a+0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e%0d%0aTimestamp%3a+2026-03-02+09%3a30%3a00Z&state=x"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("  Trace ID     0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e\n"),
        "{text}"
    );
    assert!(
        text.contains("  Timestamp    2026-03-02 09:30:00Z\n"),
        "{text}"
    );
    // A file whose name holds a space is read as the file.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("my error.txt");
    std::fs::write(&file, "AADSTS700016: Application not found").unwrap();
    let out = mdeauth().arg("explain").arg(&file).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("Error AADSTS700016"));
    // A URL with no error in it is not a file either, and a code in it is
    // not repeated.
    let out = mdeauth()
        .args([
            "explain",
            "https://app.contoso.com/cb?code=0.AXsAaBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789&state=x",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("the input holds no AADSTS code"), "{err}");
    assert!(!err.contains("AXsAaBcDeFgHiJkLmNoPqRsTuVwXyZ"), "{err}");
}

#[test]
fn a_servers_identifiers_are_shown_cut_to_a_length_none_really_has() {
    let long = "7".repeat(20_000);
    let body = serde_json::json!({
        "error": "invalid_client",
        "error_description": "AADSTS7000215: Invalid client secret provided.",
        "error_codes": [7000215],
        "trace_id": long,
        "correlation_id": long,
        "timestamp": long,
    });
    let out = mdeauth()
        .args(["explain", "-"])
        .write_stdin(body.to_string())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&format!("{}…", "7".repeat(100))), "{text}");
    assert!(!text.contains(&"7".repeat(101)), "{text}");
    assert!(text.len() < 5_000, "{}", text.len());
}

#[test]
fn bare_number_is_accepted() {
    let out = mdeauth()
        .args(["--format", "json", "explain", "7000215"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v = json_out(&out);
    assert_eq!(v["errors"][0]["code"], "AADSTS7000215");
    assert_eq!(v["errors"][0]["name"], "InvalidClientSecret");
    assert_eq!(
        v["errors"][0]["fix"],
        "Send the secret's Value, not its Secret ID. If the value is lost, create a new secret."
    );
    assert_eq!(v["findings"][0]["code"], "aadsts.known");
    assert_eq!(v["findings"][0]["severity"], "error");
    assert!(v["errors"][0].get("consent_url").is_none());
    // A space or hyphen after the prefix is the same code.
    for given in ["AADSTS 7000215", "aadsts-7000215"] {
        let out = mdeauth()
            .args(["--format", "json", "explain", given])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{given}");
        assert_eq!(json_out(&out)["errors"][0]["code"], "AADSTS7000215");
    }
    // A short number (an HTTP status, most likely) is not a code.
    for given in ["0", "401"] {
        let out = mdeauth().args(["explain", given]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{given}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.starts_with(&format!(
                "mdeauth: error: {given} is not an AADSTS code: they have five or more digits"
            )),
            "{err}"
        );
        assert!(
            err.contains("run `mdeauth probe` or `mdeauth check`"),
            "{err}"
        );
    }
}

#[test]
fn consent_code_with_client_id_prints_the_documented_link() {
    let out = mdeauth()
        .args([
            "--format",
            "json",
            "explain",
            "AADSTS65001",
            "--client-id",
            APP,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v = json_out(&out);
    let url = format!(
        "https://login.microsoftonline.com/common/oauth2/authorize?prompt=consent&client_id={APP}&response_type=code&sso_reload=true"
    );
    assert_eq!(v["errors"][0]["consent_url"], url.as_str());
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "aadsts.consent_url")
        .unwrap();
    assert_eq!(f["severity"], "info");
    assert_eq!(
        f["message"],
        format!("an administrator can grant consent at {url}").as_str()
    );
}

#[test]
fn consent_code_with_tenant_and_cloud_uses_tenant_link() {
    let out = mdeauth()
        .args([
            "--format",
            "json",
            "explain",
            "90094",
            "--client-id",
            APP,
            "--tenant",
            "contoso.onmicrosoft.us",
            "--cloud",
            "gcc-high",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v = json_out(&out);
    assert_eq!(
        v["errors"][0]["consent_url"],
        format!("https://login.microsoftonline.us/contoso.onmicrosoft.us/oauth2/authorize?prompt=consent&client_id={APP}&response_type=code&sso_reload=true").as_str()
    );
}

#[test]
fn consent_code_without_client_id_says_how_to_get_the_link() {
    let out = mdeauth().args(["explain", "650056"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(s.contains("aadsts.consent_url  where consent is what is missing, an administrator grants it with a consent link, and no client id is known here to build it"), "{s}");
    assert!(s.contains("fix: pass --client-id, or run mdeauth consent-url --client-id <app id>"));
}

#[test]
fn error_json_on_stdin() {
    let body = std::fs::read_to_string(fixture("errors/aadsts700016.json")).unwrap();
    let out = mdeauth()
        .args(["--format", "json", "explain", "-"])
        .write_stdin(body)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v = json_out(&out);
    let e = &v["errors"][0];
    assert_eq!(e["code"], "AADSTS700016");
    assert_eq!(e["trace_id"], "6b2f0c1d-0000-4000-8000-000000000001");
    assert_eq!(e["correlation_id"], "7c3e1d2e-0000-4000-8000-000000000002");
    assert_eq!(e["timestamp"], "2026-03-02 09:30:00Z");
    assert!(e["description"].as_str().unwrap().starts_with(
        "Application with identifier '11111111-2222-3333-4444-555555555555' was not found"
    ));
    assert_eq!(v["verdict"], "fail");
    let trace = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "aadsts.trace")
        .unwrap();
    assert_eq!(
        trace["message"],
        "request identifiers: trace ID 6b2f0c1d-0000-4000-8000-000000000001, correlation ID 7c3e1d2e-0000-4000-8000-000000000002, timestamp 2026-03-02 09:30:00Z"
    );
    // App not found: the consent link helps a multi-tenant app only, and
    // says so; the client id and tenant come first.
    let consent = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "aadsts.consent_url")
        .unwrap();
    assert!(
        consent["message"]
            .as_str()
            .unwrap()
            .starts_with("if the app is multi-tenant (registered in another tenant) and not yet consented here, an administrator of this tenant can grant consent at https://login.microsoftonline.com/"),
        "{consent}"
    );
    assert!(
        consent["fix"]
            .as_str()
            .unwrap()
            .starts_with("first check the client id and the tenant"),
        "{consent}"
    );
}

#[test]
fn free_text_file_finds_code_ids_and_client_id() {
    let out = mdeauth()
        .args(["--format", "json", "explain"])
        .arg(fixture("errors/msal-65001.txt"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v = json_out(&out);
    let e = &v["errors"][0];
    assert_eq!(e["code"], "AADSTS65001");
    assert_eq!(e["trace_id"], "0a1b2c3d-0000-4000-8000-000000000003");
    assert_eq!(e["correlation_id"], "1b2c3d4e-0000-4000-8000-000000000004");
    assert_eq!(e["timestamp"], "2026-03-02 09:31:00Z");
    // The client id comes from the error text itself.
    assert_eq!(
        e["consent_url"],
        format!("https://login.microsoftonline.com/common/oauth2/authorize?prompt=consent&client_id={APP}&response_type=code&sso_reload=true").as_str()
    );
    // An MSAL interactive-sign-in error: the user's consent is covered too.
    assert!(
        e["fix"]
            .as_str()
            .unwrap()
            .contains("For a signed-in user's token (MSAL's MsalUiRequiredException), the user consents to the delegated permissions"),
        "{e}"
    );
}

#[test]
fn several_codes_in_pasted_text() {
    let out = mdeauth()
        .args(["--format", "json", "explain", "-"])
        .write_stdin("first AADSTS50126: Error validating credentials. then aadsts53003 blocked")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v = json_out(&out);
    let codes: Vec<&str> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["AADSTS50126", "AADSTS53003"]);
    assert_eq!(
        v["errors"][0]["description"],
        "Error validating credentials."
    );
}

#[test]
fn unknown_code_says_so_and_keeps_the_text() {
    let out = mdeauth()
        .args(["explain", "-"])
        .write_stdin("AADSTS999999: Something new happened.")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(s.contains("aadsts.unknown  AADSTS999999 is not in mdeauth's table of codes. The error text says: Something new happened."), "{s}");
    assert!(s.contains("https://login.microsoftonline.com/error?code=999999"));
}

#[test]
fn error_json_without_aadsts_code_is_explained() {
    let out = mdeauth()
        .args(["--format", "json", "explain", "-"])
        .write_stdin(r#"{"error":"invalid_client","error_description":"bad client"}"#)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v = json_out(&out);
    assert_eq!(v["errors"][0]["code"], "invalid_client");
    assert_eq!(v["findings"][0]["code"], "aadsts.oauth_error");
    assert_eq!(v["errors"][0]["description"], "bad client");
}

#[test]
fn input_without_code_is_usage_error() {
    let out = mdeauth()
        .args(["explain", "-"])
        .write_stdin("everything is fine")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "mdeauth: error: the input holds no AADSTS code and is not a token endpoint error response; give a code such as AADSTS700016, or paste the whole error text or JSON (use - to read standard input)\n"
    );
    let out = mdeauth().args(["explain", "{\"a\":1}"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn bad_client_id_is_usage_error() {
    let out = mdeauth()
        .args(["explain", "65001", "--client-id", "not-a-guid"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn missing_file_is_usage_error() {
    let out = mdeauth()
        .args(["explain", "./no/such/error.txt"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "mdeauth: error: no such file: ./no/such/error.txt; give an existing file, the error text itself, or - to read standard input\n"
    );
}

#[test]
fn a_directory_is_named_as_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = mdeauth().arg("explain").arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        format!(
            "mdeauth: error: {} is a directory, not a file of error text; name the file that holds the error text or JSON, or paste the text itself\n",
            dir.path().display()
        )
    );
}

/// `mdeauth explain <(command)`: a pipe's path is read like a file.
#[cfg(unix)]
#[test]
fn a_pipe_named_as_the_argument_is_read() {
    let mut cmd = mdeauth();
    cmd.args(["--format", "json", "explain"]);
    let out = common::run_on_pipe(cmd, fixture_text("errors/aadsts700016.json"), 0);
    let v = json_out(&out);
    assert_eq!(v["errors"][0]["code"], "AADSTS700016", "{v}");
}

#[test]
fn oversize_input_is_described_as_error_text_not_as_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("big.txt");
    std::fs::write(&p, "a".repeat(300 * 1024)).unwrap();
    let out = mdeauth().arg("explain").arg(&p).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("larger than 256 KB; an error response is a few KB at most; pass only the error response"), "{err}");
    assert!(!err.contains("token"), "{err}");
}

#[test]
fn junit_names_each_code_of_a_repeated_finding_apart() {
    // CI systems key results on class and name: repeats would merge.
    let out = mdeauth()
        .args(["--format", "junit", "explain"])
        .arg("AADSTS700016 AADSTS65001 AADSTS999999 AADSTS999998")
        .output()
        .unwrap();
    let xml = String::from_utf8(out.stdout).unwrap();
    let report = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    let names: Vec<String> = report.test_suites[0]
        .test_cases
        .iter()
        .map(|c| c.name.as_str().to_string())
        .collect();
    assert_eq!(names.len(), 4, "{xml}");
    assert!(
        names[0].starts_with("aadsts.known: AADSTS700016 "),
        "{names:?}"
    );
    assert!(
        names[1].starts_with("aadsts.known: AADSTS65001 "),
        "{names:?}"
    );
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), names.len(), "{names:?}");
}

#[test]
fn a_pasted_mde_api_error_points_to_probe() {
    mdeauth()
        .args(["explain", "-"])
        .write_stdin(r#"{"error":{"code":"Forbidden","message":"Missing application roles. API required roles: Machine.Isolate, application roles: Machine.Read.All.","target":"x"}}"#)
        .assert()
        .code(2)
        .stdout("")
        .stderr("mdeauth: error: the input holds no AADSTS code and is not a token endpoint error response; this looks like an MDE API error (401/403): run `mdeauth probe --call 'METHOD PATH' TOKEN` (or `mdeauth check`) with the token, which reads the API's answer against it\n");
}

#[test]
fn pasted_text_with_credentials_is_explained_without_repeating_them() {
    // A trace that carries the request: the secret, a refresh token, an
    // authorization code and a bearer token must not come back, in any format.
    let jwt = common::fixture_text("tokens/app-v1.jwt");
    let sig = jwt.rsplit('.').next().unwrap().to_string();
    let secret = "FormBodySecretValue~ABCDEFG12345";
    let body = format!(
        r#"{{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. client_secret={secret} refresh_token=0.ARefreshTokenSecretValue-abcdefghij code=0.AXcodeValue Authorization: Bearer {jwt}","error_codes":[7000215]}}"#
    );
    for format in ["human", "json", "junit"] {
        let out = common::mdeauth()
            .args(["--format", format, "explain", "-"])
            .write_stdin(body.clone())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(text.contains("AADSTS7000215"), "{format}: {text}");
        for s in [
            secret,
            "0.ARefreshTokenSecretValue",
            "0.AXcodeValue",
            &sig[..20],
        ] {
            assert!(!text.contains(s), "{format} shows {s}: {text}");
        }
        assert!(text.contains("client_secret=[hidden]"), "{format}: {text}");
    }
}

#[test]
fn pasted_commands_and_code_do_not_repeat_their_passwords() {
    // Pasted with the error: the command or the code that made the request.
    // The error text is repeated in the explanation, so each must be hidden.
    let text = "AADSTS7000215: Invalid client secret provided. Ran: \
        $p = ConvertTo-SecureString 'Winter 2026!' -AsPlainText -Force; \
        az login --service-principal -u 3f6a1b2c-9d8e-4f70-a1b2-c3d4e5f60718 -p \"spaced secret\" --tenant contoso.onmicrosoft.com; \
        new ClientSecretCredential(tenantId, clientId, \"Csharp Secret\"); \
        new UsernamePasswordCredential(\"alex@contoso.com\", \"Hunter2-Passw0rd!\", \"4d7f7e2c-9a51-4c1b-8b8e-2f6a3c1d0e55\", clientId); \
        az login -u alex@contoso.com -p=Equals2pw; \
        $env:AZURE_PASSWORD = \"Spaced Env\"; \
        new ClientSecretCredential(clientSecret: \"Named~Reordered1\", tenantId: \"contoso\", clientId: \"myapp\")";
    for format in ["human", "json", "junit"] {
        let out = common::mdeauth()
            .args(["--format", format, "explain", "-"])
            .write_stdin(text)
            .output()
            .unwrap();
        let shown = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(shown.contains("AADSTS7000215"), "{format}: {shown}");
        assert!(
            shown.contains("ClientSecretCredential("),
            "{format}: {shown}"
        );
        for s in [
            "Winter",
            "2026!",
            "spaced",
            "Csharp",
            "Hunter2",
            "Equals2pw",
            "Spaced Env",
            "Named~",
        ] {
            assert!(!shown.contains(s), "{format} shows {s}: {shown}");
        }
    }
}

#[test]
fn a_declined_device_code_sign_in_under_rfc_8628s_name_is_explained() {
    let out = common::mdeauth()
        .args(["--format", "json", "explain", "-"])
        .write_stdin(
            r#"{"error":"access_denied","error_description":"The user denied the request."}"#,
        )
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["errors"][0]["code"], "access_denied", "{v}");
    assert!(
        v["errors"][0]["cause"]
            .as_str()
            .unwrap()
            .starts_with("The user or an administrator denied the request"),
        "{v}"
    );
}
