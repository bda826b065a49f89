#!/usr/bin/env bash
# Shared helpers for the end-to-end test scripts: SQL on both sides, reading topics to their end, polling with a
# deadline, and pass/fail bookkeeping that ends in a "N passed, N failed" line. Sourced, never run.
set -euo pipefail

TEST_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../stack/lib.sh
source "$TEST_ROOT/testing/stack/lib.sh"

PASSED=0
FAILED=0
TEST_NAME=$(basename "$0" .sh)

pass() { PASSED=$((PASSED + 1)); printf '  ok    %s\n' "$*"; }
fail() {
    FAILED=$((FAILED + 1))
    printf '  FAIL  %s\n' "$*"
    note_failure "FAIL $*"
}
# check DESCRIPTION EXPECTED ACTUAL
check_eq() {
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: expected '$2', got '$3'"; fi
}
summary() {
    echo "$TEST_NAME: $PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ]
}

# SQL as the application would run it (admin accounts, no sync marker). Output: tab-separated, no headers.
pg() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -tA -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$DBSYNC_PG_PORT" -U postgres "$DBSYNC_PG_DATABASE" -c "$1"; }
my() { mariadb -N -B -h 127.0.0.1 -P "$DBSYNC_MYSQL_PORT" -uroot "$DBSYNC_MYSQL_DATABASE" -e "$1"; }
# The same, marked as the sync service (README, "How it stays correct: No loops").
pg_as_sync() { pg "BEGIN; SET LOCAL dbsync.origin = 'sync_service'; $1; COMMIT;"; }
my_as_sync() { my "SET @dbsync_origin = 'sync_service'; $1"; }

# topic_values TOPIC: every message value on TOPIC from offset 0 to its current end, one JSON per line.
topic_values() { kcat -b "$DBSYNC_BROKERS" -C -t "$1" -o beginning -e -q -f '%s\n' 2>/dev/null; }

# dlq_offsets: every message on sync.dlq as partition:offset, sorted (compare two with `comm`).
dlq_offsets() { kcat -b "$DBSYNC_BROKERS" -C -t "$DBSYNC_DLQ_TOPIC" -o beginning -e -q -f '%p:%o\n' 2>/dev/null | sort; }

# count_events TOPIC JQ_FILTER: how many Debezium values on TOPIC match JQ_FILTER (a jq boolean expression).
count_events() {
    # Line by line, skipping what is not JSON (the DLQ test puts a malformed message on legacy.events).
    topic_values "$1" | jq -cR "fromjson? | select(. != null) | select($2)" | wc -l | tr -d ' '
}

# poll_until SECONDS COMMAND...: true as soon as COMMAND succeeds, false when the deadline passes.
poll_until() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.25
    done
}

# event_count_at_least TOPIC N JQ_FILTER
event_count_at_least() { [ "$(count_events "$1" "$3")" -ge "$2" ]; }

# row_filter TABLE ID: jq expression matching events for one row (either image).
row_filter() { echo "((.after // .before).id == $2 and .source.table == \"$1\")"; }

# Unique tag per run, so tests never depend on what earlier runs left in the topics.
RUN_TAG="t$(date +%s)$RANDOM"

# expect_query SIDE DESCRIPTION EXPECTED SQL [SECONDS]: polls SQL on SIDE (pg|my) until it prints EXPECTED, within
# SECONDS (default 5, the sync's promise); passes or fails with what it saw last.
expect_query() {
    local side=$1 what=$2 want=$3 sql=$4 seconds=${5:-5} got=""
    local deadline=$((SECONDS + seconds))
    while :; do
        got=$($side "$sql" 2>&1 || true)
        [ "$got" = "$want" ] && { pass "$what"; return 0; }
        [ $SECONDS -lt $deadline ] || break
        sleep 0.2
    done
    fail "$what: expected '$want' within ${seconds}s, last saw '$got'"
}

# Timestamps printed the same way on both sides (UTC, microseconds).
PG_TS() { echo "to_char($1 AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"; }
MY_TS() { echo "DATE_FORMAT($1, '%Y-%m-%d %H:%i:%s.%f')"; }

# The consumers must run for the end-to-end tests (idempotent: reuses running ones).
ensure_consumers() { "$TEST_ROOT/testing/scripts/consumers.sh" start >/dev/null; }

# build_convergence: builds dbsync-convergence (target/debug/dbsync-convergence); ends the test as failed if it does not
# build.
build_convergence() {
    if ! (cd "$TEST_ROOT" && cargo build -q -p dbsync-convergence); then
        echo "$TEST_NAME: 0 passed, 1 failed (build)"
        exit 1
    fi
}

# snapshot_tables: every synced row on both sides, as text (for before/after comparisons).
snapshot_tables() {
    local t
    for t in legacy_users legacy_posts legacy_likes dbsync_tombstones; do
        pg "SELECT * FROM $t ORDER BY 1, 2"
    done
    for t in revamp_users revamp_posts revamp_post_likes dbsync_tombstones; do
        my "SELECT * FROM $t ORDER BY 1, 2"
    done
}

# caught_up: a write on each side has crossed, so both consumers have applied everything before it.
caught_up() {
    local l r
    l=$(pg "INSERT INTO legacy_users (username, email) VALUES ('caughtup_l_$RUN_TAG$RANDOM', 'c@x') RETURNING id")
    r=$(my "INSERT INTO revamp_users (user_name, email_address) VALUES ('caughtup_r_$RUN_TAG$RANDOM', 'c@x'); SELECT LAST_INSERT_ID()")
    poll_until 30 bash -c "[ \"\$(mariadb -N -B -h 127.0.0.1 -P $DBSYNC_MYSQL_PORT -uroot $DBSYNC_MYSQL_DATABASE -e 'SELECT COUNT(*) FROM revamp_users WHERE id = $l')\" = 1 ]" &&
        poll_until 30 bash -c "[ \"\$(psql -X -tA -h 127.0.0.1 -p $DBSYNC_PG_PORT -U postgres $DBSYNC_PG_DATABASE -c 'SELECT COUNT(*) FROM legacy_users WHERE id = $r')\" = 1 ]"
}

# user_post_like SIDE NAME [RUN]: on SIDE (legacy|revamp) inserts user NAME_l_/NAME_r_$RUN_TAG, a post of it and its
# like of the post, then updates each once; sets USER_ID, POST_ID and LIKE_ID. RUN runs the SQL: by default pg or my
# (the application); pg_as_sync or my_as_sync write as the sync service.
user_post_like() {
    if [ "$1" = legacy ]; then
        local run=${3:-pg}
        USER_ID=$($run "INSERT INTO legacy_users (username, email, full_name) VALUES ('${2}_l_$RUN_TAG', 'a@x', 'App User') RETURNING id")
        POST_ID=$($run "INSERT INTO legacy_posts (author_id, title) VALUES ($USER_ID, 'post $RUN_TAG') RETURNING id")
        LIKE_ID=$($run "INSERT INTO legacy_likes (user_id, post_id) VALUES ($USER_ID, $POST_ID) RETURNING id")
        $run "UPDATE legacy_users SET email = 'a2@x' WHERE id = $USER_ID"
        $run "UPDATE legacy_posts SET state = 'published' WHERE id = $POST_ID"
        $run "UPDATE legacy_likes SET created_at = created_at WHERE id = $LIKE_ID"
    else
        local run=${3:-my}
        USER_ID=$($run "INSERT INTO revamp_users (user_name, email_address, first_name, last_name) VALUES ('${2}_r_$RUN_TAG', 'a@x', 'App', 'User'); SELECT LAST_INSERT_ID()")
        POST_ID=$($run "INSERT INTO revamp_posts (user_id, headline, content) VALUES ($USER_ID, 'post $RUN_TAG', ''); SELECT LAST_INSERT_ID()")
        LIKE_ID=$($run "INSERT INTO revamp_post_likes (user_id, post_id) VALUES ($USER_ID, $POST_ID); SELECT LAST_INSERT_ID()")
        $run "UPDATE revamp_users SET email_address = 'a2@x' WHERE id = $USER_ID"
        $run "UPDATE revamp_posts SET status = 'LIVE' WHERE id = $POST_ID"
        $run "UPDATE revamp_post_likes SET liked_at = liked_at WHERE id = $LIKE_ID"
    fi
}

# counter NAME SUMMARY_LINE: one counter of an artisan summary line (`consumed=3 applied=2 ...`).
counter() { sed -n "s/.*[ :]$1=\([0-9]*\).*/\1/p" <<<"$2" | head -n 1; }

# group_lag GROUP: total lag of a consumer group over its partitions (empty if the group has no committed offsets).
group_lag() {
    # shellcheck source=../stack/kafka.sh
    (source "$TEST_ROOT/testing/stack/kafka.sh" &&
        kafka_java 256m org.apache.kafka.tools.consumer.group.ConsumerGroupCommand --bootstrap-server "$DBSYNC_BROKERS" \
            --describe --group "$1" 2>/dev/null) | awk '$1 == "'"$1"'" && $6 ~ /^[0-9]+$/ { lag += $6; n++ } END { if (n) print lag }'
}

# consumers_idle: both consumer groups have committed everything on their topic.
consumers_idle() {
    [ "$(group_lag "$DBSYNC_GROUP_PREFIX-legacy-to-revamp")" = 0 ] && [ "$(group_lag "$DBSYNC_GROUP_PREFIX-revamp-to-legacy")" = 0 ]
}

# remove_connector NAME: stops a throwaway connector a test registered, deletes its offsets and then itself, so a
# later run with the same name starts clean. Never fails (cleanup traps call it).
remove_connector() {
    local url=$DBSYNC_CONNECT_URL
    curl -s -o /dev/null -X PUT "$url/connectors/$1/stop" || true
    poll_until 20 bash -c "curl -sf $url/connectors/$1/status | jq -e '.connector.state == \"STOPPED\"'" || true
    curl -s -o /dev/null -X DELETE "$url/connectors/$1/offsets" || true
    curl -s -o /dev/null -X DELETE "$url/connectors/$1" || true
}
