#!/usr/bin/env bash
# Replays are no-ops: both topics consumed again from offset 0 (fresh consumer groups, through
# `php artisan consume:*`) apply nothing and change no row; the ledger turns every event into a duplicate.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_consumers

caught_up || fail "consumers did not catch up"
before=$(snapshot_tables | md5sum)

# Own group (so offset 0) and own dead-letter topic (poison from earlier tests is dead-lettered again, elsewhere).
export DBSYNC_GROUP_PREFIX="replay-$RUN_TAG" DBSYNC_DLQ_TOPIC="replay-dlq-$RUN_TAG" DBSYNC_PARENT_WAIT_MS=300
for command in consume:legacy-events consume:revamp-events; do
    out=$("$TEST_ROOT/testing/scripts/artisan.sh" "$command" --stop-when-empty 2>&1 | tail -n 1) || true
    echo "  $out"
    check_eq "$command replay applies nothing" 0 "$(counter applied "$out")"
    duplicates=$(counter duplicates "$out")
    if [ "${duplicates:-0}" -gt 0 ]; then pass "$command replay finds $duplicates events in the ledger"; else fail "$command replay found no duplicates: $out"; fi
done
check_eq "no row changed on either side" "$before" "$(snapshot_tables | md5sum)"

summary
