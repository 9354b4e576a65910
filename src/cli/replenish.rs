//! `freshbot replenish --date`: the day's purchase list from the database (and an optional
//! imported sales history); also the shared plumbing of the warehouse commands (open the
//! database, read the warehouse configuration, parse amounts).

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use chrono::NaiveDate;
use serde_json::json;

use crate::fulfillment::replenishment::parse_sales_csv;
use crate::services::{Services, SystemClock, WarehouseConfig};

/// Options of `freshbot replenish`.
#[derive(Debug, clap::Args)]
pub struct ReplenishArgs {
    /// The day to plan (YYYY-MM-DD, Asia/Shanghai); sales up to the day before are used.
    #[arg(long)]
    pub date: NaiveDate,
    /// Extra sales history (`series_id,date,quantity` with the sku as series id, quantities
    /// in the selling unit), added to the delivered orders.
    #[arg(long)]
    pub sales: Option<PathBuf>,
    /// Warehouse configuration (TOML like `demo/warehouse.toml`); the demo warehouse if absent.
    #[arg(long)]
    pub warehouse: Option<PathBuf>,
}

pub fn run(args: ReplenishArgs) -> anyhow::Result<ExitCode> {
    let cfg = warehouse_config(args.warehouse.as_deref())?;
    let sales = match &args.sales {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            parse_sales_csv(&text).with_context(|| format!("parsing {}", path.display()))?
        }
        None => Vec::new(),
    };
    with_services(|services| async move {
        let plan = services
            .replenishment_plan(&cfg, args.date, &sales)
            .await
            .context("planning the purchases")?;
        for line in &plan.lines {
            println!("{}", serde_json::to_string(line)?);
        }
        println!(
            "{}",
            json!({
                "date": plan.date,
                "lines": plan.lines.len(),
                "total_fen": plan.total_fen,
                "planned": plan.planned,
                "without_history": plan.without_history,
                "alerts": plan.alerts,
            })
        );
        Ok(ExitCode::SUCCESS)
    })
}

/// The warehouse configuration from a file, or the compiled-in demo warehouse.
pub(super) fn warehouse_config(path: Option<&Path>) -> anyhow::Result<WarehouseConfig> {
    match path {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            WarehouseConfig::parse(&text).with_context(|| format!("in {}", p.display()))
        }
        None => Ok(WarehouseConfig::demo()?),
    }
}

/// Runs `f` with the application's services on the configured database.
pub(super) fn with_services<F, Fut>(f: F) -> anyhow::Result<ExitCode>
where
    F: FnOnce(Services) -> Fut,
    Fut: Future<Output = anyhow::Result<ExitCode>>,
{
    let settings = crate::config::Settings::load().context("loading settings")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let store = crate::store::Store::connect(&settings.database_url()?)
            .await
            .context("opening the database")?;
        f(Services::new(
            store,
            settings.business.clone(),
            Arc::new(SystemClock),
        ))
        .await
    })
}

/// A non-negative decimal amount with at most three decimals, in thousandths: `1.5` -> 1500.
pub(super) fn parse_milli(amount: &str) -> anyhow::Result<i64> {
    let s = amount.trim();
    let bad = || anyhow::anyhow!("{amount:?} is not an amount; write e.g. 2 or 1.5");
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if (int.is_empty() && frac.is_empty())
        || frac.len() > 3
        || int.len() > 9
        || !int.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        return Err(bad());
    }
    let int: i64 = if int.is_empty() { 0 } else { int.parse()? };
    let frac: i64 = format!("{frac:0<3}").parse().map_err(|_| bad())?;
    Ok(int * 1000 + frac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_become_thousandths() {
        for (text, milli) in [
            ("2", 2000),
            ("1.5", 1500),
            ("0", 0),
            (".25", 250),
            ("0.125", 125),
        ] {
            assert_eq!(parse_milli(text).unwrap(), milli, "{text}");
        }
        for bad in ["", "-1", "1.2345", "abc", "1,5"] {
            assert!(parse_milli(bad).is_err(), "{bad}");
        }
    }
}
