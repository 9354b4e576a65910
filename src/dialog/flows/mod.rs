//! The flows, one file each, and the dispatch between them.

mod cancel;
pub(super) mod info;
mod manage;
mod order;
pub(super) mod substitution;

use super::{
    Context, DialogState, Flow, Intent, Outcome, Payload, Reply, Step, Understanding, text,
};
use crate::domain::{LatLon, Order, OrderStatus};

/// Starts the flow of an intent, pushing an interrupted flow onto the stack.
pub(super) fn start(state: &mut DialogState, u: &Understanding, ctx: &Context, out: &mut Step) {
    let same = matches!(
        (&state.flow, u.intent),
        (Some(Flow::Order(_)), Intent::Order) | (Some(Flow::Cancel(_)), Intent::Cancel)
    );
    if same {
        // "再来一斤黄瓜" while ordering: the same flow takes it.
        if answer(state, "", u, ctx, out) {
            return;
        }
    }
    if let Some(current) = state.flow.take() {
        state.stack.push(current);
    }
    match u.intent {
        Intent::Order => order::start(state, u, ctx, out),
        Intent::Substitute => order::preferences(state, u, ctx, out),
        Intent::Cancel => cancel::start(state, u, ctx, out),
        Intent::ModifyOrder => manage::start_modify(state, u, ctx, out),
        Intent::Reschedule => manage::start_reschedule(state, u, ctx, out),
        Intent::ChangeAddress => manage::start_change_address(state, u, ctx, out),
        Intent::Complaint => info::start_complaint(state, u, ctx, out),
        _ => info::answer(state, u, ctx, out),
    }
    if state.flow.is_none() {
        resume(state, ctx, out);
    }
}

/// Gives the active flow the message as an answer to its question; `false` if it is not one.
pub(super) fn answer(
    state: &mut DialogState,
    text: &str,
    u: &Understanding,
    ctx: &Context,
    out: &mut Step,
) -> bool {
    let handled = match state.flow {
        Some(Flow::Order(_)) => order::answer(state, text, u, ctx, out),
        Some(Flow::Cancel(_)) => cancel::answer(state, text, u, ctx, out),
        Some(Flow::Reschedule(_) | Flow::ChangeAddress(_) | Flow::Modify(_) | Flow::Track(_)) => {
            manage::answer(state, text, u, ctx, out)
        }
        Some(Flow::Complaint(_)) => info::complaint_answer(state, text, u, ctx, out),
        None => false,
    };
    if !handled && u.intent == Intent::Deny && is_leave(text) {
        leave(state, ctx, out);
        return true;
    }
    handled
}

/// "算了", "forget it": leave the current flow.
fn is_leave(text: &str) -> bool {
    let t = text.trim().to_lowercase();
    [
        "算了",
        "不用了",
        "不要了",
        "取消操作",
        "forget it",
        "never mind",
        "nevermind",
        "stop",
        "cancel that",
    ]
    .iter()
    .any(|w| t.contains(w))
}

pub(super) fn leave(state: &mut DialogState, ctx: &Context, out: &mut Step) {
    let lang = state.lang;
    state.flow = None;
    out.say(Reply::with_buttons(
        lang.pick(
            "好的,已经不办了。还需要什么?",
            "OK, dropped that. Anything else?",
        ),
        text::menu(lang),
    ));
    resume(state, ctx, out);
}

pub(super) fn on_button(state: &mut DialogState, p: Payload, ctx: &Context, out: &mut Step) {
    // An offer's answer is valid in any flow; the flow's question is repeated afterwards.
    if let Payload::Substitution { offer, accept } = p {
        substitution::on_button(offer, accept, out);
        return;
    }
    let handled = match state.flow {
        Some(Flow::Order(_)) => order::on_button(state, &p, ctx, out),
        Some(Flow::Cancel(_)) => cancel::on_button(state, &p, ctx, out),
        Some(Flow::Reschedule(_) | Flow::ChangeAddress(_) | Flow::Modify(_) | Flow::Track(_)) => {
            manage::on_button(state, &p, ctx, out)
        }
        Some(Flow::Complaint(_)) => info::complaint_button(state, &p, ctx, out),
        None => false,
    };
    if handled {
        return;
    }
    match &p {
        Payload::Add(sku) => {
            let u = Understanding {
                items: vec![super::ItemMention {
                    sku: sku.clone(),
                    quantity: None,
                }],
                ..Understanding::intent(Intent::Order)
            };
            start(state, &u, ctx, out)
        }
        Payload::Order(n) => {
            // An order button outside a flow: show it.
            state.last_order = Some(n.clone());
            manage::show_orders(state, ctx.order(n).into_iter().collect(), ctx, out);
        }
        _ => {
            let lang = state.lang;
            out.say(Reply::with_buttons(
                lang.pick(
                    "这个按钮已经过期了,请重新选择:",
                    "That button has expired; please choose again:",
                ),
                text::menu(lang),
            ));
        }
    }
}

pub(super) fn on_location(state: &mut DialogState, loc: LatLon, ctx: &Context, out: &mut Step) {
    match state.flow {
        Some(Flow::Order(_)) => order::on_location(state, loc, ctx, out),
        Some(Flow::ChangeAddress(_)) => manage::on_location(state, loc, ctx, out),
        _ => {
            let lang = state.lang;
            match ctx.rules.depot.check_in_range(loc) {
                Ok(()) => out.say(Reply::with_buttons(
                    lang.pick(
                        "这个位置在我们的配送范围内👍 要下单吗?",
                        "That location is within our delivery area 👍 Shall we order?",
                    ),
                    vec![text::button(
                        lang.pick("下单", "Order"),
                        Payload::Start(Intent::Order),
                    )],
                )),
                Err(e) => out.say(Reply::text(match lang {
                    crate::domain::Lang::Zh => format!("抱歉,这个位置超出配送范围了({e})。"),
                    crate::domain::Lang::En => {
                        format!("Sorry, that location is outside our delivery area ({e}).")
                    }
                })),
            }
        }
    }
}

pub(super) fn on_outcome(state: &mut DialogState, o: Outcome, ctx: &Context, out: &mut Step) {
    match o {
        Outcome::AddressSaved(_) | Outcome::OrderPlaced(_)
            if matches!(state.flow, Some(Flow::Order(_))) =>
        {
            order::on_outcome(state, o, ctx, out)
        }
        Outcome::Cancelled(_) => cancel::on_outcome(state, o, ctx, out),
        Outcome::HandedOff { position } => info::handed_off(state, position, out),
        Outcome::SubstitutionAnswered(_) | Outcome::RiskAssessed { .. } => {
            substitution::on_outcome(state, o, ctx, out)
        }
        Outcome::Done => {}
        o => manage::on_outcome(state, o, ctx, out),
    }
}

/// After a digression, repeat the question the active flow is waiting on.
pub(super) fn resume_prompt(state: &mut DialogState, ctx: &Context, out: &mut Step) {
    if state.flow.is_some() {
        prompt(state, ctx, out, true);
    }
}

/// Ends the current flow; an interrupted one resumes where it was.
pub(super) fn finish(state: &mut DialogState, ctx: &Context, out: &mut Step) {
    state.flow = None;
    resume(state, ctx, out);
}

fn resume(state: &mut DialogState, ctx: &Context, out: &mut Step) {
    if state.flow.is_none()
        && let Some(f) = state.stack.pop()
    {
        state.flow = Some(f);
        prompt(state, ctx, out, true);
    }
}

fn prompt(state: &mut DialogState, ctx: &Context, out: &mut Step, resuming: bool) {
    match state.flow {
        Some(Flow::Order(_)) => order::prompt(state, ctx, out, resuming),
        Some(Flow::Cancel(_)) => cancel::prompt(state, ctx, out, resuming),
        Some(Flow::Complaint(_)) => info::complaint_prompt(state, ctx, out),
        Some(_) => manage::prompt(state, ctx, out, resuming),
        None => {}
    }
}

/// Which of the customer's orders a message means.
pub(super) enum Pick<'a> {
    One(&'a Order),
    /// Several fit; ask with these.
    Several(Vec<&'a Order>),
    /// None fits (with the reason to tell).
    None,
}

/// The order named in the message, else the one in context ("取消它"), else the only one that
/// fits `ok`; several fitting orders are offered as buttons.
pub(super) fn pick_order<'a>(
    state: &DialogState,
    named: Option<&str>,
    ctx: &'a Context,
    ok: impl Fn(OrderStatus) -> bool,
) -> Pick<'a> {
    if let Some(n) = named {
        return match ctx.order(n) {
            Some(o) => Pick::One(o),
            None => Pick::None,
        };
    }
    let fitting: Vec<&Order> = ctx.orders.iter().filter(|o| ok(o.status)).collect();
    if let Some(last) = state
        .last_order
        .as_deref()
        .and_then(|n| fitting.iter().find(|o| o.number.as_str() == n))
        && fitting.len() > 1
        && state.turns > 0
    {
        // Context points at one order; still prefer it.
        return Pick::One(last);
    }
    match fitting.len() {
        0 => Pick::None,
        1 => Pick::One(fitting[0]),
        _ => Pick::Several(fitting),
    }
}

/// Buttons to choose one of several orders.
pub(super) fn order_buttons(orders: &[&Order], lang: crate::domain::Lang) -> Vec<super::Button> {
    orders
        .iter()
        .take(6)
        .map(|o| {
            let first = o
                .lines
                .first()
                .map(|l| lang.pick(&l.name_zh, &l.name_en))
                .unwrap_or("");
            text::button(
                &format!(
                    "{} {} {}",
                    o.number,
                    first,
                    text::window(o.slot_start, o.slot_end, lang)
                ),
                Payload::Order(o.number.to_string()),
            )
        })
        .collect()
}
