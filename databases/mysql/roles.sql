-- Least-privilege accounts for the revamp side; run as root after schema.sql. The scripts replace
-- @@DEBEZIUM_PASSWORD@@ and @@SYNC_PASSWORD@@ with the values from stack.env.
CREATE USER IF NOT EXISTS 'dbsync_debezium'@'%' IDENTIFIED BY '@@DEBEZIUM_PASSWORD@@';
ALTER USER 'dbsync_debezium'@'%' IDENTIFIED BY '@@DEBEZIUM_PASSWORD@@';
GRANT SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'dbsync_debezium'@'%';
CREATE USER IF NOT EXISTS 'dbsync_sync'@'%' IDENTIFIED BY '@@SYNC_PASSWORD@@';
ALTER USER 'dbsync_sync'@'%' IDENTIFIED BY '@@SYNC_PASSWORD@@';
GRANT SELECT, INSERT, UPDATE, DELETE ON revamp_db.* TO 'dbsync_sync'@'%';
FLUSH PRIVILEGES;
