//! The outbox dispatcher: takes due outbox events, turns each into the customer's messages
//! (`dialog::notices`) and sends them on every channel the customer uses. Events addressed to
//! a courier (route messages) are rendered by `dialog::courier` and go to the courier's
//! Telegram chat.
//!
//! Guarantees, and how:
//! - Nothing is lost: events are written in the transaction of the change they report; an
//!   event is leased, not removed, while it is sent, so a dispatcher killed mid-send leaves it
//!   to be taken again when the lease runs out.
//! - Never twice per recipient: an event of several messages (a courier's route) is sent one
//!   whole message at a time, and how far each recipient got is recorded the moment a channel
//!   accepts a message; a retry skips recipients already served and resumes a partial one
//!   after its last accepted message. The one gap is a crash (or a send timeout) between the
//!   channel accepting a message and that record: then that message may go again (at least
//!   once, as the outbox promises).
//! - A slow send cannot outlive its lease: before every send the dispatcher renews the leases
//!   of the customer's events it still holds, and the send timeout is shorter than a lease.
//!   Each claim carries a fencing token; a dispatcher that finds its token gone (another
//!   took the events after a stall longer than the lease) sends and settles nothing more.
//! - A failing channel does not hold up others: customers' events are sent concurrently, each
//!   send has a timeout, and a temporary failure reschedules only that event, with backoff.
//! - Order per customer: a customer's events in a batch go one after the other; when one must
//!   wait for a retry, the ones after it wait with it. Across rounds and instances, an event
//!   is not claimed while an earlier one of the same customer or courier is still pending.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::Duration;

use super::{SendError, Senders};
use crate::dialog::courier::courier_messages;
use crate::dialog::notices::notice;
use crate::domain::events::{ChatMessage, kinds};
use crate::domain::{Channel, Reply};
use crate::services::{ClaimedEvent, DeliveryProgress, Lease, ServiceError, Services};

/// Tuning of the dispatcher.
#[derive(Debug, Clone)]
pub struct DispatcherConfig {
    /// Events taken per round.
    pub batch: u64,
    /// How long a taken event is reserved for this dispatcher.
    pub lease: Duration,
    /// Pause between rounds when nothing was due.
    pub idle_poll: std::time::Duration,
    /// Longest wait for one channel to accept one message.
    pub send_timeout: std::time::Duration,
    /// Attempts before an event is given up (kept as `failed` for operators).
    pub max_attempts: i32,
    /// First retry delay; doubles with each attempt up to `max_backoff`.
    pub first_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for DispatcherConfig {
    fn default() -> Self {
        Self {
            batch: 32,
            lease: Duration::seconds(60),
            idle_poll: std::time::Duration::from_millis(500),
            send_timeout: std::time::Duration::from_secs(15),
            max_attempts: 10,
            first_backoff: Duration::seconds(5),
            max_backoff: Duration::minutes(15),
        }
    }
}

impl DispatcherConfig {
    /// Delay before attempt `attempts + 1`.
    pub fn backoff(&self, attempts: i32) -> Duration {
        let doublings = attempts.saturating_sub(1).clamp(0, 20) as u32;
        let delay = self.first_backoff * 2i32.saturating_pow(doublings);
        delay.min(self.max_backoff)
    }
}

#[derive(Clone)]
pub struct Dispatcher {
    services: Services,
    senders: Senders,
    public_url: Arc<str>,
    config: Arc<DispatcherConfig>,
}

/// What one round did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Round {
    pub taken: usize,
    pub finished: usize,
    pub retried: usize,
    pub failed: usize,
    /// Events another dispatcher had taken over when this one came to them.
    pub lost: usize,
}

enum Settled {
    Finished,
    Retried,
    Failed,
    Lost,
}

impl Dispatcher {
    pub fn new(
        services: Services,
        senders: Senders,
        public_url: &str,
        mut config: DispatcherConfig,
    ) -> Self {
        // A send must end while its lease (renewed just before it) still holds.
        let lease = config.lease.to_std().unwrap_or_default();
        if config.send_timeout >= lease {
            config.send_timeout = lease / 2;
            tracing::warn!(?config.send_timeout, "send timeout cut to half the outbox lease");
        }
        Self {
            services,
            senders,
            public_url: Arc::from(public_url),
            config: Arc::new(config),
        }
    }

    /// Runs rounds until `stop` resolves; errors are logged and the loop goes on.
    pub async fn run(self, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            let pause = match self.run_once().await {
                Ok(r) if r.taken > 0 => std::time::Duration::ZERO,
                Ok(_) => self.config.idle_poll,
                Err(e) => {
                    tracing::error!(error = %e, "outbox round failed");
                    self.config.idle_poll * 4
                }
            };
            tokio::select! {
                _ = &mut stop => break,
                _ = tokio::time::sleep(pause) => {}
            }
        }
        tracing::info!("outbox dispatcher stopped");
    }

    /// Takes one batch of due events and settles each.
    pub async fn run_once(&self) -> Result<Round, ServiceError> {
        let events = self
            .services
            .claim_outbox(self.config.batch, self.config.lease)
            .await?;
        let mut round = Round {
            taken: events.len(),
            ..Round::default()
        };
        // Customers in parallel, each customer's events in order.
        // Courier events are kept in order per courier the same way.
        let mut by_customer: BTreeMap<(Option<i64>, Option<i64>), Vec<ClaimedEvent>> =
            BTreeMap::new();
        for e in events {
            by_customer
                .entry((e.customer.map(|c| c.0), e.courier.map(|c| c.0)))
                .or_default()
                .push(e);
        }
        let mut tasks = tokio::task::JoinSet::new();
        for (_, events) in by_customer {
            let me = self.clone();
            tasks.spawn(async move { me.settle_in_order(events).await });
        }
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(Ok(outcomes)) => {
                    for o in outcomes {
                        match o {
                            Settled::Finished => round.finished += 1,
                            Settled::Retried => round.retried += 1,
                            Settled::Failed => round.failed += 1,
                            Settled::Lost => round.lost += 1,
                        }
                    }
                }
                // The lease runs out and the events are taken again.
                Ok(Err(e)) => tracing::error!(error = %e, "outbox events left for a later round"),
                Err(e) => tracing::error!(error = %e, "outbox task panicked"),
            }
        }
        Ok(round)
    }

    async fn settle_in_order(
        &self,
        events: Vec<ClaimedEvent>,
    ) -> Result<Vec<Settled>, ServiceError> {
        let leases: Vec<Lease> = events.iter().map(ClaimedEvent::lease).collect();
        let mut out = Vec::with_capacity(events.len());
        let mut held_back: Option<chrono::DateTime<chrono::Utc>> = None;
        for (i, e) in events.iter().enumerate() {
            if let Some(at) = held_back {
                // An earlier event of this customer waits for a retry: keep the order.
                let kept = self
                    .services
                    .retry_outbox(e.lease(), e.attempts, at, "waiting for an earlier message")
                    .await?;
                out.push(if kept {
                    Settled::Retried
                } else {
                    Settled::Lost
                });
                continue;
            }
            let settled = self.settle(e, &leases[i..]).await?;
            record(e, &settled, self.services.now());
            match settled {
                Settled::Retried => {
                    held_back = Some(self.services.now() + self.config.backoff(e.attempts + 1));
                }
                // Another dispatcher has this customer's events from here on, in order.
                Settled::Lost => {
                    out.extend(events[i..].iter().map(|_| Settled::Lost));
                    return Ok(out);
                }
                Settled::Finished | Settled::Failed => {}
            }
            out.push(settled);
        }
        Ok(out)
    }

    /// Sends one event and settles it; `held` is the leases of this event and of the
    /// customer's events after it, renewed together before each send.
    async fn settle(&self, e: &ClaimedEvent, held: &[Lease]) -> Result<Settled, ServiceError> {
        let s = &self.services;
        let (audience, delivered) = s.outbox_audience(e).await?;
        let (recipients, replies) = if e.kind == kinds::CHAT_MESSAGE {
            // Written for one conversation: that recipient, those words.
            match serde_json::from_value::<ChatMessage>(e.payload.clone()) {
                Ok(m) => (vec![(m.channel, m.user)], m.replies),
                Err(err) => {
                    tracing::error!(event = e.id, error = %err, "unreadable chat message dropped");
                    (vec![], vec![])
                }
            }
        } else {
            // Operator events (stock_low, handoff_requested) have no customer to tell.
            let Some(audience) = audience else {
                return Ok(settled(
                    s.finish_outbox(e.lease()).await?,
                    Settled::Finished,
                ));
            };
            let replies = if e.courier.is_some() {
                courier_messages(&e.kind, &e.payload)
            } else {
                notice(
                    &e.kind,
                    &e.payload,
                    audience.order.as_ref(),
                    audience.lang,
                    &self.public_url,
                )
            };
            (audience.recipients, replies)
        };
        if replies.is_empty() {
            return Ok(settled(
                s.finish_outbox(e.lease()).await?,
                Settled::Finished,
            ));
        }
        let mut temporary: Vec<String> = vec![];
        for (channel, user) in &recipients {
            let resume_at = match delivered
                .iter()
                .find(|d| d.channel == channel.code() && &d.external_user == user)
            {
                None => 0,
                Some(d) => match d.resume_at() {
                    Some(at) => at,
                    None => continue,
                },
            };
            match self
                .send_from(e, held, *channel, user, &replies, resume_at)
                .await?
            {
                Sent::All => {}
                Sent::Later(why) => temporary.push(format!("{channel}: {why}")),
                Sent::LeaseLost => return Ok(Settled::Lost),
            }
        }
        if temporary.is_empty() {
            return Ok(settled(
                s.finish_outbox(e.lease()).await?,
                Settled::Finished,
            ));
        }
        let attempts = e.attempts + 1;
        let error = temporary.join("; ");
        if attempts >= self.config.max_attempts {
            tracing::error!(event = e.id, attempts, %error, "push given up");
            let failed = s.fail_outbox(e.lease(), attempts, &error).await?;
            return Ok(settled(failed, Settled::Failed));
        }
        let retried = s
            .retry_outbox(
                e.lease(),
                attempts,
                s.now() + self.config.backoff(attempts),
                &error,
            )
            .await?;
        Ok(settled(retried, Settled::Retried))
    }
}

/// How one recipient's share of an event went.
enum Sent {
    /// Everything went out, or never will (recorded as undeliverable).
    All,
    /// The channel failed for now; the replies it did accept are recorded.
    Later(String),
    /// Another dispatcher took the event: nothing more is sent here.
    LeaseLost,
}

impl Dispatcher {
    /// Sends `replies[resume_at..]` to one recipient, one whole message at a time, recording
    /// after each how many replies the channel accepted: a retry resumes there instead of
    /// sending a courier's route from its first stop again. The leases are renewed before
    /// every message, so a long route cannot outlive its lease and be sent by a second
    /// dispatcher meanwhile.
    async fn send_from(
        &self,
        e: &ClaimedEvent,
        held: &[Lease],
        channel: Channel,
        user: &str,
        replies: &[Reply],
        resume_at: usize,
    ) -> Result<Sent, ServiceError> {
        let s = &self.services;
        let total = replies.len();
        let groups = self.senders.message_groups(channel, replies);
        for group in groups.into_iter().filter(|g| g.end > resume_at) {
            let part = group.start.max(resume_at)..group.end;
            if s.hold_outbox_leases(held, self.config.lease).await? == 0 {
                tracing::warn!(
                    event = e.id,
                    "outbox lease lost before a send; left to its new holder"
                );
                return Ok(Sent::LeaseLost);
            }
            let sent = tokio::time::timeout(
                self.config.send_timeout,
                self.senders.send(channel, user, &replies[part.clone()]),
            )
            .await
            .unwrap_or_else(|_| {
                Err(SendError::Retry(
                    "the channel did not answer in time".into(),
                ))
            });
            let progress = match sent {
                Ok(()) if part.end >= total => DeliveryProgress::Sent {
                    parts_sent: part.end,
                },
                Ok(()) => DeliveryProgress::Partial {
                    parts_sent: part.end,
                },
                Err(SendError::Undeliverable(why)) => {
                    tracing::info!(event = e.id, %channel, %why, "push undeliverable");
                    s.record_outbox_delivery(
                        e.id,
                        channel,
                        user,
                        DeliveryProgress::Undeliverable {
                            parts_sent: part.start,
                            why: &why,
                        },
                    )
                    .await?;
                    return Ok(Sent::All);
                }
                Err(SendError::Retry(why)) => {
                    tracing::warn!(event = e.id, %channel, %why, "push failed, will retry");
                    return Ok(Sent::Later(why));
                }
            };
            s.record_outbox_delivery(e.id, channel, user, progress)
                .await?;
        }
        Ok(Sent::All)
    }
}

/// Outbox figures on `/metrics`: how long after the change its message went out, retries,
/// events given up.
fn record(e: &ClaimedEvent, how: &Settled, now: chrono::DateTime<chrono::Utc>) {
    match how {
        Settled::Finished => {
            let lag = (now - e.created_at).num_milliseconds().max(0) as f64 / 1000.0;
            metrics::histogram!("freshbot_outbox_lag_seconds").record(lag);
        }
        Settled::Retried => metrics::counter!("freshbot_outbox_retries_total").increment(1),
        Settled::Failed => metrics::counter!("freshbot_outbox_failed_total").increment(1),
        Settled::Lost => metrics::counter!("freshbot_outbox_leases_lost_total").increment(1),
    }
}

/// `how` when the settling write applied, else the lease had been lost to another dispatcher.
fn settled(applied: bool, how: Settled) -> Settled {
    if applied { how } else { Settled::Lost }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let c = DispatcherConfig::default();
        assert_eq!(c.backoff(1), Duration::seconds(5));
        assert_eq!(c.backoff(2), Duration::seconds(10));
        assert_eq!(c.backoff(4), Duration::seconds(40));
        assert_eq!(c.backoff(30), Duration::minutes(15));
        assert_eq!(c.backoff(0), Duration::seconds(5));
    }
}
