//! Membership: a tier from completed orders and the cancellation rate over a recent window,
//! and points per yuan spent. A customer who cancels a lot never reaches the top tier.

use serde::{Deserialize, Serialize};

use crate::domain::{Fen, Lang};

/// One tier's entry conditions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierRule {
    /// Stable code, e.g. `gold`.
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// Completed (delivered) orders needed within the window.
    pub min_completed: u32,
    /// Highest cancellation rate allowed, in percent of orders ended in the window.
    pub max_cancel_percent: u32,
    /// Served first in handoff queues and earlier within courier routes.
    pub priority: bool,
}

/// Membership settings (`[business.membership]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MembershipRules {
    pub window_days: u32,
    pub points_per_yuan: u32,
    /// From the highest tier to the lowest; the last must accept everyone.
    pub tiers: Vec<TierRule>,
}

impl Default for MembershipRules {
    fn default() -> Self {
        let t = |code: &str, zh: &str, en: &str, min, max, priority| TierRule {
            code: code.into(),
            name_zh: zh.into(),
            name_en: en.into(),
            min_completed: min,
            max_cancel_percent: max,
            priority,
        };
        Self {
            window_days: 90,
            points_per_yuan: 1,
            tiers: vec![
                t("gold", "金卡会员", "Gold", 10, 10, true),
                t("silver", "银卡会员", "Silver", 3, 25, false),
                t("regular", "普通会员", "Regular", 0, 100, false),
            ],
        }
    }
}

impl TierRule {
    pub fn name(&self, lang: Lang) -> &str {
        lang.pick(&self.name_zh, &self.name_en)
    }
}

impl MembershipRules {
    pub fn validate(&self) -> Result<(), String> {
        match self.tiers.last() {
            None => Err("membership.tiers must not be empty".into()),
            Some(t) if t.min_completed != 0 || t.max_cancel_percent < 100 => Err(format!(
                "the last membership tier ({}) must accept everyone: min_completed = 0, max_cancel_percent = 100",
                t.code
            )),
            Some(_) => Ok(()),
        }
    }

    /// The highest tier whose conditions hold for `completed` delivered and `cancelled` orders
    /// in the window.
    pub fn tier(&self, completed: u32, cancelled: u32) -> Option<&TierRule> {
        let ended = u64::from(completed) + u64::from(cancelled);
        let cancel_percent = (u64::from(cancelled) * 100).checked_div(ended).unwrap_or(0);
        self.tiers.iter().find(|t| {
            completed >= t.min_completed && cancel_percent <= u64::from(t.max_cancel_percent)
        })
    }

    /// Points earned for paying `paid`.
    pub fn points_for(&self, paid: Fen) -> i64 {
        paid.whole_yuan().max(0) * i64::from(self.points_per_yuan)
    }
}

/// A customer's membership as of now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Membership {
    pub tier: TierRule,
    pub completed_in_window: u32,
    pub cancelled_in_window: u32,
    /// Points for every delivered order (paid on delivery), per whole yuan.
    pub points: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_from_orders_and_cancel_rate() {
        let r = MembershipRules::default();
        let code = |c, x| r.tier(c, x).map(|t| t.code.as_str());
        assert_eq!(code(0, 0), Some("regular"));
        assert_eq!(code(3, 0), Some("silver"));
        assert_eq!(code(12, 1), Some("gold"));
        // A frequent canceller stays out of gold however much they order.
        assert_eq!(code(40, 10), Some("silver"));
        assert_eq!(code(40, 30), Some("regular"));
        assert_eq!(r.points_for(Fen::new(5999)), 59);
        assert!(r.validate().is_ok());
        let bad = MembershipRules {
            tiers: vec![],
            ..MembershipRules::default()
        };
        assert!(bad.validate().is_err());
    }
}
