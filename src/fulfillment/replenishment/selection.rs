//! Per-series model selection by rolling-origin validation, and the forecast with its band.
//!
//! The candidates' parameters are fitted on the history before the first validation origin;
//! each candidate then forecasts `horizon` days from several origins that move forward through
//! the end of the training history, and the candidate with the lowest total absolute error
//! wins. The winner is refitted on the whole history for the real forecast. Nothing after the
//! end of the given history is ever looked at, so a hold-out evaluation stays honest.

use std::collections::BTreeSet;

use chrono::{Duration, NaiveDate};
use serde::Serialize;

use super::models::{self, Model, ModelKind};
use super::series::{self, PreparedHistory, SalesSeries};

/// How to forecast.
#[derive(Debug, Clone, PartialEq)]
pub struct ForecastConfig {
    /// Days to forecast after the end of the history.
    pub horizon: usize,
    /// Days at the end of the history used for validation (split into windows of `horizon`).
    pub validation_days: usize,
    /// Minimum number of validation windows, even when `validation_days` is shorter.
    pub min_windows: usize,
    /// Central coverage of the uncertainty band, e.g. 0.8 for the 10%-90% band.
    pub band_coverage: f64,
    /// Number of best-validated candidates averaged into the final forecast (1 = pick the best).
    pub combine_top: usize,
    /// Restrict the choice to one model family (for baselines); `None` chooses freely.
    pub only: Option<ModelKind>,
    /// Model families left out of the choice (for ablations).
    pub exclude: Vec<ModelKind>,
    /// Opt-in candidates added to the defaults (see `models::fit_optional`; experiments).
    pub include: Vec<ModelKind>,
}

impl ForecastConfig {
    /// Defaults for a horizon: 12 weeks of validation, at least 3 windows, the mean of the 5
    /// best-validated models, 80% band (chosen on windows before 2023-06-03, see
    /// docs/benchmarks.md).
    pub fn for_horizon(horizon: usize) -> Self {
        Self {
            horizon,
            validation_days: 84,
            min_windows: 3,
            band_coverage: 0.8,
            combine_top: 5,
            only: None,
            exclude: Vec::new(),
            include: Vec::new(),
        }
    }
}

/// Why a forecast could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ForecastError {
    /// The horizon is zero.
    #[error("the forecast horizon must be at least one day")]
    ZeroHorizon,
    /// The band coverage is not strictly between 0 and 1.
    #[error("band coverage {0} must lie strictly between 0 and 1")]
    BadCoverage(f64),
}

/// A daily forecast with its uncertainty band.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Forecast {
    /// Series id.
    pub series_id: String,
    /// Date of `point[0]`: the day after the history ends.
    pub start: NaiveDate,
    /// The chosen model, e.g. `holt_winters` or `combination(holt_winters+weekday_average)`.
    pub model: String,
    /// The chosen model's family.
    pub kind: ModelKind,
    /// The best-validated candidates averaged into the forecast (one entry when a single
    /// model was chosen).
    pub members: Vec<String>,
    /// Expected demand per day.
    pub point: Vec<f64>,
    /// Lower edge of the band per day (never below 0).
    pub lower: Vec<f64>,
    /// Upper edge of the band per day.
    pub upper: Vec<f64>,
    /// Mean absolute error per day of the chosen model in validation (0 when not validated).
    pub validation_mae: f64,
}

impl Forecast {
    /// Total expected demand over the first `days` days.
    pub fn total(&self, days: usize) -> f64 {
        self.point.iter().take(days).sum()
    }
}

fn candidates(y: &[f64], config: &ForecastConfig) -> Vec<Model> {
    let optional = config
        .include
        .iter()
        .filter_map(|k| models::fit_optional(y, *k));
    models::fit_candidates(y)
        .into_iter()
        .chain(optional)
        .filter(|m| config.only.is_none_or(|k| m.kind() == k))
        .filter(|m| !config.exclude.contains(&m.kind()))
        .collect()
}

struct Validation {
    model_key: String,
    mae: f64,
    /// Forecasts on the open validation days, in order.
    forecasts: Vec<f64>,
}

struct ValidationRun {
    /// Observed demand on the open validation days.
    actual: Vec<f64>,
    /// Every candidate, best (lowest MAE) first.
    ranking: Vec<Validation>,
}

/// Scores every candidate on rolling origins at the end of `h`.
fn validate(h: &PreparedHistory, config: &ForecastConfig) -> Option<ValidationRun> {
    let n = h.values.len();
    let step = config.horizon;
    let wanted = (config.validation_days / step).max(config.min_windows);
    // keep at least four weeks before the first origin for fitting
    let possible = n.saturating_sub(28) / step;
    let windows = wanted.min(possible);
    if windows == 0 {
        return None;
    }
    let first_origin = n - windows * step;
    let open_days = |origin: usize| (0..step).filter(move |k| h.open[origin + k]);
    let actual: Vec<f64> = (0..windows)
        .flat_map(|w| {
            let origin = first_origin + w * step;
            open_days(origin).map(move |k| h.values[origin + k])
        })
        .collect();
    let fitted = candidates(&h.values[..first_origin], config);
    let mut ranking: Vec<Validation> = fitted
        .iter()
        .map(|m| {
            let mut forecasts = Vec::with_capacity(actual.len());
            for w in 0..windows {
                let origin = first_origin + w * step;
                let f = m.forecast(&h.values[..origin], step);
                forecasts.extend(open_days(origin).map(|k| f[k]));
            }
            Validation {
                model_key: m.describe(),
                mae: mae(&actual, &forecasts),
                forecasts,
            }
        })
        .collect();
    ranking.sort_by(|a, b| a.mae.total_cmp(&b.mae));
    Some(ValidationRun { actual, ranking })
}

fn mae(actual: &[f64], forecast: &[f64]) -> f64 {
    super::metrics::mae(actual, forecast)
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Forecasts `config.horizon` days after the end of `series`. `closed` lists days the store is
/// closed: in the history they are treated as missing, in the future they get zero demand.
pub fn forecast_series(
    series: &SalesSeries,
    closed: &BTreeSet<NaiveDate>,
    config: &ForecastConfig,
) -> Result<Forecast, ForecastError> {
    if config.horizon == 0 {
        return Err(ForecastError::ZeroHorizon);
    }
    if !(config.band_coverage > 0.0 && config.band_coverage < 1.0) {
        return Err(ForecastError::BadCoverage(config.band_coverage));
    }
    let start = series.date_at(series.quantities.len());
    let Some(h) = series::prepare(series, closed) else {
        let zeros = vec![0.0; config.horizon];
        return Ok(Forecast {
            series_id: series.id.clone(),
            start,
            model: "no_sales".into(),
            kind: ModelKind::Naive,
            members: Vec::new(),
            point: zeros.clone(),
            lower: zeros.clone(),
            upper: zeros,
            validation_mae: 0.0,
        });
    };
    let run = validate(&h, config);
    let final_candidates = candidates(&h.values, config);
    let refit = |key: &str| {
        final_candidates
            .iter()
            .find(|m| m.describe() == key)
            .cloned()
    };
    let top: Vec<&Validation> = run
        .as_ref()
        .map(|r| r.ranking.iter().take(config.combine_top.max(1)).collect())
        .unwrap_or_default();
    let top_models: Vec<Model> = top.iter().filter_map(|v| refit(&v.model_key)).collect();
    let members: Vec<String> = top_models.iter().map(Model::describe).collect();
    let chosen = match top_models.len() {
        0 => final_candidates
            .iter()
            .find(|m| matches!(m, Model::WeekdayAverage { .. }))
            .or(final_candidates.first())
            .cloned()
            .unwrap_or(Model::Naive),
        1 => top_models[0].clone(),
        _ => Model::Combination(top_models),
    };
    let mut point = chosen.forecast(&h.values, config.horizon);
    // the band comes from the validation residuals of the chosen (combined) forecast;
    // without validation (very short history) it is 0..2x the point forecast
    let (lo_q, hi_q, validation_mae) = match (&run, top.is_empty()) {
        (Some(run), false) => {
            let k = top.len() as f64;
            let combined: Vec<f64> = (0..run.actual.len())
                .map(|i| top.iter().map(|v| v.forecasts[i]).sum::<f64>() / k)
                .collect();
            let mut r: Vec<f64> = run
                .actual
                .iter()
                .zip(&combined)
                .map(|(a, f)| a - f)
                .collect();
            r.sort_by(f64::total_cmp);
            let tail = (1.0 - config.band_coverage) / 2.0;
            (
                Some(quantile(&r, tail)),
                Some(quantile(&r, 1.0 - tail)),
                mae(&run.actual, &combined),
            )
        }
        _ => (None, None, 0.0),
    };
    let mut lower: Vec<f64> = point
        .iter()
        .map(|p| lo_q.map_or(0.0, |q| (p + q).min(*p).max(0.0)))
        .collect();
    let mut upper: Vec<f64> = point
        .iter()
        .map(|&p| hi_q.map_or(2.0 * p, |q| (p + q).max(p)))
        .collect();
    for k in 0..config.horizon {
        if closed.contains(&(start + Duration::days(k as i64))) {
            point[k] = 0.0;
            lower[k] = 0.0;
            upper[k] = 0.0;
        }
    }
    Ok(Forecast {
        series_id: series.id.clone(),
        start,
        model: chosen.describe(),
        kind: chosen.kind(),
        members,
        point,
        lower,
        upper,
        validation_mae,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weekly_series(days: usize, noise: bool) -> SalesSeries {
        let pattern = [20.0, 22.0, 25.0, 21.0, 30.0, 45.0, 50.0];
        let quantities = (0..days)
            .map(|t| {
                let wiggle = if noise {
                    ((t * 7919) % 13) as f64 / 13.0 - 0.5
                } else {
                    0.0
                };
                pattern[t % 7] + 2.0 * wiggle
            })
            .collect();
        SalesSeries {
            id: "veg".into(),
            start: NaiveDate::from_ymd_opt(2023, 1, 2).unwrap(),
            quantities,
        }
    }

    #[test]
    fn a_series_with_known_weekly_seasonality_is_forecast_within_a_few_percent() {
        let s = weekly_series(364, true);
        let f = forecast_series(&s, &BTreeSet::new(), &ForecastConfig::for_horizon(14)).unwrap();
        let pattern = [20.0, 22.0, 25.0, 21.0, 30.0, 45.0, 50.0];
        for (k, v) in f.point.iter().enumerate() {
            let want = pattern[(364 + k) % 7];
            assert!(
                (v - want).abs() / want < 0.08,
                "{} step {k}: {v} vs {want}",
                f.model
            );
            assert!(f.lower[k] <= *v && *v <= f.upper[k]);
        }
        assert_eq!(f.start, s.date_at(364));
    }

    #[test]
    fn future_closed_days_get_zero_demand() {
        let s = weekly_series(200, false);
        let closed: BTreeSet<_> = [s.date_at(201)].into();
        let f = forecast_series(&s, &closed, &ForecastConfig::for_horizon(7)).unwrap();
        assert_eq!(f.point[1], 0.0);
        assert!(f.point[0] > 0.0);
    }

    #[test]
    fn very_short_histories_still_get_a_forecast_and_a_band() {
        for days in 1..40 {
            let s = SalesSeries {
                id: "new".into(),
                start: NaiveDate::from_ymd_opt(2023, 1, 2).unwrap(),
                quantities: (0..days).map(|t| (t % 3) as f64).collect(),
            };
            let f = forecast_series(&s, &BTreeSet::new(), &ForecastConfig::for_horizon(7)).unwrap();
            assert_eq!(f.point.len(), 7, "{days} days");
            for k in 0..7 {
                assert!(
                    f.point[k].is_finite() && f.lower[k] <= f.point[k] && f.point[k] <= f.upper[k]
                );
            }
        }
    }

    #[test]
    fn a_series_that_never_sold_forecasts_zero() {
        let s = SalesSeries {
            id: "x".into(),
            start: NaiveDate::from_ymd_opt(2023, 1, 2).unwrap(),
            quantities: vec![0.0; 30],
        };
        let f = forecast_series(&s, &BTreeSet::new(), &ForecastConfig::for_horizon(7)).unwrap();
        assert_eq!(f.point, vec![0.0; 7]);
    }

    #[test]
    fn bad_configuration_is_rejected() {
        let s = weekly_series(50, false);
        let mut c = ForecastConfig::for_horizon(0);
        assert_eq!(
            forecast_series(&s, &BTreeSet::new(), &c),
            Err(ForecastError::ZeroHorizon)
        );
        c.horizon = 7;
        c.band_coverage = 1.5;
        assert_eq!(
            forecast_series(&s, &BTreeSet::new(), &c),
            Err(ForecastError::BadCoverage(1.5))
        );
    }
}
