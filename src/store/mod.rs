//! Storage: sea-orm entities and repositories. The only module that imports sea-orm.
//!
//! The default database is an embedded SQLite file in WAL mode; a `postgres://` URL runs the
//! same code on PostgreSQL. Write transactions on SQLite start with `BEGIN IMMEDIATE` so that a
//! transaction that reads and then writes never fails half-way on a lock upgrade.
//!
//! SQLite has one writer at a time. Left to itself, a second writer polls on the busy timeout
//! with sleeps of up to 100 ms, which made the p99 of chat turns under 32 concurrent customers
//! 170 ms. So writers of this process queue on an async mutex (first come, first served, no
//! sleeping) before `BEGIN IMMEDIATE`; the busy timeout remains for other processes on the same
//! file (a CLI command while `serve` runs).
//!
//! On a SQLite file, every transaction skips sqlx and runs inline on the store's own rusqlite
//! connections (see `inline_sqlite`): sea-orm still builds each statement and maps each row,
//! through [`Conn`]. sqlx serves PostgreSQL, in-memory SQLite and the migrations.

mod catalog_cache;
pub mod entities;
mod inline_sqlite;
pub mod repo;
mod turn;

use catalog_cache::Lookup;
pub use catalog_cache::{Catalog, MAX_AGE as CATALOG_MAX_AGE};
pub use turn::{Saved, SlotUsage, StateRead, TurnSnapshot, TurnWrite, zones_of};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use migration::MigratorTrait;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    ExecResult, QueryResult, SqliteTransactionMode, Statement, TransactionOptions,
    TransactionTrait,
};

pub use sea_orm::DbErr;

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or a query failed.
    #[error("database error: {0}")]
    Db(#[from] DbErr),
    /// A stored value could not be read back into a domain type (a bug or a hand-edited row).
    #[error("corrupt row in {table}: {detail}")]
    Corrupt { table: &'static str, detail: String },
}

/// A unit of work. Repositories are methods on `Tx` (see `repo/`); services open one per use
/// case and commit it; dropping it rolls back, so an error half-way writes nothing.
pub struct Tx {
    inner: Conn,
    /// This process's SQLite write turn, held until commit or rollback (drop).
    _write_turn: Option<tokio::sync::OwnedMutexGuard<()>>,
    /// Set by repository writes to products; the commit then invalidates the cached catalog.
    products_written: AtomicBool,
    /// Set by repository writes to stock; the commit then marks the cached stock levels stale.
    stock_written: AtomicBool,
    catalog_cache: Arc<catalog_cache::CatalogCache>,
}

impl Tx {
    pub async fn commit(self) -> Result<(), StoreError> {
        let Tx {
            inner,
            _write_turn,
            products_written,
            stock_written,
            catalog_cache,
        } = self;
        match inner {
            Conn::Sea(t) => t.commit().await?,
            Conn::Inline(t) => t.commit()?,
        }
        if products_written.load(Ordering::Relaxed) {
            catalog_cache.invalidate();
        } else if stock_written.load(Ordering::Relaxed) {
            catalog_cache.invalidate_stock();
        }
        Ok(())
    }

    /// Marks this transaction as one that changes the products customers see.
    pub(crate) fn products_changed(&self) {
        self.products_written.store(true, Ordering::Relaxed);
    }

    /// Marks this transaction as one that changes the stock customers see.
    pub(crate) fn stock_changed(&self) {
        self.stock_written.store(true, Ordering::Relaxed);
    }

    pub(crate) fn c(&self) -> &Conn {
        &self.inner
    }
}

/// The connection of a [`Tx`]: a sea-orm (sqlx) transaction, or on a SQLite file a
/// transaction on one of the store's own rusqlite connections, run on the calling thread
/// (see `inline_sqlite`). Repositories see one `ConnectionTrait` either way.
#[derive(Debug)]
pub(crate) enum Conn {
    Sea(DatabaseTransaction),
    Inline(inline_sqlite::InlineTx),
}

#[async_trait::async_trait]
impl ConnectionTrait for Conn {
    fn get_database_backend(&self) -> DbBackend {
        match self {
            Conn::Sea(t) => t.get_database_backend(),
            Conn::Inline(_) => DbBackend::Sqlite,
        }
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        match self {
            Conn::Sea(t) => t.execute_raw(stmt).await,
            Conn::Inline(t) => t.execute_raw(stmt),
        }
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        match self {
            Conn::Sea(t) => t.execute_unprepared(sql).await,
            Conn::Inline(t) => t.execute_unprepared(sql),
        }
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        match self {
            Conn::Sea(t) => t.query_one_raw(stmt).await,
            Conn::Inline(t) => Ok(t.query_all_raw(stmt)?.into_iter().next()),
        }
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match self {
            Conn::Sea(t) => t.query_all_raw(stmt).await,
            Conn::Inline(t) => t.query_all_raw(stmt),
        }
    }
}

/// The file of a `sqlite:` URL; `None` for other databases and in-memory SQLite (whose data
/// lives in the one sqlx connection).
fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    use std::str::FromStr;
    if !url.starts_with("sqlite:") || url.contains(":memory:") || url.contains("mode=memory") {
        return None;
    }
    let opts = sea_orm::sqlx::sqlite::SqliteConnectOptions::from_str(url).ok()?;
    Some(opts.get_filename().to_owned())
}

/// Whether a database error is a unique-constraint violation (a lost insert race).
pub(crate) fn is_unique_violation(e: &DbErr) -> bool {
    matches!(
        e.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    ) || inline_sqlite::is_unique_violation(e)
}

/// A handle to the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    db: DatabaseConnection,
    /// SQLite only: the queue of this process's writers.
    writers: Option<Arc<tokio::sync::Mutex<()>>>,
    /// A SQLite file: the chat turn's statements run inline (see `turn`).
    inline: Option<Arc<inline_sqlite::InlineSqlite>>,
    catalog_cache: Arc<catalog_cache::CatalogCache>,
}

impl Store {
    /// Opens (creating if needed) the database at `url` and applies pending migrations.
    #[tracing::instrument(skip_all, fields(backend))]
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let mut opts = ConnectOptions::new(url.to_owned());
        opts.sqlx_logging(false)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(Duration::from_secs(30));
        if url.starts_with("sqlite:") {
            opts.map_sqlx_sqlite_opts(|o| {
                o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(30))
                    .foreign_keys(true)
                    // Read pages through a memory map: after another connection's commit, a
                    // connection's page cache is stale and would re-read pages with pread.
                    .pragma("mmap_size", "268435456")
            });
            // In-memory databases are per connection: keep exactly one.
            if url.contains(":memory:") {
                opts.max_connections(1).min_connections(1);
            } else {
                opts.max_connections(8);
            }
            // A SQLite connection is a file handle: it cannot go stale, and sqlx's ping before
            // every checkout is one more round trip to the connection's worker thread.
            opts.test_before_acquire(false);
        } else {
            // A server connection can drop while idle; ping only those idle for a while.
            opts.max_connections(16)
                .test_before_acquire_if_idle_for(Duration::from_secs(10));
        }
        let db = Database::connect(opts).await?;
        migration::Migrator::up(&db, None).await?;
        tracing::Span::current().record("backend", format!("{:?}", db.get_database_backend()));
        let writers = (db.get_database_backend() == DbBackend::Sqlite)
            .then(|| Arc::new(tokio::sync::Mutex::new(())));
        let inline = sqlite_file(url).map(|path| {
            let inline = Arc::new(inline_sqlite::InlineSqlite::new(&path));
            inline.start_checkpointer();
            inline
        });
        Ok(Self {
            db,
            writers,
            inline,
            catalog_cache: Arc::default(),
        })
    }

    /// This store with the chat turn's statements on sea-orm too, as on PostgreSQL: lets a
    /// test compare the inline SQLite path with the sea-orm one on the same file.
    pub fn without_inline_sqlite(&self) -> Self {
        Self {
            inline: None,
            ..self.clone()
        }
    }

    pub fn conn(&self) -> &DatabaseConnection {
        &self.db
    }

    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// Starts a write transaction (`BEGIN IMMEDIATE` on SQLite).
    pub async fn begin_write(&self) -> Result<Tx, StoreError> {
        let opts = TransactionOptions {
            sqlite_transaction_mode: (self.backend() == DbBackend::Sqlite)
                .then_some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        };
        let turn = match &self.writers {
            Some(w) => Some(w.clone().lock_owned().await),
            None => None,
        };
        let inner = match &self.inline {
            Some(inline) => Conn::Inline(inline.begin(inline_sqlite::TxKind::Write)?),
            None => Conn::Sea(self.db.begin_with_options(opts).await?),
        };
        Ok(Tx {
            inner,
            _write_turn: turn,
            products_written: AtomicBool::new(false),
            stock_written: AtomicBool::new(false),
            catalog_cache: self.catalog_cache.clone(),
        })
    }

    /// Starts a read-only unit of work (a deferred transaction: a consistent snapshot).
    pub async fn begin_read(&self) -> Result<Tx, StoreError> {
        let inner = match &self.inline {
            Some(inline) => Conn::Inline(inline.begin(inline_sqlite::TxKind::Read)?),
            None => Conn::Sea(self.db.begin().await?),
        };
        Ok(Tx {
            inner,
            _write_turn: None,
            products_written: AtomicBool::new(false),
            stock_written: AtomicBool::new(false),
            catalog_cache: self.catalog_cache.clone(),
        })
    }

    /// The active catalog with stock, from memory unless a write (or [`CATALOG_MAX_AGE`]) made
    /// it stale. For what customers are shown; use cases that sell read stock in their own
    /// transaction.
    pub async fn catalog(&self) -> Result<Catalog, StoreError> {
        let lookup = self.catalog_cache.lookup();
        // noted before reading: a write committed during the read leaves what it read stale
        let seen = self.catalog_cache.generations();
        let (fresh, loaded): (Catalog, _) = match lookup {
            Lookup::Fresh(c) => return Ok(c),
            Lookup::StockStale { catalog, loaded } => {
                let levels = match &self.inline {
                    Some(inline) => inline.read(|c| c.stock_levels())?,
                    None => self.begin_read().await?.stock_levels().await?,
                };
                let products = catalog.iter().map(|(p, _)| p.clone());
                (repo::with_levels(products, &levels).into(), loaded)
            }
            Lookup::Stale => {
                let loaded = std::time::Instant::now();
                let all = match &self.inline {
                    Some(inline) => inline.read(|c| c.catalog())?,
                    None => self.begin_read().await?.catalog().await?,
                };
                (all.into(), loaded)
            }
        };
        self.catalog_cache.store(seen, loaded, fresh.clone());
        Ok(fresh)
    }

    /// Checks the database answers (for `/readyz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        Ok(self.db.ping().await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Channel, Lang};

    /// What a few repository calls return, to compare the inline and the sqlx paths.
    async fn exercise(store: &Store, user: &str) -> Result<String, StoreError> {
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-25T07:30:00.25+08:00")
            .map_err(|e| StoreError::Corrupt {
                table: "test",
                detail: e.to_string(),
            })?
            .to_utc();
        let tx = store.begin_write().await?;
        let first = tx
            .create_customer(Channel::Web, user, Lang::En, now)
            .await?;
        // the same identity again: nothing created, and the transaction goes on
        let again = tx
            .create_customer(Channel::Web, user, Lang::En, now)
            .await?;
        tx.insert_web_session(&format!("hash-{user}"), user, now)
            .await?;
        tx.commit().await?;
        let tx = store.begin_read().await?;
        let found = tx.customer_by_identity(Channel::Web, user).await?;
        let session = tx.web_session_user(&format!("hash-{user}")).await?;
        let saves = tx.cancel_saves_count().await?;
        Ok(format!(
            "{:?} {:?} {:?} {:?} {saves}",
            first.map(|c| (c.lang, c.name)),
            again.map(|c| c.id),
            found.map(|c| (c.lang, c.name)),
            session.as_deref() == Some(user),
        ))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn inline_and_sqlx_transactions_read_and_write_alike() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let store = Store::connect(&url).await.unwrap();
        assert!(store.inline.is_some(), "a SQLite file runs inline");
        let inline = exercise(&store, "inline-user").await.unwrap();
        let sqlx = exercise(&store.without_inline_sqlite(), "sqlx-user")
            .await
            .unwrap();
        assert_eq!(inline, sqlx);
        assert_eq!(inline, "Some((En, None)) None Some((En, None)) true 0");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_cached_catalog_follows_stock_and_product_writes() {
        use crate::domain::{Fen, Product, Sku, Unit};
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        for store in [
            Store::connect(&url).await.unwrap(),
            Store::connect("sqlite::memory:").await.unwrap(),
        ] {
            let mut tomato = Product {
                sku: Sku::parse("veg-tomato").unwrap(),
                name_zh: "西红柿".into(),
                name_en: "tomato".into(),
                aliases: vec!["番茄".into()],
                category: "veg".into(),
                warehouse_zone: "A".into(),
                unit: Unit::Jin,
                price: Fen::new(450),
                substitutable: true,
            };
            let now = chrono::Utc::now();
            let tx = store.begin_write().await.unwrap();
            tx.upsert_product(&tomato).await.unwrap();
            tx.ensure_stock(&tomato.sku, 10_000, 1_000, now)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            let level = |c: &Catalog| (c.len(), c[0].1.available_milli(), c[0].0.name_en.clone());
            assert_eq!(
                level(&store.catalog().await.unwrap()),
                (1, 10_000, "tomato".into())
            );

            // an order's reservation: the stock levels are read again, the products kept
            let tx = store.begin_write().await.unwrap();
            assert!(tx.reserve_stock(&tomato.sku, 4_000).await.unwrap());
            tx.commit().await.unwrap();
            assert!(matches!(
                store.catalog_cache.lookup(),
                Lookup::StockStale { .. }
            ));
            assert_eq!(
                level(&store.catalog().await.unwrap()),
                (1, 6_000, "tomato".into())
            );
            assert!(matches!(store.catalog_cache.lookup(), Lookup::Fresh(_)));

            // a product write reads everything again
            tomato.name_en = "tomatoes".into();
            let tx = store.begin_write().await.unwrap();
            tx.upsert_product(&tomato).await.unwrap();
            tx.commit().await.unwrap();
            assert!(matches!(store.catalog_cache.lookup(), Lookup::Stale));
            assert_eq!(
                level(&store.catalog().await.unwrap()),
                (1, 6_000, "tomatoes".into())
            );

            // a rolled-back write changes nothing
            let tx = store.begin_write().await.unwrap();
            assert!(tx.reserve_stock(&tomato.sku, 1_000).await.unwrap());
            drop(tx);
            assert!(matches!(store.catalog_cache.lookup(), Lookup::Fresh(_)));
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_wal_is_checkpointed_off_the_request_path() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.db");
        let store = Store::connect(&format!("sqlite://{}?mode=rwc", file.display()))
            .await
            .unwrap();
        let now = chrono::Utc::now();
        for i in 0..300 {
            let tx = store.begin_write().await.unwrap();
            tx.insert_web_session(&format!("h{i}"), "u", now)
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
        // Commits never checkpoint (wal_autocheckpoint = 0); the checkpointer thread copies
        // the pages from the WAL into the database file within a second or so.
        let probe = rusqlite::Connection::open(&file).unwrap();
        let pages: i64 = probe
            .query_row(
                "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let mut in_file = 0;
        for _ in 0..40 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            in_file = i64::try_from(std::fs::metadata(&file).unwrap().len()).unwrap();
            if in_file == pages {
                break;
            }
        }
        assert_eq!(in_file, pages, "every page is in the database file");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_in_an_inline_read_transaction_fails_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let store = Store::connect(&url).await.unwrap();
        let writing = store.begin_write().await.unwrap();
        let read = store.begin_read().await.unwrap();
        let started = std::time::Instant::now();
        let refused = read.insert_web_session("h", "u", chrono::Utc::now()).await;
        assert!(refused.is_err(), "a read transaction cannot write");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "without waiting for the writer"
        );
        drop(read);
        writing.commit().await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_dropped_inline_transaction_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let store = Store::connect(&url).await.unwrap();
        let now = chrono::Utc::now();
        {
            let tx = store.begin_write().await.unwrap();
            tx.insert_web_session("h", "u", now).await.unwrap();
        }
        let tx = store.begin_write().await.unwrap();
        assert_eq!(tx.web_session_user("h").await.unwrap(), None);
        tx.insert_web_session("h", "u", now).await.unwrap();
        tx.commit().await.unwrap();
        let read = store.without_inline_sqlite().begin_read().await.unwrap();
        assert_eq!(read.web_session_user("h").await.unwrap(), Some("u".into()));
    }
}
