//! Hybrid genetic search for the VRPTW (after Vidal et al. 2012, 2013 and PyVRP).
//!
//! Loop: pick two parents by binary tournament on biased fitness, recombine them with a
//! selective route exchange (SREX), repair by cheapest insertion, educate with the granular
//! local search under the current penalties, insert the child into the feasible or infeasible
//! sub-population; when a sub-population exceeds `mu + lambda`, drop clones and the worst
//! biased fitness (cost rank + diversity rank) down to `mu`. Penalties adapt so that about
//! `target_feasible` of the children are feasible. Restart after `restart_after` iterations
//! without improvement, keeping the best solution.

mod ls;

use rand::Rng;
use rand::seq::SliceRandom;

use self::ls::{Data, LocalSearch, Penalties};
use super::Instance;

/// Feasibility tolerance on total time warp (solver side; the checker allows 1e-6).
const TW_EPS: f64 = 1e-7;

/// Search parameters (defaults follow HGS-CVRP / PyVRP).
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// Minimum sub-population size.
    pub mu: usize,
    /// Generation size: children added before survivor selection.
    pub lambda: usize,
    /// Elite individuals protected by the biased fitness.
    pub nb_elite: usize,
    /// Closest individuals averaged for the diversity contribution.
    pub nb_close: usize,
    /// Granular neighbourhood size.
    pub granular: usize,
    /// Target fraction of feasible children for penalty adaptation.
    pub target_feasible: f64,
    /// Probability of repairing an infeasible child with boosted penalties.
    pub repair_probability: f64,
    /// Iterations without improvement before a restart.
    pub restart_after: u64,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            mu: 25,
            lambda: 40,
            nb_elite: 4,
            nb_close: 5,
            granular: 25,
            target_feasible: 0.43,
            repair_probability: 0.5,
            restart_after: 20_000,
        }
    }
}

/// When to stop: after `max_iterations` genetic iterations (time-independent, repeatable)
/// and/or when `stop` returns true (e.g. a deadline the caller checks). With neither, the
/// search stops after the initial population.
#[derive(Default)]
pub struct Budget<'a> {
    /// Limit on genetic iterations (children).
    pub max_iterations: Option<u64>,
    /// Polled between iterations; `true` ends the search.
    pub stop: Option<&'a dyn Fn() -> bool>,
}

impl Budget<'_> {
    fn exhausted(&self, iteration: u64) -> bool {
        match (self.max_iterations, self.stop) {
            (None, None) => true,
            (max, stop) => max.is_some_and(|m| iteration >= m) || stop.is_some_and(|f| f()),
        }
    }
}

/// The best solution found.
#[derive(Debug, Clone, PartialEq)]
pub struct Solution {
    /// Routes of customer indices (depot implicit), non-empty.
    pub routes: Vec<Vec<usize>>,
    /// Total distance.
    pub distance: f64,
    /// Objective: distance + fixed costs + weighted priority term (+ penalties if infeasible).
    pub cost: f64,
    /// Whether the solver considers it feasible (verify with [`super::check`]).
    pub feasible: bool,
    /// Genetic iterations run.
    pub iterations: u64,
}

#[derive(Debug, Clone)]
struct Indiv {
    routes: Vec<Vec<usize>>,
    /// Distance + fixed + priority term.
    base: f64,
    distance: f64,
    excess: f64,
    tw: f64,
    succ: Vec<u32>,
    pred: Vec<u32>,
}

impl Indiv {
    fn new(data: &Data, routes: Vec<Vec<usize>>) -> Self {
        let n = data.n;
        let (mut base, mut distance, mut excess, mut tw) = (0.0, 0.0, 0.0, 0.0);
        let mut succ = vec![0u32; n];
        let mut pred = vec![0u32; n];
        let inst = data.inst;
        let mut loads = Vec::with_capacity(routes.len());
        for r in &routes {
            let s = data.route_seg(r);
            distance += s.dist;
            base += s.dist + inst.fixed_cost + inst.priority_weight * s.pc;
            loads.push(s.load);
            tw += s.tw;
            let mut prev = 0usize;
            for &c in r {
                pred[c] = prev as u32;
                if prev != 0 {
                    succ[prev] = c as u32;
                }
                prev = c;
            }
            if prev != 0 {
                succ[prev] = 0;
            }
        }
        excess += inst.capacity_excess(&loads) as f64;
        Self {
            routes,
            base,
            distance,
            excess,
            tw,
            succ,
            pred,
        }
    }
    fn feasible(&self) -> bool {
        self.excess == 0.0 && self.tw <= TW_EPS
    }
    fn cost(&self, pen: &Penalties) -> f64 {
        self.base + pen.load * self.excess + pen.tw * self.tw
    }
    /// Broken-pairs distance in [0, 1].
    fn distance_to(&self, o: &Indiv) -> f64 {
        let n = self.succ.len();
        let mut diff = 0usize;
        for j in 1..n {
            if self.succ[j] != o.succ[j] && self.succ[j] != o.pred[j] {
                diff += 1;
            }
            if self.pred[j] == 0 && o.pred[j] != 0 && o.succ[j] != 0 {
                diff += 1;
            }
        }
        diff as f64 / (n.max(2) - 1) as f64
    }
}

#[derive(Default)]
struct SubPop {
    ind: Vec<Indiv>,
    /// Pairwise broken-pairs distances.
    dist: Vec<Vec<f64>>,
    fitness: Vec<f64>,
}

impl SubPop {
    fn add(&mut self, x: Indiv) {
        let row: Vec<f64> = self.ind.iter().map(|o| x.distance_to(o)).collect();
        for (k, d) in row.iter().enumerate() {
            self.dist[k].push(*d);
        }
        let mut row = row;
        row.push(0.0);
        self.dist.push(row);
        self.ind.push(x);
    }

    fn remove(&mut self, k: usize) {
        self.ind.swap_remove(k);
        self.dist.swap_remove(k);
        for row in &mut self.dist {
            row.swap_remove(k);
        }
    }

    fn diversity(&self, k: usize, nb_close: usize) -> f64 {
        let mut d: Vec<f64> = (0..self.ind.len())
            .filter(|&j| j != k)
            .map(|j| self.dist[k][j])
            .collect();
        if d.is_empty() {
            return 0.0;
        }
        d.sort_by(f64::total_cmp);
        let m = nb_close.min(d.len());
        d[..m].iter().sum::<f64>() / m as f64
    }

    fn update_fitness(&mut self, p: &Params, pen: &Penalties) {
        let n = self.ind.len();
        self.fitness = vec![0.0; n];
        if n <= 1 {
            return;
        }
        let mut by_cost: Vec<usize> = (0..n).collect();
        by_cost.sort_by(|&a, &b| self.ind[a].cost(pen).total_cmp(&self.ind[b].cost(pen)));
        let div: Vec<f64> = (0..n).map(|k| self.diversity(k, p.nb_close)).collect();
        let mut by_div: Vec<usize> = (0..n).collect();
        by_div.sort_by(|&a, &b| div[b].total_cmp(&div[a]));
        let mut div_rank = vec![0.0; n];
        for (r, &k) in by_div.iter().enumerate() {
            div_rank[k] = r as f64 / (n - 1) as f64;
        }
        let elite_factor = 1.0 - (p.nb_elite as f64 / n as f64).min(1.0);
        for (r, &k) in by_cost.iter().enumerate() {
            self.fitness[k] = r as f64 / (n - 1) as f64 + elite_factor * div_rank[k];
        }
    }

    fn survivors(&mut self, p: &Params, pen: &Penalties) {
        while self.ind.len() > p.mu {
            self.update_fitness(p, pen);
            let n = self.ind.len();
            let worst = (0..n)
                .max_by(|&a, &b| {
                    let clone_a = (0..n).any(|j| j != a && self.dist[a][j] < 1e-12);
                    let clone_b = (0..n).any(|j| j != b && self.dist[b][j] < 1e-12);
                    clone_a
                        .cmp(&clone_b)
                        .then(self.fitness[a].total_cmp(&self.fitness[b]))
                })
                .unwrap_or(0);
            self.remove(worst);
        }
    }
}

struct Search<'a, 'b, R: Rng> {
    data: &'b Data<'a>,
    params: &'b Params,
    rng: &'b mut R,
    pen: Penalties,
    feas: SubPop,
    infeas: SubPop,
    best: Option<Indiv>,
    best_any: Option<Indiv>,
    load_ok: Vec<bool>,
    tw_ok: Vec<bool>,
}

impl<'a, 'b, R: Rng> Search<'a, 'b, R> {
    fn random_routes(&mut self) -> Vec<Vec<usize>> {
        let inst = self.data.inst;
        let mut clients: Vec<usize> = (1..self.data.n).collect();
        clients.shuffle(self.rng);
        let mut routes: Vec<Vec<usize>> = vec![Vec::new()];
        let mut load = 0;
        for c in clients {
            let q = inst.stops[c].demand;
            if load + q > inst.capacity && !routes.last().is_some_and(Vec::is_empty) {
                if routes.len() < inst.fleet {
                    routes.push(Vec::new());
                    load = 0;
                } else {
                    // Fleet exhausted: overload a random route; the penalties will sort it out.
                    let k = self.rng.random_range(0..routes.len());
                    routes[k].push(c);
                    continue;
                }
            }
            load += q;
            if let Some(r) = routes.last_mut() {
                r.push(c);
            }
        }
        routes
    }

    /// Selective route exchange: replace routes of `a` around a random customer by the routes
    /// of `b` around it; missing customers are reinserted by the caller.
    fn srex(&mut self, a: &Indiv, b: &Indiv) -> (Vec<Vec<usize>>, Vec<usize>) {
        let n = self.data.n;
        let route_of = |x: &Indiv| {
            let mut ro = vec![usize::MAX; n];
            for (k, r) in x.routes.iter().enumerate() {
                for &c in r {
                    ro[c] = k;
                }
            }
            ro
        };
        let (ra, rb) = (route_of(a), route_of(b));
        let max_move = a.routes.len().min(b.routes.len()).max(1);
        let n_move = self.rng.random_range(1..=max_move);
        let seed = self.rng.random_range(1..n);
        let pick = |ro: &[usize]| {
            let mut chosen: Vec<usize> = Vec::new();
            for c in std::iter::once(seed as u32).chain(self.data.neigh[seed].iter().copied()) {
                let r = ro[c as usize];
                if r != usize::MAX && !chosen.contains(&r) {
                    chosen.push(r);
                    if chosen.len() == n_move {
                        break;
                    }
                }
            }
            chosen
        };
        let (sa, sb) = (pick(&ra), pick(&rb));
        let mut in_b = vec![false; n];
        for &r in &sb {
            for &c in &b.routes[r] {
                in_b[c] = true;
            }
        }
        let mut routes: Vec<Vec<usize>> = Vec::new();
        let mut kept = vec![false; n];
        for (k, r) in a.routes.iter().enumerate() {
            if !sa.contains(&k) {
                let r: Vec<usize> = r.iter().copied().filter(|&c| !in_b[c]).collect();
                for &c in &r {
                    kept[c] = true;
                }
                routes.push(r);
            }
        }
        for &r in &sb {
            routes.push(b.routes[r].clone());
        }
        let missing: Vec<usize> = (1..n).filter(|&c| !kept[c] && !in_b[c]).collect();
        routes.retain(|r| !r.is_empty());
        (routes, missing)
    }

    fn tournament(&mut self) -> Option<Indiv> {
        let nf = self.feas.ind.len();
        let total = nf + self.infeas.ind.len();
        if total == 0 {
            return None;
        }
        let pick = |s: &mut Self| {
            let k = s.rng.random_range(0..total);
            if k < nf {
                (s.feas.fitness[k], k, true)
            } else {
                (s.infeas.fitness[k - nf], k - nf, false)
            }
        };
        let x = pick(self);
        let y = pick(self);
        let (_, k, f) = if x.0 <= y.0 { x } else { y };
        Some(if f {
            self.feas.ind[k].clone()
        } else {
            self.infeas.ind[k].clone()
        })
    }

    fn add(&mut self, x: Indiv) -> bool {
        let mut improved = false;
        if self
            .best_any
            .as_ref()
            .is_none_or(|b| x.cost(&self.pen) < b.cost(&self.pen))
        {
            self.best_any = Some(x.clone());
        }
        if x.feasible() {
            if self.best.as_ref().is_none_or(|b| x.base < b.base - 1e-9) {
                self.best = Some(x.clone());
                improved = true;
            }
            self.feas.add(x);
            if self.feas.ind.len() > self.params.mu + self.params.lambda {
                self.feas.survivors(self.params, &self.pen);
            }
            self.feas.update_fitness(self.params, &self.pen);
        } else {
            self.infeas.add(x);
            if self.infeas.ind.len() > self.params.mu + self.params.lambda {
                self.infeas.survivors(self.params, &self.pen);
            }
            self.infeas.update_fitness(self.params, &self.pen);
        }
        improved
    }

    /// Educates `routes` (+ inserts `missing`), adds the result, repairs with some probability.
    fn educate_and_add(
        &mut self,
        ls: &mut LocalSearch,
        routes: &[Vec<usize>],
        missing: &[usize],
    ) -> bool {
        ls.load(routes, self.pen);
        ls.insert(missing, self.rng);
        ls.run(self.rng, self.pen);
        let x = Indiv::new(self.data, ls.export());
        self.load_ok.push(x.excess == 0.0);
        self.tw_ok.push(x.tw <= TW_EPS);
        let feasible = x.feasible();
        let mut improved = self.add(x);
        if !feasible && self.rng.random_bool(self.params.repair_probability) {
            let boosted = Penalties {
                load: self.pen.load * 12.0,
                tw: self.pen.tw * 12.0,
            };
            ls.run(self.rng, boosted);
            let y = Indiv::new(self.data, ls.export());
            if y.feasible() {
                improved |= self.add(y);
            }
        }
        improved
    }

    fn adapt_penalties(&mut self) {
        let target = self.params.target_feasible;
        let adapt = |p: f64, ok: &[bool]| {
            if ok.is_empty() {
                return p;
            }
            let frac = ok.iter().filter(|&&b| b).count() as f64 / ok.len() as f64;
            if frac < target - 0.05 {
                (p * 1.25).min(100_000.0)
            } else if frac > target + 0.05 {
                (p * 0.85).max(0.01)
            } else {
                p
            }
        };
        self.pen.load = adapt(self.pen.load, &self.load_ok);
        self.pen.tw = adapt(self.pen.tw, &self.tw_ok);
        self.load_ok.clear();
        self.tw_ok.clear();
        self.infeas.update_fitness(self.params, &self.pen);
    }
}

/// Solves `inst` with hybrid genetic search until `budget` is exhausted (at least the initial
/// population is built; it stops early when `budget.stop` fires during construction).
pub fn solve(inst: &Instance, params: &Params, budget: &Budget, rng: &mut impl Rng) -> Solution {
    let data = Data::new(inst, params.granular);
    let clients = inst.clients();
    if clients == 0 {
        return Solution {
            routes: Vec::new(),
            distance: 0.0,
            cost: 0.0,
            feasible: true,
            iterations: 0,
        };
    }
    let max_d = data.dist.iter().copied().fold(0.0, f64::max);
    let max_q = inst
        .stops
        .iter()
        .map(|s| s.demand)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let pen = Penalties {
        load: (max_d / max_q).max(0.01),
        tw: 1.0,
    };
    let mut search = Search {
        data: &data,
        params,
        rng,
        pen,
        feas: SubPop::default(),
        infeas: SubPop::default(),
        best: None,
        best_any: None,
        load_ok: Vec::new(),
        tw_ok: Vec::new(),
    };
    let mut ls = LocalSearch::new(&data);
    let mut iterations = 0u64;
    let mut last_improvement = 0u64;
    'outer: loop {
        // (Re)build the initial population.
        for k in 0..params.mu {
            if k > 0 && search.best_any.is_some() && budget.stop.is_some_and(|f| f()) {
                break 'outer;
            }
            let routes = search.random_routes();
            search.educate_and_add(&mut ls, &routes, &[]);
            if search.load_ok.len() >= 25 {
                search.adapt_penalties();
            }
        }
        loop {
            if budget.exhausted(iterations) {
                break 'outer;
            }
            iterations += 1;
            let (Some(a), Some(b)) = (search.tournament(), search.tournament()) else {
                break 'outer;
            };
            let (routes, missing) = search.srex(&a, &b);
            if search.educate_and_add(&mut ls, &routes, &missing) {
                last_improvement = iterations;
            }
            if search.load_ok.len() >= 50 {
                search.adapt_penalties();
            }
            if iterations - last_improvement > params.restart_after {
                search.feas = SubPop::default();
                search.infeas = SubPop::default();
                last_improvement = iterations;
                continue 'outer;
            }
        }
    }
    let best = search.best.or(search.best_any);
    match best {
        Some(b) => {
            let feasible = b.feasible() && b.routes.len() <= inst.fleet;
            let cost = if b.feasible() {
                b.base
            } else {
                b.cost(&search.pen)
            };
            Solution {
                distance: b.distance,
                cost,
                feasible,
                routes: b.routes,
                iterations,
            }
        }
        None => Solution {
            routes: Vec::new(),
            distance: 0.0,
            cost: f64::INFINITY,
            feasible: false,
            iterations,
        },
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::SmallRng;
    use rand::seq::SliceRandom;

    use super::*;
    use crate::fulfillment::routing::{Stop, check};

    /// Time warp from segment concatenation is zero exactly when the simulation finds no late
    /// arrival, in every order of concatenation.
    #[test]
    fn segment_concatenation_agrees_with_simulation() {
        let mut rng = SmallRng::seed_from_u64(5);
        let n = 30;
        let pts: Vec<(f64, f64)> = (0..=n)
            .map(|_| (rng.random_range(0.0..50.0), rng.random_range(0.0..50.0)))
            .collect();
        let mut stops = vec![Stop {
            demand: 0,
            ready: 0.0,
            due: 300.0,
            service: 0.0,
            priority: 0.0,
        }];
        for _ in 0..n {
            let ready = rng.random_range(0.0..200.0);
            stops.push(Stop {
                demand: 1,
                ready,
                due: ready + rng.random_range(10.0..60.0),
                service: 3.0,
                priority: 0.0,
            });
        }
        let inst = Instance::new(
            "seg",
            stops,
            100,
            30,
            &super::super::EuclideanMatrix::new(pts),
        )
        .unwrap();
        let data = Data::new(&inst, 10);
        let mut agree_feasible = 0;
        for _ in 0..3000 {
            let mut cl: Vec<usize> = (1..=n).collect();
            cl.shuffle(&mut rng);
            cl.truncate(rng.random_range(1..6));
            let s = data.route_seg(&cl);
            // Build the same route by merging two halves.
            let k = rng.random_range(0..=cl.len());
            let mut left = data.node[0];
            for &c in &cl[..k] {
                left = data.merge(&left, &data.node[c]);
            }
            let mut right = data.node[0];
            for &c in cl[k..].iter().rev() {
                right = data.merge(&data.node[c], &right);
            }
            let s2 = data.merge(&left, &right);
            assert!((s.tw - s2.tw).abs() < 1e-9 && (s.dist - s2.dist).abs() < 1e-9);
            let rep = check(&inst, std::slice::from_ref(&cl));
            let on_time = !rep.violations.iter().any(|v| {
                matches!(
                    v,
                    crate::fulfillment::routing::Violation::Late { .. }
                        | crate::fulfillment::routing::Violation::LateReturn { .. }
                )
            });
            assert_eq!(
                s.tw <= TW_EPS,
                on_time,
                "{cl:?} tw {} {:?}",
                s.tw,
                rep.violations
            );
            if on_time {
                agree_feasible += 1;
            }
        }
        assert!(agree_feasible > 50);
    }
}
