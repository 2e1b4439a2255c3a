//! The desktop's transport against a real server process: sign-in, a claimed case read from
//! the server and then from the cache while the server is down, a decision saved offline and
//! sent when it is back, document images from the cache, and sign-out clearing it all.

mod common;

use std::time::Duration;

use common::{ServerProcess, REVIEWER};
use identdesk_sync::desk::{Desk, UiRequest};
use serde_json::{json, Value};

fn request(method: &str, path: &str, body: Option<Value>) -> UiRequest {
    UiRequest { method: method.into(), path: path.into(), body, headers: None }
}

#[tokio::test]
async fn a_reviewer_finishes_a_case_while_the_server_is_away() {
    let mut server = ServerProcess::start().await;
    let dir = tempfile::tempdir().unwrap();
    let desk = Desk::new(&server.url, dir.path().to_path_buf());

    let wrong =
        desk.request(request("POST", "/auth/login", Some(json!({"email": REVIEWER, "password": "nope"})))).await;
    assert_eq!(wrong.unwrap_err().code, "INVALID_CREDENTIALS");
    let signed_in = desk
        .request(request(
            "POST",
            "/auth/login",
            Some(json!({"email": REVIEWER, "password": server.passwords[REVIEWER]})),
        ))
        .await
        .unwrap();
    assert_eq!(signed_in["user"]["email"], REVIEWER);

    let case = server.assign_cases(REVIEWER, 1).await.remove(0);
    let online = desk.request(request("GET", &format!("/cases/{case}"), None)).await.unwrap();
    let document = online["documents"][0]["id"].as_str().unwrap().to_owned();
    let image = desk.bytes(&format!("/documents/{document}/content")).await.unwrap();
    assert!(image.starts_with(b"\x89PNG"), "the image, from the server");
    // Passed on as it is: the labels catalogue.
    let labels = desk.request(request("GET", "/labels", None)).await.unwrap();
    assert!(labels.as_array().unwrap().len() >= 60);
    // A list with a query is the list, not a case named by the query.
    let me = signed_in["user"]["id"].as_str().unwrap();
    let mine = desk.request(request("GET", &format!("/cases?state=claimed&holderId={me}"), None)).await.unwrap();
    let ids: Vec<&Value> = mine["items"].as_array().unwrap().iter().map(|c| &c["id"]).collect();
    assert!(ids.contains(&&json!(case)), "the queue screen's list of my cases: {mine}");

    server.stop();
    let offline = desk.request(request("GET", &format!("/cases/{case}"), None)).await.unwrap();
    assert_eq!(offline["applicant"], online["applicant"], "the same case, from the cache");
    assert_eq!(desk.bytes(&format!("/documents/{document}/content")).await.unwrap(), image);
    let version = online["case"]["version"].clone();
    let saved = desk
        .request(request(
            "POST",
            &format!("/cases/{case}/decision"),
            Some(json!({"answer": "GREEN", "labels": [], "version": version})),
        ))
        .await
        .unwrap();
    assert_eq!((saved["pending"].as_bool(), saved["answer"].as_str()), (Some(true), Some("GREEN")));
    let status = desk.status().await.unwrap();
    assert_eq!((status.online, status.pending), (false, 1));

    server.resume().await;
    let mut pending = 1;
    for _ in 0..120 {
        pending = desk.status().await.unwrap().pending;
        if pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(pending, 0, "sent once the server was back");
    let token = server.login(REVIEWER).await;
    assert_eq!(server.get(&token, &format!("/cases/{case}")).await["decision"]["answer"], "GREEN");

    desk.request(request("POST", "/auth/logout", None)).await.unwrap();
    let after = desk.request(request("GET", &format!("/cases/{case}"), None)).await.unwrap_err();
    assert_eq!(after.status, 401, "signed out");
    let cache =
        std::fs::read_dir(dir.path()).unwrap().flatten().find(|e| e.file_name().to_string_lossy().ends_with(".db"));
    let cache = identdesk_sync::Cache::open(&cache.unwrap().path()).await.unwrap();
    assert_eq!(cache.case_count().await.unwrap(), 0, "the cache is cleared at sign-out");
    assert!(cache.detail(&case).await.unwrap().is_none());
    assert!(cache.media(&document).await.unwrap().is_none());
}

#[tokio::test]
async fn an_erased_applicant_leaves_the_console_at_once() {
    let mut server = ServerProcess::start().await;
    let dir = tempfile::tempdir().unwrap();
    let desk = Desk::new(&server.url, dir.path().to_path_buf());
    let login = json!({"email": REVIEWER, "password": server.passwords[REVIEWER]});
    desk.request(request("POST", "/auth/login", Some(login))).await.unwrap();
    let case = server.assign_cases(REVIEWER, 1).await.remove(0);
    let detail = desk.request(request("GET", &format!("/cases/{case}"), None)).await.unwrap();
    let applicant = detail["case"]["applicantId"].as_str().unwrap().to_owned();
    let document = detail["documents"][0]["id"].as_str().unwrap().to_owned();

    // The client system has the applicant erased (the demo's applicants are production's).
    let out = std::process::Command::new(&server.binary)
        .args(["--data-dir", server.data.path().to_str().unwrap(), "apikey", "create", "--env", "production"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let key = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let res = server
        .http
        .delete(format!("{}/api/v1/applicants/{applicant}", server.url))
        .header("X-Api-Key", key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    // The console hears of it through push and drops the case, its detail and its images: with
    // the server gone, nothing of the applicant can be read from the cache.
    let mut dropped = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let cache = identdesk_sync::cache::Cache::open(
            &dir.path().join(format!("cache-{}.db", detail["case"]["holderId"].as_str().unwrap())),
        )
        .await
        .unwrap();
        if cache.detail(&case).await.unwrap().is_none()
            && cache.media(&document).await.unwrap().is_none()
            && cache.case(&case).await.unwrap().is_none()
        {
            dropped = true;
            break;
        }
    }
    assert!(dropped, "the erased applicant is still in the console's cache");
    server.stop();
    let offline = desk.request(request("GET", &format!("/cases/{case}"), None)).await;
    assert_eq!(offline.unwrap_err().code, "NOT_CACHED");
}
