//! The warehouse configuration: layout, which aisles each catalog zone owns, the picker's
//! capacity, scale tolerance and supplier terms. Pure: parsing and lookups only.
//!
//! The demo warehouse (`demo/warehouse.toml`) is compiled in; an operator may pass another
//! file with the same shape.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::domain::{Product, Quantity, Unit};
use crate::fulfillment::picking::{Location, WarehouseLayout};
use crate::fulfillment::replenishment::ProductTerms;

/// The demo warehouse, compiled in.
pub const DEMO_WAREHOUSE_TOML: &str = include_str!("../../../demo/warehouse.toml");

/// Why a warehouse configuration is unusable; lists every problem at once.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("warehouse configuration: {}", .problems.join("; "))]
pub struct WarehouseConfigError {
    /// Each problem, with what to change.
    pub problems: Vec<String>,
}

/// Warehouse settings (see `demo/warehouse.toml` for a commented example).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WarehouseConfig {
    /// Kilograms one picker carries in one tour.
    pub picker_capacity_kg: f64,
    /// Assumed weight of one counted item (piece, bunch, box, bag), for capacity.
    pub count_item_kg: f64,
    /// Relative deviation accepted on weighed lines (0.05 = 5 %); counted lines have none.
    pub weight_tolerance: f64,
    /// Aisles, depot and pinned product locations.
    pub layout: WarehouseLayout,
    /// Catalog `warehouse_zone` -> the aisles it owns.
    pub zones: BTreeMap<String, Vec<usize>>,
    /// Supplier terms for replenishment.
    pub terms: TermsConfig,
}

/// Supplier terms: defaults, overridden per category, then per sku.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TermsConfig {
    pub default: Terms,
    #[serde(default)]
    pub category: BTreeMap<String, PartialTerms>,
    #[serde(default)]
    pub sku: BTreeMap<String, PartialTerms>,
}

/// Terms of one product. Quantities are in the product's selling unit.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Terms {
    pub lead_time_days: usize,
    pub review_period_days: usize,
    pub shelf_life_days: usize,
    pub pack_size: f64,
    pub service_level: f64,
    /// Supplier price as a share of the selling price (when no pack price is given).
    pub cost_ratio: f64,
}

/// Overrides of [`Terms`].
#[derive(Debug, Clone, Copy, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartialTerms {
    pub lead_time_days: Option<usize>,
    pub review_period_days: Option<usize>,
    pub shelf_life_days: Option<usize>,
    pub pack_size: Option<f64>,
    pub service_level: Option<f64>,
    pub cost_ratio: Option<f64>,
    /// Price of one pack in fen (else selling price x pack size x cost ratio).
    pub pack_price_fen: Option<i64>,
}

impl Terms {
    fn apply(mut self, p: &PartialTerms) -> Self {
        self.lead_time_days = p.lead_time_days.unwrap_or(self.lead_time_days);
        self.review_period_days = p.review_period_days.unwrap_or(self.review_period_days);
        self.shelf_life_days = p.shelf_life_days.unwrap_or(self.shelf_life_days);
        self.pack_size = p.pack_size.unwrap_or(self.pack_size);
        self.service_level = p.service_level.unwrap_or(self.service_level);
        self.cost_ratio = p.cost_ratio.unwrap_or(self.cost_ratio);
        self
    }

    fn problems(&self, name: &str) -> Vec<String> {
        let mut out = Vec::new();
        if self.shelf_life_days == 0 {
            out.push(format!("{name}: shelf_life_days must be at least 1"));
        }
        if self.review_period_days == 0 {
            out.push(format!("{name}: review_period_days must be at least 1"));
        }
        if !(self.pack_size.is_finite() && self.pack_size > 0.0) {
            out.push(format!("{name}: pack_size must be positive"));
        }
        if !(self.service_level > 0.0 && self.service_level < 1.0) {
            out.push(format!(
                "{name}: service_level must lie strictly between 0 and 1"
            ));
        }
        if !(self.cost_ratio.is_finite() && self.cost_ratio > 0.0) {
            out.push(format!("{name}: cost_ratio must be positive"));
        }
        out
    }
}

impl WarehouseConfig {
    /// The compiled-in demo warehouse.
    pub fn demo() -> Result<Self, WarehouseConfigError> {
        Self::parse(DEMO_WAREHOUSE_TOML)
    }

    /// Parses and validates a TOML configuration.
    pub fn parse(text: &str) -> Result<Self, WarehouseConfigError> {
        let cfg: WarehouseConfig = toml::from_str(text).map_err(|e| WarehouseConfigError {
            problems: vec![e.to_string()],
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Every problem with the configuration, or `Ok`.
    pub fn validate(&self) -> Result<(), WarehouseConfigError> {
        let mut problems: Vec<String> = match self.layout.validate() {
            Ok(()) => vec![],
            Err(list) => list.iter().map(ToString::to_string).collect(),
        };
        if !(self.picker_capacity_kg.is_finite() && self.picker_capacity_kg > 0.0) {
            problems.push("picker_capacity_kg must be positive".into());
        }
        if !(self.count_item_kg.is_finite() && self.count_item_kg > 0.0) {
            problems.push("count_item_kg must be positive".into());
        }
        if !(self.weight_tolerance >= 0.0 && self.weight_tolerance < 1.0) {
            problems.push("weight_tolerance must be in [0, 1)".into());
        }
        for (zone, aisles) in &self.zones {
            if aisles.is_empty() {
                problems.push(format!("zone {zone} owns no aisles"));
            }
            for a in aisles {
                if *a >= self.layout.aisle_x.len() {
                    problems.push(format!(
                        "zone {zone} names aisle {a}, but the layout has {} aisles",
                        self.layout.aisle_x.len()
                    ));
                }
            }
        }
        problems.extend(self.terms.default.problems("terms.default"));
        // an override is only blamed for problems the defaults do not already have
        let inherited = self.terms.default.problems("");
        let overrides = self
            .terms
            .category
            .iter()
            .map(|(n, p)| (format!("terms.category.{n}"), p))
            .chain(
                self.terms
                    .sku
                    .iter()
                    .map(|(n, p)| (format!("terms.sku.{n}"), p)),
            );
        for (name, p) in overrides {
            problems.extend(
                self.terms
                    .default
                    .apply(p)
                    .problems(&name)
                    .into_iter()
                    .filter(|m| !inherited.iter().any(|i| m.ends_with(i.as_str()))),
            );
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(WarehouseConfigError { problems })
        }
    }

    /// The layout with every product located: pinned skus keep their place; the others fill
    /// the aisles of their `warehouse_zone` in sku order, two products (one per side) at each
    /// position, front to back, aisle after aisle. The zone becomes the batching zone.
    /// Products of a zone the configuration does not know stay unlocated.
    pub fn layout_for(&self, products: &[Product]) -> WarehouseLayout {
        let mut layout = self.layout.clone();
        let mut by_zone: BTreeMap<&str, Vec<&Product>> = BTreeMap::new();
        for p in products {
            if let Some(loc) = layout.locations.get_mut(p.sku.as_str()) {
                if loc.zone.is_none() {
                    loc.zone = Some(p.warehouse_zone.clone());
                }
                continue;
            }
            by_zone
                .entry(p.warehouse_zone.as_str())
                .or_default()
                .push(p);
        }
        for (zone, mut list) in by_zone {
            let Some(aisles) = self.zones.get(zone).filter(|a| !a.is_empty()) else {
                continue;
            };
            list.sort_by(|a, b| a.sku.cmp(&b.sku));
            let per_aisle = list.len().div_ceil(aisles.len()).max(1);
            let positions = per_aisle.div_ceil(2);
            let step = layout.aisle_length / (positions as f64 + 1.0);
            for (k, p) in list.into_iter().enumerate() {
                let aisle = aisles[(k / per_aisle).min(aisles.len() - 1)];
                let slot = k % per_aisle;
                layout.locations.insert(
                    p.sku.to_string(),
                    Location {
                        aisle,
                        position: step * ((slot / 2) as f64 + 1.0),
                        zone: Some(zone.to_owned()),
                    },
                );
            }
        }
        layout
    }

    /// Supplier terms of a product (default <- category <- sku).
    pub fn terms_for(&self, p: &Product) -> ProductTerms {
        let mut t = self.terms.default;
        let mut pack_price = None;
        for over in [
            self.terms.category.get(&p.category),
            self.terms.sku.get(p.sku.as_str()),
        ]
        .into_iter()
        .flatten()
        {
            t = t.apply(over);
            pack_price = over.pack_price_fen.or(pack_price);
        }
        let pack_price_fen = pack_price
            .unwrap_or_else(|| (p.price.get() as f64 * t.pack_size * t.cost_ratio).round() as i64);
        ProductTerms {
            sku: p.sku.to_string(),
            lead_time_days: t.lead_time_days,
            review_period_days: t.review_period_days,
            shelf_life_days: t.shelf_life_days,
            pack_size: t.pack_size,
            pack_price_fen,
            service_level: t.service_level,
        }
    }

    /// What a line uses of the picker's capacity, in kg.
    pub fn load_kg(&self, q: Quantity) -> f64 {
        let amount = q.milli() as f64 / 1000.0;
        match q.convert_to(Unit::Kg) {
            Ok(kg) if q.unit().is_weight() => kg.milli() as f64 / 1000.0,
            _ => amount * self.count_item_kg,
        }
    }

    /// Accepted scale deviation of a line, in thousandths of its unit (0 for counted goods).
    pub fn tolerance_milli(&self, q: Quantity) -> i64 {
        if q.unit().is_weight() {
            (q.milli() as f64 * self.weight_tolerance).round() as i64
        } else {
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Fen, Sku};

    fn product(sku: &str, zone: &str, category: &str, unit: Unit) -> Product {
        Product {
            sku: Sku::parse(sku).unwrap(),
            name_zh: "菜".into(),
            name_en: "veg".into(),
            aliases: vec![],
            category: category.into(),
            warehouse_zone: zone.into(),
            unit,
            price: Fen::new(1000),
            substitutable: true,
        }
    }

    #[test]
    fn the_demo_warehouse_is_valid_and_locates_every_demo_product() {
        let cfg = WarehouseConfig::demo().unwrap();
        let catalog = crate::demo::parse_catalog(crate::demo::CATALOG_CSV).unwrap();
        let products: Vec<Product> = catalog.into_iter().map(|c| c.product).collect();
        let layout = cfg.layout_for(&products);
        assert_eq!(layout.validate(), Ok(()));
        for p in &products {
            let loc = &layout.locations[p.sku.as_str()];
            assert_eq!(loc.zone.as_deref(), Some(p.warehouse_zone.as_str()));
            assert!(
                cfg.zones[&p.warehouse_zone].contains(&loc.aisle),
                "{}",
                p.sku
            );
        }
        // no two products share a side of an aisle at one position
        let mut places: Vec<(usize, u64)> = layout
            .locations
            .values()
            .map(|l| (l.aisle, (l.position * 1000.0) as u64))
            .collect();
        places.sort_unstable();
        for w in places.windows(3) {
            assert!(
                !(w[0] == w[1] && w[1] == w[2]),
                "three products at {:?}",
                w[0]
            );
        }
    }

    #[test]
    fn terms_are_overridden_by_category_then_sku() {
        let mut cfg = WarehouseConfig::demo().unwrap();
        cfg.terms.sku.insert(
            "VEG-SPINACH".into(),
            PartialTerms {
                pack_price_fen: Some(999),
                lead_time_days: Some(2),
                ..PartialTerms::default()
            },
        );
        let spinach = cfg.terms_for(&product("VEG-SPINACH", "B", "leafy", Unit::Jin));
        assert_eq!(
            (
                spinach.shelf_life_days,
                spinach.pack_size,
                spinach.lead_time_days
            ),
            (2, 5.0, 2)
        );
        assert_eq!(spinach.pack_price_fen, 999);
        let other = cfg.terms_for(&product("VEG-X", "A", "allium", Unit::Jin));
        assert_eq!((other.shelf_life_days, other.pack_size), (5, 10.0));
        assert_eq!(other.pack_price_fen, 6000, "1000 fen x 10 x 0.6");
    }

    #[test]
    fn every_problem_of_a_bad_configuration_is_reported() {
        let bad = DEMO_WAREHOUSE_TOML
            .replace("picker_capacity_kg = 20.0", "picker_capacity_kg = 0.0")
            .replace("E = [9]", "E = [42]")
            .replace("service_level = 0.9", "service_level = 1.5");
        let err = WarehouseConfig::parse(&bad).unwrap_err();
        assert_eq!(err.problems.len(), 3, "{err}");
    }

    #[test]
    fn loads_and_tolerances_follow_the_unit() {
        let cfg = WarehouseConfig::demo().unwrap();
        let two_jin = Quantity::whole(2, Unit::Jin).unwrap();
        assert!((cfg.load_kg(two_jin) - 1.0).abs() < 1e-9);
        assert_eq!(cfg.tolerance_milli(two_jin), 100);
        let three_boxes = Quantity::whole(3, Unit::Box).unwrap();
        assert!((cfg.load_kg(three_boxes) - 1.5).abs() < 1e-9);
        assert_eq!(cfg.tolerance_milli(three_boxes), 0);
    }
}
