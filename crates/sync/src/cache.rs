//! The console's SQLite cache: the feed's cursor, the newest form of every case and decision,
//! and the details and document images of the user's claimed cases, so a reviewer can finish
//! them while the server is unreachable. Written with `synchronous = FULL`: what the cache says
//! it holds survives a crash or a power cut.

use std::path::Path;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

use crate::api::{FeedChange, FeedEntity};
use crate::error::{Result, SyncError};

pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Rows per INSERT: six values each, under SQLite's 999 parameters.
const ROWS_PER_STATEMENT: usize = 150;

#[derive(Clone)]
pub struct Cache {
    pub(crate) pool: SqlitePool,
}

impl Cache {
    /// Opens (or creates) the cache at `path` and brings its tables up to date.
    pub async fn open(path: &Path) -> Result<Cache> {
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            // Deleted personal data is overwritten, not left in free pages.
            .pragma("secure_delete", "on")
            .busy_timeout(std::time::Duration::from_secs(10));
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(options).await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Cache { pool })
    }

    /// Where the feed continues from.
    pub async fn cursor(&self) -> Result<i64> {
        Ok(sqlx::query("SELECT cursor FROM sync_state").fetch_one(&self.pool).await?.try_get("cursor")?)
    }

    pub async fn last_sync_ms(&self) -> Result<Option<i64>> {
        Ok(sqlx::query("SELECT last_sync_ms FROM sync_state").fetch_one(&self.pool).await?.try_get("last_sync_ms")?)
    }

    /// Applies one page of the feed and moves the cursor, in one transaction: a crash leaves
    /// the cache at the page before or after, never between. Rows go in by the hundred per
    /// statement: a statement per change costs several times more.
    pub async fn apply(&self, changes: &[FeedChange], next_cursor: i64) -> Result<()> {
        let mut cases = Vec::new();
        let mut decisions = Vec::new();
        let mut erased = Vec::new();
        for change in changes {
            match &change.entity {
                FeedEntity::Case { id, state, holder_id, version, body } => {
                    cases.push((id, state, holder_id, *version, change.seq, body));
                }
                FeedEntity::Decision { case_id, body } => decisions.push((case_id, change.seq, body)),
                FeedEntity::Erased { applicant_id } => erased.push(applicant_id),
                FeedEntity::Other => {}
            }
        }
        let mut tx = self.pool.begin().await?;
        for rows in cases.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO cases (id, state, holder_id, version, change_seq, body) VALUES {} \
                 ON CONFLICT (id) DO UPDATE SET state = excluded.state, holder_id = excluded.holder_id, \
                 version = excluded.version, change_seq = excluded.change_seq, body = excluded.body \
                 WHERE excluded.change_seq >= cases.change_seq",
                vec!["(?, ?, ?, ?, ?, ?)"; rows.len()].join(", ")
            );
            let mut query = sqlx::query(&sql);
            for (id, state, holder, version, seq, body) in rows {
                query = query.bind(*id).bind(*state).bind(*holder).bind(*version).bind(*seq).bind(*body);
            }
            query.execute(&mut *tx).await?;
        }
        for rows in decisions.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO decisions (case_id, change_seq, body) VALUES {} \
                 ON CONFLICT (case_id) DO UPDATE SET change_seq = excluded.change_seq, body = excluded.body",
                vec!["(?, ?, ?)"; rows.len()].join(", ")
            );
            let mut query = sqlx::query(&sql);
            for (case_id, seq, body) in rows {
                query = query.bind(*case_id).bind(*seq).bind(*body);
            }
            query.execute(&mut *tx).await?;
        }
        // An erased applicant's cases, decisions, details and images go, and so do decisions on
        // them still waiting to be sent: the server would refuse them, and they name the person.
        for applicant_id in erased {
            let theirs = "SELECT id FROM cases WHERE json_extract(body, '$.applicantId') = ?";
            for table in ["media", "case_details", "decisions", "outbox"] {
                sqlx::query(&format!("DELETE FROM {table} WHERE case_id IN ({theirs})"))
                    .bind(applicant_id)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query(&format!("DELETE FROM cases WHERE id IN ({theirs})"))
                .bind(applicant_id)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("UPDATE sync_state SET cursor = MAX(cursor, ?), last_sync_ms = ?")
            .bind(next_cursor)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn case(&self, id: &str) -> Result<Option<Value>> {
        let row = sqlx::query("SELECT body FROM cases WHERE id = ?").bind(id).fetch_optional(&self.pool).await?;
        row.map(|r| parse(&r.try_get::<String, _>("body")?)).transpose()
    }

    pub async fn decision(&self, case_id: &str) -> Result<Option<Value>> {
        let row = sqlx::query("SELECT body FROM decisions WHERE case_id = ?")
            .bind(case_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| parse(&r.try_get::<String, _>("body")?)).transpose()
    }

    pub async fn case_count(&self) -> Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) AS n FROM cases").fetch_one(&self.pool).await?.try_get("n")?)
    }

    /// The cases `user_id` holds, as the feed last said.
    pub async fn claimed_by(&self, user_id: &str) -> Result<Vec<Value>> {
        let rows = sqlx::query("SELECT body FROM cases WHERE holder_id = ? AND state = 'claimed' ORDER BY id")
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| parse(&r.try_get::<String, _>("body")?)).collect()
    }

    /// Keeps a claimed case's detail (applicant, documents, check results) for offline work.
    pub async fn save_detail(&self, case_id: &str, detail: &Value) -> Result<()> {
        sqlx::query(
            "INSERT INTO case_details (case_id, body, fetched_at_ms) VALUES (?, ?, ?) \
             ON CONFLICT (case_id) DO UPDATE SET body = excluded.body, fetched_at_ms = excluded.fetched_at_ms",
        )
        .bind(case_id)
        .bind(detail.to_string())
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn detail(&self, case_id: &str) -> Result<Option<Value>> {
        let row = sqlx::query("SELECT body FROM case_details WHERE case_id = ?")
            .bind(case_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| parse(&r.try_get::<String, _>("body")?)).transpose()
    }

    pub async fn save_media(&self, document_id: &str, case_id: &str, bytes: &[u8]) -> Result<()> {
        sqlx::query(
            "INSERT INTO media (document_id, case_id, bytes, fetched_at_ms) VALUES (?, ?, ?, ?) \
             ON CONFLICT (document_id) DO UPDATE SET bytes = excluded.bytes, fetched_at_ms = excluded.fetched_at_ms",
        )
        .bind(document_id)
        .bind(case_id)
        .bind(bytes)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn media(&self, document_id: &str) -> Result<Option<Vec<u8>>> {
        let row = sqlx::query("SELECT bytes FROM media WHERE document_id = ?")
            .bind(document_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get("bytes")).transpose()?)
    }

    /// Drops personal data no open case of `user_id` needs any more: details and images of
    /// cases that are decided or held by someone else, and images older than `media_ttl_ms`.
    pub async fn prune(&self, user_id: &str, media_ttl_ms: i64) -> Result<()> {
        let keep = "SELECT id FROM cases WHERE holder_id = ? AND state = 'claimed'";
        let mut tx = self.pool.begin().await?;
        sqlx::query(&format!("DELETE FROM case_details WHERE case_id NOT IN ({keep})"))
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(&format!("DELETE FROM media WHERE case_id NOT IN ({keep}) OR fetched_at_ms < ?"))
            .bind(user_id)
            .bind(now_ms() - media_ttl_ms)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sign-out: every case, decision, detail and image goes, and the feed starts over. Sent
    /// and refused decisions go too; decisions not yet sent stay unless `discard_unsent`.
    pub async fn clear(&self, discard_unsent: bool) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for table in ["cases", "decisions", "case_details", "media"] {
            sqlx::query(&format!("DELETE FROM {table}")).execute(&mut *tx).await?;
        }
        let outbox = if discard_unsent { "DELETE FROM outbox" } else { "DELETE FROM outbox WHERE state <> 'pending'" };
        sqlx::query(outbox).execute(&mut *tx).await?;
        sqlx::query("UPDATE sync_state SET cursor = 0, last_sync_ms = NULL").execute(&mut *tx).await?;
        tx.commit().await?;
        sqlx::query("VACUUM").execute(&self.pool).await?;
        Ok(())
    }
}

pub(crate) fn parse(text: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|e| SyncError::Protocol(format!("cached JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use identdesk_domain::DecisionInput;

    fn case(seq: i64, state: &str) -> FeedChange {
        let body = format!(r#"{{"id":"c-1","state":"{state}","holderId":"u-1","version":{seq},"changeSeq":{seq}}}"#);
        FeedChange::case(seq, &body).unwrap()
    }

    #[tokio::test]
    async fn an_older_change_never_overwrites_a_newer_one_and_the_outbox_keeps_its_order() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(&dir.path().join("c.db")).await.unwrap();
        cache.apply(&[case(5, "claimed")], 5).await.unwrap();
        cache.apply(&[case(3, "queued")], 3).await.unwrap();
        assert_eq!(cache.case("c-1").await.unwrap().unwrap()["state"], "claimed");
        assert_eq!(cache.cursor().await.unwrap(), 5, "the cursor never goes back");
        assert_eq!(cache.claimed_by("u-1").await.unwrap().len(), 1);

        let first = cache.enqueue("c-1", &DecisionInput::green(5)).await.unwrap();
        let second = cache.enqueue("c-2", &DecisionInput::green(1)).await.unwrap();
        assert_ne!(first.idempotency_key, second.idempotency_key);
        let pending: Vec<_> = cache.pending().await.unwrap().into_iter().map(|i| i.case_id).collect();
        assert_eq!(pending, ["c-1", "c-2"]);

        // Sign-out keeps what was not sent yet, and nothing else.
        cache.save_detail("c-1", &serde_json::json!({"applicant": {"info": {"firstName": "Ana"}}})).await.unwrap();
        cache.clear(false).await.unwrap();
        assert_eq!((cache.case_count().await.unwrap(), cache.cursor().await.unwrap()), (0, 0));
        assert!(cache.detail("c-1").await.unwrap().is_none());
        assert_eq!(cache.pending().await.unwrap().len(), 2);
        cache.clear(true).await.unwrap();
        assert!(cache.outbox().await.unwrap().is_empty());
    }
}
