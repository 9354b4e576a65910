//! Customers.

use serde::Serialize;

use crate::domain::{AddressId, CustomerId, Lang};

/// A customer, known by one or more channel identities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Customer {
    pub id: CustomerId,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub lang: Lang,
    /// The address used last; offered first next time.
    pub default_address: Option<AddressId>,
}

/// Stock of one product, in thousandths of its selling unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StockLevel {
    pub on_hand_milli: i64,
    pub reserved_milli: i64,
    pub low_threshold_milli: i64,
}

impl StockLevel {
    /// What can still be promised to new orders.
    pub fn available_milli(&self) -> i64 {
        (self.on_hand_milli - self.reserved_milli).max(0)
    }

    pub fn is_low(&self) -> bool {
        self.available_milli() <= self.low_threshold_milli
    }
}
