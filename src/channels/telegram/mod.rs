//! The Telegram channel (teloxide): updates in, replies out, nothing decided here.
//!
//! - Long polling by default; webhook mode when a webhook URL is configured, with the route
//!   mounted in freshbot's own axum server (needed when several instances share one bot: only
//!   one `getUpdates` consumer per token is allowed).
//! - Every update is recorded by `update_id` before anything happens, so a redelivered update
//!   (a webhook retry, a poll after a crash) has no second effect. The engine's own
//!   message-id dedupe is not used: an update id is unique per bot across all kinds of updates,
//!   while message ids repeat across chats and for edits.
//! - Only private chats are served; groups are ignored.

mod inbound;
mod outbound;
mod webhook;

use std::sync::Arc;
use std::time::Duration;

use teloxide::dispatching::{Dispatcher, UpdateFilterExt};
use teloxide::error_handlers::LoggingErrorHandler;
use teloxide::payloads::{AnswerCallbackQuerySetters, EditMessageTextSetters, SetWebhookSetters};
use teloxide::prelude::Requester;
use teloxide::requests::Request;
use teloxide::types::{AllowedUpdate, ChatId, Update};
use teloxide::update_listeners::Polling;
use teloxide::{ApiError, Bot, RequestError, dptree};
use tokio::sync::watch;

pub use outbound::TelegramSender;
pub use webhook::{SECRET_HEADER, WEBHOOK_PATH};

use self::inbound::{Action, CourierInput, Tap};
use crate::channels::{SendError, Sender};
use crate::config::{Secret, TelegramSettings};
use crate::conversation::Engine;
use crate::dialog::courier as courier_text;
use crate::domain::Channel;
use crate::domain::Reply;
use crate::services::{Courier, DispatchError, DispatchSettings};

/// Why the Telegram channel could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TelegramError {
    #[error("invalid Telegram Bot API URL {url:?}: {reason}")]
    ApiUrl { url: String, reason: String },
    #[error("cannot create the HTTP client for Telegram: {0}")]
    Client(String),
}

/// How long one `getUpdates` call waits for news.
const POLL_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest wait between attempts to start polling or set the webhook.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// The bot for the configured token and API URL; `None` when no token is set.
pub fn bot(settings: &TelegramSettings) -> Result<Option<Bot>, TelegramError> {
    if !settings.enabled() {
        return Ok(None);
    }
    // `Bot::new` panics if the client cannot be built; build it ourselves to report instead.
    let client = teloxide::net::default_reqwest_settings()
        .build()
        .map_err(|e| TelegramError::Client(e.to_string()))?;
    let mut bot = Bot::with_client(settings.token.expose(), client);
    if let Some(url) = &settings.api_url {
        let parsed = url::Url::parse(url).map_err(|e| TelegramError::ApiUrl {
            url: url.clone(),
            reason: e.to_string(),
        })?;
        bot = bot.set_api_url(parsed);
    }
    Ok(Some(bot))
}

/// The inbound side of the channel.
pub struct Telegram {
    bot: Bot,
    /// The numeric bot id from the token: update ids are only unique per bot.
    bot_id: String,
    engine: Engine,
    replies: Arc<dyn Sender>,
    webhook: Option<(url::Url, Secret)>,
    /// Couriers' taps and locations feed dispatch with these settings.
    dispatch: Arc<DispatchSettings>,
}

/// Handling stopped before anything happened; the update may be delivered again.
#[derive(Debug, thiserror::Error)]
#[error("could not record the update: {0}")]
pub struct NotRecorded(String);

impl Telegram {
    /// `replies` is the Telegram sender of the application (a test may have replaced it).
    pub fn new(
        bot: Bot,
        settings: &TelegramSettings,
        engine: Engine,
        replies: Arc<dyn Sender>,
    ) -> Result<Self, TelegramError> {
        let bot_id = settings
            .token
            .expose()
            .split(':')
            .next()
            .unwrap_or_default()
            .to_owned();
        let webhook = match &settings.webhook_url {
            Some(u) => Some((
                url::Url::parse(u).map_err(|e| TelegramError::ApiUrl {
                    url: u.clone(),
                    reason: e.to_string(),
                })?,
                settings.webhook_secret.clone(),
            )),
            None => None,
        };
        Ok(Self {
            bot,
            bot_id,
            engine,
            replies,
            webhook,
            dispatch: Arc::default(),
        })
    }

    /// The dispatch settings couriers' updates are handled with.
    pub fn with_dispatch_settings(mut self, settings: DispatchSettings) -> Self {
        self.dispatch = Arc::new(settings);
        self
    }

    pub fn is_webhook(&self) -> bool {
        self.webhook.is_some()
    }

    /// The `POST /telegram/webhook` route, to merge into the HTTP router in webhook mode.
    pub fn webhook_router(self: &Arc<Self>) -> axum::Router {
        webhook::router(self.clone())
    }

    /// Receives updates until `stop` turns true: long polling, or in webhook mode registering
    /// the webhook with Telegram (updates then arrive over HTTP). Telegram being unreachable
    /// or refusing at start is logged and retried; it never stops the rest of freshbot.
    pub async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        match &self.webhook {
            Some(_) => self.set_webhook(&mut stop).await,
            None => self.poll(&mut stop).await,
        }
    }

    async fn set_webhook(&self, stop: &mut watch::Receiver<bool>) {
        let Some((url, secret)) = &self.webhook else {
            return;
        };
        let mut attempt = 0;
        loop {
            let result = self
                .bot
                .set_webhook(url.clone())
                .secret_token(secret.expose().to_owned())
                .allowed_updates(allowed_updates())
                .send()
                .await;
            match result {
                Ok(_) => {
                    tracing::info!(%url, "Telegram webhook set");
                    return;
                }
                Err(e) => {
                    if !retry_start(&e, "setting the Telegram webhook") {
                        return;
                    }
                }
            }
            attempt += 1;
            if !pause(stop, backoff(attempt)).await {
                return;
            }
        }
    }

    async fn poll(self: &Arc<Self>, stop: &mut watch::Receiver<bool>) {
        let mut attempt = 0;
        loop {
            let listener = tokio::select! {
                l = Polling::builder(self.bot.clone()).timeout(POLL_TIMEOUT).delete_webhook() => l.build(),
                _ = stopped(stop) => return,
            };
            let handler = dptree::entry()
                .branch(Update::filter_message().endpoint(on_update))
                // Live locations arrive as edits of the location message.
                .branch(Update::filter_edited_message().endpoint(on_update))
                .branch(Update::filter_callback_query().endpoint(on_update));
            let mut dispatcher = Dispatcher::builder(self.bot.clone(), handler)
                .dependencies(dptree::deps![self.clone()])
                .default_handler(|_| async {})
                .build();
            let shutdown = dispatcher.shutdown_token();
            // getMe runs first; its failure is returned instead of panicking.
            let run = dispatcher.try_dispatch_with_listener(
                listener,
                LoggingErrorHandler::with_custom_text("Telegram polling failed"),
            );
            tokio::pin!(run);
            let result = tokio::select! {
                r = &mut run => r,
                _ = stopped(stop) => {
                    // Running: let it confirm what it fetched and finish turns in progress.
                    // Still starting (getMe in flight): nothing to finish.
                    if shutdown.shutdown().is_ok() {
                        let _ = tokio::time::timeout(Duration::from_secs(15), run).await;
                    }
                    return;
                }
            };
            match result {
                Ok(()) => return,
                Err(e) => {
                    if !retry_start(&e, "starting Telegram polling") {
                        return;
                    }
                }
            }
            attempt += 1;
            if !pause(stop, backoff(attempt)).await {
                return;
            }
        }
    }

    /// Handles one update: records it, answers a tapped button, runs the engine and sends its
    /// replies. `Err` only when the update could not be recorded (nothing happened then).
    pub async fn handle(&self, update: Update) -> Result<(), NotRecorded> {
        // Couriers are recognised by their Telegram user id and never reach the customer
        // dialog.
        if let Some(user) = inbound::sender(&update) {
            let courier = self
                .engine
                .services()
                .courier_for_telegram(&user)
                .await
                .map_err(|e| NotRecorded(e.to_string()))?;
            if let Some(c) = courier {
                return self.handle_courier(update, c).await;
            }
        }
        let action = inbound::translate(&update);
        if let Action::Ignore(why) = action {
            tracing::debug!(update = update.id.0, why, "Telegram update ignored");
            return Ok(());
        }
        if !self.first_delivery(&update).await? {
            return Ok(());
        }
        match action {
            Action::Ignore(_) => {}
            Action::Unsupported { chat, lang } => {
                let lang = lang.unwrap_or_default();
                self.reply(
                    chat,
                    &[Reply::text(lang.pick(
                        "我能看懂文字、按钮和位置哦,请用文字告诉我您需要什么。",
                        "I can read text, buttons and locations; please tell me in words what you need.",
                    ))],
                )
                .await;
            }
            Action::Turn { chat, inbound, tap } => {
                if let Some(tap) = tap {
                    self.acknowledge(chat, tap).await;
                }
                let lang = inbound.lang;
                match self.engine.handle(inbound).await {
                    Ok(turn) => self.reply(chat, &turn.replies).await,
                    Err(e) => {
                        tracing::error!(error = %e, "Telegram turn failed");
                        let lang = lang.unwrap_or_default();
                        self.reply(
                            chat,
                            &[Reply::text(lang.pick(
                                "抱歉,系统开小差了,请稍后再试。",
                                "Sorry, something went wrong on our side. Please try again in a moment.",
                            ))],
                        )
                        .await;
                    }
                }
            }
        }
        Ok(())
    }

    /// Whether the update is new (recorded now); a redelivery is logged and skipped.
    async fn first_delivery(&self, update: &Update) -> Result<bool, NotRecorded> {
        let key = format!("update:{}:{}", self.bot_id, update.id.0);
        match self
            .engine
            .services()
            .first_delivery(Channel::Telegram, &key)
            .await
        {
            Ok(true) => Ok(true),
            Ok(false) => {
                tracing::info!(
                    update = update.id.0,
                    "Telegram update delivered again; ignored"
                );
                Ok(false)
            }
            Err(e) => Err(NotRecorded(e.to_string())),
        }
    }

    /// A courier's update: stop buttons, shared and live locations; anything else gets help.
    async fn handle_courier(&self, update: Update, courier: Courier) -> Result<(), NotRecorded> {
        let input = inbound::courier_input(&update);
        if let CourierInput::Ignore(why) = input {
            tracing::debug!(update = update.id.0, why, "courier update ignored");
            return Ok(());
        }
        if !self.first_delivery(&update).await? {
            return Ok(());
        }
        let services = self.engine.services();
        match input {
            CourierInput::Ignore(_) => {}
            CourierInput::Stop {
                chat,
                tap,
                action,
                stop,
            } => {
                match services
                    .courier_stop(&self.dispatch, courier.id, stop, action)
                    .await
                {
                    Ok(outcome) => {
                        self.answer(&tap, Some(courier_text::says::RECORDED), false)
                            .await;
                        if let Some(msg) = &tap.message {
                            let original = msg.text.clone().unwrap_or_default();
                            let (text, buttons) =
                                courier_text::after_tap(&original, stop, action, outcome.at);
                            self.edit(chat, msg.id, text, &buttons).await;
                        }
                        if outcome.route_done {
                            self.reply(chat, &[Reply::text(courier_text::says::ROUTE_DONE)])
                                .await;
                        }
                    }
                    Err(e) => {
                        let text = match &e {
                            DispatchError::NotYourStop | DispatchError::UnknownCourier(_) => {
                                courier_text::says::NOT_YOUR_STOP.to_owned()
                            }
                            DispatchError::StopClosed { status, .. } => {
                                courier_text::stop_closed(status)
                            }
                            _ => {
                                tracing::error!(error = %e, stop, "courier stop update failed");
                                courier_text::says::TRY_AGAIN.to_owned()
                            }
                        };
                        self.answer(&tap, Some(&text), true).await;
                    }
                }
            }
            CourierInput::Location {
                chat,
                at,
                live,
                edit,
            } => match services
                .courier_location(&self.dispatch, courier.id, at)
                .await
            {
                // Live updates come every few seconds: acknowledged once, when sharing starts.
                Ok(_) if !edit => {
                    let text = if live {
                        courier_text::says::LIVE_LOCATION
                    } else {
                        courier_text::says::ONE_LOCATION
                    };
                    self.reply(chat, &[Reply::text(text)]).await;
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, courier = %courier.id, "courier location not stored")
                }
            },
            CourierInput::Other { chat, tap } => {
                if let Some(tap) = &tap {
                    self.answer(tap, None, false).await;
                }
                self.reply(chat, &[Reply::text(courier_text::help(&courier.name))])
                    .await;
            }
        }
        Ok(())
    }

    /// Answers a callback, optionally with a notice (an alert box when `alert`).
    async fn answer(&self, tap: &Tap, text: Option<&str>, alert: bool) {
        let mut req = self.bot.answer_callback_query(tap.id.clone());
        if let Some(t) = text {
            req = req.text(t).show_alert(alert);
        }
        if let Err(e) = req.send().await {
            tracing::warn!(error = %e, "answering a Telegram callback failed");
        }
    }

    /// Replaces a message's text and keyboard (no buttons: the keyboard goes).
    async fn edit(
        &self,
        chat: ChatId,
        id: teloxide::types::MessageId,
        text: String,
        buttons: &[crate::domain::Button],
    ) {
        let mut req = self.bot.edit_message_text(chat, id, text);
        if let Some(k) = outbound::keyboard(buttons) {
            req = req.reply_markup(k);
        }
        match req.send().await {
            Ok(_) | Err(RequestError::Api(ApiError::MessageNotModified)) => {}
            Err(e) => tracing::warn!(error = %e, "editing a courier's stop message failed"),
        }
    }

    /// Answers the callback (the client's spinner stops) and marks the tapped message as
    /// used: its keyboard goes and the choice is appended, so an old keyboard cannot be
    /// tapped again by mistake.
    async fn acknowledge(&self, chat: ChatId, tap: Tap) {
        if let Err(e) = self.bot.answer_callback_query(tap.id).send().await {
            tracing::warn!(error = %e, "answering a Telegram callback failed");
        }
        let Some(msg) = tap.message else {
            return;
        };
        let result = match (msg.text, msg.label) {
            (Some(text), Some(label)) => self
                .bot
                .edit_message_text(chat, msg.id, format!("{text}\n\n✓ {label}"))
                .send()
                .await
                .map(|_| ()),
            // The label or the text is unknown: just take the keyboard away.
            _ => self
                .bot
                .edit_message_reply_markup(chat, msg.id)
                .send()
                .await
                .map(|_| ()),
        };
        match result {
            Ok(()) | Err(RequestError::Api(ApiError::MessageNotModified)) => {}
            Err(e) => tracing::warn!(error = %e, "editing a tapped Telegram message failed"),
        }
    }

    async fn reply(&self, chat: ChatId, replies: &[Reply]) {
        if replies.is_empty() {
            return;
        }
        match self.replies.send(&chat.0.to_string(), replies).await {
            Ok(()) => {}
            Err(SendError::Undeliverable(e)) => {
                tracing::info!(chat = chat.0, error = %e, "Telegram reply undeliverable")
            }
            // Telegram is down for now: the outbox sends the reply when it is back.
            Err(SendError::Retry(e)) => {
                tracing::warn!(chat = chat.0, error = %e, "Telegram reply not sent; retried through the outbox");
                let later = self
                    .engine
                    .services()
                    .send_later(Channel::Telegram, &chat.0.to_string(), replies)
                    .await;
                if let Err(e) = later {
                    tracing::error!(chat = chat.0, error = %e, "Telegram reply lost");
                }
            }
        }
    }
}

/// The updates freshbot uses; Telegram sends no others.
fn allowed_updates() -> Vec<AllowedUpdate> {
    vec![
        AllowedUpdate::Message,
        // Couriers' live locations.
        AllowedUpdate::EditedMessage,
        AllowedUpdate::CallbackQuery,
    ]
}

async fn on_update(tg: Arc<Telegram>, update: Update) -> Result<(), NotRecorded> {
    let id = update.id.0;
    // Polling has already moved past this update; the error is logged by the dispatcher.
    tg.handle(update).await.inspect_err(|e| {
        tracing::error!(update = id, error = %e, "Telegram update lost");
    })
}

/// Logs a failed start and says whether trying again can help.
fn retry_start(e: &RequestError, what: &str) -> bool {
    if matches!(e, RequestError::Api(ApiError::InvalidToken)) {
        tracing::error!(
            "{what}: Telegram refused the bot token; check TELOXIDE_TOKEN. The Telegram channel is off until restart; the web channel keeps running."
        );
        return false;
    }
    match outbound::classify(e) {
        SendError::Retry(m) => {
            tracing::error!(error = %m, "{what} failed; trying again");
            true
        }
        SendError::Undeliverable(m) => {
            tracing::error!(error = %m, "{what} failed; the Telegram channel is off until restart");
            false
        }
    }
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_secs(2u64.saturating_pow(attempt.min(10))).min(MAX_BACKOFF)
}

/// Waits `d`; false when asked to stop meanwhile.
async fn pause(stop: &mut watch::Receiver<bool>, d: Duration) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(d) => true,
        _ = stopped(stop) => false,
    }
}

/// Resolves once `stop` is true (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}
