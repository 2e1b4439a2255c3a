//! Bad input gets a clear error and loses nothing: one test per kind of bad request, each
//! asserting the status, the code, and that nothing was written.

mod common;

use common::{error_of, TestServer};
use identdesk_domain::Role;
use identdesk_server::api::Limits;
use serde_json::{json, Value};

/// What the tables and the media folder hold: compared before and after a refused request.
async fn snapshot(s: &TestServer) -> (i64, i64, i64, i64, i64, usize) {
    let files = walk(s.media.root());
    (
        s.count("decisions").await,
        s.count("audit_events").await,
        s.count("documents").await,
        s.count("applicants").await,
        s.count("cases WHERE state = 'decided'").await,
        files,
    )
}

fn walk(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| if e.path().is_dir() { walk(&e.path()) } else { 1 }).sum())
        .unwrap_or(0)
}

async fn claim(s: &TestServer, token: &str) -> Value {
    let res = s.http.post(s.at("/cases/claim")).bearer_auth(token).send().await.unwrap();
    assert_eq!(res.status(), 200, "{}", s.backend);
    res.json().await.unwrap()
}

async fn decide(s: &TestServer, token: &str, case_id: &str, key: &str, body: Value) -> reqwest::Response {
    s.http
        .post(s.at(&format!("/cases/{case_id}/decision")))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn malformed_or_mistyped_json_is_invalid_body_and_writes_nothing() {
    for s in TestServer::all().await {
        s.queue_cases(1).await;
        let token = s.staff("ana@acme.test", Role::Reviewer).await;
        let case = claim(&s, &token).await;
        let id = case["id"].as_str().unwrap();
        let before = snapshot(&s).await;
        let bodies = [
            "{\"answer\": \"GREEN\", ",                      // cut off
            "{\"answer\": \"BLUE\", \"version\": 2}",        // unknown answer
            "{\"answer\": \"GREEN\", \"version\": \"two\"}", // wrong type
            "{\"answer\": \"RED\", \"rejectType\": \"FINAL\", \"labels\": [\"NO_SUCH_LABEL\"], \"version\": 2}",
            "{\"answer\": \"GREEN\", \"version\": 2, \"extra\": 1}", // unknown field
            "[]",
        ];
        for body in bodies {
            let res = s
                .http
                .post(s.at(&format!("/cases/{id}/decision")))
                .bearer_auth(&token)
                .header("Idempotency-Key", "k1")
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(error_of(res).await, (400, "INVALID_BODY".into()), "{}: {body}", s.backend);
        }
        let res = s.http.post(s.at("/auth/login")).header("content-type", "text/plain").body("x").send().await.unwrap();
        assert_eq!(error_of(res).await, (415, "UNSUPPORTED_MEDIA_TYPE".into()), "{}", s.backend);
        let res = s.http.get(s.at("/cases?limit=abc")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(error_of(res).await, (400, "INVALID_QUERY".into()), "{}", s.backend);
        assert_eq!(snapshot(&s).await, before, "{}: nothing written", s.backend);
    }
}

#[tokio::test]
async fn a_decision_that_breaks_the_rules_is_invalid_decision() {
    for s in TestServer::all().await {
        s.queue_cases(1).await;
        let token = s.staff("ana@acme.test", Role::Reviewer).await;
        let case = claim(&s, &token).await;
        let id = case["id"].as_str().unwrap();
        let before = snapshot(&s).await;
        for body in [
            json!({"answer": "RED", "labels": ["FORGERY"], "version": case["version"]}),
            json!({"answer": "RED", "rejectType": "RETRY", "labels": [], "version": case["version"]}),
            json!({"answer": "GREEN", "rejectType": "FINAL", "version": case["version"]}),
        ] {
            let res = decide(&s, &token, id, "k-rule", body.clone()).await;
            assert_eq!(error_of(res).await, (422, "INVALID_DECISION".into()), "{}: {body}", s.backend);
        }
        let res = s
            .http
            .post(s.at(&format!("/cases/{id}/decision")))
            .bearer_auth(&token)
            .json(&json!({"answer": "GREEN", "version": case["version"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(error_of(res).await, (400, "IDEMPOTENCY_KEY_REQUIRED".into()), "{}", s.backend);
        assert_eq!(snapshot(&s).await, before, "{}: nothing written", s.backend);
    }
}

#[tokio::test]
async fn unknown_ids_are_not_found() {
    for s in TestServer::all().await {
        let token = s.staff("ana@acme.test", Role::Reviewer).await;
        let key = s.api_key().await;
        let before = snapshot(&s).await;
        let res =
            s.http.get(s.at("/cases/00000000-0000-0000-0000-000000000000")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(error_of(res).await, (404, "CASE_NOT_FOUND".into()), "{}", s.backend);
        let res = decide(&s, &token, "no-such-case", "k", json!({"answer": "GREEN", "version": 1})).await;
        assert_eq!(error_of(res).await, (404, "CASE_NOT_FOUND".into()), "{}", s.backend);
        let res = s.http.get(s.at("/applicants/nobody")).header("X-Api-Key", &key).send().await.unwrap();
        assert_eq!(error_of(res).await, (404, "APPLICANT_NOT_FOUND".into()), "{}", s.backend);
        let res = s.http.get(s.at("/no/such/route")).send().await.unwrap();
        assert_eq!(error_of(res).await, (404, "NOT_FOUND".into()), "{}", s.backend);
        assert_eq!(snapshot(&s).await, before, "{}: nothing written", s.backend);
    }
}

#[tokio::test]
async fn deciding_without_the_lease_or_on_a_stale_version_is_a_conflict() {
    for s in TestServer::all().await {
        s.queue_cases(2).await;
        let ana = s.staff("ana@acme.test", Role::Reviewer).await;
        let ben = s.staff("ben@acme.test", Role::Reviewer).await;
        let case = claim(&s, &ana).await;
        let id = case["id"].as_str().unwrap();
        let version = case["version"].as_i64().unwrap();
        let before = snapshot(&s).await;

        // Ben never claimed it.
        let res = decide(&s, &ben, id, "b1", json!({"answer": "GREEN", "version": version})).await;
        assert_eq!(error_of(res).await, (409, "LEASE_NOT_HELD".into()), "{}", s.backend);
        // Ana decides on a version she did not see.
        let res = decide(&s, &ana, id, "a1", json!({"answer": "GREEN", "version": version - 1})).await;
        assert_eq!(error_of(res).await, (409, "VERSION_CONFLICT".into()), "{}", s.backend);
        // A queued case nobody holds.
        let other = s.http.get(s.at("/cases?state=queued")).bearer_auth(&ana).send().await.unwrap();
        let other: Value = other.json().await.unwrap();
        let other_id = other["items"][0]["id"].as_str().unwrap();
        let res = decide(&s, &ana, other_id, "a2", json!({"answer": "GREEN", "version": 1})).await;
        assert_eq!(error_of(res).await, (409, "LEASE_NOT_HELD".into()), "{}", s.backend);
        // Ben cannot release Ana's case either.
        let res = s.http.post(s.at(&format!("/cases/{id}/release"))).bearer_auth(&ben).send().await.unwrap();
        assert_eq!(error_of(res).await, (409, "LEASE_NOT_HELD".into()), "{}", s.backend);
        assert_eq!(snapshot(&s).await, before, "{}: nothing written", s.backend);
    }
}

#[tokio::test]
async fn an_expired_lease_cannot_decide_and_the_case_returns_to_the_queue() {
    for s in TestServer::all_with(Limits { lease_ms: 300, ..Limits::default() }).await {
        s.queue_cases(1).await;
        let ana = s.staff("ana@acme.test", Role::Reviewer).await;
        let case = claim(&s, &ana).await;
        let id = case["id"].as_str().unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        let before = snapshot(&s).await;
        let res = decide(&s, &ana, id, "late", json!({"answer": "GREEN", "version": case["version"]})).await;
        assert_eq!(error_of(res).await, (409, "LEASE_EXPIRED".into()), "{}", s.backend);
        assert_eq!(snapshot(&s).await, before, "{}: nothing written", s.backend);
        assert_eq!(s.store.requeue_expired().await.unwrap(), 1, "{}", s.backend);
        let back: Value =
            s.http.get(s.at(&format!("/cases/{id}"))).bearer_auth(&ana).send().await.unwrap().json().await.unwrap();
        assert_eq!(back["case"]["state"], "queued", "{}", s.backend);
        assert_eq!(back["case"]["holderId"], Value::Null, "{}", s.backend);
    }
}

#[tokio::test]
async fn a_decided_case_stays_decided_and_a_replayed_key_returns_the_first_answer() {
    for s in TestServer::all().await {
        s.queue_cases(1).await;
        let ana = s.staff("ana@acme.test", Role::Reviewer).await;
        let case = claim(&s, &ana).await;
        let id = case["id"].as_str().unwrap();
        let body = json!({"answer": "RED", "rejectType": "RETRY", "labels": ["BAD_SELFIE"], "moderationComment": "Retake", "version": case["version"]});
        let first = decide(&s, &ana, id, "decision-1", body.clone()).await;
        assert_eq!(first.status(), 201, "{}", s.backend);
        let first: Value = first.json().await.unwrap();
        let after_first = snapshot(&s).await;

        // The same key again: the first answer, byte for byte, and no second decision.
        let replay = decide(&s, &ana, id, "decision-1", body.clone()).await;
        assert_eq!(replay.status(), 201, "{}", s.backend);
        assert_eq!(replay.headers().get("idempotent-replayed").unwrap(), "true");
        assert_eq!(replay.json::<Value>().await.unwrap(), first, "{}", s.backend);
        // A new key on the decided case.
        let again = decide(
            &s,
            &ana,
            id,
            "decision-2",
            json!({"answer": "GREEN", "version": first["caseVersion"].as_i64().unwrap() + 1}),
        )
        .await;
        assert_eq!(error_of(again).await, (409, "CASE_ALREADY_DECIDED".into()), "{}", s.backend);
        // The first key with a different request.
        let reused = decide(&s, &ana, id, "decision-1", json!({"answer": "GREEN", "version": case["version"]})).await;
        assert_eq!(error_of(reused).await, (422, "IDEMPOTENCY_KEY_REUSED".into()), "{}", s.backend);
        assert_eq!(snapshot(&s).await, after_first, "{}: nothing more written", s.backend);
        assert_eq!(s.count("decisions").await, 1, "{}", s.backend);
    }
}

#[tokio::test]
async fn concurrent_replays_of_one_key_make_one_decision() {
    for s in TestServer::all().await {
        s.queue_cases(1).await;
        let ana = s.staff("ana@acme.test", Role::Reviewer).await;
        let case = claim(&s, &ana).await;
        let id = case["id"].as_str().unwrap().to_owned();
        let body = json!({"answer": "GREEN", "version": case["version"]});
        let sends = (0..8).map(|_| decide(&s, &ana, &id, "same-key", body.clone()));
        let answers = futures_util::future::join_all(sends).await;
        let mut ids = std::collections::HashSet::new();
        for res in answers {
            assert_eq!(res.status(), 201, "{}", s.backend);
            ids.insert(res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned());
        }
        assert_eq!(ids.len(), 1, "{}: one decision id for all", s.backend);
        assert_eq!(s.count("decisions").await, 1, "{}", s.backend);
    }
}

#[tokio::test]
async fn a_wrong_role_is_forbidden_and_no_sign_in_is_unauthenticated() {
    for s in TestServer::all().await {
        s.queue_cases(1).await;
        let admin = s.staff("root@acme.test", Role::Admin).await;
        let reviewer = s.staff("ana@acme.test", Role::Reviewer).await;
        let operator = s.staff("otto@acme.test", Role::VideoOperator).await;
        let before = snapshot(&s).await;
        for (token, method, path) in [
            (&admin, "POST", "/cases/claim"),
            (&admin, "GET", "/cases"),
            (&reviewer, "GET", "/audit"),
            (&reviewer, "GET", "/audit/verify"),
            (&operator, "GET", "/audit"),
            (&reviewer, "POST", "/cases/claim?kind=video_ident"),
            (&operator, "POST", "/cases/claim?kind=four_eyes"),
            (&reviewer, "PUT", "/review-policy"),
        ] {
            let req = match method {
                "GET" => s.http.get(s.at(path)),
                "PUT" => s.http.put(s.at(path)).json(&identdesk_domain::ReviewPolicy::default()),
                _ => s.http.post(s.at(path)),
            };
            let res = req.bearer_auth(token).send().await.unwrap();
            assert_eq!(error_of(res).await, (403, "FORBIDDEN".into()), "{}: {method} {path}", s.backend);
        }
        // Staff tokens are not API keys, and API keys are not staff tokens.
        let res = s
            .http
            .post(s.at("/applicants"))
            .bearer_auth(&reviewer)
            .json(&json!({"info": {"firstName": "A", "lastName": "B"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(error_of(res).await, (401, "UNAUTHENTICATED".into()), "{}", s.backend);
        let key = s.api_key().await;
        let before_key = snapshot(&s).await;
        let res = s.http.get(s.at("/cases")).header("X-Api-Key", &key).send().await.unwrap();
        assert_eq!(error_of(res).await, (401, "UNAUTHENTICATED".into()), "{}", s.backend);
        let res = s.http.get(s.at("/cases")).bearer_auth("idt_forged").send().await.unwrap();
        assert_eq!(error_of(res).await, (401, "UNAUTHENTICATED".into()), "{}", s.backend);
        let res = s
            .http
            .post(s.at("/auth/login"))
            .json(&json!({"email": "ana@acme.test", "password": "wrong"}))
            .send()
            .await
            .unwrap();
        assert_eq!(error_of(res).await, (401, "INVALID_CREDENTIALS".into()), "{}", s.backend);
        assert_eq!(s.count("decisions").await, before.0, "{}", s.backend);
        // Only the failed sign-in is audited.
        assert_eq!(s.count("audit_events").await, before_key.1 + 1, "{}", s.backend);
    }
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

async fn upload(s: &TestServer, key: &str, applicant: &str, bytes: Vec<u8>, file_name: &str) -> reqwest::Response {
    let form = reqwest::multipart::Form::new()
        .text("type", "PASSPORT")
        .text("country", "DEU")
        .part("file", reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_owned()));
    s.http
        .post(s.at(&format!("/applicants/{applicant}/documents")))
        .header("X-Api-Key", key)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn oversized_and_non_image_uploads_are_refused_and_leave_nothing() {
    for s in TestServer::all_with(Limits { max_upload_bytes: 64 * 1024, ..Limits::default() }).await {
        let key = s.api_key().await;
        let res = s
            .http
            .post(s.at("/applicants"))
            .header("X-Api-Key", &key)
            .json(&json!({"externalUserId": "u-1", "info": {"firstName": "Ana", "lastName": "Lima"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{}", s.backend);
        let applicant: Value = res.json().await.unwrap();
        let id = applicant["id"].as_str().unwrap();
        let before = snapshot(&s).await;

        let big: Vec<u8> = (0..200 * 1024).map(|i| (i * 7 % 251) as u8).collect();
        assert_eq!(
            error_of(upload(&s, &key, id, big, "big.png").await).await,
            (413, "PAYLOAD_TOO_LARGE".into()),
            "{}",
            s.backend
        );
        let text = b"this is a text file pretending to be a photo".to_vec();
        assert_eq!(
            error_of(upload(&s, &key, id, text, "id.png").await).await,
            (422, "NOT_AN_IMAGE".into()),
            "{}",
            s.backend
        );
        let mut truncated = png(300, 200);
        truncated.truncate(truncated.len() / 2);
        assert_eq!(
            error_of(upload(&s, &key, id, truncated, "cut.png").await).await,
            (422, "NOT_AN_IMAGE".into()),
            "{}",
            s.backend
        );
        let gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;".to_vec();
        assert_eq!(
            error_of(upload(&s, &key, id, gif, "x.gif").await).await,
            (415, "UNSUPPORTED_MEDIA_TYPE".into()),
            "{}",
            s.backend
        );
        let res = s
            .http
            .post(s.at(&format!("/applicants/{id}/documents")))
            .header("X-Api-Key", &key)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(error_of(res).await, (415, "UNSUPPORTED_MEDIA_TYPE".into()), "{}", s.backend);
        assert_eq!(snapshot(&s).await, before, "{}: no row and no file", s.backend);

        // A real image goes through, with its facts measured.
        let res = upload(&s, &key, id, png(300, 200), "id.png").await;
        assert_eq!(res.status(), 201, "{}", s.backend);
        let doc: Value = res.json().await.unwrap();
        assert_eq!((doc["width"].as_i64(), doc["height"].as_i64()), (Some(300), Some(200)), "{}", s.backend);
        assert_eq!(s.count("documents").await, before.2 + 1, "{}", s.backend);
    }
}

#[tokio::test]
async fn a_key_reused_on_another_case_is_refused_and_writes_nothing() {
    for s in TestServer::all().await {
        s.queue_cases(2).await;
        let ana = s.staff("ana@acme.test", Role::Reviewer).await;
        let first = claim(&s, &ana).await;
        let res = decide(
            &s,
            &ana,
            first["id"].as_str().unwrap(),
            "k-once",
            json!({"answer": "GREEN", "version": first["version"]}),
        )
        .await;
        assert_eq!(res.status(), 201, "{}", s.backend);
        let second = claim(&s, &ana).await;
        assert_ne!(second["id"], first["id"], "{}", s.backend);
        let before = snapshot(&s).await;
        let body = json!({"answer": "GREEN", "version": second["version"]});
        let res = decide(&s, &ana, second["id"].as_str().unwrap(), "k-once", body).await;
        assert_eq!(error_of(res).await, (422, "IDEMPOTENCY_KEY_REUSED".into()), "{}", s.backend);
        assert_eq!(snapshot(&s).await, before, "{}: nothing written", s.backend);
        let still: Value = s
            .http
            .get(s.at(&format!("/cases/{}", second["id"].as_str().unwrap())))
            .bearer_auth(&ana)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(still["case"]["state"], "claimed", "{}: the case stays with its reviewer", s.backend);
    }
}
