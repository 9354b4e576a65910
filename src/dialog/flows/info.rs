//! One-turn answers (FAQ, stock, recommendations, membership, tracking), complaints and the
//! handoff to a human.

use super::super::{
    Command, ComplaintDraft, Context, DialogState, Flow, Handoff, Intent, Payload, Reply, Step,
    Understanding, text,
};
use crate::domain::{Lang, Quantity};

pub(in crate::dialog) fn answer(
    state: &mut DialogState,
    u: &Understanding,
    ctx: &Context,
    out: &mut Step,
) {
    let lang = state.lang;
    match u.intent {
        Intent::Track => super::manage::start_track(state, u, ctx, out),
        Intent::CheckStock => check_stock(state, u, ctx, out),
        Intent::Recommend => recommend(state, ctx, out),
        Intent::Membership => membership(state, ctx, out),
        i => match ctx.faq.answer(i.label(), lang) {
            Some(a) => out.say(Reply::text(a)),
            None => out.say(Reply::with_buttons(
                lang.pick(
                    "这个问题我还不会回答,可以转人工客服。",
                    "I can't answer that yet; a person can.",
                ),
                vec![text::button(
                    lang.pick("人工客服", "Talk to a person"),
                    Payload::Human,
                )],
            )),
        },
    }
}

fn check_stock(state: &mut DialogState, u: &Understanding, ctx: &Context, out: &mut Step) {
    let lang = state.lang;
    if u.items.is_empty() {
        let fresh: Vec<_> = ctx
            .catalog
            .iter()
            .filter(|(_, s)| s.available_milli() > 0)
            .take(8)
            .collect();
        let names = fresh
            .iter()
            .map(|(p, _)| format!("{} {}", p.name(lang), p.price_label(lang)))
            .collect::<Vec<_>>();
        out.say(Reply::with_buttons(
            match lang {
                Lang::Zh => format!("今天有货的有:{} 等。想要哪个直接说。", names.join("、")),
                Lang::En => format!(
                    "In stock today: {} and more. Just name what you'd like.",
                    names.join(", ")
                ),
            },
            fresh
                .iter()
                .take(4)
                .map(|(p, _)| text::button(p.name(lang), Payload::Add(p.sku.clone())))
                .collect(),
        ));
        return;
    }
    for m in &u.items {
        let Some(p) = ctx.product(&m.sku) else {
            continue;
        };
        state.last_item = Some(p.sku.clone());
        let avail = ctx.available_milli(&p.sku);
        if avail > 0 {
            let left = Quantity::new(avail, p.unit)
                .map(|q| q.display(lang))
                .unwrap_or_default();
            out.say(Reply::with_buttons(
                match lang {
                    Lang::Zh => {
                        format!("{}有货,{},还有 {}。", p.name_zh, p.price_label(lang), left)
                    }
                    Lang::En => format!(
                        "{} is in stock at {} ({} left).",
                        p.name_en,
                        p.price_label(lang),
                        left
                    ),
                },
                vec![text::button(
                    lang.pick("加入购物车", "Add to order"),
                    Payload::Add(p.sku.clone()),
                )],
            ));
        } else {
            let sub = ctx.substitute_for(
                &p.sku,
                &state.substitute_prefs,
                &state.refused_substitutes,
                1,
            );
            out.say(Reply::with_buttons(
                match (lang, sub) {
                    (Lang::Zh, Some(s)) => format!(
                        "{}今天卖完了😔 推荐同类的{}({})。",
                        p.name_zh,
                        s.name_zh,
                        s.price_label(lang)
                    ),
                    (Lang::Zh, None) => format!("{}今天卖完了😔", p.name_zh),
                    (Lang::En, Some(s)) => format!(
                        "{} is sold out today 😔 How about {} ({})?",
                        p.name_en,
                        s.name_en,
                        s.price_label(lang)
                    ),
                    (Lang::En, None) => format!("{} is sold out today 😔", p.name_en),
                },
                sub.map(|s| vec![text::button(s.name(lang), Payload::Add(s.sku.clone()))])
                    .unwrap_or_default(),
            ));
        }
    }
}

/// From the customer's history first (what they buy that is in stock), then what is plentiful.
fn recommend(state: &mut DialogState, ctx: &Context, out: &mut Step) {
    let lang = state.lang;
    let mut picks: Vec<&crate::domain::Product> = Vec::new();
    for o in ctx.orders {
        for l in &o.lines {
            if let Some(p) = ctx.product(&l.sku)
                && ctx.available_milli(&p.sku) >= l.quantity.milli()
                && !picks.iter().any(|x| x.sku == p.sku)
            {
                picks.push(p);
            }
        }
    }
    let from_history = picks.len();
    let mut plentiful: Vec<_> = ctx
        .catalog
        .iter()
        .filter(|(p, s)| {
            s.available_milli() > s.low_threshold_milli * 3 && !picks.iter().any(|x| x.sku == p.sku)
        })
        .collect();
    plentiful.sort_by_key(|(_, s)| std::cmp::Reverse(s.available_milli() - s.low_threshold_milli));
    picks.extend(plentiful.into_iter().map(|(p, _)| p));
    picks.truncate(4);
    if picks.is_empty() {
        out.say(Reply::text(lang.pick(
            "今天货比较紧张,想要什么可以直接问我有没有货。",
            "Stock is tight today; ask me about anything you'd like.",
        )));
        return;
    }
    let list = picks
        .iter()
        .map(|p| format!("{} {}", p.name(lang), p.price_label(lang)))
        .collect::<Vec<_>>();
    out.say(Reply::with_buttons(
        match (lang, from_history > 0) {
            (Lang::Zh, true) => format!("您常买的今天都有:{}", list.join("、")),
            (Lang::Zh, false) => format!("今天新鲜到货、量足的有:{}", list.join("、")),
            (Lang::En, true) => format!("Your usuals are in stock: {}", list.join(", ")),
            (Lang::En, false) => format!("Fresh and plentiful today: {}", list.join(", ")),
        },
        picks
            .iter()
            .map(|p| text::button(p.name(lang), Payload::Add(p.sku.clone())))
            .collect(),
    ));
}

fn membership(state: &mut DialogState, ctx: &Context, out: &mut Step) {
    let lang = state.lang;
    let general = ctx
        .faq
        .answer("membership", lang)
        .unwrap_or_default()
        .to_owned();
    let Some(m) = ctx.membership else {
        out.say(Reply::text(general));
        return;
    };
    let rules = &ctx.rules.membership;
    let idx = rules
        .tiers
        .iter()
        .position(|t| t.code == m.tier.code)
        .unwrap_or(rules.tiers.len());
    let next = idx.checked_sub(1).and_then(|i| rules.tiers.get(i));
    let next_text = match (next, lang) {
        (Some(t), Lang::Zh) => format!(
            "再完成 {} 单(近{}天取消率不超过{}%)可升级为{}。",
            t.min_completed.saturating_sub(m.completed_in_window),
            rules.window_days,
            t.max_cancel_percent,
            t.name_zh
        ),
        (Some(t), Lang::En) => format!(
            "{} more completed orders (with at most {}% cancelled in {} days) make you {}.",
            t.min_completed.saturating_sub(m.completed_in_window),
            t.max_cancel_percent,
            rules.window_days,
            t.name_en
        ),
        (None, Lang::Zh) => "您已经是最高等级啦🎉".to_owned(),
        (None, Lang::En) => "You're at the top tier 🎉".to_owned(),
    };
    out.say(Reply::text(match lang {
        Lang::Zh => format!("您是{},积分 {}。近{}天完成 {} 单、取消 {} 单。{next_text}", m.tier.name_zh, m.points, rules.window_days, m.completed_in_window, m.cancelled_in_window),
        Lang::En => format!("You're {} with {} points: {} orders completed and {} cancelled in the last {} days. {next_text}", m.tier.name_en, m.points, m.completed_in_window, m.cancelled_in_window, rules.window_days),
    }));
}

/// Marks the conversation for a human and tells the customer.
pub(in crate::dialog) fn handoff(
    state: &mut DialogState,
    reason: &str,
    summary: &str,
    ctx: &Context,
    out: &mut Step,
) {
    state.handoff = Some(Handoff {
        reason: reason.to_owned(),
        since: ctx.now,
    });
    out.run(Command::Handoff {
        reason: reason.to_owned(),
        summary: summary.to_owned(),
    });
}

pub(super) fn handed_off(state: &mut DialogState, position: usize, out: &mut Step) {
    let lang = state.lang;
    out.say(Reply::with_buttons(
        match lang {
            Lang::Zh => {
                format!("正在为您转接人工客服,您前面还有 {position} 位,请稍候,客服会在这里回复您。")
            }
            Lang::En => format!(
                "Getting you a person: {position} ahead of you. An agent will reply right here."
            ),
        },
        vec![
            text::button(lang.pick("继续等待", "Keep waiting"), Payload::KeepWaiting),
            text::button(
                lang.pick("返回机器人", "Back to the bot"),
                Payload::BackToBot,
            ),
        ],
    ));
}

pub(super) fn start_complaint(
    state: &mut DialogState,
    u: &Understanding,
    ctx: &Context,
    out: &mut Step,
) {
    let number = u
        .order_number
        .clone()
        .or_else(|| state.last_order.clone())
        .or_else(|| ctx.orders.first().map(|o| o.number.to_string()));
    state.flow = Some(Flow::Complaint(ComplaintDraft {
        number,
        details: vec![],
    }));
    complaint_prompt(state, ctx, out);
}

pub(super) fn complaint_prompt(state: &mut DialogState, ctx: &Context, out: &mut Step) {
    let lang = state.lang;
    let number = match &state.flow {
        Some(Flow::Complaint(c)) => c.number.clone(),
        _ => return,
    };
    out.say(Reply::with_buttons(
        match (lang, &number) {
            (Lang::Zh, Some(n)) => format!("非常抱歉给您添麻烦了🙏 是订单 {n} 的问题吗?请说说具体情况(坏了、少了、送错、态度等),我马上转给客服处理。"),
            (Lang::Zh, None) => "非常抱歉给您添麻烦了🙏 请说说具体情况,我马上转给客服处理。".to_owned(),
            (Lang::En, Some(n)) => format!("I'm very sorry about that 🙏 Is it about order {n}? Tell me what happened (spoiled, missing, wrong item, courier...) and I'll pass it to a person right away."),
            (Lang::En, None) => "I'm very sorry about that 🙏 Tell me what happened and I'll pass it to a person right away.".to_owned(),
        },
        super::order_buttons(&ctx.orders.iter().take(3).collect::<Vec<_>>(), lang),
    ));
}

pub(super) fn complaint_answer(
    state: &mut DialogState,
    raw: &str,
    u: &Understanding,
    ctx: &Context,
    out: &mut Step,
) -> bool {
    if u.intent.is_digression() && u.intent != Intent::Track {
        return false;
    }
    if let Some(Flow::Complaint(c)) = &mut state.flow {
        if let Some(n) = &u.order_number {
            c.number = Some(n.clone());
        }
        if !raw.trim().is_empty() {
            c.details.push(raw.trim().chars().take(1000).collect());
        }
    }
    escalate_complaint(state, ctx, out);
    true
}

pub(super) fn complaint_button(
    state: &mut DialogState,
    p: &Payload,
    ctx: &Context,
    out: &mut Step,
) -> bool {
    if let (Payload::Order(n), Some(Flow::Complaint(c))) = (p, &mut state.flow) {
        c.number = Some(n.clone());
        let lang = state.lang;
        out.say(Reply::text(
            lang.pick("好的,请说说具体情况:", "OK, what happened?"),
        ));
        let _ = ctx;
        return true;
    }
    false
}

fn escalate_complaint(state: &mut DialogState, ctx: &Context, out: &mut Step) {
    let Some(Flow::Complaint(c)) = state.flow.take() else {
        return;
    };
    let summary = format!(
        "complaint{}: {}",
        c.number
            .as_deref()
            .map(|n| format!(" about {n}"))
            .unwrap_or_default(),
        c.details.join(" / ")
    );
    if let Some(n) = c.number {
        state.last_order = Some(n);
    }
    handoff(state, "complaint", &summary, ctx, out);
}
