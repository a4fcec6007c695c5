//! Everything `cargo audit-trust` computes. This crate never prints and never exits: it returns
//! values (an [`Inventory`], a [`report::InventoryReport`]) that the binaries render.

pub mod analyze;
pub mod audit_file;
pub mod cache;
pub mod classify;
pub mod error;
pub mod fetch;
pub mod http;
pub mod inventory;
pub mod lockfile;
pub mod names;
pub mod progress;
pub mod provenance;
pub mod report;
pub mod tarball;

pub use error::Error;
pub use inventory::{Inventory, Package, PackageId, SourceKind};
