//! The knowledge base (B1), the file library (B2) and the sources the agent
//! answers from (B6, B7). The handlers call the same service as the JSON API
//! (`frontdesk_engine::service::knowledge`) and have its permissions:
//! `ViewAgent` to look, `EditAgent` to change.
//!
//! The upload form is multipart, whose body the CSRF check does not read: it
//! is sent by htmx with the `X-CSRF-Token` header and answered with an
//! `HX-Redirect` (or, on a mistake, the form again with the message).

use std::collections::HashSet;

use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use frontdesk_core::lang::Lang;
use frontdesk_core::permissions::Permission as P;
use frontdesk_knowledge::extract::SUPPORTED_EXTENSIONS;
use frontdesk_store::{source_kind, source_status, Article, Source};
use serde::Deserialize;

use super::{
    can, checked, fmt_time, ids_of, is_form_error, is_htmx, ok, options, or_redo, page, preview, see_other, status_of,
    ConsoleForm, Layout, Opt, Section,
};
use crate::auth::Authed;
use crate::error::{ApiError, ApiQuery, ApiResult, Code};
use crate::state::AppState;
use crate::upload::read_upload;
use frontdesk_engine::ingest::resync;
use frontdesk_engine::service::knowledge::{self as service, ArticleInput, UrlInput};

/// The languages an article can be written in: those the agent speaks.
const LANGUAGES: [(&str, &str); 12] = {
    let mut out = [("", ""); 12];
    let mut i = 0;
    while i < Lang::ALL.len() {
        out[i] = (Lang::ALL[i].code(), Lang::ALL[i].english_name());
        i += 1;
    }
    out
};

/// Where a successful upload lands.
const UPLOADED: &str = "/console/sources?kind=file&flash=uploaded";

/// Success messages of these pages, by the `flash` query key; the others are the console's.
fn flash_of(key: Option<&str>) -> Option<&'static str> {
    Some(match key? {
        "published" => "Published. The agent answers from it as soon as its source is ready.",
        "unpublished" => "Unpublished. The agent no longer answers from it.",
        "uploaded" => "File uploaded. It is being synced as a source.",
        "added" => "Added as a source. It is being synced.",
        "resync" => "Re-sync queued.",
        "url_added" => "URL added. It is being crawled; the table shows its progress.",
        "removed" => "Removed as source.",
        "citations_on" => "Citations turned on.",
        "citations_off" => "Citations turned off.",
        other => return super::flash_text(other),
    })
}

fn layout(
    authed: &Authed,
    section: Section,
    title: impl Into<String>,
    here: impl Into<String>,
    flash: Option<&str>,
    error: Option<String>,
) -> Layout {
    let mut l = Layout::new(authed, section, title, here).error(error);
    l.flash = flash_of(flash);
    l
}

/// The language `<select>`; a code outside the list (set through the API) is kept.
fn language_options(selected: &str) -> Vec<Opt> {
    let mut opts = options(LANGUAGES.iter().copied(), selected);
    if !selected.is_empty() && !LANGUAGES.iter().any(|(code, _)| *code == selected) {
        opts.push(Opt { value: selected.to_owned(), label: selected.to_owned(), selected: true });
    }
    opts
}

/// `1536` → `"1.5 KB"`.
fn human_size(bytes: i64) -> String {
    let b = bytes.max(0) as f64;
    let s = if b < 1024.0 {
        format!("{} B", bytes.max(0))
    } else if b < 1024.0 * 1024.0 {
        format!("{:.1} KB", b / 1024.0)
    } else {
        format!("{:.1} MB", b / (1024.0 * 1024.0))
    };
    s.replace(".0 ", " ")
}

// ---------- sources as shown ----------

/// A source's status as a badge: its CSS class and words.
fn badge(status: &str) -> (&'static str, String) {
    let class = match status {
        source_status::PENDING => "st-pending",
        source_status::SYNCING => "st-syncing",
        source_status::READY => "st-ready",
        source_status::ERROR => "st-error",
        source_status::NEEDS_TRANSCRIPTION => "st-transcribe",
        _ => "",
    };
    (class, status.replace('_', " "))
}

/// Whether a source is still being worked on (the pages then poll).
fn is_busy(status: &str) -> bool {
    matches!(status, source_status::PENDING | source_status::SYNCING)
}

/// The known kind `k`, as the constant (safe in URLs and classes).
fn known_kind(k: &str) -> Option<&'static str> {
    source_kind::ALL.iter().find(|x| **x == k).copied()
}

fn parse_kind(k: Option<&str>) -> ApiResult<&'static str> {
    match k.map(str::trim) {
        None | Some("") => Ok(source_kind::ARTICLE),
        Some(k) => known_kind(k).ok_or_else(|| ApiError::invalid_field("kind", "must be one of article, file, url")),
    }
}

fn kind_label(k: &str) -> &'static str {
    match k {
        source_kind::ARTICLE => "article",
        source_kind::FILE => "file",
        source_kind::URL => "URL",
        _ => "other",
    }
}

pub(crate) struct SourceView {
    id: i64,
    title: String,
    kind: &'static str,
    kind_label: &'static str,
    badge: &'static str,
    status: String,
    busy: bool,
    last_sync: String,
    chunks: i64,
    /// Cited in answers: on, and not private (private content never is).
    cited: bool,
    private: bool,
    error: Option<String>,
    error_short: String,
    /// "indexed the first N characters of M" when the text was cut.
    truncation: Option<String>,
    url: Option<String>,
    href: Option<String>,
    article_id: Option<i64>,
}

impl SourceView {
    fn of(s: &Source) -> Self {
        let (badge, status) = badge(&s.status);
        let error = s.error.clone().filter(|e| !e.trim().is_empty());
        Self {
            id: s.id,
            title: s.title.clone(),
            kind: known_kind(&s.kind).unwrap_or(source_kind::ARTICLE),
            kind_label: kind_label(&s.kind),
            badge,
            status,
            busy: is_busy(&s.status),
            last_sync: s.last_synced_at.map(|t| format!("{} UTC", fmt_time(t))).unwrap_or_else(|| "never".into()),
            chunks: s.chunk_count,
            cited: s.citations_enabled && !s.private,
            private: s.private,
            error_short: error.as_deref().map(|e| preview(e, 60)).unwrap_or_default(),
            error,
            truncation: s.truncation_note(),
            // The one scheme allow-list (core::links): never `javascript:` and the like.
            href: s.url.as_deref().and_then(frontdesk_core::links::safe_href),
            url: s.url.clone(),
            article_id: s.article_id,
        }
    }
}

// ---------- articles ----------

/// The article form's values: the stored article or what was just posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ArticleForm {
    title: String,
    slug: String,
    category: String,
    language: String,
    /// A checkbox: absent when unchecked.
    public: Option<String>,
    body: String,
}

impl ArticleForm {
    fn blank() -> Self {
        Self { language: "en".into(), public: Some("on".into()), ..Self::default() }
    }

    fn from_article(a: &Article) -> Self {
        Self {
            title: a.title.clone(),
            slug: a.slug.clone(),
            category: a.category.clone(),
            language: a.language.clone(),
            public: a.public.then(|| "on".to_owned()),
            body: a.body.clone(),
        }
    }

    fn is_public(&self) -> bool {
        checked(self.public.as_deref())
    }

    /// The JSON API's input; the rules are `ArticleInput::parse`'s (an empty
    /// slug is made from the title).
    fn input(&self) -> ArticleInput {
        ArticleInput {
            title: self.title.clone(),
            body: self.body.clone(),
            slug: Some(self.slug.clone()),
            category: self.category.clone(),
            language: self.language.clone(),
            public: self.is_public(),
        }
    }
}

pub(crate) struct ArticleRow {
    id: i64,
    title: String,
    category: String,
    language: String,
    published: bool,
    public: bool,
    updated: String,
}

#[derive(Template)]
#[template(path = "articles.html")]
struct ArticlesPage {
    layout: Layout,
    rows: Vec<ArticleRow>,
    form: ArticleForm,
    langs: Vec<Opt>,
    public: bool,
    can_edit: bool,
}

#[derive(Template)]
#[template(path = "article.html")]
struct ArticlePage {
    layout: Layout,
    id: i64,
    /// As stored (the form may hold unsaved values).
    title: String,
    published: bool,
    stored_public: bool,
    published_at: Option<String>,
    updated: String,
    /// The public page, when there is one.
    view_url: Option<String>,
    source: Option<SourceView>,
    form: ArticleForm,
    langs: Vec<Opt>,
    public: bool,
    can_edit: bool,
}

async fn articles_with(
    state: &AppState,
    authed: &Authed,
    form: ArticleForm,
    status: StatusCode,
    flash: Option<&str>,
    error: Option<String>,
) -> ApiResult<Response> {
    let mut articles = state.store.list_articles().await?;
    articles.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(b.id.cmp(&a.id)));
    let rows = articles
        .into_iter()
        .map(|a| ArticleRow {
            id: a.id,
            updated: fmt_time(a.updated_at),
            published: a.published,
            public: a.public,
            title: a.title,
            category: a.category,
            language: a.language,
        })
        .collect();
    let layout = layout(authed, Section::Knowledge, "Knowledge base", "/console/articles", flash, error);
    page(
        status,
        &ArticlesPage {
            layout,
            rows,
            langs: language_options(&form.language),
            public: form.is_public(),
            form,
            can_edit: can(authed, P::EditAgent),
        },
    )
}

async fn article_with(
    state: &AppState,
    authed: &Authed,
    id: i64,
    form: Option<ArticleForm>,
    status: StatusCode,
    flash: Option<&str>,
    error: Option<String>,
) -> ApiResult<Response> {
    let a = state.store.get_article(id).await?;
    let source = state.store.source_for_article(id).await?;
    let form = form.unwrap_or_else(|| ArticleForm::from_article(&a));
    let layout = layout(authed, Section::Knowledge, a.title.clone(), format!("/console/articles/{id}"), flash, error);
    page(
        status,
        &ArticlePage {
            layout,
            id,
            view_url: (a.published && a.public).then(|| format!("/kb/{}", a.slug)),
            published: a.published,
            stored_public: a.public,
            published_at: a.published_at.map(fmt_time),
            updated: fmt_time(a.updated_at),
            title: a.title,
            source: source.as_ref().map(SourceView::of),
            langs: language_options(&form.language),
            public: form.is_public(),
            form,
            can_edit: can(authed, P::EditAgent),
        },
    )
}

/// On a form error, the article's page again with the message; other errors as they are.
async fn article_or_redo(
    state: &AppState,
    authed: &Authed,
    id: i64,
    result: ApiResult<Response>,
    form: Option<ArticleForm>,
) -> ApiResult<Response> {
    or_redo(result, |e| article_with(state, authed, id, form, status_of(&e), None, Some(e.message))).await
}

pub(crate) async fn articles_page(
    State(state): State<AppState>,
    authed: Authed,
    ApiQuery(q): ApiQuery<super::FlashQuery>,
) -> ApiResult<Response> {
    articles_with(&state, &authed, ArticleForm::blank(), StatusCode::OK, q.flash.as_deref(), None).await
}

pub(crate) async fn article_page(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    ApiQuery(q): ApiQuery<super::FlashQuery>,
) -> ApiResult<Response> {
    article_with(&state, &authed, id, None, StatusCode::OK, q.flash.as_deref(), None).await
}

/// Creates a draft and opens it.
pub(crate) async fn create_article(
    State(state): State<AppState>,
    authed: Authed,
    ConsoleForm(f): ConsoleForm<ArticleForm>,
) -> ApiResult<Response> {
    let result: ApiResult<Response> = async {
        let a = state.store.create_article(&authed.actor(), f.input().parse()?).await?;
        Ok(see_other(&format!("/console/articles/{}?flash=created", a.id)))
    }
    .await;
    or_redo(result, |e| articles_with(&state, &authed, f, status_of(&e), None, Some(e.message))).await
}

/// Saves; a published article's source follows at once (B5), as with the API.
pub(crate) async fn update_article(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    ConsoleForm(f): ConsoleForm<ArticleForm>,
) -> ApiResult<Response> {
    let result = async {
        let a = state.store.update_article(&authed.actor(), id, f.input().parse()?).await?;
        if a.published {
            service::sync_article_source(&state, &authed.actor(), &a).await?;
        }
        Ok(see_other(&format!("/console/articles/{id}?flash=saved")))
    }
    .await;
    article_or_redo(&state, &authed, id, result, Some(f)).await
}

pub(crate) async fn publish_article(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let result = async {
        let a = state.store.set_article_published(&authed.actor(), id, true).await?;
        service::sync_article_source(&state, &authed.actor(), &a).await?;
        Ok(see_other(&format!("/console/articles/{id}?flash=published")))
    }
    .await;
    article_or_redo(&state, &authed, id, result, None).await
}

/// Unpublishes; the article stops being a source (as with the API).
pub(crate) async fn unpublish_article(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let result = async {
        state.store.set_article_published(&authed.actor(), id, false).await?;
        if let Some(s) = state.store.source_for_article(id).await? {
            state.store.delete_sources(&authed.actor(), &[s.id]).await?;
        }
        Ok(see_other(&format!("/console/articles/{id}?flash=unpublished")))
    }
    .await;
    article_or_redo(&state, &authed, id, result, None).await
}

pub(crate) async fn delete_article(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    state.store.delete_article(&authed.actor(), id).await?;
    Ok(see_other("/console/articles?flash=deleted"))
}

// ---------- sources ----------

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct SourcesQuery {
    kind: Option<String>,
    flash: Option<String>,
}

pub(crate) struct Tab {
    href: String,
    label: &'static str,
    count: String,
    active: bool,
}

/// The sources of one kind; polled every 3 s while any is pending or syncing.
pub(crate) struct SourceTable {
    rows: Vec<SourceView>,
    polling: bool,
    poll_url: String,
    csrf: String,
    can_edit: bool,
    empty: &'static str,
}

/// The upload form.
pub(crate) struct UploadBox {
    error: Option<String>,
    accept: String,
    allowed: String,
    max_size: String,
}

#[derive(Template)]
#[template(path = "sources.html")]
struct SourcesPage {
    layout: Layout,
    kind: &'static str,
    tabs: Vec<Tab>,
    table: SourceTable,
    upload: UploadBox,
    /// Library files that are not sources yet.
    library: Vec<Opt>,
    /// Where the library form posts (the first file; changed with the choice).
    library_action: String,
    files_total: usize,
    can_edit: bool,
}

#[derive(Template)]
#[template(path = "_src_table.html")]
struct TableFragment {
    table: SourceTable,
}

#[derive(Template)]
#[template(path = "_src_upload.html")]
struct UploadFragment {
    upload: UploadBox,
}

fn table_of(sources: &[Source], kind: &'static str, authed: &Authed) -> SourceTable {
    let rows: Vec<SourceView> = sources.iter().filter(|s| s.kind == kind).map(SourceView::of).collect();
    SourceTable {
        polling: rows.iter().any(|r| r.busy),
        poll_url: format!("/console/sources?kind={kind}"),
        rows,
        csrf: authed.csrf.clone().unwrap_or_default(),
        can_edit: can(authed, P::EditAgent),
        empty: match kind {
            source_kind::ARTICLE => "No articles are sources yet: publish one in the knowledge base.",
            source_kind::FILE => "No files are sources yet: upload one above.",
            _ => "No URL sources yet: import one above.",
        },
    }
}

fn upload_box(state: &AppState, error: Option<String>) -> UploadBox {
    UploadBox {
        error,
        accept: SUPPORTED_EXTENSIONS.iter().map(|e| format!(".{e}")).collect::<Vec<_>>().join(","),
        allowed: SUPPORTED_EXTENSIONS.iter().map(|e| format!(".{e}")).collect::<Vec<_>>().join(", "),
        max_size: human_size(i64::try_from(state.settings.max_upload_bytes).unwrap_or(i64::MAX)),
    }
}

async fn sources_with(
    state: &AppState,
    authed: &Authed,
    kind: &'static str,
    status: StatusCode,
    flash: Option<&str>,
    error: Option<String>,
) -> ApiResult<Response> {
    let all = state.store.list_sources(None).await?;
    let short_answers = state.store.list_short_answers().await?.len();
    let mut tabs: Vec<Tab> = source_kind::ALL
        .iter()
        .map(|&k| Tab {
            href: format!("/console/sources?kind={k}"),
            label: match k {
                source_kind::ARTICLE => "Articles",
                source_kind::FILE => "Files",
                _ => "URLs",
            },
            count: all.iter().filter(|s| s.kind == k).count().to_string(),
            active: k == kind,
        })
        .collect();
    tabs.push(Tab {
        href: "/console/short-answers".into(),
        label: "Short answers",
        count: short_answers.to_string(),
        active: false,
    });
    let (library, files_total) = if kind == source_kind::FILE {
        let used: HashSet<i64> = all.iter().filter_map(|s| s.file_id).collect();
        let files = state.store.list_files().await?;
        let total = files.len();
        let unused = files
            .into_iter()
            .filter(|f| !used.contains(&f.id))
            .map(|f| Opt {
                value: f.id.to_string(),
                label: format!("{} ({}, added {})", f.name, human_size(f.size), fmt_time(f.created_at)),
                selected: false,
            })
            .collect::<Vec<_>>();
        (unused, total)
    } else {
        (Vec::new(), 0)
    };
    let library_action = library.first().map(|o| format!("/console/files/{}/source", o.value)).unwrap_or_default();
    let layout = layout(authed, Section::Sources, "Sources", format!("/console/sources?kind={kind}"), flash, error);
    page(
        status,
        &SourcesPage {
            layout,
            kind,
            tabs,
            table: table_of(&all, kind, authed),
            upload: upload_box(state, None),
            library,
            library_action,
            files_total,
            can_edit: can(authed, P::EditAgent),
        },
    )
}

/// Errors shown on the sources page: the form's, and a source gone meanwhile.
fn shown_on_page(e: &ApiError) -> bool {
    is_form_error(e) || matches!(e.code, Code::NotFound | Code::PayloadTooLarge)
}

async fn sources_or_redo(
    state: &AppState,
    authed: &Authed,
    kind: &'static str,
    result: ApiResult<Response>,
) -> ApiResult<Response> {
    match result {
        Err(e) if shown_on_page(&e) => sources_with(state, authed, kind, status_of(&e), None, Some(e.message)).await,
        other => other,
    }
}

/// The sources of a kind, in tabs. With htmx, only the table (which polls
/// itself while a source is pending or syncing).
pub(crate) async fn sources_page(
    State(state): State<AppState>,
    authed: Authed,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<SourcesQuery>,
) -> ApiResult<Response> {
    let (kind, error) = match parse_kind(q.kind.as_deref()) {
        Ok(k) => (k, None),
        Err(e) => (source_kind::ARTICLE, Some(e)),
    };
    if is_htmx(&headers) && error.is_none() {
        let sources = state.store.list_sources(Some(kind)).await?;
        return ok(&TableFragment { table: table_of(&sources, kind, &authed) });
    }
    let status = error.as_ref().map(status_of).unwrap_or(StatusCode::OK);
    sources_with(&state, &authed, kind, status, q.flash.as_deref(), error.map(|e| e.message)).await
}

/// "Remove as source" for the checked rows (repeated `ids` keys); all or nothing.
/// Articles stay in the knowledge base and files in the library.
pub(crate) async fn remove_sources(
    State(state): State<AppState>,
    authed: Authed,
    ConsoleForm(pairs): ConsoleForm<Vec<(String, String)>>,
) -> ApiResult<Response> {
    let kind =
        pairs.iter().find(|(k, _)| k == "kind").and_then(|(_, v)| known_kind(v.trim())).unwrap_or(source_kind::ARTICLE);
    let result = async {
        let ids = ids_of(&pairs, "ids")?;
        if ids.is_empty() {
            return Err(ApiError::invalid_field("ids", "select at least one source to remove"));
        }
        state.store.delete_sources(&authed.actor(), &ids).await?;
        Ok(see_other(&format!("/console/sources?kind={kind}&flash=removed")))
    }
    .await;
    sources_or_redo(&state, &authed, kind, result).await
}

/// Where a row's or the detail page's form comes back to.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct BackForm {
    /// `detail` for the source's page; else the list of its kind.
    back: String,
}

fn back_to(back: &str, s: &Source, flash: &str) -> String {
    if back == "detail" {
        format!("/console/sources/{}?flash={flash}", s.id)
    } else {
        format!("/console/sources?kind={}&flash={flash}", known_kind(&s.kind).unwrap_or(source_kind::ARTICLE))
    }
}

/// "Re-sync now" (B5), as the JSON API does it (URL sources are crawled again).
pub(crate) async fn resync_source(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    ConsoleForm(f): ConsoleForm<BackForm>,
) -> ApiResult<Response> {
    let s = state.store.get_source(id).await?;
    resync(&state, id).await?;
    Ok(see_other(&back_to(&f.back, &s, "resync")))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct CitationsForm {
    /// `on` or `off`.
    citations_enabled: String,
    back: String,
}

/// The citations switch (B7): refused for private sources, which are never cited.
pub(crate) async fn set_citations(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    ConsoleForm(f): ConsoleForm<CitationsForm>,
) -> ApiResult<Response> {
    let on = checked(Some(&f.citations_enabled));
    let result = service::set_citations(&state, &authed.actor(), id, on).await.map_err(ApiError::from);
    or_redo(
        result.map(|s| see_other(&back_to(&f.back, &s, if on { "citations_on" } else { "citations_off" }))),
        |e| async move {
            if f.back == "detail" {
                source_with(&state, &authed, id, status_of(&e), None, Some(e.message)).await
            } else {
                let s = state.store.get_source(id).await?;
                let kind = known_kind(&s.kind).unwrap_or(source_kind::ARTICLE);
                sources_with(&state, &authed, kind, status_of(&e), None, Some(e.message)).await
            }
        },
    )
    .await
}

// ---------- files ----------

/// Uploads into the library and adds the file as a source, with the JSON
/// API's reading of the form and its service (same fields, checks and messages). Sent by htmx: success
/// is an `HX-Redirect`, a mistake the form again with the message; without
/// htmx, a 303 or the page with the message.
pub(crate) async fn upload(
    State(state): State<AppState>,
    authed: Authed,
    headers: HeaderMap,
    form: Result<Multipart, MultipartRejection>,
) -> ApiResult<Response> {
    let htmx = is_htmx(&headers);
    let result = match form {
        Ok(form) => match read_upload(form, state.settings.max_upload_bytes).await {
            Ok(upload) => service::upload_file(&state, &authed.actor(), upload).await.map(drop).map_err(ApiError::from),
            Err(e) => Err(e),
        },
        Err(r) => Err(ApiError::invalid_field(
            "file",
            format!("send the file as multipart/form-data in the field 'file' ({})", r.body_text()),
        )),
    };
    match result {
        Ok(()) if htmx => {
            let mut r = StatusCode::OK.into_response();
            r.headers_mut().insert("hx-redirect", HeaderValue::from_static(UPLOADED));
            Ok(r)
        }
        Ok(()) => Ok(see_other(UPLOADED)),
        Err(e) if shown_on_page(&e) => {
            if htmx {
                ok(&UploadFragment { upload: upload_box(&state, Some(e.message)) })
            } else {
                sources_with(&state, &authed, source_kind::FILE, status_of(&e), None, Some(e.message)).await
            }
        }
        Err(e) => Err(e),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct LibraryForm {
    /// The file chosen in the `<select>`; when sent, it must be the one in the path.
    file_id: Option<String>,
}

/// Makes a library file a source ("Add from file library").
pub(crate) async fn add_library_file(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    ConsoleForm(f): ConsoleForm<LibraryForm>,
) -> ApiResult<Response> {
    let result = async {
        if let Some(chosen) = f.file_id.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            if chosen != id.to_string() {
                return Err(ApiError::invalid_field(
                    "file_id",
                    "the chosen file is not the one the form was sent for; reload the page and try again",
                ));
            }
        }
        let (meta, _) = state.store.get_file(id).await?;
        if state.store.list_sources(Some(source_kind::FILE)).await?.iter().any(|s| s.file_id == Some(id)) {
            return Err(ApiError::invalid_field("file_id", format!("{} is already a source", meta.name)));
        }
        service::add_file_source(&state, &authed.actor(), meta.id, &meta.name, true).await?;
        Ok(see_other("/console/sources?kind=file&flash=added"))
    }
    .await;
    sources_or_redo(&state, &authed, source_kind::FILE, result).await
}

// ---------- one source ----------

/// How much of a source's text and chunks its page shows (a big file can
/// have megabytes of text and thousands of chunks).
const TEXT_SHOWN: usize = 200_000;
const CHUNKS_SHOWN: usize = 200;

/// The first `max` characters of `text`, and whether it was cut.
fn head(text: String, max: usize) -> (String, bool) {
    match text.char_indices().nth(max) {
        Some((at, _)) => (text[..at].to_owned(), true),
        None => (text, false),
    }
}

pub(crate) struct ChunkView {
    ordinal: i64,
    heading: String,
    locator: String,
    lang: String,
    text: String,
}

#[derive(Template)]
#[template(path = "source.html")]
struct SourcePage {
    layout: Layout,
    s: SourceView,
    text: Option<String>,
    text_cut: bool,
    chunks: Vec<ChunkView>,
    chunks_total: usize,
    /// Crawled pages whose text was cut: how many, and the first few.
    cut_total: i64,
    cut_pages: Vec<CutPage>,
    cut_more: bool,
    can_edit: bool,
}

/// A crawled page whose text was cut at the extraction limit.
pub(crate) struct CutPage {
    url: String,
    href: Option<String>,
    /// "indexed the first N characters of M".
    note: String,
}

/// Cut pages listed on a source's page.
const CUT_PAGES_SHOWN: i64 = 20;

async fn source_with(
    state: &AppState,
    authed: &Authed,
    id: i64,
    status: StatusCode,
    flash: Option<&str>,
    error: Option<String>,
) -> ApiResult<Response> {
    let s = state.store.get_source(id).await?;
    let (text, text_cut) = match state.store.source_text(id).await?.filter(|t| !t.trim().is_empty()) {
        Some(t) => {
            let (t, cut) = head(t, TEXT_SHOWN);
            (Some(t), cut)
        }
        None => (None, false),
    };
    let stored = state.store.list_chunks(id).await?;
    let chunks_total = stored.len();
    let chunks = stored
        .into_iter()
        .take(CHUNKS_SHOWN)
        .map(|c| ChunkView {
            ordinal: c.ordinal,
            heading: c.heading_path.join(" › "),
            locator: c.locator.unwrap_or_default(),
            lang: c.lang,
            text: preview(&c.text, 300),
        })
        .collect();
    let (cut_total, cut) = if s.kind == source_kind::URL {
        state.store.truncated_pages(id, CUT_PAGES_SHOWN).await?
    } else {
        (0, Vec::new())
    };
    let cut_pages = cut
        .iter()
        .filter_map(|p| {
            Some(CutPage {
                note: p.truncation_note()?,
                href: frontdesk_core::links::safe_href(&p.url),
                url: p.url.clone(),
            })
        })
        .collect::<Vec<_>>();
    let cut_more = cut_total > cut_pages.len() as i64;
    let layout = layout(
        authed,
        Section::Sources,
        format!("Source: {}", s.title),
        format!("/console/sources/{id}"),
        flash,
        error,
    );
    page(
        status,
        &SourcePage {
            layout,
            s: SourceView::of(&s),
            text,
            text_cut,
            chunks,
            chunks_total,
            cut_total,
            cut_pages,
            cut_more,
            can_edit: can(authed, P::EditAgent),
        },
    )
}

/// A source: its state, the text the agent reads and its chunks (B6).
pub(crate) async fn source_page(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    ApiQuery(q): ApiQuery<super::FlashQuery>,
) -> ApiResult<Response> {
    source_with(&state, &authed, id, StatusCode::OK, q.flash.as_deref(), None).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use frontdesk_core::model::{Availability, Role};
    use frontdesk_store::User;

    fn authed(role: Role) -> Authed {
        Authed {
            user: User {
                id: 1,
                email: "ed@example.com".into(),
                name: "Ed <script>".into(),
                role,
                paid_seat: true,
                availability: Availability::Available,
                disabled: false,
                created_at: 0,
            },
            csrf: Some("tok".into()),
        }
    }

    fn source(status: &str, private: bool) -> Source {
        Source {
            id: 7,
            kind: "file".into(),
            title: "Guide <b>.md".into(),
            url: None,
            article_id: None,
            file_id: Some(3),
            citations_enabled: true,
            private,
            status: status.into(),
            error: Some("x".repeat(200)),
            content_hash: None,
            chunk_count: 4,
            last_synced_at: Some(1_700_000_000_000),
            created_at: 0,
            updated_at: 0,
            truncated_kept: None,
            truncated_total: None,
            truncated_at_least: false,
        }
    }

    #[test]
    fn the_article_form_maps_to_the_api_input() {
        let f = ArticleForm {
            title: "Reset your password!".into(),
            slug: "  ".into(),
            category: "Account".into(),
            language: "it".into(),
            public: None,
            body: "Click *Forgot password*.".into(),
        };
        let a = f.input().parse().unwrap();
        assert_eq!((a.slug.as_str(), a.language.as_str(), a.public), ("reset-your-password", "it", false));
        let bad = ArticleForm { slug: "Not A Slug".into(), ..f };
        assert_eq!(bad.input().parse().unwrap_err().field(), Some("slug"));
        assert!(ArticleForm::blank().is_public());
    }

    #[test]
    fn languages_keep_an_unlisted_code() {
        let o = language_options("sv");
        assert_eq!(o.len(), LANGUAGES.len());
        assert!(o.iter().any(|o| o.value == "sv" && o.selected));
        let o = language_options("fi");
        assert_eq!(o.last().map(|o| (o.value.as_str(), o.selected)), Some(("fi", true)));
    }

    #[test]
    fn kinds_are_checked() {
        assert_eq!(parse_kind(None).unwrap(), "article");
        assert_eq!(parse_kind(Some("file")).unwrap(), "file");
        assert_eq!(parse_kind(Some("<x>")).unwrap_err().field.as_deref(), Some("kind"));
    }

    #[test]
    fn private_sources_are_never_shown_as_cited() {
        assert!(SourceView::of(&source("ready", false)).cited);
        let v = SourceView::of(&source("ready", true));
        assert!(!v.cited && v.private);
        assert_eq!(v.last_sync, "2023-11-14 22:13 UTC");
        assert_eq!(v.error_short.chars().count(), 60);
        assert_eq!(v.error.as_deref().map(str::len), Some(200));
    }

    #[test]
    fn statuses_have_badges_and_busy_ones_poll() {
        assert_eq!(badge("needs_transcription"), ("st-transcribe", "needs transcription".to_owned()));
        assert!(is_busy("pending") && is_busy("syncing") && !is_busy("ready") && !is_busy("error"));
        let a = authed(Role::Editor);
        let t = table_of(&[source("syncing", false), source("ready", false)], "file", &a);
        assert!(t.polling);
        let t = table_of(&[source("ready", false), source("error", false)], "file", &a);
        assert!(!t.polling);
        assert_eq!(t.rows.len(), 2);
        assert!(table_of(&[source("ready", false)], "url", &a).rows.is_empty());
    }

    #[test]
    fn the_table_stops_polling_when_settled_and_escapes_titles() {
        let a = authed(Role::Editor);
        let busy = TableFragment { table: table_of(&[source("pending", false)], "file", &a) }.render().unwrap();
        assert!(busy.contains("hx-trigger=\"every 3s\""));
        assert!(busy.contains("Guide &#60;b&#62;.md") || busy.contains("Guide &lt;b&gt;.md"), "{busy}");
        let settled = TableFragment { table: table_of(&[source("ready", true)], "file", &a) }.render().unwrap();
        assert!(!settled.contains("hx-trigger"));
        assert!(settled.contains("private content is never cited"));
    }

    #[test]
    fn a_cut_text_is_said_in_the_list() {
        let a = authed(Role::Editor);
        let cut = Source {
            error: None,
            truncated_kept: Some(5_000_000),
            truncated_total: Some(45_000_000),
            ..source("ready", false)
        };
        let html = TableFragment { table: table_of(std::slice::from_ref(&cut), "file", &a) }.render().unwrap();
        assert!(html.contains("indexed the first 5,000,000 characters of 45,000,000"), "{html}");
        assert_eq!(
            SourceView::of(&cut).truncation.as_deref(),
            Some("indexed the first 5,000,000 characters of 45,000,000")
        );
        let whole = TableFragment { table: table_of(&[source("ready", false)], "file", &a) }.render().unwrap();
        assert!(!whole.contains("indexed the first"));
    }

    #[test]
    fn only_harmless_urls_become_links() {
        let href = |url: &str| SourceView::of(&Source { url: Some(url.into()), ..source("ready", true) }).href;
        assert_eq!(href("/kb/reset").as_deref(), Some("/kb/reset"));
        assert_eq!(href("https://example.com/a").as_deref(), Some("https://example.com/a"));
        for hostile in
            ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "\u{1}javascript:x", "data:text/html,x", "vbscript:x"]
        {
            assert_eq!(href(hostile), None, "{hostile}");
        }
    }

    #[test]
    fn long_texts_are_cut_on_a_character_boundary() {
        assert_eq!(head("héllo".into(), 2), ("hé".to_owned(), true));
        assert_eq!(head("hé".into(), 2), ("hé".to_owned(), false));
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(1536), "1.5 KB");
        assert_eq!(human_size(25 * 1024 * 1024), "25 MB");
    }

    #[test]
    fn flash_keys_are_fixed_messages() {
        assert_eq!(flash_of(Some("uploaded")), Some("File uploaded. It is being synced as a source."));
        assert_eq!(flash_of(Some("saved")), Some("Saved."));
        assert_eq!(flash_of(Some("<script>")), None);
        assert_eq!(flash_of(None), None);
    }
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(crate) struct UrlForm {
    url: String,
    /// Checkbox: absent when unchecked.
    import_related: Option<String>,
    max_pages: String,
}

/// Imports a public URL from the URLs tab (same rules as the JSON API).
pub(crate) async fn import_url(
    State(state): State<AppState>,
    authed: Authed,
    ConsoleForm(f): ConsoleForm<UrlForm>,
) -> ApiResult<Response> {
    let result = async {
        let max_pages = match f.max_pages.trim() {
            "" => None,
            n => Some(n.parse::<i64>().map_err(|_| ApiError::invalid_field("max_pages", "must be a whole number"))?),
        };
        let input = UrlInput {
            url: f.url.clone(),
            import_related: super::checked(f.import_related.as_deref()),
            max_pages,
            citations_enabled: true,
        };
        service::import_url_source(&state, &authed.actor(), input).await?;
        Ok(see_other("/console/sources?kind=url&flash=url_added"))
    }
    .await;
    sources_or_redo(&state, &authed, source_kind::URL, result).await
}
