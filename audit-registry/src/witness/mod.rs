//! `audit-registry witness`: a minimal C2SP `tlog-witness` for one log. `POST /add-checkpoint`
//! cosigns the log's checkpoint only if the pinned log key signed it and it extends the last
//! checkpoint this witness cosigned (a consistency proof from the size it holds). The new state
//! is written to disk (temporary file, fsync, rename) before the cosignature is returned, so a
//! witness that crashes and restarts can never cosign a second history.
//!
//! [`collect`] is the other side: the registry asking its configured witnesses.

pub mod collect;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use audit_trust_core::signoff::{PublicKey, SigningKey};
use audit_trust_core::tlog::{
    AddCheckpoint, Checkpoint, LogPin, MAX_NOTE_BYTES, NoteKey, TlogError, WitnessRefusal,
    WitnessState, add_checkpoint, parse_add_checkpoint_body,
};
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use tokio::sync::Mutex;

use crate::serve::{ConnectionLimits, serve};

/// Largest `add-checkpoint` body: a checkpoint note and 63 proof lines.
const MAX_REQUEST_BYTES: usize = MAX_NOTE_BYTES + 64 * 64;
/// Largest state file read at start (one checkpoint body).
const MAX_STATE_BYTES: u64 = 64 * 1024;

/// `audit-registry witness …`
#[derive(Debug, clap::Args)]
pub struct WitnessArgs {
    /// The witness's key name, which clients pin with its key (C2SP suggests a schema-less
    /// URL, e.g. `witness.example.org/w1`)
    #[arg(long)]
    pub name: String,
    /// The witness's key file (`cargo audit-trust key new`); it signs the cosignatures
    #[arg(long, value_name = "PATH")]
    pub key: PathBuf,
    /// The origin of the log to witness, as its `GET /v1/log/key` says
    #[arg(long, value_name = "ORIGIN")]
    pub log_origin: String,
    /// The log's public key (`ed25519:…`), as its `GET /v1/log/key` says
    #[arg(long, value_name = "KEY")]
    pub log_key: String,
    /// The file that keeps the last cosigned checkpoint (created on first start; a witness that
    /// loses it must get a new key). The witness holds a lock on PATH.lock while it runs, so a
    /// second witness on the same file refuses to start
    #[arg(long, value_name = "PATH")]
    pub state: PathBuf,
    /// Address to listen on (port 0: any free port; the address is printed)
    #[arg(long, default_value = "127.0.0.1:8090")]
    pub listen: SocketAddr,
    /// Pretend it is this instant (YYYY-MM-DDTHH:MM:SSZ) in cosignatures, for reproducible tests
    #[arg(long, hide = true, value_name = "INSTANT")]
    pub now: Option<String>,
}

/// The seconds since the Unix epoch a cosignature states.
pub type UnixClock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// The system clock, or the fixed instant `now` (`--now`): a fixed time lets tests make
/// cosignatures that are already old at a client's clock.
pub fn unix_clock(now: Option<&str>) -> Result<UnixClock, String> {
    let Some(text) = now else {
        return Ok(Arc::new(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        }));
    };
    let secs = audit_trust_core::time::Timestamp::parse(text)
        .and_then(|t| u64::try_from(t.0).ok())
        .ok_or_else(|| format!("--now `{text}`: write 2025-01-31T12:00:00Z"))?;
    Ok(Arc::new(move || secs))
}

#[derive(Clone)]
struct Witness {
    log: LogPin,
    key: NoteKey,
    secret: Arc<SigningKey>,
    state_path: Arc<PathBuf>,
    /// Held from the check of the old size until the new state is on disk (C2SP: both must be
    /// atomic, or two requests could roll the state back).
    state: Arc<Mutex<Option<WitnessState>>>,
    clock: UnixClock,
}

/// Starts the witness from `args`; prints `listening on http://ADDR` first, then serves until
/// `shutdown` completes.
pub async fn run(
    args: WitnessArgs,
    clock: UnixClock,
    shutdown: impl Future<Output = ()>,
) -> Result<(), String> {
    let secret = audit_trust_core::signoff::load_key_file(&args.key)
        .map_err(|e| format!("--key {}: {e}", args.key.display()))?;
    let key = NoteKey::new(&args.name, secret.public_key()).map_err(|e| format!("--name: {e}"))?;
    let log_key = PublicKey::parse(&args.log_key).map_err(|e| format!("--log-key: {e}"))?;
    let log = LogPin {
        origin: args.log_origin.clone(),
        key: NoteKey::new(&args.log_origin, log_key).map_err(|e| format!("--log-origin: {e}"))?,
        witnesses: Vec::new(),
        min_cosignatures: 0,
        cosigned_after: 0,
        cosigned_before: u64::MAX,
    };
    // Held until `run` returns: released by the kernel when the process dies, however it dies.
    let _lock = lock_state(&args.state)?;
    let state = read_state(&args.state, &log.origin)?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    println!("listening on http://{bound}");
    eprintln!(
        "witness `{}` (key {}) for log `{}`, holding size {}",
        key.name,
        key.key,
        log.origin,
        state.as_ref().map_or(0, |s| s.checkpoint.size)
    );
    let witness = Witness {
        log,
        key,
        secret: Arc::new(secret),
        state_path: Arc::new(args.state),
        state: Arc::new(Mutex::new(state)),
        clock,
    };
    let router = Router::new()
        .route("/add-checkpoint", post(add))
        .with_state(witness);
    serve(
        listener,
        router,
        ConnectionLimits::default(),
        Arc::default(),
        shutdown,
    )
    .await;
    Ok(())
}

/// `path` with `suffix` appended to its file name (`state` → `state.lock`), in the same folder.
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(suffix);
    path.with_file_name(name)
}

/// Takes an exclusive advisory lock on `<state>.lock` (created if needed) for as long as the
/// returned file is open. Two witnesses on one state file would each check a request against
/// the size they read and then overwrite each other's state: the later write could put an
/// older checkpoint back, and the witness would then cosign a second history. The lock is on a
/// file of its own because the state file is replaced by a rename on every cosignature, which
/// would leave a lock on it behind on the old inode. `fs4` is the workspace's lock crate
/// (`audit-trust-core` locks its folders with it): `flock` on Unix, `LockFileEx` on Windows,
/// and it works with our minimum Rust, which `std`'s `File::try_lock` (1.89) does not.
fn lock_state(state: &Path) -> Result<std::fs::File, String> {
    let path = beside(state, ".lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| format!("--state: cannot open the lock file {}: {e}", path.display()))?;
    match fs4::FileExt::try_lock(&file) {
        Ok(()) => Ok(file),
        Err(fs4::TryLockError::WouldBlock) => Err(format!(
            "--state {}: another witness process is using this state file (it holds {}); run \
             one witness per state file",
            state.display(),
            path.display()
        )),
        Err(fs4::TryLockError::Error(e)) => {
            Err(format!("--state: cannot lock {}: {e}", path.display()))
        }
    }
}

/// The state file's checkpoint, or none on first start.
fn read_state(path: &Path, origin: &str) -> Result<Option<WitnessState>, String> {
    use std::io::Read as _;
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("--state {}: {e}", path.display())),
    };
    let mut text = String::new();
    file.take(MAX_STATE_BYTES)
        .read_to_string(&mut text)
        .map_err(|e| format!("--state {}: {e}", path.display()))?;
    let state =
        WitnessState::from_text(&text).map_err(|e| format!("--state {}: {e}", path.display()))?;
    if state.checkpoint.origin != origin {
        return Err(format!(
            "--state {} holds a checkpoint of log `{}`, not of `{origin}`",
            path.display(),
            state.checkpoint.origin.escape_default()
        ));
    }
    Ok(Some(state))
}

/// Writes `text` to `path` so that a crash leaves the old or the new file, never a mix: a
/// temporary file beside it, fsync, rename over, fsync the folder.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let temp = beside(path, ".tmp");
    let mut file = std::fs::File::create(&temp)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&temp, path)?;
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

fn text(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

/// The 409 answer C2SP prescribes: the size this witness holds.
fn conflict(held: u64) -> Response {
    (
        StatusCode::CONFLICT,
        [(header::CONTENT_TYPE, "text/x.tlog.size")],
        format!("{held}\n"),
    )
        .into_response()
}

async fn add(State(w): State<Witness>, body: axum::body::Body) -> Response {
    let Ok(bytes) = axum::body::to_bytes(body, MAX_REQUEST_BYTES).await else {
        return text(StatusCode::PAYLOAD_TOO_LARGE, "request too large\n".into());
    };
    let Ok(body) = std::str::from_utf8(&bytes) else {
        return text(StatusCode::BAD_REQUEST, "the request is not UTF-8\n".into());
    };
    let (old_size, proof, note) = match parse_add_checkpoint_body(body) {
        Ok(parts) => parts,
        Err(e) => return text(StatusCode::BAD_REQUEST, format!("{e}\n")),
    };
    let mut state = w.state.lock().await;
    let held = state.as_ref().map(|s| s.checkpoint.clone());
    let request = AddCheckpoint {
        old_size,
        proof: &proof,
        note,
    };
    let time = (w.clock)();
    let outcome = add_checkpoint(&w.log, state.as_ref(), request, &w.key, &w.secret, time);
    let (new_state, cosignature) = match outcome {
        Ok(done) => done,
        Err(refusal) => return refused(&refusal, old_size, note, held.as_ref()),
    };
    let path = Arc::clone(&w.state_path);
    let state_text = new_state.to_text();
    let written = tokio::task::spawn_blocking(move || write_atomically(&path, &state_text)).await;
    if !matches!(written, Ok(Ok(()))) {
        tracing::error!(?written, "cannot store the witness state");
        return text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "cannot store the witness state\n".into(),
        );
    }
    tracing::info!(size = new_state.checkpoint.size, "cosigned");
    *state = Some(new_state);
    text(StatusCode::OK, cosignature.to_line())
}

/// The C2SP status of a refusal: 404 another log, 403 no valid signature by the log key, 400
/// an old size beyond the checkpoint, 409 a stale old size (with the size held) or another root
/// at the held size, 422 a consistency proof that does not verify.
fn refused(
    refusal: &WitnessRefusal,
    old_size: u64,
    note: &str,
    held: Option<&Checkpoint>,
) -> Response {
    let held_size = held.map_or(0, |c| c.size);
    let new_size = audit_trust_core::tlog::SignedNote::parse(note)
        .ok()
        .and_then(|n| Checkpoint::parse_body(&n.body).ok())
        .map(|c| c.size);
    let error = match refusal {
        WitnessRefusal::SizeConflict { held } => {
            if new_size.is_some_and(|n| old_size > n) {
                return text(
                    StatusCode::BAD_REQUEST,
                    "the old size is larger than the checkpoint\n".into(),
                );
            }
            return conflict(*held);
        }
        WitnessRefusal::Invalid(e) => e,
    };
    tracing::warn!(code = error.code(), %error, "refused a checkpoint");
    let status = match error {
        TlogError::OriginMismatch { .. } => StatusCode::NOT_FOUND,
        TlogError::UnknownKey { .. } | TlogError::BadSignature { .. } => StatusCode::FORBIDDEN,
        TlogError::Rollback { .. } => StatusCode::BAD_REQUEST,
        TlogError::Fork { .. } => return conflict(held_size),
        TlogError::BadConsistencyProof(_) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::BAD_REQUEST,
    };
    text(status, format!("{} ({})\n", error, error.code()))
}
