//! The active catalog with stock, kept in memory between writes.
//!
//! Every chat turn shows or checks the catalog (the NLU matches product names against it, the
//! dialog quotes prices and stock), and reading ~40 products with their stock rows was the
//! largest read of a turn. Stock only changes through a handful of repository writes, so each of
//! them marks its transaction, and the commit of a marked transaction bumps a generation that
//! makes the next reader load the catalog again. Writers this process cannot see (another
//! `freshbot` process on the same SQLite file, another instance on PostgreSQL) are picked up
//! after [`MAX_AGE`] at the latest. What a customer is shown may be that old; what is sold is
//! not: reservations are conditional UPDATEs in the order's own transaction.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::domain::{Product, StockLevel};

/// The active products with their stock, sorted by category then sku.
pub type Catalog = Arc<[(Product, StockLevel)]>;

/// How long a cached catalog may miss another process's stock writes.
pub const MAX_AGE: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
pub(crate) struct CatalogCache {
    /// Bumped after every committed transaction that wrote products or stock.
    generation: AtomicU64,
    cached: std::sync::Mutex<Option<Cached>>,
}

#[derive(Debug)]
struct Cached {
    generation: u64,
    loaded: Instant,
    catalog: Catalog,
}

impl CatalogCache {
    /// The generation to pass to [`CatalogCache::store`]; read it *before* reading the
    /// database, so that a write committed during the read makes the result stale at once.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub(crate) fn get(&self) -> Option<Catalog> {
        let now_generation = self.generation();
        let cached = self.cached.lock().unwrap_or_else(|p| p.into_inner());
        cached
            .as_ref()
            .filter(|c| c.generation == now_generation && c.loaded.elapsed() < MAX_AGE)
            .map(|c| c.catalog.clone())
    }

    pub(crate) fn store(&self, generation: u64, catalog: Catalog) {
        let mut cached = self.cached.lock().unwrap_or_else(|p| p.into_inner());
        *cached = Some(Cached {
            generation,
            loaded: Instant::now(),
            catalog,
        });
    }

    /// A transaction that wrote products or stock has committed.
    pub(crate) fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_committed_during_a_read_makes_that_read_stale() {
        let cache = CatalogCache::default();
        let before_read = cache.generation();
        cache.invalidate(); // a writer commits while the reader reads the old rows
        cache.store(before_read, Arc::from(Vec::new()));
        assert!(cache.get().is_none(), "the old rows must not be served");
        let g = cache.generation();
        cache.store(g, Arc::from(Vec::new()));
        assert!(cache.get().is_some());
    }
}
