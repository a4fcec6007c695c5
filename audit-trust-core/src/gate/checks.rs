//! The rules for one package. Every finding becomes a [`Reason`]; the status is the most severe
//! blocking finding, or the best non-blocking one.

use std::collections::BTreeSet;

use serde_json::json;

use super::code::ReasonCode;
use super::evidence::{Evidence, EvidenceSubject, vouched_criteria, vouched_git_criteria};
use super::next_step::next_step;
use super::report::{Reason, Severity, Status, Verdict};
use super::{GateInput, source_allowed};
use crate::advisories::AdvisoryKind;
use crate::audit_file::Action;
use crate::imports::grant::CHAIN_JOIN;
use crate::inventory::{Package, PackageId, SourceKind};
use crate::signoff::Criterion;

pub(super) fn verdict(input: &GateInput<'_>, id: PackageId, p: &Package) -> Verdict {
    let mut v = Verdict {
        id,
        name: p.name.clone(),
        version: p.version.clone(),
        source: p.source.label(),
        status: Status::FirstParty,
        blocked: false,
        reasons: Vec::new(),
        next_step: None,
        introduced: None,
    };
    if p.source == SourceKind::Path {
        return v;
    }
    if input.on_targets.is_some_and(|on| !on.contains(&id)) {
        v.status = Status::OtherPlatform;
        v.reasons.push(reason(
            ReasonCode::OtherPlatform,
            Severity::Info,
            "used only on platforms outside `[policy] targets`".into(),
            serde_json::Value::Null,
        ));
        return v;
    }
    check_source(input, p, &mut v);
    check_index(input, p, &mut v);
    check_advisories(input, p, &mut v);
    let flagged = check_flags(input, p, &mut v);
    if !flagged {
        check_sign_offs(input, p, &mut v);
    }
    super::risk_check::check_risk(input, p, &mut v);
    super::license_check::check_licenses(input, id, p, &mut v);
    if let Some(worst) = worst_status(&v.reasons, Severity::Deny) {
        v.status = worst;
        v.blocked = true;
        v.next_step = next_step(input, id, worst);
        super::risk_check::adjust_next_step(input, p, worst, &mut v);
    } else if !matches!(v.status, Status::Audited | Status::Exempted) {
        // Only warnings (a policy set to "warn"): the package passes, named by its worst finding.
        v.status = worst_status(&v.reasons, Severity::Warn).unwrap_or(Status::Unaudited);
    }
    v
}

/// The most severe status among the reasons of one severity.
fn worst_status(reasons: &[Reason], severity: Severity) -> Option<Status> {
    reasons
        .iter()
        .filter(|r| r.severity == severity)
        .filter_map(|r| r.code.status())
        .max()
}

fn reason(
    code: ReasonCode,
    severity: Severity,
    message: String,
    details: serde_json::Value,
) -> Reason {
    Reason {
        code,
        severity,
        message,
        details,
    }
}

fn severity_of(action: Action) -> Severity {
    match action {
        Action::Deny => Severity::Deny,
        Action::Warn => Severity::Warn,
    }
}

fn check_source(input: &GateInput<'_>, p: &Package, v: &mut Verdict) {
    let source = p.source_id.clone().unwrap_or_default();
    let message = match source_allowed(input.audit_file, &p.source) {
        Ok(true) => return,
        Ok(false) => format!("comes from `{source}`, which `[allowed-sources]` does not list"),
        Err(e) => {
            format!("comes from `{source}`, which cannot be compared with `[allowed-sources]`: {e}")
        }
    };
    v.reasons.push(reason(
        ReasonCode::SourceNotAllowed,
        Severity::Deny,
        message,
        json!({ "source": source }),
    ));
}

fn check_index(input: &GateInput<'_>, p: &Package, v: &mut Verdict) {
    let (Some(index), SourceKind::Registry { .. }) = (input.index, &p.source) else {
        return;
    };
    let Some(entry) = index.version(p) else {
        if index.has_entry(p) {
            v.reasons.push(reason(
                ReasonCode::NotInIndex,
                Severity::Deny,
                "the registry's index does not list this version".into(),
                serde_json::Value::Null,
            ));
        }
        return;
    };
    if p.checksum.as_deref() != Some(entry.checksum.as_str()) {
        v.reasons.push(reason(
            ReasonCode::ChecksumMismatch,
            Severity::Deny,
            format!(
                "Cargo.lock says checksum {}, the registry's index says {}",
                p.checksum.as_deref().unwrap_or("(none)"),
                entry.checksum
            ),
            json!({ "lockfile": p.checksum, "index": entry.checksum }),
        ));
    }
    if entry.yanked {
        let action = input.audit_file.policy.yanked_action();
        // An exemption with `allow-yanked` waives the yank of its versions until it expires:
        // a warning each run, a block again once it is due.
        let waiver = input
            .audit_file
            .exemptions
            .iter()
            .filter(|x| x.allow_yanked && x.matches(&p.name, &p.version))
            .max_by_key(|x| x.expires);
        let (severity, message, details) = match waiver {
            Some(x) if action == Action::Deny && x.is_live(input.today) => (
                Severity::Warn,
                format!(
                    "this version was yanked from its registry; allowed until {} by its exemption ({})",
                    x.expires, x.reason
                ),
                json!({ "allowed_until": x.expires }),
            ),
            Some(x) if action == Action::Deny => (
                Severity::Deny,
                format!(
                    "this version was yanked from its registry (the exemption that allowed it expired on {})",
                    x.expires
                ),
                json!({ "expired": x.expires }),
            ),
            _ => (
                severity_of(action),
                "this version was yanked from its registry".into(),
                serde_json::Value::Null,
            ),
        };
        v.reasons
            .push(reason(ReasonCode::Yanked, severity, message, details));
    }
}

fn check_advisories(input: &GateInput<'_>, p: &Package, v: &mut Verdict) {
    let (
        Some(db),
        SourceKind::Registry {
            crates_io: true, ..
        },
    ) = (input.advisories, &p.source)
    else {
        return;
    };
    for advisory in db.for_package(&p.name, &p.version) {
        let details = json!({
            "id": advisory.id,
            "kind": advisory.kind,
            "title": advisory.title,
            "patched": advisory.patched,
            "url": advisory.url,
        });
        let ignore = input
            .audit_file
            .ignored_advisories
            .iter()
            .find(|i| i.id == advisory.id);
        if let Some(ignore) = ignore {
            if ignore.is_live(input.today) {
                v.reasons.push(reason(
                    ReasonCode::AdvisoryIgnored,
                    Severity::Info,
                    format!(
                        "{} ignored until {}: {}",
                        advisory.id, ignore.expires, ignore.reason
                    ),
                    details,
                ));
                continue;
            }
            v.reasons.push(reason(
                ReasonCode::IgnoreExpired,
                Severity::Warn,
                format!(
                    "the ignore of {} expired on {}",
                    advisory.id, ignore.expires
                ),
                json!({ "id": advisory.id, "expired": ignore.expires }),
            ));
        }
        let patched = if advisory.patched.is_empty() {
            "no fixed version".to_owned()
        } else {
            format!("fixed in {}", advisory.patched.join(" or "))
        };
        let message = format!(
            "{} ({}): {}; {patched}",
            advisory.id,
            kind_word(advisory.kind),
            advisory.title
        );
        if advisory.kind.is_vulnerability() {
            v.reasons.push(reason(
                ReasonCode::Advisory,
                Severity::Deny,
                message,
                details,
            ));
        } else {
            let action = input.audit_file.policy.informational_action();
            v.reasons.push(reason(
                ReasonCode::AdvisoryInformational,
                severity_of(action),
                message,
                details,
            ));
        }
    }
}

fn kind_word(kind: AdvisoryKind) -> &'static str {
    match kind {
        AdvisoryKind::Vulnerability => "vulnerability",
        AdvisoryKind::Unmaintained => "unmaintained",
        AdvisoryKind::Unsound => "unsound",
        AdvisoryKind::Notice => "notice",
        AdvisoryKind::Informational => "informational",
    }
}

/// Evidence about this crate name of the package's kind (crate files or git commits); the
/// chain rules pick out what applies to the exact file or commit.
fn about<'a>(input: &'a GateInput<'_>, p: &Package) -> Vec<&'a Evidence> {
    input
        .evidence
        .iter()
        .filter(|e| e.name == p.name)
        .filter(|e| {
            matches!(
                (&e.subject, &p.source),
                (EvidenceSubject::Crate { .. }, SourceKind::Registry { .. })
                    | (EvidenceSubject::Git { .. }, SourceKind::Git { .. })
            )
        })
        .collect()
}

fn covering_auditors<'a>(input: &'a GateInput<'_>, p: &'a Package) -> Vec<&'a str> {
    input
        .audit_file
        .auditors_covering(&p.name)
        .map(|a| a.name.as_str())
        .collect()
}

/// Flags from covering auditors win over any sign-off. Returns whether the package is flagged.
fn check_flags(input: &GateInput<'_>, p: &Package, v: &mut Verdict) -> bool {
    let auditors = covering_auditors(input, p);
    let mut flagged = false;
    for e in input
        .evidence
        .iter()
        .filter(|e| e.name == p.name && e.version == p.version)
    {
        let Some(why) = &e.flag else { continue };
        let same = match (&e.subject, &p.source) {
            (EvidenceSubject::Crate { checksum }, _) => {
                p.checksum.as_deref() == Some(checksum.as_str())
            }
            (EvidenceSubject::Git { commit, .. }, SourceKind::Git { commit: locked, .. }) => {
                locked.as_deref() == Some(commit.as_str())
            }
            _ => false,
        };
        // An imported violation blocks wherever its set reads the crate (`include`/`exclude`),
        // whatever `covers` says: `covers` limits what a set may vouch for, not what it warns of.
        if let Some(set) = &e.imported
            && same
        {
            v.reasons.push(reason(
                ReasonCode::Flagged,
                Severity::Deny,
                format!("flagged by the imported set `{set}` (evidence: imported): {why}"),
                json!({ "import": set, "evidence": "imported", "reason": why, "record": e.record_id }),
            ));
            flagged = true;
        } else if same && auditors.contains(&e.auditor.as_str()) {
            v.reasons.push(reason(
                ReasonCode::Flagged,
                Severity::Deny,
                format!("flagged by `{}`: {why}", e.auditor),
                json!({ "auditor": e.auditor, "reason": why, "record": e.record_id }),
            ));
            flagged = true;
        }
    }
    flagged
}

fn check_sign_offs(input: &GateInput<'_>, p: &Package, v: &mut Verdict) {
    let policy = &input.audit_file.policy;
    let required: Vec<Criterion> = if p.dev_only == Some(true) {
        policy.dev_required_criteria()
    } else {
        policy.required_criteria()
    };
    let needed: BTreeSet<Criterion> =
        super::evidence::closure(&required, &input.audit_file.criteria);
    let signed = covering_auditors(input, p);
    // Imported sets that may vouch for this package: covering it, and not ruled out by
    // `[policy] imports-not-allowed`. They are judged like auditors, by their own name.
    let imports: Vec<&str> = if input.audit_file.imports_allowed_for(&p.name) {
        input
            .audit_file
            .imports_covering(&p.name)
            .map(|i| i.name.as_str())
            .collect()
    } else {
        Vec::new()
    };
    let evidence = about(input, p);
    // A delta chain that crosses sets is evidence of its own, named `a+b`: it may vouch when
    // every one of its sets may.
    let chains: BTreeSet<&str> = evidence
        .iter()
        .filter_map(|e| e.imported.as_deref())
        .filter(|name| {
            name.contains(CHAIN_JOIN) && name.split(CHAIN_JOIN).all(|part| imports.contains(&part))
        })
        .collect();
    let imports: Vec<&str> = imports.into_iter().chain(chains).collect();
    let auditors: Vec<&str> = signed.iter().chain(&imports).copied().collect();
    let mut satisfied = Vec::new();
    let mut partial = Vec::new();
    for auditor in &auditors {
        let vouched = match (&p.source, p.checksum.as_deref()) {
            (
                SourceKind::Git {
                    commit: Some(commit),
                    ..
                },
                _,
            ) => vouched_git_criteria(&evidence, auditor, commit, &input.audit_file.criteria),
            (_, Some(checksum)) => vouched_criteria(
                &evidence,
                auditor,
                &p.version,
                checksum,
                &input.audit_file.criteria,
            ),
            _ => BTreeSet::new(),
        };
        if needed.is_subset(&vouched) {
            satisfied.push(*auditor);
        } else if !vouched.is_empty() {
            partial.push(format!(
                "`{auditor}` vouches for {}",
                vouched
                    .iter()
                    .map(Criterion::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    // A chain never counts beside one of its own sets.
    let alone: Vec<&str> = satisfied.clone();
    satisfied.retain(|a| {
        !a.contains(CHAIN_JOIN) || !a.split(CHAIN_JOIN).any(|part| alone.contains(&part))
    });
    let wanted = policy.sign_offs_required() as usize;
    let needed_text = required
        .iter()
        .map(Criterion::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if satisfied.len() >= wanted {
        let (by_import, by_auditor): (Vec<&str>, Vec<&str>) =
            satisfied.iter().partition(|a| imports.contains(a));
        // Signed evidence is named first; imported evidence says what it is: unsigned, trusted
        // by URL and pin.
        let mut who = Vec::new();
        if !by_auditor.is_empty() {
            who.push(format!("signed off by {}", by_auditor.join(", ")));
        }
        if !by_import.is_empty() {
            who.push(format!(
                "vouched for by the imported set {} (evidence: imported, unsigned)",
                by_import
                    .iter()
                    .map(|i| format!("`{i}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let label = if by_auditor.is_empty() {
            "imported"
        } else {
            "signed"
        };
        v.status = Status::Audited;
        v.reasons.push(reason(
            ReasonCode::Audited,
            Severity::Info,
            format!("{needed_text} {}", who.join("; ")),
            json!({
                "auditors": by_auditor,
                "imports": by_import,
                "evidence": label,
                "criteria": needed_text,
            }),
        ));
        return;
    }
    let exemption = input
        .audit_file
        .exemptions
        .iter()
        .find(|x| x.matches(&p.name, &p.version));
    if let Some(x) = exemption {
        if x.is_live(input.today) {
            v.status = Status::Exempted;
            v.reasons.push(reason(
                ReasonCode::Exempted,
                Severity::Info,
                format!("exempted until {}: {}", x.expires, x.reason),
                json!({ "expires": x.expires, "reason": x.reason }),
            ));
            return;
        }
        v.reasons.push(reason(
            ReasonCode::ExemptionExpired,
            Severity::Warn,
            format!("the exemption expired on {} ({})", x.expires, x.reason),
            json!({ "expired": x.expires }),
        ));
    }
    if auditors.is_empty() {
        let action = policy.unassigned_action();
        v.reasons.push(reason(
            ReasonCode::Unassigned,
            severity_of(action),
            "no auditor in Cargo.audit covers this package".into(),
            serde_json::Value::Null,
        ));
        return;
    }
    let mut message = if wanted == 1 {
        format!("no sign-off for {needed_text} from {}", auditors.join(", "))
    } else {
        format!(
            "{} of {wanted} required sign-offs for {needed_text} (auditors: {})",
            satisfied.len(),
            auditors.join(", ")
        )
    };
    if !partial.is_empty() {
        message.push_str(&format!("; {}", partial.join("; ")));
    }
    v.reasons.push(reason(
        ReasonCode::Unaudited,
        Severity::Deny,
        message,
        json!({ "required": needed_text, "auditors": auditors, "satisfied": satisfied }),
    ));
}
