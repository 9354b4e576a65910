//! Telegram updates -> [`Inbound`] messages for the engine. Pure: no I/O, so every rule about
//! which update means what is unit-tested here.

use teloxide::types::{
    CallbackQuery, CallbackQueryId, ChatId, MaybeInaccessibleMessage, Message, MessageId, Update,
    UpdateKind, User,
};

use crate::conversation::{Content, Inbound};
use crate::dialog::courier::parse_stop_payload;
use crate::dialog::{Intent, Payload};
use crate::domain::events::StopAction;
use crate::domain::{Channel, Lang, LatLon};

/// What to do with one update.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Action {
    /// Nothing to do (a group chat, an edit, a kind of update the bot does not use).
    Ignore(&'static str),
    /// A customer turn for the engine.
    Turn {
        chat: ChatId,
        inbound: Inbound,
        tap: Option<Tap>,
    },
    /// A message the engine cannot read (a photo, a sticker, a voice note).
    Unsupported { chat: ChatId, lang: Option<Lang> },
}

/// A tapped inline button: the callback to answer and the message whose keyboard was used.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tap {
    pub id: CallbackQueryId,
    pub message: Option<TappedMessage>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TappedMessage {
    pub id: MessageId,
    /// The message's text, to re-send with the choice appended (None for a media caption).
    pub text: Option<String>,
    /// The label of the tapped button, as the customer saw it.
    pub label: Option<String>,
}

/// What an update from a courier means (couriers never reach the customer dialog).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum CourierInput {
    /// A stop button: arrived, delivered, not reachable.
    Stop {
        chat: ChatId,
        tap: Tap,
        action: StopAction,
        stop: i64,
    },
    /// A shared location; `live` when it is the start of live sharing, `edit` when it is one
    /// of the updates Telegram sends while live sharing runs (edited messages).
    Location {
        chat: ChatId,
        at: LatLon,
        live: bool,
        edit: bool,
    },
    /// Anything else in a private chat (text, an old button): the courier gets a short help.
    Other {
        chat: ChatId,
        tap: Option<Tap>,
    },
    Ignore(&'static str),
}

/// The Telegram user id behind an update (a courier is recognised by it).
pub(crate) fn sender(update: &Update) -> Option<String> {
    update.from().map(|u| u.id.0.to_string())
}

/// Decides what a courier's update means.
pub(crate) fn courier_input(update: &Update) -> CourierInput {
    let located = |m: &Message, edit: bool| {
        if !m.chat.is_private() {
            return CourierInput::Ignore("not a private chat");
        }
        match m.location() {
            Some(l) => match LatLon::new(l.latitude, l.longitude) {
                Ok(at) => CourierInput::Location {
                    chat: m.chat.id,
                    at,
                    live: l.live_period.is_some(),
                    edit,
                },
                Err(_) => CourierInput::Ignore("invalid location"),
            },
            None if edit => CourierInput::Ignore("edited message without a location"),
            None => CourierInput::Other {
                chat: m.chat.id,
                tap: None,
            },
        }
    };
    match &update.kind {
        UpdateKind::Message(m) => located(m, false),
        UpdateKind::EditedMessage(m) => located(m, true),
        UpdateKind::CallbackQuery(q) => match callback(q) {
            Action::Turn {
                chat,
                tap: Some(tap),
                ..
            } => match q.data.as_deref().and_then(parse_stop_payload) {
                Some((action, stop)) => CourierInput::Stop {
                    chat,
                    tap,
                    action,
                    stop,
                },
                None => CourierInput::Other {
                    chat,
                    tap: Some(tap),
                },
            },
            _ => CourierInput::Ignore("callback outside a private chat"),
        },
        _ => CourierInput::Ignore("update kind not used"),
    }
}

/// The reply language Telegram reports for a user: any Chinese variant -> Chinese, any other
/// language -> English (the only other one freshbot speaks).
pub(crate) fn lang_of(user: Option<&User>) -> Option<Lang> {
    let code = user?.language_code.as_deref()?.trim();
    if code.is_empty() {
        return None;
    }
    Some(if code.to_ascii_lowercase().starts_with("zh") {
        Lang::Zh
    } else {
        Lang::En
    })
}

/// Decides what an update means. Only private chats are served: conversation state, orders and
/// addresses belong to one person, and a group would mix several customers in one chat.
pub(crate) fn translate(update: &Update) -> Action {
    match &update.kind {
        UpdateKind::Message(m) => message(m),
        UpdateKind::CallbackQuery(q) => callback(q),
        // Edits carry live-location updates (and corrected texts); re-running a turn for each
        // would repeat answers, and courier tracking reads them elsewhere.
        UpdateKind::EditedMessage(_) => Action::Ignore("edited message"),
        _ => Action::Ignore("update kind not used"),
    }
}

fn message(m: &Message) -> Action {
    if !m.chat.is_private() {
        return Action::Ignore("not a private chat");
    }
    let lang = lang_of(m.from.as_ref());
    let content = if let Some(text) = m.text() {
        match command(text) {
            Some(c) => c,
            None if text.trim().is_empty() => return Action::Ignore("empty text"),
            None => Content::Text(text.to_owned()),
        }
    } else if let Some(l) = m.location() {
        match LatLon::new(l.latitude, l.longitude) {
            Ok(p) => Content::Location(p),
            Err(_) => return Action::Ignore("invalid location"),
        }
    } else {
        return Action::Unsupported {
            chat: m.chat.id,
            lang,
        };
    };
    Action::Turn {
        chat: m.chat.id,
        inbound: inbound(m.chat.id, lang, content),
        tap: None,
    }
}

fn callback(q: &CallbackQuery) -> Action {
    // Without a message the button sat under an inline-mode message, which freshbot never sends.
    let Some(msg) = &q.message else {
        return Action::Ignore("callback without a message");
    };
    let chat = match msg {
        MaybeInaccessibleMessage::Regular(m) => &m.chat,
        MaybeInaccessibleMessage::Inaccessible(m) => &m.chat,
    };
    if !chat.is_private() {
        return Action::Ignore("callback outside a private chat");
    }
    let tapped = match msg {
        MaybeInaccessibleMessage::Regular(m) => Some(TappedMessage {
            id: m.id,
            text: m.text().map(str::to_owned),
            label: q.data.as_deref().and_then(|d| label_of(m, d)),
        }),
        // Too old to edit (Telegram hides messages older than 48 h from callbacks).
        MaybeInaccessibleMessage::Inaccessible(_) => None,
    };
    let tap = Tap {
        id: q.id.clone(),
        message: tapped,
    };
    // No data means a game button, which freshbot never sends: the engine answers an empty
    // payload like any unreadable one.
    Action::Turn {
        chat: chat.id,
        inbound: inbound(
            chat.id,
            lang_of(Some(&q.from)),
            Content::Button(q.data.clone().unwrap_or_default()),
        ),
        tap: Some(tap),
    }
}

fn label_of(m: &Message, data: &str) -> Option<String> {
    use teloxide::types::InlineKeyboardButtonKind;
    m.reply_markup()?
        .inline_keyboard
        .iter()
        .flatten()
        .find(|b| matches!(&b.kind, InlineKeyboardButtonKind::CallbackData(d) if d == data))
        .map(|b| b.text.clone())
}

/// The bot's commands, as button payloads the engine already understands.
fn command(text: &str) -> Option<Content> {
    let first = text.split_whitespace().next()?;
    let name = first.strip_prefix('/')?;
    // `/orders@freshbot_bot` in a client that appends the bot's name.
    let name = name.split('@').next().unwrap_or(name).to_ascii_lowercase();
    let payload = match name.as_str() {
        "orders" => Payload::Start(Intent::Track),
        "human" => Payload::Human,
        // /start (with or without a deep-link parameter), /help and unknown commands: the
        // greeting with the menu of everything the bot does.
        _ => Payload::Start(Intent::Greet),
    };
    Some(Content::Button(payload.encode()))
}

fn inbound(chat: ChatId, lang: Option<Lang>, content: Content) -> Inbound {
    Inbound {
        channel: Channel::Telegram,
        user: chat.0.to_string(),
        // Deduplication happens by update_id before the engine runs (see `Telegram::handle`).
        message_id: None,
        lang,
        content,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// From text, as Telegram's bytes arrive (teloxide's `UpdateKind` does not read from a
    /// `serde_json::Value`).
    fn update(v: serde_json::Value) -> Update {
        serde_json::from_str(&v.to_string()).unwrap()
    }

    fn private_message(extra: serde_json::Value, lang: &str) -> Update {
        let mut msg = json!({
            "message_id": 5,
            "date": 1_764_000_000,
            "chat": {"id": 42, "type": "private", "first_name": "Li"},
            "from": {"id": 42, "is_bot": false, "first_name": "Li", "language_code": lang},
        });
        if let (Some(m), Some(e)) = (msg.as_object_mut(), extra.as_object()) {
            m.extend(e.clone());
        }
        update(json!({"update_id": 1, "message": msg}))
    }

    fn turn(a: Action) -> (Inbound, Option<Tap>) {
        match a {
            Action::Turn { inbound, tap, .. } => (inbound, tap),
            other => panic!("not a turn: {other:?}"),
        }
    }

    #[test]
    fn text_location_and_language() {
        let (i, tap) = turn(translate(&private_message(
            json!({"text": "我要两斤西红柿"}),
            "zh-hans",
        )));
        assert_eq!(i.content, Content::Text("我要两斤西红柿".into()));
        assert_eq!((i.user.as_str(), i.lang, tap), ("42", Some(Lang::Zh), None));
        assert_eq!(i.channel, Channel::Telegram);

        let (i, _) = turn(translate(&private_message(
            json!({"location": {"latitude": 31.2352, "longitude": 121.48}}),
            "en-GB",
        )));
        assert_eq!(
            i.content,
            Content::Location(LatLon::new(31.2352, 121.48).unwrap())
        );
        assert_eq!(i.lang, Some(Lang::En));

        let (i, _) = turn(translate(&private_message(json!({"text": "hi"}), "de")));
        assert_eq!(
            i.lang,
            Some(Lang::En),
            "languages we do not speak get English"
        );
    }

    #[test]
    fn commands_become_engine_buttons() {
        for (text, payload) in [
            ("/start", "start:greet"),
            ("/start ref123", "start:greet"),
            ("/help", "start:greet"),
            ("/orders", "start:track"),
            ("/orders@freshbot_bot", "start:track"),
            ("/human", "human"),
            ("/whatever", "start:greet"),
        ] {
            let (i, _) = turn(translate(&private_message(json!({"text": text}), "zh")));
            assert_eq!(i.content, Content::Button(payload.into()), "{text}");
            assert!(Payload::parse(payload).is_some());
        }
    }

    #[test]
    fn groups_edits_and_media_are_not_turns() {
        let group = update(json!({"update_id": 2, "message": {
            "message_id": 1, "date": 1_764_000_000,
            "chat": {"id": -100, "type": "group", "title": "family"},
            "from": {"id": 42, "is_bot": false, "first_name": "Li"},
            "text": "我要两斤西红柿"}}));
        assert_eq!(translate(&group), Action::Ignore("not a private chat"));

        let edit = update(json!({"update_id": 3, "edited_message": {
            "message_id": 1, "date": 1_764_000_000, "edit_date": 1_764_000_060,
            "chat": {"id": 42, "type": "private", "first_name": "Li"},
            "from": {"id": 42, "is_bot": false, "first_name": "Li"},
            "location": {"latitude": 31.2, "longitude": 121.4, "live_period": 900}}}));
        assert!(matches!(translate(&edit), Action::Ignore(_)));

        let dice = private_message(json!({"dice": {"emoji": "🎲", "value": 3}}), "zh-hans");
        assert_eq!(
            translate(&dice),
            Action::Unsupported {
                chat: ChatId(42),
                lang: Some(Lang::Zh)
            }
        );
    }

    #[test]
    fn courier_updates_taps_locations_and_live_edits() {
        let tap = update(json!({"update_id": 9, "callback_query": {
            "id": "cb9", "chat_instance": "ci", "data": "cs:d:15",
            "from": {"id": 77, "is_bot": false, "first_name": "Wang"},
            "message": {
                "message_id": 5, "date": 1_764_000_000,
                "chat": {"id": 77, "type": "private", "first_name": "Wang"},
                "text": "① 订单"}}}));
        assert_eq!(sender(&tap).as_deref(), Some("77"));
        match courier_input(&tap) {
            CourierInput::Stop {
                chat, action, stop, ..
            } => assert_eq!(
                (chat, action, stop),
                (ChatId(77), StopAction::Delivered, 15)
            ),
            other => panic!("{other:?}"),
        }
        let live = update(json!({"update_id": 10, "edited_message": {
            "message_id": 1, "date": 1_764_000_000, "edit_date": 1_764_000_060,
            "chat": {"id": 77, "type": "private", "first_name": "Wang"},
            "from": {"id": 77, "is_bot": false, "first_name": "Wang"},
            "location": {"latitude": 31.24, "longitude": 121.49, "live_period": 900}}}));
        assert_eq!(
            courier_input(&live),
            CourierInput::Location {
                chat: ChatId(77),
                at: LatLon::new(31.24, 121.49).unwrap(),
                live: true,
                edit: true
            }
        );
        let text = private_message(json!({"text": "你好"}), "zh");
        assert!(matches!(
            courier_input(&text),
            CourierInput::Other { tap: None, .. }
        ));
        let edited_text = update(json!({"update_id": 11, "edited_message": {
            "message_id": 1, "date": 1_764_000_000, "edit_date": 1_764_000_060,
            "chat": {"id": 77, "type": "private", "first_name": "Wang"},
            "from": {"id": 77, "is_bot": false, "first_name": "Wang"},
            "text": "typo fixed"}}));
        assert!(matches!(
            courier_input(&edited_text),
            CourierInput::Ignore(_)
        ));
    }

    #[test]
    fn a_tap_names_its_button_and_message() {
        let u = update(json!({"update_id": 4, "callback_query": {
            "id": "cb1", "chat_instance": "ci", "data": "slot:1764036000",
            "from": {"id": 42, "is_bot": false, "first_name": "Li", "language_code": "zh-hans"},
            "message": {
                "message_id": 77, "date": 1_764_000_000,
                "chat": {"id": 42, "type": "private", "first_name": "Li"},
                "from": {"id": 1, "is_bot": true, "first_name": "freshbot"},
                "text": "选个时间",
                "reply_markup": {"inline_keyboard": [[
                    {"text": "明天 10:00", "callback_data": "slot:1764036000"},
                    {"text": "明天 14:00", "callback_data": "slot:1764050400"}]]}}}}));
        let (i, tap) = turn(translate(&u));
        assert_eq!(i.content, Content::Button("slot:1764036000".into()));
        let tap = tap.unwrap();
        assert_eq!(tap.id.0, "cb1");
        assert_eq!(
            tap.message,
            Some(TappedMessage {
                id: MessageId(77),
                text: Some("选个时间".into()),
                label: Some("明天 10:00".into()),
            })
        );
    }
}
