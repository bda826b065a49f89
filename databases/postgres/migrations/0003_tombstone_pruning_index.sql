-- The consumer prunes tombstones older than the ledger retention in bounded steps, oldest first
-- (core/src/consume/prune.rs): an index on deleted_at keeps each step from scanning the whole table.
CREATE INDEX IF NOT EXISTS dbsync_tombstones_deleted_at_idx ON dbsync_tombstones (deleted_at);
