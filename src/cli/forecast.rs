//! `freshbot forecast`: evaluate the demand forecaster on a sales history and replay the
//! replenishment policy over it.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;

use crate::fulfillment::replenishment::evaluation::MIN_SERIES_FOR_CLOSURE;
use crate::fulfillment::replenishment::simulation::{
    SimPolicy, SimulationResult, WARM_UP_DAYS, simulate as run_simulation, usual_weekly_quantity,
};
use crate::fulfillment::replenishment::{
    EvaluationReport, ForecastConfig, HoldoutProtocol, ModelKind, ProductTerms, closed_days,
    evaluate_holdout, parse_sales_csv,
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
    /// Replay the last days of a sales history under the forecast-driven replenishment policy
    /// and under a fixed weekly order; print stock-out days and spoilage as JSON.
    Simulate(SimulateArgs),
}

/// Options of `freshbot forecast simulate`.
#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// Sales history CSV with header `series_id,date,quantity`.
    #[arg(long)]
    pub data: std::path::PathBuf,
    /// Item list (`series_id,item_name_zh,category_code,...`) giving names and categories;
    /// the category sets the shelf life.
    #[arg(long)]
    pub items: Option<std::path::PathBuf>,
    /// Days simulated at the end of the history.
    #[arg(long, default_value_t = 90)]
    pub days: usize,
    /// Days from order to delivery.
    #[arg(long, default_value_t = 1)]
    pub lead_time: usize,
    /// Probability of not running out before the next delivery.
    #[arg(long, default_value_t = 0.9)]
    pub service_level: f64,
    /// Supplier pack size (kg or pieces).
    #[arg(long, default_value_t = 1.0)]
    pub pack_size: f64,
    /// Shelf life in days for items without a known category.
    #[arg(long, default_value_t = 2)]
    pub shelf_life: usize,
    /// Also print one JSON line per product (to stderr).
    #[arg(long)]
    pub per_series: bool,
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
    /// Leave these model families out of the choice (comma-separated; for ablations).
    #[arg(long, value_parser = parse_model, value_delimiter = ',')]
    pub without: Vec<ModelKind>,
    /// Add opt-in candidates to the choice (comma-separated; `holt_winters_mul`).
    #[arg(long, value_parser = parse_model, value_delimiter = ',')]
    pub with: Vec<ModelKind>,
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
        ModelKind::HoltWintersLog,
        ModelKind::HoltWintersMul,
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
        ForecastCommand::Simulate(a) => simulate(a),
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
    config.exclude = args.without.clone();
    config.include = args.with.clone();
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

/// Shelf life by category of the CUMCM 2023 vegetable data: leafy greens keep 2 days,
/// mushrooms 3, peppers, eggplants and cauliflower 5, lotus roots and tubers 7.
fn shelf_life_of_category(code: &str) -> Option<usize> {
    match code {
        "1011010101" => Some(2),
        "1011010801" => Some(3),
        "1011010201" | "1011010501" | "1011010504" => Some(5),
        "1011010402" => Some(7),
        _ => None,
    }
}

/// (name, category code) per series id from an items CSV.
fn read_items(
    path: &std::path::Path,
) -> anyhow::Result<std::collections::HashMap<String, (String, String)>> {
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    let mut out = std::collections::HashMap::new();
    for (i, row) in reader.records().enumerate() {
        let row = row.with_context(|| format!("{}: row {}", path.display(), i + 2))?;
        let (Some(id), Some(name), Some(code)) = (row.get(0), row.get(1), row.get(2)) else {
            anyhow::bail!(
                "{}: row {} needs series_id,item_name_zh,category_code",
                path.display(),
                i + 2
            );
        };
        out.insert(id.to_string(), (name.to_string(), code.to_string()));
    }
    Ok(out)
}

#[derive(Default, serde::Serialize)]
struct PolicyTotals {
    stockout_days: usize,
    spoiled_kg: f64,
    spoiled_pieces: f64,
    lost_sales: f64,
    sold: f64,
    received: f64,
}

impl PolicyTotals {
    fn add(&mut self, r: &SimulationResult, pieces: bool) {
        self.stockout_days += r.stockout_days;
        if pieces {
            self.spoiled_pieces += r.spoiled;
        } else {
            self.spoiled_kg += r.spoiled;
        }
        self.lost_sales += r.lost_sales;
        self.sold += r.sold;
        self.received += r.received;
    }

    fn rounded(&self) -> serde_json::Value {
        serde_json::json!({
            "stockout_days": self.stockout_days,
            "spoiled_kg": round1(self.spoiled_kg),
            "spoiled_pieces": round1(self.spoiled_pieces),
            "lost_sales": round1(self.lost_sales),
            "sold": round1(self.sold),
            "received": round1(self.received),
        })
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn simulate(args: SimulateArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(args.days > 0, "--days must be at least 1");
    anyhow::ensure!(
        args.service_level > 0.0 && args.service_level < 1.0,
        "--service-level must lie strictly between 0 and 1"
    );
    let text = std::fs::read_to_string(&args.data)
        .with_context(|| format!("reading {}", args.data.display()))?;
    let series =
        parse_sales_csv(&text).with_context(|| format!("parsing {}", args.data.display()))?;
    let items = match &args.items {
        Some(p) => read_items(p)?,
        None => Default::default(),
    };
    let closed = closed_days(&series, MIN_SERIES_FOR_CLOSURE);
    let started = Instant::now();
    let (mut ours, mut fixed) = (PolicyTotals::default(), PolicyTotals::default());
    let mut products = 0;
    for s in &series {
        let n = s.quantities.len();
        if n < args.days + WARM_UP_DAYS + 28 {
            continue;
        }
        let (name, category) = items.get(&s.id).cloned().unwrap_or_default();
        let pieces = ["份)", "盒)", "包)", "袋)"]
            .iter()
            .any(|m| name.ends_with(m));
        let terms = ProductTerms {
            sku: s.id.clone(),
            lead_time_days: args.lead_time,
            review_period_days: 1,
            shelf_life_days: shelf_life_of_category(&category).unwrap_or(args.shelf_life),
            pack_size: args.pack_size,
            pack_price_fen: 0,
            service_level: args.service_level,
        };
        let weekly = usual_weekly_quantity(s, n - args.days - WARM_UP_DAYS);
        let a = run_simulation(s, &closed, &terms, args.days, &SimPolicy::Forecast)?;
        let b = run_simulation(
            s,
            &closed,
            &terms,
            args.days,
            &SimPolicy::FixedWeekly { quantity: weekly },
        )?;
        if args.per_series {
            eprintln!(
                "{}",
                serde_json::json!({"series": s.id, "name": name, "shelf_life_days": terms.shelf_life_days,
                    "forecast_policy": a, "fixed_weekly": b})
            );
        }
        ours.add(&a, pieces);
        fixed.add(&b, pieces);
        products += 1;
    }
    println!(
        "{}",
        serde_json::json!({
            "products": products,
            "days": args.days,
            "forecast_policy": ours.rounded(),
            "fixed_weekly": fixed.rounded(),
            "seconds": round4(started.elapsed().as_secs_f64()),
        })
    );
    Ok(ExitCode::SUCCESS)
}
