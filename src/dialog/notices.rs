//! What a customer is told, unasked, when something happens to their order: the messages the
//! outbox dispatcher pushes. Pure: an event, the order as it is now and the customer's language
//! in, replies out.
//!
//! Events the customer caused in this very chat (placing, changing, rescheduling, cancelling
//! it themselves) were already answered by the conversation turn, so they produce nothing
//! here: the same news twice reads like a glitch.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::text::{button, clock, progress, window};
use super::{Intent, Payload, Reply};
use crate::domain::events::kinds;
use crate::domain::{CancelReason, Fen, Lang, Order, OrderStatus};

/// The messages for one event, or none when the customer need not hear about it.
pub fn notice(
    kind: &str,
    payload: &Value,
    order: Option<&Order>,
    lang: Lang,
    public_url: &str,
) -> Vec<Reply> {
    let Some(order) = order else {
        return vec![];
    };
    let number = order.number.to_string();
    let track = |lang: Lang| {
        format!(
            "{}{}/track/{}",
            lang.pick("实时跟踪: ", "Live tracking: "),
            public_url.trim_end_matches('/'),
            order.tracking_token
        )
    };
    match kind {
        kinds::STATUS_CHANGED => {
            let Some(status) = payload
                .get("status")
                .and_then(Value::as_str)
                .and_then(|s| s.parse::<OrderStatus>().ok())
            else {
                return vec![];
            };
            status_notice(status, order, payload, lang, &number, &track(lang))
        }
        kinds::DELAYED => {
            let Some(eta) = time_field(payload, "eta") else {
                return vec![];
            };
            vec![Reply::with_buttons(
                match lang {
                    Lang::Zh => format!(
                        "⏰ 抱歉,订单 {number} 会晚一点到,新的预计送达时间 {}。\n{}",
                        clock(eta),
                        track(lang)
                    ),
                    Lang::En => format!(
                        "⏰ Sorry, order {number} is running late: new estimated arrival {}.\n{}",
                        clock(eta),
                        track(lang)
                    ),
                },
                vec![
                    button(
                        lang.pick("改时间", "Reschedule"),
                        Payload::Start(Intent::Reschedule),
                    ),
                    button(lang.pick("人工客服", "Talk to a person"), Payload::Human),
                ],
            )]
        }
        kinds::CANCELLED => {
            // The customer's own cancel was confirmed in the chat.
            let by = payload
                .get("by")
                .and_then(Value::as_str)
                .unwrap_or("customer");
            if by == "customer" {
                return vec![];
            }
            let fee = payload
                .get("fee_fen")
                .and_then(Value::as_i64)
                .map(Fen::new)
                .unwrap_or(Fen::ZERO);
            let reason = payload
                .get("reason")
                .and_then(Value::as_str)
                .and_then(|r| r.parse::<CancelReason>().ok())
                .map(|r| r.label(lang).to_owned());
            let fee_text = if fee == Fen::ZERO {
                lang.pick("不收取任何费用", "no fee is charged").to_owned()
            } else {
                match lang {
                    Lang::Zh => format!("取消费 {fee}"),
                    Lang::En => format!("a cancellation fee of {fee} applies"),
                }
            };
            let text = match (lang, reason) {
                (Lang::Zh, Some(r)) => format!("订单 {number} 已取消(原因:{r}),{fee_text}。"),
                (Lang::Zh, None) => format!("订单 {number} 已取消,{fee_text}。"),
                (Lang::En, Some(r)) => {
                    format!("Order {number} has been cancelled (reason: {r}); {fee_text}.")
                }
                (Lang::En, None) => format!("Order {number} has been cancelled; {fee_text}."),
            };
            vec![Reply::with_buttons(
                text,
                vec![
                    button(
                        lang.pick("重新下单", "Order again"),
                        Payload::Start(Intent::Order),
                    ),
                    button(lang.pick("人工客服", "Talk to a person"), Payload::Human),
                ],
            )]
        }
        kinds::SUBSTITUTE_NEEDED => substitute_notice(payload, order, lang, &number),
        _ => vec![],
    }
}

fn status_notice(
    status: OrderStatus,
    order: &Order,
    payload: &Value,
    lang: Lang,
    number: &str,
    track: &str,
) -> Vec<Reply> {
    let bar = progress(status, lang);
    let text = match (status, lang) {
        (OrderStatus::Picking, Lang::Zh) => {
            format!("🧺 订单 {number} 开始分拣啦,正在为您挑选新鲜的菜。\n{bar}")
        }
        (OrderStatus::Picking, Lang::En) => {
            format!(
                "🧺 We've started picking order {number} - choosing the freshest for you.\n{bar}"
            )
        }
        (OrderStatus::OutForDelivery, _) => {
            let eta = time_field(payload, "eta");
            match (lang, eta) {
                (Lang::Zh, Some(eta)) => {
                    format!(
                        "🚚 订单 {number} 已出发,预计 {} 送达。\n{bar}\n{track}",
                        clock(eta)
                    )
                }
                (Lang::Zh, None) => format!(
                    "🚚 订单 {number} 已出发,将在 {} 送达。\n{bar}\n{track}",
                    window(order.slot_start, order.slot_end, lang)
                ),
                (Lang::En, Some(eta)) => format!(
                    "🚚 Order {number} is on its way, arriving around {}.\n{bar}\n{track}",
                    clock(eta)
                ),
                (Lang::En, None) => format!(
                    "🚚 Order {number} is on its way, arriving {}.\n{bar}\n{track}",
                    window(order.slot_start, order.slot_end, lang)
                ),
            }
        }
        (OrderStatus::Delivered, Lang::Zh) => {
            format!("✅ 订单 {number} 已送达,祝您用餐愉快!\n{bar}")
        }
        (OrderStatus::Delivered, Lang::En) => {
            format!("✅ Order {number} has been delivered. Enjoy!\n{bar}")
        }
        (OrderStatus::FailedDelivery, Lang::Zh) => {
            format!("😟 订单 {number} 这次没能送到(骑手联系不上您)。我们可以改个时间再送。")
        }
        (OrderStatus::FailedDelivery, Lang::En) => format!(
            "😟 We couldn't deliver order {number} (the courier couldn't reach you). We can bring it at another time."
        ),
        // Confirmed and packed are steps the customer does not need a message for.
        _ => return vec![],
    };
    let buttons = match status {
        OrderStatus::Delivered => vec![button(
            lang.pick("有问题反馈", "Report a problem"),
            Payload::Start(Intent::Complaint),
        )],
        OrderStatus::FailedDelivery => vec![
            button(
                lang.pick("改时间", "Reschedule"),
                Payload::Start(Intent::Reschedule),
            ),
            button(lang.pick("人工客服", "Talk to a person"), Payload::Human),
        ],
        _ => vec![],
    };
    vec![Reply::with_buttons(text, buttons)]
}

/// A line went short at picking: say what is missing and what it costs (nothing), and offer
/// the ways out: the suggested replacement (yes / no, also answerable in words), cancelling,
/// a person. With the customer's consent from ordering time the replacement was already added.
fn substitute_notice(payload: &Value, order: &Order, lang: Lang, number: &str) -> Vec<Reply> {
    let name = payload
        .get(lang.pick("name_zh", "name_en"))
        .and_then(Value::as_str)
        .unwrap_or("?");
    let picked = payload
        .get("picked_milli")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let sub_name = payload
        .get(lang.pick("substitute_name_zh", "substitute_name_en"))
        .and_then(Value::as_str);
    let offer = payload.get("offer").and_then(Value::as_i64);
    let applied = payload
        .get("applied")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let short = match (lang, picked > 0) {
        (Lang::Zh, true) => format!("抱歉,订单 {number} 的{name}库存不够,只能送部分,差价不收。"),
        (Lang::Zh, false) => format!("抱歉,订单 {number} 的{name}缺货了,这件不收钱。"),
        (Lang::En, true) => format!(
            "Sorry, we're short of {name} for order {number}: you'll get part of it and pay only for that."
        ),
        (Lang::En, false) => format!(
            "Sorry, {name} for order {number} is out of stock: you won't be charged for it."
        ),
    };
    let open = order.status == OrderStatus::Picking || order.status == OrderStatus::Confirmed;
    let mut buttons = vec![];
    let text = match (sub_name, offer, applied) {
        (Some(sub), Some(_), true) => match lang {
            Lang::Zh => format!("{short}\n按您下单时的设置,已为您换成同类的{sub}。"),
            Lang::En => format!(
                "{short}\nAs you agreed when ordering, we've replaced it with a similar item: {sub}."
            ),
        },
        (Some(sub), Some(offer), false) if order.status == OrderStatus::Picking => {
            let price = payload
                .get("substitute_price_fen")
                .and_then(Value::as_i64)
                .map(Fen::new);
            buttons.push(button(
                &match lang {
                    Lang::Zh => format!("换成{sub}"),
                    Lang::En => format!("Yes, {sub}"),
                },
                Payload::Substitution {
                    offer,
                    accept: true,
                },
            ));
            buttons.push(button(
                lang.pick("不用换", "No, thanks"),
                Payload::Substitution {
                    offer,
                    accept: false,
                },
            ));
            let price = price
                .map(|p| match lang {
                    Lang::Zh => format!("(单价 {p})"),
                    Lang::En => format!(" ({p} per unit)"),
                })
                .unwrap_or_default();
            let until = time_field(payload, "expires_at")
                .map(|t| match lang {
                    Lang::Zh => format!(",{} 前没回复就按不换处理", clock(t)),
                    Lang::En => format!("; with no answer by {} we go without it", clock(t)),
                })
                .unwrap_or_default();
            match lang {
                Lang::Zh => {
                    format!("{short}\n要换成同类的{sub}{price}吗?回复“好的”或“不用”也可以{until}。")
                }
                Lang::En => format!(
                    "{short}\nShall we replace it with {sub}{price}? Reply \"yes\" or \"no\"{until}."
                ),
            }
        }
        _ => short,
    };
    // Cancelling is still possible while picking (with the policy's fee, stated before
    // confirming); the cancel flow asks for the reason and offers its fix first.
    if open && buttons.is_empty() {
        buttons.push(button(
            lang.pick("取消订单", "Cancel the order"),
            Payload::Start(Intent::Cancel),
        ));
    }
    buttons.push(button(
        lang.pick("人工客服", "Talk to a person"),
        Payload::Human,
    ));
    vec![Reply::with_buttons(text, buttons)]
}

fn time_field(payload: &Value, key: &str) -> Option<DateTime<Utc>> {
    payload
        .get(key)
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}
