//! Order batching: which orders one picker collects in one tour.
//!
//! Orders are first separated by zone (chilled, ambient, leafy...; a batch never mixes
//! zones), then grouped under the picker's capacity. [`batch_fcfs`] is the baseline: orders
//! in arrival order fill a batch until the next does not fit. [`batch_by_savings`] builds each
//! batch from a seed order (the one whose own tour is longest) by repeatedly adding the order
//! that lengthens the optimal tour least, then improves the batches by moving and swapping
//! orders between them while the total distance falls. Every batch is routed with
//! [`best_route`], so the distances compared are what pickers would walk.

use std::collections::BTreeMap;

use super::layout::{PickPoint, WarehouseLayout};
use super::optimal::optimal_length;
use super::route::{Route, best_route};

/// An order (or the part of an order in one zone) to pick.
#[derive(Debug, Clone, PartialEq)]
pub struct PickOrder {
    /// Order number.
    pub id: String,
    /// Zone of all its picks; `None` when the warehouse has no zones.
    pub zone: Option<String>,
    /// Places to visit.
    pub picks: Vec<PickPoint>,
    /// What the order uses of the picker's capacity (items, kg or tote volume).
    pub load: f64,
}

/// Orders one picker collects in one tour, with the tour.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// Zone of every order in the batch.
    pub zone: Option<String>,
    /// Indices into the orders given to the batching function.
    pub orders: Vec<usize>,
    /// Sum of the orders' loads (never above the capacity).
    pub load: f64,
    /// The chosen pick route through all the batch's picks.
    pub route: Route,
}

/// Why orders could not be batched.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BatchingError {
    /// The capacity is not a positive number.
    #[error("picker capacity must be positive, got {0}")]
    BadCapacity(f64),
    /// One order alone exceeds the capacity; split it before batching.
    #[error(
        "order `{order}` needs {load} but a picker carries at most {capacity}; split the order"
    )]
    OrderTooLarge {
        /// Order number.
        order: String,
        /// Its load.
        load: f64,
        /// The capacity.
        capacity: f64,
    },
    /// An order line names a product without a location in the layout.
    #[error("order `{order}`: product `{sku}` has no location in the warehouse layout")]
    UnknownProduct {
        /// Order number.
        order: String,
        /// Product sku.
        sku: String,
    },
}

fn check(orders: &[PickOrder], capacity: f64) -> Result<(), BatchingError> {
    if !(capacity.is_finite() && capacity > 0.0) {
        return Err(BatchingError::BadCapacity(capacity));
    }
    for o in orders {
        if o.load > capacity || !o.load.is_finite() {
            return Err(BatchingError::OrderTooLarge {
                order: o.id.clone(),
                load: o.load,
                capacity,
            });
        }
    }
    Ok(())
}

/// Orders grouped by zone, in order of first appearance, each list in arrival order.
fn by_zone(orders: &[PickOrder]) -> Vec<(Option<String>, Vec<usize>)> {
    let mut groups: Vec<(Option<String>, Vec<usize>)> = Vec::new();
    for (i, o) in orders.iter().enumerate() {
        match groups.iter_mut().find(|(z, _)| *z == o.zone) {
            Some((_, list)) => list.push(i),
            None => groups.push((o.zone.clone(), vec![i])),
        }
    }
    groups
}

fn picks_of(orders: &[PickOrder], members: &[usize]) -> Vec<PickPoint> {
    members
        .iter()
        .flat_map(|&i| orders[i].picks.iter().copied())
        .collect()
}

fn load_of(orders: &[PickOrder], members: &[usize]) -> f64 {
    members.iter().map(|&i| orders[i].load).sum()
}

fn finish(
    layout: &WarehouseLayout,
    orders: &[PickOrder],
    groups: Vec<(Option<String>, Vec<usize>)>,
) -> Vec<Batch> {
    groups
        .into_iter()
        .filter(|(_, m)| !m.is_empty())
        .map(|(zone, members)| Batch {
            zone,
            load: load_of(orders, &members),
            route: best_route(layout, &picks_of(orders, &members)),
            orders: members,
        })
        .collect()
}

/// First come, first served: orders in the given order fill a batch until the next one
/// would exceed the capacity.
pub fn batch_fcfs(
    layout: &WarehouseLayout,
    orders: &[PickOrder],
    capacity: f64,
) -> Result<Vec<Batch>, BatchingError> {
    check(orders, capacity)?;
    let mut out = Vec::new();
    for (zone, list) in by_zone(orders) {
        let mut current: Vec<usize> = Vec::new();
        let mut load = 0.0;
        for i in list {
            if load + orders[i].load > capacity && !current.is_empty() {
                out.push((zone.clone(), std::mem::take(&mut current)));
                load = 0.0;
            }
            load += orders[i].load;
            current.push(i);
        }
        out.push((zone, current));
    }
    Ok(finish(layout, orders, out))
}

/// Passes of move/swap improvement at most (each pass tries every pair of batches).
const IMPROVEMENT_PASSES: usize = 20;

/// Seed-and-savings batching with move/swap improvement; see the module documentation.
pub fn batch_by_savings(
    layout: &WarehouseLayout,
    orders: &[PickOrder],
    capacity: f64,
) -> Result<Vec<Batch>, BatchingError> {
    check(orders, capacity)?;
    let dist = |members: &[usize]| {
        if members.is_empty() {
            0.0
        } else {
            optimal_length(layout, &picks_of(orders, members))
        }
    };
    let mut out = Vec::new();
    for (zone, list) in by_zone(orders) {
        let single: BTreeMap<usize, f64> = list.iter().map(|&i| (i, dist(&[i]))).collect();
        let mut remaining = list.clone();
        let mut batches: Vec<Vec<usize>> = Vec::new();
        while !remaining.is_empty() {
            // seed: the order with the longest tour of its own (ties: earliest)
            let seed_pos = (0..remaining.len())
                .max_by(|&x, &y| {
                    single[&remaining[x]]
                        .total_cmp(&single[&remaining[y]])
                        .then(y.cmp(&x))
                })
                .unwrap_or(0);
            let mut batch = vec![remaining.remove(seed_pos)];
            let mut load = load_of(orders, &batch);
            let mut length = dist(&batch);
            loop {
                let mut best: Option<(usize, f64)> = None;
                for (pos, &i) in remaining.iter().enumerate() {
                    if load + orders[i].load > capacity {
                        continue;
                    }
                    let mut with = batch.clone();
                    with.push(i);
                    let added = dist(&with) - length;
                    if best.is_none_or(|(_, b)| added < b) {
                        best = Some((pos, added));
                    }
                }
                let Some((pos, added)) = best else { break };
                let i = remaining.remove(pos);
                load += orders[i].load;
                length += added;
                batch.push(i);
            }
            batches.push(batch);
        }
        improve(&mut batches, orders, capacity, &dist);
        for mut b in batches {
            b.sort_unstable();
            out.push((zone.clone(), b));
        }
    }
    Ok(finish(layout, orders, out))
}

/// Moves single orders between batches and swaps pairs while that shortens the total.
fn improve(
    batches: &mut Vec<Vec<usize>>,
    orders: &[PickOrder],
    capacity: f64,
    dist: &dyn Fn(&[usize]) -> f64,
) {
    let mut lengths: Vec<f64> = batches.iter().map(|b| dist(b)).collect();
    for _ in 0..IMPROVEMENT_PASSES {
        let mut improved = false;
        for x in 0..batches.len() {
            for y in 0..batches.len() {
                if x == y || batches[x].is_empty() {
                    continue;
                }
                let before = lengths[x] + lengths[y];
                let load_y = load_of(orders, &batches[y]);
                // move one order from x to y
                let mut moved = false;
                for px in 0..batches[x].len() {
                    let i = batches[x][px];
                    if load_y + orders[i].load > capacity {
                        continue;
                    }
                    let mut nx = batches[x].clone();
                    nx.remove(px);
                    let mut ny = batches[y].clone();
                    ny.push(i);
                    let (lx, ly) = (dist(&nx), dist(&ny));
                    if lx + ly < before - 1e-9 {
                        batches[x] = nx;
                        batches[y] = ny;
                        lengths[x] = lx;
                        lengths[y] = ly;
                        moved = true;
                        break;
                    }
                }
                if moved {
                    improved = true;
                    continue;
                }
                if x > y {
                    continue;
                }
                // swap one order of x with one of y
                let load_x = load_of(orders, &batches[x]);
                'swap: for px in 0..batches[x].len() {
                    for py in 0..batches[y].len() {
                        let (i, j) = (batches[x][px], batches[y][py]);
                        let (li, lj) = (orders[i].load, orders[j].load);
                        if load_x - li + lj > capacity || load_y - lj + li > capacity {
                            continue;
                        }
                        let mut nx = batches[x].clone();
                        nx[px] = j;
                        let mut ny = batches[y].clone();
                        ny[py] = i;
                        let (lx, ly) = (dist(&nx), dist(&ny));
                        if lx + ly < before - 1e-9 {
                            batches[x] = nx;
                            batches[y] = ny;
                            lengths[x] = lx;
                            lengths[y] = ly;
                            improved = true;
                            break 'swap;
                        }
                    }
                }
            }
        }
        if !improved {
            break;
        }
    }
    batches.retain(|b| !b.is_empty());
}

/// One customer order as the shop sees it: sku lines with the capacity each line uses.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerOrder {
    /// Order number.
    pub id: String,
    /// (sku, load) per line, e.g. load = number of items or kg.
    pub lines: Vec<(String, f64)>,
}

/// Plans the picking waves of one delivery slot: splits every order by the zone of its
/// products' locations and batches each zone with [`batch_by_savings`]. The returned pick
/// orders are what the batches' indices refer to.
pub fn plan_waves(
    layout: &WarehouseLayout,
    orders: &[CustomerOrder],
    capacity: f64,
) -> Result<(Vec<PickOrder>, Vec<Batch>), BatchingError> {
    let mut parts: Vec<PickOrder> = Vec::new();
    for o in orders {
        let mut zones: Vec<PickOrder> = Vec::new();
        for (sku, load) in &o.lines {
            let loc = layout
                .locations
                .get(sku)
                .ok_or_else(|| BatchingError::UnknownProduct {
                    order: o.id.clone(),
                    sku: sku.clone(),
                })?;
            let point = PickPoint {
                aisle: loc.aisle,
                position: loc.position,
            };
            match zones.iter_mut().find(|p| p.zone == loc.zone) {
                Some(p) => {
                    p.picks.push(point);
                    p.load += load;
                }
                None => zones.push(PickOrder {
                    id: o.id.clone(),
                    zone: loc.zone.clone(),
                    picks: vec![point],
                    load: *load,
                }),
            }
        }
        parts.extend(zones);
    }
    let batches = batch_by_savings(layout, &parts, capacity)?;
    Ok((parts, batches))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::layout::{Depot, Location};
    use super::*;

    fn layout() -> WarehouseLayout {
        WarehouseLayout::uniform(
            6,
            4.0,
            20.0,
            Depot {
                x: 0.0,
                offset: 1.0,
            },
        )
    }

    fn order(id: usize, zone: Option<&str>, picks: &[(usize, f64)], load: f64) -> PickOrder {
        PickOrder {
            id: id.to_string(),
            zone: zone.map(str::to_string),
            picks: picks
                .iter()
                .map(|&(aisle, position)| PickPoint { aisle, position })
                .collect(),
            load,
        }
    }

    fn assert_partition(batches: &[Batch], orders: &[PickOrder], capacity: f64) {
        let mut seen: Vec<usize> = batches.iter().flat_map(|b| b.orders.clone()).collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..orders.len()).collect::<Vec<_>>());
        for b in batches {
            assert!(b.load <= capacity + 1e-9, "batch over capacity: {b:?}");
            assert!(b.orders.iter().all(|&i| orders[i].zone == b.zone));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 40, failure_persistence: None, ..ProptestConfig::default() })]
        #[test]
        fn batches_never_exceed_capacity_and_cover_every_order_once(
            specs in prop::collection::vec(
                (0usize..6, 0.0f64..20.0, 1.0f64..6.0, 0u8..2), 1..25),
            capacity in 6.0f64..15.0,
        ) {
            let orders: Vec<PickOrder> = specs
                .iter()
                .enumerate()
                .map(|(i, &(a, p, load, z))| {
                    let zone = if z == 0 { "chilled" } else { "ambient" };
                    order(i, Some(zone), &[(a, p), ((a + 2) % 6, 20.0 - p)], load)
                })
                .collect();
            let fcfs = batch_fcfs(&layout(), &orders, capacity).unwrap();
            assert_partition(&fcfs, &orders, capacity);
            let ours = batch_by_savings(&layout(), &orders, capacity).unwrap();
            assert_partition(&ours, &orders, capacity);
        }
    }

    #[test]
    fn savings_batching_groups_orders_of_the_same_aisles() {
        // orders alternate between the far-left and the far-right aisle; FCFS pairs them
        // across the warehouse, savings pairs neighbours
        let orders: Vec<PickOrder> = (0..8)
            .map(|i| {
                let aisle = if i % 2 == 0 { 0 } else { 5 };
                order(i, None, &[(aisle, 15.0)], 1.0)
            })
            .collect();
        let total = |b: &[Batch]| b.iter().map(|b| b.route.length).sum::<f64>();
        let fcfs = batch_fcfs(&layout(), &orders, 2.0).unwrap();
        let ours = batch_by_savings(&layout(), &orders, 2.0).unwrap();
        assert!(
            total(&ours) < total(&fcfs),
            "{} vs {}",
            total(&ours),
            total(&fcfs)
        );
        for b in &ours {
            let aisles: Vec<usize> = b.orders.iter().map(|&i| orders[i].picks[0].aisle).collect();
            assert!(aisles.windows(2).all(|w| w[0] == w[1]), "{aisles:?}");
        }
    }

    #[test]
    fn oversized_orders_and_bad_capacity_are_rejected() {
        let orders = [order(7, None, &[(0, 1.0)], 9.0)];
        assert_eq!(
            batch_fcfs(&layout(), &orders, 5.0),
            Err(BatchingError::OrderTooLarge {
                order: "7".into(),
                load: 9.0,
                capacity: 5.0
            })
        );
        assert_eq!(
            batch_by_savings(&layout(), &orders, 0.0),
            Err(BatchingError::BadCapacity(0.0))
        );
    }

    #[test]
    fn waves_split_orders_by_zone_of_their_products() {
        let mut l = layout();
        for (sku, aisle, zone) in [
            ("spinach", 0, "leafy"),
            ("lettuce", 1, "leafy"),
            ("milk", 5, "chilled"),
        ] {
            l.locations.insert(
                sku.into(),
                Location {
                    aisle,
                    position: 5.0,
                    zone: Some(zone.into()),
                },
            );
        }
        let orders = [
            CustomerOrder {
                id: "A1".into(),
                lines: vec![("spinach".into(), 1.0), ("milk".into(), 2.0)],
            },
            CustomerOrder {
                id: "A2".into(),
                lines: vec![("lettuce".into(), 1.0)],
            },
        ];
        let (parts, batches) = plan_waves(&l, &orders, 10.0).unwrap();
        assert_eq!(parts.len(), 3);
        assert_eq!(batches.len(), 2);
        let leafy = batches
            .iter()
            .find(|b| b.zone.as_deref() == Some("leafy"))
            .unwrap();
        assert_eq!(leafy.orders.len(), 2);
        let bad = [CustomerOrder {
            id: "A3".into(),
            lines: vec![("durian".into(), 1.0)],
        }];
        assert_eq!(
            plan_waves(&l, &bad, 10.0).unwrap_err(),
            BatchingError::UnknownProduct {
                order: "A3".into(),
                sku: "durian".into()
            }
        );
    }
}
