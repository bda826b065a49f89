#!/usr/bin/env bash
# Scale-out, restarts and kill -9 under load (issue 7): while the convergence generator writes on both sides, for
# each direction a second consumer process joins the group, the first is stopped with SIGTERM, the second is killed
# with SIGKILL, and the first is started again. Then the generator's own checks must hold: both databases equal
# through the mapping, one event per application write on the topics, nothing in sync.dlq.
# Last, a write made right after a kill -9 and restart is timed (printed, never asserted: tests do not assert on
# timings; README "Running the consumers" quotes the figure).
#   DBSYNC_SCALE_OUT_N (default 4000, about 40 s of writes) operations, DBSYNC_SCALE_OUT_SEED (default 7).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_consumers
cd "$TEST_ROOT"
build_convergence

PIDS="$RUN/consumers"
DIRECTIONS=(legacy-events revamp-events)
declare -A extra_pid

# start_extra NAME: a second consumer of consume:NAME with its own static membership id; waits until it is ready.
start_extra() {
    local name=$1 log="$LOGS/$1-extra.log"
    : >"$log"
    DBSYNC_INSTANCE_ID="$(hostname)-$name-extra" setsid "$TEST_ROOT/testing/scripts/artisan.sh" "consume:$name" \
        >>"$log" 2>&1 </dev/null &
    extra_pid[$name]=$!
    if poll_until 60 grep -q 'partitions assigned' "$log"; then
        pass "a second consume:$name joined the group and took partitions"
    else
        fail "a second consume:$name got no partitions: $(tail -n 3 "$log")"
    fi
}

# assignments LOG: how many assignments a consumer's log shows.
assignments() { grep -c 'partitions assigned' "$1" || true; }

# stop_pid PID SIGNAL WHAT: sends SIGNAL and waits for the process to end.
stop_pid() {
    kill "-$2" "$1" 2>/dev/null || true
    if poll_until 30 bash -c "! kill -0 $1"; then pass "$3"; else fail "$3: still running"; fi
}

generator_log="$LOGS/scale-out-generator.log"
"$TEST_ROOT/target/debug/dbsync-convergence" --seed "${DBSYNC_SCALE_OUT_SEED:-7}" \
    --operations "${DBSYNC_SCALE_OUT_N:-4000}" --deadline-secs 240 >"$generator_log" 2>&1 &
generator=$!

for name in "${DIRECTIONS[@]}"; do start_extra "$name"; done
declare -A before_stop
for name in "${DIRECTIONS[@]}"; do
    before_stop[$name]=$(assignments "$LOGS/$name-extra.log")
    lines=$(wc -l <"$LOGS/$name.log")
    stop_pid "$(cat "$PIDS/$name.pid")" TERM "the first consume:$name stopped with SIGTERM"
    tail -n +$((lines + 1)) "$LOGS/$name.log" | grep -q "^consume:$name: consumed=" &&
        pass "consume:$name printed its summary after SIGTERM" ||
        fail "consume:$name: no summary line after SIGTERM"
done
# A stopped static member keeps its partitions until the session timeout; then the second one takes them.
for name in "${DIRECTIONS[@]}"; do
    if poll_until 60 bash -c "[ \$(grep -c 'partitions assigned' '$LOGS/$name-extra.log') -gt ${before_stop[$name]} ]"; then
        pass "the second consume:$name took over the stopped one's partitions"
    else
        fail "the second consume:$name never took over the stopped one's partitions"
    fi
done
for name in "${DIRECTIONS[@]}"; do
    stop_pid "${extra_pid[$name]}" KILL "the second consume:$name killed with SIGKILL"
done
ensure_consumers
pass "the first consumers started again"

if wait "$generator"; then
    pass "converged after scale-out, SIGTERM, SIGKILL and restart ($(grep -c '^  ok' "$generator_log") generator checks)"
else
    fail "the generator's checks failed:"
    grep -E 'FAIL|passed' "$generator_log" | head -n 20
fi

# Restart time: kill -9 the legacy-to-revamp consumer, start it again (same static membership id), write at once.
stop_pid "$(cat "$PIDS/legacy-events.pid")" KILL "consume:legacy-events killed for the restart measurement"
restart_started=$(date +%s.%N)
ensure_consumers
id=$(pg "INSERT INTO legacy_users (username, email) VALUES ('restart_$RUN_TAG', 'r@x') RETURNING id")
written=$(date +%s.%N)
if poll_until 60 bash -c "[ \"\$(mariadb -N -B -h 127.0.0.1 -P $DBSYNC_MYSQL_PORT -uroot $DBSYNC_MYSQL_DATABASE -e 'SELECT COUNT(*) FROM revamp_users WHERE id = $id')\" = 1 ]"; then
    crossed=$(date +%s.%N)
    pass "a write right after kill -9 and restart crossed"
    awk -v a="$restart_started" -v b="$written" -v c="$crossed" \
        'BEGIN { printf "  figure: restart to ready %.1f s; write to crossed %.1f s\n", b - a, c - b }'
else
    fail "a write right after kill -9 and restart did not cross within 60 s"
fi
summary
