//! The whole scan reader (src/scan/mod.rs) on arbitrary bytes, with the
//! offline checks as evaluator: format sniffing (gzip, other compressed
//! formats, UTF-16 by mark or by its first bytes, HAR or text), block-wise
//! reading and de-duplication. It must not panic, a panic inside a token's
//! evaluation (caught, and reported as `scan.internal_error`) counts as one,
//! and every byte of an uncompressed input is read unless a note says where
//! reading stopped (a HAR document or gzip data that goes bad; another
//! compressed format is skipped).
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use mdeauth::checks::Clock;
use mdeauth::scan::compressed::{self, Encoding};
use mdeauth::scan::{self, OfflineChecks, Opened};

fuzz_target!(|data: &[u8]| {
    let input = Opened {
        name: Arc::from("fuzz.log"),
        reader: Box::new(std::io::Cursor::new(data.to_vec())),
        har_name: false,
        // Found in a folder: other compressed formats are a note, not an error.
        named: false,
    };
    let evaluator = OfflineChecks {
        clock: Clock {
            now: 1_772_443_800,
            leeway: 300,
        },
    };
    let report = scan::scan([Ok(input)], &evaluator, 1_772_443_800, &|_| {})
        .expect("reading from memory cannot fail");
    // Reading stops where a HAR document or gzip data goes bad (a note says
    // so); otherwise an uncompressed input is read to its end.
    let read = report.summary.bytes;
    assert!(read <= data.len() as u64);
    let stopped = report.summary.notes.iter().any(|n| {
        n.contains("not a complete HAR document") || n.contains("gzip data is damaged")
    });
    if !stopped && compressed::sniff(&data[..data.len().min(512)]) == Encoding::Plain {
        assert_eq!(read, data.len() as u64);
    }
    assert_eq!(report.summary.unique, report.tokens.len() as u64);
    assert!(report.summary.occurrences >= report.summary.unique);
    for t in &report.tokens {
        assert!(
            t.findings.iter().all(|f| f.code != "scan.internal_error"),
            "a token's evaluation panicked"
        );
    }
});
