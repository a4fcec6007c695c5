//! The review ranked by risk, without a terminal: the queue's order from the gate's verdicts
//! and the core's signals, the details' lines (escaped), the order a diff's files are read in,
//! and the repository link.

use std::collections::HashMap;

use audit_trust_core::gate::{GateReport, Reason, ReasonCode, Severity, Status, Summary, Verdict};
use audit_trust_core::report::PackageReport;
use audit_trust_core::risk::{
    NotComputed, PackageRisk, RiskReport, Signal, SignalCode, SignalEvidence,
};

use crate::commands::review::file_order::{
    BuildTime, Candidate, FileFocus, file_rank, order_by_risk,
};
use crate::commands::review::link::repository_link;
use crate::commands::review::queue::{QueueEntry, QueueInput, build_queue};
use crate::commands::review::signals::{RiskRank, RunSignals};

fn v(text: &str) -> semver::Version {
    semver::Version::parse(text).expect("version")
}

fn verdict(id: usize, name: &str, status: Status, blocked: bool, reasons: Vec<Reason>) -> Verdict {
    Verdict {
        id,
        name: name.to_owned(),
        version: v("1.0.1"),
        source: "registry",
        status,
        blocked,
        reasons,
        next_step: None,
        introduced: None,
    }
}

/// The reason `check`'s gate gives for a signal under `[risk]`'s action `severity`.
fn risk_reason(code: SignalCode, severity: Severity) -> Reason {
    Reason {
        code: ReasonCode::Risk,
        severity,
        message: format!("[{code}] found"),
        details: serde_json::json!({ "signal": code }),
    }
}

fn unaudited() -> Reason {
    Reason {
        code: ReasonCode::Unaudited,
        severity: Severity::Deny,
        message: "no sign-off".into(),
        details: serde_json::Value::Null,
    }
}

fn package_risk(name: &str, signals: Vec<Signal>, not_computed: Vec<NotComputed>) -> PackageRisk {
    PackageRisk {
        name: name.to_owned(),
        version: v("1.0.1"),
        base: Some(v("1.0.0")),
        base_from: "index",
        signals,
        not_computed,
    }
}

fn signal(code: SignalCode, evidence: Vec<SignalEvidence>) -> Signal {
    Signal {
        code,
        severity: code.severity(),
        message: format!("{code} seen"),
        evidence,
    }
}

fn site(package: &str, file: &str, line: usize, name: &str) -> SignalEvidence {
    SignalEvidence {
        package: package.to_owned(),
        file: Some(file.to_owned()),
        line: Some(line),
        names: vec![name.to_owned()],
    }
}

fn classified(id: usize, name: &str, lines: u64) -> PackageReport {
    PackageReport {
        id,
        name: name.to_owned(),
        version: v("1.0.1"),
        source: "crates.io",
        source_id: None,
        checksum: None,
        code_lines: Some(lines),
        all_rs_lines: Some(lines),
        unsafe_usage: None,
        uses_unsafe: Some(false),
        leaf: true,
        micro: Some(false),
        build_script: Some(false),
        proc_macro: Some(false),
        native: Some(false),
        links: None,
        direct: true,
        duplicate: false,
        dev_only: None,
        workspace_member: false,
        dependencies: Vec::new(),
    }
}

fn queue(verdicts: Vec<Verdict>, risk: &RiskReport, sizes: &[PackageReport]) -> Vec<QueueEntry> {
    let report = GateReport {
        date: audit_trust_core::time::Date::parse("2026-08-20").expect("date"),
        packages: verdicts,
        summary: Summary::default(),
        advisory_db: None,
        notes: Vec::new(),
        expiring: Vec::new(),
        change: None,
    };
    build_queue(&QueueInput {
        report: &report,
        classified: sizes,
        audit_file: &audit_trust_core::audit_file::AuditFile::default(),
        evidence: &[],
        rejected: &[],
        signals: RunSignals::Computed(risk),
        links: &HashMap::new(),
    })
}

#[test]
fn the_queue_puts_denied_signals_first_then_severity_then_not_computed_then_size() {
    let mut risk = RiskReport::default();
    let spawn = site("squat@1.0.1", "build.rs", 8, "Command::new");
    risk.insert(package_risk(
        "hijacked",
        vec![
            signal(SignalCode::NewDependency, vec![]),
            signal(SignalCode::BuildScriptSpawns, vec![spawn]),
        ],
        vec![],
    ));
    risk.insert(package_risk(
        "moved",
        vec![signal(SignalCode::RepositoryChanged, vec![])],
        vec![],
    ));
    risk.insert(package_risk(
        "fresh",
        vec![signal(SignalCode::RecentlyPublished, vec![])],
        vec![],
    ));
    for name in ["big", "small"] {
        risk.insert(package_risk(
            name,
            vec![],
            vec![NotComputed {
                signals: vec![SignalCode::RecentlyPublished],
                why: "the index gives no publish time (pubtime)".into(),
            }],
        ));
    }
    risk.insert(package_risk("quiet", vec![], vec![]));
    let verdicts = vec![
        verdict(0, "quiet", Status::Unaudited, true, vec![unaudited()]),
        verdict(1, "big", Status::Unaudited, true, vec![unaudited()]),
        verdict(2, "small", Status::Unaudited, true, vec![unaudited()]),
        // A high signal the policy only warns about, on a package that passes.
        verdict(
            3,
            "moved",
            Status::Exempted,
            false,
            vec![risk_reason(SignalCode::RepositoryChanged, Severity::Warn)],
        ),
        verdict(4, "fresh", Status::Unaudited, true, vec![unaudited()]),
        verdict(
            5,
            "hijacked",
            Status::Risk,
            true,
            vec![
                risk_reason(SignalCode::BuildScriptSpawns, Severity::Deny),
                risk_reason(SignalCode::NewDependency, Severity::Warn),
            ],
        ),
        // Not from a registry: nothing computed for it, and it says so.
        Verdict {
            source: "git",
            ..verdict(6, "forked", Status::Unaudited, true, vec![unaudited()])
        },
    ];
    let sizes = [classified(1, "big", 9_000), classified(2, "small", 40)];
    let entries = queue(verdicts, &risk, &sizes);
    let order: Vec<(&str, RiskRank)> = entries
        .iter()
        .map(|e| (e.name.as_str(), e.risk.rank))
        .collect();
    assert_eq!(
        order,
        [
            ("hijacked", RiskRank::Deny),
            ("moved", RiskRank::High),
            ("fresh", RiskRank::Medium),
            // Not computed ranks below every signal and above clean; the smallest first.
            ("small", RiskRank::NotComputed),
            ("big", RiskRank::NotComputed),
            ("forked", RiskRank::NotComputed),
            ("quiet", RiskRank::Clean),
        ]
    );
    let hijacked = &entries[0];
    assert_eq!(
        hijacked.risk.lines,
        [
            "DENY build-script-spawns (high): build-script-spawns seen",
            "    squat@1.0.1 build.rs:8: Command::new",
            "warn new-dependency (low): new-dependency seen",
        ]
    );
    assert!(hijacked.risk.new_dependencies);
    assert!(
        hijacked.reasons.is_empty(),
        "signals are listed once, under the signals: {:?}",
        hijacked.reasons
    );
    assert!(
        hijacked.risk.evidence_files.is_empty(),
        "evidence in another package's files is not this package's file"
    );
    let forked = &entries[5];
    assert_eq!(
        forked.risk.not_computed,
        [
            "signals not computed: not from a registry (signals are read from published crate files and the index)"
        ]
    );
    assert_eq!(
        entries[3].risk.not_computed,
        ["signals not computed (recently-published): the index gives no publish time (pubtime)"]
    );
}

#[test]
fn a_run_without_signals_shows_every_package_as_not_computed_and_a_denial_still_ranks_first() {
    let report = GateReport {
        date: audit_trust_core::time::Date::parse("2026-08-20").expect("date"),
        packages: vec![
            verdict(0, "plain", Status::Unaudited, true, vec![unaudited()]),
            verdict(
                1,
                "unread",
                Status::Risk,
                true,
                // `[risk] not-computed = "deny"`.
                vec![Reason {
                    code: ReasonCode::Risk,
                    severity: Severity::Deny,
                    message: "risk signals not computed for this version".into(),
                    details: serde_json::json!({ "not-computed": "all" }),
                }],
            ),
        ],
        summary: Summary::default(),
        advisory_db: None,
        notes: Vec::new(),
        expiring: Vec::new(),
        change: None,
    };
    let entries = build_queue(&QueueInput {
        report: &report,
        classified: &[],
        audit_file: &audit_trust_core::audit_file::AuditFile::default(),
        evidence: &[],
        rejected: &[],
        signals: RunSignals::NotComputed("[risk] in Cargo.audit allows every signal"),
        links: &HashMap::new(),
    });
    let order: Vec<(&str, RiskRank)> = entries
        .iter()
        .map(|e| (e.name.as_str(), e.risk.rank))
        .collect();
    assert_eq!(
        order,
        [("unread", RiskRank::Deny), ("plain", RiskRank::NotComputed)]
    );
    assert_eq!(
        entries[1].risk.not_computed,
        ["signals not computed: [risk] in Cargo.audit allows every signal"]
    );
}

#[test]
fn evidence_from_a_crate_is_escaped_and_its_own_files_are_kept_for_the_diff() {
    let mut risk = RiskReport::default();
    risk.insert(package_risk(
        "evil",
        vec![signal(
            SignalCode::BuildScriptEnv,
            vec![site(
                "evil@1.0.1",
                "build/\u{1b}[2Jx.rs",
                3,
                "env::var(\"GH_TOKEN\u{202e}\")",
            )],
        )],
        vec![],
    ));
    let verdicts = vec![verdict(
        0,
        "evil",
        Status::Risk,
        true,
        vec![risk_reason(SignalCode::BuildScriptEnv, Severity::Deny)],
    )];
    let entries = queue(verdicts, &risk, &[]);
    let lines = &entries[0].risk.lines;
    assert_eq!(
        lines[1],
        "    evil@1.0.1 build/\\u{1b}[2Jx.rs:3: env::var(\"GH_TOKEN\\u{202e}\")"
    );
    assert!(lines.iter().all(|l| !l.chars().any(char::is_control)));
    assert_eq!(entries[0].risk.evidence_files, ["build/\\u{1b}[2Jx.rs"]);
}

fn candidate<'a>(path: &'a str, old: &'a str, new: &'a str) -> Candidate<'a> {
    Candidate {
        path,
        old: old.as_bytes(),
        new: new.as_bytes(),
    }
}

#[test]
fn a_diff_reads_the_build_script_first_then_macros_manifest_evidence_and_new_unsafe() {
    let files = [
        ("README.md", "", "hello"),
        (
            "src/lib.rs",
            "pub fn a() {}",
            "pub fn a() {} // unsafe in a comment",
        ),
        (
            "Cargo.toml",
            "[package]",
            "[package]\n[dependencies]\nsquat = \"1\"",
        ),
        ("src/raw.rs", "fn a() {}", "fn a() { unsafe { x() } }"),
        ("src/net.rs", "", "fn f() {}"),
        ("build.rs", "", "fn main() {}"),
    ];
    let build = BuildTime {
        build_scripts: vec!["build.rs".into()],
        proc_macro: false,
    };
    let focus = FileFocus {
        new_dependencies: true,
        evidence_files: vec!["src/net.rs".into()],
    };
    let mut ordered = files.to_vec();
    order_by_risk(&mut ordered, |(p, o, n)| {
        file_rank(&candidate(p, o, n), &build, &focus)
    });
    let paths: Vec<&str> = ordered.iter().map(|(p, _, _)| *p).collect();
    assert_eq!(
        paths,
        [
            "build.rs",
            "Cargo.toml",
            "src/raw.rs",
            "src/net.rs",
            "README.md",
            "src/lib.rs"
        ],
        "riskiest first; the rest keeps its order"
    );
    // Without new dependencies the manifest is an ordinary file; a proc-macro's sources come
    // right after the build script.
    let macro_crate = BuildTime {
        build_scripts: Vec::new(),
        proc_macro: true,
    };
    let calm = FileFocus::default();
    assert_eq!(
        file_rank(&candidate("Cargo.toml", "", "x"), &macro_crate, &calm),
        4
    );
    assert_eq!(
        file_rank(&candidate("src/lib.rs", "", "x"), &macro_crate, &calm),
        1
    );
    assert_eq!(
        file_rank(&candidate("tests/t.rs", "", "x"), &macro_crate, &calm),
        4
    );
}

#[test]
fn the_link_is_the_commit_page_else_the_tag_page_and_only_plain_http_urls() {
    let sha = "0123456789abcdef0123456789abcdef01234567";
    let link = |repository: &str, commit: Option<&str>, version: &str| {
        repository_link(repository, commit, version).unwrap_or_default()
    };
    assert_eq!(
        link("https://github.com/o/r.git/", Some(sha), "1.0.0"),
        [format!("commit page: https://github.com/o/r/commit/{sha}")]
    );
    assert_eq!(
        link("https://gitlab.com/g/r", Some(sha), "1.0.0"),
        [format!(
            "commit page: https://gitlab.com/g/r/-/commit/{sha}"
        )]
    );
    assert_eq!(
        link("https://github.com/o/r", None, "0.3.10"),
        [
            "tag page: https://github.com/o/r/releases/tag/v0.3.10",
            "  (no commit recorded: the tag v0.3.10 is assumed)"
        ]
    );
    assert_eq!(
        link("http://git.example/r", Some(sha), "1.0.0"),
        [
            "repository: http://git.example/r".to_owned(),
            format!("  (commit {sha})")
        ]
    );
    for refused in [
        "git@github.com:o/r.git",
        "ssh://github.com/o/r",
        "javascript:alert(1)",
        "https://github.com/o/r\u{1b}]8;;https://evil\u{7}",
        "https://user:pw@github.com/o/r",
        "https://github.com/o/r?x=1",
        "https:// github.com/o/r",
        "https:///o/r",
    ] {
        assert_eq!(
            repository_link(refused, Some(sha), "1.0.0"),
            None,
            "{refused}"
        );
    }
}
