//! Storage: one `Store` over SQLite (default, one file in the data dir) or PostgreSQL
//! (`postgres://…`). Queries are written once in the SQL both understand; the few places
//! where the engines differ ask `Backend`. Each backend has its own append-only migrations.
//!
//! SQLite has one writer: writes go through a pool of one connection, so transactions
//! never wait on each other's locks; reads use a separate pool. PostgreSQL uses one pool,
//! and row locks with `SKIP LOCKED` let many writers claim cases at once.

pub mod accounts;
pub mod administration;
pub mod applicants;
pub mod audit;
mod bulk;
pub mod cases;
pub mod checks;
pub mod decision_log;
pub mod erasure;
pub mod export;
pub mod hit_reviews;
pub mod masking;
pub mod metrics;
pub mod qa;
mod queue_writer;
pub mod retention;
pub mod review_policy;
pub mod video;
pub mod webhooks;

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

use crate::error::{Error, Result};

pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Store {
    backend: Backend,
    write: AnyPool,
    read: AnyPool,
    /// Claims and decisions go to the queue writer, which commits them in batches.
    queue: Arc<[tokio::sync::mpsc::Sender<queue_writer::QueueRequest>]>,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Milliseconds since the Unix epoch: the time unit of every stored timestamp.
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// An integer column that is `INTEGER` (32-bit) on PostgreSQL and 64-bit elsewhere, or a
/// `COUNT`/`SUM`, whose width differs by database: read as i64 either way.
pub(crate) fn int_column(row: &sqlx::any::AnyRow, column: &str) -> std::result::Result<i64, sqlx::Error> {
    use sqlx::Row;
    row.try_get::<i64, _>(column).or_else(|_| row.try_get::<i32, _>(column).map(i64::from))
}

/// The same, for a column that may be NULL.
pub(crate) fn optional_int_column(
    row: &sqlx::any::AnyRow,
    column: &str,
) -> std::result::Result<Option<i64>, sqlx::Error> {
    use sqlx::Row;
    row.try_get::<Option<i64>, _>(column).or_else(|_| row.try_get::<Option<i32>, _>(column).map(|v| v.map(i64::from)))
}

impl Store {
    /// Connects to `url` (`sqlite://path?mode=rwc` or `postgres://…`) and runs the migrations.
    pub async fn open(url: &str) -> Result<Store> {
        let store = Store::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Connects without migrating.
    pub async fn connect(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let options =
            AnyConnectOptions::from_str(url).map_err(|e| Error::Config(format!("database URL is not usable: {e}")))?;
        if url.starts_with("sqlite:") {
            // The writer gets a server's page cache (64 MiB, not SQLite's 2 MB default): the
            // queue's indexes stay in memory instead of being read back on every batch. Readers
            // keep the default; the OS caches the file for them, and eight of them at 64 MiB
            // would hold half a gigabyte of a large database.
            let pragmas = |pool: AnyPoolOptions, cache_size: &'static str| {
                pool.after_connect(move |conn, _| {
                    Box::pin(async move {
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        // Every acknowledged decision is on disk; the queue writer's group
                        // commit keeps that affordable.
                        conn.execute("PRAGMA synchronous = FULL").await?;
                        // An erased applicant's rows are overwritten in the file, not only unlinked.
                        conn.execute("PRAGMA secure_delete = ON").await?;
                        conn.execute(cache_size).await?;
                        // Checkpoints every 64 MB of log instead of 4 MB: a page the queue
                        // rewrites many times is copied into the database once per checkpoint.
                        conn.execute("PRAGMA wal_autocheckpoint = 16384").await?;
                        Ok(())
                    })
                })
            };
            let write = pragmas(AnyPoolOptions::new().max_connections(1), "PRAGMA cache_size = -65536")
                .acquire_timeout(Duration::from_secs(60))
                .connect_with(options.clone())
                .await?;
            // WAL lets readers run beside the writer; the setting is kept in the file.
            write.execute("PRAGMA journal_mode = WAL").await?;
            let read = pragmas(AnyPoolOptions::new().max_connections(8), "PRAGMA cache_size = -2000")
                .connect_with(options)
                .await?;
            Ok(Store::with_queue_writer(Backend::Sqlite, write, read))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool = AnyPoolOptions::new()
                .max_connections(32)
                .acquire_timeout(Duration::from_secs(60))
                .connect_with(options)
                .await?;
            Ok(Store::with_queue_writer(Backend::Postgres, pool.clone(), pool))
        } else {
            Err(Error::Config(format!("database URL must start with sqlite: or postgres:, got '{url}'")))
        }
    }

    fn with_queue_writer(backend: Backend, write: AnyPool, read: AnyPool) -> Store {
        // SQLite has one writer connection. On PostgreSQL, tenants are spread over a few
        // writers (see `QueueRequest::tenant_id`); claims skip rows other nodes hold.
        let writers = match backend {
            Backend::Sqlite => 1,
            Backend::Postgres => 2,
        };
        // Writers hold a store without senders, so they end when the last `Store` is dropped.
        let core = Store { backend, write, read, queue: Arc::new([]) };
        let queue: Vec<_> = (0..writers).map(|_| queue_writer::spawn(core.clone())).collect();
        Store { queue: queue.into(), ..core }
    }

    /// Hands a claim or decision to the queue writer and waits for its answer.
    async fn queue<T>(
        &self,
        make: impl FnOnce(tokio::sync::oneshot::Sender<Result<T>>) -> queue_writer::QueueRequest,
    ) -> Result<T> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let request = make(reply);
        let mut slot = std::hash::DefaultHasher::new();
        std::hash::Hash::hash(request.tenant_id(), &mut slot);
        self.queue[std::hash::Hasher::finish(&slot) as usize % self.queue.len()]
            .send(request)
            .await
            .map_err(|_| Error::Internal("the queue writer has stopped".into()))?;
        answer.await.map_err(|_| Error::Internal("the queue writer dropped a request".into()))?
    }

    pub async fn migrate(&self) -> Result<()> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.write).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.write).await?,
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A transaction on the writer.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(self.write.begin().await?)
    }

    /// The pool for reads that need no transaction.
    pub fn reader(&self) -> &AnyPool {
        &self.read
    }

    /// The pool writes go through (for statements outside a transaction).
    pub fn writer(&self) -> &AnyPool {
        &self.write
    }

    /// `FOR UPDATE SKIP LOCKED` where the engine has row locks; SQLite's single writer needs none.
    pub(crate) fn lock_skip_locked(&self) -> &'static str {
        match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        }
    }

    /// `FOR UPDATE` where the engine has row locks.
    pub(crate) fn lock_for_update(&self) -> &'static str {
        match self.backend {
            Backend::Postgres => " FOR UPDATE",
            Backend::Sqlite => "",
        }
    }

    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }
}

/// `$1, $2, …` placeholders starting after `first - 1` bound values, for `IN (…)` lists.
pub(crate) fn placeholders(first: usize, count: usize) -> String {
    (first..first + count).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}
