//! Parser for daily sales histories in `series_id,date,quantity` CSV form.
//!
//! The parser is pure (`&str` in, series out) so the CLI decides where the text comes from.
//! Rows may come in any order; a day missing inside a series' date range counts as zero sales
//! (point-of-sale exports often omit days without sales), and two rows for the same series and
//! day are added together.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::series::SalesSeries;

/// Why a sales CSV could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SalesParseError {
    /// The text has no header line.
    #[error("the sales file is empty; expected a header `series_id,date,quantity`")]
    Empty,
    /// The header does not name the three expected columns.
    #[error("unexpected header `{0}`; expected `series_id,date,quantity`")]
    BadHeader(String),
    /// A data row does not have exactly three comma-separated fields.
    #[error("line {line}: expected 3 fields `series_id,date,quantity`, found {found}")]
    FieldCount {
        /// 1-based line number.
        line: usize,
        /// Number of fields found.
        found: usize,
    },
    /// A date is not in `YYYY-MM-DD` form.
    #[error("line {line}: `{value}` is not a date in YYYY-MM-DD form")]
    BadDate {
        /// 1-based line number.
        line: usize,
        /// The offending text.
        value: String,
    },
    /// A quantity is not a finite number.
    #[error("line {line}: `{value}` is not a finite quantity")]
    BadQuantity {
        /// 1-based line number.
        line: usize,
        /// The offending text.
        value: String,
    },
    /// A series id is blank.
    #[error("line {line}: the series_id is empty")]
    EmptySeriesId {
        /// 1-based line number.
        line: usize,
    },
    /// The header is there but no data rows follow.
    #[error("the sales file has a header but no rows")]
    NoRows,
}

/// Parses `series_id,date,quantity` text into one [`SalesSeries`] per id, in order of first
/// appearance, each a gap-free daily grid from its first to its last date.
pub fn parse_sales_csv(text: &str) -> Result<Vec<SalesSeries>, SalesParseError> {
    let mut lines = text.lines().enumerate();
    let header = lines
        .by_ref()
        .find(|(_, l)| !l.trim().is_empty())
        .ok_or(SalesParseError::Empty)?
        .1;
    let columns: Vec<&str> = header
        .trim_start_matches('\u{feff}')
        .split(',')
        .map(str::trim)
        .collect();
    if columns != ["series_id", "date", "quantity"] {
        return Err(SalesParseError::BadHeader(header.to_string()));
    }

    let mut order: Vec<String> = Vec::new();
    let mut by_id: BTreeMap<String, BTreeMap<NaiveDate, f64>> = BTreeMap::new();
    for (index, raw) in lines {
        let line = index + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = raw.split(',').map(str::trim).collect();
        if fields.len() != 3 {
            return Err(SalesParseError::FieldCount {
                line,
                found: fields.len(),
            });
        }
        let id = fields[0];
        if id.is_empty() {
            return Err(SalesParseError::EmptySeriesId { line });
        }
        let date = NaiveDate::parse_from_str(fields[1], "%Y-%m-%d").map_err(|_| {
            SalesParseError::BadDate {
                line,
                value: fields[1].to_string(),
            }
        })?;
        let quantity = fields[2]
            .parse::<f64>()
            .ok()
            .filter(|q| q.is_finite())
            .ok_or_else(|| SalesParseError::BadQuantity {
                line,
                value: fields[2].to_string(),
            })?;
        let days = by_id.entry(id.to_string()).or_insert_with(|| {
            order.push(id.to_string());
            BTreeMap::new()
        });
        *days.entry(date).or_insert(0.0) += quantity;
    }
    if order.is_empty() {
        return Err(SalesParseError::NoRows);
    }

    let mut out = Vec::with_capacity(order.len());
    for id in order {
        let Some(days) = by_id.remove(&id) else {
            continue;
        };
        let (Some((&start, _)), Some((&end, _))) = (days.first_key_value(), days.last_key_value())
        else {
            continue;
        };
        let len = usize::try_from((end - start).num_days()).unwrap_or(0) + 1;
        let mut quantities = vec![0.0; len];
        for (date, q) in days {
            let offset = usize::try_from((date - start).num_days()).unwrap_or(0);
            quantities[offset] = q;
        }
        out.push(SalesSeries {
            id,
            start,
            quantities,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn parses_unsorted_rows_and_fills_missing_days_with_zero() {
        let text = "series_id,date,quantity\nb,2023-01-02,1\na,2023-01-03,2.5\na,2023-01-01,1\n";
        let series = parse_sales_csv(text).unwrap();
        assert_eq!(series.len(), 2);
        assert_eq!(series[0].id, "b");
        assert_eq!(series[1].id, "a");
        assert_eq!(series[1].start, d(2023, 1, 1));
        assert_eq!(series[1].quantities, vec![1.0, 0.0, 2.5]);
    }

    #[test]
    fn adds_duplicate_rows_of_the_same_day() {
        let text = "series_id,date,quantity\na,2023-01-01,1\na,2023-01-01,2\n";
        assert_eq!(parse_sales_csv(text).unwrap()[0].quantities, vec![3.0]);
    }

    #[test]
    fn reports_bad_input_with_line_numbers() {
        let cases = [
            ("", SalesParseError::Empty),
            (
                "id,day,qty\n",
                SalesParseError::BadHeader("id,day,qty".into()),
            ),
            ("series_id,date,quantity\n", SalesParseError::NoRows),
            (
                "series_id,date,quantity\na,2023-01-01\n",
                SalesParseError::FieldCount { line: 2, found: 2 },
            ),
            (
                "series_id,date,quantity\na,01/02/2023,1\n",
                SalesParseError::BadDate {
                    line: 2,
                    value: "01/02/2023".into(),
                },
            ),
            (
                "series_id,date,quantity\na,2023-01-01,NaN\n",
                SalesParseError::BadQuantity {
                    line: 2,
                    value: "NaN".into(),
                },
            ),
            (
                "series_id,date,quantity\n,2023-01-01,1\n",
                SalesParseError::EmptySeriesId { line: 2 },
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_sales_csv(text), Err(expected), "input {text:?}");
        }
    }
}
