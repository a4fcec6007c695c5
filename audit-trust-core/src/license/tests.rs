use super::*;

fn text_of(id: &str) -> &'static str {
    spdx::license_id(id).map(|l| l.text()).unwrap_or_default()
}

fn manifest(extra: &str) -> String {
    format!("[package]\nname = \"demo\"\nversion = \"1.0.0\"\n{extra}\n")
}

fn inspect(manifest: &str, files: &[(&str, &[u8])]) -> PackageLicense {
    let mut all: Vec<(&str, &[u8])> = vec![("Cargo.toml", manifest.as_bytes())];
    all.extend_from_slice(files);
    inspect_crate(all).expect("manifest parses")
}

#[test]
fn dual_license_with_both_texts_is_clean() {
    let m = manifest("license = \"MIT OR Apache-2.0\"");
    let mit = format!("Copyright (c) 2024 Demo\n\n{}", text_of("MIT"));
    let l = inspect(
        &m,
        &[
            ("LICENSE-MIT", mit.as_bytes()),
            ("LICENSE-APACHE", text_of("Apache-2.0").as_bytes()),
            ("src/lib.rs", b"pub fn f() {}"),
        ],
    );
    let e = l.expression.as_ref().expect("declared");
    assert_eq!(e.parsed.as_deref(), Some("MIT OR Apache-2.0"));
    assert_eq!(e.licenses, vec!["Apache-2.0", "MIT"]);
    assert_eq!(l.texts.len(), 2);
    let detected: Vec<_> = l
        .texts
        .iter()
        .map(|t| t.detected.clone().unwrap_or_default())
        .collect();
    assert_eq!(detected, vec!["Apache-2.0", "MIT"]);
    assert!(
        l.texts
            .iter()
            .all(|t| t.confidence >= IDENTIFIED_CONFIDENCE),
        "{:?}",
        l.texts
    );
    assert!(l.findings.is_empty(), "{:?}", l.findings);
}

#[test]
fn with_exception_and_old_slash_form_parse() {
    let with = parse_declared("Apache-2.0 WITH LLVM-exception");
    assert_eq!(
        with.parsed.as_deref(),
        Some("Apache-2.0 WITH LLVM-exception")
    );
    assert_eq!(with.licenses, vec!["Apache-2.0"]);
    assert_eq!(with.note, None);
    let slash = parse_declared("MIT/Apache-2.0");
    assert_eq!(slash.parsed.as_deref(), Some("MIT OR Apache-2.0"));
    assert!(
        slash
            .note
            .as_deref()
            .is_some_and(|n| n.contains("not standard SPDX"))
    );
    let nested = parse_declared("(MIT OR Apache-2.0) AND Unicode-3.0");
    assert_eq!(
        nested.parsed.as_deref(),
        Some("(MIT OR Apache-2.0) AND Unicode-3.0")
    );
}

#[test]
fn unparseable_expression_is_a_finding_with_a_reason() {
    let m = manifest("license = \"MIT and some other stuff\"");
    let l = inspect(&m, &[("LICENSE", text_of("MIT").as_bytes())]);
    assert_eq!(l.expression.as_ref().and_then(|e| e.parsed.clone()), None);
    assert!(
        matches!(&l.findings[0], LicenseFinding::Unparseable { reason, .. } if !reason.is_empty())
    );
}

#[test]
fn license_file_only_is_read_and_identified() {
    let m = manifest("license-file = \"docs/COPYRIGHT.txt\"");
    let l = inspect(
        &m,
        &[("docs/COPYRIGHT.txt", text_of("BSD-3-Clause").as_bytes())],
    );
    assert_eq!(l.expression, None);
    assert_eq!(l.texts.len(), 1);
    assert_eq!(l.texts[0].kind, TextKind::LicenseFile);
    assert_eq!(l.texts[0].detected.as_deref(), Some("BSD-3-Clause"));
    assert!(l.findings.is_empty(), "{:?}", l.findings);
}

#[test]
fn missing_texts_and_missing_license_are_findings() {
    let l = inspect(&manifest("license = \"MIT\""), &[("src/lib.rs", b"")]);
    assert_eq!(l.findings, vec![LicenseFinding::NoTexts]);
    let l = inspect(&manifest(""), &[]);
    assert_eq!(l.findings, vec![LicenseFinding::NoLicense]);
}

#[test]
fn declared_mit_shipping_gpl_text_is_a_mismatch() {
    let l = inspect(
        &manifest("license = \"MIT\""),
        &[("LICENSE", text_of("GPL-3.0-only").as_bytes())],
    );
    let mismatch = l
        .findings
        .iter()
        .find(|f| f.is_mismatch())
        .expect("mismatch");
    match mismatch {
        LicenseFinding::Mismatch {
            detected, declared, ..
        } => {
            assert_eq!(detected, "GPL-3.0-only");
            assert_eq!(declared, "MIT");
        }
        other => panic!("{other:?}"),
    }
    // `GPL-3.0-or-later` names the same text: no mismatch.
    let l = inspect(
        &manifest("license = \"GPL-3.0-or-later\""),
        &[("COPYING", text_of("GPL-3.0-only").as_bytes())],
    );
    assert!(l.findings.is_empty(), "{:?}", l.findings);
}

#[test]
fn escaping_license_file_is_refused_not_read() {
    for path in [
        "../../etc/passwd",
        "/etc/passwd",
        "a/../../LICENSE",
        "C:\\x",
    ] {
        let m = manifest(&format!("license-file = {path:?}"));
        let l = inspect(&m, &[("LICENSE", text_of("MIT").as_bytes())]);
        assert!(
            l.findings.contains(&LicenseFinding::LicenseFileEscapes {
                path: path.to_owned()
            }),
            "{path}: {:?}",
            l.findings
        );
    }
    let l = inspect(
        &manifest("license-file = \"./sub/../LICENSE.txt\""),
        &[("LICENSE.txt", b"x")],
    );
    assert_eq!(l.texts[0].kind, TextKind::LicenseFile);
}

#[test]
fn binary_huge_and_non_utf8_texts_are_findings() {
    let huge = vec![b'a'; MAX_TEXT_BYTES + 1];
    let l = inspect(
        &manifest("license = \"MIT\""),
        &[
            ("LICENSE", b"\x00\x01binary"),
            ("LICENSE-2", &huge),
            ("COPYING", b"caf\xe9"),
        ],
    );
    let reasons: Vec<_> = l
        .findings
        .iter()
        .filter_map(|f| match f {
            LicenseFinding::UnreadableText { reason, .. } => Some(reason.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(reasons, vec!["not UTF-8", "binary", "too large"]);
    assert!(l.findings.contains(&LicenseFinding::NoTexts));
}

#[test]
fn notice_files_and_license_folders_are_found() {
    let l = inspect(
        &manifest("license = \"Apache-2.0\""),
        &[
            ("LICENSES/Apache-2.0.txt", text_of("Apache-2.0").as_bytes()),
            ("NOTICE", b"Demo\nCopyright 2024 Demo Authors\n"),
            ("src/license.rs", b"// not a license text"),
        ],
    );
    let kinds: Vec<_> = l.texts.iter().map(|t| (t.path.as_str(), t.kind)).collect();
    assert_eq!(
        kinds,
        vec![
            ("LICENSES/Apache-2.0.txt", TextKind::License),
            ("NOTICE", TextKind::Notice)
        ]
    );
    assert!(l.findings.is_empty(), "{:?}", l.findings);
}

#[test]
fn same_text_with_other_line_endings_has_one_digest() {
    let unix = inspect(
        &manifest("license = \"MIT\""),
        &[("LICENSE", b"Copyright A\n\nPermission\n")],
    );
    let dos = inspect(
        &manifest("license = \"MIT\""),
        &[("LICENSE", b"Copyright A  \r\n\r\nPermission\r\n\r\n")],
    );
    assert_eq!(unix.texts[0].digest, dos.texts[0].digest);
}
