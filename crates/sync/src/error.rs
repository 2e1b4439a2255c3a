//! What can go wrong while syncing, each with the words a reviewer should read.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum SyncError {
    /// The server could not be reached or did not answer: work goes on from the cache.
    #[error("the server cannot be reached ({0}); your work is kept and sent when it is back")]
    Offline(String),
    /// The server answered with an error of its own.
    #[error("{message}")]
    Server { status: u16, code: String, message: String },
    #[error("the session has expired; sign in again")]
    SignedOut,
    #[error("the case {0} is not in the cache; it can be opened only while online")]
    NotCached(String),
    #[error("the local cache failed: {0}")]
    Cache(#[from] sqlx::Error),
    #[error("the local cache could not be set up: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unexpected data from the server: {0}")]
    Protocol(String),
    #[error(
        "no keyring is usable here ({0}): the token is kept in memory only and must be entered again after a restart"
    )]
    KeyringUnavailable(String),
    #[error("the keyring refused: {0}")]
    Keyring(String),
}

impl SyncError {
    /// The stable code the UI maps messages from, as the server's `{code, message}`.
    pub fn code(&self) -> &str {
        match self {
            SyncError::Offline(_) => "OFFLINE",
            SyncError::Server { code, .. } => code,
            SyncError::SignedOut => "SESSION_EXPIRED",
            SyncError::NotCached(_) => "NOT_CACHED",
            SyncError::Cache(_) | SyncError::Migrate(_) => "CACHE",
            SyncError::Protocol(_) => "PROTOCOL",
            SyncError::KeyringUnavailable(_) => "KEYRING_UNAVAILABLE",
            SyncError::Keyring(_) => "KEYRING",
        }
    }

    /// Worth trying again later (the network), as opposed to an answer that will not change.
    pub fn is_transient(&self) -> bool {
        match self {
            SyncError::Offline(_) => true,
            SyncError::Server { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }
}

pub type Result<T, E = SyncError> = std::result::Result<T, E>;
