//! The knowledge SQL both backends share (see `sql.rs` for the rules).
//! `impl_knowledge_store!` is invoked next to `impl_store!`, whose helpers
//! (`audit`, `bump_content_version`, `Tx`, `DbRow`) it uses.

pub(crate) const ARTICLE_COLUMNS: &str =
    "id, slug, title, body, category, language, published, public, created_at, updated_at, published_at";
pub(crate) const SOURCE_COLUMNS: &str =
    "id, kind, title, url, article_id, file_id, citations_enabled, private, status, \
    error, content_hash, chunk_count, last_synced_at, created_at, updated_at, \
    truncated_kept, truncated_total, truncated_at_least";
pub(crate) const CHUNK_COLUMNS: &str =
    "id, source_id, ordinal, title, heading_path, locator, body, lang, url, addressed";
pub(crate) const PAGE_COLUMNS: &str =
    "id, source_id, url, depth, status, title, content_hash, etag, last_modified, error, fetched_at, \
    truncated_kept, truncated_total, truncated_at_least";

macro_rules! impl_knowledge_store {
    ($store:ty) => {
        use crate::sql_knowledge::{ARTICLE_COLUMNS, CHUNK_COLUMNS, PAGE_COLUMNS, SOURCE_COLUMNS};

        fn chunk_from_row(r: &DbRow) -> StoreResult<StoredChunk> {
            Ok(StoredChunk {
                id: r.try_get("id")?,
                source_id: r.try_get("source_id")?,
                ordinal: r.try_get("ordinal")?,
                title: r.try_get("title")?,
                heading_path: r.json_col("heading_path")?,
                locator: r.try_get("locator")?,
                text: r.try_get("body")?,
                lang: r.try_get("lang")?,
                url: r.try_get("url")?,
                addressed: r.json_opt_col("addressed")?.unwrap_or_default(),
            })
        }

        async fn insert_chunks(tx: &mut Tx<'_>, source_id: i64, chunks: &[NewChunk], url: Option<&str>, now: i64) -> StoreResult<()> {
            for c in chunks {
                sqlx::query(
                    "INSERT INTO chunks (source_id, ordinal, title, heading_path, locator, body, lang, url, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(source_id)
                .bind(c.ordinal)
                .bind(&c.title)
                .bind(serde_json::to_string(&c.heading_path)?)
                .bind(&c.locator)
                .bind(&c.text)
                .bind(&c.lang)
                .bind(url)
                .bind(now)
                .execute(&mut **tx)
                .await?;
            }
            Ok(())
        }

        async fn fetch_article(tx: &mut Tx<'_>, id: i64) -> StoreResult<Article> {
            let row = sqlx::query(&format!("SELECT {ARTICLE_COLUMNS} FROM articles WHERE id = $1"))
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?
                .ok_or(StoreError::NotFound("article"))?;
            from_row(&row)
        }

        async fn fetch_source(tx: &mut Tx<'_>, id: i64) -> StoreResult<Source> {
            let row = sqlx::query(&format!("SELECT {SOURCE_COLUMNS} FROM sources WHERE id = $1"))
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?
                .ok_or(StoreError::NotFound("source"))?;
            from_row(&row)
        }

        fn slug_conflict(e: sqlx::Error, slug: &str) -> StoreError {
            match StoreError::from(e) {
                StoreError::Conflict(_) => StoreError::Conflict(format!("an article with the slug {slug:?} already exists")),
                e => e,
            }
        }

        #[async_trait]
        impl KnowledgeStore for $store {
            async fn create_article(&self, actor: &Actor, new: NewArticle) -> StoreResult<Article> {
                let mut tx = self.write.begin().await?;
                let now = now_ms();
                let id: i64 = sqlx::query(
                    "INSERT INTO articles (slug, title, body, category, language, published, public, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
                )
                .bind(&new.slug)
                .bind(&new.title)
                .bind(&new.body)
                .bind(&new.category)
                .bind(&new.language)
                .bind(false)
                .bind(new.public)
                .bind(now)
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| slug_conflict(e, &new.slug))?
                .try_get("id")?;
                let a = fetch_article(&mut tx, id).await?;
                audit(&mut tx, actor, "create", "article", id, None, Some(json!(a))).await?;
                tx.commit().await?;
                Ok(a)
            }

            async fn update_article(&self, actor: &Actor, id: i64, new: NewArticle) -> StoreResult<Article> {
                let mut tx = self.write.begin().await?;
                let before = fetch_article(&mut tx, id).await?;
                sqlx::query(
                    "UPDATE articles SET slug = $1, title = $2, body = $3, category = $4, language = $5, public = $6, updated_at = $7 WHERE id = $8",
                )
                .bind(&new.slug)
                .bind(&new.title)
                .bind(&new.body)
                .bind(&new.category)
                .bind(&new.language)
                .bind(new.public)
                .bind(now_ms())
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(|e| slug_conflict(e, &new.slug))?;
                let after = fetch_article(&mut tx, id).await?;
                audit(&mut tx, actor, "update", "article", id, Some(json!(before)), Some(json!(after))).await?;
                tx.commit().await?;
                Ok(after)
            }

            async fn set_article_published(&self, actor: &Actor, id: i64, published: bool) -> StoreResult<Article> {
                let mut tx = self.write.begin().await?;
                let before = fetch_article(&mut tx, id).await?;
                let now = now_ms();
                sqlx::query("UPDATE articles SET published = $1, published_at = $2, updated_at = $3 WHERE id = $4")
                    .bind(published)
                    .bind(published.then_some(now))
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                let after = fetch_article(&mut tx, id).await?;
                let action = if published { "publish" } else { "unpublish" };
                audit(&mut tx, actor, action, "article", id, Some(json!(before)), Some(json!(after))).await?;
                tx.commit().await?;
                Ok(after)
            }

            async fn delete_article(&self, actor: &Actor, id: i64) -> StoreResult<()> {
                let mut tx = self.write.begin().await?;
                let before = fetch_article(&mut tx, id).await?;
                // The source and its chunks go with it (ON DELETE CASCADE, stated explicitly for clarity).
                sqlx::query("DELETE FROM chunks WHERE source_id IN (SELECT id FROM sources WHERE article_id = $1)")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM sources WHERE article_id = $1").bind(id).execute(&mut *tx).await?;
                sqlx::query("DELETE FROM articles WHERE id = $1").bind(id).execute(&mut *tx).await?;
                bump_content_version(&mut tx).await?;
                audit(&mut tx, actor, "delete", "article", id, Some(json!(before)), None).await?;
                tx.commit().await?;
                self.local_changes.fetch_add(1, std::sync::atomic::Ordering::Release);
                Ok(())
            }

            async fn get_article(&self, id: i64) -> StoreResult<Article> {
                let row = sqlx::query(&format!("SELECT {ARTICLE_COLUMNS} FROM articles WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(&self.read)
                    .await?
                    .ok_or(StoreError::NotFound("article"))?;
                from_row(&row)
            }

            async fn get_article_by_slug(&self, slug: &str) -> StoreResult<Article> {
                let row = sqlx::query(&format!("SELECT {ARTICLE_COLUMNS} FROM articles WHERE slug = $1"))
                    .bind(slug)
                    .fetch_optional(&self.read)
                    .await?
                    .ok_or(StoreError::NotFound("article"))?;
                from_row(&row)
            }

            async fn list_articles(&self) -> StoreResult<Vec<Article>> {
                sqlx::query(&format!("SELECT {ARTICLE_COLUMNS} FROM articles ORDER BY id"))
                    .fetch_all(&self.read)
                    .await?
                    .iter()
                    .map(from_row)
                    .collect()
            }

            async fn create_file(&self, actor: &Actor, new: NewFile) -> StoreResult<FileMeta> {
                let mut tx = self.write.begin().await?;
                let row = sqlx::query(
                    "INSERT INTO files (name, size, sha256, data, created_at) VALUES ($1, $2, $3, $4, $5) \
                     RETURNING id, name, size, sha256, created_at",
                )
                .bind(&new.name)
                .bind(new.data.len() as i64)
                .bind(&new.sha256)
                .bind(&new.data)
                .bind(now_ms())
                .fetch_one(&mut *tx)
                .await?;
                let meta: FileMeta = from_row(&row)?;
                audit(&mut tx, actor, "create", "file", meta.id, None, Some(json!(meta))).await?;
                tx.commit().await?;
                Ok(meta)
            }

            async fn get_file(&self, id: i64) -> StoreResult<(FileMeta, Vec<u8>)> {
                let row = sqlx::query("SELECT id, name, size, sha256, created_at, data FROM files WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.read)
                    .await?
                    .ok_or(StoreError::NotFound("file"))?;
                Ok((from_row(&row)?, row.try_get("data")?))
            }

            async fn list_files(&self) -> StoreResult<Vec<FileMeta>> {
                sqlx::query("SELECT id, name, size, sha256, created_at FROM files ORDER BY id")
                    .fetch_all(&self.read)
                    .await?
                    .iter()
                    .map(from_row)
                    .collect()
            }

            async fn delete_file(&self, actor: &Actor, id: i64) -> StoreResult<()> {
                let mut tx = self.write.begin().await?;
                let row = sqlx::query("SELECT id, name, size, sha256, created_at FROM files WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or(StoreError::NotFound("file"))?;
                let before: FileMeta = from_row(&row)?;
                sqlx::query("DELETE FROM files WHERE id = $1").bind(id).execute(&mut *tx).await?;
                audit(&mut tx, actor, "delete", "file", id, Some(json!(before)), None).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn create_source(&self, actor: &Actor, new: NewSource) -> StoreResult<Source> {
                let mut tx = self.write.begin().await?;
                let now = now_ms();
                let id: i64 = sqlx::query(
                    "INSERT INTO sources (kind, title, url, article_id, file_id, citations_enabled, private, status, chunk_count, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $8) RETURNING id",
                )
                .bind(&new.kind)
                .bind(&new.title)
                .bind(&new.url)
                .bind(new.article_id)
                .bind(new.file_id)
                // Private content is never cited (B7).
                .bind(new.citations_enabled && !new.private)
                .bind(new.private)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?
                .try_get("id")?;
                let s = fetch_source(&mut tx, id).await?;
                audit(&mut tx, actor, "create", "source", id, None, Some(json!(s))).await?;
                tx.commit().await?;
                Ok(s)
            }

            async fn get_source(&self, id: i64) -> StoreResult<Source> {
                let row = sqlx::query(&format!("SELECT {SOURCE_COLUMNS} FROM sources WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(&self.read)
                    .await?
                    .ok_or(StoreError::NotFound("source"))?;
                from_row(&row)
            }

            async fn source_for_article(&self, article_id: i64) -> StoreResult<Option<Source>> {
                let row = sqlx::query(&format!("SELECT {SOURCE_COLUMNS} FROM sources WHERE article_id = $1"))
                    .bind(article_id)
                    .fetch_optional(&self.read)
                    .await?;
                row.as_ref().map(from_row).transpose()
            }

            async fn list_sources(&self, kind: Option<&str>) -> StoreResult<Vec<Source>> {
                sqlx::query(&format!("SELECT {SOURCE_COLUMNS} FROM sources WHERE ($1 IS NULL OR kind = $1) ORDER BY id"))
                    .bind(kind)
                    .fetch_all(&self.read)
                    .await?
                    .iter()
                    .map(from_row)
                    .collect()
            }

            async fn set_source_citations(&self, actor: &Actor, id: i64, citations_enabled: bool) -> StoreResult<Source> {
                let mut tx = self.write.begin().await?;
                let before = fetch_source(&mut tx, id).await?;
                if citations_enabled && before.private {
                    return Err(StoreError::Invalid("private content cannot be cited".into()));
                }
                sqlx::query("UPDATE sources SET citations_enabled = $1, updated_at = $2 WHERE id = $3")
                    .bind(citations_enabled)
                    .bind(now_ms())
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                let after = fetch_source(&mut tx, id).await?;
                bump_content_version(&mut tx).await?;
                audit(&mut tx, actor, "update", "source", id, Some(json!(before)), Some(json!(after))).await?;
                tx.commit().await?;
                self.local_changes.fetch_add(1, std::sync::atomic::Ordering::Release);
                Ok(after)
            }

            async fn delete_sources(&self, actor: &Actor, ids: &[i64]) -> StoreResult<u64> {
                let mut tx = self.write.begin().await?;
                let mut n = 0;
                for id in ids {
                    let before = fetch_source(&mut tx, *id).await?;
                    sqlx::query("DELETE FROM chunks WHERE source_id = $1").bind(id).execute(&mut *tx).await?;
                    n += sqlx::query("DELETE FROM sources WHERE id = $1").bind(id).execute(&mut *tx).await?.rows_affected();
                    audit(&mut tx, actor, "delete", "source", id, Some(json!(before)), None).await?;
                }
                bump_content_version(&mut tx).await?;
                tx.commit().await?;
                self.local_changes.fetch_add(1, std::sync::atomic::Ordering::Release);
                Ok(n)
            }

            async fn set_source_status(&self, id: i64, status: &str, error: Option<&str>) -> StoreResult<()> {
                let done = sqlx::query("UPDATE sources SET status = $1, error = $2, updated_at = $3 WHERE id = $4")
                    .bind(status)
                    .bind(error)
                    .bind(now_ms())
                    .bind(id)
                    .execute(&self.write)
                    .await?
                    .rows_affected();
                if done == 0 {
                    return Err(StoreError::NotFound("source"));
                }
                Ok(())
            }

            async fn replace_chunks(&self, source_id: i64, extracted: Extracted) -> StoreResult<Source> {
                let mut tx = self.write.begin().await?;
                let now = now_ms();
                fetch_source(&mut tx, source_id).await?;
                sqlx::query("DELETE FROM chunks WHERE source_id = $1").bind(source_id).execute(&mut *tx).await?;
                insert_chunks(&mut tx, source_id, &extracted.chunks, None, now).await?;
                sqlx::query(
                    "UPDATE sources SET status = 'ready', error = NULL, content_hash = $1, extracted_text = $2, chunk_count = $3, \
                     last_synced_at = $4, updated_at = $4, title = COALESCE($5, title), \
                     truncated_kept = $7, truncated_total = $8, truncated_at_least = $9 WHERE id = $6",
                )
                .bind(&extracted.content_hash)
                .bind(&extracted.text)
                .bind(extracted.chunks.len() as i64)
                .bind(now)
                .bind(&extracted.title)
                .bind(source_id)
                .bind(extracted.truncated.map(|t| t.kept))
                .bind(extracted.truncated.map(|t| t.total))
                .bind(extracted.truncated.is_some_and(|t| t.at_least))
                .execute(&mut *tx)
                .await?;
                let s = fetch_source(&mut tx, source_id).await?;
                bump_content_version(&mut tx).await?;
                tx.commit().await?;
                self.local_changes.fetch_add(1, std::sync::atomic::Ordering::Release);
                Ok(s)
            }

            async fn source_text(&self, id: i64) -> StoreResult<Option<String>> {
                let row = sqlx::query("SELECT extracted_text FROM sources WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.read)
                    .await?
                    .ok_or(StoreError::NotFound("source"))?;
                Ok(row.try_get("extracted_text")?)
            }

            async fn list_chunks(&self, source_id: i64) -> StoreResult<Vec<StoredChunk>> {
                sqlx::query(&format!("SELECT {CHUNK_COLUMNS} FROM chunks WHERE source_id = $1 ORDER BY ordinal"))
                    .bind(source_id)
                    .fetch_all(&self.read)
                    .await?
                    .iter()
                    .map(chunk_from_row)
                    .collect()
            }

            async fn all_chunks(&self) -> StoreResult<Vec<StoredChunk>> {
                sqlx::query(&format!("SELECT {CHUNK_COLUMNS} FROM chunks ORDER BY id"))
                    .fetch_all(&self.read)
                    .await?
                    .iter()
                    .map(chunk_from_row)
                    .collect()
            }

            async fn chunks_missing_embedding(&self, limit: i64) -> StoreResult<Vec<(i64, i64, String)>> {
                let rows = sqlx::query(
                    "SELECT id, source_id, title, heading_path, body FROM chunks WHERE embedding IS NULL ORDER BY id LIMIT $1",
                )
                .bind(limit)
                .fetch_all(&self.read)
                .await?;
                rows.iter()
                    .map(|r| {
                        let title: String = r.try_get("title")?;
                        let path: Vec<String> = r.json_col("heading_path")?;
                        let body: String = r.try_get("body")?;
                        Ok((r.try_get("id")?, r.try_get("source_id")?, format!("{title}\n{}\n{body}", path.join(" › "))))
                    })
                    .collect()
            }

            async fn set_chunk_embeddings(&self, embeddings: &[(i64, Vec<u8>)]) -> StoreResult<()> {
                let mut tx = self.write.begin().await?;
                for (id, bytes) in embeddings {
                    sqlx::query("UPDATE chunks SET embedding = $1 WHERE id = $2").bind(bytes).bind(id).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn set_chunk_addressed(&self, flags: &[(i64, Vec<String>)]) -> StoreResult<()> {
                let mut tx = self.write.begin().await?;
                for (id, sentences) in flags {
                    let json = serde_json::to_string(sentences)?;
                    sqlx::query("UPDATE chunks SET addressed = $1 WHERE id = $2").bind(json).bind(id).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn source_embeddings(&self, source_id: i64) -> StoreResult<Vec<(i64, Vec<u8>)>> {
                let rows = sqlx::query("SELECT id, embedding FROM chunks WHERE source_id = $1 AND embedding IS NOT NULL ORDER BY id")
                    .bind(source_id)
                    .fetch_all(&self.read)
                    .await?;
                rows.iter().map(|r| Ok((r.try_get("id")?, r.try_get("embedding")?))).collect()
            }

            async fn embedding_model(&self) -> StoreResult<(String, i64)> {
                let r = sqlx::query("SELECT name, dimensions FROM embedding_model WHERE id = 1").fetch_optional(&self.read).await?;
                match r {
                    Some(r) => Ok((r.try_get("name")?, r.try_get("dimensions")?)),
                    None => Ok((String::new(), 0)),
                }
            }

            async fn switch_embedding_model(&self, actor: &Actor, name: &str, dimensions: i64) -> StoreResult<Option<u64>> {
                let mut tx = self.write.begin().await?;
                // A no-op write first takes the row's lock (PostgreSQL) or the write lock
                // (SQLite), so two replicas starting together do not both switch.
                sqlx::query("UPDATE embedding_model SET updated_at = updated_at WHERE id = 1").execute(&mut *tx).await?;
                let current =
                    sqlx::query("SELECT name, dimensions FROM embedding_model WHERE id = 1").fetch_optional(&mut *tx).await?;
                let (old_name, old_dims): (String, i64) = match &current {
                    Some(r) => (r.try_get("name")?, r.try_get("dimensions")?),
                    None => (String::new(), 0),
                };
                if old_name == name && old_dims == dimensions {
                    return Ok(None);
                }
                let cleared = sqlx::query("UPDATE chunks SET embedding = NULL WHERE embedding IS NOT NULL")
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                let now = crate::now_ms();
                sqlx::query(
                    "INSERT INTO embedding_model (id, name, dimensions, updated_at) VALUES (1, $1, $2, $3) \
                     ON CONFLICT (id) DO UPDATE SET name = excluded.name, dimensions = excluded.dimensions, updated_at = excluded.updated_at",
                )
                .bind(name)
                .bind(dimensions)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                audit(
                    &mut tx,
                    actor,
                    "switch",
                    "embedding_model",
                    1,
                    Some(json!({"name": old_name, "dimensions": old_dims})),
                    Some(json!({"name": name, "dimensions": dimensions, "vectors_cleared": cleared})),
                )
                .await?;
                tx.commit().await?;
                Ok(Some(cleared))
            }

            async fn set_crawl_settings(&self, source_id: i64, related: bool, max_pages: i64) -> StoreResult<()> {
                let done = sqlx::query("UPDATE sources SET crawl_related = $1, max_pages = $2 WHERE id = $3")
                    .bind(related)
                    .bind(max_pages)
                    .bind(source_id)
                    .execute(&self.write)
                    .await?
                    .rows_affected();
                if done == 0 {
                    return Err(StoreError::NotFound("source"));
                }
                Ok(())
            }

            async fn crawl_settings(&self, source_id: i64) -> StoreResult<(bool, i64)> {
                let r = sqlx::query("SELECT crawl_related, max_pages FROM sources WHERE id = $1")
                    .bind(source_id)
                    .fetch_optional(&self.read)
                    .await?
                    .ok_or(StoreError::NotFound("source"))?;
                Ok((r.try_get("crawl_related")?, r.try_get("max_pages")?))
            }

            async fn enqueue_pages(&self, source_id: i64, pages: &[(String, i64)], cap: i64) -> StoreResult<u64> {
                let mut tx = self.write.begin().await?;
                let known: i64 = sqlx::query("SELECT COUNT(*) AS n FROM crawl_pages WHERE source_id = $1")
                    .bind(source_id)
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get("n")?;
                let mut room = cap - known;
                let mut added = 0;
                let now = now_ms();
                for (url, depth) in pages {
                    if room <= 0 {
                        break;
                    }
                    let n = sqlx::query(
                        "INSERT INTO crawl_pages (source_id, url, depth, status, created_at) VALUES ($1, $2, $3, 'queued', $4) \
                         ON CONFLICT (source_id, url) DO NOTHING",
                    )
                    .bind(source_id)
                    .bind(url)
                    .bind(depth)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    added += n;
                    room -= n as i64;
                }
                tx.commit().await?;
                Ok(added)
            }

            async fn claim_pages(&self, source_id: i64, n: i64) -> StoreResult<Vec<CrawlPage>> {
                sqlx::query(&format!(
                    "UPDATE crawl_pages SET status = 'fetching' WHERE id IN \
                     (SELECT id FROM crawl_pages WHERE source_id = $1 AND status = 'queued' ORDER BY depth, id LIMIT $2) \
                     RETURNING {PAGE_COLUMNS}"
                ))
                .bind(source_id)
                .bind(n)
                .fetch_all(&self.write)
                .await?
                .iter()
                .map(from_row)
                .collect()
            }

            async fn requeue_inflight_pages(&self, source_id: i64) -> StoreResult<u64> {
                Ok(sqlx::query("UPDATE crawl_pages SET status = 'queued' WHERE source_id = $1 AND status = 'fetching'")
                    .bind(source_id)
                    .execute(&self.write)
                    .await?
                    .rows_affected())
            }

            async fn requeue_all_pages(&self, source_id: i64) -> StoreResult<u64> {
                Ok(sqlx::query("UPDATE crawl_pages SET status = 'queued', error = NULL WHERE source_id = $1 AND status <> 'queued'")
                    .bind(source_id)
                    .execute(&self.write)
                    .await?
                    .rows_affected())
            }

            async fn finish_page(&self, page_id: i64, outcome: PageOutcome) -> StoreResult<()> {
                let mut tx = self.write.begin().await?;
                let now = now_ms();
                let row = sqlx::query("SELECT source_id, url FROM crawl_pages WHERE id = $1")
                    .bind(page_id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or(StoreError::NotFound("page"))?;
                let source_id: i64 = row.try_get("source_id")?;
                let url: String = row.try_get("url")?;
                sqlx::query(
                    "UPDATE crawl_pages SET status = $1, title = COALESCE($2, title), content_hash = COALESCE($3, content_hash), \
                     etag = COALESCE($4, etag), last_modified = COALESCE($5, last_modified), error = $6, fetched_at = $7 WHERE id = $8",
                )
                .bind(outcome.status)
                .bind(&outcome.title)
                .bind(&outcome.content_hash)
                .bind(&outcome.etag)
                .bind(&outcome.last_modified)
                .bind(&outcome.error)
                .bind(now)
                .bind(page_id)
                .execute(&mut *tx)
                .await?;
                // The text's cut is known only when the page's content was read.
                if outcome.content_hash.is_some() || outcome.chunks.is_some() {
                    sqlx::query(
                        "UPDATE crawl_pages SET truncated_kept = $1, truncated_total = $2, truncated_at_least = $3 WHERE id = $4",
                    )
                    .bind(outcome.truncated.map(|t| t.kept))
                    .bind(outcome.truncated.map(|t| t.total))
                    .bind(outcome.truncated.is_some_and(|t| t.at_least))
                    .bind(page_id)
                    .execute(&mut *tx)
                    .await?;
                }
                if let Some(chunks) = &outcome.chunks {
                    let removed = sqlx::query("DELETE FROM chunks WHERE source_id = $1 AND url = $2")
                        .bind(source_id)
                        .bind(&url)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected() as i64;
                    insert_chunks(&mut tx, source_id, chunks, Some(&url), now).await?;
                    // A relative update under the row lock: concurrent pages of one
                    // source cannot lose each other's counts (a recount could, under
                    // READ COMMITTED).
                    sqlx::query(
                        "UPDATE sources SET chunk_count = chunk_count + $3, last_synced_at = $2, updated_at = $2 WHERE id = $1",
                    )
                    .bind(source_id)
                    .bind(now)
                    .bind(chunks.len() as i64 - removed)
                    .execute(&mut *tx)
                    .await?;
                    bump_content_version(&mut tx).await?;
                }
                tx.commit().await?;
                if outcome.chunks.is_some() {
                    self.local_changes.fetch_add(1, std::sync::atomic::Ordering::Release);
                }
                Ok(())
            }

            async fn page_with_hash(&self, source_id: i64, content_hash: &str, except_page: i64) -> StoreResult<Option<String>> {
                let row = sqlx::query(
                    "SELECT url FROM crawl_pages WHERE source_id = $1 AND content_hash = $2 AND id <> $3 AND status = 'fetched' LIMIT 1",
                )
                .bind(source_id)
                .bind(content_hash)
                .bind(except_page)
                .fetch_optional(&self.read)
                .await?;
                Ok(row.map(|r| r.try_get("url")).transpose()?)
            }

            async fn crawl_progress(&self, source_id: i64) -> StoreResult<CrawlProgress> {
                let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM crawl_pages WHERE source_id = $1 GROUP BY status")
                    .bind(source_id)
                    .fetch_all(&self.read)
                    .await?;
                let mut p = CrawlProgress::default();
                for r in rows {
                    let n: i64 = r.try_get("n")?;
                    p.found += n;
                    match r.try_get::<String, _>("status")?.as_str() {
                        "queued" | "fetching" => p.queued += n,
                        "fetched" => p.fetched += n,
                        "failed" => p.failed += n,
                        _ => p.skipped += n,
                    }
                }
                Ok(p)
            }

            async fn list_pages(&self, source_id: i64, status: Option<&str>, limit: i64) -> StoreResult<Vec<CrawlPage>> {
                sqlx::query(&format!(
                    "SELECT {PAGE_COLUMNS} FROM crawl_pages WHERE source_id = $1 AND ($2 IS NULL OR status = $2) ORDER BY id LIMIT $3"
                ))
                .bind(source_id)
                .bind(status)
                .bind(limit)
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(from_row)
                .collect()
            }

            async fn truncated_pages(&self, source_id: i64, limit: i64) -> StoreResult<(i64, Vec<CrawlPage>)> {
                let n: i64 = sqlx::query(
                    "SELECT COUNT(*) AS n FROM crawl_pages WHERE source_id = $1 AND truncated_kept IS NOT NULL",
                )
                .bind(source_id)
                .fetch_one(&self.read)
                .await?
                .try_get("n")?;
                let pages = sqlx::query(&format!(
                    "SELECT {PAGE_COLUMNS} FROM crawl_pages WHERE source_id = $1 AND truncated_kept IS NOT NULL ORDER BY id LIMIT $2"
                ))
                .bind(source_id)
                .bind(limit)
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(from_row)
                .collect::<StoreResult<Vec<CrawlPage>>>()?;
                Ok((n, pages))
            }

            async fn chunks_by_ids(&self, ids: &[i64]) -> StoreResult<Vec<StoredChunk>> {
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                // Ids are integers from the index, bound one by one.
                let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
                let sql = format!("SELECT {CHUNK_COLUMNS} FROM chunks WHERE id IN ({})", placeholders.join(", "));
                let mut q = sqlx::query(&sql);
                for id in ids {
                    q = q.bind(*id);
                }
                q.fetch_all(&self.read).await?.iter().map(chunk_from_row).collect()
            }
        }
    };
}

pub(crate) use impl_knowledge_store;
