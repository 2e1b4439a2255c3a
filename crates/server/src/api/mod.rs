//! The HTTP API under `/api/v1`: routes, shared state, and the OpenAPI document. Handlers are
//! thin: they check the caller's role, call the store, and announce changes to listening consoles.

mod administration;
mod applicant_page;
mod applicants;
mod audit;
mod auth;
mod cases;
mod extract;
mod masking;
mod metrics;
mod request_log;
mod supervision;
mod sync;
mod video;
mod webhooks;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use tokio::sync::{broadcast, Notify};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::services::{ServeDir, ServeFile};
use utoipa::OpenApi;

use crate::error::Error;
use crate::media::MediaStore;
use crate::store::Store;
use crate::verification::Verification;

pub use extract::{Client, Staff};

/// Limits a deployment may tune.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_upload_bytes: usize,
    pub lease_ms: i64,
    /// The built analyst UI (`ui/dist`), served at `/` when it is there.
    pub ui_dir: Option<std::path::PathBuf>,
    /// The data region this node serves; tenants of other regions are refused. `None`: all.
    pub region: Option<identdesk_domain::Region>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_upload_bytes: 10 * 1024 * 1024,
            lease_ms: crate::store::cases::DEFAULT_LEASE_MS,
            ui_dir: None,
            region: None,
        }
    }
}

/// A tenant's change feed moved on to `cursor`.
#[derive(Debug, Clone)]
pub struct FeedMoved {
    pub tenant_id: String,
    pub cursor: i64,
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub media: MediaStore,
    pub limits: Arc<Limits>,
    pub feed: broadcast::Sender<FeedMoved>,
    pub verification: Arc<Verification>,
    /// Wakes the checks worker when an applicant is submitted.
    pub jobs: Arc<Notify>,
    pub video: Arc<crate::video::VideoConfig>,
    pub webhooks: Arc<crate::webhooks::WebhookConfig>,
    /// Tenants' regions, read once (they do not change).
    regions: Arc<std::sync::Mutex<std::collections::HashMap<String, identdesk_domain::Region>>>,
}

impl AppState {
    pub fn new(store: Store, media: MediaStore, limits: Limits, verification: Verification) -> AppState {
        let (feed, _) = broadcast::channel(1024);
        AppState {
            store,
            media,
            limits: Arc::new(limits),
            feed,
            verification: Arc::new(verification),
            jobs: Arc::new(Notify::new()),
            video: Arc::new(crate::video::VideoConfig::new(None)),
            webhooks: Arc::new(crate::webhooks::WebhookConfig::default()),
            regions: Arc::default(),
        }
    }

    /// Refuses a tenant of another region than this node's (data residency).
    pub async fn check_residency(&self, tenant_id: &str) -> Result<(), Error> {
        let Some(node) = self.limits.region else { return Ok(()) };
        let cached = self.regions.lock().expect("not poisoned").get(tenant_id).copied();
        let region = match cached {
            Some(r) => r,
            None => {
                let tenant = self.store.resolve_tenant(Some(tenant_id)).await?;
                self.regions.lock().expect("not poisoned").insert(tenant_id.to_owned(), tenant.region);
                tenant.region
            }
        };
        if region == node {
            Ok(())
        } else {
            Err(Error::WrongRegion(format!("this node serves region {node}; the tenant's data lives in {region}")))
        }
    }

    /// Tells connected consoles of the tenant that there is news in the feed.
    pub fn announce(&self, tenant_id: &str, cursor: i64) {
        // Nobody listening is fine.
        let _ = self.feed.send(FeedMoved { tenant_id: tenant_id.to_owned(), cursor });
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "IdentDesk API", description = "Identity verification: applicants, review queue, decisions, audit."),
    paths(
        auth::login, auth::logout, auth::me,
        applicants::create, applicants::get_one, applicants::upload_document, applicants::submit,
        applicants::verdict, applicants::erase, applicants::relationship_end, applicants::export,
        cases::list, cases::get_one, cases::claim, cases::renew, cases::release, cases::assign, cases::review_hit, cases::decide,
        cases::labels, cases::document_content, masking::mask,
        sync::changes, sync::events,
        audit::events, audit::verify, audit::export,
        supervision::log, supervision::export, supervision::reviewer_stats, supervision::qa_agreement,
        administration::users, administration::add_user, administration::set_role, administration::disable_user,
        administration::api_keys, administration::create_api_key, administration::revoke_api_key,
        administration::review_policy, administration::set_review_policy,
        video::invite, video::next, video::of_case, video::get_one, video::signal, video::screenshot, video::read_out,
        video::send_tan, video::finish, video::abort, video::recording, video::evidence_content,
        webhooks::add_endpoint, webhooks::endpoints, webhooks::deliveries, webhooks::resend,
    ),
    components(schemas(crate::error::ErrorBody)),
    modifiers(&SecuritySchemes)
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme("apiKey", SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Api-Key"))));
    }
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

async fn not_found() -> Error {
    Error::NotFound("route")
}

async fn method_not_allowed() -> Response {
    let body = crate::error::ErrorBody {
        code: "METHOD_NOT_ALLOWED".into(),
        message: "this path does not take that method".into(),
        seq: None,
    };
    (StatusCode::METHOD_NOT_ALLOWED, Json(body)).into_response()
}

fn panic_answer(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    Error::Internal("a handler panicked".into()).into_response()
}

/// The whole application; tests call it in-process or serve it on a port.
pub fn app(state: AppState) -> Router {
    let upload_limit = state.limits.max_upload_bytes;
    let api = Router::new()
        .route("/auth/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .route("/auth/me", get(auth::me))
        .route("/applicants", post(applicants::create))
        .route("/applicants/{id}", get(applicants::get_one).delete(applicants::erase))
        .route(
            "/applicants/{id}/documents",
            post(applicants::upload_document).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/applicants/{id}/submit", post(applicants::submit))
        .route("/applicants/{id}/relationship-end", post(applicants::relationship_end))
        .route("/applicants/{id}/export", get(applicants::export))
        .route("/applicants/{id}/verdict", get(applicants::verdict))
        .route("/cases", get(cases::list))
        .route("/cases/claim", post(cases::claim))
        .route("/cases/{id}", get(cases::get_one))
        .route("/cases/{id}/renew", post(cases::renew))
        .route("/cases/{id}/release", post(cases::release))
        .route("/cases/{id}/assign", post(cases::assign))
        .route("/cases/{id}/hits", post(cases::review_hit))
        .route("/cases/{id}/decision", post(cases::decide))
        .route("/documents/{id}/content", get(cases::document_content))
        .route("/documents/{id}/mask", post(masking::mask))
        .route("/labels", get(cases::labels))
        .route("/sync", get(sync::changes))
        .route("/events", get(sync::events))
        .route("/audit", get(audit::events))
        .route("/audit/verify", get(audit::verify))
        .route("/audit/export", get(audit::export))
        .route("/decisions", get(supervision::log))
        .route("/decisions/export.csv", get(supervision::export))
        .route("/stats/reviewers", get(supervision::reviewer_stats))
        .route("/stats/qa", get(supervision::qa_agreement))
        .route("/users", get(administration::users).post(administration::add_user))
        .route("/review-policy", get(administration::review_policy).put(administration::set_review_policy))
        .route("/users/{id}/role", post(administration::set_role))
        .route("/users/{id}/disable", post(administration::disable_user))
        .route("/api-keys", get(administration::api_keys).post(administration::create_api_key))
        .route("/api-keys/{id}/revoke", post(administration::revoke_api_key))
        .route("/applicants/{id}/video-ident", post(video::invite))
        .route("/video/next", post(video::next))
        .route("/cases/{id}/video", get(video::of_case))
        .route("/video/sessions/{id}", get(video::get_one))
        .route("/video/sessions/{id}/signal", get(video::signal))
        .route(
            "/video/sessions/{id}/screenshots",
            post(video::screenshot).layer(DefaultBodyLimit::max(32 * 1024 * 1024)),
        )
        .route("/video/sessions/{id}/read-out", post(video::read_out))
        .route("/video/sessions/{id}/tan", post(video::send_tan))
        .route("/video/sessions/{id}/finish", post(video::finish))
        .route("/video/sessions/{id}/abort", post(video::abort))
        .route(
            "/video/sessions/{id}/recording",
            post(video::recording).layer(DefaultBodyLimit::max(1024 * 1024 * 1024)),
        )
        .route("/video/evidence/{id}/content", get(video::evidence_content))
        .route("/webhooks", get(webhooks::endpoints).post(webhooks::add_endpoint))
        .route("/webhooks/deliveries", get(webhooks::deliveries))
        .route("/webhooks/deliveries/{id}/resend", post(webhooks::resend))
        .route("/openapi.json", get(openapi))
        // Small JSON bodies everywhere else.
        .layer(DefaultBodyLimit::max(256 * 1024))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed);
    let ui = state.limits.ui_dir.clone();
    // The applicant's page and its calls: outside the staff API, identified by the link.
    let applicant = Router::new()
        .route("/v/{token}", get(applicant_page::page))
        .route("/v/{token}/session", get(applicant_page::session))
        .route("/v/{token}/consent", post(applicant_page::consent))
        .route("/v/{token}/ws", get(applicant_page::socket))
        .route("/v/{token}/tan", post(applicant_page::tan))
        .layer(DefaultBodyLimit::max(16 * 1024));
    // For Prometheus: counts per tenant id only. Expose it to the monitoring network alone.
    let monitoring = Router::new().route("/metrics", get(metrics::metrics));
    // Every API and applicant-page call is logged (not the UI's files).
    let site = Router::new()
        .nest("/api/v1", api)
        .merge(applicant)
        .merge(monitoring)
        .layer(axum::middleware::from_fn(request_log::log_request));
    // The analyst UI at `/`: its files, and index.html for the app's own paths.
    let site = match ui {
        Some(dir) if dir.join("index.html").exists() => {
            site.fallback_service(ServeDir::new(&dir).fallback(ServeFile::new(dir.join("index.html"))))
        }
        _ => site.fallback(not_found),
    };
    site.layer(CatchPanicLayer::custom(panic_answer)).with_state(state)
}
