//! Quantities with units and their conversion into a product's selling unit.
//!
//! Amounts are kept in thousandths of a unit (`milli`) so that 一斤半 (1.5 jin) or 0.25 kg are
//! exact without floats. Weight units convert through milligrams; count units (piece, bunch,
//! box, bag) only convert to themselves and must be whole.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The unit codes of DESIGN.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// 斤, 500 g.
    Jin,
    /// 两, 50 g.
    Liang,
    Kg,
    G,
    /// Pound, 453.592 g.
    Lb,
    /// 个 / 只 / 颗 / 根 / 条.
    Piece,
    /// 把 / 捆.
    Bunch,
    /// 盒.
    Box,
    /// 袋.
    Bag,
}

impl Unit {
    pub const ALL: [Unit; 9] = [
        Unit::Jin,
        Unit::Liang,
        Unit::Kg,
        Unit::G,
        Unit::Lb,
        Unit::Piece,
        Unit::Bunch,
        Unit::Box,
        Unit::Bag,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Unit::Jin => "jin",
            Unit::Liang => "liang",
            Unit::Kg => "kg",
            Unit::G => "g",
            Unit::Lb => "lb",
            Unit::Piece => "piece",
            Unit::Bunch => "bunch",
            Unit::Box => "box",
            Unit::Bag => "bag",
        }
    }

    /// Milligrams in one unit, for weight units.
    fn milligrams(self) -> Option<i64> {
        match self {
            Unit::Jin => Some(500_000),
            Unit::Liang => Some(50_000),
            Unit::Kg => Some(1_000_000),
            Unit::G => Some(1_000),
            Unit::Lb => Some(453_592),
            _ => None,
        }
    }

    pub fn is_weight(self) -> bool {
        self.milligrams().is_some()
    }

    /// The unit's name as a customer reads it.
    pub fn label(self, lang: crate::domain::Lang) -> &'static str {
        use crate::domain::Lang::*;
        match (self, lang) {
            (Unit::Jin, Zh) => "斤",
            (Unit::Liang, Zh) => "两",
            (Unit::Kg, Zh) => "公斤",
            (Unit::G, Zh) => "克",
            (Unit::Lb, Zh) => "磅",
            (Unit::Piece, Zh) => "个",
            (Unit::Bunch, Zh) => "把",
            (Unit::Box, Zh) => "盒",
            (Unit::Bag, Zh) => "袋",
            (Unit::Jin, En) => "jin (500 g)",
            (Unit::Liang, En) => "liang (50 g)",
            (Unit::Kg, En) => "kg",
            (Unit::G, En) => "g",
            (Unit::Lb, En) => "lb",
            (Unit::Piece, En) => "piece",
            (Unit::Bunch, En) => "bunch",
            (Unit::Box, En) => "box",
            (Unit::Bag, En) => "bag",
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Unit {
    type Err = QuantityError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Unit::ALL
            .into_iter()
            .find(|u| u.code() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| QuantityError::UnknownUnit(s.to_owned()))
    }
}

/// Why a quantity is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    /// Zero or negative amounts.
    #[error("the quantity must be more than zero")]
    NotPositive,
    /// More than one order line may hold.
    #[error("{amount} {unit} is more than we can deliver in one order (at most {max} {unit})")]
    TooLarge {
        amount: String,
        unit: Unit,
        max: String,
    },
    /// A count unit with a fraction, like 1.5 boxes.
    #[error("{unit} is sold whole; {amount} {unit} is not possible")]
    NotWhole { amount: String, unit: Unit },
    /// Weight to count or count to another count unit.
    #[error("cannot convert {from} into {to}: this item is sold by the {to}")]
    Incompatible { from: Unit, to: Unit },
    /// A unit code that is not one of jin, liang, kg, g, lb, piece, bunch, box, bag.
    #[error("unknown unit {0:?} (use jin, liang, kg, g, lb, piece, bunch, box or bag)")]
    UnknownUnit(String),
    /// Text that is not a number.
    #[error("{0:?} is not a quantity")]
    NotANumber(String),
}

/// A positive amount of a unit, in thousandths of the unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Quantity {
    milli: i64,
    unit: Unit,
}

/// Largest amount of one line, in grams for weights and in units for counts. A household order
/// of produce never needs more; anything above is a typo or abuse.
const MAX_GRAMS: i64 = 50_000;
const MAX_COUNT: i64 = 99;

impl Quantity {
    /// A quantity of `milli` thousandths of `unit`; rejects zero, negative and absurd amounts.
    pub fn new(milli: i64, unit: Unit) -> Result<Self, QuantityError> {
        if milli <= 0 {
            return Err(QuantityError::NotPositive);
        }
        let q = Self { milli, unit };
        match unit.milligrams() {
            Some(mg) => {
                let grams = i128::from(milli) * i128::from(mg) / 1_000_000;
                if grams > i128::from(MAX_GRAMS) {
                    let max_milli = MAX_GRAMS * 1_000_000 / mg;
                    return Err(QuantityError::TooLarge {
                        amount: q.amount_string(),
                        unit,
                        max: format_milli(max_milli),
                    });
                }
            }
            None => {
                if milli % 1000 != 0 {
                    return Err(QuantityError::NotWhole {
                        amount: q.amount_string(),
                        unit,
                    });
                }
                if milli > MAX_COUNT * 1000 {
                    return Err(QuantityError::TooLarge {
                        amount: q.amount_string(),
                        unit,
                        max: MAX_COUNT.to_string(),
                    });
                }
            }
        }
        Ok(q)
    }

    /// Whole units, e.g. `Quantity::whole(3, Unit::Piece)`.
    pub fn whole(n: i64, unit: Unit) -> Result<Self, QuantityError> {
        Self::new(n.saturating_mul(1000), unit)
    }

    /// Parses a decimal amount such as `2`, `1.5` or `0.25` (at most three decimals).
    pub fn parse(amount: &str, unit: Unit) -> Result<Self, QuantityError> {
        let bad = || QuantityError::NotANumber(amount.to_owned());
        let s = amount.trim();
        let (neg, s) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        if int.is_empty() && frac.is_empty() {
            return Err(bad());
        }
        if !int.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        if frac.len() > 3 || int.len() > 9 {
            return Err(bad());
        }
        let int: i64 = if int.is_empty() {
            0
        } else {
            int.parse().map_err(|_| bad())?
        };
        let frac_milli: i64 = format!("{frac:0<3}").parse().map_err(|_| bad())?;
        let milli = int * 1000 + frac_milli;
        Self::new(if neg { -milli } else { milli }, unit)
    }

    pub fn milli(self) -> i64 {
        self.milli
    }

    pub fn unit(self) -> Unit {
        self.unit
    }

    /// The amount as a decimal string without trailing zeros: `1.5`, `2`.
    pub fn amount_string(self) -> String {
        format_milli(self.milli)
    }

    /// This quantity expressed in `target` (a product's selling unit). Weights round to the
    /// nearest thousandth of the target unit.
    pub fn convert_to(self, target: Unit) -> Result<Quantity, QuantityError> {
        if self.unit == target {
            return Ok(self);
        }
        match (self.unit.milligrams(), target.milligrams()) {
            (Some(from), Some(to)) => {
                let milli = (i128::from(self.milli) * i128::from(from) + i128::from(to) / 2)
                    / i128::from(to);
                Quantity::new(i64::try_from(milli).unwrap_or(i64::MAX), target)
            }
            _ => Err(QuantityError::Incompatible {
                from: self.unit,
                to: target,
            }),
        }
    }

    /// Price of this quantity at `unit_price` per unit, rounded half up to the fen.
    pub fn price(self, unit_price: crate::domain::Fen) -> crate::domain::Fen {
        let fen = (i128::from(self.milli) * i128::from(unit_price.get()) + 500) / 1000;
        crate::domain::Fen::new(i64::try_from(fen).unwrap_or(i64::MAX))
    }

    /// For display: "2斤" / "2 jin (500 g)".
    pub fn display(self, lang: crate::domain::Lang) -> String {
        match lang {
            crate::domain::Lang::Zh => format!("{}{}", self.amount_string(), self.unit.label(lang)),
            crate::domain::Lang::En => {
                format!("{} {}", self.amount_string(), self.unit.label(lang))
            }
        }
    }
}

fn format_milli(milli: i64) -> String {
    let sign = if milli < 0 { "-" } else { "" };
    let abs = milli.unsigned_abs();
    let (int, frac) = (abs / 1000, abs % 1000);
    if frac == 0 {
        format!("{sign}{int}")
    } else {
        let f = format!("{frac:03}");
        format!("{sign}{int}.{}", f.trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Fen;
    use proptest::prelude::*;

    #[test]
    fn weight_units_convert_through_grams() {
        let cases = [
            ("1", Unit::Kg, Unit::Jin, "2"),
            ("1.5", Unit::Jin, Unit::Kg, "0.75"),
            ("2", Unit::Liang, Unit::Jin, "0.2"),
            ("500", Unit::G, Unit::Jin, "1"),
            ("1", Unit::Lb, Unit::G, "453.592"),
            ("3", Unit::Jin, Unit::Jin, "3"),
        ];
        for (amount, from, to, want) in cases {
            let q = Quantity::parse(amount, from)
                .unwrap()
                .convert_to(to)
                .unwrap();
            assert_eq!(q.amount_string(), want, "{amount} {from} -> {to}");
            assert_eq!(q.unit(), to);
        }
    }

    #[test]
    fn count_and_weight_do_not_mix() {
        let err = Quantity::whole(3, Unit::Piece)
            .unwrap()
            .convert_to(Unit::Jin)
            .unwrap_err();
        assert_eq!(
            err,
            QuantityError::Incompatible {
                from: Unit::Piece,
                to: Unit::Jin
            }
        );
        assert!(err.to_string().contains("sold by the jin"));
        assert!(
            Quantity::whole(1, Unit::Box)
                .unwrap()
                .convert_to(Unit::Bag)
                .is_err()
        );
    }

    #[test]
    fn rejects_zero_negative_fractional_counts_and_absurd_amounts() {
        assert_eq!(
            Quantity::parse("0", Unit::Jin),
            Err(QuantityError::NotPositive)
        );
        assert_eq!(
            Quantity::parse("-2", Unit::Jin),
            Err(QuantityError::NotPositive)
        );
        assert!(matches!(
            Quantity::parse("1.5", Unit::Box),
            Err(QuantityError::NotWhole { .. })
        ));
        assert!(matches!(
            Quantity::parse("1000", Unit::Jin),
            Err(QuantityError::TooLarge { .. })
        ));
        assert!(matches!(
            Quantity::whole(100, Unit::Piece),
            Err(QuantityError::TooLarge { .. })
        ));
        assert!(matches!(
            Quantity::parse("abc", Unit::Jin),
            Err(QuantityError::NotANumber(_))
        ));
        assert!(matches!(
            Quantity::parse("1.2345", Unit::Jin),
            Err(QuantityError::NotANumber(_))
        ));
        assert!(Quantity::parse("99999999999999", Unit::G).is_err());
        assert!(matches!(
            "stone".parse::<Unit>(),
            Err(QuantityError::UnknownUnit(_))
        ));
        assert_eq!("KG".parse::<Unit>(), Ok(Unit::Kg));
    }

    #[test]
    fn price_rounds_half_up_to_the_fen() {
        // 1.5 jin of tomatoes at ¥4.50/jin = ¥6.75
        assert_eq!(
            Quantity::parse("1.5", Unit::Jin)
                .unwrap()
                .price(Fen::new(450)),
            Fen::new(675)
        );
        // 0.333 jin at ¥1.00 = 33.3 fen -> 33
        assert_eq!(
            Quantity::parse("0.333", Unit::Jin)
                .unwrap()
                .price(Fen::new(100)),
            Fen::new(33)
        );
        assert_eq!(
            Quantity::parse("0.335", Unit::Jin)
                .unwrap()
                .price(Fen::new(100)),
            Fen::new(34)
        );
    }

    fn weight_unit() -> impl Strategy<Value = Unit> {
        prop::sample::select(vec![Unit::Jin, Unit::Liang, Unit::Kg, Unit::G, Unit::Lb])
    }

    proptest! {
        #[test]
        fn weight_round_trip_stays_within_rounding(milli in 1i64..40_000, a in weight_unit(), b in weight_unit()) {
            // 40 units of any weight unit is at most 40 kg, below the cap.
            let q = Quantity::new(milli, a).unwrap();
            if let Ok(there) = q.convert_to(b) {
                let back = there.convert_to(a).unwrap();
                // One rounding step in each direction: at most one thousandth of the larger unit.
                let grams = |x: Quantity| x.milli() as f64 * x.unit().milligrams().unwrap() as f64 / 1e6;
                let tolerance = a.milligrams().unwrap().max(b.milligrams().unwrap()) as f64 / 1e6 + 1e-9;
                prop_assert!((grams(back) - grams(q)).abs() <= tolerance);
            }
        }

        #[test]
        fn valid_quantities_are_positive_and_bounded(milli in any::<i64>(), unit in prop::sample::select(Unit::ALL.to_vec())) {
            if let Ok(q) = Quantity::new(milli, unit) {
                prop_assert!(q.milli() > 0);
                if unit.is_weight() {
                    prop_assert!(q.convert_to(Unit::G).unwrap().milli() <= MAX_GRAMS * 1000);
                } else {
                    prop_assert_eq!(q.milli() % 1000, 0);
                }
            }
        }

        #[test]
        fn parse_never_panics(s in ".{0,20}") {
            let _ = Quantity::parse(&s, Unit::Jin);
        }
    }
}
