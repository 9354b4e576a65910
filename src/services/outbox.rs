//! The outbox as the dispatcher sees it: take due events, find who must hear about them,
//! remember who did, and settle each event (done, retry later, given up).

use chrono::{DateTime, Duration, Utc};

use super::{ServiceError, Services};
use crate::domain::events::{ChatMessage, kinds};
use crate::domain::{Channel, Lang, Order, Reply};
use crate::store::repo::OutboxEvent;
pub use crate::store::repo::{ClaimedEvent, Delivery, DeliveryProgress, Lease};

/// Whom an event concerns and what they read.
#[derive(Debug, Clone, PartialEq)]
pub struct Audience {
    pub lang: Lang,
    /// Every channel identity of the customer, oldest first.
    pub recipients: Vec<(Channel, String)>,
    /// The order the event is about, as it is now.
    pub order: Option<Order>,
}

impl Services {
    /// Leases up to `limit` due events for `lease`. Takes the write lock only when something is
    /// due, so an idle dispatcher costs one read per poll.
    pub async fn claim_outbox(
        &self,
        limit: u64,
        lease: Duration,
    ) -> Result<Vec<ClaimedEvent>, ServiceError> {
        let now = self.now();
        {
            let tx = self.store.begin_read().await?;
            if !tx.outbox_due(now).await? {
                return Ok(vec![]);
            }
        }
        let tx = self.store.begin_write().await?;
        let events = tx.claim_outbox(now, now + lease, limit).await?;
        tx.commit().await?;
        Ok(events)
    }

    /// The customer and order an event is about, with the recipients already served.
    pub async fn outbox_audience(
        &self,
        event: &ClaimedEvent,
    ) -> Result<(Option<Audience>, Vec<Delivery>), ServiceError> {
        let tx = self.store.begin_read().await?;
        let delivered = tx.outbox_deliveries(event.id).await?;
        if let Some(courier) = event.courier {
            // Couriers work on Telegram; one without a Telegram id has no recipient and the
            // event is closed (the operator sees the route in `freshbot dispatch`'s output).
            let recipients = tx
                .courier(courier)
                .await?
                .and_then(|c| c.telegram_user_id)
                .map(|u| vec![(Channel::Telegram, u)])
                .unwrap_or_default();
            return Ok((
                Some(Audience {
                    lang: Lang::Zh,
                    recipients,
                    order: None,
                }),
                delivered,
            ));
        }
        let Some(customer_id) = event.customer else {
            return Ok((None, delivered));
        };
        let Some(customer) = tx.customer(customer_id).await? else {
            return Ok((None, delivered));
        };
        let recipients = tx
            .identities_of(customer_id)
            .await?
            .into_iter()
            .filter_map(|(c, u)| Some((c.parse::<Channel>().ok()?, u)))
            .collect();
        let order = match event.order {
            Some(id) => tx.order(id).await?,
            None => None,
        };
        Ok((
            Some(Audience {
                lang: customer.lang,
                recipients,
                order,
            }),
            delivered,
        ))
    }

    /// Records how far one recipient got, as soon as it is known (after each message a
    /// channel accepts), so neither a crash nor a retry repeats what already went out.
    pub async fn record_outbox_delivery(
        &self,
        event: i64,
        channel: Channel,
        user: &str,
        progress: DeliveryProgress<'_>,
    ) -> Result<(), ServiceError> {
        let tx = self.store.begin_write().await?;
        tx.record_outbox_delivery(event, channel.code(), user, progress, self.now())
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Messages a channel could not deliver now (a reply whose send failed), kept in the outbox
    /// so the dispatcher sends them to that conversation later, with backoff and in order with
    /// the customer's other messages, instead of losing them.
    pub async fn send_later(
        &self,
        channel: Channel,
        user: &str,
        replies: &[Reply],
    ) -> Result<(), ServiceError> {
        let message = ChatMessage {
            channel,
            user: user.to_owned(),
            replies: replies.to_vec(),
        };
        let payload =
            serde_json::to_value(&message).map_err(|e| ServiceError::State(e.to_string()))?;
        let tx = self.store.begin_write().await?;
        let customer = tx.customer_by_identity(channel, user).await?.map(|c| c.id);
        tx.enqueue(
            &OutboxEvent {
                kind: kinds::CHAT_MESSAGE,
                customer,
                order: None,
                payload,
            },
            self.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Renews the leases of `held` (a customer's events still to send, in order) for another
    /// `lease`: returns how many, from the first, are still this dispatcher's. Called before
    /// each send, so with a send timeout shorter than the lease no lease runs out mid-send.
    pub async fn hold_outbox_leases(
        &self,
        held: &[Lease],
        lease: Duration,
    ) -> Result<usize, ServiceError> {
        let tx = self.store.begin_write().await?;
        let n = tx.renew_outbox_leases(held, self.now() + lease).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// The event reached everyone it could. `false`: the lease was lost, nothing changed.
    pub async fn finish_outbox(&self, lease: Lease) -> Result<bool, ServiceError> {
        let tx = self.store.begin_write().await?;
        let done = tx.outbox_done(lease, self.now()).await?;
        tx.commit().await?;
        Ok(done)
    }

    /// Some recipient failed for now: try again at `next`. `false`: the lease was lost.
    pub async fn retry_outbox(
        &self,
        lease: Lease,
        attempts: i32,
        next: DateTime<Utc>,
        error: &str,
    ) -> Result<bool, ServiceError> {
        let tx = self.store.begin_write().await?;
        let done = tx.outbox_retry(lease, attempts, next, error).await?;
        tx.commit().await?;
        Ok(done)
    }

    /// Too many attempts: the event stays in the table as `failed` with its last error.
    /// `false`: the lease was lost.
    pub async fn fail_outbox(
        &self,
        lease: Lease,
        attempts: i32,
        error: &str,
    ) -> Result<bool, ServiceError> {
        let tx = self.store.begin_write().await?;
        let done = tx.outbox_failed(lease, attempts, error, self.now()).await?;
        tx.commit().await?;
        Ok(done)
    }

    /// `(id, status)` of every event of a kind, oldest first (tests, operator checks).
    pub async fn outbox_statuses(&self, kind: &str) -> Result<Vec<(i64, String)>, ServiceError> {
        let tx = self.store.begin_read().await?;
        Ok(tx.outbox_statuses(kind).await?)
    }
}
