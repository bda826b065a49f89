#!/usr/bin/env bash
# End to end, legacy → revamp, through the running `php artisan consume:legacy-events`: inserts, updates and
# deletes of users, posts and likes in PostgreSQL appear in MySQL, transformed by the mapping, within 5 s.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_consumers

echo "== inserts =="
u=$(pg "INSERT INTO legacy_users (username, email, full_name, status, is_admin) VALUES ('l2r_$RUN_TAG', 'ada@$RUN_TAG.test', 'Ada Lovelace', 'banned', true) RETURNING id")
p=$(pg "INSERT INTO legacy_posts (author_id, title, body, state) VALUES ($u, 'Notes $RUN_TAG', 'On the engine', 'published') RETURNING id")
k=$(pg "INSERT INTO legacy_likes (user_id, post_id) VALUES ($u, $p) RETURNING id")
expect_query my "user appears with renamed, split and converted columns" \
    "l2r_$RUN_TAG	ada@$RUN_TAG.test	Ada	Lovelace	2	1	sync_service" \
    "SELECT user_name, email_address, first_name, last_name, status, is_admin, source FROM revamp_users WHERE id = $u"
expect_query my "user keeps its timestamps (UTC, microseconds)" \
    "$(pg "SELECT $(PG_TS created_at) || '|' || $(PG_TS updated_at) FROM legacy_users WHERE id = $u")" \
    "SELECT CONCAT($(MY_TS created_at), '|', $(MY_TS updated_at)) FROM revamp_users WHERE id = $u"
expect_query my "post appears with its author and mapped status" \
    "$u	Notes $RUN_TAG	On the engine	LIVE" \
    "SELECT user_id, headline, content, status FROM revamp_posts WHERE id = $p"
expect_query my "like appears with created_at as liked_at" \
    "$u	$p	$(pg "SELECT $(PG_TS created_at) FROM legacy_likes WHERE id = $k")" \
    "SELECT user_id, post_id, $(MY_TS liked_at) FROM revamp_post_likes WHERE id = $k"

echo "== updates (applications do not name source) =="
pg "UPDATE legacy_users SET full_name = 'Ada King', status = 'inactive', is_admin = false WHERE id = $u"
pg "UPDATE legacy_posts SET state = 'archived', body = 'Revised' WHERE id = $p"
expect_query my "user update arrives" "Ada	King	0	0" \
    "SELECT first_name, last_name, status, is_admin FROM revamp_users WHERE id = $u"
expect_query my "post update arrives" "Revised	ARCHIVED" "SELECT content, status FROM revamp_posts WHERE id = $p"

echo "== deletes =="
pg "DELETE FROM legacy_likes WHERE id = $k"
expect_query my "like delete arrives" 0 "SELECT COUNT(*) FROM revamp_post_likes WHERE id = $k"
pg "DELETE FROM legacy_posts WHERE id = $p"
expect_query my "post delete arrives" 0 "SELECT COUNT(*) FROM revamp_posts WHERE id = $p"
pg "DELETE FROM legacy_users WHERE id = $u"
expect_query my "user delete arrives" 0 "SELECT COUNT(*) FROM revamp_users WHERE id = $u"

echo "== the seed's quick test =="
pg "DELETE FROM legacy_users WHERE username = 'quicktest'"
pg "INSERT INTO legacy_users (username, email, full_name, source) VALUES ('quicktest','quick@test.com','Quick Test','legacy')"
expect_query my "SELECT * FROM revamp_users WHERE user_name = 'quicktest' finds the row" "quick@test.com	Quick	Test" \
    "SELECT email_address, first_name, last_name FROM revamp_users WHERE user_name = 'quicktest'"

summary
