//! Slot capacity per delivery zone, and the per-day order number sequence.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, Select};

use crate::store::entities::{order_number_seq, slot_capacity};
use crate::store::inline_sqlite::Inline;
use crate::store::{StoreError, Tx};

impl Tx {
    /// Creates the capacity row of a slot and zone if it does not exist yet.
    pub async fn ensure_slot(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        zone: &str,
        capacity: u32,
    ) -> Result<(), StoreError> {
        slot_capacity::Entity::insert(slot_capacity::ActiveModel {
            slot_start: Set(start),
            slot_end: Set(end),
            zone: Set(zone.to_owned()),
            capacity: Set(i32::try_from(capacity).unwrap_or(i32::MAX)),
            booked: Set(0),
            ..Default::default()
        })
        .on_conflict_do_nothing_on([
            slot_capacity::Column::SlotStart,
            slot_capacity::Column::Zone,
        ])
        .exec_without_returning(self.c())
        .await?;
        Ok(())
    }

    /// `(booked, capacity)` of a slot in a zone.
    pub async fn slot_usage(
        &self,
        start: DateTime<Utc>,
        zone: &str,
    ) -> Result<Option<(u32, u32)>, StoreError> {
        Ok(slot_capacity::Entity::find()
            .filter(slot_capacity::Column::SlotStart.eq(start))
            .filter(slot_capacity::Column::Zone.eq(zone))
            .one(self.c())
            .await?
            .map(|r| {
                (
                    u32::try_from(r.booked).unwrap_or(0),
                    u32::try_from(r.capacity).unwrap_or(0),
                )
            }))
    }

    /// Usage of every slot of a zone starting in `[from, to)`.
    pub async fn slot_usage_between(
        &self,
        zone: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(DateTime<Utc>, u32, u32)>, StoreError> {
        Ok(slot_usage(
            slot_usage_between(zone, from, to).all(self.c()).await?,
        ))
    }

    /// Takes one place in the slot if one is free (a conditional UPDATE: never overbooks).
    pub async fn book_slot(&self, start: DateTime<Utc>, zone: &str) -> Result<bool, StoreError> {
        let r = slot_capacity::Entity::update_many()
            .col_expr(
                slot_capacity::Column::Booked,
                Expr::col(slot_capacity::Column::Booked).add(1),
            )
            .filter(slot_capacity::Column::SlotStart.eq(start))
            .filter(slot_capacity::Column::Zone.eq(zone))
            .filter(
                Expr::col(slot_capacity::Column::Booked)
                    .lt(Expr::col(slot_capacity::Column::Capacity)),
            )
            .exec(self.c())
            .await?;
        Ok(r.rows_affected == 1)
    }

    pub async fn release_slot(&self, start: DateTime<Utc>, zone: &str) -> Result<(), StoreError> {
        slot_capacity::Entity::update_many()
            .col_expr(
                slot_capacity::Column::Booked,
                Expr::col(slot_capacity::Column::Booked).sub(1),
            )
            .filter(slot_capacity::Column::SlotStart.eq(start))
            .filter(slot_capacity::Column::Zone.eq(zone))
            .filter(slot_capacity::Column::Booked.gt(0))
            .exec(self.c())
            .await?;
        Ok(())
    }

    /// The next order sequence number of a local day (`yymmdd`), starting at 1.
    pub async fn next_order_seq(&self, day: &str) -> Result<u32, StoreError> {
        order_number_seq::Entity::insert(order_number_seq::ActiveModel {
            day: Set(day.to_owned()),
            last: Set(1),
        })
        .on_conflict(
            OnConflict::column(order_number_seq::Column::Day)
                .value(
                    order_number_seq::Column::Last,
                    Expr::col((order_number_seq::Entity, order_number_seq::Column::Last)).add(1),
                )
                .to_owned(),
        )
        .exec_without_returning(self.c())
        .await?;
        let row = order_number_seq::Entity::find_by_id(day.to_owned())
            .one(self.c())
            .await?
            .ok_or_else(|| super::corrupt("order_number_seq", "sequence row vanished"))?;
        Ok(u32::try_from(row.last).unwrap_or(0))
    }
}

fn slot_usage_between(
    zone: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Select<slot_capacity::Entity> {
    slot_capacity::Entity::find()
        .filter(slot_capacity::Column::Zone.eq(zone))
        .filter(slot_capacity::Column::SlotStart.gte(from))
        .filter(slot_capacity::Column::SlotStart.lt(to))
}

/// `(slot start, booked, capacity)`.
fn slot_usage(rows: Vec<slot_capacity::Model>) -> Vec<(DateTime<Utc>, u32, u32)> {
    rows.into_iter()
        .map(|r| {
            (
                r.slot_start,
                u32::try_from(r.booked).unwrap_or(0),
                u32::try_from(r.capacity).unwrap_or(0),
            )
        })
        .collect()
}

/// The same read on the inline SQLite path of a chat turn.
impl Inline<'_> {
    pub(crate) fn slot_usage_between(
        &self,
        zone: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(DateTime<Utc>, u32, u32)>, StoreError> {
        Ok(slot_usage(self.all(slot_usage_between(zone, from, to))?))
    }
}
