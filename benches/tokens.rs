//! Criterion benchmarks: decode, classify + offline checks, catalogue
//! matching (calls resolved to catalogue rows, and a plan checked against a
//! token's permissions), the finder and the scan engine over a 1 MB log, and
//! RS256 verification three ways: jsonwebtoken's (the key rebuilt per call),
//! the path `verify` and `scan` take (the key parsed once, SHA-256 then the
//! RSA operation), and the RSA operation alone on a known digest (what
//! `openssl speed rsa2048` times). Run with `cargo bench --bench tokens`.

use std::hint::black_box;
use std::io::Cursor;
use std::path::Path;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey};
use mdeauth::catalog;
use mdeauth::checks::{self, Clock};
use mdeauth::commands::check;
use mdeauth::finding::Severity;
use mdeauth::input;
use mdeauth::plan::Plan;
use mdeauth::report::Report;
use mdeauth::scan::{self, OfflineChecks, Opened, find};
use mdeauth::token::Token;

const TOKEN: &str = include_str!("../fixtures/tokens/app-v1.jwt");
const JWKS: &str = include_str!("../fixtures/keys/jwks.json");
/// Four calls, all granted by the fixture token's roles.
const PLAN: &str = include_str!("../fixtures/plans/soc-automation.toml");
/// Calls as people write them: a bare path, a placeholder, a real id, a full
/// URL with a query, a lower-case method.
const CALLS: [&str; 6] = [
    "GET /api/machines",
    "POST /api/machines/{id}/isolate",
    "GET https://api.securitycenter.microsoft.com/api/machines/1e5bc9d7e413ddd7902c2932e418702b84d0cc07/software",
    "GET https://api.security.microsoft.com/api/alerts?$filter=severity eq 'High'",
    "GET /api/vulnerabilities/machinesVulnerabilities",
    "post /api/advancedqueries/run",
];
/// 2026-03-02T09:30:00Z: the fixture tokens are valid then.
const VALID_AT: i64 = 1_772_443_800;
const CLOCK: Clock = Clock {
    now: VALID_AT,
    leeway: 300,
};

/// About 1 MiB of log lines, one in 20 carrying a fixture token.
fn one_mb_log() -> (Vec<u8>, usize) {
    let tokens = [
        include_str!("../fixtures/tokens/app-v1.jwt").trim(),
        include_str!("../fixtures/tokens/delegated-v1.jwt").trim(),
        include_str!("../fixtures/tokens/expired.jwt").trim(),
    ];
    let mut log = String::new();
    let mut n = 0;
    let mut i = 0usize;
    while log.len() < 1 << 20 {
        if i % 20 == 19 {
            log.push_str(&format!(
                "2026-03-02T09:30:00Z DEBUG Authorization: Bearer {}\n",
                tokens[n % tokens.len()]
            ));
            n += 1;
        } else {
            log.push_str(&format!(
                "2026-03-02T09:30:00Z INFO GET /api/machines status=200 request_id={i:016x}\n"
            ));
        }
        i += 1;
    }
    (log.into_bytes(), n)
}

fn decode(c: &mut Criterion) {
    c.bench_function("decode (normalize + Token::decode)", |b| {
        b.iter(|| {
            let compact = input::normalize(black_box(TOKEN.as_bytes())).unwrap();
            black_box(Token::decode(compact).unwrap())
        })
    });
}

/// What `scan`'s evaluating threads do per token: the text is already a
/// compact JWS, and the header is the one the token before had. Run last:
/// the vector-code setting it turns on lasts for the rest of the process.
fn decode_compact(c: &mut Criterion) {
    let compact = input::normalize(TOKEN.as_bytes()).unwrap();
    // scan's setting: base64 and dot search with the vector code.
    input::expect_many_tokens();
    let mut last = None;
    c.bench_function(
        "Token::decode_sharing (a compact JWS, as scan decodes; the header shared)",
        |b| {
            b.iter(|| {
                black_box(Token::decode_sharing(black_box(compact.clone()), &mut last).unwrap())
            })
        },
    );
}

fn classify(c: &mut Criterion) {
    let token = Token::decode(input::normalize(TOKEN.as_bytes()).unwrap()).unwrap();
    let claims = token.claims.as_ref().unwrap();
    c.bench_function("classify + offline checks", |b| {
        b.iter(|| {
            let cls = black_box(claims).classify();
            let mut f = checks::header(&token.header);
            f.extend(checks::claims(&token.header, claims, &cls, CLOCK));
            black_box(f)
        })
    });
}

fn catalogue(c: &mut Criterion) {
    let mut g = c.benchmark_group("catalogue");
    g.throughput(Throughput::Elements(CALLS.len() as u64));
    g.bench_function("resolve 6 calls (parse + match a row)", |b| {
        b.iter(|| {
            for call in CALLS {
                black_box(catalog::resolve(black_box(call)).unwrap());
            }
        })
    });
    g.finish();

    let plan = Plan::parse(PLAN, Path::new("fixtures/plans/soc-automation.toml")).unwrap();
    let token = Token::decode(input::normalize(TOKEN.as_bytes()).unwrap()).unwrap();
    let claims = token.claims.as_ref().unwrap();
    let run = || {
        let wanted = check::wanted(Some(&plan), &[]).unwrap();
        let mut report = Report::new("check", VALID_AT);
        check::evaluate(&mut report, claims, Some(&plan), &wanted, None);
        report
    };
    let first = run();
    assert_eq!(first.calls.as_ref().map(Vec::len), Some(4));
    assert!(
        first.findings.iter().all(|f| f.severity != Severity::Error),
        "the fixture token's roles grant every call of the plan"
    );
    c.bench_function(
        "check a 4-call plan against the token (resolve + permissions + least privilege)",
        |b| b.iter(|| black_box(run())),
    );
}

fn finder(c: &mut Criterion) {
    let (log, n) = one_mb_log();
    let mut g = c.benchmark_group("1 MiB log");
    g.throughput(Throughput::Bytes(log.len() as u64));
    g.bench_function("finder (candidates with line numbers)", |b| {
        b.iter(|| {
            let found = find::find_with_lines(black_box(&log));
            assert_eq!(found.len(), n);
            found.len()
        })
    });
    g.bench_function("scan engine (find + dedup + evaluate)", |b| {
        let ev = OfflineChecks { clock: CLOCK };
        b.iter(|| {
            let input = Opened {
                name: Arc::from("bench.log"),
                reader: Box::new(Cursor::new(log.clone())),
                har_name: false,
                named: true,
            };
            let r = scan::scan([Ok(input)], &ev, VALID_AT, &|_| {}).unwrap();
            assert_eq!(r.summary.occurrences, n as u64);
            r.summary.unique
        })
    });
    g.finish();
}

fn verify_rs256(c: &mut Criterion) {
    let set: JwkSet = serde_json::from_str(JWKS).unwrap();
    let key = DecodingKey::from_jwk(&set.keys[0]).unwrap();
    let token = TOKEN.trim();
    let (message, signature) = token.rsplit_once('.').unwrap();
    assert!(
        jsonwebtoken::crypto::verify(signature, message.as_bytes(), &key, Algorithm::RS256)
            .unwrap(),
        "fixture token verifies with fixtures/keys/jwks.json"
    );
    c.bench_function("RS256 verify (jsonwebtoken::crypto::verify)", |b| {
        b.iter(|| {
            jsonwebtoken::crypto::verify(
                black_box(signature),
                black_box(message.as_bytes()),
                &key,
                Algorithm::RS256,
            )
            .unwrap()
        })
    });

    let keys = mdeauth::jwks::KeySet::parse("fixtures/keys/jwks.json", JWKS.as_bytes()).unwrap();
    let parsed = keys.keys[0]
        .rsa
        .clone()
        .expect("aws-lc parses the fixture key");
    let sig = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, signature)
        .unwrap();
    use aws_lc_rs::digest::{SHA256, digest};
    c.bench_function("RS256 verify, key parsed once (SHA-256 + RSA)", |b| {
        b.iter(|| {
            let d = digest(&SHA256, black_box(message.as_bytes()));
            parsed.verify_digest_sig(&d, black_box(&sig)).unwrap()
        })
    });
    let d = digest(&SHA256, message.as_bytes());
    c.bench_function("RS256 verify, RSA operation alone (digest given)", |b| {
        b.iter(|| {
            parsed
                .verify_digest_sig(black_box(&d), black_box(&sig))
                .unwrap()
        })
    });
}

criterion_group!(
    benches,
    decode,
    classify,
    catalogue,
    finder,
    verify_rs256,
    decode_compact
);
criterion_main!(benches);
