//! What a courier reads: the route as chat messages (a header, then one message per stop with
//! its buttons) and the stop message after a tap. Pure: an event payload in, replies out.
//!
//! Couriers are staff of a Shanghai business: their messages are in Chinese.

use chrono::{DateTime, Utc};

use super::text::clock;
use super::{Button, Reply};
use crate::domain::events::{RouteMessage, StopAction, StopLine, kinds};

/// The short code of an action in a stop button's payload.
fn action_code(action: StopAction) -> &'static str {
    match action {
        StopAction::Arrived => "a",
        StopAction::Delivered => "d",
        StopAction::NotReachable => "f",
    }
}

fn action_label(action: StopAction) -> &'static str {
    match action {
        StopAction::Arrived => "📍 已到达",
        StopAction::Delivered => "✅ 已送达",
        StopAction::NotReachable => "❌ 联系不上",
    }
}

/// Button payloads of courier stops: `cs:<a|d|f>:<stop id>` (short: Telegram allows 64 bytes,
/// and the prefix never collides with customer payloads).
pub fn stop_payload(action: StopAction, stop: i64) -> String {
    format!("cs:{}:{stop}", action_code(action))
}

/// The action and stop id of a courier button payload.
pub fn parse_stop_payload(data: &str) -> Option<(StopAction, i64)> {
    let rest = data.strip_prefix("cs:")?;
    let (code, id) = rest.split_once(':')?;
    let action = match code {
        "a" => StopAction::Arrived,
        "d" => StopAction::Delivered,
        "f" => StopAction::NotReachable,
        _ => return None,
    };
    let id: i64 = id.parse().ok().filter(|&i| i > 0)?;
    Some((action, id))
}

/// The messages of a courier event; nothing for unknown kinds or unreadable payloads.
pub fn courier_messages(kind: &str, payload: &serde_json::Value) -> Vec<Reply> {
    let replanned = match kind {
        kinds::ROUTE => false,
        kinds::REPLANNED => true,
        _ => return vec![],
    };
    let Ok(route) = serde_json::from_value::<RouteMessage>(payload.clone()) else {
        return vec![];
    };
    let bags: i32 = route.stops.iter().map(|s| s.bags).sum();
    let header = if replanned {
        format!(
            "🔄 {},剩余 {} 站已重新排序,请按新顺序配送:",
            route.courier_name,
            route.stops.len()
        )
    } else {
        format!(
            "🛵 {},新的配送路线(送达时间 {}-{}):共 {} 站,{} 袋。\n到达、送达或联系不上时请点每站下面的按钮;开启「实时位置」共享,客户会看到准确的到达时间。",
            route.courier_name,
            clock(route.slot_start),
            clock(route.slot_end),
            route.stops.len(),
            bags
        )
    };
    std::iter::once(Reply::text(header))
        .chain(route.stops.iter().map(|s| Reply {
            text: stop_text(s),
            buttons: buttons(
                s.stop_id,
                &[
                    StopAction::Arrived,
                    StopAction::Delivered,
                    StopAction::NotReachable,
                ],
            ),
        }))
        .collect()
}

/// The text of one stop message.
pub fn stop_text(s: &StopLine) -> String {
    let mut t = format!(
        "{} 订单 {} · {} 袋\n📍 {}\n🕘 {}-{} · 预计 {}",
        number_badge(s.seq),
        s.order_number,
        s.bags,
        s.address,
        clock(s.window_start),
        clock(s.window_end),
        clock(s.eta)
    );
    if let Some(p) = &s.phone {
        t.push_str(&format!("\n📞 {p}"));
    }
    if let Some(m) = &s.map_url {
        t.push_str(&format!("\n🗺 {m}"));
    }
    t
}

/// The stop message after a tap: the original text with what happened, and the buttons still
/// useful (after "arrived": delivered or not reachable; after those: none).
pub fn after_tap(
    original: &str,
    stop: i64,
    action: StopAction,
    at: DateTime<Utc>,
) -> (String, Vec<Button>) {
    // A second tap (arrived, then delivered) replaces the earlier mark.
    let base = original
        .split("\n\n— ")
        .next()
        .unwrap_or(original)
        .trim_end();
    let text = format!("{base}\n\n— {} {}", action_label(action), clock(at));
    let rest = match action {
        StopAction::Arrived => buttons(stop, &[StopAction::Delivered, StopAction::NotReachable]),
        _ => vec![],
    };
    (text, rest)
}

/// Short answers to a courier.
pub mod says {
    pub const NOT_YOUR_STOP: &str = "⚠️ 这一站不在您的路线上。";
    pub const TRY_AGAIN: &str = "⚠️ 系统开小差了,请稍后再点一次。";
    pub const ROUTE_DONE: &str = "🎉 本趟路线全部完成,辛苦了!";
    pub const LIVE_LOCATION: &str = "📍 已收到实时位置,客户会看到更准确的到达时间。";
    pub const ONE_LOCATION: &str =
        "📍 位置已更新。开启「共享实时位置」后,客户的到达时间会自动更新。";
    pub const RECORDED: &str = "✓ 已记录";
}

/// A tap on a stop that is already finished (or whose order was cancelled meanwhile).
pub fn stop_closed(status: &str) -> String {
    let what = match status {
        "arrived" => "已到达",
        "delivered" => "已送达",
        "failed" | "failed_delivery" => "已标记为未送达",
        "cancelled" => "订单已取消",
        _ => "已处理",
    };
    format!("⚠️ 这一站{what},无需再点。")
}

/// What a courier who writes to the bot is told.
pub fn help(name: &str) -> String {
    format!(
        "{name}您好,这里是配送助手:\n• 每站下面的按钮:已到达 / 已送达 / 联系不上\n• 点📎 → 位置 → 共享实时位置,客户会看到准确的到达时间\n有问题请联系调度。"
    )
}

fn buttons(stop: i64, actions: &[StopAction]) -> Vec<Button> {
    actions
        .iter()
        .map(|&a| Button {
            label: action_label(a).to_owned(),
            payload: stop_payload(a, stop),
        })
        .collect()
}

/// ①..⑳ for short routes, `#21` after.
fn number_badge(seq: i32) -> String {
    match u32::try_from(seq) {
        Ok(n @ 1..=20) => char::from_u32(0x2460 + n - 1)
            .map(String::from)
            .unwrap_or_else(|| format!("#{seq}")),
        _ => format!("#{seq}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{map_link, mask_phone};

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn route() -> RouteMessage {
        RouteMessage {
            route_id: 7,
            courier_name: "王师傅".into(),
            slot_start: t("2026-11-25T02:00:00Z"),
            slot_end: t("2026-11-25T04:00:00Z"),
            stops: vec![
                StopLine {
                    stop_id: 11,
                    seq: 1,
                    order_number: "2611250001".into(),
                    address: "上海市黄浦区南京东路300号".into(),
                    window_start: t("2026-11-25T02:00:00Z"),
                    window_end: t("2026-11-25T04:00:00Z"),
                    eta: t("2026-11-25T02:17:00Z"),
                    bags: 2,
                    phone: Some(mask_phone("13812341234")),
                    map_url: Some(map_link(
                        "https://uri.amap.com/marker?position={lon},{lat}",
                        31.2352,
                        121.48,
                    )),
                },
                StopLine {
                    stop_id: 12,
                    seq: 2,
                    order_number: "2611250002".into(),
                    address: "上海市静安区南京西路1000号".into(),
                    window_start: t("2026-11-25T02:00:00Z"),
                    window_end: t("2026-11-25T04:00:00Z"),
                    eta: t("2026-11-25T02:40:00Z"),
                    bags: 1,
                    phone: None,
                    map_url: None,
                },
            ],
        }
    }

    #[test]
    fn payloads_round_trip_and_reject_junk() {
        for a in [
            StopAction::Arrived,
            StopAction::Delivered,
            StopAction::NotReachable,
        ] {
            let p = stop_payload(a, 42);
            assert!(p.len() <= 64);
            assert_eq!(parse_stop_payload(&p), Some((a, 42)));
        }
        for junk in [
            "cs:x:1", "cs:a:", "cs:a:-3", "cs:a:0", "slot:1", "cs:d:1x", "",
        ] {
            assert_eq!(parse_stop_payload(junk), None, "{junk}");
        }
    }

    #[test]
    fn a_route_renders_as_a_header_and_one_message_per_stop() {
        let payload = serde_json::to_value(route()).unwrap();
        let msgs = courier_messages(kinds::ROUTE, &payload);
        assert_eq!(msgs.len(), 3);
        assert!(msgs[0].text.contains("共 2 站,3 袋"), "{}", msgs[0].text);
        assert!(msgs[0].text.contains("10:00-12:00"));
        let first = &msgs[1];
        assert!(first.text.starts_with("① 订单 2611250001 · 2 袋"));
        assert!(first.text.contains("南京东路300号"));
        assert!(first.text.contains("10:00-12:00 · 预计 10:17"));
        assert!(first.text.contains("138****1234"));
        assert!(!first.text.contains("13812341234"));
        assert!(
            first
                .text
                .contains("https://uri.amap.com/marker?position=121.480000,31.235200")
        );
        let payloads: Vec<&str> = first.buttons.iter().map(|b| b.payload.as_str()).collect();
        assert_eq!(payloads, ["cs:a:11", "cs:d:11", "cs:f:11"]);
        assert!(msgs[2].text.starts_with("② "));
        assert!(!msgs[2].text.contains("📞"));

        let re = courier_messages(kinds::REPLANNED, &payload);
        assert!(re[0].text.contains("重新排序"));
        assert!(courier_messages("order_delayed", &payload).is_empty());
        assert!(courier_messages(kinds::ROUTE, &serde_json::json!({"x": 1})).is_empty());
    }

    #[test]
    fn a_tap_marks_the_stop_and_keeps_only_useful_buttons() {
        let at = t("2026-11-25T02:20:00Z");
        let (text, rest) = after_tap("① 订单 1", 11, StopAction::Arrived, at);
        assert_eq!(text, "① 订单 1\n\n— 📍 已到达 10:20");
        assert_eq!(rest.len(), 2);
        let (text, rest) = after_tap(&text, 11, StopAction::Delivered, at);
        assert_eq!(text, "① 订单 1\n\n— ✅ 已送达 10:20");
        assert!(rest.is_empty());
        assert_eq!(number_badge(21), "#21");
        assert_eq!(number_badge(3), "③");
    }
}
