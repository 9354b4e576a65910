//! Solver tests: brute-force optima on tiny instances, checker, repeatability, Solomon smoke.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::*;

fn tiny_instance(seed: u64, n: usize, fleet: usize, capacity: i64) -> Instance {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut pts = vec![(50.0, 50.0)];
    let mut stops = vec![Stop {
        demand: 0,
        ready: 0.0,
        due: 400.0,
        service: 0.0,
        priority: 0.0,
    }];
    for _ in 0..n {
        pts.push((rng.random_range(0.0..100.0), rng.random_range(0.0..100.0)));
        let ready = rng.random_range(0.0..200.0);
        let width = rng.random_range(20.0..150.0);
        stops.push(Stop {
            demand: rng.random_range(1..=4),
            ready,
            due: ready + width,
            service: 5.0,
            priority: 0.0,
        });
    }
    Instance::new(
        format!("tiny{seed}"),
        stops,
        capacity,
        fleet,
        &EuclideanMatrix::new(pts),
    )
    .unwrap()
}

/// Exhaustive optimum: every permutation cut into at most `fleet` routes.
fn brute_force(inst: &Instance) -> Option<f64> {
    let n = inst.clients();
    let mut perm: Vec<usize> = (1..=n).collect();
    let mut best: Option<f64> = None;
    permute(&mut perm, 0, &mut |p| {
        for cuts in 0u32..(1 << (n - 1)) {
            let mut routes = vec![vec![p[0]]];
            for (k, &c) in p.iter().enumerate().skip(1) {
                if cuts & (1 << (k - 1)) != 0 {
                    routes.push(Vec::new());
                }
                if let Some(r) = routes.last_mut() {
                    r.push(c);
                }
            }
            if routes.len() > inst.fleet {
                continue;
            }
            let rep = check(inst, &routes);
            if rep.is_feasible() && best.is_none_or(|b| rep.distance < b) {
                best = Some(rep.distance);
            }
        }
    });
    best
}

fn permute(v: &mut Vec<usize>, k: usize, f: &mut impl FnMut(&[usize])) {
    if k == v.len() {
        f(v);
        return;
    }
    for i in k..v.len() {
        v.swap(k, i);
        permute(v, k + 1, f);
        v.swap(k, i);
    }
}

fn run(inst: &Instance, seed: u64, iterations: u64) -> Solution {
    let budget = Budget {
        max_iterations: Some(iterations),
        stop: None,
    };
    let params = Params {
        mu: 10,
        lambda: 10,
        ..Params::default()
    };
    solve(inst, &params, &budget, &mut SmallRng::seed_from_u64(seed))
}

#[test]
fn finds_brute_force_optimum_on_tiny_instances() {
    let mut compared = 0;
    for seed in 0..12 {
        let inst = tiny_instance(seed, 6, 3, 10);
        let opt = brute_force(&inst);
        let sol = run(&inst, seed, 100);
        let rep = check(&inst, &sol.routes);
        match opt {
            Some(opt) => {
                assert!(rep.is_feasible(), "seed {seed}: {:?}", rep.violations);
                assert!(sol.feasible);
                assert!((rep.distance - sol.distance).abs() < 1e-6);
                assert!(
                    (rep.distance - opt).abs() < 1e-6,
                    "seed {seed}: got {} optimum {opt}",
                    rep.distance
                );
                compared += 1;
            }
            None => assert!(
                !rep.is_feasible() || !sol.feasible,
                "seed {seed}: infeasible instance"
            ),
        }
    }
    assert!(compared >= 6, "too few feasible tiny instances: {compared}");
}

#[test]
fn same_seed_and_iterations_give_the_same_routes() {
    let inst = tiny_instance(42, 30, 8, 15);
    let a = run(&inst, 7, 60);
    let b = run(&inst, 7, 60);
    assert_eq!(a, b);
}

#[test]
fn checker_reports_every_kind_of_violation() {
    let inst = tiny_instance(3, 5, 1, 4);
    let rep = check(&inst, &[vec![1, 2, 2], vec![0, 4], vec![5]]);
    let v = &rep.violations;
    assert!(
        v.iter()
            .any(|x| matches!(x, Violation::Duplicate { customer: 2 })),
        "{v:?}"
    );
    assert!(
        v.iter()
            .any(|x| matches!(x, Violation::Missing { customer: 3 })),
        "{v:?}"
    );
    assert!(
        v.iter()
            .any(|x| matches!(x, Violation::UnknownStop { stop: 0, .. })),
        "{v:?}"
    );
    assert!(
        v.iter()
            .any(|x| matches!(x, Violation::Fleet { used: 3, fleet: 1 })),
        "{v:?}"
    );
    assert!(
        v.iter().any(|x| matches!(x, Violation::Capacity { .. })),
        "{v:?}"
    );
    // A window that cannot be met.
    let pts = vec![(0.0, 0.0), (100.0, 0.0)];
    let stops = vec![
        Stop {
            demand: 0,
            ready: 0.0,
            due: 1000.0,
            service: 0.0,
            priority: 0.0,
        },
        Stop {
            demand: 1,
            ready: 0.0,
            due: 50.0,
            service: 0.0,
            priority: 0.0,
        },
    ];
    let inst = Instance::new("late", stops, 10, 1, &EuclideanMatrix::new(pts)).unwrap();
    let rep = check(&inst, &[vec![1]]);
    assert!(
        matches!(rep.violations[..], [Violation::Late { customer: 1, .. }]),
        "{:?}",
        rep.violations
    );
    assert_eq!(rep.distance, 200.0);
    let sol = run(&inst, 1, 10);
    assert!(!sol.feasible);
}

#[test]
fn invalid_instances_list_every_problem() {
    let stops = vec![
        Stop {
            demand: 0,
            ready: 0.0,
            due: 10.0,
            service: 0.0,
            priority: 0.0,
        },
        Stop {
            demand: 50,
            ready: 5.0,
            due: 1.0,
            service: -1.0,
            priority: 0.0,
        },
    ];
    let err =
        Instance::new("bad", stops, 10, 0, &EuclideanMatrix::new(vec![(0.0, 0.0)])).unwrap_err();
    let RoutingError::InvalidInstance(p) = err else {
        panic!("wrong error")
    };
    assert!(p.len() >= 5, "{p:?}");
}

#[test]
fn fixed_vehicle_cost_uses_fewer_vehicles() {
    // Two clusters far apart but with wide windows: one vehicle suffices if it pays.
    let pts = vec![
        (0.0, 0.0),
        (10.0, 0.0),
        (11.0, 0.0),
        (-10.0, 0.0),
        (-11.0, 0.0),
    ];
    let mut stops = vec![Stop {
        demand: 0,
        ready: 0.0,
        due: 1000.0,
        service: 0.0,
        priority: 0.0,
    }];
    stops.extend((0..4).map(|_| Stop {
        demand: 1,
        ready: 0.0,
        due: 1000.0,
        service: 1.0,
        priority: 0.0,
    }));
    let inst = Instance::new("fc", stops, 10, 4, &EuclideanMatrix::new(pts)).unwrap();
    let free = run(&inst, 1, 30);
    assert!(free.feasible);
    let costly = run(&inst.clone().with_fixed_cost(1000.0), 1, 30);
    assert!(costly.feasible);
    assert_eq!(costly.routes.len(), 1);
    assert!(costly.cost >= 1000.0 + costly.distance - 1e-9);
}

#[test]
fn priority_customers_are_served_earlier_when_it_is_cheap() {
    // A line of customers; visiting order in either direction costs the same distance.
    let pts = vec![
        (0.0, 0.0),
        (10.0, 0.0),
        (20.0, 0.0),
        (10.0, 0.5),
        (20.0, 0.5),
    ];
    let mut stops = vec![Stop {
        demand: 0,
        ready: 0.0,
        due: 1000.0,
        service: 0.0,
        priority: 0.0,
    }];
    stops.extend((0..4).map(|_| Stop {
        demand: 1,
        ready: 0.0,
        due: 1000.0,
        service: 1.0,
        priority: 0.0,
    }));
    stops[4].priority = 1.0;
    let inst = Instance::new("prio", stops, 10, 1, &EuclideanMatrix::new(pts))
        .unwrap()
        .with_priority_weight(0.01);
    let sol = run(&inst, 3, 30);
    assert!(sol.feasible);
    assert_eq!(sol.routes.len(), 1);
    let r = &sol.routes[0];
    let p4 = r.iter().position(|&c| c == 4).unwrap();
    let p2 = r.iter().position(|&c| c == 2).unwrap();
    assert!(
        p4 < p2,
        "priority stop 4 should come before its twin 2: {r:?}"
    );
}

#[test]
fn solomon_c101_and_rc105_reach_feasible_near_bks_in_few_iterations() {
    for (name, bks, tol) in [("C101", 828.94, 0.5), ("RC105", 1513.7, 8.0)] {
        let Some(text) = crate::shared_data::read(&format!("vrp/solomon/{name}.txt")) else {
            return;
        };
        let inst = parse_solomon(&text).unwrap().to_instance().unwrap();
        let budget = Budget {
            max_iterations: Some(30),
            stop: None,
        };
        let params = Params {
            mu: 6,
            lambda: 6,
            ..Params::default()
        };
        let sol = solve(&inst, &params, &budget, &mut SmallRng::seed_from_u64(1));
        let rep = check(&inst, &sol.routes);
        assert!(rep.is_feasible(), "{name}: {:?}", rep.violations);
        let gap = 100.0 * (rep.distance - bks) / bks;
        assert!(gap < tol, "{name}: distance {} gap {gap:.2}%", rep.distance);
    }
}

#[test]
fn replanning_a_late_courier_finds_the_best_open_route_order() {
    // Courier at (0,0) at t=100, stops 1-3 east on a line, stop 4 west of the courier with a
    // window closing at t=125: it must come first although it is a detour.
    let pts = vec![
        (0.0, 0.0),
        (10.0, 0.0),
        (20.0, 0.0),
        (30.0, 0.0),
        (-15.0, 0.0),
    ];
    let s = |ready: f64, due: f64| Stop {
        demand: 1,
        ready,
        due,
        service: 2.0,
        priority: 0.0,
    };
    let stops = [
        s(0.0, 1000.0),
        s(0.0, 1000.0),
        s(0.0, 1000.0),
        s(0.0, 125.0),
    ];
    let m = EuclideanMatrix::new(pts);
    let inst = Instance::replan_courier("late courier", 100.0, 400.0, &stops, &m).unwrap();
    let sol = run(&inst, 1, 30);
    let rep = check(&inst, &sol.routes);
    assert!(rep.is_feasible(), "{:?}", rep.violations);
    let opt = brute_force(&inst).unwrap();
    assert!(
        (rep.distance - opt).abs() < 1e-9,
        "{} vs {opt}",
        rep.distance
    );
    assert_eq!(sol.routes, vec![vec![4, 1, 2, 3]]);
    // 15 west to stop 4, 25 back east to stop 1, then 10 + 10: open route, no return.
    assert!((rep.distance - 60.0).abs() < 1e-9);
    // A window that cannot be met any more is reported, not hidden.
    let stops = [s(0.0, 105.0)];
    let inst = Instance::replan_courier(
        "too late",
        100.0,
        400.0,
        &stops,
        &EuclideanMatrix::new(vec![(0.0, 0.0), (10.0, 0.0)]),
    )
    .unwrap();
    let sol = run(&inst, 1, 5);
    assert!(!sol.feasible);
    assert!(matches!(
        check(&inst, &sol.routes).violations[..],
        [Violation::Late { customer: 1, .. }]
    ));
}

/// A mixed fleet (one large vehicle, two small ones) behaves like separate vehicles: the
/// solver still finds the brute-force optimum, which the checker judges with every route's
/// own vehicle.
#[test]
fn mixed_fleet_finds_brute_force_optimum() {
    let mut compared = 0;
    for seed in 20..30 {
        let inst = tiny_instance(seed, 6, 3, 10)
            .with_vehicle_capacities(&[4, 10, 4])
            .unwrap();
        assert_eq!((inst.fleet, inst.capacity), (3, 10));
        assert!(inst.mixed_fleet());
        let opt = brute_force(&inst);
        let sol = run(&inst, seed, 150);
        let rep = check(&inst, &sol.routes);
        if let Some(opt) = opt {
            assert!(rep.is_feasible(), "seed {seed}: {:?}", rep.violations);
            assert!(
                (rep.distance - opt).abs() < 1e-6,
                "seed {seed}: got {} optimum {opt}",
                rep.distance
            );
            compared += 1;
        }
    }
    assert!(compared >= 5, "too few feasible instances: {compared}");
}

#[test]
fn checker_pairs_the_heaviest_route_with_the_largest_vehicle() {
    let mut inst = tiny_instance(4, 6, 2, 100);
    for s in inst.stops.iter_mut().skip(1) {
        s.demand = 5;
        s.ready = 0.0;
        s.due = 10_000.0;
    }
    inst.stops[0].due = 100_000.0;
    let inst = inst.with_vehicle_capacities(&[10, 20]).unwrap();
    let capacity_violations = |routes: &[Vec<usize>]| {
        check(&inst, routes)
            .violations
            .into_iter()
            .filter(|v| matches!(v, Violation::Capacity { .. }))
            .count()
    };
    // 10 + 20 bags on a 10 + 20 fleet fits, in either order of the routes.
    assert_eq!(capacity_violations(&[vec![1, 2], vec![3, 4, 5, 6]]), 0);
    assert_eq!(capacity_violations(&[vec![3, 4, 5, 6], vec![1, 2]]), 0);
    // 15 + 15 does not: the small vehicle would carry 15.
    assert_eq!(capacity_violations(&[vec![1, 2, 3], vec![4, 5, 6]]), 1);
    // A demand above the largest vehicle is refused when the fleet is set.
    let mut big = tiny_instance(4, 3, 2, 100);
    big.stops[1].demand = 50;
    assert!(big.with_vehicle_capacities(&[10, 20]).is_err());
}
