//! identdesk-sync: what lets a reviewer keep working through a flaky connection. The server's
//! change feed is pulled into a local SQLite cache (`cache`), decisions go through a durable
//! outbox (`outbox`) sent in order with idempotency keys, the server's push channel says when
//! to pull (`engine`), and the server URL and token live in the OS keyring (`credentials`).
//! No Tauri here: the desktop app's commands are one-line calls into this crate.

pub mod api;
pub mod cache;
pub mod credentials;
pub mod desk;
pub mod engine;
pub mod error;
pub mod outbox;

pub use api::ServerApi;
pub use cache::Cache;
pub use engine::{Status, Sync};
pub use error::{Result, SyncError};
pub use outbox::{Conflict, OutboxItem};
