use super::{Moment, Report, md, strip_html};
use crate::domain::{OperationKind, OperationState};
use crate::messages::testing::{AT, op};
use crate::store::{AlertEvent, AuditRow};

#[test]
fn not_your_role() {
    insta::assert_snapshot!(super::not_your_role("Locking", &["senior", "<b>&"]));
}

#[test]
fn no_such_request() {
    insta::assert_snapshot!(super::no_such_request(42));
}

#[test]
fn not_yours_to_withdraw() {
    insta::assert_snapshot!(super::not_yours_to_withdraw(
        7,
        "Ann <b>&",
        &["senior", "lead"]
    ));
}

#[test]
fn too_late_to_withdraw() {
    let mut ended = op(7, OperationKind::Deploy, Some("prod"), "1.3.0");
    ended.state = OperationState::Succeeded;
    let mut running = op(8, OperationKind::Deploy, Some("prod"), "1.3.0");
    running.state = OperationState::Running;
    insta::assert_snapshot!(format!(
        "{}\n\n{}",
        super::too_late_to_withdraw(&ended),
        super::too_late_to_withdraw(&running)
    ));
}

#[test]
fn withdrawn() {
    let deploy = op(7, OperationKind::Deploy, Some("prod"), "<b>&");
    let rollback = op(8, OperationKind::Rollback, Some("staging"), "1.2.2");
    let release = op(9, OperationKind::Release, None, "1.3.0");
    insta::assert_snapshot!(
        [deploy, rollback, release]
            .iter()
            .map(|o| super::withdrawn(o, "Ann <b>&", "Bob"))
            .collect::<Vec<_>>()
            .join("\n\n")
    );
}

#[test]
fn withdrawn_reply() {
    insta::assert_snapshot!(super::withdrawn_reply(7));
}

#[test]
fn moved_on() {
    insta::assert_snapshot!(super::moved_on(7));
}

#[test]
fn report_not_allowed() {
    insta::assert_snapshot!(super::report_not_allowed());
}

#[test]
fn report_already_opened() {
    insta::assert_snapshot!(super::report_already_opened(
        31,
        "https://github.com/o/r/issues/31"
    ));
}

#[test]
fn report_underway() {
    insta::assert_snapshot!(super::report_underway());
}

#[test]
fn report_opened_answer() {
    insta::assert_snapshot!(super::report_opened_answer(31));
}

#[test]
fn report_not_opened() {
    insta::assert_snapshot!(super::report_not_opened("HTTP 502 <b>&"));
}

#[test]
fn report_opened() {
    let rollback = op(8, OperationKind::Rollback, Some("prod"), "<b>&");
    insta::assert_snapshot!(super::report_opened(
        &rollback,
        31,
        "https://github.com/o/r/issues/31?a=1&b=2",
        "Ann <b>&"
    ));
}

fn audit(at: i64, actor: Option<i64>, action: &str, outcome: &str, detail: &str) -> AuditRow {
    AuditRow {
        id: 1,
        at,
        actor,
        chat_id: None,
        action: action.into(),
        outcome: outcome.into(),
        operation_id: Some(8),
        detail: detail.into(),
    }
}

fn report_of<'a>(
    rollback: &'a crate::store::OperationRow,
    deploy: &'a crate::store::OperationRow,
    rows: &'a [AuditRow],
    alert: &'a AlertEvent,
) -> Report<'a> {
    Report {
        rollback,
        from: Some("1.3.0"),
        asked_by: "Ann <b>&",
        timeline: vec![
            Moment::Audit {
                row: &rows[0],
                who: Some("Ann <b>&".into()),
            },
            Moment::Alert(alert),
            Moment::Audit {
                row: &rows[1],
                who: None,
            },
        ],
        runs: vec![deploy, rollback],
        recovery: None,
        taken: vec![super::Taken {
            op: 7,
            by: "Dave <b>&".into(),
            after_secs: 252,
        }],
        diagnoses: vec![(
            7,
            "❌ <b>prod</b> · deploy failed\n\n🔎 <b>Diagnosis</b>\nFailed: job <b>deploy</b>\n\
             <pre>Error: relation &quot;users&quot; ~~~ exists</pre>\n\
             Health URL: 503 in 40 ms"
                .into(),
        )],
    }
}

#[test]
fn incident_report_title() {
    let rollback = op(8, OperationKind::Rollback, Some("prod"), "1.2.2");
    let r = Report {
        rollback: &rollback,
        from: Some("1.3.0"),
        asked_by: "Ann",
        timeline: vec![],
        runs: vec![&rollback],
        recovery: None,
        taken: vec![],
        diagnoses: vec![],
    };
    insta::assert_snapshot!(super::incident_report_title(&r));
}

#[test]
fn incident_report_body_md() {
    let mut rollback = op(8, OperationKind::Rollback, Some("prod"), "1.2.2");
    rollback.run_url = Some("https://github.com/o/r/actions/runs/5".into());
    let deploy = op(7, OperationKind::Deploy, Some("prod"), "1.3.0");
    let rows = [
        audit(
            AT,
            Some(100000001),
            "command:/rollback",
            "awaiting_approval",
            "db on **fire** <b>&",
        ),
        audit(AT + 120_000, None, "operation:dispatch", "dispatched", ""),
    ];
    let alert = AlertEvent {
        at: AT + 60_000,
        kind: "rollback".into(),
        text: "⏪ <b>prod</b> · rollback to 1.2.2 &amp; more\nsecond line".into(),
    };
    let r = report_of(&rollback, &deploy, &rows, &alert);
    insta::assert_snapshot!(super::incident_report_body_md(&r));
}

#[test]
fn peoples_words_are_text_in_the_issue() {
    assert_eq!(
        md("db on **fire** [click](http://x) <img src=x> @team | ~~x~~\n## Resolved"),
        "db on \\*\\*fire\\*\\* \\[click\\](http://x) \\<img src=x\\> \\@team \\| \\~\\~x\\~\\~ ## Resolved"
    );
    // The bot's own words come through as they are.
    assert_eq!(
        md("1.3.0 to prod; needs 1 approval(s) (#2)"),
        "1.3.0 to prod; needs 1 approval(s) (#2)"
    );
    assert_eq!(md("a_b `c` \\"), "a\\_b \\`c\\` \\\\");
}

#[test]
fn html_becomes_plain_text() {
    assert_eq!(
        strip_html("✅ <b>prod</b> · <a href=\"x\">Run</a> &lt;1&gt; &amp; more"),
        "✅ prod · Run <1> & more"
    );
}

#[test]
fn incident_report_recovery_md() {
    let rollback = op(8, OperationKind::Rollback, Some("prod"), "1.2.2");
    let recovered = super::Recovery {
        failed: 7,
        alerted_at: AT,
        recovered: Some((8, AT + 754_000)),
        automatic: true,
    };
    let open = super::Recovery {
        recovered: None,
        automatic: false,
        ..recovered.clone()
    };
    let body = |recovery| {
        super::incident_report_body_md(&Report {
            rollback: &rollback,
            from: Some("1.3.0"),
            asked_by: "the bot (automatic rollback)",
            timeline: vec![],
            runs: vec![&rollback],
            recovery: Some(recovery),
            taken: vec![],
            diagnoses: vec![],
        })
    };
    insta::assert_snapshot!(format!("{}\n---\n{}", body(recovered), body(open)));
}
