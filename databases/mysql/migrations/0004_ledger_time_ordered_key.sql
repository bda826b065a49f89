-- The ledger's key becomes (source_committed_at, event_id), as ../schema.sql creates it: an event id is a hash, so
-- under a key of the id alone every insert lands on a random page, and once the ledger outgrows the buffer pool (14
-- days of events) each batch reads pages back from disk to insert into (README, "Replays apply nothing"). A ledger
-- still keyed by event_id alone is moved over once: rows written before source_committed_at existed take their
-- applied_at (such an event, redelivered, is not found again and is applied a second time, the version rules
-- deciding), then the key is rebuilt (a table copy: plan it for a large ledger). Run again, this does nothing.
SET @dbsync_old_key = (SELECT GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX) FROM information_schema.STATISTICS
    WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'dbsync_applied_events' AND INDEX_NAME = 'PRIMARY') = 'event_id';
SET @dbsync_ddl = IF(@dbsync_old_key,
    'UPDATE dbsync_applied_events SET source_committed_at = applied_at WHERE source_committed_at IS NULL',
    'DO 0');
PREPARE dbsync_stmt FROM @dbsync_ddl;
EXECUTE dbsync_stmt;
SET @dbsync_ddl = IF(@dbsync_old_key,
    'ALTER TABLE dbsync_applied_events MODIFY source_committed_at DATETIME(6) NOT NULL, DROP PRIMARY KEY, ADD PRIMARY KEY (source_committed_at, event_id)',
    'DO 0');
PREPARE dbsync_stmt FROM @dbsync_ddl;
EXECUTE dbsync_stmt;
DEALLOCATE PREPARE dbsync_stmt;
SET @dbsync_ddl = NULL;
SET @dbsync_old_key = NULL;
