//! Button payloads: typed, encoded as short strings (Telegram allows 64 bytes), parsed back
//! without trusting them: a payload names at most an order number, which the service layer
//! checks against the customer, so a forged payload can do nothing a typed message cannot.

use chrono::{DateTime, Utc};

use crate::domain::{AddressId, CancelReason, Quantity, Sku, Unit};

#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    Yes,
    No,
    /// Start an intent from a menu or a fallback suggestion.
    Start(crate::dialog::Intent),
    Slot(DateTime<Utc>),
    Qty(Sku, Quantity),
    /// Replace a short item in the cart by another.
    Swap(Sku, Sku),
    /// Keep only what is available of an item (milli of its unit).
    Reduce(Sku, i64),
    Drop(Sku),
    Add(Sku),
    Order(String),
    Reason(CancelReason),
    Address(AddressId),
    /// Ask for a new address instead of a saved one.
    NewAddress,
    Human,
    /// Leave the human queue and talk to the bot again.
    BackToBot,
    KeepWaiting,
    /// The answer to a substitution offer made after a short pick.
    Substitution {
        offer: i64,
        accept: bool,
    },
}

impl Payload {
    pub fn encode(&self) -> String {
        match self {
            Payload::Yes => "yes".into(),
            Payload::No => "no".into(),
            Payload::Start(i) => format!("start:{}", i.label()),
            Payload::Slot(t) => format!("slot:{}", t.timestamp()),
            Payload::Qty(s, q) => format!("qty:{}:{}:{}", s, q.milli(), q.unit().code()),
            Payload::Swap(a, b) => format!("swap:{a}:{b}"),
            Payload::Reduce(s, m) => format!("reduce:{s}:{m}"),
            Payload::Drop(s) => format!("drop:{s}"),
            Payload::Add(s) => format!("add:{s}"),
            Payload::Order(n) => format!("order:{n}"),
            Payload::Reason(r) => format!("reason:{}", r.code()),
            Payload::Address(a) => format!("addr:{}", a.0),
            Payload::NewAddress => "newaddr".into(),
            Payload::Human => "human".into(),
            Payload::BackToBot => "bot".into(),
            Payload::KeepWaiting => "wait".into(),
            Payload::Substitution { offer, accept } => {
                format!("sub:{offer}:{}", if *accept { "y" } else { "n" })
            }
        }
    }

    /// Parses a payload; anything malformed is `None` (the turn then says it did not understand).
    pub fn parse(s: &str) -> Option<Payload> {
        let s = s.trim();
        if s.len() > 64 {
            return None;
        }
        let mut parts = s.split(':');
        let head = parts.next()?;
        let rest: Vec<&str> = parts.collect();
        let sku = |i: usize| rest.get(i).and_then(|v| Sku::parse(v).ok());
        Some(match (head, rest.len()) {
            ("yes", 0) => Payload::Yes,
            ("no", 0) => Payload::No,
            ("human", 0) => Payload::Human,
            ("bot", 0) => Payload::BackToBot,
            ("wait", 0) => Payload::KeepWaiting,
            ("newaddr", 0) => Payload::NewAddress,
            ("start", 1) => Payload::Start(crate::dialog::Intent::from_label(rest[0])?),
            ("slot", 1) => Payload::Slot(DateTime::from_timestamp(rest[0].parse().ok()?, 0)?),
            ("qty", 3) => {
                let unit: Unit = rest[2].parse().ok()?;
                Payload::Qty(sku(0)?, Quantity::new(rest[1].parse().ok()?, unit).ok()?)
            }
            ("swap", 2) => Payload::Swap(sku(0)?, sku(1)?),
            ("reduce", 2) => {
                Payload::Reduce(sku(0)?, rest[1].parse().ok().filter(|m: &i64| *m > 0)?)
            }
            ("drop", 1) => Payload::Drop(sku(0)?),
            ("add", 1) => Payload::Add(sku(0)?),
            ("order", 1) => {
                Payload::Order(crate::domain::OrderNumber::parse(rest[0]).ok()?.to_string())
            }
            ("reason", 1) => Payload::Reason(rest[0].parse().ok()?),
            ("addr", 1) => Payload::Address(AddressId(rest[0].parse().ok()?)),
            ("sub", 2) => Payload::Substitution {
                offer: rest[0].parse().ok().filter(|id: &i64| *id > 0)?,
                accept: match rest[1] {
                    "y" => true,
                    "n" => false,
                    _ => return None,
                },
            },
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialog::Intent;

    #[test]
    fn payloads_round_trip_and_fit_telegram() {
        let sku = Sku::parse("VEG-TOMATO").unwrap();
        let all = [
            Payload::Yes,
            Payload::No,
            Payload::Start(Intent::Track),
            Payload::Slot("2026-11-25T02:00:00Z".parse().unwrap()),
            Payload::Qty(sku.clone(), Quantity::parse("1.5", Unit::Jin).unwrap()),
            Payload::Swap(sku.clone(), Sku::parse("VEG-COLORPEPPER").unwrap()),
            Payload::Reduce(sku.clone(), 2000),
            Payload::Drop(sku.clone()),
            Payload::Add(sku),
            Payload::Order("FB2611250001".into()),
            Payload::Reason(CancelReason::TooSlow),
            Payload::Address(AddressId(7)),
            Payload::NewAddress,
            Payload::Human,
            Payload::BackToBot,
            Payload::KeepWaiting,
            Payload::Substitution {
                offer: 12,
                accept: true,
            },
            Payload::Substitution {
                offer: 9_000_000_000,
                accept: false,
            },
        ];
        for p in all {
            let e = p.encode();
            assert!(e.len() <= 64, "{e}");
            assert_eq!(Payload::parse(&e), Some(p), "{e}");
        }
    }

    #[test]
    fn forged_or_broken_payloads_are_rejected() {
        for bad in [
            "",
            "qty:VEG-TOMATO:-5:jin",
            "qty:VEG-TOMATO:1000000000:jin",
            "order:'; drop table",
            "slot:abc",
            "start:rm -rf",
            "reduce:X:0",
            "yes:1",
            "sub:0:y",
            "sub:-3:y",
            "sub:7:maybe",
            &"x".repeat(100),
        ] {
            assert_eq!(Payload::parse(bad), None, "{bad}");
        }
    }
}
