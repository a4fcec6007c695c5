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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::audit_file::AuditFile;

    const KEY_A: &str = "ed25519:Bsiz+tawIi9aD5s1Oje6y2hFjrp3+UefRwSGIJhx6/o=";
    const KEY_B: &str = "ed25519:HvKe6DHEYzCjr68K5uKJ6mo0NxKrKlEHNl3GnnfuRiQ=";

    fn parse(text: &str) -> Result<AuditFile, String> {
        AuditFile::parse(text, Path::new("Cargo.audit")).map_err(|e| e.to_string())
    }

    fn auditor(records: &str) -> String {
        format!(
            "[[auditor]]\nname = \"team\"\ncovers = [\"*\"]\nrecords = {{ {records} }}\n\
             keys = [{{ key = \"{KEY_A}\" }}]\n"
        )
    }

    #[test]
    fn a_registry_log_pin_needs_origin_and_key_and_a_registry() {
        let f = parse(&auditor(&format!(
            "registry = \"https://audit.example.com\", log-origin = \"audit.example.com/log\", \
             log-key = \"{KEY_B}\""
        )))
        .expect("valid");
        let pin = f.auditors[0].registry_log.as_ref().expect("pinned");
        assert_eq!(pin.origin, "audit.example.com/log");
        assert_eq!(pin.key.to_string(), KEY_B);
        assert_eq!(
            parse(&auditor("registry = \"https://audit.example.com\""))
                .expect("valid")
                .auditors[0]
                .registry_log,
            None
        );
        for (records, why) in [
            (
                "registry = \"https://a.example\", log-origin = \"a.example/log\"".to_owned(),
                "needs both",
            ),
            (
                format!("folder = \"s\", log-origin = \"x\", log-key = \"{KEY_B}\""),
                "only with `registry",
            ),
            (
                format!(
                    "registry = \"https://a.example\", log-origin = \"a b\", log-key = \"{KEY_B}\""
                ),
                "is not a log name",
            ),
        ] {
            let err = parse(&auditor(&records)).expect_err(&records);
            assert!(err.contains(why), "{records}: {err}");
        }
    }

    #[test]
    fn witnesses_are_unique_and_enough_for_the_policy() {
        let one = format!("[[witness]]\nname = \"w1.example\"\nkey = \"{KEY_A}\"\n\n");
        let two = format!("[[witness]]\nname = \"w2.example\"\nkey = \"{KEY_B}\"\n\n");
        let f = parse(&format!("{one}{two}[policy]\nwitnesses-required = 2\n")).expect("valid");
        assert_eq!(f.witnesses.len(), 2);
        assert_eq!(f.policy.witnesses_required, Some(2));
        assert_eq!(f.policy.cosignature_max_age_secs(), 24 * 3600);
        let err = parse(&format!("{one}[policy]\nwitnesses-required = 2\n")).expect_err("too few");
        assert!(err.contains("pins 1 [[witness]]"), "{err}");
        let err = parse(&format!("{one}{one}")).expect_err("twice");
        assert!(err.contains("repeats"), "{err}");
        let bad = "[[witness]]\nname = \"a+b\"\nkey = \"ed25519:Bsiz+tawIi9aD5s1Oje6y2hFjrp3+UefRwSGIJhx6/o=\"\n";
        assert!(parse(bad).expect_err("bad name").contains("not a key name"));
    }
}
