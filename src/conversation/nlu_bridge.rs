//! The NLU's `Parse` in the dialog's terms.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use regex::Regex;

use super::Understand;
use crate::dialog::{Amount, Intent, ItemMention, Understanding};
use crate::domain::{Product, Sku, StockLevel, TZ, Unit};
use crate::nlu::{Nlu, Parse};

/// Order numbers as freshbot prints them (`FB` + digits), which customers paste without a cue.
static ORDER_NUMBER: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?i)\bFB\d{8,14}\b").ok());

/// Compiles the bridge's pattern at start rather than in a customer's turn.
pub(super) fn compile_patterns() {
    LazyLock::force(&ORDER_NUMBER);
}

fn milli(qty: f64) -> Option<i64> {
    let m = (qty * 1000.0).round();
    (m.is_finite() && m > 0.0 && m < 1e12).then_some(m as i64)
}

fn unit(code: &str) -> Option<Unit> {
    code.parse().ok()
}

/// Converts a parse; items whose sku is not in `catalog` are dropped.
pub fn to_understanding(p: &Parse, text: &str, catalog: &[(Product, StockLevel)]) -> Understanding {
    let intent = Intent::from_label(&p.intent.name).unwrap_or(Intent::OutOfScope);
    let items: Vec<ItemMention> = p
        .items
        .iter()
        .filter_map(|i| {
            let sku = Sku::parse(&i.sku)
                .ok()
                .filter(|s| catalog.iter().any(|(c, _)| &c.sku == s))?;
            // "3 cucumbers": a bare count next to a product means pieces, which a product sold
            // by weight then refuses with a clear message instead of silently reading 3 jin.
            let quantity = i.qty.and_then(milli).map(|m| Amount {
                milli: m,
                unit: Some(i.unit.unwrap_or(Unit::Piece)),
            });
            Some(ItemMention { sku, quantity })
        })
        .collect();
    let loose_quantity = if items.is_empty() {
        p.entities
            .iter()
            .find(|e| e.entity == "quantity")
            .and_then(|e| {
                let m = milli(e.value.get("qty")?.as_f64()?)?;
                Some(Amount {
                    milli: m,
                    unit: e.value.get("unit").and_then(|u| u.as_str()).and_then(unit),
                })
            })
    } else {
        None
    };
    let order_number = ORDER_NUMBER
        .as_ref()
        .and_then(|re| re.find(text))
        .map(|m| m.as_str().to_uppercase())
        .or_else(|| p.order_numbers.first().cloned());
    Understanding {
        intent,
        confidence: p.intent.confidence,
        alternatives: p
            .ranking
            .iter()
            .skip(1)
            .filter_map(|r| Intent::from_label(&r.name).map(|i| (i, r.confidence)))
            .collect(),
        items,
        time: p
            .time
            .map(|t| (t.start.with_timezone(&Utc), t.end.with_timezone(&Utc))),
        order_number,
        address: p.address.clone(),
        phone: p.phones.first().cloned(),
        loose_quantity,
        substitution: crate::nlu::entities::substitution::stance(&crate::nlu::text::fold(text)),
    }
}

impl Understand for Nlu {
    fn understand(
        &self,
        text: &str,
        now: DateTime<Utc>,
        catalog: &[(Product, StockLevel)],
    ) -> Understanding {
        let parse = self.parse(text, now.with_timezone(&TZ));
        to_understanding(&parse, text, catalog)
    }

    /// The default model answers in microseconds; the `bert` blend encodes a message in
    /// milliseconds, one at a time.
    fn may_block(&self) -> bool {
        self.blend().is_some()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::nlu::{DenseConfig, Example, NluConfig, NluError, SentenceEncoder, demo_catalog};

    /// Message length as a one-number "embedding": enough to train a blend without libtorch.
    struct Length;

    impl SentenceEncoder for Length {
        fn name(&self) -> &str {
            "length"
        }
        fn encode(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, NluError> {
            Ok(texts
                .iter()
                .map(|t| vec![t.chars().count() as f32])
                .collect())
        }
    }

    #[test]
    fn only_a_model_with_an_encoder_is_understood_off_the_async_workers() -> Result<(), NluError> {
        let examples: Vec<Example> = (0..10)
            .flat_map(|i| {
                [
                    Example::new(format!("我的订单到哪了 {i}"), "track"),
                    Example::new(format!("取消订单 {i}"), "cancel"),
                ]
            })
            .collect();
        let plain = Nlu::train(&examples, demo_catalog()?, NluConfig::default())?;
        assert!(!plain.may_block());
        let blended = Nlu::train_with_encoder(
            &examples,
            demo_catalog()?,
            NluConfig::default(),
            Arc::new(Length),
            &DenseConfig::default(),
        )?;
        assert!(blended.may_block());
        Ok(())
    }
}
