//! BM25 retrieval over chunks, with per-language stemming (tantivy).
//!
//! # Fields
//!
//! - `text`: the passage ([`passage_text`]: title, headings, text) analyzed
//!   with the analyzer of the chunk's OWN language — lowercase, that
//!   language's stopwords removed, Snowball stem, accents folded — and
//!   stored pre-tokenized. One field for every language (rather than one field
//!   per language) keeps BM25's statistics honest: with a field per language
//!   the average field length and the IDF are computed over the whole index,
//!   so a language with few chunks would see its chunks scored as if they
//!   were several times longer than average and its terms as rarer than they
//!   are, and could not compete fairly with the main language's.
//! - `title`: the title and heading path, analyzed the same way, boosted.
//! - `text_any`: the passage lowercased and accent-folded, not stemmed and
//!   without stopword removal, for every chunk: numbers, product names, codes,
//!   commands and words shared between languages match across languages here.
//!
//! # Queries
//!
//! The question is cleaned of the stopwords of its language (and of the
//! courtesy words customers add); a word that no chunk contains in any form
//! is taken for a typo and replaced by the most frequent indexed word one
//! edit away (two for long words), at a lower weight. The words are then
//! analyzed with EVERY language's analyzer: the terms its own language's
//! analyzer gives weigh 1, those that only another language's analyzer gives
//! weigh less, and a small support-vocabulary glossary (`glossary.rs`) adds
//! the other languages' words for the question's (`papelera` → `trash`,
//! `cestino`, `corbeille`…) at a lower weight still: that is what finds an
//! English article for a Spanish question. Each term is looked up in `text`
//! and `title`; the unstemmed words in `text_any`. The query is built from
//! terms, never parsed, so quotes, colons, `*`, `-`, `+` or parentheses in a
//! message are just punctuation.
//!
//! Scores are raw BM25 sums: they rank the hits of one search and are not
//! comparable across questions of different lengths.
//!
//! The index is a cache of the store: [`Index::open_or_create`] wipes and
//! recreates a directory whose index is corrupt or was built with another
//! schema or analyzer version, and says so with [`Index::is_new`].

mod bench;
mod glossary;

pub use bench::{bench_search, Rng, Synthetic};

use crate::chunk::passage_text;
use crate::{lang, Chunk};
use frontdesk_core::text::{fold, is_stopword};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, OnceLock};
use tantivy::collector::TopDocs;
use tantivy::directory::MmapDirectory;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions, STRING};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, PreTokenizedString, RemoveLongFilter, SimpleTokenizer, Stemmer,
    StopWordFilter, TextAnalyzer, Token,
};
use tantivy::{IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term};

/// Bump when the schema or an analyzer changes: directories built by another
/// version are wiped and rebuilt.
const INDEX_VERSION: &str = "frontdesk-knowledge-index 1";
const VERSION_FILE: &str = "frontdesk-index.version";
const WRITER_MEMORY: usize = 50_000_000;
/// Longer tokens (base64, hashes) are dropped.
const MAX_TOKEN_CHARS: usize = 40;
/// A question longer than this many distinct words is cut (a pasted e-mail).
const MAX_QUERY_WORDS: usize = 48;

/// The most hits one search returns.
pub const MAX_HITS: usize = 1000;

const NEUTRAL: &str = "fd_any";

/// Stemming languages, in [`lang::SUPPORTED`] order.
const STEMMERS: [Language; 8] = [
    Language::English,
    Language::Italian,
    Language::Spanish,
    Language::French,
    Language::German,
    Language::Portuguese,
    Language::Swedish,
    Language::Dutch,
];

/// Relative weights of the query's parts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Tuning {
    /// Terms only another language's analyzer produced.
    pub cross_lang: f32,
    /// Unstemmed words in `text_any`.
    pub any: f32,
    /// Terms in the title and headings (multiplies the term's weight).
    pub title: f32,
    /// Other languages' words for the question's words (glossary).
    pub translate: f32,
    /// A typo's correction (0: no correction).
    pub typo: f32,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning { cross_lang: 0.3, any: 1.0, title: 1.5, translate: 0.5, typo: 0.7 }
    }
}

/// A search index of chunks, safe to share between threads.
pub struct Index {
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    analyzers: Analyzers,
    tuning: Tuning,
    is_new: bool,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index").field("num_chunks", &self.num_chunks()).field("is_new", &self.is_new).finish()
    }
}

/// A retrieved chunk.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    pub chunk_id: i64,
    pub source_id: i64,
    /// BM25 score: comparable between hits of one search, not across searches.
    pub score: f32,
}

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("search index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("search index directory: {0}")]
    Io(#[from] std::io::Error),
    #[error("search index directory: {0}")]
    Directory(#[from] tantivy::directory::error::OpenDirectoryError),
    #[error("search index writer: a thread panicked while holding it")]
    Poisoned,
}

#[derive(Clone, Copy)]
struct Fields {
    chunk_id: Field,
    source_id: Field,
    lang: Field,
    text: Field,
    title: Field,
    text_any: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let id = NumericOptions::default().set_indexed().set_fast();
    let chunk_id = b.add_i64_field("chunk_id", id.clone());
    let source_id = b.add_i64_field("source_id", id);
    let lang = b.add_text_field("lang", STRING);
    // Pre-tokenized by the chunk's language; the tokenizer named here only
    // matters to tools that would parse queries against the field.
    let stemmed = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default().set_tokenizer(NEUTRAL).set_index_option(IndexRecordOption::WithFreqs),
    );
    let text = b.add_text_field("text", stemmed.clone());
    let title = b.add_text_field("title", stemmed);
    let text_any = b.add_text_field(
        "text_any",
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default().set_tokenizer(NEUTRAL).set_index_option(IndexRecordOption::WithFreqs),
        ),
    );
    (b.build(), Fields { chunk_id, source_id, lang, text, title, text_any })
}

/// The analyzers, built once; cloned for each use (`token_stream` needs `&mut`).
struct Analyzers {
    /// Per language of [`lang::SUPPORTED`]: lowercase, stopwords, stem, fold.
    stemmed: Vec<TextAnalyzer>,
    /// Per language: lowercase and stopwords only, to tell a stopword.
    stop: Vec<TextAnalyzer>,
    /// Lowercase and fold.
    neutral: TextAnalyzer,
    glossary: glossary::Glossary,
}

impl Analyzers {
    fn new() -> Analyzers {
        let stemmed: Vec<TextAnalyzer> = STEMMERS
            .iter()
            .map(|&l| {
                let b = TextAnalyzer::builder(SimpleTokenizer::default())
                    .filter(RemoveLongFilter::limit(MAX_TOKEN_CHARS))
                    .filter(LowerCaser);
                match StopWordFilter::new(l) {
                    Some(stop) => b.filter(stop).filter(Stemmer::new(l)).filter(AsciiFoldingFilter).build(),
                    None => b.filter(Stemmer::new(l)).filter(AsciiFoldingFilter).build(),
                }
            })
            .collect();
        let stop = STEMMERS
            .iter()
            .map(|&l| {
                let b = TextAnalyzer::builder(SimpleTokenizer::default()).filter(LowerCaser);
                match StopWordFilter::new(l) {
                    Some(stop) => b.filter(stop).build(),
                    None => b.build(),
                }
            })
            .collect();
        let neutral = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(MAX_TOKEN_CHARS))
            .filter(LowerCaser)
            .filter(AsciiFoldingFilter)
            .build();
        let glossary = glossary::Glossary::new(&stemmed);
        Analyzers { stemmed, stop, neutral, glossary }
    }

    /// The analyzer for a chunk of language `code` (neutral when unknown).
    fn for_lang(&self, code: &str) -> &TextAnalyzer {
        match lang::SUPPORTED.iter().position(|c| *c == code) {
            Some(i) => &self.stemmed[i],
            None => &self.neutral,
        }
    }

    /// Whether `word` (lowercase) is a stopword of the language at `i`.
    fn is_stop(&self, i: usize, word: &str) -> bool {
        let mut a = self.stop[i].clone();
        let mut stream = a.token_stream(word);
        !stream.advance()
    }
}

fn tokens(analyzer: &TextAnalyzer, text: &str) -> Vec<String> {
    let mut a = analyzer.clone();
    let mut stream = a.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
}

fn pre_tokenized(analyzer: &TextAnalyzer, text: &str) -> PreTokenizedString {
    let mut a = analyzer.clone();
    let mut stream = a.token_stream(text);
    let mut toks: Vec<Token> = Vec::new();
    while stream.advance() {
        let mut t = stream.token().clone();
        t.position = toks.len();
        t.position_length = 1;
        toks.push(t);
    }
    PreTokenizedString { text: String::new(), tokens: toks }
}

impl Index {
    /// An index in memory (tests, evaluation, benchmarks).
    pub fn in_memory() -> Result<Index, IndexError> {
        let (schema, fields) = schema();
        let index = tantivy::Index::create_in_ram(schema);
        Index::wrap(index, fields, true)
    }

    /// The index in `dir`, created when missing. A directory holding an
    /// index of another version or schema, or one that cannot be read, is
    /// wiped and recreated empty: the caller rebuilds it from the store when
    /// [`Index::is_new`] says so. Fails when another process holds the index.
    pub fn open_or_create(dir: &Path) -> Result<Index, IndexError> {
        std::fs::create_dir_all(dir)?;
        let (schema, fields) = schema();
        let version_ok =
            std::fs::read_to_string(dir.join(VERSION_FILE)).map(|v| v.trim() == INDEX_VERSION).unwrap_or(false);
        if version_ok && dir.join("meta.json").exists() {
            match Index::open_existing(dir, &schema, fields) {
                Ok(index) => return Ok(index),
                Err(IndexError::Tantivy(tantivy::TantivyError::LockFailure(..))) => {
                    return Err(IndexError::Tantivy(tantivy::TantivyError::LockFailure(
                        tantivy::directory::error::LockError::LockBusy,
                        Some(format!("{} is in use by another process", dir.display())),
                    )))
                }
                Err(_) => {} // corrupt or incompatible: recreate below
            }
        }
        wipe_index_files(dir)?;
        let index = tantivy::Index::create_in_dir(dir, schema)?;
        std::fs::write(dir.join(VERSION_FILE), INDEX_VERSION)?;
        Index::wrap(index, fields, true)
    }

    /// A fresh, empty index for this process alone, in its own directory
    /// under `root` (`<start ms>-<pid>-<n>`), returned with that directory.
    ///
    /// The index is a cache rebuilt from the store at every start, so nothing
    /// is lost by not reopening an older one, and a process starting while
    /// the previous one still drains (a deploy) never meets its writer lock.
    /// Directories whose owner is gone — their writer lock is free — are
    /// removed first, as are the files of an index kept directly in `root`
    /// by older versions once no process holds it. Directories made in the
    /// last minute are left alone: their owner may not hold its lock yet.
    pub fn open_private(root: &Path) -> Result<(Index, std::path::PathBuf), IndexError> {
        std::fs::create_dir_all(root)?;
        remove_stale_indexes(root, std::time::Duration::from_secs(60));
        // Unique even for two opens in one process within a millisecond (tests).
        static OPENED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = OPENED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let started = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let dir = root.join(format!("{}-{}-{n}", started.as_millis(), std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let (schema, fields) = schema();
        let index = tantivy::Index::create_in_dir(&dir, schema)?;
        std::fs::write(dir.join(VERSION_FILE), INDEX_VERSION)?;
        Ok((Index::wrap(index, fields, true)?, dir))
    }

    fn open_existing(dir: &Path, schema: &Schema, fields: Fields) -> Result<Index, IndexError> {
        let index = tantivy::Index::open(MmapDirectory::open(dir)?)?;
        if index.schema() != *schema {
            return Err(IndexError::Tantivy(tantivy::TantivyError::SchemaError("schema changed".into())));
        }
        let index = Index::wrap(index, fields, false)?;
        // Touch every segment so a damaged one fails now rather than mid-search.
        let searcher = index.reader.searcher();
        for segment in searcher.segment_readers() {
            segment.fast_fields().i64("chunk_id")?;
            segment.inverted_index(fields.text)?;
        }
        Ok(index)
    }

    fn wrap(index: tantivy::Index, fields: Fields, is_new: bool) -> Result<Index, IndexError> {
        let analyzers = Analyzers::new();
        index.tokenizers().register(NEUTRAL, analyzers.neutral.clone());
        let writer: IndexWriter = index.writer(WRITER_MEMORY)?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok(Index { reader, writer: Mutex::new(writer), fields, analyzers, tuning: Tuning::default(), is_new })
    }

    /// Whether this index was created empty when opened (first start, or an
    /// unusable index was wiped): its chunks must be added again.
    pub fn is_new(&self) -> bool {
        self.is_new
    }

    #[cfg(test)]
    pub(crate) fn set_tuning(&mut self, tuning: Tuning) {
        self.tuning = tuning;
    }

    fn writer(&self) -> Result<std::sync::MutexGuard<'_, IndexWriter>, IndexError> {
        self.writer.lock().map_err(|_| IndexError::Poisoned)
    }

    /// Adds a chunk, replacing any chunk with the same `chunk_id`. Changes are
    /// searchable after [`Index::commit`].
    pub fn add(&self, chunk_id: i64, source_id: i64, chunk: &Chunk) -> Result<(), IndexError> {
        let f = &self.fields;
        let code = lang::normalize(&chunk.lang);
        let analyzer = self.analyzers.for_lang(code);
        let passage = passage_text(chunk);
        let mut title = chunk.title.trim().to_owned();
        for h in &chunk.heading_path {
            if !h.trim().eq_ignore_ascii_case(&title) {
                title.push('\n');
                title.push_str(h.trim());
            }
        }
        let mut doc = TantivyDocument::new();
        doc.add_i64(f.chunk_id, chunk_id);
        doc.add_i64(f.source_id, source_id);
        doc.add_text(f.lang, code);
        doc.add_pre_tokenized_text(f.text, pre_tokenized(analyzer, &passage));
        doc.add_pre_tokenized_text(f.title, pre_tokenized(analyzer, &title));
        doc.add_text(f.text_any, &passage);
        let writer = self.writer()?;
        writer.delete_term(Term::from_field_i64(f.chunk_id, chunk_id));
        writer.add_document(doc)?;
        Ok(())
    }

    /// Removes every chunk of a source (after [`Index::commit`]).
    pub fn delete_source(&self, source_id: i64) -> Result<(), IndexError> {
        self.writer()?.delete_term(Term::from_field_i64(self.fields.source_id, source_id));
        Ok(())
    }

    /// Removes every chunk (after [`Index::commit`]).
    pub fn clear(&self) -> Result<(), IndexError> {
        self.writer()?.delete_all_documents()?;
        Ok(())
    }

    /// Makes the changes so far durable and searchable.
    pub fn commit(&self) -> Result<(), IndexError> {
        self.writer()?.commit()?;
        self.reader.reload()?;
        Ok(())
    }

    /// Chunks searchable now.
    pub fn num_chunks(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// The best chunks for a customer's question, best first, at most `k`
    /// (and at most [`MAX_HITS`]). `lang` is the question's language (or
    /// `"und"`: no language preferred). A question with no searchable word
    /// gives no hits.
    pub fn search(&self, query: &str, lang: &str, k: usize) -> Result<Vec<Hit>, IndexError> {
        let k = k.min(MAX_HITS);
        if k == 0 {
            return Ok(Vec::new());
        }
        let lang = lang::normalize(lang);
        let searcher = self.reader.searcher();
        let words = self.query_words(&searcher, query, lang)?;
        let Some(q) = self.build_query(&words, lang) else {
            return Ok(Vec::new());
        };
        let top = searcher.search(&q, &TopDocs::with_limit(k).order_by_score())?;
        let mut hits = Vec::with_capacity(top.len());
        type IdColumns = (tantivy::columnar::Column<i64>, tantivy::columnar::Column<i64>);
        let mut columns: HashMap<u32, IdColumns> = HashMap::new();
        for (score, addr) in top {
            let (chunk_col, source_col) = match columns.entry(addr.segment_ord) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    let ff = searcher.segment_reader(addr.segment_ord).fast_fields();
                    e.insert((ff.i64("chunk_id")?, ff.i64("source_id")?))
                }
            };
            let (Some(chunk_id), Some(source_id)) = (chunk_col.first(addr.doc_id), source_col.first(addr.doc_id))
            else {
                continue;
            };
            hits.push(Hit { chunk_id, source_id, score });
        }
        Ok(hits)
    }

    /// The words of a question worth searching, with their weight:
    /// lowercase, without the stopwords of its language (of every language
    /// when unknown) and the courtesy words of customer messages, each once.
    /// A word the index has never seen is replaced by the closest word it has
    /// (a typo: "delted" -> "deleted"), at a lower weight.
    fn query_words(&self, searcher: &Searcher, query: &str, lang: &str) -> Result<Vec<(String, f32)>, IndexError> {
        let lang_idx = lang::SUPPORTED.iter().position(|c| *c == lang);
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for w in query.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
            let w = w.to_lowercase();
            if w.chars().count() > MAX_TOKEN_CHARS || !seen.insert(w.clone()) {
                continue;
            }
            let folded = fold(&w);
            if is_stopword(&folded) {
                continue;
            }
            let stop = match lang_idx {
                Some(i) => self.analyzers.is_stop(i, &w),
                None => (0..STEMMERS.len()).any(|i| self.analyzers.is_stop(i, &w)),
            };
            if stop {
                continue;
            }
            match self.correction(searcher, &w, &folded)? {
                Some(fixed) => out.push((fixed, self.tuning.typo)),
                None => out.push((w, 1.0)),
            }
            if out.len() == MAX_QUERY_WORDS {
                break;
            }
        }
        Ok(out)
    }

    /// For a word of at least [`TYPO_MIN_CHARS`] letters that no chunk
    /// contains in any form (as is, or as a stem of any language), the most
    /// frequent indexed word one edit away (two for long words), if any.
    fn correction(&self, searcher: &Searcher, word: &str, folded: &str) -> Result<Option<String>, IndexError> {
        let n = folded.chars().count();
        if n < TYPO_MIN_CHARS || self.tuning.typo <= 0.0 || !folded.chars().all(char::is_alphabetic) {
            return Ok(None);
        }
        let field = self.fields.text_any;
        if searcher.doc_freq(&Term::from_field_text(field, folded))? > 0 {
            return Ok(None);
        }
        for analyzer in &self.analyzers.stemmed {
            for stem in tokens(analyzer, word) {
                if searcher.doc_freq(&Term::from_field_text(self.fields.text, &stem))? > 0 {
                    return Ok(None);
                }
            }
        }
        let distance = if n >= TYPO_TWO_EDITS_CHARS { 2 } else { 1 };
        let dfa = typo_builder(distance).build_dfa(folded);
        let first = folded.chars().next();
        // candidate -> (edits, documents)
        let mut candidates: HashMap<String, (u8, u64)> = HashMap::new();
        for segment in searcher.segment_readers() {
            let inverted = segment.inverted_index(field)?;
            let mut stream = inverted.terms().search(Dfa(&dfa)).into_stream()?;
            while stream.advance() {
                let Ok(term) = std::str::from_utf8(stream.key()) else { continue };
                // Typos rarely hit the first letter; requiring it avoids most
                // "corrections" into a similar word of another language.
                if term.chars().next() != first {
                    continue;
                }
                let levenshtein_automata::Distance::Exact(edits) = dfa.eval(term) else { continue };
                let entry = candidates.entry(term.to_owned()).or_insert((edits, 0));
                entry.1 += u64::from(stream.value().doc_freq);
            }
        }
        let best =
            candidates.into_iter().min_by(|(a, (ea, da)), (b, (eb, db))| ea.cmp(eb).then(db.cmp(da)).then(a.cmp(b)));
        Ok(best.map(|(t, _)| t))
    }

    fn build_query(&self, words: &[(String, f32)], lang: &str) -> Option<BooleanQuery> {
        if words.is_empty() {
            return None;
        }
        let t = self.tuning;
        // Stemmed terms, each with the best weight an analyzer gives it.
        let mut stemmed: Vec<(String, f32)> = Vec::new();
        let mut any: Vec<(String, f32)> = Vec::new();
        fn add(terms: &mut Vec<(String, f32)>, term: &str, weight: f32) {
            match terms.iter_mut().find(|(s, _)| s == term) {
                Some((_, w)) => *w = w.max(weight),
                None => terms.push((term.to_owned(), weight)),
            }
        }
        for (word, word_weight) in words {
            for (i, code) in lang::SUPPORTED.iter().enumerate() {
                let own = lang == lang::UND || *code == lang;
                for term in tokens(&self.analyzers.stemmed[i], word) {
                    add(&mut stemmed, &term, word_weight * if own { 1.0 } else { t.cross_lang });
                    if own && t.translate > 0.0 {
                        for (_, translation) in self.analyzers.glossary.translations(i, &term) {
                            add(&mut stemmed, translation, word_weight * t.translate);
                        }
                    }
                }
            }
            for term in tokens(&self.analyzers.neutral, word) {
                add(&mut any, &term, word_weight * t.any);
            }
        }
        let f = &self.fields;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut push = |field: Field, term: &str, boost: f32| {
            let q = TermQuery::new(Term::from_field_text(field, term), IndexRecordOption::WithFreqs);
            clauses.push((Occur::Should, Box::new(BoostQuery::new(Box::new(q), boost))));
        };
        for (term, w) in &stemmed {
            push(f.text, term, *w);
            push(f.title, term, *w * t.title);
        }
        for (term, w) in &any {
            push(f.text_any, term, *w);
        }
        Some(BooleanQuery::new(clauses))
    }
}

/// Words this long or longer may be typos worth correcting.
const TYPO_MIN_CHARS: usize = 5;
/// Words this long or longer are corrected within two edits.
const TYPO_TWO_EDITS_CHARS: usize = 9;

/// Levenshtein automaton builders (a swap of two letters is one edit); they
/// are costly to make, so made once.
fn typo_builder(distance: u8) -> &'static levenshtein_automata::LevenshteinAutomatonBuilder {
    static ONE: OnceLock<levenshtein_automata::LevenshteinAutomatonBuilder> = OnceLock::new();
    static TWO: OnceLock<levenshtein_automata::LevenshteinAutomatonBuilder> = OnceLock::new();
    let cell = if distance <= 1 { &ONE } else { &TWO };
    cell.get_or_init(|| levenshtein_automata::LevenshteinAutomatonBuilder::new(distance.min(2), true))
}

/// A Levenshtein DFA walking the term dictionary.
struct Dfa<'a>(&'a levenshtein_automata::DFA);

impl tantivy_fst::Automaton for Dfa<'_> {
    type State = u32;

    fn start(&self) -> u32 {
        self.0.initial_state()
    }

    fn is_match(&self, state: &u32) -> bool {
        matches!(self.0.distance(*state), levenshtein_automata::Distance::Exact(_))
    }

    fn can_match(&self, state: &u32) -> bool {
        *state != levenshtein_automata::SINK_STATE
    }

    fn accept(&self, state: &u32, byte: u8) -> u32 {
        self.0.transition(*state, byte)
    }
}

/// Whether no process holds the index writer lock in `dir` (an OS file
/// lock: released when its process exits, however it exits).
fn writer_lock_free(dir: &Path) -> bool {
    use tantivy::directory::{Directory, INDEX_WRITER_LOCK};
    match MmapDirectory::open(dir) {
        Ok(d) => d.acquire_lock(&INDEX_WRITER_LOCK).is_ok(),
        Err(_) => false,
    }
}

/// Removes the per-process index directories under `root` whose process is
/// gone, and the files of an index of older versions kept in `root` itself
/// when nothing holds it. Directories named for a start less than `young`
/// ago are kept. Best effort: what cannot be removed now is tried at the
/// next start.
pub fn remove_stale_indexes(root: &Path, young: std::time::Duration) {
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_millis();
    if root.join("meta.json").exists() && writer_lock_free(root) {
        let _ = wipe_index_files(root);
    }
    let Ok(entries) = std::fs::read_dir(root) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let mut parts = name.split('-');
        let Some(started) = parts.next().and_then(|ms| ms.parse::<u128>().ok()).filter(|_| {
            parts.next().is_some_and(|pid| pid.parse::<u32>().is_ok()) && parts.all(|n| n.parse::<u64>().is_ok())
        }) else {
            continue; // not one of ours
        };
        if !entry.file_type().is_ok_and(|t| t.is_dir()) || now_ms.saturating_sub(started) < young.as_millis() {
            continue;
        }
        let path = entry.path();
        if writer_lock_free(&path) {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

/// Removes what tantivy and this module keep in `dir`: its meta files,
/// locks, segment files (`<32 hex>.<ext>`) and the version file. Anything
/// else in the directory is left alone.
fn wipe_index_files(dir: &Path) -> Result<(), IndexError> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let segment_file = name
            .split_once('.')
            .is_some_and(|(stem, _)| stem.len() == 32 && stem.chars().all(|c| c.is_ascii_hexdigit()));
        let ours =
            matches!(name.as_ref(), "meta.json" | ".managed.json" | ".tantivy-meta.lock" | ".tantivy-writer.lock")
                || name == VERSION_FILE
                || segment_file;
        if ours && entry.file_type()?.is_file() {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_indexes_coexist_and_those_of_gone_owners_are_removed() {
        let root = temp_dir("private");
        let root = &root;
        // An index of an older version kept in the root itself, no longer held.
        drop(Index::open_or_create(root).unwrap());
        assert!(root.join("meta.json").exists());
        let (alive, alive_dir) = Index::open_private(root).unwrap();
        // A second process on the same data while the first still runs: no LockBusy.
        let (gone, gone_dir) = Index::open_private(root).unwrap();
        assert_ne!(alive_dir, gone_dir);
        assert!(alive.is_new() && gone.is_new());
        drop(gone); // its owner exits: its writer lock is free
        remove_stale_indexes(root, std::time::Duration::from_secs(60));
        assert!(gone_dir.exists(), "a directory made in the last minute is left alone");
        remove_stale_indexes(root, std::time::Duration::ZERO);
        assert!(!gone_dir.exists(), "the directory of a gone owner is removed");
        assert!(alive_dir.join("meta.json").exists(), "the running one's is kept");
        assert!(!root.join("meta.json").exists(), "the old shared index is removed");
        let other = root.join("notes");
        std::fs::create_dir_all(&other).unwrap();
        remove_stale_indexes(root, std::time::Duration::ZERO);
        assert!(other.exists(), "directories not named like ours are left alone");
        drop(alive);
        let _ = std::fs::remove_dir_all(root);
    }

    fn chunk(title: &str, headings: &[&str], text: &str, lang: &str) -> Chunk {
        Chunk {
            ordinal: 0,
            title: title.into(),
            heading_path: headings.iter().map(|s| s.to_string()).collect(),
            locator: None,
            text: text.into(),
            lang: lang.into(),
        }
    }

    fn sample() -> Index {
        let idx = Index::in_memory().unwrap();
        let docs = [
            (
                1,
                10,
                chunk(
                    "Deleted files and the Trash",
                    &[],
                    "Deleted files stay in the Trash for 30 days. Open Trash, select the files and click Restore.",
                    "en",
                ),
            ),
            (
                2,
                10,
                chunk(
                    "Deleted files and the Trash",
                    &["Emptying the Trash"],
                    "Emptying the Trash removes files for good; an admin can recover them within 7 days.",
                    "en",
                ),
            ),
            (
                3,
                11,
                chunk(
                    "Reset your password",
                    &[],
                    "Click Forgot password on the sign-in page; the reset link is valid for 60 minutes.",
                    "en",
                ),
            ),
            (
                4,
                12,
                chunk(
                    "Cestino e file eliminati",
                    &[],
                    "I file eliminati restano nel cestino per 30 giorni. Apri il cestino e scegli Ripristina.",
                    "it",
                ),
            ),
            (
                5,
                13,
                chunk(
                    "Restablecer la contraseña",
                    &[],
                    "Haz clic en ¿Olvidaste tu contraseña? El enlace caduca a los 60 minutos.",
                    "es",
                ),
            ),
            (
                6,
                14,
                chunk(
                    "Rate limits",
                    &[],
                    "The API allows 600 requests per minute; above it returns HTTP 429 Too Many Requests.",
                    "en",
                ),
            ),
            (
                7,
                15,
                chunk(
                    "Passwortrücksetzung",
                    &[],
                    "Klicken Sie auf Passwort vergessen. Der Link ist 60 Minuten gültig.",
                    "de",
                ),
            ),
        ];
        for (id, src, c) in &docs {
            idx.add(*id, *src, c).unwrap();
        }
        idx.commit().unwrap();
        idx
    }

    fn ids(hits: &[Hit]) -> Vec<i64> {
        hits.iter().map(|h| h.chunk_id).collect()
    }

    #[test]
    fn finds_by_stemmed_words_in_the_questions_language() {
        let idx = sample();
        assert_eq!(idx.num_chunks(), 7);
        let hits = idx.search("How can I restore a deleted file?", "en", 3).unwrap();
        assert_eq!(hits[0].chunk_id, 1, "{hits:?}");
        assert_eq!(hits[0].source_id, 10);
        assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
        let hits = idx.search("come ripristino i file eliminati dal cestino?", "it", 3).unwrap();
        assert_eq!(hits[0].chunk_id, 4, "{hits:?}");
        let hits = idx.search("¿cuánto dura el enlace para restablecer la contraseña?", "es", 3).unwrap();
        assert_eq!(hits[0].chunk_id, 5, "{hits:?}");
        let hits = idx.search("Ich habe mein Passwort vergessen", "de", 3).unwrap();
        assert_eq!(hits[0].chunk_id, 7, "{hits:?}");
    }

    #[test]
    fn numbers_and_codes_match_across_languages() {
        let idx = sample();
        let hits = idx.search("l'API mi restituisce sempre 429", "it", 3).unwrap();
        assert_eq!(hits[0].chunk_id, 6, "{hits:?}");
    }

    #[test]
    fn titles_make_chunks_findable() {
        let idx = sample();
        let hits = idx.search("emptying trash", "en", 2).unwrap();
        assert_eq!(hits[0].chunk_id, 2, "{hits:?}");
    }

    #[test]
    fn special_characters_and_empty_queries_never_error() {
        let idx = sample();
        for q in [
            "\"password\"",
            "title:password",
            "(reset) AND password*",
            "-trash +files?",
            "a:b:c ) ( ] [ } { ^2 ~1 \\ / ! :",
            "",
            "   ",
            "the of and",
            "??",
            "🙂",
            &"x".repeat(10_000),
            &"word ".repeat(5_000),
        ] {
            idx.search(q, "en", 5).unwrap();
            idx.search(q, "und", 5).unwrap();
            idx.search(q, "zz", 5).unwrap();
        }
        assert!(idx.search("", "en", 5).unwrap().is_empty());
        assert!(idx.search("the of and", "en", 5).unwrap().is_empty());
        assert!(idx.search("password", "en", 0).unwrap().is_empty());
        assert!(!idx.search("(reset) AND password*", "en", 5).unwrap().is_empty());
    }

    #[test]
    fn unknown_language_searches_every_analyzer() {
        let idx = sample();
        let hits = idx.search("cestino", "und", 3).unwrap();
        assert_eq!(hits[0].chunk_id, 4);
        let hits = idx.search("contraseña", "und", 3).unwrap();
        assert_eq!(hits[0].chunk_id, 5);
    }

    #[test]
    fn replaces_deletes_and_clears() {
        let idx = sample();
        // Replace chunk 3 (same id): the old text is gone.
        idx.add(3, 11, &chunk("Reset your password", &[], "Use the magic sign-in code instead.", "en")).unwrap();
        idx.commit().unwrap();
        assert_eq!(idx.num_chunks(), 7);
        assert!(!ids(&idx.search("forgot valid minutes", "en", 10).unwrap()).contains(&3));
        assert!(ids(&idx.search("magic code", "en", 10).unwrap()).contains(&3));
        // Deleting a source removes all its chunks.
        idx.delete_source(10).unwrap();
        idx.commit().unwrap();
        assert_eq!(idx.num_chunks(), 5);
        let hits = idx.search("deleted files trash", "en", 10).unwrap();
        assert!(hits.iter().all(|h| h.source_id != 10), "{hits:?}");
        idx.clear().unwrap();
        idx.commit().unwrap();
        assert_eq!(idx.num_chunks(), 0);
        assert!(idx.search("password", "en", 5).unwrap().is_empty());
    }

    #[test]
    fn a_source_is_replaced_by_deleting_then_adding_in_one_commit() {
        let idx = sample();
        idx.delete_source(10).unwrap();
        idx.add(100, 10, &chunk("Deleted files", &[], "Trash keeps files for 45 days now.", "en")).unwrap();
        idx.commit().unwrap();
        let hits = idx.search("trash", "en", 10).unwrap();
        let of_source: Vec<i64> = hits.iter().filter(|h| h.source_id == 10).map(|h| h.chunk_id).collect();
        assert_eq!(of_source, vec![100]);
        assert_eq!(idx.search("trash", "en", usize::MAX).unwrap().len(), hits.len());
        assert!(format!("{idx:?}").contains("num_chunks: 6"));
    }

    #[test]
    fn changes_are_invisible_until_commit() {
        let idx = Index::in_memory().unwrap();
        idx.add(1, 1, &chunk("T", &[], "alpha beta", "en")).unwrap();
        assert_eq!(idx.num_chunks(), 0);
        assert!(idx.search("alpha", "en", 5).unwrap().is_empty());
        idx.commit().unwrap();
        assert_eq!(idx.search("alpha", "en", 5).unwrap().len(), 1);
    }

    #[test]
    fn is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Index>();
    }

    #[test]
    fn the_glossary_bridges_languages() {
        let idx = sample();
        // No word in common with the English chunk but "file" concepts.
        let hits = idx.search("¿Cómo recupero archivos borrados de la papelera?", "es", 3).unwrap();
        // The Trash, in Italian or in English.
        assert!(hits.iter().all(|h| [1, 2, 4].contains(&h.chunk_id)), "{hits:?}");
        let hits = idx.search("Wie viele Anfragen pro Minute erlaubt die Schnittstelle?", "de", 3).unwrap();
        assert_eq!(hits[0].chunk_id, 6, "{hits:?}");
        // Without it, the Spanish question has nothing to match in English.
        let mut plain = sample();
        plain.set_tuning(Tuning { translate: 0.0, ..Tuning::default() });
        let hits = plain.search("¿Cómo recupero archivos borrados de la papelera?", "es", 3).unwrap();
        assert!(hits.iter().all(|h| ![1, 2].contains(&h.chunk_id)), "{hits:?}");
    }

    #[test]
    fn typos_are_corrected_to_indexed_words() {
        let idx = sample();
        let hits = idx.search("forgot my pasword", "en", 3).unwrap();
        assert_eq!(hits[0].chunk_id, 3, "{hits:?}");
        let hits = idx.search("emptyng the tarsh", "en", 3).unwrap();
        assert_eq!(hits[0].chunk_id, 2, "{hits:?}");
        let searcher = idx.reader.searcher();
        let words = idx.query_words(&searcher, "clikc minutes xyzzyq", "en").unwrap();
        assert_eq!(words[0], ("click".to_owned(), Tuning::default().typo));
        assert_eq!(words[1], ("minutes".to_owned(), 1.0), "known words stay");
        assert_eq!(words[2], ("xyzzyq".to_owned(), 1.0), "nothing close: kept as is");
    }

    fn temp_dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("fd-index-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn directory_index_persists_and_is_rebuilt_when_incompatible() {
        let dir = temp_dir("persist");
        {
            let idx = Index::open_or_create(&dir).unwrap();
            assert!(idx.is_new());
            idx.add(1, 1, &chunk("Trash", &[], "files stay 30 days", "en")).unwrap();
            idx.commit().unwrap();
        }
        {
            let idx = Index::open_or_create(&dir).unwrap();
            assert!(!idx.is_new());
            assert_eq!(idx.num_chunks(), 1);
            assert_eq!(idx.search("trash", "en", 5).unwrap()[0].chunk_id, 1);
            // A second writer on the same directory is refused, not wiped.
            assert!(Index::open_or_create(&dir).is_err());
            assert_eq!(idx.num_chunks(), 1);
        }
        // Another version: wiped and recreated.
        std::fs::write(dir.join(VERSION_FILE), "frontdesk-knowledge-index 0").unwrap();
        std::fs::write(dir.join("notes.txt"), "not ours").unwrap();
        {
            let idx = Index::open_or_create(&dir).unwrap();
            assert!(idx.is_new());
            assert_eq!(idx.num_chunks(), 0);
            idx.add(2, 1, &chunk("Trash", &[], "files stay 30 days", "en")).unwrap();
            idx.commit().unwrap();
        }
        assert!(dir.join("notes.txt").exists(), "files that are not the index's are kept");
        // Corrupt metadata: wiped and recreated.
        std::fs::write(dir.join("meta.json"), "{ not json").unwrap();
        {
            let idx = Index::open_or_create(&dir).unwrap();
            assert!(idx.is_new());
            assert_eq!(idx.num_chunks(), 0);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Crude HTML to text for the quality test: drops tags, scripts and
    /// styles; block tags end paragraphs.
    fn strip_html(html: &str) -> String {
        const BLOCK: &[&str] = &[
            "p",
            "div",
            "br",
            "li",
            "ul",
            "ol",
            "tr",
            "td",
            "th",
            "table",
            "section",
            "article",
            "header",
            "footer",
            "nav",
            "aside",
            "main",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "pre",
            "blockquote",
            "title",
            "dd",
            "dt",
        ];
        let mut out = String::with_capacity(html.len());
        let mut rest = html;
        while let Some(open) = rest.find('<') {
            out.push_str(&rest[..open]);
            rest = &rest[open..];
            let Some(close) = rest.find('>') else { break };
            let tag = rest[1..close].trim_start_matches('/').to_ascii_lowercase();
            let name: String = tag.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
            rest = &rest[close + 1..];
            if (name == "script" || name == "style") && !rest.is_empty() && !tag.ends_with('/') {
                let end = format!("</{name}");
                let lower = rest.to_ascii_lowercase();
                let skip = lower.find(&end).unwrap_or(rest.len());
                rest = &rest[skip..];
                continue;
            }
            out.push_str(if BLOCK.contains(&name.as_str()) { "\n\n" } else { " " });
        }
        out.push_str(rest);
        out.replace("&nbsp;", " ")
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
    }

    /// Every file under `root` as (path relative to root, simple document):
    /// UTF-8 text, one section per blank-line block, no title.
    fn load_simple(root: &Path) -> Vec<(String, crate::Document, String)> {
        let mut files = Vec::new();
        let mut dirs = vec![root.to_path_buf()];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    dirs.push(p);
                } else {
                    files.push(p);
                }
            }
        }
        files.sort();
        files
            .into_iter()
            .filter_map(|p| {
                let raw = std::fs::read_to_string(&p).ok()?;
                let is_html = p.extension().is_some_and(|e| e == "html" || e == "htm");
                let text = if is_html { strip_html(&raw) } else { raw };
                let mut sections = Vec::new();
                let mut block = String::new();
                for line in text.lines().chain([""]) {
                    if line.trim().is_empty() {
                        if !block.trim().is_empty() {
                            sections.push(crate::Section {
                                heading_path: vec![],
                                locator: None,
                                text: block.trim().to_owned(),
                            });
                        }
                        block.clear();
                    } else {
                        block.push_str(line.trim_end());
                        block.push('\n');
                    }
                }
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
                let stem = p.file_stem().unwrap().to_string_lossy().replace(['-', '_'], " ");
                Some((rel, crate::Document { title: None, sections, truncated: None }, stem))
            })
            .collect()
    }

    const EVAL_DIR: &str = "/work/shared/eval";

    /// The development set, indexed; None when it is not on this machine.
    fn dev_set() -> Option<(Index, Vec<String>, Vec<crate::eval::Question>)> {
        let root = Path::new(EVAL_DIR);
        let content = root.join("content");
        if !content.is_dir() {
            return None;
        }
        let questions =
            crate::eval::parse_questions(&std::fs::read_to_string(root.join("questions.jsonl")).ok()?).unwrap();
        let idx = Index::in_memory().unwrap();
        let mut sources = Vec::new();
        let mut chunk_id = 0;
        for (source_id, (rel, doc, title)) in load_simple(&content).into_iter().enumerate() {
            for c in crate::chunk::chunk(&doc, &title, &crate::chunk::ChunkOptions::default()) {
                idx.add(chunk_id, source_id as i64, &c).unwrap();
                chunk_id += 1;
            }
            sources.push(rel);
        }
        idx.commit().unwrap();
        Some((idx, sources, questions))
    }

    fn evaluate(idx: &Index, sources: &[String], questions: &[crate::eval::Question]) -> crate::eval::RetrievalReport {
        let ranked: Vec<Vec<String>> = questions
            .iter()
            .map(|q| {
                let lang = crate::lang::detect_query(&q.question, "und");
                let hits = idx.search(&q.question, lang, 5).unwrap();
                hits.iter().map(|h| sources[h.source_id as usize].clone()).collect()
            })
            .collect();
        crate::eval::score_retrieval(questions, &ranked, 5)
    }

    /// Retrieval quality on the development set, when it is here. Prints the
    /// figures (`--nocapture`); asserts only a floor, so as not to tune to it.
    #[test]
    fn dev_set_retrieval_quality() {
        let Some((idx, sources, questions)) = dev_set() else { return };
        let report = evaluate(&idx, &sources, &questions);
        // Same-language vs cross-lingual questions.
        let (same, cross): (Vec<_>, Vec<_>) = questions
            .iter()
            .filter(|q| !q.expected_sources.is_empty())
            .cloned()
            .partition(|q| q.expected_sources.iter().any(|s| s.starts_with(&format!("{}/", q.lang))));
        let same_r = evaluate(&idx, &sources, &same);
        let cross_r = evaluate(&idx, &sources, &cross);
        println!("dev set: {} chunks from {} files\n{}", idx.num_chunks(), sources.len(), report.to_text());
        println!(
            "same-language: n {} recall@1 {:.3} recall@5 {:.3} MRR {:.3}",
            same_r.n, same_r.recall_at_1, same_r.recall_at_5, same_r.mrr
        );
        println!(
            "cross-lingual: n {} recall@1 {:.3} recall@5 {:.3} MRR {:.3}",
            cross_r.n, cross_r.recall_at_1, cross_r.recall_at_5, cross_r.mrr
        );
        assert!(report.n > 0);
        if std::env::var_os("FD_EVAL_VERBOSE").is_some() {
            for q in questions.iter().filter(|q| !q.expected_sources.is_empty()) {
                let lang = crate::lang::detect_query(&q.question, "und");
                let got: Vec<String> = idx
                    .search(&q.question, lang, 5)
                    .unwrap()
                    .iter()
                    .map(|h| format!("{} {:.1}", sources[h.source_id as usize], h.score))
                    .collect();
                if !got.iter().take(1).any(|g| q.expected_sources.iter().any(|e| g.starts_with(e.as_str()))) {
                    println!(
                        "MISS@1 {} [{}] {}
  want {:?}
  got {:?}",
                        q.id, lang, q.question, q.expected_sources, got
                    );
                }
            }
        }
        assert!(report.recall_at_5 >= 0.5, "{}", report.to_text());
    }
}
