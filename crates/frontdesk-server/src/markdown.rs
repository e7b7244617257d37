//! Markdown to HTML for the pages we serve (the knowledge base at `/kb/{slug}`).
//!
//! Articles are written by editors and shown on the console's origin, so the
//! output holds by construction:
//! - raw HTML (blocks and inline: `<script>`, `<img onerror>`, `<svg onload>`,
//!   `<iframe>`, comments) is shown as text, never passed through;
//! - a link or image whose URL is not allowed by
//!   [`frontdesk_core::links::SafeLink`] (autolinks and reference links
//!   included) loses its tag: its text stays, as plain text;
//! - the URLs that stay are emitted as the browser would read them.

use frontdesk_core::links::SafeLink;
use pulldown_cmark::{CowStr, Event, LinkType, Parser, Tag, TagEnd};

/// The elements [`render`] can produce: anything else in its output is a leak.
/// The unit tests here and the `/kb` page's integration test check against it.
pub const TAGS: &[&str] = &[
    "p",
    "a",
    "img",
    "em",
    "strong",
    "code",
    "pre",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "blockquote",
    "hr",
    "br",
];

/// Renders `markdown` as an HTML fragment that carries no script and no link
/// outside the allow-list.
pub fn render(markdown: &str) -> String {
    // For each open link or image: whether its tag was kept.
    let mut kept: Vec<bool> = Vec::new();
    let events = Parser::new(markdown).filter_map(|ev| match ev {
        Event::Html(h) | Event::InlineHtml(h) => Some(Event::Text(h)),
        Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
            // An email autolink is written as `mailto:` + the address.
            let checked =
                if link_type == LinkType::Email { format!("mailto:{dest_url}") } else { dest_url.to_string() };
            match SafeLink::parse(&checked) {
                Some(url) => {
                    kept.push(true);
                    let dest_url =
                        if link_type == LinkType::Email { dest_url } else { CowStr::from(url.into_string()) };
                    Some(Event::Start(Tag::Link { link_type, dest_url, title, id }))
                }
                None => {
                    kept.push(false);
                    None
                }
            }
        }
        Event::Start(Tag::Image { link_type, dest_url, title, id }) => match SafeLink::parse(&dest_url) {
            Some(url) => {
                kept.push(true);
                Some(Event::Start(Tag::Image { link_type, dest_url: CowStr::from(url.into_string()), title, id }))
            }
            // Without its tag the image's alt text is shown as text.
            None => {
                kept.push(false);
                None
            }
        },
        Event::End(end @ (TagEnd::Link | TagEnd::Image)) => kept.pop().unwrap_or(true).then_some(Event::End(end)),
        e => Some(e),
    });
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events);
    html
}

#[cfg(test)]
mod tests {
    use super::{render, TAGS};
    use frontdesk_core::links::SafeLink;

    /// Every `<` opens an allowed tag, and every href/src is a safe link.
    fn assert_inert(md: &str, html: &str) {
        for (i, _) in html.match_indices('<') {
            let rest = &html[i + 1..];
            let rest = rest.strip_prefix('/').unwrap_or(rest);
            let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
            assert!(TAGS.contains(&name.as_str()), "tag <{name}> leaked from {md:?}: {html}");
        }
        for attr in ["href=\"", "src=\""] {
            for (i, _) in html.match_indices(attr) {
                // Only attributes: the same letters in escaped text are text.
                let (open, close) = (html[..i].rfind('<'), html[..i].rfind('>'));
                if open.is_none_or(|o| close.is_some_and(|c| c >= o)) {
                    continue;
                }
                let value = &html[i + attr.len()..];
                let value = &value[..value.find('"').expect("closed attribute")];
                let value = value.replace("&amp;", "&").replace("&quot;", "\"").replace("&#39;", "'");
                assert!(SafeLink::parse(&value).is_some(), "{attr}{value} from {md:?}: {html}");
            }
        }
        for bad in [" onerror=", " onload=", " onclick=", "javascript:", "data:text", "vbscript:"] {
            // Shown as text these are escaped (`&lt;img onerror=`), never inside a tag.
            for (i, _) in html.match_indices(bad) {
                let open = html[..i].rfind('<');
                let close = html[..i].rfind('>');
                assert!(open.is_none_or(|o| close.is_some_and(|c| c > o)), "{bad} inside a tag from {md:?}: {html}");
            }
        }
    }

    #[test]
    fn hostile_markdown_renders_inert() {
        let cases = [
            "[x](javascript:alert(1))",
            "[x](JaVaScRiPt:alert(1))",
            "[x](<java\tscript:alert(1)>)",
            "[x]( javascript:alert(1))",
            "[x](&#106;avascript:alert(1))",
            "[x](javascript&colon;alert(1))",
            "[x](&#x6A;avascript:alert(1) \"t\")",
            "[y](data:text/html,<script>alert(1)</script>)",
            "[y](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
            "[z](vbscript:msgbox(1))",
            "[f](file:///etc/passwd)",
            "<javascript:alert(1)>",
            "<data:text/html,x>",
            "[r][ref]\n\n[ref]: javascript:alert(1)",
            "[r]\n\n[r]: <data:text/html,x>",
            "![i](javascript:alert(1))",
            "![i](data:image/svg+xml,<svg onload=alert(1)>)",
            "[![i](javascript:alert(1))](javascript:alert(2))",
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "text <img src=x onerror=alert(1)> inline",
            "<svg onload=alert(1)>",
            "<iframe src=\"javascript:alert(1)\"></iframe>",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<!-- <script>alert(1)</script> -->",
            "<details open ontoggle=alert(1)>",
            "<style>body{display:none}</style>",
            "`<script>` and ```\n<script>alert(1)</script>\n```",
            "[x](javascript:alert(1) 'x\" onmouseover=\"alert(1)')",
        ];
        for md in cases {
            let html = render(md);
            assert_inert(md, &html);
        }
        // The text of a refused link stays, as text.
        assert_eq!(render("[click me](javascript:alert(1))"), "<p>click me</p>\n");
        assert_eq!(render("![diagram](data:image/png;base64,AAAA)"), "<p>diagram</p>\n");
        assert_eq!(render("<script>alert(1)</script>").trim_end(), "&lt;script&gt;alert(1)&lt;/script&gt;");
    }

    #[test]
    fn allowed_links_and_images_stay() {
        let md = "[a](https://example.com/a?b=1&c=2) [m](mailto:help@example.com) [t](tel:+4420) \
                  [r](/kb/other) [f](#top) <https://example.com/auto> <help@example.com> ![logo](/assets/logo.png)";
        let html = render(md);
        assert_inert(md, &html);
        for want in [
            "<a href=\"https://example.com/a?b=1&amp;c=2\">a</a>",
            "<a href=\"mailto:help@example.com\">m</a>",
            "<a href=\"tel:+4420\">t</a>",
            "<a href=\"/kb/other\">r</a>",
            "<a href=\"#top\">f</a>",
            "<a href=\"https://example.com/auto\">https://example.com/auto</a>",
            "<a href=\"mailto:help@example.com\">help@example.com</a>",
            "<img src=\"/assets/logo.png\" alt=\"logo\" />",
        ] {
            assert!(html.contains(want), "{want} in {html}");
        }
        assert_eq!(render("# T\n\n**b** `c`"), "<h1>T</h1>\n<p><strong>b</strong> <code>c</code></p>\n");
    }
}
