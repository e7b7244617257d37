//! `frontdesk bench gaps`: grouping unanswered questions into topics
//! (knowledge gaps, `frontdesk_core::gaps`), timed and scored.
//!
//! The questions are the labelled sample of the core crate's quality test
//! (`crates/frontdesk-core/tests/data/gap_paraphrases.json`, 61 intents in six
//! languages) sampled to `--questions` with light deterministic noise — case
//! changes, a filler word, a dropped word, a typo — and grouped one by one as
//! the gaps job does, topics in memory. Quality is measured on the noisy set
//! and on the clean sample: pair precision and recall, purity, and the share
//! of questions whose topic holds at least one true paraphrase. Key terms
//! always; embeddings too when the MiniLM model is in `--models-dir` (the
//! embedding time reported apart from grouping). No network.

use std::path::Path;
use std::time::{Duration, Instant};

use frontdesk_core::gaps::{self, GroupingConfig, GroupingQuality, QuestionFeatures, TopicSummary};
use frontdesk_embed::Embedder;
use serde::Deserialize;

use super::retrieval::pct;

const SAMPLE: &str = include_str!("../../../frontdesk-core/tests/data/gap_paraphrases.json");

#[derive(Deserialize)]
struct Intent {
    questions: Vec<Question>,
}

#[derive(Deserialize)]
struct Question {
    text: String,
}

/// xorshift64: enough for reproducible noise without a seeded-RNG dependency.
struct Prng(u64);

impl Prng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// True with probability `p`.
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

const PREFIXES: &[&str] = &["hi, ", "hello ", "quick question: ", "hey team, ", "urgent: ", "Bonjour, ", "hola, "];
const SUFFIXES: &[&str] = &[" thanks", " please", " asap", "??", " thx", " merci", " grazie"];

/// `text` with light noise: case, a filler word, a dropped word, a typo.
fn noisy(text: &str, rng: &mut Prng) -> String {
    let mut words: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
    if words.len() >= 4 && rng.chance(0.2) {
        words.remove(rng.below(words.len()));
    }
    if rng.chance(0.3) {
        let candidates: Vec<usize> = (0..words.len()).filter(|&i| words[i].chars().count() >= 5).collect();
        if !candidates.is_empty() {
            let i = candidates[rng.below(candidates.len())];
            words[i] = typo(&words[i], rng);
        }
    }
    let mut out = words.join(" ");
    match rng.below(10) {
        0..=2 => out = out.to_lowercase(),
        3 => out = out.to_uppercase(),
        _ => {}
    }
    if rng.chance(0.25) {
        out = format!("{}{out}", PREFIXES[rng.below(PREFIXES.len())]);
    } else if rng.chance(0.2) {
        out.push_str(SUFFIXES[rng.below(SUFFIXES.len())]);
    }
    out
}

/// One typing slip inside the word: two letters swapped, one dropped or doubled.
fn typo(word: &str, rng: &mut Prng) -> String {
    let mut c: Vec<char> = word.chars().collect();
    let i = 1 + rng.below(c.len().saturating_sub(2).max(1));
    if i + 1 >= c.len() {
        return word.to_owned();
    }
    match rng.below(3) {
        0 => c.swap(i, i + 1),
        1 => {
            c.remove(i);
        }
        _ => c.insert(i, c[i]),
    }
    c.into_iter().collect()
}

/// Groups `questions` in order as the gaps job does: the topic of each
/// question and the time each took (`best_topic` + `add`).
fn time_grouping(questions: &[QuestionFeatures], cfg: &GroupingConfig) -> (Vec<usize>, Vec<Duration>) {
    let mut topics: Vec<TopicSummary> = Vec::new();
    let mut assigned = Vec::with_capacity(questions.len());
    let mut times = Vec::with_capacity(questions.len());
    for q in questions {
        let started = Instant::now();
        let open: Vec<(i64, &TopicSummary)> = topics.iter().enumerate().map(|(i, t)| (i as i64, t)).collect();
        let k = match gaps::best_topic(q, &open, cfg) {
            Some((id, _)) => id as usize,
            None => {
                topics.push(TopicSummary::default());
                topics.len() - 1
            }
        };
        topics[k].add(q);
        times.push(started.elapsed());
        assigned.push(k);
    }
    (assigned, times)
}

struct Run {
    label: &'static str,
    embedding: Option<Duration>,
    features: Duration,
    grouping: Duration,
    per_question: Vec<Duration>,
    noisy: GroupingQuality,
    clean: GroupingQuality,
}

/// Embeddings of the noisy set and of the clean sample, and the time the
/// noisy set took to embed.
struct Embedded<'a> {
    noisy: &'a [Vec<f32>],
    sample: &'a [Vec<f32>],
    time: Duration,
}

/// Groups the noisy set and the clean sample, with vectors when given.
/// The thresholds: the defaults, or `FRONTDESK_GAPS_MIN_COSINE` /
/// `FRONTDESK_GAPS_MIN_TERM_SCORE` when set (for tuning).
fn config() -> GroupingConfig {
    let mut cfg = GroupingConfig::default();
    let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<f32>().ok());
    if let Some(v) = env("FRONTDESK_GAPS_MIN_COSINE") {
        cfg.min_cosine = v;
    }
    if let Some(v) = env("FRONTDESK_GAPS_MIN_TERM_SCORE") {
        cfg.min_term_score = v;
    }
    cfg
}

fn run_once(
    label: &'static str,
    noisy_set: &[(usize, String)],
    sample: &[(usize, String)],
    vectors: Option<&Embedded>,
) -> Run {
    let cfg = config();
    let started = Instant::now();
    let features: Vec<QuestionFeatures> = noisy_set
        .iter()
        .enumerate()
        .map(|(i, (_, text))| gaps::features(text, vectors.map(|e| e.noisy[i].clone())))
        .collect();
    let features_time = started.elapsed();
    let started = Instant::now();
    let (topics, mut per_question) = time_grouping(&features, &cfg);
    let grouping = started.elapsed();
    per_question.sort_unstable();
    let labels: Vec<usize> = noisy_set.iter().map(|(l, _)| *l).collect();
    let noisy = gaps::grouping_quality(&labels, &topics);

    let clean_features: Vec<QuestionFeatures> = sample
        .iter()
        .enumerate()
        .map(|(i, (_, text))| gaps::features(text, vectors.map(|e| e.sample[i].clone())))
        .collect();
    let clean_labels: Vec<usize> = sample.iter().map(|(l, _)| *l).collect();
    let clean = gaps::grouping_quality(&clean_labels, &gaps::group(&clean_features, &cfg));
    Run { label, embedding: vectors.map(|e| e.time), features: features_time, grouping, per_question, noisy, clean }
}

pub fn run(questions: usize, models_dir: &Path) -> anyhow::Result<()> {
    let intents: Vec<Intent> = serde_json::from_str(SAMPLE)?;
    // The clean sample in a fixed shuffled order (the quality test's first order).
    let mut sample: Vec<(usize, String)> =
        intents.iter().enumerate().flat_map(|(i, it)| it.questions.iter().map(move |q| (i, q.text.clone()))).collect();
    let mut rng = Prng(0x5eed);
    for i in (1..sample.len()).rev() {
        let j = rng.below(i + 1);
        sample.swap(i, j);
    }
    let mut rng = Prng(0x9e37_79b9_7f4a_7c15);
    let noisy_set: Vec<(usize, String)> = (0..questions)
        .map(|_| {
            let (label, text) = &sample[rng.below(sample.len())];
            (*label, noisy(text, &mut rng))
        })
        .collect();
    println!(
        "bench gaps: {questions} questions sampled from {} labelled paraphrases of {} intents (en, fr, es, de, it, pt) with noise",
        sample.len(),
        intents.len()
    );
    let cfg = config();
    println!("  thresholds: min_term_score {}, min_cosine {}", cfg.min_term_score, cfg.min_cosine);

    let mut runs = vec![run_once("key terms", &noisy_set, &sample, None)];
    let settings = frontdesk_server::config::Settings { models_dir: models_dir.to_path_buf(), ..Default::default() };
    match frontdesk_embed::load_embedder(&settings.embedder_config()?)?.embedder {
        None => {
            println!("  embeddings: skipped, no model in {} (scripts/fetch-models.sh fetches it)", models_dir.display())
        }
        Some(model) => {
            let texts: Vec<String> = noisy_set.iter().map(|(_, t)| t.clone()).collect();
            let started = Instant::now();
            let noisy_vectors = model.embed(&texts)?;
            let embedding = started.elapsed();
            let texts: Vec<String> = sample.iter().map(|(_, t)| t.clone()).collect();
            let sample_vectors = model.embed(&texts)?;
            let embedded = Embedded { noisy: &noisy_vectors, sample: &sample_vectors, time: embedding };
            let label = if model.name() == frontdesk_embed::MINILM_NAME { "MiniLM vectors" } else { "e5 vectors" };
            runs.push(run_once(label, &noisy_set, &sample, Some(&embedded)));
        }
    }

    println!();
    println!(
        "  {:<20} {:>10} {:>10} {:>10} {:>12} {:>8} {:>18}",
        "speed", "embedding", "features", "grouping", "questions/s", "topics", "p50 / p99 / max"
    );
    for r in &runs {
        let total = r.features + r.grouping;
        println!(
            "  {:<20} {:>10} {:>9.2}s {:>9.2}s {:>12.0} {:>8} {:>18}",
            r.label,
            r.embedding.map_or("-".to_owned(), |t| format!("{:.1}s", t.as_secs_f64())),
            r.features.as_secs_f64(),
            r.grouping.as_secs_f64(),
            questions as f64 / total.as_secs_f64().max(1e-9),
            r.noisy.topics,
            format!(
                "{:.2} / {:.2} / {:.2} ms",
                pct(&r.per_question, 0.5),
                pct(&r.per_question, 0.99),
                pct(&r.per_question, 1.0)
            ),
        );
    }
    println!("  (questions/s counts features + grouping, not embedding; p50/p99/max: one question's best_topic + add)");
    println!();
    println!(
        "  {:<34} {:>8} {:>10} {:>10} {:>8} {:>16}",
        "quality", "topics", "precision", "recall", "purity", "with paraphrase"
    );
    for r in &runs {
        for (set, q) in [(format!("{questions} noisy"), &r.noisy), (format!("{} labelled", sample.len()), &r.clean)] {
            println!(
                "  {:<34} {:>8} {:>10.3} {:>10.3} {:>8.3} {:>16.3}",
                format!("{}, {set}", r.label),
                q.topics,
                q.pair_precision,
                q.pair_recall,
                q.purity,
                q.with_paraphrase
            );
        }
    }
    println!("  (pair precision/recall over question pairs; the noisy set repeats paraphrases, which flatters it)");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_is_deterministic_and_light() {
        let a: Vec<String> = {
            let mut rng = Prng(7);
            (0..50).map(|_| noisy("How do I reset my password quickly?", &mut rng)).collect()
        };
        let b: Vec<String> = {
            let mut rng = Prng(7);
            (0..50).map(|_| noisy("How do I reset my password quickly?", &mut rng)).collect()
        };
        assert_eq!(a, b);
        assert!(a.iter().any(|s| s != "How do I reset my password quickly?"));
        for s in &a {
            assert!(s.split_whitespace().count() >= 5, "{s}");
        }
        // Words too short for a typo, empty text: no panic.
        let mut rng = Prng(1);
        for _ in 0..100 {
            noisy("", &mut rng);
            noisy("a b", &mut rng);
            typo("ab", &mut rng);
            typo("héllo", &mut rng);
        }
    }

    #[test]
    fn the_sample_parses() {
        let intents: Vec<Intent> = serde_json::from_str(SAMPLE).unwrap();
        assert!(intents.len() > 50);
    }
}
