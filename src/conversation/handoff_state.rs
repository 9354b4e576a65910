//! The dialog's state as the handoff use cases see it (`handoff::HandoffConversation`): the
//! engine is where the dialog and the use cases meet, so neither imports the other.

use crate::dialog::{DialogState, handoff_notes};
use crate::domain::{Lang, Reply};
use crate::handoff::HandoffConversation;

impl HandoffConversation for DialogState {
    fn lang(&self) -> Lang {
        self.lang
    }

    fn leave_handoff(&mut self) {
        self.handoff = None;
    }

    fn claimed_note(lang: Lang, agent_name: &str) -> Reply {
        handoff_notes::claimed_note(lang, agent_name)
    }

    fn released_note(lang: Lang, agent_name: &str, summary: &str) -> Reply {
        handoff_notes::released_note(lang, agent_name, summary)
    }

    fn sla_apology(lang: Lang) -> Reply {
        handoff_notes::sla_apology(lang)
    }
}
