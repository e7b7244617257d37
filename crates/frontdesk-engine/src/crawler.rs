//! The crawler (B3): imports one public URL, or with "import related URLs"
//! the pages of its site, up to a per-source limit (5,000 by default).
//!
//! The frontier is the `crawl_pages` table: a crawl job works through it in
//! bounded batches and re-enqueues itself, so a restart (or another replica)
//! resumes where it stopped. robots.txt is obeyed, sitemaps seed the queue,
//! canonical URLs and duplicate content are skipped, private addresses are
//! refused unless `allow_private_networks` is on.

use std::time::{Duration, Instant};

use crate::job::Job;
use frontdesk_knowledge::crawl::{
    looks_like_page, looks_like_trap, normalize, page_links, parse_sitemap, same_site, Robots, USER_AGENT,
};
use frontdesk_store::{page_status, source_status, CrawlPage, NewChunk, PageOutcome};
use futures::StreamExt;
use url::Url;

use crate::Engine;

/// The most pages one source may have (B3).
pub const MAX_PAGES: i64 = 5000;
/// How long one job works before handing over to a fresh job.
const BATCH: Duration = Duration::from_secs(20);
/// Links are followed this deep from the start page.
const MAX_DEPTH: i64 = 20;

pub async fn enqueue_crawl(state: &Engine, source_id: i64) -> anyhow::Result<Option<i64>> {
    Ok(state
        .store
        .enqueue_job(Job::CrawlSource { source_id }.to_new(
            frontdesk_store::now_ms(),
            5,
            Some(format!("crawl_source:{source_id}")),
        ))
        .await?)
}

pub use frontdesk_net::check_url;

/// The crawler's client: with the network guard's resolver unless private
/// networks are allowed, so the address checked is the one connected to (a
/// name re-pointed to a private address between two fetches is refused when
/// connecting, not only when first checked).
fn client(allow_private: bool) -> reqwest::Client {
    let builder = reqwest::Client::builder()
        .user_agent(format!("{USER_AGENT}/1.0 (+Frontdesk)"))
        .timeout(Duration::from_secs(15))
        .connect_timeout(Duration::from_secs(5))
        // Redirects are followed by hand, so every hop is checked (same site, robots, private).
        .redirect(reqwest::redirect::Policy::none());
    frontdesk_net::guarded(builder, allow_private).build().unwrap_or_default()
}

/// Why a fetch failed, for the page's error: the guard's refusal names the
/// address and the setting.
fn fetch_error(e: &reqwest::Error) -> String {
    if let Some(p) = frontdesk_net::refused_private(e) {
        return p.to_string();
    }
    if e.is_timeout() {
        "timed out".to_owned()
    } else {
        format!("could not be fetched: {e}")
    }
}

/// Reads at most `max` bytes of a body; `None` when it is bigger.
async fn read_capped(resp: reqwest::Response, max: usize) -> Result<Option<Vec<u8>>, reqwest::Error> {
    if resp.content_length().is_some_and(|n| n as usize > max) {
        return Ok(None);
    }
    let mut body = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if body.len() + chunk.len() > max {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

/// The site's robots.txt; the network guard's refusal when the site's host
/// is a private address (the crawl stops there, saying why).
async fn fetch_robots(client: &reqwest::Client, start: &Url) -> Result<Robots, frontdesk_net::PrivateAddress> {
    let Ok(robots_url) = start.join("/robots.txt") else { return Ok(Robots::allow_all()) };
    Ok(match client.get(robots_url).send().await {
        Ok(r) if r.status().is_success() => match read_capped(r, 512 * 1024).await {
            Ok(Some(body)) => Robots::parse(&body),
            _ => Robots::allow_all(),
        },
        Ok(r) if r.status().is_client_error() => Robots::allow_all(),
        Err(e) => match frontdesk_net::refused_private(&e) {
            Some(refused) => return Err(refused.clone()),
            // Unreachable: assume everything is disallowed (RFC 9309).
            None => Robots::disallow_all(),
        },
        // A server error: assume everything is disallowed (RFC 9309).
        Ok(_) => Robots::disallow_all(),
    })
}

/// Seeds the frontier: the start URL, and with related URLs the sitemaps.
async fn seed(
    state: &Engine,
    client: &reqwest::Client,
    source_id: i64,
    start: &Url,
    related: bool,
    cap: i64,
    robots: &Robots,
) -> anyhow::Result<()> {
    state.store.enqueue_pages(source_id, &[(start.to_string(), 0)], cap).await?;
    if !related {
        return Ok(());
    }
    let mut sitemaps: Vec<String> = robots.sitemaps();
    if sitemaps.is_empty() {
        if let Ok(u) = start.join("/sitemap.xml") {
            sitemaps.push(u.to_string());
        }
    }
    let mut seen = 0;
    while let Some(sm) = sitemaps.pop() {
        seen += 1;
        if seen > 20 {
            break;
        }
        let Some(u) = normalize(&sm, None).filter(|u| same_site(u, start)) else { continue };
        if frontdesk_net::check_literal(&u, state.settings.allow_private_networks).is_err() {
            continue;
        }
        let Ok(resp) = client.get(u).send().await else { continue };
        if !resp.status().is_success() {
            continue;
        }
        let Ok(Some(body)) = read_capped(resp, 10 * 1024 * 1024).await else { continue };
        let (locs, is_index) = parse_sitemap(&String::from_utf8_lossy(&body));
        if is_index {
            sitemaps.extend(locs);
            continue;
        }
        let pages: Vec<(String, i64)> = locs
            .iter()
            .filter_map(|l| normalize(l, None))
            .filter(|u| same_site(u, start) && looks_like_page(u) && !looks_like_trap(u))
            .map(|u| (u.to_string(), 1))
            .collect();
        state.store.enqueue_pages(source_id, &pages, cap).await?;
    }
    Ok(())
}

fn outcome(status: &'static str, error: Option<String>) -> PageOutcome {
    PageOutcome {
        status,
        title: None,
        content_hash: None,
        etag: None,
        last_modified: None,
        error,
        chunks: None,
        truncated: None,
    }
}

/// An outcome that also removes the page's passages (the page went away, or
/// is a duplicate / asks not to be indexed).
fn without_passages(status: &'static str, error: String) -> PageOutcome {
    PageOutcome { chunks: Some(Vec::new()), ..outcome(status, Some(error)) }
}

struct Ctx<'a> {
    state: &'a Engine,
    client: reqwest::Client,
    start: Url,
    robots: Robots,
    related: bool,
    cap: i64,
}

/// Fetches and stores one page; never fails the job for the page's own problems.
async fn crawl_page(ctx: &Ctx<'_>, page: &CrawlPage) -> anyhow::Result<()> {
    let store = ctx.state.store.as_ref();
    let mut url = match normalize(&page.url, None) {
        Some(u) => u,
        None => {
            return Ok(store
                .finish_page(page.id, outcome(page_status::SKIPPED, Some("not an http(s) URL".into())))
                .await?)
        }
    };
    // Follow up to 5 redirects by hand, checking every hop.
    let mut hops = 0;
    let resp = loop {
        if !same_site(&url, &ctx.start) {
            return Ok(store
                .finish_page(page.id, outcome(page_status::SKIPPED, Some(format!("redirects off the site to {url}"))))
                .await?);
        }
        if !ctx.robots.allowed(&url) {
            return Ok(store
                .finish_page(page.id, outcome(page_status::SKIPPED, Some("disallowed by robots.txt".into())))
                .await?);
        }
        // An IP literal is checked here (no resolver sees it); a host name is
        // resolved once, by the client's guard, at connection time.
        if let Err(e) = frontdesk_net::check_literal(&url, ctx.state.settings.allow_private_networks) {
            return Ok(store.finish_page(page.id, outcome(page_status::FAILED, Some(e.to_string()))).await?);
        }
        let mut req = ctx.client.get(url.clone());
        if page.status != page_status::QUEUED || page.fetched_at.is_some() {
            if let Some(etag) = &page.etag {
                req = req.header(reqwest::header::IF_NONE_MATCH, etag);
            }
            if let Some(lm) = &page.last_modified {
                req = req.header(reqwest::header::IF_MODIFIED_SINCE, lm);
            }
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                return Ok(store.finish_page(page.id, outcome(page_status::FAILED, Some(fetch_error(&e)))).await?)
            }
        };
        if resp.status().is_redirection() && resp.status() != reqwest::StatusCode::NOT_MODIFIED {
            hops += 1;
            let next = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .and_then(|l| normalize(l, Some(&url)));
            match next {
                Some(n) if hops <= 5 => {
                    url = n;
                    continue;
                }
                _ => {
                    return Ok(store
                        .finish_page(
                            page.id,
                            outcome(page_status::FAILED, Some("too many redirects, or a redirect loop".into())),
                        )
                        .await?)
                }
            }
        }
        break resp;
    };
    let status = resp.status();
    if status == reqwest::StatusCode::NOT_MODIFIED {
        // Unchanged (ETag / Last-Modified): no re-indexing.
        return Ok(store.finish_page(page.id, outcome(page_status::FETCHED, None)).await?);
    }
    if status == reqwest::StatusCode::NOT_FOUND || status == reqwest::StatusCode::GONE {
        // The page disappeared: its passages leave the index.
        return Ok(store
            .finish_page(page.id, without_passages(page_status::FAILED, format!("HTTP {}", status.as_u16())))
            .await?);
    }
    if !status.is_success() {
        return Ok(store
            .finish_page(page.id, outcome(page_status::FAILED, Some(format!("HTTP {}", status.as_u16()))))
            .await?);
    }
    let content_type = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if !(content_type.is_empty() || content_type.contains("html") || content_type.starts_with("text/plain")) {
        return Ok(store
            .finish_page(page.id, outcome(page_status::SKIPPED, Some(format!("not a web page ({content_type})"))))
            .await?);
    }
    let etag = resp.headers().get(reqwest::header::ETAG).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let last_modified =
        resp.headers().get(reqwest::header::LAST_MODIFIED).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = match read_capped(resp, ctx.state.settings.crawl_max_page_bytes).await {
        Ok(Some(b)) => b,
        Ok(None) => {
            return Ok(store
                .finish_page(
                    page.id,
                    outcome(page_status::SKIPPED, Some("the page is larger than the size cap".into())),
                )
                .await?)
        }
        Err(e) => {
            return Ok(store
                .finish_page(page.id, outcome(page_status::FAILED, Some(format!("reading the page failed: {e}"))))
                .await?)
        }
    };
    let html = String::from_utf8_lossy(&body).into_owned();
    let links = page_links(&html, &url);
    if ctx.related && !links.nofollow && page.depth < MAX_DEPTH {
        let next: Vec<(String, i64)> = links
            .links
            .iter()
            .chain(links.canonical.iter())
            .filter(|u| same_site(u, &ctx.start) && looks_like_page(u) && !looks_like_trap(u))
            .map(|u| (u.to_string(), page.depth + 1))
            .collect();
        store.enqueue_pages(page.source_id, &next, ctx.cap).await?;
    }
    if let Some(canonical) = links.canonical.as_ref().filter(|c| c.as_str() != url.as_str() && c.as_str() != page.url) {
        if same_site(canonical, &ctx.start) {
            store.enqueue_pages(page.source_id, &[(canonical.to_string(), page.depth)], ctx.cap).await?;
            let why = format!("duplicate: its canonical URL is {canonical}");
            return Ok(store.finish_page(page.id, without_passages(page_status::SKIPPED, why)).await?);
        }
    }
    if links.noindex {
        let why = "the page asks not to be indexed (noindex)".to_owned();
        return Ok(store.finish_page(page.id, without_passages(page_status::SKIPPED, why)).await?);
    }
    let name = if content_type.starts_with("text/plain") { "page.txt" } else { "page.html" };
    // Under the same limits as uploaded files (a hostile page fails that page only).
    let limits = crate::extract_child::ExtractLimits::from_settings(&ctx.state.settings);
    let doc = match crate::extract_child::extract_limited(&limits, name, body).await {
        Ok(d) => d,
        Err(e) => return Ok(store.finish_page(page.id, outcome(page_status::FAILED, Some(e.to_string()))).await?),
    };
    let extracted = crate::ingest::prepare(&doc, url.as_str());
    if let Some(other) = store.page_with_hash(page.source_id, &extracted.content_hash, page.id).await? {
        let why = format!("duplicate content of {other}");
        return Ok(store.finish_page(page.id, without_passages(page_status::SKIPPED, why)).await?);
    }
    let unchanged = page.content_hash.as_deref() == Some(extracted.content_hash.as_str());
    // Cut at extract_max_text_chars like a file, and recorded on the page the same way.
    let truncated = extracted.truncated;
    let chunks: Vec<NewChunk> = extracted.chunks;
    store
        .finish_page(
            page.id,
            PageOutcome {
                status: page_status::FETCHED,
                title: doc.title.clone(),
                content_hash: Some(extracted.content_hash),
                etag,
                last_modified,
                error: None,
                chunks: if unchanged { None } else { Some(chunks) },
                truncated,
            },
        )
        .await?;
    Ok(())
}

/// One batch of a crawl; re-enqueues itself while pages remain.
pub async fn crawl(state: &Engine, source_id: i64) -> anyhow::Result<()> {
    let store = state.store.as_ref();
    let source = match store.get_source(source_id).await {
        Ok(s) => s,
        Err(frontdesk_store::StoreError::NotFound(_)) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let Some(start) = source.url.as_deref().and_then(|u| normalize(u, None)) else {
        store.set_source_status(source_id, source_status::ERROR, Some("the source has no valid URL")).await?;
        return Ok(());
    };
    let (related, max_pages) = store.crawl_settings(source_id).await?;
    let cap = max_pages.clamp(1, MAX_PAGES);
    store.set_source_status(source_id, source_status::SYNCING, None).await?;
    store.requeue_inflight_pages(source_id).await?;
    if let Err(e) = frontdesk_net::check_literal(&start, state.settings.allow_private_networks) {
        store.set_source_status(source_id, source_status::ERROR, Some(&e.to_string())).await?;
        return Ok(());
    }
    let client = client(state.settings.allow_private_networks);
    let robots = match fetch_robots(&client, &start).await {
        Ok(r) => r,
        Err(refused) => {
            store.set_source_status(source_id, source_status::ERROR, Some(&refused.to_string())).await?;
            return Ok(());
        }
    };
    if store.crawl_progress(source_id).await?.found == 0 {
        seed(state, &client, source_id, &start, related, cap, &robots).await?;
    }
    let delay = robots
        .delay()
        .map(|d| Duration::from_secs_f32(d.clamp(0.0, 10.0)))
        .unwrap_or(Duration::from_millis(state.settings.crawl_delay_ms));
    let ctx = Ctx { state, client, start, robots, related, cap };
    let concurrency = state.settings.crawl_concurrency.max(1);
    let began = Instant::now();
    loop {
        let pages = store.claim_pages(source_id, concurrency as i64).await?;
        if pages.is_empty() {
            break;
        }
        let ctx_ref = &ctx;
        let results: Vec<anyhow::Result<()>> = futures::stream::iter(pages)
            .map(move |p| async move { crawl_page(ctx_ref, &p).await })
            .buffer_unordered(concurrency)
            .collect()
            .await;
        for r in results {
            r?;
        }
        if began.elapsed() >= BATCH {
            state.agent.knowledge.sync_index(store, true).await?;
            crate::ingest::enqueue_embed(state).await?;
            // Hand over to a fresh job: a restart loses at most this batch's pages, which stay queued.
            enqueue_crawl_continuation(state, source_id).await?;
            return Ok(());
        }
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
    }
    let progress = store.crawl_progress(source_id).await?;
    let error = if progress.fetched == 0 {
        let first = store.list_pages(source_id, Some(page_status::FAILED), 1).await?.into_iter().next();
        Some(match first {
            Some(p) => format!("no page could be imported: {} ({})", p.error.unwrap_or_default(), p.url),
            None => "no page could be imported (all were skipped: robots.txt, duplicates or not web pages)".to_owned(),
        })
    } else {
        None
    };
    match error {
        Some(e) => store.set_source_status(source_id, source_status::ERROR, Some(&e)).await?,
        None => store.set_source_status(source_id, source_status::READY, None).await?,
    }
    state.agent.knowledge.sync_index(store, true).await?;
    crate::ingest::enqueue_embed(state).await?;
    Ok(())
}

async fn enqueue_crawl_continuation(state: &Engine, source_id: i64) -> anyhow::Result<()> {
    // No dedupe key: the running job still holds the source's key. Two crawl
    // jobs on one source would only share the work (pages are claimed atomically).
    state.store.enqueue_job(Job::CrawlSource { source_id }.to_new(frontdesk_store::now_ms(), 5, None)).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    use super::*;

    /// The crawler's client resolves through the guard: a name that resolves
    /// to 127.0.0.1 (as a rebound name would) is refused when connecting, and
    /// the listener there is never called; with private networks allowed it is.
    #[tokio::test]
    async fn the_client_refuses_a_name_of_a_private_address_when_connecting() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let called = Arc::new(AtomicBool::new(false));
        let seen = called.clone();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                seen.store(true, Ordering::SeqCst);
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                // Read the request before answering (an answer sent first is a protocol error).
                let mut request = [0u8; 4096];
                let _ = s.read(&mut request).await;
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok").await;
            }
        });
        let url = Url::parse(&format!("http://localhost:{port}/")).unwrap();
        let e = client(false).get(url.clone()).send().await.unwrap_err();
        let why = fetch_error(&e);
        assert!(why.contains("localhost points to a private or local address"), "{why}");
        assert!(why.contains("allow_private_networks"), "{why}");
        assert!(matches!(fetch_robots(&client(false), &url).await, Err(p) if p.host == "localhost"));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!called.load(Ordering::SeqCst), "the private listener was called");

        let r = client(true).get(url).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(called.load(Ordering::SeqCst));
    }
}
