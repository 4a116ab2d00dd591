//! AADSTS error parsing (src/aadsts.rs): pasted text, token endpoint JSON, codes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mdeauth::aadsts;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let x = aadsts::explain_error_body(&text);
    let _ = x.findings();
    let _ = x.consent_related();
    if let Some(code) = aadsts::parse_code(&text) {
        let _ = aadsts::explain_code(code).findings();
    }
});
