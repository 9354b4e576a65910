//! A journey as data: the customer's goal, her words, and what must be true of her orders at
//! the end (`tests/journeys/README.md` has the schema). Parsing refuses unknown keys, so a typo
//! in a journey file is an error rather than a check that silently never runs.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, Timelike, Weekday};
use serde::Deserialize;

/// One customer journey.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Journey {
    pub id: String,
    pub lang: JourneyLang,
    pub flow: String,
    #[serde(default)]
    pub classes: Vec<String>,
    #[serde(default)]
    pub setup: Setup,
    /// What she types first, in order, before answering anything.
    #[serde(default)]
    pub says: Vec<String>,
    /// Her own words when the bot asks for something.
    #[serde(default)]
    pub answers: Answers,
    /// She gives up (the journey fails) past this many messages.
    #[serde(default)]
    pub max_messages: Option<usize>,
    /// `goal: {order: ...}` rather than a YAML tag (`!order`), as people write it.
    #[serde(with = "serde_norway::with::singleton_map")]
    pub goal: Goal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JourneyLang {
    Zh,
    En,
}

impl JourneyLang {
    pub fn code(self) -> &'static str {
        match self {
            JourneyLang::Zh => "zh",
            JourneyLang::En => "en",
        }
    }
}

/// An order the customer already has when the journey starts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Setup {
    #[default]
    None,
    Placed,
    Picking,
    Delivered,
}

/// Her words for each kind of question; each is typed once, then she taps a button.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Answers {
    pub address: Option<String>,
    pub slot: Option<String>,
    pub substitute: Option<String>,
    pub confirm: Option<String>,
    pub quantity: Option<String>,
    pub reason: Option<String>,
    pub cancel_confirm: Option<String>,
    pub phone: Option<String>,
    pub item: Option<String>,
}

/// What must be true at the end; exactly one per journey.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Goal {
    /// A new order with exactly these lines.
    Order(OrderGoal),
    /// The setup order is cancelled.
    Cancelled(CancelGoal),
    /// The setup order is not cancelled.
    Kept(bool),
    /// The setup order's slot moved to this wish.
    Rescheduled(SlotWish),
    /// The setup order's address now contains this text.
    AddressChanged(String),
    /// The setup order's lines are now these.
    Edited(Lines),
    /// A new order with the setup order's lines.
    Reordered(bool),
    /// She waits for or talks to a person.
    Handoff(bool),
    /// One reply mentions one of these; no order is made.
    Answered(Vec<String>),
    /// Nothing changes and every message is answered.
    Nothing(bool),
}

pub type Lines = BTreeMap<String, Qty>;

/// An exact quantity or a range where her words leave room ("3个土豆").
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(untagged)]
pub enum Qty {
    Exact(f64),
    Range([f64; 2]),
}

impl Qty {
    pub fn admits(self, q: f64) -> bool {
        const EPS: f64 = 1e-6;
        match self {
            Qty::Exact(x) => (q - x).abs() < EPS,
            Qty::Range([lo, hi]) => q > lo - EPS && q < hi + EPS,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderGoal {
    pub lines: Lines,
    #[serde(default)]
    pub day: DayWish,
    #[serde(default)]
    pub part: PartOfDay,
    #[serde(default)]
    pub start: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub substitute: Option<bool>,
}

impl OrderGoal {
    pub fn wish(&self) -> SlotWish {
        SlotWish {
            day: self.day.clone(),
            part: self.part,
            start: self.start.clone(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CancelGoal {
    pub reason: Option<String>,
    pub text: Option<String>,
}

/// When she wants the delivery.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlotWish {
    pub day: DayWish,
    pub part: PartOfDay,
    pub start: Option<String>,
}

/// `today`, `tomorrow`, `+N`, a weekday (`mon`..`sun`: the next one after today) or `any`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(try_from = "String")]
pub enum DayWish {
    #[default]
    Any,
    InDays(u32),
    Next(Weekday),
}

impl TryFrom<String> for DayWish {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let t = s.trim().to_ascii_lowercase();
        Ok(match t.as_str() {
            "any" => DayWish::Any,
            "today" => DayWish::InDays(0),
            "tomorrow" => DayWish::InDays(1),
            _ => {
                if let Some(n) = t.strip_prefix('+') {
                    DayWish::InDays(n.parse().map_err(|_| format!("bad day {s:?}"))?)
                } else {
                    DayWish::Next(t.parse().map_err(|_| format!("bad day {s:?}"))?)
                }
            }
        })
    }
}

impl DayWish {
    /// The date wished for, seen from `today`; `None` for any day.
    pub fn date(&self, today: NaiveDate) -> Option<NaiveDate> {
        match self {
            DayWish::Any => None,
            DayWish::InDays(n) => today.checked_add_days(chrono::Days::new(u64::from(*n))),
            DayWish::Next(w) => {
                let ahead =
                    (w.num_days_from_monday() + 7 - today.weekday().num_days_from_monday()) % 7;
                let ahead = if ahead == 0 { 7 } else { ahead };
                today.checked_add_days(chrono::Days::new(u64::from(ahead)))
            }
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PartOfDay {
    #[default]
    Any,
    Morning,
    Afternoon,
    Evening,
}

impl SlotWish {
    /// Whether a slot starting at `start` (shop time) is what she wished for.
    pub fn admits(&self, start: chrono::NaiveDateTime, today: NaiveDate) -> bool {
        if let Some(d) = self.day.date(today)
            && start.date() != d
        {
            return false;
        }
        let h = start.hour();
        let part_ok = match self.part {
            PartOfDay::Any => true,
            PartOfDay::Morning => h < 12,
            PartOfDay::Afternoon => (12..17).contains(&h),
            PartOfDay::Evening => h >= 17,
        };
        let start_ok = self
            .start
            .as_deref()
            .is_none_or(|s| start.format("%H:%M").to_string() == s.trim());
        part_ok && start_ok
    }

    /// Whether she named any time at all.
    pub fn is_any(&self) -> bool {
        matches!(self.day, DayWish::Any) && self.part == PartOfDay::Any && self.start.is_none()
    }
}

/// Why a journey file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum JourneyFileError {
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
    #[error("{file}: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
    #[error("journey id {0:?} appears twice")]
    DuplicateId(String),
}

/// Reads every `*.yml` under `dir` (one level of subfolders, e.g. `dev/` and `held_out/`),
/// with the subfolder's name as the journey's set.
pub fn load_dir(dir: &std::path::Path) -> Result<Vec<(String, Journey)>, JourneyFileError> {
    let io = |file: &std::path::Path| {
        let file = file.display().to_string();
        move |source| JourneyFileError::Io { file, source }
    };
    let mut files = vec![];
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let path = entry.map_err(io(dir))?.path();
        if path.is_dir() {
            let set = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            for f in std::fs::read_dir(&path).map_err(io(&path))? {
                let f = f.map_err(io(&path))?.path();
                if f.extension().is_some_and(|e| e == "yml") {
                    files.push((set.clone(), f));
                }
            }
        } else if path.extension().is_some_and(|e| e == "yml") {
            files.push((String::new(), path));
        }
    }
    files.sort_by(|a, b| a.1.cmp(&b.1));
    let mut out = vec![];
    let mut seen = std::collections::HashSet::new();
    for (set, f) in files {
        let text = std::fs::read_to_string(&f).map_err(io(&f))?;
        let journeys: Vec<Journey> =
            serde_norway::from_str(&text).map_err(|e| JourneyFileError::Parse {
                file: f.display().to_string(),
                message: e.to_string(),
            })?;
        for j in journeys {
            if !seen.insert(j.id.clone()) {
                return Err(JourneyFileError::DuplicateId(j.id));
            }
            out.push((set.clone(), j));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekdays_are_the_next_one_after_today() {
        let wed = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        let sat = DayWish::try_from("sat".to_string()).unwrap();
        assert_eq!(sat.date(wed), NaiveDate::from_ymd_opt(2026, 11, 28));
        let wed_wish = DayWish::try_from("wed".to_string()).unwrap();
        assert_eq!(wed_wish.date(wed), NaiveDate::from_ymd_opt(2026, 12, 2));
        assert_eq!(
            DayWish::try_from("+2".to_string()).unwrap().date(wed),
            NaiveDate::from_ymd_opt(2026, 11, 27)
        );
        assert!(DayWish::try_from("someday".to_string()).is_err());
    }

    #[test]
    fn a_goal_is_exactly_one_block() {
        let j: Vec<Journey> = serde_norway::from_str(
            "- id: a\n  lang: zh\n  flow: order\n  goal:\n    order:\n      lines: {VEG-TOMATO: 2, VEG-POTATO: [1, 2]}\n      day: sat\n      part: morning\n",
        )
        .unwrap();
        let Goal::Order(g) = &j[0].goal else {
            panic!("an order goal")
        };
        assert!(g.lines["VEG-POTATO"].admits(1.5));
        assert!(!g.lines["VEG-TOMATO"].admits(2.5));
        let two: Result<Vec<Journey>, _> = serde_norway::from_str(
            "- id: a\n  lang: zh\n  flow: order\n  goal: {kept: true, handoff: true}\n",
        );
        assert!(two.is_err());
    }
}
