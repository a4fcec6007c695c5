//! `init --from-cargo-vet [DIR]`: a `Cargo.audit` made from a project's cargo-vet folder (see
//! `audit_trust_core::migrate`). Never overwrites a file.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use audit_trust_core::audit_file::AuditFile;
use audit_trust_core::audit_file::starter::STARTER_RECORDS_FOLDER;
use audit_trust_core::imports::{ImportLock, LockedImport, LockedPublisher, lock_path, sha256_hex};
use audit_trust_core::migrate::{
    LOCAL_IMPORT_NAME, Migration, MigrationTarget, VetFolder, migrate_cargo_vet,
};
use audit_trust_core::names::validate_crate_name;
use serde::Serialize;

use crate::cli::InitArgs;
use crate::error::CliError;
use crate::output::{escape, write_json, write_stdout};
use crate::project::{InventoryNeed, Project};
use crate::services::audit_file_edit::{create_file, io_error, refused_overwrite};
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
    /// Imports pinned from the folder (the project's own audits, and what cargo-vet's
    /// imports.lock kept); the others wait for `import refresh`.
    pinned: &'a [&'a str],
    left_out: &'a [String],
}

pub fn run(settings: &Settings, args: &InitArgs) -> Result<ExitCode, CliError> {
    validate_crate_name(&args.auditor)
        .map_err(|e| CliError::Usage(format!("--auditor `{}`: {e}", args.auditor)))?;
    let project =
        Project::open_without_audit_file(settings, InventoryNeed::Required { targets: false })?;
    let inventory = project.inventory()?;
    let target = project.new_audit_file_target()?;
    let base = target.parent().map(PathBuf::from).unwrap_or_default();
    let lock_file = lock_path(&base);
    for path in [&target, &lock_file] {
        if path.exists() {
            return Err(refused_overwrite(path));
        }
    }
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
    // The files we write must be ones we can read back.
    let audit_file = AuditFile::parse(&migration.text, &target)?;
    let lock = seeded_lock(&migration, &audit_file, audits.as_deref(), settings);
    let lock_text = lock.render()?;
    ImportLock::parse(&lock_text, &lock_file)?;
    let records = base.join(STARTER_RECORDS_FOLDER);
    std::fs::create_dir_all(&records).map_err(|e| io_error(&records, e))?;
    create_file(&target, &migration.text, || refused_overwrite(&target))?;
    create_file(&lock_file, &lock_text, || refused_overwrite(&lock_file))?;
    let pinned: Vec<&str> = lock.imports.iter().map(|i| i.name.as_str()).collect();

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
            pinned: &pinned,
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
            text.push_str(&format!(
                "Pinned in {}: {} ({} publishers kept).\n",
                LOCK_NAME,
                escape::line(&pinned.join(", ")),
                migration.publishers.len()
            ));
            text.push_str(
                "Next: `cargo audit-trust check`. `cargo audit-trust import refresh` fetches every \
                 set whole and says what changed.\n",
            );
            write_stdout(&text)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

const LOCK_NAME: &str = audit_trust_core::imports::LOCK_FILE_NAME;

/// The lock the migration starts with: the project's own `audits.toml` as it is, each import as
/// much of it as cargo-vet's `imports.lock` kept (what `cargo vet --locked` judges by), and the
/// publisher cache. Imports cargo-vet's lock has nothing for wait for `import refresh`.
fn seeded_lock(
    migration: &Migration,
    audit_file: &AuditFile,
    own_audits: Option<&str>,
    settings: &Settings,
) -> ImportLock {
    let fetched = settings.now.to_string();
    let mut lock = ImportLock {
        version: 1,
        ..ImportLock::default()
    };
    for import in &audit_file.imports {
        let (content, origin) = if import.name == LOCAL_IMPORT_NAME {
            match own_audits {
                Some(text) => (text.to_owned(), None),
                None => continue,
            }
        } else {
            match migration.locked_sets.get(&import.name) {
                Some(text) => (
                    text.clone(),
                    Some(
                        "cargo-vet's imports.lock: only the audits that project used; `import \
                         refresh` fetches the whole set"
                            .to_owned(),
                    ),
                ),
                None => continue,
            }
        };
        lock.put(LockedImport {
            name: import.name.clone(),
            url: import.url.clone(),
            sha256: sha256_hex(content.as_bytes()),
            fetched: fetched.clone(),
            origin,
            content,
        });
    }
    lock.publishers = migration
        .publishers
        .iter()
        .map(|p| LockedPublisher {
            name: p.name.clone(),
            version: p.version.clone(),
            when: p.when.clone(),
            user_id: p.user_id,
            user_login: p.user_login.clone(),
            trusted_publisher: p.trusted_publisher.clone(),
        })
        .collect();
    lock
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
