//! What a staff account may do: answer customers in the agent console, pick orders on the
//! picker page, or both.

use std::fmt;
use std::str::FromStr;

/// A staff account's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    /// Human support: the agent console (`/agent`).
    Agent,
    /// Warehouse: the picker page (`/picker`).
    Picker,
    /// A shift lead: both.
    Lead,
}

/// The duties a page asks of the account using it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duty {
    /// Taking over conversations (the agent console).
    Conversations,
    /// Picking and packing orders (the picker page).
    Picking,
}

impl StaffRole {
    /// The stored and typed form: `agent`, `picker` or `lead`.
    pub fn code(self) -> &'static str {
        match self {
            StaffRole::Agent => "agent",
            StaffRole::Picker => "picker",
            StaffRole::Lead => "lead",
        }
    }

    /// Whether this role may do `duty`.
    pub fn may(self, duty: Duty) -> bool {
        matches!(
            (self, duty),
            (StaffRole::Lead, _)
                | (StaffRole::Agent, Duty::Conversations)
                | (StaffRole::Picker, Duty::Picking)
        )
    }
}

impl fmt::Display for StaffRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for StaffRole {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "agent" => Ok(StaffRole::Agent),
            "picker" => Ok(StaffRole::Picker),
            "lead" => Ok(StaffRole::Lead),
            other => Err(format!(
                "unknown staff role {other:?}: agent, picker or lead"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_grant_their_pages_only() {
        assert!(StaffRole::Agent.may(Duty::Conversations));
        assert!(!StaffRole::Agent.may(Duty::Picking));
        assert!(StaffRole::Picker.may(Duty::Picking));
        assert!(!StaffRole::Picker.may(Duty::Conversations));
        assert!(StaffRole::Lead.may(Duty::Picking) && StaffRole::Lead.may(Duty::Conversations));
        for r in [StaffRole::Agent, StaffRole::Picker, StaffRole::Lead] {
            assert_eq!(r.code().parse::<StaffRole>(), Ok(r));
        }
        assert!("admin".parse::<StaffRole>().is_err());
    }
}
