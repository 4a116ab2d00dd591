//! The token model: a decoded JWS with AAD's header and claims typed, every
//! other member kept, and the classification the rest of the tool works from.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::cloud;
use crate::error::{Error, Result};
use crate::input::{Compact, decode_segment};
use crate::permissions::PermContext;
use crate::resource::{self, ResourceKind};

/// The JOSE header, typed where AAD and RFC 7515 define members.
#[derive(Debug, Clone, Default)]
pub struct Header {
    pub alg: Option<String>,
    pub typ: Option<String>,
    pub kid: Option<String>,
    pub x5t: Option<String>,
    /// Graph's header nonce (proprietary signing transform).
    pub nonce: Option<String>,
    pub cty: Option<String>,
    /// Members that name keys or certificates; never used to find keys.
    pub jku: Option<String>,
    pub x5u: Option<String>,
    pub has_jwk: bool,
    pub has_x5c: bool,
    pub crit: Option<Value>,
    pub b64: Option<Value>,
    /// The header JSON exactly as decoded, for the nonce transform and [`Header::raw`].
    pub json: String,
    /// Member names that occur more than once in the JSON text.
    pub duplicate_keys: Vec<String>,
    /// Members read as text whose value is not a JSON string (RFC 7515
    /// defines them as strings); their field is `None`.
    pub malformed: Vec<String>,
}

/// The payload claims, typed where AAD defines them; [`Claims::raw`] gives all of them.
#[derive(Debug, Clone, Default)]
pub struct Claims {
    pub aud: Vec<String>,
    pub iss: Option<String>,
    pub tid: Option<String>,
    pub oid: Option<String>,
    pub sub: Option<String>,
    pub appid: Option<String>,
    pub azp: Option<String>,
    pub appidacr: Option<String>,
    pub azpacr: Option<String>,
    pub idtyp: Option<String>,
    pub ver: Option<String>,
    pub scp: Option<String>,
    pub roles: Vec<String>,
    pub iat: Option<i64>,
    pub nbf: Option<i64>,
    pub exp: Option<i64>,
    pub upn: Option<String>,
    pub unique_name: Option<String>,
    pub preferred_username: Option<String>,
    pub name: Option<String>,
    pub app_displayname: Option<String>,
    pub xms_mirid: Option<String>,
    pub wids: Vec<String>,
    /// Claims AAD defines whose value has the wrong JSON type, e.g. `exp` as a string.
    pub malformed: Vec<String>,
    /// Claims this model reads (`aud`, `exp`, `roles`...) that the payload
    /// gives more than once; the fields hold the last value.
    pub repeated: Vec<String>,
    /// Carries a claim only ID tokens have (`nonce`, `at_hash`, `c_hash`, `auth_time`).
    pub id_markers: bool,
    /// Carries `nonce`, `at_hash` or `c_hash`: claims Azure AD writes into ID
    /// tokens for the client and never into access tokens, so the token is an
    /// ID token even when it also lists the user's app `roles`.
    pub id_proof: bool,
    /// The payload JSON as decoded, for [`Claims::raw`].
    pub json: String,
    /// [`Claims::classify`]'s answer, worked out on first use: `scan`
    /// classifies each token in several places. The claims are not changed
    /// once read, so it cannot go stale.
    pub(crate) classified: std::sync::OnceLock<Classification>,
}

/// A header segment as written in a token, and its decoded header.
#[derive(Debug)]
pub struct LastHeader {
    segment: String,
    header: std::sync::Arc<Header>,
}

/// A decoded (not yet verified) token.
#[derive(Debug, Clone)]
pub struct Token {
    pub compact: Compact,
    /// Shared with other tokens of the same header text when decoded with
    /// [`Token::decode_sharing`].
    pub header: std::sync::Arc<Header>,
    /// `Ok` when the payload is a JSON object; otherwise why it is not.
    pub claims: std::result::Result<Claims, String>,
    pub signature: Vec<u8>,
}

impl Token {
    /// Decode header, payload and signature. A payload that is not a JSON
    /// object is kept as an error string so `verify` can still check the
    /// signature (RFC 7520 signs plain text); see [`Token::require_claims`].
    pub fn decode(compact: Compact) -> Result<Token> {
        Token::decode_with(compact, None)
    }

    /// [`Token::decode`], reusing `last`, the header a previous token
    /// decoded, when this token's header segment is the same text (tokens of
    /// one issuer and key share it); `last` becomes this token's.
    pub fn decode_sharing(compact: Compact, last: &mut Option<LastHeader>) -> Result<Token> {
        Token::decode_with(compact, Some(last))
    }

    fn decode_with(compact: Compact, last: Option<&mut Option<LastHeader>>) -> Result<Token> {
        let (h, p, s) = compact.parts();
        let header = match last {
            Some(Some(l)) if l.segment == h => l.header.clone(),
            last => {
                let header_bytes = decode_segment(h, "header")?;
                let header_json = String::from_utf8(header_bytes).map_err(|_| {
                    Error::input("the token's header is not UTF-8 text, so it is not JSON")
                })?;
                let header = std::sync::Arc::new(Header::parse(header_json)?);
                if let Some(last) = last {
                    *last = Some(LastHeader {
                        segment: h.to_string(),
                        header: header.clone(),
                    });
                }
                header
            }
        };

        let payload = decode_segment(p, "payload")?;
        let claims = match String::from_utf8(payload) {
            Err(_) => Err("the payload is not UTF-8 text".to_string()),
            Ok(text) => Claims::parse(text),
        };
        let signature = if s.is_empty() {
            Vec::new()
        } else {
            decode_segment(s, "signature")?
        };
        Ok(Token {
            compact,
            header,
            claims,
            signature,
        })
    }

    /// The claims, or the input error `inspect` reports for a non-JSON payload.
    pub fn require_claims(&self) -> Result<&Claims> {
        self.claims.as_ref().map_err(|why| {
            Error::input(format!("cannot read the token's claims: {why}"))
                .with_hint("a JWT's payload is a JSON object of claims; copy the token again")
        })
    }

    /// A short, stable, non-reversible identifier for the token: the first
    /// 12 hex digits of SHA-256 over the whole compact token.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.compact.token)
    }
}

/// Fingerprint of any secret string: `sha256:` and 12 hex digits.
pub fn fingerprint(secret: &str) -> String {
    Fingerprint::of_digest(&crate::digest::sha256(secret.as_bytes())).to_string()
}

/// A short, stable, non-reversible identifier for a secret: `sha256:` and
/// the first 12 hex digits of its SHA-256. Held as those six bytes (a scan
/// keeps one per unique token) and written out when shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 6]);

impl Fingerprint {
    /// From the secret's SHA-256, when it is already computed.
    pub fn of_digest(digest: &[u8; 32]) -> Fingerprint {
        let mut short = [0u8; 6];
        short.copy_from_slice(&digest[..6]);
        Fingerprint(short)
    }
}

impl Fingerprint {
    /// `sha256:` and the 12 hex digits, spelt out without the formatting
    /// machinery: a scan writes one per unique token.
    fn spelt(&self) -> [u8; 19] {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = *b"sha256:000000000000";
        for (i, b) in self.0.iter().enumerate() {
            out[7 + 2 * i] = HEX[usize::from(b >> 4)];
            out[8 + 2 * i] = HEX[usize::from(b & 15)];
        }
        out
    }
}

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.spelt();
        // ASCII by construction.
        f.write_str(std::str::from_utf8(&s).unwrap_or_default())
    }
}

impl Serialize for Fingerprint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let b = self.spelt();
        s.serialize_str(std::str::from_utf8(&b).unwrap_or_default())
    }
}

mod read;
use read::pick;

/// Why a text that [`pick`] refused is not a JSON object: `Ok(())` when it
/// is JSON but not an object, else the parser's message.
fn not_an_object(json: &str) -> std::result::Result<(), serde_json::Error> {
    serde_json::from_str::<Value>(json).map(|_| ())
}

/// Parse a JSON object's text into a map (empty when it is not one).
fn map_of(json: &str) -> Map<String, Value> {
    match serde_json::from_str(json) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// Declares one list of member names to read in one pass: `$list`, the
/// names in slot order (it sizes [`pick`]'s slots), and `$slot`, the slot of
/// a name. Each test is a compare against a constant string, which compiles
/// to a length check and integer compares: it runs for every member of
/// every token.
macro_rules! member_slots {
    ($(#[$doc:meta])* $list:ident, $slot:ident: [$($name:literal),* $(,)?]) => {
        $(#[$doc])*
        const $list: [&str; [$($name),*].len()] = [$($name),*];

        fn $slot(member: &str) -> Option<usize> {
            let mut slot = 0;
            $(
                if member == $name {
                    return Some(slot);
                }
                slot += 1;
            )*
            let _ = slot;
            None
        }
    };
}

member_slots! {
    /// The header members [`Header::parse`] reads.
    HEADER_MEMBERS, header_slot: [
        "alg", "b64", "crit", "cty", "jku", "jwk", "kid", "nonce", "typ", "x5c", "x5t", "x5u",
    ]
}

impl Header {
    /// Decode the header JSON (one pass), or say why it is not a JSON object.
    fn parse(json: String) -> Result<Header> {
        let picked = match pick::<{ HEADER_MEMBERS.len() }>(&json, header_slot, true) {
            Ok(p) => p,
            Err(_) => {
                return Err(match not_an_object(&json) {
                    Ok(()) => Error::input("the token's header is JSON but not an object"),
                    Err(e) => Error::input(format!("the token's header is not JSON ({e})"))
                        .with_hint("copy the token again; it may have been cut or altered"),
                });
            }
        };
        let [
            alg,
            b64,
            crit,
            cty,
            jku,
            jwk,
            kid,
            nonce,
            typ,
            x5c,
            x5t,
            x5u,
        ] = picked.values;
        // Text only: a number is not a key id (claims accept numbers as
        // text; RFC 7515 header members are strings).
        let mut malformed = Vec::new();
        let mut s = |v: Option<Value>, k: &str| match v? {
            Value::String(s) => Some(s),
            _ => {
                malformed.push(k.to_string());
                None
            }
        };
        Ok(Header {
            alg: s(alg, "alg"),
            typ: s(typ, "typ"),
            kid: s(kid, "kid"),
            x5t: s(x5t, "x5t"),
            nonce: s(nonce, "nonce"),
            cty: s(cty, "cty"),
            jku: s(jku, "jku"),
            x5u: s(x5u, "x5u"),
            malformed,
            has_jwk: jwk.is_some(),
            has_x5c: x5c.is_some(),
            crit,
            b64,
            duplicate_keys: duplicates(picked.names),
            json,
        })
    }

    /// Every member as sent (parsed on demand, for reports).
    pub fn raw(&self) -> Map<String, Value> {
        map_of(&self.json)
    }
}

/// Names that occur more than once, each once, in order of first repeat.
fn duplicates(names: Vec<std::borrow::Cow<'_, str>>) -> Vec<String> {
    let mut dups: Vec<String> = Vec::new();
    for (i, k) in names.iter().enumerate() {
        if names[..i].contains(k) && !dups.iter().any(|d| d == k) {
            dups.push(k.to_string());
        }
    }
    dups
}

member_slots! {
    /// Every claim the typed fields read, and those only ID tokens carry
    /// (`nonce`, `at_hash`, `c_hash`, `auth_time`), in slot order.
    CLAIMS, claim_slot: [
        "app_displayname", "appid", "appidacr", "at_hash", "aud", "auth_time", "azp", "azpacr",
        "c_hash", "exp", "iat", "idtyp", "iss", "name", "nbf", "nonce", "oid",
        "preferred_username", "roles", "scp", "sub", "tid", "unique_name", "upn", "ver", "wids",
        "xms_mirid",
    ]
}

/// The slot of `name` in [`CLAIMS`], at compile time (a name that is not
/// there does not compile).
const fn claim_at(name: &str) -> usize {
    let mut i = 0;
    while i < CLAIMS.len() {
        let (a, b) = (CLAIMS[i].as_bytes(), name.as_bytes());
        if a.len() == b.len() {
            let mut j = 0;
            while j < a.len() && a[j] == b[j] {
                j += 1;
            }
            if j == a.len() {
                return i;
            }
        }
        i += 1;
    }
    panic!("not a claim slot")
}

/// The field of `c` that claim slot `slot` is read into.
fn claim_field(c: &mut Claims, slot: usize) -> Option<read::Field<'_>> {
    use read::Field::{Array, List, Marker, Text, Time};
    const APP_DISPLAYNAME: usize = claim_at("app_displayname");
    const APPID: usize = claim_at("appid");
    const APPIDACR: usize = claim_at("appidacr");
    const AT_HASH: usize = claim_at("at_hash");
    const AUD: usize = claim_at("aud");
    const AUTH_TIME: usize = claim_at("auth_time");
    const AZP: usize = claim_at("azp");
    const AZPACR: usize = claim_at("azpacr");
    const C_HASH: usize = claim_at("c_hash");
    const EXP: usize = claim_at("exp");
    const IAT: usize = claim_at("iat");
    const IDTYP: usize = claim_at("idtyp");
    const ISS: usize = claim_at("iss");
    const NAME: usize = claim_at("name");
    const NBF: usize = claim_at("nbf");
    const NONCE: usize = claim_at("nonce");
    const OID: usize = claim_at("oid");
    const PREFERRED_USERNAME: usize = claim_at("preferred_username");
    const ROLES: usize = claim_at("roles");
    const SCP: usize = claim_at("scp");
    const SUB: usize = claim_at("sub");
    const TID: usize = claim_at("tid");
    const UNIQUE_NAME: usize = claim_at("unique_name");
    const UPN: usize = claim_at("upn");
    const VER: usize = claim_at("ver");
    const WIDS: usize = claim_at("wids");
    const XMS_MIRID: usize = claim_at("xms_mirid");
    Some(match slot {
        APP_DISPLAYNAME => Text(&mut c.app_displayname),
        APPID => Text(&mut c.appid),
        APPIDACR => Text(&mut c.appidacr),
        AUD => List(&mut c.aud),
        AZP => Text(&mut c.azp),
        AZPACR => Text(&mut c.azpacr),
        EXP => Time(&mut c.exp),
        IAT => Time(&mut c.iat),
        IDTYP => Text(&mut c.idtyp),
        ISS => Text(&mut c.iss),
        NAME => Text(&mut c.name),
        NBF => Time(&mut c.nbf),
        OID => Text(&mut c.oid),
        PREFERRED_USERNAME => Text(&mut c.preferred_username),
        ROLES => Array(&mut c.roles),
        SCP => Text(&mut c.scp),
        SUB => Text(&mut c.sub),
        TID => Text(&mut c.tid),
        UNIQUE_NAME => Text(&mut c.unique_name),
        UPN => Text(&mut c.upn),
        VER => Text(&mut c.ver),
        WIDS => Array(&mut c.wids),
        XMS_MIRID => Text(&mut c.xms_mirid),
        AT_HASH | AUTH_TIME | C_HASH | NONCE => Marker,
        _ => return None,
    })
}

/// The claims listed in [`Claims::malformed`], in this order.
const MALFORMED_ORDER: [&str; 23] = [
    "aud",
    "iss",
    "tid",
    "oid",
    "sub",
    "appid",
    "azp",
    "appidacr",
    "azpacr",
    "idtyp",
    "ver",
    "scp",
    "roles",
    "iat",
    "nbf",
    "exp",
    "upn",
    "unique_name",
    "preferred_username",
    "name",
    "app_displayname",
    "xms_mirid",
    "wids",
];

impl Claims {
    /// Decode the payload JSON in one pass, or say why it is not a claims set.
    pub fn parse(json: String) -> std::result::Result<Claims, String> {
        let mut c = Claims::default();
        let bits = match read::claims(&json, &mut c) {
            Ok(b) => b,
            Err(_) => {
                return Err(match not_an_object(&json) {
                    Ok(()) => "the payload is JSON but not an object".to_string(),
                    Err(e) if e.to_string().starts_with("recursion limit exceeded") => {
                        "the payload nests arrays or objects more than 128 levels deep, beyond what mdeauth reads (Azure AD claims are a few levels deep at most)".to_string()
                    }
                    Err(e) => format!("the payload is not JSON ({e})"),
                });
            }
        };
        // Both lists are empty for almost every token: built only when not.
        if bits.repeated != 0 {
            c.repeated = CLAIMS
                .iter()
                .enumerate()
                .filter(|(i, _)| bits.repeated & 1 << i != 0)
                .map(|(_, n)| n.to_string())
                .collect();
        }
        if bits.bad != 0 {
            c.malformed = MALFORMED_ORDER
                .iter()
                .filter(|n| claim_slot(n).is_some_and(|i| bits.bad & 1 << i != 0))
                .map(|n| n.to_string())
                .collect();
        }
        const PROOF: u64 =
            1 << claim_at("nonce") | 1 << claim_at("at_hash") | 1 << claim_at("c_hash");
        c.id_proof = bits.seen & PROOF != 0;
        c.id_markers = c.id_proof || bits.seen & 1 << claim_at("auth_time") != 0;
        c.json = json;
        Ok(c)
    }

    /// Every claim as sent (parsed on demand, for reports).
    pub fn raw(&self) -> Map<String, Value> {
        map_of(&self.json)
    }

    /// Delegated permissions: `scp` split on spaces.
    pub fn scopes(&self) -> Vec<String> {
        self.scp
            .as_deref()
            .unwrap_or("")
            .split_whitespace()
            .map(str::to_string)
            .collect()
    }

    /// The permissions the token carries for `ctx`: `roles` in application
    /// context, the `scp` scopes in delegated context.
    pub fn granted(&self, ctx: PermContext) -> Vec<String> {
        match ctx {
            PermContext::Application => self.roles.clone(),
            PermContext::Delegated => self.scopes(),
        }
    }

    /// The audience for messages: its values, or why there is none to show
    /// (`aud` absent, or not a string or list of strings).
    pub fn audience_text(&self) -> String {
        if !self.aud.is_empty() {
            self.aud.join(", ")
        } else if self.malformed.iter().any(|m| m == "aud") {
            "malformed, not a string or a list of strings".to_string()
        } else {
            "none".to_string()
        }
    }

    /// The calling app: `appid` (v1) or `azp` (v2), the one the token's
    /// version defines first when a token carries both.
    pub fn app_id(&self) -> Option<&str> {
        let (v1, v2) = (self.appid.as_deref(), self.azp.as_deref());
        if self.is_v2() { v2.or(v1) } else { v1.or(v2) }
    }

    /// How the calling app authenticated: `appidacr` (v1) or `azpacr` (v2).
    pub fn app_acr(&self) -> Option<&str> {
        let (v1, v2) = (self.appidacr.as_deref(), self.azpacr.as_deref());
        if self.is_v2() { v2.or(v1) } else { v1.or(v2) }
    }

    /// `ver` is 2.0 (v2 tokens name the app in `azp`, v1 in `appid`).
    fn is_v2(&self) -> bool {
        self.ver.as_deref() == Some("2.0")
    }

    /// Whether one of its audiences is the MDE API (validators accept a
    /// token when one of its audiences matches).
    pub fn is_for_mde_api(&self) -> bool {
        self.aud
            .iter()
            .any(|a| resource::classify(a) == ResourceKind::Mde)
    }

    /// The signed-in user's name, for delegated tokens.
    pub fn user(&self) -> Option<&str> {
        self.upn
            .as_deref()
            .or(self.preferred_username.as_deref())
            .or(self.unique_name.as_deref())
    }
}

/// Access token or ID token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Access,
    Id,
}

/// Application (app-only), delegated (a signed-in user), or no permission at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Context {
    Application,
    Delegated,
    None,
}

impl Context {
    pub fn as_str(self) -> &'static str {
        match self {
            Context::Application => "application",
            Context::Delegated => "delegated",
            Context::None => "none",
        }
    }

    /// The permission context of a token that carries permissions; `None`
    /// when it carries neither `roles` nor `scp`.
    pub fn perm_context(self) -> Option<PermContext> {
        match self {
            Context::Application => Some(PermContext::Application),
            Context::Delegated => Some(PermContext::Delegated),
            Context::None => None,
        }
    }
}

/// How the client proved its identity when it got the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AppAuth {
    PublicClient,
    Secret,
    Certificate,
    Unknown,
}

impl AppAuth {
    pub fn describe(self) -> &'static str {
        match self {
            AppAuth::PublicClient => "public client (no credential)",
            AppAuth::Secret => "client secret",
            AppAuth::Certificate => "certificate (or federated credential)",
            AppAuth::Unknown => "not stated",
        }
    }
}

/// Everything derived from the claims that the checks and renderers use.
#[derive(Debug, Clone)]
pub struct Classification {
    /// "1.0", "2.0", or "unknown".
    pub version: &'static str,
    pub kind: Kind,
    pub context: Context,
    pub resource: ResourceKind,
    /// The `--cloud` style name of the cloud the issuer belongs to, if known.
    pub cloud: Option<&'static str>,
    pub app_auth: AppAuth,
    pub managed_identity: bool,
}

impl Classification {
    /// The cloud the issuer belongs to ([`Classification::cloud`]), if known.
    pub fn cloud_info(&self) -> Option<&'static cloud::Cloud> {
        self.cloud.and_then(|n| cloud::by_name(n).ok())
    }
}

fn is_guid_like(s: &str) -> bool {
    crate::guid::is_guid(s)
}

impl Claims {
    /// What kind of token this is, for which API, in which context and
    /// cloud (worked out once per token).
    pub fn classify(&self) -> Classification {
        self.classified.get_or_init(|| self.classify_now()).clone()
    }

    fn classify_now(&self) -> Classification {
        let issuer = self.iss.as_deref().unwrap_or("");
        let version = match self.ver.as_deref() {
            Some("1.0") => "1.0",
            Some("2.0") => "2.0",
            _ if issuer.contains("sts.windows.net") => "1.0",
            _ if issuer.trim_end_matches('/').ends_with("/v2.0") => "2.0",
            _ => "unknown",
        };
        let has_scp = self.scp.as_deref().is_some_and(|s| !s.trim().is_empty());
        let has_roles = !self.roles.is_empty();
        let id_markers = self.id_markers;
        let names_app = self.appid.is_some() || self.azp.is_some();
        let aud_is_client = self.aud.len() == 1
            && is_guid_like(&self.aud[0])
            && resource::classify(&self.aud[0]) == ResourceKind::Other;
        // An ID token may list the user's app roles; an access token never
        // carries nonce, at_hash or c_hash, and always names its app
        // (appid or azp), which an ID token does not (its aud is the app).
        // idtyp, though, is an access-token claim: a token carrying it is
        // one, whatever else it holds.
        let id_proof = self.id_proof && self.idtyp.is_none();
        let kind = if !has_scp && (id_proof || (!names_app && (id_markers || aud_is_client))) {
            Kind::Id
        } else {
            Kind::Access
        };
        // A user's token without scp carries the user's app roles, not the
        // app's permissions: never application context.
        let user = self.idtyp.as_deref() == Some("user")
            || (self.idtyp.is_none()
                && (self.upn.is_some()
                    || self.preferred_username.is_some()
                    || self.unique_name.is_some()));
        let context = if has_scp {
            Context::Delegated
        } else if kind == Kind::Id || user {
            Context::None
        } else if has_roles || self.idtyp.as_deref() == Some("app") {
            Context::Application
        } else {
            Context::None
        };
        // Any MDE value makes it an MDE token (validators accept a token when
        // one of its audiences matches); otherwise the first known API.
        let mut resource = ResourceKind::Other;
        for r in self.aud.iter().map(|a| resource::classify(a)) {
            if r == ResourceKind::Mde {
                resource = r;
                break;
            }
            if resource == ResourceKind::Other {
                resource = r;
            }
        }
        let cloud = cloud::by_issuer_url(issuer).map(|c| c.name);
        let app_auth = match self.app_acr() {
            Some("0") => AppAuth::PublicClient,
            Some("1") => AppAuth::Secret,
            Some("2") => AppAuth::Certificate,
            _ => AppAuth::Unknown,
        };
        Classification {
            version,
            kind,
            context,
            resource,
            cloud,
            app_auth,
            managed_identity: self.xms_mirid.is_some(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_the_first_12_hex_digits_of_sha256() {
        // SHA-256("abc") = ba7816bf8f01cfea414140de5dae2223...
        assert_eq!(fingerprint("abc"), "sha256:ba7816bf8f01");
        let json = serde_json::to_string(&Fingerprint::of_digest(&crate::digest::sha256(b"abc")));
        assert_eq!(json.unwrap(), r#""sha256:ba7816bf8f01""#);
    }

    #[test]
    fn every_claim_slot_is_read_into_a_field() {
        // A slot without a field would be skipped: never seen, repeated or
        // malformed. The markers have none but count as seen.
        let mut c = Claims::default();
        for (i, name) in CLAIMS.iter().enumerate() {
            assert!(claim_field(&mut c, i).is_some(), "{name}");
        }
        assert!(claim_field(&mut c, CLAIMS.len()).is_none());
        let markers = ["at_hash", "auth_time", "c_hash", "nonce"];
        assert_eq!(MALFORMED_ORDER.len() + markers.len(), CLAIMS.len());
        for name in CLAIMS {
            assert!(
                MALFORMED_ORDER.contains(&name) != markers.contains(&name),
                "{name}: read into a field (and listed in MALFORMED_ORDER) or a marker"
            );
        }
    }

    #[test]
    fn slots_match_the_member_lists() {
        for (i, n) in CLAIMS.iter().enumerate() {
            assert_eq!(claim_slot(n), Some(i), "{n}");
        }
        for (i, n) in HEADER_MEMBERS.iter().enumerate() {
            assert_eq!(header_slot(n), Some(i), "{n}");
        }
        assert_eq!(claim_slot("aio"), None);
        assert_eq!(header_slot("aud"), None);
    }

    #[test]
    fn one_pass_claims_keep_json_map_semantics() {
        // A repeated claim keeps its last value, as a JSON map would; wrong
        // types are listed in field order; unknown members stay in raw().
        let json = r#"{"aud":"a","exp":"soon","aud":["b","c"],"roles":["R",1],"x":{"y":[1,{"z":null}]},"auth_time":5,"iat":1.5}"#;
        let c = Claims::parse(json.to_string()).unwrap();
        assert_eq!(c.aud, ["b", "c"]);
        assert_eq!(c.roles, ["R"]);
        assert_eq!(c.malformed, ["roles", "exp"]);
        assert_eq!(c.iat, Some(1));
        assert!(c.id_markers);
        let raw = c.raw();
        assert_eq!(raw["x"]["y"][1]["z"], Value::Null);
        assert_eq!(raw.len(), 6);
    }

    /// The reading before claims were read straight into their fields:
    /// each claim parsed as a JSON value, then converted. The one-pass
    /// reader must give the same fields and lists.
    mod by_value {
        use serde_json::Value;

        fn str_field(v: Option<Value>, k: &str, malformed: &mut Vec<String>) -> Option<String> {
            match v? {
                Value::String(s) => Some(s),
                Value::Number(n) => Some(n.to_string()),
                _ => {
                    malformed.push(k.to_string());
                    None
                }
            }
        }

        fn time_field(v: Option<Value>, k: &str, malformed: &mut Vec<String>) -> Option<i64> {
            let v = v?;
            // NumericDate: seconds since the epoch; AAD sends integers. A fraction is
            // allowed by RFC 7519; anything out of range or not a number is malformed.
            let n = v.as_i64().or_else(|| {
                v.as_f64()
                    .filter(|f| f.is_finite() && f.abs() < 1e15)
                    .map(|f| f.trunc() as i64)
            });
            match n {
                Some(n) if (0..=253_402_300_799).contains(&n) => Some(n),
                _ => {
                    malformed.push(k.to_string());
                    None
                }
            }
        }

        /// A JSON array of strings (`roles`, `wids`: Azure AD always writes an
        /// array, even of one); a single string is read as one item but named
        /// malformed, as `scp` given as an array is.
        fn array_field(v: Option<Value>, k: &str, malformed: &mut Vec<String>) -> Vec<String> {
            if let Some(Value::String(s)) = v {
                malformed.push(k.to_string());
                return vec![s];
            }
            list_field(v, k, malformed)
        }

        /// A string or an array of strings (`aud`: RFC 7519 allows either).
        fn list_field(v: Option<Value>, k: &str, malformed: &mut Vec<String>) -> Vec<String> {
            match v {
                None => Vec::new(),
                Some(Value::String(s)) => vec![s],
                Some(Value::Array(a)) => {
                    let mut out = Vec::with_capacity(a.len());
                    for v in a {
                        match v {
                            Value::String(s) => out.push(s),
                            _ => {
                                malformed.push(k.to_string());
                                return out;
                            }
                        }
                    }
                    out
                }
                Some(_) => {
                    malformed.push(k.to_string());
                    Vec::new()
                }
            }
        }

        /// The claims of `members` (name, value; repeats allowed, the last
        /// wins) read the old way: (aud, roles, wids, texts in CLAIMS
        /// order, times, malformed, repeated).
        #[allow(clippy::type_complexity)]
        pub fn read(
            members: &[(String, Value)],
        ) -> (
            Vec<String>,
            Vec<String>,
            Vec<String>,
            Vec<Option<String>>,
            [Option<i64>; 3],
            Vec<String>,
            Vec<String>,
        ) {
            let last = |k: &str| {
                members
                    .iter()
                    .rev()
                    .find(|(n, _)| n == k)
                    .map(|(_, v)| v.clone())
            };
            let mut bad = Vec::new();
            let b = &mut bad;
            // Field-initialisation order of the old Claims::parse.
            let aud = list_field(last("aud"), "aud", b);
            let mut texts = Vec::new();
            for k in [
                "iss", "tid", "oid", "sub", "appid", "azp", "appidacr", "azpacr", "idtyp", "ver",
                "scp",
            ] {
                texts.push(str_field(last(k), k, b));
            }
            let roles = array_field(last("roles"), "roles", b);
            let times = [
                time_field(last("iat"), "iat", b),
                time_field(last("nbf"), "nbf", b),
                time_field(last("exp"), "exp", b),
            ];
            for k in [
                "upn",
                "unique_name",
                "preferred_username",
                "name",
                "app_displayname",
                "xms_mirid",
            ] {
                texts.push(str_field(last(k), k, b));
            }
            let wids = array_field(last("wids"), "wids", b);
            let repeated = super::CLAIMS
                .iter()
                .filter(|k| members.iter().filter(|(n, _)| n == *k).count() > 1)
                .map(|k| k.to_string())
                .collect();
            (aud, roles, wids, texts, times, bad, repeated)
        }
    }

    /// A JSON value of any type, as claims may (wrongly) hold them.
    fn any_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| serde_json::json!(n)),
            any::<u64>().prop_map(|n| serde_json::json!(n)),
            prop_oneof![
                Just(0.5f64),
                Just(-1.5),
                Just(1e14 + 0.25),
                Just(2e15),
                Just(1772442000.9),
                Just(1e300)
            ]
            .prop_map(|f| serde_json::json!(f)),
            (0i64..300_000_000_000).prop_map(|n| serde_json::json!(n)),
            "[a-z\\\"\u{e9}]{0,6}".prop_map(Value::String),
        ];
        leaf.prop_recursive(2, 12, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::vec(("[a-z]{1,3}", inner), 0..3)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    use proptest::strategy::Strategy;

    proptest::proptest! {
        #[test]
        fn one_pass_claims_read_as_json_values_would(
            members in proptest::collection::vec(
                (proptest::prop_oneof![
                    proptest::sample::select(CLAIMS.to_vec()).prop_map(str::to_string),
                    proptest::strategy::Just("other".to_string()),
                ], any_value()),
                0..12,
            )
        ) {
            use proptest::prop_assert_eq;
            let json = format!(
                "{{{}}}",
                members
                    .iter()
                    .map(|(k, v)| format!("{}:{v}", Value::String(k.clone())))
                    .collect::<Vec<_>>()
                    .join(",")
            );
            let c = Claims::parse(json.clone()).unwrap();
            // Each value as the parser reads it back from its text (a
            // float's last digits may differ from the generated one).
            let reread: Vec<(String, Value)> = members
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::from_str(&v.to_string()).unwrap()))
                .collect();
            let (aud, roles, wids, texts, times, bad, repeated) = by_value::read(&reread);
            prop_assert_eq!(&c.aud, &aud, "{}", json);
            prop_assert_eq!(&c.roles, &roles);
            prop_assert_eq!(&c.wids, &wids);
            let got = [
                &c.iss, &c.tid, &c.oid, &c.sub, &c.appid, &c.azp, &c.appidacr, &c.azpacr, &c.idtyp,
                &c.ver, &c.scp, &c.upn, &c.unique_name, &c.preferred_username, &c.name,
                &c.app_displayname, &c.xms_mirid,
            ];
            prop_assert_eq!(got.iter().map(|t| (*t).clone()).collect::<Vec<_>>(), texts, "{}", json);
            prop_assert_eq!([c.iat, c.nbf, c.exp], times, "{}", json);
            prop_assert_eq!(&c.malformed, &bad, "{}", json);
            prop_assert_eq!(&c.repeated, &repeated);
            let has = |k: &str| members.iter().any(|(n, _)| n == k);
            prop_assert_eq!(c.id_proof, has("nonce") || has("at_hash") || has("c_hash"));
            prop_assert_eq!(c.id_markers, c.id_proof || has("auth_time"));
        }
    }

    #[test]
    fn tokens_of_one_header_text_share_its_decoded_header() {
        use base64::Engine;
        let e = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let tok = |h: &str, aud: &str| Compact {
            token: format!("{}.{}.c2ln", e(h), e(&format!(r#"{{"aud":"{aud}"}}"#))),
            found_in: "test",
            signing_sha256: None,
        };
        let (h1, h2) = (
            r#"{"alg":"RS256","kid":"a"}"#,
            r#"{"alg":"RS256","kid":"b"}"#,
        );
        let mut last = None;
        let a = Token::decode_sharing(tok(h1, "x"), &mut last).unwrap();
        let b = Token::decode_sharing(tok(h1, "y"), &mut last).unwrap();
        assert!(std::sync::Arc::ptr_eq(&a.header, &b.header));
        assert_eq!(b.claims.unwrap().aud, ["y"]);
        let c = Token::decode_sharing(tok(h2, "z"), &mut last).unwrap();
        assert_eq!(c.header.kid.as_deref(), Some("b"));
        assert!(!std::sync::Arc::ptr_eq(&a.header, &c.header));
        // A header that does not decode is an error, whatever came before.
        let bad = Compact {
            token: format!("{}.{}.c2ln", e("{\"alg\""), e("{}")),
            found_in: "test",
            signing_sha256: None,
        };
        assert!(Token::decode_sharing(bad, &mut last).is_err());
        let d = Token::decode_sharing(tok(h2, "w"), &mut last).unwrap();
        assert!(std::sync::Arc::ptr_eq(&c.header, &d.header));
    }

    #[test]
    fn one_pass_claims_errors_match_a_full_parse() {
        assert_eq!(
            Claims::parse("[1]".into()).unwrap_err(),
            "the payload is JSON but not an object"
        );
        let e = Claims::parse(r#"{"a":1"#.into()).unwrap_err();
        assert!(e.starts_with("the payload is not JSON (EOF"), "{e}");
        let deep = format!(r#"{{"x":{}1{}}}"#, "[".repeat(200), "]".repeat(200));
        let e = Claims::parse(deep).unwrap_err();
        assert!(e.contains("more than 128 levels deep"), "{e}");
        assert!(Claims::parse(r#"{"a":1} x"#.into()).is_err());
    }

    #[test]
    fn one_pass_header_reports_duplicates_and_members() {
        let h =
            Header::parse(r#"{"alg":"RS256","x5c":[],"alg":"none","crit":["b64"],"kid":7}"#.into())
                .unwrap();
        assert_eq!(h.alg.as_deref(), Some("none"));
        // A number is not a key id: no kid, and kid is malformed.
        assert_eq!(h.kid, None);
        assert_eq!(h.malformed, ["kid"]);
        assert_eq!(h.duplicate_keys, ["alg"]);
        assert!(h.has_x5c && !h.has_jwk);
        assert_eq!(h.crit, Some(serde_json::json!(["b64"])));
        assert_eq!(h.raw().len(), 4);
        assert!(
            Header::parse("1".into())
                .unwrap_err()
                .to_string()
                .contains("JSON but not an object")
        );
    }
}
