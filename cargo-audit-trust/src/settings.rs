//! The run's settings: the global command-line options, decided once. `commands::run` makes one
//! [`Settings`] from the clap arguments; nothing below a command's entry function sees clap's
//! types. (ripgrep's `LowArgs` → `HiArgs` is the model.)

use std::path::{Path, PathBuf};

use audit_trust_core::time::{Clock, FixedClock, SystemClock, Timestamp};

use crate::cli::{Format, GlobalArgs};
use crate::error::CliError;
use crate::output::Palette;
use crate::output::progress::BarProgress;
use crate::project::discovery::GivenPaths;

/// What a command prints its result as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// For people: text, colours where wanted, progress bars on a terminal.
    Human,
    /// For programs: one JSON document on stdout (SARIF, `check`'s other format, is JSON too).
    Json,
}

/// The global options, resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `--manifest-path`, `--lockfile`, `--audit-file`: what discovery starts from.
    pub given_paths: GivenPaths,
    /// `--offline`: caches only.
    pub offline: bool,
    /// `--cache-dir` (or `AUDIT_TRUST_CACHE_DIR`), made absolute; see [`Settings::cache_dir`].
    cache_dir: Option<PathBuf>,
    pub format: OutputFormat,
    pub palette: Palette,
    /// `-q`: results only, no notes and no progress.
    pub quiet: bool,
    /// `-v`: say what the run did.
    pub verbose: bool,
    /// `--now` (hidden), else the system clock read once at the start.
    pub now: Timestamp,
    /// Progress bars: only for a person watching a human report, never with `-q` or in CI
    /// (`CI` set). [`BarProgress`] also stays silent when stderr is not a terminal.
    pub show_progress: bool,
}

impl Settings {
    /// Resolves the global options. `own_format` lists the formats beyond human and json that
    /// the command accepts (SARIF for `check`, cargo-vet for `export`); any other is a usage
    /// error. The command reads which one was asked for from the arguments itself.
    pub fn from_args(global: &GlobalArgs, own_format: &[Format]) -> Result<Settings, CliError> {
        let format = match global.format {
            Format::Human => OutputFormat::Human,
            Format::Json => OutputFormat::Json,
            own if own_format.contains(&own) => match own {
                // SARIF is JSON; the file export writes is not a report for people.
                Format::Sarif => OutputFormat::Json,
                _ => OutputFormat::Human,
            },
            Format::Sarif => {
                return Err(CliError::Usage(
                    "--format sarif is for `check`; use human or json".into(),
                ));
            }
            Format::Markdown => {
                return Err(CliError::Usage(
                    "--format markdown is for `check`; use human or json".into(),
                ));
            }
            Format::CargoVet => {
                return Err(CliError::Usage(
                    "--format cargo-vet is for `export`; use human or json".into(),
                ));
            }
        };
        let now = match &global.now {
            Some(text) => Timestamp::parse(text)
                .map(|t| FixedClock(t).now())
                .ok_or_else(|| {
                    CliError::Usage(format!("--now `{text}`: write 2025-01-31T12:00:00Z"))
                })?,
            None => SystemClock.now(),
        };
        let quiet = global.quiet;
        Ok(Settings {
            given_paths: GivenPaths {
                manifest: global.manifest_path.clone(),
                lockfile: global.lockfile.clone(),
                audit_file: global.audit_file.clone(),
            },
            offline: global.offline,
            cache_dir: global.cache_dir.as_deref().map(absolute),
            format,
            palette: Palette::new(global.color),
            quiet,
            verbose: global.verbose > 0,
            now,
            show_progress: !quiet
                && format == OutputFormat::Human
                && std::env::var_os("CI").is_none(),
        })
    }

    /// The same settings with nothing printed on the terminal: no progress, no notes. For the
    /// review UI, which owns the terminal while it runs.
    pub fn silent(&self) -> Settings {
        Settings {
            quiet: true,
            verbose: false,
            show_progress: false,
            ..self.clone()
        }
    }

    /// A progress reporter that follows [`Settings::show_progress`].
    pub fn progress(&self) -> BarProgress {
        BarProgress::new(self.show_progress)
    }

    /// `--cache-dir`, else the platform's cache folder.
    pub fn cache_dir(&self) -> Result<PathBuf, CliError> {
        if let Some(dir) = &self.cache_dir {
            return Ok(dir.clone());
        }
        platform_dir("XDG_CACHE_HOME", "LOCALAPPDATA", "Library/Caches", ".cache").ok_or_else(
            || CliError::Usage("cannot find a cache folder: pass `--cache-dir PATH`".into()),
        )
    }
}

/// The user's configuration folder for this tool (where `key new` puts the key by default).
pub fn config_dir() -> Result<PathBuf, CliError> {
    platform_dir(
        "XDG_CONFIG_HOME",
        "APPDATA",
        "Library/Application Support",
        ".config",
    )
    .map(|dir| absolute(&dir))
    .ok_or_else(|| {
        CliError::Usage("cannot find a config folder: set HOME or XDG_CONFIG_HOME".into())
    })
}

/// The user's per-machine config file, `config.toml` in [`config_dir`]
/// (`$XDG_CONFIG_HOME/cargo-audit-trust/config.toml`, else `~/.config/…` on Linux); `None`
/// when there is no config folder at all (no HOME).
pub fn user_config_path() -> Option<PathBuf> {
    config_dir().ok().map(|dir| dir.join("config.toml"))
}

/// `CARGO_HOME`, or `~/.cargo` as cargo defaults it.
pub fn cargo_home() -> Result<PathBuf, CliError> {
    if let Some(home) = env_path("CARGO_HOME") {
        return Ok(absolute(&home));
    }
    home_dir()
        .map(|h| h.join(".cargo"))
        .ok_or_else(|| CliError::Usage("cannot find CARGO_HOME: set CARGO_HOME or HOME".into()))
}

/// This tool's folder in a platform folder: `$XDG_…` (any system), else the Windows variable,
/// else under the home folder (`macos` on macOS, `unix` elsewhere).
fn platform_dir(xdg: &str, windows: &str, macos: &str, unix: &str) -> Option<PathBuf> {
    let base = if let Some(xdg) = env_path(xdg) {
        Some(xdg)
    } else if cfg!(windows) {
        env_path(windows)
    } else if cfg!(target_os = "macos") {
        home_dir().map(|h| h.join(macos))
    } else {
        home_dir().map(|h| h.join(unix))
    };
    base.map(|b| b.join("cargo-audit-trust"))
}

fn home_dir() -> Option<PathBuf> {
    env_path("HOME").or_else(|| env_path("USERPROFILE"))
}

/// A non-empty environment variable as a path.
fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// `path` made absolute against the current folder (kept as given if that cannot be read).
pub fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}
