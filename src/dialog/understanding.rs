//! What the NLU made of a customer's message, in the terms the dialog needs. The NLU's own
//! output converts into this (see `nlu_bridge`), so flows do not depend on the classifier.

use chrono::{DateTime, Utc};

use crate::domain::{Product, Quantity, QuantityError, Sku, Unit};

/// Intent labels of the NLU (`intents/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Intent {
    Greet,
    Goodbye,
    Thanks,
    Affirm,
    Deny,
    Order,
    ModifyOrder,
    Track,
    Reschedule,
    ChangeAddress,
    Cancel,
    Substitute,
    CheckStock,
    Recommend,
    Complaint,
    Human,
    FaqRefund,
    FaqDeliveryArea,
    FaqDeliveryFee,
    FaqPayment,
    FaqHours,
    Membership,
    OutOfScope,
}

impl Intent {
    pub const ALL: [Intent; 23] = [
        Intent::Greet,
        Intent::Goodbye,
        Intent::Thanks,
        Intent::Affirm,
        Intent::Deny,
        Intent::Order,
        Intent::ModifyOrder,
        Intent::Track,
        Intent::Reschedule,
        Intent::ChangeAddress,
        Intent::Cancel,
        Intent::Substitute,
        Intent::CheckStock,
        Intent::Recommend,
        Intent::Complaint,
        Intent::Human,
        Intent::FaqRefund,
        Intent::FaqDeliveryArea,
        Intent::FaqDeliveryFee,
        Intent::FaqPayment,
        Intent::FaqHours,
        Intent::Membership,
        Intent::OutOfScope,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Intent::Greet => "greet",
            Intent::Goodbye => "goodbye",
            Intent::Thanks => "thanks",
            Intent::Affirm => "affirm",
            Intent::Deny => "deny",
            Intent::Order => "order",
            Intent::ModifyOrder => "modify_order",
            Intent::Track => "track",
            Intent::Reschedule => "reschedule",
            Intent::ChangeAddress => "change_address",
            Intent::Cancel => "cancel",
            Intent::Substitute => "substitute",
            Intent::CheckStock => "check_stock",
            Intent::Recommend => "recommend",
            Intent::Complaint => "complaint",
            Intent::Human => "human",
            Intent::FaqRefund => "faq_refund",
            Intent::FaqDeliveryArea => "faq_delivery_area",
            Intent::FaqDeliveryFee => "faq_delivery_fee",
            Intent::FaqPayment => "faq_payment",
            Intent::FaqHours => "faq_hours",
            Intent::Membership => "membership",
            Intent::OutOfScope => "out_of_scope",
        }
    }

    pub fn from_label(label: &str) -> Option<Intent> {
        Intent::ALL.into_iter().find(|i| i.label() == label)
    }

    /// Questions answered in one turn; asked in the middle of a flow they do not end it.
    pub fn is_digression(self) -> bool {
        matches!(
            self,
            Intent::FaqRefund
                | Intent::FaqDeliveryArea
                | Intent::FaqDeliveryFee
                | Intent::FaqPayment
                | Intent::FaqHours
                | Intent::Membership
                | Intent::CheckStock
                | Intent::Track
                | Intent::Recommend
        )
    }
}

/// An amount as the customer said it: "3" has no unit until we know the product.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Amount {
    /// Thousandths of the unit.
    pub milli: i64,
    pub unit: Option<Unit>,
}

impl Amount {
    pub fn of(q: Quantity) -> Self {
        Self {
            milli: q.milli(),
            unit: Some(q.unit()),
        }
    }

    /// The quantity meant for `p`: an unstated unit is the product's selling unit.
    pub fn for_product(self, p: &Product) -> Result<Quantity, QuantityError> {
        Quantity::new(self.milli, self.unit.unwrap_or(p.unit))
    }
}

/// A product mentioned in a message, with its amount if one was given.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemMention {
    pub sku: Sku,
    pub quantity: Option<Amount>,
}

/// The dialog's view of one message.
#[derive(Debug, Clone, PartialEq)]
pub struct Understanding {
    pub intent: Intent,
    pub confidence: f32,
    /// Other likely intents, best first (for "did you mean" buttons).
    pub alternatives: Vec<(Intent, f32)>,
    pub items: Vec<ItemMention>,
    /// A delivery time range the customer named.
    pub time: Option<(DateTime<Utc>, DateTime<Utc>)>,
    pub order_number: Option<String>,
    pub address: Option<String>,
    pub phone: Option<String>,
    /// A quantity not attached to any product ("不对,是三斤", "make it 3").
    pub loose_quantity: Option<Amount>,
    /// A substitution preference stated anywhere in the message (`false`: no substitutes).
    pub substitution: Option<bool>,
}

impl Understanding {
    /// An understanding with only an intent (tests, buttons typed as text).
    pub fn intent(intent: Intent) -> Self {
        Self {
            intent,
            confidence: 1.0,
            alternatives: vec![],
            items: vec![],
            time: None,
            order_number: None,
            address: None,
            phone: None,
            loose_quantity: None,
            substitution: None,
        }
    }
}
