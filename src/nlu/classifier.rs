//! Multinomial logistic regression over sparse TF-IDF rows, trained in process.
//!
//! Training is AdaGrad SGD on the softmax cross-entropy with a small L2 penalty applied to the
//! weights an example touches; examples are visited in an order drawn from a fixed-seed
//! xorshift generator, so a model is a pure function of its data and [`TrainConfig`].
//! Confidences are calibrated by a temperature fitted on out-of-fold logits (k-fold
//! cross-validation over the training set), which also yields the cross-validated predictions
//! used to flag mislabelled training examples.

use super::NluError;
use super::features::{FeatureConfig, SparseRow, Vocabulary};

/// One labelled training or test example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// The utterance, entity annotations already stripped.
    pub text: String,
    /// The intent label.
    pub label: String,
}

impl Example {
    /// Builds an example from anything string-like.
    pub fn new(text: impl Into<String>, label: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            label: label.into(),
        }
    }
}

/// Hyper-parameters of the classifier.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    /// Which features to extract.
    pub features: FeatureConfig,
    /// Passes over the training data.
    pub epochs: usize,
    /// AdaGrad base learning rate.
    pub learning_rate: f32,
    /// L2 penalty on the touched weights, per example.
    pub l2: f32,
    /// Keep feature keys seen in at least this many training texts.
    pub min_df: u32,
    /// Seed of the example order.
    pub seed: u64,
    /// Folds of the cross-validation that fits the temperature; 0 or 1 skips calibration.
    pub calibration_folds: usize,
    /// Return the average of the weights over all SGD steps (Polyak-Ruppert averaging) instead
    /// of the last iterate: smoother, better-generalising weights for the same passes.
    pub average: bool,
    /// The training objective.
    pub loss: Loss,
    /// Weight decay per pass over the data: after each pass every weight (not the biases) takes
    /// the proximal step `w /= 1 + rate * decay` of the penalty `decay/2 * |w|^2` on the summed
    /// loss, `rate` being the coordinate's current AdaGrad step. Unlike `l2`, which only shrinks
    /// the weights an example touches (so rare features are barely penalised), this is the
    /// plain L2 of scikit-learn's objectives: `decay = 1/C` (0.1 for `LogisticRegression(C=10)`,
    /// 1 for `LinearSVC(C=1)`). 0 turns it off (the default).
    pub decay: f32,
}

/// What the weights are fitted to minimise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Loss {
    /// Softmax cross-entropy (multinomial logistic regression).
    #[default]
    Softmax,
    /// One-vs-rest squared hinge, the loss of scikit-learn's `LinearSVC`: each class score is
    /// pushed to +1 or below -1 and left alone beyond. Scores are still turned into
    /// probabilities by the fitted temperature.
    SquaredHinge,
    /// Both of the above trained on the same features; a prediction averages their calibrated
    /// probabilities (equal weights). Each member's temperature is fitted on out-of-fold
    /// scores, so this loss always calibrates, with at least 3 folds.
    Ensemble,
}

/// The objective of one linear model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Objective {
    Softmax,
    SquaredHinge,
}

impl Loss {
    /// The objectives of the models trained for this loss, in the order of the members.
    fn members(self) -> &'static [Objective] {
        match self {
            Self::Softmax => &[Objective::Softmax],
            Self::SquaredHinge => &[Objective::SquaredHinge],
            Self::Ensemble => &[Objective::Softmax, Objective::SquaredHinge],
        }
    }
}

impl std::str::FromStr for Loss {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "softmax" | "logistic" => Ok(Self::Softmax),
            "hinge" | "squared-hinge" => Ok(Self::SquaredHinge),
            "ensemble" => Ok(Self::Ensemble),
            other => Err(format!(
                "unknown loss {other:?}: use softmax, squared-hinge or ensemble"
            )),
        }
    }
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            features: FeatureConfig::default(),
            epochs: 30,
            learning_rate: 0.1,
            l2: 3e-6,
            min_df: 1,
            seed: 0x5eed_f00d,
            calibration_folds: 5,
            average: true,
            loss: Loss::Softmax,
            decay: 0.0,
        }
    }
}

/// A trained intent classifier.
#[derive(Debug, Clone)]
pub struct Classifier {
    vocab: Vocabulary,
    labels: Vec<String>,
    /// One linear model per loss of [`Loss::members`]; their calibrated probabilities are
    /// averaged.
    members: Vec<Member>,
}

/// One linear model over the classifier's features.
#[derive(Debug, Clone)]
struct Member {
    /// Row-major `[feature][class]`.
    weights: Vec<f32>,
    bias: Vec<f32>,
    temperature: f32,
}

/// Deterministic xorshift64* generator for shuffling.
pub(super) struct XorShift(pub(super) u64);

impl XorShift {
    pub(super) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    pub(super) fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

pub(super) fn softmax_in_place(z: &mut [f32]) {
    let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if !max.is_finite() {
        let n = z.len().max(1) as f32;
        z.iter_mut().for_each(|v| *v = 1.0 / n);
        return;
    }
    let mut sum = 0.0;
    for v in z.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    z.iter_mut().for_each(|v| *v /= sum);
}

struct Fitted {
    weights: Vec<f32>,
    bias: Vec<f32>,
}

/// Fits one linear model to minimise `loss`.
fn fit_weights(
    rows: &[SparseRow],
    y: &[usize],
    k: usize,
    n_feat: usize,
    cfg: &TrainConfig,
    loss: Objective,
) -> Fitted {
    let mut w = vec![0f32; n_feat * k];
    let mut g2 = vec![0f32; n_feat * k];
    let mut b = vec![0f32; k];
    let mut gb = vec![0f32; k];
    let mut order: Vec<usize> = (0..rows.len()).collect();
    let mut rng = XorShift(cfg.seed | 1);
    let mut z = vec![0f32; k];
    // Averaging: with u = sum of step * delta, the mean iterate is ((T + 1) w - u) / T.
    let mut u = if cfg.average {
        vec![0f32; n_feat * k]
    } else {
        Vec::new()
    };
    let mut ub = vec![0f32; k];
    let mut step = 0f32;
    const EPS: f32 = 1e-6;
    for _ in 0..cfg.epochs {
        rng.shuffle(&mut order);
        for &i in &order {
            step += 1.0;
            let row = &rows[i];
            z.copy_from_slice(&b);
            for (&j, &x) in row.idx.iter().zip(&row.val) {
                let base = j as usize * k;
                for (zc, wc) in z.iter_mut().zip(&w[base..base + k]) {
                    *zc += x * wc;
                }
            }
            loss_gradient(loss, &mut z, y[i]);
            for (&j, &x) in row.idx.iter().zip(&row.val) {
                let base = j as usize * k;
                let ws = &mut w[base..base + k];
                let gs = &mut g2[base..base + k];
                for c in 0..k {
                    let grad = z[c] * x + cfg.l2 * ws[c];
                    gs[c] += grad * grad;
                    let delta = cfg.learning_rate * grad / (gs[c] + EPS).sqrt();
                    ws[c] -= delta;
                    if let Some(uc) = u.get_mut(base + c) {
                        *uc -= step * delta;
                    }
                }
            }
            for c in 0..k {
                let grad = z[c];
                gb[c] += grad * grad;
                let delta = cfg.learning_rate * grad / (gb[c] + EPS).sqrt();
                b[c] -= delta;
                ub[c] -= step * delta;
            }
        }
        if cfg.decay > 0.0 {
            // Proximal step of (decay/2)|w|^2 at each coordinate's AdaGrad rate.
            for (i, (wv, gv)) in w.iter_mut().zip(&g2).enumerate() {
                let rate = cfg.learning_rate / (gv + EPS).sqrt();
                let shrunk = *wv / (1.0 + rate * cfg.decay);
                let delta = *wv - shrunk;
                *wv = shrunk;
                if let Some(uv) = u.get_mut(i) {
                    *uv -= step * delta;
                }
            }
        }
    }
    if cfg.average && step > 0.0 {
        for (wv, uv) in w.iter_mut().zip(&u) {
            *wv = ((step + 1.0) * *wv - uv) / step;
        }
        for (bv, uv) in b.iter_mut().zip(&ub) {
            *bv = ((step + 1.0) * *bv - uv) / step;
        }
    }
    Fitted {
        weights: w,
        bias: b,
    }
}

/// Turns the scores `z` of an example of class `yi` into the gradient of the loss by them.
fn loss_gradient(loss: Objective, z: &mut [f32], yi: usize) {
    match loss {
        Objective::Softmax => {
            softmax_in_place(z);
            z[yi] -= 1.0;
        }
        Objective::SquaredHinge => {
            for (c, zc) in z.iter_mut().enumerate() {
                let target = if c == yi { 1.0 } else { -1.0 };
                let slack = 1.0 - target * *zc;
                *zc = if slack > 0.0 {
                    -2.0 * target * slack
                } else {
                    0.0
                };
            }
        }
    }
}

fn logits_of(weights: &[f32], bias: &[f32], row: &SparseRow) -> Vec<f32> {
    let k = bias.len();
    let mut z = bias.to_vec();
    for (&j, &x) in row.idx.iter().zip(&row.val) {
        let base = j as usize * k;
        if let Some(ws) = weights.get(base..base + k) {
            for (zc, wc) in z.iter_mut().zip(ws) {
                *zc += x * wc;
            }
        }
    }
    z
}

/// Mean negative log-likelihood of `logits / t`.
fn nll(logits: &[Vec<f32>], y: &[usize], t: f32) -> f64 {
    let mut total = 0.0f64;
    for (z, &yi) in logits.iter().zip(y) {
        let mut p: Vec<f32> = z.iter().map(|v| v / t).collect();
        softmax_in_place(&mut p);
        total -= f64::from(p[yi].max(1e-12)).ln();
    }
    total / logits.len().max(1) as f64
}

/// The temperature in [0.05, 20] (log grid, then refined) minimising the NLL.
pub(super) fn fit_temperature(logits: &[Vec<f32>], y: &[usize]) -> f32 {
    let mut best = (f64::INFINITY, 1.0f32);
    let mut t = 0.05f32;
    while t <= 20.0 {
        let v = nll(logits, y, t);
        if v < best.0 {
            best = (v, t);
        }
        t *= 1.1;
    }
    let (lo, hi) = (best.1 / 1.1, best.1 * 1.1);
    for i in 0..=20 {
        let t = lo + (hi - lo) * i as f32 / 20.0;
        let v = nll(logits, y, t);
        if v < best.0 {
            best = (v, t);
        }
    }
    best.1
}

/// Stratified fold of each example: examples of one label are dealt round-robin after a
/// seeded shuffle.
pub(super) fn fold_assignment(y: &[usize], k: usize, folds: usize, seed: u64) -> Vec<usize> {
    let mut rng = XorShift(seed.rotate_left(7) | 1);
    let mut fold = vec![0; y.len()];
    for c in 0..k {
        let mut members: Vec<usize> = (0..y.len()).filter(|&i| y[i] == c).collect();
        rng.shuffle(&mut members);
        for (n, i) in members.into_iter().enumerate() {
            fold[i] = n % folds;
        }
    }
    fold
}

/// One out-of-fold prediction from [`Classifier::cross_validate`].
#[derive(Debug, Clone, PartialEq)]
pub struct CvPrediction {
    /// Index of the example in the input slice.
    pub index: usize,
    /// Its gold label.
    pub gold: String,
    /// The label predicted by a model that did not see it.
    pub predicted: String,
    /// Uncalibrated probability of the prediction.
    pub confidence: f32,
    /// Uncalibrated probability of the gold label.
    pub gold_confidence: f32,
}

/// Sorted labels and the label index of every example; fails with fewer than two labels.
fn index_labels(examples: &[Example]) -> Result<(Vec<String>, Vec<usize>), NluError> {
    let mut labels: Vec<String> = examples.iter().map(|e| e.label.clone()).collect();
    labels.sort();
    labels.dedup();
    if labels.len() < 2 {
        return Err(NluError::TooFewLabels(labels.len()));
    }
    let y = examples
        .iter()
        .map(|e| labels.binary_search(&e.label).unwrap_or(0))
        .collect();
    Ok((labels, y))
}

/// Calibrated probabilities: the mean over members of `softmax(logits / temperature)`.
fn mix(logits: &[Vec<f32>], temperatures: &[f32]) -> Vec<f32> {
    let k = logits.first().map_or(0, Vec::len);
    let mut p = vec![0f32; k];
    let n = logits.len().max(1) as f32;
    for (z, &t) in logits.iter().zip(temperatures) {
        let mut q: Vec<f32> = z.iter().map(|v| v / t).collect();
        softmax_in_place(&mut q);
        for (pc, qc) in p.iter_mut().zip(&q) {
            *pc += qc / n;
        }
    }
    p
}

impl Classifier {
    /// Trains a classifier on `examples`; fails when there is no example or fewer than two labels.
    pub fn train(examples: &[Example], cfg: &TrainConfig) -> Result<Self, NluError> {
        let (labels, y) = index_labels(examples)?;
        let k = labels.len();
        let objectives = cfg.loss.members();
        let folds = calibration_folds(cfg);
        let mut temperatures = vec![1.0; objectives.len()];
        if folds >= 2 && examples.len() >= folds * 2 {
            let oof = out_of_fold_logits(examples, &y, k, cfg, folds);
            for (t, member_oof) in temperatures.iter_mut().zip(&oof) {
                *t = fit_temperature(member_oof, &y);
            }
        }
        let texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
        let vocab = Vocabulary::fit(&texts, &cfg.features, cfg.min_df);
        let rows: Vec<SparseRow> = texts.iter().map(|t| vocab.vectorize(t)).collect();
        let members = objectives
            .iter()
            .zip(temperatures)
            .map(|(&objective, temperature)| {
                let fitted = fit_weights(&rows, &y, k, vocab.len(), cfg, objective);
                Member {
                    weights: fitted.weights,
                    bias: fitted.bias,
                    temperature,
                }
            })
            .collect();
        Ok(Self {
            vocab,
            labels,
            members,
        })
    }

    /// K-fold cross-validated predictions for every example, in input order. Uncalibrated
    /// probabilities for a single loss; for [`Loss::Ensemble`] the members' probabilities are
    /// calibrated on these out-of-fold scores and averaged, as in a trained model.
    pub fn cross_validate(
        examples: &[Example],
        cfg: &TrainConfig,
        folds: usize,
    ) -> Result<Vec<CvPrediction>, NluError> {
        let (labels, y) = index_labels(examples)?;
        let oof = out_of_fold_logits(examples, &y, labels.len(), cfg, folds.max(2));
        let temperatures: Vec<f32> = if oof.len() > 1 {
            oof.iter().map(|m| fit_temperature(m, &y)).collect()
        } else {
            vec![1.0; oof.len()]
        };
        Ok((0..examples.len())
            .map(|i| {
                let logits: Vec<Vec<f32>> = oof.iter().map(|m| m[i].clone()).collect();
                let p = mix(&logits, &temperatures);
                let (best, conf) = argmax(&p);
                CvPrediction {
                    index: i,
                    gold: labels[y[i]].clone(),
                    predicted: labels[best].clone(),
                    confidence: conf,
                    gold_confidence: p[y[i]],
                }
            })
            .collect())
    }

    /// The labels, sorted.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// The fitted softmax temperature (1.0 when not calibrated); of the first member for an
    /// ensemble.
    pub fn temperature(&self) -> f32 {
        self.members.first().map_or(1.0, |m| m.temperature)
    }

    /// The fitted temperature of every member (one unless the loss is an ensemble).
    pub fn temperatures(&self) -> Vec<f32> {
        self.members.iter().map(|m| m.temperature).collect()
    }

    /// Calibrated probabilities of every label, in [`Classifier::labels`] order.
    pub fn probabilities(&self, text: &str) -> Vec<f32> {
        let row = self.vocab.vectorize(text);
        if let [m] = self.members.as_slice() {
            let mut z = logits_of(&m.weights, &m.bias, &row);
            z.iter_mut().for_each(|v| *v /= m.temperature);
            softmax_in_place(&mut z);
            return z;
        }
        let logits: Vec<Vec<f32>> = self
            .members
            .iter()
            .map(|m| logits_of(&m.weights, &m.bias, &row))
            .collect();
        let temperatures = self.temperatures();
        mix(&logits, &temperatures)
    }

    /// The calibrated probabilities of each member alone (one vector for a single loss; the
    /// softmax then the squared-hinge model for an ensemble), to compare members with their mix.
    pub fn member_probabilities(&self, text: &str) -> Vec<Vec<f32>> {
        let row = self.vocab.vectorize(text);
        self.members
            .iter()
            .map(|m| {
                let mut z = logits_of(&m.weights, &m.bias, &row);
                z.iter_mut().for_each(|v| *v /= m.temperature);
                softmax_in_place(&mut z);
                z
            })
            .collect()
    }

    /// Labels with calibrated probabilities, most likely first (ties by label name).
    pub fn rank(&self, text: &str) -> Vec<(&str, f32)> {
        let p = self.probabilities(text);
        let mut ranked: Vec<(&str, f32)> = self.labels.iter().map(String::as_str).zip(p).collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        ranked
    }

    /// The most likely label and its calibrated probability.
    pub fn predict(&self, text: &str) -> (&str, f32) {
        let p = self.probabilities(text);
        let (best, conf) = argmax(&p);
        (
            self.labels.get(best).map(String::as_str).unwrap_or(""),
            conf,
        )
    }
}

pub(super) fn argmax(p: &[f32]) -> (usize, f32) {
    let mut best = (0, f32::NEG_INFINITY);
    for (i, &v) in p.iter().enumerate() {
        if v > best.1 {
            best = (i, v);
        }
    }
    best
}

/// Folds of the temperature fit: `cfg.calibration_folds`, at least 3 for an ensemble (whose
/// members must be put on one probability scale).
fn calibration_folds(cfg: &TrainConfig) -> usize {
    match cfg.loss {
        Loss::Ensemble => cfg.calibration_folds.max(3),
        Loss::Softmax | Loss::SquaredHinge => cfg.calibration_folds,
    }
}

/// Out-of-fold logits of every example, one vector per member of `cfg.loss` (the members of
/// a fold share its vocabulary and rows).
fn out_of_fold_logits(
    examples: &[Example],
    y: &[usize],
    k: usize,
    cfg: &TrainConfig,
    folds: usize,
) -> Vec<Vec<Vec<f32>>> {
    let objectives = cfg.loss.members();
    let fold = fold_assignment(y, k, folds, cfg.seed);
    let mut oof = vec![vec![Vec::new(); examples.len()]; objectives.len()];
    for f in 0..folds {
        let train_idx: Vec<usize> = (0..examples.len()).filter(|&i| fold[i] != f).collect();
        let texts: Vec<&str> = train_idx
            .iter()
            .map(|&i| examples[i].text.as_str())
            .collect();
        let vocab = Vocabulary::fit(&texts, &cfg.features, cfg.min_df);
        let rows: Vec<SparseRow> = texts.iter().map(|t| vocab.vectorize(t)).collect();
        let ys: Vec<usize> = train_idx.iter().map(|&i| y[i]).collect();
        let held_out: Vec<(usize, SparseRow)> = (0..examples.len())
            .filter(|&i| fold[i] == f)
            .map(|i| (i, vocab.vectorize(&examples[i].text)))
            .collect();
        for (member, &objective) in oof.iter_mut().zip(objectives) {
            let fitted = fit_weights(&rows, &ys, k, vocab.len(), cfg, objective);
            for (i, row) in &held_out {
                member[*i] = logits_of(&fitted.weights, &fitted.bias, row);
            }
        }
    }
    oof
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> Vec<Example> {
        let mut v = Vec::new();
        for t in [
            "where is my order",
            "track my order",
            "订单到哪了",
            "我的菜到哪里了",
            "when will it arrive",
        ] {
            v.push(Example::new(t, "track"));
        }
        for t in [
            "cancel my order",
            "不要了 取消订单",
            "取消",
            "please cancel it",
            "我要退单",
        ] {
            v.push(Example::new(t, "cancel"));
        }
        for t in ["hi", "hello there", "你好", "在吗", "哈喽"] {
            v.push(Example::new(t, "greet"));
        }
        v
    }

    #[test]
    fn learns_a_toy_problem_deterministically_with_every_loss() {
        for loss in [Loss::Softmax, Loss::SquaredHinge, Loss::Ensemble] {
            let cfg = TrainConfig {
                calibration_folds: 3,
                loss,
                ..TrainConfig::default()
            };
            let a = Classifier::train(&toy(), &cfg).unwrap();
            let b = Classifier::train(&toy(), &cfg).unwrap();
            assert_eq!(a.predict("where's my order"), b.predict("where's my order"));
            assert_eq!(a.predict("where's my order").0, "track", "{loss:?}");
            assert_eq!(a.predict("帮我取消订单").0, "cancel", "{loss:?}");
            assert_eq!(a.predict("hello").0, "greet", "{loss:?}");
            let p: f32 = a.probabilities("anything").iter().sum();
            assert!(
                (p - 1.0).abs() < 1e-4,
                "{loss:?}: scores become probabilities"
            );
        }
        assert_eq!("squared-hinge".parse::<Loss>(), Ok(Loss::SquaredHinge));
        assert_eq!("ensemble".parse::<Loss>(), Ok(Loss::Ensemble));
        assert!("hinge-ish".parse::<Loss>().is_err());
    }

    #[test]
    fn ensemble_calibrates_both_members_and_averages_probabilities() {
        // Even when asked for no calibration, an ensemble fits one temperature per member.
        let cfg = TrainConfig {
            calibration_folds: 0,
            loss: Loss::Ensemble,
            ..TrainConfig::default()
        };
        let ens = Classifier::train(&toy(), &cfg).unwrap();
        let t = ens.temperatures();
        assert_eq!(t.len(), 2);
        assert!(t.iter().all(|&t| t > 0.0 && t.is_finite()));
        assert!(
            t.iter().all(|&t| (t - 1.0).abs() > 1e-6),
            "fitted, not left at 1: {t:?}"
        );
        // Its probabilities are the mean of the members' calibrated probabilities.
        let single = |loss, temperature: f32| {
            let c = Classifier::train(
                &toy(),
                &TrainConfig {
                    calibration_folds: 0,
                    loss,
                    ..TrainConfig::default()
                },
            )
            .unwrap();
            let m = &c.members[0];
            let row = c.vocab.vectorize("cancel my order please");
            let mut z = logits_of(&m.weights, &m.bias, &row);
            z.iter_mut().for_each(|v| *v /= temperature);
            softmax_in_place(&mut z);
            z
        };
        let a = single(Loss::Softmax, t[0]);
        let b = single(Loss::SquaredHinge, t[1]);
        let p = ens.probabilities("cancel my order please");
        assert_eq!(p.len(), 3);
        for ((pc, ac), bc) in p.iter().zip(&a).zip(&b) {
            assert!((pc - (ac + bc) / 2.0).abs() < 1e-5, "{p:?} {a:?} {b:?}");
        }
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-4);
        let members = ens.member_probabilities("cancel my order please");
        assert_eq!(members.len(), 2);
        assert!((members[0][0] - a[0]).abs() < 1e-6 && (members[1][0] - b[0]).abs() < 1e-6);
        assert_eq!(ens.predict("cancel my order please").0, "cancel");
        let cv = Classifier::cross_validate(&toy(), &cfg, 3).unwrap();
        assert_eq!(cv.len(), 15);
        assert!(cv.iter().all(|c| (0.0..=1.0).contains(&c.confidence)));
    }

    #[test]
    fn weight_decay_shrinks_the_weights_and_still_learns() {
        let norm = |decay| {
            let cfg = TrainConfig {
                calibration_folds: 0,
                decay,
                ..TrainConfig::default()
            };
            let c = Classifier::train(&toy(), &cfg).unwrap();
            assert_eq!(c.predict("please cancel").0, "cancel", "decay {decay}");
            assert_eq!(c.predict("where is my order").0, "track", "decay {decay}");
            c.members[0].weights.iter().map(|w| w * w).sum::<f32>()
        };
        let (none, some) = (norm(0.0), norm(0.1));
        assert!(some < none, "{some} < {none}");
    }

    #[test]
    fn rejects_single_label_data() {
        let one = vec![Example::new("a", "x"), Example::new("b", "x")];
        assert!(Classifier::train(&one, &TrainConfig::default()).is_err());
    }

    #[test]
    fn temperature_is_fitted_with_calibration() {
        let cfg = TrainConfig {
            calibration_folds: 3,
            ..TrainConfig::default()
        };
        let m = Classifier::train(&toy(), &cfg).unwrap();
        assert!(m.temperature() > 0.0);
        let cv = Classifier::cross_validate(&toy(), &cfg, 3).unwrap();
        assert_eq!(cv.len(), 15);
    }
}
