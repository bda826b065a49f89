#!/usr/bin/env bash
# Ledger migration (issue 9): an older release's ledger, keyed by event_id alone, some rows without
# source_committed_at, is moved by the migrations (MySQL 0004, PostgreSQL 0005) to the key that schema.sql creates,
# (source_committed_at, event_id), with every row kept and the missing times taken from applied_at; run again, the
# migration changes nothing. Each engine gets a scratch database, dropped afterwards.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

scratch="dbsync_ledger_migration_$RUN_TAG"
my_admin() { mariadb -N -B -h 127.0.0.1 -P "$DBSYNC_MYSQL_PORT" -uroot "$@"; }
pg_admin() {
    PGOPTIONS="-c client_min_messages=warning" psql -X -q -tA -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$DBSYNC_PG_PORT" \
        -U postgres "$@"
}
cleanup() {
    my_admin -e "DROP DATABASE IF EXISTS $scratch" >/dev/null 2>&1
    pg_admin -d postgres -c "DROP DATABASE IF EXISTS $scratch" >/dev/null 2>&1
}
trap cleanup EXIT
cleanup

# The rows both engines start from: two with a source commit time, one written before the column existed.
rows="('00000000-0000-5000-8000-000000000001', '2026-01-02 10:00:00', '2026-01-02 09:59:59.5'),
      ('00000000-0000-5000-8000-000000000002', '2026-01-02 10:00:01', '2026-01-02 10:00:00.25'),
      ('00000000-0000-5000-8000-000000000003', '2026-01-01 08:00:00', NULL)"
expected="00000000-0000-5000-8000-000000000003 2026-01-01 08:00:00.000000
00000000-0000-5000-8000-000000000001 2026-01-02 09:59:59.500000
00000000-0000-5000-8000-000000000002 2026-01-02 10:00:00.250000"

echo "== MariaDB =="
migration="$TEST_ROOT/databases/mysql/migrations/0004_ledger_time_ordered_key.sql"
my_admin -e "CREATE DATABASE $scratch"
my_admin "$scratch" -e "CREATE TABLE dbsync_applied_events (event_id CHAR(36) NOT NULL PRIMARY KEY,
    applied_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), source_committed_at DATETIME(6) NULL,
    KEY dbsync_applied_events_applied_at_idx (applied_at)) ENGINE=InnoDB;
    INSERT INTO dbsync_applied_events (event_id, applied_at, source_committed_at) VALUES $rows"
my_key() {
    my_admin "$1" -e "SELECT GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX) FROM information_schema.STATISTICS
        WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'dbsync_applied_events' AND INDEX_NAME = 'PRIMARY'"
}
my_rows() {
    my_admin "$scratch" -e "SELECT CONCAT(event_id, ' ', DATE_FORMAT(source_committed_at, '%Y-%m-%d %H:%i:%s.%f'))
        FROM dbsync_applied_events ORDER BY source_committed_at, event_id"
}
check_eq "the old ledger is keyed by event_id" "event_id" "$(my_key "$scratch")"
my_admin "$scratch" <"$migration"
check_eq "migrated: keyed by source_committed_at, then event_id" "source_committed_at,event_id" "$(my_key "$scratch")"
check_eq "migrated: every row kept, a missing time taken from applied_at" "$expected" "$(my_rows)"
check_eq "migrated: the key is the one schema.sql creates" "$(my_key "$scratch")" "$(my_key "$DBSYNC_MYSQL_DATABASE")"
my_admin "$scratch" <"$migration"
check_eq "run again: nothing changes" "$expected" "$(my_rows)"

echo "== PostgreSQL =="
migration="$TEST_ROOT/databases/postgres/migrations/0005_ledger_time_ordered_key.sql"
pg_admin -d postgres -c "CREATE DATABASE $scratch"
pg_admin -d "$scratch" -c "CREATE TABLE dbsync_applied_events (event_id uuid PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now(), source_committed_at timestamptz NULL);
    INSERT INTO dbsync_applied_events (event_id, applied_at, source_committed_at) VALUES $rows"
pg_key() {
    pg_admin -d "$1" -c "SELECT string_agg(a.attname, ',' ORDER BY k.n) FROM pg_index i
        CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
        WHERE i.indrelid = 'dbsync_applied_events'::regclass AND i.indisprimary"
}
pg_rows() {
    pg_admin -d "$scratch" -c "SET timezone = 'UTC'; SELECT event_id || ' ' ||
        to_char(source_committed_at, 'YYYY-MM-DD HH24:MI:SS.US') FROM dbsync_applied_events
        ORDER BY source_committed_at, event_id"
}
check_eq "the old ledger is keyed by event_id" "event_id" "$(pg_key "$scratch")"
pg_admin -d "$scratch" -f "$migration" >/dev/null
check_eq "migrated: keyed by source_committed_at, then event_id" "source_committed_at,event_id" "$(pg_key "$scratch")"
check_eq "migrated: every row kept, a missing time taken from applied_at" "$expected" "$(pg_rows)"
check_eq "migrated: the key is the one schema.sql creates" "$(pg_key "$scratch")" "$(pg_key "$DBSYNC_PG_DATABASE")"
check_eq "migrated: source_committed_at is NOT NULL" "t" \
    "$(pg_admin -d "$scratch" -c "SELECT attnotnull FROM pg_attribute
        WHERE attrelid = 'dbsync_applied_events'::regclass AND attname = 'source_committed_at'")"
pg_admin -d "$scratch" -f "$migration" >/dev/null
check_eq "run again: nothing changes" "$expected" "$(pg_rows)"

summary
