//! Courier dispatch: a slot's packed orders become routes (one per courier), customers learn
//! their ETA, couriers get their stops on Telegram, and their taps and live locations keep
//! every remaining ETA true, with a delay alert when a promise slips.
//!
//! Each public method writes in one transaction: the routes, the order moves and every message
//! they cause (outbox rows) are written together or not at all. A wave is read in one
//! transaction, planned outside any (the solver runs for a second or more, and on SQLite a write
//! transaction would hold every chat turn that writes), and written in a second one that takes
//! only the orders still packed and the couriers still free.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::domain::events::{RouteMessage, StopAction, StopLine, kinds};
use crate::domain::{CourierId, CustomerId, LatLon, Order, OrderId, OrderStatus, TZ};
use crate::domain::{map_link, mask_phone};
use crate::fulfillment::routing::eta::{PointStop, etas_haversine};
use crate::fulfillment::routing::wave::{
    WaveCourier, WaveParams, WaveStop, bags_for, needs_delay_alert, plan_wave,
};
use crate::fulfillment::routing::{self, Budget, Instance, Params, Stop};
use crate::services::{ServiceError, Services};
use crate::store::repo::{CourierRow, NewCourier, OutboxEvent, StopRow};
use crate::store::{StoreError, Tx};

/// Dispatch settings (`[dispatch]` in freshbot.toml).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DispatchSettings {
    /// `serve` dispatches every slot's packed orders at the slot's cut-off
    /// (`FRESHBOT_DISPATCH_AUTO`).
    pub auto: bool,
    /// How often `serve` looks for waves due (seconds).
    pub sweep_secs: u64,
    /// Minutes at each door (handing over, payment on delivery).
    pub service_minutes: u32,
    /// Road distance / straight-line distance.
    pub detour: f64,
    /// Courier speed in km/h.
    pub speed_kmh: f64,
    /// Genetic iterations per wave: a fixed budget, so a wave plans the same way every time.
    pub iterations: u64,
    pub seed: u64,
    /// A customer hears of a delay when the ETA slips by more than this, or passes the end of
    /// the window by more than this (`FRESHBOT_DISPATCH_DELAY_MINUTES`).
    pub delay_threshold_minutes: u32,
    /// Map link of a stop, `{lat}` and `{lon}` replaced (`FRESHBOT_DISPATCH_MAP_URL`).
    pub map_url: String,
    /// Metres of extra driving worth serving a top-tier member's stop one minute earlier.
    pub priority_metres_per_minute: f64,
}

impl Default for DispatchSettings {
    fn default() -> Self {
        Self {
            auto: true,
            sweep_secs: 30,
            service_minutes: 3,
            detour: 1.3,
            speed_kmh: 18.0,
            iterations: 2000,
            seed: 1,
            delay_threshold_minutes: 10,
            map_url: "https://uri.amap.com/marker?position={lon},{lat}".to_owned(),
            priority_metres_per_minute: 60.0,
        }
    }
}

impl DispatchSettings {
    pub fn validate(&self) -> Result<(), String> {
        if !(self.detour.is_finite() && self.detour >= 1.0) {
            return Err("dispatch.detour must be at least 1".into());
        }
        if !(self.speed_kmh.is_finite() && self.speed_kmh > 0.0) {
            return Err("dispatch.speed_kmh must be positive".into());
        }
        if !(self.priority_metres_per_minute.is_finite() && self.priority_metres_per_minute >= 0.0)
        {
            return Err("dispatch.priority_metres_per_minute must be >= 0".into());
        }
        if self.sweep_secs == 0 {
            return Err("dispatch.sweep_secs must be positive".into());
        }
        Ok(())
    }

    fn speed_mps(&self) -> f64 {
        self.speed_kmh / 3.6
    }

    fn service_secs(&self) -> f64 {
        f64::from(self.service_minutes) * 60.0
    }

    fn threshold_secs(&self) -> f64 {
        f64::from(self.delay_threshold_minutes) * 60.0
    }
}

/// Why a dispatch action was refused.
#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error("no courier {0}")]
    UnknownCourier(i64),
    #[error("this stop is not on your route")]
    NotYourStop,
    /// The stop was already finished, or its order was cancelled meanwhile.
    #[error("stop {stop} is already {status}")]
    StopClosed { stop: i64, status: String },
    #[error("invalid courier: {0}")]
    InvalidCourier(String),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<StoreError> for DispatchError {
    fn from(e: StoreError) -> Self {
        DispatchError::Service(e.into())
    }
}

/// A courier.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Courier {
    pub id: CourierId,
    pub name: String,
    pub phone: String,
    pub telegram_user_id: Option<String>,
    pub capacity_bags: i32,
    pub shift_start: NaiveTime,
    pub shift_end: NaiveTime,
    pub active: bool,
    pub last_position: Option<LatLon>,
    pub last_seen_at: Option<DateTime<Utc>>,
}

impl Courier {
    fn from_row(r: CourierRow) -> Result<Self, DispatchError> {
        let (shift_start, shift_end) = parse_shift(&format!("{}-{}", r.shift_start, r.shift_end))?;
        Ok(Self {
            id: CourierId(r.id),
            name: r.name,
            phone: r.phone,
            telegram_user_id: r.telegram_user_id,
            capacity_bags: r.capacity_bags,
            shift_start,
            shift_end,
            active: r.active,
            last_position: r
                .last_lat
                .zip(r.last_lon)
                .and_then(|(lat, lon)| LatLon::new(lat, lon).ok()),
            last_seen_at: r.last_seen_at,
        })
    }

    /// Whether the shift covers the whole slot (local time of the slot's day).
    fn covers(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
        let (s, e) = (start.with_timezone(&TZ), end.with_timezone(&TZ));
        s.date_naive() == e.date_naive()
            && self.shift_start <= s.time()
            && e.time() <= self.shift_end
    }

    /// End of the shift on the local day of `t`.
    fn shift_end_on(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        let day = t.with_timezone(&TZ).date_naive();
        TZ.from_local_datetime(&day.and_time(self.shift_end))
            .earliest()
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or(t)
    }
}

/// `08:00-20:00` -> the two times; the end must be after the start.
pub fn parse_shift(s: &str) -> Result<(NaiveTime, NaiveTime), DispatchError> {
    let bad = || {
        DispatchError::InvalidCourier(format!(
            "shift {s:?} is not like 08:00-20:00 (start before end)"
        ))
    };
    let (a, b) = s.split_once('-').ok_or_else(bad)?;
    let a = NaiveTime::parse_from_str(a.trim(), "%H:%M").map_err(|_| bad())?;
    let b = NaiveTime::parse_from_str(b.trim(), "%H:%M").map_err(|_| bad())?;
    if a >= b {
        return Err(bad());
    }
    Ok((a, b))
}

/// A courier to add (`freshbot courier add`).
#[derive(Debug, Clone, PartialEq)]
pub struct CourierInput {
    pub name: String,
    pub phone: String,
    pub telegram_user_id: Option<String>,
    pub capacity_bags: i32,
    pub shift: String,
}

/// One planned route, for the operator.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RouteReport {
    pub route_id: i64,
    pub courier_id: CourierId,
    pub courier: String,
    pub bags: i64,
    pub capacity_bags: i32,
    pub distance_m: f64,
    /// Order numbers in visiting order with their ETAs.
    pub stops: Vec<(String, DateTime<Utc>)>,
    /// False when the courier has no Telegram id: the route must reach them another way.
    pub courier_notified: bool,
}

/// An order left out of a wave, with why (`no_location`, `no_courier`, `over_capacity`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnservedOrder {
    pub number: String,
    pub reason: &'static str,
}

/// What a dispatch did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WaveReport {
    pub slot_start: DateTime<Utc>,
    pub slot_end: Option<DateTime<Utc>>,
    pub orders: usize,
    pub couriers_available: usize,
    pub routes: Vec<RouteReport>,
    pub unserved: Vec<UnservedOrder>,
}

/// What a courier's tap did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StopOutcome {
    pub stop: i64,
    pub order_number: String,
    pub status: &'static str,
    pub at: DateTime<Utc>,
    /// Delay alerts written for the courier's other customers.
    pub delay_alerts: usize,
    pub route_done: bool,
}

/// What a re-plan did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplanReport {
    pub courier_id: CourierId,
    /// Order numbers in the new visiting order with their new ETAs.
    pub stops: Vec<(String, DateTime<Utc>)>,
    pub delay_alerts: usize,
    /// Some window can no longer be met whatever the order.
    pub feasible: bool,
}

/// Seconds from `origin` to `t`.
fn secs(origin: DateTime<Utc>, t: DateTime<Utc>) -> f64 {
    (t - origin).num_milliseconds() as f64 / 1000.0
}

/// `origin + s` seconds, rounded up to the minute: a promise is never early.
fn at_secs(origin: DateTime<Utc>, s: f64) -> DateTime<Utc> {
    let t = origin + Duration::milliseconds((s.clamp(-1e12, 1e12) * 1000.0) as i64);
    let rem = t.timestamp().rem_euclid(60);
    let whole = t - Duration::nanoseconds(i64::from(t.timestamp_subsec_nanos()));
    if rem == 0 && t.timestamp_subsec_nanos() == 0 {
        t
    } else {
        whole + Duration::seconds(60 - rem)
    }
}

fn routing_point(p: LatLon) -> routing::LatLon {
    routing::LatLon {
        lat: p.lat,
        lon: p.lon,
    }
}

impl Services {
    /// All couriers.
    pub async fn couriers(&self) -> Result<Vec<Courier>, DispatchError> {
        let tx = self.store.begin_read().await?;
        tx.couriers()
            .await?
            .into_iter()
            .map(Courier::from_row)
            .collect()
    }

    /// Adds a courier, or updates the one with the same phone.
    pub async fn add_courier(&self, c: CourierInput) -> Result<Courier, DispatchError> {
        let name = c.name.trim();
        let phone: String = c.phone.chars().filter(|ch| !ch.is_whitespace()).collect();
        if name.is_empty() {
            return Err(DispatchError::InvalidCourier("the name is empty".into()));
        }
        if phone.chars().filter(char::is_ascii_digit).count() < 5 {
            return Err(DispatchError::InvalidCourier(format!(
                "{phone:?} is not a phone number"
            )));
        }
        if !(1..=500).contains(&c.capacity_bags) {
            return Err(DispatchError::InvalidCourier(
                "capacity must be 1 to 500 bags".into(),
            ));
        }
        let tg = c
            .telegram_user_id
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        if let Some(t) = tg
            && t.parse::<i64>().is_err()
        {
            return Err(DispatchError::InvalidCourier(format!(
                "{t:?} is not a Telegram user id (a number; the courier can get it from @userinfobot)"
            )));
        }
        let (s, e) = parse_shift(&c.shift)?;
        let (s, e) = (s.format("%H:%M").to_string(), e.format("%H:%M").to_string());
        let new = NewCourier {
            name,
            phone: &phone,
            telegram_user_id: tg,
            capacity_bags: c.capacity_bags,
            shift: (&s, &e),
        };
        let tx = self.store.begin_write().await?;
        let id = match tx.courier_by_phone(&phone).await? {
            Some(existing) => {
                tx.update_courier(existing.id, &new).await?;
                existing.id
            }
            None => tx.insert_courier(&new).await?,
        };
        let row = tx
            .courier(CourierId(id))
            .await?
            .ok_or(DispatchError::UnknownCourier(id))?;
        tx.commit().await?;
        Courier::from_row(row)
    }

    /// The active courier behind a Telegram user id, if any.
    pub async fn courier_for_telegram(&self, user: &str) -> Result<Option<Courier>, DispatchError> {
        let tx = self.store.begin_read().await?;
        match tx.courier_by_telegram(user).await? {
            Some(r) => Ok(Some(Courier::from_row(r)?)),
            None => Ok(None),
        }
    }

    /// Slot starts with packed orders whose cut-off has passed: the waves `serve` dispatches.
    pub async fn waves_due(&self) -> Result<Vec<DateTime<Utc>>, DispatchError> {
        let now = self.now();
        let cutoff = Duration::minutes(i64::from(self.rules.slots.cutoff_minutes));
        let tx = self.store.begin_read().await?;
        let packed = tx
            .orders_in_slot(
                OrderStatus::Packed,
                now - Duration::hours(12),
                now + cutoff + Duration::seconds(1),
            )
            .await?;
        let mut starts: Vec<DateTime<Utc>> = packed.iter().map(|o| o.slot_start).collect();
        starts.sort();
        starts.dedup();
        Ok(starts)
    }

    /// Plans and dispatches the packed orders of the slot starting at `slot_start`.
    pub async fn dispatch_slot(
        &self,
        settings: &DispatchSettings,
        slot_start: DateTime<Utc>,
    ) -> Result<WaveReport, DispatchError> {
        let now = self.now();
        let tx = self.store.begin_read().await?;
        let orders = tx
            .orders_in_slot(
                OrderStatus::Packed,
                slot_start,
                slot_start + Duration::seconds(1),
            )
            .await?;
        let slot_end = orders.iter().map(|o| o.slot_end).max();
        let busy = tx.busy_couriers().await?;
        let mut fleet = Vec::new();
        for r in tx.couriers().await? {
            // A courier row that does not parse is skipped, not fatal for the wave.
            match Courier::from_row(r) {
                Ok(c)
                    if c.active
                        && !busy.contains(&c.id.0)
                        && slot_end.is_some_and(|end| c.covers(slot_start, end)) =>
                {
                    fleet.push(c)
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "courier skipped"),
            }
        }
        let mut report = WaveReport {
            slot_start,
            slot_end,
            orders: orders.len(),
            couriers_available: fleet.len(),
            routes: vec![],
            unserved: vec![],
        };
        let mut candidates: Vec<(&Order, WaveStop)> = Vec::new();
        let mut priority_of: HashMap<CustomerId, bool> = HashMap::new();
        let since = now - Duration::days(i64::from(self.rules.membership.window_days));
        for o in &orders {
            let Some(at) = o.address.location else {
                report.unserved.push(UnservedOrder {
                    number: o.number.to_string(),
                    reason: "no_location",
                });
                continue;
            };
            let top = match priority_of.get(&o.customer_id) {
                Some(p) => *p,
                None => {
                    let (done, cancelled) = tx.ended_order_counts(o.customer_id, since).await?;
                    let p = self
                        .rules
                        .membership
                        .tier(done, cancelled)
                        .is_some_and(|t| t.priority);
                    priority_of.insert(o.customer_id, p);
                    p
                }
            };
            let quantities: Vec<_> = o.lines.iter().map(|l| l.quantity).collect();
            candidates.push((
                o,
                WaveStop {
                    at: routing_point(at),
                    bags: bags_for(&quantities),
                    ready: secs(now, o.slot_start),
                    due: secs(now, o.slot_end),
                    priority: if top { 1.0 } else { 0.0 },
                },
            ));
        }
        let stops: Vec<WaveStop> = candidates.iter().map(|(_, s)| *s).collect();
        let wave_couriers: Vec<WaveCourier> = fleet
            .iter()
            .map(|c| WaveCourier {
                capacity_bags: i64::from(c.capacity_bags),
                shift_end: secs(now, c.shift_end_on(slot_start)),
            })
            .collect();
        drop(tx);
        let params = WaveParams {
            depot: routing_point(self.rules.depot.location()),
            now: 0.0,
            detour: settings.detour,
            speed_mps: settings.speed_mps(),
            service_secs: settings.service_secs(),
            iterations: settings.iterations,
            seed: settings.seed,
            // Priority x elapsed seconds: metres per minute / 60.
            priority_weight: settings.priority_metres_per_minute / 60.0,
        };
        // CPU work of a second or more: off the async workers, with no transaction open.
        let plan = tokio::task::spawn_blocking(move || plan_wave(&stops, &wave_couriers, &params))
            .await
            .map_err(|e| ServiceError::State(format!("wave planning stopped: {e}")))?;
        for (i, why) in &plan.unserved {
            report.unserved.push(UnservedOrder {
                number: candidates[*i].0.number.to_string(),
                reason: why.code(),
            });
        }
        // The plan is written only over what has not changed since it was read: an order
        // cancelled (or dispatched by another instance) meanwhile is left out of its route, and
        // a courier who got another route meanwhile leaves theirs unserved.
        let tx = self.store.begin_write().await?;
        let busy_now = tx.busy_couriers().await?;
        for route in &plan.routes {
            let courier = &fleet[route.courier];
            let Some(end) = slot_end else { continue };
            if busy_now.contains(&courier.id.0) {
                for &(i, _) in &route.stops {
                    report.unserved.push(UnservedOrder {
                        number: candidates[i].0.number.to_string(),
                        reason: "courier_taken",
                    });
                }
                continue;
            }
            let mut still_packed = Vec::with_capacity(route.stops.len());
            for &(i, start) in &route.stops {
                let order = candidates[i].0;
                let packed = tx
                    .order_row(order.id)
                    .await?
                    .is_some_and(|r| r.status == OrderStatus::Packed.code());
                if packed {
                    still_packed.push((i, start));
                } else {
                    report.unserved.push(UnservedOrder {
                        number: order.number.to_string(),
                        reason: "no_longer_packed",
                    });
                }
            }
            if still_packed.is_empty() {
                continue;
            }
            let route_id = tx
                .insert_route(courier.id, (slot_start, end), route.distance_m, now)
                .await?;
            let mut lines = Vec::new();
            let mut summary = Vec::new();
            for (seq, &(i, start)) in still_packed.iter().enumerate() {
                let (order, stop) = &candidates[i];
                let eta = at_secs(now, start);
                let seq = i32::try_from(seq + 1).unwrap_or(i32::MAX);
                let bags = i32::try_from(stop.bags).unwrap_or(i32::MAX);
                let stop_id = tx
                    .insert_stop(
                        route_id,
                        order.id,
                        seq,
                        bags,
                        (order.slot_start, order.slot_end),
                        eta,
                    )
                    .await?;
                move_order(
                    &tx,
                    order.id,
                    OrderStatus::OutForDelivery,
                    &format!("dispatch:courier:{}", courier.id),
                    json!({ "eta": eta.to_rfc3339(), "courier": courier.name }),
                    now,
                )
                .await?;
                tx.set_order_courier(order.id, Some(courier.id), Some(eta))
                    .await?;
                let phone = tx
                    .customer(order.customer_id)
                    .await?
                    .and_then(|c| c.phone)
                    .map(|p| mask_phone(&p));
                lines.push(StopLine {
                    stop_id,
                    seq,
                    order_number: order.number.to_string(),
                    address: order.address.text.clone(),
                    window_start: order.slot_start,
                    window_end: order.slot_end,
                    eta,
                    bags,
                    phone,
                    map_url: order
                        .address
                        .location
                        .map(|p| map_link(&settings.map_url, p.lat, p.lon)),
                });
                summary.push((order.number.to_string(), eta));
            }
            let message = RouteMessage {
                route_id,
                courier_name: courier.name.clone(),
                slot_start,
                slot_end: end,
                stops: lines,
            };
            let payload = serde_json::to_value(&message)
                .map_err(|e| ServiceError::State(format!("route message: {e}")))?;
            tx.enqueue_for_courier(courier.id, kinds::ROUTE, &payload, now)
                .await?;
            report.routes.push(RouteReport {
                route_id,
                courier_id: courier.id,
                courier: courier.name.clone(),
                bags: route.bags,
                capacity_bags: courier.capacity_bags,
                distance_m: route.distance_m,
                stops: summary,
                courier_notified: courier.telegram_user_id.is_some(),
            });
        }
        tx.commit().await?;
        tracing::info!(
            slot = %slot_start,
            routes = report.routes.len(),
            unserved = report.unserved.len(),
            "wave dispatched"
        );
        Ok(report)
    }

    /// A courier's button: arrived at, delivered or could not deliver a stop.
    pub async fn courier_stop(
        &self,
        settings: &DispatchSettings,
        courier: CourierId,
        stop_id: i64,
        action: StopAction,
    ) -> Result<StopOutcome, DispatchError> {
        let now = self.now();
        let tx = self.store.begin_write().await?;
        let stop = tx.stop(stop_id).await?.ok_or(DispatchError::NotYourStop)?;
        if stop.courier_id != courier.0 {
            return Err(DispatchError::NotYourStop);
        }
        let order = tx
            .order(OrderId(stop.order_id))
            .await?
            .ok_or(DispatchError::NotYourStop)?;
        let closed = |status: &str| DispatchError::StopClosed {
            stop: stop_id,
            status: status.to_owned(),
        };
        if order.status != OrderStatus::OutForDelivery {
            return Err(closed(order.status.code()));
        }
        let actor = format!("courier:{}", courier.0);
        let status = match action {
            StopAction::Arrived => {
                if stop.status != "arrived"
                    && !tx
                        .set_stop_status(stop_id, &["pending"], "arrived", now)
                        .await?
                {
                    return Err(closed(&stop.status));
                }
                "arrived"
            }
            StopAction::Delivered | StopAction::NotReachable => {
                let (to, status) = if action == StopAction::Delivered {
                    (OrderStatus::Delivered, "delivered")
                } else {
                    (OrderStatus::FailedDelivery, "failed")
                };
                if !tx
                    .set_stop_status(stop_id, &["pending", "arrived"], status, now)
                    .await?
                {
                    return Err(closed(&stop.status));
                }
                move_order(&tx, order.id, to, &actor, json!({}), now).await?;
                status
            }
        };
        // The courier is at that door now: the best position to time the next stops from.
        if let Some(p) = order.address.location {
            tx.set_courier_position(courier, p.lat, p.lon, now).await?;
        }
        let route_done = tx.close_route_if_done(stop.route_id).await?;
        let delay_alerts = self.refresh_etas(&tx, settings, courier, now).await?;
        tx.commit().await?;
        Ok(StopOutcome {
            stop: stop_id,
            order_number: order.number.to_string(),
            status,
            at: now,
            delay_alerts,
            route_done,
        })
    }

    /// A courier's shared (or live) location: stored, and the ETAs of their remaining stops
    /// recomputed from it. Returns the delay alerts written.
    pub async fn courier_location(
        &self,
        settings: &DispatchSettings,
        courier: CourierId,
        at: LatLon,
    ) -> Result<usize, DispatchError> {
        let now = self.now();
        let tx = self.store.begin_write().await?;
        tx.set_courier_position(courier, at.lat, at.lon, now)
            .await?;
        let alerts = self.refresh_etas(&tx, settings, courier, now).await?;
        tx.commit().await?;
        Ok(alerts)
    }

    /// Re-plans the remaining stops of a courier from their last position (a late courier):
    /// new visiting order, new ETAs, the courier gets the new order and customers whose ETA
    /// slipped are told.
    pub async fn replan_courier(
        &self,
        settings: &DispatchSettings,
        courier: CourierId,
    ) -> Result<ReplanReport, DispatchError> {
        let now = self.now();
        let tx = self.store.begin_write().await?;
        let row = tx
            .courier(courier)
            .await?
            .ok_or(DispatchError::UnknownCourier(courier.0))?;
        let c = Courier::from_row(row)?;
        let open = open_stops(&tx, courier, now).await?;
        // A stop the courier is standing at stays first.
        let (here, pending): (Vec<_>, Vec<_>) =
            open.into_iter().partition(|(s, _)| s.status == "arrived");
        let start = here
            .first()
            .and_then(|(_, o)| o.address.location)
            .or(c.last_position)
            .unwrap_or(self.rules.depot.location());
        let mut feasible = true;
        let mut order: Vec<usize> = (0..pending.len()).collect();
        let located: Vec<usize> = (0..pending.len())
            .filter(|&k| pending[k].1.address.location.is_some())
            .collect();
        if located.len() > 1 {
            let points: Vec<routing::LatLon> = std::iter::once(routing_point(start))
                .chain(
                    located
                        .iter()
                        .filter_map(|&k| pending[k].1.address.location.map(routing_point)),
                )
                .collect();
            let matrix =
                routing::HaversineMatrix::with(points, settings.detour, settings.speed_mps());
            let t0 = if here.is_empty() {
                0.0
            } else {
                settings.service_secs()
            };
            let stops: Vec<Stop> = located
                .iter()
                .map(|&k| {
                    let (s, _) = &pending[k];
                    Stop {
                        demand: i64::from(s.bags),
                        ready: secs(now, s.window_start),
                        due: secs(now, s.window_end),
                        service: settings.service_secs(),
                        priority: 0.0,
                    }
                })
                .collect();
            let shift_end = secs(now, c.shift_end_on(now)).max(t0 + 3600.0);
            let inst = Instance::replan_courier(
                format!("replan-{}", courier.0),
                t0,
                shift_end,
                &stops,
                &matrix,
            )
            .map_err(|e| ServiceError::State(e.to_string()))?;
            let mut rng = <rand::rngs::SmallRng as rand::SeedableRng>::seed_from_u64(settings.seed);
            let sol = routing::solve(
                &inst,
                &Params::default(),
                &Budget {
                    max_iterations: Some(settings.iterations),
                    stop: None,
                },
                &mut rng,
            );
            feasible = routing::check(&inst, &sol.routes).is_feasible();
            let mut new_order: Vec<usize> = sol
                .routes
                .iter()
                .flatten()
                .map(|&c| located[c - 1])
                .collect();
            // Anything the solver did not place (never expected) keeps its old place at the end.
            for k in 0..pending.len() {
                if !new_order.contains(&k) {
                    new_order.push(k);
                }
            }
            order = new_order;
        }
        let mut seq = 1;
        for (s, _) in &here {
            tx.set_stop_seq(s.id, seq).await?;
            seq += 1;
        }
        for &k in &order {
            tx.set_stop_seq(pending[k].0.id, seq).await?;
            seq += 1;
        }
        let delay_alerts = self.refresh_etas(&tx, settings, courier, now).await?;
        // The courier's new list, with the fresh ETAs.
        let open = open_stops(&tx, courier, now).await?;
        let mut lines = Vec::new();
        let mut stops = Vec::new();
        for (s, o) in &open {
            let phone = tx
                .customer(o.customer_id)
                .await?
                .and_then(|c| c.phone)
                .map(|p| mask_phone(&p));
            lines.push(StopLine {
                stop_id: s.id,
                seq: s.seq,
                order_number: o.number.to_string(),
                address: o.address.text.clone(),
                window_start: s.window_start,
                window_end: s.window_end,
                eta: s.eta,
                bags: s.bags,
                phone,
                map_url: o
                    .address
                    .location
                    .map(|p| map_link(&settings.map_url, p.lat, p.lon)),
            });
            stops.push((o.number.to_string(), s.eta));
        }
        if let Some((first, _)) = open.first()
            && let Some(route) = tx.route(first.route_id).await?
        {
            let payload = serde_json::to_value(RouteMessage {
                route_id: route.id,
                courier_name: c.name.clone(),
                slot_start: route.slot_start,
                slot_end: route.slot_end,
                stops: lines,
            })
            .map_err(|e| ServiceError::State(format!("route message: {e}")))?;
            tx.enqueue_for_courier(courier, kinds::REPLANNED, &payload, now)
                .await?;
        }
        tx.commit().await?;
        Ok(ReplanReport {
            courier_id: courier,
            stops,
            delay_alerts,
            feasible,
        })
    }

    /// Recomputes the ETA of every open stop of a courier from where they are now, stores it
    /// (and on the order, for the tracking page), and writes an `order_delayed` event for each
    /// customer whose promise slipped materially. Returns how many were written.
    async fn refresh_etas(
        &self,
        tx: &Tx,
        settings: &DispatchSettings,
        courier: CourierId,
        now: DateTime<Utc>,
    ) -> Result<usize, DispatchError> {
        let Some(row) = tx.courier(courier).await? else {
            return Ok(0);
        };
        let c = Courier::from_row(row)?;
        let open = open_stops(tx, courier, now).await?;
        let (here, pending): (Vec<_>, Vec<_>) =
            open.into_iter().partition(|(s, _)| s.status == "arrived");
        let (start, t0) = match here.first().and_then(|(_, o)| o.address.location) {
            // At a door: leaves after handing over.
            Some(p) => (p, settings.service_secs()),
            None => (c.last_position.unwrap_or(self.rules.depot.location()), 0.0),
        };
        // Stops without coordinates cannot be timed; they keep their last ETA.
        let timed: Vec<&(StopRow, Order)> = pending
            .iter()
            .filter(|(_, o)| o.address.location.is_some())
            .collect();
        let points: Vec<PointStop> = timed
            .iter()
            .filter_map(|(s, o)| {
                Some(PointStop {
                    at: routing_point(o.address.location?),
                    service: settings.service_secs(),
                    ready: secs(now, s.window_start),
                    due: secs(now, s.window_end),
                })
            })
            .collect();
        let times = etas_haversine(
            routing_point(start),
            t0,
            &points,
            settings.detour,
            settings.speed_mps(),
        );
        let mut alerts = 0;
        for ((s, o), t) in timed.iter().zip(&times) {
            let eta = at_secs(now, t.start);
            let alert = needs_delay_alert(
                secs(now, eta),
                secs(now, s.told_eta),
                secs(now, s.window_end),
                settings.threshold_secs(),
            );
            if eta == s.eta && !alert {
                continue;
            }
            tx.set_stop_eta(s.id, eta, alert).await?;
            tx.set_order_courier(o.id, Some(courier), Some(eta)).await?;
            if alert {
                tx.enqueue(
                    &OutboxEvent {
                        kind: kinds::DELAYED,
                        customer: Some(o.customer_id),
                        order: Some(o.id),
                        payload: json!({
                            "number": o.number.to_string(),
                            "eta": eta.to_rfc3339(),
                            "previous_eta": s.told_eta.to_rfc3339(),
                        }),
                    },
                    now,
                )
                .await?;
                alerts += 1;
            }
        }
        Ok(alerts)
    }
}

/// A courier's open stops with their orders, skipping (and closing) stops whose order left
/// the road meanwhile (cancelled by an operator, moved by hand).
async fn open_stops(
    tx: &Tx,
    courier: CourierId,
    now: DateTime<Utc>,
) -> Result<Vec<(StopRow, Order)>, DispatchError> {
    let mut out = Vec::new();
    for s in tx.open_stops_of(courier).await? {
        match tx.order(OrderId(s.order_id)).await? {
            Some(o) if o.status == OrderStatus::OutForDelivery => out.push((s, o)),
            _ => {
                // `failed` records that this stop was not delivered by the courier.
                tx.set_stop_status(s.id, &["pending", "arrived"], "failed", now)
                    .await?;
                tx.close_route_if_done(s.route_id).await?;
            }
        }
    }
    Ok(out)
}

/// Moves an order along its lifecycle inside the caller's transaction, exactly as
/// `Services::advance_status` does (the state machine decides, stock leaves the shelf when
/// the order leaves the depot, history and the customer event are written), with `extra`
/// fields (the ETA) in the event.
async fn move_order(
    tx: &Tx,
    id: OrderId,
    to: OrderStatus,
    actor: &str,
    extra: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), DispatchError> {
    let row = tx.order_row(id).await?.ok_or(ServiceError::Concurrent)?;
    let from: OrderStatus = row.status.parse().map_err(ServiceError::from)?;
    from.transition(to).map_err(ServiceError::from)?;
    if !tx.set_order_status(id, from, to, now).await? {
        return Err(ServiceError::Concurrent.into());
    }
    if to == OrderStatus::OutForDelivery && from != OrderStatus::FailedDelivery {
        let order = tx.order(id).await?.ok_or(ServiceError::Concurrent)?;
        for l in &order.lines {
            tx.consume_stock(&l.sku, l.quantity.milli()).await?;
        }
    }
    tx.insert_history(id, Some(from), to, actor, None, now)
        .await?;
    let mut payload = json!({ "number": row.number, "from": from.code(), "status": to.code() });
    if let (Some(p), Some(e)) = (payload.as_object_mut(), extra.as_object()) {
        p.extend(e.clone());
    }
    tx.enqueue(
        &OutboxEvent {
            kind: kinds::STATUS_CHANGED,
            customer: Some(CustomerId(row.customer_id)),
            order: Some(id),
            payload,
        },
        now,
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifts_parse_and_cover_slots() {
        assert!(parse_shift("08:00-20:00").is_ok());
        assert!(parse_shift(" 7:30 - 20:30 ").is_ok());
        for bad in ["20:00-08:00", "08:00", "8-20", "08:00-25:00", ""] {
            assert!(parse_shift(bad).is_err(), "{bad}");
        }
        let (s, e) = parse_shift("13:30-20:30").unwrap();
        let c = Courier {
            id: CourierId(1),
            name: "张".into(),
            phone: "1".into(),
            telegram_user_id: None,
            capacity_bags: 10,
            shift_start: s,
            shift_end: e,
            active: true,
            last_position: None,
            last_seen_at: None,
        };
        // 14:00-16:00 and 10:00-12:00 Shanghai on 2026-11-25.
        let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        assert!(c.covers(t("2026-11-25T06:00:00Z"), t("2026-11-25T08:00:00Z")));
        assert!(!c.covers(t("2026-11-25T02:00:00Z"), t("2026-11-25T04:00:00Z")));
        assert_eq!(
            c.shift_end_on(t("2026-11-25T06:00:00Z")),
            t("2026-11-25T12:30:00Z")
        );
    }

    #[test]
    fn etas_round_up_to_the_minute() {
        let o: DateTime<Utc> = "2026-11-25T02:00:00Z".parse().unwrap();
        assert_eq!(at_secs(o, 0.0), o);
        assert_eq!(at_secs(o, 1.0), o + Duration::minutes(1));
        assert_eq!(at_secs(o, 60.0), o + Duration::minutes(1));
        assert_eq!(at_secs(o, 61.5), o + Duration::minutes(2));
        assert_eq!(at_secs(o, -30.0), o);
    }
}
