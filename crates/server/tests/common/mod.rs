//! Test harness: a real identdesk-server on 127.0.0.1:0 over a real database — a fresh SQLite
//! file, and a fresh PostgreSQL database when `IDENTDESK_TEST_PG_URL` names a server
//! (`scripts/test` starts one). In CI a missing PostgreSQL fails the run instead of skipping it.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::OnceLock;

use identdesk_domain::{Environment, Region, Role};
use identdesk_server::api::{self, AppState, Limits};
use identdesk_server::media::MediaStore;
use identdesk_server::store::accounts::hash_password;
use identdesk_server::store::Store;
use identdesk_server::verification::Verification;
use serde_json::Value;
use sqlx::Connection;

pub mod video;

pub const PASSWORD: &str = "correct horse battery staple";

/// The databases every test runs on: `("sqlite", url)` and, when available, `("postgres", url)`.
pub async fn databases(dir: &std::path::Path) -> Vec<(&'static str, String)> {
    let mut out = vec![("sqlite", format!("sqlite://{}?mode=rwc", dir.join("test.db").display()))];
    match std::env::var("IDENTDESK_TEST_PG_URL") {
        Ok(admin) => out.push(("postgres", fresh_pg_database(&admin).await)),
        Err(_) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI must test PostgreSQL too: IDENTDESK_TEST_PG_URL is not set (scripts/test sets it)")
        }
        Err(_) => eprintln!("skipping PostgreSQL: IDENTDESK_TEST_PG_URL is not set; run scripts/test to start one"),
    }
    out
}

async fn fresh_pg_database(admin_url: &str) -> String {
    sqlx::any::install_default_drivers();
    let name = format!("idt_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::AnyConnection::connect(admin_url).await.expect("connect to the test PostgreSQL");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("create test database");
    conn.close().await.ok();
    let base = admin_url.rsplit_once('/').map(|(b, _)| b).unwrap_or(admin_url);
    format!("{base}/{name}")
}

/// One password hash for every test user: argon2 is slow on purpose.
pub async fn password_hash() -> String {
    static HASH: OnceLock<String> = OnceLock::new();
    if let Some(h) = HASH.get() {
        return h.clone();
    }
    let h = hash_password(PASSWORD.to_owned()).await.unwrap();
    HASH.get_or_init(|| h).clone()
}

pub struct TestServer {
    pub backend: &'static str,
    pub url: String,
    pub base: String,
    pub store: Store,
    pub media: MediaStore,
    pub tenant_id: String,
    pub http: reqwest::Client,
    pub _dir: tempfile::TempDir,
    pub task: tokio::task::JoinHandle<()>,
}

impl TestServer {
    /// Every database this run tests, each with a server and an empty tenant "Acme".
    pub async fn all() -> Vec<TestServer> {
        Self::all_with(Limits::default()).await
    }

    pub async fn all_with(limits: Limits) -> Vec<TestServer> {
        let holder = tempfile::tempdir().unwrap();
        let mut servers = Vec::new();
        for (backend, url) in databases(holder.path()).await {
            servers.push(TestServer::start(backend, url, limits.clone()).await);
        }
        servers
    }

    pub async fn start(backend: &'static str, url: String, limits: Limits) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let url =
            if backend == "sqlite" { format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display()) } else { url };
        let store = Store::open(&url).await.unwrap_or_else(|e| panic!("{backend}: open store: {e}"));
        let media = MediaStore::open(dir.path().join("media"), &dir.path().join("master.keys")).unwrap();
        let tenant = store.create_tenant("Acme", Region::Eu).await.unwrap();
        // The invented example list: screening hits without the real lists in the repository.
        let list = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../assets/watchlists/example-blocklist.csv");
        let assets = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../assets");
        std::fs::copy(assets.join("levels.example.toml"), dir.path().join("levels.toml")).unwrap();
        let verification = Verification::load(dir.path(), &[list]).unwrap();
        let mut state = AppState::new(store.clone(), media.clone(), limits, verification);
        // Video: TANs to a log in the data folder, two attempts, TANs that expire quickly.
        let mut video = identdesk_server::video::VideoConfig::new(Some(dir.path().to_path_buf()));
        video.max_attempts = 2;
        video.tan_ttl_ms = 1500;
        state.video = std::sync::Arc::new(video);
        // Webhooks: the retry schedule scaled down from minutes and hours to milliseconds.
        let ms = std::time::Duration::from_millis;
        state.webhooks = std::sync::Arc::new(identdesk_server::webhooks::WebhookConfig::new(
            vec![ms(300), ms(600), ms(1200), ms(2400)],
            ms(50),
        ));
        let worker = identdesk_server::verification::spawn_worker(state.clone());
        let webhooks = identdesk_server::webhooks::spawn_worker(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, api::app(state)).await.unwrap();
            worker.abort();
            webhooks.abort();
        });
        TestServer {
            backend,
            url,
            base: format!("http://{addr}/api/v1"),
            store,
            media,
            tenant_id: tenant.id,
            http: reqwest::Client::builder().pool_max_idle_per_host(256).build().unwrap(),
            _dir: dir,
            task,
        }
    }

    /// The TANs the log sender wrote: (session id, TAN) in order.
    pub fn sent_tans(&self) -> Vec<(String, String)> {
        let text = std::fs::read_to_string(self._dir.path().join("tan-outbox.log")).unwrap_or_default();
        text.lines()
            .filter_map(|l| {
                let mut parts = l.split(' ');
                Some((parts.next()?.to_owned(), parts.next()?.to_owned()))
            })
            .collect()
    }

    /// Waits for the automated checks to finish with a submitted applicant; returns it.
    pub async fn checked(&self, api_key: &str, applicant_id: &str) -> Value {
        for _ in 0..300 {
            let res = self
                .http
                .get(self.at(&format!("/applicants/{applicant_id}")))
                .header("X-Api-Key", api_key)
                .send()
                .await
                .unwrap();
            let applicant: Value = res.json().await.unwrap();
            if applicant["status"] != "pending" {
                return applicant;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("{}: the checks did not finish with {applicant_id} in 15 s", self.backend);
    }

    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Adds a user to the test tenant and signs them in; returns the bearer token.
    pub async fn staff(&self, email: &str, role: Role) -> String {
        self.staff_in(&self.tenant_id.clone(), email, role).await
    }

    pub async fn staff_in(&self, tenant_id: &str, email: &str, role: Role) -> String {
        self.store.create_user_with_hash(tenant_id, email, role, &password_hash().await).await.unwrap();
        self.login(email).await
    }

    pub async fn login(&self, email: &str) -> String {
        let res = self
            .http
            .post(self.at("/auth/login"))
            .json(&serde_json::json!({"email": email, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{}: login {email}", self.backend);
        res.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned()
    }

    pub async fn api_key(&self) -> String {
        self.store.create_api_key(&self.tenant_id, Environment::Sandbox).await.unwrap().1 .0
    }

    /// Counts rows of a table: the "nothing was written" checks compare these.
    pub async fn count(&self, table: &str) -> i64 {
        use sqlx::Row;
        sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
            .fetch_one(self.store.reader())
            .await
            .unwrap()
            .try_get("n")
            .unwrap()
    }

    /// Queues `n` review cases directly (as the pipeline would).
    pub async fn queue_cases(&self, n: usize) {
        use identdesk_domain::CaseKind;
        use identdesk_server::store::applicants::SeedApplicant;
        let now = identdesk_server::store::now_ms();
        for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
            let batch: Vec<_> = chunk.iter().map(|&i| SeedApplicant::queued(i, CaseKind::Review, now)).collect();
            self.store.seed_applicants(&self.tenant_id, &batch).await.unwrap();
        }
    }
}

/// Reads an error answer: (status, code).
pub async fn error_of(res: reqwest::Response) -> (u16, String) {
    let status = res.status().as_u16();
    let body: Value = res.json().await.expect("error bodies are JSON");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "error without message: {body}");
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Uploads `image` as the applicant's passport (front), with `number` read off it if given.
pub async fn upload_passport(s: &TestServer, api_key: &str, applicant: &str, image: Vec<u8>, number: Option<&str>) {
    let mut form =
        reqwest::multipart::Form::new().text("type", "PASSPORT").text("side", "FRONT").text("country", "DEU");
    if let Some(n) = number {
        form = form.text("number", n.to_owned());
    }
    let form = form.part("file", reqwest::multipart::Part::bytes(image).file_name("passport.png"));
    let res = s
        .http
        .post(s.at(&format!("/applicants/{applicant}/documents")))
        .header("X-Api-Key", api_key)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}: {}", s.backend, res.text().await.unwrap());
}

/// Creates an applicant from `body` (the create request), uploads `passport` as their passport
/// with `number`, submits and waits for the checks; returns the applicant's id.
pub async fn checked_applicant(s: &TestServer, api_key: &str, body: Value, passport: Vec<u8>, number: &str) -> String {
    let res = s.http.post(s.at("/applicants")).header("X-Api-Key", api_key).json(&body).send().await.unwrap();
    assert_eq!(res.status(), 201, "{}", s.backend);
    let id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    upload_passport(s, api_key, &id, passport, Some(number)).await;
    let res = s.http.post(s.at(&format!("/applicants/{id}/submit"))).header("X-Api-Key", api_key).send().await.unwrap();
    assert!(res.status().is_success(), "{}: submit", s.backend);
    s.checked(api_key, &id).await;
    id
}
