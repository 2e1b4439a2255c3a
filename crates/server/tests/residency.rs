//! Sandbox and production never mix (a key sees only its environment's applicants), and a
//! node configured for a region refuses tenants of other regions. On SQLite and PostgreSQL.

mod common;

use common::{error_of, TestServer};
use identdesk_domain::{Environment, Region, Role};
use identdesk_server::api::Limits;
use serde_json::{json, Value};

#[tokio::test]
async fn a_sandbox_key_never_sees_production_applicants_and_back() {
    for s in TestServer::all().await {
        let b = s.backend;
        let sandbox = s.api_key().await;
        let production = s.store.create_api_key(&s.tenant_id, Environment::Production).await.unwrap().1 .0;
        let res = s
            .http
            .post(s.at("/applicants"))
            .header("X-Api-Key", &sandbox)
            .json(&json!({"externalUserId": "env-1", "info": {"firstName": "Sandy", "lastName": "Box"}}))
            .send()
            .await
            .unwrap();
        let id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
        let get = |key: String| s.http.get(s.at(&format!("/applicants/{id}"))).header("X-Api-Key", key).send();
        assert_eq!(get(sandbox.clone()).await.unwrap().status(), 200, "{b}");
        assert_eq!(error_of(get(production.clone()).await.unwrap()).await, (404, "APPLICANT_NOT_FOUND".into()), "{b}");
        for (method, path) in
            [("POST", "submit"), ("GET", "verdict"), ("POST", "video-ident"), ("POST", "relationship-end")]
        {
            let req = if method == "GET" {
                s.http.get(s.at(&format!("/applicants/{id}/{path}")))
            } else {
                s.http
                    .post(s.at(&format!("/applicants/{id}/{path}")))
                    .json(&json!({"tanDestination": "+4915112345678"}))
            };
            let res = req.header("X-Api-Key", &production).send().await.unwrap();
            assert_eq!(error_of(res).await.0, 404, "{b}: {method} {path} with the production key");
        }
        let res =
            s.http.delete(s.at(&format!("/applicants/{id}"))).header("X-Api-Key", &production).send().await.unwrap();
        assert_eq!(error_of(res).await.0, 404, "{b}: the production key cannot erase a sandbox applicant");
        assert_eq!(get(sandbox.clone()).await.unwrap().status(), 200, "{b}: still there");
    }
}

#[tokio::test]
async fn a_node_for_one_region_refuses_tenants_of_another() {
    let limits = Limits { region: Some(Region::Us), ..Limits::default() };
    for s in TestServer::all_with(limits).await {
        let b = s.backend;
        // Acme is an EU tenant: its staff and its client system are refused here.
        let eu_staff = s.staff("ana@acme.test", Role::Reviewer).await;
        let res = s.http.get(s.at("/auth/me")).bearer_auth(&eu_staff).send().await.unwrap();
        assert_eq!(error_of(res).await, (421, "WRONG_REGION".into()), "{b}");
        let eu_key = s.api_key().await;
        let res = s
            .http
            .post(s.at("/applicants"))
            .header("X-Api-Key", &eu_key)
            .json(&json!({"externalUserId": "eu-1", "info": {"firstName": "Eva", "lastName": "Europa"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(error_of(res).await, (421, "WRONG_REGION".into()), "{b}");
        assert_eq!(s.count("applicants").await, 0, "{b}: nothing stored");
        // A US tenant works.
        let us = s.store.create_tenant("Globex", Region::Us).await.unwrap();
        let us_staff = s.staff_in(&us.id, "bo@globex.test", Role::Reviewer).await;
        let res = s.http.get(s.at("/auth/me")).bearer_auth(&us_staff).send().await.unwrap();
        assert_eq!(res.status(), 200, "{b}");
    }
}
