//! Daily sales series and the preparation every model shares.

use std::collections::BTreeSet;

use chrono::{Duration, NaiveDate};

/// Daily quantities sold of one product (or one category), a gap-free grid from `start`.
#[derive(Debug, Clone, PartialEq)]
pub struct SalesSeries {
    /// Product sku, category code or any other identifier.
    pub id: String,
    /// Date of `quantities[0]`.
    pub start: NaiveDate,
    /// Quantity sold per day (kg or pieces); may contain small negative values from returns.
    pub quantities: Vec<f64>,
}

impl SalesSeries {
    /// Date of the value at `index`.
    pub fn date_at(&self, index: usize) -> NaiveDate {
        self.start + Duration::days(i64::try_from(index).unwrap_or(i64::MAX / 2))
    }

    /// Index of `date` in the grid, if it lies inside.
    pub fn index_of(&self, date: NaiveDate) -> Option<usize> {
        usize::try_from((date - self.start).num_days())
            .ok()
            .filter(|&i| i < self.quantities.len())
    }

    /// The series cut to its first `len` days (the training part of a hold-out split).
    pub fn head(&self, len: usize) -> SalesSeries {
        SalesSeries {
            id: self.id.clone(),
            start: self.start,
            quantities: self.quantities[..len.min(self.quantities.len())].to_vec(),
        }
    }

    /// Index of the first day with a positive sale.
    pub fn first_sale(&self) -> Option<usize> {
        self.quantities.iter().position(|&q| q > 0.0)
    }
}

/// Days on which the whole store was closed: every series that had started selling sold
/// nothing. Needs at least `min_active` started series on a day to call it closed, because a
/// single product with no sales is ordinary intermittent demand, not a closure.
pub fn closed_days(all: &[SalesSeries], min_active: usize) -> BTreeSet<NaiveDate> {
    let mut first: Option<NaiveDate> = None;
    let mut last: Option<NaiveDate> = None;
    for s in all {
        if s.quantities.is_empty() {
            continue;
        }
        let end = s.date_at(s.quantities.len() - 1);
        first = Some(first.map_or(s.start, |f| f.min(s.start)));
        last = Some(last.map_or(end, |l| l.max(end)));
    }
    let (Some(first), Some(last)) = (first, last) else {
        return BTreeSet::new();
    };
    let starts: Vec<Option<NaiveDate>> = all
        .iter()
        .map(|s| s.first_sale().map(|i| s.date_at(i)))
        .collect();
    let mut closed = BTreeSet::new();
    let mut day = first;
    while day <= last {
        let mut active = 0;
        let mut any_sale = false;
        for (s, start) in all.iter().zip(&starts) {
            let (Some(start), Some(i)) = (start, s.index_of(day)) else {
                continue;
            };
            if day < *start {
                continue;
            }
            active += 1;
            if s.quantities[i] > 0.0 {
                any_sale = true;
                break;
            }
        }
        if !any_sale && active >= min_active {
            closed.insert(day);
        }
        day += Duration::days(1);
    }
    closed
}

/// A training history ready for the models: starts at the first sale, negative values
/// (returns) clipped to zero, closed days replaced by an estimate of the demand that day would
/// have had (the mean of the same weekday one week before and after, when open).
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedHistory {
    /// Demand per day, oldest first.
    pub values: Vec<f64>,
    /// Date of `values[0]`.
    pub start: NaiveDate,
    /// False on closed days (their values are estimates, not observations).
    pub open: Vec<bool>,
}

/// Prepares `series` for fitting; `None` when it never sold anything.
pub fn prepare(series: &SalesSeries, closed: &BTreeSet<NaiveDate>) -> Option<PreparedHistory> {
    let first = series.first_sale()?;
    let start = series.date_at(first);
    let raw: Vec<f64> = series.quantities[first..]
        .iter()
        .map(|q| q.max(0.0))
        .collect();
    let is_closed: Vec<bool> = (0..raw.len())
        .map(|i| closed.contains(&(start + Duration::days(i as i64))))
        .collect();
    let mut values = raw.clone();
    for i in 0..raw.len() {
        if !is_closed[i] {
            continue;
        }
        let before = i
            .checked_sub(7)
            .filter(|&j| !is_closed[j])
            .map(|j| values[j]);
        let after = Some(i + 7)
            .filter(|&j| j < raw.len() && !is_closed[j])
            .map(|j| raw[j]);
        values[i] = match (before, after) {
            (Some(b), Some(a)) => (a + b) / 2.0,
            (Some(b), None) => b,
            (None, Some(a)) => a,
            (None, None) => raw[i],
        };
    }
    let open = is_closed.iter().map(|c| !c).collect();
    Some(PreparedHistory {
        values,
        start,
        open,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(id: &str, q: &[f64]) -> SalesSeries {
        SalesSeries {
            id: id.into(),
            start: NaiveDate::from_ymd_opt(2023, 1, 2).unwrap(),
            quantities: q.to_vec(),
        }
    }

    #[test]
    fn a_day_when_every_active_series_sold_nothing_is_closed() {
        let all = [
            series("a", &[1.0, 0.0, 2.0, 1.0]),
            series("b", &[3.0, 0.0, 0.0, 1.0]),
            series("c", &[0.0, 0.0, 0.0, 5.0]),
        ];
        let closed = closed_days(&all, 2);
        let expect: BTreeSet<_> = [NaiveDate::from_ymd_opt(2023, 1, 3).unwrap()].into();
        assert_eq!(closed, expect);
    }

    #[test]
    fn preparation_trims_leading_zeros_clips_returns_and_fills_closed_days() {
        let mut q = vec![0.0, 0.0];
        q.extend((0..21).map(|i| if i == 10 { 0.0 } else { 10.0 + i as f64 }));
        q[5] = -1.0;
        let s = series("a", &q);
        let closed: BTreeSet<_> = [s.date_at(12)].into();
        let p = prepare(&s, &closed).unwrap();
        assert_eq!(p.start, s.date_at(2));
        assert_eq!(p.values.len(), 21);
        assert_eq!(p.values[3], 0.0);
        // index 10 of the prepared history: mean of days 3 and 17
        assert_eq!(p.values[10], (0.0 + 27.0) / 2.0);
    }
}
