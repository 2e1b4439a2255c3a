//! A real identdesk-server process on a demo data folder, for the sync tests: started,
//! stopped and started again on the same port and data; signs users in through its API.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

pub const REVIEWER: &str = "reviewer@demo.identdesk.test";
pub const REVIEWER2: &str = "reviewer2@demo.identdesk.test";
pub const SUPERVISOR: &str = "supervisor@demo.identdesk.test";

/// The server binary, built first if needed (the tests of this crate do not build it): the
/// debug build for tests, the release build for benchmarks (compiled without debug assertions).
pub fn server_binary() -> PathBuf {
    // The test command builds every binary first and says where the server is.
    if let Ok(bin) = std::env::var("IDENTDESK_SERVER_BIN") {
        if cfg!(debug_assertions) {
            return PathBuf::from(bin);
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let release = !cfg!(debug_assertions);
    let mut build = Command::new(env!("CARGO"));
    build.args(["build", "--quiet", "-p", "identdesk-server", "--bin", "identdesk-server"]).current_dir(&root);
    if release {
        build.arg("--release");
    }
    assert!(build.status().expect("cargo runs").success(), "building identdesk-server failed");
    let target = std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| root.join("target"));
    target.join(if release { "release" } else { "debug" }).join("identdesk-server")
}

pub struct ServerProcess {
    pub binary: PathBuf,
    pub data: tempfile::TempDir,
    pub port: u16,
    pub url: String,
    pub passwords: std::collections::HashMap<String, String>,
    child: Option<Child>,
    pub http: reqwest::Client,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl ServerProcess {
    /// Seeds the demo (`applicants` of them, plus `load_cases` bare queued cases) and serves it.
    pub async fn start_with(applicants: usize, load_cases: usize) -> ServerProcess {
        let binary = server_binary();
        let data = tempfile::tempdir().unwrap();
        let out = Command::new(&binary)
            .args(["--data-dir", data.path().to_str().unwrap(), "demo", "--applicants", &applicants.to_string()])
            .args(["--load-cases", &load_cases.to_string()])
            .output()
            .unwrap();
        assert!(out.status.success(), "demo: {}", String::from_utf8_lossy(&out.stderr));
        let mut passwords = std::collections::HashMap::new();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            if words.len() == 3 && words[1].ends_with("@demo.identdesk.test") {
                passwords.insert(words[1].to_owned(), words[2].to_owned());
            }
        }
        let port = free_port();
        let mut server = ServerProcess {
            binary,
            data,
            port,
            url: format!("http://127.0.0.1:{port}"),
            passwords,
            child: None,
            http: reqwest::Client::new(),
        };
        server.resume().await;
        server
    }

    pub async fn start() -> ServerProcess {
        // Bare queued cases besides the demo's random mix: enough to assign in every test.
        Self::start_with(12, 20).await
    }

    /// Starts (again) on the same port and data.
    pub async fn resume(&mut self) {
        let child = Command::new(&self.binary)
            .args(["--data-dir", self.data.path().to_str().unwrap(), "serve", "--listen"])
            .arg(format!("127.0.0.1:{}", self.port))
            .args(["--ui-dir", "/nonexistent"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        for _ in 0..200 {
            if self.http.get(format!("{}/api/v1/openapi.json", self.url)).send().await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server did not start on port {}", self.port);
    }

    /// Stops the server (the data stays).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    pub async fn login(&self, email: &str) -> String {
        let res = self
            .http
            .post(format!("{}/api/v1/auth/login", self.url))
            .json(&json!({"email": email, "password": self.passwords[email]}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "login {email}");
        res.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned()
    }

    pub async fn get(&self, token: &str, path: &str) -> Value {
        let res = self.http.get(format!("{}/api/v1{path}", self.url)).bearer_auth(token).send().await.unwrap();
        res.json().await.unwrap()
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> (u16, Value) {
        let res =
            self.http.post(format!("{}/api/v1{path}", self.url)).bearer_auth(token).json(&body).send().await.unwrap();
        (res.status().as_u16(), res.json().await.unwrap_or(Value::Null))
    }

    /// The supervisor hands `n` queued review cases to `email`; returns their ids. Cases the
    /// checks suggested labels for (watchlist hits among them) are left alone.
    pub async fn assign_cases(&self, email: &str, n: usize) -> Vec<String> {
        let sup = self.login(SUPERVISOR).await;
        let users = self.get(&sup, "/users").await;
        let user = users.as_array().unwrap().iter().find(|u| u["email"] == email).unwrap()["id"].clone();
        let mut plain = Vec::new();
        let mut offset = 0;
        while plain.len() < n {
            let page = self.get(&sup, &format!("/cases?state=queued&kind=review&limit=200&offset={offset}")).await;
            let items = page["items"].as_array().unwrap();
            if items.is_empty() {
                break;
            }
            offset += items.len();
            plain.extend(items.iter().filter(|c| c["suggestedLabels"] == json!([])).cloned());
        }
        let mut ids = Vec::new();
        for case in plain.iter().take(n) {
            let id = case["id"].as_str().unwrap().to_owned();
            let (status, body) = self.post(&sup, &format!("/cases/{id}/assign"), json!({"userId": user})).await;
            assert_eq!(status, 200, "{body}");
            ids.push(id);
        }
        assert_eq!(ids.len(), n, "enough queued cases");
        ids
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Runs the `identdesk-sync` binary once and returns (exit code, stdout).
pub fn sync_cli(server: &ServerProcess, token: &str, cache: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_identdesk-sync"))
        .args(["--server", &server.url, "--token", token, "--cache", cache.to_str().unwrap()])
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Starts `identdesk-sync … run` in the background.
pub fn sync_process(server: &ServerProcess, token: &str, cache: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_identdesk-sync"))
        .args(["--server", &server.url, "--token", token, "--cache", cache.to_str().unwrap(), "run"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

pub fn signal(pid: u32, signal: &str) {
    let status = Command::new("kill").args([signal, &pid.to_string()]).status().unwrap();
    assert!(status.success(), "kill {signal} {pid}");
}
