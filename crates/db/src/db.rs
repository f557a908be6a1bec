//! The database handle: a pool for reads, and a write path that commits concurrent writes
//! together on SQLite (group commit) and runs them on pooled connections on PostgreSQL.
//!
//! SQLite allows one writer at a time. Instead of letting concurrent writers fight over the lock
//! (and time out), every write closure goes to one writer thread. That thread takes all the
//! writes waiting at that moment, runs each one in its own savepoint inside one transaction, and
//! commits once: one fsync for many writes. Each caller gets its own result only after the commit
//! succeeded; a failing closure rolls back its savepoint and nothing else. The transaction begins
//! `IMMEDIATE`, so that another process on the same file (a second gateway, the command line)
//! waits for the lock (up to `busy_timeout`) instead of failing.
//!
//! On PostgreSQL, writes run on pooled connections in their own transactions; a write that
//! conflicts with a concurrent one is run again (bounded, jittered).

use crate::conn::{AnyConnection, Backend, DatabaseUrl, Manager, PoolOptions, SqliteOptions};
use crate::error::{DbError, Transient};
use diesel::connection::{AnsiTransactionManager, TransactionManager};
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, mpsc};
use tokio::sync::oneshot;

/// The r2d2 pool type.
pub type Pool = r2d2::Pool<Manager>;
/// A pooled connection.
pub type PooledConn = r2d2::PooledConnection<Manager>;

type Delivery = Box<dyn FnOnce(Result<(), String>) + Send>;
type Job = Box<dyn FnOnce(&mut AnyConnection) -> Delivery + Send>;

/// Most writes committed together by the SQLite writer.
const MAX_GROUP: usize = 128;

/// Attempts of a PostgreSQL write that keeps conflicting with concurrent transactions.
const PG_ATTEMPTS: u32 = 5;

/// Runs `f` in a write transaction. On SQLite it begins `IMMEDIATE`: the write lock is taken at
/// once (waiting up to `busy_timeout` for another process), instead of a deferred transaction
/// that fails with `SQLITE_BUSY` when it upgrades. `f`'s error rolls it back.
pub fn write_transaction<T, E, F>(conn: &mut AnyConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    match conn {
        AnyConnection::Sqlite(inner) => {
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?;
        }
        AnyConnection::Postgresql(_) => AnyConnection::begin_transaction(conn)?,
    }
    match f(&mut *conn) {
        Ok(value) => {
            AnyConnection::commit_transaction(conn)?;
            Ok(value)
        }
        Err(user_error) => match AnyConnection::rollback_transaction(conn) {
            Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(user_error),
            Err(rollback_error) => Err(rollback_error.into()),
        },
    }
}

/// A pause of 5–50 ms × `attempt` before a write is tried again (jittered so that the
/// transactions that conflicted do not meet again).
fn backoff(attempt: u32) {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let ms = 5 + u64::from(nanos % 45);
    std::thread::sleep(std::time::Duration::from_millis(ms * u64::from(attempt)));
}

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    backend: Backend,
    pool: Pool,
    writer: Option<mpsc::Sender<Job>>,
}

/// Pool usage, for metrics.
#[derive(Debug, Clone, Copy)]
pub struct PoolState {
    /// Open connections.
    pub connections: u32,
    /// Idle connections.
    pub idle: u32,
    /// Configured maximum.
    pub max: u32,
}

impl Db {
    /// Connects (lazily: the pool opens connections on demand) and, for SQLite, starts the writer.
    pub fn connect(url: &str, pool: PoolOptions, sqlite: SqliteOptions) -> Result<Self, DbError> {
        let url = DatabaseUrl::parse(url)?;
        let manager = Manager::new(url.clone(), sqlite.clone());
        let built = r2d2::Pool::builder()
            .max_size(pool.max_size.max(2))
            .min_idle(Some(0))
            .connection_timeout(pool.connection_timeout)
            .build_unchecked(manager);
        let writer = match url.backend {
            Backend::Postgres => None,
            Backend::Sqlite => Some(spawn_writer(url.clone(), sqlite)?),
        };
        Ok(Db {
            inner: Arc::new(Inner {
                backend: url.backend,
                pool: built,
                writer,
            }),
        })
    }

    /// The engine behind this handle.
    pub fn backend(&self) -> Backend {
        self.inner.backend
    }

    /// Pool usage.
    pub fn pool_state(&self) -> PoolState {
        let state = self.inner.pool.state();
        PoolState {
            connections: state.connections,
            idle: state.idle_connections,
            max: self.inner.pool.max_size(),
        }
    }

    /// A pooled connection, for synchronous callers (CLI commands, tests).
    pub fn conn(&self) -> Result<PooledConn, DbError> {
        Ok(self.inner.pool.get()?)
    }

    /// Runs `f` on a pooled connection in a blocking thread.
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let pool = self.inner.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(DbError::from)?;
            f(&mut conn)
        })
        .await
        .map_err(|e| E::from(DbError::Task(e.to_string())))?
    }

    /// Runs `f` in a transaction and commits it; `f`'s error rolls it back. On PostgreSQL, a
    /// write that fails by a conflict with a concurrent transaction ([`Transient`]: deadlock,
    /// serialization failure, a unique key another transaction just inserted) is run again, up
    /// to 5 times, after a short jittered pause: the caller sees the outcome of a clean run.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnMut(&mut AnyConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + From<diesel::result::Error> + Transient + Send + 'static,
    {
        match &self.inner.writer {
            None => {
                let pool = self.inner.pool.clone();
                let mut f = f;
                tokio::task::spawn_blocking(move || {
                    let mut conn = pool.get().map_err(DbError::from)?;
                    let mut attempt = 1;
                    loop {
                        match write_transaction(&mut conn, &mut f) {
                            Err(e) if e.is_transient() && attempt < PG_ATTEMPTS => {
                                tracing::debug!(
                                    attempt,
                                    "write conflicted with another transaction: retried"
                                );
                                backoff(attempt);
                                attempt += 1;
                            }
                            outcome => return outcome,
                        }
                    }
                })
                .await
                .map_err(|e| E::from(DbError::Task(e.to_string())))?
            }
            Some(_) => self.write_once(f).await,
        }
    }

    /// [`Db::write`] for a closure that cannot run twice (it consumes what it writes, e.g. a file
    /// it publishes): never run again.
    pub async fn write_once<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + From<diesel::result::Error> + Send + 'static,
    {
        match &self.inner.writer {
            None => {
                let pool = self.inner.pool.clone();
                tokio::task::spawn_blocking(move || {
                    let mut conn = pool.get().map_err(DbError::from)?;
                    write_transaction(&mut conn, f)
                })
                .await
                .map_err(|e| E::from(DbError::Task(e.to_string())))?
            }
            Some(writer) => {
                let (tx, rx) = oneshot::channel::<Result<T, E>>();
                let job: Job = Box::new(move |conn: &mut AnyConnection| {
                    let outcome = diesel::Connection::transaction(conn, f);
                    Box::new(move |commit: Result<(), String>| {
                        let result = match (commit, outcome) {
                            (Ok(()), outcome) => outcome,
                            (Err(_), Err(e)) => Err(e),
                            (Err(msg), Ok(_)) => Err(E::from(DbError::Query(
                                diesel::result::Error::QueryBuilderError(msg.into()),
                            ))),
                        };
                        let _ = tx.send(result);
                    })
                });
                writer.send(job).map_err(|_| E::from(DbError::WriterGone))?;
                rx.await.map_err(|_| E::from(DbError::WriterGone))?
            }
        }
    }

    /// Runs `f` in a write transaction on this thread (CLI commands, start-up, tests).
    pub fn write_blocking<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, E>,
        E: From<DbError> + From<diesel::result::Error>,
    {
        let mut conn = self.conn()?;
        write_transaction(&mut conn, f)
    }
}

fn spawn_writer(url: DatabaseUrl, sqlite: SqliteOptions) -> Result<mpsc::Sender<Job>, DbError> {
    let (tx, rx) = mpsc::channel::<Job>();
    let mut conn = crate::conn::establish(&url, &sqlite)?;
    std::thread::Builder::new()
        .name("sqlite-writer".into())
        .spawn(move || {
            while let Ok(first) = rx.recv() {
                let mut group = vec![first];
                while group.len() < MAX_GROUP {
                    match rx.try_recv() {
                        Ok(job) => group.push(job),
                        Err(_) => break,
                    }
                }
                let mut deliveries: Vec<Delivery> = Vec::with_capacity(group.len());
                let run = std::panic::catch_unwind(AssertUnwindSafe(|| {
                    write_transaction::<_, diesel::result::Error, _>(&mut conn, |c| {
                        for job in group.drain(..) {
                            deliveries.push(job(c));
                        }
                        Ok(())
                    })
                }));
                let commit = match run {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(e)) => Err(format!("commit failed: {e}")),
                    Err(_) => {
                        tracing::error!("a database write panicked; the group was rolled back");
                        match crate::conn::establish(&url, &sqlite) {
                            Ok(fresh) => conn = fresh,
                            Err(e) => {
                                tracing::error!(error = %e, "cannot reopen the writer connection")
                            }
                        }
                        Err("a write in the group failed unexpectedly".to_owned())
                    }
                };
                if group.len() + deliveries.len() > 1 {
                    tracing::trace!(writes = deliveries.len(), "group commit");
                }
                for deliver in deliveries {
                    deliver(commit.clone());
                }
            }
        })
        .map_err(|e| DbError::Task(e.to_string()))?;
    Ok(tx)
}
