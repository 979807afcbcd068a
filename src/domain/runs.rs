//! Which GitHub events and workflow runs are ours: the repository a
//! webhook names, and whether a run may be attached to an operation (its
//! `run-name` read for the version and environment it says it serves).

use super::{AlertKind, OperationKind, Version};

/// Whether a webhook's `repository.full_name` is the configured
/// repository. GitHub treats owner and repository names without regard to
/// case, so `Mindburn-Labs/Aletheia` is the same repository.
pub fn is_our_repository(owner: &str, repo: &str, full_name: &str) -> bool {
    full_name
        .split_once('/')
        .is_some_and(|(o, r)| o.eq_ignore_ascii_case(owner) && r.eq_ignore_ascii_case(repo))
}

/// Reads `Release 1.3.0 (…)`, the Release workflow's `run-name`: the version.
pub fn parse_release_title(title: &str) -> Option<String> {
    let rest = title.strip_prefix("Release ")?;
    let version = rest.split_whitespace().next()?;
    Version::parse(version, true).ok().map(|v| v.to_string())
}

/// `Deploy 1.3.0 to prod (…)` (the `run-name` the README asks the Deploy
/// workflow to have; Rollback alike, with its own `prefix`): the version
/// and the environment.
pub fn parse_run_title(prefix: &str, title: &str) -> Option<(String, String)> {
    let (named, env) = parse_run_title_as_named(prefix, title)?;
    super::run_version(&named, false).map(|v| (v, env))
}

/// `Deploy X to ENV (…)`: X as named (a version, or for an environment
/// that deploys itself any image tag) and the environment.
pub fn parse_run_title_as_named(prefix: &str, title: &str) -> Option<(String, String)> {
    let rest = title.strip_prefix(prefix)?;
    let (named, rest) = rest.split_once(" to ")?;
    let env: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    let named = named.trim();
    (!env.is_empty() && !named.is_empty()).then(|| (named.to_owned(), env))
}

/// The alert kind of an operation's own messages (its story).
pub fn alert_kind_of(kind: OperationKind) -> AlertKind {
    match kind {
        OperationKind::Release => AlertKind::Release,
        OperationKind::Rollback => AlertKind::Rollback,
        OperationKind::Deploy => AlertKind::Deployment,
    }
}

/// The first UUID in a run's title: the request id the workflow put into
/// its `run-name`.
pub fn request_id_in(title: &str) -> Option<&str> {
    let bytes = title.as_bytes();
    (0..bytes.len().saturating_sub(35)).find_map(|start| {
        let candidate = &title.get(start..start + 36)?;
        let ok = candidate.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        });
        ok.then_some(*candidate)
    })
}

/// What a run's `run-name` says it does, as far as it says anything:
/// the version and, for a deploy or rollback, the environment.
pub fn run_name_says(kind: OperationKind, title: &str) -> Option<(String, Option<String>)> {
    match kind {
        OperationKind::Release => parse_release_title(title).map(|v| (v, None)),
        OperationKind::Deploy => parse_run_title("Deploy ", title).map(|(v, e)| (v, Some(e))),
        OperationKind::Rollback => parse_run_title("Rollback ", title).map(|(v, e)| (v, Some(e))),
    }
}

/// Whether a run of the operation's own workflow may be attached to an
/// operation (of `kind`, for `env` and `version`) that has no run yet.
/// A `run-name` naming another version or environment is someone else's
/// run, even when it carries the operation's request id. One that names
/// neither (a workflow that kept GitHub's default run-name) contradicts
/// nothing: the request id or the time of the run decide, as before.
/// `Err` says why not, for the log.
pub fn run_fits(
    kind: OperationKind,
    env: Option<&str>,
    version: &str,
    title: Option<&str>,
) -> Result<(), String> {
    let Some((says_version, says_env)) = title.and_then(|t| run_name_says(kind, t)) else {
        return Ok(());
    };
    let same_version = match (
        Version::parse(version, true),
        Version::parse(&says_version, true),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if !same_version {
        return Err(format!(
            "its run-name names version {says_version}, not {version}"
        ));
    }
    match (says_env, env) {
        (Some(said), Some(env)) if !said.eq_ignore_ascii_case(env) => {
            Err(format!("its run-name names environment {said}, not {env}"))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_repository_whatever_the_case() {
        assert!(is_our_repository(
            "mindburn-labs",
            "aletheia",
            "mindburn-labs/aletheia"
        ));
        assert!(is_our_repository(
            "mindburn-labs",
            "aletheia",
            "Mindburn-Labs/ALETHEIA"
        ));
        for other in [
            "other-org/aletheia",
            "mindburn-labs/aletheia-infra",
            "mindburn-labs/",
            "mindburn-labs",
            "aletheia",
            "",
            "mindburn-labs/aletheia/extra",
        ] {
            assert!(
                !is_our_repository("mindburn-labs", "aletheia", other),
                "{other} taken for ours"
            );
        }
    }

    #[test]
    fn a_run_fits_only_the_version_and_environment_its_name_says() {
        let id = "0f8fad5b-d9cb-469f-a165-70867728950e";
        let deploy =
            |title: &str| run_fits(OperationKind::Deploy, Some("staging"), "1.3.0", Some(title));
        assert_eq!(deploy(&format!("Deploy 1.3.0 to staging ({id})")), Ok(()));
        assert_eq!(deploy("Deploy v1.3.0 to staging"), Ok(()));
        assert_eq!(
            deploy(&format!("Deploy 1.3.0 to prod ({id})")),
            Err("its run-name names environment prod, not staging".into())
        );
        assert_eq!(
            deploy(&format!("Deploy 1.2.2 to staging ({id})")),
            Err("its run-name names version 1.2.2, not 1.3.0".into())
        );
        // A run-name that says nothing contradicts nothing.
        assert_eq!(deploy("Deploy"), Ok(()));
        assert_eq!(
            run_fits(OperationKind::Deploy, Some("staging"), "1.3.0", None),
            Ok(())
        );
        let rollback =
            |title: &str| run_fits(OperationKind::Rollback, Some("prod"), "1.2.2", Some(title));
        assert_eq!(rollback("Rollback 1.2.2 to prod ()"), Ok(()));
        assert!(rollback("Rollback 1.2.3 to prod ()").is_err());
        let release = |title: &str| run_fits(OperationKind::Release, None, "1.4.0", Some(title));
        assert_eq!(release(&format!("Release 1.4.0 ({id})")), Ok(()));
        assert_eq!(
            release(&format!("Release 1.3.1 ({id})")),
            Err("its run-name names version 1.3.1, not 1.4.0".into())
        );
    }

    #[test]
    fn reads_version_and_environment_from_a_deploy_run_name() {
        let parse_deploy_title = |t: &str| parse_run_title("Deploy ", t);
        let pair = |v: &str, e: &str| Some((v.to_owned(), e.to_owned()));
        assert_eq!(
            parse_deploy_title("Deploy 1.3.0 to staging (0f8fad5b-d9cb-469f-a165-70867728950e)"),
            pair("1.3.0", "staging")
        );
        assert_eq!(
            parse_deploy_title("Deploy v1.3.0 to prod ()"),
            pair("1.3.0", "prod")
        );
        assert_eq!(
            parse_deploy_title("Deploy 1.3.0 to staging"),
            pair("1.3.0", "staging")
        );
        assert_eq!(parse_deploy_title("Deploy latest to staging"), None);
        assert_eq!(parse_deploy_title("Release 1.3.0"), None);
        assert_eq!(parse_deploy_title("Deploy 1.3.0 to "), None);
    }

    #[test]
    fn reads_release_and_rollback_run_names() {
        assert_eq!(
            parse_release_title("Release 1.3.0 (0f8fad5b-d9cb-469f-a165-70867728950e)"),
            Some("1.3.0".to_owned())
        );
        assert_eq!(
            parse_release_title("Release v1.3.0"),
            Some("1.3.0".to_owned())
        );
        assert_eq!(parse_release_title("Release notes"), None);
        assert_eq!(
            parse_run_title("Rollback ", "Rollback 1.2.2 to prod ()"),
            Some(("1.2.2".to_owned(), "prod".to_owned()))
        );
        assert_eq!(parse_run_title("Rollback ", "Deploy 1.2.2 to prod"), None);
    }

    #[test]
    fn finds_the_request_id_in_a_run_title() {
        let id = "0f8fad5b-d9cb-469f-a165-70867728950e";
        assert_eq!(
            request_id_in(&format!("Deploy 1.3.0 to prod ({id})")),
            Some(id)
        );
        assert_eq!(request_id_in(id), Some(id));
        assert_eq!(request_id_in("Deploy 1.3.0 to prod"), None);
        assert_eq!(request_id_in("0f8fad5b-d9cb-469f-a165-70867728950"), None);
        assert_eq!(
            request_id_in("Déploiement 🚀 0f8fad5b-d9cb-469f-a165-70867728950e"),
            Some(id)
        );
    }
}
