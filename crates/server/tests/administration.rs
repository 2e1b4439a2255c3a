//! The admin's screens through the API: users (added with a one-time password, given a role,
//! disabled) and API keys (created once, listed without secret, revoked); a supervisor
//! assigning a case; the case list's filters. Refused to the roles that may not. On SQLite and
//! PostgreSQL.

mod common;

use common::{error_of, TestServer};
use identdesk_domain::{Answer, CaseKind, DecisionInput, RejectLabel, RejectType, Role};
use identdesk_server::store::applicants::SeedApplicant;
use identdesk_server::store::now_ms;
use serde_json::{json, Value};

async fn post(s: &TestServer, path: &str, token: &str, body: Value) -> reqwest::Response {
    s.http.post(s.at(path)).bearer_auth(token).json(&body).send().await.unwrap()
}

async fn get(s: &TestServer, path: &str, token: &str) -> reqwest::Response {
    s.http.get(s.at(path)).bearer_auth(token).send().await.unwrap()
}

#[tokio::test]
async fn an_admin_manages_users_and_api_keys_and_nobody_else_can() {
    for s in TestServer::all().await {
        let b = s.backend;
        let admin = s.staff("ada@acme.test", Role::Admin).await;
        let reviewer = s.staff("rex@acme.test", Role::Reviewer).await;
        let supervisor = s.staff("sue@acme.test", Role::Supervisor).await;

        // A new user signs in with the password shown once.
        let res = post(&s, "/users", &admin, json!({"email": "Nia@Acme.test", "role": "reviewer"})).await;
        assert_eq!(res.status(), 201, "{b}");
        let created: Value = res.json().await.unwrap();
        let nia_id = created["user"]["id"].as_str().unwrap().to_owned();
        assert_eq!(created["user"]["email"], "nia@acme.test", "{b}");
        let password = created["password"].as_str().unwrap();
        let res = s
            .http
            .post(s.at("/auth/login"))
            .json(&json!({"email": "nia@acme.test", "password": password}))
            .send()
            .await;
        let login: Value = res.unwrap().json().await.unwrap();
        let nia = login["token"].as_str().expect("the new user signs in").to_owned();
        let res = post(&s, "/users", &admin, json!({"email": "nia@acme.test", "role": "admin"})).await;
        assert_eq!(error_of(res).await, (409, "ALREADY_EXISTS".into()), "{b}");
        let res = post(&s, "/users", &admin, json!({"email": "x@acme.test", "role": "boss"})).await;
        assert_eq!(error_of(res).await.0, 400, "{b}: an unknown role");

        // Reviewers and supervisors change nothing; supervisors may list (for reassigning).
        for token in [&reviewer, &supervisor] {
            let res = post(&s, "/users", token, json!({"email": "y@acme.test", "role": "admin"})).await;
            assert_eq!(error_of(res).await, (403, "FORBIDDEN".into()), "{b}");
            let res = get(&s, "/api-keys", token).await;
            assert_eq!(error_of(res).await, (403, "FORBIDDEN".into()), "{b}");
            let res = post(&s, &format!("/users/{nia_id}/disable"), token, json!({})).await;
            assert_eq!(error_of(res).await, (403, "FORBIDDEN".into()), "{b}");
        }
        assert_eq!(error_of(get(&s, "/users", &reviewer).await).await, (403, "FORBIDDEN".into()), "{b}");
        let users: Value = get(&s, "/users", &supervisor).await.json().await.unwrap();
        assert_eq!(users.as_array().unwrap().len(), 4, "{b}: {users}");

        // A role change, never one's own.
        let res = post(&s, &format!("/users/{nia_id}/role"), &admin, json!({"role": "supervisor"})).await;
        assert_eq!(res.json::<Value>().await.unwrap()["role"], "supervisor", "{b}");
        let me: Value = get(&s, "/auth/me", &admin).await.json().await.unwrap();
        let own = format!("/users/{}/role", me["id"].as_str().unwrap());
        assert_eq!(error_of(post(&s, &own, &admin, json!({"role": "reviewer"})).await).await.0, 409, "{b}");

        // Disabling ends the user's sessions at once.
        assert_eq!(get(&s, "/auth/me", &nia).await.status(), 200, "{b}");
        let res = post(&s, &format!("/users/{nia_id}/disable"), &admin, json!({})).await;
        assert!(res.json::<Value>().await.unwrap()["disabledAtMs"].as_i64().is_some(), "{b}");
        assert_eq!(error_of(get(&s, "/auth/me", &nia).await).await, (401, "SESSION_EXPIRED".into()), "{b}");
        let res = s.http.post(s.at("/auth/login")).json(&json!({"email": "nia@acme.test", "password": password}));
        assert_eq!(error_of(res.send().await.unwrap()).await.0, 401, "{b}: a disabled user cannot sign in");

        // An API key: shown once, works, listed without its secret, revoked.
        let res = post(&s, "/api-keys", &admin, json!({"environment": "production"})).await;
        assert_eq!(res.status(), 201, "{b}");
        let key: Value = res.json().await.unwrap();
        let secret = key["key"].as_str().unwrap().to_owned();
        let client_call = || {
            s.http
                .post(s.at("/applicants"))
                .header("X-Api-Key", &secret)
                .json(&json!({"externalUserId": "k-1", "info": {"firstName": "A", "lastName": "B"}}))
                .send()
        };
        assert_eq!(client_call().await.unwrap().status(), 201, "{b}: the new key works");
        let listed = get(&s, "/api-keys", &admin).await.text().await.unwrap();
        assert!(listed.contains(key["id"].as_str().unwrap()) && !listed.contains(&secret), "{b}: {listed}");
        let res = post(&s, &format!("/api-keys/{}/revoke", key["id"].as_str().unwrap()), &admin, json!({})).await;
        assert!(res.json::<Value>().await.unwrap()["revokedAtMs"].as_i64().is_some(), "{b}");
        assert_eq!(error_of(client_call().await.unwrap()).await.0, 401, "{b}: a revoked key is refused");
        let res = post(&s, "/api-keys/nope/revoke", &admin, json!({})).await;
        assert_eq!(error_of(res).await, (404, "NOT_FOUND".into()), "{b}");

        // Every change is in the audit trail with the admin as actor.
        let trail = get(&s, "/audit?limit=1000", &admin).await.text().await.unwrap();
        for action in ["user.created", "user.role_changed", "user.disabled", "apikey.created", "apikey.revoked"] {
            assert!(trail.contains(action), "{b}: {action} missing");
        }
    }
}

#[tokio::test]
async fn a_supervisor_assigns_a_case_and_the_list_filters_by_label_reviewer_and_date() {
    for s in TestServer::all().await {
        let b = s.backend;
        let now = now_ms();
        let seed: Vec<_> = (0..4).map(|i| SeedApplicant::queued(i, CaseKind::Review, now)).collect();
        s.store.seed_applicants(&s.tenant_id, &seed).await.unwrap();
        let supervisor = s.staff("sue@acme.test", Role::Supervisor).await;
        let reviewer = s.staff("rex@acme.test", Role::Reviewer).await;
        s.staff("ada@acme.test", Role::Admin).await;
        let users = s.store.user_accounts(&s.tenant_id).await.unwrap();
        let id_of = |email: &str| users.iter().find(|u| u.email == email).unwrap().id.clone();
        let page: Value = get(&s, "/cases?state=queued", &supervisor).await.json().await.unwrap();
        let case_id = page["items"][0]["id"].as_str().unwrap().to_owned();

        let to_rex = json!({"userId": id_of("rex@acme.test")});
        let res = post(&s, &format!("/cases/{case_id}/assign"), &reviewer, to_rex.clone()).await;
        assert_eq!(error_of(res).await, (403, "FORBIDDEN".into()), "{b}: reviewers do not assign");
        let to_ada = json!({"userId": id_of("ada@acme.test")});
        let res = post(&s, &format!("/cases/{case_id}/assign"), &supervisor, to_ada).await;
        assert_eq!(error_of(res).await, (409, "INVALID_STATE".into()), "{b}: admins do not review");
        let res = post(&s, &format!("/cases/{case_id}/assign"), &supervisor, to_rex).await;
        let case: Value = res.json().await.unwrap();
        assert_eq!(
            (case["state"].as_str(), case["holderId"].as_str()),
            (Some("claimed"), Some(id_of("rex@acme.test").as_str()))
        );
        // Rex finds it as his claimed case and decides it, with a label.
        let claimed: Value =
            s.http.post(s.at("/cases/claim")).bearer_auth(&reviewer).send().await.unwrap().json().await.unwrap();
        assert_eq!(claimed["id"], case_id.as_str(), "{b}: the assigned case is Rex's claim");
        let decide = |body: serde_json::Value, key: &'static str| {
            s.http
                .post(s.at(&format!("/cases/{case_id}/decision")))
                .bearer_auth(&reviewer)
                .header("idempotency-key", key)
                .json(&body)
                .send()
        };
        // A document asked for again must be the applicant's, and only with a RETRY.
        let version = claimed["version"].clone();
        let unknown = json!({"answer": "RED", "rejectType": "RETRY", "labels": ["LOW_QUALITY"], "version": version,
                             "reupload": [{"documentId": "nope", "reason": "Blurred."}]});
        let (status, code) = error_of(decide(unknown, "r-1").await.unwrap()).await;
        assert_eq!((status, code.as_str()), (422, "INVALID_DECISION"), "{b}");
        let on_final = json!({"answer": "RED", "rejectType": "FINAL", "labels": ["FORGERY"], "version": version,
                              "reupload": [{"documentId": "nope", "reason": "Blurred."}]});
        assert_eq!(error_of(decide(on_final, "r-2").await.unwrap()).await.0, 422, "{b}");
        let input = DecisionInput {
            answer: Answer::Red,
            reject_type: Some(RejectType::Final),
            labels: vec![RejectLabel::DOCUMENT_TEMPLATE],
            ..DecisionInput::green(claimed["version"].as_i64().unwrap())
        };
        let res = s
            .http
            .post(s.at(&format!("/cases/{case_id}/decision")))
            .bearer_auth(&reviewer)
            .header("idempotency-key", "d-1")
            .json(&input)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{b}");
        let trail = get(&s, "/audit?limit=1000", &supervisor).await.text().await.unwrap();
        assert!(trail.contains("case.assigned"), "{b}");

        let total = |path: String| {
            let token = supervisor.clone();
            let s = &s;
            async move { get(s, &path, &token).await.json::<Value>().await.unwrap()["total"].as_i64().unwrap() }
        };
        assert_eq!(total("/cases?label=DOCUMENT_TEMPLATE".into()).await, 1, "{b}");
        assert_eq!(total("/cases?label=SPAM".into()).await, 0, "{b}");
        assert_eq!(total(format!("/cases?reviewerId={}", id_of("rex@acme.test"))).await, 1, "{b}");
        assert_eq!(total(format!("/cases?createdFromMs={}", now - 1000)).await, 4, "{b}");
        assert_eq!(total(format!("/cases?createdToMs={}", now - 1000)).await, 0, "{b}");
        // The seeded cases are due in a day: none late now, three open ones due within two days.
        assert_eq!(total(format!("/cases?undecided=true&dueBeforeMs={now}")).await, 0, "{b}");
        assert_eq!(total(format!("/cases?undecided=true&dueBeforeMs={}", now + 2 * 86_400_000)).await, 3, "{b}");
        let res = get(&s, "/cases?label=NOT_A_LABEL", &supervisor).await;
        assert_eq!(error_of(res).await, (400, "INVALID_QUERY".into()), "{b}");
    }
}
