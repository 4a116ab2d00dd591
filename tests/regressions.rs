//! Regression tests for crashes found by the fuzz targets (fuzz/run.sh).
//! Each names the target and the input that crashed.

mod common;

use common::mdeauth;

/// fuzz target `aadsts`: `parse_code` sliced the input at byte 6, inside a
/// multi-byte character, and `mdeauth explain` panicked (exit 101).
#[test]
fn explain_with_a_multibyte_character_at_byte_six() {
    for input in ["AADSTé700016", "AADST\u{fffd}\u{fffd}S700016", "12345é"] {
        let out = mdeauth().args(["explain", input]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{input}: {stderr}");
        assert!(!stderr.contains("panicked"), "{input}: {stderr}");
        assert!(
            stderr.starts_with("mdeauth: error: the input holds no AADSTS code"),
            "{input}: {stderr}"
        );
        assert_eq!(stderr.trim_end().lines().count(), 1);
    }
}
