//! `identdesk-sync`: the desktop console's sync engine without a window, for scripts and for
//! the tests that kill it mid-flight. Every command works on the cache file given.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use identdesk_domain::{Answer, DecisionInput, RejectLabel, RejectType};
use identdesk_sync::{Cache, ServerApi, Sync, SyncError};
use serde::Serialize;

#[derive(Parser)]
#[command(name = "identdesk-sync", about = "Sync a reviewer's case queue with identdesk-server")]
struct Cli {
    /// The server, e.g. http://127.0.0.1:8080.
    #[arg(long, env = "IDENTDESK_SERVER")]
    server: String,
    /// A staff session token (from sign-in).
    #[arg(long, env = "IDENTDESK_TOKEN", hide_env_values = true)]
    token: String,
    /// The local cache (SQLite), created when missing.
    #[arg(long)]
    cache: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Syncs until stopped: pulls on every push, sends the outbox, reconnects with backoff.
    Run,
    /// Claims the next case and caches it for offline work; prints it.
    Claim,
    /// Caches every case this user holds (claimed or assigned); prints their ids.
    Hold,
    /// Records a decision on a cached case in the outbox, then tries to send it.
    Decide {
        case_id: String,
        #[arg(long)]
        answer: Answer,
        #[arg(long)]
        reject_type: Option<RejectType>,
        #[arg(long = "label")]
        labels: Vec<RejectLabel>,
        #[arg(long)]
        comment: Option<String>,
        /// Only record it; the next `run` or `drain` sends it.
        #[arg(long)]
        no_send: bool,
    },
    /// Sends the outbox once; exits with 3 while decisions wait.
    Drain,
    /// Pulls the change feed once.
    Pull,
    Status,
    Outbox,
    Conflicts,
}

fn print(value: &impl Serialize) {
    println!("{}", serde_json::to_string(value).expect("output serialises"));
}

async fn execute(cli: Cli) -> Result<ExitCode, SyncError> {
    let cache = Cache::open(&cli.cache).await?;
    let sync = Sync::new(ServerApi::new(&cli.server, &cli.token), cache.clone()).await?;
    match cli.command {
        Command::Run => {
            let (stop, stopped) = tokio::sync::watch::channel(false);
            tokio::spawn(async move {
                let _ = tokio::signal::ctrl_c().await;
                let _ = stop.send(true);
            });
            sync.run(stopped).await?;
        }
        Command::Claim => print(&sync.claim().await?),
        Command::Hold => print(&sync.cache_held().await?),
        Command::Decide { case_id, answer, reject_type, labels, comment, no_send } => {
            let case = cache.case(&case_id).await?.ok_or_else(|| SyncError::NotCached(case_id.clone()))?;
            let input = DecisionInput {
                answer,
                reject_type,
                labels,
                moderation_comment: comment,
                client_comment: None,
                internal_note: None,
                reupload: vec![],
                version: case["version"].as_i64().unwrap_or_default(),
            };
            let item =
                if no_send { cache.enqueue(&case_id, &input).await? } else { sync.decide(&case_id, &input).await? };
            println!("saved {} {}", item.seq, item.idempotency_key);
        }
        Command::Drain => {
            let sent = match sync.drain().await {
                Ok(n) => n,
                Err(e) if e.is_transient() => 0,
                Err(e) => return Err(e),
            };
            println!("sent {sent}");
            if !cache.pending().await?.is_empty() {
                return Ok(ExitCode::from(3));
            }
        }
        Command::Pull => println!("applied {}", sync.pull().await?),
        Command::Status => print(&sync.status().await?),
        Command::Outbox => print(&cache.outbox().await?),
        Command::Conflicts => print(&cache.conflicts().await?),
    }
    Ok(ExitCode::SUCCESS)
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    match execute(Cli::parse()).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error [{}]: {e}", e.code());
            ExitCode::FAILURE
        }
    }
}
