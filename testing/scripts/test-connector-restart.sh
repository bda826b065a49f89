#!/usr/bin/env bash
# Connector restart (issue 7, item 11): Kafka Connect never restarts a FAILED task by itself, so `make up`
# (debezium/register-connectors.sh) must. A throwaway MariaDB connector (its own name, server id and in-memory
# schema history; it captures revamp_users and drops every record) gets a Groovy filter that throws while a flag
# file exists, so its task FAILS on purpose. Checks:
#   - the task reaches FAILED; register-connectors.sh, with the failure still there, restarts it (restart request
#     visible) and then gives up with the trace after DBSYNC_CONNECT_RESTARTS restarts;
#   - with the cause gone, register-connectors.sh ("unchanged" config) restarts the failed task and the connector
#     runs again;
#   - both dbsync connectors carry the retry settings.
# The real connectors are not touched; the throwaway one is stopped, its offsets deleted and itself removed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

url=$DBSYNC_CONNECT_URL
name="dbsync-restart-test-$RUN_TAG"
tmp=$(mktemp -d)
flag="$tmp/fail-now"
cleanup() {
    remove_connector "$name"
    rm -rf "$tmp"
}
trap cleanup EXIT

jq --arg name "$name" --arg flag "$flag" --arg id $((190000 + RANDOM % 10000)) '
    {name: $name, config: (.config
        | with_entries(select(.key | test("^(transforms|predicates|message\\.key|schema\\.history)") | not))
        + {"database.server.id": $id, "topic.prefix": "dbsync_restart_test",
           "table.include.list": "revamp_db\\.revamp_users", "snapshot.mode": "always",
           "snapshot.locking.mode": "none",
           "schema.history.internal": "io.debezium.relational.history.MemorySchemaHistory",
           "transforms": "boom", "transforms.boom.type": "io.debezium.transforms.Filter",
           "transforms.boom.language": "jsr223.groovy",
           "transforms.boom.condition": ("new File(\u0027" + $flag + "\u0027).exists() ? value.get(\u0027no_such_field\u0027) : false")})}' \
    "$TEST_ROOT/debezium/mysql-connector.json" >"$tmp/connector.json"

task_state() { curl -sf "$url/connectors/$name/status" | jq -r '.tasks[0].state // "none"'; }
task_failed() { [ "$(task_state)" = FAILED ]; }

echo "== a task that FAILS on purpose =="
touch "$flag"
curl -sf -o /dev/null -X PUT -H 'Content-Type: application/json' --data "$(jq -c .config "$tmp/connector.json")" \
    "$url/connectors/$name/config" || fail "throwaway connector rejected"
if poll_until 60 task_failed; then pass "throwaway task FAILED"; else fail "throwaway task never FAILED (state $(task_state))"; fi

echo "== register-connectors.sh while the cause persists =="
out=$(DBSYNC_CONNECT_RESTARTS=1 "$TEST_ROOT/debezium/register-connectors.sh" "$tmp/connector.json" 2>&1) && rc=0 || rc=$?
check_eq "register-connectors.sh fails once its restarts are used up" 1 "$rc"
check_eq "it restarted the failed task once" 1 "$(grep -c "restarting the failed parts" <<<"$out")"
check_eq "it gave up naming the connector" 1 "$(grep -c "connector $name FAILED after 1 restarts" <<<"$out")"

echo "== register-connectors.sh once the cause is gone =="
rm -f "$flag"
poll_until 30 task_failed || fail "throwaway task is not FAILED before the recovery run (state $(task_state))"
out=$("$TEST_ROOT/debezium/register-connectors.sh" "$tmp/connector.json" 2>&1) && rc=0 || rc=$?
check_eq "register-connectors.sh succeeds" 0 "$rc"
check_eq "its config was unchanged" 1 "$(grep -c "$name unchanged" <<<"$out")"
check_eq "it restarted the failed task" 1 "$(grep -c "restarting the failed parts" <<<"$out")"
check_eq "the task runs again" RUNNING "$(task_state)"
[ "$FAILED" = 0 ] || printf '%s\n' "$out" | sed 's/^/    | /'

echo "== retry settings of the dbsync connectors =="
for connector in dbsync-legacy dbsync-revamp; do
    check_eq "$connector: errors.max.retries unlimited" -1 \
        "$(curl -sf "$url/connectors/$connector/config" | jq -r '."errors.max.retries"')"
    check_eq "$connector: restart wait after a retriable error" 3000 \
        "$(curl -sf "$url/connectors/$connector/config" | jq -r '."retriable.restart.connector.wait.ms"')"
done

summary
