//! Builds the application from settings and runs it. Exposes the bound
//! address so tests can start the real server on port 0.

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use frontdesk_store::Store;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;
use utoipa_swagger_ui::SwaggerUi;

use crate::config::Settings;
use crate::error::{ApiError, Code};
use crate::state::AppState;

pub struct Application {
    listener: tokio::net::TcpListener,
    router: Router,
    pub state: AppState,
}

/// Counts requests by method and status class, and times them by route
/// template (`/api/v1/articles/{id}`; a path no route matched is
/// `unmatched`, so probes of random paths cannot grow the label set). A
/// streamed body (the live chat's events) counts until its headers are sent.
async fn count_requests(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let method = req.method().as_str().to_owned();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let resp = next.run(req).await;
    let class = format!("{}xx", resp.status().as_u16() / 100);
    state.metrics.http_requests.with_label_values(&[&method, &class]).inc();
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    state.metrics.http_duration.with_label_values(&[&method, route]).observe(started.elapsed().as_secs_f64());
    resp
}

/// Turns the body-limit layer's bare 413 into our error body.
async fn error_bodies(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    if resp.status() == StatusCode::PAYLOAD_TOO_LARGE
        && resp.headers().get(header::CONTENT_TYPE).is_none_or(|v| v != "application/json")
    {
        return ApiError::new(Code::PayloadTooLarge, "the request body is too large").into_response();
    }
    resp
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a handler panicked");
    ApiError::new(Code::Internal, "internal error; it has been logged").into_response()
}

pub fn build_router(state: AppState) -> Router {
    let (routes, defs) = crate::routes::all(state.clone()).into_parts();
    let _ = crate::openapi::ROUTES.set(defs);
    routes
        .merge(SwaggerUi::new("/api/docs").url(
            "/api/docs/openapi.json",
            crate::openapi::document(crate::openapi::ROUTES.get().map(Vec::as_slice).unwrap_or_default()),
        ))
        .fallback(|| async { ApiError::new(Code::NotFound, "no such route") })
        .layer(axum::middleware::from_fn_with_state(state.clone(), count_requests))
        // The client's address (the peer, or what trusted proxies forwarded).
        .layer(axum::middleware::from_fn_with_state(trusted_proxies(&state), crate::auth::client_address))
        .layer(axum::middleware::from_fn(cors_for_chat))
        // Extractors (JSON, forms) take at most max_body_bytes; upload routes raise
        // it for themselves, so the outer hard limit is the larger of the two.
        .layer(axum::extract::DefaultBodyLimit::max(state.settings.max_body_bytes))
        .layer(RequestBodyLimitLayer::new(state.settings.max_body_bytes.max(state.settings.max_upload_bytes)))
        // Outside the body limit, so its bare 413 gets our error body.
        .layer(axum::middleware::from_fn(error_bodies))
        .layer(CatchPanicLayer::custom(panic_response))
        // Outside everything else, so errors, 413s and panics get them too.
        .layer(axum::middleware::from_fn(crate::security::headers))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// The `trusted_proxies` networks; none when the setting is invalid
/// ([`Application::with_store`] refuses to start with an invalid one first).
fn trusted_proxies(state: &AppState) -> crate::auth::TrustedProxies {
    match state.settings.trusted_proxy_networks() {
        Ok(nets) => crate::auth::TrustedProxies(nets.into()),
        Err(e) => {
            tracing::error!(error = %e, "ignoring trusted_proxies");
            crate::auth::TrustedProxies::default()
        }
    }
}

/// CORS for the public chat API only: the widget runs on customers' sites.
async fn cors_for_chat(req: Request, next: Next) -> Response {
    let is_chat = req.uri().path().starts_with("/api/v1/chat/");
    if is_chat && req.method() == Method::OPTIONS {
        let mut r = StatusCode::NO_CONTENT.into_response();
        let h = r.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST, OPTIONS"));
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("authorization, content-type, last-event-id"),
        );
        h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("86400"));
        return r;
    }
    let mut resp = next.run(req).await;
    if is_chat {
        resp.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    }
    resp
}

impl Application {
    /// Opens the store (applying migrations), binds the listener.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&settings.data_dir)?;
        let store = frontdesk_store::open(&settings.effective_database_url()).await?;
        Self::with_store(settings, store).await
    }

    pub async fn with_store(settings: Settings, store: Arc<dyn Store>) -> anyhow::Result<Self> {
        let proxies = settings.trusted_proxy_networks()?;
        if !proxies.is_empty() {
            let list: Vec<String> = proxies.iter().map(ToString::to_string).collect();
            tracing::info!(trusted_proxies = %list.join(", "), "client addresses behind these proxies come from X-Forwarded-For");
        }
        let listener = tokio::net::TcpListener::bind(&settings.listen).await?;
        std::fs::create_dir_all(&settings.data_dir)?;
        // The index is a cache: rebuilt from the store's chunks at start.
        // The embedder: e5 / MiniLM from models_dir, an OpenAI-compatible endpoint, or
        // none. A missing or broken model, or an endpoint that is down, never stops the
        // start: retrieval runs on BM25 and /readyz says why.
        let loaded = frontdesk_engine::ingest::load_embedder(&settings).await?;
        match &loaded.embedder {
            Some(e) if loaded.status.ok => {
                tracing::info!(model = e.name(), dimensions = e.dimensions(), "dense retrieval on")
            }
            _ => tracing::warn!(status = %loaded.status.message, "dense retrieval off: BM25 only"),
        }
        let knowledge = frontdesk_agent::knowledge::Knowledge::open(&settings.data_dir, loaded.embedder.clone())?;
        knowledge.set_embedder_status(loaded.status.clone());
        // Vectors made by another embedder are cleared here and re-embedded by the
        // embed_chunks job queued below.
        if let Some(e) = &loaded.embedder {
            frontdesk_engine::ingest::match_stored_vectors(store.as_ref(), e.as_ref()).await?;
        }
        knowledge.reset().await?;
        let indexed = knowledge.sync_index(store.as_ref(), true).await?;
        tracing::info!(sources = indexed, chunks = knowledge.num_chunks(), "search index rebuilt from the store");
        let state = AppState::new(store, settings, knowledge);
        frontdesk_engine::ingest::enqueue_embed(&state).await?;
        // Media files that waited for a transcription engine get one once it is configured.
        if let Err(e) = frontdesk_engine::transcribe::enqueue_waiting(&state).await {
            tracing::warn!(error = %e, "could not queue the media files waiting for transcription");
        }
        let router = build_router(state.clone());
        // The sign-in's dummy password hash is made now, not on the first unknown email.
        frontdesk_engine::tokens::dummy_password_hash();
        Ok(Self { listener, router, state })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` resolves; runs the job worker alongside.
    ///
    /// Then drains, within `shutdown_grace_secs` plus a few seconds however
    /// clients and jobs behave: no new connection is accepted, live event
    /// streams end (clients reconnect to the next process), running jobs get
    /// the grace period and are then handed back, the mail poll loop stops,
    /// and requests still open at the deadline are cut.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let state = self.state.clone();
        let worker = if state.settings.run_worker {
            let name = format!("{}-{}", hostname(), std::process::id());
            Some((
                tokio::spawn(frontdesk_engine::worker::worker_loop(state.clone(), name)),
                tokio::spawn(frontdesk_engine::channels::email::poll_loop(state.clone())),
            ))
        } else {
            None
        };
        let signal = {
            let state = state.clone();
            async move {
                shutdown.await;
                tracing::info!("shutting down: ending live streams, finishing or handing back running jobs");
                state.begin_shutdown();
            }
        };
        // Peer addresses reach the handlers (the login throttle counts per address).
        let service = self.router.into_make_service_with_connect_info::<SocketAddr>();
        let server = axum::serve(self.listener, service).with_graceful_shutdown(signal).into_future();
        let mut server = tokio::spawn(server);
        tokio::select! {
            // Biased, shutdown first: once SIGTERM has begun the shutdown, the
            // server finishing its (quick) drain is the expected path, not a
            // server that stopped by itself. Both are ready when the drain is
            // fast, and an unbiased select picked either: it sometimes aborted
            // the job worker without its grace period or handing jobs back.
            biased;
            _ = state.shutting_down() => {}
            r = &mut server => {
                // The server stopped by itself (an accept error): stop the rest too.
                state.begin_shutdown();
                if let Some((w, mail)) = worker {
                    w.abort();
                    mail.abort();
                }
                return Ok(r??);
            }
        }
        let grace = std::time::Duration::from_secs(state.settings.shutdown_grace_secs);
        let deadline = tokio::time::Instant::now() + grace + DRAIN_MARGIN;
        if let Some((mut w, mut mail)) = worker {
            if tokio::time::timeout_at(deadline, &mut w).await.is_err() {
                tracing::warn!("the job worker did not stop in time");
                w.abort();
            }
            if tokio::time::timeout_at(deadline, &mut mail).await.is_err() {
                mail.abort();
            }
        }
        match tokio::time::timeout_at(deadline, &mut server).await {
            Ok(r) => Ok(r??),
            Err(_) => {
                tracing::warn!("requests still open at the drain deadline were cut");
                server.abort();
                Ok(())
            }
        }
    }
}

/// How long past the jobs' grace period open requests may take before the
/// process exits anyway.
const DRAIN_MARGIN: std::time::Duration = std::time::Duration::from_secs(3);

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname").map(|s| s.trim().to_owned()).unwrap_or_else(|_| "frontdesk".into())
}
