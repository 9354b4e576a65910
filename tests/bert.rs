//! The `bert` feature end to end: the rust-bert sentence encoders on the offline models (English
//! all-MiniLM-L6-v2, Chinese m3e-small), the dense head and the blend with the default classifier.
//!
//! Needs `eval "$(scripts/ensure-libtorch.sh)"` (libtorch, FRESHBOT_BERT_MODEL_DIR and
//! FRESHBOT_BERT_MODEL_DIR_ZH). Without a model folder its tests print why and pass, unless
//! FRESHBOT_REQUIRE_BERT=1 (as in `.ci/run`), where a missing model fails.

#![allow(clippy::unwrap_used)] // test helpers panic on broken fixtures, which is the point

use std::path::Path;
use std::sync::{Arc, OnceLock};

use freshbot::nlu::bert::{BertEncoder, MODEL_DIR_ENV, MODEL_DIR_ZH_ENV};
use freshbot::nlu::{
    BlendedModel, ByLanguage, DenseConfig, Example, Nlu, NluConfig, SentenceEncoder, TrainConfig,
    demo_catalog, embedded_examples, parse_tsv,
};

/// The model folder the variable `var` names, loaded once per variable.
fn load(
    var: &'static str,
    slot: &'static OnceLock<Option<Arc<BertEncoder>>>,
) -> Option<Arc<BertEncoder>> {
    slot.get_or_init(|| {
        let Some(dir) = std::env::var_os(var) else {
            let why = format!("{var} is not set: run `eval \"$(scripts/ensure-libtorch.sh)\"`");
            assert!(
                std::env::var("FRESHBOT_REQUIRE_BERT").as_deref() != Ok("1"),
                "FRESHBOT_REQUIRE_BERT=1 but {why}"
            );
            eprintln!("skipping: {why}");
            return None;
        };
        Some(Arc::new(
            BertEncoder::load(Path::new(&dir)).expect("the model folder loads"),
        ))
    })
    .clone()
}

/// The English model (all-MiniLM-L6-v2 from scripts/ensure-libtorch.sh).
fn encoder() -> Option<Arc<BertEncoder>> {
    static ENCODER: OnceLock<Option<Arc<BertEncoder>>> = OnceLock::new();
    load(MODEL_DIR_ENV, &ENCODER)
}

/// The Chinese model (m3e-small from scripts/ensure-libtorch.sh).
fn encoder_zh() -> Option<Arc<BertEncoder>> {
    static ENCODER: OnceLock<Option<Arc<BertEncoder>>> = OnceLock::new();
    load(MODEL_DIR_ZH_ENV, &ENCODER)
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb).max(1e-9)
}

#[test]
fn paraphrases_land_closer_than_unrelated_sentences() {
    let Some(enc) = encoder() else { return };
    // The sentence-transformers documentation's own example pair and a distractor.
    let v = enc
        .encode(&[
            "A man is eating food.",
            "A man is eating a piece of bread.",
            "A man is riding a horse.",
        ])
        .unwrap();
    assert_eq!(v.len(), 3);
    assert_eq!(v[0].len(), 384, "all-MiniLM-L6-v2 gives 384 dimensions");
    let norm: f32 = v[0].iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!(
        (norm - 1.0).abs() < 1e-3,
        "the model normalises its vectors: {norm}"
    );
    let same = cosine(&v[0], &v[1]);
    let other = cosine(&v[0], &v[2]);
    eprintln!("food~bread {same:.4}, food~horse {other:.4}");
    assert!(
        same > 0.6 && other < 0.35,
        "food~bread {same}, food~horse {other}"
    );
}

#[test]
fn chinese_paraphrases_land_closer_than_unrelated_sentences() {
    let Some(enc) = encoder_zh() else { return };
    let v = enc
        .encode(&["我要两斤西红柿", "帮我买二斤番茄", "明天北京天气怎么样"])
        .unwrap();
    assert_eq!(v[0].len(), 512, "m3e-small gives 512 dimensions");
    let same = cosine(&v[0], &v[1]);
    let other = cosine(&v[0], &v[2]);
    eprintln!("西红柿~番茄 {same:.4}, 西红柿~天气 {other:.4}");
    assert!(same > other + 0.1, "paraphrase {same}, unrelated {other}");
}

#[test]
fn hostile_input_is_encoded_without_panicking() {
    for enc in [encoder(), encoder_zh()] {
        let Some(enc) = enc else { continue };
        hostile_input_for(enc.as_ref());
    }
}

fn hostile_input_for(enc: &dyn SentenceEncoder) {
    let long = "tomatoes ".repeat(1200);
    let long_zh = "西红柿".repeat(4000);
    let texts = [
        "",
        "🍅🍅🍅",
        "\u{0}\u{7}\t\r\n",
        "<script>alert(1)</script>",
        "'; DROP TABLE orders; --",
        long.as_str(),
        long_zh.as_str(),
    ];
    let v = enc.encode(&texts).unwrap();
    assert_eq!(v.len(), texts.len());
    let d = v[0].len();
    assert!(
        v.iter()
            .all(|x| x.len() == d && x.iter().all(|f| f.is_finite())),
        "{}",
        enc.name()
    );
}

/// A deterministic slice of CLINC150: the first `per_intent` examples of the first `intents`
/// labels of a split (train for fitting, valid for scoring; the test split stays untouched).
fn clinc(split: &str, intents: usize, per_intent: usize) -> Option<Vec<Example>> {
    let text = freshbot::shared_data::read(&format!("nlu/clinc150/{split}.tsv"))?;
    let all = parse_tsv(split, &text).unwrap();
    let mut labels: Vec<&str> = all
        .iter()
        .map(|e| e.label.as_str())
        .filter(|l| *l != "oos")
        .collect();
    labels.sort();
    labels.dedup();
    labels.truncate(intents);
    let mut out = Vec::new();
    for l in labels {
        out.extend(
            all.iter()
                .filter(|e| e.label == l)
                .take(per_intent)
                .cloned(),
        );
    }
    Some(out)
}

#[test]
fn dense_head_and_blend_learn_a_public_intent_set() {
    let Some(enc) = encoder() else { return };
    let (Some(train), Some(valid)) = (clinc("train", 25, 30), clinc("valid", 25, 20)) else {
        return;
    };
    let cfg = TrainConfig {
        calibration_folds: 0,
        ..TrainConfig::default()
    };
    let blend = BlendedModel::train(&train, enc.clone(), &cfg, &DenseConfig::default()).unwrap();
    let texts: Vec<&str> = valid.iter().map(|e| e.text.as_str()).collect();
    let vectors = blend.encode(&texts, 64).unwrap();
    let acc = |f: &dyn Fn(usize) -> usize| {
        (0..valid.len())
            .filter(|&i| blend.labels()[f(i)] == valid[i].label)
            .count() as f64
            / valid.len() as f64
    };
    let dense = acc(&|i| blend.dense_predict(&vectors[i]).0);
    let both = acc(&|i| blend.predict_with(texts[i], &vectors[i]).0);
    let sparse = (0..valid.len())
        .filter(|&i| blend.sparse().predict(texts[i]).0 == valid[i].label)
        .count() as f64
        / valid.len() as f64;
    eprintln!(
        "CLINC150 25 intents x 30: default {sparse:.3} dense {dense:.3} blend {both:.3} weights {:?}",
        blend.weights()
    );
    // Sentence embeddings shine with few examples per intent: the dense head alone must beat
    // the n-gram model here, and the blend must not be worse than the better of the two by
    // more than noise.
    assert!(dense > sparse, "dense {dense} vs default {sparse}");
    assert!(both >= dense.max(sparse) - 0.02, "blend {both}");
}

#[test]
fn shipped_nlu_with_bert_keeps_the_held_out_accuracy() {
    let Some(enc) = encoder() else { return };
    let nlu = shipped_with(enc);
    let blend = nlu.blend().unwrap();
    // The offline model is English-only: on Chinese the held-out fifth must keep the weight on
    // the default model.
    assert!(blend.weights().zh >= 0.8, "{:?}", blend.weights());
    let accuracy = held_out_accuracy(&nlu);
    eprintln!(
        "held-out accuracy with bert: {accuracy:.4} weights {:?}",
        blend.weights()
    );
    assert!(accuracy >= 0.93, "{accuracy}");
    for text in ["", "🍅", &"x".repeat(10_000)] {
        let (intent, ranking) = nlu.classify(text);
        assert!(!intent.name.is_empty() && !ranking.is_empty());
    }
}

/// The shipped NLU (trained on `intents/`) blended with `encoder`, as `serve` builds it.
fn shipped_with(encoder: Arc<dyn SentenceEncoder>) -> Nlu {
    Nlu::train_with_encoder(
        &embedded_examples().unwrap(),
        demo_catalog().unwrap(),
        NluConfig::default(),
        encoder,
        &DenseConfig::default(),
    )
    .unwrap()
}

/// Accuracy on the team's held-out intent set (tests/data/nlu_intents_test.tsv, zh and en).
fn held_out_accuracy(nlu: &Nlu) -> f64 {
    let test = parse_tsv(
        "nlu_intents_test.tsv",
        include_str!("data/nlu_intents_test.tsv"),
    )
    .unwrap();
    let right = test
        .iter()
        .filter(|e| nlu.classify(&e.text).0.name == e.label)
        .count();
    right as f64 / test.len() as f64
}

/// A split of the public Chinese SMP2019 set (train for fitting, valid for scoring; the test
/// split stays untouched).
fn smp2019(split: &str) -> Option<Vec<Example>> {
    let text = freshbot::shared_data::read(&format!("nlu/smp2019/{split}.tsv"))?;
    Some(parse_tsv(split, &text).unwrap())
}

#[test]
fn the_chinese_encoder_carries_the_blend_on_a_public_chinese_set() {
    let (Some(en), Some(zh)) = (encoder(), encoder_zh()) else {
        return;
    };
    let (Some(train), Some(valid)) = (smp2019("train"), smp2019("valid")) else {
        return;
    };
    let enc = Arc::new(ByLanguage::new(en, zh).unwrap());
    let cfg = TrainConfig {
        calibration_folds: 0,
        ..TrainConfig::default()
    };
    let blend = BlendedModel::train(&train, enc, &cfg, &DenseConfig::default()).unwrap();
    let texts: Vec<&str> = valid.iter().map(|e| e.text.as_str()).collect();
    let vectors = blend.encode(&texts, 64).unwrap();
    let acc = |f: &dyn Fn(usize) -> bool| {
        (0..valid.len()).filter(|&i| f(i)).count() as f64 / valid.len() as f64
    };
    let label = |i: usize| blend.labels()[i].as_str();
    let dense = acc(&|i| label(blend.dense_predict(&vectors[i]).0) == valid[i].label);
    let both = acc(&|i| label(blend.predict_with(texts[i], &vectors[i]).0) == valid[i].label);
    let sparse = acc(&|i| blend.sparse().predict(texts[i]).0 == valid[i].label);
    eprintln!(
        "SMP2019 valid: default {sparse:.4} dense {dense:.4} blend {both:.4} weights {:?}",
        blend.weights()
    );
    // With the English-only model the dense head scored 58.5% on SMP2019 (docs/benchmarks.md);
    // a Chinese encoder must make it a real second opinion, and the held-out fifth must give it
    // weight on Chinese.
    assert!(dense > 0.80, "dense {dense}");
    assert!(blend.weights().zh < 1.0, "{:?}", blend.weights());
    assert!(both >= sparse - 0.02, "blend {both} vs default {sparse}");
}

#[test]
fn shipped_nlu_with_both_encoders_keeps_the_held_out_accuracy() {
    let (Some(en), Some(zh)) = (encoder(), encoder_zh()) else {
        return;
    };
    let nlu = shipped_with(Arc::new(ByLanguage::new(en, zh).unwrap()));
    let accuracy = held_out_accuracy(&nlu);
    eprintln!(
        "held-out accuracy with both encoders: {accuracy:.4} weights {:?}",
        nlu.blend().unwrap().weights()
    );
    assert!(accuracy >= 0.93, "{accuracy}");
    for text in ["", "🍅", "西红柿", &"西".repeat(10_000)] {
        let (intent, ranking) = nlu.classify(text);
        assert!(!intent.name.is_empty() && !ranking.is_empty());
    }
}
