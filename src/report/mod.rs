//! The report every command produces, and its renderers.
//!
//! A command builds a [`Report`]; a renderer turns it into text. The JSON
//! form is the public contract documented in the README: sections are only
//! ever added, never renamed.

pub mod calls;
pub mod human;
pub mod json;
pub mod junit;
pub mod scan;
pub mod style;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::checks::Clock;
use crate::finding::{Finding, Severity};
use crate::timefmt::{relative, rfc3339};
use crate::token::{AppAuth, Claims, Context, Kind, Token};

/// `pass` when no finding is an error; `unverified` when none is but the
/// signature could not be checked because its keys were out of reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
    Unverified,
}

impl Verdict {
    /// 0 pass, 1 fail, 3 unverified (an environment failure kept a check
    /// from running).
    pub fn exit_code(self) -> u8 {
        match self {
            Verdict::Pass => crate::error::exit::PASS,
            Verdict::Fail => crate::error::exit::FAIL,
            Verdict::Unverified => crate::error::exit::ENVIRONMENT,
        }
    }
}

/// The token section of the JSON contract.
#[derive(Debug, Clone, Serialize)]
pub struct TokenSection {
    /// `sha256:` and 12 hex digits of the token; the token itself is never printed.
    pub fingerprint: String,
    /// Where the token was found in the input (argument, access_token field, ...).
    pub source: String,
    pub version: &'static str,
    pub kind: Kind,
    pub context: Context,
    pub resource: &'static str,
    pub audience: Vec<String>,
    pub issuer: Option<String>,
    pub cloud: Option<&'static str>,
    pub tenant_id: Option<String>,
    pub app_id: Option<String>,
    pub app_name: Option<String>,
    pub app_auth: AppAuth,
    pub object_id: Option<String>,
    pub user: Option<String>,
    pub roles: Vec<String>,
    pub scopes: Vec<String>,
    pub issued_at: Option<String>,
    pub not_before: Option<String>,
    pub expires_at: Option<String>,
    pub lifetime_seconds: Option<i64>,
    /// Seconds until expiry at the evaluation instant; negative once expired.
    pub expires_in_seconds: Option<i64>,
    /// The instant time checks were evaluated at.
    pub evaluated_at: String,
    pub algorithm: Option<String>,
    pub kid: Option<String>,
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
}

impl TokenSection {
    pub fn new(token: &Token, claims: &Claims, clock: Clock) -> TokenSection {
        let cls = claims.classify();
        TokenSection {
            fingerprint: token.fingerprint(),
            source: token.compact.found_in.to_string(),
            version: cls.version,
            kind: cls.kind,
            context: cls.context,
            resource: cls.resource.as_str(),
            audience: claims.aud.clone(),
            issuer: claims.iss.clone(),
            cloud: cls.cloud,
            tenant_id: claims.tid.clone(),
            app_id: claims.app_id().map(str::to_string),
            app_name: claims.app_displayname.clone(),
            app_auth: cls.app_auth,
            object_id: claims.oid.clone(),
            user: claims.user().map(str::to_string),
            roles: claims.roles.clone(),
            scopes: claims.scopes(),
            issued_at: claims.iat.map(rfc3339),
            not_before: claims.nbf.map(rfc3339),
            expires_at: claims.exp.map(rfc3339),
            lifetime_seconds: claims
                .exp
                .zip(claims.nbf.or(claims.iat))
                .map(|(e, s)| e - s),
            expires_in_seconds: claims.exp.map(|e| e - clock.now),
            evaluated_at: rfc3339(clock.now),
            algorithm: token.header.alg.clone(),
            kid: token.header.kid.clone(),
            header: token.header.raw(),
            claims: claims.raw(),
        }
    }

    /// `expires in 41 min` / `expired 3 days ago`, at the evaluation instant.
    pub fn expiry_phrase(&self, now: i64) -> Option<String> {
        let exp = self.expires_in_seconds? + now;
        Some(if exp >= now {
            format!("expires {}", relative(exp, now))
        } else {
            format!("expired {}", relative(exp, now))
        })
    }
}

/// What every command returns.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The command that produced the report.
    #[serde(skip)]
    pub command: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<TokenSection>,
    /// The plan file `check`/`api` worked from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<calls::PlanSection>,
    /// MDE API calls: catalogue entries (`api`) or checked calls (`check`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calls: Option<Vec<calls::CallEntry>>,
    /// Minimal permission set for the calls, and the token's extra permissions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub least_privilege: Option<calls::LeastPrivilege>,
    /// `app`: the app registration and its permissions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app: Option<crate::applint::AppSection>,
    /// `verify`: the signature outcome.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<crate::validate::SignatureSection>,
    /// `verify`: true when every claim rule passed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims_valid: Option<bool>,
    /// `cache show|clear`: the key cache.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache: Option<crate::cache::CacheSection>,
    /// `probe`: the MDE API call and its answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probe: Option<crate::mdeapi::ProbeSection>,
    /// `doctor`: the checklist and the permission chain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub doctor: Option<crate::doctor::DoctorSection>,
    pub findings: Vec<Finding>,
    /// Explained AADSTS / OAuth errors (`explain`, `token` when refused).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<crate::aadsts::ExplainedError>>,
    /// Admin-consent links (`consent-url`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consent: Option<crate::consent::ConsentSection>,
    pub verdict: Verdict,
    /// Evaluation instant as Unix seconds, for relative phrases in human output.
    #[serde(skip)]
    pub now: i64,
    /// `--strict`: warnings that name a defect fail the report too (and
    /// are JUnit failures); in JSON only when set.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub strict: bool,
}

impl Report {
    pub fn new(command: &'static str, now: i64) -> Report {
        Report {
            command,
            token: None,
            signature: None,
            claims_valid: None,
            cache: None,
            app: None,
            plan: None,
            calls: None,
            least_privilege: None,
            probe: None,
            doctor: None,
            findings: Vec::new(),
            errors: None,
            consent: None,
            verdict: Verdict::Pass,
            now,
            strict: false,
        }
    }

    /// `--strict`, after [`Report::finish`]: a report that passes with
    /// warnings (least privilege, expiring credentials) fails instead, for a
    /// CI gate that holds to "what the calls need, and nothing more".
    /// Such a warning fails the report even beside a check that could not
    /// run (`unverified`): it is a defect found, as an error is.
    /// `on` false leaves the report as it is.
    pub fn strict(mut self, on: bool) -> Report {
        if !on {
            return self;
        }
        self.strict = true;
        if self.findings.iter().any(Finding::fails_strict) {
            self.verdict = Verdict::Fail;
        }
        self
    }

    /// A verification's outcome as the report's: its findings (the header
    /// and claim checks included), the signature and the claims verdict.
    pub fn take_verification(&mut self, v: crate::validate::Verification) {
        self.findings = v.findings;
        self.signature = Some(v.signature);
        self.claims_valid = Some(v.claims_valid);
    }

    /// Sort the findings and set the verdict from them. Call once, last.
    pub fn finish(mut self) -> Report {
        crate::finding::sort(&mut self.findings);
        let failing = |f: &Finding| f.is_error() && !f.is_unreachable();
        self.verdict = if self.findings.iter().any(failing) || self.calls_denied() > 0 {
            Verdict::Fail
        } else if self.findings.iter().any(Finding::is_unreachable) {
            // A gate must not pass what it could not check.
            Verdict::Unverified
        } else {
            Verdict::Pass
        };
        self
    }

    pub fn count(&self, s: Severity) -> usize {
        self.findings.iter().filter(|f| f.severity == s).count()
    }

    /// How many checked calls are not allowed.
    pub fn calls_denied(&self) -> usize {
        self.calls
            .as_ref()
            .map_or(0, |c| c.iter().filter(|e| e.denied()).count())
    }

    /// Exit code for this report: see [`Verdict::exit_code`].
    pub fn exit_code(&self) -> u8 {
        self.verdict.exit_code()
    }
}

/// Output format, chosen with `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    /// JUnit XML for CI systems: a test case per checked call and per error finding (scan: per token).
    Junit,
}

/// Render a report in the chosen format.
pub fn render(report: &Report, format: Format, style: &style::Style) -> String {
    match format {
        Format::Human => human::render(report, style),
        Format::Json => json::render(report),
        Format::Junit => junit::render(report),
    }
}
