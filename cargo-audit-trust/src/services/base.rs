//! The base lockfile of pull-request mode (`check --base REV|PATH`): a file, a git revision of
//! the project's repository, or on GitHub Actions by default the merge base with the branch the
//! pull request goes into.

use std::path::Path;

use audit_trust_core::Inventory;
use audit_trust_core::lockfile::at_revision::{lockfile_at_revision, merge_base};

use crate::error::CliError;

/// The lockfile a change is compared with, and how the report names it.
pub struct BaseLockfile {
    pub inventory: Inventory,
    pub label: String,
}

/// What the environment says about the run, passed in (read once by the command).
#[derive(Debug, Clone, Default)]
pub struct CiEnv {
    /// `GITHUB_ACTIONS=true`.
    pub github_actions: bool,
    /// `GITHUB_BASE_REF`: the branch a pull request goes into (empty outside pull requests).
    pub base_ref: Option<String>,
}

impl CiEnv {
    pub fn from_process() -> CiEnv {
        CiEnv {
            github_actions: std::env::var_os("GITHUB_ACTIONS").is_some_and(|v| v == "true"),
            base_ref: std::env::var("GITHUB_BASE_REF")
                .ok()
                .filter(|r| !r.is_empty()),
        }
    }
}

/// Resolves `--base`: an existing file is a lockfile; text that looks like a path
/// (`./x`, `/x`, `x.lock`) and is missing is an error; anything else is a git revision. Without
/// `--base`, on a GitHub Actions pull request the merge base with `origin/$GITHUB_BASE_REF` is
/// the base; elsewhere there is none. Every failure of a `--base` given is a usage error
/// (exit 2). The GitHub default that cannot be found (a shallow checkout has no
/// `origin/$GITHUB_BASE_REF`) falls back to judging the whole lockfile, which is stricter, and
/// says so in `notes`.
pub fn resolve(
    arg: Option<&str>,
    lockfile: &Path,
    env: &CiEnv,
    notes: &mut Vec<String>,
) -> Result<Option<BaseLockfile>, CliError> {
    let rev = match arg {
        Some(given) => {
            let path = Path::new(given);
            if path.is_file() {
                let inventory = Inventory::from_lockfile(path)?;
                return Ok(Some(BaseLockfile {
                    inventory,
                    label: given.to_owned(),
                }));
            }
            if path.exists() {
                return Err(CliError::Usage(format!(
                    "--base {}: is a folder; name a lockfile or a git revision",
                    given.escape_default()
                )));
            }
            if looks_like_path(given) {
                return Err(CliError::Usage(format!(
                    "--base {}: no such file; name an existing lockfile or a git revision",
                    given.escape_default()
                )));
            }
            given.to_owned()
        }
        None => match (env.github_actions, &env.base_ref) {
            (true, Some(branch)) => match merge_base(lockfile, &format!("origin/{branch}")) {
                Ok(rev) => rev,
                Err(e) => {
                    notes.push(format!(
                        "pull-request mode is off, the whole lockfile is judged: {e}"
                    ));
                    return Ok(None);
                }
            },
            _ => return Ok(None),
        },
    };
    let (text, label) = lockfile_at_revision(lockfile, &rev)?;
    let inventory = Inventory::from_lockfile_text(&text, &label)?;
    Ok(Some(BaseLockfile {
        inventory,
        label: label.display().to_string(),
    }))
}

fn looks_like_path(text: &str) -> bool {
    text.starts_with("./")
        || text.starts_with("../")
        || text.starts_with('/')
        || text.ends_with(".lock")
        || text.contains('\\')
}
