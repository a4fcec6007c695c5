use super::*;

fn sum(c: char) -> String {
    std::iter::repeat_n(c, 64).collect()
}

fn inventory(text: &str) -> Inventory {
    let lock = Lockfile::parse(text, Path::new("/ws/Cargo.lock")).expect("valid lockfile");
    Inventory::build(lock, InventoryMode::Lockfile, None)
}

#[test]
fn sources_direct_edges_and_duplicates() {
    let text = format!(
        r#"version = 4
[[package]]
name = "app"
version = "0.1.0"
dependencies = ["helper", "regex", "gitdep"]

[[package]]
name = "helper"
version = "0.1.0"
dependencies = ["aho-corasick 0.7.0"]

[[package]]
name = "regex"
version = "1.0.0"
source = "{CRATES_IO_SOURCE_ID}"
checksum = "{a}"
dependencies = ["aho-corasick 1.0.0"]

[[package]]
name = "aho-corasick"
version = "1.0.0"
source = "{CRATES_IO_SOURCE_ID}"
checksum = "{b}"

[[package]]
name = "aho-corasick"
version = "0.7.0"
source = "sparse+https://mirror.example/index/"
checksum = "{c}"

[[package]]
name = "gitdep"
version = "0.3.0"
source = "git+https://example.com/g.git?branch=main#0123456789abcdef0123456789abcdef01234567"
"#,
        a = sum('a'),
        b = sum('b'),
        c = sum('c')
    );
    let inv = inventory(&text);
    assert_eq!(inv.root, Path::new("/ws"));
    let by_spec = |s: &str| {
        inv.packages
            .iter()
            .find(|p| p.spec() == s)
            .unwrap_or_else(|| panic!("{s} missing"))
    };
    assert_eq!(by_spec("app@0.1.0").source, SourceKind::Path);
    assert!(by_spec("app@0.1.0").workspace_member);
    assert_eq!(by_spec("regex@1.0.0").source.label(), "crates.io");
    assert_eq!(by_spec("aho-corasick@0.7.0").source.label(), "registry");
    assert_eq!(
        by_spec("gitdep@0.3.0").source,
        SourceKind::Git {
            url: "https://example.com/g.git?branch=main".into(),
            commit: Some("0123456789abcdef0123456789abcdef01234567".into())
        }
    );
    // Direct: a dependency of a path package that is not itself a path package.
    assert!(by_spec("regex@1.0.0").direct);
    assert!(by_spec("gitdep@0.3.0").direct);
    assert!(
        by_spec("aho-corasick@0.7.0").direct,
        "helper is a path package"
    );
    assert!(!by_spec("aho-corasick@1.0.0").direct);
    assert!(
        !by_spec("helper@0.1.0").direct,
        "path packages are not counted as direct"
    );
    assert_eq!(
        by_spec("app@0.1.0").dev_only,
        None,
        "unknown without metadata"
    );
    assert_eq!(inv.versions_per_name()["aho-corasick"], 2);
}
