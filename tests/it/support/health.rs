//! The environments' health URLs: `GET /{env}/healthz` answers whatever
//! status the test set for that environment (200 unless told).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::StatusCode;

/// Per environment: the status to answer, and how many probes came.
type Statuses = Arc<Mutex<HashMap<String, (u16, usize)>>>;

pub struct FakeHealth {
    url: String,
    statuses: Statuses,
    _server: super::background::Task,
}

impl FakeHealth {
    pub async fn start() -> Self {
        let statuses = Statuses::default();
        let app = axum::Router::new()
            .route("/{env}/healthz", axum::routing::get(healthz))
            .with_state(statuses.clone());
        let (addr, server) = super::background::serve(app);
        Self {
            url: format!("http://{addr}"),
            statuses,
            _server: server,
        }
    }

    /// The health URL of an environment.
    pub fn url_of(&self, env: &str) -> String {
        format!("{}/{env}/healthz", self.url)
    }

    /// From now on the environment's health URL answers `status`.
    pub fn answer(&self, env: &str, status: u16) {
        self.statuses
            .lock()
            .unwrap()
            .entry(env.to_owned())
            .or_insert((200, 0))
            .0 = status;
    }

    /// How many probes the environment's health URL has had.
    pub fn hits(&self, env: &str) -> usize {
        self.statuses.lock().unwrap().get(env).map_or(0, |s| s.1)
    }
}

async fn healthz(State(statuses): State<Statuses>, Path(env): Path<String>) -> StatusCode {
    let status = {
        let mut statuses = statuses.lock().unwrap();
        let entry = statuses.entry(env).or_insert((200, 0));
        entry.1 += 1;
        entry.0
    };
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}
