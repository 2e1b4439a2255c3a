//! Queue benchmark: claim+decide throughput and claim latency for 64 concurrent reviewers, on
//! SQLite and on PostgreSQL, each beside the same machine's baseline in the same run:
//! pgbench running a single-row UPDATE against the same PostgreSQL, and a bare single-row
//! UPDATE loop on SQLite through the same single-writer pool and pragmas.
//!
//! `cargo bench -p identdesk-server --bench queue` (PostgreSQL from IDENTDESK_TEST_PG_URL,
//! which scripts/test-postgres starts). IDENTDESK_BENCH_CASES sets the queue size,
//! IDENTDESK_BENCH_TENANTS spreads it over tenants, IDENTDESK_BENCH_RUNS repeats (medians are printed).

use std::time::{Duration, Instant};

use identdesk_domain::{CaseKind, DecisionInput, Region, Role};
use identdesk_server::store::accounts::{hash_password, StaffUser};
use identdesk_server::store::applicants::SeedApplicant;
use identdesk_server::store::{now_ms, Store};
use sqlx::Connection;

const REVIEWERS: usize = 64;

struct Figures {
    pairs_per_s: f64,
    claim_p50: Duration,
    claim_p99: Duration,
}

/// Fills `tenants` tenants with `cases` cases between them and lets 64 reviewers, spread over
/// the tenants, drain them.
async fn queue_run(store: &Store, cases: usize, tenants: usize) -> Figures {
    let hash = hash_password("bench password 123".into()).await.unwrap();
    let now = now_ms();
    let mut users = Vec::new();
    for t in 0..tenants {
        let tenant = store.create_tenant(&format!("Bench {t}"), Region::Eu).await.unwrap();
        for i in (t..REVIEWERS).step_by(tenants) {
            let email = format!("r{i}@bench.test");
            users.push(store.create_user_with_hash(&tenant.id, &email, Role::Reviewer, &hash).await.unwrap());
        }
        let mine: Vec<usize> = (t..cases).step_by(tenants).collect();
        for chunk in mine.chunks(1000) {
            let batch: Vec<_> = chunk.iter().map(|&i| SeedApplicant::queued(i, CaseKind::Review, now)).collect();
            store.seed_applicants(&tenant.id, &batch).await.unwrap();
        }
    }
    let started = Instant::now();
    let mut tasks = Vec::new();
    for user in users {
        let store = store.clone();
        tasks.push(tokio::spawn(async move { reviewer(store, user).await }));
    }
    let mut latencies = Vec::new();
    let mut decided = 0;
    for t in tasks {
        let (n, mut l) = t.await.unwrap();
        decided += n;
        latencies.append(&mut l);
    }
    let elapsed = started.elapsed();
    assert_eq!(decided, cases, "every case decided");
    latencies.sort();
    Figures {
        pairs_per_s: decided as f64 / elapsed.as_secs_f64(),
        claim_p50: latencies[latencies.len() / 2],
        claim_p99: latencies[latencies.len() * 99 / 100],
    }
}

async fn reviewer(store: Store, user: StaffUser) -> (usize, Vec<Duration>) {
    let mut latencies = Vec::new();
    let mut n = 0;
    loop {
        let t = Instant::now();
        let Some(case) = store.claim_next(&user, &[CaseKind::Review], 600_000).await.unwrap() else {
            return (n, latencies);
        };
        latencies.push(t.elapsed());
        let input = DecisionInput::green(case.version);
        store.decide(&user, &case.id, &uuid::Uuid::new_v4().to_string(), &input).await.unwrap();
        n += 1;
    }
}

/// The bare loop: one task updating one row per statement (autocommit), on the store's writer
/// connection, so journal mode, synchronous and every other pragma are the queue's own.
async fn sqlite_baseline(store: &Store, seconds: u64) -> f64 {
    sqlx::query("CREATE TABLE bench_counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
        .execute(store.writer())
        .await
        .unwrap();
    sqlx::query(
        "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 10000) \
         INSERT INTO bench_counter SELECT i, 0 FROM s",
    )
    .execute(store.writer())
    .await
    .unwrap();
    let mut conn = store.writer().acquire().await.unwrap();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let (mut id, mut count) = (1i64, 0u64);
    while Instant::now() < deadline {
        id = (id * 7919 + 13) % 10000 + 1;
        sqlx::query("UPDATE bench_counter SET n = n + 1 WHERE id = $1").bind(id).execute(&mut *conn).await.unwrap();
        count += 1;
    }
    count as f64 / started.elapsed().as_secs_f64()
}

/// pgbench, 64 clients, a single-row UPDATE per transaction, against the same database.
fn pgbench_baseline(url: &str, seconds: u64) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("update.sql");
    std::fs::write(&script, "\\set id random(1, 10000)\nUPDATE bench_counter SET n = n + 1 WHERE id = :id;\n").unwrap();
    let out = std::process::Command::new("pgbench")
        .args(["-n", "-c", "64", "-j", "2", "-T", &seconds.to_string(), "-f"])
        .arg(&script)
        .arg(url)
        .output()
        .expect("pgbench runs (package postgresql-contrib / postgresql-client)");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l.split_whitespace().nth(2))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("pgbench printed no tps: {text}{}", String::from_utf8_lossy(&out.stderr)))
}

async fn fresh_pg(admin: &str) -> String {
    sqlx::any::install_default_drivers();
    let name = format!("idt_bench_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::AnyConnection::connect(admin).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
    format!("{}/{name}", admin.rsplit_once('/').unwrap().0)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// One line per run, then the medians: these machines are noisy.
fn report(backend: &str, runs: &[(Figures, f64)], baseline_name: &str) {
    for (i, (f, base)) in runs.iter().enumerate() {
        println!(
            "{backend:<9} run {}: claim+decide {:>6.0}/s  claim p50 {:>6.2} ms  p99 {:>6.2} ms | baseline {:>6.0}/s | ratio {:>5.1}%",
            i + 1,
            f.pairs_per_s,
            f.claim_p50.as_secs_f64() * 1e3,
            f.claim_p99.as_secs_f64() * 1e3,
            base,
            100.0 * f.pairs_per_s / base
        );
    }
    let pairs = median(runs.iter().map(|(f, _)| f.pairs_per_s).collect());
    let base = median(runs.iter().map(|(_, b)| *b).collect());
    println!(
        "{backend:<9} MEDIAN: claim+decide {pairs:>6.0}/s  claim p50 {:>6.2} ms  p99 {:>6.2} ms | baseline ({baseline_name}) {base:>6.0}/s | ratio {:>5.1}%",
        median(runs.iter().map(|(f, _)| f.claim_p50.as_secs_f64() * 1e3).collect()),
        median(runs.iter().map(|(f, _)| f.claim_p99.as_secs_f64() * 1e3).collect()),
        100.0 * pairs / base
    );
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` would pass nothing: run only when benched.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let cases: usize = std::env::var("IDENTDESK_BENCH_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    // The audit chain is per tenant: more tenants show how much its ordering costs.
    let tenants: usize = std::env::var("IDENTDESK_BENCH_TENANTS").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    let runs: usize = std::env::var("IDENTDESK_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(3);
    let seconds = 5;
    println!(
        "queue benchmark: {REVIEWERS} reviewers, {cases} cases in {tenants} tenant(s), {runs} runs; baselines run {seconds} s"
    );

    let mut sqlite_runs = Vec::new();
    for _ in 0..runs {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("bench.db").display());
        let store = Store::open(&url).await.unwrap();
        let figures = queue_run(&store, cases, tenants).await;
        let baseline = sqlite_baseline(&store, seconds).await;
        store.close().await;
        sqlite_runs.push((figures, baseline));
    }
    report("sqlite", &sqlite_runs, "bare single-row UPDATE loop, same connection");

    match std::env::var("IDENTDESK_TEST_PG_URL") {
        Ok(admin) => {
            let mut pg_runs = Vec::new();
            for _ in 0..runs {
                let url = fresh_pg(&admin).await;
                let store = Store::open(&url).await.unwrap();
                let figures = queue_run(&store, cases, tenants).await;
                sqlx::query("CREATE TABLE bench_counter (id BIGINT PRIMARY KEY, n BIGINT NOT NULL)")
                    .execute(store.writer())
                    .await
                    .unwrap();
                sqlx::query("INSERT INTO bench_counter SELECT i, 0 FROM generate_series(1, 10000) AS i")
                    .execute(store.writer())
                    .await
                    .unwrap();
                let baseline = pgbench_baseline(&url, seconds);
                store.close().await;
                pg_runs.push((figures, baseline));
            }
            report("postgres", &pg_runs, "pgbench single-row UPDATE, 64 clients");
        }
        Err(_) => println!("postgres  skipped: IDENTDESK_TEST_PG_URL is not set (scripts/test-postgres starts one)"),
    }
}
