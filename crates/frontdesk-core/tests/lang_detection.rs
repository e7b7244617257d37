//! Language detection on real-looking short customer questions
//! (tests/data/lang_questions.tsv): at least 95% right in every language.
//! Each question is guessed with a default that is a different language, so
//! falling back never counts as a right guess.

use frontdesk_core::lang::{detect, Lang};

fn cases() -> Vec<(Lang, &'static str)> {
    include_str!("data/lang_questions.tsv")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (code, text) = l.split_once('\t').expect("code<TAB>text");
            (Lang::from_code(code).unwrap_or_else(|| panic!("unknown code {code}")), text)
        })
        .collect()
}

#[test]
fn at_least_95_percent_right_in_every_language() {
    let cases = cases();
    let mut report = Vec::new();
    let mut failed = false;
    for lang in Lang::ALL {
        let mine: Vec<&str> = cases.iter().filter(|(l, _)| *l == lang).map(|(_, t)| *t).collect();
        assert!(mine.len() >= 10, "{lang:?}: only {} questions", mine.len());
        let default = if lang == Lang::En { Lang::It } else { Lang::En };
        let wrong: Vec<String> = mine
            .iter()
            .filter_map(|t| {
                let got = detect(t, default);
                (got != lang).then(|| format!("{t:?} -> {}", got.code()))
            })
            .collect();
        let accuracy = 1.0 - wrong.len() as f32 / mine.len() as f32;
        report.push(format!("{}: {:.0}% of {} {wrong:?}", lang.code(), accuracy * 100.0, mine.len()));
        failed |= accuracy < 0.95;
    }
    let report = report.join("\n");
    println!("{report}");
    assert!(!failed, "accuracy under 95%:\n{report}");
}
