use crate::domain::Env;
use crate::domain::rotation::{SecretAge, SecretScope};

fn age(scope: SecretScope, name: &str, days: i64, overdue: bool) -> SecretAge {
    SecretAge {
        scope,
        name: name.into(),
        days,
        overdue,
    }
}

fn prod() -> SecretScope {
    SecretScope::Environment(Env::parse("prod").unwrap())
}

#[test]
fn secret_ages() {
    let ages = [
        age(prod(), "AWS_SECRET_ACCESS_KEY", 120, true),
        age(SecretScope::Repository, "NPM_<TOKEN>&", 10, false),
        age(SecretScope::Repository, "FRESH", 1, false),
    ];
    let unscheduled: Vec<SecretAge> = ages
        .iter()
        .map(|a| SecretAge {
            overdue: false,
            ..a.clone()
        })
        .collect();
    insta::assert_snapshot!(format!(
        "{}\n\n{}\n\n{}",
        super::secret_ages(&ages, Some(90), &["dev".into(), "staging".into()]),
        super::secret_ages(&unscheduled, None, &[]),
        super::secret_ages(&[], Some(90), &[]),
    ));
}

#[test]
fn rotation_reminder() {
    let one = [age(prod(), "AWS_SECRET_ACCESS_KEY", 120, true)];
    let two = [
        age(SecretScope::Repository, "SLACK_HOOK", 400, true),
        age(prod(), "AWS_SECRET_ACCESS_KEY", 91, true),
    ];
    insta::assert_snapshot!(format!(
        "{}\n\n{}",
        super::rotation_reminder(&one, 90),
        super::rotation_reminder(&two, 90)
    ));
}

#[test]
fn refusals() {
    insta::assert_snapshot!(format!(
        "{}\n\n{}",
        super::secrets_forbidden("Secrets"),
        super::secrets_unreadable()
    ));
}

#[test]
fn a_long_list_fits_one_message_and_counts_the_rest() {
    let ages: Vec<SecretAge> = (0..400)
        .map(|i| {
            age(
                SecretScope::Repository,
                &format!("SECRET_NUMBER_{i:03}"),
                500 - i,
                i < 250,
            )
        })
        .collect();
    let text = super::secret_ages(&ages, Some(90), &["dev".into()]);
    assert!(text.encode_utf16().count() <= 4096, "{}", text.len());
    let shown = text.matches("<code>").count();
    assert!(shown > 40, "{shown}");
    assert!(
        text.contains(&format!("… and {} more", 400 - shown)),
        "{text}"
    );
    assert!(text.ends_with("no secrets of its own."), "{text}");
    let reminder = super::rotation_reminder(&ages[..250], 90);
    assert!(reminder.encode_utf16().count() <= 4096);
    assert!(reminder.contains("overdue)"), "{reminder}");
    assert!(reminder.ends_with("/secrets shows the ages."));
}
