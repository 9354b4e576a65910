//! The conversation engine at work: for each inbound message it deduplicates, identifies the
//! customer, loads the dialog state, understands the text, runs the pure dialog step, saves
//! the state with its version, runs the step's commands through the services and feeds their
//! outcomes back. Channels call [`Engine::handle`] and send the replies; nothing else.

pub mod faq;
mod handoff_state;
pub mod nlu_bridge;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::dialog::{
    self, Command, Context, DialogState, Event, Failure, Faq, Outcome, Payload, Understanding,
};
use crate::domain::{Channel, Customer, FreeSlot, Lang, LatLon, Product, Reply};
use crate::services::{
    LineChange, OpenTurn, OrderLineRequest, PlaceOrder, Saved, SavedWith, ServiceError, Services,
    StateSave, StateView,
};

/// Turns text into an [`Understanding`]; implemented by the NLU (and by test doubles).
pub trait Understand: Send + Sync {
    /// `catalog` is the active catalog (with stock, as the turn reads it anyway); items whose
    /// sku is not in it are dropped.
    fn understand(
        &self,
        text: &str,
        now: DateTime<Utc>,
        catalog: &[(Product, crate::domain::StockLevel)],
    ) -> Understanding;

    /// Whether understanding a message may take milliseconds (a sentence encoder behind a
    /// lock): the engine then runs it off the async workers, so other customers' turns and
    /// the database's wake-ups are not held up behind it.
    fn may_block(&self) -> bool {
        false
    }
}

/// One message from a customer on some channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Inbound {
    pub channel: Channel,
    /// The channel's id of the customer (Telegram chat id, WeChat OpenID, web user id).
    pub user: String,
    /// The channel's message id, for deduplication of redeliveries.
    pub message_id: Option<String>,
    /// A language the channel knows (Telegram `language_code`, a web `lang` field).
    pub lang: Option<Lang>,
    pub content: Content,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    Text(String),
    /// A button payload as the channel returned it (untrusted).
    Button(String),
    Location(LatLon),
}

/// Longest message the engine reads; longer texts are cut (and never stored whole).
pub const MAX_TEXT_CHARS: usize = 2000;

/// What a transcript shows of a customer turn that was not text.
pub fn describe_content(content: &Content) -> String {
    match content {
        Content::Text(t) => t.chars().take(MAX_TEXT_CHARS).collect(),
        Content::Button(p) => format!("[button] {}", p.chars().take(64).collect::<String>()),
        Content::Location(l) => format!("[location] {l:?}"),
    }
}

/// Commands one turn may chain (address saved -> order moved).
const MAX_COMMANDS_PER_TURN: usize = 8;

#[derive(Clone)]
pub struct Engine {
    services: Services,
    nlu: Arc<dyn Understand>,
    faq: Arc<Faq>,
    public_url: Arc<str>,
}

/// What a turn produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TurnResult {
    pub replies: Vec<Reply>,
    /// The message id was seen before: nothing was done.
    pub duplicate: bool,
    /// The active flow after the turn (for stories and transcripts).
    pub flow: Option<&'static str>,
}

impl Engine {
    pub fn new(services: Services, nlu: Arc<dyn Understand>, faq: Faq, public_url: &str) -> Self {
        nlu_bridge::compile_patterns();
        Self {
            services,
            nlu,
            faq: Arc::new(faq),
            public_url: Arc::from(public_url),
        }
    }

    pub fn services(&self) -> &Services {
        &self.services
    }

    /// The base URL customers reach this server at.
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The turn's customer, created now on a first contact (see [`Services::identify`]).
    async fn customer_of<'c>(
        &self,
        inbound: &Inbound,
        customer: &'c mut Option<Customer>,
        lang: Lang,
    ) -> Result<&'c Customer, ServiceError> {
        let known = match customer.take() {
            Some(known) => known,
            None => {
                self.services
                    .identify(inbound.channel, &inbound.user, lang)
                    .await?
            }
        };
        Ok(customer.insert(known))
    }

    /// Handles one inbound message and returns the replies to send; its latency is recorded
    /// per channel (`freshbot_turn_duration_seconds` on `/metrics`).
    pub async fn handle(&self, inbound: Inbound) -> Result<TurnResult, ServiceError> {
        let started = std::time::Instant::now();
        let channel = inbound.channel.code();
        let result = self.handle_turn(inbound).await;
        let outcome = if result.is_ok() { "ok" } else { "error" };
        metrics::histogram!("freshbot_turn_duration_seconds", "channel" => channel, "outcome" => outcome)
            .record(started.elapsed().as_secs_f64());
        result
    }

    #[tracing::instrument(skip(self, inbound), fields(channel = %inbound.channel, user = %inbound.user))]
    async fn handle_turn(&self, inbound: Inbound) -> Result<TurnResult, ServiceError> {
        let s = &self.services;
        // The dedupe key is recorded by the turn's first write (with the state), so a turn
        // that fails before it leaves the message to be retried, and a concurrent second
        // delivery finds the key at its own save and writes nothing.
        let dedupe = inbound
            .message_id
            .as_ref()
            .map(|id| format!("{}:{}", inbound.user, id));
        let dedupe = dedupe.as_deref();
        let duplicate = || {
            Ok(TurnResult {
                duplicate: true,
                ..TurnResult::default()
            })
        };
        // One read for the whole turn: agent hold, customer, state, orders, addresses.
        let mut view = s
            .turn_view::<DialogState>(inbound.channel, &inbound.user, dedupe)
            .await?;
        if view.seen_before {
            return duplicate();
        }
        // An agent holds the conversation: the message is theirs and the bot stays silent.
        if let Some(held) = &view.held_by_agent {
            let text = describe_content(&inbound.content);
            if !s.relay_to_agent(held, &text, dedupe).await? {
                return duplicate();
            }
            return Ok(TurnResult::default());
        }
        let first_guess = match &inbound.content {
            Content::Text(t) => Lang::detect(t),
            _ => None,
        };
        // A first contact (no customer yet, so no orders or addresses) creates the customer:
        // with the state's save on the usual turn, or first thing when the turn needs the
        // customer (membership, a command, a handoff).
        let mut customer = view.customer.take();
        let new_lang = inbound.lang.or(first_guess).unwrap_or_default();
        let event = match &inbound.content {
            Content::Text(t) => {
                let text: String = t
                    .chars()
                    .filter(|c| !c.is_control() || *c == '\n')
                    .take(MAX_TEXT_CHARS)
                    .collect();
                let understand = || self.nlu.understand(&text, s.now(), &view.stored.catalog);
                let understanding = if self.nlu.may_block() {
                    crate::runtime::off_async_workers(understand)
                } else {
                    understand()
                };
                Event::Text {
                    text,
                    understanding,
                }
            }
            Content::Button(p) => match Payload::parse(p) {
                Some(p) => Event::Button(p),
                None => Event::Text {
                    text: String::new(),
                    understanding: Understanding::intent(dialog::Intent::OutOfScope),
                },
            },
            Content::Location(l) => Event::Location(*l),
        };
        let leaving_queue = matches!(event, Event::Button(Payload::BackToBot));
        let text_lang = switch_language(&event);
        let wants_offers = match &event {
            Event::Text { understanding, .. } => matches!(
                understanding.intent,
                dialog::Intent::Affirm | dialog::Intent::Deny
            ),
            Event::Button(Payload::Substitution { .. }) => true,
            _ => false,
        };
        let wants_membership = match &event {
            Event::Text { understanding, .. } => understanding.intent == dialog::Intent::Membership,
            Event::Button(Payload::Start(i)) => *i == dialog::Intent::Membership,
            _ => false,
        };
        // Membership standing (which reads every order again) and substitution offers only
        // when the turn may need them.
        let membership = if wants_membership {
            let known = self.customer_of(&inbound, &mut customer, new_lang).await?;
            s.membership(known).await.ok()
        } else {
            None
        };
        let offers = match &customer {
            Some(known) if wants_offers => s.open_substitution_offers(known).await?,
            _ => vec![],
        };

        let mut verdicts = HashMap::new();
        // The turn proper: retried from a fresh view if another instance saved first.
        let (mut state, mut version, mut step, mut recorded, first_outcome) = {
            let mut attempt = 0;
            loop {
                let (mut state, version, mut data) =
                    TurnData::split(view.stored, membership.clone(), offers.clone(), s.now());
                if let Some(l) = inbound.lang.filter(|_| !state.lang_fixed) {
                    state.lang = l;
                } else if let (Some(l), false) = (text_lang, state.lang_fixed) {
                    state.lang = l;
                }
                let step = self
                    .step(&mut state, event.clone(), &mut data, None)
                    .await?;
                // The usual turn (no command to run, no queue to leave or report) saves its
                // state and its transcript in one write transaction.
                let saved = if step.commands.is_empty() && !leaving_queue && state.handoff.is_none()
                {
                    let said = describe_content(&inbound.content);
                    let saved = s
                        .save_turn(
                            inbound.channel,
                            &inbound.user,
                            &state,
                            version,
                            dedupe,
                            &said,
                            &step.replies,
                            customer.is_none().then_some(new_lang),
                        )
                        .await?;
                    (saved, true)
                } else {
                    let known = self.customer_of(&inbound, &mut customer, new_lang).await?;
                    let save =
                        StateSave::new(inbound.channel, &inbound.user, &state, version, dedupe)?;
                    // The state and the first command in one transaction, where the services
                    // can (the confirmation's order, a shared location's address); when the
                    // command succeeds, the answer to it is saved there too (`OpenTurn`).
                    let with_command = match step.commands.first().filter(|_| !leaving_queue) {
                        Some(first) => {
                            self.execute_saving_state(&save, &inbound, known, first, &mut verdicts)
                                .await?
                        }
                        None => None,
                    };
                    match with_command {
                        Some(FirstCommand::Ran {
                            version,
                            outcome,
                            open,
                        }) => {
                            break (state, Some(version), step, false, Some((outcome, open)));
                        }
                        Some(FirstCommand::Duplicate) => (Saved::Duplicate, false),
                        Some(FirstCommand::Conflict) => (Saved::Conflict, false),
                        None => (s.save_state(&save).await?, false),
                    }
                };
                match saved {
                    (Saved::Version(v), recorded) => break (state, Some(v), step, recorded, None),
                    (Saved::Duplicate, _) => return duplicate(),
                    (Saved::Conflict, _) => {}
                }
                attempt += 1;
                if attempt >= crate::services::MAX_CONVERSATION_RETRIES {
                    return Err(ServiceError::Concurrent);
                }
                view = s
                    .turn_view::<DialogState>(inbound.channel, &inbound.user, dedupe)
                    .await?;
                if view.seen_before {
                    return duplicate();
                }
                if customer.is_none() {
                    customer = view.customer.take();
                }
            }
        };
        // Still none: the first contact's customer was created with the state, on a turn
        // that has no command to run, no queue to leave and its transcript saved already.
        let Some(customer) = customer else {
            return Ok(TurnResult {
                replies: step.replies,
                duplicate: false,
                flow: state.flow_name(),
            });
        };
        if leaving_queue {
            s.leave_handoff_queue(inbound.channel, &inbound.user)
                .await?;
        }
        let mut replies = std::mem::take(&mut step.replies);
        let mut pending: VecDeque<Command> = step.commands.into();
        // The first command may have run with the state's save already.
        let mut ran_with_save = first_outcome;
        if ran_with_save.is_some() {
            pending.pop_front();
        }
        let mut ran = 0;
        loop {
            // `open`: the first command's transaction, still open, in which the answer to its
            // outcome is read and saved (see `OpenTurn`).
            let (outcome, mut open) = match ran_with_save.take() {
                Some(first) => first,
                None => {
                    let Some(cmd) = pending.pop_front() else {
                        break;
                    };
                    if ran >= MAX_COMMANDS_PER_TURN {
                        tracing::warn!("too many chained commands in one turn; stopping");
                        break;
                    }
                    let outcome = self
                        .execute(&inbound, &customer, cmd, &mut verdicts)
                        .await?;
                    (outcome, None)
                }
            };
            ran += 1;
            if outcome.is_silent() {
                if let Some(turn) = open {
                    s.commit_turn(turn).await?;
                }
                continue;
            }
            // Feed the outcome back to the state as stored now (another instance may have
            // saved since), and save it; on a conflict read again.
            let mut attempt = 0;
            loop {
                // The message is recorded by now (no dedupe key for the outcome's saves), and
                // the customer and an agent's hold were read at the turn's start.
                let view = match &open {
                    Some(turn) => s.open_turn_view::<DialogState>(turn).await?,
                    None => {
                        s.after_command_view::<DialogState>(
                            inbound.channel,
                            &inbound.user,
                            &customer,
                        )
                        .await?
                    }
                };
                let (stored, stored_version, mut data) =
                    TurnData::split(view, None, vec![], s.now());
                if stored_version != version {
                    state = stored;
                    version = stored_version;
                }
                let mut next = state.clone();
                let more = self
                    .step(
                        &mut next,
                        Event::Outcome(outcome.clone()),
                        &mut data,
                        open.as_ref(),
                    )
                    .await?;
                // A question the turn already has a silent answer to costs no round.
                let more_commands: Vec<Command> = more
                    .commands
                    .into_iter()
                    .filter(|c| !answered_silently(c, &verdicts))
                    .collect();
                // The turn's last save carries its transcript (one write transaction less).
                let last = more_commands.is_empty() && pending.is_empty() && next.handoff.is_none();
                let said = describe_content(&inbound.content);
                let all: Vec<Reply> = if last {
                    replies.iter().chain(&more.replies).cloned().collect()
                } else {
                    vec![]
                };
                let transcript = last.then_some((said.as_str(), all.as_slice()));
                let saved = match (open.take(), transcript) {
                    (Some(turn), transcript) => {
                        Saved::Version(s.finish_turn(turn, &next, transcript).await?)
                    }
                    (None, Some((said, all))) => {
                        s.save_turn(
                            inbound.channel,
                            &inbound.user,
                            &next,
                            version,
                            None,
                            said,
                            all,
                            None,
                        )
                        .await?
                    }
                    (None, None) => {
                        s.save_conversation(inbound.channel, &inbound.user, &next, version, None)
                            .await?
                    }
                };
                if let Saved::Version(v) = saved {
                    state = next;
                    version = Some(v);
                    replies.extend(more.replies);
                    pending.extend(more_commands);
                    recorded |= last;
                    break;
                }
                attempt += 1;
                if attempt >= crate::services::MAX_CONVERSATION_RETRIES {
                    return Err(ServiceError::Concurrent);
                }
            }
        }
        if state.handoff.is_some()
            && let Some(standing) = s.queue_standing(inbound.channel, &inbound.user).await?
        {
            replies.push(dialog::handoff_notes::queue_note(
                state.lang,
                standing.position,
                standing.wait,
            ));
        }
        // The transcript the agent console shows: one insert per turn (already written with
        // the state on the usual turn).
        if !recorded {
            let said = describe_content(&inbound.content);
            s.record_turn(inbound.channel, &inbound.user, &said, &replies)
                .await?;
        }
        Ok(TurnResult {
            replies,
            duplicate: false,
            flow: state.flow_name(),
        })
    }

    /// Steps the dialog. The turn's data starts without the free slots (a read of every slot
    /// of the week that most turns never look at); a step that asked for them is run again
    /// from the same state with them read. The step is pure, so the second run is the step it
    /// would have been with the slots at hand.
    ///
    /// `open`: the turn's open transaction, if the step answers a command that ran in it (the
    /// slots are then read there).
    async fn step(
        &self,
        state: &mut DialogState,
        event: Event,
        data: &mut TurnData,
        open: Option<&OpenTurn>,
    ) -> Result<dialog::Step, ServiceError> {
        if data.free_slots.is_none() {
            let mut trial = state.clone();
            let ctx = data.context(self);
            let step = dialog::step(&mut trial, event.clone(), &ctx);
            if !ctx.slots_wanted() {
                *state = trial;
                return Ok(step);
            }
            let s = &self.services;
            data.free_slots = Some(match open {
                Some(turn) => {
                    s.open_turn_free_slots(turn, &data.orders, &data.addresses)
                        .await?
                }
                None => s.free_slots_of(&data.orders, &data.addresses).await?,
            });
        }
        Ok(dialog::step(state, event, &data.context(self)))
    }

    /// Runs `cmd` in the transaction that saves the turn's state (`save`), when the services
    /// can: an order placement and a new address (the ordering flow's busiest turns), a new
    /// slot, address or lines for an order, a cancellation, an answer to a substitute. `None`
    /// for any other command (a handoff, the language, records and risk checks), which runs
    /// after a save of its own.
    async fn execute_saving_state(
        &self,
        save: &StateSave<'_>,
        inbound: &Inbound,
        customer: &Customer,
        cmd: &Command,
        verdicts: &mut HashMap<String, crate::analytics::risk::RiskAssessment>,
    ) -> Result<Option<FirstCommand>, ServiceError> {
        let s = &self.services;
        Ok(Some(match cmd {
            Command::PlaceOrder {
                lines,
                slot_start,
                address,
                auto_substitute,
            } => {
                let req = placement(inbound, lines, *slot_start, *address, *auto_substitute);
                FirstCommand::from(
                    s.place_order_saving_state(save, customer, req).await?,
                    |placed| placed_outcome(placed, verdicts),
                )?
            }
            Command::SaveAddress { text, location } => FirstCommand::from(
                s.add_address_saving_state(save, customer, text, *location)
                    .await?,
                |added| user_result(added).map(Outcome::AddressSaved),
            )?,
            Command::Reschedule { number, slot_start } => FirstCommand::from(
                s.reschedule_saving_state(save, customer, number, *slot_start)
                    .await?,
                |moved| user_result(moved).map(Outcome::Rescheduled),
            )?,
            Command::ChangeAddress { number, address } => FirstCommand::from(
                s.change_address_saving_state(save, customer, number, *address)
                    .await?,
                |moved| user_result(moved).map(Outcome::AddressChanged),
            )?,
            Command::Cancel {
                number,
                reason,
                text,
            } => FirstCommand::from(
                s.cancel_saving_state(save, customer, number, *reason, text.clone())
                    .await?,
                |cancelled| user_result(cancelled).map(Outcome::Cancelled),
            )?,
            Command::ChangeLines {
                number,
                set,
                remove,
            } => FirstCommand::from(
                s.change_lines_saving_state(save, customer, number, &line_changes(set, remove))
                    .await?,
                |changed| user_result(changed).map(Outcome::LinesChanged),
            )?,
            Command::AnswerSubstitution { offer, accept } => FirstCommand::from(
                s.answer_substitution_saving_state(save, customer, *offer, *accept)
                    .await?,
                |answered| user_result(answered).map(Outcome::SubstitutionAnswered),
            )?,
            _ => return Ok(None),
        }))
    }

    /// Runs one command. `verdicts` holds the risk verdicts of the orders this turn placed, so
    /// that the dialog's question about one is answered without scoring it again.
    async fn execute(
        &self,
        inbound: &Inbound,
        customer: &Customer,
        cmd: Command,
        verdicts: &mut HashMap<String, crate::analytics::risk::RiskAssessment>,
    ) -> Result<Outcome, ServiceError> {
        let s = &self.services;
        Ok(match cmd {
            Command::SaveAddress { text, location } => {
                Outcome::AddressSaved(user_result(s.add_address(customer, &text, location).await)?)
            }
            Command::PlaceOrder {
                lines,
                slot_start,
                address,
                auto_substitute,
            } => {
                let req = placement(inbound, &lines, slot_start, address, auto_substitute);
                placed_outcome(s.place_order_scored(customer, req).await, verdicts)?
            }
            Command::ChangeLines {
                number,
                set,
                remove,
            } => Outcome::LinesChanged(user_result(
                s.change_lines(customer, &number, line_changes(&set, &remove))
                    .await,
            )?),
            Command::Reschedule { number, slot_start } => Outcome::Rescheduled(user_result(
                s.reschedule(customer, &number, slot_start).await,
            )?),
            Command::ChangeAddress { number, address } => Outcome::AddressChanged(user_result(
                s.change_address(customer, &number, address).await,
            )?),
            Command::Cancel {
                number,
                reason,
                text,
            } => Outcome::Cancelled(user_result(
                s.cancel(customer, &number, reason, text).await,
            )?),
            Command::RecordSaved {
                number,
                reason,
                offer,
            } => {
                s.record_cancel_saved(customer, &number, reason, &offer)
                    .await?;
                Outcome::Done
            }
            Command::Handoff { reason, summary } => {
                let position = s
                    .request_handoff(inbound.channel, &inbound.user, customer, &reason, &summary)
                    .await?;
                Outcome::HandedOff {
                    position: usize::try_from(position).unwrap_or(usize::MAX),
                }
            }
            Command::SetLanguage(lang) => {
                s.set_language(customer, lang).await?;
                Outcome::Done
            }
            Command::AnswerSubstitution { offer, accept } => Outcome::SubstitutionAnswered(
                user_result(s.answer_substitution(customer, offer, accept).await)?,
            ),
            Command::AssessRisk { number } => {
                let verdict = match verdicts.remove(&number) {
                    Some(v) => v,
                    None => s.assess_order_risk(customer, &number).await?,
                };
                Outcome::RiskAssessed {
                    number,
                    flagged: verdict.flagged,
                    summary: verdict.summary(),
                }
            }
        })
    }
}

/// The services' line changes for a dialog's `ChangeLines` command.
fn line_changes(
    set: &[(crate::domain::Sku, crate::domain::Quantity)],
    remove: &[crate::domain::Sku],
) -> Vec<LineChange> {
    set.iter()
        .map(|(sku, quantity)| {
            LineChange::Set(OrderLineRequest {
                sku: sku.clone(),
                quantity: *quantity,
            })
        })
        .chain(remove.iter().cloned().map(LineChange::Remove))
        .collect()
}

/// Whether the turn already knows `cmd`'s outcome and that it is silent: the verdict on an
/// order it placed, which the risk rules let through.
fn answered_silently(
    cmd: &Command,
    verdicts: &HashMap<String, crate::analytics::risk::RiskAssessment>,
) -> bool {
    matches!(cmd, Command::AssessRisk { number } if verdicts.get(number).is_some_and(|v| !v.flagged))
}

/// The language a message asks us to answer in: Chinese script always; English only when the
/// message was understood and has real words ("ok" or an order number alone keep the language).
fn switch_language(event: &Event) -> Option<Lang> {
    let Event::Text {
        text,
        understanding,
    } = event
    else {
        return None;
    };
    match Lang::detect(text)? {
        Lang::Zh => Some(Lang::Zh),
        Lang::En => {
            let words = text
                .split_whitespace()
                .filter(|w| w.chars().filter(|c| c.is_ascii_alphabetic()).count() >= 2)
                .count();
            let understood = understanding.intent != dialog::Intent::OutOfScope
                && understanding.confidence >= dialog::CONFIDENCE_THRESHOLD;
            (words >= 2 && understood).then_some(Lang::En)
        }
    }
}

/// How a turn's first command went that ran in the transaction of the turn's state.
#[allow(clippy::large_enum_variant)] // one per turn, moved once: not worth a box
enum FirstCommand {
    /// The state was saved at `version` and the command gave `outcome`; `open` is the
    /// transaction, still open, when the command succeeded (its answer is saved there).
    Ran {
        version: i64,
        outcome: Outcome,
        open: Option<OpenTurn>,
    },
    Conflict,
    Duplicate,
}

impl FirstCommand {
    /// `saved`, with the command's result as the dialog's outcome.
    fn from<T>(
        saved: SavedWith<T>,
        outcome: impl FnOnce(Result<T, ServiceError>) -> Result<Outcome, ServiceError>,
    ) -> Result<Self, ServiceError> {
        Ok(match saved {
            SavedWith::Open(turn, done) => FirstCommand::Ran {
                version: turn.version(),
                outcome: outcome(Ok(done))?,
                open: Some(turn),
            },
            SavedWith::Refused(version, refused) => FirstCommand::Ran {
                version,
                outcome: outcome(Err(refused))?,
                open: None,
            },
            SavedWith::Conflict => FirstCommand::Conflict,
            SavedWith::Duplicate => FirstCommand::Duplicate,
        })
    }
}

fn placement(
    inbound: &Inbound,
    lines: &[(crate::domain::Sku, crate::domain::Quantity)],
    slot_start: DateTime<Utc>,
    address: crate::domain::AddressId,
    auto_substitute: bool,
) -> PlaceOrder {
    PlaceOrder {
        channel: inbound.channel,
        lines: lines
            .iter()
            .map(|(sku, quantity)| OrderLineRequest {
                sku: sku.clone(),
                quantity: *quantity,
            })
            .collect(),
        slot_start,
        address,
        auto_substitute,
    }
}

/// A placement's result as the dialog's outcome; its risk verdict is kept for the rest of the
/// turn (the dialog's question about it is then answered without scoring the order again).
fn placed_outcome(
    placed: Result<(crate::domain::Order, crate::analytics::risk::RiskAssessment), ServiceError>,
    verdicts: &mut HashMap<String, crate::analytics::risk::RiskAssessment>,
) -> Result<Outcome, ServiceError> {
    Ok(Outcome::OrderPlaced(user_result(placed)?.map(
        |(order, verdict)| {
            verdicts.insert(order.number.to_string(), verdict);
            order
        },
    )))
}

/// A use case's refusal becomes an outcome the dialog explains; a system failure stays an error.
fn user_result<T>(r: Result<T, ServiceError>) -> Result<Result<T, Failure>, ServiceError> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(e) => Ok(Err(match e {
            ServiceError::OutOfStock {
                product, available, ..
            } => Failure::OutOfStock {
                sku: product,
                available,
            },
            ServiceError::Slot(e) => Failure::SlotUnavailable(e.to_string()),
            ServiceError::Pricing(crate::domain::PricingError::BelowMinimum {
                missing, ..
            }) => Failure::BelowMinimum { missing },
            ServiceError::TooLateToChange { status, .. } => Failure::TooLate { status },
            ServiceError::CancelRefused(r) => Failure::CancelRefused(r.to_string()),
            ServiceError::UnknownAddress(m) => Failure::Address(m),
            ServiceError::Geo(crate::domain::GeoError::OutOfRange { km, limit_km }) => {
                Failure::OutOfRange { km, limit_km }
            }
            ServiceError::Geo(g) => Failure::Address(g.to_string()),
            ServiceError::UnknownOrder(_) => Failure::UnknownOrder,
            ServiceError::OfferClosed => Failure::OfferClosed,
            e @ (ServiceError::Store(_) | ServiceError::State(_)) => return Err(e),
            e => Failure::Other(e.to_string()),
        })),
    }
}

struct TurnData {
    now: DateTime<Utc>,
    catalog: crate::store::Catalog,
    orders: Vec<crate::domain::Order>,
    addresses: Vec<crate::domain::DeliveryAddress>,
    /// Read when a step first asks for them (see `Engine::step`).
    free_slots: Option<HashMap<String, Vec<FreeSlot>>>,
    membership: Option<crate::domain::Membership>,
    offers: Vec<crate::domain::OfferView>,
}

impl TurnData {
    /// The dialog state and its version, and what the step reads beside them.
    fn split(
        view: StateView<DialogState>,
        membership: Option<crate::domain::Membership>,
        offers: Vec<crate::domain::OfferView>,
        now: DateTime<Utc>,
    ) -> (DialogState, Option<i64>, TurnData) {
        let StateView {
            state,
            version,
            catalog,
            orders,
            addresses,
        } = view;
        let data = TurnData {
            now,
            catalog,
            orders,
            addresses,
            free_slots: None,
            membership,
            offers,
        };
        (state, version, data)
    }

    fn context<'a>(&'a self, engine: &'a Engine) -> Context<'a> {
        Context {
            now: self.now,
            rules: engine.services.rules(),
            catalog: &self.catalog,
            orders: &self.orders,
            addresses: &self.addresses,
            free_slots: self.free_slots.as_ref(),
            slots_wanted: std::cell::Cell::new(false),
            faq: &engine.faq,
            membership: self.membership.as_ref(),
            offers: &self.offers,
            public_url: &engine.public_url,
        }
    }
}
