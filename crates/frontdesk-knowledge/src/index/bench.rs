//! Search latency on a synthetic multilingual index (`frontdesk bench retrieval`).

use super::Index;
use crate::Chunk;
use std::time::Instant;

/// A small deterministic generator (xorshift64*), so runs are comparable;
/// the seed is the field. Shared by the benchmarks' generated corpora.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// A number in `lo..=hi`.
    pub fn between(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A language of the synthetic corpus: code, function words, syllables that
/// give its made-up content words a flavour, endings for the stemmer to chew on.
type SyntheticLang = (&'static str, &'static [&'static str], &'static [&'static str], &'static [&'static str]);

const LANGS: [SyntheticLang; 8] = [
    (
        "en",
        &["the", "is", "to", "of", "and", "a", "in", "for", "you", "your", "can", "how", "with", "on", "it"],
        &["sto", "ra", "ge", "link", "sha", "re", "ac", "count", "pass", "word", "in", "voi", "ce", "up", "load"],
        &["ing", "ed", "s", "er", "ion", "ly", ""],
    ),
    (
        "it",
        &["il", "la", "di", "che", "e", "per", "un", "una", "con", "non", "del", "della", "come", "mi", "si"],
        &["ar", "chi", "vio", "can", "cel", "la", "fat", "tu", "ra", "con", "di", "vi", "sio", "ne", "pre"],
        &["are", "ato", "ione", "i", "e", "o", "ando"],
    ),
    (
        "es",
        &["el", "la", "de", "que", "y", "en", "los", "las", "por", "para", "con", "un", "una", "mi", "se"],
        &["ar", "chi", "vo", "con", "tra", "se", "ña", "fac", "tu", "ra", "ción", "es", "pa", "cio", "de"],
        &["ar", "ado", "ción", "es", "os", "as", "iendo"],
    ),
    (
        "fr",
        &["le", "la", "les", "de", "des", "et", "un", "une", "pour", "vous", "est", "dans", "sur", "du", "que"],
        &["fi", "chier", "par", "ta", "ge", "comp", "te", "fac", "tu", "re", "mot", "pas", "se", "é", "ment"],
        &["er", "é", "ée", "ement", "s", "ant", "ions"],
    ),
    (
        "de",
        &["der", "die", "das", "und", "ist", "zu", "ein", "eine", "mit", "für", "nicht", "sie", "auf", "ich", "von"],
        &["da", "tei", "frei", "ga", "be", "kon", "to", "rech", "nung", "pass", "wort", "spei", "cher", "ein", "stel"],
        &["en", "ung", "er", "te", "lich", "keit", "s"],
    ),
    (
        "pt",
        &["o", "a", "de", "que", "e", "do", "da", "em", "um", "para", "com", "não", "uma", "os", "no"],
        &["ar", "qui", "vo", "pas", "ta", "con", "fa", "tu", "ra", "se", "nha", "ção", "ces", "so", "li"],
        &["ar", "ado", "ção", "ões", "os", "as", "ando"],
    ),
    (
        "sv",
        &["och", "att", "det", "är", "en", "ett", "som", "på", "för", "med", "inte", "har", "kan", "jag", "du"],
        &["fil", "mapp", "de", "la", "kon", "to", "fak", "tu", "ra", "lö", "sen", "ord", "lag", "ring", "del"],
        &["ar", "en", "er", "ade", "ning", "na", "et"],
    ),
    (
        "nl",
        &["de", "het", "een", "en", "van", "is", "ik", "te", "dat", "die", "in", "op", "voor", "met", "niet"],
        &["be", "stand", "map", "de", "len", "ac", "count", "fac", "tuur", "wacht", "woord", "op", "slag", "ge", "ver"],
        &["en", "ing", "heid", "lijk", "de", "te", "s"],
    ),
];

/// Words shared by every language: product names, codes, numbers.
const SHARED: &[&str] =
    &["api", "sso", "saml", "2fa", "pdf", "csv", "windows", "macos", "linux", "ios", "android", "429", "30", "60"];

struct Vocab {
    code: &'static str,
    function: &'static [&'static str],
    content: Vec<String>,
    /// Cumulative Zipf weights over `content`.
    cumulative: Vec<f64>,
}

impl Vocab {
    fn new(rng: &mut Rng, lang: usize, size: usize) -> Vocab {
        let (code, function, syllables, endings) = LANGS[lang];
        let mut content = Vec::with_capacity(size);
        let mut seen = std::collections::HashSet::new();
        while content.len() < size {
            let mut w = String::new();
            for _ in 0..2 + rng.below(3) {
                w.push_str(syllables[rng.below(syllables.len())]);
            }
            w.push_str(endings[rng.below(endings.len())]);
            if seen.insert(w.clone()) {
                content.push(w);
            }
        }
        let mut total = 0.0;
        let cumulative = (0..size)
            .map(|r| {
                total += 1.0 / (r as f64 + 1.0);
                total
            })
            .collect();
        Vocab { code, function, content, cumulative }
    }

    fn content_word(&self, rng: &mut Rng) -> &str {
        let x = rng.unit() * self.cumulative.last().copied().unwrap_or(1.0);
        let i = self.cumulative.partition_point(|&c| c < x).min(self.content.len() - 1);
        &self.content[i]
    }

    fn sentence(&self, rng: &mut Rng, words: usize, out: &mut String) {
        for i in 0..words {
            if i > 0 {
                out.push(' ');
            }
            let r = rng.below(100);
            if r < 35 {
                out.push_str(self.function[rng.below(self.function.len())]);
            } else if r < 37 {
                out.push_str(SHARED[rng.below(SHARED.len())]);
            } else {
                out.push_str(self.content_word(rng));
            }
        }
        out.push_str(". ");
    }
}

/// The deterministic synthetic corpus of the retrieval benchmarks: chunks in
/// eight languages with Zipf-distributed made-up vocabularies (~900
/// characters each) and queries of 3 to 12 words, one in ten with a typo.
pub struct Synthetic {
    rng: Rng,
    vocabs: Vec<Vocab>,
}

impl Default for Synthetic {
    fn default() -> Self {
        Self::new()
    }
}

impl Synthetic {
    pub fn new() -> Synthetic {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let vocabs: Vec<Vocab> = (0..LANGS.len()).map(|l| Vocab::new(&mut rng, l, 6000)).collect();
        Synthetic { rng, vocabs }
    }

    /// The next chunk (`id` only sets its ordinal: `id % 20`).
    pub fn chunk(&mut self, id: usize) -> Chunk {
        let rng = &mut self.rng;
        // Most content in one language, some in the others.
        let l = if rng.below(100) < 50 { 0 } else { rng.below(LANGS.len()) };
        let v = &self.vocabs[l];
        let mut title = String::new();
        v.sentence(rng, 4, &mut title);
        let mut text = String::new();
        while text.len() < 850 {
            let n = 8 + rng.below(14);
            v.sentence(rng, n, &mut text);
        }
        Chunk {
            ordinal: (id % 20) as i64,
            title: title.trim_end_matches(['.', ' ']).to_owned(),
            heading_path: vec![v.content_word(rng).to_owned()],
            locator: None,
            text,
            lang: v.code.to_owned(),
        }
    }

    /// The next query and its language code.
    pub fn query(&mut self) -> (String, &'static str) {
        let rng = &mut self.rng;
        let l = rng.below(LANGS.len());
        let v = &self.vocabs[l];
        let mut q = String::new();
        let n = 3 + rng.below(10);
        v.sentence(rng, n, &mut q);
        if rng.below(10) == 0 {
            // A typo: two letters of a long word swapped.
            let w = v.content.iter().skip(rng.below(500)).find(|w| w.is_ascii() && w.len() >= 7).cloned();
            if let Some(w) = w {
                let mut b = w.into_bytes();
                b.swap(2, 3);
                q.push(' ');
                q.push_str(&String::from_utf8(b).unwrap_or_default());
            }
        }
        (q, v.code)
    }
}

/// Builds an in-memory index of `n_chunks` [`Synthetic`] chunks, runs
/// `queries` searches (top 10) and returns the (p50, p99) search latency in
/// milliseconds.
pub fn bench_search(n_chunks: usize, queries: usize) -> (f64, f64) {
    let mut corpus = Synthetic::new();
    let index = Index::in_memory().expect("in-memory index");
    for id in 0..n_chunks {
        let chunk = corpus.chunk(id);
        index.add(id as i64, (id / 20) as i64, &chunk).expect("add");
        if id % 25_000 == 24_999 {
            index.commit().expect("commit");
        }
    }
    index.commit().expect("commit");
    for _ in 0..20 {
        let (q, code) = corpus.query();
        let _ = index.search(&q, code, 10);
    }
    let mut times: Vec<f64> = (0..queries.max(1))
        .map(|_| {
            let (q, code) = corpus.query();
            let start = Instant::now();
            let _ = index.search(&q, code, 10);
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let pct = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize];
    (pct(0.50), pct(0.99))
}

#[cfg(test)]
mod tests {
    #[test]
    fn bench_runs_on_a_small_index() {
        let (p50, p99) = super::bench_search(300, 30);
        assert!(p50 > 0.0 && p99 >= p50, "{p50} {p99}");
    }
}
