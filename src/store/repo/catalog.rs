//! Products, stock and delivery zones.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use std::collections::HashMap;

use super::corrupt;
use crate::domain::{Fen, LatLon, Product, Sku, StockLevel, Zone};
use crate::store::entities::{delivery_zones, products, stock};
use crate::store::inline_sqlite::Inline;
use crate::store::{StoreError, Tx};

/// The products customers can buy, by category and sku.
fn active_products() -> sea_orm::Select<products::Entity> {
    products::Entity::find()
        .filter(products::Column::Active.eq(true))
        .order_by_asc(products::Column::Category)
        .order_by_asc(products::Column::Sku)
}

/// Stock levels by sku.
pub(crate) type Levels = HashMap<String, StockLevel>;

fn levels(stock: Vec<stock::Model>) -> Levels {
    stock
        .iter()
        .map(|s| (s.sku.clone(), stock_from_row(s)))
        .collect()
}

/// Products with their stock (joined in memory by sku: no declared relation); a product
/// without a stock row has none.
pub(crate) fn with_levels(
    products: impl IntoIterator<Item = Product>,
    levels: &Levels,
) -> Vec<(Product, StockLevel)> {
    products
        .into_iter()
        .map(|p| {
            let level = levels.get(p.sku.as_str()).copied().unwrap_or(StockLevel {
                on_hand_milli: 0,
                reserved_milli: 0,
                low_threshold_milli: 0,
            });
            (p, level)
        })
        .collect()
}

fn with_stock(
    products: Vec<products::Model>,
    stock: Vec<stock::Model>,
) -> Result<Vec<(Product, StockLevel)>, StoreError> {
    let products = products
        .into_iter()
        .map(product_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(with_levels(products, &levels(stock)))
}

/// The same reads on the inline SQLite path (the catalog cache's reload).
impl Inline<'_> {
    pub(crate) fn catalog(&self) -> Result<Vec<(Product, StockLevel)>, StoreError> {
        with_stock(
            self.all(active_products())?,
            self.all(stock::Entity::find())?,
        )
    }

    pub(crate) fn stock_levels(&self) -> Result<Levels, StoreError> {
        Ok(levels(self.all(stock::Entity::find())?))
    }
}

fn product_from_row(r: products::Model) -> Result<Product, StoreError> {
    Ok(Product {
        sku: Sku::parse(&r.sku).map_err(|e| corrupt("products", e))?,
        aliases: serde_json::from_str(&r.aliases).map_err(|e| corrupt("products", e))?,
        unit: r.unit.parse().map_err(|e| corrupt("products", e))?,
        name_zh: r.name_zh,
        name_en: r.name_en,
        category: r.category,
        warehouse_zone: r.warehouse_zone,
        price: Fen::new(r.price_fen),
        substitutable: r.substitutable,
    })
}

fn stock_from_row(r: &stock::Model) -> StockLevel {
    StockLevel {
        on_hand_milli: r.on_hand_milli,
        reserved_milli: r.reserved_milli,
        low_threshold_milli: r.low_threshold_milli,
    }
}

impl Tx {
    /// Inserts or updates a catalog product.
    pub async fn upsert_product(&self, p: &Product) -> Result<(), StoreError> {
        let am = products::ActiveModel {
            sku: Set(p.sku.to_string()),
            name_zh: Set(p.name_zh.clone()),
            name_en: Set(p.name_en.clone()),
            aliases: Set(serde_json::to_string(&p.aliases).unwrap_or_else(|_| "[]".into())),
            category: Set(p.category.clone()),
            warehouse_zone: Set(p.warehouse_zone.clone()),
            unit: Set(p.unit.code().to_owned()),
            price_fen: Set(p.price.get()),
            substitutable: Set(p.substitutable),
            active: Set(true),
        };
        let existing = products::Entity::find_by_id(p.sku.to_string())
            .one(self.c())
            .await?;
        if existing.is_some() {
            self.products_changed();
            products::Entity::update(am).exec(self.c()).await?;
        } else {
            self.products_changed();
            products::Entity::insert(am)
                .exec_without_returning(self.c())
                .await?;
        }
        Ok(())
    }

    /// Active products with these skus (unknown skus are simply absent).
    pub async fn products_by_sku(&self, skus: &[Sku]) -> Result<Vec<Product>, StoreError> {
        let keys: Vec<String> = skus.iter().map(|s| s.to_string()).collect();
        products::Entity::find()
            .filter(products::Column::Sku.is_in(keys))
            .filter(products::Column::Active.eq(true))
            .all(self.c())
            .await?
            .into_iter()
            .map(product_from_row)
            .collect()
    }

    /// The whole active catalog with stock, ordered by category then sku.
    pub async fn catalog(&self) -> Result<Vec<(Product, StockLevel)>, StoreError> {
        let products = active_products().all(self.c()).await?;
        let stock = stock::Entity::find().all(self.c()).await?;
        with_stock(products, stock)
    }

    /// Every stock level by sku (a refresh of the cached catalog's stock).
    pub(crate) async fn stock_levels(&self) -> Result<Levels, StoreError> {
        Ok(levels(stock::Entity::find().all(self.c()).await?))
    }

    pub async fn stock_level(&self, sku: &Sku) -> Result<Option<StockLevel>, StoreError> {
        Ok(stock::Entity::find_by_id(sku.to_string())
            .one(self.c())
            .await?
            .as_ref()
            .map(stock_from_row))
    }

    /// Creates the stock row if missing (demo loading must not overwrite live stock).
    pub async fn ensure_stock(
        &self,
        sku: &Sku,
        on_hand_milli: i64,
        low_threshold_milli: i64,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, StoreError> {
        if stock::Entity::find_by_id(sku.to_string())
            .one(self.c())
            .await?
            .is_some()
        {
            return Ok(false);
        }
        self.stock_changed();
        stock::Entity::insert(stock::ActiveModel {
            sku: Set(sku.to_string()),
            on_hand_milli: Set(on_hand_milli),
            reserved_milli: Set(0),
            low_threshold_milli: Set(low_threshold_milli),
            updated_at: Set(now),
        })
        .exec_without_returning(self.c())
        .await?;
        Ok(true)
    }

    /// Reserves `milli` if that much is available; `false` (and nothing changed) otherwise.
    /// A single conditional UPDATE, so concurrent orders can never oversell.
    pub async fn reserve_stock(&self, sku: &Sku, milli: i64) -> Result<bool, StoreError> {
        self.stock_changed();
        let r = stock::Entity::update_many()
            .col_expr(
                stock::Column::ReservedMilli,
                Expr::col(stock::Column::ReservedMilli).add(milli),
            )
            .filter(stock::Column::Sku.eq(sku.to_string()))
            .filter(
                Expr::col(stock::Column::OnHandMilli)
                    .sub(Expr::col(stock::Column::ReservedMilli))
                    .gte(milli),
            )
            .exec(self.c())
            .await?;
        Ok(r.rows_affected == 1)
    }

    /// Gives back a reservation (cancel, smaller quantity).
    pub async fn release_stock(&self, sku: &Sku, milli: i64) -> Result<(), StoreError> {
        self.stock_changed();
        stock::Entity::update_many()
            .col_expr(
                stock::Column::ReservedMilli,
                Expr::col(stock::Column::ReservedMilli).sub(milli),
            )
            .filter(stock::Column::Sku.eq(sku.to_string()))
            .filter(stock::Column::ReservedMilli.gte(milli))
            .exec(self.c())
            .await?;
        Ok(())
    }

    /// Goods leave the warehouse: the reservation becomes a sale.
    pub async fn consume_stock(&self, sku: &Sku, milli: i64) -> Result<(), StoreError> {
        self.stock_changed();
        stock::Entity::update_many()
            .col_expr(
                stock::Column::ReservedMilli,
                Expr::col(stock::Column::ReservedMilli).sub(milli),
            )
            .col_expr(
                stock::Column::OnHandMilli,
                Expr::col(stock::Column::OnHandMilli).sub(milli),
            )
            .filter(stock::Column::Sku.eq(sku.to_string()))
            .filter(stock::Column::ReservedMilli.gte(milli))
            .exec(self.c())
            .await?;
        Ok(())
    }

    /// Goods come back or arrive from a supplier.
    pub async fn restock(&self, sku: &Sku, milli: i64) -> Result<(), StoreError> {
        self.stock_changed();
        stock::Entity::update_many()
            .col_expr(
                stock::Column::OnHandMilli,
                Expr::col(stock::Column::OnHandMilli).add(milli),
            )
            .filter(stock::Column::Sku.eq(sku.to_string()))
            .exec(self.c())
            .await?;
        Ok(())
    }

    pub async fn upsert_zone(&self, z: &Zone) -> Result<(), StoreError> {
        let am = delivery_zones::ActiveModel {
            code: Set(z.code.clone()),
            name_zh: Set(z.name_zh.clone()),
            name_en: Set(z.name_en.clone()),
            lat: Set(z.center.lat),
            lon: Set(z.center.lon),
            radius_m: Set(i32::try_from(z.radius_m).unwrap_or(i32::MAX)),
        };
        if delivery_zones::Entity::find_by_id(z.code.clone())
            .one(self.c())
            .await?
            .is_some()
        {
            delivery_zones::Entity::update(am).exec(self.c()).await?;
        } else {
            delivery_zones::Entity::insert(am)
                .exec_without_returning(self.c())
                .await?;
        }
        Ok(())
    }

    pub async fn zones(&self) -> Result<Vec<Zone>, StoreError> {
        Ok(delivery_zones::Entity::find()
            .order_by_asc(delivery_zones::Column::Code)
            .all(self.c())
            .await?
            .into_iter()
            .map(|z| Zone {
                code: z.code,
                name_zh: z.name_zh,
                name_en: z.name_en,
                center: LatLon {
                    lat: z.lat,
                    lon: z.lon,
                },
                radius_m: u32::try_from(z.radius_m).unwrap_or(0),
            })
            .collect())
    }
}
