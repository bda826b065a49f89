#!/usr/bin/env bash
# Tombstone keys (issue 7, items 0 and 12): a row's delete travels as a dbsync_tombstones event, which must carry
# the same Kafka key as the row's own change events, so the default partitioner puts it in the same partition and
# one row's changes (delete included) stay in order. For every synced table on both sides, an application inserts,
# updates and deletes a row; the tombstone message's key and partition must equal the update message's.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# locate TOPIC JQ_FILTER: "<partition> <key>" of the last message on TOPIC whose value matches JQ_FILTER.
locate() {
    kcat -b "$DBSYNC_BROKERS" -C -t "$1" -o beginning -e -q -f '%p\t%k\t%s\n' 2>/dev/null |
        jq -rR "split(\"\t\") as \$f | (\$f[2] | fromjson?) | select(. != null) | select($2) | \"\(\$f[0]) \(\$f[1])\"" |
        tail -n 1
}
found() { [ -n "$(locate "$1" "$2")" ]; }

# same_key_and_partition TOPIC TABLE ID: the tombstone of TABLE row ID and its update share key and partition.
same_key_and_partition() {
    local update tombstone
    update=".source.table == \"$2\" and .op == \"u\" and .after.id == $3"
    tombstone=".source.table == \"dbsync_tombstones\" and .after.table_name == \"$2\" and .after.row_id == $3"
    if ! poll_until 15 found "$1" "$update" || ! poll_until 15 found "$1" "$tombstone"; then
        fail "$2 $3: update or tombstone event missing on $1 after 15 s"
        return
    fi
    read -r up_partition up_key <<<"$(locate "$1" "$update")"
    read -r ts_partition ts_key <<<"$(locate "$1" "$tombstone")"
    check_eq "$2: tombstone key equals the row's key" "$up_key" "$ts_key"
    check_eq "$2: tombstone partition equals the row's partition ($up_key)" "$up_partition" "$ts_partition"
}

echo "== legacy side =="
u=$(pg "INSERT INTO legacy_users (username, email) VALUES ('tomb_l_$RUN_TAG', 't@x') RETURNING id")
p=$(pg "INSERT INTO legacy_posts (author_id, title) VALUES ($u, 'tomb $RUN_TAG') RETURNING id")
k=$(pg "INSERT INTO legacy_likes (user_id, post_id) VALUES ($u, $p) RETURNING id")
pg "UPDATE legacy_users SET email = 't2@x' WHERE id = $u"
pg "UPDATE legacy_posts SET title = 'tomb 2' WHERE id = $p"
pg "UPDATE legacy_likes SET created_at = created_at WHERE id = $k"
pg "DELETE FROM legacy_likes WHERE id = $k"
pg "DELETE FROM legacy_posts WHERE id = $p"
pg "DELETE FROM legacy_users WHERE id = $u"
same_key_and_partition "$DBSYNC_LEGACY_TOPIC" legacy_users "$u"
same_key_and_partition "$DBSYNC_LEGACY_TOPIC" legacy_posts "$p"
same_key_and_partition "$DBSYNC_LEGACY_TOPIC" legacy_likes "$k"

echo "== revamp side =="
u=$(my "INSERT INTO revamp_users (user_name, email_address) VALUES ('tomb_r_$RUN_TAG', 't@x'); SELECT LAST_INSERT_ID()")
p=$(my "INSERT INTO revamp_posts (user_id, headline, content) VALUES ($u, 'tomb $RUN_TAG', ''); SELECT LAST_INSERT_ID()")
k=$(my "INSERT INTO revamp_post_likes (user_id, post_id) VALUES ($u, $p); SELECT LAST_INSERT_ID()")
my "UPDATE revamp_users SET email_address = 't2@x' WHERE id = $u"
my "UPDATE revamp_posts SET headline = 'tomb 2' WHERE id = $p"
my "UPDATE revamp_post_likes SET liked_at = liked_at WHERE id = $k"
my "DELETE FROM revamp_post_likes WHERE id = $k"
my "DELETE FROM revamp_posts WHERE id = $p"
my "DELETE FROM revamp_users WHERE id = $u"
same_key_and_partition "$DBSYNC_REVAMP_TOPIC" revamp_users "$u"
same_key_and_partition "$DBSYNC_REVAMP_TOPIC" revamp_posts "$p"
same_key_and_partition "$DBSYNC_REVAMP_TOPIC" revamp_post_likes "$k"

summary
