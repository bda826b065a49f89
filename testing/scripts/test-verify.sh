#!/usr/bin/env bash
# `php artisan dbsync:verify` and `dbsync:repair` against drift made on purpose (issue 11):
#   - seven users are created on legacy (ids in a key range of this run only) and cross; verify exits 0;
#   - drift, written with the sync marker so nothing crosses: a revamp copy changed, a legacy copy changed, a row
#     inserted on revamp only, one inserted on legacy only, one deleted on revamp only (its tombstone stays there);
#     and a created_at rewritten on both sides as the same instant spelled in another time zone and precision,
#     which must NOT count;
#   - verify reports exactly the five drifted rows (which side holds each, the differing columns) and exits 1;
#   - repair --dry-run writes nothing; repair writes the version the conflict rules choose (legacy's copy for the
#     changed revamp row, revamp's original for the changed legacy row, both one-sided inserts created on the other
#     side, the deleted row deleted on legacy) and prints each change;
#   - verify then exits 0, the rows hold the expected values, and the topics gained no event for these rows (no
#     echo of the drift or of the repairs).
# Verify and repair run with --min-key/--max-key on this run's range: other suites leave drift of their own on
# purpose (dead-lettered rows, sync-marked writes).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# A range of 100 legacy keys of this run only, far above what the sequences hand out.
base=$((910000000000 + ($(date +%s) % 1000000) * 100))
top=$((base + 99))
range=(--min-key="$base" --max-key="$top")
name() { echo "verify_${RUN_TAG}_$1"; }

# artisan_json OUT COMMAND ARGS...: runs an artisan command with --json; sets CODE, writes stdout to $tmp/OUT.
artisan_json() {
    local out=$1
    shift
    CODE=0
    "$TEST_ROOT/testing/scripts/artisan.sh" "$@" --json >"$tmp/$out" 2>"$tmp/$out.err" || CODE=$?
}
field() { jq -r "$2" "$tmp/$1" 2>/dev/null; }
# events_for_range TOPIC: events on TOPIC about a row (or tombstone) of this run's key range.
events_for_range() {
    count_events "$1" "([.after.id?, .before.id?, .after.row_id?, .before.row_id?] | map(select(. != null)) | any(. >= $base and . <= $top))"
}

ensure_consumers

echo "== seven users cross =="
for n in 1 2 3 4 5 6 7; do
    pg "INSERT INTO legacy_users (id, username, email, full_name) VALUES ($((base + n)), '$(name "$n")', 'u$n@x', 'Ada Lovelace')"
done
expect_query my "the seven users crossed" 7 "SELECT COUNT(*) FROM revamp_users WHERE id BETWEEN $base AND $top" 30
artisan_json before dbsync:verify "${range[@]}"
check_eq "verify before the drift: exit 0" 0 "$CODE"
check_eq "verify before the drift: 7 rows compared" 7 "$(field before .rows)"

echo "== drift, written as the sync service =="
legacy_events=$(events_for_range legacy.events)
revamp_events=$(events_for_range revamp.events)
my_as_sync "UPDATE revamp_users SET email_address = 'drift@x' WHERE id = $((base + 1))"
pg_as_sync "UPDATE legacy_users SET full_name = 'Drift Name' WHERE id = $((base + 2))"
my_as_sync "INSERT INTO revamp_users (id, user_name, email_address, first_name, last_name, updated_at) VALUES ($((base + 9)), '$(name 9)', 'r@x', 'Only', 'Revamp', UTC_TIMESTAMP(6))"
pg_as_sync "INSERT INTO legacy_users (id, username, email, full_name) VALUES ($((base + 8)), '$(name 8)', 'l@x', 'Only Legacy')"
my_as_sync "DELETE FROM revamp_users WHERE id = $((base + 5))"
pg_as_sync "SET LOCAL TimeZone = 'Asia/Kolkata'; UPDATE legacy_users SET created_at = '2026-03-01 15:30:00.1234564' WHERE id = $((base + 6))"
my_as_sync "UPDATE revamp_users SET created_at = '2026-03-01 10:00:00.123456' WHERE id = $((base + 6))"

drifted="$((base + 1)) $((base + 2)) $((base + 5)) $((base + 8)) $((base + 9))"

echo "== verify finds exactly the drift =="
artisan_json drift dbsync:verify "${range[@]}" --entity=user
check_eq "verify: exit 1 (drift)" 1 "$CODE"
check_eq "verify: the five drifted keys, nothing else (not the time zone row)" "$drifted" "$(field drift '[.differences[].key] | sort | map(tostring) | join(" ")')"
check_eq "verify: who holds each" "both both legacy_only legacy_only revamp_only" "$(field drift '[.differences | sort_by(.key)[].held_by] | join(" ")')"
check_eq "verify: the changed revamp copy's column" "email -> email_address" "$(field drift ".differences[] | select(.key == $((base + 1))) | .columns | map(.legacy + \" -> \" + (.revamp | join(\"+\"))) | join(\", \")")"
check_eq "verify: the changed legacy copy's column" "full_name -> first_name+last_name" "$(field drift ".differences[] | select(.key == $((base + 2))) | .columns | map(.legacy + \" -> \" + (.revamp | join(\"+\"))) | join(\", \")")"
check_eq "verify: the row deleted on revamp shows revamp's tombstone" true "$(field drift ".differences[] | select(.key == $((base + 5))) | .tombstone != null")"
check_eq "verify: the consumers caught up before confirming" true "$(field drift .confirmation.consumers_caught_up)"
table=$("$TEST_ROOT/testing/scripts/artisan.sh" dbsync:verify "${range[@]}" 2>/dev/null) && code=0 || code=$?
check_eq "verify (table): exit 1" 1 "$code"
grep -q "^dbsync:verify: DRIFT (exit 1)" <<<"$table" && pass "verify (table): DRIFT headline" || fail "verify (table): no DRIFT headline: $(head -n 2 <<<"$table")"
[ "$(grep -c '^drift: user ' <<<"$table")" = 5 ] && pass "verify (table): five drift lines" || fail "verify (table): drift lines: $(grep '^drift' <<<"$table")"
echo "$table" >"$tmp/verify-table.txt"

echo "== repair --dry-run writes nothing =="
snapshot() { pg "SELECT id, email, full_name, source FROM legacy_users WHERE id BETWEEN $base AND $top ORDER BY id"; my "SELECT id, email_address, first_name, source FROM revamp_users WHERE id BETWEEN $base AND $top ORDER BY id"; }
before=$(snapshot)
artisan_json dry dbsync:repair --dry-run "${range[@]}"
check_eq "repair --dry-run: exit 0" 0 "$CODE"
check_eq "repair --dry-run: five planned" "planned planned planned planned planned" "$(field dry '[.actions[].outcome] | join(" ")')"
check_eq "repair --dry-run: nothing changed" "$before" "$(snapshot)"

echo "== repair =="
out=$("$TEST_ROOT/testing/scripts/artisan.sh" dbsync:repair "${range[@]}" 2>"$tmp/repair.err") && code=0 || code=$?
echo "$out" >"$tmp/repair.txt"
check_eq "repair: exit 0" 0 "$code"
grep -q '^dbsync:repair: 5 repaired, 0 not applied' <<<"$out" && pass "repair: 5 repaired" || fail "repair: summary: $(tail -n 3 <<<"$out") $(tail -n 3 "$tmp/repair.err")"
for expected in "update revamp user $((base + 1))" "update legacy user $((base + 2))" "delete legacy user $((base + 5))" \
    "insert revamp user $((base + 8))" "insert legacy user $((base + 9))"; do
    grep -q "^$expected .*: applied$" <<<"$out" && pass "repair printed: $expected" || fail "repair did not print '$expected ...: applied': $out"
done
check_eq "the revamp copy has legacy's email again" "u1@x" "$(my "SELECT email_address FROM revamp_users WHERE id = $((base + 1))")"
check_eq "the legacy copy has its name again" "Ada Lovelace" "$(pg "SELECT full_name FROM legacy_users WHERE id = $((base + 2))")"
check_eq "the row deleted on revamp is gone from legacy" 0 "$(pg "SELECT COUNT(*) FROM legacy_users WHERE id = $((base + 5))")"
check_eq "the legacy-only row is on revamp" "Only" "$(my "SELECT first_name FROM revamp_users WHERE id = $((base + 8))")"
check_eq "the revamp-only row is on legacy" "Only Revamp" "$(pg "SELECT full_name FROM legacy_users WHERE id = $((base + 9))")"
check_eq "repairs are written as the sync service" "sync_service sync_service" "$(my "SELECT source FROM revamp_users WHERE id = $((base + 8))") $(pg "SELECT source FROM legacy_users WHERE id = $((base + 9))")"

echo "== verify after the repair =="
artisan_json after dbsync:verify "${range[@]}"
check_eq "verify after the repair: exit 0" 0 "$CODE"
check_eq "verify after the repair: in sync, 8 rows (one deleted)" "true 8" "$(field after '"\(.in_sync) \(.rows)"')"

echo "== no echo =="
# Anything the drift or the repairs had published would be on the topics by the time a later write crosses.
caught_up || fail "consumers did not catch up"
check_eq "legacy.events gained nothing for these rows" "$legacy_events" "$(events_for_range legacy.events)"
check_eq "revamp.events gained nothing for these rows" "$revamp_events" "$(events_for_range revamp.events)"

summary
