//! `GET /metrics` in Prometheus' text format: queue depth, SLA breaches, decisions, webhook
//! deliveries and failed attempts, per tenant id. Counts only, no personal data.

use std::fmt::Write;

use axum::extract::State;
use axum::response::IntoResponse;

use super::AppState;
use crate::error::Result;
use crate::store::metrics::Sample;

fn family(out: &mut String, name: &str, kind: &str, help: &str, samples: &[Sample]) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    for (labels, value) in samples {
        let labels: Vec<String> =
            labels.iter().map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))).collect();
        let _ = writeln!(out, "{name}{{{}}} {value}", labels.join(","));
    }
}

pub async fn metrics(State(state): State<AppState>) -> Result<impl IntoResponse> {
    let c = state.store.metric_counts().await?;
    let mut out = String::new();
    family(&mut out, "identdesk_queue_depth", "gauge", "Open cases by kind and state.", &c.queue_depth);
    family(&mut out, "identdesk_sla_breaches", "gauge", "Open cases past their due time.", &c.sla_breaches);
    family(&mut out, "identdesk_decisions_total", "counter", "Decisions made, by answer.", &c.decisions);
    family(&mut out, "identdesk_webhook_deliveries", "gauge", "Webhook deliveries by state.", &c.webhook_deliveries);
    family(
        &mut out,
        "identdesk_webhook_failed_attempts_total",
        "counter",
        "Webhook attempts the receiver did not accept, by the delivery's state.",
        &c.webhook_failed_attempts,
    );
    Ok(([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], out))
}
