//! How the simulated customer reads the bot: from the last replies (their buttons first, then
//! their words) she decides what she is being asked, as a person glancing at her phone would.
//! This reads the bot's output only; it never looks at the conversation's stored state.

use crate::domain::{Button, Reply};

/// What the bot is asking for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Question {
    Slot,
    Address,
    /// Saved addresses to choose from, or a new one.
    AddressChoice,
    Quantity,
    /// An item is short: reduce, drop or swap.
    StockIssue,
    /// May the shop substitute a short item?
    Substitute,
    /// The order summary: place it?
    ConfirmOrder,
    /// Which of her orders?
    WhichOrder,
    CancelReason,
    /// A free-text reason ("tell us more").
    ReasonText,
    ConfirmCancel,
    /// A retention offer or another yes/no she must answer.
    YesNo,
    /// A substitute offered after a short pick.
    SubstituteOffer,
    Phone,
    /// "Did you mean X?"
    Item,
    /// Nothing she must answer.
    Nothing,
}

fn has(text: &str, cues: &[&str]) -> bool {
    let t = text.to_lowercase();
    cues.iter().any(|c| t.contains(c))
}

/// The buttons on offer: those of the last reply that has any.
pub fn offered(replies: &[Reply]) -> &[Button] {
    replies
        .iter()
        .rev()
        .find(|r| !r.buttons.is_empty())
        .map_or(&[], |r| r.buttons.as_slice())
}

/// What the last batch of replies asks (the last reply with buttons decides, then the text).
pub fn question(replies: &[Reply]) -> Question {
    let Some(last) = replies.last() else {
        return Question::Nothing;
    };
    let buttons = offered(replies);
    let any = |p: &str| buttons.iter().any(|b| b.payload.starts_with(p));
    let last_text = &last.text;
    if any("slot:") {
        return Question::Slot;
    }
    if any("order:") {
        return Question::WhichOrder;
    }
    if any("reason:") {
        return Question::CancelReason;
    }
    if any("swap:") || any("reduce:") || any("drop:") {
        return Question::StockIssue;
    }
    if any("addr:") || any("newaddr") {
        return Question::AddressChoice;
    }
    if any("qty:") {
        return Question::Quantity;
    }
    if any("sub:") {
        return Question::SubstituteOffer;
    }
    if any("yes") || any("no") {
        // The buttons' labels say what a yes means, as they do to a person.
        let labels = buttons
            .iter()
            .map(|b| b.label.as_str())
            .collect::<Vec<_>>()
            .join("|");
        if has(&labels, &["确认下单", "place order"]) {
            return Question::ConfirmOrder;
        }
        if has(&labels, &["确认取消", "cancel it"]) {
            return Question::ConfirmCancel;
        }
        if has(&labels, &["替换", "substitut"]) {
            return Question::Substitute;
        }
        return Question::YesNo;
    }
    if has(
        last_text,
        &[
            "具体说说",
            "具体原因",
            "tell us more",
            "what happened",
            "why",
        ],
    ) {
        return Question::ReasonText;
    }
    if has(last_text, &["手机号", "电话", "phone number", "phone"]) {
        return Question::Phone;
    }
    if has(
        last_text,
        &["送到哪", "地址", "address", "where should", "deliver to"],
    ) {
        return Question::Address;
    }
    if has(
        last_text,
        &["是不是", "您是说", "你是说", "did you mean", "do you mean"],
    ) {
        return Question::Item;
    }
    if has(last_text, &["多少", "几斤", "几个", "how much", "how many"]) {
        return Question::Quantity;
    }
    Question::Nothing
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(text: &str, payloads: &[&str]) -> Vec<Reply> {
        vec![Reply::with_buttons(
            text,
            payloads
                .iter()
                .map(|p| Button {
                    label: (*p).into(),
                    payload: (*p).into(),
                })
                .collect(),
        )]
    }

    #[test]
    fn buttons_say_more_than_words() {
        assert_eq!(
            question(&with("几点送?", &["slot:1796630400"])),
            Question::Slot
        );
        let labelled = |text: &str, yes: &str| {
            vec![Reply::with_buttons(
                text,
                vec![
                    Button {
                        label: yes.into(),
                        payload: "yes".into(),
                    },
                    Button {
                        label: "no".into(),
                        payload: "no".into(),
                    },
                ],
            )]
        };
        assert_eq!(
            question(&labelled("请确认订单", "确认下单")),
            Question::ConfirmOrder
        );
        assert_eq!(
            question(&labelled("缺货时?", "缺货自动替换")),
            Question::Substitute
        );
        assert_eq!(
            question(&labelled("Cancel order?", "Yes, cancel it")),
            Question::ConfirmCancel
        );
        assert_eq!(question(&[Reply::text("送到哪里?")]), Question::Address);
        assert_eq!(
            question(&[Reply::text("好的,已为您转人工")]),
            Question::Nothing
        );
    }
}
