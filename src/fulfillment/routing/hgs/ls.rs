//! Granular local search with penalised capacity and time-window violations.
//!
//! Routes are evaluated by concatenating segment summaries ([`Seg`], Vidal et al. 2013): each
//! summary knows its distance, load, duration, time warp and the earliest/latest feasible start,
//! so a move's new route is the concatenation of a few cached prefixes/suffixes and single nodes
//! (O(1)); only intra-route moves fold their middle part node by node. Every move is described
//! as a list of [`Part`]s per changed route; the same description is used to evaluate the move
//! and to apply it, so evaluation and application cannot disagree.

use rand::Rng;
use rand::seq::SliceRandom;

use super::super::{Instance, TravelMatrix};

/// Improvements smaller than this are ignored (floating-point noise).
const IMPROVE_EPS: f64 = 1e-9;

/// Penalty weights for violated constraints.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Penalties {
    /// Per unit of load above capacity.
    pub load: f64,
    /// Per unit of time warp (lateness).
    pub tw: f64,
}

/// Summary of a sequence of visits (Vidal et al. 2013 time-window concatenation, plus a
/// priority-weighted elapsed-time sum).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Seg {
    pub first: u32,
    pub last: u32,
    pub dist: f64,
    /// Minimum duration including waiting and service.
    pub dur: f64,
    /// Total time warp (lateness) incurred inside.
    pub tw: f64,
    /// Earliest start of service at `first` that avoids unnecessary waiting.
    pub early: f64,
    /// Latest start at `first` without extra time warp.
    pub late: f64,
    pub load: i64,
    /// Sum of priority weights.
    pub pw: f64,
    /// Sum of priority * elapsed (travel + service, no waiting) from the start of the segment.
    pub pc: f64,
    /// Travel plus service time of the whole segment.
    pub el: f64,
}

/// Immutable problem data shared by the search.
pub(crate) struct Data<'a> {
    pub inst: &'a Instance,
    /// Locations including the depot.
    pub n: usize,
    pub dist: Vec<f64>,
    pub time: Vec<f64>,
    pub node: Vec<Seg>,
    /// Granular neighbours of each customer (customers only, closest first).
    pub neigh: Vec<Vec<u32>>,
}

impl<'a> Data<'a> {
    pub fn new(inst: &'a Instance, granular: usize) -> Self {
        let n = inst.stops.len();
        let mut dist = Vec::with_capacity(n * n);
        let mut time = Vec::with_capacity(n * n);
        for i in 0..n {
            for j in 0..n {
                dist.push(inst.matrix.distance(i, j));
                time.push(inst.matrix.duration(i, j));
            }
        }
        let node = inst
            .stops
            .iter()
            .enumerate()
            .map(|(i, s)| Seg {
                first: i as u32,
                last: i as u32,
                dist: 0.0,
                dur: s.service,
                tw: 0.0,
                early: s.ready,
                late: s.due,
                load: s.demand,
                pw: s.priority,
                pc: 0.0,
                el: s.service,
            })
            .collect();
        let mut data = Self {
            inst,
            n,
            dist,
            time,
            node,
            neigh: vec![Vec::new(); n],
        };
        data.neigh = data.granular_neighbours(granular);
        data
    }

    /// PyVRP-style proximity: distance plus weighted minimal waiting time and time warp when
    /// visiting one right after the other; the `k` closest, symmetrised.
    fn granular_neighbours(&self, k: usize) -> Vec<Vec<u32>> {
        let n = self.n;
        let st = &self.inst.stops;
        let prox = |i: usize, j: usize| {
            let t = self.t(i, j);
            let wait = (st[j].ready - t - st[i].service - st[i].due).max(0.0);
            let warp = (st[i].ready + st[i].service + t - st[j].due).max(0.0);
            self.d(i, j) + 0.2 * wait + warp
        };
        let mut lists = vec![Vec::new(); n];
        for (i, list) in lists.iter_mut().enumerate().skip(1) {
            let mut cand: Vec<(f64, usize)> = (1..n)
                .filter(|&j| j != i)
                .map(|j| (prox(i, j).min(prox(j, i)), j))
                .collect();
            cand.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            cand.truncate(k);
            *list = cand.into_iter().map(|(_, j)| j as u32).collect();
        }
        let mut sym = lists.clone();
        for (i, list) in lists.iter().enumerate().skip(1) {
            for &j in list {
                if !sym[j as usize].contains(&(i as u32)) {
                    sym[j as usize].push(i as u32);
                }
            }
        }
        sym
    }

    #[inline]
    pub fn d(&self, i: usize, j: usize) -> f64 {
        self.dist[i * self.n + j]
    }
    #[inline]
    pub fn t(&self, i: usize, j: usize) -> f64 {
        self.time[i * self.n + j]
    }

    #[inline]
    pub fn merge(&self, a: &Seg, b: &Seg) -> Seg {
        let (i, j) = (a.last as usize, b.first as usize);
        let d = self.d(i, j);
        let t = self.t(i, j);
        let delta = a.dur - a.tw + t;
        let dwait = (b.early - delta - a.late).max(0.0);
        let dtw = (a.early + delta - b.late).max(0.0);
        Seg {
            first: a.first,
            last: b.last,
            dist: a.dist + b.dist + d,
            dur: a.dur + b.dur + t + dwait,
            tw: a.tw + b.tw + dtw,
            early: (b.early - delta).max(a.early) - dwait,
            late: (b.late - delta).min(a.late) + dtw,
            load: a.load + b.load,
            pw: a.pw + b.pw,
            pc: a.pc + b.pc + b.pw * (a.el + t),
            el: a.el + t + b.el,
        }
    }

    /// Penalised cost of a whole route (depot to depot).
    #[inline]
    pub fn cost(&self, s: &Seg, nonempty: bool, capacity: i64, pen: &Penalties) -> f64 {
        let inst = self.inst;
        let fixed = if nonempty { inst.fixed_cost } else { 0.0 };
        s.dist
            + fixed
            + inst.priority_weight * s.pc
            + pen.load * ((s.load - capacity).max(0) as f64)
            + pen.tw * s.tw
    }

    /// Summary of a depot-to-depot route over `clients`.
    pub fn route_seg(&self, clients: &[usize]) -> Seg {
        let mut s = self.node[0];
        for &c in clients {
            s = self.merge(&s, &self.node[c]);
        }
        self.merge(&s, &self.node[0])
    }
}

/// A piece of a new route.
#[derive(Debug, Clone, Copy)]
enum Part {
    /// Nodes `0..=p` of route `r`.
    Pre(usize, usize),
    /// Nodes `p..` of route `r`.
    Suf(usize, usize),
    /// One node.
    Node(u32),
    /// Nodes `i..=j` of route `r` (empty when `j < i`).
    Fwd(usize, usize, usize),
    /// Nodes `i..=j` of route `r` visited from `j` down to `i`.
    Rev(usize, usize, usize),
}

#[derive(Clone, Copy)]
struct Parts {
    p: [Part; 5],
    len: usize,
}

impl Parts {
    fn new(items: &[Part]) -> Self {
        let mut p = [Part::Node(0); 5];
        p[..items.len()].copy_from_slice(items);
        Self {
            p,
            len: items.len(),
        }
    }
    fn iter(&self) -> impl Iterator<Item = &Part> {
        self.p[..self.len].iter()
    }
}

#[derive(Debug, Clone)]
struct Route {
    nodes: Vec<u32>,
    pre: Vec<Seg>,
    suf: Vec<Seg>,
    /// cum[k]: distance along nodes[0..=k].
    cum: Vec<f64>,
    /// rcum[k]: sum over m < k of d(nodes[m+1], nodes[m]).
    rcum: Vec<f64>,
    cost: f64,
    /// Part of `cost` above distance and fixed cost (penalties and priority term), >= 0.
    extra: f64,
    modified: u64,
}

impl Route {
    fn last(&self) -> usize {
        self.nodes.len() - 1
    }
    fn is_empty(&self) -> bool {
        self.nodes.len() <= 2
    }
}

/// The local search state: a fixed number of routes (one per vehicle, possibly empty).
pub(crate) struct LocalSearch<'a, 'b> {
    data: &'b Data<'a>,
    routes: Vec<Route>,
    route_of: Vec<usize>,
    pos_of: Vec<usize>,
    when_tested: Vec<u64>,
    moves: u64,
    order: Vec<u32>,
    pen: Penalties,
}

impl<'a, 'b> LocalSearch<'a, 'b> {
    pub fn new(data: &'b Data<'a>) -> Self {
        let n = data.n;
        Self {
            data,
            routes: Vec::new(),
            route_of: vec![usize::MAX; n],
            pos_of: vec![0; n],
            when_tested: vec![0; n],
            moves: 1,
            order: (1..n as u32).collect(),
            pen: Penalties { load: 1.0, tw: 1.0 },
        }
    }

    /// Loads routes (customer lists); pads with empty routes up to the fleet size (or more routes
    /// if given more).
    ///
    /// Route `r` is the `r`-th largest vehicle, so on a mixed fleet the routes are placed
    /// heaviest first (the pairing that fits best); moves then keep each route's vehicle.
    pub fn load(&mut self, routes: &[Vec<usize>], pen: Penalties) {
        self.pen = pen;
        let inst = self.data.inst;
        let sorted: Vec<Vec<usize>>;
        let routes = if inst.mixed_fleet() {
            let loads: Vec<i64> = routes
                .iter()
                .map(|r| r.iter().map(|&c| inst.stops[c].demand).sum())
                .collect();
            let rank = inst.rank_routes(&loads);
            let mut placed = vec![Vec::new(); routes.len()];
            for (k, r) in routes.iter().enumerate() {
                placed[rank[k]] = r.clone();
            }
            sorted = placed;
            &sorted[..]
        } else {
            routes
        };
        let fleet = inst.fleet.max(routes.len());
        self.routes.clear();
        self.route_of.iter_mut().for_each(|r| *r = usize::MAX);
        for r in 0..fleet {
            let mut nodes = vec![0u32];
            if let Some(cl) = routes.get(r) {
                nodes.extend(cl.iter().map(|&c| c as u32));
            }
            nodes.push(0);
            self.routes.push(Route {
                nodes,
                pre: Vec::new(),
                suf: Vec::new(),
                cum: Vec::new(),
                rcum: Vec::new(),
                cost: 0.0,
                extra: 0.0,
                modified: 0,
            });
            self.update_route(r);
        }
        self.moves = 1;
        self.routes.iter_mut().for_each(|r| r.modified = 0);
        self.when_tested.iter_mut().for_each(|w| *w = 0);
    }

    /// Current routes (non-empty ones only).
    pub fn export(&self) -> Vec<Vec<usize>> {
        self.routes
            .iter()
            .filter(|r| !r.is_empty())
            .map(|r| r.nodes[1..r.last()].iter().map(|&c| c as usize).collect())
            .collect()
    }

    fn update_route(&mut self, r: usize) {
        let data = self.data;
        let route = &mut self.routes[r];
        let len = route.nodes.len();
        route.pre.clear();
        route.suf.clear();
        route.cum.clear();
        route.rcum.clear();
        let mut s = data.node[route.nodes[0] as usize];
        route.pre.push(s);
        route.cum.push(0.0);
        route.rcum.push(0.0);
        for k in 1..len {
            let (a, b) = (route.nodes[k - 1] as usize, route.nodes[k] as usize);
            s = data.merge(&s, &data.node[b]);
            route.pre.push(s);
            route.cum.push(route.cum[k - 1] + data.d(a, b));
            route.rcum.push(route.rcum[k - 1] + data.d(b, a));
        }
        route.suf.resize(len, s);
        let mut t = data.node[route.nodes[len - 1] as usize];
        route.suf[len - 1] = t;
        for k in (0..len - 1).rev() {
            t = data.merge(&data.node[route.nodes[k] as usize], &t);
            route.suf[k] = t;
        }
        route.cost = data.cost(&s, len > 2, data.inst.capacity_of_rank(r), &self.pen);
        let fixed = if len > 2 { data.inst.fixed_cost } else { 0.0 };
        route.extra = (route.cost - s.dist - fixed).max(0.0);
        route.modified = self.moves;
        for (k, &c) in route.nodes.iter().enumerate() {
            if c != 0 {
                self.route_of[c as usize] = r;
                self.pos_of[c as usize] = k;
            }
        }
    }

    fn part_len(&self, p: &Part) -> usize {
        match *p {
            Part::Pre(_, k) => k + 1,
            Part::Suf(r, k) => self.routes[r].nodes.len() - k,
            Part::Node(_) => 1,
            Part::Fwd(_, i, j) | Part::Rev(_, i, j) => (j + 1).saturating_sub(i),
        }
    }

    /// (first node, last node, internal distance) of a non-empty part.
    fn part_quick(&self, p: &Part) -> (u32, u32, f64) {
        match *p {
            Part::Pre(r, k) => {
                let rt = &self.routes[r];
                (rt.nodes[0], rt.nodes[k], rt.cum[k])
            }
            Part::Suf(r, k) => {
                let rt = &self.routes[r];
                (
                    rt.nodes[k],
                    rt.nodes[rt.last()],
                    rt.cum[rt.last()] - rt.cum[k],
                )
            }
            Part::Node(c) => (c, c, 0.0),
            Part::Fwd(r, i, j) => {
                let rt = &self.routes[r];
                (rt.nodes[i], rt.nodes[j], rt.cum[j] - rt.cum[i])
            }
            Part::Rev(r, i, j) => {
                let rt = &self.routes[r];
                (rt.nodes[j], rt.nodes[i], rt.rcum[j] - rt.rcum[i])
            }
        }
    }

    fn part_seg(&self, p: &Part) -> Seg {
        let data = self.data;
        match *p {
            Part::Pre(r, k) => self.routes[r].pre[k],
            Part::Suf(r, k) => self.routes[r].suf[k],
            Part::Node(c) => data.node[c as usize],
            Part::Fwd(r, i, j) => {
                let rt = &self.routes[r];
                if i == 0 {
                    rt.pre[j]
                } else if j == rt.last() {
                    rt.suf[i]
                } else {
                    let mut s = data.node[rt.nodes[i] as usize];
                    for k in i + 1..=j {
                        s = data.merge(&s, &data.node[rt.nodes[k] as usize]);
                    }
                    s
                }
            }
            Part::Rev(r, i, j) => {
                let rt = &self.routes[r];
                let mut s = data.node[rt.nodes[j] as usize];
                for k in (i..j).rev() {
                    s = data.merge(&s, &data.node[rt.nodes[k] as usize]);
                }
                s
            }
        }
    }

    /// Lower bound of a new route's cost: distance (+ fixed cost), and whether it has customers.
    fn quick_cost(&self, parts: &Parts) -> f64 {
        let mut total = 0.0;
        let mut len = 0;
        let mut prev: Option<u32> = None;
        for p in parts.iter() {
            let l = self.part_len(p);
            if l == 0 {
                continue;
            }
            len += l;
            let (f, last, d) = self.part_quick(p);
            if let Some(pv) = prev {
                total += self.data.d(pv as usize, f as usize);
            }
            total += d;
            prev = Some(last);
        }
        if len > 2 {
            total + self.data.inst.fixed_cost
        } else {
            total
        }
    }

    /// Penalised cost of `parts` as route `r` (whose position fixes its vehicle's capacity).
    fn full_cost(&self, r: usize, parts: &Parts) -> f64 {
        let mut acc: Option<Seg> = None;
        let mut len = 0;
        for p in parts.iter() {
            let l = self.part_len(p);
            if l == 0 {
                continue;
            }
            len += l;
            let s = self.part_seg(p);
            acc = Some(match acc {
                None => s,
                Some(a) => self.data.merge(&a, &s),
            });
        }
        match acc {
            Some(s) => self
                .data
                .cost(&s, len > 2, self.data.inst.capacity_of_rank(r), &self.pen),
            None => 0.0,
        }
    }

    fn build_nodes(&self, parts: &Parts) -> Vec<u32> {
        let mut out = Vec::new();
        for p in parts.iter() {
            match *p {
                Part::Pre(r, k) => out.extend_from_slice(&self.routes[r].nodes[..=k]),
                Part::Suf(r, k) => out.extend_from_slice(&self.routes[r].nodes[k..]),
                Part::Node(c) => out.push(c),
                Part::Fwd(r, i, j) => {
                    if i <= j {
                        out.extend_from_slice(&self.routes[r].nodes[i..=j]);
                    }
                }
                Part::Rev(r, i, j) => {
                    if i <= j {
                        out.extend(self.routes[r].nodes[i..=j].iter().rev());
                    }
                }
            }
        }
        out
    }

    /// Evaluates a move touching one or two routes; applies it if it improves. Returns whether
    /// it was applied.
    fn try_move(&mut self, changes: &[(usize, Parts)]) -> bool {
        let old: f64 = changes.iter().map(|(r, _)| self.routes[*r].cost).sum();
        let quick: f64 = changes.iter().map(|(_, p)| self.quick_cost(p)).sum();
        if quick - old > -IMPROVE_EPS {
            return false;
        }
        let new: f64 = changes.iter().map(|(r, p)| self.full_cost(*r, p)).sum();
        if new - old > -IMPROVE_EPS {
            return false;
        }
        let built: Vec<(usize, Vec<u32>)> = changes
            .iter()
            .map(|(r, p)| (*r, self.build_nodes(p)))
            .collect();
        self.moves += 1;
        for (r, nodes) in built {
            self.routes[r].nodes = nodes;
            self.update_route(r);
        }
        true
    }

    /// Whether an inter-route move with distance change `delta` cannot improve: the new cost is
    /// at least the new distance, so it must beat the removed penalties. Only valid without a
    /// fixed vehicle cost (routes may empty or open); returns false then.
    #[inline]
    fn hopeless(&self, ru: usize, rv: usize, delta: f64) -> bool {
        let extra = if ru == rv {
            self.routes[ru].extra
        } else {
            self.routes[ru].extra + self.routes[rv].extra
        };
        self.data.inst.fixed_cost == 0.0 && delta - extra > -IMPROVE_EPS
    }

    #[inline]
    fn nd(&self, r: usize, p: usize) -> usize {
        self.routes[r].nodes[p] as usize
    }

    /// Moves segment [a..=b] of route `ru` (reversed if `rev`) to after position `pv` of `rv`.
    fn relocate(&mut self, ru: usize, a: usize, b: usize, rev: bool, rv: usize, pv: usize) -> bool {
        let seg = if rev {
            Part::Rev(ru, a, b)
        } else {
            Part::Fwd(ru, a, b)
        };
        if ru == rv && (a..=b + 1).contains(&(pv + 1)) {
            return false;
        }
        {
            let d = |i, j| self.data.d(i, j);
            let (pa, na, nb, sb) = (
                self.nd(ru, a - 1),
                self.nd(ru, a),
                self.nd(ru, b),
                self.nd(ru, b + 1),
            );
            let (v, y) = (self.nd(rv, pv), self.nd(rv, pv + 1));
            let (f, l) = if rev { (nb, na) } else { (na, nb) };
            let internal = if rev && a != b {
                d(nb, na) - d(na, nb)
            } else {
                0.0
            };
            let delta = d(pa, sb) - d(pa, na) - d(nb, sb) + d(v, f) + d(l, y) - d(v, y) + internal;
            if self.hopeless(ru, rv, delta) {
                return false;
            }
        }
        if ru != rv {
            let cu = Parts::new(&[Part::Pre(ru, a - 1), Part::Suf(ru, b + 1)]);
            let cv = Parts::new(&[Part::Pre(rv, pv), seg, Part::Suf(rv, pv + 1)]);
            return self.try_move(&[(ru, cu), (rv, cv)]);
        }
        let c = if pv > b {
            Parts::new(&[
                Part::Pre(ru, a - 1),
                Part::Fwd(ru, b + 1, pv),
                seg,
                Part::Suf(ru, pv + 1),
            ])
        } else if pv + 1 < a {
            Parts::new(&[
                Part::Pre(ru, pv),
                seg,
                Part::Fwd(ru, pv + 1, a - 1),
                Part::Suf(ru, b + 1),
            ])
        } else {
            return false;
        };
        self.try_move(&[(ru, c)])
    }

    /// Swaps segment [a1..=b1] of `ru` with [a2..=b2] of `rv`.
    fn swap(&mut self, ru: usize, a1: usize, b1: usize, rv: usize, a2: usize, b2: usize) -> bool {
        if ru != rv || b1 + 1 < a2 || b2 + 1 < a1 {
            let d = |i, j| self.data.d(i, j);
            let (pu, u1, u2, su) = (
                self.nd(ru, a1 - 1),
                self.nd(ru, a1),
                self.nd(ru, b1),
                self.nd(ru, b1 + 1),
            );
            let (pv, v1, v2, sv) = (
                self.nd(rv, a2 - 1),
                self.nd(rv, a2),
                self.nd(rv, b2),
                self.nd(rv, b2 + 1),
            );
            let delta = d(pu, v1) + d(v2, su) - d(pu, u1) - d(u2, su) + d(pv, u1) + d(u2, sv)
                - d(pv, v1)
                - d(v2, sv);
            if self.hopeless(ru, rv, delta) {
                return false;
            }
        }
        if ru != rv {
            let cu = Parts::new(&[
                Part::Pre(ru, a1 - 1),
                Part::Fwd(rv, a2, b2),
                Part::Suf(ru, b1 + 1),
            ]);
            let cv = Parts::new(&[
                Part::Pre(rv, a2 - 1),
                Part::Fwd(ru, a1, b1),
                Part::Suf(rv, b2 + 1),
            ]);
            return self.try_move(&[(ru, cu), (rv, cv)]);
        }
        let ((a1, b1), (a2, b2)) = if b1 < a2 {
            ((a1, b1), (a2, b2))
        } else if b2 < a1 {
            ((a2, b2), (a1, b1))
        } else {
            return false;
        };
        let r = ru;
        let c = Parts::new(&[
            Part::Pre(r, a1 - 1),
            Part::Fwd(r, a2, b2),
            Part::Fwd(r, b1 + 1, a2 - 1),
            Part::Fwd(r, a1, b1),
            Part::Suf(r, b2 + 1),
        ]);
        self.try_move(&[(r, c)])
    }

    /// 2-opt*: exchanges the tails after `pu` in `ru` and after `pv` in `rv`.
    fn two_opt_star(&mut self, ru: usize, pu: usize, rv: usize, pv: usize) -> bool {
        let d = |i, j| self.data.d(i, j);
        let (u, x, v, y) = (
            self.nd(ru, pu),
            self.nd(ru, pu + 1),
            self.nd(rv, pv),
            self.nd(rv, pv + 1),
        );
        if self.hopeless(ru, rv, d(u, y) + d(v, x) - d(u, x) - d(v, y)) {
            return false;
        }
        let cu = Parts::new(&[Part::Pre(ru, pu), Part::Suf(rv, pv + 1)]);
        let cv = Parts::new(&[Part::Pre(rv, pv), Part::Suf(ru, pu + 1)]);
        self.try_move(&[(ru, cu), (rv, cv)])
    }

    /// Intra-route 2-opt: reverses positions pu+1..=pv.
    fn two_opt(&mut self, r: usize, pu: usize, pv: usize) -> bool {
        let d = |i, j| self.data.d(i, j);
        let (u, x, v, y) = (
            self.nd(r, pu),
            self.nd(r, pu + 1),
            self.nd(r, pv),
            self.nd(r, pv + 1),
        );
        let rt = &self.routes[r];
        let internal = (rt.rcum[pv] - rt.rcum[pu + 1]) - (rt.cum[pv] - rt.cum[pu + 1]);
        if self.hopeless(r, r, d(u, v) + d(x, y) - d(u, x) - d(v, y) + internal) {
            return false;
        }
        let c = Parts::new(&[
            Part::Pre(r, pu),
            Part::Rev(r, pu + 1, pv),
            Part::Suf(r, pv + 1),
        ]);
        self.try_move(&[(r, c)])
    }

    /// All moves of customer `u` relative to the node at position `pv` of route `rv`
    /// (`pv == 0` means the depot start of `rv`).
    fn moves_uv(&mut self, u: usize, rv: usize, pv: usize) -> bool {
        let ru = self.route_of[u];
        let pu = self.pos_of[u];
        let x_is_client = pu + 1 < self.routes[ru].last();
        let v_is_client = pv != 0;
        let y_is_client = pv + 1 < self.routes[rv].last();
        if ru == rv && pv == pu {
            return false;
        }
        if self.relocate(ru, pu, pu, false, rv, pv) {
            return true;
        }
        if x_is_client
            && (self.relocate(ru, pu, pu + 1, false, rv, pv)
                || self.relocate(ru, pu, pu + 1, true, rv, pv))
        {
            return true;
        }
        if v_is_client {
            if self.swap(ru, pu, pu, rv, pv, pv) {
                return true;
            }
            if x_is_client && self.swap(ru, pu, pu + 1, rv, pv, pv) {
                return true;
            }
            if x_is_client && y_is_client && self.swap(ru, pu, pu + 1, rv, pv, pv + 1) {
                return true;
            }
        }
        if ru != rv {
            if self.two_opt_star(ru, pu, rv, pv) {
                return true;
            }
        } else if pu < pv && pv > pu + 1 && self.two_opt(ru, pu, pv) {
            return true;
        }
        false
    }

    /// Runs the local search to a local optimum under penalties `pen`.
    pub fn run(&mut self, rng: &mut impl Rng, pen: Penalties) {
        if self.pen != pen {
            self.pen = pen;
            for r in 0..self.routes.len() {
                self.update_route(r);
            }
        }
        self.order.shuffle(rng);
        let mut loop_id = 0u32;
        let mut improved = true;
        while improved {
            improved = false;
            for oi in 0..self.order.len() {
                let u = self.order[oi] as usize;
                let last_tested = self.when_tested[u];
                self.when_tested[u] = self.moves;
                let nv = self.data.neigh[u].len();
                for vi in 0..nv {
                    let v = self.data.neigh[u][vi] as usize;
                    let (ru, rv) = (self.route_of[u], self.route_of[v]);
                    if loop_id > 0
                        && self.routes[ru].modified.max(self.routes[rv].modified) <= last_tested
                    {
                        continue;
                    }
                    let pv = self.pos_of[v];
                    if self.moves_uv(u, rv, pv) {
                        improved = true;
                        continue;
                    }
                    // v first in its route: also try u right after the depot.
                    let (rv, pv) = (self.route_of[v], self.pos_of[v]);
                    if pv == 1 && self.moves_uv(u, rv, 0) {
                        improved = true;
                    }
                }
                if loop_id > 0
                    && let Some(e) = self.routes.iter().position(|r| r.is_empty())
                    && self.moves_uv(u, e, 0)
                {
                    improved = true;
                }
            }
            loop_id += 1;
        }
    }

    /// Inserts customers (not currently routed) at their cheapest penalised position, looking
    /// after each granular neighbour already routed, at route starts, and in one empty route.
    pub fn insert(&mut self, clients: &[usize], rng: &mut impl Rng) {
        let mut todo = clients.to_vec();
        todo.shuffle(rng);
        for u in todo {
            let mut best: Option<(f64, usize, usize)> = None;
            let consider =
                |ls: &Self, r: usize, p: usize, best: &mut Option<(f64, usize, usize)>| {
                    let parts =
                        Parts::new(&[Part::Pre(r, p), Part::Node(u as u32), Part::Suf(r, p + 1)]);
                    let delta = ls.full_cost(r, &parts) - ls.routes[r].cost;
                    if best.is_none_or(|b| delta < b.0) {
                        *best = Some((delta, r, p));
                    }
                };
            for &v in &self.data.neigh[u] {
                let r = self.route_of[v as usize];
                if r == usize::MAX {
                    continue;
                }
                let p = self.pos_of[v as usize];
                consider(self, r, p, &mut best);
                consider(self, r, p - 1, &mut best);
            }
            if let Some(e) = self.routes.iter().position(|r| r.is_empty()) {
                consider(self, e, 0, &mut best);
            }
            if best.is_none() {
                // No routed neighbour and no empty route: try every position.
                for r in 0..self.routes.len() {
                    for p in 0..self.routes[r].last() {
                        consider(self, r, p, &mut best);
                    }
                }
            }
            if let Some((_, r, p)) = best {
                self.routes[r].nodes.insert(p + 1, u as u32);
                self.moves += 1;
                self.update_route(r);
            }
        }
    }
}
