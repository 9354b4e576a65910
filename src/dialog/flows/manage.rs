//! Flows on an existing order: track (progress bar, window, link), reschedule, change the
//! address, and change quantities or drop items before picking.

use super::super::{
    AddressChange, Command, Context, DialogState, Flow, Intent, Outcome, Payload, Reply, Step,
    TargetOrder, Understanding, text,
};
use super::{Pick, pick_order};
use crate::domain::{Lang, LatLon, Order, OrderStatus};

fn target(state: &DialogState) -> Option<String> {
    match &state.flow {
        Some(Flow::Reschedule(t) | Flow::Modify(t) | Flow::Track(t)) => t.number.clone(),
        Some(Flow::ChangeAddress(a)) => a.number.clone(),
        _ => None,
    }
}

fn set_target(state: &mut DialogState, n: String) {
    state.last_order = Some(n.clone());
    match &mut state.flow {
        Some(Flow::Reschedule(t) | Flow::Modify(t) | Flow::Track(t)) => t.number = Some(n),
        Some(Flow::ChangeAddress(a)) => a.number = Some(n),
        _ => {}
    }
}

/// Shows one or several orders with their progress; used by track and by order buttons.
pub(super) fn show_orders(
    state: &mut DialogState,
    orders: Vec<&Order>,
    ctx: &Context,
    out: &mut Step,
) {
    let lang = state.lang;
    if orders.is_empty() {
        out.say(Reply::with_buttons(
            lang.pick(
                "您现在没有进行中的订单。要买点菜吗?",
                "You have no order under way. Shall we order something?",
            ),
            vec![text::button(
                lang.pick("买菜", "Order"),
                Payload::Start(Intent::Order),
            )],
        ));
        return;
    }
    for o in orders.iter().take(5) {
        let link = format!(
            "{}/track/{}",
            ctx.public_url.trim_end_matches('/'),
            o.tracking_token
        );
        let eta = match (o.status, lang) {
            (OrderStatus::Delivered, Lang::Zh) => "已送达".to_owned(),
            (OrderStatus::Delivered, Lang::En) => "delivered".to_owned(),
            (_, Lang::Zh) => format!("预计 {} 送达", text::window(o.slot_start, o.slot_end, lang)),
            (_, Lang::En) => format!("arriving {}", text::window(o.slot_start, o.slot_end, lang)),
        };
        let mut buttons = Vec::new();
        if o.status.reschedulable() {
            buttons.push(text::button(
                lang.pick("改时间", "Reschedule"),
                Payload::Start(Intent::Reschedule),
            ));
        }
        out.say(Reply::with_buttons(
            format!(
                "{}\n{}\n{}\n{}",
                text::order_brief(o, lang),
                text::progress(o.status, lang),
                eta,
                link
            ),
            buttons,
        ));
    }
    if let [one] = orders.as_slice() {
        state.last_order = Some(one.number.to_string());
    }
}

pub(super) fn start_track(
    state: &mut DialogState,
    u: &Understanding,
    ctx: &Context,
    out: &mut Step,
) {
    let lang = state.lang;
    if let Some(n) = &u.order_number {
        match ctx.order(n) {
            Some(o) => show_orders(state, vec![o], ctx, out),
            None => out.say(text::failure(&super::super::Failure::UnknownOrder, lang)),
        }
        return;
    }
    let active = ctx.active_orders();
    if active.is_empty() {
        // Nothing under way: the most recent order, if any.
        show_orders(state, ctx.orders.iter().take(1).collect(), ctx, out);
    } else {
        show_orders(state, active, ctx, out);
    }
}

pub(super) fn start_reschedule(
    state: &mut DialogState,
    u: &Understanding,
    ctx: &Context,
    out: &mut Step,
) {
    state.flow = Some(Flow::Reschedule(TargetOrder::default()));
    choose_and_go(state, u, ctx, out, OrderStatus::reschedulable);
}

pub(super) fn start_change_address(
    state: &mut DialogState,
    u: &Understanding,
    ctx: &Context,
    out: &mut Step,
) {
    state.flow = Some(Flow::ChangeAddress(AddressChange::default()));
    choose_and_go(state, u, ctx, out, OrderStatus::reschedulable);
}

pub(super) fn start_modify(
    state: &mut DialogState,
    u: &Understanding,
    ctx: &Context,
    out: &mut Step,
) {
    state.flow = Some(Flow::Modify(TargetOrder::default()));
    choose_and_go(state, u, ctx, out, OrderStatus::lines_editable);
}

fn choose_and_go(
    state: &mut DialogState,
    u: &Understanding,
    ctx: &Context,
    out: &mut Step,
    ok: fn(OrderStatus) -> bool,
) {
    let lang = state.lang;
    match pick_order(state, u.order_number.as_deref(), ctx, |s| s.is_active()) {
        Pick::One(o) if ok(o.status) => {
            set_target(state, o.number.to_string());
            act(state, u, ctx, out);
        }
        Pick::One(o) => {
            out.say(Reply::with_buttons(
                match lang {
                    Lang::Zh => format!(
                        "订单 {} 已经{},不能再修改时间、地址或商品了。",
                        o.number,
                        o.status.label(lang)
                    ),
                    Lang::En => format!(
                        "Order {} is already {}; its time, address and items can't be changed now.",
                        o.number,
                        o.status.label(lang)
                    ),
                },
                vec![text::button(
                    lang.pick("联系人工", "Talk to a person"),
                    Payload::Human,
                )],
            ));
            super::finish(state, ctx, out);
        }
        Pick::Several(orders) => {
            let fitting: Vec<&Order> = orders.into_iter().filter(|o| ok(o.status)).collect();
            match fitting.as_slice() {
                [] => {
                    out.say(Reply::text(lang.pick(
                        "您的订单都已出发或完成,不能再修改了。",
                        "Your orders have all left or finished; they can't be changed.",
                    )));
                    super::finish(state, ctx, out);
                }
                [one] => {
                    set_target(state, one.number.to_string());
                    act(state, u, ctx, out);
                }
                many => out.say(Reply::with_buttons(
                    lang.pick("是哪个订单?", "Which order?"),
                    super::order_buttons(many, lang),
                )),
            }
        }
        Pick::None => {
            out.say(Reply::text(if u.order_number.is_some() {
                lang.pick(
                    "没有找到这个订单号,请核对一下。",
                    "I can't find that order number among your orders.",
                )
            } else {
                lang.pick(
                    "您现在没有可以修改的订单。",
                    "You have no order that could be changed.",
                )
            }));
            super::finish(state, ctx, out);
        }
    }
}

/// With the order known: use what the message already says, else ask.
fn act(state: &mut DialogState, u: &Understanding, ctx: &Context, out: &mut Step) {
    let Some(o) = target(state).and_then(|n| ctx.order(&n)) else {
        return;
    };
    match &state.flow {
        Some(Flow::Reschedule(_)) => {
            if let Some((from, to)) = u.time {
                let slots = ctx.slots_for(&o.address.zone);
                let others: Vec<crate::domain::FreeSlot> = slots
                    .iter()
                    .filter(|s| s.start != o.slot_start)
                    .cloned()
                    .collect();
                if let Some(s) = crate::domain::slot_for_wish(&others, from, to) {
                    out.run(Command::Reschedule {
                        number: o.number.to_string(),
                        slot_start: s.start,
                    });
                    return;
                }
                // Never move it silently elsewhere: say so and offer the nearest.
                let lang = state.lang;
                out.say(Reply::with_buttons(
                    match lang {
                        Lang::Zh => format!(
                            "{} 没有可约的时段了(已约满或已截单)。离得最近的时段:",
                            text::window(from, to, lang)
                        ),
                        Lang::En => format!(
                            "There's no free slot {} (full or closed). The nearest ones:",
                            text::window(from, to, lang)
                        ),
                    },
                    crate::domain::slots_near(&others, from, 6)
                        .into_iter()
                        .map(|s| {
                            text::button(
                                &text::window(s.start, s.end, lang),
                                Payload::Slot(s.start),
                            )
                        })
                        .collect(),
                ));
                return;
            }
            prompt(state, ctx, out, false);
        }
        Some(Flow::ChangeAddress(_)) => {
            if let Some(a) = &u.address {
                out.run(Command::SaveAddress {
                    text: a.clone(),
                    location: None,
                });
                return;
            }
            prompt(state, ctx, out, false);
        }
        Some(Flow::Modify(_)) => {
            if !u.items.is_empty() {
                modify(state, u, o, ctx, out);
                return;
            }
            prompt(state, ctx, out, false);
        }
        _ => {}
    }
}

/// "西红柿改成三斤" sets a quantity; an item without one ("黄瓜不要了", "remove the spinach")
/// drops it.
fn modify(state: &mut DialogState, u: &Understanding, o: &Order, ctx: &Context, out: &mut Step) {
    let mut set = Vec::new();
    let mut remove = Vec::new();
    for m in &u.items {
        match m.quantity.or(u.loose_quantity) {
            Some(a) => match ctx.product(&m.sku).map(|p| a.for_product(p)) {
                Some(Ok(q)) => set.push((m.sku.clone(), q)),
                Some(Err(e)) => {
                    out.say(Reply::text(e.to_string()));
                    return;
                }
                None => {}
            },
            None => remove.push(m.sku.clone()),
        }
    }
    state.last_item = u.items.last().map(|m| m.sku.clone());
    out.run(Command::ChangeLines {
        number: o.number.to_string(),
        set,
        remove,
    });
}

pub(super) fn answer(
    state: &mut DialogState,
    raw: &str,
    u: &Understanding,
    ctx: &Context,
    out: &mut Step,
) -> bool {
    if let Some(n) = &u.order_number
        && ctx.order(n).is_some()
        && target(state).is_none()
    {
        set_target(state, n.clone());
        act(state, u, ctx, out);
        return true;
    }
    let Some(_) = target(state) else { return false };
    match &state.flow {
        Some(Flow::Reschedule(_)) if u.time.is_some() => {
            act(state, u, ctx, out);
            true
        }
        Some(Flow::ChangeAddress(_))
            if u.address.is_some() || super::order::looks_like_address(raw) =>
        {
            let text = u.address.clone().unwrap_or_else(|| raw.trim().to_owned());
            out.run(Command::SaveAddress {
                text,
                location: None,
            });
            true
        }
        Some(Flow::Modify(_)) if !u.items.is_empty() || u.loose_quantity.is_some() => {
            let Some(o) = target(state).and_then(|n| ctx.order(&n)) else {
                return false;
            };
            let mut u = u.clone();
            if u.items.is_empty() {
                // "make it 3": the last item talked about.
                if let Some(sku) = state.last_item.clone() {
                    u.items.push(super::super::ItemMention {
                        sku,
                        quantity: u.loose_quantity,
                    });
                }
            }
            modify(state, &u, o, ctx, out);
            true
        }
        _ if u.intent == Intent::Deny => {
            super::leave(state, ctx, out);
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
            set_target(state, n.clone());
            act(state, &Understanding::intent(Intent::Affirm), ctx, out);
            true
        }
        Payload::Slot(t) if matches!(state.flow, Some(Flow::Reschedule(_))) => {
            if let Some(n) = target(state) {
                out.run(Command::Reschedule {
                    number: n,
                    slot_start: *t,
                });
            }
            true
        }
        Payload::Address(id) if matches!(state.flow, Some(Flow::ChangeAddress(_))) => {
            if let Some(n) = target(state) {
                out.run(Command::ChangeAddress {
                    number: n,
                    address: *id,
                });
            }
            true
        }
        Payload::Drop(sku) if matches!(state.flow, Some(Flow::Modify(_))) => {
            if let Some(n) = target(state) {
                out.run(Command::ChangeLines {
                    number: n,
                    set: vec![],
                    remove: vec![sku.clone()],
                });
            }
            true
        }
        _ => false,
    }
}

pub(super) fn on_location(state: &mut DialogState, loc: LatLon, _ctx: &Context, out: &mut Step) {
    if target(state).is_some() {
        out.run(Command::SaveAddress {
            text: String::new(),
            location: Some(loc),
        });
    }
}

pub(super) fn prompt(state: &mut DialogState, ctx: &Context, out: &mut Step, resuming: bool) {
    let lang = state.lang;
    let Some(o) = target(state).and_then(|n| ctx.order(&n)) else {
        let active = ctx.active_orders();
        out.say(Reply::with_buttons(
            lang.pick("是哪个订单?", "Which order?"),
            super::order_buttons(&active, lang),
        ));
        return;
    };
    match &state.flow {
        Some(Flow::Reschedule(_)) => {
            let slots = ctx.slots_for(&o.address.zone);
            out.say(Reply::with_buttons(
                match lang {
                    Lang::Zh => format!("订单 {} 现在是 {}。改到哪个时段?也可以直接说“改到周六上午”。", o.number, text::window(o.slot_start, o.slot_end, lang)),
                    Lang::En => format!("Order {} is due {}. Which slot instead? You can also say e.g. \"Saturday morning\".", o.number, text::window(o.slot_start, o.slot_end, lang)),
                },
                slots
                    .iter()
                    .filter(|s| s.start != o.slot_start)
                    .take(6)
                    .map(|s| text::button(&text::window(s.start, s.end, lang), Payload::Slot(s.start)))
                    .collect(),
            ));
        }
        Some(Flow::ChangeAddress(_)) => {
            let buttons = ctx
                .addresses
                .iter()
                .filter(|a| a.text != o.address.text)
                .take(3)
                .filter_map(|a| a.id.map(|id| text::button(&a.text, Payload::Address(id))))
                .collect();
            out.say(Reply::with_buttons(
                match lang {
                    Lang::Zh => format!("订单 {} 现在送到:{}。新地址是?(发文字或分享位置)", o.number, o.address.text),
                    Lang::En => format!("Order {} goes to: {}. What's the new address? (type it or share a location)", o.number, o.address.text),
                },
                buttons,
            ));
        }
        Some(Flow::Modify(_)) => {
            let buttons = o
                .lines
                .iter()
                .take(5)
                .map(|l| {
                    text::button(
                        &format!(
                            "{}{}",
                            lang.pick("删掉", "Remove "),
                            lang.pick(&l.name_zh, &l.name_en)
                        ),
                        Payload::Drop(l.sku.clone()),
                    )
                })
                .collect();
            out.say(Reply::with_buttons(
                match lang {
                    Lang::Zh => format!("{}\n要怎么改?例如“西红柿改成三斤”或“黄瓜不要了”。", text::order_brief(o, lang)),
                    Lang::En => format!("{}\nWhat should change? E.g. \"make the tomatoes 3 jin\" or \"remove the cucumber\".", text::order_brief(o, lang)),
                },
                buttons,
            ));
        }
        _ => {}
    }
    let _ = resuming;
}

pub(super) fn on_outcome(state: &mut DialogState, o: Outcome, ctx: &Context, out: &mut Step) {
    let lang = state.lang;
    match o {
        Outcome::AddressSaved(Ok(a)) => {
            if let (Some(n), Some(id)) = (target(state), a.id) {
                out.run(Command::ChangeAddress {
                    number: n,
                    address: id,
                });
            }
        }
        Outcome::AddressSaved(Err(f)) => {
            out.say(text::failure(&f, lang));
            prompt(state, ctx, out, false);
        }
        Outcome::Rescheduled(Ok(order)) => {
            out.say(Reply::text(match lang {
                Lang::Zh => format!(
                    "好的,订单 {} 改到 {} 送达。",
                    order.number,
                    text::window(order.slot_start, order.slot_end, lang)
                ),
                Lang::En => format!(
                    "Done: order {} now arrives {}.",
                    order.number,
                    text::window(order.slot_start, order.slot_end, lang)
                ),
            }));
            super::finish(state, ctx, out);
        }
        Outcome::AddressChanged(Ok(order)) => {
            out.say(Reply::text(match lang {
                Lang::Zh => format!("好的,订单 {} 改送到:{}。", order.number, order.address.text),
                Lang::En => format!(
                    "Done: order {} now goes to {}.",
                    order.number, order.address.text
                ),
            }));
            super::finish(state, ctx, out);
        }
        Outcome::LinesChanged(Ok(order)) => {
            out.say(Reply::text(match lang {
                Lang::Zh => format!(
                    "已修改:{}\n合计 {}",
                    text::order_brief(&order, lang),
                    order.totals.total
                ),
                Lang::En => format!(
                    "Changed: {}\nTotal {}",
                    text::order_brief(&order, lang),
                    order.totals.total
                ),
            }));
            super::finish(state, ctx, out);
        }
        Outcome::Rescheduled(Err(f))
        | Outcome::AddressChanged(Err(f))
        | Outcome::LinesChanged(Err(f)) => {
            out.say(text::failure(&f, lang));
            super::finish(state, ctx, out);
        }
        _ => {}
    }
}
