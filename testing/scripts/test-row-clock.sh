#!/usr/bin/env bash
# Row clock on MariaDB (issue 7, item 5). The revamp triggers must stamp an application write with the time the row
# was written, after its row lock, in UTC whatever the session's time_zone; NOW()/UTC_TIMESTAMP() are the
# statement's start. Checks, against the running stack:
#   - long UPDATE interleaving: session A (time_zone +05:00) updates many posts slowly in id order; after A started,
#     session B (time_zone -07:00) updates A's last row and holds its lock until A waits for it, then commits.
#     A's stamp of that row must be later than B's (and A's rows carry increasing stamps);
#   - the same for a long DELETE: the tombstone's deleted_at is later than B's update, and keeps B's version;
#   - every stamp lies between UTC_TIMESTAMP before and after the test (no session time zone leaks in);
#   - a sync-service write keeps the updated_at it gives.
# DBSYNC_MYSQL_DATABASE=<scratch db with another schema> runs it elsewhere (e.g. to see it fail on the old triggers).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROWS=30        # rows before the contested one; A sleeps PER_ROW on each, so B has ~3 s to take the last row
PER_ROW=0.1
tmp=$(mktemp -d)
trap 'exec {b}>&- 2>/dev/null || true; jobs -p | xargs -r kill 2>/dev/null || true; rm -rf "$tmp"' EXIT

# A client whose statements run as soon as they are written and whose output is flushed per statement.
my_client() { mariadb -N -B -n -h 127.0.0.1 -P "$DBSYNC_MYSQL_PORT" -uroot "$DBSYNC_MYSQL_DATABASE" "$@"; }
utc_now() { my "SELECT $(MY_TS 'UTC_TIMESTAMP(6)')"; }
# later DESCRIPTION EARLIER LATER: both are 'YYYY-MM-DD HH:MM:SS.ffffff' (fixed width, so text order is time order).
later() {
    if [ -n "$2" ] && [ -n "$3" ] && [[ "$3" > "$2" ]]; then pass "$1"; else fail "$1: '$3' is not later than '$2'"; fi
}
in_window() { # DESCRIPTION STAMP: STAMP lies between $T0 and now (UTC)
    local now
    now=$(utc_now)
    if [[ "$2" > "$T0" && ! "$2" > "$now" ]]; then pass "$1"; else fail "$1: '$2' is not within UTC [$T0, $now]"; fi
}
new_posts() { # USER N: inserts N posts as the application, prints the first and last id
    local values="" i
    for ((i = 0; i < $2; i++)); do values+="${values:+,}($1, 'clock $RUN_TAG', '')"; done
    my "INSERT INTO revamp_posts (user_id, headline, content) VALUES $values;
        SELECT MIN(id), MAX(id) FROM revamp_posts WHERE user_id = $1 AND content = ''"
}

# interleave STATEMENT LAST: runs STATEMENT as session A (slow, in id order, ending at row LAST) and lets session B
# update LAST after A started and commit once A waits for LAST's lock. Sets B_STAMP (B's updated_at of LAST).
interleave() {
    local sql=$1 last=$2 aid="" deadline
    B_STAMP=""
    : >"$tmp/a.out"
    my_client -e "SET time_zone = '+05:00'; SELECT CONNECTION_ID(); $sql" >"$tmp/a.out" 2>&1 &
    local apid=$!
    poll_until 10 grep -qx '[0-9][0-9]*' "$tmp/a.out" && aid=$(head -n 1 "$tmp/a.out")
    poll_until 10 bash -c "[ \"\$(mariadb -N -B -h 127.0.0.1 -P $DBSYNC_MYSQL_PORT -uroot -e \"SELECT COUNT(*) FROM information_schema.processlist WHERE id = ${aid:-0} AND info LIKE '%SLEEP%'\")\" = 1 ]" ||
        { fail "session A did not start (${aid:-no connection id}): $(cat "$tmp/a.out")"; return; }
    rm -f "$tmp/b.in" && mkfifo "$tmp/b.in"
    my_client <"$tmp/b.in" >"$tmp/b.out" 2>&1 &
    local bpid=$!
    exec {b}>"$tmp/b.in"
    echo "SET time_zone = '-07:00'; BEGIN; UPDATE revamp_posts SET content = CONCAT(content, '|B') WHERE id = $last;
          SELECT $(MY_TS updated_at) FROM revamp_posts WHERE id = $last;" >&$b
    poll_until 10 grep -q '^[0-9]\{4\}-' "$tmp/b.out" && B_STAMP=$(grep -m 1 '^[0-9]\{4\}-' "$tmp/b.out")
    # A must wait for B's lock on LAST: then B commits, and A writes LAST after that.
    if poll_until 20 bash -c "[ \"\$(mariadb -N -B -h 127.0.0.1 -P $DBSYNC_MYSQL_PORT -uroot -e \"SELECT COUNT(*) FROM information_schema.innodb_trx WHERE trx_mysql_thread_id = ${aid:-0} AND trx_state = 'LOCK WAIT'\")\" = 1 ]"; then
        pass "session A waits for B's lock on its last row"
    else
        fail "session A never waited for B's lock (B: '$(cat "$tmp/b.out")')"
    fi
    echo "COMMIT;" >&$b
    exec {b}>&-
    deadline=$((SECONDS + 30))
    while kill -0 "$apid" 2>/dev/null || kill -0 "$bpid" 2>/dev/null; do
        [ $SECONDS -lt $deadline ] || { fail "sessions still running after 30 s"; return; }
        sleep 0.1
    done
    wait "$apid" || fail "session A failed: $(cat "$tmp/a.out")"
    wait "$bpid" || fail "session B failed: $(cat "$tmp/b.out")"
}

T0=$(utc_now)
u=$(my "INSERT INTO revamp_users (user_name, email_address) VALUES ('clock_$RUN_TAG', 'c@x'); SELECT LAST_INSERT_ID()")

echo "== application writes are stamped in UTC whatever the session time zone =="
for tz in '+05:00' '-07:00'; do
    id=$(my "SET time_zone = '$tz'; INSERT INTO revamp_posts (user_id, headline, content) VALUES ($u, 'tz', ''); SELECT LAST_INSERT_ID()")
    in_window "insert in time_zone $tz stamps UTC" "$(my "SELECT $(MY_TS updated_at) FROM revamp_posts WHERE id = $id")"
    my "SET time_zone = '$tz'; UPDATE revamp_posts SET headline = 'tz2' WHERE id = $id"
    in_window "update in time_zone $tz stamps UTC" "$(my "SELECT $(MY_TS updated_at) FROM revamp_posts WHERE id = $id")"
done

echo "== a long UPDATE reaches a row after another session changed it =="
read -r first last <<<"$(new_posts "$u" $((ROWS + 1)))"
interleave "UPDATE revamp_posts SET content = CONCAT(content, '|A') WHERE id BETWEEN $first AND $last AND SLEEP($PER_ROW) = 0 ORDER BY id" "$last"
check_eq "the contested row has B's change, then A's" "|B|A" "$(my "SELECT content FROM revamp_posts WHERE id = $last")"
a_last=$(my "SELECT $(MY_TS updated_at) FROM revamp_posts WHERE id = $last")
a_first=$(my "SELECT $(MY_TS updated_at) FROM revamp_posts WHERE id = $first")
later "A's stamp of the contested row is later than B's" "$B_STAMP" "$a_last"
later "A's rows carry a per-row clock (last row later than first)" "$a_first" "$a_last"
in_window "B's stamp (time_zone -07:00) is UTC" "$B_STAMP"
in_window "A's stamp (time_zone +05:00) is UTC" "$a_last"

echo "== a long DELETE reaches a row after another session changed it =="
read -r first last <<<"$(new_posts "$u" $((ROWS + 1)))"
interleave "DELETE FROM revamp_posts WHERE id BETWEEN $first AND $last AND SLEEP($PER_ROW) = 0 ORDER BY id" "$last"
check_eq "A deleted every row" 0 "$(my "SELECT COUNT(*) FROM revamp_posts WHERE id BETWEEN $first AND $last")"
deleted=$(my "SELECT $(MY_TS deleted_at) FROM dbsync_tombstones WHERE table_name = 'revamp_posts' AND row_id = $last")
version=$(my "SELECT $(MY_TS row_updated_at) FROM dbsync_tombstones WHERE table_name = 'revamp_posts' AND row_id = $last")
check_eq "the tombstone keeps B's version of the row" "$B_STAMP" "$version"
later "the tombstone's deleted_at is later than B's update" "$B_STAMP" "$deleted"
in_window "deleted_at (time_zone +05:00) is UTC" "$deleted"

echo "== the sync service's writes keep updated_at as given =="
given='2001-02-03 04:05:06.123456'
id=$(my_as_sync "INSERT INTO revamp_posts (user_id, headline, content, updated_at) VALUES ($u, 'sync', '', '$given'); SELECT LAST_INSERT_ID()")
check_eq "sync-service insert keeps updated_at" "$given" "$(my "SELECT $(MY_TS updated_at) FROM revamp_posts WHERE id = $id")"
my_as_sync "SET time_zone = '+05:00'; UPDATE revamp_posts SET headline = 'sync 2', updated_at = '2002-03-04 05:06:07.654321' WHERE id = $id"
check_eq "sync-service update keeps updated_at" "2002-03-04 05:06:07.654321" "$(my "SELECT $(MY_TS updated_at) FROM revamp_posts WHERE id = $id")"

summary
