//! Every risk signal, with its stable kebab-case code, its description, how grave it is, and
//! what the policy does with it by default. `docs/risk.md` lists them (a test compares).

use std::fmt;

use serde::{Serialize, Serializer};

use crate::audit_file::RiskAction;

/// A risk signal code. Serialized as [`SignalCode::code`], stable and listed in `docs/risk.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SignalCode {
    NewDependency,
    Typosquat,
    YoungCrate,
    FewVersions,
    NoRepository,
    BuildScriptAdded,
    BuildScriptChanged,
    ProcMacroAdded,
    NativeAdded,
    BuildScriptSpawns,
    BuildScriptNetwork,
    BuildScriptEnv,
    OpaqueFile,
    UnsafeIncrease,
    RecentlyPublished,
    YankedPredecessors,
    RepositoryChanged,
}

/// How grave a signal is on its own, before the policy: it orders the review queue and is shown
/// next to each signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignalSeverity {
    Low,
    Medium,
    High,
}

impl SignalSeverity {
    pub fn as_str(self) -> &'static str {
        match self {
            SignalSeverity::Low => "low",
            SignalSeverity::Medium => "medium",
            SignalSeverity::High => "high",
        }
    }
}

impl SignalCode {
    /// Every code, in the order `docs/risk.md` lists them.
    pub const ALL: [SignalCode; 17] = [
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
        SignalCode::RecentlyPublished,
        SignalCode::YankedPredecessors,
        SignalCode::RepositoryChanged,
    ];

    pub fn code(self) -> &'static str {
        match self {
            SignalCode::NewDependency => "new-dependency",
            SignalCode::Typosquat => "typosquat",
            SignalCode::YoungCrate => "young-crate",
            SignalCode::FewVersions => "few-versions",
            SignalCode::NoRepository => "no-repository",
            SignalCode::BuildScriptAdded => "build-script-added",
            SignalCode::BuildScriptChanged => "build-script-changed",
            SignalCode::ProcMacroAdded => "proc-macro-added",
            SignalCode::NativeAdded => "native-added",
            SignalCode::BuildScriptSpawns => "build-script-spawns",
            SignalCode::BuildScriptNetwork => "build-script-network",
            SignalCode::BuildScriptEnv => "build-script-env",
            SignalCode::OpaqueFile => "opaque-file",
            SignalCode::UnsafeIncrease => "unsafe-increase",
            SignalCode::RecentlyPublished => "recently-published",
            SignalCode::YankedPredecessors => "yanked-predecessors",
            SignalCode::RepositoryChanged => "repository-changed",
        }
    }

    pub fn parse(text: &str) -> Option<SignalCode> {
        SignalCode::ALL.into_iter().find(|c| c.code() == text)
    }

    /// One sentence: the "meaning" column of `docs/risk.md` and the SARIF rule text.
    pub fn description(self) -> &'static str {
        match self {
            SignalCode::NewDependency => "A dependency the base version did not have",
            SignalCode::Typosquat => {
                "A new dependency's name is one edit away from a popular crate or another crate of the lockfile"
            }
            SignalCode::YoungCrate => {
                "A new dependency's crate was first published less than [risk] young-crate-days ago"
            }
            SignalCode::FewVersions => {
                "A new dependency's crate has fewer than [risk] few-versions published versions"
            }
            SignalCode::NoRepository => "A new dependency's manifest names no repository",
            SignalCode::BuildScriptAdded => "The version has a build script the base did not have",
            SignalCode::BuildScriptChanged => "The build script differs from the base's",
            SignalCode::ProcMacroAdded => {
                "The version is a proc-macro, or newly depends on one, where the base was not and did not"
            }
            SignalCode::NativeAdded => {
                "New `links` or a new native build dependency (cc, cmake, bindgen, pkg-config, ...)"
            }
            SignalCode::BuildScriptSpawns => {
                "Build-time code (build script, proc-macro, or a new build-time dependency's) newly spawns processes"
            }
            SignalCode::BuildScriptNetwork => {
                "Build-time code newly opens sockets or uses an HTTP client crate"
            }
            SignalCode::BuildScriptEnv => {
                "Build-time code newly reads token-like environment variables or the whole environment"
            }
            SignalCode::OpaqueFile => {
                "An added executable, object file, archive, or large base64/hex blob"
            }
            SignalCode::UnsafeIncrease => {
                "Unsafe blocks and functions went up by more than [risk] unsafe-increase"
            }
            SignalCode::RecentlyPublished => {
                "The version is younger than [risk] min-age (or cargo's min-publish-age)"
            }
            SignalCode::YankedPredecessors => {
                "Several earlier versions of the crate are yanked, some recently"
            }
            SignalCode::RepositoryChanged => {
                "The manifest's repository differs from the base version's"
            }
        }
    }

    pub fn severity(self) -> SignalSeverity {
        match self {
            SignalCode::Typosquat
            | SignalCode::BuildScriptSpawns
            | SignalCode::BuildScriptNetwork
            | SignalCode::BuildScriptEnv
            | SignalCode::OpaqueFile
            | SignalCode::RepositoryChanged => SignalSeverity::High,
            SignalCode::YoungCrate
            | SignalCode::BuildScriptAdded
            | SignalCode::ProcMacroAdded
            | SignalCode::NativeAdded
            | SignalCode::UnsafeIncrease
            | SignalCode::RecentlyPublished
            | SignalCode::YankedPredecessors => SignalSeverity::Medium,
            SignalCode::NewDependency
            | SignalCode::FewVersions
            | SignalCode::NoRepository
            | SignalCode::BuildScriptChanged => SignalSeverity::Low,
        }
    }

    /// What `[risk]` does with the signal when it says nothing. Chosen so that the arrayref
    /// release (a typosquatted build-time dependency whose build script spawns and downloads)
    /// is denied and an ordinary patch release is not; `docs/risk.md` says why and what that
    /// cost on real version pairs.
    pub fn default_action(self) -> RiskAction {
        match self {
            SignalCode::Typosquat
            | SignalCode::BuildScriptSpawns
            | SignalCode::BuildScriptNetwork
            | SignalCode::BuildScriptEnv
            | SignalCode::OpaqueFile => RiskAction::Deny,
            SignalCode::BuildScriptChanged => RiskAction::Allow,
            _ => RiskAction::Warn,
        }
    }
}

impl fmt::Display for SignalCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for SignalCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}
