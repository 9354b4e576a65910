//! The top of the engine: routes each event to the active flow, a new flow, a one-turn answer
//! or the fallback, and handles digressions (a question in the middle of a flow is answered and
//! the flow resumes) and the human handoff state.

use super::flows;
use super::text;
use super::{Context, DialogState, Event, Intent, Payload, Reply, Step, Understanding};
use crate::domain::Lang;

/// Below this confidence a message counts as not understood.
pub const CONFIDENCE_THRESHOLD: f32 = 0.45;

/// Handles one event. Mutates `state`; returns replies and commands for the service layer.
pub fn step(state: &mut DialogState, event: Event, ctx: &Context) -> Step {
    let mut out = Step::default();
    match event {
        Event::Outcome(o) => flows::on_outcome(state, o, ctx, &mut out),
        e if state.handoff.is_some() => waiting_for_human(state, e, &mut out),
        Event::Button(p) => on_button(state, p, ctx, &mut out),
        Event::Location(loc) => {
            state.turns += 1;
            flows::on_location(state, loc, ctx, &mut out)
        }
        Event::Text {
            text,
            understanding,
        } => {
            state.turns += 1;
            on_text(state, &text, &understanding, ctx, &mut out)
        }
    }
    out
}

fn on_text(state: &mut DialogState, text: &str, u: &Understanding, ctx: &Context, out: &mut Step) {
    // The active flow first: "三斤", "明天上午", an address, "好的" answer its question.
    if state.flow.is_some() && flows::answer(state, text, u, ctx, out) {
        state.fallbacks = 0;
        return;
    }
    if u.intent == Intent::OutOfScope || u.confidence < CONFIDENCE_THRESHOLD {
        fallback(state, u, out);
        return;
    }
    state.fallbacks = 0;
    route_intent(state, u, ctx, out);
}

/// Starts or answers an intent; also used by menu buttons.
pub(super) fn route_intent(
    state: &mut DialogState,
    u: &Understanding,
    ctx: &Context,
    out: &mut Step,
) {
    let lang = state.lang;
    match u.intent {
        Intent::Greet => {
            out.say(Reply::with_buttons(
                lang.pick(
                    "您好!我是鲜菜小助手🥬 想买点什么?可以直接说“两斤西红柿、一把菠菜,明天上午送”。",
                    "Hi! I'm the freshbot grocery assistant 🥬 What would you like? Just say e.g. \"2 jin of tomatoes and a bunch of spinach, tomorrow morning\".",
                ),
                text::menu(lang),
            ));
            flows::resume_prompt(state, ctx, out);
        }
        Intent::Thanks => {
            out.say(Reply::text(lang.pick(
                "不客气!还有什么需要随时说。",
                "You're welcome! Anything else, just ask.",
            )));
            flows::resume_prompt(state, ctx, out);
        }
        Intent::Goodbye => {
            out.say(Reply::text(
                lang.pick("再见,祝您生活愉快!🥕", "Bye, have a nice day! 🥕"),
            ));
        }
        Intent::Affirm | Intent::Deny if flows::substitution::typed_answer(u, ctx, out) => {}
        Intent::Affirm | Intent::Deny => {
            // Nothing was asked: show what we can do.
            out.say(Reply::with_buttons(
                lang.pick("好的。需要我帮您做什么?", "OK. What can I do for you?"),
                text::menu(lang),
            ));
        }
        Intent::Human => flows::info::handoff(
            state,
            "requested",
            lang.pick("顾客要求人工客服", "customer asked for a person"),
            ctx,
            out,
        ),
        i if i.is_digression() => {
            flows::info::answer(state, u, ctx, out);
            flows::resume_prompt(state, ctx, out);
        }
        _ => flows::start(state, u, ctx, out),
    }
}

fn fallback(state: &mut DialogState, u: &Understanding, out: &mut Step) {
    let lang = state.lang;
    state.fallbacks = state.fallbacks.saturating_add(1);
    if state.fallbacks >= 2 {
        out.say(Reply::with_buttons(
            lang.pick(
                "抱歉,我还是没明白。要不要转人工客服帮您?",
                "Sorry, I still didn't get that. Shall I get a person to help you?",
            ),
            vec![
                text::button(lang.pick("转人工", "Yes, a person"), Payload::Human),
                text::button(
                    lang.pick("不用,我再试试", "No, I'll rephrase"),
                    Payload::KeepWaiting,
                ),
            ],
        ));
        return;
    }
    // Offer what it most likely was.
    let mut buttons: Vec<_> = u
        .alternatives
        .iter()
        .chain(std::iter::once(&(u.intent, u.confidence)))
        .filter(|(i, _)| {
            !matches!(
                i,
                Intent::OutOfScope
                    | Intent::Affirm
                    | Intent::Deny
                    | Intent::Greet
                    | Intent::Goodbye
                    | Intent::Thanks
            )
        })
        .take(3)
        .map(|(i, _)| text::button(intent_label(*i, lang), Payload::Start(*i)))
        .collect();
    if buttons.is_empty() {
        buttons = text::menu(lang);
    }
    out.say(Reply::with_buttons(
        lang.pick(
            "抱歉没太明白😅 能换个说法吗?或者选一个:",
            "Sorry, I didn't quite get that 😅 Could you rephrase, or pick one:",
        ),
        buttons,
    ));
}

/// How an intent is offered on a button.
pub(super) fn intent_label(i: Intent, lang: Lang) -> &'static str {
    match i {
        Intent::Order => lang.pick("下单买菜", "Order groceries"),
        Intent::ModifyOrder => lang.pick("修改订单", "Change an order"),
        Intent::Track => lang.pick("查订单进度", "Track my order"),
        Intent::Reschedule => lang.pick("改配送时间", "Change delivery time"),
        Intent::ChangeAddress => lang.pick("改地址", "Change address"),
        Intent::Cancel => lang.pick("取消订单", "Cancel an order"),
        Intent::Substitute => lang.pick("缺货替换设置", "Substitution preferences"),
        Intent::CheckStock => lang.pick("查库存", "Check stock"),
        Intent::Recommend => lang.pick("今日推荐", "Today's picks"),
        Intent::Complaint => lang.pick("投诉/售后", "Complaint"),
        Intent::Human => lang.pick("人工客服", "Talk to a person"),
        Intent::FaqRefund => lang.pick("退款规则", "Refunds"),
        Intent::FaqDeliveryArea => lang.pick("配送范围", "Delivery area"),
        Intent::FaqDeliveryFee => lang.pick("配送费", "Delivery fee"),
        Intent::FaqPayment => lang.pick("支付方式", "Payment"),
        Intent::FaqHours => lang.pick("配送时间", "Delivery hours"),
        Intent::Membership => lang.pick("会员积分", "Membership"),
        Intent::Greet
        | Intent::Goodbye
        | Intent::Thanks
        | Intent::Affirm
        | Intent::Deny
        | Intent::OutOfScope => lang.pick("菜单", "Menu"),
    }
}

fn on_button(state: &mut DialogState, p: Payload, ctx: &Context, out: &mut Step) {
    state.turns += 1;
    state.fallbacks = 0;
    match p {
        Payload::Start(intent) => route_intent(state, &Understanding::intent(intent), ctx, out),
        Payload::Human => flows::info::handoff(
            state,
            "requested",
            state
                .lang
                .pick("顾客要求人工客服", "customer asked for a person"),
            ctx,
            out,
        ),
        Payload::KeepWaiting => {
            out.say(Reply::with_buttons(
                state.lang.pick("好的,请说。", "Sure, go ahead."),
                text::menu(state.lang),
            ));
        }
        Payload::BackToBot => {
            out.say(Reply::text(
                state.lang.pick("我在呢,请说。", "I'm here, go ahead."),
            ));
        }
        p => flows::on_button(state, p, ctx, out),
    }
}

/// While a human has or is about to take the conversation, the bot answers nothing but
/// "still waiting / back to the bot" choices.
fn waiting_for_human(state: &mut DialogState, e: Event, out: &mut Step) {
    let lang = state.lang;
    state.turns += 1;
    if let Event::Button(Payload::BackToBot) = e {
        state.handoff = None;
        out.say(Reply::with_buttons(
            lang.pick(
                "好的,机器人小助手继续为您服务。需要什么?",
                "OK, the bot is back. What can I do for you?",
            ),
            text::menu(lang),
        ));
        return;
    }
    out.say(Reply::with_buttons(
        lang.pick(
            "已为您转接人工客服,请稍候,客服会在这里回复您。",
            "You're in the queue for a person; an agent will answer here shortly.",
        ),
        vec![
            text::button(lang.pick("继续等待", "Keep waiting"), Payload::KeepWaiting),
            text::button(
                lang.pick("返回机器人", "Back to the bot"),
                Payload::BackToBot,
            ),
        ],
    ));
}
