//! Where a token's keys come from: OpenID discovery chosen by the token's
//! version, cloud and tenant (optionally with `?appid=` for app-specific
//! signing keys), or a key set given with `--jwks`; fetched through the
//! disk cache with AAD's refresh rules.

use std::path::Path;

use serde_json::Value;

use crate::cache::{self, Cache, Entry};
use crate::cloud;
use crate::error::{Error, Result};
use crate::finding::Finding;
use crate::http;
use crate::jwks::{Key, KeySet};
use crate::token::{Claims, Token};

/// The metadata document flavour, chosen by the token's version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
}

/// The OpenID configuration URL for a sign-in base URL (`https://host`),
/// tenant, token version and optional app id (app-specific signing keys).
pub fn metadata_url(base: &str, tenant: &str, version: Version, appid: Option<&str>) -> String {
    let base = base.trim_end_matches('/');
    let mut u = match version {
        Version::V1 => format!("{base}/{tenant}/.well-known/openid-configuration"),
        Version::V2 => format!("{base}/{tenant}/v2.0/.well-known/openid-configuration"),
    };
    if let Some(a) = appid {
        u.push_str("?appid=");
        u.push_str(&url::form_urlencoded::byte_serialize(a.as_bytes()).collect::<String>());
    }
    u
}

/// The two members of a discovery document verification needs.
#[derive(Debug, Clone)]
pub struct Metadata {
    /// The issuer, possibly templated with `{tenantid}`.
    pub issuer: String,
    pub jwks_uri: String,
}

impl Metadata {
    pub fn parse(origin: &str, body: &[u8]) -> Result<Metadata> {
        let v: Value = http::parse_json(origin, body)?;
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        match (s("issuer"), s("jwks_uri")) {
            (Some(issuer), Some(jwks_uri)) => Ok(Metadata { issuer, jwks_uri }),
            _ => Err(Error::environment(format!(
                "{origin} is JSON but not an OpenID configuration (no issuer or jwks_uri)"
            ))
            .with_hint(
                "check --authority-host; it must serve /{tenant}/.well-known/openid-configuration",
            )),
        }
    }
}

/// Where a fetched document came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Network,
    /// A fresh cached copy.
    Cache,
    /// A cached copy used because the network failed.
    StaleCache,
}

/// Why a document is being fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// Use the cache while it is younger than 24 h.
    Normal,
    /// A kid was not found: refetch unless fetched in the last 5 minutes.
    UnknownKid,
}

/// A parsed document and where it came from.
#[derive(Debug, Clone)]
pub struct Fetched<T> {
    pub value: T,
    pub origin: Origin,
    pub fetched_at: i64,
    /// An unknown-kid refresh was skipped because of the rate limit.
    pub rate_limited: bool,
}

/// Fetches documents through the disk cache. `http` is `None` offline.
pub struct Fetcher {
    pub http: Option<crate::http::LazyHttp>,
    pub cache: Cache,
    /// The real clock (never `--at`): cache ages are wall-clock ages.
    pub now: i64,
}

impl Fetcher {
    /// Fetch and parse `url` by the cache rules; warnings (a stale copy was
    /// used, the cache could not be written) go to `notes`.
    pub fn fetch<T>(
        &self,
        url: &str,
        want: Want,
        parse: impl Fn(&str, &[u8]) -> Result<T>,
        notes: &mut Vec<Finding>,
    ) -> Result<Fetched<T>> {
        // Messages name the URL without the credentials it may carry.
        let shown = &*http::shown_url(url);
        let cached = self
            .cache
            .get(url)
            .and_then(|e| parse(shown, e.body.as_bytes()).ok().map(|v| (v, e)));
        let from_cache = |(value, e): (T, Entry), origin, rate_limited| Fetched {
            value,
            origin,
            fetched_at: e.fetched_at,
            rate_limited,
        };
        let Some(lazy) = &self.http else {
            return match cached {
                // Past its refresh age the copy is still used, with a warning:
                // Azure AD may have rolled its keys since.
                Some(c) if !(0..cache::MAX_AGE).contains(&c.1.age(self.now)) => {
                    notes.push(stale_note(
                        shown,
                        &c.1,
                        self.now,
                        "--offline",
                        "the keys may be out of date; run once without --offline to refresh the cache",
                    ));
                    Ok(from_cache(c, Origin::StaleCache, false))
                }
                Some(c) => Ok(from_cache(c, Origin::Cache, false)),
                None if self.cache.has_file(url) => Err(Error::environment(format!(
                    "the cached copy of {shown} cannot be read (damaged) and --offline forbids fetching it again"
                ))
                .with_hint("run once without --offline to replace it, or `mdeauth cache clear`")),
                None => Err(Error::environment(format!(
                    "{shown} is not in the cache and --offline forbids fetching it"
                ))
                .with_hint("run once without --offline to fill the cache, or give the keys with --jwks FILE")),
            };
        };
        if let Some((_, e)) = &cached {
            let age = e.age(self.now);
            let fresh = (0..cache::MAX_AGE).contains(&age);
            let recent = (0..cache::MIN_REFRESH_INTERVAL).contains(&age);
            match want {
                Want::Normal if fresh => {
                    return Ok(from_cache(cached.expect("checked"), Origin::Cache, false));
                }
                Want::UnknownKid if recent => {
                    return Ok(from_cache(cached.expect("checked"), Origin::Cache, true));
                }
                _ => {}
            }
        }
        let got = lazy
            .get()
            .and_then(|http| http.get(url, &[]))
            .and_then(|r| {
                if !(200..300).contains(&r.status) {
                    return Err(http::status_error(&r));
                }
                let v = parse(shown, &r.body)?;
                Ok((v, r.body))
            });
        match got {
            Ok((value, body)) => {
                let entry = Entry {
                    url: url.to_string(),
                    fetched_at: self.now,
                    body: String::from_utf8_lossy(&body).into_owned(),
                };
                if let Err(e) = self.cache.put(&entry) {
                    notes.push(Finding::warning(
                        "cache.write_failed",
                        e.to_string(),
                        e.hint().unwrap_or_default().to_string(),
                    ));
                }
                Ok(Fetched {
                    value,
                    origin: Origin::Network,
                    fetched_at: self.now,
                    rate_limited: false,
                })
            }
            Err(e) => match cached {
                // The cached copy lacks the token's key: it cannot stand in
                // for the fresh one, so the key is unknown, not missing.
                Some(_) if want == Want::UnknownKid => Err(Error::environment(format!(
                    "the token's key is not in the cached copy of {shown}, and fetching it again failed ({})",
                    e.one_line()
                ))
                .with_hint("retry when the endpoint is reachable: Azure AD may have published the key since the copy was made")),
                Some(c) => {
                    let why = format!("fetching it failed ({})", e.one_line());
                    notes.push(stale_note(
                        shown,
                        &c.1,
                        self.now,
                        &why,
                        "the keys may be out of date; retry when the endpoint is reachable",
                    ));
                    Ok(from_cache(c, Origin::StaleCache, false))
                }
                None => Err(e),
            },
        }
    }
}

/// `cache.stale`: the cached copy of `url` is used past its refresh age
/// (or dated ahead of this clock, so of unknown age) because of `why`;
/// `fix` says how to refresh it.
fn stale_note(url: &str, e: &Entry, now: i64, why: &str, fix: &str) -> Finding {
    let age = e.age(now);
    let how_old = if age < 0 {
        format!(
            "{} ahead of this machine's clock, so its age is unknown",
            crate::timefmt::span(-age)
        )
    } else {
        format!(
            "{} old; copies are refreshed after {}",
            crate::timefmt::span(age),
            crate::timefmt::span(cache::MAX_AGE)
        )
    };
    Finding::warning(
        "cache.stale",
        format!(
            "{why}: using the cached copy of {url} from {} ({how_old})",
            crate::timefmt::rfc3339(e.fetched_at)
        ),
        fix,
    )
}

/// Where `verify` takes keys from.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// `--jwks URL`, fetched (and cached) when a token needs it.
    Jwks(String),
    /// `--jwks PATH`, read once when the resolver is made.
    Loaded(StaticKeys),
    /// OpenID discovery.
    Discover(DiscoverOptions),
}

#[derive(Debug, Clone, Default)]
pub struct DiscoverOptions {
    /// `--authority-host URL`: discovery base instead of the cloud's login host.
    pub authority: Option<String>,
    /// `--cloud NAME`.
    pub cloud: Option<String>,
    /// `--app-keys API_APP_ID`: the key set of that app (`?appid=`), the
    /// app of the API the token is for; never applied to MDE API tokens.
    pub app_keys: Option<String>,
    /// `--tenant`: used for discovery when the token has no GUID `tid`.
    pub tenant: Option<String>,
}

/// The result of looking up a token's key.
#[derive(Debug, Clone, Default)]
pub struct KeyLookup {
    /// The keys to try (empty: key not found).
    pub candidates: Vec<std::sync::Arc<Key>>,
    /// The key set URL or file the candidates come from (or the last one tried).
    pub source: Option<String>,
    /// The metadata's issuer (template) when discovery was used.
    pub issuer_template: Option<String>,
    /// Notes made on the way: stale cache, skipped keys, refreshes, app keys.
    pub findings: Vec<Finding>,
    /// Why the key was not found, each with its fix (empty when found).
    pub diagnosis: Vec<Finding>,
    /// When the key set that lacked the token's key was fetched (set with a
    /// diagnosis from a fetched set): [`KeyLookup::fit_to`] judges another
    /// token's age against it.
    pub set_fetched_at: Option<i64>,
}

impl KeyLookup {
    /// Re-judges, for `token`, the one note of a key-not-found diagnosis
    /// that depends on the token itself (its `exp` against the time the set
    /// was fetched), so a lookup remembered for another token with the same
    /// issuer and key id says the right thing about this one.
    pub fn fit_to(&mut self, token: &Token) {
        let Some(at) = self.set_fetched_at else {
            return;
        };
        let d = &mut self.diagnosis;
        d.retain(|f| f.code != "keys.token_older_than_set");
        if let Some(note) = older_than_set(token, at) {
            // Where rotation_notes puts it: after the refresh notes.
            let after = d
                .iter()
                .rposition(|f| {
                    matches!(
                        f.code,
                        "signature.key_not_found" | "keys.rotated" | "keys.refresh_rate_limited"
                    )
                })
                .map_or(0, |i| i + 1);
            d.insert(after, note);
        }
    }
}

/// Finds the keys for a token.
pub trait KeyProvider {
    fn lookup(&self, token: &Token) -> Result<KeyLookup>;
}

/// A fixed key set, e.g. parsed by the caller.
#[derive(Debug, Clone)]
pub struct StaticKeys {
    pub set: KeySet,
    pub label: String,
}

impl KeyProvider for StaticKeys {
    fn lookup(&self, token: &Token) -> Result<KeyLookup> {
        let mut out = KeyLookup {
            source: Some(self.label.clone()),
            ..KeyLookup::default()
        };
        skipped_notes(&self.set, &self.label, &mut out.findings);
        out.candidates = select(&self.set, token);
        if out.candidates.is_empty() {
            out.diagnosis
                .push(not_in_given_set(token, &self.set, &self.label));
        }
        Ok(out)
    }
}

fn select(set: &KeySet, token: &Token) -> Vec<std::sync::Arc<Key>> {
    let h = &token.header;
    let (keys, _m) = set.select(h.kid.as_deref(), h.x5t.as_deref());
    keys.into_iter().cloned().collect()
}

fn skipped_notes(set: &KeySet, origin: &str, notes: &mut Vec<Finding>) {
    /// Keys named in the note; the rest are counted.
    const NAMED: usize = 5;
    if set.skipped_total > 0 {
        let mut named: Vec<String> = set
            .skipped
            .iter()
            .take(NAMED)
            .map(ToString::to_string)
            .collect();
        if set.skipped_total > named.len() {
            named.push(format!("and {} more", set.skipped_total - named.len()));
        }
        notes.push(Finding::info(
            "keys.skipped",
            format!(
                "{} unusable key(s) in {origin} ignored: {}",
                set.skipped_total,
                named.join("; ")
            ),
            "",
        ));
    }
}

fn key_name(token: &Token) -> String {
    let h = &token.header;
    match (&h.kid, &h.x5t) {
        (Some(k), _) => format!("kid {k}"),
        (None, Some(x)) => format!("x5t {x}"),
        (None, None) => "no kid or x5t".to_string(),
    }
}

fn not_in_given_set(token: &Token, set: &KeySet, origin: &str) -> Finding {
    if let Some(f) = unusable_key(token, set, origin) {
        return f;
    }
    Finding::error(
        "signature.key_not_found",
        format!(
            "the token's key ({}) is not in {origin}, which holds {}",
            key_name(token),
            list_ids(set)
        ),
        "give the key set of the token's issuer (for Azure AD tokens leave out --jwks to use discovery)",
    )
}

/// The token names a key the set publishes but that cannot check its
/// signature (not RSA, too short, not for signing...): said as such, not as
/// a missing key.
fn unusable_key(token: &Token, set: &KeySet, origin: &str) -> Option<Finding> {
    let why = set.unusable(token.header.kid.as_deref()?)?;
    Some(Finding::error(
        "signature.key_not_found",
        format!(
            "the token's key ({}) is in {origin} but cannot be used: {why}",
            key_name(token),
        ),
        "the reason above says what is wrong with the key: a key set must publish a signing key as Azure AD does (kty RSA, n and e of 2048 bits or more, use sig if given, text members); until the issuer fixes it, tokens signed with that key are not accepted",
    ))
}

fn list_ids(set: &KeySet) -> String {
    if set.keys.is_empty() {
        "no usable key".to_string()
    } else {
        format!("{} key(s): {}", set.keys.len(), set.ids().join(", "))
    }
}

/// The network/cache-backed provider used by `verify`.
pub struct Resolver {
    pub fetcher: Fetcher,
    pub source: KeySource,
}

impl KeyProvider for Resolver {
    fn lookup(&self, token: &Token) -> Result<KeyLookup> {
        match &self.source {
            KeySource::Jwks(url) => self.keys_at_url(token, url),
            KeySource::Loaded(keys) => keys.lookup(token),
            KeySource::Discover(o) => self.discover(token, o),
        }
    }
}

/// Read and parse a key set file (errors are input errors: exit 2).
pub fn read_jwks_file(p: &Path) -> Result<KeySet> {
    let meta = std::fs::metadata(p).map_err(|e| {
        Error::input(format!(
            "cannot read key set file {}: {e}",
            crate::input::shown_path(p)
        ))
        .with_hint("give an existing JWKS file or an https URL with --jwks")
    })?;
    if meta.is_dir() {
        return Err(
            Error::input(format!("key set file {} is a directory", p.display()))
                .with_hint("give the JWKS file itself, or an https URL, with --jwks"),
        );
    }
    if meta.len() > http::DEFAULT_MAX_BYTES as u64 {
        return Err(Error::input(format!(
            "key set file {} is larger than {} KB",
            p.display(),
            http::DEFAULT_MAX_BYTES / 1024
        ))
        .with_hint(
            "a key set is a few KB: give the JWKS document itself ({\"keys\": [...]}) with --jwks",
        ));
    }
    // The size above is 0 for a pipe or device: the read is bounded too.
    let body = crate::text::read_file_limited(p, http::DEFAULT_MAX_BYTES as u64).map_err(|e| {
        Error::reading(
            &e,
            format!("cannot read key set file {}: {e}", p.display()),
            Some("give the JWKS document ({\"keys\": [...]}), saved as text, with --jwks"),
        )
    })?;
    let label = p.display().to_string();
    let doc: serde_json::Value = serde_json::from_str(&body).map_err(|e| {
        Error::input(format!("key set file {label} is not valid JSON ({e})"))
            .with_hint("the file must be a JWKS document: {\"keys\": [...]}")
    })?;
    KeySet::from_value(&label, &doc).map_err(|e| {
        let msg = e.to_string();
        Error::input(msg).with_hint("the file must be a JWKS document: {\"keys\": [...]}")
    })
}

struct SetResult {
    set: KeySet,
    jwks_uri: String,
    candidates: Vec<std::sync::Arc<Key>>,
    refreshed: bool,
    rate_limited: bool,
    fetched_at: i64,
}

impl Resolver {
    /// Fetch a key set by URL and select; refetch once on an unknown kid.
    fn keyset(&self, token: &Token, url: &str, notes: &mut Vec<Finding>) -> Result<SetResult> {
        let f = self
            .fetcher
            .fetch(url, Want::Normal, KeySet::parse, notes)?;
        let mut res = SetResult {
            candidates: select(&f.value, token),
            set: f.value,
            jwks_uri: http::shown_url(url).into_owned(),
            refreshed: f.origin == Origin::Network,
            rate_limited: false,
            fetched_at: f.fetched_at,
        };
        if res.candidates.is_empty() && f.origin == Origin::Cache {
            let g = self
                .fetcher
                .fetch(url, Want::UnknownKid, KeySet::parse, notes)?;
            res.rate_limited = g.rate_limited;
            res.refreshed = g.origin == Origin::Network;
            res.fetched_at = g.fetched_at;
            res.candidates = select(&g.value, token);
            res.set = g.value;
            if res.refreshed {
                notes.push(Finding::info(
                    "keys.refreshed",
                    format!(
                        "the token's key ({}) was not in the cached key set, so {} was fetched again",
                        key_name(token),
                        res.jwks_uri
                    ),
                    "",
                ));
            }
        }
        skipped_notes(&res.set, url, notes);
        Ok(res)
    }

    fn keys_at_url(&self, token: &Token, url: &str) -> Result<KeyLookup> {
        let shown = http::shown_url(url);
        let mut out = KeyLookup {
            source: Some(shown.to_string()),
            ..KeyLookup::default()
        };
        let r = self.keyset(token, url, &mut out.findings)?;
        if r.candidates.is_empty() {
            out.diagnosis.push(not_in_given_set(token, &r.set, &shown));
            out.diagnosis
                .extend(rotation_notes(token, &r, self.fetcher.now));
            out.set_fetched_at = Some(r.fetched_at);
        }
        out.candidates = r.candidates;
        Ok(out)
    }

    /// Metadata then key set, for one metadata URL.
    fn via_metadata(
        &self,
        token: &Token,
        meta_url: &str,
        notes: &mut Vec<Finding>,
    ) -> Result<(Metadata, SetResult)> {
        let m = self
            .fetcher
            .fetch(meta_url, Want::Normal, Metadata::parse, notes)?;
        if let Err(e) = http::check_url(&m.value.jwks_uri) {
            return Err(Error::environment(format!(
                "the metadata at {meta_url} names a key set mdeauth will not fetch: {}",
                e.one_line()
            ))
            .with_hint(
                "the endpoint is misconfigured or not Azure AD; give the keys with --jwks",
            ));
        }
        let r = self.keyset(token, &m.value.jwks_uri, notes)?;
        Ok((m.value, r))
    }

    fn discover(&self, token: &Token, o: &DiscoverOptions) -> Result<KeyLookup> {
        let mut out = KeyLookup::default();
        let claims = token.claims.as_ref().ok();
        let issuer = claims.and_then(|c| c.iss.as_deref());
        let issuer_cloud = issuer.and_then(cloud::by_issuer_url);

        // The sign-in base URL discovery is read from.
        let base = if let Some(b) = discovery_base(issuer, o)? {
            b
        } else {
            let what = match issuer {
                Some(i) => format!("the issuer {i} is not an Azure AD sign-in host"),
                None if claims.is_some_and(|c| c.malformed.iter().any(|m| m == "iss")) => {
                    "the token's issuer (iss) is not a string".to_string()
                }
                None => "the token names no issuer".to_string(),
            };
            out.diagnosis.push(Finding::error(
                "signature.key_not_found",
                format!("{what}, so mdeauth cannot find its published keys"),
                "give the issuer's key set with --jwks PATH|URL, or its sign-in host with --authority-host URL",
            ));
            out.diagnosis.push(Finding::info(
                "keys.issuer_not_aad",
                "only Azure AD issuers are discovered automatically; a token from another issuer is never an MDE API token",
                "request the token from Azure AD (login.microsoftonline.com) for the MDE API",
            ));
            return Ok(out);
        };

        let version = version_of(token, claims);
        let tid = claims
            .and_then(|c| c.tid.as_deref())
            .filter(|t| crate::guid::is_bare_guid(t));
        let tenant = tid
            .map(str::to_string)
            .or_else(|| o.tenant.clone())
            .unwrap_or_else(|| "common".to_string());
        // App-specific keys (claims mapping) are the validating API's own:
        // which app is the caller's choice (--app-keys API_APP_ID), never a
        // claim of the token (a key set picked by the token's appid would
        // verify a token signed by whoever controls that app). MDE API
        // tokens are signed with the common keys only.
        // (check_key_args has made sure it is a GUID.)
        if let Some(app) = o
            .app_keys
            .as_deref()
            .filter(|_| !claims.is_some_and(Claims::is_for_mde_api))
        {
            let app = crate::guid::bare(app.trim());
            let url = metadata_url(&base, &tenant, version, Some(app));
            let (m, r) = self.via_metadata(token, &url, &mut out.findings)?;
            if !r.candidates.is_empty() {
                out.findings.push(Finding::info(
                    "keys.app_specific",
                    format!(
                        "the token is signed with a key specific to app {app} (found through {url})"
                    ),
                    "",
                ));
            }
            return Ok(self.finish(token, out, m, r, o, issuer_cloud, true));
        }

        let url = metadata_url(&base, &tenant, version, None);
        let (m, r) = self.via_metadata(token, &url, &mut out.findings)?;
        Ok(self.finish(token, out, m, r, o, issuer_cloud, false))
    }

    #[allow(clippy::too_many_arguments)]
    fn finish(
        &self,
        token: &Token,
        mut out: KeyLookup,
        m: Metadata,
        r: SetResult,
        o: &DiscoverOptions,
        issuer_cloud: Option<&'static cloud::Cloud>,
        app_keys: bool,
    ) -> KeyLookup {
        out.issuer_template = Some(m.issuer);
        out.source = Some(r.jwks_uri.clone());
        if !r.candidates.is_empty() {
            out.candidates = r.candidates;
            return out;
        }
        if let Some(f) = unusable_key(token, &r.set, &r.jwks_uri) {
            out.diagnosis.push(f);
            return out;
        }
        let claims = token.claims.as_ref().ok();
        out.diagnosis.push(Finding::error(
            "signature.key_not_found",
            format!(
                "the token's key ({}) is not in {} ({})",
                key_name(token),
                r.jwks_uri,
                list_ids(&r.set),
            ),
            "see the keys.* findings below for the likely cause and its fix",
        ));
        out.diagnosis
            .extend(rotation_notes(token, &r, self.fetcher.now));
        out.set_fetched_at = Some(r.fetched_at);
        if !app_keys {
            out.diagnosis.push(if claims.is_some_and(Claims::is_for_mde_api) {
                Finding::info(
                    "keys.app_specific",
                    "Azure AD signs tokens for the MDE API with the tenant's common keys only, never with an app's own (claims-mapping) keys: a token whose key is not in the common set is not one the API accepts",
                    "get a new token from Azure AD for the MDE API (https://api.securitycenter.microsoft.com/.default)",
                )
            } else {
                Finding::info(
                    "keys.app_specific",
                    "an API whose app uses claims mapping gets tokens signed with that app's own keys, published at the metadata URL with ?appid=; they are read only for the app you name, never for an app the token names",
                    "if this token is for your own API and its app registration signs with custom keys, run again with --app-keys <that app's id>",
                )
            });
        }
        if app_keys {
            // Only --app-keys reaches here with app_keys: found keys return above.
            out.diagnosis.push(Finding::info(
                "keys.app_specific",
                "--app-keys read only the app-specific key set (?appid=); a token signed with the tenant's common keys is not in it",
                "run again without --app-keys: mdeauth then reads the tenant's common key set",
            ));
        }
        // Wrong cloud or tenant.
        let chosen = o.cloud.as_deref().and_then(|c| cloud::by_name(c).ok());
        let cloud_note = match (chosen, issuer_cloud) {
            (Some(c), Some(ic)) if c.login_host != ic.login_host => Some(format!(
                "--cloud {} reads keys from {}, but the token was issued in {}, whose keys are on {}",
                c.name, c.login_host, ic.display, ic.login_host
            )),
            _ if o.authority.is_some() => Some(format!(
                "--authority-host {} was used instead of the token's own cloud",
                o.authority.as_deref().unwrap_or_default()
            )),
            _ => None,
        };
        let tenant_note = match (claims.and_then(|c| c.tid.as_deref()), o.tenant.as_deref()) {
            (Some(t), Some(want)) if !t.eq_ignore_ascii_case(want) => {
                Some(
                    if crate::guid::bare(t).eq_ignore_ascii_case(crate::guid::bare(want)) {
                        // The same GUID: only the token's braces differ
                        // (claims.tid_not_guid says why they matter).
                        format!(
                            "the token's tenant {t} is --tenant {want} in braces, which Azure AD never writes"
                        )
                    } else {
                        format!("the token's tenant {t} is not --tenant {want}")
                    },
                )
            }
            _ => None,
        };
        let mut where_ = vec![];
        where_.extend(cloud_note);
        where_.extend(tenant_note);
        out.diagnosis.push(Finding::info(
            "keys.wrong_cloud_or_tenant",
            if where_.is_empty() {
                "a token from another cloud (US Government, China, ...) or a tenant-specific key would be missing from this set".to_string()
            } else {
                where_.join("; ")
            },
            "leave out --cloud/--authority-host so the issuer's own cloud is used, or name the right one (--cloud public|gcc|gcc-high|dod|china)",
        ));
        out
    }
}

/// The sign-in base URL discovery is read from: `--authority-host`, else
/// `--cloud`'s login host, else the login host of the cloud the issuer host
/// belongs to (China issues as login.partner.microsoftonline.cn but serves
/// discovery on login.chinacloudapi.cn). `None` for a non-AAD issuer.
pub fn discovery_base(issuer: Option<&str>, o: &DiscoverOptions) -> Result<Option<String>> {
    if let Some(a) = &o.authority {
        let u = http::check_base_url(a, "--authority-host")?;
        return Ok(Some(u.as_str().trim_end_matches('/').to_string()));
    }
    if let Some(c) = &o.cloud {
        return Ok(Some(format!("https://{}", cloud::by_name(c)?.login_host)));
    }
    Ok(issuer
        .and_then(cloud::by_issuer_url)
        .map(|c| format!("https://{}", c.login_host)))
}

fn version_of(token: &Token, claims: Option<&Claims>) -> Version {
    match claims.map(|c| c.classify().version) {
        Some("1.0") => Version::V1,
        Some("2.0") => Version::V2,
        _ if token.header.x5t.is_some() => Version::V1,
        _ => Version::V2,
    }
}

/// Rotation and "token older than the key set" diagnoses for a missing key.
fn rotation_notes(token: &Token, r: &SetResult, now: i64) -> Vec<Finding> {
    let mut out = Vec::new();
    if r.refreshed {
        out.push(Finding::info(
            "keys.rotated",
            format!(
                "the key set was fetched just now ({}) and still lacks the token's key: it was rotated out, or never published here",
                crate::timefmt::rfc3339(r.fetched_at)
            ),
            "request a fresh token; if a fresh one fails too, the key belongs to another cloud, tenant or app",
        ));
    } else if r.rate_limited {
        out.push(Finding::info(
            "keys.refresh_rate_limited",
            format!(
                "the key set was last fetched {} ago; an unknown key refreshes it at most once every 5 minutes",
                crate::timefmt::span(now - r.fetched_at)
            ),
            "wait a few minutes and retry, or run `mdeauth cache clear` to force a refresh",
        ));
    }
    out.extend(older_than_set(token, r.fetched_at));
    out
}

/// `keys.token_older_than_set` when the token expired before the key set
/// lacking its key was fetched (at `fetched_at`).
fn older_than_set(token: &Token, fetched_at: i64) -> Option<Finding> {
    let exp = token.claims.as_ref().ok().and_then(|c| c.exp)?;
    (exp < fetched_at).then(|| {
        Finding::info(
            "keys.token_older_than_set",
            format!(
                "the token expired ({}) before this key set was fetched ({}); Azure AD retires signing keys, so an old token's key may no longer be published",
                crate::timefmt::rfc3339(exp),
                crate::timefmt::rfc3339(fetched_at)
            ),
            "verify a fresh token, or give the key set that was current when it was issued with --jwks FILE",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_urls() {
        assert_eq!(
            metadata_url("https://login.microsoftonline.com/", "t", Version::V1, None),
            "https://login.microsoftonline.com/t/.well-known/openid-configuration"
        );
        assert_eq!(
            metadata_url(
                "https://login.chinacloudapi.cn",
                "t",
                Version::V2,
                Some("a b")
            ),
            "https://login.chinacloudapi.cn/t/v2.0/.well-known/openid-configuration?appid=a+b"
        );
    }

    #[test]
    fn discovery_follows_the_issuers_cloud() {
        let none = DiscoverOptions::default();
        let base = |iss: &str, o: &DiscoverOptions| discovery_base(Some(iss), o).unwrap();
        let t = "4d7f7e2c-9a51-4c1b-8b8e-2f6a3c1d0e55";
        for (iss, want) in [
            (
                format!("https://sts.windows.net/{t}/"),
                "https://login.microsoftonline.com",
            ),
            (
                format!("https://login.microsoftonline.com/{t}/v2.0"),
                "https://login.microsoftonline.com",
            ),
            (
                format!("https://login.microsoftonline.us/{t}/v2.0"),
                "https://login.microsoftonline.us",
            ),
            (
                format!("https://login.partner.microsoftonline.cn/{t}/v2.0"),
                "https://login.chinacloudapi.cn",
            ),
            (
                format!("https://login.sovcloud-identity.fr/{t}/v2.0"),
                "https://login.sovcloud-identity.fr",
            ),
        ] {
            assert_eq!(base(&iss, &none).as_deref(), Some(want), "{iss}");
        }
        assert_eq!(base("https://evil.example/x/", &none), None);
        let china = DiscoverOptions {
            cloud: Some("china".into()),
            ..DiscoverOptions::default()
        };
        assert_eq!(
            base("https://sts.windows.net/x/", &china).as_deref(),
            Some("https://login.chinacloudapi.cn")
        );
        let dod = DiscoverOptions {
            cloud: Some("dod".into()),
            ..DiscoverOptions::default()
        };
        assert_eq!(
            base("https://sts.windows.net/x/", &dod).as_deref(),
            Some("https://login.microsoftonline.us")
        );
        let local = DiscoverOptions {
            authority: Some("http://127.0.0.1:8080/".into()),
            cloud: Some("china".into()),
            ..DiscoverOptions::default()
        };
        assert_eq!(
            base("https://evil.example/", &local).as_deref(),
            Some("http://127.0.0.1:8080")
        );
        let plain = DiscoverOptions {
            authority: Some("http://login.example.com".into()),
            ..DiscoverOptions::default()
        };
        assert!(discovery_base(None, &plain).is_err());
    }
}
