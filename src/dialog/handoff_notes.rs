//! What the bot tells a customer about their handoff: their place in the queue, the agent who
//! took the conversation, the agent handing it back, and the apology when nobody came in time.

use std::time::Duration;

use super::text::{self, button};
use super::{Payload, Reply};
use crate::domain::Lang;

/// Minutes as customers read them: at least one, rounded up.
fn minutes(d: Duration) -> u64 {
    d.as_secs().div_ceil(60).max(1)
}

fn wait_buttons(lang: Lang) -> Vec<crate::domain::Button> {
    vec![
        button(lang.pick("继续等待", "Keep waiting"), Payload::KeepWaiting),
        button(
            lang.pick("返回机器人", "Back to the bot"),
            Payload::BackToBot,
        ),
    ]
}

/// Told to a waiting customer after each turn: place and expected wait.
pub fn queue_note(lang: Lang, position: u64, wait: Duration) -> Reply {
    Reply::text(match lang {
        Lang::Zh => format!(
            "您现在排第 {position} 位,预计等待约 {} 分钟。",
            minutes(wait)
        ),
        Lang::En => format!(
            "You are number {position} in the queue; expected wait about {} min.",
            minutes(wait)
        ),
    })
}

/// Sent when an agent takes the conversation.
pub fn claimed_note(lang: Lang, agent_name: &str) -> Reply {
    Reply::text(match lang {
        Lang::Zh => format!("人工客服{agent_name}已接入,请问有什么可以帮您?"),
        Lang::En => format!("{agent_name} from our team is here now. How can I help?"),
    })
}

/// Sent when the agent hands the conversation back: a short summary, then the bot's menu.
pub fn released_note(lang: Lang, agent_name: &str, summary: &str) -> Reply {
    let summary = summary.trim();
    let text = match (lang, summary.is_empty()) {
        (Lang::Zh, false) => format!(
            "客服{agent_name}已结束本次服务。小结:{summary}\n机器人小助手继续为您服务,还需要什么吗?"
        ),
        (Lang::Zh, true) => {
            format!("客服{agent_name}已结束本次服务。机器人小助手继续为您服务,还需要什么吗?")
        }
        (Lang::En, false) => format!(
            "{agent_name} has finished. Summary: {summary}\nThe bot is back; anything else?"
        ),
        (Lang::En, true) => format!("{agent_name} has finished. The bot is back; anything else?"),
    };
    Reply::with_buttons(text, text::menu(lang))
}

/// Sent once to a customer still unclaimed past the SLA.
pub fn sla_apology(lang: Lang) -> Reply {
    Reply::with_buttons(
        lang.pick(
            "抱歉让您久等了,客服都在忙。您可以直接在这里留言,或留下电话号码,客服会尽快回复或回电给您。",
            "Sorry for the wait: all our agents are busy. You can leave a message here, or a phone number and we'll call you back.",
        ),
        wait_buttons(lang),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_note_rounds_the_wait_up_to_whole_minutes() {
        assert_eq!(minutes(Duration::from_secs(10)), 1);
        assert_eq!(minutes(Duration::from_secs(121)), 3);
        let note = queue_note(Lang::En, 2, Duration::from_secs(480));
        assert!(note.text.contains("number 2") && note.text.contains("8 min"));
    }
}
