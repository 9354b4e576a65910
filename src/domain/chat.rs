//! What the platform says to a person in a chat: text plus quick-reply buttons. The dialog
//! writes these, the handoff and courier texts too; the channels render them. A button's
//! payload is an opaque string here: its meaning belongs to whoever made the button (the
//! dialog's `Payload`, the courier's stop actions).

use serde::{Deserialize, Serialize};

/// A message to a customer, a courier or an agent's customer: text plus quick-reply buttons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub text: String,
    pub buttons: Vec<Button>,
}

/// A quick-reply button: the label the person sees and the payload their tap sends back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    pub label: String,
    pub payload: String,
}

impl Reply {
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            buttons: vec![],
        }
    }

    pub fn with_buttons(text: impl Into<String>, buttons: Vec<Button>) -> Self {
        Self {
            text: text.into(),
            buttons,
        }
    }
}
