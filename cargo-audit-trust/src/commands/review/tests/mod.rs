//! The review without a terminal: state changes, and views drawn on a fixed-size test backend
//! compared with reviewed snapshots (`snapshots/*.txt`; `UPDATE_SNAPSHOTS=1` rewrites them, and
//! the diff must then be read before it is committed).

mod code;
mod risk;
mod snapshots;
mod state;

use std::sync::Arc;

use audit_trust_core::gate::Status;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::app::{App, Event, Outcome, Request, update};
use super::diff_view::{DiffFile, DiffKind, LoadedDiff};
use super::queue::{Badge, QueueEntry};
use super::signals::{EntryRisk, RiskRank};

fn entry(name: &str, version: &str, status: Status, blocked: bool) -> QueueEntry {
    QueueEntry {
        name: name.to_owned(),
        version: version.to_owned(),
        status,
        blocked,
        badges: Vec::new(),
        code_lines: Some(42),
        classification: "42 lines of code, no unsafe, leaf".to_owned(),
        reasons: vec![format!("no sign-off of {name} {version} meets `reviewed`")],
        next_step: Some(format!(
            "cargo audit-trust review  (or: sign {name} {version})"
        )),
        auditors: vec!["team".to_owned()],
        signoffs: Vec::new(),
        rejected: Vec::new(),
        advisories: Vec::new(),
        delta_base: None,
        risk: EntryRisk::not_computed("the index gives no publish time (pubtime)"),
        link: vec!["link: none (the manifest names no repository)".to_owned()],
    }
}

/// Four packages in three groups, as `build_queue` orders them.
fn sample_app() -> App {
    let mut leafy = entry("leafy", "2.0.0", Status::Unaudited, true);
    leafy.delta_base = Some("1.0.0".to_owned());
    leafy.badges = vec![Badge::Micro];
    leafy.risk = EntryRisk {
        rank: RiskRank::High,
        lines: vec![
            "warn repository-changed (high): from https://github.com/o/leafy to https://github.com/x/leafy".to_owned(),
            "    leafy@2.0.0 Cargo.toml".to_owned(),
        ],
        not_computed: Vec::new(),
        evidence_files: vec!["Cargo.toml".to_owned()],
        new_dependencies: false,
    };
    leafy.link = vec!["commit page: https://github.com/x/leafy/commit/0a1b2c3d".to_owned()];
    let mut middle = entry("middle", "0.2.0", Status::Advisory, true);
    middle.badges = vec![Badge::Unsafe, Badge::Advisory];
    middle.code_lines = Some(1200);
    middle.advisories = vec!["RUSTSEC-2026-0100: middle is broken".to_owned()];
    middle.reasons = vec!["RUSTSEC-2026-0100: middle is broken (patched: >= 0.3.0)".to_owned()];
    let mut cc = entry("cc", "1.0.0", Status::Exempted, false);
    cc.badges = vec![Badge::BuildScript, Badge::Native];
    cc.code_lines = None;
    cc.reasons = vec!["exempted until 2026-12-31: fixture".to_owned()];
    cc.next_step = None;
    let macros = entry("macros", "0.1.0", Status::Exempted, false);
    App::new(vec![leafy, middle, cc, macros], (80, 24))
}

fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn press(app: &mut App, keys: &str) -> Vec<Request> {
    keys.chars()
        .filter_map(|c| update(app, key(KeyCode::Char(c))))
        .collect()
}

fn text_file(path: &str, status: &str, old: &str, new: &str) -> DiffFile {
    DiffFile {
        path: path.to_owned(),
        status: status.to_owned(),
        changed: status != "identical",
        old: Arc::new(old.as_bytes().to_vec()),
        new: Arc::new(new.as_bytes().to_vec()),
        old_label: format!("repository/{path}"),
        new_label: format!("published/{path}"),
        note: None,
    }
}

fn sample_diff() -> LoadedDiff {
    LoadedDiff {
        kind: DiffKind::Provenance,
        name: "leafy".to_owned(),
        version: "2.0.0".to_owned(),
        title: "leafy 2.0.0 vs git: DIFFERS".to_owned(),
        summary: vec![
            "verdict: DIFFERS".to_owned(),
            "repository: https://github.com/o/leafy".to_owned(),
        ],
        files: vec![
            text_file("Cargo.toml", "identical", "x", "x"),
            text_file(
                "src/lib.rs",
                "modified",
                "pub fn two() -> u8 {\n    2\n}\n",
                "pub fn two() -> u8 {\n    std::process::exit(3)\n}\n",
            ),
            text_file(
                "src/extra.rs",
                "only_in_tarball",
                "",
                "pub fn hidden() {}\n",
            ),
        ],
    }
}

fn loaded(app: &mut App) {
    update(app, Event::Done(Outcome::Diff(Ok(sample_diff()))));
}
