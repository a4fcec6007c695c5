//! The signals of the dependencies a version newly brings in: look-alike names, young or small
//! crates, no repository, proc-macros, and the build-time calls they newly make.

use std::collections::BTreeSet;

use super::assess::{
    Base, RiskContext, duration_words, evidence, push_site_signals, signal, site_evidence,
};
use super::build_scan::{Site, SiteKind, is_network_crate, normalize};
use super::facts::CrateFacts;
use super::typosquat::resembles;
use super::{NotComputed, PackageRisk, SignalCode, SignalEvidence};

/// The lockfile's package of this crate name (any spelling of `-`/`_`), newest first.
fn locked<'a>(ctx: &'a RiskContext, dep: &str) -> Option<&'a (String, semver::Version)> {
    let n = normalize(dep);
    ctx.lockfile
        .iter()
        .filter(|(name, _)| normalize(name) == n)
        .max_by(|a, b| a.1.cmp(&b.1))
}

/// Build-time sites of `spec` its own base did not have (all of them without a base).
fn new_sites_of(ctx: &RiskContext, spec: &str, name: &str) -> Vec<Site> {
    let Some(Ok(facts)) = ctx.facts.get(spec) else {
        return Vec::new();
    };
    let base_sites: BTreeSet<(SiteKind, &str)> = match ctx.bases.get(spec) {
        Some(Base::Version { version, .. }) => match ctx.facts.get(&format!("{name}@{version}")) {
            Some(Ok(b)) => b
                .build_time_sites
                .iter()
                .map(|s| (s.kind, s.name.as_str()))
                .collect(),
            _ => BTreeSet::new(),
        },
        _ => BTreeSet::new(),
    };
    facts
        .build_time_sites
        .iter()
        .filter(|s| !base_sites.contains(&(s.kind, s.name.as_str())))
        .cloned()
        .collect()
}

pub(super) fn dependency_signals(
    ctx: &RiskContext,
    name: &str,
    new: &CrateFacts,
    base: &CrateFacts,
    out: &mut PackageRisk,
) {
    let had: BTreeSet<String> = base.dependencies.keys().map(|d| normalize(d)).collect();
    let added: Vec<(&String, &super::facts::DepUse)> = new
        .dependencies
        .iter()
        .filter(|(d, _)| !had.contains(&normalize(d)))
        .collect();
    if added.is_empty() {
        return;
    }
    let spec = &new.spec;
    out.signals.push(signal(
        SignalCode::NewDependency,
        format!(
            "new dependencies: {}",
            added
                .iter()
                .map(|(d, u)| if u.build && !u.normal {
                    format!("{d} (build)")
                } else {
                    (*d).clone()
                })
                .collect::<Vec<_>>()
                .join(", ")
        ),
        added
            .iter()
            .map(|(d, _)| evidence(spec, vec![(*d).clone()]))
            .collect(),
    ));
    let others: Vec<&str> = ctx
        .lockfile
        .iter()
        .map(|(n, _)| n.as_str())
        .filter(|n| *n != name)
        .collect();
    let mut build_time: Vec<(SiteKind, SignalEvidence)> = Vec::new();
    for (dep, usage) in &added {
        let dep = dep.as_str();
        let look_alike_pool = others
            .iter()
            .copied()
            .filter(|o| normalize(o) != normalize(dep));
        if let Some(like) = resembles(dep, look_alike_pool) {
            out.signals.push(signal(
                SignalCode::Typosquat,
                format!("new dependency `{dep}` is one edit away from `{like}`"),
                vec![evidence(spec, vec![dep.to_owned(), like])],
            ));
        }
        judge_dependency_index(ctx, spec, dep, out);
        if usage.build && is_network_crate(dep) {
            build_time.push((
                SiteKind::Network,
                evidence(spec, vec![format!("build-dependency {dep}")]),
            ));
        }
        let Some((locked_name, locked_version)) = locked(ctx, dep) else {
            continue;
        };
        let dep_spec = format!("{locked_name}@{locked_version}");
        match ctx.facts.get(&dep_spec) {
            Some(Ok(facts)) => {
                if facts.repository.is_none() {
                    out.signals.push(signal(
                        SignalCode::NoRepository,
                        format!("new dependency `{dep_spec}` names no repository"),
                        vec![evidence(&dep_spec, vec![dep.to_owned()])],
                    ));
                }
                if facts.proc_macro {
                    out.signals.push(signal(
                        SignalCode::ProcMacroAdded,
                        format!(
                            "new dependency `{dep_spec}` is a proc-macro: it runs in the compiler"
                        ),
                        vec![evidence(&dep_spec, vec![dep.to_owned()])],
                    ));
                }
            }
            Some(Err(why)) => out.not_computed.push(NotComputed {
                signals: vec![SignalCode::NoRepository],
                why: format!("{dep_spec}: {why}"),
            }),
            None => {}
        }
        for site in new_sites_of(ctx, &dep_spec, locked_name) {
            build_time.push((site.kind, site_evidence(&dep_spec, &site)));
        }
    }
    push_site_signals(build_time, "a new dependency's build-time code", out);
}

fn judge_dependency_index(ctx: &RiskContext, spec: &str, dep: &str, out: &mut PackageRisk) {
    let (Some(now), Some(t)) = (ctx.now, ctx.thresholds) else {
        return;
    };
    let entry = ctx
        .index
        .iter()
        .find(|(n, _)| normalize(n) == normalize(dep))
        .map(|(_, e)| e);
    let versions = match entry {
        Some(Ok(v)) => v,
        Some(Err(why)) => {
            out.not_computed.push(NotComputed {
                signals: vec![SignalCode::YoungCrate, SignalCode::FewVersions],
                why: format!("{dep}: {why}"),
            });
            return;
        }
        None => {
            out.not_computed.push(NotComputed {
                signals: vec![SignalCode::YoungCrate, SignalCode::FewVersions],
                why: format!("{dep}: its index entry was not read"),
            });
            return;
        }
    };
    if (versions.len() as u64) < u64::from(t.few_versions) {
        out.signals.push(signal(
            SignalCode::FewVersions,
            format!(
                "new dependency `{dep}` has {} published version{}",
                versions.len(),
                if versions.len() == 1 { "" } else { "s" }
            ),
            vec![evidence(spec, vec![dep.to_owned()])],
        ));
    }
    match versions.iter().filter_map(|v| v.pubtime).min() {
        Some(first) => {
            let age = now.0 - first.0;
            if age < i64::from(t.young_crate_days) * 86_400 {
                out.signals.push(signal(
                    SignalCode::YoungCrate,
                    format!(
                        "new dependency `{dep}` was first published {} ago ({first})",
                        duration_words(age)
                    ),
                    vec![evidence(spec, vec![dep.to_owned(), first.to_string()])],
                ));
            }
        }
        None => out.not_computed.push(NotComputed {
            signals: vec![SignalCode::YoungCrate],
            why: format!("{dep}: the index gives no publish times"),
        }),
    }
}
