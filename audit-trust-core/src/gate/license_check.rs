//! The gate's license rule (`[licenses]`, see `docs/licenses.md`): a registry package whose
//! declared expression the policy does not satisfy is `license-not-allowed`; one with no license
//! or one that is not SPDX is `license-unknown`; one whose shipped texts contradict what it
//! declares is `license-mismatch`. An audit does not change a license, so audited packages are
//! judged too. Nothing is unknown-and-allowed: with a policy, every package is judged or named.

use serde_json::json;

use super::GateInput;
use super::code::ReasonCode;
use super::report::{Reason, Severity, Verdict};
use crate::audit_file::{LicensePolicy, RiskAction};
use crate::inventory::{Package, PackageId, SourceKind};
use crate::license::{LicenseFinding, PackageLicense, expression::reparse};

fn severity(action: RiskAction) -> Option<Severity> {
    match action {
        RiskAction::Deny => Some(Severity::Deny),
        RiskAction::Warn => Some(Severity::Warn),
        RiskAction::Allow => None,
    }
}

pub(super) fn check_licenses(input: &GateInput<'_>, id: PackageId, p: &Package, v: &mut Verdict) {
    let (Some(policy), Some(licenses), SourceKind::Registry { .. }) =
        (&input.audit_file.licenses, input.licenses, &p.source)
    else {
        return;
    };
    let Some(license) = licenses.get(id).and_then(Option::as_ref) else {
        push(
            v,
            ReasonCode::LicenseUnknown,
            severity(policy.unknown_action()),
            "license not read for this package".into(),
            json!({ "not-read": true }),
        );
        return;
    };
    let exception = policy.exception(&p.name, &p.version, input.today);
    if let Some(x) = exception.filter(|x| x.allow.is_empty()) {
        push(
            v,
            ReasonCode::LicenseNotAllowed,
            Some(Severity::Info),
            format!("license excepted until {}: {}", x.expires, x.reason),
            json!({ "excepted-until": x.expires }),
        );
        return;
    }
    let extra: &[String] = exception.map_or(&[], |x| x.allow.as_slice());
    judge_expression(input, p, policy, license, extra, v);
    for finding in &license.findings {
        match finding {
            LicenseFinding::Mismatch { .. }
            | LicenseFinding::LicenseFileEscapes { .. }
            | LicenseFinding::LicenseFileMissing { .. } => push(
                v,
                ReasonCode::LicenseMismatch,
                severity(policy.mismatch_action()),
                finding.describe(),
                json!(finding),
            ),
            _ => {}
        }
    }
}

fn judge_expression(
    input: &GateInput<'_>,
    p: &Package,
    policy: &LicensePolicy,
    license: &PackageLicense,
    extra: &[String],
    v: &mut Verdict,
) {
    let parsed = license
        .expression
        .as_ref()
        .and_then(|e| e.parsed.as_deref());
    let Some(expression) = parsed.and_then(reparse) else {
        let message = match (&license.declared, &license.license_file) {
            (Some(declared), _) => format!(
                "`license = {declared:?}` is not an SPDX expression, so no policy can accept it"
            ),
            (None, Some(file)) => format!(
                "only `license-file = {file:?}`{}: name the license in an exception",
                detected_words(license)
            ),
            (None, None) => "no `license` and no `license-file`".into(),
        };
        push(
            v,
            ReasonCode::LicenseUnknown,
            severity(policy.unknown_action()),
            message,
            json!({ "declared": license.declared, "license-file": license.license_file }),
        );
        return;
    };
    let dev_copyleft_ok =
        p.dev_only == Some(true) && policy.dev_copyleft_action() == RiskAction::Allow;
    let allowed = |req: &spdx::LicenseReq| {
        let id = req.license.to_string();
        if policy.denies(&id) {
            return false;
        }
        let copyleft = req.license.id().is_some_and(|l| l.is_copyleft());
        policy.allows(&id)
            || extra.iter().any(|x| crate::license::same_license(x, &id))
            || (copyleft && dev_copyleft_ok)
    };
    if expression.evaluate(allowed) {
        return;
    }
    let failed: Vec<String> = expression
        .requirements()
        .filter(|r| !allowed(&r.req))
        .map(|r| r.req.license.to_string())
        .collect();
    let expired = policy
        .expired_exception(&p.name, &p.version, input.today)
        .map(|x| format!(" (the exception for it expired on {})", x.expires))
        .unwrap_or_default();
    let canonical = parsed.unwrap_or_default();
    push(
        v,
        ReasonCode::LicenseNotAllowed,
        Some(Severity::Deny),
        format!(
            "`{canonical}` is not accepted by [licenses]: {} not allowed{expired}",
            failed.join(", ")
        ),
        json!({ "expression": canonical, "not-allowed": failed }),
    );
}

fn detected_words(license: &PackageLicense) -> String {
    license
        .texts
        .iter()
        .find_map(|t| {
            t.detected
                .as_ref()
                .filter(|_| t.confidence >= crate::license::IDENTIFIED_CONFIDENCE)
                .map(|d| format!(" (its text is {d}, {:.0}% match)", t.confidence * 100.0))
        })
        .unwrap_or_default()
}

fn push(
    v: &mut Verdict,
    code: ReasonCode,
    severity: Option<Severity>,
    message: String,
    details: serde_json::Value,
) {
    if let Some(severity) = severity {
        v.reasons.push(Reason {
            code,
            severity,
            message,
            details,
        });
    }
}
