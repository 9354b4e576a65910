//! The command-line interface: one file per subcommand. Machine-readable output is one JSON
//! object per line on stdout; logs go to stderr.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod agent;
mod chat;
mod dispatch;
mod forecast;
mod nlu;
mod picking;
mod purchase;
mod replenish;
mod route;
mod serve;
mod stock;

/// freshbot: chat-first ordering, tracking and fulfilment for fresh-produce delivery.
#[derive(Debug, Parser)]
#[command(name = "freshbot", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (health checks, web chat, webhooks) and the enabled channels.
    Serve(serve::ServeArgs),
    /// Human agents of the console: `agent add --login NAME --name "..."` (password on stdin).
    Agent(agent::AgentArgs),
    /// Talk to freshbot as a customer in the terminal.
    Chat(chat::ChatArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Load the demo business (catalog, stock, zones, slots, couriers, agents); idempotent.
    Demo,
    /// Demand forecasting: evaluate models on a sales history.
    Forecast(forecast::ForecastArgs),
    /// Warehouse picking: plan a slot's wave, check scans, count errors; benchmarks.
    Picking(picking::PickingArgs),
    /// Understand customer messages: parse utterances, evaluate the intent model.
    Nlu(nlu::NluArgs),
    /// Plan courier routes (VRP with time windows).
    Route(route::RouteArgs),
    /// Print the purchase list of a day (one JSON line per product to order, then a summary).
    Replenish(replenish::ReplenishArgs),
    /// Purchase orders: list drafts and open orders, confirm a draft, receive deliveries.
    Purchase(purchase::PurchaseArgs),
    /// Record stock received from suppliers and spoiled goods.
    Stock(stock::StockArgs),
    /// Dispatch a slot's packed orders to couriers, or re-plan a late courier.
    Dispatch(dispatch::DispatchArgs),
    /// Couriers: `courier add --name --phone --telegram-user-id --capacity-bags --shift`, `courier list`.
    Courier(dispatch::CourierArgs),
}

/// Runs one CLI command; `main` maps the result to an exit code.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    init_tracing();
    match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Agent(args) => agent::run(args),
        Command::Chat(args) => chat::run(args),
        Command::Migrate => serve::migrate(),
        Command::Demo => serve::demo(),
        Command::Forecast(args) => forecast::run(args),
        Command::Picking(args) => picking::run(args),
        Command::Nlu(args) => nlu::run(args),
        Command::Route(args) => route::run(args),
        Command::Replenish(args) => replenish::run(args),
        Command::Purchase(args) => purchase::run(args),
        Command::Stock(args) => stock::run(args),
        Command::Dispatch(args) => dispatch::run(args),
        Command::Courier(args) => dispatch::courier(args),
    }
}

/// Logs to stderr; `FRESHBOT_LOG` filters (default `info`), `FRESHBOT_LOG_FORMAT=json` writes
/// one JSON object per line for a log collector (each line carries its spans, so the
/// `request_id` of the HTTP request a line belongs to).
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("FRESHBOT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let json = std::env::var("FRESHBOT_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .try_init()
    } else {
        builder.try_init()
    };
}
