//! Answers to a substitution offer made after a short pick (the offer itself is a push, see
//! `dialog::notices`), and the risk review of a just-placed order.

use super::super::Understanding;
use super::super::text;
use super::super::{Command, Context, DialogState, Intent, Outcome, Payload, Reply, Step};
use crate::domain::Lang;

/// The offer's button.
pub(in crate::dialog) fn on_button(offer: i64, accept: bool, out: &mut Step) {
    out.run(Command::AnswerSubstitution { offer, accept });
}

/// A typed "好的" / "不用了" with no question of the bot open answers the newest offer.
pub(in crate::dialog) fn typed_answer(u: &Understanding, ctx: &Context, out: &mut Step) -> bool {
    let Some(offer) = ctx.offers.first() else {
        return false;
    };
    let accept = match u.intent {
        Intent::Affirm => true,
        Intent::Deny => false,
        _ => return false,
    };
    out.run(Command::AnswerSubstitution {
        offer: offer.id,
        accept,
    });
    true
}

pub(in crate::dialog) fn on_outcome(
    state: &mut DialogState,
    o: Outcome,
    ctx: &Context,
    out: &mut Step,
) {
    let lang = state.lang;
    match o {
        Outcome::SubstitutionAnswered(Ok(a)) => {
            let number = a.order.number.to_string();
            state.last_order = Some(number.clone());
            let sub = lang
                .pick(&a.substitute_name_zh, &a.substitute_name_en)
                .to_owned();
            let total = a.order.totals.total;
            let msg = match (a.accepted, a.order.status, lang) {
                (_, crate::domain::OrderStatus::Cancelled, Lang::Zh) => {
                    format!("好的。订单 {number} 里的菜都缺货了,订单已取消,不收任何费用,非常抱歉!")
                }
                (_, crate::domain::OrderStatus::Cancelled, Lang::En) => format!(
                    "OK. Everything in order {number} is out of stock, so it has been cancelled at no cost. We're very sorry!"
                ),
                (true, _, Lang::Zh) => {
                    format!("好的,已为您换成{sub},分拣员马上去拿。订单 {number} 现在合计 {total}。")
                }
                (true, _, Lang::En) => format!(
                    "Done: {sub} is added instead; the picker is fetching it now. Order {number} now totals {total}."
                ),
                (false, _, Lang::Zh) => {
                    format!("好的,不换了。订单 {number} 按现有的菜配送,合计 {total}。")
                }
                (false, _, Lang::En) => format!(
                    "OK, no substitute. Order {number} goes with what we have, total {total}."
                ),
            };
            out.say(Reply::with_buttons(
                msg,
                vec![text::button(
                    lang.pick("查看订单", "See the order"),
                    Payload::Order(number),
                )],
            ));
            super::resume_prompt(state, ctx, out);
        }
        Outcome::SubstitutionAnswered(Err(f)) => {
            out.say(text::failure(&f, lang));
            super::resume_prompt(state, ctx, out);
        }
        Outcome::RiskAssessed {
            number,
            flagged: true,
            summary,
        } => {
            out.say(Reply::text(match lang {
                Lang::Zh => format!(
                    "为了确保订单 {number} 顺利送达,客服会先跟您确认一下,请稍等片刻。"
                ),
                Lang::En => format!(
                    "To make sure order {number} reaches you smoothly, one of our team will confirm it with you first - it only takes a moment."
                ),
            }));
            super::info::handoff(
                state,
                "risk",
                &format!("订单 {number} 需要确认 / order {number} needs a check: {summary}"),
                ctx,
                out,
            );
        }
        _ => {}
    }
}
