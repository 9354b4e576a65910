//! Couriers, delivery routes and their stops.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::domain::{CourierId, OrderId};
use crate::store::entities::{couriers, delivery_routes, orders, outbox, route_stops};
use crate::store::{StoreError, Tx};

/// A courier as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct CourierRow {
    pub id: i64,
    pub name: String,
    pub phone: String,
    pub telegram_user_id: Option<String>,
    pub capacity_bags: i32,
    pub shift_start: String,
    pub shift_end: String,
    pub active: bool,
    pub last_lat: Option<f64>,
    pub last_lon: Option<f64>,
    pub last_seen_at: Option<DateTime<Utc>>,
}

impl From<couriers::Model> for CourierRow {
    fn from(m: couriers::Model) -> Self {
        Self {
            id: m.id,
            name: m.name,
            phone: m.phone,
            telegram_user_id: m.telegram_user_id,
            capacity_bags: m.capacity_bags,
            shift_start: m.shift_start,
            shift_end: m.shift_end,
            active: m.active,
            last_lat: m.last_lat,
            last_lon: m.last_lon,
            last_seen_at: m.last_seen_at,
        }
    }
}

/// A new courier.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCourier<'a> {
    pub name: &'a str,
    pub phone: &'a str,
    pub telegram_user_id: Option<&'a str>,
    pub capacity_bags: i32,
    pub shift: (&'a str, &'a str),
}

/// A stop with the route facts needed to act on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StopRow {
    pub id: i64,
    pub route_id: i64,
    pub courier_id: i64,
    pub order_id: i64,
    pub seq: i32,
    pub bags: i32,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    pub planned_eta: DateTime<Utc>,
    pub eta: DateTime<Utc>,
    pub told_eta: DateTime<Utc>,
    pub status: String,
}

/// A route as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteRow {
    pub id: i64,
    pub courier_id: i64,
    pub slot_start: DateTime<Utc>,
    pub slot_end: DateTime<Utc>,
    pub status: String,
}

fn stop_row(s: route_stops::Model, courier_id: i64) -> StopRow {
    StopRow {
        id: s.id,
        route_id: s.route_id,
        courier_id,
        order_id: s.order_id,
        seq: s.seq,
        bags: s.bags,
        window_start: s.window_start,
        window_end: s.window_end,
        planned_eta: s.planned_eta,
        eta: s.eta,
        told_eta: s.told_eta,
        status: s.status,
    }
}

impl Tx {
    /// Every courier, by id.
    pub async fn couriers(&self) -> Result<Vec<CourierRow>, StoreError> {
        Ok(couriers::Entity::find()
            .order_by_asc(couriers::Column::Id)
            .all(self.c())
            .await?
            .into_iter()
            .map(CourierRow::from)
            .collect())
    }

    pub async fn courier(&self, id: CourierId) -> Result<Option<CourierRow>, StoreError> {
        Ok(couriers::Entity::find_by_id(id.0)
            .one(self.c())
            .await?
            .map(CourierRow::from))
    }

    /// The active courier with this Telegram user id.
    pub async fn courier_by_telegram(&self, user: &str) -> Result<Option<CourierRow>, StoreError> {
        Ok(couriers::Entity::find()
            .filter(couriers::Column::TelegramUserId.eq(user))
            .filter(couriers::Column::Active.eq(true))
            .order_by_asc(couriers::Column::Id)
            .one(self.c())
            .await?
            .map(CourierRow::from))
    }

    pub async fn courier_by_phone(&self, phone: &str) -> Result<Option<CourierRow>, StoreError> {
        Ok(couriers::Entity::find()
            .filter(couriers::Column::Phone.eq(phone))
            .one(self.c())
            .await?
            .map(CourierRow::from))
    }

    pub async fn insert_courier(&self, c: &NewCourier<'_>) -> Result<i64, StoreError> {
        let r = couriers::Entity::insert(couriers::ActiveModel {
            name: Set(c.name.to_owned()),
            phone: Set(c.phone.to_owned()),
            telegram_user_id: Set(c.telegram_user_id.map(str::to_owned)),
            capacity_bags: Set(c.capacity_bags),
            shift_start: Set(c.shift.0.to_owned()),
            shift_end: Set(c.shift.1.to_owned()),
            active: Set(true),
            last_lat: Set(None),
            last_lon: Set(None),
            last_seen_at: Set(None),
            ..Default::default()
        })
        .exec(self.c())
        .await?;
        Ok(r.last_insert_id)
    }

    /// Updates a courier found by phone (`courier add` run again).
    pub async fn update_courier(&self, id: i64, c: &NewCourier<'_>) -> Result<(), StoreError> {
        couriers::Entity::update_many()
            .col_expr(couriers::Column::Name, Expr::value(c.name))
            .col_expr(
                couriers::Column::TelegramUserId,
                Expr::value(c.telegram_user_id.map(str::to_owned)),
            )
            .col_expr(couriers::Column::CapacityBags, Expr::value(c.capacity_bags))
            .col_expr(couriers::Column::ShiftStart, Expr::value(c.shift.0))
            .col_expr(couriers::Column::ShiftEnd, Expr::value(c.shift.1))
            .col_expr(couriers::Column::Active, Expr::value(true))
            .filter(couriers::Column::Id.eq(id))
            .exec(self.c())
            .await?;
        Ok(())
    }

    /// Stores where a courier is.
    pub async fn set_courier_position(
        &self,
        id: CourierId,
        lat: f64,
        lon: f64,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        couriers::Entity::update_many()
            .col_expr(couriers::Column::LastLat, Expr::value(lat))
            .col_expr(couriers::Column::LastLon, Expr::value(lon))
            .col_expr(couriers::Column::LastSeenAt, Expr::value(at))
            .filter(couriers::Column::Id.eq(id.0))
            .exec(self.c())
            .await?;
        Ok(())
    }

    /// Couriers with a route still under way.
    pub async fn busy_couriers(&self) -> Result<Vec<i64>, StoreError> {
        Ok(delivery_routes::Entity::find()
            .filter(delivery_routes::Column::Status.eq("active"))
            .all(self.c())
            .await?
            .into_iter()
            .map(|r| r.courier_id)
            .collect())
    }

    pub async fn insert_route(
        &self,
        courier: CourierId,
        slot: (DateTime<Utc>, DateTime<Utc>),
        distance_m: f64,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let r = delivery_routes::Entity::insert(delivery_routes::ActiveModel {
            courier_id: Set(courier.0),
            slot_start: Set(slot.0),
            slot_end: Set(slot.1),
            status: Set("active".to_owned()),
            planned_distance_m: Set(distance_m),
            created_at: Set(now),
            ..Default::default()
        })
        .exec(self.c())
        .await?;
        Ok(r.last_insert_id)
    }

    pub async fn insert_stop(
        &self,
        route: i64,
        order: OrderId,
        seq: i32,
        bags: i32,
        window: (DateTime<Utc>, DateTime<Utc>),
        eta: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let r = route_stops::Entity::insert(route_stops::ActiveModel {
            route_id: Set(route),
            order_id: Set(order.0),
            seq: Set(seq),
            bags: Set(bags),
            window_start: Set(window.0),
            window_end: Set(window.1),
            planned_eta: Set(eta),
            eta: Set(eta),
            told_eta: Set(eta),
            status: Set("pending".to_owned()),
            arrived_at: Set(None),
            done_at: Set(None),
            ..Default::default()
        })
        .exec(self.c())
        .await?;
        Ok(r.last_insert_id)
    }

    pub async fn route(&self, id: i64) -> Result<Option<RouteRow>, StoreError> {
        Ok(delivery_routes::Entity::find_by_id(id)
            .one(self.c())
            .await?
            .map(|r| RouteRow {
                id: r.id,
                courier_id: r.courier_id,
                slot_start: r.slot_start,
                slot_end: r.slot_end,
                status: r.status,
            }))
    }

    /// A stop with its route's courier.
    pub async fn stop(&self, id: i64) -> Result<Option<StopRow>, StoreError> {
        let Some(s) = route_stops::Entity::find_by_id(id).one(self.c()).await? else {
            return Ok(None);
        };
        let courier = delivery_routes::Entity::find_by_id(s.route_id)
            .one(self.c())
            .await?
            .map(|r| r.courier_id)
            .unwrap_or_default();
        Ok(Some(stop_row(s, courier)))
    }

    /// The stops a courier still has to finish (pending or arrived) on active routes, in
    /// visiting order.
    pub async fn open_stops_of(&self, courier: CourierId) -> Result<Vec<StopRow>, StoreError> {
        let routes: Vec<i64> = delivery_routes::Entity::find()
            .filter(delivery_routes::Column::CourierId.eq(courier.0))
            .filter(delivery_routes::Column::Status.eq("active"))
            .order_by_asc(delivery_routes::Column::Id)
            .all(self.c())
            .await?
            .into_iter()
            .map(|r| r.id)
            .collect();
        if routes.is_empty() {
            return Ok(vec![]);
        }
        let mut stops: Vec<StopRow> = route_stops::Entity::find()
            .filter(route_stops::Column::RouteId.is_in(routes.clone()))
            .filter(route_stops::Column::Status.is_in(["pending", "arrived"]))
            .all(self.c())
            .await?
            .into_iter()
            .map(|s| stop_row(s, courier.0))
            .collect();
        stops.sort_by_key(|s| {
            (
                routes.iter().position(|&r| r == s.route_id).unwrap_or(0),
                s.seq,
            )
        });
        Ok(stops)
    }

    /// Moves a stop from one of `from` to `to`; false when it was not in `from`.
    pub async fn set_stop_status(
        &self,
        id: i64,
        from: &[&str],
        to: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut q = route_stops::Entity::update_many()
            .col_expr(route_stops::Column::Status, Expr::value(to))
            .filter(route_stops::Column::Id.eq(id))
            .filter(route_stops::Column::Status.is_in(from.iter().copied()));
        q = if to == "arrived" {
            q.col_expr(route_stops::Column::ArrivedAt, Expr::value(at))
        } else {
            q.col_expr(route_stops::Column::DoneAt, Expr::value(at))
        };
        Ok(q.exec(self.c()).await?.rows_affected == 1)
    }

    /// Stores a new estimate; `told` when the customer is being told it.
    pub async fn set_stop_eta(
        &self,
        id: i64,
        eta: DateTime<Utc>,
        told: bool,
    ) -> Result<(), StoreError> {
        let mut q = route_stops::Entity::update_many()
            .col_expr(route_stops::Column::Eta, Expr::value(eta))
            .filter(route_stops::Column::Id.eq(id));
        if told {
            q = q.col_expr(route_stops::Column::ToldEta, Expr::value(eta));
        }
        q.exec(self.c()).await?;
        Ok(())
    }

    pub async fn set_stop_seq(&self, id: i64, seq: i32) -> Result<(), StoreError> {
        route_stops::Entity::update_many()
            .col_expr(route_stops::Column::Seq, Expr::value(seq))
            .filter(route_stops::Column::Id.eq(id))
            .exec(self.c())
            .await?;
        Ok(())
    }

    /// Closes a route once no stop is open; returns whether it closed.
    pub async fn close_route_if_done(&self, route: i64) -> Result<bool, StoreError> {
        let open = route_stops::Entity::find()
            .filter(route_stops::Column::RouteId.eq(route))
            .filter(route_stops::Column::Status.is_in(["pending", "arrived"]))
            .one(self.c())
            .await?
            .is_some();
        if open {
            return Ok(false);
        }
        delivery_routes::Entity::update_many()
            .col_expr(delivery_routes::Column::Status, Expr::value("done"))
            .filter(delivery_routes::Column::Id.eq(route))
            .exec(self.c())
            .await?;
        Ok(true)
    }

    /// The courier and promised arrival of an order.
    pub async fn set_order_courier(
        &self,
        order: OrderId,
        courier: Option<CourierId>,
        eta: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        orders::Entity::update_many()
            .col_expr(orders::Column::CourierId, Expr::value(courier.map(|c| c.0)))
            .col_expr(orders::Column::EtaAt, Expr::value(eta))
            .filter(orders::Column::Id.eq(order.0))
            .exec(self.c())
            .await?;
        Ok(())
    }

    /// An event addressed to a courier (not a customer): the dispatcher sends it to the
    /// courier's Telegram chat.
    pub async fn enqueue_for_courier(
        &self,
        courier: CourierId,
        kind: &str,
        payload: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        outbox::Entity::insert(outbox::ActiveModel {
            kind: Set(kind.to_owned()),
            payload: Set(payload.to_string()),
            customer_id: Set(None),
            order_id: Set(None),
            courier_id: Set(Some(courier.0)),
            status: Set("pending".to_owned()),
            attempts: Set(0),
            next_attempt_at: Set(now),
            locked_until: Set(None),
            last_error: Set(None),
            created_at: Set(now),
            done_at: Set(None),
            ..Default::default()
        })
        .exec_without_returning(self.c())
        .await?;
        Ok(())
    }
}
