#!/usr/bin/env bash
# Schema evolution (issue: convergence): a column added to both schemas and to the mapping file needs only a
# consumer restart; an event written before the column existed (an older version of the row) still applies.
# Leaves the schemas and the consumers as it found them.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
consumers="$TEST_ROOT/testing/scripts/consumers.sh"
ensure_consumers

mapping="$STATE/evolved-mapping-$RUN_TAG.toml"
cleanup() {
    "$consumers" stop >/dev/null 2>&1
    pg "ALTER TABLE legacy_users DROP COLUMN IF EXISTS nickname" >/dev/null 2>&1
    my "ALTER TABLE revamp_users DROP COLUMN IF EXISTS display_name" >/dev/null 2>&1
    rm -f "$mapping"
    unset DBSYNC_MAPPING_PATH
    "$consumers" start >/dev/null 2>&1
}
trap cleanup EXIT

"$consumers" stop >/dev/null
old=$(pg "INSERT INTO legacy_users (username, email, full_name) VALUES ('evo_old_$RUN_TAG', 'old@$RUN_TAG.test', 'Before Column') RETURNING id")
pg "ALTER TABLE legacy_users ADD COLUMN IF NOT EXISTS nickname text"
my "ALTER TABLE revamp_users ADD COLUMN IF NOT EXISTS display_name VARCHAR(255) NULL"
new=$(pg "INSERT INTO legacy_users (username, email, full_name, nickname) VALUES ('evo_new_$RUN_TAG', 'new@$RUN_TAG.test', 'After Column', 'Evo') RETURNING id")
rev=$(my "INSERT INTO revamp_users (user_name, email_address, first_name, display_name) VALUES ('evo_rev_$RUN_TAG', 'rev@$RUN_TAG.test', 'Rev', 'Revvy'); SELECT LAST_INSERT_ID()")

# The mapping gains one line; nothing else changes, then the consumers restart with it.
sed 's/^  { legacy = "email", revamp = "email_address" },$/&\n  { legacy = "nickname", revamp = "display_name" },/' \
    "$TEST_ROOT/core/mapping/default.toml" >"$mapping"
check_eq "the evolved mapping has the new column" 1 "$(grep -c 'nickname' "$mapping")"
export DBSYNC_MAPPING_PATH=$mapping
"$consumers" start >/dev/null

expect_query my "an event from before the column existed still applies" "old@$RUN_TAG.test	NULL" \
    "SELECT email_address, IFNULL(display_name, 'NULL') FROM revamp_users WHERE id = $old" 15
expect_query my "a new legacy event carries the new column" "Evo" "SELECT display_name FROM revamp_users WHERE id = $new" 15
expect_query pg "a new revamp event carries the new column" "Revvy" "SELECT nickname FROM legacy_users WHERE id = $rev" 15
pg "UPDATE legacy_users SET nickname = 'Evo 2' WHERE id = $new"
expect_query my "an update of the new column crosses" "Evo 2" "SELECT display_name FROM revamp_users WHERE id = $new" 15

summary
