//! `init --from-cargo-vet`: a project's cargo-vet `supply-chain/` folder as a `Cargo.audit`.
//!
//! - cargo-vet's built-in criteria become criteria of the same names (`safe-to-deploy` implies
//!   `safe-to-run`), and the policy asks what cargo-vet asks by default: `safe-to-deploy`, and
//!   `safe-to-run` for packages reached only through dev-dependencies;
//! - custom criteria of the project's `audits.toml` are defined the same;
//! - the project's own `audits.toml` becomes a local import, and each `[imports.NAME]` an import
//!   of the same name, URL and exclusions, with its criteria map (built-ins map to themselves);
//! - each exemption that still matches a package of the lockfile becomes an exact `[[exemption]]`
//!   with an expiry and a reason naming the migration. One granted only `safe-to-run` is kept
//!   only for packages reached through dev-dependencies alone: elsewhere cargo-vet would not
//!   accept it either;
//! - what `Cargo.audit` cannot say (per-crate policies, `audit-as-crates-io`, git versions) is
//!   listed in `left_out`, never silently dropped or turned into a weaker rule.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use super::vet_files::{
    OneOrMany, VetAuditsCriteria, VetConfig, VetCriterion, VetLockContents, VetPublisher,
    parse_audits_criteria, parse_config, parse_imports_lock,
};
use crate::Error;
use crate::inventory::{Package, SourceKind};
use crate::names::validate_crate_name;
use crate::signoff::PublicKey;
use crate::time::Date;

/// cargo-vet's built-in criteria, described in our words.
const SAFE_TO_RUN: &str = "May be compiled, run and tested on a developer's machine or in CI \
     without harming it: no malware, no access to files or the network beyond its purpose.";
const SAFE_TO_DEPLOY: &str = "Fit to ship in production: read in full, and nothing in it could \
     introduce a serious vulnerability when it handles untrusted input.";

/// The name the project's own `audits.toml` is imported under.
pub const LOCAL_IMPORT_NAME: &str = "local-audits";

/// The folder's files, read by the caller.
#[derive(Debug)]
pub struct VetFolder<'a> {
    pub dir: &'a Path,
    pub config: &'a str,
    pub audits: Option<&'a str>,
    pub imports_lock: Option<&'a str>,
    /// The folder as `Cargo.audit` should name it (relative to the file when possible).
    pub dir_from_audit_file: &'a str,
}

/// Who the migrated file trusts besides the imports, and until when exemptions count.
#[derive(Debug)]
pub struct MigrationTarget<'a> {
    pub auditor: &'a str,
    pub key: &'a PublicKey,
    pub records_folder: &'a str,
    pub today: Date,
    pub expires: Date,
}

/// The written file and what the user should know about it.
#[derive(Debug)]
pub struct Migration {
    pub text: String,
    pub imports: Vec<String>,
    pub exemptions: usize,
    /// What `Cargo.audit` cannot express, one line each.
    pub left_out: Vec<String>,
    /// The publisher cache of `imports.lock`, for judging `trusted` and `wildcard-audits`
    /// entries offline.
    pub publishers: Vec<VetPublisher>,
    /// Per import (by name), the audits cargo-vet's `imports.lock` kept, as `audits.toml`
    /// text: what `cargo vet --locked` judges by, pinned until `import refresh` fetches the
    /// whole set.
    pub locked_sets: BTreeMap<String, String>,
}

/// Turns a cargo-vet folder into `Cargo.audit` text for `packages` (the lockfile's).
pub fn migrate_cargo_vet(
    folder: &VetFolder<'_>,
    target: &MigrationTarget<'_>,
    packages: &[Package],
) -> Result<Migration, Error> {
    let config_path = folder.dir.join("config.toml");
    let config = parse_config(folder.config, &config_path)?;
    let criteria = match folder.audits {
        Some(text) => parse_audits_criteria(text, &folder.dir.join("audits.toml"))?,
        None => VetAuditsCriteria::default(),
    };
    let locked = match folder.imports_lock {
        Some(text) => parse_imports_lock(text, &folder.dir.join("imports.lock"))?,
        None => VetLockContents::default(),
    };
    let mut left_out = Vec::new();
    let mut out = header(target, folder);
    write_criteria(&mut out, &criteria.criteria, &config_path)?;
    let mut imports = Vec::new();
    if folder.audits.is_some() {
        write_import(
            &mut out,
            LOCAL_IMPORT_NAME,
            &format!("{}/audits.toml", folder.dir_from_audit_file),
            &identity_map(criteria.criteria.keys()),
            &[],
        );
        imports.push(LOCAL_IMPORT_NAME.to_owned());
    }
    for (name, import) in &config.imports {
        check_name(name, &config_path, &format!("[imports.{name}]"))?;
        let urls = import.url.to_vec();
        let Some(url) = urls.first() else {
            return Err(config_error(
                &config_path,
                format!("[imports.{name}] has no url"),
            ));
        };
        if urls.len() > 1 {
            left_out.push(format!(
                "import `{name}` lists {} URLs; only the first is imported: add the others as \
                 imports of their own",
                urls.len()
            ));
        }
        let mut map = identity_map(std::iter::empty::<&String>());
        for (theirs, ours) in &import.criteria_map {
            map.insert(theirs.clone(), ours.to_vec());
        }
        write_import(&mut out, name, url, &map, &import.exclude);
        imports.push(name.clone());
    }
    note_policies(&config, &mut left_out);
    let exemptions = write_exemptions(
        &mut out,
        &config,
        target,
        packages,
        &mut left_out,
        &config_path,
    )?;
    Ok(Migration {
        text: out,
        imports,
        exemptions,
        left_out,
        publishers: locked.publishers,
        locked_sets: locked
            .sets
            .into_iter()
            .filter(|(name, _)| config.imports.contains_key(name))
            .collect(),
    })
}

fn header(target: &MigrationTarget<'_>, folder: &VetFolder<'_>) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "# Cargo.audit: which auditors this project trusts, and its policy (docs/cargo-audit.md).\n\
         # Migrated from cargo-vet's {dir}/ by `cargo audit-trust init --from-cargo-vet` on {today}\n\
         # (docs/migrating.md says where the two tools differ).\n\n\
         [policy]\n\
         criteria = [\"safe-to-deploy\"]\n\
         dev-criteria = [\"safe-to-run\"]\n\n\
         [criteria.safe-to-run]\n\
         description = {run}\n\n\
         [criteria.safe-to-deploy]\n\
         description = {deploy}\n\
         implies = [\"safe-to-run\"]\n\n\
         [[auditor]]\n\
         name = {auditor}\n\
         covers = [\"*\"]\n\
         records = {{ folder = {records} }}\n\
         keys = [{{ key = \"{key}\" }}]\n",
        dir = folder.dir_from_audit_file,
        today = target.today,
        run = quoted(SAFE_TO_RUN),
        deploy = quoted(SAFE_TO_DEPLOY),
        auditor = quoted(target.auditor),
        records = quoted(target.records_folder),
        key = target.key,
    );
    out
}

fn write_criteria(
    out: &mut String,
    criteria: &BTreeMap<String, VetCriterion>,
    config_path: &Path,
) -> Result<(), Error> {
    for (name, def) in criteria {
        if crate::signoff::Criterion::parse(name).is_err() {
            return Err(config_error(
                config_path,
                format!(
                    "audits.toml: `[criteria.{name}]` is not a criterion name this tool can use"
                ),
            ));
        }
        let description = match (&def.description, &def.description_url) {
            (Some(d), _) => d.clone(),
            (None, Some(url)) => format!("See {url}"),
            (None, None) => format!("`{name}`, migrated from cargo-vet"),
        };
        let _ = write!(
            out,
            "\n[criteria.{name}]\ndescription = {}\n",
            quoted(&description)
        );
        let implies = def
            .implies
            .as_ref()
            .map(OneOrMany::to_vec)
            .unwrap_or_default();
        if !implies.is_empty() {
            let _ = writeln!(out, "implies = {}", list(&implies));
        }
    }
    Ok(())
}

/// cargo-vet's built-ins mean the same in every set; `names` (custom criteria of the project's
/// own set) map to themselves.
fn identity_map<'a>(names: impl Iterator<Item = &'a String>) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = ["safe-to-deploy", "safe-to-run"]
        .iter()
        .map(|c| ((*c).to_owned(), vec![(*c).to_owned()]))
        .collect();
    for name in names {
        map.insert(name.clone(), vec![name.clone()]);
    }
    map
}

fn write_import(
    out: &mut String,
    name: &str,
    url: &str,
    map: &BTreeMap<String, Vec<String>>,
    exclude: &[String],
) {
    let entries: Vec<String> = map
        .iter()
        .map(|(theirs, ours)| match ours.as_slice() {
            [one] => format!("{} = {}", quoted(theirs), quoted(one)),
            many => format!("{} = {}", quoted(theirs), list(many)),
        })
        .collect();
    let _ = write!(
        out,
        "\n[[import]]\nname = {}\nurl = {}\nformat = \"cargo-vet\"\ncriteria-map = {{ {} }}\ncovers = [\"*\"]\n",
        quoted(name),
        quoted(url),
        entries.join(", ")
    );
    if !exclude.is_empty() {
        let _ = writeln!(out, "exclude = {}", list(exclude));
    }
}

fn note_policies(config: &VetConfig, left_out: &mut Vec<String>) {
    for (name, policy) in &config.policy {
        if policy.audit_as_crates_io == Some(true) {
            left_out.push(format!(
                "policy `{name}`: audit-as-crates-io = true; this tool treats workspace and \
                 path packages as first-party"
            ));
        }
        let criteria = [
            ("criteria", &policy.criteria, "safe-to-deploy"),
            ("dev-criteria", &policy.dev_criteria, "safe-to-run"),
        ];
        for (key, value, default) in criteria {
            if let Some(value) = value
                && value.to_vec() != [default]
            {
                left_out.push(format!(
                    "policy `{name}`: {key} = {:?}; Cargo.audit has one policy for the workspace",
                    value.to_vec()
                ));
            }
        }
        if policy
            .dependency_criteria
            .as_ref()
            .is_some_and(|d| !d.is_empty())
        {
            left_out.push(format!(
                "policy `{name}`: dependency-criteria; Cargo.audit has one policy for the workspace"
            ));
        }
    }
}

fn write_exemptions(
    out: &mut String,
    config: &VetConfig,
    target: &MigrationTarget<'_>,
    packages: &[Package],
    left_out: &mut Vec<String>,
    config_path: &Path,
) -> Result<usize, Error> {
    let mut written = BTreeSet::new();
    let mut unused = 0;
    for (name, entries) in &config.exemptions {
        check_name(name, config_path, &format!("[[exemptions.{name}]]"))?;
        for entry in entries {
            if entry.version.contains("@git:") {
                left_out.push(format!(
                    "exemption {name}@{}: a git version; exempt the git dependency by hand",
                    entry.version
                ));
                continue;
            }
            let version = semver::Version::parse(&entry.version).map_err(|e| {
                config_error(
                    config_path,
                    format!("[[exemptions.{name}]] version `{}`: {e}", entry.version),
                )
            })?;
            let matching: Vec<&Package> = packages
                .iter()
                .filter(|p| p.name == *name && p.version == version && p.source != SourceKind::Path)
                .collect();
            if matching.is_empty() {
                unused += 1;
                continue;
            }
            let criteria = entry
                .criteria
                .as_ref()
                .map(OneOrMany::to_vec)
                .unwrap_or_else(|| vec!["safe-to-deploy".into()]);
            let run_only = !criteria.iter().any(|c| c == "safe-to-deploy")
                && criteria.iter().any(|c| c == "safe-to-run");
            if run_only && !matching.iter().all(|p| p.dev_only == Some(true)) {
                left_out.push(format!(
                    "exemption {name}@{version}: granted safe-to-run only, but the package is \
                     built for more than dev-dependencies (cargo-vet rejects it too)"
                ));
                continue;
            }
            if !written.insert((name.clone(), version.clone())) {
                continue;
            }
            let mut reason = format!(
                "Migrated from cargo-vet's exemptions ({}).",
                criteria.join(", ")
            );
            if let Some(notes) = entry.notes.as_deref().filter(|n| !n.trim().is_empty()) {
                let _ = write!(reason, " {}", notes.trim());
            }
            let _ = write!(
                out,
                "\n[[exemption]]\npackage = \"{name}@{version}\"\nreason = {}\nexpires = {}\n",
                quoted(&reason),
                target.expires
            );
        }
    }
    if unused > 0 {
        left_out.push(format!(
            "{unused} {} no package of Cargo.lock uses",
            if unused == 1 {
                "exemption that"
            } else {
                "exemptions that"
            }
        ));
    }
    Ok(written.len())
}

fn check_name(name: &str, path: &Path, place: &str) -> Result<(), Error> {
    validate_crate_name(name)
        .map(|_| ())
        .map_err(|e| config_error(path, format!("{place}: {e}")))
}

fn config_error(path: &Path, message: String) -> Error {
    Error::CargoVetStore {
        path: path.to_path_buf(),
        line: None,
        column: None,
        message,
    }
}

/// A TOML basic string with every special character escaped.
fn quoted(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

fn list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| quoted(s)).collect();
    format!("[{}]", quoted.join(", "))
}
