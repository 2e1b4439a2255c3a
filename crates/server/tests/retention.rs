//! Retention and minors, on SQLite and PostgreSQL: an applicant is erased once their tenant's
//! retention time has passed since the relationship ended (or, for someone who never became a
//! customer, since their last change), and not before; a child without a parent's consent is
//! not kept at all, with consent they are.

mod common;

use common::{error_of, upload_passport, TestServer};
use identdesk_domain::Role;
use identdesk_server::store::now_ms;
use serde_json::{json, Value};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

async fn create(s: &TestServer, key: &str, last: &str, dob: &str, consent: bool) -> reqwest::Response {
    s.http
        .post(s.at("/applicants"))
        .header("X-Api-Key", key)
        .json(&json!({"externalUserId": last, "info": {"firstName": "Ruth", "lastName": last, "dob": dob},
            "parentalConsent": consent}))
        .send()
        .await
        .unwrap()
}

async fn exists(s: &TestServer, key: &str, id: &str) -> bool {
    s.http.get(s.at(&format!("/applicants/{id}"))).header("X-Api-Key", key).send().await.unwrap().status() == 200
}

#[tokio::test]
async fn applicants_are_erased_when_their_time_is_up_and_children_need_consent() {
    for s in TestServer::all().await {
        let b = s.backend;
        let key = s.api_key().await;
        s.store.set_data_protection(&s.tenant_id, 365, 18).await.unwrap();
        assert!(s.store.set_data_protection(&s.tenant_id, 0, 18).await.is_err(), "{b}: no zero retention");

        // Three applicants: an approved customer whose relationship ended 400 days ago, one
        // whose relationship ended 100 days ago, and one rejected 400 days ago.
        let mut ids = Vec::new();
        for last in ["Ended", "Recent", "Rejected"] {
            let res = create(&s, &key, last, "1980-01-01", false).await;
            assert_eq!(res.status(), 201, "{b}");
            let id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
            upload_passport(&s, &key, &id, common::video::png(), None).await;
            ids.push(id);
        }
        let set = |sql: &'static str, id: String, at: i64| {
            let store = s.store.clone();
            async move { sqlx::query(sql).bind(at).bind(id).execute(store.writer()).await.unwrap() }
        };
        let long_ago = now_ms() - 400 * DAY_MS;
        for id in &ids[..2] {
            set(
                "UPDATE applicants SET review_answer = 'GREEN', updated_at_ms = $1 WHERE id = $2",
                id.clone(),
                long_ago,
            )
            .await;
        }
        let res = s
            .http
            .post(s.at(&format!("/applicants/{}/relationship-end", ids[0])))
            .header("X-Api-Key", &key)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 204, "{b}");
        set("UPDATE applicants SET relationship_ended_at_ms = $1 WHERE id = $2", ids[0].clone(), long_ago).await;
        set(
            "UPDATE applicants SET relationship_ended_at_ms = $1 WHERE id = $2",
            ids[1].clone(),
            now_ms() - 100 * DAY_MS,
        )
        .await;
        set("UPDATE applicants SET review_answer = 'RED', updated_at_ms = $1 WHERE id = $2", ids[2].clone(), long_ago)
            .await;

        let erased = identdesk_server::erasure::erase_expired(&s.store, &s.media, now_ms()).await.unwrap();
        assert_eq!(erased, 2, "{b}");
        assert!(!exists(&s, &key, &ids[0]).await, "{b}: relationship ended 400 days ago: erased");
        assert!(exists(&s, &key, &ids[1]).await, "{b}: ended 100 days ago: kept");
        assert!(!exists(&s, &key, &ids[2]).await, "{b}: rejected 400 days ago: erased");
        assert!(common::files_under(&s.media.root().join(&s.tenant_id).join(&ids[0])).is_empty(), "{b}: media gone");
        let supervisor = s.staff("sue@acme.test", Role::Supervisor).await;
        let audit: Vec<Value> =
            s.http.get(s.at("/audit?limit=1000")).bearer_auth(&supervisor).send().await.unwrap().json().await.unwrap();
        let reasons: Vec<&Value> =
            audit.iter().filter(|e| e["action"] == "applicant.erased").map(|e| &e["detail"]).collect();
        assert_eq!(reasons.len(), 2, "{b}");
        assert!(reasons.iter().all(|d| d.to_string().contains("retention")), "{b}: {reasons:?}");

        // A ten-year-old: refused and not stored without consent; kept with it.
        let ten = format!("{}-06-01", 1970 + (now_ms() / (365 * DAY_MS)) - 10);
        let before = s.count("applicants").await;
        let res = create(&s, &key, "Child", &ten, false).await;
        assert_eq!(error_of(res).await, (422, "MINOR_WITHOUT_CONSENT".into()), "{b}");
        assert_eq!(s.count("applicants").await, before, "{b}: nothing stored");
        let audit: Vec<Value> =
            s.http.get(s.at("/audit?limit=1000")).bearer_auth(&supervisor).send().await.unwrap().json().await.unwrap();
        let refused = audit.iter().find(|e| e["action"] == "applicant.refused_minor").expect("the refusal is audited");
        assert!(!refused.to_string().contains("Ruth") && !refused.to_string().contains(&ten), "{b}: {refused}");
        let res = create(&s, &key, "Child", &ten, true).await;
        assert_eq!(res.status(), 201, "{b}: with a parent's consent on record");
    }
}

/// Uploads a passport whose MRZ gives `dob` (YYMMDD) and submits the applicant.
async fn submit_with_passport_born(s: &TestServer, key: &str, id: &str, last: &str, dob: &str) {
    let mrz = identdesk_checks::mrz::compose_td3(&last.to_uppercase(), "RUTH", "NX5050505", "NLD", dob, "340101");
    let form = reqwest::multipart::Form::new()
        .text("type", "PASSPORT")
        .text("side", "FRONT")
        .text("country", "NLD")
        .text("mrz", mrz)
        .part("file", reqwest::multipart::Part::bytes(common::video::png()).file_name("passport.png"));
    let url = s.at(&format!("/applicants/{id}/documents"));
    let res = s.http.post(url).header("X-Api-Key", key).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), 201, "{}", s.backend);
    let res = s.http.post(s.at(&format!("/applicants/{id}/submit"))).header("X-Api-Key", key).send().await.unwrap();
    assert!(res.status().is_success(), "{}", s.backend);
}

#[tokio::test]
async fn a_child_found_only_on_the_document_is_erased_unless_a_parent_consented() {
    for s in TestServer::all().await {
        let b = s.backend;
        let key = s.api_key().await;
        let supervisor = s.staff("sue@acme.test", Role::Supervisor).await;
        // The profile says adult; the passport's MRZ says ten years old.
        let year = 1970 + now_ms() / (365 * DAY_MS) - 10;
        let mrz_dob = format!("{:02}0601", year % 100);
        let mut ids = Vec::new();
        for (last, consent) in [("Kid", false), ("Kidwithconsent", true)] {
            let created: Value = create(&s, &key, last, "1980-01-01", consent).await.json().await.unwrap();
            let id = created["id"].as_str().unwrap().to_owned();
            submit_with_passport_born(&s, &key, &id, last, &mrz_dob).await;
            ids.push(id);
        }
        // The checks run on their own; the child without consent is gone when they finish.
        let mut gone = false;
        for _ in 0..300 {
            if !exists(&s, &key, &ids[0]).await {
                gone = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(gone, "{b}: the child was not erased");
        let kept = s.checked(&key, &ids[1]).await;
        assert_ne!(kept["status"], "pending", "{b}: checked and kept with a parent's consent");
        let audit: Vec<Value> =
            s.http.get(s.at("/audit?limit=1000")).bearer_auth(&supervisor).send().await.unwrap().json().await.unwrap();
        let erased = audit.iter().find(|e| e["action"] == "applicant.erased").expect("the erasure is audited");
        assert_eq!(erased["subject"], format!("applicant:{}", ids[0]), "{b}");
        assert!(erased["detail"].as_str().unwrap().contains("minor"), "{b}: {erased}");
    }
}
