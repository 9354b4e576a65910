//! Orders: place, change, reschedule, move, cancel, advance, list.
//!
//! Every method is one transaction. Stock and slot places are taken with conditional UPDATEs
//! inside it, so a failure at any step rolls back everything: no half-written order, no
//! leaked reservation.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rand::Rng;
use serde_json::json;

use crate::analytics::risk::RiskAssessment;
use crate::domain::events::kinds;
use crate::domain::{
    AddressId, CancelDecision, CancelReason, Channel, Customer, Fen, Order, OrderNumber,
    OrderStatus, Product, Quantity, Sku, TZ,
};
use crate::services::{Actor, SavedWith, ServiceError, Services, StateSave};
use crate::store::Tx;
use crate::store::repo::{Cancellation, NewOrder, NewOrderLine, OrderRow, OutboxEvent};

/// One line a customer asks for, in any unit convertible to the product's selling unit.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderLineRequest {
    pub sku: Sku,
    pub quantity: Quantity,
}

/// Everything needed to place an order.
#[derive(Debug, Clone)]
pub struct PlaceOrder {
    pub channel: Channel,
    pub lines: Vec<OrderLineRequest>,
    /// Start of the chosen delivery slot.
    pub slot_start: DateTime<Utc>,
    pub address: AddressId,
    /// The customer's consent to replace short items with similar ones.
    pub auto_substitute: bool,
}

/// A change of one line: set a new quantity (adds the product if absent) or remove it.
#[derive(Debug, Clone, PartialEq)]
pub enum LineChange {
    Set(OrderLineRequest),
    Remove(Sku),
}

/// What cancelling would cost right now, shown before the customer confirms.
#[derive(Debug, Clone, PartialEq)]
pub struct CancelQuote {
    pub order: Order,
    pub decision: CancelDecision,
}

fn tracking_token() -> String {
    let n: u128 = rand::rng().random();
    format!("{n:032x}")
}

fn log_cancelled(order: &Order, fee: Fen, reason: CancelReason) {
    tracing::info!(number = %order.number, fee = %fee, reason = reason.code(), "order cancelled");
}

fn order_event(kind: &'static str, o: &OrderRow, extra: serde_json::Value) -> OutboxEvent {
    let mut payload = json!({ "number": o.number, "status": o.status });
    if let (Some(p), Some(e)) = (payload.as_object_mut(), extra.as_object()) {
        p.extend(e.clone());
    }
    OutboxEvent {
        kind,
        customer: Some(crate::domain::CustomerId(o.customer_id)),
        order: Some(crate::domain::OrderId(o.id)),
        payload,
    }
}

impl Services {
    /// Places an order: validates lines, books the slot, reserves stock, prices it and writes
    /// an `order_placed` event, all or nothing.
    #[tracing::instrument(skip(self, req), fields(customer = %customer.id))]
    pub async fn place_order(
        &self,
        customer: &Customer,
        req: PlaceOrder,
    ) -> Result<Order, ServiceError> {
        Ok(self.place_order_scored(customer, req).await?.0)
    }

    /// [`Services::place_order`], with the risk rules' verdict on the new order (scored and
    /// recorded in the same transaction, so no order is ever left unscored).
    pub async fn place_order_scored(
        &self,
        customer: &Customer,
        req: PlaceOrder,
    ) -> Result<(Order, RiskAssessment), ServiceError> {
        self.in_write(async |tx| self.place_in(tx, customer, req).await)
            .await
    }

    /// [`Services::place_order_scored`] for a chat turn whose dialog state must be saved
    /// before its order is placed: both in one transaction, so the turn's confirmation takes
    /// the store's writer once instead of twice, and a redelivered message (its id recorded
    /// with the state) or a concurrent save (the version check) places nothing.
    ///
    /// A placement that succeeds leaves the transaction open ([`SavedWith::Open`]) for the
    /// turn's answer: the order is committed with it by [`Services::finish_turn`]. One that
    /// fails (out of stock, slot full, ...) is rolled back and the state saved on its own, as
    /// it would have been before the command ([`SavedWith::Refused`], with the reason).
    pub async fn place_order_saving_state(
        &self,
        save: &StateSave<'_>,
        customer: &Customer,
        req: PlaceOrder,
    ) -> Result<SavedWith<(Order, RiskAssessment)>, ServiceError> {
        self.with_state(save, customer.id, async |tx| {
            self.place_in(tx, customer, req).await
        })
        .await
    }

    /// The placement itself, in the caller's write transaction.
    async fn place_in(
        &self,
        tx: &Tx,
        customer: &Customer,
        req: PlaceOrder,
    ) -> Result<(Order, RiskAssessment), ServiceError> {
        let now = self.now();
        let merged = merge_lines(&req.lines)?;
        if merged.is_empty() {
            return Err(ServiceError::EmptyOrder);
        }
        if merged.len() > self.rules.max_lines {
            return Err(ServiceError::TooManyLines {
                max: self.rules.max_lines,
            });
        }
        let slot = self.rules.slots.slot_starting_at(req.slot_start)?;
        let address = tx
            .address_of(customer.id, req.address)
            .await?
            .ok_or_else(|| {
                ServiceError::UnknownAddress(format!("address {} is not one of yours", req.address))
            })?;

        let products = self
            .products_for(tx, merged.iter().map(|(s, _)| s.clone()).collect())
            .await?;
        let mut lines = Vec::with_capacity(merged.len());
        for (sku, q) in &merged {
            let p = &products[sku];
            let quantity = p
                .to_selling_quantity(*q)
                .map_err(|source| ServiceError::Quantity {
                    product: p.name_zh.clone(),
                    source,
                })?;
            lines.push(NewOrderLine {
                sku: sku.clone(),
                name_zh: p.name_zh.clone(),
                name_en: p.name_en.clone(),
                quantity,
                unit_price: p.price,
                substitute_for: None,
            });
        }
        let goods: Fen = lines.iter().map(|l| l.quantity.price(l.unit_price)).sum();
        let totals = self.rules.delivery.totals(goods)?;

        // Reads and inserts first, the updates of rows every concurrent placement updates
        // (the slot's capacity, each product's stock, the day's number sequence) last: on
        // PostgreSQL their locks last until COMMIT (see `Tx::insert_unnumbered_order`).
        let earlier = tx.orders_of(customer.id).await?;
        let new = NewOrder {
            customer: customer.id,
            channel: req.channel,
            address: address.clone(),
            slot_start: slot.start(),
            slot_end: slot.end(),
            lines,
            totals,
            auto_substitute: req.auto_substitute,
            tracking_token: tracking_token(),
        };
        let unnumbered = tx.insert_unnumbered_order(&new, now).await?;

        self.book(tx, &slot, &address.zone, now).await?;
        for l in &new.lines {
            self.reserve(tx, &products[&l.sku], l.quantity, now).await?;
        }
        let day = now.with_timezone(&TZ).date_naive();
        let seq = tx.next_order_seq(&day.format("%y%m%d").to_string()).await?;
        let (row, order) = tx
            .number_order(unnumbered, &OrderNumber::for_day(day, seq))
            .await?;
        tx.enqueue(
            &order_event(
                kinds::PLACED,
                &row,
                json!({ "total_fen": totals.total.get(), "slot_start": slot.start() }),
            ),
            now,
        )
        .await?;
        let history: Vec<Order> = std::iter::once(order.clone()).chain(earlier).collect();
        let risk = self.record_risk(tx, &order, &history).await?;
        // Logged before the caller's commit: one place for every way of placing an order (a
        // failed commit is logged as the error it returns).
        tracing::info!(number = %order.number, total = %order.totals.total, "order placed");
        Ok((order, risk))
    }

    /// The customer's orders, newest first.
    pub async fn orders_of(&self, customer: &Customer) -> Result<Vec<Order>, ServiceError> {
        let tx = self.store.begin_read().await?;
        Ok(tx.orders_of(customer.id).await?)
    }

    /// One of the customer's orders by number; another customer's order is "not found".
    pub async fn order_of(&self, customer: &Customer, number: &str) -> Result<Order, ServiceError> {
        let tx = self.store.begin_read().await?;
        let row = owned_row(&tx, customer, number).await?;
        tx.order(crate::domain::OrderId(row.id))
            .await?
            .ok_or_else(|| ServiceError::UnknownOrder(number.into()))
    }

    /// The order behind a public tracking token.
    pub async fn order_by_tracking_token(
        &self,
        token: &str,
    ) -> Result<Option<Order>, ServiceError> {
        let tx = self.store.begin_read().await?;
        Ok(tx.order_by_tracking_token(token).await?)
    }

    /// Changes quantities or removes lines before picking starts; stock reservations follow.
    #[tracing::instrument(skip(self, changes), fields(customer = %customer.id))]
    pub async fn change_lines(
        &self,
        customer: &Customer,
        number: &str,
        changes: Vec<LineChange>,
    ) -> Result<Order, ServiceError> {
        self.in_write(async |tx| self.change_lines_in(tx, customer, number, &changes).await)
            .await
    }

    /// [`Services::change_lines`] for a chat turn whose dialog state must be saved first:
    /// both in one transaction, with the answer (see [`Services::place_order_saving_state`]).
    pub async fn change_lines_saving_state(
        &self,
        save: &StateSave<'_>,
        customer: &Customer,
        number: &str,
        changes: &[LineChange],
    ) -> Result<SavedWith<Order>, ServiceError> {
        self.with_state(save, customer.id, async |tx| {
            self.change_lines_in(tx, customer, number, changes).await
        })
        .await
    }

    async fn change_lines_in(
        &self,
        tx: &Tx,
        customer: &Customer,
        number: &str,
        changes: &[LineChange],
    ) -> Result<Order, ServiceError> {
        let now = self.now();
        let (row, _) = changeable_row(tx, customer, number, OrderStatus::lines_editable).await?;
        let id = crate::domain::OrderId(row.id);
        let current = tx
            .order(id)
            .await?
            .ok_or_else(|| ServiceError::UnknownOrder(number.into()))?;
        let skus: Vec<Sku> = changes
            .iter()
            .map(|c| match c {
                LineChange::Set(r) => r.sku.clone(),
                LineChange::Remove(s) => s.clone(),
            })
            .collect();
        let products = self.products_for(tx, skus).await?;
        // removed lines keep their numbers: count on from the highest
        let mut next_line_no = tx.next_line_no(id).await?;
        for change in changes {
            match change {
                LineChange::Remove(sku) => {
                    let Some(line) = current.lines.iter().find(|l| &l.sku == sku) else {
                        return Err(ServiceError::UnknownProduct(format!(
                            "{} (not in order {})",
                            sku, row.number
                        )));
                    };
                    tx.release_stock(sku, line.quantity.milli()).await?;
                    tx.set_line_quantity(id, sku, None).await?;
                }
                LineChange::Set(req) => {
                    let p = &products[&req.sku];
                    let q = p.to_selling_quantity(req.quantity).map_err(|source| {
                        ServiceError::Quantity {
                            product: p.name_zh.clone(),
                            source,
                        }
                    })?;
                    match current.lines.iter().find(|l| l.sku == req.sku) {
                        Some(line) => {
                            let delta = q.milli() - line.quantity.milli();
                            if delta > 0 {
                                self.reserve_milli(tx, p, delta, now).await?;
                            } else if delta < 0 {
                                tx.release_stock(&req.sku, -delta).await?;
                            }
                            tx.set_line_quantity(id, &req.sku, Some(q)).await?;
                        }
                        None => {
                            self.reserve(tx, p, q, now).await?;
                            tx.insert_line(
                                id,
                                next_line_no,
                                &NewOrderLine {
                                    sku: req.sku.clone(),
                                    name_zh: p.name_zh.clone(),
                                    name_en: p.name_en.clone(),
                                    quantity: q,
                                    unit_price: p.price,
                                    substitute_for: None,
                                },
                            )
                            .await?;
                            next_line_no += 1;
                        }
                    }
                }
            }
        }
        let changed = tx
            .order(id)
            .await?
            .ok_or_else(|| ServiceError::UnknownOrder(number.into()))?;
        if changed.lines.is_empty() {
            return Err(ServiceError::EmptyOrder);
        }
        if changed.lines.len() > self.rules.max_lines {
            return Err(ServiceError::TooManyLines {
                max: self.rules.max_lines,
            });
        }
        let goods: Fen = changed.lines.iter().map(|l| l.total).sum();
        let totals = self.rules.delivery.totals(goods)?;
        tx.set_order_totals(id, totals, now).await?;
        tx.enqueue(
            &order_event(
                kinds::CHANGED,
                &row,
                json!({ "total_fen": totals.total.get() }),
            ),
            now,
        )
        .await?;
        tx.order(id)
            .await?
            .ok_or_else(|| ServiceError::UnknownOrder(number.into()))
    }

    /// Moves an order to another slot, until it leaves the warehouse.
    #[tracing::instrument(skip(self), fields(customer = %customer.id))]
    pub async fn reschedule(
        &self,
        customer: &Customer,
        number: &str,
        slot_start: DateTime<Utc>,
    ) -> Result<Order, ServiceError> {
        self.in_write(async |tx| self.reschedule_in(tx, customer, number, slot_start).await)
            .await
    }

    /// [`Services::reschedule`] for a chat turn whose dialog state must be saved first: both
    /// in one transaction, with the answer (see [`Services::place_order_saving_state`]).
    pub async fn reschedule_saving_state(
        &self,
        save: &StateSave<'_>,
        customer: &Customer,
        number: &str,
        slot_start: DateTime<Utc>,
    ) -> Result<SavedWith<Order>, ServiceError> {
        self.with_state(save, customer.id, async |tx| {
            self.reschedule_in(tx, customer, number, slot_start).await
        })
        .await
    }

    async fn reschedule_in(
        &self,
        tx: &Tx,
        customer: &Customer,
        number: &str,
        slot_start: DateTime<Utc>,
    ) -> Result<Order, ServiceError> {
        let now = self.now();
        let slot = self.rules.slots.slot_starting_at(slot_start)?;
        let (row, _) = changeable_row(tx, customer, number, OrderStatus::reschedulable).await?;
        if slot.start() == row.slot_start {
            return tx
                .order(crate::domain::OrderId(row.id))
                .await?
                .ok_or_else(|| ServiceError::UnknownOrder(number.into()));
        }
        self.book(tx, &slot, &row.zone, now).await?;
        tx.release_slot(row.slot_start, &row.zone).await?;
        let id = crate::domain::OrderId(row.id);
        tx.set_order_slot(id, slot.start(), slot.end(), now).await?;
        tx.enqueue(
            &order_event(
                kinds::RESCHEDULED,
                &row,
                json!({ "slot_start": slot.start(), "slot_end": slot.end() }),
            ),
            now,
        )
        .await?;
        tx.order(id)
            .await?
            .ok_or_else(|| ServiceError::UnknownOrder(number.into()))
    }

    /// Sends an order to another of the customer's addresses, until it leaves the warehouse.
    /// A different zone needs a place in the same slot there.
    #[tracing::instrument(skip(self), fields(customer = %customer.id))]
    pub async fn change_address(
        &self,
        customer: &Customer,
        number: &str,
        address: AddressId,
    ) -> Result<Order, ServiceError> {
        self.in_write(async |tx| self.change_address_in(tx, customer, number, address).await)
            .await
    }

    /// [`Services::change_address`] for a chat turn whose dialog state must be saved first:
    /// both in one transaction, with the answer (see [`Services::place_order_saving_state`]).
    pub async fn change_address_saving_state(
        &self,
        save: &StateSave<'_>,
        customer: &Customer,
        number: &str,
        address: AddressId,
    ) -> Result<SavedWith<Order>, ServiceError> {
        self.with_state(save, customer.id, async |tx| {
            self.change_address_in(tx, customer, number, address).await
        })
        .await
    }

    async fn change_address_in(
        &self,
        tx: &Tx,
        customer: &Customer,
        number: &str,
        address: AddressId,
    ) -> Result<Order, ServiceError> {
        let now = self.now();
        let (row, _) = changeable_row(tx, customer, number, OrderStatus::reschedulable).await?;
        let new = tx.address_of(customer.id, address).await?.ok_or_else(|| {
            ServiceError::UnknownAddress(format!("address {address} is not one of yours"))
        })?;
        if new.zone != row.zone {
            let slot = self.rules.slots.slot_starting_at(row.slot_start)?;
            tx.ensure_slot(
                slot.start(),
                slot.end(),
                &new.zone,
                self.rules.slots.capacity_per_zone,
            )
            .await?;
            if !tx.book_slot(slot.start(), &new.zone).await? {
                return Err(crate::domain::SlotError::Full {
                    slot: slot.to_string(),
                }
                .into());
            }
            tx.release_slot(row.slot_start, &row.zone).await?;
        }
        let id = crate::domain::OrderId(row.id);
        tx.set_order_address(id, &new, now).await?;
        tx.enqueue(
            &order_event(kinds::ADDRESS_CHANGED, &row, json!({ "address": new.text })),
            now,
        )
        .await?;
        tx.order(id)
            .await?
            .ok_or_else(|| ServiceError::UnknownOrder(number.into()))
    }

    /// What cancelling the order would mean now (free, a fee, or refused), changing nothing.
    pub async fn quote_cancel(
        &self,
        customer: &Customer,
        number: &str,
    ) -> Result<CancelQuote, ServiceError> {
        let order = self.order_of(customer, number).await?;
        let decision = self.rules.cancel.decide(
            order.status,
            order.totals.goods,
            order.dispatched_at,
            self.now(),
        );
        Ok(CancelQuote { order, decision })
    }

    /// Cancels a customer's order under the cancel policy, recording the reason and fee and
    /// giving back stock and the slot place.
    #[tracing::instrument(skip(self, reason_text), fields(customer = %customer.id))]
    pub async fn cancel(
        &self,
        customer: &Customer,
        number: &str,
        reason: CancelReason,
        reason_text: Option<String>,
    ) -> Result<(Order, Fen), ServiceError> {
        let (order, fee) = self
            .in_write(async |tx| {
                self.cancel_by_customer_in(tx, customer, number, reason, reason_text)
                    .await
            })
            .await?;
        log_cancelled(&order, fee, reason);
        Ok((order, fee))
    }

    /// [`Services::cancel`] for a chat turn whose dialog state must be saved first: both in one
    /// transaction, with the answer (see [`Services::place_order_saving_state`]), so a
    /// redelivered confirmation cannot cancel twice and a crash cannot keep one without the
    /// other.
    pub async fn cancel_saving_state(
        &self,
        save: &StateSave<'_>,
        customer: &Customer,
        number: &str,
        reason: CancelReason,
        reason_text: Option<String>,
    ) -> Result<SavedWith<(Order, Fen)>, ServiceError> {
        let saved = self
            .with_state(save, customer.id, async |tx| {
                self.cancel_by_customer_in(tx, customer, number, reason, reason_text)
                    .await
            })
            .await?;
        if let SavedWith::Open(_, (order, fee)) = &saved {
            // Logged before the turn commits it with its answer: a commit that fails makes the
            // whole turn an error, which its caller reports.
            log_cancelled(order, *fee, reason);
        }
        Ok(saved)
    }

    async fn cancel_by_customer_in(
        &self,
        tx: &Tx,
        customer: &Customer,
        number: &str,
        reason: CancelReason,
        reason_text: Option<String>,
    ) -> Result<(Order, Fen), ServiceError> {
        let row = owned_row(tx, customer, number).await?;
        let actor = Actor::Customer(customer.id);
        self.cancel_within(tx, &row, reason, reason_text, actor, false, self.now())
            .await
    }

    /// Cancels any order as an agent or operator, optionally waiving the fee.
    pub async fn cancel_as(
        &self,
        actor: Actor,
        number: &str,
        reason: CancelReason,
        reason_text: Option<String>,
        waive_fee: bool,
    ) -> Result<(Order, Fen), ServiceError> {
        let tx = self.store.begin_write().await?;
        let n =
            OrderNumber::parse(number).map_err(|_| ServiceError::UnknownOrder(number.into()))?;
        let row = tx
            .order_row_by_number(&n)
            .await?
            .ok_or_else(|| ServiceError::UnknownOrder(number.into()))?;
        self.cancel_in(tx, row, reason, reason_text, actor, waive_fee)
            .await
    }

    async fn cancel_in(
        &self,
        tx: Tx,
        row: OrderRow,
        reason: CancelReason,
        reason_text: Option<String>,
        actor: Actor,
        waive_fee: bool,
    ) -> Result<(Order, Fen), ServiceError> {
        let now = self.now();
        let (order, fee) = self
            .cancel_within(&tx, &row, reason, reason_text, actor, waive_fee, now)
            .await?;
        tx.commit().await?;
        log_cancelled(&order, fee, reason);
        Ok((order, fee))
    }

    /// The shop cancels inside the caller's transaction (nothing left to deliver): no fee.
    pub(crate) async fn cancel_in_tx(
        &self,
        tx: &Tx,
        row: &OrderRow,
        reason: CancelReason,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<(Order, Fen), ServiceError> {
        self.cancel_within(tx, row, reason, None, actor, true, now)
            .await
    }

    /// The cancellation itself, without commit: policy fee, stock and slot released, record,
    /// history and the customer's event.
    #[allow(clippy::too_many_arguments)]
    async fn cancel_within(
        &self,
        tx: &Tx,
        row: &OrderRow,
        reason: CancelReason,
        reason_text: Option<String>,
        actor: Actor,
        waive_fee: bool,
        now: DateTime<Utc>,
    ) -> Result<(Order, Fen), ServiceError> {
        let status: OrderStatus = row.status.parse()?;
        let fee =
            match self
                .rules
                .cancel
                .decide(status, Fen::new(row.goods_fen), row.dispatched_at, now)
            {
                CancelDecision::Free => Fen::ZERO,
                CancelDecision::WithFee(fee) => fee,
                CancelDecision::Refused(why) => return Err(why.into()),
            };
        let fee = if waive_fee { Fen::ZERO } else { fee };
        let id = crate::domain::OrderId(row.id);
        if !tx
            .set_order_status(id, status, OrderStatus::Cancelled, now)
            .await?
        {
            return Err(ServiceError::Concurrent);
        }
        let order = tx.order(id).await?.ok_or(ServiceError::Concurrent)?;
        let dispatched = matches!(
            status,
            OrderStatus::OutForDelivery | OrderStatus::FailedDelivery
        );
        for l in &order.lines {
            if dispatched {
                // The goods left the warehouse and come back with the courier.
                tx.restock(&l.sku, l.quantity.milli()).await?;
            } else {
                tx.release_stock(&l.sku, l.quantity.milli()).await?;
            }
        }
        tx.release_slot(row.slot_start, &row.zone).await?;
        tx.insert_cancellation(
            &Cancellation {
                order: id,
                reason,
                reason_text: reason_text.map(|t| t.chars().take(500).collect()),
                fee,
                status_at_cancel: status,
                actor: actor.code(),
            },
            now,
        )
        .await?;
        tx.insert_history(
            id,
            Some(status),
            OrderStatus::Cancelled,
            &actor.code(),
            Some(reason.code().into()),
            now,
        )
        .await?;
        tx.enqueue(
            &order_event(
                kinds::CANCELLED,
                row,
                json!({ "fee_fen": fee.get(), "reason": reason.code(), "by": actor.code() }),
            ),
            now,
        )
        .await?;
        let order = tx.order(id).await?.ok_or(ServiceError::Concurrent)?;
        Ok((order, fee))
    }

    /// Moves an order along its lifecycle (warehouse, dispatch, couriers, operators).
    /// Cancelling goes through [`Services::cancel_as`] so the policy and reason apply.
    #[tracing::instrument(skip(self))]
    pub async fn advance_status(
        &self,
        actor: Actor,
        number: &str,
        to: OrderStatus,
    ) -> Result<Order, ServiceError> {
        let now = self.now();
        let n =
            OrderNumber::parse(number).map_err(|_| ServiceError::UnknownOrder(number.into()))?;
        let tx = self.store.begin_write().await?;
        let row = tx
            .order_row_by_number(&n)
            .await?
            .ok_or_else(|| ServiceError::UnknownOrder(number.into()))?;
        let from: OrderStatus = row.status.parse()?;
        if to == OrderStatus::Cancelled {
            return Err(crate::domain::OrderError::IllegalTransition { from, to }.into());
        }
        from.transition(to)?;
        let id = crate::domain::OrderId(row.id);
        if !tx.set_order_status(id, from, to, now).await? {
            return Err(ServiceError::Concurrent);
        }
        if to == OrderStatus::OutForDelivery && from != OrderStatus::FailedDelivery {
            let order = tx.order(id).await?.ok_or(ServiceError::Concurrent)?;
            for l in &order.lines {
                tx.consume_stock(&l.sku, l.quantity.milli()).await?;
            }
        }
        tx.insert_history(id, Some(from), to, &actor.code(), None, now)
            .await?;
        let mut event = order_event(
            kinds::STATUS_CHANGED,
            &row,
            json!({ "from": from.code(), "status": to.code() }),
        );
        event.payload["status"] = json!(to.code());
        tx.enqueue(&event, now).await?;
        let order = tx.order(id).await?.ok_or(ServiceError::Concurrent)?;
        tx.commit().await?;
        Ok(order)
    }

    async fn products_for(
        &self,
        tx: &Tx,
        skus: Vec<Sku>,
    ) -> Result<BTreeMap<Sku, Product>, ServiceError> {
        let found: BTreeMap<Sku, Product> = tx
            .products_by_sku(&skus)
            .await?
            .into_iter()
            .map(|p| (p.sku.clone(), p))
            .collect();
        if let Some(missing) = skus.iter().find(|s| !found.contains_key(*s)) {
            return Err(ServiceError::UnknownProduct(missing.to_string()));
        }
        Ok(found)
    }

    async fn reserve(
        &self,
        tx: &Tx,
        p: &Product,
        q: Quantity,
        now: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        self.reserve_milli(tx, p, q.milli(), now).await
    }

    async fn reserve_milli(
        &self,
        tx: &Tx,
        p: &Product,
        milli: i64,
        now: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        if !tx.reserve_stock(&p.sku, milli).await? {
            let available = tx
                .stock_level(&p.sku)
                .await?
                .map(|s| s.available_milli())
                .unwrap_or(0);
            let shown = Quantity::new(available, p.unit)
                .map(|q| q.display(crate::domain::Lang::Zh))
                .unwrap_or_else(|_| "0".into());
            return Err(ServiceError::OutOfStock {
                product: p.name_zh.clone(),
                sku: p.sku.to_string(),
                available: shown,
            });
        }
        if let Some(level) = tx.stock_level(&p.sku).await? {
            let before = level.available_milli() + milli;
            if level.is_low() && before > level.low_threshold_milli {
                // Crossed the threshold with this reservation: tell operators once.
                tx.enqueue(
                    &OutboxEvent {
                        kind: kinds::STOCK_LOW,
                        customer: None,
                        order: None,
                        payload: json!({ "sku": p.sku.as_str(), "available_milli": level.available_milli() }),
                    },
                    now,
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn book(
        &self,
        tx: &Tx,
        slot: &crate::domain::Slot,
        zone: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        tx.ensure_slot(
            slot.start(),
            slot.end(),
            zone,
            self.rules.slots.capacity_per_zone,
        )
        .await?;
        let (booked, capacity) = tx
            .slot_usage(slot.start(), zone)
            .await?
            .unwrap_or((0, self.rules.slots.capacity_per_zone));
        self.rules
            .slots
            .check_bookable(slot, now, booked, capacity)?;
        if !tx.book_slot(slot.start(), zone).await? {
            return Err(crate::domain::SlotError::Full {
                slot: slot.to_string(),
            }
            .into());
        }
        Ok(())
    }
}

/// The order row if it belongs to `customer`; otherwise "unknown" (never reveal other
/// customers' orders).
async fn owned_row(tx: &Tx, customer: &Customer, number: &str) -> Result<OrderRow, ServiceError> {
    let unknown = || ServiceError::UnknownOrder(number.trim().to_owned());
    let n = OrderNumber::parse(number).map_err(|_| unknown())?;
    match tx.order_row_by_number(&n).await? {
        Some(row) if row.customer_id == customer.id.0 => Ok(row),
        _ => Err(unknown()),
    }
}

/// The customer's order row and status if the status still allows the change (`allowed`);
/// otherwise the reason it is too late.
async fn changeable_row(
    tx: &Tx,
    customer: &Customer,
    number: &str,
    allowed: fn(OrderStatus) -> bool,
) -> Result<(OrderRow, OrderStatus), ServiceError> {
    let row = owned_row(tx, customer, number).await?;
    let status: OrderStatus = row.status.parse()?;
    if !allowed(status) {
        return Err(ServiceError::TooLateToChange {
            number: OrderNumber::parse(&row.number)?,
            status,
        });
    }
    Ok((row, status))
}

/// Merges repeated skus into one line ("再来一斤西红柿" adds to the tomatoes) in the first
/// line's unit, keeping the order the customer named them in; quantities in incompatible units
/// are an error.
fn merge_lines(lines: &[OrderLineRequest]) -> Result<Vec<(Sku, Quantity)>, ServiceError> {
    let mut out: Vec<(Sku, Quantity)> = Vec::new();
    for l in lines {
        match out.iter_mut().find(|(s, _)| s == &l.sku) {
            None => out.push((l.sku.clone(), l.quantity)),
            Some((_, prev)) => {
                let add = l.quantity.convert_to(prev.unit()).map_err(|source| {
                    ServiceError::Quantity {
                        product: l.sku.to_string(),
                        source,
                    }
                })?;
                *prev =
                    Quantity::new(prev.milli() + add.milli(), prev.unit()).map_err(|source| {
                        ServiceError::Quantity {
                            product: l.sku.to_string(),
                            source,
                        }
                    })?;
            }
        }
    }
    Ok(out)
}
