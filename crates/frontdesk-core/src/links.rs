//! The one rule for a URL we render as a link or an image (SPEC B2): a
//! strict allow-list of schemes. Every place that turns stored or generated
//! text into an `href` or `src` — the knowledge-base pages' Markdown, the
//! console's source URLs and citations — goes through [`SafeLink::parse`];
//! anything it refuses is shown as plain text (or dropped).
//!
//! Allowed: `http:`, `https:`, `mailto:`, `tel:` and relative references
//! (paths, queries, fragments, `//host/…`). Everything else is refused:
//! `javascript:`, `data:`, `vbscript:`, `file:`, any unknown scheme, and the
//! forms browsers quietly repair into them — mixed case (`JaVaScRiPt:`), tabs
//! and newlines inside the scheme (`java\tscript:`), leading spaces and
//! control characters, and HTML character references (`&#106;avascript:`,
//! `javascript&colon;`).
//!
//! The check reads the URL the way a browser's URL parser does (WHATWG URL:
//! strip leading and trailing C0 controls and spaces, drop ASCII tabs and
//! newlines anywhere, then a scheme is everything before the first `:` that
//! comes before any `/`, `?` or `#`), and the value it returns is that
//! cleaned URL, so what is checked is exactly what is emitted.

/// The schemes a rendered link may have (lowercase).
pub const ALLOWED_SCHEMES: [&str; 4] = ["http", "https", "mailto", "tel"];

/// A URL that may be rendered as a link: an allowed scheme or a relative
/// reference. Only [`SafeLink::parse`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafeLink(String);

impl SafeLink {
    /// The URL as a browser would read it, when its scheme is allowed; `None`
    /// for anything else (including an empty URL, which would link the page
    /// to itself).
    pub fn parse(raw: &str) -> Option<SafeLink> {
        // Leading and trailing C0 controls and spaces are stripped by browsers.
        let trimmed = raw.trim_matches(|c: char| c <= '\u{20}');
        // ASCII tabs and newlines are removed anywhere.
        let url: String = trimmed.chars().filter(|c| !matches!(c, '\t' | '\n' | '\r')).collect();
        if url.is_empty() {
            return None;
        }
        // Any other control character has no business in a link.
        if url.chars().any(|c| c.is_control()) {
            return None;
        }
        let end = url.find([':', '/', '?', '#', '\\']).unwrap_or(url.len());
        let head = &url[..end];
        // A character reference before the scheme's colon is how `&#106;avascript:`
        // and `javascript&colon;` hide from a naive check; no real link has one there.
        if head.contains('&') {
            return None;
        }
        if url[end..].starts_with(':') {
            let scheme = head.to_ascii_lowercase();
            if !ALLOWED_SCHEMES.contains(&scheme.as_str()) {
                return None;
            }
        }
        Some(SafeLink(url))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Display for SafeLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// [`SafeLink::parse`] as a plain string, for views that hold an `Option<String>`.
pub fn safe_href(raw: &str) -> Option<String> {
    SafeLink::parse(raw).map(SafeLink::into_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_urls_are_refused() {
        let hostile = [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "JAVASCRIPT:alert(1)",
            " javascript:alert(1)",
            "\u{1}javascript:alert(1)",
            "\u{0}javascript:alert(1)",
            "\u{1f}\u{20}javascript:alert(1)",
            "java\tscript:alert(1)",
            "java\nscript:alert(1)",
            "java\rscript:alert(1)",
            "jav\u{0}ascript:alert(1)",
            "javascript\t:alert(1)",
            "&#106;avascript:alert(1)",
            "&#x6A;avascript:alert(1)",
            "&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058alert(1)",
            "javascript&colon;alert(1)",
            "javascript&#58;alert(1)",
            "java&Tab;script:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
            "DATA:image/svg+xml,<svg onload=alert(1)>",
            "vbscript:msgbox(1)",
            "VBScript:msgbox(1)",
            "file:///etc/passwd",
            "ftp://example.com/",
            "blob:https://example.com/uuid",
            "filesystem:https://example.com/x",
            "about:blank",
            "chrome://settings",
            "intent://x#Intent;end",
            "jar:https://x!/",
            "view-source:https://example.com",
            "ws://example.com",
            "java script:alert(1)",
            "\u{a0}javascript:alert(1)",
            "",
            "   ",
            "\t\n",
        ];
        for url in hostile {
            assert_eq!(SafeLink::parse(url), None, "{url:?} must not become a link");
        }
    }

    #[test]
    fn web_mail_phone_and_relative_links_are_kept() {
        let cases = [
            ("https://example.com/a?b=1&c=2#d", "https://example.com/a?b=1&c=2#d"),
            ("http://example.com", "http://example.com"),
            ("HTTPS://EXAMPLE.COM/", "HTTPS://EXAMPLE.COM/"),
            ("mailto:help@example.com?subject=Hi&body=x", "mailto:help@example.com?subject=Hi&body=x"),
            ("tel:+44 20 7946 0000", "tel:+44 20 7946 0000"),
            ("/kb/reset-password", "/kb/reset-password"),
            ("kb/reset", "kb/reset"),
            ("../up", "../up"),
            ("#section-2", "#section-2"),
            ("?page=2", "?page=2"),
            ("//cdn.example.com/x", "//cdn.example.com/x"),
            ("/path/with:colon", "/path/with:colon"),
            ("page?x=a:b", "page?x=a:b"),
            ("caf%C3%A9.html", "caf%C3%A9.html"),
            // Cleaned the way a browser reads it, and emitted cleaned.
            ("  https://example.com/a  ", "https://example.com/a"),
            ("ht\ttps://example.com/\na", "https://example.com/a"),
        ];
        for (raw, want) in cases {
            assert_eq!(SafeLink::parse(raw).as_ref().map(SafeLink::as_str), Some(want), "{raw:?}");
        }
        assert_eq!(safe_href("https://x.io").as_deref(), Some("https://x.io"));
        assert_eq!(safe_href("javascript:void(0)"), None);
    }
}
