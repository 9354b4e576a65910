//! A replacement for a short-picked item. When the customer agreed to substitutes while
//! ordering, it is added at once; otherwise it is proposed in the chat (buttons or words) and
//! the order waits in picking for the answer: packing it first would send the bag without the
//! item the customer may still want. An unanswered offer expires (a sweeper) and counts as "no".
//!
//! Accepting adds the substitute as a new order line (priced now, stock reserved) and a pick task
//! at the end of the original task's batch, so the picker who found the shelf empty picks the
//! replacement in the same tour.

use chrono::{DateTime, Duration, Utc};

use super::{WarehouseError, move_order};
use crate::domain::{
    CancelReason, Customer, Fen, OfferView, OrderId, OrderStatus, Product, Quantity, Sku,
    SubstitutionAnswer, Totals,
};
use crate::services::{Actor, SavedWith, ServiceError, Services, StateSave};
use crate::store::Tx;
use crate::store::repo::{
    NewOffer, NewOrderLine, NewPickTask, OfferStatus, OrderRow, PickTaskRow, SubstitutionOffer,
};

/// Longest a customer gets to answer; never past the start of the delivery slot.
pub const OFFER_TTL: Duration = Duration::minutes(15);

impl Services {
    /// The customer's offers still waiting for an answer, newest first.
    pub async fn open_substitution_offers(
        &self,
        customer: &Customer,
    ) -> Result<Vec<OfferView>, ServiceError> {
        let tx = self.store().begin_read().await?;
        let offers = tx.open_offers_of(customer.id).await?;
        let now = self.now();
        let mut views = Vec::with_capacity(offers.len());
        for o in offers.into_iter().filter(|o| o.expires_at > now) {
            if let Some(v) = view(&tx, &o).await? {
                views.push(v);
            }
        }
        Ok(views)
    }

    /// The customer's yes or no to an offer. One transaction.
    #[tracing::instrument(skip(self, customer), fields(customer = %customer.id))]
    pub async fn answer_substitution(
        &self,
        customer: &Customer,
        offer_id: i64,
        accept: bool,
    ) -> Result<SubstitutionAnswer, ServiceError> {
        let answer = self
            .in_write(async |tx| {
                self.answer_substitution_in(tx, customer, offer_id, accept)
                    .await
            })
            .await?;
        log_answer(&answer);
        Ok(answer)
    }

    /// [`Services::answer_substitution`] for a chat turn whose dialog state must be saved
    /// first: both in one transaction, with the answer (see
    /// [`Services::place_order_saving_state`]).
    pub async fn answer_substitution_saving_state(
        &self,
        save: &StateSave<'_>,
        customer: &Customer,
        offer_id: i64,
        accept: bool,
    ) -> Result<SavedWith<SubstitutionAnswer>, ServiceError> {
        let saved = self
            .with_state(save, customer.id, async |tx| {
                self.answer_substitution_in(tx, customer, offer_id, accept)
                    .await
            })
            .await?;
        if let SavedWith::Open(_, answer) = &saved {
            // Logged before the turn commits it with its reply: a commit that fails makes
            // the whole turn an error, which its caller reports.
            log_answer(answer);
        }
        Ok(saved)
    }

    async fn answer_substitution_in(
        &self,
        tx: &Tx,
        customer: &Customer,
        offer_id: i64,
        accept: bool,
    ) -> Result<SubstitutionAnswer, ServiceError> {
        let now = self.now();
        let offer = tx
            .offer(offer_id)
            .await?
            .filter(|o| o.customer == customer.id)
            .ok_or(ServiceError::OfferClosed)?;
        if offer.status != OfferStatus::Open || offer.expires_at <= now {
            return Err(ServiceError::OfferClosed);
        }
        let row = tx
            .order_row(offer.order)
            .await?
            .ok_or(ServiceError::OfferClosed)?;
        if row.status != OrderStatus::Picking.code() {
            return Err(ServiceError::OfferClosed);
        }
        let sub = tx
            .products_by_sku(std::slice::from_ref(&offer.substitute))
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| ServiceError::UnknownProduct(offer.substitute.to_string()))?;
        let status = if accept {
            OfferStatus::Accepted
        } else {
            OfferStatus::Declined
        };
        if !tx.close_offer(offer.id, status, now).await? {
            return Err(ServiceError::OfferClosed);
        }
        if accept {
            add_substitute(tx, &row, &offer.sku, &sub, offer.substitute_milli, now)
                .await
                .map_err(into_service)?;
        }
        settle_order(self, tx, offer.order, now)
            .await
            .map_err(into_service)?;
        let order = tx
            .order(offer.order)
            .await?
            .ok_or(ServiceError::Concurrent)?;
        Ok(SubstitutionAnswer {
            accepted: accept,
            order,
            substitute_name_zh: sub.name_zh,
            substitute_name_en: sub.name_en,
        })
    }

    /// Expires unanswered offers (a "no"), packing or cancelling the orders they held.
    /// Returns how many expired.
    pub async fn expire_substitution_offers(&self) -> Result<usize, ServiceError> {
        let now = self.now();
        let tx = self.store().begin_write().await?;
        let due = tx.expired_offers(now).await?;
        let mut n = 0;
        for o in &due {
            if tx.close_offer(o.id, OfferStatus::Expired, now).await? {
                n += 1;
                settle_order(self, &tx, o.order, now)
                    .await
                    .map_err(into_service)?;
            }
        }
        tx.commit().await?;
        if n > 0 {
            tracing::info!(expired = n, "substitution offers expired");
        }
        Ok(n)
    }
}

/// The answer was taken while the order was being picked, so a cancelled order afterwards is
/// the one the declined substitute emptied.
fn log_answer(answer: &SubstitutionAnswer) {
    if answer.order.status == OrderStatus::Cancelled {
        tracing::info!(number = %answer.order.number, "declined the only substitute; order cancelled");
    }
}

/// An offer as recorded for a short line.
#[derive(Debug, Clone, Copy)]
pub(super) struct OfferMade {
    pub id: i64,
    /// Added at once with the customer's consent from ordering time.
    pub applied: bool,
    pub expires_at: DateTime<Utc>,
}

/// Records the offer for a short line: applied at once with the customer's prior consent
/// (when the stock can be reserved), else open until answered.
pub(super) async fn offer_substitute(
    tx: &Tx,
    row: &OrderRow,
    auto_substitute: bool,
    short: &Sku,
    missing_milli: i64,
    sub: &Product,
    now: DateTime<Utc>,
) -> Result<OfferMade, WarehouseError> {
    let applied =
        auto_substitute && add_substitute(tx, row, short, sub, missing_milli, now).await?;
    let expires_at = (now + OFFER_TTL).min(row.slot_start).max(now);
    let id = tx
        .insert_offer(
            &NewOffer {
                order: OrderId(row.id),
                customer: crate::domain::CustomerId(row.customer_id),
                sku: short.clone(),
                missing_milli,
                substitute: sub.sku.clone(),
                substitute_milli: missing_milli,
                status: if applied {
                    OfferStatus::Applied
                } else {
                    OfferStatus::Open
                },
                expires_at,
            },
            now,
        )
        .await?;
    Ok(OfferMade {
        id,
        applied,
        expires_at,
    })
}

/// Adds the substitute line and its pick task. False when its stock is gone meanwhile.
async fn add_substitute(
    tx: &Tx,
    row: &OrderRow,
    replaces: &Sku,
    sub: &Product,
    milli: i64,
    now: DateTime<Utc>,
) -> Result<bool, WarehouseError> {
    let order = OrderId(row.id);
    let quantity = Quantity::new(milli, sub.unit)
        .map_err(|e| WarehouseError::BadQuantity(format!("{milli}: {e}")))?;
    let tasks = tx.pick_tasks_of_order(order).await?;
    let Some(original) = tasks.iter().rev().find(|t| &t.sku == replaces) else {
        return Err(WarehouseError::Concurrent);
    };
    if !tx.reserve_stock(&sub.sku, milli).await? {
        return Ok(false);
    }
    let line_no = tx.next_line_no(order).await?;
    tx.insert_line(
        order,
        line_no,
        &NewOrderLine {
            sku: sub.sku.clone(),
            name_zh: sub.name_zh.clone(),
            name_en: sub.name_en.clone(),
            quantity,
            unit_price: sub.price,
            substitute_for: Some(replaces.clone()),
        },
    )
    .await?;
    let route_seq = tx
        .pick_tasks_of_wave(original.wave_id)
        .await?
        .iter()
        .filter(|t| t.batch_no == original.batch_no)
        .map(|t| t.route_seq)
        .max()
        .unwrap_or(0)
        + 1;
    tx.insert_pick_task(
        original.wave_id,
        &NewPickTask {
            batch_no: original.batch_no,
            zone: Some(sub.warehouse_zone.clone()),
            route_method: original.route_method.clone(),
            route_seq,
            order,
            order_number: row.number.clone(),
            line_no,
            sku: sub.sku.clone(),
            expected_milli: milli,
            tolerance_milli: scaled_tolerance(original, milli),
            // the picker's screen shows the sku and name; the layout (configuration) is not
            // at hand here, so the location stays unknown rather than wrong
            aisle: None,
            position: None,
        },
    )
    .await?;
    retotal(tx, order, now).await?;
    Ok(true)
}

/// The scale tolerance of the original task, in proportion to the new amount.
fn scaled_tolerance(original: &PickTaskRow, milli: i64) -> i64 {
    if original.expected_milli <= 0 {
        return 0;
    }
    let t = i128::from(original.tolerance_milli) * i128::from(milli)
        / i128::from(original.expected_milli);
    i64::try_from(t).unwrap_or(0)
}

/// Goods total from the lines as they are now; the delivery fee stays as quoted.
pub(super) async fn retotal(
    tx: &Tx,
    order: OrderId,
    now: DateTime<Utc>,
) -> Result<(), WarehouseError> {
    let o = tx.order(order).await?.ok_or(WarehouseError::Concurrent)?;
    let goods: Fen = o.lines.iter().map(|l| l.quantity.price(l.unit_price)).sum();
    let fee = o.totals.delivery_fee;
    tx.set_order_totals(
        order,
        Totals {
            goods,
            delivery_fee: fee,
            total: goods + fee,
        },
        now,
    )
    .await?;
    Ok(())
}

/// After an offer closed: an order with nothing left to pick and no open offer is packed, or,
/// when nothing at all is left in it, cancelled by the shop (no fee: the shortage is ours).
/// Returns whether it was cancelled.
async fn settle_order(
    services: &Services,
    tx: &Tx,
    order: OrderId,
    now: DateTime<Utc>,
) -> Result<bool, WarehouseError> {
    let Some(row) = tx.order_row(order).await? else {
        return Ok(false);
    };
    if row.status != OrderStatus::Picking.code() || tx.open_offer_count(order).await? > 0 {
        return Ok(false);
    }
    let pending = tx
        .pick_tasks_of_order(order)
        .await?
        .iter()
        .any(|t| t.status == "pending");
    if pending {
        return Ok(false);
    }
    let o = tx.order(order).await?.ok_or(WarehouseError::Concurrent)?;
    if o.lines.is_empty() {
        services
            .cancel_in_tx(tx, &row, CancelReason::OutOfStock, Actor::System, now)
            .await?;
        return Ok(true);
    }
    move_order(tx, &row, OrderStatus::Packed, &Actor::System, now).await?;
    Ok(false)
}

async fn view(tx: &Tx, o: &SubstitutionOffer) -> Result<Option<OfferView>, ServiceError> {
    let Some(order) = tx.order(o.order).await? else {
        return Ok(None);
    };
    let products = tx
        .products_by_sku(&[o.sku.clone(), o.substitute.clone()])
        .await?;
    let (Some(short), Some(sub)) = (
        products.iter().find(|p| p.sku == o.sku),
        products.iter().find(|p| p.sku == o.substitute),
    ) else {
        return Ok(None);
    };
    let Ok(quantity) = Quantity::new(o.substitute_milli, sub.unit) else {
        return Ok(None);
    };
    Ok(Some(OfferView {
        id: o.id,
        number: order.number.to_string(),
        sku: o.sku.clone(),
        name_zh: short.name_zh.clone(),
        name_en: short.name_en.clone(),
        substitute: sub.sku.clone(),
        substitute_name_zh: sub.name_zh.clone(),
        substitute_name_en: sub.name_en.clone(),
        quantity,
        price: quantity.price(sub.price),
        expires_at: o.expires_at,
    }))
}

fn into_service(e: WarehouseError) -> ServiceError {
    match e {
        WarehouseError::Service(e) => e,
        WarehouseError::Store(e) => ServiceError::Store(e),
        WarehouseError::Lifecycle(e) => ServiceError::Lifecycle(e),
        WarehouseError::Concurrent => ServiceError::Concurrent,
        other => ServiceError::State(other.to_string()),
    }
}
