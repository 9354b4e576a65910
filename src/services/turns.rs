//! What one chat turn reads, in one read transaction.
//!
//! A turn used to open a read transaction per question (is an agent holding the chat? who is
//! this? the dialog state, orders, addresses, free slots): on SQLite each one is a pool checkout
//! plus BEGIN and COMMIT round trips to the connection's worker thread, which cost more than
//! the queries. One snapshot also means the step sees the orders and the slots as of one
//! instant.

use std::collections::HashMap;

use serde::de::DeserializeOwned;

use crate::domain::{Channel, Customer, DeliveryAddress, Order};
use crate::handoff::{HandoffEntry, HandoffStatus};
use crate::services::{FreeSlot, ServiceError, Services};
use crate::store::Catalog;

/// Everything a turn of the dialog reads about a conversation and its customer.
pub struct TurnView<S> {
    /// The turn's message id was recorded before: a redelivery, to be ignored.
    pub seen_before: bool,
    /// An agent has claimed this conversation: the message is theirs, not the bot's.
    pub held_by_agent: Option<HandoffEntry>,
    /// `None` on the first contact (nothing else about the customer exists yet).
    pub customer: Option<Customer>,
    pub state: S,
    /// `None` when the conversation has never been saved.
    pub version: Option<i64>,
    pub catalog: Catalog,
    /// The customer's orders, newest first.
    pub orders: Vec<Order>,
    pub addresses: Vec<DeliveryAddress>,
    /// Free slots of every zone the customer has an address or an active order in.
    pub free_slots: HashMap<String, Vec<FreeSlot>>,
}

impl Services {
    /// Reads a turn's view of a conversation in one transaction. A dialog state that no longer
    /// parses (after an upgrade) starts over, as in [`Services::load_conversation`].
    /// `message_id` (the dedupe key) is only looked up here; the turn's first write records it.
    pub async fn turn_view<S: DeserializeOwned + Default>(
        &self,
        channel: Channel,
        user: &str,
        message_id: Option<&str>,
    ) -> Result<TurnView<S>, ServiceError> {
        let catalog = self.catalog().await?;
        let tx = self.store.begin_read().await?;
        let seen_before = match message_id {
            Some(id) => tx.inbound_seen(channel, id).await?,
            None => false,
        };
        let held_by_agent = tx
            .open_handoff_of(channel, user)
            .await?
            .filter(|e| e.status == HandoffStatus::Claimed);
        let customer = tx.customer_by_identity(channel, user).await?;
        let (state, version) = match tx.load_conversation(channel, user).await? {
            Some((json, v)) => (serde_json::from_str(&json).unwrap_or_default(), Some(v)),
            None => (S::default(), None),
        };
        let (orders, addresses) = match &customer {
            Some(c) => (tx.orders_of(c.id).await?, tx.addresses_of(c.id).await?),
            None => (vec![], vec![]),
        };
        let mut zones: Vec<&str> = addresses.iter().map(|a| a.zone.as_str()).collect();
        zones.extend(
            orders
                .iter()
                .filter(|o| o.status.is_active())
                .map(|o| o.address.zone.as_str()),
        );
        zones.sort_unstable();
        zones.dedup();
        let mut free_slots = HashMap::new();
        for zone in zones {
            free_slots.insert(zone.to_owned(), self.free_slots_in(&tx, zone).await?);
        }
        Ok(TurnView {
            seen_before,
            held_by_agent,
            customer,
            state,
            version,
            catalog,
            orders,
            addresses,
            free_slots,
        })
    }
}
