//! `freshbot dispatch` (plan a delivery wave, re-plan a late courier) and `freshbot courier`
//! (add and list couriers). The messages they cause (couriers' routes, customers' ETAs and
//! delay alerts) are written to the outbox; a running `freshbot serve` sends them.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, FixedOffset, Utc};
use serde_json::json;

use crate::config::Settings;
use crate::domain::CourierId;
use crate::services::{CourierInput, DispatchError, Services, SystemClock};

/// Options of `freshbot dispatch`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct DispatchArgs {
    #[command(subcommand)]
    pub command: Option<DispatchCommand>,
    /// Start of the delivery slot whose packed orders to dispatch (RFC 3339, e.g.
    /// 2026-11-25T10:00:00+08:00). Prints one JSON line per route, then a summary.
    #[arg(long)]
    pub slot: Option<DateTime<FixedOffset>>,
}

#[derive(Debug, clap::Subcommand)]
pub enum DispatchCommand {
    /// Re-plan the remaining stops of a (late) courier from their last position; customers
    /// whose ETA slips are told, the courier gets the new order.
    Replan {
        #[arg(long)]
        courier: i64,
    },
}

/// Options of `freshbot courier`.
#[derive(Debug, clap::Args)]
pub struct CourierArgs {
    #[command(subcommand)]
    pub command: CourierCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum CourierCommand {
    /// Add a courier (or update the one with the same phone).
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        phone: String,
        /// The courier's numeric Telegram user id: their updates go to courier handling and
        /// their routes to this chat.
        #[arg(long)]
        telegram_user_id: Option<String>,
        /// Bags the courier carries at once.
        #[arg(long)]
        capacity_bags: i32,
        /// Working hours, local time, e.g. 08:00-20:00.
        #[arg(long)]
        shift: String,
    },
    /// List couriers (one JSON line each).
    List,
}

fn runtime<F, Fut>(f: F) -> anyhow::Result<ExitCode>
where
    F: FnOnce(Services, Settings) -> Fut,
    Fut: Future<Output = anyhow::Result<ExitCode>>,
{
    let settings = Settings::load().context("loading settings")?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?
        .block_on(async move {
            let store = crate::store::Store::connect(&settings.database_url()?)
                .await
                .context("opening the database")?;
            let services = Services::new(store, settings.business.clone(), Arc::new(SystemClock));
            f(services, settings).await
        })
}

/// A refusal the operator can fix prints `error: ...` and exits 2; others are failures.
fn refused(e: DispatchError) -> anyhow::Result<ExitCode> {
    match e {
        DispatchError::Service(s) if !s.is_user_error() => Err(s.into()),
        e => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(2))
        }
    }
}

pub fn run(args: DispatchArgs) -> anyhow::Result<ExitCode> {
    match (args.command, args.slot) {
        (Some(DispatchCommand::Replan { courier }), _) => {
            runtime(move |services, settings| async move {
                match services
                    .replan_courier(&settings.dispatch, CourierId(courier))
                    .await
                {
                    Ok(r) => {
                        println!("{}", json!(r));
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(e) => refused(e),
                }
            })
        }
        (None, Some(slot)) => runtime(move |services, settings| async move {
            let slot: DateTime<Utc> = slot.with_timezone(&Utc);
            match services.dispatch_slot(&settings.dispatch, slot).await {
                Ok(r) => {
                    for route in &r.routes {
                        println!(
                            "{}",
                            json!({
                                "route_id": route.route_id,
                                "courier_id": route.courier_id,
                                "courier": route.courier,
                                "bags": route.bags,
                                "capacity_bags": route.capacity_bags,
                                "distance_m": route.distance_m.round(),
                                "stops": route.stops.iter().map(|(n, eta)| json!({"order": n, "eta": eta})).collect::<Vec<_>>(),
                                "courier_notified": route.courier_notified,
                            })
                        );
                    }
                    println!(
                        "{}",
                        json!({
                            "summary": true,
                            "slot_start": r.slot_start,
                            "slot_end": r.slot_end,
                            "orders": r.orders,
                            "couriers_available": r.couriers_available,
                            "routes": r.routes.len(),
                            "dispatched": r.routes.iter().map(|x| x.stops.len()).sum::<usize>(),
                            "unserved": r.unserved,
                        })
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(e),
            }
        }),
        (None, None) => {
            eprintln!("error: give --slot RFC3339 (or `dispatch replan --courier ID`)");
            Ok(ExitCode::from(2))
        }
    }
}

pub fn courier(args: CourierArgs) -> anyhow::Result<ExitCode> {
    runtime(move |services, _| async move {
        match args.command {
            CourierCommand::Add {
                name,
                phone,
                telegram_user_id,
                capacity_bags,
                shift,
            } => match services
                .add_courier(CourierInput {
                    name,
                    phone,
                    telegram_user_id,
                    capacity_bags,
                    shift,
                })
                .await
            {
                Ok(c) => {
                    println!("{}", json!(c));
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(e),
            },
            CourierCommand::List => match services.couriers().await {
                Ok(all) => {
                    for c in all {
                        println!("{}", json!(c));
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => refused(e),
            },
        }
    })
}
