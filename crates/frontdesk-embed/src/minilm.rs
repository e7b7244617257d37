use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::Tokenizer;

use crate::{l2_normalize, EmbedError, Embedder};

/// The model's name, as reported by [`Embedder::name`].
pub const MINILM_NAME: &str = "all-MiniLM-L6-v2";
/// Its folder under the models directory.
pub const MINILM_DIR_NAME: &str = "all-MiniLM-L6-v2";
/// Its vector size.
pub const MINILM_DIMENSIONS: usize = 384;

/// The files `MiniLm::load` needs.
const REQUIRED: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];
/// Texts per forward pass.
const BATCH: usize = 32;
/// sentence-transformers' `max_seq_length` for this model when
/// `sentence_bert_config.json` does not say.
const DEFAULT_MAX_TOKENS: usize = 256;

/// all-MiniLM-L6-v2 with candle on the CPU: WordPiece tokens (truncated to the model's
/// `max_seq_length`, 256), BERT forward pass, mean pooling over the attention mask,
/// then L2 normalisation — as sentence-transformers does.
pub struct MiniLm {
    model: BertModel,
    tokenizer: Tokenizer,
    device: Device,
    dims: usize,
    max_tokens: usize,
    dir: PathBuf,
}

impl std::fmt::Debug for MiniLm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MiniLm")
            .field("dir", &self.dir)
            .field("dims", &self.dims)
            .field("max_tokens", &self.max_tokens)
            .finish_non_exhaustive()
    }
}

impl MiniLm {
    /// Loads `config.json`, `tokenizer.json` and `model.safetensors` from `dir`
    /// (and `sentence_bert_config.json` for the token limit when present).
    pub fn load(dir: &Path) -> Result<MiniLm, EmbedError> {
        for f in REQUIRED {
            let p = dir.join(f);
            if !p.is_file() {
                return Err(EmbedError::MissingFile { path: p });
            }
        }
        let bad = |reason: String| EmbedError::BadModel { dir: dir.to_path_buf(), reason };

        let config_path = dir.join("config.json");
        let config_text = read_to_string(&config_path)?;
        let config: Config =
            serde_json::from_str(&config_text).map_err(|e| bad(format!("config.json is not a BERT config: {e}")))?;
        if config.hidden_size == 0 || config.num_attention_heads == 0 {
            return Err(bad("config.json has hidden_size or num_attention_heads 0".into()));
        }

        let mut max_tokens = DEFAULT_MAX_TOKENS;
        let st_path = dir.join("sentence_bert_config.json");
        if st_path.is_file() {
            let v: serde_json::Value = serde_json::from_str(&read_to_string(&st_path)?)
                .map_err(|e| bad(format!("sentence_bert_config.json: {e}")))?;
            if let Some(m) = v.get("max_seq_length").and_then(|m| m.as_u64()) {
                max_tokens = m as usize;
            }
        }
        let max_tokens = max_tokens.clamp(8, config.max_position_embeddings.max(8));

        let tok_path = dir.join("tokenizer.json");
        let mut tokenizer = Tokenizer::from_file(&tok_path).map_err(|e| bad(format!("tokenizer.json: {e}")))?;
        // tokenizer.json ships fixed padding to 128 and truncation at 128; we pad per
        // batch ourselves and truncate where sentence-transformers does.
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(tokenizers::TruncationParams { max_length: max_tokens, ..Default::default() }))
            .map_err(|e| bad(format!("tokenizer truncation: {e}")))?;

        let weights_path = dir.join("model.safetensors");
        let bytes =
            std::fs::read(&weights_path).map_err(|source| EmbedError::Io { path: weights_path.clone(), source })?;
        let device = Device::Cpu;
        let vb = VarBuilder::from_buffered_safetensors(bytes, DType::F32, &device)
            .map_err(|e| bad(format!("model.safetensors: {e}")))?;
        let model = BertModel::load(vb, &config)
            .map_err(|e| bad(format!("model.safetensors does not match config.json: {e}")))?;

        let me = MiniLm { model, tokenizer, device, dims: config.hidden_size, max_tokens, dir: dir.to_path_buf() };
        // One tiny forward pass so a broken model fails here, not on the first query.
        let probe = me.embed_batch(&[me.encode_one("ok")?])?;
        if probe.first().map(Vec::len) != Some(me.dims) {
            return Err(bad("probe embedding has the wrong size".into()));
        }
        Ok(me)
    }

    /// The folder the model was loaded from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Longest input in tokens (longer texts are truncated).
    pub fn max_tokens(&self) -> usize {
        self.max_tokens
    }

    /// Number of tokens `text` becomes (including [CLS] and [SEP]), before truncation.
    pub fn count_tokens(&self, text: &str) -> Result<usize, EmbedError> {
        let mut t = self.tokenizer.clone();
        t.with_truncation(None).map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
        let enc = t.encode(text, true).map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
        Ok(enc.len())
    }

    fn encode_one(&self, text: &str) -> Result<Encoded, EmbedError> {
        let enc = self.tokenizer.encode(text, true).map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
        Ok(Encoded { ids: enc.get_ids().to_vec() })
    }

    /// One forward pass over already-tokenised texts (padded here to the longest).
    fn embed_batch(&self, batch: &[Encoded]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let b = batch.len();
        let len = batch.iter().map(|e| e.ids.len()).max().unwrap_or(0).max(1);
        let mut ids = vec![0u32; b * len];
        let mut mask = vec![0u32; b * len];
        for (i, e) in batch.iter().enumerate() {
            ids[i * len..i * len + e.ids.len()].copy_from_slice(&e.ids);
            mask[i * len..i * len + e.ids.len()].fill(1);
        }
        let ids = Tensor::from_vec(ids, (b, len), &self.device)?;
        let mask = Tensor::from_vec(mask, (b, len), &self.device)?;
        let type_ids = ids.zeros_like()?;
        let hidden = self.model.forward(&ids, &type_ids, Some(&mask))?; // (b, len, dims)
                                                                        // Mean pooling over real tokens.
        let mask_f = mask.to_dtype(DType::F32)?.unsqueeze(2)?; // (b, len, 1)
        let summed = hidden.broadcast_mul(&mask_f)?.sum(1)?; // (b, dims)
        let counts = mask_f.sum(1)?.clamp(1e-9f32, f32::MAX)?; // (b, 1)
        let pooled = summed.broadcast_div(&counts)?;
        let mut out = pooled.to_vec2::<f32>()?;
        for v in &mut out {
            l2_normalize(v);
        }
        Ok(out)
    }
}

struct Encoded {
    ids: Vec<u32>,
}

impl Embedder for MiniLm {
    fn name(&self) -> &str {
        MINILM_NAME
    }

    fn dimensions(&self) -> usize {
        self.dims
    }

    fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let encodings = self
            .tokenizer
            .encode_batch(texts.iter().map(String::as_str).collect::<Vec<_>>(), true)
            .map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
        let encoded: Vec<Encoded> = encodings.into_iter().map(|e| Encoded { ids: e.get_ids().to_vec() }).collect();
        // Batch texts of similar length together so little compute goes to padding.
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| encoded[i].ids.len());
        let mut out: Vec<Vec<f32>> = vec![Vec::new(); texts.len()];
        let mut encoded: Vec<Option<Encoded>> = encoded.into_iter().map(Some).collect();
        for group in order.chunks(BATCH) {
            let batch: Vec<Encoded> =
                group.iter().map(|&i| encoded[i].take().expect("each text is embedded once")).collect();
            let vectors = self.embed_batch(&batch)?;
            for (&i, v) in group.iter().zip(vectors) {
                out[i] = v;
            }
        }
        Ok(out)
    }
}

/// `models_dir/all-MiniLM-L6-v2` when its files are there, else `None` (the product
/// then runs BM25 only). Files that are there but do not load are logged as a warning.
pub(crate) fn load_minilm_default(models_dir: &Path) -> Option<MiniLm> {
    let dir = models_dir.join(MINILM_DIR_NAME);
    if let Some(missing) = REQUIRED.iter().map(|f| dir.join(f)).find(|p| !p.is_file()) {
        tracing::info!(
            path = %missing.display(),
            "embedding model not found; retrieval runs on BM25 only (scripts/fetch-models.sh fetches it)"
        );
        return None;
    }
    match MiniLm::load(&dir) {
        Ok(m) => Some(m),
        Err(e) => {
            tracing::warn!(dir = %dir.display(), error = %e, "embedding model present but not loadable; retrieval runs on BM25 only");
            None
        }
    }
}

fn read_to_string(path: &Path) -> Result<String, EmbedError> {
    std::fs::read_to_string(path).map_err(|source| EmbedError::Io { path: path.to_path_buf(), source })
}
