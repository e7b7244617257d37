//! HTML → clean text, hand-written: email HTML only needs text, line structure and quotes, and
//! a full HTML5 parser (html5ever, as `html2text` uses) would be the heaviest dependency of the
//! crate for no gain here. The scanner is linear, allocation-light and never panics.

use std::borrow::Cow;

/// Turns an HTML document or fragment into readable plain text.
///
/// * `script`, `style`, `head`, `title`, `template`, `svg`, comments (including Outlook's
///   conditional comments) and elements hidden with `display:none` or `hidden` are dropped;
/// * block elements (`p`, `div`, `li`, `tr`, headings, `br` …) become line breaks, paragraphs
///   a blank line; list items get `- ` (or `1. ` in `ol`); table cells are separated by a space;
/// * `blockquote` content is prefixed with `> ` per level, as plain-text mail quotes it, so that
///   quoted history is recognised the same way in HTML and plain text;
/// * links keep their text; entities (named, decimal, hex) are decoded; whitespace collapses
///   as a browser would, except inside `pre`; zero-width characters are removed.
pub fn html_to_text(html: &str) -> String {
    let (text, unclosed_hidden) = render(html, true);
    if unclosed_hidden {
        // A "hidden" element that never closes would swallow the rest of the document:
        // malformed markup, so hiding is not trusted.
        return render(html, false).0;
    }
    text
}

fn render(html: &str, honour_hidden: bool) -> (String, bool) {
    let mut r = Renderer { honour_hidden, ..Renderer::default() };
    let bytes = html.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let Some(rel) = html[i..].find('<') else {
            r.text(&html[i..]);
            break;
        };
        let lt = i + rel;
        if lt > i {
            r.text(&html[i..lt]);
        }
        let rest = &html[lt..];
        if let Some(comment) = rest.strip_prefix("<!--") {
            i = match comment.find("-->") {
                Some(p) => lt + 4 + p + 3,
                None => bytes.len(),
            };
        } else if rest.starts_with("<!") || rest.starts_with("<?") {
            i = skip_past_gt(html, lt + 2);
        } else if rest.starts_with("</") && rest[2..].starts_with(|c: char| c.is_ascii_alphabetic()) {
            let (name, _) = tag_name(&rest[2..]);
            let name = name.to_ascii_lowercase();
            i = skip_past_gt(html, lt + 2);
            r.end_tag(&name);
        } else if rest[1..].starts_with(|c: char| c.is_ascii_alphabetic()) {
            let (name, name_len) = tag_name(&rest[1..]);
            let name = name.to_ascii_lowercase();
            let (attrs_end, self_closing) = scan_tag(html, lt + 1 + name_len);
            let attrs = &html[(lt + 1 + name_len).min(attrs_end)..attrs_end];
            i = (attrs_end + 1).min(bytes.len());
            if RAW_TEXT.contains(&name.as_str()) && !self_closing {
                // Content is not markup: jump to the matching end tag.
                i = find_end_tag(html, i, &name).unwrap_or(bytes.len());
                continue;
            }
            r.start_tag(&name, attrs, self_closing);
        } else {
            r.text("<");
            i = lt + 1;
        }
    }
    let unclosed = r.skip.as_ref().is_some_and(|s| s.hidden);
    (r.finish(), unclosed)
}

/// Elements whose content is raw text (never markup) and never shown.
const RAW_TEXT: &[&str] = &["script", "style", "title", "xmp", "textarea", "noembed", "noframes", "iframe"];
/// Elements whose content (markup included) is never shown.
const SKIP_CONTENT: &[&str] = &["head", "template", "svg", "math", "object", "select", "noscript", "button"];
const VOID: &[&str] =
    &["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"];
/// Blocks separated by a blank line.
const PARAGRAPH: &[&str] =
    &["p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl", "table", "pre", "blockquote", "hr"];
/// Blocks separated by a line break.
const BLOCK: &[&str] = &[
    "div",
    "li",
    "tr",
    "dt",
    "dd",
    "section",
    "article",
    "header",
    "footer",
    "nav",
    "aside",
    "main",
    "figure",
    "figcaption",
    "form",
    "address",
    "center",
    "fieldset",
    "legend",
    "details",
    "summary",
    "caption",
    "tbody",
    "thead",
    "tfoot",
    "body",
    "html",
    "option",
];

fn tag_name(s: &str) -> (&str, usize) {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == ':' || c == '_' || c == '.'))
        .unwrap_or(s.len());
    (&s[..end], end)
}

/// From `from` (inside a tag), finds the closing `>` respecting quoted attribute values.
/// Returns the index of `>` (or the end of input) and whether the tag ends with `/>`.
fn scan_tag(html: &str, from: usize) -> (usize, bool) {
    let bytes = html.as_bytes();
    let mut quote: Option<u8> = None;
    let mut j = from;
    while j < bytes.len() {
        let b = bytes[j];
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b'>' => return (j, j > from && bytes[j - 1] == b'/'),
            None => {}
        }
        j += 1;
    }
    (bytes.len(), false)
}

fn skip_past_gt(html: &str, from: usize) -> usize {
    match html.get(from..).and_then(|s| s.find('>')) {
        Some(p) => from + p + 1,
        None => html.len(),
    }
}

/// Index just after `</name ...>` starting the search at `from`, case-insensitively.
fn find_end_tag(html: &str, from: usize, name: &str) -> Option<usize> {
    let bytes = html.as_bytes();
    let mut j = from;
    while let Some(p) = html.get(j..)?.find("</") {
        let start = j + p + 2;
        let cand = bytes.get(start..start + name.len())?;
        let after = bytes.get(start + name.len()).copied();
        if cand.eq_ignore_ascii_case(name.as_bytes())
            && after.is_none_or(|c| c == b'>' || c.is_ascii_whitespace() || c == b'/')
        {
            return Some(skip_past_gt(html, start + name.len()));
        }
        j = start;
    }
    None
}

/// The value of attribute `name` in a tag's attribute text, entity-decoded.
fn attr<'a>(attrs: &'a str, name: &str) -> Option<Cow<'a, str>> {
    let bytes = attrs.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
            i += 1;
        }
        let start = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'=' && bytes[i] != b'/' {
            i += 1;
        }
        let key = &attrs[start..i];
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = "";
        if i < bytes.len() && bytes[i] == b'=' {
            i += 1;
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < bytes.len() && (bytes[i] == b'"' || bytes[i] == b'\'') {
                let q = bytes[i];
                let vstart = i + 1;
                i = vstart;
                while i < bytes.len() && bytes[i] != q {
                    i += 1;
                }
                value = &attrs[vstart..i];
                i = (i + 1).min(bytes.len());
            } else {
                let vstart = i;
                while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
                    i += 1;
                }
                value = &attrs[vstart..i];
            }
        }
        if key.eq_ignore_ascii_case(name) {
            return Some(decode_entities(value));
        }
        if i == start {
            i += 1;
        }
    }
    None
}

fn is_hidden(attrs: &str) -> bool {
    if attr(attrs, "hidden").is_some() {
        return true;
    }
    attr(attrs, "style").is_some_and(|s| {
        let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase();
        compact.contains("display:none") || compact.contains("visibility:hidden")
    })
}

struct Skip {
    name: String,
    depth: usize,
    hidden: bool,
}

#[derive(Default)]
struct Renderer {
    honour_hidden: bool,
    lines: Vec<String>,
    line: String,
    /// Quote depth of the line being written (fixed when its first character is written).
    line_depth: usize,
    started: bool,
    pending_space: bool,
    /// Newlines owed before the next text: 1 = new line, 2 = blank line.
    pending_breaks: usize,
    quote_depth: usize,
    pre_depth: usize,
    lists: Vec<Option<u32>>,
    skip: Option<Skip>,
    cell_in_row: usize,
}

impl Renderer {
    fn start_tag(&mut self, name: &str, attrs: &str, self_closing: bool) {
        let void = VOID.contains(&name) || self_closing;
        if let Some(skip) = &mut self.skip {
            if skip.name == "head" && name == "body" {
                // `<body>` ends an unclosed `<head>`, as browsers do.
                self.skip = None;
            } else {
                if !void && skip.name == name {
                    skip.depth += 1;
                }
                return;
            }
        }
        if !void && (SKIP_CONTENT.contains(&name) || (self.honour_hidden && is_hidden(attrs))) {
            if name == "head" {
                self.skip = Some(Skip { name: name.to_owned(), depth: 1, hidden: false });
            } else {
                let hidden = !SKIP_CONTENT.contains(&name);
                self.skip = Some(Skip { name: name.to_owned(), depth: 1, hidden });
            }
            return;
        }
        match name {
            "br" => self.line_break(),
            "hr" => self.block(2),
            "blockquote" => {
                self.block(2);
                self.quote_depth += 1;
            }
            "pre" => {
                self.block(2);
                self.pre_depth += 1;
            }
            "ul" => {
                self.block(if self.lists.is_empty() { 2 } else { 1 });
                self.lists.push(None);
            }
            "ol" => {
                self.block(if self.lists.is_empty() { 2 } else { 1 });
                let start = attr(attrs, "start").and_then(|s| s.trim().parse::<u32>().ok()).unwrap_or(1);
                self.lists.push(Some(start));
            }
            "li" => {
                self.block(1);
                let indent = "  ".repeat(self.lists.len().saturating_sub(1));
                let marker = match self.lists.last_mut() {
                    Some(Some(n)) => {
                        let m = format!("{indent}{n}. ");
                        *n = n.saturating_add(1);
                        m
                    }
                    _ => format!("{indent}- "),
                };
                self.push_str_raw(&marker);
            }
            "tr" => {
                self.block(1);
                self.cell_in_row = 0;
            }
            "td" | "th" => {
                if self.cell_in_row > 0 {
                    self.pending_space = true;
                }
                self.cell_in_row += 1;
            }
            _ if PARAGRAPH.contains(&name) => self.block(2),
            _ if BLOCK.contains(&name) => self.block(1),
            _ => {}
        }
    }

    fn end_tag(&mut self, name: &str) {
        if let Some(skip) = &mut self.skip {
            if skip.name == name {
                skip.depth -= 1;
                if skip.depth == 0 {
                    self.skip = None;
                }
            } else if skip.name == "head" && name == "html" {
                self.skip = None;
            }
            return;
        }
        match name {
            "blockquote" => {
                self.block(2);
                self.quote_depth = self.quote_depth.saturating_sub(1);
            }
            "pre" => {
                self.block(2);
                self.pre_depth = self.pre_depth.saturating_sub(1);
            }
            "ul" | "ol" => {
                self.lists.pop();
                self.block(if self.lists.is_empty() { 2 } else { 1 });
            }
            _ if PARAGRAPH.contains(&name) => self.block(2),
            _ if BLOCK.contains(&name) => self.block(1),
            _ => {}
        }
    }

    fn text(&mut self, raw: &str) {
        if self.skip.is_some() {
            return;
        }
        let decoded = decode_entities(raw);
        for c in decoded.chars() {
            if is_invisible(c) {
                continue;
            }
            if self.pre_depth > 0 {
                match c {
                    '\r' => {}
                    '\n' => self.hard_newline(),
                    '\t' => self.push_char_raw(' '),
                    c if c.is_control() => {}
                    c => self.push_char_raw(c),
                }
            } else if c.is_whitespace() {
                self.pending_space = true;
            } else if !c.is_control() {
                self.push_char(c);
            }
        }
    }

    fn block(&mut self, n: usize) {
        if self.started {
            self.pending_breaks = self.pending_breaks.max(n);
        }
        self.pending_space = false;
    }

    fn line_break(&mut self) {
        if self.started {
            self.pending_breaks = (self.pending_breaks + 1).min(2);
        }
        self.pending_space = false;
    }

    fn hard_newline(&mut self) {
        self.started = true;
        self.pending_breaks = (self.pending_breaks + 1).min(2);
        self.pending_space = false;
    }

    fn push_char(&mut self, c: char) {
        if self.pending_breaks == 0 && self.pending_space && !self.line.is_empty() && !self.line.ends_with(' ') {
            self.line.push(' ');
        }
        self.push_char_raw(c);
    }

    fn push_str_raw(&mut self, s: &str) {
        for c in s.chars() {
            self.push_char_raw(c);
        }
    }

    fn push_char_raw(&mut self, c: char) {
        if self.pending_breaks > 0 {
            self.flush_line();
            if self.pending_breaks > 1 {
                self.lines.push(quote_prefix(self.quote_depth.min(self.line_depth)).trim_end().to_owned());
            }
            self.pending_breaks = 0;
        }
        if self.line.is_empty() {
            self.line_depth = self.quote_depth;
        }
        self.pending_space = false;
        self.started = true;
        self.line.push(c);
    }

    fn flush_line(&mut self) {
        let content = std::mem::take(&mut self.line);
        let mut l = quote_prefix(self.line_depth);
        l.push_str(content.trim_end());
        self.lines.push(l.trim_end().to_owned());
    }

    fn finish(mut self) -> String {
        if !self.line.is_empty() {
            self.flush_line();
        }
        let mut out = String::new();
        let mut blank_run = 0;
        for l in &self.lines {
            let blank = l.trim_start_matches('>').trim().is_empty();
            if blank {
                blank_run += 1;
                if blank_run > 1 {
                    continue;
                }
            } else {
                blank_run = 0;
            }
            out.push_str(l);
            out.push('\n');
        }
        out.trim_matches(|c: char| c == '\n' || c == ' ').to_owned()
    }
}

fn quote_prefix(depth: usize) -> String {
    if depth == 0 {
        String::new()
    } else {
        let mut s = ">".repeat(depth);
        s.push(' ');
        s
    }
}

fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}' | '\u{034F}' | '\u{180E}')
}

/// Decodes HTML character references: named (the common ones), `&#NNN;` and `&#xHH;`.
/// Unknown or unterminated references are left as they are.
pub(crate) fn decode_entities(s: &str) -> Cow<'_, str> {
    if !s.contains('&') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find('&') {
        out.push_str(&rest[..p]);
        rest = &rest[p..];
        match decode_one(rest, &mut out) {
            Some(len) => rest = &rest[len..],
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Decodes the reference at the start of `s` (which starts with `&`) into `out`; returns the
/// bytes consumed, or `None` (nothing written) when it is not a reference.
fn decode_one(s: &str, out: &mut String) -> Option<usize> {
    let body = &s[1..];
    if let Some(num) = body.strip_prefix('#') {
        let (digits, radix, skip) = match num.strip_prefix(['x', 'X']) {
            Some(hex) => (hex, 16, 3),
            None => (num, 10, 2),
        };
        let end = digits.find(|c: char| !c.is_digit(radix)).unwrap_or(digits.len());
        if end == 0 || end > 8 {
            return None;
        }
        let code = u32::from_str_radix(&digits[..end], radix).ok()?;
        let semi = usize::from(digits[end..].starts_with(';'));
        out.push(match code {
            0 => '\u{FFFD}',
            // Windows-1252 code points that HTML maps for legacy reasons.
            0x80..=0x9F => cp1252_c1(code as u8),
            _ => char::from_u32(code).unwrap_or('\u{FFFD}'),
        });
        return Some(skip + end + semi);
    }
    let end = body.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(body.len());
    if end == 0 || end > 10 {
        return None;
    }
    let name = &body[..end];
    let has_semi = body[end..].starts_with(';');
    let value = named_entity(name)?;
    // Without `;`, only the legacy entities browsers accept that way.
    if !has_semi && !matches!(name, "amp" | "lt" | "gt" | "quot" | "nbsp" | "copy" | "reg" | "AMP" | "LT" | "GT") {
        return None;
    }
    out.push_str(value);
    Some(1 + end + usize::from(has_semi))
}

fn cp1252_c1(b: u8) -> char {
    const TABLE: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž', '\u{8F}', '\u{90}', '‘',
        '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}', 'ž', 'Ÿ',
    ];
    TABLE[usize::from(b - 0x80)]
}

fn named_entity(name: &str) -> Option<&'static str> {
    NAMED.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}

const NAMED: &[(&str, &str)] = &[
    ("amp", "&"),
    ("AMP", "&"),
    ("lt", "<"),
    ("LT", "<"),
    ("gt", ">"),
    ("GT", ">"),
    ("quot", "\""),
    ("QUOT", "\""),
    ("apos", "'"),
    ("nbsp", "\u{A0}"),
    ("ensp", " "),
    ("emsp", " "),
    ("thinsp", " "),
    ("zwnj", "\u{200C}"),
    ("zwj", "\u{200D}"),
    ("shy", "\u{AD}"),
    ("copy", "©"),
    ("reg", "®"),
    ("trade", "™"),
    ("hellip", "…"),
    ("mdash", "—"),
    ("ndash", "–"),
    ("lsquo", "‘"),
    ("rsquo", "’"),
    ("sbquo", "‚"),
    ("ldquo", "“"),
    ("rdquo", "”"),
    ("bdquo", "„"),
    ("laquo", "«"),
    ("raquo", "»"),
    ("lsaquo", "‹"),
    ("rsaquo", "›"),
    ("bull", "•"),
    ("middot", "·"),
    ("euro", "€"),
    ("pound", "£"),
    ("yen", "¥"),
    ("cent", "¢"),
    ("curren", "¤"),
    ("sect", "§"),
    ("para", "¶"),
    ("deg", "°"),
    ("plusmn", "±"),
    ("times", "×"),
    ("divide", "÷"),
    ("frac12", "½"),
    ("frac14", "¼"),
    ("frac34", "¾"),
    ("sup1", "¹"),
    ("sup2", "²"),
    ("sup3", "³"),
    ("micro", "µ"),
    ("iexcl", "¡"),
    ("iquest", "¿"),
    ("ordf", "ª"),
    ("ordm", "º"),
    ("not", "¬"),
    ("macr", "¯"),
    ("acute", "´"),
    ("cedil", "¸"),
    ("uml", "¨"),
    ("brvbar", "¦"),
    ("dagger", "†"),
    ("Dagger", "‡"),
    ("permil", "‰"),
    ("prime", "′"),
    ("Prime", "″"),
    ("larr", "←"),
    ("rarr", "→"),
    ("uarr", "↑"),
    ("darr", "↓"),
    ("harr", "↔"),
    ("check", "✓"),
    ("hearts", "♥"),
    ("star", "☆"),
    ("Agrave", "À"),
    ("Aacute", "Á"),
    ("Acirc", "Â"),
    ("Atilde", "Ã"),
    ("Auml", "Ä"),
    ("Aring", "Å"),
    ("AElig", "Æ"),
    ("Ccedil", "Ç"),
    ("Egrave", "È"),
    ("Eacute", "É"),
    ("Ecirc", "Ê"),
    ("Euml", "Ë"),
    ("Igrave", "Ì"),
    ("Iacute", "Í"),
    ("Icirc", "Î"),
    ("Iuml", "Ï"),
    ("ETH", "Ð"),
    ("Ntilde", "Ñ"),
    ("Ograve", "Ò"),
    ("Oacute", "Ó"),
    ("Ocirc", "Ô"),
    ("Otilde", "Õ"),
    ("Ouml", "Ö"),
    ("Oslash", "Ø"),
    ("Ugrave", "Ù"),
    ("Uacute", "Ú"),
    ("Ucirc", "Û"),
    ("Uuml", "Ü"),
    ("Yacute", "Ý"),
    ("THORN", "Þ"),
    ("szlig", "ß"),
    ("agrave", "à"),
    ("aacute", "á"),
    ("acirc", "â"),
    ("atilde", "ã"),
    ("auml", "ä"),
    ("aring", "å"),
    ("aelig", "æ"),
    ("ccedil", "ç"),
    ("egrave", "è"),
    ("eacute", "é"),
    ("ecirc", "ê"),
    ("euml", "ë"),
    ("igrave", "ì"),
    ("iacute", "í"),
    ("icirc", "î"),
    ("iuml", "ï"),
    ("eth", "ð"),
    ("ntilde", "ñ"),
    ("ograve", "ò"),
    ("oacute", "ó"),
    ("ocirc", "ô"),
    ("otilde", "õ"),
    ("ouml", "ö"),
    ("oslash", "ø"),
    ("ugrave", "ù"),
    ("uacute", "ú"),
    ("ucirc", "û"),
    ("uuml", "ü"),
    ("yacute", "ý"),
    ("thorn", "þ"),
    ("yuml", "ÿ"),
    ("OElig", "Œ"),
    ("oelig", "œ"),
    ("Scaron", "Š"),
    ("scaron", "š"),
    ("Yuml", "Ÿ"),
    ("fnof", "ƒ"),
    ("circ", "ˆ"),
    ("tilde", "˜"),
    ("alpha", "α"),
    ("beta", "β"),
    ("gamma", "γ"),
    ("delta", "δ"),
    ("pi", "π"),
    ("mu", "μ"),
    ("Omega", "Ω"),
    ("omega", "ω"),
    ("infin", "∞"),
    ("ne", "≠"),
    ("le", "≤"),
    ("ge", "≥"),
    ("asymp", "≈"),
    ("minus", "−"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_script_style_head_and_comments() {
        let html = "<html><head><title>T</title><style>p{color:red}</style></head><body>\
                    <script>alert('x<p>')</script><!-- hidden --><p>Hello</p></body></html>";
        assert_eq!(html_to_text(html), "Hello");
    }

    #[test]
    fn blocks_lists_and_breaks() {
        let html =
            "<p>One</p><p>Two<br>Three</p><ul><li>a</li><li>b</li></ul><ol><li>x</li><li>y</li></ol><div>End</div>";
        assert_eq!(html_to_text(html), "One\n\nTwo\nThree\n\n- a\n- b\n\n1. x\n2. y\n\nEnd");
    }

    #[test]
    fn entities_and_whitespace() {
        let html = "  Caf&eacute;&nbsp;&amp;   cr&#232;me &#x2014; 5&euro; &lt;b&gt; &unknown; AT&T &amp\n  done ";
        assert_eq!(html_to_text(html), "Café & crème — 5€ <b> &unknown; AT&T & done");
    }

    #[test]
    fn links_keep_text_and_images_are_dropped() {
        let html =
            r#"See <a href="https://example.com/x?a=1&amp;b=2">our <b>FAQ</b></a><img src="logo.png" alt="Logo">."#;
        assert_eq!(html_to_text(html), "See our FAQ.");
    }

    #[test]
    fn blockquote_becomes_quote_prefix() {
        let html = "<div>Thanks!</div><div class=\"gmail_quote\">On Mon, Ann wrote:<br>\
                    <blockquote><p>Question?</p><blockquote>older</blockquote></blockquote></div>";
        assert_eq!(html_to_text(html), "Thanks!\nOn Mon, Ann wrote:\n\n> Question?\n>\n>> older");
    }

    #[test]
    fn pre_keeps_whitespace() {
        let html = "<p>Log:</p><pre>a  b\n  c</pre>";
        assert_eq!(html_to_text(html), "Log:\n\na  b\n  c");
    }

    #[test]
    fn hidden_elements_are_dropped_unless_unclosed() {
        let html = r#"<div style="display: none; max-height:0">preheader</div><p>Body</p>"#;
        assert_eq!(html_to_text(html), "Body");
        let broken = r#"<div style="display:none">x<p>Body"#;
        assert_eq!(html_to_text(broken), "x\n\nBody");
    }

    #[test]
    fn tables_put_cells_on_one_line() {
        let html = "<table><tr><td>Order</td><td>#123</td></tr><tr><td>Total</td><td>10 €</td></tr></table>";
        assert_eq!(html_to_text(html), "Order #123\nTotal 10 €");
    }

    #[test]
    fn hostile_markup_does_not_panic() {
        for html in [
            "<",
            "<<<>>>",
            "<a",
            "<a href=\"x",
            "</",
            "</>",
            "<!--",
            "<!",
            "<?xml",
            "&",
            "&#",
            "&#x",
            "&#99999999999;",
            "&#x110000;",
            "<script>never closed",
            "<p>é<b>ü</p>",
            "<div style='display:none'>",
            "<a b=c d='e' f>t</a>",
            "\u{0}<p>\u{1}</p>",
            "<ul><li>x",
            "</blockquote></blockquote>x",
            "<ol start=\"-1\"><li>a</ol>",
            "<head><body>visible",
            "<🙂>",
            "<é>",
        ] {
            let _ = html_to_text(html);
        }
        assert_eq!(html_to_text("<head><body>visible"), "visible");
        assert_eq!(html_to_text("a < b and c > d"), "a < b and c > d");
    }

    #[test]
    fn outlook_markup() {
        let html = "<html xmlns:o=\"urn:schemas-microsoft-com:office:office\"><head><!--[if gte mso 9]><xml>x</xml><![endif]-->\
                    </head><body lang=EN-US><div class=WordSection1><p class=MsoNormal>Hi there,<o:p></o:p></p>\
                    <p class=MsoNormal><o:p>&nbsp;</o:p></p><p class=MsoNormal>My order is late.<o:p></o:p></p></div></body></html>";
        assert_eq!(html_to_text(html), "Hi there,\n\nMy order is late.");
    }
}
