//! From facts to signals: a pure function of what the caller gathered (crate facts, index
//! entries, the lockfile's names, the base of each version, the clock).

use std::collections::{BTreeSet, HashMap};

use super::build_scan::{Site, SiteKind};
use super::facts::CrateFacts;
use super::{NotComputed, PackageRisk, Signal, SignalCode, SignalEvidence};
use crate::audit_file::RiskPolicy;
use crate::fetch::IndexVersion;
use crate::time::Timestamp;

/// The numbers the signals are computed with (from `[risk]`, see `docs/risk.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    pub min_age_seconds: i64,
    pub young_crate_days: u32,
    pub few_versions: u32,
    pub unsafe_increase: u64,
    pub yanked_predecessors: u32,
}

impl Thresholds {
    /// `cargo_min_age`: cargo's own `min-publish-age`, in seconds, when configured; the
    /// stricter of the two counts.
    pub fn from_policy(policy: &RiskPolicy, cargo_min_age: Option<i64>) -> Thresholds {
        Thresholds {
            min_age_seconds: policy.min_age_seconds().max(cargo_min_age.unwrap_or(0)),
            young_crate_days: policy.young_crate_days(),
            few_versions: policy.few_versions(),
            unsafe_increase: policy.unsafe_increase(),
            yanked_predecessors: policy.yanked_predecessors(),
        }
    }
}

/// What a version is compared with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base {
    /// The first published version: everything in it is new.
    First,
    /// This earlier version; `from` is `lockfile` or `index`.
    Version {
        version: semver::Version,
        from: &'static str,
    },
    /// No base could be chosen (the index could not be read); the reason.
    Unknown(String),
}

/// Everything [`assess`] reads. Keys: facts by `name@version`, index entries by crate name,
/// bases by `name@version`.
#[derive(Debug, Default)]
pub struct RiskContext {
    pub now: Option<Timestamp>,
    pub thresholds: Option<Thresholds>,
    pub facts: HashMap<String, Result<CrateFacts, String>>,
    pub index: HashMap<String, Result<Vec<IndexVersion>, String>>,
    /// Every registry package of the lockfile: `(name, version)`.
    pub lockfile: Vec<(String, semver::Version)>,
    pub bases: HashMap<String, Base>,
}

/// Signals computed from the tarballs (everything but the index's).
const TARBALL_SIGNALS: [SignalCode; 15] = [
    SignalCode::NewDependency,
    SignalCode::Typosquat,
    SignalCode::YoungCrate,
    SignalCode::FewVersions,
    SignalCode::NoRepository,
    SignalCode::BuildScriptAdded,
    SignalCode::BuildScriptChanged,
    SignalCode::ProcMacroAdded,
    SignalCode::NativeAdded,
    SignalCode::BuildScriptSpawns,
    SignalCode::BuildScriptNetwork,
    SignalCode::BuildScriptEnv,
    SignalCode::OpaqueFile,
    SignalCode::UnsafeIncrease,
    SignalCode::RepositoryChanged,
];

/// The signals of `name@version` relative to its base in `ctx`.
pub fn assess(ctx: &RiskContext, name: &str, version: &semver::Version) -> PackageRisk {
    let spec = format!("{name}@{version}");
    let base = ctx
        .bases
        .get(&spec)
        .cloned()
        .unwrap_or_else(|| Base::Unknown("no base version was looked up".into()));
    let mut out = PackageRisk {
        name: name.to_owned(),
        version: version.clone(),
        base: match &base {
            Base::Version { version, .. } => Some(version.clone()),
            _ => None,
        },
        base_from: match &base {
            Base::Version { from, .. } => from,
            _ => "none",
        },
        signals: Vec::new(),
        not_computed: Vec::new(),
    };
    index_signals(ctx, name, version, &spec, &mut out);
    let new = match ctx.facts.get(&spec) {
        Some(Ok(facts)) => facts,
        Some(Err(why)) => return not_computed(out, &TARBALL_SIGNALS, why),
        None => return not_computed(out, &TARBALL_SIGNALS, "its crate file was not read"),
    };
    let empty = CrateFacts::default();
    let base_facts = match &base {
        Base::First => &empty,
        Base::Version { version: v, .. } => match ctx.facts.get(&format!("{name}@{v}")) {
            Some(Ok(f)) => f,
            Some(Err(why)) => {
                return not_computed(out, &TARBALL_SIGNALS, &format!("base {name}@{v}: {why}"));
            }
            None => {
                return not_computed(
                    out,
                    &TARBALL_SIGNALS,
                    &format!("base {name}@{v} was not read"),
                );
            }
        },
        Base::Unknown(why) => return not_computed(out, &TARBALL_SIGNALS, why),
    };
    let first = base == Base::First;
    super::new_deps::dependency_signals(ctx, name, new, base_facts, &mut out);
    own_signals(new, base_facts, first, ctx, &mut out);
    out.signals = merged(std::mem::take(&mut out.signals));
    out.signals.sort_by(|a, b| {
        (std::cmp::Reverse(a.severity), a.code).cmp(&(std::cmp::Reverse(b.severity), b.code))
    });
    out
}

/// One signal per code: the evidence of several findings of one code is kept together.
fn merged(signals: Vec<Signal>) -> Vec<Signal> {
    let mut out: Vec<Signal> = Vec::new();
    for s in signals {
        match out.iter_mut().find(|o| o.code == s.code) {
            Some(o) => {
                o.message = format!("{}; {}", o.message, s.message);
                o.evidence.extend(s.evidence);
            }
            None => out.push(s),
        }
    }
    out
}

fn not_computed(mut out: PackageRisk, codes: &[SignalCode], why: &str) -> PackageRisk {
    out.not_computed.push(NotComputed {
        signals: codes.to_vec(),
        why: why.to_owned(),
    });
    out
}

pub(super) fn signal(code: SignalCode, message: String, evidence: Vec<SignalEvidence>) -> Signal {
    Signal {
        code,
        severity: code.severity(),
        message,
        evidence,
    }
}

pub(super) fn evidence(package: &str, names: Vec<String>) -> SignalEvidence {
    SignalEvidence {
        package: package.to_owned(),
        file: None,
        line: None,
        names,
    }
}

fn index_signals(
    ctx: &RiskContext,
    name: &str,
    version: &semver::Version,
    spec: &str,
    out: &mut PackageRisk,
) {
    let index_codes = [
        SignalCode::RecentlyPublished,
        SignalCode::YankedPredecessors,
    ];
    let versions = match ctx.index.get(name) {
        Some(Ok(v)) => v,
        Some(Err(why)) => {
            out.not_computed.push(NotComputed {
                signals: index_codes.to_vec(),
                why: why.clone(),
            });
            return;
        }
        None => {
            out.not_computed.push(NotComputed {
                signals: index_codes.to_vec(),
                why: "its index entry was not read".into(),
            });
            return;
        }
    };
    let (Some(now), Some(t)) = (ctx.now, ctx.thresholds) else {
        return;
    };
    match versions.iter().find(|v| &v.version == version) {
        Some(IndexVersion {
            pubtime: Some(at), ..
        }) => {
            let age = now.0 - at.0;
            if age < t.min_age_seconds {
                out.signals.push(signal(
                    SignalCode::RecentlyPublished,
                    format!(
                        "published {} ago ({at}), younger than the minimum age of {}",
                        duration_words(age),
                        duration_words(t.min_age_seconds)
                    ),
                    vec![evidence(spec, vec![at.to_string()])],
                ));
            }
        }
        _ => out.not_computed.push(NotComputed {
            signals: vec![SignalCode::RecentlyPublished],
            why: "the index gives no publish time (pubtime) for this version".into(),
        }),
    }
    // The index does not say when a version was yanked: "recently" is read as "the versions
    // right before this one", the shape of the arrayref lure.
    let mut earlier: Vec<&IndexVersion> = versions
        .iter()
        .filter(|v| v.version < *version && v.version.pre.is_empty())
        .collect();
    earlier.sort_by(|a, b| b.version.cmp(&a.version));
    let yanked: Vec<String> = earlier
        .iter()
        .take_while(|v| v.yanked)
        .map(|v| v.version.to_string())
        .collect();
    if yanked.len() >= t.yanked_predecessors as usize {
        out.signals.push(signal(
            SignalCode::YankedPredecessors,
            format!(
                "the {} versions right before this one are yanked ({}): if this release is what made them look bad, the yanked ones may be the safe ones",
                yanked.len(),
                yanked.join(", ")
            ),
            vec![evidence(spec, yanked)],
        ));
    }
}

pub(super) fn duration_words(seconds: i64) -> String {
    let s = seconds.max(0);
    if s < 3_600 {
        format!("{} minutes", s / 60)
    } else if s < 2 * 86_400 {
        format!("{} hours", s / 3_600)
    } else {
        format!("{} days", s / 86_400)
    }
}

pub(super) fn site_evidence(package: &str, site: &Site) -> SignalEvidence {
    SignalEvidence {
        package: package.to_owned(),
        file: Some(site.file.clone()),
        line: Some(site.line),
        names: vec![site.name.clone()],
    }
}

/// One signal per kind of site, with every site as evidence.
pub(super) fn push_site_signals(
    sites: Vec<(SiteKind, SignalEvidence)>,
    whose: &str,
    out: &mut PackageRisk,
) {
    for (kind, code, verb) in [
        (
            SiteKind::Spawn,
            SignalCode::BuildScriptSpawns,
            "spawns processes",
        ),
        (
            SiteKind::Network,
            SignalCode::BuildScriptNetwork,
            "uses the network",
        ),
        (
            SiteKind::Env,
            SignalCode::BuildScriptEnv,
            "reads secrets from the environment",
        ),
    ] {
        let found: Vec<SignalEvidence> = sites
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, e)| e.clone())
            .collect();
        if found.is_empty() {
            continue;
        }
        let calls: BTreeSet<String> = found.iter().flat_map(|e| e.names.clone()).collect();
        let message = format!(
            "{whose} newly {verb}: {}",
            calls.into_iter().collect::<Vec<_>>().join(", ")
        );
        // Several sources of one code are merged into one signal by `merged`.
        out.signals.push(signal(code, message, found));
    }
}

fn own_signals(
    new: &CrateFacts,
    base: &CrateFacts,
    first: bool,
    ctx: &RiskContext,
    out: &mut PackageRisk,
) {
    let spec = &new.spec;
    let file_evidence = |file: &str, names: Vec<String>| SignalEvidence {
        package: spec.clone(),
        file: Some(file.to_owned()),
        line: None,
        names,
    };
    if new.proc_macro && !base.proc_macro {
        out.signals.push(signal(
            SignalCode::ProcMacroAdded,
            "the package is a proc-macro (it runs in the compiler); the base was not".into(),
            vec![file_evidence("Cargo.toml", vec!["proc-macro".into()])],
        ));
    }
    match (&new.build_script_digest, &base.build_script_digest) {
        (Some(_), None) => out.signals.push(signal(
            SignalCode::BuildScriptAdded,
            format!("a build script was added: {}", new.build_scripts.join(", ")),
            new.build_scripts
                .iter()
                .map(|b| file_evidence(b, Vec::new()))
                .collect(),
        )),
        (Some(a), Some(b)) if a != b => out.signals.push(signal(
            SignalCode::BuildScriptChanged,
            format!("the build script changed: {}", new.build_scripts.join(", ")),
            new.build_scripts
                .iter()
                .map(|b| file_evidence(b, Vec::new()))
                .collect(),
        )),
        _ => {}
    }
    let mut native: Vec<String> = new
        .native_build_deps
        .difference(&base.native_build_deps)
        .cloned()
        .collect();
    if let Some(links) = &new.links
        && base.links.is_none()
    {
        native.push(format!("links = {links}"));
    }
    if !native.is_empty() {
        out.signals.push(signal(
            SignalCode::NativeAdded,
            format!("new native code: {}", native.join(", ")),
            vec![file_evidence("Cargo.toml", native)],
        ));
    }
    let base_sites: BTreeSet<(SiteKind, &str)> = base
        .build_time_sites
        .iter()
        .map(|s| (s.kind, s.name.as_str()))
        .collect();
    let sites: Vec<(SiteKind, SignalEvidence)> = new
        .build_time_sites
        .iter()
        .filter(|s| !base_sites.contains(&(s.kind, s.name.as_str())))
        .map(|s| (s.kind, site_evidence(spec, s)))
        .collect();
    push_site_signals(sites, "its build-time code", out);
    // An opaque file is new when the base had none at that path nor in that folder: import
    // libraries and data files renamed for each release (`lib/windows.0.48.5.lib`) are the
    // same kind of content in the same place, not something new to read.
    let folder = |path: &str| path.rsplit_once('/').map_or("", |(dir, _)| dir).to_owned();
    let base_opaque: BTreeSet<&str> = base.opaque.iter().map(|o| o.path.as_str()).collect();
    let base_folders: BTreeSet<String> = base.opaque.iter().map(|o| folder(&o.path)).collect();
    let opaque: Vec<SignalEvidence> = new
        .opaque
        .iter()
        .filter(|o| {
            !base_opaque.contains(o.path.as_str()) && !base_folders.contains(&folder(&o.path))
        })
        .map(|o| file_evidence(&o.path, vec![o.why.clone()]))
        .collect();
    if !opaque.is_empty() {
        out.signals.push(signal(
            SignalCode::OpaqueFile,
            format!(
                "files nobody can read were added: {}",
                opaque
                    .iter()
                    .filter_map(|e| e.file.clone())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            opaque,
        ));
    }
    let threshold = ctx.thresholds.map_or(u64::MAX, |t| t.unsafe_increase);
    let increase = new.unsafe_total.saturating_sub(base.unsafe_total);
    if increase > threshold {
        out.signals.push(signal(
            SignalCode::UnsafeIncrease,
            format!(
                "unsafe constructs went from {} to {} (+{increase})",
                base.unsafe_total, new.unsafe_total
            ),
            vec![evidence(
                spec,
                vec![base.unsafe_total.to_string(), new.unsafe_total.to_string()],
            )],
        ));
    }
    if !first
        && let Some(before) = &base.repository
        && new.repository.as_deref().map(normalize_repository) != Some(normalize_repository(before))
    {
        let after = new.repository.clone().unwrap_or_else(|| "(none)".into());
        out.signals.push(signal(
            SignalCode::RepositoryChanged,
            format!("the repository changed from {before} to {after}"),
            vec![file_evidence("Cargo.toml", vec![before.clone(), after])],
        ));
    }
}

/// `https://GitHub.com/o/r.git/` and `https://github.com/o/r` are the same repository.
fn normalize_repository(url: &str) -> String {
    let mut u = url.trim().trim_end_matches('/').to_ascii_lowercase();
    if let Some(stripped) = u.strip_suffix(".git") {
        u = stripped.to_owned();
    }
    u.replace("http://", "https://").replace("://www.", "://")
}
