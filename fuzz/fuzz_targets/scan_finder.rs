//! The scan finder (src/scan/find.rs) and HAR reader (src/scan/har.rs,
//! behind the entry-size bound of src/scan/bounded.rs, small here so that
//! entries are handed over as large) on arbitrary bytes: candidates are in bounds, made
//! of token bytes, and the same whether found at once or with line numbers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mdeauth::input::is_token_byte;
use mdeauth::scan::find::{self, Finder};
use mdeauth::scan::{bounded, har};

fuzz_target!(|data: &[u8]| {
    let finder = Finder::new();
    let all = finder.all(data);
    for c in &all {
        assert!(c.offset + c.text.len() <= data.len());
        assert_eq!(&data[c.offset..c.offset + c.text.len()], c.text.as_bytes());
        assert!(c.text.bytes().all(is_token_byte));
        assert!(c.text.len() <= find::MAX_TOKEN);
    }
    let lined = find::find_with_lines(data);
    assert_eq!(lined.len(), all.len());
    for (line, c) in &lined {
        assert_eq!(*line, find::count_newlines(&data[..c.offset]) + 1);
    }
    if har::sniff(data) {
        let reader = bounded::Bounded::new(data, 64, |text: &mut dyn std::io::Read, _| {
            let mut all = Vec::new();
            text.read_to_end(&mut all)?;
            let _ = finder.all(&all);
            Ok(())
        });
        let _ = har::each_entry(reader, |e| {
            let _ = e.large();
            let _ = e.method();
            let _ = e.url();
            for f in e.fields() {
                let _ = finder.all(f.text.as_bytes());
            }
        });
    }
});
