use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};
use std::time::Instant;

use crate::EmbedError;

/// Below this many floats (rows × dimensions) a search runs on the calling thread only.
const PARALLEL_MIN_FLOATS: usize = 1 << 21; // ~5,500 vectors of 384
/// At most this many threads per search.
const MAX_THREADS: usize = 4;

/// Exact nearest neighbours by dot product (vectors are unit length) over an in-memory
/// matrix: all vectors in one contiguous `Vec<f32>` (n × d, row-major), chunk and source
/// ids in parallel vectors, a chunk-id → row map for upserts.
#[derive(Debug, Clone)]
pub struct VectorIndex {
    dims: usize,
    data: Vec<f32>,
    chunks: Vec<i64>,
    sources: Vec<i64>,
    rows: HashMap<i64, usize>,
}

impl VectorIndex {
    pub fn new(dimensions: usize) -> Self {
        VectorIndex {
            dims: dimensions,
            data: Vec::new(),
            chunks: Vec::new(),
            sources: Vec::new(),
            rows: HashMap::new(),
        }
    }

    /// Dimensions every vector must have.
    pub fn dimensions(&self) -> usize {
        self.dims
    }

    /// Adds or replaces the vector of `chunk_id`. A vector of the wrong length is
    /// skipped with a warning (use [`VectorIndex::try_upsert`] to get the error).
    pub fn upsert(&mut self, chunk_id: i64, source_id: i64, v: Vec<f32>) {
        if let Err(e) = self.try_upsert(chunk_id, source_id, v) {
            tracing::warn!(chunk_id, source_id, error = %e, "vector not indexed");
        }
    }

    /// Adds or replaces the vector of `chunk_id`; fails when its length is not
    /// [`VectorIndex::dimensions`].
    pub fn try_upsert(&mut self, chunk_id: i64, source_id: i64, v: Vec<f32>) -> Result<(), EmbedError> {
        if v.len() != self.dims {
            return Err(EmbedError::Dimensions { expected: self.dims, got: v.len() });
        }
        match self.rows.get(&chunk_id) {
            Some(&row) => {
                self.data[row * self.dims..(row + 1) * self.dims].copy_from_slice(&v);
                self.sources[row] = source_id;
            }
            None => {
                self.rows.insert(chunk_id, self.chunks.len());
                self.data.extend_from_slice(&v);
                self.chunks.push(chunk_id);
                self.sources.push(source_id);
            }
        }
        Ok(())
    }

    /// Removes one chunk's vector; true if it was there.
    pub fn remove_chunk(&mut self, chunk_id: i64) -> bool {
        let Some(row) = self.rows.remove(&chunk_id) else {
            return false;
        };
        // Move the last row into the hole.
        let last = self.chunks.len() - 1;
        if row != last {
            let d = self.dims;
            self.data.copy_within(last * d..(last + 1) * d, row * d);
            self.chunks[row] = self.chunks[last];
            self.sources[row] = self.sources[last];
            self.rows.insert(self.chunks[row], row);
        }
        self.data.truncate(last * self.dims);
        self.chunks.truncate(last);
        self.sources.truncate(last);
        true
    }

    /// Removes every vector of `source_id` (one compacting pass).
    pub fn remove_source(&mut self, source_id: i64) {
        let d = self.dims;
        let mut w = 0;
        for r in 0..self.chunks.len() {
            if self.sources[r] == source_id {
                self.rows.remove(&self.chunks[r]);
                continue;
            }
            if w != r {
                self.data.copy_within(r * d..(r + 1) * d, w * d);
                self.chunks[w] = self.chunks[r];
                self.sources[w] = self.sources[r];
                self.rows.insert(self.chunks[w], w);
            }
            w += 1;
        }
        self.data.truncate(w * d);
        self.chunks.truncate(w);
        self.sources.truncate(w);
    }

    /// Removes everything.
    pub fn clear(&mut self) {
        self.data.clear();
        self.chunks.clear();
        self.sources.clear();
        self.rows.clear();
    }

    pub fn len(&self) -> usize {
        self.chunks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// Whether `chunk_id` has a vector.
    pub fn contains(&self, chunk_id: i64) -> bool {
        self.rows.contains_key(&chunk_id)
    }

    /// The dot product of `chunk_id`'s vector with `query`, when it has one
    /// (and `query` has the index's length).
    pub fn similarity(&self, chunk_id: i64, query: &[f32]) -> Option<f32> {
        let row = *self.rows.get(&chunk_id)?;
        if query.len() != self.dims {
            return None;
        }
        Some(dot(&self.data[row * self.dims..(row + 1) * self.dims], query))
    }

    /// The dot product of two chunks' vectors, when both have one: how alike
    /// two passages are (a translation of a passage is close to it with a
    /// multilingual model).
    pub fn pair_similarity(&self, a: i64, b: i64) -> Option<f32> {
        let ra = *self.rows.get(&a)?;
        let rb = *self.rows.get(&b)?;
        let d = self.dims;
        Some(dot(&self.data[ra * d..(ra + 1) * d], &self.data[rb * d..(rb + 1) * d]))
    }

    /// The `k` rows with the largest dot product with `query`, best first, as
    /// `(chunk id, source id, similarity)`. Equal similarities go to the smaller chunk
    /// id. Empty when `query` has the wrong length or a non-finite value, or `k` is 0.
    pub fn search(&self, query: &[f32], k: usize) -> Vec<(i64, i64, f32)> {
        let n = self.len();
        if query.len() != self.dims || k == 0 || n == 0 {
            return Vec::new();
        }
        let threads = if n * self.dims >= PARALLEL_MIN_FLOATS {
            std::thread::available_parallelism().map_or(1, |p| p.get()).min(MAX_THREADS)
        } else {
            1
        };
        self.search_threads(query, k, threads)
    }

    /// [`VectorIndex::search`] with an explicit number of threads (1 = the caller's).
    pub fn search_threads(&self, query: &[f32], k: usize, threads: usize) -> Vec<(i64, i64, f32)> {
        let n = self.len();
        if query.len() != self.dims || k == 0 || n == 0 {
            return Vec::new();
        }
        if !query.iter().all(|x| x.is_finite()) {
            return Vec::new();
        }
        let threads = threads.clamp(1, n);
        let mut hits: Vec<Hit> = if threads == 1 {
            self.scan(query, 0, n, k)
        } else {
            let per = n.div_ceil(threads);
            std::thread::scope(|s| {
                let handles: Vec<_> = (1..threads)
                    .map(|t| {
                        let (start, end) = ((t * per).min(n), ((t + 1) * per).min(n));
                        s.spawn(move || self.scan(query, start, end, k))
                    })
                    .collect();
                let mut all = self.scan(query, 0, per.min(n), k);
                for h in handles {
                    all.extend(h.join().expect("vector search thread panicked"));
                }
                all
            })
        };
        hits.sort_by(|a, b| b.cmp(a));
        hits.truncate(k);
        hits.into_iter().map(|h| (h.chunk, self.sources[h.row], h.score)).collect()
    }

    /// Top `k` of rows `start..end`, unordered.
    fn scan(&self, q: &[f32], start: usize, end: usize, k: usize) -> Vec<Hit> {
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                // SAFETY: the CPU supports AVX2 and FMA (checked just above).
                return unsafe { self.scan_avx2(q, start, end, k) };
            }
        }
        self.scan_with(q, start, end, k, dot_portable)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn scan_avx2(&self, q: &[f32], start: usize, end: usize, k: usize) -> Vec<Hit> {
        self.scan_with(q, start, end, k, |a, b| unsafe { dot_avx2(a, b) })
    }

    #[inline(always)]
    fn scan_with<F: Fn(&[f32], &[f32]) -> f32>(
        &self,
        q: &[f32],
        start: usize,
        end: usize,
        k: usize,
        dot: F,
    ) -> Vec<Hit> {
        let d = self.dims;
        let mut heap: BinaryHeap<Reverse<Hit>> = BinaryHeap::with_capacity(k + 1);
        let mut floor = f32::NEG_INFINITY;
        for (i, row) in self.data[start * d..end * d].chunks_exact(d).enumerate() {
            let score = dot(row, q);
            if heap.len() >= k && score < floor {
                continue;
            }
            let r = start + i;
            let hit = Hit { score, chunk: self.chunks[r], row: r };
            if heap.len() < k {
                heap.push(Reverse(hit));
            } else if hit > heap.peek().expect("heap holds k hits").0 {
                heap.pop();
                heap.push(Reverse(hit));
            } else {
                continue;
            }
            if heap.len() >= k {
                floor = heap.peek().expect("heap holds k hits").0.score;
            }
        }
        heap.into_iter().map(|Reverse(h)| h).collect()
    }
}

/// A scored row; greater = better (higher score, then smaller chunk id).
#[derive(Debug, Clone, Copy)]
struct Hit {
    score: f32,
    chunk: i64,
    row: usize,
}

impl PartialEq for Hit {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Hit {}
impl PartialOrd for Hit {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Hit {
    fn cmp(&self, other: &Self) -> Ordering {
        self.score.total_cmp(&other.score).then_with(|| other.chunk.cmp(&self.chunk))
    }
}

/// Dot product, using AVX2/FMA when the CPU has them.
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports AVX2 and FMA (checked just above).
            return unsafe { dot_avx2(a, b) };
        }
    }
    dot_portable(a, b)
}

/// Eight independent accumulators so the compiler can vectorise without reassociating.
#[inline(always)]
fn dot_portable(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for j in 0..8 {
            acc[j] += x[j] * y[j];
        }
    }
    let mut s = (acc[0] + acc[4]) + (acc[1] + acc[5]) + (acc[2] + acc[6]) + (acc[3] + acc[7]);
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn dot_avx2(a: &[f32], b: &[f32]) -> f32 {
    use std::arch::x86_64::*;
    let n = a.len().min(b.len());
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut acc0 = _mm256_setzero_ps();
    let mut acc1 = _mm256_setzero_ps();
    let mut acc2 = _mm256_setzero_ps();
    let mut acc3 = _mm256_setzero_ps();
    let mut i = 0;
    // SAFETY: every load reads 8 floats at offsets < n from both slices.
    unsafe {
        while i + 32 <= n {
            acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(pa.add(i)), _mm256_loadu_ps(pb.add(i)), acc0);
            acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(pa.add(i + 8)), _mm256_loadu_ps(pb.add(i + 8)), acc1);
            acc2 = _mm256_fmadd_ps(_mm256_loadu_ps(pa.add(i + 16)), _mm256_loadu_ps(pb.add(i + 16)), acc2);
            acc3 = _mm256_fmadd_ps(_mm256_loadu_ps(pa.add(i + 24)), _mm256_loadu_ps(pb.add(i + 24)), acc3);
            i += 32;
        }
        while i + 8 <= n {
            acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(pa.add(i)), _mm256_loadu_ps(pb.add(i)), acc0);
            i += 8;
        }
        let acc = _mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3));
        let hi = _mm256_extractf128_ps(acc, 1);
        let lo = _mm256_castps256_ps128(acc);
        let s4 = _mm_add_ps(hi, lo);
        let s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
        let s1 = _mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 0x55));
        let mut s = _mm_cvtss_f32(s1);
        while i < n {
            s += *pa.add(i) * *pb.add(i);
            i += 1;
        }
        s
    }
}

/// Random unit vectors, deterministic (splitmix64 + Box–Muller).
pub(crate) fn random_unit_vectors(n: usize, d: usize, seed: u64) -> Vec<f32> {
    let mut state = seed;
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        ((z >> 11) as f64 + 0.5) / (1u64 << 53) as f64 // (0, 1)
    };
    let mut out = Vec::with_capacity(n * d);
    for _ in 0..n {
        let start = out.len();
        while out.len() < start + d {
            let (u1, u2) = (next(), next());
            let r = (-2.0 * u1.ln()).sqrt();
            let t = std::f64::consts::TAU * u2;
            out.push((r * t.cos()) as f32);
            if out.len() < start + d {
                out.push((r * t.sin()) as f32);
            }
        }
        crate::l2_normalize(&mut out[start..]);
    }
    out
}

/// Builds a [`VectorIndex`] of `n` random unit vectors of 384 dimensions and times
/// `queries` top-10 searches; returns (p50, p99) latency in milliseconds.
pub fn bench_vectors(n: usize, queries: usize) -> (f64, f64) {
    const D: usize = 384;
    let data = random_unit_vectors(n, D, 0x5EED);
    let mut index = VectorIndex::new(D);
    index.data = data;
    index.chunks = (0..n as i64).collect();
    index.sources = (0..n as i64).map(|i| i / 10).collect();
    index.rows = (0..n).map(|i| (i as i64, i)).collect();
    let qs = random_unit_vectors(queries.max(1), D, 0xC0FFEE);
    // Warm up caches and thread creation once.
    let _ = index.search(&qs[..D], 10);
    let mut times: Vec<f64> = qs
        .chunks_exact(D)
        .take(queries)
        .map(|q| {
            let t = Instant::now();
            let hits = index.search(q, 10);
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            std::hint::black_box(hits);
            ms
        })
        .collect();
    if times.is_empty() {
        return (0.0, 0.0);
    }
    times.sort_by(f64::total_cmp);
    let pick = |p: f64| times[(((times.len() - 1) as f64) * p).round() as usize];
    (pick(0.50), pick(0.99))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_matches_naive() {
        for n in [0, 1, 7, 8, 9, 31, 32, 33, 384, 1000] {
            let a = random_unit_vectors(1, n.max(1), n as u64);
            let b = random_unit_vectors(1, n.max(1), n as u64 + 99);
            let (a, b) = (&a[..n], &b[..n]);
            let naive: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
            assert!((dot(a, b) as f64 - naive).abs() < 1e-5, "n={n}");
            assert!((dot_portable(a, b) as f64 - naive).abs() < 1e-5, "n={n}");
        }
    }
}
