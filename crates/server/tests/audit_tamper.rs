//! Tampering with the audit trail is found: change one field of one stored event, or delete
//! one, and both `GET /audit/verify` and `identdesk-server audit verify` fail and name the
//! first broken event. A mutation sweep does the same for every field (and moving the row to
//! another tenant or sequence number, and deleting it) of a sample of events across the chain.

mod common;

use common::{error_of, TestServer};
use identdesk_domain::Role;
use serde_json::{json, Value};
use sqlx::Row;

/// Claims and decides a few cases so the chain has real events.
async fn some_history(s: &TestServer, token: &str) {
    s.queue_cases(3).await;
    for i in 0..3 {
        let case: Value =
            s.http.post(s.at("/cases/claim")).bearer_auth(token).send().await.unwrap().json().await.unwrap();
        let res = s
            .http
            .post(s.at(&format!("/cases/{}/decision", case["id"].as_str().unwrap())))
            .bearer_auth(token)
            .header("Idempotency-Key", format!("k{i}"))
            .json(&json!({"answer": "GREEN", "version": case["version"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
    }
}

fn cli(s: &TestServer) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_identdesk-server"));
    cmd.args(["--database-url", &s.url, "--data-dir"]).arg(s.media.root());
    cmd
}

async fn event_seq(s: &TestServer, action: &str) -> i64 {
    sqlx::query("SELECT MIN(seq) AS seq FROM audit_events WHERE tenant_id = $1 AND action = $2")
        .bind(&s.tenant_id)
        .bind(action)
        .fetch_one(s.store.writer())
        .await
        .unwrap()
        .try_get("seq")
        .unwrap()
}

async fn assert_broken_at(s: &TestServer, supervisor: &str, seq: i64) {
    let res = s.http.get(s.at("/audit/verify")).bearer_auth(supervisor).send().await.unwrap();
    assert_eq!(res.status(), 409, "{}", s.backend);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "AUDIT_CHAIN_BROKEN", "{}", s.backend);
    assert_eq!(body["seq"], seq, "{}: first broken event named: {body}", s.backend);
    assert!(body["message"].as_str().unwrap().contains(&format!("event {seq}")), "{}: {body}", s.backend);

    let out = cli(s).args(["audit", "verify"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{}: the CLI fails", s.backend);
    assert!(stderr.contains(&format!("broken at event {seq}")), "{}: CLI names the event: {stderr}", s.backend);
}

#[tokio::test]
async fn a_changed_or_deleted_audit_row_is_found_and_named() {
    for s in TestServer::all().await {
        let reviewer = s.staff("ana@acme.test", Role::Reviewer).await;
        let supervisor = s.staff("sue@acme.test", Role::Supervisor).await;
        some_history(&s, &reviewer).await;

        // Untouched, the chain verifies through the API and the CLI.
        let res = s.http.get(s.at("/audit/verify")).bearer_auth(&supervisor).send().await.unwrap();
        assert_eq!(res.status(), 200, "{}", s.backend);
        let report: Value = res.json().await.unwrap();
        assert!(report["verifiedEvents"].as_i64().unwrap() > 10, "{}: {report}", s.backend);
        let out = cli(&s).args(["audit", "verify"]).output().unwrap();
        assert!(out.status.success(), "{}: {}", s.backend, String::from_utf8_lossy(&out.stderr));

        // Someone with database access rewrites who decided the first decision.
        let decided = event_seq(&s, "case.decided").await;
        sqlx::query("UPDATE audit_events SET actor = 'user:someone-else' WHERE tenant_id = $1 AND seq = $2")
            .bind(&s.tenant_id)
            .bind(decided)
            .execute(s.store.writer())
            .await
            .unwrap();
        assert_broken_at(&s, &supervisor, decided).await;
        // Undo it: the chain holds again.
        sqlx::query("UPDATE audit_events SET actor = $1 WHERE tenant_id = $2 AND seq = $3")
            .bind(format!("user:{}", s.store.session_user(&reviewer).await.unwrap().id))
            .bind(&s.tenant_id)
            .bind(decided)
            .execute(s.store.writer())
            .await
            .unwrap();
        assert_eq!(s.http.get(s.at("/audit/verify")).bearer_auth(&supervisor).send().await.unwrap().status(), 200);

        // Someone deletes the first claim.
        let claimed = event_seq(&s, "case.claimed").await;
        sqlx::query("DELETE FROM audit_events WHERE tenant_id = $1 AND seq = $2")
            .bind(&s.tenant_id)
            .bind(claimed)
            .execute(s.store.writer())
            .await
            .unwrap();
        assert_broken_at(&s, &supervisor, claimed).await;
    }
}

#[tokio::test]
async fn deleting_the_newest_events_is_found_too() {
    for s in TestServer::all().await {
        let reviewer = s.staff("ana@acme.test", Role::Reviewer).await;
        let supervisor = s.staff("sue@acme.test", Role::Supervisor).await;
        some_history(&s, &reviewer).await;
        let head = s.store.head_seq(&s.tenant_id).await.unwrap();
        sqlx::query("DELETE FROM audit_events WHERE tenant_id = $1 AND seq = $2")
            .bind(&s.tenant_id)
            .bind(head)
            .execute(s.store.writer())
            .await
            .unwrap();
        assert_broken_at(&s, &supervisor, head).await;
        // Reading the audit trail stays possible for the supervisor, and a reviewer may not.
        let res = s.http.get(s.at("/audit?limit=5")).bearer_auth(&supervisor).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.json::<Vec<Value>>().await.unwrap().len(), 5);
        let res = s.http.get(s.at("/audit")).bearer_auth(&reviewer).send().await.unwrap();
        assert_eq!(error_of(res).await, (403, "FORBIDDEN".into()));
    }
}

/// Where `GET /audit/verify` says the chain breaks; `None` when it holds.
async fn api_broken_at(s: &TestServer, supervisor: &str) -> Option<i64> {
    let res = s.http.get(s.at("/audit/verify")).bearer_auth(supervisor).send().await.unwrap();
    match res.status().as_u16() {
        200 => None,
        409 => res.json::<Value>().await.unwrap()["seq"].as_i64(),
        other => panic!("{}: verify answered {other}", s.backend),
    }
}

/// An audit row as stored, to put back after each mutation.
struct StoredEvent {
    seq: i64,
    at_ms: i64,
    texts: [String; 6], // actor, action, subject, detail, prev_hash, hash
}

const TEXT_COLUMNS: [&str; 6] = ["actor", "action", "subject", "detail", "prev_hash", "hash"];

async fn stored_event(s: &TestServer, seq: i64) -> StoredEvent {
    let row = sqlx::query("SELECT * FROM audit_events WHERE tenant_id = $1 AND seq = $2")
        .bind(&s.tenant_id)
        .bind(seq)
        .fetch_one(s.store.writer())
        .await
        .unwrap();
    StoredEvent { seq, at_ms: row.try_get("at_ms").unwrap(), texts: TEXT_COLUMNS.map(|c| row.try_get(c).unwrap()) }
}

/// Removes whatever the mutation left under (tenant, seq) and puts the original row back.
async fn restore(s: &TestServer, tenant: &str, seq: i64, e: &StoredEvent) {
    sqlx::query("DELETE FROM audit_events WHERE tenant_id = $1 AND seq = $2")
        .bind(tenant)
        .bind(seq)
        .execute(s.store.writer())
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO audit_events (tenant_id, seq, at_ms, actor, action, subject, detail, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&s.tenant_id)
    .bind(e.seq)
    .bind(e.at_ms)
    .bind(&e.texts[0])
    .bind(&e.texts[1])
    .bind(&e.texts[2])
    .bind(&e.texts[3])
    .bind(&e.texts[4])
    .bind(&e.texts[5])
    .execute(s.store.writer())
    .await
    .unwrap();
}

#[tokio::test]
async fn altering_any_field_or_deleting_any_sampled_event_is_located() {
    for s in TestServer::all().await {
        let b = s.backend;
        let reviewer = s.staff("ana@acme.test", Role::Reviewer).await;
        let supervisor = s.staff("sue@acme.test", Role::Supervisor).await;
        some_history(&s, &reviewer).await;
        // A tenant to move events into; its own chain is cleared so a moved event's seq is free.
        let other = s.store.create_tenant("Elsewhere", identdesk_domain::Region::Eu).await.unwrap();
        sqlx::query("DELETE FROM audit_events WHERE tenant_id = $1")
            .bind(&other.id)
            .execute(s.store.writer())
            .await
            .unwrap();
        let head = s.store.head_seq(&s.tenant_id).await.unwrap();
        assert_eq!(api_broken_at(&s, &supervisor).await, None, "{b}: the untouched chain holds");
        // A sample across the chain: the first event, some in the middle, the newest.
        let mut sample: Vec<i64> = (1..=head).step_by((head as usize / 5).max(1)).collect();
        sample.push(head);
        sample.dedup();
        let mut checked = 0;
        for &seq in &sample {
            let original = stored_event(&s, seq).await;
            // Each mutation: the SQL that makes it, and the (tenant, seq) the row then has.
            let mut mutations: Vec<(String, String, i64)> = TEXT_COLUMNS
                .iter()
                .map(|c| {
                    (
                        format!("UPDATE audit_events SET {c} = {c} || 'x' WHERE tenant_id = $1 AND seq = $2"),
                        s.tenant_id.clone(),
                        seq,
                    )
                })
                .collect();
            mutations.push((
                "UPDATE audit_events SET at_ms = at_ms + 1 WHERE tenant_id = $1 AND seq = $2".into(),
                s.tenant_id.clone(),
                seq,
            ));
            mutations.push((
                "UPDATE audit_events SET seq = seq + 1000000 WHERE tenant_id = $1 AND seq = $2".to_owned(),
                s.tenant_id.clone(),
                seq + 1_000_000,
            ));
            mutations.push((
                format!("UPDATE audit_events SET tenant_id = '{}' WHERE tenant_id = $1 AND seq = $2", other.id),
                other.id.clone(),
                seq,
            ));
            mutations.push((
                "DELETE FROM audit_events WHERE tenant_id = $1 AND seq = $2".into(),
                s.tenant_id.clone(),
                seq,
            ));
            for (sql, left_tenant, left_seq) in &mutations {
                sqlx::query(sql).bind(&s.tenant_id).bind(seq).execute(s.store.writer()).await.unwrap();
                assert_eq!(api_broken_at(&s, &supervisor).await, Some(seq), "{b}: `{sql}` on event {seq} is located");
                restore(&s, left_tenant, *left_seq, &original).await;
                assert_eq!(api_broken_at(&s, &supervisor).await, None, "{b}: restored after `{sql}`");
                checked += 1;
            }
        }
        assert!(checked >= 5 * 11, "{b}: {checked} mutations over {} events", sample.len());
    }
}

#[tokio::test]
async fn an_export_verifies_outside_identdesk_and_an_edit_to_it_is_found() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/verify-audit-export.py");
    for s in TestServer::all().await {
        let b = s.backend;
        let reviewer = s.staff("ana@acme.test", Role::Reviewer).await;
        let supervisor = s.staff("sue@acme.test", Role::Supervisor).await;
        some_history(&s, &reviewer).await;
        let res = s.http.get(s.at("/audit/export")).bearer_auth(&reviewer).send().await.unwrap();
        assert_eq!(error_of(res).await, (403, "FORBIDDEN".into()), "{b}");
        let res = s.http.get(s.at("/audit/export")).bearer_auth(&supervisor).send().await.unwrap();
        assert_eq!(res.status(), 200, "{b}");
        let export = res.text().await.unwrap();
        let head: Value = serde_json::from_str(export.lines().next().unwrap()).unwrap();
        let report: Value =
            s.http.get(s.at("/audit/verify")).bearer_auth(&supervisor).send().await.unwrap().json().await.unwrap();
        assert!(export.contains("\"action\":\"audit.exported\""), "{b}: the export is in the chain it exports");

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("audit.ndjson");
        let run = |path: &std::path::Path, expected: Option<&str>| {
            let mut cmd = std::process::Command::new("python3");
            cmd.arg(script).arg(path);
            if let Some(e) = expected {
                cmd.arg(e);
            }
            let out = cmd.output().expect("python3 runs the verifier");
            (out.status.success(), String::from_utf8_lossy(&out.stdout).to_string())
        };
        std::fs::write(&file, &export).unwrap();
        let head_hash = head["headHash"].as_str().unwrap();
        let (ok, said) = run(&file, Some(head_hash));
        assert!(ok && said.contains(head_hash), "{b}: {said}");
        assert!(report["verifiedEvents"].as_i64().unwrap() <= head["headSeq"].as_i64().unwrap(), "{b}");

        // An auditor's copy edited: one event's actor, then one event dropped.
        let lines: Vec<&str> = export.lines().collect();
        let edited = lines.iter().enumerate().map(|(i, l)| {
            if i == 3 {
                l.replacen("\"actor\":\"", "\"actor\":\"x", 1)
            } else {
                l.to_string()
            }
        });
        std::fs::write(&file, edited.collect::<Vec<_>>().join("\n")).unwrap();
        let (ok, said) = run(&file, None);
        assert!(!ok && said.contains("broken at event 3"), "{b}: {said}");
        let dropped: Vec<&str> = lines.iter().enumerate().filter(|(i, _)| *i != 5).map(|(_, l)| *l).collect();
        std::fs::write(&file, dropped.join("\n")).unwrap();
        let (ok, said) = run(&file, None);
        assert!(!ok && said.contains("broken at event 5"), "{b}: {said}");
        // A whole export forged consistently is caught by the head noted at export time.
        std::fs::write(&file, &export).unwrap();
        let (ok, said) = run(&file, Some(&"f".repeat(64)));
        assert!(!ok && said.contains("not the head you expected"), "{b}: {said}");
    }
}
