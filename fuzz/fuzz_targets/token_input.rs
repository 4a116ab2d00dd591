//! Input normalisation, decoding, classification and offline checks on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mdeauth::checks::{self, Clock};
use mdeauth::input::normalize;
use mdeauth::token::Token;

fuzz_target!(|data: &[u8]| {
    let Ok(compact) = normalize(data) else { return };
    let Ok(token) = Token::decode(compact) else { return };
    let _ = checks::header(&token.header);
    if let Ok(claims) = &token.claims {
        let cls = claims.classify();
        let _ = checks::claims(&token.header, claims, &cls, Clock { now: 1_772_443_800, leeway: 300 });
    }
});
