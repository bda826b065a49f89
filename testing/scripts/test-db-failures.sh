#!/usr/bin/env bash
# Database error classes end to end (issue 7), through the running `php artisan consume:*`:
#   1. lock wait timeout: an application session holds a revamp user row (SELECT ... FOR UPDATE) for 25 s, longer
#      than the sync session's innodb_lock_wait_timeout (10 s), while legacy edits that user. The sync's write gets
#      1205, is retried (transient, with a budget) and applied once the hold ends; nothing goes to sync.dlq.
#   2. credentials revoked: the MariaDB password of the sync account changes and its connections are killed; legacy
#      inserts made meanwhile do not cross, the consumer logs the outage and dead-letters nothing; once the password is
#      restored they all cross.
#   3. read-only PostgreSQL: the sync role gets default_transaction_read_only (as after a failover to a standby) and
#      its sessions are terminated; revamp inserts wait likewise, and cross once the setting is reset.
# The password and the setting are restored on exit, whatever happens. While an outage lasts, every other writer's
# changes wait too: run it alone.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_consumers

HOLD_SECONDS=25     # longer than the sync session's 10 s lock wait, within its retry budget (5 tries)
QUIET_SECONDS=15    # how long an outage is watched: longer than the transient retry budget's backoffs
RECOVER_SECONDS=60  # outage probes back off to at most 5 s
ROWS=5

# expect_no_new_dead_letters DESCRIPTION BEFORE: sync.dlq holds nothing that was not in BEFORE (a dlq_offsets list);
# names the new dead letters' reasons otherwise.
expect_no_new_dead_letters() {
    local new
    new=$(comm -13 <(echo "$2") <(dlq_offsets))
    if [ -z "$new" ]; then
        pass "$1"
        return
    fi
    fail "$1: $(wc -l <<<"$new") new dead letter(s):"
    kcat -b "$DBSYNC_BROKERS" -C -t "$DBSYNC_DLQ_TOPIC" -o beginning -e -q -f '%p:%o\t%h\t%s\n' 2>/dev/null |
        grep -F -f <(sed 's/$/\t/' <<<"$new") | cut -c1-400 | sed 's/^/        /'
}

# log_mark NAME / log_since NAME MARK: the consumer log of consume:NAME from a point on.
log_mark() { wc -l <"$LOGS/$1.log" | tr -d ' '; }
log_since() { tail -n "+$(($2 + 1))" "$LOGS/$1.log"; }
log_has() { log_since "$1" "$2" | grep -Eq -- "$3"; } # NAME MARK REGEX
# expect_log NAME MARK REGEX DESCRIPTION SECONDS: the log of consume:NAME gains a line matching REGEX (grep -E).
expect_log() {
    if poll_until "$5" log_has "$1" "$2" "$3"; then
        pass "$4"
        log_since "$1" "$2" | grep -E -m 1 -- "$3" | cut -c1-400 | sed 's/^/        /'
    else
        fail "$4: no '$3' in $LOGS/$1.log within ${5}s; its last lines:"
        log_since "$1" "$2" | tail -n 5 | cut -c1-400 | sed 's/^/        /'
    fi
}
# stays SECONDS DESCRIPTION COMMAND...: COMMAND holds at every look for SECONDS (an outage is observed for a while).
stays() {
    local seconds=$1 what=$2
    shift 2
    local deadline=$((SECONDS + seconds))
    while [ $SECONDS -lt $deadline ]; do
        "$@" >/dev/null 2>&1 || { fail "$what (broke after $((seconds - deadline + SECONDS)) s)"; return; }
        sleep 0.5
    done
    pass "$what (watched ${seconds}s)"
}
count_is() { [ "$($1 "$2")" = "$3" ]; } # SIDE SQL EXPECTED

# An outage case: outage_begins CONSUMER before the database is broken, outage_holds while it is, outage_ended once it
# is repaired and the rows crossed. They share dlq_before and mark (the log line of consume:CONSUMER it began at).
outage_begins() {
    dlq_before=$(dlq_offsets)
    mark=$(log_mark "$1")
}
# outage_holds CONSUMER SIDE CROSSED WHILE: consume:CONSUMER logs the outage at error, the SQL CROSSED on SIDE counts
# no crossed insert for QUIET_SECONDS (WHILE says why), and nothing is dead-lettered.
outage_holds() {
    expect_log "$1" "$mark" "ERROR.*target database unavailable; every partition waits" \
        "consume:$1 logs the outage at error" 30
    stays $QUIET_SECONDS "no insert crosses while $4" count_is "$2" "$3" 0
    expect_no_new_dead_letters "nothing went to sync.dlq during the outage" "$dlq_before"
}
# outage_ended CONSUMER: consume:CONSUMER logs the recovery, and nothing was dead-lettered.
outage_ended() {
    expect_log "$1" "$mark" "target database available again" "consume:$1 logs the recovery" 10
    expect_no_new_dead_letters "nothing went to sync.dlq" "$dlq_before"
}

# ---- restoring what the cases break (on exit, also after a failure) ----
hold_pid=""
password_changed=0
read_only_set=0
restore_mariadb_password() {
    my "ALTER USER '$DBSYNC_SYNC_USER'@'%' IDENTIFIED BY '$DBSYNC_SYNC_PASSWORD'" && password_changed=0
}
reset_read_only() {
    pg "ALTER ROLE $DBSYNC_SYNC_USER RESET default_transaction_read_only" && read_only_set=0
}
terminate_sync_backends() {
    pg "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = '$DBSYNC_SYNC_USER'"
}
cleanup() {
    [ -z "$hold_pid" ] || kill "$hold_pid" 2>/dev/null || true
    if [ "$password_changed" = 1 ]; then
        echo "  (restoring the MariaDB password of $DBSYNC_SYNC_USER)"
        restore_mariadb_password || echo "  could not restore the MariaDB password of $DBSYNC_SYNC_USER" >&2
    fi
    if [ "$read_only_set" = 1 ]; then
        echo "  (resetting default_transaction_read_only of $DBSYNC_SYNC_USER; its read-only sessions end)"
        reset_read_only && terminate_sync_backends >/dev/null ||
            echo "  could not reset default_transaction_read_only of $DBSYNC_SYNC_USER" >&2
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== lock wait timeout on MariaDB: retried, then applied =="
dlq_before=$(dlq_offsets)
u=$(pg "INSERT INTO legacy_users (username, email, full_name) VALUES ('dbf_lock_$RUN_TAG', 'lock@$RUN_TAG.test', 'Held Row') RETURNING id")
expect_query my "the user reaches revamp" "Held	Row" "SELECT first_name, last_name FROM revamp_users WHERE id = $u" 30
# An application transaction takes the row and keeps it; the SLEEP names the run so it can be found.
mariadb -N -B -h 127.0.0.1 -P "$DBSYNC_MYSQL_PORT" -uroot "$DBSYNC_MYSQL_DATABASE" -e \
    "BEGIN; SELECT id FROM revamp_users WHERE id = $u FOR UPDATE; SELECT SLEEP($HOLD_SECONDS), 'hold $RUN_TAG'; COMMIT;" \
    >/dev/null &
hold_pid=$!
holding() { [ "$(my "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND INFO LIKE '%SLEEP($HOLD_SECONDS)%$RUN_TAG%'")" = 1 ]; }
if poll_until 10 holding; then pass "an application session holds the revamp row"; else fail "the application session did not take the row"; fi
mark=$(log_mark legacy-events)
pg "UPDATE legacy_users SET full_name = 'Edited While Held' WHERE id = $u"
expect_log legacy-events "$mark" "transient database error; retrying.*(1205|[Ll]ock wait timeout)" \
    "the sync's write waits 10 s, gets 1205 (lock wait timeout) and retries" 20
check_eq "revamp still has the old value while the row is held" "Held	Row" \
    "$(my "SELECT first_name, last_name FROM revamp_users WHERE id = $u")"
if poll_until $((HOLD_SECONDS + 10)) bash -c "! kill -0 $hold_pid"; then hold_pid=""; fi
expect_query my "the legacy edit reaches revamp after the hold ends" "Edited	While Held" \
    "SELECT first_name, last_name FROM revamp_users WHERE id = $u" 30
expect_no_new_dead_letters "nothing went to sync.dlq" "$dlq_before"

echo "== the sync account's MariaDB password is revoked mid-stream =="
outage_begins legacy-events
password_changed=1
my "ALTER USER '$DBSYNC_SYNC_USER'@'%' IDENTIFIED BY 'revoked_$RUN_TAG'"
killed=0
for id in $(my "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = '$DBSYNC_SYNC_USER'"); do
    my "KILL CONNECTION $id" 2>/dev/null && killed=$((killed + 1))
done
echo "  password changed; $killed open connection(s) of $DBSYNC_SYNC_USER killed"
for i in $(seq 1 $ROWS); do
    pg "INSERT INTO legacy_users (username, email) VALUES ('dbf_pw_${RUN_TAG}_$i', 'pw$i@$RUN_TAG.test')" >/dev/null
done
crossed_pw="SELECT COUNT(*) FROM revamp_users WHERE user_name LIKE 'dbf\\_pw\\_${RUN_TAG}\\_%'"
outage_holds legacy-events my "$crossed_pw" "the password is wrong"
restore_mariadb_password
expect_query my "all $ROWS inserts cross once the password is restored" "$ROWS" "$crossed_pw" $RECOVER_SECONDS
outage_ended legacy-events

echo "== PostgreSQL turns read-only for the sync role =="
outage_begins revamp-events
read_only_set=1
pg "ALTER ROLE $DBSYNC_SYNC_USER SET default_transaction_read_only = on"
echo "  default_transaction_read_only set; $(terminate_sync_backends) session(s) of $DBSYNC_SYNC_USER terminated"
for i in $(seq 1 $ROWS); do
    my "INSERT INTO revamp_users (user_name, email_address) VALUES ('dbf_ro_${RUN_TAG}_$i', 'ro$i@$RUN_TAG.test')"
done
crossed_ro="SELECT COUNT(*) FROM legacy_users WHERE username LIKE 'dbf\\_ro\\_${RUN_TAG}\\_%'"
outage_holds revamp-events pg "$crossed_ro" "PostgreSQL is read-only"
reset_read_only
reset_at=$(pg "SELECT now()")
expect_query pg "all $ROWS inserts cross once the setting is reset" "$ROWS" "$crossed_ro" $RECOVER_SECONDS
if [ "$(pg "$crossed_ro")" != "$ROWS" ]; then
    echo "  sessions of $DBSYNC_SYNC_USER (setting reset at $reset_at; older sessions keep read-only):"
    pg "SELECT pid, backend_start, state FROM pg_stat_activity WHERE usename = '$DBSYNC_SYNC_USER'" | sed 's/^/        /'
    log_since revamp-events "$mark" | tail -n 3 | cut -c1-400 | sed 's/^/        /'
    read_only_set=1 # let cleanup end the read-only sessions, so the stack works again
fi
outage_ended revamp-events

summary
