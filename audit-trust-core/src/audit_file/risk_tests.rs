//! `[risk]` is read strictly: unknown keys, signals, actions and durations are errors at their
//! line.

use std::path::Path;

use super::{AuditFile, RiskAction};
use crate::risk::SignalCode;

fn parse(text: &str) -> Result<AuditFile, String> {
    AuditFile::parse(text, Path::new("Cargo.audit")).map_err(|e| e.to_string())
}

#[test]
fn defaults_deny_the_hijack_signs_and_warn_about_the_rest() {
    let f = parse("").expect("empty");
    let r = &f.risk;
    assert_eq!(r.action(SignalCode::Typosquat), RiskAction::Deny);
    assert_eq!(r.action(SignalCode::BuildScriptSpawns), RiskAction::Deny);
    assert_eq!(r.action(SignalCode::NewDependency), RiskAction::Warn);
    assert_eq!(r.action(SignalCode::BuildScriptChanged), RiskAction::Allow);
    assert_eq!(r.min_age_seconds(), 3 * 86_400);
    assert_eq!(r.not_computed_action(), RiskAction::Warn);
}

#[test]
fn reads_actions_thresholds_and_exceptions() {
    let f = parse(
        "[risk]\nmin-age = \"1 week\"\nfew-versions = 5\nnot-computed = \"deny\"\n\n\
         [risk.signals]\nrecently-published = \"deny\"\ntyposquat = \"warn\"\n\n\
         [[risk.exception]]\npackage = \"blobs@2.1.0\"\nsignals = [\"opaque-file\"]\n\
         reason = \"test fixtures\"\nexpires = 2027-03-01\n",
    )
    .expect("valid");
    let r = &f.risk;
    assert_eq!(r.min_age_seconds(), 7 * 86_400);
    assert_eq!(r.few_versions(), 5);
    assert_eq!(r.action(SignalCode::RecentlyPublished), RiskAction::Deny);
    assert_eq!(r.action(SignalCode::Typosquat), RiskAction::Warn);
    let today = crate::time::Date::parse("2027-03-01").expect("date");
    let version = semver::Version::parse("2.1.0").expect("version");
    assert!(
        r.exception("blobs", &version, SignalCode::OpaqueFile, today)
            .is_some()
    );
    assert!(
        r.exception("blobs", &version, SignalCode::Typosquat, today)
            .is_none()
    );
    let later = crate::time::Date::parse("2027-03-02").expect("date");
    assert!(
        r.exception("blobs", &version, SignalCode::OpaqueFile, later)
            .is_none()
    );
}

#[test]
fn mistakes_are_errors_at_their_line() {
    let cases = [
        (
            "[risk]\nmin-ages = \"3 days\"\n",
            "Cargo.audit:2:1: unknown field `min-ages`",
        ),
        (
            "[risk]\n\nmin-age = \"soon\"\n",
            "Cargo.audit:3:11: [risk] min-age `soon` is not a duration",
        ),
        (
            "[risk.signals]\n\ntypo-squat = \"deny\"\n",
            "Cargo.audit:3:1: [risk.signals] `typo-squat` is not a risk signal",
        ),
        (
            "[risk.signals]\ntyposquat = \"block\"\n",
            "Cargo.audit:2:13: unknown variant `block`",
        ),
        (
            "[risk]\nfew-versions = 0\n",
            "Cargo.audit:2:1: [risk] few-versions must be at least 1",
        ),
        (
            "[[risk.exception]]\npackage = \"x@1.0.0\"\nsignals = [\"nope\"]\nreason = \"r\"\nexpires = 2027-01-01\n",
            "`nope` is not a risk signal",
        ),
        (
            "[[risk.exception]]\npackage = \"x\"\nreason = \"r\"\nexpires = 2027-01-01\n",
            "needs `package = \"x@VERSION\"` or a `versions` range",
        ),
        (
            "[[risk.exception]]\npackage = \"x@1.0.0\"\nreason = \"r\"\nexpires = 2027-01-01\nuntil = 1\n",
            "unknown field `until`",
        ),
    ];
    for (text, expected) in cases {
        let err = parse(text).expect_err(text);
        assert!(
            err.contains(expected),
            "{text}\n=> {err}\nexpected {expected}"
        );
    }
}
