//! Benchmark input generator: writes a log of a given size with fixture
//! tokens embedded at a known count, and prints that count.
//!
//!     cargo run --release --example gen-log -- --mb 1024 --out big.log
//!     cargo run --release --example gen-log -- --unique 20000 --out unique.log
//!     cargo run --release --example gen-log -- --har 20000 --out many.har
//!     cargo run --release --example gen-log -- --har 0 --body-mb 200 --out big.har
//!
//! `--mb N` writes about N MiB of log lines; every `--every K`th line (default
//! 20) carries one fixture token (rotating through the fixture set, at most
//! one token per line, so `rg -c` counts tokens). `--unique N` instead writes
//! N lines, each with a *distinct* token: the payload of `app-v1.jwt` with a
//! numbered `uti` claim, re-signed with the TEST-ONLY fixture key so every
//! token verifies against `fixtures/keys/jwks.json` (it exists to measure
//! decode + checks + RS256 verification per unique token). Only TEST-ONLY
//! fixture material is written. `--har N` instead writes a HAR capture of N
//! API calls, each with a fixture token in its `Authorization` header and a
//! JSON response of 40 machines (about 7 KB); `--body-mb M` adds one entry
//! whose response body is M MiB with a token at its end (a download, for
//! scan's large-entry path). Output on stdout: `tokens=<n> lines=<n>
//! bytes=<n>` (for a HAR, lines are entries).

use std::io::{BufWriter, Write};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

const FIXTURES: [&str; 5] = [
    include_str!("../fixtures/tokens/app-v1.jwt"),
    include_str!("../fixtures/tokens/delegated-v1.jwt"),
    include_str!("../fixtures/tokens/app-v2.jwt"),
    include_str!("../fixtures/tokens/expired.jwt"),
    include_str!("../fixtures/tokens/graph-nonce.jwt"),
];

const FILLER: [&str; 4] = [
    "INFO  http GET /api/machines?$top=100 status=200 elapsed_ms=84 request_id=",
    "DEBUG cache lookup key=machines:page:3 hit=false shard=7 request_id=",
    "WARN  retrying after 429 Too Many Requests retry_after_s=2 request_id=",
    "INFO  exported 100 machines to blob container=mde-export request_id=",
];

struct Opts {
    mb: u64,
    every: u64,
    unique: Option<u64>,
    har: Option<u64>,
    body_mb: u64,
    out: String,
}

fn parse() -> Result<Opts, String> {
    let mut o = Opts {
        mb: 1024,
        every: 20,
        unique: None,
        har: None,
        body_mb: 0,
        out: String::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--mb" => o.mb = val()?.parse().map_err(|e| format!("--mb: {e}"))?,
            "--every" => o.every = val()?.parse().map_err(|e| format!("--every: {e}"))?,
            "--unique" => o.unique = Some(val()?.parse().map_err(|e| format!("--unique: {e}"))?),
            "--har" => o.har = Some(val()?.parse().map_err(|e| format!("--har: {e}"))?),
            "--body-mb" => o.body_mb = val()?.parse().map_err(|e| format!("--body-mb: {e}"))?,
            "--out" => o.out = val()?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if o.out.is_empty() {
        return Err("--out PATH is required".into());
    }
    if o.every == 0 {
        return Err("--every must be at least 1".into());
    }
    Ok(o)
}

fn main() {
    let o = match parse() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("gen-log: {e}");
            std::process::exit(2);
        }
    };
    let f = std::fs::File::create(&o.out).unwrap_or_else(|e| {
        eprintln!("gen-log: cannot create {}: {e}", o.out);
        std::process::exit(3);
    });
    let mut w = BufWriter::with_capacity(1 << 20, f);
    let (mut tokens, mut lines, mut bytes) = (0u64, 0u64, 0u64);
    let mut put = |s: &str, bytes: &mut u64, lines: &mut u64| {
        w.write_all(s.as_bytes()).expect("write");
        *bytes += s.len() as u64;
        *lines += 1;
    };
    if let Some(n) = o.har {
        let body = serde_json::json!({"value": (0..40).map(|i| serde_json::json!({
            "id": format!("m{i}"), "computerDnsName": format!("host{i}.contoso.local"),
            "osPlatform": "Windows10", "healthStatus": "Active"})).collect::<Vec<_>>()})
        .to_string();
        put(
            r#"{"log":{"version":"1.2","creator":{"name":"gen-log","version":"1"},"pages":[],"entries":["#,
            &mut bytes,
            &mut lines,
        );
        for i in 0..n {
            let t = FIXTURES[(i % FIXTURES.len() as u64) as usize].trim();
            let entry = serde_json::json!({
                "startedDateTime": "2026-03-02T09:30:00Z", "time": 12.5,
                "request": {"method": "GET",
                    "url": format!("https://api.securitycenter.microsoft.com/api/machines?$top=40&$skip={i}"),
                    "httpVersion": "HTTP/2", "headers": [
                        {"name": "Authorization", "value": format!("Bearer {t}")},
                        {"name": "Accept", "value": "application/json"}],
                    "queryString": [], "cookies": [], "headersSize": -1, "bodySize": 0},
                "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/2",
                    "headers": [{"name": "content-type", "value": "application/json"}],
                    "cookies": [], "content": {"size": body.len(), "mimeType": "application/json", "text": body},
                    "redirectURL": "", "headersSize": -1, "bodySize": -1},
                "cache": {}, "timings": {"send": 0, "wait": 10, "receive": 2}});
            let sep = if i == 0 { "" } else { "," };
            put(&format!("{sep}{entry}"), &mut bytes, &mut lines);
            tokens += 1;
        }
        if o.body_mb > 0 {
            let sep = if n == 0 { "" } else { "," };
            put(
                &format!(
                    r#"{sep}{{"request":{{"method":"GET","url":"https://api.securitycenter.microsoft.com/api/machines/SoftwareInventoryExport","headers":[]}},"response":{{"status":200,"content":{{"mimeType":"text/plain","text":""#
                ),
                &mut bytes,
                &mut lines,
            );
            let filler = format!("{}\\n", "x".repeat(1021));
            for _ in 0..(o.body_mb << 10) {
                put(&filler, &mut bytes, &mut lines);
            }
            let t = FIXTURES[0].trim();
            put(&format!(r#"Bearer {t}"}}}}}}"#), &mut bytes, &mut lines);
            tokens += 1;
        }
        put("]}}", &mut bytes, &mut lines);
        w.flush().expect("flush");
        println!(
            "tokens={tokens} lines={n} bytes={bytes}",
            n = n + u64::from(o.body_mb > 0)
        );
        return;
    }
    match o.unique {
        Some(n) => {
            let base = FIXTURES[0].trim();
            let mut parts = base.split('.');
            let (h, p, s) = (
                parts.next().unwrap(),
                parts.next().unwrap(),
                parts.next().unwrap(),
            );
            let _ = s;
            let payload = URL_SAFE_NO_PAD.decode(p).expect("fixture payload");
            let mut claims: serde_json::Value = serde_json::from_slice(&payload).unwrap();
            let key = jsonwebtoken::EncodingKey::from_rsa_pem(include_bytes!(
                "../fixtures/keys/test-signing-key.pem"
            ))
            .expect("fixture key");
            for i in 0..n {
                claims["uti"] = serde_json::json!(format!("benchUnique{i:012}"));
                let p2 = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
                let input = format!("{h}.{p2}");
                let sig = jsonwebtoken::crypto::sign(
                    input.as_bytes(),
                    &key,
                    jsonwebtoken::Algorithm::RS256,
                )
                .expect("sign");
                let line =
                    format!("2026-03-02T09:30:00Z DEBUG Authorization: Bearer {input}.{sig}\n");
                put(&line, &mut bytes, &mut lines);
                tokens += 1;
            }
        }
        None => {
            let limit = o.mb << 20;
            while bytes < limit {
                let i = lines;
                let sec = i % 86_400;
                let stamp = format!(
                    "2026-03-02T{:02}:{:02}:{:02}.{:03}Z",
                    sec / 3600,
                    sec / 60 % 60,
                    sec % 60,
                    i % 1000
                );
                let line = if i % o.every == o.every - 1 {
                    let t = FIXTURES[(tokens % FIXTURES.len() as u64) as usize].trim();
                    tokens += 1;
                    format!("{stamp} DEBUG outgoing request headers: Authorization: Bearer {t}\n")
                } else {
                    format!(
                        "{stamp} {}{:016x}\n",
                        FILLER[(i % 4) as usize],
                        i.wrapping_mul(0x9e37_79b9_7f4a_7c15)
                    )
                };
                put(&line, &mut bytes, &mut lines);
            }
        }
    }
    w.flush().expect("flush");
    println!("tokens={tokens} lines={lines} bytes={bytes}");
}
