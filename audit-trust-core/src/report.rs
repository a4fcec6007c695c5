//! The values `stats` and `list` render. The JSON output is these structs, serialized.

use std::path::PathBuf;

use serde::Serialize;

use crate::classify::{Classification, UnsafeCounts};
use crate::inventory::{Inventory, InventoryMode, PackageId};

/// One package with its classification. Registry packages are classified from their published
/// files; workspace, path and git packages carry only what the lockfile says.
#[derive(Debug, Clone, Serialize)]
pub struct PackageReport {
    /// The package in the inventory the report was built from: later code gets the package back
    /// by this, never by matching its name and version text. Not part of the JSON.
    #[serde(skip)]
    pub id: PackageId,
    pub name: String,
    /// Serialized as its text.
    pub version: semver::Version,
    /// `crates.io`, `registry`, `git` or `path`.
    pub source: &'static str,
    /// The lockfile's source id (`None` for path packages).
    pub source_id: Option<String>,
    pub checksum: Option<String>,
    /// Lines of Rust code (non-blank, non-comment) in the library and binary sources.
    pub code_lines: Option<u64>,
    /// The same over every `.rs` file in the package (tests, examples, build script included).
    pub all_rs_lines: Option<u64>,
    #[serde(rename = "unsafe")]
    pub unsafe_usage: Option<UnsafeCounts>,
    pub uses_unsafe: Option<bool>,
    pub leaf: bool,
    pub micro: Option<bool>,
    pub build_script: Option<bool>,
    pub proc_macro: Option<bool>,
    pub native: Option<bool>,
    pub links: Option<String>,
    pub direct: bool,
    pub duplicate: bool,
    /// Known in metadata mode only.
    pub dev_only: Option<bool>,
    pub workspace_member: bool,
    /// `name@version` of each dependency.
    pub dependencies: Vec<String>,
}

/// The counts of the summary sentence. Classification counts (`leaf`, `micro`, …) are over
/// registry packages, the ones published by someone else.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub packages: usize,
    pub registry_packages: usize,
    pub workspace_packages: usize,
    pub git_packages: usize,
    /// Distinct package names.
    pub names: usize,
    pub leaf: usize,
    pub micro: usize,
    pub uses_unsafe: usize,
    pub build_scripts: usize,
    pub proc_macros: usize,
    pub native: usize,
    /// Names that appear in more than one version.
    pub duplicate_names: usize,
    /// Lines of library/binary code over all registry packages.
    pub code_lines: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct InventoryReport {
    pub mode: InventoryMode,
    pub lockfile: PathBuf,
    pub micro_lines: u64,
    pub stats: Stats,
    pub packages: Vec<PackageReport>,
    /// What this run had to do; for `-v`, not part of the JSON output.
    #[serde(skip)]
    pub work: WorkSummary,
}

/// How much work a run did: answers read from the classification cache, packages classified
/// from their crate files, and crate files downloaded for that.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkSummary {
    pub cached: usize,
    pub classified: usize,
    pub downloaded: usize,
}

impl InventoryReport {
    /// The report on the inventory's package `id`.
    pub fn package(&self, id: PackageId) -> Option<&PackageReport> {
        self.packages.iter().find(|p| p.id == id)
    }

    /// `classifications` is indexed like `inventory.packages`.
    pub fn build(
        inventory: &Inventory,
        classifications: &[Option<Classification>],
        micro_lines: u64,
    ) -> Self {
        let per_name = inventory.versions_per_name();
        let mut packages: Vec<PackageReport> = inventory
            .packages
            .iter()
            .enumerate()
            .map(|(id, p)| {
                let c = classifications.get(id).and_then(Option::as_ref);
                let uses_unsafe = c.map(|c| unsafe_total(&c.unsafe_usage) > 0);
                PackageReport {
                    id,
                    name: p.name.clone(),
                    version: p.version.clone(),
                    source: p.source.label(),
                    source_id: p.source_id.clone(),
                    checksum: p.checksum.clone(),
                    code_lines: c.map(|c| c.code_lines),
                    all_rs_lines: c.map(|c| c.all_rs_lines),
                    unsafe_usage: c.map(|c| c.unsafe_usage.clone()),
                    uses_unsafe,
                    leaf: p.dependencies.is_empty(),
                    micro: c.map(|c| c.code_lines < micro_lines),
                    build_script: c.map(|c| c.build_script),
                    proc_macro: c.map(|c| c.proc_macro),
                    native: c.map(|c| c.native),
                    links: c.and_then(|c| c.links.clone()),
                    direct: p.direct,
                    duplicate: per_name.get(p.name.as_str()).is_some_and(|&n| n > 1),
                    dev_only: p.dev_only,
                    workspace_member: p.workspace_member,
                    dependencies: p
                        .dependencies
                        .iter()
                        .map(|&d| inventory.packages[d].spec())
                        .collect(),
                }
            })
            .collect();
        packages.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
        let stats = Stats::compute(
            inventory,
            &packages,
            per_name.values().filter(|&&n| n > 1).count(),
        );
        InventoryReport {
            mode: inventory.mode,
            lockfile: inventory.lockfile.clone(),
            micro_lines,
            stats,
            packages,
            work: WorkSummary::default(),
        }
    }
}

impl Stats {
    fn compute(inventory: &Inventory, packages: &[PackageReport], duplicate_names: usize) -> Stats {
        let mut s = Stats {
            packages: packages.len(),
            names: inventory.versions_per_name().len(),
            duplicate_names,
            ..Stats::default()
        };
        for p in packages {
            match p.source {
                "path" => s.workspace_packages += 1,
                "git" => s.git_packages += 1,
                _ => s.registry_packages += 1,
            }
        }
        for p in packages
            .iter()
            .filter(|p| matches!(p.source, "crates.io" | "registry"))
        {
            s.leaf += usize::from(p.leaf);
            s.micro += usize::from(p.micro == Some(true));
            s.uses_unsafe += usize::from(p.uses_unsafe == Some(true));
            s.build_scripts += usize::from(p.build_script == Some(true));
            s.proc_macros += usize::from(p.proc_macro == Some(true));
            s.native += usize::from(p.native == Some(true));
            s.code_lines += p.code_lines.unwrap_or(0);
        }
        s
    }
}

/// Total unsafe items: blocks, functions, impls, traits and extern blocks.
pub fn unsafe_total(u: &UnsafeCounts) -> u64 {
    u.blocks + u.fns + u.impls + u.traits + u.extern_blocks
}
