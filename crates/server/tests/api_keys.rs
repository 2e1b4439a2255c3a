//! API-key permissions on a real server, SQLite and PostgreSQL: an admin makes a key that may
//! only read; it reads, and everything else it tries is refused (403) and writes nothing.

mod common;

use common::video::new_applicant;
use common::{error_of, TestServer};
use identdesk_domain::Role;
use serde_json::{json, Value};

#[tokio::test]
async fn a_key_does_only_what_its_permissions_allow() {
    for s in TestServer::all().await {
        let b = s.backend;
        let admin = s.staff("ada@acme.test", Role::Admin).await;
        let full = s.api_key().await;
        let applicant = new_applicant(&s, &full, "Keyholder").await;

        let create = |body: Value| s.http.post(s.at("/api-keys")).bearer_auth(&admin).json(&body).send();
        let res = create(json!({"environment": "sandbox", "permissions": ["applicants:read"]})).await.unwrap();
        assert_eq!(res.status(), 201, "{b}");
        let read_only: Value = res.json().await.unwrap();
        let key = read_only["key"].as_str().unwrap().to_owned();
        for bad in [
            json!({"environment": "sandbox", "permissions": []}),
            json!({"environment": "sandbox", "permissions": ["everything"]}),
        ] {
            assert_eq!(error_of(create(bad).await.unwrap()).await.0, 400, "{b}");
        }
        let keys: Value = s.http.get(s.at("/api-keys")).bearer_auth(&admin).send().await.unwrap().json().await.unwrap();
        let listed = keys.as_array().unwrap().iter().find(|k| k["id"] == read_only["id"]).unwrap().clone();
        assert_eq!(listed["permissions"], json!(["applicants:read"]), "{b}");

        let res = s.http.get(s.at(&format!("/applicants/{applicant}"))).header("X-Api-Key", &key).send().await.unwrap();
        assert_eq!(res.status(), 200, "{b}: reading is allowed");
        let before = (s.count("applicants").await, s.count("video_sessions").await);
        let attempts = [
            s.http.post(s.at("/applicants")).json(&json!({"info": {"firstName": "No", "lastName": "Way"}})),
            s.http.post(s.at(&format!("/applicants/{applicant}/submit"))),
            s.http
                .post(s.at(&format!("/applicants/{applicant}/video-ident")))
                .json(&json!({"tanDestination": "+4915100000000"})),
            s.http.get(s.at(&format!("/applicants/{applicant}/export"))),
            s.http.delete(s.at(&format!("/applicants/{applicant}"))),
        ];
        for attempt in attempts {
            let res = attempt.header("X-Api-Key", &key).send().await.unwrap();
            let url = res.url().path().to_owned();
            assert_eq!(error_of(res).await, (403, "FORBIDDEN".into()), "{b}: {url}");
        }
        assert_eq!((s.count("applicants").await, s.count("video_sessions").await), before, "{b}: nothing written");
        // The full key still does all of it.
        let res =
            s.http.delete(s.at(&format!("/applicants/{applicant}"))).header("X-Api-Key", &full).send().await.unwrap();
        assert_eq!(res.status(), 200, "{b}");
    }
}
