-- Least-privilege roles for the legacy side; run as a superuser after schema.sql. Passwords come from psql
-- variables (:'debezium_password', :'sync_password'), set from stack.env by the scripts.
SELECT format('CREATE ROLE dbsync_debezium LOGIN REPLICATION PASSWORD %L', :'debezium_password')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dbsync_debezium') \gexec
SELECT format('ALTER ROLE dbsync_debezium LOGIN REPLICATION PASSWORD %L', :'debezium_password') \gexec
SELECT format('CREATE ROLE dbsync_sync LOGIN PASSWORD %L', :'sync_password')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dbsync_sync') \gexec
SELECT format('ALTER ROLE dbsync_sync LOGIN PASSWORD %L', :'sync_password') \gexec

GRANT CONNECT ON DATABASE legacy_db TO dbsync_debezium, dbsync_sync;
GRANT USAGE ON SCHEMA public TO dbsync_debezium, dbsync_sync;
GRANT SELECT ON legacy_users, legacy_posts, legacy_likes, dbsync_tombstones TO dbsync_debezium;
-- The connector's heartbeat action query upserts the heartbeat row.
GRANT SELECT, INSERT, UPDATE ON dbsync_heartbeat TO dbsync_debezium;
GRANT SELECT, INSERT, UPDATE, DELETE ON legacy_users, legacy_posts, legacy_likes,
      dbsync_applied_events, dbsync_tombstones, dbsync_source_positions TO dbsync_sync;
