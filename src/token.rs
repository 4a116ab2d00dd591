//! The token model: a decoded JWS with AAD's header and claims typed, every
//! other member kept, and the classification the rest of the tool works from.

use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::cloud;
use crate::error::{Error, Result};
use crate::input::{Compact, decode_segment};
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
    /// Every member as sent.
    pub raw: Map<String, Value>,
    /// The header JSON exactly as decoded, for the nonce transform.
    pub json: String,
    /// Member names that occur more than once in the JSON text.
    pub duplicate_keys: Vec<String>,
}

/// The payload claims, typed where AAD defines them; `raw` keeps all of them.
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
    pub raw: Map<String, Value>,
}

/// A decoded (not yet verified) token.
#[derive(Debug, Clone)]
pub struct Token {
    pub compact: Compact,
    pub header: Header,
    /// `Ok` when the payload is a JSON object; otherwise why it is not.
    pub claims: std::result::Result<Claims, String>,
    pub signature: Vec<u8>,
}

impl Token {
    /// Decode header, payload and signature. A payload that is not a JSON
    /// object is kept as an error string so `verify` can still check the
    /// signature (RFC 7520 signs plain text); see [`Token::require_claims`].
    pub fn decode(compact: Compact) -> Result<Token> {
        let (h, p, s) = compact.parts();
        let header_bytes = decode_segment(h, "header")?;
        let header_json = String::from_utf8(header_bytes)
            .map_err(|_| Error::input("the token's header is not UTF-8 text, so it is not JSON"))?;
        let header_val: Value = serde_json::from_str(&header_json).map_err(|e| {
            Error::input(format!("the token's header is not JSON ({e})"))
                .with_hint("copy the token again; it may have been cut or altered")
        })?;
        let Value::Object(header_map) = header_val else {
            return Err(Error::input("the token's header is JSON but not an object"));
        };
        let header = Header::from_map(header_map, header_json);

        let payload = decode_segment(p, "payload")?;
        let claims = match std::str::from_utf8(&payload) {
            Err(_) => Err("the payload is not UTF-8 text".to_string()),
            Ok(text) => match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(m)) => Ok(Claims::from_map(m)),
                Ok(_) => Err("the payload is JSON but not an object".to_string()),
                Err(e) => Err(format!("the payload is not JSON ({e})")),
            },
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
            Error::input(format!("the token's {why}"))
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
    let d = Sha256::digest(secret.as_bytes());
    let hex: String = d.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

fn str_field(m: &Map<String, Value>, k: &str, malformed: &mut Vec<String>) -> Option<String> {
    match m.get(k)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => {
            malformed.push(k.to_string());
            None
        }
    }
}

fn time_field(m: &Map<String, Value>, k: &str, malformed: &mut Vec<String>) -> Option<i64> {
    let v = m.get(k)?;
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

fn list_field(m: &Map<String, Value>, k: &str, malformed: &mut Vec<String>) -> Vec<String> {
    match m.get(k) {
        None => Vec::new(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => {
            let mut out = Vec::new();
            for v in a {
                match v.as_str() {
                    Some(s) => out.push(s.to_string()),
                    None => {
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

impl Header {
    fn from_map(raw: Map<String, Value>, json: String) -> Header {
        let mut ignored = Vec::new();
        let s = |k: &str, bad: &mut Vec<String>| str_field(&raw, k, bad);
        Header {
            alg: s("alg", &mut ignored),
            typ: s("typ", &mut ignored),
            kid: s("kid", &mut ignored),
            x5t: s("x5t", &mut ignored),
            nonce: s("nonce", &mut ignored),
            cty: s("cty", &mut ignored),
            jku: s("jku", &mut ignored),
            x5u: s("x5u", &mut ignored),
            has_jwk: raw.contains_key("jwk"),
            has_x5c: raw.contains_key("x5c"),
            crit: raw.get("crit").cloned(),
            b64: raw.get("b64").cloned(),
            duplicate_keys: duplicate_top_level_keys(&json),
            raw,
            json,
        }
    }
}

/// Names of top-level members that appear more than once in a JSON object's
/// text. serde_json keeps the last one; a validator that keeps the first
/// would read a different `alg`, so duplicates are reported.
pub fn duplicate_top_level_keys(json: &str) -> Vec<String> {
    use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
    struct Keys(Vec<String>);
    impl<'de> Visitor<'de> for &mut Keys {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> std::result::Result<(), A::Error> {
            while let Some(k) = m.next_key::<String>()? {
                m.next_value::<IgnoredAny>()?;
                self.0.push(k);
            }
            Ok(())
        }
    }
    let mut keys = Keys(Vec::new());
    let mut de = serde_json::Deserializer::from_str(json);
    if de.deserialize_map(&mut keys).is_err() {
        return Vec::new();
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut dups = Vec::new();
    for k in keys.0 {
        if !seen.insert(k.clone()) && !dups.contains(&k) {
            dups.push(k);
        }
    }
    dups
}

impl Claims {
    pub fn from_map(raw: Map<String, Value>) -> Claims {
        let mut bad = Vec::new();
        let m = &raw;
        let c = Claims {
            aud: list_field(m, "aud", &mut bad),
            iss: str_field(m, "iss", &mut bad),
            tid: str_field(m, "tid", &mut bad),
            oid: str_field(m, "oid", &mut bad),
            sub: str_field(m, "sub", &mut bad),
            appid: str_field(m, "appid", &mut bad),
            azp: str_field(m, "azp", &mut bad),
            appidacr: str_field(m, "appidacr", &mut bad),
            azpacr: str_field(m, "azpacr", &mut bad),
            idtyp: str_field(m, "idtyp", &mut bad),
            ver: str_field(m, "ver", &mut bad),
            scp: str_field(m, "scp", &mut bad),
            roles: list_field(m, "roles", &mut bad),
            iat: time_field(m, "iat", &mut bad),
            nbf: time_field(m, "nbf", &mut bad),
            exp: time_field(m, "exp", &mut bad),
            upn: str_field(m, "upn", &mut bad),
            unique_name: str_field(m, "unique_name", &mut bad),
            preferred_username: str_field(m, "preferred_username", &mut bad),
            name: str_field(m, "name", &mut bad),
            app_displayname: str_field(m, "app_displayname", &mut bad),
            xms_mirid: str_field(m, "xms_mirid", &mut bad),
            wids: list_field(m, "wids", &mut bad),
            malformed: Vec::new(),
            raw: Map::new(),
        };
        Claims {
            malformed: bad,
            raw,
            ..c
        }
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

    /// The calling app: `appid` (v1) or `azp` (v2).
    pub fn app_id(&self) -> Option<&str> {
        self.appid.as_deref().or(self.azp.as_deref())
    }

    /// How the calling app authenticated: `appidacr` (v1) or `azpacr` (v2).
    pub fn app_acr(&self) -> Option<&str> {
        self.appidacr.as_deref().or(self.azpacr.as_deref())
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

fn is_guid_like(s: &str) -> bool {
    crate::guid::is_guid(s)
}

impl Claims {
    pub fn classify(&self) -> Classification {
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
        let context = if has_scp {
            Context::Delegated
        } else if has_roles || self.idtyp.as_deref() == Some("app") {
            Context::Application
        } else {
            Context::None
        };
        let id_markers = ["nonce", "at_hash", "c_hash", "auth_time"]
            .iter()
            .any(|k| self.raw.contains_key(*k));
        let names_app = self.appid.is_some() || self.azp.is_some();
        let aud_is_client = self.aud.len() == 1
            && is_guid_like(&self.aud[0])
            && resource::classify(&self.aud[0]) == ResourceKind::Other;
        let kind = if !has_scp && !has_roles && !names_app && (id_markers || aud_is_client) {
            Kind::Id
        } else {
            Kind::Access
        };
        let resource = self
            .aud
            .iter()
            .map(|a| resource::classify(a))
            .find(|r| *r != ResourceKind::Other)
            .unwrap_or(ResourceKind::Other);
        let cloud = cloud::url_host(issuer)
            .and_then(|h| cloud::by_issuer_host(&h))
            .map(|c| c.name.as_str());
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
