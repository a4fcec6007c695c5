//! Hostile crate files: what the reader refuses makes every tarball signal "not computed",
//! never a clean result.

use super::*;
use crate::risk::assess::Base;

fn refused_context(bytes: &[u8], limits: &Limits) -> RiskContext {
    let mut ctx = context();
    let why = read_crate(bytes, "evil", "1.0.0", limits)
        .map(|_| ())
        .expect_err("the reader refuses it")
        .to_string();
    ctx.facts.insert(
        "evil@1.0.0".into(),
        Err(format!("its crate file was refused: {why}")),
    );
    ctx.bases.insert("evil@1.0.0".into(), Base::First);
    ctx.index.insert(
        "evil".into(),
        Ok(vec![listed("1.0.0", false, Some("2025-01-01T00:00:00Z"))]),
    );
    ctx
}

fn assert_not_computed(ctx: &RiskContext, expected: &str) {
    let risk = assess_spec(ctx, "evil@1.0.0");
    assert!(risk.signals.is_empty(), "{:#?}", risk.signals);
    let nc = risk
        .not_computed
        .iter()
        .find(|n| n.signals.contains(&SignalCode::BuildScriptSpawns))
        .expect("the tarball signals are not computed");
    assert!(nc.why.contains(expected), "{}", nc.why);
    assert!(nc.signals.contains(&SignalCode::Typosquat));
}

#[test]
fn a_file_over_the_size_limit_leaves_the_signals_not_computed() {
    let huge = vec![b'a'; 2 * 1024 * 1024];
    let bytes = crate_bytes(
        "evil",
        "1.0.0",
        &[
            (
                "Cargo.toml",
                manifest("evil", "1.0.0", "").as_bytes(),
                0o644,
            ),
            (
                "build.rs",
                b"fn main() { std::process::Command::new(\"sh\"); }",
                0o644,
            ),
            ("data.bin", &huge, 0o644),
        ],
    );
    let limits = Limits {
        max_file_bytes: 1024 * 1024,
        ..Limits::default()
    };
    assert_not_computed(&refused_context(&bytes, &limits), "limit");
}

#[test]
fn a_path_traversal_entry_leaves_the_signals_not_computed() {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    let body = b"fn main() {}";
    header.as_old_mut().name[..22].copy_from_slice(b"evil-1.0.0/../build.rs");
    header.set_size(body.len() as u64);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_cksum();
    builder.append(&header, &body[..]).expect("append");
    let tar = builder.into_inner().expect("tar");
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(&tar).expect("gzip");
    let bytes = gz.finish().expect("gzip");
    assert_not_computed(&refused_context(&bytes, &Limits::default()), "..");
}

#[test]
fn a_crate_without_a_manifest_or_an_unread_base_is_not_computed() {
    let err =
        facts_of_bytes("evil", "1.0.0", &[("src/lib.rs", b"", 0o644)]).expect_err("no manifest");
    assert!(err.contains("Cargo.toml"), "{err}");
    let mut ctx = context();
    let f = facts_of(
        "evil",
        "1.0.0",
        &[
            ("Cargo.toml", &manifest("evil", "1.0.0", "")),
            ("src/lib.rs", ""),
        ],
    );
    add(&mut ctx, f, Some("0.9.0"));
    ctx.index
        .insert("evil".into(), Err("the registry did not answer".into()));
    let risk = assess_spec(&ctx, "evil@1.0.0");
    assert!(risk.signals.is_empty());
    let whys: Vec<&str> = risk.not_computed.iter().map(|n| n.why.as_str()).collect();
    assert!(whys.contains(&"the registry did not answer"), "{whys:?}");
    assert!(
        whys.iter()
            .any(|w| w.contains("base evil@0.9.0 was not read")),
        "{whys:?}"
    );
}
