//! SHA-256 and SHA-1 through aws-lc, the crypto library already linked for
//! signatures: its CPU feature detection runs once at start-up anyway, so
//! hashing adds no second detection (each CPUID traps to the hypervisor on a
//! VM, about 6 µs apiece on the machine the benchmarks run on).

use aws_lc_rs::digest;

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    array(digest::digest(&digest::SHA256, data))
}

/// SHA-256 of a compact token and of its signing input (everything before
/// the last `.`, `None` without one), in one pass over the text: the
/// signing input is a prefix of the token.
pub fn sha256_token(token: &[u8]) -> ([u8; 32], Option<[u8; 32]>) {
    let Some(dot) = memchr::memrchr(b'.', token) else {
        return (sha256(token), None);
    };
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(&token[..dot]);
    let signing = array(ctx.clone().finish());
    ctx.update(&token[dot..]);
    (array(ctx.finish()), Some(signing))
}

fn array(d: digest::Digest) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// SHA-1 of `data`, for certificate thumbprints (`x5t`) only.
pub fn sha1(data: &[u8]) -> [u8; 20] {
    let d = digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, data);
    let mut out = [0u8; 20];
    out.copy_from_slice(d.as_ref());
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_answers() {
        // FIPS 180 "abc" test vectors.
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        assert_eq!(
            hex(&super::sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex(&super::sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
    }

    #[test]
    fn token_and_signing_input_in_one_pass() {
        use super::{sha256, sha256_token};
        for t in ["h.p.s", "h.p.", "h.p", "no-dot", "", ".", "a.b.c.d"] {
            let (whole, signing) = sha256_token(t.as_bytes());
            assert_eq!(whole, sha256(t.as_bytes()), "{t:?}");
            let want = t.rfind('.').map(|i| sha256(&t.as_bytes()[..i]));
            assert_eq!(signing, want, "{t:?}");
        }
        // Past one 64-byte block, as real tokens are.
        let long = format!(
            "{}.{}.{}",
            "h".repeat(100),
            "p".repeat(900),
            "s".repeat(342)
        );
        let (whole, signing) = sha256_token(long.as_bytes());
        assert_eq!(whole, sha256(long.as_bytes()));
        assert_eq!(signing, Some(sha256(&long.as_bytes()[..1001])));
    }
}
