//! Content sources (B1–B7) as the admin API and the console change them:
//! knowledge-base articles and the sources that follow them, files uploaded
//! into the library, URL imports (with the network guard), and the citations
//! switch. Each change is audited by the store in its own transaction; syncs
//! and crawls are queued as jobs.

use frontdesk_core::validate::bounded_text;
use frontdesk_knowledge::extract::{kind_of, ExtractError};
use frontdesk_store::{source_kind, Actor, Article, FileMeta, NewArticle, NewFile, NewSource, Source, StoreError};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::ingest::enqueue_sync;
use crate::Engine;

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
    pub fn parse(self) -> Result<NewArticle> {
        let title = bounded_text("title", &self.title, 1, 200)?;
        let body = bounded_text("body", &self.body, 1, 200_000)?;
        let slug = match self.slug.filter(|s| !s.trim().is_empty()) {
            Some(s) => {
                let s = s.trim().to_owned();
                if s.len() > 80 || !s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
                    return Err(Error::invalid_field("slug", "use 1 to 80 lowercase letters, digits and dashes"));
                }
                s
            }
            None => slugify(&title),
        };
        if slug.is_empty() {
            return Err(Error::invalid_field("slug", "could not derive a slug from the title; give one"));
        }
        let language = self.language.trim().to_lowercase();
        if language.len() != 2 || !language.chars().all(|c| c.is_ascii_lowercase()) {
            return Err(Error::invalid_field("language", "must be a two-letter code such as en, it, es, fr"));
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

/// Keeps a published article's source in step with the article and queues its re-sync (B5).
pub async fn sync_article_source(state: &Engine, actor: &Actor, a: &Article) -> Result<Option<i64>> {
    let url = a.public.then(|| format!("/kb/{}", a.slug));
    let source = match state.store.source_for_article(a.id).await? {
        // Visibility changed: recreate the source so its privacy (and citations) follow.
        Some(s) if s.private == a.public || s.url != url => {
            state.store.delete_sources(actor, &[s.id]).await?;
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
                    actor,
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
    Ok(enqueue_sync(state, source.id).await?)
}

// ---------- files ----------

/// Creates a file source and queues its sync.
pub async fn add_file_source(
    state: &Engine,
    actor: &Actor,
    file_id: i64,
    name: &str,
    citations: bool,
) -> Result<(Source, Option<i64>)> {
    let source = state
        .store
        .create_source(
            actor,
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
    let job = enqueue_sync(state, source.id).await?;
    Ok((source, job))
}

/// A file as uploaded (the multipart reading is HTTP's).
#[derive(Debug)]
pub struct Upload {
    /// The name the browser gave, possibly with a path.
    pub name: String,
    pub data: Vec<u8>,
    /// Also make it a source (and sync it).
    pub as_source: bool,
    pub citations: bool,
}

/// The upload limit's message, the same for a body cut short and a file too large.
pub fn too_large(max_upload_bytes: usize) -> Error {
    Error::TooLarge(format!("files can be at most {max_upload_bytes} bytes"))
}

/// Stores an uploaded file in the library (name, type, size checked, naming
/// `file`); with `as_source` it also becomes a source whose sync is queued.
pub async fn upload_file(
    state: &Engine,
    actor: &Actor,
    upload: Upload,
) -> Result<(FileMeta, Option<(Source, Option<i64>)>)> {
    let Upload { name, data, as_source, citations } = upload;
    let name = bounded_text("file", name.rsplit(['/', '\\']).next().unwrap_or_default(), 1, 255)?;
    if let Err(ExtractError::Unsupported { extension, allowed }) = kind_of(&name) {
        return Err(Error::invalid_field("file", format!("type {extension:?} is not supported; allowed: {allowed}")));
    }
    if data.is_empty() {
        return Err(Error::invalid_field("file", "the file is empty"));
    }
    if data.len() > state.settings.max_upload_bytes {
        return Err(too_large(state.settings.max_upload_bytes));
    }
    let sha256 = hex::encode(Sha256::digest(&data));
    let meta = state.store.create_file(actor, NewFile { name: name.clone(), sha256, data }).await?;
    if !as_source {
        return Ok((meta, None));
    }
    let source = add_file_source(state, actor, meta.id, &name, citations).await?;
    Ok((meta, Some(source)))
}

// ---------- sources ----------

/// The citations switch (B7); refused, naming the field, for private sources.
pub async fn set_citations(state: &Engine, actor: &Actor, id: i64, on: bool) -> Result<Source> {
    state.store.set_source_citations(actor, id, on).await.map_err(|e| match e {
        StoreError::Invalid(m) => Error::invalid_field("citations_enabled", m),
        e => e.into(),
    })
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

/// Imports a public URL (B3): the URL is checked against the network guard
/// (naming `url`), the source created and its crawl queued; returns the source
/// and the crawl job.
pub async fn import_url_source(state: &Engine, actor: &Actor, b: UrlInput) -> Result<(Source, Option<i64>)> {
    let url = frontdesk_knowledge::crawl::normalize(&b.url, None)
        .ok_or_else(|| Error::invalid_field("url", "must be an absolute http:// or https:// URL"))?;
    frontdesk_net::check_url(&url, state.settings.allow_private_networks)
        .await
        .map_err(|e| Error::invalid_field("url", e))?;
    let max = crate::crawler::MAX_PAGES;
    let max_pages = match (b.import_related, b.max_pages) {
        (false, _) => 1,
        (true, None) => max,
        (true, Some(n)) if (1..=max).contains(&n) => n,
        (true, Some(_)) => return Err(Error::invalid_field("max_pages", format!("must be between 1 and {max}"))),
    };
    let source = state
        .store
        .create_source(
            actor,
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
    let job = crate::crawler::enqueue_crawl(state, source.id).await?;
    Ok((source, job))
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
