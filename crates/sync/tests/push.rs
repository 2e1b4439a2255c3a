//! (c) Two reviewers' consoles, each syncing from the same real server: a decision made in one
//! reaches the other's cache through the push channel, without either polling.

mod common;

use std::time::Duration;

use common::{ServerProcess, REVIEWER, REVIEWER2};
use identdesk_domain::DecisionInput;
use identdesk_sync::{Cache, ServerApi, Sync};

async fn console(
    server: &ServerProcess,
    email: &str,
    dir: &std::path::Path,
) -> (Sync, tokio::sync::watch::Sender<bool>) {
    let token = server.login(email).await;
    let cache = Cache::open(&dir.join(format!("{email}.db"))).await.unwrap();
    let sync = Sync::new(ServerApi::new(&server.url, &token), cache).await.unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = sync.clone();
    tokio::spawn(async move { running.run(stopped).await });
    (sync, stop)
}

#[tokio::test]
async fn each_console_sees_the_others_decisions_through_push() {
    let server = ServerProcess::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (ana, stop_ana) = console(&server, REVIEWER, dir.path()).await;
    let (ben, stop_ben) = console(&server, REVIEWER2, dir.path()).await;
    // Both caught up with the feed.
    for sync in [&ana, &ben] {
        let mut applied = sync.applied();
        tokio::time::timeout(Duration::from_secs(10), applied.wait_for(|c| *c > 0)).await.unwrap().unwrap();
    }

    server.assign_cases(REVIEWER, 1).await;
    server.assign_cases(REVIEWER2, 1).await;
    for (maker, watcher) in [(&ana, &ben), (&ben, &ana)] {
        let held = maker.cache_held().await.unwrap();
        let id = held.last().expect("a case assigned").clone();
        let case = maker.cache.case(&id).await.unwrap().unwrap();
        let item = maker.decide(&id, &DecisionInput::green(case["version"].as_i64().unwrap())).await.unwrap();
        assert_eq!(maker.cache.pending().await.unwrap().len(), 0, "sent at once: {item:?}");
        // The other console learns of it by push: no pull is asked for here.
        let arrived = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                if let Some(decision) = watcher.cache.decision(&id).await.unwrap() {
                    return decision;
                }
                let mut applied = watcher.applied();
                let _ = tokio::time::timeout(Duration::from_millis(200), applied.changed()).await;
            }
        })
        .await
        .expect("the decision reached the other console within 5 s");
        assert_eq!(arrived["answer"], "GREEN");
        assert_eq!(watcher.cache.case(&id).await.unwrap().unwrap()["state"], "decided");
    }
    assert!(ana.status().await.unwrap().online && ben.status().await.unwrap().online);
    let _ = (stop_ana.send(true), stop_ben.send(true));
}
