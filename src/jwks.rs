//! JSON Web Key Sets as Azure AD publishes them: keys without `alg`, extra
//! members (`issuer`, `cloud_instance_name`, `x5c`, `x5t`), parsed one key at
//! a time so one malformed key never makes the whole set unusable.

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};
use serde_json::Value;

use crate::error::{Error, Result};

/// One usable key of a set, parsed once.
#[derive(Clone)]
pub struct Key {
    pub kid: Option<String>,
    pub x5t: Option<String>,
    /// The key's own `issuer` member (v2 key sets), templated or fixed.
    pub issuer: Option<String>,
    pub kty: String,
    /// The RS256 verification key, parsed once for aws-lc (RSA 2048-8192
    /// bits) so a bulk verification does not rebuild it per signature;
    /// `None` for key types RS256 cannot use (an RSA key it cannot use is
    /// skipped when the set is read).
    pub rsa: Option<std::sync::Arc<aws_lc_rs::signature::ParsedPublicKey>>,
    /// The RSA modulus's length in bytes, which every signature it makes
    /// has (0 without `rsa`).
    pub rsa_bytes: usize,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("kid", &self.kid)
            .field("x5t", &self.x5t)
            .field("issuer", &self.issuer)
            .field("kty", &self.kty)
            .finish()
    }
}

impl Key {
    /// The identifier to show: kid, else x5t, else `(no kid)`.
    pub fn label(&self) -> String {
        self.kid
            .clone()
            .or_else(|| self.x5t.clone())
            .unwrap_or_else(|| "(no kid)".to_string())
    }
}

/// A parsed key set, with a note for every key that had to be skipped.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    /// Shared: a lookup hands out the same parsed keys to every token.
    pub keys: Vec<std::sync::Arc<Key>>,
    /// The first [`SKIPPED_KEPT`] keys that had to be skipped.
    pub skipped: Vec<Skipped>,
    /// How many keys were skipped in all.
    pub skipped_total: usize,
    /// The kids of skipped keys past the first [`SKIPPED_KEPT`], hashed:
    /// enough to tell a token that its key was one of them.
    pub skipped_beyond: std::collections::HashSet<u64>,
}

fn kid_hash(kid: &str) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    BuildHasherDefault::<DefaultHasher>::default().hash_one(kid)
}

/// Skipped keys kept with their reason: a hostile set of thousands of
/// unusable keys must not grow every report that names them.
pub const SKIPPED_KEPT: usize = 100;

/// A key of a set that cannot be used, and why.
#[derive(Debug, Clone)]
pub struct Skipped {
    /// Its place in the set, from 1.
    pub number: usize,
    pub kid: Option<String>,
    pub why: String,
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "key #{}", self.number)?;
        if let Some(kid) = &self.kid {
            write!(f, " (kid {})", crate::report::human::clip(kid, 64))?;
        }
        write!(
            f,
            " skipped: {}",
            crate::report::human::clip(&self.why, 300)
        )
    }
}

/// How a key was chosen for a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    Kid,
    X5t,
    /// The token names no key, so every RSA key is tried (as Microsoft.IdentityModel does).
    AnyRsa,
}

impl KeySet {
    /// Parse a JWKS document. The document must be a JSON object with a
    /// `keys` array; each key is parsed on its own and skipped with a note
    /// when it cannot be used.
    pub fn parse(origin: &str, body: &[u8]) -> Result<KeySet> {
        let doc: Value = crate::http::parse_json(origin, body)?;
        Self::from_value(origin, &doc)
    }

    pub fn from_value(origin: &str, doc: &Value) -> Result<KeySet> {
        let Some(list) = doc.get("keys").and_then(Value::as_array) else {
            return Err(Error::environment(format!(
                "{origin} is JSON but not a key set (no \"keys\" array)"
            ))
            .with_hint("point --jwks at a JWKS document such as https://login.microsoftonline.com/common/discovery/keys"));
        };
        let mut set = KeySet::default();
        for (i, v) in list.iter().enumerate() {
            match parse_key(v) {
                Ok(k) => set.keys.push(std::sync::Arc::new(k)),
                Err(why) => {
                    set.skipped_total += 1;
                    let kid = str_member(v, "kid");
                    if set.skipped.len() < SKIPPED_KEPT {
                        set.skipped.push(Skipped {
                            number: i + 1,
                            kid,
                            why,
                        });
                    } else if let Some(k) = kid {
                        set.skipped_beyond.insert(kid_hash(&k));
                    }
                }
            }
        }
        Ok(set)
    }

    /// Why the set's key with this `kid` cannot check an RS256 signature,
    /// when the set has such a key and no usable one by that `kid`: a key of
    /// another type, or one skipped when the set was read.
    pub fn unusable(&self, kid: &str) -> Option<String> {
        let named = |k: &&std::sync::Arc<Key>| k.kid.as_deref() == Some(kid);
        if self.keys.iter().filter(named).any(|k| k.rsa.is_some()) {
            return None;
        }
        if let Some(k) = self.keys.iter().find(named) {
            return Some(format!("its kty is {:?}; RS256 needs an RSA key", k.kty));
        }
        self.skipped
            .iter()
            .find(|s| s.kid.as_deref() == Some(kid))
            .map(|s| s.why.clone())
            .or_else(|| {
                self.skipped_beyond.contains(&kid_hash(kid)).then(|| {
                    format!(
                        "it is one of the {} keys the set publishes in a form mdeauth cannot use (keys.skipped gives the reasons of the first ones)",
                        self.skipped_total
                    )
                })
            })
    }

    /// The key ids (or x5t) of every key, for display.
    pub fn ids(&self) -> Vec<String> {
        self.keys.iter().map(|k| k.label()).collect()
    }

    /// The RSA keys to try for a token header: by `kid`, else by `x5t`; a
    /// token naming neither is tried against every RSA key.
    pub fn select(
        &self,
        kid: Option<&str>,
        x5t: Option<&str>,
    ) -> (Vec<&std::sync::Arc<Key>>, Match) {
        if let Some(kid) = kid {
            let found: Vec<_> = self
                .keys
                .iter()
                .filter(|k| k.rsa.is_some() && k.kid.as_deref() == Some(kid))
                .collect();
            if !found.is_empty() {
                return (found, Match::Kid);
            }
        }
        if let Some(x5t) = x5t {
            let found: Vec<_> = self
                .keys
                .iter()
                .filter(|k| k.rsa.is_some() && k.x5t.as_deref() == Some(x5t))
                .collect();
            return (found, Match::X5t);
        }
        if kid.is_none() {
            return (
                self.keys.iter().filter(|k| k.rsa.is_some()).collect(),
                Match::AnyRsa,
            );
        }
        (Vec::new(), Match::Kid)
    }
}

/// RSA modulus sizes trusted for RS256: aws-lc's RS256 verification takes
/// 2048 to 8192 bits, and Azure AD's keys are 2048. A shorter key is refused
/// when the set is read, so a token signed with it is reported as signed by
/// an unusable key rather than as altered.
const RSA_BITS: std::ops::RangeInclusive<usize> = 2048..=8192;

/// Parse base64url `n` and `e` once into an aws-lc RS256 verification key,
/// or say why the key cannot be one.
fn parsed_rsa(
    n: &str,
    e: &str,
) -> std::result::Result<(std::sync::Arc<aws_lc_rs::signature::ParsedPublicKey>, usize), String> {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let n = URL_SAFE_NO_PAD
        .decode(n.trim_end_matches('='))
        .map_err(|_| "its n is not base64url".to_string())?;
    let e = URL_SAFE_NO_PAD
        .decode(e.trim_end_matches('='))
        .map_err(|_| "its e is not base64url".to_string())?;
    let significant = |b: &[u8]| b.iter().position(|x| *x != 0).unwrap_or(b.len());
    let n = &n[significant(&n)..];
    let e = &e[significant(&e)..];
    let bits = n
        .first()
        .map_or(0, |top| n.len() * 8 - top.leading_zeros() as usize);
    if !RSA_BITS.contains(&bits) {
        return Err(format!(
            "its RSA modulus is {bits} bits; RS256 keys of {} to {} bits are trusted (Azure AD's are 2048)",
            RSA_BITS.start(),
            RSA_BITS.end()
        ));
    }
    // aws-lc parses any modulus and exponent and only refuses bad ones when
    // verifying, which would read as an altered token. (e = 1 would make
    // every signature forgeable.)
    if n.last().is_some_and(|low| low % 2 == 0) {
        return Err("its RSA modulus n is even, so it is no RSA key".to_string());
    }
    let e_value = (e.len() <= 8).then(|| e.iter().fold(0u64, |a, b| (a << 8) | u64::from(*b)));
    match e_value {
        Some(v) if v >= 3 && v % 2 == 1 && v < (1 << 33) => {}
        _ => {
            let shown = e_value.map_or_else(|| "over 64 bits".to_string(), |v| v.to_string());
            return Err(format!(
                "its RSA exponent e is {shown}; it must be odd, from 3 to 2^33 (Azure AD's is 65537)"
            ));
        }
    }
    aws_lc_rs::signature::RsaPublicKeyComponents { n, e }
        .to_parsed_public_key(&aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256)
        .map(|k| (std::sync::Arc::new(k), n.len()))
        .map_err(|_| "its n and e are not a valid RSA public key".to_string())
}

fn str_member(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_string)
}

fn parse_key(v: &Value) -> std::result::Result<Key, String> {
    if !v.is_object() {
        return Err("not a JSON object".to_string());
    }
    let kty = str_member(v, "kty").ok_or("no kty member")?;
    // Members a key is chosen or restricted by must be strings: a number
    // would read as absent (an issuer restriction would vanish).
    for m in ["kid", "x5t", "issuer", "use"] {
        if v.get(m).is_some_and(|x| !x.is_string()) {
            return Err(format!("its {m} is not a string"));
        }
    }
    // RFC 7517 4.3: a key whose key_ops leave out verify is not for signatures.
    if let Some(ops) = v.get("key_ops")
        && !ops
            .as_array()
            .is_some_and(|a| a.iter().any(|o| o.as_str() == Some("verify")))
    {
        return Err("its key_ops do not include verify, so it is not a signature key".to_string());
    }
    let kid = str_member(v, "kid");
    let x5t = str_member(v, "x5t");
    let issuer = str_member(v, "issuer");
    if kty != "RSA" {
        // Kept so it shows in listings, but never used for RS256.
        return Ok(Key {
            kid,
            x5t,
            issuer,
            kty,
            rsa: None,
            rsa_bytes: 0,
        });
    }
    if (v.get("n").is_none() || v.get("e").is_none()) && v.get("x5c").is_some() {
        return Err(
            "it gives only a certificate (x5c) without n and e; mdeauth reads RSA keys from n and e, which RFC 7518 requires and Azure AD always publishes"
                .to_string(),
        );
    }
    // Parse only the members jsonwebtoken understands; AAD's extra members
    // (issuer, cloud_instance_name, ...) are read above and dropped here.
    let mut clean = serde_json::Map::new();
    for m in ["kty", "n", "e", "kid", "use"] {
        if let Some(x) = v.get(m) {
            clean.insert(m.to_string(), x.clone());
        }
    }
    let jwk: Jwk = serde_json::from_value(Value::Object(clean))
        .map_err(|e| format!("not a valid RSA key ({e})"))?;
    if let Some(alg) = v.get("alg").and_then(Value::as_str)
        && alg != "RS256"
    {
        return Err(format!("its alg is {alg}, not RS256"));
    }
    if let Some(u) = v.get("use").and_then(Value::as_str)
        && u != "sig"
    {
        return Err(format!("its use is {u:?}, not sig"));
    }
    let AlgorithmParameters::RSA(p) = &jwk.algorithm else {
        return Err("not a valid RSA key".to_string());
    };
    let (rsa, rsa_bytes) = parsed_rsa(&p.n, &p.e)?;
    Ok(Key {
        kid,
        x5t,
        issuer,
        kty,
        rsa: Some(rsa),
        rsa_bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const N: &str = "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";

    #[test]
    fn lenient_parse_skips_bad_keys_and_keeps_extra_members() {
        let doc = serde_json::json!({"keys": [
            {"kty": "RSA", "use": "sig", "kid": "a", "x5t": "a", "n": N, "e": "AQAB",
             "issuer": "https://login.microsoftonline.com/{tenantid}/v2.0",
             "cloud_instance_name": "microsoftonline.com", "x5c": ["MIIB"]},
            {"kty": "RSA", "kid": "broken", "n": 5},
            "not an object",
            {"kty": "EC", "kid": "ec", "crv": "P-256", "x": "x", "y": "y"},
            {"kty": "RSA", "kid": "b", "x5t": "bx", "n": N, "e": "AQAB"}
        ]});
        let set = KeySet::from_value("test", &doc).unwrap();
        assert_eq!(set.ids(), vec!["a", "ec", "b"]);
        assert_eq!(set.skipped.len(), 2, "{:?}", set.skipped);
        assert_eq!(
            set.keys[0].issuer.as_deref(),
            Some("https://login.microsoftonline.com/{tenantid}/v2.0")
        );
        let (k, m) = set.select(Some("b"), None);
        assert_eq!((k.len(), m), (1, Match::Kid));
        let (k, m) = set.select(Some("zz"), Some("bx"));
        assert_eq!((k[0].label().as_str(), m), ("b", Match::X5t));
        let (k, m) = set.select(None, None);
        assert_eq!((k.len(), m), (2, Match::AnyRsa));
        assert!(set.select(Some("zz"), None).0.is_empty());
        assert!(KeySet::from_value("t", &serde_json::json!({"k": 1})).is_err());
    }

    #[test]
    fn keys_with_mistyped_members_or_no_verify_operation_are_skipped() {
        let key = |extra: serde_json::Value| {
            let mut k = serde_json::json!({"kty": "RSA", "kid": "k", "n": N, "e": "AQAB"});
            for (m, v) in extra.as_object().unwrap() {
                k[m] = v.clone();
            }
            let set = KeySet::from_value("t", &serde_json::json!({ "keys": [k] })).unwrap();
            set.skipped.first().map(ToString::to_string)
        };
        assert_eq!(key(serde_json::json!({"key_ops": ["verify"]})), None);
        for (extra, why) in [
            (
                serde_json::json!({"issuer": 5}),
                "its issuer is not a string",
            ),
            (serde_json::json!({"kid": 5}), "its kid is not a string"),
            (
                serde_json::json!({"key_ops": ["encrypt"]}),
                "its key_ops do not include verify",
            ),
            (
                serde_json::json!({"key_ops": "verify"}),
                "its key_ops do not include verify",
            ),
        ] {
            let skipped = key(extra.clone()).unwrap_or_default();
            assert!(skipped.contains(why), "{extra}: {skipped}");
        }
    }

    #[test]
    fn rsa_keys_that_cannot_verify_are_skipped_with_the_reason() {
        use base64::Engine;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let n = URL_SAFE_NO_PAD.decode(N).unwrap();
        let key = |n: &[u8], e: &str| serde_json::json!({"kty": "RSA", "kid": "k", "n": URL_SAFE_NO_PAD.encode(n), "e": e});
        let why = |v: serde_json::Value| {
            let set = KeySet::from_value("t", &serde_json::json!({ "keys": [v] })).unwrap();
            set.skipped.first().map(ToString::to_string)
        };
        assert_eq!(why(key(&n, "AQAB")), None);
        // A certificate alone is named as such (Microsoft.IdentityModel would
        // read it; Azure AD always gives n and e too).
        assert_eq!(
            why(serde_json::json!({"kty": "RSA", "kid": "k", "x5c": ["MIIB"]})).as_deref(),
            Some(
                "key #1 (kid k) skipped: it gives only a certificate (x5c) without n and e; mdeauth reads RSA keys from n and e, which RFC 7518 requires and Azure AD always publishes"
            )
        );
        // A leading zero byte does not count.
        assert_eq!(why(key(&[&[0u8][..], &n].concat(), "AQAB")), None);
        assert_eq!(
            why(key(&n[..128], "AQAB")).as_deref(),
            Some(
                "key #1 (kid k) skipped: its RSA modulus is 1024 bits; RS256 keys of 2048 to 8192 bits are trusted (Azure AD's are 2048)"
            )
        );
        let mut short = n.clone();
        short[0] = 0x7f;
        assert!(why(key(&short, "AQAB")).unwrap().contains("is 2047 bits"));
        assert!(
            why(key(&[0xffu8; 1025], "AQAB"))
                .unwrap()
                .contains("is 8200 bits")
        );
        assert!(why(key(&[0u8; 4], "AQAB")).unwrap().contains("is 0 bits"));
        // e = 1 would accept any "signature"; aws-lc parses it and refuses it
        // only when verifying.
        assert_eq!(
            why(key(&n, "AQ")).as_deref(),
            Some(
                "key #1 (kid k) skipped: its RSA exponent e is 1; it must be odd, from 3 to 2^33 (Azure AD's is 65537)"
            )
        );
        assert!(why(key(&n, "AAE")).unwrap().contains("e is 1;"));
        assert!(why(key(&n, "AQAA")).unwrap().contains("e is 65536;"));
        assert!(
            why(key(&n, "AgAAAAE"))
                .unwrap()
                .contains("e is 8589934593;")
        );
        assert!(
            why(key(&n, "AQAAAAAAAAAB"))
                .unwrap()
                .contains("e is over 64 bits;")
        );
        assert_eq!(why(key(&n, "Aw")), None);
        // An even modulus is no RSA key either.
        let mut even = n.clone();
        *even.last_mut().unwrap() &= 0xfe;
        assert_eq!(
            why(key(&even, "AQAB")).as_deref(),
            Some("key #1 (kid k) skipped: its RSA modulus n is even, so it is no RSA key")
        );
        let set = KeySet::from_value(
            "t",
            &serde_json::json!({"keys": [
                key(&n[..128], "AQAB"),
                {"kty": "EC", "kid": "ec", "crv": "P-256", "x": "x", "y": "y"},
                {"kty": "EC", "kid": "both", "crv": "P-256", "x": "x", "y": "y"},
                {"kty": "RSA", "kid": "both", "n": N, "e": "AQAB"},
            ]}),
        )
        .unwrap();
        assert!(set.unusable("k").unwrap().contains("1024 bits"));
        assert_eq!(
            set.unusable("ec").as_deref(),
            Some("its kty is \"EC\"; RS256 needs an RSA key")
        );
        assert_eq!(set.unusable("both"), None);
        assert_eq!(set.unusable("other"), None);
        // Only RSA keys are offered for RS256, by kid or x5t.
        assert!(set.select(Some("ec"), None).0.is_empty());
        assert_eq!(set.select(Some("both"), None).0.len(), 1);
    }
}
