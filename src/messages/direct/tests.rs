use super::Bypass;

const WHAT: &str = "<b>prod</b> · rollback to <b>1.2.2</b>";
const TD: &str = "aletheia-prod-api:1";

#[test]
fn button() {
    insta::assert_snapshot!(super::button());
}

#[test]
fn by() {
    insta::assert_snapshot!(super::by("Dave <b>&"));
}

#[test]
fn github_down_note() {
    insta::assert_snapshot!(super::github_down_note("1.2.2<b>&", TD));
}

#[test]
fn github_down_no_task_definition() {
    insta::assert_snapshot!(super::github_down_no_task_definition("1.2.1<b>&"));
}

#[test]
fn github_down_ecs_unreadable() {
    insta::assert_snapshot!(super::github_down_ecs_unreadable("prod<b>&", "1.2.2"));
}

#[test]
fn github_stopped_note() {
    insta::assert_snapshot!(super::github_stopped_note("v1.2.2<b>&"));
}

#[test]
fn no_task_definition() {
    insta::assert_snapshot!(super::no_task_definition("1.2.2"));
}

#[test]
fn started() {
    insta::assert_snapshot!(
        [
            super::started(
                WHAT,
                3,
                TD,
                Bypass::GithubDown,
                "Asked by Bob · approved by Dave"
            ),
            super::started(WHAT, 4, "td<b>&", Bypass::FailedDispatch(3), "By Dave"),
            super::started(WHAT, 3, TD, Bypass::Resumed, "Asked by Bob"),
        ]
        .join("\n---\n")
    );
}

#[test]
fn failed() {
    insta::assert_snapshot!(super::failed(
        WHAT,
        3,
        "no task definition of the service carries 1.2.2 <b>&",
        "Asked by Bob"
    ));
}

#[test]
fn failed_ring() {
    insta::assert_snapshot!(super::failed_ring(WHAT, 3));
}

#[test]
fn rolling_back() {
    insta::assert_snapshot!(super::rolling_back("1.2.2", TD));
}

#[test]
fn failed_answer() {
    insta::assert_snapshot!(super::failed_answer("ECS could not be read"));
}

#[test]
fn not_an_approver() {
    insta::assert_snapshot!(super::not_an_approver(&["senior"]));
}

#[test]
fn stale() {
    insta::assert_snapshot!(super::stale(3, "prod"));
}

#[test]
fn has_run() {
    insta::assert_snapshot!(super::has_run(3, "failed"));
}

#[test]
fn ecs_unreadable() {
    insta::assert_snapshot!(super::ecs_unreadable("ThrottlingException: slow down"));
}

#[test]
fn already_running() {
    insta::assert_snapshot!(super::already_running("prod", "1.2.2"));
}

#[test]
fn nothing_on_ecs() {
    insta::assert_snapshot!(super::nothing_on_ecs("1.2.2"));
}

fn outcomes() -> [super::ServiceOutcome<'static>; 2] {
    [
        super::ServiceOutcome {
            service: "api",
            updated: Ok("aletheia-prod-api:1"),
        },
        super::ServiceOutcome {
            service: "worker<b>&",
            updated: Err("ECS did not take the update"),
        },
    ]
}

#[test]
fn started_services() {
    let all = [
        outcomes()[0],
        super::ServiceOutcome {
            service: "worker",
            updated: Ok("aletheia-prod-worker:4<b>&"),
        },
    ];
    insta::assert_snapshot!(super::started_services(
        WHAT,
        3,
        &all,
        Bypass::FailedDispatch(2),
        "By Dave"
    ));
}

#[test]
fn partial() {
    insta::assert_snapshot!(super::partial(WHAT, 3, &outcomes(), "Asked by Bob"));
}

#[test]
fn partial_why() {
    insta::assert_snapshot!(super::partial_why());
}

#[test]
fn missing_task_definitions() {
    insta::assert_snapshot!(super::missing_task_definitions(
        "1.2.2",
        &["worker", "cron"]
    ));
}

#[test]
fn nothing_on_ecs_for() {
    insta::assert_snapshot!(super::nothing_on_ecs_for("1.2.2", &["worker"]));
}

#[test]
fn github_down_missing() {
    insta::assert_snapshot!(super::github_down_missing("1.2.2<b>&", &["worker<i>"]));
}

#[test]
fn github_down_note_services() {
    insta::assert_snapshot!(super::github_down_note_services(
        "1.2.2",
        &[
            ("api", "aletheia-prod-api:1"),
            ("worker<b>", "aletheia-prod-worker:3")
        ]
    ));
}
