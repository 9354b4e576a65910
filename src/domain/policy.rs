//! Business rules as configuration (`[business]` in `freshbot.toml`).

use serde::{Deserialize, Serialize};

use crate::domain::{CancelPolicy, DeliveryPricing, Depot, MembershipRules, RiskRules, SlotRules};

/// Rules of the business, loaded from settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BusinessRules {
    pub cancel: CancelPolicy,
    pub delivery: DeliveryPricing,
    pub slots: SlotRules,
    pub membership: MembershipRules,
    pub depot: Depot,
    /// When an order is flagged for a person before picking.
    pub risk: RiskRules,
    /// Most lines in one order.
    pub max_lines: usize,
}

impl Default for BusinessRules {
    fn default() -> Self {
        Self {
            cancel: CancelPolicy::default(),
            delivery: DeliveryPricing::default(),
            slots: SlotRules::default(),
            membership: MembershipRules::default(),
            depot: Depot::default(),
            risk: RiskRules::default(),
            max_lines: 30,
        }
    }
}

impl BusinessRules {
    pub fn validate(&self) -> Result<(), String> {
        self.cancel.validate()?;
        self.delivery.validate()?;
        self.slots.parsed_windows().map_err(|e| e.to_string())?;
        self.membership.validate()?;
        if self.depot.radius_km.is_nan() || self.depot.radius_km <= 0.0 {
            return Err("depot.radius_km must be positive".into());
        }
        self.risk.validate()?;
        if self.max_lines == 0 {
            return Err("max_lines must be at least 1".into());
        }
        Ok(())
    }
}
