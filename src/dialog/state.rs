//! Conversation state, persisted as JSON per (channel, user) with a version (see `store`).
//! Each flow is a variant carrying what it has collected so far; a flow interrupted by another
//! waits on the stack and resumes when that one ends.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{AddressId, CancelReason, Lang, Quantity, Sku};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DialogState {
    pub lang: Lang,
    /// The customer chose the language explicitly (then the script of a message does not switch it).
    pub lang_fixed: bool,
    pub flow: Option<Flow>,
    /// Flows interrupted by another flow, innermost last.
    pub stack: Vec<Flow>,
    /// Low-confidence or out-of-scope turns in a row.
    pub fallbacks: u8,
    /// Set while the conversation waits for or is held by a human agent.
    pub handoff: Option<Handoff>,
    /// The order last talked about ("取消它").
    pub last_order: Option<String>,
    /// The item last talked about ("make it 3").
    pub last_item: Option<Sku>,
    /// "没有西红柿就换彩椒": preferred substitutes.
    pub substitute_prefs: Vec<(Sku, Sku)>,
    /// Items the customer refused as substitutes.
    pub refused_substitutes: Vec<Sku>,
    /// Turns handled, for transcripts and analytics.
    pub turns: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Handoff {
    pub reason: String,
    pub since: DateTime<Utc>,
}

/// A multi-turn task in progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "flow", rename_all = "snake_case")]
pub enum Flow {
    Order(OrderDraft),
    Cancel(CancelDraft),
    Reschedule(TargetOrder),
    ChangeAddress(AddressChange),
    Modify(TargetOrder),
    Track(TargetOrder),
    Complaint(ComplaintDraft),
}

/// A cart being built across turns.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrderDraft {
    pub cart: Vec<CartLine>,
    /// Products mentioned without a quantity, asked for one at a time.
    pub needs_quantity: Vec<Sku>,
    pub address: Option<AddressId>,
    /// Waiting for the customer to type or share an address.
    pub asking_address: bool,
    pub slot: Option<DateTime<Utc>>,
    /// A typed time wish `[from, to)` not yet matched to a slot (the zone may not be known).
    pub slot_wish: Option<(DateTime<Utc>, DateTime<Utc>)>,
    pub auto_substitute: Option<bool>,
    /// What the last bot question was about.
    pub step: OrderStep,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStep {
    #[default]
    Items,
    Quantity,
    StockIssue,
    Address,
    Slot,
    Substitute,
    Confirm,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CartLine {
    pub sku: Sku,
    pub quantity: Quantity,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TargetOrder {
    pub number: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CancelDraft {
    pub number: Option<String>,
    pub reason: Option<CancelReason>,
    pub reason_text: Option<String>,
    pub step: CancelStep,
    /// The fix offered for the reason (reschedule, substitute), if any.
    pub offer: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelStep {
    #[default]
    Which,
    Reason,
    ReasonText,
    Offer,
    Confirm,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AddressChange {
    pub number: Option<String>,
    pub address: Option<AddressId>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ComplaintDraft {
    pub number: Option<String>,
    pub details: Vec<String>,
}

impl Flow {
    pub fn name(&self) -> &'static str {
        match self {
            Flow::Order(_) => "order",
            Flow::Cancel(_) => "cancel",
            Flow::Reschedule(_) => "reschedule",
            Flow::ChangeAddress(_) => "change_address",
            Flow::Modify(_) => "modify_order",
            Flow::Track(_) => "track",
            Flow::Complaint(_) => "complaint",
        }
    }
}

impl DialogState {
    /// The active flow's name, for stories and transcripts.
    pub fn flow_name(&self) -> Option<&'static str> {
        self.flow.as_ref().map(Flow::name)
    }
}
