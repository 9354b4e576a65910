//! Pick routes: one entry point over the three routing methods.

use serde::Serialize;

use super::heuristics;
use super::layout::{PickPoint, WarehouseLayout};
use super::optimal;

/// How a route was built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RoutingMethod {
    /// Traverse every aisle with picks completely (the last one as a return trip if odd).
    SShape,
    /// Traverse the first and last aisle, enter the others up to their largest gap.
    LargestGap,
    /// The shortest possible tour (Ratliff-Rosenthal).
    Optimal,
}

/// A pick route from the depot through every pick point and back.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Route {
    /// Method that built it.
    pub method: RoutingMethod,
    /// Walking distance, depot to depot.
    pub length: f64,
    /// Indices into the pick points, in the order the picker reaches them.
    pub sequence: Vec<usize>,
}

/// Picks grouped by aisle, each group sorted by position (front to back).
pub(crate) struct AislePicks {
    /// (aisle index, [(position, pick index)]) for aisles with picks, left to right.
    pub aisles: Vec<(usize, Vec<(f64, usize)>)>,
}

impl AislePicks {
    pub(crate) fn new(picks: &[PickPoint]) -> Self {
        let mut aisles: Vec<(usize, Vec<(f64, usize)>)> = Vec::new();
        let mut order: Vec<usize> = (0..picks.len()).collect();
        order.sort_by(|&i, &j| {
            picks[i]
                .aisle
                .cmp(&picks[j].aisle)
                .then(picks[i].position.total_cmp(&picks[j].position))
        });
        for i in order {
            let p = picks[i];
            match aisles.last_mut() {
                Some((a, list)) if *a == p.aisle => list.push((p.position, i)),
                _ => aisles.push((p.aisle, vec![(p.position, i)])),
            }
        }
        Self { aisles }
    }
}

/// Builds the route with one method. Pick points must lie inside the layout (see
/// [`WarehouseLayout::validate`]); positions are clamped to the aisle.
pub fn route_with(layout: &WarehouseLayout, picks: &[PickPoint], method: RoutingMethod) -> Route {
    let clamped: Vec<PickPoint> = picks
        .iter()
        .map(|p| PickPoint {
            aisle: p.aisle.min(layout.aisle_x.len().saturating_sub(1)),
            position: p.position.clamp(0.0, layout.aisle_length),
        })
        .collect();
    let (length, sequence) = if clamped.is_empty() {
        (0.0, Vec::new())
    } else {
        match method {
            RoutingMethod::SShape => heuristics::s_shape(layout, &clamped),
            RoutingMethod::LargestGap => heuristics::largest_gap(layout, &clamped),
            RoutingMethod::Optimal => optimal::optimal(layout, &clamped),
        }
    };
    let length = if clamped.is_empty() {
        0.0
    } else {
        length + 2.0 * layout.depot.offset
    };
    Route {
        method,
        length,
        sequence,
    }
}

/// The shortest of the three routes; on a tie the simpler one to follow (S-shape, then
/// largest gap) wins.
pub fn best_route(layout: &WarehouseLayout, picks: &[PickPoint]) -> Route {
    let mut best = route_with(layout, picks, RoutingMethod::SShape);
    for method in [RoutingMethod::LargestGap, RoutingMethod::Optimal] {
        let r = route_with(layout, picks, method);
        if r.length < best.length - 1e-9 {
            best = r;
        }
    }
    best
}
