//! The NLU facade: classify an utterance and extract its entities.

use chrono::{DateTime, FixedOffset, SecondsFormat, TimeZone};
use serde::{Serialize, Serializer};
use serde_json::json;

use std::sync::Arc;

use super::classifier::{Classifier, Example, TrainConfig};
use super::embedding::{BlendedModel, DenseConfig, SentenceEncoder};
use super::entities::product::{ProductEntry, ProductLexicon};
use super::entities::quantity::Unit;
use super::entities::{address, bind, contact, quantity, time};
use super::text::{Lang, detect_lang, fold};
use super::{NluError, OUT_OF_SCOPE};

/// Entities are looked for in the first this many chars of a message.
pub const MAX_ENTITY_CHARS: usize = 2000;

/// Settings of the NLU beyond the classifier's hyper-parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct NluConfig {
    /// Classifier hyper-parameters.
    pub train: TrainConfig,
    /// Below this calibrated confidence the intent becomes `out_of_scope`.
    pub oos_threshold: f32,
    /// How many intents the ranking lists.
    pub ranking_len: usize,
}

impl Default for NluConfig {
    fn default() -> Self {
        Self {
            // 15 passes and three calibration folds keep start-up training near 1 s of CPU (30
            // passes, the public-benchmark setting, take ~2.6 s on intents/).
            train: TrainConfig {
                epochs: 15,
                calibration_folds: 3,
                ..TrainConfig::default()
            },
            oos_threshold: 0.30,
            ranking_len: 5,
        }
    }
}

/// An intent and its calibrated confidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntentScore {
    /// Intent label.
    pub name: String,
    /// Calibrated probability in [0, 1].
    pub confidence: f32,
}

/// A product line found in the message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    /// Catalog SKU.
    pub sku: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Quantity, `None` when unstated.
    pub qty: Option<f64>,
    /// Unit code, `None` when unstated.
    pub unit: Option<Unit>,
}

fn rfc3339<S: Serializer>(t: &DateTime<FixedOffset>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Secs, false))
}

/// A delivery time window `[start, end)` in Asia/Shanghai.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TimeWindow {
    /// Inclusive start.
    #[serde(serialize_with = "rfc3339")]
    pub start: DateTime<FixedOffset>,
    /// Exclusive end.
    #[serde(serialize_with = "rfc3339")]
    pub end: DateTime<FixedOffset>,
}

/// One extracted entity with its char span in the original text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entity {
    /// `product`, `quantity`, `time`, `time_shift`, `order_id`, `phone` or `address`.
    pub entity: &'static str,
    /// The normalised value (SKU, `{qty, unit}`, `{start, end}`, minutes, digits, text).
    pub value: serde_json::Value,
    /// The text as written.
    pub text: String,
    /// First char (Unicode scalar values).
    pub start: usize,
    /// One past the last char.
    pub end: usize,
}

/// Everything the NLU understood of one message. Serialises to the `nlu parse` JSON line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Parse {
    /// The message.
    pub text: String,
    /// Its language.
    pub lang: Lang,
    /// The chosen intent (out_of_scope below the threshold).
    pub intent: IntentScore,
    /// The most likely intents as the model scored them.
    pub ranking: Vec<IntentScore>,
    /// Products with their quantities.
    pub items: Vec<Item>,
    /// The delivery window named in the message.
    pub time: Option<TimeWindow>,
    /// All entities, in text order.
    pub entities: Vec<Entity>,
    /// A relative shift of the delivery time in minutes (推迟一个小时 = 60).
    #[serde(skip)]
    pub time_shift_minutes: Option<i64>,
    /// Order numbers.
    #[serde(skip)]
    pub order_numbers: Vec<String>,
    /// Phone numbers (digits).
    #[serde(skip)]
    pub phones: Vec<String>,
    /// The new address of a change-of-address message.
    #[serde(skip)]
    pub address: Option<String>,
}

/// Entities of a message without the intent (see [`Nlu::extract`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extracted {
    /// Products with their quantities.
    pub items: Vec<Item>,
    /// The delivery window.
    pub time: Option<TimeWindow>,
    /// A relative time shift in minutes.
    pub time_shift_minutes: Option<i64>,
    /// Order numbers.
    pub order_numbers: Vec<String>,
    /// Phone numbers.
    pub phones: Vec<String>,
    /// The new address.
    pub address: Option<String>,
    /// All entities in text order.
    pub entities: Vec<Entity>,
}

/// The trained intent model plus the product lexicon.
#[derive(Debug, Clone)]
pub struct Nlu {
    classifier: Classifier,
    /// The sparse classifier blended with a sentence-embedding head, when an encoder is given.
    blend: Option<BlendedModel>,
    products: ProductLexicon,
    config: NluConfig,
}

impl Nlu {
    /// Trains on the examples compiled in from `intents/` with the demo catalog's products.
    pub fn from_embedded() -> Result<Self, NluError> {
        Self::train(
            &super::embedded_examples()?,
            super::demo_catalog()?,
            NluConfig::default(),
        )
    }

    /// Trains on `examples` with `products` as the product lexicon.
    pub fn train(
        examples: &[Example],
        products: Vec<ProductEntry>,
        config: NluConfig,
    ) -> Result<Self, NluError> {
        let classifier = Classifier::train(examples, &config.train)?;
        Ok(Self {
            classifier,
            blend: None,
            products: ProductLexicon::new(products),
            config,
        }
        .warmed_up())
    }

    /// Trains the sparse classifier and a dense head over `encoder`'s sentence vectors, blended
    /// with weights chosen on a held-out fifth of `examples` (see [`BlendedModel`]).
    pub fn train_with_encoder(
        examples: &[Example],
        products: Vec<ProductEntry>,
        config: NluConfig,
        encoder: Arc<dyn SentenceEncoder>,
        dense: &DenseConfig,
    ) -> Result<Self, NluError> {
        let blend = BlendedModel::train(examples, encoder, &config.train, dense)?;
        Ok(Self {
            classifier: blend.sparse().clone(),
            blend: Some(blend),
            products: ProductLexicon::new(products),
            config,
        }
        .warmed_up())
    }

    /// The entity extractors' patterns are compiled on first use (10-30 ms in all, measured
    /// as the first customer message after a start taking that much instead of 1-3 ms): done
    /// here, at start. The two messages reach the extractors' other first-use work; the
    /// patterns are forced one by one, since a message can miss one (a `perf` of the chat
    /// bench still found time patterns compiled in a customer's turn after the messages alone).
    fn warmed_up(self) -> Self {
        super::entities::time::compile_patterns();
        super::entities::contact::compile_patterns();
        super::entities::address::compile_patterns();
        let now = chrono::Utc::now();
        for text in [
            "订单20261203-001 明天上午10点到12点 周六下午3点 推迟一个小时 电话13800138000 地址改到人民路1号",
            "order 20261203-001 tomorrow 10-12am next Monday at 6pm, delay by an hour, call 13800138000, change the address to 1 Main St",
        ] {
            let _ = self.extract(text, now, true);
        }
        self
    }

    /// The blended model, when the NLU was trained with an encoder.
    pub fn blend(&self) -> Option<&BlendedModel> {
        self.blend.as_ref()
    }

    /// The intent classifier.
    pub fn classifier(&self) -> &Classifier {
        &self.classifier
    }

    /// The product lexicon.
    pub fn products(&self) -> &ProductLexicon {
        &self.products
    }

    /// The chosen intent (with the out-of-scope threshold applied) and the ranking.
    pub fn classify(&self, text: &str) -> (IntentScore, Vec<IntentScore>) {
        let ranked = match &self.blend {
            // An encoder failure on one message falls back to the sparse model alone.
            Some(b) => match b.probabilities(text) {
                Ok(p) => {
                    let mut r: Vec<(&str, f32)> =
                        b.labels().iter().map(String::as_str).zip(p).collect();
                    r.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
                    r
                }
                Err(_) => self.classifier.rank(text),
            },
            None => self.classifier.rank(text),
        };
        let ranking: Vec<IntentScore> = ranked
            .iter()
            .take(self.config.ranking_len)
            .map(|&(n, c)| IntentScore {
                name: n.to_owned(),
                confidence: round4(c),
            })
            .collect();
        let has_content = text.chars().any(|c| c.is_alphanumeric());
        let intent = match ranked.first() {
            Some(&(name, conf)) if conf >= self.config.oos_threshold && has_content => {
                IntentScore {
                    name: name.to_owned(),
                    confidence: round4(conf),
                }
            }
            Some(&(_, conf)) => IntentScore {
                name: OUT_OF_SCOPE.to_owned(),
                confidence: round4(conf.min(self.config.oos_threshold)),
            },
            None => IntentScore {
                name: OUT_OF_SCOPE.to_owned(),
                confidence: 0.0,
            },
        };
        (intent, ranking)
    }

    /// Classifies `text` and extracts its entities; times are resolved against `now`.
    pub fn parse<Z: TimeZone>(&self, text: &str, now: DateTime<Z>) -> Parse {
        let (intent, ranking) = self.classify(text);
        let ex = self.extract(text, now, intent.name == "change_address");
        Parse {
            text: text.to_owned(),
            lang: detect_lang(text),
            intent,
            ranking,
            items: ex.items,
            time: ex.time,
            entities: ex.entities,
            time_shift_minutes: ex.time_shift_minutes,
            order_numbers: ex.order_numbers,
            phones: ex.phones,
            address: ex.address,
        }
    }

    /// Extracts entities only. The new address is looked for when `want_address` is true or the
    /// message mentions an address (地址, address).
    pub fn extract<Z: TimeZone>(
        &self,
        text: &str,
        now: DateTime<Z>,
        want_address: bool,
    ) -> Extracted {
        let original: String = text.chars().take(MAX_ENTITY_CHARS).collect();
        let folded = fold(&original);
        let chars: Vec<char> = folded.chars().collect();
        let orig_chars: Vec<char> = original.chars().collect();
        let slice = |s: usize, e: usize| -> String {
            orig_chars
                .get(s..e)
                .map(|c| c.iter().collect())
                .unwrap_or_default()
        };
        let mut blocked = vec![false; chars.len()];
        let block = |s: usize, e: usize, blocked: &mut Vec<bool>| {
            for b in blocked.iter_mut().take(e).skip(s) {
                *b = true;
            }
        };
        let mut ex = Extracted::default();

        for f in contact::order_numbers(&folded) {
            block(f.start, f.end, &mut blocked);
            ex.entities.push(Entity {
                entity: "order_id",
                value: json!(f.value),
                text: slice(f.start, f.end),
                start: f.start,
                end: f.end,
            });
            ex.order_numbers.push(f.value);
        }
        for f in contact::phones(&folded) {
            if blocked[f.start..f.end.min(blocked.len())]
                .iter()
                .any(|&b| b)
            {
                continue;
            }
            block(f.start, f.end, &mut blocked);
            ex.entities.push(Entity {
                entity: "phone",
                value: json!(f.value),
                text: slice(f.start, f.end),
                start: f.start,
                end: f.end,
            });
            ex.phones.push(f.value);
        }
        if (want_address || folded.contains("地址") || folded.contains("address"))
            && let Some((value, s, e)) = address::find(&original, &folded)
        {
            block(s, e, &mut blocked);
            ex.entities.push(Entity {
                entity: "address",
                value: json!(value),
                text: value.clone(),
                start: s,
                end: e,
            });
            ex.address = Some(value);
        }

        let now_sh = now.with_timezone(&time::TZ);
        let t = time::find(&chars, &blocked, now_sh);
        for &(s, e) in &t.spans {
            block(s, e, &mut blocked);
        }
        if let Some(r) = t.range {
            let window = TimeWindow {
                start: r.start.fixed_offset(),
                end: r.end.fixed_offset(),
            };
            let (s, e) = (
                t.spans.first().map_or(0, |x| x.0),
                t.spans.last().map_or(0, |x| x.1),
            );
            ex.entities.push(Entity {
                entity: "time",
                value: serde_json::to_value(window).unwrap_or_default(),
                text: slice(s, e),
                start: s,
                end: e,
            });
            ex.time = Some(window);
        }
        if let (Some(m), Some((s, e))) = (t.shift_minutes, t.shift_span) {
            block(s, e, &mut blocked);
            ex.entities.push(Entity {
                entity: "time_shift",
                value: json!({ "minutes": m }),
                text: slice(s, e),
                start: s,
                end: e,
            });
            ex.time_shift_minutes = Some(m);
        }

        let products = self.products.find(&chars, &blocked);
        for p in &products {
            block(p.start, p.end, &mut blocked);
        }
        let quantities = quantity::find(&chars, &blocked);
        let binding = bind(&chars, &products, &quantities);
        let entries = self.products.entries();
        let mut shown_q = vec![false; quantities.len()];
        for (p, q) in products.iter().zip(&binding) {
            let Some(entry) = entries.get(p.entry) else {
                continue;
            };
            let q = q.and_then(|i| {
                shown_q[i] = true;
                quantities.get(i)
            });
            ex.entities.push(Entity {
                entity: "product",
                value: json!(entry.sku),
                text: slice(p.start, p.end),
                start: p.start,
                end: p.end,
            });
            ex.items.push(Item {
                sku: entry.sku.clone(),
                name_zh: entry.name_zh.clone(),
                name_en: entry.name_en.clone(),
                qty: q.map(|q| q.value),
                unit: q.and_then(|q| q.unit),
            });
        }
        for (i, q) in quantities.iter().enumerate() {
            if shown_q[i] || !q.bare {
                ex.entities.push(Entity {
                    entity: "quantity",
                    value: json!({ "qty": q.value, "unit": q.unit }),
                    text: slice(q.start, q.end),
                    start: q.start,
                    end: q.end,
                });
            }
        }
        ex.entities.sort_by_key(|e| (e.start, e.end));
        ex
    }
}

fn round4(x: f32) -> f32 {
    (x * 10_000.0).round() / 10_000.0
}
