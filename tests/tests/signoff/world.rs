//! Shared set-up of the sign-off end-to-end tests: `key new`, `sign`, `query` and `check` through the real binary, against crates published
//! with the real `cargo package` to a registry on a loopback port, with a real `Cargo.audit`
//! and a local sign-off store. Nothing here reaches the internet.

use std::path::{Path, PathBuf};

use audit_trust_e2e::World as Harness;
use audit_trust_e2e::{CrateSpec, LocalRegistry, Published, Workspace};

pub use audit_trust_e2e::NOW;

/// The custom criteria the tests sign with.
pub const CRITERIA: &str = "[criteria.safe-to-deploy]\ndescription = \"deployable\"\nimplies = [\"reviewed\"]\n\n\
    [criteria.c-offline]\ndescription = \"t\"\n[criteria.c-one]\ndescription = \"t\"\n\
    [criteria.c-two]\ndescription = \"t\"\n[criteria.c-three]\ndescription = \"t\"\n\
    [criteria.c-four]\ndescription = \"t\"\n[criteria.c-five]\ndescription = \"t\"\n\n";

/// The harness's [`Harness`] (registry, workspace, home), with leafy published and locked.
pub struct World {
    base: Harness,
    /// leafy 1.0.1 as published (`None` in worlds without leafy).
    pub leafy_101: Option<Published>,
}

impl std::ops::Deref for World {
    type Target = Harness;

    fn deref(&self) -> &Harness {
        &self.base
    }
}

pub fn world() -> World {
    let reg = LocalRegistry::start();
    reg.publish_crate(&CrateSpec::new("leafy", "1.0.0").file("src/lib.rs", "pub fn one() {}\n"));
    let leafy_101 = reg.publish_crate(
        &CrateSpec::new("leafy", "1.0.1").file("src/lib.rs", "pub fn one() {}\npub fn two() {}\n"),
    );
    reg.publish_crate(&CrateSpec::new("other", "0.1.0"));
    let ws = Workspace::single(
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [dependencies]\nleafy = \"=1.0.1\"\n",
        &[],
    );
    ws.generate_lockfile(&reg);
    World {
        base: Harness::new(reg, ws),
        leafy_101: Some(leafy_101),
    }
}

impl World {
    /// Signs a flag on leafy 1.0.1 ("compromised release") with `key` and publishes it to the
    /// registry at `registry`: the flag the hostile-registry tests try to hide.
    pub fn flag_leafy(&self, key: &str, registry: &str) {
        self.ok(&[
            "sign",
            "leafy",
            "1.0.1",
            "--flag",
            "compromised release",
            "--key",
            key,
        ]);
        self.ok(&["publish", "--registry", registry, "--key", key]);
    }

    /// A world of the given registry and workspace, without leafy.
    pub fn of(reg: LocalRegistry, ws: Workspace) -> World {
        World {
            base: Harness::new(reg, ws),
            leafy_101: None,
        }
    }

    pub fn write_audit_file(&self, keys: &str) {
        self.ws.write_file(
            "Cargo.audit",
            &format!(
                "{CRITERIA}[[auditor]]\nname = \"team\"\ncovers = [\"leafy\", \"other\"]\n\
                 records = {{ folder = \"supply-chain/sign-offs\" }}\nkeys = [{keys}]\n"
            ),
        );
    }

    /// SHA-256 of leafy 1.0.1's crate file.
    pub fn leafy_checksum(&self) -> &str {
        &self
            .leafy_101
            .as_ref()
            .expect("a world with leafy")
            .checksum_hex
    }

    pub fn store(&self) -> PathBuf {
        self.ws.path().join("supply-chain/sign-offs")
    }
}

pub fn path_arg(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}
