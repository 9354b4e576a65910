//! What a chat turn reads (one snapshot) and writes (one transaction).
//!
//! The two are the hot path of the system: every customer message costs one of each. On a
//! SQLite file they run inline (see `inline_sqlite`); on PostgreSQL (and an in-memory SQLite
//! database) through sea-orm. Both paths call the same repository queries.

use chrono::{DateTime, Utc};

use crate::domain::{Channel, Customer, CustomerId, DeliveryAddress, Lang, Order};
use crate::handoff::HandoffEntry;
use crate::store::inline_sqlite::{Finish, Inline};
use crate::store::{Conn, Store, StoreError, Tx};

/// Slot usage `(slot start, booked, capacity)` of one zone.
pub type SlotUsage = Vec<(DateTime<Utc>, u32, u32)>;

/// A chat turn's reads, as of one instant.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TurnSnapshot {
    /// The message id (if given) was recorded before.
    pub seen_before: bool,
    /// The conversation's open handoff entry (waiting or claimed).
    pub open_handoff: Option<HandoffEntry>,
    pub customer: Option<Customer>,
    /// The dialog state, orders and addresses (empty without a customer).
    pub stored: StateRead,
}

/// The part of a turn's reads a command can change: what the turn reads again after one (see
/// [`Store::after_command_snapshot`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StateRead {
    /// The stored dialog state (JSON) and its version.
    pub conversation: Option<(String, i64)>,
    /// The customer's orders, newest first.
    pub orders: Vec<Order>,
    /// The customer's addresses, newest first.
    pub addresses: Vec<DeliveryAddress>,
}

/// How a turn's write went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    /// Saved; the state's new version.
    Version(i64),
    /// Another writer saved the state first: nothing written; read again and redo the step.
    Conflict,
    /// The turn's message id was recorded by another delivery of the same message: nothing
    /// written, and the turn must have no effect.
    Duplicate,
}

/// A chat turn's write: the dialog state with its version check, the inbound message id and
/// the transcript lines.
#[derive(Debug, Clone, Copy)]
pub struct TurnWrite<'a> {
    pub channel: Channel,
    pub user: &'a str,
    /// The new state (JSON).
    pub state: &'a str,
    /// The version the state was read at (`None`: never saved).
    pub expected: Option<i64>,
    /// Recorded with the state; a second delivery of the same id writes nothing.
    pub message_id: Option<&'a str>,
    /// `(role, agent id, text)`.
    pub transcript: &'a [(&'a str, Option<i64>, &'a str)],
    pub now: DateTime<Utc>,
    /// First contact: the customer behind `(channel, user)` is created with this language
    /// unless there is one, in the same transaction (one write transaction less for a new
    /// customer's first message).
    pub new_customer: Option<Lang>,
}

/// The zones whose free slots a turn may offer.
pub fn zones_of(orders: &[Order], addresses: &[DeliveryAddress]) -> Vec<String> {
    let mut zones: Vec<String> = addresses.iter().map(|a| a.zone.clone()).collect();
    zones.extend(
        orders
            .iter()
            .filter(|o| o.status.is_active())
            .map(|o| o.address.zone.clone()),
    );
    zones.sort_unstable();
    zones.dedup();
    zones
}

impl Store {
    /// Reads a turn's snapshot (`message_id`: the dedupe key to look up).
    pub async fn turn_snapshot(
        &self,
        channel: Channel,
        user: &str,
        message_id: Option<&str>,
    ) -> Result<TurnSnapshot, StoreError> {
        if let Some(inline) = &self.inline {
            return inline.read(|c| {
                let seen_before = match message_id {
                    Some(id) => c.inbound_seen(channel, id)?,
                    None => false,
                };
                let open_handoff = c.open_handoff_of(channel, user)?;
                let customer = c.customer_by_identity(channel, user)?;
                let stored = state_inline(c, channel, user, customer.as_ref().map(|c| c.id))?;
                Ok(TurnSnapshot {
                    seen_before,
                    open_handoff,
                    customer,
                    stored,
                })
            });
        }
        let tx = self.begin_read().await?;
        let seen_before = match message_id {
            Some(id) => tx.inbound_seen(channel, id).await?,
            None => false,
        };
        let open_handoff = tx.open_handoff_of(channel, user).await?;
        let customer = tx.customer_by_identity(channel, user).await?;
        let stored = state_orm(&tx, channel, user, customer.as_ref().map(|c| c.id)).await?;
        Ok(TurnSnapshot {
            seen_before,
            open_handoff,
            customer,
            stored,
        })
    }

    /// What a turn reads again after one of its commands ran: the dialog state (another
    /// instance may have saved it), the orders and addresses (the command changed them). The
    /// rest of a snapshot (the dedupe key, an agent's hold, the customer) is known to the turn
    /// already, and two lookups less in the location and confirm turns are worth it.
    pub async fn after_command_snapshot(
        &self,
        channel: Channel,
        user: &str,
        customer: CustomerId,
    ) -> Result<StateRead, StoreError> {
        if let Some(inline) = &self.inline {
            return inline.read(|c| state_inline(c, channel, user, Some(customer)));
        }
        let tx = self.begin_read().await?;
        state_orm(&tx, channel, user, Some(customer)).await
    }

    /// Usage of the slots starting in `[from, to)` in each of `zones` (in that order), in one
    /// read transaction.
    pub async fn zones_slot_usage(
        &self,
        zones: &[String],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(String, SlotUsage)>, StoreError> {
        if let Some(inline) = &self.inline {
            return inline.read(|c| zones_usage_inline(c, zones, from, to));
        }
        self.begin_read()
            .await?
            .zones_slot_usage(zones, from, to)
            .await
    }

    /// Writes a turn in one transaction: the message id first (a duplicate writes nothing),
    /// then the state if its version is still the expected one (a conflict writes nothing),
    /// then the transcript, and a first contact's customer.
    pub async fn save_turn(&self, w: &TurnWrite<'_>) -> Result<Saved, StoreError> {
        if let Some(inline) = self.inline.as_ref().filter(|_| w.new_customer.is_none()) {
            let _turn = match &self.writers {
                Some(queue) => Some(queue.lock().await),
                None => None,
            };
            return inline.write(|c| save_inline(c, w));
        }
        let tx = self.begin_write().await?;
        let saved = tx.save_turn(w).await?;
        if let Saved::Version(_) = saved {
            tx.commit().await?;
        }
        Ok(saved)
    }
}

/// The same reads and writes in a transaction the caller holds: a chat turn whose command ran
/// in its write transaction reads what the command left and saves its answer there, before
/// one commit (see `services::OpenTurn`).
impl Tx {
    /// [`Store::after_command_snapshot`] as this transaction sees it (its own writes included).
    pub async fn state_read(
        &self,
        channel: Channel,
        user: &str,
        customer: CustomerId,
    ) -> Result<StateRead, StoreError> {
        if let Conn::Inline(t) = self.c() {
            return t.run(|c| state_inline(c, channel, user, Some(customer)));
        }
        state_orm(self, channel, user, Some(customer)).await
    }

    /// [`Store::zones_slot_usage`] as this transaction sees it.
    pub async fn zones_slot_usage(
        &self,
        zones: &[String],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(String, SlotUsage)>, StoreError> {
        if let Conn::Inline(t) = self.c() {
            return t.run(|c| zones_usage_inline(c, zones, from, to));
        }
        let mut out = Vec::with_capacity(zones.len());
        for z in zones {
            out.push((z.clone(), self.slot_usage_between(z, from, to).await?));
        }
        Ok(out)
    }

    /// [`Store::save_turn`]'s writes, without the commit: on anything but
    /// [`Saved::Version`] nothing was written and the caller must not commit what follows.
    pub async fn save_turn(&self, w: &TurnWrite<'_>) -> Result<Saved, StoreError> {
        let saved = self.save_turn_state(w).await?;
        if let (Saved::Version(_), Some(lang)) = (saved, w.new_customer) {
            self.ensure_customer(w.channel, w.user, lang, w.now).await?;
        }
        Ok(saved)
    }

    async fn save_turn_state(&self, w: &TurnWrite<'_>) -> Result<Saved, StoreError> {
        if let Conn::Inline(t) = self.c() {
            return t.run(|c| save_inline(c, w)).map(|(saved, _)| saved);
        }
        if let Some(id) = w.message_id
            && !self.record_inbound(w.channel, id, w.now).await?
        {
            return Ok(Saved::Duplicate);
        }
        match self
            .save_conversation(w.channel, w.user, w.state, w.expected, w.now)
            .await?
        {
            Ok(v) => {
                self.insert_chat_lines(w.channel, w.user, w.transcript, w.now)
                    .await?;
                Ok(Saved::Version(v))
            }
            Err(_) => Ok(Saved::Conflict),
        }
    }
}

/// Usage of the slots starting in `[from, to)` in each of `zones`, on the inline connection.
fn zones_usage_inline(
    c: &Inline<'_>,
    zones: &[String],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<(String, SlotUsage)>, StoreError> {
    zones
        .iter()
        .map(|z| Ok((z.clone(), c.slot_usage_between(z, from, to)?)))
        .collect()
}

/// The dialog state, and the orders and addresses of `customer` (none without one).
fn state_inline(
    c: &Inline<'_>,
    channel: Channel,
    user: &str,
    customer: Option<CustomerId>,
) -> Result<StateRead, StoreError> {
    let conversation = c.load_conversation(channel, user)?;
    let Some(customer) = customer else {
        return Ok(StateRead {
            conversation,
            ..StateRead::default()
        });
    };
    Ok(StateRead {
        conversation,
        orders: c.orders_of(customer)?,
        addresses: c.addresses_of(customer)?,
    })
}

/// [`state_inline`] through sea-orm.
async fn state_orm(
    tx: &Tx,
    channel: Channel,
    user: &str,
    customer: Option<CustomerId>,
) -> Result<StateRead, StoreError> {
    let conversation = tx.load_conversation(channel, user).await?;
    let Some(customer) = customer else {
        return Ok(StateRead {
            conversation,
            ..StateRead::default()
        });
    };
    Ok(StateRead {
        conversation,
        orders: tx.orders_of(customer).await?,
        addresses: tx.addresses_of(customer).await?,
    })
}

fn save_inline(c: &Inline<'_>, w: &TurnWrite<'_>) -> Result<(Saved, Finish), StoreError> {
    if let Some(id) = w.message_id
        && !c.record_inbound(w.channel, id, w.now)?
    {
        return Ok((Saved::Duplicate, Finish::Rollback));
    }
    match c.save_conversation(w.channel, w.user, w.state, w.expected, w.now)? {
        Ok(v) => {
            c.insert_chat_lines(w.channel, w.user, w.transcript, w.now)?;
            Ok((Saved::Version(v), Finish::Commit))
        }
        Err(_) => Ok((Saved::Conflict, Finish::Rollback)),
    }
}
