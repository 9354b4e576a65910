//! Risk scoring of a new order: rules that flag the orders most likely to end in a
//! cancellation or a failed delivery, so a person confirms them before the warehouse picks
//! produce that cannot be resold. Pure: the service layer gathers the facts.
//!
//! The rules follow the causes in the seed article: customers who order a lot and then cancel,
//! first orders far above a household basket, customers who were not reachable before, and
//! several open orders at once (often the same basket placed twice by mistake). Each rule adds
//! points and a reason an agent can read; the order is flagged at [`RiskRules::flag_at`].

use serde::Serialize;

use crate::domain::Fen;

/// What is known about an order and its customer when it is placed.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskFacts {
    /// Order total with the delivery fee.
    pub total: Fen,
    /// The customer's earlier orders that were delivered.
    pub delivered_before: u32,
    /// The customer's earlier orders they cancelled (not counting ones the shop cancelled).
    pub cancelled_before: u32,
    /// Earlier deliveries that failed (customer not reachable, refused).
    pub failed_before: u32,
    /// Other orders of the customer still under way.
    pub open_orders: u32,
    /// Distance from the depot to the address, when the address has coordinates.
    pub distance_km: Option<f64>,
    /// The delivery radius.
    pub radius_km: f64,
}

pub use crate::domain::RiskRules;

/// One rule that fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskReason {
    FirstOrderLarge,
    VeryLarge,
    CancelHabit,
    FailedDeliveries,
    ManyOpenOrders,
    EdgeOfArea,
}

impl RiskReason {
    pub fn code(self) -> &'static str {
        match self {
            RiskReason::FirstOrderLarge => "first_order_large",
            RiskReason::VeryLarge => "very_large",
            RiskReason::CancelHabit => "cancel_habit",
            RiskReason::FailedDeliveries => "failed_deliveries",
            RiskReason::ManyOpenOrders => "many_open_orders",
            RiskReason::EdgeOfArea => "edge_of_area",
        }
    }

    fn points(self) -> u32 {
        match self {
            RiskReason::FirstOrderLarge => 50,
            RiskReason::VeryLarge => 50,
            RiskReason::CancelHabit => 50,
            RiskReason::FailedDeliveries => 40,
            RiskReason::ManyOpenOrders => 30,
            RiskReason::EdgeOfArea => 10,
        }
    }

    /// For the agent console (Chinese first: the agents' language).
    pub fn describe(self) -> &'static str {
        match self {
            RiskReason::FirstOrderLarge => "首单金额大 (first order, large total)",
            RiskReason::VeryLarge => "订单金额特别大 (very large total)",
            RiskReason::CancelHabit => "经常取消订单 (cancels often)",
            RiskReason::FailedDeliveries => "多次配送未成功 (deliveries failed before)",
            RiskReason::ManyOpenOrders => "同时有多个未完成订单 (several open orders)",
            RiskReason::EdgeOfArea => "地址在配送范围边缘 (edge of the delivery area)",
        }
    }
}

/// The verdict on one order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RiskAssessment {
    /// 0..=100.
    pub score: u32,
    pub reasons: Vec<RiskReason>,
    pub flagged: bool,
}

impl RiskAssessment {
    /// One line for the agent: score and reasons.
    pub fn summary(&self) -> String {
        let reasons: Vec<&str> = self.reasons.iter().map(|r| r.describe()).collect();
        format!(
            "风险分 {} / risk score {}: {}",
            self.score,
            self.score,
            reasons.join("; ")
        )
    }
}

/// Scores an order.
pub fn assess(facts: &RiskFacts, rules: &RiskRules) -> RiskAssessment {
    let mut reasons = vec![];
    let total = facts.total.get();
    if facts.delivered_before == 0 && total > rules.first_order_large_fen {
        reasons.push(RiskReason::FirstOrderLarge);
    }
    if total > rules.very_large_fen {
        reasons.push(RiskReason::VeryLarge);
    }
    let ended = facts.delivered_before + facts.cancelled_before + facts.failed_before;
    if facts.cancelled_before >= rules.cancel_habit_count
        && ended > 0
        && f64::from(facts.cancelled_before) / f64::from(ended) >= rules.cancel_habit_share
    {
        reasons.push(RiskReason::CancelHabit);
    }
    if facts.failed_before >= rules.failed_deliveries {
        reasons.push(RiskReason::FailedDeliveries);
    }
    if facts.open_orders + 1 >= rules.open_orders {
        reasons.push(RiskReason::ManyOpenOrders);
    }
    if let Some(km) = facts.distance_km
        && facts.radius_km > 0.0
        && km >= facts.radius_km * rules.edge_share
    {
        reasons.push(RiskReason::EdgeOfArea);
    }
    let score = reasons.iter().map(|r| r.points()).sum::<u32>().min(100);
    RiskAssessment {
        score,
        flagged: score >= rules.flag_at,
        reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn regular() -> RiskFacts {
        RiskFacts {
            total: Fen::new(8_800),
            delivered_before: 6,
            cancelled_before: 1,
            failed_before: 0,
            open_orders: 0,
            distance_km: Some(2.0),
            radius_km: 8.0,
        }
    }

    #[test]
    fn a_regular_basket_of_a_regular_customer_passes() {
        let a = assess(&regular(), &RiskRules::default());
        assert_eq!(a.score, 0);
        assert!(!a.flagged);
    }

    #[test]
    fn a_large_first_order_is_flagged() {
        let facts = RiskFacts {
            total: Fen::new(68_000),
            delivered_before: 0,
            cancelled_before: 0,
            ..regular()
        };
        let a = assess(&facts, &RiskRules::default());
        assert!(a.flagged, "{a:?}");
        assert_eq!(a.reasons, vec![RiskReason::FirstOrderLarge]);
        assert!(a.summary().contains("首单"));
    }

    #[test]
    fn the_same_total_from_a_known_customer_is_not() {
        let facts = RiskFacts {
            total: Fen::new(68_000),
            ..regular()
        };
        assert!(!assess(&facts, &RiskRules::default()).flagged);
    }

    #[test]
    fn a_habit_of_cancelling_is_flagged_but_one_cancel_is_not() {
        let habit = RiskFacts {
            delivered_before: 2,
            cancelled_before: 3,
            ..regular()
        };
        assert!(assess(&habit, &RiskRules::default()).flagged);
        let once = RiskFacts {
            delivered_before: 1,
            cancelled_before: 1,
            ..regular()
        };
        assert!(!assess(&once, &RiskRules::default()).flagged);
    }

    #[test]
    fn an_address_at_the_edge_alone_only_adds_a_little() {
        let facts = RiskFacts {
            distance_km: Some(7.9),
            ..regular()
        };
        let a = assess(&facts, &RiskRules::default());
        assert_eq!(a.reasons, vec![RiskReason::EdgeOfArea]);
        assert!(!a.flagged);
    }

    proptest! {
        #[test]
        fn score_is_bounded_and_flag_follows_score(
            total in 0i64..10_000_000,
            delivered in 0u32..50,
            cancelled in 0u32..50,
            failed in 0u32..10,
            open in 0u32..10,
            km in proptest::option::of(0.0f64..20.0),
        ) {
            let facts = RiskFacts { total: Fen::new(total), delivered_before: delivered,
                cancelled_before: cancelled, failed_before: failed, open_orders: open,
                distance_km: km, radius_km: 8.0 };
            let rules = RiskRules::default();
            let a = assess(&facts, &rules);
            prop_assert!(a.score <= 100);
            prop_assert_eq!(a.flagged, a.score >= rules.flag_at);
            prop_assert_eq!(a.reasons.is_empty(), a.score == 0);
        }
    }
}
