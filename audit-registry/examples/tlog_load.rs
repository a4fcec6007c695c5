//! The load tool of `bench/tlog_scale.py`: builds a large synthetic transparency log through a
//! running `audit-registry serve` (the real publish path), in two steps so the signing cost stays
//! out of the append figure.
//!
//! tlog_load sign LOCKFILE RECORDS CRATES AUDITORS BATCH SEED DIR
//!     plans RECORDS records over CRATES crate names (every registry package name of LOCKFILE
//!     first, then synthetic `tl-NNNNNN` names), spread round-robin over AUDITORS new keys, signs
//!     them and their heads (BATCH records per head) on every core, and writes one file of
//!     publish bodies per auditor plus `DIR/meta.json` (the public keys).
//! tlog_load publish URL ADMIN_TOKEN DIR [SECONDS]
//!     registers DIR's auditors (admin API) and publishes every body, one thread per auditor
//!     (the server appends one publish at a time), while a side thread polls
//!     `GET /v1/log/checkpoint` every 100 ms and notes when its size changes. With SECONDS, no
//!     publish starts after that long: the log then holds what was published by then.
//!
//! The distribution (deterministic for a SEED, see [`Plan`]): the first records are one
//! `reviewed` sign-off of every registry package of LOCKFILE at its exact version and checksum;
//! every later record picks a crate uniformly, then one of that crate's 1-24 versions
//! (lockfile versions among them), and is a full `reviewed` sign-off (80 %), a delta sign-off
//! from another version of the crate (15 %) or a flag (5 %).
//!
//! Output: one JSON object on stdout.

#![allow(clippy::print_stderr)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufRead as _, BufReader, BufWriter, Write as _};
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use audit_trust_core::lockfile::Lockfile;
use audit_trust_core::signoff::{
    Criterion, DeltaBase, Head, PublicKey, Record, SignedHead, SignedRecord, SigningKey, Statement,
    Subject,
};
use audit_trust_core::time::{Clock as _, SystemClock, Timestamp};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

#[path = "support/load_report.rs"]
mod load_report;
use load_report::{gaps, tenths};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["sign", lock, records, crates, auditors, batch, seed, dir] => sign(
            Path::new(lock),
            number(records),
            number(crates),
            number(auditors),
            number(batch),
            number(seed) as u64,
            Path::new(dir),
        ),
        ["publish", url, token, dir] => publish(url, token, Path::new(dir), None),
        ["publish", url, token, dir, seconds] => publish(
            url,
            token,
            Path::new(dir),
            Some(Duration::from_secs(number(seconds) as u64)),
        ),
        _ => Err("usage: see the top of audit-registry/examples/tlog_load.rs".into()),
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

/// SplitMix64: a fixed, fast mix, so a seed names one plan on every machine.
fn mix(seed: u64, n: u64) -> u64 {
    let mut z = seed ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// One crate name with the versions records are made on: (version, checksum).
struct CrateSpec {
    name: String,
    versions: Vec<(semver::Version, String)>,
}

/// What record `g` of the log is about: crate, version and kind.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Planned {
    krate: usize,
    version: usize,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Reviewed,
    /// A delta sign-off from the crate's version at this position.
    Delta(usize),
    Flag,
}

/// The synthetic log: crate names and versions, and a pure function from record number to
/// record, so every auditor's share can be signed on its own thread.
struct Plan {
    seed: u64,
    crates: Vec<CrateSpec>,
    /// (crate, version) of every lockfile registry package: records 0.. cover them first.
    lockfile: Vec<(usize, usize)>,
}

impl Plan {
    fn new(
        packages: &[(String, String, String)],
        crates: usize,
        seed: u64,
    ) -> Result<Plan, String> {
        let mut by_name: BTreeMap<String, Vec<(semver::Version, String)>> = BTreeMap::new();
        for (name, version, checksum) in packages {
            let version = version
                .parse()
                .map_err(|e| format!("{name} {version}: {e}"))?;
            by_name
                .entry(name.to_ascii_lowercase())
                .or_default()
                .push((version, checksum.clone()));
        }
        let mut specs: Vec<CrateSpec> = by_name
            .into_iter()
            .map(|(name, versions)| CrateSpec { name, versions })
            .collect();
        let real = specs.len();
        for c in real..crates.max(real) {
            specs.push(CrateSpec {
                name: format!("tl-{c:06}"),
                versions: Vec::new(),
            });
        }
        let mut lockfile = Vec::new();
        for (c, spec) in specs.iter_mut().enumerate() {
            if c < real {
                lockfile.extend((0..spec.versions.len()).map(|v| (c, v)));
            }
            // Several versions per crate, as on crates.io; synthetic ones never equal a real one.
            let wanted = 1 + (mix(seed, c as u64) % 24) as usize;
            let mut k = 0u64;
            while spec.versions.len() < wanted {
                let version = semver::Version::new(k / 7, k % 7 + 1, 3);
                k += 1;
                if spec.versions.iter().any(|(v, _)| *v == version) {
                    continue;
                }
                let checksum = hex(&Sha256::digest(format!("{}@{version}", spec.name)));
                spec.versions.push((version, checksum));
            }
        }
        Ok(Plan {
            seed,
            crates: specs,
            lockfile,
        })
    }

    fn planned(&self, g: u64) -> Planned {
        if let Some(&(krate, version)) = usize::try_from(g).ok().and_then(|g| self.lockfile.get(g))
        {
            return Planned {
                krate,
                version,
                kind: Kind::Reviewed,
            };
        }
        let r = mix(self.seed, g);
        let krate = (r % self.crates.len() as u64) as usize;
        let count = self.crates[krate].versions.len();
        let version = ((r >> 24) % count as u64) as usize;
        let kind = match (r >> 48) % 100 {
            0..5 => Kind::Flag,
            5..20 if count > 1 => Kind::Delta((version + 1) % count),
            _ => Kind::Reviewed,
        };
        Planned {
            krate,
            version,
            kind,
        }
    }

    fn record(&self, g: u64, key: &SigningKey, now: Timestamp) -> Record {
        let p = self.planned(g);
        let spec = &self.crates[p.krate];
        let (version, checksum) = &spec.versions[p.version];
        let subject = Subject::Crate {
            name: spec.name.clone(),
            version: version.clone(),
            checksum: checksum.clone(),
        };
        // The record number in the notes makes every record distinct (its id is its hash).
        let notes = Some(format!("tlog load record {g}"));
        let statement = match p.kind {
            Kind::Flag => Statement::Flag {
                subject,
                reason: "synthetic flag".into(),
                notes,
            },
            Kind::Reviewed | Kind::Delta(_) => Statement::SignOff {
                subject,
                criteria: vec![Criterion::Reviewed],
                delta_from: match p.kind {
                    Kind::Delta(base) => {
                        let (version, checksum) = &spec.versions[base];
                        Some(DeltaBase {
                            version: version.clone(),
                            checksum: checksum.clone(),
                        })
                    }
                    _ => None,
                },
                notes,
                source: None,
            },
        };
        Record {
            key: key.public_key(),
            created: now,
            statement,
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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

fn sign(
    lock: &Path,
    records: usize,
    crates: usize,
    auditors: usize,
    batch: usize,
    seed: u64,
    dir: &Path,
) -> Result<Value, String> {
    let plan = Plan::new(&packages(lock)?, crates, seed)?;
    let (auditors, batch) = (auditors.max(1), batch.max(1));
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let keys = (0..auditors)
        .map(|_| SigningKey::generate().map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    let now = SystemClock.now();
    let started = Instant::now();
    let next = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let results: Vec<Result<(), String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (plan, keys, next) = (&plan, &keys, &next);
                scope.spawn(move || {
                    loop {
                        let a = next.fetch_add(1, Ordering::SeqCst);
                        let Some(key) = keys.get(a) else {
                            return Ok(());
                        };
                        let path = dir.join(format!("auditor-{a}.jsonl"));
                        sign_auditor(plan, key, a, auditors, records, batch, now, &path)?;
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("a signer panicked".into())))
            .collect()
    });
    results.into_iter().collect::<Result<Vec<()>, _>>()?;
    let meta = json!({
        "records": records,
        "crates": plan.crates.len(),
        "lockfile_packages": plan.lockfile.len(),
        "auditors": auditors,
        "batch": batch,
        "seed": seed,
        "keys": keys.iter().map(|k| k.public_key().to_string()).collect::<Vec<_>>(),
    });
    std::fs::write(dir.join("meta.json"), meta.to_string()).map_err(|e| e.to_string())?;
    Ok(json!({ "mode": "sign", "seconds": started.elapsed().as_secs_f64(), "meta": meta }))
}

/// Auditor `a`'s records (every `auditors`-th of the log, from `a`) as publish bodies, one per
/// line after its record count: `COUNT\tBODY`.
#[allow(clippy::too_many_arguments)]
fn sign_auditor(
    plan: &Plan,
    key: &SigningKey,
    a: usize,
    auditors: usize,
    records: usize,
    batch: usize,
    now: Timestamp,
    path: &Path,
) -> Result<(), String> {
    let mut out = BufWriter::new(File::create(path).map_err(|e| e.to_string())?);
    let mut ids = BTreeSet::new();
    let mut previous: Option<SignedHead> = None;
    let mine: Vec<u64> = (a..records).step_by(auditors).map(|g| g as u64).collect();
    for chunk in mine.chunks(batch) {
        let mut lines = Vec::with_capacity(chunk.len());
        for &g in chunk {
            let signed = SignedRecord::sign(plan.record(g, key, now), key)?;
            ids.insert(signed.id());
            lines.push(signed.to_json_line());
        }
        let head = Head::next(
            previous.as_ref().map(SignedHead::head),
            key.public_key(),
            &ids,
            now,
            30,
        );
        let head = SignedHead::sign(head, key)?;
        // One line per body: the head's JSON is pretty-printed, so it is compacted; the record
        // lines are one line each already and are spliced in, not parsed again.
        let head_json: Value = serde_json::from_str(&head.to_json()).map_err(|e| e.to_string())?;
        writeln!(
            out,
            "{}\t{{\"head\":{head_json},\"records\":[{}]}}",
            chunk.len(),
            lines.join(",")
        )
        .map_err(|e| e.to_string())?;
        previous = Some(head);
    }
    out.flush().map_err(|e| e.to_string())
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .new_agent()
}

/// The tree size of the registry's latest checkpoint (line 2 of the note).
fn checkpoint_size(http: &ureq::Agent, url: &str) -> Option<u64> {
    let answer = http.get(&format!("{url}/v1/log/checkpoint")).call().ok()?;
    let text = answer.into_body().read_to_string().ok()?;
    text.lines().nth(1)?.trim().parse().ok()
}

fn publish(url: &str, token: &str, dir: &Path, limit: Option<Duration>) -> Result<Value, String> {
    let meta: Value = serde_json::from_slice(
        &std::fs::read(dir.join("meta.json")).map_err(|e| format!("meta.json: {e}"))?,
    )
    .map_err(|e| e.to_string())?;
    let keys: Vec<String> = meta["keys"]
        .as_array()
        .ok_or("meta.json has no keys")?
        .iter()
        .filter_map(|k| k.as_str().map(str::to_owned))
        .collect();
    let http = agent();
    for key in &keys {
        let hex = PublicKey::parse(key).map_err(|e| e.to_string())?.hex();
        let name = format!("tlog-{}", &hex[..16]);
        let answer = http
            .post(&format!("{url}/v1/admin/auditors"))
            .header("authorization", &format!("Bearer {token}"))
            .header("content-type", "application/json")
            .send(json!({ "name": name, "key": key }).to_string().as_str())
            .map_err(|e| e.to_string())?;
        if answer.status().as_u16() != 201 {
            let status = answer.status();
            let text = answer.into_body().read_to_string().unwrap_or_default();
            return Err(format!("auditor add answered {status}: {text}"));
        }
    }
    let start_size = checkpoint_size(&http, url).unwrap_or(0);
    let done = AtomicBool::new(false);
    // (seconds since start, records acknowledged so far) after every publish.
    let acks: Mutex<Vec<(f64, usize)>> = Mutex::new(Vec::new());
    let stored = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let (results, changes) = std::thread::scope(|scope| {
        let poller = scope.spawn(|| {
            let http = agent();
            let mut changes: Vec<(f64, u64)> = Vec::new();
            let mut last = start_size;
            while !done.load(Ordering::SeqCst) {
                if let Some(size) = checkpoint_size(&http, url)
                    && size != last
                {
                    changes.push((started.elapsed().as_secs_f64(), size));
                    last = size;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            changes
        });
        let handles: Vec<_> = (0..keys.len())
            .map(|a| {
                let (acks, stored) = (&acks, Arc::clone(&stored));
                scope.spawn(move || -> Result<(), String> {
                    let http = agent();
                    let path = dir.join(format!("auditor-{a}.jsonl"));
                    let file = File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                    for line in BufReader::new(file).lines() {
                        if limit.is_some_and(|l| started.elapsed() >= l) {
                            break;
                        }
                        let line = line.map_err(|e| e.to_string())?;
                        let (count, body) = line.split_once('\t').ok_or("bad body line")?;
                        let answer = http
                            .post(&format!("{url}/v1/publish"))
                            .header("content-type", "application/json")
                            .send(body)
                            .map_err(|e| e.to_string())?;
                        if answer.status().as_u16() != 200 {
                            let status = answer.status();
                            let text = answer.into_body().read_to_string().unwrap_or_default();
                            return Err(format!("publish answered {status}: {text}"));
                        }
                        let total =
                            stored.fetch_add(number(count), Ordering::SeqCst) + number(count);
                        let at = started.elapsed().as_secs_f64();
                        acks.lock().map_err(|_| "poisoned")?.push((at, total));
                    }
                    Ok(())
                })
            })
            .collect();
        let results: Vec<Result<(), String>> = handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a publisher panicked".into()))
            })
            .collect();
        done.store(true, Ordering::SeqCst);
        (results, poller.join().unwrap_or_default())
    });
    let elapsed = started.elapsed().as_secs_f64();
    results.into_iter().collect::<Result<Vec<()>, _>>()?;
    let records = stored.load(Ordering::SeqCst);
    let mut acks = acks.into_inner().map_err(|_| "poisoned")?;
    acks.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(json!({
        "mode": "publish",
        "records": records,
        "publishes": acks.len(),
        "log_size_before": start_size,
        "log_size_after": checkpoint_size(&http, url),
        "seconds": elapsed,
        "records_per_second": records as f64 / elapsed,
        "checkpoint_gaps": gaps(&changes),
        // Every acknowledged publish committed a new checkpoint first, so the longest time
        // between two acknowledgements bounds how long the log went without one. The poller's
        // figure above also counts its own wait: its GET queues for the log behind appends.
        "acknowledgement_gaps": gaps(&acks.iter().map(|&(t, n)| (t, n as u64)).collect::<Vec<_>>()),
        "tenths": tenths(&acks, records),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock() -> Vec<(String, String, String)> {
        let sum = |s: &str| hex(&Sha256::digest(s));
        vec![
            ("serde".into(), "1.0.200".into(), sum("a")),
            ("syn".into(), "1.0.109".into(), sum("b")),
            ("syn".into(), "2.0.60".into(), sum("c")),
        ]
    }

    #[test]
    fn the_plan_is_a_function_of_its_seed() {
        let (a, b) = (
            Plan::new(&lock(), 500, 7).unwrap(),
            Plan::new(&lock(), 500, 7).unwrap(),
        );
        let other = Plan::new(&lock(), 500, 8).unwrap();
        let of = |p: &Plan| (0..2000).map(|g| p.planned(g)).collect::<Vec<_>>();
        assert_eq!(of(&a), of(&b));
        assert_ne!(of(&a), of(&other));
        assert_eq!(a.crates.len(), 500);
    }

    #[test]
    fn lockfile_packages_come_first_at_their_exact_versions() {
        let plan = Plan::new(&lock(), 100, 1).unwrap();
        let firsts: Vec<(String, String)> = (0..3)
            .map(|g| {
                let p = plan.planned(g);
                let spec = &plan.crates[p.krate];
                (spec.name.clone(), spec.versions[p.version].0.to_string())
            })
            .collect();
        assert_eq!(
            firsts,
            [("serde", "1.0.200"), ("syn", "1.0.109"), ("syn", "2.0.60")]
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
        );
    }

    #[test]
    fn every_planned_record_signs_and_the_mix_has_every_kind() {
        let plan = Plan::new(&lock(), 300, 3).unwrap();
        let key = SigningKey::generate().unwrap();
        let mut kinds = BTreeSet::new();
        for g in 0..3000 {
            let p = plan.planned(g);
            let spec = &plan.crates[p.krate];
            let names: BTreeSet<_> = spec.versions.iter().map(|v| v.0.clone()).collect();
            assert_eq!(names.len(), spec.versions.len(), "versions are distinct");
            kinds.insert(format!("{:?}", p.kind).chars().take(4).collect::<String>());
            SignedRecord::sign(plan.record(g, &key, Timestamp(1_700_000_000)), &key).unwrap();
        }
        assert_eq!(kinds.len(), 3, "{kinds:?}");
    }
}
