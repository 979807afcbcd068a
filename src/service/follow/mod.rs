//! Following runs to their end: `workflow_run` webhooks, and polling as
//! the fallback when none arrive, both applied to the operation the run
//! belongs to (`apply`); runs the bot did not start adopted as operations
//! (`adopt`); the run's progress as its jobs finish (`progress`).

mod adopt;
mod apply;
mod poll;
mod progress;

pub use poll::follow_loop;

/// How far GitHub's clock may be behind ours when matching a run by time.
const CLOCK_SKEW_SECS: i64 = 30;
