//! Product mentions from a catalog lexicon: longest match over names and aliases in both
//! languages, English plurals and case, and small typos (one wrong character in a Chinese name
//! of three or more characters; one edit in an English word of five or more letters).

use std::collections::{HashMap, HashSet};

use crate::nlu::text::is_han;

/// One sellable product as the extractor sees it; the domain layer builds these from its catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductEntry {
    /// Stock-keeping unit, e.g. `VEG-TOMATO`.
    pub sku: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Other names, Chinese or English.
    pub aliases: Vec<String>,
}

/// A product found in a message (char offsets into the original text).
#[derive(Debug, Clone, PartialEq)]
pub struct ProductMention {
    /// Index into the lexicon's entries.
    pub entry: usize,
    /// First char.
    pub start: usize,
    /// One past the last char.
    pub end: usize,
    /// True when matched with a typo.
    pub fuzzy: bool,
}

/// English words that are close to a product name but are common in chat.
const FUZZY_STOPLIST: &[&str] = &[
    "apply", "applied", "chill", "still", "union", "order", "other", "hours", "house", "later",
    "leave", "lemme", "peace", "place", "plane", "plate", "price", "prize", "grape", "great",
    "carry", "cherry", "sorry", "berry", "worry", "hurry", "where", "there", "these", "those",
    "thanks", "change", "charge", "orange", "manage", "damage", "change", "range", "bananas",
    "today", "tomorrow", "morning", "evening", "spring", "string", "things", "thing", "cheap",
    "check", "phone", "money", "honey", "onions", "minced", "mince", "since", "chance",
];

/// Lower-cases and singularises an English word (`tomatoes` -> `tomato`, `berries` -> `berry`).
pub fn singular(word: &str) -> String {
    let w = word.to_lowercase();
    let n = w.chars().count();
    if n > 4 && w.ends_with("ies") {
        return format!("{}y", &w[..w.len() - 3]);
    }
    if n > 4 && w.ends_with("oes") {
        return w[..w.len() - 2].to_owned();
    }
    for suffix in ["ches", "shes", "xes", "sses"] {
        if n > 4 && w.ends_with(suffix) {
            return w[..w.len() - 2].to_owned();
        }
    }
    if n > 3 && w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") {
        return w[..w.len() - 1].to_owned();
    }
    w
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '\''
}

/// English word tokens of folded chars: `(start, end)` char offsets.
fn word_spans(chars: &[char]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_alphabetic() {
            let s = i;
            while i < chars.len() && is_word_char(chars[i]) {
                i += 1;
            }
            spans.push((s, i));
        } else {
            i += 1;
        }
    }
    spans
}

/// Names and aliases indexed for matching.
#[derive(Debug, Clone)]
pub struct ProductLexicon {
    entries: Vec<ProductEntry>,
    zh: HashMap<String, usize>,
    zh_first: HashSet<char>,
    zh_max: usize,
    zh_fuzzy: Vec<(Vec<char>, usize)>,
    en: HashMap<String, usize>,
    en_max_words: usize,
    en_fuzzy: Vec<(String, usize)>,
}

impl ProductLexicon {
    /// Indexes `entries`; names win over aliases, earlier entries over later ones.
    pub fn new(entries: Vec<ProductEntry>) -> Self {
        let mut lex = Self {
            entries,
            zh: HashMap::new(),
            zh_first: HashSet::new(),
            zh_max: 0,
            zh_fuzzy: Vec::new(),
            en: HashMap::new(),
            en_max_words: 0,
            en_fuzzy: Vec::new(),
        };
        let mut forms: Vec<(String, usize)> = Vec::new();
        for (i, e) in lex.entries.iter().enumerate() {
            forms.push((e.name_zh.clone(), i));
            forms.push((e.name_en.clone(), i));
        }
        for (i, e) in lex.entries.iter().enumerate() {
            for a in &e.aliases {
                forms.push((a.clone(), i));
            }
        }
        for (form, i) in forms {
            let folded = crate::nlu::text::fold(form.trim());
            if folded.is_empty() {
                continue;
            }
            if folded.chars().any(is_han) {
                let chars: Vec<char> = folded.chars().collect();
                if lex.zh.contains_key(&folded) {
                    continue;
                }
                lex.zh_max = lex.zh_max.max(chars.len());
                lex.zh_first.insert(chars[0]);
                if chars.len() >= 3 && chars.iter().all(|&c| is_han(c)) {
                    lex.zh_fuzzy.push((chars, i));
                }
                lex.zh.insert(folded, i);
            } else {
                let words: Vec<String> = folded
                    .split(|c: char| !is_word_char(c))
                    .filter(|w| !w.is_empty())
                    .map(singular)
                    .collect();
                if words.is_empty() {
                    continue;
                }
                let key = words.join(" ");
                if lex.en.contains_key(&key) {
                    continue;
                }
                lex.en_max_words = lex.en_max_words.max(words.len());
                if key.chars().count() >= 5 {
                    lex.en_fuzzy.push((key.clone(), i));
                }
                lex.en.insert(key, i);
            }
        }
        lex
    }

    /// The indexed entries.
    pub fn entries(&self) -> &[ProductEntry] {
        &self.entries
    }

    /// Finds product mentions in folded chars, skipping chars marked in `blocked`.
    pub fn find(&self, chars: &[char], blocked: &[bool]) -> Vec<ProductMention> {
        let is_blocked = |i: usize| blocked.get(i).copied().unwrap_or(false);
        let mut out = Vec::new();
        let mut covered = vec![false; chars.len()];
        // Chinese (and mixed) forms: longest match, left to right.
        let mut key = String::new();
        let mut i = 0;
        while i < chars.len() {
            if is_blocked(i) || !self.zh_first.contains(&chars[i]) {
                i += 1;
                continue;
            }
            let mut found = None;
            let max = self.zh_max.min(chars.len() - i);
            for len in (1..=max).rev() {
                if (i..i + len).any(is_blocked) {
                    continue;
                }
                key.clear();
                key.extend(&chars[i..i + len]);
                if let Some(&e) = self.zh.get(&key) {
                    found = Some((e, len));
                    break;
                }
            }
            match found {
                Some((e, len)) => {
                    out.push(ProductMention {
                        entry: e,
                        start: i,
                        end: i + len,
                        fuzzy: false,
                    });
                    covered[i..i + len].iter_mut().for_each(|c| *c = true);
                    i += len;
                }
                None => i += 1,
            }
        }
        // Chinese typos: one substituted Han char in a name of three or more chars.
        let mut i = 0;
        while i < chars.len() {
            let mut hit = None;
            for (form, e) in &self.zh_fuzzy {
                let n = form.len();
                if i + n > chars.len() || (i..i + n).any(|j| covered[j] || is_blocked(j)) {
                    continue;
                }
                let window = &chars[i..i + n];
                let diffs = window.iter().zip(form).filter(|(a, b)| a != b).count();
                if diffs == 1 && window.iter().all(|&c| is_han(c)) {
                    hit = Some((*e, n));
                    break;
                }
            }
            match hit {
                Some((e, n)) => {
                    out.push(ProductMention {
                        entry: e,
                        start: i,
                        end: i + n,
                        fuzzy: true,
                    });
                    covered[i..i + n].iter_mut().for_each(|c| *c = true);
                    i += n;
                }
                None => i += 1,
            }
        }
        // English: longest word sequence, singularised; then one-edit typos.
        let spans = word_spans(chars);
        let words: Vec<String> = spans
            .iter()
            .map(|&(s, e)| singular(&chars[s..e].iter().collect::<String>()))
            .collect();
        let mut t = 0;
        while t < spans.len() {
            if (spans[t].0..spans[t].1).any(is_blocked) {
                t += 1;
                continue;
            }
            let mut found = None;
            let max = self.en_max_words.min(spans.len() - t);
            for n in (1..=max).rev() {
                let key = words[t..t + n].join(" ");
                if let Some(&e) = self.en.get(&key) {
                    found = Some((e, n, false));
                    break;
                }
            }
            if found.is_none() {
                found = self.fuzzy_en(&words, t);
            }
            match found {
                Some((e, n, fuzzy)) => {
                    out.push(ProductMention {
                        entry: e,
                        start: spans[t].0,
                        end: spans[t + n - 1].1,
                        fuzzy,
                    });
                    t += n;
                }
                None => t += 1,
            }
        }
        out.sort_by_key(|m| m.start);
        out
    }

    fn fuzzy_en(&self, words: &[String], t: usize) -> Option<(usize, usize, bool)> {
        for n in (1..=2.min(words.len() - t)).rev() {
            let cand = words[t..t + n].join(" ");
            let len = cand.chars().count();
            if len < 5 || FUZZY_STOPLIST.contains(&cand.as_str()) || words[t].len() < 3 {
                continue;
            }
            let max_dist = if len >= 9 { 2 } else { 1 };
            let mut best: Option<(usize, usize)> = None;
            for (form, e) in &self.en_fuzzy {
                if form.split(' ').count() != n || form.chars().next() != cand.chars().next() {
                    continue;
                }
                let d = strsim::damerau_levenshtein(&cand, form);
                if d <= max_dist && best.is_none_or(|(bd, _)| d < bd) {
                    best = Some((d, *e));
                }
            }
            if let Some((_, e)) = best {
                return Some((e, n, true));
            }
        }
        None
    }
}

/// A small lexicon for unit tests across the entity modules.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    pub(crate) fn lexicon() -> ProductLexicon {
        let e = |sku: &str, zh: &str, en: &str, aliases: &[&str]| ProductEntry {
            sku: sku.into(),
            name_zh: zh.into(),
            name_en: en.into(),
            aliases: aliases.iter().map(|s| s.to_string()).collect(),
        };
        ProductLexicon::new(vec![
            e("VEG-TOMATO", "西红柿", "tomato", &["番茄", "tomatoes"]),
            e(
                "VEG-CHERRYTOM",
                "圣女果",
                "cherry tomato",
                &["小番茄", "小西红柿", "cherry tomatoes"],
            ),
            e("VEG-NAPA", "大白菜", "napa cabbage", &["chinese cabbage"]),
            e("VEG-BOKCHOY", "白菜", "bok choy", &["青菜"]),
            e("VEG-BROCCOLI", "西兰花", "broccoli", &["西蓝花"]),
            e("VEG-SPINACH", "菠菜", "spinach", &[]),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::lexicon;
    use super::*;

    fn skus(text: &str) -> Vec<String> {
        let lex = lexicon();
        let chars: Vec<char> = crate::nlu::text::fold(text).chars().collect();
        lex.find(&chars, &[])
            .iter()
            .map(|m| lex.entries()[m.entry].sku.clone())
            .collect()
    }

    #[test]
    fn longest_match_in_both_languages() {
        assert_eq!(skus("我要小西红柿和大白菜"), ["VEG-CHERRYTOM", "VEG-NAPA"]);
        assert_eq!(skus("白菜 西红柿"), ["VEG-BOKCHOY", "VEG-TOMATO"]);
        assert_eq!(
            skus("2 Cherry Tomatoes and some TOMATOES"),
            ["VEG-CHERRYTOM", "VEG-TOMATO"]
        );
        assert_eq!(skus("chinese cabbage"), ["VEG-NAPA"]);
    }

    #[test]
    fn tolerates_small_typos() {
        assert_eq!(skus("西红杮两斤"), ["VEG-TOMATO"]);
        assert_eq!(skus("tomatos and brocoli"), ["VEG-TOMATO", "VEG-BROCCOLI"]);
        assert_eq!(skus("spinch"), ["VEG-SPINACH"]);
        assert!(skus("can i apply a coupon").is_empty());
    }

    #[test]
    fn singular_forms() {
        for (p, s) in [
            ("tomatoes", "tomato"),
            ("berries", "berry"),
            ("boxes", "box"),
            ("eggs", "egg"),
            ("bass", "bass"),
        ] {
            assert_eq!(singular(p), s);
        }
    }
}
