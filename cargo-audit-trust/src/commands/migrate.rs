//! `init --from-cargo-vet [DIR]`: a `Cargo.audit` made from a project's cargo-vet folder (see
//! `audit_trust_core::migrate`). Never overwrites a file.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use audit_trust_core::audit_file::starter::STARTER_RECORDS_FOLDER;
use audit_trust_core::audit_file::{AUDIT_FILE_NAME, AuditFile};
use audit_trust_core::migrate::{MigrationTarget, VetFolder, migrate_cargo_vet};
use audit_trust_core::names::validate_crate_name;
use serde::Serialize;

use crate::cli::InitArgs;
use crate::error::CliError;
use crate::output::{escape, write_json, write_stdout};
use crate::project::{InventoryNeed, Project};
use crate::services::audit_file_edit::{create_file, io_error};
use crate::services::signing::load_signing_key;
use crate::settings::{OutputFormat, Settings};

/// cargo-vet's folder next to `Cargo.lock` when none is named.
const DEFAULT_VET_DIR: &str = "supply-chain";
/// Bound on each file read from the folder: real ones are well under a megabyte.
const MAX_VET_FILE_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Serialize)]
struct MigrateJson<'a> {
    path: String,
    from: String,
    auditor: &'a str,
    public_key: String,
    imports: &'a [String],
    exemptions: usize,
    expires: String,
    publishers: usize,
    left_out: &'a [String],
}

pub fn run(settings: &Settings, args: &InitArgs) -> Result<ExitCode, CliError> {
    validate_crate_name(&args.auditor)
        .map_err(|e| CliError::Usage(format!("--auditor `{}`: {e}", args.auditor)))?;
    let project =
        Project::open_without_audit_file(settings, InventoryNeed::Required { targets: false })?;
    let inventory = project.inventory()?;
    let target = match &settings.given_paths.audit_file {
        Some(path) => path.clone(),
        None => inventory.lockfile.with_file_name(AUDIT_FILE_NAME),
    };
    let refused = || {
        CliError::Usage(format!(
            "{} already exists; `init` never overwrites it (edit it, or move it away first)",
            target.display()
        ))
    };
    if target.exists() {
        return Err(refused());
    }
    let base = target.parent().map(PathBuf::from).unwrap_or_default();
    let dir = match args.from_cargo_vet.clone().flatten() {
        Some(dir) => crate::settings::absolute(&dir),
        None => inventory.lockfile.with_file_name(DEFAULT_VET_DIR),
    };
    let config = read(&dir.join("config.toml"))?.ok_or_else(|| {
        CliError::Usage(format!(
            "{} has no cargo-vet config.toml: pass the folder, `--from-cargo-vet DIR`",
            dir.display()
        ))
    })?;
    let audits = read(&dir.join("audits.toml"))?;
    let imports_lock = read(&dir.join("imports.lock"))?;
    let key = load_signing_key(args.key.key.as_deref())?.key.public_key();
    let expires = settings.now.plus_days(i64::from(args.exempt_days)).date();
    let dir_text = relative_to(&dir, &base);
    let migration = migrate_cargo_vet(
        &VetFolder {
            dir: &dir,
            config: &config,
            audits: audits.as_deref(),
            imports_lock: imports_lock.as_deref(),
            dir_from_audit_file: &dir_text,
        },
        &MigrationTarget {
            auditor: &args.auditor,
            key: &key,
            records_folder: STARTER_RECORDS_FOLDER,
            today: settings.now.date(),
            expires,
        },
        &inventory.packages,
    )?;
    // The file we write must be one we can read back.
    AuditFile::parse(&migration.text, &target)?;
    let records = base.join(STARTER_RECORDS_FOLDER);
    std::fs::create_dir_all(&records).map_err(|e| io_error(&records, e))?;
    create_file(&target, &migration.text, refused)?;

    match settings.format {
        OutputFormat::Json => write_json(&MigrateJson {
            path: target.display().to_string(),
            from: dir.display().to_string(),
            auditor: &args.auditor,
            public_key: key.to_string(),
            imports: &migration.imports,
            exemptions: migration.exemptions,
            expires: expires.to_string(),
            publishers: migration.publishers.len(),
            left_out: &migration.left_out,
        })?,
        OutputFormat::Human => {
            let mut text = format!(
                "Wrote {} from cargo-vet's {}: auditor `{}` with your key {key}, {} {} ({}), \
                 {} {} until {expires}.\n",
                escape::line(&target.display().to_string()),
                escape::line(&dir.display().to_string()),
                args.auditor,
                migration.imports.len(),
                if migration.imports.len() == 1 {
                    "import"
                } else {
                    "imports"
                },
                escape::line(&migration.imports.join(", ")),
                migration.exemptions,
                if migration.exemptions == 1 {
                    "exemption"
                } else {
                    "exemptions"
                },
            );
            if !migration.left_out.is_empty() {
                text.push_str(
                    "Not carried over (Cargo.audit cannot say it, or nothing needs it):\n",
                );
                for line in &migration.left_out {
                    text.push_str(&format!("  - {}\n", escape::line(line)));
                }
            }
            text.push_str(
                "Next: `cargo audit-trust import refresh` fetches and pins the imports, then \
                 `cargo audit-trust check`.\n",
            );
            write_stdout(&text)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A file of the folder, `None` when it is not there.
fn read(path: &Path) -> Result<Option<String>, CliError> {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(path, e).into()),
    };
    if meta.len() > MAX_VET_FILE_BYTES {
        return Err(CliError::Usage(format!(
            "{} is larger than {} MiB; is it really cargo-vet's?",
            path.display(),
            MAX_VET_FILE_BYTES / (1024 * 1024)
        )));
    }
    std::fs::read_to_string(path)
        .map(Some)
        .map_err(|e| io_error(path, e).into())
}

/// `dir` as `Cargo.audit` in `base` should name it: relative when inside, else as given.
fn relative_to(dir: &Path, base: &Path) -> String {
    let shown = dir.strip_prefix(base).unwrap_or(dir);
    shown.to_string_lossy().replace('\\', "/")
}
