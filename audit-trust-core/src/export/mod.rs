//! Our verified sign-offs in other tools' formats.

mod cargo_vet;
#[cfg(test)]
mod tests;

pub use cargo_vet::{CargoVetExport, export_cargo_vet};
