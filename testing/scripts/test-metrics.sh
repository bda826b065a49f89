#!/usr/bin/env bash
# Metrics and logs (issue 8). Part 1, against the consumers consumers.sh runs (legacy-events on 127.0.0.1:9464,
# revamp-events on :9465): after writes on both sides, each /metrics shows the applied counter moved, the
# batch-apply and end-to-end lag histograms with samples, the consumer-lag gauge, and passes `promtool check
# metrics`; deploy/prometheus passes `promtool check config` and `promtool check rules`; a real Prometheus started
# here with that config answers PromQL for the lag and the applied rate. Part 2: a consumer run with
# DBSYNC_LOG_FORMAT=json writes only JSON objects on stderr, none holding a password of stack.env or a row's values;
# with DBSYNC_LOG_DIR the same lines land in a daily file there, and an unusable directory exits 2.
# Polls with deadlines; Prometheus (own data dir, DBSYNC_TEST_PROMETHEUS_PORT, default 9490) is stopped and the
# background consumers are running again whatever happens.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DEPLOY="$TEST_ROOT/deploy/prometheus"
PROM_PORT=${DBSYNC_TEST_PROMETHEUS_PORT:-9490}
ENDPOINTS=(legacy-events=127.0.0.1:9464 revamp-events=127.0.0.1:9465)
tmp=$(mktemp -d)
prom_pid="" json_pid=""

cleanup() {
    [ -z "$prom_pid" ] || { kill "$prom_pid" 2>/dev/null; wait "$prom_pid" 2>/dev/null; }
    [ -z "$json_pid" ] || { kill -TERM "$json_pid" 2>/dev/null; wait "$json_pid" 2>/dev/null; }
    "$TEST_ROOT/testing/scripts/consumers.sh" start >/dev/null 2>&1 || echo "test-metrics: could not restart the consumers"
    rm -rf "$tmp"
}
trap cleanup EXIT

scrape() { curl -fsS --max-time 5 "http://$1/metrics"; }
# metric_sum ADDR REGEX: sum of the samples whose series matches REGEX (anchored at the line start).
# (The pattern goes through the environment: awk -v would turn its `\{` escapes into warnings.)
metric_sum() { scrape "$1" | RE="^$2" awk '$0 ~ ENVIRON["RE"] { s += $NF; n++ } END { if (n) printf "%d\n", s; else print "" }'; }
at_least() { local v; v=$(metric_sum "$1" "$2"); [ -n "$v" ] && [ "$v" -ge "$3" ]; }

# --- part 1: /metrics of the background consumers ----------------------------------------------------------------
ensure_consumers
if ! scrape 127.0.0.1:9464 >/dev/null 2>&1 || ! scrape 127.0.0.1:9465 >/dev/null 2>&1; then
    # Started by an older consumers.sh, without metrics: once more with them.
    "$TEST_ROOT/testing/scripts/consumers.sh" restart >/dev/null
fi
declare -A before
for e in "${ENDPOINTS[@]}"; do
    before[${e%%=*}]=$(metric_sum "${e#*=}" 'dbsync_events_total\{[^}]*outcome="applied"')
done
n=5
for i in $(seq 1 $n); do
    pg "INSERT INTO legacy_users (username, email) VALUES ('met_l${i}_$RUN_TAG', 'm@x')" >/dev/null
    my "INSERT INTO revamp_users (user_name, email_address) VALUES ('met_r${i}_$RUN_TAG', 'm@x')"
done
expect_query my "legacy writes crossed" "$n" "SELECT COUNT(*) FROM revamp_users WHERE user_name LIKE 'met\\_l%\\_$RUN_TAG'" 30
expect_query pg "revamp writes crossed" "$n" "SELECT COUNT(*) FROM legacy_users WHERE username LIKE 'met\\_r%\\_$RUN_TAG'" 30
for e in "${ENDPOINTS[@]}"; do
    name=${e%%=*} addr=${e#*=}
    want=$((${before[$name]:-0} + n))
    if poll_until 20 at_least "$addr" 'dbsync_events_total\{[^}]*outcome="applied"' "$want"; then
        pass "$name: applied counter moved by at least $n"
    else
        fail "$name: applied counter $(metric_sum "$addr" 'dbsync_events_total\{[^}]*outcome="applied"'), wanted >= $want"
    fi
    for h in dbsync_batch_apply_seconds_count dbsync_end_to_end_lag_seconds_count; do
        if poll_until 10 at_least "$addr" "$h" 1; then pass "$name: $h has samples"; else fail "$name: $h has no samples"; fi
    done
    # librdkafka reports statistics every 5 s; the loop exports them within a second.
    if poll_until 20 bash -c "curl -fsS --max-time 5 http://$addr/metrics | grep -q '^dbsync_consumer_lag_messages{'"; then
        pass "$name: consumer lag gauge per partition"
    else
        fail "$name: no dbsync_consumer_lag_messages"
    fi
    scrape "$addr" >"$tmp/$name.prom"
    if promtool check metrics <"$tmp/$name.prom" >"$tmp/$name.lint" 2>&1; then
        pass "$name: promtool check metrics"
    else
        fail "$name: promtool check metrics: $(head -c 400 "$tmp/$name.lint")"
    fi
done

# --- Prometheus with the shipped config and rules ----------------------------------------------------------------
if promtool check config "$DEPLOY/prometheus.yml" >"$tmp/config.lint" 2>&1; then
    pass "promtool check config deploy/prometheus/prometheus.yml"
else
    fail "promtool check config: $(cat "$tmp/config.lint")"
fi
if promtool check rules "$DEPLOY/dbsync-alerts.yml" >"$tmp/rules.lint" 2>&1; then
    pass "promtool check rules deploy/prometheus/dbsync-alerts.yml ($(grep -o '[0-9]* rules found' "$tmp/rules.lint" | head -n 1))"
else
    fail "promtool check rules: $(cat "$tmp/rules.lint")"
fi
rm -rf "$STATE/prometheus/data"
mkdir -p "$STATE/prometheus"
cp "$DEPLOY/prometheus.yml" "$DEPLOY/dbsync-alerts.yml" "$tmp/"
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$STATE/prometheus/data" \
    --web.listen-address="127.0.0.1:$PROM_PORT" >"$LOGS/prometheus.log" 2>&1 &
prom_pid=$!
# query PROMQL: the first sample's value, empty while there is none.
query() {
    curl -fsS --max-time 5 "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode "query=$1" 2>/dev/null |
        jq -r '.data.result[0].value[1] // empty'
}
has_value() { [ -n "$(query "$1")" ]; }
for q in 'sum(dbsync_consumer_lag_messages{direction="legacy_to_revamp"})' \
    'sum(dbsync_consumer_lag_messages{direction="revamp_to_legacy"})' \
    'sum by (direction) (rate(dbsync_events_total{outcome="applied"}[1m]))' \
    'max by (direction) (dbsync_last_end_to_end_lag_seconds)'; do
    if poll_until 60 has_value "$q"; then pass "prometheus answers $q = $(query "$q")"; else fail "prometheus: no value for $q"; fi
done
# A rate above zero needs the counter to grow between two scrapes of one series (a series born by a write starts at
# its first value): keep writing while polling.
rate_q='sum(rate(dbsync_events_total{direction="legacy_to_revamp",outcome="applied"}[1m])) > 0'
write_then_rate() {
    pg "INSERT INTO legacy_users (username, email) VALUES ('met_rate_${RUN_TAG}_$RANDOM$RANDOM', 'm@x')" >/dev/null &&
        has_value "$rate_q"
}
if poll_until 90 write_then_rate; then pass "applied rate above zero: $(query "$rate_q")/s"; else fail "applied rate stays zero"; fi

# --- part 2: JSON logs ---------------------------------------------------------------------------------------------
"$TEST_ROOT/testing/scripts/consumers.sh" stop >/dev/null
DBSYNC_LOG_FORMAT=json DBSYNC_LOG_DIR="$tmp/logs" DBSYNC_METRICS_ADDR='' "$TEST_ROOT/testing/scripts/artisan.sh" consume:legacy-events \
    >"$tmp/json.out" 2>"$tmp/json.err" </dev/null &
json_pid=$!
poll_until 30 grep -q 'consumer ready' "$tmp/json.err" || true
u=$(pg "INSERT INTO legacy_users (username, email, full_name) VALUES ('met_json_$RUN_TAG', 'secret-$RUN_TAG@x', 'Payload $RUN_TAG') RETURNING id")
expect_query my "a write crosses while logging JSON" 1 "SELECT COUNT(*) FROM revamp_users WHERE id = $u" 30
kill -TERM "$json_pid"
wait "$json_pid" 2>/dev/null || true
json_pid=""
lines=$(wc -l <"$tmp/json.err")
bad=$(jq -R 'fromjson? | objects | 1' <"$tmp/json.err" | wc -l)
if [ "$lines" -gt 0 ] && [ "$bad" -eq "$lines" ]; then
    pass "all $lines stderr lines are JSON objects"
else
    fail "$((lines - bad)) of $lines stderr lines are not JSON objects: $(jq -R 'select((fromjson? | objects) == null)' <"$tmp/json.err" | head -n 3)"
fi
check_eq "the JSON log has the start-up line" 1 "$(jq -R 'fromjson? | select(.message == "consumer ready") | 1' <"$tmp/json.err" | head -n 1)"
# The same lines land in the daily file of the configured log directory (config dbsync.log_directory).
daily="$tmp/logs/dbsync.$(date -u +%F).log"
if [ -s "$daily" ] && [ -n "$(jq -R 'fromjson? | select(.message == "consumer ready") | 1' <"$daily")" ]; then
    pass "the daily log file $(basename "$daily") holds the JSON lines ($(wc -l <"$daily") lines)"
else
    fail "no daily log file with the start-up line in $tmp/logs: $(ls "$tmp/logs" 2>&1)"
fi
: >"$tmp/logs-file" # a file where a directory is expected
DBSYNC_LOG_DIR="$tmp/logs-file/sub" "$TEST_ROOT/testing/scripts/artisan.sh" consume:legacy-events --max-time=1 \
    >"$tmp/baddir.out" 2>&1 </dev/null && code=0 || code=$?
check_eq "an unusable log directory exits 2 (invalid configuration)" 2 "$code"
if grep -q 'log_directory' "$tmp/baddir.out"; then pass "and the message names log_directory"; else fail "message: $(head -c 300 "$tmp/baddir.out")"; fi
leaks=0
while IFS='=' read -r key value; do
    [ -n "$value" ] || continue
    if grep -qF -- "$value" "$tmp/json.err" "$tmp/json.out"; then fail "the log holds $key"; leaks=$((leaks + 1)); fi
done < <(grep -E '^[A-Z_]*PASSWORD=' "$TEST_ROOT/stack.env")
[ "$leaks" -gt 0 ] || pass "no password of stack.env in the log"
if grep -qF -e "secret-$RUN_TAG" -e "Payload $RUN_TAG" "$tmp/json.err" "$tmp/json.out"; then
    fail "the log holds a row's values"
else
    pass "no row values in the log"
fi

summary
