//! The load generator of `bench/registry.py`: a second process on loopback that drives a running
//! `audit-registry`. Every run is bounded in requests and in time.
//!
//! registry_load seed URL ADMIN_TOKEN LOCKFILE AUDITORS BATCH
//!     registers AUDITORS new keys (admin API), signs a `reviewed` sign-off by each for every
//!     registry package of LOCKFILE, and publishes them BATCH records per request, all auditors
//!     at once; prints records per second (signatures and heads are made before the clock starts).
//! registry_load fill URL ADMIN_TOKEN RECORDS AUDITORS BATCH
//!     builds a large log quickly: AUDITORS new keys each sign and publish RECORDS / AUDITORS
//!     sign-offs of made-up crates (5,000 names), BATCH per request, two auditors at a time,
//!     signing as they go (for the export measurement of `docs/performance.md`).
//! registry_load query URL LOCKFILE CLIENTS SECONDS MAX_REQUESTS [KEYS]
//!     CLIENTS threads each asking `POST /v1/crates` for every crate of LOCKFILE (scoped to its
//!     versions, as `check` asks, and with KEYS, comma-separated public keys, to those keys'
//!     buckets, as `check` asks for the keys it pins), back to back. Answers are asked gzipped and kept so: the
//!     latency is the server's, not this process decoding megabytes on the same cores. Each
//!     client decodes and checks its first answer in full, and any later one whose bytes differ
//!     from it; the report says how many answers the server built during the run (its
//!     `/metrics`), which for one query on an unchanging log is one, the rest cache hits.
//! registry_load query-varied URL LOCKFILE CLIENTS SECONDS MAX_REQUESTS
//!     the same, each request also naming one crate no other request names, so no two request
//!     bodies are alike and the server's cache of whole answers never hits.
//! registry_load reads URL LOCKFILE CLIENTS SECONDS MAX_REQUESTS
//!     CLIENTS threads each reading `GET /v1/crates/{name}` round the crates of LOCKFILE.
//!
//! Output: one JSON object on stdout.

#![allow(clippy::print_stderr)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use audit_trust_core::lockfile::Lockfile;
use audit_trust_core::signoff::PublicKey;
use audit_trust_core::signoff::{
    Criterion, Head, Record, SignedHead, SignedRecord, SigningKey, Statement, Subject,
};
use audit_trust_core::time::{Clock as _, SystemClock};
use audit_trust_core::tlog::key_bucket;
use serde_json::{Value, json};

#[path = "support/raw_http.rs"]
mod raw_http;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["seed", url, token, lock, auditors, batch] => {
            seed(url, token, Path::new(lock), number(auditors), number(batch))
        }
        ["fill", url, token, records, auditors, batch] => {
            fill(url, token, number(records), number(auditors), number(batch))
        }
        ["query", url, lock, clients, seconds, max, rest @ ..] if rest.len() <= 1 => load(
            Mode::Query,
            url,
            Path::new(lock),
            (number(clients), number(seconds), number(max)),
            rest.first().copied(),
        ),
        ["query-varied", url, lock, clients, seconds, max] => load(
            Mode::QueryVaried,
            url,
            Path::new(lock),
            (number(clients), number(seconds), number(max)),
            None,
        ),
        ["reads", url, lock, clients, seconds, max] => load(
            Mode::Reads,
            url,
            Path::new(lock),
            (number(clients), number(seconds), number(max)),
            None,
        ),
        _ => Err("usage: see the top of audit-registry/examples/registry_load.rs".into()),
    };
    match result {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn number(text: &str) -> usize {
    text.parse().unwrap_or(0)
}

/// (name, version, checksum) of every registry package, sorted.
fn packages(lock: &Path) -> Result<Vec<(String, String, String)>, String> {
    let lockfile = Lockfile::load(lock).map_err(|e| e.to_string())?;
    let mut out: Vec<_> = lockfile
        .packages
        .iter()
        .filter(|p| {
            p.source
                .as_deref()
                .is_some_and(|s| s.starts_with("registry+") || s.starts_with("sparse+"))
        })
        .filter_map(|p| {
            p.checksum
                .clone()
                .map(|c| (p.name.clone(), p.version.to_string(), c))
        })
        .collect();
    out.sort();
    Ok(out)
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .new_agent()
}

fn seed(
    url: &str,
    token: &str,
    lock: &Path,
    auditors: usize,
    batch: usize,
) -> Result<Value, String> {
    let packages = packages(lock)?;
    let batch = batch.max(1);
    let now = SystemClock.now();
    let http = agent();
    // Everything signed before the clock starts: the figure is the server's, not ours.
    let mut plans = Vec::new();
    let mut public_keys = Vec::new();
    for i in 0..auditors {
        let key = SigningKey::generate().map_err(|e| e.to_string())?;
        public_keys.push(key.public_key().to_string());
        let answer = http
            .post(&format!("{url}/v1/admin/auditors"))
            .header("authorization", &format!("Bearer {token}"))
            .header("content-type", "application/json")
            .send(
                json!({ "name": format!("bench-{i}-{}", now.0), "key": key.public_key().to_string() })
                    .to_string()
                    .as_str(),
            )
            .map_err(|e| e.to_string())?;
        if answer.status().as_u16() != 201 {
            return Err(format!("auditor add answered {}", answer.status()));
        }
        let mut records = Vec::new();
        for (name, version, checksum) in &packages {
            let record = Record {
                key: key.public_key(),
                created: now,
                statement: Statement::SignOff {
                    subject: Subject::Crate {
                        name: name.clone(),
                        version: version
                            .parse()
                            .map_err(|e| format!("{name} {version}: {e}"))?,
                        checksum: checksum.clone(),
                    },
                    criteria: vec![Criterion::Reviewed],
                    delta_from: None,
                    notes: Some(format!("benchmark sign-off of {name} {version}")),
                    source: None,
                },
            };
            records.push(SignedRecord::sign(record, &key).map_err(|e| e.to_string())?);
        }
        let mut bodies = Vec::new();
        let mut ids = BTreeSet::new();
        let mut previous: Option<SignedHead> = None;
        for chunk in records.chunks(batch) {
            ids.extend(chunk.iter().map(SignedRecord::id));
            let head = Head::next(
                previous.as_ref().map(SignedHead::head),
                key.public_key(),
                &ids,
                now,
                30,
            );
            let head = SignedHead::sign(head, &key).map_err(|e| e.to_string())?;
            let records: Vec<Value> = chunk
                .iter()
                .map(|r| serde_json::from_str(&r.to_json_line()).unwrap_or(Value::Null))
                .collect();
            let head_json: Value = serde_json::from_str(&head.to_json()).unwrap_or(Value::Null);
            bodies.push((
                chunk.len(),
                json!({ "head": head_json, "records": records }).to_string(),
            ));
            previous = Some(head);
        }
        plans.push(bodies);
    }
    let started = Instant::now();
    let results: Vec<Result<usize, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = plans
            .iter()
            .map(|bodies| {
                scope.spawn(move || {
                    let http = agent();
                    let mut stored = 0;
                    for (count, body) in bodies {
                        let answer = http
                            .post(&format!("{url}/v1/publish"))
                            .header("content-type", "application/json")
                            .send(body.as_str())
                            .map_err(|e| e.to_string())?;
                        if answer.status().as_u16() != 200 {
                            return Err(format!("publish answered {}", answer.status()));
                        }
                        stored += count;
                    }
                    Ok(stored)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a publisher panicked".into()))
            })
            .collect()
    });
    let elapsed = started.elapsed().as_secs_f64();
    let mut stored = 0;
    for r in results {
        stored += r?;
    }
    Ok(json!({
        "mode": "seed",
        "auditors": auditors,
        "keys": public_keys,
        "batch": batch,
        "records": stored,
        "seconds": elapsed,
        "records_per_second": stored as f64 / elapsed,
    }))
}

fn fill(
    url: &str,
    token: &str,
    records: usize,
    auditors: usize,
    batch: usize,
) -> Result<Value, String> {
    let (auditors, batch) = (auditors.max(1), batch.max(1));
    let per = records / auditors;
    let now = SystemClock.now();
    let started = Instant::now();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<Result<usize, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| {
                    let mut stored = 0;
                    loop {
                        let a = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if a >= auditors {
                            return Ok(stored);
                        }
                        stored += fill_one(url, token, a, per, batch, now)?;
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("a filler panicked".into())))
            .collect()
    });
    let mut stored = 0;
    for r in results {
        stored += r?;
    }
    Ok(json!({
        "mode": "fill",
        "records": stored,
        "seconds": started.elapsed().as_secs_f64(),
    }))
}

/// One auditor's records, signed and published batch by batch.
fn fill_one(
    url: &str,
    token: &str,
    auditor: usize,
    count: usize,
    batch: usize,
    now: audit_trust_core::time::Timestamp,
) -> Result<usize, String> {
    let http = agent();
    let key = SigningKey::generate().map_err(|e| e.to_string())?;
    let answer = http
        .post(&format!("{url}/v1/admin/auditors"))
        .header("authorization", &format!("Bearer {token}"))
        .header("content-type", "application/json")
        .send(
            json!({ "name": format!("fill-{auditor}-{}", now.0), "key": key.public_key().to_string() })
                .to_string()
                .as_str(),
        )
        .map_err(|e| e.to_string())?;
    if answer.status().as_u16() != 201 {
        return Err(format!("auditor add answered {}", answer.status()));
    }
    let mut ids = BTreeSet::new();
    let mut previous: Option<SignedHead> = None;
    let mut done = 0;
    while done < count {
        let mut chunk = Vec::new();
        for j in done..(done + batch).min(count) {
            let record = Record {
                key: key.public_key(),
                created: now,
                statement: Statement::SignOff {
                    subject: Subject::Crate {
                        name: format!("fill-crate-{}", (auditor * count + j) % 5000),
                        version: format!("1.{auditor}.{j}")
                            .parse()
                            .map_err(|e| format!("{e}"))?,
                        checksum: format!("{:064x}", auditor * count + j),
                    },
                    criteria: vec![Criterion::Reviewed],
                    delta_from: None,
                    notes: None,
                    source: None,
                },
            };
            chunk.push(SignedRecord::sign(record, &key).map_err(|e| e.to_string())?);
        }
        ids.extend(chunk.iter().map(SignedRecord::id));
        let head = Head::next(
            previous.as_ref().map(SignedHead::head),
            key.public_key(),
            &ids,
            now,
            30,
        );
        let head = SignedHead::sign(head, &key).map_err(|e| e.to_string())?;
        let records: Vec<Value> = chunk
            .iter()
            .map(|r| serde_json::from_str(&r.to_json_line()).unwrap_or(Value::Null))
            .collect();
        let head_json: Value = serde_json::from_str(&head.to_json()).unwrap_or(Value::Null);
        let body = json!({ "head": head_json, "records": records }).to_string();
        let answer = http
            .post(&format!("{url}/v1/publish"))
            .header("content-type", "application/json")
            .send(body.as_str())
            .map_err(|e| e.to_string())?;
        if answer.status().as_u16() != 200 {
            return Err(format!("publish answered {}", answer.status()));
        }
        done += chunk.len();
        previous = Some(head);
    }
    Ok(done)
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Query,
    QueryVaried,
    Reads,
}

fn load(
    mode: Mode,
    url: &str,
    lock: &Path,
    (clients, seconds, max_requests): (usize, usize, usize),
    keys: Option<&str>,
) -> Result<Value, String> {
    // Each crate with its versions in the lockfile: the query `check` sends (scoped answers).
    let mut versions: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, version, _) in packages(lock)? {
        versions
            .entry(name.to_ascii_lowercase())
            .or_default()
            .insert(version);
    }
    let names: Vec<String> = versions.keys().cloned().collect();
    let query: BTreeMap<&str, Value> = names.iter().map(|n| (n.as_str(), Value::Null)).collect();
    // `crates` sorts before `keys` and `versions`, which the varied query below relies on.
    let mut query_body = json!({ "crates": query, "versions": versions });
    if let Some(keys) = keys {
        let mut buckets = BTreeSet::new();
        for key in keys.split(',') {
            let key = PublicKey::parse(key).map_err(|e| format!("{key}: {e}"))?;
            buckets.insert(key_bucket(&key));
        }
        query_body["keys"] = json!(buckets);
    }
    let query_body = query_body.to_string();
    let deadline = Instant::now() + Duration::from_secs(seconds as u64);
    let per_client = max_requests.div_ceil(clients.max(1));
    let (builds_before, _) = server_counters(url)?;
    let started = Instant::now();
    let outcomes: Vec<Result<Client, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..clients.max(1))
            .map(|client| {
                let (names, query_body) = (&names, &query_body);
                scope.spawn(move || {
                    // Gzip asked and kept: the latency is the server's answer on the wire; the
                    // load generator decodes only what it checks (see `raw_http`).
                    let mut http = raw_http::Connection::new(url)?;
                    let mut out = Client::default();
                    let mut first: Option<Vec<u8>> = None;
                    let mut i = client * 97;
                    while out.latencies.len() < per_client && Instant::now() < deadline {
                        let sent = Instant::now();
                        let varied;
                        let answer = match mode {
                            Mode::Query => http.post("/v1/crates", query_body.as_bytes(), true),
                            Mode::QueryVaried => {
                                // `{"crates":{…}}` with one more, unique, name at the front.
                                varied = format!(
                                    "{{\"crates\":{{\"zz-bench-{client}-{i}\":null,{}",
                                    &query_body["{\"crates\":{".len()..]
                                );
                                http.post("/v1/crates", varied.as_bytes(), true)
                            }
                            Mode::Reads => {
                                http.get(&format!("/v1/crates/{}", names[i % names.len()]), true)
                            }
                        }?;
                        out.latencies.push(sent.elapsed());
                        if answer.status != 200 {
                            return Err(format!("answered {}", answer.status));
                        }
                        i += 1;
                        out.bytes = answer.body.len();
                        out.gzip = answer.gzip;
                        // The first answer of each client is checked in full; a later one of
                        // the same query too if its bytes differ (a publish moved the log).
                        let same = mode == Mode::Query && first.as_ref() == Some(&answer.body);
                        if first.is_some() && (same || mode != Mode::Query) {
                            continue;
                        }
                        let records = check_answer(mode, names.len(), &answer)?;
                        if first.is_none() {
                            out.records = records;
                        }
                        out.checked += 1;
                        first = Some(answer.body);
                    }
                    Ok(out)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("a client panicked".into())))
            .collect()
    });
    let elapsed = started.elapsed().as_secs_f64();
    let (builds_after, queries) = server_counters(url)?;
    let mut all = Vec::new();
    let (mut records_first, mut bytes, mut gzip, mut checked) = (0, 0, true, 0);
    for o in outcomes {
        let c = o?;
        all.extend(c.latencies);
        records_first = records_first.max(c.records);
        bytes = bytes.max(c.bytes);
        gzip &= c.gzip;
        checked += c.checked;
    }
    all.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let pick = |p: f64| {
        if all.is_empty() {
            0.0
        } else {
            let i = ((p * all.len() as f64).ceil() as usize).clamp(1, all.len()) - 1;
            ms(all[i])
        }
    };
    Ok(json!({
        "mode": match mode {
            Mode::Query => "query",
            Mode::QueryVaried => "query-varied",
            Mode::Reads => "reads",
        },
        "clients": clients,
        "crates": names.len(),
        "records_in_first_answer": records_first,
        "answer_bytes_on_the_wire": bytes,
        "answers_gzipped": gzip,
        "answers_checked_in_full": checked,
        // From the server's /metrics: batch answers it built (not served from its cache)
        // during the run, and batch queries it has answered in all.
        "answers_built_by_server": builds_after.saturating_sub(builds_before),
        "server_batch_queries_total": queries,
        "requests": all.len(),
        "seconds": elapsed,
        "requests_per_second": all.len() as f64 / elapsed,
        "p50_ms": pick(0.50),
        "p90_ms": pick(0.90),
        "p99_ms": pick(0.99),
        "max_ms": all.last().map_or(0.0, |d| ms(*d)),
    }))
}

/// What one load client saw.
#[derive(Default)]
struct Client {
    latencies: Vec<Duration>,
    /// Records in its first answer, checked in full.
    records: usize,
    /// The size of its last answer as sent, and whether it came gzipped.
    bytes: usize,
    gzip: bool,
    /// Answers decoded and checked.
    checked: usize,
}

/// Decodes and checks one answer in full: every asked crate answered. Returns its records.
fn check_answer(mode: Mode, asked: usize, answer: &raw_http::Answer) -> Result<usize, String> {
    let value: Value = serde_json::from_slice(&answer.decoded()?).map_err(|e| e.to_string())?;
    Ok(match mode {
        Mode::Query | Mode::QueryVaried => {
            let crates = value["crates"].as_object().ok_or("no crates")?;
            let asked = asked + usize::from(mode == Mode::QueryVaried);
            if crates.len() != asked {
                return Err(format!("{} crates answered, {asked} asked", crates.len()));
            }
            crates
                .values()
                .map(|c| c["records"].as_array().map_or(0, Vec::len))
                .sum()
        }
        Mode::Reads => value["records"].as_array().map_or(0, Vec::len),
    })
}

/// The server's counters of batch answers built (cache misses) and batch queries answered.
fn server_counters(url: &str) -> Result<(u64, u64), String> {
    let answer = raw_http::Connection::new(url)?.get("/metrics", false)?;
    let text = String::from_utf8_lossy(&answer.body);
    let counter = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    Ok((
        counter("audit_registry_crate_query_builds_total "),
        counter("audit_registry_crate_queries_total "),
    ))
}
