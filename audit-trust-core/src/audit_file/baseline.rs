//! `init --baseline`: what today's lockfile would fail on besides missing sign-offs (advisories
//! and yanked versions), written as expiring entries, so CI can start green while every waived
//! finding stays listed in the file and in `check`'s warnings.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::advisories::AdvisoryDatabase;
use crate::fetch::index_report::IndexReport;
use crate::inventory::{Package, SourceKind};
use crate::time::Date;

/// One advisory waived by the baseline, with the packages it covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaivedAdvisory {
    pub id: String,
    pub title: String,
    /// `name@version` of each covered package.
    pub packages: Vec<String>,
}

/// What the baseline waives.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Baseline {
    /// Advisories that block (vulnerabilities; informational ones only warn).
    pub advisories: Vec<WaivedAdvisory>,
    /// Yanked versions, `name@version`.
    pub yanked: Vec<String>,
}

impl Baseline {
    pub fn is_empty(&self) -> bool {
        self.advisories.is_empty() && self.yanked.is_empty()
    }
}

/// The findings of `packages` today. Informational advisories are left out: the default policy
/// only warns about them, and a waiver of a warning would hide it.
pub fn baseline(
    packages: &[Package],
    db: Option<&AdvisoryDatabase>,
    index: &IndexReport,
) -> Baseline {
    let mut advisories: BTreeMap<String, WaivedAdvisory> = BTreeMap::new();
    let mut yanked = Vec::new();
    for p in packages.iter().filter(|p| p.source != SourceKind::Path) {
        let spec = format!("{}@{}", p.name, p.version);
        for a in db
            .map(|db| db.for_package(&p.name, &p.version))
            .unwrap_or_default()
        {
            if !a.kind.is_vulnerability() {
                continue;
            }
            advisories
                .entry(a.id.clone())
                .or_insert_with(|| WaivedAdvisory {
                    id: a.id.clone(),
                    title: a.title.clone(),
                    packages: Vec::new(),
                })
                .packages
                .push(spec.clone());
        }
        if index.version(p).is_some_and(|v| v.yanked) {
            yanked.push(spec);
        }
    }
    yanked.sort();
    yanked.dedup();
    Baseline {
        advisories: advisories.into_values().collect(),
        yanked,
    }
}

/// The text appended to the starter file: one `[[ignore-advisory]]` per advisory, expiring on
/// `expires`. Yanked versions are waived in the starter's own exemptions (`allow-yanked = true`,
/// see [`super::starter::Starter::allow_yanked`]), so they expire with them; a comment here
/// lists them.
pub fn baseline_text(baseline: &Baseline, today: Date, expires: Date) -> String {
    let mut out = String::new();
    if baseline.is_empty() {
        return out;
    }
    let _ = write!(
        out,
        "\n# Baseline: what the lockfile failed on when it was adopted ({today}) besides missing\n\
         # sign-offs. Waived so CI starts green; move to fixed versions and delete these.\n"
    );
    for a in &baseline.advisories {
        let reason = format!(
            "Baseline at adoption ({today}): {} ({}); covers {}.",
            one_line(&a.title),
            a.id,
            a.packages.join(", ")
        );
        let _ = write!(
            out,
            "\n[[ignore-advisory]]\nid = \"{}\"\nreason = {}\nexpires = {expires}\n",
            a.id,
            toml_string(&reason)
        );
    }
    if !baseline.yanked.is_empty() {
        let _ = write!(
            out,
            "\n# Yanked when the project adopted cargo audit-trust: {}.\n\
             # Their exemptions above say `allow-yanked = true`: each yank warns until the\n\
             # exemption expires, then blocks again (the policy's default, \"deny\", stays).\n",
            baseline.yanked.join(", ")
        );
    }
    out
}

fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// A TOML basic string; advisory titles are written by others.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
