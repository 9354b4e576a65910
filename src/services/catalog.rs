//! Catalog, stock and free delivery slots as customers see them.

use chrono::{DateTime, Utc};

use crate::domain::{FreeSlot, Slot};
use crate::services::{ServiceError, Services};
use crate::store::{Catalog, SlotUsage, Tx};

impl Services {
    /// The active catalog with stock as customers see it (cached; see `store::Catalog`).
    pub async fn catalog(&self) -> Result<Catalog, ServiceError> {
        Ok(self.store.catalog().await?)
    }

    /// Bookable slots for a delivery zone from now on, soonest first.
    pub async fn free_slots(&self, zone: &str) -> Result<Vec<FreeSlot>, ServiceError> {
        let tx = self.store.begin_read().await?;
        self.free_slots_in(&tx, zone).await
    }

    /// [`Services::free_slots`] inside a caller's transaction.
    pub(super) async fn free_slots_in(
        &self,
        tx: &Tx,
        zone: &str,
    ) -> Result<Vec<FreeSlot>, ServiceError> {
        let slots = self.rules.slots.slots_from(self.now());
        let Some((from, to)) = slot_range(&slots) else {
            return Ok(vec![]);
        };
        let usage = tx.slot_usage_between(zone, from, to).await?;
        Ok(self.free_slots_from(&slots, &usage))
    }

    /// Which of `slots` (the slots from now on) are bookable, given a zone's usage of them.
    pub(super) fn free_slots_from(&self, slots: &[Slot], usage: &SlotUsage) -> Vec<FreeSlot> {
        let now = self.now();
        let rules = &self.rules.slots;
        // A slot's start is a time-zone conversion: worked out once per slot, not once per
        // usage row it is compared with (that was 5% of a chat turn's CPU).
        let used = |start: DateTime<Utc>| {
            usage
                .iter()
                .find(|(s, _, _)| *s == start)
                .map(|(_, b, c)| (*b, *c))
                .unwrap_or((0, rules.capacity_per_zone))
        };
        slots
            .iter()
            .filter_map(|s: &Slot| {
                let start = s.start();
                let (booked, cap) = used(start);
                rules
                    .check_bookable(s, now, booked, cap)
                    .ok()
                    .map(|_| FreeSlot {
                        start,
                        end: s.end(),
                        label: s.to_string(),
                        places_left: cap.saturating_sub(booked),
                    })
            })
            .collect()
    }
}

/// Where `slots` (soonest first) lie: `[first start, last end)`, if there are any.
pub(super) fn slot_range(slots: &[Slot]) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    Some((slots.first()?.start(), slots.last()?.end()))
}
