//! The database error classifier: one table decides, from the MySQL/MariaDB error number or the SQLSTATE, whether a
//! failed write is an outage, a lost race or poison (README, "Classify database errors by engine number and
//! SQLSTATE").
//!
//! For MySQL/MariaDB the error *number* decides: sqlx's `DatabaseError::code()` is the SQLSTATE there, and many
//! unrelated errors share `HY000` (1205, lock wait timeout, among them). The SQLSTATE is only a fallback for numbers
//! the table does not list (its standard classes 08, connection, and 28, authentication). For PostgreSQL the
//! SQLSTATE decides, exact code first, then its class. Anything the table does not list is [`ErrorClass::Poison`].

use crate::error::ErrorClass;

/// The database that reported an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Engine {
    /// PostgreSQL (the legacy side): classified by SQLSTATE.
    Postgres,
    /// MySQL or MariaDB (the revamp side): classified by error number, SQLSTATE class as a fallback.
    MySql,
}

/// What a [`Rule`] matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Code {
    /// A MySQL/MariaDB error number (`MySqlDatabaseError::number()`).
    Number(u16),
    /// An exact SQLSTATE.
    SqlState(&'static str),
    /// A SQLSTATE class: its first two characters.
    SqlStateClass(&'static str),
}

/// One row of the classifier table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// The engine whose errors the row is about.
    pub engine: Engine,
    /// The number or SQLSTATE it matches.
    pub code: Code,
    /// The outcome.
    pub class: ErrorClass,
    /// What the error is (the engine's name for it) and why it gets this class; logs quote it as the cause.
    pub what: &'static str,
}

const fn rule(engine: Engine, code: Code, class: ErrorClass, what: &'static str) -> Rule {
    Rule {
        engine,
        code,
        class,
        what,
    }
}

use Code::{Number, SqlState, SqlStateClass};
use Engine::{MySql, Postgres};
use ErrorClass::{Poison, Transient, Unavailable};

/// The classifier table. Lookup: exact number, then exact SQLSTATE, then SQLSTATE class; no row means poison.
/// MySQL numbers below 1900 mean the same on MySQL and MariaDB; rows marked MariaDB or MySQL 8 use numbers the
/// other server leaves unused.
#[rustfmt::skip]
pub const RULES: &[Rule] = &[
    // ---- PostgreSQL: outages (every write would fail the same way) ----
    rule(Postgres, SqlStateClass("08"), Unavailable,
        "connection_exception class (08000, 08003 connection does not exist, 08006 connection failure, 08001 \
         cannot connect, 08004 server rejected the connection, 08P01 protocol violation): the connection is gone"),
    rule(Postgres, SqlStateClass("28"), Unavailable,
        "invalid_authorization_specification class (28000 no pg_hba.conf entry or role, 28P01 invalid_password): \
         authentication fails, e.g. after a credential rotation"),
    rule(Postgres, SqlState("3D000"), Unavailable,
        "invalid_catalog_name: the target database does not exist (dropped or renamed)"),
    rule(Postgres, SqlState("42501"), Unavailable,
        "insufficient_privilege: a grant of the sync role was revoked; every write to that table fails"),
    rule(Postgres, SqlState("25006"), Unavailable,
        "read_only_sql_transaction: the server is read-only (a standby after failover, \
         default_transaction_read_only)"),
    rule(Postgres, SqlState("25P03"), Unavailable,
        "idle_in_transaction_session_timeout: the server closed the session; a new connection works"),
    rule(Postgres, SqlState("53000"), Unavailable, "insufficient_resources"),
    rule(Postgres, SqlState("53100"), Unavailable, "disk_full"),
    rule(Postgres, SqlState("53200"), Unavailable, "out_of_memory (also out of shared memory for locks)"),
    rule(Postgres, SqlState("53300"), Unavailable, "too_many_connections (max_connections or the role's limit)"),
    rule(Postgres, SqlState("53400"), Unavailable, "configuration_limit_exceeded: a server limit is reached"),
    rule(Postgres, SqlState("57P01"), Unavailable, "admin_shutdown: the server is shutting down, or the backend was \
         terminated (pg_terminate_backend)"),
    rule(Postgres, SqlState("57P02"), Unavailable, "crash_shutdown: another backend crashed, the server restarts"),
    rule(Postgres, SqlState("57P03"), Unavailable, "cannot_connect_now: the server is starting up or in recovery"),
    rule(Postgres, SqlState("57P04"), Unavailable, "database_dropped: the target database is gone"),
    rule(Postgres, SqlState("57P05"), Unavailable,
        "idle_session_timeout: the server closed an idle pooled session; a new connection works"),
    rule(Postgres, SqlState("58000"), Unavailable, "system_error: an operating-system failure on the server"),
    rule(Postgres, SqlState("58030"), Unavailable, "io_error: the server cannot read or write its files"),
    // ---- PostgreSQL: lost races (retry the batch with a budget) ----
    rule(Postgres, SqlState("40001"), Transient, "serialization_failure"),
    rule(Postgres, SqlState("40P01"), Transient, "deadlock_detected"),
    rule(Postgres, SqlState("55P03"), Transient, "lock_not_available: lock_timeout expired (or NOWAIT)"),
    rule(Postgres, SqlState("57014"), Transient,
        "query_canceled: statement_timeout expired (it counts lock waits) or the query was cancelled"),
    rule(Postgres, SqlState("25P04"), Transient, "transaction_timeout (PostgreSQL 17): the transaction took too long"),
    rule(Postgres, SqlState("72000"), Transient, "snapshot_too_old: old_snapshot_threshold was exceeded"),
    // ---- MySQL/MariaDB: outages ----
    rule(MySql, Number(1021), Unavailable, "ER_DISK_FULL: disk full while writing"),
    rule(MySql, Number(1026), Unavailable, "ER_ERROR_ON_WRITE: error writing a file (disk full, I/O error)"),
    rule(MySql, Number(1036), Unavailable, "ER_OPEN_AS_READONLY: the table is read only"),
    rule(MySql, Number(1037), Unavailable, "ER_OUTOFMEMORY: the server is out of memory"),
    rule(MySql, Number(1040), Unavailable, "ER_CON_COUNT_ERROR: too many connections (max_connections)"),
    rule(MySql, Number(1041), Unavailable, "ER_OUT_OF_RESOURCES: the server is out of memory"),
    rule(MySql, Number(1044), Unavailable,
        "ER_DBACCESS_DENIED_ERROR: the sync account may not use the database (grants revoked)"),
    rule(MySql, Number(1045), Unavailable,
        "ER_ACCESS_DENIED_ERROR: authentication fails (wrong password, e.g. after a credential rotation)"),
    rule(MySql, Number(1047), Unavailable,
        "ER_UNKNOWN_COM_ERROR: in a Galera cluster, the node is not ready (WSREP has not yet prepared node)"),
    rule(MySql, Number(1049), Unavailable, "ER_BAD_DB_ERROR: the target database does not exist"),
    rule(MySql, Number(1053), Unavailable, "ER_SERVER_SHUTDOWN: server shutdown in progress"),
    rule(MySql, Number(1114), Unavailable, "ER_RECORD_FILE_FULL: the table is full (tablespace or disk full)"),
    rule(MySql, Number(1129), Unavailable,
        "ER_HOST_IS_BLOCKED: the host is blocked after many connection errors (needs FLUSH HOSTS)"),
    rule(MySql, Number(1130), Unavailable, "ER_HOST_NOT_PRIVILEGED: the host may not connect"),
    rule(MySql, Number(1135), Unavailable, "ER_CANT_CREATE_THREAD: the server cannot start a thread"),
    rule(MySql, Number(1142), Unavailable,
        "ER_TABLEACCESS_DENIED_ERROR: a table grant of the sync account was revoked; every write to it fails"),
    rule(MySql, Number(1143), Unavailable,
        "ER_COLUMNACCESS_DENIED_ERROR: a column grant of the sync account was revoked"),
    rule(MySql, Number(1158), Unavailable, "ER_NET_READ_ERROR: error reading communication packets"),
    rule(MySql, Number(1159), Unavailable, "ER_NET_READ_INTERRUPTED: timeout reading communication packets"),
    rule(MySql, Number(1160), Unavailable, "ER_NET_ERROR_ON_WRITE: error writing communication packets"),
    rule(MySql, Number(1161), Unavailable, "ER_NET_WRITE_INTERRUPTED: timeout writing communication packets"),
    rule(MySql, Number(1184), Unavailable, "ER_NEW_ABORTING_CONNECTION: the server aborted the connection"),
    rule(MySql, Number(1203), Unavailable,
        "ER_TOO_MANY_USER_CONNECTIONS: the sync account is at max_user_connections"),
    rule(MySql, Number(1226), Unavailable,
        "ER_USER_LIMIT_REACHED: the sync account exceeded a resource limit (max_queries_per_hour, ...)"),
    rule(MySql, Number(1227), Unavailable,
        "ER_SPECIFIC_ACCESS_DENIED_ERROR: a privilege the sync session needs is missing; every batch fails"),
    rule(MySql, Number(1290), Unavailable,
        "ER_OPTION_PREVENTS_STATEMENT: the server runs with --read-only (a replica after failover) or a similar \
         option"),
    rule(MySql, Number(1637), Unavailable,
        "ER_TOO_MANY_CONCURRENT_TRXS: InnoDB has no free undo slot; the server is overloaded"),
    rule(MySql, Number(1698), Unavailable, "ER_ACCESS_DENIED_NO_PASSWORD_ERROR: authentication fails"),
    rule(MySql, Number(1792), Unavailable,
        "ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION: the session's transactions are read-only (transaction_read_only)"),
    rule(MySql, Number(1820), Unavailable, "ER_MUST_CHANGE_PASSWORD: the sync account's password has expired"),
    rule(MySql, Number(1836), Unavailable, "ER_READ_ONLY_MODE: the server runs in read-only mode"),
    rule(MySql, Number(1862), Unavailable,
        "ER_MUST_CHANGE_PASSWORD_LOGIN: the sync account's password has expired"),
    rule(MySql, Number(1927), Unavailable, "ER_CONNECTION_KILLED (MariaDB): the connection was killed"),
    rule(MySql, Number(2006), Unavailable,
        "CR_SERVER_GONE_ERROR: server has gone away (a client code; proxies may relay it)"),
    rule(MySql, Number(2013), Unavailable,
        "CR_SERVER_LOST: lost connection during query (a client code; proxies may relay it)"),
    rule(MySql, Number(3118), Unavailable, "ER_ACCOUNT_HAS_BEEN_LOCKED (MySQL 8): the sync account is locked"),
    rule(MySql, Number(4151), Unavailable, "ER_ACCOUNT_HAS_BEEN_LOCKED (MariaDB): the sync account is locked"),
    // ---- MySQL/MariaDB: lost races ----
    rule(MySql, Number(1180), Transient,
        "ER_ERROR_DURING_COMMIT: the storage engine failed the commit; the ledger makes a retry safe"),
    rule(MySql, Number(1181), Transient, "ER_ERROR_DURING_ROLLBACK: rollback after another failure failed"),
    rule(MySql, Number(1205), Transient,
        "ER_LOCK_WAIT_TIMEOUT: innodb_lock_wait_timeout (or lock_wait_timeout) expired (SQLSTATE HY000)"),
    rule(MySql, Number(1206), Transient,
        "ER_LOCK_TABLE_FULL: the batch took more locks than the buffer pool holds; a retry or smaller batch fits"),
    rule(MySql, Number(1213), Transient,
        "ER_LOCK_DEADLOCK: deadlock (also a Galera certification conflict)"),
    rule(MySql, Number(1317), Transient, "ER_QUERY_INTERRUPTED: the statement was killed (KILL QUERY)"),
    rule(MySql, Number(1412), Transient,
        "ER_TABLE_DEF_CHANGED: the table definition changed under the transaction; retry"),
    rule(MySql, Number(1689), Transient,
        "ER_LOCK_ABORTED: a lock wait was aborted by a pending exclusive (DDL) lock"),
    rule(MySql, Number(1969), Transient, "ER_STATEMENT_TIMEOUT (MariaDB): max_statement_time exceeded"),
    rule(MySql, Number(3058), Transient,
        "ER_USER_LOCK_DEADLOCK (MySQL): a GET_LOCK row lock would deadlock with another session's"),
    rule(MySql, Number(3572), Transient, "ER_LOCK_NOWAIT (MySQL 8): a NOWAIT lock was not available"),
    // ---- MySQL/MariaDB: poison that a SQLSTATE class would misread ----
    rule(MySql, Number(1153), Poison,
        "ER_NET_PACKET_TOO_LARGE (SQLSTATE 08S01): this statement exceeds max_allowed_packet; retrying it the same \
         way cannot succeed, and it is not an outage"),
    // ---- MySQL/MariaDB: SQLSTATE fallbacks for numbers not listed ----
    rule(MySql, SqlStateClass("08"), Unavailable,
        "connection exception class (08S01 communication link failure, 08004 connection rejected)"),
    rule(MySql, SqlStateClass("28"), Unavailable, "invalid authorization class (28000 access denied)"),
    rule(MySql, SqlState("40001"), Transient, "serialization failure / deadlock"),
    rule(MySql, SqlState("25006"), Unavailable, "read-only transaction"),
];

/// The table row that decides an error, if any (see [`RULES`] for the lookup order).
pub fn rule_for(
    engine: Engine,
    number: Option<u16>,
    sqlstate: Option<&str>,
) -> Option<&'static Rule> {
    let rules = || RULES.iter().filter(move |rule| rule.engine == engine);
    let by_number = number.and_then(|number| rules().find(|rule| rule.code == Number(number)));
    by_number.or_else(|| {
        let sqlstate = sqlstate?;
        let class = sqlstate.get(..2);
        rules()
            .find(|rule| matches!(rule.code, SqlState(code) if code == sqlstate))
            .or_else(|| {
                rules().find(|rule| matches!(rule.code, SqlStateClass(c) if Some(c) == class))
            })
    })
}

/// The class of a database error: `number` is MySQL/MariaDB's error number (`None` on PostgreSQL), `sqlstate` the
/// SQLSTATE. Errors the table does not list are [`ErrorClass::Poison`].
pub fn classify(engine: Engine, number: Option<u16>, sqlstate: Option<&str>) -> ErrorClass {
    rule_for(engine, number, sqlstate).map_or(Poison, |rule| rule.class)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every row of the table with the class it must give, written out independently of [`RULES`] so a changed row
    /// fails here; `every_row_is_tested` makes a new row fail until it is listed. For a class row, the SQLSTATEs
    /// tried are real codes of that class.
    const EXPECTED: &[(Engine, Option<u16>, &str, ErrorClass)] = &[
        (Postgres, None, "08000", Unavailable),
        (Postgres, None, "08003", Unavailable),
        (Postgres, None, "08006", Unavailable),
        (Postgres, None, "08001", Unavailable),
        (Postgres, None, "08004", Unavailable),
        (Postgres, None, "08P01", Unavailable),
        (Postgres, None, "28000", Unavailable),
        (Postgres, None, "28P01", Unavailable),
        (Postgres, None, "3D000", Unavailable),
        (Postgres, None, "42501", Unavailable),
        (Postgres, None, "25006", Unavailable),
        (Postgres, None, "25P03", Unavailable),
        (Postgres, None, "53000", Unavailable),
        (Postgres, None, "53100", Unavailable),
        (Postgres, None, "53200", Unavailable),
        (Postgres, None, "53300", Unavailable),
        (Postgres, None, "53400", Unavailable),
        (Postgres, None, "57P01", Unavailable),
        (Postgres, None, "57P02", Unavailable),
        (Postgres, None, "57P03", Unavailable),
        (Postgres, None, "57P04", Unavailable),
        (Postgres, None, "57P05", Unavailable),
        (Postgres, None, "58000", Unavailable),
        (Postgres, None, "58030", Unavailable),
        (Postgres, None, "40001", Transient),
        (Postgres, None, "40P01", Transient),
        (Postgres, None, "55P03", Transient),
        (Postgres, None, "57014", Transient),
        (Postgres, None, "25P04", Transient),
        (Postgres, None, "72000", Transient),
        (MySql, Some(1021), "HY000", Unavailable),
        (MySql, Some(1026), "HY000", Unavailable),
        (MySql, Some(1036), "HY000", Unavailable),
        (MySql, Some(1037), "HY001", Unavailable),
        (MySql, Some(1040), "08004", Unavailable),
        (MySql, Some(1041), "HY000", Unavailable),
        (MySql, Some(1044), "42000", Unavailable),
        (MySql, Some(1045), "28000", Unavailable),
        (MySql, Some(1047), "08S01", Unavailable),
        (MySql, Some(1049), "42000", Unavailable),
        (MySql, Some(1053), "08S01", Unavailable),
        (MySql, Some(1114), "HY000", Unavailable),
        (MySql, Some(1129), "HY000", Unavailable),
        (MySql, Some(1130), "HY000", Unavailable),
        (MySql, Some(1135), "HY000", Unavailable),
        (MySql, Some(1142), "42000", Unavailable),
        (MySql, Some(1143), "42000", Unavailable),
        (MySql, Some(1158), "08S01", Unavailable),
        (MySql, Some(1159), "08S01", Unavailable),
        (MySql, Some(1160), "08S01", Unavailable),
        (MySql, Some(1161), "08S01", Unavailable),
        (MySql, Some(1184), "08S01", Unavailable),
        (MySql, Some(1203), "42000", Unavailable),
        (MySql, Some(1226), "42000", Unavailable),
        (MySql, Some(1227), "42000", Unavailable),
        (MySql, Some(1290), "HY000", Unavailable),
        (MySql, Some(1637), "HY000", Unavailable),
        (MySql, Some(1698), "28000", Unavailable),
        (MySql, Some(1792), "25006", Unavailable),
        (MySql, Some(1820), "HY000", Unavailable),
        (MySql, Some(1836), "HY000", Unavailable),
        (MySql, Some(1862), "HY000", Unavailable),
        (MySql, Some(1927), "70100", Unavailable),
        (MySql, Some(2006), "HY000", Unavailable),
        (MySql, Some(2013), "HY000", Unavailable),
        (MySql, Some(3118), "HY000", Unavailable),
        (MySql, Some(4151), "HY000", Unavailable),
        (MySql, Some(1180), "HY000", Transient),
        (MySql, Some(1181), "HY000", Transient),
        (MySql, Some(1205), "HY000", Transient),
        (MySql, Some(1206), "HY000", Transient),
        (MySql, Some(1213), "40001", Transient),
        (MySql, Some(1317), "70100", Transient),
        (MySql, Some(1412), "HY000", Transient),
        (MySql, Some(1689), "HY000", Transient),
        (MySql, Some(1969), "70100", Transient),
        (MySql, Some(3058), "HY000", Transient),
        (MySql, Some(3572), "HY000", Transient),
        (MySql, Some(1153), "08S01", Poison),
        // SQLSTATE fallbacks: numbers the table does not list.
        (MySql, Some(1043), "08S01", Unavailable),
        (MySql, Some(1251), "08004", Unavailable),
        (MySql, Some(9999), "28000", Unavailable),
        (MySql, Some(9998), "40001", Transient),
        (MySql, Some(9997), "25006", Unavailable),
    ];

    #[test]
    fn every_expected_case_gets_its_class() {
        for &(engine, number, sqlstate, class) in EXPECTED {
            assert_eq!(
                classify(engine, number, Some(sqlstate)),
                class,
                "{engine:?} {number:?} {sqlstate}"
            );
        }
    }

    #[test]
    fn every_row_is_tested() {
        for rule in RULES {
            let tested = EXPECTED.iter().any(|&(engine, number, sqlstate, _)| {
                engine == rule.engine && rule_for(engine, number, Some(sqlstate)) == Some(rule)
            });
            assert!(tested, "no test case reaches {rule:?}");
            assert!(!rule.what.is_empty());
        }
    }

    #[test]
    fn the_mysql_number_decides_not_the_sqlstate() {
        // README, "How it stays correct: Poison does not stop the line": sqlx's code() is the SQLSTATE on MySQL,
        // and 1205 shares HY000 with poison.
        assert_eq!(classify(MySql, Some(1205), Some("HY000")), Transient);
        assert_eq!(classify(MySql, Some(1366), Some("HY000")), Poison);
        // The number outranks a misleading SQLSTATE class.
        assert_eq!(classify(MySql, Some(1153), Some("08S01")), Poison);
        // The old comparison of code() against numbers must not come back: "1205" is no SQLSTATE.
        assert_eq!(classify(MySql, None, Some("1205")), Poison);
    }

    #[test]
    fn unlisted_errors_are_poison() {
        for (engine, number, sqlstate) in [
            (Postgres, None, Some("23505")), // unique_violation
            (Postgres, None, Some("23503")), // foreign_key_violation
            (Postgres, None, Some("23502")), // not_null_violation
            (Postgres, None, Some("22001")), // string_data_right_truncation
            (Postgres, None, Some("22P02")), // invalid_text_representation
            (Postgres, None, Some("42P01")), // undefined_table
            (Postgres, None, Some("XX000")), // internal_error
            (Postgres, None, None),
            (MySql, Some(1062), Some("23000")), // ER_DUP_ENTRY
            (MySql, Some(1452), Some("23000")), // ER_NO_REFERENCED_ROW_2
            (MySql, Some(1406), Some("22001")), // ER_DATA_TOO_LONG
            (MySql, Some(1366), Some("22007")), // ER_TRUNCATED_WRONG_VALUE_FOR_FIELD
            (MySql, Some(4025), Some("23000")), // ER_CONSTRAINT_FAILED (MariaDB CHECK)
            (MySql, None, None),
        ] {
            assert_eq!(
                classify(engine, number, sqlstate),
                Poison,
                "{engine:?} {number:?} {sqlstate:?}"
            );
        }
    }

    #[test]
    fn rows_are_engine_specific() {
        // A PostgreSQL SQLSTATE row does not apply to MySQL and a MySQL number row not to PostgreSQL.
        assert_eq!(classify(MySql, Some(1366), Some("53100")), Poison);
        assert_eq!(classify(Postgres, Some(1205), Some("22001")), Poison);
    }

    #[test]
    fn no_row_is_listed_twice() {
        for (i, a) in RULES.iter().enumerate() {
            for b in &RULES[i + 1..] {
                assert!(
                    !(a.engine == b.engine && a.code == b.code),
                    "{a:?} and {b:?}"
                );
            }
        }
    }
}
