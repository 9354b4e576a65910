//! The public benchmark data sets the tests read from `../shared/data` (beside the repository,
//! never copied into it; each has its own README there). Where one is missing a test prints
//! what it skipped and why; with `FRESHBOT_REQUIRE_SHARED_DATA=1` (`.ci/run` sets it) it fails
//! instead, so a green CI never stands on a benchmark that did not run.
//!
//! Test support: nothing in the application reads these paths.

use std::path::PathBuf;

/// The variable that turns a missing data set into a failure.
pub const REQUIRE_VAR: &str = "FRESHBOT_REQUIRE_SHARED_DATA";

/// `../shared/data/<relative>`, relative to this crate's folder.
pub fn path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data")
        .join(relative)
}

/// The text of a data file, or `None` (printed) when it cannot be read and the data is not
/// required. Panics, naming the file, when it is required.
pub fn read(relative: &str) -> Option<String> {
    let p = path(relative);
    match std::fs::read_to_string(&p) {
        Ok(text) => Some(text),
        Err(e) => {
            missing(&format!("{} is not readable ({e})", p.display()));
            None
        }
    }
}

/// A data folder, or `None` (printed) when it is absent and not required.
pub fn dir(relative: &str) -> Option<PathBuf> {
    let p = path(relative);
    if p.is_dir() {
        Some(p)
    } else {
        missing(&format!("{} is absent", p.display()));
        None
    }
}

fn missing(why: &str) {
    let required = std::env::var(REQUIRE_VAR).is_ok_and(|v| v.trim() == "1");
    assert!(!required, "{REQUIRE_VAR}=1 but {why}");
    eprintln!("SKIPPED (shared data): {why}");
}
