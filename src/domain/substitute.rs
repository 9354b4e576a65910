//! Choosing a substitute for a short item, shared by the conversation (offers while ordering,
//! stock questions) and the warehouse (short picks).

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::{Fen, Order, Product, Quantity, Sku, StockLevel};

/// The best substitute for `sku` when `need_milli` of it is missing: the customer's `preferred`
/// item if it is in stock, else an item of the same category and selling unit with enough free
/// stock, not in `exclude` (refused before, already in the order), closest in price and then
/// most plentiful. Nothing when the original may not be substituted.
pub fn best_substitute<'a>(
    catalog: &'a [(Product, StockLevel)],
    sku: &Sku,
    need_milli: i64,
    exclude: &[Sku],
    preferred: Option<&Sku>,
) -> Option<&'a Product> {
    let (original, _) = catalog.iter().find(|(p, _)| &p.sku == sku)?;
    if !original.substitutable {
        return None;
    }
    if let Some(pref) = preferred.filter(|p| !exclude.contains(p))
        && let Some((p, _)) = catalog
            .iter()
            .find(|(p, s)| &p.sku == pref && s.available_milli() > 0)
    {
        return Some(p);
    }
    catalog
        .iter()
        .filter(|(p, s)| {
            &p.sku != sku
                && p.category == original.category
                && p.unit == original.unit
                && s.available_milli() >= need_milli.max(1)
                && !exclude.contains(&p.sku)
        })
        .min_by_key(|(p, s)| {
            (
                (p.price.get() - original.price.get()).abs(),
                -s.available_milli(),
            )
        })
        .map(|(p, _)| p)
}

/// An open offer as the customer sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OfferView {
    pub id: i64,
    pub number: String,
    pub sku: Sku,
    pub name_zh: String,
    pub name_en: String,
    pub substitute: Sku,
    pub substitute_name_zh: String,
    pub substitute_name_en: String,
    /// How much of the substitute would be added.
    pub quantity: Quantity,
    /// What that costs.
    pub price: Fen,
    pub expires_at: DateTime<Utc>,
}

/// What came of an answer.
#[derive(Debug, Clone, PartialEq)]
pub struct SubstitutionAnswer {
    pub accepted: bool,
    /// The order afterwards (cancelled when the customer declined and nothing was left in it).
    pub order: Order,
    pub substitute_name_zh: String,
    pub substitute_name_en: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Fen, Unit};

    fn item(
        sku: &str,
        cat: &str,
        price: i64,
        avail: i64,
        substitutable: bool,
    ) -> (Product, StockLevel) {
        (
            Product {
                sku: Sku::parse(sku).unwrap(),
                name_zh: sku.into(),
                name_en: sku.into(),
                aliases: vec![],
                category: cat.into(),
                warehouse_zone: "A".into(),
                unit: Unit::Jin,
                price: Fen::new(price),
                substitutable,
            },
            StockLevel {
                on_hand_milli: avail,
                reserved_milli: 0,
                low_threshold_milli: 0,
            },
        )
    }

    #[test]
    fn same_category_closest_price_in_stock_not_refused() {
        let catalog = vec![
            item("TOMATO", "fruit_veg", 450, 0, true),
            item("PEPPER", "fruit_veg", 980, 5000, true),
            item("CUCUMBER", "fruit_veg", 380, 5000, true),
            item("EGGPLANT", "fruit_veg", 420, 500, true),
            item("APPLE", "fruit", 450, 9000, true),
            item("SALMON", "seafood", 6980, 0, false),
        ];
        let sku = |s: &str| Sku::parse(s).unwrap();
        let pick = |need, exclude: &[Sku], pref: Option<&Sku>| {
            best_substitute(&catalog, &sku("TOMATO"), need, exclude, pref)
                .map(|p| p.sku.as_str().to_owned())
        };
        // Eggplant is closest in price but has only 0.5 jin.
        assert_eq!(pick(2000, &[], None).as_deref(), Some("CUCUMBER"));
        assert_eq!(pick(500, &[], None).as_deref(), Some("EGGPLANT"));
        assert_eq!(
            pick(2000, &[sku("CUCUMBER")], None).as_deref(),
            Some("PEPPER")
        );
        assert_eq!(
            pick(2000, &[], Some(&sku("PEPPER"))).as_deref(),
            Some("PEPPER")
        );
        assert_eq!(
            best_substitute(&catalog, &sku("SALMON"), 1000, &[], None),
            None
        );
    }
}
