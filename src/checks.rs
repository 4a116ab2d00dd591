//! Offline checks on a decoded token: everything `inspect` can say without keys.
//! Each check returns `Finding`s; nothing here prints.

use crate::finding::Finding;
use crate::resource::{self, MDE_SCOPE, ResourceKind};
use crate::timefmt::{relative, rfc3339, span};
use crate::token::{Claims, Classification, Context, Header, Kind};

/// Time settings shared by every time-based check.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    /// The instant checks are evaluated at (now, or `--at`).
    pub now: i64,
    /// Allowed clock skew in seconds (`--leeway`, default 300 as in Microsoft.IdentityModel).
    pub leeway: i64,
}

/// Default clock skew, the same as Microsoft.IdentityModel's.
pub const DEFAULT_LEEWAY: i64 = 300;

/// Shortest and longest lifetimes AAD issues in practice: 60–90 min by
/// default, down to 10 min by policy, up to about 28 h with continuous
/// access evaluation, 24 h for managed identities.
const MIN_LIFETIME: i64 = 10 * 60;
const MAX_LIFETIME: i64 = 28 * 3600;

/// How to get a token for the MDE API instead, in the token's own cloud:
/// a national cloud's tenant signs in at its own host, and its MDE API
/// host is also a WindowsDefenderATP identifier.
fn request_mde_token(cls: &Classification) -> String {
    let commercial = format!(
        "request a token for the MDE API: scope={MDE_SCOPE} (v2 endpoint) or resource=https://api.securitycenter.microsoft.com (v1 endpoint)"
    );
    let Some(c) = cls.cloud_info().filter(|c| c.name != "public") else {
        return commercial;
    };
    if c.api_host.is_empty() {
        return format!(
            "the token comes from {}, where mdeauth knows of no MDE API; an MDE tenant signs in at login.microsoftonline.com or login.microsoftonline.us",
            c.display
        );
    }
    format!(
        "request a token for the MDE API from its own cloud's sign-in host, https://{}/<tenant> (`mdeauth token --cloud {}`): scope={MDE_SCOPE}, or https://{}/.default, the identifier of its cloud's API host (v1: resource= without /.default)",
        c.login_host, c.name, c.api_host
    )
}

/// Header checks: algorithm, key-naming members, critical and unusual members.
/// Used by `inspect` and `verify` alike.
pub fn header(h: &Header) -> Vec<Finding> {
    let mut out = Vec::new();
    if !h.duplicate_keys.is_empty() {
        out.push(Finding::error(
            "header.duplicate_member",
            format!(
                "the header repeats the member(s) {}; parsers disagree on which one counts",
                h.duplicate_keys.join(", ")
            ),
            "reject the token: AAD never sends duplicate header members",
        ));
    }
    if !h.malformed.is_empty() {
        out.push(Finding::error(
            "header.malformed",
            format!(
                "the header's {} {} not text: RFC 7515 defines {}",
                h.malformed.join(", "),
                if h.malformed.len() == 1 { "is" } else { "are" },
                if h.malformed.len() == 1 {
                    "it as a JSON string"
                } else {
                    "them as JSON strings"
                },
            ),
            "reject the token: Azure AD writes every header member as a string",
        ));
    }
    match h.alg.as_deref() {
        // Said by header.malformed.
        None if h.malformed.iter().any(|m| m == "alg") => {}
        None => out.push(Finding::error(
            "header.alg_missing",
            "the header has no alg",
            "reject the token: AAD signs every token with RS256",
        )),
        Some(a) if a.eq_ignore_ascii_case("none") => out.push(Finding::error(
            "header.alg_none",
            format!("the token is unsigned (alg {a:?}); anyone can write such a token"),
            "reject it: AAD access tokens are signed with RS256",
        )),
        Some(a) if a.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("HS")) => out.push(Finding::error(
            "header.alg_hmac",
            format!("the token claims an HMAC algorithm ({a}); AAD never issues those, and accepting one is the key-confusion attack"),
            "reject it: only RS256 is accepted for AAD tokens",
        )),
        Some("RS256") => {}
        Some(a) => out.push(Finding::error(
            "header.alg_unexpected",
            format!("the token is signed with {a}; AAD access tokens use RS256"),
            "reject it unless you know this issuer signs with another algorithm",
        )),
    }
    let named: Vec<&str> = [
        ("jku", h.jku.is_some()),
        ("x5u", h.x5u.is_some()),
        ("jwk", h.has_jwk),
        ("x5c", h.has_x5c),
    ]
    .iter()
    .filter(|(_, present)| *present)
    .map(|(n, _)| *n)
    .collect();
    if !named.is_empty() {
        out.push(Finding::warning(
            "header.embedded_key_reference",
            format!(
                "the header names its own key or certificate ({}); AAD never does this, and mdeauth never uses it to find keys",
                named.join(", ")
            ),
            "treat the token as suspicious; keys come only from the issuer's published key set",
        ));
    }
    if h.crit.is_some() {
        out.push(Finding::error(
            "header.crit",
            "the header has a crit member listing extensions a validator must understand; AAD never sends it",
            "reject the token (RFC 7515 section 4.1.11)",
        ));
    }
    if let Some(b) = &h.b64
        && b != &serde_json::Value::Bool(true)
    {
        out.push(Finding::error(
            "header.b64_false",
            "the header sets b64 to false (unencoded payload); AAD never does",
            "reject the token",
        ));
    }
    if h.cty
        .as_deref()
        .is_some_and(|c| c.eq_ignore_ascii_case("jwt"))
    {
        out.push(Finding::error(
            "header.nested_jwt",
            "the header says the payload is itself a JWT (cty JWT); AAD access tokens are never nested",
            "reject the token; inspect the inner token separately if you expected one",
        ));
    }
    out
}

/// A `tid` as Azure AD writes it: a bare GUID in lower case (the issuer's
/// path repeats it, and a tenant's own metadata names it in lower case).
pub fn is_aad_tid(t: &str) -> bool {
    crate::guid::is_bare_guid(t) && !t.bytes().any(|b| b.is_ascii_uppercase())
}

/// The tenant segment of an issuer's path (`https://host/{tenant}/...`),
/// as written.
fn issuer_segment(iss: &str) -> Option<&str> {
    crate::text::split_first(iss, "://")?.1.split('/').nth(1)
}

/// The tenant GUID an issuer's path starts with (any letter case).
pub(crate) fn issuer_tenant(iss: &str) -> Option<&str> {
    issuer_segment(iss).filter(|s| crate::guid::is_bare_guid(s))
}

/// `claims.tid_missing` for an issuer that needs `tid` to be checked.
pub(crate) fn tid_missing(iss: &str) -> Finding {
    Finding::error(
        "claims.tid_missing",
        format!("the token has no tid, so its issuer {iss} cannot be checked against its tenant"),
        "reject the token: Azure AD tokens always carry tid",
    )
}

/// `issuer.tenant_mismatch`: the issuer's path names `segment`, not the
/// token's tenant `t` (or names it in other letters), said alike on every
/// path (offline, `--jwks`, discovery).
pub(crate) fn tenant_mismatch(iss: &str, t: &str, segment: &str) -> Finding {
    Finding::error(
        "issuer.tenant_mismatch",
        if t.eq_ignore_ascii_case(segment) {
            format!(
                "the issuer {iss} and the tid {t} name the same tenant in different letter case: Azure AD writes both in lower case"
            )
        } else {
            format!("the issuer {iss} does not name the token's tenant {t}")
        },
        "reject the token: an Azure AD issuer's path is the tenant id in tid",
    )
}

/// An Azure AD `iss` must be exactly an issuer Azure AD writes into tokens
/// of this version in the cloud its host names, for the token's `tid`
/// (aad-facts §3: v1 `https://sts.windows.net/{tid}/`, v2
/// `https://login.microsoftonline.com/{tid}/v2.0`; the issuer's path is
/// `tid`). Needs no keys, so `inspect` and `check` apply it too.
pub fn aad_issuer(
    out: &mut Vec<Finding>,
    cloud: &crate::cloud::Cloud,
    cls: &Classification,
    iss: &str,
    tid: Option<&str>,
) {
    let Some(t) = tid else {
        out.push(tid_missing(iss));
        return;
    };
    if !is_aad_tid(t) {
        // checks::claims reports tid_not_guid.
        return;
    }
    if cloud.issues(cls.version, t, iss) {
        return;
    }
    let wanted = cloud.issuers(cls.version, t);
    // The right form for another tenant: say that rather than "wrong issuer".
    if let Some(segment) = issuer_segment(iss)
        && wanted.contains(&iss.replacen(&format!("/{segment}/"), &format!("/{t}/"), 1))
    {
        out.push(tenant_mismatch(iss, t, segment));
        return;
    }
    let version = match cls.version {
        "1.0" | "2.0" => format!("a v{} token", cls.version),
        _ => "a token".to_string(),
    };
    out.push(Finding::error(
        "issuer.mismatch",
        format!(
            "the issuer {iss} is not what Azure AD writes into {version} of tenant {t}: {}",
            wanted.join(" or ")
        ),
        "reject the token: it was not issued by Azure AD in this form (check the ver claim, the tenant and the cloud)",
    ));
}

/// Claim checks that need no keys.
pub fn claims(h: &Header, c: &Claims, cls: &Classification, clock: Clock) -> Vec<Finding> {
    let mut out = Vec::new();
    if !c.repeated.is_empty() {
        out.push(Finding::error(
            "claims.duplicate",
            format!(
                "the payload gives the claim(s) {} more than once; validators disagree on which value counts (mdeauth reads the last)",
                c.repeated.join(", ")
            ),
            "reject the token: AAD never sends a claim twice",
        ));
    }
    if !c.malformed.is_empty() {
        out.push(Finding::error(
            "claims.malformed",
            format!(
                "claim(s) with the wrong type or an impossible value: {}",
                c.malformed.join(", ")
            ),
            "reject the token: AAD writes times as integer seconds and ids as strings",
        ));
    }
    out.extend(lifetime(c, clock));
    out.extend(kind_and_audience(h, c, cls));
    out.extend(permissions(c, cls));
    if let Some(tid) = &c.tid
        && !is_aad_tid(tid)
    {
        out.push(Finding::error(
            "claims.tid_not_guid",
            format!("the tid claim {tid:?} is not a GUID as Azure AD writes it (8-4-4-4-12 hexadecimal digits in lower case, no braces)"),
            "reject the token: AAD tenant ids are GUIDs",
        ));
    }
    if let Some(tid) = &c.tid
        && tid.eq_ignore_ascii_case(CONSUMER_TENANT)
    {
        out.push(Finding::error(
            "tenant.consumer",
            format!(
                "the token comes from the Microsoft account (consumers) tenant {CONSUMER_TENANT}: it was issued to a personal account, and no organization's Defender for Endpoint is there"
            ),
            "sign in with a work account of the organization's tenant, and request the token from https://login.microsoftonline.com/<tenant> (not /consumers or /common with a personal account)",
        ));
    }
    if let Some(ver) = c.ver.as_deref().filter(|v| !matches!(*v, "1.0" | "2.0")) {
        out.push(Finding::warning(
            "claims.ver_unknown",
            format!(
                "the ver claim is {ver:?}; Azure AD access tokens are version 1.0 or 2.0, so the version shown comes from the issuer"
            ),
            "check where the token came from: Azure AD issues no other version",
        ));
    }
    // A malformed tid is claims.malformed's, not a missing one.
    if let (Some(iss), Some(cloud)) = (c.iss.as_deref(), cls.cloud_info())
        && !c.malformed.iter().any(|m| m == "tid")
    {
        aad_issuer(&mut out, cloud, cls, iss, c.tid.as_deref());
    }
    if let Some(iss) = &c.iss {
        if cls.cloud.is_none() {
            out.push(Finding::warning(
                "issuer.not_aad",
                format!("the issuer {iss} is not an Azure AD sign-in host mdeauth knows"),
                "MDE API tokens are issued by https://sts.windows.net/<tenant>/ (v1) or https://login.microsoftonline.com/<tenant>/v2.0 (v2), or a national-cloud host",
            ));
        }
    } else if !c.malformed.iter().any(|m| m == "iss") {
        // A malformed iss is claims.malformed's.
        out.push(Finding::error(
            "claims.iss_missing",
            "the token has no iss claim",
            "reject it: AAD always names the issuer",
        ));
    }
    if cls.managed_identity {
        out.push(Finding::info(
            "token.managed_identity",
            "issued to an Azure managed identity; Azure caches managed-identity tokens for about 24 hours",
            "after granting a new permission, a fresh token may not show it for up to 24 h",
        ));
    }
    out
}

fn lifetime(c: &Claims, clock: Clock) -> Vec<Finding> {
    let mut out = Vec::new();
    let Clock { now, leeway } = clock;
    match c.exp {
        None if !c.malformed.iter().any(|m| m == "exp") => out.push(Finding::error(
            "token.no_expiry",
            "the token has no exp claim, so it never expires",
            "reject it: AAD access tokens always expire",
        )),
        None => {}
        Some(exp) if now > exp + leeway => out.push(Finding::error(
            "token.expired",
            format!(
                "the token expired {} ({}), beyond the {} s leeway",
                relative(exp, now),
                rfc3339(exp),
                leeway
            ),
            "acquire a new token; AAD access tokens live about 60-90 minutes (use --at to check an earlier instant)",
        )),
        Some(_) => {}
    }
    if let Some(nbf) = c.nbf
        && now + leeway < nbf
    {
        out.push(Finding::error(
            "token.not_yet_valid",
            format!(
                "the token is not valid until {} ({}), beyond the {} s leeway",
                rfc3339(nbf),
                relative(nbf, now),
                leeway
            ),
            "check this machine's clock; AAD sets nbf to the issue time",
        ));
    }
    // As Microsoft.IdentityModel: only nbf after exp makes the lifetime
    // invalid (IDX10224); iat plays no part in validation.
    if let (Some(exp), Some(nbf)) = (c.exp, c.nbf)
        && nbf > exp
    {
        out.push(Finding::error(
            "token.lifetime_negative",
            format!(
                "the token expires ({}) before it becomes valid (nbf {})",
                rfc3339(exp),
                rfc3339(nbf)
            ),
            "reject it: AAD never issues such a token",
        ));
    } else if let (Some(exp), Some(start)) = (c.exp, c.nbf.or(c.iat)) {
        let life = exp - start;
        // With nbf given, the lifetime is counted from it; an iat at or
        // after exp is odd on its own.
        let late_iat = c.iat.filter(|iat| c.nbf.is_some() && *iat >= exp);
        if !(MIN_LIFETIME..=MAX_LIFETIME).contains(&life) || late_iat.is_some() {
            let what = if let (Some(iat), true) =
                (late_iat, (MIN_LIFETIME..=MAX_LIFETIME).contains(&life))
            {
                format!(
                    "the token says it was issued ({}) no earlier than it expires ({})",
                    rfc3339(iat),
                    rfc3339(exp)
                )
            } else if life <= 0 {
                format!(
                    "the token expires ({}) no later than it was {} ({})",
                    rfc3339(exp),
                    if c.nbf.is_some() {
                        "valid from"
                    } else {
                        "issued"
                    },
                    rfc3339(start)
                )
            } else {
                format!("the token is valid for {}", span(life))
            };
            out.push(Finding::warning(
                "token.lifetime_unusual",
                format!(
                    "{what}; AAD access tokens normally live 60-90 min (up to 24-28 h for managed identities and continuous access evaluation)"
                ),
                "check which service issued it and any token lifetime policy in the tenant",
            ));
        }
    }
    out
}

fn kind_and_audience(h: &Header, c: &Claims, cls: &Classification) -> Vec<Finding> {
    let mut out = Vec::new();
    if cls.kind == Kind::Id {
        out.push(Finding::error(
            "token.id_token",
            "this is an ID token: it tells the client app who signed in and grants access to no API",
            format!(
                "send the access token instead (the access_token field of the token response), requested for {MDE_SCOPE}"
            ),
        ));
        return out;
    }
    // Only the messages name the audience: joined when one is written.
    let aud = || c.aud.join(", ");
    match cls.resource {
        ResourceKind::Mde => {
            let exact = c.aud.iter().any(|a| {
                resource::mde_audiences()
                    .iter()
                    .any(|m| resource::same_audience(a, m))
            });
            if !exact {
                let near = c
                    .aud
                    .iter()
                    .find_map(|a| resource::near_miss(a, resource::mde_audiences()))
                    .unwrap_or(resource::MDE_APP_ID);
                out.push(Finding::error(
                    "aud.not_exact",
                    format!(
                        "the audience {:?} resembles the MDE API's {near} but is not equal to it: validators compare audiences exactly (letter case, spaces and extra slashes count; only one trailing slash is ignored)",
                        aud()
                    ),
                    format!("request a token for {MDE_SCOPE} and send it unchanged"),
                ));
            }
            if let Some(c) = cls.cloud_info().filter(|c| c.api_host.is_empty()) {
                out.push(Finding::warning(
                    "cloud.no_mde_api",
                    format!(
                        "the token comes from {}, where mdeauth knows of no MDE API: Defender for Endpoint's API is offered in the commercial and US Government clouds",
                        c.display
                    ),
                    "request the token from the tenant's own cloud (login.microsoftonline.com or login.microsoftonline.us); check the issuer if this token should be from one of them",
                ));
            }
            if h.nonce.is_some() {
                out.push(Finding::warning(
                    "header.nonce_unexpected",
                    "an MDE API token with a header nonce: MDE tokens are normally signed without one, and a token signed under Graph's header-nonce rule fails standard validation (`mdeauth verify` tells which)",
                    "request a fresh token for the MDE API and compare; report it if the nonce persists",
                ));
            }
        }
        // A malformed aud is claims.malformed's.
        ResourceKind::Other if c.aud.is_empty() && c.malformed.iter().any(|m| m == "aud") => {}
        // An empty `aud` ("" or [""]) names no API either.
        ResourceKind::Other if c.aud.iter().all(|a| a.trim().is_empty()) => {
            out.push(Finding::error(
                "aud.missing",
                if c.aud.is_empty() {
                    "the token has no aud claim, so no API would accept it"
                } else {
                    "the token's aud claim is empty, so no API would accept it"
                },
                format!("request a token for {MDE_SCOPE}"),
            ))
        }
        other => {
            let what = resource::get(other)
                .map(|r| r.name)
                .unwrap_or("another API");
            let extra = if other == ResourceKind::M365d {
                " (the Defender XDR API is a different application from WindowsDefenderATP, with its own permissions)"
            } else {
                ""
            };
            out.push(Finding::error(
                "aud.not_mde",
                format!("the audience {} is {what}, not the MDE API{extra}; the MDE API rejects it (401, or 403 in some field reports)", aud()),
                request_mde_token(cls),
            ));
            if other == ResourceKind::Graph && h.nonce.is_some() {
                out.push(Finding::warning(
                    "graph.nonce",
                    "the header carries a nonce: Microsoft Graph signs such tokens under its proprietary header-nonce rule, and they are not meant for anyone but Graph to validate",
                    "do not validate Graph tokens yourself; for the MDE API request a token for its own audience",
                ));
            }
        }
    }
    out
}

/// The tenant Azure AD issues personal Microsoft accounts' tokens in.
const CONSUMER_TENANT: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

fn permissions(c: &Claims, cls: &Classification) -> Vec<Finding> {
    let mut out = Vec::new();
    if cls.kind == Kind::Id || cls.resource != ResourceKind::Mde {
        return out;
    }
    let app = c.app_id().unwrap_or("<client-id>");
    if c.roles.is_empty() && c.scopes().is_empty() {
        // A managed identity has no app registration and no consent page:
        // its roles are app-role assignments on its service principal.
        let (message, fix) = if cls.managed_identity {
            (
                "the token carries neither roles nor scp: no WindowsDefenderATP app role is assigned to this managed identity, so every MDE call answers 403",
                "assign the WindowsDefenderATP app roles to the managed identity's service principal (New-MgServicePrincipalAppRoleAssignment; a managed identity has no API permissions page or consent link), then request a new token (managed identity tokens are cached for up to 24 h)".to_string(),
            )
        } else {
            (
                "the token carries neither roles nor scp: no WindowsDefenderATP permission was granted to this app (added but not consented), so every MDE call answers 403",
                format!(
                    "grant admin consent for the app's WindowsDefenderATP permissions (portal: API permissions > Grant admin consent, or `mdeauth consent-url --client-id {app}`), then request a new token"
                ),
            )
        };
        out.push(Finding::error("perm.none", message, fix));
    } else if cls.context == Context::None && c.scopes().is_empty() {
        // A user's token whose roles are the user's own app roles.
        out.push(Finding::error(
            "perm.none",
            format!(
                "the token is a signed-in user's{} but carries no scp: its roles ({}) are the user's own app roles (such as the legacy secop and readonly portal roles), not delegated permissions, which MDE reads from scp, so every MDE call answers 403",
                c.user().map(|u| format!(" ({u})")).unwrap_or_default(),
                c.roles.join(", ")
            ),
            format!(
                "for a user, add WindowsDefenderATP delegated permissions to the app and request a new token (`mdeauth consent-url --client-id {app}`); for app-only access, use the client credentials flow"
            ),
        ));
    }
    match cls.context {
        Context::Delegated => out.push(Finding::warning(
            "context.delegated",
            format!(
                "delegated token{}: besides the scp permissions, the user's own MDE role and device-group access limit what each call returns or may do",
                c.user().map(|u| format!(" for {u}")).unwrap_or_default()
            ),
            "make sure the user holds the MDE RBAC permission each call needs (see `mdeauth api`) and can see the device groups involved",
        )),
        Context::Application | Context::None => {}
    }
    out
}

/// The code of [`signature_unverified`].
pub const SIGNATURE_UNVERIFIED: &str = "signature.unverified";

/// The keys could not be reached: a warning, not a verdict (`check`,
/// `scan`).
pub fn signature_unverified(e: &crate::error::Error) -> Finding {
    Finding::warning(
        SIGNATURE_UNVERIFIED,
        format!(
            "the signature was not verified because the signing keys could not be reached ({})",
            e.one_line()
        ),
        "give the key set with --jwks PATH|URL, or run `mdeauth verify` once while online and then use --offline (the cached keys are used, with cache.stale once older than 24 h); --no-verify skips the signature check",
    )
}

/// `call.wrong_cloud` when `host` is another cloud's MDE API than the one
/// the token (classified as `cls`, issuer `iss`) was signed in on: each API
/// accepts only tokens of its own cloud (GCC signs in on the commercial
/// cloud, GCC High and DoD on login.microsoftonline.us; `data/clouds.json`).
/// An error, or a warning when only an sts.windows.net issuer names the
/// token's cloud. `None` for the token's own cloud or a host of unknown cloud.
pub fn host_cloud_mismatch(cls: &Classification, iss: Option<&str>, host: &str) -> Option<Finding> {
    let token_cloud = cls.cloud?;
    // v1 issuers on sts.windows.net are confirmed for the commercial cloud
    // only; whether US Government v1 tokens carry it too is not, so such a
    // token on a national API is a warning, not an error.
    let sure = iss
        .and_then(crate::cloud::url_host)
        .is_none_or(|h| h != "sts.windows.net");
    let api = api_cloud(host)?;
    let sign_in = crate::cloud::by_issuer_host(api.login_host)?;
    if sign_in.name == token_cloud {
        return None;
    }
    let message = format!(
        "{host} is the {} MDE API, which accepts tokens signed in at {}; this token comes from the {} cloud{}",
        api.display,
        api.login_host,
        cls.cloud_info().map_or(token_cloud, |c| c.display),
        if sure {
            ""
        } else {
            " by its sts.windows.net issuer (confirmed for commercial v1 tokens; not known for national clouds)"
        }
    );
    // A tenant signs in only in its own cloud: the API of the token's
    // cloud is the fix, a token from another cloud only for a tenant
    // that lives there.
    let fix = match cls.cloud_info().filter(|c| !c.api_host.is_empty()) {
        Some(own) => format!(
            "call the {} MDE API at https://{} instead (the tenant signs in at {}; --cloud {} for probe and doctor); to call {host} you need a token from {}, which only a tenant of that cloud can get",
            own.display, own.api_host, own.login_host, own.name, api.login_host
        ),
        None => format!(
            "request the token from https://{}/<tenant> (mdeauth token --cloud {}), or call the API host of the token's cloud",
            api.login_host, api.name
        ),
    };
    Some(if sure {
        Finding::error("call.wrong_cloud", message, fix)
    } else {
        Finding::warning("call.wrong_cloud", message, fix)
    })
}

/// The cloud whose MDE API `host` serves: a national cloud's own API host,
/// or one of the catalogue's commercial hosts (`*.microsoft.com`,
/// `*.windows.com`); `None` for a host of unknown cloud.
fn api_cloud(host: &str) -> Option<&'static crate::cloud::Cloud> {
    crate::cloud::by_api_host(host).or_else(|| {
        let commercial = (host.ends_with(".microsoft.com") || host.ends_with(".windows.com"))
            && crate::catalog::hosts().iter().any(|h| h == host);
        commercial
            .then(|| crate::cloud::by_name("public").ok())
            .flatten()
    })
}

/// Whether `f` is [`signature_unverified`]'s finding.
pub fn is_signature_unverified(f: &Finding) -> bool {
    f.code == SIGNATURE_UNVERIFIED
}

/// The finding every offline command adds: the signature was not checked.
pub fn signature_not_checked() -> Finding {
    Finding::info(
        "signature.not_checked",
        "decoded without checking the signature: anyone can write a token that looks like this",
        "run `mdeauth verify` to check it against Azure AD's published keys",
    )
}
