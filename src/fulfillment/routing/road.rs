//! Road network travel matrix: a directed graph of nodes and edges read from a text file, and
//! many-to-many shortest paths by Dijkstra with a binary heap.
//!
//! File format (one record per line, `#` starts a comment, fields separated by whitespace):
//! ```text
//! # node <id> <lat> <lon>
//! node 1 31.2304 121.4737
//! node 2 31.2310 121.4800
//! # edge <from> <to> <length in metres> [oneway]   (two-way unless `oneway`)
//! edge 1 2 620
//! edge 2 1 700 oneway
//! ```
//! Ids are unsigned integers (e.g. OpenStreetMap node ids); every edge must name declared nodes.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

use super::{LatLon, TravelMatrix, haversine_m};

/// Errors of the road network.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RoadError {
    /// A line of the network file is malformed.
    #[error("line {line}: {message}")]
    Parse {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// No path between two requested nodes: the graph is not strongly connected there.
    #[error("no road path from node {from} to node {to}; check one-way edges and missing links")]
    Unreachable {
        /// Node id.
        from: u64,
        /// Node id.
        to: u64,
    },
    /// A requested node id is not in the graph.
    #[error("unknown road node {0}")]
    UnknownNode(u64),
    /// The network has no nodes.
    #[error("the road network has no nodes")]
    Empty,
}

/// A directed road graph in compressed adjacency form.
#[derive(Debug, Clone, PartialEq)]
pub struct RoadGraph {
    ids: Vec<u64>,
    coords: Vec<LatLon>,
    index: HashMap<u64, usize>,
    offsets: Vec<usize>,
    targets: Vec<usize>,
    lengths: Vec<f64>,
}

fn perr(line: usize, message: impl Into<String>) -> RoadError {
    RoadError::Parse {
        line,
        message: message.into(),
    }
}

/// Parses a road network file (see the module docs for the format).
pub fn parse_road_network(text: &str) -> Result<RoadGraph, RoadError> {
    let mut ids = Vec::new();
    let mut coords = Vec::new();
    let mut index = HashMap::new();
    let mut edges: Vec<(usize, usize, f64)> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let ln = i + 1;
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        let id = |k: usize| -> Result<u64, RoadError> {
            f.get(k).and_then(|s| s.parse().ok()).ok_or_else(|| {
                perr(
                    ln,
                    format!("field {} must be a node id (unsigned integer)", k + 1),
                )
            })
        };
        let num = |k: usize, what: &str| -> Result<f64, RoadError> {
            f.get(k)
                .and_then(|s| s.parse::<f64>().ok())
                .filter(|v| v.is_finite())
                .ok_or_else(|| perr(ln, format!("{what} must be a number")))
        };
        match f[0] {
            "node" => {
                if f.len() != 4 {
                    return Err(perr(ln, "expected `node <id> <lat> <lon>`"));
                }
                let nid = id(1)?;
                let (lat, lon) = (num(2, "latitude")?, num(3, "longitude")?);
                if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
                    return Err(perr(ln, format!("coordinates {lat} {lon} out of range")));
                }
                if index.insert(nid, ids.len()).is_some() {
                    return Err(perr(ln, format!("node {nid} declared twice")));
                }
                ids.push(nid);
                coords.push(LatLon { lat, lon });
            }
            "edge" => {
                if !(f.len() == 4 || (f.len() == 5 && f[4] == "oneway")) {
                    return Err(perr(ln, "expected `edge <from> <to> <length_m> [oneway]`"));
                }
                let (a, b) = (id(1)?, id(2)?);
                let len = num(3, "length")?;
                if len < 0.0 {
                    return Err(perr(ln, "edge length must not be negative"));
                }
                let ia = *index
                    .get(&a)
                    .ok_or_else(|| perr(ln, format!("edge names undeclared node {a}")))?;
                let ib = *index
                    .get(&b)
                    .ok_or_else(|| perr(ln, format!("edge names undeclared node {b}")))?;
                edges.push((ia, ib, len));
                if f.len() == 4 {
                    edges.push((ib, ia, len));
                }
            }
            other => {
                return Err(perr(
                    ln,
                    format!("unknown record `{other}`: expected `node` or `edge`"),
                ));
            }
        }
    }
    if ids.is_empty() {
        return Err(RoadError::Empty);
    }
    Ok(RoadGraph::from_parts(ids, coords, index, edges))
}

impl RoadGraph {
    fn from_parts(
        ids: Vec<u64>,
        coords: Vec<LatLon>,
        index: HashMap<u64, usize>,
        mut edges: Vec<(usize, usize, f64)>,
    ) -> Self {
        let n = ids.len();
        edges.sort_by(|x, y| x.0.cmp(&y.0).then(x.1.cmp(&y.1)));
        let mut offsets = vec![0usize; n + 1];
        for &(a, _, _) in &edges {
            offsets[a + 1] += 1;
        }
        for k in 0..n {
            offsets[k + 1] += offsets[k];
        }
        let targets = edges.iter().map(|e| e.1).collect();
        let lengths = edges.iter().map(|e| e.2).collect();
        Self {
            ids,
            coords,
            index,
            offsets,
            targets,
            lengths,
        }
    }

    /// Number of nodes.
    pub fn nodes(&self) -> usize {
        self.ids.len()
    }

    /// Internal index of a node id.
    pub fn index_of(&self, id: u64) -> Result<usize, RoadError> {
        self.index
            .get(&id)
            .copied()
            .ok_or(RoadError::UnknownNode(id))
    }

    /// Index of the node closest (great-circle) to `p`.
    pub fn nearest(&self, p: LatLon) -> usize {
        let mut best = (f64::INFINITY, 0);
        for (k, &c) in self.coords.iter().enumerate() {
            let d = haversine_m(p, c);
            if d < best.0 {
                best = (d, k);
            }
        }
        best.1
    }

    /// Shortest path lengths from node index `source` to every node (infinity: unreachable).
    pub fn dijkstra(&self, source: usize) -> Vec<f64> {
        #[derive(PartialEq)]
        struct Item(f64, usize);
        impl Eq for Item {}
        impl PartialOrd for Item {
            fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
                Some(self.cmp(o))
            }
        }
        impl Ord for Item {
            fn cmp(&self, o: &Self) -> Ordering {
                o.0.total_cmp(&self.0).then(o.1.cmp(&self.1))
            }
        }
        let mut dist = vec![f64::INFINITY; self.nodes()];
        let mut heap = BinaryHeap::new();
        dist[source] = 0.0;
        heap.push(Item(0.0, source));
        while let Some(Item(d, u)) = heap.pop() {
            if d > dist[u] {
                continue;
            }
            for e in self.offsets[u]..self.offsets[u + 1] {
                let (v, nd) = (self.targets[e], d + self.lengths[e]);
                if nd < dist[v] {
                    dist[v] = nd;
                    heap.push(Item(nd, v));
                }
            }
        }
        dist
    }

    /// Shortest path lengths between every pair of the given node indices (one Dijkstra per
    /// source). Fails on the first unreachable pair.
    pub fn many_to_many(&self, nodes: &[usize]) -> Result<Vec<f64>, RoadError> {
        let k = nodes.len();
        let mut out = Vec::with_capacity(k * k);
        for &s in nodes {
            let d = self.dijkstra(s);
            for &t in nodes {
                if !d[t].is_finite() {
                    return Err(RoadError::Unreachable {
                        from: self.ids[s],
                        to: self.ids[t],
                    });
                }
                out.push(d[t]);
            }
        }
        Ok(out)
    }
}

/// Travel matrix over road shortest paths between stops snapped to graph nodes; durations at a
/// constant courier speed.
#[derive(Debug, Clone, PartialEq)]
pub struct RoadMatrix {
    n: usize,
    dist: Vec<f64>,
    speed_mps: f64,
}

impl RoadMatrix {
    /// Matrix between graph node indices `nodes` at `speed_mps` metres per second.
    pub fn new(graph: &RoadGraph, nodes: &[usize], speed_mps: f64) -> Result<Self, RoadError> {
        let speed_mps = if speed_mps.is_finite() && speed_mps > 0.0 {
            speed_mps
        } else {
            5.0
        };
        Ok(Self {
            n: nodes.len(),
            dist: graph.many_to_many(nodes)?,
            speed_mps,
        })
    }

    /// Matrix between points, each snapped to its nearest graph node.
    pub fn for_points(
        graph: &RoadGraph,
        points: &[LatLon],
        speed_mps: f64,
    ) -> Result<Self, RoadError> {
        let nodes: Vec<usize> = points.iter().map(|&p| graph.nearest(p)).collect();
        Self::new(graph, &nodes, speed_mps)
    }
}

impl TravelMatrix for RoadMatrix {
    fn len(&self) -> usize {
        self.n
    }
    fn distance(&self, from: usize, to: usize) -> f64 {
        self.dist[from * self.n + to]
    }
    fn duration(&self, from: usize, to: usize) -> f64 {
        self.distance(from, to) / self.speed_mps
    }
}

#[cfg(test)]
mod tests {
    use rand::rngs::SmallRng;
    use rand::{Rng, SeedableRng};

    use super::*;

    fn random_graph(seed: u64, n: usize, m: usize) -> (String, Vec<Vec<f64>>) {
        let mut rng = SmallRng::seed_from_u64(seed);
        let mut text = String::from("# random test graph\n");
        for k in 0..n {
            text += &format!("node {} {} {}\n", 100 + k, 31.0 + k as f64 * 0.001, 121.0);
        }
        let mut w = vec![vec![f64::INFINITY; n]; n];
        for (k, row) in w.iter_mut().enumerate() {
            row[k] = 0.0;
        }
        for _ in 0..m {
            let (a, b) = (rng.random_range(0..n), rng.random_range(0..n));
            let len = f64::from(rng.random_range(1u32..100));
            let oneway = rng.random_bool(0.5);
            text += &format!(
                "edge {} {} {len}{}\n",
                100 + a,
                100 + b,
                if oneway { " oneway" } else { "" }
            );
            w[a][b] = w[a][b].min(len);
            if !oneway {
                w[b][a] = w[b][a].min(len);
            }
        }
        // Floyd-Warshall as the brute-force reference.
        for k in 0..n {
            for i in 0..n {
                for j in 0..n {
                    let via = w[i][k] + w[k][j];
                    if via < w[i][j] {
                        w[i][j] = via;
                    }
                }
            }
        }
        (text, w)
    }

    #[test]
    fn dijkstra_matches_floyd_warshall_on_random_graphs() {
        for seed in 0..20 {
            let (text, fw) = random_graph(seed, 12, 30);
            let g = parse_road_network(&text).unwrap();
            for (s, row) in fw.iter().enumerate() {
                let d = g.dijkstra(g.index_of(100 + s as u64).unwrap());
                for (t, &want) in row.iter().enumerate() {
                    let got = d[g.index_of(100 + t as u64).unwrap()];
                    assert!(
                        got == want || (got - want).abs() < 1e-9,
                        "seed {seed} {s}->{t}: {got} vs {want}"
                    );
                }
            }
        }
    }

    #[test]
    fn road_matrix_and_unreachable_pairs() {
        let text = "node 1 31.0 121.0\nnode 2 31.001 121.0\nnode 3 31.002 121.0\nedge 1 2 100\nedge 2 3 50 oneway\n";
        let g = parse_road_network(text).unwrap();
        let m = RoadMatrix::new(&g, &[0, 1, 2], 5.0);
        assert_eq!(m.unwrap_err(), RoadError::Unreachable { from: 3, to: 1 });
        let m = RoadMatrix::new(&g, &[0, 1], 5.0).unwrap();
        assert_eq!(m.distance(0, 1), 100.0);
        assert_eq!(m.duration(1, 0), 20.0);
        let snapped = RoadMatrix::for_points(
            &g,
            &[
                LatLon {
                    lat: 31.0001,
                    lon: 121.0,
                },
                LatLon {
                    lat: 31.0011,
                    lon: 121.0,
                },
            ],
            10.0,
        )
        .unwrap();
        assert_eq!(snapped.distance(0, 1), 100.0);
    }

    #[test]
    fn malformed_network_files_are_rejected_with_line_numbers() {
        let cases = [
            ("node 1 31 121\nnode 1 31 121\n", 2, "twice"),
            ("node 1 31 121\nedge 1 2 5\n", 2, "undeclared node 2"),
            ("node 1 31 121\nedge 1 1 -5\n", 2, "negative"),
            ("node x 31 121\n", 1, "node id"),
            ("node 1 91 121\n", 1, "out of range"),
            ("node 1 31 121\nroad 1 1 5\n", 2, "unknown record"),
            ("node 1 31 121\nedge 1 1 5 twoway\n", 2, "expected `edge"),
        ];
        for (text, line, needle) in cases {
            let e = parse_road_network(text).unwrap_err();
            assert!(
                matches!(e, RoadError::Parse { line: l, .. } if l == line),
                "{text:?}: {e}"
            );
            assert!(e.to_string().contains(needle), "{text:?}: {e}");
        }
        assert_eq!(
            parse_road_network("# nothing\n").unwrap_err(),
            RoadError::Empty
        );
    }
}
