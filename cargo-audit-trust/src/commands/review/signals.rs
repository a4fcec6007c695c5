//! What the queue shows of a package's risk signals: the rank it is ordered by and the
//! details pane's lines (code, severity, what the policy does, evidence). The signals are the
//! ones `check` computes (`services::risk::compute`, the core's `risk::gather`); this module
//! only ranks and words them. Every string from a crate or the index is escaped here.

use audit_trust_core::gate::{ReasonCode, Severity, Verdict};
use audit_trust_core::risk::{PackageRisk, RiskReport, SignalCode, SignalEvidence};

use crate::output::escape;

/// How dangerous a package looks, strongest last (the queue sorts it descending).
///
/// A package whose signals could not be computed ranks above one whose signals were all
/// computed and none was raised (nothing is known against it, nothing for it), and below any
/// package with a signal; when the policy denies "not computed", it ranks with the denied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RiskRank {
    /// Every signal was computed and none was raised.
    Clean,
    /// Some or all signals could not be computed, and none that was computed was raised.
    NotComputed,
    Low,
    Medium,
    High,
    /// The policy denies at least one of its signals (it blocks with reason `risk`).
    Deny,
}

impl RiskRank {
    /// The queue's group heading word.
    pub fn label(self) -> &'static str {
        match self {
            RiskRank::Clean => "none",
            RiskRank::NotComputed => "not computed",
            RiskRank::Low => "low",
            RiskRank::Medium => "medium",
            RiskRank::High => "high",
            RiskRank::Deny => "deny",
        }
    }
}

/// The signals `review` could or could not compute for the whole run.
#[derive(Debug, Clone, Copy)]
pub enum RunSignals<'a> {
    Computed(&'a RiskReport),
    /// Why none was computed (`[risk]` allows every signal, a configuration error…).
    NotComputed(&'a str),
}

/// One package's risk, as the queue entry keeps it: terminal-safe lines only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryRisk {
    pub rank: RiskRank,
    /// One line per signal, then one per piece of its evidence (indented).
    pub lines: Vec<String>,
    /// `signals not computed: …` lines; never empty when `rank` is `NotComputed`.
    pub not_computed: Vec<String>,
    /// Escaped paths of this package's own files named in evidence: the diff opens on them
    /// right after the build-time files.
    pub evidence_files: Vec<String>,
    /// Whether the version has dependencies its base had not (`Cargo.toml` is then read early).
    pub new_dependencies: bool,
}

impl EntryRisk {
    /// For a package whose signals were not computed at all, with why.
    pub fn not_computed(why: &str) -> EntryRisk {
        EntryRisk {
            rank: RiskRank::NotComputed,
            lines: Vec::new(),
            not_computed: vec![escape::cell(&format!("signals not computed: {why}"))],
            evidence_files: Vec::new(),
            new_dependencies: false,
        }
    }
}

/// The risk of the package `v` is the verdict of.
pub fn entry_risk(v: &Verdict, source_is_registry: bool, run: RunSignals<'_>) -> EntryRisk {
    let report = match run {
        RunSignals::Computed(report) => report,
        RunSignals::NotComputed(why) => return with_denied(v, EntryRisk::not_computed(why)),
    };
    let Some(risk) = report.get(&v.name, &v.version) else {
        use audit_trust_core::gate::Status;
        let why = if !source_is_registry {
            "not from a registry (signals are read from published crate files and the index)"
        } else {
            match v.status {
                Status::Audited => "signed off for this exact version (the auditor saw it)",
                Status::OtherPlatform => "not built for the project's targets",
                _ => "this version was not looked at",
            }
        };
        return with_denied(v, EntryRisk::not_computed(why));
    };
    with_denied(v, of_package(v, risk))
}

/// A denied "not computed" (`[risk] not-computed = "deny"`) ranks with the denied signals.
fn with_denied(v: &Verdict, mut risk: EntryRisk) -> EntryRisk {
    if denies(v) {
        risk.rank = RiskRank::Deny;
    }
    risk
}

fn denies(v: &Verdict) -> bool {
    v.reasons
        .iter()
        .any(|r| r.code == ReasonCode::Risk && r.severity == Severity::Deny)
}

fn of_package(v: &Verdict, risk: &PackageRisk) -> EntryRisk {
    let spec = format!("{}@{}", risk.name, risk.version);
    let rank = match risk.strongest() {
        Some(audit_trust_core::risk::SignalSeverity::High) => RiskRank::High,
        Some(audit_trust_core::risk::SignalSeverity::Medium) => RiskRank::Medium,
        Some(audit_trust_core::risk::SignalSeverity::Low) => RiskRank::Low,
        None if risk.not_computed.is_empty() => RiskRank::Clean,
        None => RiskRank::NotComputed,
    };
    let mut lines = Vec::new();
    let mut evidence_files: Vec<String> = Vec::new();
    // Strongest first (the core sorts them so), denied before warned at the same severity.
    let mut signals: Vec<_> = risk.signals.iter().collect();
    signals.sort_by_key(|s| {
        (
            std::cmp::Reverse(s.severity),
            action_rank(v, s.code),
            s.code,
        )
    });
    for s in signals {
        lines.push(escape::cell(&format!(
            "{} {} ({}): {}",
            action_word(v, s.code),
            s.code,
            s.severity.as_str(),
            s.message
        )));
        for e in &s.evidence {
            lines.push(format!("    {}", escape::cell(&evidence_text(e))));
            if e.package == spec
                && let Some(file) = &e.file
            {
                let file = escape::cell(file);
                if !evidence_files.contains(&file) {
                    evidence_files.push(file);
                }
            }
        }
    }
    let not_computed = risk
        .not_computed
        .iter()
        .map(|nc| {
            let codes: Vec<&str> = nc.signals.iter().map(|c| c.code()).collect();
            escape::cell(&format!(
                "signals not computed ({}): {}",
                codes.join(", "),
                nc.why
            ))
        })
        .collect();
    EntryRisk {
        rank,
        lines,
        not_computed,
        evidence_files,
        new_dependencies: risk
            .signals
            .iter()
            .any(|s| s.code == SignalCode::NewDependency),
    }
}

/// `deny`, `warn`, `excepted` or `allow`: what `[risk]` did with the signal, read from the
/// gate's reasons (so exceptions count exactly as in `check`).
fn action_word(v: &Verdict, code: SignalCode) -> &'static str {
    match signal_reason(v, code).map(|r| r.severity) {
        Some(Severity::Deny) => "DENY",
        Some(Severity::Warn) => "warn",
        Some(Severity::Info) => "excepted",
        None => "allow",
    }
}

fn action_rank(v: &Verdict, code: SignalCode) -> u8 {
    match signal_reason(v, code).map(|r| r.severity) {
        Some(Severity::Deny) => 0,
        Some(Severity::Warn) => 1,
        Some(Severity::Info) => 2,
        None => 3,
    }
}

fn signal_reason(v: &Verdict, code: SignalCode) -> Option<&audit_trust_core::gate::Reason> {
    v.reasons.iter().find(|r| {
        r.code == ReasonCode::Risk
            && r.details.get("signal").and_then(|s| s.as_str()) == Some(code.code())
    })
}

/// `proc-macro1@0.1.0 build.rs:8 Command::new`.
fn evidence_text(e: &SignalEvidence) -> String {
    let mut text = e.package.clone();
    match (&e.file, e.line) {
        (Some(file), Some(line)) => text.push_str(&format!(" {file}:{line}")),
        (Some(file), None) => text.push_str(&format!(" {file}")),
        _ => {}
    }
    if !e.names.is_empty() {
        text.push_str(&format!(": {}", e.names.join(", ")));
    }
    text
}
