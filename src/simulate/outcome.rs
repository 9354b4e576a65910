//! Judging a journey by what is true of the customer's orders at its end, as read through the
//! web chat API: the goal reached or not, and whether an order went wrong (placed, cancelled or
//! changed other than she asked), which is worse than no order at all.

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::Deserialize;

use super::journey::{Goal, Journey, Lines, SlotWish};
use crate::domain::Reply;

/// An order as `GET /api/chat/orders` shows it.
#[derive(Debug, Clone, Deserialize)]
pub struct OrderView {
    pub number: String,
    pub status: String,
    pub slot: SlotView,
    pub address: String,
    pub lines: Vec<LineView>,
    #[serde(default)]
    pub cancel_reason: Option<String>,
    #[serde(default)]
    pub cancel_note: Option<String>,
    #[serde(default)]
    pub auto_substitute: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SlotView {
    pub start: DateTime<FixedOffset>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LineView {
    pub sku: String,
    pub qty: f64,
}

/// The verdict on one journey.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub reached: bool,
    /// An order exists that she did not ask for, or hers was changed against her words.
    pub wrong: bool,
    pub why: String,
}

fn ok() -> Outcome {
    Outcome {
        reached: true,
        wrong: false,
        why: String::new(),
    }
}

fn fail(why: impl Into<String>) -> Outcome {
    Outcome {
        reached: false,
        wrong: false,
        why: why.into(),
    }
}

fn wrong(why: impl Into<String>) -> Outcome {
    Outcome {
        reached: false,
        wrong: true,
        why: why.into(),
    }
}

fn lines_text(o: &OrderView) -> String {
    o.lines
        .iter()
        .map(|l| format!("{} {}", l.sku, l.qty))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether the order's lines are exactly `want` (each sku once, quantities admitted).
fn lines_match(o: &OrderView, want: &Lines) -> bool {
    o.lines.len() == want.len()
        && o.lines
            .iter()
            .all(|l| want.get(&l.sku).is_some_and(|q| q.admits(l.qty)))
}

fn slot_matches(o: &OrderView, wish: &SlotWish, today: NaiveDate) -> bool {
    wish.admits(o.slot.start.naive_local(), today)
}

/// Case- and space-insensitive: "1266 west nanjing rd" typed is found as written.
fn contains(haystack: &str, needle: &str) -> bool {
    let fold = |s: &str| {
        s.chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_lowercase)
            .collect::<String>()
    };
    fold(haystack).contains(&fold(needle))
}

fn live(o: &OrderView) -> bool {
    o.status != "cancelled"
}

/// Judges the end state of a journey.
pub fn judge(
    j: &Journey,
    setup: Option<&OrderView>,
    orders: &[OrderView],
    handoff: bool,
    replies: &[Reply],
    unanswered: usize,
    today: NaiveDate,
) -> Outcome {
    let setup_now = setup.and_then(|s| orders.iter().find(|o| o.number == s.number));
    let new: Vec<&OrderView> = orders
        .iter()
        .filter(|o| setup.is_none_or(|s| s.number != o.number))
        .filter(|o| live(o))
        .collect();
    // Only an order goal or a reorder may create an order.
    if !matches!(j.goal, Goal::Order(_) | Goal::Reordered(_)) && !new.is_empty() {
        return wrong(format!(
            "an order she did not ask for: {}",
            lines_text(new[0])
        ));
    }
    // And only a cancel goal may cancel the order she had.
    if let (Some(s), false) = (setup_now, matches!(j.goal, Goal::Cancelled(_)))
        && !live(s)
    {
        return wrong(format!("her order {} was cancelled", s.number));
    }
    match &j.goal {
        Goal::Order(g) => {
            let [o] = new.as_slice() else {
                return if new.is_empty() {
                    fail("no order placed")
                } else {
                    wrong(format!("{} orders placed", new.len()))
                };
            };
            if !lines_match(o, &g.lines) {
                return wrong(format!("lines {} (wanted {:?})", lines_text(o), g.lines));
            }
            if !slot_matches(o, &g.wish(), today) {
                return wrong(format!("slot {} (wanted {:?})", o.slot.start, g.wish()));
            }
            if let Some(a) = &g.address
                && !contains(&o.address, a)
            {
                return wrong(format!("address {:?} (wanted {a:?})", o.address));
            }
            if let Some(sub) = g.substitute
                && o.auto_substitute != sub
            {
                return wrong(format!("substitutes {} (wanted {sub})", o.auto_substitute));
            }
            ok()
        }
        Goal::Cancelled(c) => {
            let Some(s) = setup_now else {
                return fail("no setup order");
            };
            if live(s) {
                return fail(format!("her order is still {}", s.status));
            }
            if let Some(r) = &c.reason
                && s.cancel_reason.as_deref() != Some(r.as_str())
            {
                return fail(format!(
                    "reason {:?} (wanted {r})",
                    s.cancel_reason.as_deref()
                ));
            }
            if let Some(t) = &c.text
                && !s
                    .cancel_note
                    .as_deref()
                    .is_some_and(|n| n.to_lowercase().contains(&t.to_lowercase()))
            {
                return fail(format!("reason text {:?} (wanted {t:?})", s.cancel_note));
            }
            ok()
        }
        Goal::Kept(_) => ok(),
        Goal::Rescheduled(w) => match (setup, setup_now) {
            (Some(before), Some(now)) if now.slot.start != before.slot.start => {
                if slot_matches(now, w, today) {
                    ok()
                } else {
                    wrong(format!("moved to {} (wanted {w:?})", now.slot.start))
                }
            }
            _ => fail("the slot did not change"),
        },
        Goal::AddressChanged(a) => match setup_now {
            Some(s) if contains(&s.address, a) => ok(),
            Some(s) => fail(format!("address is {:?} (wanted {a:?})", s.address)),
            None => fail("no setup order"),
        },
        Goal::Edited(want) => match setup_now {
            Some(s) if lines_match(s, want) => ok(),
            Some(s) if lines_match(s, &lines_of(setup)) => fail("her order did not change"),
            Some(s) => wrong(format!("lines {} (wanted {want:?})", lines_text(s))),
            None => fail("no setup order"),
        },
        Goal::Reordered(_) => {
            let want = lines_of(setup);
            match new.as_slice() {
                [] => fail("no new order"),
                [o] if lines_match(o, &want) => ok(),
                [o] => wrong(format!("reordered {}", lines_text(o))),
                more => wrong(format!("{} orders placed", more.len())),
            }
        }
        Goal::Handoff(_) => {
            if handoff {
                ok()
            } else {
                fail("no person was called")
            }
        }
        Goal::Answered(any) => {
            let hit = replies.iter().any(|r| {
                let t = r.text.to_lowercase();
                any.iter().any(|a| t.contains(&a.to_lowercase()))
            });
            if hit {
                ok()
            } else {
                fail(format!("no reply mentions any of {any:?}"))
            }
        }
        Goal::Nothing(_) => {
            if unanswered > 0 {
                fail(format!("{unanswered} message(s) got no answer"))
            } else if !orders.is_empty() {
                wrong("an order was made")
            } else {
                ok()
            }
        }
    }
}

fn lines_of(o: Option<&OrderView>) -> Lines {
    o.map(|o| {
        o.lines
            .iter()
            .map(|l| (l.sku.clone(), super::journey::Qty::Exact(l.qty)))
            .collect()
    })
    .unwrap_or_default()
}
