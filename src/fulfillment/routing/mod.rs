//! Courier routing: the vehicle routing problem with capacities and time windows (VRPTW).
//!
//! Pure: nothing here reads files, the clock or a global random generator. The caller builds an
//! [`Instance`] from stops and a [`TravelMatrix`], and passes a seeded RNG and a [`Budget`] (an
//! iteration limit and/or a stop check, e.g. a deadline the CLI owns) to [`solve`]. The same seed
//! and iteration limit give the same routes.
//!
//! The solver is a hybrid genetic search (Vidal et al. 2012/2013; the design of HGS-CVRP and
//! PyVRP): a population of solutions that may violate capacity and time windows at a penalty,
//! route-based crossover (SREX), a granular local search (relocate, or-opt, swap, 2-opt*,
//! intra-route 2-opt) with O(1) time-window evaluation by segment concatenation, and survivor
//! selection that rewards both cost and diversity. See `docs/routing.md`.
//!
//! Also here: an independent [`check`]er, the Solomon file parser, travel matrices (Euclidean,
//! haversine, road network with Dijkstra) and a pure ETA function.

mod check;
pub mod eta;
mod hgs;
mod matrix;
pub mod road;
mod solomon;
pub mod wave;

pub use check::{CheckReport, Violation, check};
pub use hgs::{Budget, Params, Solution, solve};
pub use matrix::{
    DenseMatrix, EARTH_RADIUS_M, EuclideanMatrix, HaversineMatrix, LatLon, TravelMatrix,
    haversine_m,
};
pub use solomon::{ParseError, SolomonFile, SolomonRow, parse_solomon};

/// Errors of the routing module.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RoutingError {
    /// The instance is inconsistent; every problem found is listed.
    #[error("invalid routing instance: {}", .0.join("; "))]
    InvalidInstance(Vec<String>),
    /// A Solomon file could not be parsed.
    #[error("bad Solomon file: {0}")]
    Parse(#[from] ParseError),
    /// A road-network file could not be parsed.
    #[error("bad road network file: {0}")]
    Road(#[from] road::RoadError),
}

/// One location of an instance: the depot (index 0) or a customer stop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stop {
    /// Units to deliver (bags); 0 for the depot.
    pub demand: i64,
    /// Earliest start of service (for the depot: when couriers may leave).
    pub ready: f64,
    /// Latest start of service (for the depot: when couriers must be back).
    pub due: f64,
    /// Time spent at the stop.
    pub service: f64,
    /// Weight of serving this stop early in its route (0 = no preference); see
    /// [`Instance::priority_weight`].
    pub priority: f64,
}

/// A VRPTW instance: depot at index 0, customers `1..=clients()`.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    /// Name for reports.
    pub name: String,
    /// Depot then customers.
    pub stops: Vec<Stop>,
    /// Capacity of every vehicle (of the largest, when [`Instance::vehicle_capacities`] is set).
    pub capacity: i64,
    /// Capacities of a mixed fleet, largest first (one per vehicle; `fleet` is its length);
    /// empty when every vehicle has `capacity`. Set with [`Instance::with_vehicle_capacities`].
    pub vehicle_capacities: Vec<i64>,
    /// Most vehicles that may be used.
    pub fleet: usize,
    /// Cost added per vehicle used (0: minimise distance only).
    pub fixed_cost: f64,
    /// Multiplier of the soft priority term: the sum over stops of `priority * elapsed`, where
    /// `elapsed` is the travel plus service time from leaving the depot to arriving at the stop
    /// (waiting excluded). 0 switches the term off.
    pub priority_weight: f64,
    /// Distances and travel times.
    pub matrix: DenseMatrix,
}

impl Instance {
    /// Validates and builds an instance; reports every problem at once.
    pub fn new(
        name: impl Into<String>,
        stops: Vec<Stop>,
        capacity: i64,
        fleet: usize,
        matrix: &impl TravelMatrix,
    ) -> Result<Self, RoutingError> {
        let mut problems = Vec::new();
        if stops.is_empty() {
            problems.push("no depot: stops must contain at least the depot at index 0".to_string());
        }
        if matrix.len() != stops.len() {
            problems.push(format!(
                "the travel matrix has {} locations but there are {} stops",
                matrix.len(),
                stops.len()
            ));
        }
        if fleet == 0 {
            problems.push("the fleet must have at least one vehicle".into());
        }
        if capacity < 0 {
            problems.push("capacity must not be negative".into());
        }
        for (i, s) in stops.iter().enumerate() {
            if s.demand < 0 {
                problems.push(format!("stop {i}: negative demand {}", s.demand));
            }
            if s.demand > capacity {
                problems.push(format!(
                    "stop {i}: demand {} exceeds vehicle capacity {capacity}",
                    s.demand
                ));
            }
            if !(s.ready.is_finite() && s.due.is_finite() && s.ready <= s.due) {
                problems.push(format!(
                    "stop {i}: bad time window [{}, {}]",
                    s.ready, s.due
                ));
            }
            if !(s.service.is_finite() && s.service >= 0.0) {
                problems.push(format!("stop {i}: bad service time {}", s.service));
            }
            if !(s.priority.is_finite() && s.priority >= 0.0) {
                problems.push(format!("stop {i}: priority must be finite and >= 0"));
            }
        }
        if problems.is_empty() {
            let n = stops.len();
            for i in 0..n {
                for j in 0..n {
                    let (d, t) = (matrix.distance(i, j), matrix.duration(i, j));
                    if !(d.is_finite() && d >= 0.0 && t.is_finite() && t >= 0.0) {
                        problems.push(format!(
                            "travel {i} -> {j}: bad distance {d} or duration {t}"
                        ));
                        break;
                    }
                }
            }
        }
        if !problems.is_empty() {
            return Err(RoutingError::InvalidInstance(problems));
        }
        Ok(Self {
            name: name.into(),
            stops,
            capacity,
            vehicle_capacities: Vec::new(),
            fleet,
            fixed_cost: 0.0,
            priority_weight: 0.0,
            matrix: DenseMatrix::from_matrix(matrix),
        })
    }

    /// Sets the cost per vehicle used.
    pub fn with_fixed_cost(mut self, cost: f64) -> Self {
        self.fixed_cost = if cost.is_finite() && cost > 0.0 {
            cost
        } else {
            0.0
        };
        self
    }

    /// A mixed fleet: one vehicle per entry with its own capacity (e-bikes and vans). Sets
    /// `fleet` to the number of vehicles and `capacity` to the largest. Routes are not tied to
    /// a vehicle: a set of routes fits when the heaviest route fits the largest vehicle, the
    /// second heaviest the second largest, and so on (pairing sorted loads with sorted
    /// capacities is optimal for any such test, and it minimises the total overload).
    pub fn with_vehicle_capacities(mut self, capacities: &[i64]) -> Result<Self, RoutingError> {
        let mut problems = Vec::new();
        if capacities.is_empty() {
            problems.push("the fleet must have at least one vehicle".to_string());
        }
        if capacities.iter().any(|&c| c < 0) {
            problems.push("capacity must not be negative".into());
        }
        let largest = capacities.iter().copied().max().unwrap_or(0);
        for (i, s) in self.stops.iter().enumerate() {
            if s.demand > largest {
                problems.push(format!(
                    "stop {i}: demand {} exceeds the largest vehicle capacity {largest}",
                    s.demand
                ));
            }
        }
        if !problems.is_empty() {
            return Err(RoutingError::InvalidInstance(problems));
        }
        let mut sorted = capacities.to_vec();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        self.fleet = sorted.len();
        self.capacity = largest;
        // An all-equal fleet is the ordinary instance (and keeps its exact search path).
        self.vehicle_capacities = if sorted.iter().all(|&c| c == largest) {
            Vec::new()
        } else {
            sorted
        };
        Ok(self)
    }

    /// Whether vehicles differ in capacity.
    pub fn mixed_fleet(&self) -> bool {
        !self.vehicle_capacities.is_empty()
    }

    /// Capacity of the `rank`-th largest vehicle; beyond the fleet the largest (such routes
    /// break the fleet limit, which is checked on its own).
    pub fn capacity_of_rank(&self, rank: usize) -> i64 {
        self.vehicle_capacities
            .get(rank)
            .copied()
            .unwrap_or(self.capacity)
    }

    /// The vehicle rank (index into the capacities, largest first) of every route with these
    /// loads: heaviest route to the largest vehicle; ties by route index.
    pub fn rank_routes(&self, loads: &[i64]) -> Vec<usize> {
        let mut order: Vec<usize> = (0..loads.len()).collect();
        order.sort_by_key(|&k| (std::cmp::Reverse(loads[k]), k));
        let mut rank = vec![0; loads.len()];
        for (r, &k) in order.iter().enumerate() {
            rank[k] = r;
        }
        rank
    }

    /// Total load above capacity of routes with these loads (sorted pairing on a mixed fleet).
    pub fn capacity_excess(&self, loads: &[i64]) -> i64 {
        if !self.mixed_fleet() {
            return loads.iter().map(|&l| (l - self.capacity).max(0)).sum();
        }
        let rank = self.rank_routes(loads);
        loads
            .iter()
            .zip(&rank)
            .map(|(&l, &r)| (l - self.capacity_of_rank(r)).max(0))
            .sum()
    }

    /// Sets the weight of the soft priority term.
    pub fn with_priority_weight(mut self, weight: f64) -> Self {
        self.priority_weight = if weight.is_finite() && weight > 0.0 {
            weight
        } else {
            0.0
        };
        self
    }

    /// Open routes: vehicles do not return to the depot (travel back costs nothing; the depot's
    /// `due` still bounds the last departure, e.g. the end of a courier's shift).
    pub fn with_open_routes(mut self) -> Self {
        self.matrix.make_free_to(0);
        self
    }

    /// Re-plans the remaining stops of one courier: location 0 of `matrix` is where the courier
    /// is now, `now` when they are free, `shift_end` when they must be done; `stops` are the
    /// remaining deliveries (matrix locations `1..`). Solve the result with [`solve`]; the single
    /// route is the new visiting order. Capacity is not binding (the bags are on board).
    pub fn replan_courier(
        name: impl Into<String>,
        now: f64,
        shift_end: f64,
        stops: &[Stop],
        matrix: &impl TravelMatrix,
    ) -> Result<Self, RoutingError> {
        let start = Stop {
            demand: 0,
            ready: now,
            due: shift_end.max(now),
            service: 0.0,
            priority: 0.0,
        };
        let all: Vec<Stop> = std::iter::once(start)
            .chain(stops.iter().copied())
            .collect();
        let load = stops.iter().map(|s| s.demand.max(0)).sum::<i64>();
        Ok(Self::new(name, all, load, 1, matrix)?.with_open_routes())
    }

    /// Number of customers (stops other than the depot).
    pub fn clients(&self) -> usize {
        self.stops.len().saturating_sub(1)
    }
}

#[cfg(test)]
mod tests;
