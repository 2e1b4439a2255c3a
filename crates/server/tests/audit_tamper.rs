//! Tampering with the audit trail is found: change one field of one stored event, or delete
//! one, and both `GET /audit/verify` and `identdesk-server audit verify` fail and name the
//! first broken event.

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
