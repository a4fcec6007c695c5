//! Sending your records to an audit-registry (`publish` and the review UI's `P`). The local
//! store must be consistent first (its head covers exactly its records); the registry's own
//! state is verified before anything is sent, and each batch goes with a head of the registry's
//! log signed here.

use audit_trust_core::audit_file::check_http_url;
use audit_trust_core::http::HttpClient;
use audit_trust_core::signoff::{RegistryClient, SignedRecord, publish_records};

use super::signing::{HEAD_LIFETIME_DAYS, Signer};
use crate::error::CliError;
use crate::project::{InventoryNeed, Project};
use crate::settings::Settings;

/// Records per publish request (the registry accepts 1,000 by default).
const BATCH: usize = 500;

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
            "Published {} of auditor `{}` to {} ({} already there); its head there is #{}",
            crate::output::plural(self.published as u64, "record", "records"),
            self.auditor,
            self.registry,
            self.already_there,
            self.head_sequence
        )
    }
}

/// Sends the records of the signing key that `registry` lacks; prints nothing, so `publish` and
/// the review UI share it.
pub fn publish_to(
    settings: &Settings,
    registry: &str,
    key: Option<&std::path::Path>,
) -> Result<PublishOutcome, CliError> {
    check_registry_url(registry)?;
    let project = Project::open(settings, InventoryNeed::None)?;
    let signer = Signer::for_project(&project, key)?;
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
