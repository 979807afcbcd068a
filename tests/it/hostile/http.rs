//! Attacks on the HTTP server by someone without credentials —
//! flooding `/metrics` with made-up labels, holding connections open,
//! posting bodies too large to hold — each refused, with nothing changed in
//! the store and the server still answering the team.

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::*;
use crate::support::github::{WEBHOOK_SECRET, post_signed_webhook, release_published, signature};
use crate::support::*;

const METRICS_TOKEN: &str = "metrics-TEST-token";

/// `/readyz` answers 200 and so does the team's `/whoami`.
async fn still_answers(world: &World) {
    let ready = reqwest::get(format!("{}/readyz", world.bot_url()))
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let answer = world.say(TEAM_CHAT, &ALICE, "/whoami").await;
    assert!(
        answer.text.contains(&ALICE.id.to_string()),
        "{}",
        answer.text
    );
}

/// `/metrics`, but for the gauges the leader refreshes by its own clock
/// from the store (operations, DORA, table rows), which may first appear
/// at any time, and the process's own figures, which move by themselves.
async fn scrape(world: &World) -> String {
    let response = reqwest::Client::new()
        .get(format!("{}/metrics", world.bot_url()))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    text.lines()
        .filter(|l| {
            !l.contains("aletheia_operations")
                && !l.contains("aletheia_dora_")
                && !l.contains("aletheia_table_rows")
                && !l.contains("process_")
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The series of an exposition (name and labels, without their values).
fn series(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| l.rsplit_once(' ').map_or(l, |(s, _)| s).to_owned())
        .collect()
}

/// Everything read until the server closes the connection, which it must
/// do within `within`.
async fn read_until_closed(conn: &mut TcpStream, within: Duration) -> String {
    let mut got = Vec::new();
    match tokio::time::timeout(within, conn.read_to_end(&mut got)).await {
        Ok(_) => String::from_utf8_lossy(&got).into_owned(),
        Err(_) => panic!(
            "the server kept the connection open {within:?}; it sent {:?}",
            String::from_utf8_lossy(&got)
        ),
    }
}

#[tokio::test]
async fn a_flood_of_unsigned_posts_with_made_up_events_leaves_metrics_the_same() {
    let mut world = World::new().await;
    world.metrics_token = Some(METRICS_TOKEN);
    world.seed().await;
    world.start_bot().await;
    let metrics = format!("{}/metrics", world.bot_url());
    let client = reqwest::Client::new();
    for token in [None, Some("wrong"), Some("metrics-TEST-toke")] {
        let mut request = client.get(&metrics);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401, "token {token:?}");
        assert!(!response.text().await.unwrap().contains("aletheia_"));
    }

    let hook = format!("{}/github/webhook", world.bot_url());
    let unsigned = |event: String| {
        let client = client.clone();
        let hook = hook.clone();
        async move {
            let response = client
                .post(&hook)
                .header("x-github-event", event)
                .header("x-github-delivery", uuid::Uuid::new_v4().to_string())
                .header("x-hub-signature-256", format!("sha256={}", "0".repeat(64)))
                .body("{}")
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 401);
        }
    };
    // One first, so the series counting them exists before the flood.
    unsigned("workflow_run".into()).await;
    let state = snapshot(&world).await;
    let before = scrape(&world).await;
    futures::stream::iter(0..3000)
        .map(|i| unsigned(format!("evil_{i}_{}", uuid::Uuid::new_v4().simple())))
        .buffer_unordered(32)
        .collect::<Vec<()>>()
        .await;
    let after = scrape(&world).await;

    assert_eq!(
        series(&before),
        series(&after),
        "no series was added:\n{before}\n----\n{after}"
    );
    assert!(!after.contains("evil_"), "a made-up event became a label");
    assert!(
        after.len() <= before.len() + 8,
        "/metrics grew from {} to {} bytes",
        before.len(),
        after.len()
    );
    assert!(
        after.contains("aletheia_webhook_events_total{event=\"other\",outcome=\"rejected\"} 3001"),
        "{after}"
    );
    let diff = state.diff(&snapshot(&world).await);
    assert!(diff.is_empty(), "changed:\n{diff}");
    still_answers(&world).await;
}

#[tokio::test]
async fn connections_that_never_finish_are_closed_while_the_team_is_answered() {
    let mut world = World::new().await;
    world.server_toml = "header_timeout = \"1s\"\nrequest_timeout = \"2s\"";
    world.seed().await;
    world.start_bot().await;
    let addr = format!("127.0.0.1:{}", world.http_port);
    let state = snapshot(&world).await;

    // Headers begun and never finished.
    let started = Instant::now();
    let mut slow = Vec::new();
    for _ in 0..100 {
        let mut conn = TcpStream::connect(&addr).await.unwrap();
        conn.write_all(b"GET /livez HTTP/1.1\r\nHost: bot\r\nX-Slow: ")
            .await
            .unwrap();
        slow.push(conn);
    }
    // A request whose body never comes.
    let mut no_body = TcpStream::connect(&addr).await.unwrap();
    no_body
        .write_all(
            b"POST /github/webhook HTTP/1.1\r\nHost: bot\r\nX-Hub-Signature-256: sha256=00\r\n\
              Content-Length: 100\r\n\r\n{",
        )
        .await
        .unwrap();
    // A kept-alive connection left idle after its request.
    let mut idle = TcpStream::connect(&addr).await.unwrap();
    idle.write_all(b"GET /livez HTTP/1.1\r\nHost: bot\r\n\r\n")
        .await
        .unwrap();
    let mut answer = vec![0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(5), idle.read(&mut answer))
        .await
        .expect("an answer to a whole request")
        .unwrap();
    assert!(
        answer[..n].starts_with(b"HTTP/1.1 200"),
        "{:?}",
        &answer[..n]
    );

    // Meanwhile the team is answered.
    still_answers(&world).await;

    for conn in &mut slow {
        read_until_closed(conn, Duration::from_secs(5)).await;
    }
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "closed before the header timeout"
    );
    let answered = read_until_closed(&mut no_body, Duration::from_secs(6)).await;
    assert!(answered.starts_with("HTTP/1.1 408"), "{answered}");
    read_until_closed(&mut idle, Duration::from_secs(5)).await;

    let diff = state.diff(&snapshot(&world).await);
    assert!(diff.is_empty(), "changed:\n{diff}");
    still_answers(&world).await;
}

#[tokio::test]
async fn a_body_over_the_cap_is_refused_and_none_of_it_kept() {
    let mut world = World::new().await;
    world.seed().await;
    world.start_bot().await;
    let addr = format!("127.0.0.1:{}", world.http_port);
    let state = snapshot(&world).await;
    let head = |framing: &str| {
        format!(
            "POST /github/webhook HTTP/1.1\r\nHost: bot\r\nX-GitHub-Event: workflow_run\r\n\
             X-GitHub-Delivery: {}\r\nX-Hub-Signature-256: sha256={}\r\n{framing}\r\n\r\n",
            uuid::Uuid::new_v4(),
            "0".repeat(64)
        )
    };

    // GitHub's 25 MB declared: refused on the declaration, a bit sent.
    let mut declared = TcpStream::connect(&addr).await.unwrap();
    declared
        .write_all(head("Content-Length: 26214400").as_bytes())
        .await
        .unwrap();
    declared.write_all(&[b' '; 64 * 1024]).await.unwrap();
    let answer = read_until_closed(&mut declared, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

    // Undeclared (chunked): refused once past the cap, the body unfinished.
    let mut chunked = TcpStream::connect(&addr).await.unwrap();
    chunked
        .write_all(head("Transfer-Encoding: chunked").as_bytes())
        .await
        .unwrap();
    let chunk = [b' '; 64 * 1024];
    for _ in 0..17 {
        chunked.write_all(b"10000\r\n").await.unwrap();
        chunked.write_all(&chunk).await.unwrap();
        chunked.write_all(b"\r\n").await.unwrap();
    }
    let answer = read_until_closed(&mut chunked, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

    // Correctly signed does not help.
    let payload = json!({"action": "completed", "padding": "x".repeat(1024 * 1024)});
    let body = serde_json::to_vec(&payload).unwrap();
    let response = reqwest::Client::new()
        .post(format!("{}/github/webhook", world.bot_url()))
        .header("x-github-event", "workflow_run")
        .header("x-github-delivery", uuid::Uuid::new_v4().to_string())
        .header("x-hub-signature-256", signature(WEBHOOK_SECRET, &body))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);

    let diff = state.diff(&snapshot(&world).await);
    assert!(diff.is_empty(), "changed:\n{diff}");
    still_answers(&world).await;
    // A delivery of an ordinary size is taken as before.
    let response = post_signed_webhook(
        &world.bot_url(),
        "release",
        &uuid::Uuid::new_v4().to_string(),
        &release_published(77, "v1.9.0"),
    )
    .await;
    assert_eq!(response.status(), 202);
    let told = world.tg.next_message(TEAM_CHAT).await.text;
    assert!(
        told.starts_with("📦 <b>Release v1.9.0</b> created"),
        "{told}"
    );
}

/// The hostile table's webhook posts: unsigned, forged, replayed,
/// malformed or from elsewhere, each answered with its status.
pub(super) fn webhook_cases(url_run: &Value, setup_delivery: &str, request_id: &str) -> Vec<Case> {
    [
        signature_cases(url_run, setup_delivery),
        body_cases(url_run, request_id),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Signatures and headers that are missing, forged or out of shape.
fn signature_cases(url_run: &Value, setup_delivery: &str) -> Vec<Case> {
    [
        forged_signature_cases(url_run, setup_delivery),
        header_cases(url_run),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Signatures that are missing, forged or out of shape, and a replay.
fn forged_signature_cases(url_run: &Value, setup_delivery: &str) -> Vec<Case> {
    let mut completed = url_run.clone();
    completed["status"] = json!("completed");
    completed["conclusion"] = json!("success");
    let success = workflow_run_event("completed", &completed);
    let success_bytes = serde_json::to_vec(&success).unwrap();
    let good_sig = github::signature(github::WEBHOOK_SECRET, &success_bytes);
    let hex = good_sig.strip_prefix("sha256=").unwrap().to_owned();
    let raw = |body: &[u8], sig: Sig, stored: bool| Input::Hook {
        event: Some("workflow_run"),
        delivery: Some(uuid::Uuid::new_v4().to_string()),
        body: body.to_vec(),
        sig,
        stored,
    };
    let fresh = || uuid::Uuid::new_v4().to_string();
    vec![
        case(
            "no signature",
            hook("workflow_run", &fresh(), &success, Sig::None),
            Expect::Status(401),
        ),
        case(
            "signature of another body",
            hook(
                "workflow_run",
                &fresh(),
                &success,
                Sig::Raw(github::signature(github::WEBHOOK_SECRET, b"{}")),
            ),
            Expect::Status(401),
        ),
        case(
            "signature with another secret",
            hook(
                "workflow_run",
                &fresh(),
                &success,
                Sig::Raw(github::signature("guess", &success_bytes)),
            ),
            Expect::Status(401),
        ),
        case(
            "sha1= prefix",
            hook(
                "workflow_run",
                &fresh(),
                &success,
                Sig::Raw(format!("sha1={}", &hex[..40])),
            ),
            Expect::Status(401),
        ),
        case(
            "SHA256= prefix in capitals",
            hook(
                "workflow_run",
                &fresh(),
                &success,
                Sig::Raw(format!("SHA256={hex}")),
            ),
            Expect::Status(401),
        ),
        case(
            "truncated signature",
            hook(
                "workflow_run",
                &fresh(),
                &success,
                Sig::Raw(format!("sha256={}", &hex[..32])),
            ),
            Expect::Status(401),
        ),
        case(
            "empty signature",
            hook("workflow_run", &fresh(), &success, Sig::Raw(String::new())),
            Expect::Status(401),
        ),
        case(
            "signature for the body without its last byte",
            raw(
                &success_bytes[..success_bytes.len() - 1],
                Sig::Raw(good_sig.clone()),
                false,
            ),
            Expect::Status(401),
        ),
        case(
            "replayed delivery id carrying a success",
            hook("workflow_run", setup_delivery, &success, Sig::Good),
            Expect::Status(200),
        ),
    ]
}

/// GitHub's event and delivery headers missing or out of shape.
fn header_cases(url_run: &Value) -> Vec<Case> {
    let mut completed = url_run.clone();
    completed["status"] = json!("completed");
    completed["conclusion"] = json!("success");
    let success = workflow_run_event("completed", &completed);
    let success_bytes = serde_json::to_vec(&success).unwrap();
    let fresh = || uuid::Uuid::new_v4().to_string();
    vec![
        case(
            "missing X-GitHub-Event",
            Input::Hook {
                event: None,
                delivery: Some(fresh()),
                body: success_bytes.clone(),
                sig: Sig::Good,
                stored: false,
            },
            Expect::Status(400),
        ),
        case(
            "X-GitHub-Event with a path",
            Input::Hook {
                event: Some("../../workflow_run"),
                delivery: Some(fresh()),
                body: success_bytes.clone(),
                sig: Sig::Good,
                stored: false,
            },
            Expect::Status(400),
        ),
        case(
            "missing X-GitHub-Delivery",
            Input::Hook {
                event: Some("workflow_run"),
                delivery: None,
                body: success_bytes.clone(),
                sig: Sig::Good,
                stored: false,
            },
            Expect::Status(400),
        ),
        case(
            "SQL as the delivery id",
            Input::Hook {
                event: Some("workflow_run"),
                delivery: Some("x'; DROP TABLE webhook_deliveries; --".into()),
                body: success_bytes.clone(),
                sig: Sig::Good,
                stored: false,
            },
            Expect::Status(400),
        ),
        case(
            "65-character delivery id",
            Input::Hook {
                event: Some("workflow_run"),
                delivery: Some("a".repeat(65)),
                body: success_bytes.clone(),
                sig: Sig::Good,
                stored: false,
            },
            Expect::Status(400),
        ),
    ]
}

/// Signed bodies that are not what they claim: not JSON, the wrong shape,
/// too large, or naming a request from another workflow.
fn body_cases(url_run: &Value, request_id: &str) -> Vec<Case> {
    let mut completed = url_run.clone();
    completed["status"] = json!("completed");
    completed["conclusion"] = json!("success");
    let mut wrong_types = workflow_run_event("completed", &completed);
    wrong_types["workflow_run"]["id"] = json!("abc");
    let mut unknown_file = completed.clone();
    unknown_file["id"] = json!(777777);
    unknown_file["path"] = json!(".github/workflows/evil.yml");
    unknown_file["name"] = json!("Evil");
    unknown_file["display_title"] = json!(format!("Evil ({request_id})"));
    let mut other_workflow = completed.clone();
    other_workflow["id"] = json!(777778);
    other_workflow["path"] = json!(".github/workflows/release.yml");
    other_workflow["name"] = json!("Release");
    other_workflow["display_title"] = json!(format!("Release 1.4.0 ({request_id})"));
    let mut same_run_other_file = completed.clone();
    same_run_other_file["path"] = json!(".github/workflows/rollback.yml");
    let release_no_release = json!({"action": "published", "repository": {"full_name": format!("{}/{}", github::OWNER, github::REPO)}});
    let mut release_bad_id = crate::support::github::release_published(1, "v9.9.9");
    release_bad_id["release"]["id"] = json!("abc");
    let two_mb = format!("[{}0]", "0,".repeat(1024 * 1024)).into_bytes();
    let big_array = format!("[{}0]", "0,".repeat(400 * 1024)).into_bytes();
    let raw = |body: &[u8], sig: Sig, stored: bool| Input::Hook {
        event: Some("workflow_run"),
        delivery: Some(uuid::Uuid::new_v4().to_string()),
        body: body.to_vec(),
        sig,
        stored,
    };
    let fresh = || uuid::Uuid::new_v4().to_string();
    vec![
        case(
            "signed body that is not JSON",
            raw(b"this is not json", Sig::Good, false),
            Expect::Status(400),
        ),
        case(
            "signed body that is not UTF-8",
            raw(b"{\"action\":\"\xff\xfe\"}", Sig::Good, false),
            Expect::Status(400),
        ),
        case(
            "signed JSON null",
            raw(b"null", Sig::Good, false),
            Expect::Status(400),
        ),
        case(
            "workflow_run with a string id",
            hook("workflow_run", &fresh(), &wrong_types, Sig::Good),
            Expect::Status(400),
        ),
        case(
            "release without a release",
            hook("release", &fresh(), &release_no_release, Sig::Good),
            Expect::Status(400),
        ),
        case(
            "release with a string id",
            hook("release", &fresh(), &release_bad_id, Sig::Good),
            Expect::Status(400),
        ),
        case(
            "signed 800 KB array",
            raw(&big_array, Sig::Good, false),
            Expect::Status(400),
        ),
        case(
            "signed 2 MB array",
            raw(&two_mb, Sig::Good, false),
            Expect::Status(413),
        ),
        case(
            "30 MB body",
            raw(&vec![b' '; 30 * 1024 * 1024], Sig::Good, false),
            Expect::TooLarge,
        ),
        case(
            "run of an unknown workflow naming a request",
            stored(hook(
                "workflow_run",
                &fresh(),
                &workflow_run_event("completed", &unknown_file),
                Sig::Good,
            )),
            Expect::Status(202),
        ),
        case(
            "run of the Release workflow naming a deploy's request",
            stored(hook(
                "workflow_run",
                &fresh(),
                &workflow_run_event("completed", &other_workflow),
                Sig::Good,
            )),
            Expect::Status(202),
        ),
        case(
            "the deploy's run id in another workflow's file",
            stored(hook(
                "workflow_run",
                &fresh(),
                &workflow_run_event("completed", &same_run_other_file),
                Sig::Good,
            )),
            Expect::Status(202),
        ),
    ]
}
