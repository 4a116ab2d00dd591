//! JWKS parsing (src/jwks.rs) and key selection on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mdeauth::jwks::KeySet;

fuzz_target!(|data: &[u8]| {
    let Ok(set) = KeySet::parse("fuzz", data) else { return };
    let ids = set.ids();
    let _ = set.select(ids.first().map(String::as_str), None);
    let _ = set.select(Some("nope"), Some("nope"));
    let _ = set.select(None, None);
});
