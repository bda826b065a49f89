-- Demo rows for the revamp side. Idempotent (keyed on user_name/headline).
INSERT IGNORE INTO revamp_users (user_name, email_address, first_name, last_name, status, is_admin)
VALUES ('carol', 'carol@example.com', 'Carol', 'Danvers', 1, 0);

INSERT INTO revamp_posts (user_id, headline, content, status)
SELECT u.id, 'Hello from revamp', 'First post, written in the revamped app.', 'LIVE'
  FROM revamp_users u
 WHERE u.user_name = 'carol'
   AND NOT EXISTS (SELECT 1 FROM revamp_posts p WHERE p.headline = 'Hello from revamp');
