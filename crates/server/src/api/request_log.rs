//! One log line per API call: method, path, status, time, and who called in a form that names
//! no one (the API key's fingerprint: the first 12 hex digits of its SHA-256, as stored; or
//! "staff" or "applicant"). No bodies, no query strings (a WebSocket's token travels there),
//! and an applicant link's token is masked.

use std::time::Instant;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

/// The path as it may be logged.
fn loggable_path(path: &str) -> String {
    match path.strip_prefix("/v/") {
        Some(rest) => match rest.split_once('/') {
            Some((_, tail)) => format!("/v/…/{tail}"),
            None => "/v/…".to_owned(),
        },
        None => path.to_owned(),
    }
}

fn caller(request: &Request) -> String {
    let headers = request.headers();
    if let Some(key) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        let hash = crate::store::accounts::sha256_hex(key.trim().as_bytes());
        return format!("key:{}", &hash[..12]);
    }
    if headers.contains_key("authorization") {
        return "staff".into();
    }
    if request.uri().path().starts_with("/v/") {
        return "applicant".into();
    }
    "anonymous".into()
}

pub async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = loggable_path(request.uri().path());
    let caller = caller(&request);
    let response = next.run(request).await;
    tracing::info!(
        target: "identdesk::api",
        %method,
        path = %path,
        status = response.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        caller = %caller,
        "request"
    );
    response
}

#[cfg(test)]
mod tests {
    use super::loggable_path;

    #[test]
    fn applicant_link_tokens_are_masked() {
        assert_eq!(loggable_path("/v/abc123/consent"), "/v/…/consent");
        assert_eq!(loggable_path("/v/abc123"), "/v/…");
        assert_eq!(loggable_path("/api/v1/cases/claim"), "/api/v1/cases/claim");
    }
}
