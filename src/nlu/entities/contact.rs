//! Order numbers and phone numbers.
//!
//! Order numbers look like `20261124-0012` (date and sequence), or are digits after a cue
//! (订单号 12345, order #12345). Phone numbers are mainland mobiles (`13812345678`, with
//! optional `+86` and spaces or dashes) and landlines with an area code (`021-12345678`);
//! values are returned as digits only.

use std::sync::LazyLock;

use regex::Regex;

/// A match with its char span and normalised value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Normalised value.
    pub value: String,
    /// First char.
    pub start: usize,
    /// One past the last char.
    pub end: usize,
}

static ORDER_DATED: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?:^|[^\d])(20\d{6}-\d{3,6})(?:$|[^\d])").ok());
static ORDER_CUE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?:订单号?|单号|order\s*(?:number|no\.?|id)?|#)\s*[:：#]?\s*(?:是|为)?\s*([a-z]{0,3}\d{4,12})\b").ok()
});
static PHONE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?:^|[^\d])((?:\+?86[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}|0\d{2,3}-\d{7,8})(?:$|[^\d])",
    )
    .ok()
});

/// Compiles this module's patterns now (they are compiled on first use otherwise): called at
/// start, so no customer's message pays for it.
pub(crate) fn compile_patterns() {
    LazyLock::force(&ORDER_DATED);
    LazyLock::force(&ORDER_CUE);
    LazyLock::force(&PHONE);
}

fn char_span(text: &str, s: usize, e: usize) -> (usize, usize) {
    (text[..s].chars().count(), text[..e].chars().count())
}

/// Order numbers in folded text.
pub fn order_numbers(text: &str) -> Vec<Found> {
    let mut out: Vec<Found> = Vec::new();
    if let Some(r) = ORDER_DATED.as_ref() {
        for c in r.captures_iter(text) {
            if let Some(m) = c.get(1) {
                let (start, end) = char_span(text, m.start(), m.end());
                out.push(Found {
                    value: m.as_str().to_owned(),
                    start,
                    end,
                });
            }
        }
    }
    if let Some(r) = ORDER_CUE.as_ref() {
        for c in r.captures_iter(text) {
            if let Some(m) = c.get(1) {
                let (start, end) = char_span(text, m.start(), m.end());
                if out.iter().any(|f| f.start < end && start < f.end) {
                    continue;
                }
                // A mobile number after "order" is still a phone, not an order.
                if m.as_str().len() == 11 && m.as_str().starts_with('1') {
                    continue;
                }
                out.push(Found {
                    value: m.as_str().to_uppercase(),
                    start,
                    end,
                });
            }
        }
    }
    out.sort_by_key(|f| f.start);
    out
}

/// Phone numbers in folded text, as digits (a leading 86 country code removed).
pub fn phones(text: &str) -> Vec<Found> {
    let mut out = Vec::new();
    if let Some(r) = PHONE.as_ref() {
        for c in r.captures_iter(text) {
            if let Some(m) = c.get(1) {
                let mut digits: String = m.as_str().chars().filter(char::is_ascii_digit).collect();
                if digits.len() == 13 && digits.starts_with("86") {
                    digits.drain(..2);
                }
                let (start, end) = char_span(text, m.start(), m.end());
                out.push(Found {
                    value: digits,
                    start,
                    end,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_orders_and_phones() {
        let o = order_numbers("订单20261124-0012怎么还没到");
        assert_eq!(o[0].value, "20261124-0012");
        assert_eq!((o[0].start, o[0].end), (2, 15));
        assert_eq!(order_numbers("where is order #48213")[0].value, "48213");
        assert_eq!(order_numbers("订单号：88888")[0].value, "88888");
        assert!(order_numbers("我要3斤").is_empty());
        assert_eq!(phones("电话 138-1234-5678 谢谢")[0].value, "13812345678");
        assert_eq!(phones("call +86 13912345678")[0].value, "13912345678");
        assert_eq!(phones("021-63501234")[0].value, "02163501234");
        assert!(phones("20261124-0012").is_empty());
    }
}
