//! A small OAuth 2.0 client for Microsoft Entra ID (Azure AD): client
//! credentials (secret or certificate), the password grant, the device-code
//! flow and managed identity. Everything goes through [`crate::http::Http`].
//!
//! Secrets, passwords and client assertions only ever travel in request
//! bodies; nothing here formats them into errors or logs.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::http::{self, Http};

/// The scope the MDE documentation asks for.
pub const DEFAULT_SCOPE: &str = crate::resource::MDE_SCOPE;
/// Where the Azure instance metadata service hands out managed-identity tokens.
pub const IMDS_TOKEN_ENDPOINT: &str = "http://169.254.169.254/metadata/identity/oauth2/token";
const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How the confidential client proves who it is.
pub enum Credential {
    Secret(String),
    Certificate(ClientCertificate),
}

impl Credential {
    /// The form fields that carry the credential for a request to `token_url`.
    fn form(&self, client_id: &str, token_url: &str) -> Result<Vec<(&'static str, String)>> {
        Ok(match self {
            Credential::Secret(s) => vec![("client_secret", s.clone())],
            Credential::Certificate(c) => vec![
                ("client_assertion_type", JWT_BEARER.to_string()),
                (
                    "client_assertion",
                    c.assertion(client_id, token_url, chrono::Utc::now().timestamp())?,
                ),
            ],
        })
    }

    pub fn describe(&self) -> &'static str {
        match self {
            Credential::Secret(_) => "client secret",
            Credential::Certificate(_) => "certificate (signed client assertion)",
        }
    }
}

/// A certificate credential: the RSA private key and the certificate, as the
/// Azure SDK's `AZURE_CLIENT_CERTIFICATE_PATH` PEM file holds them.
pub struct ClientCertificate {
    key: jsonwebtoken::EncodingKey,
    cert_der: Vec<u8>,
}

impl ClientCertificate {
    /// Read a PEM text holding a `PRIVATE KEY` (or `RSA PRIVATE KEY`) block and a `CERTIFICATE` block.
    pub fn from_pem(text: &str, origin: &str) -> Result<ClientCertificate> {
        let hint = "give a PEM file holding both the RSA private key and its certificate (cat key.pem cert.pem > both.pem)";
        if text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
            return Err(Error::input(format!("the private key in {origin} is encrypted"))
                .with_hint("decrypt it first (openssl pkcs8 -in key.pem -out plain.pem), and keep the file private"));
        }
        let key_block = pem_block(text, "PRIVATE KEY")
            .or_else(|| pem_block(text, "RSA PRIVATE KEY"))
            .ok_or_else(|| {
                Error::input(format!("{origin} holds no unencrypted private key")).with_hint(hint)
            })?;
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(key_block.as_bytes()).map_err(|e| {
            Error::input(format!(
                "the private key in {origin} is not a usable RSA key ({e})"
            ))
            .with_hint("Entra certificate credentials are RSA; give the matching RSA key")
        })?;
        let blocks = pem_blocks(text, "CERTIFICATE");
        if blocks.is_empty() {
            return Err(Error::input(format!("{origin} holds no certificate")).with_hint(hint));
        }
        let mut certs = Vec::with_capacity(blocks.len());
        for b in &blocks {
            certs.push(block_der(b).ok_or_else(|| {
                Error::input(format!("a certificate in {origin} is not valid base64"))
                    .with_hint(hint)
            })?);
        }
        // The key's own certificate: its x5t names the credential, and Entra
        // refuses an assertion signed by another key (AADSTS700027). A file
        // may hold a chain in any order.
        let cert_der = match rsa_public_key_der(&key_block) {
            None => certs.swap_remove(0),
            Some(public) => {
                let Some(i) = certs
                    .iter()
                    .position(|c| c.windows(public.len()).any(|w| w == public.as_slice()))
                else {
                    return Err(Error::input(if certs.len() == 1 {
                        format!("the certificate in {origin} is not the private key's: its public key is another key's, so Entra would refuse the assertion (AADSTS700027)")
                    } else {
                        format!("none of the {} certificates in {origin} is the private key's: their public keys are other keys', so Entra would refuse the assertion (AADSTS700027)", certs.len())
                    })
                    .with_hint("put the key together with its own certificate, the one uploaded to the app registration (cat key.pem cert.pem > both.pem)"));
                };
                certs.swap_remove(i)
            }
        };
        Ok(ClientCertificate { key, cert_der })
    }

    /// `x5t`: base64url of the SHA-1 thumbprint of the certificate's DER.
    pub fn x5t(&self) -> String {
        URL_SAFE_NO_PAD.encode(crate::digest::sha1(&self.cert_der))
    }

    /// A signed client assertion for `audience` (the token endpoint), valid 10 minutes.
    pub fn assertion(&self, client_id: &str, audience: &str, now: i64) -> Result<String> {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.x5t = Some(self.x5t());
        let claims = json!({
            "aud": audience,
            "iss": client_id,
            "sub": client_id,
            "jti": random_uuid()?,
            "iat": now,
            "nbf": now,
            "exp": now + 600,
        });
        jsonwebtoken::encode(&header, &claims, &self.key).map_err(|e| {
            Error::input(format!("cannot sign the client assertion ({e})"))
                .with_hint("check that the private key matches the certificate and is RSA")
        })
    }
}

/// The first `-----BEGIN <label>-----` ... `-----END <label>-----` block, markers included.
fn pem_block(text: &str, label: &str) -> Option<String> {
    pem_blocks(text, label).into_iter().next()
}

/// Every `-----BEGIN <label>-----` ... `-----END <label>-----` block, in order.
fn pem_blocks(text: &str, label: &str) -> Vec<String> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(&begin) {
        let Some(len) = rest[start..].find(&end) else {
            break;
        };
        let stop = start + len + end.len();
        out.push(rest[start..stop].to_string());
        rest = &rest[stop..];
    }
    out
}

/// The DER inside a PEM block.
fn block_der(block: &str) -> Option<Vec<u8>> {
    let b64: String = block
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::trim)
        .collect();
    STANDARD.decode(b64.as_bytes()).ok()
}

/// The RSAPublicKey (RFC 8017) DER of a PEM private key block (PKCS #8 or
/// PKCS #1): the bytes a certificate for that key carries in its subject
/// public key. `None` when aws-lc does not read the key.
fn rsa_public_key_der(key_block: &str) -> Option<Vec<u8>> {
    use aws_lc_rs::signature::{KeyPair, RsaKeyPair};
    let der = block_der(key_block)?;
    let pair = if key_block.starts_with("-----BEGIN RSA PRIVATE KEY-----") {
        RsaKeyPair::from_der(&der).ok()?
    } else {
        RsaKeyPair::from_pkcs8(&der).ok()?
    };
    Some(pair.public_key().as_ref().to_vec())
}

/// A random (version 4) UUID for the assertion's `jti`.
fn random_uuid() -> Result<String> {
    use aws_lc_rs::rand::SecureRandom;
    let mut b = [0u8; 16];
    aws_lc_rs::rand::SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| Error::environment("the system random number generator failed"))?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    ))
}

/// The authority (`https://login.microsoftonline.com`) and tenant a request goes to.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub authority: String,
    pub tenant: String,
}

impl Endpoint {
    /// `authority` is checked with [`http::check_url`]: https, or http on loopback.
    pub fn new(authority: &str, tenant: &str) -> Result<Endpoint> {
        let a = authority.trim();
        let with_scheme = if a.contains("://") {
            a.to_string()
        } else {
            format!("https://{a}")
        };
        let url = http::check_base_url(&with_scheme, "--authority-host")?;
        if http::is_imds(&url) {
            return Err(
                Error::input("the instance metadata address is not an authority host")
                    .with_hint("use --flow managed-identity for IMDS"),
            );
        }
        Ok(Endpoint {
            authority: url.as_str().trim_end_matches('/').to_string(),
            tenant: tenant.to_string(),
        })
    }

    /// v2: `{authority}/{tenant}/oauth2/v2.0/token`; v1: `{authority}/{tenant}/oauth2/token`.
    pub fn token_url(&self, v1: bool) -> String {
        if v1 {
            format!("{}/{}/oauth2/token", self.authority, self.tenant)
        } else {
            format!("{}/{}/oauth2/v2.0/token", self.authority, self.tenant)
        }
    }

    pub fn devicecode_url(&self) -> String {
        format!("{}/{}/oauth2/v2.0/devicecode", self.authority, self.tenant)
    }
}

/// What the token is for: a v2 `scope` or a v1 `resource`.
#[derive(Debug, Clone)]
pub enum Target {
    Scope(String),
    Resource(String),
}

impl Target {
    fn field(&self) -> (&'static str, String) {
        match self {
            Target::Scope(s) => ("scope", s.clone()),
            Target::Resource(r) => ("resource", r.clone()),
        }
    }
}

/// The result of asking for a token.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The endpoint issued a token; `response` is the rest of the JSON.
    Token {
        access_token: String,
        response: Map<String, Value>,
        url: String,
    },
    /// The endpoint answered with an error response (explain it with `aadsts`).
    Refused {
        status: u16,
        body: String,
        url: String,
    },
    /// Device code flow: the code's `expires_in` seconds passed, or would
    /// before the next poll was due, while the endpoint still answered
    /// `authorization_pending` (`polls` times; 0 when the code expired
    /// before the first poll was due).
    DeviceCodeExpired {
        seconds: u64,
        polls: u32,
        url: String,
    },
}

/// A device-code sign-in in progress.
#[derive(Debug, Clone)]
pub struct DeviceCode {
    pub device_code: String,
    pub message: String,
    pub interval: u64,
    pub expires_in: u64,
}

/// Polling behaviour for the device-code flow.
#[derive(Debug, Clone, Copy, Default)]
pub struct Poll {
    /// Tests: each second of the polling interval lasts this many
    /// milliseconds instead (so `slow_down`'s +5 s stays observable).
    pub ms_per_second: Option<u64>,
}

impl Poll {
    fn wait(&self, interval_s: u64) -> Duration {
        match self.ms_per_second {
            Some(ms) => Duration::from_millis(interval_s * ms),
            None => Duration::from_secs(interval_s),
        }
    }
}

/// Where a managed identity gets its token.
#[derive(Debug, Clone)]
pub enum ManagedIdentity {
    /// App Service / Functions: `IDENTITY_ENDPOINT` + `IDENTITY_HEADER`.
    AppService { endpoint: String, header: String },
    /// The Azure instance metadata service (VMs, scale sets, AKS nodes...).
    Imds { endpoint: String },
}

impl ManagedIdentity {
    pub fn describe(&self) -> &'static str {
        match self {
            ManagedIdentity::AppService { .. } => "App Service identity endpoint",
            ManagedIdentity::Imds { .. } => "Azure instance metadata service (IMDS)",
        }
    }
}

/// Which user-assigned identity to ask for; none: the system-assigned one
/// (or the only user-assigned one, as the endpoint decides). The endpoints
/// take exactly one of these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MiSelector {
    /// Its client (application) id.
    ClientId(String),
    /// Its object (principal) id.
    ObjectId(String),
    /// Its Azure resource id,
    /// `/subscriptions/…/providers/Microsoft.ManagedIdentity/userAssignedIdentities/NAME`.
    ResourceId(String),
}

impl MiSelector {
    /// The query parameter that carries it: IMDS names the resource id
    /// `msi_res_id`, App Service `mi_res_id` (as Microsoft's identity
    /// libraries send them); both take `client_id` and `object_id`.
    fn parameter(&self, mi: &ManagedIdentity) -> (&'static str, &str) {
        match (self, mi) {
            (MiSelector::ClientId(v), _) => ("client_id", v),
            (MiSelector::ObjectId(v), _) => ("object_id", v),
            (MiSelector::ResourceId(v), ManagedIdentity::Imds { .. }) => ("msi_res_id", v),
            (MiSelector::ResourceId(v), ManagedIdentity::AppService { .. }) => ("mi_res_id", v),
        }
    }

    /// "client id 1234…", for messages.
    pub fn describe(&self) -> String {
        match self {
            MiSelector::ClientId(v) => format!("client id {v}"),
            MiSelector::ObjectId(v) => format!("object id {v}"),
            MiSelector::ResourceId(v) => format!("resource id {v}"),
        }
    }

    /// A user-assigned identity's object (principal) id: a GUID, sent bare
    /// and in lower case.
    pub fn object_id(id: &str) -> Result<MiSelector> {
        let t = id.trim();
        if !crate::guid::is_guid(t) {
            return Err(Error::input("--mi-object-id is not a GUID").with_hint(
                "give the identity's Object (principal) ID, as `az identity show -g <group> -n <name> --query principalId -o tsv` prints it",
            ));
        }
        Ok(MiSelector::ObjectId(
            crate::guid::bare(t).to_ascii_lowercase(),
        ))
    }

    /// A user-assigned identity's resource id, checked for its shape (the
    /// endpoints answer a malformed one with a bare 400).
    pub fn resource_id(id: &str) -> Result<MiSelector> {
        let t = id.trim();
        let parts: Vec<&str> = t.split('/').collect();
        let ok = parts.len() == 9
            && parts[0].is_empty()
            && parts[1].eq_ignore_ascii_case("subscriptions")
            && crate::guid::is_bare_guid(parts[2])
            && parts[3].eq_ignore_ascii_case("resourcegroups")
            && !parts[4].is_empty()
            && parts[5].eq_ignore_ascii_case("providers")
            && parts[6].eq_ignore_ascii_case("Microsoft.ManagedIdentity")
            && parts[7].eq_ignore_ascii_case("userAssignedIdentities")
            && !parts[8].is_empty()
            // Resource group and identity names may hold any letters; no
            // blanks or control characters.
            && !t.chars().any(|c| c.is_whitespace() || c.is_control());
        if ok {
            return Ok(MiSelector::ResourceId(t.to_string()));
        }
        Err(Error::input(
            "--mi-resource-id is not a user-assigned identity's resource id",
        )
        .with_hint(
            "give /subscriptions/<subscription id>/resourceGroups/<group>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>, as `az identity show -g <group> -n <name> --query id -o tsv` prints it",
        ))
    }
}

pub struct Aad {
    http: Http,
}

impl Aad {
    pub fn new(http: Http) -> Aad {
        Aad { http }
    }

    fn post(&self, url: &str, form: &[(&str, String)]) -> Result<Outcome> {
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = self
            .http
            .post_form(url, &pairs, &[("Accept", "application/json")])?;
        let secrets: Vec<&str> = form
            .iter()
            .filter(|(k, _)| CREDENTIAL_FIELDS.contains(k))
            .map(|(_, v)| v.as_str())
            .collect();
        classify(r, &secrets)
    }

    /// The client credentials grant (app-only token).
    pub fn client_credentials(
        &self,
        ep: &Endpoint,
        client_id: &str,
        cred: &Credential,
        target: &Target,
        v1: bool,
    ) -> Result<Outcome> {
        let url = ep.token_url(v1);
        let mut form = vec![
            ("grant_type", "client_credentials".to_string()),
            ("client_id", client_id.to_string()),
            target.field(),
        ];
        form.extend(cred.form(client_id, &url)?);
        self.post(&url, &form)
    }

    /// The resource owner password credentials grant (user context, no MFA).
    #[allow(clippy::too_many_arguments)]
    pub fn password(
        &self,
        ep: &Endpoint,
        client_id: &str,
        username: &str,
        password: &str,
        cred: Option<&Credential>,
        target: &Target,
        v1: bool,
    ) -> Result<Outcome> {
        let url = ep.token_url(v1);
        let mut form = vec![
            ("grant_type", "password".to_string()),
            ("client_id", client_id.to_string()),
            target.field(),
            ("username", username.to_string()),
            ("password", password.to_string()),
        ];
        if let Some(c) = cred {
            form.extend(c.form(client_id, &url)?);
        }
        self.post(&url, &form)
    }

    /// Start a device-code sign-in. `Err(outcome)` when the endpoint refused.
    pub fn device_code_start(
        &self,
        ep: &Endpoint,
        client_id: &str,
        scope: &str,
    ) -> Result<std::result::Result<DeviceCode, Outcome>> {
        let url = ep.devicecode_url();
        let form = [
            ("client_id", client_id.to_string()),
            ("scope", scope.to_string()),
        ];
        let r = self.http.post_form(
            &url,
            &form
                .iter()
                .map(|(k, v)| (*k, v.as_str()))
                .collect::<Vec<_>>(),
            &[("Accept", "application/json")],
        )?;
        if !(200..300).contains(&r.status) {
            return Ok(Err(refused_or_error(&r)?));
        }
        let v: Map<String, Value> = r.json()?;
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        let n = |k: &str| {
            v.get(k)
                .and_then(|x| x.as_u64().or_else(|| x.as_str()?.parse().ok()))
        };
        let device_code = s("device_code").ok_or_else(|| {
            Error::environment(format!("{url} answered without a device_code"))
                .with_hint("check --authority-host: it must be an Entra ID authority")
        })?;
        // Shown to the user as sent: a page of text at most, not megabytes.
        let message = s("message")
            .map(|m| crate::report::human::clip(&m, 1000))
            .unwrap_or_else(|| {
                format!(
                    "To sign in, open {} and enter the code {}",
                    s("verification_uri").unwrap_or_else(|| "the verification page".into()),
                    s("user_code").unwrap_or_default()
                )
            });
        Ok(Ok(DeviceCode {
            device_code,
            message,
            interval: n("interval").unwrap_or(5).clamp(1, 60),
            expires_in: n("expires_in").unwrap_or(900).min(3600),
        }))
    }

    /// Poll the token endpoint until the user finishes, honouring
    /// `authorization_pending` and `slow_down` (+5 s). Any other error
    /// (`expired_token`, `authorization_declined`, ...) is returned as refused.
    pub fn device_code_poll(
        &self,
        ep: &Endpoint,
        client_id: &str,
        dc: &DeviceCode,
        poll: Poll,
    ) -> Result<Outcome> {
        let url = ep.token_url(false);
        let form = [
            ("grant_type", DEVICE_CODE_GRANT.to_string()),
            ("client_id", client_id.to_string()),
            ("device_code", dc.device_code.clone()),
        ];
        let started = Instant::now();
        let deadline = poll.wait(dc.expires_in);
        let mut interval = dc.interval;
        let mut polls = 0;
        loop {
            // Never sooner than the interval (RFC 8628 3.5), and no poll
            // once the code has expired: when the next one would come too
            // late, the code is done with.
            if started.elapsed() + poll.wait(interval) > deadline {
                return Ok(Outcome::DeviceCodeExpired {
                    seconds: dc.expires_in,
                    polls,
                    url,
                });
            }
            std::thread::sleep(poll.wait(interval));
            polls += 1;
            let outcome = self.post(&url, &form)?;
            let Outcome::Refused { body, .. } = &outcome else {
                return Ok(outcome);
            };
            match oauth_error(body).as_deref() {
                Some("authorization_pending") => {}
                // For this and every later request (RFC 8628 3.5).
                Some("slow_down") => interval += 5,
                _ => return Ok(outcome),
            }
        }
    }

    /// A managed-identity token for `resource` (v1 style, no `/.default`).
    pub fn managed_identity(
        &self,
        mi: &ManagedIdentity,
        resource: &str,
        selector: Option<&MiSelector>,
    ) -> Result<Outcome> {
        let (endpoint, version, header, secret) = match mi {
            ManagedIdentity::AppService { endpoint, header } => (
                endpoint.as_str(),
                "2019-08-01",
                ("X-IDENTITY-HEADER", header.as_str()),
                header.as_str(),
            ),
            ManagedIdentity::Imds { endpoint } => {
                (endpoint.as_str(), "2018-02-01", ("Metadata", "true"), "")
            }
        };
        let mut url = http::check_identity_url(endpoint)?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("api-version", version);
            q.append_pair("resource", resource);
            if let Some(s) = selector {
                let (name, value) = s.parameter(mi);
                q.append_pair(name, value);
            }
        }
        let mut r = self.http.get_checked(url, &[header])?;
        redact_secrets(&mut r, &[secret]);
        if let Some(e) = identity_refusal(&r, mi, selector) {
            return Err(e);
        }
        classify(r, &[secret])
    }
}

/// What an identity endpoint's own error answer means, when it is not an
/// OAuth error: App Service's `{"statusCode":400,"message":"..."}` (a
/// user-assigned identity that is not the app's, or no identity at all)
/// and IMDS's 410 while it is being updated.
fn identity_refusal(
    r: &http::Response,
    mi: &ManagedIdentity,
    selector: Option<&MiSelector>,
) -> Option<Error> {
    if r.status == 410 {
        return Some(
            Error::environment(format!(
                "the {} answered HTTP 410: it is being updated",
                mi.describe()
            ))
            .with_hint("retry in a minute (Microsoft advises retrying for up to 70 s)"),
        );
    }
    if !(400..500).contains(&r.status) || r.status == 429 {
        return None;
    }
    let v: Map<String, Value> = serde_json::from_slice(&r.body).ok()?;
    if v.contains_key("error") {
        return None;
    }
    let message = v.get("message").or_else(|| v.get("Message"))?.as_str()?;
    let hint = match selector {
        Some(s) => format!(
            "no user-assigned identity with {} is assigned to this resource (its form was checked): assign it (Identity, User assigned), or select one that is",
            s.describe()
        ),
        None => "turn on the resource's system-assigned identity (Identity, System assigned), or select a user-assigned identity with --client-id, --mi-object-id or --mi-resource-id".to_string(),
    };
    Some(
        Error::environment(format!(
            "the {} refused the request (HTTP {}): {}",
            mi.describe(),
            r.status,
            crate::report::human::clip(message.trim(), 300)
        ))
        .with_hint(hint),
    )
}

/// The OAuth `error` value of a JSON error body.
pub fn oauth_error(body: &str) -> Option<String> {
    serde_json::from_str::<Value>(body)
        .ok()?
        .get("error")?
        .as_str()
        .map(str::to_string)
}

/// Form fields whose values are credentials.
const CREDENTIAL_FIELDS: [&str; 3] = ["client_secret", "password", "client_assertion"];

/// A server or proxy that echoes the request back in an error reply must
/// not make the tool print a credential: blank every credential the request
/// carried, as sent or with any of its characters written as a JSON escape
/// (`\/`, `\u002B`), an HTML entity (`&amp;`, `&#43;`) or percent-encoded
/// (either hex case; a form's `+` for a space too). In a JSON body only the
/// strings are changed, never the member names. A token response is left
/// alone: its token must stay whole, and nothing of it is shown but claims.
fn redact_secrets(r: &mut http::Response, secrets: &[&str]) {
    let needles = needles(secrets);
    if needles.is_empty() {
        return;
    }
    let text = String::from_utf8_lossy(&r.body).into_owned();
    // A byte-order mark in front must not send a JSON body down the text path.
    let json_text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    if let Ok(mut v) = serde_json::from_str::<Value>(json_text) {
        if redact_json(&mut v, &needles) {
            r.body = v.to_string().into_bytes();
        }
        return;
    }
    if let Some(t) = redact_text(&text, &needles) {
        r.body = t.into_bytes();
    }
}

/// What [`redact_text`] looks for: each credential, and as a form body
/// writes it (a space as `+`); the `%XX` escapes of any encoding it reads
/// in the text itself.
fn needles(secrets: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for s in secrets.iter().filter(|s| !s.is_empty()) {
        out.push(s.to_string());
        if s.contains(' ') {
            out.push(s.replace(' ', "+"));
        }
    }
    out
}

/// Blank the needles inside every string of a JSON value; true when any was.
fn redact_json(v: &mut Value, needles: &[String]) -> bool {
    match v {
        Value::String(t) => match redact_text(t, needles) {
            Some(r) => {
                *t = r;
                true
            }
            None => false,
        },
        Value::Array(a) => a
            .iter_mut()
            .fold(false, |hit, x| redact_json(x, needles) | hit),
        Value::Object(m) => m
            .values_mut()
            .fold(false, |hit, x| redact_json(x, needles) | hit),
        _ => false,
    }
}

/// `text` with every needle blanked, as it stands and looking through JSON
/// escapes, HTML entities and percent-encoding (a needle written
/// `Summer\u002B2024&amp;Go` is still found); `None` when there was none.
fn redact_text(text: &str, needles: &[String]) -> Option<String> {
    // The text as read, each character with the span it takes in `text`.
    let mut chars: Vec<(char, usize, usize)> = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let (c, len) = escaped_char(&text[i..]);
        chars.push((c, i, i + len));
        i += len;
    }
    let read: Vec<char> = chars.iter().map(|c| c.0).collect();
    // Spans of `text` to blank: where a needle stands as it is (an echo
    // of `Spring%2024!` verbatim), and where it does once escapes are read.
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for n in needles.iter().filter(|n| !n.is_empty()) {
        spans.extend(
            text.match_indices(n.as_str())
                .map(|(i, m)| (i, i + m.len())),
        );
    }
    for n in needles {
        let n: Vec<char> = n.chars().collect();
        if n.is_empty() || n.len() > read.len() {
            continue;
        }
        let mut at = 0;
        while at + n.len() <= read.len() {
            if read[at..at + n.len()] == n[..] {
                spans.push((chars[at].1, chars[at + n.len() - 1].2));
                at += n.len();
            } else {
                at += 1;
            }
        }
    }
    if spans.is_empty() {
        return None;
    }
    spans.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut done = 0;
    for (start, end) in spans {
        if end <= done {
            continue;
        }
        if start >= done {
            out.push_str(&text[done..start]);
            out.push_str("[redacted]");
        }
        done = end;
    }
    out.push_str(&text[done..]);
    Some(out)
}

/// The character `s` starts with, reading a JSON escape (`\uXXXX`,
/// surrogate pairs included, `\/`, `\"`, `\\`) or an HTML entity
/// (`&amp;`, `&#43;`, `&#x2B;`) as the character it stands for, and how
/// many bytes of `s` it takes.
fn escaped_char(s: &str) -> (char, usize) {
    let first = s.chars().next().unwrap_or('\0');
    let plain = (first, first.len_utf8());
    let hex4 = |t: &str| {
        t.get(..4)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|h| u32::from_str_radix(h, 16).ok())
    };
    match first {
        '\\' => match s[1..].chars().next() {
            Some(c @ ('/' | '"' | '\\')) => (c, 2),
            Some('u') => match hex4(&s[2..]) {
                Some(hi @ 0xD800..=0xDBFF) if s[6..].starts_with("\\u") => match hex4(&s[8..]) {
                    Some(lo @ 0xDC00..=0xDFFF) => {
                        let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                        char::from_u32(c).map_or(plain, |c| (c, 12))
                    }
                    _ => plain,
                },
                Some(v) => char::from_u32(v).map_or(plain, |c| (c, 6)),
                None => plain,
            },
            _ => plain,
        },
        // Percent-encoding of any set of characters (RFC 3986's, a form's,
        // JavaScript's), a multi-byte character as its UTF-8 bytes.
        '%' => {
            let byte = |i: usize| {
                s.get(i..i + 3)
                    .filter(|t| t.starts_with('%') && t[1..].bytes().all(|b| b.is_ascii_hexdigit()))
                    .and_then(|t| u8::from_str_radix(&t[1..], 16).ok())
            };
            let Some(first) = byte(0) else {
                return plain;
            };
            let len = match first {
                0x00..=0x7f => 1,
                0xc0..=0xdf => 2,
                0xe0..=0xef => 3,
                0xf0..=0xf7 => 4,
                _ => return plain,
            };
            let bytes: Option<Vec<u8>> = (0..len).map(|k| byte(3 * k)).collect();
            bytes
                .and_then(|b| String::from_utf8(b).ok())
                .and_then(|t| t.chars().next())
                .map_or(plain, |c| (c, 3 * len))
        }
        '&' => {
            // Entities are short: look no further than a dozen characters.
            let head = &s[..s.char_indices().nth(12).map_or(s.len(), |(i, _)| i)];
            let Some(semi) = head.find(';') else {
                return plain;
            };
            let name = &s[1..semi];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => name.strip_prefix('#').and_then(|n| {
                    // Digits only: the parsers would also take a leading `+`.
                    let v = match n.strip_prefix(['x', 'X']) {
                        Some(h) if !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
                            u32::from_str_radix(h, 16).ok()
                        }
                        Some(_) => None,
                        None if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
                            n.parse::<u32>().ok()
                        }
                        None => None,
                    };
                    v.and_then(char::from_u32)
                }),
            };
            c.map_or(plain, |c| (c, semi + 1))
        }
        _ => plain,
    }
}

/// A token endpoint's reply: the token, a refusal, or an environment error.
/// `secrets` are what the request carried, blanked out of an error reply.
fn classify(mut r: http::Response, secrets: &[&str]) -> Result<Outcome> {
    if (200..300).contains(&r.status) {
        let v: Map<String, Value> = r.json()?;
        return match v.get("access_token").and_then(Value::as_str) {
            Some(t) if !t.trim().is_empty() => Ok(Outcome::Token {
                access_token: t.trim().to_string(),
                response: v,
                url: r.url.clone(),
            }),
            _ => {
                // An OAuth error JSON sent with a success status (a proxy's
                // doing; Azure AD sends 400): still the refusal it says.
                redact_secrets(&mut r, secrets);
                let body = r.text();
                let x = crate::aadsts::explain_error_body(&body);
                if x.is_error_json && !x.is_empty() {
                    return Ok(Outcome::Refused {
                        status: r.status,
                        body,
                        url: r.url.clone(),
                    });
                }
                Err(Error::environment(format!(
                    "{} answered HTTP {} without an access_token",
                    r.url, r.status
                ))
                .with_hint(
                    "check the authority host or identity endpoint: it is not a token endpoint",
                ))
            }
        };
    }
    redact_secrets(&mut r, secrets);
    refused_or_error(&r)
}

/// An error status (not 429) with an error body the `aadsts` module can read
/// is a refusal (exit 1); anything else is an environment failure (exit 3).
fn refused_or_error(r: &http::Response) -> Result<Outcome> {
    let body = r.text();
    // A 429 is throttling, not a verdict on the request: an environment
    // error with its Retry-After advice, whatever the body says.
    if !(400..500).contains(&r.status) || r.status == 429 {
        return Err(http::status_error(r));
    }
    let x = crate::aadsts::explain_error_body(&body);
    if x.is_empty() {
        return Err(http::status_error(r));
    }
    // A token endpoint answers in JSON: an HTML page (a proxy's, or a
    // sign-in page) that names a code is not its verdict, but the code helps.
    let html = body
        .trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with('<');
    if html && !x.is_error_json {
        let codes: Vec<&str> = x.errors.iter().map(|e| e.code.as_str()).collect();
        return Err(Error::environment(format!(
            "{} answered HTTP {} with an HTML page instead of a JSON error; the page names {}",
            r.url,
            r.status,
            codes.join(", ")
        ))
        .with_hint(format!(
            "check --authority-host and any proxy in between; `mdeauth explain {}` explains the code",
            codes.first().copied().unwrap_or("AADSTS<code>")
        )));
    }
    Ok(Outcome::Refused {
        status: r.status,
        body,
        url: r.url.clone(),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn redaction_reads_through_json_escapes_and_html_entities() {
        let needles = vec!["Summer+2024&Go".to_string()];
        for body in [
            r"password Summer\u002B2024\u0026Go)",
            r"password Summer\u002b2024&Go)",
            "password Summer+2024&amp;Go)",
            "password Summer&#43;2024&#x26;Go)",
            "password Summer+2024&Go)",
            // RFC 3986 (Python's quote_plus), a form's, and mixed case.
            "password Summer%2B2024%26Go)",
            "password Summer%2b2024&Go)",
        ] {
            assert_eq!(
                super::redact_text(body, &needles).as_deref(),
                Some("password [redacted])"),
                "{body}"
            );
        }
        assert_eq!(super::redact_text("nothing here & \\u00", &needles), None);
        // Echoed verbatim, a needle that looks escaped is still found.
        for secret in ["Spring%2024!", r"Pa\/ss1", "Rock&lt;3x"] {
            let needles = vec![secret.to_string()];
            assert_eq!(
                super::redact_text(&format!("password={secret}."), &needles).as_deref(),
                Some("password=[redacted]."),
                "{secret}"
            );
        }
        // A sign is not a digit.
        let needles = vec!["Cb".to_string()];
        assert_eq!(super::redact_text("a &#+67;b &#x+43;b", &needles), None);
        assert_eq!(
            super::redact_text("a &#67;b", &needles).as_deref(),
            Some("a [redacted]")
        );
        // A form body's echo, lower-case hex and `+` for the space.
        assert_eq!(
            super::redact_text("x=a+b%2fc&y=1", &super::needles(&["a b/c"])).as_deref(),
            Some("x=[redacted]&y=1")
        );
        // A multi-byte character percent-encoded as its UTF-8 bytes.
        let needles = vec!["p\u{e9}w~x".to_string()];
        assert_eq!(
            super::redact_text("a p%C3%A9w~x b p%c3%a9w%7Ex", &needles).as_deref(),
            Some("a [redacted] b [redacted]")
        );
        // Two echoes: one escaped as a surrogate pair, one as sent.
        let needles = vec!["p\u{1F600}w".to_string()];
        let body = concat!(r"a p\ud83d\ude00w", " b p\u{1F600}w");
        assert_eq!(
            super::redact_text(body, &needles).as_deref(),
            Some("a [redacted] b [redacted]")
        );
    }

    use super::*;

    #[test]
    fn endpoints() {
        let ep = Endpoint::new(
            "https://login.microsoftonline.us/",
            "contoso.onmicrosoft.us",
        )
        .unwrap();
        assert_eq!(
            ep.token_url(false),
            "https://login.microsoftonline.us/contoso.onmicrosoft.us/oauth2/v2.0/token"
        );
        assert_eq!(
            ep.token_url(true),
            "https://login.microsoftonline.us/contoso.onmicrosoft.us/oauth2/token"
        );
        assert!(Endpoint::new("http://login.example.com", "t").is_err());
        assert!(Endpoint::new("http://127.0.0.1:8080", "t").is_ok());
        assert!(Endpoint::new("login.microsoftonline.com", "t").is_ok());
        assert!(Endpoint::new("http://169.254.169.254", "t").is_err());
        assert!(http::check_url("http://169.254.169.254/metadata/identity/oauth2/token").is_ok());
        assert!(http::check_url("http://169.254.169.253/metadata").is_err());
        assert!(http::check_url("http://169.254.169.254.example.com/").is_err());
        // App Service on Linux and Azure Functions: http on a link-local
        // address, for the managed-identity endpoint only.
        let linux = "http://169.254.255.2:8081/msi/token";
        assert!(http::check_identity_url(linux).is_ok());
        assert!(http::check_url(linux).is_err());
        assert!(http::check_identity_url("http://10.0.0.5:8081/msi/token").is_err());
        assert!(http::check_identity_url("http://169.254.255.2.example.com/msi").is_err());
        assert!(http::check_identity_url("https://identity.example/msi/token").is_ok());
    }

    #[test]
    fn uuid_shape() {
        let u = random_uuid().unwrap();
        assert!(crate::guid::is_guid(&u));
        assert_eq!(&u[14..15], "4");
        assert_ne!(u, random_uuid().unwrap());
    }
}
