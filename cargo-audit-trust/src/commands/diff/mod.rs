//! `diff`: a published crate against its git repository (`diff NAME[@VERSION]`, or
//! `diff NAME VERSION`), or two published versions against each other (`diff NAME OLD NEW`).

mod provenance;
mod versions;

use std::process::ExitCode;

use audit_trust_core::names::{validate_crate_name, validate_version};

use crate::cli::DiffArgs;
use crate::error::CliError;
use crate::settings::Settings;
use provenance::{ProvenanceRequest, repository_argument};

/// Exit code when the crate differs from its repository or cannot be verified, or when two
/// versions differ.
const EXIT_DIFFERS: u8 = 1;

pub fn run(settings: &Settings, args: &DiffArgs) -> Result<ExitCode, CliError> {
    let (name, mut version) = parse_spec(&args.krate)?;
    let mut versions = args.versions.as_slice();
    // `diff NAME VERSION` is `diff NAME@VERSION`, as `sign NAME VERSION` names a version.
    if let ([one], None) = (versions, &version) {
        validate_version(one).map_err(|e| CliError::Usage(e.to_string()))?;
        version = Some(one.clone());
        versions = &[];
    }
    match versions {
        [] => provenance::run(
            settings,
            &ProvenanceRequest {
                name: &name,
                version: version.as_deref(),
                repository: args.repo.as_deref().map(repository_argument).transpose()?,
                crate_file: args.crate_file.as_deref(),
                stat: args.stat,
                pager: !args.no_pager,
            },
        ),
        [old, new] => {
            if version.is_some() || args.repo.is_some() || args.crate_file.is_some() {
                return Err(CliError::Usage(
                    "`diff NAME OLD NEW` compares two published versions: it takes no \
                     NAME@VERSION, --repo or --crate-file"
                        .into(),
                ));
            }
            for v in [old, new] {
                validate_version(v).map_err(|e| CliError::Usage(e.to_string()))?;
            }
            versions::run(settings, &name, old, new, args.stat, !args.no_pager)
        }
        _ => Err(CliError::Usage(
            "give two versions to compare (`diff NAME OLD NEW`), or one (`diff NAME VERSION`, \
             `diff NAME@VERSION`) or none to compare with the repository"
                .into(),
        )),
    }
}

/// `NAME` or `NAME@VERSION`, both validated before they name files or URLs.
fn parse_spec(spec: &str) -> Result<(String, Option<String>), CliError> {
    let (name, version) = match spec.split_once('@') {
        Some((name, version)) => (name, Some(version)),
        None => (spec, None),
    };
    validate_crate_name(name).map_err(|e| CliError::Usage(e.to_string()))?;
    if let Some(version) = version {
        validate_version(version).map_err(|e| CliError::Usage(e.to_string()))?;
    }
    Ok((name.to_owned(), version.map(str::to_owned)))
}

fn exit_code(same: bool) -> ExitCode {
    if same {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_DIFFERS)
    }
}
