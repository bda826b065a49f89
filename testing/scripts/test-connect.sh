#!/usr/bin/env bash
# Kafka Connect's own logs and the connectors' heartbeats (issue 8). Checks, against the running stack:
#   - the worker's classpath holds one slf4j-api, a 2.x one that finds log4j-slf4j2-impl (with Kafka's 1.7.36 next
#     to it every Debezium and Connect line was dropped);
#   - a throwaway MariaDB connector (its own name and server id, no data snapshot, in-memory schema history, it
#     writes nothing) started by the test puts Debezium's start-up line in .stack/logs/connect.log, through log4j's
#     layout, and leaves no SLF4J "no-operation" fallback behind it;
#   - both connectors emit heartbeats on __debezium-heartbeat.<prefix>, the PostgreSQL heartbeat action upserts
#     dbsync_heartbeat, and the replication slot's confirmed position advances while nobody writes synced rows;
#   - no heartbeat (neither the heartbeat topic's records nor dbsync_heartbeat row events) reaches legacy.events or
#     revamp.events, so the consumers never see one.
# The real connectors are not touched; the throwaway one is stopped, its offsets deleted and itself removed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

url=$DBSYNC_CONNECT_URL
name="dbsync-logs-test-$RUN_TAG"
connect_log="$LOGS/connect.log"
tmp=$(mktemp -d)
cleanup() {
    remove_connector "$name"
    rm -rf "$tmp"
}
trap cleanup EXIT

echo "== the worker's logging jars =="
slf4j=$(cd "$JARS/connect" && ls slf4j-api-*.jar 2>/dev/null | tr '\n' ' ' | sed 's/ $//')
check_eq "exactly one slf4j-api jar on the worker's classpath" 1 "$(wc -w <<<"$slf4j" | tr -d ' ')"
case "$slf4j" in
slf4j-api-2.*) pass "slf4j-api is 2.x ($slf4j), the API log4j-slf4j2-impl provides" ;;
*) fail "slf4j-api is '$slf4j', not 2.x: Connect's and Debezium's lines are dropped (run make up)" ;;
esac

echo "== Debezium's start-up line reaches connect.log =="
offset=$(stat -c %s "$connect_log")
new_lines() { tail -c +$((offset + 1)) "$connect_log"; }
jq --arg name "$name" --arg id $((200000 + RANDOM % 10000)) '
    {name: $name, config: (.config
        | with_entries(select(.key | test("^(transforms|predicates|message\\.key|schema\\.history|heartbeat)") | not))
        + {"database.server.id": $id, "topic.prefix": "dbsync_logs_test",
           "table.include.list": "revamp_db\\.revamp_users", "snapshot.mode": "no_data",
           "snapshot.locking.mode": "none",
           "schema.history.internal": "io.debezium.relational.history.MemorySchemaHistory"})}' \
    "$TEST_ROOT/debezium/mysql-connector.json" >"$tmp/connector.json"
curl -sf -o /dev/null -X PUT -H 'Content-Type: application/json' --data "$(jq -c .config "$tmp/connector.json")" \
    "$url/connectors/$name/config" || fail "throwaway connector rejected"
# BaseSourceTask logs this when a Debezium task starts, then its configuration (ours: the throwaway's prefix);
# "[time] INFO " is log4j2.xml's pattern, so the line went through log4j.
startup_line() {
    new_lines | grep -qE '^\[[0-9-]+ [0-9:,]+\] INFO Starting MariaDbConnectorTask with configuration:' &&
        new_lines | grep -qE '^ +topic\.prefix = dbsync_logs_test$'
}
if poll_until 60 startup_line; then
    pass "connect.log: '$(new_lines | grep -m1 -oE 'INFO Starting MariaDbConnectorTask with configuration:')' for the throwaway connector"
else
    fail "connect.log has no Debezium start-up line within 60 s (last lines: $(new_lines | tail -n 3 | tr '\n' '|'))"
fi
check_eq "connect.log: no SLF4J no-operation fallback since the connector started" 0 \
    "$(new_lines | grep -c 'SLF4J: Defaulting to no-operation' || true)"
check_eq "connect.log: the configuration dump shows no password" 0 \
    "$(new_lines | grep -c -F "$DBSYNC_DEBEZIUM_PASSWORD" || true)"

echo "== heartbeats =="
# topic_count TOPIC: messages on TOPIC from its beginning to its end (0 while it does not exist yet).
topic_count() { { kcat -b "$DBSYNC_BROKERS" -C -t "$1" -o beginning -e -q -f 'x\n' 2>/dev/null || true; } | wc -l | tr -d ' '; }
count_above() { [ "$(topic_count "$1")" -gt "$2" ]; }
for prefix in legacy revamp; do
    topic="__debezium-heartbeat.$prefix"
    before=$(topic_count "$topic")
    # heartbeat.interval.ms is 10 s (an idle MariaDB wakes the connector every 10 s, see the README): a new heartbeat
    # within 45 s shows they keep coming, not one left from before.
    if poll_until 45 count_above "$topic" "$before"; then
        pass "$topic receives heartbeats ($before before, $(topic_count "$topic") now)"
    else
        fail "$topic received no heartbeat within 45 s ($before messages)"
    fi
done
check_eq "a heartbeat is keyed by its connector's prefix" '{"serverName":"legacy"}' \
    "$({ kcat -b "$DBSYNC_BROKERS" -C -t __debezium-heartbeat.legacy -o beginning -e -q -f '%k\n' 2>/dev/null || true; } | tail -n 1 | jq -c .)"
beat_recent() { [ "$(pg "SELECT count(*) FROM dbsync_heartbeat WHERE beat_at > now() - interval '30 seconds'")" = 1 ]; }
if poll_until 30 beat_recent; then pass "the heartbeat action upserts dbsync_heartbeat"; else fail "dbsync_heartbeat not written in the last 30 s"; fi
check_eq "dbsync_heartbeat keeps one row" 1 "$(pg "SELECT count(*) FROM dbsync_heartbeat")"

slot_lsn() { pg "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'dbsync_legacy'"; }
lsn_before=$(slot_lsn)
slot_advanced() { [ "$(pg "SELECT pg_wal_lsn_diff(confirmed_flush_lsn, '$lsn_before') > 0 FROM pg_replication_slots WHERE slot_name = 'dbsync_legacy'")" = t ]; }
if [ -n "$lsn_before" ] && poll_until 45 slot_advanced; then
    pass "slot dbsync_legacy confirms new WAL on its own ($lsn_before -> $(slot_lsn))"
else
    fail "slot dbsync_legacy stayed at '$lsn_before' for 45 s"
fi

echo "== the consumers never see a heartbeat =="
for topic in "$DBSYNC_LEGACY_TOPIC" "$DBSYNC_REVAMP_TOPIC"; do
    check_eq "no dbsync_heartbeat row event on $topic" 0 "$(count_events "$topic" '.source.table? == "dbsync_heartbeat"')"
    check_eq "no heartbeat record on $topic" 0 "$(count_events "$topic" 'has("ts_ms") and (has("op") | not)')"
done

summary
