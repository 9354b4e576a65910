//! Purchase orders: the day's drafts confirmed to a supplier, then received in one or more
//! deliveries. What is confirmed and not yet received is stock on the way for the next plan.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

use super::{WarehouseConfig, WarehouseError, local_day_start};
use crate::domain::{Product, Sku, TZ};
use crate::services::{Actor, Services};
use crate::store::Tx;
use crate::store::repo::{NewPurchaseOrder, PurchaseOrderRow, PurchaseStatus, StoredDraft};

/// A draft line of a plan, waiting to be confirmed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PurchaseDraft {
    pub draft_id: i64,
    pub plan_date: NaiveDate,
    pub sku: String,
    pub name_zh: String,
    pub unit: String,
    pub packs: i32,
    pub qty_milli: i64,
    pub arrives: NaiveDate,
    pub total_fen: i64,
    pub capped_by_shelf_life: bool,
}

/// A confirmed purchase order and what has arrived of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PurchaseOrder {
    pub purchase_order_id: i64,
    pub supplier: String,
    pub sku: String,
    pub name_zh: String,
    pub unit: String,
    pub plan_date: Option<NaiveDate>,
    pub packs: i32,
    pub qty_milli: i64,
    pub received_milli: i64,
    /// Still expected from the supplier (0 once received or closed short).
    pub outstanding_milli: i64,
    pub total_fen: i64,
    pub arrives: NaiveDate,
    pub status: PurchaseStatus,
    /// Open after its arrival day.
    pub overdue: bool,
    pub confirmed_by: String,
    pub confirmed_at: DateTime<Utc>,
}

/// Drafts of a day and the purchase orders still open (or closed that day).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PurchaseOverview {
    pub date: NaiveDate,
    pub drafts: Vec<PurchaseDraft>,
    pub orders: Vec<PurchaseOrder>,
}

/// One delivery against a purchase order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PurchaseReceipt {
    pub order: PurchaseOrder,
    /// This delivery (0 when the order was only closed short).
    pub received_milli: i64,
    /// Last local day the delivery can be sold (arrival + shelf life - 1).
    pub expires_on: Option<NaiveDate>,
    pub on_hand_milli: i64,
}

fn names(products: &[Product], sku: &Sku) -> (String, String) {
    products
        .iter()
        .find(|p| &p.sku == sku)
        .map(|p| (p.name_zh.clone(), p.unit.code().to_owned()))
        .unwrap_or_default()
}

fn draft_view(d: StoredDraft, products: &[Product]) -> PurchaseDraft {
    let (name_zh, unit) = names(products, &d.line.sku);
    PurchaseDraft {
        draft_id: d.id,
        plan_date: d.plan_date,
        sku: d.line.sku.to_string(),
        name_zh,
        unit,
        packs: d.line.packs,
        qty_milli: d.line.qty_milli,
        arrives: d.line.arrives,
        total_fen: d.line.total_fen,
        capped_by_shelf_life: d.line.capped_by_shelf_life,
    }
}

fn order_view(o: PurchaseOrderRow, products: &[Product], today: NaiveDate) -> PurchaseOrder {
    let (name_zh, unit) = names(products, &o.sku);
    PurchaseOrder {
        purchase_order_id: o.id,
        outstanding_milli: o.outstanding_milli(),
        overdue: o.status == PurchaseStatus::Open && o.arrives < today,
        supplier: o.supplier,
        sku: o.sku.to_string(),
        name_zh,
        unit,
        plan_date: o.plan_date,
        packs: o.packs,
        qty_milli: o.qty_milli,
        received_milli: o.received_milli,
        total_fen: o.total_fen,
        arrives: o.arrives,
        status: o.status,
        confirmed_by: o.confirmed_by,
        confirmed_at: o.confirmed_at,
    }
}

async fn product(tx: &Tx, sku: &Sku) -> Result<Option<Product>, WarehouseError> {
    Ok(tx
        .products_by_sku(std::slice::from_ref(sku))
        .await?
        .into_iter()
        .next())
}

async fn all_products(tx: &Tx) -> Result<Vec<Product>, WarehouseError> {
    Ok(tx.catalog().await?.into_iter().map(|(p, _)| p).collect())
}

impl Services {
    fn local_today(&self) -> NaiveDate {
        self.now().with_timezone(&TZ).date_naive()
    }

    /// The drafts of `date` and the open purchase orders (plus those closed on `date`).
    pub async fn purchase_overview(
        &self,
        date: NaiveDate,
    ) -> Result<PurchaseOverview, WarehouseError> {
        let tx = self.store().begin_read().await?;
        let products = all_products(&tx).await?;
        let today = self.local_today();
        let drafts = tx
            .stored_purchase_drafts(date)
            .await?
            .into_iter()
            .map(|d| draft_view(d, &products))
            .collect();
        let orders = tx
            .purchase_orders(local_day_start(date))
            .await?
            .into_iter()
            .map(|o| order_view(o, &products, today))
            .collect();
        Ok(PurchaseOverview {
            date,
            drafts,
            orders,
        })
    }

    /// Confirms a draft line to a supplier: the draft becomes an open purchase order (and
    /// can't be confirmed twice); its quantity counts as on the way in the next plans.
    #[tracing::instrument(skip(self))]
    pub async fn confirm_purchase(
        &self,
        actor: Actor,
        draft_id: i64,
        supplier: &str,
    ) -> Result<PurchaseOrder, WarehouseError> {
        let supplier = supplier.trim();
        if supplier.is_empty() || supplier.chars().count() > 100 {
            return Err(WarehouseError::BadInput(
                "name the supplier (1 to 100 characters)".into(),
            ));
        }
        let now = self.now();
        let tx = self.store().begin_write().await?;
        let draft = tx
            .purchase_draft(draft_id)
            .await?
            .ok_or(WarehouseError::UnknownDraft(draft_id))?;
        if !tx.delete_purchase_draft(draft_id).await? {
            return Err(WarehouseError::UnknownDraft(draft_id));
        }
        let id = tx
            .insert_purchase_order(
                &NewPurchaseOrder {
                    supplier: supplier.to_owned(),
                    plan_date: Some(draft.plan_date),
                    line: draft.line,
                    confirmed_by: actor.code(),
                },
                now,
            )
            .await?;
        let row = tx
            .purchase_order(id)
            .await?
            .ok_or(WarehouseError::Concurrent)?;
        let products = all_products(&tx).await?;
        tx.commit().await?;
        tracing::info!(draft_id, purchase_order = id, sku = %row.sku, "purchase confirmed");
        Ok(order_view(row, &products, self.local_today()))
    }

    /// Records a delivery against a purchase order: `qty_milli` (default: everything still
    /// outstanding) goes on hand as a `received` stock movement that expires after the
    /// product's shelf life. Partial deliveries keep the order open for the rest; `close`
    /// ends it short (nothing more expected; `qty_milli` may then be 0). More than is
    /// outstanding is refused: extra goods are an ordinary `stock receive`.
    #[tracing::instrument(skip(self, cfg))]
    pub async fn receive_purchase(
        &self,
        cfg: &WarehouseConfig,
        actor: Actor,
        id: i64,
        qty_milli: Option<i64>,
        close: bool,
    ) -> Result<PurchaseReceipt, WarehouseError> {
        let now = self.now();
        let today = self.local_today();
        let tx = self.store().begin_write().await?;
        let row = tx
            .purchase_order(id)
            .await?
            .ok_or(WarehouseError::UnknownPurchaseOrder(id))?;
        if row.status != PurchaseStatus::Open {
            return Err(WarehouseError::PurchaseClosed(id));
        }
        let outstanding = row.outstanding_milli();
        let qty = qty_milli.unwrap_or(outstanding);
        if qty < 0 || (qty == 0 && !close) {
            return Err(WarehouseError::BadQuantity(format!(
                "a delivery must be positive, got {qty} (use --close to end the order short)"
            )));
        }
        if qty > outstanding {
            return Err(WarehouseError::BadQuantity(format!(
                "purchase order {id} has {} outstanding, not {}; record extra goods with `freshbot stock receive`",
                super::amount(outstanding),
                super::amount(qty)
            )));
        }
        let close = close || qty == outstanding;
        if !tx
            .record_purchase_receipt(id, row.received_milli, qty, close, now)
            .await?
        {
            return Err(WarehouseError::Concurrent);
        }
        let mut expires_on = None;
        if qty > 0 {
            let p = product(&tx, &row.sku)
                .await?
                .ok_or_else(|| WarehouseError::UnknownProduct(row.sku.to_string()))?;
            let shelf = cfg.terms_for(&p).shelf_life_days.max(1);
            expires_on = Some(today + Duration::days(shelf as i64 - 1));
            tx.ensure_stock(&row.sku, 0, 0, now).await?;
            if !tx.add_on_hand(&row.sku, qty, now).await? {
                return Err(WarehouseError::Concurrent);
            }
            tx.insert_receipt_movement(&row.sku, qty, expires_on, Some(id), &actor.code(), now)
                .await?;
        }
        let level = tx
            .stock_level(&row.sku)
            .await?
            .ok_or(WarehouseError::Concurrent)?;
        let updated = tx
            .purchase_order(id)
            .await?
            .ok_or(WarehouseError::Concurrent)?;
        let products = all_products(&tx).await?;
        tx.commit().await?;
        tracing::info!(purchase_order = id, qty, close, "purchase received");
        Ok(PurchaseReceipt {
            order: order_view(updated, &products, today),
            received_milli: qty,
            expires_on,
            on_hand_milli: level.on_hand_milli,
        })
    }
}
