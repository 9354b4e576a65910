//! The web channel's use cases: durable pushes to web chat customers and the public view of
//! one order behind a tracking token.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::domain::{Button, Reply};
use crate::domain::{LatLon, OrderNumber, OrderStatus, Quantity};
use crate::services::{ServiceError, Services};

/// A stored push: `id` is the cursor a socket resumes after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebPush {
    pub id: i64,
    pub reply: Reply,
}

/// One page of a user's pushes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushPage {
    pub pushes: Vec<WebPush>,
    /// Where the next page starts (past unreadable rows too, so they never block later ones).
    pub cursor: i64,
    /// Whether more pushes may follow this page.
    pub more: bool,
}

/// Most pushes one call returns; sockets page through longer backlogs.
pub const MAX_PUSH_PAGE: u64 = 100;

/// What the public tracking page may show about one order: its progress and the delivery,
/// nothing about the customer (no name, phone or address text) and nothing about other orders.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackingView {
    pub number: OrderNumber,
    pub status: OrderStatus,
    /// Step of the progress bar 已接单 -> 分拣中 -> 已发货 -> 配送中 -> 已送达 (0-based);
    /// `None` once cancelled.
    pub stage: Option<usize>,
    pub slot_start: DateTime<Utc>,
    pub slot_end: DateTime<Utc>,
    pub eta: Option<DateTime<Utc>>,
    pub dispatched_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// Where the courier is, only while the order is on its way.
    pub courier: Option<CourierPosition>,
    pub destination: Option<LatLon>,
    pub depot: LatLon,
    pub lines: Vec<TrackingLine>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CourierPosition {
    pub at: LatLon,
    pub seen_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TrackingLine {
    pub name_zh: String,
    pub name_en: String,
    pub quantity: Quantity,
}

/// The stored form of a push (a reply); kept separate from `Reply` so the dialog types need
/// no `Deserialize`.
#[derive(Deserialize)]
struct StoredReply {
    text: String,
    #[serde(default)]
    buttons: Vec<StoredButton>,
}

#[derive(Deserialize)]
struct StoredButton {
    label: String,
    payload: String,
}

/// Tracking tokens are 32 hex digits; anything else is not looked up at all.
fn plausible_token(token: &str) -> bool {
    (16..=64).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Services {
    /// Stores replies for a web user, one push each, in one transaction; returns their ids.
    pub async fn push_web(&self, user: &str, replies: &[Reply]) -> Result<Vec<i64>, ServiceError> {
        if replies.is_empty() {
            return Ok(Vec::new());
        }
        let tx = self.store.begin_write().await?;
        let now = self.now();
        let mut ids = Vec::with_capacity(replies.len());
        for r in replies {
            let body = serde_json::to_string(r).map_err(|e| ServiceError::State(e.to_string()))?;
            ids.push(tx.insert_web_push(user, &body, now).await?);
        }
        tx.commit().await?;
        Ok(ids)
    }

    /// A web user's pushes after `after_id`, oldest first (at most `limit`, capped at
    /// [`MAX_PUSH_PAGE`]). A row that no longer parses is skipped, not fatal: one bad row must
    /// not block every later push.
    pub async fn web_pushes_after(
        &self,
        user: &str,
        after_id: i64,
        limit: u64,
    ) -> Result<PushPage, ServiceError> {
        let limit = limit.clamp(1, MAX_PUSH_PAGE);
        let tx = self.store.begin_read().await?;
        let rows = tx.web_pushes_after(user, after_id, limit).await?;
        let more = rows.len() as u64 >= limit;
        let cursor = rows.last().map_or(after_id, |r| r.id);
        let pushes = rows
            .into_iter()
            .filter_map(|row| match serde_json::from_str::<StoredReply>(&row.body) {
                Ok(s) => Some(WebPush {
                    id: row.id,
                    reply: Reply {
                        text: s.text,
                        buttons: s
                            .buttons
                            .into_iter()
                            .map(|b| Button {
                                label: b.label,
                                payload: b.payload,
                            })
                            .collect(),
                    },
                }),
                Err(e) => {
                    tracing::error!(id = row.id, error = %e, "unreadable web push skipped");
                    None
                }
            })
            .collect();
        Ok(PushPage {
            pushes,
            cursor,
            more,
        })
    }

    /// The id of the newest push of a web user (0 if none): where a new socket starts.
    pub async fn last_web_push_id(&self, user: &str) -> Result<i64, ServiceError> {
        let tx = self.store.begin_read().await?;
        Ok(tx.last_web_push_id(user).await?)
    }

    /// The public view of the order behind a tracking token; `None` for any unknown or
    /// malformed token alike.
    pub async fn tracking_view(&self, token: &str) -> Result<Option<TrackingView>, ServiceError> {
        if !plausible_token(token) {
            return Ok(None);
        }
        let tx = self.store.begin_read().await?;
        let Some(order) = tx.order_by_tracking_token(token).await? else {
            return Ok(None);
        };
        let facts = tx.order_dispatch_facts(order.id).await?;
        let courier = match facts.and_then(|f| f.courier) {
            // The courier's whereabouts are shown only while they carry this order.
            Some(c) if order.status == OrderStatus::OutForDelivery => {
                tx.courier_fix(c).await?.map(|f| CourierPosition {
                    at: f.at,
                    seen_at: f.seen_at,
                })
            }
            _ => None,
        };
        Ok(Some(TrackingView {
            number: order.number.clone(),
            status: order.status,
            stage: order.status.progress_step(),
            slot_start: order.slot_start,
            slot_end: order.slot_end,
            eta: facts.and_then(|f| f.eta),
            dispatched_at: order.dispatched_at,
            delivered_at: order.delivered_at,
            courier,
            destination: order.address.location,
            depot: self.rules.depot.location(),
            lines: order
                .lines
                .iter()
                .map(|l| TrackingLine {
                    name_zh: l.name_zh.clone(),
                    name_en: l.name_en.clone(),
                    quantity: l.quantity,
                })
                .collect(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::plausible_token;

    #[test]
    fn only_hex_tokens_of_sane_length_are_looked_up() {
        assert!(plausible_token("0123456789abcdef0123456789abcdef"));
        assert!(!plausible_token(""));
        assert!(!plausible_token("abc"));
        assert!(!plausible_token("' or 1=1 --aaaaaaaaaaaaaaaaaaaa"));
        assert!(!plausible_token(&"a".repeat(65)));
    }
}
