//! Errors from the target database, classified so the consumer knows whether to retry, wait or dead-letter.
//!
//! [`WriteError::class`] sorts every failure into an [`ErrorClass`]; the table that decides database errors by
//! MySQL/MariaDB error number and SQLSTATE is `classify::RULES` (`write/error/classify.rs`), one row per case.

mod classify;

use crate::error::{DeadLetterReason, ErrorClass};
use classify::{classify, rule_for, Engine};

use sqlx::mysql::MySqlDatabaseError;
use sqlx::postgres::PgDatabaseError;
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
    /// A row lock another consumer holds was not granted within the wait (MySQL's `GET_LOCK`; PostgreSQL's
    /// `lock_timeout` is a database error): retried like any lost race.
    #[error(
        "row locks not granted within {seconds} s while {context} (another consumer holds them)"
    )]
    LockTimeout {
        /// What the writer was doing.
        context: String,
        /// How long it waited.
        seconds: u32,
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
    /// Wraps a driver error: an outage ([`ErrorClass::Unavailable`]: a lost connection, authentication, read-only,
    /// disk full, too many connections, ...) becomes [`WriteError::Unavailable`], anything else
    /// [`WriteError::Statement`].
    pub fn from_sqlx(context: impl Into<String>, source: sqlx::Error) -> Self {
        let context = context.into();
        match sqlx_class(&source) {
            ErrorClass::Unavailable => WriteError::Unavailable { context, source },
            _ => WriteError::Statement { context, source },
        }
    }

    /// What the consumer does about this failure: pause and retry without limit, retry the batch with a budget, or
    /// dead-letter the event. Database errors are decided by the table `classify::RULES`.
    pub fn class(&self) -> ErrorClass {
        match self {
            WriteError::Unavailable { .. } => ErrorClass::Unavailable,
            WriteError::Statement { source, .. } => sqlx_class(source),
            // A bulk write that touched other rows than planned is applied again one operation at a time, and a
            // schema mismatch needs the mapping or the schema fixed: neither gets better by retrying as is.
            WriteError::Inconsistent { .. } | WriteError::Schema { .. } => ErrorClass::Poison,
            WriteError::LockTimeout { .. } => ErrorClass::Transient,
        }
    }

    /// The classifier row that decided a database error, for logs: e.g. "ER_ACCESS_DENIED_ERROR: authentication
    /// fails (...)". `None` for errors the table does not list and for failures that are not database errors.
    pub fn cause(&self) -> Option<&'static str> {
        match self {
            WriteError::Unavailable { source, .. } | WriteError::Statement { source, .. } => {
                let (engine, number, sqlstate) = database_code(source)?;
                rule_for(engine, number, sqlstate.as_deref()).map(|rule| rule.what)
            }
            _ => None,
        }
    }

    /// The TLS handshake with the database failed (a CA or certificate that does not verify, a host name the
    /// certificate does not carry, a server without TLS when the DSN asks for it): a fault of the DSN's TLS
    /// parameters when it happens at start.
    pub fn is_tls_failure(&self) -> bool {
        matches!(
            self,
            WriteError::Unavailable {
                source: sqlx::Error::Tls(_),
                ..
            } | WriteError::Statement {
                source: sqlx::Error::Tls(_),
                ..
            }
        )
    }

    /// An outage: pause everything and retry however long it takes (`class() == Unavailable`).
    pub fn is_unavailable(&self) -> bool {
        self.class() == ErrorClass::Unavailable
    }

    /// Worth retrying: a lost race ([`ErrorClass::Transient`], retried with a budget) or an outage
    /// ([`ErrorClass::Unavailable`]). Everything else is poison.
    pub fn is_transient(&self) -> bool {
        matches!(
            self.class(),
            ErrorClass::Transient | ErrorClass::Unavailable
        )
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

    /// The dead-letter reason for this error.
    pub fn reason(&self) -> DeadLetterReason {
        match self {
            WriteError::Unavailable { .. } => DeadLetterReason::TargetUnavailable,
            WriteError::Statement {
                source: sqlx::Error::Database(db),
                ..
            } if db.kind() != sqlx::error::ErrorKind::Other => {
                DeadLetterReason::ConstraintViolation
            }
            WriteError::Statement { .. } => DeadLetterReason::WriteFailed,
            WriteError::Schema { .. } => DeadLetterReason::SchemaMismatch,
            WriteError::Inconsistent { .. } | WriteError::LockTimeout { .. } => {
                DeadLetterReason::WriteFailed
            }
        }
    }
}

/// The class of a driver error: connection-level failures are outages, database errors go by `classify::RULES`, and the
/// rest (a value that does not encode or decode, a missing row or column) is poison.
fn sqlx_class(error: &sqlx::Error) -> ErrorClass {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_)
        | sqlx::Error::BeginFailed => ErrorClass::Unavailable,
        sqlx::Error::Database(_) => match database_code(error) {
            Some((engine, number, sqlstate)) => classify(engine, number, sqlstate.as_deref()),
            None => ErrorClass::Poison,
        },
        _ => ErrorClass::Poison,
    }
}

/// The engine, MySQL/MariaDB error number and SQLSTATE of a database error; `None` for other errors.
fn database_code(error: &sqlx::Error) -> Option<(Engine, Option<u16>, Option<String>)> {
    let sqlx::Error::Database(db) = error else {
        return None;
    };
    if let Some(mysql) = db.try_downcast_ref::<MySqlDatabaseError>() {
        return Some((
            Engine::MySql,
            Some(mysql.number()),
            mysql.code().map(str::to_string),
        ));
    }
    if let Some(pg) = db.try_downcast_ref::<PgDatabaseError>() {
        return Some((Engine::Postgres, None, Some(pg.code().to_string())));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn io() -> sqlx::Error {
        sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset))
    }

    #[test]
    fn connection_failures_are_outages() {
        for error in [
            io(),
            sqlx::Error::PoolTimedOut,
            sqlx::Error::PoolClosed,
            sqlx::Error::WorkerCrashed,
            sqlx::Error::Protocol("unexpected packet".into()),
            sqlx::Error::BeginFailed,
        ] {
            let label = error.to_string();
            let error = WriteError::from_sqlx("writing", error);
            assert!(matches!(error, WriteError::Unavailable { .. }), "{label}");
            assert_eq!(error.class(), ErrorClass::Unavailable, "{label}");
            assert!(error.is_unavailable() && error.is_transient(), "{label}");
            assert_eq!(error.reason(), DeadLetterReason::TargetUnavailable);
            assert_eq!(error.cause(), None);
        }
    }

    #[test]
    fn a_tls_handshake_failure_is_told_apart() {
        let error = WriteError::from_sqlx(
            "connecting",
            sqlx::Error::Tls("certificate verify failed".into()),
        );
        assert!(error.is_tls_failure());
        assert!(!WriteError::from_sqlx("connecting", sqlx::Error::PoolTimedOut).is_tls_failure());
    }

    #[test]
    fn driver_errors_about_the_data_are_poison() {
        for error in [
            sqlx::Error::RowNotFound,
            sqlx::Error::ColumnNotFound("x".into()),
            sqlx::Error::Decode("bad".into()),
            sqlx::Error::Encode("bad".into()),
        ] {
            let error = WriteError::from_sqlx("writing", error);
            assert!(matches!(error, WriteError::Statement { .. }));
            assert_eq!(error.class(), ErrorClass::Poison);
            assert!(!error.is_unavailable() && !error.is_transient());
            assert_eq!(error.reason(), DeadLetterReason::WriteFailed);
        }
    }

    #[test]
    fn writer_errors_are_poison() {
        let inconsistent = WriteError::Inconsistent {
            context: "2 rows".into(),
        };
        let schema = WriteError::Schema {
            entry: "entities.user".into(),
            reason: "no table".into(),
        };
        for error in [inconsistent, schema] {
            assert_eq!(error.class(), ErrorClass::Poison);
            assert!(!error.is_transient());
        }
    }

    #[test]
    fn a_row_lock_not_granted_is_retried_like_a_lock_wait_timeout() {
        let error = WriteError::LockTimeout {
            context: "taking row locks".into(),
            seconds: 10,
        };
        assert_eq!(error.class(), ErrorClass::Transient);
        assert!(error.is_transient() && !error.is_unavailable());
        assert_eq!(error.reason(), DeadLetterReason::WriteFailed);
        assert_eq!(
            error.to_string(),
            "row locks not granted within 10 s while taking row locks (another consumer holds them)"
        );
    }

    #[test]
    fn a_statement_variant_is_classified_by_its_source_too() {
        // Built by hand (not through from_sqlx), an I/O failure is still an outage.
        let error = WriteError::Statement {
            context: "writing".into(),
            source: io(),
        };
        assert!(error.is_unavailable());
    }
}
