//! Substitution offers after a short pick, and the risk verdicts on new orders.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    sea_query::OnConflict,
};

use super::corrupt;
use crate::domain::{CustomerId, OrderId, Sku};
use crate::store::entities::{order_risk, substitution_offers};
use crate::store::{StoreError, Tx};

/// Where an offer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfferStatus {
    /// Waiting for the customer's answer; the order waits in picking.
    Open,
    Accepted,
    Declined,
    /// Not answered in time: treated as declined.
    Expired,
    /// Applied at once because the customer consented to substitutes when ordering.
    Applied,
}

impl OfferStatus {
    pub fn code(self) -> &'static str {
        match self {
            OfferStatus::Open => "open",
            OfferStatus::Accepted => "accepted",
            OfferStatus::Declined => "declined",
            OfferStatus::Expired => "expired",
            OfferStatus::Applied => "applied",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "open" => OfferStatus::Open,
            "accepted" => OfferStatus::Accepted,
            "declined" => OfferStatus::Declined,
            "expired" => OfferStatus::Expired,
            "applied" => OfferStatus::Applied,
            _ => return None,
        })
    }
}

/// One offer.
#[derive(Debug, Clone, PartialEq)]
pub struct SubstitutionOffer {
    pub id: i64,
    pub order: OrderId,
    pub customer: CustomerId,
    pub sku: Sku,
    pub missing_milli: i64,
    pub substitute: Sku,
    pub substitute_milli: i64,
    pub status: OfferStatus,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// What the short-pick service records.
#[derive(Debug, Clone)]
pub struct NewOffer {
    pub order: OrderId,
    pub customer: CustomerId,
    pub sku: Sku,
    pub missing_milli: i64,
    pub substitute: Sku,
    pub substitute_milli: i64,
    pub status: OfferStatus,
    pub expires_at: DateTime<Utc>,
}

fn offer_from_row(r: substitution_offers::Model) -> Result<SubstitutionOffer, StoreError> {
    let bad = |d: String| corrupt("substitution_offers", d);
    Ok(SubstitutionOffer {
        id: r.id,
        order: OrderId(r.order_id),
        customer: CustomerId(r.customer_id),
        sku: Sku::parse(&r.sku).map_err(|e| bad(e.to_string()))?,
        missing_milli: r.missing_milli,
        substitute: Sku::parse(&r.substitute_sku).map_err(|e| bad(e.to_string()))?,
        substitute_milli: r.substitute_milli,
        status: OfferStatus::parse(&r.status).ok_or_else(|| bad(r.status.clone()))?,
        created_at: r.created_at,
        expires_at: r.expires_at,
    })
}

impl Tx {
    pub async fn insert_offer(&self, o: &NewOffer, now: DateTime<Utc>) -> Result<i64, StoreError> {
        let row = substitution_offers::Entity::insert(substitution_offers::ActiveModel {
            order_id: Set(o.order.0),
            customer_id: Set(o.customer.0),
            sku: Set(o.sku.to_string()),
            missing_milli: Set(o.missing_milli),
            substitute_sku: Set(o.substitute.to_string()),
            substitute_milli: Set(o.substitute_milli),
            status: Set(o.status.code().to_owned()),
            created_at: Set(now),
            expires_at: Set(o.expires_at),
            answered_at: Set((o.status != OfferStatus::Open).then_some(now)),
            ..Default::default()
        })
        .exec_with_returning(self.c())
        .await?;
        Ok(row.id)
    }

    pub async fn offer(&self, id: i64) -> Result<Option<SubstitutionOffer>, StoreError> {
        substitution_offers::Entity::find_by_id(id)
            .one(self.c())
            .await?
            .map(offer_from_row)
            .transpose()
    }

    /// The customer's open offers, newest first.
    pub async fn open_offers_of(
        &self,
        customer: CustomerId,
    ) -> Result<Vec<SubstitutionOffer>, StoreError> {
        substitution_offers::Entity::find()
            .filter(substitution_offers::Column::CustomerId.eq(customer.0))
            .filter(substitution_offers::Column::Status.eq(OfferStatus::Open.code()))
            .order_by_desc(substitution_offers::Column::Id)
            .all(self.c())
            .await?
            .into_iter()
            .map(offer_from_row)
            .collect()
    }

    /// How many offers of an order still wait for an answer.
    pub async fn open_offer_count(&self, order: OrderId) -> Result<u64, StoreError> {
        Ok(substitution_offers::Entity::find()
            .filter(substitution_offers::Column::OrderId.eq(order.0))
            .filter(substitution_offers::Column::Status.eq(OfferStatus::Open.code()))
            .count(self.c())
            .await?)
    }

    /// Open offers whose time is up.
    pub async fn expired_offers(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<SubstitutionOffer>, StoreError> {
        substitution_offers::Entity::find()
            .filter(substitution_offers::Column::Status.eq(OfferStatus::Open.code()))
            .filter(substitution_offers::Column::ExpiresAt.lte(now))
            .order_by_asc(substitution_offers::Column::Id)
            .all(self.c())
            .await?
            .into_iter()
            .map(offer_from_row)
            .collect()
    }

    /// Closes an open offer; false when it was no longer open (answered elsewhere, expired).
    pub async fn close_offer(
        &self,
        id: i64,
        status: OfferStatus,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let r = substitution_offers::Entity::update_many()
            .filter(substitution_offers::Column::Id.eq(id))
            .filter(substitution_offers::Column::Status.eq(OfferStatus::Open.code()))
            .col_expr(substitution_offers::Column::Status, status.code().into())
            .col_expr(substitution_offers::Column::AnsweredAt, Some(now).into())
            .exec(self.c())
            .await?;
        Ok(r.rows_affected == 1)
    }

    /// Records the risk verdict of an order (the latest one wins).
    pub async fn save_order_risk(
        &self,
        order: OrderId,
        score: u32,
        reasons: &[&str],
        flagged: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        order_risk::Entity::insert(order_risk::ActiveModel {
            order_id: Set(order.0),
            score: Set(i32::try_from(score).unwrap_or(i32::MAX)),
            reasons: Set(reasons.join(",")),
            flagged: Set(flagged),
            assessed_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(order_risk::Column::OrderId)
                .update_columns([
                    order_risk::Column::Score,
                    order_risk::Column::Reasons,
                    order_risk::Column::Flagged,
                    order_risk::Column::AssessedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(self.c())
        .await?;
        Ok(())
    }

    /// The stored risk verdict of an order: (score, reason codes, flagged).
    pub async fn order_risk(
        &self,
        order: OrderId,
    ) -> Result<Option<(u32, Vec<String>, bool)>, StoreError> {
        Ok(order_risk::Entity::find_by_id(order.0)
            .one(self.c())
            .await?
            .map(|r| {
                (
                    u32::try_from(r.score).unwrap_or(0),
                    r.reasons
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect(),
                    r.flagged,
                )
            }))
    }
}
