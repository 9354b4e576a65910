//! When an order needs a person before the warehouse picks it: the thresholds of the risk
//! rules (`[business.risk]` in `freshbot.toml`). The scoring itself is
//! `analytics::risk::assess`.

use serde::{Deserialize, Serialize};

/// The thresholds; the defaults suit a household grocery service (a basket is ¥60-150).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RiskRules {
    /// A first order above this total is unusual.
    pub first_order_large_fen: i64,
    /// Any order above this total is worth a call.
    pub very_large_fen: i64,
    /// Cancellations before that make a habit (with at least this share of all ended orders).
    pub cancel_habit_count: u32,
    pub cancel_habit_share: f64,
    /// Failed deliveries before that predict another.
    pub failed_deliveries: u32,
    /// Open orders at once (this one included) that suggest a duplicate.
    pub open_orders: u32,
    /// Share of the radius beyond which an address counts as at the edge.
    pub edge_share: f64,
    /// Score at which the order is flagged for a person.
    pub flag_at: u32,
}

impl Default for RiskRules {
    fn default() -> Self {
        Self {
            first_order_large_fen: 50_000,
            very_large_fen: 150_000,
            cancel_habit_count: 2,
            cancel_habit_share: 0.4,
            failed_deliveries: 2,
            open_orders: 3,
            edge_share: 0.9,
            flag_at: 50,
        }
    }
}

impl RiskRules {
    pub fn validate(&self) -> Result<(), String> {
        if self.first_order_large_fen <= 0 || self.very_large_fen <= 0 {
            return Err(
                "risk amounts (first_order_large_fen, very_large_fen) must be positive".into(),
            );
        }
        for (name, share) in [
            ("cancel_habit_share", self.cancel_habit_share),
            ("edge_share", self.edge_share),
        ] {
            if !(0.0..=1.0).contains(&share) {
                return Err(format!("risk.{name} must be between 0 and 1, not {share}"));
            }
        }
        if self.cancel_habit_count == 0 || self.failed_deliveries == 0 {
            return Err(
                "risk counts (cancel_habit_count, failed_deliveries) must be at least 1".into(),
            );
        }
        // The order being scored is open itself: 1 would flag every order.
        if self.open_orders < 2 {
            return Err("risk.open_orders must be at least 2 (the scored order counts)".into());
        }
        if self.flag_at == 0 {
            return Err("risk.flag_at must be at least 1 (0 would flag every order)".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid_and_nonsense_is_refused_with_the_key() {
        assert_eq!(RiskRules::default().validate(), Ok(()));
        let bad = |f: fn(&mut RiskRules)| {
            let mut r = RiskRules::default();
            f(&mut r);
            r.validate().unwrap_err()
        };
        assert!(bad(|r| r.edge_share = 1.5).contains("edge_share"));
        assert!(bad(|r| r.cancel_habit_share = f64::NAN).contains("cancel_habit_share"));
        assert!(bad(|r| r.open_orders = 1).contains("open_orders"));
        assert!(bad(|r| r.flag_at = 0).contains("flag_at"));
        assert!(bad(|r| r.very_large_fen = -1).contains("very_large_fen"));
    }
}
