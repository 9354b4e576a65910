//! Coordinates, distances and delivery zones around the depot.

use serde::{Deserialize, Serialize};

/// A WGS84 point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatLon {
    pub lat: f64,
    pub lon: f64,
}

/// Why a location is not usable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GeoError {
    /// Latitude/longitude out of range or not numbers.
    #[error("({lat}, {lon}) is not a valid location")]
    Invalid { lat: f64, lon: f64 },
    /// Farther from the depot than the business delivers.
    #[error("that address is {km:.1} km from our depot; we deliver within {limit_km:.0} km")]
    OutOfRange { km: f64, limit_km: f64 },
}

impl LatLon {
    pub fn new(lat: f64, lon: f64) -> Result<Self, GeoError> {
        if lat.is_finite()
            && lon.is_finite()
            && (-90.0..=90.0).contains(&lat)
            && (-180.0..=180.0).contains(&lon)
        {
            Ok(Self { lat, lon })
        } else {
            Err(GeoError::Invalid { lat, lon })
        }
    }

    /// Great-circle distance in metres.
    pub fn haversine_m(self, other: LatLon) -> f64 {
        const R: f64 = 6_371_000.0;
        let (p1, p2) = (self.lat.to_radians(), other.lat.to_radians());
        let dp = p2 - p1;
        let dl = (other.lon - self.lon).to_radians();
        let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * R * a.sqrt().asin()
    }
}

/// The depot and how far it delivers (`[business.depot]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Depot {
    pub lat: f64,
    pub lon: f64,
    pub radius_km: f64,
}

impl Default for Depot {
    /// People's Square, Shanghai; 8 km.
    fn default() -> Self {
        Self {
            lat: 31.2304,
            lon: 121.4737,
            radius_km: 8.0,
        }
    }
}

impl Depot {
    pub fn location(&self) -> LatLon {
        LatLon {
            lat: self.lat,
            lon: self.lon,
        }
    }

    /// Accepts `p` if it is within the delivery radius.
    pub fn check_in_range(&self, p: LatLon) -> Result<(), GeoError> {
        let km = self.location().haversine_m(p) / 1000.0;
        if km <= self.radius_km {
            Ok(())
        } else {
            Err(GeoError::OutOfRange {
                km,
                limit_km: self.radius_km,
            })
        }
    }
}

/// A delivery zone: slots have capacity per zone, couriers are planned per zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Zone {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub center: LatLon,
    pub radius_m: u32,
}

/// The zone of a point: the nearest zone centre whose radius covers it, else the nearest zone
/// (every in-range point belongs to some zone so that slots always have a capacity row).
pub fn zone_for(zones: &[Zone], p: LatLon) -> Option<&Zone> {
    let by_distance = |z: &&Zone| z.center.haversine_m(p);
    let covering = zones
        .iter()
        .filter(|z| z.center.haversine_m(p) <= f64::from(z.radius_m))
        .min_by(|a, b| by_distance(a).total_cmp(&by_distance(b)));
    covering.or_else(|| {
        zones
            .iter()
            .min_by(|a, b| by_distance(a).total_cmp(&by_distance(b)))
    })
}

/// The zone whose name appears in an address text ("上海市黄浦区南京东路100号" -> 黄浦).
pub fn zone_named_in<'a>(zones: &'a [Zone], text: &str) -> Option<&'a Zone> {
    let lower = text.to_lowercase();
    zones
        .iter()
        .find(|z| text.contains(z.name_zh.as_str()) || lower.contains(&z.name_en.to_lowercase()))
}

/// A map link from a URL template with `{lat}` and `{lon}` placeholders.
pub fn map_link(template: &str, lat: f64, lon: f64) -> String {
    template
        .replace("{lat}", &format!("{lat:.6}"))
        .replace("{lon}", &format!("{lon:.6}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(code: &str, zh: &str, lat: f64, lon: f64) -> Zone {
        Zone {
            code: code.into(),
            name_zh: zh.into(),
            name_en: code.into(),
            center: LatLon { lat, lon },
            radius_m: 3000,
        }
    }

    #[test]
    fn distances_and_range() {
        let depot = Depot::default();
        // The Bund is about 1.5 km from People's Square.
        let bund = LatLon::new(31.2400, 121.4900).unwrap();
        let d = depot.location().haversine_m(bund);
        assert!((1000.0..2500.0).contains(&d), "{d}");
        assert!(depot.check_in_range(bund).is_ok());
        // Hongqiao airport is ~13 km away.
        let airport = LatLon::new(31.1979, 121.3363).unwrap();
        assert!(matches!(
            depot.check_in_range(airport),
            Err(GeoError::OutOfRange { .. })
        ));
        assert!(LatLon::new(95.0, 0.0).is_err());
        assert!(LatLon::new(f64::NAN, 0.0).is_err());
    }

    #[test]
    fn zones_by_point_and_by_name() {
        let zones = vec![
            zone("huangpu", "黄浦", 31.2317, 121.4846),
            zone("jingan", "静安", 31.2286, 121.4481),
        ];
        assert_eq!(
            zone_for(
                &zones,
                LatLon {
                    lat: 31.2400,
                    lon: 121.4900
                }
            )
            .unwrap()
            .code,
            "huangpu"
        );
        assert_eq!(
            zone_named_in(&zones, "上海市静安区愚园路88弄")
                .unwrap()
                .code,
            "jingan"
        );
        assert!(zone_named_in(&zones, "北京市朝阳区").is_none());
    }
}
