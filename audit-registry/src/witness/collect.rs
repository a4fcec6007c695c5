//! The registry's side of C2SP `tlog-witness`: after a checkpoint, ask every configured witness
//! to cosign it (with the consistency proof from the size that witness last cosigned), check
//! each cosignature against the witness's configured key, and store it; the log then serves it
//! appended to the checkpoint note. A witness that is down or slow costs at most its timeout,
//! after the publish committed: appends never wait for witnesses.

use std::sync::Arc;
use std::time::Duration;

use audit_trust_core::http::HttpClient;
use audit_trust_core::signoff::PublicKey;
use audit_trust_core::tlog::{NoteKey, NoteSignature, SignedNote, add_checkpoint_body};

use crate::db::Db;

/// Largest witness answer read (a few signature lines).
const MAX_ANSWER_BYTES: u64 = 16 * 1024;

/// One witness the registry asks: its key name and key, and its submission URL prefix.
#[derive(Debug, Clone)]
pub struct WitnessConfig {
    pub key: NoteKey,
    pub url: String,
}

impl WitnessConfig {
    /// Reads `NAME,KEY,URL` (`--witness`).
    pub fn parse(text: &str) -> Result<WitnessConfig, String> {
        let usage = || format!("--witness `{text}`: write NAME,ed25519:KEY,URL");
        let mut parts = text.splitn(3, ',');
        let (Some(name), Some(key), Some(url)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(usage());
        };
        let key = PublicKey::parse(key).map_err(|e| format!("{}: {e}", usage()))?;
        let key = NoteKey::new(name, key).map_err(|e| format!("{}: {e}", usage()))?;
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(usage());
        }
        Ok(WitnessConfig {
            key,
            url: url.trim_end_matches('/').to_owned(),
        })
    }
}

/// The configured witnesses and the client that asks them.
#[derive(Debug)]
pub struct Witnesses {
    list: Vec<WitnessConfig>,
    client: HttpClient,
    /// One round at a time in this process: two rounds would race on each witness's old size.
    round: tokio::sync::Mutex<()>,
}

/// What one request to a witness came to.
enum Answer {
    Cosigned(NoteSignature),
    /// 409: the witness holds this size.
    Holds(u64),
    Failed(String),
}

impl Witnesses {
    /// Witnesses answering within `timeout` each. Their URLs are the operator's own
    /// configuration, so they are not held to the egress policy of webhooks.
    pub fn new(list: Vec<WitnessConfig>, timeout: Duration) -> Arc<Witnesses> {
        Arc::new(Witnesses {
            list,
            client: HttpClient::new(timeout),
            round: tokio::sync::Mutex::new(()),
        })
    }

    /// Asks every witness to cosign the latest checkpoint, unless it already has; each gets a
    /// second request with the size it says it holds. Failures are logged, never returned: a
    /// checkpoint without cosignatures is still the log's.
    pub async fn cosign_latest(&self, db: &Db) {
        let _one_round = self.round.lock().await;
        for witness in &self.list {
            if let Err(e) = self.cosign_one(db, witness).await {
                tracing::warn!(witness = %witness.key.name, error = %e, "no cosignature");
            }
        }
    }

    async fn cosign_one(&self, db: &Db, witness: &WitnessConfig) -> Result<(), String> {
        let name = &witness.key.name;
        let mut old = db.witness_size(name).await.map_err(|e| e.to_string())?;
        for _attempt in 0..2 {
            let (size, note, proof) = {
                let log = db.log_state().await.map_err(|e| e.to_string())?;
                let Some(checkpoint) = log.checkpoint.clone() else {
                    return Ok(());
                };
                if old > checkpoint.size {
                    return Err(format!(
                        "the witness holds size {old}, beyond this log's {}",
                        checkpoint.size
                    ));
                }
                let proof = log
                    .tree
                    .consistency_proof(old, checkpoint.size)
                    .map_err(|e| e.to_string())?;
                (checkpoint.size, checkpoint.note, proof)
            };
            if old == size
                && db
                    .has_cosignature(size, name)
                    .await
                    .map_err(|e| e.to_string())?
            {
                return Ok(());
            }
            let body = add_checkpoint_body(old, &proof, &note);
            match self.ask(witness, body, &note).await {
                Answer::Cosigned(line) => {
                    db.store_cosignature(size, name, &line.to_line())
                        .await
                        .map_err(|e| e.to_string())?;
                    tracing::info!(witness = %name, size, "cosigned");
                    return Ok(());
                }
                Answer::Holds(held) => old = held,
                Answer::Failed(why) => return Err(why),
            }
        }
        Err("the witness's size kept changing".into())
    }

    async fn ask(&self, witness: &WitnessConfig, body: String, note: &str) -> Answer {
        let client = self.client.clone();
        let url = format!("{}/add-checkpoint", witness.url);
        let sent = tokio::task::spawn_blocking(move || {
            client.post_without_redirects(
                &url,
                &[("content-type", "text/plain".to_owned())],
                body.into_bytes(),
                MAX_ANSWER_BYTES,
            )
        })
        .await;
        let (status, bytes) = match sent {
            Ok(Ok(answer)) => answer,
            Ok(Err(e)) => return Answer::Failed(e.to_string()),
            Err(e) => return Answer::Failed(e.to_string()),
        };
        let text = String::from_utf8_lossy(&bytes);
        match status {
            200 => cosignature_in(witness, &text, note),
            409 => match text.trim_end_matches('\n').parse::<u64>() {
                Ok(held) => Answer::Holds(held),
                Err(_) => Answer::Failed(format!("409: {}", text.escape_default())),
            },
            other => Answer::Failed(format!(
                "{other}: {}",
                text.chars().take(300).collect::<String>().escape_default()
            )),
        }
    }
}

/// The witness's valid cosignature of `note` among the lines it answered (others are ignored,
/// as C2SP requires).
fn cosignature_in(witness: &WitnessConfig, lines: &str, note: &str) -> Answer {
    let (Ok(lines), Ok(note)) = (NoteSignature::parse_lines(lines), SignedNote::parse(note)) else {
        return Answer::Failed("the answer is not signature lines".into());
    };
    for line in lines {
        let alone = SignedNote {
            body: note.body.clone(),
            signatures: vec![line.clone()],
        };
        if witness.key.cosignature_time(&alone).is_some() {
            return Answer::Cosigned(line);
        }
    }
    Answer::Failed("no valid cosignature by the configured witness key".into())
}

/// `note` with the stored cosignature `lines` appended.
pub fn with_cosignature_lines(note: &str, lines: &[String]) -> String {
    let mut out = String::with_capacity(note.len() + lines.iter().map(String::len).sum::<usize>());
    out.push_str(note);
    for line in lines {
        out.push_str(line);
    }
    out
}

/// `serve`'s witness options.
#[derive(Debug, clap::Args)]
pub struct WitnessClientArgs {
    /// A witness to ask to cosign each checkpoint, as NAME,KEY,URL (its key name, its
    /// `ed25519:…` key, its URL); repeatable
    #[arg(long = "witness", value_name = "NAME,KEY,URL")]
    pub witnesses: Vec<String>,
    /// Seconds one witness may take to answer
    #[arg(long, value_name = "SECS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    pub witness_timeout: u64,
}

impl WitnessClientArgs {
    /// The configured witnesses, if any.
    pub fn build(&self) -> Result<Option<Arc<Witnesses>>, String> {
        if self.witnesses.is_empty() {
            return Ok(None);
        }
        let list = self
            .witnesses
            .iter()
            .map(|w| WitnessConfig::parse(w))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(Witnesses::new(
            list,
            Duration::from_secs(self.witness_timeout),
        )))
    }
}

/// Asks the witnesses again every `interval`, for checkpoints this process did not make
/// (another instance's publishes, the automatic auditor's) and witnesses that were down.
pub async fn cosign_on_schedule(witnesses: Arc<Witnesses>, db: Db, interval: Duration) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        witnesses.cosign_latest(&db).await;
    }
}
