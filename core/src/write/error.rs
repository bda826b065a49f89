//! Errors from the target database, classified so the consumer knows whether to retry, wait or dead-letter.

use thiserror::Error;

/// A failure while connecting to, checking or writing the target database.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum WriteError {
    /// The database could not be reached or the connection broke (retried without limit: nothing is lost).
    #[error("target database unavailable while {context}: {source}")]
    Unavailable {
        /// What the writer was doing.
        context: String,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// A statement failed.
    #[error("target database rejected {context}: {source}")]
    Statement {
        /// What the writer was doing.
        context: String,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// A multi-row write touched other rows than planned; the batch is applied again one operation at a time.
    #[error("bulk write inconsistent: {context}")]
    Inconsistent {
        /// What differed.
        context: String,
    },
    /// The live schema does not match the mapping.
    #[error("mapping does not match the target schema: {entry}: {reason}")]
    Schema {
        /// The mapping entry, e.g. `entities.user.columns[1] (revamp `email_address`)`.
        entry: String,
        /// What is wrong.
        reason: String,
    },
}

impl WriteError {
    /// Wraps a driver error, telling connection failures from rejected statements.
    pub fn from_sqlx(context: impl Into<String>, source: sqlx::Error) -> Self {
        let context = context.into();
        match source {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::Protocol(_) => WriteError::Unavailable { context, source },
            _ => WriteError::Statement { context, source },
        }
    }

    /// The connection is gone: wait and retry, however long it takes.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, WriteError::Unavailable { .. })
    }

    /// Worth retrying with a bounded budget: deadlocks, lock timeouts, serialization failures, plus outages.
    pub fn is_transient(&self) -> bool {
        match self {
            WriteError::Unavailable { .. } => true,
            WriteError::Statement {
                source: sqlx::Error::Database(db),
                ..
            } => {
                let code = db.code().unwrap_or_default();
                // PostgreSQL: 40001 serialization, 40P01 deadlock, 55P03 lock not available, 57P01 admin shutdown.
                // MySQL/MariaDB: 1205 lock wait timeout, 1213 deadlock.
                matches!(
                    code.as_ref(),
                    "40001" | "40P01" | "55P03" | "57P01" | "1205" | "1213"
                ) || code.starts_with("08")
            }
            _ => false,
        }
    }

    /// A unique key is taken by another row. Across partitions this is often a matter of order (the delete or
    /// rename that frees the value is still on its way), so the change waits like a child for its parent.
    pub fn is_unique_violation(&self) -> bool {
        self.is_kind(sqlx::error::ErrorKind::UniqueViolation)
    }

    /// A referenced row is missing although it was there when checked (deleted concurrently): the change waits and
    /// is decided again.
    pub fn is_foreign_key_violation(&self) -> bool {
        self.is_kind(sqlx::error::ErrorKind::ForeignKeyViolation)
    }

    /// Worth waiting for and deciding again rather than dead-lettering at once.
    pub fn is_row_conflict(&self) -> bool {
        self.is_unique_violation() || self.is_foreign_key_violation()
    }

    fn is_kind(&self, kind: sqlx::error::ErrorKind) -> bool {
        matches!(
            self,
            WriteError::Statement { source: sqlx::Error::Database(db), .. } if db.kind() == kind
        )
    }

    /// The stable dead-letter reason for this error.
    pub fn reason(&self) -> &'static str {
        match self {
            WriteError::Unavailable { .. } => "target_unavailable",
            WriteError::Statement {
                source: sqlx::Error::Database(db),
                ..
            } if db.kind() != sqlx::error::ErrorKind::Other => "constraint_violation",
            WriteError::Statement { .. } => "write_failed",
            WriteError::Schema { .. } => "schema_mismatch",
            WriteError::Inconsistent { .. } => "write_failed",
        }
    }
}
