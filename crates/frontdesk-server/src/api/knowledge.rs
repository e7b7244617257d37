//! Content sources (B1–B7): knowledge-base articles, the file library,
//! and the sources the agent answers from. The rules and operations are
//! `frontdesk_engine::service::knowledge`'s; these handlers read the request
//! and write the answer.

use axum::extract::{Multipart, Path, State};
use axum::http::{header, Method, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use frontdesk_core::permissions::Permission as P;
use frontdesk_store::source_kind;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::Authed;
use crate::error::{ApiError, ApiJson, ApiQuery, ApiResult};
use crate::routes::{Access, Routes};
use crate::state::AppState;
use crate::upload::read_upload;
use frontdesk_engine::service::knowledge::{self as service, ArticleInput, UrlInput};

pub fn routes(r: Routes) -> Routes {
    use Access::User as U;
    let max_upload = r.state().settings.max_upload_bytes;
    r.add(Method::GET, "/kb/{slug}", Access::Public, kb_page)
        .add(Method::GET, "/api/v1/articles", U(P::ViewAgent), list_articles)
        .add(Method::POST, "/api/v1/articles", U(P::EditAgent), create_article)
        .add(Method::GET, "/api/v1/articles/{id}", U(P::ViewAgent), get_article)
        .add(Method::PUT, "/api/v1/articles/{id}", U(P::EditAgent), update_article)
        .add(Method::DELETE, "/api/v1/articles/{id}", U(P::EditAgent), delete_article)
        .add(Method::POST, "/api/v1/articles/{id}/publish", U(P::EditAgent), publish_article)
        .add(Method::POST, "/api/v1/articles/{id}/unpublish", U(P::EditAgent), unpublish_article)
        .add(Method::GET, "/api/v1/files", U(P::ViewAgent), list_files)
        .add_large(Method::POST, "/api/v1/files", U(P::EditAgent), max_upload + 64 * 1024, upload_file)
        .add(Method::POST, "/api/v1/files/{id}/source", U(P::EditAgent), file_as_source)
        .add(Method::GET, "/api/v1/sources", U(P::ViewAgent), list_sources)
        .add(Method::GET, "/api/v1/sources/{id}", U(P::ViewAgent), get_source)
        .add(Method::PATCH, "/api/v1/sources/{id}", U(P::EditAgent), patch_source)
        .add(Method::POST, "/api/v1/sources/{id}/resync", U(P::EditAgent), resync_source)
        .add(Method::POST, "/api/v1/sources/remove", U(P::EditAgent), remove_sources)
        .add(Method::POST, "/api/v1/sources/url", U(P::EditAgent), import_url)
        .add(Method::GET, "/api/v1/sources/{id}/crawl", U(P::ViewAgent), crawl_progress)
}

// ---------- articles ----------

async fn list_articles(State(state): State<AppState>) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(json!(state.store.list_articles().await?)))
}

async fn get_article(State(state): State<AppState>, Path(id): Path<i64>) -> ApiResult<ApiJson<Value>> {
    let a = state.store.get_article(id).await?;
    let source = state.store.source_for_article(id).await?;
    Ok(ApiJson(json!({"article": a, "source": source})))
}

async fn create_article(
    State(state): State<AppState>,
    authed: Authed,
    ApiJson(b): ApiJson<ArticleInput>,
) -> ApiResult<Response> {
    let a = state.store.create_article(&authed.actor(), b.parse()?).await?;
    Ok((StatusCode::CREATED, ApiJson(json!(a))).into_response())
}

async fn update_article(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<ArticleInput>,
) -> ApiResult<ApiJson<Value>> {
    let a = state.store.update_article(&authed.actor(), id, b.parse()?).await?;
    let job = if a.published { service::sync_article_source(&state, &authed.actor(), &a).await? } else { None };
    Ok(ApiJson(json!({"article": a, "sync_job_id": job})))
}

async fn delete_article(State(state): State<AppState>, authed: Authed, Path(id): Path<i64>) -> ApiResult<StatusCode> {
    state.store.delete_article(&authed.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn publish_article(State(state): State<AppState>, authed: Authed, Path(id): Path<i64>) -> ApiResult<Response> {
    let a = state.store.set_article_published(&authed.actor(), id, true).await?;
    let job = service::sync_article_source(&state, &authed.actor(), &a).await?;
    Ok((StatusCode::ACCEPTED, ApiJson(json!({"article": a, "sync_job_id": job}))).into_response())
}

async fn unpublish_article(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
) -> ApiResult<ApiJson<Value>> {
    let a = state.store.set_article_published(&authed.actor(), id, false).await?;
    if let Some(s) = state.store.source_for_article(id).await? {
        state.store.delete_sources(&authed.actor(), &[s.id]).await?;
    }
    Ok(ApiJson(json!(a)))
}

/// A public, published article as a page, so citations have somewhere to point.
async fn kb_page(State(state): State<AppState>, Path(slug): Path<String>) -> ApiResult<Response> {
    let a = state.store.get_article_by_slug(&slug).await?;
    if !a.published || !a.public {
        return Err(ApiError::not_found("article"));
    }
    // Links outside the scheme allow-list and raw HTML are rendered as text.
    let body = crate::markdown::render(&a.body);
    let title = escape(&a.title);
    let page = format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><link rel=\"stylesheet\" href=\"/assets/kb.css\"></head>\
         <body><article><h1>{title}</h1>{body}</article></body></html>",
        lang = escape(&a.language)
    );
    Ok(([(header::CACHE_CONTROL, "public, max-age=60")], Html(page)).into_response())
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

// ---------- files ----------

async fn list_files(State(state): State<AppState>) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(json!(state.store.list_files().await?)))
}

/// Uploads a file into the library (multipart field `file`); with
/// `as_source` (default true) it also becomes a source and is synced (202).
async fn upload_file(State(state): State<AppState>, authed: Authed, form: Multipart) -> ApiResult<Response> {
    let upload = read_upload(form, state.settings.max_upload_bytes).await?;
    match service::upload_file(&state, &authed.actor(), upload).await? {
        (meta, None) => Ok((StatusCode::CREATED, ApiJson(json!({"file": meta}))).into_response()),
        (meta, Some((source, job))) => {
            Ok((StatusCode::ACCEPTED, ApiJson(json!({"file": meta, "source": source, "sync_job_id": job})))
                .into_response())
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSourceInput {
    citations_enabled: Option<bool>,
}

/// Picks a file already in the library as a source (`?citations_enabled=false` to not cite it).
async fn file_as_source(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    ApiQuery(q): ApiQuery<FileSourceInput>,
) -> ApiResult<Response> {
    let (meta, _) = state.store.get_file(id).await?;
    let citations = q.citations_enabled.unwrap_or(true);
    let (source, job) = service::add_file_source(&state, &authed.actor(), meta.id, &meta.name, citations).await?;
    Ok((StatusCode::ACCEPTED, ApiJson(json!({"source": source, "sync_job_id": job}))).into_response())
}

// ---------- sources ----------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SourcesQuery {
    kind: Option<String>,
}

async fn list_sources(State(state): State<AppState>, ApiQuery(q): ApiQuery<SourcesQuery>) -> ApiResult<ApiJson<Value>> {
    let kind = match q.kind.as_deref() {
        None | Some("") => None,
        Some(k) if source_kind::ALL.contains(&k) => Some(k),
        Some(_) => return Err(ApiError::invalid_field("kind", "must be one of article, file, url")),
    };
    Ok(ApiJson(json!(state.store.list_sources(kind).await?)))
}

/// A source with its extracted text and chunks (B6: open a source to see what the agent reads).
async fn get_source(State(state): State<AppState>, Path(id): Path<i64>) -> ApiResult<ApiJson<Value>> {
    let s = state.store.get_source(id).await?;
    let text = state.store.source_text(id).await?;
    let chunks = state.store.list_chunks(id).await?;
    Ok(ApiJson(json!({"source": s, "text": text, "chunks": chunks})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SourcePatch {
    citations_enabled: bool,
}

async fn patch_source(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<SourcePatch>,
) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(json!(service::set_citations(&state, &authed.actor(), id, b.citations_enabled).await?)))
}

/// "Re-sync now" (B5): files and articles are extracted again, URL sources re-crawled
/// (with conditional requests; unchanged pages cost no re-indexing).
async fn resync_source(State(state): State<AppState>, Path(id): Path<i64>) -> ApiResult<Response> {
    let job = frontdesk_engine::ingest::resync(&state, id).await?;
    Ok((StatusCode::ACCEPTED, ApiJson(json!({"sync_job_id": job}))).into_response())
}

async fn import_url(
    State(state): State<AppState>,
    authed: Authed,
    ApiJson(b): ApiJson<UrlInput>,
) -> ApiResult<Response> {
    let (source, job) = service::import_url_source(&state, &authed.actor(), b).await?;
    Ok((StatusCode::ACCEPTED, ApiJson(json!({"source": source, "crawl_job_id": job}))).into_response())
}

/// Crawl progress: found, queued, fetched, failed, skipped — and the latest
/// problems: failed and skipped pages, and pages whose text was cut at
/// `extract_max_text_chars` (`truncated_pages` of them, the first 50 in
/// `truncated`, each with `truncated_kept` of `truncated_total` characters).
async fn crawl_progress(State(state): State<AppState>, Path(id): Path<i64>) -> ApiResult<ApiJson<Value>> {
    let source = state.store.get_source(id).await?;
    let progress = state.store.crawl_progress(id).await?;
    let failed = state.store.list_pages(id, Some(frontdesk_store::page_status::FAILED), 50).await?;
    let skipped = state.store.list_pages(id, Some(frontdesk_store::page_status::SKIPPED), 50).await?;
    let (cut, truncated) = state.store.truncated_pages(id, 50).await?;
    Ok(ApiJson(json!({
        "source": source,
        "progress": progress,
        "failed": failed,
        "skipped": skipped,
        "truncated_pages": cut,
        "truncated": truncated,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RemoveInput {
    ids: Vec<i64>,
}

/// "Remove as source" for several at once (B6); all or nothing.
async fn remove_sources(
    State(state): State<AppState>,
    authed: Authed,
    ApiJson(b): ApiJson<RemoveInput>,
) -> ApiResult<ApiJson<Value>> {
    if b.ids.is_empty() {
        return Err(ApiError::invalid_field("ids", "must name at least one source"));
    }
    let n = state.store.delete_sources(&authed.actor(), &b.ids).await?;
    // An article stays in the knowledge base; it just stops being a source.
    Ok(ApiJson(json!({"removed": n})))
}
