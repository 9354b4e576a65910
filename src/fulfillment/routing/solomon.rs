//! Parser for the Solomon / Gehring-Homberger VRPTW text format (pure: `&str` in, data out).
//!
//! ```text
//! C101
//!
//! VEHICLE
//! NUMBER     CAPACITY
//!   25         200
//!
//! CUSTOMER
//! CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME
//!
//!     0      40         50          0          0       1236          0
//!     1      45         68         10        912        967         90
//! ```
//! Row 0 is the depot; customers follow. Distances are Euclidean in double precision and travel
//! time equals distance.

use super::{EuclideanMatrix, Instance, RoutingError, Stop};

/// A parsed Solomon file.
#[derive(Debug, Clone, PartialEq)]
pub struct SolomonFile {
    /// Instance name (first line).
    pub name: String,
    /// Fleet size.
    pub vehicles: usize,
    /// Capacity of every vehicle.
    pub capacity: i64,
    /// Rows in file order; row 0 is the depot.
    pub rows: Vec<SolomonRow>,
}

/// One customer (or depot) row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SolomonRow {
    /// `CUST NO.` column.
    pub id: usize,
    /// X coordinate.
    pub x: f64,
    /// Y coordinate.
    pub y: f64,
    /// Demand.
    pub demand: i64,
    /// Ready time (window opens).
    pub ready: f64,
    /// Due date (latest start of service).
    pub due: f64,
    /// Service time.
    pub service: f64,
}

/// Why a Solomon file could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    /// 1-based line number (0 when the problem is the file as a whole).
    pub line: usize,
    /// What is wrong and what was expected.
    pub message: String,
}

fn err(line: usize, message: impl Into<String>) -> ParseError {
    ParseError {
        line,
        message: message.into(),
    }
}

/// Parses the text of a Solomon-format file.
pub fn parse_solomon(text: &str) -> Result<SolomonFile, ParseError> {
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim()));
    let mut next_nonblank = |what: &str| -> Result<(usize, &str), ParseError> {
        lines
            .by_ref()
            .find(|(_, l)| !l.is_empty())
            .ok_or_else(|| err(0, format!("unexpected end of file: expected {what}")))
    };
    let (_, name) = next_nonblank("the instance name")?;
    let name = name.to_string();
    let (ln, l) = next_nonblank("the VEHICLE section")?;
    if !l.eq_ignore_ascii_case("VEHICLE") {
        return Err(err(ln, format!("expected `VEHICLE`, found `{l}`")));
    }
    let (ln, l) = next_nonblank("the `NUMBER CAPACITY` header")?;
    if !l.to_ascii_uppercase().starts_with("NUMBER") {
        return Err(err(
            ln,
            format!("expected the `NUMBER CAPACITY` header, found `{l}`"),
        ));
    }
    let (ln, l) = next_nonblank("the vehicle number and capacity")?;
    let nums: Vec<&str> = l.split_whitespace().collect();
    if nums.len() != 2 {
        return Err(err(
            ln,
            format!("expected 2 numbers (vehicles, capacity), found `{l}`"),
        ));
    }
    let vehicles: usize = nums[0].parse().map_err(|_| {
        err(
            ln,
            format!("vehicle number `{}` is not a whole number", nums[0]),
        )
    })?;
    let capacity: i64 = nums[1]
        .parse()
        .map_err(|_| err(ln, format!("capacity `{}` is not a whole number", nums[1])))?;
    if vehicles == 0 {
        return Err(err(ln, "vehicle number must be at least 1"));
    }
    if capacity < 0 {
        return Err(err(ln, "capacity must not be negative"));
    }
    let (ln, l) = next_nonblank("the CUSTOMER section")?;
    if !l.eq_ignore_ascii_case("CUSTOMER") {
        return Err(err(ln, format!("expected `CUSTOMER`, found `{l}`")));
    }
    let (ln, l) = next_nonblank("the customer column header")?;
    if !l.to_ascii_uppercase().starts_with("CUST") {
        return Err(err(
            ln,
            format!("expected the customer column header, found `{l}`"),
        ));
    }
    let mut rows = Vec::new();
    for (ln, l) in lines {
        if l.is_empty() {
            continue;
        }
        let f: Vec<&str> = l.split_whitespace().collect();
        if f.len() != 7 {
            return Err(err(
                ln,
                format!(
                    "expected 7 columns (no, x, y, demand, ready, due, service), found {}",
                    f.len()
                ),
            ));
        }
        let num = |i: usize, col: &str| -> Result<f64, ParseError> {
            f[i].parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| err(ln, format!("{col} `{}` is not a number", f[i])))
        };
        let id: usize = f[0].parse().map_err(|_| {
            err(
                ln,
                format!("customer number `{}` is not a whole number", f[0]),
            )
        })?;
        let demand: i64 = f[3]
            .parse()
            .map_err(|_| err(ln, format!("demand `{}` is not a whole number", f[3])))?;
        let row = SolomonRow {
            id,
            x: num(1, "x")?,
            y: num(2, "y")?,
            demand,
            ready: num(4, "ready time")?,
            due: num(5, "due date")?,
            service: num(6, "service time")?,
        };
        if row.id != rows.len() {
            return Err(err(
                ln,
                format!(
                    "customer number {} out of order: expected {}",
                    row.id,
                    rows.len()
                ),
            ));
        }
        if row.demand < 0 {
            return Err(err(ln, "demand must not be negative"));
        }
        if row.ready > row.due {
            return Err(err(
                ln,
                format!("ready time {} is after due date {}", row.ready, row.due),
            ));
        }
        if row.service < 0.0 {
            return Err(err(ln, "service time must not be negative"));
        }
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(err(0, "no depot row: the CUSTOMER section is empty"));
    }
    Ok(SolomonFile {
        name,
        vehicles,
        capacity,
        rows,
    })
}

impl SolomonFile {
    /// The routing instance: Euclidean distances, travel time = distance.
    pub fn to_instance(&self) -> Result<Instance, RoutingError> {
        let matrix = EuclideanMatrix::new(self.rows.iter().map(|r| (r.x, r.y)).collect());
        let stops = self
            .rows
            .iter()
            .map(|r| Stop {
                demand: r.demand,
                ready: r.ready,
                due: r.due,
                service: r.service,
                priority: 0.0,
            })
            .collect();
        Instance::new(
            self.name.clone(),
            stops,
            self.capacity,
            self.vehicles,
            &matrix,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TINY: &str = "T1\r\n\r\nVEHICLE\r\nNUMBER     CAPACITY\r\n  2         10\r\n\r\nCUSTOMER\r\nCUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME\r\n \r\n    0      0         0          0          0       100          0\r\n    1      3         4          5          0       50         1\r\n";

    #[test]
    fn parses_crlf_file_with_depot_and_customer() {
        let f = parse_solomon(TINY).unwrap();
        assert_eq!(f.name, "T1");
        assert_eq!((f.vehicles, f.capacity), (2, 10));
        assert_eq!(f.rows.len(), 2);
        assert_eq!(f.rows[1].demand, 5);
        let inst = f.to_instance().unwrap();
        assert_eq!(inst.clients(), 1);
    }

    #[test]
    fn malformed_files_give_line_numbered_errors() {
        let cases: &[(&str, usize, &str)] = &[
            ("", 0, "end of file"),
            ("X\nVEHICLES\n", 2, "VEHICLE"),
            ("X\nVEHICLE\nNUMBER CAPACITY\n 2\n", 4, "2 numbers"),
            ("X\nVEHICLE\nNUMBER CAPACITY\n a 3\n", 4, "vehicle number"),
            (
                "X\nVEHICLE\nNUMBER CAPACITY\n 2 3\nCUSTOMER\nCUST\n0 0 0 0 0 10\n",
                7,
                "7 columns",
            ),
            (
                "X\nVEHICLE\nNUMBER CAPACITY\n 2 3\nCUSTOMER\nCUST\n0 0 0 0 0 10 zz\n",
                7,
                "service time",
            ),
            (
                "X\nVEHICLE\nNUMBER CAPACITY\n 2 3\nCUSTOMER\nCUST\n0 0 0 0 20 10 0\n",
                7,
                "after due",
            ),
            (
                "X\nVEHICLE\nNUMBER CAPACITY\n 2 3\nCUSTOMER\nCUST\n0 0 0 0 0 10 0\n2 0 0 0 0 10 0\n",
                8,
                "out of order",
            ),
            (
                "X\nVEHICLE\nNUMBER CAPACITY\n 2 3\nCUSTOMER\nCUST\n",
                0,
                "no depot",
            ),
        ];
        for (text, line, needle) in cases {
            let e = parse_solomon(text).unwrap_err();
            assert_eq!(e.line, *line, "{text:?}: {e}");
            assert!(e.to_string().contains(needle), "{text:?}: {e}");
        }
    }

    #[test]
    fn parses_every_shipped_solomon_file() {
        let Some(dir) = crate::shared_data::dir("vrp/solomon") else {
            return;
        };
        let entries = std::fs::read_dir(&dir).unwrap();
        let mut count = 0;
        for e in entries.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "txt") {
                let text = std::fs::read_to_string(&p).unwrap();
                let f = parse_solomon(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                assert_eq!(f.rows.len(), 101, "{}", p.display());
                count += 1;
            }
        }
        assert_eq!(count, 56);
    }
}
