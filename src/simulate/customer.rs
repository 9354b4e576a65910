//! The simulated customer: she says what the journey says, then answers whatever the bot asks
//! from her goal, over the web chat API of a running server, and stops when nothing is asked.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Value, json};

use super::journey::{Goal, Journey, JourneyLang, Qty, Setup, SlotWish};
use super::outcome::{OrderView, Outcome, judge};
use super::reading::{Question, offered, question};
use crate::domain::{Reply, TZ};

/// She gives up after this many messages whatever the journey allows.
const PATIENCE: usize = 15;

/// The address of the order a journey's setup places (and of the canonical customer).
pub const SETUP_ADDRESS: &str = "黄浦区南京东路300号";

/// Where the simulator talks to, and the day it believes it is.
#[derive(Debug, Clone)]
pub struct Simulator {
    pub http: reqwest::Client,
    /// e.g. `http://127.0.0.1:8080`
    pub base: String,
    /// For a setup that moves an order along (picking, delivered).
    pub admin_token: Option<String>,
    /// Today in the shop's time zone.
    pub today: NaiveDate,
}

/// One message of a conversation, for reports.
#[derive(Debug, Clone)]
pub enum Line {
    Customer(String),
    Bot(String),
}

/// What happened in one journey.
#[derive(Debug, Clone)]
pub struct JourneyRun {
    pub outcome: Outcome,
    /// Her messages (typed and tapped), setup excluded.
    pub messages: usize,
    pub transcript: Vec<Line>,
}

/// Why a journey could not be played at all (not a failure of the bot's understanding).
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("HTTP: {0}")]
    Http(#[from] reqwest::Error),
    #[error("the server answered {status}: {body}")]
    Server { status: u16, body: String },
    #[error("setup: {0}")]
    Setup(String),
}

struct Conversation<'a> {
    sim: &'a Simulator,
    token: String,
    transcript: Vec<Line>,
    messages: usize,
    last: Vec<Reply>,
    all_replies: Vec<Reply>,
    unanswered: usize,
}

impl<'a> Conversation<'a> {
    fn new(sim: &'a Simulator, token: String) -> Self {
        Self {
            sim,
            token,
            transcript: vec![],
            messages: 0,
            last: vec![],
            all_replies: vec![],
            unanswered: 0,
        }
    }

    async fn send(&mut self, body: Value, shown: String) -> Result<(), SimError> {
        self.messages += 1;
        self.transcript.push(Line::Customer(shown));
        let resp = self
            .sim
            .http
            .post(format!("{}/api/chat/messages", self.sim.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await?;
        let status = resp.status();
        let text = resp.text().await?;
        if status.is_server_error() {
            return Err(SimError::Server {
                status: status.as_u16(),
                body: text,
            });
        }
        if !status.is_success() {
            // A refused message (empty, too long) must still tell her why.
            let said = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v["error"].as_str().map(str::to_owned))
                .unwrap_or_default();
            if said.trim().is_empty() {
                self.unanswered += 1;
            }
            self.transcript
                .push(Line::Bot(format!("[{}] {said}", status.as_u16())));
            self.last = vec![];
            return Ok(());
        }
        let v: Value = serde_json::from_str(&text).map_err(|e| SimError::Server {
            status: status.as_u16(),
            body: e.to_string(),
        })?;
        let replies: Vec<Reply> = serde_json::from_value(v["replies"].clone()).unwrap_or_default();
        if replies.is_empty() {
            self.unanswered += 1;
        }
        for r in &replies {
            let buttons: Vec<String> = r
                .buttons
                .iter()
                .map(|b| format!("[{}|{}]", b.label, b.payload))
                .collect();
            self.transcript
                .push(Line::Bot(format!("{} {}", r.text, buttons.join(" "))));
        }
        self.all_replies.extend(replies.iter().cloned());
        self.last = replies;
        Ok(())
    }

    async fn say(&mut self, text: &str) -> Result<(), SimError> {
        self.send(json!({ "text": text }), text.to_owned()).await
    }

    async fn tap(&mut self, payload: &str) -> Result<(), SimError> {
        let label = self
            .last
            .iter()
            .flat_map(|r| &r.buttons)
            .find(|b| b.payload == payload)
            .map(|b| b.label.clone())
            .unwrap_or_default();
        self.send(json!({ "button": payload }), format!("[tap {label}]"))
            .await
    }

    fn buttons(&self) -> Vec<(String, String)> {
        offered(&self.last)
            .iter()
            .map(|b| (b.label.clone(), b.payload.clone()))
            .collect()
    }

    /// A GET of her own data on the web chat API.
    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, SimError> {
        let resp = self
            .sim
            .http
            .get(format!("{}{path}", self.sim.base))
            .bearer_auth(&self.token)
            .send()
            .await?;
        check(&resp)?;
        Ok(resp.json().await?)
    }

    async fn orders(&self) -> Result<Vec<OrderView>, SimError> {
        self.get("/api/chat/orders").await
    }

    async fn handoff(&self) -> Result<bool, SimError> {
        let v: Value = self.get("/api/chat/conversation").await?;
        Ok(!v["handoff"].is_null())
    }
}

fn check(resp: &reqwest::Response) -> Result<(), SimError> {
    if resp.status().is_success() {
        Ok(())
    } else {
        Err(SimError::Server {
            status: resp.status().as_u16(),
            body: String::new(),
        })
    }
}

/// The slot a `slot:<unix>` payload names, in shop time.
fn slot_of(payload: &str) -> Option<chrono::NaiveDateTime> {
    let secs: i64 = payload.strip_prefix("slot:")?.parse().ok()?;
    Some(
        DateTime::<Utc>::from_timestamp(secs, 0)?
            .with_timezone(&TZ)
            .naive_local(),
    )
}

/// Her typed answers, each used once.
struct Words {
    left: Vec<(Question, String)>,
}

impl Words {
    fn new(j: &Journey) -> Self {
        let a = &j.answers;
        let mut left = vec![];
        let mut put = |q: Question, w: &Option<String>| {
            if let Some(w) = w
                && !w.trim().is_empty()
            {
                left.push((q, w.clone()));
            }
        };
        put(Question::Address, &a.address);
        put(Question::AddressChoice, &a.address);
        put(Question::Slot, &a.slot);
        put(Question::Substitute, &a.substitute);
        put(Question::ConfirmOrder, &a.confirm);
        put(Question::Quantity, &a.quantity);
        put(Question::CancelReason, &a.reason);
        put(Question::ReasonText, &a.reason);
        put(Question::ConfirmCancel, &a.cancel_confirm);
        put(Question::Phone, &a.phone);
        put(Question::Item, &a.item);
        Self { left }
    }

    /// Her words for `q`, once; an address or reason typed once counts for both of its questions.
    fn take(&mut self, q: Question) -> Option<String> {
        let i = self.left.iter().position(|(k, _)| *k == q)?;
        let (_, w) = self.left.remove(i);
        self.left.retain(|(_, other)| *other != w);
        Some(w)
    }
}

/// What she does next: type words, tap a payload, or stop.
enum Act {
    Say(String),
    Tap(String),
    Stop,
}

fn wish_of(goal: &Goal) -> Option<SlotWish> {
    match goal {
        Goal::Order(o) => Some(o.wish()),
        Goal::Rescheduled(w) => Some(w.clone()),
        _ => None,
    }
}

fn address_of(j: &Journey) -> Option<String> {
    j.answers.address.clone().or(match &j.goal {
        Goal::Order(o) => o.address.clone(),
        Goal::AddressChanged(a) => Some(a.clone()),
        _ => None,
    })
}

fn decide(
    q: Question,
    j: &Journey,
    words: &mut Words,
    buttons: &[(String, String)],
    today: NaiveDate,
    setup_number: Option<&str>,
) -> Act {
    if q == Question::Nothing {
        return Act::Stop;
    }
    if let Some(w) = words.take(q) {
        return Act::Say(w);
    }
    let tap = |p: &str| Act::Tap(p.to_owned());
    let find = |pred: &dyn Fn(&str, &str) -> bool| {
        buttons
            .iter()
            .find(|(l, p)| pred(l, p))
            .map(|(_, p)| Act::Tap(p.clone()))
    };
    let yes_if = |b: bool| tap(if b { "yes" } else { "no" });
    match q {
        Question::Slot => {
            let wish = wish_of(&j.goal).unwrap_or_default();
            find(&|_, p| slot_of(p).is_some_and(|s| wish.admits(s, today)))
                .or_else(|| {
                    // No slot she wants: another day, if the bot offers more.
                    find(&|l, p| {
                        !p.starts_with("slot:")
                            && ["更多", "其他", "别的", "more", "other", "later"]
                                .iter()
                                .any(|c| l.to_lowercase().contains(c))
                    })
                })
                .unwrap_or(Act::Stop)
        }
        Question::Address => address_of(j).map(Act::Say).unwrap_or(Act::Stop),
        Question::AddressChoice => {
            let want = address_of(j).unwrap_or_default();
            find(&|l, p| p.starts_with("addr:") && !want.is_empty() && l.contains(want.as_str()))
                .or_else(|| find(&|_, p| p == "newaddr"))
                .unwrap_or(Act::Stop)
        }
        Question::Substitute => {
            let allow = match &j.goal {
                Goal::Order(o) => o.substitute.unwrap_or(true),
                _ => true,
            };
            yes_if(allow)
        }
        Question::ConfirmOrder => tap("yes"),
        Question::ConfirmCancel => yes_if(!matches!(j.goal, Goal::Kept(_))),
        // A retention offer: she takes it only when she wants to keep the order.
        Question::YesNo => yes_if(!matches!(j.goal, Goal::Cancelled(_))),
        Question::CancelReason => {
            let code = match &j.goal {
                Goal::Cancelled(c) => c.reason.clone(),
                _ => None,
            }
            .unwrap_or_else(|| "other".into());
            find(&|_, p| p == format!("reason:{code}"))
                .or_else(|| find(&|_, p| p == "reason:other"))
                .unwrap_or(Act::Stop)
        }
        Question::WhichOrder => setup_number
            .and_then(|n| find(&|_, p| p == format!("order:{n}")))
            .or_else(|| find(&|_, p| p.starts_with("order:")))
            .unwrap_or(Act::Stop),
        Question::Quantity => {
            let Goal::Order(o) = &j.goal else {
                return Act::Stop;
            };
            find(&|_, p| {
                let mut parts = p.split(':');
                let (Some("qty"), Some(sku), Some(milli)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    return false;
                };
                let q = milli.parse::<f64>().unwrap_or(-1.0) / 1000.0;
                o.lines.get(sku).is_some_and(|want: &Qty| want.admits(q))
            })
            .unwrap_or(Act::Stop)
        }
        Question::StockIssue => {
            // She keeps what there is rather than lose the item.
            find(&|_, p| p.starts_with("reduce:"))
                .or_else(|| find(&|_, p| p.starts_with("drop:")))
                .unwrap_or(Act::Stop)
        }
        Question::SubstituteOffer => find(&|_, p| p.ends_with(":y")).unwrap_or(Act::Stop),
        // Asked why, with no words kept for it: she says again what she opened with.
        Question::ReasonText => j.says.first().cloned().map(Act::Say).unwrap_or(Act::Stop),
        Question::Phone | Question::Item | Question::Nothing => Act::Stop,
    }
}

impl Simulator {
    async fn session(&self) -> Result<String, SimError> {
        let resp = self
            .http
            .post(format!("{}/api/chat/sessions", self.base))
            .send()
            .await?;
        check(&resp)?;
        let v: Value = resp.json().await?;
        v["token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| SimError::Setup("no session token".into()))
    }

    /// Plays one journey to its end and judges the outcome.
    pub async fn run(&self, j: &Journey) -> Result<JourneyRun, SimError> {
        let token = self.session().await?;
        let setup = self.setup(&token, j).await?;
        let mut c = Conversation::new(self, token);
        let limit = j.max_messages.unwrap_or(PATIENCE).min(PATIENCE);
        let mut words = Words::new(j);
        let wants_new_order = matches!(j.goal, Goal::Order(_) | Goal::Reordered(_));
        let placed = |orders: &[OrderView]| {
            orders
                .iter()
                .any(|o| Some(o.number.as_str()) != setup.as_ref().map(|s| s.number.as_str()))
        };
        let mut over = false;
        for line in &j.says {
            c.say(line).await?;
        }
        let mut repeats = (Question::Nothing, 0);
        loop {
            if wants_new_order && placed(&c.orders().await?) {
                break;
            }
            let q = question(&c.last);
            repeats = if q == repeats.0 {
                (q, repeats.1 + 1)
            } else {
                (q, 1)
            };
            // Asked the same thing three times running: she is going round in circles.
            if repeats.1 > 3 {
                break;
            }
            let act = decide(
                q,
                j,
                &mut words,
                &c.buttons(),
                self.today,
                setup.as_ref().map(|s| s.number.as_str()),
            );
            if matches!(act, Act::Stop) {
                break;
            }
            if c.messages >= limit {
                over = true;
                break;
            }
            match act {
                Act::Say(w) => c.say(&w).await?,
                Act::Tap(p) => c.tap(&p).await?,
                Act::Stop => unreachable!("handled above"),
            }
        }
        let orders = c.orders().await?;
        let handoff = c.handoff().await?;
        let mut outcome = judge(
            j,
            setup.as_ref(),
            &orders,
            handoff,
            &c.all_replies,
            c.unanswered,
            self.today,
        );
        if !outcome.reached && over {
            outcome.why = format!("{} (she gave up after {limit} messages)", outcome.why);
        }
        Ok(JourneyRun {
            outcome,
            messages: c.messages,
            transcript: c.transcript,
        })
    }

    /// Places the order a journey starts with, as a customer who taps every button, and moves it
    /// along as the warehouse would.
    async fn setup(&self, token: &str, j: &Journey) -> Result<Option<OrderView>, SimError> {
        if j.setup == Setup::None {
            return Ok(None);
        }
        let first = match j.lang {
            JourneyLang::Zh => "我要两斤西红柿和一盒鸡蛋",
            JourneyLang::En => "2 jin of tomatoes and a box of eggs please",
        };
        let canonical = Journey {
            id: "setup".into(),
            lang: j.lang,
            flow: "order".into(),
            classes: vec![],
            setup: Setup::None,
            says: vec![first.into()],
            answers: super::journey::Answers {
                address: Some(SETUP_ADDRESS.into()),
                ..Default::default()
            },
            max_messages: None,
            goal: Goal::Order(super::journey::OrderGoal {
                lines: [("VEG-TOMATO", 2.0), ("EGG-CHICKEN", 1.0)]
                    .into_iter()
                    .map(|(s, q)| (s.to_owned(), Qty::Exact(q)))
                    .collect(),
                day: super::journey::DayWish::InDays(1),
                part: super::journey::PartOfDay::Any,
                start: Some("10:00".into()),
                address: None,
                substitute: None,
            }),
        };
        let mut c = Conversation::new(self, token.to_owned());
        let mut words = Words::new(&canonical);
        c.say(first).await?;
        for _ in 0..PATIENCE {
            if !c.orders().await?.is_empty() {
                break;
            }
            match decide(
                question(&c.last),
                &canonical,
                &mut words,
                &c.buttons(),
                self.today,
                None,
            ) {
                Act::Say(w) => c.say(&w).await?,
                Act::Tap(p) => c.tap(&p).await?,
                Act::Stop => break,
            }
        }
        let Some(order) = c.orders().await?.into_iter().next() else {
            let said: Vec<String> = c
                .transcript
                .iter()
                .map(|l| match l {
                    Line::Customer(t) => format!("> {t}"),
                    Line::Bot(t) => format!("< {t}"),
                })
                .collect();
            return Err(SimError::Setup(format!(
                "the setup order was not placed:\n{}",
                said.join("\n")
            )));
        };
        let path: &[&str] = match j.setup {
            Setup::None | Setup::Placed => &[],
            Setup::Picking => &["confirmed", "picking"],
            Setup::Delivered => &[
                "confirmed",
                "picking",
                "packed",
                "out_for_delivery",
                "delivered",
            ],
        };
        for status in path {
            let token = self
                .admin_token
                .as_deref()
                .ok_or_else(|| SimError::Setup("this setup needs --admin-token".into()))?;
            let resp = self
                .http
                .post(format!(
                    "{}/api/admin/orders/{}/status",
                    self.base, order.number
                ))
                .bearer_auth(token)
                .json(&json!({ "status": status }))
                .send()
                .await?;
            if !resp.status().is_success() {
                return Err(SimError::Setup(format!(
                    "moving {} to {status}: {}",
                    order.number,
                    resp.text().await.unwrap_or_default()
                )));
            }
        }
        let order = c
            .orders()
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| SimError::Setup("the setup order vanished".into()))?;
        Ok(Some(order))
    }
}
