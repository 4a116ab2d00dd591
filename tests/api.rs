//! `mdeauth api`: catalogue listing, one call, reverse lookup, minimal sets;
//! call matching through the library.

mod common;

use common::{fixture, json_out, mdeauth};
use mdeauth::catalog;
use serde_json::{Value, json};

fn api(args: &[&str]) -> Value {
    let out = mdeauth()
        .args(["api", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json_out(&out)
}

fn labels(r: &Value) -> Vec<String> {
    r["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {}",
                c["method"].as_str().unwrap(),
                c["path"].as_str().unwrap()
            )
        })
        .collect()
}

fn minimal(r: &Value) -> Vec<(String, String, String)> {
    r["least_privilege"]["minimal"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["permission"].as_str().unwrap().to_string(),
                m["type"].as_str().unwrap().to_string(),
                m["id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn lists_current_calls_and_legacy_on_request() {
    let r = api(&[]);
    assert_eq!(r["calls"].as_array().unwrap().len(), 115);
    assert!(
        r["calls"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["status"] == "current")
    );
    let r = api(&["--legacy"]);
    assert_eq!(r["calls"].as_array().unwrap().len(), 121);
    let first = &r["calls"][0];
    for k in [
        "method",
        "path",
        "name",
        "area",
        "application_permissions",
        "delegated_permissions",
        "application_requirements",
        "delegated_requirements",
        "rbac",
        "source",
        "rate_limit",
        "status",
    ] {
        assert!(first.get(k).is_some(), "missing {k}: {first:#}");
    }
    assert_eq!(r["verdict"], "pass");
}

#[test]
fn filters_by_area_and_text() {
    let r = api(&["--area", "indicators"]);
    assert_eq!(
        labels(&r),
        [
            "GET /api/indicators",
            "POST /api/indicators",
            "POST /api/indicators/import",
            "DELETE /api/indicators/{id}",
            "POST /api/indicators/BatchDelete"
        ]
    );
    let r = api(&["--search", "isolat"]);
    assert_eq!(
        labels(&r),
        [
            "POST /api/machines/{id}/isolate",
            "POST /api/machines/{id}/unisolate"
        ]
    );
    let r = api(&["--search", "kbinfo"]);
    assert!(r["calls"].as_array().unwrap().is_empty());
    assert_eq!(r["findings"][0]["code"], "api.no_match");
    let r = api(&["--search", "testwdatppreview", "--legacy"]);
    assert_eq!(r["calls"].as_array().unwrap().len(), 5);
}

#[test]
fn shows_one_call_with_groups() {
    let r = api(&["POST /api/machines/{id}/StopAndQuarantineFile"]);
    let c = &r["calls"][0];
    assert_eq!(c["name"], "Stop and quarantine file");
    assert_eq!(
        c["application_permissions"],
        json!([
            "Machine.StopAndQuarantine",
            "Machine.Read.All",
            "Machine.ReadWrite.All"
        ])
    );
    assert_eq!(
        c["application_requirements"],
        json!([
            ["Machine.StopAndQuarantine"],
            ["Machine.Read.All", "Machine.ReadWrite.All"]
        ])
    );
    assert_eq!(
        c["delegated_permissions"],
        json!(["Machine.StopAndQuarantine"])
    );
    assert_eq!(
        c["rbac"],
        "Active remediation actions (+ device group access)"
    );
    assert_eq!(
        c["source"],
        "MicrosoftDocs/defender-docs: defender-endpoint/api/stop-and-quarantine-file.md"
    );
    // Same call syntax as --call: concrete ids, URLs, version prefix.
    let r = api(&[
        "POST https://api-eu.securitycenter.microsoft.com/api/v1.0/machines/1e5bc9d7e413ddd7902c2932e418702b84d0cc07/isolate",
    ]);
    assert_eq!(r["calls"][0]["name"], "Isolate machine");

    let out = mdeauth()
        .args(["api", "POST /api/machines/{id}/isolate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Application  Machine.Isolate"), "{text}");
    assert!(
        text.contains("User RBAC    Active remediation actions"),
        "{text}"
    );
    assert!(
        text.contains("Machine.Isolate  Role   7e4e1300-e1b9-4102-88ba-f0cb6e6d5974"),
        "{text}"
    );
}

#[test]
fn reverse_lookup_by_permission() {
    let r = api(&["--permission", "Machine.Isolate"]);
    assert_eq!(
        labels(&r),
        [
            "POST /api/machines/{id}/isolate",
            "POST /api/machines/{id}/unisolate",
            "POST /api/machineactions/{machineActionId}/cancel"
        ]
    );
    assert!(
        r["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("app role 7e4e1300-e1b9-4102-88ba-f0cb6e6d5974"),
        "{r:#}"
    );
    // The documentation's spelling maps to the real one.
    let r = api(&["--permission", "RemediationTask.Read.Read"]);
    assert_eq!(labels(&r).len(), 3);
    assert_eq!(r["findings"][0]["code"], "api.doc_spelling");
    // Unknown names suggest the nearest.
    let out = mdeauth()
        .args(["api", "--permission", "Machine.Isolat"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("did you mean Machine.Isolate"), "{err}");
}

#[test]
fn an_encoded_slash_is_named_as_given() {
    // One segment "machines/abc", not the documented /api/machines/{id}.
    let out = mdeauth()
        .args(["api", "GET /api/machines%2Fabc"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("GET /api/machines%2Fabc is not a documented MDE API call"),
        "{err}"
    );
    // A method the path is not documented for: each path once, whatever
    // its placeholder is called, and each method with its own path.
    let out = mdeauth()
        .args(["api", "POST /api/machines/abc%2Fisolate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "mdeauth: error: POST /api/machines/abc%2Fisolate is not a documented MDE call: /api/machines/{id} is documented only for GET, PATCH; use \"GET /api/machines/{id}\" or \"PATCH /api/machines/{machineId}\"\n"
    );
}

#[test]
fn minimal_sets_for_plans() {
    let r = api(&[
        "--plan",
        fixture("plans/soc-automation.toml").to_str().unwrap(),
    ]);
    assert_eq!(r["least_privilege"]["context"], "application");
    assert_eq!(
        minimal(&r),
        [
            (
                "Alert.Read.All".into(),
                "Role".into(),
                "71fe6b80-7034-4028-9ed8-0f316df9c3ff".into()
            ),
            (
                "Machine.Read.All".into(),
                "Role".into(),
                "ea8291d3-4b9a-44b5-bc3a-6cea3026dc79".into()
            ),
            (
                "Machine.Isolate".into(),
                "Role".into(),
                "7e4e1300-e1b9-4102-88ba-f0cb6e6d5974".into()
            ),
        ]
    );
    assert_eq!(
        r["least_privilege"]["minimal"][1]["calls"],
        json!(["GET /api/machines", "GET /api/machineactions/{id}"])
    );
    let r = api(&[
        "--plan",
        fixture("plans/analyst-portal.toml").to_str().unwrap(),
    ]);
    assert_eq!(r["least_privilege"]["context"], "delegated");
    assert_eq!(
        minimal(&r),
        [
            (
                "AdvancedQuery.Read".into(),
                "Scope".into(),
                "1fb6e712-1bd9-4184-b1c0-5e71e759196b".into()
            ),
            (
                "Machine.Read".into(),
                "Scope".into(),
                "fbd3d33a-b1f5-4573-906c-51b39682fbcf".into()
            ),
            (
                "Alert.ReadWrite".into(),
                "Scope".into(),
                "cbc3b413-21e6-416d-95a4-af87687efbd0".into()
            ),
        ]
    );
    let r = api(&[
        "--plan",
        fixture("plans/vulnerability-export.toml").to_str().unwrap(),
    ]);
    let names: Vec<String> = minimal(&r).into_iter().map(|m| m.0).collect();
    assert_eq!(
        names,
        [
            "Machine.Read.All",
            "Software.Read.All",
            "Vulnerability.Read.All"
        ]
    );
    // Read plus write on machines: one read-write permission.
    let r = api(&[
        "--call",
        "GET /api/machines",
        "--call",
        "POST /api/machines/{id}/tags",
        "--call",
        "POST /api/machines/{id}/StopAndQuarantineFile",
        "--call",
        "POST /api/machineactions/{id}/cancel",
    ]);
    let names: Vec<String> = minimal(&r).into_iter().map(|m| m.0).collect();
    assert_eq!(
        names,
        ["Machine.StopAndQuarantine", "Machine.ReadWrite.All"]
    );
    // Both are forced by other calls: nothing could take their place.
    for m in r["least_privilege"]["minimal"].as_array().unwrap() {
        assert!(m.get("alternatives").is_none(), "{m}");
    }
    // Cancel alone accepts any of seven action permissions: the set names
    // one and says the other six would do as well.
    let r = api(&["POST /api/machineactions/{id}/cancel"]);
    let m = &r["least_privilege"]["minimal"];
    assert_eq!(m.as_array().unwrap().len(), 1);
    assert_eq!(m[0]["permission"], "Machine.CollectForensics");
    assert_eq!(
        m[0]["alternatives"],
        json!([
            "Machine.Isolate",
            "Machine.LiveResponse",
            "Machine.Offboard",
            "Machine.RestrictExecution",
            "Machine.Scan",
            "Machine.StopAndQuarantine"
        ])
    );
    let out = mdeauth()
        .args(["api", "POST /api/machineactions/{id}/cancel"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(
            "or any one of Machine.Isolate, Machine.LiveResponse, Machine.Offboard, Machine.RestrictExecution, Machine.Scan, Machine.StopAndQuarantine instead (equally narrow)"
        ),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // The same calls for a delegated app.
    let r = api(&[
        "--context",
        "delegated",
        "--call",
        "GET /api/machines",
        "--call",
        "POST /api/machines/{id}/StopAndQuarantineFile",
    ]);
    let names: Vec<String> = minimal(&r).into_iter().map(|m| m.0).collect();
    assert_eq!(names, ["Machine.Read", "Machine.StopAndQuarantine"]);
    assert!(
        r["least_privilege"]["minimal"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["type"] == "Scope")
    );
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        vec!["api", "GET /api/nothing/here"],
        vec!["api", "--area", "alerts", "--call", "GET /api/alerts"],
        vec!["api", "--plan", "/nonexistent/plan.toml"],
        vec!["api", "/api/alerts"],
    ] {
        let out = mdeauth().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("mdeauth: error: "), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
    // A legacy Graph preview call given on an MDE host: the host is named.
    let out = mdeauth()
        .args([
            "api",
            "GET https://api.securitycenter.microsoft.com/testwdatppreview/kbinfo",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "mdeauth: error: GET /testwdatppreview/kbinfo is documented on graph.microsoft.com, not on api.securitycenter.microsoft.com; give \"GET https://graph.microsoft.com/testwdatppreview/kbinfo\", or just the path\n"
    );
}

/// One concrete call per area, matched through the library.
#[test]
fn concrete_paths_in_every_area() {
    let cases = [
        (
            "GET /api/alerts/da637472900382838869_1364969609",
            "Get alert by ID",
        ),
        ("POST /api/advancedqueries/run", "Run advanced query"),
        (
            "GET /api/machines/1e5bc9d7e413ddd7902c2932e418702b84d0cc07/logonusers",
            "Get machine logon users",
        ),
        (
            "GET /api/machines/1e5bc9d7e413ddd7902c2932e418702b84d0cc07/software",
            "Get installed software (per machine)",
        ),
        (
            "GET /api/machineactions/7f1c2a3b-0000-4000-8000-000000000001/getPackageUri",
            "Get investigation package SAS URI",
        ),
        ("DELETE /api/indicators/995", "Delete indicator"),
        (
            "GET /api/files/4388963aaa83afe2042a46a3c017ad50bdcdafb3/stats?lookBackHours=48",
            "Get file statistics",
        ),
        ("GET /api/ips/10.209.67.177/stats", "Get IP statistics"),
        (
            "GET /api/domains/client.wns.windows.com/machines",
            "Get domain related machines",
        ),
        ("GET /api/users/alex/alerts", "Get user related alerts"),
        (
            "POST /api/machines/1e5b/startInvestigation",
            "Start investigation",
        ),
        (
            "DELETE /api/libraryfiles/script.ps1",
            "Delete file from library",
        ),
        (
            "GET /api/recommendations/va-_-microsoft-_-windows_10/software",
            "List software by recommendation",
        ),
        (
            "GET /api/remediationTasks/03942ef5-aecb-4c6e-b555-5ee4d4a9ea0c/machineReferences",
            "List exposed devices of remediation activity",
        ),
        (
            "GET /api/exposureScore/ByMachineGroups",
            "List exposure score by machine group",
        ),
        (
            "GET /api/Software/microsoft-_-edge/distributions",
            "List software version distribution",
        ),
        (
            "GET /api/vulnerabilities/CVE-2019-0608/machineReferences",
            "List machines by vulnerability",
        ),
        (
            "GET /api/deviceavinfo?$top=100",
            "Export device antivirus health report (JSON)",
        ),
        (
            "GET /api/machines/SoftwareVulnerabilityChangesByMachine?sinceTime=2026-03-01",
            "Delta export software vulnerabilities assessment (JSON)",
        ),
        (
            "GET /api/machines/BrowserExtensionsInventoryByMachine",
            "Export browser extensions assessment (JSON)",
        ),
        (
            "GET /api/machines/certificateAssessmentExport?sasValidHours=2",
            "Export certificate inventory assessment (via files)",
        ),
        (
            "GET /api/machines/HardwareFirmwareInventoryExport",
            "Export hardware and firmware assessment (via files)",
        ),
        (
            "GET /api/baselineConfigurations",
            "List baseline profile configurations",
        ),
        (
            "PATCH /api/DeviceAuthenticatedScanDefinitions/4ae7b5f0-0000-4000-8000-000000000002",
            "Update scan definition",
        ),
        ("GET /api/ips/10.1.1.1/machines", "Get IP related machines"),
        (
            "GET /api/machines/find(timestamp=2026-03-01T10:00:00Z,key=10.1.1.1)",
            "Find device information by internal IP",
        ),
        (
            "GET /api/machines/findbytag?tag=prod&useStartsWithFilter=true",
            "Find machines by tag",
        ),
        (
            "GET /api/machines/SoftwareInventoryByMachine",
            "Export software inventory assessment (JSON)",
        ),
    ];
    let mut areas = std::collections::BTreeSet::new();
    for (call, name) in cases {
        let row = catalog::resolve(call).unwrap_or_else(|e| panic!("{call}: {e:?}"));
        assert_eq!(row.name, name, "{call}");
        areas.insert(row.area.clone());
    }
    let all: std::collections::BTreeSet<String> =
        catalog::calls().iter().map(|c| c.area.clone()).collect();
    let missing: Vec<&String> = all.difference(&areas).collect();
    assert!(
        missing.is_empty(),
        "areas without a concrete-path case: {missing:?}"
    );
}

#[test]
fn ti_readwrite_in_the_minimal_set_carries_its_caveat() {
    let r = api(&["--call", "GET /api/indicators"]);
    let m = &r["least_privilege"]["minimal"][0];
    assert_eq!(m["permission"], "Ti.ReadWrite");
    assert!(
        m["caveat"]
            .as_str()
            .unwrap()
            .starts_with("Ti.ReadWrite reaches only the indicators this app submitted itself"),
        "{m:#}"
    );
    // Other permissions have none.
    let r = api(&["--call", "GET /api/machines"]);
    assert_eq!(r["least_privilege"]["minimal"][0]["caveat"], Value::Null);
    let out = mdeauth()
        .args(["api", "--call", "GET /api/indicators"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("caveat: Ti.ReadWrite reaches only the indicators this app submitted itself"),
        "{text}"
    );
}

#[test]
fn secop_and_readonly_are_portal_roles_not_application_permissions() {
    for (name, id) in [
        ("secop", "2261fd4a-5f23-4b74-9e4d-f4ac92dc86a2"),
        ("readonly", "f820e656-f1d1-4cb8-a566-31d18eeecb40"),
    ] {
        let r = api(&["--permission", name]);
        let f = common::finding(&r, "api.permission");
        let msg = f["message"].as_str().unwrap();
        assert!(
            msg.starts_with(&format!(
                "{name} is a legacy WDATP portal role assigned to users, not an application permission: no app can be granted it"
            )),
            "{msg}"
        );
        assert!(msg.contains(id), "{msg}");
        assert!(msg.contains("allowed member types: User"), "{msg}");
        assert!(!msg.contains("is an application permission"), "{msg}");
    }
    // An ordinary role is still an application permission.
    let r = api(&["--permission", "Machine.Isolate"]);
    assert!(
        common::finding(&r, "api.permission")["message"]
            .as_str()
            .unwrap()
            .starts_with("Machine.Isolate is an application permission (app role"),
    );
}

#[test]
fn every_windowsdefenderatp_api_host_resolves_calls() {
    // api.securitycenter.windows.us is one of the app's identifier URIs.
    for host in [
        "api.securitycenter.windows.us",
        "api-gov.securitycenter.microsoft.us",
        "api.security.microsoft.com",
    ] {
        let out = mdeauth()
            .args(["api", &format!("GET https://{host}/api/alerts")])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{host}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("List alerts"),
            "{host}"
        );
    }
}

#[test]
fn junit_has_one_case_per_planned_call() {
    let plan = fixture("plans/soc-automation.toml");
    let out = mdeauth()
        .args(["--format", "junit", "api", "--plan"])
        .arg(&plan)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let xml = String::from_utf8(out.stdout).unwrap();
    let rep = quick_junit::Report::deserialize_from_str(&xml).expect("JUnit XML parses");
    let names: Vec<&str> = rep.test_suites[0]
        .test_cases
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(names.len(), 4, "{xml}");
    assert!(
        names.contains(&"POST /api/machines/{id}/isolate"),
        "{names:?}"
    );
    assert_eq!(rep.failures, 0);
}

#[test]
fn a_delegated_plan_says_the_user_needs_an_mde_role_too() {
    let r = api(&[
        "--plan",
        fixture("plans/analyst-portal.toml").to_str().unwrap(),
    ]);
    let f = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "call.user_rbac")
        .unwrap_or_else(|| panic!("no call.user_rbac in {r}"));
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("PATCH /api/alerts/{id}: Alerts investigation"),
        "{f}"
    );
    // An application plan does not get it.
    let r = api(&[
        "--plan",
        fixture("plans/soc-automation.toml").to_str().unwrap(),
    ]);
    assert!(!r.to_string().contains("call.user_rbac"), "{r}");
}

#[test]
fn single_source_guids_are_marked_in_the_minimal_set() {
    let r = api(&[
        "--call",
        "POST /api/machines/x/isolate",
        "--context",
        "delegated",
    ]);
    let m = &r["least_privilege"]["minimal"][0];
    assert_eq!(m["permission"], "Machine.Isolate");
    assert_eq!(m["confidence"], "medium", "{m}");
    let r = api(&["--call", "GET /api/machines"]);
    assert_eq!(r["least_privilege"]["minimal"][0]["confidence"], "high");
    let out = mdeauth()
        .args([
            "api",
            "--call",
            "POST /api/machines/x/isolate",
            "--context",
            "delegated",
        ])
        .output()
        .unwrap();
    let human = String::from_utf8_lossy(&out.stdout);
    assert!(
        human.contains("479231ef-3b86-4933-ae6b-1fa84bba9e31 *")
            && human.contains("* GUID from a single source"),
        "{human}"
    );
}
