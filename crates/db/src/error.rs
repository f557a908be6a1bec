//! Storage errors.

use apogee_domain::{Error as DomainError, ErrorKind, FaultKey};

/// What can go wrong below the repositories.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The database URL is not usable.
    #[error("invalid database URL: {0}")]
    Url(String),
    /// A connection could not be opened.
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    /// No pooled connection became free in time, or the pool could not open one.
    #[error("database pool: {0}")]
    Pool(#[from] r2d2::Error),
    /// A statement failed.
    #[error("database query: {0}")]
    Query(#[from] diesel::result::Error),
    /// Migrations failed.
    #[error("database migration: {0}")]
    Migration(String),
    /// The background writer stopped (shutdown or a panic in a write).
    #[error("database writer unavailable")]
    WriterGone,
    /// A blocking task panicked.
    #[error("database task failed: {0}")]
    Task(String),
}

impl DbError {
    /// Whether the failure means "storage unavailable" (503) rather than a bug (500).
    pub fn is_unavailable(&self) -> bool {
        match self {
            DbError::Connect(_) | DbError::Pool(_) | DbError::WriterGone => true,
            DbError::Query(diesel::result::Error::DatabaseError(kind, info)) => {
                let msg = info.message().to_ascii_lowercase();
                matches!(kind, diesel::result::DatabaseErrorKind::ClosedConnection)
                    || msg.contains("database is locked")
                    || msg.contains("busy")
                    || msg.contains("connection")
            }
            _ => false,
        }
    }
}

/// Whether a failed write may succeed when run again: a conflict between concurrent
/// transactions (PostgreSQL deadlock, serialization failure, a unique key inserted by another
/// transaction between our read and our insert). `Db::write` runs such writes again.
pub trait Transient {
    /// The failure is a conflict with a concurrent transaction.
    fn is_transient(&self) -> bool;
}

impl Transient for diesel::result::Error {
    fn is_transient(&self) -> bool {
        use diesel::result::DatabaseErrorKind as K;
        match self {
            diesel::result::Error::DatabaseError(kind, info) => {
                matches!(kind, K::SerializationFailure | K::UniqueViolation)
                    || info.message().contains("deadlock detected")
            }
            _ => false,
        }
    }
}

impl Transient for DbError {
    fn is_transient(&self) -> bool {
        matches!(self, DbError::Query(e) if e.is_transient())
    }
}

impl Transient for WriteError {
    fn is_transient(&self) -> bool {
        matches!(self, WriteError::Db(e) if e.is_transient())
    }
}

impl From<DbError> for DomainError {
    fn from(err: DbError) -> Self {
        if err.is_unavailable() {
            tracing::warn!(error = %err, "storage unavailable");
            DomainError::unavailable("Base de données momentanément indisponible, réessayez")
                .with_retry_after(1)
        } else {
            tracing::error!(error = %err, "storage failure");
            DomainError::new(
                ErrorKind::Internal,
                FaultKey::internal(),
                "Erreur interne lors de l'accès à la base de données",
            )
        }
    }
}

impl From<diesel::result::Error> for WriteError {
    fn from(err: diesel::result::Error) -> Self {
        WriteError::Db(DbError::Query(err))
    }
}

/// The error of a write closure: a rule violation (rolls the write back and is reported as is)
/// or a storage failure.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// A business or validation error found while writing.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// A storage failure.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<WriteError> for DomainError {
    fn from(err: WriteError) -> Self {
        match err {
            WriteError::Domain(e) => e,
            WriteError::Db(e) => e.into(),
        }
    }
}
