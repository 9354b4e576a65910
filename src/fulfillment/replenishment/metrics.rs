//! Forecast accuracy measures, defined exactly as in the shared anchors
//! (`shared/data/forecast/README.md`) so numbers are comparable.

/// In-sample mean absolute error of the lag-7 seasonal naive on `train`, counted from the
/// first positive sale. `None` when fewer than 8 days follow the first sale or the scale is 0.
pub fn seasonal_naive_scale(train: &[f64]) -> Option<f64> {
    let first = train.iter().position(|&v| v > 0.0)?;
    let y = &train[first..];
    if y.len() <= 7 {
        return None;
    }
    let sum: f64 = y.windows(8).map(|w| (w[7] - w[0]).abs()).sum();
    let scale = sum / (y.len() - 7) as f64;
    (scale > 0.0).then_some(scale)
}

/// Mean absolute scaled error: MAE of the forecast over the seasonal-naive scale.
pub fn mase(actual: &[f64], forecast: &[f64], scale: f64) -> f64 {
    mae(actual, forecast) / scale
}

/// Mean absolute error.
pub fn mae(actual: &[f64], forecast: &[f64]) -> f64 {
    let n = actual.len().min(forecast.len());
    if n == 0 {
        return 0.0;
    }
    actual
        .iter()
        .zip(forecast)
        .map(|(a, f)| (a - f).abs())
        .sum::<f64>()
        / n as f64
}

/// Symmetric MAPE in percent: mean of `200|y-f|/(|y|+|f|)`, with 0/0 counted as 0.
pub fn smape(actual: &[f64], forecast: &[f64]) -> f64 {
    let n = actual.len().min(forecast.len());
    if n == 0 {
        return 0.0;
    }
    actual
        .iter()
        .zip(forecast)
        .map(|(a, f)| {
            let d = a.abs() + f.abs();
            if d == 0.0 {
                0.0
            } else {
                200.0 * (a - f).abs() / d
            }
        })
        .sum::<f64>()
        / n as f64
}

/// Median of `values` (mean of the middle two for an even count); 0 when empty.
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_starts_at_the_first_sale() {
        let mut train = vec![0.0; 5];
        train.extend([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 3.0, 2.0]);
        // pairs (1,3) and (2,2): |2| and |0| -> 1
        assert_eq!(seasonal_naive_scale(&train), Some(1.0));
        assert_eq!(seasonal_naive_scale(&[0.0; 20]), None);
    }

    #[test]
    fn smape_counts_zero_over_zero_as_zero() {
        assert_eq!(smape(&[0.0, 1.0], &[0.0, 1.0]), 0.0);
        assert_eq!(smape(&[0.0], &[2.0]), 200.0);
    }

    #[test]
    fn median_of_even_and_odd_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
