//! `publish --registry URL`: send the records of your key that the registry lacks. The local
//! store must be consistent first (its head covers exactly its records); the registry's own
//! state is verified before anything is sent, and each batch goes with a head of the registry's
//! log signed here.

use std::process::ExitCode;

use audit_trust_core::audit_file::check_http_url;
use audit_trust_core::http::HttpClient;
use audit_trust_core::signoff::{RegistryClient, SignedRecord, publish_records};
use serde::Serialize;

use crate::cli::{Format, GlobalArgs, PublishArgs};
use crate::context::CliError;
use crate::output::{write_json, write_stdout};
use crate::project::load_project;
use crate::signing::{HEAD_LIFETIME_DAYS, Signer};

/// Records per publish request (the registry accepts 1,000 by default).
const BATCH: usize = 500;

#[derive(Serialize)]
struct PublishJson<'a> {
    registry: &'a str,
    auditor: &'a str,
    published: usize,
    already_there: usize,
    head_sequence: u64,
}

pub fn run(global: &GlobalArgs, args: &PublishArgs) -> Result<ExitCode, CliError> {
    let done = publish_to(global, &args.registry, args.key.key.as_deref())?;
    match global.format {
        Format::Json => write_json(&PublishJson {
            registry: &done.registry,
            auditor: &done.auditor,
            published: done.published,
            already_there: done.already_there,
            head_sequence: done.head_sequence,
        })?,
        Format::Human | Format::Sarif => write_stdout(&format!("{}\n", done.summary()))?,
    }
    Ok(ExitCode::SUCCESS)
}

/// What [`publish_to`] sent.
#[derive(Debug, Clone)]
pub struct PublishOutcome {
    pub registry: String,
    pub auditor: String,
    pub published: usize,
    pub already_there: usize,
    pub head_sequence: u64,
}

impl PublishOutcome {
    pub fn summary(&self) -> String {
        format!(
            "Published {} record(s) of auditor `{}` to {} ({} already there); its head there is #{}",
            self.published, self.auditor, self.registry, self.already_there, self.head_sequence
        )
    }
}

/// Sends the records of the signing key that `registry` lacks; prints nothing, so `publish` and
/// the review UI share it.
pub fn publish_to(
    global: &GlobalArgs,
    registry: &str,
    key: Option<&std::path::Path>,
) -> Result<PublishOutcome, CliError> {
    check_registry_url(registry)?;
    let project = load_project(global)?;
    let signer = Signer::for_project(global, &project, key)?;
    let public = signer.public();
    let contents = signer.store.read()?;
    let records: Vec<SignedRecord> = contents
        .records
        .into_iter()
        .map(|r| r.record)
        .filter(|r| r.key() == &public)
        .collect();
    let ids = records.iter().map(SignedRecord::id).collect();
    let consistent = contents
        .heads
        .get(&public)
        .is_some_and(|h| h.check_records(&ids).is_ok());
    if !records.is_empty() && !consistent {
        return Err(CliError::Usage(format!(
            "the records of {public} in {} do not match its head; run `cargo audit-trust \
             refresh-head` after checking what changed",
            signer.store.root().display()
        )));
    }
    let http = HttpClient::default();
    let client = RegistryClient::new(registry, &http);
    let summary = publish_records(
        &client,
        &records,
        &signer.loaded.key,
        signer.now,
        HEAD_LIFETIME_DAYS,
        BATCH,
    )?;
    Ok(PublishOutcome {
        registry: client.url().to_owned(),
        auditor: signer.auditor.name.clone(),
        published: summary.published,
        already_there: summary.already_there,
        head_sequence: summary.head_sequence,
    })
}

/// A registry URL as `Cargo.audit` accepts one: https, or http on the loopback interface.
pub fn check_registry_url(url: &str) -> Result<(), CliError> {
    check_http_url(url).map_err(CliError::Usage)
}
