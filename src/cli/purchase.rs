//! `freshbot purchase list|confirm|receive`: the operator's purchase orders. Drafts come from
//! `freshbot replenish`; a confirmed draft is an open purchase order to a supplier whose
//! outstanding quantity counts as stock on the way in the next plan; receiving puts goods on
//! hand with their expiry, in one delivery or several.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use chrono::NaiveDate;
use serde_json::json;

use crate::domain::TZ;
use crate::services::Actor;

/// Options of `freshbot purchase`.
#[derive(Debug, clap::Args)]
pub struct PurchaseArgs {
    #[command(subcommand)]
    pub command: PurchaseCommand,
}

/// Purchase subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum PurchaseCommand {
    /// The drafts of a day (`"kind":"draft"`, with `draft_id`) and the open purchase orders
    /// (`"kind":"order"`, with `purchase_order_id`), one JSON line each.
    List {
        /// Plan day (YYYY-MM-DD, Asia/Shanghai); today if absent.
        #[arg(long)]
        date: Option<NaiveDate>,
    },
    /// Confirm a draft line to a supplier: it becomes an open purchase order.
    Confirm {
        /// The draft's id (`draft_id` in `purchase list`).
        id: i64,
        /// Who delivers it.
        #[arg(long, default_value = "default supplier")]
        supplier: String,
    },
    /// Record a delivery against a purchase order (all that is outstanding unless --qty).
    Receive {
        /// The purchase order's id (`purchase_order_id` in `purchase list`).
        id: i64,
        /// Quantity delivered, in the product's selling unit (e.g. 12.5); partial deliveries
        /// keep the order open for the rest.
        #[arg(long)]
        qty: Option<String>,
        /// Nothing more will come: close the order even if short.
        #[arg(long)]
        close: bool,
        /// Warehouse configuration (TOML) for shelf lives; the demo warehouse if absent.
        #[arg(long)]
        warehouse: Option<PathBuf>,
    },
}

pub fn run(args: PurchaseArgs) -> anyhow::Result<ExitCode> {
    super::replenish::with_services(|services| async move {
        match args.command {
            PurchaseCommand::List { date } => {
                let date =
                    date.unwrap_or_else(|| chrono::Utc::now().with_timezone(&TZ).date_naive());
                let o = services
                    .purchase_overview(date)
                    .await
                    .context("listing purchases")?;
                for d in &o.drafts {
                    let mut v = serde_json::to_value(d)?;
                    v["kind"] = json!("draft");
                    println!("{v}");
                }
                for p in &o.orders {
                    let mut v = serde_json::to_value(p)?;
                    v["kind"] = json!("order");
                    println!("{v}");
                }
                println!(
                    "{}",
                    json!({
                        "date": o.date,
                        "drafts": o.drafts.len(),
                        "open_orders": o.orders.iter().filter(|p| p.outstanding_milli > 0).count(),
                        "overdue": o.orders.iter().filter(|p| p.overdue).count(),
                    })
                );
            }
            PurchaseCommand::Confirm { id, supplier } => {
                let o = services
                    .confirm_purchase(Actor::Operator, id, &supplier)
                    .await
                    .context("confirming the draft")?;
                println!("{}", serde_json::to_string(&o)?);
            }
            PurchaseCommand::Receive {
                id,
                qty,
                close,
                warehouse,
            } => {
                let cfg = super::replenish::warehouse_config(warehouse.as_deref())?;
                let qty = qty
                    .as_deref()
                    .map(super::replenish::parse_milli)
                    .transpose()?;
                let r = services
                    .receive_purchase(&cfg, Actor::Operator, id, qty, close)
                    .await
                    .context("recording the delivery")?;
                println!("{}", serde_json::to_string(&r)?);
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
