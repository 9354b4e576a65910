//! Business rules as configuration.

use serde::Deserialize;

/// Rules of the business, loaded from settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BusinessRules {
    pub cancel: CancelRules,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CancelRules {
    pub cooling_off_minutes: u32,
}

impl Default for CancelRules {
    fn default() -> Self {
        Self {
            cooling_off_minutes: 60,
        }
    }
}

impl BusinessRules {
    pub fn validate(&self) -> Result<(), String> {
        Ok(())
    }
}
