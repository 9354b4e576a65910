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

/// `13812341234` -> `138****1234`: the courier can recognise the number when the customer
/// calls, but a forwarded screenshot leaks nothing usable. Short or odd numbers keep only
/// their last four digits.
pub fn mask_phone(phone: &str) -> String {
    let mut digits: Vec<char> = phone.chars().filter(char::is_ascii_digit).collect();
    // +86 mainland mobile numbers.
    if digits.len() == 13 && digits.starts_with(&['8', '6']) {
        digits.drain(..2);
    }
    let n = digits.len();
    if n >= 11 {
        let head: String = digits[..3].iter().collect();
        let tail: String = digits[n - 4..].iter().collect();
        format!("{head}****{tail}")
    } else if n > 4 {
        let tail: String = digits[n - 4..].iter().collect();
        format!("****{tail}")
    } else {
        "****".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_masked() {
        assert_eq!(mask_phone("13812341234"), "138****1234");
        assert_eq!(mask_phone("+86 138-1234-1234"), "138****1234");
        assert_eq!(mask_phone("021-6321 8888"), "021****8888");
        assert_eq!(mask_phone("12345"), "****2345");
        assert_eq!(mask_phone("12"), "****");
    }
}
