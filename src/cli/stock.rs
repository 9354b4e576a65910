//! `freshbot stock receive|spoil`: record supplier deliveries and spoiled goods.

use std::process::ExitCode;

use anyhow::Context;
use serde_json::json;

use crate::services::Actor;

/// Options of `freshbot stock`.
#[derive(Debug, clap::Args)]
pub struct StockArgs {
    #[command(subcommand)]
    pub command: StockCommand,
}

/// Stock subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum StockCommand {
    /// Record a supplier delivery (adds to on-hand stock).
    Receive(MoveArgs),
    /// Record spoiled goods thrown away (never more than the unreserved stock).
    Spoil(SpoilArgs),
}

/// A quantity of one product.
#[derive(Debug, clap::Args)]
pub struct MoveArgs {
    /// Product sku.
    #[arg(long)]
    pub sku: String,
    /// Quantity in the product's selling unit (e.g. 12.5 jin).
    #[arg(long)]
    pub qty: String,
}

/// Spoiled goods.
#[derive(Debug, clap::Args)]
pub struct SpoilArgs {
    #[command(flatten)]
    pub what: MoveArgs,
    /// Why (wilted, damaged, expired...).
    #[arg(long, default_value = "")]
    pub reason: String,
}

pub fn run(args: StockArgs) -> anyhow::Result<ExitCode> {
    super::replenish::with_services(|services| async move {
        let (kind, sku, level) = match args.command {
            StockCommand::Receive(a) => {
                let milli = super::replenish::parse_milli(&a.qty)?;
                let level = services
                    .receive_stock(Actor::Operator, &a.sku, milli)
                    .await
                    .context("recording the delivery")?;
                ("received", a.sku, level)
            }
            StockCommand::Spoil(a) => {
                let milli = super::replenish::parse_milli(&a.what.qty)?;
                let level = services
                    .record_spoilage(Actor::Operator, &a.what.sku, milli, &a.reason)
                    .await
                    .context("recording the spoilage")?;
                ("spoiled", a.what.sku, level)
            }
        };
        println!(
            "{}",
            json!({
                "movement": kind,
                "sku": sku.trim().to_ascii_uppercase(),
                "on_hand_milli": level.on_hand_milli,
                "reserved_milli": level.reserved_milli,
                "available_milli": level.available_milli(),
            })
        );
        Ok(ExitCode::SUCCESS)
    })
}
