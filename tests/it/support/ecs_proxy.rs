//! A proxy in front of moto's ECS that can be told to fail, as a
//! throttled or broken AWS endpoint does; it counts what passes. It can
//! also add what moto lacks but ECS returns: a service's events.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

/// How the proxy answers while failing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EcsFault {
    /// 400 `ThrottlingException` (the SDK retries it, then gives up).
    Throttle,
    /// 500 `ServerException`.
    ServerError,
}

#[derive(Default)]
struct Inner {
    fault: Option<EcsFault>,
    /// While set, requests wait here (a slow ECS) until it is closed, and
    /// are answered no sooner than this after they came.
    hold: Option<(Arc<tokio::sync::Semaphore>, std::time::Duration)>,
    /// Requests that came while held.
    held: u64,
    /// The `X-Amz-Target` of every request (`…DescribeServices`).
    targets: Vec<String>,
    /// Each request's operation (`DescribeServices`) and JSON body.
    bodies: Vec<(String, serde_json::Value)>,
    /// Operations (`UpdateService`) the caller's IAM policy does not allow,
    /// on every service or only on the one named.
    denied: Vec<(String, Option<String>)>,
    failed: u64,
    /// (cluster name, service name) → the events ECS would have (newest
    /// first), added to `DescribeServices` answers: moto keeps none.
    events: std::collections::HashMap<(String, String), Vec<serde_json::Value>>,
    /// Every answer comes after a delay spread over this range, as ECS
    /// answers in its usual time (`set_latency`).
    latency: Option<(std::time::Duration, std::time::Duration)>,
    delayed: u64,
}

/// How many events `DescribeServices` returns at most: ECS keeps the
/// service's last 100.
const EVENTS_KEPT: usize = 100;

pub struct EcsProxy {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
    _server: super::background::Task,
}

impl EcsProxy {
    pub async fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new().fallback(forward).with_state(inner.clone());
        let (addr, server) = super::background::serve(app);
        let url = format!("http://{addr}");
        Self {
            url,
            inner,
            _server: server,
        }
    }

    /// Fails every request from now on (`None`: passes them again).
    pub fn fail(&self, fault: Option<EcsFault>) {
        self.inner.lock().unwrap().fault = fault;
    }

    /// The caller may no longer call `operation` (`UpdateService`): ECS
    /// answers as it does to a missing IAM permission, naming the caller's
    /// (the bot's assumed role) and the resource's ARNs.
    pub fn deny(&self, operation: &str) {
        self.inner
            .lock()
            .unwrap()
            .denied
            .push((operation.to_owned(), None));
    }

    /// As [`Self::deny`], on one service only (its name, the request's
    /// `service`): an IAM policy scoped to the other services' ARNs.
    pub fn deny_on(&self, operation: &str, service: &str) {
        self.inner
            .lock()
            .unwrap()
            .denied
            .push((operation.to_owned(), Some(service.to_owned())));
    }

    /// The caller's IAM policy allows every operation again.
    pub fn allow_all(&self) {
        self.inner.lock().unwrap().denied.clear();
    }

    /// ECS records an event of `service` in `cluster` (their names), now:
    /// from now on `DescribeServices` returns it, newest first, in ECS's
    /// shape (`{id, createdAt, message}`, `createdAt` in epoch seconds).
    pub fn service_event(&self, cluster: &str, service: &str, message: &str) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        let event = serde_json::json!({
            "id": uuid::Uuid::new_v4().to_string(),
            "createdAt": (now * 1000.0).round() / 1000.0,
            "message": message,
        });
        let mut inner = self.inner.lock().unwrap();
        let events = inner
            .events
            .entry((cluster.to_owned(), service.to_owned()))
            .or_default();
        events.insert(0, event);
        events.truncate(EVENTS_KEPT);
    }

    /// Every request from now on is answered after a delay between `min`
    /// and `max` (spread evenly over the range, request by request).
    #[allow(dead_code)] // benches/e2e
    pub fn set_latency(&self, min: std::time::Duration, max: std::time::Duration) {
        self.inner.lock().unwrap().latency = Some((min, max));
    }

    /// The bodies of the `operation` requests (`DescribeServices`) so far.
    pub fn asked(&self, operation: &str) -> Vec<serde_json::Value> {
        let inner = self.inner.lock().unwrap();
        inner
            .bodies
            .iter()
            .filter(|(op, _)| op == operation)
            .map(|(_, body)| body.clone())
            .collect()
    }

    /// Requests answered with the fault.
    pub fn failed(&self) -> u64 {
        self.inner.lock().unwrap().failed
    }

    /// ECS turns slow: requests from now on wait until [`Self::release`],
    /// and are answered no sooner than `at_least` after they came.
    pub fn hold(&self, at_least: std::time::Duration) {
        let gate = Arc::new(tokio::sync::Semaphore::new(0));
        self.inner.lock().unwrap().hold = Some((gate, at_least));
    }

    /// Requests that came while held.
    pub fn held(&self) -> u64 {
        self.inner.lock().unwrap().held
    }

    /// Lets the held requests (and every later one) through.
    pub fn release(&self) {
        if let Some((gate, _)) = self.inner.lock().unwrap().hold.take() {
            gate.close();
        }
    }
}

async fn forward(
    State(inner): State<Arc<Mutex<Inner>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let came = tokio::time::Instant::now();
    let describes_services = target.ends_with(".DescribeServices");
    let (fault, hold, denied, delay) = {
        let mut inner = inner.lock().unwrap();
        let operation = target.rsplit('.').next().unwrap_or_default().to_owned();
        let json: serde_json::Value =
            serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
        let denied = inner
            .denied
            .iter()
            .find(|(op, service)| {
                *op == operation
                    && service
                        .as_deref()
                        .is_none_or(|s| json["service"].as_str() == Some(s))
            })
            .map(|(op, _)| op.clone());
        inner.bodies.push((operation, json));
        inner.targets.push(target.clone());
        if inner.fault.is_some() {
            inner.failed += 1;
        }
        if inner.hold.is_some() {
            inner.held += 1;
        }
        let delay = inner.latency.map(|(min, max)| {
            inner.delayed += 1;
            let span = (max - min).as_millis() as u64;
            min + std::time::Duration::from_millis(inner.delayed * 7919 % (span + 1))
        });
        (inner.fault, inner.hold.clone(), denied, delay)
    };
    if let Some((gate, at_least)) = hold {
        // Closed on release: every waiter goes on.
        let _ = gate.acquire().await;
        tokio::time::sleep_until(came + at_least).await;
    }
    if let Some(delay) = delay {
        tokio::time::sleep_until(came + delay).await;
    }
    let json = [("content-type", "application/x-amz-json-1.1")];
    if let Some(refused) = beyond_limits(&target, &body) {
        let body = serde_json::json!({"__type": "InvalidParameterException", "message": refused});
        return (StatusCode::BAD_REQUEST, json, body.to_string()).into_response();
    }
    if let Some(op) = denied {
        let message = format!(
            "User: arn:aws:sts::123456789012:assumed-role/aletheia-bot/session-1 is not authorized to perform: ecs:{op} \
             on resource: arn:aws:ecs:{}:123456789012:service/* because no identity-based policy allows the ecs:{op} action",
            super::moto::REGION
        );
        let body = serde_json::json!({"__type": "AccessDeniedException", "message": message});
        return (StatusCode::BAD_REQUEST, json, body.to_string()).into_response();
    }
    match fault {
        Some(EcsFault::Throttle) => {
            return (
                StatusCode::BAD_REQUEST,
                json,
                r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#,
            )
                .into_response();
        }
        Some(EcsFault::ServerError) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                json,
                r#"{"__type":"ServerException","message":"Service unavailable"}"#,
            )
                .into_response();
        }
        None => {}
    }
    let client = reqwest::Client::new();
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut request = client.request(method, format!("{}{path}", super::moto::url()));
    for (name, value) in &headers {
        if name != "host" && name != "content-length" {
            request = request.header(name, value);
        }
    }
    match request.body(body).send().await {
        Ok(response) => {
            let status = response.status();
            let headers = response.headers().clone();
            let mut body = response.bytes().await.unwrap_or_default();
            if describes_services && status.is_success() {
                body = with_events(&inner, body);
            }
            let mut out = (status, body).into_response();
            for (name, value) in &headers {
                if name != "content-length" && name != "transfer-encoding" {
                    out.headers_mut().insert(name, value.clone());
                }
            }
            out
        }
        Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    }
}

/// moto's `DescribeServices` answer with the events recorded for its
/// services ([`EcsProxy::service_event`]) ahead of moto's own (none).
fn with_events(inner: &Mutex<Inner>, body: Bytes) -> Bytes {
    let Ok(mut answer) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return body;
    };
    let inner = inner.lock().unwrap();
    let Some(services) = answer["services"].as_array_mut() else {
        return body;
    };
    for service in services {
        let cluster = service["clusterArn"]
            .as_str()
            .and_then(|arn| arn.rsplit('/').next())
            .unwrap_or_default()
            .to_owned();
        let name = service["serviceName"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let Some(added) = inner.events.get(&(cluster, name)) else {
            continue;
        };
        let mut events = added.clone();
        if let Some(own) = service["events"].as_array() {
            events.extend(own.iter().cloned());
        }
        events.truncate(EVENTS_KEPT);
        service["events"] = serde_json::Value::Array(events);
    }
    Bytes::from(answer.to_string())
}

/// ECS's limits that moto does not keep: `DescribeServices` takes at most
/// 10 services.
fn beyond_limits(target: &str, body: &[u8]) -> Option<String> {
    if !target.ends_with(".DescribeServices") {
        return None;
    }
    let body: serde_json::Value = serde_json::from_slice(body).ok()?;
    let n = body["services"].as_array().map_or(0, Vec::len);
    (n > 10).then(|| format!("services can have at most 10 items, got {n}"))
}
