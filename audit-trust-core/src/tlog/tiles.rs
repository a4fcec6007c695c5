//! C2SP `tlog-tiles` contents for a static export: level-0 hash tiles (each leaf hash, 32 bytes,
//! in order), entry bundles (each entry's bytes with a 2-byte big-endian length), and beside
//! them, under `records/`, each entry's signed record as one JSON line (so a monitor reading
//! only static files can check every signature).

use super::crate_index::LogEntry;
use super::error::TlogError;
use super::merkle::Hash;
use super::verify::{TILE_WIDTH, tile_path};
use crate::signoff::RecordId;

/// The path of entry bundle `index` of `width` entries: `tile/entries/<N>[.p/<W>]`.
pub fn entries_path(index: u64, width: u64) -> String {
    tile_path(0, index, width).replacen("tile/0/", "tile/entries/", 1)
}

/// The path of the records beside entry bundle `index`: `records/<N>[.p/<W>]`.
pub fn records_path(index: u64, width: u64) -> String {
    tile_path(0, index, width).replacen("tile/0/", "records/", 1)
}

/// How many tiles a tree of `size` leaves has at level 0, and the width of the last.
pub fn tile_count(size: u64) -> (u64, u64) {
    let count = size.div_ceil(TILE_WIDTH);
    let last = size - count.saturating_sub(1) * TILE_WIDTH;
    (count, last)
}

pub fn hash_tile(hashes: &[Hash]) -> Vec<u8> {
    hashes.concat()
}

pub fn parse_hash_tile(bytes: &[u8], width: u64, path: &str) -> Result<Vec<Hash>, TlogError> {
    if bytes.len() as u64 != width * 32 {
        return Err(TlogError::TileMismatch {
            tile: format!("{path} ({} bytes, not {width} hashes)", bytes.len()),
        });
    }
    Ok(bytes
        .chunks(32)
        .map(|c| {
            let mut h = [0u8; 32];
            h.copy_from_slice(c);
            h
        })
        .collect())
}

pub fn entry_bundle(entries: &[LogEntry]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        let bytes = e.to_bytes();
        let len = u16::try_from(bytes.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&bytes[..usize::from(len)]);
    }
    out
}

/// The entries of a bundle, exactly `width` of them.
pub fn parse_entry_bundle(
    bytes: &[u8],
    width: u64,
    path: &str,
) -> Result<Vec<LogEntry>, TlogError> {
    let bad = |why: &str| TlogError::TileMismatch {
        tile: format!("{path} ({why})"),
    };
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        if rest.len() < 2 {
            return Err(bad("a truncated length"));
        }
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
        let Some(entry) = rest.get(2..2 + len) else {
            return Err(bad("a truncated entry"));
        };
        out.push(parse_entry(entry).ok_or_else(|| bad("an entry that is not a log entry"))?);
        rest = &rest[2 + len..];
    }
    if out.len() as u64 != width {
        return Err(bad("another number of entries than its width"));
    }
    Ok(out)
}

/// Reads the bytes of [`LogEntry::to_bytes`] back.
fn parse_entry(bytes: &[u8]) -> Option<LogEntry> {
    let text = std::str::from_utf8(bytes).ok()?;
    let mut lines = text.strip_suffix('\n')?.split('\n');
    let (tag, name, ordinal, id) = (lines.next()?, lines.next()?, lines.next()?, lines.next()?);
    if lines.next().is_some() || tag != "audit-trust log entry v1" {
        return None;
    }
    let entry = LogEntry {
        crate_name: name.to_owned(),
        ordinal: ordinal.parse().ok()?,
        record_id: RecordId::parse(id).ok()?,
    };
    // Only the canonical form: the leaf hash is over these exact bytes.
    (entry.to_bytes() == bytes).then_some(entry)
}
