//! The gate's risk rule: every signal `[risk]` denies blocks the package with reason `risk`
//! (the signal's code, evidence and base in the details), warned signals are reported, and a
//! package signed off for its exact version passes whatever its signals (the auditor saw it).
//! Also the next steps that must not walk into the lure of a hijack.

use serde_json::json;

use super::GateInput;
use super::audited::{Standing, standing};
use super::code::ReasonCode;
use super::report::{Reason, Severity, Status, Verdict};
use super::update_plan::semver_compatible;
use crate::audit_file::{RiskAction, RiskDecision};
use crate::inventory::{Package, SourceKind};
use crate::risk::{PackageRisk, SignalCode};

fn severity(action: RiskAction) -> Option<Severity> {
    match action {
        RiskAction::Deny => Some(Severity::Deny),
        RiskAction::Warn => Some(Severity::Warn),
        RiskAction::Allow => None,
    }
}

pub(super) fn check_risk(input: &GateInput<'_>, p: &Package, v: &mut Verdict) {
    let (Some(report), SourceKind::Registry { .. }) = (input.risk, &p.source) else {
        return;
    };
    if v.status == Status::Audited {
        return;
    }
    let policy = &input.audit_file.risk;
    let Some(risk) = report.get(&p.name, &p.version) else {
        if let Some(why) = report.skipped(&p.name, &p.version) {
            // Nothing was tried, so nothing failed: said, not warned about.
            v.reasons.push(Reason {
                code: ReasonCode::Risk,
                severity: Severity::Info,
                message: format!("risk signals not computed: {}", why.why()),
                details: json!({ "not-computed": "skipped", "why": why }),
            });
            return;
        }
        if let Some(sev) = severity(policy.not_computed_action()) {
            v.reasons.push(Reason {
                code: ReasonCode::Risk,
                severity: sev,
                message: "risk signals not computed for this version".into(),
                details: json!({ "not-computed": "all" }),
            });
        }
        return;
    };
    for s in &risk.signals {
        let sev = match policy.decide(&p.name, &p.version, s.code, input.today) {
            RiskDecision::Allow => continue,
            RiskDecision::Excepted(x) => {
                v.reasons.push(Reason {
                    code: ReasonCode::Risk,
                    severity: Severity::Info,
                    message: format!("[{}] excepted until {}: {}", s.code, x.expires, x.reason),
                    details: json!({ "signal": s.code, "excepted-until": x.expires }),
                });
                continue;
            }
            RiskDecision::Deny => Severity::Deny,
            RiskDecision::Warn => Severity::Warn,
        };
        v.reasons.push(Reason {
            code: ReasonCode::Risk,
            severity: sev,
            message: format!("[{}] {}{}", s.code, s.message, base_words(risk)),
            details: json!({
                "signal": s.code,
                "signal-severity": s.severity,
                "evidence": s.evidence,
                "base": risk.base.as_ref().map(ToString::to_string),
                "base-from": risk.base_from,
            }),
        });
    }
    for nc in &risk.not_computed {
        // Only signals the policy looks at need computing.
        let wanted: Vec<SignalCode> = policy.wanted(&nc.signals);
        let Some(sev) = severity(policy.not_computed_action()) else {
            continue;
        };
        if wanted.is_empty() {
            continue;
        }
        v.reasons.push(Reason {
            code: ReasonCode::Risk,
            severity: sev,
            message: format!(
                "not computed ({}): {}",
                wanted
                    .iter()
                    .map(|c| c.code())
                    .collect::<Vec<_>>()
                    .join(", "),
                nc.why
            ),
            details: json!({ "not-computed": wanted, "why": nc.why }),
        });
    }
}

fn base_words(risk: &PackageRisk) -> String {
    match &risk.base {
        Some(b) => format!(" (against {b})"),
        None => " (first version: everything in it is new)".into(),
    }
}

/// What the shared next step cannot know: a risky version is read before it is built (against
/// the version its signals were computed from when no audited base exists), and a yanked one
/// whose only way out is newer, unaudited releases may be the safe one.
pub(super) fn adjust_next_step(input: &GateInput<'_>, p: &Package, worst: Status, v: &mut Verdict) {
    let Some(step) = v.next_step.as_mut() else {
        return;
    };
    match worst {
        Status::Risk => {
            let base = input
                .risk
                .and_then(|r| r.get(&p.name, &p.version))
                .and_then(|r| r.base.clone());
            if step.delta_from.is_none()
                && let Some(base) = base
            {
                step.command = Some(format!(
                    "cargo audit-trust diff {} {base} {}",
                    p.name, p.version
                ));
            }
            step.text = format!(
                "do not build it before reading it: `{}` shows what it brings in; sign off the \
                 exact version once read (`{}`), or stay on an audited version with `cargo \
                 audit-trust update`",
                step.command.as_deref().unwrap_or_default(),
                step.then.as_deref().unwrap_or_default()
            );
        }
        Status::Yanked => {
            if let Some(warning) = hijack_pattern(input, p) {
                step.text = format!("{}. {warning}", step.text.trim_end_matches('.'));
            }
        }
        _ => {}
    }
}

/// When every semver-compatible version that is not yanked is newer than `p` and nobody
/// audited it, moving off the yanked version is exactly what a hijacker who yanked the good
/// versions wants.
fn hijack_pattern(input: &GateInput<'_>, p: &Package) -> Option<String> {
    let index = input.index?;
    let alternatives: Vec<_> = index
        .versions(p)
        .into_iter()
        .filter(|x| !x.yanked && x.version != p.version)
        .filter(|x| semver_compatible(&p.version, &x.version))
        .collect();
    if alternatives.is_empty() {
        return None;
    }
    let dev = p.dev_only == Some(true);
    let all_newer_unaudited = alternatives.iter().all(|x| {
        x.version > p.version
            && !matches!(
                standing(input, &p.name, &x.version, &x.checksum, dev),
                Standing::Audited(_)
            )
    });
    if !all_newer_unaudited {
        return None;
    }
    let mut versions: Vec<&semver::Version> = alternatives.iter().map(|x| &x.version).collect();
    versions.sort();
    let newer: Vec<String> = versions.iter().map(ToString::to_string).collect();
    Some(format!(
        "Every version you could move to ({}) is newer and unaudited: this is the pattern of a \
         hijack (yank the good versions so that users move to the bad one), and the yanked \
         version may be the safe one. Read the newer version first (`cargo audit-trust diff {} {} {}`) \
         before moving",
        newer.join(", "),
        p.name,
        p.version,
        newer.last().cloned().unwrap_or_default()
    ))
}
