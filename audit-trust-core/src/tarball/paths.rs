//! Entry paths and kinds, checked before anything trusts them: no traversal, no absolute paths,
//! no characters that mean something else to a file system or a terminal, no links or devices.

use std::io::Read;

use tar::EntryType;

use super::{EntryKind, TarballError};

/// The path as UTF-8, refusing bytes that would make it mean something else to a file system or
/// a terminal.
pub(super) fn decode_path(bytes: &[u8]) -> Result<String, TarballError> {
    let path = std::str::from_utf8(bytes).map_err(|_| TarballError::NonUtf8Path {
        path: printable(&String::from_utf8_lossy(bytes)),
    })?;
    if let Some(reason) = unsafe_character(path) {
        return Err(TarballError::UnsafePath {
            path: printable(path),
            reason,
        });
    }
    Ok(path.to_owned())
}

pub(super) fn unsafe_character(path: &str) -> Option<String> {
    path.chars().find_map(|c| match c {
        '\0' => Some("a NUL byte".to_owned()),
        // A separator on Windows: `a\..\..\x` would climb out of the crate there.
        '\\' => Some("a backslash".to_owned()),
        // Control characters (newline, escape, ...) can forge lines or terminal escape
        // sequences when the path is shown to a reviewer.
        c if c.is_control() => Some(format!("a control character (U+{:04X})", u32::from(c))),
        // Bidirectional overrides make a name display differently from what it is
        // ("Trojan Source"), e.g. `evil\u{202E}sr.txt` shows as `eviltxt.rs`.
        '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => {
            Some(format!(
                "a Unicode bidirectional control character (U+{:04X})",
                u32::from(c)
            ))
        }
        _ => None,
    })
}

/// `text` with control characters escaped, safe to put in an error message.
pub(super) fn printable(text: &str) -> String {
    let mut shown = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            shown.extend(c.escape_default());
        } else {
            shown.push(c);
        }
    }
    shown
}

pub(super) fn entry_kind<R: Read>(
    entry: &tar::Entry<'_, R>,
    path: &str,
) -> Result<EntryKind, TarballError> {
    let forbidden = |kind: String| TarballError::ForbiddenEntryType {
        path: path.to_owned(),
        kind,
    };
    let link_target = || {
        entry
            .link_name_bytes()
            .map(|target| printable(&String::from_utf8_lossy(&target)))
            .unwrap_or_default()
    };
    match entry.header().entry_type() {
        EntryType::Regular => Ok(EntryKind::File),
        EntryType::Directory => Ok(EntryKind::Directory),
        EntryType::Symlink => Err(forbidden(format!("a symbolic link to `{}`", link_target()))),
        EntryType::Link => Err(forbidden(format!("a hard link to `{}`", link_target()))),
        EntryType::Char => Err(forbidden("a character device".to_owned())),
        EntryType::Block => Err(forbidden("a block device".to_owned())),
        EntryType::Fifo => Err(forbidden("a named pipe (FIFO)".to_owned())),
        // Cargo unpacks crates with the same tar crate, which does not apply global headers;
        // refuse them rather than guess what they were meant to change.
        EntryType::XGlobalHeader => Err(forbidden("a PAX global header".to_owned())),
        EntryType::GNUSparse => Err(forbidden("a sparse file".to_owned())),
        other => Err(forbidden(format!(
            "an entry of unsupported type {:?}",
            char::from(other.as_byte())
        ))),
    }
}

/// The path relative to `NAME-VERSION/` (empty for that directory itself), after refusing
/// absolute paths, `..`, and components that are empty, `.` or a Windows drive.
pub(super) fn relative_path<'a>(
    path: &'a str,
    prefix: &str,
    kind: EntryKind,
) -> Result<&'a str, TarballError> {
    let unsafe_path = |reason: &str| TarballError::UnsafePath {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    if path.starts_with('/') {
        return Err(TarballError::AbsolutePath {
            path: path.to_owned(),
        });
    }
    if path.split('/').any(|component| component == "..") {
        return Err(TarballError::PathTraversal {
            path: path.to_owned(),
        });
    }
    // Directories are conventionally stored as `dir/`; a file never is.
    let trimmed = match kind {
        EntryKind::Directory => path.strip_suffix('/').unwrap_or(path),
        EntryKind::File => path,
    };
    let relative = match trimmed.strip_prefix(prefix) {
        Some("") if kind == EntryKind::Directory => "",
        Some(rest) => rest
            .strip_prefix('/')
            .ok_or_else(|| TarballError::OutsidePrefix {
                path: path.to_owned(),
                prefix: prefix.to_owned(),
            })?,
        None => {
            return Err(TarballError::OutsidePrefix {
                path: path.to_owned(),
                prefix: prefix.to_owned(),
            });
        }
    };
    if relative.is_empty() {
        return if kind == EntryKind::Directory {
            Ok(relative)
        } else {
            Err(unsafe_path("an empty file name"))
        };
    }
    for component in relative.split('/') {
        if component.is_empty() {
            return Err(unsafe_path("an empty component (`//` or a trailing `/`)"));
        }
        if component == "." {
            return Err(unsafe_path("a `.` component"));
        }
        if looks_like_windows_drive(component) {
            return Err(unsafe_path(
                "a component that Windows reads as a drive (`C:`), which would make it absolute",
            ));
        }
    }
    Ok(relative)
}

pub(super) fn looks_like_windows_drive(component: &str) -> bool {
    let bytes = component.as_bytes();
    bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':'
}
