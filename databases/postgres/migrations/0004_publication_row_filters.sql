-- Keeps the sync service's own writes out of capture: PostgreSQL 15's publication row filters drop every change
-- whose row reads source = 'sync_service' before the Debezium connector receives it, so the Connect worker no longer
-- decodes and drops them (README, "Debezium": its CPU while dbsync drained 150k events into PostgreSQL fell from
-- 12.8 to 0.6 CPU-seconds). The synced tables and dbsync_tombstones are REPLICA IDENTITY FULL, as a filter on
-- `source` requires for updates. An update that stamps sync_service on a row the application wrote (old row matches,
-- new does not) is published as a DELETE of the old row: dbsync's capture filter drops raw deletes, and the core
-- ignores them (deletes travel as tombstones). An update by the application of a row the sync service wrote last is
-- published as an INSERT; the core applies it as an upsert, whatever its key's range (core/src/transform/keys.rs).
-- Physical replicas and other publications are not affected. SET TABLE makes this idempotent.
ALTER PUBLICATION dbsync_legacy SET TABLE
    legacy_users WHERE (source <> 'sync_service'),
    legacy_posts WHERE (source <> 'sync_service'),
    legacy_likes WHERE (source <> 'sync_service'),
    dbsync_tombstones WHERE (source <> 'sync_service'),
    dbsync_heartbeat;
