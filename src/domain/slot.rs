//! Delivery slots: daily windows with a cut-off and a capacity per delivery zone.
//! All wall-clock times are Asia/Shanghai.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use serde::{Deserialize, Serialize};

/// The business's time zone.
pub const TZ: chrono_tz::Tz = Shanghai;

/// Why a slot cannot be booked or a window definition is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlotError {
    /// The slot has already started or ended.
    #[error("the {slot} slot is in the past")]
    Past { slot: String },
    /// Bookings close `cutoff_minutes` before a slot starts.
    #[error("the {slot} slot closed for orders at {cutoff}")]
    CutOff { slot: String, cutoff: String },
    /// Every delivery place in the slot for this zone is taken.
    #[error("the {slot} slot is full")]
    Full { slot: String },
    /// More days ahead than the business plans.
    #[error("the {slot} slot is too far ahead; we deliver up to {days} days ahead")]
    TooFarAhead { slot: String, days: u32 },
    /// A start time that is not one of the business's windows.
    #[error("there is no delivery window starting at {0}")]
    NoSuchWindow(String),
    /// A window written wrongly in the configuration.
    #[error("invalid window {0:?}: write it like \"08:00-10:00\"")]
    BadWindow(String),
}

/// A daily delivery window such as 08:00-10:00.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Window {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl Window {
    pub fn parse(s: &str) -> Result<Self, SlotError> {
        let bad = || SlotError::BadWindow(s.to_owned());
        let (a, b) = s.split_once('-').ok_or_else(bad)?;
        let start = NaiveTime::parse_from_str(a.trim(), "%H:%M").map_err(|_| bad())?;
        let end = NaiveTime::parse_from_str(b.trim(), "%H:%M").map_err(|_| bad())?;
        if end <= start {
            return Err(bad());
        }
        Ok(Self { start, end })
    }
}

impl std::fmt::Display for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Plain number formatting: `format("%H:%M")` parses its pattern at every call, and
        // every chat turn labels each free slot of the week.
        use chrono::Timelike;
        write!(
            f,
            "{:02}:{:02}-{:02}:{:02}",
            self.start.hour(),
            self.start.minute(),
            self.end.hour(),
            self.end.minute()
        )
    }
}

/// Slot settings of the business.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlotRules {
    /// Daily windows, e.g. `["08:00-10:00", "10:00-12:00"]`.
    pub windows: Vec<String>,
    /// Orders for a slot close this many minutes before it starts.
    pub cutoff_minutes: u32,
    /// Deliveries per slot and delivery zone.
    pub capacity_per_zone: u32,
    /// How many days ahead customers may book (today is day 0).
    pub days_ahead: u32,
}

impl Default for SlotRules {
    fn default() -> Self {
        Self {
            windows: [
                "08:00-10:00",
                "10:00-12:00",
                "14:00-16:00",
                "16:00-18:00",
                "18:00-20:00",
            ]
            .map(String::from)
            .to_vec(),
            cutoff_minutes: 60,
            capacity_per_zone: 20,
            days_ahead: 7,
        }
    }
}

impl SlotRules {
    /// The configured windows, sorted.
    pub fn parsed_windows(&self) -> Result<Vec<Window>, SlotError> {
        let mut w = self
            .windows
            .iter()
            .map(|s| Window::parse(s))
            .collect::<Result<Vec<_>, _>>()?;
        w.sort();
        Ok(w)
    }

    /// All slots from `now`'s day through `days_ahead` days, bookable or not.
    pub fn slots_from(&self, now: DateTime<Utc>) -> Vec<Slot> {
        let today = now.with_timezone(&TZ).date_naive();
        let windows = self.parsed_windows().unwrap_or_default();
        (0..=self.days_ahead)
            .filter_map(|d| today.checked_add_days(chrono::Days::new(u64::from(d))))
            .flat_map(|date| windows.iter().map(move |w| Slot { date, window: *w }))
            .collect()
    }

    /// The slot that starts at `start`, if `start` is one of the windows.
    pub fn slot_starting_at(&self, start: DateTime<Utc>) -> Result<Slot, SlotError> {
        let local = start.with_timezone(&TZ);
        let windows = self.parsed_windows()?;
        windows
            .into_iter()
            .find(|w| w.start == local.time())
            .map(|window| Slot {
                date: local.date_naive(),
                window,
            })
            .ok_or_else(|| SlotError::NoSuchWindow(local.format("%Y-%m-%d %H:%M").to_string()))
    }

    /// Whether `slot` can take one more booking at `now` given `booked` of `capacity` places.
    pub fn check_bookable(
        &self,
        slot: &Slot,
        now: DateTime<Utc>,
        booked: u32,
        capacity: u32,
    ) -> Result<(), SlotError> {
        let start = slot.start();
        if start <= now {
            return Err(SlotError::Past {
                slot: slot.to_string(),
            });
        }
        let cutoff = start - Duration::minutes(i64::from(self.cutoff_minutes));
        if cutoff <= now {
            return Err(SlotError::CutOff {
                slot: slot.to_string(),
                cutoff: cutoff.with_timezone(&TZ).format("%H:%M").to_string(),
            });
        }
        let today = now.with_timezone(&TZ).date_naive();
        if (slot.date - today).num_days() > i64::from(self.days_ahead) {
            return Err(SlotError::TooFarAhead {
                slot: slot.to_string(),
                days: self.days_ahead,
            });
        }
        if booked >= capacity {
            return Err(SlotError::Full {
                slot: slot.to_string(),
            });
        }
        Ok(())
    }
}

/// One delivery window on one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slot {
    pub date: NaiveDate,
    pub window: Window,
}

impl Slot {
    fn at(&self, t: NaiveTime) -> DateTime<Utc> {
        // Shanghai has no daylight saving, so local times are never ambiguous or missing.
        TZ.from_local_datetime(&self.date.and_time(t))
            .earliest()
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_else(|| Utc.from_utc_datetime(&self.date.and_time(t)))
    }

    pub fn start(&self) -> DateTime<Utc> {
        self.at(self.window.start)
    }

    pub fn end(&self) -> DateTime<Utc> {
        self.at(self.window.end)
    }
}

/// "2026-11-25 08:00-10:00" (local time).
impl std::fmt::Display for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use chrono::Datelike;
        let d = self.date;
        write!(
            f,
            "{:04}-{:02}-{:02} {}",
            d.year(),
            d.month(),
            d.day(),
            self.window
        )
    }
}

/// A slot a customer could pick, with places left in their zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FreeSlot {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub label: String,
    pub places_left: u32,
}

/// The free slot that best fits a wished window `[from, to)`: the first starting inside it,
/// else the first overlapping it ("下午三点以后" fits 16:00-18:00 before 14:00-16:00); never
/// one outside it, so a wish is never silently moved.
pub fn slot_for_wish(
    free: &[FreeSlot],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Option<&FreeSlot> {
    free.iter()
        .find(|s| s.start >= from && s.start < to)
        .or_else(|| free.iter().find(|s| s.start < to && s.end > from))
}

/// Up to `n` free slots nearest to `at`, in time order: what to offer when a wish is full.
pub fn slots_near(free: &[FreeSlot], at: DateTime<Utc>, n: usize) -> Vec<&FreeSlot> {
    let mut by_distance: Vec<&FreeSlot> = free.iter().collect();
    by_distance.sort_by_key(|s| (s.start - at).num_seconds().abs());
    by_distance.truncate(n);
    by_distance.sort_by_key(|s| s.start);
    by_distance
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(s: &str) -> DateTime<Utc> {
        let naive = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        TZ.from_local_datetime(&naive).unwrap().with_timezone(&Utc)
    }

    fn slot(date: &str, w: &str) -> Slot {
        Slot {
            date: date.parse().unwrap(),
            window: Window::parse(w).unwrap(),
        }
    }

    #[test]
    fn slots_read_as_local_date_and_window() {
        assert_eq!(
            slot("2026-03-07", "08:00-09:30").to_string(),
            "2026-03-07 08:00-09:30"
        );
    }

    #[test]
    fn bookability_table() {
        let rules = SlotRules::default();
        let s = slot("2026-11-25", "10:00-12:00");
        let cases: [(&str, u32, Result<(), &str>); 6] = [
            ("2026-11-25 08:00", 0, Ok(())),
            ("2026-11-25 08:59", 19, Ok(())),
            ("2026-11-25 09:00", 0, Err("closed")),
            ("2026-11-25 10:30", 0, Err("past")),
            ("2026-11-25 08:00", 20, Err("full")),
            ("2026-11-10 08:00", 0, Err("too far")),
        ];
        for (now, booked, want) in cases {
            let got = rules.check_bookable(&s, local(now), booked, 20);
            match want {
                Ok(()) => assert!(got.is_ok(), "{now} booked={booked}: {got:?}"),
                Err(word) => assert!(
                    got.as_ref().is_err_and(|e| e.to_string().contains(word)),
                    "{now} booked={booked}: {got:?}"
                ),
            }
        }
    }

    #[test]
    fn slots_are_in_shanghai_time() {
        let s = slot("2026-11-25", "08:00-10:00");
        assert_eq!(s.start().to_rfc3339(), "2026-11-25T00:00:00+00:00");
        assert_eq!(s.to_string(), "2026-11-25 08:00-10:00");
        let rules = SlotRules::default();
        assert_eq!(rules.slot_starting_at(s.start()).unwrap(), s);
        assert!(rules.slot_starting_at(local("2026-11-25 09:00")).is_err());
        assert_eq!(rules.slots_from(local("2026-11-25 07:00")).len(), 8 * 5);
    }

    #[test]
    fn windows_must_be_well_formed() {
        assert!(Window::parse("10:00-08:00").is_err());
        assert!(Window::parse("8-10").is_err());
        assert!(Window::parse("08:00-10:00").is_ok());
    }

    fn free(starts: &[&str]) -> Vec<FreeSlot> {
        starts
            .iter()
            .map(|s| {
                let start: DateTime<Utc> = s.parse().unwrap();
                FreeSlot {
                    start,
                    end: start + chrono::Duration::hours(2),
                    label: String::new(),
                    places_left: 1,
                }
            })
            .collect()
    }

    #[test]
    fn a_wish_gets_a_slot_inside_it_or_none() {
        // 14:00, 16:00 and 18:00 Shanghai on one day.
        let f = free(&[
            "2026-11-25T06:00:00Z",
            "2026-11-25T08:00:00Z",
            "2026-11-25T10:00:00Z",
        ]);
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        // After 15:00 -> 16:00, not 14:00.
        let s = slot_for_wish(&f, at("2026-11-25T07:00:00Z"), at("2026-11-25T10:00:00Z"));
        assert_eq!(s.map(|s| s.start), Some(at("2026-11-25T08:00:00Z")));
        // 09:00-10:00 overlaps nothing free: no silent move to 14:00.
        assert!(
            slot_for_wish(&f, at("2026-11-25T01:00:00Z"), at("2026-11-25T02:00:00Z")).is_none()
        );
        let near = slots_near(&f, at("2026-11-25T11:00:00Z"), 2);
        assert_eq!(near.len(), 2);
        assert_eq!(near[0].start, at("2026-11-25T08:00:00Z"));
    }
}
