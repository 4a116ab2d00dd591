//! Many `verify` processes filling one empty cache at once leave a valid
//! cache: every run passes, every file is whole JSON, no temporary file is
//! left behind, and `cache show` lists each document once.

mod aad_mock;
mod common;

use common::{main_key, mdeauth, mint};
use httpmock::MockServer;
use serde_json::Value;

const PROCESSES: usize = 16;

#[test]
fn sixteen_parallel_verifies_leave_a_valid_cache() {
    let server = MockServer::start();
    let aad = aad_mock::Aad::start(&server, &aad_mock::jwks_fixture("jwks.json"));
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path().join("keys");
    let key = main_key();
    let token = mint::sign(
        &key,
        &key.v1_header(),
        &mint::v1_app_claims(&["Machine.Read.All"]),
    );

    // Start all processes before waiting for any of them.
    let children: Vec<std::process::Child> = (0..PROCESSES)
        .map(|_| {
            // A plain std Command (assert_cmd waits); same clean environment.
            let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_mdeauth"));
            for var in [
                "MDEAUTH_TOKEN",
                "MDEAUTH_CACHE_DIR",
                "HTTP_PROXY",
                "HTTPS_PROXY",
                "ALL_PROXY",
                "http_proxy",
                "https_proxy",
                "all_proxy",
            ] {
                c.env_remove(var);
            }
            c.env("NO_COLOR", "1")
                .env("NO_PROXY", "127.0.0.1,localhost");
            c.args(["--format", "json", "verify", "-", "--at", mint::VALID_AT])
                .args(["--authority-host", &server.base_url(), "--timeout", "10"])
                .arg("--cache-dir")
                .arg(&dir)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            let mut child = c.spawn().unwrap();
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(token.as_bytes())
                .unwrap();
            child
        })
        .collect();
    for (i, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "process {i}: {stderr}");
        let v = common::json_out(&out);
        assert_eq!(v["signature"]["status"], "valid", "process {i}");
        let codes = aad_mock::codes(&v);
        assert!(
            !codes.iter().any(|c| c == "cache.write_failed"),
            "process {i}: {codes:?}"
        );
    }
    // Each fetched at least once (racing processes may all fetch).
    assert!(aad.v1_meta.calls() >= 1 && aad.v1_keys.calls() >= 1);

    let mut urls = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.ends_with(".json") && !name.starts_with('.'),
            "left behind: {name}"
        );
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap())
            .unwrap_or_else(|e| panic!("{name} is not whole JSON: {e}"));
        let body: Value = serde_json::from_str(v["body"].as_str().unwrap()).unwrap();
        assert!(body.is_object(), "{name}");
        urls.push(v["url"].as_str().unwrap().to_string());
    }
    urls.sort();
    let mut want = vec![
        server.url(aad_mock::V1_KEYS),
        server.url(aad_mock::v1_meta_path()),
    ];
    want.sort();
    assert_eq!(urls, want);

    let out = mdeauth()
        .args(["--format", "json", "cache", "show", "--cache-dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v = common::json_out(&out);
    let mut listed: Vec<String> = v["cache"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["url"].as_str().unwrap().to_string())
        .collect();
    listed.sort();
    assert_eq!(listed, urls);

    // And the cache serves the next run without the network.
    let out = mdeauth()
        .args([
            "--format",
            "json",
            "verify",
            "--offline",
            "--at",
            mint::VALID_AT,
        ])
        .arg("--cache-dir")
        .arg(&dir)
        .args(["--authority-host", &server.base_url(), "-"])
        .write_stdin(token)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
