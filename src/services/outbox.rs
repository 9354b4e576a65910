//! The outbox as the dispatcher sees it: take due events, find who must hear about them,
//! remember who did, and settle each event (done, retry later, given up).

use chrono::{DateTime, Duration, Utc};

use super::{ServiceError, Services};
use crate::domain::{Channel, Lang, Order};
pub use crate::store::repo::{ClaimedEvent, Delivery};

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

    /// Records one recipient's outcome (`sent` or `undeliverable`) as soon as it is known, so
    /// a crash after this point never repeats the message.
    pub async fn record_outbox_delivery(
        &self,
        event: i64,
        channel: Channel,
        user: &str,
        undeliverable: Option<&str>,
    ) -> Result<(), ServiceError> {
        let tx = self.store.begin_write().await?;
        let status = if undeliverable.is_some() {
            "undeliverable"
        } else {
            "sent"
        };
        tx.record_outbox_delivery(
            event,
            channel.code(),
            user,
            status,
            undeliverable,
            self.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The event reached everyone it could.
    pub async fn finish_outbox(&self, event: i64) -> Result<(), ServiceError> {
        let tx = self.store.begin_write().await?;
        tx.outbox_done(event, self.now()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Some recipient failed for now: try again at `next`.
    pub async fn retry_outbox(
        &self,
        event: i64,
        attempts: i32,
        next: DateTime<Utc>,
        error: &str,
    ) -> Result<(), ServiceError> {
        let tx = self.store.begin_write().await?;
        tx.outbox_retry(event, attempts, next, error).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Too many attempts: the event stays in the table as `failed` with its last error.
    pub async fn fail_outbox(
        &self,
        event: i64,
        attempts: i32,
        error: &str,
    ) -> Result<(), ServiceError> {
        let tx = self.store.begin_write().await?;
        tx.outbox_failed(event, attempts, error, self.now()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// `(id, status)` of every event of a kind, oldest first (tests, operator checks).
    pub async fn outbox_statuses(&self, kind: &str) -> Result<Vec<(i64, String)>, ServiceError> {
        let tx = self.store.begin_read().await?;
        Ok(tx.outbox_statuses(kind).await?)
    }
}
