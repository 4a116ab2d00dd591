//! Network faults against local servers, for every HTTP call the tool makes:
//! (discovery, key set via discovery, key set by URL, token endpoint, App
//! Service managed identity, instance metadata service, Microsoft Graph, the
//! MDE API through `probe`) x
//! (connection refused, no answer, 5xx, HTML, truncated JSON, huge
//! Content-Length, endless body, redirect loop, redirect to plain http,
//! one-byte trickle). Each run ends within its timeout with exit 3 and a
//! one-line message naming the problem; with a primed cache, `verify` keeps
//! the last good copy and says so (`cache.stale`).
//!
//! The cases run in parallel threads (they mostly wait), so the whole table
//! takes about as long as its slowest case.

mod aad_mock;
mod common;
mod faultserver;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{main_key, mdeauth, mint};
use faultserver::{Answer, Fault, FaultServer};
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    /// verify: the OpenID metadata document.
    Discovery,
    /// verify: the key set the metadata names.
    DiscoveredJwks,
    /// verify --jwks URL.
    JwksUrl,
    /// token: the OAuth token endpoint (client credentials).
    OAuthToken,
    /// token --flow managed-identity on App Service (IDENTITY_ENDPOINT).
    AppServiceIdentity,
    /// token --flow managed-identity on a VM (the IMDS address, overridden).
    Imds,
    /// app --app-id: Microsoft Graph.
    Graph,
    /// probe: the MDE API itself.
    MdeApi,
}

const ENDPOINTS: [Endpoint; 8] = [
    Endpoint::Discovery,
    Endpoint::DiscoveredJwks,
    Endpoint::JwksUrl,
    Endpoint::OAuthToken,
    Endpoint::AppServiceIdentity,
    Endpoint::Imds,
    Endpoint::Graph,
    Endpoint::MdeApi,
];

/// `--timeout` given to every command.
const TIMEOUT: u64 = 1;

const CLIENT_SECRET: &str = "fault-test-secret~0123456789";

fn keys_path() -> &'static str {
    aad_mock::V1_KEYS
}

fn metadata(keys_url: &str) -> Value {
    json!({
        "issuer": aad_mock::V1_ISSUER_TEMPLATE,
        "jwks_uri": keys_url,
        "token_endpoint": "https://login.microsoftonline.com/common/oauth2/token",
    })
}

fn jwks() -> Value {
    aad_mock::jwks_fixture("jwks.json")
}

/// A token for Microsoft Graph (live `app` refuses any other).
fn graph_token() -> String {
    let key = main_key();
    let mut c = mint::v1_app_claims(&["Application.Read.All"]);
    c["aud"] = serde_json::json!("https://graph.microsoft.com");
    mint::sign(&key, &key.v1_header(), &c)
}

fn token() -> String {
    let key = main_key();
    mint::sign(
        &key,
        &key.v1_header(),
        &mint::v1_app_claims(&["Machine.Read.All"]),
    )
}

/// The servers of one case: `faulty` is the one the fault is applied to.
struct World {
    faulty: FaultServer,
    /// Serves the other half of discovery (metadata or keys) when needed.
    healthy: Option<FaultServer>,
}

impl World {
    fn new(e: Endpoint) -> World {
        let faulty = FaultServer::start(Fault::Healthy);
        let healthy = match e {
            Endpoint::Discovery => {
                let keys = FaultServer::start(Fault::Healthy);
                keys.route(keys_path(), Answer::json(&jwks()));
                faulty.route(
                    &aad_mock::v1_meta_path(),
                    Answer::json(&metadata(&keys.url(keys_path()))),
                );
                Some(keys)
            }
            Endpoint::DiscoveredJwks => {
                let meta = FaultServer::start(Fault::Healthy);
                meta.route(
                    &aad_mock::v1_meta_path(),
                    Answer::json(&metadata(&faulty.url(keys_path()))),
                );
                faulty.route(keys_path(), Answer::json(&jwks()));
                Some(meta)
            }
            Endpoint::JwksUrl => {
                faulty.route(keys_path(), Answer::json(&jwks()));
                None
            }
            _ => None,
        };
        World { faulty, healthy }
    }

    /// The command line that makes the call to the faulty server.
    fn command(&self, e: Endpoint, cache: &Path) -> assert_cmd::Command {
        let mut c = mdeauth();
        c.env("MDEAUTH_CACHE_DIR", cache).args(["--format", "json"]);
        let timeout = TIMEOUT.to_string();
        match e {
            Endpoint::Discovery => {
                c.args(["verify", "-", "--at", mint::VALID_AT])
                    .write_stdin(token())
                    .args(["--authority-host", &self.faulty.base_url()])
                    .args(["--timeout", &timeout]);
            }
            Endpoint::DiscoveredJwks => {
                let meta = self.healthy.as_ref().unwrap();
                c.args(["verify", "-", "--at", mint::VALID_AT])
                    .write_stdin(token())
                    .args(["--authority-host", &meta.base_url()])
                    .args(["--timeout", &timeout]);
            }
            Endpoint::JwksUrl => {
                c.args(["verify", "-", "--at", mint::VALID_AT])
                    .write_stdin(token())
                    .args(["--jwks", &self.faulty.url(keys_path())])
                    .args(["--timeout", &timeout]);
            }
            Endpoint::OAuthToken => {
                c.env("AZURE_CLIENT_SECRET", CLIENT_SECRET)
                    .args(["token", "--tenant", mint::TENANT, "--client-id", mint::APP])
                    .args(["--authority-host", &self.faulty.base_url()])
                    .args(["--timeout", &timeout]);
            }
            Endpoint::AppServiceIdentity => {
                c.env("IDENTITY_ENDPOINT", self.faulty.url("/msi/token"))
                    .env("IDENTITY_HEADER", "fault-test-header")
                    .args(["token", "--flow", "managed-identity"])
                    .args(["--timeout", &timeout]);
            }
            Endpoint::Imds => {
                c.env(
                    "MDEAUTH_IMDS_ENDPOINT",
                    self.faulty.url("/metadata/identity/oauth2/token"),
                )
                .args(["token", "--flow", "managed-identity"])
                .args(["--timeout", &timeout]);
            }
            Endpoint::Graph => {
                c.env("MDEAUTH_GRAPH_TOKEN", graph_token())
                    .args(["app", "--app-id", mint::APP])
                    .args(["--permission", "Machine.Read.All"])
                    .args(["--context", "application"])
                    .args(["--graph-endpoint", &self.faulty.base_url()])
                    .args(["--timeout", &timeout]);
            }
            Endpoint::MdeApi => {
                c.env("MDEAUTH_TOKEN", token())
                    .args(["probe", "--at", mint::VALID_AT])
                    .args(["--call", "GET /api/machines"])
                    .args(["--api-base", &self.faulty.base_url()])
                    .args(["--timeout", &timeout]);
            }
        }
        c.timeout(Duration::from_secs(40));
        c
    }
}

/// Text the one-line error must contain for each fault.
fn expected_text(f: Fault) -> &'static [&'static str] {
    match f {
        Fault::Healthy => &[],
        Fault::Refused => &["cannot connect"],
        Fault::NoResponse | Fault::Trickle => &["no complete response", "within"],
        Fault::Status5xx => &["503"],
        Fault::Html => &["HTML"],
        Fault::TruncatedJson => &["truncated JSON"],
        Fault::CutOff => &["was cut off after", "the connection dropped mid-answer"],
        Fault::HugeLength | Fault::EndlessBody => &["larger than"],
        Fault::RedirectLoop => &["redirects"],
        Fault::RedirectToHttp => &["non-https", "http://login.example.com"],
    }
}

struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

fn run(mut c: assert_cmd::Command) -> Outcome {
    let started = Instant::now();
    let out = c.output().unwrap();
    Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}

fn limit() -> Duration {
    // The timeout, plus process start and the report.
    Duration::from_secs(TIMEOUT) + Duration::from_millis(2500)
}

/// One cold case: no cache, the call fails, exit 3 and one line. Returns a
/// failure description instead of panicking, so every case is reported.
fn cold(e: Endpoint, f: Fault) -> Result<(), String> {
    let mut w = World::new(e);
    w.faulty.set(f);
    let cache = tempfile::tempdir().unwrap();
    let o = run(w.command(e, cache.path()));
    let ctx = format!("{e:?} x {f:?}");
    // probe reports every failure (exit 3): what the API answered, or why
    // there was no answer.
    if e == Endpoint::MdeApi && f != Fault::Healthy {
        return probe_answered(&ctx, f, &o);
    }
    let line = o.stderr.trim_end();
    let mut errs = Vec::new();
    if o.code != 3 {
        errs.push(format!("exit {} (want 3)", o.code));
    }
    if line.lines().count() != 1 || !line.starts_with("mdeauth: error: ") {
        errs.push("not a one-line error".to_string());
    }
    if line.contains("panicked") {
        errs.push("panic".to_string());
    }
    for t in expected_text(f) {
        if !line.contains(t) {
            errs.push(format!("no {t:?} in the message"));
        }
    }
    if o.elapsed > limit() {
        errs.push(format!("took {:?}", o.elapsed));
    }
    if !o.stdout.is_empty() {
        errs.push("wrote a report".to_string());
    }
    if line.contains(CLIENT_SECRET) {
        errs.push("the message shows the client secret".to_string());
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{ctx}: {} [{:?}] stderr: {line} stdout: {}",
            errs.join("; "),
            o.elapsed,
            o.stdout.chars().take(300).collect::<String>()
        ))
    }
}

/// `probe` reports what the MDE API answered, so an answer is a report, not
/// an error: a 5xx is exit 3 with `probe.server_error`; a 200 whose body is
/// HTML or cut-off JSON is exit 3 with `probe.unexpected_body` (something
/// other than the API answered, or the answer was cut off: never a pass).
fn probe_answered(ctx: &str, f: Fault, o: &Outcome) -> Result<(), String> {
    let v: Value = serde_json::from_str(&o.stdout)
        .map_err(|_| format!("{ctx}: no JSON report: {}", o.stderr))?;
    let find = |code: &str| {
        v["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|x| x["code"] == code)
            .map(|x| x["message"].as_str().unwrap_or_default().to_string())
    };
    let ok = match f {
        Fault::Status5xx => {
            o.code == 3 && find("probe.server_error").is_some_and(|m| m.contains("503"))
        }
        Fault::Html => {
            o.code == 3 && find("probe.unexpected_body").is_some_and(|m| m.contains("HTML page"))
        }
        Fault::TruncatedJson => {
            o.code == 3
                && find("probe.unexpected_body")
                    .is_some_and(|m| m.contains("not a whole JSON document"))
        }
        _ => {
            o.code == 3
                && o.stderr.is_empty()
                && v["findings"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|x| x["code"] == "probe.no_answer")
                    .is_some_and(|x| {
                        // The one-line error's words: message, then fix.
                        let m = format!("{}; {}", x["message"], x["fix"]);
                        m.starts_with("\"GET /api/machines: ")
                            && expected_text(f).iter().all(|t| m.contains(t))
                    })
        }
    };
    if ok && o.elapsed <= limit() && !o.stderr.contains("panicked") {
        Ok(())
    } else {
        Err(format!(
            "{ctx}: exit {} [{:?}] {}",
            o.code, o.elapsed, o.stdout
        ))
    }
}

/// The cache file holding `url`, as bytes.
fn cache_file(dir: &Path, url: &str) -> Option<(std::path::PathBuf, Vec<u8>)> {
    std::fs::read_dir(dir).ok()?.find_map(|d| {
        let p = d.ok()?.path();
        let bytes = std::fs::read(&p).ok()?;
        let v: Value = serde_json::from_slice(&bytes).ok()?;
        (v["url"] == url).then_some((p, bytes))
    })
}

/// Prime the cache, age it past its lifetime, break the server: `verify`
/// still passes on the cached copy, warns `cache.stale`, and leaves the
/// cached copy of the failing URL byte for byte as it was.
fn stale(e: Endpoint, f: Fault) -> Result<(), String> {
    let ctx = format!("{e:?} x {f:?} (primed cache)");
    let mut w = World::new(e);
    let cache = tempfile::tempdir().unwrap();
    let primed = run(w.command(e, cache.path()));
    if primed.code != 0 {
        return Err(format!("{ctx}: priming failed: {}", primed.stderr));
    }
    aad_mock::age_cache(cache.path(), 2 * 24 * 3600);
    let url = match e {
        Endpoint::Discovery => w.faulty.url(&aad_mock::v1_meta_path()),
        _ => w.faulty.url(keys_path()),
    };
    let Some((file, before)) = cache_file(cache.path(), &url) else {
        return Err(format!("{ctx}: {url} was not cached"));
    };
    w.faulty.set(f);
    let o = run(w.command(e, cache.path()));
    let mut errs = Vec::new();
    if o.code != 0 {
        errs.push(format!("exit {} (want 0 on the cached keys)", o.code));
    }
    match serde_json::from_str::<Value>(&o.stdout) {
        Ok(v) => {
            let stale: Vec<&Value> = v["findings"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|x| x["code"] == "cache.stale")
                .collect();
            if stale.is_empty() {
                errs.push("no cache.stale warning".to_string());
            } else if !stale.iter().any(|x| {
                let m = x["message"].as_str().unwrap_or_default();
                m.contains(&url) && expected_text(f).iter().all(|t| m.contains(t))
            }) {
                errs.push(format!("cache.stale does not explain the fault: {stale:?}"));
            }
            if v["signature"]["status"] != "valid" {
                errs.push(format!("signature {}", v["signature"]["status"]));
            }
        }
        Err(_) => errs.push("no JSON report".to_string()),
    }
    if std::fs::read(&file).ok().as_deref() != Some(&before[..]) {
        errs.push("the cached copy changed".to_string());
    }
    if o.elapsed > limit() {
        errs.push(format!("took {:?}", o.elapsed));
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{ctx}: {} stderr: {} stdout: {}",
            errs.join("; "),
            o.stderr.trim_end(),
            o.stdout.chars().take(400).collect::<String>()
        ))
    }
}

/// Run every case on a pool of threads; collect failures.
fn table(cases: Vec<(Endpoint, Fault)>, f: fn(Endpoint, Fault) -> Result<(), String>) {
    let n = cases.len();
    let cases = std::sync::Mutex::new(cases);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..12 {
            s.spawn(|| {
                loop {
                    let Some((e, fault)) = cases.lock().unwrap().pop() else {
                        break;
                    };
                    let mut result = f(e, fault);
                    // `Refused` frees its port, and a case starting on another
                    // thread at that moment may be given the same port: mdeauth
                    // then reaches that server instead of a closed port. Such a
                    // collision is rare; a real fault fails every attempt.
                    for _ in 0..2 {
                        if fault != Fault::Refused || result.is_ok() {
                            break;
                        }
                        result = f(e, fault);
                    }
                    if let Err(msg) = result {
                        failures.lock().unwrap().push(msg);
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {n} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_endpoint_fails_cleanly_on_every_fault() {
    let mut cases = Vec::new();
    for e in ENDPOINTS {
        for f in Fault::ALL {
            cases.push((e, f));
        }
    }
    assert_eq!(cases.len(), 88);
    table(cases, cold);
}

#[test]
fn verify_keeps_the_last_good_copy_on_every_fault() {
    let mut cases = Vec::new();
    for e in [
        Endpoint::Discovery,
        Endpoint::DiscoveredJwks,
        Endpoint::JwksUrl,
    ] {
        for f in Fault::ALL {
            cases.push((e, f));
        }
    }
    table(cases, stale);
}

#[test]
fn the_healthy_world_works() {
    // The fixture servers themselves are sound: each verify endpoint passes.
    for e in [
        Endpoint::Discovery,
        Endpoint::DiscoveredJwks,
        Endpoint::JwksUrl,
    ] {
        let w = World::new(e);
        let cache = tempfile::tempdir().unwrap();
        let o = run(w.command(e, cache.path()));
        assert_eq!(o.code, 0, "{e:?}: {}", o.stderr);
        assert!(w.faulty.hits() >= 1, "{e:?}: the server was used");
    }
}
