//! Forecasts for intermittent demand: items that sell on some days only.
//!
//! Croston smooths the non-zero sizes and the intervals between them separately; SBA
//! (Syntetos-Boylan approximation) removes Croston's upward bias with a `1 - alpha/2` factor;
//! TSB (Teunter-Syntetos-Babai) smooths the probability of a sale every day, so the forecast
//! decays when an item stops selling (useful for seasonal produce leaving the assortment).

/// Flat per-day demand rate by Croston's method; `debias` applies the SBA correction.
pub fn croston(y: &[f64], alpha: f64, debias: bool) -> f64 {
    let mut size: Option<f64> = None;
    let mut interval = 1.0;
    let mut since = 0.0;
    for &v in y {
        since += 1.0;
        if v > 0.0 {
            match size {
                None => {
                    size = Some(v);
                    interval = since;
                }
                Some(z) => {
                    size = Some(z + alpha * (v - z));
                    interval += alpha * (since - interval);
                }
            }
            since = 0.0;
        }
    }
    let Some(z) = size else { return 0.0 };
    let rate = z / interval.max(1.0);
    if debias {
        rate * (1.0 - alpha / 2.0)
    } else {
        rate
    }
}

/// Flat per-day demand rate by TSB: smoothed probability of a sale times smoothed size.
pub fn tsb(y: &[f64], alpha_prob: f64, alpha_size: f64) -> f64 {
    let Some(first) = y.iter().position(|&v| v > 0.0) else {
        return 0.0;
    };
    let sales = y.iter().filter(|&&v| v > 0.0).count() as f64;
    let mut prob = sales / y.len() as f64;
    let mut size = y[first];
    for &v in &y[first..] {
        if v > 0.0 {
            prob += alpha_prob * (1.0 - prob);
            size += alpha_size * (v - size);
        } else {
            prob -= alpha_prob * prob;
        }
    }
    prob * size
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn croston_of_a_regular_every_third_day_sale_is_size_over_interval() {
        let y: Vec<f64> = (0..60)
            .map(|t| if t % 3 == 2 { 6.0 } else { 0.0 })
            .collect();
        assert!((croston(&y, 0.1, false) - 2.0).abs() < 1e-9);
        assert!((croston(&y, 0.1, true) - 1.9).abs() < 1e-9);
    }

    #[test]
    fn tsb_decays_after_an_item_stops_selling() {
        let mut y = vec![5.0; 30];
        y.extend(vec![0.0; 30]);
        let rate = tsb(&y, 0.1, 0.1);
        assert!(rate < 5.0 * 0.9f64.powi(29), "{rate}");
        assert_eq!(tsb(&[0.0; 5], 0.1, 0.1), 0.0);
    }
}
