//! FAQ answers from `intents/faq.yml` (compiled in).

use std::collections::HashMap;

use serde::Deserialize;

use crate::dialog::Faq;

pub const FAQ_YAML: &str = include_str!("../../intents/faq.yml");

#[derive(Deserialize)]
struct FaqFile {
    faq: HashMap<String, Answer>,
}

#[derive(Deserialize)]
struct Answer {
    zh: String,
    en: String,
}

/// Parses a FAQ file (`faq: {intent: {zh, en}}`).
pub fn parse_faq(yaml: &str) -> Result<Faq, String> {
    let f: FaqFile = serde_norway::from_str(yaml).map_err(|e| format!("faq.yml: {e}"))?;
    Ok(Faq {
        answers: f
            .faq
            .into_iter()
            .map(|(k, a)| (k, (a.zh.trim().to_owned(), a.en.trim().to_owned())))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Lang;

    #[test]
    fn the_shipped_faq_answers_every_faq_intent_in_both_languages() {
        let faq = parse_faq(FAQ_YAML).unwrap();
        for intent in [
            "faq_refund",
            "faq_delivery_area",
            "faq_delivery_fee",
            "faq_payment",
            "faq_hours",
            "membership",
        ] {
            for lang in [Lang::Zh, Lang::En] {
                assert!(
                    faq.answer(intent, lang).is_some_and(|a| a.len() > 20),
                    "{intent} {lang:?}"
                );
            }
        }
        assert!(
            faq.answer("faq_delivery_fee", Lang::Zh)
                .unwrap()
                .contains("59")
        );
        assert!(parse_faq("faq: [").is_err());
    }
}
