#!/usr/bin/env bash
# `make demo`, the main job: with the stack up and the extension installed (make up, make ext), starts both
# consumers (`php artisan consume:legacy-events` / `consume:revamp-events`) in the background, runs the seed's quick
# test both ways and prints the rows before and after. The consumers keep running; `make down` stops everything.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

"$TEST_ROOT/testing/scripts/consumers.sh" start

show() { # title side sql
    echo "--- $1"
    if [ "$2" = pg ]; then
        PGOPTIONS="-c client_min_messages=warning" psql -X -h 127.0.0.1 -p "$DBSYNC_PG_PORT" -U postgres "$DBSYNC_PG_DATABASE" -c "$3"
    else
        mariadb -t -h 127.0.0.1 -P "$DBSYNC_MYSQL_PORT" -uroot "$DBSYNC_MYSQL_DATABASE" -e "$3"
    fi
}
wait_for() { # description side sql expected
    local deadline=$((SECONDS + 15))
    until [ "$($2 "$3")" = "$4" ]; do
        [ $SECONDS -lt $deadline ] || die "$1: not there after 15 s; see $LOGS/legacy-events.log and revamp-events.log"
        sleep 0.2
    done
    log "$1 (after $((SECONDS - started)) s at most)"
}

echo
echo "=== legacy → revamp: the seed's quick test"
# A previous demo left the row behind: delete it first (the delete syncs too).
if [ "$(pg "SELECT COUNT(*) FROM legacy_users WHERE username = 'quicktest'")" != 0 ]; then
    pg "DELETE FROM legacy_users WHERE username = 'quicktest'"
    started=$SECONDS
    wait_for "earlier quicktest row deleted on both sides" my "SELECT COUNT(*) FROM revamp_users WHERE user_name = 'quicktest'" 0
fi
show "revamp_db before" my "SELECT id, user_name, email_address, first_name, last_name, source FROM revamp_users WHERE user_name = 'quicktest'"
echo "legacy_db> INSERT INTO legacy_users (username, email, full_name, source) VALUES ('quicktest','quick@test.com','Quick Test','legacy');"
pg "INSERT INTO legacy_users (username, email, full_name, source) VALUES ('quicktest','quick@test.com','Quick Test','legacy')"
started=$SECONDS
wait_for "quicktest arrived in revamp_db" my "SELECT COUNT(*) FROM revamp_users WHERE user_name = 'quicktest'" 1
show "revamp_db after: SELECT * FROM revamp_users WHERE user_name = 'quicktest';" my "SELECT * FROM revamp_users WHERE user_name = 'quicktest'"

echo
echo "=== revamp → legacy: an edit made in the revamped app comes back"
echo "revamp_db> UPDATE revamp_users SET last_name = 'Tester' WHERE user_name = 'quicktest';"
my "UPDATE revamp_users SET last_name = 'Tester' WHERE user_name = 'quicktest'"
started=$SECONDS
wait_for "the edit reached legacy_db" pg "SELECT full_name FROM legacy_users WHERE username = 'quicktest'" "Quick Tester"
show "legacy_db after" pg "SELECT id, username, email, full_name, status, updated_at, source FROM legacy_users WHERE username = 'quicktest'"

echo
echo "=== loop check: one event per application write on each topic, nothing echoed back (expect 1 and 1)"
id=$(pg "SELECT id FROM legacy_users WHERE username = 'quicktest'")
echo "legacy.events: $(count_events "$DBSYNC_LEGACY_TOPIC" "$(row_filter legacy_users "$id") and .op != \"d\"") event(s) for legacy_users $id"
echo "revamp.events: $(count_events "$DBSYNC_REVAMP_TOPIC" "$(row_filter revamp_users "$id")") event(s) for revamp_users $id"

echo
log "the consumers keep running (logs: $LOGS/legacy-events.log, $LOGS/revamp-events.log);"
log "write to either database and watch it cross. 'make status' shows what runs, 'make down' stops everything."
