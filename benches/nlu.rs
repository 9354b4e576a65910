//! NLU speed: training time on intents/, and single-threaded `parse` (classifier + entities)
//! throughput and latency percentiles over the held-out utterances.
//!
//! Run: `cargo bench --bench nlu` (release profile). Prints one JSON line at the end.
//! A plain harness (no criterion) so it adds no dependency; each measurement is repeated.

use std::hint::black_box;
use std::time::Instant;

use chrono::DateTime;
use freshbot::nlu::{Nlu, demo_catalog, embedded_examples, parse_tsv};

/// CPU time of this thread in seconds (Linux `/proc/thread-self/schedstat`), so the numbers hold
/// on a machine shared with other jobs; `None` elsewhere.
fn thread_cpu_s() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e9)
}

fn main() {
    let examples = embedded_examples().expect("embedded intents");
    let catalog = demo_catalog().expect("demo catalog");
    // Warm jieba's dictionary once so training time is the model's own.
    let _ = Nlu::train(
        &examples[..50.min(examples.len())],
        catalog.clone(),
        Default::default(),
    );
    let mut train_s = Vec::new();
    let mut train_cpu_s = Vec::new();
    let mut nlu = None;
    for _ in 0..5 {
        let t = Instant::now();
        let c = thread_cpu_s();
        nlu = Some(Nlu::train(&examples, catalog.clone(), Default::default()).expect("train"));
        train_s.push(t.elapsed().as_secs_f64());
        if let (Some(a), Some(b)) = (c, thread_cpu_s()) {
            train_cpu_s.push(b - a);
        }
    }
    train_cpu_s.sort_by(f64::total_cmp);
    let nlu = nlu.expect("trained");
    train_s.sort_by(f64::total_cmp);

    let tests = parse_tsv(
        "held-out",
        include_str!("../tests/data/nlu_intents_test.tsv"),
    )
    .expect("tsv");
    let mut texts: Vec<String> = tests.into_iter().map(|e| e.text).collect();
    texts.extend(
        include_str!("../tests/data/nlu_entities_test.tsv")
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split('\t').next().map(str::to_owned)),
    );
    let now = DateTime::parse_from_rfc3339("2026-11-24T09:30:00+08:00").expect("now");
    for t in &texts {
        black_box(nlu.parse(t, now));
    }
    let rounds = 40;
    let mut lat = Vec::with_capacity(texts.len() * rounds);
    let all = Instant::now();
    let cpu0 = thread_cpu_s();
    for _ in 0..rounds {
        for t in &texts {
            let s = Instant::now();
            black_box(nlu.parse(black_box(t), now));
            lat.push(s.elapsed().as_secs_f64() * 1e6);
        }
    }
    let total = all.elapsed().as_secs_f64();
    let cpu = match (cpu0, thread_cpu_s()) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    lat.sort_by(f64::total_cmp);
    let pct = |p: f64| lat[((lat.len() as f64 - 1.0) * p).round() as usize];
    let n = lat.len();
    println!(
        "{}",
        serde_json::json!({
            "train_examples": examples.len(),
            "train_s_median": train_s[train_s.len() / 2],
            "train_cpu_s_median": train_cpu_s.get(train_cpu_s.len() / 2),
            "parse_utterances": n,
            "parse_per_s": (n as f64 / total).round(),
            "parse_per_cpu_s": cpu.map(|c| (n as f64 / c).round()),
            "latency_us_p50": (pct(0.50) * 10.0).round() / 10.0,
            "latency_us_p99": (pct(0.99) * 10.0).round() / 10.0,
            "latency_us_max": (lat[n - 1] * 10.0).round() / 10.0,
        })
    );
}
