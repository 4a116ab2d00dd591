//! Plan file parsing (src/plan.rs) and call resolution on arbitrary text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mdeauth::plan::Plan;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(plan) = Plan::parse(text, std::path::Path::new("fuzz.toml")) {
        let _ = plan.resolve();
    }
});
