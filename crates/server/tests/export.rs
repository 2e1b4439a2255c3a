//! Portability: a client exports one applicant (profile, a passport, the checks, a decision, a
//! video session with a screenshot) as one archive, on SQLite and PostgreSQL. The archive is a
//! tar whose announced length is its length; `applicant.json` holds the data without staff
//! notes; every listed file is there, decrypted, with the hash it was stored with; the export
//! is audited; nobody else's key reaches it, and an erased applicant has nothing to export.

mod common;

use std::collections::BTreeMap;

use common::video::{consent_and_join, invite, next_call, png, screenshot};
use common::{checked_applicant, error_of, TestServer};
use identdesk_domain::{Environment, Role};
use identdesk_server::store::accounts::sha256_hex;
use serde_json::{json, Value};

/// The regular files of a tar archive, by name.
fn untar(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut at = 0;
    while at + 512 <= bytes.len() {
        let header = &bytes[at..at + 512];
        if header.iter().all(|&b| b == 0) {
            break;
        }
        let name = String::from_utf8(header[..100].split(|&b| b == 0).next().unwrap().to_vec()).unwrap();
        let size_text = std::str::from_utf8(&header[124..135]).unwrap();
        let size = usize::from_str_radix(size_text, 8).unwrap();
        let start = at + 512;
        files.insert(name, bytes[start..start + size].to_vec());
        at = start + size.div_ceil(512) * 512;
    }
    files
}

#[tokio::test]
async fn a_client_exports_everything_about_one_applicant_in_one_archive() {
    for s in TestServer::all().await {
        let b = s.backend;
        let key = s.api_key().await;
        let reviewer = s.staff("rex@acme.test", Role::Reviewer).await;
        let operator = s.staff("olga@acme.test", Role::VideoOperator).await;
        let supervisor = s.staff("sue@acme.test", Role::Supervisor).await;

        let profile = json!({"externalUserId": "crm-export-1", "info": {"firstName": "Ottilie",
            "lastName": "Brandvold", "dob": "1981-02-03", "email": "ottilie@example.test", "nationality": "NOR"}});
        let passport = png();
        let id = checked_applicant(&s, &key, profile, passport.clone(), "NX9988776").await;
        let case: Value = s
            .http
            .post(s.at("/cases/claim?kind=review"))
            .bearer_auth(&reviewer)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let decision = json!({"answer": "RED", "rejectType": "RETRY", "labels": ["LOW_QUALITY"], "version": case["version"],
            "moderationComment": "Please take a sharper photo.", "internalNote": "staff only: looked twice"});
        let url = s.at(&format!("/cases/{}/decision", case["id"].as_str().unwrap()));
        let res = s
            .http
            .post(url)
            .bearer_auth(&reviewer)
            .header("idempotency-key", "x-1")
            .json(&decision)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{b}");
        let invitation: Value = invite(&s, &key, &id).await.json().await.unwrap();
        let link = invitation["link"].as_str().unwrap().trim_start_matches("/v/").to_owned();
        let (_, socket) = consent_and_join(&s, &link).await;
        let call = next_call(&s, &operator).await;
        let session = call["session"]["id"].as_str().unwrap().to_owned();
        let shot = png();
        assert_eq!(screenshot(&s, &operator, &session, "id_front", shot.clone()).await.status(), 201, "{b}");
        drop(socket);

        let res = s.http.get(s.at(&format!("/applicants/{id}/export"))).header("X-Api-Key", &key).send().await.unwrap();
        assert_eq!(res.status(), 200, "{b}");
        assert_eq!(res.headers()["content-type"], "application/x-tar");
        let announced: usize = res.headers()["content-length"].to_str().unwrap().parse().unwrap();
        let archive = res.bytes().await.unwrap();
        assert_eq!(archive.len(), announced, "{b}: the announced length is the archive's");
        let files = untar(&archive);
        // GNU tar reads it too, every entry.
        let path = s._dir.path().join("export.tar");
        std::fs::write(&path, &archive).unwrap();
        let listing = std::process::Command::new("tar").arg("-tf").arg(&path).output().unwrap();
        assert!(listing.status.success(), "{b}: {}", String::from_utf8_lossy(&listing.stderr));
        let mut listed_by_tar: Vec<String> =
            String::from_utf8(listing.stdout).unwrap().lines().map(str::to_owned).collect();
        assert_eq!(listed_by_tar[0], "applicant.json", "{b}: the data first");
        listed_by_tar.sort();
        assert_eq!(listed_by_tar, files.keys().cloned().collect::<Vec<_>>(), "{b}");

        let data: Value = serde_json::from_slice(&files["applicant.json"]).unwrap();
        assert_eq!(data["applicant"]["info"]["lastName"], "Brandvold", "{b}");
        assert_eq!(data["decisions"][0]["moderationComment"], "Please take a sharper photo.", "{b}");
        let text = String::from_utf8_lossy(&files["applicant.json"]);
        assert!(!text.contains("staff only"), "{b}: staff notes stay out");
        assert!(data["videoSessions"][0]["consentTextVersion"].as_str().is_some(), "{b}: the consent is there");
        let listed = data["files"].as_array().unwrap();
        assert_eq!(listed.len(), 2, "{b}: the passport and the screenshot: {listed:?}");
        for f in listed {
            let name = f["name"].as_str().unwrap();
            let content = files.get(name).unwrap_or_else(|| panic!("{b}: {name} is not in the archive"));
            assert_eq!(sha256_hex(content), f["sha256"].as_str().unwrap(), "{b}: {name} decrypted whole");
        }
        let document = &files[data["documents"][0]["file"].as_str().unwrap()];
        assert_eq!(document, &passport, "{b}: the passport as uploaded");
        assert_eq!(files.len(), 3, "{b}: {:?}", files.keys().collect::<Vec<_>>());

        let trail: Value =
            s.http.get(s.at("/audit?limit=1000")).bearer_auth(&supervisor).send().await.unwrap().json().await.unwrap();
        let exported = trail.as_array().unwrap().iter().find(|e| e["action"] == "applicant.exported").cloned();
        let exported = exported.unwrap_or_else(|| panic!("{b}: the export is not audited"));
        assert_eq!(
            (exported["subject"].as_str(), exported["detail"].as_str().unwrap().contains("\"files\":3")),
            (Some(format!("applicant:{id}").as_str()), true)
        );

        // Reading the applicant with the key (as `checked` did while waiting) is in the trail too.
        let viewed = trail.as_array().unwrap().iter().filter(|e| e["action"] == "applicant.viewed").count();
        assert!(viewed > 0, "{b}: API-key reads of personal data are audited");
        assert!(exported["actor"].as_str().unwrap().starts_with("apikey:"), "{b}");

        // Another environment's key does not reach it; staff tokens are not client keys.
        let production = s.store.create_api_key(&s.tenant_id, Environment::Production).await.unwrap().1 .0;
        let res = s
            .http
            .get(s.at(&format!("/applicants/{id}/export")))
            .header("X-Api-Key", &production)
            .send()
            .await
            .unwrap();
        assert_eq!(error_of(res).await, (404, "APPLICANT_NOT_FOUND".into()), "{b}");
        let res = s.http.get(s.at(&format!("/applicants/{id}/export"))).bearer_auth(&supervisor).send().await.unwrap();
        assert_eq!(error_of(res).await.0, 401, "{b}");
        // Erased, there is nothing to export.
        let res = s.http.delete(s.at(&format!("/applicants/{id}"))).header("X-Api-Key", &key).send().await.unwrap();
        assert_eq!(res.status(), 200, "{b}");
        let res = s.http.get(s.at(&format!("/applicants/{id}/export"))).header("X-Api-Key", &key).send().await.unwrap();
        assert_eq!(error_of(res).await, (404, "APPLICANT_NOT_FOUND".into()), "{b}");
    }
}
