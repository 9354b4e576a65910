//! SQLite without a thread hand-off per statement, for the statements of a chat turn.
//!
//! sqlx runs every SQLite connection on a worker thread of its own, so each statement is a
//! message to that thread and a wake-up back (BEGIN and COMMIT included). For a chat turn,
//! whose dozen statements are point lookups of a few microseconds each, those hand-offs cost
//! more than SQLite itself: futex wake-ups and context switches were a quarter of the CPU of
//! the turn benchmark, and an order placement (some thirty statements) held the single writer
//! for 5-7 ms. Here transactions run on rusqlite connections owned by this module,
//! synchronously on the calling task's thread:
//! - a reader in WAL mode never waits for a writer (it reads a snapshot), so a read cannot
//!   block the runtime;
//! - a write runs only while its caller holds the store's writer queue (see `Store`), so
//!   `BEGIN IMMEDIATE` here can only find the file locked by another process (a CLI command's
//!   transaction). It then waits up to the busy timeout, but with the runtime told first
//!   (`block_in_place`), so the thread's other tasks move on and the server keeps answering.
//!
//! The SQL is not written twice: statements are the sea-orm builders the repositories use,
//! rendered for SQLite. An [`InlineTx`] is the connection of a `Tx` (sea-orm hands it every
//! statement); the chat turn's hottest reads also use [`Inline`] directly, which decodes rows
//! straight into the entity's `Model`. Either way a value is typed by the entity column it
//! comes from (`column_types`; SQLite's column metadata names that column), and bound the way
//! sqlx binds it (timestamps as RFC 3339 text), so rows written here and by sqlx read alike.
//!
//! One caveat of sea-orm's row type here: `into_tuple` reads columns by position, which in
//! these rows is the order of the column names. Select into a model (by name) instead.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{Connection, OpenFlags};
use sea_orm::sea_query::Value;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ColumnType, DbBackend, DbErr, EntityTrait, ExecResult,
    IdenStatic, IntoMockRow, Iterable, MockDatabase, MockDatabaseTrait, MockExecResult,
    QueryResult, QueryTrait, RuntimeErr, Select, Statement, TryIntoModel,
};

use crate::store::StoreError;

/// Idle reader connections kept open (more are opened under load and closed after).
const MAX_IDLE_READERS: usize = 8;

/// Prepared statements kept per connection: a turn uses about a dozen distinct ones.
const STATEMENT_CACHE: usize = 64;

/// How long a statement waits for a lock held by another process (as the sqlx pool).
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// How often the checkpointer copies the WAL back into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// rusqlite connections to one SQLite file: a few readers and one writer.
pub(crate) struct InlineSqlite {
    path: PathBuf,
    readers: Mutex<Vec<Connection>>,
    writer: Mutex<Option<Connection>>,
}

impl std::fmt::Debug for InlineSqlite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InlineSqlite")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn err(detail: impl Into<Failure>) -> StoreError {
    StoreError::Db(match detail.into() {
        Failure::Unique(e) => DbErr::Exec(RuntimeErr::Internal(format!("{UNIQUE_VIOLATION}{e}"))),
        Failure::Other(e) => DbErr::Custom(format!("sqlite: {e}")),
    })
}

/// Why a statement failed, as far as callers tell failures apart.
enum Failure {
    /// A UNIQUE or PRIMARY KEY constraint refused a row (a lost insert race).
    Unique(String),
    Other(String),
}

impl From<rusqlite::Error> for Failure {
    fn from(e: rusqlite::Error) -> Self {
        // SQLITE_CONSTRAINT_PRIMARYKEY, SQLITE_CONSTRAINT_UNIQUE
        match e.sqlite_error().map(|s| s.extended_code) {
            Some(1555 | 2067) => Self::Unique(e.to_string()),
            _ => Self::Other(e.to_string()),
        }
    }
}

impl From<String> for Failure {
    fn from(e: String) -> Self {
        Self::Other(e)
    }
}

impl From<&str> for Failure {
    fn from(e: &str) -> Self {
        Self::Other(e.to_owned())
    }
}

impl From<std::num::TryFromIntError> for Failure {
    fn from(e: std::num::TryFromIntError) -> Self {
        Self::Other(e.to_string())
    }
}

/// The start of the message of a unique violation found here; sea-orm's `DbErr::sql_err`
/// only recognises sqlx's errors.
const UNIQUE_VIOLATION: &str = "sqlite: unique constraint violated: ";

/// Whether `e` is a unique violation reported by this module.
pub(crate) fn is_unique_violation(e: &DbErr) -> bool {
    matches!(e, DbErr::Exec(RuntimeErr::Internal(m)) if m.starts_with(UNIQUE_VIOLATION))
}

impl InlineSqlite {
    /// For the database file at `path` (already created and migrated by sqlx).
    pub(crate) fn new(path: &Path) -> Self {
        Self {
            path: path.to_owned(),
            readers: Mutex::new(Vec::new()),
            writer: Mutex::new(None),
        }
    }

    fn open(&self) -> Result<Connection, StoreError> {
        let c = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(err)?;
        // The settings of the sqlx pool (see `Store::connect`); WAL is a property of the file.
        c.busy_timeout(BUSY_TIMEOUT).map_err(err)?;
        // No automatic checkpoints: SQLite runs one inside the COMMIT that finds the WAL past
        // 1,000 pages, which then writes the pages back and fsyncs the file on the runtime's
        // thread (11-300 ms stalls of a turn, about once a second under load). The
        // checkpointer thread does it instead (`start_checkpointer`).
        c.execute_batch(
            "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA mmap_size = 268435456;
             PRAGMA wal_autocheckpoint = 0;",
        )
        .map_err(err)?;
        c.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(c)
    }

    /// Starts the thread that checkpoints the WAL every [`CHECKPOINT_EVERY`] (PASSIVE: it
    /// never waits for readers or the writer); it ends once the store is dropped.
    pub(crate) fn start_checkpointer(self: &Arc<Self>) {
        let owner = Arc::downgrade(self);
        let conn = match self.open() {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "cannot open the WAL checkpointer's connection");
                return;
            }
        };
        let spawned = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(CHECKPOINT_EVERY);
                    if owner.strong_count() == 0 {
                        return;
                    }
                    let done = conn
                        .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(0));
                    if let Err(e) = done {
                        tracing::debug!(error = %e, "WAL checkpoint skipped");
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "cannot start the WAL checkpointer");
        }
    }

    /// A reader connection from the pool, or a new one.
    fn take_reader(&self) -> Result<Connection, StoreError> {
        let taken = self.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
        match taken {
            Some(c) => Ok(c),
            None => {
                let c = self.open()?;
                // A write in a read transaction would have to wait for the writer's lock on
                // the runtime's thread; refused at once instead, it is a bug that shows.
                c.execute_batch("PRAGMA query_only = ON").map_err(err)?;
                Ok(c)
            }
        }
    }

    /// The writer connection (opened on first use, and again after a failed transaction).
    fn take_writer(&self) -> Result<Connection, StoreError> {
        let taken = self.writer.lock().unwrap_or_else(|p| p.into_inner()).take();
        match taken {
            Some(c) => Ok(c),
            None => self.open(),
        }
    }

    /// Gives back a connection whose transaction ended cleanly.
    fn give_back(&self, conn: Connection, kind: TxKind) {
        match kind {
            TxKind::Write => *self.writer.lock().unwrap_or_else(|p| p.into_inner()) = Some(conn),
            TxKind::Read => {
                let mut idle = self.readers.lock().unwrap_or_else(|p| p.into_inner());
                if idle.len() < MAX_IDLE_READERS {
                    idle.push(conn);
                }
            }
        }
    }

    /// Starts a transaction: a deferred one (a snapshot) on a reader, or `BEGIN IMMEDIATE` on
    /// the writer, which the caller may only do while it holds the store's writer queue.
    pub(crate) fn begin(self: &Arc<Self>, kind: TxKind) -> Result<InlineTx, StoreError> {
        let conn = match kind {
            TxKind::Read => {
                let conn = self.take_reader()?;
                conn.execute_batch("BEGIN DEFERRED").map_err(err)?;
                conn
            }
            TxKind::Write => {
                let conn = self.take_writer()?;
                begin_immediate(&conn)?;
                conn
            }
        };
        Ok(InlineTx {
            owner: self.clone(),
            conn: Mutex::new(Some(conn)),
            kind,
        })
    }

    /// Runs `f` in a read transaction (one snapshot) on a reader connection.
    pub(crate) fn read<R>(
        self: &Arc<Self>,
        f: impl FnOnce(&Inline<'_>) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let tx = self.begin(TxKind::Read)?;
        let out = tx.with(|conn| f(&Inline { conn }))?;
        tx.commit()?;
        Ok(out)
    }

    /// Runs `f` in a write transaction (`BEGIN IMMEDIATE`), which ends as `f` says (an error
    /// rolls back). The caller must hold the store's writer queue.
    pub(crate) fn write<R>(
        self: &Arc<Self>,
        f: impl FnOnce(&Inline<'_>) -> Result<(R, Finish), StoreError>,
    ) -> Result<R, StoreError> {
        let tx = self.begin(TxKind::Write)?;
        let (out, finish) = tx.with(|conn| f(&Inline { conn }))?;
        match finish {
            Finish::Commit => tx.commit()?,
            Finish::Rollback => tx.rollback()?,
        }
        Ok(out)
    }
}

/// Which connection a transaction runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TxKind {
    Read,
    Write,
}

/// A transaction on one of the connections of [`InlineSqlite`]. Dropping it rolls back.
///
/// It serves as the connection of a `Tx` (see `Store`): sea-orm renders every repository
/// statement for SQLite and hands it here, and rows come back as sea-orm `QueryResult`s typed
/// by the entities' column types (see [`column_types`]).
pub(crate) struct InlineTx {
    owner: Arc<InlineSqlite>,
    /// `None` once committed or rolled back. A mutex because a `Tx` is shared (`&Tx` is
    /// `Sync`) while rusqlite's `Connection` is not; it is never held across an await.
    conn: Mutex<Option<Connection>>,
    kind: TxKind,
}

impl std::fmt::Debug for InlineTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InlineTx")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl InlineTx {
    fn with<R>(
        &self,
        f: impl FnOnce(&Connection) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let guard = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        match guard.as_ref() {
            Some(conn) => f(conn),
            None => Err(err("the transaction has already ended")),
        }
    }

    /// Runs `f` on this transaction's connection, as the chat turn's hottest reads and
    /// writes do (rows decoded straight into the entities' models).
    pub(crate) fn run<R>(
        &self,
        f: impl FnOnce(&Inline<'_>) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        self.with(|conn| f(&Inline { conn }))
    }

    pub(crate) fn commit(self) -> Result<(), StoreError> {
        self.end("COMMIT")
    }

    pub(crate) fn rollback(self) -> Result<(), StoreError> {
        self.end("ROLLBACK")
    }

    /// Ends the transaction; the connection goes back to the pool if it ended cleanly and is
    /// closed otherwise (it may be mid-transaction).
    fn end(&self, sql: &str) -> Result<(), StoreError> {
        let taken = self.conn.lock().unwrap_or_else(|p| p.into_inner()).take();
        let Some(conn) = taken else {
            return Ok(());
        };
        match conn.execute_batch(sql) {
            Ok(()) => {
                self.owner.give_back(conn, self.kind);
                Ok(())
            }
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                Err(err(e))
            }
        }
    }

    /// Runs an INSERT, UPDATE, DELETE or DDL statement.
    pub(crate) fn execute_raw(&self, st: Statement) -> Result<ExecResult, DbErr> {
        let done = self
            .with(|conn| {
                let mut stmt = conn.prepare_cached(&st.sql).map_err(err)?;
                bind(&mut stmt, &st)?;
                let changed = stmt.raw_execute().map_err(err)?;
                Ok(MockExecResult {
                    // SQLite's rowids are positive
                    last_insert_id: u64::try_from(conn.last_insert_rowid()).unwrap_or_default(),
                    rows_affected: changed as u64,
                })
            })
            .map_err(into_db_err)?;
        exec_result(done, st)
    }

    /// Runs SQL text as is (no parameters).
    pub(crate) fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        let done = self
            .with(|conn| {
                conn.execute_batch(sql).map_err(err)?;
                Ok(MockExecResult {
                    last_insert_id: u64::try_from(conn.last_insert_rowid()).unwrap_or_default(),
                    rows_affected: conn.changes(),
                })
            })
            .map_err(into_db_err)?;
        exec_result(done, Statement::from_string(DbBackend::Sqlite, sql))
    }

    /// Every row of a query, each value typed by the entity column it comes from.
    pub(crate) fn query_all_raw(&self, st: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let literal = literal_limit_one(&st);
        let rows = self
            .with(|conn| read_rows(conn, literal.as_ref().unwrap_or(&st)))
            .map_err(into_db_err)?;
        // sea-orm 2.0.4 builds a `QueryResult` only in its own drivers and its mock database
        // (its `proxy` feature, the API meant for this, does not compile with `sqlx-sqlite`):
        // the mock database hands back the rows it is given, as sea-orm rows.
        MockDatabase::new(DbBackend::Sqlite)
            .append_query_results([rows])
            .query(0, st)
    }
}

/// sea-orm's `.one()` binds its `LIMIT 1` as a parameter, and SQLite (3.51) treats a bound
/// LIMIT as something the plan depends on: the cached statement expires at every new binding
/// and is prepared again (`sqlite3Reprepare` was a fifth of an order placement's CPU). The same
/// statement with the literal `LIMIT 1` (the same query) stays prepared; `None` when `st` is
/// not of that shape.
fn literal_limit_one(st: &Statement) -> Option<Statement> {
    let head = st.sql.strip_suffix(" LIMIT ?")?;
    let values = st.values.as_ref()?;
    let (last, rest) = values.0.split_last()?;
    let one = matches!(
        last,
        Value::BigUnsigned(Some(1))
            | Value::BigInt(Some(1))
            | Value::Unsigned(Some(1))
            | Value::Int(Some(1))
    );
    one.then(|| Statement {
        sql: format!("{head} LIMIT 1"),
        values: Some(sea_orm::Values(rest.to_vec())),
        db_backend: st.db_backend,
    })
}

/// An `ExecResult` with these counts (see `query_all_raw` on why through the mock database).
fn exec_result(done: MockExecResult, st: Statement) -> Result<ExecResult, DbErr> {
    MockDatabase::new(DbBackend::Sqlite)
        .append_exec_results([done])
        .execute(0, st)
}

/// The rows of a query as sea-orm values, each typed by the entity column it comes from.
fn read_rows(conn: &Connection, st: &Statement) -> Result<Vec<sea_orm::MockRow>, StoreError> {
    let mut stmt = conn.prepare_cached(&st.sql).map_err(err)?;
    let columns: Vec<(String, Option<&'static ColumnType>)> = stmt
        .columns_with_metadata()
        .iter()
        .map(|c| {
            let ty = c
                .table_name()
                .zip(c.origin_name())
                .and_then(|(t, o)| column_types().get(t).and_then(|cols| cols.get(o)));
            (c.name().to_owned(), ty)
        })
        .collect();
    bind(&mut stmt, st)?;
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(err)? {
        let mut values = BTreeMap::new();
        for (i, (name, ty)) in columns.iter().enumerate() {
            let v = row.get_ref(i).map_err(err)?;
            let v = match ty {
                Some(ty) => decode(v, ty).map_err(|e| err(format!("column {name}: {e}")))?,
                None => untyped(v),
            };
            values.insert(name.clone(), v);
        }
        out.push(values.into_mock_row());
    }
    Ok(out)
}

impl Drop for InlineTx {
    fn drop(&mut self) {
        let _ = self.end("ROLLBACK");
    }
}

fn into_db_err(e: StoreError) -> DbErr {
    match e {
        StoreError::Db(e) => e,
        other => DbErr::Custom(other.to_string()),
    }
}

/// The column types of every entity, by table and column.
fn column_types() -> &'static HashMap<&'static str, HashMap<&'static str, ColumnType>> {
    static TYPES: LazyLock<HashMap<&'static str, HashMap<&'static str, ColumnType>>> =
        LazyLock::new(|| {
            let mut by_table: HashMap<&'static str, HashMap<&'static str, ColumnType>> =
                HashMap::new();
            for (table, column, ty) in crate::store::entities::column_types() {
                by_table.entry(table).or_default().insert(column, ty);
            }
            by_table
        });
    &TYPES
}

/// A value of no entity column (an expression such as `COUNT(*)`), by its storage class.
fn untyped(v: ValueRef<'_>) -> Value {
    match v {
        // NULL of any kind reads as `None` into an optional field
        ValueRef::Null => Value::BigInt(None),
        ValueRef::Integer(i) => Value::BigInt(Some(i)),
        ValueRef::Real(f) => Value::Double(Some(f)),
        ValueRef::Text(t) => Value::String(Some(String::from_utf8_lossy(t).into_owned())),
        ValueRef::Blob(b) => Value::Bytes(Some(b.to_vec())),
    }
}

/// `BEGIN IMMEDIATE`, first without waiting; if another process holds the write lock, waits
/// for it (up to the busy timeout) as blocking work the runtime knows about.
fn begin_immediate(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(Duration::ZERO).map_err(err)?;
    let first = conn.execute_batch("BEGIN IMMEDIATE");
    conn.busy_timeout(BUSY_TIMEOUT).map_err(err)?;
    match first {
        Ok(()) => Ok(()),
        Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) => {
            crate::runtime::off_async_workers(|| conn.execute_batch("BEGIN IMMEDIATE")).map_err(err)
        }
        Err(e) => Err(err(e)),
    }
}

/// How a write transaction ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Finish {
    Commit,
    Rollback,
}

/// A connection inside a transaction of [`InlineSqlite`].
pub(crate) struct Inline<'c> {
    conn: &'c Connection,
}

impl Inline<'_> {
    /// Every row of a sea-orm select, as the entity's models.
    pub(crate) fn all<E: EntityTrait>(&self, q: Select<E>) -> Result<Vec<E::Model>, StoreError>
    where
        E::ActiveModel: TryIntoModel<E::Model>,
    {
        let st = q.build(DbBackend::Sqlite);
        let mut stmt = self.conn.prepare_cached(&st.sql).map_err(err)?;
        // Where each of the entity's columns is in the result: sea-orm selects them in the
        // entity's order, which is checked by name (a linear `column_index` per column was a
        // visible cost).
        let columns: Vec<(usize, &'static str, ColumnType)> = E::Column::iter()
            .enumerate()
            .map(|(i, c)| {
                let name = c.as_str();
                let index = match stmt.column_name(i) {
                    Ok(n) if n == name => i,
                    _ => stmt.column_index(name).map_err(err)?,
                };
                Ok((index, name, c.def().get_column_type().clone()))
            })
            .collect::<Result<_, StoreError>>()?;
        bind(&mut stmt, &st)?;
        let mut rows = stmt.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(err)? {
            let mut model = E::ActiveModel::default();
            for (column, (index, name, ty)) in E::Column::iter().zip(&columns) {
                let v = row.get_ref(*index).map_err(err)?;
                let v = decode(v, ty)
                    .map_err(|e| err(format!("{}.{name}: {e}", E::default().table_name())))?;
                model.try_set(column, v)?;
            }
            out.push(model.try_into_model()?);
        }
        Ok(out)
    }

    /// Runs an INSERT, UPDATE or DELETE; returns the number of rows it changed.
    pub(crate) fn execute(&self, q: &impl QueryTrait) -> Result<usize, StoreError> {
        let st = q.build(DbBackend::Sqlite);
        let mut stmt = self.conn.prepare_cached(&st.sql).map_err(err)?;
        bind(&mut stmt, &st)?;
        stmt.raw_execute().map_err(err)
    }
}

fn bind(stmt: &mut rusqlite::CachedStatement<'_>, st: &Statement) -> Result<(), StoreError> {
    stmt.clear_bindings();
    for (i, v) in st.values.iter().flat_map(|v| v.0.iter()).enumerate() {
        stmt.raw_bind_parameter(i + 1, to_sql(v)?).map_err(err)?;
    }
    Ok(())
}

/// A sea-query value as sqlx would bind it for SQLite.
fn to_sql(v: &Value) -> Result<SqlValue, StoreError> {
    let int = |i: Option<i64>| i.map_or(SqlValue::Null, SqlValue::Integer);
    Ok(match v {
        Value::Bool(b) => int(b.map(i64::from)),
        Value::TinyInt(i) => int(i.map(i64::from)),
        Value::SmallInt(i) => int(i.map(i64::from)),
        Value::Int(i) => int(i.map(i64::from)),
        Value::BigInt(i) => int(*i),
        Value::TinyUnsigned(i) => int(i.map(i64::from)),
        Value::SmallUnsigned(i) => int(i.map(i64::from)),
        Value::Unsigned(i) => int(i.map(i64::from)),
        Value::BigUnsigned(i) => match i {
            Some(u) => SqlValue::Integer(i64::try_from(*u).map_err(err)?),
            None => SqlValue::Null,
        },
        Value::Float(f) => f.map_or(SqlValue::Null, |f| SqlValue::Real(f64::from(f))),
        Value::Double(f) => f.map_or(SqlValue::Null, SqlValue::Real),
        Value::String(s) => s.clone().map_or(SqlValue::Null, SqlValue::Text),
        Value::Char(c) => c.map_or(SqlValue::Null, |c| SqlValue::Text(c.to_string())),
        Value::Bytes(b) => b.clone().map_or(SqlValue::Null, SqlValue::Blob),
        Value::ChronoDateTimeUtc(t) => t.map_or(SqlValue::Null, |t| {
            SqlValue::Text(t.to_rfc3339_opts(SecondsFormat::AutoSi, false))
        }),
        Value::Json(j) => j
            .as_ref()
            .map_or(SqlValue::Null, |j| SqlValue::Text(j.to_string())),
        other => return Err(err(format!("cannot bind {other:?}"))),
    })
}

/// A stored value as the sea-query value of the entity's column type.
fn decode(v: ValueRef<'_>, ty: &ColumnType) -> Result<Value, String> {
    let int = || -> Result<Option<i64>, String> {
        match v {
            ValueRef::Null => Ok(None),
            ValueRef::Integer(i) => Ok(Some(i)),
            other => Err(format!(
                "expected an integer, found {:?}",
                other.data_type()
            )),
        }
    };
    let narrow = |i: Option<i64>| -> Result<Option<i32>, String> {
        i.map(|i| i32::try_from(i).map_err(|e| e.to_string()))
            .transpose()
    };
    let text = || -> Result<Option<&str>, String> {
        match v {
            ValueRef::Null => Ok(None),
            ValueRef::Text(t) => std::str::from_utf8(t).map(Some).map_err(|e| e.to_string()),
            other => Err(format!("expected text, found {:?}", other.data_type())),
        }
    };
    Ok(match ty {
        ColumnType::BigInteger => Value::BigInt(int()?),
        ColumnType::Integer => Value::Int(narrow(int()?)?),
        ColumnType::Boolean => Value::Bool(int()?.map(|i| i != 0)),
        ColumnType::Double | ColumnType::Float | ColumnType::Decimal(_) => {
            let f = match v {
                ValueRef::Null => None,
                ValueRef::Real(f) => Some(f),
                #[allow(clippy::cast_precision_loss)] // a REAL column holding a whole number
                ValueRef::Integer(i) => Some(i as f64),
                other => return Err(format!("expected a number, found {:?}", other.data_type())),
            };
            match ty {
                #[allow(clippy::cast_possible_truncation)] // f32 columns store f32 values
                ColumnType::Float => Value::Float(f.map(|f| f as f32)),
                _ => Value::Double(f),
            }
        }
        ColumnType::String(_) | ColumnType::Text | ColumnType::Char(_) => {
            Value::String(text()?.map(str::to_owned))
        }
        ColumnType::TimestampWithTimeZone | ColumnType::Timestamp | ColumnType::DateTime => {
            Value::ChronoDateTimeUtc(text()?.map(parse_timestamp).transpose()?)
        }
        ColumnType::Json | ColumnType::JsonBinary => Value::Json(
            text()?
                .map(|t| serde_json::from_str(t).map(Box::new))
                .transpose()
                .map_err(|e| e.to_string())?,
        ),
        other => return Err(format!("column type {other:?} is not supported here")),
    })
}

/// Timestamps as sqlx writes them (RFC 3339) or as SQLite's own functions do.
fn parse_timestamp(t: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(dt.to_utc());
    }
    for format in ["%F %T%.f%:z", "%FT%T%.f%:z"] {
        if let Ok(dt) = DateTime::parse_from_str(t, format) {
            return Ok(dt.to_utc());
        }
    }
    for format in ["%F %T%.f", "%FT%T%.f", "%F %T%.fZ", "%FT%T%.fZ"] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(t, format) {
            return Ok(dt.and_utc());
        }
    }
    Err(format!("unreadable timestamp {t:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bound_limit_of_one_becomes_a_literal() {
        use sea_orm::QueryFilter;
        use sea_orm::QuerySelect;
        let one = crate::store::entities::conversations::Entity::find()
            .filter(crate::store::entities::conversations::Column::Version.eq(3))
            .limit(1)
            .build(DbBackend::Sqlite);
        let lit = literal_limit_one(&one).unwrap();
        assert!(lit.sql.ends_with(" LIMIT 1"), "{}", lit.sql);
        assert_eq!(
            lit.values.map(|v| v.0.len()),
            Some(1),
            "the filter value stays bound"
        );
        // other limits and offsets are left alone
        let two = crate::store::entities::conversations::Entity::find()
            .limit(2)
            .build(DbBackend::Sqlite);
        assert!(literal_limit_one(&two).is_none());
        let paged = crate::store::entities::conversations::Entity::find()
            .limit(1)
            .offset(5)
            .build(DbBackend::Sqlite);
        assert!(literal_limit_one(&paged).is_none());
    }

    #[test]
    fn timestamps_read_back_as_sqlx_writes_them() {
        let t = DateTime::parse_from_rfc3339("2026-11-25T07:30:00.25+00:00")
            .unwrap()
            .to_utc();
        let SqlValue::Text(s) = to_sql(&Value::ChronoDateTimeUtc(Some(t))).unwrap() else {
            panic!("a timestamp binds as text");
        };
        assert_eq!(s, "2026-11-25T07:30:00.250+00:00");
        assert_eq!(parse_timestamp(&s).unwrap(), t);
        assert_eq!(parse_timestamp("2026-11-25 07:30:00.25").unwrap(), t);
        assert!(parse_timestamp("yesterday").is_err());
    }

    #[test]
    fn a_value_of_the_wrong_kind_is_an_error_not_a_panic() {
        assert!(decode(ValueRef::Text(b"x"), &ColumnType::BigInteger).is_err());
        assert!(decode(ValueRef::Integer(1 << 40), &ColumnType::Integer).is_err());
        assert_eq!(
            decode(ValueRef::Integer(1), &ColumnType::Boolean).unwrap(),
            Value::Bool(Some(true))
        );
        assert_eq!(
            decode(ValueRef::Null, &ColumnType::Text).unwrap(),
            Value::String(None)
        );
    }
}
