//! HTML and XHTML: the page's main content, without the site around it.

use ego_tree::iter::Edge;
use ego_tree::NodeId;
use scraper::{ElementRef, Html, Node, Selector};

use super::{collapse, Builder};
use crate::Document;

/// Elements that never hold readable content.
const ALWAYS_NOISE: &[&str] = &[
    "script", "style", "noscript", "template", "svg", "iframe", "object", "embed", "canvas", "video", "audio",
    "button", "select", "textarea", "input", "option", "head", "link", "meta", "map",
];
/// Site chrome, removed unless it holds a heading of the content.
const CHROME_TAGS: &[&str] = &["nav", "header", "footer", "aside", "form", "dialog", "menu"];
const CHROME_ROLES: &[&str] =
    &["navigation", "banner", "contentinfo", "complementary", "search", "dialog", "alertdialog", "menu", "menubar"];
/// id/class fragments that mark site chrome wherever they appear in a word.
const CHROME_FRAGMENTS: &[&str] =
    &["cookie", "banner", "breadcrumb", "sidebar", "consent", "newsletter", "social", "footer", "header", "gdpr"];
/// id/class words (between '-' or '_') that mark site chrome.
const CHROME_WORDS: &[&str] = &[
    "nav",
    "navbar",
    "navigation",
    "menu",
    "menubar",
    "share",
    "sharing",
    "sharebar",
    "toc",
    "skip",
    "skiplink",
    "feedback",
    "pagination",
    "pager",
];
/// Elements after which the text starts on a new line.
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "section",
    "article",
    "main",
    "header",
    "footer",
    "aside",
    "nav",
    "blockquote",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "li",
    "table",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "figure",
    "figcaption",
    "address",
    "hr",
    "fieldset",
    "details",
    "summary",
    "caption",
    "center",
    "body",
    "html",
    "form",
    "legend",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "pre",
];

/// How deeply elements may nest before their tags are dropped (their text is
/// kept). Real pages stay far below; the HTML parser's scope checks walk the
/// stack of open elements at every tag, so an unbounded depth makes parsing
/// quadratic (100,000 nested `<div>`s: minutes of CPU).
pub(crate) const MAX_DEPTH: usize = 256;

/// HTML: main content (`<main>`, `<article>`, `[role=main]`, else the body), headings as structure.
pub(crate) fn html(text: &str) -> Document {
    let (capped, _) = cap_depth(text, MAX_DEPTH);
    let page = Html::parse_document(&capped);
    let body = select_first(&page, "body").unwrap_or_else(|| page.root_element());
    let root = content_root(&page).unwrap_or(body);
    let with_headings = holding_headings(&page);
    let mut walked = Walker::run(root, true, &with_headings);
    if walked.sections.is_empty() && root != body {
        walked = Walker::run(body, true, &with_headings);
    }
    if walked.sections.is_empty() {
        walked = Walker::run(body, false, &with_headings);
    }
    let title = walked
        .h1
        .clone()
        .or_else(|| select_first(&page, "title").map(|t| strip_site_suffix(&collapse(&t.text().collect::<String>()))));
    Document { title, sections: walked.sections, truncated: None }
}

/// Elements without an end tag, or whose end tag is optional (closed by the
/// parser when a sibling starts): not counted as nesting.
const UNCOUNTED: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr",
    "keygen", "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup", "thead", "tbody", "tfoot", "colgroup",
    "caption", "rb", "rt", "rp", "html", "head", "body", "frame", "basefont", "bgsound", "image",
];
/// Elements whose content is raw text, copied as it is up to their end tag.
const RAW_TEXT: &[&str] =
    &["script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript", "plaintext"];

/// One linear pass over the markup that drops the start and end tags of elements
/// nested deeper than `max` (their text stays, in place). Returns the text and how
/// many tags were dropped. Approximate by design (a tokenizer, not a parser): it
/// only needs to bound the depth the parser will see.
pub(crate) fn cap_depth(text: &str, max: usize) -> (std::borrow::Cow<'_, str>, usize) {
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut copied = 0usize; // bytes[..copied] are in `out` (or skipped)
    let mut depth = 0usize;
    let mut foreign = 0usize; // depth inside <svg>/<math>, where "/>" closes
    let mut dropped = 0usize;
    let mut i = 0usize;
    while let Some(found) = bytes[i..].iter().position(|&b| b == b'<') {
        let start = i + found;
        let rest = &bytes[start..];
        if rest.starts_with(b"<!--") {
            i = find(bytes, start + 4, b"-->").map_or(bytes.len(), |e| e + 3);
            continue;
        }
        let closing = rest.get(1) == Some(&b'/');
        let name_at = start + 1 + usize::from(closing);
        if !bytes.get(name_at).is_some_and(u8::is_ascii_alphabetic) {
            // "<!DOCTYPE", "<?xml", a lone "<": up to the next '>' (or just the '<').
            i = if matches!(rest.get(1), Some(b'!' | b'?')) {
                find(bytes, start, b">").map_or(bytes.len(), |e| e + 1)
            } else {
                start + 1
            };
            continue;
        }
        let name_end = bytes[name_at..]
            .iter()
            .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'-' | b':' | b'_')))
            .map_or(bytes.len(), |n| name_at + n);
        let name = text[name_at..name_end].to_ascii_lowercase();
        let end = tag_end(bytes, name_end);
        let self_closing = end >= 2 && bytes[end - 2] == b'/';
        let counted = !(UNCOUNTED.contains(&name.as_str()) || self_closing && foreign > 0);
        let drop = if closing {
            let over = counted && depth > max;
            if counted {
                depth = depth.saturating_sub(1);
                if matches!(name.as_str(), "svg" | "math") || foreign > 0 {
                    foreign = foreign.saturating_sub(1);
                }
            }
            over
        } else {
            if counted {
                depth += 1;
                if foreign > 0 || (!self_closing && matches!(name.as_str(), "svg" | "math")) {
                    foreign += 1;
                }
            }
            counted && depth > max
        };
        if drop {
            out.push_str(&text[copied..start]);
            copied = end;
            dropped += 1;
        }
        i = end;
        if !closing && RAW_TEXT.contains(&name.as_str()) {
            // Raw text: nothing inside is markup.
            let close = format!("</{name}");
            i = find_ascii_ci(bytes, end, close.as_bytes()).unwrap_or(bytes.len());
        }
    }
    if dropped == 0 {
        return (std::borrow::Cow::Borrowed(text), 0);
    }
    out.push_str(&text[copied..]);
    (std::borrow::Cow::Owned(out), dropped)
}

/// Where a tag that starts before `from` ends (after its '>'), quotes respected.
fn tag_end(bytes: &[u8], from: usize) -> usize {
    let mut quote: Option<u8> = None;
    for (n, &b) in bytes[from..].iter().enumerate() {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b'>' => return from + n + 1,
            None => {}
        }
    }
    bytes.len()
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|n| from + n)
}

fn find_ascii_ci(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes.get(from..)?.windows(needle.len()).position(|w| w.eq_ignore_ascii_case(needle)).map(|n| from + n)
}

/// Every element that holds a heading, in one pass (each heading marks its
/// ancestors up to the first already marked), so the chrome test below costs
/// a lookup instead of a walk of the element's subtree.
fn holding_headings(page: &Html) -> std::collections::HashSet<NodeId> {
    let mut marked = std::collections::HashSet::new();
    for node in page.tree.root().descendants() {
        let is_heading = matches!(node.value(), Node::Element(e) if heading_level(e.name()).is_some());
        if !is_heading {
            continue;
        }
        for holder in std::iter::once(node).chain(node.ancestors()) {
            if !marked.insert(holder.id()) {
                break;
            }
        }
    }
    marked
}

fn select_first<'a>(page: &'a Html, selector: &str) -> Option<ElementRef<'a>> {
    let selector = Selector::parse(selector).ok()?;
    page.select(&selector).next()
}

/// `<main>`, else `[role=main]`, else the one `<article>`.
fn content_root(page: &Html) -> Option<ElementRef<'_>> {
    let visible = |e: &ElementRef| !is_hidden(e);
    for selector in ["main", "[role=main]"] {
        let parsed = Selector::parse(selector).ok()?;
        if let Some(found) = page.select(&parsed).find(visible) {
            return Some(found);
        }
    }
    let articles = Selector::parse("article").ok()?;
    let mut found = page.select(&articles).filter(visible);
    let first = found.next()?;
    // Several articles (a listing): only the body holds them all.
    let nested_only = found.all(|a| a.ancestors().any(|p| p.id() == first.id()));
    nested_only.then_some(first)
}

fn is_hidden(e: &ElementRef) -> bool {
    let v = e.value();
    if v.attr("hidden").is_some() || v.attr("aria-hidden").is_some_and(|a| a.eq_ignore_ascii_case("true")) {
        return true;
    }
    v.attr("style").is_some_and(|s| {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase();
        s.contains("display:none") || s.contains("visibility:hidden")
    })
}

fn chrome_name(value: &str) -> bool {
    value.split_whitespace().any(|token| {
        let token = token.to_ascii_lowercase();
        if CHROME_FRAGMENTS.iter().any(|f| token.contains(f)) {
            return true;
        }
        token.split(['-', '_', ':', '.']).any(|word| {
            CHROME_WORDS.contains(&word)
                || (word.len() > 3 && (word.starts_with("nav") || word.ends_with("nav") || word.ends_with("menu")))
        })
    })
}

/// Whether an element is noise to drop with everything inside it.
fn is_noise(e: &ElementRef, class_rules: bool, with_headings: &std::collections::HashSet<NodeId>) -> bool {
    let v = e.value();
    let name = v.name();
    if matches!(name, "html" | "body" | "main" | "article") {
        return false;
    }
    if ALWAYS_NOISE.contains(&name) || is_hidden(e) {
        return true;
    }
    let chrome = CHROME_TAGS.contains(&name)
        || v.attr("role").is_some_and(|r| CHROME_ROLES.contains(&r.to_ascii_lowercase().as_str()))
        || (class_rules && (v.attr("id").is_some_and(chrome_name) || v.attr("class").is_some_and(chrome_name)));
    // An article's own header (or a hero "banner") holds its headings: keep it.
    chrome && !with_headings.contains(&e.id())
}

fn heading_level(name: &str) -> Option<u8> {
    match name {
        "h1" => Some(1),
        "h2" => Some(2),
        "h3" => Some(3),
        "h4" => Some(4),
        "h5" => Some(5),
        "h6" => Some(6),
        _ => None,
    }
}

/// "Page title | Site name" → "Page title".
fn strip_site_suffix(title: &str) -> String {
    let separators = [" | ", " – ", " — ", " - ", " :: ", " · ", " » ", " •"];
    let cut = separators.iter().filter_map(|s| title.rfind(s)).max();
    match cut {
        Some(i) if !title[..i].trim().is_empty() => title[..i].trim().to_string(),
        _ => title.to_string(),
    }
}

#[derive(Default)]
struct Walker {
    b: Builder,
    line: String,
    pre: usize,
    heading: Option<(u8, String)>,
    rows: Vec<Vec<String>>,
    cells: Vec<String>,
    h1: Option<String>,
    sections: Vec<crate::Section>,
}

impl Walker {
    fn run(root: ElementRef, class_rules: bool, with_headings: &std::collections::HashSet<NodeId>) -> Walker {
        let mut w = Walker::default();
        let mut skip: Option<NodeId> = None;
        for edge in root.traverse() {
            match edge {
                Edge::Open(node) => {
                    if skip.is_some() {
                        continue;
                    }
                    match node.value() {
                        Node::Text(text) => w.text(text),
                        Node::Element(element) => {
                            let noise = node.id() != root.id()
                                && ElementRef::wrap(node).is_some_and(|e| is_noise(&e, class_rules, with_headings));
                            if noise {
                                skip = Some(node.id());
                            } else {
                                w.open(element.name());
                            }
                        }
                        _ => {}
                    }
                }
                Edge::Close(node) => {
                    if skip == Some(node.id()) {
                        skip = None;
                        continue;
                    }
                    if skip.is_none() {
                        if let Node::Element(element) = node.value() {
                            w.close(element.name());
                        }
                    }
                }
            }
        }
        w.end_line();
        w.sections = std::mem::take(&mut w.b).finish();
        w
    }

    /// Where text goes now: a heading being read, a table cell, or the current line.
    fn target(&mut self) -> &mut String {
        if let Some((_, heading)) = &mut self.heading {
            heading
        } else if let Some(cell) = self.cells.last_mut() {
            cell
        } else {
            &mut self.line
        }
    }

    fn inline_context(&self) -> bool {
        self.heading.is_some() || !self.cells.is_empty()
    }

    fn text(&mut self, text: &str) {
        if self.pre > 0 && !self.inline_context() {
            for (n, part) in text.split('\n').enumerate() {
                if n > 0 {
                    self.end_line();
                }
                self.line.push_str(part);
            }
            return;
        }
        let target = self.target();
        target.extend(text.chars().map(|c| if c.is_whitespace() { ' ' } else { c }));
    }

    /// A block boundary: the line so far becomes one unit of text.
    fn end_line(&mut self) {
        if self.inline_context() {
            self.target().push(' ');
        } else {
            let line = std::mem::take(&mut self.line);
            self.b.unit(&line);
        }
    }

    fn open(&mut self, name: &str) {
        if let Some(level) = heading_level(name) {
            if self.heading.is_none() {
                self.end_line();
                self.heading = Some((level, String::new()));
            }
            return;
        }
        match name {
            "br" => self.end_line(),
            "tr" => self.rows.push(Vec::new()),
            "td" | "th" => self.cells.push(String::new()),
            "li" => {
                self.end_line();
                if !self.inline_context() {
                    self.line.push_str("- ");
                }
            }
            "pre" => {
                self.end_line();
                self.pre += 1;
            }
            _ if BLOCKS.contains(&name) => self.end_line(),
            _ => {}
        }
    }

    fn close(&mut self, name: &str) {
        if let Some(level) = heading_level(name) {
            if self.heading.as_ref().is_some_and(|(l, _)| *l == level) {
                let (level, text) = self.heading.take().unwrap_or_default();
                let text = collapse(&text);
                if self.cells.is_empty() {
                    if level == 1 && self.h1.is_none() && !text.is_empty() {
                        self.h1 = Some(text.clone());
                    }
                    self.b.heading(level, &text);
                } else if let Some(cell) = self.cells.last_mut() {
                    cell.push_str(&text);
                    cell.push(' ');
                }
            }
            return;
        }
        match name {
            "td" | "th" => {
                let cell = collapse(&self.cells.pop().unwrap_or_default());
                if let Some(row) = self.rows.last_mut() {
                    row.push(cell);
                } else {
                    self.target().push_str(&cell);
                }
            }
            "tr" => {
                let row = self.rows.pop().unwrap_or_default();
                let row = row.into_iter().filter(|c| !c.is_empty()).collect::<Vec<_>>().join(" | ");
                if self.inline_context() {
                    let target = self.target();
                    target.push_str(&row);
                    target.push(' ');
                } else {
                    self.end_line();
                    self.b.unit(&row);
                }
            }
            "pre" => {
                self.end_line();
                self.pre = self.pre.saturating_sub(1);
            }
            _ if BLOCKS.contains(&name) => self.end_line(),
            _ => {}
        }
    }
}
