//! The client side of `audit-registry`'s HTTP API (`docs/registry-api.md`). It moves bytes
//! only: whatever the registry answers is verified afterwards like any other source.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::{PublicKey, SignedHead, SignedRecord};
use crate::Error;
use crate::http::HttpClient;

/// A sync answer for one key is bounded like any download.
const MAX_RESPONSE_BYTES: u64 = 256 * 1024 * 1024;

/// A `POST /v1/crates` answer: the log's proofs as a value, and each crate's records kept as
/// the registry's JSON text. Each record is then parsed once, straight into a record: parsed
/// into values, printed and parsed again, the records were a third of a warm check's time.
#[derive(Debug, Deserialize)]
pub struct CratesAnswer {
    #[serde(default)]
    pub log: Value,
    #[serde(default)]
    pub crates: BTreeMap<String, ServedCrate>,
}

/// One crate of a [`CratesAnswer`].
#[derive(Debug, Deserialize)]
pub struct ServedCrate {
    #[serde(default)]
    pub records: Option<Vec<Box<RawValue>>>,
}

#[derive(Debug)]
pub struct RegistryClient<'a> {
    base: String,
    http: &'a HttpClient,
}

/// What the registry holds for one key: its head, and records (JSON lines) first covered by a
/// head after the one the client had.
#[derive(Debug, Default)]
pub struct KeyLog {
    pub head: Option<String>,
    pub records: Vec<String>,
}

#[derive(Deserialize)]
struct SyncAnswer {
    logs: BTreeMap<String, LogAnswer>,
}

#[derive(Deserialize)]
struct LogAnswer {
    head: Value,
    records: Vec<Value>,
}

impl<'a> RegistryClient<'a> {
    pub fn new(url: &str, http: &'a HttpClient) -> RegistryClient<'a> {
        RegistryClient {
            base: url.trim_end_matches('/').to_owned(),
            http,
        }
    }

    pub fn url(&self) -> &str {
        &self.base
    }

    fn error(&self, message: String) -> Error {
        Error::Registry {
            url: self.base.clone(),
            message,
        }
    }

    /// `POST /v1/sync`: for each key, what came after the head sequence given.
    pub fn sync(
        &self,
        keys: &BTreeMap<PublicKey, u64>,
    ) -> Result<BTreeMap<PublicKey, KeyLog>, Error> {
        let request: serde_json::Map<String, Value> = keys
            .iter()
            .map(|(k, after)| (k.to_string(), Value::from(*after)))
            .collect();
        let body = json!({ "keys": request });
        let answer = self.post("/v1/sync", &body)?;
        let answer: SyncAnswer = serde_json::from_slice(&answer)
            .map_err(|e| self.error(format!("not a sync answer: {e}")))?;
        let mut out = BTreeMap::new();
        for (key, log) in answer.logs {
            // Answers about keys not asked for are ignored.
            let Ok(key) = PublicKey::parse(&key) else {
                continue;
            };
            if !keys.contains_key(&key) {
                continue;
            }
            out.insert(
                key,
                KeyLog {
                    head: (!log.head.is_null()).then(|| log.head.to_string()),
                    records: log.records.iter().map(Value::to_string).collect(),
                },
            );
        }
        Ok(out)
    }

    /// `POST /v1/crates` for `packages`' versions of each crate (no ETags: the gate verifies
    /// every record each time; the answer carries only those versions' records, and only those
    /// of the key buckets in `keys`: the keys the caller pins), with the size of the checkpoint the client verified last, for a consistency proof from it.
    /// `None` when the registry refused `log_size` as larger than its log (`400
    /// bad-log-size`): it no longer has a tree it signed, which the caller checks as a rollback.
    pub fn crates(
        &self,
        packages: &BTreeMap<String, BTreeSet<String>>,
        keys: &BTreeSet<String>,
        log_size: Option<u64>,
    ) -> Result<Option<CratesAnswer>, Error> {
        let crates: serde_json::Map<String, Value> =
            packages.keys().map(|n| (n.clone(), Value::Null)).collect();
        let mut body = json!({ "crates": crates, "versions": packages, "keys": keys });
        if let Some(size) = log_size {
            body["log_size"] = Value::from(size);
        }
        let answer = match self.post_answer("/v1/crates", &body)? {
            Ok(bytes) => bytes,
            Err((400, code)) if log_size.is_some() && code == "bad-log-size" => return Ok(None),
            Err((_, message)) => return Err(self.error(message)),
        };
        serde_json::from_slice(&answer)
            .map(Some)
            .map_err(|e| self.error(format!("not a crate answer: {e}")))
    }

    /// `POST /v1/publish`; returns how many records were new to the registry.
    pub fn publish(&self, records: &[&SignedRecord], head: &SignedHead) -> Result<u64, Error> {
        let records: Vec<Value> = records
            .iter()
            .map(|r| serde_json::from_str(&r.to_json_line()).unwrap_or(Value::Null))
            .collect();
        let head: Value = serde_json::from_str(&head.to_json()).unwrap_or(Value::Null);
        let answer = self.post("/v1/publish", &json!({ "head": head, "records": records }))?;
        let answer: Value = serde_json::from_slice(&answer)
            .map_err(|e| self.error(format!("not a publish answer: {e}")))?;
        Ok(answer["stored"].as_u64().unwrap_or(0))
    }

    /// `GET /v1/verifications/{name}`: what the registry's automatic auditor reports for each
    /// version of `name` it checked, risk signals included. Unsigned: the registry's word.
    pub fn verifications(&self, name: &str) -> Result<Vec<ReportedVerification>, Error> {
        crate::names::validate_crate_name(name).map_err(|e| self.error(e.to_string()))?;
        let url = format!(
            "{}/v1/verifications/{}",
            self.base,
            name.to_ascii_lowercase()
        );
        let bytes = self
            .http
            .get_ok(&url, MAX_RESPONSE_BYTES)
            .map_err(|e| self.error(e.to_string()))?;
        #[derive(Deserialize)]
        struct Answer {
            verifications: Vec<ReportedVerification>,
        }
        let answer: Answer = serde_json::from_slice(&bytes)
            .map_err(|e| self.error(format!("not a verifications answer: {e}")))?;
        Ok(answer.verifications)
    }

    fn post(&self, path: &str, body: &Value) -> Result<Vec<u8>, Error> {
        self.post_answer(path, body)?
            .map_err(|(_, message)| self.error(message))
    }

    /// The body of a 200 answer, or the status and the registry's error code (for 400) or an
    /// escaped explanation (otherwise).
    fn post_answer(
        &self,
        path: &str,
        body: &Value,
    ) -> Result<Result<Vec<u8>, (u16, String)>, Error> {
        let url = format!("{}{path}", self.base);
        let (status, bytes) = self
            .http
            .post_json(&url, body.to_string().into_bytes(), MAX_RESPONSE_BYTES)
            .map_err(|e| self.error(e.to_string()))?;
        if status == 200 {
            return Ok(Ok(bytes));
        }
        if status == 400
            && let Some(code) = serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|v| v["error"]["code"].as_str().map(str::to_owned))
            && code == "bad-log-size"
        {
            return Ok(Err((status, code)));
        }
        // The registry's own explanation, escaped: it is input like any other.
        let explained = serde_json::from_slice::<Value>(&bytes).ok().and_then(|v| {
            let e = &v["error"];
            Some(format!(
                "{} ({})",
                e["message"].as_str()?,
                e["code"].as_str()?
            ))
        });
        let message = explained
            .unwrap_or_else(|| format!("HTTP {status}"))
            .chars()
            .take(500)
            .flat_map(|c| {
                let escaped: Vec<char> = if c.is_control() {
                    c.escape_default().collect()
                } else {
                    vec![c]
                };
                escaped
            })
            .collect::<String>();
        Ok(Err((
            status,
            format!("{path} answered {status}: {message}"),
        )))
    }
}

/// One version as a registry's automatic auditor reports it (`GET /v1/verifications/{name}`).
/// Text, not verified: shown as the registry's word, escaped.
#[derive(Debug, Clone, Deserialize)]
pub struct ReportedVerification {
    pub version: String,
    pub verdict: String,
    pub signed: bool,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub report: Value,
}

/// The risk part of a reported verification (its report's `risk`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct ReportedRisk {
    #[serde(default)]
    pub base: Option<String>,
    #[serde(default)]
    pub signals: Vec<ReportedSignal>,
    #[serde(default, rename = "not-computed")]
    pub not_computed: Vec<ReportedNotComputed>,
    #[serde(default)]
    pub denied: ReportedDenied,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct ReportedSignal {
    pub code: String,
    #[serde(default)]
    pub severity: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub evidence: Vec<ReportedEvidence>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct ReportedEvidence {
    #[serde(default)]
    pub package: String,
    #[serde(default)]
    pub file: Option<String>,
    #[serde(default)]
    pub line: Option<u64>,
    #[serde(default)]
    pub names: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct ReportedNotComputed {
    #[serde(default)]
    pub signals: Vec<String>,
    #[serde(default)]
    pub why: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct ReportedDenied {
    #[serde(default)]
    pub signals: Vec<String>,
    #[serde(default, rename = "not-computed")]
    pub not_computed: Vec<String>,
}

impl ReportedVerification {
    /// The risk signals reported with it; `None` when the auditor reported none (a registry
    /// older than risk signals, a `.crate` that could not be read) or they do not parse.
    pub fn risk(&self) -> Option<ReportedRisk> {
        let risk = self.report.get("risk")?;
        serde_json::from_value(risk.clone()).ok()
    }
}
