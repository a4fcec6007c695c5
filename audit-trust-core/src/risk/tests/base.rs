//! The base a version is compared with, and cargo's own minimum publish age.

use super::*;
use crate::risk::cargo_age::cargo_min_publish_age;
use crate::risk::gather::choose_base;

#[test]
fn the_base_is_the_newest_earlier_version_not_yanked_else_any_earlier_else_none() {
    let all = [
        listed("1.0.0", false, None),
        listed("1.1.0", false, None),
        listed("1.2.0", true, None),
        listed("1.3.0", false, None),
    ];
    let refs: Vec<&IndexVersion> = all.iter().collect();
    let base = |version: &str| choose_base(&refs, &v(version));
    assert_eq!(
        base("1.3.0"),
        Base::Version {
            version: v("1.1.0"),
            from: "index"
        }
    );
    assert_eq!(
        base("1.1.0"),
        Base::Version {
            version: v("1.0.0"),
            from: "index"
        }
    );
    assert_eq!(base("1.0.0"), Base::First);
    let yanked = [listed("0.3.8", true, None), listed("0.3.9", true, None)];
    let refs: Vec<&IndexVersion> = yanked.iter().collect();
    assert_eq!(
        choose_base(&refs, &v("0.3.10")),
        Base::Version {
            version: v("0.3.9"),
            from: "index"
        }
    );
}

#[test]
fn cargo_min_publish_age_comes_from_config_and_environment_and_the_strictest_wins() {
    let project = tempfile::tempdir().expect("dir");
    let home = tempfile::tempdir().expect("dir");
    assert_eq!(
        cargo_min_publish_age(project.path(), home.path(), &[]),
        Ok(None)
    );
    std::fs::create_dir_all(project.path().join(".cargo")).expect("mkdir");
    std::fs::write(
        project.path().join(".cargo/config.toml"),
        "[registry]\nglobal-min-publish-age = \"2 days\"\n",
    )
    .expect("write");
    std::fs::write(
        home.path().join("config.toml"),
        "[registry]\nmin-publish-age = \"1 week\"\n",
    )
    .expect("write");
    assert_eq!(
        cargo_min_publish_age(project.path(), home.path(), &[]),
        Ok(Some(7 * 86_400))
    );
    let env = [("CARGO_REGISTRY_MIN_PUBLISH_AGE", Some("14 days".to_owned()))];
    assert_eq!(
        cargo_min_publish_age(project.path(), home.path(), &env),
        Ok(Some(14 * 86_400))
    );
    let env = [("CARGO_REGISTRY_MIN_PUBLISH_AGE", Some("soon".to_owned()))];
    let err = cargo_min_publish_age(project.path(), home.path(), &env).expect_err("bad");
    assert!(err.contains("CARGO_REGISTRY_MIN_PUBLISH_AGE"), "{err}");
}
