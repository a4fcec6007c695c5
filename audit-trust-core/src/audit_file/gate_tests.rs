//! Parsing of the gate's sections of `Cargo.audit`.

use std::path::Path;

use super::*;
use crate::time::Date;

fn parse(text: &str) -> Result<AuditFile, String> {
    AuditFile::parse(text, Path::new("Cargo.audit")).map_err(|e| e.to_string())
}

fn v(s: &str) -> semver::Version {
    semver::Version::parse(s).expect("version")
}

#[test]
fn defaults_when_absent() {
    let f = parse("").expect("empty is valid");
    assert_eq!(f.policy.required_criteria(), [Criterion::Reviewed]);
    assert_eq!(f.policy.dev_required_criteria(), [Criterion::SourceMatches]);
    assert_eq!(f.policy.unassigned_action(), Action::Deny);
    assert_eq!(f.policy.yanked_action(), Action::Deny);
    assert_eq!(f.policy.informational_action(), Action::Warn);
    assert_eq!(f.policy.sign_offs_required(), 1);
    assert_eq!(f.allowed_sources.registries, ["crates-io"]);
    assert_eq!(f.allowed_sources.git, None);
}

#[test]
fn full_policy_exemptions_ignores_criteria() {
    let f = parse(
        r#"[policy]
criteria = ["safe-to-deploy"]
dev-criteria = ["source-matches"]
targets = ["x86_64-unknown-linux-gnu"]
unassigned = "warn"
yanked = "warn"
informational-advisories = "deny"
sign-offs-required = 2

[criteria.safe-to-deploy]
description = "read and safe to ship"
implies = ["reviewed", "source-matches"]

[[exemption]]
package = "left-pad@1.0.0"
reason = "vendored, replaced next quarter"
expires = 2027-01-31

[[exemption]]
package = "windows-sys"
versions = ">=0.52, <0.62"
reason = "generated bindings"
expires = "2027-06-30"

[[ignore-advisory]]
id = "RUSTSEC-2024-0001"
reason = "not reachable from our code"
expires = 2026-12-31

[allowed-sources]
registries = ["crates-io", "sparse+https://corp.example/index/"]
git = ["https://github.com/my-org/"]

[advisories]
db = "advisory-db"
max-age-days = 30
"#,
    )
    .expect("valid");
    assert_eq!(
        f.policy.required_criteria(),
        [Criterion::Custom("safe-to-deploy".into())]
    );
    assert_eq!(f.policy.sign_offs_required(), 2);
    assert_eq!(f.policy.informational_action(), Action::Deny);
    assert_eq!(f.criteria["safe-to-deploy"].implies.len(), 2);
    let exact = &f.exemptions[0];
    assert!(exact.matches("left-pad", &v("1.0.0")));
    assert!(!exact.matches("left-pad", &v("1.0.1")));
    let today = Date::parse("2027-01-31").expect("date");
    assert!(exact.is_live(today), "the expiry day itself counts");
    assert!(!exact.is_live(Date::parse("2027-02-01").expect("date")));
    let range = &f.exemptions[1];
    assert!(
        range.matches("windows-sys", &v("0.59.0")) && !range.matches("windows-sys", &v("0.48.0"))
    );
    assert_eq!(f.ignored_advisories[0].id, "RUSTSEC-2024-0001");
    assert_eq!(
        f.allowed_sources.git.as_deref(),
        Some(&["https://github.com/my-org/".to_owned()][..])
    );
    assert_eq!(f.advisories.max_age_days, Some(30));
}

#[test]
fn every_mistake_is_an_error_at_its_line() {
    let cases = [
        (
            "[[exemption]]\npackage = \"a@1.0.0\"\nexpires = 2027-01-01\n",
            "Cargo.audit:1:",
            "reason",
        ),
        (
            "[[exemption]]\npackage = \"a@1.0.0\"\nreason = \" \"\nexpires = 2027-01-01\n",
            "Cargo.audit:1:",
            "needs a `reason`",
        ),
        (
            "[[exemption]]\npackage = \"a\"\nreason = \"r\"\nexpires = 2027-01-01\n",
            "Cargo.audit:1:",
            "`versions` range",
        ),
        (
            "[[exemption]]\npackage = \"a@1.0\"\nreason = \"r\"\nexpires = 2027-01-01\n",
            "Cargo.audit:1:",
            "not valid semver",
        ),
        (
            "[[exemption]]\npackage = \"a@1.0.0\"\nreason = \"r\"\nexpires = \"soon\"\n",
            "Cargo.audit:",
            "soon",
        ),
        (
            "\n[[exemption]]\npackage = \"a@1.0.0\"\nreason = \"r\"\nexpires = 2027-01-01\nextra = 1\n",
            "Cargo.audit:",
            "unknown field `extra`",
        ),
        (
            "[[ignore-advisory]]\nid = \"../x\"\nreason = \"r\"\nexpires = 2027-01-01\n",
            "Cargo.audit:1:",
            "not an advisory id",
        ),
        (
            "[policy]\nsign-offs-required = 0\n",
            "Cargo.audit:2:1:",
            "at least 1",
        ),
        ("[policy]\ncriteria = []\n", "Cargo.audit:2:1:", "is empty"),
        (
            "[policy]\ncriteria = [\"safe\"]\n",
            "Cargo.audit:2:1:",
            "`safe` is not defined",
        ),
        (
            "[policy]\nyanked = \"ignore\"\n",
            "Cargo.audit:2:",
            "unknown variant `ignore`",
        ),
        (
            "[policy]\ntargets = [\"x86 64\"]\n",
            "Cargo.audit:2:1:",
            "not a target triple",
        ),
        (
            "[criteria.reviewed]\nimplies = []\n",
            "Cargo.audit:1:1:",
            "redefines a built-in",
        ),
        (
            "[criteria.a]\nimplies = [\"b\"]\n",
            "Cargo.audit:1:1:",
            "implies `b`, which is not defined",
        ),
        (
            "[allowed-sources]\nregistry = []\n",
            "Cargo.audit:2:1:",
            "unknown field `registry`",
        ),
        (
            "[allowed-sources]\nregistries = [\"crates-io\"]\ngit = [\"https://github.com/my-org/?branch=x\"]\n",
            "Cargo.audit:3:1:",
            "[allowed-sources] git: `https://github.com/my-org/?branch=x`: a query or fragment",
        ),
        (
            "[allowed-sources]\ngit = [\"github.com/my-org\"]\n",
            "Cargo.audit:2:1:",
            "not a URL",
        ),
        (
            "[allowed-sources]\ngit = [\"https://github.com/my-org/x%2F..%2F\"]\n",
            "Cargo.audit:2:1:",
            "encodes `/`",
        ),
        (
            "[allowed-sources]\nregistries = [\"https://corp.example/index/\"]\n",
            "Cargo.audit:2:1:",
            "starts with `registry+` or `sparse+`",
        ),
        (
            "[advisories]\nmax-age = 3\n",
            "Cargo.audit:2:1:",
            "unknown field `max-age`",
        ),
    ];
    for (text, position, message) in cases {
        let err = parse(text).expect_err(text);
        assert!(
            err.starts_with(position) && err.contains(message),
            "{text}\n=> {err}"
        );
    }
}
