#!/usr/bin/env bash
# `php artisan dbsync:status` against the running stack (issue 8):
#   - with the consumers caught up, it exits 0 (healthy) and its JSON has every section, reachable;
#   - with the consumers stopped and 1,000 legacy writes made, it shows lag >= 1,000 for legacy_to_revamp and exits 1;
#   - after the consumers drain, lag 0 in both directions, the ledger's applied rate and end-to-end delay, exit 0;
#   - the table output shows the verdict and both directions;
#   - with Kafka Connect stopped, it reports the connectors as unreachable and exits 2. The worker is frozen
#     (SIGSTOP) before it is stopped, as one whose shutdown hangs: the stack's connect_stop kills it after its grace
#     (here 5 s) and removes the pid file. Connect is started again (trap) and the test waits until every connector
#     runs.
# Dead letters count only from this test's start (--dlq-since): earlier suites leave letters in sync.dlq on purpose.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=../stack/connect.sh
source "$TEST_ROOT/testing/stack/connect.sh"

since=$(date -u +%Y-%m-%dT%H:%M:%SZ)
tmp=$(mktemp -d)
connect_stopped=0
worker=""
restore() {
    # A worker frozen below and not yet killed (the test stopped in between) is thawed, to stop or run normally.
    [ -z "$worker" ] || kill -CONT "$worker" 2>/dev/null || true
    if [ "$connect_stopped" = 1 ]; then
        connect_start >/dev/null 2>&1 || true
        "$TEST_ROOT/debezium/register-connectors.sh" >/dev/null 2>&1 || true
    fi
    ensure_consumers || true
    rm -rf "$tmp"
}
trap restore EXIT

# status ARGS...: runs `dbsync:status --json --dlq-since=<test start> ARGS`; sets CODE and writes the JSON to $tmp/s.
status() {
    CODE=0
    "$TEST_ROOT/testing/scripts/artisan.sh" dbsync:status --json --dlq-since="$since" "$@" >"$tmp/s" 2>"$tmp/err" || CODE=$?
}
# field JQ: a value of the last status report.
field() { jq -r "$1" "$tmp/s" 2>/dev/null; }
# status_until SECONDS JQ ARGS...: polls the status until JQ (a jq boolean) holds; false at the deadline.
status_until() {
    local deadline=$((SECONDS + $1)) filter=$2
    shift 2
    while :; do
        status "$@"
        [ "$(field "$filter")" = true ] && return 0
        [ $SECONDS -lt $deadline ] || return 1
        sleep 1
    done
}
lag_of() { field ".directions[] | select(.direction == \"$1\") | .lag.total"; }

ensure_consumers
caught_up || fail "consumers did not catch up"

echo "== caught up: healthy =="
if status_until 60 '.exit_code == 0'; then pass "exit code 0 (healthy)"; else fail "not healthy within 60 s: exit $CODE, problems: $(field '.problems | join("; ")') $(head -c 300 "$tmp/err")"; fi
check_eq "health says healthy" healthy "$(field .health)"
check_eq "every section answered" true "$(field '[.directions[].lag, .directions[].applied, .dead_letters, .connectors, .replication_slot, .clock_skew] | all(.reachable)')"
check_eq "lag listed per partition for both directions" true "$(field '[.directions[].lag.partitions | length > 0] | all')"
check_eq "both connectors and their tasks run" true "$(field '(.connectors.connectors | length >= 2) and ([.connectors.connectors[].running] | all)')"
check_eq "the replication slot exists, with a lag in bytes" true "$(field '.replication_slot.exists and (.replication_slot.lag_bytes | type == "number")')"
check_eq "clock skew measured below the conflict window" true "$(field '(.clock_skew.skew_ms | type == "number") and (.clock_skew.above_conflict_window | not)')"
check_eq "no dead letter since the test started" 0 "$(field .dead_letters.depth)"

echo "== consumers stopped, 1,000 legacy writes: degraded =="
"$TEST_ROOT/testing/scripts/consumers.sh" stop >/dev/null
pg "INSERT INTO legacy_users (username, email) SELECT 'status_' || g || '_$RUN_TAG', 's@x' FROM generate_series(1, 1000) AS g"
if status_until 60 "(.directions[] | select(.direction == \"legacy_to_revamp\") | .lag.total) >= 1000" --max-lag=500; then
    pass "legacy_to_revamp lag $(lag_of legacy_to_revamp) >= 1000"
else
    fail "legacy_to_revamp lag never reached 1000 within 60 s (last: $(lag_of legacy_to_revamp))"
fi
check_eq "exit code 1 (degraded)" 1 "$CODE"
check_eq "health says degraded" degraded "$(field .health)"
check_eq "a problem names the lag" true "$(field '[.problems[] | test("legacy_to_revamp: consumer lag")] | any')"
cross=$(group_lag "$DBSYNC_GROUP_PREFIX-legacy-to-revamp") || cross="(ConsumerGroupCommand failed)"
check_eq "Kafka's own tool sees the same lag" "$(lag_of legacy_to_revamp)" "$cross"

echo "== consumers drained: healthy again =="
ensure_consumers
if status_until 90 '.exit_code == 0 and ([.directions[].lag.total] == [0, 0])' --max-lag=500; then
    pass "lag 0 in both directions and exit code 0"
else
    fail "not drained within 90 s: exit $CODE, lags $(field '[.directions[].lag.total]'), problems: $(field '.problems | join("; ")')"
fi
l2r='.directions[] | select(.direction == "legacy_to_revamp") | .applied'
check_eq "the revamp ledger counts the 1,000 events in the last minute" true "$(field "($l2r.applied_last_minute >= 1000) and ($l2r.events_per_second >= 16)")"
check_eq "the end-to-end delay is known and under 5 minutes" true "$(field "($l2r.delay_ms | type == \"number\") and ($l2r.delay_ms < 300000)")"
check_eq "the last applied event is recent" true "$(field "$l2r.last_applied_age_ms < 120000")"
check_eq "the 1,000 rows crossed" 1000 "$(my "SELECT COUNT(*) FROM revamp_users WHERE user_name LIKE 'status\\_%\\_$RUN_TAG'")"

echo "== the table =="
table=$("$TEST_ROOT/testing/scripts/artisan.sh" dbsync:status --dlq-since="$since" 2>&1) && code=0 || code=$?
check_eq "table: exit code 0" 0 "$code"
grep -q '^dbsync: HEALTHY (exit 0)' <<<"$table" && pass "table: headline says HEALTHY" || fail "table: no HEALTHY headline: $(head -n 3 <<<"$table")"
grep -q 'legacy_to_revamp' <<<"$table" && grep -q 'revamp_to_legacy' <<<"$table" && pass "table: both directions" || fail "table: a direction is missing"
grep -q '^replication slot dbsync_legacy: active' <<<"$table" && pass "table: the slot line" || fail "table: no slot line: $table"

echo "== Kafka Connect stopped (a worker that hangs on SIGTERM): unreachable =="
# The worker is frozen first (SIGSTOP), as one whose shutdown hangs: connect_stop must still end with it gone.
connect_stopped=1
worker=$(cat "$CONNECT_PID")
kill -STOP "$worker"
DBSYNC_CONNECT_STOP_GRACE=5 connect_stop >/dev/null 2>"$tmp/stop.err" && code=0 || code=$?
check_eq "connect_stop returns" 0 "$code"
if kill -0 "$worker" 2>/dev/null; then fail "the frozen worker still runs"; else pass "the frozen worker is gone"; fi
grep -q 'SIGKILL' "$tmp/stop.err" && pass "the stop says it killed the worker" ||
    fail "no SIGKILL warning: $(cat "$tmp/stop.err")"
check_eq "the pid file is removed" false "$([ -e "$CONNECT_PID" ] && echo true || echo false)"
status
check_eq "exit code 2 (unreachable)" 2 "$CODE"
check_eq "health says unreachable" unreachable "$(field .health)"
check_eq "the connectors are reported unreachable" false "$(field .connectors.reachable)"
check_eq "the error names Kafka Connect" true "$(field '.connectors.error | test("kafka connect at http")')"
check_eq "Kafka and the databases still answer" true "$(field '[.directions[].lag, .directions[].applied, .replication_slot] | all(.reachable)')"

echo "== Kafka Connect back =="
connect_start >/dev/null
if "$TEST_ROOT/debezium/register-connectors.sh" >/dev/null; then
    connect_stopped=0
    pass "Connect started and both connectors run"
else
    fail "the connectors did not run again"
fi
if status_until 60 '.connectors.reachable and ([.connectors.connectors[].running] | all)'; then
    pass "the status sees every connector running again"
else
    fail "connectors not running in the status within 60 s: $(field '.connectors')"
fi

summary
