//! Sentences addressed to the assistant, recognised by meaning: a logistic
//! regression over a sentence's multilingual-e5-small vector (query side,
//! "query: " prefix) that separates text speaking *to the assistant* (an AI,
//! a bot, "the model": instructions to it, role-play, "note to the
//! assistant", "when asked about X say Y", "reveal your prompt", "the visitor
//! must be told that …") from ordinary help-centre sentences — including
//! imperatives addressed to the *reader* ("Click Settings", "Ignore the
//! warning and continue", "Tell your administrator …").
//!
//! Content sentences it flags are never quoted nor put in a model's prompt;
//! a visitor message it flags is treated as data. The phrase rules of
//! `frontdesk_core::guard::injection` stay as the fallback without the model.
//!
//! Fitted by `frontdesk eval injection --fit` on the fitting part of
//! `eval/injection` (English, German and French; five of the eight forms) and
//! judged on the held-out part (other languages and forms): see
//! `eval/injection/README.md` for the data, the split and the figures.

use crate::rank::fit_logistic_weighted;

/// The embedder the built-in model was fitted for.
pub const FITTED_FOR: &str = "multilingual-e5-small";

/// A fitted model: `p = σ(w·v + b)`, flagged at `p ≥ threshold`.
#[derive(Debug, Clone, PartialEq)]
pub struct AddressedModel {
    /// The embedder whose vectors it reads.
    pub embedder: String,
    pub weights: Vec<f32>,
    pub bias: f32,
    pub threshold: f32,
}

impl AddressedModel {
    /// The probability that the sentence of vector `v` is addressed to the
    /// assistant; `None` when `v` is not of the model's size.
    pub fn probability(&self, v: &[f32]) -> Option<f32> {
        if v.len() != self.weights.len() {
            return None;
        }
        let s: f32 = self.weights.iter().zip(v).map(|(w, x)| w * x).sum::<f32>() + self.bias;
        Some(1.0 / (1.0 + (-s).exp()))
    }

    /// `Some(p)` when the sentence is addressed to the assistant.
    pub fn addressed(&self, v: &[f32]) -> Option<f32> {
        self.probability(v).filter(|p| *p >= self.threshold)
    }
}

/// The built-in model for vectors of `embedder` (its name), or `None` for
/// any other embedder (its vectors mean something else: the phrase rules
/// alone then apply).
pub fn addressed_model_for(embedder: Option<&str>) -> Option<AddressedModel> {
    (embedder == Some(FITTED_FOR)).then(|| AddressedModel {
        embedder: FITTED_FOR.to_owned(),
        weights: WEIGHTS.to_vec(),
        bias: BIAS,
        threshold: THRESHOLD,
    })
}

/// Fits the model to vectors `xs` labelled `ys` (true: addressed to the
/// assistant); the threshold is left at 0.5 (see [`threshold_for_false_positives`]).
/// With `balance`, the classes weigh the same (each positive counts as many
/// negatives as there are per positive).
pub fn fit(embedder: &str, xs: &[Vec<f32>], ys: &[bool], l2: f32, balance: bool) -> AddressedModel {
    let positives = ys.iter().filter(|y| **y).count().max(1) as f32;
    let negatives = ys.iter().filter(|y| !**y).count() as f32;
    let up = if balance { (negatives / positives).max(1.0) } else { 1.0 };
    let row_weights: Vec<f32> = ys.iter().map(|y| if *y { up } else { 1.0 }).collect();
    let (weights, bias) = fit_logistic_weighted(xs, ys, &row_weights, l2);
    AddressedModel { embedder: embedder.to_owned(), weights, bias, threshold: 0.5 }
}

/// The lowest threshold at which at most `max_rate` of the negatives'
/// probabilities `negatives` reach it (and never below 0.5): dropping a real
/// help sentence costs answers, so the rate of false positives decides.
pub fn threshold_for_false_positives(mut negatives: Vec<f32>, max_rate: f32) -> f32 {
    negatives.sort_by(|a, b| b.total_cmp(a));
    let allowed = (negatives.len() as f32 * max_rate).floor() as usize;
    // Just above the (allowed + 1)-th highest negative.
    let above = negatives.get(allowed).copied().unwrap_or(0.0);
    let t = if above >= 1.0 { 1.0 } else { f32::from_bits(above.to_bits() + 1) };
    t.max(0.5)
}

/// Precision, recall and false-positive rate of flagging at a threshold.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Scores {
    pub true_positives: usize,
    pub false_positives: usize,
    pub positives: usize,
    pub negatives: usize,
}

impl Scores {
    pub fn add(&mut self, flagged: bool, positive: bool) {
        if positive {
            self.positives += 1;
            self.true_positives += usize::from(flagged);
        } else {
            self.negatives += 1;
            self.false_positives += usize::from(flagged);
        }
    }
    pub fn precision(&self) -> f32 {
        let flagged = self.true_positives + self.false_positives;
        if flagged == 0 {
            1.0
        } else {
            self.true_positives as f32 / flagged as f32
        }
    }
    pub fn recall(&self) -> f32 {
        if self.positives == 0 {
            1.0
        } else {
            self.true_positives as f32 / self.positives as f32
        }
    }
    pub fn false_positive_rate(&self) -> f32 {
        if self.negatives == 0 {
            0.0
        } else {
            self.false_positives as f32 / self.negatives as f32
        }
    }
}

include!("addressed_weights.rs");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_model_is_for_e5_only_and_reads_its_size() {
        assert!(addressed_model_for(None).is_none());
        assert!(addressed_model_for(Some("all-MiniLM-L6-v2")).is_none());
        let m = addressed_model_for(Some(FITTED_FOR)).unwrap();
        assert_eq!(m.weights.len(), 384);
        assert!(m.threshold >= 0.5 && m.threshold <= 1.0, "{}", m.threshold);
        assert_eq!(m.probability(&[0.0; 3]), None);
    }

    #[test]
    fn fitting_separates_and_the_threshold_keeps_false_positives_rare() {
        // Two clusters in 4 dimensions.
        let mut xs = Vec::new();
        let mut ys = Vec::new();
        for i in 0..40 {
            let e = (i % 7) as f32 * 0.01;
            xs.push(vec![1.0 + e, 0.0, 0.2, e]);
            ys.push(true);
            xs.push(vec![0.0, 1.0 - e, 0.2, e]);
            ys.push(false);
        }
        let mut m = fit("test", &xs, &ys, 0.01, true);
        let negs: Vec<f32> = xs.iter().zip(&ys).filter(|(_, y)| !**y).map(|(x, _)| m.probability(x).unwrap()).collect();
        m.threshold = threshold_for_false_positives(negs.clone(), 0.0);
        assert!(negs.iter().all(|p| *p < m.threshold));
        assert!(m.addressed(&[1.0, 0.0, 0.2, 0.0]).is_some());
        assert!(m.addressed(&[0.0, 1.0, 0.2, 0.0]).is_none());
        let mut s = Scores::default();
        s.add(true, true);
        s.add(false, true);
        s.add(true, false);
        s.add(false, false);
        assert_eq!((s.precision(), s.recall(), s.false_positive_rate()), (0.5, 0.5, 0.5));
    }
}
