//! The pre-release checks of the process: main is green, the version is
//! new, and it fits the bump from the latest release (the highest
//! published version).

use super::{ReleaseType, Version};

/// The version a bump makes of the latest release; none when its number is
/// already the largest there is (a tag anyone may push must not panic us).
pub fn bump(latest: &Version, kind: ReleaseType) -> Option<Version> {
    let v = &latest.0;
    let next = match kind {
        ReleaseType::Patch => semver::Version::new(v.major, v.minor, v.patch.checked_add(1)?),
        ReleaseType::Minor => semver::Version::new(v.major, v.minor.checked_add(1)?, 0),
        ReleaseType::Major => semver::Version::new(v.major.checked_add(1)?, 0, 0),
    };
    Some(Version(next))
}

/// A release as GitHub lists it, as far as the release line cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listed<'a> {
    pub tag: &'a str,
    pub draft: bool,
    pub prerelease: bool,
}

/// Which of `releases` is the latest on the release line: the highest
/// version (semver order, tags with or without a `v`) among the published
/// ones. Not GitHub's "latest" flag, which follows creation dates and can
/// be moved by hand. Drafts are not published; nor are GitHub's
/// pre-releases, which its own "latest" leaves out too. A tag that is not
/// a version (`nightly`) is no part of the line. A pre-release version
/// published as a full release (`1.4.0-rc.1`) counts, below `1.4.0` as
/// semver orders it. Of two tags for one version (`v1.2.3` and `1.2.3`),
/// the first listed (GitHub lists the newest first).
pub fn highest_published(releases: &[Listed<'_>]) -> Option<usize> {
    releases
        .iter()
        .enumerate()
        .filter(|(_, r)| !r.draft && !r.prerelease)
        .filter_map(|(i, r)| Version::from_tag(r.tag).map(|v| (i, v)))
        // Highest version; on a tie, the lowest index.
        .max_by(|(i, a), (j, b)| a.cmp(b).then(j.cmp(i)))
        .map(|(i, _)| i)
}

/// One named check, passed or not, with what it found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: &'static str,
    pub passed: bool,
    pub detail: String,
}

/// What the checks come to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReleaseVerdict {
    /// Everything passed: dispatch.
    Proceed,
    /// Only the bump does not fit: ask the requester to confirm.
    Confirm,
    /// CI is not green or the version is not new: refuse.
    Refuse,
}

/// The CI state as the checks need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ci {
    Green,
    NotGreen(String),
    Unknown(String),
}

/// Runs the checks, each reported by name.
pub fn release_checks(
    version: &Version,
    kind: ReleaseType,
    latest: Option<&Version>,
    ci: &Ci,
    git_ref: &str,
) -> (Vec<Check>, ReleaseVerdict) {
    let ci_check = match ci {
        Ci::Green => Check {
            name: "CI",
            passed: true,
            detail: format!("{git_ref} is green"),
        },
        Ci::NotGreen(why) => Check {
            name: "CI",
            passed: false,
            detail: format!("{git_ref} is not green: {why}"),
        },
        Ci::Unknown(why) => Check {
            name: "CI",
            passed: false,
            detail: format!("{git_ref}'s CI is unknown: {why}"),
        },
    };
    let new_check = match latest {
        None => Check {
            name: "New version",
            passed: true,
            detail: "the first release".into(),
        },
        Some(latest) if version > latest => Check {
            name: "New version",
            passed: true,
            detail: format!("{version} is newer than {latest}"),
        },
        Some(latest) => Check {
            name: "New version",
            passed: false,
            detail: format!("{version} is not newer than the latest release {latest}"),
        },
    };
    let bump_check = match latest {
        None => Check {
            name: "Fits the bump",
            passed: true,
            detail: "nothing to compare with".into(),
        },
        Some(latest) => match bump(latest, kind) {
            Some(expected) => Check {
                name: "Fits the bump",
                passed: *version == expected,
                detail: if *version == expected {
                    format!("{latest} + {} = {version}", kind.as_str())
                } else {
                    format!("{latest} + {} = {expected}, not {version}", kind.as_str())
                },
            },
            None => Check {
                name: "Fits the bump",
                passed: false,
                detail: format!("{latest} has no next {} version", kind.as_str()),
            },
        },
    };
    let verdict = if !ci_check.passed || !new_check.passed {
        ReleaseVerdict::Refuse
    } else if !bump_check.passed {
        ReleaseVerdict::Confirm
    } else {
        ReleaseVerdict::Proceed
    };
    (vec![ci_check, new_check, bump_check], verdict)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s, true).unwrap()
    }

    #[test]
    fn the_latest_release_is_the_highest_published_version() {
        let listed = |tag, draft, prerelease| Listed {
            tag,
            draft,
            prerelease,
        };
        let published = |tag| listed(tag, false, false);
        // Newest first, as GitHub lists them: an old line backfilled last.
        assert_eq!(
            highest_published(&[
                published("v0.9.1"),
                published("v1.2.2"),
                published("v1.3.0"),
                published("1.2.3"),
            ]),
            Some(2)
        );
        // Ten is more than nine (not a string order).
        assert_eq!(
            highest_published(&[published("v1.9.0"), published("v1.10.0")]),
            Some(1)
        );
        // Drafts, GitHub pre-releases and tags that are not versions are
        // not on the line.
        assert_eq!(
            highest_published(&[
                listed("v9.0.0", true, false),
                listed("v2.0.0-rc.1", false, true),
                listed("v2.0.0", false, true),
                published("nightly"),
                published("v1.3.0"),
            ]),
            Some(4)
        );
        // A pre-release version published as a release sorts below its
        // release, as semver says.
        assert_eq!(
            highest_published(&[published("v1.4.0-rc.1"), published("v1.3.0")]),
            Some(0)
        );
        assert_eq!(
            highest_published(&[published("v1.4.0-rc.1"), published("v1.4.0")]),
            Some(1)
        );
        // One version tagged twice: the first listed.
        assert_eq!(
            highest_published(&[published("1.3.0"), published("v1.3.0")]),
            Some(0)
        );
        assert_eq!(highest_published(&[]), None);
        assert_eq!(
            highest_published(&[published("latest"), listed("v1.0.0", true, false)]),
            None
        );
    }

    #[test]
    fn bumps() {
        let latest = v("1.2.2");
        assert_eq!(bump(&latest, ReleaseType::Patch), Some(v("1.2.3")));
        assert_eq!(bump(&latest, ReleaseType::Minor), Some(v("1.3.0")));
        assert_eq!(bump(&latest, ReleaseType::Major), Some(v("2.0.0")));
    }

    #[test]
    fn the_largest_numbers_have_no_bump_and_never_panic() {
        assert!(Version::parse("99999999999999999999.0.0", true).is_err());
        let max = u64::MAX;
        let latest = v(&format!("{max}.{max}.{max}"));
        for kind in [ReleaseType::Patch, ReleaseType::Minor, ReleaseType::Major] {
            assert_eq!(bump(&latest, kind), None, "{kind:?}");
        }
        let (checks, verdict) = release_checks(
            &v(&format!("{max}.0.1")),
            ReleaseType::Major,
            Some(&v(&format!("{max}.0.0"))),
            &Ci::Green,
            "main",
        );
        assert_eq!(verdict, ReleaseVerdict::Confirm, "{checks:?}");
        let detail = &checks[2].detail;
        assert!(detail.contains("has no next major version"), "{detail}");
        let (_, verdict) = release_checks(
            &v(&format!("{max}.0.0")),
            ReleaseType::Major,
            Some(&v(&format!("{}.9.9", max - 1))),
            &Ci::Green,
            "main",
        );
        assert_eq!(verdict, ReleaseVerdict::Proceed);
    }

    fn verdict(version: &str, kind: ReleaseType, latest: Option<&str>, ci: Ci) -> ReleaseVerdict {
        let latest = latest.map(v);
        release_checks(&v(version), kind, latest.as_ref(), &ci, "main").1
    }

    #[test]
    fn verdicts() {
        use ReleaseType::*;
        assert_eq!(
            verdict("1.3.0", Minor, Some("1.2.2"), Ci::Green),
            ReleaseVerdict::Proceed
        );
        assert_eq!(
            verdict("1.0.0", Major, None, Ci::Green),
            ReleaseVerdict::Proceed
        );
        assert_eq!(
            verdict("1.4.0", Minor, Some("1.2.2"), Ci::Green),
            ReleaseVerdict::Confirm
        );
        assert_eq!(
            verdict("1.3.0", Patch, Some("1.2.2"), Ci::Green),
            ReleaseVerdict::Confirm
        );
        assert_eq!(
            verdict("1.2.2", Patch, Some("1.2.2"), Ci::Green),
            ReleaseVerdict::Refuse
        );
        assert_eq!(
            verdict("1.2.1", Patch, Some("1.2.2"), Ci::Green),
            ReleaseVerdict::Refuse
        );
        assert_eq!(
            verdict("1.3.0", Minor, Some("1.2.2"), Ci::NotGreen("lint".into())),
            ReleaseVerdict::Refuse
        );
        assert_eq!(
            verdict("1.3.0", Minor, Some("1.2.2"), Ci::Unknown("502".into())),
            ReleaseVerdict::Refuse
        );
    }

    #[test]
    fn each_check_says_what_it_found() {
        let (checks, _) = release_checks(
            &v("1.4.0"),
            ReleaseType::Minor,
            Some(&v("1.2.2")),
            &Ci::Green,
            "main",
        );
        let lines: Vec<String> = checks
            .iter()
            .map(|c| format!("{} {}: {}", c.passed, c.name, c.detail))
            .collect();
        assert_eq!(
            lines,
            [
                "true CI: main is green",
                "true New version: 1.4.0 is newer than 1.2.2",
                "false Fits the bump: 1.2.2 + minor = 1.3.0, not 1.4.0",
            ]
        );
    }
}
