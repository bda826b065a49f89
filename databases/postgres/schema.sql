-- Legacy side (PostgreSQL 15): users, posts and likes as the legacy application knows them.
--
-- Conventions that dbsync relies on (see README "Schemas"):
--   * keys: legacy rows take ids 1 .. 999,999,999,999 from their sequences; ids from 1,000,000,000,000 up belong
--     to rows created on the revamp side, written here with their own id. The ranges are disjoint, so a row keeps
--     one id on both sides and foreign keys need no translation.
--   * `source` is stamped by a trigger: 'sync_service' inside a transaction that ran
--     `SET LOCAL dbsync.origin = 'sync_service'`, else 'legacy'. Applications never need to name it.
--   * `updated_at` is bumped by the same trigger for application writes only; the sync service keeps the value the
--     row had on the other side (last-writer-wins compares it).
--   * deletes are recorded as tombstones (dbsync_tombstones, by trigger), which is how they reach the other side.
-- Idempotent: safe to run on a database that already has it.

CREATE TABLE IF NOT EXISTS legacy_users (
    id          bigint PRIMARY KEY,
    username    text        NOT NULL UNIQUE,
    email       text        NOT NULL,
    full_name   text,
    status      text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive', 'banned')),
    is_admin    boolean     NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    source      text        NOT NULL DEFAULT 'legacy' CHECK (source IN ('legacy', 'revamp', 'sync_service'))
);

CREATE TABLE IF NOT EXISTS legacy_posts (
    id          bigint PRIMARY KEY,
    author_id   bigint      NOT NULL REFERENCES legacy_users (id) ON DELETE CASCADE,
    title       text        NOT NULL,
    body        text        NOT NULL DEFAULT '',
    state       text        NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'published', 'archived')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    source      text        NOT NULL DEFAULT 'legacy' CHECK (source IN ('legacy', 'revamp', 'sync_service'))
);

CREATE TABLE IF NOT EXISTS legacy_likes (
    id          bigint PRIMARY KEY,
    user_id     bigint      NOT NULL REFERENCES legacy_users (id) ON DELETE CASCADE,
    post_id     bigint      NOT NULL REFERENCES legacy_posts (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    source      text        NOT NULL DEFAULT 'legacy' CHECK (source IN ('legacy', 'revamp', 'sync_service')),
    UNIQUE (user_id, post_id)
);

CREATE INDEX IF NOT EXISTS legacy_posts_author_id_idx ON legacy_posts (author_id);
CREATE INDEX IF NOT EXISTS legacy_likes_post_id_idx ON legacy_likes (post_id);

-- One sequence per table, capped below the revamp range so exhaustion is an error, never a collision.
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['legacy_users', 'legacy_posts', 'legacy_likes'] LOOP
        EXECUTE format('CREATE SEQUENCE IF NOT EXISTS %I START 1 MAXVALUE 999999999999 NO CYCLE OWNED BY %I.id',
                       t || '_id_seq', t);
        EXECUTE format('ALTER TABLE %I ALTER COLUMN id SET DEFAULT nextval(%L)', t, t || '_id_seq');
        EXECUTE format('ALTER TABLE %I REPLICA IDENTITY FULL', t);
    END LOOP;
END $$;

-- Who is writing: 'sync_service' inside a transaction that ran SET LOCAL dbsync.origin = 'sync_service', else
-- 'legacy'. Outside such a transaction the setting is unset (NULL) or, once any transaction in the session used
-- it, '' (checked on PostgreSQL 15).
CREATE OR REPLACE FUNCTION dbsync_origin() RETURNS text LANGUAGE sql STABLE AS $$
    SELECT coalesce(nullif(current_setting('dbsync.origin', true), ''), 'legacy')
$$;

-- BEFORE INSERT/UPDATE on every synced table: stamp `source`; bump `updated_at` for application writes only (the
-- sync service keeps the other side's value, which last-writer-wins compares).
CREATE OR REPLACE FUNCTION dbsync_stamp_source() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE origin text := dbsync_origin();
BEGIN
    NEW.source := origin;
    IF origin <> 'sync_service' THEN
        NEW.updated_at := clock_timestamp();
    END IF;
    RETURN NEW;
END $$;

-- Deletes travel as tombstones. A delete's before image holds the row's *last writer* in `source`, which is
-- 'sync_service' for every row the sync service wrote, so a filter on it would drop an application's delete of
-- such a row. Instead, AFTER DELETE on every synced table records a tombstone stamped with who deleted; Debezium
-- publishes tombstones (dropping the sync service's own), and drops the tables' raw delete events.
-- A tombstone also keeps the version of the deleted row, so an older update arriving later cannot resurrect it.
CREATE TABLE IF NOT EXISTS dbsync_tombstones (
    table_name      text        NOT NULL,
    row_id          bigint      NOT NULL,
    row_updated_at  timestamptz NOT NULL,
    row_source      text        NOT NULL,
    deleted_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    source          text        NOT NULL DEFAULT 'legacy',
    PRIMARY KEY (table_name, row_id)
);
ALTER TABLE dbsync_tombstones REPLICA IDENTITY FULL;

CREATE OR REPLACE FUNCTION dbsync_record_tombstone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO dbsync_tombstones AS t (table_name, row_id, row_updated_at, row_source, deleted_at, source)
    VALUES (TG_TABLE_NAME, OLD.id, OLD.updated_at, OLD.source, clock_timestamp(), dbsync_origin())
    ON CONFLICT (table_name, row_id) DO UPDATE
        SET row_updated_at = EXCLUDED.row_updated_at, row_source = EXCLUDED.row_source,
            deleted_at = EXCLUDED.deleted_at, source = EXCLUDED.source;
    RETURN OLD;
END $$;

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['legacy_users', 'legacy_posts', 'legacy_likes'] LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', t || '_stamp_source', t);
        EXECUTE format('CREATE TRIGGER %I BEFORE INSERT OR UPDATE ON %I FOR EACH ROW EXECUTE FUNCTION dbsync_stamp_source()',
                       t || '_stamp_source', t);
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', t || '_tombstone', t);
        EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I FOR EACH ROW EXECUTE FUNCTION dbsync_record_tombstone()',
                       t || '_tombstone', t);
    END LOOP;
END $$;

-- Ledger of applied event ids, written in the same transaction as the row change, so a replay applies nothing.
CREATE TABLE IF NOT EXISTS dbsync_applied_events (
    event_id    uuid        NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now(),
    -- When the change committed on the source (the event's timestamp): dbsync:status shows applied_at minus this
    -- as the end-to-end delay. It leads the key, so new rows land at the end of the index instead of at random
    -- pages (an event's id is a hash); both parts come from the message, so a redelivery has the same key. Added
    -- as null to an older ledger below; migration 0005 moves that ledger to this key.
    source_committed_at timestamptz NOT NULL,
    PRIMARY KEY (source_committed_at, event_id)
);
ALTER TABLE dbsync_applied_events ADD COLUMN IF NOT EXISTS source_committed_at timestamptz NULL;
CREATE INDEX IF NOT EXISTS dbsync_applied_events_applied_at_idx ON dbsync_applied_events (applied_at);

-- Debezium's heartbeat (heartbeat.action.query in debezium/postgres-connector.json) upserts this one row. The write
-- goes through the publication, so on a quiet database the connector still receives a change, confirms its LSN and
-- the replication slot releases WAL. Not a synced table: the connector drops its events before they reach a topic.
CREATE TABLE IF NOT EXISTS dbsync_heartbeat (
    id       smallint    PRIMARY KEY CHECK (id = 1),
    beat_at  timestamptz NOT NULL
);

-- Debezium reads this publication (publication.autocreate.mode=disabled, so its role needs no ownership).
DO $$
DECLARE t text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = 'dbsync_legacy') THEN
        CREATE PUBLICATION dbsync_legacy;
    END IF;
    FOREACH t IN ARRAY ARRAY['legacy_users', 'legacy_posts', 'legacy_likes', 'dbsync_tombstones', 'dbsync_heartbeat'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_publication_tables WHERE pubname = 'dbsync_legacy' AND tablename = t) THEN
            EXECUTE format('ALTER PUBLICATION dbsync_legacy ADD TABLE %I', t);
        END IF;
    END LOOP;
END $$;
