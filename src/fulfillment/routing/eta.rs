//! Pure ETA: when will a courier reach each remaining stop of the route?
//!
//! Times are seconds on any fixed clock (e.g. seconds since local midnight); the caller reads
//! the clock and the courier's last position and turns the result into "已出发,预计HH:MM送达"
//! or a delay alert. The courier waits for a window to open and spends the service time at
//! every stop.

use super::{HaversineMatrix, LatLon, TravelMatrix};

/// A remaining stop, in visiting order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EtaStop {
    /// Index of the stop's location in the travel matrix.
    pub location: usize,
    /// Time spent at the stop (handing over bags).
    pub service: f64,
    /// Window start: the courier waits until then.
    pub ready: f64,
    /// Window end promised to the customer.
    pub due: f64,
}

/// Predicted times at one stop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StopEta {
    /// Arrival at the stop.
    pub arrival: f64,
    /// Start of the hand-over (arrival, or the window start if early).
    pub start: f64,
    /// Leaving the stop.
    pub departure: f64,
    /// How far the start is past the window end (0 when on time).
    pub late_by: f64,
}

impl StopEta {
    /// Whether the customer should get a delay alert: the predicted start is past the window
    /// end by more than `threshold` seconds.
    pub fn needs_delay_alert(&self, threshold: f64) -> bool {
        self.late_by > threshold
    }
}

/// ETAs of `stops` (in order) for a courier at matrix location `position`, free at `now`.
pub fn etas(
    matrix: &impl TravelMatrix,
    position: usize,
    now: f64,
    stops: &[EtaStop],
) -> Vec<StopEta> {
    let mut t = now;
    let mut at = position;
    stops
        .iter()
        .map(|s| {
            let arrival = t + matrix.duration(at, s.location);
            let start = arrival.max(s.ready);
            let departure = start + s.service;
            t = departure;
            at = s.location;
            StopEta {
                arrival,
                start,
                departure,
                late_by: (start - s.due).max(0.0),
            }
        })
        .collect()
}

/// A remaining stop given by coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PointStop {
    /// Where.
    pub at: LatLon,
    /// Service time.
    pub service: f64,
    /// Window start.
    pub ready: f64,
    /// Window end.
    pub due: f64,
}

/// ETAs over straight-line distances with a detour factor and courier speed (m/s), from the
/// courier's live position.
pub fn etas_haversine(
    courier: LatLon,
    now: f64,
    stops: &[PointStop],
    detour: f64,
    speed_mps: f64,
) -> Vec<StopEta> {
    let points: Vec<LatLon> = std::iter::once(courier)
        .chain(stops.iter().map(|s| s.at))
        .collect();
    let m = HaversineMatrix::with(points, detour, speed_mps);
    let idx: Vec<EtaStop> = stops
        .iter()
        .enumerate()
        .map(|(k, s)| EtaStop {
            location: k + 1,
            service: s.service,
            ready: s.ready,
            due: s.due,
        })
        .collect();
    etas(&m, 0, now, &idx)
}

/// `HH:MM` of a time in seconds since midnight (wraps past 24 h; rounds up to the minute so a
/// promise is not early).
pub fn format_hhmm(seconds: f64) -> String {
    let mins = (seconds.max(0.0) / 60.0).ceil() as u64;
    format!("{:02}:{:02}", (mins / 60) % 24, mins % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fulfillment::routing::EuclideanMatrix;

    #[test]
    fn etas_wait_for_windows_and_add_service_times() {
        // Courier at 0; stops at distance 10 and then 5 further; travel time = distance.
        let m = EuclideanMatrix::new(vec![(0.0, 0.0), (10.0, 0.0), (15.0, 0.0)]);
        let stops = [
            EtaStop {
                location: 1,
                service: 3.0,
                ready: 120.0,
                due: 200.0,
            },
            EtaStop {
                location: 2,
                service: 2.0,
                ready: 0.0,
                due: 125.0,
            },
        ];
        let e = etas(&m, 0, 100.0, &stops);
        assert_eq!(
            e[0],
            StopEta {
                arrival: 110.0,
                start: 120.0,
                departure: 123.0,
                late_by: 0.0
            }
        );
        assert_eq!(
            e[1],
            StopEta {
                arrival: 128.0,
                start: 128.0,
                departure: 130.0,
                late_by: 3.0
            }
        );
        assert!(e[1].needs_delay_alert(2.0));
        assert!(!e[1].needs_delay_alert(5.0));
        assert!(etas(&m, 0, 0.0, &[]).is_empty());
    }

    #[test]
    fn haversine_etas_from_live_position() {
        let depot = LatLon {
            lat: 31.2304,
            lon: 121.4737,
        };
        let ljz = LatLon {
            lat: 31.2397,
            lon: 121.4998,
        };
        let now = 9.0 * 3600.0;
        let stops = [PointStop {
            at: ljz,
            service: 120.0,
            ready: 0.0,
            due: 10.0 * 3600.0,
        }];
        let e = etas_haversine(depot, now, &stops, 1.3, 5.0);
        let expect = now + crate::fulfillment::routing::haversine_m(depot, ljz) * 1.3 / 5.0;
        assert!((e[0].arrival - expect).abs() < 1e-6);
        assert_eq!(format_hhmm(e[0].arrival), "09:12");
        assert_eq!(format_hhmm(now), "09:00");
        assert_eq!(format_hhmm(now + 1.0), "09:01");
    }
}
