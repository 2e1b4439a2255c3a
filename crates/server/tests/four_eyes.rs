//! Four-eyes on a real server, SQLite and PostgreSQL: a decision with a label the tenant names
//! is staged, not given to the applicant; a `four_eyes` case goes to another reviewer; the
//! maker can never check it (403); agreement gives the applicant the decision; a change of the
//! evidence (masking the document) voids the staged decision (409) and sends the applicant back
//! to review; disagreement escalates to a supervisor, whose decision settles it.

mod common;

use common::video::png;
use common::{checked_applicant, error_of, TestServer};
use identdesk_domain::Role;
use serde_json::{json, Value};

/// The people of these tests, signed in.
struct Staff {
    maker: String,
    checker: String,
    third: String,
    supervisor: String,
}

impl Staff {
    async fn sign_in(s: &TestServer) -> Staff {
        Staff {
            maker: s.staff("mia.maker@acme.test", Role::Reviewer).await,
            checker: s.staff("carl.checker@acme.test", Role::Reviewer).await,
            third: s.staff("rosa.third@acme.test", Role::Reviewer).await,
            supervisor: s.staff("sue.supervisor@acme.test", Role::Supervisor).await,
        }
    }
}

async fn get(s: &TestServer, token: &str, path: &str) -> Value {
    let res = s.http.get(s.at(path)).bearer_auth(token).send().await.unwrap();
    assert_eq!(res.status(), 200, "{}: GET {path}", s.backend);
    res.json().await.unwrap()
}

async fn post(s: &TestServer, token: &str, path: &str, body: Value) -> reqwest::Response {
    s.http.post(s.at(path)).bearer_auth(token).json(&body).send().await.unwrap()
}

async fn user_id(s: &TestServer, token: &str) -> String {
    s.store.session_user(token).await.unwrap().id
}

/// A submitted applicant with a passport, checked, whose review case the supervisor hands to
/// `reviewer`; returns (applicant id, case).
async fn review_case_for(s: &TestServer, key: &str, staff: &Staff, reviewer: &str, name: &str) -> (String, Value) {
    let profile = json!({"externalUserId": format!("crm-{name}"),
        "info": {"firstName": name, "lastName": "Example", "dob": "1985-04-12", "nationality": "DEU"}});
    let id = checked_applicant(s, key, profile, png(), "C01X00T47").await;
    let cases = get(s, &staff.supervisor, &format!("/cases?applicantId={id}&kind=review")).await;
    let case_id = cases["items"][0]["id"].as_str().unwrap_or_else(|| panic!("{}: no review case: {cases}", s.backend));
    let res =
        post(s, &staff.supervisor, &format!("/cases/{case_id}/assign"), json!({"userId": user_id(s, reviewer).await}))
            .await;
    assert_eq!(res.status(), 200, "{}", s.backend);
    (id, res.json().await.unwrap())
}

async fn decide(s: &TestServer, token: &str, case: &Value, key: &str, body: Value) -> reqwest::Response {
    let mut body = body;
    body["version"] = case["version"].clone();
    let url = s.at(&format!("/cases/{}/decision", case["id"].as_str().unwrap()));
    s.http.post(url).bearer_auth(token).header("idempotency-key", key).json(&body).send().await.unwrap()
}

fn red(reject_type: &str, labels: &[&str]) -> Value {
    json!({"answer": "RED", "rejectType": reject_type, "labels": labels, "moderationComment": "Rejected."})
}

/// The one open second-look case of the applicant: (four-eyes case, its state).
async fn second_look(s: &TestServer, staff: &Staff, applicant: &str) -> Value {
    let cases =
        get(s, &staff.supervisor, &format!("/cases?applicantId={applicant}&kind=four_eyes&undecided=true")).await;
    assert_eq!(cases["total"], 1, "{}: {cases}", s.backend);
    cases["items"][0].clone()
}

async fn claim_four_eyes(s: &TestServer, token: &str) -> Option<Value> {
    let res = post(s, token, "/cases/claim?kind=four_eyes", json!({})).await;
    match res.status().as_u16() {
        204 => None,
        200 => Some(res.json().await.unwrap()),
        other => panic!("{}: claim answered {other}", s.backend),
    }
}

async fn applicant(s: &TestServer, key: &str, id: &str) -> Value {
    let res = s.http.get(s.at(&format!("/applicants/{id}"))).header("X-Api-Key", key).send().await.unwrap();
    res.json().await.unwrap()
}

async fn actions(s: &TestServer, token: &str) -> Vec<String> {
    let events = get(s, token, "/audit?limit=1000").await;
    events.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn the_maker_never_checks_and_agreement_completes_the_applicant() {
    for s in TestServer::all().await {
        let b = s.backend;
        let key = s.api_key().await;
        let staff = Staff::sign_in(&s).await;
        let (applicant_id, case) = review_case_for(&s, &key, &staff, &staff.maker, "Agnes").await;

        // FORGERY is on the tenant's four-eyes list: the decision is staged.
        let res = decide(&s, &staff.maker, &case, "m-1", red("FINAL", &["FORGERY"])).await;
        assert_eq!(res.status(), 201, "{b}");
        let staged: Value = res.json().await.unwrap();
        assert_eq!(staged["status"], "staged", "{b}");
        let a = applicant(&s, &key, &applicant_id).await;
        assert_eq!((a["status"].as_str(), a["reviewAnswer"].as_str()), (Some("queued"), None), "{b}: no answer yet");

        let four_eyes = second_look(&s, &staff, &applicant_id).await;
        assert_eq!(four_eyes["checksDecisionId"], staged["id"], "{b}");
        assert_eq!(four_eyes["excludedUserIds"], json!([user_id(&s, &staff.maker).await]), "{b}");
        let f_id = four_eyes["id"].as_str().unwrap();

        // The maker is never handed their own check, cannot be assigned it, cannot decide it.
        assert!(claim_four_eyes(&s, &staff.maker).await.is_none(), "{b}: the maker got their own check");
        let res = post(
            &s,
            &staff.supervisor,
            &format!("/cases/{f_id}/assign"),
            json!({"userId": user_id(&s, &staff.maker).await}),
        )
        .await;
        assert_eq!(error_of(res).await, (403, "SELF_CHECK".into()), "{b}");
        let res = decide(&s, &staff.maker, &four_eyes, "m-2", red("FINAL", &["FORGERY"])).await;
        assert_eq!(error_of(res).await, (403, "SELF_CHECK".into()), "{b}");

        // Another reviewer gets it, sees the staged decision, and agrees.
        let claimed = claim_four_eyes(&s, &staff.checker).await.expect("the checker gets the four-eyes case");
        assert_eq!(claimed["id"], four_eyes["id"], "{b}");
        let detail = get(&s, &staff.checker, &format!("/cases/{f_id}")).await;
        assert_eq!(detail["earlierDecisions"][0]["id"], staged["id"], "{b}: the checker sees what the maker decided");
        let res = decide(&s, &staff.checker, &claimed, "c-1", red("FINAL", &["FORGERY", "GRAPHIC_EDITOR"])).await;
        assert_eq!(res.status(), 201, "{b}");

        let a = applicant(&s, &key, &applicant_id).await;
        assert_eq!(
            (a["status"].as_str(), a["reviewAnswer"].as_str(), a["rejectType"].as_str()),
            (Some("completed"), Some("RED"), Some("FINAL")),
            "{b}"
        );
        let review = get(&s, &staff.supervisor, &format!("/cases/{}", case["id"].as_str().unwrap())).await;
        assert_eq!(review["decision"]["status"], "confirmed", "{b}");
        let trail = actions(&s, &staff.supervisor).await;
        for action in ["decision.staged", "decision.confirmed"] {
            assert!(trail.iter().any(|a| a == action), "{b}: {action} missing from {trail:?}");
        }
        let verify = get(&s, &staff.supervisor, "/audit/verify").await;
        assert!(verify["verifiedEvents"].as_i64() > Some(10), "{b}: {verify}");
    }
}

#[tokio::test]
async fn masking_the_evidence_voids_the_staged_decision() {
    for s in TestServer::all().await {
        let b = s.backend;
        let key = s.api_key().await;
        let staff = Staff::sign_in(&s).await;
        let (applicant_id, case) = review_case_for(&s, &key, &staff, &staff.maker, "Bruno").await;
        let res = decide(&s, &staff.maker, &case, "m-1", red("FINAL", &["PEP"])).await;
        assert_eq!(res.status(), 201, "{b}");
        let staged: Value = res.json().await.unwrap();
        let claimed = claim_four_eyes(&s, &staff.checker).await.expect("the checker gets the four-eyes case");

        // A third reviewer masks a region of the passport: the evidence the maker saw is gone.
        let detail = get(&s, &staff.supervisor, &format!("/cases/{}", case["id"].as_str().unwrap())).await;
        let document = detail["documents"][0].clone();
        let original_key = {
            use sqlx::Row;
            let row = sqlx::query("SELECT storage_key FROM documents WHERE id = $1")
                .bind(document["id"].as_str().unwrap())
                .fetch_one(s.store.reader())
                .await
                .unwrap();
            row.try_get::<String, _>("storage_key").unwrap()
        };
        let (w, h) = (document["width"].as_u64().unwrap() as u32, document["height"].as_u64().unwrap() as u32);
        let region = json!({"x": w / 4, "y": h / 4, "width": w / 2, "height": h / 2});
        let url = format!("/documents/{}/mask", document["id"].as_str().unwrap());
        let res = post(&s, &staff.third, &url, json!({"regions": [region], "reason": "national number"})).await;
        assert_eq!(res.status(), 200, "{b}: {}", res.text().await.unwrap());
        let masked: Value = res.json().await.unwrap();
        assert_ne!(masked["sha256"], document["sha256"], "{b}");
        assert!(s.media.get(&original_key).await.is_err(), "{b}: the original is still stored");

        // The checker's decision meets the void.
        let res = decide(&s, &staff.checker, &claimed, "c-1", red("FINAL", &["PEP"])).await;
        assert_eq!(error_of(res).await, (409, "STAGED_DECISION_VOIDED".into()), "{b}");
        let review = get(&s, &staff.supervisor, &format!("/cases/{}", case["id"].as_str().unwrap())).await;
        assert_eq!(
            (review["decision"]["id"].clone(), review["decision"]["status"].as_str()),
            (staged["id"].clone(), Some("voided")),
            "{b}"
        );
        let a = applicant(&s, &key, &applicant_id).await;
        assert_eq!((a["status"].as_str(), a["reviewAnswer"].as_str()), (Some("queued"), None), "{b}");
        let again =
            get(&s, &staff.supervisor, &format!("/cases?applicantId={applicant_id}&kind=review&state=queued")).await;
        assert_eq!(again["total"], 1, "{b}: the applicant is back in review: {again}");
        let trail = actions(&s, &staff.supervisor).await;
        for action in ["document.masked", "decision.voided"] {
            assert!(trail.iter().any(|a| a == action), "{b}: {action} missing from {trail:?}");
        }

        // Bad masks change nothing.
        let outside = json!({"regions": [{"x": w, "y": 0, "width": 10, "height": 10}], "reason": "x"});
        assert_eq!(error_of(post(&s, &staff.third, &url, outside).await).await.0, 400, "{b}");
        let no_reason = json!({"regions": [region], "reason": " "});
        assert_eq!(error_of(post(&s, &staff.third, &url, no_reason).await).await.0, 400, "{b}");
        let key_only = s.http.post(s.at(&url)).header("X-Api-Key", &key).json(&json!({})).send().await.unwrap();
        assert!(matches!(key_only.status().as_u16(), 401 | 403), "{b}: a client key cannot mask");
        let after = get(&s, &staff.supervisor, &format!("/cases/{}", case["id"].as_str().unwrap())).await;
        assert_eq!(after["documents"][0]["sha256"], masked["sha256"], "{b}");
    }
}

#[tokio::test]
async fn disagreement_escalates_to_a_supervisor_who_settles_it() {
    for s in TestServer::all().await {
        let b = s.backend;
        let key = s.api_key().await;
        let staff = Staff::sign_in(&s).await;
        let (applicant_id, case) = review_case_for(&s, &key, &staff, &staff.maker, "Clara").await;
        let res = decide(&s, &staff.maker, &case, "m-1", red("FINAL", &["SANCTIONS"])).await;
        let staged: Value = res.json().await.unwrap();
        assert_eq!(staged["status"], "staged", "{b}");

        // The checker sees a fixable problem, not a final rejection.
        let claimed = claim_four_eyes(&s, &staff.checker).await.expect("the checker gets the four-eyes case");
        let res = decide(&s, &staff.checker, &claimed, "c-1", red("RETRY", &["LOW_QUALITY"])).await;
        assert_eq!(res.status(), 201, "{b}");
        let a = applicant(&s, &key, &applicant_id).await;
        assert_eq!(a["reviewAnswer"], Value::Null, "{b}: a disagreement gives no answer");

        let escalated = second_look(&s, &staff, &applicant_id).await;
        assert_eq!(escalated["state"], "escalated", "{b}");
        let mut excluded: Vec<String> =
            escalated["excludedUserIds"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect();
        excluded.sort();
        let mut expected = vec![user_id(&s, &staff.maker).await, user_id(&s, &staff.checker).await];
        expected.sort();
        assert_eq!(excluded, expected, "{b}");
        let e_id = escalated["id"].as_str().unwrap();

        // Reviewers neither claim it nor can be given it; a supervisor can.
        assert!(claim_four_eyes(&s, &staff.third).await.is_none(), "{b}: a reviewer got an escalation");
        let res = post(
            &s,
            &staff.supervisor,
            &format!("/cases/{e_id}/assign"),
            json!({"userId": user_id(&s, &staff.third).await}),
        )
        .await;
        assert_eq!(error_of(res).await, (409, "INVALID_STATE".into()), "{b}");
        let claimed = claim_four_eyes(&s, &staff.supervisor).await.expect("the supervisor gets the escalation");
        assert_eq!(claimed["id"], escalated["id"], "{b}");
        // Released, it waits for a supervisor again, not in the reviewers' queue.
        let res = post(&s, &staff.supervisor, &format!("/cases/{e_id}/release"), json!({})).await;
        assert_eq!(res.json::<Value>().await.unwrap()["state"], "escalated", "{b}");
        let claimed = claim_four_eyes(&s, &staff.supervisor).await.expect("the supervisor gets it again");
        let detail = get(&s, &staff.supervisor, &format!("/cases/{e_id}")).await;
        let earlier: Vec<&str> =
            detail["earlierDecisions"].as_array().unwrap().iter().map(|d| d["rejectType"].as_str().unwrap()).collect();
        assert_eq!(earlier, vec!["FINAL", "RETRY"], "{b}: the supervisor sees both decisions");

        let res = decide(&s, &staff.supervisor, &claimed, "s-1", red("RETRY", &["LOW_QUALITY"])).await;
        assert_eq!(res.status(), 201, "{b}");
        let a = applicant(&s, &key, &applicant_id).await;
        assert_eq!(
            (a["status"].as_str(), a["reviewAnswer"].as_str(), a["rejectType"].as_str()),
            (Some("completed"), Some("RED"), Some("RETRY")),
            "{b}"
        );
        let review = get(&s, &staff.supervisor, &format!("/cases/{}", case["id"].as_str().unwrap())).await;
        assert_eq!(review["decision"]["status"], "overruled", "{b}");
        let trail = actions(&s, &staff.supervisor).await;
        assert!(trail.iter().any(|a| a == "case.escalated"), "{b}: {trail:?}");
        assert!(get(&s, &staff.supervisor, "/audit/verify").await["verifiedEvents"].as_i64() > Some(10), "{b}");
    }
}
