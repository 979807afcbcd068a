//! `examples/ha/Caddyfile` read, and done: a reverse proxy in the test
//! that routes as the file says (its paths to its upstreams, round robin,
//! another upstream tried when one refuses the connection, for as long as
//! `lb_try_duration`; an upstream failing `health_uri` skipped), without
//! TLS, which Caddy terminates before any of this.
//!
//! The reading is strict: a directive it does not know fails the test, so
//! the proxy here never quietly differs from the file.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::background::{Task, serve, spawn};

/// One line of a Caddyfile, with the block it opens.
struct Node {
    args: Vec<String>,
    block: Vec<Node>,
}

fn parse(text: &str) -> Vec<Node> {
    let mut stack = vec![Node {
        args: Vec::new(),
        block: Vec::new(),
    }];
    for line in text.lines() {
        let tokens: Vec<String> = line
            .split_whitespace()
            .take_while(|t| !t.starts_with('#'))
            .map(str::to_owned)
            .collect();
        match tokens.as_slice() {
            [] => {}
            [close] if close == "}" => {
                let done = stack.pop().expect("balanced braces");
                stack.last_mut().expect("balanced braces").block.push(done);
            }
            [args @ .., open] if open == "{" => stack.push(Node {
                args: args.to_vec(),
                block: Vec::new(),
            }),
            _ => stack.last_mut().unwrap().block.push(Node {
                args: tokens,
                block: Vec::new(),
            }),
        }
    }
    assert_eq!(stack.len(), 1, "unbalanced braces in the Caddyfile");
    stack.pop().unwrap().block
}

/// Requests for `paths` go to `upstreams`.
#[derive(Debug, Clone)]
pub struct Route {
    pub paths: Vec<String>,
    /// `host:port`, as written.
    pub upstreams: Vec<String>,
    pub lb_policy: String,
    /// How long other upstreams are tried after one refuses (0: none is).
    pub try_duration: Duration,
    pub try_interval: Duration,
    pub health_uri: Option<String>,
    pub health_interval: Duration,
}

impl Route {
    fn matches(&self, path: &str) -> bool {
        self.paths.iter().any(|p| match p.strip_suffix('*') {
            Some(prefix) => path.starts_with(prefix),
            None => path == p,
        })
    }
}

/// One site block: its addresses, its routes, and what answers the rest.
#[derive(Debug, Clone)]
pub struct Site {
    pub addresses: Vec<String>,
    pub routes: Vec<Route>,
    pub otherwise: Option<u16>,
}

impl Site {
    /// The route a request for `path` takes, if any.
    pub fn route(&self, path: &str) -> Option<&Route> {
        self.routes.iter().find(|r| r.matches(path))
    }
}

/// The site blocks of a Caddyfile.
pub fn sites(path: &Path) -> Vec<Site> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut sites = Vec::new();
    for node in parse(&text) {
        if node.args.is_empty() {
            // Global options: only those that change no routing.
            for option in &node.block {
                assert!(
                    matches!(option.args[0].as_str(), "email" | "admin"),
                    "global option {:?} is unknown to this reading",
                    option.args
                );
            }
            continue;
        }
        sites.push(site(node));
    }
    sites
}

fn site(node: Node) -> Site {
    let mut matchers = BTreeMap::new();
    let mut site = Site {
        addresses: node.args,
        routes: Vec::new(),
        otherwise: None,
    };
    for directive in node.block {
        let args = &directive.args;
        match args[0].as_str() {
            name if name.starts_with('@') => {
                assert_eq!(args[1], "path", "only path matchers are read: {args:?}");
                matchers.insert(name.to_owned(), args[2..].to_vec());
            }
            "handle" => match args.get(1) {
                Some(matcher) => {
                    let paths = matchers
                        .get(matcher)
                        .unwrap_or_else(|| panic!("matcher {matcher} used before it is defined"))
                        .clone();
                    let [inner] = directive.block.as_slice() else {
                        panic!("handle {matcher}: one reverse_proxy expected");
                    };
                    site.routes.push(reverse_proxy(paths, inner));
                }
                None => {
                    let [inner] = directive.block.as_slice() else {
                        panic!("handle: one respond expected");
                    };
                    assert_eq!(inner.args[0], "respond", "{:?}", inner.args);
                    site.otherwise = Some(inner.args[1].parse().expect("a status code"));
                }
            },
            other => panic!("directive {other:?} is unknown to this reading"),
        }
    }
    site
}

fn reverse_proxy(paths: Vec<String>, node: &Node) -> Route {
    assert_eq!(node.args[0], "reverse_proxy", "{:?}", node.args);
    let mut route = Route {
        paths,
        upstreams: node.args[1..].to_vec(),
        lb_policy: "random".to_owned(),
        try_duration: Duration::ZERO,
        try_interval: Duration::from_millis(250),
        health_uri: None,
        health_interval: Duration::from_secs(30),
    };
    let duration = |v: &str| humantime::parse_duration(v).expect("a duration");
    for sub in &node.block {
        let value = sub.args.get(1).map(String::as_str).unwrap_or_default();
        match sub.args[0].as_str() {
            "lb_policy" => route.lb_policy = value.to_owned(),
            "lb_try_duration" => route.try_duration = duration(value),
            "lb_try_interval" => route.try_interval = duration(value),
            "health_uri" => route.health_uri = Some(value.to_owned()),
            "health_interval" => route.health_interval = duration(value),
            // Timings of health checks the proxy here does not model
            // beyond skipping an unhealthy upstream.
            "health_timeout" | "fail_duration" => {}
            other => panic!("reverse_proxy option {other:?} is unknown to this reading"),
        }
    }
    route
}

/// The proxy, running.
pub struct Proxy {
    pub url: String,
    /// Requests each upstream (as the Caddyfile names it) answered.
    pub answered: Arc<Mutex<BTreeMap<String, u32>>>,
    _server: Task,
    _checks: Vec<Task>,
}

struct Upstream {
    name: String,
    addr: String,
    healthy: Arc<std::sync::atomic::AtomicBool>,
}

struct Routing {
    site: Site,
    /// Per route: its upstreams.
    upstreams: Vec<Vec<Arc<Upstream>>>,
    next: Vec<AtomicUsize>,
    answered: Arc<Mutex<BTreeMap<String, u32>>>,
    client: reqwest::Client,
}

impl Proxy {
    /// Serves `site`, reaching each upstream (`host:port` as written)
    /// at the address `resolve` gives it.
    pub fn start(site: Site, resolve: impl Fn(&str) -> String) -> Self {
        let mut checks = Vec::new();
        let mut upstreams = Vec::new();
        for route in &site.routes {
            assert_eq!(
                route.lb_policy, "round_robin",
                "only round robin is modelled"
            );
            let mut these = Vec::new();
            for name in &route.upstreams {
                let upstream = Arc::new(Upstream {
                    name: name.clone(),
                    addr: resolve(name),
                    healthy: Arc::new(true.into()),
                });
                if let Some(uri) = &route.health_uri {
                    checks.push(spawn(health_check(
                        upstream.clone(),
                        uri.clone(),
                        route.health_interval,
                    )));
                }
                these.push(upstream);
            }
            upstreams.push(these);
        }
        let answered = Arc::new(Mutex::new(BTreeMap::new()));
        let routing = Arc::new(Routing {
            next: site.routes.iter().map(|_| AtomicUsize::new(0)).collect(),
            site,
            upstreams,
            answered: answered.clone(),
            client: reqwest::Client::new(),
        });
        let app = axum::Router::new().fallback(forward).with_state(routing);
        let (addr, server) = serve(app);
        Self {
            url: format!("http://{addr}"),
            answered,
            _server: server,
            _checks: checks,
        }
    }
}

/// Caddy's active health check: the upstream is healthy while
/// `health_uri` answers 2xx.
async fn health_check(upstream: Arc<Upstream>, uri: String, every: Duration) {
    let client = reqwest::Client::new();
    let url = format!("http://{}{uri}", upstream.addr);
    let mut ticks = tokio::time::interval(every);
    loop {
        ticks.tick().await;
        let ok = client
            .get(&url)
            .timeout(Duration::from_secs(3))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        upstream.healthy.store(ok, Ordering::SeqCst);
    }
}

async fn forward(State(routing): State<Arc<Routing>>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let Some(index) = routing.site.routes.iter().position(|r| r.matches(&path)) else {
        return StatusCode::from_u16(routing.site.otherwise.unwrap_or(200))
            .unwrap()
            .into_response();
    };
    let route = &routing.site.routes[index];
    let upstreams = &routing.upstreams[index];
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 32 * 1024 * 1024).await.unwrap();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or(path.clone(), |p| p.to_string());
    let started = tokio::time::Instant::now();
    loop {
        // Round robin over the healthy upstreams.
        let healthy: Vec<_> = upstreams
            .iter()
            .filter(|u| u.healthy.load(Ordering::SeqCst))
            .collect();
        if let Some(upstream) = (!healthy.is_empty())
            .then(|| healthy[routing.next[index].fetch_add(1, Ordering::SeqCst) % healthy.len()])
        {
            let mut outgoing = routing.client.request(
                parts.method.clone(),
                format!("http://{}{path_and_query}", upstream.addr),
            );
            for (name, value) in &parts.headers {
                if name != "host" {
                    outgoing = outgoing.header(name, value);
                }
            }
            match outgoing.body(body.clone()).send().await {
                Ok(response) => {
                    *routing
                        .answered
                        .lock()
                        .unwrap()
                        .entry(upstream.name.clone())
                        .or_default() += 1;
                    let mut reply = Response::builder().status(response.status().as_u16());
                    for (name, value) in response.headers() {
                        if !matches!(name.as_str(), "content-length" | "transfer-encoding") {
                            reply = reply.header(name, value);
                        }
                    }
                    let bytes = response.bytes().await.unwrap_or_default();
                    return reply.body(Body::from(bytes)).unwrap();
                }
                // Nothing reached the upstream: another may be tried.
                Err(e) if e.is_connect() => {}
                Err(_) => return StatusCode::BAD_GATEWAY.into_response(),
            }
        }
        if started.elapsed() >= route.try_duration {
            return StatusCode::BAD_GATEWAY.into_response();
        }
        // Caddy's lb_try_interval: the wait before the next try.
        tokio::time::sleep(route.try_interval).await;
    }
}
