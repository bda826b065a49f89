#!/usr/bin/env bash
# No event ever crosses back: N application writes of users (both sides) give exactly N events on the two topics
# together, once everything has been applied on the other side, and the synced rows carry source=sync_service.
# Counting is by row id over both topics, after a fence write shows each connector has read past the sync's writes.
# Rows made on one side are edited on the other, both ways.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_consumers

L=$DBSYNC_LEGACY_TOPIC
R=$DBSYNC_REVAMP_TOPIC
writes=0
ids=()

echo "== writes on both sides =="
for n in 1 2 3; do
    id=$(pg "INSERT INTO legacy_users (username, email, full_name) VALUES ('loop_l${n}_$RUN_TAG', 'l$n@$RUN_TAG.test', 'Loop L$n') RETURNING id")
    ids+=("$id")
    pg "UPDATE legacy_users SET email = 'l${n}b@$RUN_TAG.test' WHERE id = $id"
    writes=$((writes + 2))
done
for n in 1 2; do
    id=$(my "INSERT INTO revamp_users (user_name, email_address, first_name, last_name) VALUES ('loop_r${n}_$RUN_TAG', 'r$n@$RUN_TAG.test', 'Loop', 'R$n'); SELECT LAST_INSERT_ID()")
    ids+=("$id")
    my "UPDATE revamp_users SET email_address = 'r${n}b@$RUN_TAG.test' WHERE id = $id"
    writes=$((writes + 2))
done
# A row made on one side and edited on the other: each edit is one user write.
cross=${ids[0]}
expect_query my "legacy row reached revamp" "l1b@$RUN_TAG.test" "SELECT email_address FROM revamp_users WHERE id = $cross"
my "UPDATE revamp_users SET email_address = 'l1c@$RUN_TAG.test' WHERE id = $cross"
writes=$((writes + 1))

echo "== everything applied on the other side =="
# Final values, not mere presence: the sync's last write (whose echo we count) must have happened.
for n in 2 3; do
    expect_query my "legacy user ${ids[$((n - 1))]} is on revamp with its last edit, stamped sync_service" \
        "l${n}b@$RUN_TAG.test|sync_service" \
        "SELECT CONCAT(email_address, '|', source) FROM revamp_users WHERE id = ${ids[$((n - 1))]}"
done
for n in 1 2; do
    expect_query pg "revamp user ${ids[$((n + 2))]} is on legacy with its last edit, stamped sync_service" \
        "r${n}b@$RUN_TAG.test|sync_service" "SELECT email || '|' || source FROM legacy_users WHERE id = ${ids[$((n + 2))]}"
done
expect_query pg "the cross edit is back on legacy" "l1c@$RUN_TAG.test" "SELECT email FROM legacy_users WHERE id = $cross"
# A row made on revamp and edited on legacy: PostgreSQL's publication row filter publishes that edit of a
# sync-stamped row as an insert (`op: c`) carrying revamp's key; it must still reach revamp.
rcross=${ids[3]}
pg "UPDATE legacy_users SET email = 'r1c@$RUN_TAG.test' WHERE id = $rcross"
writes=$((writes + 1))
expect_query my "legacy's edit of revamp user $rcross is on revamp, stamped sync_service" \
    "r1c@$RUN_TAG.test|sync_service" "SELECT CONCAT(email_address, '|', source) FROM revamp_users WHERE id = $rcross"

echo "== fence: both connectors have read past the sync's own writes =="
fl=$(pg "INSERT INTO legacy_users (username, email) VALUES ('loopfence_l_$RUN_TAG', 'f@x') RETURNING id")
fr=$(my "INSERT INTO revamp_users (user_name, email_address) VALUES ('loopfence_r_$RUN_TAG', 'f@x'); SELECT LAST_INSERT_ID()")
poll_until 15 event_count_at_least "$L" 1 "$(row_filter legacy_users "$fl")" || fail "legacy fence event never arrived"
poll_until 15 event_count_at_least "$R" 1 "$(row_filter revamp_users "$fr")" || fail "revamp fence event never arrived"

id_list=$(IFS=,; echo "${ids[*]}")
filter="((.after // .before).id as \$id | [$id_list] | index(\$id)) != null and (.source.table | test(\"users\$\"))"
events=$(($(count_events "$L" "$filter") + $(count_events "$R" "$filter")))
check_eq "$writes user writes give exactly $writes events on $L and $R together" "$writes" "$events"
check_eq "no event on either topic carries source=sync_service" 0 \
    "$(($(count_events "$L" "$filter and (.after.source == \"sync_service\")") + $(count_events "$R" "$filter and (.after.source == \"sync_service\")")))"

summary
