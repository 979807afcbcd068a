use super::*;

fn found() -> Evidence {
    Evidence {
        env: "prod".into(),
        run: Some(RunEvidence {
            url: "https://github.com/o/r/actions/runs/7".into(),
            failed: Ok(vec![FailedJob {
                name: "deploy".into(),
                steps: vec!["Migrate <db>".into()],
            }]),
            log_tail: Some(Ok(vec![
                "Applying 0042_users.sql".into(),
                "ERROR: relation \"users\" already exists & more".into(),
            ])),
        }),
        aws: Ok(()),
        events: Ok(vec![
            "(service app) has started 1 tasks: (task abc).".into(),
            "(service app) is unable to place a task.".into(),
        ]),
        stopped: Ok(vec![Stopped {
            service: None,
            stop_code: Some("EssentialContainerExited".into()),
            reason: Some("Essential container in task exited".into()),
            containers: vec![Exited {
                name: "app".into(),
                exit_code: Some(137),
                reason: Some("OutOfMemoryError: container killed".into()),
                memory_mib: Some(512),
            }],
        }]),
        health: Some(Ok((503, 42))),
        rollback: RollbackEvidence::Target {
            version: "1.2.0".into(),
            task_definition: Ok(Some("app:3".into())),
            migrations: Ok(vec!["migrations/0042_users.sql".into()]),
        },
    }
}

fn unreadable() -> Evidence {
    Evidence {
        env: "prod".into(),
        run: Some(RunEvidence {
            url: String::new(),
            failed: Err("GitHub unreachable: timed out".into()),
            log_tail: Some(Err("not found".into())),
        }),
        aws: Err(
            "ExpiredTokenException: The security token included in the request is expired".into(),
        ),
        events: Err("ExpiredTokenException".into()),
        stopped: Err("ExpiredTokenException".into()),
        health: Some(Err("connection refused".into())),
        rollback: RollbackEvidence::Target {
            version: "1.2.0".into(),
            task_definition: Err("ExpiredTokenException".into()),
            migrations: Err("GitHub unreachable".into()),
        },
    }
}

#[test]
fn alert_with_evidence() {
    insta::assert_snapshot!(format!(
        "{}\n\n{}",
        super::alert_with_evidence("❌ <b>Deploy</b> of 1.3.0 to prod failed", &found()),
        super::alert_with_evidence("❌ failed", &unreadable())
    ));
}

#[test]
fn checklist() {
    let mut healthy = found();
    healthy.run = None;
    healthy.stopped = Ok(vec![]);
    healthy.events = Ok(vec![]);
    healthy.health = Some(Ok((200, 12)));
    healthy.rollback = RollbackEvidence::NoTarget;
    insta::assert_snapshot!(format!(
        "{}\n\n{}\n\n{}",
        super::checklist(&found()),
        super::checklist(&unreadable()),
        super::checklist(&healthy)
    ));
}

#[test]
fn log_tail_drops_timestamps_and_blank_lines() {
    let log = "\u{feff}2026-11-25T10:41:00.1234567Z one\n2026-11-25T10:41:01.1234567Z \n\
               2026-11-25T10:41:02.1234567Z two\nthree (no stamp)\n";
    assert_eq!(log_tail(log, 15), ["one", "two", "three (no stamp)"]);
    assert_eq!(log_tail(log, 2), ["two", "three (no stamp)"]);
    assert!(log_tail("", 15).is_empty());
}

#[test]
fn a_long_line_is_clipped() {
    let long = "x".repeat(500);
    let mut e = found();
    e.events = Ok(vec![long]);
    let text = super::checklist(&e);
    assert!(text.contains(&format!("{}…", "x".repeat(200))), "{text}");
    assert!(!text.contains(&"x".repeat(201)));
}
