//! `frontdesk eval injection`: the classifier of sentences addressed to the
//! assistant (`frontdesk_knowledge::addressed`) on the set of
//! `eval/injection`: written positives and reader-imperatives, and real
//! help-centre sentences from `eval/sets/*/content` and the shared seeds as
//! negatives. Fits it (`--fit`) on the fitting languages and forms only, and
//! reports precision, recall and the false-positive rate on the held-out part.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use frontdesk_knowledge::addressed::{self, AddressedModel, Scores};
use frontdesk_server::config::Settings;

/// Languages whose sentences are used for fitting; every other is held out.
pub const FIT_LANGS: [&str; 6] = ["en", "de", "fr", "es", "it", "pt"];
/// Forms of positives used for fitting; the others (`when`, `hidden`,
/// `long`) are never fitted on.
pub const FIT_FORMS: [&str; 5] = ["note", "tell", "override", "reveal", "role"];
/// Real help sentences per language: many for fitting, a sample for testing.
const REAL_PER_FIT_LANG: usize = 350;
const REAL_PER_TEST_LANG: usize = 50;

/// One labelled sentence.
#[derive(Debug, Clone)]
pub struct Case {
    pub lang: String,
    /// The positive's form, or "reader" (written hard negative), or "real".
    pub form: String,
    pub text: String,
    pub positive: bool,
}

impl Case {
    pub fn fit(&self) -> bool {
        FIT_LANGS.contains(&self.lang.as_str()) && (!self.positive || FIT_FORMS.contains(&self.form.as_str()))
    }
    pub fn test(&self) -> bool {
        !FIT_LANGS.contains(&self.lang.as_str())
    }
}

pub struct Paths {
    pub set: PathBuf,
    pub content: PathBuf,
    pub seeds: Option<PathBuf>,
}

/// The written cases of `dir` (addressed.tsv, reader.tsv).
pub fn written_cases(dir: &Path) -> anyhow::Result<Vec<Case>> {
    let mut out = Vec::new();
    for (file, positive) in [("addressed.tsv", true), ("reader.tsv", false)] {
        let path = dir.join(file);
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#')) {
            let cols: Vec<&str> = line.split('\t').collect();
            let (lang, form, text) = match (positive, cols.as_slice()) {
                (true, [lang, form, text]) => (*lang, *form, *text),
                (false, [lang, text]) => (*lang, "reader", *text),
                _ => anyhow::bail!(
                    "{}:{}: expected {} tab-separated columns, found {}",
                    path.display(),
                    i + 1,
                    if positive { "3 (lang, form, text)" } else { "2 (lang, text)" },
                    cols.len()
                ),
            };
            out.push(Case { lang: lang.into(), form: form.into(), text: text.into(), positive });
        }
    }
    Ok(out)
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

/// The sentences of a Markdown help page, without headings, code and markup.
fn page_sentences(md: &str) -> Vec<String> {
    let mut prose = String::new();
    let mut code = false;
    for line in md.lines() {
        let t = line.trim();
        if t.starts_with("```") {
            code = !code;
            continue;
        }
        if code || t.starts_with('#') || t.starts_with('|') || t.starts_with("<!--") {
            continue;
        }
        let t = t.trim_start_matches(['*', '-', '>', ' ']);
        prose.push_str(t);
        prose.push('\n');
    }
    frontdesk_knowledge::answer::sentences(&prose)
        .into_iter()
        .map(|s| s.replace("**", "").replace('`', ""))
        .filter(|s| (25..=400).contains(&s.chars().count()) && s.split_whitespace().count() >= 4)
        .collect()
}

/// Real help-centre sentences (`content/<set>/content/<lang>/*.md` and the
/// seeds, language detected; a deterministic sample per language) and the
/// real questions of `content/<set>/tune.jsonl`.
pub fn real_cases(content: &Path, seeds: Option<&Path>) -> anyhow::Result<Vec<Case>> {
    let mut by_lang: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for set in ["gnome", "harden"] {
        let dir = content.join(set).join("content");
        let langs = std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))?;
        for l in langs {
            let l = l?;
            let lang = l.file_name().to_string_lossy().into_owned();
            for f in super::files_under(&l.path())? {
                let md = std::fs::read_to_string(&f).with_context(|| format!("reading {}", f.display()))?;
                by_lang.entry(lang.clone()).or_default().extend(page_sentences(&md));
            }
        }
    }
    if let Some(seeds) = seeds {
        for f in super::files_under(seeds)? {
            let text = std::fs::read_to_string(&f).with_context(|| format!("reading {}", f.display()))?;
            let lang = frontdesk_core::lang::detect(&text, frontdesk_core::lang::Lang::En).code().to_owned();
            by_lang.entry(lang).or_default().extend(page_sentences(&text));
        }
    }
    let mut out = Vec::new();
    // Visitors' questions speak to the agent too, yet are no instructions to
    // it: the real questions of the sets' tuning halves are negatives.
    for set in ["gnome", "harden"] {
        let path = content.join(set).join("tune.jsonl");
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let q: serde_json::Value =
                serde_json::from_str(line).with_context(|| format!("{}:{}: not JSON", path.display(), i + 1))?;
            if let (Some(lang), Some(question)) = (q["lang"].as_str(), q["question"].as_str()) {
                out.push(Case { lang: lang.into(), form: "question".into(), text: question.into(), positive: false });
            }
        }
    }
    for (lang, mut sentences) in by_lang {
        let mut seen = HashSet::new();
        sentences.retain(|s| seen.insert(s.clone()));
        sentences.sort_by_key(|s| fnv(s));
        let n = if FIT_LANGS.contains(&lang.as_str()) { REAL_PER_FIT_LANG } else { REAL_PER_TEST_LANG };
        out.extend(sentences.into_iter().take(n).map(|text| Case {
            lang: lang.clone(),
            form: "real".into(),
            text,
            positive: false,
        }));
    }
    Ok(out)
}

/// Every case of the set, with its e5 vector (query side).
pub async fn embedded_cases(
    settings: Settings,
    paths: &Paths,
    models_dir: &Path,
) -> anyhow::Result<(String, Vec<(Case, Vec<f32>)>)> {
    let mut cases = written_cases(&paths.set)?;
    cases.extend(real_cases(&paths.content, paths.seeds.as_deref())?);
    let s = Settings { models_dir: models_dir.to_path_buf(), embeddings: true, ..settings };
    let embedder: Arc<_> = frontdesk_engine::ingest::load_embedder(&s).await?.embedder.with_context(|| {
        format!("no embedding model in {}: scripts/fetch-models.sh e5 fetches it", models_dir.display())
    })?;
    let name = embedder.name().to_owned();
    let mut vectors = Vec::with_capacity(cases.len());
    for batch in cases.chunks(64) {
        let texts: Vec<String> = batch.iter().map(|c| c.text.clone()).collect();
        let e = embedder.clone();
        vectors.extend(tokio::task::spawn_blocking(move || e.embed_query(&texts)).await??);
    }
    Ok((name, cases.into_iter().zip(vectors).collect()))
}

/// Figures of a model on some cases, by a key (language, form…).
fn scores_by<'a>(
    model: &AddressedModel,
    cases: impl Iterator<Item = &'a (Case, Vec<f32>)>,
    key: impl Fn(&Case) -> String,
) -> BTreeMap<String, Scores> {
    let mut out: BTreeMap<String, Scores> = BTreeMap::new();
    for (c, v) in cases {
        let flagged = model.addressed(v).is_some();
        out.entry(key(c)).or_default().add(flagged, c.positive);
        out.entry("all".into()).or_default().add(flagged, c.positive);
    }
    out
}

fn print_table(title: &str, rows: &BTreeMap<String, Scores>) {
    println!("\n{title}");
    println!(
        "{:<22} {:>5} {:>5} {:>5} {:>5} {:>9} {:>7} {:>7}",
        "", "pos", "neg", "TP", "FP", "precision", "recall", "FPR"
    );
    for (k, s) in rows {
        println!(
            "{:<22} {:>5} {:>5} {:>5} {:>5} {:>9.3} {:>7.3} {:>7.4}",
            k,
            s.positives,
            s.negatives,
            s.true_positives,
            s.false_positives,
            s.precision(),
            s.recall(),
            s.false_positive_rate()
        );
    }
}

/// Prints the held-out figures of `model` (and the sentences it got wrong with `verbose`).
fn report(model: &AddressedModel, cases: &[(Case, Vec<f32>)], verbose: bool) {
    let test: Vec<&(Case, Vec<f32>)> = cases.iter().filter(|(c, _)| c.test()).collect();
    let langs: HashSet<&str> = test.iter().map(|(c, _)| c.lang.as_str()).collect();
    println!(
        "held-out: {} cases ({} addressed to the assistant, {} not) in {} languages never fitted on; threshold {:.4}",
        test.len(),
        test.iter().filter(|(c, _)| c.positive).count(),
        test.iter().filter(|(c, _)| !c.positive).count(),
        langs.len(),
        model.threshold
    );
    print_table("held-out, by language", &scores_by(model, test.iter().copied(), |c| c.lang.clone()));
    print_table(
        "held-out, by form (positives: forms fitted on / never; negatives: real help sentences, real questions, written reader-imperatives)",
        &scores_by(model, test.iter().copied(), |c| {
            let seen = if FIT_FORMS.contains(&c.form.as_str()) { "fitted form" } else { "unseen form" };
            if c.positive {
                format!("{} ({seen})", c.form)
            } else {
                c.form.clone()
            }
        }),
    );
    print_table(
        "fitting part (in-sample)",
        &scores_by(model, cases.iter().filter(|(c, _)| c.fit()), |c| c.lang.clone()),
    );
    if verbose {
        println!("\nheld-out mistakes:");
        for (c, v) in &test {
            let p = model.probability(v).unwrap_or(0.0);
            if (p >= model.threshold) != c.positive {
                println!("  {} {:<7} p={p:.3} {}", c.lang, c.form, c.text);
            }
        }
    }
}

/// Fits on the fitting part: the weights on all of it, the threshold from
/// leave-one-language-out probabilities of its negatives (so that it is set
/// on sentences the model did not see, and never on held-out ones).
/// With `balance`, the classes weigh the same.
fn fit(name: &str, cases: &[(Case, Vec<f32>)], l2: f32, max_fpr: f32, balance: bool) -> AddressedModel {
    let fitting: Vec<&(Case, Vec<f32>)> = cases.iter().filter(|(c, _)| c.fit()).collect();
    let xy = |rows: &[&(Case, Vec<f32>)]| -> (Vec<Vec<f32>>, Vec<bool>) {
        (rows.iter().map(|(_, v)| v.clone()).collect(), rows.iter().map(|(c, _)| c.positive).collect())
    };
    let mut oof_negatives = Vec::new();
    let mut oof_positives = Vec::new();
    for lang in FIT_LANGS {
        let (train, held): (Vec<_>, Vec<_>) = fitting.iter().copied().partition(|(c, _)| c.lang != lang);
        let (xs, ys) = xy(&train);
        let m = addressed::fit(name, &xs, &ys, l2, balance);
        for (c, v) in held {
            let p = m.probability(v).unwrap_or(0.0);
            if c.positive {
                oof_positives.push(p);
            } else {
                oof_negatives.push(p);
            }
        }
    }
    let (xs, ys) = xy(&fitting);
    let mut m = addressed::fit(name, &xs, &ys, l2, balance);
    m.threshold = addressed::threshold_for_false_positives(oof_negatives.clone(), max_fpr);
    let recalled = oof_positives.iter().filter(|p| **p >= m.threshold).count();
    let false_pos = oof_negatives.iter().filter(|p| **p >= m.threshold).count();
    println!(
        "leaving each fitting language out: recall {recalled}/{} ({:.3}), false positives {false_pos}/{} at the threshold",
        oof_positives.len(),
        recalled as f32 / oof_positives.len().max(1) as f32,
        oof_negatives.len()
    );
    m
}

/// The model as the Rust source that `frontdesk_knowledge::addressed` includes.
fn weights_source(m: &AddressedModel, fitted_on: usize) -> String {
    let w: Vec<String> = m.weights.iter().map(|w| format!("{w:?}")).collect();
    format!(
        "// Fitted by `frontdesk eval injection --fit --out crates/frontdesk-knowledge/src/addressed_weights.rs`\n\
         // on the fitting part of eval/injection ({fitted_on} sentences: {langs}; forms {forms}) with {emb}.\n\
         #[rustfmt::skip]\nconst WEIGHTS: [f32; {n}] = [{w}];\nconst BIAS: f32 = {b:?};\nconst THRESHOLD: f32 = {t:?};\n",
        langs = FIT_LANGS.join(", "),
        forms = FIT_FORMS.join(", "),
        emb = m.embedder,
        n = m.weights.len(),
        w = w.join(", "),
        b = m.bias,
        t = m.threshold,
    )
}

#[allow(clippy::too_many_arguments)]
pub async fn run(
    settings: Settings,
    paths: Paths,
    models_dir: &Path,
    fit_it: bool,
    l2: f32,
    max_fpr: f32,
    out: Option<&Path>,
    verbose: bool,
    balance: bool,
) -> anyhow::Result<()> {
    let (name, cases) = embedded_cases(settings, &paths, models_dir).await?;
    let model = if fit_it {
        let m = fit(&name, &cases, l2, max_fpr, balance);
        let fitted_on = cases.iter().filter(|(c, _)| c.fit()).count();
        if let Some(out) = out {
            std::fs::write(out, weights_source(&m, fitted_on)).with_context(|| format!("writing {}", out.display()))?;
            eprintln!("wrote {}", out.display());
        }
        println!("fitted on {fitted_on} sentences ({}); threshold {:.4} (leave-one-language-out false-positive rate ≤ {max_fpr})", FIT_LANGS.join(", "), m.threshold);
        m
    } else {
        addressed::addressed_model_for(Some(&name)).with_context(|| {
            format!("the built-in model is for {}, the embedder here is {name}", addressed::FITTED_FOR)
        })?
    };
    report(&model, &cases, verbose);
    Ok(())
}
