//! Everything `cargo audit-trust` computes. This crate never prints and never exits: it returns
//! values (an [`Inventory`], a [`report::InventoryReport`]) that the binaries render.

pub mod advisories;
pub mod analyze;
pub mod audit_file;
pub mod cache;
pub mod child_env;
pub mod classify;
pub mod dns;
pub mod egress;
pub mod error;
pub mod export;
pub mod fetch;
pub mod gate;
pub mod http;
pub mod imports;
pub mod inventory;
pub mod license;
pub mod lock;
pub mod lockfile;
pub mod migrate;
pub mod names;
pub mod parallel;
pub mod progress;
pub mod provenance;
pub mod report;
pub mod risk;
pub mod sbom;
pub mod signoff;
pub mod source_url;
pub mod tarball;
pub mod time;
pub mod tlog;
pub mod words;

pub use error::Error;
pub use inventory::{Inventory, Package, PackageId, SourceKind};
