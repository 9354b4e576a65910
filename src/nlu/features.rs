//! Sparse text features for the intent classifier.
//!
//! Two families, hashed to 64-bit keys (FNV-1a, stable across runs and platforms):
//! - character n-grams: 1-3 over runs of Han characters (Chinese needs no segmenter for these),
//!   `latin_min..=latin_max` inside each Latin/digit word padded with spaces (like
//!   scikit-learn's `char_wb`);
//! - words: Unicode words lower-cased (unigrams and bigrams) for Latin script, jieba-rs words
//!   for Han runs.
//!
//! A [`Vocabulary`] built on the training set maps keys to dense column indices and holds the
//! IDF weights; [`Vocabulary::vectorize`] gives a sublinear-TF x IDF, L2-normalised sparse row.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::LazyLock;

use unicode_segmentation::UnicodeSegmentation;

use super::text::{is_han, normalize_for_classifier};

/// Messages longer than this (in chars) are classified on their beginning.
pub const MAX_CLASSIFIER_CHARS: usize = 1000;

static JIEBA: LazyLock<jieba_rs::Jieba> = LazyLock::new(jieba_rs::Jieba::new);

/// Which features to extract; part of the model's hyper-parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureConfig {
    /// Smallest char n-gram inside Latin words (padded with a space on each side).
    pub latin_min: usize,
    /// Largest char n-gram inside Latin words.
    pub latin_max: usize,
    /// Largest char n-gram over Han runs (the smallest is 1).
    pub han_max: usize,
    /// Add word unigrams and bigrams (Unicode words for Latin, jieba words for Han).
    pub words: bool,
    /// Longest word n-gram when `words` is on: 1 (unigrams only), 2 (and bigrams, the
    /// default) or 3 (and trigrams); larger values act as 3.
    pub word_max: usize,
    /// L2-normalise the char n-gram block and the word block separately (each to 1/sqrt 2)
    /// instead of jointly. Off: it did not help on the validation splits.
    pub split_norm: bool,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        Self {
            latin_min: 2,
            latin_max: 5,
            han_max: 3,
            words: true,
            word_max: 2,
            split_norm: false,
        }
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv_char(mut h: u64, c: char) -> u64 {
    let mut buf = [0u8; 4];
    for b in c.encode_utf8(&mut buf).bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

fn fnv_str(h: u64, s: &str) -> u64 {
    s.chars().fold(h, fnv_char)
}

fn seed(namespace: u8) -> u64 {
    (FNV_OFFSET ^ u64::from(namespace)).wrapping_mul(FNV_PRIME)
}

/// Finalises a key with its n (so "ab" as a 2-gram differs from a prefix of a longer one).
fn finish(h: u64, n: usize) -> u64 {
    let mut x = h ^ (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^ (x >> 33)
}

/// The lowest bit of a key tells its family: 0 for char n-grams, 1 for words.
fn char_key(k: u64) -> u64 {
    k & !1
}

fn word_key(k: u64) -> u64 {
    k | 1
}

const NS_HAN: u8 = 1;
const NS_LATIN: u8 = 2;
const NS_WORD: u8 = 3;
const NS_BIGRAM: u8 = 4;
const NS_ZHWORD: u8 = 5;
const NS_OTHER: u8 = 6;
const NS_TRIGRAM: u8 = 7;

/// The key of a word trigram: the hashes of its three words, most recent first.
fn trigram_key(h: u64, p1: u64, p2: u64) -> u64 {
    word_key(finish(
        seed(NS_TRIGRAM) ^ h ^ p1.rotate_left(23) ^ p2.rotate_left(41),
        3,
    ))
}

fn char_ngrams(chars: &[char], min: usize, max: usize, ns: u8, out: &mut Vec<u64>) {
    for start in 0..chars.len() {
        let mut h = seed(ns);
        for n in 1..=max {
            let Some(&c) = chars.get(start + n - 1) else {
                break;
            };
            h = fnv_char(h, c);
            if n >= min {
                out.push(char_key(finish(h, n)));
            }
        }
    }
}

/// Appends the hashed feature keys of `text` (normalised here) to `out`.
pub fn extract_keys(text: &str, cfg: &FeatureConfig, out: &mut Vec<u64>) {
    let norm = normalize_for_classifier(text, MAX_CLASSIFIER_CHARS);
    let mut prev_word: Option<u64> = None;
    let mut prev_word2: Option<u64> = None;
    let mut han_run = String::new();
    let mut padded: Vec<char> = Vec::with_capacity(32);
    let flush_han = |run: &mut String, out: &mut Vec<u64>| {
        if run.is_empty() {
            return;
        }
        let chars: Vec<char> = run.chars().collect();
        // Boundary markers make "starts/ends with" visible to the n-grams.
        let mut marked = Vec::with_capacity(chars.len() + 2);
        marked.push('^');
        marked.extend_from_slice(&chars);
        marked.push('$');
        char_ngrams(&marked, 1, cfg.han_max, NS_HAN, out);
        if cfg.words {
            let mut prev: Option<u64> = None;
            let mut prev2: Option<u64> = None;
            for tok in JIEBA.cut(run, false) {
                let h = fnv_str(seed(NS_ZHWORD), tok.word);
                out.push(word_key(finish(h, 0)));
                if let Some(p) = prev
                    && cfg.word_max >= 2
                {
                    out.push(word_key(finish(p.rotate_left(17) ^ h, 1)));
                    if let Some(p2) = prev2
                        && cfg.word_max >= 3
                    {
                        out.push(trigram_key(h, p, p2));
                    }
                }
                prev2 = prev;
                prev = Some(h);
            }
        }
        run.clear();
    };
    for word in norm.split_word_bounds() {
        let first = word.chars().next().unwrap_or(' ');
        if is_han(first) {
            han_run.push_str(word);
            continue;
        }
        flush_han(&mut han_run, out);
        if first.is_whitespace() {
            continue;
        }
        if word.chars().any(char::is_alphanumeric) {
            padded.clear();
            padded.push(' ');
            padded.extend(word.chars());
            padded.push(' ');
            char_ngrams(&padded, cfg.latin_min, cfg.latin_max, NS_LATIN, out);
            if cfg.words {
                let h = fnv_str(seed(NS_WORD), word);
                out.push(word_key(finish(h, 0)));
                if let Some(p) = prev_word
                    && cfg.word_max >= 2
                {
                    out.push(word_key(finish(
                        fnv_str(seed(NS_BIGRAM), word) ^ p.rotate_left(23),
                        2,
                    )));
                    if let Some(p2) = prev_word2
                        && cfg.word_max >= 3
                    {
                        out.push(trigram_key(h, p, p2));
                    }
                }
                prev_word2 = prev_word;
                prev_word = Some(h);
            }
        } else {
            // Punctuation, emoji, symbols: one feature per char ("?" and "!" carry signal).
            for c in word.chars() {
                out.push(char_key(finish(fnv_char(seed(NS_OTHER), c), 1)));
            }
        }
    }
    flush_han(&mut han_run, out);
}

/// A hasher for keys that are already well-mixed 64-bit hashes.
#[derive(Default, Clone, Copy)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type KeyMap = HashMap<u64, u32, BuildHasherDefault<IdHasher>>;

/// A sparse, L2-normalised feature row: sorted column indices and their weights.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparseRow {
    /// Column indices, ascending and unique.
    pub idx: Vec<u32>,
    /// Weights, same length as `idx`.
    pub val: Vec<f32>,
}

/// Feature keys seen in training, their columns and IDF weights.
#[derive(Debug, Clone)]
pub struct Vocabulary {
    cfg: FeatureConfig,
    columns: KeyMap,
    idf: Vec<f32>,
    /// Family of each column: 0 char n-gram, 1 word.
    family: Vec<u8>,
}

impl Vocabulary {
    /// Builds the vocabulary from training texts (keys seen at least `min_df` times).
    pub fn fit<S: AsRef<str>>(texts: &[S], cfg: &FeatureConfig, min_df: u32) -> Self {
        let mut df: KeyMap = KeyMap::default();
        let mut keys = Vec::new();
        for t in texts {
            keys.clear();
            extract_keys(t.as_ref(), cfg, &mut keys);
            keys.sort_unstable();
            keys.dedup();
            for &k in &keys {
                *df.entry(k).or_insert(0) += 1;
            }
        }
        // Columns in key order so that the model does not depend on hash-map iteration order.
        let mut kept: Vec<(u64, u32)> = df.into_iter().filter(|&(_, n)| n >= min_df).collect();
        kept.sort_unstable();
        let n_docs = texts.len() as f32;
        let mut columns = KeyMap::default();
        columns.reserve(kept.len());
        let mut idf = Vec::with_capacity(kept.len());
        let mut family = Vec::with_capacity(kept.len());
        for (i, (k, n)) in kept.into_iter().enumerate() {
            columns.insert(k, i as u32);
            family.push((k & 1) as u8);
            // scikit-learn's smooth idf: ln((1 + n) / (1 + df)) + 1.
            idf.push(((1.0 + n_docs) / (1.0 + n as f32)).ln() + 1.0);
        }
        Self {
            cfg: cfg.clone(),
            columns,
            idf,
            family,
        }
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        self.idf.len()
    }

    /// True when no feature was kept.
    pub fn is_empty(&self) -> bool {
        self.idf.is_empty()
    }

    /// The feature configuration the vocabulary was built with.
    pub fn config(&self) -> &FeatureConfig {
        &self.cfg
    }

    /// Vectorises one text: sublinear TF (1 + ln tf) x IDF, L2-normalised; unknown keys dropped.
    pub fn vectorize(&self, text: &str) -> SparseRow {
        let mut keys = Vec::with_capacity(64);
        extract_keys(text, &self.cfg, &mut keys);
        let mut cols: Vec<u32> = keys
            .iter()
            .filter_map(|k| self.columns.get(k).copied())
            .collect();
        cols.sort_unstable();
        let mut row = SparseRow::default();
        let mut i = 0;
        while i < cols.len() {
            let c = cols[i];
            let mut j = i;
            while j < cols.len() && cols[j] == c {
                j += 1;
            }
            let tf = (j - i) as f32;
            let w = (1.0 + tf.ln()) * self.idf.get(c as usize).copied().unwrap_or(1.0);
            row.idx.push(c);
            row.val.push(w);
            i = j;
        }
        if self.cfg.split_norm {
            let mut sq = [0f32; 2];
            for (&c, &v) in row.idx.iter().zip(&row.val) {
                sq[self.family[c as usize] as usize] += v * v;
            }
            let present = sq.iter().filter(|&&x| x > 0.0).count() as f32;
            let scale = sq.map(|x| {
                if x > 0.0 {
                    1.0 / (x.sqrt() * present.sqrt())
                } else {
                    0.0
                }
            });
            for (&c, v) in row.idx.iter().zip(row.val.iter_mut()) {
                *v *= scale[self.family[c as usize] as usize];
            }
        } else {
            let norm = row.val.iter().map(|v| v * v).sum::<f32>().sqrt();
            if norm > 0.0 {
                row.val.iter_mut().for_each(|v| *v /= norm);
            }
        }
        row
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_deterministic_and_cover_both_scripts() {
        let cfg = FeatureConfig::default();
        let mut a = Vec::new();
        let mut b = Vec::new();
        extract_keys("我要两斤西红柿 and 3 tomatoes!", &cfg, &mut a);
        extract_keys("我要两斤西红柿 and 3 tomatoes!", &cfg, &mut b);
        assert_eq!(a, b);
        assert!(a.len() > 20);
    }

    #[test]
    fn word_trigrams_add_keys_only_when_asked() {
        let two = FeatureConfig::default();
        let three = FeatureConfig {
            word_max: 3,
            ..FeatureConfig::default()
        };
        let one = FeatureConfig {
            word_max: 1,
            ..FeatureConfig::default()
        };
        let count = |text: &str, cfg: &FeatureConfig| {
            let mut keys = Vec::new();
            extract_keys(text, cfg, &mut keys);
            keys
        };
        let text = "please cancel my order";
        let (k1, k2, k3) = (count(text, &one), count(text, &two), count(text, &three));
        // Four words: three bigrams, two trigrams.
        assert_eq!(k2.len(), k1.len() + 3);
        assert_eq!(k3.len(), k2.len() + 2);
        assert!(k2.iter().all(|k| k3.contains(k)), "trigrams only add keys");
        // jieba words in a Han run get trigrams too.
        let zh = "我想取消今天的订单";
        assert!(count(zh, &three).len() > count(zh, &two).len());
    }

    #[test]
    fn vectors_are_unit_length_and_unknown_text_is_empty() {
        let cfg = FeatureConfig::default();
        let v = Vocabulary::fit(&["where is my order", "我的订单到哪了"], &cfg, 1);
        let row = v.vectorize("where is my 订单");
        let n: f32 = row.val.iter().map(|x| x * x).sum();
        assert!((n - 1.0).abs() < 1e-4);
        assert!(row.idx.windows(2).all(|w| w[0] < w[1]));
        assert!(v.vectorize("").idx.is_empty());
        assert!(v.vectorize("zzzz qqqq").idx.is_empty());
    }
}
