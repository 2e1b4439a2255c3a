//! 64 reviewers drain a queue of 10,000 cases through the HTTP API, on each database: every
//! case is decided exactly once, no case is ever held by two reviewers, and the audit chain
//! verifies afterwards.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use common::TestServer;
use identdesk_domain::Role;
use serde_json::{json, Value};
use sqlx::Row;

const REVIEWERS: usize = 64;
const CASES: usize = 10_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_reviewers_drain_ten_thousand_cases_exactly_once() {
    for server in TestServer::all().await {
        drain(&server).await;
    }
}

async fn drain(server: &TestServer) {
    let backend = server.backend;
    server.queue_cases(CASES).await;
    let mut tokens = Vec::new();
    for i in 0..REVIEWERS {
        tokens.push(server.staff(&format!("reviewer{i}@acme.test"), Role::Reviewer).await);
    }
    // case id → every reviewer the server handed it to.
    let claims: Arc<Mutex<HashMap<String, Vec<usize>>>> = Arc::default();
    let started = std::time::Instant::now();
    let mut workers = Vec::new();
    for (reviewer, token) in tokens.into_iter().enumerate() {
        let (http, base, claims) = (server.http.clone(), server.base.clone(), claims.clone());
        workers.push(tokio::spawn(async move {
            let mut decided = 0usize;
            loop {
                let res = http.post(format!("{base}/cases/claim")).bearer_auth(&token).send().await.unwrap();
                if res.status() == 204 {
                    return decided;
                }
                assert_eq!(res.status(), 200, "claim failed: {}", res.text().await.unwrap());
                let case: Value = res.json().await.unwrap();
                let id = case["id"].as_str().unwrap().to_owned();
                claims.lock().unwrap().entry(id.clone()).or_default().push(reviewer);
                let res = http
                    .post(format!("{base}/cases/{id}/decision"))
                    .bearer_auth(&token)
                    .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
                    .json(&json!({"answer": "GREEN", "version": case["version"]}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 201, "decision failed: {}", res.text().await.unwrap());
                decided += 1;
            }
        }));
    }
    let mut total = 0;
    for w in workers {
        total += w.await.unwrap();
    }
    eprintln!("{backend}: {REVIEWERS} reviewers decided {total} cases in {:.1?}", started.elapsed());

    let claims = std::mem::take(&mut *claims.lock().unwrap());
    assert_eq!(total, CASES, "{backend}: every case decided");
    assert_eq!(claims.len(), CASES, "{backend}: every case claimed");
    let doubles: Vec<_> = claims.iter().filter(|(_, who)| who.len() > 1).collect();
    assert!(doubles.is_empty(), "{backend}: cases handed to two reviewers: {doubles:?}");

    // The database agrees: one decision per case, all decided, one claim event per case.
    assert_eq!(server.count("decisions").await, CASES as i64, "{backend}");
    let distinct: i64 = sqlx::query("SELECT COUNT(DISTINCT case_id) AS n FROM decisions")
        .fetch_one(server.store.reader())
        .await
        .unwrap()
        .try_get("n")
        .unwrap();
    assert_eq!(distinct, CASES as i64, "{backend}: decisions on distinct cases");
    let open: i64 = sqlx::query("SELECT COUNT(*) AS n FROM cases WHERE state <> 'decided'")
        .fetch_one(server.store.reader())
        .await
        .unwrap()
        .try_get("n")
        .unwrap();
    assert_eq!(open, 0, "{backend}: no case left open");
    let twice_claimed: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM (SELECT subject FROM audit_events WHERE action = 'case.claimed' \
         GROUP BY subject HAVING COUNT(*) > 1) AS t",
    )
    .fetch_one(server.store.reader())
    .await
    .unwrap()
    .try_get("n")
    .unwrap();
    assert_eq!(twice_claimed, 0, "{backend}: audit shows no case claimed twice");
    let mismatched: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM decisions d JOIN cases c ON c.id = d.case_id WHERE c.holder_id <> d.reviewer_id",
    )
    .fetch_one(server.store.reader())
    .await
    .unwrap()
    .try_get("n")
    .unwrap();
    assert_eq!(mismatched, 0, "{backend}: each case decided by the reviewer who held it");

    let report = server.store.verify_chain(&server.tenant_id).await.unwrap();
    assert!(report.verified_events >= 3 * CASES as i64, "{backend}: created, claimed and decided events");
}
