//! QA sampling on a real server, SQLite and PostgreSQL: with the tenant's share at 100 %, every
//! review decision that counts is re-checked blind by another reviewer; the re-check sees
//! neither the answer nor the labels; it changes nothing for the applicant; agreement is
//! counted per reviewer and per label for the supervisor's charts.

mod common;

use common::{error_of, TestServer};
use identdesk_domain::Role;
use serde_json::{json, Value};

async fn send(s: &TestServer, token: &str, method: &str, path: &str, body: Value) -> reqwest::Response {
    let req = match method {
        "GET" => s.http.get(s.at(path)),
        "PUT" => s.http.put(s.at(path)).json(&body),
        _ => s.http.post(s.at(path)).json(&body),
    };
    req.bearer_auth(token).send().await.unwrap()
}

async fn claim(s: &TestServer, token: &str, kind: &str) -> Option<Value> {
    let res = send(s, token, "POST", &format!("/cases/claim?kind={kind}"), json!({})).await;
    if res.status() != 200 {
        assert_eq!(res.status(), 204, "{}: {}", s.backend, res.text().await.unwrap());
        return None;
    }
    Some(res.json().await.unwrap())
}

async fn decide(s: &TestServer, token: &str, case: &Value, key: &str, mut body: Value) -> Value {
    body["version"] = case["version"].clone();
    let url = s.at(&format!("/cases/{}/decision", case["id"].as_str().unwrap()));
    let res = s.http.post(url).bearer_auth(token).header("idempotency-key", key).json(&body).send().await.unwrap();
    assert_eq!(res.status(), 201, "{}", s.backend);
    res.json().await.unwrap()
}

#[tokio::test]
async fn every_sampled_decision_is_rechecked_blind_and_agreement_is_counted() {
    for s in TestServer::all().await {
        let b = s.backend;
        s.queue_cases(3).await;
        let admin = s.staff("ada@acme.test", Role::Admin).await;
        let first = s.staff("fay@acme.test", Role::Reviewer).await;
        let second = s.staff("sid@acme.test", Role::Reviewer).await;
        let supervisor = s.staff("sue@acme.test", Role::Supervisor).await;
        let policy = json!({"fourEyesLabels": ["SANCTIONS"], "fourEyesPercent": 0, "qaSamplePercent": 100});
        let res = send(&s, &admin, "PUT", "/review-policy", policy.clone()).await;
        assert_eq!(res.status(), 200, "{b}");
        let bad = json!({"fourEyesLabels": [], "fourEyesPercent": 0, "qaSamplePercent": 101});
        assert_eq!(error_of(send(&s, &admin, "PUT", "/review-policy", bad).await).await.0, 400, "{b}");
        assert_eq!(
            send(&s, &supervisor, "GET", "/review-policy", json!({})).await.json::<Value>().await.unwrap(),
            policy
        );

        // The first reviewer decides three cases; each decision counts and is sampled.
        let retry = json!({"answer": "RED", "rejectType": "RETRY", "labels": ["LOW_QUALITY"]});
        let green = json!({"answer": "GREEN", "labels": []});
        let mut sampled = Vec::new();
        for (n, body) in [green.clone(), green.clone(), retry.clone()].into_iter().enumerate() {
            let case = claim(&s, &first, "review").await.expect("a review case");
            let d = decide(&s, &first, &case, &format!("f-{n}"), body).await;
            assert_eq!(d["status"], "final", "{b}");
            sampled.push(d);
        }
        assert!(claim(&s, &first, "qa_sample").await.is_none(), "{b}: nobody re-checks their own decision");

        // The second reviewer re-checks each blind: agrees twice, rejects for another reason once.
        let mut rechecked = 0;
        while let Some(case) = claim(&s, &second, "qa_sample").await {
            let id = case["id"].as_str().unwrap();
            let detail: Value =
                send(&s, &second, "GET", &format!("/cases/{id}"), json!({})).await.json().await.unwrap();
            assert_eq!(detail["earlierDecisions"], json!([]), "{b}: blind");
            assert_eq!(detail["applicant"]["reviewAnswer"], Value::Null, "{b}: blind");
            assert_eq!(detail["case"]["suggestedLabels"], json!([]), "{b}: the sampled labels are not suggested");
            let original = sampled.iter().find(|d| d["id"] == case["checksDecisionId"]).expect("samples a decision");
            let body = if original["answer"] == "GREEN" {
                green.clone()
            } else {
                json!({"answer": "RED", "rejectType": "FINAL", "labels": ["LOW_QUALITY", "DOCUMENT_TEMPLATE"]})
            };
            let d = decide(&s, &second, &case, &format!("s-{rechecked}"), body).await;
            assert_eq!(d["status"], "final", "{b}");
            let after: Value = send(&s, &second, "GET", &format!("/cases/{id}"), json!({})).await.json().await.unwrap();
            assert_eq!(after["earlierDecisions"][0]["id"], original["id"], "{b}: shown once decided");
            rechecked += 1;
        }
        assert_eq!(rechecked, 3, "{b}");
        // The re-check changed nothing for the applicant: the first decision stands.
        let red_case = sampled[2]["caseId"].as_str().unwrap();
        let detail: Value =
            send(&s, &supervisor, "GET", &format!("/cases/{red_case}"), json!({})).await.json().await.unwrap();
        assert_eq!(
            (detail["applicant"]["reviewAnswer"].as_str(), detail["applicant"]["rejectType"].as_str()),
            (Some("RED"), Some("RETRY"))
        );

        let stats: Value = send(&s, &supervisor, "GET", "/stats/qa", json!({})).await.json().await.unwrap();
        assert_eq!((stats["sampled"].as_i64(), stats["agreed"].as_i64()), (Some(3), Some(2)), "{b}: {stats}");
        assert_eq!(stats["reviewers"].as_array().unwrap().len(), 1, "{b}");
        assert_eq!(stats["reviewers"][0]["email"], "fay@acme.test", "{b}");
        assert_eq!(
            (stats["reviewers"][0]["sampled"].as_i64(), stats["reviewers"][0]["agreed"].as_i64()),
            (Some(3), Some(2))
        );
        let label = |name: &str| {
            let l = stats["labels"].as_array().unwrap().iter().find(|l| l["label"] == name).cloned();
            l.map(|l| (l["given"].as_i64().unwrap(), l["agreed"].as_i64().unwrap()))
        };
        assert_eq!(label("LOW_QUALITY"), Some((1, 1)), "{b}: {stats}");
        assert_eq!(label("DOCUMENT_TEMPLATE"), Some((1, 0)), "{b}: {stats}");
        assert_eq!(error_of(send(&s, &second, "GET", "/stats/qa", json!({})).await).await.0, 403, "{b}");
        let trail: Value = send(&s, &supervisor, "GET", "/audit?limit=1000", json!({})).await.json().await.unwrap();
        let qa_events = trail.as_array().unwrap().iter().filter(|e| e["action"] == "qa.reviewed").count();
        assert_eq!(qa_events, 3, "{b}");
    }
}
