//! The outbox against a real identdesk-server process: decisions survive a `kill -9` of the
//! sync process and a lost answer, arrive once when the server comes back after 30 s, and a
//! lease lost while offline becomes a visible conflict, never an overwrite.

mod common;

use std::time::Duration;

use common::{signal, sync_cli, sync_process, ServerProcess, REVIEWER, REVIEWER2, SUPERVISOR};
use serde_json::{json, Value};

fn outbox(server: &ServerProcess, token: &str, cache: &std::path::Path) -> Vec<Value> {
    let (code, out) = sync_cli(server, token, cache, &["outbox"]);
    assert_eq!(code, 0, "{out}");
    serde_json::from_str::<Value>(&out).unwrap().as_array().unwrap().clone()
}

/// (a) Five decisions saved; the server frozen (SIGSTOP) so that the first is in flight when
/// the sync process is killed with -9; the server thawed; a new sync process sends them all.
#[tokio::test]
async fn decisions_in_the_outbox_arrive_once_after_kill_9() {
    let server = ServerProcess::start().await;
    let token = server.login(REVIEWER).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache.db");
    let cases = server.assign_cases(REVIEWER, 5).await;
    let (code, held) = sync_cli(&server, &token, &cache, &["hold"]);
    assert_eq!(code, 0, "{held}");
    for id in &cases {
        assert!(held.contains(id.as_str()), "{id} cached for offline work");
        let (code, out) = sync_cli(&server, &token, &cache, &["decide", id, "--answer", "GREEN", "--no-send"]);
        assert!(code == 0 && out.starts_with("saved "), "{out}");
    }
    assert_eq!(outbox(&server, &token, &cache).iter().filter(|i| i["state"] == "pending").count(), 5);

    signal(server.pid(), "-STOP");
    let mut sync = sync_process(&server, &token, &cache);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    signal(sync.id(), "-KILL");
    let _ = sync.wait();
    signal(server.pid(), "-CONT");
    let before = outbox(&server, &token, &cache);
    assert!(before.iter().all(|i| i["state"] == "pending"), "nothing was confirmed while frozen: {before:?}");

    let (code, out) = sync_cli(&server, &token, &cache, &["drain"]);
    assert_eq!((code, out.trim()), (0, "sent 5"));
    let after = outbox(&server, &token, &cache);
    assert!(after.iter().all(|i| i["state"] == "sent"), "{after:?}");
    let conflicts = sync_cli(&server, &token, &cache, &["conflicts"]).1;
    assert_eq!(conflicts.trim(), "[]");

    // Exactly once: each case has one decision, by this reviewer, and the log holds five.
    let me = server.get(&token, "/auth/me").await;
    for id in &cases {
        let detail = server.get(&token, &format!("/cases/{id}")).await;
        assert_eq!(detail["decision"]["reviewerId"], me["id"], "{id}");
        assert_eq!(detail["decision"]["answer"], "GREEN");
    }
    let sup = server.login(SUPERVISOR).await;
    let log = server.get(&sup, &format!("/decisions?reviewerId={}&limit=200", me["id"].as_str().unwrap())).await;
    let logged: Vec<&str> = log["items"].as_array().unwrap().iter().map(|d| d["caseId"].as_str().unwrap()).collect();
    for id in &cases {
        assert_eq!(logged.iter().filter(|c| **c == id.as_str()).count(), 1, "{id} decided once");
    }
}

/// (b) The server is down for 30 s while the reviewer decides three cases from the cache; the
/// running sync process reconnects when it is back and sends all three.
#[tokio::test]
async fn three_decisions_made_while_the_server_is_down_arrive_when_it_is_back() {
    let mut server = ServerProcess::start().await;
    let token = server.login(REVIEWER).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache.db");
    let cases = server.assign_cases(REVIEWER, 3).await;
    assert_eq!(sync_cli(&server, &token, &cache, &["hold"]).0, 0);
    let mut sync = sync_process(&server, &token, &cache);

    server.stop();
    let down = std::time::Instant::now();
    for id in &cases {
        // Without --no-send: the send fails (offline), the decision stays saved.
        let (code, out) = sync_cli(&server, &token, &cache, &["decide", id, "--answer", "GREEN"]);
        assert!(code == 0 && out.starts_with("saved "), "{out}");
    }
    let (_, status) = sync_cli(&server, &token, &cache, &["status"]);
    let status: Value = serde_json::from_str(&status).unwrap();
    assert_eq!((status["pending"].as_u64(), status["online"].as_bool()), (Some(3), Some(false)));
    tokio::time::sleep(Duration::from_secs(30).saturating_sub(down.elapsed())).await;
    server.resume().await;

    let mut sent = 0;
    for _ in 0..200 {
        sent = outbox(&server, &token, &cache).iter().filter(|i| i["state"] == "sent").count();
        if sent == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let _ = sync.kill();
    let _ = sync.wait();
    assert_eq!(sent, 3, "all three sent by the running sync process after the server came back");
    for id in &cases {
        assert_eq!(server.get(&token, &format!("/cases/{id}")).await["decision"]["answer"], "GREEN", "{id}");
    }
}

/// (d) While the reviewer is offline, a supervisor gives the case to a colleague, who decides
/// it. The reviewer's decision comes back as a conflict with both versions; the colleague's
/// decision stands.
#[tokio::test]
async fn a_lease_lost_while_offline_is_a_conflict_not_an_overwrite() {
    let server = ServerProcess::start().await;
    let token = server.login(REVIEWER).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache.db");
    let case = server.assign_cases(REVIEWER, 1).await.remove(0);
    assert_eq!(sync_cli(&server, &token, &cache, &["hold"]).0, 0);
    let (code, _) = sync_cli(&server, &token, &cache, &["decide", &case, "--answer", "GREEN", "--no-send"]);
    assert_eq!(code, 0);

    // Meanwhile, on the server: the case goes to reviewer2, who rejects it.
    let sup = server.login(SUPERVISOR).await;
    let users = server.get(&sup, "/users").await;
    let colleague = users.as_array().unwrap().iter().find(|u| u["email"] == REVIEWER2).unwrap()["id"].clone();
    let (status, reassigned) = server.post(&sup, &format!("/cases/{case}/assign"), json!({"userId": colleague})).await;
    assert_eq!(status, 200);
    let other = server.login(REVIEWER2).await;
    let res = server
        .http
        .post(format!("{}/api/v1/cases/{case}/decision", server.url))
        .bearer_auth(&other)
        .header("idempotency-key", "colleague-1")
        .json(&json!({"answer": "RED", "rejectType": "FINAL", "labels": ["FORGERY"], "version": reassigned["version"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);

    let (code, out) = sync_cli(&server, &token, &cache, &["drain"]);
    assert_eq!((code, out.trim()), (0, "sent 0"), "refused, so not sent; and no longer pending");
    let conflicts: Value = serde_json::from_str(&sync_cli(&server, &token, &cache, &["conflicts"]).1).unwrap();
    let conflict = &conflicts[0];
    assert_eq!(conflict["item"]["caseId"], case.as_str());
    assert_eq!(conflict["item"]["input"]["answer"], "GREEN", "the reviewer's version");
    assert!(["LEASE_NOT_HELD", "CASE_ALREADY_DECIDED"].contains(&conflict["code"].as_str().unwrap()), "{conflict}");
    assert_eq!(conflict["server"]["decision"]["answer"], "RED", "the server's version beside it");
    let (_, status) = sync_cli(&server, &token, &cache, &["status"]);
    assert_eq!(serde_json::from_str::<Value>(&status).unwrap()["conflicts"], 1);
    let detail = server.get(&token, &format!("/cases/{case}")).await;
    assert_eq!(
        (detail["decision"]["answer"].as_str(), detail["decision"]["labels"][0].as_str()),
        (Some("RED"), Some("FORGERY"))
    );
}
