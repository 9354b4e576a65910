//! An independent solution checker: simulates every route from scratch, sharing no code with
//! the solver's incremental evaluation.

use super::{Instance, TravelMatrix};

/// Absolute slack allowed on time-window and depot-return comparisons (floating-point noise).
const EPS: f64 = 1e-6;

/// One broken rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Violation {
    /// More non-empty routes than vehicles.
    Fleet { used: usize, fleet: usize },
    /// A route carries more than the capacity.
    Capacity {
        route: usize,
        load: i64,
        capacity: i64,
    },
    /// Service at a customer would start after its due time.
    Late {
        route: usize,
        customer: usize,
        start: f64,
        due: f64,
    },
    /// The vehicle returns to the depot after it closes.
    LateReturn {
        route: usize,
        arrival: f64,
        due: f64,
    },
    /// A customer is in no route.
    Missing { customer: usize },
    /// A customer appears more than once.
    Duplicate { customer: usize },
    /// A route refers to the depot or to an index that is not a customer.
    UnknownStop { route: usize, stop: usize },
}

/// What the checker found.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckReport {
    /// Total distance, recomputed.
    pub distance: f64,
    /// Non-empty routes.
    pub vehicles: usize,
    /// Every violation found (empty: feasible).
    pub violations: Vec<Violation>,
}

impl CheckReport {
    /// No violation.
    pub fn is_feasible(&self) -> bool {
        self.violations.is_empty()
    }
}

/// Checks routes (customer indices, depot implicit at both ends) against every rule.
pub fn check(inst: &Instance, routes: &[Vec<usize>]) -> CheckReport {
    let n = inst.stops.len();
    let mut seen = vec![0u32; n];
    let mut violations = Vec::new();
    let mut distance = 0.0;
    let mut vehicles = 0;
    let depot = inst.stops[0];
    let mut loads = vec![0i64; routes.len()];
    for (ri, route) in routes.iter().enumerate() {
        if route.is_empty() {
            continue;
        }
        vehicles += 1;
        let mut t = depot.ready;
        let mut prev = 0usize;
        let mut load = 0i64;
        for &c in route {
            if c == 0 || c >= n {
                violations.push(Violation::UnknownStop { route: ri, stop: c });
                continue;
            }
            seen[c] += 1;
            let s = inst.stops[c];
            load += s.demand;
            distance += inst.matrix.distance(prev, c);
            let arrival = t + inst.stops[prev].service + inst.matrix.duration(prev, c);
            let start = arrival.max(s.ready);
            if start > s.due + EPS {
                violations.push(Violation::Late {
                    route: ri,
                    customer: c,
                    start,
                    due: s.due,
                });
            }
            t = start;
            prev = c;
        }
        distance += inst.matrix.distance(prev, 0);
        let back = t + inst.stops[prev].service + inst.matrix.duration(prev, 0);
        if back > depot.due + EPS {
            violations.push(Violation::LateReturn {
                route: ri,
                arrival: back,
                due: depot.due,
            });
        }
        loads[ri] = load;
    }
    // Capacity per route: on a mixed fleet the heaviest route takes the largest vehicle.
    let rank = inst.rank_routes(&loads);
    for (ri, (&load, &r)) in loads.iter().zip(&rank).enumerate() {
        let capacity = inst.capacity_of_rank(r);
        if load > capacity {
            violations.push(Violation::Capacity {
                route: ri,
                load,
                capacity,
            });
        }
    }
    if vehicles > inst.fleet {
        violations.push(Violation::Fleet {
            used: vehicles,
            fleet: inst.fleet,
        });
    }
    for (c, &k) in seen.iter().enumerate().skip(1) {
        match k {
            0 => violations.push(Violation::Missing { customer: c }),
            1 => {}
            _ => violations.push(Violation::Duplicate { customer: c }),
        }
    }
    CheckReport {
        distance,
        vehicles,
        violations,
    }
}
