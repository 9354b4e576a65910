//! Purchasing: drafts confirmed into purchase orders, and what has arrived of them.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder};

use super::{PurchaseDraftRow, corrupt};
use crate::domain::Sku;
use crate::store::entities::{purchase_drafts, purchase_orders, stock_movements};
use crate::store::{StoreError, Tx};

/// A stored purchase draft with its id and plan day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDraft {
    pub id: i64,
    pub plan_date: NaiveDate,
    pub line: PurchaseDraftRow,
}

/// A purchase order to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPurchaseOrder {
    pub supplier: String,
    pub plan_date: Option<NaiveDate>,
    pub line: PurchaseDraftRow,
    pub confirmed_by: String,
}

/// Whether a purchase order still expects goods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PurchaseStatus {
    /// Confirmed to the supplier; the part not yet received is on the way.
    Open,
    /// Everything arrived, or the operator closed it short: nothing more is expected.
    Received,
}

impl PurchaseStatus {
    pub fn code(self) -> &'static str {
        match self {
            PurchaseStatus::Open => "open",
            PurchaseStatus::Received => "received",
        }
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        match s {
            "open" => Ok(PurchaseStatus::Open),
            "received" => Ok(PurchaseStatus::Received),
            other => Err(corrupt("purchase_orders", format!("status {other:?}"))),
        }
    }
}

/// A stored purchase order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurchaseOrderRow {
    pub id: i64,
    pub supplier: String,
    pub sku: Sku,
    pub plan_date: Option<NaiveDate>,
    pub packs: i32,
    pub qty_milli: i64,
    pub received_milli: i64,
    pub total_fen: i64,
    pub arrives: NaiveDate,
    pub status: PurchaseStatus,
    pub confirmed_by: String,
    pub confirmed_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

impl PurchaseOrderRow {
    /// What is still expected from the supplier (0 once received or closed).
    pub fn outstanding_milli(&self) -> i64 {
        match self.status {
            PurchaseStatus::Open => (self.qty_milli - self.received_milli).max(0),
            PurchaseStatus::Received => 0,
        }
    }
}

/// A supplier delivery on the books: when, how much, and its last sellable day if known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptRow {
    pub at: DateTime<Utc>,
    pub qty_milli: i64,
    pub expires_on: Option<NaiveDate>,
}

fn day(s: &str, table: &'static str) -> Result<NaiveDate, StoreError> {
    s.parse().map_err(|e| corrupt(table, e))
}

fn draft_from_row(r: purchase_drafts::Model) -> Result<StoredDraft, StoreError> {
    Ok(StoredDraft {
        id: r.id,
        plan_date: day(&r.plan_date, "purchase_drafts")?,
        line: PurchaseDraftRow {
            sku: Sku::parse(&r.sku).map_err(|e| corrupt("purchase_drafts", e))?,
            packs: r.packs,
            qty_milli: r.qty_milli,
            arrives: day(&r.arrives, "purchase_drafts")?,
            total_fen: r.total_fen,
            capped_by_shelf_life: r.capped_by_shelf_life,
        },
    })
}

fn order_from_row(r: purchase_orders::Model) -> Result<PurchaseOrderRow, StoreError> {
    Ok(PurchaseOrderRow {
        id: r.id,
        supplier: r.supplier,
        sku: Sku::parse(&r.sku).map_err(|e| corrupt("purchase_orders", e))?,
        plan_date: r
            .plan_date
            .as_deref()
            .map(|d| day(d, "purchase_orders"))
            .transpose()?,
        packs: r.packs,
        qty_milli: r.qty_milli,
        received_milli: r.received_milli,
        total_fen: r.total_fen,
        arrives: day(&r.arrives, "purchase_orders")?,
        status: PurchaseStatus::parse(&r.status)?,
        confirmed_by: r.confirmed_by,
        confirmed_at: r.confirmed_at,
        closed_at: r.closed_at,
    })
}

impl Tx {
    /// The purchase drafts of a day with their ids, by sku.
    pub async fn stored_purchase_drafts(
        &self,
        date: NaiveDate,
    ) -> Result<Vec<StoredDraft>, StoreError> {
        purchase_drafts::Entity::find()
            .filter(purchase_drafts::Column::PlanDate.eq(date.format("%Y-%m-%d").to_string()))
            .order_by_asc(purchase_drafts::Column::Sku)
            .all(self.c())
            .await?
            .into_iter()
            .map(draft_from_row)
            .collect()
    }

    pub async fn purchase_draft(&self, id: i64) -> Result<Option<StoredDraft>, StoreError> {
        purchase_drafts::Entity::find_by_id(id)
            .one(self.c())
            .await?
            .map(draft_from_row)
            .transpose()
    }

    /// Removes a draft; `false` if it was already gone (confirmed or re-planned meanwhile).
    pub async fn delete_purchase_draft(&self, id: i64) -> Result<bool, StoreError> {
        let r = purchase_drafts::Entity::delete_many()
            .filter(purchase_drafts::Column::Id.eq(id))
            .exec(self.c())
            .await?;
        Ok(r.rows_affected == 1)
    }

    /// Stores a confirmed purchase order and returns its id.
    pub async fn insert_purchase_order(
        &self,
        o: &NewPurchaseOrder,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let row = purchase_orders::Entity::insert(purchase_orders::ActiveModel {
            supplier: Set(o.supplier.clone()),
            sku: Set(o.line.sku.to_string()),
            plan_date: Set(o.plan_date.map(|d| d.format("%Y-%m-%d").to_string())),
            packs: Set(o.line.packs),
            qty_milli: Set(o.line.qty_milli),
            received_milli: Set(0),
            total_fen: Set(o.line.total_fen),
            arrives: Set(o.line.arrives.format("%Y-%m-%d").to_string()),
            status: Set(PurchaseStatus::Open.code().to_owned()),
            confirmed_by: Set(o.confirmed_by.clone()),
            confirmed_at: Set(now),
            closed_at: Set(None),
            ..Default::default()
        })
        .exec_with_returning(self.c())
        .await?;
        Ok(row.id)
    }

    pub async fn purchase_order(&self, id: i64) -> Result<Option<PurchaseOrderRow>, StoreError> {
        purchase_orders::Entity::find_by_id(id)
            .one(self.c())
            .await?
            .map(order_from_row)
            .transpose()
    }

    /// Open purchase orders, oldest first, and those closed since `closed_since`.
    pub async fn purchase_orders(
        &self,
        closed_since: DateTime<Utc>,
    ) -> Result<Vec<PurchaseOrderRow>, StoreError> {
        purchase_orders::Entity::find()
            .filter(
                Condition::any()
                    .add(purchase_orders::Column::Status.eq(PurchaseStatus::Open.code()))
                    .add(purchase_orders::Column::ClosedAt.gte(closed_since)),
            )
            .order_by_asc(purchase_orders::Column::Id)
            .all(self.c())
            .await?
            .into_iter()
            .map(order_from_row)
            .collect()
    }

    /// Open purchase orders of one sku, oldest first.
    pub async fn open_purchase_orders_of(
        &self,
        sku: &Sku,
    ) -> Result<Vec<PurchaseOrderRow>, StoreError> {
        purchase_orders::Entity::find()
            .filter(purchase_orders::Column::Sku.eq(sku.to_string()))
            .filter(purchase_orders::Column::Status.eq(PurchaseStatus::Open.code()))
            .order_by_asc(purchase_orders::Column::Id)
            .all(self.c())
            .await?
            .into_iter()
            .map(order_from_row)
            .collect()
    }

    /// Adds a receipt to an open order whose received amount is still `seen_received_milli`
    /// (so two receipts at once can't both count against the same remainder) and closes it
    /// when `close`. `false` when the order changed meanwhile.
    pub async fn record_purchase_receipt(
        &self,
        id: i64,
        seen_received_milli: i64,
        milli: i64,
        close: bool,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut q = purchase_orders::Entity::update_many()
            .col_expr(
                purchase_orders::Column::ReceivedMilli,
                (seen_received_milli + milli).into(),
            )
            .filter(purchase_orders::Column::Id.eq(id))
            .filter(purchase_orders::Column::Status.eq(PurchaseStatus::Open.code()))
            .filter(purchase_orders::Column::ReceivedMilli.eq(seen_received_milli));
        if close {
            q = q
                .col_expr(
                    purchase_orders::Column::Status,
                    PurchaseStatus::Received.code().into(),
                )
                .col_expr(purchase_orders::Column::ClosedAt, Some(now).into());
        }
        Ok(q.exec(self.c()).await?.rows_affected == 1)
    }

    /// Writes a `received` stock movement for a supplier delivery with its last sellable day.
    pub async fn insert_receipt_movement(
        &self,
        sku: &Sku,
        qty_milli: i64,
        expires_on: Option<NaiveDate>,
        purchase_order: Option<i64>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        stock_movements::Entity::insert(stock_movements::ActiveModel {
            sku: Set(sku.to_string()),
            kind: Set(super::StockMovementKind::Received.code().to_owned()),
            qty_milli: Set(qty_milli),
            reason: Set(purchase_order.map(|id| format!("purchase order {id}"))),
            actor: Set(actor.to_owned()),
            at: Set(now),
            expires_on: Set(expires_on.map(|d| d.format("%Y-%m-%d").to_string())),
            purchase_order_id: Set(purchase_order),
            ..Default::default()
        })
        .exec_without_returning(self.c())
        .await?;
        Ok(())
    }

    /// Supplier deliveries of a sku since `since`, newest first.
    pub async fn receipts_since(
        &self,
        sku: &Sku,
        since: DateTime<Utc>,
    ) -> Result<Vec<ReceiptRow>, StoreError> {
        stock_movements::Entity::find()
            .filter(stock_movements::Column::Sku.eq(sku.to_string()))
            .filter(stock_movements::Column::Kind.eq(super::StockMovementKind::Received.code()))
            .filter(stock_movements::Column::QtyMilli.gt(0))
            .filter(stock_movements::Column::At.gte(since))
            .order_by_desc(stock_movements::Column::At)
            .order_by_desc(stock_movements::Column::Id)
            .all(self.c())
            .await?
            .into_iter()
            .map(|r| {
                Ok(ReceiptRow {
                    at: r.at,
                    qty_milli: r.qty_milli,
                    expires_on: r
                        .expires_on
                        .as_deref()
                        .map(|d| day(d, "stock_movements"))
                        .transpose()?,
                })
            })
            .collect()
    }
}
