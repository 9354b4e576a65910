//! Reply texts that several flows share, in zh-CN and en.

use chrono::{DateTime, Utc};

use super::{Button, Failure, Intent, Payload, Reply};
use crate::domain::order::{PROGRESS_STEPS_EN, PROGRESS_STEPS_ZH};
use crate::domain::{Fen, Lang, Order, OrderStatus, Product, Quantity, TZ, Totals};

/// "11月25日 10:00-12:00" / "Wed Nov 25 10:00-12:00".
pub fn window(start: DateTime<Utc>, end: DateTime<Utc>, lang: Lang) -> String {
    let (s, e) = (start.with_timezone(&TZ), end.with_timezone(&TZ));
    match lang {
        Lang::Zh => {
            const WEEKDAYS: [&str; 7] = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];
            let wd = WEEKDAYS[chrono::Datelike::weekday(&s).num_days_from_monday() as usize];
            format!(
                "{}({}) {}-{}",
                s.format("%-m月%-d日"),
                wd,
                s.format("%H:%M"),
                e.format("%H:%M")
            )
        }
        Lang::En => format!(
            "{} {}-{}",
            s.format("%a %b %-d"),
            s.format("%H:%M"),
            e.format("%H:%M")
        ),
    }
}

/// "HH:MM" local.
pub fn clock(t: DateTime<Utc>) -> String {
    t.with_timezone(&TZ).format("%H:%M").to_string()
}

/// "西红柿 2斤 ¥9.00" / "tomato 2 jin (500 g) ¥9.00".
pub fn line(p: &Product, q: Quantity, lang: Lang) -> String {
    format!("{} {} {}", p.name(lang), q.display(lang), q.price(p.price))
}

/// The customer-facing progress bar: "✅已接单 → 🔵分拣中 → ⚪已发货 → ⚪配送中 → ⚪已送达".
pub fn progress(status: OrderStatus, lang: Lang) -> String {
    let steps: [&str; 5] = match lang {
        Lang::Zh => PROGRESS_STEPS_ZH,
        Lang::En => PROGRESS_STEPS_EN,
    };
    match status.progress_step() {
        None => status.label(lang).to_owned(),
        Some(at) => steps
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let mark = if i < at || (i == at && status == OrderStatus::Delivered) {
                    "✅"
                } else if i == at {
                    "🔵"
                } else {
                    "⚪"
                };
                format!("{mark}{s}")
            })
            .collect::<Vec<_>>()
            .join(" → "),
    }
}

/// The totals block of a summary.
pub fn totals(t: &Totals, free_delivery_missing: Option<Fen>, lang: Lang) -> String {
    let mut s = match lang {
        Lang::Zh => format!(
            "商品 {} + 配送费 {} = 合计 {}",
            t.goods, t.delivery_fee, t.total
        ),
        Lang::En => format!(
            "Goods {} + delivery {} = total {}",
            t.goods, t.delivery_fee, t.total
        ),
    };
    if let Some(m) = free_delivery_missing {
        s.push_str(&match lang {
            Lang::Zh => format!("(再买 {m} 免配送费)"),
            Lang::En => format!(" (add {m} more for free delivery)"),
        });
    }
    s
}

/// A short description of an order: number, status, window, items.
pub fn order_brief(o: &Order, lang: Lang) -> String {
    let items = o
        .lines
        .iter()
        .map(|l| {
            let name = lang.pick(&l.name_zh, &l.name_en);
            format!(
                "{name}{}{}",
                if lang == Lang::En { " " } else { "" },
                l.quantity.display(lang)
            )
        })
        .collect::<Vec<_>>()
        .join(lang.pick("、", ", "));
    match lang {
        Lang::Zh => format!(
            "订单 {}({}){}:{}",
            o.number,
            o.status.label(lang),
            window(o.slot_start, o.slot_end, lang),
            items
        ),
        Lang::En => format!(
            "Order {} ({}), {}: {}",
            o.number,
            o.status.label(lang),
            window(o.slot_start, o.slot_end, lang),
            items
        ),
    }
}

pub fn button(label: &str, p: Payload) -> Button {
    Button {
        label: label.to_owned(),
        payload: p.encode(),
    }
}

pub fn yes_no(lang: Lang, yes: &str, no: &str) -> Vec<Button> {
    let _ = lang;
    vec![button(yes, Payload::Yes), button(no, Payload::No)]
}

/// The main menu, shown on greetings and after fallbacks.
pub fn menu(lang: Lang) -> Vec<Button> {
    [
        (Intent::Order, "买菜", "Order"),
        (Intent::Track, "查订单", "Track my order"),
        (Intent::Reschedule, "改时间", "Reschedule"),
        (Intent::Cancel, "取消订单", "Cancel an order"),
        (Intent::FaqDeliveryFee, "配送费", "Delivery fee"),
    ]
    .into_iter()
    .map(|(i, zh, en)| button(lang.pick(zh, en), Payload::Start(i)))
    .chain(std::iter::once(button(
        lang.pick("人工客服", "Talk to a person"),
        Payload::Human,
    )))
    .collect()
}

/// A failed command explained.
pub fn failure(f: &Failure, lang: Lang) -> Reply {
    Reply::text(match (f, lang) {
        (Failure::OutOfStock { sku, available }, Lang::Zh) => {
            format!("抱歉,{sku} 库存不够了,现在只剩 {available}。")
        }
        (Failure::OutOfStock { sku, available }, Lang::En) => {
            format!("Sorry, {sku} just ran short: only {available} left.")
        }
        (Failure::SlotUnavailable(why), Lang::Zh) => {
            format!("这个时段订不了了({why}),请换一个时段。")
        }
        (Failure::SlotUnavailable(why), Lang::En) => {
            format!("That slot can't be booked ({why}); please pick another.")
        }
        (Failure::BelowMinimum { missing }, Lang::Zh) => {
            format!("还差 {missing} 才到起送金额,再加点什么吧?")
        }
        (Failure::BelowMinimum { missing }, Lang::En) => {
            format!("That's {missing} short of the minimum order; add something?")
        }
        (Failure::TooLate { status }, Lang::Zh) => {
            format!("订单已经{},不能再这样修改了。", status.label(lang))
        }
        (Failure::TooLate { status }, Lang::En) => format!(
            "The order is already {}; it can't be changed that way now.",
            status.label(lang)
        ),
        (Failure::CancelRefused(why), Lang::Zh) => format!("这个订单不能取消了:{why}"),
        (Failure::CancelRefused(why), Lang::En) => format!("This order can't be cancelled: {why}"),
        (Failure::Address(why), Lang::Zh) => format!("这个地址我们送不到或找不到:{why}"),
        (Failure::Address(why), Lang::En) => format!("We can't deliver to that address: {why}"),
        (Failure::OutOfRange { km, limit_km }, Lang::Zh) => {
            format!(
                "抱歉,这个地址距离我们的仓库 {km:.1} 公里,超出了 {limit_km:.0} 公里的配送范围。请换一个地址。"
            )
        }
        (Failure::OutOfRange { km, limit_km }, Lang::En) => {
            format!(
                "Sorry, that address is {km:.1} km from our depot, beyond our {limit_km:.0} km delivery range. Please use another address."
            )
        }
        (Failure::UnknownOrder, Lang::Zh) => "没有找到这个订单。".to_owned(),
        (Failure::UnknownOrder, Lang::En) => "I couldn't find that order.".to_owned(),
        (Failure::OfferClosed, Lang::Zh) => {
            "这个替换建议已经处理过或过期了,订单按现在的内容配送。".to_owned()
        }
        (Failure::OfferClosed, Lang::En) => {
            "That substitution offer was already settled or has expired; the order goes as it is now."
                .to_owned()
        }
        (Failure::Other(_), Lang::Zh) => {
            "抱歉,系统出了点问题,请稍后再试,或者转人工客服。".to_owned()
        }
        (Failure::Other(_), Lang::En) => {
            "Sorry, something went wrong on our side; please try again or ask for a person."
                .to_owned()
        }
    })
}
