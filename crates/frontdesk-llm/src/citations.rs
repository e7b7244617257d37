//! Citation markers in the model's text: `[1]`, `[1, 3]`, `[#2]`, `[source 2]`,
//! `[passage: 4]`, `[^1]`, `[1-3]`, `【1】`, `【4†source】`.
//!
//! [`MarkerStripper`] removes them from a stream as it passes (holding back at most a
//! marker's worth of text) and records the ids; [`resolve`] does the same on a whole
//! text and keeps only the ids of passages that were actually retrieved. Removing a
//! marker also removes the space before it when punctuation follows
//! (`open daily [2].` → `open daily.`). Leading and trailing whitespace is dropped.

/// Longest marker considered (longer bracketed text is ordinary text).
const MAX_MARKER: usize = 48;
/// Largest range expanded (`[1-5]`).
const MAX_RANGE: u32 = 20;
const LABELS: &[&str] =
    &["source", "sources", "passage", "passages", "doc", "docs", "document", "ref", "id", "citation", "cite", "p"];

/// A final text with its markers removed and its citations checked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cited {
    /// The visitor-facing text, markers removed.
    pub text: String,
    /// Cited ids that were retrieved, in order of first use, without repeats.
    pub kept: Vec<u32>,
    /// Cited ids that were not retrieved (dropped), in order of first use.
    pub dropped: Vec<u32>,
}

/// Strips the markers of `text` and splits the cited ids by `retrieved`.
pub fn resolve(text: &str, retrieved: &[u32]) -> Cited {
    let mut s = MarkerStripper::new();
    let mut out = String::with_capacity(text.len());
    s.push(text, &mut out);
    s.finish(&mut out);
    let (kept, dropped) = split(s.cited(), retrieved);
    Cited { text: out, kept, dropped }
}

/// Every cited id of `text`, in order of first use.
pub fn extract(text: &str) -> Vec<u32> {
    let mut s = MarkerStripper::new();
    let mut sink = String::new();
    s.push(text, &mut sink);
    s.finish(&mut sink);
    s.cited
}

/// `text` without its markers.
pub fn strip(text: &str) -> String {
    resolve(text, &[]).text
}

/// (retrieved ids among `cited`, the others), both in the order of `cited`.
pub fn split(cited: &[u32], retrieved: &[u32]) -> (Vec<u32>, Vec<u32>) {
    cited.iter().partition(|id| retrieved.contains(id))
}

/// Removes citation markers from streamed text.
#[derive(Debug, Default, Clone)]
pub struct MarkerStripper {
    /// A possible marker being read (starts with `[` or `【`).
    marker: String,
    /// Whitespace before the current marker / after the last removed one.
    ws_before: String,
    ws_after: String,
    after_marker: bool,
    emitted: bool,
    cited: Vec<u32>,
}

enum Scan {
    Incomplete,
    Invalid,
    Complete(Vec<u32>),
}

impl MarkerStripper {
    pub fn new() -> Self {
        Self::default()
    }

    /// Ids cited so far, in order of first use, without repeats.
    pub fn cited(&self) -> &[u32] {
        &self.cited
    }

    /// Appends the visitor-facing part of `chunk` to `out` (possibly nothing yet).
    pub fn push(&mut self, chunk: &str, out: &mut String) {
        for c in chunk.chars() {
            self.push_char(c, out);
        }
    }

    /// The end of the text: flushes held-back text that turned out not to be a marker.
    /// Trailing whitespace is dropped.
    pub fn finish(&mut self, out: &mut String) {
        if !self.marker.is_empty() {
            let m = std::mem::take(&mut self.marker);
            self.flush_ws(out);
            out.push_str(&m);
            self.emitted = true;
        }
        self.ws_before.clear();
        self.ws_after.clear();
        self.after_marker = false;
    }

    fn push_char(&mut self, c: char, out: &mut String) {
        if !self.marker.is_empty() {
            self.marker.push(c);
            match scan(&self.marker) {
                Scan::Incomplete => {}
                Scan::Complete(ids) => {
                    for id in ids {
                        if !self.cited.contains(&id) {
                            self.cited.push(id);
                        }
                    }
                    self.marker.clear();
                    self.after_marker = true;
                    self.ws_after.clear();
                }
                Scan::Invalid => {
                    // Not a marker: its opening bracket is text; the rest is read again
                    // (it may hold a marker: `[[1]`).
                    let m = std::mem::take(&mut self.marker);
                    let mut chars = m.chars();
                    let open = chars.next().unwrap_or('[');
                    self.text_char(open, out);
                    for c in chars {
                        self.push_char(c, out);
                    }
                }
            }
            return;
        }
        if c == '[' || c == '【' {
            self.marker.push(c);
            return;
        }
        if c.is_whitespace() {
            if !self.emitted {
                return; // leading whitespace
            }
            if self.after_marker {
                self.ws_after.push(c);
            } else {
                self.ws_before.push(c);
            }
            return;
        }
        self.text_char(c, out);
    }

    /// A character that is not whitespace and not part of a marker.
    fn text_char(&mut self, c: char, out: &mut String) {
        if self.after_marker && matches!(c, '.' | ',' | ';' | ':' | '!' | '?' | ')' | '…') {
            self.ws_before.clear();
            self.ws_after.clear();
        } else {
            self.flush_ws(out);
        }
        self.after_marker = false;
        out.push(c);
        self.emitted = true;
    }

    fn flush_ws(&mut self, out: &mut String) {
        if self.emitted {
            if self.after_marker && !self.ws_after.is_empty() {
                out.push_str(&self.ws_after);
            } else {
                out.push_str(&self.ws_before);
            }
        }
        self.ws_before.clear();
        self.ws_after.clear();
    }
}

/// Whether `m` (starting with its opening bracket) is, or may still become, a marker.
fn scan(m: &str) -> Scan {
    let mut chars = m.chars();
    let open = chars.next();
    let close = if open == Some('【') { '】' } else { ']' };
    let body = chars.as_str();
    let Some(end) = body.find(close) else {
        let ok_chars = body.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, ' ' | ',' | ';' | ':' | '#' | '^' | '-' | '–' | '†' | '_')
        });
        return if ok_chars && m.len() <= MAX_MARKER { Scan::Incomplete } else { Scan::Invalid };
    };
    debug_assert_eq!(end + close.len_utf8(), body.len());
    match ids(&body[..end]) {
        Some(ids) => Scan::Complete(ids),
        None => Scan::Invalid,
    }
}

/// The ids of a marker's inside (`1, 3`, `source 2`, `#2`, `4†source`, `1-3`).
fn ids(inner: &str) -> Option<Vec<u32>> {
    let mut out = Vec::new();
    let inner = inner.trim().trim_start_matches('^');
    for item in inner.split([',', ';']) {
        let mut words: Vec<&str> = item.split_whitespace().collect();
        if words.is_empty() {
            return None;
        }
        // "1 and 2", "source 1 2"
        words.retain(|w| !w.eq_ignore_ascii_case("and"));
        let mut saw_number = false;
        for w in words {
            let w = w.trim_end_matches(':');
            let lower = w.to_ascii_lowercase();
            if LABELS.contains(&lower.as_str()) {
                if saw_number {
                    return None;
                }
                continue;
            }
            // `source:2`, `p2`, `#2`, `4†source`, `4:0†source`
            let mut t = lower.as_str();
            if let Some((label, rest)) = t.split_once(':') {
                if LABELS.contains(&label) {
                    t = rest;
                }
            }
            if let Some(label) = LABELS
                .iter()
                .find(|l| t.starts_with(**l) && t[l.len()..].starts_with(|c: char| c.is_ascii_digit() || c == '#'))
            {
                t = &t[label.len()..];
            }
            let t = t.trim_start_matches('#');
            let t = t.split_once('†').map_or(t, |(n, _)| n);
            let t = t.split_once(':').map_or(t, |(n, _)| n);
            if let Some((a, b)) = t.split_once(['-', '–']) {
                let (a, b) = (a.parse::<u32>().ok()?, b.parse::<u32>().ok()?);
                if b < a || b - a >= MAX_RANGE {
                    return None;
                }
                out.extend(a..=b);
            } else {
                out.push(t.parse::<u32>().ok()?);
            }
            saw_number = true;
        }
        if !saw_number {
            return None;
        }
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn streamed(text: &str, step: usize) -> (String, Vec<u32>) {
        let mut s = MarkerStripper::new();
        let mut out = String::new();
        let chars: Vec<char> = text.chars().collect();
        for piece in chars.chunks(step) {
            s.push(&piece.iter().collect::<String>(), &mut out);
        }
        s.finish(&mut out);
        (out, s.cited().to_vec())
    }

    #[test]
    fn markers_are_found_and_removed() {
        let cases: &[(&str, &str, &[u32])] = &[
            ("Open daily [1].", "Open daily.", &[1]),
            ("Open daily [1, 3] and closed Sunday [#2].", "Open daily and closed Sunday.", &[1, 3, 2]),
            ("See [source 2]: it says so.", "See: it says so.", &[2]),
            ("Yes【1】, really【4†source】!", "Yes, really!", &[1, 4]),
            ("A [1][2] b [2] [3] c", "A b c", &[1, 2, 3]),
            ("A [1-3].", "A.", &[1, 2, 3]),
            ("A [^5] [passage: 6] [Source:7] [p8]", "A", &[5, 6, 7, 8]),
            ("Press [Enter] or [Esc].", "Press [Enter] or [Esc].", &[]),
            ("Array a[0] and [[1]", "Array a and [", &[0, 1]),
            ("Step [step 2] stays", "Step [step 2] stays", &[]),
            ("  \n Hello [1]\n\nNext [2]  ", "Hello\n\nNext", &[1, 2]),
            ("Unclosed [1, 2", "Unclosed [1, 2", &[]),
            ("x [1 and 2] y", "x y", &[1, 2]),
        ];
        for (text, want, ids) in cases {
            for step in [1, 2, 5, 1000] {
                let (out, cited) = streamed(text, step);
                assert_eq!(&out, want, "{text:?} in pieces of {step}");
                assert_eq!(&cited, ids, "{text:?}");
            }
        }
    }

    #[test]
    fn resolve_keeps_only_retrieved_ids() {
        let c = resolve("Refunds take 5 days [2]. Shipping is free [9]. Also [2][1].", &[1, 2, 3]);
        assert_eq!(c.text, "Refunds take 5 days. Shipping is free. Also.");
        assert_eq!(c.kept, vec![2, 1]);
        assert_eq!(c.dropped, vec![9]);
        assert_eq!(extract("[3] a [1] b [3]"), vec![3, 1]);
        assert_eq!(strip("x [1] y"), "x y");
    }

    #[test]
    fn long_brackets_are_text() {
        let long = format!("[{}]", "a".repeat(60));
        assert_eq!(strip(&long), long);
        assert_eq!(strip("[1-99]"), "[1-99]");
    }
}
