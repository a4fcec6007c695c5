//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "cargo-audit-trust",
    bin_name = "cargo audit-trust",
    version,
    about = "Trust a few pinned auditors instead of hundreds of publishers",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Path to Cargo.toml [default: the nearest one in this folder or above; a workspace member
    /// finds its workspace's Cargo.lock and Cargo.audit]
    #[arg(long, global = true, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,

    /// Read this Cargo.lock alone: no manifests and no `cargo metadata` needed [default: the
    /// nearest Cargo.lock in the manifest's folder or above]
    #[arg(
        long,
        global = true,
        value_name = "PATH",
        conflicts_with = "manifest_path"
    )]
    pub lockfile: Option<PathBuf>,

    /// The audit file [default: the nearest Cargo.audit in Cargo.lock's folder or above (without
    /// a lockfile, in the manifest's or this folder or above), when there is one]
    #[arg(long, global = true, value_name = "PATH")]
    pub audit_file: Option<PathBuf>,

    /// Use caches only; never touch the network
    #[arg(long, global = true)]
    pub offline: bool,

    /// Where downloaded crates and cached results live
    #[arg(
        long,
        global = true,
        value_name = "PATH",
        env = "AUDIT_TRUST_CACHE_DIR"
    )]
    pub cache_dir: Option<PathBuf>,

    /// Output format
    #[arg(long, global = true, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// When to use colors
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Print only results: no progress, no notes
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Say more about what the run did (cache use, downloads)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Pretend it is this instant (YYYY-MM-DDTHH:MM:SSZ): reproducible tests and output
    #[arg(long, global = true, hide = true, value_name = "INSTANT")]
    pub now: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    /// SARIF 2.1.0 (`check` only), for code-scanning dashboards
    Sarif,
    /// A summary that fits a pull-request comment (`check` only)
    Markdown,
    /// A cargo-vet `audits.toml` (`export` only)
    CargoVet,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The CI gate: may every package be used? Exit 0 clean, 1 blocked, 2 error
    Check(CheckArgs),
    /// Summarise the dependencies: how many are leaf, micro, unsafe, build scripts, proc-macros…
    Stats(StatsArgs),
    /// One row per package with its classification
    List(ListArgs),
    /// Licenses of every registry package: what each declares and ships, the texts to ship,
    /// what micro-dependencies cost; `--notice FILE` writes a third-party notice file
    Licenses(LicensesArgs),
    /// A CycloneDX 1.5 SBOM (JSON) of every package, with licenses and who audited what
    Sbom(SbomArgs),
    /// Compare a published crate with its git repository, or two published versions
    Diff(DiffArgs),
    /// Check every registry package of Cargo.lock against its git repository, in one pass
    VerifySources(VerifySourcesArgs),
    /// Make or show the ed25519 key you sign with
    #[command(subcommand)]
    Key(KeyCommand),
    /// Sign off on (or flag) a crate version, into your auditor's local store
    Sign(SignArgs),
    /// Who that you trust signed off on (or flagged) a crate, verified
    Query(QueryArgs),
    /// Withdraw one of your earlier records, by the id `query` shows
    Revoke(RevokeArgs),
    /// Sign a fresh head over your key's records (before it expires, or after a merge)
    RefreshHead(KeyArgs),
    /// Send your records that a registry lacks
    Publish(PublishArgs),
    /// Write a starter Cargo.audit: your key as auditor, today's packages exempted for a while
    Init(InitArgs),
    /// Remove exemptions and advisory ignores that no longer match anything or are no longer needed
    Prune(PruneArgs),
    /// Manage exemptions: `renew` moves their expiry
    #[command(subcommand)]
    Exemptions(ExemptionsCommand),
    /// What to review next, the least code to read first
    Suggest(SuggestArgs),
    /// Move packages only to versions your auditors signed off (runs `cargo update --precise`)
    Update(UpdateArgs),
    /// Review what is not audited yet, interactively: queue, evidence, diffs, sign-offs
    Review(ReviewArgs),
    /// Ask an audit-registry's automatic auditor to follow this lockfile's crates.io packages
    /// (admin token in AUDIT_REGISTRY_TOKEN)
    Watch(WatchArgs),
    /// Imported audit sets (`[[import]]` in Cargo.audit), pinned in Cargo.audit.lock
    #[command(subcommand)]
    Import(ImportCommand),
    /// Write the verified sign-offs of your auditors for another tool: `--format cargo-vet` gives
    /// an audits.toml a cargo-vet user can import
    Export(ExportArgs),
    /// A registry's transparency log: `verify` replays it whole and checks it, as a monitor
    #[command(subcommand)]
    Log(LogCommand),
}

#[derive(Debug, Subcommand)]
pub enum LogCommand {
    /// Replay a registry's whole log: every record's signature, the tree, the crate index, and
    /// every checkpoint seen before (kept in the cache folder). Exit 0 clean, 2 on any problem
    Verify(LogVerifyArgs),
}

#[derive(Debug, Args)]
pub struct LogVerifyArgs {
    /// The audit-registry whose log to replay
    #[arg(value_name = "URL")]
    pub url: String,
    /// The log's public key (`ed25519:…`), as the registry's operator published it (its
    /// `GET /v1/log/key` shows it; take it from somewhere you trust)
    #[arg(long, value_name = "KEY")]
    pub log_key: String,
    /// URL is a static export (`audit-registry export`): read the log from its C2SP tiles under
    /// `tlog/` instead of the registry's API
    #[arg(long)]
    pub tiles: bool,
}

impl Command {
    /// The one format beyond human and json the command accepts: SARIF describes findings, which
    /// only the gate has; cargo-vet's format is export's.
    pub fn own_format(&self) -> &'static [Format] {
        match self {
            Command::Check(_) => &[Format::Sarif, Format::Markdown],
            Command::Export(_) => &[Format::CargoVet],
            _ => &[],
        }
    }
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Only this auditor's records (repeatable) [default: every auditor in Cargo.audit]
    #[arg(long, value_name = "NAME")]
    pub auditor: Vec<String>,
    /// Write to this file instead of stdout (written whole or not at all)
    #[arg(short, long, value_name = "PATH")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Fetch the imported sets again, pin their bytes in Cargo.audit.lock, and say what changed
    Refresh(RefreshArgs),
}

#[derive(Debug, Args)]
pub struct RefreshArgs {
    /// Only the import with this name [default: every import]
    #[arg(value_name = "NAME")]
    pub name: Option<String>,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The name of the auditor that pins your key
    #[arg(long, value_name = "NAME", default_value = "me")]
    pub auditor: String,
    /// How many days the starter exemptions count
    #[arg(long, value_name = "DAYS", default_value_t = 90,
          value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub exempt_days: u32,
    /// Spread the exemptions' expiry evenly over the next DAYS days, smallest package first
    /// (classifies every package, downloading crates no cache has), instead of one day for all
    #[arg(long, value_name = "DAYS", conflicts_with = "exempt_days",
          value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub spread: Option<u32>,
    /// Also waive, until the exemptions' last expiry, today's advisories and yanked versions,
    /// each listed, so CI starts green while the debt stays visible
    #[arg(long)]
    pub baseline: bool,
    /// A local RustSec advisory database folder for `--baseline` [default: RustSec's, fetched]
    #[arg(long, value_name = "PATH", requires = "baseline")]
    pub advisory_db: Option<PathBuf>,
    /// Migrate from cargo-vet: its imports, exemptions, criteria and own audits (DIR, default
    /// `supply-chain` next to Cargo.lock) become Cargo.audit's, and its publisher cache is kept
    #[arg(long, value_name = "DIR", num_args = 0..=1, conflicts_with_all = ["spread", "baseline"])]
    pub from_cargo_vet: Option<Option<PathBuf>>,
    #[command(flatten)]
    pub key: KeyArgs,
}

#[derive(Debug, Subcommand)]
pub enum ExemptionsCommand {
    /// Extend matching exemptions to N days from today, recording why in each reason
    Renew(RenewArgs),
}

#[derive(Debug, Args)]
pub struct RenewArgs {
    /// Only exemptions of crates matching this pattern (`*` matches anything, as in `covers`)
    /// [default: every exemption]
    #[arg(value_name = "PATTERN")]
    pub pattern: Option<String>,
    /// The new expiry, in days from today
    #[arg(long, value_name = "N", default_value_t = 90,
          value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub days: u32,
    /// Why they are renewed (kept in each reason with today's date)
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Only list what would be removed
    #[arg(long)]
    pub dry_run: bool,
    /// A local RustSec advisory database folder (overrides `[advisories]` in Cargo.audit)
    #[arg(long, value_name = "PATH")]
    pub advisory_db: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SuggestArgs {
    /// A local RustSec advisory database folder (overrides `[advisories]` in Cargo.audit)
    #[arg(long, value_name = "PATH")]
    pub advisory_db: Option<PathBuf>,
    /// Use an advisory database older than the policy allows without a warning (as `check`)
    #[arg(long)]
    pub allow_stale: bool,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// Only print the plan; change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Update only this package (repeatable); without it, every package the plan moves
    #[arg(short = 'p', long = "package", value_name = "NAME")]
    pub packages: Vec<String>,
    /// A local RustSec advisory database folder (overrides `[advisories]` in Cargo.audit)
    #[arg(long, value_name = "PATH")]
    pub advisory_db: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// A local RustSec advisory database folder (overrides `[advisories]` in Cargo.audit)
    #[arg(long, value_name = "PATH")]
    pub advisory_db: Option<PathBuf>,
    /// The audit-registry `P` publishes your records to (without it, `P` says how to set it)
    #[arg(long, value_name = "URL")]
    pub registry: Option<String>,
    #[command(flatten)]
    pub key: KeyArgs,
}

#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// The id of the record to withdraw (64 hex digits)
    pub id: String,
    /// Why it is withdrawn
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    #[command(flatten)]
    pub key: KeyArgs,
}

#[derive(Debug, Args)]
pub struct SignArgs {
    /// The crate's name
    pub name: String,
    /// The version you checked
    #[arg(value_name = "VERSION")]
    pub crate_version: String,
    /// What you checked: `reviewed`, `source-matches` or a custom criterion (comma-separated)
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "CRITERIA",
        required_unless_present = "flag"
    )]
    pub criteria: Vec<String>,
    /// You reviewed the change from this earlier version (a delta sign-off)
    #[arg(long, value_name = "OLD", conflicts_with = "flag")]
    pub delta_from: Option<String>,
    /// Notes for other people (shown by `query`)
    #[arg(long, value_name = "TEXT")]
    pub notes: Option<String>,
    /// Flag the version instead: it must not be used, for this reason
    #[arg(long, value_name = "REASON", conflicts_with = "criteria")]
    pub flag: Option<String>,
    #[command(flatten)]
    pub key: KeyArgs,
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    /// The crate's name
    pub name: String,
    /// Only this version
    #[arg(value_name = "VERSION")]
    pub crate_version: Option<String>,
    /// Read every auditor's records from this registry instead of where Cargo.audit says
    #[arg(long, value_name = "URL")]
    pub registry: Option<String>,
    /// Read every auditor's records from this static export of a registry instead
    #[arg(long, value_name = "URL", conflicts_with = "registry")]
    pub url: Option<String>,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// The audit-registry whose watch list to add to
    #[arg(long, value_name = "URL")]
    pub registry: String,
    /// Also register the lockfile as this project's latest, for the registry's project pages
    #[arg(long, value_name = "NAME")]
    pub project: Option<String>,
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The audit-registry to send your records to
    #[arg(long, value_name = "URL")]
    pub registry: String,
    #[command(flatten)]
    pub key: KeyArgs,
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Make a new key pair; prints the public key to pin in Cargo.audit
    New {
        /// Where to write the secret key [default: signing-key in the user's config folder]
        #[arg(long, value_name = "PATH")]
        out: Option<PathBuf>,
    },
    /// Print the public key of the key `sign` would use
    Show(KeyArgs),
}

#[derive(Debug, Clone, Args)]
pub struct KeyArgs {
    /// The secret key file [default: $AUDIT_TRUST_SIGNING_KEY, else signing-key in the user's
    /// config folder]
    #[arg(long, value_name = "PATH")]
    pub key: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// A local RustSec advisory database folder (overrides `[advisories]` in Cargo.audit)
    #[arg(long, value_name = "PATH")]
    pub advisory_db: Option<PathBuf>,
    /// Pass even when the advisory database is older than the policy allows
    #[arg(long)]
    pub allow_stale: bool,
    /// Pull-request mode: compare Cargo.lock with the one at this git revision, or in this
    /// file, and split findings into introduced by the change and already present
    /// [default on GitHub Actions: the merge base with origin/$GITHUB_BASE_REF]
    #[arg(long, value_name = "REV|PATH")]
    pub base: Option<String>,
    /// Which packages get risk signals: `needed` (where they can change the verdict: packages
    /// that would otherwise pass) or `all` (also packages already blocked, e.g. unaudited ones;
    /// downloads their crate files and their bases')
    #[arg(long, value_enum, value_name = "SCOPE", default_value = "needed")]
    pub signals: crate::services::risk::SignalScope,
}

#[derive(Debug, Args)]
pub struct ClassifyArgs {
    /// Packages with fewer lines of library code than this are "micro"
    /// [default: `[policy] micro-lines` in Cargo.audit, else 300]
    #[arg(long, value_name = "LINES", value_parser = clap::value_parser!(u64).range(1..))]
    pub micro_lines: Option<u64>,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    #[command(flatten)]
    pub classify: ClassifyArgs,
    /// How many of the largest packages to show
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub classify: ClassifyArgs,
    /// Only micro packages
    #[arg(long)]
    pub micro: bool,
    /// Only packages that use `unsafe`
    #[arg(long = "unsafe")]
    pub uses_unsafe: bool,
    /// Only leaf packages (no dependencies of their own)
    #[arg(long)]
    pub leaf: bool,
    /// Only packages with a build script
    #[arg(long)]
    pub build_script: bool,
    /// Only proc-macro packages
    #[arg(long)]
    pub proc_macro: bool,
    /// Only packages that build native code
    #[arg(long)]
    pub native: bool,
    /// Only names present in several versions
    #[arg(long)]
    pub duplicate: bool,
    /// Only direct dependencies of the workspace
    #[arg(long)]
    pub direct: bool,
    /// Sort order
    #[arg(long, value_enum, default_value_t = SortKey::Name)]
    pub sort: SortKey,
}

#[derive(Debug, Args)]
pub struct SbomArgs {
    /// A local RustSec advisory database folder (overrides `[advisories]` in Cargo.audit)
    #[arg(long, value_name = "PATH")]
    pub advisory_db: Option<PathBuf>,
    /// Write to this file instead of stdout (written whole or not at all)
    #[arg(short, long, value_name = "PATH")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct LicensesArgs {
    #[command(flatten)]
    pub classify: ClassifyArgs,
    /// Only micro packages
    #[arg(long)]
    pub micro: bool,
    /// Only direct dependencies of the workspace
    #[arg(long)]
    pub direct: bool,
    /// Leave out packages only dev-dependencies reach (they are not shipped)
    #[arg(long)]
    pub no_dev: bool,
    /// Only packages with a finding (unparseable expression, missing text, mismatch, ...)
    #[arg(long)]
    pub findings: bool,
    /// Only packages whose license texts are longer than their code
    #[arg(long)]
    pub longer_than_code: bool,
    /// Only packages whose expression names this SPDX license (repeatable)
    #[arg(long, value_name = "SPDX-ID")]
    pub license: Vec<String>,
    /// List every package with its code and license lines
    #[arg(long)]
    pub packages: bool,
    /// List every distinct text with the packages that need it
    #[arg(long)]
    pub texts: bool,
    /// Write a third-party notice file (every text once, with its packages) to this path,
    /// whole or not at all
    #[arg(long, value_name = "FILE")]
    pub notice: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SortKey {
    /// By name, then version
    Name,
    /// Most lines of code first
    Lines,
    /// Most unsafe items first
    Unsafe,
    /// Most dependencies first
    Deps,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Exit status: 0 when no package differs from its repository (unverifiable \
ones included), 1 when one differs, 2 when a package could not be checked or on usage or \
configuration errors."
)]
pub struct VerifySourcesArgs {
    /// Only this package (repeatable; every locked version of it)
    #[arg(short = 'p', long = "package", value_name = "NAME")]
    pub packages: Vec<String>,
    /// Sign `source-matches` for every package that matches a pinned or signed-off repository
    /// (never one the crate only claims), in one batch
    #[arg(long)]
    pub sign: bool,
    /// Packages checked at once (the work waits on git remotes, not on the processor)
    #[arg(long, value_name = "N", default_value_t = 8,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,
    #[command(flatten)]
    pub key: KeyArgs,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Exit status: 0 when the crate matches its repository (or the two \
versions are the same), 1 when it differs or cannot be verified, 2 on usage or configuration \
errors."
)]
pub struct DiffArgs {
    /// The crate, `NAME` or `NAME@VERSION` (the version is taken from Cargo.lock when omitted)
    #[arg(value_name = "NAME[@VERSION]")]
    pub krate: String,

    /// `OLD NEW`: compare these two published versions with each other instead; one `VERSION`
    /// is the same as `NAME@VERSION`
    #[arg(value_name = "VERSION", num_args = 0..=2)]
    pub versions: Vec<String>,

    /// Compare with this repository (URL or local path), whatever the crate names
    #[arg(long, value_name = "URL")]
    pub repo: Option<String>,

    /// Check this local .crate file (no download, no checksum lookup)
    #[arg(long, value_name = "PATH")]
    pub crate_file: Option<PathBuf>,

    /// Only list the differing files with their line counts, no diffs
    #[arg(long)]
    pub stat: bool,

    /// Print to stdout even on a terminal (by default a long report goes through `$PAGER`,
    /// else `less -R`)
    #[arg(long)]
    pub no_pager: bool,
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_definition_is_consistent() {
        use clap::CommandFactory as _;
        super::Cli::command().debug_assert();
    }
}
