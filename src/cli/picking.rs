//! `freshbot picking`: plan a slot's picking wave, check scans, count a day's picking errors
//! (against the database), and `bench`: route and batch the public order-picking benchmark
//! instances (Henn-style `henn_w5a`, Albareda-Sambola `albareda2009`) and print JSON lines.
//! The instance files are research fixtures read from disk; nothing of them is shipped.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use serde_json::json;

use crate::fulfillment::picking::benchmark_formats::{
    parse_albareda_layout, parse_albareda_orders, parse_henn_orders, parse_henn_setting,
};
use crate::fulfillment::picking::{Batch, RoutingMethod, batch_by_savings, batch_fcfs, route_with};

/// Options of `freshbot picking`.
#[derive(Debug, clap::Args)]
pub struct PickingArgs {
    #[command(subcommand)]
    pub command: PickingCommand,
}

/// Picking subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum PickingCommand {
    /// Route every order of Henn instances and/or batch Albareda instances; JSON per instance.
    Bench(BenchArgs),
    /// Plan the picking wave of a delivery slot: one JSON line per batch (picks in route
    /// order), then a summary; the slot's confirmed orders move to picking.
    Wave(WaveArgs),
    /// Check one scan against the order's pick list; prints the verdict as JSON.
    Scan(ScanArgs),
    /// Scans, mis-picks and shortages of a day as JSON.
    Day(DayArgs),
}

/// Options of `freshbot picking wave`.
#[derive(Debug, clap::Args)]
pub struct WaveArgs {
    /// Start of the delivery slot (RFC 3339, e.g. 2026-11-25T10:00:00+08:00).
    #[arg(long)]
    pub slot: chrono::DateTime<chrono::FixedOffset>,
    /// Warehouse configuration (TOML); the demo warehouse if absent.
    #[arg(long)]
    pub warehouse: Option<PathBuf>,
}

/// Options of `freshbot picking scan`.
#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// Order number of the tote.
    #[arg(long)]
    pub order: String,
    /// The scanned sku.
    #[arg(long)]
    pub sku: String,
    /// Quantity put in the tote, in the line's unit (e.g. 1.5 for 1.5 jin; 0 if none found).
    #[arg(long)]
    pub qty: String,
    /// Who scanned.
    #[arg(long, default_value = "picker")]
    pub picker: String,
}

/// Options of `freshbot picking day`.
#[derive(Debug, clap::Args)]
pub struct DayArgs {
    /// The day (YYYY-MM-DD, Asia/Shanghai).
    #[arg(long)]
    pub date: chrono::NaiveDate,
}

/// Options of `freshbot picking bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Folder of Henn-style instances (`settNN.txt` + `NN?-*.txt`, searched recursively).
    #[arg(long)]
    pub henn: Option<PathBuf>,
    /// Folder of Albareda-Sambola instances (`wsrp_input_layout_*`, searched recursively).
    #[arg(long)]
    pub albareda: Option<PathBuf>,
}

pub fn run(args: PickingArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        PickingCommand::Bench(a) => bench(a),
        PickingCommand::Wave(a) => wave(a),
        PickingCommand::Scan(a) => scan(a),
        PickingCommand::Day(a) => day(a),
    }
}

fn wave(args: WaveArgs) -> anyhow::Result<ExitCode> {
    let cfg = super::replenish::warehouse_config(args.warehouse.as_deref())?;
    let slot = args.slot.with_timezone(&chrono::Utc);
    super::replenish::with_services(|services| async move {
        let wave = services
            .plan_picking_wave(&cfg, slot)
            .await
            .context("planning the picking wave")?;
        for b in &wave.batches {
            println!(
                "{}",
                serde_json::to_string(&json!({ "wave": wave.id, "batch": b }))?
            );
        }
        println!(
            "{}",
            json!({
                "wave": wave.id,
                "slot_start": wave.slot_start,
                "orders": wave.orders,
                "batches": wave.batches.len(),
                "capacity_kg": wave.capacity_kg,
                "total_length": round3(wave.total_length),
            })
        );
        Ok(ExitCode::SUCCESS)
    })
}

fn scan(args: ScanArgs) -> anyhow::Result<ExitCode> {
    let qty_milli = super::replenish::parse_milli(&args.qty)?;
    super::replenish::with_services(|services| async move {
        let report = services
            .scan(crate::services::ScanRequest {
                order: args.order,
                sku: args.sku,
                qty_milli,
                picker: args.picker,
            })
            .await
            .context("checking the scan")?;
        println!("{}", serde_json::to_string(&report)?);
        Ok(ExitCode::SUCCESS)
    })
}

fn day(args: DayArgs) -> anyhow::Result<ExitCode> {
    super::replenish::with_services(|services| async move {
        let day = services
            .picking_day(args.date)
            .await
            .context("counting the day's scans")?;
        println!("{}", serde_json::to_string(&day)?);
        Ok(ExitCode::SUCCESS)
    })
}

fn bench(args: BenchArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.henn.is_some() || args.albareda.is_some(),
        "give --henn DIR and/or --albareda DIR"
    );
    if let Some(dir) = &args.henn {
        henn(dir)?;
    }
    if let Some(dir) = &args.albareda {
        albareda(dir)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).with_context(|| format!("listing {}", d.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

fn name(path: &Path, root: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .with_extension("")
        .display()
        .to_string()
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn henn(dir: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    let all = files(dir)?;
    let (mut n, mut sum_s, mut sum_l, mut sum_o) = (0usize, 0.0, 0.0, 0.0);
    let mut violations = 0usize;
    for orders_path in all.iter().filter(|p| {
        p.file_name()
            .and_then(|f| f.to_str())
            .is_some_and(|f| f.contains('-') && f.ends_with(".txt"))
    }) {
        let file = orders_path
            .file_name()
            .and_then(|f| f.to_str())
            .unwrap_or_default();
        let number: String = file.chars().take_while(char::is_ascii_digit).collect();
        let setting_path = orders_path.with_file_name(format!("sett{number}.txt"));
        let setting = parse_henn_setting(&read(&setting_path)?)
            .with_context(|| format!("parsing {}", setting_path.display()))?;
        let layout = setting.layout();
        let orders = parse_henn_orders(&read(orders_path)?, &setting)
            .with_context(|| format!("parsing {}", orders_path.display()))?;
        let (mut s, mut l, mut o) = (0.0, 0.0, 0.0);
        for order in &orders {
            let rs = route_with(&layout, &order.picks, RoutingMethod::SShape).length;
            let rl = route_with(&layout, &order.picks, RoutingMethod::LargestGap).length;
            let ro = route_with(&layout, &order.picks, RoutingMethod::Optimal).length;
            if ro > rs + 1e-9 || ro > rl + 1e-9 {
                violations += 1;
            }
            s += rs;
            l += rl;
            o += ro;
        }
        let k = orders.len().max(1) as f64;
        println!(
            "{}",
            json!({
                "instance": name(orders_path, dir),
                "orders": orders.len(),
                "s_shape": round3(s / k),
                "largest_gap": round3(l / k),
                "optimal": round3(o / k),
                "s_shape_above_optimal_pct": round3(100.0 * (s / o - 1.0)),
                "largest_gap_above_optimal_pct": round3(100.0 * (l / o - 1.0)),
            })
        );
        n += orders.len();
        sum_s += s;
        sum_l += l;
        sum_o += o;
    }
    let k = n.max(1) as f64;
    println!(
        "{}",
        json!({
            "benchmark": "henn",
            "orders": n,
            "s_shape_mean": round3(sum_s / k),
            "largest_gap_mean": round3(sum_l / k),
            "optimal_mean": round3(sum_o / k),
            "s_shape_above_optimal_pct": round3(100.0 * (sum_s / sum_o - 1.0)),
            "largest_gap_above_optimal_pct": round3(100.0 * (sum_l / sum_o - 1.0)),
            "optimal_longer_than_a_heuristic": violations,
            "seconds": round3(started.elapsed().as_secs_f64()),
        })
    );
    Ok(())
}

fn total(batches: &[Batch]) -> f64 {
    batches.iter().map(|b| b.route.length).sum()
}

fn albareda(dir: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    let all = files(dir)?;
    let (mut sum_fcfs, mut sum_ours, mut instances) = (0.0, 0.0, 0usize);
    for layout_path in all.iter().filter(|p| {
        p.file_name()
            .and_then(|f| f.to_str())
            .is_some_and(|f| f.starts_with("wsrp_input_layout_"))
    }) {
        let file = layout_path
            .file_name()
            .and_then(|f| f.to_str())
            .unwrap_or_default();
        let orders_path =
            layout_path.with_file_name(file.replace("wsrp_input_layout_", "wsrp_input_pedido_"));
        let parsed = parse_albareda_layout(&read(layout_path)?)
            .with_context(|| format!("parsing {}", layout_path.display()))?;
        let orders = parse_albareda_orders(&read(&orders_path)?)
            .with_context(|| format!("parsing {}", orders_path.display()))?;
        let t = Instant::now();
        let fcfs = batch_fcfs(&parsed.layout, &orders, parsed.capacity)?;
        let ours = batch_by_savings(&parsed.layout, &orders, parsed.capacity)?;
        let (df, do_) = (total(&fcfs), total(&ours));
        println!(
            "{}",
            json!({
                "instance": name(layout_path, dir),
                "orders": orders.len(),
                "capacity": parsed.capacity,
                "fcfs_batches": fcfs.len(),
                "fcfs_distance": round3(df),
                "batches": ours.len(),
                "distance": round3(do_),
                "saving_pct": round3(100.0 * (1.0 - do_ / df)),
                "seconds": round3(t.elapsed().as_secs_f64()),
            })
        );
        sum_fcfs += df;
        sum_ours += do_;
        instances += 1;
    }
    println!(
        "{}",
        json!({
            "benchmark": "albareda",
            "instances": instances,
            "fcfs_distance": round3(sum_fcfs),
            "distance": round3(sum_ours),
            "saving_pct": round3(100.0 * (1.0 - sum_ours / sum_fcfs)),
            "seconds": round3(started.elapsed().as_secs_f64()),
        })
    );
    Ok(())
}
