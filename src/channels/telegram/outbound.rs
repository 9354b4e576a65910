//! Replies -> Telegram messages with inline keyboards, and Telegram's errors -> [`SendError`].

use teloxide::payloads::SendMessageSetters;
use teloxide::prelude::Requester;
use teloxide::types::{ChatId, InlineKeyboardButton, InlineKeyboardMarkup};
use teloxide::{ApiError, Bot, RequestError};

use crate::channels::{SendError, Sender};
use crate::domain::Channel;
use crate::domain::{Button, Reply};

/// Telegram refuses texts over 4096 characters; a little headroom for its own counting (UTF-16
/// units, where an emoji counts twice).
const MAX_CHARS: usize = 3500;

/// Telegram's limits on `callback_data`.
const MAX_CALLBACK_BYTES: usize = 64;

/// Sends replies to a Telegram chat. The user id is the chat id (for a private chat the same
/// number as the user's id).
#[derive(Clone)]
pub struct TelegramSender {
    bot: Bot,
}

impl TelegramSender {
    pub fn new(bot: Bot) -> Self {
        Self { bot }
    }
}

#[async_trait::async_trait]
impl Sender for TelegramSender {
    fn channel(&self) -> Channel {
        Channel::Telegram
    }

    async fn send(&self, user: &str, replies: &[Reply]) -> Result<(), SendError> {
        let chat =
            user.trim().parse::<i64>().map(ChatId).map_err(|_| {
                SendError::Undeliverable(format!("{user:?} is not a Telegram chat id"))
            })?;
        for reply in replies {
            let keyboard = keyboard(&reply.buttons);
            let chunks = chunks(&reply.text, keyboard.is_some());
            let last = chunks.len().saturating_sub(1);
            for (i, text) in chunks.into_iter().enumerate() {
                let mut req = self.bot.send_message(chat, text);
                // The buttons belong under the end of the text.
                if i == last
                    && let Some(k) = &keyboard
                {
                    req = req.reply_markup(k.clone());
                }
                teloxide::requests::Request::send(req)
                    .await
                    .map_err(|e| classify(&e))?;
            }
        }
        Ok(())
    }
}

/// Buttons in rows: three short ones or two longer ones a row, one when a label is very long,
/// so labels stay readable on a phone. Buttons Telegram would reject are left out.
pub(crate) fn keyboard(buttons: &[Button]) -> Option<InlineKeyboardMarkup> {
    let usable: Vec<&Button> = buttons
        .iter()
        .filter(|b| {
            let ok = !b.label.trim().is_empty()
                && !b.payload.is_empty()
                && b.payload.len() <= MAX_CALLBACK_BYTES;
            if !ok {
                tracing::warn!(label = %b.label, payload = %b.payload, "button not sendable on Telegram; left out");
            }
            ok
        })
        .collect();
    if usable.is_empty() {
        return None;
    }
    let widest = usable.iter().map(|b| width(&b.label)).max().unwrap_or(0);
    let per_row = match widest {
        0..=10 => 3,
        11..=22 => 2,
        _ => 1,
    };
    let rows = usable
        .chunks(per_row)
        .map(|row| {
            row.iter()
                .map(|b| InlineKeyboardButton::callback(b.label.trim(), b.payload.clone()))
                .collect::<Vec<_>>()
        })
        .collect::<Vec<_>>();
    Some(InlineKeyboardMarkup::new(rows))
}

/// Display width: CJK characters and emoji take two columns.
fn width(s: &str) -> usize {
    s.chars()
        .map(|c| if (c as u32) < 0x1100 { 1 } else { 2 })
        .sum()
}

/// Splits a long text at line breaks where it can. An empty text with buttons still needs some
/// text: Telegram refuses empty messages.
fn chunks(text: &str, has_buttons: bool) -> Vec<String> {
    let text = text.trim_end();
    if text.trim().is_empty() {
        return if has_buttons {
            vec!["👇".to_owned()]
        } else {
            vec![]
        };
    }
    let mut out = Vec::new();
    let mut rest: Vec<char> = text.chars().collect();
    while rest.len() > MAX_CHARS {
        let cut = rest[..MAX_CHARS]
            .iter()
            .rposition(|&c| c == '\n')
            .filter(|&i| i > MAX_CHARS / 2)
            .map(|i| i + 1)
            .unwrap_or(MAX_CHARS);
        out.push(rest[..cut].iter().collect::<String>().trim_end().to_owned());
        rest.drain(..cut);
    }
    out.push(rest.into_iter().collect());
    out
}

/// What a failed Bot API call means for a message: gone for good, or worth another try.
pub(crate) fn classify(e: &RequestError) -> SendError {
    match e {
        RequestError::RetryAfter(s) => SendError::Retry(format!(
            "Telegram rate limit: retry after {} s",
            s.seconds()
        )),
        RequestError::Network(_) | RequestError::Io(_) => {
            SendError::Retry(format!("cannot reach Telegram: {e}"))
        }
        // A proxy's HTML error page or a cut-off answer.
        RequestError::InvalidJson { .. } => {
            SendError::Retry(format!("unreadable answer from Telegram: {e}"))
        }
        RequestError::MigrateToChatId(_) => {
            SendError::Undeliverable("the chat became a supergroup".into())
        }
        // A wrong token is the operator's to fix; messages wait for it instead of being dropped.
        RequestError::Api(ApiError::InvalidToken) => {
            SendError::Retry("Telegram refused the bot token (check TELOXIDE_TOKEN)".into())
        }
        // Telegram's error code is not kept by teloxide; its description tells 4xx from 5xx:
        // "Bad Request: ...", "Forbidden: ..." will fail the same way again.
        RequestError::Api(ApiError::Unknown(d))
            if !(d.starts_with("Bad Request") || d.starts_with("Forbidden")) =>
        {
            SendError::Retry(format!("Telegram: {d}"))
        }
        // Blocked, chat not found, user deactivated, or a request Telegram will always refuse.
        RequestError::Api(api) => SendError::Undeliverable(format!("Telegram: {api}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn button(label: &str, payload: &str) -> Button {
        Button {
            label: label.to_owned(),
            payload: payload.to_owned(),
        }
    }

    fn shape(k: &InlineKeyboardMarkup) -> Vec<usize> {
        k.inline_keyboard.iter().map(Vec::len).collect()
    }

    #[test]
    fn short_labels_go_three_a_row_long_ones_two() {
        let short: Vec<_> = ["是", "否", "人工", "菜单"]
            .iter()
            .map(|l| button(l, "yes"))
            .collect();
        assert_eq!(shape(&keyboard(&short).unwrap()), vec![3, 1]);
        let long: Vec<_> = ["明天 08:00-10:00", "明天 10:00-12:00", "明天 14:00-16:00"]
            .iter()
            .map(|l| button(l, "slot:1"))
            .collect();
        assert_eq!(shape(&keyboard(&long).unwrap()), vec![2, 1]);
        assert!(keyboard(&[]).is_none());
    }

    #[test]
    fn unsendable_buttons_are_left_out() {
        let b = [
            button("ok", "yes"),
            button("too long", &"x".repeat(65)),
            button("  ", "no"),
        ];
        let k = keyboard(&b).unwrap();
        assert_eq!(shape(&k), vec![1]);
        assert_eq!(k.inline_keyboard[0][0].text, "ok");
    }

    #[test]
    fn long_texts_are_split_at_line_breaks() {
        assert!(chunks("  ", false).is_empty());
        assert_eq!(chunks("", true), vec!["👇"]);
        let line = "西红柿".repeat(100);
        let text = vec![line.as_str(); 20].join("\n");
        let parts = chunks(&text, false);
        assert!(parts.len() > 1);
        assert!(parts.iter().all(|p| p.chars().count() <= MAX_CHARS));
        assert_eq!(parts.join("\n"), text);
    }

    #[test]
    fn errors_map_to_retry_or_undeliverable() {
        use teloxide::types::Seconds;
        let retry = |e: RequestError| matches!(classify(&e), SendError::Retry(_));
        assert!(retry(RequestError::RetryAfter(Seconds::from_seconds(7))));
        assert!(
            classify(&RequestError::RetryAfter(Seconds::from_seconds(7)))
                .to_string()
                .contains("7 s")
        );
        assert!(retry(RequestError::Api(ApiError::Unknown(
            "Internal Server Error".into()
        ))));
        assert!(retry(RequestError::Api(ApiError::Unknown(
            "Bad Gateway".into()
        ))));
        assert!(!retry(RequestError::Api(ApiError::BotBlocked)));
        assert!(!retry(RequestError::Api(ApiError::ChatNotFound)));
        assert!(!retry(RequestError::Api(ApiError::Unknown(
            "Bad Request: something new".into()
        ))));
    }
}
