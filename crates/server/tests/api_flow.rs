//! The whole path through the API, as client systems and staff use it: intake, queue, review,
//! change feed and push, tenant isolation, sign-out, and the OpenAPI document.

mod common;

use common::{error_of, TestServer};
use futures_util::StreamExt;
use identdesk_domain::{Region, Role};
use serde_json::{json, Value};

fn png() -> Vec<u8> {
    let img = image::RgbImage::from_fn(320, 200, |x, y| image::Rgb([(x % 200) as u8, (y % 200) as u8, 120]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

async fn json_of(res: reqwest::Response, status: u16) -> Value {
    let got = res.status().as_u16();
    let body = res.text().await.unwrap();
    assert_eq!(got, status, "{body}");
    serde_json::from_str(&body).unwrap()
}

#[tokio::test]
async fn a_client_submits_an_applicant_and_a_reviewer_decides_it() {
    for s in TestServer::all().await {
        let b = s.backend;
        let key = s.api_key().await;
        let reviewer = s.staff("ana@acme.test", Role::Reviewer).await;

        // The client system creates the applicant, uploads the ID and submits.
        let res = s
            .http
            .post(s.at("/applicants"))
            .header("X-Api-Key", &key)
            .json(&json!({"externalUserId": "crm-42", "info": {"firstName": "Zofia", "lastName": "Nowak", "dob": "1990-04-12", "nationality": "POL"}}))
            .send()
            .await
            .unwrap();
        let applicant = json_of(res, 201).await;
        let id = applicant["id"].as_str().unwrap().to_owned();
        assert_eq!(applicant["status"], "init", "{b}");
        // Submitting without documents is refused.
        let res =
            s.http.post(s.at(&format!("/applicants/{id}/submit"))).header("X-Api-Key", &key).send().await.unwrap();
        assert_eq!(error_of(res).await, (409, "INVALID_STATE".into()), "{b}");
        let image = png();
        let form = reqwest::multipart::Form::new()
            .text("type", "ID_CARD")
            .text("side", "FRONT")
            .text("country", "POL")
            .part("file", reqwest::multipart::Part::bytes(image.clone()).file_name("front.png"));
        let res = s
            .http
            .post(s.at(&format!("/applicants/{id}/documents")))
            .header("X-Api-Key", &key)
            .multipart(form)
            .send()
            .await
            .unwrap();
        let doc = json_of(res, 201).await;
        let res =
            s.http.post(s.at(&format!("/applicants/{id}/submit"))).header("X-Api-Key", &key).send().await.unwrap();
        assert_eq!(json_of(res, 200).await["status"], "pending", "{b}");
        // The checks cannot decide on an identity card without an MRZ or its back side: a human does.
        assert_eq!(s.checked(&key, &id).await["status"], "queued", "{b}");

        // The reviewer gets it from the queue and opens it.
        let case = json_of(s.http.post(s.at("/cases/claim")).bearer_auth(&reviewer).send().await.unwrap(), 200).await;
        assert_eq!(case["applicantId"], id.as_str(), "{b}");
        assert_eq!(case["state"], "claimed", "{b}");
        // Claiming again returns the case already held, not a second one.
        let again = json_of(s.http.post(s.at("/cases/claim")).bearer_auth(&reviewer).send().await.unwrap(), 200).await;
        assert_eq!(again["id"], case["id"], "{b}");
        let case_id = case["id"].as_str().unwrap().to_owned();
        let detail =
            json_of(s.http.get(s.at(&format!("/cases/{case_id}"))).bearer_auth(&reviewer).send().await.unwrap(), 200)
                .await;
        assert_eq!(detail["applicant"]["info"]["lastName"], "Nowak", "{b}");
        // The case's history: its own events and its applicant's, in order.
        let history: Vec<&str> =
            detail["history"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        for a in [
            "applicant.created",
            "document.added",
            "applicant.submitted",
            "applicant.checked",
            "case.created",
            "case.claimed",
        ] {
            assert!(history.contains(&a), "{b}: {a} in the case history {history:?}");
        }
        let seqs: Vec<i64> = detail["history"].as_array().unwrap().iter().map(|e| e["seq"].as_i64().unwrap()).collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{b}: oldest first");
        assert_eq!(detail["documents"][0]["sha256"], doc["sha256"], "{b}");
        let bytes = s
            .http
            .get(s.at(&format!("/documents/{}/content", doc["id"].as_str().unwrap())))
            .bearer_auth(&reviewer)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(bytes.as_ref(), image.as_slice(), "{b}: the stored document is the uploaded one");

        // Renewing keeps the version; the decision names it.
        let renewed = json_of(
            s.http.post(s.at(&format!("/cases/{case_id}/renew"))).bearer_auth(&reviewer).send().await.unwrap(),
            200,
        )
        .await;
        assert!(renewed["leaseUntilMs"].as_i64() >= case["leaseUntilMs"].as_i64(), "{b}");
        let res = s
            .http
            .post(s.at(&format!("/cases/{case_id}/decision")))
            .bearer_auth(&reviewer)
            .header("Idempotency-Key", "d-1")
            .json(&json!({"answer": "RED", "rejectType": "RETRY", "labels": ["BACK_SIDE_MISSING", "LOW_QUALITY"],
                          "moderationComment": "Please upload the back side.", "clientComment": "Back side missing.",
                          "internalNote": "Front looks fine.", "version": renewed["version"]}))
            .send()
            .await
            .unwrap();
        let decision = json_of(res, 201).await;
        assert_eq!(decision["labels"], json!(["BACK_SIDE_MISSING", "LOW_QUALITY"]), "{b}");
        assert_eq!(decision["evidenceHash"].as_str().unwrap().len(), 64, "{b}");

        // The client sees the result; staff see the decision on the case.
        let res = s.http.get(s.at(&format!("/applicants/{id}"))).header("X-Api-Key", &key).send().await.unwrap();
        let done = json_of(res, 200).await;
        assert_eq!(
            (done["status"].as_str(), done["reviewAnswer"].as_str(), done["rejectType"].as_str()),
            (Some("completed"), Some("RED"), Some("RETRY")),
            "{b}"
        );
        let detail =
            json_of(s.http.get(s.at(&format!("/cases/{case_id}"))).bearer_auth(&reviewer).send().await.unwrap(), 200)
                .await;
        assert_eq!(detail["decision"]["moderationComment"], "Please upload the back side.", "{b}");
        assert_eq!(detail["case"]["state"], "decided", "{b}");

        // Views of personal data are in the audit trail.
        let sup = s.staff("sue@acme.test", Role::Supervisor).await;
        let events: Vec<Value> =
            json_of(s.http.get(s.at("/audit?limit=1000")).bearer_auth(&sup).send().await.unwrap(), 200)
                .await
                .as_array()
                .unwrap()
                .clone();
        let actions: Vec<&str> = events.iter().map(|e| e["action"].as_str().unwrap()).collect();
        for a in [
            "applicant.created",
            "document.added",
            "applicant.submitted",
            "case.created",
            "case.claimed",
            "case.viewed",
            "document.viewed",
            "case.lease_renewed",
            "case.decided",
        ] {
            assert!(actions.contains(&a), "{b}: {a} audited in {actions:?}");
        }
        assert!(
            !events.iter().any(|e| e["detail"].as_str().unwrap().contains("Nowak")),
            "{b}: no personal data in audit details"
        );
    }
}

#[tokio::test]
async fn the_change_feed_pages_every_change_in_order_and_push_announces_it() {
    for s in TestServer::all().await {
        let b = s.backend;
        s.queue_cases(5).await;
        let ana = s.staff("ana@acme.test", Role::Reviewer).await;

        // A console connects to the push channel (token as query parameter, as browsers do).
        let ws_url = format!("{}/events?token={ana}", s.base.replacen("http", "ws", 1));
        let (mut ws, _) = tokio_tungstenite::connect_async(ws_url).await.unwrap();
        let first: Value = serde_json::from_str(ws.next().await.unwrap().unwrap().to_text().unwrap()).unwrap();
        let start = first["cursor"].as_i64().unwrap();

        let mut decided = Vec::new();
        for i in 0..3 {
            let case = json_of(s.http.post(s.at("/cases/claim")).bearer_auth(&ana).send().await.unwrap(), 200).await;
            let res = s
                .http
                .post(s.at(&format!("/cases/{}/decision", case["id"].as_str().unwrap())))
                .bearer_auth(&ana)
                .header("Idempotency-Key", format!("k{i}"))
                .json(&json!({"answer": "GREEN", "version": case["version"]}))
                .send()
                .await
                .unwrap();
            decided.push(json_of(res, 201).await);
        }
        // Push tells of the newest cursor (several moves may come as one).
        let newest = decided.last().unwrap()["changeSeq"].as_i64().unwrap();
        let mut seen = start;
        while seen < newest {
            let msg = tokio::time::timeout(std::time::Duration::from_secs(5), ws.next())
                .await
                .expect("push arrives")
                .unwrap()
                .unwrap();
            seen = serde_json::from_str::<Value>(msg.to_text().unwrap()).unwrap()["cursor"].as_i64().unwrap();
        }
        assert_eq!(seen, newest, "{b}");

        // Paging through the feed two at a time sees each case and decision, cursors rising.
        let (mut cursor, mut cases, mut decisions, mut last_seq) = (0i64, 0, 0, 0i64);
        loop {
            let page = json_of(
                s.http.get(s.at(&format!("/sync?cursor={cursor}&limit=2"))).bearer_auth(&ana).send().await.unwrap(),
                200,
            )
            .await;
            for change in page["changes"].as_array().unwrap() {
                let seq = change["seq"].as_i64().unwrap();
                assert!(seq >= last_seq, "{b}: feed in order");
                last_seq = seq;
                match change["entity"].as_str().unwrap() {
                    "case" => cases += 1,
                    "decision" => decisions += 1,
                    other => panic!("{other}"),
                }
            }
            cursor = page["nextCursor"].as_i64().unwrap();
            if !page["hasMore"].as_bool().unwrap() {
                break;
            }
        }
        assert_eq!((cases, decisions), (5, 3), "{b}: every case once in its newest form, every decision");
        assert_eq!(cursor, newest, "{b}");
        let res = s.http.get(s.at("/sync?cursor=-1")).bearer_auth(&ana).send().await.unwrap();
        assert_eq!(error_of(res).await, (400, "INVALID_QUERY".into()), "{b}");
    }
}

#[tokio::test]
async fn tenants_do_not_see_each_other_and_sign_out_ends_the_session() {
    for s in TestServer::all().await {
        let b = s.backend;
        s.queue_cases(1).await;
        let other = s.store.create_tenant("Globex", Region::Us).await.unwrap();
        let ana = s.staff("ana@acme.test", Role::Reviewer).await;
        let mallory = s.staff_in(&other.id, "mallory@globex.test", Role::Supervisor).await;
        let case = json_of(s.http.post(s.at("/cases/claim")).bearer_auth(&ana).send().await.unwrap(), 200).await;
        let case_id = case["id"].as_str().unwrap();

        let res = s.http.get(s.at(&format!("/cases/{case_id}"))).bearer_auth(&mallory).send().await.unwrap();
        assert_eq!(error_of(res).await, (404, "CASE_NOT_FOUND".into()), "{b}");
        let res = s.http.post(s.at(&format!("/cases/{case_id}/release"))).bearer_auth(&mallory).send().await.unwrap();
        assert_eq!(error_of(res).await, (404, "CASE_NOT_FOUND".into()), "{b}");
        let page = json_of(s.http.get(s.at("/cases")).bearer_auth(&mallory).send().await.unwrap(), 200).await;
        assert_eq!(page["total"], 0, "{b}");
        let res = s.http.post(s.at("/cases/claim")).bearer_auth(&mallory).send().await.unwrap();
        assert_eq!(res.status(), 204, "{b}: nothing of Acme's to claim");
        // Each tenant's chain verifies on its own.
        s.store.verify_chain(&other.id).await.unwrap();

        // A supervisor of the same tenant may take the case back from Ana.
        let sue = s.staff("sue@acme.test", Role::Supervisor).await;
        let released = json_of(
            s.http.post(s.at(&format!("/cases/{case_id}/release"))).bearer_auth(&sue).send().await.unwrap(),
            200,
        )
        .await;
        assert_eq!(released["state"], "queued", "{b}");

        // Sign-out: the token stops working at once.
        assert_eq!(s.http.post(s.at("/auth/logout")).bearer_auth(&ana).send().await.unwrap().status(), 204, "{b}");
        let res = s.http.get(s.at("/cases")).bearer_auth(&ana).send().await.unwrap();
        assert_eq!(error_of(res).await, (401, "SESSION_EXPIRED".into()), "{b}");
    }
}

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let s = TestServer::all().await.remove(0);
    let doc = json_of(s.http.get(s.at("/openapi.json")).send().await.unwrap(), 200).await;
    let paths = doc["paths"].as_object().unwrap();
    for (method, path) in [
        ("post", "/api/v1/auth/login"),
        ("post", "/api/v1/auth/logout"),
        ("get", "/api/v1/auth/me"),
        ("post", "/api/v1/applicants"),
        ("get", "/api/v1/applicants/{id}"),
        ("post", "/api/v1/applicants/{id}/documents"),
        ("post", "/api/v1/applicants/{id}/submit"),
        ("get", "/api/v1/cases"),
        ("get", "/api/v1/cases/{id}"),
        ("post", "/api/v1/cases/claim"),
        ("post", "/api/v1/cases/{id}/renew"),
        ("post", "/api/v1/cases/{id}/release"),
        ("post", "/api/v1/cases/{id}/decision"),
        ("get", "/api/v1/documents/{id}/content"),
        ("get", "/api/v1/labels"),
        ("get", "/api/v1/sync"),
        ("get", "/api/v1/events"),
        ("get", "/api/v1/audit"),
        ("get", "/api/v1/audit/verify"),
    ] {
        assert!(paths.get(path).and_then(|p| p.get(method)).is_some(), "{method} {path} is documented");
    }
    let decision = &doc["components"]["schemas"]["DecisionInput"]["properties"];
    assert!(decision.get("rejectType").is_some() && decision.get("moderationComment").is_some(), "camelCase fields");
    let labels = s.staff("ana@acme.test", Role::Reviewer).await;
    let catalogue = json_of(s.http.get(s.at("/labels")).bearer_auth(&labels).send().await.unwrap(), 200).await;
    assert_eq!(catalogue.as_array().unwrap().len(), 60);
}
