//! The scan finder (src/scan/find.rs) and HAR reader (src/scan/har.rs,
//! behind the entry-size bound of src/scan/spool.rs, small here so that
//! entries are spooled) on arbitrary bytes: candidates are in bounds, made
//! of token bytes, and the same whether found at once or with line numbers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mdeauth::input::is_token_byte;
use mdeauth::scan::find::{self, Finder};
use mdeauth::scan::{har, spool};

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
        let queue = spool::Queue::default();
        let bounded = spool::Bounded::new(data, 64, queue.clone());
        let _ = har::each_entry(bounded, |e| {
            if let Some(id) = e.spooled_id() {
                let _ = spool::take(&queue, id);
            }
            let _ = e.method();
            let _ = e.url();
            for f in e.fields() {
                let _ = finder.all(f.text.as_bytes());
            }
        });
    }
});
