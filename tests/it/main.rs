//! One test binary for every area (one link, one build): the store on both
//! backends and the scenarios that drive the real bot.

mod act;
mod approvable;
mod approval_groups;
mod approval_guards;
mod autorollback;
mod checklist;
mod cli;
mod confirm;
mod crash;
mod delivery;
mod deploy;
mod deployments;
mod diagnose;
mod discover;
mod faults;
mod follow;
mod freeze;
mod github_app;
mod github_down;
mod guide;
mod ha;
mod hostile;
mod incident;
mod monitor;
mod oncall;
mod prompts;
mod release;
mod repository;
mod rollback;
mod scenarios;
mod secrets;
mod store;
mod strict;
mod support;
mod taps;
