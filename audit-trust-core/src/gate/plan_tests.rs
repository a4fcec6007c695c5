//! `update`'s plan and `suggest`'s delta bases from hand-made inputs (the gate's test world:
//! alpha 1.0.0 and 1.1.0, beta 2.0.0 in the lockfile).

use std::collections::{HashMap, HashSet};

use super::tests::{audit_file, delta, inventory, signoff, sum, today};
use super::update_plan::{PlanInput, plan_updates};
use super::*;
use crate::fetch::IndexVersion;

fn published(versions: &[(&str, char)]) -> Vec<IndexVersion> {
    versions
        .iter()
        .map(|(v, c)| IndexVersion {
            version: semver::Version::parse(v).expect("version"),
            checksum: sum(*c),
            yanked: false,
            pubtime: None,
        })
        .collect()
}

fn plan(evidence: &[Evidence], alpha: &[(&str, char)]) -> update_plan::UpdatePlan {
    let dir = tempfile::tempdir().expect("dir");
    let inv = inventory(dir.path());
    let audit = audit_file("");
    let input = GateInput {
        inventory: &inv,
        audit_file: &audit,
        today: today(),
        evidence,
        rejected: &[],
        advisories: None,
        index: None,
        on_targets: None,
        risk: None,
        licenses: None,
        notes: Vec::new(),
    };
    let mut versions = HashMap::new();
    versions.insert("alpha".to_owned(), published(alpha));
    plan_updates(
        &input,
        &PlanInput {
            published: &versions,
            micro: &HashSet::new(),
            blocked: &HashMap::new(),
        },
    )
}

#[test]
fn a_delta_chain_to_a_full_sign_off_makes_a_target() {
    // alpha 1.2.0 ('d') is reviewed as a delta from 1.1.0 ('a'), which has a full sign-off.
    let evidence = [
        signoff("team", "alpha", "1.1.0", 'a', &["reviewed"]),
        delta("team", "1.2.0", 'd', "1.1.0", 'a', &["reviewed"]),
    ];
    let alpha = [
        ("1.0.0", 'b'),
        ("1.1.0", 'a'),
        ("1.2.0", 'd'),
        ("1.3.0", 'e'),
    ];
    let p = plan(&evidence, &alpha);
    let moves: Vec<_> = p
        .moves()
        .map(|s| (s.from.as_str(), s.to.as_deref()))
        .collect();
    // Both locked alpha versions go to 1.2.0; 1.3.0 is not audited.
    assert_eq!(moves, [("1.0.0", Some("1.2.0")), ("1.1.0", Some("1.2.0"))]);
}

#[test]
fn a_broken_chain_or_a_flag_is_never_a_target() {
    // The delta's base checksum is not the audited file: the chain is broken.
    let broken = [
        signoff("team", "alpha", "1.1.0", 'a', &["reviewed"]),
        delta("team", "1.2.0", 'd', "1.1.0", 'z', &["reviewed"]),
    ];
    let alpha = [("1.1.0", 'a'), ("1.2.0", 'd')];
    assert_eq!(
        plan(&broken, &alpha).moves().count(),
        1,
        "only 1.0.0 -> 1.1.0"
    );
    let mut flag = signoff("team", "alpha", "1.2.0", 'd', &[]);
    flag.flag = Some("backdoor".into());
    let flagged = [signoff("team", "alpha", "1.2.0", 'd', &["reviewed"]), flag];
    assert_eq!(plan(&flagged, &alpha).moves().count(), 0);
}
