//! The commands README.md and docs/ show, as a user would copy them: every line of a `sh`,
//! `bash`, `console` or `yaml` block that runs one of our programs. Each binary's tests parse
//! them with its own argument parser, so a renamed subcommand or flag cannot leave the docs
//! wrong ("every command in README and docs/ works as written").

use std::path::{Path, PathBuf};

/// One documented command line.
#[derive(Debug, Clone)]
pub struct DocCommand {
    pub file: PathBuf,
    pub line: usize,
    /// The words after the program's name, as the shell would pass them.
    pub args: Vec<String>,
}

impl std::fmt::Display for DocCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}: {}",
            self.file.display(),
            self.line,
            self.args.join(" ")
        )
    }
}

/// The repository's root (this crate lives in `tests/`).
pub fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// Every command of `program` (`"cargo audit-trust"` or `"audit-registry"`) shown in README.md
/// and docs/*.md under `root`.
pub fn documented_commands(root: &Path, program: &str) -> Vec<DocCommand> {
    let mut files = vec![root.join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/ folder")
        .map(|e| e.expect("docs entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("read {}: {e}", file.display()));
        out.extend(commands_in(&file, &text, program));
    }
    out
}

fn commands_in(file: &Path, text: &str, program: &str) -> Vec<DocCommand> {
    let mut out = Vec::new();
    let mut fence: Option<String> = None;
    let mut pending: Option<(usize, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        if let Some(lang) = raw.trim_start().strip_prefix("```") {
            fence = match fence {
                None => Some(lang.trim().to_owned()),
                Some(_) => None,
            };
            continue;
        }
        let Some(lang) = &fence else { continue };
        if !matches!(lang.as_str(), "sh" | "bash" | "console" | "yaml") {
            continue;
        }
        // A line ending in `\` continues on the next.
        let (start, mut line) = match pending.take() {
            Some((start, head)) => (start, format!("{head} {}", raw.trim())),
            None => (i + 1, raw.trim().to_owned()),
        };
        if let Some(head) = line.strip_suffix('\\') {
            pending = Some((start, head.trim_end().to_owned()));
            continue;
        }
        line = line
            .trim_start_matches("$ ")
            .trim_start_matches("- ")
            .trim_start_matches("run: ")
            .to_owned();
        let words = shell_words(&line);
        // Leading `NAME=value` words set the environment.
        let words: Vec<String> = words
            .into_iter()
            .skip_while(|w| {
                w.split_once('=')
                    .is_some_and(|(name, _)| !name.is_empty() && name.chars().all(is_env_char))
            })
            .collect();
        let program_words: Vec<&str> = program.split(' ').collect();
        if words.len() < program_words.len()
            || words.iter().zip(&program_words).any(|(w, p)| w != p)
        {
            continue;
        }
        let args = words[program_words.len()..].to_vec();
        // A synopsis (`[--flag VALUE]`) is not a command.
        if args.iter().any(|a| a.starts_with('[')) {
            continue;
        }
        out.push(DocCommand {
            file: file.to_owned(),
            line: start,
            args,
        });
    }
    out
}

fn is_env_char(c: char) -> bool {
    c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'
}

/// Words as a POSIX shell splits them, for the simple lines docs hold: quotes, and the line cut
/// at a comment, a redirection, a pipe or `||`.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                let w = word.get_or_insert_with(String::new);
                for q in chars.by_ref() {
                    if q == c {
                        break;
                    }
                    w.push(q);
                }
            }
            '#' if word.is_none() => break,
            '>' | '|' | '<' | ';' | '&' if word.is_none() => break,
            c if c.is_whitespace() => {
                if let Some(w) = word.take() {
                    words.push(w);
                }
            }
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_split_as_a_shell_would_and_cut_at_comments_and_redirections() {
        let text = "```sh\n\
            cargo audit-trust sign serde 1.0 --notes \"read all of it\"   # a comment\n\
            AUDIT_REGISTRY_TOKEN=atr_x cargo audit-trust watch --registry https://a.example\n\
            audit-registry admin-token new ops --db sqlite://r.db > ops.token\n\
            audit-registry serve \\\n  --listen 127.0.0.1:8080\n\
            cargo audit-trust review [--key PATH]\n\
            ```\n\
            cargo audit-trust not-in-a-block\n";
        let ours = commands_in(Path::new("x.md"), text, "cargo audit-trust");
        let args: Vec<Vec<String>> = ours.iter().map(|c| c.args.clone()).collect();
        assert_eq!(
            args,
            [
                vec!["sign", "serde", "1.0", "--notes", "read all of it"],
                vec!["watch", "--registry", "https://a.example"],
            ]
        );
        let registry = commands_in(Path::new("x.md"), text, "audit-registry");
        let args: Vec<Vec<String>> = registry.iter().map(|c| c.args.clone()).collect();
        assert_eq!(
            args,
            [
                vec!["admin-token", "new", "ops", "--db", "sqlite://r.db"],
                vec!["serve", "--listen", "127.0.0.1:8080"],
            ]
        );
        assert_eq!(registry[1].line, 5);
    }
}
