//! Property tests (proptest) for input normalisation and decoding, run in the
//! normal test suite. The coverage-guided fuzz targets in `fuzz/` go further.

use mdeauth::input::normalize;
use mdeauth::token::Token;
use proptest::prelude::*;

fn b64url_segment() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_-]{1,120}"
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Arbitrary bytes never panic: they normalise or fail with an input error.
    #[test]
    fn normalize_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        if let Ok(c) = normalize(&bytes) {
            prop_assert_eq!(c.token.split('.').count(), 3);
            let _ = Token::decode(c);
        }
    }

    /// Any three base64url segments decode or fail cleanly.
    #[test]
    fn decode_never_panics(h in b64url_segment(), p in b64url_segment(), s in "[A-Za-z0-9_-]{0,80}") {
        if let Ok(c) = normalize(format!("{h}.{p}.{s}").as_bytes()) {
            let _ = Token::decode(c);
        }
    }

    /// Every way people wrap a token yields the same compact token.
    #[test]
    fn wrappers_are_transparent(
        h in b64url_segment(), p in b64url_segment(), s in b64url_segment(),
        wrap in 0usize..7, cut in 1usize..40,
    ) {
        let tok = format!("{h}.{p}.{s}");
        let wrapped_lines: String = tok
            .as_bytes()
            .chunks(cut)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join("\n");
        let input = match wrap {
            0 => tok.clone(),
            1 => format!("Bearer {tok}"),
            2 => format!("Authorization: Bearer {tok}\r\n"),
            3 => format!("  \"{tok}\"\n"),
            4 => format!("{{\"access_token\":\"{tok}\",\"token_type\":\"Bearer\"}}"),
            5 => format!("{{\"accessToken\":\"{tok}\"}}"),
            _ => wrapped_lines,
        };
        let c = normalize(input.as_bytes()).unwrap();
        prop_assert_eq!(c.token, tok);
    }
}
