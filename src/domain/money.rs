//! Money in integer fen (1 yuan = 100 fen). Floats never touch money.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, Sub};

use serde::{Deserialize, Serialize};

/// An amount of money in fen. Negative amounts are allowed only as intermediate results
/// (e.g. a discount line); prices in the catalog are validated to be positive.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Fen(i64);

impl Fen {
    pub const ZERO: Fen = Fen(0);

    pub const fn new(fen: i64) -> Self {
        Self(fen)
    }

    pub const fn from_yuan(yuan: i64) -> Self {
        Self(yuan * 100)
    }

    pub const fn get(self) -> i64 {
        self.0
    }

    /// `percent`% of this amount, rounded half up to the fen.
    pub fn percent(self, percent: u32) -> Fen {
        Fen((self.0 * i64::from(percent) + 50).div_euclid(100))
    }

    /// Whole yuan, rounded down (loyalty points are earned per whole yuan).
    pub fn whole_yuan(self) -> i64 {
        self.0.div_euclid(100)
    }
}

impl Add for Fen {
    type Output = Fen;
    fn add(self, rhs: Fen) -> Fen {
        Fen(self.0 + rhs.0)
    }
}

impl Sub for Fen {
    type Output = Fen;
    fn sub(self, rhs: Fen) -> Fen {
        Fen(self.0 - rhs.0)
    }
}

impl Sum for Fen {
    fn sum<I: Iterator<Item = Fen>>(iter: I) -> Fen {
        Fen(iter.map(|f| f.0).sum())
    }
}

/// Shown to customers as `¥12.50`.
impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}¥{}.{:02}", abs / 100, abs % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_as_yuan_with_two_decimals() {
        assert_eq!(Fen::new(1250).to_string(), "¥12.50");
        assert_eq!(Fen::new(5).to_string(), "¥0.05");
        assert_eq!(Fen::new(-310).to_string(), "-¥3.10");
    }

    #[test]
    fn percent_rounds_half_up() {
        assert_eq!(Fen::new(1000).percent(10), Fen::new(100));
        assert_eq!(Fen::new(1005).percent(10), Fen::new(101)); // 100.5 -> 101
        assert_eq!(Fen::new(1004).percent(10), Fen::new(100));
        assert_eq!(Fen::new(0).percent(10), Fen::ZERO);
    }

    #[test]
    fn sums_and_whole_yuan() {
        let total: Fen = [Fen::new(199), Fen::new(1)].into_iter().sum();
        assert_eq!(total, Fen::from_yuan(2));
        assert_eq!(Fen::new(5999).whole_yuan(), 59);
    }
}
