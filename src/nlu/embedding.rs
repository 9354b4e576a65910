//! Sentence embeddings as a second intent model, blended with the default sparse classifier.
//!
//! A [`SentenceEncoder`] turns utterances into dense vectors (the `bert` feature provides one
//! backed by rust-bert; tests use a tiny deterministic one). A [`DenseHead`] is a multinomial
//! logistic regression on those vectors. [`BlendedModel`] trains both the sparse
//! [`Classifier`] and the head, and mixes their calibrated probabilities:
//! `p = w * p_sparse + (1 - w) * p_dense`, with one weight `w` per language chosen on a
//! held-out fifth of the training data. Per language, because an encoder is often good at one
//! language only: the English all-MiniLM-L6-v2 turns Chinese into mostly `[UNK]`, and the
//! validation set says so by picking `w = 1`. [`ByLanguage`] gives each language its own
//! encoder (all-MiniLM for English, m3e-small for Chinese) behind the one trait.
//!
//! Everything here is pure and deterministic given the data, the encoder and the seeds.

use std::sync::Arc;

use super::NluError;
use super::classifier::{
    Classifier, Example, TrainConfig, XorShift, argmax, fit_temperature, fold_assignment,
    softmax_in_place,
};
use super::text::{Lang, detect_lang};

/// Turns utterances into fixed-size vectors. Implementations must be deterministic.
pub trait SentenceEncoder: Send + Sync {
    /// A short name for reports, e.g. `all-MiniLM-L6-v2`.
    fn name(&self) -> &str;
    /// One vector per text, all of the same length.
    fn encode(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, NluError>;
}

/// One encoder per language behind one [`SentenceEncoder`]: English texts go to `en`, texts with
/// Han characters to `zh` (the same [`detect_lang`] rule as the blend weights). The vector is
/// the two spaces side by side, `[en | zh]`, with the other language's part zero, so one linear
/// head learns separate weights for each language's encoder and vectors keep one length.
pub struct ByLanguage {
    en: Arc<dyn SentenceEncoder>,
    zh: Arc<dyn SentenceEncoder>,
    en_dim: usize,
    zh_dim: usize,
    name: String,
}

impl ByLanguage {
    /// Routes by language; encodes one short text with each encoder to learn its dimension.
    pub fn new(
        en: Arc<dyn SentenceEncoder>,
        zh: Arc<dyn SentenceEncoder>,
    ) -> Result<Self, NluError> {
        let dim = |e: &dyn SentenceEncoder, probe: &str| -> Result<usize, NluError> {
            let v = encode_all(e, &[probe], 1)?;
            v.first().map(Vec::len).ok_or_else(|| {
                NluError::Encoder(format!("{} returned no vector for a probe text", e.name()))
            })
        };
        let en_dim = dim(en.as_ref(), "hello")?;
        let zh_dim = dim(zh.as_ref(), "你好")?;
        let name = format!("{} (en) + {} (zh)", en.name(), zh.name());
        Ok(Self {
            en,
            zh,
            en_dim,
            zh_dim,
            name,
        })
    }
}

impl SentenceEncoder for ByLanguage {
    fn name(&self) -> &str {
        &self.name
    }

    fn encode(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, NluError> {
        let mut out = vec![vec![0f32; self.en_dim + self.zh_dim]; texts.len()];
        for (lang, encoder, at, dim) in [
            (Lang::En, &self.en, 0, self.en_dim),
            (Lang::Zh, &self.zh, self.en_dim, self.zh_dim),
        ] {
            let idx: Vec<usize> = (0..texts.len())
                .filter(|&i| detect_lang(texts[i]) == lang)
                .collect();
            if idx.is_empty() {
                continue;
            }
            let part: Vec<&str> = idx.iter().map(|&i| texts[i]).collect();
            let vectors = encode_all(encoder.as_ref(), &part, part.len())?;
            for (&i, v) in idx.iter().zip(vectors) {
                if v.len() != dim {
                    return Err(NluError::Encoder(format!(
                        "{} returned {} dimensions, {} before",
                        encoder.name(),
                        v.len(),
                        dim
                    )));
                }
                out[i][at..at + dim].copy_from_slice(&v);
            }
        }
        Ok(out)
    }
}

/// Hyper-parameters of the dense head.
#[derive(Debug, Clone, PartialEq)]
pub struct DenseConfig {
    /// Passes over the training data.
    pub epochs: usize,
    /// AdaGrad base learning rate.
    pub learning_rate: f32,
    /// L2 penalty per example.
    pub l2: f32,
    /// Seed of the example order.
    pub seed: u64,
    /// Texts encoded per call to the encoder.
    pub batch: usize,
}

impl Default for DenseConfig {
    fn default() -> Self {
        Self {
            epochs: 40,
            learning_rate: 0.05,
            l2: 1e-4,
            seed: 0xbe27_5eed,
            batch: 64,
        }
    }
}

/// Multinomial logistic regression on standardised sentence vectors.
#[derive(Debug, Clone)]
pub struct DenseHead {
    mean: Vec<f32>,
    inv_std: Vec<f32>,
    /// Row-major `[class][dim]`.
    weights: Vec<f32>,
    bias: Vec<f32>,
    temperature: f32,
}

impl DenseHead {
    /// Trains on vectors `x` with class indices `y` in `0..k`.
    pub fn train(x: &[Vec<f32>], y: &[usize], k: usize, cfg: &DenseConfig) -> Self {
        let d = x.first().map_or(0, Vec::len);
        let n = x.len().max(1) as f32;
        let mut mean = vec![0f32; d];
        for v in x {
            for (m, a) in mean.iter_mut().zip(v) {
                *m += a / n;
            }
        }
        let mut var = vec![0f32; d];
        for v in x {
            for ((s, a), m) in var.iter_mut().zip(v).zip(&mean) {
                *s += (a - m) * (a - m) / n;
            }
        }
        let inv_std: Vec<f32> = var.iter().map(|v| 1.0 / (v.sqrt() + 1e-6)).collect();
        let mut head = Self {
            mean,
            inv_std,
            weights: vec![0f32; k * d],
            bias: vec![0f32; k],
            temperature: 1.0,
        };
        let rows: Vec<Vec<f32>> = x.iter().map(|v| head.standardise(v)).collect();
        head.fit(&rows, y, k, d, cfg);
        head
    }

    fn standardise(&self, v: &[f32]) -> Vec<f32> {
        v.iter()
            .zip(&self.mean)
            .zip(&self.inv_std)
            .map(|((a, m), s)| (a - m) * s)
            .collect()
    }

    /// AdaGrad SGD on the softmax cross-entropy with Polyak averaging, as the sparse model.
    fn fit(&mut self, rows: &[Vec<f32>], y: &[usize], k: usize, d: usize, cfg: &DenseConfig) {
        const EPS: f32 = 1e-6;
        let mut g2 = vec![0f32; k * d];
        let mut gb = vec![0f32; k];
        let mut avg_w = vec![0f32; k * d];
        let mut avg_b = vec![0f32; k];
        let mut order: Vec<usize> = (0..rows.len()).collect();
        let mut rng = XorShift(cfg.seed | 1);
        let mut z = vec![0f32; k];
        let mut steps = 0f32;
        for _ in 0..cfg.epochs {
            rng.shuffle(&mut order);
            for &i in &order {
                let row = &rows[i];
                self.logits_into(row, &mut z);
                softmax_in_place(&mut z);
                z[y[i]] -= 1.0;
                for c in 0..k {
                    let ws = &mut self.weights[c * d..(c + 1) * d];
                    let gs = &mut g2[c * d..(c + 1) * d];
                    let err = z[c];
                    for ((w, g), &xv) in ws.iter_mut().zip(gs.iter_mut()).zip(row) {
                        let grad = err * xv + cfg.l2 * *w;
                        *g += grad * grad;
                        *w -= cfg.learning_rate * grad / (*g + EPS).sqrt();
                    }
                    gb[c] += err * err;
                    self.bias[c] -= cfg.learning_rate * err / (gb[c] + EPS).sqrt();
                }
            }
            // Averaging once per pass (not per step) is enough to smooth the last passes and
            // costs k*d per pass instead of per example.
            steps += 1.0;
            for (a, w) in avg_w.iter_mut().zip(&self.weights) {
                *a += (w - *a) / steps;
            }
            for (a, b) in avg_b.iter_mut().zip(&self.bias) {
                *a += (b - *a) / steps;
            }
        }
        if steps > 0.0 {
            self.weights = avg_w;
            self.bias = avg_b;
        }
    }

    fn logits_into(&self, row: &[f32], z: &mut [f32]) {
        let d = row.len();
        for (c, zc) in z.iter_mut().enumerate() {
            let ws = &self.weights[c * d..(c + 1) * d];
            *zc = self.bias[c] + ws.iter().zip(row).map(|(w, x)| w * x).sum::<f32>();
        }
    }

    fn logits(&self, v: &[f32]) -> Vec<f32> {
        let mut z = vec![0f32; self.bias.len()];
        if v.len() == self.mean.len() {
            self.logits_into(&self.standardise(v), &mut z);
        }
        z
    }

    /// Calibrated class probabilities of one vector (uniform if its length is wrong).
    pub fn probabilities(&self, v: &[f32]) -> Vec<f32> {
        let mut z = self.logits(v);
        z.iter_mut().for_each(|x| *x /= self.temperature);
        softmax_in_place(&mut z);
        z
    }

    /// The softmax temperature (1.0 until calibrated).
    pub fn temperature(&self) -> f32 {
        self.temperature
    }
}

/// Weight of the sparse model in the blend, per language (the rest goes to the dense head).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlendWeights {
    /// For messages with Han characters.
    pub zh: f32,
    /// For all other messages.
    pub en: f32,
}

impl BlendWeights {
    fn of(&self, lang: Lang) -> f32 {
        match lang {
            Lang::Zh => self.zh,
            Lang::En => self.en,
        }
    }
}

/// Accuracy of each model on the held-out fifth that chose the weights.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ValidationReport {
    /// Held-out examples.
    pub n: usize,
    /// Sparse model alone.
    pub sparse_accuracy: f64,
    /// Dense head alone.
    pub dense_accuracy: f64,
    /// The blend with the chosen weights.
    pub blend_accuracy: f64,
}

/// The sparse classifier and a dense head over an encoder, mixed per language.
#[derive(Clone)]
pub struct BlendedModel {
    sparse: Classifier,
    head: DenseHead,
    encoder: Arc<dyn SentenceEncoder>,
    weights: BlendWeights,
    validation: ValidationReport,
}

impl std::fmt::Debug for BlendedModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlendedModel")
            .field("encoder", &self.encoder.name())
            .field("weights", &self.weights)
            .field("validation", &self.validation)
            .finish_non_exhaustive()
    }
}

/// Encodes `texts` in batches of `batch`.
pub fn encode_all(
    encoder: &dyn SentenceEncoder,
    texts: &[&str],
    batch: usize,
) -> Result<Vec<Vec<f32>>, NluError> {
    let mut out = Vec::with_capacity(texts.len());
    for chunk in texts.chunks(batch.max(1)) {
        let v = encoder.encode(chunk)?;
        if v.len() != chunk.len() {
            return Err(NluError::Encoder(format!(
                "{} returned {} vectors for {} texts",
                encoder.name(),
                v.len(),
                chunk.len()
            )));
        }
        out.extend(v);
    }
    if let Some(d) = out.first().map(Vec::len)
        && (d == 0 || out.iter().any(|v| v.len() != d))
    {
        return Err(NluError::Encoder(format!(
            "{} returned vectors of different or zero length",
            encoder.name()
        )));
    }
    Ok(out)
}

fn log_probs(p: &[f32]) -> Vec<f32> {
    p.iter().map(|v| v.max(1e-12).ln()).collect()
}

fn with_temperature(logp: &[f32], t: f32) -> Vec<f32> {
    let mut z: Vec<f32> = logp.iter().map(|v| v / t).collect();
    softmax_in_place(&mut z);
    z
}

fn mix(w: f32, sparse: &[f32], dense: &[f32]) -> Vec<f32> {
    sparse
        .iter()
        .zip(dense)
        .map(|(s, d)| w * s + (1.0 - w) * d)
        .collect()
}

impl BlendedModel {
    /// Trains both models on `examples` and chooses the blend weights on a held-out fifth.
    ///
    /// The sparse model is trained twice (on four fifths to choose the weights, then on all),
    /// the texts are encoded once.
    pub fn train(
        examples: &[Example],
        encoder: Arc<dyn SentenceEncoder>,
        sparse_cfg: &TrainConfig,
        dense_cfg: &DenseConfig,
    ) -> Result<Self, NluError> {
        let mut labels: Vec<String> = examples.iter().map(|e| e.label.clone()).collect();
        labels.sort();
        labels.dedup();
        if labels.len() < 2 {
            return Err(NluError::TooFewLabels(labels.len()));
        }
        let k = labels.len();
        let y: Vec<usize> = examples
            .iter()
            .map(|e| labels.binary_search(&e.label).unwrap_or(0))
            .collect();
        let texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
        let vectors = encode_all(encoder.as_ref(), &texts, dense_cfg.batch)?;

        // Hold out one stratified fifth (labels with a single example stay in training).
        let fold = fold_assignment(&y, k, 5, dense_cfg.seed);
        let mut count = vec![0usize; k];
        y.iter().for_each(|&c| count[c] += 1);
        let held: Vec<bool> = (0..examples.len())
            .map(|i| fold[i] == 0 && count[y[i]] >= 2)
            .collect();
        let fit_idx: Vec<usize> = (0..examples.len()).filter(|&i| !held[i]).collect();
        let val_idx: Vec<usize> = (0..examples.len()).filter(|&i| held[i]).collect();

        let (weights, dense_t, validation) = if val_idx.is_empty() {
            (
                BlendWeights { zh: 1.0, en: 1.0 },
                1.0,
                ValidationReport::default(),
            )
        } else {
            let fit_ex: Vec<Example> = fit_idx.iter().map(|&i| examples[i].clone()).collect();
            let split_sparse = Classifier::train(
                &fit_ex,
                &TrainConfig {
                    calibration_folds: 0,
                    ..sparse_cfg.clone()
                },
            )?;
            // The split model may have fewer labels than the whole set: map by name.
            let sparse_map: Vec<Option<usize>> = labels
                .iter()
                .map(|l| split_sparse.labels().iter().position(|s| s == l))
                .collect();
            let fit_x: Vec<Vec<f32>> = fit_idx.iter().map(|&i| vectors[i].clone()).collect();
            let fit_y: Vec<usize> = fit_idx.iter().map(|&i| y[i]).collect();
            let split_head = DenseHead::train(&fit_x, &fit_y, k, dense_cfg);
            let val_y: Vec<usize> = val_idx.iter().map(|&i| y[i]).collect();
            let sparse_logp: Vec<Vec<f32>> = val_idx
                .iter()
                .map(|&i| {
                    let p = split_sparse.probabilities(&examples[i].text);
                    let full: Vec<f32> = sparse_map
                        .iter()
                        .map(|m| m.and_then(|j| p.get(j).copied()).unwrap_or(0.0))
                        .collect();
                    log_probs(&full)
                })
                .collect();
            let dense_logits: Vec<Vec<f32>> = val_idx
                .iter()
                .map(|&i| split_head.logits(&vectors[i]))
                .collect();
            let t_sparse = fit_temperature(&sparse_logp, &val_y);
            let t_dense = fit_temperature(&dense_logits, &val_y);
            let ps: Vec<Vec<f32>> = sparse_logp
                .iter()
                .map(|z| with_temperature(z, t_sparse))
                .collect();
            let pd: Vec<Vec<f32>> = dense_logits
                .iter()
                .map(|z| with_temperature(z, t_dense))
                .collect();
            let langs: Vec<Lang> = val_idx
                .iter()
                .map(|&i| detect_lang(&examples[i].text))
                .collect();
            let correct = |w: &dyn Fn(Lang) -> f32, j: usize| -> bool {
                argmax(&mix(w(langs[j]), &ps[j], &pd[j])).0 == val_y[j]
            };
            let choose = |lang: Lang| -> f32 {
                let members: Vec<usize> =
                    (0..val_idx.len()).filter(|&j| langs[j] == lang).collect();
                if members.is_empty() {
                    return 1.0;
                }
                // Grid from w = 1 down, so ties keep the heavier sparse weight.
                let mut best = (0usize, 1.0f32);
                for step in (0..=10).rev() {
                    let w = step as f32 / 10.0;
                    let hits = members.iter().filter(|&&j| correct(&|_| w, j)).count();
                    if hits > best.0 {
                        best = (hits, w);
                    }
                }
                best.1
            };
            let weights = BlendWeights {
                zh: choose(Lang::Zh),
                en: choose(Lang::En),
            };
            let n = val_idx.len();
            let acc =
                |f: &dyn Fn(usize) -> bool| (0..n).filter(|&j| f(j)).count() as f64 / n as f64;
            let validation = ValidationReport {
                n,
                sparse_accuracy: acc(&|j| argmax(&ps[j]).0 == val_y[j]),
                dense_accuracy: acc(&|j| argmax(&pd[j]).0 == val_y[j]),
                blend_accuracy: acc(&|j| correct(&|l| weights.of(l), j)),
            };
            (weights, t_dense, validation)
        };

        let sparse = Classifier::train(examples, sparse_cfg)?;
        let mut head = DenseHead::train(&vectors, &y, k, dense_cfg);
        head.temperature = dense_t;
        Ok(Self {
            sparse,
            head,
            encoder,
            weights,
            validation,
        })
    }

    /// The labels, sorted (the same order as the sparse classifier's).
    pub fn labels(&self) -> &[String] {
        self.sparse.labels()
    }

    /// The sparse classifier inside the blend.
    pub fn sparse(&self) -> &Classifier {
        &self.sparse
    }

    /// The chosen weights of the sparse model.
    pub fn weights(&self) -> BlendWeights {
        self.weights
    }

    /// How each part did on the held-out fifth.
    pub fn validation(&self) -> ValidationReport {
        self.validation
    }

    /// The encoder's name.
    pub fn encoder_name(&self) -> &str {
        self.encoder.name()
    }

    /// Blended probabilities of every label for texts whose vectors are already known.
    pub fn probabilities_with(&self, text: &str, vector: &[f32]) -> Vec<f32> {
        let sparse = self.sparse.probabilities(text);
        let w = self.weights.of(detect_lang(text));
        if w >= 1.0 {
            return sparse;
        }
        mix(w, &sparse, &self.head.probabilities(vector))
    }

    /// Blended probabilities of every label, in [`BlendedModel::labels`] order. The encoder is
    /// only called when the message's language gives the dense head any weight.
    pub fn probabilities(&self, text: &str) -> Result<Vec<f32>, NluError> {
        if self.weights.of(detect_lang(text)) >= 1.0 {
            return Ok(self.sparse.probabilities(text));
        }
        let v = encode_all(self.encoder.as_ref(), &[text], 1)?;
        let vector = v.first().map(Vec::as_slice).unwrap_or(&[]);
        Ok(self.probabilities_with(text, vector))
    }

    /// Sentence vectors of `texts` from the blend's encoder, `batch` texts per call.
    pub fn encode(&self, texts: &[&str], batch: usize) -> Result<Vec<Vec<f32>>, NluError> {
        encode_all(self.encoder.as_ref(), texts, batch)
    }

    /// The blend's prediction (label index, probability) for a text and its vector.
    pub fn predict_with(&self, text: &str, vector: &[f32]) -> (usize, f32) {
        argmax(&self.probabilities_with(text, vector))
    }

    /// The dense head's own prediction for a vector (for reports).
    pub fn dense_predict(&self, vector: &[f32]) -> (usize, f32) {
        argmax(&self.head.probabilities(vector))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic toy encoder: hashed bag of lowercase words into 32 buckets. Good enough
    /// to separate word-level classes and to run the whole blend without rust-bert.
    struct BagOfWords;

    impl SentenceEncoder for BagOfWords {
        fn name(&self) -> &str {
            "bag-of-words"
        }
        fn encode(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, NluError> {
            Ok(texts
                .iter()
                .map(|t| {
                    let mut v = vec![0f32; 32];
                    for w in t.split_whitespace().filter(|w| w.is_ascii()) {
                        let h = w
                            .to_lowercase()
                            .bytes()
                            .fold(7u32, |a, b| a.wrapping_mul(31).wrapping_add(u32::from(b)));
                        v[(h % 32) as usize] += 1.0;
                    }
                    v
                })
                .collect())
        }
    }

    /// Always fails: the blend must report it rather than panic.
    struct Broken;

    impl SentenceEncoder for Broken {
        fn name(&self) -> &str {
            "broken"
        }
        fn encode(&self, _: &[&str]) -> Result<Vec<Vec<f32>>, NluError> {
            Err(NluError::Encoder("model folder missing".into()))
        }
    }

    fn examples() -> Vec<Example> {
        let mut ex = Vec::new();
        for i in 0..12 {
            ex.push(Example::new(format!("where is my order {i}"), "track"));
            ex.push(Example::new(format!("track parcel number {i}"), "track"));
            ex.push(Example::new(
                format!("cancel the order please {i}"),
                "cancel",
            ));
            ex.push(Example::new(format!("i want to cancel {i}"), "cancel"));
            ex.push(Example::new(format!("我的订单到哪了 {i}"), "track"));
            ex.push(Example::new(format!("帮我取消订单 {i}"), "cancel"));
        }
        ex
    }

    #[test]
    fn dense_head_learns_separable_vectors() {
        let x: Vec<Vec<f32>> = (0..40)
            .map(|i| {
                let c = (i % 2) as f32;
                vec![c + 0.01 * i as f32, 1.0 - c, 0.5]
            })
            .collect();
        let y: Vec<usize> = (0..40).map(|i| i % 2).collect();
        let head = DenseHead::train(&x, &y, 2, &DenseConfig::default());
        for (v, &c) in x.iter().zip(&y) {
            assert_eq!(argmax(&head.probabilities(v)).0, c);
        }
        // A vector of the wrong length gets a uniform answer, not a panic.
        assert_eq!(head.probabilities(&[1.0]), vec![0.5, 0.5]);
    }

    #[test]
    fn blend_classifies_and_is_deterministic() -> Result<(), NluError> {
        let ex = examples();
        let enc: Arc<dyn SentenceEncoder> = Arc::new(BagOfWords);
        let a = BlendedModel::train(
            &ex,
            enc.clone(),
            &TrainConfig::default(),
            &DenseConfig::default(),
        )?;
        let b = BlendedModel::train(&ex, enc, &TrainConfig::default(), &DenseConfig::default())?;
        assert_eq!(a.weights(), b.weights());
        for text in [
            "where is my order",
            "please cancel it",
            "订单到哪了",
            "取消订单",
        ] {
            let pa = a.probabilities(text)?;
            assert_eq!(pa, b.probabilities(text)?);
            let sum: f32 = pa.iter().sum();
            assert!((sum - 1.0).abs() < 1e-4, "{text}: {sum}");
        }
        let label = |t: &str| -> Result<String, NluError> {
            let p = a.probabilities(t)?;
            Ok(a.labels()[argmax(&p).0].clone())
        };
        assert_eq!(label("where is my order")?, "track");
        assert_eq!(label("cancel the order")?, "cancel");
        assert_eq!(label("帮我取消")?, "cancel");
        let v = a.validation();
        assert!(v.n > 0 && v.blend_accuracy >= v.sparse_accuracy.min(v.dense_accuracy));
        Ok(())
    }

    #[test]
    fn weights_favour_the_better_model_per_language() -> Result<(), NluError> {
        // The encoder sees only ASCII words, so on Chinese it is blind: the Chinese weight must
        // stay on the sparse model, as with the English-only MiniLM on Chinese text.
        let ex = examples();
        let m = BlendedModel::train(
            &ex,
            Arc::new(BagOfWords),
            &TrainConfig::default(),
            &DenseConfig::default(),
        )?;
        assert_eq!(m.weights().zh, 1.0, "{:?}", m.weights());
        Ok(())
    }

    /// Encodes every text as a constant vector of `dim` values `value`, to see where it lands.
    struct Constant(usize, f32);

    impl SentenceEncoder for Constant {
        fn name(&self) -> &str {
            "constant"
        }
        fn encode(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, NluError> {
            Ok(texts.iter().map(|_| vec![self.1; self.0]).collect())
        }
    }

    #[test]
    fn by_language_puts_each_language_in_its_own_part() -> Result<(), NluError> {
        let enc = ByLanguage::new(Arc::new(Constant(2, 1.0)), Arc::new(Constant(3, 2.0)))?;
        let v = enc.encode(&["where is my order", "订单到哪了", "", "ok 好的"])?;
        assert_eq!(v[0], vec![1.0, 1.0, 0.0, 0.0, 0.0]);
        assert_eq!(v[1], vec![0.0, 0.0, 2.0, 2.0, 2.0]);
        // No Han character is English, as for the blend weights; mixed text with Han is Chinese.
        assert_eq!(v[2], vec![1.0, 1.0, 0.0, 0.0, 0.0]);
        assert_eq!(v[3], vec![0.0, 0.0, 2.0, 2.0, 2.0]);
        assert_eq!(enc.name(), "constant (en) + constant (zh)");
        Ok(())
    }

    #[test]
    fn by_language_blend_learns_chinese_from_its_own_encoder() -> Result<(), NluError> {
        // BagOfWords is blind to Chinese; routed to a Chinese-aware encoder (here the same bag
        // over characters) the Chinese side of the dense head has something to learn from.
        struct Chars;
        impl SentenceEncoder for Chars {
            fn name(&self) -> &str {
                "chars"
            }
            fn encode(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, NluError> {
                Ok(texts
                    .iter()
                    .map(|t| {
                        let mut v = vec![0f32; 16];
                        t.chars().for_each(|c| v[(c as usize) % 16] += 1.0);
                        v
                    })
                    .collect())
            }
        }
        let enc = Arc::new(ByLanguage::new(Arc::new(BagOfWords), Arc::new(Chars))?);
        let m = BlendedModel::train(
            &examples(),
            enc,
            &TrainConfig::default(),
            &DenseConfig::default(),
        )?;
        let v = m.encode(&["帮我取消订单"], 1)?;
        assert_eq!(v[0].len(), 32 + 16);
        assert_eq!(m.labels()[m.dense_predict(&v[0]).0], "cancel");
        Ok(())
    }

    #[test]
    fn by_language_reports_a_failing_encoder() {
        assert!(matches!(
            ByLanguage::new(Arc::new(BagOfWords), Arc::new(Broken)),
            Err(NluError::Encoder(_))
        ));
    }

    #[test]
    fn encoder_failure_is_an_error_not_a_panic() {
        let r = BlendedModel::train(
            &examples(),
            Arc::new(Broken),
            &TrainConfig::default(),
            &DenseConfig::default(),
        );
        assert!(matches!(r, Err(NluError::Encoder(_))));
    }
}
