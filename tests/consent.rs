//! `mdeauth consent-url`: byte-exact links for every cloud, validation.
mod common;

use common::{json_out, mdeauth};

const APP: &str = "00000000-0000-0000-0000-000000000000";
const TENANT: &str = "4d7f7e2c-9a51-4c1b-8b8e-2f6a3c1d0e55";
const SCOPE: &str = "https://api.securitycenter.microsoft.com/.default";

fn urls(args: &[&str]) -> serde_json::Value {
    let out = mdeauth()
        .args(["--format", "json", "consent-url"])
        .args(args)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json_out(&out)["consent"].clone()
}

#[test]
fn default_is_the_seed_document_link_byte_for_byte() {
    let out = mdeauth()
        .args(["consent-url", "--client-id", APP])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(s.contains("\n    https://login.microsoftonline.com/common/oauth2/authorize?prompt=consent&client_id=00000000-0000-0000-0000-000000000000&response_type=code&sso_reload=true\n"), "{s}");
    assert!(s.contains("  - Cloud Application Administrator: consent to any permission of any API except Microsoft Graph app roles, so including WindowsDefenderATP application permissions\n"));
    assert!(s.contains("consent.redirect"));
    assert!(
        s.contains("Microsoft's v2 admin-consent page lists redirect_uri as required"),
        "{s}"
    );
    // With a tenant, its own link comes first: /common fails for a
    // single-tenant app.
    let out = mdeauth()
        .args([
            "consent-url",
            "--client-id",
            APP,
            "--tenant",
            "contoso.onmicrosoft.com",
        ])
        .output()
        .unwrap();
    let s = String::from_utf8(out.stdout).unwrap();
    let tenant = s.find("/contoso.onmicrosoft.com/oauth2/authorize").unwrap();
    let common = s.find("/common/oauth2/authorize").unwrap();
    assert!(tenant < common, "{s}");
    assert!(s.contains("a single-tenant app gets AADSTS50194"), "{s}");
    let c = urls(&["--client-id", APP]);
    assert_eq!(c["client_id"], APP);
    assert_eq!(c["cloud"], "public");
    assert_eq!(
        c["urls"]["authorize_common"],
        "https://login.microsoftonline.com/common/oauth2/authorize?prompt=consent&client_id=00000000-0000-0000-0000-000000000000&response_type=code&sso_reload=true"
    );
    assert!(c["urls"].get("authorize_tenant").is_none());
    assert_eq!(
        c["urls"]["adminconsent_v2"],
        format!("https://login.microsoftonline.com/organizations/v2.0/adminconsent?client_id={APP}&scope={SCOPE}").as_str()
    );
    assert_eq!(
        c["who_can_grant"]["roles"][0]["role"],
        "Privileged Role Administrator"
    );
}

#[test]
fn every_cloud_with_and_without_tenant_redirect_state() {
    for (cloud, host) in [
        ("public", "login.microsoftonline.com"),
        ("gcc", "login.microsoftonline.com"),
        ("gcc-high", "login.microsoftonline.us"),
        ("dod", "login.microsoftonline.us"),
        ("china", "login.chinacloudapi.cn"),
    ] {
        let c = urls(&["--client-id", APP, "--cloud", cloud]);
        assert_eq!(c["cloud"], cloud);
        assert_eq!(
            c["urls"]["authorize_common"],
            format!("https://{host}/common/oauth2/authorize?prompt=consent&client_id={APP}&response_type=code&sso_reload=true").as_str()
        );
        assert_eq!(
            c["urls"]["adminconsent_v2"],
            format!("https://{host}/organizations/v2.0/adminconsent?client_id={APP}&scope={SCOPE}")
                .as_str()
        );

        let c = urls(&[
            "--client-id",
            APP,
            "--cloud",
            cloud,
            "--tenant",
            TENANT,
            "--redirect-uri",
            "https://localhost:8443/consent/done",
            "--state",
            "x y&z=1",
        ]);
        assert_eq!(c["tenant"], TENANT);
        assert_eq!(
            c["urls"]["authorize_tenant"],
            format!("https://{host}/{TENANT}/oauth2/authorize?prompt=consent&client_id={APP}&response_type=code&sso_reload=true").as_str()
        );
        assert_eq!(
            c["urls"]["adminconsent_v2"],
            format!("https://{host}/{TENANT}/v2.0/adminconsent?client_id={APP}&scope={SCOPE}&redirect_uri=https%3A%2F%2Flocalhost%3A8443%2Fconsent%2Fdone&state=x+y%26z%3D1").as_str()
        );

        // Redirect only, domain tenant.
        let c = urls(&[
            "--client-id",
            APP,
            "--cloud",
            cloud,
            "--tenant",
            "contoso.onmicrosoft.com",
            "--redirect-uri",
            "https://app.contoso.com/cb",
        ]);
        assert_eq!(
            c["urls"]["adminconsent_v2"],
            format!("https://{host}/contoso.onmicrosoft.com/v2.0/adminconsent?client_id={APP}&scope={SCOPE}&redirect_uri=https%3A%2F%2Fapp.contoso.com%2Fcb").as_str()
        );
        // State only.
        let c = urls(&["--client-id", APP, "--cloud", cloud, "--state", "abc"]);
        assert_eq!(
            c["urls"]["adminconsent_v2"],
            format!("https://{host}/organizations/v2.0/adminconsent?client_id={APP}&scope={SCOPE}&state=abc").as_str()
        );
    }
}

#[test]
fn braces_are_dropped_from_the_client_id() {
    let c = urls(&["--client-id", "{9B0A3D8E-5C2F-4E71-A1B4-6D3E8F2C7A90}"]);
    assert_eq!(c["client_id"], "9B0A3D8E-5C2F-4E71-A1B4-6D3E8F2C7A90");
}

#[test]
fn bad_inputs_exit_2() {
    for args in [
        vec!["--client-id", "00000000-0000-0000-0000-00000000000"],
        vec!["--client-id", "app-name"],
        vec![
            "--client-id",
            APP,
            "--tenant",
            "4d7f7e2c-9a51-4c1b-8b8e-2f6a3c1d0e5",
        ],
        vec!["--client-id", APP, "--tenant", "{tenant-id}"],
        vec!["--client-id", APP, "--cloud", "mars"],
        vec!["--client-id", APP, "--redirect-uri", "not a url"],
    ] {
        let out = mdeauth().arg("consent-url").args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty());
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.starts_with("mdeauth: error: "), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    let out = mdeauth()
        .args(["consent-url", "--client-id", "nope"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "mdeauth: error: client id \"nope\" is not a GUID; give the app registration's Application (client) ID, e.g. 00000000-0000-0000-0000-000000000000\n"
    );
    // The API's own app id is not a client, and a plan naming it is refused
    // at its line.
    let out = mdeauth()
        .args([
            "consent-url",
            "--client-id",
            "FC780465-2017-40d4-a0c5-307022471b92",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "mdeauth: error: client id FC780465-2017-40d4-a0c5-307022471b92 is WindowsDefenderATP's own app id: the API the tokens are for, not the app that calls it; give your app registration's Application (client) ID (Entra ID > App registrations > the app > Overview)\n"
    );
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("p.toml");
    std::fs::write(
        &plan,
        "name = \"x\"\nclient_id = \"fc780465-2017-40d4-a0c5-307022471b92\"\ncalls = [\"GET /api/machines\"]\n",
    )
    .unwrap();
    let out = mdeauth()
        .args(["api", "--plan", plan.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("p.toml:2: client_id fc780465-2017-40d4-a0c5-307022471b92 is WindowsDefenderATP's own app id"),
        "{err}"
    );
}

/// The JSON report of `consent-url` for the test app with `extra` arguments.
fn consent_json(extra: &[&str]) -> String {
    let out = mdeauth()
        .args([
            "--format",
            "json",
            "consent-url",
            "--client-id",
            "9b0a3d8e-5c2f-4e71-a1b4-6d3e8f2c7a90",
        ])
        .args(extra)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn common_adds_no_link_and_china_is_warned_about() {
    let text = consent_json(&["--tenant", "common"]);
    assert_eq!(
        text.matches("/common/oauth2/authorize").count(),
        1,
        "{text}"
    );
    assert!(text.contains("/organizations/v2.0/adminconsent"), "{text}");
    let text = consent_json(&["--cloud", "china"]);
    assert!(text.contains("consent.no_mde_api"), "{text}");
}

#[test]
fn redirect_uris_entra_id_would_refuse_are_bad_input() {
    for (uri, says) in [
        ("https://app.example/cb#frag", "has a fragment (#...)"),
        ("https:app.example", "is not an absolute URL"),
        (
            "http://app.example/cb",
            "uses plain http, which Entra ID accepts only for localhost",
        ),
    ] {
        let out = mdeauth()
            .args([
                "consent-url",
                "--client-id",
                "3f6a1b2c-9d8e-4f70-a1b2-c3d4e5f60718",
            ])
            .args(["--redirect-uri", uri])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{uri}: {err}");
        assert!(err.contains(says), "{uri}: {err}");
        assert!(out.stdout.is_empty());
    }
    for uri in [
        "http://localhost:8400/cb",
        "http://127.0.0.1/cb",
        "https://app.example/cb",
    ] {
        mdeauth()
            .args([
                "consent-url",
                "--client-id",
                "3f6a1b2c-9d8e-4f70-a1b2-c3d4e5f60718",
            ])
            .args(["--redirect-uri", uri])
            .assert()
            .code(0);
    }
}

#[test]
fn junit_is_refused_because_links_are_not_test_results() {
    mdeauth()
        .args(["--format", "junit", "consent-url", "--client-id", "3f6a1b2c-9d8e-4f70-a1b2-c3d4e5f60718"])
        .assert()
        .code(2)
        .stdout("")
        .stderr("mdeauth: error: consent-url prints links, not test results: --format junit does not apply to it; use --format human or --format json\n");
}
