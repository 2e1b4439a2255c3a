//! Webhooks against a real HTTP receiver on loopback that fails its first attempts: the
//! delivery arrives once the receiver recovers, exactly once, its signature verifies with the
//! endpoint's secret, the retries keep the (scaled-down) schedule, the delivery log tells the
//! story, and a manual resend delivers the same body again. On SQLite and PostgreSQL.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use common::{error_of, TestServer};
use identdesk_domain::Role;
use serde_json::{json, Value};

/// What the receiver saw: when, the signature header, the attempt header and the body.
type Seen = Arc<Mutex<Vec<(Instant, String, String, String)>>>;

/// A client system's webhook receiver that answers 503 to its first `failures` requests.
async fn receiver(failures: usize) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let log = seen.clone();
    let app = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let log = log.clone();
            async move {
                let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                let mut seen = log.lock().unwrap();
                seen.push((Instant::now(), header("x-payload-digest"), header("x-webhook-attempt"), body));
                if seen.len() <= failures {
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

async fn deliveries(s: &TestServer, token: &str) -> Vec<Value> {
    s.http.get(s.at("/webhooks/deliveries")).bearer_auth(token).send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn a_failing_receiver_gets_the_webhook_once_it_recovers_signed_and_on_schedule() {
    for s in TestServer::all().await {
        let b = s.backend;
        let admin = s.staff("ada@acme.test", Role::Admin).await;
        let reviewer = s.staff("rita@acme.test", Role::Reviewer).await;
        let (url, seen) = receiver(2).await;

        // Only an admin adds endpoints; a URL must be one.
        let res =
            s.http.post(s.at("/webhooks")).bearer_auth(&reviewer).json(&json!({"url": url})).send().await.unwrap();
        assert_eq!(error_of(res).await, (403, "FORBIDDEN".into()), "{b}");
        let res =
            s.http.post(s.at("/webhooks")).bearer_auth(&admin).json(&json!({"url": "not a url"})).send().await.unwrap();
        assert_eq!(error_of(res).await, (400, "INVALID_BODY".into()), "{b}");
        let res = s.http.post(s.at("/webhooks")).bearer_auth(&admin).json(&json!({"url": url})).send().await.unwrap();
        assert_eq!(res.status(), 201, "{b}");
        let created: Value = res.json().await.unwrap();
        let secret = created["secret"].as_str().unwrap().to_owned();

        // The client system creates an applicant: applicantCreated goes out.
        let key = s.api_key().await;
        let res = s
            .http
            .post(s.at("/applicants"))
            .header("X-Api-Key", &key)
            .json(&json!({"externalUserId": "hook-1", "info": {"firstName": "Wanda", "lastName": "Hook"}}))
            .send()
            .await
            .unwrap();
        let applicant: Value = res.json().await.unwrap();
        let applicant_id = applicant["id"].as_str().unwrap().to_owned();

        // Two failures (503), then the receiver recovers: three attempts, the third delivered.
        let started = Instant::now();
        while seen.lock().unwrap().len() < 3 && started.elapsed() < Duration::from_secs(15) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Nothing more comes once it was delivered.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 3, "{b}: two failed attempts and one delivery, no more");
        let body: Value = serde_json::from_str(&seen[0].3).unwrap();
        assert_eq!(body["type"], "applicantCreated", "{b}: {body}");
        assert_eq!(body["applicantId"], applicant_id.as_str(), "{b}");
        assert!(!seen[0].3.contains("Wanda") && !seen[0].3.contains("Hook\""), "{b}: no personal data in the body");
        for (i, (_, digest, attempt, text)) in seen.iter().enumerate() {
            assert_eq!(text, &seen[0].3, "{b}: every attempt carries the same body");
            assert_eq!(
                digest,
                &identdesk_server::webhooks::signature(&secret, text.as_bytes()),
                "{b}: signature verifies"
            );
            assert_eq!(attempt, &(i + 1).to_string(), "{b}");
        }
        // The schedule (scaled down to 300 ms, 600 ms): each wait at least as long, and not
        // much longer than the worker's tick allows.
        let waits: Vec<Duration> = seen.windows(2).map(|w| w[1].0 - w[0].0).collect();
        for (wait, planned) in waits.iter().zip([300u64, 600]) {
            let planned = Duration::from_millis(planned);
            assert!(
                *wait >= planned && *wait < planned + Duration::from_millis(700),
                "{b}: waited {wait:?} for {planned:?}"
            );
        }
        // A wrong secret does not verify.
        assert_ne!(seen[2].1, identdesk_server::webhooks::signature("another secret", seen[2].3.as_bytes()));

        // The delivery log: delivered after three attempts.
        let log = deliveries(&s, &admin).await;
        let created_log = log.iter().find(|d| d["eventType"] == "applicantCreated").expect("in the log");
        assert_eq!(created_log["state"], "delivered", "{b}: {created_log}");
        assert_eq!(created_log["attempts"], 3, "{b}");
        assert_eq!(created_log["lastStatus"], 200, "{b}");
        assert_eq!(
            error_of(s.http.get(s.at("/webhooks/deliveries")).bearer_auth(&reviewer).send().await.unwrap()).await.0,
            403
        );

        // A manual resend: the same body arrives again, as a new delivery.
        let res = s
            .http
            .post(s.at(&format!("/webhooks/deliveries/{}/resend", created_log["id"].as_str().unwrap())))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{b}");
        let resent: Value = res.json().await.unwrap();
        for _ in 0..100 {
            let log = deliveries(&s, &admin).await;
            if log.iter().any(|d| d["id"] == resent["id"] && d["state"] == "delivered") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let log = deliveries(&s, &admin).await;
        assert!(
            log.iter().any(|d| d["id"] == resent["id"] && d["state"] == "delivered"),
            "{b}: the resend is delivered"
        );
    }
}

#[tokio::test]
async fn a_receiver_that_never_recovers_fails_the_delivery_after_the_schedule() {
    for s in TestServer::all().await {
        let b = s.backend;
        let admin = s.staff("ada@acme.test", Role::Admin).await;
        let (url, seen) = receiver(usize::MAX).await;
        let res = s.http.post(s.at("/webhooks")).bearer_auth(&admin).json(&json!({"url": url})).send().await.unwrap();
        assert_eq!(res.status(), 201);
        let key = s.api_key().await;
        s.http
            .post(s.at("/applicants"))
            .header("X-Api-Key", &key)
            .json(&json!({"externalUserId": "hook-2", "info": {"firstName": "Nora", "lastName": "Down"}}))
            .send()
            .await
            .unwrap();
        // First attempt, then one after each of the four scheduled waits (300 ms … 2.4 s).
        let started = Instant::now();
        loop {
            let log = deliveries(&s, &admin).await;
            if log.iter().any(|d| d["state"] == "failed") || started.elapsed() > Duration::from_secs(15) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let log = deliveries(&s, &admin).await;
        let failed = log.iter().find(|d| d["eventType"] == "applicantCreated").unwrap();
        assert_eq!(failed["state"], "failed", "{b}: {failed}");
        assert_eq!(failed["attempts"], 5, "{b}");
        assert_eq!(failed["lastStatus"], 503, "{b}");
        assert_eq!(seen.lock().unwrap().len(), 5, "{b}");
        // Monitoring sees the failures.
        let metrics = s.http.get(s.at("/metrics").replace("/api/v1", "")).send().await.unwrap().text().await.unwrap();
        let line = format!("identdesk_webhook_failed_attempts_total{{tenant=\"{}\",state=\"failed\"}} 5", s.tenant_id);
        assert!(metrics.contains(&line), "{b}: {line} in\n{metrics}");
    }
}
