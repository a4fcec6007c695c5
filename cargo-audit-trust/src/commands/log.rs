//! `log verify URL --log-key KEY`: what an independent monitor runs. It replays a registry's
//! whole transparency log from `GET /v1/log/entries`, checks every record and entry, recomputes
//! the tree and the crate index the checkpoint signs, and checks every checkpoint of this log it
//! verified before (kept per log in the cache folder): a smaller tree is a rollback, another root
//! at a size seen before is a fork. With `--tiles` it reads a static export's C2SP tiles instead
//! (level-0 hash tiles, entry bundles, and the records beside them), then every tile above
//! level 0 against the level below it and the checkpoint's root. Exit 0 clean, 2 on any
//! problem.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use audit_trust_core::http::HttpClient;
use audit_trust_core::signoff::{PublicKey, RecordId, hex};
use audit_trust_core::tlog::{
    Checkpoint, Hash, LogPin, MAX_NOTE_BYTES, NoteKey, Replay, ServedEntry, SignedNote, TILE_WIDTH,
    TileReader, TlogError, entries_path, leaf_hash, parse_entry_bundle, parse_hash_tile,
    records_path, tile_count, tile_path, verify_checkpoint, verify_leaf_tiles, verify_upper_tiles,
};
use serde::Serialize;
use serde_json::Value;

use crate::cli::{LogCommand, LogVerifyArgs};
use crate::error::CliError;
use crate::output::{write_json, write_stdout};
use crate::services::publish::check_registry_url;
use crate::settings::{OutputFormat, Settings};

/// Entries asked per request (the registry answers at most 1,000).
const PAGE: u64 = 1000;
/// Largest page read: 1,000 records of a few kilobytes each, with room to spare.
const MAX_PAGE_BYTES: u64 = 64 * 1024 * 1024;
/// Checkpoints remembered per log (the newest; each is a prefix of the next).
const MAX_SEEN: usize = 1000;

#[derive(Serialize)]
struct VerifyJson<'a> {
    url: &'a str,
    origin: &'a str,
    ok: bool,
    size: u64,
    crates: u64,
    checkpoints_seen_before: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

pub fn run(settings: &Settings, command: &LogCommand) -> Result<ExitCode, CliError> {
    match command {
        LogCommand::Verify(args) => verify(settings, args),
    }
}

fn verify(settings: &Settings, args: &LogVerifyArgs) -> Result<ExitCode, CliError> {
    check_registry_url(&args.url)?;
    let key = PublicKey::parse(&args.log_key)
        .map_err(|e| CliError::Usage(format!("--log-key `{}`: {e}", args.log_key)))?;
    let base = args.url.trim_end_matches('/');
    let http = HttpClient::default();
    let checkpoint_url = if args.tiles {
        format!("{base}/tlog/checkpoint")
    } else {
        format!("{base}/v1/log/checkpoint")
    };
    let fetched = http
        .get_ok(&checkpoint_url, MAX_NOTE_BYTES as u64)
        .map_err(|e| CliError::Usage(format!("{checkpoint_url}: {e}")))?;
    let note = String::from_utf8_lossy(&fetched).into_owned();
    // The origin comes from the note; the signature check binds it to the pinned key.
    let origin = SignedNote::parse(&note)
        .and_then(|n| Checkpoint::parse_body(&n.body))
        .map_or_else(|_| String::new(), |c| c.origin);
    let seen_file = seen_path(settings, &origin, &key)?;
    let seen = read_seen(&seen_file)?;
    let seen_before = seen.len();
    let mut replay = Replay::new();
    let source = Source {
        http: &http,
        base,
        tiles: args.tiles,
    };
    let outcome = check(&source, &note, &origin, &key, &seen, &mut replay);
    if let Ok(checkpoint) = &outcome {
        remember(&seen_file, seen, checkpoint)?;
    }
    let (code, message) = match &outcome {
        Ok(_) => (None, None),
        Err(Problem::Log(e)) => (Some(e.code()), Some(e.to_string())),
        Err(Problem::Fetch(why)) => (Some("unreachable"), Some(why.clone())),
    };
    let report = VerifyJson {
        url: base,
        origin: &origin,
        ok: outcome.is_ok(),
        size: replay.size(),
        crates: replay.crates(),
        checkpoints_seen_before: seen_before,
        code,
        message,
    };
    match settings.format {
        OutputFormat::Json => write_json(&report)?,
        _ => write_stdout(&human(&report))?,
    }
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

fn human(r: &VerifyJson<'_>) -> String {
    match (r.code, &r.message) {
        (Some(code), Some(message)) => format!(
            "log `{}` at {}: FAILED after {} entries\n  [{code}] {message}\n",
            r.origin.escape_default(),
            r.url,
            r.size
        ),
        _ => format!(
            "log `{}` at {}: {} entries of {} crates verified; the checkpoint is consistent with \
             the {} this cache saw\n",
            r.origin.escape_default(),
            r.url,
            r.size,
            r.crates,
            r.checkpoints_seen_before
        ),
    }
}

enum Problem {
    Log(TlogError),
    Fetch(String),
}

impl From<TlogError> for Problem {
    fn from(e: TlogError) -> Problem {
        Problem::Log(e)
    }
}

/// Where the entries come from: the registry's API, or a static export's tiles.
struct Source<'a> {
    http: &'a HttpClient,
    base: &'a str,
    tiles: bool,
}

impl Source<'_> {
    fn get(&self, path: &str, max: u64) -> Result<Vec<u8>, Problem> {
        let url = format!("{}/{path}", self.base);
        self.http
            .get_ok(&url, max)
            .map_err(|e| Problem::Fetch(format!("{url}: {e}")))
    }
}

/// Verifies the checkpoint, replays every entry up to its size, and checks the seen checkpoints.
fn check(
    source: &Source<'_>,
    note: &str,
    origin: &str,
    key: &PublicKey,
    seen: &[(u64, Hash)],
    replay: &mut Replay,
) -> Result<Checkpoint, Problem> {
    let pin = LogPin {
        origin: origin.to_owned(),
        key: NoteKey::new(origin, *key)?,
        witnesses: Vec::new(),
        min_cosignatures: 0,
        cosigned_after: 0,
        cosigned_before: u64::MAX,
    };
    let checkpoint = verify_checkpoint(&pin, note)?.checkpoint;
    if source.tiles {
        replay_tiles(source, &checkpoint, replay)?;
    }
    while replay.size() < checkpoint.size {
        let path = format!("v1/log/entries?start={}&limit={PAGE}", replay.size());
        let entries = parse_page(&source.get(&path, MAX_PAGE_BYTES)?)?;
        if entries.is_empty() {
            return Err(TlogError::TileMismatch {
                tile: format!("entries from {} (the log serves none)", replay.size()),
            }
            .into());
        }
        for entry in entries.iter().take_while(|e| e.index < checkpoint.size) {
            replay.push(entry)?;
        }
    }
    replay.check_checkpoint(&checkpoint)?;
    for (size, root) in seen {
        replay.check_seen(*size, root)?;
    }
    Ok(checkpoint)
}

/// Replays every level-0 tile of the export: its hashes, the entries that give them, and the
/// records the entries name.
fn replay_tiles(
    source: &Source<'_>,
    checkpoint: &Checkpoint,
    replay: &mut Replay,
) -> Result<(), Problem> {
    let (count, last_width) = tile_count(checkpoint.size);
    let mut tiles = Vec::new();
    for index in 0..count {
        let width = if index + 1 == count {
            last_width
        } else {
            TILE_WIDTH
        };
        let path = tile_path(0, index, width);
        let hashes = parse_hash_tile(
            &source.get(&format!("tlog/{path}"), width * 32)?,
            width,
            &path,
        )?;
        let bundle = source.get(
            &format!("tlog/{}", entries_path(index, width)),
            MAX_PAGE_BYTES,
        )?;
        let entries = parse_entry_bundle(&bundle, width, &entries_path(index, width))?;
        let records = source.get(
            &format!("tlog/{}", records_path(index, width)),
            MAX_PAGE_BYTES,
        )?;
        let records = String::from_utf8_lossy(&records);
        let records: Vec<&str> = records.lines().collect();
        if records.len() as u64 != width {
            return Err(TlogError::TileMismatch {
                tile: format!(
                    "{} ({} records, not {width})",
                    records_path(index, width),
                    records.len()
                ),
            }
            .into());
        }
        for (j, (entry, record)) in entries.iter().zip(&records).enumerate() {
            if entry.leaf_hash() != hashes[j] {
                return Err(TlogError::TileMismatch {
                    tile: format!(
                        "{} (entry {j} does not hash to {path})",
                        entries_path(index, width)
                    ),
                }
                .into());
            }
            replay.push(&ServedEntry {
                index: index * TILE_WIDTH + j as u64,
                crate_name: entry.crate_name.clone(),
                ordinal: entry.ordinal,
                record_id: entry.record_id,
                record: (*record).to_owned(),
            })?;
        }
        tiles.push(hashes);
    }
    verify_leaf_tiles(checkpoint, &tiles)?;
    // The levels above hold hashes of subtrees, for clients building proofs from a few tiles:
    // each must be what the level below hashes to, up to the checkpoint's root.
    let leaves = tiles.concat();
    drop(tiles);
    verify_upper_tiles(
        &mut HttpTiles { source },
        checkpoint.size,
        &checkpoint.root,
        &leaves,
    )?;
    Ok(())
}

/// Hash tiles read from the export over HTTP.
struct HttpTiles<'s> {
    source: &'s Source<'s>,
}

impl TileReader for HttpTiles<'_> {
    fn read_tile(&mut self, path: &str) -> Result<Vec<u8>, String> {
        let url = format!("{}/tlog/{path}", self.source.base);
        self.source
            .http
            .get_ok(&url, TILE_WIDTH * 32)
            .map_err(|e| e.to_string())
    }
}

fn parse_page(bytes: &[u8]) -> Result<Vec<ServedEntry>, TlogError> {
    let bad = |why: &str| TlogError::MalformedProof(format!("a page of log entries: {why}"));
    let value: Value = serde_json::from_slice(bytes).map_err(|_| bad("not JSON"))?;
    let list = value["entries"]
        .as_array()
        .ok_or_else(|| bad("no `entries`"))?;
    list.iter()
        .map(|e| {
            let record_id = e["record_id"]
                .as_str()
                .and_then(|t| RecordId::parse(t).ok())
                .ok_or_else(|| bad("an entry has no record id"))?;
            Ok(ServedEntry {
                index: e["index"]
                    .as_u64()
                    .ok_or_else(|| bad("an entry has no index"))?,
                crate_name: e["crate"]
                    .as_str()
                    .ok_or_else(|| bad("an entry has no crate"))?
                    .to_owned(),
                ordinal: e["ordinal"]
                    .as_u64()
                    .ok_or_else(|| bad("an entry has no ordinal"))?,
                record_id,
                record: e["record"].to_string(),
            })
        })
        .collect()
}

/// `<cache>/tlog/<hash of origin and key>/checkpoints`: one line per checkpoint verified,
/// `<size> <hex root>`.
fn seen_path(settings: &Settings, origin: &str, key: &PublicKey) -> Result<PathBuf, CliError> {
    let id = hex(&leaf_hash(format!("{origin}\n{key}").as_bytes())[..8]);
    Ok(settings
        .cache_dir()?
        .join("tlog")
        .join(id)
        .join("checkpoints"))
}

fn read_seen(path: &Path) -> Result<Vec<(u64, Hash)>, CliError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(CliError::Usage(format!("{}: {e}", path.display()))),
    };
    let damaged = || {
        CliError::Usage(format!(
            "{} is damaged: it is not `<size> <root>` lines (remove it only if you know why)",
            path.display()
        ))
    };
    text.lines()
        .map(|line| {
            let (size, root) = line.split_once(' ').ok_or_else(damaged)?;
            let size = size.parse::<u64>().map_err(|_| damaged())?;
            let root = unhex(root).ok_or_else(damaged)?;
            Ok((size, root))
        })
        .collect()
}

/// Adds `checkpoint` to the seen list (written whole: temporary file, then rename).
fn remember(
    path: &Path,
    mut seen: Vec<(u64, Hash)>,
    checkpoint: &Checkpoint,
) -> Result<(), CliError> {
    if seen.iter().any(|(s, _)| *s == checkpoint.size) {
        return Ok(());
    }
    seen.push((checkpoint.size, checkpoint.root));
    seen.sort_by_key(|(s, _)| *s);
    let keep = seen.len().saturating_sub(MAX_SEEN);
    let text: String = seen[keep..]
        .iter()
        .map(|(s, r)| format!("{s} {}\n", hex(r)))
        .collect();
    let io = |e: std::io::Error| CliError::Usage(format!("{}: {e}", path.display()));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let temp = path.with_extension("tmp");
    std::fs::write(&temp, text).map_err(io)?;
    std::fs::rename(&temp, path).map_err(io)
}

fn unhex(text: &str) -> Option<Hash> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}
