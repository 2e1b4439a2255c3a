//! `/metrics` for Prometheus: queue depth by kind and state, SLA breaches, decisions by answer,
//! per tenant; text format; counts only. On SQLite and PostgreSQL. (Webhook failures are
//! checked in the webhook test, where a receiver fails.)

mod common;

use common::TestServer;
use identdesk_domain::Role;
use serde_json::{json, Value};

async fn metrics(s: &TestServer) -> String {
    let res = s.http.get(s.at("/metrics").replace("/api/v1", "")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    res.text().await.unwrap()
}

#[tokio::test]
async fn metrics_count_the_queue_breaches_and_decisions() {
    for s in TestServer::all().await {
        let b = s.backend;
        let t = &s.tenant_id;
        let reviewer = s.staff("ana@acme.test", Role::Reviewer).await;
        s.queue_cases(4).await;
        let case: Value =
            s.http.post(s.at("/cases/claim")).bearer_auth(&reviewer).send().await.unwrap().json().await.unwrap();
        let res = s
            .http
            .post(s.at(&format!("/cases/{}/decision", case["id"].as_str().unwrap())))
            .bearer_auth(&reviewer)
            .header("Idempotency-Key", "m-1")
            .json(&json!({"answer": "GREEN", "version": case["version"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{b}");
        // One open case is past its due time.
        sqlx::query("UPDATE cases SET due_at_ms = 1 WHERE id = (SELECT MIN(id) FROM cases WHERE state = 'queued')")
            .execute(s.store.writer())
            .await
            .unwrap();

        let text = metrics(&s).await;
        for line in [
            format!("identdesk_queue_depth{{tenant=\"{t}\",kind=\"review\",state=\"queued\"}} 3"),
            format!("identdesk_sla_breaches{{tenant=\"{t}\"}} 1"),
            format!("identdesk_decisions_total{{tenant=\"{t}\",answer=\"GREEN\"}} 1"),
            "# TYPE identdesk_decisions_total counter".to_owned(),
        ] {
            assert!(text.contains(&line), "{b}: {line} in\n{text}");
        }
        assert!(!text.contains("ana@acme.test"), "{b}: no people in metrics");
    }
}
