//! What a step may read: loaded by the service layer before each turn, never written.

use std::cell::Cell;
use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::domain::{BusinessRules, DeliveryAddress, Lang, Order, Product, Sku, StockLevel};
use crate::domain::{FreeSlot, Membership, OfferView};

/// FAQ answers by intent label and language (`intents/faq.yml`).
#[derive(Debug, Clone, Default)]
pub struct Faq {
    pub answers: HashMap<String, (String, String)>,
}

impl Faq {
    pub fn answer(&self, intent: &str, lang: Lang) -> Option<&str> {
        self.answers.get(intent).map(|(zh, en)| lang.pick(zh, en))
    }
}

/// An order and how it looks to the customer right now.
pub type OrderInfo = Order;

pub struct Context<'a> {
    pub now: DateTime<Utc>,
    pub rules: &'a BusinessRules,
    pub catalog: &'a [(Product, StockLevel)],
    /// The customer's orders, newest first.
    pub orders: &'a [Order],
    /// The customer's saved addresses, newest (default) first.
    pub addresses: &'a [DeliveryAddress],
    /// Bookable slots per delivery zone, for the zones this customer uses; `None` when the
    /// caller has not read them (see [`Context::slots_for`]).
    pub free_slots: Option<&'a HashMap<String, Vec<FreeSlot>>>,
    /// Set when a step asked for slots that were not given (see [`Context::slots_wanted`]).
    pub slots_wanted: Cell<bool>,
    pub faq: &'a Faq,
    pub membership: Option<&'a Membership>,
    /// Substitution offers waiting for the customer's answer, newest first (loaded only when
    /// the turn could be an answer: a yes, a no, or the offer's button).
    pub offers: &'a [OfferView],
    /// Base URL of public pages (tracking links).
    pub public_url: &'a str,
}

impl Context<'_> {
    pub fn product(&self, sku: &Sku) -> Option<&Product> {
        self.catalog
            .iter()
            .find(|(p, _)| &p.sku == sku)
            .map(|(p, _)| p)
    }

    /// Available stock of a sku, in thousandths of its selling unit.
    pub fn available_milli(&self, sku: &Sku) -> i64 {
        self.catalog
            .iter()
            .find(|(p, _)| &p.sku == sku)
            .map(|(_, s)| s.available_milli())
            .unwrap_or(0)
    }

    /// The customer's orders that are still under way, newest first.
    pub fn active_orders(&self) -> Vec<&Order> {
        self.orders
            .iter()
            .filter(|o| o.status.is_active())
            .collect()
    }

    pub fn order(&self, number: &str) -> Option<&Order> {
        let n = crate::domain::OrderNumber::parse(number).ok()?;
        self.orders.iter().find(|o| o.number == n)
    }

    pub fn address(&self, id: crate::domain::AddressId) -> Option<&DeliveryAddress> {
        self.addresses.iter().find(|a| a.id == Some(id))
    }

    /// The bookable slots of a zone. Without `free_slots` this answers "none" and notes that
    /// the step wanted them: the step's result is then not to be used, and the caller runs it
    /// again (from the same state) with the slots read. Reading them costs a query over every
    /// slot of the week, which most turns never look at.
    pub fn slots_for(&self, zone: &str) -> &[FreeSlot] {
        match self.free_slots {
            Some(free) => free.get(zone).map(Vec::as_slice).unwrap_or(&[]),
            None => {
                self.slots_wanted.set(true);
                &[]
            }
        }
    }

    /// Whether a step looked for slots this context did not have.
    pub fn slots_wanted(&self) -> bool {
        self.slots_wanted.get()
    }

    /// The best substitute for a short item (see [`crate::domain::substitute::best_substitute`]),
    /// honouring the customer's stated preference and refusals.
    pub fn substitute_for(
        &self,
        sku: &Sku,
        prefs: &[(Sku, Sku)],
        refused: &[Sku],
        need_milli: i64,
    ) -> Option<&Product> {
        let preferred = prefs.iter().find(|(from, _)| from == sku).map(|(_, to)| to);
        crate::domain::substitute::best_substitute(
            self.catalog,
            sku,
            need_milli,
            refused,
            preferred,
        )
    }
}
