//! The console's sync, measured against a release identdesk-server process on loopback:
//!   1. push latency: one console decides, the other's cache has the decision (goal ≤ 200 ms p99);
//!   2. cold sync of 50,000 cases into an empty cache (goal ≤ 2 s), and the memory it takes.
//!
//! Run: `cargo bench -p identdesk-sync --bench sync` (builds the release server itself).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{ServerProcess, REVIEWER, REVIEWER2};
use identdesk_domain::DecisionInput;
use identdesk_sync::{Cache, ServerApi, Sync};

const DECISIONS: usize = 200;
const COLD_CASES: usize = 50_000;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// Resident and peak memory of this process, from /proc (kB).
fn memory_kb() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

async fn console(server: &ServerProcess, email: &str, dir: &std::path::Path) -> Sync {
    let token = server.login(email).await;
    let cache = Cache::open(&dir.join(format!("{email}.db"))).await.unwrap();
    Sync::new(ServerApi::new(&server.url, &token), cache).await.unwrap()
}

async fn push_latency() {
    let server = ServerProcess::start_with(12, DECISIONS + 100).await;
    let dir = tempfile::tempdir().unwrap();
    let maker = console(&server, REVIEWER, dir.path()).await;
    let watcher = console(&server, REVIEWER2, dir.path()).await;
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    let running = watcher.clone();
    tokio::spawn(async move { running.run(stopped).await });
    server.assign_cases(REVIEWER, DECISIONS).await;
    let held = maker.cache_held().await.unwrap();
    let mut applied = watcher.applied();
    applied.wait_for(|c| *c > 0).await.unwrap();

    let mut latencies = Vec::with_capacity(DECISIONS);
    for id in held.iter().take(DECISIONS) {
        let version = maker.cache.case(id).await.unwrap().unwrap()["version"].as_i64().unwrap();
        let start = Instant::now();
        maker.decide(id, &DecisionInput::green(version)).await.unwrap();
        loop {
            if watcher.cache.decision(id).await.unwrap().is_some() {
                break;
            }
            let _ = tokio::time::timeout(Duration::from_millis(50), applied.changed()).await;
        }
        latencies.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    latencies.sort_by(f64::total_cmp);
    println!(
        "push: decision in one console → in the other's cache, {} decisions: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (goal p99 ≤ 200 ms)",
        latencies.len(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies.last().unwrap()
    );
}

async fn cold_sync() {
    let server = ServerProcess::start_with(0, COLD_CASES).await;
    let dir = tempfile::tempdir().unwrap();
    let mut runs = Vec::new();
    let (rss_before, _) = memory_kb();
    let mut cases = 0;
    for run in 0..3 {
        std::fs::create_dir_all(dir.path().join(run.to_string())).unwrap();
        let sync = console(&server, REVIEWER, &dir.path().join(run.to_string())).await;
        let start = Instant::now();
        sync.pull().await.unwrap();
        runs.push(start.elapsed().as_secs_f64());
        cases = sync.cache.case_count().await.unwrap();
    }
    let (rss_after, peak) = memory_kb();
    // Where the time goes: the server's pages alone, without writing them.
    let api = ServerApi::new(&server.url, &server.login(REVIEWER).await);
    let start = Instant::now();
    let mut cursor = 0;
    loop {
        let page = api.changes(cursor, 1000).await.unwrap();
        cursor = page.next_cursor;
        if !page.has_more {
            break;
        }
    }
    let fetch_only = start.elapsed().as_secs_f64();
    runs.sort_by(f64::total_cmp);
    println!(
        "cold sync: {cases} cases into an empty cache: median {:.2} s of {:?} (goal ≤ 2 s)",
        runs[1],
        runs.iter().map(|r| format!("{r:.2}")).collect::<Vec<_>>()
    );
    println!("  of which fetching the feed alone takes {fetch_only:.2} s");
    println!(
        "memory of the syncing process: {} MB resident after (from {} MB), peak {} MB",
        rss_after / 1024,
        rss_before / 1024,
        peak / 1024
    );
}

#[tokio::main]
async fn main() {
    push_latency().await;
    cold_sync().await;
}
