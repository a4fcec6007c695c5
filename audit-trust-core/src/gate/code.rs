//! Every reason code the gate emits, with its stable kebab-case name, its description and the
//! status it stands for. JSON, SARIF, the review UI and `docs/check.md` all read these, so a code
//! is added in one place (and a test fails until the docs list it).

use std::fmt;

use serde::{Serialize, Serializer};

use super::report::Status;

/// A reason code. Serialized as [`ReasonCode::code`], which is stable and listed in
/// `docs/check.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReasonCode {
    /// Who signed off, for which criteria.
    Audited,
    /// The live exemption that admits the package.
    Exempted,
    /// Not used on the target platforms.
    OtherPlatform,
    /// An advisory a live `[[ignore-advisory]]` ignores.
    AdvisoryIgnored,
    /// Not enough sign-offs for the required criteria.
    Unaudited,
    /// No auditor covers the package.
    Unassigned,
    /// A covering auditor's flag.
    Flagged,
    /// A RustSec vulnerability advisory.
    Advisory,
    /// An unmaintained, unsound or notice advisory.
    AdvisoryInformational,
    /// The version is yanked.
    Yanked,
    /// Lockfile and index checksums differ.
    ChecksumMismatch,
    /// The index has the crate but not this version.
    NotInIndex,
    /// The source is not in `[allowed-sources]`.
    SourceNotAllowed,
    /// A matching exemption expired.
    ExemptionExpired,
    /// A matching advisory ignore expired.
    IgnoreExpired,
    /// A risk signal `[risk]` denies or warns about (the signal's code is in the details).
    Risk,
    /// The declared license is not accepted by `[licenses]`.
    LicenseNotAllowed,
    /// No license, or one that is not an SPDX expression.
    LicenseUnknown,
    /// The shipped license texts contradict the declared license.
    LicenseMismatch,
}

impl ReasonCode {
    /// Every code, in the order `docs/check.md` lists them.
    pub const ALL: [ReasonCode; 19] = [
        ReasonCode::Audited,
        ReasonCode::Exempted,
        ReasonCode::OtherPlatform,
        ReasonCode::AdvisoryIgnored,
        ReasonCode::Unaudited,
        ReasonCode::Unassigned,
        ReasonCode::Flagged,
        ReasonCode::Advisory,
        ReasonCode::AdvisoryInformational,
        ReasonCode::Yanked,
        ReasonCode::ChecksumMismatch,
        ReasonCode::NotInIndex,
        ReasonCode::SourceNotAllowed,
        ReasonCode::ExemptionExpired,
        ReasonCode::IgnoreExpired,
        ReasonCode::Risk,
        ReasonCode::LicenseNotAllowed,
        ReasonCode::LicenseUnknown,
        ReasonCode::LicenseMismatch,
    ];

    /// The stable name used in JSON, SARIF rule ids and GitHub annotations.
    pub fn code(self) -> &'static str {
        match self {
            ReasonCode::Audited => "audited",
            ReasonCode::Exempted => "exempted",
            ReasonCode::OtherPlatform => "other-platform",
            ReasonCode::AdvisoryIgnored => "advisory-ignored",
            ReasonCode::Unaudited => "unaudited",
            ReasonCode::Unassigned => "unassigned",
            ReasonCode::Flagged => "flagged",
            ReasonCode::Advisory => "advisory",
            ReasonCode::AdvisoryInformational => "advisory-informational",
            ReasonCode::Yanked => "yanked",
            ReasonCode::ChecksumMismatch => "checksum-mismatch",
            ReasonCode::NotInIndex => "not-in-index",
            ReasonCode::SourceNotAllowed => "source-not-allowed",
            ReasonCode::ExemptionExpired => "exemption-expired",
            ReasonCode::IgnoreExpired => "ignore-expired",
            ReasonCode::Risk => "risk",
            ReasonCode::LicenseNotAllowed => "license-not-allowed",
            ReasonCode::LicenseUnknown => "license-unknown",
            ReasonCode::LicenseMismatch => "license-mismatch",
        }
    }

    /// One sentence for people: the SARIF rule's description and the "meaning" column of
    /// `docs/check.md`'s table of codes.
    pub fn description(self) -> &'static str {
        match self {
            ReasonCode::Audited => {
                "Enough sign-offs from covering auditors meet the required criteria (the message names who signed off, for which criteria)"
            }
            ReasonCode::Exempted => "A live exemption admits the package",
            ReasonCode::OtherPlatform => {
                "The package is used only on platforms outside [policy] targets"
            }
            ReasonCode::AdvisoryIgnored => "An advisory is ignored by a live [[ignore-advisory]]",
            ReasonCode::Unaudited => {
                "No sign-off from a covering auditor meets the required criteria (the message says what partial sign-offs exist)"
            }
            ReasonCode::Unassigned => "No auditor in Cargo.audit covers the package",
            ReasonCode::Flagged => "A covering auditor flagged this version",
            ReasonCode::Advisory => "A RustSec vulnerability advisory covers this version",
            ReasonCode::AdvisoryInformational => {
                "An informational RustSec advisory (unmaintained, unsound, notice) covers this version"
            }
            ReasonCode::Yanked => "The version was yanked from its registry",
            ReasonCode::ChecksumMismatch => {
                "Cargo.lock's checksum differs from the registry index's"
            }
            ReasonCode::NotInIndex => "The registry index does not list this version",
            ReasonCode::SourceNotAllowed => {
                "The package comes from a source [allowed-sources] does not list"
            }
            ReasonCode::ExemptionExpired => {
                "An exemption for the package has expired (the package is judged without it)"
            }
            ReasonCode::IgnoreExpired => {
                "An advisory ignore has expired (the advisory counts again)"
            }
            ReasonCode::Risk => {
                "A risk signal in what this version brings in (details name the signal, see docs/risk.md)"
            }
            ReasonCode::LicenseNotAllowed => {
                "The declared license is not accepted by [licenses] (details name the licenses, see docs/licenses.md)"
            }
            ReasonCode::LicenseUnknown => {
                "The package declares no license, or one that is not an SPDX expression"
            }
            ReasonCode::LicenseMismatch => {
                "A shipped license text is another license than the declared one, or license-file is missing or leaves the package"
            }
        }
    }

    /// The status a package gets when this reason blocks it (severity deny) or is its worst
    /// warning. `None` for codes that only explain another reason: an expired exemption or
    /// ignore is followed by the finding it no longer waives, which carries the status.
    pub fn status(self) -> Option<Status> {
        Some(match self {
            ReasonCode::Audited => Status::Audited,
            ReasonCode::Exempted => Status::Exempted,
            ReasonCode::OtherPlatform => Status::OtherPlatform,
            ReasonCode::Unaudited => Status::Unaudited,
            ReasonCode::Unassigned => Status::Unassigned,
            ReasonCode::Flagged => Status::Flagged,
            ReasonCode::Advisory | ReasonCode::AdvisoryInformational => Status::Advisory,
            ReasonCode::Yanked => Status::Yanked,
            // A version the index does not list is as untrustworthy as a wrong checksum: the
            // lockfile names a file the registry never published.
            ReasonCode::ChecksumMismatch | ReasonCode::NotInIndex => Status::ChecksumMismatch,
            ReasonCode::SourceNotAllowed => Status::SourceNotAllowed,
            ReasonCode::Risk => Status::Risk,
            ReasonCode::LicenseNotAllowed
            | ReasonCode::LicenseUnknown
            | ReasonCode::LicenseMismatch => Status::License,
            ReasonCode::AdvisoryIgnored
            | ReasonCode::ExemptionExpired
            | ReasonCode::IgnoreExpired => return None,
        })
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for ReasonCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::ReasonCode;

    /// `(code, meaning)` of each row of `docs/check.md`'s "Reason codes" table.
    fn documented() -> Vec<(String, String)> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/check.md");
        let text = std::fs::read_to_string(path).expect("docs/check.md is readable");
        let section = text
            .split("## Reason codes")
            .nth(1)
            .expect("docs/check.md has a Reason codes section");
        section
            .lines()
            .skip_while(|l| !l.starts_with("| code |"))
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .map(|row| {
                let cells: Vec<&str> = row.split('|').map(str::trim).collect();
                (cells[1].trim_matches('`').to_owned(), cells[3].to_owned())
            })
            .collect()
    }

    #[test]
    fn docs_list_every_code_with_its_description_in_order() {
        let expected: Vec<(String, String)> = ReasonCode::ALL
            .iter()
            .map(|c| (c.code().to_owned(), c.description().to_owned()))
            .collect();
        assert_eq!(documented(), expected);
    }

    #[test]
    fn codes_are_distinct_and_serialize_as_themselves() {
        let codes: BTreeSet<&str> = ReasonCode::ALL.iter().map(|c| c.code()).collect();
        assert_eq!(codes.len(), ReasonCode::ALL.len());
        for c in ReasonCode::ALL {
            assert_eq!(
                serde_json::to_value(c).expect("serializes"),
                serde_json::json!(c.code())
            );
            assert_eq!(c.to_string(), c.code());
        }
    }
}
