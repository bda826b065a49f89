-- The ledger's key becomes (source_committed_at, event_id), as ../schema.sql creates it: an event id is a hash, so
-- under a key of the id alone every insert lands on a random page, and once the ledger outgrows the cache (14 days
-- of events) each batch reads pages back from disk to insert into (README, "Replays apply nothing"). A ledger still
-- keyed by event_id alone is moved over once: rows written before source_committed_at existed take their applied_at
-- (such an event, redelivered, is not found again and is applied a second time, the version rules deciding), then
-- the key is rebuilt (it locks the ledger while it builds: plan it for a large ledger). Run again, this does nothing.
DO $$
BEGIN
    IF (SELECT array_agg(a.attname::text ORDER BY k.n)
          FROM pg_index i
          CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
          JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
         WHERE i.indrelid = 'dbsync_applied_events'::regclass AND i.indisprimary) = ARRAY['event_id'] THEN
        UPDATE dbsync_applied_events SET source_committed_at = applied_at WHERE source_committed_at IS NULL;
        ALTER TABLE dbsync_applied_events
            ALTER COLUMN source_committed_at SET NOT NULL,
            DROP CONSTRAINT dbsync_applied_events_pkey,
            ADD PRIMARY KEY (source_committed_at, event_id);
    END IF;
END $$;
