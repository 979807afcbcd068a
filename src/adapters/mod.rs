//! The only code that speaks to the outside world: GitHub (octocrab), AWS
//! ECS (aws-sdk-ecs) and Telegram (teloxide). Each is the real client with
//! an overridable base URL; tests point them at local fakes.

pub mod ecs;
pub mod fit;
pub mod github;
pub mod health;
pub mod pacer;
pub mod telegram;
