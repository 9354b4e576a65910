//! Travel matrices: how far and how long it is between two locations.
//!
//! The solver never computes geometry itself; it asks a [`TravelMatrix`] and copies the answers
//! into a [`DenseMatrix`] once per solve. Three implementations ship: Euclidean (Solomon
//! benchmarks), haversine with a detour factor and a courier speed (the default for real
//! addresses), and the road network in [`super::road`].

/// Distances and travel times between locations `0..len()`. Location 0 is the depot when the
/// matrix backs an [`super::Instance`].
pub trait TravelMatrix {
    /// Number of locations.
    fn len(&self) -> usize;
    /// Whether there are no locations.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Distance from `from` to `to` (the unit the objective is counted in, e.g. metres).
    fn distance(&self, from: usize, to: usize) -> f64;
    /// Travel time from `from` to `to` (the unit time windows are in, e.g. seconds).
    fn duration(&self, from: usize, to: usize) -> f64;
}

/// A full square matrix of distances and durations, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct DenseMatrix {
    n: usize,
    dist: Vec<f64>,
    time: Vec<f64>,
}

impl DenseMatrix {
    /// Copies every pair out of `m`.
    pub fn from_matrix(m: &impl TravelMatrix) -> Self {
        let n = m.len();
        let mut dist = Vec::with_capacity(n * n);
        let mut time = Vec::with_capacity(n * n);
        for i in 0..n {
            for j in 0..n {
                dist.push(m.distance(i, j));
                time.push(m.duration(i, j));
            }
        }
        Self { n, dist, time }
    }

    /// Builds a matrix from row-major vectors of `n * n` distances and durations.
    /// Returns `None` when the lengths do not match.
    pub fn from_rows(n: usize, dist: Vec<f64>, time: Vec<f64>) -> Option<Self> {
        (dist.len() == n * n && time.len() == n * n).then_some(Self { n, dist, time })
    }

    /// Makes travel to location `to` free (distance and duration 0 from everywhere): with
    /// `to = 0` routes end where their last stop is (open routes).
    pub fn make_free_to(&mut self, to: usize) {
        for i in 0..self.n {
            self.dist[i * self.n + to] = 0.0;
            self.time[i * self.n + to] = 0.0;
        }
    }
}

impl TravelMatrix for DenseMatrix {
    fn len(&self) -> usize {
        self.n
    }
    #[inline]
    fn distance(&self, from: usize, to: usize) -> f64 {
        self.dist[from * self.n + to]
    }
    #[inline]
    fn duration(&self, from: usize, to: usize) -> f64 {
        self.time[from * self.n + to]
    }
}

/// Planar points; distance is the Euclidean length in double precision and travel time equals
/// distance (the Solomon convention).
#[derive(Debug, Clone, PartialEq)]
pub struct EuclideanMatrix {
    points: Vec<(f64, f64)>,
}

impl EuclideanMatrix {
    /// Matrix over `points` (x, y).
    pub fn new(points: Vec<(f64, f64)>) -> Self {
        Self { points }
    }
}

impl TravelMatrix for EuclideanMatrix {
    fn len(&self) -> usize {
        self.points.len()
    }
    fn distance(&self, from: usize, to: usize) -> f64 {
        let (a, b) = (self.points[from], self.points[to]);
        (a.0 - b.0).hypot(a.1 - b.1)
    }
    fn duration(&self, from: usize, to: usize) -> f64 {
        self.distance(from, to)
    }
}

/// A point on the Earth in degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatLon {
    /// Latitude, degrees north.
    pub lat: f64,
    /// Longitude, degrees east.
    pub lon: f64,
}

/// Mean Earth radius in metres (IUGG).
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Great-circle distance in metres between two points.
pub fn haversine_m(a: LatLon, b: LatLon) -> f64 {
    let (p1, p2) = (a.lat.to_radians(), b.lat.to_radians());
    let dp = p2 - p1;
    let dl = (b.lon - a.lon).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

/// Straight-line distance on the sphere times a detour factor (streets are not straight), and a
/// constant courier speed. Distances in metres, durations in seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct HaversineMatrix {
    points: Vec<LatLon>,
    detour: f64,
    speed_mps: f64,
}

impl HaversineMatrix {
    /// Typical ratio of road distance to great-circle distance in a dense city.
    pub const DEFAULT_DETOUR: f64 = 1.3;
    /// 18 km/h: an electric scooter in city traffic.
    pub const DEFAULT_SPEED_MPS: f64 = 5.0;

    /// Matrix over `points` with the default detour factor and speed.
    pub fn new(points: Vec<LatLon>) -> Self {
        Self::with(points, Self::DEFAULT_DETOUR, Self::DEFAULT_SPEED_MPS)
    }

    /// Matrix over `points` with a detour factor (>= 1) and a speed in metres per second (> 0).
    /// Non-finite or non-positive values fall back to the defaults.
    pub fn with(points: Vec<LatLon>, detour: f64, speed_mps: f64) -> Self {
        let detour = if detour.is_finite() && detour > 0.0 {
            detour
        } else {
            Self::DEFAULT_DETOUR
        };
        let speed_mps = if speed_mps.is_finite() && speed_mps > 0.0 {
            speed_mps
        } else {
            Self::DEFAULT_SPEED_MPS
        };
        Self {
            points,
            detour,
            speed_mps,
        }
    }
}

impl TravelMatrix for HaversineMatrix {
    fn len(&self) -> usize {
        self.points.len()
    }
    fn distance(&self, from: usize, to: usize) -> f64 {
        haversine_m(self.points[from], self.points[to]) * self.detour
    }
    fn duration(&self, from: usize, to: usize) -> f64 {
        self.distance(from, to) / self.speed_mps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn euclidean_is_double_precision_and_time_equals_distance() {
        let m = EuclideanMatrix::new(vec![(0.0, 0.0), (3.0, 4.0), (1.0, 1.0)]);
        assert_eq!(m.distance(0, 1), 5.0);
        assert_eq!(m.duration(0, 1), 5.0);
        assert!((m.distance(0, 2) - 2f64.sqrt()).abs() < 1e-15);
    }

    #[test]
    fn haversine_people_square_to_lujiazui_is_about_3_km() {
        let ps = LatLon {
            lat: 31.2304,
            lon: 121.4737,
        };
        let ljz = LatLon {
            lat: 31.2397,
            lon: 121.4998,
        };
        let d = haversine_m(ps, ljz);
        assert!((2_600.0..2_800.0).contains(&d), "{d}");
        let m = HaversineMatrix::with(vec![ps, ljz], 1.5, 5.0);
        assert!((m.distance(0, 1) - 1.5 * d).abs() < 1e-6);
        assert!((m.duration(0, 1) - 1.5 * d / 5.0).abs() < 1e-6);
        assert_eq!(m.distance(1, 1), 0.0);
    }

    #[test]
    fn dense_copy_matches_source() {
        let m = EuclideanMatrix::new(vec![(0.0, 0.0), (3.0, 4.0)]);
        let d = DenseMatrix::from_matrix(&m);
        assert_eq!(d.distance(1, 0), 5.0);
        assert_eq!(d.len(), 2);
        assert!(DenseMatrix::from_rows(2, vec![0.0; 3], vec![0.0; 4]).is_none());
    }
}
