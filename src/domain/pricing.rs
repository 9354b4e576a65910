//! Order totals: goods, delivery fee with a free-delivery threshold, and a minimum order.

use serde::{Deserialize, Serialize};

use crate::domain::Fen;

/// Delivery fee settings (`[business.delivery]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeliveryPricing {
    /// Fee charged below the free-delivery threshold.
    pub fee_fen: i64,
    /// Goods totals at or above this deliver free.
    pub free_from_fen: i64,
    /// Orders below this goods total are not accepted.
    pub min_order_fen: i64,
}

impl Default for DeliveryPricing {
    fn default() -> Self {
        Self {
            fee_fen: 500,
            free_from_fen: 5900,
            min_order_fen: 2000,
        }
    }
}

/// What an order costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub goods: Fen,
    pub delivery_fee: Fen,
    pub total: Fen,
}

/// Why an order cannot be priced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PricingError {
    /// The goods total is under the minimum order amount.
    #[error("the minimum order is {min}; this order comes to {goods}, add {missing} more")]
    BelowMinimum { min: Fen, goods: Fen, missing: Fen },
}

impl DeliveryPricing {
    pub fn validate(&self) -> Result<(), String> {
        if self.fee_fen < 0 || self.free_from_fen < 0 || self.min_order_fen < 0 {
            return Err("delivery amounts must not be negative".into());
        }
        Ok(())
    }

    pub fn totals(&self, goods: Fen) -> Result<Totals, PricingError> {
        let min = Fen::new(self.min_order_fen);
        if goods < min {
            return Err(PricingError::BelowMinimum {
                min,
                goods,
                missing: min - goods,
            });
        }
        let delivery_fee = if goods >= Fen::new(self.free_from_fen) {
            Fen::ZERO
        } else {
            Fen::new(self.fee_fen)
        };
        Ok(Totals {
            goods,
            delivery_fee,
            total: goods + delivery_fee,
        })
    }

    /// How much more to spend for free delivery, if anything.
    pub fn missing_for_free_delivery(&self, goods: Fen) -> Option<Fen> {
        let free = Fen::new(self.free_from_fen);
        (goods < free).then(|| free - goods)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fee_threshold_and_minimum() {
        let p = DeliveryPricing::default();
        let t = p.totals(Fen::new(3000)).unwrap();
        assert_eq!((t.delivery_fee, t.total), (Fen::new(500), Fen::new(3500)));
        let t = p.totals(Fen::new(5900)).unwrap();
        assert_eq!((t.delivery_fee, t.total), (Fen::ZERO, Fen::new(5900)));
        let err = p.totals(Fen::new(1500)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the minimum order is ¥20.00; this order comes to ¥15.00, add ¥5.00 more"
        );
        assert_eq!(
            p.missing_for_free_delivery(Fen::new(5000)),
            Some(Fen::new(900))
        );
        assert_eq!(p.missing_for_free_delivery(Fen::new(6000)), None);
    }
}
