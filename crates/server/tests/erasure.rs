//! Erasure: a rich applicant (profile with e-mail and phone, a document with its number, the
//! automated checks, a reviewer's decision with a comment, a video session with a screenshot
//! and a recording, webhooks) is erased through the API; then a full dump of the database and
//! every object of the media store (decrypted) are searched for the name, the document number,
//! the e-mail and the phone: no hit. The audit event of the erasure remains, without them, and
//! the client hears `applicantDeleted`. On SQLite (whose file is searched raw as well) and
//! PostgreSQL.

mod common;

use std::time::Duration;

use common::video::{consent_and_join, invite, next_call, png};
use common::{checked_applicant, error_of, files_under, TestServer};
use identdesk_domain::Role;
use identdesk_server::store::Backend;
use serde_json::{json, Value};
use sqlx::Row;

const FIRST: &str = "Philomena";
const LAST: &str = "Vandersteenhoven";
const EMAIL: &str = "philomena.vdsh@example.test";
const PHONE: &str = "+4917612349876";
const DOC_NUMBER: &str = "C7XK49QZ2";

/// Every row of every table, as text.
async fn dump(s: &TestServer) -> String {
    let pool = s.store.writer();
    let mut out = String::new();
    let tables: Vec<String> = match s.store.backend() {
        Backend::Sqlite => sqlx::query("SELECT name FROM sqlite_master WHERE type = 'table'"),
        Backend::Postgres => sqlx::query(
            "SELECT table_name::text AS name FROM information_schema.tables WHERE table_schema = current_schema()",
        ),
    }
    .fetch_all(pool)
    .await
    .unwrap()
    .iter()
    .map(|r| r.try_get("name").unwrap())
    .collect();
    assert!(tables.len() > 15, "{tables:?}");
    for table in tables {
        let sql = match s.store.backend() {
            Backend::Postgres => format!("SELECT t::text AS j FROM {table} t"),
            Backend::Sqlite => {
                let columns: Vec<String> = sqlx::query(&format!("SELECT name FROM pragma_table_info('{table}')"))
                    .fetch_all(pool)
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| format!("quote(\"{}\")", r.try_get::<String, _>("name").unwrap()))
                    .collect();
                format!("SELECT {} AS j FROM \"{table}\"", columns.join(" || '|' || "))
            }
        };
        for row in sqlx::query(&sql).fetch_all(pool).await.unwrap() {
            out.push_str(&table);
            out.push(':');
            out.push_str(&row.try_get::<String, _>("j").unwrap_or_default());
            out.push('\n');
        }
    }
    out
}

fn hits(haystack: &str) -> Vec<&'static str> {
    let lower = haystack.to_lowercase();
    [FIRST, LAST, EMAIL, PHONE, DOC_NUMBER, "4917612349876"]
        .into_iter()
        .filter(|w| lower.contains(&w.to_lowercase()))
        .collect()
}

#[tokio::test]
async fn an_erased_applicant_leaves_no_trace_but_the_audit_event() {
    for s in TestServer::all().await {
        let b = s.backend;
        let key = s.api_key().await;
        let reviewer = s.staff("ana@acme.test", Role::Reviewer).await;
        let operator = s.staff("olga@acme.test", Role::VideoOperator).await;
        let supervisor = s.staff("sue@acme.test", Role::Supervisor).await;
        let admin = s.staff("ada@acme.test", Role::Admin).await;
        // A receiver for the webhooks, accepting everything.
        let hooks = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let hook_url = format!("http://{}/hooks", hooks.local_addr().unwrap());
        let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let log = received.clone();
        let app = axum::Router::new().route(
            "/hooks",
            axum::routing::post(move |body: String| {
                let log = log.clone();
                async move {
                    log.lock().unwrap().push(body);
                    "ok"
                }
            }),
        );
        tokio::spawn(async move { axum::serve(hooks, app).await.unwrap() });
        let res =
            s.http.post(s.at("/webhooks")).bearer_auth(&admin).json(&json!({"url": hook_url})).send().await.unwrap();
        assert_eq!(res.status(), 201, "{b}");

        // The applicant, a document with its number, submitted and checked.
        let profile = json!({"externalUserId": "crm-erase-1", "info": {"firstName": FIRST, "lastName": LAST,
            "dob": "1979-11-02", "email": EMAIL, "phone": PHONE, "nationality": "NLD"}});
        let id = checked_applicant(&s, &key, profile, png(), DOC_NUMBER).await;

        // A reviewer decides its case, naming the applicant in the comments.
        let cases: Value = s
            .http
            .get(s.at(&format!("/cases?applicantId={id}")))
            .bearer_auth(&supervisor)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let case = cases["items"]
            .as_array()
            .and_then(|a| a.first())
            .unwrap_or_else(|| panic!("{b}: the checks left a case to review: {cases}"));
        let case_id = case["id"].as_str().unwrap();
        let res = s
            .http
            .post(s.at(&format!("/cases/{case_id}/assign")))
            .bearer_auth(&supervisor)
            .json(&json!({"userId": s.store.session_user(&reviewer).await.unwrap().id}))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{b}: {}", res.text().await.unwrap());
        let detail: Value = s
            .http
            .get(s.at(&format!("/cases/{case_id}")))
            .bearer_auth(&reviewer)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let res = s
            .http
            .post(s.at(&format!("/cases/{case_id}/decision")))
            .bearer_auth(&reviewer)
            .header("Idempotency-Key", "erase-1")
            .json(&json!({"answer": "RED", "rejectType": "RETRY", "labels": ["BAD_PROOF_OF_IDENTITY"],
                    "version": detail["case"]["version"], "internalNote": format!("{FIRST} {LAST}, {EMAIL}")}))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{b}: {}", res.text().await.unwrap());

        // A video session with a screenshot and a recording part.
        let invitation: Value = invite(&s, &key, &id).await.json().await.unwrap();
        let link = invitation["link"].as_str().unwrap().trim_start_matches("/v/").to_owned();
        let (_, socket) = consent_and_join(&s, &link).await;
        let call = next_call(&s, &operator).await;
        let session = call["session"]["id"].as_str().unwrap().to_owned();
        let res = s
            .http
            .post(s.at(&format!("/video/sessions/{session}/screenshots?tag=id_front&capturedAtMs=1")))
            .bearer_auth(&operator)
            .header("content-type", "image/png")
            .body(png())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{b}");
        let res = s
            .http
            .post(s.at(&format!("/video/sessions/{session}/recording?part=applicant_audio&durationMs=10")))
            .bearer_auth(&operator)
            .body(b"OggS and some audio".to_vec())
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{b}");
        drop(socket);
        // Before: the applicant is in the database (the test would prove nothing otherwise).
        assert!(!hits(&dump(&s).await).is_empty(), "{b}: the applicant is stored before the erasure");

        // Erase, through the client's API; a second time it is gone.
        let res = s.http.delete(s.at(&format!("/applicants/{id}"))).header("X-Api-Key", &key).send().await.unwrap();
        assert_eq!(res.status(), 200, "{b}");
        let erasure: Value = res.json().await.unwrap();
        assert!(erasure["mediaObjects"].as_u64().unwrap() >= 3, "{b}: {erasure}");
        let res = s.http.delete(s.at(&format!("/applicants/{id}"))).header("X-Api-Key", &key).send().await.unwrap();
        assert_eq!(error_of(res).await.0, 404, "{b}");

        // The database: no trace in any table.
        let text = dump(&s).await;
        assert_eq!(hits(&text), Vec::<&str>::new(), "{b}: found in the dump");
        if s.store.backend() == Backend::Sqlite {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(s.store.writer()).await.unwrap();
            let db = s.url.trim_start_matches("sqlite://").split('?').next().unwrap().to_owned();
            for file in [db.clone(), format!("{db}-wal")] {
                let raw = String::from_utf8_lossy(&std::fs::read(&file).unwrap_or_default()).to_string();
                assert_eq!(hits(&raw), Vec::<&str>::new(), "{b}: found in the raw file {file}");
            }
        }
        // The media store: no object of theirs; nothing left mentions them.
        let root = s.media.root().to_owned();
        for path in files_under(&root).iter().filter(|p| !p.starts_with(root.join(".keys"))) {
            let object = path.strip_prefix(&root).unwrap().to_str().unwrap();
            assert!(!object.contains(&id), "{b}: {object} is left");
            let plain = s.media.get(object).await.unwrap();
            assert_eq!(hits(&String::from_utf8_lossy(&plain)), Vec::<&str>::new(), "{b}: in {object}");
        }

        // The audit trail keeps the erasure, and the chain still verifies.
        let audit: Vec<Value> =
            s.http.get(s.at("/audit?limit=1000")).bearer_auth(&supervisor).send().await.unwrap().json().await.unwrap();
        let erased = audit.iter().find(|e| e["action"] == "applicant.erased").expect("the erasure is audited");
        assert_eq!(erased["subject"], format!("applicant:{id}"), "{b}");
        assert_eq!(hits(&erased.to_string()), Vec::<&str>::new(), "{b}");
        let res = s.http.get(s.at("/audit/verify")).bearer_auth(&supervisor).send().await.unwrap();
        assert_eq!(res.status(), 200, "{b}");
        // The client hears of it.
        for _ in 0..100 {
            if received.lock().unwrap().iter().any(|b| b.contains("applicantDeleted")) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let bodies = received.lock().unwrap().clone();
        assert!(bodies.iter().any(|b| b.contains("applicantDeleted") && b.contains(&id)), "{b}: {bodies:?}");
        assert_eq!(hits(&bodies.join("\n")), Vec::<&str>::new(), "{b}: webhooks carry no personal data");
    }
}
