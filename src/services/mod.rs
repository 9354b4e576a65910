//! Use cases. Each public method is one database transaction; this is the only layer that
//! opens them. Methods take and return domain types, so adapters never see rows.

mod catalog;
mod channel_contacts;
pub use channel_contacts::ChannelContact;
mod chat;
mod clock;
mod conversations;
mod customers;
mod dispatch;
mod error;
mod handoff;
mod jobs;
mod membership;
mod operations;
mod orders;
mod outbox;
mod risk;
pub mod secrets;
mod turns;
pub use chat::{OpenTurn, SavedWith, StateSave};
pub use turns::{StateView, TurnView};
mod warehouse;
mod web_push;

use std::sync::Arc;

pub use clock::{Clock, ManualClock, SystemClock};
pub use conversations::{MAX_CONVERSATION_RETRIES, Saved};
pub use dispatch::{
    Courier, CourierInput, DispatchError, DispatchSettings, ReplanReport, RouteReport, StopOutcome,
    UnservedOrder, WaveReport, parse_shift,
};
pub use error::ServiceError;
pub use handoff::{AgentSession, ConversationView, HandoffError, QueueItem, hash_password};
pub use operations::OperationalCounts;
pub use orders::{CancelQuote, LineChange, OrderLineRequest, PlaceOrder};
pub use outbox::{Audience, ClaimedEvent, Delivery, DeliveryProgress, Lease};
pub use warehouse::{
    DEMO_WAREHOUSE_TOML, LowStockAlert, OFFER_TTL, PartialTerms, PickInstruction, PickingDay,
    PickingWave, PurchaseLine, ReplenishmentPlan, ScanReport, ScanRequest, Terms, TermsConfig,
    WarehouseConfig, WarehouseConfigError, WarehouseError, WaveBatch,
};
pub use warehouse::{
    PickProgress, PickerBatch, PickerLine, PickerWave, PickerWaveSummary, PurchaseDraft,
    PurchaseOrder, PurchaseOverview, PurchaseReceipt,
};
pub use web_push::{CourierPosition, MAX_PUSH_PAGE, PushPage, TrackingLine, TrackingView, WebPush};

use crate::domain::BusinessRules;
use crate::store::{Store, Tx};

/// Who asked for a change (recorded in the status history).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Customer(crate::domain::CustomerId),
    Agent(crate::domain::AgentId),
    Operator,
    System,
}

impl Actor {
    pub fn code(&self) -> String {
        match self {
            Actor::Customer(_) => "customer".into(),
            Actor::Agent(id) => format!("agent:{id}"),
            Actor::Operator => "operator".into(),
            Actor::System => "system".into(),
        }
    }
}

/// The application's use cases over one store, rule set and clock. Cheap to clone.
#[derive(Clone)]
pub struct Services {
    store: Store,
    rules: Arc<BusinessRules>,
    clock: Arc<dyn Clock>,
    handoff: Arc<crate::handoff::HandoffSettings>,
    handoff_events: crate::handoff::Events,
    web_sessions: Arc<chat::WebSessionCache>,
}

impl Services {
    pub fn new(store: Store, rules: BusinessRules, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            rules: Arc::new(rules),
            clock,
            handoff: Arc::default(),
            handoff_events: crate::handoff::Events::default(),
            web_sessions: Arc::default(),
        }
    }

    /// The same services with other handoff settings (SLA, default wait).
    pub fn with_handoff_settings(mut self, settings: crate::handoff::HandoffSettings) -> Self {
        self.handoff = Arc::new(settings);
        self
    }

    /// Live events of the human handoff, for the agent console.
    pub fn handoff_events(&self) -> &crate::handoff::Events {
        &self.handoff_events
    }

    /// Runs `command` in a write transaction of its own and commits what it did; a command
    /// that fails commits nothing. The use cases whose body also runs inside a chat turn's
    /// transaction (`*_in`, see [`Services::with_state`]) are called this way on their own.
    async fn in_write<T>(
        &self,
        command: impl AsyncFnOnce(&Tx) -> Result<T, ServiceError>,
    ) -> Result<T, ServiceError> {
        let tx = self.store.begin_write().await?;
        let done = command(&tx).await?;
        tx.commit().await?;
        Ok(done)
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn rules(&self) -> &BusinessRules {
        &self.rules
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }
}
