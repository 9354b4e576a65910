//! What one chat turn reads, in one read transaction.
//!
//! A turn used to open a read transaction per question (is an agent holding the chat? who is
//! this? the dialog state, orders, addresses, free slots): on SQLite each one is a pool checkout
//! plus BEGIN and COMMIT round trips to the connection's worker thread, which cost more than
//! the queries. One snapshot also means the step sees the orders and the slots as of one
//! instant. (The store runs that snapshot inline on a SQLite file: see `store::turn`.) The
//! free slots are read apart, only by the turns that offer one (see `conversation`).

use std::collections::HashMap;

use serde::de::DeserializeOwned;

use crate::domain::FreeSlot;
use crate::domain::{Channel, Customer, DeliveryAddress, Order};
use crate::handoff::{HandoffEntry, HandoffStatus};
use crate::services::catalog::slot_range;
use crate::services::conversations::parse_state;
use crate::services::{ServiceError, Services};
use crate::store::{Catalog, StateRead, Tx, zones_of};

/// Everything a turn of the dialog reads about a conversation and its customer.
pub struct TurnView<S> {
    /// The turn's message id was recorded before: a redelivery, to be ignored.
    pub seen_before: bool,
    /// An agent has claimed this conversation: the message is theirs, not the bot's.
    pub held_by_agent: Option<HandoffEntry>,
    /// `None` on the first contact (nothing else about the customer exists yet).
    pub customer: Option<Customer>,
    /// The dialog state, orders and addresses, and the catalog.
    pub stored: StateView<S>,
}

/// The part of a [`TurnView`] a command can change (see [`Services::after_command_view`]).
pub struct StateView<S> {
    pub state: S,
    /// `None` when the conversation has never been saved.
    pub version: Option<i64>,
    pub catalog: Catalog,
    /// The customer's orders, newest first.
    pub orders: Vec<Order>,
    pub addresses: Vec<DeliveryAddress>,
}

impl<S: DeserializeOwned + Default> StateView<S> {
    /// A dialog state that no longer parses (after an upgrade) starts over, as in
    /// [`Services::load_conversation`].
    pub(super) fn parse(read: StateRead, catalog: Catalog) -> Self {
        let (state, version) = parse_state(read.conversation);
        Self {
            state,
            version,
            catalog,
            orders: read.orders,
            addresses: read.addresses,
        }
    }
}

impl Services {
    /// The dialog state, orders and addresses of `customer`'s conversation as stored now, in
    /// one transaction: what a turn reads again after one of its commands ran (the rest of a
    /// [`TurnView`] cannot have changed in a way the turn acts on).
    pub async fn after_command_view<S: DeserializeOwned + Default>(
        &self,
        channel: Channel,
        user: &str,
        customer: &Customer,
    ) -> Result<StateView<S>, ServiceError> {
        let catalog = self.catalog().await?;
        let read = self
            .store
            .after_command_snapshot(channel, user, customer.id)
            .await?;
        Ok(StateView::parse(read, catalog))
    }

    /// Reads a turn's view of a conversation in one transaction. `message_id` (the dedupe key)
    /// is only looked up here; the turn's first write records it.
    pub async fn turn_view<S: DeserializeOwned + Default>(
        &self,
        channel: Channel,
        user: &str,
        message_id: Option<&str>,
    ) -> Result<TurnView<S>, ServiceError> {
        let catalog = self.catalog().await?;
        let snap = self.store.turn_snapshot(channel, user, message_id).await?;
        Ok(TurnView {
            seen_before: snap.seen_before,
            held_by_agent: snap
                .open_handoff
                .filter(|e| e.status == HandoffStatus::Claimed),
            customer: snap.customer,
            stored: StateView::parse(snap.stored, catalog),
        })
    }

    /// The bookable slots of every zone the customer has an address or an active order in.
    /// Not part of [`TurnView`]: it reads every slot of the week, and most turns never offer
    /// one (the conversation engine reads it for the steps that do).
    pub async fn free_slots_of(
        &self,
        orders: &[Order],
        addresses: &[DeliveryAddress],
    ) -> Result<HashMap<String, Vec<FreeSlot>>, ServiceError> {
        self.zones_free_slots_in(None, orders, addresses).await
    }

    /// [`Services::free_slots_of`], read in `tx` when given.
    pub(super) async fn zones_free_slots_in(
        &self,
        tx: Option<&Tx>,
        orders: &[Order],
        addresses: &[DeliveryAddress],
    ) -> Result<HashMap<String, Vec<FreeSlot>>, ServiceError> {
        let zones = zones_of(orders, addresses);
        let slots = self.rules.slots.slots_from(self.now());
        let Some((from, to)) = slot_range(&slots).filter(|_| !zones.is_empty()) else {
            return Ok(HashMap::new());
        };
        let usage = match tx {
            Some(tx) => tx.zones_slot_usage(&zones, from, to).await?,
            None => self.store.zones_slot_usage(&zones, from, to).await?,
        };
        Ok(usage
            .iter()
            .map(|(zone, usage)| (zone.clone(), self.free_slots_from(&slots, usage)))
            .collect())
    }
}
