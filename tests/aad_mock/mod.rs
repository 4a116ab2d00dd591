//! A fake Azure AD for `verify` and `cache` tests: v1 and v2 discovery
//! documents, common / tenant-specific / `?appid=` key sets, all on
//! 127.0.0.1 and counting requests.
#![allow(dead_code)]

use std::path::Path;

use httpmock::Mock;
use httpmock::prelude::*;
use serde_json::{Value, json};

use crate::common::{self, mint};

pub const V1_ISSUER_TEMPLATE: &str = "https://sts.windows.net/{tenantid}/";
pub const V2_ISSUER_TEMPLATE: &str = "https://login.microsoftonline.com/{tenantid}/v2.0";

pub fn jwks_fixture(name: &str) -> Value {
    serde_json::from_str(&common::fixture_text(&format!("keys/{name}"))).unwrap()
}

pub fn v1_meta_path() -> String {
    format!("/{}/.well-known/openid-configuration", mint::TENANT)
}
pub fn v2_meta_path() -> String {
    format!("/{}/v2.0/.well-known/openid-configuration", mint::TENANT)
}
pub const V1_KEYS: &str = "/common/discovery/keys";
pub fn v2_keys_path() -> String {
    // Tenant-specific v2 key set, as a tenant's own v2 document names it.
    format!("/{}/discovery/v2.0/keys", mint::TENANT)
}

/// The fake authority and its counted endpoints.
pub struct Aad<'a> {
    pub server: &'a MockServer,
    pub v1_meta: Mock<'a>,
    pub v2_meta: Mock<'a>,
    pub v1_keys: Mock<'a>,
    pub v2_keys: Mock<'a>,
    pub app_meta: Mock<'a>,
    pub app_keys: Mock<'a>,
}

impl<'a> Aad<'a> {
    /// Serve discovery with `v1_jwks` as the common v1 key set.
    pub fn start(server: &'a MockServer, v1_jwks: &Value) -> Aad<'a> {
        let v1_meta = server.mock(|when, then| {
            when.method(GET)
                .path(v1_meta_path())
                .query_param_missing("appid");
            then.status(200).json_body(json!({
                "issuer": V1_ISSUER_TEMPLATE,
                "jwks_uri": server.url(V1_KEYS),
                "token_endpoint": server.url("/common/oauth2/token"),
                "id_token_signing_alg_values_supported": ["RS256"],
            }));
        });
        let v2_meta = server.mock(|when, then| {
            when.method(GET)
                .path(v2_meta_path())
                .query_param_missing("appid");
            then.status(200).json_body(json!({
                "issuer": V2_ISSUER_TEMPLATE,
                "jwks_uri": server.url(v2_keys_path()),
                "token_endpoint": server.url(format!("/{}/oauth2/v2.0/token", mint::TENANT)),
            }));
        });
        let v1_keys = server.mock(|when, then| {
            when.method(GET).path(V1_KEYS).query_param_missing("appid");
            then.status(200).json_body(v1_jwks.clone());
        });
        let v2_keys = server.mock(|when, then| {
            when.method(GET).path(v2_keys_path());
            then.status(200).json_body(jwks_fixture("jwks-v2.json"));
        });
        let app_meta = server.mock(|when, then| {
            when.method(GET)
                .path(v1_meta_path())
                .query_param("appid", mint::APP);
            then.status(200).json_body(json!({
                "issuer": V1_ISSUER_TEMPLATE,
                "jwks_uri": format!("{}?appid={}", server.url(V1_KEYS), mint::APP),
            }));
        });
        let app_keys = server.mock(|when, then| {
            when.method(GET)
                .path(V1_KEYS)
                .query_param("appid", mint::APP);
            then.status(200).json_body(jwks_fixture("jwks-app.json"));
        });
        Aad {
            server,
            v1_meta,
            v2_meta,
            v1_keys,
            v2_keys,
            app_meta,
            app_keys,
        }
    }
}

/// `mdeauth verify <token> --authority-host <mock> --at VALID_AT --format json`
/// with a private cache directory.
pub fn verify(
    server: &MockServer,
    cache: &Path,
    token: &str,
    extra: &[&str],
) -> (i32, Value, String) {
    let mut c = common::mdeauth();
    c.env("MDEAUTH_CACHE_DIR", cache)
        .args(["--format", "json", "verify", token])
        .args(["--authority-host", &server.base_url()])
        .args(["--at", mint::VALID_AT])
        .args(extra);
    run(c)
}

pub fn run(mut c: assert_cmd::Command) -> (i32, Value, String) {
    let out = c.output().unwrap();
    let code = out.status.code().unwrap_or(-1);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let v = if out.stdout.is_empty() {
        Value::Null
    } else {
        common::json_out(&out)
    };
    (code, v, stderr)
}

/// Finding codes of a report.
pub fn codes(v: &Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| f["code"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Make every cache entry look `secs` older than it is.
pub fn age_cache(dir: &Path, secs: i64) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "json") {
            let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            v["fetched_at"] = json!(v["fetched_at"].as_i64().unwrap() - secs);
            std::fs::write(&p, v.to_string()).unwrap();
        }
    }
}
