//! Parsers for two public order-batching benchmark formats (used only by benchmarks; the
//! instance files themselves are not part of freshbot):
//!
//! * Henn & Wäscher style `settNN.txt` + `NNs-<orders>-<capacity>-0.txt` (single block,
//!   aisle numbers count both sides, so aisle `k` of the file is real aisle `k / 2`);
//! * Albareda-Sambola et al. (2009) `wsrp_input_layout_*` + `wsrp_input_pedido_*`.
//!
//! Both parsers are pure and turn the files into a [`WarehouseLayout`] and [`PickOrder`]s.

use super::batching::PickOrder;
use super::layout::{Depot, PickPoint, WarehouseLayout};

/// Why a benchmark file could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FormatError {
    /// A required setting is missing.
    #[error("setting `{0}` is missing")]
    Missing(&'static str),
    /// A value is not a number.
    #[error("line {line}: `{value}` is not a number")]
    BadNumber {
        /// 1-based line number.
        line: usize,
        /// Offending text.
        value: String,
    },
    /// The structure is not as expected.
    #[error("line {line}: {what}")]
    Malformed {
        /// 1-based line number.
        line: usize,
        /// What was expected.
        what: &'static str,
    },
}

fn num<T: std::str::FromStr>(line: usize, value: &str) -> Result<T, FormatError> {
    value.trim().parse().map_err(|_| FormatError::BadNumber {
        line,
        value: value.trim().to_string(),
    })
}

/// A Henn-style warehouse setting.
#[derive(Debug, Clone, PartialEq)]
pub struct HennSetting {
    /// Number of (two-sided) aisles.
    pub aisles: usize,
    /// Storage cells per aisle side.
    pub cells: usize,
    /// Length of a cell along the aisle.
    pub cell_length: f64,
    /// Depth of a cell (shelf depth).
    pub cell_width: f64,
    /// Width of an aisle.
    pub aisle_width: f64,
    /// Distance between the depot and the front cross aisle.
    pub depot_distance: f64,
    /// Picker capacity in articles.
    pub capacity: f64,
}

/// Parses a `settNN.txt` file (`key: value` lines).
pub fn parse_henn_setting(text: &str) -> Result<HennSetting, FormatError> {
    let get = |key: &'static str| -> Result<f64, FormatError> {
        for (i, line) in text.lines().enumerate() {
            if let Some((k, v)) = line.split_once(':')
                && k.trim().trim_end_matches('_') == key
            {
                return num(i + 1, v);
            }
        }
        Err(FormatError::Missing(key))
    };
    Ok(HennSetting {
        aisles: get("no_aisles")? as usize,
        cells: get("no_cells")? as usize,
        cell_length: get("cell_lengt")?,
        cell_width: get("cell_width")?,
        aisle_width: get("aisle_widt")?,
        depot_distance: get("dis_ais_wa")?,
        capacity: get("m_no_a_p_b")?,
    })
}

impl HennSetting {
    /// The layout: aisle centre lines `aisle_width + 2 * cell_width` apart, aisles as long as
    /// their cells, the depot in front of the leftmost aisle.
    pub fn layout(&self) -> WarehouseLayout {
        WarehouseLayout::uniform(
            self.aisles,
            self.aisle_width + 2.0 * self.cell_width,
            self.cells as f64 * self.cell_length,
            Depot {
                x: 0.0,
                offset: self.depot_distance,
            },
        )
    }
}

/// Parses a Henn orders file; every order has load = its number of articles. Cell `k` is
/// picked at the middle of the cell, `(k + 0.5) * cell_length`.
pub fn parse_henn_orders(text: &str, setting: &HennSetting) -> Result<Vec<PickOrder>, FormatError> {
    let mut orders: Vec<PickOrder> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let ln = i + 1;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("Order") {
            let id = rest.split_whitespace().next().unwrap_or("").to_string();
            orders.push(PickOrder {
                id,
                zone: None,
                picks: Vec::new(),
                load: 0.0,
            });
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (Some(order), [_, "Aisle", aisle, "Location", loc]) = (orders.last_mut(), &fields[..])
        else {
            return Err(FormatError::Malformed {
                line: ln,
                what: "expected `<n> Aisle <a> Location <l>` after an `Order` line",
            });
        };
        let side_aisle: usize = num(ln, aisle)?;
        let cell: f64 = num(ln, loc)?;
        let aisle = side_aisle / 2;
        if aisle >= setting.aisles {
            return Err(FormatError::Malformed {
                line: ln,
                what: "aisle outside the setting",
            });
        }
        order.picks.push(PickPoint {
            aisle,
            position: ((cell + 0.5) * setting.cell_length)
                .min(setting.cells as f64 * setting.cell_length),
        });
        order.load += 1.0;
    }
    Ok(orders)
}

/// An Albareda-Sambola layout file.
#[derive(Debug, Clone, PartialEq)]
pub struct AlbaredaLayout {
    /// The warehouse (depot at x = 0 on the front cross aisle).
    pub layout: WarehouseLayout,
    /// Picker capacity (weight).
    pub capacity: f64,
}

/// Parses `wsrp_input_layout_*`: aisle x = distance to the depot signed by the side.
pub fn parse_albareda_layout(text: &str) -> Result<AlbaredaLayout, FormatError> {
    let lines: Vec<&str> = text.lines().collect();
    let line = |n: usize| -> Result<&str, FormatError> {
        lines.get(n - 1).copied().ok_or(FormatError::Malformed {
            line: n,
            what: "the layout file ends early",
        })
    };
    let first = |n: usize| -> Result<f64, FormatError> {
        num(n, line(n)?.split_whitespace().next().unwrap_or(""))
    };
    let shelf_length = first(8)?;
    let capacity = first(12)?;
    let mut aisle_x = Vec::new();
    for n in 18..=lines.len() {
        let f: Vec<&str> = line(n)?.split_whitespace().collect();
        if f.first() == Some(&"9999") || f.is_empty() {
            break;
        }
        if f.len() < 4 {
            return Err(FormatError::Malformed {
                line: n,
                what: "expected `aisle dist_right dist_left side`",
            });
        }
        let dist: f64 = num(n, f[1])?;
        let side: f64 = num(n, f[3])?;
        aisle_x.push(dist * side);
    }
    if aisle_x.is_empty() {
        return Err(FormatError::Missing("aisles"));
    }
    Ok(AlbaredaLayout {
        layout: WarehouseLayout {
            aisle_x,
            aisle_length: shelf_length,
            depot: Depot {
                x: 0.0,
                offset: 0.0,
            },
            locations: Default::default(),
        },
        capacity,
    })
}

/// Parses `wsrp_input_pedido_*`: orders of lines `aisle side position weight item`; the load
/// is the total weight.
pub fn parse_albareda_orders(text: &str) -> Result<Vec<PickOrder>, FormatError> {
    let mut tokens = text.lines().enumerate().skip(3).flat_map(|(i, l)| {
        l.split_whitespace()
            .map(move |t| (i + 1, t))
            .collect::<Vec<_>>()
    });
    let mut next = |what: &'static str| {
        tokens
            .next()
            .ok_or(FormatError::Malformed { line: 0, what })
    };
    let mut orders = Vec::new();
    while let Ok((ln, due)) = next("order") {
        let _: f64 = num(ln, due)?;
        let (ln, count) = next("line count")?;
        let count: usize = num(ln, count)?;
        let mut order = PickOrder {
            id: orders.len().to_string(),
            zone: None,
            picks: Vec::with_capacity(count),
            load: 0.0,
        };
        for _ in 0..count {
            let (ln, aisle) = next("aisle")?;
            let aisle: usize = num(ln, aisle)?;
            let _side = next("side")?;
            let (ln, pos) = next("position")?;
            let position: f64 = num(ln, pos)?;
            let (ln, w) = next("weight")?;
            let weight: f64 = num(ln, w)?;
            let _item = next("item id")?;
            order.picks.push(PickPoint { aisle, position });
            order.load += weight;
        }
        orders.push(order);
    }
    Ok(orders)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn henn_orders_map_sides_to_real_aisles() {
        let setting = parse_henn_setting(
            "no_aisles_: 3\nno_cells__: 10\ncell_lengt: 1\ncell_width: 1.5\naisle_widt: 2\ndis_ais_wa: 1\nm_no_a_p_b: 30\n",
        )
        .unwrap();
        assert_eq!(setting.layout().aisle_x, vec![0.0, 5.0, 10.0]);
        let orders = parse_henn_orders(
            "Order 0\tnumber of articles 2\n0\tAisle 5\tLocation 3\n1\tAisle 0\tLocation 9\n",
            &setting,
        )
        .unwrap();
        assert_eq!(orders.len(), 1);
        assert_eq!(
            orders[0].picks,
            vec![
                PickPoint {
                    aisle: 2,
                    position: 3.5
                },
                PickPoint {
                    aisle: 0,
                    position: 9.5
                }
            ]
        );
        assert_eq!(orders[0].load, 2.0);
        assert_eq!(
            parse_henn_setting("no_aisles_: x"),
            Err(FormatError::BadNumber {
                line: 1,
                value: "x".into()
            })
        );
    }

    #[test]
    fn albareda_layout_puts_left_aisles_at_negative_x() {
        let text = " Numero\n 4 240\n m\n 1\n l\n 0\n s\n 86.9 3.5\n a\n 3.5\n c\n 12.0\n t\n 0.0\n g\n 0.0 0.0\n h\n 0 10.75 10.75 -1\n 1 3.5 3.5 -1\n 2 3.5 3.5 1\n 3 10.75 10.75 1\n 9999\n";
        let l = parse_albareda_layout(text).unwrap();
        assert_eq!(l.layout.aisle_x, vec![-10.75, -3.5, 3.5, 10.75]);
        assert_eq!(l.capacity, 12.0);
        assert_eq!(l.layout.aisle_length, 86.9);
        let orders = parse_albareda_orders(
            " n\n 2\n h\n 100.0 2\n 3 0 9.7 1.0 186\n 1 1 23.6 1.0 77\n 5.0 1\n 2 0 59.7 2.0 162\n",
        )
        .unwrap();
        assert_eq!(orders.len(), 2);
        assert_eq!(orders[1].load, 2.0);
        assert_eq!(orders[0].picks[1].position, 23.6);
    }
}

#[cfg(test)]
mod shared_data_tests {
    use super::*;
    use crate::fulfillment::picking::route::{RoutingMethod, route_with};

    #[test]
    fn optimal_is_never_longer_than_the_heuristics_on_a_henn_instance() {
        let (Some(sett), Some(orders)) = (
            crate::shared_data::read("picking/henn_w5a/ran1/sett29.txt"),
            crate::shared_data::read("picking/henn_w5a/ran1/29s-40-30-0.txt"),
        ) else {
            return;
        };
        let setting = parse_henn_setting(&sett).unwrap();
        let layout = setting.layout();
        let orders = parse_henn_orders(&orders, &setting).unwrap();
        assert_eq!(orders.len(), 40);
        for o in &orders {
            let opt = route_with(&layout, &o.picks, RoutingMethod::Optimal);
            for m in [RoutingMethod::SShape, RoutingMethod::LargestGap] {
                assert!(opt.length <= route_with(&layout, &o.picks, m).length + 1e-9);
            }
            assert_eq!(opt.sequence.len(), o.picks.len());
        }
    }
}
