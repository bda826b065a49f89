#!/usr/bin/env bash
# End to end, revamp → legacy, through the running `php artisan consume:revamp-events`: inserts, updates and
# deletes in MySQL appear in PostgreSQL within 5 s; an edit made in revamp to a row that came from legacy comes back.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_consumers

echo "== inserts =="
u=$(my "INSERT INTO revamp_users (user_name, email_address, first_name, last_name, status, is_admin) VALUES ('r2l_$RUN_TAG', 'grace@$RUN_TAG.test', 'Grace', 'Hopper', 1, 1); SELECT LAST_INSERT_ID()")
p=$(my "INSERT INTO revamp_posts (user_id, headline, content, status) VALUES ($u, 'Bugs $RUN_TAG', 'A moth', 'DRAFT'); SELECT LAST_INSERT_ID()")
k=$(my "INSERT INTO revamp_post_likes (user_id, post_id) VALUES ($u, $p); SELECT LAST_INSERT_ID()")
check_eq "revamp ids come from the revamp key range" 1 "$([ "$u" -ge 1000000000000 ] && echo 1 || echo 0)"
expect_query pg "user appears with joined name and converted columns" \
    "r2l_$RUN_TAG|grace@$RUN_TAG.test|Grace Hopper|active|t|sync_service" \
    "SELECT username, email, full_name, status, is_admin, source FROM legacy_users WHERE id = $u"
expect_query pg "user keeps its timestamps" \
    "$(my "SELECT CONCAT($(MY_TS created_at), '|', $(MY_TS updated_at)) FROM revamp_users WHERE id = $u")" \
    "SELECT $(PG_TS created_at) || '|' || $(PG_TS updated_at) FROM legacy_users WHERE id = $u"
expect_query pg "post appears with mapped status" "$u|Bugs $RUN_TAG|A moth|draft" \
    "SELECT author_id, title, body, state FROM legacy_posts WHERE id = $p"
expect_query pg "like appears" "$u|$p" "SELECT user_id, post_id FROM legacy_likes WHERE id = $k"

echo "== updates =="
my "UPDATE revamp_users SET last_name = 'Murray Hopper', status = 2 WHERE id = $u"
my "UPDATE revamp_posts SET status = 'LIVE' WHERE id = $p"
expect_query pg "user update arrives" "Grace Murray Hopper|banned" "SELECT full_name, status FROM legacy_users WHERE id = $u"
expect_query pg "post update arrives" "published" "SELECT state FROM legacy_posts WHERE id = $p"

echo "== a legacy row edited in revamp comes back to legacy =="
lu=$(pg "INSERT INTO legacy_users (username, email, full_name) VALUES ('back_$RUN_TAG', 'old@$RUN_TAG.test', 'Round Trip') RETURNING id")
expect_query my "legacy row reaches revamp" "old@$RUN_TAG.test" "SELECT email_address FROM revamp_users WHERE id = $lu"
my "UPDATE revamp_users SET email_address = 'new@$RUN_TAG.test' WHERE id = $lu"
expect_query pg "the revamp edit comes back" "new@$RUN_TAG.test|sync_service" "SELECT email, source FROM legacy_users WHERE id = $lu"
my "DELETE FROM revamp_users WHERE id = $lu"
expect_query pg "a revamp delete of a synced row comes back" 0 "SELECT COUNT(*) FROM legacy_users WHERE id = $lu"

echo "== deletes =="
my "DELETE FROM revamp_post_likes WHERE id = $k"
expect_query pg "like delete arrives" 0 "SELECT COUNT(*) FROM legacy_likes WHERE id = $k"
my "DELETE FROM revamp_users WHERE id = $u"
expect_query pg "user delete arrives, and its post goes with it (cascade)" "0|0" \
    "SELECT (SELECT COUNT(*) FROM legacy_users WHERE id = $u) || '|' || (SELECT COUNT(*) FROM legacy_posts WHERE id = $p)"

summary
