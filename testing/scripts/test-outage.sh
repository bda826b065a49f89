#!/usr/bin/env bash
# Outage (issue 7, item 11): change capture comes back by itself after a database outage. While a writer changes
# users on both sides (inserts, updates of its own and of the other side's rows, deletes), MariaDB is stopped for
# DBSYNC_OUTAGE_SECONDS (default 20) and started again; once revamp -> legacy works again, PostgreSQL likewise.
# First, without touching the databases, a throwaway MariaDB connector whose Groovy filter throws while a flag file
# exists shows that `dbsync:supervise` (run by consumers.sh) restarts a FAILED task, with backoff, and that the task
# runs again once the cause is gone. Then, checks, each by polling with a deadline:
#   - both connectors and their tasks return to RUNNING with nobody touching Connect (Debezium's retries, or
#     `dbsync:supervise` run by consumers.sh); a connector seen FAILED must be named by a restart in the
#     supervisor's log;
#   - a fresh write crosses in each direction after each outage;
#   - every row the writer touched is equal on both sides through the mapping, and a dbsync-convergence run
#     afterwards (random writes, all entities) converges;
#   - nothing was dead-lettered to sync.dlq during the test.
# Stopping a database disturbs whatever else runs: /tmp/dbsync-outage-running exists while one is down, and a
# database this script stopped is started again whatever happens.
#   DBSYNC_OUTAGE_SECONDS (default 20), DBSYNC_OUTAGE_CONVERGENCE_N (default 300; 0 skips that run),
#   DBSYNC_OUTAGE_SKIP_DATABASES=1 (only the throwaway-connector part: disturbs nothing else)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=../stack/postgres.sh
source "$STACK_DIR/postgres.sh"
# shellcheck source=../stack/mariadb.sh
source "$STACK_DIR/mariadb.sh"

OUTAGE=${DBSYNC_OUTAGE_SECONDS:-20}
MARKER=/tmp/dbsync-outage-running
CONNECTORS=(dbsync-legacy dbsync-revamp)
SUPERVISE_LOG="$LOGS/supervise.log"
tmp=$(mktemp -d)
down="" # the database this script has stopped, if any
pids=()

cleanup() {
    touch "$tmp/stop"
    case "$down" in
    mariadb) my_start >/dev/null ;;
    postgres) pg_start >/dev/null ;;
    esac
    [ -z "${marker_ours:-}" ] || rm -f "$MARKER"
    [ -z "${throwaway:-}" ] || remove_connector "$throwaway"
    # Only our own jobs: a database started by this script is a child too and must keep running.
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$tmp"
}
trap cleanup EXIT

if [ -e "$MARKER" ]; then
    echo "test-outage: $MARKER exists: another outage test runs (remove the file if none does)"
    echo "test-outage: 0 passed, 1 failed"
    exit 1
fi
ensure_consumers
supervise_from=$(($(wc -l <"$SUPERVISE_LOG" 2>/dev/null || echo 0) + 1))
tag="out_${RUN_TAG}"

# --- helpers -----------------------------------------------------------------------------------------------------
# SQL that may fail (the database may be down): short connect timeouts, no retries.
pg_try() { PGCONNECT_TIMEOUT=2 PGOPTIONS="-c client_min_messages=warning -c statement_timeout=5000" psql -X -q -tA \
    -v ON_ERROR_STOP=1 -F $'\t' -h 127.0.0.1 -p "$DBSYNC_PG_PORT" -U postgres "$DBSYNC_PG_DATABASE" -c "$1" 2>/dev/null; }
my_try() { mariadb --connect-timeout=2 -N -B -h 127.0.0.1 -P "$DBSYNC_MYSQL_PORT" -uroot "$DBSYNC_MYSQL_DATABASE" \
    -e "$1" 2>/dev/null; }

connector_states() { # NAME: "<connector state> <task states...>", or "unreachable"
    curl -sf -m 5 "$DBSYNC_CONNECT_URL/connectors/$1/status" | jq -r '[.connector.state] + [.tasks[].state] | join(" ")' ||
        echo unreachable
}
connector_running() { # NAME: the connector and at least one task run, none in another state
    local states
    states=$(connector_states "$1")
    [[ $states =~ ^RUNNING( RUNNING)+$ ]]
}
all_running() { connector_running dbsync-legacy && connector_running dbsync-revamp; }

# One write of the writer for SIDE (legacy|revamp) at step I: mostly inserts, some updates of its own rows and of
# the other side's rows (which may not have arrived: then it changes nothing), some deletes.
write_one() {
    local side=$1 i=$2 sql users name email inactive own foreign me other
    if [ "$side" = legacy ]; then
        sql=pg_try users=legacy_users name=username email=email inactive="status = 'inactive'" own=l foreign=x
        me="${tag}_l" other="${tag}_r"
    else
        sql=my_try users=revamp_users name=user_name email=email_address inactive="status = 2" own=r foreign=y
        me="${tag}_r" other="${tag}_l"
    fi
    if ((i % 7 == 0)); then
        $sql "DELETE FROM $users WHERE $name = '$me$((i - 5))'"
    elif ((i % 5 == 0)); then
        $sql "UPDATE $users SET $email = '$own$i@outage.test' WHERE $name = '$me$((i - 3))'"
    elif ((i % 4 == 0)); then
        $sql "UPDATE $users SET $inactive, $email = '$foreign$i@outage.test' WHERE $name = '$other$((i - 8))'"
    else
        $sql "INSERT INTO $users ($name, $email) VALUES ('$me$i', '$own$i@outage.test')"
    fi
}

writer() { # SIDE: writes until $tmp/stop exists; keeps "<ok> <failed>" in $tmp/SIDE.count
    local side=$1 i=0 ok=0 failed=0
    while [ ! -e "$tmp/stop" ]; do
        i=$((i + 1))
        if write_one "$side" "$i" >/dev/null; then ok=$((ok + 1)); else failed=$((failed + 1)); fi
        echo "$ok $failed" >"$tmp/$side.count.new" && mv "$tmp/$side.count.new" "$tmp/$side.count"
        sleep 0.1
    done
}
writes_ok() { cut -d' ' -f1 "$tmp/$1.count" 2>/dev/null || echo 0; }
writes_failed() { cut -d' ' -f2 "$tmp/$1.count" 2>/dev/null || echo 0; }
# writer_progressed SIDE N: the writer of SIDE has made N more successful writes than it had at the last mark.
mark_writes() { marks_legacy=$(writes_ok legacy) marks_revamp=$(writes_ok revamp); }
writer_progressed() {
    local mark="marks_$1"
    [ "$(writes_ok "$1")" -ge $((${!mark} + $2)) ]
}

sampler() { # every 0.5 s, each connector's states, as "<epoch> <name> <states>", into $tmp/states
    while [ ! -e "$tmp/stop" ]; do
        for name in "${CONNECTORS[@]}"; do echo "$(date +%s) $name $(connector_states "$name")"; done >>"$tmp/states"
        sleep 0.5
    done
}

# crosses FROM: a write made now on FROM's side appears on the other side within 90 s.
crosses() {
    local id
    if [ "$1" = legacy ]; then
        id=$(pg_try "INSERT INTO legacy_users (username, email) VALUES ('${tag}_probe_l$RANDOM$RANDOM', 'p@outage.test') RETURNING id") || return 1
        poll_until 90 bash -c "[ \"\$(mariadb -N -B -h 127.0.0.1 -P $DBSYNC_MYSQL_PORT -uroot $DBSYNC_MYSQL_DATABASE -e 'SELECT COUNT(*) FROM revamp_users WHERE id = $id')\" = 1 ]"
    else
        id=$(my_try "INSERT INTO revamp_users (user_name, email_address) VALUES ('${tag}_probe_r$RANDOM$RANDOM', 'p@outage.test'); SELECT LAST_INSERT_ID()") || return 1
        poll_until 90 bash -c "[ \"\$(psql -X -tA -h 127.0.0.1 -p $DBSYNC_PG_PORT -U postgres $DBSYNC_PG_DATABASE -c 'SELECT COUNT(*) FROM legacy_users WHERE id = $id')\" = 1 ]"
    fi
}

# The writer's rows through the user mapping (username/user_name, email/email_address, status text/number,
# is_admin bool/int, updated_at in UTC to the microsecond), one per line, by id.
legacy_rows() {
    pg_try "SELECT id, username, email, status, is_admin::int, $(PG_TS updated_at) FROM legacy_users
            WHERE username LIKE '${tag}\_%' ORDER BY id"
}
revamp_rows() {
    my_try "SELECT id, user_name, email_address, ELT(status + 1, 'inactive', 'active', 'banned'), is_admin,
            $(MY_TS updated_at) FROM revamp_users WHERE user_name LIKE '${tag}\_%' ORDER BY id"
}
rows_equal() {
    legacy_rows >"$tmp/legacy.rows" && revamp_rows >"$tmp/revamp.rows" && [ -s "$tmp/legacy.rows" ] &&
        cmp -s "$tmp/legacy.rows" "$tmp/revamp.rows"
}

# outage NAME STOP START: stops a database for $OUTAGE seconds (the outage itself: a wait, not a synchronization),
# then starts it again.
outage() {
    local name=$1 stop=$2 start=$3
    touch "$MARKER"
    marker_ours=1
    down=$name
    echo "== $name down for ${OUTAGE}s =="
    if $stop >/dev/null; then pass "$name stopped"; else fail "$name did not stop"; fi
    sleep "$OUTAGE"
    if $start >/dev/null; then pass "$name started again"; else fail "$name did not start again"; fi
    down=""
    rm -f "$MARKER"
    marker_ours=""
}

# after_outage NAME SIDE: what must hold once NAME (the database of SIDE) is back.
after_outage() {
    local name=$1 side=$2
    mark_writes
    if poll_until 60 writer_progressed "$side" 5; then pass "the $side writer writes again after the $name outage"; else
        fail "the $side writer made no progress after the $name outage ($(writes_ok "$side") ok, $(writes_failed "$side") failed)"; fi
    if poll_until 180 all_running; then pass "both connectors RUNNING after the $name outage"; else
        fail "connectors after the $name outage: legacy '$(connector_states dbsync-legacy)', revamp '$(connector_states dbsync-revamp)'"; fi
    if crosses legacy; then pass "a legacy write crosses after the $name outage"; else fail "a legacy write did not cross after the $name outage"; fi
    if crosses revamp; then pass "a revamp write crosses after the $name outage"; else fail "a revamp write did not cross after the $name outage"; fi
}

# remove_connector NAME: stops it, deletes its offsets, deletes it.
remove_connector() {
    curl -s -o /dev/null -X PUT "$DBSYNC_CONNECT_URL/connectors/$1/stop" || true
    poll_until 20 bash -c "curl -sf $DBSYNC_CONNECT_URL/connectors/$1/status | jq -e '.connector.state == \"STOPPED\"'" || true
    curl -s -o /dev/null -X DELETE "$DBSYNC_CONNECT_URL/connectors/$1/offsets" || true
    curl -s -o /dev/null -X DELETE "$DBSYNC_CONNECT_URL/connectors/$1" || true
}
supervisor_restarts() { # NAME: restarts of NAME the supervisor logged during this test
    tail -n +"$supervise_from" "$SUPERVISE_LOG" | grep -c "restarting it connector=$1 " || true
}

# The supervisor on a task that FAILS on purpose: a throwaway MariaDB connector (own name, server id, topic prefix and
# in-memory schema history; it captures revamp_users and drops every record) whose filter throws while a flag exists.
supervisor_check() {
    local flag="$tmp/fail-now"
    throwaway="dbsync-outage-test-$RUN_TAG"
    echo "== dbsync:supervise restarts a task that FAILS on purpose ($throwaway) =="
    jq --arg flag "$flag" --arg id $((210000 + RANDOM % 10000)) '.config
        | with_entries(select(.key | test("^(transforms|predicates|message\\.key|schema\\.history|custom\\.retriable)") | not))
        + {"database.server.id": $id, "topic.prefix": "dbsync_outage_test",
           "table.include.list": "revamp_db\\.revamp_users", "snapshot.mode": "always", "snapshot.locking.mode": "none",
           "schema.history.internal": "io.debezium.relational.history.MemorySchemaHistory",
           "transforms": "boom", "transforms.boom.type": "io.debezium.transforms.Filter",
           "transforms.boom.language": "jsr223.groovy",
           "transforms.boom.condition": ("new File(\u0027" + $flag + "\u0027).exists() ? value.get(\u0027no_such_field\u0027) : false")}' \
        "$TEST_ROOT/debezium/mysql-connector.json" >"$tmp/throwaway.json"
    touch "$flag"
    if curl -sf -o /dev/null -X PUT -H 'Content-Type: application/json' --data @"$tmp/throwaway.json" \
        "$DBSYNC_CONNECT_URL/connectors/$throwaway/config"; then pass "throwaway connector registered"; else
        fail "throwaway connector rejected"; return; fi
    if poll_until 60 bash -c "[ \$(tail -n +$supervise_from '$SUPERVISE_LOG' | grep -c 'restarting it connector=$throwaway ') -ge 2 ]"; then
        pass "the supervisor restarted the FAILED task, and again after a backoff ($(supervisor_restarts "$throwaway") restarts)"
    else
        fail "the supervisor did not restart the FAILED task twice in 60 s (restarts $(supervisor_restarts "$throwaway"), state '$(connector_states "$throwaway")')"
    fi
    check_eq "its log names the cause (the trace's first line)" 1 \
        "$(tail -n +"$supervise_from" "$SUPERVISE_LOG" | grep "restarting it connector=$throwaway " | head -n 1 |
            grep -c 'cause="org.apache.kafka.connect.errors.ConnectException: Tolerance exceeded in error handler"')"
    # Let the restarted task fail once more, then take the cause away: only the supervisor's next restart revives it.
    poll_until 60 bash -c "curl -sf $DBSYNC_CONNECT_URL/connectors/$throwaway/status | jq -e '.tasks[0].state == \"FAILED\"'" ||
        fail "the restarted task did not fail again while the cause was there ('$(connector_states "$throwaway")')"
    local before
    before=$(supervisor_restarts "$throwaway")
    rm -f "$flag"
    if poll_until 90 bash -c "[ \$(tail -n +$supervise_from '$SUPERVISE_LOG' | grep -c 'restarting it connector=$throwaway ') -gt $before ]" &&
        poll_until 30 connector_running "$throwaway"; then
        pass "with the cause gone, the supervisor's next restart brings it back to RUNNING ($(supervisor_restarts "$throwaway") restarts in all)"
    else
        fail "throwaway connector not restarted and RUNNING 120 s after the cause went away: '$(connector_states "$throwaway")'"
    fi
    remove_connector "$throwaway"
    throwaway=""
}

# --- the test ----------------------------------------------------------------------------------------------------
echo "== before: connectors running, supervisor running, writers started =="
if poll_until 60 all_running; then pass "both connectors RUNNING before the test"; else
    fail "connectors not RUNNING before the test: legacy '$(connector_states dbsync-legacy)', revamp '$(connector_states dbsync-revamp)'"; fi
if pid_alive "$RUN/consumers/supervise.pid"; then pass "dbsync:supervise runs (consumers.sh)"; else fail "dbsync:supervise is not running"; fi
dlq_offsets >"$tmp/dlq.before"

supervisor_check
if [ "${DBSYNC_OUTAGE_SKIP_DATABASES:-0}" = 1 ]; then
    summary
    exit
fi

sampler &
pids+=($!)
writer legacy &
pids+=($!)
writer revamp &
pids+=($!)
mark_writes
if poll_until 30 writer_progressed legacy 10 && poll_until 30 writer_progressed revamp 10; then pass "writers running on both sides"; else
    fail "writers do not write (legacy $(writes_ok legacy) ok, revamp $(writes_ok revamp) ok)"; fi

outage mariadb my_stop my_start
after_outage mariadb revamp
outage postgres pg_stop pg_start
after_outage postgres legacy

echo "== after: convergence, supervisor log, dead letters =="
touch "$tmp/stop"
for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
pids=()
echo "  writes: legacy $(writes_ok legacy) ok / $(writes_failed legacy) failed, revamp $(writes_ok revamp) ok / $(writes_failed revamp) failed"
if poll_until 120 rows_equal; then
    pass "the writer's $(wc -l <"$tmp/legacy.rows") users are equal on both sides through the mapping"
else
    fail "the writer's users differ between the sides (legacy $(wc -l <"$tmp/legacy.rows"), revamp $(wc -l <"$tmp/revamp.rows") rows)"
    { diff "$tmp/legacy.rows" "$tmp/revamp.rows" || true; } | head -n 20 | sed 's/^/    | /'
fi

# Connector states seen during the test; a FAILED one must have been restarted by the supervisor.
for name in "${CONNECTORS[@]}"; do
    seen=$(awk -v n="$name" '$2 == n { $1 = ""; $2 = ""; sub(/^ +/, ""); print }' "$tmp/states" | sort | uniq -c |
        awk '{ c = $1; $1 = ""; printf "%s%s x%d", sep, substr($0, 2), c; sep = ", " }')
    echo "  $name states seen: $seen"
    restarts=$(supervisor_restarts "$name")
    if grep -q "^[0-9]* $name .*FAILED" "$tmp/states"; then
        if [ "$restarts" -gt 0 ]; then pass "$name went FAILED and the supervisor's log names its restart ($restarts)"; else
            fail "$name went FAILED but the supervisor's log names no restart of it"; fi
    else
        pass "$name never seen FAILED (supervisor restarts: $restarts)"
    fi
done
{ tail -n +"$supervise_from" "$SUPERVISE_LOG" | grep "restarting it" || true; } | head -n 10 | sed 's/^/    | /'

if [ "${DBSYNC_OUTAGE_CONVERGENCE_N:-300}" -gt 0 ]; then
    echo "== dbsync-convergence after the outages =="
    if (cd "$TEST_ROOT" && cargo build -q -p dbsync-convergence) &&
        "$TEST_ROOT/target/debug/dbsync-convergence" --seed "$RANDOM" --operations "${DBSYNC_OUTAGE_CONVERGENCE_N:-300}" \
            --deadline-secs 120 >"$tmp/convergence.out" 2>&1; then
        pass "dbsync-convergence converges after the outages ($(tail -n 1 "$tmp/convergence.out"))"
    else
        fail "dbsync-convergence after the outages"
        sed 's/^/    | /' "$tmp/convergence.out" | tail -n 30
    fi
fi

dlq_offsets >"$tmp/dlq.after"
new_letters=$(comm -13 "$tmp/dlq.before" "$tmp/dlq.after" | wc -l | tr -d ' ')
check_eq "nothing dead-lettered during the test" 0 "$new_letters"
if [ "$new_letters" != 0 ]; then
    kcat -b "$DBSYNC_BROKERS" -C -t "$DBSYNC_DLQ_TOPIC" -o beginning -e -q -f '%p:%o %h\n' 2>/dev/null |
        grep -F -f <(comm -13 "$tmp/dlq.before" "$tmp/dlq.after" | sed 's/$/ /') | tr ',' '\n' |
        grep -E '^([0-9]+:[0-9]+ |dbsync.reason=|__connect.errors.exception.message=)' | head -n 30 | sed 's/^/    | /' ||
        true
fi

summary
