//! Natural-language understanding: intent classification and entity extraction for Chinese and
//! English customer messages.
//!
//! Pure: no clock (callers pass `now`), no files or network (training data and the demo catalog
//! are compiled in or passed as text). The dialog layer calls:
//!
//! ```no_run
//! # fn main() -> Result<(), freshbot::nlu::NluError> {
//! use freshbot::nlu::Nlu;
//! let nlu = Nlu::from_embedded()?; // trains from intents/ (~1 s in release)
//! let now = chrono::DateTime::parse_from_rfc3339("2026-11-24T09:30:00+08:00").unwrap_or_default();
//! let parse = nlu.parse("我要两斤西红柿,明天上午送", now);
//! assert_eq!(parse.intent.name, "order");
//! # Ok(()) }
//! ```
//!
//! See `docs/nlu.md` for the design and `docs/benchmarks.md` for measurements.

#[cfg(feature = "bert")]
pub mod bert;
pub mod catalog;
pub mod classifier;
pub mod embedding;
pub mod entities;
pub mod features;
pub mod numerals;
pub mod parse;
pub mod text;
pub mod training_data;

pub use catalog::{demo_catalog, parse_catalog_csv};
pub use classifier::{Classifier, CvPrediction, Example, Loss, TrainConfig};
pub use embedding::{
    BlendWeights, BlendedModel, ByLanguage, DenseConfig, DenseHead, SentenceEncoder,
};
pub use entities::product::{ProductEntry, ProductLexicon};
pub use entities::quantity::Unit;
pub use parse::{Entity, IntentScore, Item, Nlu, NluConfig, Parse, TimeWindow};
pub use text::Lang;
pub use training_data::parse_tsv;

/// The intent labels the rest of freshbot relies on.
pub const INTENTS: &[&str] = &[
    "greet",
    "goodbye",
    "thanks",
    "affirm",
    "deny",
    "order",
    "modify_order",
    "track",
    "reschedule",
    "change_address",
    "cancel",
    "substitute",
    "check_stock",
    "recommend",
    "complaint",
    "human",
    "faq_refund",
    "faq_delivery_area",
    "faq_delivery_fee",
    "faq_payment",
    "faq_hours",
    "membership",
    "out_of_scope",
];

/// The label given to messages the bot should not handle, and the fallback below the threshold.
pub const OUT_OF_SCOPE: &str = "out_of_scope";

/// Errors of the NLU module.
#[derive(Debug, thiserror::Error)]
pub enum NluError {
    /// Training data could not be read (file name and cause in the message).
    #[error("training data: {0}")]
    TrainingData(String),
    /// A classifier needs at least two labels.
    #[error("need at least two intent labels to train, found {0}")]
    TooFewLabels(usize),
    /// The product catalog could not be read.
    #[error("catalog: {0}")]
    Catalog(String),
    /// The sentence encoder (`bert` feature) could not be loaded or failed on a text.
    #[error("sentence encoder: {0}")]
    Encoder(String),
}

/// The training files compiled into the binary (`intents/**/*.yml`, see `build.rs`).
pub mod embedded {
    include!(concat!(env!("OUT_DIR"), "/intents_embedded.rs"));
}

/// The model `serve`, `chat` and `nlu parse` use: trained from `intents/`, and with the `bert`
/// feature blended with the sentence encoders in `FRESHBOT_BERT_MODEL_DIR` and
/// `FRESHBOT_BERT_MODEL_DIR_ZH` when either is set ([`bert::encoder_from_env`]; a folder that
/// cannot be loaded is an error, not a silent fallback).
pub fn shipped_nlu() -> Result<Nlu, NluError> {
    #[cfg(feature = "bert")]
    if bert::configured() {
        let encoder = bert::encoder_from_env()?;
        return Nlu::train_with_encoder(
            &embedded_examples()?,
            demo_catalog()?,
            NluConfig::default(),
            encoder,
            &DenseConfig::default(),
        );
    }
    Nlu::from_embedded()
}

/// The training examples compiled in from `intents/`.
pub fn embedded_examples() -> Result<Vec<Example>, NluError> {
    training_data::parse_rasa_files(embedded::INTENT_FILES.iter().copied())
}
