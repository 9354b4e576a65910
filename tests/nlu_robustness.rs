//! Bad input never panics the NLU and gets a sensible answer; `freshbot nlu parse` keeps the
//! one-JSON-line-per-input contract.

#![allow(clippy::unwrap_used)] // test helpers panic on broken fixtures, which is the point

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use chrono::DateTime;
use freshbot::nlu::{Nlu, NluConfig, demo_catalog, embedded_examples};
use proptest::prelude::*;

fn nlu() -> &'static Nlu {
    static NLU: OnceLock<Nlu> = OnceLock::new();
    NLU.get_or_init(|| {
        // Calibration is not needed for robustness: skip it to keep the debug test fast.
        let mut cfg = NluConfig::default();
        cfg.train.calibration_folds = 0;
        cfg.train.epochs = 8;
        Nlu::train(&embedded_examples().unwrap(), demo_catalog().unwrap(), cfg).unwrap()
    })
}

fn now() -> DateTime<chrono::FixedOffset> {
    DateTime::parse_from_rfc3339("2026-11-24T09:30:00+08:00").unwrap()
}

fn check(text: &str) {
    let p = nlu().parse(text, now());
    assert!(!p.intent.name.is_empty());
    assert!(
        (0.0..=1.0).contains(&p.intent.confidence),
        "{text:?}: {}",
        p.intent.confidence
    );
    let n = text.chars().count();
    for e in &p.entities {
        assert!(
            e.start <= e.end && e.end <= n,
            "{text:?}: entity span {}..{} of {n}",
            e.start,
            e.end
        );
    }
    serde_json::to_string(&p).unwrap();
}

#[test]
fn hostile_inputs_get_an_answer() {
    let long = "我要两斤西红柿".repeat(1500);
    let long_en = "a".repeat(10_000);
    for text in [
        "",
        " ",
        "\u{0}\u{1}\u{7f}\t\r",
        "😀😀😀",
        "🍅🍅 x2",
        "<script>alert('x')</script>",
        "'; DROP TABLE orders; --",
        "SELECT * FROM users WHERE 1=1",
        long.as_str(),
        long_en.as_str(),
        "\u{202e}mixed مرحبا Привет 你好 hello",
        "99999999999999999999斤西红柿",
        "十万八千斤",
        "x",
        "2026-11-24T09:30:00",
        "下周周六星期天礼拜一 next next monday",
        "明天25点到26点",
        "32号 13月40日",
        "地址改成",
        "...............",
        "1111111111111111111111111111111111",
    ] {
        check(text);
    }
}

#[test]
fn noise_is_out_of_scope_with_low_confidence() {
    for text in ["", "   ", "😀😀😀", "....", "\u{0}\u{1}"] {
        let p = nlu().parse(text, now());
        assert_eq!(p.intent.name, "out_of_scope", "{text:?}");
        assert!(
            p.intent.confidence <= 0.5,
            "{text:?}: {}",
            p.intent.confidence
        );
        assert!(p.items.is_empty() && p.time.is_none());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn parse_never_panics_on_any_string(s in any::<String>()) {
        check(&s);
    }

    #[test]
    fn parse_never_panics_on_domain_like_text(
        s in "[0-9一二两三十半斤两个把盒袋kglb西红柿菠菜土豆tomatoes明天下午点到周六 :.-]{0,40}"
    ) {
        check(&s);
    }
}

#[test]
fn cli_parse_prints_one_json_line_per_input_line() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_freshbot"))
        .args(["nlu", "parse", "--now", "2026-11-24T09:30:00+08:00"])
        .current_dir(std::env::temp_dir())
        .env("FRESHBOT_LOG", "error")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let input = "我要两斤西红柿和一把菠菜,明天上午送\n\nwhere is my order\n<b>hi</b>\n";
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    let first = &lines[0];
    for key in [
        "text", "lang", "intent", "ranking", "items", "time", "entities",
    ] {
        assert!(first.get(key).is_some(), "missing {key}");
    }
    assert_eq!(first["lang"], "zh");
    assert_eq!(first["intent"]["name"], "order");
    assert_eq!(first["items"][0]["sku"], "VEG-TOMATO");
    assert_eq!(first["items"][0]["qty"], 2.0);
    assert_eq!(first["items"][0]["unit"], "jin");
    assert_eq!(first["items"][1]["unit"], "bunch");
    assert_eq!(first["time"]["start"], "2026-11-25T08:00:00+08:00");
    assert_eq!(first["time"]["end"], "2026-11-25T12:00:00+08:00");
    assert_eq!(lines[1]["intent"]["name"], "out_of_scope");
    assert!(lines[1]["time"].is_null());
    assert_eq!(lines[2]["intent"]["name"], "track");
    assert_eq!(lines[2]["lang"], "en");
}

#[test]
fn cli_rejects_a_bad_now() {
    let out = Command::new(env!("CARGO_BIN_EXE_freshbot"))
        .args(["nlu", "parse", "--now", "tomorrow"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("RFC 3339"));
}

#[test]
fn cli_eval_prints_a_json_summary_last() {
    let dir = tempfile::tempdir().unwrap();
    let train = dir.path().join("train.tsv");
    let test = dir.path().join("test.tsv");
    std::fs::write(
        &train,
        "where is my order\ttrack\ntrack my parcel\ttrack\nhello\tgreet\nhi there\tgreet\n",
    )
    .unwrap();
    std::fs::write(&test, "where's my parcel\ttrack\nhello there\tgreet\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_freshbot"))
        .args(["nlu", "eval", "--train"])
        .arg(&train)
        .arg("--test")
        .arg(&test)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let last: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    for key in ["accuracy", "macro_f1", "n", "train_s", "predict_per_s"] {
        assert!(last.get(key).is_some(), "missing {key}");
    }
    assert_eq!(last["n"], 2);
    assert!(stdout.contains("track"));
}
