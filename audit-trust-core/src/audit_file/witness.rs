//! `[[witness]]`: the transparency-log witnesses the project trusts. A witness cosigns a
//! registry's checkpoint only after checking that it extends every checkpoint the witness
//! cosigned before; with `[policy] witnesses-required = N`, the gate accepts a log-pinned
//! registry's checkpoint only with N recent cosignatures by these keys, so even a runner with no
//! cached checkpoint cannot be rolled back or shown a fork (`docs/transparency-log.md`).
//!
//! ```toml
//! [[witness]]
//! name = "witness.example.org"
//! key = "ed25519:…"
//! ```

use serde::Deserialize;

use crate::signoff::PublicKey;

/// One `[[witness]]` table: the witness's name (its key name in cosignature lines) and key.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WitnessPin {
    pub name: String,
    pub key: PublicKey,
}

/// Names must be valid note key names and unique, keys unique, and the policy must not ask
/// for more cosignatures than there are witnesses.
pub(super) fn check_witnesses(
    witnesses: &[WitnessPin],
    required: Option<u32>,
) -> Result<(), String> {
    for (i, w) in witnesses.iter().enumerate() {
        if !crate::tlog::valid_key_name(&w.name) {
            return Err(format!(
                "[[witness]] name `{}` is not a key name (no spaces, no `+`)",
                w.name
                    .chars()
                    .take(80)
                    .flat_map(char::escape_default)
                    .collect::<String>()
            ));
        }
        if witnesses[..i]
            .iter()
            .any(|o| o.name == w.name || o.key == w.key)
        {
            return Err(format!(
                "[[witness]] `{}` repeats the name or key of another witness",
                w.name
            ));
        }
    }
    let required = required.unwrap_or(0) as usize;
    if required > witnesses.len() {
        return Err(format!(
            "[policy] witnesses-required = {required}, but Cargo.audit pins {} [[witness]] keys",
            witnesses.len()
        ));
    }
    Ok(())
}
