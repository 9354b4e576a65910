//! The order lifecycle: `placed -> confirmed -> picking -> packed -> out_for_delivery ->
//! delivered`, plus `cancelled` and `failed_delivery`.

use serde::{Deserialize, Serialize};

use crate::domain::Lang;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Placed,
    Confirmed,
    Picking,
    Packed,
    OutForDelivery,
    Delivered,
    Cancelled,
    FailedDelivery,
}

/// An order number a customer can read and type: `FB` + 8 digits, e.g. `FB26112500`
/// (yymmdd + a per-day sequence).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrderNumber(String);

/// Why an order operation is not allowed by the lifecycle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    /// A status change the lifecycle does not allow.
    #[error("an order that is {from} cannot become {to}")]
    IllegalTransition { from: OrderStatus, to: OrderStatus },
    /// Text that is not an order status.
    #[error("unknown order status {0:?}")]
    UnknownStatus(String),
    /// Text that is not an order number.
    #[error("{0:?} is not an order number (they look like FB2611250001)")]
    BadNumber(String),
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 8] = [
        OrderStatus::Placed,
        OrderStatus::Confirmed,
        OrderStatus::Picking,
        OrderStatus::Packed,
        OrderStatus::OutForDelivery,
        OrderStatus::Delivered,
        OrderStatus::Cancelled,
        OrderStatus::FailedDelivery,
    ];

    pub fn code(self) -> &'static str {
        match self {
            OrderStatus::Placed => "placed",
            OrderStatus::Confirmed => "confirmed",
            OrderStatus::Picking => "picking",
            OrderStatus::Packed => "packed",
            OrderStatus::OutForDelivery => "out_for_delivery",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::FailedDelivery => "failed_delivery",
        }
    }

    /// The statuses this one may move to. Cancelling is listed where the lifecycle permits it;
    /// whether it costs a fee or is refused is the cancel policy's decision.
    pub fn next(self) -> &'static [OrderStatus] {
        use OrderStatus::*;
        match self {
            Placed => &[Confirmed, Cancelled],
            Confirmed => &[Picking, Cancelled],
            Picking => &[Packed, Cancelled],
            Packed => &[OutForDelivery, Cancelled],
            OutForDelivery => &[Delivered, FailedDelivery, Cancelled],
            FailedDelivery => &[OutForDelivery, Cancelled],
            Delivered | Cancelled => &[],
        }
    }

    pub fn can_become(self, to: OrderStatus) -> bool {
        self.next().contains(&to)
    }

    /// Checks a transition.
    pub fn transition(self, to: OrderStatus) -> Result<OrderStatus, OrderError> {
        if self.can_become(to) {
            Ok(to)
        } else {
            Err(OrderError::IllegalTransition { from: self, to })
        }
    }

    pub fn is_terminal(self) -> bool {
        self.next().is_empty()
    }

    /// Still being worked on (not delivered, cancelled).
    pub fn is_active(self) -> bool {
        !self.is_terminal()
    }

    /// Lines may still be changed and the slot or address moved: before picking starts for
    /// lines; until dispatch for slot and address.
    pub fn lines_editable(self) -> bool {
        matches!(self, OrderStatus::Placed | OrderStatus::Confirmed)
    }

    pub fn reschedulable(self) -> bool {
        matches!(
            self,
            OrderStatus::Placed
                | OrderStatus::Confirmed
                | OrderStatus::Picking
                | OrderStatus::Packed
        )
    }

    /// The step of the customer's progress bar 已接单 -> 分拣中 -> 已发货 -> 配送中 -> 已送达
    /// (0-based), or `None` for cancelled.
    pub fn progress_step(self) -> Option<usize> {
        use OrderStatus::*;
        match self {
            Placed | Confirmed => Some(0),
            Picking => Some(1),
            Packed => Some(2),
            OutForDelivery | FailedDelivery => Some(3),
            Delivered => Some(4),
            Cancelled => None,
        }
    }

    pub fn label(self, lang: Lang) -> &'static str {
        use OrderStatus::*;
        match (self, lang) {
            (Placed, Lang::Zh) => "已下单",
            (Confirmed, Lang::Zh) => "已接单",
            (Picking, Lang::Zh) => "分拣中",
            (Packed, Lang::Zh) => "已发货",
            (OutForDelivery, Lang::Zh) => "配送中",
            (Delivered, Lang::Zh) => "已送达",
            (Cancelled, Lang::Zh) => "已取消",
            (FailedDelivery, Lang::Zh) => "配送未成功",
            (Placed, Lang::En) => "placed",
            (Confirmed, Lang::En) => "confirmed",
            (Picking, Lang::En) => "picking",
            (Packed, Lang::En) => "packed",
            (OutForDelivery, Lang::En) => "out for delivery",
            (Delivered, Lang::En) => "delivered",
            (Cancelled, Lang::En) => "cancelled",
            (FailedDelivery, Lang::En) => "delivery failed",
        }
    }
}

/// The customer-facing progress bar steps.
pub const PROGRESS_STEPS_ZH: [&str; 5] = ["已接单", "分拣中", "已发货", "配送中", "已送达"];
pub const PROGRESS_STEPS_EN: [&str; 5] = [
    "Confirmed",
    "Picking",
    "Dispatched",
    "On the way",
    "Delivered",
];

impl std::fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

impl std::str::FromStr for OrderStatus {
    type Err = OrderError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OrderStatus::ALL
            .into_iter()
            .find(|st| st.code() == s.trim())
            .ok_or_else(|| OrderError::UnknownStatus(s.to_owned()))
    }
}

impl OrderNumber {
    /// Builds the number of the `seq`-th order (1-based) on a local `date`.
    pub fn for_day(date: chrono::NaiveDate, seq: u32) -> Self {
        Self(format!("FB{}{:04}", date.format("%y%m%d"), seq))
    }

    /// Accepts `FB2611250001`, `fb2611250001` and the bare digits `2611250001`.
    pub fn parse(s: &str) -> Result<Self, OrderError> {
        let t = s.trim();
        let digits = t
            .strip_prefix("FB")
            .or_else(|| t.strip_prefix("fb"))
            .or_else(|| t.strip_prefix("Fb"))
            .unwrap_or(t);
        if (8..=12).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) {
            Ok(Self(format!("FB{digits}")))
        } else {
            Err(OrderError::BadNumber(s.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for OrderNumber {
    type Error = OrderError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        OrderNumber::parse(&s)
    }
}

impl From<OrderNumber> for String {
    fn from(n: OrderNumber) -> String {
        n.0
    }
}

impl std::fmt::Display for OrderNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_happy_path_is_legal() {
        use OrderStatus::*;
        let path = [
            Placed,
            Confirmed,
            Picking,
            Packed,
            OutForDelivery,
            Delivered,
        ];
        for w in path.windows(2) {
            assert_eq!(w[0].transition(w[1]), Ok(w[1]));
        }
    }

    #[test]
    fn illegal_transitions_are_errors_with_both_states() {
        let err = OrderStatus::Delivered
            .transition(OrderStatus::Cancelled)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "an order that is delivered cannot become cancelled"
        );
        assert!(
            OrderStatus::Placed
                .transition(OrderStatus::Delivered)
                .is_err()
        );
        assert!(
            OrderStatus::Cancelled
                .transition(OrderStatus::Placed)
                .is_err()
        );
    }

    #[test]
    fn order_numbers_parse_leniently() {
        let n = OrderNumber::for_day("2026-11-25".parse().unwrap(), 7);
        assert_eq!(n.as_str(), "FB2611250007");
        assert_eq!(OrderNumber::parse("fb2611250007").unwrap(), n);
        assert_eq!(OrderNumber::parse("2611250007").unwrap(), n);
        assert!(OrderNumber::parse("FB12").is_err());
        assert!(OrderNumber::parse("FBabcdefgh").is_err());
        assert!("shipped".parse::<OrderStatus>().is_err());
        assert_eq!(
            "out_for_delivery".parse::<OrderStatus>(),
            Ok(OrderStatus::OutForDelivery)
        );
    }

    fn status() -> impl Strategy<Value = OrderStatus> {
        prop::sample::select(OrderStatus::ALL.to_vec())
    }

    proptest! {
        /// Any sequence of requested transitions, applying only the legal ones, never leaves a
        /// terminal state, never goes back to `placed`, and the progress bar never moves
        /// backwards except on a failed delivery retried.
        #[test]
        fn random_walks_respect_the_lifecycle(steps in prop::collection::vec(status(), 0..40)) {
            let mut s = OrderStatus::Placed;
            for to in steps {
                match s.transition(to) {
                    Ok(next) => {
                        prop_assert!(!s.is_terminal());
                        prop_assert_ne!(next, OrderStatus::Placed);
                        if let (Some(a), Some(b)) = (s.progress_step(), next.progress_step()) {
                            prop_assert!(b >= a, "{s} -> {next} moves the progress bar back");
                        }
                        s = next;
                    }
                    Err(OrderError::IllegalTransition { from, to: t }) => {
                        prop_assert_eq!(from, s);
                        prop_assert!(!s.can_become(t));
                    }
                    Err(e) => prop_assert!(false, "unexpected {e}"),
                }
            }
        }

        #[test]
        fn status_codes_round_trip(s in status()) {
            prop_assert_eq!(s.code().parse::<OrderStatus>(), Ok(s));
        }
    }
}

/// An order as services return it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Order {
    pub id: crate::domain::OrderId,
    pub number: OrderNumber,
    pub customer_id: crate::domain::CustomerId,
    pub status: OrderStatus,
    pub channel: crate::domain::Channel,
    pub address: DeliveryAddress,
    pub slot_start: chrono::DateTime<chrono::Utc>,
    pub slot_end: chrono::DateTime<chrono::Utc>,
    pub lines: Vec<OrderLine>,
    pub totals: crate::domain::Totals,
    pub cancel_fee: crate::domain::Fen,
    pub cancel_reason: Option<crate::domain::CancelReason>,
    /// The customer's own words for the cancellation, kept beside the code.
    pub cancel_note: Option<String>,
    /// The customer agreed that short items may be replaced by similar ones.
    pub auto_substitute: bool,
    /// Unguessable token of the public tracking page.
    pub tracking_token: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub dispatched_at: Option<chrono::DateTime<chrono::Utc>>,
    pub delivered_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Where an order goes (a snapshot: editing the saved address later does not move old orders).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeliveryAddress {
    pub id: Option<crate::domain::AddressId>,
    pub text: String,
    pub location: Option<crate::domain::LatLon>,
    pub zone: String,
}

/// One product line of an order (removed lines are not listed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderLine {
    pub sku: crate::domain::Sku,
    pub name_zh: String,
    pub name_en: String,
    pub quantity: crate::domain::Quantity,
    pub unit_price: crate::domain::Fen,
    pub total: crate::domain::Fen,
    /// When this line replaces a short item: the sku it replaces.
    pub substitute_for: Option<crate::domain::Sku>,
    pub picked: Option<crate::domain::Quantity>,
}
