//! Moving to this tool from others: `init --from-cargo-vet`.

mod cargo_vet;
#[cfg(test)]
mod tests;
mod vet_files;

pub use cargo_vet::{LOCAL_IMPORT_NAME, Migration, MigrationTarget, VetFolder, migrate_cargo_vet};
pub use vet_files::VetPublisher;
