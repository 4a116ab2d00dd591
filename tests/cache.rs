//! The key cache: hits, 24 h refresh, unknown-kid refresh and its rate
//! limit, stale fallback, --offline, atomic writes, `cache show|clear`.

mod aad_mock;
mod common;

use std::path::Path;

use aad_mock::{Aad, age_cache, codes, jwks_fixture, run, verify};
use common::{fixture, mdeauth};
use httpmock::prelude::*;
use serde_json::Value;

fn tok(name: &str) -> String {
    fixture(&format!("tokens/{name}")).display().to_string()
}

fn cache_cmd(dir: &Path, args: &[&str]) -> (i32, Value, String) {
    let mut c = mdeauth();
    c.env("MDEAUTH_CACHE_DIR", dir)
        .args(["--format", "json", "cache"])
        .args(args);
    run(c)
}

#[test]
fn second_run_is_served_from_the_cache() {
    let server = MockServer::start();
    let aad = Aad::start(&server, &jwks_fixture("jwks.json"));
    let cache = tempfile::tempdir().unwrap();
    for _ in 0..3 {
        let (code, v, _) = verify(&server, cache.path(), &tok("app-v1.jwt"), &[]);
        assert_eq!(code, 0, "{v}");
    }
    aad.v1_meta.assert_calls(1);
    aad.v1_keys.assert_calls(1);
    // --offline works from the filled cache.
    let (code, v, _) = verify(&server, cache.path(), &tok("app-v1.jwt"), &["--offline"]);
    assert_eq!(code, 0);
    assert!(!codes(&v).contains(&"cache.stale".to_string()), "{v}");
    aad.v1_keys.assert_calls(1);
    // After 24 h both documents are fetched again.
    age_cache(cache.path(), 24 * 3600 + 60);
    // ... and --offline, which cannot, still uses them and says how old they are.
    let (code, v, _) = verify(&server, cache.path(), &tok("app-v1.jwt"), &["--offline"]);
    assert_eq!(code, 0, "{v}");
    assert!(codes(&v).contains(&"cache.stale".to_string()), "{v}");
    assert!(
        v.to_string()
            .contains("--offline: using the cached copy of"),
        "{v}"
    );
    aad.v1_keys.assert_calls(1);
    let (code, _, _) = verify(&server, cache.path(), &tok("app-v1.jwt"), &[]);
    assert_eq!(code, 0);
    aad.v1_meta.assert_calls(2);
    aad.v1_keys.assert_calls(2);
}

#[test]
fn cache_dir_flag_overrides_the_environment() {
    let server = MockServer::start();
    let aad = Aad::start(&server, &jwks_fixture("jwks.json"));
    let env_dir = tempfile::tempdir().unwrap();
    let flag_dir = tempfile::tempdir().unwrap();
    let flag = flag_dir.path().to_str().unwrap();
    let (code, _, _) = verify(
        &server,
        env_dir.path(),
        &tok("app-v1.jwt"),
        &["--cache-dir", flag],
    );
    assert_eq!(code, 0);
    assert_eq!(std::fs::read_dir(env_dir.path()).unwrap().count(), 0);
    let (_, v, _) = cache_cmd(env_dir.path(), &["show", "--cache-dir", flag]);
    assert_eq!(v["cache"]["entries"].as_array().unwrap().len(), 2);
    aad.v1_keys.assert_calls(1);
}

#[test]
fn unknown_kid_refreshes_the_key_set_at_most_every_5_minutes() {
    let server = MockServer::start();
    let mut aad = Aad::start(&server, &jwks_fixture("jwks.json"));
    let cache = tempfile::tempdir().unwrap();
    let (code, _, _) = verify(&server, cache.path(), &tok("app-v1.jwt"), &[]);
    assert_eq!(code, 0);
    aad.v1_keys.assert_calls(1);

    // Azure AD rotates: the key set now holds only the new key.
    aad.v1_keys.delete();
    let rotated = server.mock(|when, then| {
        when.method(GET)
            .path(aad_mock::V1_KEYS)
            .query_param_missing("appid");
        then.status(200)
            .json_body(jwks_fixture("jwks-rotated.json"));
    });

    // Fetched a moment ago: the unknown kid does not refetch yet.
    let (code, v, _) = verify(&server, cache.path(), &tok("app-v1-rotated-key.jwt"), &[]);
    assert_eq!(code, 1);
    assert_eq!(v["signature"]["status"], "key_not_found");
    assert!(
        codes(&v).contains(&"keys.refresh_rate_limited".to_string()),
        "{:?}",
        codes(&v)
    );
    rotated.assert_calls(0);

    // Six minutes later the unknown kid refetches once, and the token verifies.
    age_cache(cache.path(), 6 * 60);
    let (code, v, _) = verify(&server, cache.path(), &tok("app-v1-rotated-key.jwt"), &[]);
    assert_eq!(code, 0, "{v}");
    assert!(codes(&v).contains(&"keys.refreshed".to_string()));
    rotated.assert_calls(1);
    // ...and the refreshed copy is cached.
    let (code, _, _) = verify(&server, cache.path(), &tok("app-v1-rotated-key.jwt"), &[]);
    assert_eq!(code, 0);
    rotated.assert_calls(1);
    aad.v1_meta.assert_calls(1);
}

#[test]
fn stale_cache_is_used_when_the_network_fails() {
    let server = MockServer::start();
    let mut aad = Aad::start(&server, &jwks_fixture("jwks.json"));
    let cache = tempfile::tempdir().unwrap();
    let (code, _, _) = verify(&server, cache.path(), &tok("app-v1.jwt"), &[]);
    assert_eq!(code, 0);
    age_cache(cache.path(), 48 * 3600);
    aad.v1_meta.delete();
    aad.v1_keys.delete();
    let down = server.mock(|when, then| {
        when.method(GET);
        then.status(503).body("Service Unavailable");
    });
    let (code, v, err) = verify(&server, cache.path(), &tok("app-v1.jwt"), &[]);
    assert_eq!(code, 0, "a warning does not fail verify: {v}\n{err}");
    assert_eq!(v["signature"]["status"], "valid");
    let stale: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "cache.stale")
        .collect();
    assert_eq!(stale.len(), 2, "metadata and key set: {v}");
    assert_eq!(stale[0]["severity"], "warning");
    assert!(stale[0]["message"].as_str().unwrap().contains("HTTP 503"));
    assert!(stale[0]["message"].as_str().unwrap().contains("2 days old"));
    down.assert_calls(2);
}

#[test]
fn a_bad_response_never_replaces_a_good_cached_copy() {
    let server = MockServer::start();
    let mut aad = Aad::start(&server, &jwks_fixture("jwks.json"));
    let cache = tempfile::tempdir().unwrap();
    verify(&server, cache.path(), &tok("app-v1.jwt"), &[]);
    age_cache(cache.path(), 25 * 3600);
    aad.v1_keys.delete();
    let _html = server.mock(|when, then| {
        when.method(GET).path(aad_mock::V1_KEYS);
        then.status(200).body("<html>proxy login</html>");
    });
    let (code, v, _) = verify(&server, cache.path(), &tok("app-v1.jwt"), &[]);
    assert_eq!(code, 0, "{v}");
    assert!(codes(&v).contains(&"cache.stale".to_string()));
    let (_, v, _) = cache_cmd(cache.path(), &["show"]);
    let keys = v["cache"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["url"] == server.url(aad_mock::V1_KEYS))
        .unwrap();
    assert_eq!(keys["key_ids"][0], common::main_key().kid);
}

#[test]
fn show_lists_entries_and_clear_removes_them() {
    let server = MockServer::start();
    let _aad = Aad::start(&server, &jwks_fixture("jwks.json"));
    let cache = tempfile::tempdir().unwrap();
    let (code, v, _) = cache_cmd(cache.path(), &["show"]);
    assert_eq!(code, 0);
    assert_eq!(v["cache"]["entries"], serde_json::json!([]));
    assert_eq!(v["cache"]["dir"], cache.path().display().to_string());

    verify(&server, cache.path(), &tok("app-v1.jwt"), &[]);
    let (code, v, _) = cache_cmd(cache.path(), &["show"]);
    assert_eq!(code, 0);
    let entries = v["cache"]["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    let keys = entries
        .iter()
        .find(|e| e["url"] == server.url(aad_mock::V1_KEYS))
        .expect("key set entry");
    assert_eq!(keys["key_ids"], serde_json::json!([common::main_key().kid]));
    assert!(keys["size"].as_u64().unwrap() > 1000);
    assert!(keys["age_seconds"].as_i64().unwrap() < 120);
    assert!(keys["fetched_at"].as_str().unwrap().ends_with('Z'));
    let meta = entries
        .iter()
        .find(|e| e["url"] == server.url(aad_mock::v1_meta_path()))
        .expect("metadata entry");
    assert_eq!(meta["key_ids"], serde_json::json!([]));

    // Human form.
    let out = mdeauth()
        .env("MDEAUTH_CACHE_DIR", cache.path())
        .args(["cache", "show"])
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(s.contains(&server.url(aad_mock::V1_KEYS)), "{s}");
    assert!(
        s.contains(&format!("keys: {}", common::main_key().kid)),
        "{s}"
    );

    let (code, v, _) = cache_cmd(cache.path(), &["clear"]);
    assert_eq!(code, 0);
    assert_eq!(v["cache"]["removed"], 2);
    let (_, v, _) = cache_cmd(cache.path(), &["show"]);
    assert_eq!(v["cache"]["entries"], serde_json::json!([]));
}

#[test]
fn concurrent_runs_never_corrupt_the_cache() {
    let server = MockServer::start();
    let _aad = Aad::start(&server, &jwks_fixture("jwks.json"));
    let cache = tempfile::tempdir().unwrap();
    let bin = assert_cmd::cargo::cargo_bin("mdeauth");
    let children: Vec<_> = (0..6)
        .map(|_| {
            std::process::Command::new(&bin)
                .env("MDEAUTH_CACHE_DIR", cache.path())
                .env("NO_PROXY", "127.0.0.1")
                .env_remove("HTTP_PROXY")
                .env_remove("HTTPS_PROXY")
                .args(["verify", &tok("app-v1.jwt"), "--at", common::mint::VALID_AT])
                .args(["--authority-host", &server.base_url()])
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert_eq!(c.wait().unwrap().code(), Some(0));
    }
    let names: Vec<String> = std::fs::read_dir(cache.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "no temporary files left behind: {names:?}");
    for n in names {
        let text = std::fs::read_to_string(cache.path().join(n)).unwrap();
        let v: Value = serde_json::from_str(&text).expect("entry is whole JSON");
        assert!(v["body"].as_str().unwrap().starts_with('{'));
    }
}

#[test]
fn a_corrupt_cache_entry_is_ignored_and_replaced() {
    let server = MockServer::start();
    let aad = Aad::start(&server, &jwks_fixture("jwks.json"));
    let cache = tempfile::tempdir().unwrap();
    verify(&server, cache.path(), &tok("app-v1.jwt"), &[]);
    for e in std::fs::read_dir(cache.path()).unwrap() {
        std::fs::write(e.unwrap().path(), "{\"url\": \"trunc").unwrap();
    }
    let (code, v, _) = verify(&server, cache.path(), &tok("app-v1.jwt"), &[]);
    assert_eq!(code, 0, "{v}");
    aad.v1_meta.assert_calls(2);
    aad.v1_keys.assert_calls(2);
    let (_, v, _) = cache_cmd(cache.path(), &["show"]);
    assert_eq!(v["cache"]["entries"].as_array().unwrap().len(), 2);
}

#[test]
fn a_damaged_entry_is_named_as_damaged_offline() {
    let server = MockServer::start();
    let _aad = Aad::start(&server, &jwks_fixture("jwks.json"));
    let cache = tempfile::tempdir().unwrap();
    let (code, _, _) = verify(&server, cache.path(), &tok("app-v1.jwt"), &[]);
    assert_eq!(code, 0);
    for e in std::fs::read_dir(cache.path()).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "json") {
            std::fs::write(&p, "{ damaged").unwrap();
        }
    }
    let (code, _, err) = verify(&server, cache.path(), &tok("app-v1.jwt"), &["--offline"]);
    assert_eq!(code, 3);
    assert!(
        err.contains("cannot be read (damaged) and --offline forbids fetching it again"),
        "{err}"
    );
}

#[test]
fn an_entry_dated_in_the_future_is_shown_as_such() {
    let server = MockServer::start();
    let _aad = Aad::start(&server, &jwks_fixture("jwks.json"));
    let cache = tempfile::tempdir().unwrap();
    let (code, _, _) = verify(&server, cache.path(), &tok("app-v1.jwt"), &[]);
    assert_eq!(code, 0);
    age_cache(cache.path(), -1_000_000_000);
    let out = mdeauth()
        .env("MDEAUTH_CACHE_DIR", cache.path())
        .args(["cache", "show"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("dated in the future"), "{text}");
    assert!(!text.contains("years ago"), "{text}");
    // --offline uses it, and does not call it old.
    let (code, v, _) = verify(&server, cache.path(), &tok("app-v1.jwt"), &["--offline"]);
    assert_eq!(code, 0, "{v}");
    let s = v.to_string();
    assert!(
        s.contains("ahead of this machine's clock, so its age is unknown"),
        "{s}"
    );
    assert!(!s.contains(" old;"), "{s}");
}

#[test]
fn cache_show_counts_the_entries_it_cannot_read() {
    let server = MockServer::start();
    let _aad = Aad::start(&server, &jwks_fixture("jwks.json"));
    let cache = tempfile::tempdir().unwrap();
    let (code, _, _) = verify(&server, cache.path(), &tok("app-v1.jwt"), &[]);
    assert_eq!(code, 0);
    let (_, v, _) = cache_cmd(cache.path(), &["show"]);
    assert_eq!(v["cache"]["entries"].as_array().unwrap().len(), 2, "{v}");
    let first = std::fs::read_dir(cache.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "json"))
        .unwrap();
    std::fs::write(&first, "{ damaged").unwrap();
    let (_, v, _) = cache_cmd(cache.path(), &["show"]);
    assert_eq!(v["cache"]["entries"].as_array().unwrap().len(), 1, "{v}");
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "cache.damaged")
        .unwrap_or_else(|| panic!("no cache.damaged in {v}"));
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .starts_with("1 cache entry file(s) cannot be read"),
        "{f}"
    );
}
