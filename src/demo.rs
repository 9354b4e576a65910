//! The demo business of DESIGN.md: a produce delivery service at People's Square, Shanghai.
//! Its data files (`demo/`) are compiled in, so `freshbot demo` works from any directory.
//! Loading is idempotent: products and zones are upserted, stock rows, slots, couriers and
//! agents are only created when missing, so re-running never resets live stock.

use serde::{Deserialize, Serialize};

use crate::config::Settings;
use crate::domain::{Fen, LatLon, Product, Sku, Zone};
use crate::store::{Store, StoreError};

pub const CATALOG_CSV: &str = include_str!("../demo/catalog.csv");
pub const ZONES_CSV: &str = include_str!("../demo/zones.csv");

/// Why demo data could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// A data file has a bad row.
    #[error("{file} line {line}: {message}")]
    Data {
        file: &'static str,
        line: usize,
        message: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A catalog row with its opening stock, in thousandths of the product's selling unit
/// (stock is not an order quantity: it has no per-order cap).
#[derive(Debug, Clone)]
pub struct CatalogItem {
    pub product: Product,
    pub on_hand_milli: i64,
    pub low_stock_threshold_milli: i64,
}

#[derive(Deserialize)]
struct CatalogRow {
    sku: String,
    name_zh: String,
    name_en: String,
    aliases: String,
    category: String,
    warehouse_zone: String,
    unit: String,
    price_fen: i64,
    substitutable: bool,
    on_hand: i64,
    low_stock_threshold: i64,
}

fn data_err(file: &'static str, line: usize, message: impl std::fmt::Display) -> DemoError {
    DemoError::Data {
        file,
        line,
        message: message.to_string(),
    }
}

/// Parses a catalog CSV (header `sku,name_zh,name_en,aliases,category,warehouse_zone,unit,
/// price_fen,substitutable,on_hand,low_stock_threshold`; aliases separated by `|`).
pub fn parse_catalog(csv_text: &str) -> Result<Vec<CatalogItem>, DemoError> {
    const FILE: &str = "catalog.csv";
    let mut out = Vec::new();
    for (i, row) in csv::Reader::from_reader(csv_text.as_bytes())
        .deserialize::<CatalogRow>()
        .enumerate()
    {
        let line = i + 2;
        let r = row.map_err(|e| data_err(FILE, line, e))?;
        let unit = r.unit.parse().map_err(|e| data_err(FILE, line, e))?;
        let product = Product {
            sku: Sku::parse(&r.sku).map_err(|e| data_err(FILE, line, e))?,
            name_zh: r.name_zh,
            name_en: r.name_en,
            aliases: r
                .aliases
                .split('|')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(String::from)
                .collect(),
            category: r.category,
            warehouse_zone: r.warehouse_zone,
            unit,
            price: Fen::new(r.price_fen),
            substitutable: r.substitutable,
        };
        product.validate().map_err(|e| data_err(FILE, line, e))?;
        if r.on_hand < 0 || r.low_stock_threshold < 0 {
            return Err(data_err(FILE, line, "stock numbers must not be negative"));
        }
        out.push(CatalogItem {
            on_hand_milli: r.on_hand.saturating_mul(1000),
            low_stock_threshold_milli: r.low_stock_threshold.saturating_mul(1000),
            product,
        });
    }
    Ok(out)
}

#[derive(Deserialize)]
struct ZoneRow {
    code: String,
    name_zh: String,
    name_en: String,
    lat: f64,
    lon: f64,
    radius_m: u32,
}

pub fn parse_zones(csv_text: &str) -> Result<Vec<Zone>, DemoError> {
    const FILE: &str = "zones.csv";
    csv::Reader::from_reader(csv_text.as_bytes())
        .deserialize::<ZoneRow>()
        .enumerate()
        .map(|(i, row)| {
            let r = row.map_err(|e| data_err(FILE, i + 2, e))?;
            let center = LatLon::new(r.lat, r.lon).map_err(|e| data_err(FILE, i + 2, e))?;
            Ok(Zone {
                code: r.code,
                name_zh: r.name_zh,
                name_en: r.name_en,
                center,
                radius_m: r.radius_m,
            })
        })
        .collect()
}

/// What `freshbot demo` did.
#[derive(Debug, Serialize)]
pub struct DemoReport {
    pub products: usize,
    pub stock_rows_created: usize,
    pub zones: usize,
    pub slots: usize,
    pub couriers_added: usize,
    pub agents_added: usize,
}

/// Loads the demo business; safe to run again.
pub async fn load(store: &Store, settings: &Settings) -> Result<DemoReport, DemoError> {
    let now = chrono::Utc::now();
    let catalog = parse_catalog(CATALOG_CSV)?;
    let zones = parse_zones(ZONES_CSV)?;
    let tx = store.begin_write().await?;
    let mut stock_rows_created = 0;
    for item in &catalog {
        tx.upsert_product(&item.product).await?;
        if tx
            .ensure_stock(
                &item.product.sku,
                item.on_hand_milli,
                item.low_stock_threshold_milli,
                now,
            )
            .await?
        {
            stock_rows_created += 1;
        }
    }
    for z in &zones {
        tx.upsert_zone(z).await?;
    }
    let slots = settings.business.slots.slots_from(now);
    for s in &slots {
        for z in &zones {
            tx.ensure_slot(
                s.start(),
                s.end(),
                &z.code,
                settings.business.slots.capacity_per_zone,
            )
            .await?;
        }
    }
    let mut couriers_added = 0;
    for (name, phone, bags, shift) in [
        ("王师傅", "13800000001", 30, ("07:30", "20:30")),
        ("李师傅", "13800000002", 30, ("07:30", "20:30")),
        ("张师傅", "13800000003", 24, ("13:30", "20:30")),
    ] {
        couriers_added += usize::from(tx.ensure_courier(name, phone, bags, shift).await?);
    }
    let mut agents_added = 0;
    for (user, name) in [("xiaomei", "小美"), ("alex", "Alex")] {
        agents_added += usize::from(
            tx.ensure_agent(user, name, None, crate::domain::StaffRole::Agent, now)
                .await?,
        );
    }
    tx.commit().await?;
    Ok(DemoReport {
        products: catalog.len(),
        stock_rows_created,
        zones: zones.len(),
        slots: slots.len() * zones.len(),
        couriers_added,
        agents_added,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_catalog_has_what_customers_ask_for() {
        let items = parse_catalog(CATALOG_CSV).unwrap();
        assert!(items.len() >= 80, "{} items", items.len());
        let names: Vec<&str> = items.iter().map(|i| i.product.name_zh.as_str()).collect();
        for must in [
            "西红柿",
            "黄瓜",
            "土豆",
            "大白菜",
            "西兰花",
            "鸡蛋",
            "五花肉",
            "鲈鱼",
            "草莓",
        ] {
            assert!(names.contains(&must), "{must} missing");
        }
        let tomato = items
            .iter()
            .find(|i| i.product.name_zh == "西红柿")
            .unwrap();
        assert!(tomato.product.aliases.contains(&"番茄".to_string()));
        assert!(
            items.iter().any(|i| i.on_hand_milli == 0),
            "some items are out so substitutes come up"
        );
        assert!(
            items
                .iter()
                .any(|i| i.on_hand_milli > 0 && i.on_hand_milli <= i.low_stock_threshold_milli)
        );
    }

    #[test]
    fn zones_cover_the_central_districts() {
        let zones = parse_zones(ZONES_CSV).unwrap();
        for d in [
            "黄浦",
            "静安",
            "徐汇",
            "长宁",
            "虹口",
            "普陀",
            "杨浦",
            "陆家嘴",
        ] {
            assert!(zones.iter().any(|z| z.name_zh == d), "{d}");
        }
    }

    #[test]
    fn bad_rows_name_the_line() {
        let bad = "sku,name_zh,name_en,aliases,category,warehouse_zone,unit,price_fen,substitutable,on_hand,low_stock_threshold\nX,西,x,,c,A,stone,1,true,1,1\n";
        let err = parse_catalog(bad).unwrap_err().to_string();
        assert!(err.contains("line 2") && err.contains("stone"), "{err}");
    }
}
