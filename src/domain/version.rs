//! Versions: semver, written with or without a leading `v`.

use std::fmt;

/// A release version. Tags may carry a `v`; the version itself never does.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(pub semver::Version);

impl Version {
    /// Parses `1.2.3` or `v1.2.3`. Pre-release and build metadata are
    /// refused unless `allow_pre` is set.
    pub fn parse(text: &str, allow_pre: bool) -> Result<Self, String> {
        let bare = text.strip_prefix('v').unwrap_or(text);
        let v = semver::Version::parse(bare).map_err(|_| {
            format!("{text:?} is not a version (expected MAJOR.MINOR.PATCH, e.g. 1.2.3)")
        })?;
        if !allow_pre && (!v.pre.is_empty() || !v.build.is_empty()) {
            return Err(format!(
                "{text:?} has pre-release or build metadata, which this team does not release"
            ));
        }
        Ok(Self(v))
    }

    /// Reads a version out of a git tag or an image tag (`v1.2.3`,
    /// `1.2.3`); anything else (`latest`, a commit sha) is not a version.
    pub fn from_tag(tag: &str) -> Option<Self> {
        Self::parse(tag, true).ok()
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The bump a release makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseType {
    Patch,
    Minor,
    Major,
}

impl ReleaseType {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "patch" => Some(Self::Patch),
            "minor" => Some(Self::Minor),
            "major" => Some(Self::Major),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Patch => "patch",
            Self::Minor => "minor",
            Self::Major => "major",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_and_v_prefixed() {
        assert_eq!(Version::parse("1.2.3", false).unwrap().to_string(), "1.2.3");
        assert_eq!(
            Version::parse("v1.2.3", false).unwrap().to_string(),
            "1.2.3"
        );
    }

    #[test]
    fn refuses_non_semver() {
        for bad in [
            "1.2", "1", "latest", "", "v", "1.2.3.4", "01.2.3", "1.2.x", "vv1.2.3",
        ] {
            assert!(Version::parse(bad, false).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn pre_release_only_when_allowed() {
        assert!(Version::parse("1.2.3-rc.1", false).is_err());
        assert!(Version::parse("1.2.3+build5", false).is_err());
        assert!(Version::parse("1.2.3-rc.1", true).is_ok());
    }

    #[test]
    fn image_tags() {
        assert_eq!(Version::from_tag("v1.2.2").unwrap().to_string(), "1.2.2");
        assert!(Version::from_tag("latest").is_none());
        assert!(Version::from_tag("3f9c2ab").is_none());
    }
}
