//! Criteria: what an auditor checked. Two are built in; a project may name its own (the gate
//! issue lets a custom criterion imply others).

use std::fmt;

/// Longest criterion name: names are identifiers, not prose.
const MAX_CRITERION_LEN: usize = 64;

/// Ordered by name, which is the order records list them in.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Criterion {
    /// The published tarball equals the git repository at the recorded commit (generated files
    /// aside), checked by the provenance engine.
    SourceMatches,
    /// A person read the code.
    Reviewed,
    /// A project-defined name: lowercase ASCII letters, digits and `-`, starting with a letter.
    Custom(String),
}

impl Criterion {
    pub fn parse(text: &str) -> Result<Criterion, String> {
        match text {
            "source-matches" => return Ok(Criterion::SourceMatches),
            "reviewed" => return Ok(Criterion::Reviewed),
            _ => {}
        }
        let valid = text.len() <= MAX_CRITERION_LEN
            && text.starts_with(|c: char| c.is_ascii_lowercase())
            && text
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if valid {
            Ok(Criterion::Custom(text.to_owned()))
        } else {
            Err(format!(
                "`{}` is not a criterion name: lowercase ASCII letters, digits and `-`, starting \
                 with a letter, at most {MAX_CRITERION_LEN} characters",
                text.chars()
                    .take(MAX_CRITERION_LEN + 1)
                    .flat_map(char::escape_default)
                    .collect::<String>()
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Criterion::SourceMatches => "source-matches",
            Criterion::Reviewed => "reviewed",
            Criterion::Custom(name) => name,
        }
    }
}

impl Ord for Criterion {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialOrd for Criterion {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Criterion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Criterion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Criterion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Criterion::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_and_custom_names() {
        assert_eq!(
            Criterion::parse("source-matches"),
            Ok(Criterion::SourceMatches)
        );
        assert_eq!(Criterion::parse("reviewed"), Ok(Criterion::Reviewed));
        assert_eq!(
            Criterion::parse("safe-to-deploy"),
            Ok(Criterion::Custom("safe-to-deploy".into()))
        );
        for bad in [
            "",
            "Reviewed",
            "-x",
            "1x",
            "a b",
            "a\u{1b}",
            "é",
            &"a".repeat(65),
        ] {
            assert!(Criterion::parse(bad).is_err(), "{bad:?}");
        }
    }
}
