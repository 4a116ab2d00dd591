//! `Finding`: the one result type every check produces.

use std::sync::Arc;

use serde::Serialize;

/// How bad a finding is. Only `Error` makes a command fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// One observation with a stable code, a severity, what was found and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable identifier, e.g. `token.expired`. Never reworded once released.
    pub code: &'static str,
    pub severity: Severity,
    pub message: Arc<str>,
    /// What to do about it; empty when there is nothing to do.
    pub fix: Arc<str>,
}

impl Finding {
    pub fn new(
        code: &'static str,
        severity: Severity,
        message: impl Into<Arc<str>>,
        fix: impl Into<Arc<str>>,
    ) -> Self {
        Finding {
            code,
            severity,
            message: message.into(),
            fix: fix.into(),
        }
    }

    pub fn error(
        code: &'static str,
        message: impl Into<Arc<str>>,
        fix: impl Into<Arc<str>>,
    ) -> Self {
        Self::new(code, Severity::Error, message, fix)
    }

    pub fn warning(
        code: &'static str,
        message: impl Into<Arc<str>>,
        fix: impl Into<Arc<str>>,
    ) -> Self {
        Self::new(code, Severity::Warning, message, fix)
    }

    pub fn info(
        code: &'static str,
        message: impl Into<Arc<str>>,
        fix: impl Into<Arc<str>>,
    ) -> Self {
        Self::new(code, Severity::Info, message, fix)
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Says that a check could not run because a service was out of reach
    /// (signing keys, the token endpoint, the API), rather than that what
    /// it checks failed: the verdict is then `unverified`, and JUnit shows
    /// an error (a test that could not run), not a failure.
    pub fn is_unreachable(&self) -> bool {
        UNREACHABLE.contains(&self.code)
    }

    /// A warning that `--strict` turns into a failure: something the app,
    /// its registration or its token should change (least privilege, an
    /// expiring credential). Advice that no change removes (a delegated
    /// token's user-role caveat, a stale cache, what the catalogue does not
    /// document) never fails a gate.
    pub fn fails_strict(&self) -> bool {
        self.severity == Severity::Warning && !self.is_unreachable() && !ADVICE.contains(&self.code)
    }
}

/// Warnings that describe a condition, not a defect: see [`Finding::fails_strict`].
const ADVICE: [&str; 8] = [
    "context.delegated",
    "call.user_rbac",
    "call.permissions_not_documented",
    "cache.stale",
    "cache.damaged",
    "cache.write_failed",
    "app.grants_unattributed",
    "doctor.tenant_unchecked",
];

/// The codes of [`Finding::is_unreachable`].
const UNREACHABLE: [&str; 5] = [
    crate::checks::SIGNATURE_UNVERIFIED,
    "doctor.unreachable",
    "probe.no_answer",
    "probe.server_error",
    "probe.unexpected_body",
];

/// Drop repeated findings (same code and message), keeping the first.
pub fn dedupe(findings: &mut Vec<Finding>) {
    let mut seen: Vec<(&'static str, Arc<str>)> = Vec::new();
    findings.retain(|f| {
        let key = (f.code, f.message.clone());
        if seen.contains(&key) {
            false
        } else {
            seen.push(key);
            true
        }
    });
}

/// Sort findings errors first, keeping the checks' order within a severity.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by_key(|f| f.severity);
}
