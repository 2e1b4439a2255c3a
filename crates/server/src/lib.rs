//! identdesk-server: the HTTP API (axum), the review queue and audit trail in SQLite or
//! PostgreSQL (sqlx), the local media folder (encrypted), and the command line that administers them.

pub mod api;
pub mod check_commands;
pub mod cli;
pub mod demo;
pub mod erasure;
pub mod error;
pub mod export;
pub mod masking;
pub mod media;
pub mod media_keys;
pub mod store;
pub mod verification;
pub mod video;
pub mod webhooks;

pub use error::{Error, Result};
