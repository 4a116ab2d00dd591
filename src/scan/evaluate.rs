//! The full evaluator `scan` uses by default: the offline checks, signature
//! verification against each issuer's keys (fetched once per issuer and key
//! id, each key set parsed once, shared by all workers), and, when calls are
//! given, whether each token allows them.

use std::collections::HashMap;
use std::sync::RwLock;

use super::{Evaluator, OfflineChecks, TokenVerdict};
use crate::checks::Clock;
use crate::commands::check::{self, Wanted};
use crate::discovery::{KeyLookup, KeyProvider};
use crate::error::{Error, Result};
use crate::finding::Finding;
use crate::permissions::PermContext;
use crate::token::{Claims, Token};
use crate::validate::{self, VerifyOptions};

/// Memoises key lookups per (issuer, tenant, version, kid, x5t, whether the
/// token is for the MDE API: what discovery reads them by), so a
/// scan of many tokens from one issuer fetches and parses its keys once.
/// Hits share a read lock; a miss takes the write lock and holds it across
/// the fetch, so concurrent workers never fetch the same keys twice.
pub struct MemoKeys<P> {
    inner: P,
    seen: RwLock<HashMap<Vec<u8>, Memo>>,
    /// Tells this memo's entries apart in each thread's [`LAST`].
    id: u64,
}

/// Numbers the memos, for [`MemoKeys::id`].
static MEMO_IDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A remembered lookup: environment errors are kept as text, so one failed
/// issuer is reported on each of its tokens without refetching.
type Memo = std::result::Result<KeyLookup, String>;

impl<P: KeyProvider> MemoKeys<P> {
    pub fn new(inner: P) -> Self {
        MemoKeys {
            inner,
            seen: RwLock::new(HashMap::new()),
            id: MEMO_IDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        }
    }

    /// How many distinct lookups went to the inner provider.
    pub fn misses(&self) -> usize {
        self.seen.read().map(|m| m.len()).unwrap_or(0)
    }
}

/// The memo key, written into `key`: the lookup's inputs, each as a 0 byte
/// when absent or as a 1 byte, its length (4 bytes) and its text, so no two
/// different inputs (a claim may hold any character, and an empty claim is
/// not a missing one) share a key.
fn lookup_key(t: &Token, key: &mut Vec<u8>) {
    let c = t.claims.as_ref().ok();
    let h = &t.header;
    let parts = [
        c.and_then(|c| c.iss.as_deref()),
        c.and_then(|c| c.tid.as_deref()),
        c.and_then(|c| c.ver.as_deref()),
        h.kid.as_deref(),
        h.x5t.as_deref(),
        // --app-keys and the key_not_found diagnosis differ for MDE tokens.
        Some(if c.is_some_and(Claims::is_for_mde_api) {
            "mde"
        } else {
            "other"
        }),
    ];
    key.clear();
    for p in parts {
        match p {
            None => key.push(0),
            Some(s) => {
                key.push(1);
                key.extend_from_slice(&(s.len() as u32).to_le_bytes());
                key.extend_from_slice(s.as_bytes());
            }
        }
    }
}

thread_local! {
    /// Each worker's key buffer, so a memo hit allocates nothing.
    static KEY: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    /// Each thread's last hit (memo id, memo key, answer): a run of tokens
    /// of one issuer and key id is answered without the lock and the
    /// hash.
    static LAST: std::cell::RefCell<Option<(u64, Vec<u8>, Memo)>> =
        const { std::cell::RefCell::new(None) };
}

impl<P: KeyProvider> KeyProvider for MemoKeys<P> {
    fn lookup(&self, token: &Token) -> Result<KeyLookup> {
        let poisoned = || Error::environment("key cache lock poisoned");
        // A hit is answered from the worker's buffer; a miss takes a copy
        // of the key it built to store the new entry under.
        let probe = KEY.with_borrow_mut(|key| {
            lookup_key(token, key);
            let last = LAST.with_borrow(|last| match last {
                Some((id, k, m)) if *id == self.id && k == key => Some(m.clone()),
                _ => None,
            });
            if let Some(m) = last {
                return Ok(Ok(m));
            }
            let seen = self.seen.read().map_err(|_| poisoned())?;
            let found = seen.get(key.as_slice()).cloned();
            drop(seen);
            if let Some(m) = &found {
                LAST.set(Some((self.id, key.clone(), m.clone())));
            }
            Ok::<_, Error>(found.ok_or_else(|| key.clone()))
        })?;
        let key = match probe {
            // Remembered for another token: its age notes are redone for this one.
            Ok(m) => {
                return m
                    .map(|mut l| {
                        l.fit_to(token);
                        l
                    })
                    .map_err(Error::environment);
            }
            Err(key) => key,
        };
        let mut seen = self.seen.write().map_err(|_| poisoned())?;
        let mut looked_up = false;
        let entry = seen.entry(key).or_insert_with(|| {
            looked_up = true;
            self.inner.lookup(token).map_err(|e| e.one_line())
        });
        // Another thread may have stored it between the two locks: then it
        // was looked up for another token, and is fitted to this one.
        entry
            .clone()
            .map(|mut l| {
                if !looked_up {
                    l.fit_to(token);
                }
                l
            })
            .map_err(Error::environment)
    }
}

/// Offline checks + signature verification (unless disabled) + calls.
pub struct FullEvaluator<P> {
    pub clock: Clock,
    /// `None`: `--no-verify`.
    pub keys: Option<MemoKeys<P>>,
    pub calls: Vec<Wanted>,
    pub context: Option<PermContext>,
    /// `--plan`: its client_id and tenant_id are checked as `check` does.
    pub plan: Option<crate::plan::Plan>,
}

impl<P: KeyProvider + Sync> Evaluator for FullEvaluator<P> {
    fn evaluate(&self, token: &Token) -> TokenVerdict {
        let offline = || OfflineChecks { clock: self.clock }.evaluate(token).findings;
        let mut findings = match &self.keys {
            None => {
                let mut f = offline();
                f.push(crate::checks::signature_not_checked());
                f
            }
            Some(keys) => {
                match validate::verify_token(token, &VerifyOptions::mde_api(self.clock), keys) {
                    Ok(v) => v.findings,
                    Err(e) => {
                        let mut f = offline();
                        f.push(crate::checks::signature_unverified(&e));
                        f
                    }
                }
            }
        };
        if let (Some(p), Ok(c)) = (&self.plan, &token.claims) {
            check::identity(&mut findings, p, c);
        }
        findings.extend(self.call_findings(token));
        TokenVerdict::from_findings(findings)
    }

    fn label(&self) -> String {
        let mut s = String::from("offline checks");
        s.push_str(if self.keys.is_some() {
            ", signature verification"
        } else {
            " (signatures not verified: --no-verify)"
        });
        if !self.calls.is_empty() {
            s.push_str(&format!(", {} planned call(s)", self.calls.len()));
        }
        s
    }
}

impl<P> FullEvaluator<P> {
    /// One error finding per planned call the token does not allow.
    fn call_findings(&self, token: &Token) -> Vec<Finding> {
        let Ok(claims) = &token.claims else {
            return Vec::new();
        };
        if self.calls.is_empty() {
            return Vec::new();
        }
        // Judged as `check` judges it: an ID token, a token for another API,
        // one of the other context than the plan's or one with no
        // permission fails every call, for that reason. `check`'s own
        // findings come along (context, least privilege, the calls'
        // warnings); the plan's identity is checked by the caller.
        let cls = claims.classify();
        let mut report = crate::report::Report::new("scan", 0);
        check::evaluate_at(&mut report, claims, None, &self.calls, self.context, None);
        let mut out = report.findings;
        let blocker = check::judge(claims, &cls, self.context).blocker;
        // The calls as `check` judged them, in order.
        for e in report.calls.iter().flatten() {
            let Some(k) = e.check.as_ref().filter(|k| k.outcome == "denied") else {
                continue;
            };
            let label = e.label();
            out.push(match (&blocker, k.missing_groups.is_empty()) {
                (Some(why), _) => Finding::error(
                    "call.denied",
                    format!("{label} is not allowed: {why}"),
                    "fix the token first (its other errors say how): no permission grant makes this call work with it",
                ),
                (None, false) => {
                    let need: Vec<String> =
                        k.missing_groups.iter().map(|g| g.join(" or ")).collect();
                    Finding::error(
                        "call.denied",
                        format!("{label} is not allowed: the token lacks {}", need.join(" and ")),
                        format!(
                            "grant {} ({} permission) and request a new token",
                            need.join(" and "),
                            k.context
                        ),
                    )
                }
                // Denied for another reason than a permission (a call to
                // another cloud's API): check's own words.
                (None, true) => Finding::error(
                    "call.denied",
                    format!("{label} is not allowed: {}", k.reason),
                    k.fix.clone().unwrap_or_default(),
                ),
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Compact;
    use crate::token::{Claims, Header};

    fn token(iss: Option<&str>, tid: Option<&str>, kid: Option<&str>) -> Token {
        Token {
            compact: Compact {
                token: String::new(),
                found_in: "test",
                signing_sha256: None,
            },
            header: std::sync::Arc::new(Header {
                kid: kid.map(str::to_string),
                ..Header::default()
            }),
            claims: Ok(Claims {
                iss: iss.map(str::to_string),
                tid: tid.map(str::to_string),
                ..Claims::default()
            }),
            signature: Vec::new(),
        }
    }

    #[test]
    fn memo_keys_never_merge_different_lookups() {
        let key = |t: Token| {
            let mut k = Vec::new();
            lookup_key(&t, &mut k);
            k
        };
        let keys = [
            key(token(Some("a\u{1f}b"), Some(""), None)),
            key(token(Some("a"), Some("b\u{1f}"), None)),
            key(token(Some("a"), Some("b"), None)),
            key(token(Some("a"), Some("b"), Some(""))),
            key(token(Some("a:"), Some("b"), None)),
            key(token(Some("a"), None, None)),
            key(token(Some("a"), Some(""), None)),
            key(token(Some("\u{1}"), None, None)),
            key(token(None, Some("\u{1}"), None)),
        ];
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(keys[2], key(token(Some("a"), Some("b"), None)));
    }
}
