//! Conversation stories (in the spirit of Rasa test stories): `tests/stories/*.yml`, each a
//! customer's turns with what the bot must say, which flow it must be in, and what must be in
//! the database afterwards. Every story ends with an outcome check (`expect`, required and not
//! empty): what the bot said proves only that its wording did not change. Every story runs on a
//! fresh app, on SQLite and on PostgreSQL.

use std::sync::{Arc, LazyLock};

use chrono::Duration;
use freshbot::conversation::{Content, Inbound, Understand};
use freshbot::domain::Reply;
use freshbot::domain::{Channel, Lang, LatLon, OrderStatus};
use freshbot::services::Actor;
use serde::Deserialize;

use crate::common::{Backend, TestApp, spawn_app};

/// One trained NLU for the whole test binary.
pub static NLU: LazyLock<Arc<dyn Understand>> = LazyLock::new(|| {
    Arc::new(freshbot::nlu::Nlu::from_embedded().expect("the shipped NLU trains"))
});

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Story {
    story: String,
    #[serde(default)]
    lang: Option<String>,
    steps: Vec<StepSpec>,
    /// What must be true of the customer's orders and conversation at the end.
    expect: Expect,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct StepSpec {
    /// A typed message.
    user: Option<String>,
    /// Tap the button whose label contains this text (from the last replies).
    tap: Option<String>,
    /// Tap the first button whose payload starts with this prefix.
    tap_payload: Option<String>,
    /// Send a raw (possibly forged) button payload.
    payload: Option<String>,
    /// Share a location `[lat, lon]`.
    location: Option<[f64; 2]>,
    /// Move the last order along its lifecycle up to this status, as the warehouse would.
    operator: Option<String>,
    /// Let this many minutes pass.
    wait_minutes: Option<i64>,
    /// Restart the app (same database) before this step.
    restart: bool,
    /// Send the previous user message again with the same message id.
    replay: bool,
    /// Another customer (a second user id) sends this message.
    as_user: Option<String>,
    // Expectations
    flow: Option<String>,
    says: Vec<String>,
    not_says: Vec<String>,
    buttons: Vec<String>,
    no_reply: bool,
}

/// Outcome checks; all but `orders`, `statuses`, `handoff`, `substitute_prefs`, `saved_cancels`
/// and `other_user_orders` are about the customer's newest order.
#[derive(Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Expect {
    /// How many orders the customer has.
    orders: Option<usize>,
    /// The status of every order, newest first (which order a command hit).
    statuses: Option<Vec<String>>,
    status: Option<String>,
    fee_fen: Option<i64>,
    /// The reason code of the cancellation.
    cancel_reason: Option<String>,
    /// The reason as the customer put it, stored beside the code.
    cancel_text: Option<String>,
    /// `sku qty+unit`, in order.
    lines: Option<Vec<String>>,
    /// The delivery day in Asia/Shanghai, `YYYY-MM-DD`.
    slot_day: Option<String>,
    /// `morning` (starts before 12:00), `afternoon` (before 18:00) or `evening`.
    slot_part: Option<String>,
    /// A part of the delivery address the order must have.
    address: Option<String>,
    /// Whether the order may be substituted when an item is short.
    auto_substitute: Option<bool>,
    /// The conversation's remembered substitutes, `SKU>SKU`.
    substitute_prefs: Option<Vec<String>>,
    /// Whether the customer waits for or talks to a person.
    handoff: Option<bool>,
    saved_cancels: Option<u64>,
    other_user_orders: Option<usize>,
}

struct Runner {
    app: TestApp,
    engine: freshbot::conversation::Engine,
    user: String,
    lang: Option<Lang>,
    last: std::collections::HashMap<String, Vec<Reply>>,
    last_message: Option<(String, String)>,
    seq: u32,
}

fn advance_path(to: OrderStatus) -> Vec<OrderStatus> {
    use OrderStatus::*;
    let path = [Confirmed, Picking, Packed, OutForDelivery, Delivered];
    let end = path
        .iter()
        .position(|s| *s == to)
        .map(|i| i + 1)
        .unwrap_or(0);
    path[..end].to_vec()
}

impl Runner {
    async fn new(lang: Option<Lang>, backend: Backend) -> Self {
        let app = spawn_app(backend).await;
        let engine = app.engine(NLU.clone());
        Self {
            app,
            engine,
            user: "story-user".into(),
            lang,
            last: Default::default(),
            last_message: None,
            seq: 0,
        }
    }

    async fn send(
        &mut self,
        user: &str,
        content: Content,
        id: Option<String>,
    ) -> freshbot::conversation::TurnResult {
        let inbound = Inbound {
            channel: Channel::Web,
            user: user.to_owned(),
            message_id: id,
            lang: self.lang,
            content,
        };
        self.engine.handle(inbound).await.unwrap()
    }

    fn replies(&self, user: &str) -> &[Reply] {
        self.last.get(user).map(Vec::as_slice).unwrap_or(&[])
    }

    fn button(
        &self,
        user: &str,
        pred: impl Fn(&freshbot::domain::Button) -> bool,
    ) -> Option<String> {
        self.replies(user)
            .iter()
            .rev()
            .flat_map(|r| r.buttons.iter())
            .find(|b| pred(b))
            .map(|b| b.payload.clone())
    }

    async fn step(&mut self, s: &StepSpec, name: &str, i: usize) {
        let ctx = format!("story {name:?} step {}", i + 1);
        if s.restart {
            // A new engine over the same database: state must come from storage alone.
            self.engine = self.app.engine(NLU.clone());
        }
        if let Some(to) = &s.operator {
            let to: OrderStatus = to.parse().unwrap();
            let c = self
                .app
                .services
                .identify(Channel::Web, &self.user, Lang::Zh)
                .await
                .unwrap();
            let o = self
                .app
                .services
                .orders_of(&c)
                .await
                .unwrap()
                .into_iter()
                .next()
                .expect("an order to move");
            for st in advance_path(to) {
                if o.status.can_become(st)
                    || self
                        .app
                        .services
                        .order_of(&c, o.number.as_str())
                        .await
                        .unwrap()
                        .status
                        .can_become(st)
                {
                    self.app
                        .services
                        .advance_status(Actor::Operator, o.number.as_str(), st)
                        .await
                        .unwrap();
                }
            }
        }
        if let Some(m) = s.wait_minutes {
            self.app.clock.advance(Duration::minutes(m));
        }
        let user = s.as_user.clone().unwrap_or_else(|| self.user.clone());
        let turn = if let Some(text) = &s.user {
            self.seq += 1;
            let id = format!("m{}", self.seq);
            self.last_message = Some((text.clone(), id.clone()));
            Some(
                self.send(&user, Content::Text(text.clone()), Some(id))
                    .await,
            )
        } else if s.replay {
            let (text, id) = self.last_message.clone().expect("a message to replay");
            Some(self.send(&user, Content::Text(text), Some(id)).await)
        } else if let Some(label) = &s.tap {
            let payload = self
                .button(&user, |b| b.label.contains(label.as_str()))
                .unwrap_or_else(|| {
                    panic!(
                        "{ctx}: no button labelled {label:?} in {:?}",
                        self.replies(&user)
                    )
                });
            Some(self.send(&user, Content::Button(payload), None).await)
        } else if let Some(prefix) = &s.tap_payload {
            let payload = self
                .button(&user, |b| b.payload.starts_with(prefix.as_str()))
                .unwrap_or_else(|| {
                    panic!(
                        "{ctx}: no button with payload {prefix:?} in {:?}",
                        self.replies(&user)
                    )
                });
            Some(self.send(&user, Content::Button(payload), None).await)
        } else if let Some(p) = &s.payload {
            Some(self.send(&user, Content::Button(p.clone()), None).await)
        } else if let Some([lat, lon]) = s.location {
            Some(
                self.send(
                    &user,
                    Content::Location(LatLon::new(lat, lon).unwrap()),
                    None,
                )
                .await,
            )
        } else {
            None
        };
        if let Some(turn) = turn {
            if s.no_reply {
                assert!(
                    turn.replies.is_empty() && turn.duplicate,
                    "{ctx}: expected no reply, got {:?}",
                    turn.replies
                );
                return;
            }
            self.last.insert(user.clone(), turn.replies.clone());
            let text = turn
                .replies
                .iter()
                .map(|r| r.text.as_str())
                .collect::<Vec<_>>()
                .join("\n---\n");
            for want in &s.says {
                assert!(
                    text.contains(want.as_str()),
                    "{ctx}: reply lacks {want:?}:\n{text}"
                );
            }
            for not in &s.not_says {
                assert!(
                    !text.contains(not.as_str()),
                    "{ctx}: reply has {not:?}:\n{text}"
                );
            }
            for b in &s.buttons {
                assert!(
                    turn.replies
                        .iter()
                        .flat_map(|r| &r.buttons)
                        .any(|x| x.label.contains(b.as_str())),
                    "{ctx}: no button {b:?} in {:?}",
                    turn.replies
                );
            }
            if let Some(f) = &s.flow {
                let got = turn.flow.unwrap_or("none");
                assert_eq!(got, f, "{ctx}: flow; replies:\n{text}");
            }
        }
    }

    async fn check(&self, e: &Expect, name: &str) {
        let s = &self.app.services;
        let c = s
            .identify(Channel::Web, &self.user, Lang::Zh)
            .await
            .unwrap();
        let orders = s.orders_of(&c).await.unwrap();
        if let Some(n) = e.orders {
            assert_eq!(orders.len(), n, "story {name:?}: orders");
        }
        let last = orders.first();
        if let Some(want) = &e.statuses {
            let got: Vec<&str> = orders.iter().map(|o| o.status.code()).collect();
            assert_eq!(&got, want, "story {name:?}: statuses, newest first");
        }
        if let Some(day) = &e.slot_day {
            let got = last.map(|o| {
                o.slot_start
                    .with_timezone(&freshbot::domain::TZ)
                    .format("%Y-%m-%d")
                    .to_string()
            });
            assert_eq!(
                got.as_deref(),
                Some(day.as_str()),
                "story {name:?}: slot day"
            );
        }
        if let Some(part) = &e.slot_part {
            let got = last.map(|o| {
                let hour =
                    chrono::Timelike::hour(&o.slot_start.with_timezone(&freshbot::domain::TZ));
                match hour {
                    0..12 => "morning",
                    12..18 => "afternoon",
                    _ => "evening",
                }
            });
            assert_eq!(got, Some(part.as_str()), "story {name:?}: part of day");
        }
        if let Some(a) = &e.address {
            let got = last.map(|o| o.address.text.clone()).unwrap_or_default();
            assert!(
                got.contains(a.as_str()),
                "story {name:?}: address {got:?} lacks {a:?}"
            );
        }
        if let Some(auto) = e.auto_substitute {
            assert_eq!(
                last.map(|o| o.auto_substitute),
                Some(auto),
                "story {name:?}: substitution consent"
            );
        }
        if let Some(prefs) = &e.substitute_prefs {
            let (state, _) = s
                .load_conversation::<freshbot::dialog::DialogState>(Channel::Web, &self.user)
                .await
                .unwrap();
            let got: Vec<String> = state
                .substitute_prefs
                .iter()
                .map(|(a, b)| format!("{a}>{b}"))
                .collect();
            assert_eq!(&got, prefs, "story {name:?}: remembered substitutes");
        }
        if let Some(st) = &e.status {
            assert_eq!(
                last.map(|o| o.status.code()),
                Some(st.as_str()),
                "story {name:?}: status"
            );
        }
        if let Some(f) = e.fee_fen {
            assert_eq!(
                last.map(|o| o.cancel_fee.get()),
                Some(f),
                "story {name:?}: fee"
            );
        }
        if let Some(r) = &e.cancel_reason {
            assert_eq!(
                last.and_then(|o| o.cancel_reason).map(|r| r.code()),
                Some(r.as_str()),
                "story {name:?}: reason"
            );
        }
        if let Some(lines) = &e.lines {
            let got: Vec<String> = last
                .map(|o| {
                    o.lines
                        .iter()
                        .map(|l| {
                            format!(
                                "{} {}",
                                l.sku,
                                l.quantity.amount_string() + l.quantity.unit().code()
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            assert_eq!(&got, lines, "story {name:?}: lines");
        }
        let tx = s.store().begin_read().await.unwrap();
        if let Some(text) = &e.cancel_text {
            let order = last.expect("an order to have been cancelled");
            let got = tx
                .cancellation_of(order.id)
                .await
                .unwrap()
                .and_then(|c| c.reason_text);
            assert_eq!(
                got.as_deref(),
                Some(text.as_str()),
                "story {name:?}: reason text"
            );
        }
        if let Some(h) = e.handoff {
            let open = tx.open_handoffs().await.unwrap();
            assert_eq!(
                open.iter().any(|(_, u, ..)| u == &self.user),
                h,
                "story {name:?}: handoff {open:?}"
            );
        }
        if let Some(n) = e.saved_cancels {
            assert_eq!(
                tx.cancel_saves_count().await.unwrap(),
                n,
                "story {name:?}: saved cancels"
            );
        }
        if let Some(n) = e.other_user_orders {
            let other = s
                .identify(Channel::Web, "someone-else", Lang::Zh)
                .await
                .unwrap();
            assert_eq!(
                s.orders_of(&other).await.unwrap().len(),
                n,
                "story {name:?}: other user's orders"
            );
        }
    }
}

fn read_stories(path: &std::path::Path) -> Vec<Story> {
    let text = std::fs::read_to_string(path).unwrap();
    let stories: Vec<Story> =
        serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    for story in &stories {
        assert_ne!(
            story.expect,
            Expect::default(),
            "{}: story {:?} checks no outcome",
            path.display(),
            story.story
        );
    }
    stories
}

async fn run_file(path: &std::path::Path, backend: Backend) {
    for story in read_stories(path) {
        let lang = story.lang.as_deref().map(|l| l.parse().unwrap());
        let mut r = Runner::new(lang, backend.clone()).await;
        for (i, s) in story.steps.iter().enumerate() {
            r.step(s, &story.story, i).await;
        }
        r.check(&story.expect, &story.story).await;
    }
}

macro_rules! story_file {
    ($name:ident) => {
        mod $name {
            use super::*;

            fn path() -> std::path::PathBuf {
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/stories")
                    .join(concat!(stringify!($name), ".yml"))
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run_file(&path(), Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(pg) = Backend::postgres(concat!("stories::", stringify!($name))) {
                    run_file(&path(), pg).await;
                }
            }
        }
    };
}

story_file!(order_zh);
story_file!(order_en);
story_file!(cancel);
story_file!(manage);
story_file!(info);
story_file!(robustness);

/// Every story checks an outcome in the database, not only the bot's wording (read without
/// running, so a story without `expect` fails here at once).
#[test]
fn every_story_checks_an_outcome() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/stories");
    let mut n = 0;
    for f in std::fs::read_dir(&dir).unwrap() {
        let path = f.unwrap().path();
        if path.extension().is_some_and(|e| e == "yml") {
            n += read_stories(&path).len();
        }
    }
    assert!(n >= 60, "{n} stories");
}

/// Every story file is listed above (a new file without a test would silently never run).
#[test]
fn every_story_file_runs() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/stories");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|f| f.ends_with(".yml"))
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "cancel.yml",
            "info.yml",
            "manage.yml",
            "order_en.yml",
            "order_zh.yml",
            "robustness.yml"
        ]
    );
}

/// Whatever customer B types or taps, customer A's order is neither shown nor changed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customers_never_touch_each_others_orders() {
    let app = spawn_app(Backend::Sqlite).await;
    let (alice, addr) = app.customer("alice").await;
    let slot = app.slot_starts("huangpu").await[0];
    let order = app
        .services
        .place_order(
            &alice,
            crate::common::order(
                vec![
                    crate::common::line("VEG-TOMATO", "2", freshbot::domain::Unit::Jin),
                    crate::common::line("EGG-CHICKEN", "1", freshbot::domain::Unit::Box),
                ],
                slot,
                addr,
            ),
        )
        .await
        .unwrap();
    let n = order.number.to_string();
    let engine = app.engine(NLU.clone());
    let attempts = [
        Content::Text(format!("取消订单 {n}")),
        Content::Text(format!("{n}到哪了")),
        Content::Text(format!("订单{n}改到明天上午")),
        Content::Text(format!("cancel order {n}")),
        Content::Text(format!("订单{n}的西红柿改成五斤")),
        Content::Button(format!("order:{n}")),
        Content::Button("reason:too_slow".into()),
        Content::Button("yes".into()),
        Content::Button(format!("slot:{}", slot.timestamp())),
    ];
    for content in attempts {
        let turn = engine
            .handle(Inbound {
                channel: Channel::Web,
                user: "mallory".into(),
                message_id: None,
                lang: None,
                content: content.clone(),
            })
            .await
            .unwrap();
        let text: String = turn.replies.iter().map(|r| r.text.clone()).collect();
        assert!(
            !text.contains("南京东路"),
            "{content:?} leaked the address: {text}"
        );
        assert!(
            !text.contains("西红柿 2") && !text.contains("西红柿2"),
            "{content:?} leaked the lines: {text}"
        );
    }
    let after = app.services.order_of(&alice, &n).await.unwrap();
    assert_eq!(after.status, OrderStatus::Placed);
    assert_eq!(after.slot_start, order.slot_start);
    assert_eq!(after.lines, order.lines);
}
