#!/usr/bin/env bash
# `php artisan dbsync:verify` while both sides write and the consumers run (issue 11): no false positives from rows
# in flight. 200 users are created on legacy (ids in a key range of this run only); then a legacy writer updates and
# inserts users and a revamp writer updates and deletes them, both without pause, while dbsync:verify runs twice on
# that range. Each run must exit 0 with no drift: a row that differs while its change is on its way agrees on a
# later look (after the consumers committed past it) or is listed as unsettled, never as drift. After the writers
# stop and the consumers catch up, a last verify exits 0 too.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tmp=$(mktemp -d)
stop_file="$tmp/stop"
writers=()
stop_writers() {
    touch "$stop_file"
    local pid
    for pid in "${writers[@]}"; do wait "$pid" 2>/dev/null || true; done
    writers=()
}
trap 'stop_writers; rm -rf "$tmp"' EXIT
base=$((920000000000 + ($(date +%s) % 1000000) * 1000))
top=$((base + 999))
range=(--min-key="$base" --max-key="$top")

ensure_consumers
pg "INSERT INTO legacy_users (id, username, email, full_name) SELECT $base + g, 'vlive_${RUN_TAG}_' || g, 'v@x', 'Live User' FROM generate_series(1, 200) AS g"
expect_query my "200 users crossed" 200 "SELECT COUNT(*) FROM revamp_users WHERE id BETWEEN $base AND $top" 60

# legacy_writer: updates a random user and, every fifth round, inserts one, until the stop file exists.
legacy_writer() {
    local n=200 i=0
    until [ -e "$stop_file" ]; do
        i=$((i + 1))
        pg "UPDATE legacy_users SET email = 'l$i@x' WHERE id = $((base + 1 + RANDOM % n))" >/dev/null 2>&1 || true
        if [ $((i % 5)) = 0 ] && [ $n -lt 900 ]; then
            n=$((n + 1))
            pg "INSERT INTO legacy_users (id, username, email) VALUES ($((base + n)), 'vlive_${RUN_TAG}_$n', 'n@x')" >/dev/null 2>&1 || true
        fi
    done
    echo "$i" >"$tmp/legacy-writes"
}
# revamp_writer: updates a random user and, every 25th round, deletes one, until the stop file exists.
revamp_writer() {
    local i=0
    until [ -e "$stop_file" ]; do
        i=$((i + 1))
        my "UPDATE revamp_users SET first_name = 'R$i' WHERE id = $((base + 1 + RANDOM % 200))" >/dev/null 2>&1 || true
        if [ $((i % 25)) = 0 ]; then
            my "DELETE FROM revamp_users WHERE id = $((base + 1 + RANDOM % 200))" >/dev/null 2>&1 || true
        fi
    done
    echo "$i" >"$tmp/revamp-writes"
}
legacy_writer &
writers+=($!)
revamp_writer &
writers+=($!)

for run in 1 2; do
    echo "== verify while both sides write ($run) =="
    code=0
    "$TEST_ROOT/testing/scripts/artisan.sh" dbsync:verify "${range[@]}" --json >"$tmp/v$run" 2>"$tmp/v$run.err" || code=$?
    check_eq "verify $run: exit 0 while writing" 0 "$code"
    check_eq "verify $run: no drift reported" 0 "$(jq '.differences | length' "$tmp/v$run" 2>/dev/null)"
    echo "  (rows $(jq .rows "$tmp/v$run" 2>/dev/null), in flight $(jq .confirmation.resolved_in_flight "$tmp/v$run" 2>/dev/null), unsettled $(jq '.unsettled | length' "$tmp/v$run" 2>/dev/null), consumers caught up: $(jq .confirmation.consumers_caught_up "$tmp/v$run" 2>/dev/null))"
    [ "$code" = 0 ] || { head -c 2000 "$tmp/v$run"; tail -n 5 "$tmp/v$run.err"; }
done
stop_writers
writes=$(($(cat "$tmp/legacy-writes" 2>/dev/null || echo 0) + $(cat "$tmp/revamp-writes" 2>/dev/null || echo 0)))
[ "$writes" -gt 50 ] && pass "the writers wrote during verify ($writes writes)" || fail "the writers wrote only $writes times"

echo "== writers stopped =="
caught_up || fail "consumers did not catch up"
code=0
"$TEST_ROOT/testing/scripts/artisan.sh" dbsync:verify "${range[@]}" --json >"$tmp/v3" 2>"$tmp/v3.err" || code=$?
check_eq "verify after the writers stopped: exit 0" 0 "$code"
check_eq "verify after the writers stopped: in sync, nothing unsettled" "true 0" "$(jq -r '"\(.in_sync) \(.unsettled | length)"' "$tmp/v3" 2>/dev/null)"

summary
