#!/usr/bin/env bash
# Deterministic conflict scenarios (issue: convergence). With the consumers stopped, both sides change the same row;
# then the consumers start and both databases must end holding the rule's winner (last writer wins on updated_at,
# a delete's version is when it happened). Also: a child that arrives before its parent is applied once the parent
# arrives.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
consumers="$TEST_ROOT/testing/scripts/consumers.sh"
ensure_consumers

# synced_user NAME: a legacy user that has reached revamp; prints its id.
synced_user() {
    local id
    id=$(pg "INSERT INTO legacy_users (username, email, full_name) VALUES ('$1_$RUN_TAG', 'v0@$RUN_TAG.test', 'Vee Zero') RETURNING id")
    poll_until 10 bash -c "[ \"\$(mariadb -N -B -h 127.0.0.1 -P $DBSYNC_MYSQL_PORT -uroot $DBSYNC_MYSQL_DATABASE -e 'SELECT COUNT(*) FROM revamp_users WHERE id = $id')\" = 1 ]" ||
        fail "setup: user $id did not reach revamp"
    echo "$id"
}

echo "== same row edited on both sides while the consumers are down =="
a=$(synced_user lww_a)
b=$(synced_user lww_b)
"$consumers" stop >/dev/null
pg "UPDATE legacy_users SET email = 'legacy@$RUN_TAG.test' WHERE id = $a"
my "UPDATE revamp_users SET email_address = 'revamp@$RUN_TAG.test' WHERE id = $a"   # later: wins
my "UPDATE revamp_users SET email_address = 'revamp@$RUN_TAG.test' WHERE id = $b"
pg "UPDATE legacy_users SET email = 'legacy@$RUN_TAG.test' WHERE id = $b"            # later: wins
"$consumers" start >/dev/null
expect_query pg "row $a: revamp's later edit wins on legacy" "revamp@$RUN_TAG.test" "SELECT email FROM legacy_users WHERE id = $a" 15
expect_query my "row $a: revamp's later edit stays on revamp" "revamp@$RUN_TAG.test" "SELECT email_address FROM revamp_users WHERE id = $a" 15
expect_query pg "row $b: legacy's later edit stays on legacy" "legacy@$RUN_TAG.test" "SELECT email FROM legacy_users WHERE id = $b" 15
expect_query my "row $b: legacy's later edit wins on revamp" "legacy@$RUN_TAG.test" "SELECT email_address FROM revamp_users WHERE id = $b" 15
check_eq "row $a: both sides hold the same updated_at" \
    "$(pg "SELECT $(PG_TS updated_at) FROM legacy_users WHERE id = $a")" \
    "$(my "SELECT $(MY_TS updated_at) FROM revamp_users WHERE id = $a")"

echo "== delete on one side, update on the other, while the consumers are down =="
c=$(synced_user del_c)
d=$(synced_user del_d)
"$consumers" stop >/dev/null
my "UPDATE revamp_users SET email_address = 'edited@$RUN_TAG.test' WHERE id = $c"
pg "DELETE FROM legacy_users WHERE id = $c"                                            # later: the delete wins
pg "DELETE FROM legacy_users WHERE id = $d"
my "UPDATE revamp_users SET email_address = 'edited@$RUN_TAG.test' WHERE id = $d"   # later: the edit wins
"$consumers" start >/dev/null
expect_query my "row $c: the later delete wins on revamp" 0 "SELECT COUNT(*) FROM revamp_users WHERE id = $c" 15
expect_query pg "row $c: and stays deleted on legacy" 0 "SELECT COUNT(*) FROM legacy_users WHERE id = $c" 15
expect_query pg "row $d: the later edit brings the row back on legacy" "edited@$RUN_TAG.test" "SELECT email FROM legacy_users WHERE id = $d" 15
expect_query my "row $d: and keeps it on revamp" "edited@$RUN_TAG.test" "SELECT email_address FROM revamp_users WHERE id = $d" 15

echo "== a child that arrives before its parent =="
uid=$((950000000000 + RANDOM * 1000 + RANDOM % 1000))
pid=$((uid + 1))
iso=$(date -u +%Y-%m-%dT%H:%M:%S.000000Z)
lsn=$(($(date +%s%N) / 1000))
source_block() { printf '{"version":"3.5.0.Final","connector":"postgresql","name":"legacy","ts_ms":%s,"snapshot":"false","db":"legacy_db","schema":"public","table":"%s","txId":1,"lsn":%s}' "$((lsn / 1000))" "$1" "$2"; }
post="{\"before\":null,\"after\":{\"id\":$pid,\"author_id\":$uid,\"title\":\"orphan $RUN_TAG\",\"body\":\"\",\"state\":\"draft\",\"created_at\":\"$iso\",\"updated_at\":\"$iso\",\"source\":\"legacy\"},\"source\":$(source_block legacy_posts $lsn),\"op\":\"c\",\"ts_ms\":$((lsn / 1000))}"
user="{\"before\":null,\"after\":{\"id\":$uid,\"username\":\"parent_$RUN_TAG\",\"email\":\"p@$RUN_TAG.test\",\"full_name\":\"Late Parent\",\"status\":\"active\",\"is_admin\":false,\"created_at\":\"$iso\",\"updated_at\":\"$iso\",\"source\":\"legacy\"},\"source\":$(source_block legacy_users $((lsn + 1))),\"op\":\"c\",\"ts_ms\":$((lsn / 1000))}"
echo "{\"id\":$pid}|$post" | kcat -P -b "$DBSYNC_BROKERS" -t "$DBSYNC_LEGACY_TOPIC" -K '|'
# The child is parked, waiting: nothing written yet.
expect_query my "the orphan post waits (not written without its parent)" 0 "SELECT COUNT(*) FROM revamp_posts WHERE id = $pid" 2
echo "{\"id\":$uid}|$user" | kcat -P -b "$DBSYNC_BROKERS" -t "$DBSYNC_LEGACY_TOPIC" -K '|'
expect_query my "the parent arrives" 1 "SELECT COUNT(*) FROM revamp_users WHERE id = $uid" 10
expect_query my "then the waiting child is applied" "$uid" "SELECT user_id FROM revamp_posts WHERE id = $pid" 15
my "SET @dbsync_origin = 'sync_service'; DELETE FROM revamp_users WHERE id = $uid"

summary
