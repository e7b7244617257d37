//! JSON API handlers: thin — validate, one engine or store call, respond.

pub mod admin;
pub mod agent;
pub mod bots;
pub mod channels;
pub mod chat;
pub mod credits;
pub mod handoff;
pub mod hours;
pub mod knowledge;
pub mod leads;
pub mod reports;
pub mod tickets;
pub mod tools;
pub mod workflows;

use axum::extract::State;
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::routes::{Access, Routes};
use crate::state::AppState;

/// Unix milliseconds as RFC 3339.
pub fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).map(|t| t.to_string()).unwrap_or_default()
}

pub fn public_routes(r: Routes) -> Routes {
    r.add(Method::GET, "/healthz", Access::Public, healthz)
        .add(Method::GET, "/readyz", Access::Public, readyz)
        .add(Method::GET, "/metrics", Access::Public, metrics)
        .add(Method::GET, "/widget.js", Access::Public, crate::assets::widget_js)
        .add(Method::GET, "/widget.css", Access::Public, crate::assets::widget_css)
        .add(Method::GET, "/demo", Access::Public, crate::demo::demo_page)
        .add(Method::GET, "/assets/{*path}", Access::Public, crate::assets::static_asset)
        .add(Method::GET, "/api/openapi.json", Access::Public, crate::openapi::openapi_json)
}

async fn healthz() -> &'static str {
    "ok"
}

/// Ready when the store answers. The body is `ready` and a line on the embedder
/// (`embedder: multilingual-e5-small (384 dimensions): ok`, or why vectors are off:
/// the product still answers, with BM25 retrieval, so that alone is not "unready").
async fn readyz(State(state): State<AppState>) -> Response {
    let e = state.agent.knowledge.embedder_status();
    let embedder = match &e.model {
        Some(m) if e.dimensions > 0 => format!("embedder: {m} ({} dimensions): {}", e.dimensions, e.message),
        Some(m) => format!("embedder: {m}: {}", e.message),
        None => format!("embedder: none: {}", e.message),
    };
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, format!("ready\n{embedder}\n")).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "store not ready");
            (StatusCode::SERVICE_UNAVAILABLE, format!("store unavailable\n{embedder}\n")).into_response()
        }
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    if let Ok(counts) = state.store.job_counts().await {
        state.metrics.job_queue_depth.set(counts.iter().map(|c| c.2).sum());
        state.metrics.jobs.reset();
        for lane in ["fast", "slow"] {
            for status in ["queued", "running"] {
                state.metrics.jobs.with_label_values(&[lane, status]).set(0);
            }
        }
        for (kind, status, n) in counts {
            let lane = frontdesk_engine::job::lane_of_kind(&kind);
            state.metrics.jobs.with_label_values(&[lane, &status]).add(n);
        }
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render()).into_response()
}
