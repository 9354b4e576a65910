//! The candidate forecasting models and their parameters.
//!
//! A [`Model`] is fitted once on a training history ([`fit_candidates`]) and then forecasts
//! from any history with its parameters fixed, which is what rolling-origin validation needs.
//! Weekday alignment is positional: the value 7 days before a forecast day falls on the same
//! weekday, so models need no calendar.

use serde::Serialize;

use super::holt_winters::{self, HoltWintersParams, SEASON};
use super::intermittent;

/// The family a model belongs to (stable names for reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// Tomorrow is like today.
    Naive,
    /// Next Monday is like last Monday.
    SeasonalNaive,
    /// Mean of the last four weeks, flat.
    WindowAverage,
    /// Mean of the same weekday over the last few weeks.
    WeekdayAverage,
    /// Simple exponential smoothing of the deseasonalised level times a weekday profile.
    WeekdayProfileSes,
    /// Damped additive Holt-Winters with a weekly season.
    HoltWinters,
    /// Holt-Winters on `ln(1 + y)`: multiplicative weekly pattern, never negative.
    HoltWintersLog,
    /// Damped Holt-Winters with a multiplicative weekly season (ETS(A,Ad,M)).
    HoltWintersMul,
    /// Croston's method with the Syntetos-Boylan bias correction (intermittent demand).
    CrostonSba,
    /// Teunter-Syntetos-Babai (intermittent demand that may become obsolete).
    Tsb,
    /// Mean of several models.
    Combination,
}

impl ModelKind {
    /// Stable snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Naive => "naive",
            ModelKind::SeasonalNaive => "seasonal_naive",
            ModelKind::WindowAverage => "window_average",
            ModelKind::WeekdayAverage => "weekday_average",
            ModelKind::WeekdayProfileSes => "weekday_profile_ses",
            ModelKind::HoltWinters => "holt_winters",
            ModelKind::HoltWintersLog => "holt_winters_log",
            ModelKind::HoltWintersMul => "holt_winters_mul",
            ModelKind::CrostonSba => "croston_sba",
            ModelKind::Tsb => "tsb",
            ModelKind::Combination => "combination",
        }
    }
}

/// A model with its parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum Model {
    /// Last value repeated.
    Naive,
    /// The last week repeated.
    SeasonalNaive,
    /// Mean of the last `days` days.
    WindowAverage {
        /// Window length in days.
        days: usize,
    },
    /// Mean of the same weekday over the last `weeks` weeks.
    WeekdayAverage {
        /// Number of weeks averaged.
        weeks: usize,
    },
    /// SES on the series divided by a multiplicative weekday profile.
    WeekdayProfileSes {
        /// Level smoothing.
        alpha: f64,
        /// Weeks used to estimate the weekday profile.
        profile_weeks: usize,
    },
    /// Damped additive Holt-Winters.
    HoltWinters(HoltWintersParams),
    /// Damped additive Holt-Winters on `ln(1 + y)`.
    HoltWintersLog(HoltWintersParams),
    /// Damped Holt-Winters with a multiplicative season.
    HoltWintersMul(HoltWintersParams),
    /// Croston-SBA with smoothing `alpha`.
    CrostonSba {
        /// Smoothing of sizes and intervals.
        alpha: f64,
    },
    /// TSB with smoothing of probability and size.
    Tsb {
        /// Probability smoothing.
        alpha_prob: f64,
        /// Size smoothing.
        alpha_size: f64,
    },
    /// Equal-weight mean of the members' forecasts.
    Combination(Vec<Model>),
}

impl Model {
    /// The model's family.
    pub fn kind(&self) -> ModelKind {
        match self {
            Model::Naive => ModelKind::Naive,
            Model::SeasonalNaive => ModelKind::SeasonalNaive,
            Model::WindowAverage { .. } => ModelKind::WindowAverage,
            Model::WeekdayAverage { .. } => ModelKind::WeekdayAverage,
            Model::WeekdayProfileSes { .. } => ModelKind::WeekdayProfileSes,
            Model::HoltWinters(_) => ModelKind::HoltWinters,
            Model::HoltWintersLog(_) => ModelKind::HoltWintersLog,
            Model::HoltWintersMul(_) => ModelKind::HoltWintersMul,
            Model::CrostonSba { .. } => ModelKind::CrostonSba,
            Model::Tsb { .. } => ModelKind::Tsb,
            Model::Combination(_) => ModelKind::Combination,
        }
    }

    /// A short description, unique among the candidates, e.g.
    /// `combination(holt_winters+weekday_average_4w)`.
    pub fn describe(&self) -> String {
        match self {
            Model::WindowAverage { days } => format!("window_average_{days}d"),
            Model::WeekdayAverage { weeks } => format!("weekday_average_{weeks}w"),
            Model::Combination(members) => {
                let names: Vec<String> = members.iter().map(Model::describe).collect();
                format!("combination({})", names.join("+"))
            }
            other => other.kind().name().to_string(),
        }
    }

    /// Forecasts `horizon` days after `y` (non-negative). An empty `y` forecasts zeros.
    pub fn forecast(&self, y: &[f64], horizon: usize) -> Vec<f64> {
        let mut out = if y.is_empty() {
            vec![0.0; horizon]
        } else {
            self.raw_forecast(y, horizon)
        };
        for v in &mut out {
            *v = v.max(0.0);
        }
        out
    }

    fn raw_forecast(&self, y: &[f64], horizon: usize) -> Vec<f64> {
        let n = y.len();
        match self {
            Model::Naive => vec![y[n - 1]; horizon],
            Model::SeasonalNaive => (0..horizon).map(|k| same_weekday(y, k, 1)).collect(),
            Model::WindowAverage { days } => vec![mean(&y[n.saturating_sub(*days)..]); horizon],
            Model::WeekdayAverage { weeks } => (0..horizon)
                .map(|k| {
                    let vals: Vec<f64> = (1..=*weeks)
                        .filter(|w| w * SEASON <= n)
                        .map(|w| same_weekday(y, k, w))
                        .collect();
                    if vals.is_empty() {
                        mean(y)
                    } else {
                        mean(&vals)
                    }
                })
                .collect(),
            Model::WeekdayProfileSes {
                alpha,
                profile_weeks,
            } => weekday_profile_ses(y, *alpha, *profile_weeks, horizon),
            Model::HoltWinters(p) => holt_winters::forecast(y, *p, horizon)
                .unwrap_or_else(|| Model::WeekdayAverage { weeks: 4 }.raw_forecast(y, horizon)),
            Model::HoltWintersLog(p) => {
                let logs: Vec<f64> = y.iter().map(|v| v.max(0.0).ln_1p()).collect();
                match holt_winters::forecast(&logs, *p, horizon) {
                    Some(f) => f.into_iter().map(f64::exp_m1).collect(),
                    None => Model::WeekdayAverage { weeks: 4 }.raw_forecast(y, horizon),
                }
            }
            Model::HoltWintersMul(p) => holt_winters::forecast_with(
                y,
                *p,
                horizon,
                holt_winters::Seasonality::Multiplicative,
            )
            .unwrap_or_else(|| Model::WeekdayAverage { weeks: 4 }.raw_forecast(y, horizon)),
            Model::CrostonSba { alpha } => vec![intermittent::croston(y, *alpha, true); horizon],
            Model::Tsb {
                alpha_prob,
                alpha_size,
            } => vec![intermittent::tsb(y, *alpha_prob, *alpha_size); horizon],
            Model::Combination(members) => {
                let mut sum = vec![0.0; horizon];
                for m in members {
                    for (s, v) in sum.iter_mut().zip(m.forecast(y, horizon)) {
                        *s += v;
                    }
                }
                let k = members.len().max(1) as f64;
                sum.into_iter().map(|s| s / k).collect()
            }
        }
    }
}

/// The value `weeks` weeks before forecast step `k` (0-based), wrapping inside the last
/// `weeks` weeks when the step lies further out than that.
fn same_weekday(y: &[f64], k: usize, weeks: usize) -> f64 {
    let n = y.len();
    let back = weeks * SEASON;
    if back > n {
        return y[n - 1];
    }
    y[n - back + (k % SEASON)]
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// Multiplicative weekday indices estimated on the last `weeks` weeks, indexed by position
/// `(i - (n - 7*weeks)) % 7`; all ones when the window sold nothing.
fn weekday_profile(y: &[f64], weeks: usize) -> [f64; SEASON] {
    let n = y.len();
    let len = (weeks * SEASON).min(n - n % SEASON);
    let mut profile = [1.0; SEASON];
    if len < SEASON {
        return profile;
    }
    let window = &y[n - len..];
    let total = mean(window);
    if total <= 0.0 {
        return profile;
    }
    let mut sums = [0.0; SEASON];
    for (i, v) in window.iter().enumerate() {
        sums[i % SEASON] += v;
    }
    let per = (len / SEASON) as f64;
    for (p, s) in profile.iter_mut().zip(sums) {
        // shrink towards 1 so a weekday with one odd week does not dominate
        *p = 0.8 * (s / per / total) + 0.2;
    }
    profile
}

/// Days of history the deseasonalised SES runs over.
const PROFILE_SES_DAYS: usize = 16 * SEASON;

fn weekday_profile_ses(y: &[f64], alpha: f64, weeks: usize, horizon: usize) -> Vec<f64> {
    let n = y.len();
    let profile = weekday_profile(y, weeks);
    // position of y[i] in the profile: the profile window ends at n, aligned so index n-7 is 0
    let pos = |i: usize| (i + SEASON * (n / SEASON + 1) - n) % SEASON;
    let start = n.saturating_sub(PROFILE_SES_DAYS);
    let deseasonalised: Vec<f64> = (start..n)
        .map(|i| y[i] / profile[pos(i)].max(1e-9))
        .collect();
    let mut level = mean(&deseasonalised[..SEASON.min(deseasonalised.len())]);
    for d in deseasonalised {
        level += alpha * (d - level);
    }
    (0..horizon).map(|k| level * profile[pos(n + k)]).collect()
}

fn one_step_sse_profile_ses(y: &[f64], alpha: f64, weeks: usize) -> f64 {
    let n = y.len();
    let profile = weekday_profile(y, weeks);
    let pos = |i: usize| (i + SEASON * (n / SEASON + 1) - n) % SEASON;
    let start = n.saturating_sub(PROFILE_SES_DAYS);
    let mut level = y[start] / profile[pos(start)].max(1e-9);
    let mut sse = 0.0;
    for (i, v) in y.iter().enumerate().skip(start + 1) {
        let p = profile[pos(i)];
        let e = v - level * p;
        sse += e * e;
        level += alpha * (v / p.max(1e-9) - level);
    }
    sse
}

/// Share of days with a sale below which a series counts as intermittent.
pub const INTERMITTENT_SHARE: f64 = 0.7;

/// Share of the last `days` days with a positive sale.
pub fn sale_share(y: &[f64], days: usize) -> f64 {
    let w = &y[y.len().saturating_sub(days)..];
    if w.is_empty() {
        return 0.0;
    }
    w.iter().filter(|&&v| v > 0.0).count() as f64 / w.len() as f64
}

/// Fits an opt-in candidate that is not (yet) among the defaults: `HoltWintersMul`, only for
/// series that sell on most days (a weekday factor from a few sales is noise). `None` for
/// other kinds or when the model does not fit.
pub fn fit_optional(y: &[f64], kind: ModelKind) -> Option<Model> {
    match kind {
        ModelKind::HoltWintersMul if sale_share(y, 56) >= 0.9 => {
            holt_winters::fit_with(y, holt_winters::Seasonality::Multiplicative)
                .map(Model::HoltWintersMul)
        }
        _ => None,
    }
}

/// Fits every candidate model's parameters on `y`. Combinations are not candidates: the
/// selection averages the best-validated candidates itself.
pub fn fit_candidates(y: &[f64]) -> Vec<Model> {
    let mut out = vec![
        Model::Naive,
        Model::SeasonalNaive,
        Model::WindowAverage { days: 28 },
        Model::WeekdayAverage { weeks: 4 },
        Model::WeekdayAverage { weeks: 8 },
    ];
    let ses_alpha = [0.05, 0.1, 0.2, 0.3, 0.5]
        .into_iter()
        .map(|a| (one_step_sse_profile_ses(y, a, 8), a))
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map_or(0.1, |(_, a)| a);
    out.push(Model::WeekdayProfileSes {
        alpha: ses_alpha,
        profile_weeks: 8,
    });
    if let Some(p) = holt_winters::fit(y) {
        out.push(Model::HoltWinters(p));
    }
    let logs: Vec<f64> = y.iter().map(|v| v.max(0.0).ln_1p()).collect();
    if let Some(p) = holt_winters::fit(&logs) {
        out.push(Model::HoltWintersLog(p));
    }
    out.push(Model::CrostonSba { alpha: 0.1 });
    out.push(Model::Tsb {
        alpha_prob: 0.1,
        alpha_size: 0.1,
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seasonal_naive_repeats_the_last_week() {
        let y: Vec<f64> = (0..14).map(f64::from).collect();
        let f = Model::SeasonalNaive.forecast(&y, 9);
        assert_eq!(f, vec![7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 7.0, 8.0]);
    }

    #[test]
    fn weekday_average_averages_the_same_weekday() {
        let y: Vec<f64> = (0..14).map(f64::from).collect();
        let f = Model::WeekdayAverage { weeks: 2 }.forecast(&y, 2);
        assert_eq!(f, vec![3.5, 4.5]);
    }

    #[test]
    fn profile_ses_follows_a_multiplicative_week() {
        let pattern = [1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 3.0];
        let y: Vec<f64> = (0..100).map(|t| 10.0 * pattern[t % 7]).collect();
        let f = Model::WeekdayProfileSes {
            alpha: 0.2,
            profile_weeks: 8,
        }
        .forecast(&y, 7);
        for (k, v) in f.iter().enumerate() {
            let want = 10.0 * pattern[(100 + k) % 7];
            assert!((v - want).abs() / want < 0.2, "step {k}: {v} vs {want}");
        }
    }

    #[test]
    fn forecasts_are_never_negative() {
        let y: Vec<f64> = (0..60).map(|t| 100.0 - 2.0 * t as f64).collect();
        for m in fit_candidates(&y) {
            assert!(m.forecast(&y, 28).iter().all(|v| *v >= 0.0), "{m:?}");
        }
    }
}
