//! Stock received and spoiled: a movement row and the on-hand change in one transaction.

use serde_json::json;

use super::{WarehouseError, local_day_start};
use crate::domain::events::kinds;
use crate::domain::{Sku, StockLevel, TZ};
use crate::services::{Actor, Services};
use crate::store::Tx;
use crate::store::repo::{OutboxEvent, StockMovementKind};

impl Services {
    /// Records a supplier delivery of `qty_milli` (thousandths of the selling unit).
    #[tracing::instrument(skip(self))]
    pub async fn receive_stock(
        &self,
        actor: Actor,
        sku: &str,
        qty_milli: i64,
    ) -> Result<StockLevel, WarehouseError> {
        let now = self.now();
        if qty_milli <= 0 {
            return Err(WarehouseError::BadQuantity(format!(
                "a delivery must be positive, got {qty_milli}"
            )));
        }
        let tx = self.store().begin_write().await?;
        let sku = known_sku(&tx, sku).await?;
        tx.ensure_stock(&sku, 0, 0, now).await?;
        if !tx.add_on_hand(&sku, qty_milli, now).await? {
            return Err(WarehouseError::Concurrent);
        }
        tx.insert_stock_movement(
            &sku,
            StockMovementKind::Received,
            qty_milli,
            None,
            &actor.code(),
            now,
        )
        .await?;
        let level = tx
            .stock_level(&sku)
            .await?
            .ok_or(WarehouseError::Concurrent)?;
        tx.commit().await?;
        tracing::info!(%sku, qty_milli, on_hand = level.on_hand_milli, "stock received");
        Ok(level)
    }

    /// Records spoiled goods thrown away. Only free (unreserved) stock can spoil on the
    /// books: stock never goes negative and reserved goods belong to orders (if they spoiled
    /// too, the picker's short pick records it). Crossing the low-stock threshold writes a
    /// `stock_low` event (once per sku and day while pending).
    #[tracing::instrument(skip(self))]
    pub async fn record_spoilage(
        &self,
        actor: Actor,
        sku: &str,
        qty_milli: i64,
        reason: &str,
    ) -> Result<StockLevel, WarehouseError> {
        let now = self.now();
        if qty_milli <= 0 {
            return Err(WarehouseError::BadQuantity(format!(
                "spoilage must be positive, got {qty_milli}"
            )));
        }
        let reason = match reason.trim() {
            "" => "unspecified",
            r => r,
        };
        let tx = self.store().begin_write().await?;
        let sku = known_sku(&tx, sku).await?;
        let before = tx.stock_level(&sku).await?.unwrap_or(StockLevel {
            on_hand_milli: 0,
            reserved_milli: 0,
            low_threshold_milli: 0,
        });
        if !tx.remove_free_on_hand(&sku, qty_milli, now).await? {
            return Err(WarehouseError::SpoilageExceedsStock {
                sku: sku.to_string(),
                requested_milli: qty_milli,
                free_milli: before.available_milli().max(0),
                reserved_milli: before.reserved_milli,
            });
        }
        tx.insert_stock_movement(
            &sku,
            StockMovementKind::Spoiled,
            -qty_milli,
            Some(reason),
            &actor.code(),
            now,
        )
        .await?;
        let level = tx
            .stock_level(&sku)
            .await?
            .ok_or(WarehouseError::Concurrent)?;
        if level.is_low() && !before.is_low() {
            let today = local_day_start(now.with_timezone(&TZ).date_naive());
            if !tx
                .pending_stock_low_skus(today)
                .await?
                .contains(sku.as_str())
            {
                tx.enqueue(
                    &OutboxEvent {
                        kind: kinds::STOCK_LOW,
                        customer: None,
                        order: None,
                        payload: json!({
                            "sku": sku.as_str(),
                            "available_milli": level.available_milli(),
                            "source": "spoilage",
                        }),
                    },
                    now,
                )
                .await?;
            }
        }
        tx.commit().await?;
        tracing::info!(%sku, qty_milli, reason, "spoilage recorded");
        Ok(level)
    }
}

/// The sku if it is an active catalog product.
async fn known_sku(tx: &Tx, sku: &str) -> Result<Sku, WarehouseError> {
    let unknown = || WarehouseError::UnknownProduct(sku.trim().to_owned());
    let parsed = Sku::parse(sku).map_err(|_| unknown())?;
    if tx
        .products_by_sku(std::slice::from_ref(&parsed))
        .await?
        .is_empty()
    {
        return Err(unknown());
    }
    Ok(parsed)
}
