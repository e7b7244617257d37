use std::collections::{HashMap, HashSet};

/// The usual reciprocal-rank-fusion constant (Cormack, Clarke & Büttcher 2009).
pub const RRF_K0: f32 = 60.0;

/// Reciprocal rank fusion of several rankings of chunk ids (each best first):
/// `score(id) = Σ weight / (k0 + rank)` with 1-based ranks, over the rankings that
/// contain the id. A non-finite or negative `k0` falls back to [`RRF_K0`]. An id
/// repeated within one ranking counts only at its first (best) position.
///
/// Returns at most `limit` `(id, score)` pairs, best first; ties go to the id with the
/// better single rank, then to the smaller id, so the order is deterministic.
pub fn rrf(rankings: &[(&[i64], f32)], k0: f32, limit: usize) -> Vec<(i64, f32)> {
    let k0 = if k0.is_finite() && k0 >= 0.0 { k0 } else { RRF_K0 };
    // id -> (score, best rank)
    let mut acc: HashMap<i64, (f32, usize)> = HashMap::new();
    let mut seen: HashSet<i64> = HashSet::new();
    for (ranking, weight) in rankings {
        if !weight.is_finite() {
            continue;
        }
        seen.clear();
        for (i, &id) in ranking.iter().enumerate() {
            if !seen.insert(id) {
                continue;
            }
            let rank = i + 1;
            let e = acc.entry(id).or_insert((0.0, usize::MAX));
            e.0 += weight / (k0 + rank as f32);
            e.1 = e.1.min(rank);
        }
    }
    let mut out: Vec<(i64, f32, usize)> = acc.into_iter().map(|(id, (s, r))| (id, s, r)).collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.2.cmp(&b.2)).then(a.0.cmp(&b.0)));
    out.truncate(limit);
    out.into_iter().map(|(id, s, _)| (id, s)).collect()
}
