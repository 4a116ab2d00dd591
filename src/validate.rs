//! Signature and claim validation by Azure AD's own rules (those of
//! Microsoft.IdentityModel): every failure is reported, not just the first.
//!
//! [`verify_token`] is the library entry point `verify`, `check`, `scan` and
//! `doctor` share; it knows nothing about command-line types.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

use crate::checks::{self, Clock};
use crate::discovery::KeyProvider;
use crate::error::Result;
use crate::finding::Finding;
use crate::jwks::Key;
use crate::resource;
use crate::token::{Claims, Token};

/// The only algorithm accepted for Azure AD tokens.
pub const ALLOWED_ALGS: [&str; 1] = ["RS256"];

/// What to validate against, built from the command line by each command.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Accepted audiences; empty means the MDE API's audiences.
    pub audiences: Vec<String>,
    /// Expected tenant id (`tid`).
    pub tenant: Option<String>,
    /// Expected calling app (`appid` / `azp`).
    pub client_id: Option<String>,
    pub clock: Clock,
}

impl VerifyOptions {
    /// The MDE API's audiences, no pinned tenant or app: what `check`,
    /// `scan` and `doctor` verify with (they check tenant and app themselves).
    pub fn mde_api(clock: Clock) -> VerifyOptions {
        VerifyOptions {
            audiences: Vec::new(),
            tenant: None,
            client_id: None,
            clock,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignatureStatus {
    Valid,
    Invalid,
    KeyNotFound,
    NotChecked,
}

/// The `signature` section of the JSON report.
#[derive(Debug, Clone, Serialize)]
pub struct SignatureSection {
    pub status: SignatureStatus,
    /// The kid (or x5t) of the key that verified it, else the one the token names.
    pub kid: Option<String>,
    /// The key set URL or file the key came from.
    pub key_source: Option<String>,
    /// True when it verified only under Graph's header-nonce transform.
    pub nonce_transformed: bool,
}

/// The outcome of [`verify_token`].
#[derive(Debug, Clone)]
pub struct Verification {
    pub signature: SignatureSection,
    pub claims_valid: bool,
    /// Header, signature, key and claim findings, unsorted.
    pub findings: Vec<Finding>,
}

impl Verification {
    /// Valid signature by the standard rules (not only under Graph's
    /// header-nonce transform) and valid claims.
    pub fn passed(&self) -> bool {
        self.signature.status == SignatureStatus::Valid
            && !self.signature.nonce_transformed
            && self.claims_valid
    }
}

/// Verify a token's signature with keys from `keys`, then its claims.
/// Errors are only environment failures (network, endpoint, files).
pub fn verify_token(
    token: &Token,
    opts: &VerifyOptions,
    keys: &dyn KeyProvider,
) -> Result<Verification> {
    let h = &token.header;
    let mut findings = checks::header(h);
    let mut sig = SignatureSection {
        status: SignatureStatus::NotChecked,
        // Set at the end: the key's id when a key verifies it, else the
        // header's.
        kid: None,
        key_source: None,
        nonce_transformed: false,
    };
    let mut used_key: Option<std::sync::Arc<Key>> = None;
    let mut issuer_template = None;

    let alg_ok = h.alg.as_deref().is_some_and(|a| ALLOWED_ALGS.contains(&a));
    let (_, _, sig_b64) = token.compact.parts();
    if !alg_ok {
        findings.push(Finding::error(
            "signature.alg_not_allowed",
            format!(
                "the signature was not checked: its algorithm {} is not on the allow-list (RS256); none and HMAC are never attempted",
                match h.alg.as_deref() {
                    Some(a) => format!("{a:?}"),
                    None if h.malformed.iter().any(|m| m == "alg") => "(not text)".to_string(),
                    None => "(missing)".to_string(),
                }
            ),
            "reject the token: Azure AD signs access tokens with RS256",
        ));
    } else if let Some(why) = unverifiable_header(h) {
        // RFC 7515 4.1.11 / RFC 7797: a validator that does not implement
        // these must reject the JWS, so its signature is never called valid.
        findings.push(Finding::error(
            "signature.header_rejected",
            format!("the signature was not checked: the header {why}"),
            "reject the token: Azure AD headers never do this",
        ));
    } else if sig_b64.is_empty() {
        findings.push(Finding::error(
            "signature.missing",
            "the token has no signature",
            "reject it: Azure AD tokens are always signed",
        ));
    } else {
        let lookup = keys.lookup(token)?;
        findings.extend(lookup.findings);
        sig.key_source = lookup.source;
        issuer_template = lookup.issuer_template;
        if lookup.candidates.is_empty() {
            sig.status = SignatureStatus::KeyNotFound;
            findings.extend(lookup.diagnosis);
        } else {
            let plain = token.compact.signing_input().as_bytes();
            let nonce_input = h
                .nonce
                .as_deref()
                .and_then(|n| nonce_signing_input(token, n));
            let mut outcome = None;
            for k in &lookup.candidates {
                if rs256_ok(
                    &token.signature,
                    plain,
                    token.compact.signing_sha256.as_ref(),
                    k,
                ) {
                    outcome = Some((k.clone(), false));
                    break;
                }
                if nonce_input
                    .as_ref()
                    .is_some_and(|i| rs256_ok(&token.signature, i, None, k))
                {
                    outcome = Some((k.clone(), true));
                    break;
                }
            }
            match outcome {
                Some((k, transformed)) => {
                    sig.status = SignatureStatus::Valid;
                    // The key's id (or x5t); none when the key has neither.
                    sig.kid = k.kid.clone().or_else(|| k.x5t.clone());
                    sig.nonce_transformed = transformed;
                    if transformed {
                        let graph = token
                            .claims
                            .as_ref()
                            .is_ok_and(|c| c.classify().resource == resource::ResourceKind::Graph);
                        let what = if graph {
                            "a genuine Microsoft Graph token, not a forgery, and not an MDE API token"
                        } else {
                            "signed the way Microsoft Graph tokens are, not forged; MDE API tokens are never signed this way"
                        };
                        // Standard validators (Microsoft.IdentityModel, the MDE API) reject it.
                        findings.push(Finding::error(
                            "signature.nonce_transform",
                            format!(
                                "the signature checks out only under Microsoft's proprietary header-nonce rule (signed over the SHA-256 of the nonce), so standard validators reject it: {what}"
                            ),
                            if graph {
                                format!(
                                    "do not validate Graph tokens yourself; for the MDE API request a token with scope {}",
                                    resource::MDE_SCOPE
                                )
                            } else {
                                format!(
                                    "request a fresh token with scope {} and report the nonce if it persists: the MDE API rejects this signature",
                                    resource::MDE_SCOPE
                                )
                            },
                        ));
                    }
                    used_key = Some(k);
                }
                None => {
                    sig.status = SignatureStatus::Invalid;
                    let tried: Vec<String> = lookup.candidates.iter().map(|k| k.label()).collect();
                    let nonce_note = if nonce_input.is_some() {
                        " (also tried under Graph's header-nonce rule)"
                    } else {
                        ""
                    };
                    // A signature of another length than every key's
                    // signatures: cut short or replaced, as logs that
                    // truncate or redact tokens leave them.
                    let n = token.signature.len();
                    let sizes: Vec<usize> = lookup
                        .candidates
                        .iter()
                        .map(|k| k.rsa_bytes)
                        .filter(|b| *b > 0)
                        .collect();
                    let cut = !sizes.is_empty() && sizes.iter().all(|b| *b != n);
                    findings.push(if cut {
                        Finding::error(
                            "signature.invalid",
                            format!(
                                "the signature is {n} bytes, but the key(s) {} make {}-byte signatures: the token was cut short or its signature replaced (as logs that truncate or redact tokens leave them), so it cannot verify",
                                tried.join(", "),
                                sizes[0]
                            ),
                            "copy the whole token again from where it was issued or sent; a shortened copy cannot be checked",
                        )
                    } else {
                        Finding::error(
                            "signature.invalid",
                            format!(
                                "the signature does not match the key(s) {}{nonce_note}: the token was altered or not signed by this issuer",
                                tried.join(", ")
                            ),
                            "reject the token; request a new one from Azure AD and do not edit it",
                        )
                    });
                }
            }
        }
    }

    if sig.status != SignatureStatus::Valid {
        // A kid that is not text names no key, and x5t does not stand in
        // for it: the signature is not checked at all.
        sig.kid = if h.malformed.iter().any(|m| m == "kid") {
            None
        } else {
            h.kid.clone().or_else(|| h.x5t.clone())
        };
    }
    let claims_valid = match &token.claims {
        Err(why) => {
            findings.push(Finding::error(
                "payload.not_json",
                format!("the signed payload is not a JWT claims set: {why}"),
                "this is a JWS but not a JWT; an Azure AD access token's payload is a JSON object",
            ));
            false
        }
        Ok(c) => {
            let mut cf = claim_findings(
                token,
                c,
                opts,
                issuer_template.as_deref(),
                used_key.as_deref(),
            );
            if sig.status == SignatureStatus::Valid && !sig.nonce_transformed {
                // It verified by the standard rules: the header nonce did not
                // matter, and the offline guesses about it do not apply.
                cf.retain(|f| !matches!(f.code, "header.nonce_unexpected" | "graph.nonce"));
            }
            let ok = !cf.iter().any(Finding::is_error);
            findings.append(&mut cf);
            ok
        }
    };
    Ok(Verification {
        signature: sig,
        claims_valid,
        findings,
    })
}

/// Why a header makes the signature meaningless to check, if it does:
/// critical extensions, an unencoded payload, members given twice (which
/// `alg` counts is then parser-dependent), or members that must be text
/// and are not (a numeric `kid` names no key).
fn unverifiable_header(h: &crate::token::Header) -> Option<String> {
    if !h.duplicate_keys.is_empty() {
        return Some(format!(
            "repeats the member(s) {}",
            h.duplicate_keys.join(", ")
        ));
    }
    if !h.malformed.is_empty() {
        // A key id that is not text names no key; trying every key instead
        // would check a header Azure AD never writes.
        return Some(format!(
            "gives {} as something other than text",
            h.malformed.join(", ")
        ));
    }
    if h.crit.is_some() {
        return Some("lists critical extensions (crit) that mdeauth does not implement".into());
    }
    if h.b64
        .as_ref()
        .is_some_and(|b| b != &serde_json::Value::Bool(true))
    {
        return Some("asks for an unencoded payload (b64 false)".into());
    }
    None
}

/// RSASSA-PKCS1-v1_5 with SHA-256 over `input`, with the key aws-lc
/// parsed when the set was read.
///
/// `input_sha256` is the SHA-256 of `input` when the caller already has it
/// ([`crate::input::Compact::signing_sha256`]).
fn rs256_ok(sig: &[u8], input: &[u8], input_sha256: Option<&[u8; 32]>, key: &Key) -> bool {
    use aws_lc_rs::digest::{Digest, SHA256, digest};
    let Some(p) = &key.rsa else {
        return false;
    };
    // Hash, then verify the digest: the same result as `verify_sig`, without
    // the digest-verify context aws-lc would allocate and copy for every
    // token (about a microsecond each in `scan`).
    if let Some(known) = input_sha256 {
        debug_assert_eq!(*known, crate::digest::sha256(input), "stale signing digest");
    }
    let d = input_sha256
        .and_then(|known| Digest::import_less_safe(known, &SHA256).ok())
        .unwrap_or_else(|| digest(&SHA256, input));
    p.verify_digest_sig(&d, sig).is_ok()
}

/// Graph's header-nonce transform: the header JSON as sent, with only the
/// nonce value replaced by base64url_nopad(SHA-256(nonce)), re-encoded.
pub fn nonce_signing_input(token: &Token, nonce: &str) -> Option<Vec<u8>> {
    let json = &token.header.json;
    let quoted = serde_json::to_string(nonce).ok()?;
    let key_at = json.find("\"nonce\"")?;
    let rel = json[key_at + 7..].find(&quoted)?;
    let at = key_at + 7 + rel;
    let hashed = URL_SAFE_NO_PAD.encode(crate::digest::sha256(nonce.as_bytes()));
    let new_header = format!("{}\"{hashed}\"{}", &json[..at], &json[at + quoted.len()..]);
    let (_, p, _) = token.compact.parts();
    Some(format!("{}.{p}", URL_SAFE_NO_PAD.encode(new_header.as_bytes())).into_bytes())
}

/// Claim rules `checks::claims` does not cover: issuer against the metadata
/// template and the key's own issuer, audience override, pinned tenant and app.
fn claim_findings(
    token: &Token,
    c: &Claims,
    opts: &VerifyOptions,
    template: Option<&str>,
    key: Option<&Key>,
) -> Vec<Finding> {
    let cls = c.classify();
    let mut out = checks::claims(&token.header, c, &cls, opts.clock);
    let tid = c.tid.as_deref();
    // A tid of the wrong type is claims.malformed's: the rules that need
    // tid do not also call it missing.
    let iss = c
        .iss
        .as_deref()
        .filter(|_| !c.malformed.iter().any(|m| m == "tid"));

    // Issuer: the metadata's template with {tenantid} replaced by tid, or
    // without metadata (--jwks) the issuer Azure AD writes for the token's
    // version and cloud.
    match (template, iss) {
        (Some(t), Some(iss)) => {
            let mut by_metadata = Vec::new();
            issuer_rule(
                &mut by_metadata,
                "issuer.mismatch",
                "the metadata's issuer",
                t,
                iss,
                tid,
            );
            // A tenant's own metadata names a fixed issuer: the token's tid
            // must still be the tenant its issuer names (a template checks
            // that by construction).
            if !t.contains("{tenantid}") {
                issuer_names_tid(&mut by_metadata, iss, tid);
                // Another tenant's fixed issuer: the tenant is the cause.
                if by_metadata
                    .iter()
                    .any(|f| f.code == "issuer.tenant_mismatch")
                {
                    by_metadata.retain(|f| f.code != "issuer.mismatch");
                }
            }
            // The metadata's verdict on the issuer replaces the offline one,
            // whichever way it goes: the tenant's own document says what its
            // issuer is (the offline forms of some clouds are a guess).
            out.retain(|f| {
                !matches!(
                    f.code,
                    "issuer.mismatch" | "issuer.tenant_mismatch" | "claims.tid_missing"
                )
            });
            out.extend(by_metadata);
        }
        (None, Some(iss)) => aad_issuer_rule(&mut out, iss, &cls),
        (_, None) => {}
    }
    // The key's own issuer member (v2 key sets). A v1 token checked with a
    // v2 key set passes when the key's issuer is the v2 issuer of the
    // token's own tenant and cloud, as Microsoft.IdentityModel's
    // AadTokenValidationParametersExtension allows (v1 keys carry no issuer).
    if let (Some(ki), Some(iss)) = (key.and_then(|k| k.issuer.as_deref()), iss) {
        let v2_of_own_tenant = cls.version == "1.0"
            && tid.is_some_and(|t| {
                // The key's issuer filled in with tid is the v2 issuer of
                // the token's own cloud and tenant.
                let filled = ki.replace("{tenantid}", t);
                cls.cloud_info()
                    .is_some_and(|cl| cl.issues("2.0", t, &filled))
            });
        if !v2_of_own_tenant {
            issuer_rule(
                &mut out,
                "key.issuer_mismatch",
                "the signing key's issuer",
                ki,
                iss,
                tid,
            );
        }
    }

    // Audience. The MDE audiences (no --audience) are checked by checks::claims above:
    // aud.missing, aud.not_mde or aud.not_exact unless one value is exactly
    // an MDE audience.
    if !opts.audiences.is_empty() {
        let ok = c
            .aud
            .iter()
            .any(|a| opts.audiences.iter().any(|m| resource::same_audience(a, m)));
        if ok {
            // The caller asked for this audience: "not MDE" is not a failure here.
            out.retain(|f| !matches!(f.code, "aud.not_mde" | "aud.not_exact"));
        } else {
            out.push(Finding::error(
                "aud.mismatch",
                format!(
                    "the audience ({}) is none of the expected {}",
                    c.audience_text(),
                    opts.audiences.join(", ")
                ),
                "request the token for the API that will receive it, or correct --audience",
            ));
        }
    }

    if let Some(want) = &opts.tenant
        && !tid.is_some_and(|t| t.eq_ignore_ascii_case(want.trim()))
    {
        out.push(Finding::error(
            "tenant.mismatch",
            format!(
                "the token's tenant {} is not the expected {want}",
                tid.unwrap_or("(no tid)"),
            ),
            "request the token from the expected tenant's authority (https://login.microsoftonline.com/<tenant>)",
        ));
    }
    if let Some(want) = &opts.client_id {
        let app = c.app_id();
        if !app.is_some_and(|a| a.eq_ignore_ascii_case(want.trim())) {
            out.push(Finding::error(
                "client.mismatch",
                format!(
                    "the token was issued to app {} (appid/azp), not the expected {want}",
                    app.unwrap_or("(none named)")
                ),
                "request the token with the expected app's client id and credential",
            ));
        }
    }
    out
}

/// Without metadata: `iss` must be an Azure AD issuer. Its form for the
/// token's version, cloud and tenant is an offline rule
/// ([`checks::aad_issuer`]), already in `checks::claims`' findings.
fn aad_issuer_rule(out: &mut Vec<Finding>, iss: &str, cls: &crate::token::Classification) {
    // The classification's cloud is the one `iss` names.
    if cls.cloud.is_none() {
        // This error says more than the offline warning.
        out.retain(|f| f.code != "issuer.not_aad");
        out.push(Finding::error(
            "issuer.mismatch",
            format!("the issuer {iss} is not Azure AD, so the MDE API rejects the token"),
            "reject the token; to check a token from a private cloud or test server, verify it with --authority-host pointing at that server's discovery",
        ));
    }
}

/// An issuer whose path starts with a tenant GUID must name the token's
/// `tid` there, in the same letters (aad-facts: require the `iss` path
/// segment to equal `tid`); a token without `tid` cannot be checked.
fn issuer_names_tid(out: &mut Vec<Finding>, iss: &str, tid: Option<&str>) {
    let Some(segment) = checks::issuer_tenant(iss) else {
        return;
    };
    match tid {
        None => out.push(checks::tid_missing(iss)),
        Some(t) if !checks::is_aad_tid(t) => {}
        Some(t) if t == segment => {}
        Some(t) => out.push(checks::tenant_mismatch(iss, t, segment)),
    }
}

/// Compare `iss` to an issuer that is either a `{tenantid}` template or fixed.
fn issuer_rule(
    out: &mut Vec<Finding>,
    code: &'static str,
    what: &str,
    expected: &str,
    iss: &str,
    tid: Option<&str>,
) {
    if expected.contains("{tenantid}") {
        match tid {
            // Said once, whichever rule finds it first.
            None if out.iter().any(|f| f.code == "claims.tid_missing") => {}
            None => out.push(Finding::error(
                "claims.tid_missing",
                format!(
                    "{what} is a template ({expected}) but the token has no tid to fill it with"
                ),
                "reject the token: Azure AD tokens always carry tid",
            )),
            Some(t) => {
                if !checks::is_aad_tid(t) {
                    // checks::claims reports tid_not_guid; a non-GUID never satisfies a template.
                    return;
                }
                let want = expected.replace("{tenantid}", t);
                if iss == want {
                    return;
                }
                // The template's form for another tenant: the cause is the
                // tenant, said as every other path says it.
                let other_tenant = checks::issuer_tenant(iss)
                    .filter(|seg| expected.replace("{tenantid}", seg) == iss);
                out.push(if let Some(seg) = other_tenant.filter(|_| code == "issuer.mismatch") {
                    checks::tenant_mismatch(iss, t, seg)
                } else {
                    Finding::error(
                        code,
                        format!("the issuer {iss} is not {want} ({what} {expected} with tid {t})"),
                        "reject the token: it was not issued by this authority for its tenant (check the cloud and the token version)",
                    )
                });
            }
        }
    } else if iss != expected {
        out.push(Finding::error(
            code,
            format!("the issuer {iss} is not {what} {expected}"),
            "reject the token: it was not issued by the authority these keys belong to",
        ));
    }
}
