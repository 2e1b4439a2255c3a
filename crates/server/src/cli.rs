//! The `identdesk-server` command line. Every subcommand takes `--data-dir` and
//! `--database-url`, anywhere on the line, so administration works on the store `serve` uses.

use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use identdesk_domain::{Environment, Region, Role};

use crate::api::{self, AppState, Limits};
use crate::error::{Error, Result};
use crate::media::MediaStore;
use crate::store::erasure::ErasureReason;
use crate::store::Store;
use crate::verification::Verification;

#[derive(Parser)]
#[command(name = "identdesk-server", version, about = "IdentDesk server: review queue, audit trail and API")]
pub struct Cli {
    #[command(flatten)]
    pub place: Place,
    #[command(subcommand)]
    pub command: Command,
}

/// Where the data lives.
#[derive(Args, Clone)]
pub struct Place {
    /// Folder for the SQLite database and the media files.
    #[arg(long, global = true, env = "IDENTDESK_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// `postgres://…` to use PostgreSQL; SQLite in the data folder when absent.
    #[arg(long, global = true, env = "IDENTDESK_DATABASE_URL")]
    pub database_url: Option<String>,
    /// The master keys that wrap the tenants' media keys; created with a fresh key when
    /// absent. Default: `master.keys` in the data folder. Keep it apart from database backups.
    #[arg(long, global = true, env = "IDENTDESK_MASTER_KEY_FILE")]
    pub master_key_file: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Runs the HTTP API.
    Serve {
        #[arg(long, env = "IDENTDESK_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Largest document upload in bytes.
        #[arg(long, default_value_t = 10 * 1024 * 1024)]
        max_upload_bytes: usize,
        /// Watchlists to screen applicants against: an OFAC folder (sdn.csv, alt.csv, add.csv),
        /// a UN XML file or a tenant CSV; repeat for several (`:`-separated in the variable).
        #[arg(long = "watchlist", env = "IDENTDESK_WATCHLISTS", value_delimiter = ':')]
        watchlists: Vec<PathBuf>,
        /// The built analyst UI, served at `/`.
        #[arg(long, env = "IDENTDESK_UI_DIR", default_value = "ui/dist")]
        ui_dir: PathBuf,
        /// The data region this node serves (eu, us, apac): tenants of other regions are
        /// refused with WRONG_REGION. All regions when absent.
        #[arg(long, env = "IDENTDESK_REGION")]
        region: Option<String>,
    },
    /// Runs one check on what standard input or a file holds and prints JSON.
    #[command(subcommand)]
    Check(CheckCommand),
    /// Screens a name against watchlists and prints the matches as JSON, best first.
    Screen {
        name: String,
        /// Date of birth, YYYY-MM-DD: a different one lowers the score.
        #[arg(long)]
        dob: Option<String>,
        /// Nationality or country (code or English name): a different one lowers the score.
        #[arg(long)]
        country: Option<String>,
        /// An OFAC folder, a UN XML file or a tenant CSV; repeat for several.
        #[arg(long = "list", env = "IDENTDESK_WATCHLISTS", value_delimiter = ':', required = true)]
        lists: Vec<PathBuf>,
        #[arg(long, default_value_t = 0.8)]
        threshold: f64,
        #[arg(long, default_value_t = 10)]
        limit: usize,
    },
    /// Applies the database migrations and exits.
    Migrate,
    /// Seeds a demo tenant with users, an API key and a live queue; prints fresh passwords.
    Demo {
        #[arg(long, default_value_t = 520)]
        applicants: usize,
        /// Also this many queued review cases without documents (for the list benchmark).
        #[arg(long, default_value_t = 0)]
        load_cases: usize,
    },
    /// Tenants (client companies).
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Staff users.
    #[command(subcommand)]
    User(UserCommand),
    /// API keys of client systems.
    #[command(subcommand)]
    Apikey(ApiKeyCommand),
    /// The audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The keys that encrypt stored media.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Retention of applicants' data.
    #[command(subcommand)]
    Retention(RetentionCommand),
    /// Erases one applicant everywhere (rows, documents, evidence, media); the audit trail
    /// keeps an `applicant.erased` event without personal data.
    Erase {
        applicant: String,
        #[arg(long)]
        tenant: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Makes a new master key, re-wraps every tenant's media key under it and removes the old
    /// master key from the key file; the media themselves are not re-encrypted.
    Rotate,
}

#[derive(Subcommand)]
pub enum CheckCommand {
    /// Reads MRZ lines on standard input; prints the format, fields and every check digit.
    Mrz,
    /// Measures a photo's quality (resolution, blur, glare, brightness, colour).
    Image { file: PathBuf },
}

#[derive(Subcommand)]
pub enum TenantCommand {
    Add {
        name: String,
        #[arg(long, default_value = "eu")]
        region: String,
    },
    List,
    /// Sets how long applicants' data is kept after the relationship ends, and the age of
    /// majority below which parental consent is needed.
    Protect {
        name: String,
        #[arg(long)]
        retention_days: i64,
        #[arg(long, default_value_t = 18)]
        age_of_majority: i64,
    },
    /// Sets which review decisions a second reviewer confirms (four-eyes) and which share of
    /// decisions is re-checked blind (QA sampling).
    ReviewPolicy {
        name: String,
        /// Labels whose decisions need four eyes, comma-separated ("" for none).
        #[arg(long, default_value = "SANCTIONS,PEP,FORGERY")]
        four_eyes_labels: String,
        /// Share of the other review decisions that need four eyes anyway, in percent.
        #[arg(long, default_value_t = 0)]
        four_eyes_percent: u8,
        /// Share of decisions re-checked blind by another reviewer, in percent.
        #[arg(long, default_value_t = 0)]
        qa_percent: u8,
    },
}

#[derive(Subcommand)]
pub enum RetentionCommand {
    /// Erases every applicant past their tenant's retention time (the server also does this
    /// once an hour).
    Run,
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Adds a user; the password is read from standard input.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        role: String,
        /// Tenant id or name; may be left out when there is only one.
        #[arg(long)]
        tenant: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum ApiKeyCommand {
    /// Creates a key and prints it once.
    Create {
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long = "env")]
        environment: String,
        /// What the key may do, comma-separated (applicants:read, applicants:write, video:invite,
        /// applicants:erase, applicants:export); all of them when absent.
        #[arg(long)]
        permissions: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Recomputes the hash chain; exits 1 and names the first broken event if it does not hold.
    Verify {
        #[arg(long)]
        tenant: Option<String>,
    },
}

impl Place {
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}?mode=rwc", self.data_dir.join("identdesk.db").display()),
        }
    }

    pub async fn open(&self) -> Result<Store> {
        std::fs::create_dir_all(&self.data_dir)?;
        Store::open(&self.database_url()).await
    }

    pub fn master_key_file(&self) -> PathBuf {
        self.master_key_file.clone().unwrap_or_else(|| self.data_dir.join("master.keys"))
    }

    pub fn media(&self) -> Result<MediaStore> {
        MediaStore::open(self.media_dir(), &self.master_key_file())
    }

    pub fn media_dir(&self) -> PathBuf {
        self.data_dir.join("media")
    }
}

pub async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("IDENTDESK_LOG").unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        // Colour codes only on a terminal: a log file or collector gets plain lines.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

pub async fn run(cli: Cli) -> Result<()> {
    let place = cli.place;
    match cli.command {
        Command::Serve { listen, max_upload_bytes, watchlists, ui_dir, region } => {
            let region: Option<Region> = region.map(|r| r.parse()).transpose()?;
            let store = place.open().await?;
            if !ui_dir.join("index.html").exists() {
                tracing::warn!(dir = %ui_dir.display(), "no built UI there (npm run build in ui/): serving the API only");
            }
            let limits = Limits { max_upload_bytes, ui_dir: Some(ui_dir), region, ..Limits::default() };
            let verification = Verification::load(&place.data_dir, &watchlists)?;
            let mut state = AppState::new(store, place.media()?, limits, verification);
            state.video = std::sync::Arc::new(crate::video::VideoConfig::from_env(place.data_dir.clone())?);
            state.webhooks = std::sync::Arc::new(crate::webhooks::WebhookConfig::from_env()?);
            serve(state, listen).await
        }
        Command::Check(command) => crate::check_commands::check(command),
        Command::Screen { name, dob, country, lists, threshold, limit } => {
            crate::check_commands::screen(&name, dob.as_deref(), country.as_deref(), &lists, threshold, limit)
        }
        Command::Migrate => {
            place.open().await?;
            println!("migrations applied to {}", redact(&place.database_url()));
            Ok(())
        }
        Command::Demo { applicants, load_cases } => {
            let store = place.open().await?;
            crate::demo::seed(&store, &place.media()?, &place.data_dir, applicants, load_cases).await
        }
        Command::Tenant(TenantCommand::Add { name, region }) => {
            let region: Region = region.parse()?;
            let tenant = place.open().await?.create_tenant(&name, region).await?;
            println!("tenant {} ({}) created in region {}", tenant.name, tenant.id, tenant.region);
            Ok(())
        }
        Command::Tenant(TenantCommand::List) => {
            for t in place.open().await?.tenants().await? {
                println!("{}\t{}\t{}", t.id, t.name, t.region);
            }
            Ok(())
        }
        Command::User(UserCommand::Add { email, role, tenant }) => {
            let role: Role = role.parse()?;
            let store = place.open().await?;
            let tenant = store.resolve_tenant(tenant.as_deref()).await?;
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password)?;
            let password = password.trim_end_matches(['\n', '\r']);
            if password.chars().count() < 12 {
                return Err(Error::InvalidBody(
                    "the password (read from standard input) needs 12 characters or more".into(),
                ));
            }
            let user = store.create_user(&tenant.id, &email, role, password).await?;
            println!("user {} ({}) added to {} as {}", user.email, user.id, tenant.name, user.role);
            Ok(())
        }
        Command::Apikey(ApiKeyCommand::Create { tenant, environment, permissions }) => {
            let environment: Environment = environment.parse()?;
            let permissions = match permissions {
                Some(list) => list
                    .split(',')
                    .map(|p| p.trim().parse::<identdesk_domain::ApiPermission>())
                    .collect::<std::result::Result<Vec<_>, _>>()?,
                None => identdesk_domain::ApiPermission::ALL.to_vec(),
            };
            let store = place.open().await?;
            let tenant = store.resolve_tenant(tenant.as_deref()).await?;
            let actor = crate::store::audit::Actor::System;
            let (id, key) = store.create_api_key_by(&tenant.id, environment, &permissions, &actor).await?;
            eprintln!("API key {id} for {} ({environment}); shown once, keep it safe:", tenant.name);
            println!("{}", key.0);
            Ok(())
        }
        Command::Tenant(TenantCommand::Protect { name, retention_days, age_of_majority }) => {
            let store = place.open().await?;
            let tenant = store.resolve_tenant(Some(&name)).await?;
            store.set_data_protection(&tenant.id, retention_days, age_of_majority).await?;
            println!(
                "{}: data kept {retention_days} days after the relationship ends; majority at {age_of_majority}",
                tenant.name
            );
            Ok(())
        }
        Command::Tenant(TenantCommand::ReviewPolicy { name, four_eyes_labels, four_eyes_percent, qa_percent }) => {
            let store = place.open().await?;
            let tenant = store.resolve_tenant(Some(&name)).await?;
            let labels = four_eyes_labels
                .split(',')
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(|l| l.parse::<identdesk_domain::RejectLabel>())
                .collect::<std::result::Result<Vec<_>, _>>()?;
            let policy = identdesk_domain::ReviewPolicy {
                four_eyes_labels: labels,
                four_eyes_percent,
                qa_sample_percent: qa_percent,
            };
            store.set_review_policy(&tenant.id, &policy, &crate::store::audit::Actor::System).await?;
            println!(
                "{}: four eyes for {} and {four_eyes_percent}% of other decisions; {qa_percent}% re-checked blind",
                tenant.name,
                if policy.four_eyes_labels.is_empty() { "no labels".to_owned() } else { four_eyes_labels }
            );
            Ok(())
        }
        Command::Retention(RetentionCommand::Run) => {
            let store = place.open().await?;
            let erased = crate::erasure::erase_expired(&store, &place.media()?, crate::store::now_ms()).await?;
            println!("retention: {erased} applicants past their time erased");
            Ok(())
        }
        Command::Erase { applicant, tenant } => {
            let store = place.open().await?;
            let tenant = store.resolve_tenant(tenant.as_deref()).await?;
            let erasure = store
                .erase_applicant(&tenant.id, &applicant, &crate::store::audit::Actor::System, ErasureReason::Request)
                .await?;
            crate::erasure::remove_media(&place.media()?, &erasure).await?;
            println!(
                "applicant {applicant} erased: {} rows, {} media objects; the audit trail keeps the erasure",
                erasure.rows, erasure.media_objects
            );
            Ok(())
        }
        Command::Keys(KeysCommand::Rotate) => {
            let (id, rewrapped) = MediaStore::rotate_master_key(&place.media_dir(), &place.master_key_file())?;
            println!(
                "master key {id} is current; {rewrapped} tenant media keys re-wrapped, the old master key removed"
            );
            Ok(())
        }
        Command::Audit(AuditCommand::Verify { tenant }) => {
            let store = place.open().await?;
            let tenants = match tenant {
                Some(t) => vec![store.resolve_tenant(Some(&t)).await?],
                None => store.tenants().await?,
            };
            for t in tenants {
                let report = store.verify_chain(&t.id).await?;
                println!("{}: {} events verify, head {}", t.name, report.verified_events, report.head_hash);
            }
            Ok(())
        }
    }
}

/// Serves the API until Ctrl-C or SIGTERM, returning expired leases to the queue meanwhile.
pub async fn serve(state: AppState, listen: SocketAddr) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let worker = crate::verification::spawn_worker(state.clone());
    let webhooks = crate::webhooks::spawn_worker(state.clone());
    let retention = crate::erasure::spawn_retention(state.clone());
    let sweeper_store = state.store.clone();
    let sweeper = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            match sweeper_store.requeue_expired().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(cases = n, "expired leases returned to the queue"),
                Err(e) => tracing::warn!(error = %e, "lease sweep failed"),
            }
        }
    });
    println!("identdesk-server listening on http://{addr}/ (API: /api/v1, OpenAPI: /api/v1/openapi.json)");
    // The peer address is kept with an applicant's consent.
    let app = api::app(state).into_make_service_with_connect_info::<SocketAddr>();
    let result = axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await;
    sweeper.abort();
    worker.abort();
    webhooks.abort();
    retention.abort();
    result.map_err(Error::from)
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// A database URL without its password, for printing.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.find(':') {
                Some(colon) => format!("{}{}:***{}", &url[..scheme + 3], &creds[..colon], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}
