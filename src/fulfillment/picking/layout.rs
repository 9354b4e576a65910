//! The warehouse layout: configuration that operators write (TOML or JSON) and every
//! picking algorithm reads.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A single-block warehouse: parallel aisles between a front and a back cross aisle.
///
/// Distances are in metres (any unit works if used consistently). Positions inside an aisle
/// run from 0 at the front cross aisle to `aisle_length` at the back cross aisle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WarehouseLayout {
    /// x coordinate of every aisle's centre line, left to right.
    pub aisle_x: Vec<f64>,
    /// Walking distance from the front to the back cross aisle through an aisle.
    pub aisle_length: f64,
    /// Where pickers start and end.
    pub depot: Depot,
    /// Storage location of every product, keyed by sku.
    #[serde(default)]
    pub locations: BTreeMap<String, Location>,
}

/// The depot: on the front side, `offset` in front of the front cross aisle at `x`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Depot {
    /// x coordinate (need not be an aisle's).
    pub x: f64,
    /// Distance from the depot to the front cross aisle, walked at the start and the end.
    #[serde(default)]
    pub offset: f64,
}

/// Where a product is stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    /// Aisle index into `aisle_x`.
    pub aisle: usize,
    /// Distance from the front end of the aisle.
    pub position: f64,
    /// Zone or category (e.g. `chilled`, `leafy`); batches never mix zones.
    #[serde(default)]
    pub zone: Option<String>,
}

/// A place the picker must visit: an aisle and a position in it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PickPoint {
    /// Aisle index.
    pub aisle: usize,
    /// Distance from the front end of the aisle.
    pub position: f64,
}

/// One problem with a layout; validation reports all of them.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LayoutError {
    /// No aisles.
    #[error("the layout has no aisles; list their x coordinates in `aisle_x`")]
    NoAisles,
    /// Aisle coordinates not strictly increasing or not finite.
    #[error("aisle_x must be finite and strictly increasing (problem at aisle {0})")]
    AislesOutOfOrder(usize),
    /// Non-positive aisle length.
    #[error("aisle_length must be positive, got {0}")]
    BadAisleLength(f64),
    /// Bad depot.
    #[error("the depot needs a finite x and a non-negative offset")]
    BadDepot,
    /// A product's aisle does not exist.
    #[error("product `{sku}` is in aisle {aisle}, but the layout has {aisles} aisles")]
    UnknownAisle {
        /// Product sku.
        sku: String,
        /// Aisle given.
        aisle: usize,
        /// Number of aisles.
        aisles: usize,
    },
    /// A product's position lies outside its aisle.
    #[error("product `{sku}` is at position {position}, outside 0..={length}")]
    PositionOutsideAisle {
        /// Product sku.
        sku: String,
        /// Position given.
        position: f64,
        /// Aisle length.
        length: f64,
    },
}

impl WarehouseLayout {
    /// Evenly spaced aisles starting at x = 0, with no product locations.
    pub fn uniform(aisles: usize, spacing: f64, aisle_length: f64, depot: Depot) -> Self {
        Self {
            aisle_x: (0..aisles).map(|i| i as f64 * spacing).collect(),
            aisle_length,
            depot,
            locations: BTreeMap::new(),
        }
    }

    /// Every problem with the layout, or `Ok` when it is usable.
    pub fn validate(&self) -> Result<(), Vec<LayoutError>> {
        let mut problems = Vec::new();
        if self.aisle_x.is_empty() {
            problems.push(LayoutError::NoAisles);
        }
        for (i, x) in self.aisle_x.iter().enumerate() {
            if !x.is_finite() || (i > 0 && *x <= self.aisle_x[i - 1]) {
                problems.push(LayoutError::AislesOutOfOrder(i));
            }
        }
        if !(self.aisle_length.is_finite() && self.aisle_length > 0.0) {
            problems.push(LayoutError::BadAisleLength(self.aisle_length));
        }
        if !(self.depot.x.is_finite() && self.depot.offset.is_finite() && self.depot.offset >= 0.0)
        {
            problems.push(LayoutError::BadDepot);
        }
        for (sku, loc) in &self.locations {
            if loc.aisle >= self.aisle_x.len() {
                problems.push(LayoutError::UnknownAisle {
                    sku: sku.clone(),
                    aisle: loc.aisle,
                    aisles: self.aisle_x.len(),
                });
            }
            if !(loc.position >= 0.0 && loc.position <= self.aisle_length) {
                problems.push(LayoutError::PositionOutsideAisle {
                    sku: sku.clone(),
                    position: loc.position,
                    length: self.aisle_length,
                });
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deserialises_from_json_and_reports_every_problem() {
        let json = r#"{
            "aisle_x": [0, 5, 4],
            "aisle_length": 20,
            "depot": {"x": 0, "offset": 1},
            "locations": {
                "spinach": {"aisle": 0, "position": 3, "zone": "leafy"},
                "tofu": {"aisle": 7, "position": 30}
            }
        }"#;
        let layout: WarehouseLayout = serde_json::from_str(json).unwrap();
        assert_eq!(layout.locations["spinach"].zone.as_deref(), Some("leafy"));
        let problems = layout.validate().unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems.contains(&LayoutError::AislesOutOfOrder(2)));
    }

    #[test]
    fn uniform_layout_is_valid() {
        let l = WarehouseLayout::uniform(
            4,
            5.0,
            20.0,
            Depot {
                x: 0.0,
                offset: 1.0,
            },
        );
        assert_eq!(l.validate(), Ok(()));
        assert_eq!(l.aisle_x, vec![0.0, 5.0, 10.0, 15.0]);
    }
}
