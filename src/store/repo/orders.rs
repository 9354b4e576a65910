//! Orders, their lines, status history and cancellations.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Select};

use super::corrupt;
use crate::domain::{
    AddressId, CancelReason, Channel, CustomerId, DeliveryAddress, Fen, LatLon, Order, OrderId,
    OrderLine, OrderNumber, OrderStatus, Quantity, Sku, Totals,
};
use crate::store::entities::{cancellations, order_lines, order_status_history, orders};
use crate::store::inline_sqlite::Inline;
use crate::store::{StoreError, Tx};

/// What the place-order service writes (the number comes last: see
/// [`Tx::insert_unnumbered_order`]).
#[derive(Debug, Clone)]
pub struct NewOrder {
    pub customer: CustomerId,
    pub channel: Channel,
    pub address: DeliveryAddress,
    pub slot_start: DateTime<Utc>,
    pub slot_end: DateTime<Utc>,
    pub lines: Vec<NewOrderLine>,
    pub totals: Totals,
    pub auto_substitute: bool,
    pub tracking_token: String,
}

#[derive(Debug, Clone)]
pub struct NewOrderLine {
    pub sku: Sku,
    pub name_zh: String,
    pub name_en: String,
    pub quantity: Quantity,
    pub unit_price: Fen,
    pub substitute_for: Option<Sku>,
}

/// A cancellation record.
#[derive(Debug, Clone)]
pub struct Cancellation {
    pub order: OrderId,
    pub reason: CancelReason,
    pub reason_text: Option<String>,
    pub fee: Fen,
    pub status_at_cancel: OrderStatus,
    pub actor: String,
}

/// The bare order row (without lines), for status checks inside a transaction.
pub type OrderRow = orders::Model;

/// An order inserted under a stand-in number (see [`Tx::insert_unnumbered_order`]): it becomes
/// an [`Order`] only through [`Tx::number_order`].
#[derive(Debug)]
pub struct UnnumberedOrder {
    row: OrderRow,
    lines: Vec<OrderLine>,
}

impl UnnumberedOrder {
    pub fn id(&self) -> OrderId {
        OrderId(self.row.id)
    }
}

fn line_from_row(r: order_lines::Model) -> Result<OrderLine, StoreError> {
    let unit = r.unit.parse().map_err(|e| corrupt("order_lines", e))?;
    Ok(OrderLine {
        sku: Sku::parse(&r.sku).map_err(|e| corrupt("order_lines", e))?,
        name_zh: r.name_zh,
        name_en: r.name_en,
        quantity: Quantity::new(r.qty_milli, unit).map_err(|e| corrupt("order_lines", e))?,
        unit_price: Fen::new(r.unit_price_fen),
        total: Fen::new(r.line_fen),
        substitute_for: r
            .substitute_for
            .as_deref()
            .map(Sku::parse)
            .transpose()
            .map_err(|e| corrupt("order_lines", e))?,
        picked: match r.picked_milli {
            Some(m) if m > 0 => {
                Some(Quantity::new(m, unit).map_err(|e| corrupt("order_lines", e))?)
            }
            _ => None,
        },
    })
}

impl Tx {
    /// Inserts a new order with its lines and first status entry under a stand-in number
    /// unique to it (`~` and its tracking token, which no order number matches);
    /// [`Tx::number_order`] gives it its number before the commit, so no other transaction
    /// ever sees the stand-in.
    ///
    /// Why numbers come last: every placement of the day updates the day's number sequence,
    /// and on PostgreSQL that row stays locked until COMMIT, so each statement after the update
    /// (each a round trip) lengthens the queue of concurrent placements behind it. Numbered
    /// last, the order's inserts and read-back are done before the lock is taken.
    pub async fn insert_unnumbered_order(
        &self,
        o: &NewOrder,
        now: DateTime<Utc>,
    ) -> Result<UnnumberedOrder, StoreError> {
        let row = orders::Entity::insert(orders::ActiveModel {
            number: Set(format!("~{}", o.tracking_token)),
            customer_id: Set(o.customer.0),
            status: Set(OrderStatus::Placed.code().to_owned()),
            channel: Set(o.channel.code().to_owned()),
            address_id: Set(o.address.id.map(|a| a.0)),
            address_text: Set(o.address.text.clone()),
            lat: Set(o.address.location.map(|l| l.lat)),
            lon: Set(o.address.location.map(|l| l.lon)),
            zone: Set(o.address.zone.clone()),
            slot_start: Set(o.slot_start),
            slot_end: Set(o.slot_end),
            goods_fen: Set(o.totals.goods.get()),
            delivery_fee_fen: Set(o.totals.delivery_fee.get()),
            total_fen: Set(o.totals.total.get()),
            cancel_fee_fen: Set(0),
            auto_substitute: Set(o.auto_substitute),
            tracking_token: Set(o.tracking_token.clone()),
            courier_id: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            dispatched_at: Set(None),
            delivered_at: Set(None),
            ..Default::default()
        })
        .exec_with_returning(self.c())
        .await?;
        let id = OrderId(row.id);
        for (i, l) in o.lines.iter().enumerate() {
            self.insert_line(id, i32::try_from(i + 1).unwrap_or(i32::MAX), l)
                .await?;
        }
        self.insert_history(id, None, OrderStatus::Placed, "customer", None, now)
            .await?;
        let lines = o
            .lines
            .iter()
            .map(|l| OrderLine {
                sku: l.sku.clone(),
                name_zh: l.name_zh.clone(),
                name_en: l.name_en.clone(),
                quantity: l.quantity,
                unit_price: l.unit_price,
                total: l.quantity.price(l.unit_price),
                substitute_for: l.substitute_for.clone(),
                picked: None,
            })
            .collect();
        Ok(UnnumberedOrder { row, lines })
    }

    /// Gives an order inserted by [`Tx::insert_unnumbered_order`] its number; the order's row
    /// and the order, as stored now.
    pub async fn number_order(
        &self,
        o: UnnumberedOrder,
        number: &OrderNumber,
    ) -> Result<(OrderRow, Order), StoreError> {
        orders::Entity::update_many()
            .col_expr(orders::Column::Number, Expr::value(number.to_string()))
            .filter(orders::Column::Id.eq(o.row.id))
            .exec(self.c())
            .await?;
        let mut row = o.row;
        row.number = number.to_string();
        let order = build_order(row.clone(), o.lines, None)?;
        Ok((row, order))
    }

    pub async fn insert_line(
        &self,
        order: OrderId,
        line_no: i32,
        l: &NewOrderLine,
    ) -> Result<(), StoreError> {
        order_lines::Entity::insert(order_lines::ActiveModel {
            order_id: Set(order.0),
            line_no: Set(line_no),
            sku: Set(l.sku.to_string()),
            name_zh: Set(l.name_zh.clone()),
            name_en: Set(l.name_en.clone()),
            qty_milli: Set(l.quantity.milli()),
            unit: Set(l.quantity.unit().code().to_owned()),
            unit_price_fen: Set(l.unit_price.get()),
            line_fen: Set(l.quantity.price(l.unit_price).get()),
            substitute_for: Set(l.substitute_for.as_ref().map(|s| s.to_string())),
            picked_milli: Set(None),
            removed: Set(false),
            ..Default::default()
        })
        .exec_without_returning(self.c())
        .await?;
        Ok(())
    }

    /// The number for a new line: one past the highest, removed lines included (line numbers
    /// key pick tasks and scans, so they are never reused).
    pub async fn next_line_no(&self, order: OrderId) -> Result<i32, StoreError> {
        let last = order_lines::Entity::find()
            .filter(order_lines::Column::OrderId.eq(order.0))
            .order_by_desc(order_lines::Column::LineNo)
            .one(self.c())
            .await?
            .map(|l| l.line_no)
            .unwrap_or(0);
        Ok(last.saturating_add(1))
    }

    /// Sets a line's quantity, or removes the line with `None`.
    pub async fn set_line_quantity(
        &self,
        order: OrderId,
        sku: &Sku,
        q: Option<Quantity>,
    ) -> Result<(), StoreError> {
        let update = order_lines::Entity::update_many()
            .filter(order_lines::Column::OrderId.eq(order.0))
            .filter(order_lines::Column::Sku.eq(sku.to_string()))
            .filter(order_lines::Column::Removed.eq(false));
        let update = match q {
            Some(q) => {
                let unit_price = order_lines::Entity::find()
                    .filter(order_lines::Column::OrderId.eq(order.0))
                    .filter(order_lines::Column::Sku.eq(sku.to_string()))
                    .filter(order_lines::Column::Removed.eq(false))
                    .one(self.c())
                    .await?
                    .map(|l| Fen::new(l.unit_price_fen))
                    .unwrap_or(Fen::ZERO);
                update
                    .col_expr(order_lines::Column::QtyMilli, q.milli().into())
                    .col_expr(
                        order_lines::Column::LineFen,
                        q.price(unit_price).get().into(),
                    )
            }
            None => update.col_expr(order_lines::Column::Removed, true.into()),
        };
        update.exec(self.c()).await?;
        Ok(())
    }

    pub async fn insert_history(
        &self,
        order: OrderId,
        from: Option<OrderStatus>,
        to: OrderStatus,
        actor: &str,
        note: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        order_status_history::Entity::insert(order_status_history::ActiveModel {
            order_id: Set(order.0),
            from_status: Set(from.map(|s| s.code().to_owned())),
            to_status: Set(to.code().to_owned()),
            actor: Set(actor.to_owned()),
            note: Set(note),
            at: Set(now),
            ..Default::default()
        })
        .exec_without_returning(self.c())
        .await?;
        Ok(())
    }

    /// The status history of an order, oldest first: `(from, to, actor, at)`.
    pub async fn status_history(
        &self,
        order: OrderId,
    ) -> Result<Vec<(Option<String>, String, String, DateTime<Utc>)>, StoreError> {
        Ok(order_status_history::Entity::find()
            .filter(order_status_history::Column::OrderId.eq(order.0))
            .order_by_asc(order_status_history::Column::Id)
            .all(self.c())
            .await?
            .into_iter()
            .map(|r| (r.from_status, r.to_status, r.actor, r.at))
            .collect())
    }

    /// Moves an order from `from` to `to` if it is still in `from` (a concurrent change makes
    /// this return `false` and change nothing).
    pub async fn set_order_status(
        &self,
        order: OrderId,
        from: OrderStatus,
        to: OrderStatus,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut q = orders::Entity::update_many()
            .col_expr(orders::Column::Status, to.code().into())
            .col_expr(orders::Column::UpdatedAt, now.into())
            .filter(orders::Column::Id.eq(order.0))
            .filter(orders::Column::Status.eq(from.code()));
        if to == OrderStatus::OutForDelivery {
            q = q.col_expr(orders::Column::DispatchedAt, now.into());
        }
        if to == OrderStatus::Delivered {
            q = q.col_expr(orders::Column::DeliveredAt, now.into());
        }
        Ok(q.exec(self.c()).await?.rows_affected == 1)
    }

    pub async fn set_order_totals(
        &self,
        order: OrderId,
        t: Totals,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        orders::Entity::update_many()
            .col_expr(orders::Column::GoodsFen, t.goods.get().into())
            .col_expr(orders::Column::DeliveryFeeFen, t.delivery_fee.get().into())
            .col_expr(orders::Column::TotalFen, t.total.get().into())
            .col_expr(orders::Column::UpdatedAt, now.into())
            .filter(orders::Column::Id.eq(order.0))
            .exec(self.c())
            .await?;
        Ok(())
    }

    pub async fn set_order_slot(
        &self,
        order: OrderId,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        orders::Entity::update_many()
            .col_expr(orders::Column::SlotStart, start.into())
            .col_expr(orders::Column::SlotEnd, end.into())
            .col_expr(orders::Column::UpdatedAt, now.into())
            .filter(orders::Column::Id.eq(order.0))
            .exec(self.c())
            .await?;
        Ok(())
    }

    pub async fn set_order_address(
        &self,
        order: OrderId,
        a: &DeliveryAddress,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        orders::Entity::update_many()
            .col_expr(orders::Column::AddressId, a.id.map(|i| i.0).into())
            .col_expr(orders::Column::AddressText, a.text.clone().into())
            .col_expr(orders::Column::Lat, a.location.map(|l| l.lat).into())
            .col_expr(orders::Column::Lon, a.location.map(|l| l.lon).into())
            .col_expr(orders::Column::Zone, a.zone.clone().into())
            .col_expr(orders::Column::UpdatedAt, now.into())
            .filter(orders::Column::Id.eq(order.0))
            .exec(self.c())
            .await?;
        Ok(())
    }

    pub async fn insert_cancellation(
        &self,
        c: &Cancellation,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let Cancellation {
            order,
            reason,
            reason_text,
            fee,
            status_at_cancel,
            actor,
        } = c;
        let (order, fee) = (*order, *fee);
        cancellations::Entity::insert(cancellations::ActiveModel {
            order_id: Set(order.0),
            reason: Set(reason.code().to_owned()),
            reason_text: Set(reason_text.clone()),
            fee_fen: Set(fee.get()),
            status_at_cancel: Set(status_at_cancel.code().to_owned()),
            actor: Set(actor.clone()),
            at: Set(now),
            ..Default::default()
        })
        .exec_without_returning(self.c())
        .await?;
        orders::Entity::update_many()
            .col_expr(orders::Column::CancelFeeFen, fee.get().into())
            .filter(orders::Column::Id.eq(order.0))
            .exec(self.c())
            .await?;
        Ok(())
    }

    /// How an order was cancelled (the reason as the customer put it included); `None` for an
    /// order not cancelled.
    pub async fn cancellation_of(
        &self,
        order: OrderId,
    ) -> Result<Option<Cancellation>, StoreError> {
        let Some(m) = cancellations::Entity::find()
            .filter(cancellations::Column::OrderId.eq(order.0))
            .one(self.c())
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(Cancellation {
            order,
            reason: m
                .reason
                .parse()
                .map_err(|e| super::corrupt("cancellations", e))?,
            reason_text: m.reason_text,
            fee: Fen::new(m.fee_fen),
            status_at_cancel: m
                .status_at_cancel
                .parse()
                .map_err(|e| super::corrupt("cancellations", e))?,
            actor: m.actor,
        }))
    }

    /// The order row by number, whoever owns it.
    pub async fn order_row_by_number(
        &self,
        number: &OrderNumber,
    ) -> Result<Option<OrderRow>, StoreError> {
        Ok(orders::Entity::find()
            .filter(orders::Column::Number.eq(number.as_str()))
            .one(self.c())
            .await?)
    }

    pub async fn order_row(&self, id: OrderId) -> Result<Option<OrderRow>, StoreError> {
        Ok(orders::Entity::find_by_id(id.0).one(self.c()).await?)
    }

    /// The full order by id.
    pub async fn order(&self, id: OrderId) -> Result<Option<Order>, StoreError> {
        match self.order_row(id).await? {
            Some(row) => Ok(Some(self.assemble(row).await?)),
            None => Ok(None),
        }
    }

    pub async fn order_by_tracking_token(&self, token: &str) -> Result<Option<Order>, StoreError> {
        match orders::Entity::find()
            .filter(orders::Column::TrackingToken.eq(token))
            .one(self.c())
            .await?
        {
            Some(row) => Ok(Some(self.assemble(row).await?)),
            None => Ok(None),
        }
    }

    /// A customer's orders, newest first.
    pub async fn orders_of(&self, customer: CustomerId) -> Result<Vec<Order>, StoreError> {
        let rows = orders_of(customer).all(self.c()).await?;
        self.assemble_many(rows).await
    }

    /// Orders in a status whose slot starts in `[from, to)` (picking waves, dispatch).
    pub async fn orders_in_slot(
        &self,
        status: OrderStatus,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Order>, StoreError> {
        let rows = orders::Entity::find()
            .filter(orders::Column::Status.eq(status.code()))
            .filter(orders::Column::SlotStart.gte(from))
            .filter(orders::Column::SlotStart.lt(to))
            .order_by_asc(orders::Column::Id)
            .all(self.c())
            .await?;
        self.assemble_many(rows).await
    }

    async fn assemble(&self, r: orders::Model) -> Result<Order, StoreError> {
        let mut all = self.assemble_many(vec![r]).await?;
        all.pop()
            .ok_or_else(|| corrupt("orders", "order vanished while reading it"))
    }

    /// Orders with their lines and cancel reasons in three queries, whatever their number.
    async fn assemble_many(&self, rows: Vec<orders::Model>) -> Result<Vec<Order>, StoreError> {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let lines = lines_of(ids.clone()).all(self.c()).await?;
        let cancels = cancellations_of(ids).all(self.c()).await?;
        assemble(rows, lines, cancels)
    }
}

/// A customer's orders, newest first.
fn orders_of(customer: CustomerId) -> Select<orders::Entity> {
    orders::Entity::find()
        .filter(orders::Column::CustomerId.eq(customer.0))
        .order_by_desc(orders::Column::Id)
}

/// The lines still in some orders, in line order.
fn lines_of(orders: Vec<i64>) -> Select<order_lines::Entity> {
    order_lines::Entity::find()
        .filter(order_lines::Column::OrderId.is_in(orders))
        .filter(order_lines::Column::Removed.eq(false))
        .order_by_asc(order_lines::Column::LineNo)
}

fn cancellations_of(orders: Vec<i64>) -> Select<cancellations::Entity> {
    cancellations::Entity::find().filter(cancellations::Column::OrderId.is_in(orders))
}

/// Orders from their rows, the rows of their lines and their cancellations.
fn assemble(
    rows: Vec<orders::Model>,
    line_rows: Vec<order_lines::Model>,
    cancels: Vec<cancellations::Model>,
) -> Result<Vec<Order>, StoreError> {
    use std::collections::HashMap;
    let mut lines: HashMap<i64, Vec<OrderLine>> = HashMap::new();
    for l in line_rows {
        let order_id = l.order_id;
        lines.entry(order_id).or_default().push(line_from_row(l)?);
    }
    let mut reasons: HashMap<i64, (CancelReason, Option<String>)> = HashMap::new();
    for c in cancels {
        if let Ok(r) = c.reason.parse() {
            reasons.insert(c.order_id, (r, c.reason_text));
        }
    }
    rows.into_iter()
        .map(|r| {
            let l = lines.remove(&r.id).unwrap_or_default();
            let reason = reasons.remove(&r.id);
            build_order(r, l, reason)
        })
        .collect()
}

/// The same read on the inline SQLite path of a chat turn.
impl Inline<'_> {
    pub(crate) fn orders_of(&self, customer: CustomerId) -> Result<Vec<Order>, StoreError> {
        let rows = self.all(orders_of(customer))?;
        if rows.is_empty() {
            return Ok(vec![]);
        }
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let lines = self.all(lines_of(ids.clone()))?;
        let cancels = self.all(cancellations_of(ids))?;
        assemble(rows, lines, cancels)
    }
}

fn build_order(
    r: orders::Model,
    lines: Vec<OrderLine>,
    cancel: Option<(CancelReason, Option<String>)>,
) -> Result<Order, StoreError> {
    let (cancel_reason, cancel_note) = cancel.map_or((None, None), |(r, t)| (Some(r), t));
    Ok(Order {
        id: OrderId(r.id),
        number: OrderNumber::parse(&r.number).map_err(|e| corrupt("orders", e))?,
        customer_id: CustomerId(r.customer_id),
        status: r.status.parse().map_err(|e| corrupt("orders", e))?,
        channel: r.channel.parse().map_err(|e| corrupt("orders", e))?,
        address: DeliveryAddress {
            id: r.address_id.map(AddressId),
            text: r.address_text,
            location: r.lat.zip(r.lon).map(|(lat, lon)| LatLon { lat, lon }),
            zone: r.zone,
        },
        slot_start: r.slot_start,
        slot_end: r.slot_end,
        lines,
        totals: Totals {
            goods: Fen::new(r.goods_fen),
            delivery_fee: Fen::new(r.delivery_fee_fen),
            total: Fen::new(r.total_fen),
        },
        cancel_fee: Fen::new(r.cancel_fee_fen),
        cancel_reason,
        cancel_note,
        auto_substitute: r.auto_substitute,
        tracking_token: r.tracking_token,
        created_at: r.created_at,
        dispatched_at: r.dispatched_at,
        delivered_at: r.delivered_at,
    })
}

impl Tx {
    /// Delivered and cancelled orders of a customer since `since` (membership).
    pub async fn ended_order_counts(
        &self,
        customer: CustomerId,
        since: DateTime<Utc>,
    ) -> Result<(u32, u32), StoreError> {
        let rows = orders::Entity::find()
            .filter(orders::Column::CustomerId.eq(customer.0))
            .filter(orders::Column::UpdatedAt.gte(since))
            .filter(
                orders::Column::Status
                    .is_in([OrderStatus::Delivered.code(), OrderStatus::Cancelled.code()]),
            )
            .all(self.c())
            .await?;
        let delivered = rows
            .iter()
            .filter(|r| r.status == OrderStatus::Delivered.code())
            .count();
        let cancelled = rows.len() - delivered;
        Ok((
            u32::try_from(delivered).unwrap_or(u32::MAX),
            u32::try_from(cancelled).unwrap_or(u32::MAX),
        ))
    }
}
