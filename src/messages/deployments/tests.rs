use crate::domain::{DeploymentStatus, Env, OperationId, OperationKind};

#[test]
fn description() {
    let prod = Env::parse("prod").unwrap();
    let text = [
        super::description(OperationId(12), OperationKind::Deploy, "1.3.0", &prod),
        super::description(OperationId(13), OperationKind::Rollback, "1.2.2", &prod),
    ]
    .join("\n");
    insta::assert_snapshot!(text);
}

#[test]
fn statuses() {
    let text: Vec<String> = [OperationKind::Deploy, OperationKind::Rollback]
        .into_iter()
        .flat_map(|kind| {
            DeploymentStatus::ALL
                .into_iter()
                .map(move |s| format!("{kind} {}: {}", s.as_str(), super::status(s, kind)))
        })
        .collect();
    insta::assert_snapshot!(text.join("\n"));
}

#[test]
fn a_long_version_is_cut_to_githubs_length() {
    let env = Env::parse("prod").unwrap();
    let long = "1.2.3-".to_owned() + &"é".repeat(200);
    let text = super::description(OperationId(1), OperationKind::Deploy, &long, &env);
    assert_eq!(text.chars().count(), 140);
}
