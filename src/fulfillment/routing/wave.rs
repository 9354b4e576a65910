//! A delivery wave as a routing problem: packed orders become stops, couriers the fleet, and
//! the solver's routes become one plan per courier with planned ETAs. Also the two small rules
//! dispatch lives by: how many bags an order fills, and when a customer must hear that their
//! order is late.
//!
//! Pure: times are seconds on a clock the caller chooses (dispatch uses "seconds after now"),
//! positions are latitude/longitude, and the RNG is seeded from the parameters.

use rand::SeedableRng;
use rand::rngs::SmallRng;

use super::eta::{EtaStop, etas};
use super::{Budget, HaversineMatrix, Instance, LatLon, Params, Stop, TravelMatrix, solve};
use crate::domain::{Quantity, Unit};

/// Points of one bag: 2.5 kg of weighed produce, 6 pieces or bunches, or 3 boxes or bags.
const BAG_POINTS: i64 = 60;

/// The bags an order fills (what a courier carries and what the courier capacity counts).
///
/// Rule: weighed goods take 60 points per 2.5 kg (rounded up to the point), pieces and bunches
/// 10 points each, boxes and bags 20 points each; an order fills `ceil(points / 60)` bags and
/// at least one. So 2 jin of tomatoes and a box of eggs fit in one bag, 10 jin of rice fill two.
pub fn bags_for(quantities: &[Quantity]) -> i64 {
    let points: i64 = quantities
        .iter()
        .map(|q| match q.unit() {
            Unit::Piece | Unit::Bunch => ceil_div(q.milli(), 1000) * 10,
            Unit::Box | Unit::Bag => ceil_div(q.milli(), 1000) * 20,
            _ => match q.convert_to(Unit::G) {
                // grams * 60 / 2500 points, rounded up.
                Ok(g) => ceil_div(ceil_div(g.milli(), 1000) * 3, 125),
                Err(_) => BAG_POINTS,
            },
        })
        .sum();
    ceil_div(points, BAG_POINTS).max(1)
}

/// `ceil(a / b)` for `a >= 0`, `b > 0` (quantities are positive).
fn ceil_div(a: i64, b: i64) -> i64 {
    (a.max(0) + b - 1) / b
}

/// When the customer must be told of a new ETA: it is later than the one last told by more
/// than `threshold` seconds, or it has just moved past the end of the promised window by more
/// than `threshold` (a promise already known to be late is not repeated for small changes).
/// An earlier ETA is never an alert.
pub fn needs_delay_alert(eta: f64, told: f64, window_end: f64, threshold: f64) -> bool {
    let later_than_told = eta - told > threshold;
    let newly_past_window = eta > window_end + threshold && told <= window_end + threshold;
    later_than_told || newly_past_window
}

/// One order to deliver.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WaveStop {
    pub at: LatLon,
    pub bags: i64,
    /// Window start and end (seconds on the caller's clock).
    pub ready: f64,
    pub due: f64,
    /// Weight of serving it early (top-tier members > 0).
    pub priority: f64,
}

/// One available courier.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WaveCourier {
    pub capacity_bags: i64,
    /// End of the shift (seconds on the caller's clock): routes must be back by then.
    pub shift_end: f64,
}

/// Tuning of a wave.
#[derive(Debug, Clone, PartialEq)]
pub struct WaveParams {
    pub depot: LatLon,
    /// When couriers leave the depot.
    pub now: f64,
    pub detour: f64,
    pub speed_mps: f64,
    /// Seconds at each door.
    pub service_secs: f64,
    /// Genetic iterations (a fixed budget: the same wave gives the same routes).
    pub iterations: u64,
    pub seed: u64,
    /// Distance (metres) worth one second earlier for a stop of priority 1.
    pub priority_weight: f64,
}

/// Why a stop is not on any route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unserved {
    /// No courier is available for the wave.
    NoCourier,
    /// More bags than the largest courier carries, or no room left in the fleet.
    OverCapacity,
}

impl Unserved {
    pub fn code(self) -> &'static str {
        match self {
            Unserved::NoCourier => "no_courier",
            Unserved::OverCapacity => "over_capacity",
        }
    }
}

/// One courier's route.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedRoute {
    /// Index into the couriers passed in.
    pub courier: usize,
    /// Indices into the stops passed in, in visiting order, with the planned start of service.
    pub stops: Vec<(usize, f64)>,
    pub bags: i64,
    /// Metres, depot back to depot.
    pub distance_m: f64,
}

/// The plan of a wave.
#[derive(Debug, Clone, PartialEq)]
pub struct WavePlan {
    pub routes: Vec<PlannedRoute>,
    pub unserved: Vec<(usize, Unserved)>,
}

/// Plans a wave.
///
/// The couriers are a mixed fleet: the solver plans with every courier's own capacity (the
/// heaviest route goes to the largest courier, and so on), and routes are handed out the same
/// way. Should the solver still return a route heavier than its courier (a fleet too small
/// for the wave), that route gives up its last stops, which go to the cheapest place on a
/// route with room. Stops that still do not fit (fleet too small, a single order larger than
/// any courier) are reported, never dropped silently. Every route starts at the depot, where
/// the bags are, and must be back by the earliest shift end of the wave's couriers.
pub fn plan_wave(stops: &[WaveStop], couriers: &[WaveCourier], p: &WaveParams) -> WavePlan {
    let mut unserved = Vec::new();
    if couriers.is_empty() {
        return WavePlan {
            routes: vec![],
            unserved: (0..stops.len()).map(|i| (i, Unserved::NoCourier)).collect(),
        };
    }
    let max_cap = couriers.iter().map(|c| c.capacity_bags).max().unwrap_or(0);
    let mut plannable = Vec::new();
    for (i, s) in stops.iter().enumerate() {
        if s.bags > max_cap {
            unserved.push((i, Unserved::OverCapacity));
        } else {
            plannable.push(i);
        }
    }
    if plannable.is_empty() {
        return WavePlan {
            routes: vec![],
            unserved,
        };
    }
    let shift_end = couriers
        .iter()
        .map(|c| c.shift_end)
        .fold(f64::INFINITY, f64::min)
        .max(p.now);
    let mut points = vec![p.depot];
    points.extend(plannable.iter().map(|&i| stops[i].at));
    let matrix = HaversineMatrix::with(points, p.detour, p.speed_mps);
    let capacities: Vec<i64> = couriers.iter().map(|c| c.capacity_bags).collect();
    let solve = || -> Option<Vec<Vec<usize>>> {
        let mut inst_stops = vec![Stop {
            demand: 0,
            ready: p.now,
            due: shift_end,
            service: 0.0,
            priority: 0.0,
        }];
        inst_stops.extend(plannable.iter().map(|&i| {
            let s = stops[i];
            Stop {
                demand: s.bags,
                // A window already open (or past) starts now.
                ready: s.ready.max(p.now),
                due: s.due.max(s.ready.max(p.now)),
                service: p.service_secs,
                priority: s.priority,
            }
        }));
        let inst = Instance::new("wave", inst_stops, max_cap, couriers.len(), &matrix)
            .ok()?
            .with_vehicle_capacities(&capacities)
            .ok()?
            .with_priority_weight(p.priority_weight);
        let mut rng = SmallRng::seed_from_u64(p.seed);
        let budget = Budget {
            max_iterations: Some(p.iterations),
            stop: None,
        };
        Some(solve(&inst, &Params::default(), &budget, &mut rng).routes)
    };
    let routes = solve().unwrap_or_default();
    let assignment = assign(&route_loads(&routes, &plannable, stops), couriers);
    // Whatever still does not fit: give routes to couriers in order of load and capacity,
    // take stops off the end of a route until it fits, and put each stop taken off where
    // another courier has room (cheapest insertion by distance); the rest is unserved.
    let assignment =
        assignment.unwrap_or_else(|| greedy_assign(&routes, &plannable, stops, couriers));
    let mut by_courier: Vec<(usize, Vec<usize>, i64)> = Vec::new();
    let mut left_over: Vec<usize> = Vec::new();
    for (k, route) in routes.iter().enumerate() {
        let Some(courier) = assignment.get(k).copied().flatten() else {
            left_over.extend(route.iter().copied());
            continue;
        };
        let cap = couriers[courier].capacity_bags;
        let mut kept: Vec<usize> = Vec::new();
        let mut load = 0;
        for &c in route {
            let bags = stops[plannable[c - 1]].bags;
            if load + bags <= cap {
                load += bags;
                kept.push(c);
            } else {
                left_over.push(c);
            }
        }
        by_courier.push((courier, kept, load));
    }
    // Couriers the solver left idle can take left-over stops too.
    for c in 0..couriers.len() {
        if !by_courier.iter().any(|(k, _, _)| *k == c) {
            by_courier.push((c, Vec::new(), 0));
        }
    }
    for c in left_over {
        let bags = stops[plannable[c - 1]].bags;
        let mut best: Option<(f64, usize, usize)> = None;
        for (r, (courier, kept, load)) in by_courier.iter().enumerate() {
            if load + bags > couriers[*courier].capacity_bags {
                continue;
            }
            for pos in 0..=kept.len() {
                let before = if pos == 0 { 0 } else { kept[pos - 1] };
                let after = kept.get(pos).copied().unwrap_or(0);
                let delta = matrix.distance(before, c) + matrix.distance(c, after)
                    - matrix.distance(before, after);
                if best.is_none_or(|(d, _, _)| delta < d) {
                    best = Some((delta, r, pos));
                }
            }
        }
        match best {
            Some((_, r, pos)) => {
                by_courier[r].1.insert(pos, c);
                by_courier[r].2 += bags;
            }
            None => unserved.push((plannable[c - 1], Unserved::OverCapacity)),
        }
    }
    by_courier.sort_by_key(|(courier, _, _)| *courier);
    let mut planned = Vec::new();
    for (courier, kept, load) in by_courier {
        if kept.is_empty() {
            continue;
        }
        let eta_stops: Vec<EtaStop> = kept
            .iter()
            .map(|&c| {
                let s = stops[plannable[c - 1]];
                EtaStop {
                    location: c,
                    service: p.service_secs,
                    ready: s.ready,
                    due: s.due,
                }
            })
            .collect();
        let times = etas(&matrix, 0, p.now, &eta_stops);
        let mut distance_m = 0.0;
        let mut prev = 0;
        for &c in kept.iter().chain(std::iter::once(&0)) {
            distance_m += matrix.distance(prev, c);
            prev = c;
        }
        planned.push(PlannedRoute {
            courier,
            stops: kept
                .iter()
                .zip(&times)
                .map(|(&c, t)| (plannable[c - 1], t.start))
                .collect(),
            bags: load,
            distance_m,
        });
    }
    unserved.sort_by_key(|(i, _)| *i);
    WavePlan {
        routes: planned,
        unserved,
    }
}

fn route_loads(routes: &[Vec<usize>], plannable: &[usize], stops: &[WaveStop]) -> Vec<i64> {
    routes
        .iter()
        .map(|r| r.iter().map(|&c| stops[plannable[c - 1]].bags).sum())
        .collect()
}

/// Largest load to largest capacity; `None` unless every route fits its courier.
fn assign(loads: &[i64], couriers: &[WaveCourier]) -> Option<Vec<Option<usize>>> {
    if loads.len() > couriers.len() {
        return None;
    }
    let out = pair_by_size(loads, couriers);
    out.iter()
        .enumerate()
        .all(|(k, c)| c.is_some_and(|c| loads[k] <= couriers[c].capacity_bags))
        .then_some(out)
}

fn greedy_assign(
    routes: &[Vec<usize>],
    plannable: &[usize],
    stops: &[WaveStop],
    couriers: &[WaveCourier],
) -> Vec<Option<usize>> {
    pair_by_size(&route_loads(routes, plannable, stops), couriers)
}

/// Route `k` gets the courier of the same rank (by load and by capacity; ties by index, so
/// the pairing is deterministic); routes beyond the fleet get none.
fn pair_by_size(loads: &[i64], couriers: &[WaveCourier]) -> Vec<Option<usize>> {
    let mut by_load: Vec<usize> = (0..loads.len()).collect();
    by_load.sort_by_key(|&k| (std::cmp::Reverse(loads[k]), k));
    let mut by_cap: Vec<usize> = (0..couriers.len()).collect();
    by_cap.sort_by_key(|&c| (std::cmp::Reverse(couriers[c].capacity_bags), c));
    let mut out = vec![None; loads.len()];
    for (rank, &k) in by_load.iter().enumerate() {
        out[k] = by_cap.get(rank).copied();
    }
    out
}

/// Every route fits its courier and counts its bags right, and no courier has two routes
/// (tests).
#[cfg(test)]
fn checked(stops: &[WaveStop], plan: &WavePlan, couriers: &[WaveCourier]) -> bool {
    let mut used = vec![false; couriers.len()];
    plan.routes.iter().all(|r| {
        let first_use = !std::mem::replace(&mut used[r.courier], true);
        first_use
            && r.bags <= couriers[r.courier].capacity_bags
            && r.bags == r.stops.iter().map(|(i, _)| stops[*i].bags).sum::<i64>()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(amount: &str, unit: Unit) -> Quantity {
        Quantity::parse(amount, unit).unwrap()
    }

    #[test]
    fn bags_rule() {
        // 2 jin tomatoes (1 kg = 24 points) + a box of eggs (20): one bag.
        assert_eq!(bags_for(&[q("2", Unit::Jin), q("1", Unit::Box)]), 1);
        // 10 jin of rice = 5 kg = 120 points: two bags.
        assert_eq!(bags_for(&[q("10", Unit::Jin)]), 2);
        // 7 pieces = 70 points: two bags.
        assert_eq!(bags_for(&[q("7", Unit::Piece)]), 2);
        // Tiny orders still take a bag.
        assert_eq!(bags_for(&[q("1", Unit::Liang)]), 1);
        assert_eq!(bags_for(&[]), 1);
        assert_eq!(bags_for(&[q("3", Unit::Box)]), 1);
        assert_eq!(bags_for(&[q("4", Unit::Box)]), 2);
    }

    #[test]
    fn delay_alert_only_on_material_changes() {
        let (end, th) = (3600.0, 600.0);
        // On time, small drift: nothing.
        assert!(!needs_delay_alert(3000.0, 2900.0, end, th));
        // Moved later by more than the threshold: alert, even inside the window.
        assert!(needs_delay_alert(2000.0, 1000.0, end, th));
        // Just past the window end by more than the threshold: alert.
        assert!(needs_delay_alert(4300.0, 3800.0, end, th));
        // Past the window by less than the threshold: not yet.
        assert!(!needs_delay_alert(4100.0, 3800.0, end, th));
        // Already told a late time; a little later still is not news.
        assert!(!needs_delay_alert(4500.0, 4300.0, end, th));
        // Earlier is never an alert.
        assert!(!needs_delay_alert(1000.0, 5000.0, end, th));
    }

    fn ring(n: usize, bags: i64) -> Vec<WaveStop> {
        (0..n)
            .map(|i| {
                let a = i as f64 / n as f64 * std::f64::consts::TAU;
                WaveStop {
                    at: LatLon {
                        lat: 31.2304 + 0.02 * a.sin(),
                        lon: 121.4737 + 0.02 * a.cos(),
                    },
                    bags,
                    ready: 3600.0,
                    due: 3.0 * 3600.0,
                    priority: 0.0,
                }
            })
            .collect()
    }

    fn params() -> WaveParams {
        WaveParams {
            depot: LatLon {
                lat: 31.2304,
                lon: 121.4737,
            },
            now: 0.0,
            detour: 1.3,
            speed_mps: 5.0,
            service_secs: 180.0,
            iterations: 200,
            seed: 1,
            priority_weight: 0.0,
        }
    }

    #[test]
    fn a_wave_is_split_across_couriers_by_capacity_and_is_repeatable() {
        let stops = ring(12, 2);
        let couriers = [
            WaveCourier {
                capacity_bags: 10,
                shift_end: 10.0 * 3600.0,
            },
            WaveCourier {
                capacity_bags: 16,
                shift_end: 10.0 * 3600.0,
            },
        ];
        let plan = plan_wave(&stops, &couriers, &params());
        assert!(plan.unserved.is_empty(), "{plan:?}");
        let served: usize = plan.routes.iter().map(|r| r.stops.len()).sum();
        assert_eq!(served, 12);
        assert!(checked(&stops, &plan, &couriers));
        for r in &plan.routes {
            // Service starts in the window and in visiting order.
            let mut last = 0.0;
            for &(_, t) in &r.stops {
                assert!(t >= 3600.0 && t >= last);
                last = t;
            }
        }
        assert_eq!(plan, plan_wave(&stops, &couriers, &params()));
    }

    /// A van and an e-bike: the van must carry most of the wave. Planning at one capacity
    /// (the old fallback) could not serve it with two couriers.
    #[test]
    fn a_mixed_fleet_gets_routes_that_fit_each_courier() {
        let stops = ring(12, 3);
        let couriers = [
            WaveCourier {
                capacity_bags: 6,
                shift_end: 10.0 * 3600.0,
            },
            WaveCourier {
                capacity_bags: 30,
                shift_end: 10.0 * 3600.0,
            },
        ];
        let plan = plan_wave(&stops, &couriers, &params());
        assert!(plan.unserved.is_empty(), "{plan:?}");
        assert!(checked(&stops, &plan, &couriers));
        let van = plan
            .routes
            .iter()
            .find(|r| r.courier == 1)
            .map_or(0, |r| r.bags);
        assert_eq!(van, 30, "{plan:?}");
    }

    #[test]
    fn what_does_not_fit_is_reported() {
        let mut stops = ring(6, 3);
        stops[0].bags = 40;
        let couriers = [WaveCourier {
            capacity_bags: 9,
            shift_end: 10.0 * 3600.0,
        }];
        let plan = plan_wave(&stops, &couriers, &params());
        let served: usize = plan.routes.iter().map(|r| r.stops.len()).sum();
        // Three 3-bag stops fit the 9-bag courier; the 40-bag order and two more do not.
        assert_eq!(served, 3, "{plan:?}");
        assert_eq!(plan.unserved.len(), 3);
        assert!(plan.unserved.contains(&(0, Unserved::OverCapacity)));
        assert!(checked(&stops, &plan, &couriers));

        let none = plan_wave(&stops, &[], &params());
        assert!(none.routes.is_empty());
        assert!(none.unserved.iter().all(|(_, u)| *u == Unserved::NoCourier));
    }

    #[test]
    fn priority_members_come_earlier_when_it_costs_little() {
        // Two stops almost on the same spot; the priority one should be served first.
        let mut stops = ring(2, 1);
        stops[1].at = LatLon {
            lat: stops[0].at.lat + 0.0005,
            lon: stops[0].at.lon,
        };
        stops[0].ready = 0.0;
        stops[1].ready = 0.0;
        let couriers = [WaveCourier {
            capacity_bags: 10,
            shift_end: 10.0 * 3600.0,
        }];
        let mut p = params();
        for (prio, first) in [(0usize, 0usize), (1, 1)] {
            let mut s = stops.clone();
            s[prio].priority = 1.0;
            s[1 - prio].priority = 0.0;
            p.priority_weight = 5.0;
            let plan = plan_wave(&s, &couriers, &p);
            assert_eq!(plan.routes[0].stops[0].0, first, "{plan:?}");
        }
    }
}
