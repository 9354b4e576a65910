//! The shipped NLU model against the held-out sets in tests/data (written apart from intents/),
//! and a cross-validation check over intents/ that lists likely mislabelled examples.

#![allow(clippy::unwrap_used)] // test helpers panic on broken fixtures, which is the point

use std::sync::OnceLock;

use chrono::DateTime;
use freshbot::nlu::{Classifier, Nlu, TrainConfig, embedded_examples, parse_tsv};

fn nlu() -> &'static Nlu {
    static NLU: OnceLock<Nlu> = OnceLock::new();
    NLU.get_or_init(|| Nlu::from_embedded().expect("the embedded intents/ train a model"))
}

const INTENTS_TSV: &str = include_str!("data/nlu_intents_test.tsv");
const ENTITIES_TSV: &str = include_str!("data/nlu_entities_test.tsv");

#[test]
fn held_out_intent_accuracy_is_at_least_93_percent() {
    let test = parse_tsv("nlu_intents_test.tsv", INTENTS_TSV).unwrap();
    let mut per_intent = std::collections::BTreeMap::<&str, (usize, usize)>::new();
    let mut wrong = Vec::new();
    for e in &test {
        let (intent, _) = nlu().classify(&e.text);
        let slot = per_intent.entry(e.label.as_str()).or_default();
        slot.1 += 1;
        if intent.name == e.label {
            slot.0 += 1;
        } else {
            wrong.push(format!(
                "{}\tgold={}\tgot={} ({:.2})",
                e.text, e.label, intent.name, intent.confidence
            ));
        }
    }
    for (label, (_, n)) in &per_intent {
        assert!(*n >= 15, "{label} has only {n} held-out examples");
    }
    // Overall accuracy alone would let a whole intent fail unnoticed (15 of ~370 sentences).
    let weak: Vec<String> = per_intent
        .iter()
        .filter(|(_, (ok, n))| (*ok as f64) < PER_INTENT_FLOOR * *n as f64)
        .map(|(label, (ok, n))| format!("{label} {ok}/{n}"))
        .collect();
    assert_eq!(
        per_intent.len(),
        freshbot::nlu::INTENTS.len(),
        "every intent is in the held-out set"
    );
    let acc = 1.0 - wrong.len() as f64 / test.len() as f64;
    eprintln!(
        "held-out intent accuracy {acc:.4} on {} examples; errors:\n{}",
        test.len(),
        wrong.join("\n")
    );
    assert!(acc >= 0.93, "accuracy {acc:.4} < 0.93");
    assert!(
        weak.is_empty(),
        "intents below {PER_INTENT_FLOOR} on the held-out set: {weak:?}"
    );
}

/// The least share of an intent's held-out sentences that must be understood.
const PER_INTENT_FLOOR: f64 = 0.8;

/// A sentence as the overlap check compares it: width and case folded, and nothing but letters
/// and digits (punctuation, symbols, emoji and spaces dropped), so "Thanks heaps!" and
/// "thanks heaps" are one sentence.
fn overlap_key(text: &str) -> String {
    freshbot::nlu::text::fold(text)
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// A held-out set is held out only if none of its sentences is a training sentence in other
/// punctuation, width or case (issue 30: 30% of the old set was).
#[test]
fn no_held_out_sentence_is_a_training_sentence() {
    let training: std::collections::HashMap<String, String> = embedded_examples()
        .unwrap()
        .into_iter()
        .map(|e| (overlap_key(&e.text), e.text))
        .collect();
    let intents = parse_tsv("nlu_intents_test.tsv", INTENTS_TSV).unwrap();
    let entity_texts = ENTITIES_TSV
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split('\t').next());
    let mut leaked = Vec::new();
    for text in intents.iter().map(|e| e.text.as_str()).chain(entity_texts) {
        let key = overlap_key(text);
        assert!(!key.is_empty(), "{text:?} has nothing to compare");
        if let Some(train) = training.get(&key) {
            leaked.push(format!("{text:?} is training's {train:?}"));
        }
    }
    assert!(
        leaked.is_empty(),
        "held-out sentences in training:\n{}",
        leaked.join("\n")
    );
}

fn item_string(p: &freshbot::nlu::Parse) -> String {
    if p.items.is_empty() {
        return "-".into();
    }
    p.items
        .iter()
        .map(|i| {
            format!(
                "{}:{}:{}",
                i.sku,
                i.qty.map_or("-".to_string(), |q| format!("{q}")),
                i.unit.map_or("-", |u| u.code())
            )
        })
        .collect::<Vec<_>>()
        .join("|")
}

fn expected_items(s: &str) -> String {
    if s == "-" {
        return s.into();
    }
    s.split('|')
        .map(|it| {
            let mut f = it.split(':');
            let (sku, q, u) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
            let q = if q == "-" {
                q.to_string()
            } else {
                format!("{}", q.parse::<f64>().unwrap())
            };
            format!("{sku}:{q}:{u}")
        })
        .collect::<Vec<_>>()
        .join("|")
}

#[test]
fn held_out_entity_exact_match_is_at_least_90_percent() {
    let default_now = DateTime::parse_from_rfc3339("2026-11-24T09:30:00+08:00").unwrap();
    let mut total = 0;
    let mut failures = Vec::new();
    for line in ENTITIES_TSV
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 5, "bad line {line:?}");
        let now = if cols[1] == "-" {
            default_now
        } else {
            DateTime::parse_from_rfc3339(cols[1]).unwrap()
        };
        let p = nlu().parse(cols[0], now);
        let time = p.time.map_or("-".to_string(), |t| {
            format!(
                "{}/{}",
                t.start.to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
                t.end.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
            )
        });
        let mut extras = Vec::new();
        for o in &p.order_numbers {
            extras.push(format!("order={o}"));
        }
        for ph in &p.phones {
            extras.push(format!("phone={ph}"));
        }
        if let Some(a) = &p.address {
            extras.push(format!("address={a}"));
        }
        if let Some(s) = p.time_shift_minutes {
            extras.push(format!("shift={s}"));
        }
        let extras = if extras.is_empty() {
            "-".to_string()
        } else {
            extras.join(";")
        };
        let got = (item_string(&p), time, extras);
        let want = (
            expected_items(cols[2]),
            cols[3].to_string(),
            cols[4].to_string(),
        );
        total += 1;
        if got != want {
            failures.push(format!("{}\n   want {want:?}\n   got  {got:?}", cols[0]));
        }
    }
    let acc = 1.0 - failures.len() as f64 / total as f64;
    eprintln!(
        "entity exact match {acc:.4} on {total} cases; failures:\n{}",
        failures.join("\n")
    );
    assert!(total >= 60);
    assert!(acc >= 0.9, "entity exact match {acc:.4} < 0.9");
}

#[test]
fn cross_validation_over_intents_flags_few_mislabels() {
    let examples = embedded_examples().unwrap();
    assert!(
        examples.len() > 1000,
        "intents/ holds {} examples",
        examples.len()
    );
    // Fewer passes than the shipped model: enough to flag mislabels, fast in debug builds.
    let cfg = TrainConfig {
        calibration_folds: 0,
        epochs: 8,
        ..TrainConfig::default()
    };
    let cv = Classifier::cross_validate(&examples, &cfg, 5).unwrap();
    let correct = cv.iter().filter(|p| p.gold == p.predicted).count();
    let acc = correct as f64 / cv.len() as f64;
    // A confident disagreement with the gold label under cross-validation is a likely mislabel
    // (or a duplicate of an example of another intent): list them for the data's author.
    let suspects: Vec<String> = cv
        .iter()
        .filter(|p| p.gold != p.predicted && p.confidence >= 0.8 && p.gold_confidence < 0.05)
        .map(|p| {
            format!(
                "{}\tlabelled {}\tlooks like {} ({:.2})",
                examples[p.index].text, p.gold, p.predicted, p.confidence
            )
        })
        .collect();
    eprintln!(
        "5-fold CV accuracy over intents/: {acc:.4} ({} examples); likely mislabels:\n{}",
        cv.len(),
        suspects.join("\n")
    );
    // intents/ deliberately holds hard negatives (out_of_scope messages that look like shop
    // talk, complaints that look like requests), so CV accuracy is lower than held-out accuracy.
    assert!(acc >= 0.80, "cross-validated accuracy {acc:.4} < 0.80");
    assert!(
        suspects.len() * 25 <= cv.len(),
        "{} likely mislabelled examples (> 4%): fix intents/",
        suspects.len()
    );
}

/// Public Chinese dataset from ../shared/data (skipped when absent): SMP2019 is small enough
/// for a debug-mode test and guards the classifier against regressions.
#[test]
fn smp2019_accuracy_stays_near_the_tfidf_baseline() {
    let (Some(train), Some(test)) = (
        freshbot::shared_data::read("nlu/smp2019/train.tsv"),
        freshbot::shared_data::read("nlu/smp2019/test.tsv"),
    ) else {
        return;
    };
    let train = parse_tsv("train", &train).unwrap();
    let test = parse_tsv("test", &test).unwrap();
    let cfg = TrainConfig {
        calibration_folds: 0,
        ..TrainConfig::default()
    };
    let model = Classifier::train(&train, &cfg).unwrap();
    let correct = test
        .iter()
        .filter(|e| model.predict(&e.text).0 == e.label)
        .count();
    let acc = correct as f64 / test.len() as f64;
    eprintln!("smp2019 test accuracy {acc:.4}");
    // The TF-IDF baseline is 0.904 (baselines.csv); this model scores 0.9037 (244/270) on the test
    // split with the hyper-parameters chosen on `valid`, see docs/benchmarks.md. Guard a
    // regression, not the target.
    assert!(acc >= 0.895, "smp2019 accuracy {acc:.4} < 0.895");
}
