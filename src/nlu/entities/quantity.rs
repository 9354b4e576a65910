//! Quantities: a number (Arabic, Chinese or English words) and an optional unit, normalised to
//! the unit codes of DESIGN.md. 两 is the number two before a unit (两斤) and the liang unit after
//! a number (二两, 一斤二两).

use crate::nlu::numerals::{en_word, parse_number};

/// The unit codes of DESIGN.md: the domain's own type (the NLU is pure and may use it).
pub use crate::domain::Unit;

/// A quantity found in a message (char offsets into the original text).
#[derive(Debug, Clone, PartialEq)]
pub struct QuantityMention {
    /// The amount.
    pub value: f64,
    /// The unit, `None` when unstated ("3 cucumbers", "a dozen eggs").
    pub unit: Option<Unit>,
    /// First char.
    pub start: usize,
    /// One past the last char.
    pub end: usize,
    /// True for a number without any unit word; such a number binds only to an adjacent product.
    pub bare: bool,
}

/// Chinese unit characters (longest first). `None` with a multiplier is a counting word (打 = 12).
const ZH_UNITS: &[(&str, Option<Unit>, f64)] = &[
    ("公斤", Some(Unit::Kg), 1.0),
    ("千克", Some(Unit::Kg), 1.0),
    ("斤", Some(Unit::Jin), 1.0),
    ("两", Some(Unit::Liang), 1.0),
    ("克", Some(Unit::G), 1.0),
    ("磅", Some(Unit::Lb), 1.0),
    ("个", Some(Unit::Piece), 1.0),
    ("根", Some(Unit::Piece), 1.0),
    ("颗", Some(Unit::Piece), 1.0),
    ("只", Some(Unit::Piece), 1.0),
    ("条", Some(Unit::Piece), 1.0),
    ("粒", Some(Unit::Piece), 1.0),
    ("枚", Some(Unit::Piece), 1.0),
    ("棵", Some(Unit::Piece), 1.0),
    ("头", Some(Unit::Piece), 1.0),
    ("把", Some(Unit::Bunch), 1.0),
    ("捆", Some(Unit::Bunch), 1.0),
    ("扎", Some(Unit::Bunch), 1.0),
    ("盒", Some(Unit::Box), 1.0),
    ("箱", Some(Unit::Box), 1.0),
    ("袋", Some(Unit::Bag), 1.0),
    ("包", Some(Unit::Bag), 1.0),
    ("打", None, 12.0),
];

/// English unit words, already lower-case.
fn en_unit(word: &str) -> Option<(Option<Unit>, f64)> {
    Some(match word {
        "kg" | "kgs" | "kilo" | "kilos" | "kilogram" | "kilograms" => (Some(Unit::Kg), 1.0),
        "g" | "gr" | "gram" | "grams" | "gramme" | "grammes" => (Some(Unit::G), 1.0),
        "lb" | "lbs" | "pound" | "pounds" => (Some(Unit::Lb), 1.0),
        "jin" | "catty" | "catties" => (Some(Unit::Jin), 1.0),
        "liang" => (Some(Unit::Liang), 1.0),
        "piece" | "pieces" | "pc" | "pcs" | "head" | "heads" | "stick" | "sticks" => {
            (Some(Unit::Piece), 1.0)
        }
        "bunch" | "bunches" | "bundle" | "bundles" => (Some(Unit::Bunch), 1.0),
        "box" | "boxes" | "carton" | "cartons" | "punnet" | "punnets" | "tray" | "trays" => {
            (Some(Unit::Box), 1.0)
        }
        "bag" | "bags" | "pack" | "packs" | "packet" | "packets" | "pkt" => (Some(Unit::Bag), 1.0),
        "dozen" => (None, 12.0),
        _ => return None,
    })
}

fn starts_with_at(chars: &[char], i: usize, s: &str) -> bool {
    (i..).zip(s.chars()).all(|(j, c)| chars.get(j) == Some(&c))
}

fn zh_unit_at(chars: &[char], i: usize) -> Option<(Option<Unit>, f64, usize)> {
    ZH_UNITS
        .iter()
        .find(|(s, _, _)| starts_with_at(chars, i, s))
        .map(|&(s, u, m)| (u, m, s.chars().count()))
}

/// An ASCII word at `i` (letters only) and its end.
fn ascii_word(chars: &[char], i: usize) -> Option<(String, usize)> {
    if !chars.get(i).is_some_and(char::is_ascii_alphabetic) {
        return None;
    }
    let mut j = i;
    while j < chars.len() && chars[j].is_ascii_alphabetic() {
        j += 1;
    }
    Some((chars[i..j].iter().collect(), j))
}

fn skip_spaces(chars: &[char], mut i: usize) -> usize {
    while i < chars.len() && chars[i] == ' ' {
        i += 1;
    }
    i
}

/// A unit after a number at `i` (spaces allowed before English words).
fn unit_at(chars: &[char], i: usize) -> Option<(Option<Unit>, f64, usize)> {
    if let Some(u) = zh_unit_at(chars, i) {
        return Some(u);
    }
    let j = skip_spaces(chars, i);
    let (w, end) = ascii_word(chars, j)?;
    let (u, m) = en_unit(&w)?;
    Some((u, m, end - i))
}

/// Finds quantities in folded chars, skipping chars marked in `blocked`.
pub fn find(chars: &[char], blocked: &[bool]) -> Vec<QuantityMention> {
    let is_blocked = |i: usize| blocked.get(i).copied().unwrap_or(false);
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if is_blocked(i) {
            i += 1;
            continue;
        }
        let c = chars[i];
        let prev_alnum = i > 0 && (chars[i - 1].is_ascii_alphanumeric() || chars[i - 1] == '.');
        // "x2", "×2", "*2" after a product.
        if matches!(c, 'x' | '×' | '*') && !prev_alnum {
            let j = skip_spaces(chars, i + 1);
            if let Some((v, n)) = crate::nlu::numerals::parse_arabic(chars, j)
                && !chars.get(j + n).is_some_and(char::is_ascii_alphanumeric)
            {
                out.push(QuantityMention {
                    value: v,
                    unit: None,
                    start: i,
                    end: j + n,
                    bare: true,
                });
                i = j + n;
                continue;
            }
        }
        // English number words: "a couple of", "a dozen", "half a kilo", "three bunches".
        if c.is_ascii_alphabetic() && !prev_alnum {
            if let Some((m, end)) = english_quantity(chars, i, &is_blocked) {
                out.push(m);
                i = end;
                continue;
            }
            while i < chars.len() && chars[i].is_ascii_alphanumeric() {
                i += 1;
            }
            continue;
        }
        if prev_alnum && c.is_ascii_digit() {
            i += 1;
            continue;
        }
        // 半斤, 半个, 半打.
        if c == '半' {
            if let Some((u, m, n)) = zh_unit_at(chars, i + 1)
                && u != Some(Unit::Liang)
            {
                out.push(QuantityMention {
                    value: 0.5 * m,
                    unit: u,
                    start: i,
                    end: i + 1 + n,
                    bare: false,
                });
                i += 1 + n;
                continue;
            }
            i += 1;
            continue;
        }
        let Some((v, n)) = parse_number(chars, i) else {
            i += 1;
            continue;
        };
        let num_end = i + n;
        if (i..num_end).any(is_blocked) {
            i = num_end;
            continue;
        }
        // A number glued to ASCII letters that are not a unit (e.g. "3rd", "5g" is a unit).
        match unit_at(chars, num_end) {
            Some((unit, mult, un)) => {
                let mut end = num_end + un;
                let mut value = v * mult;
                // 一斤半, 三个半; 一斤二两.
                if chars.get(end) == Some(&'半') && unit != Some(Unit::Liang) && unit.is_some() {
                    value += 0.5;
                    end += 1;
                } else if unit == Some(Unit::Jin)
                    && let Some((l, ln)) = parse_number(chars, end)
                    && chars.get(end + ln) == Some(&'两')
                {
                    value += l / 10.0;
                    end += ln + 1;
                }
                // "a dozen" style counting word may be followed by a real unit: "一打鸡蛋".
                if (num_end..end).any(is_blocked) {
                    i = end;
                    continue;
                }
                out.push(QuantityMention {
                    value,
                    unit,
                    start: i,
                    end,
                    bare: false,
                });
                i = end;
            }
            None => {
                let next = chars.get(num_end).copied().unwrap_or(' ');
                if !next.is_ascii_alphabetic() || english_gap_word(chars, num_end) {
                    out.push(QuantityMention {
                        value: v,
                        unit: None,
                        start: i,
                        end: num_end,
                        bare: true,
                    });
                }
                i = num_end;
            }
        }
    }
    out
}

/// True when the letters at `i` start a word (so "3 cucumbers" has a bare 3, "3rd" has none).
fn english_gap_word(chars: &[char], i: usize) -> bool {
    i > 0 && chars[i - 1] == ' '
}

/// English word quantities at `i`: `[a|an|one..|<digits>] [couple|dozen] [of]`, `half a <unit>`,
/// `<number word> <unit>`.
fn english_quantity(
    chars: &[char],
    i: usize,
    is_blocked: &dyn Fn(usize) -> bool,
) -> Option<(QuantityMention, usize)> {
    let (w1, e1) = ascii_word(chars, i)?;
    if (i..e1).any(is_blocked) {
        return None;
    }
    let next = |from: usize| -> Option<(String, usize, usize)> {
        let s = skip_spaces(chars, from);
        ascii_word(chars, s).map(|(w, e)| (w, s, e))
    };
    let mut value = en_word(&w1)?;
    let mut end = e1;
    let mut unit = None;
    let mut has_unit = false;
    let article = w1 == "a" || w1 == "an";
    if w1 == "half" {
        // "half a kilo", "half a dozen".
        let (w2, _, e2) = next(end)?;
        if w2 != "a" && w2 != "an" {
            return None;
        }
        let (w3, _, e3) = next(e2)?;
        let (u, m) = en_unit(&w3)?;
        return Some((
            QuantityMention {
                value: 0.5 * m,
                unit: u,
                start: i,
                end: e3,
                bare: false,
            },
            e3,
        ));
    }
    if let Some((w2, _, e2)) = next(end) {
        if w2 == "couple" && article {
            value = 2.0;
            end = e2;
            has_unit = true;
        } else if let Some((u, m)) = en_unit(&w2) {
            value *= m;
            unit = u;
            end = e2;
            has_unit = true;
            // "a dozen bags" is rare; "two dozen" is handled by the multiplier above.
        }
    }
    if w1 == "couple" || w1 == "dozen" {
        has_unit = true;
    }
    // "a couple of", "a bunch of": swallow "of".
    if has_unit
        && let Some((w, _, e)) = next(end)
        && w == "of"
    {
        end = e;
    }
    if !has_unit && article {
        // A lone article binds only directly before a product: keep it bare.
        return Some((
            QuantityMention {
                value: 1.0,
                unit: None,
                start: i,
                end,
                bare: true,
            },
            end,
        ));
    }
    Some((
        QuantityMention {
            value,
            unit,
            start: i,
            end,
            bare: !has_unit,
        },
        end,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(text: &str) -> Vec<(f64, Option<&'static str>, bool)> {
        let chars: Vec<char> = crate::nlu::text::fold(text).chars().collect();
        find(&chars, &[])
            .into_iter()
            .map(|m| (m.value, m.unit.map(Unit::code), m.bare))
            .collect()
    }

    #[test]
    fn chinese_quantities() {
        assert_eq!(q("两斤西红柿"), [(2.0, Some("jin"), false)]);
        assert_eq!(q("二两小米辣"), [(2.0, Some("liang"), false)]);
        assert_eq!(q("一斤半"), [(1.5, Some("jin"), false)]);
        assert_eq!(q("半斤"), [(0.5, Some("jin"), false)]);
        assert_eq!(q("3.5公斤"), [(3.5, Some("kg"), false)]);
        assert_eq!(q("一斤二两"), [(1.2, Some("jin"), false)]);
        assert_eq!(q("十五个"), [(15.0, Some("piece"), false)]);
        assert_eq!(q("一把"), [(1.0, Some("bunch"), false)]);
        assert_eq!(q("一打"), [(12.0, None, false)]);
    }

    #[test]
    fn english_quantities() {
        assert_eq!(q("a bunch of spinach"), [(1.0, Some("bunch"), false)]);
        assert_eq!(q("a couple of apples"), [(2.0, None, false)]);
        assert_eq!(q("a dozen eggs"), [(12.0, None, false)]);
        assert_eq!(q("2 lbs of potatoes"), [(2.0, Some("lb"), false)]);
        assert_eq!(q("500g beef"), [(500.0, Some("g"), false)]);
        assert_eq!(q("half a kilo"), [(0.5, Some("kg"), false)]);
        assert_eq!(q("3 cucumbers"), [(3.0, None, true)]);
        assert_eq!(q("three bags"), [(3.0, Some("bag"), false)]);
        assert!(q("the 3rd").is_empty());
    }
}
