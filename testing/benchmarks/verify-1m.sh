#!/usr/bin/env bash
# Scale figure of `dbsync:verify` (issue 11): N users against N (default 1,000,000), identical on both sides, in two
# throwaway databases `dbsync_verify_bench` (one on the stack's PostgreSQL, one on its MariaDB, with the project's
# schema; no connector reads them, so the running sync and other tests are untouched). Prints rows/s and peak RSS per
# chunk size. Not part of `make test`.
#   testing/benchmarks/verify-1m.sh [--release] [N] [CHUNK...]     e.g. verify-1m.sh --release 1000000 1000 5000
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../stack/lib.sh
source "$root/testing/stack/lib.sh"
build=debug
if [ "${1:-}" = --release ]; then
    build=release
    shift
    (cd "$root" && cargo build --quiet --release -p dbsync-php)
else
    (cd "$root" && cargo build --quiet -p dbsync-php)
fi
n=${1:-1000000}
shift || true
chunks=("${@:-1000}")
db=dbsync_verify_bench
pg() { psql -X -q -tA -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$DBSYNC_PG_PORT" -U postgres "$@"; }
my() { mariadb -N -B -h 127.0.0.1 -P "$DBSYNC_MYSQL_PORT" -uroot "$@"; }

echo "== $n users on each side in $db (build: $build)"
pg -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
PGOPTIONS="-c client_min_messages=warning" pg -d "$db" -f "$root/databases/postgres/schema.sql" >/dev/null
my -e "DROP DATABASE IF EXISTS $db; CREATE DATABASE $db"
my "$db" <"$root/databases/mysql/schema.sql"
pg -d "$db" -c "BEGIN; SET LOCAL dbsync.origin = 'sync_service';
    INSERT INTO legacy_users (id, username, email, full_name, status, is_admin, created_at, updated_at)
    SELECT g, 'user' || g, 'user' || g || '@example.com', 'First' || g || ' Last', 'active', g % 10 = 0,
           timestamptz '2026-01-01 00:00:00+00' + g * interval '1 millisecond',
           timestamptz '2026-02-01 00:00:00+00' + g * interval '1 millisecond'
    FROM generate_series(1, $n) AS g; COMMIT;"
my "$db" -e "SET @dbsync_origin = 'sync_service';
    INSERT INTO revamp_users (id, user_name, email_address, first_name, last_name, status, is_admin, created_at, updated_at)
    SELECT seq, CONCAT('user', seq), CONCAT('user', seq, '@example.com'), CONCAT('First', seq), 'Last', 1, seq % 10 = 0,
           TIMESTAMP '2026-01-01 00:00:00' + INTERVAL seq * 1000 MICROSECOND,
           TIMESTAMP '2026-02-01 00:00:00' + INTERVAL seq * 1000 MICROSECOND
    FROM seq_1_to_$n;"
pg -d "$db" -c "VACUUM ANALYZE legacy_users"

for chunk in "${chunks[@]}"; do
    echo "== verify, chunk $chunk"
    out=$(mktemp)
    DBSYNC_PHP_EXTENSION="$root/target/$build/libdbsync.so" \
        DBSYNC_LEGACY_DSN="postgres://postgres@127.0.0.1:$DBSYNC_PG_PORT/$db" \
        DBSYNC_REVAMP_DSN="mysql://root@127.0.0.1:$DBSYNC_MYSQL_PORT/$db" \
        DBSYNC_LOG=warn \
        /usr/bin/time -v "$root/testing/scripts/artisan.sh" dbsync:verify --entity=user --chunk="$chunk" --json \
        >"$out" 2>"$out.err" || true
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$out.err")
    jq -r --arg rss "$rss" '"rows \(.rows), in sync \(.in_sync), walk \(.rows_per_second | floor) rows/s, elapsed \(.elapsed_ms) ms, peak RSS \(($rss | tonumber) / 1024 | floor) MiB"' "$out" ||
        { tail -n 5 "$out.err"; exit 1; }
    rm -f "$out" "$out.err"
done
if [ "${DBSYNC_BENCH_KEEP:-0}" != 1 ]; then
    pg -d postgres -c "DROP DATABASE IF EXISTS $db"
    my -e "DROP DATABASE IF EXISTS $db"
fi
