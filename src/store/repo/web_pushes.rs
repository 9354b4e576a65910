//! Web pushes and what the public tracking page reads about an order.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::domain::{CourierId, LatLon, OrderId};
use crate::store::entities::{couriers, orders, web_pushes};
use crate::store::{StoreError, Tx};

/// One stored push: its id (the resume cursor of a socket) and the reply as JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebPushRow {
    pub id: i64,
    pub body: String,
}

/// Dispatch facts about an order that the `Order` aggregate does not carry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OrderDispatchFacts {
    pub courier: Option<CourierId>,
    pub eta: Option<DateTime<Utc>>,
}

/// Where a courier last reported being.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CourierFix {
    pub at: LatLon,
    pub seen_at: Option<DateTime<Utc>>,
}

impl Tx {
    /// Stores a push for a web user; returns its id.
    pub async fn insert_web_push(
        &self,
        user: &str,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let row = web_pushes::Entity::insert(web_pushes::ActiveModel {
            user_id: Set(user.to_owned()),
            body: Set(body.to_owned()),
            created_at: Set(now),
            ..Default::default()
        })
        .exec(self.c())
        .await?;
        Ok(row.last_insert_id)
    }

    /// A user's pushes with ids above `after`, oldest first, at most `limit`.
    pub async fn web_pushes_after(
        &self,
        user: &str,
        after: i64,
        limit: u64,
    ) -> Result<Vec<WebPushRow>, StoreError> {
        Ok(web_pushes::Entity::find()
            .filter(web_pushes::Column::UserId.eq(user))
            .filter(web_pushes::Column::Id.gt(after))
            .order_by_asc(web_pushes::Column::Id)
            .limit(limit)
            .all(self.c())
            .await?
            .into_iter()
            .map(|r| WebPushRow {
                id: r.id,
                body: r.body,
            })
            .collect())
    }

    /// The id of a user's newest push (0 when there is none).
    pub async fn last_web_push_id(&self, user: &str) -> Result<i64, StoreError> {
        Ok(web_pushes::Entity::find()
            .filter(web_pushes::Column::UserId.eq(user))
            .order_by_desc(web_pushes::Column::Id)
            .limit(1)
            .one(self.c())
            .await?
            .map(|r| r.id)
            .unwrap_or(0))
    }

    /// The courier and promised arrival time of an order.
    pub async fn order_dispatch_facts(
        &self,
        order: OrderId,
    ) -> Result<Option<OrderDispatchFacts>, StoreError> {
        Ok(orders::Entity::find_by_id(order.0)
            .one(self.c())
            .await?
            .map(|r| OrderDispatchFacts {
                courier: r.courier_id.map(CourierId),
                eta: r.eta_at,
            }))
    }

    /// Where a courier last was, if they ever shared a valid location.
    pub async fn courier_fix(&self, courier: CourierId) -> Result<Option<CourierFix>, StoreError> {
        Ok(couriers::Entity::find_by_id(courier.0)
            .one(self.c())
            .await?
            .and_then(|c| {
                let at = LatLon::new(c.last_lat?, c.last_lon?).ok()?;
                Some(CourierFix {
                    at,
                    seen_at: c.last_seen_at,
                })
            }))
    }
}
