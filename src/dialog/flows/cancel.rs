//! The cancel flow: which order, what the policy says (free, a fee, or refused) before
//! anything happens, the reason, the fix for that reason (reschedule for "too slow", a
//! substitute for "out of stock"), and only then the cancel.

use super::super::{
    CancelDraft, CancelStep, Command, Context, DialogState, Flow, Intent, Outcome, Payload, Reply,
    Step, TargetOrder, Understanding, text,
};
use super::{Pick, pick_order};
use crate::domain::{CancelDecision, CancelReason, Fen, Lang, Order};

fn draft(state: &mut DialogState) -> Option<&mut CancelDraft> {
    match &mut state.flow {
        Some(Flow::Cancel(d)) => Some(d),
        _ => None,
    }
}

pub(super) fn start(state: &mut DialogState, u: &Understanding, ctx: &Context, out: &mut Step) {
    let lang = state.lang;
    state.flow = Some(Flow::Cancel(CancelDraft::default()));
    match pick_order(state, u.order_number.as_deref(), ctx, |s| s.is_active()) {
        Pick::One(o) => {
            let number = o.number.to_string();
            if let Some(d) = draft(state) {
                d.number = Some(number);
            }
            quote(state, ctx, out);
        }
        Pick::Several(orders) => {
            out.say(Reply::with_buttons(
                lang.pick(
                    "您有几个进行中的订单,要取消哪一个?",
                    "You have several orders under way. Which one should be cancelled?",
                ),
                super::order_buttons(&orders, lang),
            ));
        }
        Pick::None
            if u.order_number.is_none()
                && ctx
                    .orders
                    .first()
                    .is_some_and(|o| o.status != crate::domain::OrderStatus::Cancelled) =>
        {
            // Nothing under way, but a recent order: let the policy explain why it can't go.
            let number = ctx.orders.first().map(|o| o.number.to_string());
            if let Some(d) = draft(state) {
                d.number = number;
            }
            quote(state, ctx, out);
        }
        Pick::None => {
            out.say(Reply::text(if u.order_number.is_some() {
                lang.pick(
                    "没有找到这个订单号,请核对一下。",
                    "I can't find that order number among your orders.",
                )
            } else {
                lang.pick(
                    "您现在没有可以取消的订单。",
                    "You have no order that could be cancelled.",
                )
            }));
            super::finish(state, ctx, out);
        }
    }
}

fn current_order<'a>(state: &mut DialogState, ctx: &'a Context) -> Option<&'a Order> {
    draft(state)
        .and_then(|d| d.number.clone())
        .and_then(|n| ctx.order(&n))
}

fn decision(o: &Order, ctx: &Context) -> CancelDecision {
    ctx.rules
        .cancel
        .decide(o.status, o.totals.goods, o.dispatched_at, ctx.now)
}

fn fee_text(fee: Fen, lang: Lang, percent: u32) -> String {
    if fee == Fen::ZERO {
        lang.pick("免费取消", "free of charge").to_owned()
    } else {
        match lang {
            Lang::Zh => format!("需收取手续费 {fee}(商品金额的 {percent}%)"),
            Lang::En => format!("with a fee of {fee} ({percent}% of the goods)"),
        }
    }
}

/// States the policy outcome, then asks the reason (or refuses).
fn quote(state: &mut DialogState, ctx: &Context, out: &mut Step) {
    let lang = state.lang;
    let Some(o) = current_order(state, ctx) else {
        out.say(text::failure(&super::super::Failure::UnknownOrder, lang));
        super::finish(state, ctx, out);
        return;
    };
    state.last_order = Some(o.number.to_string());
    let fee = match decision(o, ctx) {
        CancelDecision::Refused(why) => {
            out.say(Reply::with_buttons(
                match lang {
                    Lang::Zh => format!("订单 {} 已经不能取消了:{}。如有问题可以联系人工客服。", o.number, refusal_zh(&why)),
                    Lang::En => format!("Order {} can no longer be cancelled: {why}. A person can help if something is wrong.", o.number),
                },
                vec![text::button(lang.pick("联系人工", "Talk to a person"), Payload::Human)],
            ));
            super::finish(state, ctx, out);
            return;
        }
        CancelDecision::Free => Fen::ZERO,
        CancelDecision::WithFee(f) => f,
    };
    let status = o.status;
    let summary = text::order_brief(o, lang);
    let has_reason = draft(state).and_then(|d| d.reason).is_some();
    out.say(Reply::text(match lang {
        Lang::Zh => format!(
            "{summary}\n现在取消{}。",
            fee_text(fee, lang, ctx.rules.cancel.fee_percent)
        ),
        Lang::En => format!(
            "{summary}\nCancelling now is {}.",
            fee_text(fee, lang, ctx.rules.cancel.fee_percent)
        ),
    }));
    let _ = status;
    if has_reason {
        after_reason(state, ctx, out);
    } else {
        ask_reason(state, out);
    }
}

fn refusal_zh(r: &crate::domain::CancelRefusal) -> String {
    use crate::domain::CancelRefusal::*;
    match r {
        Delivered => "订单已经送达".into(),
        AlreadyCancelled => "订单已经取消过了".into(),
        CoolingOffOver { minutes, limit } => {
            format!("订单已发货 {minutes} 分钟,超过了 {limit} 分钟的可取消时间")
        }
    }
}

fn ask_reason(state: &mut DialogState, out: &mut Step) {
    let lang = state.lang;
    out.say(Reply::with_buttons(
        lang.pick("方便说一下取消原因吗?", "May I ask why you want to cancel?"),
        CancelReason::ALL
            .iter()
            .map(|r| text::button(r.label(lang), Payload::Reason(*r)))
            .collect(),
    ));
    if let Some(d) = draft(state) {
        d.step = CancelStep::Reason;
    }
}

/// A reason typed instead of tapped.
fn reason_from_words(t: &str) -> Option<CancelReason> {
    let t = t.to_lowercase();
    let has = |ws: &[&str]| ws.iter().any(|w| t.contains(w));
    if has(&["缺货", "没货", "out of stock", "sold out", "没有了"]) {
        Some(CancelReason::OutOfStock)
    } else if has(&[
        "慢",
        "太久",
        "太晚",
        "来不及",
        "等不了",
        "slow",
        "too long",
        "too late",
        "takes forever",
    ]) {
        Some(CancelReason::TooSlow)
    } else if has(&[
        "买错",
        "下错",
        "点错",
        "选错",
        "搞错",
        "弄错",
        "重复下单",
        "多下了",
        "mistake",
        "wrong",
        "by accident",
        "accidentally",
        "duplicate",
    ]) {
        Some(CancelReason::OrderedByMistake)
    } else if has(&[
        "不需要",
        "不要了",
        "不想要",
        "用不上",
        "用不着",
        "不用了",
        "改主意",
        "no longer",
        "don't need",
        "dont need",
        "won't need",
        "wont need",
        "not needed",
        "no need",
        "don't want",
        "dont want",
        "changed my mind",
        "called off",
    ]) {
        Some(CancelReason::NoLongerNeeded)
    } else if has(&["其他", "其它", "other"]) {
        Some(CancelReason::Other)
    } else {
        None
    }
}

/// "不取消了", "keep it": the only words that keep an order once she asked to cancel it.
fn is_keep(t: &str) -> bool {
    let t = t.trim().to_lowercase();
    [
        "不取消",
        "不用取消",
        "先不取消",
        "别取消",
        "不要取消",
        "还是要",
        "保留",
        "留着",
        "keep it",
        "keep the order",
        "keep my order",
        "don't cancel",
        "dont cancel",
        "do not cancel",
        "not cancel",
        "i'll keep",
        "ill keep",
        "never mind",
        "nevermind",
    ]
    .iter()
    .any(|w| t.contains(w))
}

/// Words that go on with the cancellation at its last question ("yes cancel", "ok fine").
fn goes_on(t: &str) -> bool {
    let t = t.trim().to_lowercase();
    [
        "取消",
        "确定",
        "确认",
        "是的",
        "好的",
        "可以",
        "行",
        "没问题",
        "cancel",
        "yes",
        "yep",
        "yeah",
        "sure",
        "ok",
        "okay",
        "fine",
        "go ahead",
        "confirm",
        "do it",
        "charge",
    ]
    .iter()
    .any(|w| t.contains(w))
}

/// A question about something else ("退款怎么退?"): answered, then the cancellation goes on.
fn is_question(t: &str, u: &Understanding) -> bool {
    let t = t.trim().to_lowercase();
    let asks = t.ends_with('?')
        || t.ends_with('？')
        || t.ends_with('吗')
        || [
            "怎么",
            "如何",
            "多少",
            "什么时候",
            "how ",
            "what ",
            "when ",
            "does ",
            "do you",
            "can i",
        ]
        .iter()
        .any(|w| t.contains(w));
    asks && u.intent.is_digression() && u.confidence >= super::super::router::CONFIDENCE_THRESHOLD
}

/// A reason button's label typed as it reads ("买错了", "too slow"): a code, not her words.
fn is_label(t: &str) -> bool {
    let t = t.trim().to_lowercase();
    CancelReason::ALL.iter().any(|r| {
        r.label(crate::domain::Lang::Zh) == t
            || r.label(crate::domain::Lang::En).to_lowercase() == t
    })
}

pub(super) fn answer(
    state: &mut DialogState,
    raw: &str,
    u: &Understanding,
    ctx: &Context,
    out: &mut Step,
) -> bool {
    let Some(step) = draft(state).map(|d| d.step) else {
        return false;
    };
    let yes = u.intent == Intent::Affirm;
    let no = u.intent == Intent::Deny;
    match step {
        CancelStep::Which => {
            if let Some(n) = &u.order_number {
                if let Some(d) = draft(state) {
                    d.number = Some(n.clone());
                }
                quote(state, ctx, out);
                return true;
            }
            false
        }
        CancelStep::Reason => {
            // Whatever she types here is her reason, kept in her words beside the code; only an
            // explicit "keep it" keeps the order, and only a call for a person goes elsewhere.
            let text = raw.trim();
            if is_keep(text) {
                keep(state, ctx, out);
                return true;
            }
            if text.is_empty() || u.intent == Intent::Human || is_question(text, u) {
                return false;
            }
            let code = reason_from_words(text).unwrap_or(CancelReason::Other);
            if let Some(d) = draft(state) {
                d.reason = Some(code);
                if !is_label(text) {
                    d.reason_text = Some(text.chars().take(500).collect());
                }
            }
            after_reason(state, ctx, out);
            true
        }
        CancelStep::ReasonText => {
            if let Some(d) = draft(state) {
                d.reason_text = Some(raw.trim().chars().take(500).collect());
            }
            confirm(state, ctx, out);
            true
        }
        CancelStep::Offer if yes || no => {
            offer_answer(state, yes, ctx, out);
            true
        }
        // "no, just cancel it" / "还是取消吧": the offer is declined.
        CancelStep::Offer
            if !is_keep(raw)
                && (u.intent == Intent::Cancel
                    || raw.contains("取消")
                    || raw.to_lowercase().contains("cancel")) =>
        {
            offer_answer(state, false, ctx, out);
            true
        }
        CancelStep::Confirm => {
            if is_keep(raw) || (no && !goes_on(raw)) {
                keep(state, ctx, out);
            } else if yes || u.intent == Intent::Cancel || goes_on(raw) {
                run_cancel(state, out);
            } else {
                return false;
            }
            true
        }
        _ => false,
    }
}

pub(super) fn on_button(
    state: &mut DialogState,
    p: &Payload,
    ctx: &Context,
    out: &mut Step,
) -> bool {
    match p {
        Payload::Order(n) => {
            if let Some(d) = draft(state) {
                d.number = Some(n.clone());
            }
            quote(state, ctx, out);
        }
        Payload::Reason(r) => {
            if let Some(d) = draft(state) {
                d.reason = Some(*r);
            }
            after_reason(state, ctx, out);
        }
        Payload::Yes | Payload::No => {
            let u = Understanding::intent(if *p == Payload::Yes {
                Intent::Affirm
            } else {
                Intent::Deny
            });
            return answer(state, "", &u, ctx, out);
        }
        _ => return false,
    }
    true
}

/// Offers the fix for the reason before cancelling, when there is one.
fn after_reason(state: &mut DialogState, ctx: &Context, out: &mut Step) {
    let lang = state.lang;
    let Some(reason) = draft(state).and_then(|d| d.reason) else {
        ask_reason(state, out);
        return;
    };
    let Some(o) = current_order(state, ctx) else {
        return;
    };
    let offer = match reason {
        CancelReason::TooSlow if o.status.reschedulable() && !ctx.slots_for(&o.address.zone).is_empty() => Some((
            "reschedule",
            lang.pick(
                "如果是时间不合适,可以帮您改到别的配送时段,订单照常送达。要改时间吗?",
                "If the time doesn't suit you, I can move the delivery to another slot instead. Shall I?",
            ),
            lang.pick("改个时间", "Change the time"),
        )),
        CancelReason::OutOfStock if o.status.lines_editable() || o.status == crate::domain::OrderStatus::Picking => Some((
            "substitute",
            lang.pick(
                "缺货的商品可以换成相似的(同类、价格接近,差价多退少补),其余照常送达。要这样处理吗?",
                "We can replace the missing items with similar ones (same kind, similar price) and deliver the rest as planned. OK?",
            ),
            lang.pick("换成相似商品", "Replace them"),
        )),
        CancelReason::Other if draft(state).and_then(|d| d.reason_text.clone()).is_none() => {
            out.say(Reply::text(lang.pick("能具体说说原因吗?我们会认真改进。", "Could you tell us what went wrong? We read every answer.")));
            if let Some(d) = draft(state) {
                d.step = CancelStep::ReasonText;
            }
            return;
        }
        _ => None,
    };
    match offer {
        Some((code, question, yes_label)) => {
            out.say(Reply::with_buttons(
                question,
                vec![
                    text::button(yes_label, Payload::Yes),
                    text::button(lang.pick("还是取消", "Cancel anyway"), Payload::No),
                ],
            ));
            if let Some(d) = draft(state) {
                d.offer = Some(code.to_owned());
                d.step = CancelStep::Offer;
            }
        }
        None => confirm(state, ctx, out),
    }
}

fn offer_answer(state: &mut DialogState, accepted: bool, ctx: &Context, out: &mut Step) {
    let lang = state.lang;
    let Some(d) = draft(state).cloned() else {
        return;
    };
    let (Some(number), Some(reason), Some(offer)) = (d.number.clone(), d.reason, d.offer.clone())
    else {
        confirm(state, ctx, out);
        return;
    };
    if !accepted {
        confirm(state, ctx, out);
        return;
    }
    out.run(Command::RecordSaved {
        number: number.clone(),
        reason,
        offer: offer.clone(),
    });
    if offer == "reschedule" {
        state.flow = Some(Flow::Reschedule(TargetOrder {
            number: Some(number),
        }));
        super::manage::prompt(state, ctx, out, false);
    } else {
        out.say(Reply::text(lang.pick(
            "好的,订单保留。缺货的商品我们会换成相似商品,分拣时会再通知您。",
            "Done, the order stays. Missing items will be replaced by similar ones; we'll tell you what was swapped at picking.",
        )));
        super::finish(state, ctx, out);
    }
}

fn confirm(state: &mut DialogState, ctx: &Context, out: &mut Step) {
    let lang = state.lang;
    let Some(o) = current_order(state, ctx) else {
        return;
    };
    let fee = match decision(o, ctx) {
        CancelDecision::WithFee(f) => f,
        _ => Fen::ZERO,
    };
    out.say(Reply::with_buttons(
        match lang {
            Lang::Zh => format!(
                "确认取消订单 {}?{}",
                o.number,
                fee_text(fee, lang, ctx.rules.cancel.fee_percent)
            ),
            Lang::En => format!(
                "Cancel order {} ({})?",
                o.number,
                fee_text(fee, lang, ctx.rules.cancel.fee_percent)
            ),
        },
        vec![
            text::button(lang.pick("确认取消", "Yes, cancel it"), Payload::Yes),
            text::button(lang.pick("不取消了", "Keep the order"), Payload::No),
        ],
    ));
    if let Some(d) = draft(state) {
        d.step = CancelStep::Confirm;
    }
}

fn run_cancel(state: &mut DialogState, out: &mut Step) {
    if let Some(d) = draft(state)
        && let (Some(number), Some(reason)) = (d.number.clone(), d.reason)
    {
        out.run(Command::Cancel {
            number,
            reason,
            text: d.reason_text.clone(),
        });
    }
}

fn keep(state: &mut DialogState, ctx: &Context, out: &mut Step) {
    out.say(Reply::text(state.lang.pick(
        "好的,订单保留,不取消。",
        "OK, the order stays as it is.",
    )));
    super::finish(state, ctx, out);
}

pub(super) fn prompt(state: &mut DialogState, ctx: &Context, out: &mut Step, resuming: bool) {
    let lang = state.lang;
    if resuming {
        out.say(Reply::text(
            lang.pick("我们继续刚才的取消:", "Back to the cancellation:"),
        ));
    }
    match draft(state).map(|d| (d.step, d.number.is_some())) {
        Some((CancelStep::Which, _)) | Some((_, false)) => {
            let active: Vec<&Order> = ctx.active_orders();
            out.say(Reply::with_buttons(
                lang.pick("要取消哪个订单?", "Which order should be cancelled?"),
                super::order_buttons(&active, lang),
            ));
        }
        Some((CancelStep::Reason, _)) => ask_reason(state, out),
        Some((CancelStep::ReasonText, _)) => out.say(Reply::text(
            lang.pick("能具体说说原因吗?", "Could you tell us what went wrong?"),
        )),
        Some((CancelStep::Offer, _)) => after_reason(state, ctx, out),
        Some((CancelStep::Confirm, _)) => confirm(state, ctx, out),
        None => {}
    }
}

pub(super) fn on_outcome(state: &mut DialogState, o: Outcome, ctx: &Context, out: &mut Step) {
    let lang = state.lang;
    match o {
        Outcome::Cancelled(Ok((order, fee))) => {
            out.say(Reply::text(match (lang, fee == Fen::ZERO) {
                (Lang::Zh, true) => format!(
                    "订单 {} 已取消,没有任何费用。期待下次为您服务🥬",
                    order.number
                ),
                (Lang::Zh, false) => format!(
                    "订单 {} 已取消,手续费 {fee} 将在配送员处或原路结算。",
                    order.number
                ),
                (Lang::En, true) => format!(
                    "Order {} is cancelled, free of charge. Hope to see you again 🥬",
                    order.number
                ),
                (Lang::En, false) => format!(
                    "Order {} is cancelled; a fee of {fee} applies.",
                    order.number
                ),
            }));
            super::finish(state, ctx, out);
        }
        Outcome::Cancelled(Err(f)) => {
            out.say(text::failure(&f, lang));
            super::finish(state, ctx, out);
        }
        _ => {}
    }
}
