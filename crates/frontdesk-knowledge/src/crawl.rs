//! The pure half of the crawler (B3): URL normalisation and same-site rules,
//! links and canonical URLs of a page, sitemaps, robots.txt. The fetching,
//! queue and politeness live in the server; everything here is tested directly.

use scraper::{Html, Selector};
use url::Url;

/// The user agent we fetch as and match robots.txt rules against.
pub const USER_AGENT: &str = "FrontdeskBot";

/// A URL in the one form we compare and store: http(s) only, lowercase
/// host, no fragment, no default port, no empty query, no tracking
/// parameters, "/" for an empty path. `None` for anything else.
pub fn normalize(raw: &str, base: Option<&Url>) -> Option<Url> {
    let raw = raw.trim();
    if raw.is_empty() || raw.starts_with('#') {
        return None;
    }
    let mut u = match base {
        Some(b) => b.join(raw).ok()?,
        None => Url::parse(raw).ok()?,
    };
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
        return None;
    }
    u.set_fragment(None);
    let _ = u.set_username("");
    let _ = u.set_password(None);
    if u.port() == default_port(u.scheme()) {
        let _ = u.set_port(None);
    }
    let kept: Vec<(String, String)> =
        u.query_pairs().filter(|(k, _)| !is_tracking(k)).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    if kept.is_empty() {
        u.set_query(None);
    } else {
        let mut sorted = kept;
        sorted.sort();
        u.query_pairs_mut().clear().extend_pairs(sorted);
    }
    Some(u)
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

fn is_tracking(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.starts_with("utm_")
        || matches!(k.as_str(), "fbclid" | "gclid" | "mc_cid" | "mc_eid" | "ref" | "sessionid" | "phpsessid" | "sid")
}

/// Same host (and scheme family): the crawl stays within the domain it started on.
pub fn same_site(a: &Url, b: &Url) -> bool {
    let strip = |h: &str| h.trim_start_matches("www.").to_ascii_lowercase();
    match (a.host_str(), b.host_str()) {
        (Some(x), Some(y)) => strip(x) == strip(y) && a.port_or_known_default() == b.port_or_known_default(),
        _ => false,
    }
}

/// Whether a URL is worth fetching as a page (not an image, archive, media…).
pub fn looks_like_page(u: &Url) -> bool {
    let path = u.path().to_ascii_lowercase();
    const SKIP: &[&str] = &[
        ".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".ico", ".css", ".js", ".zip", ".gz", ".tar", ".exe", ".dmg",
        ".mp3", ".mp4", ".avi", ".mov", ".webm", ".woff", ".woff2", ".ttf", ".eot", ".rss", ".atom",
    ];
    !SKIP.iter().any(|ext| path.ends_with(ext))
}

/// A crawler trap: very deep paths, endlessly repeating segments, huge queries.
pub fn looks_like_trap(u: &Url) -> bool {
    let segments: Vec<&str> = u.path().split('/').filter(|s| !s.is_empty()).collect();
    if segments.len() > 12 || u.as_str().len() > 500 || u.query().is_some_and(|q| q.len() > 200) {
        return true;
    }
    // The same segment three or more times: /a/b/a/b/a/…
    segments.iter().any(|s| segments.iter().filter(|t| *t == s).count() >= 3)
}

/// What a page says about other pages.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageLinks {
    pub canonical: Option<Url>,
    pub links: Vec<Url>,
    /// `<meta name="robots" content="noindex">`.
    pub noindex: bool,
    /// `<meta name="robots" content="nofollow">`.
    pub nofollow: bool,
}

/// Links, canonical URL and robots meta of an HTML page at `base`.
pub fn page_links(html: &str, base: &Url) -> PageLinks {
    let doc = Html::parse_document(html);
    let sel = |s: &str| Selector::parse(s).expect("static selector");
    // <base href> changes how relative links resolve.
    let base = doc
        .select(&sel("base[href]"))
        .next()
        .and_then(|b| b.value().attr("href"))
        .and_then(|h| base.join(h).ok())
        .unwrap_or_else(|| base.clone());
    let mut out = PageLinks::default();
    for m in doc.select(&sel("meta[name]")) {
        if m.value().attr("name").is_some_and(|n| n.eq_ignore_ascii_case("robots")) {
            let c = m.value().attr("content").unwrap_or_default().to_ascii_lowercase();
            out.noindex |= c.contains("noindex") || c.contains("none");
            out.nofollow |= c.contains("nofollow") || c.contains("none");
        }
    }
    out.canonical = doc
        .select(&sel("link[rel][href]"))
        .find(|l| {
            l.value().attr("rel").is_some_and(|r| r.split_whitespace().any(|x| x.eq_ignore_ascii_case("canonical")))
        })
        .and_then(|l| normalize(l.value().attr("href").unwrap_or_default(), Some(&base)));
    let mut seen = std::collections::HashSet::new();
    for a in doc.select(&sel("a[href]")) {
        if a.value().attr("rel").is_some_and(|r| r.split_whitespace().any(|x| x.eq_ignore_ascii_case("nofollow"))) {
            continue;
        }
        if let Some(u) = normalize(a.value().attr("href").unwrap_or_default(), Some(&base)) {
            if seen.insert(u.as_str().to_owned()) {
                out.links.push(u);
            }
        }
    }
    out
}

/// The `<loc>` URLs of a sitemap or a sitemap index; `is_index` tells which.
pub fn parse_sitemap(xml: &str) -> (Vec<String>, bool) {
    let is_index = xml.contains("<sitemapindex");
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find("<loc>") {
        rest = &rest[start + 5..];
        let Some(end) = rest.find("</loc>") else { break };
        let loc = rest[..end].trim().replace("&amp;", "&");
        if !loc.is_empty() {
            out.push(loc);
        }
        rest = &rest[end + 6..];
    }
    (out, is_index)
}

/// robots.txt rules for our user agent.
pub struct Robots {
    inner: Option<texting_robots::Robot>,
}

impl Robots {
    /// Rules from a robots.txt body; an unparsable file allows everything.
    pub fn parse(body: &[u8]) -> Robots {
        Robots { inner: texting_robots::Robot::new(USER_AGENT, body).ok() }
    }

    /// No robots.txt (404): everything is allowed.
    pub fn allow_all() -> Robots {
        Robots { inner: None }
    }

    /// robots.txt could not be read (5xx, timeout): nothing is allowed (RFC 9309).
    pub fn disallow_all() -> Robots {
        Robots { inner: texting_robots::Robot::new(USER_AGENT, b"User-agent: *\nDisallow: /\n").ok() }
    }

    pub fn allowed(&self, url: &Url) -> bool {
        self.inner.as_ref().is_none_or(|r| r.allowed(url.as_str()))
    }

    /// Crawl-delay in seconds, if the site asks for one.
    pub fn delay(&self) -> Option<f32> {
        self.inner.as_ref().and_then(|r| r.delay)
    }

    pub fn sitemaps(&self) -> Vec<String> {
        self.inner.as_ref().map(|r| r.sitemaps.clone()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn normalisation() {
        let n = |s: &str| normalize(s, None).map(|u| u.to_string());
        assert_eq!(
            n("HTTPS://Example.COM:443/a?utm_source=x&b=2&a=1#top").as_deref(),
            Some("https://example.com/a?a=1&b=2")
        );
        assert_eq!(n("http://example.com").as_deref(), Some("http://example.com/"));
        assert_eq!(n("mailto:a@example.com"), None);
        assert_eq!(n("javascript:alert(1)"), None);
        assert_eq!(n("ftp://example.com/x"), None);
        let base = u("https://example.com/docs/a/");
        assert_eq!(normalize("../b?x=1", Some(&base)).unwrap().as_str(), "https://example.com/docs/b?x=1");
        assert_eq!(normalize("#frag", Some(&base)), None);
    }

    #[test]
    fn same_site_and_traps() {
        assert!(same_site(&u("https://example.com/a"), &u("https://www.example.com/b")));
        assert!(!same_site(&u("https://example.com/a"), &u("https://evil.com/a")));
        assert!(!same_site(&u("http://127.0.0.1:8000/"), &u("http://127.0.0.1:9000/")));
        assert!(looks_like_trap(&u("https://x.com/a/b/a/b/a/b")));
        assert!(looks_like_trap(&u(&format!("https://x.com/{}", "s/".repeat(20)))));
        assert!(!looks_like_trap(&u("https://x.com/help/billing/refunds")));
        assert!(!looks_like_page(&u("https://x.com/logo.PNG")));
    }

    #[test]
    fn links_canonical_and_robots_meta() {
        let html = r#"<html><head><link rel="canonical" href="/guide"><meta name="robots" content="noindex, follow"></head>
            <body><a href="/a">A</a><a href="b?utm_campaign=z">B</a><a href="/a#x">A again</a>
            <a rel="nofollow" href="/private">P</a><a href="https://other.com/">O</a><a href="mailto:x@y.z">M</a></body></html>"#;
        let l = page_links(html, &u("https://example.com/dir/page"));
        assert_eq!(l.canonical.unwrap().as_str(), "https://example.com/guide");
        assert!(l.noindex && !l.nofollow);
        let links: Vec<String> = l.links.iter().map(|x| x.to_string()).collect();
        assert_eq!(links, ["https://example.com/a", "https://example.com/dir/b", "https://other.com/"]);
    }

    #[test]
    fn sitemaps_and_robots() {
        let (locs, index) = parse_sitemap(
            "<urlset><url><loc> https://e.com/a?x=1&amp;y=2 </loc></url><url><loc>https://e.com/b</loc></url></urlset>",
        );
        assert_eq!(locs, ["https://e.com/a?x=1&y=2", "https://e.com/b"]);
        assert!(!index);
        assert!(parse_sitemap("<sitemapindex><sitemap><loc>https://e.com/s1.xml</loc></sitemap></sitemapindex>").1);
        let r = Robots::parse(b"User-agent: *\nDisallow: /admin\nCrawl-delay: 2\nSitemap: https://e.com/sitemap.xml\n");
        assert!(r.allowed(&u("https://e.com/help")));
        assert!(!r.allowed(&u("https://e.com/admin/x")));
        assert_eq!(r.delay(), Some(2.0));
        assert_eq!(r.sitemaps(), ["https://e.com/sitemap.xml"]);
        assert!(!Robots::disallow_all().allowed(&u("https://e.com/")));
        assert!(Robots::allow_all().allowed(&u("https://e.com/")));
    }
}
