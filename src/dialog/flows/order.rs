//! The order flow: builds a cart across turns, asks only for what is missing (quantity,
//! address the first time, slot, substitution consent), resolves stock problems with a
//! substitute or a smaller quantity, shows a priced summary and places the order only after
//! the customer confirms.

use super::super::{
    CartLine, Command, Context, DialogState, Failure, Flow, Intent, ItemMention, OrderDraft,
    OrderStep, Outcome, Payload, Reply, Step, Understanding, text,
};
use crate::domain::{Fen, Lang, LatLon, Quantity, Sku, Unit};

fn draft(state: &mut DialogState) -> Option<&mut OrderDraft> {
    match &mut state.flow {
        Some(Flow::Order(d)) => Some(d),
        _ => None,
    }
}

pub(super) fn start(state: &mut DialogState, u: &Understanding, ctx: &Context, out: &mut Step) {
    state.flow = Some(Flow::Order(OrderDraft::default()));
    absorb(state, u, ctx, out, false);
    advance(state, ctx, out);
}

/// "没有西红柿就换彩椒" / "不要替换": substitution preferences, also outside an order.
pub(super) fn preferences(
    state: &mut DialogState,
    u: &Understanding,
    ctx: &Context,
    out: &mut Step,
) {
    let lang = state.lang;
    let text_no = u.items.is_empty();
    if u.items.len() >= 2 {
        let (from, to) = (u.items[0].sku.clone(), u.items[1].sku.clone());
        state.substitute_prefs.retain(|(f, _)| f != &from);
        state.substitute_prefs.push((from.clone(), to.clone()));
        let name = |s: &Sku| {
            ctx.product(s)
                .map(|p| p.name(lang).to_owned())
                .unwrap_or_else(|| s.to_string())
        };
        out.say(Reply::text(match lang {
            Lang::Zh => format!("记住了:{}缺货时换成{}。", name(&from), name(&to)),
            Lang::En => format!(
                "Noted: if {} runs out, you'll get {} instead.",
                name(&from),
                name(&to)
            ),
        }));
        if let Some(d) = draft(state) {
            d.auto_substitute = Some(true);
        }
    } else if let Some(allow) = u.substitution {
        if let Some(d) = draft(state) {
            d.auto_substitute = Some(allow);
        }
        out.say(Reply::text(match (lang, allow) {
            (Lang::Zh, true) => "好的,缺货时自动换成相似商品。",
            (Lang::Zh, false) => "好的,缺货时不替换,缺的不送也不收钱。",
            (Lang::En, true) => "OK: if something runs out, we'll replace it with a similar item.",
            (Lang::En, false) => {
                "OK: no substitutes; anything that runs out is left out and not charged."
            }
        }));
        if draft(state).is_some() {
            advance(state, ctx, out);
            return;
        }
    } else if text_no {
        out.say(Reply::with_buttons(
            lang.pick(
                "缺货的时候,要不要自动帮您换成相似的商品(同类、价格接近)?",
                "When something runs out, shall we replace it with a similar item (same kind, similar price)?",
            ),
            text::yes_no(lang, lang.pick("自动替换", "Yes, substitute"), lang.pick("不替换,缺了就不要", "No substitutes")),
        ));
        if let Some(d) = draft(state) {
            d.step = OrderStep::Substitute;
        }
        return;
    } else {
        out.say(Reply::text(lang.pick(
            "好的,缺货时我们会先问您再替换。",
            "OK, we'll ask you before substituting anything.",
        )));
    }
    super::resume_prompt(state, ctx, out);
}

/// Takes an answer to the flow's question; `false` if the message is about something else.
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
    let has_content = !u.items.is_empty() || u.loose_quantity.is_some() || u.time.is_some();
    // Asked for a time, a time is the answer whatever the classifier makes of it ("fri evening"
    // reads like a greeting, "今天下午四点那个" like a reschedule); only a clear new request wins.
    if step == OrderStep::Slot
        && u.time.is_some()
        && u.items.is_empty()
        && !matches!(u.intent, Intent::Cancel | Intent::Human | Intent::Complaint)
    {
        absorb(state, u, ctx, out, false);
        advance(state, ctx, out);
        return true;
    }
    if u.intent == Intent::Substitute {
        preferences(state, u, ctx, out);
        return true;
    }
    // Asked for an address, an address-like answer is the address even if the NLU also saw a
    // product in it (上海 is close to 上海青).
    if step == OrderStep::Address
        && (u.address.is_some() || looks_like_address(raw))
        && u.intent != Intent::Order
    {
        let text = u.address.clone().unwrap_or_else(|| raw.trim().to_owned());
        out.run(Command::SaveAddress {
            text,
            location: None,
        });
        return true;
    }
    // Items, amounts and times belong to the cart unless the message is about something else
    // ("有草莓吗", "what do you recommend today", "取消订单").
    let about_cart = matches!(
        u.intent,
        Intent::Order
            | Intent::ModifyOrder
            | Intent::Affirm
            | Intent::Deny
            | Intent::OutOfScope
            | Intent::Thanks
    );
    if has_content && about_cart {
        absorb(state, u, ctx, out, is_additive(raw));
        advance(state, ctx, out);
        return true;
    }
    let yes = u.intent == Intent::Affirm;
    let no = u.intent == Intent::Deny;
    match step {
        OrderStep::Confirm if yes => {
            place(state, ctx, out);
            true
        }
        OrderStep::Confirm if no => {
            out.say(Reply::text(
                state
                    .lang
                    .pick("好的,这单先不下了。", "OK, I won't place it."),
            ));
            super::finish(state, ctx, out);
            true
        }
        OrderStep::Substitute if yes || no => {
            if let Some(d) = draft(state) {
                d.auto_substitute = Some(yes);
            }
            advance(state, ctx, out);
            true
        }
        OrderStep::StockIssue if yes || no => {
            let offer = stock_issue(state, ctx);
            match (offer, yes) {
                (Some((sku, Some(sub), _)), true) => swap(state, &sku, &sub),
                (Some((sku, None, avail)), true) if avail > 0 => {
                    set_quantity_milli(state, ctx, &sku, avail)
                }
                (Some((sku, sub, _)), _) => {
                    if let Some(s) = sub {
                        state.refused_substitutes.push(s);
                    }
                    drop_line(state, &sku)
                }
                (None, _) => {}
            }
            advance(state, ctx, out);
            true
        }
        OrderStep::Address if u.address.is_some() || looks_like_address(raw) => {
            let text = u.address.clone().unwrap_or_else(|| raw.trim().to_owned());
            out.run(Command::SaveAddress {
                text,
                location: None,
            });
            true
        }
        OrderStep::Items | OrderStep::Quantity if u.intent == Intent::Order => {
            advance(state, ctx, out);
            true
        }
        _ => false,
    }
}

/// Heuristic for a typed address when the flow asked for one.
pub(crate) fn looks_like_address(t: &str) -> bool {
    let t = t.trim();
    let cjk = [
        "路", "街", "号", "弄", "区", "室", "栋", "幢", "小区", "大厦", "公寓", "村",
    ];
    let en = [
        "road", "rd", "street", "st.", "lane", "avenue", "no.", "building", "apt",
    ];
    t.chars().count() >= 4
        && (cjk.iter().any(|w| t.contains(w)) || en.iter().any(|w| t.to_lowercase().contains(w)))
}

pub(super) fn on_button(
    state: &mut DialogState,
    p: &Payload,
    ctx: &Context,
    out: &mut Step,
) -> bool {
    let lang = state.lang;
    match p {
        Payload::Qty(sku, q) => set_quantity(state, ctx, sku, *q, out),
        Payload::Swap(a, b) => swap(state, a, b),
        Payload::Reduce(sku, milli) => set_quantity_milli(state, ctx, sku, *milli),
        Payload::Drop(sku) => {
            if let Some((_, Some(sub), _)) = stock_issue(state, ctx).filter(|(s, _, _)| s == sku) {
                state.refused_substitutes.push(sub);
            }
            drop_line(state, sku)
        }
        Payload::Add(sku) => add_mention(
            state,
            ctx,
            &ItemMention {
                sku: sku.clone(),
                quantity: None,
            },
            out,
        ),
        Payload::Slot(t) => {
            if let Some(d) = draft(state) {
                d.slot = Some(*t);
            }
        }
        Payload::Address(id) => {
            if let Some(d) = draft(state) {
                d.address = Some(*id);
                d.asking_address = false;
            }
        }
        Payload::NewAddress => {
            if let Some(d) = draft(state) {
                d.asking_address = true;
                d.address = None;
            }
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
    let _ = lang;
    advance(state, ctx, out);
    true
}

pub(super) fn on_location(state: &mut DialogState, loc: LatLon, _ctx: &Context, out: &mut Step) {
    out.run(Command::SaveAddress {
        text: String::new(),
        location: Some(loc),
    });
    if let Some(d) = draft(state) {
        d.asking_address = false;
    }
}

pub(super) fn on_outcome(state: &mut DialogState, o: Outcome, ctx: &Context, out: &mut Step) {
    let lang = state.lang;
    match o {
        Outcome::AddressSaved(Ok(a)) => {
            // A slot already chosen (or a time wish) is kept: `advance` checks it is free in the
            // new address's zone.
            if let Some(d) = draft(state) {
                d.address = a.id;
                d.asking_address = false;
            }
            out.say(Reply::text(match lang {
                Lang::Zh => format!("地址已保存:{}", a.text),
                Lang::En => format!("Address saved: {}", a.text),
            }));
            advance(state, ctx, out);
        }
        Outcome::AddressSaved(Err(f)) => {
            out.say(text::failure(&f, lang));
            if let Some(d) = draft(state) {
                d.asking_address = true;
                d.address = None;
            }
            advance(state, ctx, out);
        }
        Outcome::OrderPlaced(Ok(order)) => {
            let link = format!(
                "{}/track/{}",
                ctx.public_url.trim_end_matches('/'),
                order.tracking_token
            );
            out.say(Reply::with_buttons(
                match lang {
                    Lang::Zh => format!(
                        "下单成功🎉 订单号 {}\n送达时间:{}\n合计 {}(货到付款)\n随时说“订单到哪了”查看进度,或打开 {}",
                        order.number,
                        text::window(order.slot_start, order.slot_end, lang),
                        order.totals.total,
                        link
                    ),
                    Lang::En => format!(
                        "Order placed 🎉 Number {}\nDelivery: {}\nTotal {} (pay on delivery)\nAsk \"where's my order\" any time, or open {}",
                        order.number,
                        text::window(order.slot_start, order.slot_end, lang),
                        order.totals.total,
                        link
                    ),
                },
                vec![text::button(lang.pick("查看进度", "Track it"), Payload::Order(order.number.to_string()))],
            ));
            state.last_order = Some(order.number.to_string());
            out.run(Command::AssessRisk {
                number: order.number.to_string(),
            });
            super::finish(state, ctx, out);
        }
        Outcome::OrderPlaced(Err(f)) => {
            out.say(text::failure(&f, lang));
            if let Some(d) = draft(state) {
                match f {
                    Failure::SlotUnavailable(_) => d.slot = None,
                    Failure::Address(_) => d.address = None,
                    _ => {}
                }
                d.step = OrderStep::Items;
            }
            advance(state, ctx, out);
        }
        _ => {}
    }
}

/// Repeats the pending question (after a digression).
pub(super) fn prompt(state: &mut DialogState, ctx: &Context, out: &mut Step, resuming: bool) {
    if resuming {
        out.say(Reply::text(
            state
                .lang
                .pick("我们继续刚才的订单:", "Back to your order:"),
        ));
    }
    advance(state, ctx, out);
}

/// "再来一斤黄瓜", "one more box": adds to a line instead of replacing its quantity.
fn is_additive(raw: &str) -> bool {
    let t = raw.to_lowercase();
    [
        "再来", "再加", "再要", "多加", "多来", "加一", "another", "more", "extra",
    ]
    .iter()
    .any(|w| t.contains(w))
}

fn absorb(
    state: &mut DialogState,
    u: &Understanding,
    ctx: &Context,
    out: &mut Step,
    additive: bool,
) {
    // "缺了就别换" in any message of the order is her answer before it is asked.
    if let Some(allow) = u.substitution
        && let Some(d) = draft(state)
    {
        d.auto_substitute = Some(allow);
    }
    for m in &u.items {
        let existing = match &state.flow {
            Some(Flow::Order(d)) => d.cart.iter().find(|l| l.sku == m.sku).map(|l| l.quantity),
            _ => None,
        };
        match (additive, existing, m.quantity, ctx.product(&m.sku)) {
            (true, Some(have), Some(amount), Some(p)) => match amount
                .for_product(p)
                .and_then(|q| q.convert_to(have.unit()))
            {
                Ok(more) => match Quantity::new(have.milli() + more.milli(), have.unit()) {
                    Ok(sum) => {
                        state.last_item = Some(m.sku.clone());
                        set_quantity(state, ctx, &m.sku, sum, out);
                    }
                    Err(e) => out.say(Reply::text(e.to_string())),
                },
                Err(_) => add_mention(state, ctx, m, out),
            },
            _ => add_mention(state, ctx, m, out),
        }
    }
    if let Some(amount) = u.loose_quantity {
        // "三斤" answers the quantity question; "不对,是三斤" corrects the last item.
        let target = draft(state)
            .and_then(|d| d.needs_quantity.first().cloned())
            .or_else(|| state.last_item.clone().filter(|_| u.items.is_empty()));
        if let Some(sku) = target {
            set_amount(state, ctx, &sku, amount, out);
        }
    }
    if let Some(wish) = u.time
        && let Some(d) = draft(state)
    {
        // `advance` matches the wish to a free slot once the zone is known, and says so when
        // nothing fits it.
        d.slot_wish = Some(wish);
        d.slot = None;
    }
}

fn add_mention(state: &mut DialogState, ctx: &Context, m: &ItemMention, out: &mut Step) {
    state.last_item = Some(m.sku.clone());
    match m.quantity {
        Some(amount) => set_amount(state, ctx, &m.sku, amount, out),
        None => {
            if let Some(d) = draft(state)
                && !d.cart.iter().any(|l| l.sku == m.sku)
                && !d.needs_quantity.contains(&m.sku)
            {
                d.needs_quantity.push(m.sku.clone());
            }
        }
    }
}

fn set_amount(
    state: &mut DialogState,
    ctx: &Context,
    sku: &Sku,
    amount: super::super::Amount,
    out: &mut Step,
) {
    let Some(p) = ctx.product(sku) else { return };
    match amount.for_product(p) {
        Ok(q) => set_quantity(state, ctx, sku, q, out),
        Err(e) => {
            let lang = state.lang;
            out.say(Reply::text(match lang {
                Lang::Zh => format!("{}的数量不对:{e}", p.name_zh),
                Lang::En => format!("That amount of {} doesn't work: {e}", p.name_en),
            }));
        }
    }
}

/// Sets a cart line's quantity (in any convertible unit); explains a unit mismatch.
fn set_quantity(state: &mut DialogState, ctx: &Context, sku: &Sku, q: Quantity, out: &mut Step) {
    let lang = state.lang;
    let Some(p) = ctx.product(sku) else { return };
    match p.to_selling_quantity(q) {
        Ok(q) => {
            if let Some(d) = draft(state) {
                d.needs_quantity.retain(|s| s != sku);
                match d.cart.iter_mut().find(|l| &l.sku == sku) {
                    Some(l) => l.quantity = q,
                    None => d.cart.push(CartLine {
                        sku: sku.clone(),
                        quantity: q,
                    }),
                }
            }
        }
        Err(e) => {
            out.say(Reply::text(match lang {
                Lang::Zh => format!(
                    "{}是按{}卖的,{}不行哦。",
                    p.name_zh,
                    p.unit.label(lang),
                    q.display(lang)
                ),
                Lang::En => format!(
                    "{} is sold by the {}: {} doesn't work ({e}).",
                    p.name_en,
                    p.unit.label(lang),
                    q.display(lang)
                ),
            }));
            if let Some(d) = draft(state)
                && !d.needs_quantity.contains(sku)
                && !d.cart.iter().any(|l| &l.sku == sku)
            {
                d.needs_quantity.push(sku.clone());
            }
        }
    }
}

fn set_quantity_milli(state: &mut DialogState, ctx: &Context, sku: &Sku, milli: i64) {
    let Some(p) = ctx.product(sku) else { return };
    if let (Ok(q), Some(d)) = (Quantity::new(milli, p.unit), draft(state))
        && let Some(l) = d.cart.iter_mut().find(|l| &l.sku == sku)
    {
        l.quantity = q;
    }
}

fn swap(state: &mut DialogState, from: &Sku, to: &Sku) {
    if let Some(d) = draft(state)
        && let Some(l) = d.cart.iter_mut().find(|l| &l.sku == from)
    {
        l.sku = to.clone();
    }
    state.last_item = Some(to.clone());
}

fn drop_line(state: &mut DialogState, sku: &Sku) {
    if let Some(d) = draft(state) {
        d.cart.retain(|l| &l.sku != sku);
        d.needs_quantity.retain(|s| s != sku);
    }
}

/// The first cart line that stock cannot cover: `(sku, substitute, available milli)`.
fn stock_issue(state: &mut DialogState, ctx: &Context) -> Option<(Sku, Option<Sku>, i64)> {
    let prefs = state.substitute_prefs.clone();
    let refused = state.refused_substitutes.clone();
    let d = draft(state)?;
    d.cart.iter().find_map(|l| {
        let avail = ctx.available_milli(&l.sku);
        (avail < l.quantity.milli()).then(|| {
            let sub = ctx
                .substitute_for(&l.sku, &prefs, &refused, l.quantity.milli())
                .map(|p| p.sku.clone());
            (l.sku.clone(), sub, avail)
        })
    })
}

fn quantity_buttons(sku: &Sku, unit: Unit, lang: Lang) -> Vec<super::super::Button> {
    let amounts: &[&str] = match unit {
        Unit::Jin => &["0.5", "1", "2", "3"],
        Unit::Kg => &["0.5", "1", "2"],
        Unit::Liang => &["1", "2", "5"],
        Unit::G | Unit::Lb => &["1", "2"],
        Unit::Piece | Unit::Bunch | Unit::Box | Unit::Bag => &["1", "2", "3"],
    };
    amounts
        .iter()
        .filter_map(|a| Quantity::parse(a, unit).ok())
        .map(|q| text::button(&q.display(lang), Payload::Qty(sku.clone(), q)))
        .collect()
}

/// Asks for the next missing piece, or shows the summary.
fn advance(state: &mut DialogState, ctx: &Context, out: &mut Step) {
    let lang = state.lang;
    let prefs_known = !state.substitute_prefs.is_empty();
    // 1. Quantities.
    let needs = draft(state).and_then(|d| d.needs_quantity.first().cloned());
    if let Some(sku) = needs {
        if let Some(p) = ctx.product(&sku) {
            out.say(Reply::with_buttons(
                match lang {
                    Lang::Zh => format!("{}要多少?({})", p.name_zh, p.price_label(lang)),
                    Lang::En => format!("How much {}? ({})", p.name_en, p.price_label(lang)),
                },
                quantity_buttons(&sku, p.unit, lang),
            ));
            set_step(state, OrderStep::Quantity);
            return;
        }
        drop_line(state, &sku);
    }
    // 2. Something to order at all.
    let empty = draft(state).is_none_or(|d| d.cart.is_empty());
    if empty {
        let picks: Vec<_> = ctx
            .catalog
            .iter()
            .filter(|(p, s)| {
                s.available_milli() > 0
                    && matches!(p.category.as_str(), "leafy" | "fruit_veg" | "root_veg")
            })
            .take(4)
            .map(|(p, _)| text::button(p.name(lang), Payload::Add(p.sku.clone())))
            .collect();
        out.say(Reply::with_buttons(
            lang.pick(
                "想买点什么?直接告诉我菜名和数量就行,比如“两斤土豆”。",
                "What would you like? Tell me the item and amount, e.g. \"2 jin of potatoes\".",
            ),
            picks,
        ));
        set_step(state, OrderStep::Items);
        return;
    }
    // 3. Stock.
    if let Some((sku, sub, avail)) = stock_issue(state, ctx) {
        let name = |s: &Sku| {
            ctx.product(s)
                .map(|p| p.name(lang).to_owned())
                .unwrap_or_else(|| s.to_string())
        };
        let unit = ctx.product(&sku).map(|p| p.unit).unwrap_or(Unit::Piece);
        let mut buttons = Vec::new();
        if let Some(s) = &sub {
            buttons.push(text::button(
                &format!("{}{}", lang.pick("换成", "Swap for "), name(s)),
                Payload::Swap(sku.clone(), s.clone()),
            ));
        }
        let avail_q = Quantity::new(avail, unit).ok();
        if let Some(q) = avail_q {
            buttons.push(text::button(
                &format!("{}{}", lang.pick("只要", "Just "), q.display(lang)),
                Payload::Reduce(sku.clone(), avail),
            ));
        }
        buttons.push(text::button(
            lang.pick("不要这个了", "Drop it"),
            Payload::Drop(sku.clone()),
        ));
        let have = avail_q
            .map(|q| q.display(lang))
            .unwrap_or_else(|| lang.pick("0", "none").to_owned());
        out.say(Reply::with_buttons(
            match (lang, &sub) {
                (Lang::Zh, Some(s)) => format!(
                    "{}库存不够了(还剩{})。换成{}可以吗?",
                    name(&sku),
                    have,
                    name(s)
                ),
                (Lang::Zh, None) => format!("{}库存不够了(还剩{})。", name(&sku), have),
                (Lang::En, Some(s)) => format!(
                    "{} is short (only {} left). How about {} instead?",
                    name(&sku),
                    have,
                    name(s)
                ),
                (Lang::En, None) => format!("{} is short (only {} left).", name(&sku), have),
            },
            buttons,
        ));
        set_step(state, OrderStep::StockIssue);
        return;
    }
    // 4. Address: the saved default, or ask once.
    let (address, asking) = draft(state)
        .map(|d| (d.address, d.asking_address))
        .unwrap_or((None, false));
    if address.is_none()
        && !asking
        && let Some(a) = ctx.addresses.first().and_then(|a| a.id)
        && let Some(d) = draft(state)
    {
        d.address = Some(a);
    }
    let address = draft(state).and_then(|d| d.address);
    let Some(address) = address.and_then(|id| ctx.address(id)) else {
        let mut buttons: Vec<_> = ctx
            .addresses
            .iter()
            .take(3)
            .filter_map(|a| a.id.map(|id| text::button(&a.text, Payload::Address(id))))
            .collect();
        buttons.truncate(3);
        out.say(Reply::with_buttons(
            lang.pick(
                "送到哪里?请发详细地址(例如“黄浦区南京东路100号3楼”),或者直接分享位置。",
                "Where should we deliver? Send the full address (e.g. \"100 Nanjing East Rd, Huangpu\") or share your location.",
            ),
            buttons,
        ));
        if let Some(d) = draft(state) {
            d.asking_address = true;
        }
        set_step(state, OrderStep::Address);
        return;
    };
    let zone = address.zone.clone();
    let address_text = address.text.clone();
    // 5. Slot: keep a chosen slot only while it is still free; a time hint picks the first
    // free window starting at or after it.
    let free = ctx.slots_for(&zone);
    let (chosen, wish) = draft(state).map_or((None, None), |d| (d.slot, d.slot_wish));
    let slot = chosen
        .and_then(|t| free.iter().find(|s| s.start == t))
        .or_else(|| wish.and_then(|(from, to)| crate::domain::slot_for_wish(free, from, to)));
    let Some(slot) = slot.cloned() else {
        if let Some(d) = draft(state) {
            d.slot = None;
            d.slot_wish = None;
        }
        if free.is_empty() {
            out.say(Reply::with_buttons(
                lang.pick("抱歉,最近几天的配送时段都约满了。要转人工帮您看看吗?", "Sorry, every delivery slot of the coming days is full. Shall I get a person to help?"),
                vec![text::button(lang.pick("转人工", "Talk to a person"), Payload::Human)],
            ));
            return;
        }
        let (question, offered): (String, Vec<&crate::domain::FreeSlot>) = match wish {
            // Never move a wish silently: say it is taken and offer what is nearest to it.
            Some((from, to)) => (
                match lang {
                    Lang::Zh => format!("{} 没有可约的配送时段了(已约满或已截单)。离得最近的时段:", text::window(from, to, lang)),
                    Lang::En => format!("There's no free delivery slot {} (full or closed). The nearest ones:", text::window(from, to, lang)),
                },
                crate::domain::slots_near(free, from, 6),
            ),
            None => (
                lang.pick(
                    "什么时候送?选一个时段,或者直接说哪天几点(比如“周六上午”):",
                    "When should we deliver? Pick a slot, or type a day and time (e.g. \"Saturday morning\"):",
                )
                .to_owned(),
                free.iter().take(6).collect(),
            ),
        };
        out.say(Reply::with_buttons(
            question,
            offered
                .into_iter()
                .map(|s| text::button(&text::window(s.start, s.end, lang), Payload::Slot(s.start)))
                .collect(),
        ));
        set_step(state, OrderStep::Slot);
        return;
    };
    if let Some(d) = draft(state) {
        d.slot = Some(slot.start);
    }
    // 6. Substitution consent, asked at order time.
    let consent = draft(state).and_then(|d| d.auto_substitute);
    if consent.is_none() && !prefs_known {
        out.say(Reply::with_buttons(
            lang.pick(
                "如果有商品临时缺货,要自动换成相似商品吗?(同类、价格接近,差价多退少补)",
                "If something runs out before picking, shall we replace it with a similar item (same kind, similar price)?",
            ),
            text::yes_no(lang, lang.pick("缺货自动替换", "Yes, substitute"), lang.pick("不替换", "No substitutes")),
        ));
        set_step(state, OrderStep::Substitute);
        return;
    }
    // 7. Summary.
    let Some(d) = draft(state) else { return };
    let lines: Vec<(crate::domain::Product, Quantity)> = d
        .cart
        .iter()
        .filter_map(|l| ctx.product(&l.sku).map(|p| (p.clone(), l.quantity)))
        .collect();
    let goods: Fen = lines.iter().map(|(p, q)| q.price(p.price)).sum();
    let auto = d.auto_substitute.unwrap_or(true);
    match ctx.rules.delivery.totals(goods) {
        Err(crate::domain::PricingError::BelowMinimum { min, missing, .. }) => {
            out.say(Reply::text(match lang {
                Lang::Zh => format!("现在是 {goods},起送金额 {min},还差 {missing}。再加点什么?"),
                Lang::En => format!("That's {goods}; the minimum order is {min}, {missing} to go. What else would you like?"),
            }));
            set_step(state, OrderStep::Items);
        }
        Ok(t) => {
            let missing = ctx.rules.delivery.missing_for_free_delivery(goods);
            let items = lines
                .iter()
                .map(|(p, q)| format!("· {}", text::line(p, *q, lang)))
                .collect::<Vec<_>>()
                .join("\n");
            let sub = match (lang, auto) {
                (Lang::Zh, true) => "缺货时自动替换相似商品",
                (Lang::Zh, false) => "缺货时不替换",
                (Lang::En, true) => "similar items replace any that run out",
                (Lang::En, false) => "no substitutes",
            };
            out.say(Reply::with_buttons(
                match lang {
                    Lang::Zh => format!(
                        "请确认订单:\n{items}\n{}\n配送:{}\n地址:{address_text}\n{sub};货到付款。确认下单吗?",
                        text::totals(&t, missing, lang),
                        text::window(slot.start, slot.end, lang)
                    ),
                    Lang::En => format!(
                        "Please confirm:\n{items}\n{}\nDelivery: {}\nAddress: {address_text}\nIf short: {sub}; pay on delivery. Place the order?",
                        text::totals(&t, missing, lang),
                        text::window(slot.start, slot.end, lang)
                    ),
                },
                vec![
                    text::button(lang.pick("确认下单", "Place order"), Payload::Yes),
                    text::button(lang.pick("先不下了", "Not now"), Payload::No),
                ],
            ));
            set_step(state, OrderStep::Confirm);
        }
    }
}

fn set_step(state: &mut DialogState, step: OrderStep) {
    if let Some(d) = draft(state) {
        d.step = step;
    }
}

fn place(state: &mut DialogState, ctx: &Context, out: &mut Step) {
    let Some(d) = draft(state) else { return };
    match (d.address, d.slot) {
        (Some(address), Some(slot_start)) if !d.cart.is_empty() => {
            out.run(Command::PlaceOrder {
                lines: d.cart.iter().map(|l| (l.sku.clone(), l.quantity)).collect(),
                slot_start,
                address,
                auto_substitute: d.auto_substitute.unwrap_or(true),
            });
        }
        _ => advance(state, ctx, out),
    }
}
