//! Holt-Winters with a damped trend and a weekly season, additive (ETS(A,Ad,A)) or
//! multiplicative (ETS(A,Ad,M): the weekday pattern scales with the level), fitted by a grid
//! search on one-step-ahead squared errors.

/// Season length: one week of daily data.
pub const SEASON: usize = 7;

/// Smoothing parameters of the damped additive Holt-Winters model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HoltWintersParams {
    /// Level smoothing, 0..1.
    pub alpha: f64,
    /// Trend smoothing, 0..1 (0 keeps the initial flat trend).
    pub beta: f64,
    /// Seasonal smoothing, 0..1.
    pub gamma: f64,
    /// Trend damping, 0..1: the trend's effect fades as `phi^k`.
    pub phi: f64,
}

/// How much of the history the fit looks at: long enough for the seasonal states to settle,
/// short enough that demand from two summers ago does not weigh on the fit.
pub const FIT_WINDOW_DAYS: usize = 728;

const ALPHAS: [f64; 6] = [0.02, 0.05, 0.1, 0.2, 0.3, 0.5];
const BETAS: [f64; 3] = [0.0, 0.01, 0.05];
const GAMMAS: [f64; 4] = [0.01, 0.05, 0.1, 0.2];
const PHIS: [f64; 3] = [0.8, 0.9, 0.98];

struct States {
    level: f64,
    trend: f64,
    season: [f64; SEASON],
    /// Position in `season` of the next day's seasonal state.
    next: usize,
}

/// How the weekly season combines with the level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seasonality {
    /// level + season
    Additive,
    /// level x season
    Multiplicative,
}

/// Smallest seasonal factor or level used as a divisor (a weekday without sales).
const FLOOR: f64 = 1e-3;

/// Runs the filter over `y`; returns the final states and the sum of squared one-step errors
/// after the first two weeks.
fn filter(y: &[f64], p: HoltWintersParams, kind: Seasonality) -> Option<(States, f64)> {
    if y.len() < 2 * SEASON {
        return None;
    }
    let level0 = y[..SEASON].iter().sum::<f64>() / SEASON as f64;
    if kind == Seasonality::Multiplicative && level0 <= FLOOR {
        return None;
    }
    let mut season = [0.0; SEASON];
    for (s, v) in season.iter_mut().zip(&y[..SEASON]) {
        *s = match kind {
            Seasonality::Additive => v - level0,
            Seasonality::Multiplicative => (v / level0).max(FLOOR),
        };
    }
    let mut st = States {
        level: level0,
        trend: 0.0,
        season,
        next: 0,
    };
    let mut sse = 0.0;
    for (t, &v) in y.iter().enumerate().skip(SEASON) {
        let s_old = st.season[st.next];
        let damped = p.phi * st.trend;
        let base = st.level + damped;
        let fitted = match kind {
            Seasonality::Additive => base + s_old,
            Seasonality::Multiplicative => base * s_old,
        };
        let err = v - fitted;
        if t >= 2 * SEASON {
            sse += err * err;
        }
        let (level, season) = match kind {
            Seasonality::Additive => (
                p.alpha * (v - s_old) + (1.0 - p.alpha) * base,
                p.gamma * (v - base) + (1.0 - p.gamma) * s_old,
            ),
            Seasonality::Multiplicative => (
                p.alpha * (v / s_old.max(FLOOR)) + (1.0 - p.alpha) * base,
                (p.gamma * (v / base.max(FLOOR)) + (1.0 - p.gamma) * s_old).max(FLOOR),
            ),
        };
        st.trend = p.beta * (level - st.level) + (1.0 - p.beta) * damped;
        st.season[st.next] = season;
        st.level = level;
        st.next = (st.next + 1) % SEASON;
    }
    Some((st, sse))
}

fn fit_window(y: &[f64]) -> &[f64] {
    &y[y.len().saturating_sub(FIT_WINDOW_DAYS)..]
}

/// Grid-searches the parameters that minimise the one-step squared error on `y`.
pub fn fit(y: &[f64]) -> Option<HoltWintersParams> {
    fit_with(y, Seasonality::Additive)
}

/// [`fit`] for either kind of seasonality.
pub fn fit_with(y: &[f64], kind: Seasonality) -> Option<HoltWintersParams> {
    let y = fit_window(y);
    let mut best: Option<(f64, HoltWintersParams)> = None;
    for &alpha in &ALPHAS {
        for &gamma in &GAMMAS {
            for &beta in &BETAS {
                for &phi in &PHIS {
                    let p = HoltWintersParams {
                        alpha,
                        beta,
                        gamma,
                        phi,
                    };
                    let (_, sse) = filter(y, p, kind)?;
                    if !sse.is_finite() {
                        continue;
                    }
                    if best.is_none_or(|(b, _)| sse < b) {
                        best = Some((sse, p));
                    }
                    if beta == 0.0 {
                        // without trend smoothing the damping factor changes nothing
                        break;
                    }
                }
            }
        }
    }
    best.map(|(_, p)| p)
}

/// Forecasts `horizon` days after `y` with fixed parameters.
pub fn forecast(y: &[f64], p: HoltWintersParams, horizon: usize) -> Option<Vec<f64>> {
    forecast_with(y, p, horizon, Seasonality::Additive)
}

/// [`forecast`] for either kind of seasonality.
pub fn forecast_with(
    y: &[f64],
    p: HoltWintersParams,
    horizon: usize,
    kind: Seasonality,
) -> Option<Vec<f64>> {
    let (st, _) = filter(fit_window(y), p, kind)?;
    let mut out = Vec::with_capacity(horizon);
    let mut damp_sum = 0.0;
    let mut damp = 1.0;
    for k in 0..horizon {
        damp *= p.phi;
        damp_sum += damp;
        let s = st.season[(st.next + k) % SEASON];
        let base = st.level + damp_sum * st.trend;
        out.push(match kind {
            Seasonality::Additive => base + s,
            Seasonality::Multiplicative => base * s,
        });
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_a_clean_weekly_pattern() {
        let pattern = [10.0, 12.0, 14.0, 9.0, 8.0, 20.0, 25.0];
        let y: Vec<f64> = (0..200).map(|t| pattern[t % 7]).collect();
        let p = fit(&y).unwrap();
        let f = forecast(&y, p, 14).unwrap();
        for (k, v) in f.iter().enumerate() {
            assert!((v - pattern[(200 + k) % 7]).abs() < 0.5, "day {k}: {v}");
        }
    }

    #[test]
    fn the_multiplicative_season_scales_with_the_level() {
        // the weekend doubles sales whatever the level, and the level grows 50%
        let pattern = [1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0];
        let y: Vec<f64> = (0..280)
            .map(|t| if t < 140 { 10.0 } else { 15.0 } * pattern[t % 7])
            .collect();
        let p = fit_with(&y, Seasonality::Multiplicative).unwrap();
        let f = forecast_with(&y, p, 7, Seasonality::Multiplicative).unwrap();
        for (k, v) in f.iter().enumerate() {
            let want = 15.0 * pattern[(280 + k) % 7];
            assert!((v - want).abs() / want < 0.05, "day {k}: {v} vs {want}");
        }
    }

    #[test]
    fn too_short_a_history_gives_no_forecast() {
        assert!(fit(&[1.0; 10]).is_none());
    }
}
