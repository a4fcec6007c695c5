//! The risk signals from real `.crate` files built here (gzipped tar, as cargo writes them) and
//! read through the safe tarball reader, with hand-made index entries and a fixed clock.

mod base;
mod hostile;
mod scan;
mod signals;

use std::collections::BTreeSet;
use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;

use super::assess::{Base, RiskContext, Thresholds, assess};
use super::facts::{CrateFacts, crate_facts};
use super::{PackageRisk, SignalCode};
use crate::audit_file::RiskPolicy;
use crate::fetch::IndexVersion;
use crate::tarball::{Limits, read_crate};
use crate::time::Timestamp;

pub(super) const NOW: &str = "2026-08-20T12:00:00Z";

pub(super) fn now() -> Timestamp {
    Timestamp::parse(NOW).expect("time")
}

/// A `.crate` of `name-version/` with these files (`(path, contents, mode)`).
pub(super) fn crate_bytes(name: &str, version: &str, files: &[(&str, &[u8], u32)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, contents, mode) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(contents.len() as u64);
        header.set_mode(*mode);
        header.set_entry_type(tar::EntryType::Regular);
        builder
            .append_data(&mut header, format!("{name}-{version}/{path}"), *contents)
            .expect("append");
    }
    let tar = builder.into_inner().expect("tar");
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(&tar).expect("gzip");
    gz.finish().expect("gzip")
}

/// A published `Cargo.toml` with `extra` after the package keys.
pub(super) fn manifest(name: &str, version: &str, extra: &str) -> String {
    format!("[package]\nname = \"{name}\"\nversion = \"{version}\"\nedition = \"2021\"\n{extra}\n")
}

/// Builds the crate file, reads it back through the reader and computes its facts.
pub(super) fn facts_of(name: &str, version: &str, files: &[(&str, &str)]) -> CrateFacts {
    let files: Vec<(&str, &[u8], u32)> = files
        .iter()
        .map(|(p, c)| (*p, c.as_bytes(), 0o644))
        .collect();
    facts_of_bytes(name, version, &files).expect("facts")
}

pub(super) fn facts_of_bytes(
    name: &str,
    version: &str,
    files: &[(&str, &[u8], u32)],
) -> Result<CrateFacts, String> {
    let bytes = crate_bytes(name, version, files);
    let archive =
        read_crate(&bytes, name, version, &Limits::default()).map_err(|e| e.to_string())?;
    crate_facts(&format!("{name}@{version}"), &archive, 16 * 1024)
}

pub(super) fn listed(version: &str, yanked: bool, pubtime: Option<&str>) -> IndexVersion {
    IndexVersion {
        version: semver::Version::parse(version).expect("version"),
        checksum: "a".repeat(64),
        yanked,
        pubtime: pubtime.map(|t| Timestamp::parse(t).expect("time")),
    }
}

pub(super) fn v(text: &str) -> semver::Version {
    semver::Version::parse(text).expect("version")
}

/// A context with the default thresholds at [`NOW`].
pub(super) fn context() -> RiskContext {
    RiskContext {
        now: Some(now()),
        thresholds: Some(Thresholds::from_policy(&RiskPolicy::default(), None)),
        ..RiskContext::default()
    }
}

/// Adds a crate version's facts, its index entry and its base to `ctx`.
pub(super) fn add(ctx: &mut RiskContext, facts: CrateFacts, base: Option<&str>) {
    let (name, version) = facts.spec.split_once('@').expect("spec");
    let base = match base {
        Some(b) => Base::Version {
            version: v(b),
            from: "index",
        },
        None => Base::First,
    };
    ctx.bases.insert(facts.spec.clone(), base);
    ctx.lockfile.push((name.to_owned(), v(version)));
    ctx.facts.insert(facts.spec.clone(), Ok(facts));
}

/// The codes raised.
pub(super) fn codes(risk: &PackageRisk) -> BTreeSet<&'static str> {
    risk.signals.iter().map(|s| s.code.code()).collect()
}

pub(super) fn assess_spec(ctx: &RiskContext, spec: &str) -> PackageRisk {
    let (name, version) = spec.split_once('@').expect("spec");
    assess(ctx, name, &v(version))
}

pub(super) fn signal(risk: &PackageRisk, code: SignalCode) -> &super::Signal {
    risk.signals
        .iter()
        .find(|s| s.code == code)
        .unwrap_or_else(|| panic!("no {code} in {:#?}", risk.signals))
}

#[test]
fn docs_list_every_signal_with_its_description_and_default_in_order() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/risk.md");
    let text = std::fs::read_to_string(path).expect("docs/risk.md is readable");
    let section = text
        .split("## Signals")
        .nth(1)
        .expect("docs/risk.md has a Signals section");
    let rows: Vec<(String, String, String, String)> = section
        .lines()
        .skip_while(|l| !l.starts_with("| code |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|row| {
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            (
                cells[1].trim_matches('`').to_owned(),
                cells[2].to_owned(),
                cells[3].to_owned(),
                cells[4].to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String, String, String)> = SignalCode::ALL
        .iter()
        .map(|c| {
            (
                c.code().to_owned(),
                c.description().to_owned(),
                c.severity().as_str().to_owned(),
                c.default_action().as_str().to_owned(),
            )
        })
        .collect();
    assert_eq!(rows, expected);
}
