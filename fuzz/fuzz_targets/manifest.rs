//! App registration manifest parsing (src/applint/manifest.rs) on arbitrary JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mdeauth::applint::manifest::{AppRegistration, parse_time};

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = parse_time(s);
    }
    let Ok(doc) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    if let Ok(app) = AppRegistration::parse(&doc, "fuzz.json") {
        let _ = app.is_multi_tenant();
    }
});
