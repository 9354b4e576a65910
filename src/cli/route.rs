//! `freshbot route`: plan courier routes. `solve` runs the VRPTW solver on one Solomon-format
//! file; `bench` runs a folder of them against a best-known-solutions CSV.
//!
//! This file owns the I/O the solver must not do: reading files, the clock (deadline) and the
//! seeded random generator.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rand::SeedableRng;
use rand::rngs::SmallRng;
use serde_json::json;

use crate::fulfillment::routing::{self, Budget, Instance, Params};

/// Options of `freshbot route`.
#[derive(Debug, clap::Args)]
pub struct RouteArgs {
    #[command(subcommand)]
    pub command: RouteCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum RouteCommand {
    /// Solve one Solomon-format VRPTW instance; prints one JSON line.
    Solve(SolveArgs),
    /// Solve every `*.txt` instance of a folder and compare with best-known distances.
    Bench(BenchArgs),
}

/// Stopping rule and seed shared by `solve` and `bench`.
#[derive(Debug, Clone, clap::Args)]
pub struct SearchArgs {
    /// Wall-clock limit in seconds per instance; with --iterations, whichever comes first.
    #[arg(long, default_value_t = 10.0)]
    pub time_limit: f64,
    /// Stop after this many genetic iterations (time-independent, repeatable for a seed).
    #[arg(long)]
    pub iterations: Option<u64>,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Cost per vehicle used (0: distance only).
    #[arg(long, default_value_t = 0.0)]
    pub vehicle_cost: f64,
}

#[derive(Debug, clap::Args)]
pub struct SolveArgs {
    /// Instance file in Solomon format.
    #[arg(long)]
    pub solomon: PathBuf,
    #[command(flatten)]
    pub search: SearchArgs,
}

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Folder of Solomon-format `*.txt` files.
    #[arg(long)]
    pub dir: PathBuf,
    /// CSV `instance,vehicles,distance,...` of best-known distances [default: DIR/bks_distance.csv].
    #[arg(long)]
    pub bks: Option<PathBuf>,
    /// Only instances whose name contains this text (case-insensitive).
    #[arg(long)]
    pub filter: Option<String>,
    /// Also write the Markdown table to this file.
    #[arg(long)]
    pub markdown: Option<PathBuf>,
    #[command(flatten)]
    pub search: SearchArgs,
}

pub fn run(args: RouteArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        RouteCommand::Solve(a) => solve_cmd(&a),
        RouteCommand::Bench(a) => bench_cmd(&a),
    }
}

struct Outcome {
    instance: String,
    vehicles: usize,
    distance: f64,
    routes: Vec<Vec<usize>>,
    seconds: f64,
    feasible: bool,
    iterations: u64,
}

fn load(path: &Path) -> anyhow::Result<Instance> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let file =
        routing::parse_solomon(&text).with_context(|| format!("parsing {}", path.display()))?;
    Ok(file.to_instance()?)
}

fn run_one(inst: Instance, s: &SearchArgs) -> anyhow::Result<Outcome> {
    if !(s.time_limit.is_finite() && s.time_limit > 0.0) {
        bail!("--time-limit must be a positive number of seconds");
    }
    let inst = inst.with_fixed_cost(s.vehicle_cost);
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(s.time_limit);
    let stop = move || Instant::now() >= deadline;
    let budget = Budget {
        max_iterations: s.iterations,
        stop: Some(&stop),
    };
    let mut rng = SmallRng::seed_from_u64(s.seed);
    let sol = routing::solve(&inst, &Params::default(), &budget, &mut rng);
    let seconds = start.elapsed().as_secs_f64();
    let report = routing::check(&inst, &sol.routes);
    for v in &report.violations {
        tracing::warn!(instance = %inst.name, violation = ?v, "solution violates a constraint");
    }
    Ok(Outcome {
        instance: inst.name.clone(),
        vehicles: report.vehicles,
        distance: report.distance,
        routes: sol.routes,
        seconds,
        feasible: report.is_feasible(),
        iterations: sol.iterations,
    })
}

fn solve_cmd(a: &SolveArgs) -> anyhow::Result<ExitCode> {
    let inst = load(&a.solomon)?;
    let o = run_one(inst, &a.search)?;
    tracing::info!(iterations = o.iterations, "solved");
    let line = json!({
        "instance": o.instance,
        "vehicles": o.vehicles,
        "distance": o.distance,
        "routes": o.routes,
        "seconds": o.seconds,
        "feasible": o.feasible,
    });
    println!("{line}");
    Ok(if o.feasible {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

fn read_bks(path: &Path) -> anyhow::Result<BTreeMap<String, (usize, f64)>> {
    let mut rdr =
        csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    let mut map = BTreeMap::new();
    for rec in rdr.records() {
        let rec = rec.with_context(|| format!("parsing {}", path.display()))?;
        let (Some(name), Some(v), Some(d)) = (rec.get(0), rec.get(1), rec.get(2)) else {
            bail!(
                "{}: expected columns instance,vehicles,distance",
                path.display()
            );
        };
        let (Ok(v), Ok(d)) = (v.trim().parse::<usize>(), d.trim().parse::<f64>()) else {
            continue; // e.g. an alternative-convention row without a vehicle count
        };
        map.entry(name.trim().to_ascii_lowercase())
            .or_insert((v, d));
    }
    Ok(map)
}

fn bench_cmd(a: &BenchArgs) -> anyhow::Result<ExitCode> {
    let bks_path = a
        .bks
        .clone()
        .unwrap_or_else(|| a.dir.join("bks_distance.csv"));
    let bks = if bks_path.exists() {
        read_bks(&bks_path)?
    } else {
        BTreeMap::new()
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&a.dir)
        .with_context(|| format!("listing {}", a.dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("txt")))
        .filter(|p| {
            a.filter.as_ref().is_none_or(|f| {
                p.file_name().is_some_and(|n| {
                    n.to_string_lossy()
                        .to_lowercase()
                        .contains(&f.to_lowercase())
                })
            })
        })
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("no *.txt instances in {}", a.dir.display());
    }
    let mut table = String::from(
        "| instance | vehicles | distance | BKS veh | BKS distance | gap % | feasible | seconds | iterations |\n|---|---:|---:|---:|---:|---:|---|---:|---:|\n",
    );
    let (mut gaps, mut all_feasible, mut n, mut secs) = (Vec::new(), true, 0usize, 0.0);
    let stdout = std::io::stdout();
    for f in &files {
        let inst = load(f)?;
        let o = run_one(inst, &a.search)?;
        let key = o.instance.trim().to_ascii_lowercase();
        let b = bks.get(&key).copied();
        let gap = b.map(|(_, d)| 100.0 * (o.distance - d) / d);
        if let Some(g) = gap {
            gaps.push(g);
        }
        all_feasible &= o.feasible;
        n += 1;
        secs += o.seconds;
        let line = json!({
            "instance": o.instance, "vehicles": o.vehicles, "distance": o.distance,
            "bks_vehicles": b.map(|x| x.0), "bks_distance": b.map(|x| x.1), "gap_pct": gap,
            "feasible": o.feasible, "seconds": o.seconds, "iterations": o.iterations,
        });
        writeln!(stdout.lock(), "{line}")?;
        let row = format!(
            "| {} | {} | {:.2} | {} | {} | {} | {} | {:.2} | {} |\n",
            o.instance,
            o.vehicles,
            o.distance,
            b.map_or("-".into(), |x| x.0.to_string()),
            b.map_or("-".into(), |x| format!("{:.2}", x.1)),
            gap.map_or("-".into(), |g| format!("{g:+.3}")),
            if o.feasible { "yes" } else { "NO" },
            o.seconds,
            o.iterations
        );
        eprint!("{row}");
        table.push_str(&row);
    }
    let mean_gap = if gaps.is_empty() {
        None
    } else {
        Some(gaps.iter().sum::<f64>() / gaps.len() as f64)
    };
    let summary = json!({
        "summary": true, "instances": n, "with_bks": gaps.len(), "mean_gap_pct": mean_gap,
        "all_feasible": all_feasible, "mean_seconds": secs / n as f64,
        "time_limit": a.search.time_limit, "iterations": a.search.iterations, "seed": a.search.seed,
    });
    table.push_str(&format!(
        "\n{} instances, mean gap {}, all feasible: {}\n",
        n,
        mean_gap.map_or("-".into(), |g| format!("{g:+.3}%")),
        all_feasible
    ));
    eprintln!("{}", table.lines().last().unwrap_or_default());
    println!("{summary}");
    if let Some(p) = &a.markdown {
        std::fs::write(p, &table).with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(if all_feasible {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TINY: &str = "T1\n\nVEHICLE\nNUMBER     CAPACITY\n  2         10\n\nCUSTOMER\nCUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME\n\n    0      0         0          0          0       100          0\n    1      3         4          5          0       50         1\n    2      -3        4          5          0       50         1\n";

    #[test]
    fn bks_reader_keeps_the_first_row_per_instance_and_skips_bad_rows() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bks.csv");
        std::fs::write(
            &p,
            "instance,vehicles,distance,source\nT1,1,12.5,a\nT1,1,11.0,b\nT2,,3,c\n",
        )
        .unwrap();
        let m = read_bks(&p).unwrap();
        assert_eq!(m.get("t1"), Some(&(1, 12.5)));
        assert!(!m.contains_key("t2"));
    }

    #[test]
    fn bench_solves_a_folder_and_reports_feasible() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("t1.txt"), TINY).unwrap();
        std::fs::write(
            dir.path().join("bks_distance.csv"),
            "instance,vehicles,distance\nT1,1,16\n",
        )
        .unwrap();
        let md = dir.path().join("table.md");
        let args = BenchArgs {
            dir: dir.path().to_path_buf(),
            bks: None,
            filter: None,
            markdown: Some(md.clone()),
            search: SearchArgs {
                time_limit: 5.0,
                iterations: Some(5),
                seed: 1,
                vehicle_cost: 0.0,
            },
        };
        let code = bench_cmd(&args).unwrap();
        assert_eq!(code, ExitCode::SUCCESS);
        let table = std::fs::read_to_string(md).unwrap();
        assert!(
            table.contains("| T1 | 1 | 16.00 | 1 | 16.00 | +0.000 | yes |"),
            "{table}"
        );
    }
}
