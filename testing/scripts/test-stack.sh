#!/usr/bin/env bash
# Stack tests (issue: the real stack without Docker). Checks, against the running stack:
#   - application writes that do not name `source` produce exactly one CDC event each, stamped legacy/revamp;
#   - the same writes marked as the sync service produce no event and leave source = sync_service;
#   - an application update of a sync-stamped row is stamped again and produces an event (on legacy a `c`:
#     PostgreSQL's publication row filter publishes an update whose old row it filtered out as an insert);
#   - PostgreSQL's publication filters the sync service's rows out (they never reach the connector);
#   - deletes travel as tombstone events (dbsync_tombstones): an application delete produces one, also for a row the
#     sync service wrote last; a sync-service delete produces none; no raw delete event reaches a topic.
# A "fence" write after the negative cases proves the connector has read past them before counting zero.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

L=$DBSYNC_LEGACY_TOPIC
R=$DBSYNC_REVAMP_TOPIC

expect_one_event() { # topic table id op source description
    local filter
    filter="$(row_filter "$2" "$3") and .op == \"$4\" and (.after // .before).source == \"$5\""
    if poll_until 10 event_count_at_least "$1" 1 "$filter"; then
        check_eq "$6: exactly one '$4' event with source=$5" 1 "$(count_events "$1" "$filter")"
    else
        fail "$6: no '$4' event with source=$5 within 10 s"
    fi
}

# fence TOPIC SIDE: an application write whose event, once seen, shows the connector read past earlier writes.
fence() {
    local id
    if [ "$2" = legacy ]; then
        id=$(pg "INSERT INTO legacy_users (username, email) VALUES ('fence_l_$RUN_TAG$RANDOM', 'f@x') RETURNING id")
        poll_until 15 event_count_at_least "$1" 1 "$(row_filter legacy_users "$id")" || fail "fence event never arrived on $1"
    else
        id=$(my "INSERT INTO revamp_users (user_name, email_address) VALUES ('fence_r_$RUN_TAG$RANDOM', 'f@x'); SELECT LAST_INSERT_ID()")
        poll_until 15 event_count_at_least "$1" 1 "$(row_filter revamp_users "$id")" || fail "fence event never arrived on $1"
    fi
}

echo "== legacy side: application writes =="
user_post_like legacy app
u=$USER_ID p=$POST_ID k=$LIKE_ID
for spec in "legacy_users $u" "legacy_posts $p" "legacy_likes $k"; do
    set -- $spec
    expect_one_event "$L" "$1" "$2" c legacy "$1 insert"
    expect_one_event "$L" "$1" "$2" u legacy "$1 update"
done

echo "== revamp side: application writes =="
user_post_like revamp app
ru=$USER_ID rp=$POST_ID rk=$LIKE_ID
for spec in "revamp_users $ru" "revamp_posts $rp" "revamp_post_likes $rk"; do
    set -- $spec
    expect_one_event "$R" "$1" "$2" c revamp "$1 insert"
    expect_one_event "$R" "$1" "$2" u revamp "$1 update"
done

echo "== writes marked as the sync service =="
user_post_like legacy sync pg_as_sync
su=$USER_ID sp=$POST_ID sk=$LIKE_ID
user_post_like revamp sync my_as_sync
rsu=$USER_ID rsp=$POST_ID rsk=$LIKE_ID
check_eq "legacy rows written by the sync service carry source=sync_service" "sync_service sync_service sync_service" \
    "$(pg "SELECT string_agg(source, ' ') FROM (SELECT source FROM legacy_users WHERE id = $su UNION ALL SELECT source FROM legacy_posts WHERE id = $sp UNION ALL SELECT source FROM legacy_likes WHERE id = $sk) s")"
check_eq "revamp rows written by the sync service carry source=sync_service" "sync_service sync_service sync_service" \
    "$(my "SELECT CONCAT_WS(' ', (SELECT source FROM revamp_users WHERE id = $rsu), (SELECT source FROM revamp_posts WHERE id = $rsp), (SELECT source FROM revamp_post_likes WHERE id = $rsk))")"
check_eq "an application cannot spoof source=sync_service" legacy \
    "$(pg "UPDATE legacy_users SET source = 'sync_service' WHERE id = $u RETURNING source")"

echo "== application update of a sync-stamped row =="
pg "UPDATE legacy_users SET full_name = 'Touched By App' WHERE id = $su"
my "UPDATE revamp_users SET first_name = 'Touched' WHERE id = $rsu"
check_eq "legacy trigger re-stamps the row" legacy "$(pg "SELECT source FROM legacy_users WHERE id = $su")"
check_eq "revamp trigger re-stamps the row" revamp "$(my "SELECT source FROM revamp_users WHERE id = $rsu")"
expect_one_event "$L" legacy_users "$su" c legacy "legacy app update of a sync row (published as an insert)"
expect_one_event "$R" revamp_users "$rsu" u revamp "revamp app update of a sync row"

echo "== PostgreSQL's publication filters the sync service's rows out =="
# What the connector reads is what dbsync_legacy publishes: the row filters of migration 0004 on every synced table
# and the tombstones, none on the heartbeat.
check_eq "row filters of publication dbsync_legacy" \
    "dbsync_heartbeat:none dbsync_tombstones:(source <> 'sync_service'::text) legacy_likes:(source <> 'sync_service'::text) legacy_posts:(source <> 'sync_service'::text) legacy_users:(source <> 'sync_service'::text)" \
    "$(pg "SELECT string_agg(tablename || ':' || COALESCE(rowfilter, 'none'), ' ' ORDER BY tablename) FROM pg_publication_tables WHERE pubname = 'dbsync_legacy'")"

echo "== deletes =="
# tombstone_filter TABLE ID DELETER: the tombstone event recording that DELETER deleted row ID of TABLE.
tombstone_filter() {
    echo ".source.table == \"dbsync_tombstones\" and .after.table_name == \"$1\" and .after.row_id == $2 and .after.source == \"$3\""
}
expect_one_tombstone() { # topic table id deleter description
    local filter
    filter=$(tombstone_filter "$2" "$3" "$4")
    if poll_until 10 event_count_at_least "$1" 1 "$filter"; then
        check_eq "$5: exactly one tombstone event deleted by $4" 1 "$(count_events "$1" "$filter")"
    else
        fail "$5: no tombstone event deleted by $4 within 10 s"
    fi
}
# The sync service deletes inside its marked transaction: the tombstone is stamped sync_service and dropped.
pg_as_sync "DELETE FROM legacy_likes WHERE id = $sk"
my_as_sync "DELETE FROM revamp_post_likes WHERE id = $rsk"
check_eq "legacy tombstone of a sync delete is stamped sync_service" sync_service \
    "$(pg "SELECT source FROM dbsync_tombstones WHERE table_name = 'legacy_likes' AND row_id = $sk")"
check_eq "revamp tombstone of a sync delete is stamped sync_service" sync_service \
    "$(my "SELECT source FROM dbsync_tombstones WHERE table_name = 'revamp_post_likes' AND row_id = $rsk")"
# Application deletes, of an application row and of a row the sync service wrote last (its before image says
# sync_service, so a filter on the before image would lose this delete).
pg "DELETE FROM legacy_likes WHERE id = $k"
my "DELETE FROM revamp_post_likes WHERE id = $rk"
pg "DELETE FROM legacy_posts WHERE id = $sp"
my "DELETE FROM revamp_posts WHERE id = $rsp"
expect_one_tombstone "$L" legacy_likes "$k" legacy "legacy application delete"
expect_one_tombstone "$R" revamp_post_likes "$rk" revamp "revamp application delete"
expect_one_tombstone "$L" legacy_posts "$sp" legacy "legacy application delete of a sync-written row"
expect_one_tombstone "$R" revamp_posts "$rsp" revamp "revamp application delete of a sync-written row"

echo "== nothing written by the sync service reached a topic =="
fence "$L" legacy
fence "$R" revamp
for spec in "$L legacy_users $su" "$L legacy_posts $sp" "$L legacy_likes $sk" \
    "$R revamp_users $rsu" "$R revamp_posts $rsp" "$R revamp_post_likes $rsk"; do
    set -- $spec
    check_eq "no sync_service event for $2 id $3" 0 \
        "$(count_events "$1" "$(row_filter "$2" "$3") and (.after // .before).source == \"sync_service\"")"
done
check_eq "no tombstone event for the sync-deleted legacy like" 0 "$(count_events "$L" "$(tombstone_filter legacy_likes "$sk" sync_service)")"
check_eq "no tombstone event for the sync-deleted revamp like" 0 "$(count_events "$R" "$(tombstone_filter revamp_post_likes "$rsk" sync_service)")"
check_eq "no raw delete event on $L" 0 "$(count_events "$L" '.op == "d"')"
check_eq "no raw delete event on $R" 0 "$(count_events "$R" '.op == "d"')"

summary
