#!/usr/bin/env bash
# Poison does not stop the line: a malformed message and an unmappable event on legacy.events each land in sync.dlq
# with Kafka Connect's error headers plus dbsync.reason, while the good event behind them (same key, so the same
# partition and after them in order) is still applied by the running consumer.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_consumers

id=$((900000000000 + RANDOM * 1000 + RANDOM % 1000))
key="{\"id\":$id,\"__dbz__physicalTableIdentifier\":\"legacy.public.legacy_users\"}"
now_us=$(($(date +%s%N) / 1000))
iso=$(date -u +%Y-%m-%dT%H:%M:%S.000000Z)
envelope() { # status username lsn
    printf '{"before":null,"after":{"id":%s,"username":"%s","email":"dlq@%s.test","full_name":"Dead Letter","status":"%s","is_admin":false,"created_at":"%s","updated_at":"%s","source":"legacy"},"source":{"version":"3.5.0.Final","connector":"postgresql","name":"legacy","ts_ms":%s,"snapshot":"false","db":"legacy_db","schema":"public","table":"legacy_users","txId":1,"lsn":%s},"op":"c","ts_ms":%s}' \
        "$id" "$2" "$RUN_TAG" "$1" "$iso" "$iso" "$((now_us / 1000))" "$3" "$((now_us / 1000))"
}
{
    echo "$key|this is not JSON $RUN_TAG"
    echo "$key|$(envelope frozen "dlq_bad_$RUN_TAG" "$now_us")"
    echo "$key|$(envelope active "dlq_good_$RUN_TAG" "$((now_us + 1))")"
} | kcat -P -b "$DBSYNC_BROKERS" -t "$DBSYNC_LEGACY_TOPIC" -K '|'

expect_query my "the good event behind the poison is applied" "dlq_good_$RUN_TAG	1" \
    "SELECT user_name, status FROM revamp_users WHERE id = $id" 15

# dlq_headers PATTERN: the headers of the dead letter whose value matches PATTERN, one per line.
dlq_headers() {
    kcat -b "$DBSYNC_BROKERS" -C -t "$DBSYNC_DLQ_TOPIC" -o beginning -e -q -f '%h\t%s\n' 2>/dev/null |
        grep -F -- "$1" | head -n 1 | cut -f1 | tr ',' '\n'
}
has_dead_letter() { [ -n "$(dlq_headers "$1")" ]; }
poll_until 15 has_dead_letter "not JSON $RUN_TAG" || true
poll_until 15 has_dead_letter "dlq_bad_$RUN_TAG" || true
malformed=$(dlq_headers "not JSON $RUN_TAG")
unmappable=$(dlq_headers "dlq_bad_$RUN_TAG")
check_eq "malformed message dead-lettered with reason malformed" "dbsync.reason=malformed" "$(grep '^dbsync.reason=' <<<"$malformed")"
check_eq "unmappable event dead-lettered with reason unmappable" "dbsync.reason=unmappable" "$(grep '^dbsync.reason=' <<<"$unmappable")"
check_eq "dead letter names its source topic" "__connect.errors.topic=$DBSYNC_LEGACY_TOPIC" "$(grep '^__connect.errors.topic=' <<<"$malformed")"
for header in __connect.errors.partition __connect.errors.offset __connect.errors.exception.class.name \
    __connect.errors.exception.message dbsync.attempts dbsync.first_failure_at dbsync.last_failure_at; do
    if grep -q "^$header=." <<<"$unmappable"; then pass "dead letter carries $header"; else fail "dead letter lacks $header"; fi
done
check_eq "the unmappable value is named in the message" 1 "$(grep -c '^__connect.errors.exception.message=.*frozen' <<<"$unmappable")"

summary
