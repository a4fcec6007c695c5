//! Files a crate's code pulls in from outside the counted set with `#[path = "…"]`.
//!
//! Classification counts every `.rs` file outside `tests/`, `benches/` and `examples/`. A
//! `#[path]` attribute can make the library compile any file of the package, whatever its folder
//! or extension (`#[path = "../tests/x.rs"] mod x;`, `#[path = "data.txt"] mod y;`), which would
//! hide that file's `unsafe` from the count. So every file such an attribute names is counted as
//! the code of whoever declared it, and so are the files *its* `mod x;` declarations load, as
//! rustc resolves them:
//! - `#[path]` is relative to the directory of the declaring file; inside inline `mod a { .. }`
//!   blocks, the blocks' names are added as folders, after the file's own stem when the file is
//!   not a `mod.rs`-style file (a crate root, a `mod.rs`, or a file loaded with `#[path]`);
//! - `mod x;` loads `x.rs` or `x/mod.rs` from that same directory.
//!
//! Every `path = "…"` inside an attribute on a `mod` declaration counts, including the arms of
//! `#[cfg_attr(…, path = "…")]`: which `cfg` holds is not known here, so all are counted. A path
//! that would leave the package (absolute, or `..` above its root) is refused: a published crate
//! cannot hold it, and following it could read another crate's files from cargo's source folder.

use std::collections::{BTreeMap, BTreeSet};

use super::lexer::{Lexer, TokenKind};

/// One `mod NAME;` declaration found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ModDecl {
    /// The enclosing inline modules' folder names, outermost first.
    pub inline: Vec<String>,
    pub name: String,
    /// The `path = "…"` values of its attributes, decoded; empty for a plain declaration.
    pub paths: Vec<String>,
}

/// Why a declared path cannot be followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Escape {
    pub file: String,
    pub path: String,
}

/// Who pulled a file in: library code is counted in full, build-script code for `unsafe` only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Role {
    BuildScript,
    Library,
}

/// The files outside `counted` that `#[path]` attributes in `origins` reach, with the role of
/// whoever reached them (library wins over build script). `origins` are the counted files that
/// are compiled: library and binary sources (role `Library`) and build scripts.
pub(super) fn pulled_in(
    files: &BTreeMap<&str, &[u8]>,
    origins: &[(&str, Role)],
    counted: &BTreeSet<&str>,
    roots: &BTreeSet<&str>,
) -> Result<BTreeMap<String, Role>, Escape> {
    let mut pulled: BTreeMap<String, Role> = BTreeMap::new();
    // (file, role, whether it is a `mod.rs`-style file, whether its plain `mod`s are followed)
    let mut work: Vec<(String, Role, bool, bool)> = origins
        .iter()
        .map(|(path, role)| {
            let mod_rs = roots.contains(path) || file_name(path) == "mod.rs";
            ((*path).to_owned(), *role, mod_rs, false)
        })
        .collect();
    while let Some((file, role, mod_rs, follow_plain)) = work.pop() {
        let Some(bytes) = files.get(file.as_str()) else {
            continue;
        };
        for decl in mod_decls(bytes) {
            let mut base = parent(&file);
            if !decl.inline.is_empty() && !mod_rs {
                base.push(stem(&file).to_owned());
            }
            base.extend(decl.inline.iter().cloned());
            let mut reached: Vec<(String, bool)> = Vec::new();
            for path in &decl.paths {
                let target = join(&base, path).ok_or_else(|| Escape {
                    file: file.clone(),
                    path: path.clone(),
                })?;
                reached.push((target, true));
            }
            if decl.paths.is_empty() && follow_plain {
                for candidate in [format!("{}.rs", decl.name), format!("{}/mod.rs", decl.name)] {
                    if let Some(target) = join(&base, &candidate) {
                        let mod_rs = candidate.ends_with("/mod.rs");
                        reached.push((target, mod_rs));
                    }
                }
            }
            for (target, mod_rs) in reached {
                if counted.contains(target.as_str()) || !files.contains_key(target.as_str()) {
                    continue;
                }
                let known = pulled.get(&target).copied();
                if known.is_some_and(|r| r >= role) {
                    continue;
                }
                pulled.insert(target.clone(), role);
                work.push((target, role, mod_rs, true));
            }
        }
    }
    Ok(pulled)
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn stem(path: &str) -> &str {
    let name = file_name(path);
    name.rsplit_once('.').map_or(name, |(stem, _)| stem)
}

fn parent(path: &str) -> Vec<String> {
    let mut parts: Vec<String> = path.split('/').map(str::to_owned).collect();
    parts.pop();
    parts
}

/// `base` joined with a relative `path`, `.` and `..` resolved; `None` when it is absolute or
/// climbs above the package root.
fn join(base: &[String], path: &str) -> Option<String> {
    if path.starts_with('/') || path.contains('\0') {
        return None;
    }
    let mut parts: Vec<&str> = base.iter().map(String::as_str).collect();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

/// The `mod NAME;` declarations of one file, with their `path` attributes and enclosing inline
/// modules. A token-level reading: attributes are recognized by `#[`, items by `mod NAME`.
pub(super) fn mod_decls(source: &[u8]) -> Vec<ModDecl> {
    let mut out = Vec::new();
    // Inline modules open: (folder name, brace depth inside it).
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut pending_paths: Vec<String> = Vec::new();
    let mut attr = Attr::None;
    let mut item = Item::None;
    let text = |start: usize, end: usize| source.get(start..end).unwrap_or_default();
    for token in Lexer::new(source) {
        let t = text(token.start, token.end);
        let (next, consumed) = attr.step(token.kind, t, &mut pending_paths);
        attr = next;
        if consumed {
            continue;
        }
        match (item, token.kind) {
            (Item::None, TokenKind::Ident) if t == b"mod" => {
                item = Item::Mod;
                continue;
            }
            (Item::Mod, TokenKind::Ident | TokenKind::RawIdent) => {
                let name = String::from_utf8_lossy(t.strip_prefix(b"r#").unwrap_or(t));
                item = Item::Named(name.into_owned());
                continue;
            }
            (Item::Named(ref name), TokenKind::Punct(b';')) => {
                out.push(ModDecl {
                    inline: inline.iter().map(|(n, _)| n.clone()).collect(),
                    name: name.clone(),
                    paths: std::mem::take(&mut pending_paths),
                });
                item = Item::None;
                continue;
            }
            (Item::Named(ref name), TokenKind::Punct(b'{')) => {
                // An inline module's folder is its `path`, when it has one, else its name.
                let folder = pending_paths.pop().unwrap_or_else(|| name.clone());
                pending_paths.clear();
                depth += 1;
                inline.push((folder, depth));
                item = Item::None;
                continue;
            }
            _ => item = Item::None,
        }
        match token.kind {
            TokenKind::Punct(b'#') => attr = Attr::Hash,
            TokenKind::Punct(b'{') => {
                depth += 1;
                pending_paths.clear();
            }
            TokenKind::Punct(b'}') => {
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
                depth = depth.saturating_sub(1);
                pending_paths.clear();
            }
            TokenKind::Punct(b';') => pending_paths.clear(),
            _ => {}
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    None,
    /// `mod`
    Mod,
    /// `mod NAME`
    Named(String),
}

/// Where we are in an outer attribute `#[…]`; `path = "…"` anywhere inside it is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attr {
    None,
    /// `#`
    Hash,
    /// Inside `#[`, at bracket depth `depth`; `seen` is how much of `path = "…"` was just seen.
    Body {
        depth: u32,
        seen: u8,
    },
}

impl Attr {
    /// The next state, and whether the token belonged to an attribute (and is consumed by it).
    fn step(self, kind: TokenKind, text: &[u8], paths: &mut Vec<String>) -> (Attr, bool) {
        let next = match (self, kind) {
            (Attr::Hash, TokenKind::Punct(b'[')) => Attr::Body { depth: 1, seen: 0 },
            // Not in an attribute, or `#!` (an inner attribute, never on a declaration).
            (Attr::None | Attr::Hash, _) => return (Attr::None, false),
            (Attr::Body { depth, seen }, _) => match kind {
                TokenKind::Punct(b'[' | b'(' | b'{') => Attr::Body {
                    depth: depth.saturating_add(1),
                    seen: 0,
                },
                TokenKind::Punct(b']' | b')' | b'}') if depth <= 1 => Attr::None,
                TokenKind::Punct(b']' | b')' | b'}') => Attr::Body {
                    depth: depth - 1,
                    seen: 0,
                },
                TokenKind::Ident if text == b"path" => Attr::Body { depth, seen: 1 },
                TokenKind::Punct(b'=') if seen == 1 => Attr::Body { depth, seen: 2 },
                TokenKind::Str if seen == 2 => {
                    if let Some(path) = string_value(text) {
                        paths.push(path);
                    }
                    Attr::Body { depth, seen: 0 }
                }
                _ => Attr::Body { depth, seen: 0 },
            },
        };
        (next, true)
    }
}

/// The value of a plain or raw string literal token (`"a\\b.rs"`, `r#"x.rs"#`); `None` for other
/// flavours (`b"…"`, `c"…"`), which `#[path]` does not accept.
fn string_value(token: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(token).ok()?;
    if let Some(raw) = text.strip_prefix('r') {
        let hashes = raw.len() - raw.trim_start_matches('#').len();
        let inner = raw.get(hashes..raw.len().checked_sub(hashes)?)?;
        return inner
            .strip_prefix('"')?
            .strip_suffix('"')
            .map(str::to_owned);
    }
    unescape(text.strip_prefix('"')?.strip_suffix('"')?)
}

/// Rust string escapes; `None` for a malformed one.
fn unescape(body: &str) -> Option<String> {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            '0' => out.push('\0'),
            '\\' => out.push('\\'),
            '\'' => out.push('\''),
            '"' => out.push('"'),
            'x' => {
                let hex: String = [chars.next()?, chars.next()?].iter().collect();
                out.push(char::from(u8::from_str_radix(&hex, 16).ok()?));
            }
            'u' => {
                if chars.next()? != '{' {
                    return None;
                }
                let mut hex = String::new();
                loop {
                    match chars.next()? {
                        '}' => break,
                        '_' => {}
                        h => hex.push(h),
                    }
                }
                out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
            }
            // A line continuation: the newline and the next line's leading whitespace vanish.
            '\n' => {
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
            }
            _ => return None,
        }
    }
    Some(out)
}
