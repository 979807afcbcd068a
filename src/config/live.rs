//! The config in force. A reload swaps it whole; each handler takes one
//! snapshot when it starts and decides everything under it, so no decision
//! mixes two configs.

use std::sync::Arc;

use arc_swap::ArcSwap;

use super::Config;

/// The config in force, shared by every handler and swapped by a reload.
#[derive(Clone)]
pub struct LiveConfig(Arc<ArcSwap<Config>>);

impl LiveConfig {
    pub fn new(config: Arc<Config>) -> Self {
        Self(Arc::new(ArcSwap::new(config)))
    }

    /// The config in force now: a snapshot, unchanged by later reloads.
    pub fn load(&self) -> Arc<Config> {
        self.0.load_full()
    }

    /// Puts `config` in force for every handler that starts from now on.
    pub fn replace(&self, config: Config) {
        self.0.store(Arc::new(config));
    }
}

impl std::fmt::Debug for LiveConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LiveConfig")
    }
}
