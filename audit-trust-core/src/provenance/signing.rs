//! What a `source-matches` sign-off may take from a provenance report. The rule lives here, next
//! to the engine, so the signing command and the registry's automatic auditor apply the same one:
//! only a `matches` against a **pinned** or **signed-off** repository is evidence; a repository
//! the crate merely claims never is (its publisher chose it).

use super::report::{ProvenanceReport, RepositorySource, Verdict};

/// The facts a `source-matches` sign-off records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceMatch {
    /// The repository's identity (before URL rewrites).
    pub repository: String,
    pub commit: String,
    /// The branch or tag the commit was found on.
    pub reference: Option<String>,
    pub repository_source: RepositorySource,
}

/// The evidence in `report`, or why there is none (a sentence naming the verdict or the source).
pub fn source_match(report: &ProvenanceReport) -> Result<SourceMatch, String> {
    if report.verdict != Verdict::Matches {
        let verdict = match report.verdict {
            Verdict::Differs => "differs",
            _ => "unverifiable",
        };
        return Err(format!(
            "{}@{} {verdict} from its repository: {}",
            report.name, report.version, report.reason
        ));
    }
    let (Some(repository), Some(source), Some(commit)) = (
        report.repository.clone(),
        report.repository_source,
        report.commit.clone(),
    ) else {
        return Err("the report names no repository or commit".into());
    };
    if source == RepositorySource::Claimed {
        return Err(format!(
            "{}@{} matches {repository}, but only because the crate names it: pin the \
             repository in [sources] (or rely on an earlier source-matches sign-off) to sign \
             source-matches",
            report.name, report.version
        ));
    }
    Ok(SourceMatch {
        repository,
        commit,
        reference: report.reference.clone(),
        repository_source: source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(verdict: Verdict, source: RepositorySource) -> ProvenanceReport {
        let mut report = ProvenanceReport::new("a", "1.0.0");
        report.verdict = verdict;
        report.reason = "because".into();
        report.repository = Some("https://git.example/a".into());
        report.repository_source = Some(source);
        report.commit = Some("0123456789abcdef0123456789abcdef01234567".into());
        report.reference = Some("refs/tags/v1.0.0".into());
        report
    }

    #[test]
    fn only_a_match_against_a_trusted_repository_is_evidence() {
        for source in [RepositorySource::Pinned, RepositorySource::SignedOff] {
            let evidence = source_match(&report(Verdict::Matches, source)).expect("evidence");
            assert_eq!(evidence.repository_source, source);
            assert_eq!(evidence.reference.as_deref(), Some("refs/tags/v1.0.0"));
        }
        let claimed = source_match(&report(Verdict::Matches, RepositorySource::Claimed));
        assert!(
            claimed
                .expect_err("claimed")
                .contains("only because the crate names it")
        );
        for verdict in [Verdict::Differs, Verdict::Unverifiable] {
            let err = source_match(&report(verdict, RepositorySource::Pinned)).expect_err("no");
            assert!(err.contains("from its repository: because"), "{err}");
        }
    }
}
