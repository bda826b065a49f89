-- The consumer prunes tombstones older than the ledger retention in bounded steps, oldest first
-- (core/src/consume/prune.rs): an index on deleted_at keeps each step from scanning the whole table.
-- MySQL 8 has no CREATE INDEX IF NOT EXISTS, so the index is created only where information_schema lacks it.
SET @dbsync_ddl = IF(
    (SELECT COUNT(*) FROM information_schema.STATISTICS
        WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'dbsync_tombstones'
            AND INDEX_NAME = 'dbsync_tombstones_deleted_at_idx') = 0,
    'CREATE INDEX dbsync_tombstones_deleted_at_idx ON dbsync_tombstones (deleted_at)',
    'DO 0');
PREPARE dbsync_stmt FROM @dbsync_ddl;
EXECUTE dbsync_stmt;
DEALLOCATE PREPARE dbsync_stmt;
SET @dbsync_ddl = NULL;
