-- Demo rows for the legacy side: a few users with posts and likes. Idempotent (keyed on username/title).
INSERT INTO legacy_users (username, email, full_name, status, is_admin)
VALUES ('alice', 'alice@example.com', 'Alice Liddell', 'active', true),
       ('bob', 'bob@example.com', 'Bob Builder', 'inactive', false)
ON CONFLICT (username) DO NOTHING;

INSERT INTO legacy_posts (author_id, title, body, state)
SELECT u.id, 'Hello from legacy', 'First post, written in the legacy app.', 'published'
  FROM legacy_users u
 WHERE u.username = 'alice'
   AND NOT EXISTS (SELECT 1 FROM legacy_posts p WHERE p.title = 'Hello from legacy');

INSERT INTO legacy_likes (user_id, post_id)
SELECT u.id, p.id FROM legacy_users u, legacy_posts p
 WHERE u.username = 'bob' AND p.title = 'Hello from legacy'
ON CONFLICT (user_id, post_id) DO NOTHING;
