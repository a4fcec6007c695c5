//! The user's per-machine settings file (`config.toml` in the user's config folder; the CLI
//! decides where and passes the path in). Today it holds `[url-rewrite]`: a mirror or a local
//! clone is a fact about one machine, not about the project, so it does not belong in the
//! committed `Cargo.audit`. The machine's entries win over `Cargo.audit`'s for the same prefix.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::{find_key, is_supported_repository_url, line_and_column};
use crate::Error;

/// What the user's config file says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct UserConfig {
    /// Repository URL prefix → replacement, as in `Cargo.audit`.
    #[serde(default)]
    pub url_rewrite: BTreeMap<String, String>,
}

impl UserConfig {
    /// Reads the file at `path`; a file that does not exist is an empty config.
    pub fn load(path: &Path) -> Result<UserConfig, Error> {
        match std::fs::read_to_string(path) {
            Ok(text) => UserConfig::parse(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(UserConfig::default()),
            Err(e) => Err(Error::io(path, e)),
        }
    }

    /// Parses and validates; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<UserConfig, Error> {
        let error = |offset: Option<usize>, message: String| {
            let (line, column) = offset.map_or((None, None), |o| {
                let (l, c) = line_and_column(text, o);
                (Some(l), Some(c))
            });
            Error::AuditFile {
                path: path.to_owned(),
                line,
                column,
                message,
            }
        };
        let config: UserConfig = toml::from_str(text)
            .map_err(|e| error(e.span().map(|s| s.start), e.message().to_owned()))?;
        for (prefix, replacement) in &config.url_rewrite {
            for url in [prefix, replacement] {
                if !is_supported_repository_url(url) {
                    return Err(error(
                        find_key(text, "url-rewrite", prefix),
                        format!(
                            "[url-rewrite] `{url}` is not a repository URL prefix this tool \
                             accepts (https://, ssh://, git@host:, file:// or an absolute path)"
                        ),
                    ));
                }
            }
        }
        Ok(config)
    }

    /// `Cargo.audit`'s rewrites with this machine's on top: for the same prefix the machine's
    /// entry wins.
    pub fn merged_rewrites(&self, project: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        let mut rules = project.clone();
        rules.extend(self.url_rewrite.iter().map(|(k, v)| (k.clone(), v.clone())));
        rules
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use super::UserConfig;

    #[test]
    fn machine_rewrites_win_over_the_project_s() {
        let config = UserConfig::parse(
            "[url-rewrite]\n\"https://github.com/\" = \"https://mirror.local/gh/\"\n",
            Path::new("config.toml"),
        )
        .expect("valid");
        let project = BTreeMap::from([
            (
                "https://github.com/".to_owned(),
                "https://corp.example/gh/".to_owned(),
            ),
            (
                "https://gitlab.com/".to_owned(),
                "https://corp.example/gl/".to_owned(),
            ),
        ]);
        let merged = config.merged_rewrites(&project);
        assert_eq!(merged["https://github.com/"], "https://mirror.local/gh/");
        assert_eq!(merged["https://gitlab.com/"], "https://corp.example/gl/");
    }

    #[test]
    fn bad_entries_name_the_file_and_line() {
        let err = UserConfig::parse(
            "[url-rewrite]\n\n\"https://github.com/\" = \"http://mirror/\"\n",
            Path::new("config.toml"),
        )
        .expect_err("plain http is refused");
        assert!(
            err.to_string()
                .starts_with("config.toml:3:1: [url-rewrite]"),
            "{err}"
        );
        let err = UserConfig::parse("[url-rewrites]\n", Path::new("config.toml"))
            .expect_err("a typo must fail");
        assert!(err.to_string().contains("url-rewrites"), "{err}");
        let missing = UserConfig::load(Path::new("/nonexistent/cargo-audit-trust/config.toml"))
            .expect("a missing file is an empty config");
        assert!(missing.url_rewrite.is_empty());
    }
}
