#!/usr/bin/env bash
# Clone anywhere (issue 7, item 10): `make up` as root must work from a clone the `postgres` user cannot read, e.g.
# under /root. Copies the stack scripts (the working tree's, so uncommitted fixes count) into a directory under
# /root with mode 700, and from there runs the stack's own PostgreSQL start (initdb, our config files, start) on a
# free port with its own data dir, then stops it. The running stack is not touched. Root only (as non-root,
# PostgreSQL runs as the caller, who can read the clone).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ "$(id -u)" != 0 ]; then
    echo "  skip  not root: PostgreSQL runs as the caller here"
    summary
    exit
fi

base=$(mktemp -d /root/dbsync-clone-test.XXXXXX)
clone="$base/repo"
port=55432
while [ -n "$(port_owner $port)" ]; do port=$((port + 1)); done

# stack_in_clone COMMAND: runs COMMAND with the clone's stack scripts loaded (its own state dir and port).
stack_in_clone() {
    env -u DBSYNC_STATE_DIR DBSYNC_PG_PORT=$port bash -c \
        'source "$1/testing/stack/lib.sh" && source "$STACK_DIR/postgres.sh" && eval "$2"' _ "$clone" "$1"
}
cleanup() {
    stack_in_clone 'pg_running && as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w stop >/dev/null; [ "$PG_HOME" = "$STATE" ] || rm -rf "$PG_HOME"' 2>/dev/null || true
    rm -rf "$base"
}
trap cleanup EXIT

mkdir -p "$clone/testing"
cp -a "$TEST_ROOT/testing/stack" "$clone/testing/"
cp "$TEST_ROOT/stack.env" "$clone/"
chmod 700 "$base"
if runuser -u postgres -- test -r "$clone/testing/stack/conf/pg_hba.conf"; then
    fail "setup: postgres can read the clone, so this proves nothing"
fi

out=$(stack_in_clone 'mkdir -p "$LOGS" "$RUN" && pg_start' 2>&1) && rc=0 || rc=$?
check_eq "postgres starts from a clone under a mode-700 /root dir" 0 "$rc"
[ "$rc" = 0 ] || printf '%s\n' "$out" | tail -n 15 | sed 's/^/    | /'
data=$(stack_in_clone 'echo "$PG_DATA"')
case "$data" in /var/tmp/*) pass "its data dir falls back to /var/tmp ($data)" ;; *) fail "data dir not moved: $data" ;; esac
check_eq "it answers on port $port" 1 "$(psql -X -tA -h 127.0.0.1 -p $port -U postgres -d postgres -c 'SELECT 1' 2>&1)"
check_eq "it runs our pg_hba.conf" "$(grep -c '^host' "$TEST_ROOT/testing/stack/conf/pg_hba.conf")" \
    "$(psql -X -tA -h 127.0.0.1 -p $port -U postgres -d postgres -c "SELECT count(*) FROM pg_hba_file_rules WHERE type = 'host'" 2>&1)"
check_eq "it runs our settings (wal_level)" logical \
    "$(psql -X -tA -h 127.0.0.1 -p $port -U postgres -d postgres -c 'SHOW wal_level' 2>&1)"
out=$(stack_in_clone 'pg_stop' 2>&1) && rc=0 || rc=$?
check_eq "it stops" 0 "$rc"

summary
