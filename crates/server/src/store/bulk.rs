//! Set-based statements fed by one JSON array parameter each: one statement text whatever the
//! number of rows, so it stays prepared, and no parameter limits. On PostgreSQL a list of
//! writes goes to the server as one statement (data-modifying `WITH`), one round trip for all
//! of them; on SQLite as one text of several statements, one hop to the connection's thread.

use serde_json::Value;

use super::Tx;
use crate::error::Result;

/// The type a JSON field is read as.
#[derive(Clone, Copy)]
pub(crate) enum Col {
    Text,
    Int,
}

/// One `INSERT … SELECT` or `UPDATE … FROM` over rows given as JSON objects. The row source
/// is named `v` and has one column per entry of `columns`.
pub(crate) struct BulkWrite {
    /// Everything before the row source: `INSERT INTO t (a, b) SELECT v.a, v.b FROM `.
    pub head: &'static str,
    pub columns: &'static [(&'static str, Col)],
    /// For an update: the table's key column and the row field naming it (`"t.id", "id"`).
    pub key: Option<(&'static str, &'static str)>,
    pub rows: Vec<Value>,
}

/// True when `tx` talks to PostgreSQL.
pub(crate) fn is_postgres(tx: &Tx) -> bool {
    let conn: &sqlx::AnyConnection = tx;
    conn.backend_name().eq_ignore_ascii_case("postgresql")
}

/// The rows of the JSON array bound as `$param`, as a table named `v`.
pub(crate) fn json_rows(postgres: bool, param: usize, columns: &[(&str, Col)]) -> String {
    if postgres {
        let cols: Vec<String> = columns
            .iter()
            .map(|(name, col)| format!("{name} {}", if matches!(col, Col::Int) { "bigint" } else { "text" }))
            .collect();
        format!("json_to_recordset(CAST(${param} AS json)) AS v({})", cols.join(", "))
    } else {
        let cols: Vec<String> =
            columns.iter().map(|(name, _)| format!("json_extract(value, '$.{name}') AS {name}")).collect();
        format!("(SELECT {} FROM json_each(${param})) AS v", cols.join(", "))
    }
}

/// `column` is one of the strings of the JSON array bound as `$param`.
///
/// On PostgreSQL the list is an array: the planner then looks the rows up by index whatever
/// the table's size or statistics, where a join with a JSON function (estimated at 100 rows)
/// turns into a scan of the whole table once it is small enough to seem cheaper.
pub(crate) fn json_in(postgres: bool, column: &str, param: usize) -> String {
    if postgres {
        format!("{column} = ANY(ARRAY(SELECT json_array_elements_text(CAST(${param} AS json))))")
    } else {
        format!("{column} IN (SELECT value FROM json_each(${param}))")
    }
}

impl BulkWrite {
    fn sql(&self, postgres: bool, param: usize) -> String {
        let mut sql = format!("{}{}", self.head, json_rows(postgres, param, self.columns));
        if let Some((column, field)) = self.key {
            sql.push_str(&format!(" WHERE {column} = v.{field}"));
            if postgres {
                // The same keys as an array, for the index lookup (see `json_in`).
                sql.push_str(&format!(
                    " AND {column} = ANY(ARRAY(SELECT r->>'{field}' FROM json_array_elements(CAST(${param} AS json)) AS r))"
                ));
            }
        }
        sql
    }
}

/// Runs the writes that have rows, in order, inside `tx`.
pub(crate) async fn execute(tx: &mut Tx, writes: &[BulkWrite]) -> Result<()> {
    let writes: Vec<&BulkWrite> = writes.iter().filter(|w| !w.rows.is_empty()).collect();
    if writes.is_empty() {
        return Ok(());
    }
    let sql = if is_postgres(tx) {
        // The writes touch different rows, so running them as one statement changes nothing
        // but the number of round trips.
        let (last, first) = writes.split_last().expect("not empty");
        let mut sql = String::new();
        for (i, w) in first.iter().enumerate() {
            sql.push_str(if i == 0 { "WITH " } else { ", " });
            sql.push_str(&format!("w{i} AS ({})", w.sql(true, i + 1)));
        }
        sql.push(' ');
        sql.push_str(&last.sql(true, writes.len()));
        sql
    } else {
        // SQLite runs the statements of one text in turn, each binding its own `$n`: one call
        // into the connection's thread instead of one per write.
        writes.iter().enumerate().map(|(i, w)| w.sql(false, i + 1)).collect::<Vec<_>>().join(";\n")
    };
    let mut query = sqlx::query(&sql);
    for w in &writes {
        query = query.bind(rows_json(w));
    }
    query.execute(&mut **tx).await?;
    Ok(())
}

fn rows_json(write: &BulkWrite) -> String {
    serde_json::to_string(&write.rows).expect("JSON values serialise")
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use sqlx::Row;

    use super::*;

    #[tokio::test]
    async fn rows_arrive_as_written_quotes_nulls_and_large_numbers_included() {
        sqlx::any::install_default_drivers();
        // One connection: each connection to `:memory:` is a database of its own.
        let pool = sqlx::any::AnyPoolOptions::new().max_connections(1).connect("sqlite::memory:").await.unwrap();
        sqlx::query("CREATE TABLE notes (id TEXT PRIMARY KEY, body TEXT, n BIGINT)").execute(&pool).await.unwrap();
        let mut tx: Tx = pool.begin().await.unwrap();
        const COLUMNS: &[(&str, Col)] = &[("id", Col::Text), ("body", Col::Text), ("n", Col::Int)];
        let insert = BulkWrite {
            head: "INSERT INTO notes (id, body, n) SELECT v.id, v.body, v.n FROM ",
            columns: COLUMNS,
            key: None,
            rows: vec![
                json!({"id": "a", "body": "it's \"quoted\", ü, $1", "n": i64::MAX}),
                json!({"id": "b", "body": null, "n": -1}),
            ],
        };
        let update = BulkWrite {
            head: "UPDATE notes SET body = v.body, n = v.n FROM ",
            columns: COLUMNS,
            key: Some(("notes.id", "id")),
            rows: vec![json!({"id": "b", "body": "second", "n": 2})],
        };
        execute(&mut tx, &[insert, update]).await.unwrap();
        tx.commit().await.unwrap();
        let rows = sqlx::query("SELECT id, body, n FROM notes ORDER BY id").fetch_all(&pool).await.unwrap();
        let got: Vec<(String, Option<String>, i64)> =
            rows.iter().map(|r| (r.get("id"), r.get("body"), r.get("n"))).collect();
        assert_eq!(
            got,
            vec![("a".into(), Some("it's \"quoted\", ü, $1".into()), i64::MAX), ("b".into(), Some("second".into()), 2)]
        );
    }
}
