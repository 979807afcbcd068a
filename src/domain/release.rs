//! The pre-release checks of the process: main is green, the version is
//! new, and it fits the bump from the latest release.

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
