//! `freshbot forecast`: evaluate the demand forecaster on a sales history.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;

use crate::fulfillment::replenishment::{
    EvaluationReport, ForecastConfig, HoldoutProtocol, ModelKind, evaluate_holdout, parse_sales_csv,
};

/// Options of `freshbot forecast`.
#[derive(Debug, clap::Args)]
pub struct ForecastArgs {
    #[command(subcommand)]
    pub command: ForecastCommand,
}

/// Forecasting subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum ForecastCommand {
    /// Hold out the last days of every series, forecast them and print MASE/sMAPE as JSON.
    Eval(EvalArgs),
}

/// Options of `freshbot forecast eval`.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// Sales history CSV with header `series_id,date,quantity`.
    #[arg(long)]
    pub data: std::path::PathBuf,
    /// Days held out and forecast per origin.
    #[arg(long, default_value_t = 28)]
    pub horizon: usize,
    /// Consecutive hold-out windows (rolling origins) at the end of the data; the anchors'
    /// horizon-7 protocol uses 4.
    #[arg(long, default_value_t = 1)]
    pub origins: usize,
    /// Use only this model family (e.g. seasonal_naive) instead of choosing per series.
    #[arg(long, value_parser = parse_model)]
    pub model: Option<ModelKind>,
    /// Days at the end of each training history used to validate the candidate models.
    #[arg(long, default_value_t = 84)]
    pub validation_days: usize,
    /// Average the forecasts of this many best-validated models (1 = use the best one).
    #[arg(long, default_value_t = 5)]
    pub combine_top: usize,
    /// Ignore the data after this date (YYYY-MM-DD), e.g. to tune on earlier windows without
    /// looking at the final test window.
    #[arg(long)]
    pub end: Option<chrono::NaiveDate>,
    /// Also print one JSON line per series and origin (to stderr).
    #[arg(long)]
    pub per_series: bool,
}

fn parse_model(text: &str) -> Result<ModelKind, String> {
    let all = [
        ModelKind::Naive,
        ModelKind::SeasonalNaive,
        ModelKind::WindowAverage,
        ModelKind::WeekdayAverage,
        ModelKind::WeekdayProfileSes,
        ModelKind::HoltWinters,
        ModelKind::CrostonSba,
        ModelKind::Tsb,
        ModelKind::Combination,
    ];
    all.into_iter().find(|k| k.name() == text).ok_or_else(|| {
        let names: Vec<&str> = all.iter().map(|k| k.name()).collect();
        format!(
            "unknown model `{text}`; expected one of {}",
            names.join(", ")
        )
    })
}

pub fn run(args: ForecastArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        ForecastCommand::Eval(a) => eval(a),
    }
}

fn eval(args: EvalArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(args.horizon > 0, "--horizon must be at least 1 day");
    anyhow::ensure!(args.origins > 0, "--origins must be at least 1");
    let text = std::fs::read_to_string(&args.data)
        .with_context(|| format!("reading {}", args.data.display()))?;
    let mut series =
        parse_sales_csv(&text).with_context(|| format!("parsing {}", args.data.display()))?;
    if let Some(end) = args.end {
        series = series
            .into_iter()
            .filter(|s| s.start <= end)
            .map(|s| {
                let len = s.index_of(end).map_or(s.quantities.len(), |i| i + 1);
                s.head(len)
            })
            .collect();
    }
    let mut config = ForecastConfig::for_horizon(args.horizon);
    config.only = args.model;
    config.validation_days = args.validation_days;
    config.combine_top = args.combine_top;
    let started = Instant::now();
    let report: EvaluationReport = evaluate_holdout(
        &series,
        HoldoutProtocol {
            horizon: args.horizon,
            origins: args.origins,
        },
        &config,
    )?;
    let seconds = started.elapsed().as_secs_f64();
    if args.per_series {
        for s in &report.scores {
            eprintln!("{}", serde_json::to_string(s)?);
        }
    }
    let out = serde_json::json!({
        "series": report.series,
        "horizon": report.horizon,
        "origins": report.origins,
        "mase": round4(report.mase_mean),
        "mase_median": round4(report.mase_median),
        "smape": round4(report.smape_mean),
        "seconds": round4(seconds),
        "chosen": report.chosen,
    });
    println!("{out}");
    Ok(ExitCode::SUCCESS)
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}
