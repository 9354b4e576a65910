//! The mis-pick check: every scan (or tap) of a picker is compared with the pick-list line
//! at once, so a wrong product or quantity is corrected before the order leaves the shelf.
//!
//! Quantities are integers in the line's base unit: grams for weighed produce, pieces for
//! counted goods. Weighed produce cannot be cut to the gram, so each line carries a
//! tolerance in the same unit.

use serde::Serialize;

/// What the pick list expects for one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedLine {
    /// Product sku (or barcode).
    pub sku: String,
    /// Quantity ordered, in the base unit.
    pub quantity: u32,
    /// Accepted deviation either way, in the base unit (0 for counted goods).
    pub tolerance: u32,
}

/// The verdict on one scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ScanOutcome {
    /// Right product, quantity within tolerance.
    Ok,
    /// A different product was scanned.
    WrongSku {
        /// Sku on the pick list.
        expected: String,
        /// Sku scanned.
        scanned: String,
    },
    /// More than ordered (beyond the tolerance): put the extra back.
    WrongQuantity {
        /// Quantity on the pick list.
        expected: u32,
        /// Quantity scanned.
        scanned: u32,
    },
    /// Less than ordered (beyond the tolerance): the shelf ran short, start the substitute
    /// flow for the missing part.
    Short {
        /// Quantity on the pick list.
        expected: u32,
        /// Quantity scanned.
        scanned: u32,
        /// What is missing.
        missing: u32,
    },
}

/// Checks one scan against the expected line. Skus are compared after trimming whitespace
/// (scanners often append a newline).
pub fn check_scan(
    expected: &ExpectedLine,
    scanned_sku: &str,
    scanned_quantity: u32,
) -> ScanOutcome {
    let scanned_sku = scanned_sku.trim();
    if scanned_sku != expected.sku.trim() {
        return ScanOutcome::WrongSku {
            expected: expected.sku.clone(),
            scanned: scanned_sku.to_string(),
        };
    }
    let low = expected.quantity.saturating_sub(expected.tolerance);
    let high = expected.quantity.saturating_add(expected.tolerance);
    if scanned_quantity > high {
        ScanOutcome::WrongQuantity {
            expected: expected.quantity,
            scanned: scanned_quantity,
        }
    } else if scanned_quantity < low {
        ScanOutcome::Short {
            expected: expected.quantity,
            scanned: scanned_quantity,
            missing: expected.quantity - scanned_quantity,
        }
    } else {
        ScanOutcome::Ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_outcome_of_a_scan() {
        let spinach = ExpectedLine {
            sku: "SPINACH-500G".into(),
            quantity: 500,
            tolerance: 25,
        };
        let cases = [
            ("SPINACH-500G", 500, ScanOutcome::Ok),
            ("SPINACH-500G\n", 480, ScanOutcome::Ok),
            ("SPINACH-500G", 525, ScanOutcome::Ok),
            (
                "BOKCHOY-500G",
                500,
                ScanOutcome::WrongSku {
                    expected: "SPINACH-500G".into(),
                    scanned: "BOKCHOY-500G".into(),
                },
            ),
            (
                "SPINACH-500G",
                600,
                ScanOutcome::WrongQuantity {
                    expected: 500,
                    scanned: 600,
                },
            ),
            (
                "SPINACH-500G",
                300,
                ScanOutcome::Short {
                    expected: 500,
                    scanned: 300,
                    missing: 200,
                },
            ),
            (
                "SPINACH-500G",
                0,
                ScanOutcome::Short {
                    expected: 500,
                    scanned: 0,
                    missing: 500,
                },
            ),
        ];
        for (sku, qty, want) in cases {
            assert_eq!(check_scan(&spinach, sku, qty), want, "{sku:?} {qty}");
        }
    }

    #[test]
    fn counted_goods_have_no_tolerance() {
        let tofu = ExpectedLine {
            sku: "TOFU".into(),
            quantity: 2,
            tolerance: 0,
        };
        assert_eq!(
            check_scan(&tofu, "TOFU", 3),
            ScanOutcome::WrongQuantity {
                expected: 2,
                scanned: 3
            }
        );
        assert_eq!(check_scan(&tofu, "TOFU", 2), ScanOutcome::Ok);
    }
}
