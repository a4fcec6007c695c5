//! The one next step `check`, `update` and `suggest` share: which version it names, whether it
//! is audited, and where a semver-crossing requirement lives. The gate's test world (alpha 1.0.0
//! and 1.1.0, beta 2.0.0) with advisories and index entries written by each test.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::suggest::review_targets;
use super::tests::{audit_file, inventory, signoff, sum, today};
use super::update_plan::{PlanInput, plan_updates};
use super::*;
use crate::fetch::IndexVersion;
use crate::inventory::{Declaration, DependencySection};

/// Advisories on alpha, each `(id, patched requirements)`.
fn advisories(dir: &Path, list: &[(&str, &str)]) -> crate::advisories::AdvisoryDatabase {
    let folder = dir.join("crates").join("alpha");
    std::fs::create_dir_all(&folder).expect("mkdir");
    for (id, patched) in list {
        let text = format!(
            "```toml\n[advisory]\nid = \"{id}\"\npackage = \"alpha\"\ndate = \"2026-10-01\"\n\n\
             [versions]\npatched = [{patched}]\n```\n\n# {id} title\n\nText.\n"
        );
        std::fs::write(folder.join(format!("{id}.md")), text).expect("write");
    }
    crate::advisories::AdvisoryDatabase::open(dir).expect("db")
}

/// The index: the locked files, plus alpha's other versions (checksum char per version).
fn index(alpha: &[(&str, char)]) -> IndexReport {
    let mut index = IndexReport::default();
    let listed = |version: &str, checksum: char| IndexVersion {
        version: semver::Version::parse(version).expect("version"),
        checksum: sum(checksum),
        yanked: false,
        pubtime: None,
    };
    for (v, c) in [("1.0.0", 'b'), ("1.1.0", 'a')].iter().chain(alpha) {
        index.insert(CRATES_IO_SOURCE_ID, "alpha", listed(v, *c));
    }
    index.insert(CRATES_IO_SOURCE_ID, "beta", listed("2.0.0", 'c'));
    index
}

struct World {
    inventory: Inventory,
    audit: AuditFile,
    db: crate::advisories::AdvisoryDatabase,
    index: IndexReport,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

impl World {
    fn new(advisory_list: &[(&str, &str)], alpha: &[(&str, char)]) -> World {
        let lock_dir = tempfile::tempdir().expect("dir");
        let db_dir = tempfile::tempdir().expect("dir");
        World {
            inventory: inventory(lock_dir.path()),
            audit: audit_file(""),
            db: advisories(db_dir.path(), advisory_list),
            index: index(alpha),
            _dirs: (lock_dir, db_dir),
        }
    }

    fn input<'a>(&'a self, evidence: &'a [Evidence]) -> GateInput<'a> {
        GateInput {
            inventory: &self.inventory,
            audit_file: &self.audit,
            today: today(),
            evidence,
            rejected: &[],
            advisories: Some(&self.db),
            index: Some(&self.index),
            on_targets: None,
            risk: None,
            licenses: None,
            notes: Vec::new(),
        }
    }

    fn alpha_step(&self, evidence: &[Evidence]) -> NextStep {
        let report = evaluate(&self.input(evidence));
        let alpha = report
            .packages
            .iter()
            .find(|v| v.name == "alpha" && v.version.to_string() == "1.1.0")
            .expect("alpha 1.1.0");
        assert_eq!(alpha.status, Status::Advisory, "{:?}", alpha.reasons);
        alpha
            .next_step
            .clone()
            .expect("a blocked package has a next step")
    }

    fn alpha_id(&self) -> PackageId {
        self.inventory
            .packages
            .iter()
            .position(|p| p.name == "alpha" && p.version.to_string() == "1.1.0")
            .expect("alpha")
    }
}

fn v(text: &str) -> semver::Version {
    semver::Version::parse(text).expect("version")
}

/// h2's case: the oldest advisory is fixed in 1.2.0, a newer one only in 1.4.0. A version is
/// fixed only outside every advisory, so 1.2.0 and 1.3.0 are no answer.
#[test]
fn the_fix_is_outside_every_advisory() {
    let world = World::new(
        &[
            ("RUSTSEC-2026-0001", "\">= 1.2.0\""),
            ("RUSTSEC-2026-0002", "\">= 1.4.0\""),
        ],
        &[
            ("1.2.0", 'd'),
            ("1.3.0", 'e'),
            ("1.4.0", 'f'),
            ("1.5.0", 'g'),
        ],
    );
    // Nobody audited a fix: review the oldest fixed version, from the newest audited below it.
    let evidence = [signoff("team", "alpha", "1.2.0", 'd', &["reviewed"])];
    let step = world.alpha_step(&evidence);
    assert_eq!(
        (step.kind, step.version.clone(), step.delta_from.clone()),
        (StepKind::ReviewFix, Some(v("1.4.0")), Some(v("1.2.0")))
    );
    assert_eq!(
        step.command.as_deref(),
        Some("cargo audit-trust diff alpha 1.2.0 1.4.0")
    );
    assert_eq!(
        step.then.as_deref(),
        Some("cargo audit-trust sign alpha 1.4.0 --criteria reviewed --delta-from 1.2.0")
    );
    assert!(!step.semver_crossing);

    // 1.5.0 is audited: the oldest audited fixed version, and `update` moves there.
    let evidence = [signoff("team", "alpha", "1.5.0", 'g', &["reviewed"])];
    let step = world.alpha_step(&evidence);
    assert_eq!(
        (step.kind, step.version.clone(), step.audited_by.clone()),
        (StepKind::Update, Some(v("1.5.0")), vec!["team".to_owned()])
    );
    assert_eq!(
        step.command.as_deref(),
        Some("cargo audit-trust update -p alpha")
    );
    assert!(step.text.contains("1.5.0"), "{}", step.text);

    // `update`'s plan takes the same step.
    let input = world.input(&evidence);
    let mut blocked = HashMap::new();
    blocked.insert(world.alpha_id(), Status::Advisory);
    let published: HashMap<String, Vec<IndexVersion>> = HashMap::new();
    let plan = plan_updates(
        &input,
        &PlanInput {
            published: &published,
            micro: &HashSet::new(),
            blocked: &blocked,
        },
    );
    let alpha = plan
        .steps
        .iter()
        .find(|s| s.name == "alpha" && s.from == "1.1.0")
        .expect("alpha planned");
    assert_eq!(alpha.to.as_deref(), Some("1.5.0"));
}

/// ring's case: the only fix crosses a semver boundary. `update` never makes that move, so the
/// step names the version, its audit status and the requirement to change, where it is.
#[test]
fn a_semver_crossing_fix_names_the_requirement_to_change() {
    let mut world = World::new(
        &[("RUSTSEC-2026-0003", "\">= 2.0.2\"")],
        &[
            ("1.2.0", 'd'),
            ("2.0.1", 'e'),
            ("2.0.2", 'f'),
            ("2.1.0", 'g'),
        ],
    );
    let id = world.alpha_id();
    world.inventory.declarations.push(Declaration {
        package: id,
        member: "app".into(),
        manifest: world.inventory.root.join("app").join("Cargo.toml"),
        requirement: "^1.1".into(),
        section: DependencySection::Dependencies,
        inherited: false,
        renamed_or_targeted: false,
    });
    let audited = [signoff("team", "alpha", "2.0.2", 'f', &["reviewed"])];
    let step = world.alpha_step(&audited);
    assert_eq!(
        (step.kind, step.version.clone(), step.semver_crossing),
        (StepKind::ChangeRequirement, Some(v("2.0.2")), true)
    );
    assert_eq!(step.audited_by, ["team"]);
    assert_eq!(
        step.command.as_deref(),
        Some("cargo add alpha@2.0.2 --manifest-path app/Cargo.toml")
    );
    assert!(
        step.text
            .contains("app/Cargo.toml [dependencies] (now \"^1.1\")")
            && !step.text.contains("`cargo audit-trust update` (fixed"),
        "{}",
        step.text
    );

    // The plan keeps alpha where it is and carries the same step.
    let input = world.input(&audited);
    let mut blocked = HashMap::new();
    blocked.insert(id, Status::Advisory);
    let plan = plan_updates(
        &input,
        &PlanInput {
            published: &HashMap::new(),
            micro: &HashSet::new(),
            blocked: &blocked,
        },
    );
    let alpha = plan
        .steps
        .iter()
        .find(|s| s.name == "alpha" && s.from == "1.1.0")
        .expect("alpha planned");
    assert_eq!(alpha.to, None);
    assert_eq!(alpha.next.as_ref(), Some(&step));

    // Unaudited: the crossing fix is the next review, and `suggest` lists it first.
    let step = world.alpha_step(&[]);
    assert_eq!(
        (step.kind, step.version.clone(), step.semver_crossing),
        (StepKind::ReviewFix, Some(v("2.0.2")), true)
    );
    assert_eq!(step.declared_in.len(), 1);
    let input = world.input(&[]);
    let report = evaluate(&input);
    let targets = review_targets(&input, &report);
    // alpha 1.0.0 (via beta) and 1.1.0 share the fix: one review.
    let fixes: Vec<_> = targets.iter().filter(|t| t.urgent()).collect();
    assert_eq!(fixes.len(), 1, "{targets:?}");
    assert_eq!(
        fixes[0].fix.as_ref().map(|f| f.version.to_string()),
        Some("2.0.2".to_owned())
    );
}

/// A transitive package no member declares: the step names what brings it in.
#[test]
fn a_crossing_fix_of_a_transitive_package_names_its_dependents() {
    let world = World::new(&[("RUSTSEC-2026-0003", "\">= 2.0.2\"")], &[("2.0.2", 'f')]);
    let evidence = [signoff("team", "alpha", "2.0.2", 'f', &["reviewed"])];
    let report = evaluate(&world.input(&evidence));
    let old = report
        .packages
        .iter()
        .find(|v| v.name == "alpha" && v.version.to_string() == "1.0.0")
        .expect("alpha 1.0.0");
    let step = old.next_step.clone().expect("step");
    assert_eq!(step.kind, StepKind::ChangeRequirement);
    assert_eq!(step.via, ["beta@2.0.0"]);
    assert!(
        step.text.contains("comes through beta@2.0.0"),
        "{}",
        step.text
    );
    assert_eq!(step.command, None);
}

/// No published version escapes every advisory.
#[test]
fn no_fix_says_so() {
    let world = World::new(&[("RUSTSEC-2026-0004", "")], &[("1.2.0", 'd')]);
    let step = world.alpha_step(&[]);
    assert_eq!((step.kind, step.version), (StepKind::NoFix, None));
    assert!(step.text.contains("[[ignore-advisory]]"), "{}", step.text);
}
