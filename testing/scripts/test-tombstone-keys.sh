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

# tombstones_follow_rows SIDE TOPIC USERS POSTS LIKES: the application writes a user, a post and a like on SIDE and
# deletes them (like, post, user); each tombstone on TOPIC shares its row's key and partition.
tombstones_follow_rows() {
    local sql
    if [ "$1" = legacy ]; then sql=pg; else sql=my; fi
    echo "== $1 side =="
    user_post_like "$1" tomb
    $sql "DELETE FROM $5 WHERE id = $LIKE_ID"
    $sql "DELETE FROM $4 WHERE id = $POST_ID"
    $sql "DELETE FROM $3 WHERE id = $USER_ID"
    same_key_and_partition "$2" "$3" "$USER_ID"
    same_key_and_partition "$2" "$4" "$POST_ID"
    same_key_and_partition "$2" "$5" "$LIKE_ID"
}

tombstones_follow_rows legacy "$DBSYNC_LEGACY_TOPIC" legacy_users legacy_posts legacy_likes
tombstones_follow_rows revamp "$DBSYNC_REVAMP_TOPIC" revamp_users revamp_posts revamp_post_likes

summary
