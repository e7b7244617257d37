//! Cutting a [`Document`] into [`Chunk`]s by its structure.
//!
//! A section (the text under a heading, a slide, a sheet row) becomes one
//! chunk when it fits in `max_chars`. Longer sections are cut on paragraph
//! boundaries, then sentence boundaries, then between words, into pieces of
//! about `target_chars`; each piece after the first starts with the last
//! sentence(s) of the previous one (up to `overlap_chars`) so a fact that
//! straddles the cut is still found with its context. Tiny adjacent sections
//! under the same parent heading are merged (their own headings kept inline)
//! so that a list of one-line sections does not become a list of one-line
//! chunks; sections with a locator (rows, slides, pages) are never merged.

use crate::{lang, Chunk, Document, Section};

/// Sizes, in characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkOptions {
    /// The size pieces of a long section aim for.
    pub target_chars: usize,
    /// Sections up to this size stay whole.
    pub max_chars: usize,
    /// How much of the previous piece a piece repeats.
    pub overlap_chars: usize,
}

impl Default for ChunkOptions {
    fn default() -> Self {
        ChunkOptions { target_chars: 900, max_chars: 1500, overlap_chars: 150 }
    }
}

/// How much text a document's language is guessed from.
const LANG_SAMPLE_CHARS: usize = 4000;

/// Chunks of `doc`, in order, with ordinals from 0. Every chunk carries the
/// document's title (or `fallback_title`, e.g. the file name, when it has
/// none), its heading path and locator, and its own language (the
/// document's when the chunk alone does not tell).
pub fn chunk(doc: &Document, fallback_title: &str, opts: &ChunkOptions) -> Vec<Chunk> {
    let opts = sane(opts);
    let title = doc
        .title
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| fallback_title.trim())
        .to_owned();
    let sections: Vec<&Section> = doc.sections.iter().filter(|s| !s.text.trim().is_empty()).collect();
    let dominant = dominant_lang(&sections);

    let mut chunks = Vec::new();
    for unit in group_sections(&sections, &opts) {
        for text in split_text(&unit.text, &opts) {
            let detected = lang::detect(&text);
            let lang = if detected == lang::UND { dominant } else { detected };
            chunks.push(Chunk {
                ordinal: chunks.len() as i64,
                title: title.clone(),
                heading_path: unit.heading_path.clone(),
                locator: unit.locator.clone(),
                text,
                lang: lang.to_owned(),
            });
        }
    }
    chunks
}

/// The text to index for a chunk: its title, its headings (those that do not
/// just repeat the title) and its text, one per line — so a passage is found
/// by its article's title and section name too.
pub fn passage_text(c: &Chunk) -> String {
    let mut out = String::with_capacity(c.title.len() + c.text.len() + 64);
    let title = c.title.trim();
    if !title.is_empty() {
        out.push_str(title);
        out.push('\n');
    }
    let headings: Vec<&str> =
        c.heading_path.iter().map(|h| h.trim()).filter(|h| !h.is_empty() && !h.eq_ignore_ascii_case(title)).collect();
    if !headings.is_empty() {
        out.push_str(&headings.join(" > "));
        out.push('\n');
    }
    out.push_str(c.text.trim());
    out
}

/// Options that can be honoured: a target of at least 50 characters, a
/// maximum no smaller than the target, an overlap under half the target.
fn sane(o: &ChunkOptions) -> ChunkOptions {
    let target_chars = o.target_chars.max(50);
    ChunkOptions {
        target_chars,
        max_chars: o.max_chars.max(target_chars),
        overlap_chars: o.overlap_chars.min(target_chars / 2),
    }
}

fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// The language most of the document is in, from a sample of its text.
fn dominant_lang(sections: &[&Section]) -> &'static str {
    let mut sample = String::new();
    for s in sections {
        if sample.len() >= LANG_SAMPLE_CHARS {
            break;
        }
        sample.push_str(s.text.trim());
        sample.push('\n');
    }
    if sample.len() > LANG_SAMPLE_CHARS {
        let mut end = LANG_SAMPLE_CHARS;
        while !sample.is_char_boundary(end) {
            end -= 1;
        }
        sample.truncate(end);
    }
    lang::detect(&sample)
}

/// A section or several merged ones: what becomes one chunk, or is split.
struct Unit {
    heading_path: Vec<String>,
    locator: Option<String>,
    text: String,
}

fn common_prefix_len(a: &[String], b: &[String]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// Merges runs of tiny sections that share a parent heading (and have no
/// locator); every other section is a unit of its own.
fn group_sections(sections: &[&Section], opts: &ChunkOptions) -> Vec<Unit> {
    let tiny = opts.target_chars / 3;
    let mut units = Vec::new();
    let mut group: Vec<&Section> = Vec::new();
    // The group's common heading path, its deepest member and its size.
    let mut prefix: Vec<String> = Vec::new();
    let mut deepest = 0usize;
    let mut size = 0usize;

    for &s in sections {
        let len = char_len(s.text.trim());
        let mergeable = !group.is_empty() && group[0].locator.is_none() && s.locator.is_none() && {
            let p = common_prefix_len(&prefix, &s.heading_path);
            // Members are the parent's own text or its direct children.
            let depth_ok = deepest.max(s.heading_path.len()) <= p + 1;
            let inline_heading: usize =
                s.heading_path[p.min(s.heading_path.len())..].iter().map(|h| char_len(h) + 3).sum();
            depth_ok && (size < tiny || len < tiny) && size + len + inline_heading + 2 <= opts.target_chars
        };
        if !mergeable && !group.is_empty() {
            units.push(merge(&group, &prefix));
            group.clear();
        }
        if group.is_empty() {
            prefix = s.heading_path.clone();
            deepest = s.heading_path.len();
            size = len;
        } else {
            let p = common_prefix_len(&prefix, &s.heading_path);
            prefix.truncate(p);
            deepest = deepest.max(s.heading_path.len());
            size += len + 2;
        }
        group.push(s);
    }
    if !group.is_empty() {
        units.push(merge(&group, &prefix));
    }
    units
}

fn merge(group: &[&Section], prefix: &[String]) -> Unit {
    if let [s] = group {
        return Unit {
            heading_path: s.heading_path.clone(),
            locator: s.locator.clone(),
            text: s.text.trim().to_owned(),
        };
    }
    let mut text = String::new();
    for s in group {
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        let own = &s.heading_path[prefix.len().min(s.heading_path.len())..];
        if !own.is_empty() {
            text.push_str(&own.join(" > "));
            text.push('\n');
        }
        text.push_str(s.text.trim());
    }
    Unit { heading_path: prefix.to_vec(), locator: None, text }
}

/// A piece of text that is never cut further when packing: a paragraph, a
/// sentence or a run of words, no longer than the target.
struct Atom<'a> {
    text: &'a str,
    /// Starts a paragraph (joined with a blank line rather than a space).
    para_start: bool,
}

/// `text` whole when it fits in `max_chars`, else pieces of about
/// `target_chars` with overlap.
fn split_text(text: &str, opts: &ChunkOptions) -> Vec<String> {
    let text = text.trim();
    let total = char_len(text);
    if total == 0 {
        return Vec::new();
    }
    if total <= opts.max_chars {
        return vec![text.to_owned()];
    }

    let mut atoms = Vec::new();
    for para in paragraphs(text) {
        if char_len(para) <= opts.target_chars {
            atoms.push(Atom { text: para, para_start: true });
            continue;
        }
        let mut first = true;
        for sentence in sentences(para) {
            if char_len(sentence) <= opts.target_chars {
                atoms.push(Atom { text: sentence, para_start: first });
                first = false;
                continue;
            }
            for run in word_runs(sentence, opts.target_chars) {
                atoms.push(Atom { text: run, para_start: first });
                first = false;
            }
        }
    }

    // Even pieces: as many as the target asks for, each about the same size.
    let pieces = total.div_ceil(opts.target_chars).max(1);
    let per_piece = (total / pieces).max(1);
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut cur_len = 0usize;
    let mut cur_has_own = false; // holds more than the overlap
    for atom in atoms {
        let len = char_len(atom.text);
        if cur_has_own && cur_len + len + 1 > per_piece {
            let overlap = tail_overlap(&cur, opts.overlap_chars);
            out.push(std::mem::take(&mut cur));
            cur_len = 0;
            if !overlap.is_empty() {
                cur.push_str(&overlap);
                cur_len = char_len(&overlap);
            }
        }
        if !cur.is_empty() {
            cur.push_str(if atom.para_start { "\n\n" } else { " " });
            cur_len += if atom.para_start { 2 } else { 1 };
        }
        cur.push_str(atom.text);
        cur_len += len;
        cur_has_own = true;
    }
    if cur_has_own {
        out.push(cur);
    }
    out
}

/// Blocks separated by blank lines.
fn paragraphs(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut end = 0;
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let blank = line.trim().is_empty();
        if blank {
            if let Some(s) = start.take() {
                out.push(text[s..end].trim());
            }
        } else {
            if start.is_none() {
                start = Some(pos);
            }
            end = pos + line.len();
        }
        pos += line.len();
    }
    if let Some(s) = start {
        out.push(text[s..end].trim());
    }
    out.retain(|p| !p.is_empty());
    out
}

/// Sentences: cut after `.`, `!`, `?`, `…` or `。` followed by whitespace, and
/// at line breaks (list items, table rows).
fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut prev: Option<char> = None;
    for (i, c) in text.char_indices() {
        let cut_before = match prev {
            Some('\n') => true,
            Some('.' | '!' | '?' | '…' | '。' | '！' | '？') => c.is_whitespace(),
            _ => false,
        };
        if cut_before && i > start {
            let s = text[start..i].trim();
            if !s.is_empty() {
                out.push(s);
            }
            start = i;
        }
        prev = Some(c);
    }
    let s = text[start..].trim();
    if !s.is_empty() {
        out.push(s);
    }
    out
}

/// Runs of whole words of at most `limit` characters (a single longer word is
/// cut at a character boundary).
fn word_runs(text: &str, limit: usize) -> Vec<&str> {
    let limit = limit.max(1);
    let mut out = Vec::new();
    let mut start: Option<usize> = None; // byte offset of the run
    let mut run_chars = 0usize;
    let mut last_end = 0usize; // byte offset after the run's last word
    let mut iter = text.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        if c.is_whitespace() {
            continue;
        }
        // A word from i to the next whitespace.
        let mut end = i + c.len_utf8();
        let mut wlen = 1;
        while let Some(&(j, d)) = iter.peek() {
            if d.is_whitespace() {
                break;
            }
            end = j + d.len_utf8();
            wlen += 1;
            iter.next();
        }
        let gap = if start.is_some() { char_len(&text[last_end..i]) } else { 0 };
        if let Some(s) = start {
            if run_chars + gap + wlen > limit {
                out.push(&text[s..last_end]);
                start = None;
                run_chars = 0;
            }
        }
        if wlen > limit {
            // A monster "word" (a URL, a hash): cut it by characters.
            let word = &text[i..end];
            let mut from = 0;
            let bounds: Vec<usize> = word.char_indices().map(|(b, _)| b).chain([word.len()]).collect();
            while from + limit < bounds.len() - 1 {
                out.push(&word[bounds[from]..bounds[from + limit]]);
                from += limit;
            }
            start = Some(i + bounds[from]);
            run_chars = bounds.len() - 1 - from;
            last_end = end;
            continue;
        }
        match start {
            None => {
                start = Some(i);
                run_chars = wlen;
            }
            Some(_) => run_chars += gap + wlen,
        }
        last_end = end;
    }
    if let Some(s) = start {
        out.push(&text[s..last_end]);
    }
    out
}

/// The end of `piece` to repeat at the start of the next one: its last
/// sentences that fit in `limit` characters, else its last words that do.
fn tail_overlap(piece: &str, limit: usize) -> String {
    if limit == 0 {
        return String::new();
    }
    let last_para = paragraphs(piece).pop().unwrap_or_default();
    let sents = sentences(last_para);
    let mut taken: Vec<&str> = Vec::new();
    let mut len = 0;
    for s in sents.iter().rev() {
        let l = char_len(s) + usize::from(!taken.is_empty());
        if len + l > limit {
            break;
        }
        len += l;
        taken.push(s);
    }
    // Never repeat the whole piece: that would be a duplicate, not an overlap.
    if !taken.is_empty() && taken.len() < sents.len() + usize::from(paragraphs(piece).len() > 1) {
        taken.reverse();
        return taken.join(" ");
    }
    // The last sentence is too long: its last words.
    let words: Vec<&str> = last_para.split_whitespace().collect();
    let mut start = words.len();
    let mut len = 0;
    while start > 0 {
        let l = char_len(words[start - 1]) + 1;
        if len + l > limit {
            break;
        }
        len += l;
        start -= 1;
    }
    if start == 0 {
        return String::new();
    }
    words[start..].join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(path: &[&str], locator: Option<&str>, text: &str) -> Section {
        Section {
            heading_path: path.iter().map(|s| s.to_string()).collect(),
            locator: locator.map(str::to_owned),
            text: text.to_owned(),
        }
    }

    fn doc(title: Option<&str>, sections: Vec<Section>) -> Document {
        Document { title: title.map(str::to_owned), sections, truncated: None }
    }

    const EN: &str = "Files you delete stay in the Trash for 30 days, and you can restore them from there at any time.";

    fn long_english(sentences: usize) -> String {
        (0..sentences)
            .map(|i| format!("Sentence number {i} explains how the sync client uploads your files to the cloud."))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn a_section_that_fits_is_one_chunk_with_its_context() {
        let d = doc(
            None,
            vec![
                section(&["Trash"], None, &format!("{EN} {EN} {EN} {EN}")),
                section(&["Trash", "Restoring"], None, &format!("{EN} {EN} {EN} {EN}")),
            ],
        );
        let chunks = chunk(&d, "deleted-files", &ChunkOptions::default());
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[0].title, "deleted-files");
        assert_eq!(chunks[0].heading_path, vec!["Trash"]);
        assert_eq!(chunks[1].heading_path, vec!["Trash", "Restoring"]);
        assert_eq!(chunks.iter().map(|c| c.ordinal).collect::<Vec<_>>(), vec![0, 1]);
        assert!(chunks.iter().all(|c| c.lang == "en"));
    }

    #[test]
    fn document_title_wins_over_the_fallback() {
        let d = doc(Some("  Deleted files  "), vec![section(&[], None, EN)]);
        let chunks = chunk(&d, "file-name", &ChunkOptions::default());
        assert_eq!(chunks[0].title, "Deleted files");
        let d = doc(Some("   "), vec![section(&[], None, EN)]);
        assert_eq!(chunk(&d, "file-name", &ChunkOptions::default())[0].title, "file-name");
    }

    #[test]
    fn long_sections_split_on_paragraphs_and_sentences_with_overlap() {
        let opts = ChunkOptions::default();
        let text = format!("{}\n\n{}\n\n{}", long_english(8), long_english(20), long_english(5));
        let d = doc(Some("Sync"), vec![section(&["How sync works"], None, &text)]);
        let chunks = chunk(&d, "x", &opts);
        assert!(chunks.len() >= 3, "{}", chunks.len());
        for c in &chunks {
            let n = c.text.chars().count();
            assert!(n <= opts.max_chars, "{n}");
            assert!(n >= 200, "no crumbs: {n}");
            assert_eq!(c.heading_path, vec!["How sync works"]);
            // Pieces start and end at sentence boundaries.
            assert!(c.text.starts_with("Sentence"), "{}", c.text);
            assert!(c.text.ends_with('.'));
        }
        // Every sentence is somewhere.
        for i in 0..20 {
            let needle = format!("Sentence number {i} ");
            assert!(chunks.iter().any(|c| c.text.contains(&needle)), "{needle}");
        }
        // Each piece repeats the end of the one before.
        for w in chunks.windows(2) {
            let last_sentence = sentences(&w[0].text).pop().unwrap().to_owned();
            assert!(w[1].text.starts_with(&last_sentence), "{last_sentence:?} / {:?}", &w[1].text[..80]);
        }
    }

    #[test]
    fn a_paragraph_without_punctuation_is_cut_between_words() {
        let opts = ChunkOptions { target_chars: 100, max_chars: 150, overlap_chars: 20 };
        let text = "parola ".repeat(100) + &"é".repeat(300);
        let chunks = chunk(&doc(None, vec![section(&[], None, &text)]), "t", &opts);
        assert!(chunks.len() > 5);
        for c in &chunks {
            assert!(c.text.chars().count() <= opts.max_chars, "{}", c.text.chars().count());
        }
        let joined: String = chunks.iter().map(|c| c.text.as_str()).collect();
        assert!(joined.matches('é').count() >= 300);
    }

    #[test]
    fn tiny_sibling_sections_merge_under_their_parent() {
        let d = doc(
            Some("Contact us"),
            vec![
                section(&["Contact us", "Phone"], None, "Call +1 555 0100, Monday to Friday."),
                section(&["Contact us", "Email"], None, "Write to help@nimbus.example."),
                section(&["Contact us", "Chat"], None, "Live chat is open 08:00 to 20:00."),
                section(&["Legal"], None, "Nimbus Drive Ltd, registered in Ireland."),
            ],
        );
        let chunks = chunk(&d, "x", &ChunkOptions::default());
        assert_eq!(chunks.len(), 2, "{chunks:#?}");
        assert_eq!(chunks[0].heading_path, vec!["Contact us"]);
        assert!(chunks[0].text.contains("Phone\nCall +1 555 0100"));
        assert!(chunks[0].text.contains("Chat\nLive chat is open"));
        assert_eq!(chunks[1].heading_path, vec!["Legal"]);
    }

    #[test]
    fn sections_of_unrelated_depths_and_big_ones_do_not_merge() {
        let big = format!("{EN} {EN} {EN} {EN}");
        let d = doc(
            None,
            vec![
                section(&["A", "B", "C"], None, "Tiny one."),
                section(&["D"], None, "Tiny two."),
                section(&["D"], None, &big),
                section(&["D"], None, &big),
            ],
        );
        let chunks = chunk(&d, "x", &ChunkOptions::default());
        // "A>B>C" and "D" share no parent; two big sections stay apart.
        assert_eq!(chunks.len(), 3, "{chunks:#?}");
        assert_eq!(chunks[0].heading_path, vec!["A", "B", "C"]);
        assert!(chunks[1].text.starts_with("Tiny two."));
    }

    #[test]
    fn rows_and_slides_with_locators_stay_one_per_chunk() {
        let d = doc(
            Some("Plans"),
            vec![
                section(&[], Some("Sheet1, row 2"), "plan: Free; storage: 10 GB"),
                section(&[], Some("Sheet1, row 3"), "plan: Starter; storage: 1 TB"),
                section(&["Pricing"], Some("slide 3"), "Business costs 16 EUR"),
            ],
        );
        let chunks = chunk(&d, "x", &ChunkOptions::default());
        assert_eq!(chunks.len(), 3);
        assert_eq!(chunks[0].locator.as_deref(), Some("Sheet1, row 2"));
        assert_eq!(chunks[2].locator.as_deref(), Some("slide 3"));
        assert_eq!(chunks[2].heading_path, vec!["Pricing"]);
    }

    #[test]
    fn chunks_get_their_own_language_or_the_documents() {
        let d = doc(
            None,
            vec![
                section(&["Cestino"], None, "I file eliminati restano nel cestino per 30 giorni e puoi ripristinarli quando vuoi dalla barra laterale."),
                section(&["Cestino", "Comandi"], None, "nimbus trash --restore 42"),
                section(&["English"], None, &long_english(15)),
            ],
        );
        let opts = ChunkOptions { target_chars: 300, max_chars: 600, overlap_chars: 60 };
        let chunks = chunk(&d, "x", &opts);
        assert_eq!(chunks[0].lang, "it");
        // The command alone says nothing: the document's language.
        let cmd = chunks.iter().find(|c| c.text.contains("nimbus trash")).unwrap();
        assert!(cmd.lang == "it" || cmd.lang == "en", "{}", cmd.lang);
        assert!(chunks.iter().filter(|c| c.heading_path == vec!["English"]).all(|c| c.lang == "en"));
    }

    #[test]
    fn empty_documents_have_no_chunks() {
        assert!(chunk(&Document::default(), "x", &ChunkOptions::default()).is_empty());
        let d = doc(Some("T"), vec![section(&["H"], None, "  \n ")]);
        assert!(chunk(&d, "x", &ChunkOptions::default()).is_empty());
    }

    #[test]
    fn passage_text_has_title_headings_and_text() {
        let c = Chunk {
            ordinal: 0,
            title: "Refund policy".into(),
            heading_path: vec!["Refund policy".into(), "Annual plans".into(), "Pro rata".into()],
            locator: None,
            text: "Refunds are pro rata.".into(),
            lang: "en".into(),
        };
        assert_eq!(passage_text(&c), "Refund policy\nAnnual plans > Pro rata\nRefunds are pro rata.");
        let c = Chunk { title: String::new(), heading_path: vec![], ..c };
        assert_eq!(passage_text(&c), "Refunds are pro rata.");
    }

    #[test]
    fn sentence_and_paragraph_helpers() {
        assert_eq!(
            sentences("One. Two! Three? v1.2 is out\n- item\n- item2"),
            vec!["One.", "Two!", "Three?", "v1.2 is out", "- item", "- item2"]
        );
        assert_eq!(paragraphs("a\nb\n\n  \n c \n\n"), vec!["a\nb", "c"]);
        assert_eq!(word_runs("aa bb cc dd", 5), vec!["aa bb", "cc dd"]);
        assert_eq!(word_runs("abcdefgh", 3), vec!["abc", "def", "gh"]);
        assert_eq!(tail_overlap("First sentence here. Second one.", 20), "Second one.");
        assert_eq!(tail_overlap("One.", 20), "");
    }
}
