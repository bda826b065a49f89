-- The highest source position (LSN) the sync service applied per topic partition (core/src/position.rs), raised
-- in the applying transaction: an event above it cannot be a redelivery, so the writer skips its ledger lookup.
CREATE TABLE IF NOT EXISTS dbsync_source_positions (
    topic           text        NOT NULL,
    kafka_partition integer     NOT NULL,
    source_position text        NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (topic, kafka_partition)
);
