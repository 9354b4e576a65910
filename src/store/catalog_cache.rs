//! The active catalog with stock, kept in memory between writes.
//!
//! Every chat turn shows or checks the catalog (the NLU matches product names against it, the
//! dialog quotes prices and stock), and reading ~40 products with their stock rows was the
//! largest read of a turn. Products and stock only change through a handful of repository
//! writes, so each of them marks its transaction, and the commit of a marked transaction bumps
//! a generation that makes the next reader load the catalog again. Stock changes with every
//! order, products seldom: after a stock-only write the next reader reads the stock rows alone
//! and keeps the parsed products (a full read was three quarters products, 0.3 of 0.45 ms). Writers this process cannot see (another
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
    /// Bumped after every committed transaction that wrote products.
    products: AtomicU64,
    /// Bumped after every committed transaction that wrote products or stock.
    stock: AtomicU64,
    cached: std::sync::Mutex<Option<Cached>>,
}

/// The write generations a read of the catalog saw before it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Generations {
    products: u64,
    stock: u64,
}

#[derive(Debug)]
struct Cached {
    seen: Generations,
    /// When the products were read (a stock refresh keeps it: see [`MAX_AGE`]).
    loaded: Instant,
    catalog: Catalog,
}

/// What the cache holds for a reader.
#[derive(Debug)]
pub(crate) enum Lookup {
    /// Nothing was written since: serve it.
    Fresh(Catalog),
    /// Only stock was written since (an order's reservation, a receipt): the products stand,
    /// the stock levels are to be read again. `loaded` is when the products were read.
    StockStale { catalog: Catalog, loaded: Instant },
    /// Read everything.
    Stale,
}

impl CatalogCache {
    pub(crate) fn generations(&self) -> Generations {
        Generations {
            products: self.products.load(Ordering::Acquire),
            stock: self.stock.load(Ordering::Acquire),
        }
    }

    pub(crate) fn lookup(&self) -> Lookup {
        let now = self.generations();
        let cached = self.cached.lock().unwrap_or_else(|p| p.into_inner());
        match cached.as_ref() {
            Some(c) if c.seen.products == now.products && c.loaded.elapsed() < MAX_AGE => {
                if c.seen.stock == now.stock {
                    Lookup::Fresh(c.catalog.clone())
                } else {
                    Lookup::StockStale {
                        catalog: c.catalog.clone(),
                        loaded: c.loaded,
                    }
                }
            }
            _ => Lookup::Stale,
        }
    }

    /// Keeps a catalog read after `seen` was taken; its products were read at `loaded`.
    pub(crate) fn store(&self, seen: Generations, loaded: Instant, catalog: Catalog) {
        let mut cached = self.cached.lock().unwrap_or_else(|p| p.into_inner());
        *cached = Some(Cached {
            seen,
            loaded,
            catalog,
        });
    }

    /// After a committed write to products (and maybe stock).
    pub(crate) fn invalidate(&self) {
        self.products.fetch_add(1, Ordering::AcqRel);
        self.stock.fetch_add(1, Ordering::AcqRel);
    }

    /// After a committed write to stock only.
    pub(crate) fn invalidate_stock(&self) {
        self.stock.fetch_add(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn empty() -> Catalog {
        Arc::from(Vec::new())
    }

    #[test]
    fn a_write_committed_during_a_read_makes_that_read_stale() {
        let cache = CatalogCache::default();
        let before_read = cache.generations();
        cache.invalidate(); // a writer commits while the reader reads the old rows
        cache.store(before_read, Instant::now(), empty());
        assert!(
            matches!(cache.lookup(), Lookup::Stale),
            "the old rows must not be served"
        );
        cache.store(cache.generations(), Instant::now(), empty());
        assert!(matches!(cache.lookup(), Lookup::Fresh(_)));
    }

    #[test]
    fn a_stock_write_keeps_the_products_until_they_age() {
        let cache = CatalogCache::default();
        let read_at = Instant::now();
        cache.store(cache.generations(), read_at, empty());
        cache.invalidate_stock();
        let Lookup::StockStale { loaded, .. } = cache.lookup() else {
            panic!("only the stock levels are stale");
        };
        assert_eq!(loaded, read_at);
        // a stock refresh stored with the products' read time still ages out with them
        cache.store(cache.generations(), loaded, empty());
        assert!(matches!(cache.lookup(), Lookup::Fresh(_)));
        let long_ago = Instant::now().checked_sub(MAX_AGE * 2).unwrap_or(read_at);
        cache.store(cache.generations(), long_ago, empty());
        if long_ago != read_at {
            assert!(matches!(cache.lookup(), Lookup::Stale));
        }
        cache.store(cache.generations(), Instant::now(), empty());
        cache.invalidate();
        assert!(
            matches!(cache.lookup(), Lookup::Stale),
            "a product write reads everything"
        );
    }
}
