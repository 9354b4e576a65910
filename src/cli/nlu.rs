//! `freshbot nlu parse` and `freshbot nlu eval` (contracts in DESIGN.md).

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use crate::nlu::{Classifier, Example, Nlu, NluConfig, OUT_OF_SCOPE, TrainConfig, training_data};
use anyhow::Context;
use clap::{Args, Subcommand};

/// Arguments of `freshbot nlu`.
#[derive(Debug, Args)]
pub struct NluArgs {
    #[command(subcommand)]
    pub command: NluCommand,
}

/// The `nlu` subcommands.
#[derive(Debug, Subcommand)]
pub enum NluCommand {
    /// Read one utterance per stdin line, print one JSON parse per line.
    Parse(ParseArgs),
    /// Train on a TSV (or use the shipped intents/ model) and score a TSV test set.
    Eval(EvalArgs),
}

/// Arguments of `nlu parse`.
#[derive(Debug, Args)]
pub struct ParseArgs {
    /// Reference time for relative dates (RFC 3339); defaults to the current time.
    #[arg(long)]
    pub now: Option<String>,
}

/// Arguments of `nlu eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Training set, `text<TAB>intent` lines; without it the shipped intents/ model is used.
    #[arg(long)]
    pub train: Option<PathBuf>,
    /// Test set, `text<TAB>intent` lines.
    #[arg(long)]
    pub test: PathBuf,
    /// Label of out-of-scope examples in the test set (scored as in-scope accuracy / OOS recall).
    #[arg(long, default_value = "oos")]
    pub oos_label: String,
    /// Predict the out-of-scope label when the top calibrated confidence is below this
    /// (fits a temperature by 5-fold cross-validation when used with --train).
    #[arg(long)]
    pub oos_threshold: Option<f32>,
    /// Training passes (hyper-parameter).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// AdaGrad learning rate (hyper-parameter).
    #[arg(long)]
    pub lr: Option<f32>,
    /// L2 penalty (hyper-parameter).
    #[arg(long)]
    pub l2: Option<f32>,
    /// Char n-gram range inside Latin words, e.g. `2-5` (hyper-parameter).
    #[arg(long)]
    pub latin_ngrams: Option<String>,
    /// Largest char n-gram over Han runs (hyper-parameter).
    #[arg(long)]
    pub han_max: Option<usize>,
    /// Leave out word features (hyper-parameter).
    #[arg(long)]
    pub no_words: bool,
    /// One L2 norm per feature family (chars, words) instead of one over all (hyper-parameter).
    #[arg(long)]
    pub split_norm: bool,
    /// Keep the last SGD iterate instead of the averaged weights (hyper-parameter).
    #[arg(long)]
    pub no_average: bool,
    /// Training objective: `softmax` (logistic regression, the default), `squared-hinge`
    /// (one-vs-rest, as LinearSVC) or `ensemble` (both, calibrated probabilities averaged;
    /// calibrates with at least 3 folds) (hyper-parameter).
    #[arg(long)]
    pub loss: Option<crate::nlu::Loss>,
    /// Weight decay per pass, the plain L2 of scikit-learn's objectives (1/C) (hyper-parameter).
    #[arg(long)]
    pub decay: Option<f32>,
    /// Longest word n-gram: 1, 2 (the default) or 3 (hyper-parameter).
    #[arg(long)]
    pub word_max: Option<usize>,
    /// Folds of the temperature calibration (default: 5 with --oos-threshold, else none; an
    /// ensemble uses at least 3).
    #[arg(long)]
    pub calibration_folds: Option<usize>,
    /// Print the misclassified test examples to stderr.
    #[arg(long)]
    pub errors: bool,
    /// Blend the default model with a dense head over the rust-bert sentence encoder in
    /// FRESHBOT_BERT_MODEL_DIR, with FRESHBOT_BERT_MODEL_DIR_ZH for Chinese texts when set
    /// (needs a build with `--features bert`); the report adds each
    /// model's accuracy alone, the chosen weights and the encoding time.
    #[arg(long)]
    pub bert: bool,
}

/// Runs an `nlu` subcommand.
pub fn run(args: NluArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        NluCommand::Parse(a) => parse(a),
        NluCommand::Eval(a) => eval(a),
    }
}

fn parse(args: ParseArgs) -> anyhow::Result<ExitCode> {
    let now = match &args.now {
        Some(s) => chrono::DateTime::parse_from_rfc3339(s).with_context(|| {
            format!("--now {s:?} is not an RFC 3339 time, e.g. 2026-11-25T09:30:00+08:00")
        })?,
        None => chrono::Utc::now().fixed_offset(),
    };
    let started = Instant::now();
    let nlu = crate::nlu::shipped_nlu()
        .context("cannot train the NLU model from the embedded intents/")?;
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        "nlu model trained"
    );
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut buf = Vec::new();
    let mut input = stdin.lock();
    loop {
        buf.clear();
        let n = input
            .read_until(b'\n', &mut buf)
            .context("cannot read stdin")?;
        if n == 0 {
            break;
        }
        let line = String::from_utf8_lossy(&buf);
        let line = line.trim_end_matches(['\n', '\r']);
        let parsed = nlu.parse(line, now);
        serde_json::to_writer(&mut out, &parsed).context("cannot write JSON")?;
        out.write_all(b"\n").context("cannot write stdout")?;
    }
    out.flush().context("cannot write stdout")?;
    Ok(ExitCode::SUCCESS)
}

fn read_tsv(path: &PathBuf) -> anyhow::Result<Vec<Example>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(training_data::parse_tsv(
        &path.display().to_string(),
        &text,
    )?)
}

fn train_config(args: &EvalArgs) -> anyhow::Result<TrainConfig> {
    let mut cfg = TrainConfig::default();
    if let Some(e) = args.epochs {
        cfg.epochs = e;
    }
    if let Some(lr) = args.lr {
        cfg.learning_rate = lr;
    }
    if let Some(l2) = args.l2 {
        cfg.l2 = l2;
    }
    if let Some(r) = &args.latin_ngrams {
        let (a, b) = r
            .split_once('-')
            .context("--latin-ngrams wants MIN-MAX, e.g. 2-5")?;
        cfg.features.latin_min = a.parse().context("--latin-ngrams MIN")?;
        cfg.features.latin_max = b.parse().context("--latin-ngrams MAX")?;
    }
    if let Some(h) = args.han_max {
        cfg.features.han_max = h;
    }
    if args.no_words {
        cfg.features.words = false;
    }
    if args.split_norm {
        cfg.features.split_norm = true;
    }
    if args.no_average {
        cfg.average = false;
    }
    if let Some(loss) = args.loss {
        cfg.loss = loss;
    }
    if let Some(decay) = args.decay {
        anyhow::ensure!(
            decay.is_finite() && decay >= 0.0,
            "--decay wants a number >= 0"
        );
        cfg.decay = decay;
    }
    if let Some(n) = args.word_max {
        cfg.features.word_max = n;
    }
    cfg.calibration_folds = args
        .calibration_folds
        .unwrap_or(if args.oos_threshold.is_some() { 5 } else { 0 });
    Ok(cfg)
}

/// The sentence encoder of `--bert`.
#[cfg(feature = "bert")]
fn bert_encoder() -> anyhow::Result<std::sync::Arc<dyn crate::nlu::SentenceEncoder>> {
    Ok(crate::nlu::bert::encoder_from_env()?)
}

#[cfg(not(feature = "bert"))]
fn bert_encoder() -> anyhow::Result<std::sync::Arc<dyn crate::nlu::SentenceEncoder>> {
    anyhow::bail!(
        "--bert needs a freshbot built with the bert feature: \
         eval \"$(scripts/ensure-libtorch.sh)\" && cargo build --release --features bert"
    )
}

fn eval(args: EvalArgs) -> anyhow::Result<ExitCode> {
    let test = read_tsv(&args.test)?;
    anyhow::ensure!(!test.is_empty(), "{} holds no example", args.test.display());
    if args.bert {
        return eval_bert(&args, &test);
    }
    let started = Instant::now();
    // Either a bare classifier trained on --train, or the shipped model with its threshold.
    enum Model {
        Plain(Classifier),
        Shipped(Box<Nlu>),
    }
    let model = match &args.train {
        Some(path) => {
            let train = read_tsv(path)?;
            Model::Plain(Classifier::train(&train, &train_config(&args)?)?)
        }
        None => {
            let mut config = NluConfig::default();
            if let Some(t) = args.oos_threshold {
                config.oos_threshold = t;
            }
            let examples = crate::nlu::embedded_examples()?;
            Model::Shipped(Box::new(Nlu::train(
                &examples,
                crate::nlu::demo_catalog()?,
                config,
            )?))
        }
    };
    let train_s = started.elapsed().as_secs_f64();
    let oos_label = match &model {
        Model::Plain(_) => args.oos_label.clone(),
        Model::Shipped(_) => OUT_OF_SCOPE.to_owned(),
    };
    let started = Instant::now();
    let predicted: Vec<String> = test
        .iter()
        .map(|e| match &model {
            Model::Plain(c) => {
                let (label, conf) = c.predict(&e.text);
                match args.oos_threshold {
                    Some(t) if conf < t => oos_label.clone(),
                    _ => label.to_owned(),
                }
            }
            Model::Shipped(n) => n.classify(&e.text).0.name,
        })
        .collect();
    let predict_s = started.elapsed().as_secs_f64().max(1e-9);

    // An ensemble also reports each member alone (same training run), for comparison.
    let mut extra = Vec::new();
    if let Model::Plain(c) = &model
        && c.temperatures().len() > 1
    {
        let per_example: Vec<Vec<Vec<f32>>> = test
            .iter()
            .map(|e| c.member_probabilities(&e.text))
            .collect();
        let mut accuracies = Vec::new();
        let mut in_scope = Vec::new();
        for m in 0..c.temperatures().len() {
            let labels: Vec<&str> = per_example
                .iter()
                .map(|p| {
                    // First of the most likely labels, as Classifier::predict.
                    let best = p[m]
                        .iter()
                        .enumerate()
                        .fold(
                            (0, f32::NEG_INFINITY),
                            |b, (i, &v)| if v > b.1 { (i, v) } else { b },
                        )
                        .0;
                    c.labels().get(best).map_or("", String::as_str)
                })
                .collect();
            let right = |keep: &dyn Fn(&Example) -> bool| {
                let (n, ok) = test
                    .iter()
                    .zip(&labels)
                    .filter(|(e, _)| keep(e))
                    .fold((0usize, 0usize), |(n, ok), (e, p)| {
                        (n + 1, ok + usize::from(e.label == *p))
                    });
                round(ok as f64 / n.max(1) as f64)
            };
            accuracies.push(right(&|_| true));
            in_scope.push(right(&|e| e.label != oos_label));
        }
        extra.push(("member_accuracy", serde_json::json!(accuracies)));
        if test.iter().any(|e| e.label == oos_label) {
            extra.push(("member_in_scope_accuracy", serde_json::json!(in_scope)));
        }
        extra.push(("temperatures", serde_json::json!(c.temperatures())));
    }
    report(
        &args, &test, &predicted, &oos_label, train_s, predict_s, extra,
    )
}

/// `nlu eval --bert`: the default model, the dense head over the sentence encoder and their
/// blend, each scored on the test set (the blend is the reported `accuracy`).
fn eval_bert(args: &EvalArgs, test: &[Example]) -> anyhow::Result<ExitCode> {
    use crate::nlu::{BlendedModel, DenseConfig};
    anyhow::ensure!(
        args.oos_threshold.is_none(),
        "--bert does not combine with --oos-threshold yet"
    );
    let encoder = bert_encoder()?;
    let started = Instant::now();
    let (blend, oos_label) = match &args.train {
        Some(path) => {
            let train = read_tsv(path)?;
            let model = BlendedModel::train(
                &train,
                encoder,
                &train_config(args)?,
                &DenseConfig::default(),
            )?;
            (model, args.oos_label.clone())
        }
        None => {
            let nlu = crate::nlu::Nlu::train_with_encoder(
                &crate::nlu::embedded_examples()?,
                crate::nlu::demo_catalog()?,
                NluConfig::default(),
                encoder,
                &DenseConfig::default(),
            )?;
            let blend = nlu
                .blend()
                .cloned()
                .context("the NLU was trained without its encoder")?;
            (blend, OUT_OF_SCOPE.to_owned())
        }
    };
    let train_s = started.elapsed().as_secs_f64();
    let texts: Vec<&str> = test.iter().map(|e| e.text.as_str()).collect();
    let started = Instant::now();
    let vectors = blend.encode(&texts, DenseConfig::default().batch)?;
    let encode_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let label = |i: usize| blend.labels().get(i).cloned().unwrap_or_default();
    let predicted: Vec<String> = texts
        .iter()
        .zip(&vectors)
        .map(|(t, v)| label(blend.predict_with(t, v).0))
        .collect();
    let predict_s = started.elapsed().as_secs_f64() + encode_s;
    let accuracy_of = |labels: &[String]| -> f64 {
        let hits = test
            .iter()
            .zip(labels)
            .filter(|(e, p)| &e.label == *p)
            .count();
        hits as f64 / test.len().max(1) as f64
    };
    let sparse: Vec<String> = texts
        .iter()
        .map(|t| blend.sparse().predict(t).0.to_owned())
        .collect();
    let dense: Vec<String> = vectors
        .iter()
        .map(|v| label(blend.dense_predict(v).0))
        .collect();
    // One message at a time, as in a chat turn: the blend encodes it alone (only messages
    // whose language gives the dense head weight reach the encoder).
    let mut single_ms: Vec<f64> = Vec::new();
    for t in texts.iter().take(300) {
        let started = Instant::now();
        blend.probabilities(t)?;
        single_ms.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    single_ms.sort_by(f64::total_cmp);
    let pct = |q: f64| -> f64 {
        let i = ((single_ms.len() as f64 - 1.0) * q).round() as usize;
        single_ms.get(i).copied().unwrap_or(0.0)
    };
    let w = blend.weights();
    let v = blend.validation();
    eprintln!(
        "encoder {}: default model {:.4}, dense head {:.4}, blend {:.4} on the test set; \
         weights of the default model zh {} en {} (validation n {}: default {:.4}, dense {:.4}, blend {:.4})",
        blend.encoder_name(),
        accuracy_of(&sparse),
        accuracy_of(&dense),
        accuracy_of(&predicted),
        w.zh,
        w.en,
        v.n,
        v.sparse_accuracy,
        v.dense_accuracy,
        v.blend_accuracy
    );
    let extra = vec![
        ("encoder", serde_json::json!(blend.encoder_name())),
        (
            "default_accuracy",
            serde_json::json!(round(accuracy_of(&sparse))),
        ),
        (
            "dense_accuracy",
            serde_json::json!(round(accuracy_of(&dense))),
        ),
        ("weight_zh", serde_json::json!(round(f64::from(w.zh)))),
        ("weight_en", serde_json::json!(round(f64::from(w.en)))),
        ("single_ms_p50", serde_json::json!(round(pct(0.5)))),
        ("single_ms_p99", serde_json::json!(round(pct(0.99)))),
        (
            "encode_ms_per_utterance",
            serde_json::json!(round(1000.0 * encode_s / test.len().max(1) as f64)),
        ),
    ];
    report(
        args, test, &predicted, &oos_label, train_s, predict_s, extra,
    )
}

/// Prints the per-intent table and the summary line of `nlu eval`; `extra` fields are added to
/// the JSON summary.
fn report(
    args: &EvalArgs,
    test: &[Example],
    predicted: &[String],
    oos_label: &str,
    train_s: f64,
    predict_s: f64,
    extra: Vec<(&str, serde_json::Value)>,
) -> anyhow::Result<ExitCode> {
    let n = test.len();
    let correct = test
        .iter()
        .zip(predicted)
        .filter(|(e, p)| &e.label == *p)
        .count();
    let accuracy = correct as f64 / n as f64;
    // Per-label counts over the union of gold and predicted labels (as scikit-learn's macro-F1).
    let mut stats: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new(); // tp, fp, fn
    for (e, p) in test.iter().zip(predicted) {
        if &e.label == p {
            stats.entry(&e.label).or_default().0 += 1;
        } else {
            stats.entry(p).or_default().1 += 1;
            stats.entry(&e.label).or_default().2 += 1;
        }
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    writeln!(
        out,
        "{:<40} {:>9} {:>9} {:>9} {:>8}",
        "intent", "precision", "recall", "f1", "support"
    )?;
    let mut f1_sum = 0.0;
    for (label, &(tp, fp, fnn)) in &stats {
        let p = if tp + fp > 0 {
            tp as f64 / (tp + fp) as f64
        } else {
            0.0
        };
        let r = if tp + fnn > 0 {
            tp as f64 / (tp + fnn) as f64
        } else {
            0.0
        };
        let f1 = if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        };
        f1_sum += f1;
        writeln!(
            out,
            "{label:<40} {p:>9.4} {r:>9.4} {f1:>9.4} {:>8}",
            tp + fnn
        )?;
    }
    let macro_f1 = f1_sum / stats.len().max(1) as f64;
    writeln!(
        out,
        "accuracy {accuracy:.4}  macro-F1 {macro_f1:.4}  n {n}  train {train_s:.3} s  predict {:.0} utterances/s",
        n as f64 / predict_s
    )?;
    let mut summary = serde_json::json!({
        "accuracy": round(accuracy),
        "macro_f1": round(macro_f1),
        "n": n,
        "train_s": round(train_s),
        "predict_per_s": (n as f64 / predict_s).round(),
    });
    let oos_total = test.iter().filter(|e| e.label == oos_label).count();
    if oos_total > 0 {
        let in_scope: Vec<_> = test
            .iter()
            .zip(predicted)
            .filter(|(e, _)| e.label != oos_label)
            .collect();
        let in_acc = in_scope.iter().filter(|(e, p)| &e.label == *p).count() as f64
            / in_scope.len().max(1) as f64;
        let oos_recall = test
            .iter()
            .zip(predicted)
            .filter(|(e, p)| e.label == oos_label && **p == oos_label)
            .count() as f64
            / oos_total as f64;
        writeln!(
            out,
            "in-scope accuracy {in_acc:.4}  out-of-scope recall {oos_recall:.4} ({oos_total} {oos_label} examples)"
        )?;
        summary["in_scope_accuracy"] = serde_json::json!(round(in_acc));
        summary["oos_recall"] = serde_json::json!(round(oos_recall));
    }
    if args.errors {
        for (e, p) in test.iter().zip(predicted) {
            if &e.label != p {
                eprintln!("{}\tgold={}\tpredicted={}", e.text, e.label, p);
            }
        }
    }
    for (key, value) in extra {
        summary[key] = value;
    }
    writeln!(out, "{summary}")?;
    Ok(ExitCode::SUCCESS)
}

fn round(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}
