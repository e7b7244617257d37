//! Content sources (B1–B7): knowledge-base articles, the file library,
//! and the sources the agent answers from.

use axum::extract::{Multipart, Path, State};
use axum::http::{header, Method, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use frontdesk_core::permissions::Permission as P;
use frontdesk_core::validate::bounded_text;
use frontdesk_knowledge::extract::{kind_of, ExtractError};
use frontdesk_store::{source_kind, Article, NewArticle, NewFile, NewSource, Source};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::auth::Authed;
use crate::error::{ApiError, ApiJson, ApiQuery, ApiResult, Code};
use crate::routes::{Access, Routes};
use crate::state::AppState;
use frontdesk_engine::ingest::enqueue_sync;

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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArticleInput {
    pub title: String,
    /// Markdown.
    pub body: String,
    /// Lowercase letters, digits and dashes; derived from the title when absent.
    pub slug: Option<String>,
    #[serde(default)]
    pub category: String,
    #[serde(default = "english")]
    pub language: String,
    #[serde(default = "yes")]
    pub public: bool,
}

fn english() -> String {
    "en".into()
}
fn yes() -> bool {
    true
}

/// `"Reset your password!"` → `"reset-your-password"`.
pub fn slugify(s: &str) -> String {
    let folded = frontdesk_core::text::fold(s);
    let slug: String = folded.split(' ').filter(|w| !w.is_empty()).collect::<Vec<_>>().join("-");
    slug.chars().take(80).collect::<String>().trim_matches('-').to_owned()
}

impl ArticleInput {
    pub fn parse(self) -> ApiResult<NewArticle> {
        let title = bounded_text("title", &self.title, 1, 200)?;
        let body = bounded_text("body", &self.body, 1, 200_000)?;
        let slug = match self.slug.filter(|s| !s.trim().is_empty()) {
            Some(s) => {
                let s = s.trim().to_owned();
                if s.len() > 80 || !s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
                    return Err(ApiError::invalid_field("slug", "use 1 to 80 lowercase letters, digits and dashes"));
                }
                s
            }
            None => slugify(&title),
        };
        if slug.is_empty() {
            return Err(ApiError::invalid_field("slug", "could not derive a slug from the title; give one"));
        }
        let language = self.language.trim().to_lowercase();
        if language.len() != 2 || !language.chars().all(|c| c.is_ascii_lowercase()) {
            return Err(ApiError::invalid_field("language", "must be a two-letter code such as en, it, es, fr"));
        }
        Ok(NewArticle {
            slug,
            title,
            body,
            category: bounded_text("category", &self.category, 0, 100)?,
            language,
            public: self.public,
        })
    }
}

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

/// Keeps a published article's source in step with the article and queues its re-sync (B5).
pub(crate) async fn sync_article_source(state: &AppState, authed: &Authed, a: &Article) -> ApiResult<Option<i64>> {
    let url = a.public.then(|| format!("/kb/{}", a.slug));
    let source = match state.store.source_for_article(a.id).await? {
        // Visibility changed: recreate the source so its privacy (and citations) follow.
        Some(s) if s.private == a.public || s.url != url => {
            state.store.delete_sources(&authed.actor(), &[s.id]).await?;
            None
        }
        other => other,
    };
    let source = match source {
        Some(s) => s,
        None => {
            state
                .store
                .create_source(
                    &authed.actor(),
                    NewSource {
                        kind: source_kind::ARTICLE.into(),
                        title: a.title.clone(),
                        url,
                        article_id: Some(a.id),
                        file_id: None,
                        citations_enabled: true,
                        private: !a.public,
                    },
                )
                .await?
        }
    };
    enqueue_sync(state, source.id).await.map_err(ApiError::internal)
}

async fn update_article(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<ArticleInput>,
) -> ApiResult<ApiJson<Value>> {
    let a = state.store.update_article(&authed.actor(), id, b.parse()?).await?;
    let job = if a.published { sync_article_source(&state, &authed, &a).await? } else { None };
    Ok(ApiJson(json!({"article": a, "sync_job_id": job})))
}

async fn delete_article(State(state): State<AppState>, authed: Authed, Path(id): Path<i64>) -> ApiResult<StatusCode> {
    state.store.delete_article(&authed.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn publish_article(State(state): State<AppState>, authed: Authed, Path(id): Path<i64>) -> ApiResult<Response> {
    let a = state.store.set_article_published(&authed.actor(), id, true).await?;
    let job = sync_article_source(&state, &authed, &a).await?;
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

/// Creates a file source and queues its sync.
pub(crate) async fn add_file_source(
    state: &AppState,
    authed: &Authed,
    file_id: i64,
    name: &str,
    citations: bool,
) -> ApiResult<(Source, Option<i64>)> {
    let source = state
        .store
        .create_source(
            &authed.actor(),
            NewSource {
                kind: source_kind::FILE.into(),
                title: name.to_owned(),
                url: None,
                article_id: None,
                file_id: Some(file_id),
                citations_enabled: citations,
                private: false,
            },
        )
        .await?;
    let job = enqueue_sync(state, source.id).await.map_err(ApiError::internal)?;
    Ok((source, job))
}

/// Uploads a file into the library (multipart field `file`); with
/// `as_source` (default true) it also becomes a source and is synced (202).
pub(crate) async fn upload_file(
    State(state): State<AppState>,
    authed: Authed,
    mut form: Multipart,
) -> ApiResult<Response> {
    let mut file: Option<(String, Vec<u8>)> = None;
    let mut as_source = true;
    let mut citations = true;
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                Code::PayloadTooLarge,
                format!("files can be at most {} bytes", state.settings.max_upload_bytes),
            )
        } else {
            ApiError::new(Code::InvalidRequest, format!("the upload is not valid multipart: {}", e.body_text()))
        }
    };
    while let Some(field) = form.next_field().await.map_err(bad)? {
        match field.name().unwrap_or_default() {
            "file" => {
                let name = field.file_name().map(str::to_owned).unwrap_or_default();
                let data = field.bytes().await.map_err(bad)?;
                file = Some((name, data.to_vec()));
            }
            "as_source" => as_source = field.text().await.map_err(bad)?.trim() != "false",
            "citations_enabled" => citations = field.text().await.map_err(bad)?.trim() != "false",
            other => {
                return Err(ApiError::invalid_field(
                    other,
                    "unknown field; send 'file', 'as_source', 'citations_enabled'",
                ))
            }
        }
    }
    let (name, data) = file.ok_or_else(|| ApiError::invalid_field("file", "is required (multipart field 'file')"))?;
    let name = bounded_text("file", name.rsplit(['/', '\\']).next().unwrap_or_default(), 1, 255)?;
    if let Err(ExtractError::Unsupported { extension, allowed }) = kind_of(&name) {
        return Err(ApiError::invalid_field(
            "file",
            format!("type {extension:?} is not supported; allowed: {allowed}"),
        ));
    }
    if data.is_empty() {
        return Err(ApiError::invalid_field("file", "the file is empty"));
    }
    if data.len() > state.settings.max_upload_bytes {
        return Err(ApiError::new(
            Code::PayloadTooLarge,
            format!("files can be at most {} bytes", state.settings.max_upload_bytes),
        ));
    }
    let sha256 = hex::encode(Sha256::digest(&data));
    let meta = state.store.create_file(&authed.actor(), NewFile { name: name.clone(), sha256, data }).await?;
    if !as_source {
        return Ok((StatusCode::CREATED, ApiJson(json!({"file": meta}))).into_response());
    }
    let (source, job) = add_file_source(&state, &authed, meta.id, &name, citations).await?;
    Ok((StatusCode::ACCEPTED, ApiJson(json!({"file": meta, "source": source, "sync_job_id": job}))).into_response())
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
    let (source, job) = add_file_source(&state, &authed, meta.id, &meta.name, citations).await?;
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

/// The citations switch (B7); refused, naming the field, for private sources.
pub(crate) async fn set_citations(state: &AppState, authed: &Authed, id: i64, on: bool) -> ApiResult<Source> {
    state.store.set_source_citations(&authed.actor(), id, on).await.map_err(|e| match e {
        frontdesk_store::StoreError::Invalid(m) => ApiError::invalid_field("citations_enabled", m),
        e => e.into(),
    })
}

async fn patch_source(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<SourcePatch>,
) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(json!(set_citations(&state, &authed, id, b.citations_enabled).await?)))
}

/// "Re-sync now" (B5): files and articles are extracted again, URL sources re-crawled
/// (with conditional requests; unchanged pages cost no re-indexing).
async fn resync_source(State(state): State<AppState>, Path(id): Path<i64>) -> ApiResult<Response> {
    let job = frontdesk_engine::ingest::resync(&state, id).await?;
    Ok((StatusCode::ACCEPTED, ApiJson(json!({"sync_job_id": job}))).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UrlInput {
    pub url: String,
    /// Crawl the same site from this page ("import related URLs").
    #[serde(default)]
    pub import_related: bool,
    /// Most pages to import (1 to 5,000; default 5,000 with related URLs).
    pub max_pages: Option<i64>,
    #[serde(default = "yes")]
    pub citations_enabled: bool,
}

/// Imports a public URL (B3): 202 with the crawl job; progress at `/api/v1/sources/{id}/crawl`.
pub async fn import_url_source(state: &AppState, authed: &Authed, b: UrlInput) -> ApiResult<(Source, Option<i64>)> {
    let url = frontdesk_knowledge::crawl::normalize(&b.url, None)
        .ok_or_else(|| ApiError::invalid_field("url", "must be an absolute http:// or https:// URL"))?;
    frontdesk_net::check_url(&url, state.settings.allow_private_networks)
        .await
        .map_err(|e| ApiError::invalid_field("url", e))?;
    let max = frontdesk_engine::crawler::MAX_PAGES;
    let max_pages = match (b.import_related, b.max_pages) {
        (false, _) => 1,
        (true, None) => max,
        (true, Some(n)) if (1..=max).contains(&n) => n,
        (true, Some(_)) => return Err(ApiError::invalid_field("max_pages", format!("must be between 1 and {max}"))),
    };
    let source = state
        .store
        .create_source(
            &authed.actor(),
            NewSource {
                kind: source_kind::URL.into(),
                title: url.to_string(),
                url: Some(url.to_string()),
                article_id: None,
                file_id: None,
                citations_enabled: b.citations_enabled,
                private: false,
            },
        )
        .await?;
    state.store.set_crawl_settings(source.id, b.import_related, max_pages).await?;
    let job = frontdesk_engine::crawler::enqueue_crawl(state, source.id).await.map_err(ApiError::internal)?;
    Ok((source, job))
}

async fn import_url(
    State(state): State<AppState>,
    authed: Authed,
    ApiJson(b): ApiJson<UrlInput>,
) -> ApiResult<Response> {
    let (source, job) = import_url_source(&state, &authed, b).await?;
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

#[cfg(test)]
mod tests {
    use super::slugify;

    #[test]
    fn slugs_are_folded_and_dashed() {
        assert_eq!(slugify("Réinitialiser votre mot de passe !"), "reinitialiser-votre-mot-de-passe");
        assert_eq!(slugify("  --  "), "");
    }
}
