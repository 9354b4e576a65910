//! The cancel policy: free before picking; a fee during picking and packing and within a
//! cooling-off window after dispatch; refused after that window and once delivered.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{Fen, OrderStatus};

/// Cancel policy settings (`[business.cancel]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CancelPolicy {
    /// Fee as a percent of the goods total, during picking and in the cooling-off window.
    pub fee_percent: u32,
    /// The fee is at least this many fen (but never more than the goods total).
    pub fee_min_fen: i64,
    /// Minutes after dispatch during which a cancel is still accepted (with the fee).
    pub cooling_off_minutes: u32,
}

impl Default for CancelPolicy {
    fn default() -> Self {
        Self {
            fee_percent: 10,
            fee_min_fen: 200,
            cooling_off_minutes: 60,
        }
    }
}

/// What the policy says about a cancel request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelDecision {
    Free,
    WithFee(Fen),
    Refused(CancelRefusal),
}

/// Why a cancel is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CancelRefusal {
    /// The order has been delivered.
    #[error("the order has already been delivered")]
    Delivered,
    /// The order is already cancelled.
    #[error("the order is already cancelled")]
    AlreadyCancelled,
    /// Past the cooling-off window after dispatch.
    #[error(
        "the order left {minutes} minutes ago; it can no longer be cancelled after {limit} minutes"
    )]
    CoolingOffOver { minutes: i64, limit: u32 },
}

impl CancelPolicy {
    pub fn validate(&self) -> Result<(), String> {
        if self.fee_percent > 100 {
            return Err(format!(
                "cancel.fee_percent {} is over 100",
                self.fee_percent
            ));
        }
        if self.fee_min_fen < 0 {
            return Err("cancel.fee_min_fen must not be negative".into());
        }
        Ok(())
    }

    fn fee(&self, goods: Fen) -> Fen {
        goods
            .percent(self.fee_percent)
            .max(Fen::new(self.fee_min_fen))
            .min(goods)
            .max(Fen::ZERO)
    }

    /// Decides a cancel of an order in `status` with `goods` total, dispatched at
    /// `dispatched_at` (if it was), at time `now`.
    pub fn decide(
        &self,
        status: OrderStatus,
        goods: Fen,
        dispatched_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> CancelDecision {
        use OrderStatus::*;
        match status {
            Placed | Confirmed => CancelDecision::Free,
            Picking | Packed => CancelDecision::WithFee(self.fee(goods)),
            OutForDelivery | FailedDelivery => {
                let since = dispatched_at.map(|t| now - t).unwrap_or(Duration::zero());
                if since <= Duration::minutes(i64::from(self.cooling_off_minutes)) {
                    CancelDecision::WithFee(self.fee(goods))
                } else {
                    CancelDecision::Refused(CancelRefusal::CoolingOffOver {
                        minutes: since.num_minutes(),
                        limit: self.cooling_off_minutes,
                    })
                }
            }
            Delivered => CancelDecision::Refused(CancelRefusal::Delivered),
            Cancelled => CancelDecision::Refused(CancelRefusal::AlreadyCancelled),
        }
    }
}

/// Why the customer cancelled (the quick replies of the cancel flow).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelReason {
    OutOfStock,
    TooSlow,
    OrderedByMistake,
    NoLongerNeeded,
    Other,
}

impl CancelReason {
    pub const ALL: [CancelReason; 5] = [
        CancelReason::OutOfStock,
        CancelReason::TooSlow,
        CancelReason::OrderedByMistake,
        CancelReason::NoLongerNeeded,
        CancelReason::Other,
    ];

    pub fn code(self) -> &'static str {
        match self {
            CancelReason::OutOfStock => "out_of_stock",
            CancelReason::TooSlow => "too_slow",
            CancelReason::OrderedByMistake => "ordered_by_mistake",
            CancelReason::NoLongerNeeded => "no_longer_needed",
            CancelReason::Other => "other",
        }
    }

    pub fn label(self, lang: crate::domain::Lang) -> &'static str {
        use CancelReason::*;
        match self {
            OutOfStock => lang.pick("缺货", "Out of stock"),
            TooSlow => lang.pick("太慢", "Too slow"),
            OrderedByMistake => lang.pick("买错了", "Ordered by mistake"),
            NoLongerNeeded => lang.pick("不需要了", "No longer needed"),
            Other => lang.pick("其他", "Other"),
        }
    }
}

impl std::str::FromStr for CancelReason {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CancelReason::ALL
            .into_iter()
            .find(|r| r.code() == s.trim())
            .ok_or_else(|| format!("unknown cancel reason {s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderStatus::*;

    #[test]
    fn outcome_at_each_stage() {
        let p = CancelPolicy::default();
        let now: DateTime<Utc> = "2026-11-25T10:00:00Z".parse().unwrap();
        let goods = Fen::new(8000);
        let fee = CancelDecision::WithFee(Fen::new(800));
        let dispatched = |mins: i64| Some(now - Duration::minutes(mins));
        let cases = [
            (Placed, None, CancelDecision::Free),
            (Confirmed, None, CancelDecision::Free),
            (Picking, None, fee.clone()),
            (Packed, None, fee.clone()),
            (OutForDelivery, dispatched(10), fee.clone()),
            (OutForDelivery, dispatched(60), fee.clone()),
            (
                OutForDelivery,
                dispatched(61),
                CancelDecision::Refused(CancelRefusal::CoolingOffOver {
                    minutes: 61,
                    limit: 60,
                }),
            ),
            (
                Delivered,
                dispatched(5),
                CancelDecision::Refused(CancelRefusal::Delivered),
            ),
            (
                Cancelled,
                None,
                CancelDecision::Refused(CancelRefusal::AlreadyCancelled),
            ),
        ];
        for (status, at, want) in cases {
            assert_eq!(p.decide(status, goods, at, now), want, "{status}");
        }
    }

    #[test]
    fn fee_has_a_minimum_but_never_exceeds_the_goods() {
        let p = CancelPolicy::default();
        let now = Utc::now();
        assert_eq!(
            p.decide(Picking, Fen::new(1000), None, now),
            CancelDecision::WithFee(Fen::new(200))
        );
        assert_eq!(
            p.decide(Picking, Fen::new(150), None, now),
            CancelDecision::WithFee(Fen::new(150))
        );
    }
}
