//! Text formats: decoding, Markdown, reStructuredText, plain text and config files.

use super::Builder;
use crate::Document;

/// Decodes text bytes: UTF-8 (with or without BOM), UTF-16 LE/BE with BOM
/// (or unmistakably UTF-16 without one), else Latin-1/Windows-1252.
pub fn decode_text(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return String::from_utf8_lossy(rest).into_owned();
    }
    if let Some(little_endian) = utf16_order(bytes) {
        let body = if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") { &bytes[2..] } else { bytes };
        let encoding = if little_endian { encoding_rs::UTF_16LE } else { encoding_rs::UTF_16BE };
        return encoding.decode_without_bom_handling(body).0.into_owned();
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        // Only an incomplete character at the very end (a cut file): still UTF-8.
        Err(e) if e.error_len().is_none() => String::from_utf8_lossy(bytes).into_owned(),
        Err(_) => encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0.into_owned(),
    }
}

/// `Some(true)` for UTF-16 LE, `Some(false)` for BE: from the BOM, or from the
/// pattern of NUL bytes that ASCII-range text leaves in UTF-16 without one.
pub(crate) fn utf16_order(bytes: &[u8]) -> Option<bool> {
    if bytes.starts_with(b"\xFF\xFE") {
        return Some(true);
    }
    if bytes.starts_with(b"\xFE\xFF") {
        return Some(false);
    }
    let head = &bytes[..bytes.len().min(4096) & !1];
    if head.len() < 8 {
        return None;
    }
    let pairs = head.len() / 2;
    let even_nul = head.iter().step_by(2).filter(|&&b| b == 0).count();
    let odd_nul = head.iter().skip(1).step_by(2).filter(|&&b| b == 0).count();
    let plausible = |nul: usize, other: usize| nul * 10 >= pairs * 7 && other * 50 <= pairs;
    if plausible(odd_nul, even_nul) {
        Some(true)
    } else if plausible(even_nul, odd_nul) {
        Some(false)
    } else {
        None
    }
}

// ---------------------------------------------------------------- Markdown

/// Markdown: front matter as metadata, ATX and setext headings, light syntax cleanup.
pub(crate) fn markdown(text: &str) -> Document {
    let (mut title, body) = front_matter(text);
    let lines: Vec<&str> = body.lines().collect();
    let mut b = Builder::default();
    let mut para: Vec<String> = Vec::new();
    let mut fence: Option<(char, usize)> = None;
    let mut in_comment = false;
    let flush = |para: &mut Vec<String>, b: &mut Builder| {
        if !para.is_empty() {
            b.unit(&md_inline(&md_join(para)));
            para.clear();
        }
    };
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let t = line.trim();
        i += 1;
        if let Some((ch, n)) = fence {
            let closing = t.chars().take_while(|&c| c == ch).count();
            if closing >= n && t.chars().all(|c| c == ch) {
                fence = None;
            } else {
                b.unit(line);
            }
            continue;
        }
        if in_comment {
            in_comment = !t.contains("-->");
            continue;
        }
        if t.is_empty() {
            flush(&mut para, &mut b);
            continue;
        }
        if t.starts_with("<!--") {
            flush(&mut para, &mut b);
            in_comment = !t.contains("-->");
            continue;
        }
        if let Some(open) = fence_open(line) {
            flush(&mut para, &mut b);
            fence = Some(open);
            continue;
        }
        if let Some((level, heading)) = atx_heading(line) {
            flush(&mut para, &mut b);
            let heading = md_inline(heading);
            if level == 1 && title.is_none() {
                title = Some(heading.clone());
            }
            b.heading(level, &heading);
            continue;
        }
        let para_is_item = para.first().is_some_and(|p| list_item(p).is_some());
        if !para.is_empty() && !para_is_item && is_setext_underline(t) {
            let level = if t.starts_with('=') { 1 } else { 2 };
            let heading = md_inline(&para.join(" "));
            para.clear();
            if level == 1 && title.is_none() {
                title = Some(heading.clone());
            }
            b.heading(level, &heading);
            continue;
        }
        if is_thematic_break(t) {
            flush(&mut para, &mut b);
            continue;
        }
        if is_table_separator(t) {
            continue;
        }
        let next_is_separator = lines.get(i).is_some_and(|n| is_table_separator(n.trim()));
        if (t.starts_with('|') && t.len() > 1) || (next_is_separator && t.contains('|')) {
            flush(&mut para, &mut b);
            b.unit(&table_row(t, md_inline));
            continue;
        }
        if is_link_definition(t) {
            continue;
        }
        let t = strip_blockquote(t);
        if let Some(item) = list_item(t) {
            flush(&mut para, &mut b);
            para.push(item);
            continue;
        }
        if !t.is_empty() {
            para.push(t.to_string());
        }
    }
    flush(&mut para, &mut b);
    Document { title, sections: b.finish(), truncated: None }
}

/// Joins a paragraph's lines; a line that is only a bold label ("**Owner**")
/// introduces the text after it: "Owner: There is exactly one…".
fn md_join(lines: &[String]) -> String {
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        if i > 0 {
            let prev = lines[i - 1].trim();
            let label = prev.len() > 4
                && ((prev.starts_with("**") && prev.ends_with("**"))
                    || (prev.starts_with("__") && prev.ends_with("__")))
                && !prev[2..prev.len() - 2].contains(['*', '_']);
            let punctuated = prev.trim_end_matches(['*', '_']).ends_with([':', '.', '!', '?']);
            out.push_str(if label && !punctuated { ": " } else { " " });
        }
        out.push_str(line);
    }
    out
}

/// YAML (`---`) or TOML (`+++`) front matter: its title, and the text after it.
fn front_matter(text: &str) -> (Option<String>, &str) {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let delimiter = match text.lines().next().map(str::trim_end) {
        Some("---") => "---",
        Some("+++") => "+++",
        _ => return (None, text),
    };
    let mut offset = text.find('\n').map_or(text.len(), |i| i + 1);
    let mut title = None;
    for (n, line) in text[offset..].split_inclusive('\n').enumerate() {
        let t = line.trim();
        offset += line.len();
        if t == delimiter || (delimiter == "---" && t == "...") {
            return (title, &text[offset..]);
        }
        if n > 200 {
            break;
        }
        let value = t.strip_prefix("title:").or_else(|| t.strip_prefix("title =")).or_else(|| t.strip_prefix("title="));
        if let Some(value) = value {
            let value = value.trim().trim_matches(|c| c == '"' || c == '\'').trim();
            if !value.is_empty() && title.is_none() {
                title = Some(value.to_string());
            }
        }
    }
    (None, text)
}

fn fence_open(line: &str) -> Option<(char, usize)> {
    let t = line.trim_start();
    if line.len() - t.len() > 3 {
        return None;
    }
    let ch = t.chars().next().filter(|&c| c == '`' || c == '~')?;
    let n = t.chars().take_while(|&c| c == ch).count();
    (n >= 3 && !(ch == '`' && t[n..].contains('`'))).then_some((ch, n))
}

fn atx_heading(line: &str) -> Option<(u8, &str)> {
    let t = line.trim_start();
    if line.len() - t.len() > 3 {
        return None;
    }
    let level = t.chars().take_while(|&c| c == '#').count();
    if !(1..=6).contains(&level) {
        return None;
    }
    let rest = &t[level..];
    if !rest.is_empty() && !rest.starts_with([' ', '\t']) {
        return None;
    }
    let rest = rest.trim();
    // An optional closing sequence of '#'s.
    let stripped = rest.trim_end_matches('#');
    let rest = if stripped.is_empty() || stripped.ends_with([' ', '\t']) { stripped.trim_end() } else { rest };
    Some((level as u8, rest))
}

fn is_setext_underline(t: &str) -> bool {
    (!t.is_empty() && t.chars().all(|c| c == '=')) || (t.len() >= 2 && t.chars().all(|c| c == '-'))
}

fn is_thematic_break(t: &str) -> bool {
    let Some(ch) = t.chars().next().filter(|c| matches!(c, '-' | '*' | '_')) else { return false };
    t.chars().all(|c| c == ch || c == ' ') && t.chars().filter(|&c| c == ch).count() >= 3
}

fn is_table_separator(t: &str) -> bool {
    t.contains('-') && t.contains('|') && t.chars().all(|c| matches!(c, '|' | '-' | ':' | ' ' | '\t'))
}

/// A table row with its cells joined by " | ".
fn table_row(t: &str, clean: fn(&str) -> String) -> String {
    let t = t.trim().trim_start_matches('|');
    let t = t.strip_suffix('|').filter(|s| !s.ends_with('\\')).unwrap_or(t);
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut chars = t.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cell.push('|');
                chars.next();
            }
            '|' => cells.push(std::mem::take(&mut cell)),
            _ => cell.push(c),
        }
    }
    cells.push(cell);
    cells.iter().map(|c| clean(c.trim())).filter(|c| !c.is_empty()).collect::<Vec<_>>().join(" | ")
}

fn is_link_definition(t: &str) -> bool {
    t.starts_with('[') && !t.starts_with("[^") && t.find("]:").is_some_and(|i| i > 1 && !t[..i].contains(']'))
}

fn strip_blockquote(mut t: &str) -> &str {
    while let Some(rest) = t.strip_prefix('>') {
        t = rest.trim_start();
    }
    t
}

/// A list item's text, bullets as "- ", numbers kept ("1. ").
fn list_item(t: &str) -> Option<String> {
    for marker in ["- ", "* ", "+ ", "• "] {
        if let Some(rest) = t.strip_prefix(marker) {
            let rest = rest.trim_start();
            let rest = rest
                .strip_prefix("[ ] ")
                .or_else(|| rest.strip_prefix("[x] "))
                .or_else(|| rest.strip_prefix("[X] "))
                .unwrap_or(rest);
            return Some(format!("- {rest}"));
        }
    }
    let digits = t.chars().take_while(char::is_ascii_digit).count();
    if (1..=9).contains(&digits) {
        let rest = &t[digits..];
        if let Some(item) = rest.strip_prefix(". ").or_else(|| rest.strip_prefix(") ")) {
            return Some(format!("{}. {}", &t[..digits], item.trim_start()));
        }
    }
    None
}

/// Light inline cleanup: emphasis markers, links to their text, images and HTML tags dropped.
pub(crate) fn md_inline(s: &str) -> String {
    let c: Vec<char> = s.chars().collect();
    let n = c.len();
    // Look-ahead for closing brackets and backticks is bounded in total, so
    // hostile text ("[[[[…") costs linear time.
    let mut budget = 32 * n + 4096;
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < n {
        match c[i] {
            '\\' if i + 1 < n && c[i + 1].is_ascii_punctuation() => {
                out.push(c[i + 1]);
                i += 2;
            }
            '`' => {
                let run = c[i..].iter().take_while(|&&x| x == '`').count();
                match find_run(&c, i + run, '`', run, &mut budget) {
                    Some(end) => {
                        let code: String = c[i + run..end].iter().collect();
                        out.push_str(code.trim());
                        i = end + run;
                    }
                    None => {
                        out.extend(&c[i..i + run]);
                        i += run;
                    }
                }
            }
            '!' if c.get(i + 1) == Some(&'[') => match link_at(&c, i + 1, &mut budget) {
                Some((_, end)) => i = end,
                None => {
                    out.push('!');
                    i += 1;
                }
            },
            '[' => match link_at(&c, i, &mut budget) {
                Some((text, end)) => {
                    out.push_str(&md_inline(&text));
                    i = end;
                }
                None => {
                    out.push('[');
                    i += 1;
                }
            },
            '<' => match html_tag_at(&c, i, &mut budget) {
                Some((replacement, end)) => {
                    out.push_str(&replacement);
                    i = end;
                }
                None => {
                    out.push('<');
                    i += 1;
                }
            },
            ch @ ('*' | '_' | '~') => {
                let run = c[i..].iter().take_while(|&&x| x == ch).count();
                let before = if i == 0 { ' ' } else { c[i - 1] };
                let after = c.get(i + run).copied().unwrap_or(' ');
                let delimiter = match ch {
                    '~' => run >= 2,
                    '*' => !(before.is_whitespace() && after.is_whitespace()),
                    // snake_case keeps its underscores.
                    _ => {
                        let inside_word = before.is_alphanumeric() && after.is_alphanumeric();
                        let alone = before.is_whitespace() && after.is_whitespace();
                        !inside_word && !alone
                    }
                };
                if !delimiter {
                    out.extend(&c[i..i + run]);
                }
                i += run;
            }
            ch => {
                out.push(ch);
                i += 1;
            }
        }
    }
    out
}

/// The index where a run of exactly `len` `ch`s starts, from `from` (bounded search).
fn find_run(c: &[char], from: usize, ch: char, len: usize, budget: &mut usize) -> Option<usize> {
    let limit = c.len().min(from + 2000).min(from.saturating_add(*budget));
    let mut j = from;
    let found = loop {
        if j >= limit {
            break None;
        }
        if c[j] == ch {
            let run = c[j..].iter().take_while(|&&x| x == ch).count();
            if run == len {
                break Some(j);
            }
            j += run;
        } else {
            j += 1;
        }
    };
    *budget = budget.saturating_sub(j.saturating_sub(from) + 1);
    found
}

/// `[text](url)` or `[text][ref]` at `i`: the text and the index after the link.
fn link_at(c: &[char], i: usize, budget: &mut usize) -> Option<(String, usize)> {
    let close = matching(c, i, '[', ']', 300, budget)?;
    let text: String = c[i + 1..close].iter().collect();
    match c.get(close + 1) {
        Some('(') => {
            let end = matching(c, close + 1, '(', ')', 2000, budget)?;
            Some((text, end + 1))
        }
        Some('[') => {
            let end = matching(c, close + 1, '[', ']', 300, budget)?;
            Some((text, end + 1))
        }
        _ => None,
    }
}

/// The index of the bracket that closes the one at `open` (nesting counted, bounded).
fn matching(c: &[char], open: usize, left: char, right: char, max: usize, budget: &mut usize) -> Option<usize> {
    let mut depth = 0usize;
    let limit = c.len().min(open + max).min(open.saturating_add(*budget));
    let mut j = open;
    let found = loop {
        if j >= limit {
            break None;
        }
        match c[j] {
            '\\' => j += 1,
            x if x == left => depth += 1,
            x if x == right => {
                depth -= 1;
                if depth == 0 {
                    break Some(j);
                }
            }
            _ => {}
        }
        j += 1;
    };
    *budget = budget.saturating_sub(j.saturating_sub(open) + 1);
    found
}

/// An autolink (`<https://…>`, kept) or an HTML tag (dropped; `<br>` becomes a space).
fn html_tag_at(c: &[char], i: usize, budget: &mut usize) -> Option<(String, usize)> {
    let next = *c.get(i + 1)?;
    if !(next.is_ascii_alphabetic() || next == '/' || next == '!') {
        return None;
    }
    let limit = c.len().min(i + 500).min(i.saturating_add(*budget));
    let end = (i + 1..limit).find(|&j| c[j] == '>' || c[j] == '<');
    *budget = budget.saturating_sub(end.unwrap_or(limit).saturating_sub(i) + 1);
    let close = end.filter(|&j| c[j] == '>')?;
    let inner: String = c[i + 1..close].iter().collect();
    if inner.contains("://") || inner.starts_with("mailto:") || (inner.contains('@') && !inner.contains(' ')) {
        return Some((inner.trim_start_matches("mailto:").to_string(), close + 1));
    }
    let name: String = inner.trim_start_matches('/').chars().take_while(char::is_ascii_alphanumeric).collect();
    let replacement = if name.eq_ignore_ascii_case("br") { " " } else { "" };
    Some((replacement.to_string(), close + 1))
}

// ---------------------------------------------------------------- reStructuredText

const ADMONITIONS: &[&str] =
    &["note", "warning", "tip", "important", "caution", "attention", "danger", "error", "hint", "seealso", "todo"];
/// Directives whose content is not prose for a reader.
const SKIPPED_DIRECTIVES: &[&str] = &[
    "image",
    "toctree",
    "contents",
    "include",
    "raw",
    "meta",
    "index",
    "highlight",
    "role",
    "default-role",
    "sectnum",
    "literalinclude",
    "autosummary",
    "automodule",
    "autoclass",
    "autofunction",
    "graphviz",
    "math",
];
const CODE_DIRECTIVES: &[&str] = &["code-block", "code", "sourcecode", "parsed-literal"];

fn is_adornment(t: &str) -> Option<char> {
    let t = t.trim_end();
    let ch = t.chars().next()?;
    (ch.is_ascii_punctuation() && t.chars().count() >= 3 && t.chars().all(|c| c == ch)).then_some(ch)
}

fn indent_of(line: &str) -> usize {
    line.chars().take_while(|c| c.is_whitespace()).map(|c| if c == '\t' { 8 } else { 1 }).sum()
}

/// reStructuredText: underlined (and overlined) titles, directives' content, roles to their text.
pub(crate) fn rst(text: &str) -> Document {
    let lines: Vec<&str> = text.lines().collect();
    let mut b = Builder::default();
    let mut styles: Vec<(char, bool)> = Vec::new();
    let mut title: Option<String> = None;
    let mut para: Vec<String> = Vec::new();
    // Lines indented deeper than this are skipped (ignored directive) or kept verbatim (literal block).
    let mut skip_deeper: Option<usize> = None;
    let mut literal_deeper: Option<usize> = None;
    let mut literal_next = false;
    let mut para_indent = 0;
    let flush = |para: &mut Vec<String>, b: &mut Builder, literal_next: &mut bool| {
        if !para.is_empty() {
            let mut text = para.join(" ");
            if text.ends_with("::") {
                *literal_next = true;
                text.truncate(text.len() - 2);
                let trimmed = text.trim_end();
                if trimmed.len() == text.len() && !trimmed.is_empty() {
                    text.push(':');
                }
            }
            b.unit(&rst_inline(&text));
            para.clear();
        }
    };
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let t = line.trim();
        let indent = indent_of(line);
        if let Some(base) = skip_deeper {
            if t.is_empty() || indent > base {
                i += 1;
                continue;
            }
            skip_deeper = None;
        }
        if let Some(base) = literal_deeper {
            if t.is_empty() || indent > base {
                b.unit(t);
                i += 1;
                continue;
            }
            literal_deeper = None;
        }
        if t.is_empty() {
            let was_literal = para.last().is_some_and(|p| p.ends_with("::"));
            flush(&mut para, &mut b, &mut literal_next);
            if was_literal || literal_next {
                literal_next = false;
                literal_deeper = Some(para_indent);
            }
            i += 1;
            continue;
        }
        // Section titles: overline + text + underline, or text + underline.
        if let Some(ch) = is_adornment(t) {
            let overlined = indent == 0
                && i + 2 < lines.len()
                && !lines[i + 1].trim().is_empty()
                && is_adornment(lines[i + 2].trim()) == Some(ch)
                && is_adornment(lines[i + 1].trim()).is_none();
            if overlined {
                flush(&mut para, &mut b, &mut literal_next);
                let heading = rst_inline(lines[i + 1].trim());
                rst_heading(&mut b, &mut styles, &mut title, (ch, true), &heading);
                i += 3;
                continue;
            }
            if para.is_empty() {
                // A transition or a simple-table border.
                i += 1;
                continue;
            }
        }
        if indent == 0 && para.is_empty() {
            if let Some(ch) = lines.get(i + 1).and_then(|n| is_adornment(n.trim())) {
                if indent_of(lines[i + 1]) == 0 && lines[i + 1].trim().chars().count() + 2 >= t.chars().count().min(80)
                {
                    let heading = rst_inline(t);
                    rst_heading(&mut b, &mut styles, &mut title, (ch, false), &heading);
                    i += 2;
                    continue;
                }
            }
        }
        i += 1;
        // Simple-table borders ("=====  =====") and grid-table borders ("+----+----+").
        if t.split_whitespace().count() > 1 && t.split_whitespace().all(|w| is_adornment(w).is_some()) {
            continue;
        }
        if t.starts_with('+') && t.ends_with('+') && t.chars().all(|c| matches!(c, '+' | '-' | '=' | ':' | ' ')) {
            continue;
        }
        if t.starts_with('|') && t.ends_with('|') && t.len() > 2 && t.matches('|').count() >= 3 {
            flush(&mut para, &mut b, &mut literal_next);
            b.unit(&table_row(t, rst_inline));
            continue;
        }
        if let Some(rest) = t.strip_prefix(".. ") {
            flush(&mut para, &mut b, &mut literal_next);
            if let Some(pos) = rest.find("::") {
                let name = rest[..pos].trim().to_ascii_lowercase();
                let argument = rest[pos + 2..].trim();
                if name.starts_with('|') || SKIPPED_DIRECTIVES.contains(&name.as_str()) {
                    skip_deeper = Some(indent);
                } else if CODE_DIRECTIVES.contains(&name.as_str()) {
                    skip_options(&lines, &mut i, indent);
                    literal_deeper = Some(indent);
                } else {
                    skip_options(&lines, &mut i, indent);
                    let label = if ADMONITIONS.contains(&name.as_str()) || name == "admonition" {
                        let mut label = name.clone();
                        if let Some(first) = label.get_mut(0..1) {
                            first.make_ascii_uppercase();
                        }
                        if name == "admonition" {
                            String::new()
                        } else {
                            format!("{label}:")
                        }
                    } else {
                        String::new()
                    };
                    let start = format!("{label} {argument}");
                    if !start.trim().is_empty() {
                        para.push(start.trim().to_string());
                        para_indent = indent;
                    }
                }
            } else if let Some(footnote) = rest.strip_prefix('[').and_then(|r| r.split_once(']')) {
                para.push(footnote.1.trim().to_string());
                para_indent = indent;
            } else {
                // A comment or a hyperlink target.
                skip_deeper = Some(indent);
            }
            continue;
        }
        if let Some(field) = rst_field(t) {
            flush(&mut para, &mut b, &mut literal_next);
            para.push(field);
            para_indent = indent;
            continue;
        }
        if let Some(item) = rst_list_item(t) {
            flush(&mut para, &mut b, &mut literal_next);
            para.push(item);
            para_indent = indent;
            continue;
        }
        if para.is_empty() {
            para_indent = indent;
        }
        para.push(t.to_string());
    }
    flush(&mut para, &mut b, &mut literal_next);
    Document { title, sections: b.finish(), truncated: None }
}

fn rst_heading(
    b: &mut Builder,
    styles: &mut Vec<(char, bool)>,
    title: &mut Option<String>,
    style: (char, bool),
    heading: &str,
) {
    let level = match styles.iter().position(|s| *s == style) {
        Some(p) => p + 1,
        None => {
            styles.push(style);
            styles.len()
        }
    };
    if title.is_none() {
        *title = Some(heading.to_string());
    }
    b.heading(level.min(255) as u8, heading);
}

/// Skips a directive's option lines (`:maxdepth: 2`) right after it.
fn skip_options(lines: &[&str], i: &mut usize, indent: usize) {
    while let Some(line) = lines.get(*i) {
        let t = line.trim();
        if indent_of(line) > indent && t.starts_with(':') && t[1..].contains(':') {
            *i += 1;
        } else {
            break;
        }
    }
}

/// `:Field: value` → "Field: value".
fn rst_field(t: &str) -> Option<String> {
    let rest = t.strip_prefix(':')?;
    let end = rest.find(": ").or_else(|| rest.strip_suffix(':').map(|r| r.len()))?;
    let name = &rest[..end];
    if name.is_empty() || name.contains('`') || name.len() > 60 {
        return None;
    }
    Some(format!("{name}: {}", rest[end + 1..].trim()))
}

fn rst_list_item(t: &str) -> Option<String> {
    if let Some(rest) = t.strip_prefix("#. ") {
        return Some(format!("- {}", rest.trim_start()));
    }
    if let Some(rest) = t.strip_prefix('(').and_then(|r| r.split_once(") ")) {
        if rest.0.len() <= 3 && rest.0.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Some(format!("({}) {}", rest.0, rest.1));
        }
    }
    list_item(t)
}

/// Roles, references, literals and emphasis to their plain text.
pub(crate) fn rst_inline(s: &str) -> String {
    let c: Vec<char> = s.chars().collect();
    let n = c.len();
    let mut budget = 32 * n + 4096;
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < n {
        match c[i] {
            '\\' if i + 1 < n => {
                out.push(c[i + 1]);
                i += 2;
            }
            ':' if i + 1 < n && c[i + 1].is_ascii_alphabetic() => {
                // A role: `:name:` followed by a backquoted text.
                let end = (i + 1..n.min(i + 60)).find(|&j| c[j] == ':' || c[j].is_whitespace());
                match end {
                    Some(end) if c[end] == ':' && c.get(end + 1) == Some(&'`') => i = end + 1,
                    _ => {
                        out.push(':');
                        i += 1;
                    }
                }
            }
            '`' => {
                let run = c[i..].iter().take_while(|&&x| x == '`').count().min(2);
                match find_run(&c, i + run, '`', run, &mut budget) {
                    Some(end) => {
                        let mut inner: String = c[i + run..end].iter().collect();
                        if run == 1 {
                            // `text <target>` keeps the text; a bare `<target>` keeps the target.
                            if let (Some(lt), true) = (inner.rfind('<'), inner.trim_end().ends_with('>')) {
                                let text = inner[..lt].trim().to_string();
                                inner = if text.is_empty() {
                                    inner[lt + 1..].trim_end().trim_end_matches('>').to_string()
                                } else {
                                    text
                                };
                            }
                        }
                        out.push_str(inner.trim());
                        i = end + run;
                        // Reference suffixes: `text`_ and `text`__.
                        while i < n && c[i] == '_' {
                            i += 1;
                        }
                    }
                    None => {
                        out.extend(&c[i..i + run]);
                        i += run;
                    }
                }
            }
            '*' => {
                let run = c[i..].iter().take_while(|&&x| x == '*').count();
                let before = if i == 0 { ' ' } else { c[i - 1] };
                let after = c.get(i + run).copied().unwrap_or(' ');
                if before.is_whitespace() && after.is_whitespace() {
                    out.extend(&c[i..i + run]);
                }
                i += run;
            }
            '|' if i + 1 < n && !c[i + 1].is_whitespace() => {
                // |substitution| keeps its name.
                match (i + 1..n.min(i + 80)).find(|&j| c[j] == '|') {
                    Some(end) if !c[end - 1].is_whitespace() => {
                        out.extend(&c[i + 1..end]);
                        i = end + 1;
                    }
                    _ => {
                        out.push('|');
                        i += 1;
                    }
                }
            }
            '[' => {
                // Footnote and citation references: [1]_, [#]_, [CIT2002]_.
                match (i + 1..n.min(i + 40)).find(|&j| c[j] == ']') {
                    Some(end) if c.get(end + 1) == Some(&'_') => i = end + 2,
                    _ => {
                        out.push('[');
                        i += 1;
                    }
                }
            }
            '_' if i > 0 && c[i - 1].is_alphanumeric() && c.get(i + 1).is_none_or(|x| !x.is_alphanumeric()) => {
                // word_ (a reference) keeps the word.
                i += 1;
            }
            ch => {
                out.push(ch);
                i += 1;
            }
        }
    }
    out
}

// ---------------------------------------------------------------- plain text

/// A bullet or number at the start of a line.
fn starts_with_marker(t: &str) -> bool {
    list_item(t).is_some() || t.starts_with("o ") || t.starts_with("· ")
}

/// Letters, all upper case: "2. WHAT IS NOT DOWNTIME".
fn is_caps_heading(t: &str) -> bool {
    let letters = t.chars().filter(|c| c.is_alphabetic()).count();
    letters >= 3
        && t.chars().count() <= 80
        && !t.ends_with(['.', ',', ';'])
        && t.chars().filter(|c| c.is_alphabetic()).all(|c| c.is_uppercase())
}

/// Intentional layout: a table row or aligned columns.
fn is_tabular(t: &str) -> bool {
    t.contains('\t') || t.contains("   ")
}

/// Plain text: a title from the first line, underlined and upper-case headings, paragraphs.
/// Config files (`cfg`/`conf`) keep every line and use `[section]` lines as headings.
pub(crate) fn plain(text: &str, config: bool) -> Document {
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    let mut b = Builder::default();
    if config {
        for line in &lines {
            let t = line.trim();
            if t.starts_with('[') && t.ends_with(']') && t.len() > 2 && !t.contains('=') {
                b.heading(1, &t[1..t.len() - 1]);
            } else {
                b.unit(t);
            }
        }
        return Document { title: None, sections: b.finish(), truncated: None };
    }
    let mut styles: Vec<char> = Vec::new();
    let mut title: Option<String> = None;
    let mut para: Vec<String> = Vec::new();
    let flush = |para: &mut Vec<String>, b: &mut Builder| {
        if !para.is_empty() {
            b.unit(&para.join(" "));
            para.clear();
        }
    };
    let first = lines.iter().position(|l| !l.trim().is_empty());
    let blank = |j: usize| lines.get(j).is_none_or(|l| l.trim().is_empty());
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let t = line.trim();
        let prev_blank = i == 0 || blank(i - 1);
        if t.is_empty() {
            flush(&mut para, &mut b);
            i += 1;
            continue;
        }
        // Underlined heading.
        let underline = lines.get(i + 1).and_then(|n| is_adornment(n.trim()).filter(|c| "=-~*#^+".contains(*c)));
        if let Some(ch) = underline.filter(|_| prev_blank && t.chars().count() <= 120) {
            flush(&mut para, &mut b);
            let level = match styles.iter().position(|&s| s == ch) {
                Some(p) => p + 1,
                None => {
                    styles.push(ch);
                    styles.len()
                }
            };
            if title.is_none() && Some(i) == first {
                title = Some(t.to_string());
            }
            b.heading(level.min(255) as u8, t);
            i += 2;
            continue;
        }
        // A short first line followed by a blank line, or an upper-case first line: the title.
        if Some(i) == first
            && t.chars().count() <= 100
            && !t.ends_with(['.', ',', ';', ':'])
            && (blank(i + 1) || is_caps_heading(t))
        {
            title = Some(t.to_string());
            styles.push('\0');
            b.heading(1, t);
            i += 1;
            continue;
        }
        let next_is_content = !blank(i + 1);
        let content_follows =
            lines[i + 1..].iter().find(|l| !l.trim().is_empty()).is_some_and(|l| !is_caps_heading(l.trim()));
        if prev_blank && content_follows && is_caps_heading(t) {
            flush(&mut para, &mut b);
            let level = if title.is_some() { 2 } else { 1 };
            b.heading(level, t);
            i += 1;
            continue;
        }
        // "Short label:" alone on its line, with content right below it.
        if prev_blank
            && next_is_content
            && t.ends_with(':')
            && t.chars().count() <= 50
            && t.split_whitespace().count() <= 5
            && t.chars().next().is_some_and(char::is_uppercase)
            && !t[..t.len() - 1].contains(':')
            && !starts_with_marker(t)
        {
            flush(&mut para, &mut b);
            let level = if title.is_some() { 3 } else { 2 };
            b.heading(level, t.trim_end_matches(':'));
            i += 1;
            continue;
        }
        let joins = para.last().is_some_and(|last| {
            !starts_with_marker(t) && !is_tabular(t) && !is_tabular(last) && last.trim().chars().count() >= 45
        });
        if !joins {
            flush(&mut para, &mut b);
        }
        let t = if para.is_empty() { list_item(t).unwrap_or_else(|| t.to_string()) } else { t.to_string() };
        para.push(t);
        i += 1;
    }
    flush(&mut para, &mut b);
    Document { title, sections: b.finish(), truncated: None }
}
